//! The catalog and the referable records, read from the mirror once for the checker, the value
//! converter and push.

use std::collections::BTreeMap;

use affsync_core::mapping::catalog::{Catalog, MirrorRefs};
use affsync_core::model::{person_name, FieldRow};

use super::{col, Ctx, Store, StoreError};

impl Store {
    /// The lists and live fields of the mirror, with the fields each list carries.
    pub async fn catalog(&self) -> Result<Catalog, StoreError> {
        let lists = self.lists().await?;
        let fields: Vec<FieldRow> = self
            .fields_with_gone()
            .await?
            .into_iter()
            .filter(|(_, gone)| !gone)
            .map(|(f, _)| f)
            .collect();
        let mut list_fields = BTreeMap::new();
        for l in &lists {
            list_fields.insert(l.id, self.list_field_ids(l.id).await?);
        }
        Ok(Catalog {
            lists,
            fields,
            list_fields,
        })
    }

    /// The persons and organizations the mirror knows, by id, email and domain: the entities
    /// of pulled lists, and those that field values refer to (a deal's owner, say).
    pub async fn mirror_refs(&self) -> Result<MirrorRefs, StoreError> {
        let mut refs = MirrorRefs::default();
        let rows = sqlx::query(
            "SELECT id, first_name, last_name, primary_email, emails FROM persons WHERE gone_at IS NULL",
        )
        .fetch_all(&self.pool)
        .await
        .ctx("reading persons")?;
        for r in &rows {
            let id: i64 = col(r, "id")?;
            let first: Option<String> = col(r, "first_name")?;
            let last: Option<String> = col(r, "last_name")?;
            let primary: Option<String> = col(r, "primary_email")?;
            let emails: String = col(r, "emails")?;
            let mut all: Vec<String> = serde_json::from_str(&emails).unwrap_or_default();
            all.extend(primary.clone());
            let name = person_name(first.as_deref(), last.as_deref(), primary.as_deref());
            refs.add_person(id, name, &all);
        }
        let rows = sqlx::query(
            "SELECT id, name, domain, domains FROM organizations WHERE gone_at IS NULL",
        )
        .fetch_all(&self.pool)
        .await
        .ctx("reading organizations")?;
        for r in &rows {
            let id: i64 = col(r, "id")?;
            let name: String = col(r, "name")?;
            let domain: Option<String> = col(r, "domain")?;
            let domains: String = col(r, "domains")?;
            let mut all: Vec<String> = serde_json::from_str(&domains).unwrap_or_default();
            all.extend(domain);
            refs.add_organization(id, Some(name), &all);
        }
        // References held by field values carry the referenced record's email or domain.
        let rows = sqlx::query(
            "SELECT value_type, ref_id, text, json FROM field_values WHERE ref_id IS NOT NULL AND json IS NOT NULL \
             AND (value_type LIKE 'person%' OR value_type LIKE 'company%')",
        )
        .fetch_all(&self.pool)
        .await
        .ctx("reading referenced records")?;
        for r in &rows {
            let t: String = col(r, "value_type")?;
            let id: i64 = col(r, "ref_id")?;
            let text: Option<String> = col(r, "text")?;
            let json: String = col(r, "json")?;
            let v: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
            let key = |k: &str| -> Vec<String> {
                v[k].as_str().map(str::to_string).into_iter().collect()
            };
            if t.starts_with("person") {
                refs.add_person(id, text, &key("primaryEmailAddress"));
            } else {
                refs.add_organization(id, text, &key("domain"));
            }
        }
        Ok(refs)
    }
}
