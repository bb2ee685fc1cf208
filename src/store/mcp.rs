//! Reads for `affsync mcp`'s mirror tools: one record with its lists and values, a list's
//! entries filtered on field values in the database (a page at a time), a record's journal
//! timeline through the indexed record column, and how fresh the mirror is. Each is a few
//! indexed lookups, so that an assistant's question costs milliseconds and no API call.

use std::collections::BTreeMap;

use affsync_core::journal::{RunKind, RunStatus, Step, StoredEvent};
use affsync_core::model::{EntryRow, Kind, ValueItem};

use super::mirror::{entry_row, value_from};
use super::{col, in_list, Ctx, Store, StoreError};

/// An organization, person or opportunity as the mirror holds it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RecordRow {
    pub id: i64,
    /// An organization's or opportunity's name; a person's first and last names joined.
    pub name: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub domain: Option<String>,
    pub domains: Vec<String>,
    pub primary_email: Option<String>,
    pub emails: Vec<String>,
    pub is_global: bool,
    /// `internal`, `external` or `collaborator` (persons).
    pub person_type: Option<String>,
    /// An opportunity's list.
    pub list_id: Option<i64>,
    pub first_seen_at: String,
    pub changed_at: String,
    pub gone_at: Option<String>,
    pub merged_into: Option<i64>,
}

/// A list entry of a record, with its list's name.
#[derive(Debug, Clone, PartialEq)]
pub struct Membership {
    pub entry_id: i64,
    pub list_id: i64,
    pub list_name: Option<String>,
    pub created_at: Option<String>,
    pub gone_at: Option<String>,
}

/// How a field value is compared by [`Store::filtered_entries`].
#[derive(Debug, Clone, PartialEq)]
pub enum ValueTest {
    /// The text (any case), the number, or the date (`YYYY-MM-DD`, or a whole timestamp).
    Equals { text: String, number: Option<f64> },
    /// The text contains this (any case).
    Contains(String),
    /// A number above this, or a date after it (as text, ISO dates sort as time).
    Above { text: String, number: Option<f64> },
    /// A number below this, or a date before it.
    Below { text: String, number: Option<f64> },
    /// The field has a value.
    IsSet,
    /// The field has no value.
    IsNotSet,
}

/// One condition on a field of a list's entries.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueFilter {
    pub field_id: String,
    /// The list's own field (its values are the entry's), else the entity's.
    pub on_entry: bool,
    pub test: ValueTest,
}

/// An entry of a filtered page, with what identifies its entity.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryHit {
    pub entry: EntryRow,
    pub name: Option<String>,
    pub domain: Option<String>,
    pub email: Option<String>,
}

/// How fresh the mirror is.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Freshness {
    /// When the last pull that did its work (ok or partial) ended.
    pub last_pull_at: Option<String>,
    /// Each list: its id, name and when it was last pulled to the end.
    pub lists: Vec<(i64, String, Option<String>)>,
}

fn json_list(t: Option<String>) -> Vec<String> {
    t.and_then(|t| serde_json::from_str::<Vec<String>>(&t).ok())
        .unwrap_or_default()
}

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

impl Store {
    /// A number that changes whenever the journal gets an event: every pull, push and write
    /// adds some, so an unchanged number means an unchanged mirror (the caches of `affsync mcp`
    /// are rebuilt when it moves).
    pub async fn journal_mark(&self) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "SELECT COALESCE(MAX(id), 0) AS e, (SELECT COALESCE(MAX(id), 0) FROM runs) AS r FROM events",
        )
        .fetch_one(&self.pool)
        .await
        .ctx("reading the journal's last event")?;
        let e: i64 = col(&row, "e")?;
        let r: i64 = col(&row, "r")?;
        Ok(e * 1_000_003 + r)
    }

    /// When the last pull ended, and when each list was last pulled to the end.
    pub async fn freshness(&self) -> Result<Freshness, StoreError> {
        let row = sqlx::query(
            "SELECT MAX(ended_at) AS at FROM runs WHERE kind = $1 AND status IN ($2, $3)",
        )
        .bind(RunKind::Pull.as_str())
        .bind(RunStatus::Ok.as_str())
        .bind(RunStatus::Partial.as_str())
        .fetch_one(&self.pool)
        .await
        .ctx("reading the last pull")?;
        let last_pull_at: Option<String> = col(&row, "at")?;
        let pulled = Step::Pulled(Default::default()).name();
        let mut lists = Vec::new();
        for l in self.lists().await? {
            let row =
                sqlx::query("SELECT MAX(at) AS at FROM events WHERE record = $1 AND step = $2")
                    .bind(format!("list:{}", l.id))
                    .bind(pulled.clone())
                    .fetch_one(&self.pool)
                    .await
                    .ctx("reading when a list was pulled")?;
            lists.push((l.id, l.name, col(&row, "at")?));
        }
        Ok(Freshness {
            last_pull_at,
            lists,
        })
    }

    /// One record of the mirror by kind and id, gone and merged ones included.
    pub async fn mirror_record(
        &self,
        kind: Kind,
        id: i64,
    ) -> Result<Option<RecordRow>, StoreError> {
        let sql = match kind {
            Kind::Organization => {
                "SELECT id, name, domain, domains, is_global, NULL AS first_name, NULL AS last_name, \
                 NULL AS primary_email, NULL AS emails, NULL AS person_type, NULL AS list_id, \
                 first_seen_at, changed_at, gone_at, merged_into FROM organizations WHERE id = $1"
            }
            Kind::Person => {
                "SELECT id, NULL AS name, NULL AS domain, NULL AS domains, 0 AS is_global, first_name, \
                 last_name, primary_email, emails, person_type, NULL AS list_id, first_seen_at, \
                 changed_at, gone_at, merged_into FROM persons WHERE id = $1"
            }
            Kind::Opportunity => {
                "SELECT id, name, NULL AS domain, NULL AS domains, 0 AS is_global, NULL AS first_name, \
                 NULL AS last_name, NULL AS primary_email, NULL AS emails, NULL AS person_type, \
                 list_id, first_seen_at, changed_at, gone_at, NULL AS merged_into \
                 FROM opportunities WHERE id = $1"
            }
        };
        let Some(r) = sqlx::query(sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .ctx("reading a record")?
        else {
            return Ok(None);
        };
        // Columns selected as a bare NULL have no type on some backends: read them leniently.
        let text =
            |name: &str| -> Option<String> { col::<Option<String>>(&r, name).unwrap_or(None) };
        let int = |name: &str| -> Option<i64> { col::<Option<i64>>(&r, name).unwrap_or(None) };
        let first_name = text("first_name");
        let last_name = text("last_name");
        let name = match kind {
            Kind::Person => [first_name.clone(), last_name.clone()]
                .into_iter()
                .flatten()
                .filter(|s| !s.trim().is_empty())
                .collect::<Vec<_>>()
                .join(" "),
            _ => text("name").unwrap_or_default(),
        };
        let mut domains = json_list(text("domains"));
        let domain = text("domain");
        if let Some(d) = &domain {
            if !domains.contains(d) {
                domains.insert(0, d.clone());
            }
        }
        let mut emails = json_list(text("emails"));
        let primary_email = text("primary_email");
        if let Some(e) = &primary_email {
            if !emails.contains(e) {
                emails.insert(0, e.clone());
            }
        }
        Ok(Some(RecordRow {
            id: col(&r, "id")?,
            name,
            first_name,
            last_name,
            domain,
            domains,
            primary_email,
            emails,
            is_global: int("is_global").unwrap_or(0) != 0,
            person_type: text("person_type"),
            list_id: int("list_id"),
            first_seen_at: col(&r, "first_seen_at")?,
            changed_at: col(&r, "changed_at")?,
            gone_at: text("gone_at"),
            merged_into: int("merged_into"),
        }))
    }

    /// The list entries of a record (gone ones included, flagged), with their lists' names.
    pub async fn memberships(&self, kind: Kind, id: i64) -> Result<Vec<Membership>, StoreError> {
        let rows = sqlx::query(
            "SELECT e.id, e.list_id, l.name AS list_name, e.created_at, e.gone_at FROM list_entries e \
             LEFT JOIN lists l ON l.id = e.list_id WHERE e.entity_kind = $1 AND e.entity_id = $2 \
             ORDER BY e.id",
        )
        .bind(kind.as_str())
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .ctx("reading a record's list entries")?;
        rows.iter()
            .map(|r| {
                Ok(Membership {
                    entry_id: col(r, "id")?,
                    list_id: col(r, "list_id")?,
                    list_name: col(r, "list_name")?,
                    created_at: col(r, "created_at")?,
                    gone_at: col(r, "gone_at")?,
                })
            })
            .collect()
    }

    /// The values of several owners of one kind (`organization`, `person`, `opportunity` or
    /// `entry`): owner id → field id → values, in Affinity's order.
    pub async fn values_of(
        &self,
        owner_kind: &str,
        ids: &[i64],
    ) -> Result<BTreeMap<i64, BTreeMap<String, Vec<ValueItem>>>, StoreError> {
        let mut out: BTreeMap<i64, BTreeMap<String, Vec<ValueItem>>> = BTreeMap::new();
        for chunk in ids.chunks(500) {
            if chunk.is_empty() {
                continue;
            }
            let sql = format!(
                "SELECT owner, owner_id, field_id, position, value_type, text, number, at, ref_id, json \
                 FROM field_values WHERE owner = $1 AND owner_id IN ({}) ORDER BY owner_id, field_id, position",
                in_list(super::Backend::Postgres, 2, chunk.len())
            );
            let mut q = sqlx::query(&sql).bind(owner_kind.to_string());
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q.fetch_all(&self.pool).await.ctx("reading field values")? {
                let (owner, field, item) = value_from(&r)?;
                out.entry(owner.id())
                    .or_default()
                    .entry(field)
                    .or_default()
                    .push(item);
            }
        }
        Ok(out)
    }

    /// A page of a list's live entries that pass every filter, by entry id: at most `limit`
    /// from `offset`, and whether more follow.
    pub async fn filtered_entries(
        &self,
        list_id: i64,
        kind: Kind,
        filters: &[ValueFilter],
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<EntryHit>, bool), StoreError> {
        let (join, cols) = match kind {
            Kind::Organization => (
                "LEFT JOIN organizations t ON t.id = e.entity_id",
                "t.name AS name, t.domain AS domain, NULL AS email, NULL AS first_name, NULL AS last_name",
            ),
            Kind::Person => (
                "LEFT JOIN persons t ON t.id = e.entity_id",
                "NULL AS name, NULL AS domain, t.primary_email AS email, t.first_name AS first_name, t.last_name AS last_name",
            ),
            Kind::Opportunity => (
                "LEFT JOIN opportunities t ON t.id = e.entity_id",
                "t.name AS name, NULL AS domain, NULL AS email, NULL AS first_name, NULL AS last_name",
            ),
        };
        enum P {
            Text(String),
            Real(f64),
        }
        /// Adds a parameter; gives its placeholder (`$1` is the list).
        fn push(params: &mut Vec<P>, p: P) -> String {
            params.push(p);
            format!("${}", params.len() + 1)
        }
        fn or_number(params: &mut Vec<P>, op: &str, n: Option<f64>) -> String {
            n.map(|n| format!(" OR v.number {op} {}", push(params, P::Real(n))))
                .unwrap_or_default()
        }
        let mut params: Vec<P> = Vec::new();
        let mut conds = String::new();
        for f in filters {
            let fid = push(&mut params, P::Text(f.field_id.clone()));
            let owner = if f.on_entry {
                "v.owner = 'entry' AND v.owner_id = e.id"
            } else {
                "v.owner = e.entity_kind AND v.owner_id = e.entity_id"
            };
            let test = match &f.test {
                ValueTest::Equals { text, number } => {
                    let t = push(&mut params, P::Text(text.trim().to_lowercase()));
                    let n = or_number(&mut params, "=", *number);
                    format!("(LOWER(v.text) = {t} OR SUBSTR(v.at, 1, 10) = {t} OR v.at = {t}{n})")
                }
                ValueTest::Contains(s) => {
                    let t = push(
                        &mut params,
                        P::Text(format!("%{}%", like_escape(&s.trim().to_lowercase()))),
                    );
                    format!("LOWER(v.text) LIKE {t} ESCAPE '\\'")
                }
                ValueTest::Above { text, number } => {
                    let t = push(&mut params, P::Text(text.trim().to_string()));
                    let n = or_number(&mut params, ">", *number);
                    format!("(v.at > {t}{n})")
                }
                ValueTest::Below { text, number } => {
                    let t = push(&mut params, P::Text(text.trim().to_string()));
                    let n = or_number(&mut params, "<", *number);
                    format!("(v.at < {t}{n})")
                }
                ValueTest::IsSet | ValueTest::IsNotSet => "1 = 1".to_string(),
            };
            let neg = if f.test == ValueTest::IsNotSet {
                "NOT "
            } else {
                ""
            };
            conds.push_str(&format!(
                " AND {neg}EXISTS (SELECT 1 FROM field_values v WHERE {owner} AND v.field_id = {fid} AND {test})"
            ));
        }
        let n = params.len() + 1;
        let sql = format!(
            "SELECT e.id, e.list_id, e.entity_kind, e.entity_id, e.created_at, e.creator_id, {cols} \
             FROM list_entries e {join} WHERE e.list_id = $1 AND e.gone_at IS NULL{conds} \
             ORDER BY e.id LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        );
        let mut q = sqlx::query(&sql).bind(list_id);
        for p in &params {
            q = match p {
                P::Text(t) => q.bind(t.clone()),
                P::Real(x) => q.bind(*x),
            };
        }
        let rows = q
            .bind(limit + 1)
            .bind(offset)
            .fetch_all(&self.pool)
            .await
            .ctx("reading a list's entries")?;
        let more = rows.len() as i64 > limit;
        let mut hits = Vec::with_capacity(rows.len());
        for r in rows.iter().take(limit.max(0) as usize) {
            let text =
                |name: &str| -> Option<String> { col::<Option<String>>(r, name).unwrap_or(None) };
            let name = match kind {
                Kind::Person => {
                    let n = [text("first_name"), text("last_name")]
                        .into_iter()
                        .flatten()
                        .filter(|s| !s.trim().is_empty())
                        .collect::<Vec<_>>()
                        .join(" ");
                    (!n.is_empty()).then_some(n)
                }
                _ => text("name"),
            };
            hits.push(EntryHit {
                entry: entry_row(r)?,
                name,
                domain: text("domain"),
                email: text("email"),
            });
        }
        Ok((hits, more))
    }

    /// The events about these records (`organization:201`, `entry:601`, `src:ACME-1`), oldest
    /// first, at most the last `limit`, each with its run's kind and job.
    pub async fn events_of_records(
        &self,
        records: &[String],
        limit: i64,
    ) -> Result<Vec<(StoredEvent, String, Option<String>)>, StoreError> {
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT e.run_id, e.at, e.record, e.step, e.detail, r.kind, r.job FROM events e \
             JOIN runs r ON r.id = e.run_id WHERE e.record IN ({}) ORDER BY e.id DESC LIMIT ${}",
            in_list(super::Backend::Postgres, 1, records.len()),
            records.len() + 1
        );
        let mut q = sqlx::query(&sql);
        for rec in records {
            q = q.bind(rec.clone());
        }
        let rows = q
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .ctx("reading a record's events")?;
        let mut out = rows
            .iter()
            .map(|r| {
                Ok((
                    super::journal::event_from_row(r)?,
                    col(r, "kind")?,
                    col(r, "job")?,
                ))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        out.reverse();
        Ok(out)
    }

    /// The source records (mapping, source id) whose stored decision names this Affinity id.
    pub async fn decisions_naming(
        &self,
        affinity_id: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT d.mapping, d.source_id FROM match_decisions d WHERE d.affinity_id = $1 \
             UNION SELECT r.mapping, r.source_id FROM reviewer_decisions r WHERE r.affinity_id = $1 \
             ORDER BY 1, 2",
        )
        .bind(affinity_id.to_string())
        .fetch_all(&self.pool)
        .await
        .ctx("reading the decisions about a record")?;
        rows.iter()
            .map(|r| Ok((col(r, "mapping")?, col(r, "source_id")?)))
            .collect()
    }

    /// Flags a list entry gone (deleted through `affsync mcp`), as a pull does when Affinity no
    /// longer has it.
    pub async fn forget_entry(
        &self,
        entry_id: i64,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError> {
        let t = super::time_text(now);
        let mut tx = self.write_tx("flagging a list entry gone").await?;
        sqlx::query(
            "UPDATE list_entries SET gone_at = $1, last_seen_at = $1 WHERE id = $2 AND gone_at IS NULL",
        )
        .bind(t)
        .bind(entry_id)
        .execute(&mut *tx)
        .await
        .ctx("flagging a list entry gone")?;
        tx.commit().await.ctx("flagging a list entry gone")?;
        Ok(())
    }
}
