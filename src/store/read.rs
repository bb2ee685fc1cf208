//! Reads of the mirror for exports and for the later stages (match, check, push).

use affsync_core::model::{EntryRow, FieldRow, Kind, ListRow, ValueItem};
use std::collections::BTreeMap;

use super::mirror::{entry_row, value_from};
use super::{col, Ctx, Store, StoreError};

/// A list entry with what an export shows of its entity, and its values by field id.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryView {
    pub entry: EntryRow,
    pub entity_name: Option<String>,
    /// An organization's primary domain.
    pub domain: Option<String>,
    /// A person's primary email.
    pub email: Option<String>,
    pub values: BTreeMap<String, Vec<ValueItem>>,
}

/// A list as the mirror holds it: its fields in order, and its live entries by id.
#[derive(Debug, Clone, PartialEq)]
pub struct ListView {
    pub list: ListRow,
    pub fields: Vec<FieldRow>,
    pub entries: Vec<EntryView>,
}

impl Store {
    /// A list by id or by name (case-insensitive), among those the mirror holds.
    pub async fn find_list(&self, name_or_id: &str) -> Result<Option<ListRow>, StoreError> {
        let lists = self.lists().await?;
        let w = name_or_id.trim();
        Ok(lists
            .iter()
            .find(|l| l.id.to_string() == w)
            .or_else(|| lists.iter().find(|l| l.name.eq_ignore_ascii_case(w)))
            .cloned())
    }

    /// The list's live fields in the order its entries carry them, its live entries by id,
    /// each with its entity's and its own values.
    pub async fn list_view(&self, list: &ListRow) -> Result<ListView, StoreError> {
        let order = self.list_field_ids(list.id).await?;
        let mut catalog: BTreeMap<String, FieldRow> = self
            .fields_with_gone()
            .await?
            .into_iter()
            .filter(|(_, gone)| !gone)
            .map(|(f, _)| (f.id.clone(), f))
            .collect();
        let fields: Vec<FieldRow> = order.iter().filter_map(|id| catalog.remove(id)).collect();

        let (join, cols) = match list.kind {
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
        let sql = format!(
            "SELECT e.id, e.list_id, e.entity_kind, e.entity_id, e.created_at, e.creator_id, {cols} \
             FROM list_entries e {join} WHERE e.list_id = $1 AND e.gone_at IS NULL ORDER BY e.id"
        );
        let rows = sqlx::query(&sql)
            .bind(list.id)
            .fetch_all(&self.pool)
            .await
            .ctx("reading a list's entries")?;
        let mut entries: Vec<EntryView> = Vec::with_capacity(rows.len());
        for r in &rows {
            // A name-less text column reads as NULL of no type on some backends; read leniently.
            let text = |name: &str| -> Result<Option<String>, StoreError> {
                col::<Option<String>>(r, name).or(Ok(None))
            };
            let name = match list.kind {
                Kind::Person => {
                    let n = [text("first_name")?, text("last_name")?]
                        .into_iter()
                        .flatten()
                        .filter(|s| !s.trim().is_empty())
                        .collect::<Vec<_>>()
                        .join(" ");
                    (!n.is_empty()).then_some(n)
                }
                _ => text("name")?,
            };
            entries.push(EntryView {
                entry: entry_row(r)?,
                entity_name: name,
                domain: text("domain")?,
                email: text("email")?,
                values: BTreeMap::new(),
            });
        }
        let index: BTreeMap<i64, usize> = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.entry.id, i))
            .collect();

        // The entries' own values, then their entities' (joined on the entry).
        for on in [
            "v.owner = 'entry' AND v.owner_id = e.id",
            "v.owner = e.entity_kind AND v.owner_id = e.entity_id",
        ] {
            let sql = format!(
                "SELECT e.id AS entry_id, v.owner, v.owner_id, v.field_id, v.position, v.value_type, \
                 v.text, v.number, v.at, v.ref_id, v.json FROM list_entries e JOIN field_values v ON {on} \
                 WHERE e.list_id = $1 AND e.gone_at IS NULL ORDER BY e.id, v.field_id, v.position"
            );
            let rows = sqlx::query(&sql)
                .bind(list.id)
                .fetch_all(&self.pool)
                .await
                .ctx("reading a list's field values")?;
            for r in &rows {
                let entry_id: i64 = col(r, "entry_id")?;
                let (_, field, item) = value_from(r)?;
                if let Some(i) = index.get(&entry_id) {
                    entries[*i].values.entry(field).or_default().push(item);
                }
            }
        }
        Ok(ListView {
            list: list.clone(),
            fields,
            entries,
        })
    }
}

/// A value's text for comparing: its text, else its number, else its date.
fn item_text(item: &ValueItem) -> Option<String> {
    item.text
        .clone()
        .or_else(|| item.number.map(|n| n.to_string()))
        .or_else(|| item.at.clone())
        .filter(|t| !t.trim().is_empty())
}

impl Store {
    /// Every live record of `kind` as a match candidate: names, domains or emails, the lists it
    /// is on, and the values of the fields named in `field_keys` (each a field's id or name, the
    /// values entered under the key as written). Merged and gone records are left out.
    pub async fn candidates(
        &self,
        kind: affsync_core::matcher::Kind,
        field_keys: &[String],
    ) -> Result<Vec<affsync_core::matcher::Candidate>, StoreError> {
        let mut cands = self.base_candidates(kind).await?;
        let at: BTreeMap<String, usize> = cands
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id.clone(), i))
            .collect();
        self.add_lists(&mut cands, &at, kind.as_str()).await?;
        if !field_keys.is_empty() {
            self.add_field_values(&mut cands, &at, kind.as_str(), field_keys)
                .await?;
        }
        Ok(cands)
    }

    /// The live records of `kind` with their names, domains or emails.
    async fn base_candidates(
        &self,
        kind: affsync_core::matcher::Kind,
    ) -> Result<Vec<affsync_core::matcher::Candidate>, StoreError> {
        use affsync_core::matcher::{Candidate, Kind};
        let json_list = |t: Option<String>| -> Vec<String> {
            t.and_then(|t| serde_json::from_str::<Vec<String>>(&t).ok())
                .unwrap_or_default()
        };
        let mut cands: Vec<Candidate> = Vec::new();
        match kind {
            Kind::Organization => {
                let rows = sqlx::query(
                    "SELECT id, name, domain, domains, is_global FROM organizations \
                     WHERE gone_at IS NULL AND merged_into IS NULL ORDER BY id",
                )
                .fetch_all(&self.pool)
                .await
                .ctx("reading organizations")?;
                for r in &rows {
                    let id: i64 = col(r, "id")?;
                    let mut c = Candidate::new(kind, id.to_string(), col::<String>(r, "name")?);
                    let mut domains = json_list(col(r, "domains")?);
                    if let Some(d) = col::<Option<String>>(r, "domain")? {
                        if !domains.contains(&d) {
                            domains.insert(0, d);
                        }
                    }
                    c.domains = domains;
                    c.global = col::<i64>(r, "is_global")? != 0;
                    cands.push(c);
                }
            }
            Kind::Person => {
                let rows = sqlx::query(
                    "SELECT id, first_name, last_name, primary_email, emails FROM persons \
                     WHERE gone_at IS NULL AND merged_into IS NULL ORDER BY id",
                )
                .fetch_all(&self.pool)
                .await
                .ctx("reading persons")?;
                for r in &rows {
                    let id: i64 = col(r, "id")?;
                    let first: Option<String> = col(r, "first_name")?;
                    let last: Option<String> = col(r, "last_name")?;
                    let name = [first.clone(), last.clone()]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(" ");
                    let mut c = Candidate::new(kind, id.to_string(), name);
                    c.first_name = first;
                    c.last_name = last;
                    let mut emails = json_list(col(r, "emails")?);
                    if let Some(e) = col::<Option<String>>(r, "primary_email")? {
                        if !emails.contains(&e) {
                            emails.insert(0, e);
                        }
                    }
                    c.emails = emails;
                    cands.push(c);
                }
            }
            Kind::Opportunity => {
                let rows = sqlx::query(
                    "SELECT id, name FROM opportunities WHERE gone_at IS NULL ORDER BY id",
                )
                .fetch_all(&self.pool)
                .await
                .ctx("reading opportunities")?;
                for r in &rows {
                    let id: i64 = col(r, "id")?;
                    cands.push(Candidate::new(
                        kind,
                        id.to_string(),
                        col::<String>(r, "name")?,
                    ));
                }
            }
        }
        Ok(cands)
    }

    /// The lists each candidate is on.
    async fn add_lists(
        &self,
        cands: &mut [affsync_core::matcher::Candidate],
        at: &BTreeMap<String, usize>,
        kt: &str,
    ) -> Result<(), StoreError> {
        use affsync_core::matcher::ListRef;
        let rows = sqlx::query(
            "SELECT e.entity_id, l.id AS list_id, l.name AS list_name FROM list_entries e \
             JOIN lists l ON l.id = e.list_id WHERE e.entity_kind = $1 AND e.gone_at IS NULL \
             ORDER BY e.entity_id, l.id",
        )
        .bind(kt)
        .fetch_all(&self.pool)
        .await
        .ctx("reading list memberships")?;
        for r in &rows {
            let id: i64 = col(r, "entity_id")?;
            if let Some(&i) = at.get(&id.to_string()) {
                let list = ListRef {
                    id: col::<i64>(r, "list_id")?.to_string(),
                    name: col(r, "list_name")?,
                };
                if !cands[i].lists.contains(&list) {
                    cands[i].lists.push(list);
                }
            }
        }

        Ok(())
    }

    /// The values of the fields named in `field_keys`, entered under the key as written.
    async fn add_field_values(
        &self,
        cands: &mut [affsync_core::matcher::Candidate],
        at: &BTreeMap<String, usize>,
        kt: &str,
        field_keys: &[String],
    ) -> Result<(), StoreError> {
        {
            let catalog: Vec<FieldRow> = self
                .fields_with_gone()
                .await?
                .into_iter()
                .filter(|(_, gone)| !gone)
                .map(|(f, _)| f)
                .collect();
            for key in field_keys {
                let ids: Vec<String> = catalog
                    .iter()
                    .filter(|f| {
                        f.entity_kind.as_ref().is_none_or(|k| k.as_str() == kt)
                            && (f.id == *key || f.name.eq_ignore_ascii_case(key.trim()))
                    })
                    .map(|f| f.id.clone())
                    .collect();
                for id in ids {
                    for sql in [
                        "SELECT v.owner_id AS entity_id, v.owner_id, v.field_id, v.position, v.value_type, v.text, \
                         v.number, v.at, v.ref_id, v.json, v.owner FROM field_values v \
                         WHERE v.owner = $1 AND v.field_id = $2 ORDER BY v.owner_id, v.position",
                        "SELECT e.entity_id, v.field_id, v.position, v.value_type, v.text, v.number, \
                         v.at, v.ref_id, v.json, v.owner, v.owner_id FROM field_values v \
                         JOIN list_entries e ON v.owner = 'entry' AND v.owner_id = e.id \
                         WHERE e.entity_kind = $1 AND v.field_id = $2 AND e.gone_at IS NULL \
                         ORDER BY e.entity_id, v.position",
                    ] {
                        let rows = sqlx::query(sql)
                            .bind(kt)
                            .bind(id.clone())
                            .fetch_all(&self.pool)
                            .await
                            .ctx("reading compared field values")?;
                        for r in &rows {
                            let entity: i64 = col(r, "entity_id")?;
                            let (_, _, item) = value_from(r)?;
                            if let (Some(&i), Some(t)) = (at.get(&entity.to_string()), item_text(&item))
                            {
                                let vals = cands[i].fields.entry(key.clone()).or_default();
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
}
