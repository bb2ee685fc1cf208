//! The matcher: which Affinity record (if any) each source record is.
//!
//! Pure: candidates and source records in, one [`Decision`] per source record out, in the
//! source's order; no I/O, no clock, and the same input always gives the same output.
//!
//! 1. **Key** (stage 1): the source's `search_term`, normalized, against the candidates' keys
//!    (an organization's domains, a person's emails, an opportunity's name).
//! 2. **Fuzzy** (stage 2, only with `[[match.compare]]`): blocking, never all pairs, in
//!    passes: a candidate index ([`index::GramIndex`]) ranks candidates by the cosine of
//!    their grams with the names' tokens and one-typo variants as a second way in, and exact
//!    blocks on selective attributes (a date, a phone, a postcode; [`block`]) add theirs;
//!    each pair's attributes are
//!    compared in levels ([`compare`]) and weighed by a Fellegi–Sunter model ([`model`])
//!    estimated from these very records, without labels: the match weight (bits) is the
//!    prior plus each attribute's `log2(m/u)`, its probability the score.
//! 3. **Decide** ([`decide`]): one to one; `matched` at a probability of `accept` or above,
//!    `review` between the thresholds or when a runner-up is within [`config::TIE_BITS`],
//!    `unmatched` below. Reviewers' decisions win over computed ones. Names whose identity
//!    tokens differ ([`identity`]) are never matched on the name alone (unless they share a
//!    [code](identity::codes)), and one other column cannot match records whose names differ
//!    or are missing: that takes an identifier (domain, email, id, phone) agreeing exactly, or
//!    two other attributes that agree ([`CORROBORATING_BITS`], [`CORROBORATED_BITS`]).

pub mod block;
pub mod compare;
pub mod config;
pub mod decide;
pub mod identity;
pub mod index;
pub mod model;
pub mod normalize;
pub mod score;

use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};

use rayon::prelude::*;

pub use compare::Comparison;
use compare::Value;
pub use config::{Attr, Compare, ConfigError, MatchConfig};
use index::{GramIndex, Scratch};
use model::{AttrModel, Model, Patterns, Tf, MISSING};
use normalize::PersonName;

/// At most this many candidates from the index are scored for one source record.
pub const BLOCK_K: usize = 10;
/// Candidates whose cosine is below this share of the best one's are not scored: they differ
/// too much from the source where the best one resembles it.
pub const BLOCK_KEEP: f32 = 0.4;
/// How many source records the model is estimated on, at most (a sample of the rest).
pub const FIT_SAMPLE: usize = 20_000;
/// How many random pairs u is counted on, at most (all pairs when there are fewer).
pub const RANDOM_PAIRS: usize = 10_000;
/// An attribute other than a name that agrees by this many bits or more corroborates another
/// (see `Matcher::cap`).
pub const CORROBORATING_BITS: f64 = 3.0;
/// Two corroborating attributes that weigh this much together may match records whose names
/// are missing or differ, without an identifier.
pub const CORROBORATED_BITS: f64 = 10.0;
/// First and last names read crosswise (each in the other's column) cost this many bits.
pub const CROSSED_BITS: f64 = 1.0;
/// Rounds of weighing the candidate pairs again under the model of all pairs (see `fit`).
const GLOBAL_ROUNDS: usize = 3;
/// How many of a source's best candidates are kept for the decision.
const HITS: usize = 6;

pub use crate::model::Kind;

/// What the search term is compared with, in words.
fn key_words(kind: Kind) -> &'static str {
    match kind {
        Kind::Organization => "a domain",
        Kind::Person => "an email",
        Kind::Opportunity => "the name",
    }
}

/// A list a candidate is on.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListRef {
    pub id: String,
    pub name: String,
}

/// The characters of a candidate's name that a reason shows.
pub const LABEL_CHARS: usize = 80;

/// An Affinity record that a source record may be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub kind: Kind,
    pub id: String,
    /// An organization's or opportunity's name; a person's full name (may be empty when
    /// `first_name`/`last_name` are given).
    pub name: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub domains: Vec<String>,
    pub emails: Vec<String>,
    /// The lists it is on.
    pub lists: Vec<ListRef>,
    /// A global organization (shared by every Affinity tenant): it can be matched like any other.
    pub global: bool,
    /// Field values as text, by field name or id (the caller may enter a field under both).
    pub fields: BTreeMap<String, Vec<String>>,
}

impl Candidate {
    /// A candidate with a kind, id and name, and nothing else.
    pub fn new(kind: Kind, id: impl Into<String>, name: impl Into<String>) -> Candidate {
        Candidate {
            kind,
            id: id.into(),
            name: name.into(),
            first_name: None,
            last_name: None,
            domains: Vec::new(),
            emails: Vec::new(),
            lists: Vec::new(),
            global: false,
            fields: BTreeMap::new(),
        }
    }

    /// The name a person reads: the name, else the first and last names.
    pub fn display_name(&self) -> String {
        if !self.name.trim().is_empty() {
            return self.name.clone();
        }
        crate::model::person_name(self.first_name.as_deref(), self.last_name.as_deref(), None)
            .unwrap_or_default()
    }

    /// The candidate as a reason names it: `Acme 20 Inc (organization 2918538601)`, with
    /// `global` before the kind for a global organization; a name of more than
    /// [`LABEL_CHARS`] characters is cut there (a reason is read, and a cell may be a megabyte).
    pub fn label(&self) -> String {
        let mut name = self.display_name();
        if let Some((at, _)) = name.char_indices().nth(LABEL_CHARS) {
            name.truncate(at);
            name.push('…');
        }
        if self.global {
            crate::model::labelled_as(&name, format_args!("global {}", self.kind), &self.id)
        } else {
            crate::model::labelled(&name, self.kind, &self.id)
        }
    }
}

/// One record of an enrichment file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SourceRecord {
    /// 1-based position among the file's records (the header is not a record).
    pub row: usize,
    /// The value of the id column; `None` when the row has none (an `error` decision).
    pub id: Option<String>,
    /// Column → text.
    pub values: BTreeMap<String, String>,
    /// Why the row could not be read whole (an `error` decision).
    pub problem: Option<String>,
}

/// The outcome of a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    Matched,
    Review,
    Unmatched,
    Error,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Matched => "matched",
            Status::Review => "review",
            Status::Unmatched => "unmatched",
            Status::Error => "error",
        }
    }
}

/// How a decision was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Method {
    Key,
    Fuzzy,
    Reviewer,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Key => "key",
            Method::Fuzzy => "fuzzy",
            Method::Reviewer => "reviewer",
        }
    }
}

/// A candidate with its score.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    pub affinity_id: String,
    pub score: f64,
}

/// What the matcher decided for one source record, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub row: usize,
    pub source_id: Option<String>,
    pub status: Status,
    /// The chosen record (`matched`), or the best one (`review`).
    pub affinity_id: Option<String>,
    pub score: Option<f64>,
    pub method: Option<Method>,
    /// The best candidates with their scores, best first (at most [`TOP`]).
    pub top: Vec<Scored>,
    /// How many candidates were scored.
    pub considered: usize,
    /// The reason, in words.
    pub reason: String,
    /// What each compared attribute said about the chosen (or best) candidate, in bits: the
    /// prior first, then one per `[[match.compare]]` (the waterfall of the match weight).
    /// Empty when nothing was compared.
    pub contributions: Vec<Contribution>,
}

/// One step of a match weight's waterfall.
#[derive(Debug, Clone, PartialEq)]
pub struct Contribution {
    /// The source column; `None` for the prior and for adjustments.
    pub source: Option<String>,
    /// The Affinity attribute compared with it.
    pub affinity: Option<String>,
    /// The comparison level (`exact`, `similar ≥0.90`, `missing`), `prior`, or an adjustment
    /// (`first and last names crossed`).
    pub level: String,
    /// Bits for (positive) or against (negative) a match; 0 for a missing value.
    pub weight: f64,
}

impl Contribution {
    /// `` `surname` ~ last_name exact +6.1 ``, `prior −12.3`.
    pub fn words(&self) -> String {
        let w = if self.weight == 0.0 {
            "0".to_string()
        } else {
            format!("{:+.1}", self.weight).replace('-', "−")
        };
        match (&self.source, &self.affinity) {
            (Some(s), Some(a)) => format!("`{s}` ~ {a} {} {w}", self.level),
            _ => format!("{} {w}", self.level),
        }
    }
}

/// A waterfall in words: `prior −12.3, `surname` ~ last_name exact +6.1, ...`.
pub fn waterfall(contributions: &[Contribution]) -> String {
    contributions
        .iter()
        .map(Contribution::words)
        .collect::<Vec<_>>()
        .join(", ")
}

/// How many candidates a decision lists.
pub const TOP: usize = 3;

/// A reviewer's decision about one source record; it wins over the computed one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReviewerDecision {
    /// The source record is this Affinity record.
    Match(String),
    /// The source record is none of the Affinity records.
    NoMatch,
}

/// Reviewers' decisions by source id.
pub type Reviewed = BTreeMap<String, ReviewerDecision>;

/// A compared attribute: the `[[match.compare]]` entry, what it names, how it is compared.
#[derive(Debug, Clone)]
struct Rule {
    cmp: Compare,
    attr: Attr,
    comparison: Comparison,
}

impl Rule {
    fn is_name(&self) -> bool {
        matches!(self.attr, Attr::Name | Attr::FirstName | Attr::LastName)
    }
}

fn org_value(text: &str) -> Value {
    let o = normalize::org_name(text);
    let ids = identity::identity_tokens(&o.raw);
    Value::Org(o, ids)
}

fn title_value(text: &str) -> Value {
    let t = normalize::fold(text);
    let ids = identity::identity_tokens(&t);
    Value::Title(t, ids)
}

fn non_empty<T>(v: Vec<T>) -> Option<Vec<T>> {
    (!v.is_empty()).then_some(v)
}

/// A source value for a compared attribute of a record of `kind`.
fn source_value(kind: Kind, rule: &Rule, text: &str) -> Option<Value> {
    let text = normalize::capped(text.trim());
    if text.is_empty() {
        return None;
    }
    let v = match &rule.attr {
        Attr::Name => match kind {
            Kind::Organization => org_value(text),
            Kind::Person => Value::Person(normalize::person_name(text)),
            Kind::Opportunity => title_value(text),
        },
        Attr::FirstName | Attr::LastName => Value::Part(normalize::person_part(text)),
        Attr::Domain => Value::Domains(non_empty(
            normalize::split_multi(text)
                .filter_map(normalize::domain_key)
                .collect(),
        )?),
        Attr::Email => Value::Emails(non_empty(
            normalize::split_multi(text)
                .filter_map(normalize::email_key)
                .collect(),
        )?),
        Attr::Field(_) => return compare::parse_field(rule.comparison, &[text]),
    };
    (!v.is_empty()).then_some(v)
}

/// A candidate's value for a compared attribute.
fn candidate_value(c: &Candidate, rule: &Rule) -> Option<Value> {
    let cap = normalize::capped;
    let part = |s: &Option<String>| {
        s.as_deref()
            .map(|s| normalize::person_part(cap(s)))
            .unwrap_or_default()
    };
    let person = || match (&c.first_name, &c.last_name) {
        (None, None) => normalize::person_name(cap(&c.name)),
        (f, l) => PersonName {
            first: part(f),
            last: part(l),
        },
    };
    let v = match &rule.attr {
        Attr::Name => match c.kind {
            Kind::Organization => org_value(cap(&c.name)),
            Kind::Person => Value::Person(person()),
            Kind::Opportunity => title_value(cap(&c.name)),
        },
        Attr::FirstName => Value::Part(person().first),
        Attr::LastName => Value::Part(person().last),
        Attr::Domain => Value::Domains(
            c.domains
                .iter()
                .filter_map(|d| normalize::domain_key(d))
                .collect(),
        ),
        Attr::Email => Value::Emails(
            c.emails
                .iter()
                .filter_map(|e| normalize::email_key(e))
                .collect(),
        ),
        Attr::Field(f) => {
            let vs: Vec<&str> = c
                .fields
                .get(f)
                .map(|vs| vs.iter().map(String::as_str).collect())
                .unwrap_or_default();
            return compare::parse_field(rule.comparison, &vs);
        }
    };
    (!v.is_empty()).then_some(v)
}

/// A 64-bit hash of an exact key (0 is "none").
fn key_hash(s: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    s.hash(&mut h);
    h.finish().max(1)
}

/// The search-term keys of a candidate.
fn candidate_keys(c: &Candidate) -> Vec<String> {
    let mut keys: Vec<String> = match c.kind {
        Kind::Organization => c
            .domains
            .iter()
            .filter_map(|d| normalize::domain_key(d))
            .collect(),
        Kind::Person => c
            .emails
            .iter()
            .filter_map(|e| normalize::email_key(e))
            .collect(),
        Kind::Opportunity => {
            let k = normalize::fold(&c.name);
            if k.is_empty() {
                vec![]
            } else {
                vec![k]
            }
        }
    };
    keys.sort();
    keys.dedup();
    keys
}

/// The search-term keys of a source value.
fn source_keys(kind: Kind, text: &str) -> Vec<String> {
    let mut keys: Vec<String> = match kind {
        Kind::Organization => normalize::split_multi(text)
            .filter_map(normalize::domain_key)
            .collect(),
        Kind::Person => normalize::split_multi(text)
            .filter_map(normalize::email_key)
            .collect(),
        Kind::Opportunity => {
            let k = normalize::fold(text);
            if k.is_empty() {
                vec![]
            } else {
                vec![k]
            }
        }
    };
    keys.sort();
    keys.dedup();
    keys
}

/// A source record, normalized for matching.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedSource {
    keys: Vec<String>,
    /// Whether the search term column had any text.
    has_term: bool,
    values: Vec<Option<Value>>,
    block: String,
}

/// One attribute of a compared pair: its level (or [`MISSING`]), the similarity behind it and
/// the hash of the agreed value (for term frequency).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Part {
    level: u8,
    sim: f64,
    key: u64,
}

/// A compared pair: one [`Part`] per rule, and whether first and last names were crossed.
#[derive(Debug, Clone, PartialEq)]
struct Pair {
    parts: Vec<Part>,
    crossed: bool,
}

/// A scored candidate.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Hit {
    pub c: u32,
    /// The match weight, in bits.
    pub weight: f64,
    /// Each rule's weight (0 when missing) and level.
    parts: Vec<(u8, f64)>,
    crossed: bool,
    /// Why it may go to review at most (see [`Matcher::cap`]).
    pub cap: Option<String>,
}

impl Hit {
    pub fn probability(&self) -> f64 {
        model::probability(self.weight)
    }
}

/// What the matcher found for one source record, before the one-to-one decision.
#[derive(Debug, Clone)]
pub(crate) enum Found {
    Error(String),
    /// Candidates holding the source's key; `scored` are their fuzzy scores when compared.
    Key {
        key: String,
        cands: Vec<u32>,
        scored: Vec<Hit>,
    },
    /// Scored candidates, best first (ties by position), and how many were scored; `keys` are
    /// the source's search-term keys (none matched).
    Fuzzy {
        scored: Vec<Hit>,
        considered: usize,
        note: String,
        keys: Vec<String>,
        /// The best candidate that may not be matched on its name (see [`Matcher::veto`]),
        /// when it scored above every allowed one, and why, in words.
        vetoed: Option<(Hit, String)>,
    },
}

/// What stage 1 and blocking found, before the model scores anything.
enum Pre {
    Done(Found),
    Key { key: String, cands: Vec<u32> },
    Fuzzy { blocked: Vec<u32>, note: String },
}

/// A matcher over one set of candidates, ready for any number of source records.
pub struct Matcher<'a> {
    cfg: &'a MatchConfig,
    kind: Kind,
    cands: &'a [Candidate],
    eligible: Vec<bool>,
    rules: Vec<Rule>,
    /// `values[c * rules.len() + r]`.
    values: Vec<Option<Value>>,
    /// Search-term key → the candidates that hold it, by position (on `within_list` or not,
    /// but for opportunities).
    keys: HashMap<String, Vec<u32>>,
    /// Candidate domain keys, for the conflict check (organizations with a search term).
    domains: Vec<Vec<String>>,
    index: Option<GramIndex>,
    /// The compared text's tokens and their one-typo variants, for the second blocking pass.
    tokens: block::KeyBlocks,
    /// Tokens too common to block on (more candidates than the cap hold them).
    common_tokens: std::collections::HashSet<u32>,
    /// Exact blocks of the selective attributes, by rule.
    exact: Vec<(usize, block::KeyBlocks)>,
    /// The rules comparing `first_name` and `last_name`, when both are compared.
    name_rules: Option<(usize, usize)>,
}

/// How a rule's attribute is compared: fixed for the built-in attributes, given in the file
/// or read from the candidates' values for a field.
fn comparison_of(compare: &Compare, attr: &Attr, kind: Kind, cands: &[Candidate]) -> Comparison {
    match attr {
        Attr::Name => Comparison::Name,
        Attr::FirstName | Attr::LastName => Comparison::PersonPart,
        Attr::Domain => Comparison::Domain,
        Attr::Email => Comparison::Email,
        Attr::Field(f) => compare.comparison.unwrap_or_else(|| {
            let vals: Vec<&str> = cands
                .iter()
                .filter(|c| c.kind == kind)
                .filter_map(|c| c.fields.get(f))
                .flatten()
                .map(String::as_str)
                .take(2000)
                .collect();
            compare::infer_field(&vals)
        }),
    }
}

impl<'a> Matcher<'a> {
    /// Prepares the candidates of `kind` (others are never matched). With `within_list`, only
    /// those on the list are fuzzy candidates; a search term finds an organization or person
    /// wherever it is. The config should have passed [`MatchConfig::validate`].
    pub fn new(cfg: &'a MatchConfig, kind: Kind, cands: &'a [Candidate]) -> Matcher<'a> {
        let eligible: Vec<bool> = cands
            .iter()
            .map(|c| {
                c.kind == kind
                    && cfg.within_list.as_deref().is_none_or(|l| {
                        c.lists
                            .iter()
                            .any(|r| r.id == l || r.name.eq_ignore_ascii_case(l))
                    })
            })
            .collect();
        let rules: Vec<Rule> = cfg
            .compare
            .iter()
            .map(|c| {
                let attr = Attr::parse(&c.affinity);
                Rule {
                    comparison: comparison_of(c, &attr, kind, cands),
                    cmp: c.clone(),
                    attr,
                }
            })
            .collect();
        let per: Vec<(Vec<Option<Value>>, Vec<String>, String)> = cands
            .par_iter()
            .zip(eligible.par_iter())
            .map(|(c, &ok)| {
                // A search term is the record's identity: an organization or person that holds
                // it is the match even when it is not on `within_list` (the push then adds it
                // to the list). An opportunity exists only on its list.
                let by_key = cfg.search_term.is_some()
                    && c.kind == kind
                    && (ok || kind != Kind::Opportunity);
                if !ok && !by_key {
                    return (vec![None; rules.len()], Vec::new(), String::new());
                }
                let vals: Vec<Option<Value>> =
                    rules.iter().map(|r| candidate_value(c, r)).collect();
                let keys = if by_key {
                    candidate_keys(c)
                } else {
                    Vec::new()
                };
                // Only the eligible are proposed by the fuzzy stage.
                let block = if ok { block_text(&vals) } else { String::new() };
                (vals, keys, block)
            })
            .collect();
        let mut values = Vec::with_capacity(cands.len() * rules.len());
        let mut keys: HashMap<String, Vec<u32>> = HashMap::new();
        let mut blocks = Vec::with_capacity(cands.len());
        let mut domains = Vec::new();
        let check_domains = kind == Kind::Organization && cfg.search_term.is_some();
        for (i, (vals, ks, block)) in per.into_iter().enumerate() {
            values.extend(vals);
            for k in &ks {
                keys.entry(k.clone()).or_default().push(i as u32);
            }
            if check_domains {
                domains.push(ks);
            }
            blocks.push(block);
        }
        let index = (!rules.is_empty()).then(|| GramIndex::build(&blocks));
        let n_eligible = eligible.iter().filter(|&&e| e).count();
        let cap = block::cap_for(n_eligible);
        // Second pass: tokens of the compared text and their one-typo variants, without the
        // words that more than `cap` candidates hold.
        let (tokens, common_tokens) = if rules.is_empty() {
            Default::default()
        } else {
            let mut df: HashMap<u32, u32> = HashMap::new();
            for (i, b) in blocks.iter().enumerate() {
                if !eligible[i] {
                    continue;
                }
                let mut words: Vec<u32> = b
                    .split(' ')
                    .filter(|w| w.len() >= 4)
                    .map(block::key)
                    .collect();
                words.sort_unstable();
                words.dedup();
                for w in words {
                    *df.entry(w).or_default() += 1;
                }
            }
            let common: std::collections::HashSet<u32> = df
                .into_iter()
                .filter(|&(_, n)| n as usize > cap)
                .map(|(k, _)| k)
                .collect();
            let per: Vec<Vec<u32>> = blocks
                .par_iter()
                .enumerate()
                .map(|(i, b)| {
                    let mut keys = Vec::new();
                    if eligible[i] {
                        block::token_keys(b, |k| common.contains(&k), &mut keys);
                    }
                    keys
                })
                .collect();
            let pairs: Vec<(u32, u32)> = per
                .into_iter()
                .enumerate()
                .flat_map(|(i, ks)| ks.into_iter().map(move |k| (k, i as u32)))
                .collect();
            (block::KeyBlocks::build(pairs, cap), common)
        };
        drop(blocks);
        // Third: exact blocks on the attributes whose values are rare enough.
        let exact: Vec<(usize, block::KeyBlocks)> = (0..rules.len())
            .filter(|&r| {
                !rules[r].is_name()
                    && matches!(
                        rules[r].comparison,
                        Comparison::Date
                            | Comparison::Number
                            | Comparison::Email
                            | Comparison::Domain
                            | Comparison::Text
                    )
            })
            .filter_map(|r| {
                let pairs: Vec<(u32, u32)> = (0..cands.len())
                    .filter(|&c| eligible[c])
                    .filter_map(|c| {
                        let v = values[c * rules.len() + r].as_ref()?;
                        Some((block::key(v.exact_key()?), c as u32))
                    })
                    .collect();
                let kb = block::KeyBlocks::build(pairs, cap);
                (!kb.is_empty() && kb.mean_block() <= block::SELECTIVE_MEAN_BLOCK)
                    .then_some((r, kb))
            })
            .collect();
        let find = |a: Attr| rules.iter().position(|r| r.attr == a);
        let name_rules = find(Attr::FirstName).zip(find(Attr::LastName));
        Matcher {
            cfg,
            kind,
            cands,
            eligible,
            rules,
            values,
            keys,
            domains,
            index,
            tokens,
            common_tokens,
            exact,
            name_rules,
        }
    }

    fn value(&self, c: u32, r: usize) -> Option<&Value> {
        self.values[c as usize * self.rules.len() + r].as_ref()
    }

    /// How each `[[match.compare]]` entry is compared, in order.
    pub fn comparisons(&self) -> Vec<Comparison> {
        self.rules.iter().map(|r| r.comparison).collect()
    }

    /// Normalizes a source record.
    pub fn prepare(&self, s: &SourceRecord) -> PreparedSource {
        let term = self
            .cfg
            .search_term
            .as_ref()
            .and_then(|col| s.values.get(col))
            .map(|t| t.trim())
            .unwrap_or("");
        // Several websites or addresses fit; a megabyte of them is not a search term.
        let term = {
            let mut end = term.len().min(4 * normalize::MAX_TEXT);
            while !term.is_char_boundary(end) {
                end -= 1;
            }
            &term[..end]
        };
        let keys = if term.is_empty() {
            Vec::new()
        } else {
            source_keys(self.kind, term)
        };
        let values: Vec<Option<Value>> = self
            .rules
            .iter()
            .map(|r| {
                s.values
                    .get(&r.cmp.source)
                    .and_then(|t| source_value(self.kind, r, t))
            })
            .collect();
        let block = block_text(&values);
        PreparedSource {
            keys,
            has_term: !term.is_empty(),
            values,
            block,
        }
    }

    /// Compares two sides' values rule by rule. First and last names, when both are compared,
    /// are also read crosswise (a first name in the last name's column is a common slip); the
    /// crossed reading counts when its similarities are better, at [`CROSSED_BITS`].
    fn compare_values<'v>(
        &self,
        a: &'v [Option<Value>],
        b: impl Fn(usize) -> Option<&'v Value>,
    ) -> Pair {
        let part = |x: Option<&Value>, y: Option<&Value>| -> Part {
            match (x, y) {
                (Some(x), Some(y)) => {
                    let (level, sim) = x.compare(y);
                    let key = if level == 0 || (level == 1 && x.comparison() == Comparison::Name) {
                        x.exact_key().map_or(0, key_hash)
                    } else {
                        0
                    };
                    Part { level, sim, key }
                }
                _ => Part {
                    level: MISSING,
                    sim: 0.0,
                    key: 0,
                },
            }
        };
        let mut parts: Vec<Part> = (0..self.rules.len())
            .map(|r| part(a[r].as_ref(), b(r)))
            .collect();
        let mut crossed = false;
        if let Some((f, l)) = self.name_rules {
            if let (Some(_), Some(_), Some(_), Some(_)) = (&a[f], &a[l], b(f), b(l)) {
                let (x, y) = (part(a[f].as_ref(), b(l)), part(a[l].as_ref(), b(f)));
                let straight = parts[f].sim + parts[l].sim;
                if 0.95 * (x.sim + y.sim) > straight {
                    parts[f] = x;
                    parts[l] = y;
                    crossed = true;
                }
            }
        }
        Pair { parts, crossed }
    }

    /// A source compared with a candidate.
    fn pair(&self, p: &PreparedSource, c: u32) -> Pair {
        self.compare_values(&p.values, |r| self.value(c, r))
    }

    /// The match weight of a compared pair under a model, with each rule's part.
    fn weigh(&self, model: &Model, pair: &Pair) -> (f64, Vec<(u8, f64)>) {
        let mut w = model.prior;
        let parts: Vec<(u8, f64)> = pair
            .parts
            .iter()
            .zip(&model.attrs)
            .map(|(p, a)| {
                if p.level == MISSING {
                    (MISSING, 0.0)
                } else {
                    let x = a.weight_tf(p.level, (p.key != 0).then_some(p.key));
                    w += x;
                    (p.level, x)
                }
            })
            .collect();
        if pair.crossed {
            w -= CROSSED_BITS;
        }
        (w, parts)
    }

    /// The hit of a candidate: its weight, parts and cap.
    fn hit(&self, model: &Model, p: &PreparedSource, c: u32) -> Hit {
        self.hit_of(model, self.pair(p, c), c)
    }

    /// The hit of a candidate already compared.
    fn hit_of(&self, model: &Model, pair: Pair, c: u32) -> Hit {
        let (weight, parts) = self.weigh(model, &pair);
        let cap = self.cap(model, &pair, &parts);
        Hit {
            c,
            weight,
            parts,
            crossed: pair.crossed,
            cap,
        }
    }

    /// A hit's waterfall.
    pub(crate) fn contributions(&self, model: &Model, hit: &Hit) -> Vec<Contribution> {
        let mut out = vec![Contribution {
            source: None,
            affinity: None,
            level: "prior".into(),
            weight: model.prior,
        }];
        for (r, &(level, w)) in hit.parts.iter().enumerate() {
            let rule = &self.rules[r];
            let label = if level == MISSING {
                "missing".to_string()
            } else {
                let base = rule.comparison.levels()[level as usize];
                let plain = model.attrs[r].weight(level);
                if (w - plain).abs() >= 0.5 {
                    let how = if w > plain { "rare" } else { "common" };
                    format!("{base} ({how} value)")
                } else {
                    base.to_string()
                }
            };
            out.push(Contribution {
                source: Some(rule.cmp.source.clone()),
                affinity: Some(rule.cmp.affinity.clone()),
                level: label,
                weight: w,
            });
        }
        if hit.crossed {
            out.push(Contribution {
                source: None,
                affinity: None,
                level: "first and last names crossed".into(),
                weight: -CROSSED_BITS,
            });
        }
        out
    }

    /// The candidates blocking proposes for a prepared source: the index's best by cosine,
    /// with those sharing a token or a one-typo variant of one ranked among them, then those
    /// sharing a selective attribute's value exactly.
    fn block(&self, p: &PreparedSource, scratch: &mut Scratch) -> Vec<u32> {
        let Some(index) = &self.index else {
            return Vec::new();
        };
        let eligible = |d: u32| self.eligible[d as usize];
        // Token blocks: candidates by how many of the source's keys they share.
        let mut keys = Vec::new();
        block::token_keys(&p.block, |k| self.common_tokens.contains(&k), &mut keys);
        for &k in &keys {
            for d in self.tokens.get(k) {
                let n = &mut scratch.shared[d as usize];
                if *n == 0 {
                    scratch.counted.push(d);
                }
                *n = n.saturating_add(1);
            }
        }
        let mut counted: Vec<(u32, u16)> = scratch
            .counted
            .drain(..)
            .map(|d| (d, std::mem::take(&mut scratch.shared[d as usize])))
            .collect();
        // The 2·BLOCK_K that share the most keys, ties by position.
        let by_shared = |a: &(u32, u16), b: &(u32, u16)| b.1.cmp(&a.1).then(a.0.cmp(&b.0));
        if counted.len() > 2 * BLOCK_K {
            counted.select_nth_unstable_by(2 * BLOCK_K, by_shared);
            counted.truncate(2 * BLOCK_K);
        }
        counted.sort_unstable_by(by_shared);
        let extra: Vec<u32> = counted.iter().map(|&(d, _)| d).collect();
        let hits = index.query_with(&p.block, BLOCK_K, scratch, eligible, &extra);
        let best = hits.first().map_or(0.0, |h| h.1);
        let keep = BLOCK_KEEP * best;
        let mut kept: Vec<u32> = hits
            .into_iter()
            .filter(|&(_, cos)| cos >= keep)
            .map(|(d, _)| d)
            .collect();
        // Exact blocks on selective attributes, whatever the names.
        for (r, kb) in &self.exact {
            if let Some(k) = p.values[*r].as_ref().and_then(Value::exact_key) {
                for d in kb.get(block::key(k)).filter(|&d| eligible(d)).take(BLOCK_K) {
                    if !kept.contains(&d) {
                        kept.push(d);
                    }
                }
            }
        }
        kept.shrink_to_fit();
        kept
    }

    /// The ids of the candidates a source record is compared with (its key hits and the
    /// index's proposals): for measuring blocking.
    pub fn candidate_set(&self, s: &SourceRecord) -> Vec<&'a str> {
        let p = self.prepare(s);
        let mut set: Vec<u32> = Vec::new();
        for k in &p.keys {
            if let Some(cs) = self.keys.get(k) {
                set.extend(cs);
            }
        }
        if set.is_empty() {
            if let Some(index) = &self.index {
                let mut scratch = index.scratch();
                set = self.block(&p, &mut scratch);
            }
        }
        set.sort_unstable();
        set.dedup();
        set.into_iter()
            .map(|c| self.cands[c as usize].id.as_str())
            .collect()
    }

    /// Stage 1 and blocking.
    fn pre(&self, s: &SourceRecord, p: &PreparedSource, scratch: &mut Option<Scratch>) -> Pre {
        if let Some(problem) = &s.problem {
            return Pre::Done(Found::Error(format!("row {}: {problem}", s.row)));
        }
        match &s.id {
            None => return Pre::Done(Found::Error(format!("row {} has no id", s.row))),
            Some(id) if id.trim().is_empty() => {
                return Pre::Done(Found::Error(format!("row {} has an empty id", s.row)))
            }
            _ => {}
        }
        for k in &p.keys {
            if let Some(cands) = self.keys.get(k) {
                return Pre::Key {
                    key: k.clone(),
                    cands: cands.clone(),
                };
            }
        }
        let term_note = match (&self.cfg.search_term, p.has_term, p.keys.is_empty()) {
            (None, _, _) => String::new(),
            (Some(col), false, _) => format!("no `{col}` value"),
            (Some(col), true, true) => format!("`{col}` holds no usable key"),
            (Some(col), true, false) => format!(
                "`{col}` ({}) is {} of no {}",
                p.keys.join(", "),
                key_words(self.kind),
                self.kind.as_str()
            ),
        };
        let nothing = |note: String| {
            Pre::Done(Found::Fuzzy {
                scored: Vec::new(),
                considered: 0,
                note,
                keys: p.keys.clone(),
                vetoed: None,
            })
        };
        if self.rules.is_empty() {
            return nothing(format!(
                "{term_note}, and no `[[match.compare]]` for a fuzzy fallback"
            ));
        }
        if p.values.iter().all(Option::is_none) {
            let cols: Vec<String> = self
                .rules
                .iter()
                .map(|r| format!("`{}`", r.cmp.source))
                .collect();
            let sep = if term_note.is_empty() { "" } else { "; " };
            return nothing(format!(
                "{term_note}{sep}nothing to compare: {} empty",
                cols.join(", ")
            ));
        }
        let index = self.index.as_ref().expect("an index exists when rules do");
        let scratch = scratch.get_or_insert_with(|| index.scratch());
        Pre::Fuzzy {
            blocked: self.block(p, scratch),
            note: term_note,
        }
    }

    /// Scores what stage 1 and blocking found.
    /// `compared`: the pairs of the blocked candidates, in their order, when the fit compared
    /// them already (the sources of its sample).
    fn score(
        &self,
        model: &Model,
        p: &PreparedSource,
        pre: Pre,
        compared: Option<Vec<Pair>>,
    ) -> Found {
        let sort = |mut hits: Vec<Hit>| -> Vec<Hit> {
            hits.sort_by(|a, b| b.weight.total_cmp(&a.weight).then(a.c.cmp(&b.c)));
            hits
        };
        match pre {
            Pre::Done(f) => f,
            Pre::Key { key, cands } => {
                let mut scored = if self.rules.is_empty() {
                    Vec::new()
                } else {
                    sort(cands.iter().map(|&c| self.hit(model, p, c)).collect())
                };
                scored.truncate(HITS);
                Found::Key { key, cands, scored }
            }
            Pre::Fuzzy { blocked, note } => {
                let hits = match compared {
                    Some(pairs) if pairs.len() == blocked.len() => pairs
                        .into_iter()
                        .zip(&blocked)
                        .map(|(pair, &c)| self.hit_of(model, pair, c))
                        .collect(),
                    _ => blocked.iter().map(|&c| self.hit(model, p, c)).collect(),
                };
                let mut scored = sort(hits);
                let mut vetoed = None;
                scored.retain(|h| match self.veto(p, h.c) {
                    None => true,
                    Some(why) => {
                        if vetoed.is_none() {
                            vetoed = Some((h.clone(), why));
                        }
                        false
                    }
                });
                // Only a vetoed candidate that beat every allowed one is worth naming.
                let vetoed = vetoed.filter(|(h, _): &(Hit, String)| {
                    scored.first().is_none_or(|best| h.weight > best.weight)
                });
                scored.truncate(HITS);
                Found::Fuzzy {
                    considered: blocked.len(),
                    scored,
                    note,
                    keys: p.keys.clone(),
                    vetoed,
                }
            }
        }
    }

    /// Why a candidate may not be matched or sent to review on its name: the names'
    /// [identity tokens](identity) differ (`Acme 2` and `Acme 20`), and no identifier (a
    /// domain, an email, an id or a phone number) agrees exactly.
    fn veto(&self, p: &PreparedSource, c: u32) -> Option<String> {
        self.veto_values(&p.values, |r| self.value(c, r))
    }

    fn veto_values<'v>(
        &self,
        a: &'v [Option<Value>],
        b: impl Fn(usize) -> Option<&'v Value>,
    ) -> Option<String> {
        let (r, why) = a.iter().enumerate().find_map(|(r, sv)| {
            let (x, y) = (sv.as_ref()?, b(r)?);
            let ((ia, na), (ib, nb)) = (x.identity()?, y.identity()?);
            if ia == ib || identity::share_code(na, nb) {
                return None;
            }
            // An organization's number or region is its identity even when the other name has
            // none (`Acme Fund II`, `Acme Fund`); a title often leaves its numbers out.
            let one_sided = matches!(x, Value::Org(..));
            identity::conflict_names(na, nb, one_sided).map(|why| (r, why))
        })?;
        let strong = (0..self.rules.len()).any(|r2| {
            r2 != r
                && self.rules[r2].comparison.is_identifier()
                && match (a[r2].as_ref(), b(r2)) {
                    (Some(x), Some(y)) => x.compare(y).0 == 0,
                    _ => false,
                }
        });
        (!strong).then(|| format!("the names differ in {why}, and no identifier agrees"))
    }

    /// Why a pair may be sent to review at most: unless an identifier (a domain, an email, an
    /// id, a phone number) agrees exactly, or two other attributes agree each by at least
    /// [`CORROBORATING_BITS`] (a date of birth and a close email, [`CORROBORATED_BITS`]
    /// together), one other column (a city, an industry) cannot match records on its own,
    /// nor lift names that differ (every compared name below similarity 0.80, see
    /// [`Comparison::is_weak`]) over `accept`. Names that differ but reach `accept` by
    /// themselves (the prior, the names' weights and whatever the other columns say against
    /// them) were lifted by nothing, and are not held back. `weights` are the pair's parts
    /// under the model.
    fn cap(&self, model: &Model, pair: &Pair, weights: &[(u8, f64)]) -> Option<String> {
        let agrees = |r: usize| pair.parts[r].level == 0;
        if (0..self.rules.len()).any(|r| self.rules[r].comparison.is_identifier() && agrees(r)) {
            return None;
        }
        let others: Vec<f64> = (0..self.rules.len())
            .filter(|&r| !self.rules[r].is_name())
            .map(|r| weights[r].1)
            .filter(|&w| w >= CORROBORATING_BITS)
            .collect();
        if others.len() >= 2 && others.iter().sum::<f64>() >= CORROBORATED_BITS {
            return None;
        }
        let names: Vec<usize> = (0..self.rules.len())
            .filter(|&r| self.rules[r].is_name())
            .collect();
        let compared: Vec<usize> = names
            .iter()
            .copied()
            .filter(|&r| pair.parts[r].level != MISSING)
            .collect();
        if compared.is_empty() {
            let what = if names.is_empty() {
                "no name is compared".to_string()
            } else {
                let cols: Vec<String> = names
                    .iter()
                    .map(|&r| format!("`{}`", self.rules[r].cmp.source))
                    .collect();
                format!(
                    "no name to compare ({} or the candidate's empty)",
                    cols.join(", ")
                )
            };
            return Some(format!("{what}, and no identifier agrees"));
        }
        let differ = |r: usize| self.rules[r].comparison.is_weak(pair.parts[r].level);
        // The weight without what other columns say for the pair (only read when the names
        // differ: this runs for every pair scored).
        let by_names = || -> f64 {
            let crossed = if pair.crossed { CROSSED_BITS } else { 0.0 };
            model.prior - crossed
                + (0..self.rules.len())
                    .map(|r| {
                        if self.rules[r].is_name() {
                            weights[r].1
                        } else {
                            weights[r].1.min(0.0)
                        }
                    })
                    .sum::<f64>()
        };
        if compared.iter().all(|&r| differ(r)) && by_names() < model::weight_of(self.cfg.accept()) {
            let shown: Vec<String> = compared
                .iter()
                .map(|&r| {
                    let rule = &self.rules[r].cmp;
                    format!(
                        "`{}` ~ {} {:.2}",
                        rule.source, rule.affinity, pair.parts[r].sim
                    )
                })
                .collect();
            return Some(format!(
                "the names differ ({}), and no identifier agrees",
                shown.join(", ")
            ));
        }
        None
    }

    /// Whether two sets of values look like one record to the model: a probability of at
    /// least `threshold`, no identity tokens that differ, names that agree, and for
    /// organizations (and opportunities) the same name: `Acme GmbH` and `Acme Ltd` are two
    /// legal entities, and a person chooses between them.
    fn alike<'v>(
        &self,
        model: &Model,
        a: &'v [Option<Value>],
        b: impl Fn(usize) -> Option<&'v Value> + Copy,
        threshold: f64,
    ) -> bool {
        if self.veto_values(a, b).is_some() {
            return false;
        }
        let pair = self.compare_values(a, b);
        let (w, parts) = self.weigh(model, &pair);
        if self.cap(model, &pair, &parts).is_some() {
            return false;
        }
        let renamed = (0..self.rules.len()).any(|r| {
            matches!(a[r], Some(Value::Org(..) | Value::Title(..))) && pair.parts[r].level > 0
        });
        if renamed {
            return false;
        }
        model::probability(w) >= threshold
    }

    /// Whether two candidates look like one record (a duplicate in Affinity): then either is
    /// a match for a source that cannot tell them apart. Symmetric: the comparison is read
    /// both ways (a crossed reading puts the agreement under the first side's columns, each
    /// with its own weight), and either way suffices; an answer that depended on which of the
    /// two was asked about first made one of two duplicate rows matched and the other not.
    pub(crate) fn duplicates(&self, model: &Model, a: u32, b: u32, threshold: f64) -> bool {
        let n = self.rules.len();
        let of = |c: u32| &self.values[c as usize * n..(c as usize + 1) * n];
        self.alike(model, of(a), |r| self.value(b, r), threshold)
            || self.alike(model, of(b), |r| self.value(a, r), threshold)
    }

    /// Whether two source records look like one record (duplicate rows in the file): then
    /// both may be matched to the one Affinity record. Symmetric, as [`Matcher::duplicates`].
    pub(crate) fn same_record(
        &self,
        model: &Model,
        a: &SourceRecord,
        b: &SourceRecord,
        threshold: f64,
    ) -> bool {
        let (pa, pb) = (self.prepare(a), self.prepare(b));
        self.alike(model, &pa.values, |r| pb.values[r].as_ref(), threshold)
            || self.alike(model, &pb.values, |r| pa.values[r].as_ref(), threshold)
    }

    /// Domain keys of a source and a candidate that both have some and share none.
    fn domain_conflict(&self, p_keys: &[String], c: u32) -> Option<(String, String)> {
        let cd = self.domains.get(c as usize)?;
        if p_keys.is_empty() || cd.is_empty() || p_keys.iter().any(|k| cd.contains(k)) {
            return None;
        }
        Some((p_keys.join(", "), cd.join(", ")))
    }

    /// Estimates the model on the source records that go to the fuzzy stage (see [`model`]):
    /// m by EM over a sample's candidate pairs, u from random pairs and the candidate pairs,
    /// the prior from the expected matches, term frequencies from both sides.
    ///
    /// Returns the model and the sample's compared pairs (source, pairs of its blocked
    /// candidates in order), which scoring reuses instead of comparing them again.
    fn fit(&self, prepared: &[PreparedSource], pre: &[Pre]) -> (Model, Vec<(usize, Vec<Pair>)>) {
        let rules = self.rules.len();
        let fuzzy: Vec<usize> = (0..pre.len())
            .filter(|&i| matches!(pre[i], Pre::Fuzzy { .. }))
            .collect();
        let right: Vec<u32> = (0..self.cands.len() as u32)
            .filter(|&c| self.eligible[c as usize])
            .collect();
        let (n_left, n_right) = (fuzzy.len().max(1) as f64, right.len().max(1) as f64);
        let all_pairs = n_left * n_right;
        let s = self.sample_pairs(prepared, pre, &fuzzy);
        // Random pairs (all of them when there are few), for u.
        let random = self.random_levels(prepared, &fuzzy, &right);
        let mut attrs = self.initial_attrs();
        let m0: Vec<Vec<f64>> = attrs.iter().map(|a| a.m.clone()).collect();
        // u among the candidate pairs starts from u among random pairs (what different
        // records look like); EM lets it move toward the likeness that blocking selects.
        let u0: Vec<Vec<f64>> = (0..rules)
            .map(|r| {
                let n = attrs[r].m.len();
                model::estimate_u(
                    &random.0[r],
                    random.1,
                    all_pairs,
                    &vec![0.0; n],
                    &vec![0.0; n],
                    attrs[r].comparison.default_u(),
                )
            })
            .collect();
        let fixed: Vec<bool> = attrs.iter().map(|a| a.fixed_m).collect();
        let fit = model::em(&s.pats, &s.groups, &m0, &u0, 0.5, &fixed);
        for (a, m) in attrs.iter_mut().zip(&fit.m) {
            a.m = m.clone();
        }
        let pi = if s.pats.is_empty() { 0.5 } else { fit.pi };
        let (prior, per_pattern) =
            global_u_and_prior(&mut attrs, &s, &fit.pairs, &random, all_pairs, n_right, pi);
        for a in attrs.iter_mut() {
            a.make_monotone();
        }
        // Each sampled pair's probability of being a match, for term frequencies.
        let pair_weight: Vec<f64> = per_pattern
            .iter()
            .map(|&(c, w)| if c > 0.0 { w / c } else { 0.0 })
            .collect();
        self.term_frequencies(&mut attrs, prepared, &fuzzy, &right, &s, &pair_weight);
        let compared = s.sample.into_iter().zip(s.grouped).collect();
        (Model { prior, pi, attrs }, compared)
    }

    /// A sample of the fuzzy sources, evenly spread, with their blocked candidates compared
    /// and each pair's agreement pattern.
    fn sample_pairs(&self, prepared: &[PreparedSource], pre: &[Pre], fuzzy: &[usize]) -> Sample {
        let step = fuzzy.len().div_ceil(FIT_SAMPLE).max(1);
        let sample: Vec<usize> = fuzzy.iter().copied().step_by(step).collect();
        let scale = fuzzy.len() as f64 / sample.len().max(1) as f64;
        let grouped: Vec<Vec<Pair>> = sample
            .par_iter()
            .map(|&i| {
                let Pre::Fuzzy { blocked, .. } = &pre[i] else {
                    unreachable!("sampled from the fuzzy sources")
                };
                blocked
                    .iter()
                    .map(|&c| self.pair(&prepared[i], c))
                    .collect()
            })
            .collect();
        let mut pats = Patterns::new(self.rules.len());
        let mut levels = vec![0u8; self.rules.len()];
        let groups: Vec<Vec<u32>> = grouped
            .iter()
            .map(|g| {
                g.iter()
                    .map(|p| {
                        for (l, part) in levels.iter_mut().zip(&p.parts) {
                            *l = part.level;
                        }
                        pats.add(&levels, 1.0) as u32
                    })
                    .collect()
            })
            .collect();
        Sample {
            sample,
            scale,
            grouped,
            pats,
            groups,
        }
    }

    /// Each rule's model before the fit: its comparison's defaults, or the `m` and `u` its
    /// `[[match.compare]]` gives (then kept as given).
    fn initial_attrs(&self) -> Vec<AttrModel> {
        self.rules
            .iter()
            .map(|r| {
                let mut a = AttrModel::new(r.comparison);
                a.legal_forms = r.attr == Attr::Name && self.kind == Kind::Organization;
                if let Some(m) = &r.cmp.m {
                    a.m = normalized(m);
                    a.fixed_m = true;
                }
                if let Some(u) = &r.cmp.u {
                    a.u = normalized(u);
                    a.fixed_u = true;
                }
                a
            })
            .collect()
    }

    /// Term frequencies, for the attributes whose exact agreements carry a value: counted over
    /// both sides, referenced to the sampled pairs that agree (`pair_weight`: each pattern's
    /// probability of a match).
    fn term_frequencies(
        &self,
        attrs: &mut [AttrModel],
        prepared: &[PreparedSource],
        fuzzy: &[usize],
        right: &[u32],
        s: &Sample,
        pair_weight: &[f64],
    ) {
        for (r, a) in attrs.iter_mut().enumerate() {
            if a.comparison == Comparison::Domain {
                continue;
            }
            let mut counts: HashMap<u64, u32> = HashMap::new();
            let mut total = 0usize;
            let mut count = |v: Option<&Value>| {
                if let Some(k) = v.and_then(Value::exact_key) {
                    *counts.entry(key_hash(k)).or_default() += 1;
                    total += 1;
                }
            };
            for &c in right {
                count(self.value(c, r));
            }
            for &i in fuzzy {
                count(prepared[i].values[r].as_ref());
            }
            let mut tf = Tf::new(counts, total);
            let agreed: Vec<(u64, f64)> = s
                .grouped
                .iter()
                .zip(&s.groups)
                .flat_map(|(g, qs)| g.iter().zip(qs))
                .filter(|(p, _)| p.parts[r].key != 0)
                .map(|(p, &q)| (p.parts[r].key, pair_weight[q as usize]))
                .collect();
            tf.set_reference(&agreed);
            a.tf = Some(tf);
        }
    }

    /// Levels of random pairs (a fuzzy source and an eligible candidate), per rule and level,
    /// how many pairs were drawn (every pair when there are at most [`RANDOM_PAIRS`]), and
    /// their agreement patterns.
    fn random_levels(
        &self,
        prepared: &[PreparedSource],
        fuzzy: &[usize],
        right: &[u32],
    ) -> (Vec<Vec<f64>>, f64, Patterns) {
        let rules = self.rules.len();
        let mut pats = Patterns::new(rules);
        let mut counts: Vec<Vec<f64>> = self
            .rules
            .iter()
            .map(|r| vec![0.0; r.comparison.level_count()])
            .collect();
        if fuzzy.is_empty() || right.is_empty() {
            return (counts, 0.0, pats);
        }
        let total = fuzzy.len() as u128 * right.len() as u128;
        let pairs: Vec<(usize, u32)> = if total <= RANDOM_PAIRS as u128 {
            fuzzy
                .iter()
                .flat_map(|&i| right.iter().map(move |&c| (i, c)))
                .collect()
        } else {
            let mut state =
                0x853c_49e6_748f_ea9b_u64 ^ (fuzzy.len() as u64) << 20 ^ right.len() as u64;
            let mut next = || {
                // splitmix64
                state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
                let mut z = state;
                z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                z ^ (z >> 31)
            };
            (0..RANDOM_PAIRS)
                .map(|_| {
                    let i = fuzzy[(next() % fuzzy.len() as u64) as usize];
                    let c = right[(next() % right.len() as u64) as usize];
                    (i, c)
                })
                .collect()
        };
        let levels: Vec<Vec<u8>> = pairs
            .par_iter()
            .map(|&(i, c)| {
                let pair = self.pair(&prepared[i], c);
                pair.parts.iter().map(|p| p.level).collect()
            })
            .collect();
        for lv in &levels {
            for r in 0..rules {
                if lv[r] != MISSING {
                    counts[r][lv[r] as usize] += 1.0;
                }
            }
            pats.add(lv, 1.0);
        }
        (counts, pairs.len() as f64, pats)
    }

    /// The model this matcher would use for these source records (for inspection: run()
    /// estimates it the same way).
    pub fn model(&self, sources: &[SourceRecord]) -> Model {
        let prepared: Vec<PreparedSource> = sources.par_iter().map(|s| self.prepare(s)).collect();
        let pre = self.pre_all(sources, &prepared);
        self.fit(&prepared, &pre).0
    }

    fn pre_all(&self, sources: &[SourceRecord], prepared: &[PreparedSource]) -> Vec<Pre> {
        let scratches: Vec<std::sync::Mutex<Option<Scratch>>> = (0..rayon::current_num_threads()
            .max(1))
            .map(|_| std::sync::Mutex::new(None))
            .collect();
        sources
            .par_iter()
            .zip(prepared.par_iter())
            .map(|(s, p)| {
                // One scratch per thread of the pool: rayon's map_init would make one per
                // piece of work, each as large as the index (megabytes at a million).
                let slot = rayon::current_thread_index().unwrap_or(0) % scratches.len();
                let mut scratch = scratches[slot].lock().unwrap_or_else(|e| e.into_inner());
                self.pre(s, p, &mut scratch)
            })
            .collect()
    }

    /// Decides every source record: one decision each, in the same order.
    pub fn run(&self, sources: &[SourceRecord], reviewed: &Reviewed) -> Vec<Decision> {
        let prepared: Vec<PreparedSource> = sources.par_iter().map(|s| self.prepare(s)).collect();
        let pre = self.pre_all(sources, &prepared);
        let (model, compared) = self.fit(&prepared, &pre);
        let mut compared_of: Vec<Option<Vec<Pair>>> = Vec::new();
        compared_of.resize_with(sources.len(), || None);
        for (i, pairs) in compared {
            compared_of[i] = Some(pairs);
        }
        let found: Vec<Found> = pre
            .into_par_iter()
            .zip(prepared.par_iter())
            .zip(compared_of.into_par_iter())
            .map(|((pre, p), pairs)| self.score(&model, p, pre, pairs))
            .collect();
        drop(prepared);
        decide::decide(self, &model, sources, found, reviewed)
    }
}

/// The sources the fit samples, their compared candidate pairs, and the pairs' agreement
/// patterns (`groups[k]`: the pattern of each of `grouped[k]`'s pairs).
struct Sample {
    sample: Vec<usize>,
    /// Sources per sampled source: the sample's counts times this are the whole's.
    scale: f64,
    grouped: Vec<Vec<Pair>>,
    pats: Patterns,
    groups: Vec<Vec<u32>>,
}

/// u and the prior, in the frame of all pairs: the level counts over all pairs less the
/// expected matches among the candidate pairs. The one-to-one fit (`fit_pairs`: each sampled
/// pair's weight as a match) counts a source's matches once; each pair is then weighed again
/// on its own (a source may have two true records: duplicates in Affinity), a few rounds.
///
/// The prior of a pair is that of the one-to-one model with the source's other records taken
/// as ordinary non-matches: a share `pi` of the sources is one of the `n_right` records, each
/// as likely; a pair's odds are then `pi * BF / (n_right * (1 - pi) + pi * (n_right - 1) *
/// b)`, `b` the mean Bayes factor of a pair that is evidence against a match (from the random
/// pairs). Competing candidates are the decision's business (`decide`: runner-up, rivals,
/// duplicates).
///
/// Gives the prior and, per pattern, the sampled pairs and their expected matches (scaled to
/// the whole).
fn global_u_and_prior(
    attrs: &mut [AttrModel],
    s: &Sample,
    fit_pairs: &[Vec<f64>],
    random: &(Vec<Vec<f64>>, f64, Patterns),
    all_pairs: f64,
    n_right: f64,
    pi: f64,
) -> (f64, Vec<(f64, f64)>) {
    let (pats, groups, scale) = (&s.pats, &s.groups, s.scale);
    let mut per_pattern = vec![(0.0, 0.0); pats.len()];
    for (g, ws) in groups.iter().zip(fit_pairs) {
        for (&q, &w) in g.iter().zip(ws) {
            per_pattern[q as usize].0 += scale;
            per_pattern[q as usize].1 += w * scale;
        }
    }
    let mut prior = 0.0;
    for round in 0..=GLOBAL_ROUNDS {
        for (r, a) in attrs.iter_mut().enumerate() {
            if a.fixed_u {
                continue;
            }
            let n = a.m.len();
            let (mut cand, mut matched) = (vec![0.0; n], vec![0.0; n]);
            for (q, &(c, w)) in per_pattern.iter().enumerate() {
                let l = pats.pattern(q)[r];
                if l != MISSING {
                    cand[l as usize] += c;
                    matched[l as usize] += w;
                }
            }
            a.u = model::estimate_u(
                &random.0[r],
                random.1,
                all_pairs,
                &cand,
                &matched,
                a.comparison.default_u(),
            );
        }
        let bits = |pattern: &[u8]| -> f64 {
            pattern
                .iter()
                .zip(attrs.iter())
                .filter(|(&l, _)| l != MISSING)
                .map(|(&l, a)| a.weight(l))
                .sum()
        };
        let rp = &random.2;
        let against: f64 = (0..rp.len())
            .map(|q| {
                let w = bits(rp.pattern(q));
                if w < 0.0 {
                    rp.counts[q] * w.exp2()
                } else {
                    0.0
                }
            })
            .sum::<f64>()
            / rp.total().max(1.0);
        let b = if rp.is_empty() {
            0.05
        } else {
            against.max(1e-6)
        };
        prior = pi.log2() - (n_right * (1.0 - pi) + pi * (n_right - 1.0).max(0.0) * b).log2();
        if round == GLOBAL_ROUNDS {
            break;
        }
        // A pair counts as a match as much as the one-to-one fit or the model of all pairs
        // says, whichever is more: the first knows a source's other candidates, the second
        // lets a source have two true records.
        let global: Vec<f64> = (0..pats.len())
            .map(|q| model::probability(prior + bits(pats.pattern(q))))
            .collect();
        for x in per_pattern.iter_mut() {
            x.1 = 0.0;
        }
        for (g, ws) in groups.iter().zip(fit_pairs) {
            for (&q, &w) in g.iter().zip(ws) {
                per_pattern[q as usize].1 += w.max(global[q as usize]) * scale;
            }
        }
    }
    (prior, per_pattern)
}

/// Probabilities scaled to sum to 1.
fn normalized(xs: &[f64]) -> Vec<f64> {
    let sum: f64 = xs.iter().sum();
    xs.iter().map(|x| (x / sum).max(1e-12)).collect()
}

fn block_text(values: &[Option<Value>]) -> String {
    let parts: Vec<String> = values
        .iter()
        .flatten()
        .filter_map(Value::block_text)
        .filter(|t| !t.is_empty())
        .collect();
    parts.join(" ")
}

/// The ids held by more than one candidate, sorted: each would be matched as one record, so a
/// caller refuses them (the mirror's ids are unique; a file's may not be).
pub fn duplicate_ids(cands: &[Candidate]) -> Vec<&str> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for c in cands {
        *seen.entry(c.id.as_str()).or_default() += 1;
    }
    let mut dups: Vec<&str> = seen
        .into_iter()
        .filter(|&(_, n)| n > 1)
        .map(|(id, _)| id)
        .collect();
    dups.sort_unstable();
    dups
}

/// Matches `sources` against the `cands` of `kind`: one decision per source record, in order.
pub fn match_records(
    cfg: &MatchConfig,
    kind: Kind,
    cands: &[Candidate],
    sources: &[SourceRecord],
    reviewed: &Reviewed,
) -> Vec<Decision> {
    Matcher::new(cfg, kind, cands).run(sources, reviewed)
}

#[cfg(test)]
mod tests;
