//! What every server affsync runs (the review page, the webhook listener, the MCP server over
//! HTTP) checks before anything else: the `Host` a request names must be the address it is
//! served on, a loopback name, or a public host it was told about, and an `Origin`, when sent,
//! must be one of those too. A page on another site that rebinds its DNS name to 127.0.0.1
//! names its own host, and is refused before it can read a form token or post a decision.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The hosts a server answers to (without ports).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHosts {
    hosts: Vec<String>,
}

impl AllowedHosts {
    /// The hosts of a server bound on `bind`: its address, the loopback names when it is a
    /// loopback address, and `extra` (the host of a `--public-url`, allowed host names).
    pub fn for_bind(bind: SocketAddr, extra: &[String]) -> AllowedHosts {
        let mut hosts = vec![host_of_ip(bind.ip())];
        if bind.ip().is_loopback() || bind.ip().is_unspecified() {
            hosts.extend(["localhost", "127.0.0.1", "[::1]"].map(str::to_string));
        }
        hosts.extend(extra.iter().map(|h| h.trim().to_ascii_lowercase()));
        hosts.sort();
        hosts.dedup();
        AllowedHosts { hosts }
    }

    /// Whether a `Host` (or an origin's host), with or without its port, is allowed.
    pub fn allows(&self, host_and_port: &str) -> bool {
        let h = strip_port(host_and_port.trim()).to_ascii_lowercase();
        self.hosts.contains(&h)
    }
}

fn host_of_ip(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    }
}

/// `example.com:8080` → `example.com`; `[::1]:80` → `[::1]`.
fn strip_port(h: &str) -> &str {
    if h.starts_with('[') {
        return h.find(']').map_or(h, |i| &h[..=i]);
    }
    match h.rsplit_once(':') {
        Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host,
        _ => h,
    }
}

/// The host of a URL's authority (`https://review.fund.vc:8443/x` → `review.fund.vc`).
pub fn url_host(url: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    let host = u.host_str()?;
    Some(if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_ascii_lowercase()
    })
}

/// The middleware: 421 for a foreign `Host`, 403 for a cross-origin `Origin`.
pub async fn check(State(allowed): State<Arc<AllowedHosts>>, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| req.uri().authority().map(|a| a.to_string()));
    match host {
        Some(h) if allowed.allows(&h) => {}
        _ => {
            return (
                StatusCode::MISDIRECTED_REQUEST,
                "this server does not answer to that host name\n",
            )
                .into_response()
        }
    }
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        let ok = origin
            .to_str()
            .ok()
            .filter(|o| *o != "null")
            .and_then(url_host)
            .is_some_and(|h| allowed.allows(&h));
        if !ok {
            return (StatusCode::FORBIDDEN, "cross-origin requests are refused\n").into_response();
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_servers_answer_to_loopback_names_only() {
        let a = AllowedHosts::for_bind("127.0.0.1:8765".parse().unwrap(), &[]);
        for ok in [
            "127.0.0.1:8765",
            "localhost:8765",
            "LOCALHOST",
            "[::1]:8765",
            "127.0.0.1",
        ] {
            assert!(a.allows(ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:8765",
            "127.0.0.2:8765",
            "localhost.evil.example",
        ] {
            assert!(!a.allows(bad), "{bad}");
        }
    }

    #[test]
    fn a_public_host_is_allowed_when_named() {
        let public = url_host("https://Review.Fund.vc:8443/queue").unwrap();
        assert_eq!(public, "review.fund.vc");
        let a = AllowedHosts::for_bind("10.0.0.5:8765".parse().unwrap(), &[public]);
        assert!(a.allows("review.fund.vc"));
        assert!(a.allows("10.0.0.5:8765"));
        assert!(!a.allows("localhost:8765"), "not bound on loopback");
        assert_eq!(url_host("http://[::1]:80/").as_deref(), Some("[::1]"));
    }
}
