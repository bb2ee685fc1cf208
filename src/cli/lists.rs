//! `affsync lists [--json]`: the tenant's lists, read from Affinity.

use serde_json::json;

use super::api::{table, ApiOnly};

#[derive(Debug, clap::Args)]
#[command(after_long_help = "Examples:
  affsync lists
  affsync lists --json | jq -r '.lists[].name'")]
pub struct Args {
    /// Print JSON: `{\"lists\": [{\"id\", \"name\", \"kind\", \"entries\", \"fields\"}]}`.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub api: ApiOnly,
}

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
        let client = self.api.client()?;
        let live = affsync::catalog::fetch(&client).await?;
        let c = &live.catalog;
        let rows: Vec<(i64, &str, String, Option<u64>, usize)> = c
            .lists
            .iter()
            .map(|l| {
                let fields = c.list_fields.get(&l.id).map_or(0, Vec::len);
                (
                    l.id,
                    l.name.as_str(),
                    l.kind.to_string(),
                    live.entries.get(&l.id).copied(),
                    fields,
                )
            })
            .collect();
        if self.json {
            let lists: Vec<_> = rows
                .iter()
                .map(|(id, name, kind, entries, fields)| {
                    json!({"id": id, "name": name, "kind": kind, "entries": entries, "fields": fields})
                })
                .collect();
            outln!(
                "{}",
                serde_json::to_string_pretty(&json!({ "lists": lists }))?
            );
            return Ok(());
        }
        if rows.is_empty() {
            outln!("the tenant has no lists");
            return Ok(());
        }
        let cells: Vec<Vec<String>> = rows
            .iter()
            .map(|(id, name, kind, entries, fields)| {
                vec![
                    id.to_string(),
                    name.to_string(),
                    kind.clone(),
                    entries.map_or("-".into(), |n| n.to_string()),
                    fields.to_string(),
                ]
            })
            .collect();
        out!(
            "{}",
            table(&["id", "name", "kind", "entries", "fields"], &cells)
        );
        Ok(())
    }
}
