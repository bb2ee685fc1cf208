//! The tenant's lists and field catalog, read from Affinity now (not from the mirror), for
//! `affsync lists`, `affsync fields` and `affsync mapping new`: the same rows a pull stores.
//!
//! Calls: v2 lists (one per 100 lists), v1 lists (for their sizes, one), v1 fields (dropdown
//! options, multi-valued, list and entity, one), each list's v2 fields (one per 100), and the
//! global organization and person fields (one each).

use std::collections::BTreeMap;

use affinity_crm::{v1, v2, Client, Error as ApiError};
use affsync_core::mapping::catalog::Catalog;
use affsync_core::model::{FieldRow, Kind};
use futures::TryStreamExt;

use crate::pull::{field_row, list_row};

/// The catalog, and what it does not hold: each list's size.
#[derive(Debug, Clone, Default)]
pub struct LiveCatalog {
    pub catalog: Catalog,
    /// List id → its number of entries, as Affinity counts them (v1's `list_size`).
    pub entries: BTreeMap<i64, u64>,
}

/// Reads the lists and fields from Affinity.
pub async fn fetch(client: &Client) -> Result<LiveCatalog, ApiError> {
    let lists: Vec<_> = client
        .lists_v2()
        .try_collect::<Vec<v2::List>>()
        .await?
        .iter()
        .filter_map(list_row)
        .collect();
    let entries: BTreeMap<i64, u64> = client
        .lists_v1()
        .await?
        .into_iter()
        .filter_map(|l| l.list_size.map(|n| (l.id.0, n)))
        .collect();
    let v1_fields: BTreeMap<i64, v1::Field> = client
        .fields_v1(&[])
        .await?
        .into_iter()
        .map(|f| (f.id.0, f))
        .collect();

    let mut fields: BTreeMap<String, FieldRow> = BTreeMap::new();
    let mut list_fields: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for l in &lists {
        let metas: Vec<v2::FieldMetadata> =
            client.list_fields_v2(l.id.into()).try_collect().await?;
        let ids = list_fields.entry(l.id).or_default();
        for m in &metas {
            let mut row = field_row(m, &v1_fields);
            if row.entity_kind.is_none() && row.list_id.is_none() {
                // A global field that v1 does not describe is of the list's kind.
                row.entity_kind = Some(l.kind);
            }
            ids.push(row.id.clone());
            fields.entry(row.id.clone()).or_insert(row);
        }
    }
    for (kind, metas) in [
        (
            Kind::Organization,
            client.company_fields_v2().try_collect::<Vec<_>>().await?,
        ),
        (
            Kind::Person,
            client.person_fields_v2().try_collect::<Vec<_>>().await?,
        ),
    ] {
        for m in &metas {
            let mut row = field_row(m, &v1_fields);
            row.entity_kind.get_or_insert(kind);
            fields.entry(row.id.clone()).or_insert(row);
        }
    }
    Ok(LiveCatalog {
        catalog: Catalog {
            lists,
            fields: fields.into_values().collect(),
            list_fields,
        },
        entries,
    })
}

/// Where a field belongs, in words: `list Deal Flow`, `global organization`.
pub fn scope(c: &Catalog, f: &FieldRow) -> String {
    match f.list_id {
        Some(id) => match c.list_by_id(id) {
            Some(l) => format!("list {}", l.name),
            None => format!("list {id}"),
        },
        None => match f.entity_kind {
            Some(k) => format!("global {k}"),
            None => "global".to_string(),
        },
    }
}

/// Whether a mapping may write the field, and if not, why.
pub fn writable(f: &FieldRow) -> Result<(), String> {
    if f.is_affinity_owned() {
        return Err(match &f.enrichment_source {
            Some(s) => format!("filled by Affinity ({s})"),
            None => format!("filled by Affinity ({})", f.field_type),
        });
    }
    if affsync_core::mapping::convert::kinds_for_value_type(&f.value_type).is_empty() {
        return Err(format!(
            "`{}` values are computed by Affinity",
            f.value_type
        ));
    }
    Ok(())
}
