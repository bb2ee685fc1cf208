//! One run of a job: take its lock, open a `job` run in the journal, run the steps in order
//! (stopping at the first that fails, or between steps when asked to stop), close the run with
//! the steps' counts, alert on failure, release the lock.

use affsync_core::diagnostic::{Diagnose, ErrorClass};
use std::sync::Arc;

use chrono::Utc;
use serde::Serialize;
use serde_json::{json, Value as Json};
use tokio::sync::watch;
use tracing::Instrument;

use super::alert::{self, Alert};
use super::config::{Job, JobsConfig, Step};
use super::lock::{self, Acquired, Holder};
use crate::pull::{self, PullError, PullOptions, Quiet};
use crate::store::journal::{Run, RunEnd};
use crate::store::{time_text, Store, StoreError};
use affinity_crm::Client;
use affsync_core::journal::{JournalEvent, RunKind, RunStatus, Step as JStep};
use affsync_core::model::counted;

/// Why a step failed.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    #[error(transparent)]
    Pull(#[from] PullError),
    #[error(transparent)]
    Mapping(#[from] affsync_core::mapping::MappingError),
    #[error("`{0}` names no `feed`")]
    NoFeed(String),
    #[error("`{0}` names no contacts file")]
    NoContactsFile(String),
    #[error(transparent)]
    Match(#[from] crate::matching::MatchError),
    #[error(transparent)]
    Push(#[from] crate::push::PushError),
    #[error(transparent)]
    Activity(#[from] crate::activity_log::ActivityError),
    #[error(transparent)]
    Contacts(#[from] crate::contacts::ContactsError),
    #[error(transparent)]
    View(#[from] crate::listen::view::ViewError),
}

/// Why a job could not be run at all (its steps' failures are outcomes, not errors).
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Diagnose for StepError {
    fn class(&self) -> ErrorClass {
        match self {
            StepError::Pull(e) => e.class(),
            StepError::Mapping(e) => e.class(),
            StepError::NoFeed(_) | StepError::NoContactsFile(_) => ErrorClass::BadInput,
            StepError::Match(e) => e.class(),
            StepError::Push(e) => e.class(),
            StepError::Activity(e) => e.class(),
            StepError::Contacts(e) => e.class(),
            StepError::View(e) => e.class(),
        }
    }
    fn hint(&self) -> Option<String> {
        match self {
            StepError::Pull(e) => e.hint(),
            StepError::Mapping(e) => e.hint(),
            StepError::NoFeed(_) => Some(
                "add `feed = \"calls.jsonl\"` (relative to the settings file) for a job step"
                    .into(),
            ),
            StepError::NoContactsFile(_) => {
                Some("add `path = \"contacts.csv\"` under `[file]` for a job step".into())
            }
            StepError::Match(e) => e.hint(),
            StepError::Push(e) => e.hint(),
            StepError::Activity(e) => e.hint(),
            StepError::Contacts(e) => e.hint(),
            StepError::View(e) => e.hint(),
        }
    }
}

impl Diagnose for JobError {
    fn class(&self) -> ErrorClass {
        match self {
            JobError::Store(s) => s.class(),
        }
    }
}

/// What made a run start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// `affsync run`.
    Manual,
    /// Its schedule fired.
    Schedule,
    /// At the scheduler's start, for the slots missed while it was down.
    Missed { slots: usize },
}

/// What one step did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepOutcome {
    pub step: &'static str,
    pub target: String,
    /// The step's own run in the journal (a pull's), when it has one.
    pub run: Option<i64>,
    pub status: String,
    pub counts: Json,
    pub api_calls: u64,
    pub seconds: f64,
    pub error: Option<String>,
}

/// What one run of a job did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobRun {
    pub job: String,
    pub run: i64,
    pub status: String,
    pub started_at: String,
    pub ended_at: String,
    pub steps: Vec<StepOutcome>,
    pub error: Option<String>,
}

/// A run, or the lock's holder when the job is already running elsewhere.
#[derive(Debug)]
pub enum Outcome {
    Ran(JobRun),
    Busy(Holder),
}

/// Runs jobs: the store, the client, the config, and the signal to stop between steps.
#[derive(Clone)]
pub struct Runner {
    pub store: Store,
    pub client: Client,
    pub config: Arc<JobsConfig>,
    http: reqwest::Client,
    stop: watch::Receiver<bool>,
}

impl Runner {
    pub fn new(
        store: Store,
        client: Client,
        config: Arc<JobsConfig>,
        stop: watch::Receiver<bool>,
    ) -> Runner {
        Runner {
            store,
            client,
            config,
            http: reqwest::Client::new(),
            stop,
        }
    }

    fn stopping(&self) -> bool {
        *self.stop.borrow()
    }

    /// Runs a job once, unless it is already running somewhere (then [`Outcome::Busy`]).
    pub async fn run(&self, job: &Job, trigger: Trigger) -> Result<Outcome, JobError> {
        let lock =
            match lock::try_acquire(&self.store, &job.name, self.config.lock_stale_after).await? {
                Acquired::Taken(l) => l,
                Acquired::Busy(h) => return Ok(Outcome::Busy(h)),
            };
        let started = Utc::now();
        let guard = match self.store.begin_run(RunKind::Job, Some(&job.name)).await {
            Ok(r) => r,
            Err(e) => {
                let _ = lock.release().await;
                return Err(e.into());
            }
        };
        let run = guard.id();
        let span = tracing::info_span!("job_run", job = %job.name, run = run.0);
        let result = async {
            lock.set_run(run).await?;
            match trigger {
                Trigger::Missed { slots } => tracing::warn!(
                    missed = slots,
                    "running once for the runs missed while affsync was not running"
                ),
                _ => tracing::info!(trigger = ?trigger, "job started"),
            }
            // Every write of every step asks the lock first: a run paused past the stale
            // period, whose lock another process took, writes nothing more.
            let client = self.client.with_write_gate(lock.gate());
            self.run_steps(&client, &lock, job, guard, trigger, started)
                .await
        }
        .instrument(span.clone())
        .await;
        let lost = lock.lost();
        if let Err(e) = lock.release().await {
            tracing::warn!(parent: &span, error = %e, "cannot release the job lock");
        }
        let mut out = result?;
        if lost && out.error.is_none() {
            out.error = Some("the lock was taken over by another process during the run".into());
        }
        Ok(Outcome::Ran(out))
    }

    async fn run_steps(
        &self,
        client: &Client,
        lock: &lock::JobLock,
        job: &Job,
        guard: Run,
        trigger: Trigger,
        started: chrono::DateTime<Utc>,
    ) -> Result<JobRun, JobError> {
        let run = guard.id();
        let mut steps: Vec<StepOutcome> = Vec::new();
        let mut error: Option<(String, Option<&'static str>)> = None;
        // A step that did part of its work (a push with failed records): the job goes on, and
        // ends `partial`, alerted like a failure.
        let mut partial: Option<(String, Option<&'static str>)> = None;
        for (i, step) in job.steps.iter().enumerate() {
            if self.stopping() {
                error = Some((
                    format!(
                        "interrupted: affsync was asked to stop before step {} of {} (`{}`)",
                        i + 1,
                        job.steps.len(),
                        step.kind()
                    ),
                    None,
                ));
                break;
            }
            let t = std::time::Instant::now();
            if lock.lost() {
                error = Some((
                    format!(
                        "the job lock was taken over by another process before step {} of {} (`{}`); this run stopped",
                        i + 1,
                        job.steps.len(),
                        step.kind()
                    ),
                    None,
                ));
                break;
            }
            let root = self.config.mapping_root();
            let members = &self.config.members;
            match run_step(client, &self.store, &root, members, job, step).await {
                Ok(mut o) => {
                    o.seconds = t.elapsed().as_secs_f64();
                    tracing::info!(step = o.step, target = %o.target, "step done");
                    if o.status == RunStatus::Partial.as_str() && partial.is_none() {
                        partial = Some((o.error.clone().unwrap_or_default(), Some(o.step)));
                    }
                    steps.push(o);
                }
                Err(e) => {
                    let msg = e.to_string();
                    tracing::error!(step = step.kind(), error = %msg, "step failed");
                    steps.push(StepOutcome {
                        step: step.kind(),
                        target: step.target_in(&root),
                        run: None,
                        status: RunStatus::Failed.as_str().into(),
                        counts: json!({}),
                        api_calls: 0,
                        seconds: t.elapsed().as_secs_f64(),
                        error: Some(msg.clone()),
                    });
                    error = Some((msg, Some(step.kind())));
                    break;
                }
            }
        }
        if error.is_none() && lock.lost() {
            error = Some((
                "the job lock was taken over by another process during the run; its writes stopped"
                    .into(),
                None,
            ));
        }
        let status = if error.is_some() {
            RunStatus::Failed
        } else if partial.is_some() {
            RunStatus::Partial
        } else {
            RunStatus::Ok
        };
        if error.is_none() {
            error = partial.take().map(|(m, s)| (format!("partial: {m}"), s));
        }
        let api_calls: u64 = steps.iter().map(|s| s.api_calls).sum();
        let mut counts = json!({ "steps": steps, "trigger": trigger_text(trigger) });
        if let Trigger::Missed { slots } = trigger {
            counts["missed"] = json!(slots);
        }
        for key in ["new", "changed", "removed", "entries"] {
            let n: u64 = steps
                .iter()
                .filter_map(|s| s.counts.get(key).and_then(Json::as_u64))
                .sum();
            counts[key] = json!(n);
        }
        if let Some((msg, step)) = &error {
            self.store
                .add_events(
                    run,
                    &[JournalEvent::new(
                        format!("job:{}", job.name),
                        JStep::Error {
                            reason: Some("step_failed".into()),
                            message: Some(msg.clone()),
                            step: step.map(str::to_string),
                        },
                    )],
                    Utc::now(),
                )
                .await?;
        }
        let ended = Utc::now();
        guard
            .finish(RunEnd {
                status,
                counts: counts.clone(),
                api_calls,
                note: error.as_ref().map(|(m, _)| m.clone()),
            })
            .await?;
        let out = JobRun {
            job: job.name.clone(),
            run: run.0,
            status: status.as_str().into(),
            started_at: time_text(started),
            ended_at: time_text(ended),
            steps,
            error: error.as_ref().map(|(m, _)| m.clone()),
        };
        match &error {
            None => tracing::info!(status = %out.status, "job done"),
            Some((msg, step)) => {
                tracing::error!(error = %msg, "job failed");
                let failures = super::status::failures_in_a_row(&self.store, &job.name).await?;
                if let Some(hook) = &job.webhook {
                    let a = Alert {
                        event: "job_failed",
                        job: job.name.clone(),
                        run: run.0,
                        status: out.status.clone(),
                        error: msg.clone(),
                        step: step.map(str::to_string),
                        started_at: out.started_at.clone(),
                        ended_at: out.ended_at.clone(),
                        failures_in_a_row: failures,
                        host: lock::host_name(),
                    };
                    alert::post(&self.http, hook, &a).await;
                }
            }
        }
        Ok(out)
    }
}

fn trigger_text(t: Trigger) -> &'static str {
    match t {
        Trigger::Manual => "manual",
        Trigger::Schedule => "schedule",
        Trigger::Missed { .. } => "missed",
    }
}

/// Runs one step of a job. Every kind of step is one arm here.
pub async fn run_step(
    client: &Client,
    store: &Store,
    root: &crate::mapping_identity::MappingRoot,
    members: &[crate::members::Member],
    job: &Job,
    step: &Step,
) -> Result<StepOutcome, StepError> {
    match step {
        Step::Pull { lists } => {
            let opts = PullOptions {
                lists: lists.clone(),
                all_lists: false,
                ..PullOptions::default()
            };
            let s = pull::pull_for_job(client, store, &opts, &Quiet, Some(&job.name)).await?;
            let sum = |f: fn(&pull::ListSummary) -> usize| s.lists.iter().map(f).sum::<usize>();
            Ok(StepOutcome {
                step: step.kind(),
                target: step.target_in(root),
                run: Some(s.run),
                status: RunStatus::Ok.as_str().into(),
                counts: json!({
                    "entries": sum(|l| l.entries_seen),
                    "new": sum(|l| l.new),
                    "changed": sum(|l| l.changed),
                    "removed": sum(|l| l.removed),
                    "entities_removed": s.entities_removed,
                    "entities_merged": s.entities_merged,
                }),
                api_calls: s.api_calls,
                seconds: s.seconds,
                error: None,
            })
        }
        Step::Reconcile { lists } => {
            let r =
                crate::listen::reconcile::reconcile(client, store, lists, Some(&job.name)).await?;
            let d = &r.drift;
            Ok(StepOutcome {
                step: step.kind(),
                target: step.target_in(root),
                run: Some(r.pull.run),
                status: RunStatus::Ok.as_str().into(),
                counts: json!({
                    "entries": d.entries,
                    "new": d.new,
                    "changed": d.changed,
                    "removed": d.removed,
                    "drift": d.drift,
                }),
                api_calls: r.pull.api_calls,
                seconds: r.pull.seconds,
                error: None,
            })
        }
        Step::PullView { view } => {
            let v = crate::listen::view::pull_view(client, store, view, Some(&job.name)).await?;
            Ok(StepOutcome {
                step: step.kind(),
                target: step.target_in(root),
                run: Some(v.run),
                status: RunStatus::Ok.as_str().into(),
                counts: json!({
                    "entries": v.entries_seen,
                    "new": v.new,
                    "changed": v.changed,
                }),
                api_calls: v.api_calls,
                seconds: v.seconds,
                error: None,
            })
        }
        Step::Match { mapping } => {
            let m = crate::mapping_identity::load(mapping, root)?;
            let o = crate::matching::run_match(store, &m, Some(&job.name)).await?;
            Ok(StepOutcome {
                step: step.kind(),
                target: step.target_in(root),
                run: Some(o.run.0),
                status: if o.counts.error > 0 {
                    RunStatus::Partial
                } else {
                    RunStatus::Ok
                }
                .as_str()
                .into(),
                counts: serde_json::to_value(&o.counts).unwrap_or_default(),
                api_calls: 0,
                seconds: 0.0,
                error: (o.counts.error > 0)
                    .then(|| format!("{} source rows could not be read", o.counts.error)),
            })
        }
        Step::LogActivity { settings } => {
            let set = crate::activity_log::load_settings(settings)?;
            let Some(feed) = set.feed.clone() else {
                return Err(StepError::NoFeed(settings.display().to_string()));
            };
            let opts = crate::activity_log::Options {
                dry_run: false,
                job: Some(job.name.clone()),
            };
            let members = crate::members::connect(members, client, store)
                .await
                .map_err(crate::activity_log::ActivityError::Store)?;
            let r = crate::activity_log::log_activity(store, client, &feed, &set, &members, &opts)
                .await?;
            let partial = r.partial();
            Ok(StepOutcome {
                step: step.kind(),
                target: step.target_in(root),
                run: r.run.map(|x| x.0),
                status: if partial {
                    RunStatus::Partial
                } else {
                    RunStatus::Ok
                }
                .as_str()
                .into(),
                counts: serde_json::to_value(&r.counts).unwrap_or_default(),
                api_calls: r.counts.api_calls,
                seconds: 0.0,
                error: partial.then(|| {
                    let mut e = format!(
                        "{} could not be written",
                        counted(r.counts.failed as u64, "event")
                    );
                    for m in &r.member_failures {
                        e.push_str("; ");
                        e.push_str(m);
                    }
                    e
                }),
            })
        }
        Step::Contacts { mapping } => {
            let cfg = crate::contacts::ContactsConfig::load(mapping)?;
            let Some(file) = cfg.file_path(mapping) else {
                return Err(StepError::NoContactsFile(mapping.display().to_string()));
            };
            let (c, _) = crate::contacts::sync(
                store,
                client,
                &file,
                mapping,
                &crate::contacts::SyncOptions::default(),
            )
            .await?;
            Ok(StepOutcome {
                step: step.kind(),
                target: step.target_in(root),
                run: None,
                status: if c.partial() {
                    RunStatus::Partial
                } else {
                    RunStatus::Ok
                }
                .as_str()
                .into(),
                counts: serde_json::to_value(&c).unwrap_or_default(),
                api_calls: c.api_calls,
                seconds: 0.0,
                error: c.partial().then(|| {
                    format!(
                        "{} could not be synced and {} failed",
                        counted(c.errors as u64, "contact row"),
                        counted(c.failed as u64, "write")
                    )
                }),
            })
        }
        Step::Push { mapping } => {
            let m = crate::mapping_identity::load(mapping, root)?;
            let opts = crate::push::PushOptions {
                job: Some(job.name.clone()),
                ..Default::default()
            };
            let r = crate::push::push(store, client, &m, &opts, &crate::push::apply::Quiet).await?;
            let partial = r.partial();
            Ok(StepOutcome {
                step: step.kind(),
                target: step.target_in(root),
                run: Some(r.run.0),
                status: if partial {
                    RunStatus::Partial
                } else {
                    RunStatus::Ok
                }
                .as_str()
                .into(),
                counts: serde_json::to_value(&r.counts).unwrap_or_default(),
                api_calls: r.counts.api_calls,
                seconds: 0.0,
                error: partial.then(|| {
                    format!(
                        "the push was partial: {} failed, {} not attempted{}",
                        r.counts.failed,
                        r.counts.not_attempted,
                        r.stopped
                            .as_ref()
                            .map(|s| format!("; {s}"))
                            .unwrap_or_default()
                    )
                }),
            })
        }
    }
}
