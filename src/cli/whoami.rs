//! `affsync whoami`: the tenant, user and grant behind the key.

use serde_json::json;

use super::api::{table, ApiOnly};
use affinity_crm::{v2::WhoAmI, Client};

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
        let who = client.whoami_v2().await?;
        out!("{}", render(&who, &client, self.json));
        Ok(())
    }
}

pub fn render(who: &WhoAmI, client: &Client, as_json: bool) -> String {
    let name = [
        who.user.first_name.as_deref(),
        who.user.last_name.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    if as_json {
        let v = json!({
            "tenant": { "id": who.tenant.id, "name": who.tenant.name, "subdomain": who.tenant.subdomain },
            "user": { "id": who.user.id.0, "name": name, "email": who.user.email_address },
            "grant": { "type": who.grant.grant_type, "scopes": who.grant.scopes, "created_at": who.grant.created_at },
            "base_url": client.config().base_url.as_str(),
        });
        return serde_json::to_string_pretty(&v).unwrap() + "\n";
    }
    let rows = vec![
        vec![
            "tenant".into(),
            format!(
                "{} ({}, id {})",
                who.tenant.name,
                who.tenant.subdomain.as_deref().unwrap_or("-"),
                who.tenant.id
            ),
        ],
        vec![
            "user".into(),
            format!(
                "{name} <{}> (id {})",
                who.user.email_address.as_deref().unwrap_or("-"),
                who.user.id
            ),
        ],
        vec![
            "grant".into(),
            format!(
                "{} [{}]",
                who.grant.grant_type.as_deref().unwrap_or("-"),
                who.grant.scopes.join(", ")
            ),
        ],
        vec!["api".into(), client.config().base_url.to_string()],
    ];
    table(&["", ""], &rows)
        .lines()
        .skip(1)
        .map(|l| format!("{l}\n"))
        .collect()
}
