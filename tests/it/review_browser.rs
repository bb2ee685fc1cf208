//! The review page driven by a browser that clicks: Chromium through WebDriver (`chromedriver`
//! started on 127.0.0.1 by the test, `fantoccini` as the client). Fifty queued records (the
//! demo tenant and a generated enrichment file of near matches) triaged with keys alone; the
//! focused record and every action visible at 1280×800; every action without script.
//!
//! Built without `chromedriver` and Chromium on PATH, these tests are ignored, saying why (CI's
//! `.ci/run` installs both; `tests/resources/build.rs` looks); `AFFSYNC_REQUIRE_BROWSER=1`
//! makes their absence a failure.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use affinity_crm_emulator::{demo_seed, EmulatorConfig};
use affsync::store::Store;
use affsync_core::model::Kind;
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::common::TestEmu;

fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|d| names.iter().map(move |n| d.join(n)))
        .find(|p| p.is_file())
}

/// Chromium and chromedriver, for the tests that are ignored without them.
fn browser() -> (PathBuf, PathBuf) {
    let found = (
        on_path(&["chromium", "chromium-browser"]),
        on_path(&["chromedriver"]),
    );
    match found {
        (Some(c), Some(d)) => (c, d),
        (c, d) => {
            let missing: Vec<&str> = [(c.is_none(), "chromium"), (d.is_none(), "chromedriver")]
                .into_iter()
                .filter(|(m, _)| *m)
                .map(|(_, n)| n)
                .collect();
            panic!(
                "{} not on PATH, though the tests were built with it or with \
                 AFFSYNC_REQUIRE_BROWSER set (Debian: apt-get install chromium chromium-driver)",
                missing.join(" and ")
            );
        }
    }
}

/// A chromedriver on a free loopback port, killed when dropped.
struct Driver {
    _child: tokio::process::Child,
    url: String,
}

async fn start_driver(bin: &Path) -> Driver {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = tokio::process::Command::new(bin)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("chromedriver starts");
    let url = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    for _ in 0..200 {
        if let Ok(r) = http.get(format!("{url}/status")).send().await {
            if r.status().is_success() {
                return Driver { _child: child, url };
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not answer on {url}");
}

/// A headless Chromium session with its own profile; `script` false disables JavaScript.
async fn session(driver: &Driver, chromium: &Path, profile: &Path, script: bool) -> Client {
    let mut opts = json!({
        "binary": chromium,
        "args": [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--no-first-run", "--disable-extensions", "--window-size=1280,800",
            format!("--user-data-dir={}", profile.display()),
        ],
    });
    if !script {
        opts["prefs"] = json!({ "profile.managed_default_content_settings.javascript": 2 });
    }
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), json!("chrome"));
    caps.insert("goog:chromeOptions".into(), opts);
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a WebDriver session")
}

/// Makes the page's viewport exactly `w`×`h`.
async fn viewport(c: &Client, w: u32, h: u32) {
    c.set_window_size(w, h).await.unwrap();
    let inner = c
        .execute("return [window.innerWidth, window.innerHeight]", vec![])
        .await
        .unwrap();
    let (iw, ih) = (inner[0].as_u64().unwrap(), inner[1].as_u64().unwrap());
    c.set_window_size(w + (w - iw as u32), h + (h - ih as u32))
        .await
        .unwrap();
}

/// A running `affsync review serve`, killed when dropped.
struct Server {
    _child: tokio::process::Child,
    url: String,
}

async fn serve(t: &TestEmu, dir: &Path, db: &str) -> Server {
    let mut child = t
        .affsync(dir, db, &["review", "serve", "--port", "0"])
        .env_remove("AFFSYNC_REVIEW_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("affsync review serve starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
        .await
        .expect("the server says where it listens")
        .unwrap()
        .expect("a line");
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    Server { _child: child, url }
}

const MAPPING: &str = r#"version = 1
entity = "organization"

[source]
path = "companies.csv"
id = "source_id"

[match]
search_term = "website"
accept = 1.0                   # no fuzzy match is sure enough: a person decides
review = 0.5
[[match.compare]]
source = "company_name"
affinity = "name"

[push]
mode = "create_update"
"#;

/// A typo: two neighbouring letters of the name's longest word swapped.
fn typo(name: &str) -> Option<String> {
    let words: Vec<&str> = name.split(' ').collect();
    let (i, w) = words
        .iter()
        .enumerate()
        .filter(|(_, w)| w.chars().all(|c| c.is_ascii_alphabetic()))
        .max_by_key(|(_, w)| w.len())?;
    if w.len() < 6 {
        return None;
    }
    let mut cs: Vec<char> = w.chars().collect();
    let k = cs.len() / 2;
    if cs[k] == cs[k - 1] {
        return None;
    }
    cs.swap(k - 1, k);
    let mut out: Vec<String> = words.iter().map(|w| w.to_string()).collect();
    out[i] = cs.into_iter().collect();
    Some(out.join(" "))
}

/// The folder, the emulator over the demo tenant, a pulled mirror, and 50 records matched:
/// 41 near matches of distinct organizations, 5 identical rows near one more, 4 like nothing.
async fn fifty() -> (TestEmu, tempfile::TempDir, String) {
    let t = TestEmu::with(EmulatorConfig::default(), demo_seed()).await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("m.db").display());
    let (code, _, err) = t.run(dir.path(), &db, &["pull", "--all-lists"]).await;
    assert_eq!(code, 0, "{err}");
    let store = Store::open(&db).await.unwrap();
    let mut orgs = store.candidates(Kind::Organization, &[]).await.unwrap();
    store.close().await;
    orgs.sort_by(|a, b| a.id.cmp(&b.id));
    let mut names: Vec<String> = Vec::new();
    let mut firsts = std::collections::BTreeSet::new();
    for o in &orgs {
        let first = o.name.split(' ').next().unwrap_or("").to_lowercase();
        if let Some(n) = typo(&o.name) {
            // One organization per first word: no two rows near the same names.
            if firsts.insert(first) {
                names.push(n);
            }
        }
    }
    assert!(names.len() >= 42, "{} usable names", names.len());
    let mut rows: Vec<String> = Vec::new();
    for i in 0..50 {
        let name = match i {
            20..=24 => names[41].clone(),
            46..=49 => format!("Qxv{} Zmorblat Wuzzk", ["a", "e", "i", "o"][i - 46]),
            _ => names[if i < 20 {
                i
            } else if i < 46 {
                i - 5
            } else {
                unreachable!()
            }]
            .clone(),
        };
        // Quoted: a name may hold a comma, and an unquoted one is an `error` row.
        rows.push(format!("S{:02},\"{}\",", i + 1, name.replace('"', "\"\"")));
    }
    std::fs::write(
        dir.path().join("companies.csv"),
        format!("source_id,company_name,website\n{}\n", rows.join("\n")),
    )
    .unwrap();
    std::fs::write(dir.path().join("m.toml"), MAPPING).unwrap();
    let (code, out, err) = t.run(dir.path(), &db, &["match", "m.toml", "--json"]).await;
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    let queued = v["review"].as_i64().unwrap() + v["unmatched"].as_i64().unwrap();
    assert_eq!(queued, 50, "all 50 wait for a person: {v}");
    assert!(
        v["review"].as_i64().unwrap() >= 40,
        "the near matches have candidates: {v}"
    );
    (t, dir, db)
}

/// Keys pressed through WebDriver's actions, counted, and the page loads seen between them
/// (by the navigation timing's origin, which a full load renews).
struct Keyboard<'a> {
    c: &'a Client,
    presses: usize,
    origins: Vec<f64>,
}

impl<'a> Keyboard<'a> {
    async fn new(c: &'a Client) -> Keyboard<'a> {
        let mut k = Keyboard {
            c,
            presses: 0,
            origins: Vec::new(),
        };
        k.settle().await;
        k
    }

    async fn origin(&self) -> f64 {
        self.c
            .execute("return performance.timeOrigin", vec![])
            .await
            .unwrap()
            .as_f64()
            .unwrap()
    }

    /// Waits until the page's script has no request in flight, and notes the document.
    async fn settle(&mut self) {
        for _ in 0..300 {
            let busy = self
                .c
                .execute(
                    "return document.readyState !== 'complete' || document.documentElement.dataset.pending === '1'",
                    vec![],
                )
                .await
                .unwrap_or(Value::Bool(true));
            if busy == Value::Bool(false) {
                let o = self.origin().await;
                if self.origins.last() != Some(&o) {
                    self.origins.push(o);
                }
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the page did not settle");
    }

    async fn press(&mut self, key: char) {
        let keys = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key });
        self.c.perform_actions(keys).await.unwrap();
        self.presses += 1;
        self.settle().await;
    }

    fn loads(&self) -> usize {
        self.origins.len()
    }
}

/// The focused record: its source id, and its candidates' ids (best first).
async fn focused(c: &Client) -> Option<(String, Vec<String>)> {
    let v = c
        .execute(
            "var f = document.querySelector('section.item.focus'); if (!f) return null; \
             return [f.dataset.sourceId, Array.prototype.map.call(\
               f.querySelectorAll('.actions button[data-verdict=accept]'), \
               function (b) { return b.form.affinity_id.value; })];",
            vec![],
        )
        .await
        .unwrap();
    if v.is_null() {
        return None;
    }
    let ids = v[1]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect();
    Some((v[0].as_str().unwrap().to_string(), ids))
}

/// The verdicts `review list --status decided` gives: source id → `accept 201`, `create`, ...
async fn verdicts(t: &TestEmu, dir: &Path, db: &str) -> BTreeMap<String, String> {
    let (code, out, err) = t
        .run(
            dir,
            db,
            &["review", "list", "--status", "decided", "--json"],
        )
        .await;
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    v["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let verdict = r["verdict"].as_str().unwrap().to_string();
            let what = match r["verdict_affinity_id"].as_str() {
                Some(id) => format!("{verdict} {id}"),
                None => verdict,
            };
            (r["source_id"].as_str().unwrap().to_string(), what)
        })
        .collect()
}

/// Types a name into the reviewer form, without sending it.
async fn type_name(c: &Client, name: &str) {
    let input = c
        .find(Locator::Css("#reviewer input[name=name]"))
        .await
        .unwrap();
    input.send_keys(name).await.unwrap();
}

/// Types a name and sends it; with script on, the page sends it without a new page (the caller
/// waits for its request to settle).
async fn name_yourself(c: &Client, name: &str) {
    type_name(c, name).await;
    c.find(Locator::Css("#reviewer button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

#[tokio::test]
#[cfg_attr(
    not(has_webdriver),
    ignore = "needs `chromium` and `chromedriver` on PATH"
)]
async fn fifty_records_triaged_by_keys_alone_in_at_most_60_presses_and_one_page_load() {
    let (chromium, chromedriver) = browser();
    let (t, dir, db) = fifty().await;
    let server = serve(&t, dir.path(), &db).await;
    let driver = start_driver(&chromedriver).await;
    let profile = tempfile::tempdir().unwrap();
    let c = session(&driver, &chromium, profile.path(), true).await;
    c.goto(&format!("{}?mapping=m.toml", server.url))
        .await
        .unwrap();
    // The name, typed once (not counted as keys of the triage): sent by the page's script.
    let mut kb = Keyboard::new(&c).await;
    name_yourself(&c, "Ada Lovelace").await;
    kb.settle().await;
    let signed = c.find(Locator::Css("#reviewer-name")).await.unwrap();
    assert_eq!(signed.text().await.unwrap(), "Ada Lovelace");

    // What each record should end as; the skipped one stays open.
    let mut want: BTreeMap<String, String> = BTreeMap::new();
    let mut undone = false;
    let mut bulk = false;
    let mut skipped: Option<String> = None;
    let mut steps = 0;
    while let Some((sid, cands)) = focused(&c).await {
        steps += 1;
        assert!(steps <= 60, "the queue does not empty");
        if skipped.as_deref() == Some(sid.as_str()) {
            break;
        }
        let n: usize = sid[1..].parse().unwrap();
        match n {
            // The five identical rows: `a` then the key decides them all.
            21 if !bulk => {
                let key = if cands.is_empty() { 'n' } else { '1' };
                kb.press('a').await;
                kb.press(key).await;
                for i in 21..=25 {
                    let w = match cands.first() {
                        Some(id) => format!("accept {id}"),
                        None => "create".into(),
                    };
                    want.insert(format!("S{i:02}"), w);
                }
                bulk = true;
            }
            10 if skipped.is_none() => {
                kb.press('s').await;
                skipped = Some(sid.clone());
            }
            // Accepted, then undone and decided again: not a match.
            5 if !undone => {
                kb.press(if cands.is_empty() { 'n' } else { '1' }).await;
                kb.press('u').await;
                let again = focused(&c).await.unwrap().0;
                assert_eq!(again, sid, "the undone record is focused again");
                kb.press('x').await;
                want.insert(sid.clone(), "reject".into());
                undone = true;
            }
            _ if n % 7 == 3 => {
                kb.press('x').await;
                want.insert(sid.clone(), "reject".into());
            }
            _ if cands.is_empty() || n.is_multiple_of(11) => {
                kb.press('n').await;
                want.insert(sid.clone(), "create".into());
            }
            _ => {
                kb.press('1').await;
                want.insert(sid.clone(), format!("accept {}", cands[0]));
            }
        }
    }
    eprintln!(
        "triage: {} key presses, {} page load(s), {} records decided",
        kb.presses,
        kb.loads(),
        want.len()
    );
    assert!(bulk && undone && skipped.is_some());
    assert_eq!(want.len(), 49, "every record but the skipped one");
    assert!(kb.presses <= 60, "{} key presses", kb.presses);
    assert_eq!(kb.loads(), 1, "no full page load after the first");
    let progress = c.find(Locator::Css("#progress")).await.unwrap();
    assert_eq!(
        progress.attr("data-reviewed").await.unwrap().as_deref(),
        Some("49")
    );

    // The verdicts are what was pressed, signed, and the next match uses exactly them.
    assert_eq!(verdicts(&t, dir.path(), &db).await, want);
    let (code, out, err) = t.run(dir.path(), &db, &["match", "m.toml", "--json"]).await;
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    let accepted = want.values().filter(|w| w.starts_with("accept")).count();
    assert_eq!(v["matched_by_reviewer"], accepted, "{v}");
    for d in v["decisions"].as_array().unwrap() {
        let sid = d["source_id"].as_str().unwrap();
        match want.get(sid) {
            Some(w) if w.starts_with("accept ") => {
                assert_eq!(d["status"], "matched", "{d}");
                assert_eq!(d["method"], "reviewer", "{d}");
                assert_eq!(d["affinity_id"].as_str(), w.strip_prefix("accept "), "{d}");
            }
            Some(_) => {
                assert_eq!(d["status"], "unmatched", "{d}");
                assert_eq!(d["method"], "reviewer", "{d}");
            }
            None => {
                assert_eq!(Some(sid), skipped.as_deref());
                assert_ne!(d["method"], "reviewer", "{d}");
            }
        }
    }
    let store = Store::open(&db).await.unwrap();
    let reviews = store.reviews(Some("m.toml")).await.unwrap();
    assert!(reviews
        .iter()
        .all(|r| r.decided_by.as_deref() == Some("Ada Lovelace")));
    c.close().await.unwrap();
}

/// Each displayed element's rectangle lies inside the viewport (WebDriver gives it in the
/// document's coordinates: the scroll offset is taken off).
async fn all_visible(c: &Client, css: &str, w: f64, h: f64) -> usize {
    let els = c.find_all(Locator::Css(css)).await.unwrap();
    let scroll = c
        .execute("return [window.scrollX, window.scrollY]", vec![])
        .await
        .unwrap();
    let (sx, sy) = (scroll[0].as_f64().unwrap(), scroll[1].as_f64().unwrap());
    let mut n = 0;
    for e in els {
        if !e.is_displayed().await.unwrap() {
            continue;
        }
        let (x, y, ew, eh) = e.rectangle().await.unwrap();
        let (x, y) = (x - sx, y - sy);
        let html = e.html(false).await.unwrap();
        assert!(
            x >= 0.0 && y >= 0.0 && x + ew <= w && y + eh <= h,
            "{css} at ({x}, {y}) {ew}×{eh} is outside {w}×{h}: {html}"
        );
        n += 1;
    }
    n
}

#[tokio::test]
#[cfg_attr(
    not(has_webdriver),
    ignore = "needs `chromium` and `chromedriver` on PATH"
)]
async fn at_1280_by_800_the_focused_record_its_best_candidate_and_every_action_are_in_view() {
    let (chromium, chromedriver) = browser();
    let (t, dir, db) = fifty().await;
    let server = serve(&t, dir.path(), &db).await;
    let driver = start_driver(&chromedriver).await;
    let profile = tempfile::tempdir().unwrap();
    let c = session(&driver, &chromium, profile.path(), true).await;
    viewport(&c, 1280, 800).await;
    c.goto(&format!("{}?mapping=m.toml&at=20", server.url))
        .await
        .unwrap();
    name_yourself(&c, "Grace Hopper").await;
    let mut kb = Keyboard::new(&c).await;
    kb.settle().await;
    let (w, h) = (1280.0, 800.0);
    let focus = "section.item.focus";
    // S21, one of five identical rows: its actions include those for all five.
    let (sid, cands) = focused(&c).await.unwrap();
    assert_eq!(sid, "S21");
    assert!(!cands.is_empty());
    for (css, at_least) in [
        (format!("{focus} .compare td.value"), 1),
        (format!("{focus} .compare th.candidate[data-rank=\"1\"]"), 1),
        (format!("{focus} .actions button, {focus} .actions a"), 6),
        (format!("{focus} .same button"), 3),
        ("#undo-last button".to_string(), 1),
    ] {
        let n = all_visible(&c, &css, w, h).await;
        assert!(n >= at_least, "{n} of {css} visible");
    }
    let png = c.screenshot().await.unwrap();
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("review-1280x800.png");
    std::fs::write(&target, png).unwrap();
    eprintln!("screenshot: {}", target.display());

    // The list view shows the same record opened among the others, in view too.
    kb.press('v').await;
    let view = c.find(Locator::Css("#app")).await.unwrap();
    assert_eq!(
        view.attr("data-view").await.unwrap().as_deref(),
        Some("list")
    );
    assert_eq!(focused(&c).await.unwrap().0, "S21");
    all_visible(&c, &format!("{focus} .actions button"), w, h).await;
    assert!(
        c.find_all(Locator::Css("section.item"))
            .await
            .unwrap()
            .len()
            > 1
    );
    assert_eq!(kb.loads(), 1);
    c.close().await.unwrap();
}

#[tokio::test]
#[cfg_attr(
    not(has_webdriver),
    ignore = "needs `chromium` and `chromedriver` on PATH"
)]
async fn every_action_works_without_script() {
    let (chromium, chromedriver) = browser();
    let (t, dir, db) = fifty().await;
    let server = serve(&t, dir.path(), &db).await;
    let driver = start_driver(&chromedriver).await;
    let profile = tempfile::tempdir().unwrap();
    let c = session(&driver, &chromium, profile.path(), false).await;
    let start = format!("{}?mapping=m.toml", server.url);
    c.goto(&start).await.unwrap();
    let click = |css: String| {
        let c = &c;
        async move {
            let found = c.find(Locator::Css(&css)).await;
            let page = match &found {
                Ok(_) => String::new(),
                Err(_) => c.source().await.unwrap_or_default(),
            };
            // Every click here loads a new document: mark this one, and wait until the mark
            // is gone and the new one has loaded (WebDriver may answer a click before a form's
            // navigation is done).
            c.execute("document.documentElement.dataset.stale = '1'", vec![])
                .await
                .unwrap();
            found
                .unwrap_or_else(|e| panic!("{css}: {e}\n{page}"))
                .click()
                .await
                .unwrap();
            for _ in 0..200 {
                let fresh = c
                    .execute(
                        "return document.readyState === 'complete' && !document.documentElement.dataset.stale",
                        vec![],
                    )
                    .await
                    .unwrap_or(Value::Bool(false));
                if fresh == Value::Bool(true) {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            panic!("{css}: no new page after the click");
        }
    };
    // No script ran: the page's script marks the document when it does.
    let marked = c.find_all(Locator::Css("html[data-js]")).await.unwrap();
    assert!(marked.is_empty(), "script ran");

    // A decision before a name is refused.
    click("section.item.focus button[data-verdict=create]".into()).await;
    let refused = c.source().await.unwrap();
    assert!(refused.contains("Who is deciding?"), "{refused}");
    c.goto(&start).await.unwrap();
    // Without script the form loads a new page: wait for it before reading the name.
    type_name(&c, "Edsger").await;
    click("#reviewer button".into()).await;
    assert_eq!(
        c.find(Locator::Css("#reviewer-name"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "Edsger"
    );

    // Accept, create, reject: each a form; the next record is focused after each.
    let first = focused(&c).await.unwrap();
    assert_eq!(first.0, "S01");
    click("section.item.focus button[data-key=\"1\"]".into()).await;
    assert_eq!(focused(&c).await.unwrap().0, "S02");
    click("section.item.focus button[data-verdict=create]".into()).await;
    click("section.item.focus button[data-verdict=reject]".into()).await;
    // Skip is a link; undo last is a form.
    click("section.item.focus a.skip".into()).await;
    assert_eq!(focused(&c).await.unwrap().0, "S05");
    click("#undo-last button".into()).await;
    assert_eq!(focused(&c).await.unwrap().0, "S03", "the undone record");
    click("section.item.focus button[data-verdict=reject]".into()).await;
    // The same for identical records: open now are S04 (skipped), S05, ...
    c.goto(&format!("{start}&at=17")).await.unwrap();
    assert_eq!(focused(&c).await.unwrap().0, "S21");
    click("section.item.focus .same button[data-verdict=reject]".into()).await;
    // Search the mirror and pick.
    c.goto(&format!("{start}&at=1")).await.unwrap();
    let sid = focused(&c).await.unwrap().0;
    assert_eq!(sid, "S05");
    click("section.item.focus a.search".into()).await;
    let q = c.find(Locator::Css("#search input[name=q]")).await.unwrap();
    q.send_keys("a").await.unwrap();
    click("#search button".into()).await;
    click("tr.candidate button[data-verdict=accept]".into()).await;
    // A facet, and the bulk accept with its preview.
    click("ul.facet[data-facet=status] li[data-value=decided] a".into()).await;
    assert!(c
        .current_url()
        .await
        .unwrap()
        .as_str()
        .contains("status=decided"));
    c.goto(&start).await.unwrap();
    let min = c
        .find(Locator::Css("#bulk-preview input[name=preview_min]"))
        .await
        .unwrap();
    min.clear().await.unwrap();
    min.send_keys("0").await.unwrap();
    click("#bulk-preview button".into()).await;
    let preview: usize = c
        .find(Locator::Css("#preview"))
        .await
        .unwrap()
        .attr("data-records")
        .await
        .unwrap()
        .unwrap()
        .parse()
        .unwrap();
    assert!(preview > 2, "{preview}");
    let max = c
        .find(Locator::Css("#bulk input[name=max_records]"))
        .await
        .unwrap();
    max.clear().await.unwrap();
    max.send_keys("2").await.unwrap();
    let before = verdicts(&t, dir.path(), &db).await;
    click("#bulk button".into()).await;
    let got = verdicts(&t, dir.path(), &db).await;

    let count =
        |m: &BTreeMap<String, String>| m.values().filter(|w| w.starts_with("accept")).count();
    assert_eq!(before["S01"], format!("accept {}", first.1[0]));
    assert_eq!(before["S02"], "create");
    assert_eq!(before["S03"], "reject", "undone, then decided again");
    assert!(!before.contains_key("S04"), "skipped");
    for i in 21..=25 {
        assert_eq!(
            before[&format!("S{i}")],
            "reject",
            "S{i}: the same for identical"
        );
    }
    assert!(
        before[&sid].starts_with("accept "),
        "{sid}: picked from the search"
    );
    assert_eq!(count(&before), 2, "{before:?}");
    // The bulk accept decided exactly its bound: two more.
    assert_eq!(count(&got), 4, "{got:?}");
    assert_eq!(got.len(), before.len() + 2);
    c.close().await.unwrap();
}
