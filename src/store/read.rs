//! Reads of the mirror for exports and for the later stages (match, check, push).

use std::collections::BTreeMap;

use super::mirror::{entry_row, value_from, EntityKind, EntryRow, FieldRow, ListRow, ValueItem};
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
            EntityKind::Company => (
                "LEFT JOIN organizations t ON t.id = e.entity_id",
                "t.name AS name, t.domain AS domain, NULL AS email, NULL AS first_name, NULL AS last_name",
            ),
            EntityKind::Person => (
                "LEFT JOIN persons t ON t.id = e.entity_id",
                "NULL AS name, NULL AS domain, t.primary_email AS email, t.first_name AS first_name, t.last_name AS last_name",
            ),
            EntityKind::Opportunity => (
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
                EntityKind::Person => {
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
