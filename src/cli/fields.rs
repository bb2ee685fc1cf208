//! `affsync fields [--list NAME] [--json]`: the field catalog, read from Affinity: what a
//! mapping file's `[[fields]]` may name.

use serde_json::json;

use super::api::{table, ApiOnly};
use super::Problem;
use affsync::catalog::{scope, writable};
use affsync_core::mapping::convert::field_type_words;
use affsync_core::model::FieldRow;

#[derive(Debug, clap::Args)]
#[command(after_long_help = "Examples:
  affsync fields
  affsync fields --list \"Deal Flow\"
  affsync fields --list 180026 --json")]
pub struct Args {
    /// Only the fields a list's entries carry (its own and its kind's global ones), by name or
    /// id.
    #[arg(long, value_name = "NAME_OR_ID")]
    pub list: Option<String>,
    /// Print JSON: `{\"fields\": [{\"name\", \"id\", \"type\", \"value_type\", \"multiple\",
    /// \"scope\", \"list\", \"kind\", \"options\", \"writable\", \"why_not\"}]}`.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub api: ApiOnly,
}

/// The type in words, without its article: `multi-valued dropdown`.
fn type_words(f: &FieldRow) -> String {
    let w = field_type_words(f);
    let w = w
        .strip_prefix("an ")
        .or_else(|| w.strip_prefix("a "))
        .unwrap_or(&w);
    w.strip_suffix(" field").unwrap_or(w).to_string()
}

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
        let client = self.api.client()?;
        let live = affsync::catalog::fetch(&client).await?;
        let c = &live.catalog;
        let mut fields: Vec<&FieldRow> = match &self.list {
            Some(name) => {
                let Some(list) = c.find_list(name) else {
                    let names: Vec<String> = c.lists.iter().map(|l| l.name.clone()).collect();
                    return Err(Problem::bad_input(
                        format!("no list `{name}` in Affinity"),
                        format!(
                            "its lists are {} (`affsync lists` shows them with their ids)",
                            names
                                .iter()
                                .map(|n| format!("`{n}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )
                    .into());
                };
                let ids = c.list_fields.get(&list.id).cloned().unwrap_or_default();
                c.fields.iter().filter(|f| ids.contains(&f.id)).collect()
            }
            None => c.fields.iter().collect(),
        };
        // Global fields first, by kind, then each list's, each by name.
        fields.sort_by_key(|f| (f.list_id.is_some(), scope(c, f), f.name.to_lowercase()));
        if self.json {
            let out: Vec<_> = fields
                .iter()
                .map(|f| {
                    let w = writable(f);
                    json!({
                        "name": f.name,
                        "id": f.id,
                        "type": type_words(f),
                        "value_type": f.value_type,
                        "multiple": f.allows_multiple,
                        "scope": if f.list_id.is_some() { "list" } else { "global" },
                        "list": f.list_id.and_then(|id| c.list_by_id(id)).map(|l| l.name.clone()),
                        "list_id": f.list_id,
                        "kind": f.entity_kind.map(|k| k.as_str()),
                        "field_type": f.field_type,
                        "options": f.options.iter().map(|o| o.text.clone()).collect::<Vec<_>>(),
                        "writable": w.is_ok(),
                        "why_not": w.err(),
                    })
                })
                .collect();
            outln!(
                "{}",
                serde_json::to_string_pretty(&json!({ "fields": out }))?
            );
            return Ok(());
        }
        let rows: Vec<Vec<String>> = fields
            .iter()
            .map(|f| {
                vec![
                    f.name.clone(),
                    f.id.clone(),
                    type_words(f),
                    scope(c, f),
                    options_text(f),
                    match writable(f) {
                        Ok(()) => "yes".into(),
                        Err(why) => format!("no: {why}"),
                    },
                ]
            })
            .collect();
        out!(
            "{}",
            table(
                &["name", "id", "type", "scope", "options", "writable"],
                &rows
            )
        );
        Ok(())
    }
}

/// A dropdown's options in a table cell: the first five, then how many more (`--json` has
/// them all).
fn options_text(f: &FieldRow) -> String {
    const SHOWN: usize = 5;
    if f.options.is_empty() {
        return "-".into();
    }
    let mut t: Vec<String> = f
        .options
        .iter()
        .take(SHOWN)
        .map(|o| o.text.clone())
        .collect();
    if f.options.len() > SHOWN {
        t.push(format!("… {} more", f.options.len() - SHOWN));
    }
    t.join(", ")
}
