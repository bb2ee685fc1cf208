//! `affsync rate-limit`: the per-minute and monthly budgets, what is left and when they reset.

use serde_json::json;

use super::api::{human_secs, table, ApiOnly};
use affinity_crm::{v1, Limit};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub api: ApiOnly,
    /// Print JSON for programs instead of a table.
    #[arg(long)]
    pub json: bool,
}

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
        let client = self.api.client()?;
        // v1's `/rate-limit` reports the monthly quota even when it is unlimited, and does
        // not count against it (affinity-api.md §4).
        let limits = client.rate_limit_v1().await?;
        out!("{}", render(&limits, self.json));
        Ok(())
    }
}

fn quota_json(q: &v1::Quota) -> serde_json::Value {
    json!({
        "limit": q.limit.count(),
        "remaining": q.remaining.count(),
        "used": q.used,
        "reset_seconds": q.reset,
        "unlimited": q.limit == Limit::Unlimited,
    })
}

pub fn render(r: &v1::RateLimit, as_json: bool) -> String {
    let (minute, month) = (&r.rate.api_key_per_minute, &r.rate.org_monthly);
    if as_json {
        let v = json!({ "per_minute": quota_json(minute), "monthly": quota_json(month) });
        return serde_json::to_string_pretty(&v).unwrap() + "\n";
    }
    let row = |name: &str, q: &v1::Quota| {
        vec![
            name.to_string(),
            q.limit.to_string(),
            q.used.map(|u| u.to_string()).unwrap_or_else(|| "-".into()),
            q.remaining.to_string(),
            q.reset.map(human_secs).unwrap_or_else(|| "-".into()),
        ]
    };
    table(
        &["budget", "limit", "used", "remaining", "resets in"],
        &[
            row("per minute (this key)", minute),
            row("monthly (account)", month),
        ],
    )
}
