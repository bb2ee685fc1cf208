use std::collections::BTreeMap;

use super::*;
use crate::mapping::convert::NoResolve;
use crate::model::{FieldRow, OptionRow};

fn list(id: i64, name: &str, kind: Kind) -> ListRow {
    ListRow {
        id,
        name: name.into(),
        kind,
        is_public: true,
        owner_id: None,
        creator_id: None,
    }
}

fn field(id: &str, name: &str, vt: &str, list_id: Option<i64>, kind: Kind) -> FieldRow {
    FieldRow {
        id: id.into(),
        name: name.into(),
        field_type: if list_id.is_some() { "list" } else { "global" }.into(),
        value_type: vt.into(),
        list_id,
        entity_kind: Some(kind),
        allows_multiple: vt.ends_with("-multi"),
        enrichment_source: None,
        track_changes: None,
        options: vec![],
    }
}

fn catalog() -> Catalog {
    let c = Kind::Organization;
    let mut round = field("field-3", "Round", "dropdown", Some(1), c);
    round.options = ["Seed", "Series A"]
        .iter()
        .enumerate()
        .map(|(i, t)| OptionRow {
            option_id: i as i64 + 10,
            text: t.to_string(),
            rank: None,
            color: None,
        })
        .collect();
    Catalog {
        lists: vec![list(1, "Deal Flow", c), list(2, "LPs", Kind::Person)],
        fields: vec![
            field("field-1", "LinkedIn URL", "text", Some(1), c),
            field("field-2", "Last Funding Date", "datetime", Some(1), c),
            round,
            field("field-4", "Headcount", "number", Some(1), c),
            field("field-5", "Notes", "text", Some(1), c),
            field("field-6", "Commitment", "number", Some(2), Kind::Person),
            FieldRow {
                field_type: "enriched".into(),
                entity_kind: None,
                enrichment_source: Some("dealroom".into()),
                ..field("dealroom-employees", "Employees", "number", None, c)
            },
        ],
        list_fields: BTreeMap::from([(
            1,
            vec![
                "field-1".into(),
                "field-2".into(),
                "field-3".into(),
                "dealroom-employees".into(),
            ],
        )]),
    }
}

fn rows(col: &str, values: &[&str]) -> SourceSample {
    SourceSample::Read {
        missing: vec![],
        available: vec!["source_id".into(), col.into()],
        rows: values
            .iter()
            .enumerate()
            .map(|(i, v)| SourceRecord {
                row: i + 1,
                id: Some(i.to_string()),
                values: BTreeMap::from([(col.to_string(), v.to_string())]),
                problem: None,
            })
            .collect(),
    }
}

fn mapping(fields: &str) -> Mapping {
    let text = format!(
        "version = 1\nentity = \"organization\"\n[source]\npath = \"c.csv\"\nid = \"source_id\"\n[push]\nmode = \"create_update\"\nadd_to_list = \"Deal Flow\"\n{fields}"
    );
    Mapping::parse(Path::new("m.toml"), text).unwrap()
}

fn field_toml(source: &str, affinity: &str, ty: &str) -> String {
    format!("[[fields]]\nsource = \"{source}\"\naffinity = \"{affinity}\"\ntype = \"{ty}\"\n")
}

fn errors(d: &[Diagnostic]) -> Vec<&Diagnostic> {
    d.iter().filter(|d| d.severity == Severity::Error).collect()
}

#[test]
fn a_clean_file_has_no_errors() {
    let m = mapping(&field_toml("li", "LinkedIn URL", "url"));
    let d = check(
        &m,
        &catalog(),
        &NoResolve,
        &rows(
            "li",
            &[
                "linkedin.com/company/acme",
                "https://www.linkedin.com/in/ada",
            ],
        ),
    );
    assert!(d.is_empty(), "{d:#?}");
}

#[test]
fn each_problem_names_line_key_and_hint() {
    // (fields, column values, key, line, message part, hint part)
    let cases = [
        (
            field_toml("li", "LinkdIn URL", "url"),
            vec!["acme.com"],
            "fields[0].affinity",
            11,
            "no field named `LinkdIn URL`",
            "did you mean `LinkedIn URL`?",
        ),
        (
            field_toml("d", "Last Funding Date", "text"),
            vec!["2024-01-01"],
            "fields[0].type",
            12,
            "a `text` value cannot go to `Last Funding Date`",
            "`Last Funding Date` is a date field; declare `type = \"date\"`",
        ),
        (
            field_toml("d", "Notes", "text"),
            vec!["2024-01-01", "2023-05-06", "12/03/2022"],
            "fields[0].source",
            10,
            "column `d` holds dates (3 of 3 values)",
            "type = \\\"date\\\"",
        ),
        (
            field_toml("w", "Headcount", "url"),
            vec!["acme.com"],
            "fields[0].type",
            12,
            "(a number field)",
            "declare `type = \"number\"`",
        ),
        (
            field_toml("n", "Commitment", "number"),
            vec!["1"],
            "fields[0].affinity",
            11,
            "`Commitment` is a field of the list `LPs`",
            "a field must be global or on that list",
        ),
        (
            field_toml("n", "Employees", "number"),
            vec!["1"],
            "fields[0].type",
            12,
            "filled by Affinity (by dealroom)",
            "custom field",
        ),
        (
            field_toml("r", "Round", "dropdown"),
            vec!["Seires A", "Series Q", "Seed"],
            "fields[0].source",
            10,
            "2 of 3 values of column `r` are not `dropdown` values (row 1: `Seires A` is not an option of `Round`)",
            "did you mean `Series A`?",
        ),
        (
            // Another series is not a typo of `Series A`: no "did you mean".
            field_toml("r", "Round", "dropdown"),
            vec!["Series Z", "Series Q", "Seed"],
            "fields[0].source",
            10,
            "2 of 3 values of column `r` are not `dropdown` values (row 1: `Series Z` is not an option of `Round`)",
            "the options are `Seed`, `Series A`",
        ),
        (
            field_toml("n", "first_name", "text"),
            vec!["Ada"],
            "fields[0].affinity",
            11,
            "organizations have no `first_name`",
            "`name`, `domain`",
        ),
    ];
    for (fields, values, key, line, msg, hint) in cases {
        let m = mapping(&fields);
        let col = m.fields[0].source.get_ref().clone();
        let d = check(&m, &catalog(), &NoResolve, &rows(&col, &values));
        let e = errors(&d);
        assert_eq!(e.len(), 1, "{fields}: {d:#?}");
        let e = e[0];
        assert_eq!((e.key.as_str(), e.line), (key, line), "{e}");
        assert!(e.message.contains(msg), "{e}\nlacks {msg}");
        assert!(
            e.hint.contains(hint) || e.hint.contains(&hint.replace("\\\"", "\"")),
            "{e}\nlacks {hint}"
        );
        assert_eq!(e.file, "m.toml");
    }
}

#[test]
fn every_error_of_a_file_is_reported() {
    let fields = [
        field_toml("li", "LinkdIn", "url"),
        field_toml("d", "Last Funding Date", "text"),
        field_toml("gone", "Headcount", "number"),
    ]
    .concat();
    let mut m = mapping(&fields);
    m.text = m.text.replace("Deal Flow", "Deal Flw");
    let m = Mapping::parse(Path::new("m.toml"), m.text.clone()).unwrap();
    let sample = SourceSample::Read {
        missing: vec!["gone".into()],
        available: vec!["source_id".into(), "li".into(), "d".into(), "gonne".into()],
        rows: vec![],
    };
    let d = check(&m, &catalog(), &NoResolve, &sample);
    let keys: Vec<&str> = errors(&d).iter().map(|e| e.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "push.add_to_list",
            "fields[0].affinity",
            "fields[1].type",
            "fields[2].source"
        ],
        "{d:#?}"
    );
    assert_eq!(errors(&d)[0].hint, "did you mean `Deal Flow`?");
    assert_eq!(errors(&d)[3].hint, "did you mean `gonne`?");
}

#[test]
fn a_few_bad_cells_are_warnings() {
    let m = mapping(&field_toml("d", "Last Funding Date", "date"));
    let d = check(
        &m,
        &catalog(),
        &NoResolve,
        &rows("d", &["2024-01-01", "2024-02-30", "2023-05-06", ""]),
    );
    assert!(errors(&d).is_empty(), "{d:#?}");
    assert_eq!(d.len(), 1);
    assert!(
        d[0].message.contains("row 2: `2024-02-30` is not a date"),
        "{}",
        d[0]
    );
    assert!(d[0].hint.contains("push skips the value"), "{}", d[0].hint);

    // Under `strict = true` check says what push will then do: fail the record.
    let m = mapping(&format!(
        "strict = true\n{}",
        field_toml("d", "Last Funding Date", "date")
    ));
    let d = check(
        &m,
        &catalog(),
        &NoResolve,
        &rows("d", &["2024-01-01", "2024-02-30", "2023-05-06", ""]),
    );
    assert_eq!(d.len(), 1, "{d:#?}");
    assert!(d[0].hint.contains("push fails the record"), "{}", d[0].hint);
}

#[test]
fn opportunities_are_created_on_a_list() {
    let text = "version = 1\nentity = \"opportunity\"\n[source]\npath = \"c.csv\"\nid = \"source_id\"\n[push]\nmode = \"create_update\"\n";
    let m = Mapping::parse(Path::new("o.toml"), text.into()).unwrap();
    let d = check(&m, &catalog(), &NoResolve, &rows("x", &[]));
    assert_eq!(errors(&d).len(), 1, "{d:#?}");
    assert_eq!(d[0].key, "push.add_to_list");
}
