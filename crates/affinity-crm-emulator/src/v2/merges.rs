//! Company and person merges (v2, affinity-api.md §3.4 "Other"): `POST /v2/company-merges`
//! and `/v2/person-merges` answer 202 with the URL of a task; the merges and their tasks are
//! read back under `/v2/{company|person}-merges` and `/v2/tasks/{company|person}-merges`.
//!
//! Affinity merges in the background; the emulator merges at once ([`State::merge`]), so a
//! task is done by the time it is read [I]. A company merge is announced to webhook
//! subscribers as `organization.merged` (§5; `fixtures/affinity/webhook-payloads/`).

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use serde_json::{json, Value as Json_};

use super::super::state::{entity_type, task_id, v1_time, v2_time, MergeRecord, State as Tenant};
use super::{invalid, json_body, page, paged, path_id, Answer, Params, PathParams, LIMITS, V2};
use crate::{ApiError, AppState};

/// The words of one kind of merge: the JSON keys and the route's noun.
struct Kind {
    et: i64,
    primary: &'static str,
    duplicate: &'static str,
    noun: &'static str,
}

const COMPANY: Kind = Kind {
    et: entity_type::ORGANIZATION,
    primary: "primaryCompanyId",
    duplicate: "duplicateCompanyId",
    noun: "company",
};
const PERSON: Kind = Kind {
    et: entity_type::PERSON,
    primary: "primaryPersonId",
    duplicate: "duplicatePersonId",
    noun: "person",
};

fn kind(et: i64) -> &'static Kind {
    if et == entity_type::PERSON {
        &PERSON
    } else {
        &COMPANY
    }
}

fn merge_json(m: &MergeRecord) -> Json_ {
    let k = kind(m.entity_type);
    let mut v = json!({
        "id": m.id, "taskId": m.task_id, "status": m.status, "errorMessage": m.error_message,
        "startedAt": v2_time(m.started_at), "completedAt": m.completed_at.map(v2_time),
    });
    v[k.primary] = json!(m.primary_id);
    v[k.duplicate] = json!(m.duplicate_id);
    v
}

/// `POST /v2/{company|person}-merges {primary…Id, duplicate…Id}`: 202 `{taskUrl}`.
pub async fn create<const ET: i64>(
    State(s): State<AppState>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let k = kind(ET);
    let body = json_body(&body)?;
    let id_of = |key: &str| {
        body.get(key)
            .and_then(Json_::as_i64)
            .ok_or_else(|| invalid(key, format!("`{key}` is required")))
    };
    let primary = id_of(k.primary)?;
    let duplicate = id_of(k.duplicate)?;
    if primary == duplicate {
        return Err(invalid(
            k.duplicate,
            "a record cannot be merged into itself",
        ));
    }
    let mut st = s.tenant();
    for (key, id) in [(k.primary, primary), (k.duplicate, duplicate)] {
        if !st.entity_exists(k.et, id) {
            return Err(invalid(key, format!("{} {id} not found", k.noun)));
        }
    }
    // [I] Affinity's global companies belong to every tenant: one cannot be merged away.
    if k.et == entity_type::ORGANIZATION && st.organizations[&duplicate].global {
        return Err(invalid(
            k.duplicate,
            format!("company {duplicate} is global"),
        ));
    }
    let removed = st
        .organizations
        .get(&duplicate)
        .map(crate::v1::common::organization_json);
    let started_at = Utc::now();
    st.merge(k.et, duplicate, primary)
        .map_err(|inv| ApiError::invalid(V2, inv))?;
    let id = st.next_id();
    let task = task_id(id);
    st.merges.push(MergeRecord {
        id,
        entity_type: k.et,
        task_id: task.clone(),
        primary_id: primary,
        duplicate_id: duplicate,
        status: "success",
        error_message: None,
        started_at,
        completed_at: Some(Utc::now()),
    });
    if let Some(removed) = removed {
        let changer = st
            .persons
            .get(&st.caller_id())
            .map(crate::v1::common::person_json);
        let company = crate::v1::common::organization_json(&st.organizations[&primary]);
        st.announce(
            "organization.merged",
            json!({
                "changer": changer, "removed_company": removed, "company": company,
                "merged_at": v1_time(Utc::now()),
            }),
        );
    }
    let url = format!("{}/v2/tasks/{}-merges/{task}", s.base_url, k.noun);
    Ok((StatusCode::ACCEPTED, Json(json!({ "taskUrl": url }))).into_response())
}

/// The `filter` of the merge lists: `taskId=…` (or `taskId="…"`); others are refused rather
/// than ignored [I].
fn task_filter(p: &Params) -> Result<Option<String>, ApiError> {
    let Some(f) = p.one("filter").map(str::trim) else {
        return Ok(None);
    };
    match f.strip_prefix("taskId=") {
        Some(v) => Ok(Some(v.trim().trim_matches('"').to_string())),
        None => Err(invalid(
            "filter",
            format!("the emulator reads only `taskId=…` filters, got `{f}`"),
        )),
    }
}

fn merges_of(st: &Tenant, et: i64) -> impl Iterator<Item = &MergeRecord> {
    st.merges.iter().filter(move |m| m.entity_type == et)
}

/// `GET /v2/{company|person}-merges[?filter=taskId=…]`.
pub async fn list<const ET: i64>(State(s): State<AppState>, uri: Uri, q: RawQuery) -> Answer {
    let p = Params::parse(q);
    let only = task_filter(&p)?;
    let st = s.tenant();
    let all: Vec<&MergeRecord> = merges_of(&st, ET)
        .filter(|m| only.as_ref().is_none_or(|t| m.task_id == *t))
        .collect();
    let pg = page(&p, all.len(), LIMITS)?;
    let data = all[pg.start..pg.end]
        .iter()
        .map(|m| merge_json(m))
        .collect();
    Ok(Json(paged(&s, uri.path(), &p, pg, data, false)))
}

/// `GET /v2/{company|person}-merges/{mergeId}`.
pub async fn one<const ET: i64>(State(s): State<AppState>, path: PathParams) -> Answer {
    let id = path_id(&path, "mergeId")?;
    let st = s.tenant();
    let found = merges_of(&st, ET).find(|m| m.id == id).map(merge_json);
    found
        .map(Json)
        .ok_or_else(|| ApiError::not_found(V2, format!("merge {id}")))
}

/// A task: one per merge request, done when its merges are.
fn task_json(task: &str, merges: &[&MergeRecord]) -> Json_ {
    let count = |st: &str| merges.iter().filter(|m| m.status == st).count();
    let (ok, failed) = (count("success"), count("failed"));
    let status = if failed > 0 {
        "failed"
    } else if ok == merges.len() {
        "success"
    } else {
        "in-progress"
    };
    json!({
        "id": task, "status": status,
        "resultsSummary": {
            "total": merges.len(), "success": ok, "failed": failed,
            "inProgress": merges.len() - ok - failed,
        },
    })
}

fn tasks_of(st: &Tenant, et: i64) -> Vec<(String, Vec<&MergeRecord>)> {
    let mut tasks: Vec<(String, Vec<&MergeRecord>)> = Vec::new();
    for m in merges_of(st, et) {
        match tasks.iter_mut().find(|(t, _)| *t == m.task_id) {
            Some((_, ms)) => ms.push(m),
            None => tasks.push((m.task_id.clone(), vec![m])),
        }
    }
    tasks
}

/// `GET /v2/tasks/{company|person}-merges`.
pub async fn tasks<const ET: i64>(State(s): State<AppState>, uri: Uri, q: RawQuery) -> Answer {
    let p = Params::parse(q);
    let st = s.tenant();
    let all = tasks_of(&st, ET);
    let pg = page(&p, all.len(), LIMITS)?;
    let data = all[pg.start..pg.end]
        .iter()
        .map(|(t, ms)| task_json(t, ms))
        .collect();
    Ok(Json(paged(&s, uri.path(), &p, pg, data, false)))
}

/// `GET /v2/tasks/{company|person}-merges/{taskId}`.
pub async fn task<const ET: i64>(State(s): State<AppState>, path: PathParams) -> Answer {
    let id = path.get("taskId").cloned().unwrap_or_default();
    let st = s.tenant();
    let found = tasks_of(&st, ET)
        .into_iter()
        .find(|(t, _)| *t == id)
        .map(|(t, ms)| task_json(&t, &ms));
    found
        .map(Json)
        .ok_or_else(|| ApiError::not_found(V2, format!("merge task `{id}`")))
}
