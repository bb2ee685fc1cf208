//! `push_mapping`: bulk writes through the push planner. A mapping file (the same TOML as
//! `affsync push` takes, checked against the field catalog) names the records and their
//! fields; the plan is the push's dry run (each record's action and fields old → new, the calls
//! it will make), and applying it is the push itself, journaled per record in a push run of
//! its own beside the `mcp` run that names the assistant.

use std::collections::BTreeSet;
use std::path::PathBuf;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Value as Json};

use super::{parse, McpServer, ToolError};
use crate::push::apply::Quiet;
use crate::push::{push, PushOptions, PushReport};
use affsync_core::mapping::Mapping;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PushMappingArgs {
    /// A mapping file (TOML, as `affsync push` takes), absolute or relative to the folder the
    /// server was started in; its `[source]` names the records.
    #[schemars(length(min = 1), example = &"mappings/companies.toml")]
    pub mapping: String,
    /// Only these source records, by their id column (all when left out).
    pub only: Option<Vec<String>>,
}

impl McpServer {
    fn push_mapping_of(&self, args: &PushMappingArgs) -> Result<Mapping, ToolError> {
        let path = PathBuf::from(&args.mapping);
        let loaded = match &self.inner.options.mapping_root {
            Some(root) => crate::mapping_identity::load(&path, root),
            None => crate::io::load_mapping(&path),
        };
        loaded.map_err(|e| ToolError::diag(&e))
    }

    async fn run_push(&self, args: Json, dry_run: bool) -> Result<PushReport, ToolError> {
        let a: PushMappingArgs = parse(args)?;
        let mapping = self.push_mapping_of(&a)?;
        let opts = PushOptions {
            dry_run,
            only: a.only.map(|o| o.into_iter().collect::<BTreeSet<_>>()),
            ..PushOptions::default()
        };
        push(self.store(), self.client()?, &mapping, &opts, &Quiet)
            .await
            .map_err(|e| ToolError::diag(&e))
    }

    /// The push's dry run: what each record would become, and the calls. Its lookups (term
    /// searches, the values of records on no pulled list) are made now, as a dry run's are.
    pub(super) async fn plan_push_mapping(&self, args: Json) -> Result<(String, Json), ToolError> {
        let r = self.run_push(args, true).await?;
        let c = &r.counts;
        let summary = format!(
            "push `{}`: {} to create, {} to update, {} unchanged, {} awaiting review, {} to fail; {} calls ({} writes)",
            r.mapping,
            c.created,
            c.updated,
            c.unchanged,
            c.awaiting_review,
            c.failed,
            c.estimated_calls,
            c.estimated_write_calls
        );
        Ok((summary, r.summary_json()))
    }

    /// The push itself.
    pub(super) async fn apply_push_mapping(&self, args: Json) -> Result<Json, ToolError> {
        let r = self.run_push(args, false).await?;
        let mut v = r.summary_json();
        v["partial"] = json!(r.partial());
        Ok(v)
    }
}
