//! The matcher: which Affinity record (if any) each source record is.
//!
//! Pure: candidates and source records in, one [`Decision`] per source record out, in the
//! source's order; no I/O, no clock, and the same input always gives the same output.
//!
//! 1. **Key** (stage 1): the source's `search_term`, normalized, against the candidates' keys
//!    (an organization's domains, a person's emails, an opportunity's name).
//! 2. **Fuzzy** (stage 2, only with `[[match.compare]]`): a candidate index
//!    ([`index::GramIndex`], never all pairs) proposes up to [`BLOCK_K`] candidates, each is
//!    scored on the compared attributes ([`score`]), and the scores are combined (their mean,
//!    [calibrated](score::calibrate) so that the thresholds read as confidence).
//! 3. **Decide** ([`decide`]): one to one, mutual best; `matched` at `accept` or above,
//!    `review` between the thresholds or when a runner-up is within [`config::TIE_MARGIN`],
//!    `unmatched` below. Reviewers' decisions win over computed ones.

pub mod config;
pub mod decide;
pub mod identity;
pub mod index;
pub mod normalize;
pub mod score;

use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;

pub use config::{Attr, Compare, ConfigError, MatchConfig};
use index::{GramIndex, Scratch};
use normalize::{OrgName, PersonName};

/// At most this many candidates from the index are scored for one source record.
pub const BLOCK_K: usize = 10;
/// Candidates whose cosine is below this share of the best one's are not scored: they differ
/// too much from the source where the best one resembles it.
pub const BLOCK_KEEP: f32 = 0.4;
/// Names whose similarity is below this differ: other columns alone cannot match them.
pub const NAME_AGREE: f64 = 0.80;

/// The kinds of Affinity record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Organization,
    Person,
    Opportunity,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Organization => "organization",
            Kind::Person => "person",
            Kind::Opportunity => "opportunity",
        }
    }

    /// What the search term is compared with, in words.
    fn key_words(self) -> &'static str {
        match self {
            Kind::Organization => "a domain",
            Kind::Person => "an email",
            Kind::Opportunity => "the name",
        }
    }
}

impl std::str::FromStr for Kind {
    type Err = String;
    fn from_str(s: &str) -> Result<Kind, String> {
        match s {
            "organization" | "organizations" | "company" => Ok(Kind::Organization),
            "person" | "persons" | "people" => Ok(Kind::Person),
            "opportunity" | "opportunities" => Ok(Kind::Opportunity),
            other => Err(format!(
                "unknown record kind `{other}`; expected `organization`, `person` or `opportunity`"
            )),
        }
    }
}

/// A list a candidate is on.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListRef {
    pub id: String,
    pub name: String,
}

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

/// A compared attribute, normalized.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    /// An organization's name and its [identity tokens](identity).
    Org(OrgName, Vec<String>),
    /// An opportunity's name, folded, and its identity tokens.
    Title(String, Vec<String>),
    Person(PersonName),
    /// A first or last name.
    Part(String),
    Texts(Vec<String>),
    Domains(Vec<String>),
    Emails(Vec<String>),
}

impl Value {
    fn sim(&self, other: &Value) -> f64 {
        match (self, other) {
            (Value::Org(a, _), Value::Org(b, _)) => score::org_sim(a, b),
            (Value::Title(a, _), Value::Title(b, _)) => score::value_sim(a, b),
            (Value::Person(a), Value::Person(b)) => score::person_sim(a, b),
            (Value::Part(a), Value::Part(b)) => score::part_sim(a, b),
            (Value::Texts(a), Value::Texts(b)) => score::texts_sim(a, b),
            (Value::Domains(a), Value::Domains(b)) => score::domain_sim(a, b),
            (Value::Emails(a), Value::Emails(b)) => score::email_sim(a, b),
            _ => 0.0,
        }
    }

    /// The text the candidate index sees; keys (domains, emails) are not fuzzy text.
    fn block_text(&self) -> Option<String> {
        match self {
            Value::Org(o, _) => Some(o.norm.clone()),
            Value::Title(t, _) => Some(t.clone()),
            Value::Person(p) => Some(p.full()),
            Value::Part(s) => Some(s.clone()),
            Value::Texts(t) => Some(t.join(" ")),
            Value::Domains(_) | Value::Emails(_) => None,
        }
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

impl Value {
    /// The identity tokens of a name.
    fn identity(&self) -> Option<&[String]> {
        match self {
            Value::Org(_, ids) | Value::Title(_, ids) => Some(ids),
            _ => None,
        }
    }

    /// Whether an exact agreement on this value identifies a record: a domain, an email, a
    /// number of at least five digits (a phone, a registration or other id).
    fn is_identifier(&self) -> bool {
        match self {
            Value::Domains(_) | Value::Emails(_) => true,
            Value::Texts(t) => t
                .iter()
                .any(|v| v.bytes().filter(u8::is_ascii_digit).count() >= 5 && score::is_numeric(v)),
            _ => false,
        }
    }
}

fn non_empty<T>(v: Vec<T>) -> Option<Vec<T>> {
    (!v.is_empty()).then_some(v)
}

/// A source value for a compared attribute of a record of `kind`.
fn source_value(kind: Kind, attr: &Attr, text: &str) -> Option<Value> {
    let text = normalize::capped(text.trim());
    if text.is_empty() {
        return None;
    }
    Some(match attr {
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
        Attr::Field(_) => Value::Texts(vec![normalize::fold(text)]),
    })
}

/// A candidate's value for a compared attribute.
fn candidate_value(c: &Candidate, attr: &Attr) -> Option<Value> {
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
    let v = match attr {
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
        Attr::Field(f) => Value::Texts(
            c.fields
                .get(f)
                .map(|vs| {
                    vs.iter()
                        .map(|v| normalize::fold(cap(v)))
                        .filter(|v| !v.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
        ),
    };
    let empty = match &v {
        Value::Org(o, _) => o.raw.is_empty(),
        Value::Title(t, _) => t.is_empty(),
        Value::Person(p) => p.first.is_empty() && p.last.is_empty(),
        Value::Part(s) => s.is_empty(),
        Value::Texts(t) | Value::Domains(t) | Value::Emails(t) => t.is_empty(),
    };
    (!empty).then_some(v)
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

/// What the matcher found for one source record, before the one-to-one decision.
#[derive(Debug, Clone)]
pub(crate) enum Found {
    Error(String),
    /// Candidates holding the source's key; `scored` are their fuzzy scores when compared.
    Key {
        key: String,
        cands: Vec<u32>,
        scored: Vec<(u32, f64)>,
    },
    /// Scored candidates, best first (ties by position), and how many were scored; `keys` are
    /// the source's search-term keys (none matched), `detail` says what made the best score.
    Fuzzy {
        scored: Vec<(u32, f64)>,
        considered: usize,
        note: String,
        keys: Vec<String>,
        detail: String,
        /// The best candidate that may not be matched on its name (see [`Matcher::veto`]),
        /// when it scored above every allowed one: its score, and why, in words.
        vetoed: Option<(u32, f64, String)>,
        /// Why the best candidate may be sent to review at most, not matched (see
        /// [`Matcher::cap`]).
        cap: Option<String>,
    },
}

/// A matcher over one set of candidates, ready for any number of source records.
pub struct Matcher<'a> {
    cfg: &'a MatchConfig,
    kind: Kind,
    cands: &'a [Candidate],
    eligible: Vec<bool>,
    rules: Vec<(Compare, Attr)>,
    /// `values[c * rules.len() + r]`.
    values: Vec<Option<Value>>,
    /// Search-term key → eligible candidates, by position.
    keys: HashMap<String, Vec<u32>>,
    /// Candidate domain keys, for the conflict check (organizations with a search term).
    domains: Vec<Vec<String>>,
    index: Option<GramIndex>,
    /// The rules comparing `first_name` and `last_name`, when both are compared.
    name_rules: Option<(usize, usize)>,
}

impl<'a> Matcher<'a> {
    /// Prepares the candidates of `kind` (others are never matched), those on `within_list`
    /// only when it is set. The config should have passed [`MatchConfig::validate`].
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
        let rules: Vec<(Compare, Attr)> = cfg
            .compare
            .iter()
            .map(|c| (c.clone(), Attr::parse(&c.affinity)))
            .collect();
        let per: Vec<(Vec<Option<Value>>, Vec<String>, String)> = cands
            .par_iter()
            .zip(eligible.par_iter())
            .map(|(c, &ok)| {
                if !ok {
                    return (vec![None; rules.len()], Vec::new(), String::new());
                }
                let vals: Vec<Option<Value>> =
                    rules.iter().map(|(_, a)| candidate_value(c, a)).collect();
                let keys = if cfg.search_term.is_some() {
                    candidate_keys(c)
                } else {
                    Vec::new()
                };
                let block = block_text(&vals);
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
        let find = |a: Attr| rules.iter().position(|(_, x)| *x == a);
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
            name_rules,
        }
    }

    fn value(&self, c: u32, r: usize) -> Option<&Value> {
        self.values[c as usize * self.rules.len() + r].as_ref()
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
            .map(|(c, a)| {
                s.values
                    .get(&c.source)
                    .and_then(|t| source_value(self.kind, a, t))
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

    /// The combined score of a candidate and which attributes made it; `None` when no
    /// attribute is present on both sides.
    fn score(&self, p: &PreparedSource, c: u32) -> Option<f64> {
        let (mut sum, mut n) = (0.0, 0usize);
        if self.name_rules.is_some() {
            let (sims, _) = self.rule_sims(p, c);
            for s in sims.into_iter().flatten() {
                sum += s;
                n += 1;
            }
        } else {
            // Without names to cross, no need to keep the similarities.
            for (r, sv) in p.values.iter().enumerate() {
                if let (Some(a), Some(b)) = (sv, self.value(c, r)) {
                    sum += a.sim(b);
                    n += 1;
                }
            }
        }
        (n > 0).then(|| score::calibrate(sum / n as f64))
    }

    /// Each compared attribute's similarity (`None` when either side has no value), and
    /// whether the first and last names were compared crosswise: a first name in the last
    /// name's column and the other way round is a common slip, so when both are compared the
    /// crossed reading counts if it is better, at a small discount.
    fn rule_sims(&self, p: &PreparedSource, c: u32) -> (Vec<Option<f64>>, bool) {
        let mut sims: Vec<Option<f64>> = p
            .values
            .iter()
            .enumerate()
            .map(|(r, sv)| match (sv, self.value(c, r)) {
                (Some(a), Some(b)) => Some(a.sim(b)),
                _ => None,
            })
            .collect();
        let mut crossed = false;
        if let Some((f, l)) = self.name_rules {
            if let (Some(sf), Some(sl), Some(cf), Some(cl)) = (
                &p.values[f],
                &p.values[l],
                self.value(c, f),
                self.value(c, l),
            ) {
                let straight = sims[f].unwrap_or(0.0) + sims[l].unwrap_or(0.0);
                let (x, y) = (sf.sim(cl) * 0.95, sl.sim(cf) * 0.95);
                if x + y > straight {
                    sims[f] = Some(x);
                    sims[l] = Some(y);
                    crossed = true;
                }
            }
        }
        (sims, crossed)
    }

    /// Each compared attribute's score, in words: `` `company_name` ~ name 0.97 ``.
    fn explain(&self, p: &PreparedSource, c: u32) -> String {
        let (sims, crossed) = self.rule_sims(p, c);
        let mut parts = Vec::new();
        for (r, sv) in p.values.iter().enumerate() {
            let (rule, _) = &self.rules[r];
            match (sv, sims[r]) {
                (Some(_), Some(s)) => {
                    parts.push(format!("`{}` ~ {} {:.2}", rule.source, rule.affinity, s))
                }
                (None, _) => parts.push(format!("`{}` empty", rule.source)),
                (_, None) => parts.push(format!("no {}", rule.affinity)),
            }
        }
        if crossed {
            parts.push("first and last names crossed".into());
        }
        parts.join(", ")
    }

    /// The candidates the index proposes for a prepared source, best first.
    fn block(&self, p: &PreparedSource, scratch: &mut Scratch) -> Vec<u32> {
        let Some(index) = &self.index else {
            return Vec::new();
        };
        let hits = index.query(&p.block, BLOCK_K, scratch, |d| self.eligible[d as usize]);
        let best = hits.first().map_or(0.0, |h| h.1);
        let keep = BLOCK_KEEP * best;
        hits.into_iter()
            .filter(|&(_, cos)| cos >= keep)
            .map(|(d, _)| d)
            .collect()
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

    fn sorted_scores(&self, p: &PreparedSource, cands: &[u32]) -> Vec<(u32, f64)> {
        let mut scored: Vec<(u32, f64)> = cands
            .iter()
            .filter_map(|&c| self.score(p, c).map(|s| (c, s)))
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        scored
    }

    fn find(&self, s: &SourceRecord, scratch: &mut Option<Scratch>) -> Found {
        if let Some(problem) = &s.problem {
            return Found::Error(format!("row {}: {problem}", s.row));
        }
        match &s.id {
            None => {
                return Found::Error(format!("row {} has no id", s.row));
            }
            Some(id) if id.trim().is_empty() => {
                return Found::Error(format!("row {} has an empty id", s.row));
            }
            _ => {}
        }
        let p = self.prepare(s);
        for k in &p.keys {
            if let Some(cands) = self.keys.get(k) {
                let scored = if self.rules.is_empty() {
                    Vec::new()
                } else {
                    self.sorted_scores(&p, cands)
                };
                return Found::Key {
                    key: k.clone(),
                    cands: cands.clone(),
                    scored,
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
                self.kind.key_words(),
                self.kind.as_str()
            ),
        };
        if self.rules.is_empty() {
            return Found::Fuzzy {
                scored: Vec::new(),
                considered: 0,
                note: format!("{term_note}, and no `[[match.compare]]` for a fuzzy fallback"),
                keys: p.keys,
                detail: String::new(),
                vetoed: None,
                cap: None,
            };
        }
        if p.values.iter().all(Option::is_none) {
            let cols: Vec<String> = self
                .rules
                .iter()
                .map(|(c, _)| format!("`{}`", c.source))
                .collect();
            let sep = if term_note.is_empty() { "" } else { "; " };
            return Found::Fuzzy {
                scored: Vec::new(),
                considered: 0,
                note: format!(
                    "{term_note}{sep}nothing to compare: {} empty",
                    cols.join(", ")
                ),
                keys: p.keys,
                detail: String::new(),
                vetoed: None,
                cap: None,
            };
        }
        let index = self.index.as_ref().expect("an index exists when rules do");
        let scratch = scratch.get_or_insert_with(|| index.scratch());
        let blocked = self.block(&p, scratch);
        let mut scored = self.sorted_scores(&p, &blocked);
        let mut vetoed = None;
        scored.retain(|&(c, s)| match self.veto(&p, c) {
            None => true,
            Some(why) => {
                if vetoed.is_none() {
                    vetoed = Some((c, s, why));
                }
                false
            }
        });
        // Only a vetoed candidate that beat every allowed one is worth naming.
        let vetoed = vetoed
            .filter(|&(_, s, _)| scored.first().is_none_or(|&(_, best)| s > best))
            .map(|(c, s, why)| (c, s, format!("{} ({why})", self.explain(&p, c))));
        let detail = scored
            .first()
            .map(|&(c, _)| self.explain(&p, c))
            .unwrap_or_default();
        let cap = scored.first().and_then(|&(c, _)| self.cap(&p, c));
        Found::Fuzzy {
            considered: blocked.len(),
            scored,
            note: term_note,
            keys: p.keys,
            detail,
            vetoed,
            cap,
        }
    }

    /// Whether an exact agreement of an identifier (a domain, an email, an id or a phone
    /// number) backs a candidate: the only evidence strong enough to match records whose names
    /// do not say so.
    fn identifier_agrees(&self, p: &PreparedSource, c: u32, except: Option<usize>) -> bool {
        p.values.iter().enumerate().any(|(r, sv)| {
            Some(r) != except
                && match (sv, self.value(c, r)) {
                    (Some(a), Some(b)) => a.is_identifier() && b.is_identifier() && a.sim(b) >= 1.0,
                    _ => false,
                }
        })
    }

    /// Why a candidate may be sent to review at most: unless an identifier agrees, other
    /// columns (a city, an industry) cannot match records on their own, nor lift names that
    /// differ (below [`NAME_AGREE`]) over `accept`.
    fn cap(&self, p: &PreparedSource, c: u32) -> Option<String> {
        if self.identifier_agrees(p, c, None) {
            return None;
        }
        let (sims, _) = self.rule_sims(p, c);
        let names: Vec<usize> = (0..self.rules.len())
            .filter(|&r| {
                matches!(
                    self.rules[r].1,
                    Attr::Name | Attr::FirstName | Attr::LastName
                )
            })
            .collect();
        let compared: Vec<(usize, f64)> = names
            .iter()
            .filter_map(|&r| sims[r].map(|s| (r, s)))
            .collect();
        if compared.is_empty() {
            let what = if names.is_empty() {
                "no name is compared".to_string()
            } else {
                let cols: Vec<String> = names
                    .iter()
                    .map(|&r| format!("`{}`", self.rules[r].0.source))
                    .collect();
                format!(
                    "no name to compare ({} or the candidate's empty)",
                    cols.join(", ")
                )
            };
            return Some(format!("{what}, and no identifier agrees"));
        }
        if compared.iter().all(|&(_, s)| s < NAME_AGREE) {
            let shown: Vec<String> = compared
                .iter()
                .map(|&(r, s)| {
                    let rule = &self.rules[r].0;
                    format!("`{}` ~ {} {s:.2}", rule.source, rule.affinity)
                })
                .collect();
            return Some(format!(
                "the names differ ({}), and no identifier agrees",
                shown.join(", ")
            ));
        }
        None
    }

    /// Why a candidate may not be matched or sent to review on its name: the names'
    /// [identity tokens](identity) differ (`Acme 2` and `Acme 20`), and no identifier (a
    /// domain, an email, an id or a phone number) agrees exactly.
    fn veto(&self, p: &PreparedSource, c: u32) -> Option<String> {
        let (r, why) = p.values.iter().enumerate().find_map(|(r, sv)| {
            let (a, b) = (sv.as_ref()?, self.value(c, r)?);
            identity::conflict(a.identity()?, b.identity()?).map(|why| (r, why))
        })?;
        let strong = self.identifier_agrees(p, c, Some(r));
        (!strong).then(|| format!("the names differ in {why}, and no identifier agrees"))
    }

    /// Domain keys of a source and a candidate that both have some and share none.
    fn domain_conflict(&self, p_keys: &[String], c: u32) -> Option<(String, String)> {
        let cd = self.domains.get(c as usize)?;
        if p_keys.is_empty() || cd.is_empty() || p_keys.iter().any(|k| cd.contains(k)) {
            return None;
        }
        Some((p_keys.join(", "), cd.join(", ")))
    }

    /// Decides every source record: one decision each, in the same order.
    pub fn run(&self, sources: &[SourceRecord], reviewed: &Reviewed) -> Vec<Decision> {
        let found: Vec<Found> = sources
            .par_iter()
            .map_init(|| None, |scratch, s| self.find(s, scratch))
            .collect();
        decide::decide(self, sources, found, reviewed)
    }
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
