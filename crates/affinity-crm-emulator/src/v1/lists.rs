//! Lists and list entries (affinity-api.md §2.3 "Lists", "List entries").

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{json, Value as Json_};

use super::common::*;
use super::fields::field_json;
use crate::state::{entity_type, List, ListEntry, State as Tenant};
use crate::{ApiError, AppState};

/// A list (§2.3). `additional_permissions` are not kept by the emulator: always `[]`.
fn list_json(st: &Tenant, l: &List) -> Json_ {
    let size = st
        .list_entries
        .values()
        .filter(|e| e.list_id == l.id)
        .count();
    json!({
        "id": l.id,
        "type": l.kind,
        "name": l.name,
        "public": l.public,
        "owner_id": l.owner_id,
        "creator_id": l.creator_id,
        "list_size": size,
        "additional_permissions": [],
    })
}

fn list(st: &Tenant, id: i64) -> Result<&List, ApiError> {
    st.lists
        .get(&id)
        .ok_or_else(|| not_found(format!("list {id}")))
}

/// `GET /lists`: a bare array (§2.2).
pub async fn all(State(s): State<AppState>) -> Answer {
    let st = s.tenant();
    ok(st.lists.values().map(|l| list_json(&st, l)).collect())
}

/// `GET /lists/{id}`: the list plus its list-specific fields.
pub async fn one(State(s): State<AppState>, P(id): P<i64>) -> Answer {
    let st = s.tenant();
    let l = list(&st, id)?;
    let mut v = list_json(&st, l);
    v["fields"] = st
        .fields
        .values()
        .filter(|f| f.list_id == Some(id))
        .map(|f| field_json(&st, f, false, false))
        .collect();
    ok(v)
}

#[derive(Deserialize)]
struct NewList {
    name: String,
    #[serde(rename = "type")]
    kind: i64,
    is_public: bool,
    owner_id: Option<i64>,
}

/// `POST /lists {name, type, is_public, owner_id?}`.
pub async fn create(State(s): State<AppState>, b: Bytes) -> Answer {
    let nl: NewList = body(&b)?;
    let mut st = s.tenant();
    if ![
        entity_type::PERSON,
        entity_type::ORGANIZATION,
        entity_type::OPPORTUNITY,
    ]
    .contains(&nl.kind)
    {
        return Err(invalid("type", format!("unknown list type {}", nl.kind)));
    }
    if nl.name.trim().is_empty() {
        return Err(invalid("name", "a list needs a name"));
    }
    let owner = nl.owner_id.unwrap_or(st.caller_id());
    match st.persons.get(&owner) {
        Some(p) if p.kind == 1 => {}
        _ => {
            return Err(invalid(
                "owner_id",
                format!("{owner} is not an internal person"),
            ))
        }
    }
    let id = st.next_id();
    let l = List {
        id,
        kind: nl.kind,
        name: nl.name,
        public: nl.is_public,
        owner_id: owner,
        creator_id: st.caller_id(),
        created_at: Utc::now(),
    };
    let v = list_json(&st, &l);
    st.lists.insert(id, l);
    st.announce("list.created", v.clone());
    created(v)
}

/// `GET /lists/{lid}/list-entries`: without `page_size`, a bare array of ALL entries; with
/// it, `{list_entries, next_page_token}` (§2.2, §8.1). A `page_token` alone pages too.
pub async fn entries(State(s): State<AppState>, P(lid): P<i64>, RawQuery(raw): RawQuery) -> Answer {
    let q = Q::parse(raw);
    let st = s.tenant();
    list(&st, lid)?;
    let all: Vec<Json_> = st
        .list_entries
        .values()
        .filter(|e| e.list_id == lid)
        .map(|e| entry_json(&st, e))
        .collect();
    if !q.has("page_size") && !q.has("page_token") {
        return ok(Json_::Array(all));
    }
    let p = Paging::from(&q, 500)?;
    let (page, next) = p.page(all);
    ok(json!({ "list_entries": page, "next_page_token": next }))
}

fn entry_of(st: &Tenant, lid: i64, id: i64) -> Result<ListEntry, ApiError> {
    list(st, lid)?;
    st.list_entries
        .get(&id)
        .filter(|e| e.list_id == lid)
        .cloned()
        .ok_or_else(|| not_found(format!("list entry {id}")))
}

pub async fn entry(State(s): State<AppState>, P((lid, id)): P<(i64, i64)>) -> Answer {
    let st = s.tenant();
    let e = entry_of(&st, lid, id)?;
    ok(entry_json(&st, &e))
}

#[derive(Deserialize)]
struct NewEntry {
    entity_id: i64,
    creator_id: Option<i64>,
}

/// `POST /lists/{lid}/list-entries {entity_id, creator_id?}`: no dedupe, the same entity may
/// sit on a list twice (§8.5); refused on opportunity lists (use `POST /opportunities`).
pub async fn add_entry(State(s): State<AppState>, P(lid): P<i64>, b: Bytes) -> Answer {
    let ne: NewEntry = body(&b)?;
    let mut st = s.tenant();
    let kind = list(&st, lid)?.kind;
    if kind == entity_type::OPPORTUNITY {
        return Err(invalid(
            "list_id",
            "entries of an opportunity list are made with `POST /opportunities`",
        ));
    }
    check_entity(&st, kind, ne.entity_id).map_err(|e| {
        if e.status.as_u16() == 404 {
            invalid("entity_id", format!("entity {} not found", ne.entity_id))
        } else {
            e
        }
    })?;
    let creator = ne.creator_id.unwrap_or(st.caller_id());
    if !st.persons.contains_key(&creator) {
        return Err(invalid("creator_id", format!("person {creator} not found")));
    }
    if let Some(o) = st.organizations.get_mut(&ne.entity_id) {
        if kind == entity_type::ORGANIZATION {
            // Listing a global organization from outside the tenant brings it in (§8.3: add
            // the global org to a list rather than create a duplicate) [I].
            o.in_tenant = true;
        }
    }
    let id = st.next_id();
    let e = ListEntry {
        id,
        list_id: lid,
        entity_id: ne.entity_id,
        creator_id: Some(creator),
        created_at: Utc::now(),
    };
    st.list_entries.insert(id, e.clone());
    let v = entry_json(&st, &e);
    // Webhooks announce every new entry (affinity-api.md §5).
    st.announce("list_entry.created", v.clone());
    created(v)
}

/// `DELETE /lists/{lid}/list-entries/{id}`: deletes the entry's list-specific values, and on
/// an opportunity list the opportunity too (§8.11).
pub async fn delete_entry(State(s): State<AppState>, P((lid, id)): P<(i64, i64)>) -> Answer {
    let mut st = s.tenant();
    let e = entry_of(&st, lid, id)?;
    let announced = entry_json(&st, &e);
    delete_entry_values(&mut st, id);
    st.list_entries.remove(&id);
    if entry_type(&st, &e) == entity_type::OPPORTUNITY {
        st.opportunities.remove(&e.entity_id);
        delete_entity_data(&mut st, entity_type::OPPORTUNITY, e.entity_id);
    }
    st.announce("list_entry.deleted", announced);
    success()
}
