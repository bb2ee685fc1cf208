//! The run journal: a `runs` row per execution of a command, and `events`, one per record per
//! step (new, changed, removed, merged; later matched, created, field updated, ...).

use chrono::{DateTime, Utc};
use serde_json::Value as Json;
use sqlx::AnyConnection;

use affsync_core::journal::{JournalEvent, RunKind, RunStatus, Step, StoredEvent};
use affsync_core::model::RunId;

use std::collections::BTreeMap;
use std::path::Path;

use super::{col, in_list, placeholders, time_text, Backend, Ctx, Store, StoreError};

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

impl Store {
    /// Opens a run (`running`) and gives its id.
    pub async fn start_run(
        &self,
        kind: RunKind,
        job: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<RunId, StoreError> {
        let row = sqlx::query(
            "INSERT INTO runs (kind, job, started_at, status, api_calls, holder, heartbeat_at) VALUES ($1, $2, $3, $4, 0, $5, $3) RETURNING id",
        )
        .bind(kind.as_str())
        .bind(job)
        .bind(time_text(now))
        .bind(RunStatus::Running.as_str())
        .bind(process_id())
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
        events: &[JournalEvent],
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
    pub async fn events(&self, run: RunId) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT run_id, at, record, step, detail FROM events WHERE run_id = $1 ORDER BY id",
        )
        .bind(run.0)
        .fetch_all(&self.pool)
        .await
        .ctx("reading events")?;
        rows.iter().map(event_from_row).collect()
    }

    /// When a list was last pulled to the end (its `pulled` event), if ever.
    pub async fn last_pulled_at(&self, list_id: i64) -> Result<Option<String>, StoreError> {
        let pulled = Step::Pulled(Default::default()).name();
        let row = sqlx::query("SELECT MAX(at) AS at FROM events WHERE record = $1 AND step = $2")
            .bind(format!("list:{list_id}"))
            .bind(pulled)
            .fetch_one(&self.pool)
            .await
            .ctx("reading the journal")?;
        col(&row, "at")
    }
}

impl Store {
    /// A run by id.
    pub async fn run(&self, run: RunId) -> Result<Option<RunRow>, StoreError> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(run.0)
            .fetch_optional(&self.pool)
            .await
            .ctx("reading a run")?;
        row.as_ref().map(run_from_row).transpose()
    }

    /// The runs, newest first; `status` keeps the runs with that outcome.
    pub async fn runs_with_status(
        &self,
        status: Option<&str>,
        limit: i64,
    ) -> Result<Vec<RunRow>, StoreError> {
        let sql = match status {
            Some(_) => {
                format!(
                    "SELECT {RUN_COLUMNS} FROM runs WHERE status = $2 ORDER BY id DESC LIMIT $1"
                )
            }
            None => format!("SELECT {RUN_COLUMNS} FROM runs ORDER BY id DESC LIMIT $1"),
        };
        let mut q = sqlx::query(&sql).bind(limit);
        if let Some(s) = status {
            q = q.bind(s);
        }
        q.fetch_all(&self.pool)
            .await
            .ctx("reading runs")?
            .iter()
            .map(run_from_row)
            .collect()
    }

    /// The runs of a job's steps (same job name, started while the job's run ran); none for
    /// a run that is not a job's.
    pub async fn job_step_runs(&self, r: &RunRow) -> Result<Vec<RunRow>, StoreError> {
        let (Some(job), true) = (&r.job, r.kind == RunKind::Job.as_str()) else {
            return Ok(Vec::new());
        };
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE job = $1 AND kind <> $5 AND id > $2 AND started_at >= $3 AND started_at <= $4 ORDER BY id"
        );
        let until = r.ended_at.clone().unwrap_or_else(|| "9999".into());
        sqlx::query(&sql)
            .bind(job)
            .bind(r.id.0)
            .bind(&r.started_at)
            .bind(until)
            .bind(RunKind::Job.as_str())
            .fetch_all(&self.pool)
            .await
            .ctx("reading a job's step runs")?
            .iter()
            .map(run_from_row)
            .collect()
    }

    /// The runs of one job (kind `job`), newest first.
    pub async fn job_runs(&self, job: &str, limit: i64) -> Result<Vec<RunRow>, StoreError> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE kind = $3 AND job = $1 ORDER BY id DESC LIMIT $2"
        );
        sqlx::query(&sql)
            .bind(job)
            .bind(limit)
            .bind(RunKind::Job.as_str())
            .fetch_all(&self.pool)
            .await
            .ctx("reading a job's runs")?
            .iter()
            .map(run_from_row)
            .collect()
    }

    /// The event counts of some runs, by step: `run → step → n`.
    pub async fn step_counts(
        &self,
        runs: &[i64],
    ) -> Result<BTreeMap<i64, BTreeMap<String, i64>>, StoreError> {
        let mut out: BTreeMap<i64, BTreeMap<String, i64>> = BTreeMap::new();
        for chunk in runs.chunks(500) {
            if chunk.is_empty() {
                continue;
            }
            let sql = format!(
                "SELECT run_id, step, COUNT(*) AS n FROM events WHERE run_id IN ({}) GROUP BY run_id, step",
                in_list(self.backend, 1, chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for r in chunk {
                q = q.bind(*r);
            }
            for row in q.fetch_all(&self.pool).await.ctx("counting events")? {
                let run: i64 = col(&row, "run_id")?;
                let step: String = col(&row, "step")?;
                let n: i64 = col(&row, "n")?;
                out.entry(run).or_default().insert(step, n);
            }
        }
        Ok(out)
    }

    /// Events that may be about `id` (a wide net: the id after any prefix of the record, or
    /// anywhere in an `affinity_id` of the detail), oldest first, with their run's kind and
    /// job. The caller decides exactly.
    pub async fn events_mentioning(
        &self,
        id: &str,
    ) -> Result<Vec<(StoredEvent, String, Option<String>)>, StoreError> {
        let rows = sqlx::query(
            "SELECT e.run_id, e.at, e.record, e.step, e.detail, r.kind, r.job FROM events e JOIN runs r ON r.id = e.run_id \
             WHERE e.record = $1 OR e.record LIKE $2 OR e.detail LIKE $3 ORDER BY e.id",
        )
        .bind(id)
        .bind(format!("%:{id}"))
        .bind(format!("%affinity_id%{id}%"))
        .fetch_all(&self.pool)
        .await
        .ctx("reading a record's events")?;
        rows.iter()
            .map(|r| Ok((event_from_row(r)?, col(r, "kind")?, col(r, "job")?)))
            .collect()
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
    events: &[JournalEvent],
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
            let (step, detail) = e.to_stored();
            q = q
                .bind(run.0)
                .bind(at.clone())
                .bind(e.record.clone())
                .bind(step)
                .bind(detail.map(|d| d.to_string()));
        }
        q.execute(&mut *conn).await.ctx("writing journal events")?;
    }
    Ok(())
}

/// An `events` row (`run_id, at, record, step, detail`) as a [`StoredEvent`].
pub(crate) fn event_from_row(r: &sqlx::any::AnyRow) -> Result<StoredEvent, StoreError> {
    let detail: Option<String> = col(r, "detail")?;
    let step: String = col(r, "step")?;
    Ok(StoredEvent {
        run_id: RunId(col(r, "run_id")?),
        at: col(r, "at")?,
        event: JournalEvent::from_stored(
            col(r, "record")?,
            &step,
            detail.and_then(|d| serde_json::from_str(&d).ok()),
        ),
    })
}

/// This process as the journal names it: `host:pid`.
pub fn process_id() -> String {
    format!("{}:{}", host_name(), std::process::id())
}

/// This machine's name.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// Whether the process a run names is gone: its heartbeat is older than the cutoff, or, on
/// this machine (where `/proc` says), its pid no longer exists.
fn holder_is_gone(holder: &str, heartbeat_at: Option<&str>, cutoff: &str) -> bool {
    let silent = heartbeat_at.is_none_or(|h| h < cutoff);
    let here = host_name();
    match holder.rsplit_once(':') {
        Some((host, pid)) if host == here && Path::new("/proc/self").exists() => {
            silent || !Path::new(&format!("/proc/{pid}")).exists()
        }
        _ => silent,
    }
}

/// How often a run shows it is alive, and how old a heartbeat may be before the run counts as
/// abandoned (when its process cannot be looked up).
pub const RUN_HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(15);
pub const RUN_STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(120);

/// An open run of the journal, closed exactly once: [`Run::finish`] with its outcome, or
/// [`Run::fail`] with its error. Every kind of run opens one through [`Store::begin_run`];
/// while it is open, a heartbeat shows it alive.
#[derive(Debug)]
pub struct Run {
    store: Store,
    id: RunId,
    heartbeat: tokio::task::JoinHandle<()>,
}

impl Drop for Run {
    fn drop(&mut self) {
        self.heartbeat.abort();
    }
}

/// How a run ended, for [`Run::finish`].
#[derive(Debug, Clone)]
pub struct RunEnd {
    pub status: RunStatus,
    pub counts: Json,
    pub api_calls: u64,
    /// Why it stopped early or did part of its work, when it did.
    pub note: Option<String>,
}

impl RunEnd {
    /// A run that did all its work.
    pub fn ok(counts: Json, api_calls: u64) -> RunEnd {
        RunEnd {
            status: RunStatus::Ok,
            counts,
            api_calls,
            note: None,
        }
    }
}

impl Store {
    /// Opens a run of `kind` (for `job`, when a job runs it), after closing the runs whose
    /// process is gone.
    pub async fn begin_run(&self, kind: RunKind, job: Option<&str>) -> Result<Run, StoreError> {
        self.close_abandoned_runs(chrono::Utc::now()).await?;
        let id = self.start_run(kind, job, chrono::Utc::now()).await?;
        let heartbeat = tokio::spawn({
            let store = self.clone();
            async move {
                loop {
                    tokio::time::sleep(RUN_HEARTBEAT).await;
                    if let Err(e) = store.run_heartbeat(id, chrono::Utc::now()).await {
                        tracing::warn!(run = %id, error = %e, "cannot refresh the run's heartbeat");
                    }
                }
            }
        });
        Ok(Run {
            store: self.clone(),
            id,
            heartbeat,
        })
    }

    async fn run_heartbeat(&self, run: RunId, now: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query("UPDATE runs SET heartbeat_at = $1 WHERE id = $2")
            .bind(time_text(now))
            .bind(run.0)
            .execute(&self.pool)
            .await
            .ctx("refreshing a run's heartbeat")?;
        Ok(())
    }

    /// Closes as failed ("abandoned") the runs still `running` whose process is gone: killed
    /// on this machine, or silent for longer than [`RUN_STALE_AFTER`]. Gives how many.
    pub async fn close_abandoned_runs(&self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        let rows =
            sqlx::query("SELECT id, holder, heartbeat_at, started_at FROM runs WHERE status = $1")
                .bind(RunStatus::Running.as_str())
                .fetch_all(&self.pool)
                .await
                .ctx("reading running runs")?;
        let cutoff = time_text(
            now - chrono::Duration::from_std(RUN_STALE_AFTER).unwrap_or(chrono::Duration::MAX),
        );
        let mut closed = 0;
        for r in &rows {
            let id: i64 = col(r, "id")?;
            let holder: Option<String> = col(r, "holder")?;
            let beat: Option<String> = col(r, "heartbeat_at")?;
            let started: String = col(r, "started_at")?;
            let last = beat.clone().unwrap_or(started);
            let gone = match &holder {
                Some(h) => holder_is_gone(h, Some(&last), &cutoff),
                // A run of an earlier version, which kept no heartbeat.
                None => last < cutoff,
            };
            if !gone {
                continue;
            }
            let why = format!(
                "abandoned: the process running it ({}) stopped; its last sign of life was at {last}",
                holder.as_deref().unwrap_or("unknown")
            );
            sqlx::query(
                "UPDATE runs SET status = $1, ended_at = $2, error = $3 WHERE id = $4 AND status = $5",
            )
            .bind(RunStatus::Failed.as_str())
            .bind(&last)
            .bind(why)
            .bind(id)
            .bind(RunStatus::Running.as_str())
            .execute(&self.pool)
            .await
            .ctx("closing an abandoned run")?;
            closed += 1;
        }
        if closed > 0 {
            tracing::warn!(
                runs = closed,
                "closed runs whose process had stopped as abandoned"
            );
        }
        Ok(closed)
    }
}

impl Run {
    pub fn id(&self) -> RunId {
        self.id
    }

    /// Journals events in this run.
    pub async fn events(&self, events: &[JournalEvent]) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        self.store
            .add_events(self.id, events, chrono::Utc::now())
            .await
    }

    /// Closes the run with its outcome.
    pub async fn finish(self, end: RunEnd) -> Result<(), StoreError> {
        self.heartbeat.abort();
        self.store
            .finish_run(
                self.id,
                end.status,
                &end.counts,
                end.api_calls,
                end.note.as_deref(),
                chrono::Utc::now(),
            )
            .await
    }

    /// Closes the run as failed. Best effort: the error that failed the run is what the
    /// caller reports, so a journal that cannot be written is logged, not returned.
    pub async fn fail(self, error: &str, api_calls: u64) {
        self.heartbeat.abort();
        let closed = self
            .store
            .finish_run(
                self.id,
                RunStatus::Failed,
                &Json::Object(Default::default()),
                api_calls,
                Some(error),
                chrono::Utc::now(),
            )
            .await;
        if let Err(e) = closed {
            tracing::error!(run = %self.id, error = %e, "cannot close the failed run in the journal");
        }
    }

    /// Closes the run after its work: finished as `end` says when the work succeeded, failed
    /// with the error otherwise; gives the work's result back.
    pub async fn close<T, E>(
        self,
        result: Result<T, E>,
        end: impl FnOnce(&T) -> RunEnd,
        api_calls: u64,
    ) -> Result<T, E>
    where
        E: std::fmt::Display + From<StoreError>,
    {
        match result {
            Ok(v) => {
                self.finish(end(&v)).await?;
                Ok(v)
            }
            Err(e) => {
                self.fail(&e.to_string(), api_calls).await;
                Err(e)
            }
        }
    }
}
