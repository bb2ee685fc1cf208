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
//! for BENCHMARKS.md. `AFFSYNC_BENCH_ONLY=dnb` runs the data sets whose folder or name holds the
//! text; `AFFSYNC_BENCH_VERBOSE=1` prints each miss with its reason (quality) or counts the
//! reasons for reviews and misses (speed).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

use affsync::io::source::read_records;
use affsync_core::matcher::{
    Candidate, Kind, MatchConfig, Matcher, Reviewed, SourceRecord, Status,
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
fn oaei(name: &'static str, truth: Truth) -> DataSet {
    DataSet {
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
        oaei("OAEI restaurants (JedAI D1)", Truth::Pairs("gt.csv", b'|')),
        oaei(
            "OAEI restaurants, gt + same name and phone",
            Truth::PairsPlusIdentical("gt.csv", b'|'),
        ),
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

/// Peak resident memory of this process so far (VmHWM), in bytes.
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

const ONSETS: &[&str] = &[
    "b", "br", "c", "ch", "cl", "cr", "d", "dr", "f", "fl", "fr", "g", "gl", "gr", "h", "j", "k",
    "kl", "kr", "l", "m", "n", "p", "pl", "pr", "qu", "r", "s", "sh", "sk", "sl", "sp", "st",
    "str", "t", "th", "tr", "v", "w", "z", "zh", "",
];
const VOWELS: &[&str] = &[
    "a", "e", "i", "o", "u", "ai", "ea", "ee", "io", "oa", "ou", "y", "ae", "ia",
];
const CODAS: &[&str] = &[
    "", "", "", "n", "r", "l", "s", "x", "t", "m", "nd", "nt", "rk", "ck", "ng", "sh", "th", "v",
    "z", "ll",
];
const INDUSTRY: &[&str] = &[
    "Analytics",
    "Robotics",
    "Capital",
    "Health",
    "Labs",
    "Systems",
    "Foods",
    "Logistics",
    "Energy",
    "Bio",
    "Partners",
    "Ventures",
    "Media",
    "Software",
    "Networks",
    "Consulting",
    "Holdings",
    "Group",
    "Solutions",
    "Technologies",
    "Therapeutics",
    "Pharma",
    "Motors",
    "Studio",
    "Design",
    "Security",
    "Data",
    "Cloud",
    "Finance",
    "Insurance",
    "Realty",
    "Construction",
    "Engineering",
    "Materials",
    "Devices",
    "Diagnostics",
    "Genomics",
    "Games",
    "Apparel",
    "Brands",
    "Travel",
    "Mobility",
    "Aerospace",
    "Marine",
    "Farms",
    "Kitchen",
    "Coffee",
    "Brewing",
    "Wines",
    "Logic",
    "Works",
    "Industries",
    "Dynamics",
    "Digital",
    "Interactive",
    "Education",
    "Learning",
    "Legal",
    "Advisors",
    "Research",
    "Medical",
    "Care",
    "Dental",
    "Vision",
    "Audio",
    "Optics",
    "Solar",
    "Power",
    "Water",
    "Air",
    "Freight",
    "Shipping",
    "Retail",
    "Market",
    "Supply",
    "Tools",
    "Textiles",
    "Paper",
    "Print",
    "Labs",
];
const SURNAMES: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Martinez",
    "Lopez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Thompson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Hill",
    "Green",
    "Adams",
    "Baker",
    "Nelson",
    "Carter",
    "Mitchell",
    "Roberts",
    "Turner",
    "Phillips",
    "Campbell",
    "Parker",
    "Evans",
    "Edwards",
    "Collins",
    "Stewart",
    "Morris",
    "Murphy",
    "Cook",
    "Rogers",
    "Morgan",
    "Cooper",
    "Peterson",
    "Reed",
    "Bailey",
    "Bell",
    "Kelly",
    "Howard",
    "Ward",
    "Cox",
    "Richardson",
    "Wood",
    "Watson",
    "Brooks",
    "Bennett",
    "Gray",
    "James",
    "Hughes",
    "Price",
    "Sanders",
    "Myers",
    "Long",
    "Ross",
    "Foster",
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Dubois",
    "Lefèvre",
    "Moreau",
    "Laurent",
    "Girard",
    "Rossi",
    "Russo",
    "Ferrari",
    "Esposito",
    "Bianchi",
    "Jansen",
    "de Vries",
    "van Dijk",
    "Bakker",
    "Visser",
    "Nowak",
    "Kowalski",
    "Novák",
    "Svensson",
    "Johansson",
    "Nielsen",
    "Hansen",
    "Sato",
    "Suzuki",
    "Takahashi",
    "Kim",
    "Park",
    "Chen",
    "Wang",
    "Li",
    "Zhang",
    "Singh",
    "Patel",
    "Kumar",
];
const PLACES: &[&str] = &[
    "Atlantic",
    "Pacific",
    "Northern",
    "Southern",
    "Western",
    "Eastern",
    "Alpine",
    "Baltic",
    "Nordic",
    "Iberian",
    "Boston",
    "Berlin",
    "London",
    "Paris",
    "Austin",
    "Denver",
    "Hudson",
    "Sierra",
    "Bay",
    "Harbor",
    "Summit",
    "Valley",
    "River",
    "Lake",
    "Cedar",
    "Oak",
    "Maple",
    "Granite",
    "Silver",
    "Golden",
    "Blue",
    "Red",
    "Green",
    "Evergreen",
    "Pioneer",
    "Liberty",
];
const LEGAL: &[&str] = &[
    "Inc",
    "Inc.",
    "LLC",
    "Ltd",
    "Ltd.",
    "Limited",
    "GmbH",
    "SA",
    "S.A.",
    "BV",
    "B.V.",
    "PLC",
    "AG",
    "Corp",
    "Corporation",
    "Co.",
    "SAS",
    "Pty Ltd",
    "Oy",
    "AB",
];
const TLDS: &[&str] = &[
    "com", "com", "com", "com", "com", "io", "co", "ai", "de", "co.uk", "net", "fr", "nl", "ch",
    "se", "app", "tech",
];

struct Gen {
    rng: rand::rngs::SmallRng,
}

impl Gen {
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        use rand::Rng;
        xs[self.rng.random_range(0..xs.len())]
    }

    fn chance(&mut self, p: f64) -> bool {
        use rand::Rng;
        self.rng.random_bool(p)
    }

    fn brand(&mut self) -> String {
        let n = if self.chance(0.7) { 2 } else { 3 };
        let mut w = String::new();
        for _ in 0..n {
            w.push_str(self.pick(ONSETS));
            w.push_str(self.pick(VOWELS));
            w.push_str(self.pick(CODAS));
        }
        if w.len() < 4 {
            w.push_str(self.pick(&["ex", "on", "ia", "ix", "ara"]));
        }
        let mut c = w.chars();
        let first = c.next().unwrap().to_ascii_uppercase();
        std::iter::once(first).chain(c).collect()
    }

    /// A company: its name without a legal form, the legal form, and a domain stem.
    fn company(&mut self) -> (String, Option<&'static str>, String) {
        use rand::Rng;
        let roll: f64 = self.rng.random();
        let (name, stem) = if roll < 0.22 {
            let b = self.brand();
            (b.clone(), b)
        } else if roll < 0.55 {
            let b = self.brand();
            let i = self.pick(INDUSTRY);
            (
                format!("{b} {i}"),
                format!("{b}{}", if self.chance(0.4) { i } else { "" }),
            )
        } else if roll < 0.65 {
            let a = self.pick(SURNAMES);
            let b = self.pick(SURNAMES);
            let c = self.brand();
            (format!("{a} & {b} {c}"), format!("{a}{b}{c}"))
        } else if roll < 0.80 {
            let a = self.pick(SURNAMES);
            let b = self.brand();
            let i = self.pick(INDUSTRY);
            (format!("{a} {b} {i}"), format!("{a}{b}"))
        } else if roll < 0.90 {
            let p = self.pick(PLACES);
            let b = self.brand();
            let i = self.pick(INDUSTRY);
            (format!("{p} {b} {i}"), format!("{p}{b}"))
        } else {
            let b = self.brand();
            let i = self.pick(INDUSTRY).to_lowercase();
            (format!("{b}{i}"), format!("{b}{i}"))
        };
        let legal = self.chance(0.6).then(|| self.pick(LEGAL));
        let stem: String = affsync_core::matcher::normalize::fold(&stem).replace(' ', "");
        (name, legal, stem)
    }

    /// One typing error: a letter changed, dropped, doubled or swapped with the next.
    fn typo(&mut self, s: &str) -> String {
        use rand::Rng;
        let mut cs: Vec<char> = s.chars().collect();
        if cs.len() < 4 {
            return s.to_string();
        }
        let i = self.rng.random_range(1..cs.len() - 1);
        match self.rng.random_range(0..4) {
            0 => cs[i] = (b'a' + self.rng.random_range(0..26u8)) as char,
            1 => {
                cs.remove(i);
            }
            2 => cs.insert(i, cs[i]),
            _ => cs.swap(i, i + 1),
        }
        cs.into_iter().collect()
    }

    /// A website as people write it.
    fn website(&mut self, domain: &str) -> String {
        use rand::Rng;
        match self.rng.random_range(0..6) {
            0 => domain.to_string(),
            1 => format!("www.{domain}"),
            2 => format!("https://www.{domain}/"),
            3 => format!("http://{domain}/about"),
            4 => format!("https://{domain}"),
            _ => format!("HTTPS://WWW.{}/contact?ref=crm", domain.to_uppercase()),
        }
    }
}

struct Generated {
    cands: Vec<Candidate>,
    sources: Vec<SourceRecord>,
    /// Source index → candidate id, for sources that are a candidate.
    truth: Vec<Option<String>>,
}

/// `n` organizations on Affinity's side and `n` source records: 80% of them are a candidate
/// written differently (typos, changed legal forms, case, `&`/`and`, websites written every
/// which way), 20% are companies Affinity does not have. 30% of the records on each side have
/// no domain.
fn generate(n: usize, seed: u64) -> Generated {
    use rand::{Rng, SeedableRng};
    let mut g = Gen {
        rng: rand::rngs::SmallRng::seed_from_u64(seed),
    };
    let mut used_domains: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut make = |g: &mut Gen| -> (String, Option<&'static str>, String) {
        let (name, legal, stem) = g.company();
        let mut domain = format!("{stem}.{}", g.pick(TLDS));
        let mut k = 2;
        while used_domains.contains(&domain) {
            domain = format!("{stem}{k}.{}", g.pick(TLDS));
            k += 1;
        }
        used_domains.insert(domain.clone());
        (name, legal, domain)
    };
    let mut companies = Vec::with_capacity(n);
    let mut cands = Vec::with_capacity(n);
    for i in 0..n {
        let (name, legal, domain) = make(&mut g);
        let full = match legal {
            Some(l) => format!("{name} {l}"),
            None => name.clone(),
        };
        let mut c = Candidate::new(Kind::Organization, format!("{}", 100_000_000 + i), full);
        if !g.chance(0.3) {
            c.domains = vec![domain.clone()];
        }
        cands.push(c);
        companies.push((name, legal, domain));
    }
    let mut sources = Vec::with_capacity(n);
    let mut truth = Vec::with_capacity(n);
    // Each candidate is the truth of at most one source record (one to one).
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = g.rng.random_range(0..=i);
        order.swap(i, j);
    }
    for (row, &pick) in order.iter().enumerate() {
        let known = g.chance(0.8);
        let (name, legal, domain, tid) = if known {
            let (name, legal, domain) = companies[pick].clone();
            (name, legal, domain, Some(cands[pick].id.clone()))
        } else {
            let (name, legal, domain) = make(&mut g);
            (name, legal, domain, None)
        };
        let mut name = name;
        if known {
            if g.chance(0.35) {
                name = g.typo(&name);
            }
            if g.chance(0.08) {
                name = g.typo(&name);
            }
            if g.chance(0.15) {
                name = name.to_uppercase();
            }
            if g.chance(0.5) {
                name = name.replace(" & ", " and ");
            }
        }
        let legal = if known && g.chance(0.3) {
            if g.chance(0.5) {
                None
            } else {
                Some(g.pick(LEGAL))
            }
        } else {
            legal
        };
        let full = match legal {
            Some(l) if g.chance(0.3) => format!("{name}, {l}"),
            Some(l) => format!("{name} {l}"),
            None => name,
        };
        let mut values = BTreeMap::new();
        values.insert("name".to_string(), full);
        if !g.chance(0.3) {
            values.insert("website".to_string(), g.website(&domain));
        }
        sources.push(SourceRecord {
            row: row + 1,
            id: Some(format!("s{row}")),
            values,
            problem: None,
        });
        truth.push(tid);
    }
    Generated {
        cands,
        sources,
        truth,
    }
}

fn speed_one(n: usize) {
    let t = Instant::now();
    let g = generate(n, 42);
    let gen_secs = t.elapsed().as_secs_f64();
    let cfg = MatchConfig::from_toml(
        r#"[match]
search_term = "website"
[[match.compare]]
source = "name"
affinity = "name"
"#,
        "speed",
    )
    .unwrap();
    let t = Instant::now();
    let matcher = Matcher::new(&cfg, Kind::Organization, &g.cands);
    let build = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let decisions = matcher.run(&g.sources, &Reviewed::new());
    let run = t.elapsed().as_secs_f64();
    let peak = peak_rss().unwrap_or(0) as f64 / (1u64 << 30) as f64;
    let (mut matched, mut tp, mut review, mut by_key) = (0usize, 0usize, 0usize, 0usize);
    for (d, t) in decisions.iter().zip(&g.truth) {
        match d.status {
            Status::Matched => {
                matched += 1;
                if d.affinity_id.is_some() && d.affinity_id == *t {
                    tp += 1;
                }
                if d.method == Some(affsync_core::matcher::Method::Key) {
                    by_key += 1;
                }
            }
            Status::Review => review += 1,
            _ => {}
        }
    }
    if std::env::var_os("AFFSYNC_BENCH_VERBOSE").is_some() {
        let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
        for (d, s) in decisions.iter().zip(&g.sources) {
            if d.status == Status::Review {
                let k = if d.reason.contains("runner-up") {
                    "runner-up"
                } else if d.reason.contains("scores it higher") {
                    "contested"
                } else if d.reason.contains("nearly as high") {
                    "two rows"
                } else if d.reason.contains("matched to row") {
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
        for (d, t) in decisions.iter().zip(&g.truth) {
            let Some(t) = t else { continue };
            if d.status == Status::Matched && d.affinity_id.as_ref() == Some(t) {
                continue;
            }
            let k = match d.status {
                Status::Matched => "matched to another",
                Status::Review => "review",
                _ if d.top.iter().any(|s| &s.affinity_id == t) => "unmatched, true one scored",
                _ => "unmatched, true one not found",
            };
            *missed.entry(k).or_default() += 1;
        }
        eprintln!("true matches missed: {missed:?}");
    }
    let truths = g.truth.iter().filter(|t| t.is_some()).count();
    let precision = tp as f64 / matched.max(1) as f64;
    let recall = tp as f64 / truths.max(1) as f64;
    println!(
        "| {n} × {n} | {:.1} s | {:.1} s | **{:.1} s** | {:.2} GiB | {} ({} by key) | {} | {:.3} | {:.3} | {:.1} s |",
        build,
        run,
        build + run,
        peak,
        matched,
        by_key,
        review,
        precision,
        recall,
        gen_secs
    );
}

fn speed() {
    let sizes: Vec<usize> = std::env::var("AFFSYNC_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![100_000, 1_000_000]);
    println!(
        "| organizations | index | match + decide | total | peak memory | matched | review | precision | recall | generating |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for n in sizes {
        speed_one(n);
    }
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
