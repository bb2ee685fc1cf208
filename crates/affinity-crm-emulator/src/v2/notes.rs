//! v2 notes (affinity-api.md §3.4): reads (2024-01-01, beta) and the 2026 writes. They share
//! `State::notes` with v1, so a note written in one version is read in the other.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use serde_json::Value as Json_;

use super::super::state::{entity_type, Note, State as Tenant};
use super::read::find_entity;
use super::render::{self, NoteIncludes};
use super::{
    invalid, json_body, page, paged, path_id, Answer, Params, PathParams, NOTE_LIMITS, V2,
};
use crate::{ApiError, AppState};

fn includes(p: &Params) -> Result<NoteIncludes, ApiError> {
    let mut inc = NoteIncludes::default();
    for v in p.all("includes") {
        match v {
            "personsPreview" => inc.persons = true,
            "companiesPreview" => inc.companies = true,
            "opportunitiesPreview" => inc.opportunities = true,
            "repliesCount" => inc.replies_count = true,
            other => {
                return Err(invalid(
                    "includes",
                    format!("`{other}` is not one of companiesPreview, personsPreview, opportunitiesPreview, repliesCount"),
                ))
            }
        }
    }
    Ok(inc)
}

/// The spec's `filter` takes `id=`, `creator.id=`, and `createdAt`/`updatedAt` comparisons;
/// the emulator reads the two equalities and refuses the rest rather than ignore them. [I]
/// Which notes a `filter` keeps.
type NoteFilter = Box<dyn Fn(&Note) -> bool>;

fn filter(p: &Params) -> Result<NoteFilter, ApiError> {
    let Some(f) = p.one("filter").map(str::trim) else {
        return Ok(Box::new(|_| true));
    };
    let parse = |v: &str| {
        v.trim()
            .parse::<i64>()
            .map_err(|_| invalid("filter", format!("`{v}` is not an id")))
    };
    if let Some(v) = f.strip_prefix("creator.id=") {
        let id = parse(v)?;
        return Ok(Box::new(move |n| n.creator_id == id));
    }
    if let Some(v) = f.strip_prefix("id=") {
        let id = parse(v)?;
        return Ok(Box::new(move |n| n.id == id));
    }
    Err(invalid(
        "filter",
        format!("the emulator reads only `id=N` and `creator.id=N` filters, got `{f}`"),
    ))
}

/// A page of root notes (replies are never listed, SPEC) matching `keep`.
fn page_of(s: &AppState, uri: &Uri, p: &Params, keep: &dyn Fn(&Note) -> bool) -> Answer {
    let inc = includes(p)?;
    let only = filter(p)?;
    let total_count = p.flag("totalCount")?;
    let st = s.tenant();
    let notes: Vec<&Note> = st
        .notes
        .values()
        .filter(|n| n.parent_id.is_none() && keep(n) && only(n))
        .collect();
    let pg = page(p, notes.len(), NOTE_LIMITS)?;
    let data = notes[pg.start..pg.end]
        .iter()
        .map(|n| render::note(&st, n, inc))
        .collect();
    Ok(Json(paged(s, uri.path(), p, pg, data, total_count)))
}

/// `GET /v2/notes`.
pub async fn list(State(s): State<AppState>, uri: Uri, q: RawQuery) -> Answer {
    page_of(&s, &uri, &Params::parse(q), &|_| true)
}

/// `GET /v2/{companies|persons|opportunities}/{id}/notes`.
pub async fn of_entity<const ET: i64>(
    State(s): State<AppState>,
    uri: Uri,
    path: PathParams,
    q: RawQuery,
) -> Answer {
    let id = path_id(&path, super::read::id_param(ET))?;
    find_entity(&s.tenant(), ET, id)?;
    page_of(&s, &uri, &Params::parse(q), &move |n| match ET {
        entity_type::PERSON => n.person_ids.contains(&id),
        entity_type::OPPORTUNITY => n.opportunity_ids.contains(&id),
        _ => n.organization_ids.contains(&id),
    })
}

fn find_note(st: &Tenant, id: i64) -> Result<&Note, ApiError> {
    st.notes
        .get(&id)
        .ok_or_else(|| ApiError::not_found(V2, format!("note {id}")))
}

/// `GET /v2/notes/{id}` (a reply too).
pub async fn one(State(s): State<AppState>, path: PathParams, q: RawQuery) -> Answer {
    let p = Params::parse(q);
    let inc = includes(&p)?;
    let id = path_id(&path, "noteId")?;
    let st = s.tenant();
    let n = find_note(&st, id)?;
    Ok(Json(render::note(&st, n, inc)))
}

/// `[{id}]` under `key`, each naming an existing entity; `None` when the key is absent.
fn refs(st: &Tenant, body: &Json_, key: &str, et: i64) -> Result<Option<Vec<i64>>, ApiError> {
    let Some(v) = body.get(key) else {
        return Ok(None);
    };
    let items = v
        .as_array()
        .ok_or_else(|| invalid(key, format!("`{key}` must be an array of `{{\"id\": N}}`")))?;
    let mut ids = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let param = format!("{key}[{i}].id");
        let id = item
            .get("id")
            .and_then(Json_::as_i64)
            .ok_or_else(|| invalid(&param, "an id is required"))?;
        if !st.entity_exists(et, id) {
            return Err(invalid(
                &param,
                format!("{} {id} not found", super::read::noun(et)),
            ));
        }
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(Some(ids))
}

fn html(body: &Json_) -> Result<Option<String>, ApiError> {
    match body.get("content") {
        None => Ok(None),
        Some(c) => c
            .get("html")
            .and_then(Json_::as_str)
            .map(|h| Some(h.to_string()))
            .ok_or_else(|| invalid("content.html", "`content.html` must be a string")),
    }
}

const NEEDS_ONE: &str =
    "an `entities` note needs at least one of `persons`, `companies` or `opportunities`";

/// `POST /v2/notes` (2026): `{type:"entities", content:{html}, persons?, companies?,
/// opportunities?, creator?, createdAt?}` or `{type:"user-reply", content, parent:{id}}`;
/// 201 with the note.
pub async fn create(State(s): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let body = json_body(&body)?;
    let mut st = s.tenant();
    let content =
        html(&body)?.ok_or_else(|| invalid("content.html", "`content.html` is required"))?;
    let creator_id = match body.get("creator") {
        None => st.caller_id(),
        Some(c) => {
            let id = c.get("id").and_then(Json_::as_i64);
            // Notes are written by users: an internal person of the tenant. [I]
            match id.and_then(|id| st.persons.get(&id)) {
                Some(p) if p.kind == 1 => p.id,
                _ => {
                    return Err(invalid(
                        "creator.id",
                        "the creator must be an internal person",
                    ))
                }
            }
        }
    };
    let created_at = match body.get("createdAt") {
        None => Utc::now(),
        Some(v) => {
            let t = v
                .as_str()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&Utc))
                .ok_or_else(|| invalid("createdAt", "`createdAt` must be an ISO 8601 date-time"))?;
            // As in v1: a note cannot be dated in the future (§2.3).
            if t > Utc::now() {
                return Err(invalid("createdAt", "`createdAt` cannot be in the future"));
            }
            t
        }
    };
    let (persons, companies, opportunities, parent_id) =
        match body.get("type").and_then(Json_::as_str) {
            Some("entities") => {
                let persons = refs(&st, &body, "persons", entity_type::PERSON)?.unwrap_or_default();
                let companies =
                    refs(&st, &body, "companies", entity_type::ORGANIZATION)?.unwrap_or_default();
                let opps = refs(&st, &body, "opportunities", entity_type::OPPORTUNITY)?
                    .unwrap_or_default();
                if persons.is_empty() && companies.is_empty() && opps.is_empty() {
                    return Err(invalid("persons", NEEDS_ONE));
                }
                (persons, companies, opps, None)
            }
            Some("user-reply") => {
                let parent = body
                    .pointer("/parent/id")
                    .and_then(Json_::as_i64)
                    .ok_or_else(|| invalid("parent.id", "a reply needs `parent.id`"))?;
                // Replies hang off root notes only. [I]
                match st.notes.get(&parent) {
                    Some(n) if n.parent_id.is_none() => {}
                    _ => {
                        return Err(invalid(
                            "parent.id",
                            format!("note {parent} cannot be replied to"),
                        ))
                    }
                }
                (vec![], vec![], vec![], Some(parent))
            }
            _ => return Err(invalid("type", "`type` must be `entities` or `user-reply`")),
        };
    let id = st.next_id();
    let note = Note {
        id,
        creator_id,
        content,
        // v1's HTML type (§2.1): v2 notes are HTML.
        kind: 2,
        person_ids: persons,
        organization_ids: companies,
        opportunity_ids: opportunities,
        parent_id,
        created_at,
        updated_at: None,
    };
    let answer = render::note(&st, &note, NoteIncludes::default());
    // Webhooks carry v1's resource, whichever version wrote it (affinity-api.md §5).
    let announced = crate::v1::common::note_json(&note);
    st.notes.insert(id, note);
    st.announce("note.created", announced);
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// `POST /v2/notes/{id}` (2026): the content and the association arrays given replace the old
/// ones (§8.6); 204.
pub async fn update(
    State(s): State<AppState>,
    path: PathParams,
    body: Bytes,
) -> Result<Response, ApiError> {
    let id = path_id(&path, "noteId")?;
    let body = json_body(&body)?;
    let mut st = s.tenant();
    let note = find_note(&st, id)?.clone();
    let content = html(&body)?;
    let persons = refs(&st, &body, "persons", entity_type::PERSON)?;
    let companies = refs(&st, &body, "companies", entity_type::ORGANIZATION)?;
    let opps = refs(&st, &body, "opportunities", entity_type::OPPORTUNITY)?;
    let mut n = note;
    if n.parent_id.is_some() && (persons.is_some() || companies.is_some() || opps.is_some()) {
        // A reply follows its parent's associations. [I]
        return Err(invalid("persons", "a reply has no associations of its own"));
    }
    if let Some(c) = content {
        n.content = c;
    }
    n.person_ids = persons.unwrap_or(n.person_ids);
    n.organization_ids = companies.unwrap_or(n.organization_ids);
    n.opportunity_ids = opps.unwrap_or(n.opportunity_ids);
    if n.parent_id.is_none()
        && n.person_ids.is_empty()
        && n.organization_ids.is_empty()
        && n.opportunity_ids.is_empty()
    {
        return Err(invalid("persons", NEEDS_ONE));
    }
    n.updated_at = Some(Utc::now());
    let announced = crate::v1::common::note_json(&n);
    st.notes.insert(id, n);
    st.announce("note.updated", announced);
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `DELETE /v2/notes/{id}` (2026): 204. As in v1, only the creator may delete a note (§2.3);
/// its replies go with it. [I]
pub async fn delete(State(s): State<AppState>, path: PathParams) -> Result<Response, ApiError> {
    let id = path_id(&path, "noteId")?;
    let mut st = s.tenant();
    let creator = find_note(&st, id)?.creator_id;
    if creator != st.caller_id() {
        return Err(ApiError::new(
            V2,
            StatusCode::FORBIDDEN,
            "only the creator of a note can delete it",
        ));
    }
    let announced = st.notes.get(&id).map(crate::v1::common::note_json);
    st.notes
        .retain(|_, n| n.id != id && n.parent_id != Some(id));
    if let Some(body) = announced {
        st.announce("note.deleted", body);
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
