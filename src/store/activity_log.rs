//! The store's map from feed id to what it became in Affinity (`activity_log`, migration 0004).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::{col, time_text, Ctx, Store, StoreError};
use affsync_core::plan::activity::{Logged, Object};

/// What a feed event became in Affinity, for [`Store::record_activity`].
#[derive(Debug, Clone, Copy)]
pub struct RecordedActivity<'a> {
    pub object: Object,
    pub affinity_id: i64,
    /// 1 (call) for interactions.
    pub interaction_type: Option<i64>,
    pub person_id: i64,
    pub hash: &'a str,
    /// The member whose key wrote it; `None` is the default key.
    pub member: Option<&'a str>,
}

impl Store {
    /// Every feed id logged so far.
    pub async fn activity_logged(&self) -> Result<BTreeMap<String, Logged>, StoreError> {
        let rows = sqlx::query(
            "SELECT feed_id, object, affinity_id, person_id, content_hash, deleted_at, member FROM activity_log",
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
                    member: col(r, "member")?,
                },
            );
        }
        Ok(out)
    }

    /// Records what a feed event became (a create), or its new hash (an update), and the
    /// member whose key wrote it (`None`: the default key).
    pub async fn record_activity(
        &self,
        feed_id: &str,
        what: RecordedActivity<'_>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let t = time_text(now);
        sqlx::query(
            "INSERT INTO activity_log (feed_id, object, affinity_id, interaction_type, person_id, content_hash, logged_at, updated_at, member) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8) ON CONFLICT (feed_id) DO UPDATE SET object = excluded.object, \
             affinity_id = excluded.affinity_id, interaction_type = excluded.interaction_type, \
             person_id = excluded.person_id, content_hash = excluded.content_hash, updated_at = excluded.updated_at, \
             deleted_at = NULL, member = excluded.member",
        )
        .bind(feed_id.to_string())
        .bind(what.object.as_str())
        .bind(what.affinity_id)
        .bind(what.interaction_type)
        .bind(what.person_id)
        .bind(what.hash.to_string())
        .bind(t)
        .bind(what.member.map(str::to_string))
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

/// The Affinity user behind a member's key, as whoami gave it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MemberUser {
    pub user_id: i64,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
}

impl MemberUser {
    /// The user's name, for people reading a report (their email when they have none).
    pub fn display(&self) -> String {
        let name = [self.first_name.as_deref(), self.last_name.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        if name.trim().is_empty() {
            self.email
                .clone()
                .unwrap_or_else(|| format!("user {}", self.user_id))
        } else {
            name
        }
    }
}

impl Store {
    /// The user last read for a member's key, if it was read for the key of this digest.
    pub async fn member_user(
        &self,
        member: &str,
        key_digest: &str,
    ) -> Result<Option<MemberUser>, StoreError> {
        let row = sqlx::query(
            "SELECT user_id, first_name, last_name, email FROM member_users WHERE member = $1 AND key_digest = $2",
        )
        .bind(member.to_string())
        .bind(key_digest.to_string())
        .fetch_optional(&self.pool)
        .await
        .ctx("reading a member's user")?;
        row.map(|r| {
            Ok(MemberUser {
                user_id: col(&r, "user_id")?,
                first_name: col(&r, "first_name")?,
                last_name: col(&r, "last_name")?,
                email: col(&r, "email")?,
            })
        })
        .transpose()
    }

    /// Keeps the user whoami gave for a member's key.
    pub async fn learn_member_user(
        &self,
        member: &str,
        key_digest: &str,
        user: &MemberUser,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO member_users (member, key_digest, user_id, first_name, last_name, email, read_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (member) DO UPDATE SET key_digest = excluded.key_digest, \
             user_id = excluded.user_id, first_name = excluded.first_name, last_name = excluded.last_name, \
             email = excluded.email, read_at = excluded.read_at",
        )
        .bind(member.to_string())
        .bind(key_digest.to_string())
        .bind(user.user_id)
        .bind(user.first_name.clone())
        .bind(user.last_name.clone())
        .bind(user.email.clone())
        .bind(time_text(now))
        .execute(&self.pool)
        .await
        .ctx("keeping a member's user")?;
        Ok(())
    }
}
