//! One run at a time per job, across processes and machines: a row in `job_locks`.
//!
//! Taking the lock inserts the job's row (`ON CONFLICT DO NOTHING`: the primary key lets one
//! taker win, on SQLite and Postgres alike). The holder refreshes `heartbeat_at` a few times per
//! stale period; a row whose heartbeat is older than that belongs to a process that died (a
//! SIGKILL, a lost machine) and the next taker replaces it with an `UPDATE` that matches only a
//! stale row, so two takers cannot both win. Times are the machines' clocks: machines that share
//! a mirror need clocks closer to each other than the stale period.

use affsync_core::model::RunId;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use affinity_crm::WriteGate;
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;

use crate::store::locks::LockRow;
use crate::store::{time_text, Store, StoreError};

/// The lock of one job, held by this process until [`JobLock::release`] (or its drop, which
/// stops the heartbeat and leaves the row to go stale).
#[derive(Debug)]
pub struct JobLock {
    store: Store,
    job: String,
    holder: String,
    heartbeat: tokio::task::JoinHandle<()>,
    lost: Arc<AtomicBool>,
    last_beat: Arc<Mutex<DateTime<Utc>>>,
    stale_after: Duration,
    /// The previous holder, when this lock was taken over from a dead one.
    pub took_over: Option<Holder>,
}

/// A held lock as the API client's [`WriteGate`]: a write is sent only while the lock is
/// still this process's. When the last confirmed heartbeat is older than half the stale
/// period (the process was paused: SIGSTOP, a suspended laptop, a migrated VM), the lock is
/// confirmed against the store before the write; a lock another process took over refuses
/// this and every later write. A pause after that check, before the request's bytes are out,
/// is caught when the connection asks for the body's last byte ([`WriteGate::still_holds`]:
/// the last confirmed heartbeat still younger than the stale period); only a pause inside the
/// connection's own write of those bytes, a window of microseconds, is not.
pub struct LockGate {
    store: Store,
    job: String,
    holder: String,
    lost: Arc<AtomicBool>,
    last_beat: Arc<Mutex<DateTime<Utc>>>,
    stale_after: Duration,
}

impl LockGate {
    fn lost_reason(&self) -> String {
        format!(
            "the lock of job `{}` was taken over by another process (this one was paused or too late with its heartbeat)",
            self.job
        )
    }
}

impl WriteGate for LockGate {
    fn check(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            if self.lost.load(Ordering::SeqCst) {
                return Err(self.lost_reason());
            }
            let now = Utc::now();
            let last = *self.last_beat.lock().expect("not poisoned");
            if now - last < stale_cutoff(self.stale_after) / 2 {
                return Ok(());
            }
            match self
                .store
                .heartbeat_lock(&self.job, &self.holder, now)
                .await
            {
                Ok(true) => {
                    *self.last_beat.lock().expect("not poisoned") = now;
                    Ok(())
                }
                Ok(false) => {
                    self.lost.store(true, Ordering::SeqCst);
                    tracing::error!(job = %self.job, "{}; its writes stop", self.lost_reason());
                    Err(self.lost_reason())
                }
                Err(e) => Err(format!(
                    "cannot confirm that this process still holds the lock of job `{}`: {e}",
                    self.job
                )),
            }
        })
    }

    /// No other process can have taken the lock over while this one's last confirmed
    /// heartbeat is younger than the stale period (a taker needs it older).
    fn still_holds(&self) -> bool {
        if self.lost.load(Ordering::SeqCst) {
            return false;
        }
        let last = *self.last_beat.lock().expect("not poisoned");
        Utc::now() - last < stale_cutoff(self.stale_after)
    }
}

/// Who holds a lock.
pub type Holder = LockRow;

/// What trying to take a lock gave.
#[derive(Debug)]
pub enum Acquired {
    Taken(JobLock),
    /// Someone else is running the job and is alive.
    Busy(Holder),
}

/// This process, as a holder: host, pid and a random tag (two processes with one pid on two
/// hosts, or a pid reused, never look alike).
pub fn holder_id() -> String {
    format!(
        "{}:{}:{:08x}",
        host_name(),
        std::process::id(),
        rand::random::<u32>()
    )
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

/// The current holder of a job's lock, if any.
pub async fn holder(store: &Store, job: &str) -> Result<Option<Holder>, StoreError> {
    store.lock_row(job).await
}

/// Whether a holder's heartbeat is older than `stale_after` at `now`.
pub fn is_stale(h: &Holder, stale_after: Duration, now: DateTime<Utc>) -> bool {
    h.heartbeat_at < time_text(now - stale_cutoff(stale_after))
}

fn stale_cutoff(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// Tries to take a job's lock; a holder whose heartbeat is older than `stale_after` is taken
/// over (and its run, left `running`, is closed as failed).
pub async fn try_acquire(
    store: &Store,
    job: &str,
    stale_after: Duration,
) -> Result<Acquired, StoreError> {
    let me = holder_id();
    let now = Utc::now();
    if store.insert_lock(job, &me, now).await? {
        return Ok(Acquired::Taken(JobLock::start(
            store,
            job,
            me,
            stale_after,
            None,
        )));
    }
    let Some(current) = holder(store, job).await? else {
        // Released between the two statements: try once more from the start.
        return Box::pin(try_acquire(store, job, stale_after)).await;
    };
    if !is_stale(&current, stale_after, now) {
        return Ok(Acquired::Busy(current));
    }
    let cutoff = now - stale_cutoff(stale_after);
    if !store
        .take_over_lock(job, &me, &current.holder, cutoff, now)
        .await?
    {
        // Another process took it over first (or its holder came back to life).
        return match holder(store, job).await? {
            Some(h) => Ok(Acquired::Busy(h)),
            None => Box::pin(try_acquire(store, job, stale_after)).await,
        };
    }
    tracing::warn!(
        job,
        previous_holder = %current.holder,
        last_heartbeat = %current.heartbeat_at,
        "took over the lock of a job whose process stopped without releasing it"
    );
    if let Some(run) = current.run_id {
        let msg = format!(
            "abandoned: the process running it (`{}`) stopped; its last heartbeat was at {}",
            current.holder, current.heartbeat_at
        );
        store
            .close_abandoned_run(run, &current.heartbeat_at, &msg)
            .await?;
    }
    Ok(Acquired::Taken(JobLock::start(
        store,
        job,
        me,
        stale_after,
        Some(current),
    )))
}

impl JobLock {
    fn start(
        store: &Store,
        job: &str,
        holder: String,
        stale_after: Duration,
        took_over: Option<Holder>,
    ) -> JobLock {
        let lost = Arc::new(AtomicBool::new(false));
        let last_beat = Arc::new(Mutex::new(Utc::now()));
        // A few heartbeats per stale period, so that one late beat does not lose the lock.
        let every = (stale_after / 4).max(Duration::from_millis(100));
        let heartbeat = tokio::spawn({
            let (store, job, holder, lost, last_beat) = (
                store.clone(),
                job.to_string(),
                holder.clone(),
                lost.clone(),
                last_beat.clone(),
            );
            async move {
                loop {
                    tokio::time::sleep(every).await;
                    let now = Utc::now();
                    match store.heartbeat_lock(&job, &holder, now).await {
                        Ok(true) => *last_beat.lock().expect("not poisoned") = now,
                        Ok(false) => {
                            if !lost.swap(true, Ordering::SeqCst) {
                                tracing::error!(
                                    job,
                                    "lost the job lock: another process took it over (this one was too late with its heartbeat)"
                                );
                            }
                        }
                        Err(e) => tracing::warn!(job, error = %e, "cannot refresh the job lock"),
                    }
                }
            }
        });
        JobLock {
            store: store.clone(),
            job: job.to_string(),
            holder,
            heartbeat,
            lost,
            last_beat,
            stale_after,
            took_over,
        }
    }

    /// This lock as a write gate for the API client (see [`LockGate`]).
    pub fn gate(&self) -> Arc<LockGate> {
        Arc::new(LockGate {
            store: self.store.clone(),
            job: self.job.clone(),
            holder: self.holder.clone(),
            lost: self.lost.clone(),
            last_beat: self.last_beat.clone(),
            stale_after: self.stale_after,
        })
    }

    /// Writes the run this lock covers, so that a taker after a crash can close it.
    pub async fn set_run(&self, run: RunId) -> Result<(), StoreError> {
        self.store.set_lock_run(&self.job, &self.holder, run).await
    }

    /// Whether another process took the lock over while this one held it.
    pub fn lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }

    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// Stops the heartbeat and deletes the row (if it is still ours).
    pub async fn release(self) -> Result<(), StoreError> {
        self.heartbeat.abort();
        self.store.release_lock(&self.job, &self.holder).await
    }
}

impl Drop for JobLock {
    fn drop(&mut self) {
        self.heartbeat.abort();
    }
}
