//! What two-way contact sync keeps per contact (`contact_sync`, migration 0005): the Affinity
//! person it is linked to and the hash of each side at the last sync.

use std::collections::BTreeMap;

use chrono::Utc;

use super::{col, time_text, Ctx, Store, StoreError};

/// One contact's state at the last sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactState {
    pub affinity_id: Option<i64>,
    pub file_hash: Option<String>,
    pub affinity_hash: Option<String>,
}

impl Store {
    /// Every contact's state for a contacts mapping, by contact key.
    pub async fn contact_states(
        &self,
        mapping: &str,
    ) -> Result<BTreeMap<String, ContactState>, StoreError> {
        let rows = sqlx::query(
            "SELECT contact_key, affinity_id, file_hash, affinity_hash FROM contact_sync WHERE mapping = $1",
        )
        .bind(mapping.to_string())
        .fetch_all(&self.pool)
        .await
        .ctx("reading the contact sync state")?;
        rows.iter()
            .map(|r| {
                Ok((
                    col::<String>(r, "contact_key")?,
                    ContactState {
                        affinity_id: col(r, "affinity_id")?,
                        file_hash: col(r, "file_hash")?,
                        affinity_hash: col(r, "affinity_hash")?,
                    },
                ))
            })
            .collect()
    }

    /// Saves one contact's state.
    pub async fn save_contact_state(
        &self,
        mapping: &str,
        key: &str,
        s: &ContactState,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx("saving the contact sync state").await?;
        sqlx::query(
            "INSERT INTO contact_sync (mapping, contact_key, affinity_id, file_hash, affinity_hash, synced_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (mapping, contact_key) DO UPDATE SET \
             affinity_id = excluded.affinity_id, file_hash = excluded.file_hash, \
             affinity_hash = excluded.affinity_hash, synced_at = excluded.synced_at",
        )
        .bind(mapping.to_string())
        .bind(key.to_string())
        .bind(s.affinity_id)
        .bind(s.file_hash.clone())
        .bind(s.affinity_hash.clone())
        .bind(time_text(Utc::now()))
        .execute(&mut *tx)
        .await
        .ctx("saving the contact sync state")?;
        tx.commit().await.ctx("saving the contact sync state")?;
        Ok(())
    }
}
