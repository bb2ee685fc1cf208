//! `affsync review`: the page (driven in headless Chromium when it is installed), its safety
//! (loopback or a token, CSRF on POSTs, record content escaped), and `review list | decide`;
//! the verdicts reach the next push.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use affsync::store::Store;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::common::{TestEmu, KEY};

async fn run(t: &TestEmu, dir: &Path, db: &str, args: &[&str]) -> (i32, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_affsync"))
        .args(args)
        .arg("--database-url")
        .arg(db)
        .current_dir(dir)
        .env("AFFINITY_API_KEY", KEY)
        .env("AFFINITY_BASE_URL", t.emu.base_url())
        .env("RUST_LOG", "warn")
        .env_remove("AFFSYNC_REVIEW_TOKEN")
        .output()
        .await
        .expect("affsync runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const XSS: &str = "<script>alert(1)</script>";

/// R1, R2 and R3 are close to tenant organizations (201, 202, 203), and `accept = 1.0` sends
/// every fuzzy match to review; X1 is like nothing.
fn source() -> String {
    format!(
        "source_id,company_name,website,headcount
R1,Analytical Engines Ltd,,120
R2,Cobol Systems Inc,,40
R3,Acme Global Holdings,,7
X1,{XSS},,3
"
    )
}

const MAPPING: &str = r#"version = 1
entity = "organization"

[source]
path = "companies.csv"
id = "source_id"

[match]
search_term = "website"
accept = 1.0                   # a probability: no fuzzy match is sure enough, a person decides
review = 0.5
[[match.compare]]
source = "company_name"
affinity = "name"

[push]
mode = "create_update"
add_to_list = "Deal Flow"

[[fields]]
source = "headcount"
affinity = "Headcount"
type = "number"
"#;

fn json(out: &str) -> serde_json::Value {
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// An emulator, a folder with the mapping and `companies` as its source, a pulled mirror.
async fn pulled(companies: &str) -> (TestEmu, tempfile::TempDir, String) {
    let t = TestEmu::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("m.db").display());
    std::fs::write(dir.path().join("companies.csv"), companies).unwrap();
    std::fs::write(dir.path().join("m.toml"), MAPPING).unwrap();
    let (code, _, err) = run(&t, dir.path(), &db, &["pull", "--all-lists"]).await;
    assert_eq!(code, 0, "{err}");
    (t, dir, db)
}

/// An emulator, a folder with the mapping and its source, a pulled and matched mirror.
async fn setup() -> (TestEmu, tempfile::TempDir, String) {
    let (t, dir, db) = pulled(&source()).await;
    let (code, out, err) = run(&t, dir.path(), &db, &["match", "m.toml", "--json"]).await;
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    assert_eq!(v["review"], 3, "R1, R2, R3 in review: {v}");
    assert_eq!(v["unmatched"], 1, "X1 unmatched: {v}");
    (t, dir, db)
}

/// A running `affsync review serve`, killed when dropped.
struct Server {
    _child: tokio::process::Child,
    url: String,
}

async fn serve(dir: &Path, db: &str, extra: &[&str]) -> Server {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_affsync"))
        .args(["review", "serve", "--port", "0", "--database-url", db])
        .args(extra)
        .current_dir(dir)
        .env("RUST_LOG", "warn")
        .env_remove("AFFSYNC_REVIEW_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("affsync review serve starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(std::time::Duration::from_secs(60), lines.next_line())
        .await
        .expect("the server says where it listens")
        .unwrap()
        .expect("a line");
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .trim_end_matches("?token=…")
        .to_string();
    Server { _child: child, url }
}

/// Chromium, for the test that is ignored without it.
fn chromium() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .flat_map(|d| ["chromium", "chromium-browser"].map(|n| d.join(n)))
        .find(|p| p.is_file())
        .expect("no `chromium` or `chromium-browser` on PATH (the tests were built with one, or with AFFSYNC_REQUIRE_BROWSER set)")
}

/// Chromium's flags for a throwaway headless run (root in a container needs no sandbox).
fn chromium_cmd(bin: &Path, profile: &Path) -> tokio::process::Command {
    let mut c = tokio::process::Command::new(bin);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-extensions",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .stderr(Stdio::null());
    c
}

async fn dump_dom(bin: &Path, profile: &Path, url: &str) -> String {
    let out = chromium_cmd(bin, profile)
        .arg("--dump-dom")
        .arg(url)
        .output()
        .await
        .expect("chromium runs");
    assert!(out.status.success(), "chromium failed on {url}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The value of the first `name="NAME" value="..."` input.
fn input_value(html: &str, name: &str) -> String {
    let key = format!("name=\"{name}\" value=\"");
    let at = html.find(&key).unwrap_or_else(|| panic!("no input {name}")) + key.len();
    html[at..at + html[at..].find('"').unwrap()].to_string()
}

/// The HTML of the section of source record `id`.
fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("data-source-id=\"{id}\""))
        .unwrap_or_else(|| panic!("{id} is not on the page"));
    let end = start + html[start..].find("</section>").unwrap();
    &html[start..end]
}

fn first_candidate(section: &str) -> String {
    let key = "data-affinity-id=\"";
    let at = section.find(key).expect("a candidate") + key.len();
    section[at..at + section[at..].find('"').unwrap()].to_string()
}

fn progress(html: &str) -> (i64, i64) {
    let attr = |name: &str| -> i64 {
        let key = format!("{name}=\"");
        let at = html.find(&key).unwrap() + key.len();
        html[at..at + html[at..].find('"').unwrap()]
            .parse()
            .unwrap()
    };
    (attr("data-reviewed"), attr("data-remaining"))
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// POSTs a form as the page's button would; gives the status.
async fn post(http: &reqwest::Client, url: &str, form: &[(&str, &str)]) -> u16 {
    let resp = http
        .post(url)
        .header("cookie", "affsync_reviewer=Ada%20Lovelace")
        .form(form)
        .send()
        .await
        .unwrap();
    resp.status().as_u16()
}

/// The push's plan of each source record.
async fn dry_push(t: &TestEmu, dir: &Path, db: &str) -> serde_json::Value {
    let (code, out, err) = run(t, dir, db, &["push", "m.toml", "--dry-run", "--json"]).await;
    assert_eq!(code, 0, "{out}\n{err}");
    json(&out)
}

fn action_of(push: &serde_json::Value, id: &str) -> String {
    push["records_detail"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["source_id"] == id)
        .unwrap_or_else(|| panic!("{id} not in {push}"))["action"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
#[cfg_attr(
    not(has_chromium),
    ignore = "needs `chromium` or `chromium-browser` on PATH"
)]
async fn review_page_in_chromium_accept_create_reject_then_push_follows() {
    let bin = chromium();
    let (t, dir, db) = setup().await;
    let server = serve(dir.path(), &db, &["--reviewer", "fallback"]).await;
    let profile = tempfile::tempdir().unwrap();
    let queue_url = format!("{}?mapping=m.toml", server.url);

    // The queue as the browser shows it.
    let html = dump_dom(&bin, profile.path(), &queue_url).await;
    assert!(html.contains("4 remaining"), "{html}");
    assert_eq!(progress(&html), (0, 4));
    let r1 = section(&html, "R1");
    assert!(r1.contains("Analytical Engines Ltd"), "{r1}");
    let accept = first_candidate(r1);
    assert_eq!(accept, "201", "{r1}");
    assert!(
        r1.contains("Analytical Engines") && r1.contains("analytical.io"),
        "the candidate's record from the mirror: {r1}"
    );
    for id in ["R2", "R3", "X1"] {
        section(&html, id);
    }
    let csrf = input_value(&html, "csrf");
    assert_eq!(csrf.len(), 32);

    // The page's forms, as the buttons post them.
    let http = no_redirects();
    let decide_url = format!("{}decide", server.url);
    for (id, verdict, aid) in [
        ("R1", "accept", accept.as_str()),
        ("R2", "create", ""),
        ("R3", "reject", ""),
    ] {
        let status = post(
            &http,
            &decide_url,
            &[
                ("csrf", &csrf),
                ("mapping", "m.toml"),
                ("source_id", id),
                ("verdict", verdict),
                ("affinity_id", aid),
                ("back", "mapping=m.toml"),
            ],
        )
        .await;
        assert_eq!(status, 303, "{id} {verdict}");
    }
    // A form without the server's token changes nothing.
    let status = post(
        &http,
        &decide_url,
        &[
            ("csrf", "0000"),
            ("mapping", "m.toml"),
            ("source_id", "X1"),
            ("verdict", "reject"),
        ],
    )
    .await;
    assert_eq!(status, 403);

    let html = dump_dom(&bin, profile.path(), &queue_url).await;
    assert_eq!(progress(&html), (3, 1));
    assert!(html.contains("data-source-id=\"X1\""));
    assert!(
        !html.contains("data-source-id=\"R1\""),
        "decided records leave the open queue"
    );
    let decided = dump_dom(
        &bin,
        profile.path(),
        &format!("{}?mapping=m.toml&status=decided", server.url),
    )
    .await;
    let r1 = section(&decided, "R1");
    assert!(
        r1.contains("accepted 201") && r1.contains("Ada Lovelace"),
        "{r1}"
    );
    assert!(section(&decided, "R2").contains("create new"));
    assert!(section(&decided, "R3").contains("not a match"));
    assert!(r1.contains("Undo"), "a decision can be undone: {r1}");

    // A picture of the page, kept as an artifact.
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("review.png");
    let shot = chromium_cmd(&bin, profile.path())
        .arg("--window-size=1280,1600")
        .arg(format!("--screenshot={}", target.display()))
        .arg(format!("{}?mapping=m.toml&status=all", server.url))
        .output()
        .await
        .unwrap();
    assert!(shot.status.success());
    assert!(target.is_file(), "{}", target.display());
    eprintln!("screenshot: {}", target.display());

    // The journal says who decided what.
    let store = Store::open(&db).await.unwrap();
    let runs = store.runs(20).await.unwrap();
    let mut decided_events = Vec::new();
    for r in runs.iter().filter(|r| r.kind == "review") {
        decided_events.extend(store.events(r.id).await.unwrap());
    }
    assert_eq!(decided_events.len(), 3);
    let r1_event = decided_events
        .iter()
        .find(|e| e.event.record == "src:R1")
        .unwrap();
    let affsync_core::journal::Step::ReviewDecided(detail) = &r1_event.event.step else {
        panic!("not a verdict: {r1_event:?}");
    };
    assert_eq!(detail.verdict.as_deref(), Some("accept"));
    assert_eq!(detail.affinity_id.as_deref(), Some("201"));
    assert_eq!(detail.decided_by.as_deref(), Some("Ada Lovelace"));
    assert_eq!(r1_event.event.mapping.as_deref(), Some("m.toml"));

    // The next push follows the reviewers.
    let v = dry_push(&t, dir.path(), &db).await;
    let r1 = action_of(&v, "R1");
    assert!(r1 == "updated" || r1 == "unchanged", "{r1}: {v}");
    assert_eq!(action_of(&v, "R2"), "created", "{v}");
    assert_eq!(action_of(&v, "R3"), "rejected", "{v}");
    assert_eq!(v["rejected"], 1, "{v}");
}

#[tokio::test]
async fn review_page_shows_a_script_tag_in_a_record_as_text() {
    let (_t, dir, db) = setup().await;
    let server = serve(dir.path(), &db, &[]).await;
    let resp = reqwest::get(format!("{}?status=unmatched", server.url))
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let csp = resp
        .headers()
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    let html = resp.text().await.unwrap();
    let x1 = section(&html, "X1");
    assert!(x1.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{x1}");
    assert!(
        !html.contains(XSS),
        "the record reached the page as markup: {html}"
    );
}

#[tokio::test]
async fn review_serve_refuses_an_open_address_without_a_token_and_checks_the_token() {
    let t = TestEmu::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("m.db").display());
    for bind in ["0.0.0.0", "::"] {
        let (code, _, err) = run(
            &t,
            dir.path(),
            &db,
            &["review", "serve", "--bind", bind, "--port", "0"],
        )
        .await;
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("--token") && err.contains("hint:"), "{err}");
    }

    // A token too short to be a secret is refused.
    let (code, _, err) = run(
        &t,
        dir.path(),
        &db,
        &["review", "serve", "--port", "0", "--token", "s3cret"],
    )
    .await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("at least 16") && err.contains("hint:"),
        "{err}"
    );

    // With a token, every request needs it: a `?token=` link sets the cookie, and the
    // address drops the token.
    const TOKEN: &str = "s3cret-0123456789abcdef";
    let server = serve(dir.path(), &db, &["--token", TOKEN]).await;
    let http = no_redirects();
    let status = |r: reqwest::Response| r.status().as_u16();
    assert_eq!(status(http.get(&server.url).send().await.unwrap()), 401);
    assert_eq!(
        status(
            http.get(format!("{}?token=wrong", server.url))
                .send()
                .await
                .unwrap()
        ),
        401
    );
    let r = http
        .get(format!("{}?token={TOKEN}&status=review", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303, "a redirect that drops the token");
    assert_eq!(r.headers()["location"], "/?status=review");
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.starts_with(&format!("affsync_token={TOKEN};")) && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    let with_cookie = http
        .get(&server.url)
        .header("cookie", format!("affsync_token={TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(status(with_cookie), 200);
    let with_header = http
        .get(&server.url)
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(status(with_header), 200);
    let post = http
        .post(format!("{}decide", server.url))
        .form(&[
            ("csrf", "x"),
            ("mapping", "m"),
            ("source_id", "s"),
            ("verdict", "reject"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        status(post),
        401,
        "no token: refused before the form is read"
    );
}

/// A page on another site that rebinds its name to 127.0.0.1 names its own host and origin:
/// refused before it can read the form token or decide a record. Notices in an address someone
/// else made are not shown.
#[tokio::test]
async fn review_serve_refuses_a_foreign_host_and_a_cross_origin_request() {
    let (_t, dir, db) = setup().await;
    let server = serve(dir.path(), &db, &[]).await;
    let http = no_redirects();
    let ok = http.get(&server.url).send().await.unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    let foreign = http
        .get(&server.url)
        .header("host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status().as_u16(), 421, "a foreign Host");
    let post = http
        .post(format!("{}decide", server.url))
        .header("host", "evil.example")
        .header("origin", "http://evil.example")
        .form(&[
            ("csrf", "x"),
            ("mapping", "m.toml"),
            ("source_id", "R1"),
            ("verdict", "reject"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(post.status().as_u16(), 421);
    let cross = http
        .post(format!("{}decide", server.url))
        .header("origin", "http://evil.example")
        .form(&[
            ("csrf", "x"),
            ("mapping", "m.toml"),
            ("source_id", "R1"),
            ("verdict", "reject"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status().as_u16(), 403, "a cross-origin Origin");
    let page = http
        .get(format!(
            "{}?notice=Your%20session%20expired%2C%20call%20us",
            server.url
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !page.contains("session expired"),
        "a notice the server did not make is not shown"
    );
}

#[tokio::test]
async fn review_list_and_decide_from_the_terminal_and_match_uses_the_verdicts() {
    let (t, dir, db) = setup().await;
    let (code, out, err) = run(
        &t,
        dir.path(),
        &db,
        &["review", "list", "--mapping", "m.toml", "--json"],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    assert_eq!(v["total"], 4, "{v}");
    assert_eq!(
        (v["reviewed"].as_i64(), v["remaining"].as_i64()),
        (Some(0), Some(4))
    );
    let r2 = v["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["source_id"] == "R2")
        .unwrap();
    assert_eq!(r2["status"], "review");
    assert_eq!(r2["candidates"][0]["affinity_id"], "202", "{r2}");
    assert_eq!(r2["record"]["company_name"], "Cobol Systems Inc");

    let decide = |args: &[&str]| {
        let mut a = vec!["review", "decide"];
        a.extend_from_slice(args);
        a.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    for (args, want) in [
        (
            decide(&[
                "R2",
                "--mapping",
                "m.toml",
                "--accept",
                "202",
                "--reviewer",
                "cli",
            ]),
            0,
        ),
        (decide(&["R3", "--mapping", "m.toml", "--reject"]), 0),
        (decide(&["X1", "--mapping", "m.toml", "--create"]), 0),
        // Unknown record, unknown Affinity id, nothing to undo, no verdict: bad input.
        (decide(&["NOPE", "--mapping", "m.toml", "--reject"]), 2),
        (
            decide(&["R1", "--mapping", "m.toml", "--accept", "999999"]),
            2,
        ),
        (decide(&["R1", "--mapping", "m.toml", "--undo"]), 2),
        (decide(&["R1", "--mapping", "m.toml"]), 2),
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, out, err) = run(&t, dir.path(), &db, &args).await;
        assert_eq!(code, want, "{args:?}: {out}{err}");
        if want == 2 && args.len() > 4 {
            assert!(err.contains("error:"), "{err}");
        }
    }
    let (code, out, _) = run(
        &t,
        dir.path(),
        &db,
        &["review", "list", "--status", "decided"],
    )
    .await;
    assert_eq!(code, 0);
    assert!(
        out.contains("accept Cobol Systems (organization 202)")
            && out.contains("3 reviewed, 1 remaining"),
        "{out}"
    );

    // The next match uses the verdicts without asking again.
    let (code, out, err) = run(&t, dir.path(), &db, &["match", "m.toml", "--json"]).await;
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    assert_eq!(v["matched_by_reviewer"], 1, "{v}");
    assert_eq!(v["review"], 1, "only R1 is left: {v}");
    let store = Store::open(&db).await.unwrap();
    let d = store.decisions(Some("m.toml")).await.unwrap();
    let r2 = d.iter().find(|d| d.source_id == "R2").unwrap();
    assert_eq!(
        (r2.status.as_str(), r2.affinity_id.as_deref()),
        ("matched", Some("202"))
    );
    // Still listed as decided after the rematch, and undone from the terminal.
    let (code, _, err) = run(
        &t,
        dir.path(),
        &db,
        &["review", "decide", "R2", "--mapping", "m.toml", "--undo"],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let reviews = store.reviews(Some("m.toml")).await.unwrap();
    assert_eq!(reviews.len(), 2);
    let v = dry_push(&t, dir.path(), &db).await;
    assert_eq!(action_of(&v, "R3"), "rejected", "{v}");
    assert_eq!(action_of(&v, "X1"), "created", "{v}");
    assert_eq!(
        action_of(&v, "R2"),
        "awaiting_review",
        "undone: back in review: {v}"
    );
}

/// A record whose best candidates score 0.00 (nothing of it agrees with them) is queued as
/// unmatched with none of them offered to accept: not in `review list`, not as an "Accept"
/// button on the page, which says why and points to the mirror's search; the matcher's
/// reason still names the best of them with its score.
#[tokio::test]
async fn candidates_that_score_nothing_are_not_offered_to_a_reviewer() {
    let (t, dir, db) = pulled(
        "source_id,company_name,website,headcount\nR2,Cobol Systems Inc,,40\nZ1,Engineering Consultants of Lisbon,,3\n",
    )
    .await;
    let (code, out, err) = run(&t, dir.path(), &db, &["match", "m.toml", "--json"]).await;
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    let z1 = v["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["source_id"] == "Z1")
        .unwrap_or_else(|| panic!("Z1 decided: {v}"));
    assert_eq!(z1["status"], "unmatched", "{z1}");
    let reason = z1["reason"].as_str().unwrap();
    assert!(
        reason.contains("best candidate") && reason.contains("scored 0.00"),
        "the matcher found candidates, each scoring 0.00: {z1}"
    );

    let (code, out, err) = run(&t, dir.path(), &db, &["review", "list", "--json"]).await;
    assert_eq!(code, 0, "{err}");
    let records = json(&out)["records"].as_array().unwrap().clone();
    let of = |id: &str| {
        records
            .iter()
            .find(|r| r["source_id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(of("Z1")["candidates"], serde_json::json!([]), "{out}");
    assert_eq!(of("R2")["candidates"][0]["affinity_id"], "202", "{out}");

    let server = serve(dir.path(), &db, &[]).await;
    let page = reqwest::get(&server.url)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let z1 = section(&page, "Z1");
    assert!(z1.contains("Engineering Consultants"), "{z1}");
    assert!(!z1.contains("Accept "), "no candidate to accept: {z1}");
    assert!(
        z1.contains("no candidates offered") && z1.contains("score 0.00"),
        "the page says why: {z1}"
    );
    assert!(z1.contains("Search the mirror"), "{z1}");
    assert!(
        section(&page, "R2").contains("Accept "),
        "R2 keeps its candidate"
    );
}

/// A record queued as unmatched (its organization is not in the mirror) leaves the queue and
/// the page once a push finds it by its search term in Affinity; a queued record the push
/// creates leaves them too.
#[tokio::test]
async fn a_record_decided_by_key_after_being_queued_leaves_the_queue_and_the_page() {
    let t = TestEmu::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("m.db").display());
    std::fs::write(
        dir.path().join("companies.csv"),
        "source_id,company_name,website,headcount\nK1,Cobol Systems,cobol.dev,40\nK2,Quillwort Labs,quillwort.example,3\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("m.toml"),
        "version = 1\nentity = \"organization\"\n[source]\npath = \"companies.csv\"\nid = \"source_id\"\n\
         [match]\nsearch_term = \"website\"\n[[match.compare]]\nsource = \"company_name\"\naffinity = \"name\"\n\
         [push]\nmode = \"create_update\"\n\
         [[fields]]\nsource = \"company_name\"\naffinity = \"name\"\ntype = \"text\"\n",
    )
    .unwrap();
    // Only the person list: the mirror knows no organization.
    let (code, _, err) = run(&t, dir.path(), &db, &["pull", "--list", "LPs"]).await;
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = run(&t, dir.path(), &db, &["match", "m.toml", "--json"]).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(json(&out)["unmatched"], 2, "{out}");
    let queued = |out: &str| -> Vec<String> {
        json(out)["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["source_id"].as_str().unwrap().to_string())
            .collect()
    };
    let (code, out, err) = run(&t, dir.path(), &db, &["review", "list", "--json"]).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(queued(&out), ["K1", "K2"], "{out}");
    {
        let server = serve(dir.path(), &db, &[]).await;
        let page = reqwest::get(&server.url)
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("K1") && page.contains("K2"),
            "both on the page"
        );
    }

    // The push finds K1 by its domain in Affinity, and creates K2.
    let (code, out, err) = run(&t, dir.path(), &db, &["push", "m.toml", "--json"]).await;
    assert_eq!(code, 0, "{out}\n{err}");
    let v = json(&out);
    assert_eq!(v["found_in_affinity"], 1, "{v}");
    assert_eq!(v["created"], 1, "{v}");
    let (code, out, err) = run(&t, dir.path(), &db, &["review", "list", "--json"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(queued(&out).is_empty(), "the queue is empty: {out}");
    let server = serve(dir.path(), &db, &[]).await;
    let page = reqwest::get(&server.url)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !page.contains(">K1<") && !page.contains(">K2<") && !page.contains("Quillwort"),
        "neither is on the page"
    );
}

/// A verdict accepting a record Affinity then merged follows the survivor, as pull does; one
/// accepting a record Affinity then deleted is dropped, and its record is open again, with
/// the reason journaled.
#[tokio::test]
async fn verdicts_follow_merges_and_reopen_when_their_record_is_gone() {
    let (t, dir, db) = setup().await;
    for (sid, id) in [("R1", "201"), ("R3", "203")] {
        let (code, out, err) = run(
            &t,
            dir.path(),
            &db,
            &[
                "review",
                "decide",
                sid,
                "--mapping",
                "m.toml",
                "--accept",
                id,
            ],
        )
        .await;
        assert_eq!(code, 0, "{out}{err}");
    }
    // What a pull would learn: 201 merged into 202, 203 deleted.
    let store = Store::open(&db).await.unwrap();
    let run_id = store
        .start_run(
            affsync_core::journal::RunKind::Pull,
            None,
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    let org = affsync_core::model::Kind::Organization;
    store
        .flag_entity_gone(run_id, org, 201, Some(202), chrono::Utc::now())
        .await
        .unwrap();
    store
        .flag_entity_gone(run_id, org, 203, None, chrono::Utc::now())
        .await
        .unwrap();
    store.close().await;

    let (code, out, err) = run(&t, dir.path(), &db, &["match", "m.toml", "--json"]).await;
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    assert_eq!(v["matched_by_reviewer"], 1, "R1, on the survivor: {v}");
    let store = Store::open(&db).await.unwrap();
    let d = store.decisions(Some("m.toml")).await.unwrap();
    let by = |sid: &str| d.iter().find(|d| d.source_id == sid).unwrap().clone();
    assert_eq!(by("R1").affinity_id.as_deref(), Some("202"));
    assert_eq!(by("R1").method.as_deref(), Some("reviewer"));
    assert_ne!(by("R3").status, "matched", "R3 is open again");
    let reviews = store.reviews(Some("m.toml")).await.unwrap();
    assert!(reviews
        .iter()
        .any(|r| r.source_id == "R1" && r.affinity_id.as_deref() == Some("202")));
    assert!(
        !reviews.iter().any(|r| r.source_id == "R3"),
        "R3's verdict is gone"
    );
    let runs = store.runs(1).await.unwrap();
    let events = store.events(runs[0].id).await.unwrap();
    assert!(events.iter().any(|e| e.event.record == "src:R1"
        && matches!(&e.event.step, affsync_core::journal::Step::VerdictFollowedMerge { to, .. } if to == "202")));
    assert!(events.iter().any(|e| e.event.record == "src:R3"
        && matches!(
            e.event.step,
            affsync_core::journal::Step::VerdictReopened { .. }
        )));
}

/// The keys' endpoints are the page's forms: the script sends them with fetch, and they need
/// the form token as every POST does; a decision needs a reviewer's name; the policy lets the
/// script fetch from the page's origin and nowhere else.
#[tokio::test]
async fn the_keys_endpoints_need_the_form_token_and_a_name_and_the_policy_allows_only_self() {
    let (t, dir, db) = setup().await;
    let server = serve(dir.path(), &db, &[]).await;
    let http = no_redirects();
    let resp = http.get(&server.url).send().await.unwrap();
    let csp = resp.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(
        csp,
        "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    );
    let html = resp.text().await.unwrap();
    let csrf = input_value(&html, "csrf");
    let script = http
        .get(format!("{}app.js", server.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        script.contains("keydown") && script.contains("fetch("),
        "{script}"
    );

    let send = |path: &str, form: Vec<(&str, String)>, cookie: bool| {
        let mut rb = http
            .post(format!("{}{path}", server.url))
            .header("x-affsync-fetch", "1")
            .form(&form);
        if cookie {
            rb = rb.header("cookie", "affsync_reviewer=Ada");
        }
        async move { rb.send().await.unwrap().status().as_u16() }
    };
    let record = |csrf: &str, verdict: &str| {
        vec![
            ("csrf", csrf.to_string()),
            ("mapping", "m.toml".to_string()),
            ("source_id", "R1".to_string()),
            ("verdict", verdict.to_string()),
            ("affinity_id", "201".to_string()),
            ("at", "0".to_string()),
        ]
    };
    for bad in ["", "0000", &csrf[..31]] {
        for (path, form) in [
            ("decide", record(bad, "accept")),
            ("decide-same", record(bad, "reject")),
            ("undo-last", vec![("csrf", bad.to_string())]),
            (
                "accept-above",
                vec![
                    ("csrf", bad.to_string()),
                    ("min_score", "0".into()),
                    ("max_records", "10".into()),
                ],
            ),
            (
                "reviewer",
                vec![("csrf", bad.to_string()), ("name", "Mallory".into())],
            ),
        ] {
            assert_eq!(send(path, form, true).await, 403, "{path} with `{bad}`");
        }
    }
    // With the token but no name: refused too.
    assert_eq!(send("decide", record(&csrf, "accept"), false).await, 400);
    assert_eq!(
        send("undo-last", vec![("csrf", csrf.clone())], false).await,
        400
    );
    let (code, out, _) = run(&t, dir.path(), &db, &["review", "list", "--json"]).await;
    assert_eq!(code, 0);
    assert_eq!(json(&out)["reviewed"], 0, "nothing was decided: {out}");

    // With both, the same requests decide, and `undo-last` undoes the last of them.
    assert_eq!(send("decide", record(&csrf, "accept"), true).await, 303);
    assert_eq!(
        send("undo-last", vec![("csrf", csrf.clone())], true).await,
        303
    );
    assert_eq!(
        send("decide-same", record(&csrf, "reject"), true).await,
        303
    );
    let (_, out, _) = run(
        &t,
        dir.path(),
        &db,
        &["review", "list", "--status", "decided", "--json"],
    )
    .await;
    let v = json(&out);
    let decided: Vec<(&str, &str)> = v["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["source_id"].as_str().unwrap(),
                r["verdict"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(decided, [("R1", "reject")], "{v}");

    // The history keeps all three, signed.
    let page = http
        .get(format!(
            "{}?mapping=m.toml&status=decided&fm=m.toml&fs=R1",
            server.url
        ))
        .header("cookie", "affsync_reviewer=Ada")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r1 = section(&page, "R1");
    let history = &r1[r1.find("History (3)").expect("three events")..];
    for what in ["reject", "undone (was accept 201)", "accept"] {
        assert!(history.contains(what), "{what}: {history}");
    }
    assert_eq!(history.matches(" by Ada").count(), 3, "{history}");
}

/// The page compares field by field: the source's value beside each candidate's, each
/// coloured by agreement, and facets count the queue.
#[tokio::test]
async fn the_page_compares_field_by_field_and_counts_facets() {
    let (_t, dir, db) = setup().await;
    let server = serve(dir.path(), &db, &["--affinity-subdomain", "acme"]).await;
    let html = reqwest::get(format!("{}?mapping=m.toml&fm=m.toml&fs=R1", server.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r1 = section(&html, "R1");
    let at = html.find("data-source-id=\"R1\"").unwrap();
    let open_tag = &html[html[..at].rfind("<section").unwrap()..at];
    assert!(
        open_tag.contains("class=\"item focus\""),
        "R1 is focused: {open_tag}"
    );
    let row = &r1[r1
        .find("data-column=\"company_name\"")
        .expect("a row per field")..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(row.contains("Analytical Engines Ltd"), "source: {row}");
    assert!(
        row.contains("data-agreement=\"same\"") || row.contains("data-agreement=\"close\""),
        "the best candidate's name agrees: {row}"
    );
    let site = &r1[r1
        .find("data-column=\"website\"")
        .expect("the search term too")..];
    let site = &site[..site.find("</tr>").unwrap()];
    assert!(
        site.contains("data-agreement=\"missing\""),
        "no website: {site}"
    );
    assert!(
        r1.contains("href=\"https://acme.affinity.co/companies/201\""),
        "the candidate links into Affinity: {r1}"
    );
    // Facets: 3 in review, 1 unmatched, by fuzzy; none decided.
    let facet = |name: &str, value: &str| -> String {
        let f = &html[html
            .find(&format!("data-facet=\"{name}\""))
            .unwrap_or_else(|| panic!("no facet {name}"))..];
        let v = &f[f
            .find(&format!("data-value=\"{value}\""))
            .unwrap_or_else(|| panic!("no {value} in {name}"))..];
        let c = &v[v.find("class=\"count\">").unwrap() + 14..];
        c[..c.find('<').unwrap()].to_string()
    };
    assert_eq!(facet("status", "review"), "3");
    assert_eq!(facet("status", "unmatched"), "1");
    assert_eq!(facet("status", "decided"), "0");
    assert_eq!(facet("status", "open"), "4");
    let methods: i64 = ["fuzzy", "key", "none"]
        .iter()
        .filter(|m| html.contains(&format!("data-value=\"{m}\"")))
        .map(|m| facet("method", m).parse::<i64>().unwrap())
        .sum();
    assert_eq!(methods, 4);
    // Selecting a facet narrows the list and keeps the counts of the others.
    let only = reqwest::get(format!(
        "{}?mapping=m.toml&status=unmatched&view=list",
        server.url
    ))
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    assert!(only.contains("data-source-id=\"X1\"") && !only.contains("data-source-id=\"R1\""));
    assert!(only.contains("data-view=\"list\""));
    // The preview says how many records an accept-above would decide.
    let preview = reqwest::get(format!("{}?mapping=m.toml&preview_min=0", server.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(preview.contains("data-records=\"3\""), "three in review");
}
