//! Reads for the review queue: the records the matcher could not settle (in review or
//! unmatched) with reviewers' verdicts beside them, paged and filtered in the database, and the
//! mirror's records as cards a reviewer compares them with.

use affsync_core::model::RunId;
use std::collections::BTreeMap;

use affsync_core::matcher::Kind;

use super::decisions::{DecisionRow, ReviewRow, ReviewVerdict};
use super::journal::event_from_row;
use super::{col, in_list, param, Ctx, Store, StoreError};
use affsync_core::journal::{RunKind, StoredEvent};

/// Which records of the queue to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QueueStatus {
    /// Not decided by a reviewer yet (in review or unmatched).
    #[default]
    Open,
    /// Not decided, in review (the matcher had candidates it could not choose between).
    Review,
    /// Not decided, unmatched.
    Unmatched,
    /// Decided by a reviewer.
    Decided,
    /// All of the above.
    All,
}

impl QueueStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            QueueStatus::Open => "open",
            QueueStatus::Review => "review",
            QueueStatus::Unmatched => "unmatched",
            QueueStatus::Decided => "decided",
            QueueStatus::All => "all",
        }
    }

    pub fn parse(s: &str) -> Option<QueueStatus> {
        Some(match s {
            "open" | "" => QueueStatus::Open,
            "review" => QueueStatus::Review,
            "unmatched" => QueueStatus::Unmatched,
            "decided" => QueueStatus::Decided,
            "all" => QueueStatus::All,
            _ => return None,
        })
    }

    pub const ALL: [QueueStatus; 5] = [
        QueueStatus::Open,
        QueueStatus::Review,
        QueueStatus::Unmatched,
        QueueStatus::Decided,
        QueueStatus::All,
    ];
}

/// A filter over the queue.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QueueFilter {
    /// A mapping file's key (as `affsync match` stores it); all when `None`.
    pub mapping: Option<String>,
    pub status: QueueStatus,
    /// Only records whose best score is at least this.
    pub min_score: Option<f64>,
    /// Only records whose best score is at most this.
    pub max_score: Option<f64>,
}

/// One record of the queue: the matcher's decision and the reviewer's verdict, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueItem {
    pub decision: DecisionRow,
    pub review: Option<ReviewRow>,
}

/// How far the review of the queue has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct Progress {
    pub reviewed: i64,
    pub remaining: i64,
}

/// What a reviewer sees of a mirror record.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EntityCard {
    pub id: String,
    /// `company`, `person` or `opportunity`.
    pub kind: String,
    pub name: String,
    pub domains: Vec<String>,
    pub emails: Vec<String>,
    /// The names of the lists it is on.
    pub lists: Vec<String>,
    /// Values of the compared fields as text, by the key the mapping file names them with.
    pub fields: BTreeMap<String, Vec<String>>,
}

/// A record is in the queue when the matcher left it in review or unmatched, or when a
/// reviewer decided it (the next match then reads it as matched or unmatched by `reviewer`).
const IN_QUEUE: &str =
    "(d.status IN ('review', 'unmatched') OR d.method = 'reviewer' OR r.source_id IS NOT NULL)";

const ITEM_COLS: &str = "d.mapping, d.source_id, d.status, d.affinity_id, d.score, d.method, \
     d.reason, d.candidates, d.record, d.run_id, d.decided_at, r.decision AS r_decision, \
     r.affinity_id AS r_affinity_id, r.decided_by AS r_decided_by, r.decided_at AS r_decided_at";

fn json_list(t: Option<String>) -> Vec<String> {
    t.and_then(|t| serde_json::from_str::<Vec<String>>(&t).ok())
        .unwrap_or_default()
}

impl Store {
    /// The `WHERE` of a queue filter and its parameters, numbered from 1.
    fn queue_where(&self, f: &QueueFilter) -> (String, Vec<Param>) {
        let mut sql = format!("WHERE {IN_QUEUE}");
        let mut params: Vec<Param> = Vec::new();
        if let Some(m) = &f.mapping {
            params.push(Param::Text(m.clone()));
            sql.push_str(&format!(
                " AND d.mapping = {}",
                param(self.backend, params.len())
            ));
        }
        sql.push_str(match f.status {
            QueueStatus::Open => " AND r.source_id IS NULL",
            QueueStatus::Review => " AND r.source_id IS NULL AND d.status = 'review'",
            QueueStatus::Unmatched => " AND r.source_id IS NULL AND d.status = 'unmatched'",
            QueueStatus::Decided => " AND r.source_id IS NOT NULL",
            QueueStatus::All => "",
        });
        if let Some(s) = f.min_score {
            params.push(Param::Real(s));
            sql.push_str(&format!(
                " AND d.score >= {}",
                param(self.backend, params.len())
            ));
        }
        if let Some(s) = f.max_score {
            params.push(Param::Real(s));
            sql.push_str(&format!(
                " AND d.score <= {}",
                param(self.backend, params.len())
            ));
        }
        (sql, params)
    }

    /// One page of the queue, newest run first, and how many records the filter selects.
    pub async fn review_queue(
        &self,
        f: &QueueFilter,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<QueueItem>, i64), StoreError> {
        let (cond, params) = self.queue_where(f);
        let from = "FROM match_decisions d LEFT JOIN reviewer_decisions r \
                    ON r.mapping = d.mapping AND r.source_id = d.source_id";
        let count_sql = format!("SELECT COUNT(*) AS n {from} {cond}");
        let mut q = sqlx::query(&count_sql);
        for p in &params {
            q = p.bind(q);
        }
        let total: i64 = col(
            &q.fetch_one(&self.pool)
                .await
                .ctx("counting the review queue")?,
            "n",
        )?;
        let n = params.len();
        let sql = format!(
            "SELECT {ITEM_COLS} {from} {cond} ORDER BY d.run_id DESC, d.mapping, d.source_id \
             LIMIT {} OFFSET {}",
            param(self.backend, n + 1),
            param(self.backend, n + 2)
        );
        let mut q = sqlx::query(&sql);
        for p in &params {
            q = p.bind(q);
        }
        let rows = q
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.pool)
            .await
            .ctx("reading the review queue")?;
        let items = rows.iter().map(item_from).collect::<Result<Vec<_>, _>>()?;
        Ok((items, total))
    }

    /// Reviewed and remaining records of the queue (of one mapping file when given).
    pub async fn review_progress(&self, mapping: Option<&str>) -> Result<Progress, StoreError> {
        let f = QueueFilter {
            mapping: mapping.map(str::to_string),
            status: QueueStatus::All,
            ..QueueFilter::default()
        };
        let (cond, params) = self.queue_where(&f);
        let sql = format!(
            "SELECT COUNT(r.source_id) AS reviewed, COUNT(*) - COUNT(r.source_id) AS remaining \
             FROM match_decisions d LEFT JOIN reviewer_decisions r \
             ON r.mapping = d.mapping AND r.source_id = d.source_id {cond}"
        );
        let mut q = sqlx::query(&sql);
        for p in &params {
            q = p.bind(q);
        }
        let row = q
            .fetch_one(&self.pool)
            .await
            .ctx("counting the review progress")?;
        Ok(Progress {
            reviewed: col(&row, "reviewed")?,
            remaining: col(&row, "remaining")?,
        })
    }

    /// The reviewers' journal: `review` runs' events (verdicts given and undone), newest first,
    /// at most `limit`; of one source record (`src:ID`) when `record` is given.
    pub async fn review_history(
        &self,
        record: Option<&str>,
        limit: i64,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        // Numbered placeholders on both backends: sqlx's SQLite driver binds a bare `?` that
        // follows `$1` to the first argument again (a datatype mismatch on `LIMIT`).
        let sql = format!(
            "SELECT e.run_id, e.at, e.record, e.step, e.detail FROM events e \
             JOIN runs r ON r.id = e.run_id WHERE r.kind = $1 {} ORDER BY e.id DESC LIMIT {}",
            if record.is_some() {
                "AND e.record = $2"
            } else {
                ""
            },
            if record.is_some() { "$3" } else { "$2" }
        );
        let mut q = sqlx::query(&sql).bind(RunKind::Review.as_str());
        if let Some(r) = record {
            q = q.bind(r.to_string());
        }
        let rows = q
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .ctx("reading the reviewers' journal")?;
        rows.iter().map(event_from_row).collect()
    }

    /// The mapping files that have stored decisions.
    pub async fn decision_mappings(&self) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query("SELECT DISTINCT mapping FROM match_decisions ORDER BY mapping")
            .fetch_all(&self.pool)
            .await
            .ctx("reading the mapping files with decisions")?;
        rows.iter().map(|r| col(r, "mapping")).collect()
    }

    /// One stored decision, with the reviewer's verdict if any (in the queue or not).
    pub async fn queue_item(
        &self,
        mapping: &str,
        source_id: &str,
    ) -> Result<Option<QueueItem>, StoreError> {
        let sql = format!(
            "SELECT {ITEM_COLS} FROM match_decisions d LEFT JOIN reviewer_decisions r \
             ON r.mapping = d.mapping AND r.source_id = d.source_id \
             WHERE d.mapping = $1 AND d.source_id = $2"
        );
        let row = sqlx::query(&sql)
            .bind(mapping.to_string())
            .bind(source_id.to_string())
            .fetch_optional(&self.pool)
            .await
            .ctx("reading a match decision")?;
        row.as_ref().map(item_from).transpose()
    }

    /// The mirror's records with these ids as cards, by id. With no `kind`, organizations are
    /// looked up first, then persons, then opportunities. `field_keys` name the fields (by id
    /// or name) whose values the cards carry.
    pub async fn entity_cards(
        &self,
        kind: Option<Kind>,
        ids: &[String],
        field_keys: &[String],
    ) -> Result<BTreeMap<String, EntityCard>, StoreError> {
        let mut nums: Vec<i64> = ids.iter().filter_map(|i| i.trim().parse().ok()).collect();
        nums.sort_unstable();
        nums.dedup();
        let mut out: BTreeMap<String, EntityCard> = BTreeMap::new();
        if nums.is_empty() {
            return Ok(out);
        }
        let kinds = match kind {
            Some(k) => vec![k],
            None => vec![Kind::Organization, Kind::Person, Kind::Opportunity],
        };
        for k in kinds {
            let want: Vec<i64> = nums
                .iter()
                .copied()
                .filter(|n| !out.contains_key(&n.to_string()))
                .collect();
            if want.is_empty() {
                break;
            }
            let mut found: BTreeMap<String, EntityCard> = BTreeMap::new();
            for chunk in want.chunks(500) {
                let ins = in_list(self.backend, 1, chunk.len());
                let sql = match k {
                    Kind::Organization => format!(
                        "SELECT id, name, domain, domains, NULL AS first_name, NULL AS last_name, \
                         NULL AS primary_email, NULL AS emails FROM organizations WHERE id IN ({ins})"
                    ),
                    Kind::Person => format!(
                        "SELECT id, NULL AS name, NULL AS domain, NULL AS domains, first_name, \
                         last_name, primary_email, emails FROM persons WHERE id IN ({ins})"
                    ),
                    Kind::Opportunity => format!(
                        "SELECT id, name, NULL AS domain, NULL AS domains, NULL AS first_name, \
                         NULL AS last_name, NULL AS primary_email, NULL AS emails \
                         FROM opportunities WHERE id IN ({ins})"
                    ),
                };
                let mut q = sqlx::query(&sql);
                for n in chunk {
                    q = q.bind(*n);
                }
                let rows = q
                    .fetch_all(&self.pool)
                    .await
                    .ctx("reading records for review")?;
                for r in &rows {
                    let card = card_from(r, k)?;
                    found.insert(card.id.clone(), card);
                }
            }
            if found.is_empty() {
                continue;
            }
            let found_ids: Vec<i64> = found.keys().filter_map(|i| i.parse().ok()).collect();
            self.fill_cards(k, &found_ids, field_keys, &mut found)
                .await?;
            out.extend(found);
        }
        Ok(out)
    }

    /// Lists and compared field values of the cards.
    async fn fill_cards(
        &self,
        kind: Kind,
        ids: &[i64],
        field_keys: &[String],
        cards: &mut BTreeMap<String, EntityCard>,
    ) -> Result<(), StoreError> {
        let kt = kind.as_str();
        for chunk in ids.chunks(500) {
            let sql = format!(
                "SELECT e.entity_id, l.name AS list_name FROM list_entries e \
                 JOIN lists l ON l.id = e.list_id WHERE e.entity_kind = {} AND e.gone_at IS NULL \
                 AND e.entity_id IN ({}) ORDER BY e.entity_id, l.name",
                param(self.backend, 1),
                in_list(self.backend, 2, chunk.len())
            );
            let mut q = sqlx::query(&sql).bind(kt);
            for n in chunk {
                q = q.bind(*n);
            }
            let rows = q
                .fetch_all(&self.pool)
                .await
                .ctx("reading list memberships for review")?;
            for r in &rows {
                let id: i64 = col(r, "entity_id")?;
                let name: String = col(r, "list_name")?;
                if let Some(c) = cards.get_mut(&id.to_string()) {
                    if !c.lists.contains(&name) {
                        c.lists.push(name);
                    }
                }
            }
        }
        if field_keys.is_empty() {
            return Ok(());
        }
        let catalog = self.fields_with_gone().await?;
        for key in field_keys {
            let fids: Vec<String> = catalog
                .iter()
                .filter(|(f, gone)| {
                    !gone
                        && f.entity_kind.as_ref().is_none_or(|k| k.as_str() == kt)
                        && (f.id == *key || f.name.eq_ignore_ascii_case(key.trim()))
                })
                .map(|(f, _)| f.id.clone())
                .collect();
            for fid in fids {
                for chunk in ids.chunks(500) {
                    let ins = in_list(self.backend, 3, chunk.len());
                    let (p1, p2) = (param(self.backend, 1), param(self.backend, 2));
                    for sql in [
                        format!(
                            "SELECT v.owner_id AS entity_id, v.text, v.number, v.at FROM field_values v \
                             WHERE v.owner = {p1} AND v.field_id = {p2} AND v.owner_id IN ({ins}) \
                             ORDER BY v.owner_id, v.position"
                        ),
                        format!(
                            "SELECT e.entity_id, v.text, v.number, v.at FROM field_values v \
                             JOIN list_entries e ON v.owner = 'entry' AND v.owner_id = e.id \
                             WHERE e.entity_kind = {p1} AND v.field_id = {p2} AND e.gone_at IS NULL \
                             AND e.entity_id IN ({ins}) ORDER BY e.entity_id, v.position"
                        ),
                    ] {
                        let mut q = sqlx::query(&sql).bind(kt).bind(fid.clone());
                        for n in chunk {
                            q = q.bind(*n);
                        }
                        let rows = q
                            .fetch_all(&self.pool)
                            .await
                            .ctx("reading compared field values for review")?;
                        for r in &rows {
                            let id: i64 = col(r, "entity_id")?;
                            let text: Option<String> = col(r, "text").unwrap_or(None);
                            let number: Option<f64> = col(r, "number").unwrap_or(None);
                            let at: Option<String> = col(r, "at").unwrap_or(None);
                            let Some(t) = text
                                .or_else(|| number.map(|n| n.to_string()))
                                .or(at)
                                .filter(|t| !t.trim().is_empty())
                            else {
                                continue;
                            };
                            if let Some(c) = cards.get_mut(&id.to_string()) {
                                let vals = c.fields.entry(key.clone()).or_default();
                                if !vals.contains(&t) {
                                    vals.push(t);
                                }
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Live mirror records of `kind` whose name, domains or emails contain `text` (any case),
    /// or whose id is `text`; at most `limit`, by name.
    pub async fn search_mirror(
        &self,
        kind: Kind,
        text: &str,
        limit: i64,
    ) -> Result<Vec<EntityCard>, StoreError> {
        let needle = format!(
            "%{}%",
            text.trim()
                .to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        let id: i64 = text.trim().parse().unwrap_or(-1);
        let sql = match kind {
            Kind::Organization => {
                "SELECT id, name, domain, domains, NULL AS first_name, NULL AS last_name, \
                 NULL AS primary_email, NULL AS emails FROM organizations \
                 WHERE gone_at IS NULL AND merged_into IS NULL AND (id = $1 \
                 OR LOWER(name) LIKE $2 ESCAPE '\\' OR LOWER(domains) LIKE $2 ESCAPE '\\') \
                 ORDER BY name, id LIMIT $3"
            }
            Kind::Person => {
                "SELECT id, NULL AS name, NULL AS domain, NULL AS domains, first_name, last_name, \
                 primary_email, emails FROM persons \
                 WHERE gone_at IS NULL AND merged_into IS NULL AND (id = $1 \
                 OR LOWER(COALESCE(first_name, '') || ' ' || COALESCE(last_name, '')) LIKE $2 ESCAPE '\\' \
                 OR LOWER(emails) LIKE $2 ESCAPE '\\') ORDER BY last_name, first_name, id LIMIT $3"
            }
            Kind::Opportunity => {
                "SELECT id, name, NULL AS domain, NULL AS domains, NULL AS first_name, \
                 NULL AS last_name, NULL AS primary_email, NULL AS emails FROM opportunities \
                 WHERE gone_at IS NULL AND (id = $1 OR LOWER(name) LIKE $2 ESCAPE '\\') \
                 ORDER BY name, id LIMIT $3"
            }
        };
        let rows = sqlx::query(sql)
            .bind(id)
            .bind(needle)
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .ctx("searching the mirror")?;
        let mut cards: BTreeMap<String, EntityCard> = BTreeMap::new();
        let mut order = Vec::new();
        for r in &rows {
            let c = card_from(r, kind)?;
            order.push(c.id.clone());
            cards.insert(c.id.clone(), c);
        }
        let ids: Vec<i64> = order.iter().filter_map(|i| i.parse().ok()).collect();
        self.fill_cards(kind, &ids, &[], &mut cards).await?;
        Ok(order.iter().filter_map(|i| cards.remove(i)).collect())
    }
}

/// A bound parameter of a dynamic statement.
#[derive(Debug, Clone)]
enum Param {
    Text(String),
    Real(f64),
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

impl Param {
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        match self {
            Param::Text(t) => q.bind(t.clone()),
            Param::Real(x) => q.bind(*x),
        }
    }
}

fn item_from(r: &sqlx::any::AnyRow) -> Result<QueueItem, StoreError> {
    let json = |name: &str| -> Result<Option<serde_json::Value>, StoreError> {
        let t: Option<String> = col(r, name)?;
        Ok(t.and_then(|t| serde_json::from_str(&t).ok()))
    };
    let run: Option<i64> = col(r, "run_id")?;
    let decision = DecisionRow {
        mapping: col(r, "mapping")?,
        source_id: col(r, "source_id")?,
        status: col(r, "status")?,
        affinity_id: col(r, "affinity_id")?,
        score: col(r, "score")?,
        method: col(r, "method")?,
        reason: col(r, "reason")?,
        candidates: json("candidates")?,
        record: json("record")?,
        run_id: run.map(RunId),
        decided_at: col(r, "decided_at")?,
    };
    let verdict: Option<String> = col(r, "r_decision")?;
    let review = match verdict {
        None => None,
        Some(v) => Some(ReviewRow {
            mapping: decision.mapping.clone(),
            source_id: decision.source_id.clone(),
            verdict: ReviewVerdict::parse(&v)
                .ok_or_else(|| StoreError::Corrupt(format!("unknown reviewer decision `{v}`")))?,
            affinity_id: col(r, "r_affinity_id")?,
            decided_by: col(r, "r_decided_by")?,
            decided_at: col(r, "r_decided_at")?,
        }),
    };
    Ok(QueueItem { decision, review })
}

fn card_from(r: &sqlx::any::AnyRow, kind: Kind) -> Result<EntityCard, StoreError> {
    // Columns selected as a bare NULL have no type on some backends: read them leniently.
    let text = |name: &str| -> Option<String> { col::<Option<String>>(r, name).unwrap_or(None) };
    let id: i64 = col(r, "id")?;
    let mut card = EntityCard {
        id: id.to_string(),
        kind: kind.as_str().to_string(),
        ..EntityCard::default()
    };
    match kind {
        Kind::Person => {
            card.name = [text("first_name"), text("last_name")]
                .into_iter()
                .flatten()
                .filter(|s| !s.trim().is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            let mut emails = json_list(text("emails"));
            if let Some(e) = text("primary_email") {
                if !emails.contains(&e) {
                    emails.insert(0, e);
                }
            }
            card.emails = emails;
        }
        _ => {
            card.name = text("name").unwrap_or_default();
            let mut domains = json_list(text("domains"));
            if let Some(d) = text("domain") {
                if !domains.contains(&d) {
                    domains.insert(0, d);
                }
            }
            card.domains = domains;
        }
    }
    Ok(card)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(mapping: &str, id: &str, status: &str, score: f64, run: i64) -> DecisionRow {
        DecisionRow {
            mapping: mapping.into(),
            source_id: id.into(),
            status: status.into(),
            affinity_id: (status != "unmatched").then(|| "201".into()),
            score: Some(score),
            method: Some(if status == "matched" { "key" } else { "fuzzy" }.into()),
            reason: String::new(),
            candidates: Some(serde_json::json!([{"affinity_id": "201", "score": score}])),
            record: Some(serde_json::json!({"name": id})),
            run_id: Some(RunId(run)),
            decided_at: "2026-11-21T10:00:00.000Z".into(),
        }
    }

    #[tokio::test]
    async fn review_queue_filters_pages_and_counts_progress() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&format!("sqlite://{}", dir.path().join("q.db").display()))
            .await
            .unwrap();
        store
            .save_decisions(&[
                row("a.toml", "A1", "review", 0.85, 1),
                row("a.toml", "A2", "unmatched", 0.30, 1),
                row("a.toml", "A3", "matched", 1.0, 1),
                row("a.toml", "A4", "review", 0.70, 2),
                row("b.toml", "B1", "review", 0.90, 3),
            ])
            .await
            .unwrap();
        store
            .save_review(&ReviewRow {
                mapping: "a.toml".into(),
                source_id: "A1".into(),
                verdict: ReviewVerdict::Reject,
                affinity_id: None,
                decided_by: Some("ada".into()),
                decided_at: "2026-11-21T11:00:00.000Z".into(),
            })
            .await
            .unwrap();
        let ids = |items: &[QueueItem]| {
            items
                .iter()
                .map(|i| i.decision.source_id.clone())
                .collect::<Vec<_>>()
        };
        for (filter, want, total) in [
            (QueueFilter::default(), vec!["B1", "A4", "A2"], 3),
            (
                QueueFilter {
                    mapping: Some("a.toml".into()),
                    ..QueueFilter::default()
                },
                vec!["A4", "A2"],
                2,
            ),
            (
                QueueFilter {
                    status: QueueStatus::Review,
                    min_score: Some(0.75),
                    ..QueueFilter::default()
                },
                vec!["B1"],
                1,
            ),
            (
                QueueFilter {
                    status: QueueStatus::Decided,
                    ..QueueFilter::default()
                },
                vec!["A1"],
                1,
            ),
            (
                QueueFilter {
                    status: QueueStatus::All,
                    max_score: Some(0.8),
                    ..QueueFilter::default()
                },
                vec!["A4", "A2"],
                2,
            ),
        ] {
            let (items, n) = store.review_queue(&filter, 0, 10).await.unwrap();
            assert_eq!(ids(&items), want, "{filter:?}");
            assert_eq!(n, total, "{filter:?}");
        }
        // Paged: the second record alone, the total unchanged.
        let (items, n) = store
            .review_queue(&QueueFilter::default(), 1, 1)
            .await
            .unwrap();
        assert_eq!((ids(&items), n), (vec!["A4".to_string()], 3));
        let decided = store
            .review_queue(
                &QueueFilter {
                    status: QueueStatus::Decided,
                    ..QueueFilter::default()
                },
                0,
                1,
            )
            .await
            .unwrap()
            .0;
        let r = decided[0].review.as_ref().unwrap();
        assert_eq!(
            (r.verdict, r.decided_by.as_deref()),
            (ReviewVerdict::Reject, Some("ada"))
        );

        assert_eq!(
            store.review_progress(Some("a.toml")).await.unwrap(),
            Progress {
                reviewed: 1,
                remaining: 2
            }
        );
        assert_eq!(
            store.review_progress(None).await.unwrap(),
            Progress {
                reviewed: 1,
                remaining: 3
            }
        );
        assert_eq!(
            store.decision_mappings().await.unwrap(),
            ["a.toml", "b.toml"]
        );
        assert!(store.queue_item("a.toml", "A3").await.unwrap().is_some());
        assert!(store.queue_item("a.toml", "ZZ").await.unwrap().is_none());
    }
}
