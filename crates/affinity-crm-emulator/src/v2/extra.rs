//! The rest of v2 (affinity-api.md §3.4, "2026 additions" and "Other"): field values and
//! their changes, a note's attachments and replies, searches, files, transcripts, teams,
//! duplicates, inferred connections, reminders, and the writes of persons and opportunities.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use serde_json::{json, Value as Json_};

use super::super::state::{
    entity_type, v2_time, EntityFile, Field, FieldValueChange, ListEntry, Note, Person, Reminder,
    State as Tenant, Value,
};
use super::read::{
    entity_field_defs, entry_field_defs, find_entity, find_entry, id_param, noun, render_fields,
    select, ENTITY_TYPES, ENTRY_TYPES,
};
use super::render::{self, company_data, person_data, NoteIncludes};
use super::{
    invalid, json_body, page, paged, path_id, Answer, Params, PathParams, FIELD_LIMITS, LIMITS,
    NOTE_LIMITS, V2,
};
use crate::{ApiError, AppState};

fn created(v: Json_) -> Response {
    (StatusCode::CREATED, Json(v)).into_response()
}

fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

// ---------------------------------------------------------------- field values

/// `…/fields/{fieldId}/values` (2026-09-17): the values of one field, a page of `data` with the
/// field's value type; multi-values give one item each. Only the types the spec's
/// `FieldValuesPaged` has are served; the others are a 400 [I].
fn values_page(
    s: &AppState,
    uri: &Uri,
    p: &Params,
    st: &Tenant,
    f: &Field,
    entity_id: i64,
    entry: Option<&ListEntry>,
) -> Answer {
    let le = match (f.list_id, entry) {
        (Some(_), Some(e)) => Some(e.id),
        _ => None,
    };
    let values: Vec<&Value> = st
        .values_of(f.id, entity_id, le)
        .into_iter()
        .map(|fv| &fv.value)
        .collect();
    let vt = f.v2_value_type();
    let page_type = match vt {
        "company" | "company-multi" | "dropdown" | "dropdown-multi" | "location"
        | "location-multi" | "person" | "person-multi" | "ranked-dropdown" => vt,
        "text" | "filterable-text" => "filterable-text",
        "filterable-text-multi" => "filterable-text-multi",
        other => {
            return Err(invalid(
                "fieldId",
                format!("the values of a `{other}` field are not listed"),
            ))
        }
    };
    let pg = page(p, values.len(), FIELD_LIMITS)?;
    let data: Vec<Json_> = values[pg.start..pg.end]
        .iter()
        .map(|v| render::value_data(st, f, v))
        .collect();
    let mut out = paged(s, uri.path(), p, pg, data, false);
    out["type"] = json!(page_type);
    Ok(Json(out))
}

/// `GET /v2/lists/{id}/list-entries/{entryId}/fields/{fieldId}/values`.
pub async fn entry_values(
    State(s): State<AppState>,
    uri: Uri,
    path: PathParams,
    q: RawQuery,
) -> Answer {
    let p = Params::parse(q);
    let list_id = path_id(&path, "listId")?;
    let entry_id = path_id(&path, "listEntryId")?;
    let field_id = path.get("fieldId").cloned().unwrap_or_default();
    let st = s.tenant();
    let e = find_entry(&st, list_id, entry_id)?;
    let f = entry_field_defs(&st, list_id)
        .into_iter()
        .find(|f| f.v2_id() == field_id)
        .ok_or_else(|| ApiError::not_found(V2, format!("field `{field_id}`")))?;
    values_page(&s, &uri, &p, &st, f, e.entity_id, Some(&e))
}

/// `GET /v2/{companies|persons}/{id}/fields/{fieldId}/values`.
pub async fn entity_values<const ET: i64>(
    State(s): State<AppState>,
    uri: Uri,
    path: PathParams,
    q: RawQuery,
) -> Answer {
    let p = Params::parse(q);
    let id = path_id(&path, id_param(ET))?;
    let field_id = path.get("fieldId").cloned().unwrap_or_default();
    let st = s.tenant();
    find_entity(&st, ET, id)?;
    let f = entity_field_defs(&st, ET)
        .into_iter()
        .find(|f| f.v2_id() == field_id)
        .ok_or_else(|| ApiError::not_found(V2, format!("field `{field_id}`")))?;
    values_page(&s, &uri, &p, &st, f, id, None)
}

// ---------------------------------------------------------------- field value changes

fn change_value(st: &Tenant, f: &Field, v: &Value) -> Json_ {
    let entity = |mut d: Json_| {
        d["referenceType"] = json!("entity");
        d
    };
    match v {
        Value::Person(id) if st.persons.contains_key(id) => entity(person_data(st, *id)),
        Value::Organization(id) if st.organizations.contains_key(id) => {
            entity(company_data(st, *id))
        }
        Value::Person(id) | Value::Organization(id) => {
            json!({ "referenceType": "deleted-entity", "displayValue": id.to_string() })
        }
        Value::Dropdown(_) | Value::RankedDropdown(_) => {
            let d = render::value_data(st, f, v);
            if d["text"].as_str().is_some_and(|t| !t.is_empty()) {
                entity(d)
            } else {
                json!({ "referenceType": "deleted-entity", "displayValue": "" })
            }
        }
        other => render::value_data(st, f, other),
    }
}

fn change_json(st: &Tenant, c: &FieldValueChange) -> Option<Json_> {
    let f = st.fields.get(&c.field_id)?;
    let changer = st.persons.get(&c.changer_id).map(|p| {
        json!({ "id": p.id, "firstName": p.first_name, "lastName": p.last_name,
                "emailAddress": p.primary_email().unwrap_or_default() })
    });
    let list_entry = c
        .list_entry_id
        .and_then(|le| st.list_entries.get(&le))
        .map(|e| json!({ "id": e.id, "listId": e.list_id }));
    let entity_type = render::list_type(f.entity_type);
    Some(json!({
        "id": c.id,
        "type": f.v2_value_type(),
        "actionType": match c.action_type { 0 => "add", 1 => "delete", _ => "update" },
        "changedAt": v2_time(c.changed_at),
        "changer": changer,
        "entity": { "id": c.entity_id },
        "field": { "id": f.v2_id(), "name": f.name, "entityType": entity_type,
                   "type": if f.list_id.is_some() { "list" } else { "global" } },
        "listEntry": list_entry,
        "value": change_value(st, f, &c.value),
    }))
}

/// The `filter` of `/v2/field-value-changes`: `field.id=…` (required: changes are read field by
/// field, as in v1), with `entity.id=N` or `listEntry.id=N` joined by `and` [I].
fn change_filter(p: &Params) -> Result<(String, Option<i64>, Option<i64>), ApiError> {
    let f = p.one("filter").unwrap_or_default();
    let (mut field, mut entity, mut entry) = (None, None, None);
    for part in f.split(" and ").map(str::trim).filter(|s| !s.is_empty()) {
        let (k, v) = part
            .split_once('=')
            .ok_or_else(|| invalid("filter", format!("cannot read `{part}`")))?;
        let v = v.trim().trim_matches('"');
        let id = || {
            v.parse::<i64>()
                .map_err(|_| invalid("filter", format!("`{v}` is not an id")))
        };
        match k.trim() {
            "field.id" => field = Some(v.to_string()),
            "entity.id" => entity = Some(id()?),
            "listEntry.id" => entry = Some(id()?),
            other => {
                return Err(invalid(
                    "filter",
                    format!(
                    "the emulator reads `field.id`, `entity.id` and `listEntry.id`, not `{other}`"
                ),
                ))
            }
        }
    }
    let field = field.ok_or_else(|| invalid("filter", "a `field.id=` filter is required"))?;
    Ok((field, entity, entry))
}

fn changes_page(
    s: &AppState,
    uri: &Uri,
    p: &Params,
    st: &Tenant,
    keep: &dyn Fn(&FieldValueChange) -> bool,
) -> Answer {
    let all: Vec<Json_> = st
        .field_value_changes
        .iter()
        .rev()
        .filter(|c| keep(c))
        .filter_map(|c| change_json(st, c))
        .collect();
    let pg = page(p, all.len(), LIMITS)?;
    Ok(Json(paged(
        s,
        uri.path(),
        p,
        pg,
        all[pg.start..pg.end].to_vec(),
        false,
    )))
}

/// `GET /v2/field-value-changes?filter=field.id=…`: newest first.
pub async fn field_value_changes(State(s): State<AppState>, uri: Uri, q: RawQuery) -> Answer {
    let p = Params::parse(q);
    let (field, entity, entry) = change_filter(&p)?;
    let st = s.tenant();
    let f = st
        .fields
        .values()
        .find(|f| f.v2_id() == field)
        .ok_or_else(|| invalid("filter", format!("field `{field}` not found")))?;
    if !f.tracks_changes() {
        return Err(invalid(
            "filter",
            format!("field `{field}` does not track changes"),
        ));
    }
    let fid = f.id;
    changes_page(&s, &uri, &p, &st, &|c| {
        c.field_id == fid
            && entity.is_none_or(|e| c.entity_id == e)
            && entry.is_none_or(|e| c.list_entry_id == Some(e))
    })
}

/// `GET /v2/lists/{id}/list-entries/{entryId}/field-value-changes`: every tracked change of the
/// entry (its list fields, and its entity's global fields).
pub async fn entry_changes(
    State(s): State<AppState>,
    uri: Uri,
    path: PathParams,
    q: RawQuery,
) -> Answer {
    let p = Params::parse(q);
    let list_id = path_id(&path, "listId")?;
    let entry_id = path_id(&path, "listEntryId")?;
    let st = s.tenant();
    let e = find_entry(&st, list_id, entry_id)?;
    changes_page(&s, &uri, &p, &st, &|c| {
        c.list_entry_id == Some(e.id) || (c.list_entry_id.is_none() && c.entity_id == e.entity_id)
    })
}

// ---------------------------------------------------------------- notes

fn find_note(st: &Tenant, path: &PathParams) -> Result<Note, ApiError> {
    let id = path_id(path, "noteId")?;
    st.notes
        .get(&id)
        .cloned()
        .ok_or_else(|| ApiError::not_found(V2, format!("note {id}")))
}

fn ids_page(
    s: &AppState,
    uri: &Uri,
    p: &Params,
    ids: &[i64],
    one: &dyn Fn(i64) -> Option<Json_>,
) -> Answer {
    let total = p.flag("totalCount")?;
    let pg = page(p, ids.len(), LIMITS)?;
    let data = ids[pg.start..pg.end]
        .iter()
        .filter_map(|id| one(*id))
        .collect();
    Ok(Json(paged(s, uri.path(), p, pg, data, total)))
}

/// `GET /v2/notes/{id}/attached-persons`.
pub async fn attached_persons(
    State(s): State<AppState>,
    uri: Uri,
    path: PathParams,
    q: RawQuery,
) -> Answer {
    let st = s.tenant();
    let n = find_note(&st, &path)?;
    ids_page(&s, &uri, &Params::parse(q), &n.person_ids, &|id| {
        Some(person_data(&st, id))
    })
}

/// `GET /v2/notes/{id}/attached-companies`.
pub async fn attached_companies(
    State(s): State<AppState>,
    uri: Uri,
    path: PathParams,
    q: RawQuery,
) -> Answer {
    let st = s.tenant();
    let n = find_note(&st, &path)?;
    ids_page(&s, &uri, &Params::parse(q), &n.organization_ids, &|id| {
        Some(company_data(&st, id))
    })
}

/// `GET /v2/notes/{id}/attached-opportunities`.
pub async fn attached_opportunities(
    State(s): State<AppState>,
    uri: Uri,
    path: PathParams,
    q: RawQuery,
) -> Answer {
    let st = s.tenant();
    let n = find_note(&st, &path)?;
    ids_page(&s, &uri, &Params::parse(q), &n.opportunity_ids, &|id| {
        st.opportunities
            .get(&id)
            .map(|o| render::opportunity(&st, o, None))
    })
}

/// `GET /v2/notes/{id}/replies`: oldest first.
pub async fn replies(State(s): State<AppState>, uri: Uri, path: PathParams, q: RawQuery) -> Answer {
    let p = Params::parse(q);
    let total = p.flag("totalCount")?;
    let st = s.tenant();
    let n = find_note(&st, &path)?;
    let all: Vec<&Note> = st
        .notes
        .values()
        .filter(|r| r.parent_id == Some(n.id))
        .collect();
    let pg = page(&p, all.len(), NOTE_LIMITS)?;
    let data = all[pg.start..pg.end]
        .iter()
        .map(|r| render::note(&st, r, NoteIncludes::default()))
        .collect();
    Ok(Json(paged(&s, uri.path(), &p, pg, data, total)))
}

/// Words of `prompt` found in `text`, case-insensitively; the preview is the text around the
/// first one [I: Affinity's keyword search ranks by relevance; the emulator matches words].
fn keyword_hit(prompt: &str, text: &str) -> Option<String> {
    let lower = text.to_lowercase();
    let at = prompt
        .split_whitespace()
        .filter(|w| w.len() >= 3)
        .find_map(|w| lower.find(&w.to_lowercase()))?;
    let start = lower[..at]
        .char_indices()
        .rev()
        .nth(40)
        .map_or(0, |(i, _)| i);
    Some(text[start..].chars().take(160).collect())
}

fn prompt_of(body: &Json_) -> Result<String, ApiError> {
    body.get("prompt")
        .and_then(Json_::as_str)
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(String::from)
        .ok_or_else(|| invalid("prompt", "`prompt` is required"))
}

fn limit_of(body: &Json_) -> usize {
    body.get("limit")
        .and_then(Json_::as_u64)
        .map_or(10, |n| n.clamp(1, 100) as usize)
}

/// `POST /v2/notes/search {prompt, companyId? | noteIds?, limit?}`: 201.
pub async fn search_notes(State(s): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let body = json_body(&body)?;
    let prompt = prompt_of(&body)?;
    let company = body.get("companyId").and_then(Json_::as_i64);
    let only: Option<Vec<i64>> = body
        .get("noteIds")
        .and_then(Json_::as_array)
        .map(|a| a.iter().filter_map(Json_::as_i64).collect());
    let st = s.tenant();
    let data: Vec<Json_> = st
        .notes
        .values()
        .filter(|n| company.is_none_or(|c| n.organization_ids.contains(&c)))
        .filter(|n| only.as_ref().is_none_or(|ids| ids.contains(&n.id)))
        .filter_map(|n| {
            keyword_hit(&prompt, &n.content).map(|preview| {
                let kind = if n.kind == 3 {
                    "meeting-ai-summary"
                } else {
                    "note"
                };
                json!({ "note": { "id": n.id, "kind": kind }, "preview": preview })
            })
        })
        .take(limit_of(&body))
        .collect();
    Ok(created(json!({ "data": data })))
}

// ---------------------------------------------------------------- searches

/// Whether `term` (≥ 3 characters) matches: a company's name or primary domain; a person's
/// first or last name or primary email; an opportunity's name (affinity-api.md §3.4).
fn search_term(body: &Json_) -> Result<Option<String>, ApiError> {
    match body.pointer("/search/term").and_then(Json_::as_str) {
        None => Ok(None),
        Some(t) if t.trim().chars().count() >= 3 => Ok(Some(t.trim().to_lowercase())),
        Some(_) => Err(invalid(
            "search.term",
            "`search.term` needs at least 3 characters",
        )),
    }
}

/// The filters and sorts of `SearchCriteria` are not emulated: a body that has them is
/// refused, rather than answered as if they held [I].
fn no_filters(body: &Json_) -> Result<(), ApiError> {
    for key in ["filters", "sorts"] {
        if body.get(key).is_some_and(|v| !v.is_null()) {
            return Err(invalid(
                key,
                format!("the emulator does not evaluate `{key}`; search by `search.term`"),
            ));
        }
    }
    Ok(())
}

fn company_matches(o: &super::super::state::Organization, t: &str) -> bool {
    o.name.to_lowercase().contains(t) || o.domain.as_deref().is_some_and(|d| d.contains(t))
}

fn person_matches(p: &Person, t: &str) -> bool {
    p.first_name.to_lowercase().contains(t)
        || p.last_name
            .as_deref()
            .is_some_and(|l| l.to_lowercase().contains(t))
        || p.primary_email()
            .is_some_and(|e| e.to_lowercase().contains(t))
}

/// `POST /v2/{companies|persons}/search`: 201 with a page.
pub async fn search_entities<const ET: i64>(
    State(s): State<AppState>,
    uri: Uri,
    q: RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    let p = Params::parse(q);
    let body = if body.is_empty() {
        json!({})
    } else {
        json_body(&body)?
    };
    no_filters(&body)?;
    let term = search_term(&body)?;
    let total = p.flag("totalCount")?;
    let st = s.tenant();
    let defs = select(
        entity_field_defs(&st, ET),
        &p,
        ("fieldIds", "fieldTypes"),
        ENTITY_TYPES,
        false,
    )?
    .unwrap_or_default();
    let ids: Vec<i64> = if ET == entity_type::PERSON {
        st.persons
            .values()
            .filter(|x| term.as_ref().is_none_or(|t| person_matches(x, t)))
            .map(|x| x.id)
            .collect()
    } else {
        st.organizations
            .values()
            .filter(|o| o.in_tenant && term.as_ref().is_none_or(|t| company_matches(o, t)))
            .map(|o| o.id)
            .collect()
    };
    let pg = page(&p, ids.len(), LIMITS)?;
    let data = ids[pg.start..pg.end]
        .iter()
        .map(|id| {
            let fields = render_fields(&st, &defs, *id, None);
            if ET == entity_type::PERSON {
                render::person(&st.persons[id], Some(fields))
            } else {
                render::company(&st.organizations[id], Some(fields))
            }
        })
        .collect();
    Ok(created(paged(&s, uri.path(), &p, pg, data, total)))
}

/// `POST /v2/lists/{id}/list-entries/search`: 201 with a page of entries whose entity matches.
pub async fn search_entries(
    State(s): State<AppState>,
    uri: Uri,
    path: PathParams,
    q: RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    let p = Params::parse(q);
    let list_id = path_id(&path, "listId")?;
    let body = if body.is_empty() {
        json!({})
    } else {
        json_body(&body)?
    };
    no_filters(&body)?;
    let term = search_term(&body)?;
    let total = p.flag("totalCount")?;
    let st = s.tenant();
    super::read::find_list(&st, list_id)?;
    let defs = select(
        entry_field_defs(&st, list_id),
        &p,
        ("fieldIds", "fieldTypes"),
        ENTRY_TYPES,
        false,
    )?
    .unwrap_or_default();
    let kind = st.lists[&list_id].kind;
    let entries: Vec<&ListEntry> = st
        .list_entries
        .values()
        .filter(|e| e.list_id == list_id)
        .filter(|e| {
            let Some(t) = &term else { return true };
            match kind {
                entity_type::PERSON => st
                    .persons
                    .get(&e.entity_id)
                    .is_some_and(|x| person_matches(x, t)),
                entity_type::OPPORTUNITY => st
                    .opportunities
                    .get(&e.entity_id)
                    .is_some_and(|o| o.name.to_lowercase().contains(t)),
                _ => st
                    .organizations
                    .get(&e.entity_id)
                    .is_some_and(|o| company_matches(o, t)),
            }
        })
        .collect();
    let pg = page(&p, entries.len(), LIMITS)?;
    let data = entries[pg.start..pg.end]
        .iter()
        .map(|e| super::read::entry_with_entity(&st, e, &defs))
        .collect();
    Ok(created(paged(&s, uri.path(), &p, pg, data, total)))
}

/// `POST /v2/semantic-search {prompt, entityType?, listIds?, limit?}`: 201. Affinity ranks
/// companies by meaning; the emulator scores them by the share of the prompt's words found in
/// their name and domains, and explains that [I].
pub async fn semantic_search(State(s): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let body = json_body(&body)?;
    let prompt = prompt_of(&body)?;
    let lists: Option<Vec<i64>> = body
        .get("listIds")
        .and_then(Json_::as_array)
        .map(|a| a.iter().filter_map(Json_::as_i64).collect());
    let words: Vec<String> = prompt
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() >= 3)
        .map(str::to_lowercase)
        .collect();
    let st = s.tenant();
    let mut scored: Vec<(f64, Json_)> = st
        .organizations
        .values()
        .filter(|o| o.in_tenant)
        .filter(|o| {
            lists.as_ref().is_none_or(|ls| {
                st.list_entries
                    .values()
                    .any(|e| e.entity_id == o.id && ls.contains(&e.list_id))
            })
        })
        .filter_map(|o| {
            let hay = format!("{} {}", o.name, o.domains.join(" ")).to_lowercase();
            let hits = words.iter().filter(|w| hay.contains(w.as_str())).count();
            (hits > 0).then(|| {
                let score = hits as f64 / words.len().max(1) as f64;
                let mut c = render::company(o, None);
                c["score"] = json!(format!("{score:.2}"));
                (score, c)
            })
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    let data: Vec<Json_> = scored
        .into_iter()
        .take(limit_of(&body))
        .map(|(_, c)| c)
        .collect();
    Ok(created(json!({
        "entityType": "companies",
        "explanation": "companies whose name or domains hold the prompt's words, most words first",
        "data": data,
    })))
}

/// `POST /v2/feedback {type, subject, body}`: 204. Kept nowhere but the log [I].
pub async fn feedback(body: Bytes) -> Result<Response, ApiError> {
    let body = json_body(&body)?;
    for key in ["subject", "body"] {
        if !body.get(key).is_some_and(Json_::is_string) {
            return Err(invalid(key, format!("`{key}` is required")));
        }
    }
    match body.get("type").and_then(Json_::as_str) {
        Some("api" | "mcp" | "other") => {}
        _ => return Err(invalid("type", "`type` must be `api`, `mcp` or `other`")),
    }
    tracing::info!(subject = ?body["subject"], "feedback received");
    Ok(no_content())
}

// ---------------------------------------------------------------- files

fn file_json(f: &EntityFile) -> Json_ {
    json!({
        "id": f.id, "name": f.name, "size": f.content.len(), "type": mime_of(&f.name),
        "creator": { "id": f.uploader_id }, "createdAt": v2_time(f.created_at), "updatedAt": null,
    })
}

/// A file's type by its extension [I].
pub fn mime_of(name: &str) -> Option<&'static str> {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase())?;
    Some(match ext.as_str() {
        "pdf" => "application/pdf",
        "txt" | "md" => "text/plain",
        "csv" => "text/csv",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        _ => "application/octet-stream",
    })
}

/// The `filter` of `/v2/files`: `company.id=`, `person.id=` or `opportunity.id=` [I].
/// Which files a `filter` keeps.
type FileFilter = Box<dyn Fn(&EntityFile) -> bool>;

fn file_filter(p: &Params) -> Result<FileFilter, ApiError> {
    let Some(f) = p.one("filter").map(str::trim) else {
        return Ok(Box::new(|_| true));
    };
    let (k, v) = f
        .split_once('=')
        .ok_or_else(|| invalid("filter", format!("cannot read `{f}`")))?;
    let id: i64 = v
        .trim()
        .parse()
        .map_err(|_| invalid("filter", format!("`{v}` is not an id")))?;
    Ok(match k.trim() {
        "company.id" => Box::new(move |x| x.organization_id == Some(id)),
        "person.id" => Box::new(move |x| x.person_id == Some(id)),
        "opportunity.id" => Box::new(move |x| x.opportunity_id == Some(id)),
        other => {
            return Err(invalid(
                "filter",
                format!("cannot filter files by `{other}`"),
            ))
        }
    })
}

/// `GET /v2/files` (2026-09-17).
pub async fn files(State(s): State<AppState>, uri: Uri, q: RawQuery) -> Answer {
    let p = Params::parse(q);
    let total = p.flag("totalCount")?;
    let keep = file_filter(&p)?;
    let st = s.tenant();
    let all: Vec<&EntityFile> = st.files.values().filter(|f| keep(f)).collect();
    let pg = page(&p, all.len(), LIMITS)?;
    let data = all[pg.start..pg.end].iter().map(|f| file_json(f)).collect();
    Ok(Json(paged(&s, uri.path(), &p, pg, data, total)))
}

/// `GET /v2/files/{fileId}`: with a `downloadUrl`, v1's download route on this emulator.
pub async fn file(State(s): State<AppState>, path: PathParams) -> Answer {
    let id = path_id(&path, "fileId")?;
    let st = s.tenant();
    let f = st
        .files
        .get(&id)
        .ok_or_else(|| ApiError::not_found(V2, format!("file {id}")))?;
    let mut v = file_json(f);
    v["downloadUrl"] = json!(format!("{}/entity-files/download/{id}", s.base_url));
    Ok(Json(v))
}

/// `POST /v2/files/search {prompt, companyId? | fileIds?, limit?}`: 201, over the files' text.
pub async fn search_files(State(s): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let body = json_body(&body)?;
    let prompt = prompt_of(&body)?;
    let company = body.get("companyId").and_then(Json_::as_i64);
    let only: Option<Vec<i64>> = body
        .get("fileIds")
        .and_then(Json_::as_array)
        .map(|a| a.iter().filter_map(Json_::as_i64).collect());
    let st = s.tenant();
    let data: Vec<Json_> = st
        .files
        .values()
        .filter(|f| company.is_none_or(|c| f.organization_id == Some(c)))
        .filter(|f| only.as_ref().is_none_or(|ids| ids.contains(&f.id)))
        .filter_map(|f| {
            keyword_hit(&prompt, &format!("{} {}", f.name, f.content)).map(|preview| {
                json!({ "file": { "id": f.id, "name": f.name }, "pageNumber": 1, "preview": preview })
            })
        })
        .take(limit_of(&body))
        .collect();
    Ok(created(json!({ "data": data })))
}

// ---------------------------------------------------------------- transcripts

fn transcript_json(st: &Tenant, t: &super::super::state::Transcript, fragments: bool) -> Json_ {
    let note = st
        .notes
        .get(&t.note_id)
        .map(|n| render::note(st, n, NoteIncludes::default()));
    let mut v = json!({
        "id": t.id, "languageCode": t.language_code, "createdAt": v2_time(t.created_at),
        "note": note,
    });
    if fragments {
        let data: Vec<Json_> = t.fragments.iter().take(100).map(fragment_json).collect();
        v["fragmentsPreview"] = json!({ "data": data, "totalCount": t.fragments.len() });
    }
    v
}

fn fragment_json(f: &super::super::state::Fragment) -> Json_ {
    json!({ "speaker": f.speaker, "content": f.content, "startTimestamp": f.start,
            "endTimestamp": f.end })
}

fn find_transcript(
    st: &Tenant,
    path: &PathParams,
) -> Result<super::super::state::Transcript, ApiError> {
    let id = path_id(path, "transcriptId")?;
    st.transcripts
        .get(&id)
        .cloned()
        .ok_or_else(|| ApiError::not_found(V2, format!("transcript {id}")))
}

/// `GET /v2/transcripts`.
pub async fn transcripts(State(s): State<AppState>, uri: Uri, q: RawQuery) -> Answer {
    let p = Params::parse(q);
    let total = p.flag("totalCount")?;
    let st = s.tenant();
    let all: Vec<_> = st.transcripts.values().collect();
    let pg = page(&p, all.len(), LIMITS)?;
    let data = all[pg.start..pg.end]
        .iter()
        .map(|t| transcript_json(&st, t, false))
        .collect();
    Ok(Json(paged(&s, uri.path(), &p, pg, data, total)))
}

/// `GET /v2/transcripts/{id}`: with a preview of its fragments.
pub async fn transcript(State(s): State<AppState>, path: PathParams) -> Answer {
    let st = s.tenant();
    let t = find_transcript(&st, &path)?;
    Ok(Json(transcript_json(&st, &t, true)))
}

/// `GET /v2/transcripts/{id}/fragments`.
pub async fn fragments(
    State(s): State<AppState>,
    uri: Uri,
    path: PathParams,
    q: RawQuery,
) -> Answer {
    let p = Params::parse(q);
    let total = p.flag("totalCount")?;
    let st = s.tenant();
    let t = find_transcript(&st, &path)?;
    let pg = page(&p, t.fragments.len(), LIMITS)?;
    let data = t.fragments[pg.start..pg.end]
        .iter()
        .map(fragment_json)
        .collect();
    Ok(Json(paged(&s, uri.path(), &p, pg, data, total)))
}

/// `DELETE /v2/transcripts/{id}` (2026-09-17): 204.
pub async fn delete_transcript(
    State(s): State<AppState>,
    path: PathParams,
) -> Result<Response, ApiError> {
    let mut st = s.tenant();
    let t = find_transcript(&st, &path)?;
    st.transcripts.remove(&t.id);
    Ok(no_content())
}

// ---------------------------------------------------------------- teams

fn member_json(st: &Tenant, team: &super::super::state::Team, id: i64) -> Option<Json_> {
    let p = st.persons.get(&id)?;
    Some(json!({
        "id": p.id, "addedAt": v2_time(team.created_at), "privacyType": "share-subjects",
        "user": { "id": p.id, "firstName": p.first_name, "lastName": p.last_name,
                  "emailAddress": p.primary_email().unwrap_or_default() },
    }))
}

fn team_json(st: &Tenant, t: &super::super::state::Team, p: &Params) -> Json_ {
    let mut v = json!({
        "id": t.id, "name": t.name, "privacyType": "share-subjects",
        "createdAt": v2_time(t.created_at), "updatedAt": null,
    });
    for inc in p.all("includes") {
        match inc {
            "membersPreview" => {
                let data: Vec<Json_> = t
                    .member_ids
                    .iter()
                    .filter_map(|id| member_json(st, t, *id))
                    .take(100)
                    .collect();
                v["membersPreview"] = json!({ "data": data, "totalCount": t.member_ids.len() });
            }
            "accessibleListsPreview" => {
                let data: Vec<Json_> = t
                    .list_ids
                    .iter()
                    .filter_map(|l| st.lists.get(l))
                    .map(|l| render::list(l, true))
                    .take(100)
                    .collect();
                v["accessibleListsPreview"] =
                    json!({ "data": data, "totalCount": t.list_ids.len() });
            }
            _ => {}
        }
    }
    v
}

fn find_team(st: &Tenant, path: &PathParams) -> Result<super::super::state::Team, ApiError> {
    let id = path_id(path, "teamId")?;
    st.teams
        .get(&id)
        .cloned()
        .ok_or_else(|| ApiError::not_found(V2, format!("team {id}")))
}

fn check_includes(p: &Params) -> Result<(), ApiError> {
    for inc in p.all("includes") {
        if !matches!(inc, "membersPreview" | "accessibleListsPreview") {
            return Err(invalid(
                "includes",
                format!("`{inc}` is not one of membersPreview, accessibleListsPreview"),
            ));
        }
    }
    Ok(())
}

/// `GET /v2/teams` (2026-09-17).
pub async fn teams(State(s): State<AppState>, uri: Uri, q: RawQuery) -> Answer {
    let p = Params::parse(q);
    check_includes(&p)?;
    let total = p.flag("totalCount")?;
    let st = s.tenant();
    let all: Vec<_> = st.teams.values().collect();
    let pg = page(&p, all.len(), LIMITS)?;
    let data = all[pg.start..pg.end]
        .iter()
        .map(|t| team_json(&st, t, &p))
        .collect();
    Ok(Json(paged(&s, uri.path(), &p, pg, data, total)))
}

/// `GET /v2/teams/{id}`.
pub async fn team(State(s): State<AppState>, path: PathParams, q: RawQuery) -> Answer {
    let p = Params::parse(q);
    check_includes(&p)?;
    let st = s.tenant();
    let t = find_team(&st, &path)?;
    Ok(Json(team_json(&st, &t, &p)))
}

/// `GET /v2/teams/{id}/members`.
pub async fn team_members(
    State(s): State<AppState>,
    uri: Uri,
    path: PathParams,
    q: RawQuery,
) -> Answer {
    let st = s.tenant();
    let t = find_team(&st, &path)?;
    ids_page(&s, &uri, &Params::parse(q), &t.member_ids, &|id| {
        member_json(&st, &t, id)
    })
}

/// `GET /v2/teams/{id}/accessible-lists`.
pub async fn team_lists(
    State(s): State<AppState>,
    uri: Uri,
    path: PathParams,
    q: RawQuery,
) -> Answer {
    let st = s.tenant();
    let t = find_team(&st, &path)?;
    ids_page(&s, &uri, &Params::parse(q), &t.list_ids, &|id| {
        st.lists.get(&id).map(|l| render::list(l, true))
    })
}

// ---------------------------------------------------------------- duplicates, connections

fn company_profile(o: &super::super::state::Organization) -> Json_ {
    json!({ "id": o.id, "name": o.name, "domain": o.domain, "domains": o.domains,
            "isGlobal": o.global, "isEnriched": o.global })
}

/// Groups of records that look alike: companies sharing a domain or a name, persons sharing a
/// full name (Affinity's own suggestions are smarter) [I]. The first of a group (lowest id)
/// is the primary profile.
fn groups<T, K: Ord + Clone>(items: Vec<T>, key: impl Fn(&T) -> Vec<K>) -> Vec<Vec<T>>
where
    T: Clone,
{
    let mut by: std::collections::BTreeMap<K, Vec<T>> = Default::default();
    for it in &items {
        for k in key(it) {
            by.entry(k).or_default().push(it.clone());
        }
    }
    by.into_values().filter(|g| g.len() > 1).collect()
}

/// `GET /v2/duplicates/company-suggestions` (2026-07-15 on).
pub async fn company_duplicates(State(s): State<AppState>, uri: Uri, q: RawQuery) -> Answer {
    let p = Params::parse(q);
    let total = p.flag("totalCount")?;
    let st = s.tenant();
    let orgs: Vec<&super::super::state::Organization> =
        st.organizations.values().filter(|o| o.in_tenant).collect();
    let found = groups(orgs, |o| {
        let mut k: Vec<(String, String)> = o
            .domains
            .iter()
            .map(|d| ("domain-match".to_string(), d.clone()))
            .collect();
        k.push(("name".to_string(), o.name.to_lowercase()));
        k
    });
    let all: Vec<Json_> = found
        .iter()
        .map(|g| {
            let criteria = if g[0].domains.iter().any(|d| g[1].domains.contains(d)) {
                "domain-match"
            } else {
                "name"
            };
            json!({
                "id": format!("company-{}-{}", g[0].id, g[1].id),
                "matchCriteria": criteria,
                "primaryProfile": company_profile(g[0]),
                "duplicateProfiles": g[1..].iter().map(|o| company_profile(o)).collect::<Vec<_>>(),
            })
        })
        .collect();
    let pg = page(&p, all.len(), LIMITS)?;
    Ok(Json(paged(
        &s,
        uri.path(),
        &p,
        pg,
        all[pg.start..pg.end].to_vec(),
        total,
    )))
}

/// `GET /v2/duplicates/person-suggestions` (2026-07-15 on).
pub async fn person_duplicates(State(s): State<AppState>, uri: Uri, q: RawQuery) -> Answer {
    let p = Params::parse(q);
    let total = p.flag("totalCount")?;
    let st = s.tenant();
    let persons: Vec<&Person> = st.persons.values().collect();
    let found = groups(persons, |x| {
        vec![format!(
            "{} {}",
            x.first_name.to_lowercase(),
            x.last_name.as_deref().unwrap_or("").to_lowercase()
        )]
    });
    let all: Vec<Json_> = found
        .iter()
        .map(|g| {
            json!({
                "id": format!("person-{}-{}", g[0].id, g[1].id),
                "matchCriteria": "name",
                "primaryProfile": render::person(g[0], None),
                "duplicateProfiles": g[1..].iter().map(|x| render::person(x, None)).collect::<Vec<_>>(),
            })
        })
        .collect();
    let pg = page(&p, all.len(), LIMITS)?;
    Ok(Json(paged(
        &s,
        uri.path(),
        &p,
        pg,
        all[pg.start..pg.end].to_vec(),
        total,
    )))
}

/// An inferred-connection group of the seed (in the current version's shape) in the shape of
/// `version`: 2024-01-01 names the target by `firstName` and `lastName` where later versions
/// give `fullName`, and gives each connection a `confidence` (the emulator's is 0.5 [I]).
fn connection_group(group: &Json_, version: &str) -> Json_ {
    let mut g = group.clone();
    if version < "2026-07-15" {
        if let Some(target) = g.get_mut("target").and_then(Json_::as_object_mut) {
            let full = target
                .remove("fullName")
                .and_then(|f| f.as_str().map(String::from));
            let (first, last) = match full.as_deref().and_then(|f| f.split_once(' ')) {
                Some((a, b)) => (Some(a.to_string()), Some(b.to_string())),
                None => (full, None),
            };
            target.insert("firstName".into(), json!(first));
            target.insert("lastName".into(), json!(last));
        }
        if let Some(conns) = g.get_mut("connections").and_then(Json_::as_array_mut) {
            for c in conns {
                c["confidence"] = json!(0.5);
            }
        }
    }
    g
}

fn connections(
    s: &AppState,
    uri: &Uri,
    q: RawQuery,
    version: &str,
    all: impl Fn(&Tenant) -> Vec<Json_>,
) -> Answer {
    let p = Params::parse(q);
    let total = p.flag("totalCount")?;
    let st = s.tenant();
    let all = all(&st);
    let pg = page(&p, all.len(), LIMITS)?;
    let data = all[pg.start..pg.end]
        .iter()
        .map(|g| connection_group(g, version))
        .collect();
    Ok(Json(paged(s, uri.path(), &p, pg, data, total)))
}

/// `GET /v2/inferred-connections/coworkers`.
pub async fn coworkers(
    State(s): State<AppState>,
    v: Option<axum::Extension<crate::middleware::ApiVersion>>,
    uri: Uri,
    q: RawQuery,
) -> Answer {
    connections(&s, &uri, q, super::version_of(v), |st| {
        st.inferred_coworkers.clone()
    })
}

/// `GET /v2/inferred-connections/investor-executive-connections`.
pub async fn investor_executives(
    State(s): State<AppState>,
    v: Option<axum::Extension<crate::middleware::ApiVersion>>,
    uri: Uri,
    q: RawQuery,
) -> Answer {
    connections(&s, &uri, q, super::version_of(v), |st| {
        st.inferred_investor_executives.clone()
    })
}

// ---------------------------------------------------------------- reminders

/// v2's `reminders.Reminder`.
pub fn reminder_json(r: &Reminder) -> Json_ {
    let reference = |id: Option<i64>| id.map(|id| json!({ "id": id }));
    let status = match r.status(Utc::now()) {
        0 => "completed",
        2 => "overdue",
        _ => "active",
    };
    let mut v = json!({
        "id": r.id, "content": r.content, "dueDate": v2_time(r.due_date),
        "createdAt": v2_time(r.created_at), "updatedAt": r.updated_at.map(v2_time),
        "creator": { "id": r.creator_id }, "owner": { "id": r.owner_id },
        "completer": reference(r.completer_id), "person": reference(r.person_id),
        "company": reference(r.organization_id), "opportunity": reference(r.opportunity_id),
        "status": status,
    });
    if r.kind == 1 {
        let trigger = match r.reset_type {
            Some(1) => "email",
            Some(2) => "event",
            _ => "interaction",
        };
        v["type"] = json!("recurring");
        v["completedAt"] = Json_::Null;
        // A recurring reminder is never completed: it comes back (spec: `active|overdue`).
        if status == "completed" {
            v["status"] = json!("active");
        }
        v["recurrence"] =
            json!({ "periodDays": r.reminder_days.unwrap_or(30), "resetTrigger": trigger });
    } else {
        v["type"] = json!("one-time");
        v["completedAt"] = json!(r.completed_at.map(v2_time));
        v["recurrence"] = Json_::Null;
    }
    v
}

/// `GET /v2/reminders`.
pub async fn reminders(State(s): State<AppState>, uri: Uri, q: RawQuery) -> Answer {
    let p = Params::parse(q);
    let total = p.flag("totalCount")?;
    let st = s.tenant();
    let all: Vec<&Reminder> = st.reminders.values().collect();
    let pg = page(&p, all.len(), LIMITS)?;
    let data = all[pg.start..pg.end]
        .iter()
        .map(|r| reminder_json(r))
        .collect();
    Ok(Json(paged(&s, uri.path(), &p, pg, data, total)))
}

fn find_reminder(st: &Tenant, path: &PathParams) -> Result<Reminder, ApiError> {
    let id = path_id(path, "reminderId")?;
    st.reminders
        .get(&id)
        .cloned()
        .ok_or_else(|| ApiError::not_found(V2, format!("reminder {id}")))
}

/// `GET /v2/reminders/{id}` (2026-07-15 on).
pub async fn reminder(State(s): State<AppState>, path: PathParams) -> Answer {
    Ok(Json(reminder_json(&find_reminder(&s.tenant(), &path)?)))
}

fn time_of(v: &Json_, param: &str) -> Result<DateTime<Utc>, ApiError> {
    v.as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| invalid(param, format!("`{param}` must be an ISO 8601 date-time")))
}

fn internal(st: &Tenant, v: Option<&Json_>, param: &str) -> Result<i64, ApiError> {
    let id = v.and_then(|o| o.get("id")).and_then(Json_::as_i64);
    match id.and_then(|id| st.persons.get(&id)) {
        Some(p) if p.kind == 1 => Ok(p.id),
        _ => Err(invalid(param, "the owner must be an internal person")),
    }
}

fn recurrence(v: &Json_) -> Result<(Option<i64>, Option<i64>), ApiError> {
    let trigger = match v.get("resetTrigger").and_then(Json_::as_str) {
        None => None,
        Some("interaction") => Some(0),
        Some("email") => Some(1),
        Some("event") => Some(2),
        Some(_) => {
            return Err(invalid(
                "recurrence.resetTrigger",
                "`resetTrigger` must be `interaction`, `email` or `event`",
            ))
        }
    };
    Ok((trigger, v.get("periodDays").and_then(Json_::as_i64)))
}

/// `POST /v2/reminders {type, entity:{type, id}, owner:{id}, content?, dueDate | recurrence}`:
/// 201.
pub async fn create_reminder(State(s): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let body = json_body(&body)?;
    let mut st = s.tenant();
    let owner = internal(&st, body.get("owner"), "owner.id")?;
    let (et, eid) = match (
        body.pointer("/entity/type").and_then(Json_::as_str),
        body.pointer("/entity/id").and_then(Json_::as_i64),
    ) {
        (Some("person"), Some(id)) => (entity_type::PERSON, id),
        (Some("company"), Some(id)) => (entity_type::ORGANIZATION, id),
        (Some("opportunity"), Some(id)) => (entity_type::OPPORTUNITY, id),
        _ => return Err(invalid("entity", "`entity` needs a `type` and an `id`")),
    };
    if !st.entity_exists(et, eid) {
        return Err(invalid(
            "entity.id",
            format!("{} {eid} not found", noun(et)),
        ));
    }
    let content = body
        .get("content")
        .and_then(Json_::as_str)
        .map(String::from);
    let now = Utc::now();
    let (kind, due, reset, days) = match body.get("type").and_then(Json_::as_str) {
        Some("one-time") => {
            let due = time_of(body.get("dueDate").unwrap_or(&Json_::Null), "dueDate")?;
            (0, due, None, None)
        }
        Some("recurring") => {
            let rec = body
                .get("recurrence")
                .ok_or_else(|| invalid("recurrence", "a recurring reminder needs `recurrence`"))?;
            let (reset, days) = recurrence(rec)?;
            let days =
                days.ok_or_else(|| invalid("recurrence.periodDays", "`periodDays` is required"))?;
            (
                1,
                now + chrono::Duration::days(days),
                reset.or(Some(0)),
                Some(days),
            )
        }
        _ => return Err(invalid("type", "`type` must be `one-time` or `recurring`")),
    };
    let id = st.next_id();
    let creator = st.caller_id();
    let r = Reminder {
        id,
        kind,
        content,
        due_date: due,
        reset_type: reset,
        reminder_days: days,
        owner_id: owner,
        creator_id: creator,
        person_id: (et == entity_type::PERSON).then_some(eid),
        organization_id: (et == entity_type::ORGANIZATION).then_some(eid),
        opportunity_id: (et == entity_type::OPPORTUNITY).then_some(eid),
        created_at: now,
        updated_at: None,
        completed_at: None,
        completer_id: None,
    };
    let answer = reminder_json(&r);
    st.reminders.insert(id, r.clone());
    let announced = crate::v1::reminders::reminder_json(&r);
    st.announce("reminder.created", announced);
    Ok(created(answer))
}

/// `POST /v2/reminders/{id} {content?, dueDate?, owner?, completedAt?, recurrence?}`
/// (2026-09-17): 204.
pub async fn update_reminder(
    State(s): State<AppState>,
    path: PathParams,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body = json_body(&body)?;
    let mut st = s.tenant();
    let mut r = find_reminder(&st, &path)?;
    if let Some(c) = body.get("content") {
        r.content = c.as_str().map(String::from);
    }
    if let Some(d) = body.get("dueDate") {
        r.due_date = time_of(d, "dueDate")?;
    }
    if body.get("owner").is_some() {
        r.owner_id = internal(&st, body.get("owner"), "owner.id")?;
    }
    match body.get("completedAt") {
        None => {}
        Some(Json_::Null) => {
            r.completed_at = None;
            r.completer_id = None;
        }
        Some(t) => {
            r.completed_at = Some(time_of(t, "completedAt")?);
            r.completer_id = Some(st.caller_id());
        }
    }
    if let Some(rec) = body.get("recurrence") {
        let (reset, days) = recurrence(rec)?;
        r.reset_type = reset.or(r.reset_type);
        r.reminder_days = days.or(r.reminder_days);
    }
    r.updated_at = Some(Utc::now());
    let announced = crate::v1::reminders::reminder_json(&r);
    st.reminders.insert(r.id, r);
    st.announce("reminder.updated", announced);
    Ok(no_content())
}

/// `DELETE /v2/reminders/{id}` (2026-07-15 on): 204.
pub async fn delete_reminder(
    State(s): State<AppState>,
    path: PathParams,
) -> Result<Response, ApiError> {
    let mut st = s.tenant();
    let r = find_reminder(&st, &path)?;
    st.reminders.remove(&r.id);
    st.announce("reminder.deleted", crate::v1::reminders::reminder_json(&r));
    Ok(no_content())
}

// ---------------------------------------------------------------- persons, opportunities

/// `POST /v2/persons {firstName, lastName, primaryEmailAddress, emailAddresses?, fields?}`
/// (2026-07-15 on): 201 with the person. Emails stay unique per person (§8.5).
pub async fn create_person(State(s): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let body = json_body(&body)?;
    let first = body
        .get("firstName")
        .and_then(Json_::as_str)
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .ok_or_else(|| invalid("firstName", "`firstName` is required"))?
        .to_string();
    let last = body
        .get("lastName")
        .and_then(Json_::as_str)
        .map(String::from);
    let mut emails: Vec<String> = Vec::new();
    if let Some(e) = body.get("primaryEmailAddress").and_then(Json_::as_str) {
        emails.push(e.trim().to_string());
    }
    for e in body
        .get("emailAddresses")
        .and_then(Json_::as_array)
        .into_iter()
        .flatten()
        .filter_map(Json_::as_str)
    {
        if !emails.iter().any(|x| x.eq_ignore_ascii_case(e.trim())) {
            emails.push(e.trim().to_string());
        }
    }
    let mut st = s.tenant();
    for e in &emails {
        if !e.contains('@') {
            return Err(invalid(
                "emailAddresses",
                format!("`{e}` is not an email address"),
            ));
        }
        let lower = e.to_lowercase();
        if let Some(other) = st
            .persons
            .values()
            .find(|p| p.emails.iter().any(|x| x.to_lowercase() == lower))
        {
            return Err(invalid(
                "emailAddresses",
                format!("email {e} already belongs to person {}", other.id),
            ));
        }
    }
    let id = st.next_id();
    st.persons.insert(
        id,
        Person {
            id,
            kind: 0,
            first_name: first,
            last_name: last,
            emails,
            organization_ids: vec![],
        },
    );
    if let Some(updates) = body.get("fields").and_then(Json_::as_array) {
        let updates: Vec<(String, Json_)> = updates
            .iter()
            .filter_map(|u| {
                Some((
                    u.get("id")?.as_str()?.to_string(),
                    u.get("value").cloned().unwrap_or(Json_::Null),
                ))
            })
            .collect();
        if let Err(e) = super::fields::write_entity(&mut st, entity_type::PERSON, id, &updates) {
            st.persons.remove(&id);
            return Err(e);
        }
    }
    let answer = render::person(&st.persons[&id], None);
    let announced = crate::v1::common::person_json(&st.persons[&id]);
    st.announce("person.created", announced);
    Ok(created(answer))
}

/// `DELETE /v2/persons/{id}` (2026-07-15 on): 204; 403 for an internal person (§3.4).
pub async fn delete_person(
    State(s): State<AppState>,
    path: PathParams,
) -> Result<Response, ApiError> {
    let id = path_id(&path, "personId")?;
    let mut st = s.tenant();
    find_entity(&st, entity_type::PERSON, id)?;
    if st.persons[&id].kind == 1 {
        return Err(ApiError::new(
            V2,
            StatusCode::FORBIDDEN,
            format!("person {id} is internal and cannot be deleted"),
        ));
    }
    let announced = crate::v1::common::person_json(&st.persons[&id]);
    crate::v1::common::delete_entity_data(&mut st, entity_type::PERSON, id);
    for o in st.organizations.values_mut() {
        o.person_ids.retain(|p| *p != id);
    }
    for o in st.opportunities.values_mut() {
        o.person_ids.retain(|p| *p != id);
    }
    st.persons.remove(&id);
    st.announce("person.deleted", announced);
    Ok(no_content())
}

/// `POST /v2/opportunities/{id} {name?}` (2026-09-17): 204.
pub async fn update_opportunity(
    State(s): State<AppState>,
    path: PathParams,
    body: Bytes,
) -> Result<Response, ApiError> {
    let id = path_id(&path, "opportunityId")?;
    let body = json_body(&body)?;
    let mut st = s.tenant();
    find_entity(&st, entity_type::OPPORTUNITY, id)?;
    if let Some(n) = body.get("name") {
        let n = n
            .as_str()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| invalid("name", "`name` must be a non-empty string"))?;
        st.opportunities.get_mut(&id).expect("found above").name = n.to_string();
    }
    let o = st.opportunities[&id].clone();
    st.announce("opportunity.updated", json!({ "id": o.id, "name": o.name }));
    Ok(no_content())
}

/// `DELETE /v2/opportunities/{id}` (2026-09-17): 204, with its list entry and values.
pub async fn delete_opportunity(
    State(s): State<AppState>,
    path: PathParams,
) -> Result<Response, ApiError> {
    let id = path_id(&path, "opportunityId")?;
    let mut st = s.tenant();
    find_entity(&st, entity_type::OPPORTUNITY, id)?;
    crate::v1::common::delete_entity_data(&mut st, entity_type::OPPORTUNITY, id);
    if let Some(o) = st.opportunities.remove(&id) {
        st.announce("opportunity.deleted", json!({ "id": o.id, "name": o.name }));
    }
    Ok(no_content())
}
