//! v2 routes (affinity-api.md §3): camelCase, `{data, pagination}` pages with `nextUrl`.
//!
//! Shapes follow the official 2024-01-01 OpenAPI spec (`components.schemas` and
//! `components.examples`); the integration tests validate every answer against it.
//!
//! - [`read`]: companies, persons, opportunities, lists and list entries.
//! - [`fields`]: field values of list entries, companies and persons, read and written.
//! - [`notes`]: notes, shared with v1 (the same `State::notes`).
//! - [`render`]: the JSON of each record and of field values (§3.3).

mod extra;
mod fields;
mod interactions;
mod lists;
mod merges;
mod notes;
mod read;
mod render;
mod webhooks;

use std::collections::HashMap;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use chrono::Utc;
use serde_json::{json, Value as Json_};

use super::middleware::presented_key;
use super::state::{entity_type, v2_time};
use super::{ApiError, AppState, Version};

pub use extra::mime_of;
pub use interactions::relationships_of;

const V2: Version = Version::V2;
type Answer = Result<Json<Json_>, ApiError>;

// Long by design: the route table of every v2 operation, one line each, read as a whole.
pub fn router() -> Router<AppState> {
    const ORG: i64 = entity_type::ORGANIZATION;
    const PERSON: i64 = entity_type::PERSON;
    const OPP: i64 = entity_type::OPPORTUNITY;
    Router::new()
        .route("/v2/auth/whoami", get(whoami))
        .route("/v2/rate-limit", get(rate_limit))
        // Companies and persons share their handlers, told apart by the v1 entity type.
        .route("/v2/companies", get(read::entities::<ORG>))
        .route("/v2/companies/fields", get(read::entity_fields::<ORG>))
        .route(
            "/v2/companies/fields/{fieldId}/dropdown-options",
            get(lists::entity_options::<ORG>),
        )
        .route(
            "/v2/companies/search",
            axum::routing::post(extra::search_entities::<ORG>),
        )
        .route(
            "/v2/companies/{companyId}/fields/{fieldId}/values",
            get(extra::entity_values::<ORG>),
        )
        .route("/v2/companies/{companyId}", get(read::entity::<ORG>))
        .route(
            "/v2/companies/{companyId}/list-entries",
            get(read::entity_list_entries::<ORG>),
        )
        .route(
            "/v2/companies/{companyId}/lists",
            get(read::entity_lists::<ORG>),
        )
        .route(
            "/v2/companies/{companyId}/notes",
            get(notes::of_entity::<ORG>),
        )
        .route(
            "/v2/companies/{companyId}/fields",
            get(fields::entity_fields::<ORG>).patch(fields::patch_entity_fields::<ORG>),
        )
        .route(
            "/v2/companies/{companyId}/fields/{fieldId}",
            get(fields::entity_field::<ORG>).post(fields::post_entity_field::<ORG>),
        )
        .route(
            "/v2/persons",
            get(read::entities::<PERSON>).post(extra::create_person),
        )
        .route("/v2/persons/fields", get(read::entity_fields::<PERSON>))
        .route(
            "/v2/persons/fields/{fieldId}/dropdown-options",
            get(lists::entity_options::<PERSON>),
        )
        .route(
            "/v2/persons/search",
            axum::routing::post(extra::search_entities::<PERSON>),
        )
        .route(
            "/v2/persons/{personId}/fields/{fieldId}/values",
            get(extra::entity_values::<PERSON>),
        )
        .route(
            "/v2/persons/{personId}",
            get(read::entity::<PERSON>).delete(extra::delete_person),
        )
        .route(
            "/v2/persons/{personId}/list-entries",
            get(read::entity_list_entries::<PERSON>),
        )
        .route(
            "/v2/persons/{personId}/lists",
            get(read::entity_lists::<PERSON>),
        )
        .route(
            "/v2/persons/{personId}/notes",
            get(notes::of_entity::<PERSON>),
        )
        .route(
            "/v2/persons/{personId}/fields",
            get(fields::entity_fields::<PERSON>).patch(fields::patch_entity_fields::<PERSON>),
        )
        .route(
            "/v2/persons/{personId}/fields/{fieldId}",
            get(fields::entity_field::<PERSON>).post(fields::post_entity_field::<PERSON>),
        )
        .route("/v2/opportunities", get(read::opportunities))
        .route(
            "/v2/opportunities/{opportunityId}",
            get(read::opportunity)
                .post(extra::update_opportunity)
                .delete(extra::delete_opportunity),
        )
        .route(
            "/v2/opportunities/{opportunityId}/notes",
            get(notes::of_entity::<OPP>),
        )
        .route("/v2/lists", get(read::lists).post(lists::create_list))
        .route("/v2/lists/{listId}", get(read::list))
        .route("/v2/lists/{listId}/fields", get(read::list_fields))
        .route(
            "/v2/lists/{listId}/fields/{fieldId}/dropdown-options",
            get(lists::list_options).post(lists::create_option),
        )
        .route(
            "/v2/lists/{listId}/fields/{fieldId}/dropdown-options/{dropdownOptionId}",
            get(lists::list_option)
                .post(lists::update_option)
                .delete(lists::delete_option),
        )
        .route("/v2/lists/{listId}/saved-views", get(lists::saved_views))
        .route(
            "/v2/lists/{listId}/saved-views/{viewId}",
            get(lists::saved_view),
        )
        .route(
            "/v2/lists/{listId}/saved-views/{viewId}/list-entries",
            get(lists::saved_view_entries),
        )
        .route(
            "/v2/lists/{listId}/list-entries",
            get(read::list_entries).post(lists::create_entry),
        )
        .route(
            "/v2/lists/{listId}/list-entries/search",
            axum::routing::post(extra::search_entries),
        )
        .route(
            "/v2/lists/{listId}/list-entries/{listEntryId}/field-value-changes",
            get(extra::entry_changes),
        )
        .route(
            "/v2/lists/{listId}/list-entries/{listEntryId}/fields/{fieldId}/values",
            get(extra::entry_values),
        )
        .route(
            "/v2/lists/{listId}/list-entries/{listEntryId}",
            get(read::list_entry),
        )
        .route(
            "/v2/lists/{listId}/list-entries/{listEntryId}/fields",
            get(fields::entry_fields).patch(fields::patch_entry_fields),
        )
        .route(
            "/v2/lists/{listId}/list-entries/{listEntryId}/fields/{fieldId}",
            get(fields::entry_field).post(fields::post_entry_field),
        )
        .route("/v2/field-value-changes", get(extra::field_value_changes))
        .route(
            "/v2/notes/{noteId}/attached-persons",
            get(extra::attached_persons),
        )
        .route(
            "/v2/notes/{noteId}/attached-companies",
            get(extra::attached_companies),
        )
        .route(
            "/v2/notes/{noteId}/attached-opportunities",
            get(extra::attached_opportunities),
        )
        .route("/v2/notes/{noteId}/replies", get(extra::replies))
        .route("/v2/notes/search", axum::routing::post(extra::search_notes))
        .route(
            "/v2/semantic-search",
            axum::routing::post(extra::semantic_search),
        )
        .route("/v2/feedback", axum::routing::post(extra::feedback))
        .route("/v2/files", get(extra::files))
        .route("/v2/files/search", axum::routing::post(extra::search_files))
        .route("/v2/files/{fileId}", get(extra::file))
        .route("/v2/transcripts", get(extra::transcripts))
        .route(
            "/v2/transcripts/{transcriptId}",
            get(extra::transcript).delete(extra::delete_transcript),
        )
        .route(
            "/v2/transcripts/{transcriptId}/fragments",
            get(extra::fragments),
        )
        .route("/v2/teams", get(extra::teams))
        .route("/v2/teams/{teamId}", get(extra::team))
        .route("/v2/teams/{teamId}/members", get(extra::team_members))
        .route(
            "/v2/teams/{teamId}/accessible-lists",
            get(extra::team_lists),
        )
        .route(
            "/v2/duplicates/company-suggestions",
            get(extra::company_duplicates),
        )
        .route(
            "/v2/duplicates/person-suggestions",
            get(extra::person_duplicates),
        )
        .route("/v2/inferred-connections/coworkers", get(extra::coworkers))
        .route(
            "/v2/inferred-connections/investor-executive-connections",
            get(extra::investor_executives),
        )
        .route(
            "/v2/reminders",
            get(extra::reminders).post(extra::create_reminder),
        )
        .route(
            "/v2/reminders/{reminderId}",
            get(extra::reminder)
                .post(extra::update_reminder)
                .delete(extra::delete_reminder),
        )
        .route("/v2/emails", get(interactions::emails))
        .route("/v2/calls", get(interactions::calls))
        .route("/v2/meetings", get(interactions::meetings))
        .route("/v2/meetings/{meetingId}", get(interactions::meeting))
        .route("/v2/chat-messages", get(interactions::chat_messages))
        .route("/v2/users", get(interactions::users))
        .route("/v2/users/{userId}", get(interactions::user))
        .route(
            "/v2/companies/{companyId}/relationships",
            get(interactions::relationships::<ORG>),
        )
        .route(
            "/v2/persons/{personId}/relationships",
            get(interactions::relationships::<PERSON>),
        )
        .route(
            "/v2/company-merges",
            get(merges::list::<ORG>).post(merges::create::<ORG>),
        )
        .route("/v2/company-merges/{mergeId}", get(merges::one::<ORG>))
        .route(
            "/v2/person-merges",
            get(merges::list::<PERSON>).post(merges::create::<PERSON>),
        )
        .route("/v2/person-merges/{mergeId}", get(merges::one::<PERSON>))
        .route("/v2/tasks/company-merges", get(merges::tasks::<ORG>))
        .route(
            "/v2/tasks/company-merges/{taskId}",
            get(merges::task::<ORG>),
        )
        .route("/v2/tasks/person-merges", get(merges::tasks::<PERSON>))
        .route(
            "/v2/tasks/person-merges/{taskId}",
            get(merges::task::<PERSON>),
        )
        .route("/v2/webhooks", get(webhooks::list).post(webhooks::create))
        .route(
            "/v2/webhooks/{webhookId}",
            get(webhooks::one)
                .post(webhooks::update)
                .delete(webhooks::delete),
        )
        .route("/v2/notes", get(notes::list).post(notes::create))
        .route(
            "/v2/notes/{noteId}",
            get(notes::one).post(notes::update).delete(notes::delete),
        )
}

async fn whoami(State(s): State<AppState>) -> Json<Json_> {
    let st = s.tenant();
    // The user whose key asked (affinity-api.md §1).
    let user = st.caller();
    Json(json!({
        "tenant": { "id": st.tenant.id, "name": st.tenant.name, "subdomain": st.tenant.subdomain },
        "user": {
            "id": user.id,
            "firstName": user.first_name,
            "lastName": user.last_name,
            "emailAddress": user.email,
        },
        "grant": { "type": "api-key", "scopes": ["api"], "createdAt": v2_time(Utc::now()) },
    }))
}

/// `GET /v2/rate-limit` (beta): `orgPerMonth` only when a monthly quota applies.
async fn rate_limit(State(s): State<AppState>, headers: HeaderMap) -> Json<Json_> {
    let key = presented_key(&headers, Version::V2).unwrap_or_default();
    let r = s.limits.lock().unwrap().read(&key);
    let mut body = json!({ "callerPerMinute": r.user.json() });
    if let Some(o) = r.org {
        body["orgPerMonth"] = o.json();
    }
    Json(body)
}

/// The version a request is served in (the middleware's `ApiVersion`; the current one when a
/// handler runs without the middleware).
fn version_of(v: Option<axum::Extension<crate::middleware::ApiVersion>>) -> &'static str {
    v.map_or(crate::versions::CURRENT, |axum::Extension(v)| v.0)
}

/// A `validation` error (400) on one parameter: the spec's `ValidationError` needs `param`.
fn invalid(param: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(V2, StatusCode::BAD_REQUEST, message).with_param(param)
}

/// Path parameters, read as strings so that a bad one gets a v2 error, not axum's text.
type PathParams = Path<HashMap<String, String>>;

fn path_id(p: &HashMap<String, String>, name: &str) -> Result<i64, ApiError> {
    let raw = p.get(name).map(String::as_str).unwrap_or_default();
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id >= 1)
        .ok_or_else(|| {
            invalid(
                name,
                format!("`{name}` must be a positive integer, got `{raw}`"),
            )
        })
}

/// A JSON request body; a malformed one is a v2 `bad-request` (never axum's plain text).
fn json_body(bytes: &[u8]) -> Result<Json_, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::new(
            V2,
            StatusCode::BAD_REQUEST,
            format!("invalid JSON body: {e}"),
        )
        .with_code("bad-request")
    })
}

/// The query string as pairs, keeping repeats (`fieldIds=a&fieldIds=b`, §3.1).
#[derive(Debug, Clone, Default)]
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(q: RawQuery) -> Params {
        Params(
            url::form_urlencoded::parse(q.0.unwrap_or_default().as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }
    fn all(&self, key: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }
    fn one(&self, key: &str) -> Option<&str> {
        self.all(key).last().copied()
    }
    fn has(&self, key: &str) -> bool {
        self.0.iter().any(|(k, _)| k == key)
    }
    fn ids(&self, key: &str) -> Result<Vec<i64>, ApiError> {
        self.all(key)
            .into_iter()
            .map(|v| {
                v.parse::<i64>()
                    .ok()
                    .filter(|id| *id >= 1)
                    .ok_or_else(|| invalid(key, format!("`{key}` must hold integers, got `{v}`")))
            })
            .collect()
    }
    fn flag(&self, key: &str) -> Result<bool, ApiError> {
        match self.one(key) {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(v) => Err(invalid(
                key,
                format!("`{key}` must be a boolean, got `{v}`"),
            )),
        }
    }
}

/// Page sizes (§3.1): at most 100; 100 by default, 20 for per-entry field values and notes.
#[derive(Debug, Clone, Copy)]
struct Limits {
    default: usize,
    /// 1 for most endpoints; the notes endpoints allow 0 (spec: `minimum: 0`).
    min: usize,
}

const LIMITS: Limits = Limits {
    default: 100,
    min: 1,
};
const FIELD_LIMITS: Limits = Limits {
    default: 20,
    min: 1,
};
const NOTE_LIMITS: Limits = Limits {
    default: 20,
    min: 0,
};

/// One page of a collection of `total` items.
#[derive(Debug, Clone, Copy)]
struct Page {
    start: usize,
    end: usize,
    total: usize,
}

/// Cursors look like Affinity's (the spec's examples decode to `"       after:::4"`): an offset
/// after or before which the page lies, right-aligned to 16 characters, base64url. [I] The
/// offset is into the collection as it is when the next page is read.
fn cursor(dir: &str, offset: usize) -> String {
    let text = format!("{:>16}", format!("{dir}:::{offset}"));
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

fn page(p: &Params, total: usize, limits: Limits) -> Result<Page, ApiError> {
    let limit = match p.one("limit") {
        None => limits.default,
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if (limits.min..=100).contains(&n) => n,
            _ => {
                return Err(invalid(
                    "limit",
                    format!(
                        "`limit` must be an integer from {} to 100, got `{raw}`",
                        limits.min
                    ),
                ))
            }
        },
    };
    let Some(raw) = p.one("cursor") else {
        return Ok(Page {
            start: 0,
            end: limit.min(total),
            total,
        });
    };
    let bad = || invalid("cursor", format!("invalid cursor `{raw}`"));
    let text = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(raw.trim_end_matches('='))
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(bad)?;
    let (dir, offset) = text.trim_start().split_once(":::").ok_or_else(bad)?;
    let offset: usize = offset.parse().map_err(|_| bad())?;
    let offset = offset.min(total);
    Ok(match dir {
        "after" => Page {
            start: offset,
            end: (offset + limit).min(total),
            total,
        },
        "before" => Page {
            start: offset.saturating_sub(limit),
            end: offset,
            total,
        },
        _ => return Err(bad()),
    })
}

/// `{"data", "pagination": {"nextUrl", "prevUrl"}}` with ABSOLUTE urls that carry the request's
/// other parameters (§3.1). `total_count` adds `pagination.totalCount` (notes' `totalCount=true`).
fn paged(
    s: &AppState,
    path: &str,
    p: &Params,
    pg: Page,
    data: Vec<Json_>,
    total_count: bool,
) -> Json_ {
    let url = |c: String| {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in p.0.iter().filter(|(k, _)| k != "cursor") {
            q.append_pair(k, v);
        }
        q.append_pair("cursor", &c);
        format!("{}{}?{}", s.base_url, path, q.finish())
    };
    let more = pg.end < pg.total && pg.end > pg.start;
    let mut pagination = json!({
        "nextUrl": more.then(|| url(cursor("after", pg.end))),
        "prevUrl": (pg.start > 0).then(|| url(cursor("before", pg.start))),
    });
    if total_count {
        pagination["totalCount"] = json!(pg.total);
    }
    json!({ "data": data, "pagination": pagination })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(q: &str) -> Params {
        Params::parse(RawQuery(Some(q.to_string())))
    }

    #[test]
    fn cursors_look_like_affinitys() {
        // The spec's own examples.
        assert_eq!(cursor("after", 4), "ICAgICAgIGFmdGVyOjo6NA");
        assert_eq!(cursor("before", 7), "ICAgICAgYmVmb3JlOjo6Nw");
    }

    #[test]
    fn paging_reads_limit_and_cursor() {
        // (query, collection size, the page's range or None for a 400)
        type Case = (&'static str, usize, Option<(usize, usize)>);
        let cases: &[Case] = &[
            ("", 250, Some((0, 100))),
            ("limit=2", 5, Some((0, 2))),
            ("limit=2&cursor=ICAgICAgIGFmdGVyOjo6NA", 5, Some((4, 5))),
            ("limit=2&cursor=ICAgICAgYmVmb3JlOjo6Nw", 9, Some((5, 7))),
            ("limit=101", 5, None),
            ("limit=0", 5, None),
            ("limit=x", 5, None),
            ("cursor=nope", 5, None),
        ];
        for (q, total, want) in cases {
            let got = page(&params(q), *total, LIMITS)
                .ok()
                .map(|p| (p.start, p.end));
            assert_eq!(got, *want, "{q}");
        }
        assert!(page(&params("limit=0"), 5, NOTE_LIMITS).is_ok());
    }
}
