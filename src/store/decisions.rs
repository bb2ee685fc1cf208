//! Match decisions: the matcher's latest decision per mapping file and source record, and the
//! decisions reviewers made, which win over computed ones until they are undone.

use affsync_core::model::{Kind, RunId};
use chrono::{DateTime, Utc};
use serde_json::Value as Json;

use super::{col, placeholders, time_text, Ctx, Store, StoreError};

/// A decision as the store holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionRow {
    pub mapping: String,
    pub source_id: String,
    /// `matched`, `review`, `unmatched` or `error`.
    pub status: String,
    pub affinity_id: Option<String>,
    pub score: Option<f64>,
    /// `key`, `fuzzy` or `reviewer`.
    pub method: Option<String>,
    pub reason: String,
    /// `[{"affinity_id": "...", "score": 0.9}]`, best first.
    pub candidates: Option<Json>,
    /// The source record's compared values, as a JSON object.
    pub record: Option<Json>,
    pub run_id: Option<RunId>,
    pub decided_at: String,
}

/// What a reviewer decided about a source record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewVerdict {
    /// The source record is the given Affinity record.
    Accept,
    /// The source record is new: create it (in `create_update` mode).
    Create,
    /// None of the candidates is the source record, and it is not to be created.
    Reject,
}

impl ReviewVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewVerdict::Accept => "accept",
            ReviewVerdict::Create => "create",
            ReviewVerdict::Reject => "reject",
        }
    }

    pub fn parse(s: &str) -> Option<ReviewVerdict> {
        match s {
            "accept" => Some(ReviewVerdict::Accept),
            "create" => Some(ReviewVerdict::Create),
            "reject" => Some(ReviewVerdict::Reject),
            _ => None,
        }
    }
}

/// What became of a record the mirror knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    Live,
    /// Affinity merged it into this record.
    MergedInto(i64),
    /// Affinity no longer has it.
    Gone,
}

/// A reviewer's decision as the store holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewRow {
    pub mapping: String,
    pub source_id: String,
    pub verdict: ReviewVerdict,
    pub affinity_id: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: String,
}

const DECISION_COLS: &str =
    "mapping, source_id, status, affinity_id, score, method, reason, candidates, record, run_id, decided_at";

impl Store {
    /// Stores the matcher's decisions for a mapping file, replacing earlier ones of the same
    /// source records.
    pub async fn save_decisions(&self, rows: &[DecisionRow]) -> Result<(), StoreError> {
        let mut tx = self.write_tx("saving match decisions").await?;
        for chunk in rows.chunks(400) {
            let sql = format!(
                "INSERT INTO match_decisions ({DECISION_COLS}) VALUES {} \
                 ON CONFLICT (mapping, source_id) DO UPDATE SET status = excluded.status, \
                 affinity_id = excluded.affinity_id, score = excluded.score, \
                 method = excluded.method, reason = excluded.reason, \
                 candidates = excluded.candidates, record = excluded.record, \
                 run_id = excluded.run_id, decided_at = excluded.decided_at",
                placeholders(self.backend, chunk.len(), 11)
            );
            let mut q = sqlx::query(&sql);
            for d in chunk {
                q = q
                    .bind(d.mapping.clone())
                    .bind(d.source_id.clone())
                    .bind(d.status.clone())
                    .bind(d.affinity_id.clone())
                    .bind(d.score)
                    .bind(d.method.clone())
                    .bind(d.reason.clone())
                    .bind(d.candidates.as_ref().map(|j| j.to_string()))
                    .bind(d.record.as_ref().map(|j| j.to_string()))
                    .bind(d.run_id.map(|r| r.0))
                    .bind(d.decided_at.clone());
            }
            q.execute(&mut *tx).await.ctx("saving match decisions")?;
        }
        tx.commit().await.ctx("saving match decisions")?;
        Ok(())
    }

    /// Settles the stored decisions of records a push created: they are matched to the new
    /// record now, so the review queue no longer offers them (`(source id, affinity id)`).
    pub async fn settle_created(
        &self,
        mapping: &str,
        created: &[(String, i64)],
        run: RunId,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError> {
        if created.is_empty() {
            return Ok(());
        }
        let mut tx = self.write_tx("settling created records' decisions").await?;
        for (source_id, id) in created {
            sqlx::query(
                "UPDATE match_decisions SET status = 'matched', affinity_id = $1, score = 1.0, \
                 method = 'created', reason = $2, run_id = $3, decided_at = $4 \
                 WHERE mapping = $5 AND source_id = $6",
            )
            .bind(id.to_string())
            .bind(format!("created in Affinity by push run {run}"))
            .bind(run.0)
            .bind(super::time_text(now))
            .bind(mapping)
            .bind(source_id)
            .execute(&mut *tx)
            .await
            .ctx("settling created records' decisions")?;
        }
        tx.commit()
            .await
            .ctx("settling created records' decisions")?;
        Ok(())
    }

    /// What became of some records of one kind the mirror knows: merged into another, or
    /// gone from Affinity (records it does not know are left out).
    pub async fn record_fates(
        &self,
        kind: Kind,
        ids: &[i64],
    ) -> Result<std::collections::BTreeMap<i64, Fate>, StoreError> {
        let (table, merged) = match kind {
            Kind::Organization => ("organizations", "merged_into"),
            Kind::Person => ("persons", "merged_into"),
            Kind::Opportunity => ("opportunities", "NULL"),
        };
        let mut out = std::collections::BTreeMap::new();
        for chunk in ids.chunks(500) {
            let sql = format!(
                "SELECT id, gone_at, {merged} AS merged_into FROM {table} WHERE id IN ({})",
                super::in_list(self.backend, 1, chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q
                .fetch_all(&self.pool)
                .await
                .ctx("reading records' fates")?
            {
                let id: i64 = col(&r, "id")?;
                let gone: Option<String> = col(&r, "gone_at")?;
                let into: Option<i64> = col::<Option<i64>>(&r, "merged_into").unwrap_or(None);
                let fate = match (into, gone) {
                    (Some(i), _) => Fate::MergedInto(i),
                    (None, Some(_)) => Fate::Gone,
                    (None, None) => Fate::Live,
                };
                out.insert(id, fate);
            }
        }
        Ok(out)
    }

    /// The stored decisions of a mapping file (all mapping files when `None`), by source id.
    pub async fn decisions(&self, mapping: Option<&str>) -> Result<Vec<DecisionRow>, StoreError> {
        let sql = format!(
            "SELECT {DECISION_COLS} FROM match_decisions {} ORDER BY mapping, source_id",
            if mapping.is_some() {
                "WHERE mapping = $1"
            } else {
                ""
            }
        );
        let mut q = sqlx::query(&sql);
        if let Some(m) = mapping {
            q = q.bind(m.to_string());
        }
        let rows = q
            .fetch_all(&self.pool)
            .await
            .ctx("reading match decisions")?;
        rows.iter()
            .map(|r| {
                let json = |name: &str| -> Result<Option<Json>, StoreError> {
                    let t: Option<String> = col(r, name)?;
                    Ok(t.and_then(|t| serde_json::from_str(&t).ok()))
                };
                let run: Option<i64> = col(r, "run_id")?;
                Ok(DecisionRow {
                    mapping: col(r, "mapping")?,
                    source_id: col(r, "source_id")?,
                    status: col(r, "status")?,
                    affinity_id: col(r, "affinity_id")?,
                    score: col(r, "score")?,
                    method: col(r, "method")?,
                    reason: col(r, "reason")?,
                    candidates: json("candidates")?,
                    record: json("record")?,
                    run_id: run.map(RunId),
                    decided_at: col(r, "decided_at")?,
                })
            })
            .collect()
    }

    /// Records a reviewer's decision (replacing an earlier one for the same record).
    pub async fn save_review(&self, row: &ReviewRow) -> Result<(), StoreError> {
        let mut tx = self.write_tx("saving a reviewer's decision").await?;
        sqlx::query(
            "INSERT INTO reviewer_decisions (mapping, source_id, decision, affinity_id, decided_by, decided_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (mapping, source_id) DO UPDATE SET \
             decision = excluded.decision, affinity_id = excluded.affinity_id, \
             decided_by = excluded.decided_by, decided_at = excluded.decided_at",
        )
        .bind(row.mapping.clone())
        .bind(row.source_id.clone())
        .bind(row.verdict.as_str())
        .bind(row.affinity_id.clone())
        .bind(row.decided_by.clone())
        .bind(row.decided_at.clone())
        .execute(&mut *tx)
        .await
        .ctx("saving a reviewer's decision")?;
        tx.commit().await.ctx("saving a reviewer's decision")?;
        Ok(())
    }

    /// Undoes a reviewer's decision; `false` when there was none.
    pub async fn undo_review(&self, mapping: &str, source_id: &str) -> Result<bool, StoreError> {
        let mut tx = self.write_tx("undoing a reviewer's decision").await?;
        let done =
            sqlx::query("DELETE FROM reviewer_decisions WHERE mapping = $1 AND source_id = $2")
                .bind(mapping.to_string())
                .bind(source_id.to_string())
                .execute(&mut *tx)
                .await
                .ctx("undoing a reviewer's decision")?;
        tx.commit().await.ctx("undoing a reviewer's decision")?;
        Ok(done.rows_affected() > 0)
    }

    /// Reviewers' decisions for a mapping file (all when `None`).
    pub async fn reviews(&self, mapping: Option<&str>) -> Result<Vec<ReviewRow>, StoreError> {
        let sql = format!(
            "SELECT mapping, source_id, decision, affinity_id, decided_by, decided_at \
             FROM reviewer_decisions {} ORDER BY mapping, source_id",
            if mapping.is_some() {
                "WHERE mapping = $1"
            } else {
                ""
            }
        );
        let mut q = sqlx::query(&sql);
        if let Some(m) = mapping {
            q = q.bind(m.to_string());
        }
        let rows = q
            .fetch_all(&self.pool)
            .await
            .ctx("reading reviewers' decisions")?;
        rows.iter()
            .map(|r| {
                let d: String = col(r, "decision")?;
                Ok(ReviewRow {
                    mapping: col(r, "mapping")?,
                    source_id: col(r, "source_id")?,
                    verdict: ReviewVerdict::parse(&d).ok_or_else(|| {
                        StoreError::Corrupt(format!("unknown reviewer decision `{d}`"))
                    })?,
                    affinity_id: col(r, "affinity_id")?,
                    decided_by: col(r, "decided_by")?,
                    decided_at: col(r, "decided_at")?,
                })
            })
            .collect()
    }
}

/// The time text decisions are stamped with.
pub fn stamp(now: DateTime<Utc>) -> String {
    time_text(now)
}
