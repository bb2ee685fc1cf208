//! `affsync mcp --http PORT`: the server over MCP's streamable HTTP transport, at `/mcp`.
//!
//! It listens on 127.0.0.1 by default, where rmcp's Host check keeps DNS rebinding out. Any
//! other address needs a token of at least 16 characters, and then every request must carry
//! `Authorization: Bearer <token>` (a browser page cannot add it, so the Host check is not
//! needed there).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};

use super::McpServer;
use affsync_core::diagnostic::{Diagnose, ErrorClass};

/// The shortest token a server on another address than loopback takes.
pub const MIN_TOKEN_LEN: usize = 16;

/// Where and how the HTTP server listens.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    pub bind: IpAddr,
    /// 0 picks a free port (printed once listening).
    pub port: u16,
    pub token: Option<String>,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 8766,
            token: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("`--bind {0}` is not a loopback address, and no `--token` was given")]
    TokenNeeded(IpAddr),
    #[error("the token is {0} characters long; it must have at least {MIN_TOKEN_LEN}")]
    TokenTooShort(usize),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the HTTP server stopped: {0}")]
    Serve(std::io::Error),
}

impl Diagnose for HttpError {
    fn class(&self) -> ErrorClass {
        match self {
            HttpError::TokenNeeded(_) | HttpError::TokenTooShort(_) | HttpError::Bind { .. } => {
                ErrorClass::BadInput
            }
            HttpError::Serve(_) => ErrorClass::Failure,
        }
    }
    fn hint(&self) -> Option<String> {
        Some(match self {
            HttpError::TokenNeeded(_) => "pass `--token T` (or set `AFFSYNC_MCP_TOKEN`), at least 16 characters; clients then send `Authorization: Bearer T`. Leave `--bind` out to listen on 127.0.0.1 only".into(),
            HttpError::TokenTooShort(_) => "draw a longer one, e.g. `openssl rand -hex 16`".into(),
            HttpError::Bind { .. } => "pick another port (`--http 0` picks a free one)".into(),
            HttpError::Serve(_) => return None,
        })
    }
}

/// Checks the options: a token for any address but loopback, and long enough.
pub fn check(opts: &HttpOptions) -> Result<(), HttpError> {
    match &opts.token {
        Some(t) if t.chars().count() < MIN_TOKEN_LEN => {
            Err(HttpError::TokenTooShort(t.chars().count()))
        }
        None if !opts.bind.is_loopback() => Err(HttpError::TokenNeeded(opts.bind)),
        _ => Ok(()),
    }
}

async fn require_token(
    State(token): State<Arc<Option<String>>>,
    req: Request,
    next: Next,
) -> Response {
    if let Some(t) = token.as_ref() {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if !given.is_some_and(|g| constant_time_eq(g.as_bytes(), t.as_bytes())) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "send `Authorization: Bearer <token>` with the server's token\n",
            )
                .into_response();
        }
    }
    next.run(req).await
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Serves until `shutdown` resolves; `ready` is told the address once listening.
pub async fn serve(
    server: McpServer,
    opts: HttpOptions,
    ready: impl FnOnce(SocketAddr),
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), HttpError> {
    check(&opts)?;
    let mut config = StreamableHttpServerConfig::default();
    if !opts.bind.is_loopback() {
        // The token guards it; the Host check would refuse the machine's own name.
        config = config.disable_allowed_hosts();
    }
    let ct = config.cancellation_token.clone();
    let service = StreamableHttpService::new(
        move || Ok(server.clone()),
        LocalSessionManager::default().into(),
        config,
    );
    let token = Arc::new(opts.token.clone());
    let app = axum::Router::new()
        .nest_service("/mcp", service)
        .layer(axum::middleware::from_fn_with_state(token, require_token));
    let addr = SocketAddr::new(opts.bind, opts.port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| HttpError::Bind { addr, source })?;
    let local = listener.local_addr().map_err(HttpError::Serve)?;
    ready(local);
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            ct.cancel();
        })
        .await
        .map_err(HttpError::Serve)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_addresses_need_a_long_token() {
        let any: IpAddr = "0.0.0.0".parse().unwrap();
        let cases = [
            (HttpOptions::default(), true),
            (
                HttpOptions {
                    bind: any,
                    ..HttpOptions::default()
                },
                false,
            ),
            (
                HttpOptions {
                    bind: any,
                    token: Some("short".into()),
                    ..HttpOptions::default()
                },
                false,
            ),
            (
                HttpOptions {
                    bind: any,
                    token: Some("0123456789abcdef".into()),
                    ..HttpOptions::default()
                },
                true,
            ),
            (
                HttpOptions {
                    token: Some("tiny".into()),
                    ..HttpOptions::default()
                },
                false,
            ),
        ];
        for (o, ok) in cases {
            assert_eq!(check(&o).is_ok(), ok, "{o:?}");
        }
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
