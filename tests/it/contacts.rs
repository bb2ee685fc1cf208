//! `affsync contacts sync`: the first sync goes both ways, later ones carry only what changed.

use affinity_crm_emulator::state::Person;
use affinity_crm_emulator::EmulatorConfig;

use crate::common::{test_seed, TestEmu};

const MAPPING: &str = r#"[file]
email = "Email"
first_name = "First Name"
last_name = "Last Name"

[sync]
create_in_affinity = true
out = "from_affinity.csv"
"#;

fn file(changed: usize) -> String {
    let mut s = String::from("Email,First Name,Last Name\n");
    // 300 contacts Affinity has too (emails written differently), 700 it does not.
    for i in 0..300 {
        let first = if i < changed {
            format!("Renamed{i}")
        } else {
            format!("First{i}")
        };
        s.push_str(&format!("Person{i}@Corp.example,{first},Last{i}\n"));
    }
    for j in 0..700 {
        s.push_str(&format!("new{j}@file.example,New{j},Contact{j}\n"));
    }
    s
}

#[tokio::test]
async fn first_sync_creates_the_missing_on_each_side_and_a_second_carries_five_changes() {
    let mut seed = test_seed();
    // 1,000 persons in Affinity; the first 300 are in the file too.
    for i in 0..1000 {
        seed.persons.push(Person {
            id: 50_000 + i,
            kind: 0,
            first_name: format!("First{i}"),
            last_name: Some(format!("Last{i}")),
            emails: vec![format!("person{i}@corp.example")],
            organization_ids: vec![],
        });
    }
    let t = TestEmu::with(EmulatorConfig::default(), seed).await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("m.db").display());
    std::fs::write(dir.path().join("contacts.csv"), file(0)).unwrap();
    std::fs::write(dir.path().join("contacts.toml"), MAPPING).unwrap();
    let args = [
        "contacts",
        "sync",
        "--file",
        "contacts.csv",
        "--mapping",
        "contacts.toml",
        "--json",
    ];

    let (code, out, err) = t.run(dir.path(), &db, &args).await;
    assert_eq!(code, 0, "{out}\n{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["file_contacts"], 1000, "{v}");
    assert_eq!(v["linked"], 300, "{v}");
    assert_eq!(v["created_in_affinity"], 700, "{v}");
    assert_eq!(t.route_count("POST /persons").await, 700);
    // Every Affinity person the file lacks: the 700 generated and the test tenant's own.
    let affinity = v["affinity_persons"].as_u64().unwrap();
    assert!(affinity >= 1000, "{v}");
    assert_eq!(
        v["written_to_file"].as_u64().unwrap(),
        affinity - 300,
        "{v}"
    );
    let from_affinity = std::fs::read_to_string(dir.path().join("from_affinity.csv")).unwrap();
    let lines: Vec<&str> = from_affinity.lines().collect();
    assert_eq!(lines[0], "Email,First Name,Last Name");
    assert_eq!(lines.len() as u64, affinity - 300 + 1);
    assert!(lines.contains(&"person999@corp.example,First999,Last999"));
    assert!(
        !from_affinity.contains("person0@corp.example"),
        "shared ones stay out"
    );

    // The out file read back into the contacts file (as its owner does), and five contacts
    // renamed in it: the next sync writes five, and nothing else.
    let read_back: String = from_affinity
        .lines()
        .skip(1)
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(
        dir.path().join("contacts.csv"),
        format!("{}{read_back}", file(5)),
    )
    .unwrap();
    let writes_before = t.writes().await;
    let (code, out, err) = t.run(dir.path(), &db, &args).await;
    assert_eq!(code, 0, "{out}\n{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["updated_in_affinity"], 5, "{v}");
    assert_eq!(v["created_in_affinity"], 0, "{v}");
    assert_eq!(v["written_to_file"], 0, "{v}");
    assert_eq!(t.writes().await - writes_before, 5);
    let p: serde_json::Value = t.get("/persons/50003", 200).await;
    assert_eq!(p["first_name"], "Renamed3");

    // A third run with nothing changed writes nothing.
    let writes_before = t.writes().await;
    let (code, out, _) = t.run(dir.path(), &db, &args).await;
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["writes"], 0, "{v}");
    assert_eq!(t.writes().await, writes_before);
}

#[tokio::test]
async fn contacts_sync_runs_as_a_job_step() {
    let t = TestEmu::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("m.db").display());
    std::fs::write(
        dir.path().join("contacts.csv"),
        "Email,First Name,Last Name\ngrace@cobol.dev,Grace,Hopper\nnew@file.example,New,Contact\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("contacts.toml"),
        MAPPING.replace("[file]\n", "[file]\npath = \"contacts.csv\"\n"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("affsync.toml"),
        format!(
            "database_url = \"{db}\"\n[affinity]\nbase_url = \"{}\"\nkey_env = \"AFFINITY_API_KEY\"\n\n\
             [[jobs]]\nname = \"contacts\"\nschedule = \"0 0 6 * * *\"\nsteps = [ {{ contacts = \"contacts.toml\" }} ]\n",
            t.emu.base_url()
        ),
    )
    .unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_affsync"))
        .args(["run", "contacts", "--json"])
        .current_dir(dir.path())
        .env("AFFINITY_API_KEY", crate::common::KEY)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let j: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(j["status"], "ok", "{j}");
    assert_eq!(j["steps"][0]["step"], "contacts", "{j}");
    assert_eq!(j["steps"][0]["counts"]["created_in_affinity"], 1, "{j}");
    assert_eq!(j["steps"][0]["counts"]["linked"], 1, "{j}");
}

#[tokio::test]
async fn two_rows_for_one_email_are_an_error_row_naming_the_row_kept() {
    let t = TestEmu::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("m.db").display());
    // Rows 1 and 2 are one address once case is folded; rows 3 and 4 once gmail's dots and
    // `+tags` are.
    std::fs::write(
        dir.path().join("contacts.csv"),
        "Email,First Name,Last Name\nmira@quenby.example,Mira,Quenby\nMIRA@quenby.example,Mira,Q\n\
         tobias.wren@gmail.com,Tobias,Wren\ntobiaswren+deals@gmail.com,Tobi,Wren\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("contacts.toml"), MAPPING).unwrap();
    let args = [
        "contacts",
        "sync",
        "--file",
        "contacts.csv",
        "--mapping",
        "contacts.toml",
        "--json",
    ];
    let (code, out, err) = t.run(dir.path(), &db, &args).await;
    assert_eq!(code, 4, "a partial sync: {out}\n{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        (v["file_contacts"].as_u64(), v["errors"].as_u64()),
        (Some(2), Some(2)),
        "{v}"
    );
    assert_eq!(v["created_in_affinity"], 2, "{v}");
    let (code, out, _) = t
        .run(
            dir.path(),
            &db,
            &["activity", "1", "--status", "failed", "--format", "json"],
        )
        .await;
    assert_eq!(code, 0);
    assert!(
        out.contains("row 1 is kept") && out.contains("row 3 is kept"),
        "{out}"
    );
}

#[tokio::test]
async fn a_dry_run_writes_nothing_anywhere() {
    let t = TestEmu::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("m.db").display());
    std::fs::write(dir.path().join("contacts.csv"), file(0)).unwrap();
    std::fs::write(dir.path().join("contacts.toml"), MAPPING).unwrap();
    let args = [
        "contacts",
        "sync",
        "--file",
        "contacts.csv",
        "--mapping",
        "contacts.toml",
        "--json",
        "--dry-run",
    ];
    let (code, out, err) = t.run(dir.path(), &db, &args).await;
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        v["created_in_affinity"], 1000,
        "what a sync would create: {v}"
    );
    assert_eq!(t.writes().await, 0);
    assert!(!dir.path().join("from_affinity.csv").exists());
}

#[tokio::test]
async fn the_out_file_is_raw_unless_csv_safe() {
    let mut seed = test_seed();
    seed.persons.push(Person {
        id: 60_001,
        kind: 0,
        first_name: "=HYPERLINK(\"http://x.example\")".into(),
        last_name: Some("@Sum".into()),
        emails: vec!["formula@x.example".into()],
        organization_ids: vec![],
    });
    let t = TestEmu::with(EmulatorConfig::default(), seed).await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("m.db").display());
    std::fs::write(
        dir.path().join("contacts.csv"),
        "Email,First Name,Last Name\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("contacts.toml"), MAPPING).unwrap();
    let args = [
        "contacts",
        "sync",
        "--file",
        "contacts.csv",
        "--mapping",
        "contacts.toml",
    ];
    let row = |dir: &std::path::Path| {
        std::fs::read_to_string(dir.join("from_affinity.csv"))
            .unwrap()
            .lines()
            .find(|l| l.starts_with("formula@"))
            .unwrap()
            .to_string()
    };
    let (code, _, err) = t.run(dir.path(), &db, &args).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        row(dir.path()),
        "formula@x.example,\"=HYPERLINK(\"\"http://x.example\"\")\",@Sum"
    );
    let mut safe = args.to_vec();
    safe.push("--csv-safe");
    let (code, _, err) = t.run(dir.path(), &db, &safe).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        row(dir.path()),
        "formula@x.example,\"'=HYPERLINK(\"\"http://x.example\"\")\",'@Sum"
    );
}

/// An out file whose folder does not exist is refused before any call to Affinity, in a dry
/// run too (it used to read every person, then fail as "cannot read" the file it was writing).
#[tokio::test]
async fn an_out_file_in_a_missing_folder_is_refused_before_any_call() {
    let t = TestEmu::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("m.db").display());
    std::fs::write(dir.path().join("contacts.csv"), file(0)).unwrap();
    std::fs::write(
        dir.path().join("contacts.toml"),
        MAPPING.replace(
            "out = \"from_affinity.csv\"",
            "out = \"exports/from_affinity.csv\"",
        ),
    )
    .unwrap();
    for dry in [true, false] {
        let mut args = vec![
            "contacts",
            "sync",
            "--file",
            "contacts.csv",
            "--mapping",
            "contacts.toml",
        ];
        if dry {
            args.push("--dry-run");
        }
        let served = t.served().await;
        let (code, out, err) = t.run(dir.path(), &db, &args).await;
        assert_eq!(code, 2, "dry run {dry}: {out}\n{err}");
        assert!(
            err.contains("exports/from_affinity.csv") && err.contains("does not exist"),
            "{err}"
        );
        assert!(err.contains("hint: create the folder"), "{err}");
        assert_eq!(t.served().await, served, "no call to Affinity: {err}");
    }
}
