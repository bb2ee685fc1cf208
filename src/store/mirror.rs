//! The mirror's records and how a pull writes them: each page of list entries is compared with
//! what the mirror holds and only the differences are written, in one transaction per page
//! (DESIGN.md "commit before you advance"). A record Affinity no longer has is flagged
//! (`gone_at`) and kept.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::AnyConnection;

use affsync_core::model::{
    EntityRow, EntryRow, FieldRow, Kind, ListRow, OpportunityRow, OptionRow, OrganizationRow,
    OwnedValue, Owner, PersonRow, RunId, ValueItem,
};

use super::journal::insert_events;
use super::{col, flag, in_list, param, placeholders, time_text, Backend, Ctx, Store, StoreError};
use affsync_core::journal::{JournalEvent, Step};

/// A list entry as one page of a pull brings it: the entry, its entity, and the values of
/// every field that came with it.
#[derive(Debug, Clone, PartialEq)]
pub struct PageRecord {
    pub entry: EntryRow,
    pub entity: EntityRow,
    pub values: Vec<OwnedValue>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct PageData {
    pub records: Vec<PageRecord>,
}

/// What one page changed in the mirror.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PageOutcome {
    pub seen: usize,
    pub new: usize,
    pub changed: usize,
    /// Entities whose row was written (new or changed).
    pub entities_written: usize,
    /// Value elements that came with the page.
    pub values_seen: usize,
    /// Value elements written (inserted again after a change, or new).
    pub values_written: usize,
    /// The entries and entities the page held.
    pub entry_ids: Vec<i64>,
    pub entity_ids: Vec<(Kind, i64)>,
}

/// What a catalog sync changed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SyncOutcome {
    pub new: usize,
    pub changed: usize,
    pub gone: usize,
}

/// Whether two values hold the same items: a multi-valued field whose values come back in
/// another order (Affinity keeps its own) holds the same value.
fn same_items(a: &[ValueItem], b: &[ValueItem]) -> bool {
    if a == b {
        return true;
    }
    if a.len() != b.len() || a.len() < 2 {
        return false;
    }
    let key = |i: &ValueItem| format!("{i:?}");
    let mut ka: Vec<String> = a.iter().map(key).collect();
    let mut kb: Vec<String> = b.iter().map(key).collect();
    ka.sort();
    kb.sort();
    ka == kb
}

/// The mirror's table of a kind of record.
fn table_of(kind: Kind) -> &'static str {
    match kind {
        Kind::Organization => "organizations",
        Kind::Person => "persons",
        Kind::Opportunity => "opportunities",
    }
}

const ENTRY_COLS: &str = "id, list_id, entity_kind, entity_id, created_at, creator_id";
const VALUE_COLS: &str =
    "owner, owner_id, field_id, position, value_type, text, number, at, ref_id, json";

/// A list entry from a row that has the `list_entries` columns.
pub(crate) fn entry_row(r: &AnyRow) -> Result<EntryRow, StoreError> {
    let kind: String = col(r, "entity_kind")?;
    Ok(EntryRow {
        id: col(r, "id")?,
        list_id: col(r, "list_id")?,
        entity_kind: Kind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("entity kind `{kind}`")))?,
        entity_id: col(r, "entity_id")?,
        created_at: col(r, "created_at")?,
        creator_id: col(r, "creator_id")?,
    })
}

fn entry_from(r: &AnyRow) -> Result<(EntryRow, bool), StoreError> {
    let gone: Option<String> = col(r, "gone_at")?;
    Ok((entry_row(r)?, gone.is_some()))
}

fn json_strings(s: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("a JSON list `{s}`: {e}")))
}

fn entity_from(kind: Kind, r: &AnyRow) -> Result<(EntityRow, bool), StoreError> {
    let gone: Option<String> = col(r, "gone_at")?;
    let row = match kind {
        Kind::Organization => EntityRow::Organization(OrganizationRow {
            id: col(r, "id")?,
            name: col(r, "name")?,
            domain: col(r, "domain")?,
            domains: json_strings(&col::<String>(r, "domains")?)?,
            is_global: col::<i64>(r, "is_global")? != 0,
        }),
        Kind::Person => EntityRow::Person(PersonRow {
            id: col(r, "id")?,
            first_name: col(r, "first_name")?,
            last_name: col(r, "last_name")?,
            primary_email: col(r, "primary_email")?,
            emails: json_strings(&col::<String>(r, "emails")?)?,
            person_type: col(r, "person_type")?,
        }),
        Kind::Opportunity => EntityRow::Opportunity(OpportunityRow {
            id: col(r, "id")?,
            name: col(r, "name")?,
            list_id: col(r, "list_id")?,
        }),
    };
    Ok((row, gone.is_some()))
}

pub(crate) fn value_from(r: &AnyRow) -> Result<(Owner, String, ValueItem), StoreError> {
    let kind: String = col(r, "owner")?;
    let owner = Owner::parse(&kind, col(r, "owner_id")?)
        .ok_or_else(|| StoreError::Corrupt(format!("owner kind `{kind}`")))?;
    Ok((
        owner,
        col(r, "field_id")?,
        ValueItem {
            value_type: col(r, "value_type")?,
            text: col(r, "text")?,
            number: col(r, "number")?,
            at: col(r, "at")?,
            ref_id: col(r, "ref_id")?,
            json: col(r, "json")?,
        },
    ))
}

fn entity_sql(kind: Kind) -> (&'static str, usize) {
    match kind {
        Kind::Organization => (
            "INSERT INTO organizations (id, name, domain, domains, is_global, first_seen_at, changed_at) VALUES {} \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, domain = excluded.domain, \
             domains = excluded.domains, is_global = excluded.is_global, changed_at = excluded.changed_at, \
             last_seen_at = NULL, gone_at = NULL, merged_into = NULL",
            7,
        ),
        Kind::Person => (
            "INSERT INTO persons (id, first_name, last_name, primary_email, emails, person_type, first_seen_at, changed_at) VALUES {} \
             ON CONFLICT (id) DO UPDATE SET first_name = excluded.first_name, last_name = excluded.last_name, \
             primary_email = excluded.primary_email, emails = excluded.emails, person_type = excluded.person_type, \
             changed_at = excluded.changed_at, last_seen_at = NULL, gone_at = NULL, merged_into = NULL",
            8,
        ),
        Kind::Opportunity => (
            "INSERT INTO opportunities (id, name, list_id, first_seen_at, changed_at) VALUES {} \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, list_id = excluded.list_id, \
             changed_at = excluded.changed_at, last_seen_at = NULL, gone_at = NULL",
            5,
        ),
    }
}

/// Writes entity rows of one kind (new, changed or back from gone).
async fn upsert_entities(
    conn: &mut AnyConnection,
    backend: Backend,
    kind: Kind,
    rows: &[&EntityRow],
    now: &str,
) -> Result<(), StoreError> {
    let (template, cols) = entity_sql(kind);
    for chunk in rows.chunks(400) {
        let sql = template.replace("{}", &placeholders(backend, chunk.len(), cols));
        let mut q = sqlx::query(&sql);
        for row in chunk {
            q = match row {
                EntityRow::Organization(o) => q
                    .bind(o.id)
                    .bind(o.name.clone())
                    .bind(o.domain.clone())
                    .bind(serde_json::to_string(&o.domains).unwrap_or_default())
                    .bind(flag(o.is_global)),
                EntityRow::Person(p) => q
                    .bind(p.id)
                    .bind(p.first_name.clone())
                    .bind(p.last_name.clone())
                    .bind(p.primary_email.clone())
                    .bind(serde_json::to_string(&p.emails).unwrap_or_default())
                    .bind(p.person_type.clone()),
                EntityRow::Opportunity(o) => q.bind(o.id).bind(o.name.clone()).bind(o.list_id),
            };
            q = q.bind(now.to_string()).bind(now.to_string());
        }
        q.execute(&mut *conn).await.ctx("writing entities")?;
    }
    Ok(())
}

async fn upsert_entries(
    conn: &mut AnyConnection,
    backend: Backend,
    rows: &[&EntryRow],
    now: &str,
) -> Result<(), StoreError> {
    for chunk in rows.chunks(500) {
        let sql = format!(
            "INSERT INTO list_entries ({ENTRY_COLS}, first_seen_at, changed_at) VALUES {} \
             ON CONFLICT (id) DO UPDATE SET list_id = excluded.list_id, entity_kind = excluded.entity_kind, \
             entity_id = excluded.entity_id, created_at = excluded.created_at, creator_id = excluded.creator_id, \
             changed_at = excluded.changed_at, last_seen_at = NULL, gone_at = NULL",
            placeholders(backend, chunk.len(), 8)
        );
        let mut q = sqlx::query(&sql);
        for e in chunk {
            q = q
                .bind(e.id)
                .bind(e.list_id)
                .bind(e.entity_kind.as_str())
                .bind(e.entity_id)
                .bind(e.created_at.clone())
                .bind(e.creator_id)
                .bind(now.to_string())
                .bind(now.to_string());
        }
        q.execute(&mut *conn).await.ctx("writing list entries")?;
    }
    Ok(())
}

/// The entries of a page to write (new or changed) and a journal event for each new or changed
/// one, naming what changed; counts them in `out`.
fn page_events<'p>(
    page: &'p PageData,
    stored_entries: &HashMap<i64, (EntryRow, bool)>,
    changed_entities: &BTreeSet<(Kind, i64)>,
    changed_values: &BTreeSet<(Owner, String)>,
    out: &mut PageOutcome,
) -> (Vec<&'p EntryRow>, Vec<JournalEvent>) {
    let mut entry_writes: Vec<&EntryRow> = Vec::new();
    let mut events = Vec::new();
    let mut counted = BTreeSet::new();
    for r in &page.records {
        out.values_seen += r.values.iter().map(|v| v.items.len()).sum::<usize>();
        if !counted.insert(r.entry.id) {
            continue;
        }
        let record = format!("entry:{}", r.entry.id);
        match stored_entries.get(&r.entry.id) {
            None | Some((_, true)) => {
                out.new += 1;
                entry_writes.push(&r.entry);
                events.push(JournalEvent::new(
                    record,
                    Step::New {
                        list: Some(r.entry.list_id),
                        entity: Some(format!("{}:{}", r.entity.kind(), r.entity.id())),
                        name: None,
                    },
                ));
            }
            Some((stored, false)) => {
                let mut what: Vec<String> = Vec::new();
                if stored != &r.entry {
                    entry_writes.push(&r.entry);
                    if stored.entity_id != r.entry.entity_id {
                        what.push(format!(
                            "entity {}:{} → {}:{}",
                            stored.entity_kind,
                            stored.entity_id,
                            r.entry.entity_kind,
                            r.entry.entity_id
                        ));
                    } else {
                        what.push("entry".into());
                    }
                }
                if changed_entities.contains(&(r.entity.kind(), r.entity.id())) {
                    what.push(r.entity.kind().as_str().into());
                }
                for v in &r.values {
                    if changed_values.contains(&(v.owner, v.field_id.clone())) {
                        what.push(v.field_id.clone());
                    }
                }
                if !what.is_empty() {
                    out.changed += 1;
                    events.push(JournalEvent::new(
                        record,
                        Step::Changed {
                            changed: what,
                            name: None,
                        },
                    ));
                }
            }
        }
    }

    (entry_writes, events)
}

/// One field of the catalog, with its dropdown options (replaced whole).
async fn write_field(
    conn: &mut AnyConnection,
    backend: Backend,
    f: &FieldRow,
    now_s: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO fields (id, name, field_type, value_type, list_id, entity_kind, allows_multiple, \
         enrichment_source, track_changes, first_seen_at, changed_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$10) \
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, field_type = excluded.field_type, \
         value_type = excluded.value_type, list_id = excluded.list_id, entity_kind = excluded.entity_kind, \
         allows_multiple = excluded.allows_multiple, enrichment_source = excluded.enrichment_source, \
         track_changes = excluded.track_changes, changed_at = excluded.changed_at, last_seen_at = NULL, gone_at = NULL",
    )
    .bind(f.id.clone())
    .bind(f.name.clone())
    .bind(f.field_type.clone())
    .bind(f.value_type.clone())
    .bind(f.list_id)
    .bind(f.entity_kind.map(|k| k.as_str()))
    .bind(flag(f.allows_multiple))
    .bind(f.enrichment_source.clone())
    .bind(f.track_changes.map(flag))
    .bind(now_s.to_string())
    .execute(&mut *conn)
    .await
    .ctx("writing fields")?;
    sqlx::query("DELETE FROM dropdown_options WHERE field_id = $1")
        .bind(f.id.clone())
        .execute(&mut *conn)
        .await
        .ctx("writing dropdown options")?;
    for chunk in f.options.chunks(500) {
        let sql = format!(
            "INSERT INTO dropdown_options (field_id, option_id, text, rank, color) VALUES {}",
            placeholders(backend, chunk.len(), 5)
        );
        let mut q = sqlx::query(&sql);
        for o in chunk {
            q = q
                .bind(f.id.clone())
                .bind(o.option_id)
                .bind(o.text.clone())
                .bind(o.rank)
                .bind(o.color.clone());
        }
        q.execute(&mut *conn)
            .await
            .ctx("writing dropdown options")?;
    }
    Ok(())
}

/// The mirror's rows (and whether each is gone) for these list entries.
async fn read_entries(
    conn: &mut AnyConnection,
    backend: Backend,
    ids: &[i64],
) -> Result<HashMap<i64, (EntryRow, bool)>, StoreError> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        let sql = format!(
            "SELECT {ENTRY_COLS}, gone_at FROM list_entries WHERE id IN ({})",
            in_list(backend, 1, chunk.len())
        );
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(*id);
        }
        for r in q
            .fetch_all(&mut *conn)
            .await
            .ctx("reading list entries")?
            .iter()
        {
            let (e, gone) = entry_from(r)?;
            out.insert(e.id, (e, gone));
        }
    }
    Ok(out)
}

/// The mirror's rows (and whether each is gone) for these entities.
async fn read_entities(
    conn: &mut AnyConnection,
    backend: Backend,
    entities: &BTreeMap<(Kind, i64), &EntityRow>,
) -> Result<HashMap<(Kind, i64), (EntityRow, bool)>, StoreError> {
    let mut out = HashMap::new();
    for kind in Kind::ALL {
        let ids: Vec<i64> = entities
            .keys()
            .filter(|(k, _)| *k == kind)
            .map(|(_, id)| *id)
            .collect();
        for chunk in ids.chunks(500) {
            let sql = format!(
                "SELECT * FROM {} WHERE id IN ({})",
                table_of(kind),
                in_list(backend, 1, chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q
                .fetch_all(&mut *conn)
                .await
                .ctx("reading entities")?
                .iter()
            {
                let (e, gone) = entity_from(kind, r)?;
                out.insert((kind, e.id()), (e, gone));
            }
        }
    }
    Ok(out)
}

/// Replaces the values of the given (owner, field) pairs; `had_rows` says which had rows to
/// delete first (a new owner has none, and skipping its delete keeps a first pull fast).
pub(super) async fn replace_values(
    conn: &mut AnyConnection,
    backend: Backend,
    values: &[&OwnedValue],
    had_rows: &BTreeSet<(Owner, String)>,
    now: &str,
) -> Result<usize, StoreError> {
    for v in values {
        if had_rows.contains(&(v.owner, v.field_id.clone())) {
            sqlx::query(
                "DELETE FROM field_values WHERE owner = $1 AND owner_id = $2 AND field_id = $3",
            )
            .bind(v.owner.kind_str())
            .bind(v.owner.id())
            .bind(v.field_id.clone())
            .execute(&mut *conn)
            .await
            .ctx("replacing field values")?;
        }
    }
    let items: Vec<(&OwnedValue, usize, &ValueItem)> = values
        .iter()
        .flat_map(|v| v.items.iter().enumerate().map(move |(i, it)| (*v, i, it)))
        .collect();
    for chunk in items.chunks(450) {
        let sql = format!(
            "INSERT INTO field_values ({VALUE_COLS}, changed_at) VALUES {}",
            placeholders(backend, chunk.len(), 11)
        );
        // Not kept prepared across calls: Postgres fixes each parameter's type when the
        // statement is prepared, and a NULL number in one call must not meet a number in
        // the next through a parameter typed for the other.
        let mut q = sqlx::query(&sql).persistent(false);
        for (v, pos, it) in chunk {
            q = q
                .bind(v.owner.kind_str())
                .bind(v.owner.id())
                .bind(v.field_id.clone())
                .bind(*pos as i64)
                .bind(it.value_type.clone())
                .bind(it.text.clone())
                .bind(it.number)
                .bind(it.at.clone())
                .bind(it.ref_id)
                .bind(it.json.clone())
                .bind(now.to_string());
        }
        q.execute(&mut *conn).await.ctx("writing field values")?;
    }
    Ok(items.len())
}

/// The stored values of these owners, by (owner, field), in position order.
async fn stored_values(
    conn: &mut AnyConnection,
    backend: Backend,
    owners: &[Owner],
) -> Result<HashMap<(Owner, String), Vec<ValueItem>>, StoreError> {
    let mut by_kind: BTreeMap<&'static str, Vec<i64>> = BTreeMap::new();
    for o in owners {
        by_kind.entry(o.kind_str()).or_default().push(o.id());
    }
    let mut out: HashMap<(Owner, String), Vec<ValueItem>> = HashMap::new();
    for (kind, ids) in by_kind {
        for chunk in ids.chunks(500) {
            let sql = format!(
                "SELECT {VALUE_COLS} FROM field_values WHERE owner = {} AND owner_id IN ({}) \
                 ORDER BY owner_id, field_id, position",
                param(backend, 1),
                in_list(backend, 2, chunk.len())
            );
            let mut q = sqlx::query(&sql).bind(kind);
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q
                .fetch_all(&mut *conn)
                .await
                .ctx("reading field values")?
                .iter()
            {
                let (owner, field, item) = value_from(r)?;
                out.entry((owner, field)).or_default().push(item);
            }
        }
    }
    Ok(out)
}

impl Store {
    /// Stores one page of list entries: compares it with the mirror and writes only what
    /// differs, with a journal event per new or changed entry, all in one transaction.
    pub async fn apply_page(
        &self,
        run: RunId,
        page: &PageData,
        now: DateTime<Utc>,
    ) -> Result<PageOutcome, StoreError> {
        let now_s = time_text(now);
        let mut tx = self.write_tx("starting a page").await?;
        let conn: &mut AnyConnection = &mut tx;

        // What the mirror holds for this page.
        let entry_ids: Vec<i64> = page.records.iter().map(|r| r.entry.id).collect();
        let stored_entries = read_entries(conn, self.backend, &entry_ids).await?;
        // Each entity once, as the page first gives it (an entity may be on a list twice).
        let mut entities: BTreeMap<(Kind, i64), &EntityRow> = BTreeMap::new();
        for r in &page.records {
            entities
                .entry((r.entity.kind(), r.entity.id()))
                .or_insert(&r.entity);
        }
        let stored_entities = read_entities(conn, self.backend, &entities).await?;
        let owners: BTreeSet<Owner> = page
            .records
            .iter()
            .flat_map(|r| r.values.iter().map(|v| v.owner))
            .collect();
        let owners: Vec<Owner> = owners.into_iter().collect();
        let stored_vals = stored_values(conn, self.backend, &owners).await?;

        // The differences.
        let changed_entities: BTreeSet<(Kind, i64)> = entities
            .iter()
            .filter(|(key, row)| match stored_entities.get(key) {
                Some((stored, gone)) => *gone || stored != **row,
                None => true,
            })
            .map(|(key, _)| *key)
            .collect();
        let mut values: BTreeMap<(Owner, String), &OwnedValue> = BTreeMap::new();
        for r in &page.records {
            for v in &r.values {
                values.entry((v.owner, v.field_id.clone())).or_insert(v);
            }
        }
        let empty = Vec::new();
        let changed_values: BTreeSet<(Owner, String)> = values
            .iter()
            .filter(|(key, v)| !same_items(stored_vals.get(*key).unwrap_or(&empty), &v.items))
            .map(|(key, _)| key.clone())
            .collect();
        let had_rows: BTreeSet<(Owner, String)> = changed_values
            .iter()
            .filter(|k| stored_vals.contains_key(*k))
            .cloned()
            .collect();

        let mut out = PageOutcome {
            seen: page.records.len(),
            entry_ids,
            entity_ids: entities.keys().copied().collect(),
            ..Default::default()
        };
        let (entry_writes, events) = page_events(
            page,
            &stored_entries,
            &changed_entities,
            &changed_values,
            &mut out,
        );

        // The writes.
        for kind in Kind::ALL {
            let rows: Vec<&EntityRow> = changed_entities
                .iter()
                .filter(|(k, _)| *k == kind)
                .map(|key| entities[key])
                .collect();
            out.entities_written += rows.len();
            upsert_entities(conn, self.backend, kind, &rows, &now_s).await?;
        }
        upsert_entries(conn, self.backend, &entry_writes, &now_s).await?;
        let to_write: Vec<&OwnedValue> = changed_values.iter().map(|k| values[k]).collect();
        out.values_written =
            replace_values(conn, self.backend, &to_write, &had_rows, &now_s).await?;
        if !events.is_empty() {
            insert_events(conn, self.backend, run, &events, now).await?;
        }
        tx.commit().await.ctx("committing a page")?;
        Ok(out)
    }

    /// Brings the lists up to date: new and changed ones written, those Affinity no longer
    /// has flagged.
    pub async fn sync_lists(
        &self,
        run: RunId,
        lists: &[ListRow],
        now: DateTime<Utc>,
    ) -> Result<SyncOutcome, StoreError> {
        let now_s = time_text(now);
        let stored = self.lists_with_gone().await?;
        let mut tx = self.write_tx("starting a list sync").await?;
        let conn: &mut AnyConnection = &mut tx;
        let mut out = SyncOutcome::default();
        let mut events = Vec::new();
        for l in lists {
            let is_new = match stored.iter().find(|(s, _)| s.id == l.id) {
                Some((s, false)) if s == l => continue,
                Some((_, false)) => false,
                _ => true,
            };
            if is_new {
                out.new += 1;
            } else {
                out.changed += 1;
            }
            sqlx::query(
                "INSERT INTO lists (id, name, kind, is_public, owner_id, creator_id, first_seen_at, changed_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT (id) DO UPDATE SET name = excluded.name, \
                 kind = excluded.kind, is_public = excluded.is_public, owner_id = excluded.owner_id, \
                 creator_id = excluded.creator_id, changed_at = excluded.changed_at, last_seen_at = NULL, gone_at = NULL",
            )
            .bind(l.id)
            .bind(l.name.clone())
            .bind(l.kind.as_str())
            .bind(flag(l.is_public))
            .bind(l.owner_id)
            .bind(l.creator_id)
            .bind(now_s.clone())
            .execute(&mut *conn)
            .await
            .ctx("writing lists")?;
            let name = Some(l.name.clone());
            events.push(JournalEvent::new(
                format!("list:{}", l.id),
                if is_new {
                    Step::New {
                        list: None,
                        entity: None,
                        name,
                    }
                } else {
                    Step::Changed {
                        changed: vec![],
                        name,
                    }
                },
            ));
        }
        for (s, gone) in &stored {
            if !gone && !lists.iter().any(|l| l.id == s.id) {
                out.gone += 1;
                sqlx::query("UPDATE lists SET gone_at = $1, last_seen_at = $1 WHERE id = $2")
                    .bind(now_s.clone())
                    .bind(s.id)
                    .execute(&mut *conn)
                    .await
                    .ctx("flagging a list gone")?;
                events.push(JournalEvent::new(
                    format!("list:{}", s.id),
                    Step::Removed { list: None },
                ));
            }
        }
        if !events.is_empty() {
            insert_events(conn, self.backend, run, &events, now).await?;
        }
        tx.commit().await.ctx("committing lists")?;
        Ok(out)
    }

    /// Every list, with whether it is gone.
    pub async fn lists_with_gone(&self) -> Result<Vec<(ListRow, bool)>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, kind, is_public, owner_id, creator_id, gone_at FROM lists ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await
        .ctx("reading lists")?;
        rows.iter()
            .map(|r| {
                let kind: String = col(r, "kind")?;
                let gone: Option<String> = col(r, "gone_at")?;
                Ok((
                    ListRow {
                        id: col(r, "id")?,
                        name: col(r, "name")?,
                        kind: Kind::parse(&kind)
                            .ok_or_else(|| StoreError::Corrupt(format!("list kind `{kind}`")))?,
                        is_public: col::<i64>(r, "is_public")? != 0,
                        owner_id: col(r, "owner_id")?,
                        creator_id: col(r, "creator_id")?,
                    },
                    gone.is_some(),
                ))
            })
            .collect()
    }

    /// The lists Affinity still has.
    pub async fn lists(&self) -> Result<Vec<ListRow>, StoreError> {
        Ok(self
            .lists_with_gone()
            .await?
            .into_iter()
            .filter(|(_, gone)| !gone)
            .map(|(l, _)| l)
            .collect())
    }

    /// Brings a list's field catalog up to date: its fields (with their dropdown options) and
    /// their order on the list. List-specific fields of this list that Affinity no longer
    /// gives are flagged gone.
    pub async fn sync_fields(
        &self,
        run: RunId,
        list_id: i64,
        fields: &[FieldRow],
        now: DateTime<Utc>,
    ) -> Result<SyncOutcome, StoreError> {
        let now_s = time_text(now);
        let stored: HashMap<String, (FieldRow, bool)> = self
            .fields_with_gone()
            .await?
            .into_iter()
            .map(|(f, g)| (f.id.clone(), (f, g)))
            .collect();
        let stored_order = self.list_field_ids(list_id).await?;
        let mut tx = self.write_tx("starting a field sync").await?;
        let conn: &mut AnyConnection = &mut tx;
        let mut out = SyncOutcome::default();
        let mut events = Vec::new();
        for f in fields {
            let is_new = match stored.get(&f.id) {
                Some((s, false)) if s == f => continue,
                Some((_, false)) => false,
                _ => true,
            };
            if is_new {
                out.new += 1;
            } else {
                out.changed += 1;
            }
            write_field(conn, self.backend, f, &now_s).await?;
            let name = Some(f.name.clone());
            events.push(JournalEvent::new(
                format!("field:{}", f.id),
                if is_new {
                    Step::New {
                        list: None,
                        entity: None,
                        name,
                    }
                } else {
                    Step::Changed {
                        changed: vec![],
                        name,
                    }
                },
            ));
        }
        // This list's own fields that are gone.
        for (id, (s, gone)) in &stored {
            if !gone && s.list_id == Some(list_id) && !fields.iter().any(|f| &f.id == id) {
                out.gone += 1;
                sqlx::query("UPDATE fields SET gone_at = $1, last_seen_at = $1 WHERE id = $2")
                    .bind(now_s.clone())
                    .bind(id.clone())
                    .execute(&mut *conn)
                    .await
                    .ctx("flagging a field gone")?;
                events.push(JournalEvent::new(
                    format!("field:{id}"),
                    Step::Removed { list: None },
                ));
            }
        }
        let order: Vec<String> = fields.iter().map(|f| f.id.clone()).collect();
        if order != stored_order {
            sqlx::query("DELETE FROM list_fields WHERE list_id = $1")
                .bind(list_id)
                .execute(&mut *conn)
                .await
                .ctx("writing a list's fields")?;
            for (chunk_no, chunk) in order.chunks(500).enumerate() {
                let sql = format!(
                    "INSERT INTO list_fields (list_id, field_id, position) VALUES {}",
                    placeholders(self.backend, chunk.len(), 3)
                );
                let mut q = sqlx::query(&sql);
                for (i, id) in chunk.iter().enumerate() {
                    q = q
                        .bind(list_id)
                        .bind(id.clone())
                        .bind((chunk_no * 500 + i) as i64);
                }
                q.execute(&mut *conn).await.ctx("writing a list's fields")?;
            }
        }
        if !events.is_empty() {
            insert_events(conn, self.backend, run, &events, now).await?;
        }
        tx.commit().await.ctx("committing fields")?;
        Ok(out)
    }

    /// The field ids a list's entries carry, in order.
    pub async fn list_field_ids(&self, list_id: i64) -> Result<Vec<String>, StoreError> {
        let rows =
            sqlx::query("SELECT field_id FROM list_fields WHERE list_id = $1 ORDER BY position")
                .bind(list_id)
                .fetch_all(&self.pool)
                .await
                .ctx("reading a list's fields")?;
        rows.iter().map(|r| col(r, "field_id")).collect()
    }

    /// The whole field catalog with dropdown options, and whether each field is gone.
    pub async fn fields_with_gone(&self) -> Result<Vec<(FieldRow, bool)>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, field_type, value_type, list_id, entity_kind, allows_multiple, \
             enrichment_source, track_changes, gone_at FROM fields ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await
        .ctx("reading fields")?;
        let opts = sqlx::query(
            "SELECT field_id, option_id, text, rank, color FROM dropdown_options ORDER BY field_id, option_id",
        )
        .fetch_all(&self.pool)
        .await
        .ctx("reading dropdown options")?;
        let mut options: HashMap<String, Vec<OptionRow>> = HashMap::new();
        for r in &opts {
            options
                .entry(col(r, "field_id")?)
                .or_default()
                .push(OptionRow {
                    option_id: col(r, "option_id")?,
                    text: col(r, "text")?,
                    rank: col(r, "rank")?,
                    color: col(r, "color")?,
                });
        }
        rows.iter()
            .map(|r| {
                let id: String = col(r, "id")?;
                let kind: Option<String> = col(r, "entity_kind")?;
                let gone: Option<String> = col(r, "gone_at")?;
                Ok((
                    FieldRow {
                        name: col(r, "name")?,
                        field_type: col(r, "field_type")?,
                        value_type: col(r, "value_type")?,
                        list_id: col(r, "list_id")?,
                        entity_kind: kind.as_deref().and_then(Kind::parse),
                        allows_multiple: col::<i64>(r, "allows_multiple")? != 0,
                        enrichment_source: col(r, "enrichment_source")?,
                        track_changes: col::<Option<i64>>(r, "track_changes")?.map(|t| t != 0),
                        options: options.remove(&id).unwrap_or_default(),
                        id,
                    },
                    gone.is_some(),
                ))
            })
            .collect()
    }

    /// Flags the live entries of a list that a complete pull did not see, and gives their ids.
    /// `last_seen` is when they were last seen (the list's previous complete pull).
    pub async fn flag_entries_gone(
        &self,
        run: RunId,
        list_id: i64,
        seen: &BTreeSet<i64>,
        last_seen: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>, StoreError> {
        let now_s = time_text(now);
        let rows =
            sqlx::query("SELECT id FROM list_entries WHERE list_id = $1 AND gone_at IS NULL")
                .bind(list_id)
                .fetch_all(&self.pool)
                .await
                .ctx("reading list entries")?;
        let mut gone = Vec::new();
        for r in &rows {
            let id: i64 = col(r, "id")?;
            if !seen.contains(&id) {
                gone.push(id);
            }
        }
        gone.sort_unstable();
        if gone.is_empty() {
            return Ok(gone);
        }
        let mut tx = self.write_tx("flagging entries gone").await?;
        let conn: &mut AnyConnection = &mut tx;
        for chunk in gone.chunks(500) {
            let sql = format!(
                "UPDATE list_entries SET gone_at = {}, last_seen_at = {} WHERE id IN ({})",
                param(self.backend, 1),
                param(self.backend, 2),
                in_list(self.backend, 3, chunk.len())
            );
            let mut q = sqlx::query(&sql).bind(now_s.clone()).bind(
                last_seen
                    .map(str::to_string)
                    .unwrap_or_else(|| now_s.clone()),
            );
            for id in chunk {
                q = q.bind(*id);
            }
            q.execute(&mut *conn).await.ctx("flagging entries gone")?;
        }
        let events: Vec<JournalEvent> = gone
            .iter()
            .map(|id| {
                JournalEvent::new(
                    format!("entry:{id}"),
                    Step::Removed {
                        list: Some(list_id),
                    },
                )
            })
            .collect();
        insert_events(conn, self.backend, run, &events, now).await?;
        tx.commit().await.ctx("flagging entries gone")?;
        Ok(gone)
    }

    /// Live organizations and persons that no live list entry holds any more: deleted or merged
    /// in Affinity, or only taken off their lists. The pull asks Affinity which.
    pub async fn orphan_entities(&self) -> Result<Vec<(Kind, i64)>, StoreError> {
        let mut out = Vec::new();
        for kind in [Kind::Organization, Kind::Person, Kind::Opportunity] {
            let sql = format!(
                "SELECT t.id FROM {} t WHERE t.gone_at IS NULL AND NOT EXISTS \
                 (SELECT 1 FROM list_entries e WHERE e.entity_kind = $1 AND e.entity_id = t.id AND e.gone_at IS NULL) \
                 ORDER BY t.id",
                table_of(kind)
            );
            let rows = sqlx::query(&sql)
                .bind(kind.as_str())
                .fetch_all(&self.pool)
                .await
                .ctx("reading entities")?;
            for r in &rows {
                out.push((kind, col(r, "id")?));
            }
        }
        Ok(out)
    }

    /// Flags an entity Affinity no longer has; `merged_into` names the survivor of a merge.
    pub async fn flag_entity_gone(
        &self,
        run: RunId,
        kind: Kind,
        id: i64,
        merged_into: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let now_s = time_text(now);
        let mut tx = self.write_tx("flagging an entity gone").await?;
        let conn: &mut AnyConnection = &mut tx;
        let q = match kind {
            Kind::Opportunity => {
                sqlx::query("UPDATE opportunities SET gone_at = $1, last_seen_at = $1 WHERE id = $2")
                    .bind(now_s)
                    .bind(id)
            }
            Kind::Organization => sqlx::query(
                "UPDATE organizations SET gone_at = $1, last_seen_at = $1, merged_into = $3 WHERE id = $2",
            )
            .bind(now_s)
            .bind(id)
            .bind(merged_into),
            Kind::Person => sqlx::query(
                "UPDATE persons SET gone_at = $1, last_seen_at = $1, merged_into = $3 WHERE id = $2",
            )
            .bind(now_s)
            .bind(id)
            .bind(merged_into),
        };
        q.execute(&mut *conn).await.ctx("flagging an entity gone")?;
        let step = match merged_into {
            Some(new) => Step::Merged {
                into: Some(format!("{kind}:{new}")),
            },
            None => Step::Removed { list: None },
        };
        insert_events(
            conn,
            self.backend,
            run,
            &[JournalEvent::new(format!("{kind}:{id}"), step)],
            now,
        )
        .await?;
        tx.commit().await.ctx("flagging an entity gone")?;
        Ok(())
    }
}
