//! Values and records as an assistant reads them: JSON with names, dates and option texts, not
//! the mirror's columns; and the client's models that have no `Serialize` of their own.

use serde_json::{json, Value as Json};

use affinity_crm::{v1, v2};
use affsync_core::model::{FieldRow, ValueItem};

/// One element of a value: its text, number, date or referenced id.
fn item_json(i: &ValueItem) -> Json {
    if let Some(t) = &i.text {
        match i.ref_id {
            // A person, organization or dropdown option: its name and its id.
            Some(id)
                if i.value_type.starts_with("person") || i.value_type.starts_with("company") =>
            {
                json!({ "id": id, "name": t })
            }
            _ => Json::String(t.clone()),
        }
    } else if let Some(n) = i.number {
        if n.fract() == 0.0 && n.abs() < 1e15 {
            json!(n as i64)
        } else {
            json!(n)
        }
    } else if let Some(a) = &i.at {
        Json::String(a.clone())
    } else if let Some(r) = i.ref_id {
        json!({ "id": r })
    } else if let Some(j) = &i.json {
        serde_json::from_str(j).unwrap_or(Json::String(j.clone()))
    } else {
        Json::Null
    }
}

/// A field's value: one element as a scalar, several as an array.
pub fn value_json(items: &[ValueItem], multi: bool) -> Json {
    if multi || items.len() > 1 {
        Json::Array(items.iter().map(item_json).collect())
    } else {
        items.first().map(item_json).unwrap_or(Json::Null)
    }
}

/// A field with its value, named as in Affinity.
pub fn field_json(field: Option<&FieldRow>, field_id: &str, items: &[ValueItem]) -> Json {
    let multi = field.is_some_and(|f| f.allows_multiple || f.value_type.ends_with("-multi"));
    json!({
        "field": field.map(|f| f.name.clone()).unwrap_or_else(|| field_id.to_string()),
        "field_id": field_id,
        "field_type": field.map(|f| f.field_type.clone()),
        "value_type": field.map(|f| f.value_type.clone()).or_else(|| items.first().map(|i| i.value_type.clone())),
        "value": value_json(items, multi),
    })
}

pub fn whoami(w: &v2::WhoAmI) -> Json {
    json!({
        "tenant": { "id": w.tenant.id, "name": w.tenant.name, "subdomain": w.tenant.subdomain },
        "user": {
            "id": w.user.id, "first_name": w.user.first_name, "last_name": w.user.last_name,
            "email": w.user.email_address,
        },
        "grant": { "type": w.grant.grant_type, "scopes": w.grant.scopes, "created_at": w.grant.created_at },
    })
}

fn limit(l: &affinity_crm::Limit) -> Json {
    match l {
        affinity_crm::Limit::Unlimited => json!("unlimited"),
        affinity_crm::Limit::Count(n) => json!(n),
    }
}

fn quota(q: &v1::Quota) -> Json {
    json!({ "limit": limit(&q.limit), "remaining": limit(&q.remaining), "reset_seconds": q.reset, "used": q.used })
}

pub fn rate_limit(r: &v1::RateLimit) -> Json {
    json!({
        "api_key_per_minute": quota(&r.rate.api_key_per_minute),
        "org_monthly": quota(&r.rate.org_monthly),
    })
}

pub fn field_value(f: &v1::FieldValue) -> Json {
    json!({
        "id": f.id, "field_id": f.field_id, "entity_id": f.entity_id,
        "list_entry_id": f.list_entry_id,
        "entity_type": f.entity_type.map(i64::from),
        "value_type": f.value_type.map(i64::from),
        "value": f.raw_value, "created_at": f.created_at, "updated_at": f.updated_at,
    })
}

pub fn field_value_change(c: &v1::FieldValueChange) -> Json {
    json!({
        "id": c.id, "field_id": c.field_id, "entity_id": c.entity_id,
        "list_entry_id": c.list_entry_id,
        "action": match c.action_type { 0 => "create", 1 => "delete", 2 => "update", _ => "other" },
        "changer": c.changer.as_ref().map(|p| json!({
            "id": p.id, "first_name": p.first_name, "last_name": p.last_name, "email": p.primary_email,
        })),
        "changed_at": c.changed_at, "value": c.value,
    })
}

pub fn relationship_strength(r: &v1::RelationshipStrength) -> Json {
    json!({ "internal_id": r.internal_id, "external_id": r.external_id, "strength": r.strength })
}

pub fn reminder(r: &v1::Reminder) -> Json {
    json!({
        "id": r.id,
        "type": match r.reminder_type { 0 => "one_time", 1 => "recurring", _ => "other" },
        "content": r.content, "due_date": r.due_date,
        "reset_type": r.reset_type.map(|t| match t { 0 => "interaction", 1 => "email", 2 => "meeting", _ => "other" }),
        "reminder_days": r.reminder_days,
        "status": r.status.map(|s| match s { 0 => "completed", 1 => "active", 2 => "overdue", _ => "other" }),
        "owner_id": r.owner_id, "creator_id": r.creator_id,
        "person_id": r.person_id, "organization_id": r.organization_id, "opportunity_id": r.opportunity_id,
        "created_at": r.created_at, "completed_at": r.completed_at,
    })
}

pub fn entity_file(f: &v1::EntityFile) -> Json {
    json!({
        "id": f.id, "name": f.name, "size": f.size,
        "person_id": f.person_id, "organization_id": f.organization_id, "opportunity_id": f.opportunity_id,
        "uploader_id": f.uploader_id, "created_at": f.created_at,
    })
}
