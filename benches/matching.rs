//! Benchmarks of the matcher.
//!
//! - `quality`: every data set of `../shared/data/matching` (relative to the crate root, or
//!   `AFFSYNC_MATCHING_DATA`), and generated organizations (10k × 10k): precision, recall and
//!   F1 of the `matched` decisions, the true matches sent to review, blocking recall (a true
//!   record is among those scored) and candidates scored per record. Default thresholds
//!   (`AFFSYNC_BENCH_THRESHOLDS=ACCEPT[,REVIEW]` sets others for every data set, in every
//!   mode); only the compared columns are chosen per data set.
//! - `speed`: generated organizations, 100k against 100k and 1M against 1M (`AFFSYNC_BENCH_SIZES`
//!   changes the sizes, e.g. `10000,100000`): wall time of each stage, peak memory, quality.
//! - `splink`: the same data sets (and generated 10k and 100k; 1M with
//!   `AFFSYNC_BENCH_SPLINK_1M=1`) through affsync and through Splink side by side: precision,
//!   recall, F1, time and peak memory of each, each run in a process of its own, each tool
//!   once untimed and then three times in turn (`AFFSYNC_BENCH_RUNS`): the median time is
//!   shown. Splink is
//!   installed by `benches/splink_setup.sh` into a virtualenv in the target folder
//!   (`CARGO_TARGET_DIR` or `target/`; Python from
//!   `AFFSYNC_BENCH_PYTHON`, `python3` by default) and run by `benches/splink_runner.py`;
//!   when that cannot be done the mode says why and runs affsync alone.
//!
//! Run with `cargo bench --bench matching [-- quality|speed|splink]` (no argument: quality and
//! speed); each prints Markdown table rows for BENCHMARKS.md. `AFFSYNC_BENCH_ONLY=dnb,oaei`
//! runs the data sets whose key, folder or name holds one of the texts;
//! `AFFSYNC_BENCH_VERBOSE=1` prints each miss with its reason (quality) or counts the reasons
//! for reviews and misses (speed).

#[path = "matching/gen.rs"]
mod gen;

/// The binary's allocator (src/main.rs), so the figures are the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use affsync::io::source::read_records;
use affsync_core::matcher::{
    Attr, Candidate, Comparison, Decision, Kind, MatchConfig, Matcher, Method, Reviewed,
    SourceRecord, Status,
};
use affsync_core::source::ReadOptions;

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
    /// As `Pairs`, plus every pair whose names (lower case, letters and digits only) and phone
    /// numbers (digits only) are both identical: the shipped OAEI ground truth lacks such pairs
    /// (`rose pistola` ↔ `rose pistola`, same number). Computed without the matcher.
    PairsPlusIdentical(&'static str, u8),
    /// Row i of the left is row i of the right.
    SameRow,
    /// One file with a cluster column (a deduplication set): the even rows (0, 2, ...) are
    /// the left side, the odd rows the right; a left record's true records are the right
    /// records of its cluster, and a left record whose cluster has none on the right has no
    /// true record.
    Clusters(&'static str),
}

struct DataSet {
    /// A short name, for `AFFSYNC_BENCH_ONLY` and the side-by-side table.
    key: &'static str,
    name: &'static str,
    dir: &'static str,
    left: Side,
    right: Side,
    shape: CandidateShape,
    truth: Truth,
    /// The `[match]` section.
    config: &'static str,
}

/// Organizations named by one column.
fn org(name: &'static str) -> CandidateShape {
    CandidateShape {
        kind: Kind::Organization,
        name: Some(name),
        first_name: None,
        last_name: None,
        email: None,
    }
}

/// The OAEI restaurants, against a ground truth as given.
fn oaei(key: &'static str, name: &'static str, truth: Truth) -> DataSet {
    DataSet {
        key,
        name,
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
        truth,
        config: r#"[match]
[[match.compare]]
source = "http://www.okkam.org/ontology_restaurant1.owl#name"
affinity = "name"
[[match.compare]]
source = "http://www.okkam.org/ontology_restaurant1.owl#phone_number"
affinity = "http://www.okkam.org/ontology_restaurant2.owl#phone_number"
[[match.compare]]
source = "http://www.okkam.org/ontology_restaurant1.owl#street"
affinity = "http://www.okkam.org/ontology_restaurant2.owl#street"
"#,
    }
}

fn data_sets() -> Vec<DataSet> {
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
    vec![
        DataSet {
            key: "dnb",
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
        oaei(
            "oaei",
            "OAEI restaurants (JedAI D1)",
            Truth::Pairs("gt.csv", b'|'),
        ),
        oaei(
            "oaei_plus",
            "OAEI restaurants, gt + same name and phone",
            Truth::PairsPlusIdentical("gt.csv", b'|'),
        ),
        DataSet {
            key: "abt_buy",
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
            key: "amazon_google",
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
            key: "dblp_acm",
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
            key: "fake_1000",
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
[[match.compare]]
source = "email"
affinity = "email"
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
            key: "historical_50k",
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
[[match.compare]]
source = "postcode_fake"
affinity = "postcode_fake"
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

/// A data set ready to match: the left records, the right side as candidates, the truth
/// (left id → its true right ids) and the `[match]` section.
struct Loaded {
    key: String,
    name: String,
    cfg: MatchConfig,
    kind: Kind,
    left: Vec<SourceRecord>,
    cands: Vec<Candidate>,
    truth: HashMap<String, HashSet<String>>,
}

fn truth_map(pairs: &[(String, String)]) -> HashMap<String, HashSet<String>> {
    let mut t: HashMap<String, HashSet<String>> = HashMap::new();
    for (l, r) in pairs {
        t.entry(l.clone()).or_default().insert(r.clone());
    }
    t
}

/// `AFFSYNC_BENCH_THRESHOLDS=ACCEPT[,REVIEW]`: thresholds for every data set instead of the
/// defaults, e.g. `0.5` to read affsync at the operating point of Splink's figure (its pairs
/// at probability 0.5 and more). `REVIEW` is at most `ACCEPT`; without it, the default review
/// threshold or `ACCEPT` when that is lower.
fn thresholds() -> Option<(f64, f64)> {
    let v = std::env::var("AFFSYNC_BENCH_THRESHOLDS").ok()?;
    let mut parts = v.split(',').map(|p| {
        p.trim()
            .parse::<f64>()
            .ok()
            .filter(|x| (0.0..=1.0).contains(x))
            .unwrap_or_else(|| {
                panic!("AFFSYNC_BENCH_THRESHOLDS is ACCEPT[,REVIEW], probabilities: not `{v}`")
            })
    });
    let accept = parts.next()?;
    let review = parts
        .next()
        .unwrap_or_else(|| MatchConfig::default().review().min(accept));
    assert!(
        review <= accept,
        "AFFSYNC_BENCH_THRESHOLDS: review {review} is above accept {accept}"
    );
    Some((accept, review))
}

fn print_thresholds() {
    if let Some((accept, review)) = thresholds() {
        println!("affsync's thresholds for every data set: accept {accept}, review {review} (AFFSYNC_BENCH_THRESHOLDS)");
    }
}

fn load(ds: &DataSet) -> Loaded {
    let dir = data_dir().join(ds.dir);
    let mut cfg = MatchConfig::from_toml(ds.config, ds.name).unwrap_or_else(|e| panic!("{e}"));
    if let Some((accept, review)) = thresholds() {
        cfg.accept_threshold = Some(accept);
        cfg.review_threshold = Some(review);
    }
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
        HashMap<String, HashSet<String>>,
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
            let (mut l, mut r) = (Vec::new(), Vec::new());
            for (i, rec) in all.into_iter().enumerate() {
                if i % 2 == 0 {
                    l.push(rec);
                } else {
                    r.push(rec);
                }
            }
            let cluster = |rec: &SourceRecord| rec.values.get(*col).cloned().unwrap_or_default();
            let mut by_cluster: HashMap<String, Vec<String>> = HashMap::new();
            for rec in &r {
                by_cluster
                    .entry(cluster(rec))
                    .or_default()
                    .push(rec.id.clone().unwrap());
            }
            let mut t: HashMap<String, HashSet<String>> = HashMap::new();
            for rec in &l {
                if let Some(rs) = by_cluster.get(&cluster(rec)) {
                    t.insert(rec.id.clone().unwrap(), rs.iter().cloned().collect());
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
            let t: Vec<(String, String)> = l
                .iter()
                .zip(&r)
                .map(|(a, b)| (a.id.clone().unwrap(), b.id.clone().unwrap()))
                .collect();
            (l, r, truth_map(&t))
        }
        Truth::Pairs(file, sep) | Truth::PairsPlusIdentical(file, sep) => {
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
            let mut t: Vec<(String, String)> = gt
                .iter()
                .map(|g| (g.id.clone().unwrap(), g.values["D2"].clone()))
                .collect();
            if matches!(ds.truth, Truth::PairsPlusIdentical(..)) {
                t.extend(identical_pairs(&l, &r, &t));
            }
            (l, r, truth_map(&t))
        }
    };
    let cands: Vec<Candidate> = right_records
        .iter()
        .map(|r| candidate_of(r, &ds.shape, &field_cols))
        .collect();
    Loaded {
        key: ds.key.to_string(),
        name: ds.name.to_string(),
        cfg,
        kind: ds.shape.kind,
        left,
        cands,
        truth,
    }
}

/// Generated organizations, `n` on each side (seed 42).
fn load_generated(n: usize) -> Loaded {
    let g = gen::generate(n, 42);
    let cfg = MatchConfig::from_toml(
        r#"[match]
search_term = "website"
[[match.compare]]
source = "name"
affinity = "name"
"#,
        "generated",
    )
    .unwrap();
    let truth = g
        .sources
        .iter()
        .zip(&g.truth)
        .filter_map(|(s, t)| Some((s.id.clone()?, [t.clone()?].into_iter().collect())))
        .collect();
    Loaded {
        key: format!("gen_{}", size_label(n)),
        name: format!(
            "generated organizations {} × {}",
            size_label(n),
            size_label(n)
        ),
        cfg,
        kind: Kind::Organization,
        left: g.sources,
        cands: g.cands,
        truth,
    }
}

fn size_label(n: usize) -> String {
    if n >= 1_000_000 && n.is_multiple_of(1_000_000) {
        format!("{}M", n / 1_000_000)
    } else if n >= 1000 && n.is_multiple_of(1000) {
        format!("{}k", n / 1000)
    } else {
        n.to_string()
    }
}

/// Precision, recall and F1 of `matched` pairs (each left record counted once), and the true
/// matches sent to review.
#[derive(Debug, Clone, Copy, Default)]
struct Quality {
    matched: usize,
    tp: usize,
    truths: usize,
    precision: f64,
    recall: f64,
    f1: f64,
    review: usize,
    review_true: usize,
}

fn quality_of<'a>(
    matched: impl Iterator<Item = (&'a str, &'a str)>,
    review: impl Iterator<Item = (&'a str, &'a str)>,
    truth: &HashMap<String, HashSet<String>>,
) -> Quality {
    let is_true = |l: &str, r: &str| truth.get(l).is_some_and(|rs| rs.contains(r));
    let mut q = Quality {
        truths: truth.len(),
        ..Quality::default()
    };
    let mut seen: HashSet<&str> = HashSet::new();
    for (l, r) in matched {
        if !seen.insert(l) {
            continue;
        }
        q.matched += 1;
        q.tp += usize::from(is_true(l, r));
    }
    for (l, r) in review {
        q.review += 1;
        q.review_true += usize::from(is_true(l, r));
    }
    q.precision = if q.matched == 0 {
        0.0
    } else {
        q.tp as f64 / q.matched as f64
    };
    q.recall = q.tp as f64 / q.truths.max(1) as f64;
    q.f1 = if q.precision + q.recall == 0.0 {
        0.0
    } else {
        2.0 * q.precision * q.recall / (q.precision + q.recall)
    };
    q
}

fn decision_quality(ds: &Loaded, decisions: &[Decision]) -> Quality {
    let pairs = |status: Status| {
        decisions
            .iter()
            .filter(move |d| d.status == status)
            .filter_map(|d| Some((d.source_id.as_deref()?, d.affinity_id.as_deref()?)))
    };
    quality_of(pairs(Status::Matched), pairs(Status::Review), &ds.truth)
}

/// What one run of affsync gave.
struct Run {
    decisions: Vec<Decision>,
    build: f64,
    run: f64,
}

fn run_affsync(ds: &Loaded) -> (Matcher<'_>, Run) {
    let t = Instant::now();
    let matcher = Matcher::new(&ds.cfg, ds.kind, &ds.cands);
    let build = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let decisions = matcher.run(&ds.left, &Reviewed::new());
    let run = t.elapsed().as_secs_f64();
    (
        matcher,
        Run {
            decisions,
            build,
            run,
        },
    )
}

fn verbose() -> bool {
    std::env::var_os("AFFSYNC_BENCH_VERBOSE").is_some()
}

fn print_misses(ds: &Loaded, decisions: &[Decision]) {
    for d in decisions {
        let sid = d.source_id.as_deref().unwrap_or_default();
        let want = ds.truth.get(sid);
        let got = d.affinity_id.as_deref().unwrap_or_default();
        let ok = want.is_some_and(|w| w.contains(got));
        if (d.status == Status::Matched && !ok) || (d.status != Status::Matched && want.is_some()) {
            eprintln!(
                "{} row {} want {:?} got {} {:?}: {}",
                ds.key, d.row, want, got, d.status, d.reason
            );
        }
    }
}

fn selected(key: &str, dir: &str, name: &str) -> bool {
    match std::env::var("AFFSYNC_BENCH_ONLY") {
        Err(_) => true,
        Ok(only) => only
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .any(|o| key.contains(o) || dir.contains(o) || name.contains(o)),
    }
}

fn quality_row(ds: &Loaded) {
    let (matcher, run) = run_affsync(ds);
    let q = decision_quality(ds, &run.decisions);
    // Blocking: is a true record among those scored?
    let (mut found, mut set_sizes) = (0usize, 0usize);
    for rec in &ds.left {
        let set = matcher.candidate_set(rec);
        set_sizes += set.len();
        if let Some(ts) = ds.truth.get(rec.id.as_deref().unwrap_or_default()) {
            found += usize::from(set.iter().any(|c| ts.contains(*c)));
        }
    }
    if verbose() {
        print_misses(ds, &run.decisions);
    }
    println!(
        "| {} | {} × {} | {} | {:.3} | {:.1} | {:.3} | {:.3} | **{:.3}** | {} ({}, {:.1}%) | {:.2} s |",
        ds.name,
        ds.left.len(),
        ds.cands.len(),
        q.truths,
        found as f64 / q.truths.max(1) as f64,
        set_sizes as f64 / ds.left.len().max(1) as f64,
        q.precision,
        q.recall,
        q.f1,
        q.review,
        q.review_true,
        100.0 * q.review_true as f64 / q.truths.max(1) as f64,
        run.build + run.run
    );
}

fn quality() {
    let dir = data_dir();
    assert!(
        dir.is_dir(),
        "no matching data at {} (set AFFSYNC_MATCHING_DATA)",
        dir.display()
    );
    print_thresholds();
    println!("| data set | left × right | true matches | blocking recall | candidates / record | precision | recall | F1 | review (true, share of true matches) | time |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for ds in data_sets() {
        if selected(ds.key, ds.dir, ds.name) {
            quality_row(&load(&ds));
        }
    }
    if selected("gen_10k", "generated", "generated") {
        quality_row(&load_generated(10_000));
    }
}

/// Peak resident memory of this process so far (VmHWM), in bytes.
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn speed_one(n: usize) {
    let t = Instant::now();
    let ds = load_generated(n);
    let gen_secs = t.elapsed().as_secs_f64();
    let (_, run) = run_affsync(&ds);
    let peak = peak_rss().unwrap_or(0) as f64 / (1u64 << 30) as f64;
    let q = decision_quality(&ds, &run.decisions);
    let by_key = run
        .decisions
        .iter()
        .filter(|d| d.status == Status::Matched && d.method == Some(Method::Key))
        .count();
    if verbose() {
        let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
        for (d, s) in run.decisions.iter().zip(&ds.left) {
            if d.status == Status::Review {
                let k = if d.reason.contains("runner-up") {
                    "runner-up"
                } else if d.reason.contains("scores it higher") {
                    "contested"
                } else if d.reason.contains("nearly as high") {
                    "two rows"
                } else if d.reason.contains("matched to row") || d.reason.contains("its key") {
                    "taken by key"
                } else if d.reason.contains("between review") {
                    "between"
                } else if d.reason.contains("domain") {
                    "domain conflict"
                } else {
                    "other"
                };
                let n = kinds.entry(k.to_string()).or_default();
                *n += 1;
                if *n <= 3 {
                    eprintln!("{k}: {:?} -> {}", s.values, d.reason);
                }
            }
        }
        eprintln!("reviews: {kinds:?}");
        let mut missed: BTreeMap<&str, usize> = BTreeMap::new();
        for d in &run.decisions {
            let Some(t) = ds.truth.get(d.source_id.as_deref().unwrap_or_default()) else {
                continue;
            };
            let got = d.affinity_id.as_deref().unwrap_or_default();
            if d.status == Status::Matched && t.contains(got) {
                continue;
            }
            let k = match d.status {
                Status::Matched => "matched to another",
                Status::Review => "review",
                _ if d.top.iter().any(|s| t.contains(&s.affinity_id)) => {
                    if missed
                        .get("unmatched, true one scored")
                        .copied()
                        .unwrap_or(0)
                        < 8
                    {
                        eprintln!(
                            "scored but unmatched: {:?} -> {}",
                            ds.left[d.row - 1].values,
                            d.reason
                        );
                    }
                    "unmatched, true one scored"
                }
                _ => "unmatched, true one not found",
            };
            *missed.entry(k).or_default() += 1;
        }
        eprintln!("true matches missed: {missed:?}");
    }
    println!(
        "| {n} × {n} | {:.1} s | {:.1} s | **{:.1} s** | {:.2} GiB | {} ({} by key) | {} | {:.3} | {:.3} | {:.3} | {:.1} s |",
        run.build,
        run.run,
        run.build + run.run,
        peak,
        q.matched,
        by_key,
        q.review,
        q.precision,
        q.recall,
        q.f1,
        gen_secs
    );
}

fn speed() {
    let sizes: Vec<usize> = std::env::var("AFFSYNC_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![100_000, 1_000_000]);
    println!(
        "| organizations | index | match + decide | total | peak memory | matched | review | precision | recall | F1 | generating |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for n in sizes {
        speed_one(n);
    }
}

/// The data sets of the side-by-side table, by key.
fn side_by_side_keys() -> Vec<(String, String)> {
    let mut keys: Vec<(String, String)> = data_sets()
        .iter()
        .filter(|d| selected(d.key, d.dir, d.name))
        .map(|d| (d.key.to_string(), d.name.to_string()))
        .collect();
    let mut sizes = vec![10_000, 100_000];
    if std::env::var_os("AFFSYNC_BENCH_SPLINK_1M").is_some() {
        sizes.push(1_000_000);
    }
    for n in sizes {
        let key = format!("gen_{}", size_label(n));
        if selected(&key, "generated", "generated") {
            keys.push((
                key,
                format!("generated organizations {0} × {0}", size_label(n)),
            ));
        }
    }
    keys
}

fn load_key(key: &str) -> Loaded {
    if let Some(size) = key.strip_prefix("gen_") {
        let n = match size.strip_suffix('M') {
            Some(m) => m.parse::<usize>().unwrap() * 1_000_000,
            None => size.trim_end_matches('k').parse::<usize>().unwrap() * 1000,
        };
        return load_generated(n);
    }
    let ds = data_sets()
        .into_iter()
        .find(|d| d.key == key)
        .unwrap_or_else(|| panic!("no data set `{key}`"));
    load(&ds)
}

/// One tool's figures on one data set.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
struct Figures {
    precision: f64,
    recall: f64,
    f1: f64,
    review_true: usize,
    truths: usize,
    secs: f64,
    peak_bytes: u64,
}

/// `one KEY`: affsync on one data set, in a process of its own (for its peak memory); prints
/// the figures as JSON.
fn one(key: &str) {
    let ds = load_key(key);
    let (_, run) = run_affsync(&ds);
    let q = decision_quality(&ds, &run.decisions);
    let f = Figures {
        precision: q.precision,
        recall: q.recall,
        f1: q.f1,
        review_true: q.review_true,
        truths: q.truths,
        secs: run.build + run.run,
        peak_bytes: peak_rss().unwrap_or(0),
    };
    println!("{}", serde_json::to_string(&f).unwrap());
}

/// The cargo target folder (`CARGO_TARGET_DIR` when set, else `target/`): the Splink
/// virtualenv and the files handed to it live there.
fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("target"),
    }
}

/// The python of a virtualenv with Splink, or why there is none.
fn splink_python() -> Result<PathBuf, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let venv = target_dir().join("bench-splink-venv");
    let python = std::env::var("AFFSYNC_BENCH_PYTHON").unwrap_or_else(|_| "python3".into());
    let out = Command::new("sh")
        .arg(root.join("benches/splink_setup.sh"))
        .arg(&venv)
        .arg(&python)
        .output()
        .map_err(|e| format!("cannot run benches/splink_setup.sh: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "benches/splink_setup.sh failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    eprintln!("{}", String::from_utf8_lossy(&out.stderr).trim());
    Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// The columns Splink compares, as (name, kind, left value, right value) getters: the
/// search term and every `[[match.compare]]` entry, the kind from affsync's comparison.
fn splink_columns(ds: &Loaded) -> Vec<(String, &'static str, Vec<String>, Vec<String>)> {
    let matcher = Matcher::new(&ds.cfg, ds.kind, &ds.cands);
    let kinds = matcher.comparisons();
    let right_of = |c: &Candidate, attr: &Attr| -> String {
        match attr {
            Attr::Name => match (&c.first_name, &c.last_name) {
                (None, None) => c.name.clone(),
                (f, l) => format!(
                    "{} {}",
                    f.as_deref().unwrap_or(""),
                    l.as_deref().unwrap_or("")
                ),
            },
            Attr::FirstName => c.first_name.clone().unwrap_or_default(),
            Attr::LastName => c.last_name.clone().unwrap_or_default(),
            Attr::Domain => c.domains.first().cloned().unwrap_or_default(),
            Attr::Email => c.emails.first().cloned().unwrap_or_default(),
            Attr::Field(f) => c
                .fields
                .get(f)
                .and_then(|v| v.first().cloned())
                .unwrap_or_default(),
        }
    };
    let kind_of = |k: Comparison| match k {
        Comparison::Name | Comparison::PersonPart => "name",
        Comparison::Date => "date",
        Comparison::Number => "number",
        Comparison::Email => "email",
        Comparison::Domain => "domain",
        _ => "text",
    };
    let mut cols = Vec::new();
    for (i, (c, k)) in ds.cfg.compare.iter().zip(&kinds).enumerate() {
        let attr = Attr::parse(&c.affinity);
        cols.push((
            format!("c{i}"),
            kind_of(*k),
            ds.left
                .iter()
                .map(|r| r.values.get(&c.source).cloned().unwrap_or_default())
                .collect(),
            ds.cands.iter().map(|c| right_of(c, &attr)).collect(),
        ));
    }
    if let Some(term) = &ds.cfg.search_term {
        let (kind, attr) = match ds.kind {
            Kind::Person => ("email", Attr::Email),
            Kind::Organization => ("domain", Attr::Domain),
            Kind::Opportunity => ("name", Attr::Name),
        };
        cols.push((
            "term".to_string(),
            kind,
            ds.left
                .iter()
                .map(|r| r.values.get(term).cloned().unwrap_or_default())
                .collect(),
            ds.cands.iter().map(|c| right_of(c, &attr)).collect(),
        ));
    }
    cols
}

fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn write_side(path: &Path, ids: &[String], cols: &[(String, Vec<String>)]) {
    use std::io::Write;
    let mut w = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let header: Vec<&str> = std::iter::once("unique_id")
        .chain(cols.iter().map(|(n, _)| n.as_str()))
        .collect();
    writeln!(w, "{}", header.join(",")).unwrap();
    for (i, id) in ids.iter().enumerate() {
        let mut row = vec![csv_cell(id)];
        row.extend(cols.iter().map(|(_, v)| csv_cell(&v[i])));
        writeln!(w, "{}", row.join(",")).unwrap();
    }
    w.flush().unwrap();
}

/// Splink on one data set: writes both sides, runs the runner, reads its pairs.
fn run_splink(python: &Path, ds: &Loaded) -> Result<Figures, String> {
    let dir = target_dir().join("bench-splink").join(&ds.key);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let cols = splink_columns(ds);
    let left_ids: Vec<String> = ds
        .left
        .iter()
        .map(|r| r.id.clone().unwrap_or_default())
        .collect();
    let right_ids: Vec<String> = ds.cands.iter().map(|c| c.id.clone()).collect();
    write_side(
        &dir.join("left.csv"),
        &left_ids,
        &cols
            .iter()
            .map(|(n, _, l, _)| (n.clone(), l.clone()))
            .collect::<Vec<_>>(),
    );
    write_side(
        &dir.join("right.csv"),
        &right_ids,
        &cols
            .iter()
            .map(|(n, _, _, r)| (n.clone(), r.clone()))
            .collect::<Vec<_>>(),
    );
    let spec = serde_json::json!({
        "left": dir.join("left.csv"),
        "right": dir.join("right.csv"),
        "out": dir.join("pairs.csv"),
        "columns": cols.iter().map(|(n, k, _, _)| serde_json::json!({"name": n, "kind": k})).collect::<Vec<_>>(),
    });
    std::fs::write(dir.join("spec.json"), spec.to_string()).map_err(|e| e.to_string())?;
    let runner = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/splink_runner.py");
    let out = Command::new(python)
        .arg(runner)
        .arg(dir.join("spec.json"))
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = err.lines().rev().take(5).collect();
        return Err(format!(
            "splink failed: {}",
            tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
        ));
    }
    let report: serde_json::Value = serde_json::from_slice(
        out.stdout
            .split(|&b| b == b'\n')
            .rfind(|l| l.starts_with(b"{"))
            .unwrap_or(b"{}"),
    )
    .map_err(|e| e.to_string())?;
    let pairs = read_all(
        &dir.join("pairs.csv"),
        "left_id",
        b',',
        &["right_id".to_string()],
    );
    let matched: Vec<(String, String)> = pairs
        .iter()
        .filter_map(|p| Some((p.id.clone()?, p.values.get("right_id")?.clone())))
        .collect();
    let q = quality_of(
        matched.iter().map(|(l, r)| (l.as_str(), r.as_str())),
        std::iter::empty(),
        &ds.truth,
    );
    Ok(Figures {
        precision: q.precision,
        recall: q.recall,
        f1: q.f1,
        review_true: 0,
        truths: q.truths,
        secs: report["seconds"].as_f64().unwrap_or(0.0),
        peak_bytes: report["peak_bytes"].as_u64().unwrap_or(0),
    })
}

/// `AFFSYNC_BENCH_RUNS` (3 by default): how many times the side-by-side mode runs each tool
/// on each data set, each run in a process of its own.
fn bench_runs() -> usize {
    std::env::var("AFFSYNC_BENCH_RUNS")
        .ok()
        .map(|v| {
            v.parse::<usize>()
                .ok()
                .filter(|&n| n >= 1)
                .unwrap_or_else(|| panic!("AFFSYNC_BENCH_RUNS is a count of runs, not `{v}`"))
        })
        .unwrap_or(3)
}

/// A tool's figures over its runs: the quality of the first (every run decides the same), the
/// median time and the largest peak memory.
fn typical(mut runs: Vec<Figures>) -> Option<Figures> {
    let peak = runs.iter().map(|f| f.peak_bytes).max()?;
    let mut secs: Vec<f64> = runs.iter().map(|f| f.secs).collect();
    secs.sort_by(f64::total_cmp);
    let mut first = runs.swap_remove(0);
    first.secs = secs[secs.len() / 2];
    first.peak_bytes = peak;
    Some(first)
}

fn splink() {
    let python = splink_python();
    if let Err(why) = &python {
        eprintln!("Splink is skipped: {why}");
    }
    print_thresholds();
    println!("| data set | tool | precision | recall | F1 | true matches in review | time | peak memory | speed-up |");
    println!("|---|---|---|---|---|---|---|---|---|");
    let exe = std::env::current_exe().unwrap();
    let runs = bench_runs();
    for (key, name) in side_by_side_keys() {
        let run_ours = || -> Option<Figures> {
            let out = Command::new(&exe).arg("one").arg(&key).output().unwrap();
            let ours = out
                .stdout
                .split(|&b| b == b'\n')
                .rfind(|l| l.starts_with(b"{"))
                .and_then(|l| serde_json::from_slice(l).ok());
            if ours.is_none() {
                eprintln!(
                    "{key}: affsync failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            ours
        };
        let ds = python.is_ok().then(|| load_key(&key));
        let run_theirs = || match (&python, &ds) {
            (Ok(py), Some(ds)) => run_splink(py, ds),
            (Err(why), _) => Err(why.clone()),
            (Ok(_), None) => Err("the data set was not loaded".into()),
        };
        // Each tool once untimed (a warm-up: the first process after the other tool's often
        // waited for memory), then `runs` times, taking turns, so that the machine's load
        // falls on both.
        let _ = (run_ours(), run_theirs());
        let (mut ours_all, mut theirs_all) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            ours_all.extend(run_ours());
            theirs_all.push(run_theirs());
        }
        let Some(ours) = typical(ours_all) else {
            continue;
        };
        let theirs = match theirs_all.iter().position(Result::is_err) {
            Some(i) => Err(theirs_all.swap_remove(i).unwrap_err()),
            None => Ok(typical(theirs_all.into_iter().flatten().collect()).expect("runs ≥ 1")),
        };
        let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
        let speedup = match &theirs {
            Ok(t) => format!("{:.0}×", t.secs / ours.secs.max(1e-9)),
            Err(_) => String::new(),
        };
        println!(
            "| {name} | affsync | {:.3} | {:.3} | **{:.3}** | {} of {} ({:.1}%) | {:.2} s | {:.2} GiB | {speedup} |",
            ours.precision,
            ours.recall,
            ours.f1,
            ours.review_true,
            ours.truths,
            100.0 * ours.review_true as f64 / ours.truths.max(1) as f64,
            ours.secs,
            gib(ours.peak_bytes)
        );
        match theirs {
            Ok(t) => println!(
                "| {name} | Splink 5 (one to one) | {:.3} | {:.3} | **{:.3}** | – | {:.2} s | {:.2} GiB | |",
                t.precision,
                t.recall,
                t.f1,
                t.secs,
                gib(t.peak_bytes)
            ),
            Err(why) => println!("| {name} | Splink 5 | – | – | – | – | – | – | skipped: {why} |"),
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    if args.first().map(String::as_str) == Some("one") {
        one(args.get(1).expect("`one KEY`"));
        return;
    }
    let want = |name: &str| {
        if args.is_empty() {
            name != "splink"
        } else {
            args.iter().any(|a| a == name)
        }
    };
    if want("quality") {
        quality();
    }
    if want("speed") {
        speed();
    }
    if want("splink") {
        splink();
    }
}
/// Pairs not in `truth` whose first compared column (the name) and second (the phone) are
/// identical once reduced to lower-case letters and digits (names) or digits (phones).
fn identical_pairs(
    left: &[SourceRecord],
    right: &[SourceRecord],
    truth: &[(String, String)],
) -> Vec<(String, String)> {
    let squash = |s: &str, digits_only: bool| -> String {
        s.chars()
            .filter(|c| c.is_ascii_digit() || (!digits_only && c.is_alphanumeric()))
            .flat_map(char::to_lowercase)
            .collect()
    };
    let key = |r: &SourceRecord, name: &str, phone: &str| {
        let n = squash(r.values.get(name).map_or("", String::as_str), false);
        let p = squash(r.values.get(phone).map_or("", String::as_str), true);
        (!n.is_empty() && !p.is_empty()).then_some((n, p))
    };
    let (ln, lp) = (
        "http://www.okkam.org/ontology_restaurant1.owl#name",
        "http://www.okkam.org/ontology_restaurant1.owl#phone_number",
    );
    let (rn, rp) = (
        "http://www.okkam.org/ontology_restaurant2.owl#name",
        "http://www.okkam.org/ontology_restaurant2.owl#phone_number",
    );
    let known: std::collections::BTreeSet<(&str, &str)> = truth
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let mut by_key: HashMap<(String, String), Vec<&str>> = HashMap::new();
    for r in right {
        if let (Some(k), Some(id)) = (key(r, rn, rp), r.id.as_deref()) {
            by_key.entry(k).or_default().push(id);
        }
    }
    let mut extra = Vec::new();
    for l in left {
        let (Some(k), Some(lid)) = (key(l, ln, lp), l.id.as_deref()) else {
            continue;
        };
        for rid in by_key.get(&k).into_iter().flatten() {
            if !known.contains(&(lid, *rid)) {
                extra.push((lid.to_string(), rid.to_string()));
            }
        }
    }
    extra
}
