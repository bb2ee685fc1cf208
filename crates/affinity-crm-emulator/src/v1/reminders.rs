//! v1 reminders, entity files and relationship strengths (affinity-api.md §2.3 "Other
//! endpoints", §2.2 paging).

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value as Json_};

use super::common::*;
use crate::state::{entity_type, v1_time, EntityFile, Reminder, State as Tenant};
use crate::{ApiError, AppState};

/// The v1 reminder: the enum codes of §2.1 (`type` 0 one-time, 1 recurring; `reset_type`;
/// `status` 0 completed, 1 active, 2 overdue) and the entity it is on [I: the keys follow the
/// v1 docs' resource].
pub fn reminder_json(r: &Reminder) -> Json_ {
    json!({
        "id": r.id,
        "type": r.kind,
        "content": r.content,
        "due_date": v1_time(r.due_date),
        "reset_type": r.reset_type,
        "reminder_days": r.reminder_days,
        "status": r.status(Utc::now()),
        "owner_id": r.owner_id,
        "creator_id": r.creator_id,
        "completer_id": r.completer_id,
        "person_id": r.person_id,
        "organization_id": r.organization_id,
        "opportunity_id": r.opportunity_id,
        "created_at": v1_time(r.created_at),
        "completed_at": r.completed_at.map(v1_time),
    })
}

fn find_reminder(st: &Tenant, id: i64) -> Result<Reminder, ApiError> {
    st.reminders
        .get(&id)
        .cloned()
        .ok_or_else(|| not_found(format!("reminder {id}")))
}

/// `GET /reminders[?person_id|organization_id|opportunity_id&creator_id&owner_id&type&status]`:
/// `{reminders, next_page_token}` (§2.2).
pub async fn all(State(s): State<AppState>, RawQuery(raw): RawQuery) -> Answer {
    let q = Q::parse(raw);
    let p = Paging::from(&q, 500)?;
    let target = q.at_most_one(&["person_id", "organization_id", "opportunity_id"])?;
    let creator = q.int("creator_id")?;
    let owner = q.int("owner_id")?;
    let kind = q.int("type")?;
    let status = q.int("status")?;
    let st = s.tenant();
    let now = Utc::now();
    let hits: Vec<Json_> = st
        .reminders
        .values()
        .filter(|r| match target {
            Some(("person_id", id)) => r.person_id == Some(id),
            Some(("organization_id", id)) => r.organization_id == Some(id),
            Some((_, id)) => r.opportunity_id == Some(id),
            None => true,
        })
        .filter(|r| creator.is_none_or(|c| r.creator_id == c))
        .filter(|r| owner.is_none_or(|o| r.owner_id == o))
        .filter(|r| kind.is_none_or(|k| r.kind == k))
        .filter(|r| status.is_none_or(|x| r.status(now) == x))
        .map(reminder_json)
        .collect();
    let (page, next) = p.page(hits);
    ok(json!({ "reminders": page, "next_page_token": next }))
}

/// `GET /reminders/{id}`.
pub async fn one(State(s): State<AppState>, P(id): P<i64>) -> Answer {
    ok(reminder_json(&find_reminder(&s.tenant(), id)?))
}

#[derive(Deserialize)]
struct NewReminder {
    owner_id: i64,
    #[serde(rename = "type")]
    kind: i64,
    content: Option<String>,
    due_date: Option<String>,
    reset_type: Option<i64>,
    reminder_days: Option<i64>,
    person_id: Option<i64>,
    organization_id: Option<i64>,
    opportunity_id: Option<i64>,
}

fn time(param: &str, v: &str) -> Result<DateTime<Utc>, ApiError> {
    DateTime::parse_from_rfc3339(v)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|_| invalid(param, format!("`{v}` is not an ISO 8601 datetime")))
}

/// `POST /reminders {owner_id, type, content?, due_date (one-time), reset_type and
/// reminder_days (recurring), one of person_id|organization_id|opportunity_id}`.
pub async fn create(State(s): State<AppState>, b: Bytes) -> Answer {
    let nr: NewReminder = body(&b)?;
    let mut st = s.tenant();
    match st.persons.get(&nr.owner_id) {
        Some(p) if p.kind == 1 => {}
        _ => return Err(invalid("owner_id", "the owner must be an internal person")),
    }
    let targets = [
        (entity_type::PERSON, nr.person_id),
        (entity_type::ORGANIZATION, nr.organization_id),
        (entity_type::OPPORTUNITY, nr.opportunity_id),
    ];
    let given: Vec<(i64, i64)> = targets
        .iter()
        .filter_map(|(k, id)| id.map(|id| (*k, id)))
        .collect();
    let [(kind, id)] = given.as_slice() else {
        return Err(unprocessable(
            "exactly one of `person_id`, `organization_id`, `opportunity_id` is required",
        ));
    };
    check_entity(&st, *kind, *id)?;
    let now = Utc::now();
    let (due, reset, days) = match nr.kind {
        0 => {
            let due = nr
                .due_date
                .as_deref()
                .ok_or_else(|| invalid("due_date", "a one-time reminder needs `due_date`"))?;
            (time("due_date", due)?, None, None)
        }
        1 => {
            let days = nr.reminder_days.filter(|d| *d > 0).ok_or_else(|| {
                invalid(
                    "reminder_days",
                    "a recurring reminder needs `reminder_days`",
                )
            })?;
            let reset = nr.reset_type.unwrap_or(0);
            if !(0..=2).contains(&reset) {
                return Err(invalid("reset_type", "`reset_type` is 0, 1 or 2"));
            }
            (now + chrono::Duration::days(days), Some(reset), Some(days))
        }
        k => return Err(invalid("type", format!("reminder type is 0 or 1, not {k}"))),
    };
    let rid = st.next_id();
    let creator = st.caller_id();
    let r = Reminder {
        id: rid,
        kind: nr.kind,
        content: nr.content,
        due_date: due,
        reset_type: reset,
        reminder_days: days,
        owner_id: nr.owner_id,
        creator_id: creator,
        person_id: nr.person_id,
        organization_id: nr.organization_id,
        opportunity_id: nr.opportunity_id,
        created_at: now,
        updated_at: None,
        completed_at: None,
        completer_id: None,
    };
    let v = reminder_json(&r);
    st.reminders.insert(rid, r);
    st.announce("reminder.created", v.clone());
    created(v)
}

#[derive(Deserialize)]
struct ReminderUpdate {
    owner_id: Option<i64>,
    content: Option<String>,
    due_date: Option<String>,
    reset_type: Option<i64>,
    reminder_days: Option<i64>,
    is_completed: Option<bool>,
}

/// `PUT /reminders/{id} {owner_id?, content?, due_date?, reset_type?, reminder_days?,
/// is_completed?}`.
pub async fn update(State(s): State<AppState>, P(id): P<i64>, b: Bytes) -> Answer {
    let ru: ReminderUpdate = body(&b)?;
    let mut st = s.tenant();
    let mut r = find_reminder(&st, id)?;
    if let Some(o) = ru.owner_id {
        match st.persons.get(&o) {
            Some(p) if p.kind == 1 => r.owner_id = o,
            _ => return Err(invalid("owner_id", "the owner must be an internal person")),
        }
    }
    if let Some(c) = ru.content {
        r.content = Some(c);
    }
    if let Some(d) = ru.due_date {
        r.due_date = time("due_date", &d)?;
    }
    if ru.reset_type.is_some() {
        r.reset_type = ru.reset_type;
    }
    if ru.reminder_days.is_some() {
        r.reminder_days = ru.reminder_days;
    }
    match ru.is_completed {
        Some(true) => {
            r.completed_at = Some(Utc::now());
            r.completer_id = Some(st.caller_id());
        }
        Some(false) => {
            r.completed_at = None;
            r.completer_id = None;
        }
        None => {}
    }
    r.updated_at = Some(Utc::now());
    let v = reminder_json(&r);
    st.reminders.insert(id, r);
    st.announce("reminder.updated", v.clone());
    ok(v)
}

/// `DELETE /reminders/{id}`.
pub async fn delete(State(s): State<AppState>, P(id): P<i64>) -> Answer {
    let mut st = s.tenant();
    let r = find_reminder(&st, id)?;
    st.reminders.remove(&id);
    st.announce("reminder.deleted", reminder_json(&r));
    success()
}

// ---------------------------------------------------------------- entity files

/// The v1 entity file (the docs' resource) [I].
pub fn file_json(f: &EntityFile) -> Json_ {
    json!({
        "id": f.id,
        "name": f.name,
        "size": f.content.len(),
        "person_id": f.person_id,
        "organization_id": f.organization_id,
        "opportunity_id": f.opportunity_id,
        "uploader_id": f.uploader_id,
        "created_at": v1_time(f.created_at),
    })
}

/// `GET /entity-files[?person_id|organization_id|opportunity_id]`: `{entity_files,
/// next_page_token}` (§2.2).
pub async fn files(State(s): State<AppState>, RawQuery(raw): RawQuery) -> Answer {
    let q = Q::parse(raw);
    let p = Paging::from(&q, 500)?;
    let target = q.at_most_one(&["person_id", "organization_id", "opportunity_id"])?;
    let st = s.tenant();
    let hits: Vec<Json_> = st
        .files
        .values()
        .filter(|f| match target {
            Some(("person_id", id)) => f.person_id == Some(id),
            Some(("organization_id", id)) => f.organization_id == Some(id),
            Some((_, id)) => f.opportunity_id == Some(id),
            None => true,
        })
        .map(file_json)
        .collect();
    let (page, next) = p.page(hits);
    ok(json!({ "entity_files": page, "next_page_token": next }))
}

fn find_file(st: &Tenant, id: i64) -> Result<EntityFile, ApiError> {
    st.files
        .get(&id)
        .cloned()
        .ok_or_else(|| not_found(format!("entity file {id}")))
}

/// `GET /entity-files/{id}`.
pub async fn file(State(s): State<AppState>, P(id): P<i64>) -> Answer {
    ok(file_json(&find_file(&s.tenant(), id)?))
}

/// `GET /entity-files/download/{id}`: Affinity redirects to storage (§2.3); the emulator
/// serves the content itself, as the storage would, with the file's name [I].
pub async fn download(State(s): State<AppState>, P(id): P<i64>) -> Result<Response, ApiError> {
    let f = find_file(&s.tenant(), id)?;
    let mime = crate::v2::mime_of(&f.name).unwrap_or("application/octet-stream");
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", f.name.replace('"', "")),
            ),
        ],
        f.content,
    )
        .into_response())
}

/// One part of a `multipart/form-data` body: its field name, file name and bytes.
struct Part {
    name: String,
    filename: Option<String>,
    data: Vec<u8>,
}

/// A small `multipart/form-data` reader (RFC 7578): enough for uploads of a few files; the
/// emulator takes no dependency for it.
fn multipart(headers: &HeaderMap, body: &[u8]) -> Result<Vec<Part>, ApiError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let boundary = ct
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))
        .map(|b| b.trim_matches('"').to_string())
        .ok_or_else(|| unprocessable("an upload is a `multipart/form-data` body"))?;
    let delim = format!("--{boundary}").into_bytes();
    let mut parts = Vec::new();
    let chunks = split(body, &delim);
    for chunk in chunks.into_iter().skip(1) {
        if chunk.starts_with(b"--") {
            break;
        }
        let chunk = chunk.strip_prefix(b"\r\n").unwrap_or(chunk);
        let Some(at) = find(chunk, b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&chunk[..at]).into_owned();
        let mut data = chunk[at + 4..].to_vec();
        if data.ends_with(b"\r\n") {
            data.truncate(data.len() - 2);
        }
        let disposition = head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition"))
            .unwrap_or_default();
        let attr = |key: &str| {
            disposition.split(';').find_map(|p| {
                p.trim()
                    .strip_prefix(&format!("{key}="))
                    .map(|v| v.trim_matches('"').to_string())
            })
        };
        parts.push(Part {
            name: attr("name").unwrap_or_default(),
            filename: attr("filename"),
            data,
        });
    }
    Ok(parts)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn split<'a>(hay: &'a [u8], delim: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = hay;
    while let Some(at) = find(rest, delim) {
        out.push(&rest[..at]);
        rest = &rest[at + delim.len()..];
    }
    out.push(rest);
    out
}

/// `POST /entity-files`: multipart `file` or `files[]`, plus one of `person_id`,
/// `organization_id`, `opportunity_id` (as a form field or in the query) → `{"success": true}`
/// (§2.3).
pub async fn upload(
    State(s): State<AppState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    b: Bytes,
) -> Answer {
    let parts = multipart(&headers, &b)?;
    let mut q = Q::parse(raw);
    for p in parts.iter().filter(|p| p.filename.is_none()) {
        q.0.push((
            p.name.clone(),
            String::from_utf8_lossy(&p.data).into_owned(),
        ));
    }
    let (key, id) = q.exactly_one(&["person_id", "organization_id", "opportunity_id"])?;
    let files: Vec<&Part> = parts
        .iter()
        .filter(|p| p.filename.is_some() && (p.name == "file" || p.name == "files[]"))
        .collect();
    if files.is_empty() {
        return Err(invalid(
            "file",
            "an upload needs a `file` or `files[]` part",
        ));
    }
    let mut st = s.tenant();
    let kind = match key {
        "person_id" => entity_type::PERSON,
        "organization_id" => entity_type::ORGANIZATION,
        _ => entity_type::OPPORTUNITY,
    };
    check_entity(&st, kind, id)?;
    for part in files {
        let fid = st.next_id();
        let content = match String::from_utf8(part.data.clone()) {
            Ok(t) => t,
            // Binary content is kept as base64 text [I].
            Err(_) => base64::engine::general_purpose::STANDARD.encode(&part.data),
        };
        let f = EntityFile {
            id: fid,
            name: part.filename.clone().unwrap_or_default(),
            content,
            person_id: (kind == entity_type::PERSON).then_some(id),
            organization_id: (kind == entity_type::ORGANIZATION).then_some(id),
            opportunity_id: (kind == entity_type::OPPORTUNITY).then_some(id),
            uploader_id: st.caller_id(),
            created_at: Utc::now(),
        };
        let v = file_json(&f);
        st.files.insert(fid, f);
        st.announce("file.created", v);
    }
    ok(json!({ "success": true }))
}

// ---------------------------------------------------------------- relationship strengths

/// `GET /relationships-strengths?external_id=&internal_id?`: a bare array of
/// `{internal_id, external_id, strength}` (§2.3); strengths as v2's relationships give them.
pub async fn strengths(State(s): State<AppState>, RawQuery(raw): RawQuery) -> Answer {
    let q = Q::parse(raw);
    let external = q
        .int("external_id")?
        .ok_or_else(|| invalid("external_id", "`external_id` is required"))?;
    let internal = q.int("internal_id")?;
    let st = s.tenant();
    person(&st, external)?;
    let out: Vec<Json_> = crate::v2::relationships_of(&st, &[external])
        .into_iter()
        .filter(|(u, _, _)| internal.is_none_or(|i| i == *u))
        .map(|(u, e, strength)| json!({ "internal_id": u, "external_id": e, "strength": strength }))
        .collect();
    ok(Json_::Array(out))
}
