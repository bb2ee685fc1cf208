//! List writes, saved views and dropdown options (affinity-api.md §3.4, "2026 additions"):
//! `POST /v2/lists`, `POST /v2/lists/{id}/list-entries`, the saved-view reads, and the
//! dropdown-option routes of list, company and person fields.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use serde_json::{json, Value as Json_};

use super::super::state::{entity_type, DropdownOption, Field, List, ListEntry, State as Tenant};
use super::read::{entry_field_defs, entry_with_entity, find_entity, find_list};
use super::render::{self, color_name};
use super::{invalid, json_body, page, paged, path_id, Answer, Params, PathParams, LIMITS, V2};
use crate::{ApiError, AppState};

fn kind_of(t: &str) -> Option<i64> {
    match t {
        "company" => Some(entity_type::ORGANIZATION),
        "person" => Some(entity_type::PERSON),
        "opportunity" => Some(entity_type::OPPORTUNITY),
        _ => None,
    }
}

/// `POST /v2/lists {name, type, isPublic?}`: 201 with the list; the key's user owns it.
pub async fn create_list(State(s): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let body = json_body(&body)?;
    let name = body
        .get("name")
        .and_then(Json_::as_str)
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| invalid("name", "`name` is required"))?
        .to_string();
    let kind = body
        .get("type")
        .and_then(Json_::as_str)
        .and_then(kind_of)
        .ok_or_else(|| {
            invalid(
                "type",
                "`type` must be `company`, `person` or `opportunity`",
            )
        })?;
    // [I] A list made through the API is public unless asked otherwise, as in v1's form.
    let public = body
        .get("isPublic")
        .and_then(Json_::as_bool)
        .unwrap_or(true);
    let mut st = s.tenant();
    let id = st.next_id();
    let user = st.caller_id();
    let l = List {
        id,
        kind,
        name,
        public,
        owner_id: user,
        creator_id: user,
        created_at: Utc::now(),
    };
    let answer = render::list(&l, true);
    st.lists.insert(id, l);
    let announced = json!({"id": id, "type": kind, "name": st.lists[&id].name, "public": public,
        "owner_id": user, "creator_id": user, "list_size": 0, "additional_permissions": []});
    st.announce("list.created", announced);
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// `POST /v2/lists/{id}/list-entries {entity:{id}, creatorId?}` (2026-09-17): 201 with the
/// entry. Company and person lists only; refused when the list has a required field, since the
/// entry would be made without its value (affinity-api.md §3.4). Like v1, it does not dedupe.
pub async fn create_entry(
    State(s): State<AppState>,
    path: PathParams,
    body: Bytes,
) -> Result<Response, ApiError> {
    let list_id = path_id(&path, "listId")?;
    let body = json_body(&body)?;
    let mut st = s.tenant();
    find_list(&st, list_id)?;
    let kind = st.lists[&list_id].kind;
    if kind == entity_type::OPPORTUNITY {
        return Err(invalid(
            "listId",
            "entries of an opportunity list are made with the opportunity (v1 `POST /opportunities`)",
        ));
    }
    if let Some(f) = st
        .fields
        .values()
        .find(|f| f.list_id == Some(list_id) && f.is_required)
    {
        return Err(invalid(
            "listId",
            format!("the list has a required field `{}`", f.name),
        ));
    }
    let entity_id = body
        .pointer("/entity/id")
        .and_then(Json_::as_i64)
        .ok_or_else(|| invalid("entity.id", "`entity.id` is required"))?;
    find_entity(&st, kind, entity_id).map_err(|e| {
        if e.status == StatusCode::NOT_FOUND {
            invalid("entity.id", format!("entity {entity_id} not found"))
        } else {
            e
        }
    })?;
    let creator = match body.get("creatorId") {
        None | Some(Json_::Null) => st.caller_id(),
        Some(v) => match v.as_i64().and_then(|id| st.persons.get(&id)) {
            Some(p) if p.kind == 1 => p.id,
            _ => {
                return Err(invalid(
                    "creatorId",
                    "the creator must be an internal person",
                ))
            }
        },
    };
    if let Some(o) = st.organizations.get_mut(&entity_id) {
        if kind == entity_type::ORGANIZATION {
            o.in_tenant = true;
        }
    }
    let id = st.next_id();
    let e = ListEntry {
        id,
        list_id,
        entity_id,
        creator_id: Some(creator),
        created_at: Utc::now(),
    };
    st.list_entries.insert(id, e.clone());
    let answer = entry_with_entity(&st, &e, &[]);
    let announced = crate::v1::common::entry_json(&st, &e);
    st.announce("list_entry.created", announced);
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

fn view_json(v: &crate::state::SavedView) -> Json_ {
    json!({
        "id": v.id, "name": v.name, "type": v.kind,
        "createdAt": super::super::state::v2_time(v.created_at),
    })
}

fn find_view(st: &Tenant, path: &PathParams) -> Result<crate::state::SavedView, ApiError> {
    let list_id = path_id(path, "listId")?;
    let view_id = path_id(path, "viewId")?;
    find_list(st, list_id)?;
    st.saved_views
        .get(&view_id)
        .filter(|v| v.list_id == list_id)
        .cloned()
        .ok_or_else(|| ApiError::not_found(V2, format!("saved view {view_id} on list {list_id}")))
}

/// `GET /v2/lists/{id}/saved-views`.
pub async fn saved_views(
    State(s): State<AppState>,
    uri: Uri,
    path: PathParams,
    q: RawQuery,
) -> Answer {
    let p = Params::parse(q);
    let list_id = path_id(&path, "listId")?;
    let st = s.tenant();
    find_list(&st, list_id)?;
    let views: Vec<_> = st
        .saved_views
        .values()
        .filter(|v| v.list_id == list_id)
        .collect();
    let pg = page(&p, views.len(), LIMITS)?;
    let data = views[pg.start..pg.end]
        .iter()
        .map(|v| view_json(v))
        .collect();
    Ok(Json(paged(&s, uri.path(), &p, pg, data, false)))
}

/// `GET /v2/lists/{id}/saved-views/{viewId}`.
pub async fn saved_view(State(s): State<AppState>, path: PathParams) -> Answer {
    let st = s.tenant();
    Ok(Json(view_json(&find_view(&st, &path)?)))
}

/// `GET /v2/lists/{id}/saved-views/{viewId}/list-entries`: the list's entries with the fields
/// the view shows. The emulator keeps no view filters: a view shows every entry [I].
pub async fn saved_view_entries(
    State(s): State<AppState>,
    uri: Uri,
    path: PathParams,
    q: RawQuery,
) -> Answer {
    let p = Params::parse(q);
    let st = s.tenant();
    let view = find_view(&st, &path)?;
    let defs: Vec<&Field> = entry_field_defs(&st, view.list_id)
        .into_iter()
        .filter(|f| view.field_ids.contains(&f.id))
        .collect();
    let entries: Vec<&ListEntry> = st
        .list_entries
        .values()
        .filter(|e| e.list_id == view.list_id)
        .collect();
    let pg = page(&p, entries.len(), LIMITS)?;
    let data = entries[pg.start..pg.end]
        .iter()
        .map(|e| entry_with_entity(&st, e, &defs))
        .collect();
    Ok(Json(paged(&s, uri.path(), &p, pg, data, false)))
}

/// `DropdownOption`: by the field's type, `dropdown` or `ranked-dropdown` (the emulator has
/// no status dropdowns).
pub fn option_json(f: &Field, o: &DropdownOption) -> Json_ {
    if f.value_type == crate::state::value_type::RANKED_DROPDOWN {
        json!({ "id": o.id, "text": o.text, "type": "ranked-dropdown", "rank": o.rank,
                "color": color_name(o.color) })
    } else {
        json!({ "id": o.id, "text": o.text, "type": "dropdown" })
    }
}

/// The dropdown field a path names: of the list (`listId`), or a global one of the entity type.
fn dropdown_field(st: &Tenant, path: &PathParams, et: Option<i64>) -> Result<Field, ApiError> {
    let field_id = path.get("fieldId").cloned().unwrap_or_default();
    let list_id = match et {
        None => {
            let id = path_id(path, "listId")?;
            find_list(st, id)?;
            Some(id)
        }
        Some(_) => None,
    };
    let f = st
        .fields
        .values()
        .find(|f| {
            f.v2_id() == field_id
                && match list_id {
                    Some(l) => {
                        f.list_id == Some(l)
                            || (f.list_id.is_none() && f.entity_type == st.lists[&l].kind)
                    }
                    None => f.list_id.is_none() && Some(f.entity_type) == et,
                }
        })
        .cloned()
        .ok_or_else(|| ApiError::not_found(V2, format!("field `{field_id}`")))?;
    if !matches!(
        f.value_type,
        crate::state::value_type::DROPDOWN | crate::state::value_type::RANKED_DROPDOWN
    ) {
        return Err(invalid(
            "fieldId",
            format!("`{field_id}` is not a dropdown field"),
        ));
    }
    Ok(f)
}

fn options_page(s: &AppState, uri: &Uri, p: &Params, f: &Field) -> Answer {
    let pg = page(p, f.dropdown_options.len(), LIMITS)?;
    let data = f.dropdown_options[pg.start..pg.end]
        .iter()
        .map(|o| option_json(f, o))
        .collect();
    Ok(Json(paged(s, uri.path(), p, pg, data, false)))
}

/// `GET /v2/lists/{id}/fields/{fieldId}/dropdown-options`.
pub async fn list_options(
    State(s): State<AppState>,
    uri: Uri,
    path: PathParams,
    q: RawQuery,
) -> Answer {
    let f = dropdown_field(&s.tenant(), &path, None)?;
    options_page(&s, &uri, &Params::parse(q), &f)
}

/// `GET /v2/{companies|persons}/fields/{fieldId}/dropdown-options`.
pub async fn entity_options<const ET: i64>(
    State(s): State<AppState>,
    uri: Uri,
    path: PathParams,
    q: RawQuery,
) -> Answer {
    let f = dropdown_field(&s.tenant(), &path, Some(ET))?;
    options_page(&s, &uri, &Params::parse(q), &f)
}

fn option_of(f: &Field, path: &PathParams) -> Result<DropdownOption, ApiError> {
    let id = path_id(path, "dropdownOptionId")?;
    f.option_by_id(id)
        .cloned()
        .ok_or_else(|| ApiError::not_found(V2, format!("dropdown option {id}")))
}

/// `GET /v2/lists/{id}/fields/{fieldId}/dropdown-options/{optionId}`.
pub async fn list_option(State(s): State<AppState>, path: PathParams) -> Answer {
    let st = s.tenant();
    let f = dropdown_field(&st, &path, None)?;
    Ok(Json(option_json(&f, &option_of(&f, &path)?)))
}

/// The palette index of a v2 color name (the inverse of `color_name`).
fn color_code(name: &str) -> Option<i64> {
    (0..=7).find(|c| color_name(*c).as_str() == Some(name))
}

/// `POST /v2/lists/{id}/fields/{fieldId}/dropdown-options {type, text, rank?, color?}`: 201.
pub async fn create_option(
    State(s): State<AppState>,
    path: PathParams,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body = json_body(&body)?;
    let mut st = s.tenant();
    let f = dropdown_field(&st, &path, None)?;
    let ranked = f.value_type == crate::state::value_type::RANKED_DROPDOWN;
    let want = if ranked {
        "ranked-dropdown"
    } else {
        "dropdown"
    };
    if body.get("type").and_then(Json_::as_str) != Some(want) {
        return Err(invalid("type", format!("the field takes `{want}` options")));
    }
    let text = body
        .get("text")
        .and_then(Json_::as_str)
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| invalid("text", "`text` is required"))?
        .to_string();
    if f.option_by_text(&text).is_some() {
        return Err(invalid(
            "text",
            format!("the field already has an option `{text}`"),
        ));
    }
    let (rank, color) = if ranked {
        let rank = body
            .get("rank")
            .and_then(Json_::as_i64)
            .ok_or_else(|| invalid("rank", "`rank` is required"))?;
        let color = body
            .get("color")
            .and_then(Json_::as_str)
            .and_then(color_code)
            .ok_or_else(|| invalid("color", "`color` must be one of the spec's colors"))?;
        (rank, color)
    } else {
        (f.dropdown_options.len() as i64, 0)
    };
    let id = st.next_id();
    let o = DropdownOption {
        id,
        text,
        rank,
        color,
    };
    let field = st.fields.get_mut(&f.id).expect("found above");
    field.dropdown_options.push(o.clone());
    let answer = option_json(field, &o);
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// `POST /v2/lists/{id}/fields/{fieldId}/dropdown-options/{optionId} {text?, rank?, color?}`:
/// 204.
pub async fn update_option(
    State(s): State<AppState>,
    path: PathParams,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body = json_body(&body)?;
    let mut st = s.tenant();
    let f = dropdown_field(&st, &path, None)?;
    let o = option_of(&f, &path)?;
    let text = match body.get("text") {
        None => None,
        Some(t) => Some(
            t.as_str()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| invalid("text", "`text` must be a non-empty string"))?
                .to_string(),
        ),
    };
    let color = match body.get("color") {
        None => None,
        Some(c) => Some(
            c.as_str()
                .and_then(color_code)
                .ok_or_else(|| invalid("color", "`color` must be one of the spec's colors"))?,
        ),
    };
    let rank = body.get("rank").and_then(Json_::as_i64);
    let field = st.fields.get_mut(&f.id).expect("found above");
    let opt = field
        .dropdown_options
        .iter_mut()
        .find(|x| x.id == o.id)
        .expect("found above");
    if let Some(t) = text {
        opt.text = t;
    }
    if let Some(c) = color {
        opt.color = c;
    }
    if let Some(r) = rank {
        opt.rank = r;
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `DELETE /v2/lists/{id}/fields/{fieldId}/dropdown-options/{optionId}`: 204; the values that
/// held the option are cleared.
pub async fn delete_option(
    State(s): State<AppState>,
    path: PathParams,
) -> Result<Response, ApiError> {
    let mut st = s.tenant();
    let f = dropdown_field(&st, &path, None)?;
    let o = option_of(&f, &path)?;
    let holding: Vec<i64> = st
        .field_values
        .values()
        .filter(|fv| {
            fv.field_id == f.id
                && matches!(fv.value,
                    crate::state::Value::Dropdown(id) | crate::state::Value::RankedDropdown(id) if id == o.id)
        })
        .map(|fv| fv.id)
        .collect();
    for id in holding {
        if let Some(fv) = st.field_values.remove(&id) {
            st.track_change(&fv, 1);
        }
    }
    let field = st.fields.get_mut(&f.id).expect("found above");
    field.dropdown_options.retain(|x| x.id != o.id);
    Ok(StatusCode::NO_CONTENT.into_response())
}
