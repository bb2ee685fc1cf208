//! Job locks (`job_locks`, migration 0003): one row per running job, with a heartbeat.

use chrono::{DateTime, Utc};

use affsync_core::journal::RunStatus;
use affsync_core::model::RunId;

use super::{col, time_text, Ctx, Store, StoreError};

/// A lock row: who holds it, for which run, since when, and its last heartbeat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockRow {
    pub holder: String,
    pub run_id: Option<RunId>,
    pub acquired_at: String,
    pub heartbeat_at: String,
}

impl Store {
    /// The current lock of a job, if any.
    pub async fn lock_row(&self, job: &str) -> Result<Option<LockRow>, StoreError> {
        let row = sqlx::query(
            "SELECT holder, run_id, acquired_at, heartbeat_at FROM job_locks WHERE job = $1",
        )
        .bind(job)
        .fetch_optional(&self.pool)
        .await
        .ctx("reading a job lock")?;
        row.map(|r| {
            Ok(LockRow {
                holder: col(&r, "holder")?,
                run_id: col::<Option<i64>>(&r, "run_id")?.map(RunId),
                acquired_at: col(&r, "acquired_at")?,
                heartbeat_at: col(&r, "heartbeat_at")?,
            })
        })
        .transpose()
    }

    /// Takes a job's lock when nobody holds it (the primary key lets one taker win, on SQLite
    /// and Postgres alike); whether it was taken.
    pub async fn insert_lock(
        &self,
        job: &str,
        holder: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "INSERT INTO job_locks (job, holder, acquired_at, heartbeat_at) VALUES ($1, $2, $3, $3) ON CONFLICT (job) DO NOTHING",
        )
        .bind(job)
        .bind(holder)
        .bind(time_text(now))
        .execute(&self.pool)
        .await
        .ctx("taking a job lock")?
        .rows_affected();
        Ok(n == 1)
    }

    /// Takes over the lock of `previous` when its heartbeat is still older than `cutoff` (an
    /// update that matches only that stale row, so two takers cannot both win); whether it
    /// was taken.
    pub async fn take_over_lock(
        &self,
        job: &str,
        holder: &str,
        previous: &str,
        cutoff: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "UPDATE job_locks SET holder = $1, run_id = NULL, acquired_at = $2, heartbeat_at = $2 WHERE job = $3 AND holder = $4 AND heartbeat_at < $5",
        )
        .bind(holder)
        .bind(time_text(now))
        .bind(job)
        .bind(previous)
        .bind(time_text(cutoff))
        .execute(&self.pool)
        .await
        .ctx("taking over a stale job lock")?
        .rows_affected();
        Ok(n == 1)
    }

    /// Refreshes a lock's heartbeat; false when the lock is no longer this holder's.
    pub async fn heartbeat_lock(
        &self,
        job: &str,
        holder: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let n =
            sqlx::query("UPDATE job_locks SET heartbeat_at = $1 WHERE job = $2 AND holder = $3")
                .bind(time_text(now))
                .bind(job)
                .bind(holder)
                .execute(&self.pool)
                .await
                .ctx("refreshing a job lock")?
                .rows_affected();
        Ok(n == 1)
    }

    /// Writes the run a lock covers, so that a taker after a crash can close it.
    pub async fn set_lock_run(
        &self,
        job: &str,
        holder: &str,
        run: RunId,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE job_locks SET run_id = $1 WHERE job = $2 AND holder = $3")
            .bind(run.0)
            .bind(job)
            .bind(holder)
            .execute(&self.pool)
            .await
            .ctx("writing a job lock's run")?;
        Ok(())
    }

    /// Deletes a lock if it is still this holder's.
    pub async fn release_lock(&self, job: &str, holder: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM job_locks WHERE job = $1 AND holder = $2")
            .bind(job)
            .bind(holder)
            .execute(&self.pool)
            .await
            .ctx("releasing a job lock")?;
        Ok(())
    }

    /// Closes a run its process abandoned (still `running`) as failed, at `at`, with why.
    pub async fn close_abandoned_run(
        &self,
        run: RunId,
        at: &str,
        why: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE runs SET status = $4, ended_at = $1, error = $2 WHERE id = $3 AND status = $5",
        )
        .bind(at)
        .bind(why)
        .bind(run.0)
        .bind(RunStatus::Failed.as_str())
        .bind(RunStatus::Running.as_str())
        .execute(&self.pool)
        .await
        .ctx("closing an abandoned run")?;
        Ok(())
    }
}
