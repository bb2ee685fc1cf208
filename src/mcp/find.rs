//! Finding a record by name, domain or email, through the matcher's own parts: its
//! normalizers (legal forms, accents, initials, registrable domains, gmail dots), its TF-IDF
//! gram index (so a misspelt name still proposes its record, never all pairs), and its scores,
//! calibrated as the match stage's are (0.92 reads as a match, 0.80 as worth a look).
//!
//! The index is built once from the mirror's candidates and kept until the journal moves
//! (`Store::journal_mark`): a question then costs a lookup, not a table scan.

use std::collections::HashMap;

use affsync_core::matcher::index::GramIndex;
use affsync_core::matcher::normalize::{self, OrgName, PersonName};
use affsync_core::matcher::{score, Candidate, Kind};

/// Candidates the gram index proposes for one query before scoring.
const PROPOSE: usize = 25;

/// One kind's records, normalized and indexed.
pub struct KindIndex {
    pub kind: Kind,
    pub cands: Vec<Candidate>,
    orgs: Vec<OrgName>,
    persons: Vec<PersonName>,
    folded: Vec<String>,
    index: GramIndex,
    /// Domain keys (organizations) or email keys (persons) → candidates.
    keys: HashMap<String, Vec<u32>>,
}

/// A record found, with its score and how it was found.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub cand: usize,
    pub score: f64,
    /// `domain`, `email` (exact keys, score 1) or `name` (fuzzy).
    pub by: &'static str,
}

impl KindIndex {
    pub fn build(kind: Kind, cands: Vec<Candidate>) -> KindIndex {
        let mut orgs = Vec::new();
        let mut persons = Vec::new();
        let mut folded = Vec::new();
        let mut blocks = Vec::with_capacity(cands.len());
        let mut keys: HashMap<String, Vec<u32>> = HashMap::new();
        for (i, c) in cands.iter().enumerate() {
            match kind {
                Kind::Organization => {
                    let o = normalize::org_name(&c.name);
                    blocks.push(o.norm.clone());
                    orgs.push(o);
                    for d in &c.domains {
                        if let Some(k) = normalize::domain_key(d) {
                            keys.entry(k).or_default().push(i as u32);
                        }
                    }
                }
                Kind::Person => {
                    let p = match (&c.first_name, &c.last_name) {
                        (None, None) => normalize::person_name(&c.name),
                        (f, l) => PersonName {
                            first: f.as_deref().map(normalize::person_part).unwrap_or_default(),
                            last: l.as_deref().map(normalize::person_part).unwrap_or_default(),
                        },
                    };
                    blocks.push(p.full());
                    persons.push(p);
                    for e in &c.emails {
                        if let Some(k) = normalize::email_key(e) {
                            keys.entry(k).or_default().push(i as u32);
                        }
                    }
                }
                Kind::Opportunity => {
                    let f = normalize::fold(&c.name);
                    blocks.push(f.clone());
                    folded.push(f);
                }
            }
        }
        for v in keys.values_mut() {
            v.dedup();
        }
        let index = GramIndex::build(&blocks);
        KindIndex {
            kind,
            cands,
            orgs,
            persons,
            folded,
            index,
            keys,
        }
    }

    /// The records that `query` names, best first, at most `limit`, none below `min_score`.
    /// A query that reads as a domain (organizations) or an email (persons) is first looked up
    /// exactly; a name is scored against the index's proposals.
    pub fn find(&self, query: &str, limit: usize, min_score: f64) -> Vec<Hit> {
        let q = query.trim();
        if q.is_empty() || self.cands.is_empty() {
            return Vec::new();
        }
        let mut hits: Vec<Hit> = Vec::new();
        let exact = match self.kind {
            Kind::Organization if looks_like_domain(q) => {
                normalize::domain_key(q).map(|k| (k, "domain"))
            }
            Kind::Person if q.contains('@') => normalize::email_key(q).map(|k| (k, "email")),
            _ => None,
        };
        if let Some((key, by)) = exact {
            for &c in self.keys.get(&key).into_iter().flatten() {
                hits.push(Hit {
                    cand: c as usize,
                    score: 1.0,
                    by,
                });
            }
            if !hits.is_empty() {
                hits.truncate(limit);
                return hits;
            }
        }
        let block = match self.kind {
            Kind::Organization => normalize::org_name(q).norm,
            Kind::Person => normalize::person_name(q).full(),
            Kind::Opportunity => normalize::fold(q),
        };
        let mut scratch = self.index.scratch();
        let proposed = self.index.query(&block, PROPOSE, &mut scratch, |_| true);
        let org_q = normalize::org_name(q);
        let person_q = normalize::person_name(q);
        let fold_q = normalize::fold(q);
        for (d, _) in proposed {
            let i = d as usize;
            let sim = match self.kind {
                Kind::Organization => score::org_sim(&org_q, &self.orgs[i]),
                Kind::Person => score::person_sim(&person_q, &self.persons[i]),
                Kind::Opportunity => score::text_sim(&fold_q, &self.folded[i]),
            };
            let s = score::calibrate(sim);
            if s >= min_score {
                hits.push(Hit {
                    cand: i,
                    score: s,
                    by: "name",
                });
            }
        }
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.cand.cmp(&b.cand)));
        hits.truncate(limit);
        hits
    }
}

/// Whether a query reads as a domain or a URL rather than a name: a dot between letters and no
/// space (`acme.com`, `https://www.acme.io/about`).
fn looks_like_domain(q: &str) -> bool {
    !q.contains(' ') && (q.contains("://") || q.split('.').filter(|p| !p.is_empty()).count() >= 2)
}

/// How a score reads, with the match stage's default thresholds.
pub fn verdict(score: f64) -> &'static str {
    if score >= 0.92 {
        "match"
    } else if score >= 0.80 {
        "possible"
    } else {
        "weak"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn orgs() -> KindIndex {
        let mut a = Candidate::new(Kind::Organization, "1", "Northwind Analytics Inc");
        a.domains = vec!["northwind.io".into()];
        let mut b = Candidate::new(Kind::Organization, "2", "Contoso Robotics");
        b.domains = vec!["contoso.com".into()];
        let c = Candidate::new(Kind::Organization, "3", "Northwind Traders");
        KindIndex::build(Kind::Organization, vec![a, b, c])
    }

    #[test]
    fn a_misspelt_name_finds_its_record_first() {
        let idx = orgs();
        let hits = idx.find("Nortwind Analytcs", 5, 0.5);
        assert_eq!(hits[0].cand, 0, "{hits:?}");
        assert_eq!(hits[0].by, "name");
        assert!(hits[0].score >= 0.80, "{hits:?}");
        assert!(hits.iter().all(|h| h.cand != 1), "{hits:?}");
    }

    #[test]
    fn domains_and_urls_are_looked_up_exactly() {
        let idx = orgs();
        for q in [
            "contoso.com",
            "https://www.contoso.com/about",
            "CONTOSO.COM",
        ] {
            let hits = idx.find(q, 5, 0.5);
            assert_eq!(
                hits,
                vec![Hit {
                    cand: 1,
                    score: 1.0,
                    by: "domain"
                }],
                "{q}"
            );
        }
        // A domain nobody has falls back to the names.
        assert!(idx.find("nowhere.example", 5, 0.9).is_empty());
    }

    #[test]
    fn persons_by_email_and_by_swapped_names() {
        let mut p = Candidate::new(Kind::Person, "7", "");
        p.first_name = Some("Ada".into());
        p.last_name = Some("Lovelace".into());
        p.emails = vec!["ada.lovelace@gmail.com".into()];
        let q = Candidate::new(Kind::Person, "8", "Grace Hopper");
        let idx = KindIndex::build(Kind::Person, vec![p, q]);
        assert_eq!(idx.find("adalovelace@gmail.com", 5, 0.5)[0].by, "email");
        assert_eq!(idx.find("Lovelace Ada", 5, 0.5)[0].cand, 0);
        assert_eq!(idx.find("grace hoper", 5, 0.5)[0].cand, 1);
    }

    #[test]
    fn scores_read_as_the_match_stage_reads_them() {
        assert_eq!(verdict(0.95), "match");
        assert_eq!(verdict(0.85), "possible");
        assert_eq!(verdict(0.5), "weak");
    }
}
