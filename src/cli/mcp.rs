//! `affsync mcp`: Affinity and the mirror as tools for AI agents (Model Context Protocol), on
//! stdio (desktop assistants start it) or streamable HTTP (`--http PORT`).

use std::net::IpAddr;

use affsync::mcp::http::{self, HttpOptions};
use affsync::mcp::{McpServer, Options, ToolError};
use rmcp::ServiceExt;

use super::api::ApiArgs;
use super::db::DbArgs;
use super::Problem;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Let the write tools plan and apply writes (each applied only with its plan's token).
    /// Without it they refuse, and every other tool works.
    #[arg(long)]
    pub allow_writes: bool,
    /// Serve streamable HTTP on this port (at `/mcp`) instead of stdio; 0 picks a free one.
    #[arg(long, value_name = "PORT")]
    pub http: Option<u16>,
    /// The address `--http` listens on; any but a loopback address needs `--token`.
    #[arg(long, default_value = "127.0.0.1", requires = "http")]
    pub bind: IpAddr,
    /// A secret of at least 16 characters every HTTP request must carry as
    /// `Authorization: Bearer TOKEN`.
    #[arg(long, env = "AFFSYNC_MCP_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub api: ApiArgs,
}

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
        let http_opts = self.http.map(|port| HttpOptions {
            bind: self.bind,
            port,
            token: self.token.clone(),
        });
        if let Some(o) = &http_opts {
            http::check(o).map_err(|e| bad(&e))?;
        }
        let settings = self.db.with_api(&self.api)?;
        let store = settings.open_store().await?;
        // The mirror tools work without a key; the live ones say how to set it.
        let client = settings.client().map_err(|e| {
            let (_, hint) = super::diagnose(&e);
            ToolError::new(
                format!("{e:#}").lines().next().unwrap_or_default().to_string(),
                hint.unwrap_or_else(|| {
                    "export `AFFINITY_API_KEY=<key>` (Affinity: Settings > API) and start the server again".into()
                }),
            )
        });
        let server = McpServer::new(
            store,
            client,
            Options {
                allow_writes: self.allow_writes,
                mapping_root: Some(settings.mapping_root().value),
            },
        );
        let writes = if self.allow_writes {
            "on (planned, then applied with the plan's token)"
        } else {
            "off"
        };
        match http_opts {
            None => {
                tracing::info!(tools = server.tools().len(), writes, "affsync mcp on stdio");
                let running = server
                    .serve(rmcp::transport::stdio())
                    .await
                    .map_err(|e| anyhow::anyhow!("the MCP session did not start: {e}"))?;
                running.waiting().await?;
                Ok(())
            }
            Some(opts) => {
                let with_token = opts.token.is_some();
                let tools = server.tools().len();
                http::serve(
                    server,
                    opts,
                    move |addr| {
                        let host = match addr.ip() {
                            IpAddr::V6(ip) => format!("[{ip}]"),
                            IpAddr::V4(ip) => ip.to_string(),
                        };
                        println!(
                            "affsync mcp: http://{host}:{}/mcp ({tools} tools, writes {writes}{})",
                            addr.port(),
                            if with_token {
                                ", bearer token required"
                            } else {
                                ""
                            }
                        );
                    },
                    async {
                        let _ = tokio::signal::ctrl_c().await;
                    },
                )
                .await
                .map_err(|e| bad(&e))
            }
        }
    }
}

fn bad(e: &http::HttpError) -> anyhow::Error {
    use affsync_core::diagnostic::{Diagnose, ErrorClass};
    match e.class() {
        ErrorClass::BadInput => {
            Problem::bad_input(e.to_string(), e.hint().unwrap_or_default()).into()
        }
        _ => anyhow::anyhow!("{e}"),
    }
}
