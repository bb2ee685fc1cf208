//! What push tells the mirror: the records it created or found, the list entries it added, the
//! values it wrote. After a push the mirror holds what a pull would bring back, so that the
//! next push finds nothing to write.

use affsync_core::model::{EntryRow, Kind, OwnedValue, Owner, ValueItem};
use chrono::{DateTime, Utc};

use super::{col, time_text, Ctx, Store, StoreError};
use affsync_core::journal::StoredEvent;

/// An organization, person or opportunity as push learned it (created, or found in Affinity).
#[derive(Debug, Clone, PartialEq)]
pub enum LearnedEntity {
    Organization {
        id: i64,
        name: String,
        domain: Option<String>,
        domains: Vec<String>,
        global: bool,
    },
    Person {
        id: i64,
        first_name: Option<String>,
        last_name: Option<String>,
        emails: Vec<String>,
        /// `internal` or `external`, as a pull reads it.
        person_type: Option<String>,
    },
    Opportunity {
        id: i64,
        name: String,
        list_id: i64,
    },
}

impl Store {
    /// Adds (or refreshes) an entity push created or found.
    pub async fn learn_entity(
        &self,
        e: &LearnedEntity,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let t = time_text(now);
        let mut tx = self.write_tx("recording a pushed record").await?;
        match e {
            LearnedEntity::Organization {
                id,
                name,
                domain,
                domains,
                global,
            } => {
                sqlx::query(
                    "INSERT INTO organizations (id, name, domain, domains, is_global, first_seen_at, changed_at, last_seen_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $6, $6) ON CONFLICT (id) DO UPDATE SET name = excluded.name, \
                     domain = excluded.domain, domains = excluded.domains, is_global = excluded.is_global, \
                     gone_at = NULL, merged_into = NULL",
                )
                .bind(*id)
                .bind(name.clone())
                .bind(domain.clone())
                .bind(serde_json::to_string(domains).unwrap_or_else(|_| "[]".into()))
                .bind(i64::from(*global))
                .bind(t)
                .execute(&mut *tx)
                .await
                .ctx("recording a pushed organization")?;
            }
            LearnedEntity::Person {
                id,
                first_name,
                last_name,
                emails,
                person_type,
            } => {
                sqlx::query(
                    "INSERT INTO persons (id, first_name, last_name, primary_email, emails, person_type, first_seen_at, changed_at, last_seen_at) \
                     VALUES ($1, $2, $3, $4, $5, $7, $6, $6, $6) ON CONFLICT (id) DO UPDATE SET first_name = excluded.first_name, \
                     last_name = excluded.last_name, primary_email = excluded.primary_email, emails = excluded.emails, \
                     person_type = COALESCE(excluded.person_type, persons.person_type), \
                     gone_at = NULL, merged_into = NULL",
                )
                .bind(*id)
                .bind(first_name.clone())
                .bind(last_name.clone())
                .bind(emails.first().cloned())
                .bind(serde_json::to_string(emails).unwrap_or_else(|_| "[]".into()))
                .bind(t)
                .bind(person_type.clone())
                .execute(&mut *tx)
                .await
                .ctx("recording a pushed person")?;
            }
            LearnedEntity::Opportunity { id, name, list_id } => {
                sqlx::query(
                    "INSERT INTO opportunities (id, name, list_id, first_seen_at, changed_at, last_seen_at) \
                     VALUES ($1, $2, $3, $4, $4, $4) ON CONFLICT (id) DO UPDATE SET name = excluded.name, gone_at = NULL",
                )
                .bind(*id)
                .bind(name.clone())
                .bind(*list_id)
                .bind(t)
                .execute(&mut *tx)
                .await
                .ctx("recording a pushed opportunity")?;
            }
        }
        tx.commit().await.ctx("recording a pushed record")?;
        Ok(())
    }

    /// Adds a list entry push created (or found).
    pub async fn learn_entry(&self, e: &EntryRow, now: DateTime<Utc>) -> Result<(), StoreError> {
        let EntryRow {
            id,
            list_id,
            entity_kind: kind,
            entity_id,
            created_at,
            creator_id,
        } = e.clone();
        let t = time_text(now);
        let mut tx = self.write_tx("recording a pushed list entry").await?;
        sqlx::query(
            "INSERT INTO list_entries (id, list_id, entity_kind, entity_id, created_at, creator_id, first_seen_at, changed_at, last_seen_at) \
             VALUES ($1, $2, $3, $4, $5, $7, $6, $6, $6) ON CONFLICT (id) DO UPDATE SET gone_at = NULL",
        )
        .bind(id)
        .bind(list_id)
        .bind(kind.as_str())
        .bind(entity_id)
        .bind(created_at)
        .bind(t)
        .bind(creator_id)
        .execute(&mut *tx)
        .await
        .ctx("recording a pushed list entry")?;
        tx.commit().await.ctx("recording a pushed list entry")?;
        Ok(())
    }

    /// Replaces one field's values on one owner with what push wrote.
    pub async fn learn_values(
        &self,
        owner: Owner,
        field_id: &str,
        items: &[ValueItem],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let value = OwnedValue {
            owner,
            field_id: field_id.to_string(),
            items: items.to_vec(),
        };
        self.learn_owned_values(&[value], now).await
    }

    /// Replaces each of these fields' values on its owner (what push wrote, or read from
    /// Affinity), in one transaction.
    pub async fn learn_owned_values(
        &self,
        values: &[OwnedValue],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if values.is_empty() {
            return Ok(());
        }
        let refs: Vec<&OwnedValue> = values.iter().collect();
        let replaced: std::collections::BTreeSet<(Owner, String)> = values
            .iter()
            .map(|v| (v.owner, v.field_id.clone()))
            .collect();
        let mut tx = self.write_tx("recording pushed values").await?;
        super::mirror::replace_values(&mut tx, self.backend, &refs, &replaced, &time_text(now))
            .await?;
        tx.commit().await.ctx("recording pushed values")?;
        Ok(())
    }

    /// The values the mirror holds for `owner`, by field id.
    pub async fn owner_values(
        &self,
        owner: Owner,
    ) -> Result<std::collections::BTreeMap<String, Vec<ValueItem>>, StoreError> {
        let rows = sqlx::query(
            "SELECT owner, owner_id, field_id, position, value_type, text, number, at, ref_id, json \
             FROM field_values WHERE owner = $1 AND owner_id = $2 ORDER BY field_id, position",
        )
        .bind(owner.kind_str())
        .bind(owner.id())
        .fetch_all(&self.pool)
        .await
        .ctx("reading a record's values")?;
        let mut out: std::collections::BTreeMap<String, Vec<ValueItem>> = Default::default();
        for r in &rows {
            let (_, field, item) = super::mirror::value_from(r)?;
            out.entry(field).or_default().push(item);
        }
        Ok(out)
    }

    /// The live entry of an entity on a list, if the mirror has one.
    pub async fn entry_of(
        &self,
        list_id: i64,
        kind: Kind,
        entity_id: i64,
    ) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query(
            "SELECT id FROM list_entries WHERE list_id = $1 AND entity_kind = $2 AND entity_id = $3 \
             AND gone_at IS NULL ORDER BY id LIMIT 1",
        )
        .bind(list_id)
        .bind(kind.as_str())
        .bind(entity_id)
        .fetch_optional(&self.pool)
        .await
        .ctx("reading a list entry")?;
        row.map(|r| col::<i64>(&r, "id")).transpose()
    }

    /// Those of `ids` (entities of `kind`) on no list in the mirror: a pull has never read
    /// their values, so the mirror's may be missing or stale.
    pub async fn on_no_list(
        &self,
        kind: Kind,
        ids: &std::collections::BTreeSet<i64>,
    ) -> Result<std::collections::BTreeSet<i64>, StoreError> {
        let mut out = ids.clone();
        let ids: Vec<i64> = ids.iter().copied().collect();
        for chunk in ids.chunks(500) {
            let sql = format!(
                "SELECT DISTINCT entity_id FROM list_entries WHERE entity_kind = {} AND gone_at IS NULL \
                 AND entity_id IN ({})",
                super::param(self.backend, 1),
                super::in_list(self.backend, 2, chunk.len())
            );
            let mut q = sqlx::query(&sql).bind(kind.as_str());
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q.fetch_all(&self.pool).await.ctx("reading list entries")? {
                out.remove(&col::<i64>(&r, "entity_id")?);
            }
        }
        Ok(out)
    }

    /// The names of some records of one kind (a person's first and last names), by id.
    pub async fn entity_names(
        &self,
        kind: Kind,
        ids: &std::collections::BTreeSet<i64>,
    ) -> Result<std::collections::BTreeMap<i64, String>, StoreError> {
        let (table, name) = match kind {
            Kind::Organization => ("organizations", "name"),
            Kind::Opportunity => ("opportunities", "name"),
            Kind::Person => (
                "persons",
                "TRIM(COALESCE(first_name, '') || ' ' || COALESCE(last_name, ''))",
            ),
        };
        let mut out = std::collections::BTreeMap::new();
        let ids: Vec<i64> = ids.iter().copied().collect();
        for chunk in ids.chunks(500) {
            let sql = format!(
                "SELECT id, {name} AS name FROM {table} WHERE id IN ({})",
                super::in_list(self.backend, 1, chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q.fetch_all(&self.pool).await.ctx("reading record names")? {
                let name: Option<String> = col(&r, "name")?;
                if let Some(n) = name.filter(|n| !n.trim().is_empty()) {
                    out.insert(col(&r, "id")?, n);
                }
            }
        }
        Ok(out)
    }

    /// What the mirror knows of persons and organizations by id, in the shape Affinity sends
    /// with a reference to them.
    pub async fn ref_details(
        &self,
        persons: &std::collections::BTreeSet<i64>,
        organizations: &std::collections::BTreeSet<i64>,
    ) -> Result<crate::push::values::RefDetails, StoreError> {
        use affinity_crm::v2::{CompanyRef, PersonRef};
        use affinity_crm::{OrganizationId, PersonId};
        let mut out = crate::push::values::RefDetails::default();
        let ids: Vec<i64> = persons.iter().copied().collect();
        for chunk in ids.chunks(500) {
            let sql = format!(
                "SELECT id, first_name, last_name, primary_email, person_type FROM persons WHERE id IN ({})",
                super::in_list(self.backend, 1, chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q
                .fetch_all(&self.pool)
                .await
                .ctx("reading referenced persons")?
            {
                let id: i64 = col(&r, "id")?;
                out.persons.insert(
                    id,
                    PersonRef {
                        id: PersonId(id),
                        first_name: col(&r, "first_name")?,
                        last_name: col(&r, "last_name")?,
                        primary_email_address: col(&r, "primary_email")?,
                        person_type: col(&r, "person_type")?,
                    },
                );
            }
        }
        // Persons the mirror knows only from values that name them (a deal's owner): the
        // reference as Affinity sent it with those values.
        let missing: Vec<i64> = persons
            .iter()
            .filter(|id| !out.persons.contains_key(id))
            .copied()
            .collect();
        for chunk in missing.chunks(500) {
            let sql = format!(
                "SELECT ref_id, json FROM field_values WHERE value_type LIKE 'person%' AND json IS NOT NULL AND ref_id IN ({})",
                super::in_list(self.backend, 1, chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q
                .fetch_all(&self.pool)
                .await
                .ctx("reading referenced persons")?
            {
                let json: String = col(&r, "json")?;
                if let Ok(p) = serde_json::from_str::<PersonRef>(&json) {
                    out.persons.entry(p.id.0).or_insert(p);
                }
            }
        }
        let ids: Vec<i64> = organizations.iter().copied().collect();
        for chunk in ids.chunks(500) {
            let sql = format!(
                "SELECT id, name, domain FROM organizations WHERE id IN ({})",
                super::in_list(self.backend, 1, chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q
                .fetch_all(&self.pool)
                .await
                .ctx("reading referenced organizations")?
            {
                let id: i64 = col(&r, "id")?;
                out.organizations.insert(
                    id,
                    CompanyRef {
                        id: OrganizationId(id),
                        name: col(&r, "name")?,
                        domain: col(&r, "domain")?,
                    },
                );
            }
        }
        Ok(out)
    }

    /// The kind and name of records by id, whatever their kind (organizations first, then
    /// persons and opportunities; ids the mirror does not know are left out).
    pub async fn names_by_id(
        &self,
        ids: &std::collections::BTreeSet<i64>,
    ) -> Result<std::collections::BTreeMap<i64, (Kind, String)>, StoreError> {
        let mut out = std::collections::BTreeMap::new();
        let mut left = ids.clone();
        for kind in Kind::ALL {
            if left.is_empty() {
                break;
            }
            for (id, name) in self.entity_names(kind, &left).await? {
                left.remove(&id);
                out.insert(id, (kind, name));
            }
        }
        Ok(out)
    }

    /// Journal events with one of `steps`, oldest first.
    pub async fn events_with_steps(&self, steps: &[&str]) -> Result<Vec<StoredEvent>, StoreError> {
        let sql = format!(
            "SELECT run_id, at, record, step, detail FROM events WHERE step IN ({}) ORDER BY id",
            super::in_list(self.backend, 1, steps.len())
        );
        let mut q = sqlx::query(&sql);
        for s in steps {
            q = q.bind(s.to_string());
        }
        let rows = q
            .fetch_all(&self.pool)
            .await
            .ctx("reading journal events")?;
        rows.iter().map(super::journal::event_from_row).collect()
    }
}
