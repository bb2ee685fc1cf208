//! v2 interactions (affinity-api.md §3.4 "Other"): `/v2/emails`, `/v2/calls`, `/v2/meetings`
//! (and one meeting), `/v2/chat-messages`, read from the tenant's interactions (v1 type 3, 1,
//! 0 and 2), and the people around them: `/v2/users` and the relationships of a company or a
//! person.

use axum::extract::{RawQuery, State};
use axum::http::Uri;
use axum::Json;
use serde_json::{json, Value as Json_};

use super::super::state::{entity_type, v2_time, Interaction, Person, State as Tenant};
use super::read::find_entity;
use super::render::person_data;
use super::{invalid, page, paged, path_id, Answer, Params, PathParams, LIMITS, V2};
use crate::{ApiError, AppState};

/// The `filter` these routes take: `person.id=N`, `company.id=N` or `opportunity.id=N`
/// (Affinity's filters are richer; the emulator reads these and refuses the rest rather than
/// ignore them) [I].
/// Which interactions a `filter` keeps.
type Involves = Box<dyn Fn(&Interaction) -> bool>;

fn involves(st: &Tenant, p: &Params) -> Result<Involves, ApiError> {
    let Some(f) = p.one("filter").map(str::trim) else {
        return Ok(Box::new(|_| true));
    };
    let parse = |v: &str| {
        v.trim()
            .parse::<i64>()
            .map_err(|_| invalid("filter", format!("`{v}` is not an id")))
    };
    if let Some(v) = f.strip_prefix("person.id=") {
        let id = parse(v)?;
        return Ok(Box::new(move |i| i.person_ids.contains(&id)));
    }
    if let Some(v) = f.strip_prefix("company.id=") {
        let id = parse(v)?;
        let persons = st
            .organizations
            .get(&id)
            .map(|o| o.person_ids.clone())
            .unwrap_or_default();
        return Ok(Box::new(move |i| {
            i.organization_ids.contains(&id) || i.person_ids.iter().any(|p| persons.contains(p))
        }));
    }
    if let Some(v) = f.strip_prefix("opportunity.id=") {
        let id = parse(v)?;
        return Ok(Box::new(move |i| i.opportunity_ids.contains(&id)));
    }
    Err(invalid(
        "filter",
        format!("the emulator reads only `person.id=`, `company.id=` and `opportunity.id=` filters, got `{f}`"),
    ))
}

fn attendee(st: &Tenant, id: i64) -> Json_ {
    let email = st.persons.get(&id).and_then(Person::primary_email);
    json!({ "emailAddress": email, "person": person_data(st, id) })
}

fn attendees(st: &Tenant, ids: &[i64]) -> Json_ {
    let data: Vec<Json_> = ids.iter().take(100).map(|id| attendee(st, *id)).collect();
    json!({ "data": data, "totalCount": ids.len() })
}

/// One interaction in v2's shape for its type. Logged-by-hand ones (a creator) are `manual`,
/// the others `automated` (emails always are) [I]. Meetings and calls last an hour [I].
fn interaction_json(st: &Tenant, i: &Interaction) -> Json_ {
    let at = v2_time(i.date);
    let creator = i.creator_id.map(|c| attendee(st, c));
    let logging = if i.creator_id.is_some() {
        "manual"
    } else {
        "automated"
    };
    let direction = if i.direction == Some(1) {
        "received"
    } else {
        "sent"
    };
    match i.kind {
        3 => {
            let (from, to): (i64, Vec<i64>) = match i.direction {
                Some(1) => (
                    i.person_ids.first().copied().unwrap_or(st.user.id),
                    vec![st.user.id],
                ),
                _ => (st.user.id, i.person_ids.clone()),
            };
            json!({
                "id": i.id, "subject": i.subject, "sentAt": at, "direction": direction,
                "loggingType": "automated", "from": attendee(st, from),
                "toParticipantsPreview": attendees(st, &to),
                "ccParticipantsPreview": attendees(st, &[]),
                "createdAt": at, "updatedAt": null,
            })
        }
        2 => {
            let participants: Vec<Json_> = i
                .person_ids
                .iter()
                .take(100)
                .map(|p| person_data(st, *p))
                .collect();
            json!({
                "id": i.id, "sentAt": at, "direction": direction, "loggingType": "manual",
                "creator": person_data(st, i.creator_id.unwrap_or(st.user.id)),
                "participantsPreview": { "data": participants, "totalCount": i.person_ids.len() },
                "createdAt": at, "updatedAt": null,
            })
        }
        kind => {
            let end = v2_time(i.date + chrono::Duration::hours(1));
            let mut v = json!({
                "id": i.id, "title": i.subject.clone().or_else(|| i.content.clone()),
                "allDay": false, "startTime": at, "endTime": end, "loggingType": logging,
                "creator": creator, "attendeesPreview": attendees(st, &i.person_ids),
                "createdAt": at, "updatedAt": null,
            });
            if kind == 0 {
                v["organizer"] = creator.unwrap_or_else(|| attendee(st, st.user.id));
            } else {
                // Calls are logged by hand only (`loggingType` is `manual` in the spec).
                v["loggingType"] = json!("manual");
            }
            v
        }
    }
}

fn of_kind(s: &AppState, uri: &Uri, q: RawQuery, kind: i64) -> Answer {
    let p = Params::parse(q);
    let st = s.tenant();
    let keep = involves(&st, &p)?;
    let all: Vec<&Interaction> = st
        .interactions
        .values()
        .filter(|i| i.kind == kind && keep(i))
        .collect();
    let pg = page(&p, all.len(), LIMITS)?;
    let data = all[pg.start..pg.end]
        .iter()
        .map(|i| interaction_json(&st, i))
        .collect();
    Ok(Json(paged(s, uri.path(), &p, pg, data, false)))
}

/// `GET /v2/emails`.
pub async fn emails(State(s): State<AppState>, uri: Uri, q: RawQuery) -> Answer {
    of_kind(&s, &uri, q, 3)
}

/// `GET /v2/calls`.
pub async fn calls(State(s): State<AppState>, uri: Uri, q: RawQuery) -> Answer {
    of_kind(&s, &uri, q, 1)
}

/// `GET /v2/meetings`.
pub async fn meetings(State(s): State<AppState>, uri: Uri, q: RawQuery) -> Answer {
    of_kind(&s, &uri, q, 0)
}

/// `GET /v2/chat-messages`.
pub async fn chat_messages(State(s): State<AppState>, uri: Uri, q: RawQuery) -> Answer {
    of_kind(&s, &uri, q, 2)
}

/// `GET /v2/meetings/{meetingId}` (2026-07-15 on).
pub async fn meeting(State(s): State<AppState>, path: PathParams) -> Answer {
    let id = path_id(&path, "meetingId")?;
    let st = s.tenant();
    st.interactions
        .get(&id)
        .filter(|i| i.kind == 0)
        .map(|i| Json(interaction_json(&st, i)))
        .ok_or_else(|| ApiError::not_found(V2, format!("meeting {id}")))
}

/// `UserData`: the tenant's users are its internal persons; all active [I].
fn user_json(p: &Person) -> Json_ {
    json!({
        "id": p.id, "firstName": p.first_name, "lastName": p.last_name,
        "primaryEmailAddress": p.primary_email(), "emailAddresses": p.emails,
        "photoUrl": null, "status": "active", "role": "member",
    })
}

/// `GET /v2/users[?term=]`: `term` matches a name or an email, as v1's persons' `term` [I].
pub async fn users(State(s): State<AppState>, uri: Uri, q: RawQuery) -> Answer {
    let p = Params::parse(q);
    let term = p.one("term").map(str::to_lowercase);
    let st = s.tenant();
    let all: Vec<&Person> = st
        .persons
        .values()
        .filter(|x| x.kind == 1)
        .filter(|x| {
            term.as_ref().is_none_or(|t| {
                x.first_name.to_lowercase().contains(t)
                    || x.last_name
                        .as_deref()
                        .is_some_and(|l| l.to_lowercase().contains(t))
                    || x.emails.iter().any(|e| e.to_lowercase().contains(t))
            })
        })
        .collect();
    let pg = page(&p, all.len(), LIMITS)?;
    let data = all[pg.start..pg.end].iter().map(|u| user_json(u)).collect();
    Ok(Json(paged(&s, uri.path(), &p, pg, data, false)))
}

/// `GET /v2/users/{userId}`.
pub async fn user(State(s): State<AppState>, path: PathParams) -> Answer {
    let id = path_id(&path, "userId")?;
    let st = s.tenant();
    st.persons
        .get(&id)
        .filter(|p| p.kind == 1)
        .map(|p| Json(user_json(p)))
        .ok_or_else(|| ApiError::not_found(V2, format!("user {id}")))
}

/// The strength of the relationship between a user and an external person: Affinity computes
/// it from their interactions; the emulator counts them, each adding a fifth, up to 1 [I].
pub fn strength(st: &Tenant, internal: i64, external: i64) -> f64 {
    let n = st
        .interactions
        .values()
        .filter(|i| {
            i.person_ids.contains(&external)
                && (i.creator_id == Some(internal) || i.person_ids.contains(&internal))
        })
        .count();
    (n as f64 * 0.2).min(1.0)
}

/// The (user, external person) pairs that have a relationship, strongest first.
pub fn relationships_of(st: &Tenant, externals: &[i64]) -> Vec<(i64, i64, f64)> {
    let users: Vec<i64> = st
        .persons
        .values()
        .filter(|p| p.kind == 1)
        .map(|p| p.id)
        .collect();
    let mut out: Vec<(i64, i64, f64)> = externals
        .iter()
        .flat_map(|e| users.iter().map(move |u| (*u, *e)))
        .map(|(u, e)| (u, e, strength(st, u, e)))
        .filter(|(_, _, s)| *s > 0.0)
        .collect();
    out.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.1.cmp(&b.1)));
    out
}

fn relationship_person(st: &Tenant, id: i64) -> Json_ {
    let p = st.persons.get(&id);
    json!({
        "id": id, "firstName": p.map(|p| p.first_name.clone()),
        "lastName": p.and_then(|p| p.last_name.clone()),
        "primaryEmailAddress": p.and_then(|p| p.primary_email().map(String::from)),
    })
}

/// `GET /v2/{companies|persons}/{id}/relationships`: the users who know the person (or the
/// company's people), with a score from 0 to 1. No LinkedIn data is kept [I].
pub async fn relationships<const ET: i64>(
    State(s): State<AppState>,
    uri: Uri,
    path: PathParams,
    q: RawQuery,
) -> Answer {
    let p = Params::parse(q);
    let total = p.flag("totalCount")?;
    let id = path_id(&path, super::read::id_param(ET))?;
    let st = s.tenant();
    find_entity(&st, ET, id)?;
    let externals = if ET == entity_type::PERSON {
        vec![id]
    } else {
        st.organizations[&id].person_ids.clone()
    };
    let all = relationships_of(&st, &externals);
    let pg = page(&p, all.len(), LIMITS)?;
    let data = all[pg.start..pg.end]
        .iter()
        .map(|(u, e, score)| {
            json!({
                "person1": relationship_person(&st, *u), "person2": relationship_person(&st, *e),
                "interactionScore": score, "linkedIn": null,
            })
        })
        .collect();
    Ok(Json(paged(&s, uri.path(), &p, pg, data, total)))
}
