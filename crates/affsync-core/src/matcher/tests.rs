//! The matcher's behaviour on small, hand-made inputs.

use super::*;

fn org(id: &str, name: &str, domains: &[&str]) -> Candidate {
    let mut c = Candidate::new(Kind::Organization, id, name);
    c.domains = domains.iter().map(|d| d.to_string()).collect();
    c
}

fn src(row: usize, id: &str, cols: &[(&str, &str)]) -> SourceRecord {
    SourceRecord {
        row,
        id: Some(id.to_string()),
        values: cols
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        problem: None,
    }
}

fn cfg(search_term: Option<&str>, compare: &[(&str, &str)]) -> MatchConfig {
    MatchConfig {
        search_term: search_term.map(str::to_string),
        compare: compare
            .iter()
            .map(|(s, a)| Compare {
                source: s.to_string(),
                affinity: a.to_string(),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

fn run(cfg: &MatchConfig, cands: &[Candidate], sources: &[SourceRecord]) -> Vec<Decision> {
    match_records(cfg, Kind::Organization, cands, sources, &Reviewed::new())
}

#[test]
fn an_exact_key_beats_a_fuzzy_score() {
    // Row 1's name is exactly candidate 2's, but its website is candidate 1's domain.
    let cands = [
        org("1", "Zenith Robotics", &["acme.com"]),
        org("2", "Acme Corporation", &["acme-corp.net"]),
    ];
    let sources = [src(
        1,
        "s1",
        &[
            ("website", "https://www.acme.com/about"),
            ("name", "Acme Corporation"),
        ],
    )];
    let d = run(&cfg(Some("website"), &[("name", "name")]), &cands, &sources);
    assert_eq!(d[0].status, Status::Matched);
    assert_eq!(d[0].method, Some(Method::Key));
    assert_eq!(d[0].affinity_id.as_deref(), Some("1"));
    assert!(d[0].reason.contains("acme.com"), "{}", d[0].reason);
}

#[test]
fn a_fuzzy_name_matches_when_there_is_no_key() {
    let cands = [
        org("1", "Acme Robotics Inc.", &["acme.com"]),
        org("2", "Zenith Foods GmbH", &[]),
        org("3", "Northwind Traders", &[]),
    ];
    let sources = [
        src(1, "s1", &[("name", "ACME Robotics")]),
        src(2, "s2", &[("website", ""), ("name", "Zenith Foods")]),
        src(3, "s3", &[("name", "Globex")]),
    ];
    let d = run(&cfg(Some("website"), &[("name", "name")]), &cands, &sources);
    assert_eq!(
        (d[0].status, d[0].method),
        (Status::Matched, Some(Method::Fuzzy)),
        "{:?}",
        d[0]
    );
    assert_eq!(d[0].affinity_id.as_deref(), Some("1"));
    assert_eq!(d[1].affinity_id.as_deref(), Some("2"));
    assert!(
        d[1].reason.contains("no `website` value"),
        "{}",
        d[1].reason
    );
    assert_eq!(d[2].status, Status::Unmatched);
    assert_eq!(d[2].affinity_id, None);
    assert!(!d[2].reason.is_empty());
}

#[test]
fn a_near_tie_goes_to_review() {
    // Both candidates are `acme` once their legal forms go; the source names neither form.
    let cands = [org("1", "Acme GmbH", &[]), org("2", "Acme Ltd", &[])];
    let sources = [src(1, "s1", &[("name", "Acme")])];
    let d = run(&cfg(None, &[("name", "name")]), &cands, &sources);
    assert_eq!(d[0].status, Status::Review, "{:?}", d[0]);
    assert!(d[0].reason.contains("runner-up"), "{}", d[0].reason);
    assert_eq!(d[0].top.len(), 2);
    assert!(d[0].top[0].score >= d[0].top[1].score);
}

#[test]
fn two_sources_for_one_candidate_do_not_both_match() {
    let cands = [org("1", "Acme Robotics", &[])];
    // The second row is a weaker likeness: the first wins, the second goes to a person.
    let sources = [
        src(1, "s1", &[("name", "Acme Robotics")]),
        src(2, "s2", &[("name", "Acme Robots AG")]),
    ];
    let d = run(&cfg(None, &[("name", "name")]), &cands, &sources);
    assert_eq!(d[0].status, Status::Matched, "{:?}", d[0]);
    assert_ne!(d[1].status, Status::Matched, "{:?}", d[1]);
    assert!(d[1].reason.contains("row 1"), "{}", d[1].reason);
    // Two rows that are one record (one name written twice, duplicate rows of the file): both
    // are that record, and the reason says so.
    let sources = [
        src(1, "s1", &[("name", "Acme Robotics")]),
        src(2, "s2", &[("name", "ACME robotics")]),
    ];
    let d = run(&cfg(None, &[("name", "name")]), &cands, &sources);
    assert_eq!(d[0].status, Status::Matched, "{:?}", d[0]);
    assert_eq!(d[1].status, Status::Matched, "{:?}", d[1]);
    assert!(
        d[1].reason.contains("row 1 is matched to it too"),
        "{}",
        d[1].reason
    );
    // Two rows alike but not one record (the names differ in a way that matters): neither is
    // matched silently.
    let sources = [
        src(1, "s1", &[("name", "Acme Robotics GmbH")]),
        src(2, "s2", &[("name", "Acme Robotics Ltd")]),
    ];
    let d = run(&cfg(None, &[("name", "name")]), &cands, &sources);
    assert!(d.iter().all(|d| d.status == Status::Review), "{d:?}");
    assert!(d[0].reason.contains("row 2"), "{}", d[0].reason);
}

#[test]
fn a_shared_key_goes_to_review() {
    let cands = [
        org("1", "Acme", &["acme.com"]),
        org("2", "Acme (old)", &["acme.com"]),
    ];
    let sources = [src(1, "s1", &[("website", "acme.com")])];
    let d = run(&cfg(Some("website"), &[]), &cands, &sources);
    assert_eq!(d[0].status, Status::Review);
    // Each candidate named, to choose from.
    assert!(
        d[0].reason.contains(
            "2 organizations (Acme (organization 1), Acme (old) (organization 2)): a person must choose"
        ),
        "{}",
        d[0].reason
    );
    // Two rows with one key: neither is matched silently.
    let cands = [org("1", "Acme", &["acme.com"])];
    let sources = [
        src(1, "s1", &[("website", "acme.com")]),
        src(2, "s2", &[("website", "www.acme.com")]),
    ];
    let d = run(&cfg(Some("website"), &[]), &cands, &sources);
    assert!(d.iter().all(|d| d.status == Status::Review), "{d:?}");
}

#[test]
fn within_list_is_respected() {
    let on_list = |mut c: Candidate, list: &str| {
        c.lists.push(ListRef {
            id: "77".into(),
            name: list.into(),
        });
        c
    };
    let cands = [
        org("1", "Acme Robotics", &["acme.com"]),
        on_list(org("2", "Acme Robotics", &["acme.io"]), "Deal Flow"),
    ];
    let sources = [
        src(
            1,
            "s1",
            &[("website", "acme.com"), ("name", "Acme Robotics")],
        ),
        src(2, "s2", &[("website", "acme.io")]),
        src(3, "s3", &[("name", "Acme Robotics")]),
    ];
    for list in ["Deal Flow", "deal flow", "77"] {
        let mut c = cfg(Some("website"), &[("name", "name")]);
        c.within_list = Some(list.into());
        let d = run(&c, &cands, &sources);
        // Row 1's key is the domain of a record that is not on the list: the search term is its
        // identity, so it is that record (which the push adds to the list), not a new one.
        assert_eq!(d[0].affinity_id.as_deref(), Some("1"), "{list}: {:?}", d[0]);
        assert_eq!(d[0].method, Some(Method::Key), "{list}: {:?}", d[0]);
        assert_eq!(d[1].affinity_id.as_deref(), Some("2"));
        assert_eq!(d[1].method, Some(Method::Key));
        // Without a key, only the record on the list is a (fuzzy) candidate.
        assert_eq!(d[2].affinity_id.as_deref(), Some("2"), "{list}: {:?}", d[2]);
        assert_eq!(d[2].method, Some(Method::Fuzzy), "{list}: {:?}", d[2]);
    }
    let mut c = cfg(Some("website"), &[("name", "name")]);
    c.within_list = Some("Other".into());
    let d = run(&c, &cands, &sources);
    assert_eq!(d[0].status, Status::Matched, "{:?}", d[0]);
    assert_eq!(d[1].status, Status::Matched, "{:?}", d[1]);
    assert_eq!(d[2].status, Status::Unmatched, "{:?}", d[2]);
}

#[test]
fn an_opportunity_is_found_by_its_term_only_on_its_list() {
    let mut on = Candidate::new(Kind::Opportunity, "5", "Series A Acme");
    on.lists.push(ListRef {
        id: "77".into(),
        name: "Deals".into(),
    });
    let off = Candidate::new(Kind::Opportunity, "6", "Series B Zenon");
    let cands = [on, off];
    let sources = [
        src(1, "s1", &[("deal", "Series A Acme")]),
        src(2, "s2", &[("deal", "Series B Zenon")]),
    ];
    let mut c = cfg(Some("deal"), &[]);
    c.within_list = Some("Deals".into());
    let d = match_records(&c, Kind::Opportunity, &cands, &sources, &Reviewed::new());
    assert_eq!(d[0].affinity_id.as_deref(), Some("5"), "{:?}", d[0]);
    assert_eq!(d[1].status, Status::Unmatched, "{:?}", d[1]);
}

#[test]
fn a_global_organization_can_be_matched() {
    let mut google = org("9", "Google", &["google.com"]);
    google.global = true;
    let cands = [google, org("1", "Acme", &["acme.com"])];
    let sources = [
        src(1, "s1", &[("website", "https://www.google.com/")]),
        src(2, "s2", &[("name", "Google LLC")]),
    ];
    let d = run(&cfg(Some("website"), &[]), &cands, &sources[..1]);
    assert_eq!(
        (d[0].status, d[0].affinity_id.as_deref()),
        (Status::Matched, Some("9"))
    );
    assert!(
        d[0].reason.contains("global organization 9"),
        "{}",
        d[0].reason
    );
    let d = run(&cfg(None, &[("name", "name")]), &cands, &sources[1..]);
    assert_eq!(
        (d[0].status, d[0].affinity_id.as_deref()),
        (Status::Matched, Some("9"))
    );
}

#[test]
fn the_same_input_gives_the_same_output() {
    let names = [
        "Acme Robotics",
        "Acme Robotic Systems",
        "Zenith Foods",
        "Zenith Food Co",
        "Northwind",
        "Northwind Traders",
        "Globex",
        "Globex Corp",
        "Initech",
        "Initech LLC",
        "Umbrella",
        "Hooli",
        "Hooli XYZ",
        "Vandelay Industries",
        "Vandelay Imports",
    ];
    let cands: Vec<Candidate> = names
        .iter()
        .enumerate()
        .map(|(i, n)| org(&i.to_string(), n, if i % 3 == 0 { &["x.com"] } else { &[] }))
        .collect();
    let sources: Vec<SourceRecord> = names
        .iter()
        .rev()
        .enumerate()
        .map(|(i, n)| {
            src(
                i + 1,
                &format!("s{i}"),
                &[("name", &n.to_lowercase()), ("website", "x.com")],
            )
        })
        .collect();
    let c = cfg(Some("website"), &[("name", "name")]);
    let first = run(&c, &cands, &sources);
    for _ in 0..5 {
        assert_eq!(run(&c, &cands, &sources), first);
    }
    // Whatever the number of threads: the decisions are made on every core.
    for threads in [1, 3] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        assert_eq!(pool.install(|| run(&c, &cands, &sources)), first);
    }
    assert_eq!(first.len(), sources.len());
    assert!(first.iter().zip(&sources).all(|(d, s)| d.row == s.row));
}

#[test]
fn bad_source_rows_are_errors_with_their_row_numbers() {
    let cands = [org("1", "Acme", &["acme.com"])];
    let mut no_id = src(2, "", &[("website", "acme.com")]);
    no_id.id = None;
    let mut broken = src(3, "s3", &[]);
    broken.problem = Some("column `website` is not valid UTF-8".into());
    let sources = [
        src(1, "s1", &[("website", "acme.com")]),
        no_id,
        broken,
        src(4, " ", &[]),
        src(5, "s1", &[]),
    ];
    let d = run(&cfg(Some("website"), &[]), &cands, &sources);
    assert_eq!(d[0].status, Status::Matched);
    for (i, needle) in [(1, "row 2"), (2, "row 3"), (3, "row 4"), (4, "row 1")] {
        assert_eq!(d[i].status, Status::Error, "{:?}", d[i]);
        assert!(d[i].reason.contains(needle), "{}", d[i].reason);
    }
}

#[test]
fn reviewer_decisions_win() {
    let cands = [org("1", "Acme", &["acme.com"]), org("2", "Zenith", &[])];
    let sources = [
        src(1, "s1", &[("website", "acme.com")]),
        src(2, "s2", &[("website", "zenith.com")]),
        src(3, "s3", &[("website", "acme.com")]),
    ];
    let reviewed: Reviewed = [
        ("s1".to_string(), ReviewerDecision::NoMatch),
        ("s2".to_string(), ReviewerDecision::Match("2".into())),
    ]
    .into_iter()
    .collect();
    let d = match_records(
        &cfg(Some("website"), &[]),
        Kind::Organization,
        &cands,
        &sources,
        &reviewed,
    );
    assert_eq!(
        (d[0].status, d[0].method),
        (Status::Unmatched, Some(Method::Reviewer))
    );
    assert_eq!(
        (d[1].status, d[1].method),
        (Status::Matched, Some(Method::Reviewer))
    );
    assert_eq!(d[1].affinity_id.as_deref(), Some("2"));
    // Row 1 no longer claims acme.com, so row 3 has it alone.
    assert_eq!(
        (d[2].status, d[2].method),
        (Status::Matched, Some(Method::Key))
    );
}

#[test]
fn people_match_by_email_then_by_name() {
    let mut jane = Candidate::new(Kind::Person, "p1", "");
    jane.first_name = Some("Jane".into());
    jane.last_name = Some("Doe".into());
    jane.emails = vec!["Jane.Doe@gmail.com".into()];
    let mut john = Candidate::new(Kind::Person, "p2", "John Smith");
    john.emails = vec!["john@acme.com".into()];
    let cands = [jane, john];
    let sources = [
        src(1, "s1", &[("email", "janedoe+crm@googlemail.com")]),
        src(
            2,
            "s2",
            &[("email", "js@other.org"), ("full", "Smith, John")],
        ),
    ];
    let c = cfg(Some("email"), &[("full", "name")]);
    let d = match_records(&c, Kind::Person, &cands, &sources, &Reviewed::new());
    assert_eq!(
        (d[0].status, d[0].affinity_id.as_deref()),
        (Status::Matched, Some("p1"))
    );
    assert_eq!(d[0].method, Some(Method::Key));
    assert_eq!(
        (d[1].status, d[1].affinity_id.as_deref()),
        (Status::Matched, Some("p2"))
    );
    assert_eq!(d[1].method, Some(Method::Fuzzy));
}

#[test]
fn fields_are_compared_by_name() {
    let mut a = org("1", "Cafe Roma", &[]);
    a.fields.insert("Phone".into(), vec!["310/246-1501".into()]);
    let mut b = org("2", "Cafe Roma", &[]);
    b.fields.insert("Phone".into(), vec!["212-555-0100".into()]);
    let cands = [a, b];
    let sources = [src(
        1,
        "s1",
        &[("name", "Café Roma"), ("phone", "310-246-1501")],
    )];
    let d = run(
        &cfg(None, &[("name", "name"), ("phone", "Phone")]),
        &cands,
        &sources,
    );
    assert_eq!(
        (d[0].status, d[0].affinity_id.as_deref()),
        (Status::Matched, Some("1")),
        "{:?}",
        d[0]
    );
}

#[test]
fn first_and_last_names_crossed_between_columns_still_match() {
    let mut jane = Candidate::new(Kind::Person, "p1", "");
    jane.first_name = Some("Jane".into());
    jane.last_name = Some("Doe".into());
    let mut other = Candidate::new(Kind::Person, "p2", "");
    other.first_name = Some("Doris".into());
    other.last_name = Some("Jansen".into());
    let cands = [jane, other];
    let sources = [src(1, "s1", &[("first", "Doe"), ("last", "Jane")])];
    let c = cfg(None, &[("first", "first_name"), ("last", "last_name")]);
    let d = match_records(&c, Kind::Person, &cands, &sources, &Reviewed::new());
    assert_eq!(
        (d[0].status, d[0].affinity_id.as_deref()),
        (Status::Matched, Some("p1")),
        "{:?}",
        d[0]
    );
    assert!(d[0].reason.contains("crossed"), "{}", d[0].reason);
    assert!(d[0].score.unwrap() < 1.0);
}

#[test]
fn identity_tokens_forbid_a_match_on_the_name_alone() {
    // (source name, candidate name, an agreeing identifier, matched?). Names whose numbers,
    // roman numerals, series or regions differ are other entities: never `matched` or `review`
    // on the name alone, but an identifier that agrees exactly still matches them.
    let cases: &[(&str, &str, Option<&str>, bool)] = &[
        ("Acme 2", "Acme 20", None, false),
        ("Acme 20", "Acme 2 Inc", None, false),
        (
            "Acme Ventures Fund II",
            "Acme Ventures Fund III",
            None,
            false,
        ),
        (
            "Sequoia Capital China",
            "Sequoia Capital India",
            None,
            false,
        ),
        ("3M", "M3", None, false),
        ("3M Company", "M3 Company", None, false),
        ("Acme Fund I", "Acme Fund II", None, false),
        ("Accel Partners V", "Accel Partners VI", None, false),
        ("Acme Series A", "Acme Series B", None, false),
        ("Acme 2019", "Acme 2020", None, false),
        ("Acme Europe", "Acme Asia", None, false),
        ("Acme Germany GmbH", "Acme France GmbH", None, false),
        ("Acme Fund II", "Acme Fund", None, false),
        ("Acme 7 Ltd", "Acme 1 Ltd", None, false),
        ("Web3 Labs", "Web4 Labs", None, false),
        ("Acme 100", "Acme 1000", None, false),
        (
            "Hong Kong Acme Holdings",
            "Singapore Acme Holdings",
            None,
            false,
        ),
        ("Acme Capital Fund 3", "Acme Capital Fund III", None, true),
        ("Acme Partners 2", "Acme Partners II", None, true),
        ("Acme Inc", "ACME, Inc.", None, true),
        (
            "Sequoia Capital China",
            "Sequoia Capital China Ltd",
            None,
            true,
        ),
        ("Acme 2", "Acme 20", Some("310-246-1501"), true),
        ("Acme Fund II", "Acme Fund III", Some("acme-fund.com"), true),
    ];
    assert!(cases.len() >= 20);
    for &(source, cand, ident, want) in cases {
        let mut c = org("1", cand, &[]);
        let mut cols = vec![("name", source)];
        let mut compare = vec![("name", "name")];
        if let Some(v) = ident {
            if v.contains('.') {
                c.domains = vec![v.to_string()];
                cols.push(("web", v));
                compare.push(("web", "domain"));
            } else {
                c.fields.insert("Phone".into(), vec![v.to_string()]);
                cols.push(("phone", v));
                compare.push(("phone", "Phone"));
            }
        }
        let d = run(&cfg(None, &compare), &[c], &[src(1, "s1", &cols)]);
        let want_status = if want {
            Status::Matched
        } else {
            Status::Unmatched
        };
        assert_eq!(d[0].status, want_status, "{source} ~ {cand}: {:?}", d[0]);
        // A candidate the index proposes is refused for its identity tokens.
        if !want && d[0].considered > 0 {
            assert!(d[0].reason.contains("differ"), "{}", d[0].reason);
        }
    }
}

fn with_field(mut c: Candidate, field: &str, value: &str) -> Candidate {
    c.fields.insert(field.into(), vec![value.into()]);
    c
}

#[test]
fn an_empty_name_never_matches_on_a_minor_column_alone() {
    let cands = [
        with_field(org("1", "Acme GmbH", &[]), "City", "Berlin"),
        with_field(org("2", "Zenith Foods", &[]), "City", "Paris"),
    ];
    let sources = [
        src(1, "s1", &[("name", ""), ("city", "Berlin")]),
        src(2, "s2", &[("city", "Paris")]),
    ];
    let d = run(
        &cfg(None, &[("name", "name"), ("city", "City")]),
        &cands,
        &sources,
    );
    for d in &d {
        assert_ne!(d.status, Status::Matched, "{d:?}");
        assert!(d.reason.contains("no name"), "{}", d.reason);
    }
}

#[test]
fn names_that_differ_are_not_lifted_over_accept_by_other_columns() {
    let cands = [
        with_field(org("1", "Acme Robotics Inc", &[]), "City", "Berlin"),
        with_field(org("2", "Zenith Foods GmbH", &[]), "City", "Hamburg"),
    ];
    let sources = [
        src(1, "s1", &[("name", "Acme Logistics"), ("city", "Berlin")]),
        src(2, "s2", &[("name", "Zenon Feeds"), ("city", "Hamburg")]),
    ];
    let d = run(
        &cfg(None, &[("name", "name"), ("city", "City")]),
        &cands,
        &sources,
    );
    for d in &d {
        assert_ne!(d.status, Status::Matched, "{d:?}");
    }
    // An identifier that agrees exactly is strong enough.
    let cands = [with_field(
        org("1", "Zenith Foods GmbH", &[]),
        "Phone",
        "040 1234 5678",
    )];
    let sources = [src(
        1,
        "s1",
        &[("name", "Zenon Feeds"), ("phone", "040 1234 5678")],
    )];
    let c = cfg(None, &[("name", "name"), ("phone", "Phone")]);
    let d = run(&c, &cands, &sources);
    assert_ne!(d[0].status, Status::Unmatched, "{:?}", d[0]);
}

/// The cap holds back names that differ only where other columns lift them: a name that
/// reaches `accept` by itself (here `words contained`, made strong evidence by its m and u)
/// was lifted by nothing. Without that, a one-column mapping could never match such a pair
/// at any threshold.
#[test]
fn names_that_differ_but_reach_accept_by_themselves_are_not_held_back() {
    let cands = [
        org("1", "Quarry Fleet Management Services", &[]),
        org("2", "Zenith Foods", &[]),
    ];
    let sources = [src(1, "s1", &[("name", "Fleet")])];
    let with = |m: Vec<f64>, u: Vec<f64>| {
        let mut c = cfg(None, &[("name", "name")]);
        c.compare[0].m = Some(m);
        c.compare[0].u = Some(u);
        c
    };
    // m and u per level: exact … words contained, different.
    let m = vec![0.3, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.25, 0.05];
    let strong = with(m.clone(), [vec![1e-7; 8], vec![1.0 - 8e-7]].concat());
    let d = run(&strong, &cands, &sources);
    assert_eq!(d[0].contributions[1].level, "words contained", "{:?}", d[0]);
    assert_eq!(d[0].status, Status::Matched, "{:?}", d[0]);
    assert_eq!(d[0].affinity_id.as_deref(), Some("1"));
    // The same words contained, as weak evidence: below accept, and nothing lifts it.
    let weak = with(m, [vec![1e-7; 7], vec![0.2], vec![0.8 - 7e-7]].concat());
    let d = run(&weak, &cands, &sources);
    assert_ne!(d[0].status, Status::Matched, "{:?}", d[0]);
}

#[test]
fn reasons_name_what_holds_a_candidate() {
    // Rows 1 and 2 share a key: both go to review, and nobody is matched to organization 1.
    // Row 3's best candidate is organization 1.
    let cands = [
        org("1", "Acme Robotics", &["acme.com"]),
        org("2", "Zenith", &[]),
    ];
    let sources = [
        src(1, "s1", &[("website", "acme.com")]),
        src(2, "s2", &[("website", "www.acme.com")]),
        src(3, "s3", &[("name", "Acme Robotics")]),
    ];
    let d = run(&cfg(Some("website"), &[("name", "name")]), &cands, &sources);
    assert!(d.iter().all(|d| d.status != Status::Matched), "{d:?}");
    for d in &d {
        assert!(!d.reason.contains("reviewer"), "{}", d.reason);
        assert!(!d.reason.contains("matched to row"), "{}", d.reason);
    }
    assert!(d[1].reason.contains("rows 1, 2"), "{}", d[1].reason);
    assert!(d[2].reason.contains("in review"), "{}", d[2].reason);
}

#[test]
fn a_score_just_below_a_threshold_does_not_read_as_equal() {
    let mut c = cfg(None, &[("name", "name")]);
    c.review_threshold = Some(0.01);
    c.accept_threshold = Some(0.01);
    let cands = [org("1", "Feeney Aufderhar and Kirlin", &[])];
    let sources = [src(1, "s1", &[("name", "Feeney Aufderhar & Kirlim Inc")])];
    let s = run(&c, &cands, &sources)[0].score.unwrap();
    assert!(s < 1.0, "{s}");
    // A threshold above the score that rounds to the same two decimals.
    let upper = (((s * 100.0).round() + 0.5) / 100.0).min(1.0);
    let accept = (s + upper) / 2.0;
    assert_eq!(format!("{s:.2}"), format!("{accept:.2}"));
    c.accept_threshold = Some(accept);
    let d = &run(&c, &cands, &sources)[0];
    assert_eq!(d.status, Status::Review, "{d:?}");
    let shown = |after: &str| -> String {
        let at = d
            .reason
            .find(after)
            .unwrap_or_else(|| panic!("{}", d.reason))
            + after.len();
        d.reason[at..]
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect()
    };
    assert_ne!(shown("scored "), shown("accept "), "{}", d.reason);
}

#[test]
fn a_megabyte_cell_is_compared_as_its_first_bytes() {
    let big = format!("Acme Robotics {}", "x".repeat(1 << 20));
    let small = &big[..1024];
    let cands = [org("1", &big, &[]), org("2", "Zenith", &[])];
    let c = cfg(None, &[("name", "name")]);
    let m = Matcher::new(&c, Kind::Organization, &cands);
    let p_big = m.prepare(&src(1, "s1", &[("name", &big)]));
    let p_small = m.prepare(&src(1, "s1", &[("name", small)]));
    assert_eq!(p_big, p_small);
    let small_cands = [org("1", small, &[]), org("2", "Zenith", &[])];
    let m_small = Matcher::new(&c, Kind::Organization, &small_cands);
    assert!(m.values == m_small.values);
    let d_big = m.run(&[src(1, "s1", &[("name", &big)])], &Reviewed::new());
    let d_small = m_small.run(&[src(1, "s1", &[("name", small)])], &Reviewed::new());
    assert_eq!(d_big, d_small);
}

#[test]
fn duplicate_candidate_ids_are_named() {
    let cands = [
        org("r1", "Acme", &[]),
        org("r2", "Zenith", &[]),
        org("r1", "Acme Ltd", &[]),
        org("r3", "Globex", &[]),
        org("r3", "Globex", &[]),
    ];
    assert_eq!(duplicate_ids(&cands), ["r1", "r3"]);
    assert!(duplicate_ids(&cands[..2]).is_empty());
}

fn person(id: &str, first: &str, last: &str) -> Candidate {
    let mut c = Candidate::new(Kind::Person, id, "");
    c.first_name = Some(first.into());
    c.last_name = Some(last.into());
    c
}

#[test]
fn missing_values_never_lower_a_score() {
    let cands = [
        with_field(org("1", "Acme Robotics", &[]), "City", "Berlin"),
        with_field(org("2", "Zenith Foods", &[]), "City", "Paris"),
        with_field(org("3", "Northwind Traders", &[]), "City", "Oslo"),
        org("4", "Globex Corporation", &[]),
    ];
    let sources = [
        src(1, "s1", &[("name", "Acme Robotic"), ("city", "Berlin")]),
        src(2, "s2", &[("name", "Zenith Food"), ("city", "Rome")]),
        src(3, "s3", &[("name", "Northwind"), ("city", "")]),
        src(4, "s4", &[("name", "Globex Corp"), ("city", "Lima")]),
    ];
    let c = cfg(None, &[("name", "name"), ("city", "City")]);
    let m = Matcher::new(&c, Kind::Organization, &cands);
    let model = m.model(&sources);
    for s in &sources {
        let full = m.prepare(s);
        let mut blank = s.clone();
        blank.values.remove("city");
        let blank = m.prepare(&blank);
        for cand in 0..cands.len() as u32 {
            let with = m.hit(&model, &full, cand);
            let without = m.hit(&model, &blank, cand);
            // A missing value adds nothing...
            assert_eq!(without.parts[1].1, 0.0);
            assert!(
                (without.weight - (with.weight - with.parts[1].1)).abs() < 1e-9,
                "{s:?} {cand}"
            );
            // ...and so never scores below a value that differs.
            let (level, w) = with.parts[1];
            if level == Comparison::Text.different() {
                assert!(without.weight > with.weight, "{s:?} {cand}: {w}");
            }
        }
    }
    // The pair that was compared with a differing city scored lower than without a city.
    let d = m.run(&sources, &Reviewed::new());
    let mut no_city = sources[1].clone();
    no_city.values.remove("city");
    let d2 = m.run(&[no_city], &Reviewed::new());
    assert!(d2[0].score.unwrap() >= d[1].score.unwrap(), "{d2:?} {d:?}");
}

#[test]
fn a_shared_rare_surname_weighs_more_than_a_shared_common_one() {
    let firsts = [
        "Ann", "Bob", "Carl", "Dana", "Emil", "Fay", "Gus", "Hana", "Ivan", "Jill", "Kurt", "Lena",
        "Milo", "Nora", "Otto", "Pia", "Quinn", "Rosa", "Sven", "Tina",
    ];
    let mut cands: Vec<Candidate> = firsts
        .iter()
        .enumerate()
        .map(|(i, f)| person(&format!("p{i}"), f, "Smith"))
        .collect();
    cands.push(person("z", "Mary", "Zabriskie"));
    cands.push(person("s", "Mary", "Smith"));
    let sources = [
        src(1, "s1", &[("first", "Marie"), ("last", "Zabriskie")]),
        src(2, "s2", &[("first", "Marie"), ("last", "Smith")]),
    ];
    let c = cfg(None, &[("first", "first_name"), ("last", "last_name")]);
    let d = match_records(&c, Kind::Person, &cands, &sources, &Reviewed::new());
    assert_eq!(d[0].top[0].affinity_id, "z");
    assert_eq!(d[1].top[0].affinity_id, "s");
    let last = |d: &Decision| {
        d.contributions
            .iter()
            .find(|c| c.source.as_deref() == Some("last"))
            .unwrap()
            .clone()
    };
    let (rare, common) = (last(&d[0]), last(&d[1]));
    assert!(rare.level.starts_with("exact") && common.level.starts_with("exact"));
    assert!(rare.weight > common.weight, "{rare:?} {common:?}");
    assert!(d[0].top[0].score > d[1].top[0].score, "{d:?}");
}

#[test]
fn decisions_carry_their_waterfall() {
    let cands = [with_field(org("1", "Acme Robotics", &[]), "City", "Berlin")];
    let sources = [src(1, "s1", &[("name", "Acme Robotics"), ("city", "")])];
    let d = run(
        &cfg(None, &[("name", "name"), ("city", "City")]),
        &cands,
        &sources,
    );
    let cs = &d[0].contributions;
    assert_eq!(cs.len(), 3, "{cs:?}");
    assert_eq!(cs[0].level, "prior");
    assert_eq!(cs[1].source.as_deref(), Some("name"));
    assert!(
        cs[1].level.starts_with("exact") && cs[1].weight > 0.0,
        "{cs:?}"
    );
    assert_eq!((cs[2].level.as_str(), cs[2].weight), ("missing", 0.0));
    let total: f64 = cs.iter().map(|c| c.weight).sum();
    assert!((model::probability(total) - d[0].score.unwrap()).abs() < 1e-9);
    assert!(
        d[0].reason.contains("`city` ~ City missing 0"),
        "{}",
        d[0].reason
    );
    assert!(waterfall(cs).starts_with("prior "), "{}", waterfall(cs));
}

#[test]
fn an_exact_common_name_is_not_tied_with_its_other_legal_form() {
    // `Murazik` is a common name here (five organizations and two sources hold it); the
    // source names one of them exactly, legal form included: the others are other legal
    // entities, no runner-up within a tie (the model's side of it is pinned in
    // `model::tests::a_common_name_stays_a_tie_above_itself_without_legal_form`).
    let mut cands: Vec<Candidate> = [
        "Murazik Ltd",
        "Murazik LLC",
        "Murazik Inc",
        "Murazik GmbH",
        "Murazik Group",
        "Kraxbel Robotics",
        "Zenith Foods",
        "Slomfroash Audio",
        "Quillon Freight",
        "Brightwater Mills",
        "Orvane Textiles",
        "Pellucid Labs",
    ]
    .iter()
    .enumerate()
    .map(|(i, n)| org(&format!("{}", i + 1), n, &[]))
    .collect();
    for i in 0..30 {
        cands.push(org(
            &format!("x{i}"),
            &format!("Vendorname{i:02} Holdings"),
            &[],
        ));
    }
    let mut sources = vec![src(1, "s1", &[("name", "Murazik Ltd")])];
    for (i, n) in [
        "Kraxbel Robotics",
        "Zenith Foods",
        "Slomfroash Audio",
        "Quillon Freight",
        "Brightwater Mills",
        "Orvane Textiles",
        "Pellucid Labs",
        "Murazik Group",
    ]
    .iter()
    .enumerate()
    {
        sources.push(src(i + 2, &format!("s{}", i + 2), &[("name", n)]));
    }
    let d = run(&cfg(None, &[("name", "name")]), &cands, &sources);
    assert_eq!(d[0].status, Status::Matched, "{}", d[0].reason);
    assert_eq!(d[0].affinity_id.as_deref(), Some("1"));
}

#[test]
fn reasons_name_each_candidate_beside_its_kind_and_id() {
    let mut global = org("2", "Zenith Foods", &["zenith.example"]);
    global.global = true;
    let long = "Northwind ".repeat(20);
    let cands = [
        org("1", "Acme Robotics Inc", &["acme.example"]),
        global,
        org("3", &long, &[]),
    ];
    let sources = [
        src(1, "s1", &[("name", "Acme Robotics Inc")]),
        src(2, "s2", &[("website", "zenith.example"), ("name", "x")]),
        src(3, "s3", &[("name", &long)]),
    ];
    let d = run(&cfg(Some("website"), &[("name", "name")]), &cands, &sources);
    assert!(
        d[0].reason
            .contains("Acme Robotics Inc (organization 1) scored"),
        "{}",
        d[0].reason
    );
    assert!(
        d[1].reason.contains("Zenith Foods (global organization 2)"),
        "{}",
        d[1].reason
    );
    // A long name is cut, and its id still shown.
    let cut: String = long.chars().take(LABEL_CHARS).collect();
    assert!(
        d[2].reason.contains(&format!("{cut}… (organization 3)")),
        "{}",
        d[2].reason
    );
    // A person without a full name reads by first and last names; no name, by kind and id.
    assert_eq!(
        person("7", "Ada", "Lovelace").label(),
        "Ada Lovelace (person 7)"
    );
    assert_eq!(Candidate::new(Kind::Person, "8", "").label(), "person 8");
}

#[test]
fn two_records_look_alike_whichever_is_asked_about_first() {
    // One person written seven ways (names crossed, shortened, misspelt; values missing), the
    // records of historical figures' cluster Q94471772, beside people who are not him.
    let rows: [(&str, &str, &str, &str, &str); 12] = [
        ("f.", "home", "1851-01-01", "edinburgh", "eh3 6ed"),
        ("frederick", "home", "1851-01-01", "edinburgh", "eh3 6ed"),
        ("wyville", "fred", "1851-01-01", "edinburgh", "eh3 6ed"),
        ("wyville", "home", "", "", "eh3 6ed"),
        ("fred", "hume", "", "edinburgh", ""),
        ("freddie", "wyville", "", "city of edinburgh", "eh3 6ed"),
        ("wyville", "home", "", "city of edinburgh", ""),
        ("mary", "shelley", "1797-08-30", "london", "nw1 2db"),
        ("percy", "shelley", "1792-08-04", "horsham", "rh12 1rl"),
        ("ada", "lovelace", "1815-12-10", "london", "w1j 7nt"),
        ("charles", "babbage", "1791-12-26", "london", "se1 6tr"),
        ("james", "hutton", "1726-06-03", "edinburgh", "eh1 1re"),
    ];
    let cols = ["first", "last", "dob", "place", "postcode"];
    let c = cfg(
        None,
        &[
            ("first", "first_name"),
            ("last", "last_name"),
            ("dob", "dob"),
            ("place", "birth_place"),
            ("postcode", "postcode"),
        ],
    );
    let cands: Vec<Candidate> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut p = person(&format!("p{i}"), r.0, r.1);
            p.fields.insert("dob".into(), vec![r.2.into()]);
            p.fields.insert("birth_place".into(), vec![r.3.into()]);
            p.fields.insert("postcode".into(), vec![r.4.into()]);
            p
        })
        .collect();
    let sources: Vec<SourceRecord> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let vals = [r.0, r.1, r.2, r.3, r.4];
            let pairs: Vec<(&str, &str)> = cols.iter().copied().zip(vals).collect();
            src(i + 1, &format!("s{i}"), &pairs)
        })
        .collect();
    let m = Matcher::new(&c, Kind::Person, &cands);
    let model = m.model(&sources);
    // `wyville home` and `freddie wyville` agree only when read crosswise, and the crossed
    // reading puts the agreement under the first side's columns: asked one way it is a first
    // name that agrees, the other way a last name, each with its own weight.
    let (a, b) = (3, 5);
    let weight = |x: usize, y: usize| {
        let (px, py) = (m.prepare(&sources[x]), m.prepare(&sources[y]));
        let pair = m.compare_values(&px.values, |r| py.values[r].as_ref());
        assert!(pair.crossed);
        m.weigh(&model, &pair).0
    };
    let (ab, ba) = (weight(a, b), weight(b, a));
    assert!((ab - ba).abs() > 0.1, "{ab} {ba}");
    // At a threshold between the two, an answer read one way only depends on the order.
    let between = model::probability((ab + ba) / 2.0);
    for t in [between, c.accept(), c.review()] {
        assert_eq!(
            m.same_record(&model, &sources[a], &sources[b], t),
            m.same_record(&model, &sources[b], &sources[a], t),
            "rows {a} and {b} at {t}"
        );
        assert_eq!(
            m.duplicates(&model, a as u32, b as u32, t),
            m.duplicates(&model, b as u32, a as u32, t),
            "candidates {a} and {b} at {t}"
        );
    }
    assert!(m.same_record(&model, &sources[a], &sources[b], between));
    let n = rows.len();
    for x in 0..n {
        for y in 0..n {
            assert_eq!(
                m.same_record(&model, &sources[x], &sources[y], c.accept()),
                m.same_record(&model, &sources[y], &sources[x], c.accept()),
                "rows {x} and {y}"
            );
        }
    }
}
