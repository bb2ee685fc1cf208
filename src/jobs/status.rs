//! `affsync status`: per job, the last run, the next time it fires, the failures in a row, and
//! whether it needs attention (it missed its slot, or keeps failing).

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value as Json;

use super::config::{Job, JobsConfig};
use super::lock::{self, Holder};
use crate::store::journal::RunRow;
use crate::store::{time_text, Store, StoreError};

/// A run that starts this late after its slot is still on time.
pub const MISSED_GRACE: chrono::Duration = chrono::Duration::seconds(60);

/// The runs of a job looked at for its failures in a row.
const HISTORY: i64 = 100;

/// One job's state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobStatus {
    pub job: String,
    pub schedule: String,
    pub timezone: String,
    pub last_run: Option<LastRun>,
    pub next_at: Option<String>,
    pub failures_in_a_row: usize,
    /// Slots that passed with no run since the last one began (counted up to 1000).
    pub missed_slots: usize,
    pub first_missed_at: Option<String>,
    /// Who is running it now, when someone is.
    pub running: Option<Running>,
    /// Why the job stands out, if it does: `missed 3 runs since …`, `failed 2 times in a row`.
    pub attention: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LastRun {
    pub run: i64,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub seconds: Option<f64>,
    pub status: String,
    pub counts: Option<Json>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Running {
    pub holder: String,
    pub since: String,
    pub heartbeat_at: String,
    /// No heartbeat for longer than the stale time: its process is likely dead; the next run
    /// takes the lock over.
    pub stale: bool,
}

/// The runs of one job (kind `job`), newest first.
pub async fn job_runs(store: &Store, job: &str, limit: i64) -> Result<Vec<RunRow>, StoreError> {
    store.job_runs(job, limit).await
}

/// Failed runs of a job in a row, newest first (a run still going is passed over).
pub async fn failures_in_a_row(store: &Store, job: &str) -> Result<usize, StoreError> {
    Ok(count_failures(&job_runs(store, job, HISTORY).await?))
}

fn count_failures(runs: &[RunRow]) -> usize {
    runs.iter()
        .filter(|r| r.status != "running")
        .take_while(|r| r.status == "failed")
        .count()
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Every job's state at `now`.
pub async fn status(
    store: &Store,
    config: &JobsConfig,
    now: DateTime<Utc>,
) -> Result<Vec<JobStatus>, StoreError> {
    let mut out = Vec::new();
    for job in &config.jobs {
        let runs = job_runs(store, &job.name, HISTORY).await?;
        let holder = lock::holder(store, &job.name).await?;
        out.push(assess(job, &runs, holder.as_ref(), config, now));
    }
    Ok(out)
}

/// One job's state from its runs (newest first) and its lock: pure.
pub fn assess(
    job: &Job,
    runs: &[RunRow],
    holder: Option<&Holder>,
    config: &JobsConfig,
    now: DateTime<Utc>,
) -> JobStatus {
    let last = runs.first();
    let failures = count_failures(runs);
    let running = holder.map(|h| Running {
        holder: h.holder.clone(),
        since: h.acquired_at.clone(),
        heartbeat_at: h.heartbeat_at.clone(),
        stale: lock::is_stale(h, config.lock_stale_after, now),
    });
    let alive = running.as_ref().is_some_and(|r| !r.stale);
    let (missed_slots, first_missed) = match last.and_then(|r| parse_time(&r.started_at)) {
        Some(since) if !alive => job.slots_between(since, now - MISSED_GRACE, 1000),
        _ => (0, None),
    };
    let mut attention = Vec::new();
    if missed_slots > 0 {
        attention.push(format!(
            "missed {missed_slots} run{} since {}",
            if missed_slots == 1 { "" } else { "s" },
            first_missed.map(time_text).unwrap_or_default()
        ));
    }
    if failures > 0 {
        attention.push(if failures == 1 {
            "the last run failed".to_string()
        } else {
            format!("failed {failures} times in a row")
        });
    }
    if running.as_ref().is_some_and(|r| r.stale) {
        attention.push("its lock has no heartbeat: the process running it stopped".into());
    }
    JobStatus {
        job: job.name.clone(),
        schedule: job.schedule_text.clone(),
        timezone: job.timezone.name().to_string(),
        last_run: last.map(|r| LastRun {
            run: r.id.0,
            started_at: r.started_at.clone(),
            ended_at: r.ended_at.clone(),
            seconds: match (
                parse_time(&r.started_at),
                r.ended_at.as_deref().and_then(parse_time),
            ) {
                (Some(a), Some(b)) => Some((b - a).num_milliseconds() as f64 / 1000.0),
                _ => None,
            },
            status: r.status.clone(),
            // Each step's kind, target, status and counts (what a person reads of it), not its
            // run, seconds or error: those are the run's.
            counts: r.counts.as_ref().map(|c| {
                let mut c = c.clone();
                if let Some(steps) = c.get_mut("steps").and_then(Json::as_array_mut) {
                    for s in steps {
                        if let Some(o) = s.as_object_mut() {
                            o.retain(|k, _| {
                                matches!(k.as_str(), "step" | "target" | "status" | "counts")
                            });
                        }
                    }
                }
                c
            }),
            error: r.error.clone(),
        }),
        next_at: job.next_after(now).map(time_text),
        failures_in_a_row: failures,
        missed_slots,
        first_missed_at: first_missed.map(time_text),
        running,
        attention,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use affsync_core::model::RunId;
    use chrono::TimeZone;
    use std::path::Path;

    fn config() -> JobsConfig {
        JobsConfig::parse(
            Path::new("affsync.toml"),
            "lock_stale_after_s = 30\n[[jobs]]\nname = \"n\"\nschedule = \"0 0 2 * * *\"\nsteps = [ { pull = [\"L\"] } ]\n",
        )
        .unwrap()
    }

    fn run(id: i64, started: &str, status: &str) -> RunRow {
        RunRow {
            id: RunId(id),
            kind: "job".into(),
            job: Some("n".into()),
            started_at: started.into(),
            ended_at: (status != "running").then(|| started.replace(":00.000Z", ":30.000Z")),
            status: status.into(),
            counts: Some(serde_json::json!({"new": 2, "steps": []})),
            api_calls: 3,
            error: (status == "failed").then(|| "boom".into()),
        }
    }

    #[test]
    fn jobs_that_miss_their_slot_or_keep_failing_stand_out() {
        let c = config();
        let job = &c.jobs[0];
        let now = Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap();
        let today = "2026-11-21T02:00:00.000Z";
        let yesterday = "2026-11-20T02:00:00.000Z";
        let long_ago = "2026-11-17T02:00:00.000Z";
        let alive = Holder {
            holder: "h:1:x".into(),
            run_id: None,
            acquired_at: "2026-11-21T11:59:50.000Z".into(),
            heartbeat_at: "2026-11-21T11:59:55.000Z".into(),
        };
        let dead = Holder {
            heartbeat_at: "2026-11-21T11:00:00.000Z".into(),
            ..alive.clone()
        };
        struct Case<'a> {
            runs: Vec<RunRow>,
            holder: Option<&'a Holder>,
            missed: usize,
            failures: usize,
            attention: &'a [&'a str],
        }
        let cases = [
            Case {
                runs: vec![],
                holder: None,
                missed: 0,
                failures: 0,
                attention: &[],
            },
            Case {
                runs: vec![run(2, today, "ok")],
                holder: None,
                missed: 0,
                failures: 0,
                attention: &[],
            },
            Case {
                runs: vec![run(2, yesterday, "ok")],
                holder: None,
                missed: 1,
                failures: 0,
                attention: &["missed 1 run since 2026-11-21T02:00:00.000Z"],
            },
            Case {
                runs: vec![run(2, long_ago, "ok")],
                holder: None,
                missed: 4,
                failures: 0,
                attention: &["missed 4 runs"],
            },
            Case {
                runs: vec![run(2, yesterday, "running")],
                holder: Some(&alive),
                missed: 0,
                failures: 0,
                attention: &[],
            },
            Case {
                runs: vec![run(2, yesterday, "running")],
                holder: Some(&dead),
                missed: 1,
                failures: 0,
                attention: &["missed 1 run", "no heartbeat"],
            },
            Case {
                runs: vec![
                    run(3, today, "failed"),
                    run(2, yesterday, "failed"),
                    run(1, long_ago, "ok"),
                ],
                holder: None,
                missed: 0,
                failures: 2,
                attention: &["failed 2 times in a row"],
            },
            Case {
                runs: vec![run(3, today, "failed"), run(2, yesterday, "ok")],
                holder: None,
                missed: 0,
                failures: 1,
                attention: &["the last run failed"],
            },
            Case {
                runs: vec![run(4, today, "running"), run(3, yesterday, "failed")],
                holder: Some(&alive),
                missed: 0,
                failures: 1,
                attention: &["the last run failed"],
            },
        ];
        for (i, c2) in cases.iter().enumerate() {
            let s = assess(job, &c2.runs, c2.holder, &c, now);
            assert_eq!(s.missed_slots, c2.missed, "case {i}");
            assert_eq!(s.failures_in_a_row, c2.failures, "case {i}");
            assert_eq!(
                s.attention.len(),
                c2.attention.len(),
                "case {i}: {:?}",
                s.attention
            );
            for (got, want) in s.attention.iter().zip(c2.attention) {
                assert!(got.contains(want), "case {i}: {got} ≠ {want}");
            }
            assert_eq!(s.next_at.as_deref(), Some("2026-11-22T02:00:00.000Z"));
        }
        let s = assess(job, &[run(2, today, "ok")], None, &c, now);
        let last = s.last_run.unwrap();
        assert_eq!(last.seconds, Some(30.0));
        assert_eq!(
            last.counts,
            Some(serde_json::json!({"new": 2, "steps": []}))
        );
    }
}
