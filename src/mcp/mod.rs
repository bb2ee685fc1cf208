//! `affsync mcp`: Affinity and the mirror as tools for AI agents, over the Model Context
//! Protocol (the official Rust SDK, `rmcp`), on stdio or streamable HTTP.
//!
//! Three groups of tools, each with its own typed input schema:
//!
//! - **Mirror tools** ([`mirror`]) answer from the mirror, with no API call: find a record by
//!   name, domain or email through the matcher's parts ([`find`]), a record with its values,
//!   lists and interaction dates, a list's entries filtered on values, a record's journal
//!   timeline, the runs, the review queue, the catalog. Each answer says how fresh the mirror
//!   is (its last pull).
//! - **Live tools** ([`live`]): one per operation of the typed client, paced by the same
//!   client and its budget; a result that changes an entity teaches the mirror as a push does.
//! - **Write tools** ([`writes`]): off unless the server runs with `--allow-writes`; then each
//!   first answers with a plan (what changes, old → new, the calls it costs) and a token, and
//!   only a second call with the same arguments and that token applies it. Every applied
//!   write is journaled in a run of kind `mcp`, with the assistant's name as its origin.
//!
//! Errors are MCP tool errors (`isError`), with the hints the command line gives.

mod bulk;
pub mod find;
pub mod http;
mod live;
mod mirror;
mod present;
mod schema;
mod writes;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
    ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde::de::DeserializeOwned;
use serde_json::{json, Value as Json};

use crate::store::mcp::Freshness;
use crate::store::{Store, StoreError};
use affinity_crm::Client;
use affsync_core::diagnostic::Diagnose;
use affsync_core::mapping::catalog::Catalog;
use affsync_core::matcher::Kind;

use find::KindIndex;

/// The tool groups, as the README's cost table names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// Answered from the mirror: no API call.
    Mirror,
    /// One operation of the typed client that reads.
    Live,
    /// One operation that writes: planned, then applied with the plan's token.
    Write,
}

impl Group {
    pub fn as_str(self) -> &'static str {
        match self {
            Group::Mirror => "mirror",
            Group::Live => "live",
            Group::Write => "write",
        }
    }
}

/// A tool as the server lists it.
#[derive(Debug, Clone)]
pub struct ToolSpec {
    pub name: &'static str,
    pub group: Group,
    pub tool: Tool,
    /// An argument object the schema accepts, for the schema test and the docs.
    pub example: Json,
}

/// A tool call's failure, as the assistant reads it: the message and the hint the command
/// line would give.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolError {
    pub message: String,
    pub hint: Option<String>,
}

impl std::fmt::Display for ToolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "error: {}", self.message)?;
        if let Some(h) = &self.hint {
            write!(f, "\nhint: {h}")?;
        }
        Ok(())
    }
}

impl ToolError {
    pub fn new(message: impl Into<String>, hint: impl Into<String>) -> ToolError {
        let hint: String = hint.into();
        ToolError {
            message: message.into(),
            hint: (!hint.is_empty()).then_some(hint),
        }
    }

    /// An engine error with its class's hint.
    pub fn diag<E: Diagnose>(e: &E) -> ToolError {
        ToolError {
            message: e.to_string(),
            hint: e.hint(),
        }
    }
}

impl From<StoreError> for ToolError {
    fn from(e: StoreError) -> ToolError {
        ToolError::diag(&e)
    }
}

impl From<affinity_crm::Error> for ToolError {
    /// The client's messages carry their own `hint:` line, as the command line prints them.
    fn from(e: affinity_crm::Error) -> ToolError {
        ToolError::new(e.to_string(), "")
    }
}

/// How `affsync mcp` runs.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Write tools plan and apply; without it they refuse.
    pub allow_writes: bool,
    /// What mapping identities are relative to (the settings' `mapping_root`), for
    /// `push_mapping`; without it a mapping is identified as `affsync push` without settings.
    pub mapping_root: Option<crate::mapping_identity::MappingRoot>,
}

/// What the mirror tools read from, rebuilt when the journal moves.
pub struct Snapshot {
    pub mark: i64,
    pub catalog: Catalog,
    pub freshness: Freshness,
    pub organizations: KindIndex,
    pub persons: KindIndex,
    pub opportunities: KindIndex,
}

impl Snapshot {
    pub fn index_of(&self, kind: Kind) -> &KindIndex {
        match kind {
            Kind::Organization => &self.organizations,
            Kind::Person => &self.persons,
            Kind::Opportunity => &self.opportunities,
        }
    }

    /// How fresh the mirror is, for every answer of a mirror tool.
    pub fn freshness_json(&self) -> Json {
        let age = self.freshness.last_pull_at.as_deref().and_then(|t| {
            chrono::DateTime::parse_from_rfc3339(t)
                .ok()
                .map(|t| (chrono::Utc::now() - t.with_timezone(&chrono::Utc)).num_seconds())
        });
        json!({
            "last_pull_at": self.freshness.last_pull_at,
            "age_seconds": age,
            "lists": self.freshness.lists.iter().map(|(id, name, at)| json!({
                "list_id": id, "list": name, "last_pulled_at": at,
            })).collect::<Vec<_>>(),
            "note": match &self.freshness.last_pull_at {
                Some(_) => "answered from the mirror (no API call); it is as fresh as its last pull",
                None => "the mirror has never been pulled: run `affsync pull` (or a live tool)",
            },
        })
    }
}

/// A write planned and waiting for its token.
#[derive(Debug, Clone)]
struct Pending {
    tool: String,
    args: Json,
    plan: Json,
    at: std::time::Instant,
}

/// How long a plan's token stays good.
const PLAN_TTL: std::time::Duration = std::time::Duration::from_secs(15 * 60);

struct Inner {
    store: Store,
    client: Result<Client, ToolError>,
    options: Options,
    tools: Vec<ToolSpec>,
    plans: Mutex<HashMap<String, Pending>>,
    snapshot: tokio::sync::Mutex<Option<Arc<Snapshot>>>,
}

/// The MCP server: shared by every session (HTTP) or the one stdio session.
#[derive(Clone)]
pub struct McpServer {
    inner: Arc<Inner>,
}

fn parse<P: DeserializeOwned>(args: Json) -> Result<P, ToolError> {
    let args = if args.is_null() { json!({}) } else { args };
    serde_json::from_value(args).map_err(|e| {
        ToolError::new(
            format!("the arguments do not fit the tool's schema: {e}"),
            "read the tool's input schema: every argument's type and allowed values are there",
        )
    })
}

impl McpServer {
    /// A server over this mirror and this client (`Err`: why there is none, for the live
    /// tools to say; the mirror tools work without a key).
    pub fn new(store: Store, client: Result<Client, ToolError>, options: Options) -> McpServer {
        let mut tools = mirror::specs();
        tools.extend(live::specs());
        tools.extend(writes::specs());
        McpServer {
            inner: Arc::new(Inner {
                store,
                client,
                options,
                tools,
                plans: Mutex::new(HashMap::new()),
                snapshot: tokio::sync::Mutex::new(None),
            }),
        }
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    fn client(&self) -> Result<&Client, ToolError> {
        self.inner.client.as_ref().map_err(Clone::clone)
    }

    /// Every tool, in a stable order.
    pub fn tools(&self) -> &[ToolSpec] {
        &self.inner.tools
    }

    /// The mirror as the mirror tools see it, rebuilt when the journal moved since.
    pub async fn snapshot(&self) -> Result<Arc<Snapshot>, ToolError> {
        let store = &self.inner.store;
        let mark = store.journal_mark().await?;
        let mut slot = self.inner.snapshot.lock().await;
        if let Some(s) = slot.as_ref() {
            if s.mark == mark {
                return Ok(s.clone());
            }
        }
        let catalog = store.catalog().await?;
        let freshness = store.freshness().await?;
        let mut idx = Vec::new();
        for kind in Kind::ALL {
            let cands = store.candidates(kind, &[]).await?;
            idx.push(tokio::task::spawn_blocking(move || {
                KindIndex::build(kind, cands)
            }));
        }
        let mut built = Vec::new();
        for h in idx {
            built.push(
                h.await
                    .map_err(|e| ToolError::new(format!("building the index: {e}"), ""))?,
            );
        }
        let opportunities = built.pop().expect("three kinds");
        let persons = built.pop().expect("three kinds");
        let organizations = built.pop().expect("three kinds");
        let snap = Arc::new(Snapshot {
            mark,
            catalog,
            freshness,
            organizations,
            persons,
            opportunities,
        });
        *slot = Some(snap.clone());
        Ok(snap)
    }

    /// Calls a tool in-process (the MCP handler, the tests and the benchmark go through
    /// here). `origin` is who asks: the MCP client's name, journaled with every write.
    pub async fn call(&self, name: &str, args: Json, origin: &str) -> Result<Json, ToolError> {
        let Some(spec) = self.inner.tools.iter().find(|t| t.name == name) else {
            return Err(ToolError::new(
                format!("no tool `{name}`"),
                "list the tools (`tools/list`) for their names",
            ));
        };
        match spec.group {
            Group::Mirror => self.mirror_call(name, args).await,
            Group::Live => {
                let out = self.live_call(name, args).await?;
                Ok(json!({ "result": out, "api": self.api_note() }))
            }
            Group::Write => self.write_call(name, args, origin).await,
        }
    }

    /// The client's counters, for a live answer: calls made so far and pacing.
    fn api_note(&self) -> Json {
        match self.client() {
            Ok(c) => {
                let s = c.stats();
                json!({ "calls_this_session": s.calls, "paced": s.paced })
            }
            Err(_) => Json::Null,
        }
    }

    async fn write_call(&self, name: &str, args: Json, origin: &str) -> Result<Json, ToolError> {
        if !self.inner.options.allow_writes {
            return Err(ToolError::new(
                format!("`{name}` writes to Affinity, and this server was started without `--allow-writes`"),
                "restart it as `affsync mcp --allow-writes` to plan and apply writes; read tools work as they are",
            ));
        }
        let mut args = if args.is_null() { json!({}) } else { args };
        let token = match args.as_object_mut() {
            Some(o) => o.remove("plan_token"),
            None => None,
        };
        match token {
            None | Some(Json::Null) => {
                let plan = self.plan_write(name, args.clone()).await?;
                let token = new_token();
                let mut plans = self.inner.plans.lock().expect("plans lock");
                plans.retain(|_, p| p.at.elapsed() < PLAN_TTL);
                plans.insert(
                    token.clone(),
                    Pending {
                        tool: name.to_string(),
                        args,
                        plan: plan.clone(),
                        at: std::time::Instant::now(),
                    },
                );
                Ok(json!({
                    "status": "planned",
                    "plan": plan,
                    "plan_token": token,
                    "next": format!("nothing was written. To apply exactly this plan, call `{name}` again with the same arguments and `\"plan_token\": \"{token}\"` (good for 15 minutes, once)"),
                }))
            }
            Some(Json::String(token)) => {
                let pending = {
                    let mut plans = self.inner.plans.lock().expect("plans lock");
                    let p = plans.get(&token).cloned();
                    match &p {
                        Some(p)
                            if p.tool == name && p.args == args && p.at.elapsed() < PLAN_TTL =>
                        {
                            plans.remove(&token);
                        }
                        _ => {}
                    }
                    p
                };
                let Some(p) = pending else {
                    return Err(ToolError::new(
                        "this plan token is unknown, used already, or from another server run",
                        format!("call `{name}` without `plan_token` to plan again"),
                    ));
                };
                if p.tool != name {
                    return Err(ToolError::new(
                        format!("this plan token belongs to `{}`, not `{name}`", p.tool),
                        format!("call `{}` with it, or plan `{name}` again", p.tool),
                    ));
                }
                if p.args != args {
                    return Err(ToolError::new(
                        "the arguments differ from the ones the plan was made for; nothing was written",
                        "send exactly the planned arguments with the token, or plan again without `plan_token`",
                    ));
                }
                if p.at.elapsed() >= PLAN_TTL {
                    return Err(ToolError::new(
                        "this plan is older than 15 minutes; nothing was written",
                        format!("call `{name}` without `plan_token` to plan again"),
                    ));
                }
                let applied = self.apply_write(name, args, &p.plan, origin).await?;
                Ok(json!({ "status": "applied", "plan": p.plan, "result": applied }))
            }
            Some(other) => Err(ToolError::new(
                format!("`plan_token` must be the string a plan gave, not `{other}`"),
                "call the tool without `plan_token` first: its answer has the token",
            )),
        }
    }
}

/// A token no one can guess: 128 random bits.
fn new_token() -> String {
    format!("plan-{:032x}", rand::random::<u128>())
}

/// A tool result as MCP carries it: the JSON as text, and as structured content.
fn result_of(r: Result<Json, ToolError>) -> CallToolResult {
    match r {
        Ok(v) => {
            let text = serde_json::to_string_pretty(&v).unwrap_or_default();
            let mut res = CallToolResult::success(vec![ContentBlock::text(text)]);
            if v.is_object() {
                res.structured_content = Some(v);
            }
            res
        }
        Err(e) => CallToolResult::error(vec![ContentBlock::text(e.to_string())]),
    }
}

/// What the server tells an assistant about itself.
pub const INSTRUCTIONS: &str = "affsync: Affinity CRM and its local mirror. Prefer the mirror tools (find_organization, find_person, find_opportunity, get_record, search_list, record_timeline, list_runs, review_queue, mirror_catalog): they answer from the mirror with no API call and say how fresh it is. Live tools call Affinity (each costs API calls from a budget of 900 a minute shared with the nightly jobs). Write tools first return a plan and a plan_token; nothing is written until the same tool is called again with the same arguments and that plan_token.";

impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        let mut info = ServerConfig::new(ServerCapabilities::builder().enable_tools().build());
        info.server_info = Implementation::new("affsync", env!("CARGO_PKG_VERSION"));
        info.instructions = Some(INSTRUCTIONS.into());
        info
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let mut tools: Vec<Tool> = Vec::with_capacity(self.inner.tools.len());
        let snap = self.snapshot().await.ok();
        for t in &self.inner.tools {
            let mut tool = t.tool.clone();
            if let Some(s) = &snap {
                schema::with_catalog(t.name, &mut tool, &s.catalog);
            }
            tools.push(tool);
        }
        Ok(ListToolsResult::with_all_items(tools))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.inner
            .tools
            .iter()
            .find(|t| t.name == name)
            .map(|t| t.tool.clone())
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let origin = context
            .client_info()
            .map(|c| format!("{} {}", c.name, c.version).trim().to_string())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "an MCP client".into());
        let args = request.arguments.map(Json::Object).unwrap_or(Json::Null);
        let r = self.call(&request.name, args, &origin).await;
        Ok(result_of(r).into())
    }
}

/// Annotations for a group: mirror and live reads are read-only; writes are not.
fn annotations(group: Group, title: &str, destructive: bool) -> ToolAnnotations {
    let a = ToolAnnotations::with_title(title);
    match group {
        Group::Mirror => a.read_only(true).open_world(false),
        Group::Live => a.read_only(true).open_world(true),
        Group::Write => a
            .read_only(false)
            .destructive(destructive)
            .idempotent(false)
            .open_world(true),
    }
}
