//! The v2 JSON of each record (affinity-api.md §3.2) and of field values (§3.3), keyed exactly
//! as the spec's schemas, many of which forbid extra keys (`additionalProperties: false`).

use serde_json::{json, Value as Json_};

use super::super::state::{
    entity_type, v2_time, Field, ListEntry, Note, Opportunity, Organization, Person, State, Value,
};

/// `Company`: `fields` only when some were asked for.
pub fn company(o: &Organization, fields: Option<Vec<Json_>>) -> Json_ {
    let mut c = json!({
        "id": o.id, "name": o.name, "domain": o.domain, "domains": o.domains, "isGlobal": o.global,
    });
    if let Some(f) = fields {
        c["fields"] = json!(f);
    }
    c
}

pub fn person_type(p: &Person) -> &'static str {
    if p.kind == 1 {
        "internal"
    } else {
        "external"
    }
}

/// `Person`: `fields` only when some were asked for.
pub fn person(p: &Person, fields: Option<Vec<Json_>>) -> Json_ {
    let mut v = json!({
        "id": p.id, "firstName": p.first_name, "lastName": p.last_name,
        "primaryEmailAddress": p.primary_email(), "emailAddresses": p.emails,
        "type": person_type(p),
    });
    if let Some(f) = fields {
        v["fields"] = json!(f);
    }
    v
}

/// `Opportunity` (no field data), or `OpportunityWithFields` inside a list entry. The 2026
/// specs require `listName`, `isRestricted` and `isRedacted` (affinity-api.md §3.2); the key's
/// user sees every opportunity of the emulated tenant, so none is restricted or redacted [I].
pub fn opportunity(st: &State, o: &Opportunity, fields: Option<Vec<Json_>>) -> Json_ {
    let list_name = st.lists.get(&o.list_id).map(|l| l.name.clone());
    let mut v = json!({
        "id": o.id, "name": o.name, "listId": o.list_id, "listName": list_name,
        "isRestricted": false, "isRedacted": false,
    });
    if let Some(f) = fields {
        v["fields"] = json!(f);
    }
    v
}

/// `PersonData`, the person inside a field value, a note's creator, a preview.
pub fn person_data(st: &State, id: i64) -> Json_ {
    match st.persons.get(&id) {
        Some(p) => json!({
            "id": p.id, "firstName": p.first_name, "lastName": p.last_name,
            "primaryEmailAddress": p.primary_email(), "type": person_type(p),
        }),
        // The key's owner is always a person of the tenant (State::from_seed); a creator
        // deleted since is shown by id alone. [I]
        None => json!({
            "id": id, "firstName": null, "lastName": null,
            "primaryEmailAddress": null, "type": "internal",
        }),
    }
}

/// `CompanyData`, the company inside a field value or a preview.
pub fn company_data(st: &State, id: i64) -> Json_ {
    match st.organizations.get(&id) {
        Some(o) => json!({ "id": o.id, "name": o.name, "domain": o.domain }),
        None => json!({ "id": id, "name": "", "domain": null }),
    }
}

/// `List` (in `/v2/{companies|persons}/{id}/lists`), or `ListWithType`.
pub fn list(l: &super::super::state::List, with_type: bool) -> Json_ {
    let mut v = json!({
        "id": l.id, "name": l.name, "creatorId": l.creator_id, "ownerId": l.owner_id,
        "isPublic": l.public, "createdAt": v2_time(l.created_at),
    });
    if with_type {
        v["type"] = json!(list_type(l.kind));
    }
    v
}

pub fn list_type(kind: i64) -> &'static str {
    match kind {
        entity_type::PERSON => "person",
        entity_type::OPPORTUNITY => "opportunity",
        _ => "company",
    }
}

/// `FieldMetadata` in the shape of `version`: `createdAt` in every version's digest;
/// `description` and `isRequired` came with 2026-09-17.
pub fn field_metadata(f: &Field, version: &str) -> Json_ {
    let mut v = json!({
        "id": f.v2_id(), "name": f.name, "type": f.v2_type(),
        "enrichmentSource": enrichment_source(f), "valueType": f.v2_value_type(),
        "createdAt": v2_time(f.created_at),
    });
    if version >= "2026-09-17" {
        v["description"] = json!(f.description);
        v["isRequired"] = json!(f.is_required);
    }
    v
}

fn enrichment_source(f: &Field) -> Json_ {
    if f.is_enriched() {
        json!(f.enrichment_source)
    } else {
        Json_::Null
    }
}

/// `Field`: a field with its value on one entity, or on one list entry for a list field.
pub fn field(st: &State, f: &Field, entity_id: i64, entry: Option<&ListEntry>) -> Json_ {
    let list_entry_id = match (f.list_id, entry) {
        (Some(_), Some(e)) => Some(e.id),
        _ => None,
    };
    let values: Vec<&Value> = st
        .values_of(f.id, entity_id, list_entry_id)
        .into_iter()
        .map(|fv| &fv.value)
        .collect();
    let value_type = f.v2_value_type();
    let data = if value_type.ends_with("-multi") {
        // Empty multi-values are `null`, not `[]` (§8.10).
        if values.is_empty() {
            Json_::Null
        } else {
            Json_::Array(values.iter().map(|v| value_data(st, f, v)).collect())
        }
    } else {
        values
            .first()
            .map(|v| value_data(st, f, v))
            .unwrap_or(Json_::Null)
    };
    json!({
        "id": f.v2_id(), "name": f.name, "type": f.v2_type(),
        "enrichmentSource": enrichment_source(f),
        "value": { "type": value_type, "data": data },
    })
}

/// One value's `data`, per the read column of §3.3.
pub fn value_data(st: &State, f: &Field, v: &Value) -> Json_ {
    match v {
        Value::Text(s) => json!(s),
        Value::Number(n) => json!(n),
        Value::Date(t) => json!(v2_time(*t)),
        Value::Location(l) => json!({
            "streetAddress": l.street_address, "city": l.city, "state": l.state,
            "country": l.country, "continent": l.continent,
        }),
        Value::Dropdown(id) => {
            let text = f
                .option_by_id(*id)
                .map(|o| o.text.clone())
                .unwrap_or_default();
            json!({ "dropdownOptionId": id, "text": text })
        }
        Value::RankedDropdown(id) => {
            let (text, rank, color) = f
                .option_by_id(*id)
                .map(|o| (o.text.clone(), o.rank, o.color))
                .unwrap_or_default();
            json!({ "dropdownOptionId": id, "text": text, "rank": rank, "color": color_name(color) })
        }
        Value::Person(id) => person_data(st, *id),
        Value::Organization(id) => company_data(st, *id),
    }
}

/// v2 gives a ranked dropdown's color as a string where v1 gives an int (§8.10). The mapping is
/// undocumented [I]: 0 is "no color" (null), then Affinity's palette in order.
pub fn color_name(color: i64) -> Json_ {
    // The spec's enum of colors: blue, gray, green, orange, purple, red, white.
    const PALETTE: [&str; 7] = ["gray", "blue", "green", "orange", "red", "purple", "white"];
    usize::try_from(color)
        .ok()
        .and_then(|c| c.checked_sub(1))
        .and_then(|i| PALETTE.get(i))
        .map_or(Json_::Null, |c| json!(c))
}

/// Which of a note's optional previews were asked for (`includes=`).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoteIncludes {
    pub persons: bool,
    pub companies: bool,
    pub opportunities: bool,
    pub replies_count: bool,
}

/// `notes.Note`: an `entities` note, or a `user-reply` to one.
pub fn note(st: &State, n: &Note, inc: NoteIncludes) -> Json_ {
    // Plain-text notes (v1 type 0) come back as their text; v2 has only `content.html`. [I]
    // v1's type 3 is the AI notetaker's: v2 calls it `ai-notetaker`, with its transcript.
    let ai = n.kind == 3 && n.parent_id.is_none();
    let kind = match (n.parent_id.is_some(), ai) {
        (true, _) => "user-reply",
        (false, true) => "ai-notetaker",
        (false, false) => "entities",
    };
    let mut v = json!({
        "id": n.id,
        "type": kind,
        "content": { "html": n.content },
        "creator": person_data(st, n.creator_id),
        "mentions": [],
        "createdAt": v2_time(n.created_at),
        "updatedAt": n.updated_at.map(v2_time),
    });
    if let Some(parent) = n.parent_id {
        v["parent"] = json!({ "id": parent });
        return v;
    }
    if ai {
        let transcript = st
            .transcripts
            .values()
            .find(|t| t.note_id == n.id)
            .map(|t| t.id);
        v["transcriptId"] = json!(transcript);
    }
    // Previews are truncated at 100, with the whole count beside them (§3.1).
    let preview = |ids: &[i64], one: &dyn Fn(i64) -> Option<Json_>| {
        let data: Vec<Json_> = ids.iter().filter_map(|id| one(*id)).take(100).collect();
        json!({ "data": data, "totalCount": ids.len() })
    };
    if inc.persons {
        v["personsPreview"] = preview(&n.person_ids, &|id| Some(person_data(st, id)));
    }
    if inc.companies {
        v["companiesPreview"] = preview(&n.organization_ids, &|id| Some(company_data(st, id)));
    }
    if inc.opportunities {
        v["opportunitiesPreview"] = preview(&n.opportunity_ids, &|id| {
            st.opportunities.get(&id).map(|o| opportunity(st, o, None))
        });
    }
    if inc.replies_count {
        let replies = st
            .notes
            .values()
            .filter(|r| r.parent_id == Some(n.id))
            .count();
        v["repliesCount"] = json!(replies);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranked_dropdown_colors_are_strings_or_null() {
        assert_eq!(color_name(0), Json_::Null);
        assert_eq!(color_name(1), json!("gray"));
        assert_eq!(color_name(3), json!("green"));
        assert_eq!(color_name(99), Json_::Null);
        assert_eq!(color_name(-1), Json_::Null);
    }
}
