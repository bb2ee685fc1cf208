//! Reads of companies, persons, opportunities, lists and list entries (affinity-api.md §3.4).

use axum::extract::{RawQuery, State};
use axum::http::Uri;
use axum::Json;
use serde_json::{json, Value as Json_};

use super::super::state::{entity_type, v2_time, Field, ListEntry, State as Tenant};
use super::{invalid, page, paged, path_id, render, Answer, Params, PathParams, LIMITS, V2};
use crate::ApiError;
use crate::AppState;

/// The word for an entity type in messages and parameter names.
pub(super) fn noun(et: i64) -> &'static str {
    match et {
        entity_type::PERSON => "person",
        entity_type::OPPORTUNITY => "opportunity",
        _ => "company",
    }
}

/// The path parameter naming an entity of this type.
pub(super) fn id_param(et: i64) -> &'static str {
    match et {
        entity_type::PERSON => "personId",
        entity_type::OPPORTUNITY => "opportunityId",
        _ => "companyId",
    }
}

/// An entity that exists, or 404, or 422 when it was merged into another (§8.4).
pub(super) fn find_entity(st: &Tenant, et: i64, id: i64) -> Result<(), ApiError> {
    if st.entity_exists(et, id) {
        return Ok(());
    }
    if let Some(new) = st.merged_into(et, id) {
        return Err(ApiError::merged(V2, id_param(et), id, new));
    }
    Err(ApiError::not_found(V2, format!("{} {id}", noun(et))))
}

/// The fields an entity's own endpoints show: its type's global and enriched fields. List
/// fields are only reachable through list entries (§3.1).
pub(super) fn entity_field_defs(st: &Tenant, et: i64) -> Vec<&Field> {
    st.fields
        .values()
        .filter(|f| f.list_id.is_none() && f.entity_type == et)
        .collect()
}

/// The fields of a list's entries: the list's own fields, then its entity type's others.
pub(super) fn entry_field_defs(st: &Tenant, list_id: i64) -> Vec<&Field> {
    let Some(list) = st.lists.get(&list_id) else {
        return vec![];
    };
    let mut defs: Vec<&Field> = st
        .fields
        .values()
        .filter(|f| f.list_id == Some(list_id))
        .collect();
    defs.extend(entity_field_defs(st, list.kind));
    defs
}

/// The field types an entity's endpoints take in `fieldTypes`, and a list entry's.
pub(super) const ENTITY_TYPES: &[&str] = &["enriched", "global", "relationship-intelligence"];
pub(super) const ENTRY_TYPES: &[&str] =
    &["enriched", "global", "list", "relationship-intelligence"];

/// The fields asked for by `ids_key`/`types_key` (either may repeat). `None` when neither was
/// given and the endpoint returns no field data by default (§3.1). An id that names no field
/// of `defs` is refused [I]: so a list field asked of a company is a 400, not silence.
pub(super) fn select<'a>(
    defs: Vec<&'a Field>,
    p: &Params,
    (ids_key, types_key): (&str, &str),
    allowed: &[&str],
    all_by_default: bool,
) -> Result<Option<Vec<&'a Field>>, ApiError> {
    let ids = p.all(ids_key);
    let types = p.all(types_key);
    for t in &types {
        if !allowed.contains(t) {
            return Err(invalid(
                types_key,
                format!("`{t}` is not one of {}", allowed.join(", ")),
            ));
        }
    }
    for id in &ids {
        if !defs.iter().any(|f| f.v2_id() == *id) {
            return Err(invalid(ids_key, format!("field `{id}` not found")));
        }
    }
    if ids.is_empty() && types.is_empty() {
        return Ok(all_by_default.then_some(defs));
    }
    Ok(Some(
        defs.into_iter()
            .filter(|f| ids.contains(&f.v2_id().as_str()) || types.contains(&f.v2_type()))
            .collect(),
    ))
}

/// Field data of an entity (and, for list fields, of one of its list entries).
pub(super) fn render_fields(
    st: &Tenant,
    defs: &[&Field],
    entity_id: i64,
    entry: Option<&ListEntry>,
) -> Vec<Json_> {
    defs.iter()
        .map(|f| render::field(st, f, entity_id, entry))
        .collect()
}

/// A company or a person, with the fields selected (none asked: an empty `fields`). [I]
fn render_entity(st: &Tenant, et: i64, id: i64, fields: Vec<Json_>) -> Json_ {
    match et {
        entity_type::PERSON => render::person(&st.persons[&id], Some(fields)),
        _ => render::company(&st.organizations[&id], Some(fields)),
    }
}

/// `GET /v2/companies` and `GET /v2/persons[?ids&fieldIds&fieldTypes&cursor&limit]`.
/// Global organizations outside the tenant are never listed (§8.2), but `ids` may name them.
pub async fn entities<const ET: i64>(State(s): State<AppState>, uri: Uri, q: RawQuery) -> Answer {
    let p = Params::parse(q);
    let st = s.tenant();
    let ids = p.ids("ids")?;
    let all: Vec<i64> = if ET == entity_type::PERSON {
        st.persons.keys().copied().collect()
    } else {
        st.organizations
            .values()
            .filter(|o| o.in_tenant || ids.contains(&o.id))
            .map(|o| o.id)
            .collect()
    };
    let all: Vec<i64> = if p.has("ids") {
        all.into_iter().filter(|id| ids.contains(id)).collect()
    } else {
        all
    };
    let defs = select(
        entity_field_defs(&st, ET),
        &p,
        ("fieldIds", "fieldTypes"),
        ENTITY_TYPES,
        false,
    )?
    .unwrap_or_default();
    let pg = page(&p, all.len(), LIMITS)?;
    let data = all[pg.start..pg.end]
        .iter()
        .map(|id| render_entity(&st, ET, *id, render_fields(&st, &defs, *id, None)))
        .collect();
    Ok(Json(paged(&s, uri.path(), &p, pg, data, false)))
}

/// `GET /v2/companies/{id}` and `GET /v2/persons/{id}[?fieldIds&fieldTypes]`.
pub async fn entity<const ET: i64>(
    State(s): State<AppState>,
    path: PathParams,
    q: RawQuery,
) -> Answer {
    let p = Params::parse(q);
    let id = path_id(&path, id_param(ET))?;
    let st = s.tenant();
    find_entity(&st, ET, id)?;
    let defs = select(
        entity_field_defs(&st, ET),
        &p,
        ("fieldIds", "fieldTypes"),
        ENTITY_TYPES,
        false,
    )?
    .unwrap_or_default();
    Ok(Json(render_entity(
        &st,
        ET,
        id,
        render_fields(&st, &defs, id, None),
    )))
}

/// `GET /v2/companies/fields` and `GET /v2/persons/fields`: global and enriched fields.
pub async fn entity_fields<const ET: i64>(
    State(s): State<AppState>,
    v: Option<axum::Extension<crate::middleware::ApiVersion>>,
    uri: Uri,
    q: RawQuery,
) -> Answer {
    let version = super::version_of(v);
    let p = Params::parse(q);
    let st = s.tenant();
    let defs = entity_field_defs(&st, ET);
    let pg = page(&p, defs.len(), LIMITS)?;
    let data = defs[pg.start..pg.end]
        .iter()
        .map(|f| render::field_metadata(f, version))
        .collect();
    Ok(Json(paged(&s, uri.path(), &p, pg, data, false)))
}

/// The entries of one entity, on every list of its type, by id.
fn entries_of(st: &Tenant, et: i64, id: i64) -> Vec<&ListEntry> {
    st.list_entries
        .values()
        .filter(|e| e.entity_id == id && st.lists.get(&e.list_id).is_some_and(|l| l.kind == et))
        .collect()
}

/// `GET /v2/{companies|persons}/{id}/list-entries`: `ListEntry` items, each with all of the
/// entity's field data, list-specific fields of that entry included (SPEC).
pub async fn entity_list_entries<const ET: i64>(
    State(s): State<AppState>,
    uri: Uri,
    path: PathParams,
    q: RawQuery,
) -> Answer {
    let p = Params::parse(q);
    let id = path_id(&path, id_param(ET))?;
    let st = s.tenant();
    find_entity(&st, ET, id)?;
    let entries = entries_of(&st, ET, id);
    let pg = page(&p, entries.len(), LIMITS)?;
    let data = entries[pg.start..pg.end]
        .iter()
        .map(|e| {
            let defs = entry_field_defs(&st, e.list_id);
            json!({
                "id": e.id, "listId": e.list_id, "listName": st.lists[&e.list_id].name,
                "createdAt": v2_time(e.created_at),
                "creatorId": e.creator_id, "fields": render_fields(&st, &defs, id, Some(e)),
            })
        })
        .collect();
    Ok(Json(paged(&s, uri.path(), &p, pg, data, false)))
}

/// `GET /v2/{companies|persons}/{id}/lists`: the lists the entity is on, once each.
pub async fn entity_lists<const ET: i64>(
    State(s): State<AppState>,
    uri: Uri,
    path: PathParams,
    q: RawQuery,
) -> Answer {
    let p = Params::parse(q);
    let id = path_id(&path, id_param(ET))?;
    let st = s.tenant();
    find_entity(&st, ET, id)?;
    let mut list_ids: Vec<i64> = entries_of(&st, ET, id).iter().map(|e| e.list_id).collect();
    list_ids.sort_unstable();
    list_ids.dedup();
    let pg = page(&p, list_ids.len(), LIMITS)?;
    let data = list_ids[pg.start..pg.end]
        .iter()
        .map(|l| render::list(&st.lists[l], false))
        .collect();
    Ok(Json(paged(&s, uri.path(), &p, pg, data, false)))
}

/// `GET /v2/opportunities[?ids&cursor&limit]`: no field data (§3.4).
pub async fn opportunities(State(s): State<AppState>, uri: Uri, q: RawQuery) -> Answer {
    let p = Params::parse(q);
    let ids = p.ids("ids")?;
    let st = s.tenant();
    let all: Vec<_> = st
        .opportunities
        .values()
        .filter(|o| !p.has("ids") || ids.contains(&o.id))
        .collect();
    let pg = page(&p, all.len(), LIMITS)?;
    let data = all[pg.start..pg.end]
        .iter()
        .map(|o| render::opportunity(&st, o, None))
        .collect();
    Ok(Json(paged(&s, uri.path(), &p, pg, data, false)))
}

/// `GET /v2/opportunities/{id}`.
pub async fn opportunity(State(s): State<AppState>, path: PathParams) -> Answer {
    let id = path_id(&path, "opportunityId")?;
    let st = s.tenant();
    find_entity(&st, entity_type::OPPORTUNITY, id)?;
    Ok(Json(render::opportunity(&st, &st.opportunities[&id], None)))
}

/// `GET /v2/lists`.
pub async fn lists(State(s): State<AppState>, uri: Uri, q: RawQuery) -> Answer {
    let p = Params::parse(q);
    let st = s.tenant();
    let all: Vec<_> = st.lists.values().collect();
    let pg = page(&p, all.len(), LIMITS)?;
    let data = all[pg.start..pg.end]
        .iter()
        .map(|l| render::list(l, true))
        .collect();
    Ok(Json(paged(&s, uri.path(), &p, pg, data, false)))
}

pub(super) fn find_list(st: &Tenant, id: i64) -> Result<(), ApiError> {
    if st.lists.contains_key(&id) {
        Ok(())
    } else {
        Err(ApiError::not_found(V2, format!("list {id}")))
    }
}

/// A list entry of that list, or 404.
pub(super) fn find_entry(st: &Tenant, list_id: i64, entry_id: i64) -> Result<ListEntry, ApiError> {
    find_list(st, list_id)?;
    st.list_entries
        .get(&entry_id)
        .filter(|e| e.list_id == list_id)
        .cloned()
        .ok_or_else(|| ApiError::not_found(V2, format!("list entry {entry_id} on list {list_id}")))
}

/// `GET /v2/lists/{id}`.
pub async fn list(State(s): State<AppState>, path: PathParams) -> Answer {
    let id = path_id(&path, "listId")?;
    let st = s.tenant();
    find_list(&st, id)?;
    Ok(Json(render::list(&st.lists[&id], true)))
}

/// `GET /v2/lists/{id}/fields`: the list's own fields, then its entity type's global and
/// enriched ones, all of which its entries can be asked for.
pub async fn list_fields(
    State(s): State<AppState>,
    v: Option<axum::Extension<crate::middleware::ApiVersion>>,
    uri: Uri,
    path: PathParams,
    q: RawQuery,
) -> Answer {
    let version = super::version_of(v);
    let p = Params::parse(q);
    let id = path_id(&path, "listId")?;
    let st = s.tenant();
    find_list(&st, id)?;
    let defs = entry_field_defs(&st, id);
    let pg = page(&p, defs.len(), LIMITS)?;
    let data = defs[pg.start..pg.end]
        .iter()
        .map(|f| render::field_metadata(f, version))
        .collect();
    Ok(Json(paged(&s, uri.path(), &p, pg, data, false)))
}

/// A `ListEntryWithEntity`: the entry and its entity, with the fields selected.
pub(super) fn entry_with_entity(st: &Tenant, e: &ListEntry, defs: &[&Field]) -> Json_ {
    let kind = st.lists[&e.list_id].kind;
    let fields = render_fields(st, defs, e.entity_id, Some(e));
    let entity = match kind {
        entity_type::PERSON => render::person(&st.persons[&e.entity_id], Some(fields)),
        entity_type::OPPORTUNITY => {
            render::opportunity(st, &st.opportunities[&e.entity_id], Some(fields))
        }
        _ => render::company(&st.organizations[&e.entity_id], Some(fields)),
    };
    json!({
        "id": e.id, "type": render::list_type(kind), "listId": e.list_id,
        "createdAt": v2_time(e.created_at), "creatorId": e.creator_id, "entity": entity,
    })
}

/// `GET /v2/lists/{id}/list-entries[?fieldIds&fieldTypes&cursor&limit]`. Lists allow the same
/// entity twice (§8.5): every entry is its own row.
pub async fn list_entries(
    State(s): State<AppState>,
    uri: Uri,
    path: PathParams,
    q: RawQuery,
) -> Answer {
    let p = Params::parse(q);
    let id = path_id(&path, "listId")?;
    let st = s.tenant();
    find_list(&st, id)?;
    let defs = select(
        entry_field_defs(&st, id),
        &p,
        ("fieldIds", "fieldTypes"),
        ENTRY_TYPES,
        false,
    )?
    .unwrap_or_default();
    let entries: Vec<&ListEntry> = st
        .list_entries
        .values()
        .filter(|e| e.list_id == id)
        .collect();
    let pg = page(&p, entries.len(), LIMITS)?;
    let data = entries[pg.start..pg.end]
        .iter()
        .map(|e| entry_with_entity(&st, e, &defs))
        .collect();
    Ok(Json(paged(&s, uri.path(), &p, pg, data, false)))
}

/// `GET /v2/lists/{id}/list-entries/{entryId}[?fieldIds&fieldTypes]`.
pub async fn list_entry(State(s): State<AppState>, path: PathParams, q: RawQuery) -> Answer {
    let p = Params::parse(q);
    let list_id = path_id(&path, "listId")?;
    let entry_id = path_id(&path, "listEntryId")?;
    let st = s.tenant();
    let e = find_entry(&st, list_id, entry_id)?;
    let defs = select(
        entry_field_defs(&st, list_id),
        &p,
        ("fieldIds", "fieldTypes"),
        ENTRY_TYPES,
        false,
    )?
    .unwrap_or_default();
    Ok(Json(entry_with_entity(&st, &e, &defs)))
}
