//! A new user's first hour, against the emulator's demo tenant: `init`, `lists`, `fields`,
//! `mapping new` (whose file `check` passes and whose push creates no duplicate), and the
//! exit codes and closed pipes of `push` and `run`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use affinity_crm_emulator::{demo_seed, EmulatorConfig};
use serde_json::Value;

use crate::common::{TestEmu, KEY};

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

/// `affsync ARGS` in `dir` against the emulator, with no settings flag added.
async fn affsync(t: &TestEmu, dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_affsync"))
        .args(args)
        .current_dir(dir)
        .env("AFFINITY_API_KEY", KEY)
        .env("AFFINITY_BASE_URL", t.emu.base_url())
        .env("RUST_LOG", "warn")
        .env_remove("DATABASE_URL")
        .env_remove("AFFSYNC_CONFIG")
        .kill_on_drop(true)
        .output()
        .await
        .expect("affsync runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn demo() -> TestEmu {
    TestEmu::with(EmulatorConfig::default(), demo_seed()).await
}

#[tokio::test]
async fn lists_and_fields_show_the_catalog_with_names_a_person_reads() {
    let t = demo().await;
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = affsync(&t, dir.path(), &["lists", "--json"]).await;
    assert_eq!(code, 0, "{err}");
    let j: Value = serde_json::from_str(&out).unwrap();
    let lists = j["lists"].as_array().unwrap();
    let deal = lists
        .iter()
        .find(|l| l["name"] == "Deal Flow")
        .expect("Deal Flow");
    assert_eq!(deal["kind"], "organization");
    assert_eq!(deal["id"], 180026);
    assert!(deal["entries"].as_u64().unwrap() > 0, "{deal}");
    assert!(deal["fields"].as_u64().unwrap() >= 8, "{deal}");
    let lps = lists.iter().find(|l| l["name"] == "LPs").unwrap();
    assert_eq!(lps["kind"], "person");

    let (code, table, err) = affsync(&t, dir.path(), &["lists"]).await;
    assert_eq!(code, 0, "{err}");
    let head = table.lines().next().unwrap();
    for col in ["id", "name", "kind", "entries", "fields"] {
        assert!(head.contains(col), "{table}");
    }
    assert!(table.contains("Co-invest Opportunities"), "{table}");

    let (code, out, err) =
        affsync(&t, dir.path(), &["fields", "--list", "Deal Flow", "--json"]).await;
    assert_eq!(code, 0, "{err}");
    let j: Value = serde_json::from_str(&out).unwrap();
    let fields = j["fields"].as_array().unwrap();
    let by_name = |n: &str| {
        fields
            .iter()
            .find(|f| f["name"] == n)
            .unwrap_or_else(|| panic!("no field {n}: {out}"))
    };
    let round = by_name("Round");
    assert_eq!(round["type"], "dropdown");
    assert_eq!(round["scope"], "list");
    assert_eq!(round["list"], "Deal Flow");
    assert!(
        round["options"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o == "Seed"),
        "{round}"
    );
    assert_eq!(round["writable"], true);
    let sectors = by_name("Sectors");
    assert_eq!(sectors["type"], "multi-valued dropdown");
    let industry = by_name("Industry");
    assert_eq!(industry["scope"], "global");
    assert_eq!(industry["kind"], "organization");
    let employees = by_name("Employees");
    assert_eq!(employees["writable"], false);
    assert!(
        employees["why_not"].as_str().unwrap().contains("dealroom"),
        "{employees}"
    );
    // Only the list's own fields and its kind's global ones.
    assert!(!fields.iter().any(|f| f["name"] == "Stage"), "{out}");
    assert!(!fields.iter().any(|f| f["name"] == "Title"), "{out}");

    let (code, table, err) = affsync(&t, dir.path(), &["fields", "--list", "deal flow"]).await;
    assert_eq!(code, 0, "{err}");
    let row = table.lines().find(|l| l.starts_with("Employees")).unwrap();
    assert!(row.contains("no: filled by Affinity (dealroom)"), "{table}");
    let row = table.lines().find(|l| l.starts_with("Round ")).unwrap();
    assert!(
        row.contains("list Deal Flow") && row.contains("Seed"),
        "{table}"
    );

    // Every field, across lists and kinds.
    let (code, out, _) = affsync(&t, dir.path(), &["fields", "--json"]).await;
    assert_eq!(code, 0);
    let j: Value = serde_json::from_str(&out).unwrap();
    let names: BTreeSet<&str> = j["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    for n in ["Stage", "Title", "Commitment", "Round"] {
        assert!(names.contains(n), "{names:?}");
    }

    let (code, _, err) = affsync(&t, dir.path(), &["fields", "--list", "Deal Flo"]).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no list `Deal Flo`"), "{err}");
    assert!(
        err.contains("hint:") && err.contains("`Deal Flow`"),
        "{err}"
    );
}

/// No organization created between `before` and `after` has a domain that one had before, and
/// no two created ones share a domain.
fn assert_no_domain_created_twice(
    before: &BTreeMap<i64, Vec<String>>,
    after: &BTreeMap<i64, Vec<String>>,
) {
    let known: BTreeSet<&String> = before.values().flatten().collect();
    let mut new_domains: BTreeMap<&str, usize> = BTreeMap::new();
    for (id, domains) in after {
        if before.contains_key(id) {
            continue;
        }
        for dom in domains {
            assert!(
                !known.contains(dom),
                "organization {id} was created with `{dom}`, which another organization had"
            );
            *new_domains.entry(dom).or_default() += 1;
        }
    }
    assert!(
        new_domains.values().all(|n| *n == 1),
        "two created organizations share a domain: {new_domains:?}"
    );
}

/// The example mapping looks for fuzzy candidates only on its list (`within_list`); a website
/// that is the domain of an organization off the list is still that organization: it is
/// updated and added to the list, not created again, and its values in Affinity are read
/// first, so the journal's old → new is true and nothing Affinity holds is overwritten blind.
#[tokio::test]
async fn the_example_push_matches_a_search_term_off_its_list_instead_of_creating_it_again() {
    let t = demo().await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let db = format!("sqlite://{}", d.join("m.db").display());
    let (code, _, err) = affsync(
        &t,
        d,
        &["pull", "--list", "Deal Flow", "-q", "--database-url", &db],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let mapping = repo("mappings/companies.toml");
    let mapping = mapping.to_str().unwrap();
    assert!(std::fs::read_to_string(mapping)
        .unwrap()
        .contains("within_list = \"Deal Flow\""));
    let before = organizations(&t).await;
    let (code, out, err) = affsync(
        &t,
        d,
        &["push", mapping, "--json", "-q", "--database-url", &db],
    )
    .await;
    assert!(code == 0 || code == 4, "{code}\n{out}\n{err}");
    let after = organizations(&t).await;
    assert_no_domain_created_twice(&before, &after);
    // Heron Kitchen (heronkitchen.com) is in the demo tenant on no list.
    let heron = *before
        .iter()
        .find(|(_, ds)| ds.iter().any(|x| x == "heronkitchen.com"))
        .expect("the demo tenant has heronkitchen.com")
        .0;
    let o = t.get(&format!("/organizations/{heron}"), 200).await;
    assert_eq!(
        o["list_entries"].as_array().map(Vec::len),
        Some(1),
        "organization {heron} is on the list once: {o}"
    );
}

/// Every organization of the tenant: id → its domains.
async fn organizations(t: &TestEmu) -> BTreeMap<i64, Vec<String>> {
    let mut out = BTreeMap::new();
    let mut token: Option<String> = None;
    loop {
        let path = match &token {
            Some(tk) => format!("/organizations?page_size=500&page_token={tk}"),
            None => "/organizations?page_size=500".to_string(),
        };
        let page = t.get(&path, 200).await;
        for o in page["organizations"].as_array().unwrap() {
            let domains = o["domains"]
                .as_array()
                .map(|d| {
                    d.iter()
                        .filter_map(|x| x.as_str().map(str::to_lowercase))
                        .collect()
                })
                .unwrap_or_default();
            out.insert(o["id"].as_i64().unwrap(), domains);
        }
        match page["next_page_token"].as_str() {
            Some(tk) if !tk.is_empty() => token = Some(tk.to_string()),
            _ => break,
        }
    }
    out
}

#[tokio::test]
async fn mapping_new_on_companies_passes_check_and_its_push_creates_no_duplicate() {
    let t = demo().await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("mappings")).unwrap();
    let from = repo("fixtures/enrichment/companies.csv");
    let from = from.to_str().unwrap();
    let (code, out, err) = affsync(
        &t,
        d,
        &[
            "mapping",
            "new",
            "mappings/companies.toml",
            "--from",
            from,
            "--list",
            "Deal Flow",
        ],
    )
    .await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("next:"), "{out}");
    let text = std::fs::read_to_string(d.join("mappings/companies.toml")).unwrap();
    // The guesses: the id, the website as search term and domain, the name, and the columns
    // named as the list's fields, each with its type; every guess says so.
    for want in [
        "entity = \"organization\"",
        "id = \"source_id\"  # guess",
        "search_term = \"website\"  # guess",
        "add_to_list = \"Deal Flow\"",
        "source = \"linkedin_url\"\naffinity = \"LinkedIn URL\"\ntype = \"url\"",
        "source = \"last_funding_date\"\naffinity = \"Last Funding Date\"\ntype = \"date\"",
        "source = \"headcount\"\naffinity = \"Headcount\"\ntype = \"number\"",
        "source = \"round\"\naffinity = \"Round\"\ntype = \"dropdown\"",
        "source = \"sectors\"\naffinity = \"Sectors\"\ntype = \"dropdown\"",
        "source = \"industry\"\naffinity = \"Industry\"\ntype = \"dropdown\"",
        "source = \"hq_location\"\naffinity = \"HQ Location\"\ntype = \"location\"",
        "source = \"owner_email\"\naffinity = \"Owner\"\ntype = \"person\"",
        "source = \"website\"\naffinity = \"Website\"\ntype = \"url\"",
        "source = \"website\"\naffinity = \"domain\"\ntype = \"url\"\nwrite = \"fill_blank\"",
        "source = \"company_name\"\naffinity = \"name\"\ntype = \"text\"\nwrite = \"fill_blank\"",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }
    for block in text.split("\n[[fields]]").skip(1) {
        assert!(block.starts_with("  # guess"), "{block}");
    }
    // A column of numbers is not sent to a dropdown that shares its first word.
    assert!(text.contains("#   round_size_usd: "), "{text}");
    assert!(text.contains("path = \""), "{text}");

    let db = format!("sqlite://{}", d.join("m.db").display());
    let (code, _, err) =
        affsync(&t, d, &["pull", "--all-lists", "-q", "--database-url", &db]).await;
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = affsync(
        &t,
        d,
        &["check", "mappings/companies.toml", "--database-url", &db],
    )
    .await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("mappings/companies.toml: ok"), "{out}");

    let before = organizations(&t).await;
    let (code, out, err) = affsync(
        &t,
        d,
        &[
            "push",
            "mappings/companies.toml",
            "--json",
            "--database-url",
            &db,
        ],
    )
    .await;
    // Some rows of the sample have values Affinity refuses (exit 4); none is a duplicate.
    assert!(code == 0 || code == 4, "{code}\n{out}\n{err}");
    let summary: Value = serde_json::from_str(&out).unwrap();
    assert!(summary["created"].as_u64().unwrap() > 0, "{summary}");
    assert!(summary["matched"].as_u64().unwrap() > 0, "{summary}");
    let after = organizations(&t).await;
    assert_no_domain_created_twice(&before, &after);
    // And again: nothing is created twice.
    let (_, out, err) = affsync(
        &t,
        d,
        &[
            "push",
            "mappings/companies.toml",
            "--json",
            "--database-url",
            &db,
        ],
    )
    .await;
    let again: Value = serde_json::from_str(&out).unwrap_or_else(|_| panic!("{out}\n{err}"));
    assert_eq!(again["created"], 0, "{again}");
    assert_eq!(organizations(&t).await.len(), after.len());
}

#[tokio::test]
async fn mapping_new_refuses_to_overwrite_and_prints_to_stdout_with_a_dash() {
    let t = demo().await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let from = repo("fixtures/enrichment/people.csv");
    let from = from.to_str().unwrap();
    let (code, out, err) =
        affsync(&t, d, &["mapping", "new", "--from", from, "--list", "LPs"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("wrote `people.toml`"), "{out}");
    let text = std::fs::read_to_string(d.join("people.toml")).unwrap();
    for want in [
        "entity = \"person\"",
        "search_term = \"email\"  # guess",
        "source = \"email\"\naffinity = \"emails\"\ntype = \"email\"",
        "source = \"first_name\"\naffinity = \"first_name\"",
        "source = \"last_name\"\naffinity = \"last_name\"",
        "source = \"lp_type\"\naffinity = \"LP Type\"\ntype = \"dropdown\"",
        "source = \"commitment_date\"\naffinity = \"Commitment Date\"\ntype = \"date\"",
        "source = \"relationship_owner\"\naffinity = \"Relationship Owner\"\ntype = \"person\"",
        "source = \"title\"\naffinity = \"Title\"",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }

    std::fs::write(d.join("people.toml"), "mine").unwrap();
    let (code, _, err) = affsync(&t, d, &["mapping", "new", "--from", from, "--list", "LPs"]).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("`people.toml` exists already"), "{err}");
    assert!(err.contains("hint:") && err.contains("--force"), "{err}");
    assert_eq!(
        std::fs::read_to_string(d.join("people.toml")).unwrap(),
        "mine"
    );
    let (code, _, err) = affsync(
        &t,
        d,
        &["mapping", "new", "--from", from, "--list", "LPs", "--force"],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert!(std::fs::read_to_string(d.join("people.toml"))
        .unwrap()
        .contains("entity = \"person\""));

    let (code, out, err) = affsync(
        &t,
        d,
        &["mapping", "new", "-", "--from", from, "--list", "LPs"],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("# Written by `affsync mapping new`"),
        "{out}"
    );
    assert!(err.contains("wrote the mapping"), "{err}");
    assert!(!d.join("-").exists());

    // A list of another kind, a list that does not exist, a file that does not exist.
    for (args, says) in [
        (
            vec![
                "mapping",
                "new",
                "-",
                "--from",
                from,
                "--list",
                "LPs",
                "--kind",
                "organization",
            ],
            "the list `LPs` holds persons, not organizations",
        ),
        (
            vec!["mapping", "new", "-", "--from", from, "--list", "Nope"],
            "no list `Nope` in Affinity",
        ),
        (
            vec![
                "mapping",
                "new",
                "-",
                "--from",
                "missing.csv",
                "--list",
                "LPs",
            ],
            "no file `missing.csv`",
        ),
    ] {
        let (code, _, err) = affsync(&t, d, &args).await;
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(
            err.contains(says) && err.contains("hint:"),
            "{args:?}: {err}"
        );
    }
}

#[tokio::test]
async fn init_writes_a_commented_settings_file_that_every_command_reads() {
    let t = demo().await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let base = t.emu.base_url().to_string();
    let (code, out, err) = affsync(&t, d, &["init", "--base-url", &base]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("wrote `affsync.toml`"), "{out}");
    assert!(
        out.contains("affsync lists") && out.contains("affsync mapping new"),
        "{out}"
    );
    let text = std::fs::read_to_string(d.join("affsync.toml")).unwrap();
    assert!(
        text.contains("database_url = \"sqlite://affsync.db\""),
        "{text}"
    );
    assert!(text.contains("# [[jobs]]"), "{text}");

    // Read from a folder below, with no variable but the key set.
    std::fs::create_dir(d.join("sub")).unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_affsync"))
        .args(["config", "show", "--json"])
        .current_dir(d.join("sub"))
        .env("AFFINITY_API_KEY", KEY)
        .env_remove("AFFINITY_BASE_URL")
        .env_remove("DATABASE_URL")
        .env_remove("AFFSYNC_CONFIG")
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    let setting = |name: &str| {
        j["settings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["setting"] == name)
            .unwrap_or_else(|| panic!("{name}: {j}"))
            .clone()
    };
    let b = setting("affinity.base_url");
    assert_eq!(b["value"], base.as_str(), "{b}");
    assert_eq!(b["source"], "file", "{b}");
    assert!(
        b["origin"].as_str().unwrap().ends_with("affsync.toml"),
        "{b}"
    );
    let db = setting("database_url");
    assert_eq!(db["source"], "file", "{db}");
    assert!(
        db["value"].as_str().unwrap().ends_with("affsync.db"),
        "{db}"
    );

    let (code, _, err) = affsync(&t, d, &["init"]).await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("`affsync.toml` exists already") && err.contains("hint:"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(d.join("affsync.toml")).unwrap(),
        text
    );
}

/// A folder with an `affsync.toml` whose job pulls Deal Flow and pushes the example
/// companies with `strict = true`: the rows with a cell that does not convert fail (a
/// partial push), the others are written.
fn job_folder(t: &TestEmu) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let csv = repo("fixtures/enrichment/companies.csv");
    let mapping = std::fs::read_to_string(repo("mappings/companies.toml"))
        .unwrap()
        .replace(
            "path = \"../fixtures/enrichment/companies.csv\"",
            &format!("path = \"{}\"", csv.display()),
        )
        .replace(
            "mode = \"create_update\"",
            "mode = \"create_update\"\nstrict = true",
        );
    assert!(mapping.contains("strict = true"));
    std::fs::write(dir.path().join("companies.toml"), mapping).unwrap();
    std::fs::write(
        dir.path().join("affsync.toml"),
        format!(
            "database_url = \"sqlite://m.db\"\n\n[affinity]\nbase_url = \"{}\"\n\n[[jobs]]\nname = \"nightly\"\nschedule = \"0 2 * * *\"\nsteps = [ {{ pull = [\"Deal Flow\"] }}, {{ push = \"companies.toml\" }} ]\n",
            t.emu.base_url(),
        ),
    )
    .unwrap();
    dir
}

#[tokio::test]
async fn a_job_whose_push_was_partial_exits_4() {
    let t = demo().await;
    let dir = job_folder(&t);
    let (code, out, err) = affsync(&t, dir.path(), &["run", "nightly"]).await;
    assert_eq!(code, 4, "{out}\n{err}");
    assert!(err.contains("job `nightly` was partial"), "{err}");
    assert!(out.contains("job `nightly`: partial"), "{out}");
}

/// Runs `affsync ARGS` in `dir` through `sh -c '… | head -c1'`, its stdout and stderr
/// both into the pipe when `both`: affsync's exit code, and what it left on stderr
/// otherwise.
async fn through_head(t: &TestEmu, dir: &Path, args: &str, both: bool) -> (i32, String) {
    let redirect = if both { "2>&1" } else { "2>err.txt" };
    let script = format!(
        "\"$AFFSYNC\" {args} {redirect} | head -c1 >/dev/null; echo \"${{PIPESTATUS[0]}}\" > code.txt"
    );
    let status = tokio::process::Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(dir)
        .env("AFFSYNC", env!("CARGO_BIN_EXE_affsync"))
        .env("AFFINITY_API_KEY", KEY)
        .env("AFFINITY_BASE_URL", t.emu.base_url())
        // Logs on, so that stderr is written to after its reader is gone.
        .env("RUST_LOG", "info")
        .env_remove("DATABASE_URL")
        .env_remove("AFFSYNC_CONFIG")
        .status()
        .await
        .unwrap();
    assert!(status.success());
    let code: i32 = std::fs::read_to_string(dir.join("code.txt"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let err = std::fs::read_to_string(dir.join("err.txt")).unwrap_or_default();
    (code, err)
}

/// The runs of the mirror in `dir` (`affsync activity --json`).
async fn runs(t: &TestEmu, dir: &Path) -> Vec<Value> {
    let (code, out, err) = affsync(t, dir, &["activity", "--json"]).await;
    assert_eq!(code, 0, "{err}");
    let j: Value = serde_json::from_str(&out).unwrap();
    j.as_array()
        .cloned()
        .or_else(|| j["runs"].as_array().cloned())
        .unwrap_or_else(|| panic!("{j}"))
}

#[tokio::test]
async fn a_push_and_a_job_whose_pipe_reader_has_gone_end_quietly_and_journaled() {
    let t = demo().await;
    let dir = job_folder(&t);
    let d = dir.path();
    let mapping = d.join("companies.toml");
    let (code, _, err) = affsync(&t, d, &["pull", "--list", "Deal Flow", "-q"]).await;
    assert_eq!(code, 0, "{err}");

    // `affsync push … 2>&1 | head -c1`
    let (code, _) = through_head(
        &t,
        d,
        &format!("push {} --dry-run", mapping.display()),
        true,
    )
    .await;
    assert_ne!(code, 101, "push panicked on a closed pipe");
    let (code, _) = through_head(&t, d, &format!("push {}", mapping.display()), true).await;
    assert_ne!(code, 101, "push panicked on a closed pipe");
    assert_eq!(code, 4, "the push's own exit code stands");

    // `affsync run JOB | head -c1`, stderr kept.
    let (code, err) = through_head(&t, d, "run nightly", false).await;
    assert!(!err.contains("panicked"), "{err}");
    assert_ne!(code, 101, "{err}");
    assert_eq!(code, 4, "{err}");
    // `affsync run JOB 2>&1 | head -c1`
    let (code, _) = through_head(&t, d, "run nightly", true).await;
    assert_eq!(code, 4);

    // No run left `running`, and the job's lock was released: it runs again.
    let all = runs(&t, d).await;
    assert!(all.len() >= 4, "{all:?}");
    for r in &all {
        assert_ne!(r["status"], "running", "{r}");
    }
    let (code, _, err) = affsync(&t, d, &["run", "nightly"]).await;
    assert_eq!(code, 4, "{err}");

    // `-` is standard output where a file is written.
    let run = all[0]["run"].to_string();
    let (code, out, err) = affsync(&t, d, &["report", &run, "--out", "-"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("<!DOCTYPE html>"), "{out}");
    let (code, out, err) =
        affsync(&t, d, &["activity", &run, "--out", "-", "--format", "csv"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.lines().count() > 1, "{out}");
    assert!(!d.join("-").exists());
}

#[tokio::test]
async fn bad_input_exits_2_with_a_hint() {
    let t = demo().await;
    let dir = job_folder(&t);
    let d = dir.path();
    for args in [
        vec!["run", "no-such-job"],
        vec!["pull", "--list", "No Such List"],
        vec!["check", "missing.toml"],
        vec!["fields", "--list", "No Such List"],
        vec!["init"],
        vec![
            "review",
            "decide",
            "x",
            "--mapping",
            "missing.toml",
            "--reject",
        ],
        vec!["review", "list", "--mapping", "missing.toml"],
        vec!["push", "missing.toml"],
        vec!["match", "missing.toml"],
        vec!["log-activity", "calls.jsonl", "--settings", "missing.toml"],
        vec![
            "contacts",
            "sync",
            "--file",
            "c.csv",
            "--mapping",
            "missing.toml",
        ],
        vec!["report", "9999", "--out", "r.html"],
        vec!["activity", "--format", "parquet"],
        // An output file in a folder that does not exist, refused before any work.
        vec!["report", "1", "--out", "no-such-folder/r.html"],
        vec!["activity", "--out", "no-such-folder/a.csv"],
        vec![
            "export",
            "list",
            "Deal Flow",
            "--out",
            "no-such-folder/x.csv",
        ],
        vec![
            "mapping",
            "new",
            "--from",
            "missing.csv",
            "--list",
            "Deal Flow",
        ],
    ] {
        let (code, out, err) = affsync(&t, d, &args).await;
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(
            err.contains("hint:"),
            "{args:?} gives no hint: {out}\n{err}"
        );
        // The reason once, not once more from the error's chain.
        assert!(
            err.matches("No such file or directory").count() <= 1,
            "{args:?}: {err}"
        );
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}
