//! A fault proxy between affsync and the emulator: it lets a write reach Affinity and then
//! **holds** the answer (so that a kill lands after Affinity wrote) or **loses** it (a 502 after
//! the write, as a gateway does), chosen by method, path and ordinal. The emulator's own
//! `--fault-rate` fails requests before they run, so it never produces "written but not
//! confirmed"; this does.
//!
//! Also: a tenant's content as a set of lines (names, domains and emails, field values, list
//! memberships, notes and calls; no ids or timestamps), to compare a tenant after a crash and a
//! rerun with one clean run.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::State;
use axum::http::{Request, Response, StatusCode};
use tokio::sync::Notify;

use affinity_crm_emulator::Emulator;

/// What to do with a matching request's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forward the request (Affinity writes), then never answer.
    Hold,
    /// Forward the request (Affinity writes), then answer 502 Bad Gateway.
    Lose,
}

/// The `nth` (from 1) request with this method whose path starts with `path`.
#[derive(Debug, Clone)]
pub struct Rule {
    pub method: &'static str,
    pub path: &'static str,
    pub nth: usize,
    pub fault: Fault,
}

struct Shared {
    upstream: String,
    http: reqwest::Client,
    rules: Mutex<Vec<(Rule, usize)>>,
    held: AtomicUsize,
    held_now: Notify,
    faulted: AtomicUsize,
}

/// A running proxy; its address is [`Proxy::url`].
pub struct Proxy {
    shared: Arc<Shared>,
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Proxy {
    /// A proxy on 127.0.0.1 in front of `emu`, applying `rules`.
    pub async fn start(emu: &Emulator, rules: Vec<Rule>) -> Proxy {
        let shared = Arc::new(Shared {
            upstream: emu.base_url(),
            http: reqwest::Client::new(),
            rules: Mutex::new(rules.into_iter().map(|r| (r, 0)).collect()),
            held: AtomicUsize::new(0),
            held_now: Notify::new(),
            faulted: AtomicUsize::new(0),
        });
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Proxy { shared, url, task }
    }

    /// Waits until a request's answer is being held (its write done in Affinity).
    pub async fn held(&self) {
        loop {
            let notified = self.shared.held_now.notified();
            if self.shared.held.load(Ordering::SeqCst) > 0 {
                return;
            }
            tokio::time::timeout(std::time::Duration::from_secs(60), notified)
                .await
                .expect("a request was held within 60 s");
        }
    }

    /// How many answers were held or lost.
    pub fn faulted(&self) -> usize {
        self.shared.faulted.load(Ordering::SeqCst)
    }
}

async fn forward(State(s): State<Arc<Shared>>, req: Request<Body>) -> Response<Body> {
    let method = req.method().clone();
    let path_q = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let path = req.uri().path().to_string();
    let fault = {
        let mut rules = s.rules.lock().unwrap();
        let mut hit = None;
        for (rule, seen) in rules.iter_mut() {
            if rule.method == method.as_str() && path.starts_with(rule.path) {
                *seen += 1;
                if *seen == rule.nth {
                    hit = Some(rule.fault);
                }
            }
        }
        hit
    };
    let headers = req.headers().clone();
    let body = axum::body::to_bytes(req.into_body(), 64 << 20)
        .await
        .unwrap_or_default();
    let mut up = s
        .http
        .request(method, format!("{}{}", s.upstream, path_q))
        .body(body);
    for (k, v) in headers.iter() {
        if k != "host" && k != "content-length" {
            up = up.header(k, v);
        }
    }
    let answer = up.send().await;
    match fault {
        Some(Fault::Hold) => {
            s.faulted.fetch_add(1, Ordering::SeqCst);
            s.held.fetch_add(1, Ordering::SeqCst);
            s.held_now.notify_waiters();
            std::future::pending::<()>().await;
            unreachable!()
        }
        Some(Fault::Lose) => {
            s.faulted.fetch_add(1, Ordering::SeqCst);
            Response::builder()
                .status(StatusCode::BAD_GATEWAY)
                .body(Body::from("<html>502 Bad Gateway</html>"))
                .unwrap()
        }
        None => match answer {
            Ok(a) => {
                let mut b = Response::builder().status(a.status().as_u16());
                for (k, v) in a.headers() {
                    if k != "content-length" && k != "transfer-encoding" {
                        b = b.header(k, v);
                    }
                }
                b.body(Body::from(a.bytes().await.unwrap_or_default()))
                    .unwrap()
            }
            Err(_) => Response::builder()
                .status(StatusCode::BAD_GATEWAY)
                .body(Body::empty())
                .unwrap(),
        },
    }
}

/// A tenant's content as lines, without ids or timestamps: what "equal to one clean run"
/// compares.
pub fn content(emu: &Emulator) -> BTreeSet<String> {
    let st = emu.shared.tenant();
    let org_name = |id: i64| {
        st.organizations
            .get(&id)
            .map(|o| format!("org {}", o.name))
            .or_else(|| {
                st.persons.get(&id).map(|p| {
                    format!(
                        "person {} {}",
                        p.first_name,
                        p.last_name.as_deref().unwrap_or("")
                    )
                })
            })
            .or_else(|| st.opportunities.get(&id).map(|o| format!("opp {}", o.name)))
            .unwrap_or_else(|| format!("? {id}"))
    };
    let mut out = BTreeSet::new();
    let mut dupes = Vec::new();
    let mut add = |line: String, out: &mut BTreeSet<String>| {
        if !out.insert(line.clone()) {
            dupes.push(line);
        }
    };
    for o in st.organizations.values() {
        let mut d = o.domains.clone();
        d.sort();
        add(format!("org {} {}", o.name, d.join(",")), &mut out);
    }
    for p in st.persons.values() {
        let mut e = p.emails.clone();
        e.sort();
        add(
            format!(
                "person {} {} {}",
                p.first_name,
                p.last_name.as_deref().unwrap_or(""),
                e.join(",")
            ),
            &mut out,
        );
    }
    for o in st.opportunities.values() {
        add(format!("opp {} on {}", o.name, o.list_id), &mut out);
    }
    for e in st.list_entries.values() {
        add(
            format!("entry {} on {}", org_name(e.entity_id), e.list_id),
            &mut out,
        );
    }
    for v in st.field_values.values() {
        add(
            format!(
                "value {} {} {:?}",
                org_name(v.entity_id),
                v.field_id,
                v.value
            ),
            &mut out,
        );
    }
    for n in st.notes.values() {
        let mut who: Vec<String> = n.person_ids.iter().map(|p| org_name(*p)).collect();
        who.sort();
        add(format!("note {} {}", n.content, who.join(",")), &mut out);
    }
    for i in st.interactions.values() {
        let mut who: Vec<String> = i.person_ids.iter().map(|p| org_name(*p)).collect();
        who.sort();
        add(
            format!("interaction {} {} {}", i.kind, i.date, who.join(",")),
            &mut out,
        );
    }
    // A record written twice shows as a duplicate line: keep them visible.
    for d in dupes {
        out.insert(format!("DUPLICATE {d}"));
    }
    out
}
