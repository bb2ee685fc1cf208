use super::*;
use crate::model::{Location, OptionRow};

fn field(name: &str, value_type: &str, multi: bool) -> FieldRow {
    FieldRow {
        id: format!("field-{}", name.len()),
        name: name.into(),
        field_type: "list".into(),
        value_type: value_type.into(),
        list_id: Some(1),
        entity_kind: None,
        allows_multiple: multi,
        enrichment_source: None,
        track_changes: None,
        options: vec![],
    }
}

fn dropdown(name: &str, value_type: &str, multi: bool, opts: &[&str]) -> FieldRow {
    FieldRow {
        options: opts
            .iter()
            .enumerate()
            .map(|(i, t)| OptionRow {
                option_id: 100 + i as i64,
                text: t.to_string(),
                rank: Some(i as i64 + 1),
                color: None,
            })
            .collect(),
        ..field(name, value_type, multi)
    }
}

struct Refs;
impl Resolve for Refs {
    fn person(&self, key: &RefKey) -> Option<Resolved> {
        match key {
            RefKey::Email(e) if e == "ada@northwind.vc" => Some(Resolved {
                id: 7,
                name: Some("Ada Lovelace".into()),
            }),
            RefKey::Id(7) => Some(Resolved {
                id: 7,
                name: Some("Ada Lovelace".into()),
            }),
            _ => None,
        }
    }
    fn organization(&self, key: &RefKey) -> Option<Resolved> {
        match key {
            RefKey::Domain(d) if d == "acme.com" => Some(Resolved {
                id: 9,
                name: Some("Acme".into()),
            }),
            _ => None,
        }
    }
}

fn conv(cell: &str, kind: ValueKind, f: &FieldRow) -> Result<Vec<ValueItem>, ValueError> {
    convert(cell, Rule::new(kind), &Target::Field(f), &Refs)
}

fn one(cell: &str, kind: ValueKind, f: &FieldRow) -> ValueItem {
    let mut v = conv(cell, kind, f).unwrap_or_else(|e| panic!("{cell}: {e}"));
    assert_eq!(v.len(), 1, "{cell}");
    v.remove(0)
}

#[test]
fn dates_land_at_noon_utc() {
    let d = field("Last Funding Date", "datetime", false);
    let cases = [
        ("2024-03-05", "2024-03-05T12:00:00.000Z"),
        (" 2024-03-05 ", "2024-03-05T12:00:00.000Z"),
        ("2024-03-05T23:30:00-08:00", "2024-03-05T12:00:00.000Z"),
        ("2024-03-05T01:00:00Z", "2024-03-05T12:00:00.000Z"),
    ];
    for (cell, at) in cases {
        let v = one(cell, ValueKind::Date, &d);
        assert_eq!(v.at.as_deref(), Some(at), "{cell}");
        assert_eq!(v.value_type, "datetime");
    }
    let with_format = convert(
        "05/03/2024",
        Rule {
            kind: ValueKind::Date,
            date_format: Some("%d/%m/%Y"),
        },
        &Target::Field(&d),
        &NoResolve,
    )
    .unwrap();
    assert_eq!(
        with_format[0].at.as_deref(),
        Some("2024-03-05T12:00:00.000Z")
    );
    for bad in ["2024-13-01", "March 5th", "05/03/2024", "2024-02-30"] {
        let e = conv(bad, ValueKind::Date, &d).unwrap_err();
        assert!(matches!(e, ValueError::BadDate { .. }), "{bad}: {e}");
        assert!(e.hint().contains("date_format"), "{}", e.hint());
    }
}

#[test]
fn numbers_are_numbers() {
    let n = field("Headcount", "number", false);
    for (cell, want) in [
        ("120", 120.0),
        ("12.5", 12.5),
        ("-3", -3.0),
        ("1,200", 1200.0),
        ("12,345,678.5", 12_345_678.5),
        ("1_000", 1000.0),
    ] {
        assert_eq!(
            one(cell, ValueKind::Number, &n).number,
            Some(want),
            "{cell}"
        );
    }
    for bad in ["1,5", "twelve", "12 people", "NaN", "1,20,000", "inf"] {
        assert!(
            matches!(
                conv(bad, ValueKind::Number, &n),
                Err(ValueError::BadNumber { .. })
            ),
            "{bad}"
        );
    }
}

#[test]
fn dropdowns_go_by_option_id_in_any_case() {
    let round = dropdown(
        "Round",
        "dropdown",
        false,
        &["Pre-Seed", "Seed", "Series A"],
    );
    let v = one("series a", ValueKind::Dropdown, &round);
    assert_eq!((v.ref_id, v.text.as_deref()), (Some(102), Some("Series A")));
    assert_eq!(v.number, None);

    let status = dropdown("Status", "ranked-dropdown", false, &["New", "Screening"]);
    let v = one("SCREENING", ValueKind::RankedDropdown, &status);
    assert_eq!((v.ref_id, v.number), (Some(101), Some(2.0)));

    let e = conv("Seires A", ValueKind::Dropdown, &round).unwrap_err();
    match &e {
        ValueError::UnknownOption { closest, .. } => {
            assert_eq!(closest.first().map(String::as_str), Some("Series A"))
        }
        other => panic!("{other}"),
    }
    assert_eq!(e.hint(), "did you mean `Series A`?");
    // Another series is not a typo of `Series A`.
    let e = conv("Series Z", ValueKind::Dropdown, &round).unwrap_err();
    assert!(
        e.hint().contains("`Pre-Seed`, `Seed`, `Series A`"),
        "{}",
        e.hint()
    );
    let e = conv("Quantum", ValueKind::Dropdown, &round).unwrap_err();
    assert!(
        e.hint().contains("`Pre-Seed`, `Seed`, `Series A`"),
        "{}",
        e.hint()
    );
}

#[test]
fn several_values_only_for_a_multi_valued_field() {
    let sectors = dropdown(
        "Sectors",
        "dropdown-multi",
        true,
        &["Fintech", "AI / ML", "Climate"],
    );
    let v = conv("fintech; Climate ;", ValueKind::Dropdown, &sectors).unwrap();
    assert_eq!(
        v.iter().map(|i| i.ref_id.unwrap()).collect::<Vec<_>>(),
        [100, 102]
    );
    assert!(v.iter().all(|i| i.value_type == "dropdown-multi"));

    let round = dropdown("Round", "dropdown", false, &["Seed", "Series A"]);
    let e = conv("Seed; Series A", ValueKind::Dropdown, &round).unwrap_err();
    assert_eq!(
        e,
        ValueError::SeveralValues {
            count: 2,
            field: "`Round`".into()
        }
    );
    // Text is never split.
    let notes = field("Notes", "text", false);
    assert_eq!(
        one("a; b", ValueKind::Text, &notes).text.as_deref(),
        Some("a; b")
    );
}

#[test]
fn urls_are_normalized_and_linkedin_is_canonical() {
    let f = field("Website", "text", false);
    let cases = [
        ("acme.com", "https://acme.com"),
        ("HTTPS://WWW.Acme.com/", "https://www.acme.com"),
        ("http://acme.com/about#team", "http://acme.com/about"),
        (
            "https://uk.linkedin.com/company/Acme-Robotics/about/?trk=x",
            "https://www.linkedin.com/company/acme-robotics",
        ),
        (
            "linkedin.com/in/ada-lovelace",
            "https://www.linkedin.com/in/ada-lovelace",
        ),
    ];
    for (cell, want) in cases {
        assert_eq!(
            one(cell, ValueKind::Url, &f).text.as_deref(),
            Some(want),
            "{cell}"
        );
    }
    for bad in [
        "not a url",
        "htp//acme",
        "https://localhost",
        "ftp://acme.com",
        "https://www.linkedin.com/feed/",
    ] {
        assert!(
            matches!(
                conv(bad, ValueKind::Url, &f),
                Err(ValueError::BadUrl { .. })
            ),
            "{bad}"
        );
    }
}

#[test]
fn emails_are_trimmed_and_lower_cased() {
    let f = field("Work Email", "text", false);
    assert_eq!(
        one("  Ada.Lovelace@Northwind.VC ", ValueKind::Email, &f)
            .text
            .as_deref(),
        Some("ada.lovelace@northwind.vc")
    );
    for bad in ["ada", "ada@", "@x.com", "ada@x", "a b@x.com"] {
        assert!(
            matches!(
                conv(bad, ValueKind::Email, &f),
                Err(ValueError::BadEmail { .. })
            ),
            "{bad}"
        );
    }
}

#[test]
fn locations_take_pulls_shape() {
    let f = field("HQ Location", "location", false);
    let v = one("Austin, Texas, United States", ValueKind::Location, &f);
    assert_eq!(v.text.as_deref(), Some("Austin, Texas, United States"));
    let l: Location = serde_json::from_str(v.json.as_deref().unwrap()).unwrap();
    assert_eq!(l.city.as_deref(), Some("Austin"));
    assert_eq!(l.state.as_deref(), Some("Texas"));
    assert_eq!(l.country.as_deref(), Some("United States"));
    let v = one("Berlin, Germany", ValueKind::Location, &f);
    let l: Location = serde_json::from_str(v.json.as_deref().unwrap()).unwrap();
    assert_eq!(
        (l.city.as_deref(), l.state, l.country.as_deref()),
        (Some("Berlin"), None, Some("Germany"))
    );
    assert!(v.json.unwrap().contains("\"streetAddress\":null"));
}

#[test]
fn persons_and_organizations_by_id_email_or_domain() {
    let owner = field("Owner", "person", false);
    let v = one("Ada@Northwind.vc", ValueKind::Person, &owner);
    assert_eq!(
        (v.ref_id, v.text.as_deref()),
        (Some(7), Some("Ada Lovelace"))
    );
    let v = one("7", ValueKind::Person, &owner);
    assert_eq!(v.ref_id, Some(7));
    // An id the mirror does not hold is taken at its word.
    assert_eq!(
        one("51000192", ValueKind::Person, &owner).ref_id,
        Some(51000192)
    );
    let e = conv("nobody@northwind.vc", ValueKind::Person, &owner).unwrap_err();
    assert!(matches!(e, ValueError::Unresolved { .. }), "{e}");
    assert!(
        matches!(
            conv("Ada Lovelace", ValueKind::Person, &owner),
            Err(ValueError::BadReference { .. })
        ),
        "a name is not a reference"
    );

    let co = field("Co-investors", "company-multi", true);
    let v = conv(
        "https://www.acme.com/about; 12",
        ValueKind::Organization,
        &co,
    )
    .unwrap();
    assert_eq!(
        v.iter().map(|i| i.ref_id.unwrap()).collect::<Vec<_>>(),
        [9, 12]
    );
    assert_eq!(v[0].text.as_deref(), Some("Acme"));
    assert!(matches!(
        conv("unknown.io", ValueKind::Organization, &co),
        Err(ValueError::Unresolved { .. })
    ));
}

#[test]
fn empty_cells_are_no_value() {
    let d = field("Founded", "datetime", false);
    for cell in ["", "   ", ";"] {
        let got = conv(cell, ValueKind::Date, &d);
        assert!(
            matches!(&got, Ok(v) if v.is_empty()) || cell == ";",
            "{cell}: {got:?}"
        );
    }
    assert_eq!(conv(" ; ", ValueKind::Date, &d).unwrap(), vec![]);
}

#[test]
fn special_targets() {
    let t = |cell: &str, kind, s| convert(cell, Rule::new(kind), &Target::Special(s), &NoResolve);
    assert_eq!(
        t(
            "https://www.Acme.co.uk/about",
            ValueKind::Url,
            Special::Domain
        )
        .unwrap()[0]
            .text
            .as_deref(),
        Some("acme.co.uk")
    );
    assert!(t("https://acme.github.io", ValueKind::Url, Special::Domain).is_ok());
    assert!(matches!(
        t(
            "https://linkedin.com/company/acme",
            ValueKind::Url,
            Special::Domain
        ),
        Err(ValueError::BadUrl { .. })
    ));
    assert_eq!(
        t(" Acme Robotics ", ValueKind::Text, Special::Name).unwrap()[0]
            .text
            .as_deref(),
        Some("Acme Robotics")
    );
    let emails = t("A@x.com; b@Y.com", ValueKind::Email, Special::Emails).unwrap();
    assert_eq!(
        emails
            .iter()
            .map(|e| e.text.clone().unwrap())
            .collect::<Vec<_>>(),
        ["a@x.com", "b@y.com"]
    );
    let e = t("Acme", ValueKind::Text, Special::Emails).unwrap_err();
    assert_eq!(e.hint(), "`emails` takes `type = \"email\"`");
}

#[test]
fn pairings_say_what_to_declare() {
    let date = field("Last Funding Date", "datetime", false);
    let e = check_pairing(ValueKind::Text, &Target::Field(&date)).unwrap_err();
    assert_eq!(
        e.hint,
        "`Last Funding Date` is a date field; declare `type = \"date\"`"
    );
    let num = field("Headcount", "number", false);
    let e = check_pairing(ValueKind::Url, &Target::Field(&num)).unwrap_err();
    assert!(e
        .message
        .contains("a `url` value cannot go to `Headcount` (a number field)"));
    let text = field("Website", "text", false);
    for ok in [ValueKind::Text, ValueKind::Url, ValueKind::Email] {
        assert!(check_pairing(ok, &Target::Field(&text)).is_ok());
    }
    let ranked = field("Status", "ranked-dropdown", false);
    assert!(check_pairing(ValueKind::Dropdown, &Target::Field(&ranked))
        .unwrap_err()
        .hint
        .contains("ranked_dropdown"));
    let enriched = FieldRow {
        field_type: "enriched".into(),
        enrichment_source: Some("dealroom".into()),
        ..field("Employees", "number", false)
    };
    let e = check_pairing(ValueKind::Number, &Target::Field(&enriched)).unwrap_err();
    assert!(
        e.message.contains("filled by Affinity (by dealroom)"),
        "{e}"
    );
    let multi = field("Sectors", "dropdown-multi", true);
    assert_eq!(field_type_words(&multi), "a multi-valued dropdown field");
    assert_eq!(
        field_type_words(&field("X", "location", false)),
        "a location field"
    );
}

#[test]
fn same_value_compares_what_affinity_keeps() {
    let d = field("Founded", "datetime", false);
    let want = conv("2024-04-01", ValueKind::Date, &d).unwrap();
    let midnight_pacific = vec![ValueItem {
        value_type: "datetime".into(),
        at: Some("2024-04-01T07:00:00.000Z".into()),
        ..Default::default()
    }];
    assert!(same_value(&want, &midnight_pacific));
    let other_day = vec![ValueItem {
        at: Some("2024-04-02T07:00:00.000Z".into()),
        ..midnight_pacific[0].clone()
    }];
    assert!(!same_value(&want, &other_day));

    let owner = field("Owner", "person", false);
    let by_id = conv("7", ValueKind::Person, &owner).unwrap();
    let pulled = vec![ValueItem {
        value_type: "person".into(),
        ref_id: Some(7),
        text: Some("Ada L.".into()),
        json: Some("{}".into()),
        ..Default::default()
    }];
    assert!(same_value(&by_id, &pulled), "persons compare by id");
    assert!(!same_value(&by_id, &[]));
}

#[test]
fn closest_finds_near_names() {
    let names: Vec<String> = ["LinkedIn URL", "Last Funding Date", "Headcount"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(closest("Linkedin Url", &names, 3)[0], "LinkedIn URL");
    assert_eq!(closest("Head count", &names, 3)[0], "Headcount");
    assert!(closest("Quantum", &names, 3).is_empty());
    // Identity tokens that differ are never a typo to correct.
    let rounds: Vec<String> = ["Seed", "Series A", "Series B", "Fund II", "Fund III"]
        .map(String::from)
        .to_vec();
    assert!(
        closest("Series D", &rounds, 3).is_empty(),
        "{:?}",
        closest("Series D", &rounds, 3)
    );
    assert_eq!(closest("series a", &rounds, 3)[0], "Series A");
    assert_eq!(closest("Serie A", &rounds, 3)[0], "Series A");
    assert!(!closest("Fund IV", &rounds, 3)
        .iter()
        .any(|c| c.starts_with("Fund")));
}
