//! Field values of list entries (GA) and of companies and persons (2026 beta), read and written
//! (affinity-api.md §3.3, §3.4). Writes take `{type, data}` values (`State::parse_v2_value`):
//! ranked dropdowns by option id, dates stored at midnight US Pacific (§8.7).

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use serde_json::{json, Value as Json_};

use super::super::state::{Field, FieldValue, Invalid, ListEntry, State as Tenant, Value};
use super::read::{
    entity_field_defs, entry_field_defs, find_entity, find_entry, id_param, render_fields, select,
    ENTITY_TYPES, ENTRY_TYPES,
};
use super::{
    invalid, json_body, page, paged, path_id, Answer, Params, PathParams, FIELD_LIMITS, V2,
};
use crate::{ApiError, AppState};

/// At most this many updates in one `update-fields` operation (SPEC: `maxItems: 100`).
const MAX_UPDATES: usize = 100;

/// Whose field values a request reads or writes: an entity, or one of its list entries.
struct Target {
    entity_type: i64,
    entity_id: i64,
    entry: Option<ListEntry>,
}

impl Target {
    fn of_entry(st: &Tenant, path: &PathParams) -> Result<Target, ApiError> {
        let list_id = path_id(path, "listId")?;
        let entry_id = path_id(path, "listEntryId")?;
        let e = find_entry(st, list_id, entry_id)?;
        Ok(Target {
            entity_type: st.lists[&list_id].kind,
            entity_id: e.entity_id,
            entry: Some(e),
        })
    }

    fn of_entity(st: &Tenant, et: i64, path: &PathParams) -> Result<Target, ApiError> {
        let id = path_id(path, id_param(et))?;
        find_entity(st, et, id)?;
        Ok(Target {
            entity_type: et,
            entity_id: id,
            entry: None,
        })
    }

    /// The fields this target has: a list entry's list fields and its entity's global and
    /// enriched fields; an entity's global and enriched fields only (§3.1).
    fn defs<'a>(&self, st: &'a Tenant) -> Vec<&'a Field> {
        match &self.entry {
            Some(e) => entry_field_defs(st, e.list_id),
            None => entity_field_defs(st, self.entity_type),
        }
    }

    fn types(&self) -> &'static [&'static str] {
        if self.entry.is_some() {
            ENTRY_TYPES
        } else {
            ENTITY_TYPES
        }
    }

    /// `GET …/fields[?ids&types&cursor&limit]`: every field by default, 20 a page.
    fn read_all(&self, s: &AppState, uri: &Uri, p: &Params) -> Answer {
        let st = s.tenant();
        let defs =
            select(self.defs(&st), p, ("ids", "types"), self.types(), true)?.unwrap_or_default();
        let pg = page(p, defs.len(), FIELD_LIMITS)?;
        let data = render_fields(
            &st,
            &defs[pg.start..pg.end],
            self.entity_id,
            self.entry.as_ref(),
        );
        Ok(Json(paged(s, uri.path(), p, pg, data, false)))
    }

    /// `GET …/fields/{fieldId}`.
    fn read_one(&self, st: &Tenant, field_id: &str) -> Answer {
        let f = self
            .defs(st)
            .into_iter()
            .find(|f| f.v2_id() == field_id)
            .ok_or_else(|| ApiError::not_found(V2, format!("field `{field_id}`")))?;
        Ok(Json(
            render_fields(st, &[f], self.entity_id, self.entry.as_ref()).remove(0),
        ))
    }

    /// Checks every update first, then applies them all: all or nothing. `param` names an
    /// update in errors (`updates[3]`, or `value` for a single-field write).
    fn write(
        &self,
        st: &mut Tenant,
        updates: &[(String, Json_)],
        param: &dyn Fn(usize) -> String,
    ) -> Result<(), ApiError> {
        let mut checked: Vec<(Field, Vec<Value>)> = Vec::with_capacity(updates.len());
        for (i, (id, value)) in updates.iter().enumerate() {
            let f = self
                .defs(st)
                .into_iter()
                .find(|f| f.v2_id() == *id)
                .cloned()
                .ok_or_else(|| invalid(&param(i), format!("field `{id}` not found")))?;
            if f.is_enriched() {
                return Err(invalid(
                    &param(i),
                    format!("field `{id}` is enriched and cannot be written"),
                ));
            }
            let values = st.parse_v2_value(&f, value).map_err(|inv| {
                let p = format!("{}.{}", param(i), inv.param);
                ApiError::invalid(V2, Invalid::new(p, inv.message))
            })?;
            checked.push((f, values));
        }
        for (f, values) in checked {
            let list_entry_id = match (&self.entry, f.list_id) {
                (Some(e), Some(_)) => Some(e.id),
                _ => None,
            };
            st.check_value_target(&f, self.entity_id, list_entry_id)
                .map_err(|inv| ApiError::invalid(V2, inv))?;
            replace(st, &f, self.entity_id, list_entry_id, values);
        }
        Ok(())
    }
}

/// Writes `{id, value}` updates to an entity's own fields (the `fields` of `POST /v2/persons`).
pub(super) fn write_entity(
    st: &mut Tenant,
    et: i64,
    id: i64,
    updates: &[(String, Json_)],
) -> Result<(), ApiError> {
    let t = Target {
        entity_type: et,
        entity_id: id,
        entry: None,
    };
    t.write(st, updates, &|i| format!("fields[{i}]"))
}

/// Makes `new` the values of a field: a single value is updated in place; a multi-value keeps
/// the values it still has, drops the others and adds the rest. Changes are tracked as v1's
/// `GET /field-value-changes` shows them (0 create, 1 delete, 2 update).
fn replace(st: &mut Tenant, f: &Field, entity_id: i64, le: Option<i64>, new: Vec<Value>) {
    let old: Vec<(i64, Value)> = st
        .values_of(f.id, entity_id, le)
        .into_iter()
        .map(|fv| (fv.id, fv.value.clone()))
        .collect();
    let mut to_add = new;
    let mut to_drop = vec![];
    if !f.allows_multiple {
        let mut old = old.into_iter();
        let first = old.next();
        // A single-valued field never holds more than one value; drop any extra.
        to_drop.extend(old.map(|(id, _)| id));
        let now = to_add.drain(..).next();
        match (first, now) {
            (Some((id, was)), Some(now)) => {
                if was != now {
                    let fv = st.field_values.get_mut(&id).expect("listed above");
                    fv.value = now;
                    fv.updated_at = Some(Utc::now());
                    let fv = fv.clone();
                    st.track_change(&fv, 2);
                }
            }
            (Some((id, _)), None) => to_drop.push(id),
            (None, Some(now)) => to_add.push(now),
            (None, None) => {}
        }
    } else {
        for (id, was) in old {
            match to_add.iter().position(|v| *v == was) {
                Some(i) => {
                    to_add.remove(i);
                }
                None => to_drop.push(id),
            }
        }
    }
    for id in to_drop {
        if let Some(fv) = st.field_values.remove(&id) {
            st.track_change(&fv, 1);
        }
    }
    for value in to_add {
        let id = st.next_id();
        let fv = FieldValue {
            id,
            field_id: f.id,
            entity_id,
            entity_type: f.entity_type,
            list_entry_id: le,
            value,
            created_at: Utc::now(),
            updated_at: None,
        };
        st.track_change(&fv, 0);
        st.field_values.insert(id, fv);
    }
}

/// The `updates` of an `update-fields` body, or a v2 400.
fn updates_of(body: &Json_) -> Result<Vec<(String, Json_)>, ApiError> {
    if body.get("operation").and_then(Json_::as_str) != Some("update-fields") {
        return Err(invalid("operation", "`operation` must be `update-fields`"));
    }
    let updates = body
        .get("updates")
        .and_then(Json_::as_array)
        .ok_or_else(|| invalid("updates", "`updates` must be an array"))?;
    if updates.len() > MAX_UPDATES {
        return Err(invalid(
            "updates",
            format!(
                "`updates` holds {} items; at most {MAX_UPDATES} are allowed",
                updates.len()
            ),
        ));
    }
    updates
        .iter()
        .enumerate()
        .map(|(i, u)| {
            let id = u
                .get("id")
                .and_then(Json_::as_str)
                .ok_or_else(|| invalid(&format!("updates[{i}].id"), "a field id is required"))?;
            Ok((
                id.to_string(),
                u.get("value").cloned().unwrap_or(Json_::Null),
            ))
        })
        .collect()
}

/// `PATCH …/fields`: 200 `{"operation":"update-fields"}` (SPEC).
fn patch(
    s: &AppState,
    target: impl FnOnce(&Tenant) -> Result<Target, ApiError>,
    body: &[u8],
) -> Answer {
    let body = json_body(body)?;
    let updates = updates_of(&body)?;
    let mut st = s.tenant();
    let t = target(&st)?;
    t.write(&mut st, &updates, &|i| format!("updates[{i}]"))?;
    Ok(Json(json!({ "operation": "update-fields" })))
}

/// `POST …/fields/{fieldId}` with `{"value": {type, data}}`: 204 (SPEC).
fn post_one(
    s: &AppState,
    target: impl FnOnce(&Tenant) -> Result<Target, ApiError>,
    field_id: &str,
    body: &[u8],
) -> Result<Response, ApiError> {
    let body = json_body(body)?;
    let value = body
        .get("value")
        .cloned()
        .ok_or_else(|| invalid("value", "`value` is required"))?;
    let mut st = s.tenant();
    let t = target(&st)?;
    if !t.defs(&st).iter().any(|f| f.v2_id() == field_id) {
        return Err(ApiError::not_found(V2, format!("field `{field_id}`")));
    }
    t.write(&mut st, &[(field_id.to_string(), value)], &|_| {
        "value".into()
    })
    .map_err(|mut e| {
        // `value.value.type` reads badly: the one value is the body's `value`.
        if let Some(p) = &e.param {
            e.param = Some(p.replacen("value.value", "value", 1));
        }
        e
    })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn field_param(path: &PathParams) -> String {
    path.get("fieldId").cloned().unwrap_or_default()
}

pub async fn entry_fields(
    State(s): State<AppState>,
    uri: Uri,
    path: PathParams,
    q: RawQuery,
) -> Answer {
    let t = Target::of_entry(&s.tenant(), &path)?;
    t.read_all(&s, &uri, &Params::parse(q))
}

pub async fn entry_field(State(s): State<AppState>, path: PathParams) -> Answer {
    let st = s.tenant();
    Target::of_entry(&st, &path)?.read_one(&st, &field_param(&path))
}

pub async fn patch_entry_fields(
    State(s): State<AppState>,
    path: PathParams,
    body: Bytes,
) -> Answer {
    patch(&s, |st| Target::of_entry(st, &path), &body)
}

pub async fn post_entry_field(
    State(s): State<AppState>,
    path: PathParams,
    body: Bytes,
) -> Result<Response, ApiError> {
    post_one(
        &s,
        |st| Target::of_entry(st, &path),
        &field_param(&path),
        &body,
    )
}

pub async fn entity_fields<const ET: i64>(
    State(s): State<AppState>,
    uri: Uri,
    path: PathParams,
    q: RawQuery,
) -> Answer {
    let t = Target::of_entity(&s.tenant(), ET, &path)?;
    t.read_all(&s, &uri, &Params::parse(q))
}

pub async fn entity_field<const ET: i64>(State(s): State<AppState>, path: PathParams) -> Answer {
    let st = s.tenant();
    Target::of_entity(&st, ET, &path)?.read_one(&st, &field_param(&path))
}

/// Company and person field writes (2026 beta). A global company's custom field values can be
/// written, as in v1 (`POST /field-values` takes a global organization's id); what Affinity
/// keeps immutable is its name and domain (§8.3), which are no fields here. [I]
pub async fn patch_entity_fields<const ET: i64>(
    State(s): State<AppState>,
    path: PathParams,
    body: Bytes,
) -> Answer {
    patch(&s, |st| Target::of_entity(st, ET, &path), &body)
}

pub async fn post_entity_field<const ET: i64>(
    State(s): State<AppState>,
    path: PathParams,
    body: Bytes,
) -> Result<Response, ApiError> {
    post_one(
        &s,
        |st| Target::of_entity(st, ET, &path),
        &field_param(&path),
        &body,
    )
}
