//! The run journal: a `runs` row per execution of a command, and `events`, one per record per
//! step (new, changed, removed, merged; later matched, created, field updated, ...).

use chrono::{DateTime, Utc};
use serde_json::Value as Json;
use sqlx::AnyConnection;

use affsync_core::model::RunId;

use super::{col, placeholders, time_text, Backend, Ctx, Store, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    Running,
    Ok,
    /// Some records failed; the others were done.
    Partial,
    Failed,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Ok => "ok",
            RunStatus::Partial => "partial",
            RunStatus::Failed => "failed",
        }
    }
}

/// One journal line: what happened to which record at which step.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// `entry:601`, `organization:201`, `list:301`, ...
    pub record: String,
    pub step: String,
    pub detail: Option<Json>,
}

impl Event {
    pub fn new(record: impl Into<String>, step: impl Into<String>, detail: Option<Json>) -> Self {
        Event {
            record: record.into(),
            step: step.into(),
            detail,
        }
    }
}

/// A run as the journal holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRow {
    pub id: RunId,
    pub kind: String,
    pub job: Option<String>,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub status: String,
    pub counts: Option<Json>,
    pub api_calls: i64,
    pub error: Option<String>,
}

/// An event as the journal holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    pub run_id: RunId,
    pub at: String,
    pub event: Event,
}

impl Store {
    /// Opens a run (`running`) and gives its id.
    pub async fn start_run(
        &self,
        kind: &str,
        job: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<RunId, StoreError> {
        let row = sqlx::query(
            "INSERT INTO runs (kind, job, started_at, status, api_calls) VALUES ($1, $2, $3, $4, 0) RETURNING id",
        )
        .bind(kind)
        .bind(job)
        .bind(time_text(now))
        .bind(RunStatus::Running.as_str())
        .fetch_one(&self.pool)
        .await
        .ctx("opening a run in the journal")?;
        Ok(RunId(col(&row, "id")?))
    }

    /// Closes a run with its status, counts and API calls.
    pub async fn finish_run(
        &self,
        run: RunId,
        status: RunStatus,
        counts: &Json,
        api_calls: u64,
        error: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE runs SET ended_at = $1, status = $2, counts = $3, api_calls = $4, error = $5 WHERE id = $6",
        )
        .bind(time_text(now))
        .bind(status.as_str())
        .bind(counts.to_string())
        .bind(api_calls as i64)
        .bind(error)
        .bind(run.0)
        .execute(&self.pool)
        .await
        .ctx("closing a run in the journal")?;
        Ok(())
    }

    /// Adds events to a run.
    pub async fn add_events(
        &self,
        run: RunId,
        events: &[Event],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await.ctx("adding journal events")?;
        insert_events(&mut conn, self.backend, run, events, now).await
    }

    /// The runs, newest first.
    pub async fn runs(&self, limit: i64) -> Result<Vec<RunRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, kind, job, started_at, ended_at, status, counts, api_calls, error FROM runs ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .ctx("reading runs")?;
        rows.iter().map(run_from_row).collect()
    }

    /// The events of one run, in order.
    pub async fn events(&self, run: RunId) -> Result<Vec<EventRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT run_id, at, record, step, detail FROM events WHERE run_id = $1 ORDER BY id",
        )
        .bind(run.0)
        .fetch_all(&self.pool)
        .await
        .ctx("reading events")?;
        rows.iter().map(event_from_row).collect()
    }

    /// When a record last had this step in the journal (`list:301`, `pulled`), if ever.
    pub async fn last_event_at(
        &self,
        record: &str,
        step: &str,
    ) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT MAX(at) AS at FROM events WHERE record = $1 AND step = $2")
            .bind(record)
            .bind(step)
            .fetch_one(&self.pool)
            .await
            .ctx("reading the journal")?;
        col(&row, "at")
    }
}

/// The columns a [`RunRow`] is read from.
pub(crate) const RUN_COLUMNS: &str =
    "id, kind, job, started_at, ended_at, status, counts, api_calls, error";

/// A `runs` row read with [`RUN_COLUMNS`].
pub(crate) fn run_from_row(r: &sqlx::any::AnyRow) -> Result<RunRow, StoreError> {
    let counts: Option<String> = col(r, "counts")?;
    Ok(RunRow {
        id: RunId(col(r, "id")?),
        kind: col(r, "kind")?,
        job: col(r, "job")?,
        started_at: col(r, "started_at")?,
        ended_at: col(r, "ended_at")?,
        status: col(r, "status")?,
        counts: counts.and_then(|c| serde_json::from_str(&c).ok()),
        api_calls: col(r, "api_calls")?,
        error: col(r, "error")?,
    })
}

/// Inserts events on a connection (inside the caller's transaction, when it has one).
pub(crate) async fn insert_events(
    conn: &mut AnyConnection,
    backend: Backend,
    run: RunId,
    events: &[Event],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let at = time_text(now);
    for chunk in events.chunks(500) {
        let sql = format!(
            "INSERT INTO events (run_id, at, record, step, detail) VALUES {}",
            placeholders(backend, chunk.len(), 5)
        );
        let mut q = sqlx::query(&sql);
        for e in chunk {
            q = q
                .bind(run.0)
                .bind(at.clone())
                .bind(e.record.clone())
                .bind(e.step.clone())
                .bind(e.detail.as_ref().map(|d| d.to_string()));
        }
        q.execute(&mut *conn).await.ctx("writing journal events")?;
    }
    Ok(())
}

/// An `events` row (`run_id, at, record, step, detail`) as an [`EventRow`].
pub(crate) fn event_from_row(r: &sqlx::any::AnyRow) -> Result<EventRow, StoreError> {
    let detail: Option<String> = col(r, "detail")?;
    Ok(EventRow {
        run_id: RunId(col(r, "run_id")?),
        at: col(r, "at")?,
        event: Event {
            record: col(r, "record")?,
            step: col(r, "step")?,
            detail: detail.and_then(|d| serde_json::from_str(&d).ok()),
        },
    })
}
