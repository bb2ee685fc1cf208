//! `affsync match MAPPING [--json] [--out decisions.csv]`: a mapping file's source records
//! against the mirror; the decisions are stored and journaled, and the counts printed.

use std::path::PathBuf;

use anyhow::Context;

use super::db::DbArgs;
use affsync::matching::{run_match, write_decisions};
use affsync_core::matcher::Decision;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The mapping file (its `[source]` and `[match]` sections are used).
    pub mapping: PathBuf,
    /// Print the counts as JSON.
    #[arg(long)]
    pub json: bool,
    /// Also write every decision to this CSV file:
    /// `source_id,status,affinity_id,affinity_name,score,method,reason,contributions`.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Write CSV cells as they are: by default a cell starting with `=`, `+`, `-` or `@` gets a
    /// leading `'`, so that a spreadsheet shows it instead of running it.
    #[arg(long)]
    pub raw_cells: bool,
    #[command(flatten)]
    pub db: DbArgs,
}

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
        let settings = self.db.settings()?;
        let mapping = settings.load_mapping(&self.mapping)?;
        if let Some(out) = &self.out {
            super::out::check_out_folder(out)?;
        }
        let store = settings.open_store().await?;
        let outcome = match run_match(&store, &mapping, None).await {
            Ok(o) => o,
            Err(e) => return Err(e.into()),
        };
        // The name of each decision's Affinity record, for the file and the JSON.
        let names: Vec<Option<String>> = if self.json || self.out.is_some() {
            let id_of = |d: &Decision| d.affinity_id.as_deref()?.parse::<i64>().ok();
            let ids = outcome.decisions.iter().filter_map(id_of).collect();
            let by_id = store.names_by_id(&ids).await?;
            outcome
                .decisions
                .iter()
                .map(|d| by_id.get(&id_of(d)?).map(|(_, n)| n.clone()))
                .collect()
        } else {
            Vec::new()
        };
        if let Some(out) = &self.out {
            write_decisions(out, &outcome.decisions, &names, self.raw_cells)
                .with_context(|| format!("cannot write `{}`", out.display()))?;
        }
        let c = &outcome.counts;
        if self.json {
            let mut v = serde_json::to_value(c)?;
            v["run"] = outcome.run.0.into();
            v["mapping"] = outcome.mapping.clone().into();
            v["decisions"] = outcome
                .decisions
                .iter()
                .zip(&names)
                .map(|(d, name)| {
                    serde_json::json!({
                        "source_id": d.source_id, "row": d.row, "status": d.status.as_str(),
                        "affinity_id": d.affinity_id, "name": name, "score": d.score,
                        "method": d.method.map(|m| m.as_str()), "reason": d.reason,
                    })
                })
                .collect::<Vec<_>>()
                .into();
            outln!("{v}");
        } else {
            outln!("mapping        {}", outcome.mapping);
            outln!("records        {}", c.records);
            outln!("candidates     {}", c.candidates);
            outln!(
                "matched        {} (key {}, fuzzy {}, reviewer {})",
                c.matched,
                c.matched_by_key,
                c.matched_by_fuzzy,
                c.matched_by_reviewer
            );
            outln!("review         {}", c.review);
            outln!("unmatched      {}", c.unmatched);
            outln!("error          {}", c.error);
            outln!("run            {}", outcome.run);
        }
        if let Some(out) = &self.out {
            errln!(
                "wrote {} decisions to {}",
                outcome.decisions.len(),
                out.display()
            );
        }
        Ok(())
    }
}
