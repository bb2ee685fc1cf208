//! `affsync schedule`: every job on its cron schedule until asked to stop.
//!
//! Each job has its own loop: wait for its next slot and run it. A run that lasts longer than
//! the period is never overlapped: the slots that passed while it ran are coalesced into one
//! run that starts as soon as it ends (not one per slot). A slot whose job is running elsewhere (the
//! lock is taken) is skipped with a note. At start, a job whose slots passed while affsync was
//! not running is run once (not once per missed slot), and the miss is reported.

use chrono::Utc;
use tokio::sync::watch;

use super::config::Job;
use super::run::{Outcome, Runner, Trigger};
use super::status::{job_runs, MISSED_GRACE};

/// Runs every job of the runner's config on its schedule until `stop` turns true; a run in
/// flight finishes its current step and is journaled before this returns.
pub async fn schedule(runner: Runner, stop: watch::Receiver<bool>) {
    // The loops share one task: a pull's futures borrow from it and are not `Send` for every
    // lifetime, which `tokio::spawn` would need; they still run concurrently.
    let loops = runner
        .config
        .jobs
        .iter()
        .map(|job| job_loop(&runner, job, stop.clone()));
    futures::future::join_all(loops).await;
}

async fn job_loop(runner: &Runner, job: &Job, mut stop: watch::Receiver<bool>) {
    let span = tracing::info_span!("job", job = %job.name);
    // Slots missed while affsync was down.
    match job_runs(&runner.store, &job.name, 1).await {
        Ok(runs) => {
            let since = runs.first().and_then(|r| {
                chrono::DateTime::parse_from_rfc3339(&r.started_at)
                    .ok()
                    .map(|t| t.with_timezone(&Utc))
            });
            if let Some(since) = since {
                let (slots, first) = job.slots_between(since, Utc::now() - MISSED_GRACE, 1000);
                if slots > 0 {
                    tracing::warn!(
                        parent: &span,
                        missed = slots,
                        first_missed = %first.map(crate::store::time_text).unwrap_or_default(),
                        "the job missed runs while affsync was not running; running it once now"
                    );
                    once(runner, job, Trigger::Missed { slots }, &span).await;
                }
            }
        }
        Err(e) => tracing::error!(parent: &span, error = %e, "cannot read the job's last run"),
    }
    let mut after = Utc::now();
    loop {
        if *stop.borrow() {
            return;
        }
        let Some(next) = job.next_after(after) else {
            tracing::warn!(parent: &span, "the job's schedule fires no more");
            return;
        };
        tracing::debug!(parent: &span, next = %crate::store::time_text(next), "waiting for the next slot");
        let wait = (next - Utc::now()).to_std().unwrap_or_default();
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
        once(runner, job, Trigger::Schedule, &span).await;
        // Slots that passed while the run went on are coalesced into one run, right away (a
        // job slower than its period runs back to back, never on top of itself).
        let mut slot = next;
        while !*stop.borrow() {
            let now = Utc::now();
            let (passed, _) = job.slots_between(slot, now, 1000);
            if passed == 0 {
                break;
            }
            tracing::info!(
                parent: &span,
                passed,
                "the run outlasted its period; running once for the slots that passed"
            );
            slot = now;
            once(runner, job, Trigger::Schedule, &span).await;
        }
        after = slot.max(next);
    }
}

async fn once(runner: &Runner, job: &Job, trigger: Trigger, span: &tracing::Span) {
    match runner.run(job, trigger).await {
        Ok(Outcome::Ran(_)) => {}
        Ok(Outcome::Busy(h)) => tracing::info!(
            parent: span,
            holder = %h.holder,
            since = %h.acquired_at,
            "the job is already running elsewhere; this slot is skipped"
        ),
        Err(e) => tracing::error!(parent: span, error = %e, "the job could not be run"),
    }
}
