//! Enrichment files through `source::read_records`, and `affsync link` from file to file.

use std::path::Path;
use std::process::Command;

use affsync::io::source::read_records;
use affsync_core::diagnostic::Diagnose;
use affsync_core::matcher::{match_records, Candidate, Kind, MatchConfig, Reviewed, Status};
use affsync_core::source::{ReadOptions, SourceFormat};

fn opts(id: &str, columns: &[&str]) -> ReadOptions {
    ReadOptions {
        id: id.into(),
        columns: columns.iter().map(|c| c.to_string()).collect(),
        ..Default::default()
    }
}

#[test]
fn source_csv_reports_bad_rows_by_number_and_keeps_going() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("companies.csv");
    let mut bytes = b"id,name,website\n007,Acme Inc,acme.com\n,No Id Ltd,noid.com\n".to_vec();
    bytes.extend_from_slice(b"3,Bad \xff\xfe Name,bad.com\n4,Zenith,\n");
    std::fs::write(&path, bytes).unwrap();
    let recs = read_records(&path, &opts("id", &["name", "website"])).unwrap();
    assert_eq!(recs.len(), 4);
    assert_eq!(recs.iter().map(|r| r.row).collect::<Vec<_>>(), [1, 2, 3, 4]);
    // Ids are text: leading zeros stay.
    assert_eq!(recs[0].id.as_deref(), Some("007"));
    assert_eq!(recs[0].values["website"], "acme.com");
    assert_eq!(recs[1].id, None);
    assert!(
        recs[2].problem.as_deref().unwrap().contains("`name`"),
        "{:?}",
        recs[2]
    );
    assert_eq!(recs[3].values.get("website"), None);

    // The matcher turns them into errors that name the row; the good rows are decided.
    let mut acme = Candidate::new(Kind::Organization, "1", "Acme");
    acme.domains = vec!["acme.com".into()];
    let cfg = MatchConfig {
        search_term: Some("website".into()),
        ..Default::default()
    };
    let d = match_records(&cfg, Kind::Organization, &[acme], &recs, &Reviewed::new());
    let st: Vec<Status> = d.iter().map(|d| d.status).collect();
    assert_eq!(
        st,
        [
            Status::Matched,
            Status::Error,
            Status::Error,
            Status::Unmatched
        ]
    );
    assert!(d[1].reason.contains("row 2"), "{}", d[1].reason);
    assert!(d[2].reason.contains("row 3"), "{}", d[2].reason);
}

#[test]
fn source_csv_separator_and_missing_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.csv");
    std::fs::write(&path, "id|name\n1|a, b and c\n").unwrap();
    let o = ReadOptions {
        separator: Some(b'|'),
        ..opts("id", &["name"])
    };
    let recs = read_records(&path, &o).unwrap();
    assert_eq!(recs[0].values["name"], "a, b and c");
    let e = read_records(
        &path,
        &ReadOptions {
            separator: Some(b'|'),
            ..opts("id", &["website"])
        },
    )
    .unwrap_err();
    let hint = e.hint().unwrap_or_default();
    assert!(
        e.to_string().contains("no column `website`") && hint.contains("`name`"),
        "{e} / hint: {hint}"
    );
    let e = read_records(&dir.path().join("x.xlsx"), &opts("id", &[])).unwrap_err();
    assert!(
        e.to_string().contains("cannot tell the format")
            && e.hint().is_some_and(|h| h.contains("`.csv`")),
        "{e}"
    );
}

#[test]
fn source_jsonl_reports_broken_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("people.jsonl");
    std::fs::write(
        &path,
        "{\"id\": 10, \"email\": \"jo@acme.com\"}\n{not json\n\n[1, 2]\n{\"email\": \"x@y.com\"}\n{\"id\": \"12\", \"email\": null}\n",
    )
    .unwrap();
    let recs = read_records(&path, &opts("id", &["email"])).unwrap();
    assert_eq!(
        recs.iter().map(|r| r.row).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
    assert_eq!(recs[0].id.as_deref(), Some("10"));
    assert_eq!(recs[0].values["email"], "jo@acme.com");
    assert!(recs[1].problem.as_deref().unwrap().contains("not JSON"));
    assert!(recs[2]
        .problem
        .as_deref()
        .unwrap()
        .contains("not an object"));
    assert_eq!(recs[3].id, None);
    assert_eq!(recs[4].id.as_deref(), Some("12"));
}

#[test]
fn source_parquet_reads_numbers_as_text() {
    use polars::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("orgs.parquet");
    let mut df = df!(
        "id" => [Some(1i64), None, Some(3)],
        "name" => ["Acme", "Zenith", "Globex"],
    )
    .unwrap();
    ParquetWriter::new(std::fs::File::create(&path).unwrap())
        .finish(&mut df)
        .unwrap();
    let recs = read_records(&path, &opts("id", &["name"])).unwrap();
    assert_eq!(recs.len(), 3);
    assert_eq!(recs[0].id.as_deref(), Some("1"));
    assert_eq!(recs[1].id, None);
    assert_eq!(recs[2].values["name"], "Globex");
    assert_eq!(SourceFormat::from_path(&path), Some(SourceFormat::Parquet));
}

fn affsync(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_affsync"))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("affsync runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

#[test]
fn link_matches_two_files_and_writes_pairs() {
    let dir = tempfile::tempdir().unwrap();
    let left = write(
        dir.path(),
        "left.csv",
        "id,company,website\n\
         a1,Acme Robotics,https://www.acme-robotics.com/about\n\
         a2,Zenith Foods GmbH,\n\
         a3,Globex,\n\
         ,Nameless,\n",
    );
    let right = write(
        dir.path(),
        "right.csv",
        "rid,name,domain\n\
         r1,Acme Robotics Inc.,acme-robotics.com\n\
         r2,Zenith Foods,zenith.de\n\
         r3,Northwind Traders,northwind.com\n",
    );
    let config = write(
        dir.path(),
        "link.toml",
        r#"[left]
id = "id"

[right]
id = "rid"
kind = "organization"
name = "name"
domain = "domain"

[match]
search_term = "website"
[[match.compare]]
source = "company"
affinity = "name"
"#,
    );
    let out = dir.path().join("pairs.csv");
    let (code, stdout, stderr) = affsync(&[
        "link",
        &left,
        &right,
        "--config",
        &config,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("matched        2"), "{stdout}");
    assert!(stdout.contains("unmatched      1"), "{stdout}");
    assert!(stdout.contains("error          1"), "{stdout}");
    let pairs = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = pairs.lines().collect();
    assert_eq!(
        lines[0],
        "left_id,right_id,right_name,status,score,method,reason,contributions"
    );
    // The right record's name beside its id, and in the reason.
    assert!(
        lines[1].starts_with("a1,r1,Acme Robotics Inc.,matched,1.0000,key,"),
        "{pairs}"
    );
    assert!(
        lines[2].starts_with("a2,r2,Zenith Foods,matched,")
            && lines[2].contains(",fuzzy,")
            && lines[2].contains("Zenith Foods (organization r2) scored"),
        "{pairs}"
    );
    assert!(lines[3].starts_with("a3,,,unmatched,"), "{pairs}");
    assert!(
        lines[4].starts_with(",,,error,,,") && lines[4].contains("row 4"),
        "{pairs}"
    );

    // The same run again gives the same file.
    let out2 = dir.path().join("pairs2.csv");
    let args = [
        "link",
        &left,
        &right,
        "--config",
        &config,
        "--out",
        out2.to_str().unwrap(),
        "--json",
    ];
    let (code, stdout, _) = affsync(&args);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["matched"], 2);
    assert_eq!(std::fs::read_to_string(&out2).unwrap(), pairs);
}

#[test]
fn link_config_errors_name_the_file_line_and_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let left = write(dir.path(), "l.csv", "id,name\n1,a\n");
    let cases = [
        (
            "[left]\nid = \"id\"\n[right]\nid = \"id\"\nname = \"name\"\nwebsite = \"w\"\n[match]\nsearch_term = \"w\"\n",
            "line 6",
        ),
        (
            "[left]\nid = \"id\"\n[right]\nid = \"id\"\n[match]\n[[match.compare]]\nsource = \"name\"\naffinity = \"name\"\n",
            "names no column",
        ),
        (
            "[left]\nid = \"id\"\n[right]\nid = \"id\"\nname = \"name\"\n[match]\nsearch_term = \"w\"\n",
            "no `domain` column",
        ),
        ("[left]\nid = \"id\"\n[right]\nid = \"id\"\n[match]\n", "nothing to match on"),
    ];
    for (text, needle) in cases {
        let config = write(dir.path(), "link.toml", text);
        let out = dir.path().join("p.csv");
        let (code, _, stderr) = affsync(&[
            "link",
            &left,
            &left,
            "--config",
            &config,
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(code, 2, "{text}: {stderr}");
        assert!(stderr.contains(needle), "{text}: {stderr}");
        assert!(
            stderr.contains("link.toml`") && stderr.contains("hint:"),
            "{stderr}"
        );
    }
}

#[test]
fn link_matches_people_by_email_then_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let left = write(
        dir.path(),
        "left.jsonl",
        "{\"id\": \"l1\", \"email\": \"J.Doe+news@gmail.com\", \"name\": \"Jane Doe\"}\n\
         {\"id\": \"l2\", \"email\": \"\", \"name\": \"Smith, John\"}\n",
    );
    let right = write(
        dir.path(),
        "right.csv",
        "pid,first,last,mail\np1,Jane,Doe,jdoe@gmail.com\np2,John,Smith,john@acme.com\n",
    );
    let config = write(
        dir.path(),
        "link.toml",
        r#"[left]
id = "id"

[right]
id = "pid"
kind = "person"
first_name = "first"
last_name = "last"
email = "mail"

[match]
search_term = "email"
[[match.compare]]
source = "name"
affinity = "name"
"#,
    );
    let out = dir.path().join("pairs.csv");
    let (code, stdout, stderr) = affsync(&[
        "link",
        &left,
        &right,
        "--config",
        &config,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("matched        2"), "{stdout}");
    let pairs = std::fs::read_to_string(&out).unwrap();
    assert!(
        pairs.contains("\nl1,p1,Jane Doe,matched,1.0000,key,"),
        "{pairs}"
    );
    assert!(
        pairs.contains("\nl2,p2,John Smith,matched,") && pairs.contains(",fuzzy,"),
        "{pairs}"
    );
}

const ORG_LINK: &str = r#"[left]
id = "id"

[right]
id = "rid"
kind = "organization"
name = "name"

[match]
[[match.compare]]
source = "company"
affinity = "name"
"#;

#[test]
fn link_refuses_duplicate_right_ids_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let left = write(dir.path(), "left.csv", "id,company\na1,Acme Robotics\n");
    let right = write(
        dir.path(),
        "right.csv",
        "rid,name\nr1,Acme Robotics\nr2,Zenith\nr1,Acme Robotics GmbH\n",
    );
    let config = write(dir.path(), "link.toml", ORG_LINK);
    let out = dir.path().join("pairs.csv");
    let (code, _, stderr) = affsync(&[
        "link",
        &left,
        &right,
        "--config",
        &config,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("`r1` (rows 1, 3)"), "{stderr}");
    assert!(stderr.contains("hint:"), "{stderr}");
    assert!(!out.exists());
}

#[test]
fn link_into_a_missing_folder_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let left = write(dir.path(), "left.csv", "id,company\na1,Acme\n");
    let right = write(dir.path(), "right.csv", "rid,name\nr1,Acme\n");
    let config = write(dir.path(), "link.toml", ORG_LINK);
    let out = dir.path().join("no-such-folder").join("pairs.csv");
    let (code, _, stderr) = affsync(&[
        "link",
        &left,
        &right,
        "--config",
        &config,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("no-such-folder") && stderr.contains("does not exist"),
        "{stderr}"
    );
}

#[test]
fn a_malformed_csv_row_is_an_error_naming_its_line() {
    let dir = tempfile::tempdir().unwrap();
    // Row 2 has an unquoted comma in its name: its city would read `Inc`.
    let left = write(
        dir.path(),
        "left.csv",
        "id,company,city\na1,Acme Robotics,Berlin\na2,Zenith Foods, Inc,Paris\na3,\"Globex, Inc\",Rome\n",
    );
    let recs = read_records(Path::new(&left), &opts("id", &["company", "city"])).unwrap();
    assert_eq!(recs.len(), 3);
    assert!(recs[0].problem.is_none() && recs[2].problem.is_none());
    assert_eq!(recs[2].values["company"], "Globex, Inc");
    let p = recs[1].problem.as_deref().unwrap();
    assert!(p.contains("line 3") && p.contains("4 fields"), "{p}");
    let right = write(
        dir.path(),
        "right.csv",
        "rid,name\nr1,Acme Robotics\nr2,Zenith Foods\n",
    );
    let config = write(dir.path(), "link.toml", ORG_LINK);
    let out = dir.path().join("pairs.csv");
    let (code, _, stderr) = affsync(&[
        "link",
        &left,
        &right,
        "--config",
        &config,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let pairs = std::fs::read_to_string(&out).unwrap();
    let row2 = pairs.lines().nth(2).unwrap();
    assert!(
        row2.starts_with("a2,,,error,") && row2.contains("line 3"),
        "{pairs}"
    );
}

#[test]
fn a_utf16_file_is_named_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("companies.csv");
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(
        "id,name\n1,Acme\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes),
    );
    std::fs::write(&path, bytes).unwrap();
    let err = read_records(&path, &opts("id", &["name"])).unwrap_err();
    let (e, hint) = (err.to_string(), err.hint().unwrap_or_default());
    assert!(e.contains("UTF-16") && e.contains("not UTF-8"), "{e}");
    assert!(hint.contains("UTF-8"), "{hint}");
    assert!(!e.contains("no column"), "{e}");
}

#[test]
fn pairs_neutralize_cells_a_spreadsheet_would_run_unless_raw_cells() {
    let dir = tempfile::tempdir().unwrap();
    let left = write(
        dir.path(),
        "left.csv",
        "id,company\n=HYPERLINK(\"http://x.example\"),Acme Robotics\n",
    );
    let right = write(
        dir.path(),
        "right.csv",
        "rid,name\n@r1,Acme Robotics Inc.\n",
    );
    let config = write(
        dir.path(),
        "link.toml",
        "[left]\nid = \"id\"\n[right]\nid = \"rid\"\nkind = \"organization\"\nname = \"name\"\n[match]\n[[match.compare]]\nsource = \"company\"\naffinity = \"name\"\n",
    );
    let out = dir.path().join("pairs.csv");
    let out_s = out.display().to_string();
    let base = ["link", &left, &right, "--config", &config, "--out", &out_s];
    let (code, _, err) = affsync(&base);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&out).unwrap();
    let row = text.lines().nth(1).unwrap();
    assert!(
        row.starts_with("\"'=HYPERLINK(\"\"http://x.example\"\")\",'@r1,"),
        "{row}"
    );
    let mut raw = base.to_vec();
    raw.push("--raw-cells");
    let (code, _, err) = affsync(&raw);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&out).unwrap();
    let row = text.lines().nth(1).unwrap();
    assert!(
        row.starts_with("\"=HYPERLINK(\"\"http://x.example\"\")\",@r1,"),
        "{row}"
    );
}
