//! The alert a failed run posts to its job's webhook: one JSON object, a short timeout; a
//! webhook that cannot be reached is logged, never fatal (the run's outcome is in the journal
//! either way).

use std::time::Duration;

use serde::Serialize;

/// How long a webhook may take to answer.
pub const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(5);

/// What a webhook receives.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    /// Always `job_failed`.
    pub event: &'static str,
    pub job: String,
    pub run: i64,
    pub status: String,
    pub error: String,
    /// The step that failed (`pull`, `push`, ...), when one did.
    pub step: Option<String>,
    pub started_at: String,
    pub ended_at: String,
    /// Failed runs in a row, this one included.
    pub failures_in_a_row: usize,
    /// The machine that ran it.
    pub host: String,
}

/// Posts an alert; an unreachable webhook or an error status is logged as an error.
pub async fn post(http: &reqwest::Client, webhook: &url::Url, alert: &Alert) {
    let result = http
        .post(webhook.clone())
        .timeout(WEBHOOK_TIMEOUT)
        .json(alert)
        .send()
        .await
        .and_then(|r| r.error_for_status());
    match result {
        Ok(_) => tracing::info!(job = %alert.job, run = alert.run, "alert posted to the webhook"),
        Err(e) => tracing::error!(
            job = %alert.job,
            run = alert.run,
            webhook = %redact(webhook),
            error = %e,
            "cannot post the alert to the webhook"
        ),
    }
}

/// A webhook address without its query and credentials (they often hold a token).
pub fn redact(u: &url::Url) -> String {
    let mut u = u.clone();
    let _ = u.set_password(None);
    let _ = u.set_username("");
    if u.query().is_some() {
        u.set_query(Some("***"));
    }
    u.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_tokens_stay_out_of_logs() {
        for (url, want) in [
            (
                "https://hooks.example.com/a?token=s3cr3t",
                "https://hooks.example.com/a?***",
            ),
            (
                "https://u:pw@hooks.example.com/a",
                "https://hooks.example.com/a",
            ),
            ("http://127.0.0.1:9000/hook", "http://127.0.0.1:9000/hook"),
        ] {
            assert_eq!(redact(&url::Url::parse(url).unwrap()), want);
        }
    }
}
