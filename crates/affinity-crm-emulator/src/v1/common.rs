//! What every v1 route shares: request parsing that never answers axum's plain-text
//! rejections, `page_token` paging (affinity-api.md §2.2, §8.1), lookups that know about
//! merged entities (§8.4), and the v1 renderings of records (§2.3).

use std::collections::BTreeMap;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::Json;
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json_};

use crate::state::{
    entity_type, v1_time, value_type, Field, FieldValue, ListEntry, Note, Opportunity,
    Organization, Person, State, Value,
};
use crate::{ApiError, Invalid, Version};

/// What a route answers: a status and a JSON body, or an error in v1's shape.
pub type Answer = Result<(StatusCode, Json<Json_>), ApiError>;

pub fn ok(v: Json_) -> Answer {
    Ok((StatusCode::OK, Json(v)))
}

/// A v1 create answers 200 with the record. The status is undocumented (affinity-api.md §2.1):
/// Affinity's Postman collection shows 201, but its examples are hand-written, while the
/// `affinity-crm` client on PyPI, written against the live API, accepts only 200 for every
/// create (`affinity/client/endpoints.py`, `_create`: `if response.status_code != 200`), and no
/// client found accepts only 201 [I] (issue 17, finding 5).
pub fn created(v: Json_) -> Answer {
    Ok((StatusCode::OK, Json(v)))
}

/// `DELETE` answers `{"success": true}` (§2.1).
pub fn success() -> Answer {
    ok(json!({ "success": true }))
}

/// A v1 422: a malformed or logically impossible request (§2.1).
pub fn unprocessable(message: impl Into<String>) -> ApiError {
    ApiError::new(Version::V1, StatusCode::UNPROCESSABLE_ENTITY, message)
}

pub fn invalid(param: &str, message: impl Into<String>) -> ApiError {
    ApiError::invalid(Version::V1, Invalid::new(param, message))
}

pub fn not_found(what: impl std::fmt::Display) -> ApiError {
    ApiError::not_found(Version::V1, what)
}

/// A path parameter; a malformed one is a v1 422, not axum's plain-text 400.
pub struct P<T>(pub T);

impl<S, T> FromRequestParts<S> for P<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(t)) => Ok(P(t)),
            Err(e) => Err(unprocessable(format!(
                "invalid path parameter: {}",
                e.body_text()
            ))),
        }
    }
}

/// Parses a JSON body; a missing or malformed one is a v1 422. The content type is not
/// checked (lenient, as clients differ).
pub fn body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(unprocessable("a JSON request body is required"));
    }
    serde_json::from_slice(bytes).map_err(|e| unprocessable(format!("invalid request body: {e}")))
}

/// The query string, parsed by hand so that no value ever gets axum's plain-text rejection.
#[derive(Debug, Default, Clone)]
pub struct Q(pub Vec<(String, String)>);

impl Q {
    pub fn parse(raw: Option<String>) -> Q {
        let raw = raw.unwrap_or_default();
        Q(url::form_urlencoded::parse(raw.as_bytes())
            .into_owned()
            .collect())
    }
    pub fn str(&self, k: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    }
    pub fn has(&self, k: &str) -> bool {
        self.str(k).is_some()
    }
    pub fn int(&self, k: &str) -> Result<Option<i64>, ApiError> {
        match self.str(k) {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| invalid(k, format!("`{v}` is not an integer"))),
        }
    }
    /// A boolean parameter. Any case is taken: Python clients used against the real API send
    /// `True`/`False` (issue 17, finding 3), so Affinity takes them [I].
    pub fn bool(&self, k: &str) -> Result<bool, ApiError> {
        match self.str(k).map(str::trim) {
            None => Ok(false),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(v) => Err(invalid(k, format!("`{v}` is not `true` or `false`"))),
        }
    }
    pub fn time(&self, k: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
        match self.str(k) {
            None => Ok(None),
            Some(v) => DateTime::parse_from_rfc3339(v)
                .map(|d| Some(d.with_timezone(&Utc)))
                .map_err(|_| invalid(k, format!("`{v}` is not an ISO 8601 datetime"))),
        }
    }
    /// Exactly one of `keys`, as an integer: gives which one and its value.
    pub fn exactly_one(&self, keys: &[&'static str]) -> Result<(&'static str, i64), ApiError> {
        let given: Vec<&'static str> = keys.iter().copied().filter(|k| self.has(k)).collect();
        match given.as_slice() {
            [k] => Ok((k, self.int(k)?.unwrap_or_default())),
            _ => Err(unprocessable(format!(
                "exactly one of {} is required",
                keys.iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }
    /// At most one of `keys`.
    pub fn at_most_one(
        &self,
        keys: &[&'static str],
    ) -> Result<Option<(&'static str, i64)>, ApiError> {
        if keys.iter().any(|k| self.has(k)) {
            self.exactly_one(keys).map(Some)
        } else {
            Ok(None)
        }
    }
}

/// What a `page_token` carries: the request's other params, the page size and the offset.
/// Its JSON is that of a live token (fixture `organizations_search.json` decodes to
/// `{"params":{"term":""},"page_size":5,"offset":10}`), base64-encoded.
#[derive(Debug, Serialize, Deserialize)]
struct Token {
    params: BTreeMap<String, String>,
    page_size: usize,
    offset: usize,
}

/// Where a page starts and how long it is.
#[derive(Debug)]
pub struct Paging {
    pub offset: usize,
    pub size: usize,
    params: BTreeMap<String, String>,
}

/// The message Affinity gives when a token does not fit the request (§2.2, §8.1).
pub const BAD_TOKEN: &str = "Invalid page_token variable";

impl Paging {
    /// `page_size` defaults to and is capped at `max` (500; interactions 100). A `page_token`
    /// whose params differ from the request's other params is refused with
    /// `Invalid page_token variable`; its status is undocumented: 422 [I].
    pub fn from(q: &Q, max: usize) -> Result<Paging, ApiError> {
        let params: BTreeMap<String, String> =
            q.0.iter()
                .filter(|(k, _)| k != "page_token" && k != "page_size")
                .cloned()
                .collect();
        let size = match q.int("page_size")? {
            None => None,
            Some(n) if n >= 1 => Some((n as usize).min(max)),
            Some(n) => return Err(invalid("page_size", format!("`{n}` is not positive"))),
        };
        match q.str("page_token") {
            None | Some("") => Ok(Paging {
                offset: 0,
                size: size.unwrap_or(max),
                params,
            }),
            Some(t) => {
                let tok: Token = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(t.trim_end_matches('='))
                    .ok()
                    .and_then(|b| serde_json::from_slice(&b).ok())
                    .ok_or_else(|| unprocessable(BAD_TOKEN))?;
                if tok.params != params {
                    return Err(unprocessable(BAD_TOKEN));
                }
                Ok(Paging {
                    offset: tok.offset,
                    size: size.unwrap_or(tok.page_size),
                    params,
                })
            }
        }
    }

    /// One page of `items` and the next token. A page that is exactly full always carries a
    /// token, even when nothing is left: the next page is then empty with a `null` token, as
    /// Affinity does (§2.2 "a non-null token may still lead to an empty page").
    pub fn page<T>(&self, items: Vec<T>) -> (Vec<T>, Option<String>) {
        let page: Vec<T> = items
            .into_iter()
            .skip(self.offset)
            .take(self.size)
            .collect();
        let next = (page.len() == self.size).then(|| {
            let tok = Token {
                params: self.params.clone(),
                page_size: self.size,
                offset: self.offset + self.size,
            };
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(serde_json::to_vec(&tok).expect("a token serializes"))
        });
        (page, next)
    }
}

/// Looks an entity up; an id merged into another answers 422 naming the survivor (§8.4).
pub fn person(st: &State, id: i64) -> Result<&Person, ApiError> {
    if let Some(new) = st.merged_into(entity_type::PERSON, id) {
        return Err(ApiError::merged(Version::V1, "person_id", id, new));
    }
    st.persons
        .get(&id)
        .ok_or_else(|| not_found(format!("person {id}")))
}

pub fn organization(st: &State, id: i64) -> Result<&Organization, ApiError> {
    if let Some(new) = st.merged_into(entity_type::ORGANIZATION, id) {
        return Err(ApiError::merged(Version::V1, "organization_id", id, new));
    }
    st.organizations
        .get(&id)
        .ok_or_else(|| not_found(format!("organization {id}")))
}

pub fn opportunity(st: &State, id: i64) -> Result<&Opportunity, ApiError> {
    st.opportunities
        .get(&id)
        .ok_or_else(|| not_found(format!("opportunity {id}")))
}

/// Checks an entity given in a query or body (merged ids answer 422 too).
pub fn check_entity(st: &State, kind: i64, id: i64) -> Result<(), ApiError> {
    match kind {
        entity_type::PERSON => person(st, id).map(|_| ()),
        entity_type::ORGANIZATION => organization(st, id).map(|_| ()),
        _ => opportunity(st, id).map(|_| ()),
    }
}

/// Checks every id of a body's id array; unknown ids are a 422 on that param.
pub fn check_ids(st: &State, kind: i64, ids: &[i64], param: &str) -> Result<(), ApiError> {
    for &id in ids {
        if let Some(new) = st.merged_into(kind, id) {
            return Err(ApiError::merged(Version::V1, param, id, new));
        }
        if !st.entity_exists(kind, id) {
            return Err(invalid(param, format!("entity {id} not found")));
        }
    }
    Ok(())
}

/// A list entry's `created_at`: live list-entry answers use UTC with millis and `Z`
/// (fixtures `list_entries_all.json`, `persons_get.json`), unlike most v1 timestamps.
pub fn utc_millis(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// A person as a list entry's `entity` and a search result (fixture `persons_search.json`).
pub fn person_json(p: &Person) -> Json_ {
    json!({
        "id": p.id,
        "type": p.kind,
        "first_name": p.first_name,
        "last_name": p.last_name,
        "primary_email": p.primary_email(),
        "emails": p.emails,
    })
}

/// An organization as a list entry's `entity` and a search result. `crunchbase_uuid` is in
/// Affinity's webhook payloads (`fixtures/affinity/webhook-payloads/`) and required by clients
/// that forbid unknown keys; an emulated tenant has no Crunchbase link, so it is null [I].
pub fn organization_json(o: &Organization) -> Json_ {
    json!({
        "id": o.id,
        "name": o.name,
        "domain": o.domain,
        "domains": o.domains,
        "crunchbase_uuid": null,
        "global": o.global,
    })
}

pub fn opportunity_json(o: &Opportunity) -> Json_ {
    json!({ "id": o.id, "name": o.name })
}

/// The entity type of a list entry: that of its list.
pub fn entry_type(st: &State, e: &ListEntry) -> i64 {
    st.lists.get(&e.list_id).map(|l| l.kind).unwrap_or_default()
}

/// A list entry without its entity (as nested in `GET /persons/{id}`).
pub fn entry_short(st: &State, e: &ListEntry) -> Json_ {
    json!({
        "id": e.id,
        "list_id": e.list_id,
        "creator_id": e.creator_id,
        "entity_id": e.entity_id,
        "entity_type": entry_type(st, e),
        "created_at": utc_millis(e.created_at),
    })
}

/// A list entry with its `entity` (§2.3).
pub fn entry_json(st: &State, e: &ListEntry) -> Json_ {
    let kind = entry_type(st, e);
    let entity = match kind {
        entity_type::PERSON => st.persons.get(&e.entity_id).map(person_json),
        entity_type::ORGANIZATION => st.organizations.get(&e.entity_id).map(organization_json),
        _ => st.opportunities.get(&e.entity_id).map(opportunity_json),
    };
    let mut v = entry_short(st, e);
    v["entity"] = entity.unwrap_or(Json_::Null);
    v
}

/// The entries of one entity, in id order.
pub fn entries_of(st: &State, kind: i64, id: i64) -> Vec<Json_> {
    st.list_entries
        .values()
        .filter(|e| e.entity_id == id && entry_type(st, e) == kind)
        .map(|e| entry_short(st, e))
        .collect()
}

/// A stored value in its v1 read form (§2.3, the field value table).
pub fn value_json(field: Option<&Field>, v: &Value) -> Json_ {
    match v {
        Value::Text(s) => json!(s),
        // Numbers read back as floats (`5000.0`).
        Value::Number(n) => json!(*n),
        Value::Date(d) => json!(v1_time(*d)),
        Value::Location(l) => json!(l),
        Value::Person(id) | Value::Organization(id) => json!(id),
        Value::Dropdown(id) => {
            json!(field
                .and_then(|f| f.option_by_id(*id))
                .map(|o| o.text.clone()))
        }
        Value::RankedDropdown(id) => match field.and_then(|f| f.option_by_id(*id)) {
            Some(o) => json!({ "id": o.id, "text": o.text, "rank": o.rank, "color": o.color }),
            None => Json_::Null,
        },
    }
}

/// A field value (§2.3); values of fields from Crunchbase read as `null`.
pub fn field_value_json(st: &State, fv: &FieldValue) -> Json_ {
    let field = st.fields.get(&fv.field_id);
    let value = match field {
        Some(f) if f.enrichment_source == "crunchbase" => Json_::Null,
        _ => value_json(field, &fv.value),
    };
    json!({
        "id": fv.id,
        "field_id": fv.field_id,
        "entity_id": fv.entity_id,
        "list_entry_id": fv.list_entry_id,
        "entity_type": fv.entity_type,
        "value_type": field.map(|f| f.value_type).unwrap_or(value_type::TEXT),
        "value": value,
        "created_at": v1_time(fv.created_at),
        "updated_at": fv.updated_at.map(v1_time),
    })
}

/// Note content as Affinity gives it back: underscores escaped (`a\_b`) [I, §8.9].
pub fn escape_underscores(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev = '\0';
    for c in s.chars() {
        if c == '_' && prev != '\\' {
            out.push('\\');
        }
        out.push(c);
        prev = c;
    }
    out
}

/// A note in the full shape of a live answer (fixture `notes_all.json`).
pub fn note_json(n: &Note) -> Json_ {
    json!({
        "id": n.id,
        "creator_id": n.creator_id,
        "person_ids": n.person_ids,
        "associated_person_ids": [],
        "interaction_person_ids": [],
        "interaction_id": null,
        "interaction_type": null,
        "is_meeting": false,
        "mentioned_person_ids": [],
        "organization_ids": n.organization_ids,
        "opportunity_ids": n.opportunity_ids,
        "parent_id": n.parent_id,
        "content": escape_underscores(&n.content),
        "type": n.kind,
        "created_at": v1_time(n.created_at),
        "updated_at": n.updated_at.map(v1_time),
    })
}

/// Deletes the values on a list entry, recording each deletion.
pub fn delete_entry_values(st: &mut State, entry_id: i64) {
    let ids: Vec<i64> = st
        .field_values
        .values()
        .filter(|fv| fv.list_entry_id == Some(entry_id))
        .map(|fv| fv.id)
        .collect();
    delete_values(st, &ids);
}

/// Deletes field values by id, recording each deletion (action 1).
pub fn delete_values(st: &mut State, ids: &[i64]) {
    for id in ids {
        if let Some(fv) = st.field_values.remove(id) {
            st.track_change(&fv, 1);
        }
    }
}

/// Deletes an entity's list entries, their values and its global values.
pub fn delete_entity_data(st: &mut State, kind: i64, id: i64) {
    let entries: Vec<i64> = st
        .list_entries
        .values()
        .filter(|e| e.entity_id == id && entry_type(st, e) == kind)
        .map(|e| e.id)
        .collect();
    for e in &entries {
        delete_entry_values(st, *e);
        st.list_entries.remove(e);
    }
    let values: Vec<i64> = st
        .field_values
        .values()
        .filter(|fv| fv.entity_type == kind && fv.entity_id == id)
        .map(|fv| fv.id)
        .collect();
    delete_values(st, &values);
}

/// Case-insensitive substring match.
pub fn contains_ci(hay: &str, needle_lower: &str) -> bool {
    hay.to_lowercase().contains(needle_lower)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn underscores_are_escaped_once() {
        let cases = [
            ("a_b", "a\\_b"),
            ("a\\_b", "a\\_b"),
            ("__", "\\_\\_"),
            ("plain", "plain"),
        ];
        for (input, want) in cases {
            assert_eq!(escape_underscores(input), want, "{input}");
        }
    }

    #[test]
    fn tokens_carry_params_and_refuse_others() {
        let q = Q::parse(Some("term=ab&page_size=2".into()));
        let p = Paging::from(&q, 500).unwrap();
        let (page, next) = p.page(vec![1, 2, 3]);
        assert_eq!(page, vec![1, 2]);
        let next = next.unwrap();
        let q2 = Q::parse(Some(format!("term=ab&page_token={next}")));
        let p2 = Paging::from(&q2, 500).unwrap();
        assert_eq!((p2.offset, p2.size), (2, 2));
        let q3 = Q::parse(Some(format!("term=abc&page_token={next}")));
        assert_eq!(Paging::from(&q3, 500).unwrap_err().message, BAD_TOKEN);
        let q4 = Q::parse(Some("page_token=garbage".into()));
        assert_eq!(Paging::from(&q4, 500).unwrap_err().message, BAD_TOKEN);
        // page_size is capped.
        let q5 = Q::parse(Some("page_size=9999".into()));
        assert_eq!(Paging::from(&q5, 500).unwrap().size, 500);
    }
}
