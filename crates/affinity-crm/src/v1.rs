//! v1 models (affinity-api.md §2): snake_case, integer ids and enum codes, timestamps with
//! offsets (read as instants). Unknown fields are ignored; quirks are tolerated.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::lenient::{null_default, opt_u64, Color, Limit};
use super::{
    DropdownOptionId, EntityFileId, FieldId, FieldValueId, InteractionId, ListEntryId, ListId,
    NoteId, OpportunityId, OrganizationId, PersonId, ReminderId, WebhookId,
};

/// A list's `type` / an entry's `entity_type` (§2.1): 0 person, 1 organization, 8 opportunity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "i64", into = "i64")]
pub enum EntityType {
    /// A person.
    Person,
    /// An organization (v2: company).
    Organization,
    /// An opportunity.
    Opportunity,
    /// A code or shape this client does not know, kept as it came.
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
    /// A person.
    Person,
    /// An organization (v2: company).
    Organization,
    /// A dropdown.
    Dropdown,
    /// A number.
    Number,
    /// A date.
    Date,
    /// A location.
    Location,
    /// Text.
    Text,
    /// A ranked dropdown.
    RankedDropdown,
    /// A code or shape this client does not know, kept as it came.
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
    /// Its id.
    pub id: ListId,
    /// `company`, `person` or `opportunity`.
    #[serde(rename = "type")]
    pub list_type: EntityType,
    /// Its name.
    pub name: String,
    /// Whether every user of the tenant sees it.
    #[serde(default)]
    pub public: bool,
    /// The internal person who owns it.
    #[serde(default)]
    pub owner_id: Option<PersonId>,
    /// The internal person who created it.
    #[serde(default)]
    pub creator_id: Option<PersonId>,
    /// How many entries it holds.
    #[serde(default)]
    pub list_size: Option<u64>,
    /// Other users' roles on the list, as Affinity gives them.
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
    /// Its id.
    pub id: ListEntryId,
    /// The list it belongs to (`None` for a global field).
    pub list_id: ListId,
    /// The internal person who created it.
    pub creator_id: Option<PersonId>,
    /// The id of the person, organization or opportunity.
    pub entity_id: i64,
    /// The kind of entity.
    pub entity_type: EntityType,
    /// When it was created.
    pub created_at: Option<DateTime<Utc>>,
    /// The entity, when the route embeds it.
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
    /// A person.
    Person(Person),
    /// An organization (v2: company).
    Organization(Organization),
    /// An opportunity.
    Opportunity(Opportunity),
    /// A code or shape this client does not know, kept as it came.
    Other(Json),
}

/// An option of a dropdown or ranked-dropdown field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DropdownOption {
    /// Its id.
    pub id: DropdownOptionId,
    /// The option's text.
    pub text: String,
    /// Its rank (ranked dropdowns).
    #[serde(default)]
    pub rank: Option<i64>,
    /// An int in v1.
    #[serde(default)]
    pub color: Option<Color>,
}

/// A field definition (`GET /fields`, `/persons/fields`, `/organizations/fields`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    /// Its id.
    pub id: FieldId,
    /// Its name.
    pub name: String,
    /// The list it belongs to (`None` for a global field).
    #[serde(default)]
    pub list_id: Option<ListId>,
    /// Where an enriched field's data comes from (`none` for a custom field).
    #[serde(default)]
    pub enrichment_source: Option<String>,
    /// Its value type.
    pub value_type: ValueType,
    /// The kind of entity.
    #[serde(default)]
    pub entity_type: Option<EntityType>,
    /// Whether it holds several values (one record per value).
    #[serde(default)]
    pub allows_multiple: bool,
    /// Whether its changes are kept (`GET /field-value-changes`).
    #[serde(default)]
    pub track_changes: bool,
    /// The options of a dropdown or ranked-dropdown field.
    #[serde(default, deserialize_with = "null_default")]
    pub dropdown_options: Vec<DropdownOption>,
}

/// A location value (§2.3); every part may be null.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Location {
    /// The street address.
    #[serde(default)]
    pub street_address: Option<String>,
    /// The city.
    #[serde(default)]
    pub city: Option<String>,
    /// The state or region.
    #[serde(default)]
    pub state: Option<String>,
    /// The country.
    #[serde(default)]
    pub country: Option<String>,
    /// The continent.
    #[serde(default)]
    pub continent: Option<String>,
}

/// A ranked-dropdown value as read: `{id, text, rank, color(int)}`. Writes take the id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankedOption {
    /// Its id.
    pub id: DropdownOptionId,
    /// The option's text.
    pub text: String,
    /// Its rank (ranked dropdowns).
    #[serde(default)]
    pub rank: Option<i64>,
    /// Its color: an int in v1, a name in v2.
    #[serde(default)]
    pub color: Option<Color>,
}

/// A field value's `value`, by the field's `value_type` (§2.3 table).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// No value.
    Null,
    /// A person.
    Person(PersonId),
    /// An organization (v2: company).
    Organization(OrganizationId),
    /// A dropdown.
    Dropdown(String),
    /// A number.
    Number(f64),
    /// A date.
    Date(DateTime<Utc>),
    /// A location.
    Location(Location),
    /// Text.
    Text(String),
    /// A ranked dropdown.
    RankedDropdown(RankedOption),
    /// A shape the value type does not explain (or an undocumented value type).
    Unknown(Json),
}

impl Value {
    /// Reads `raw` as a value of type `vt`; without a type (the answer may omit
    /// `value_type`), the shape decides \[I\]: a string is text, a number a number, an object
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
    /// Its id.
    pub id: FieldValueId,
    /// The field.
    pub field_id: FieldId,
    /// The id of the person, organization or opportunity.
    pub entity_id: i64,
    /// The list entry, for a list-specific field.
    pub list_entry_id: Option<ListEntryId>,
    /// The kind of entity.
    pub entity_type: Option<EntityType>,
    /// Its value type.
    pub value_type: Option<ValueType>,
    /// The value.
    pub value: Value,
    /// `value` as it came, to read again with the catalog's type.
    pub raw_value: Json,
    /// When it was created.
    pub created_at: Option<DateTime<Utc>>,
    /// When it last changed, if ever.
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
    /// Its id.
    pub id: i64,
    /// The field.
    pub field_id: FieldId,
    /// The id of the person, organization or opportunity.
    #[serde(default)]
    pub entity_id: Option<i64>,
    /// The list entry, for a list-specific field.
    #[serde(default)]
    pub list_entry_id: Option<ListEntryId>,
    /// 0 create, 1 delete, 2 update.
    pub action_type: i64,
    /// Who made the change.
    #[serde(default)]
    pub changer: Option<Person>,
    /// When the change was made.
    #[serde(default)]
    pub changed_at: Option<DateTime<Utc>>,
    /// The value.
    #[serde(default)]
    pub value: Json,
}

/// The seven `*_date` keys of `interaction_dates` (§2.3).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct InteractionDates {
    /// The first email.
    #[serde(default)]
    pub first_email_date: Option<DateTime<Utc>>,
    /// The last email.
    #[serde(default)]
    pub last_email_date: Option<DateTime<Utc>>,
    /// The first meeting or call.
    #[serde(default)]
    pub first_event_date: Option<DateTime<Utc>>,
    /// The last meeting or call.
    #[serde(default)]
    pub last_event_date: Option<DateTime<Utc>>,
    /// The next meeting or call.
    #[serde(default)]
    pub next_event_date: Option<DateTime<Utc>>,
    /// The last chat message.
    #[serde(default)]
    pub last_chat_message_date: Option<DateTime<Utc>>,
    /// The last interaction of any kind.
    #[serde(default)]
    pub last_interaction_date: Option<DateTime<Utc>>,
}

/// A person; `type` 0 external, 1 internal (an Affinity user).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Person {
    /// Its id.
    pub id: PersonId,
    /// 0 external, 1 internal (a user of the tenant).
    #[serde(rename = "type", default)]
    pub person_type: i64,
    /// The first name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// The last name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// The primary email address.
    #[serde(default)]
    pub primary_email: Option<String>,
    /// Every email address; the primary one among them.
    #[serde(default, deserialize_with = "null_default")]
    pub emails: Vec<String>,
    /// The organizations it is linked to.
    #[serde(default)]
    pub organization_ids: Option<Vec<OrganizationId>>,
    /// The opportunities it is linked to.
    #[serde(default)]
    pub opportunity_ids: Option<Vec<OpportunityId>>,
    /// Its list entries (on `GET /{kind}/{id}`).
    #[serde(default)]
    pub list_entries: Option<Vec<ListEntry>>,
    /// Its interaction dates (with `with_interaction_dates=true`).
    #[serde(default)]
    pub interaction_dates: Option<InteractionDates>,
    /// `{<key>: {date, person_ids} | null}`, kept as JSON.
    #[serde(default)]
    pub interactions: Option<Json>,
}

impl Person {
    /// Whether the person is a user of the tenant.
    pub fn is_internal(&self) -> bool {
        self.person_type == 1
    }
}

/// An organization; `global` ones belong to Affinity and cannot be edited (§8.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Organization {
    /// Its id.
    pub id: OrganizationId,
    /// Its name.
    pub name: String,
    /// The primary domain.
    #[serde(default)]
    pub domain: Option<String>,
    /// Every domain; the primary one among them.
    #[serde(default, deserialize_with = "null_default")]
    pub domains: Vec<String>,
    /// Whether it is one of Affinity's global organizations (immutable).
    #[serde(default)]
    pub global: bool,
    /// The persons it is linked to.
    #[serde(default)]
    pub person_ids: Option<Vec<PersonId>>,
    /// The opportunities it is linked to.
    #[serde(default)]
    pub opportunity_ids: Option<Vec<OpportunityId>>,
    /// Its list entries (on `GET /{kind}/{id}`).
    #[serde(default)]
    pub list_entries: Option<Vec<ListEntry>>,
    /// Its interaction dates (with `with_interaction_dates=true`).
    #[serde(default)]
    pub interaction_dates: Option<InteractionDates>,
    /// Its interactions by key (with `with_interaction_dates=true`).
    #[serde(default)]
    pub interactions: Option<Json>,
}

/// An opportunity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Opportunity {
    /// Its id.
    pub id: OpportunityId,
    /// Its name.
    pub name: String,
    /// The persons it is linked to.
    #[serde(default)]
    pub person_ids: Option<Vec<PersonId>>,
    /// The organizations it is linked to.
    #[serde(default)]
    pub organization_ids: Option<Vec<OrganizationId>>,
    /// Its list entries (on `GET /{kind}/{id}`).
    #[serde(default)]
    pub list_entries: Option<Vec<ListEntry>>,
}

/// A note; `type` 0 plain, 1 email-derived, 2 HTML, 3 AI notetaker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Note {
    /// Its id.
    pub id: NoteId,
    /// The internal person who created it.
    #[serde(default)]
    pub creator_id: Option<PersonId>,
    /// The persons it is linked to.
    #[serde(default, deserialize_with = "null_default")]
    pub person_ids: Vec<PersonId>,
    /// Persons associated through its organizations.
    #[serde(default, deserialize_with = "null_default")]
    pub associated_person_ids: Vec<PersonId>,
    /// Persons of the interaction it came from.
    #[serde(default, deserialize_with = "null_default")]
    pub interaction_person_ids: Vec<PersonId>,
    /// The interaction it came from, if any.
    #[serde(default)]
    pub interaction_id: Option<InteractionId>,
    /// The interaction's type (0 meeting, 1 call, 2 chat, 3 email).
    #[serde(default)]
    pub interaction_type: Option<i64>,
    /// Whether it was written on a meeting.
    #[serde(default)]
    pub is_meeting: bool,
    /// Persons mentioned in it.
    #[serde(default, deserialize_with = "null_default")]
    pub mentioned_person_ids: Vec<PersonId>,
    /// The organizations it is linked to.
    #[serde(default, deserialize_with = "null_default")]
    pub organization_ids: Vec<OrganizationId>,
    /// The opportunities it is linked to.
    #[serde(default, deserialize_with = "null_default")]
    pub opportunity_ids: Vec<OpportunityId>,
    /// The note it replies to, if any.
    #[serde(default)]
    pub parent_id: Option<NoteId>,
    /// Its content.
    #[serde(default)]
    pub content: Option<String>,
    /// 0 plain, 1 email-derived, 2 HTML, 3 AI notetaker.
    #[serde(rename = "type", default)]
    pub note_type: i64,
    /// When it was created.
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    /// When it last changed, if ever.
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
}

impl Note {
    /// `content` as written: Affinity gives underscores back escaped (`a\_b`), so this
    /// undoes that (affinity-api.md §8.9). \[I\] A literal `\_` in the original reads as `_`:
    /// the escaped form cannot tell the two apart.
    pub fn text(&self) -> Option<String> {
        self.content.as_deref().map(|c| c.replace("\\_", "_"))
    }
}

/// An interaction (`GET /interactions`); its shape varies by type, so most keys are optional.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interaction {
    /// Its id.
    pub id: InteractionId,
    /// The interaction's type (0 meeting, 1 call, 2 chat, 3 email).
    #[serde(rename = "type", default)]
    pub interaction_type: Option<i64>,
    /// When it happened.
    #[serde(default)]
    pub date: Option<DateTime<Utc>>,
    /// The subject, if any.
    #[serde(default)]
    pub subject: Option<String>,
    /// 0 sent, 1 received.
    #[serde(default)]
    pub direction: Option<i64>,
    /// Its content.
    #[serde(default)]
    pub content: Option<String>,
    /// The persons it is linked to.
    #[serde(default, deserialize_with = "null_default")]
    pub person_ids: Vec<PersonId>,
    /// The persons, as the answer embeds them.
    #[serde(default, deserialize_with = "null_default")]
    pub persons: Vec<Json>,
}

/// `POST /interactions` (and the body of `PUT /interactions/{id}`): a meeting (0), call (1)
/// or chat message (2) logged by hand; emails cannot be (§2.3 "Other endpoints").
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewInteraction {
    /// The interaction's type (0 meeting, 1 call, 2 chat, 3 email).
    #[serde(rename = "type")]
    pub interaction_type: i64,
    /// The persons it is linked to.
    pub person_ids: Vec<PersonId>,
    /// Its content.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// When it happened.
    pub date: DateTime<Utc>,
    /// 0 sent, 1 received.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direction: Option<i64>,
}

/// `GET /auth/whoami`: camelCase keys even in v1 (§1).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct WhoAmI {
    /// The tenant the key belongs to.
    pub tenant: Tenant,
    /// The user the key belongs to.
    pub user: User,
    /// The grant behind the key.
    pub grant: Grant,
}

/// The tenant of a whoami.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Tenant {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// The tenant's subdomain.
    #[serde(default)]
    pub subdomain: Option<String>,
}

/// The user of a whoami.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// Its id.
    pub id: PersonId,
    /// The first name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// The last name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// The user's email address.
    #[serde(default)]
    pub email: Option<String>,
}

/// The grant of a whoami.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Grant {
    /// The grant's type (`api_key`, `api-key`, `access-token`).
    #[serde(rename = "type", default)]
    pub grant_type: Option<String>,
    /// The grant's scope.
    #[serde(default)]
    pub scope: Option<String>,
    /// When it was created.
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
}

/// `GET /rate-limit` (§4).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RateLimit {
    /// The limits.
    pub rate: Rates,
}

/// The two limits of `GET /rate-limit`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Rates {
    /// The account's monthly quota.
    pub org_monthly: Quota,
    /// The key's per-minute limit.
    pub api_key_per_minute: Quota,
}

/// One quota; `limit` and `remaining` may be the string `"unlimited"`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Quota {
    /// The limit (`unlimited` when none).
    pub limit: Limit,
    /// What is left of it.
    pub remaining: Limit,
    /// Seconds until reset.
    #[serde(default, deserialize_with = "opt_u64")]
    pub reset: Option<u64>,
    /// How much of it is spent.
    #[serde(default, deserialize_with = "opt_u64")]
    pub used: Option<u64>,
}

/// `{"success": true}`, the answer to a DELETE.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Success {
    /// Whether the delete succeeded.
    #[serde(default)]
    pub success: bool,
}

// ---- request bodies ----

/// `POST /persons`: `emails` is required (may be empty) and must not belong to another person.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NewPerson {
    /// The first name.
    pub first_name: String,
    /// The last name.
    pub last_name: String,
    /// Every email address; the primary one among them.
    pub emails: Vec<String>,
    /// The organizations it is linked to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_ids: Option<Vec<OrganizationId>>,
}

/// `PUT /persons/{id}`: partial, but `emails` and `organization_ids` replace the set (§8.6).
#[derive(Debug, Clone, Default, Serialize)]
pub struct PersonUpdate {
    /// The first name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// The last name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// Every email address; the primary one among them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emails: Option<Vec<String>>,
    /// The organizations it is linked to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_ids: Option<Vec<OrganizationId>>,
}

/// `POST /organizations`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NewOrganization {
    /// Its name.
    pub name: String,
    /// The primary domain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// The persons it is linked to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub person_ids: Option<Vec<PersonId>>,
}

/// `PUT /organizations/{id}`: `person_ids` replaces the set.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OrganizationUpdate {
    /// Its name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The primary domain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// The persons it is linked to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub person_ids: Option<Vec<PersonId>>,
}

/// `POST /opportunities` (on an opportunity list).
#[derive(Debug, Clone, Serialize)]
pub struct NewOpportunity {
    /// Its name.
    pub name: String,
    /// The list it belongs to (`None` for a global field).
    pub list_id: ListId,
    /// The persons it is linked to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub person_ids: Option<Vec<PersonId>>,
    /// The organizations it is linked to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_ids: Option<Vec<OrganizationId>>,
}

/// `PUT /opportunities/{id}`: the id arrays replace the sets.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OpportunityUpdate {
    /// Its name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The persons it is linked to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub person_ids: Option<Vec<PersonId>>,
    /// The organizations it is linked to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_ids: Option<Vec<OrganizationId>>,
}

/// `POST /field-values`: `list_entry_id` only for list-specific fields; `value` as
/// [`Value::to_write_json`] gives it.
#[derive(Debug, Clone, Serialize)]
pub struct NewFieldValue {
    /// The field.
    pub field_id: FieldId,
    /// The id of the person, organization or opportunity.
    pub entity_id: i64,
    /// The value.
    pub value: Json,
    /// The list entry, for a list-specific field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list_entry_id: Option<ListEntryId>,
}

/// `POST /notes`: at least one id, or `parent_id`; `type` 0 or 2.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NewNote {
    /// Its content.
    pub content: String,
    /// The persons it is linked to.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub person_ids: Vec<PersonId>,
    /// The organizations it is linked to.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub organization_ids: Vec<OrganizationId>,
    /// The opportunities it is linked to.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub opportunity_ids: Vec<OpportunityId>,
    /// The note it replies to, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<NoteId>,
    /// 0 plain, 1 email-derived, 2 HTML, 3 AI notetaker.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub note_type: Option<i64>,
    /// The internal person who created it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creator_id: Option<PersonId>,
    /// When it was created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
}

// ---- reminders, entity files, relationship strengths, webhooks, list and field creation ----

/// A reminder (`GET /reminders`): `type` 0 one-time, 1 recurring; `status` 0 completed,
/// 1 active, 2 overdue; `reset_type` 0 interaction, 1 email, 2 meeting (affinity-api.md §2.1).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Reminder {
    /// Its id.
    pub id: ReminderId,
    /// 0 one-time, 1 recurring.
    #[serde(rename = "type", default)]
    pub reminder_type: i64,
    /// Its text.
    #[serde(default)]
    pub content: Option<String>,
    /// When it is due.
    #[serde(default)]
    pub due_date: Option<DateTime<Utc>>,
    /// What resets a recurring reminder.
    #[serde(default)]
    pub reset_type: Option<i64>,
    /// A recurring reminder's period in days.
    #[serde(default)]
    pub reminder_days: Option<i64>,
    /// 0 completed, 1 active, 2 overdue.
    #[serde(default)]
    pub status: Option<i64>,
    /// The user it is for.
    #[serde(default)]
    pub owner_id: Option<PersonId>,
    /// The user who made it.
    #[serde(default)]
    pub creator_id: Option<PersonId>,
    /// The person it is on, if any.
    #[serde(default)]
    pub person_id: Option<PersonId>,
    /// The organization it is on, if any.
    #[serde(default)]
    pub organization_id: Option<OrganizationId>,
    /// The opportunity it is on, if any.
    #[serde(default)]
    pub opportunity_id: Option<OpportunityId>,
    /// When it was created.
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    /// When it was completed, if it was.
    #[serde(default)]
    pub completed_at: Option<DateTime<Utc>>,
}

/// `POST /reminders`: one of `person_id`, `organization_id`, `opportunity_id`; a one-time
/// reminder (`type` 0) takes `due_date`, a recurring one (`type` 1) `reset_type` and
/// `reminder_days`.
#[derive(Debug, Clone, Serialize)]
pub struct NewReminder {
    /// The user it is for.
    pub owner_id: PersonId,
    /// 0 one-time, 1 recurring.
    #[serde(rename = "type")]
    pub reminder_type: i64,
    /// Its text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// When a one-time reminder is due.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_date: Option<DateTime<Utc>>,
    /// What resets a recurring reminder: 0 interaction, 1 email, 2 meeting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reset_type: Option<i64>,
    /// A recurring reminder's period in days.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reminder_days: Option<i64>,
    /// The person it is on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub person_id: Option<PersonId>,
    /// The organization it is on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<OrganizationId>,
    /// The opportunity it is on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opportunity_id: Option<OpportunityId>,
}

/// `PUT /reminders/{id}`: what changes.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReminderUpdate {
    /// A new owner.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<PersonId>,
    /// New text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// A new due date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_date: Option<DateTime<Utc>>,
    /// Completes it (`true`) or opens it again (`false`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_completed: Option<bool>,
}

/// A file attached to a person, organization or opportunity (`GET /entity-files`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct EntityFile {
    /// Its id.
    pub id: EntityFileId,
    /// The file's name.
    pub name: String,
    /// Its size in bytes.
    #[serde(default)]
    pub size: Option<u64>,
    /// The person it is attached to.
    #[serde(default)]
    pub person_id: Option<PersonId>,
    /// The organization it is attached to.
    #[serde(default)]
    pub organization_id: Option<OrganizationId>,
    /// The opportunity it is attached to.
    #[serde(default)]
    pub opportunity_id: Option<OpportunityId>,
    /// Who uploaded it.
    #[serde(default)]
    pub uploader_id: Option<PersonId>,
    /// When it was uploaded.
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
}

/// `GET /relationships-strengths`: how well a user knows an external person, 0 to 1.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RelationshipStrength {
    /// The user.
    pub internal_id: PersonId,
    /// The external person.
    pub external_id: PersonId,
    /// From 0 to 1.
    pub strength: f64,
}

/// A webhook subscription (`GET /webhook`, affinity-api.md §5); empty `subscriptions` means
/// every event.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Webhook {
    /// Its id.
    pub id: WebhookId,
    /// Where events are POSTed.
    pub webhook_url: String,
    /// The event types sent (`list_entry.created`, ...); empty for all.
    #[serde(default, deserialize_with = "null_default")]
    pub subscriptions: Vec<String>,
    /// Whether it is switched off.
    #[serde(default)]
    pub disabled: bool,
    /// The user who made it.
    #[serde(default)]
    pub created_by: Option<PersonId>,
}

/// `POST /webhook/subscribe`: at most three per tenant (§5).
#[derive(Debug, Clone, Default, Serialize)]
pub struct NewWebhook {
    /// Where events go.
    pub webhook_url: String,
    /// The event types to send; empty for all.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subscriptions: Vec<String>,
}

/// `PUT /webhook/{id}`: what changes.
#[derive(Debug, Clone, Default, Serialize)]
pub struct WebhookUpdate {
    /// A new URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<String>,
    /// New event types.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscriptions: Option<Vec<String>>,
    /// Switches it off or on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
}

/// `POST /lists`.
#[derive(Debug, Clone, Serialize)]
pub struct NewList {
    /// Its name.
    pub name: String,
    /// What it holds.
    #[serde(rename = "type")]
    pub list_type: EntityType,
    /// Whether every user sees it.
    pub is_public: bool,
    /// Its owner (the key's user when `None`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<PersonId>,
}

/// `POST /fields`: a global field (no `list_id`) or a list's own.
#[derive(Debug, Clone, Serialize)]
pub struct NewField {
    /// Its name.
    pub name: String,
    /// The kind of entity it is on.
    pub entity_type: EntityType,
    /// Its value type.
    pub value_type: ValueType,
    /// The list, for a list-specific field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list_id: Option<ListId>,
    /// Whether it holds several values.
    pub allows_multiple: bool,
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
