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
    /// Each member's per-minute budget too (`[[members]]` in `affsync.toml`): each key has
    /// its own.
    #[arg(long)]
    pub all_members: bool,
}

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
        let client = self.api.client()?;
        // v1's `/rate-limit` reports the monthly quota even when it is unlimited, and does
        // not count against it (affinity-api.md §4).
        let limits = client.rate_limit_v1().await?;
        if !self.all_members {
            out!("{}", render(&limits, self.json));
            return Ok(());
        }
        let settings = super::db::resolve(&self.api.file, None, Some(&self.api.api))?;
        let members = settings.file.map(|f| f.members).unwrap_or_default();
        if members.is_empty() {
            return Err(super::Problem::bad_input(
                "`--all-members`: the settings have no `[[members]]`",
                "add `[[members]]` to `affsync.toml` (see the README's members section), or leave `--all-members` out",
            )
            .into());
        }
        // Each key asked at once: each answer is that key's own window.
        let answers = futures::future::join_all(members.iter().map(|m| async {
            let c = affsync::members::client_of(m, &client).map_err(anyhow::Error::msg)?;
            c.0.rate_limit_v1()
                .await
                .map_err(|e| anyhow::Error::msg(affsync::members::refused(&m.name, &e)))
        }))
        .await;
        let rows: Vec<(String, Result<v1::RateLimit, String>)> =
            std::iter::once(("default key".to_string(), Ok(limits)))
                .chain(
                    members.iter().zip(answers).map(|(m, a)| {
                        (format!("member `{}`", m.name), a.map_err(|e| e.to_string()))
                    }),
                )
                .collect();
        out!("{}", render_members(&rows, self.json));
        Ok(())
    }
}

/// Each key's per-minute budget, and the account's monthly one (the default key's reading).
fn render_members(rows: &[(String, Result<v1::RateLimit, String>)], as_json: bool) -> String {
    if as_json {
        let keys: Vec<serde_json::Value> = rows
            .iter()
            .map(|(who, r)| match r {
                Ok(r) => json!({"key": who, "per_minute": quota_json(&r.rate.api_key_per_minute)}),
                Err(e) => json!({"key": who, "error": e}),
            })
            .collect();
        let monthly = rows[0]
            .1
            .as_ref()
            .ok()
            .map(|r| quota_json(&r.rate.org_monthly));
        let v = json!({ "keys": keys, "monthly": monthly });
        return serde_json::to_string_pretty(&v).unwrap() + "\n";
    }
    let mut out: Vec<Vec<String>> = rows
        .iter()
        .map(|(who, r)| match r {
            Ok(r) => quota_row(&format!("per minute ({who})"), &r.rate.api_key_per_minute),
            Err(e) => vec![
                format!("per minute ({who})"),
                format!("unreadable: {e}"),
                String::new(),
                String::new(),
                String::new(),
            ],
        })
        .collect();
    if let Ok(r) = &rows[0].1 {
        out.push(quota_row("monthly (account)", &r.rate.org_monthly));
    }
    table(&["budget", "limit", "used", "remaining", "resets in"], &out)
}

fn quota_row(name: &str, q: &v1::Quota) -> Vec<String> {
    vec![
        name.to_string(),
        q.limit.to_string(),
        q.used.map(|u| u.to_string()).unwrap_or_else(|| "-".into()),
        q.remaining.to_string(),
        q.reset.map(human_secs).unwrap_or_else(|| "-".into()),
    ]
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
    table(
        &["budget", "limit", "used", "remaining", "resets in"],
        &[
            quota_row("per minute (this key)", minute),
            quota_row("monthly (account)", month),
        ],
    )
}
