//! Fields, field values and field value changes (affinity-api.md §2.3).

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{json, Value as Json_};

use super::common::*;
use crate::state::{entity_type, Field, FieldValue, State as Tenant};
use crate::{ApiError, AppState, Version};

/// A field (§2.3, fixture `fields_all.json`). `with_modified_names` prefixes a list field's
/// name with its list's, as `"[Deals] Amount"` in the fixture.
pub fn field_json(st: &Tenant, f: &Field, modified_names: bool, no_options: bool) -> Json_ {
    let name = match (modified_names, f.list_id.and_then(|l| st.lists.get(&l))) {
        (true, Some(l)) => format!("[{}] {}", l.name, f.name),
        _ => f.name.clone(),
    };
    let options: Vec<Json_> = if no_options {
        vec![]
    } else {
        f.dropdown_options
            .iter()
            .map(|o| json!({ "id": o.id, "text": o.text, "rank": o.rank, "color": o.color }))
            .collect()
    };
    json!({
        "id": f.id,
        "name": name,
        "list_id": f.list_id,
        "enrichment_source": f.enrichment_source,
        "value_type": f.value_type,
        "allows_multiple": f.allows_multiple,
        "track_changes": f.tracks_changes(),
        "dropdown_options": options,
    })
}

/// Crunchbase fields are never returned (§2.3).
fn listed(f: &Field) -> bool {
    f.enrichment_source != "crunchbase"
}

/// `GET /fields[?list_id&value_type&entity_type&with_modified_names&exclude_dropdown_options]`.
pub async fn all(State(s): State<AppState>, RawQuery(raw): RawQuery) -> Answer {
    let q = Q::parse(raw);
    let list_id = q.int("list_id")?;
    let vt = q.int("value_type")?;
    let et = q.int("entity_type")?;
    let modified = q.bool("with_modified_names")?;
    let no_options = q.bool("exclude_dropdown_options")?;
    let st = s.tenant();
    if let Some(l) = list_id {
        if !st.lists.contains_key(&l) {
            return Err(not_found(format!("list {l}")));
        }
    }
    ok(st
        .fields
        .values()
        .filter(|f| listed(f))
        .filter(|f| list_id.is_none() || f.list_id == list_id)
        .filter(|f| vt.is_none_or(|v| f.value_type == v))
        .filter(|f| et.is_none_or(|e| f.entity_type == e))
        .map(|f| field_json(&st, f, modified, no_options))
        .collect())
}

fn global_fields(st: &Tenant, kind: i64) -> Json_ {
    st.fields
        .values()
        .filter(|f| listed(f) && f.list_id.is_none() && f.entity_type == kind)
        .map(|f| field_json(st, f, false, false))
        .collect()
}

/// `GET /persons/fields`: the global person fields.
pub async fn person_fields(State(s): State<AppState>) -> Answer {
    ok(global_fields(&s.tenant(), entity_type::PERSON))
}

/// `GET /organizations/fields`: the global organization fields.
pub async fn organization_fields(State(s): State<AppState>) -> Answer {
    ok(global_fields(&s.tenant(), entity_type::ORGANIZATION))
}

#[derive(Deserialize)]
struct NewField {
    name: String,
    entity_type: i64,
    value_type: i64,
    list_id: Option<i64>,
    #[serde(default)]
    allows_multiple: bool,
    #[serde(default)]
    is_list_specific: bool,
}

/// `POST /fields {name, entity_type, value_type, list_id?, allows_multiple?, is_list_specific?}`.
/// Dropdown options cannot be given here (fields are not editable via the API).
pub async fn create(State(s): State<AppState>, b: Bytes) -> Answer {
    let nf: NewField = body(&b)?;
    let mut st = s.tenant();
    if ![
        entity_type::PERSON,
        entity_type::ORGANIZATION,
        entity_type::OPPORTUNITY,
    ]
    .contains(&nf.entity_type)
    {
        return Err(invalid(
            "entity_type",
            format!("unknown entity type {}", nf.entity_type),
        ));
    }
    if !(0..=7).contains(&nf.value_type) {
        return Err(invalid(
            "value_type",
            format!("unknown value type {}", nf.value_type),
        ));
    }
    if nf.name.trim().is_empty() {
        return Err(invalid("name", "a field needs a name"));
    }
    match nf.list_id {
        Some(l) => match st.lists.get(&l) {
            Some(list) if list.kind == nf.entity_type => {}
            Some(_) => {
                return Err(invalid(
                    "list_id",
                    format!("list {l} does not hold entity type {}", nf.entity_type),
                ))
            }
            None => return Err(invalid("list_id", format!("list {l} not found"))),
        },
        None if nf.is_list_specific => {
            return Err(invalid(
                "list_id",
                "a list-specific field needs a `list_id`",
            ))
        }
        None if nf.entity_type == entity_type::OPPORTUNITY => {
            return Err(invalid("list_id", "opportunity fields are list-specific"))
        }
        None => {}
    }
    let id = st.next_id();
    let f = Field {
        id,
        name: nf.name,
        list_id: nf.list_id,
        entity_type: nf.entity_type,
        value_type: nf.value_type,
        allows_multiple: nf.allows_multiple,
        track_changes: true,
        enrichment_source: "none".into(),
        dropdown_options: vec![],
        created_at: Utc::now(),
        description: None,
        is_required: false,
    };
    let v = field_json(&st, &f, false, false);
    st.fields.insert(id, f);
    st.announce("field.created", v.clone());
    created(v)
}

/// `DELETE /fields/{id}`: also deletes its values. Enriched fields cannot be deleted [I].
pub async fn delete(State(s): State<AppState>, P(id): P<i64>) -> Answer {
    let mut st = s.tenant();
    let f = st
        .fields
        .get(&id)
        .ok_or_else(|| not_found(format!("field {id}")))?;
    if f.is_enriched() {
        return Err(invalid(
            "field_id",
            format!("field {id} is enriched and cannot be deleted"),
        ));
    }
    let values: Vec<i64> = st
        .field_values
        .values()
        .filter(|fv| fv.field_id == id)
        .map(|fv| fv.id)
        .collect();
    for v in values {
        st.field_values.remove(&v);
    }
    if let Some(f) = st.fields.remove(&id) {
        let v = field_json(&st, &f, false, false);
        st.announce("field.deleted", v);
    }
    success()
}

/// The entity keys of `/field-values` and `/field-value-changes`, with their entity types.
const TARGETS: [&str; 4] = [
    "person_id",
    "organization_id",
    "opportunity_id",
    "list_entry_id",
];

fn kind_of(key: &str) -> i64 {
    match key {
        "person_id" => entity_type::PERSON,
        "organization_id" => entity_type::ORGANIZATION,
        _ => entity_type::OPPORTUNITY,
    }
}

/// Which values a target selects: an entity id gives its global values plus the values on
/// all its list entries; a list entry id the values on that entry (§2.3).
fn selects(key: &str, id: i64) -> impl Fn(i64, i64, Option<i64>) -> bool + '_ {
    move |kind, entity, entry| match key {
        "list_entry_id" => entry == Some(id),
        k => kind == kind_of(k) && entity == id,
    }
}

fn check_target(st: &Tenant, key: &str, id: i64) -> Result<(), ApiError> {
    if key == "list_entry_id" {
        if !st.list_entries.contains_key(&id) {
            return Err(not_found(format!("list entry {id}")));
        }
        return Ok(());
    }
    check_entity(st, kind_of(key), id)
}

/// `GET /field-values` with exactly one of `person_id`, `organization_id`, `opportunity_id`,
/// `list_entry_id`: a bare array.
pub async fn values(State(s): State<AppState>, RawQuery(raw): RawQuery) -> Answer {
    let q = Q::parse(raw);
    let (key, id) = q.exactly_one(&TARGETS)?;
    let st = s.tenant();
    check_target(&st, key, id)?;
    let sel = selects(key, id);
    ok(st
        .field_values
        .values()
        .filter(|fv| sel(fv.entity_type, fv.entity_id, fv.list_entry_id))
        .map(|fv| field_value_json(&st, fv))
        .collect())
}

#[derive(Deserialize)]
struct NewValue {
    field_id: i64,
    entity_id: i64,
    value: Json_,
    list_entry_id: Option<i64>,
}

fn writable_field(st: &Tenant, id: i64) -> Result<Field, ApiError> {
    let f = st
        .fields
        .get(&id)
        .cloned()
        .ok_or_else(|| invalid("field_id", format!("field {id} not found")))?;
    if f.is_enriched() {
        return Err(invalid(
            "field_id",
            format!(
                "field {id} is enriched ({}) and read-only",
                f.enrichment_source
            ),
        ));
    }
    Ok(f)
}

/// `POST /field-values {field_id, entity_id, value, list_entry_id?}`.
///
/// A POST to a single-valued field that already has a value is undocumented (§8.5); the
/// emulator refuses it with 422 naming the existing value's id, so that a client learns to
/// `PUT /field-values/{id}` instead [I]. Multi-valued fields take one record per value.
pub async fn add_value(State(s): State<AppState>, b: Bytes) -> Answer {
    let nv: NewValue = body(&b)?;
    let mut st = s.tenant();
    let field = writable_field(&st, nv.field_id)?;
    if let Some(new) = st.merged_into(field.entity_type, nv.entity_id) {
        let param = if field.entity_type == entity_type::PERSON {
            "person_id"
        } else {
            "organization_id"
        };
        return Err(ApiError::merged(Version::V1, param, nv.entity_id, new));
    }
    let kind = st
        .check_value_target(&field, nv.entity_id, nv.list_entry_id)
        .map_err(|e| ApiError::invalid(Version::V1, e))?;
    let value = st
        .parse_v1_value(&field, &nv.value)
        .map_err(|e| ApiError::invalid(Version::V1, e))?;
    if !field.allows_multiple {
        if let Some(existing) = st
            .values_of(field.id, nv.entity_id, nv.list_entry_id)
            .first()
        {
            return Err(invalid(
                "field_id",
                format!(
                    "field {} already has value {} here: update it with `PUT /field-values/{}`",
                    field.id, existing.id, existing.id
                ),
            ));
        }
    }
    let id = st.next_id();
    let fv = FieldValue {
        id,
        field_id: field.id,
        entity_id: nv.entity_id,
        entity_type: kind,
        list_entry_id: nv.list_entry_id,
        value,
        created_at: Utc::now(),
        updated_at: None,
    };
    st.track_change(&fv, 0);
    let v = field_value_json(&st, &fv);
    st.field_values.insert(id, fv);
    created(v)
}

#[derive(Deserialize)]
struct ValueUpdate {
    value: Json_,
}

/// `PUT /field-values/{id} {value}`: by the value's id, not the field's.
pub async fn update_value(State(s): State<AppState>, P(id): P<i64>, b: Bytes) -> Answer {
    let vu: ValueUpdate = body(&b)?;
    let mut st = s.tenant();
    let mut fv = st
        .field_values
        .get(&id)
        .cloned()
        .ok_or_else(|| not_found(format!("field value {id}")))?;
    let field = writable_field(&st, fv.field_id)?;
    fv.value = st
        .parse_v1_value(&field, &vu.value)
        .map_err(|e| ApiError::invalid(Version::V1, e))?;
    fv.updated_at = Some(Utc::now());
    st.track_change(&fv, 2);
    let v = field_value_json(&st, &fv);
    st.field_values.insert(id, fv);
    ok(v)
}

/// `DELETE /field-values/{id}`.
pub async fn delete_value(State(s): State<AppState>, P(id): P<i64>) -> Answer {
    let mut st = s.tenant();
    let fv = st
        .field_values
        .get(&id)
        .ok_or_else(|| not_found(format!("field value {id}")))?;
    writable_field(&st, fv.field_id)?;
    delete_values(&mut st, &[id]);
    success()
}

/// `GET /field-value-changes?field_id=&action_type?` plus at most one of `person_id`,
/// `organization_id`, `opportunity_id`, `list_entry_id` (none gives all of the field's
/// changes [I]). A field whose changes are not tracked is a 422 [I].
pub async fn changes(State(s): State<AppState>, RawQuery(raw): RawQuery) -> Answer {
    let q = Q::parse(raw);
    let field_id = q
        .int("field_id")?
        .ok_or_else(|| invalid("field_id", "`field_id` is required"))?;
    let action = q.int("action_type")?;
    if action.is_some_and(|a| !(0..=2).contains(&a)) {
        return Err(invalid("action_type", "expected 0, 1 or 2"));
    }
    let target = q.at_most_one(&TARGETS)?;
    let st = s.tenant();
    let field = st
        .fields
        .get(&field_id)
        .ok_or_else(|| not_found(format!("field {field_id}")))?;
    if !field.tracks_changes() {
        return Err(invalid(
            "field_id",
            format!("field {field_id} does not track changes"),
        ));
    }
    if let Some((key, id)) = target {
        check_target(&st, key, id)?;
    }
    let out: Vec<Json_> = st
        .field_value_changes
        .iter()
        .filter(|c| c.field_id == field_id)
        .filter(|c| action.is_none_or(|a| c.action_type == a))
        .filter(|c| {
            target.is_none_or(|(key, id)| {
                selects(key, id)(field.entity_type, c.entity_id, c.list_entry_id)
            })
        })
        .map(|c| {
            json!({
                "id": c.id,
                "field_id": c.field_id,
                "entity_id": c.entity_id,
                "list_entry_id": c.list_entry_id,
                "action_type": c.action_type,
                "changer": st.persons.get(&c.changer_id).map(person_json),
                "changed_at": crate::state::v1_time(c.changed_at),
                "value": value_json(Some(field), &c.value),
            })
        })
        .collect();
    ok(Json_::Array(out))
}
