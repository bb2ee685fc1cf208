//! Benchmarks of the matcher.
//!
//! - `quality`: every data set of `../shared/data/matching` (relative to the crate root, or
//!   `AFFSYNC_MATCHING_DATA`): precision, recall and F1 of the `matched` decisions, blocking
//!   recall (the true record is among those scored) and candidates scored per record. Default
//!   thresholds; only the compared columns are chosen per data set.
//! - `speed`: generated organizations, 100k against 100k and 1M against 1M (`AFFSYNC_BENCH_SIZES`
//!   changes the sizes, e.g. `10000,100000`): wall time of each stage and peak memory.
//!
//! Run with `cargo bench --bench matching [-- quality|speed]`; each prints Markdown table rows
//! for BENCHMARKS.md.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

use affsync::matcher::{Candidate, Kind, MatchConfig, Matcher, Reviewed, SourceRecord, Status};
use affsync::source::{read_records, ReadOptions};

fn data_dir() -> PathBuf {
    match std::env::var_os("AFFSYNC_MATCHING_DATA") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/matching"),
    }
}

/// One side of a data set.
struct Side {
    file: &'static str,
    id: &'static str,
    separator: u8,
}

/// How a candidate is made from a row of the right-hand file.
struct CandidateShape {
    kind: Kind,
    name: Option<&'static str>,
    first_name: Option<&'static str>,
    last_name: Option<&'static str>,
    email: Option<&'static str>,
}

enum Truth {
    /// A `gt` file of left id → right id pairs, with its separator.
    Pairs(&'static str, u8),
    /// Row i of the left is row i of the right.
    SameRow,
    /// One file with a cluster column: the first record of each cluster goes right, the second
    /// left (one to one, as a CRM and an enrichment file would be).
    Clusters(&'static str),
}

struct DataSet {
    name: &'static str,
    dir: &'static str,
    left: Side,
    right: Side,
    shape: CandidateShape,
    truth: Truth,
    /// The `[match]` section.
    config: &'static str,
}

fn data_sets() -> Vec<DataSet> {
    let org = |name| CandidateShape {
        kind: Kind::Organization,
        name: Some(name),
        first_name: None,
        last_name: None,
        email: None,
    };
    let thing = |name| CandidateShape {
        kind: Kind::Opportunity,
        name: Some(name),
        first_name: None,
        last_name: None,
        email: None,
    };
    let person = |email| CandidateShape {
        kind: Kind::Person,
        name: None,
        first_name: Some("first_name"),
        last_name: Some("surname"),
        email,
    };
    const R1: &str = "http://www.okkam.org/ontology_restaurant1.owl#";
    let _ = R1;
    vec![
        DataSet {
            name: "DNB company names (noised ↔ clean)",
            dir: "dnb_company_names",
            left: Side {
                file: "adjusted_test_names.csv",
                id: "",
                separator: b',',
            },
            right: Side {
                file: "test_names.csv",
                id: "",
                separator: b',',
            },
            shape: org("company_name"),
            truth: Truth::SameRow,
            config: r#"[match]
[[match.compare]]
source = "company_name"
affinity = "name"
"#,
        },
        DataSet {
            name: "OAEI restaurants (JedAI D1)",
            dir: "jedai_D1_restaurants_oaei",
            left: Side {
                file: "rest1.csv",
                id: "id",
                separator: b'|',
            },
            right: Side {
                file: "rest2.csv",
                id: "id",
                separator: b'|',
            },
            shape: org("http://www.okkam.org/ontology_restaurant2.owl#name"),
            truth: Truth::Pairs("gt.csv", b'|'),
            config: r#"[match]
[[match.compare]]
source = "http://www.okkam.org/ontology_restaurant1.owl#name"
affinity = "name"
[[match.compare]]
source = "http://www.okkam.org/ontology_restaurant1.owl#phone_number"
affinity = "http://www.okkam.org/ontology_restaurant2.owl#phone_number"
"#,
        },
        DataSet {
            name: "Abt-Buy products (JedAI D2)",
            dir: "jedai_D2_abt_buy",
            left: Side {
                file: "abt.csv",
                id: "id",
                separator: b'|',
            },
            right: Side {
                file: "buy.csv",
                id: "id",
                separator: b'|',
            },
            shape: thing("name"),
            truth: Truth::Pairs("gt.csv", b'|'),
            config: r#"[match]
[[match.compare]]
source = "name"
affinity = "name"
"#,
        },
        DataSet {
            name: "Amazon-Google products (JedAI D3)",
            dir: "jedai_D3_amazon_googleproducts",
            left: Side {
                file: "amazon.csv",
                id: "id",
                separator: b'#',
            },
            right: Side {
                file: "gp.csv",
                id: "id",
                separator: b'#',
            },
            shape: thing("title"),
            truth: Truth::Pairs("gt.csv", b'#'),
            config: r#"[match]
[[match.compare]]
source = "title"
affinity = "name"
"#,
        },
        DataSet {
            name: "DBLP-ACM papers (JedAI D4)",
            dir: "jedai_D4_dblp_acm",
            left: Side {
                file: "dblp.csv",
                id: "id",
                separator: b'%',
            },
            right: Side {
                file: "acm.csv",
                id: "id",
                separator: b'%',
            },
            shape: thing("title"),
            truth: Truth::Pairs("gt.csv", b'%'),
            config: r#"[match]
[[match.compare]]
source = "title"
affinity = "name"
[[match.compare]]
source = "authors"
affinity = "authors"
"#,
        },
        DataSet {
            name: "splink fake_1000 persons",
            dir: "splink_datasets",
            left: Side {
                file: "fake_1000.csv",
                id: "unique_id",
                separator: b',',
            },
            right: Side {
                file: "fake_1000.csv",
                id: "unique_id",
                separator: b',',
            },
            shape: person(Some("email")),
            truth: Truth::Clusters("cluster"),
            config: r#"[match]
search_term = "email"
[[match.compare]]
source = "first_name"
affinity = "first_name"
[[match.compare]]
source = "surname"
affinity = "last_name"
[[match.compare]]
source = "dob"
affinity = "dob"
[[match.compare]]
source = "city"
affinity = "city"
"#,
        },
        DataSet {
            name: "splink historical figures 50k persons",
            dir: "splink_datasets",
            left: Side {
                file: "historical_figures_with_errors_50k.csv",
                id: "unique_id",
                separator: b',',
            },
            right: Side {
                file: "historical_figures_with_errors_50k.csv",
                id: "unique_id",
                separator: b',',
            },
            shape: person(None),
            truth: Truth::Clusters("cluster"),
            config: r#"[match]
[[match.compare]]
source = "first_name"
affinity = "first_name"
[[match.compare]]
source = "surname"
affinity = "last_name"
[[match.compare]]
source = "dob"
affinity = "dob"
[[match.compare]]
source = "birth_place"
affinity = "birth_place"
"#,
        },
    ]
}

fn read_all(path: &Path, id: &str, separator: u8, columns: &[String]) -> Vec<SourceRecord> {
    let opts = ReadOptions {
        id: id.to_string(),
        columns: columns.to_vec(),
        separator: Some(separator),
        format: None,
    };
    read_records(path, &opts).unwrap_or_else(|e| panic!("{e}"))
}

fn candidate_of(r: &SourceRecord, shape: &CandidateShape, field_cols: &[String]) -> Candidate {
    let get = |c: Option<&str>| c.and_then(|c| r.values.get(c)).cloned();
    let mut c = Candidate::new(
        shape.kind,
        r.id.clone().unwrap_or_default(),
        get(shape.name).unwrap_or_default(),
    );
    c.first_name = get(shape.first_name);
    c.last_name = get(shape.last_name);
    c.emails = get(shape.email).into_iter().collect();
    for f in field_cols {
        if let Some(v) = r.values.get(f) {
            c.fields.insert(f.clone(), vec![v.clone()]);
        }
    }
    c
}

struct Row {
    name: &'static str,
    left: usize,
    right: usize,
    truth: usize,
    blocking_recall: f64,
    per_record: f64,
    precision: f64,
    recall: f64,
    f1: f64,
    review: usize,
    review_true: usize,
    secs: f64,
}

fn quality_one(ds: &DataSet) -> Row {
    let dir = data_dir().join(ds.dir);
    let cfg = MatchConfig::from_toml(ds.config, ds.name).unwrap_or_else(|e| panic!("{e}"));
    let builtin = ["name", "first_name", "last_name", "domain", "email"];
    let field_cols: Vec<String> = cfg
        .compare
        .iter()
        .filter(|c| !builtin.contains(&c.affinity.as_str()))
        .map(|c| c.affinity.clone())
        .collect();
    let mut left_cols: Vec<String> = cfg.compare.iter().map(|c| c.source.clone()).collect();
    left_cols.extend(cfg.search_term.clone());
    let mut right_cols: Vec<String> = field_cols.clone();
    for c in [
        ds.shape.name,
        ds.shape.first_name,
        ds.shape.last_name,
        ds.shape.email,
    ]
    .into_iter()
    .flatten()
    {
        right_cols.push(c.to_string());
    }
    let (left, right_records, truth): (
        Vec<SourceRecord>,
        Vec<SourceRecord>,
        Vec<(String, String)>,
    ) = match &ds.truth {
        Truth::Clusters(col) => {
            let mut cols = left_cols.clone();
            cols.extend(right_cols.iter().cloned());
            cols.push(col.to_string());
            let all = read_all(
                &dir.join(ds.left.file),
                ds.left.id,
                ds.left.separator,
                &cols,
            );
            let mut seen: HashMap<String, usize> = HashMap::new();
            let mut first: HashMap<String, String> = HashMap::new();
            let (mut l, mut r, mut t) = (Vec::new(), Vec::new(), Vec::new());
            for rec in all {
                let cl = rec.values.get(*col).cloned().unwrap_or_default();
                let n = seen.entry(cl.clone()).or_insert(0);
                *n += 1;
                match *n {
                    1 => {
                        first.insert(cl, rec.id.clone().unwrap());
                        r.push(rec);
                    }
                    2 => {
                        t.push((rec.id.clone().unwrap(), first[&cl].clone()));
                        l.push(rec);
                    }
                    _ => {}
                }
            }
            (l, r, t)
        }
        Truth::SameRow => {
            let l = read_all(
                &dir.join(ds.left.file),
                ds.left.id,
                ds.left.separator,
                &left_cols,
            );
            let r = read_all(
                &dir.join(ds.right.file),
                ds.right.id,
                ds.right.separator,
                &right_cols,
            );
            let t = l
                .iter()
                .zip(&r)
                .map(|(a, b)| (a.id.clone().unwrap(), b.id.clone().unwrap()))
                .collect();
            (l, r, t)
        }
        Truth::Pairs(file, sep) => {
            let l = read_all(
                &dir.join(ds.left.file),
                ds.left.id,
                ds.left.separator,
                &left_cols,
            );
            let r = read_all(
                &dir.join(ds.right.file),
                ds.right.id,
                ds.right.separator,
                &right_cols,
            );
            let gt = read_all(&dir.join(file), "D1", *sep, &["D2".to_string()]);
            let t = gt
                .iter()
                .map(|g| (g.id.clone().unwrap(), g.values["D2"].clone()))
                .collect();
            (l, r, t)
        }
    };
    let cands: Vec<Candidate> = right_records
        .iter()
        .map(|r| candidate_of(r, &ds.shape, &field_cols))
        .collect();
    let t = Instant::now();
    let matcher = Matcher::new(&cfg, ds.shape.kind, &cands);
    let decisions = matcher.run(&left, &Reviewed::new());
    let secs = t.elapsed().as_secs_f64();
    let truth_of: BTreeMap<&str, Vec<&str>> =
        truth.iter().fold(BTreeMap::new(), |mut m, (l, r)| {
            m.entry(l.as_str())
                .or_insert_with(Vec::new)
                .push(r.as_str());
            m
        });
    let truth_set: std::collections::BTreeSet<(&str, &str)> = truth
        .iter()
        .map(|(l, r)| (l.as_str(), r.as_str()))
        .collect();
    // Blocking: is the true record among those scored?
    let (mut found, mut set_sizes) = (0usize, 0usize);
    for rec in &left {
        let set = matcher.candidate_set(rec);
        set_sizes += set.len();
        if let Some(ts) = truth_of.get(rec.id.as_deref().unwrap_or_default()) {
            found += ts.iter().filter(|t| set.contains(t)).count();
        }
    }
    let (mut matched, mut tp, mut review, mut review_true) = (0, 0, 0, 0);
    for d in &decisions {
        let pair = (
            d.source_id.as_deref().unwrap_or_default(),
            d.affinity_id.as_deref().unwrap_or_default(),
        );
        match d.status {
            Status::Matched => {
                matched += 1;
                if truth_set.contains(&pair) {
                    tp += 1;
                }
            }
            Status::Review => {
                review += 1;
                if truth_set.contains(&pair) {
                    review_true += 1;
                }
            }
            _ => {}
        }
    }
    if std::env::var_os("AFFSYNC_BENCH_VERBOSE").is_some() {
        for d in &decisions {
            let sid = d.source_id.as_deref().unwrap_or_default();
            let want = truth_of.get(sid).cloned().unwrap_or_default();
            let got = d.affinity_id.as_deref().unwrap_or_default();
            let ok = want.contains(&got);
            if (d.status == Status::Matched && !ok)
                || (d.status != Status::Matched && !want.is_empty())
            {
                eprintln!(
                    "{} row {} want {:?} got {} {:?}: {}",
                    ds.name, d.row, want, got, d.status, d.reason
                );
            }
        }
    }
    let precision = if matched == 0 {
        0.0
    } else {
        tp as f64 / matched as f64
    };
    let recall = tp as f64 / truth.len() as f64;
    let f1 = if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    };
    Row {
        name: ds.name,
        left: left.len(),
        right: cands.len(),
        truth: truth.len(),
        blocking_recall: found as f64 / truth.len() as f64,
        per_record: set_sizes as f64 / left.len() as f64,
        precision,
        recall,
        f1,
        review,
        review_true,
        secs,
    }
}

fn quality() {
    let dir = data_dir();
    assert!(
        dir.is_dir(),
        "no matching data at {} (set AFFSYNC_MATCHING_DATA)",
        dir.display()
    );
    println!("| data set | left × right | true pairs | blocking recall | candidates / record | precision | recall | F1 | review (true) | time |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let only = std::env::var("AFFSYNC_BENCH_ONLY").ok();
    for ds in data_sets() {
        if only
            .as_deref()
            .is_some_and(|o| !ds.dir.contains(o) && !ds.name.contains(o))
        {
            continue;
        }
        let r = quality_one(&ds);
        println!(
            "| {} | {} × {} | {} | {:.3} | {:.1} | {:.3} | {:.3} | {:.3} | {} ({}) | {:.2} s |",
            r.name,
            r.left,
            r.right,
            r.truth,
            r.blocking_recall,
            r.per_record,
            r.precision,
            r.recall,
            r.f1,
            r.review,
            r.review_true,
            r.secs
        );
    }
}

fn speed() {
    println!("speed: not yet");
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let want = |name: &str| args.is_empty() || args.iter().any(|a| a == name);
    if want("quality") {
        quality();
    }
    if want("speed") {
        speed();
    }
}
