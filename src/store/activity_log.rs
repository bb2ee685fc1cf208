//! The store's map from feed id to what it became in Affinity (`activity_log`, migration 0004).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::{col, time_text, Ctx, Store, StoreError};
use affsync_core::plan::activity::{Logged, Object};

impl Store {
    /// Every feed id logged so far.
    pub async fn activity_logged(&self) -> Result<BTreeMap<String, Logged>, StoreError> {
        let rows = sqlx::query(
            "SELECT feed_id, object, affinity_id, person_id, content_hash, deleted_at FROM activity_log",
        )
        .fetch_all(&self.pool)
        .await
        .ctx("reading logged activity")?;
        let mut out = BTreeMap::new();
        for r in &rows {
            let object: String = col(r, "object")?;
            let object = Object::parse(&object)
                .ok_or_else(|| StoreError::Corrupt(format!("activity object `{object}`")))?;
            let deleted: Option<String> = col(r, "deleted_at")?;
            out.insert(
                col::<String>(r, "feed_id")?,
                Logged {
                    object,
                    affinity_id: col(r, "affinity_id")?,
                    person_id: col(r, "person_id")?,
                    hash: col(r, "content_hash")?,
                    deleted: deleted.is_some(),
                },
            );
        }
        Ok(out)
    }

    /// Records what a feed event became (a create), or its new hash (an update).
    #[allow(clippy::too_many_arguments)]
    pub async fn record_activity(
        &self,
        feed_id: &str,
        object: Object,
        affinity_id: i64,
        interaction_type: Option<i64>,
        person_id: i64,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let t = time_text(now);
        sqlx::query(
            "INSERT INTO activity_log (feed_id, object, affinity_id, interaction_type, person_id, content_hash, logged_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT (feed_id) DO UPDATE SET object = excluded.object, \
             affinity_id = excluded.affinity_id, interaction_type = excluded.interaction_type, \
             person_id = excluded.person_id, content_hash = excluded.content_hash, updated_at = excluded.updated_at, \
             deleted_at = NULL",
        )
        .bind(feed_id.to_string())
        .bind(object.as_str())
        .bind(affinity_id)
        .bind(interaction_type)
        .bind(person_id)
        .bind(hash.to_string())
        .bind(t)
        .execute(&self.pool)
        .await
        .ctx("recording logged activity")?;
        Ok(())
    }

    /// Marks a feed event's object as deleted in Affinity.
    pub async fn mark_activity_deleted(
        &self,
        feed_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let t = time_text(now);
        sqlx::query("UPDATE activity_log SET deleted_at = $1, updated_at = $1 WHERE feed_id = $2")
            .bind(t)
            .bind(feed_id.to_string())
            .execute(&self.pool)
            .await
            .ctx("recording a deleted activity")?;
        Ok(())
    }
}
