//! Notes and interactions (affinity-api.md §2.3 "Notes", "Other endpoints"; §2.2).

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::{json, Value as Json_};

use super::common::*;
use crate::state::{entity_type, v1_time, Interaction, Note, State as Tenant};
use crate::{ApiError, AppState};

// ---------------------------------------------------------------- notes

/// `GET /notes[?person_id&organization_id&opportunity_id&creator_id]`: paginated as
/// `{notes, next_page_token}`, the live shape, not the documented bare array (§2.2, fixture
/// `notes_all.json`).
pub async fn all(State(s): State<AppState>, RawQuery(raw): RawQuery) -> Answer {
    let q = Q::parse(raw);
    let p = Paging::from(&q, 500)?;
    let person = q.int("person_id")?;
    let org = q.int("organization_id")?;
    let opp = q.int("opportunity_id")?;
    let creator = q.int("creator_id")?;
    let st = s.tenant();
    if let Some(id) = person {
        check_entity(&st, entity_type::PERSON, id)?;
    }
    if let Some(id) = org {
        check_entity(&st, entity_type::ORGANIZATION, id)?;
    }
    if let Some(id) = opp {
        check_entity(&st, entity_type::OPPORTUNITY, id)?;
    }
    let hits: Vec<Json_> = st
        .notes
        .values()
        .filter(|n| person.is_none_or(|id| n.person_ids.contains(&id)))
        .filter(|n| org.is_none_or(|id| n.organization_ids.contains(&id)))
        .filter(|n| opp.is_none_or(|id| n.opportunity_ids.contains(&id)))
        .filter(|n| creator.is_none_or(|id| n.creator_id == id))
        .map(note_json)
        .collect();
    let (page, next) = p.page(hits);
    ok(json!({ "notes": page, "next_page_token": next }))
}

fn note(st: &Tenant, id: i64) -> Result<&Note, ApiError> {
    st.notes
        .get(&id)
        .ok_or_else(|| not_found(format!("note {id}")))
}

pub async fn one(State(s): State<AppState>, P(id): P<i64>) -> Answer {
    let st = s.tenant();
    ok(note_json(note(&st, id)?))
}

#[derive(Deserialize)]
struct NewNote {
    content: String,
    #[serde(default)]
    person_ids: Vec<i64>,
    #[serde(default)]
    organization_ids: Vec<i64>,
    #[serde(default)]
    opportunity_ids: Vec<i64>,
    parent_id: Option<i64>,
    #[serde(rename = "type")]
    kind: Option<i64>,
    creator_id: Option<i64>,
    created_at: Option<String>,
}

/// `POST /notes`: at least one entity id or a `parent_id`; on a reply the entity ids are
/// ignored. `type` is 0 or 2; `created_at` may not be in the future.
pub async fn create(State(s): State<AppState>, b: Bytes) -> Answer {
    let nn: NewNote = body(&b)?;
    let mut st = s.tenant();
    let kind = nn.kind.unwrap_or(0);
    if kind != 0 && kind != 2 {
        return Err(invalid(
            "type",
            format!("notes are created with type 0 or 2, not {kind}"),
        ));
    }
    if nn.content.trim().is_empty() {
        return Err(invalid("content", "`content` is required"));
    }
    let created_at = match &nn.created_at {
        None => Utc::now(),
        Some(t) => {
            let t = DateTime::parse_from_rfc3339(t)
                .map_err(|_| invalid("created_at", format!("`{t}` is not an ISO 8601 datetime")))?
                .with_timezone(&Utc);
            if t > Utc::now() {
                return Err(invalid(
                    "created_at",
                    "`created_at` cannot be in the future",
                ));
            }
            t
        }
    };
    let creator = nn.creator_id.unwrap_or(st.caller_id());
    match st.persons.get(&creator) {
        Some(p) if p.kind == 1 => {}
        _ => {
            return Err(invalid(
                "creator_id",
                format!("{creator} is not an internal person"),
            ))
        }
    }
    let (persons, orgs, opps) = match nn.parent_id {
        Some(parent) => {
            if !st.notes.contains_key(&parent) {
                return Err(invalid("parent_id", format!("note {parent} not found")));
            }
            (vec![], vec![], vec![])
        }
        None => {
            if nn.person_ids.is_empty()
                && nn.organization_ids.is_empty()
                && nn.opportunity_ids.is_empty()
            {
                return Err(unprocessable(
                    "a note needs one of `person_ids`, `organization_ids`, `opportunity_ids` or `parent_id`",
                ));
            }
            check_ids(&st, entity_type::PERSON, &nn.person_ids, "person_ids")?;
            check_ids(
                &st,
                entity_type::ORGANIZATION,
                &nn.organization_ids,
                "organization_ids",
            )?;
            check_ids(
                &st,
                entity_type::OPPORTUNITY,
                &nn.opportunity_ids,
                "opportunity_ids",
            )?;
            (nn.person_ids, nn.organization_ids, nn.opportunity_ids)
        }
    };
    let id = st.next_id();
    let n = Note {
        id,
        creator_id: creator,
        content: nn.content,
        kind,
        person_ids: persons,
        organization_ids: orgs,
        opportunity_ids: opps,
        parent_id: nn.parent_id,
        created_at,
        updated_at: None,
    };
    let v = note_json(&n);
    st.notes.insert(id, n);
    st.announce("note.created", v.clone());
    created(v)
}

#[derive(Deserialize)]
struct NoteUpdate {
    content: String,
}

/// `PUT /notes/{id} {content}`: refused for email-derived notes (type 1) and AI notetaker
/// notes (type 3). The emulator keeps no mentions, so that refusal never applies.
pub async fn update(State(s): State<AppState>, P(id): P<i64>, b: Bytes) -> Answer {
    let mut st = s.tenant();
    let kind = note(&st, id)?.kind;
    let nu: NoteUpdate = body(&b)?;
    if kind == 1 || kind == 3 {
        return Err(invalid(
            "note_id",
            format!("note {id} was not written by hand and cannot be edited"),
        ));
    }
    if nu.content.trim().is_empty() {
        return Err(invalid("content", "`content` cannot be empty"));
    }
    let n = st.notes.get_mut(&id).expect("checked above");
    n.content = nu.content;
    n.updated_at = Some(Utc::now());
    let v = note_json(n);
    st.announce("note.updated", v.clone());
    ok(v)
}

/// `DELETE /notes/{id}`: for the note's creator only; the status for others is undocumented:
/// 403 [I].
pub async fn delete(State(s): State<AppState>, P(id): P<i64>) -> Answer {
    let mut st = s.tenant();
    if note(&st, id)?.creator_id != st.caller_id() {
        return Err(crate::ApiError::new(
            crate::Version::V1,
            axum::http::StatusCode::FORBIDDEN,
            format!("only the creator of note {id} can delete it"),
        ));
    }
    if let Some(n) = st.notes.remove(&id) {
        let v = note_json(&n);
        st.announce("note.deleted", v);
    }
    // Replies go with their note [I].
    st.notes.retain(|_, n| n.parent_id != Some(id));
    success()
}

// ---------------------------------------------------------------- interactions

/// The key of `GET /interactions`' array: `emails` for type 3 (§2.2); the others are
/// undocumented [I]: `events` for meetings, `calls`, `chat_messages`.
fn interactions_key(kind: i64) -> &'static str {
    match kind {
        0 => "events",
        1 => "calls",
        2 => "chat_messages",
        _ => "emails",
    }
}

/// An interaction [I]: the documented enums (`type`, `direction`, `logging_type`) with the
/// people it involved.
fn interaction_json(st: &Tenant, i: &Interaction) -> Json_ {
    json!({
        "id": i.id,
        "type": i.kind,
        "date": v1_time(i.date),
        "subject": i.subject,
        "content": i.content,
        "direction": i.direction,
        "logging_type": if i.creator_id.is_some() { 1 } else { 0 },
        "manual_creator_id": i.creator_id,
        "person_ids": i.person_ids,
        "persons": i.person_ids.iter().filter_map(|p| st.persons.get(p)).map(person_json).collect::<Vec<_>>(),
        "organization_ids": i.organization_ids,
        "opportunity_ids": i.opportunity_ids,
        "notes": [],
    })
}

fn interaction_type(v: Option<i64>) -> Result<i64, ApiError> {
    match v {
        Some(t @ 0..=3) => Ok(t),
        Some(t) => Err(invalid("type", format!("unknown interaction type {t}"))),
        None => Err(invalid("type", "`type` is required")),
    }
}

/// `GET /interactions?type&start_time&end_time` plus exactly one of `person_id`,
/// `organization_id`, `opportunity_id`; the window is at most a year (§2.2). Pages of at
/// most 100.
pub async fn interactions(State(s): State<AppState>, RawQuery(raw): RawQuery) -> Answer {
    let q = Q::parse(raw);
    let kind = interaction_type(q.int("type")?)?;
    let start = q
        .time("start_time")?
        .ok_or_else(|| invalid("start_time", "`start_time` is required"))?;
    let end = q
        .time("end_time")?
        .ok_or_else(|| invalid("end_time", "`end_time` is required"))?;
    if end <= start {
        return Err(invalid("end_time", "`end_time` must be after `start_time`"));
    }
    if end - start > Duration::days(365) {
        return Err(invalid(
            "end_time",
            "`start_time` and `end_time` can be at most one year apart",
        ));
    }
    let (key, id) = q.exactly_one(&["person_id", "organization_id", "opportunity_id"])?;
    let p = Paging::from(&q, 100)?;
    let st = s.tenant();
    let persons_of_org = match key {
        "person_id" => {
            check_entity(&st, entity_type::PERSON, id)?;
            vec![]
        }
        "organization_id" => check_org(&st, id)?,
        _ => {
            check_entity(&st, entity_type::OPPORTUNITY, id)?;
            vec![]
        }
    };
    let hits: Vec<Json_> = st
        .interactions
        .values()
        .filter(|i| i.kind == kind && i.date >= start && i.date < end)
        .filter(|i| match key {
            "person_id" => i.person_ids.contains(&id),
            // An organization's interactions include its people's [I].
            "organization_id" => {
                i.organization_ids.contains(&id)
                    || i.person_ids.iter().any(|p| persons_of_org.contains(p))
            }
            _ => i.opportunity_ids.contains(&id),
        })
        .map(|i| interaction_json(&st, i))
        .collect();
    let (page, next) = p.page(hits);
    let mut out = serde_json::Map::new();
    out.insert(interactions_key(kind).to_string(), Json_::Array(page));
    out.insert("next_page_token".into(), json!(next));
    ok(Json_::Object(out))
}

fn check_org(st: &Tenant, id: i64) -> Result<Vec<i64>, ApiError> {
    Ok(organization(st, id)?.person_ids.clone())
}

/// The interaction `id` of `type` (ids are per type in Affinity, so the type is required).
fn interaction_of(st: &Tenant, id: i64, kind: i64) -> Result<Interaction, ApiError> {
    st.interactions
        .get(&id)
        .filter(|i| i.kind == kind)
        .cloned()
        .ok_or_else(|| not_found(format!("interaction {id}")))
}

/// `GET /interactions/{id}?type=`.
pub async fn interaction(
    State(s): State<AppState>,
    P(id): P<i64>,
    RawQuery(raw): RawQuery,
) -> Answer {
    let q = Q::parse(raw);
    let kind = interaction_type(q.int("type")?)?;
    let st = s.tenant();
    let i = interaction_of(&st, id, kind)?;
    ok(interaction_json(&st, &i))
}

#[derive(Deserialize)]
struct NewInteraction {
    #[serde(rename = "type")]
    kind: i64,
    #[serde(default)]
    person_ids: Vec<i64>,
    content: Option<String>,
    date: String,
    direction: Option<i64>,
}

fn parse_time(param: &str, s: &str) -> Result<DateTime<Utc>, ApiError> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|_| invalid(param, format!("`{s}` is not an ISO 8601 datetime")))
}

fn check_direction(d: Option<i64>) -> Result<(), ApiError> {
    match d {
        None | Some(0) | Some(1) => Ok(()),
        Some(d) => Err(invalid(
            "direction",
            format!("direction is 0 or 1, not {d}"),
        )),
    }
}

/// `POST /interactions {type, person_ids, content, date, direction?}`: meetings, calls and
/// chat messages are logged by hand; emails are not [I].
pub async fn create_interaction(State(s): State<AppState>, b: Bytes) -> Answer {
    let ni: NewInteraction = body(&b)?;
    let kind = interaction_type(Some(ni.kind))?;
    if kind == 3 {
        return Err(invalid("type", "emails cannot be logged by hand"));
    }
    check_direction(ni.direction)?;
    let date = parse_time("date", &ni.date)?;
    let mut st = s.tenant();
    if ni.person_ids.is_empty() {
        return Err(invalid("person_ids", "an interaction needs `person_ids`"));
    }
    check_ids(&st, entity_type::PERSON, &ni.person_ids, "person_ids")?;
    let id = st.next_id();
    let i = Interaction {
        id,
        kind,
        date,
        person_ids: ni.person_ids,
        organization_ids: vec![],
        opportunity_ids: vec![],
        direction: ni.direction,
        subject: None,
        content: ni.content,
        creator_id: Some(st.caller_id()),
    };
    let v = interaction_json(&st, &i);
    st.interactions.insert(id, i);
    created(v)
}

#[derive(Deserialize)]
struct InteractionUpdate {
    #[serde(rename = "type")]
    kind: Option<i64>,
    person_ids: Option<Vec<i64>>,
    content: Option<String>,
    date: Option<String>,
    direction: Option<i64>,
}

/// `PUT /interactions/{id} {type, person_ids?, content?, date?, direction?}`; `type` may come
/// in the query instead.
pub async fn update_interaction(
    State(s): State<AppState>,
    P(id): P<i64>,
    RawQuery(raw): RawQuery,
    b: Bytes,
) -> Answer {
    let q = Q::parse(raw);
    let iu: InteractionUpdate = body(&b)?;
    let kind = interaction_type(iu.kind.or(q.int("type")?))?;
    check_direction(iu.direction)?;
    let date = iu
        .date
        .as_deref()
        .map(|d| parse_time("date", d))
        .transpose()?;
    let mut st = s.tenant();
    let mut i = interaction_of(&st, id, kind)?;
    if let Some(p) = iu.person_ids {
        if p.is_empty() {
            return Err(invalid("person_ids", "an interaction needs `person_ids`"));
        }
        check_ids(&st, entity_type::PERSON, &p, "person_ids")?;
        i.person_ids = p;
    }
    if let Some(c) = iu.content {
        i.content = Some(c);
    }
    if let Some(d) = date {
        i.date = d;
    }
    if iu.direction.is_some() {
        i.direction = iu.direction;
    }
    let v = interaction_json(&st, &i);
    st.interactions.insert(id, i);
    ok(v)
}

/// `DELETE /interactions/{id}?type=`.
pub async fn delete_interaction(
    State(s): State<AppState>,
    P(id): P<i64>,
    RawQuery(raw): RawQuery,
) -> Answer {
    let q = Q::parse(raw);
    let kind = interaction_type(q.int("type")?)?;
    let mut st = s.tenant();
    interaction_of(&st, id, kind)?;
    st.interactions.remove(&id);
    success()
}
