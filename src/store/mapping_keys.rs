//! The keys mapping files' decisions and verdicts are stored under, and the one-time pass that
//! moves the keys of older versions (paths from the folder a command ran in) to mapping
//! identities.

use chrono::{DateTime, Utc};

use super::{col, time_text, Ctx, Store, StoreError};

/// The pass that moved path keys to mapping identities.
pub const MAPPING_IDENTITY_PASS: &str = "mapping_identity";

/// The tables keyed by mapping and source record.
const KEYED: [&str; 2] = ["match_decisions", "reviewer_decisions"];

/// One old key and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyMove {
    pub old_key: String,
    /// `None` when no mapping file was found for it.
    pub new_key: Option<String>,
    /// Rows left under the old key: all of them when unresolved, else those whose record the
    /// new key already had.
    pub kept: u64,
}

impl Store {
    /// Whether a one-time pass has been done on this store.
    pub async fn pass_done(&self, name: &str) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT name FROM store_passes WHERE name = $1")
            .bind(name.to_string())
            .fetch_optional(&self.pool)
            .await
            .ctx("reading the store's passes")?;
        Ok(row.is_some())
    }

    /// Every mapping key decisions or verdicts are stored under.
    pub async fn mapping_keys(&self) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT mapping FROM match_decisions UNION SELECT mapping FROM reviewer_decisions \
             ORDER BY mapping",
        )
        .fetch_all(&self.pool)
        .await
        .ctx("reading the mapping keys")?;
        rows.iter().map(|r| col(r, "mapping")).collect()
    }

    /// Moves the rows of each old key to its new one (a record the new key already has keeps
    /// the new key's row, and the old one stays where it was: nothing is dropped), records every
    /// move and every key left unresolved, and marks the pass done: all in one transaction.
    pub async fn move_mapping_keys(
        &self,
        moves: &[(String, Option<String>)],
        now: DateTime<Utc>,
    ) -> Result<Vec<KeyMove>, StoreError> {
        const DOING: &str = "moving mapping keys";
        let t = time_text(now);
        let mut tx = self.write_tx(DOING).await?;
        let mut out = Vec::new();
        for (old, new) in moves {
            let mut kept = 0u64;
            for table in KEYED {
                if let Some(new) = new {
                    sqlx::query(&format!(
                        "UPDATE {table} SET mapping = $1 WHERE mapping = $2 AND source_id NOT IN \
                         (SELECT source_id FROM {table} WHERE mapping = $1)"
                    ))
                    .bind(new.clone())
                    .bind(old.clone())
                    .execute(&mut *tx)
                    .await
                    .ctx(DOING)?;
                }
                let row = sqlx::query(&format!(
                    "SELECT COUNT(*) AS n FROM {table} WHERE mapping = $1"
                ))
                .bind(old.clone())
                .fetch_one(&mut *tx)
                .await
                .ctx(DOING)?;
                let n: i64 = col(&row, "n")?;
                kept += n as u64;
            }
            sqlx::query(
                "INSERT INTO mapping_key_moves (old_key, new_key, kept, moved_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (old_key) DO UPDATE SET new_key = excluded.new_key, kept = excluded.kept, \
                 moved_at = excluded.moved_at",
            )
            .bind(old.clone())
            .bind(new.clone())
            .bind(kept as i64)
            .bind(t.clone())
            .execute(&mut *tx)
            .await
            .ctx(DOING)?;
            out.push(KeyMove {
                old_key: old.clone(),
                new_key: new.clone(),
                kept,
            });
        }
        sqlx::query(
            "INSERT INTO store_passes (name, done_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(MAPPING_IDENTITY_PASS)
        .bind(t)
        .execute(&mut *tx)
        .await
        .ctx(DOING)?;
        tx.commit().await.ctx(DOING)?;
        Ok(out)
    }

    /// What the pass did, for people: every old key with where it went.
    pub async fn mapping_key_moves(&self) -> Result<Vec<KeyMove>, StoreError> {
        let rows =
            sqlx::query("SELECT old_key, new_key, kept FROM mapping_key_moves ORDER BY old_key")
                .fetch_all(&self.pool)
                .await
                .ctx("reading the mapping key moves")?;
        rows.iter()
            .map(|r| {
                let kept: i64 = col(r, "kept")?;
                Ok(KeyMove {
                    old_key: col(r, "old_key")?,
                    new_key: col(r, "new_key")?,
                    kept: kept as u64,
                })
            })
            .collect()
    }
}
