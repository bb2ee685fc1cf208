//! v1 models (affinity-api.md §2): snake_case, integer ids and enum codes, timestamps with
//! offsets (read as instants). Unknown fields are ignored; quirks are tolerated.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::lenient::{null_default, opt_u64, Color, Limit};
use super::{
    DropdownOptionId, FieldId, FieldValueId, InteractionId, ListEntryId, ListId, NoteId,
    OpportunityId, OrganizationId, PersonId,
};

/// A list's `type` / an entry's `entity_type` (§2.1): 0 person, 1 organization, 8 opportunity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "i64", into = "i64")]
pub enum EntityType {
    Person,
    Organization,
    Opportunity,
    Other(i64),
}

impl From<i64> for EntityType {
    fn from(v: i64) -> Self {
        match v {
            0 => EntityType::Person,
            1 => EntityType::Organization,
            8 => EntityType::Opportunity,
            n => EntityType::Other(n),
        }
    }
}

impl From<EntityType> for i64 {
    fn from(v: EntityType) -> i64 {
        match v {
            EntityType::Person => 0,
            EntityType::Organization => 1,
            EntityType::Opportunity => 8,
            EntityType::Other(n) => n,
        }
    }
}

/// A field's `value_type` (§2.1). No code above 7 is documented; others are kept as `Other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "i64", into = "i64")]
pub enum ValueType {
    Person,
    Organization,
    Dropdown,
    Number,
    Date,
    Location,
    Text,
    RankedDropdown,
    Other(i64),
}

impl From<i64> for ValueType {
    fn from(v: i64) -> Self {
        use ValueType::*;
        match v {
            0 => Person,
            1 => Organization,
            2 => Dropdown,
            3 => Number,
            4 => Date,
            5 => Location,
            6 => Text,
            7 => RankedDropdown,
            n => Other(n),
        }
    }
}

impl From<ValueType> for i64 {
    fn from(v: ValueType) -> i64 {
        use ValueType::*;
        match v {
            Person => 0,
            Organization => 1,
            Dropdown => 2,
            Number => 3,
            Date => 4,
            Location => 5,
            Text => 6,
            RankedDropdown => 7,
            Other(n) => n,
        }
    }
}

/// `GET /lists`, and `GET /lists/{id}` with its list-specific `fields`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct List {
    pub id: ListId,
    #[serde(rename = "type")]
    pub list_type: EntityType,
    pub name: String,
    #[serde(default)]
    pub public: bool,
    #[serde(default)]
    pub owner_id: Option<PersonId>,
    #[serde(default)]
    pub creator_id: Option<PersonId>,
    #[serde(default)]
    pub list_size: Option<u64>,
    #[serde(default, deserialize_with = "null_default")]
    pub additional_permissions: Vec<Json>,
    /// Only on `GET /lists/{id}`.
    #[serde(default)]
    pub fields: Option<Vec<Field>>,
}

/// A list entry; `entity` is present on list-entry routes, absent inside a person's or
/// organization's `list_entries`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawListEntry")]
pub struct ListEntry {
    pub id: ListEntryId,
    pub list_id: ListId,
    pub creator_id: Option<PersonId>,
    pub entity_id: i64,
    pub entity_type: EntityType,
    pub created_at: Option<DateTime<Utc>>,
    pub entity: Option<ListEntity>,
}

#[derive(Deserialize)]
struct RawListEntry {
    id: ListEntryId,
    list_id: ListId,
    #[serde(default)]
    creator_id: Option<PersonId>,
    entity_id: i64,
    #[serde(default)]
    entity_type: Option<EntityType>,
    #[serde(default)]
    created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    entity: Option<Json>,
}

impl TryFrom<RawListEntry> for ListEntry {
    type Error = String;
    fn try_from(r: RawListEntry) -> Result<Self, String> {
        // [I] Without `entity_type`, the entity's own shape says which it is.
        let entity_type = r.entity_type.unwrap_or_else(|| match &r.entity {
            Some(e) if e.get("first_name").is_some() => EntityType::Person,
            Some(e) if e.get("domain").is_some() || e.get("global").is_some() => {
                EntityType::Organization
            }
            Some(_) => EntityType::Opportunity,
            None => EntityType::Other(-1),
        });
        let entity = match r.entity {
            None | Some(Json::Null) => None,
            Some(e) => Some(match entity_type {
                EntityType::Person => {
                    ListEntity::Person(serde_json::from_value(e).map_err(|e| e.to_string())?)
                }
                EntityType::Organization => {
                    ListEntity::Organization(serde_json::from_value(e).map_err(|e| e.to_string())?)
                }
                EntityType::Opportunity => {
                    ListEntity::Opportunity(serde_json::from_value(e).map_err(|e| e.to_string())?)
                }
                EntityType::Other(_) => ListEntity::Other(e),
            }),
        };
        Ok(ListEntry {
            id: r.id,
            list_id: r.list_id,
            creator_id: r.creator_id,
            entity_id: r.entity_id,
            entity_type,
            created_at: r.created_at,
            entity,
        })
    }
}

/// The entity a list entry holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ListEntity {
    Person(Person),
    Organization(Organization),
    Opportunity(Opportunity),
    Other(Json),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DropdownOption {
    pub id: DropdownOptionId,
    pub text: String,
    #[serde(default)]
    pub rank: Option<i64>,
    /// An int in v1.
    #[serde(default)]
    pub color: Option<Color>,
}

/// A field definition (`GET /fields`, `/persons/fields`, `/organizations/fields`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    pub id: FieldId,
    pub name: String,
    #[serde(default)]
    pub list_id: Option<ListId>,
    #[serde(default)]
    pub enrichment_source: Option<String>,
    pub value_type: ValueType,
    #[serde(default)]
    pub entity_type: Option<EntityType>,
    #[serde(default)]
    pub allows_multiple: bool,
    #[serde(default)]
    pub track_changes: bool,
    #[serde(default, deserialize_with = "null_default")]
    pub dropdown_options: Vec<DropdownOption>,
}

/// A location value (§2.3); every part may be null.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Location {
    #[serde(default)]
    pub street_address: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub continent: Option<String>,
}

/// A ranked-dropdown value as read: `{id, text, rank, color(int)}`. Writes take the id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankedOption {
    pub id: DropdownOptionId,
    pub text: String,
    #[serde(default)]
    pub rank: Option<i64>,
    #[serde(default)]
    pub color: Option<Color>,
}

/// A field value's `value`, by the field's `value_type` (§2.3 table).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Person(PersonId),
    Organization(OrganizationId),
    Dropdown(String),
    Number(f64),
    Date(DateTime<Utc>),
    Location(Location),
    Text(String),
    RankedDropdown(RankedOption),
    /// A shape the value type does not explain (or an undocumented value type).
    Unknown(Json),
}

impl Value {
    /// Reads `raw` as a value of type `vt`; without a type (the answer may omit
    /// `value_type`), the shape decides [I]: a string is text, a number a number, an object
    /// with `rank` a ranked dropdown, another object a location. Use [`FieldValue::typed`]
    /// with the field catalog's type to read ids and dates exactly.
    pub fn decode(vt: Option<ValueType>, raw: &Json) -> Value {
        if raw.is_null() {
            return Value::Null;
        }
        let parsed = match vt {
            Some(ValueType::Person) => raw.as_i64().map(|n| Value::Person(PersonId(n))),
            Some(ValueType::Organization) => {
                raw.as_i64().map(|n| Value::Organization(OrganizationId(n)))
            }
            Some(ValueType::Dropdown) => raw.as_str().map(|s| Value::Dropdown(s.to_string())),
            Some(ValueType::Number) => raw.as_f64().map(Value::Number),
            Some(ValueType::Date) => raw
                .as_str()
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                .map(|d| Value::Date(d.with_timezone(&Utc))),
            Some(ValueType::Location) => serde_json::from_value(raw.clone())
                .ok()
                .map(Value::Location),
            Some(ValueType::Text) => raw.as_str().map(|s| Value::Text(s.to_string())),
            Some(ValueType::RankedDropdown) => serde_json::from_value(raw.clone())
                .ok()
                .map(Value::RankedDropdown),
            Some(ValueType::Other(_)) => None,
            None => match raw {
                Json::String(s) => Some(Value::Text(s.clone())),
                Json::Number(n) => n.as_f64().map(Value::Number),
                Json::Object(o) if o.contains_key("rank") => serde_json::from_value(raw.clone())
                    .ok()
                    .map(Value::RankedDropdown),
                Json::Object(_) => serde_json::from_value(raw.clone())
                    .ok()
                    .map(Value::Location),
                _ => None,
            },
        };
        parsed.unwrap_or_else(|| Value::Unknown(raw.clone()))
    }

    /// The JSON a write takes (§2.3): ids for persons and organizations, the option id for
    /// a ranked dropdown, strings, numbers, a location object, an ISO date.
    pub fn to_write_json(&self) -> Json {
        match self {
            Value::Null => Json::Null,
            Value::Person(id) => id.0.into(),
            Value::Organization(id) => id.0.into(),
            Value::Dropdown(s) | Value::Text(s) => s.clone().into(),
            Value::Number(n) => serde_json::json!(n),
            Value::Date(d) => d
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
                .into(),
            Value::Location(l) => serde_json::to_value(l).unwrap_or(Json::Null),
            Value::RankedDropdown(o) => o.id.0.into(),
            Value::Unknown(v) => v.clone(),
        }
    }
}

/// A field value record (`GET /field-values`); a multi-valued field has one per value.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawFieldValue")]
pub struct FieldValue {
    pub id: FieldValueId,
    pub field_id: FieldId,
    pub entity_id: i64,
    pub list_entry_id: Option<ListEntryId>,
    pub entity_type: Option<EntityType>,
    pub value_type: Option<ValueType>,
    pub value: Value,
    /// `value` as it came, to read again with the catalog's type.
    pub raw_value: Json,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl FieldValue {
    /// The value read as type `vt` (from the field catalog).
    pub fn typed(&self, vt: ValueType) -> Value {
        Value::decode(Some(vt), &self.raw_value)
    }
}

#[derive(Deserialize)]
struct RawFieldValue {
    id: FieldValueId,
    field_id: FieldId,
    entity_id: i64,
    #[serde(default)]
    list_entry_id: Option<ListEntryId>,
    #[serde(default)]
    entity_type: Option<EntityType>,
    #[serde(default)]
    value_type: Option<ValueType>,
    #[serde(default)]
    value: Json,
    #[serde(default)]
    created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    updated_at: Option<DateTime<Utc>>,
}

impl TryFrom<RawFieldValue> for FieldValue {
    type Error = String;
    fn try_from(r: RawFieldValue) -> Result<Self, String> {
        Ok(FieldValue {
            value: Value::decode(r.value_type, &r.value),
            raw_value: r.value,
            id: r.id,
            field_id: r.field_id,
            entity_id: r.entity_id,
            list_entry_id: r.list_entry_id,
            entity_type: r.entity_type,
            value_type: r.value_type,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// `GET /field-value-changes`; `action_type` 0 create, 1 delete, 2 update.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct FieldValueChange {
    pub id: i64,
    pub field_id: FieldId,
    #[serde(default)]
    pub entity_id: Option<i64>,
    #[serde(default)]
    pub list_entry_id: Option<ListEntryId>,
    pub action_type: i64,
    #[serde(default)]
    pub changer: Option<Person>,
    #[serde(default)]
    pub changed_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub value: Json,
}

/// The seven `*_date` keys of `interaction_dates` (§2.3).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct InteractionDates {
    #[serde(default)]
    pub first_email_date: Option<DateTime<Utc>>,
    #[serde(default)]
    pub last_email_date: Option<DateTime<Utc>>,
    #[serde(default)]
    pub first_event_date: Option<DateTime<Utc>>,
    #[serde(default)]
    pub last_event_date: Option<DateTime<Utc>>,
    #[serde(default)]
    pub next_event_date: Option<DateTime<Utc>>,
    #[serde(default)]
    pub last_chat_message_date: Option<DateTime<Utc>>,
    #[serde(default)]
    pub last_interaction_date: Option<DateTime<Utc>>,
}

/// A person; `type` 0 external, 1 internal (an Affinity user).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Person {
    pub id: PersonId,
    #[serde(rename = "type", default)]
    pub person_type: i64,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub primary_email: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub emails: Vec<String>,
    #[serde(default)]
    pub organization_ids: Option<Vec<OrganizationId>>,
    #[serde(default)]
    pub opportunity_ids: Option<Vec<OpportunityId>>,
    #[serde(default)]
    pub list_entries: Option<Vec<ListEntry>>,
    #[serde(default)]
    pub interaction_dates: Option<InteractionDates>,
    /// `{<key>: {date, person_ids} | null}`, kept as JSON.
    #[serde(default)]
    pub interactions: Option<Json>,
}

impl Person {
    pub fn is_internal(&self) -> bool {
        self.person_type == 1
    }
}

/// An organization; `global` ones belong to Affinity and cannot be edited (§8.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Organization {
    pub id: OrganizationId,
    pub name: String,
    #[serde(default)]
    pub domain: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub domains: Vec<String>,
    #[serde(default)]
    pub global: bool,
    #[serde(default)]
    pub person_ids: Option<Vec<PersonId>>,
    #[serde(default)]
    pub opportunity_ids: Option<Vec<OpportunityId>>,
    #[serde(default)]
    pub list_entries: Option<Vec<ListEntry>>,
    #[serde(default)]
    pub interaction_dates: Option<InteractionDates>,
    #[serde(default)]
    pub interactions: Option<Json>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Opportunity {
    pub id: OpportunityId,
    pub name: String,
    #[serde(default)]
    pub person_ids: Option<Vec<PersonId>>,
    #[serde(default)]
    pub organization_ids: Option<Vec<OrganizationId>>,
    #[serde(default)]
    pub list_entries: Option<Vec<ListEntry>>,
}

/// A note; `type` 0 plain, 1 email-derived, 2 HTML, 3 AI notetaker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Note {
    pub id: NoteId,
    #[serde(default)]
    pub creator_id: Option<PersonId>,
    #[serde(default, deserialize_with = "null_default")]
    pub person_ids: Vec<PersonId>,
    #[serde(default, deserialize_with = "null_default")]
    pub associated_person_ids: Vec<PersonId>,
    #[serde(default, deserialize_with = "null_default")]
    pub interaction_person_ids: Vec<PersonId>,
    #[serde(default)]
    pub interaction_id: Option<InteractionId>,
    #[serde(default)]
    pub interaction_type: Option<i64>,
    #[serde(default)]
    pub is_meeting: bool,
    #[serde(default, deserialize_with = "null_default")]
    pub mentioned_person_ids: Vec<PersonId>,
    #[serde(default, deserialize_with = "null_default")]
    pub organization_ids: Vec<OrganizationId>,
    #[serde(default, deserialize_with = "null_default")]
    pub opportunity_ids: Vec<OpportunityId>,
    #[serde(default)]
    pub parent_id: Option<NoteId>,
    #[serde(default)]
    pub content: Option<String>,
    #[serde(rename = "type", default)]
    pub note_type: i64,
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
}

impl Note {
    /// `content` as written: Affinity gives underscores back escaped (`a\_b`), so this
    /// undoes that (affinity-api.md §8.9). [I] A literal `\_` in the original reads as `_`:
    /// the escaped form cannot tell the two apart.
    pub fn text(&self) -> Option<String> {
        self.content.as_deref().map(|c| c.replace("\\_", "_"))
    }
}

/// An interaction (`GET /interactions`); its shape varies by type, so most keys are optional.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interaction {
    pub id: InteractionId,
    #[serde(rename = "type", default)]
    pub interaction_type: Option<i64>,
    #[serde(default)]
    pub date: Option<DateTime<Utc>>,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub direction: Option<i64>,
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub person_ids: Vec<PersonId>,
    #[serde(default, deserialize_with = "null_default")]
    pub persons: Vec<Json>,
}

/// `POST /interactions` (and the body of `PUT /interactions/{id}`): a meeting (0), call (1)
/// or chat message (2) logged by hand; emails cannot be (§2.3 "Other endpoints").
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewInteraction {
    #[serde(rename = "type")]
    pub interaction_type: i64,
    pub person_ids: Vec<PersonId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    pub date: DateTime<Utc>,
    /// 0 sent, 1 received.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direction: Option<i64>,
}

/// `GET /auth/whoami`: camelCase keys even in v1 (§1).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct WhoAmI {
    pub tenant: Tenant,
    pub user: User,
    pub grant: Grant,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Tenant {
    pub id: i64,
    pub name: String,
    #[serde(default)]
    pub subdomain: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: PersonId,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Grant {
    #[serde(rename = "type", default)]
    pub grant_type: Option<String>,
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
}

/// `GET /rate-limit` (§4).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RateLimit {
    pub rate: Rates,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Rates {
    pub org_monthly: Quota,
    pub api_key_per_minute: Quota,
}

/// One quota; `limit` and `remaining` may be the string `"unlimited"`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Quota {
    pub limit: Limit,
    pub remaining: Limit,
    /// Seconds until reset.
    #[serde(default, deserialize_with = "opt_u64")]
    pub reset: Option<u64>,
    #[serde(default, deserialize_with = "opt_u64")]
    pub used: Option<u64>,
}

/// `{"success": true}`, the answer to a DELETE.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Success {
    #[serde(default)]
    pub success: bool,
}

// ---- request bodies ----

/// `POST /persons`: `emails` is required (may be empty) and must not belong to another person.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NewPerson {
    pub first_name: String,
    pub last_name: String,
    pub emails: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_ids: Option<Vec<OrganizationId>>,
}

/// `PUT /persons/{id}`: partial, but `emails` and `organization_ids` replace the set (§8.6).
#[derive(Debug, Clone, Default, Serialize)]
pub struct PersonUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emails: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_ids: Option<Vec<OrganizationId>>,
}

/// `POST /organizations`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NewOrganization {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub person_ids: Option<Vec<PersonId>>,
}

/// `PUT /organizations/{id}`: `person_ids` replaces the set.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OrganizationUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub person_ids: Option<Vec<PersonId>>,
}

/// `POST /opportunities` (on an opportunity list).
#[derive(Debug, Clone, Serialize)]
pub struct NewOpportunity {
    pub name: String,
    pub list_id: ListId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub person_ids: Option<Vec<PersonId>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_ids: Option<Vec<OrganizationId>>,
}

/// `PUT /opportunities/{id}`: the id arrays replace the sets.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OpportunityUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub person_ids: Option<Vec<PersonId>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_ids: Option<Vec<OrganizationId>>,
}

/// `POST /field-values`: `list_entry_id` only for list-specific fields; `value` as
/// [`Value::to_write_json`] gives it.
#[derive(Debug, Clone, Serialize)]
pub struct NewFieldValue {
    pub field_id: FieldId,
    pub entity_id: i64,
    pub value: Json,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list_entry_id: Option<ListEntryId>,
}

/// `POST /notes`: at least one id, or `parent_id`; `type` 0 or 2.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NewNote {
    pub content: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub person_ids: Vec<PersonId>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub organization_ids: Vec<OrganizationId>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub opportunity_ids: Vec<OpportunityId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<NoteId>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub note_type: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creator_id: Option<PersonId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_by_type() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let cases: Vec<(Option<ValueType>, Json, Value)> = vec![
            (
                Some(ValueType::Person),
                json!(5),
                Value::Person(PersonId(5)),
            ),
            (
                Some(ValueType::Organization),
                json!(7),
                Value::Organization(OrganizationId(7)),
            ),
            (
                Some(ValueType::Dropdown),
                json!("A"),
                Value::Dropdown("A".into()),
            ),
            (
                Some(ValueType::Number),
                json!(5000.0),
                Value::Number(5000.0),
            ),
            (
                Some(ValueType::Date),
                json!("2021-09-12T16:29:15.962-07:00"),
                Value::Date(t("2021-09-12T23:29:15.962Z")),
            ),
            (Some(ValueType::Text), json!("hi"), Value::Text("hi".into())),
            (
                Some(ValueType::RankedDropdown),
                json!({"id": 3, "text": "Lead", "rank": 1, "color": 4}),
                Value::RankedDropdown(RankedOption {
                    id: DropdownOptionId(3),
                    text: "Lead".into(),
                    rank: Some(1),
                    color: Some(Color::Code(4)),
                }),
            ),
            (
                Some(ValueType::Location),
                json!({"city": "SF", "state": null}),
                Value::Location(Location {
                    city: Some("SF".into()),
                    ..Default::default()
                }),
            ),
            (
                Some(ValueType::Number),
                json!("x"),
                Value::Unknown(json!("x")),
            ),
            (
                Some(ValueType::Other(9)),
                json!(1),
                Value::Unknown(json!(1)),
            ),
            (Some(ValueType::Text), Json::Null, Value::Null),
            (None, json!("t"), Value::Text("t".into())),
            (None, json!(2), Value::Number(2.0)),
        ];
        for (vt, raw, want) in cases {
            assert_eq!(Value::decode(vt, &raw), want, "{vt:?} {raw}");
        }
    }

    #[test]
    fn write_json_takes_ids() {
        let ranked = Value::RankedDropdown(RankedOption {
            id: DropdownOptionId(9),
            text: "x".into(),
            rank: None,
            color: None,
        });
        assert_eq!(ranked.to_write_json(), json!(9));
        assert_eq!(Value::Person(PersonId(1)).to_write_json(), json!(1));
    }

    #[test]
    fn note_text_undoes_escaped_underscores() {
        let cases = [
            (
                json!("see snake\\_case\\_name"),
                Some("see snake_case_name"),
            ),
            (json!("no escapes"), Some("no escapes")),
            (json!("\\_\\_"), Some("__")),
            (Json::Null, None),
        ];
        for (content, want) in cases {
            let n: Note = serde_json::from_value(json!({"id": 1, "content": content})).unwrap();
            assert_eq!(n.text().as_deref(), want, "{content}");
        }
    }

    #[test]
    fn timestamps_with_offsets_compare_as_instants() {
        let a: Note =
            serde_json::from_value(json!({"id": 1, "created_at": "2024-08-13T03:23:07.846-07:00"}))
                .unwrap();
        let b: Note =
            serde_json::from_value(json!({"id": 2, "created_at": "2024-08-13T10:23:07.846Z"}))
                .unwrap();
        assert_eq!(a.created_at, b.created_at);
    }
}
