//! v2 models (affinity-api.md §3): camelCase, `{data, pagination}` pages, field values as
//! `{type, data}`. Unknown fields are ignored; unknown value types are kept as JSON.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::lenient::{null_default, opt_u64, Color, Limit};
use super::{
    DropdownOptionId, ListEntryId, ListId, MergeId, NoteId, OpportunityId, OrganizationId,
    PersonId, SavedViewId,
};

/// A v2 field id: `field-<v1 id>` for custom fields, or a name such as
/// `affinity-data-location` or `last-email` (§3.1).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FieldId(pub String);

impl FieldId {
    /// `field-<id>` for a v1 field id.
    pub fn from_v1(id: super::FieldId) -> Self {
        FieldId(format!("field-{}", id.0))
    }
    /// The v1 id of a custom field (`field-123` → 123); `None` for enriched and
    /// relationship-intelligence fields.
    pub fn as_v1(&self) -> Option<super::FieldId> {
        self.0
            .strip_prefix("field-")
            .and_then(|n| n.parse().ok())
            .map(super::FieldId)
    }
}

impl fmt::Display for FieldId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for FieldId {
    fn from(s: &str) -> Self {
        FieldId(s.to_string())
    }
}

/// One page: `{"data":[…],"pagination":{"nextUrl","prevUrl","totalCount"?}}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Page<T> {
    /// The items of this page.
    pub data: Vec<T>,
    /// Where the next and previous pages are.
    #[serde(default)]
    pub pagination: Pagination,
}

/// Where the pages around this one are.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    /// The next page, `None` at the end.
    #[serde(default)]
    pub next_url: Option<String>,
    /// The previous page, `None` on the first.
    #[serde(default)]
    pub prev_url: Option<String>,
    /// How many items there are in all, when asked for (`totalCount=true`).
    #[serde(default)]
    pub total_count: Option<u64>,
}

/// A company (v1: organization).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Company {
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
    /// Whether it is one of Affinity's global companies (immutable).
    #[serde(default)]
    pub is_global: bool,
    /// Only what `fieldIds`/`fieldTypes` asked for.
    #[serde(default, deserialize_with = "null_default")]
    pub fields: Vec<Field>,
}

/// A person. `type` is `internal`, `external` (or `collaborator` in references).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Person {
    /// Its id.
    pub id: PersonId,
    /// The first name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// The last name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// The primary email address.
    #[serde(default)]
    pub primary_email_address: Option<String>,
    /// Every email address.
    #[serde(default, deserialize_with = "null_default")]
    pub email_addresses: Vec<String>,
    /// 0 external, 1 internal (a user of the tenant).
    #[serde(rename = "type", default)]
    pub person_type: Option<String>,
    /// Its field values, as asked for.
    #[serde(default, deserialize_with = "null_default")]
    pub fields: Vec<Field>,
}

/// An opportunity (no field data outside list entries).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Opportunity {
    /// Its id.
    pub id: OpportunityId,
    /// Its name.
    pub name: String,
    /// The list it belongs to (`None` for a global field).
    #[serde(default)]
    pub list_id: Option<ListId>,
    /// Its field values, as asked for.
    #[serde(default, deserialize_with = "null_default")]
    pub fields: Vec<Field>,
}

/// A list (`ListWithType`); `type` is `company`, `person` or `opportunity`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct List {
    /// Its id.
    pub id: ListId,
    /// Its name.
    pub name: String,
    /// The internal person who created it.
    #[serde(default)]
    pub creator_id: Option<PersonId>,
    /// The internal person who owns it.
    #[serde(default)]
    pub owner_id: Option<PersonId>,
    /// Whether every user of the tenant sees it.
    #[serde(default)]
    pub is_public: bool,
    /// `company`, `person` or `opportunity`.
    #[serde(rename = "type", default)]
    pub list_type: Option<String>,
    /// When it was created.
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
}

/// An item of `GET /v2/lists/{id}/list-entries`: the entry and its entity.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawEntryWithEntity")]
pub struct ListEntryWithEntity {
    /// Its id.
    pub id: ListEntryId,
    /// The list it belongs to (`None` for a global field).
    pub list_id: ListId,
    /// When it was created.
    pub created_at: Option<DateTime<Utc>>,
    /// The internal person who created it.
    pub creator_id: Option<PersonId>,
    /// The entity, when the route embeds it.
    pub entity: Entity,
}

/// The entity a v2 list entry holds, by the entry's `type`.
#[derive(Debug, Clone, PartialEq)]
pub enum Entity {
    /// A company.
    Company(Company),
    /// A person.
    Person(Person),
    /// An opportunity.
    Opportunity(Opportunity),
    /// A code or shape this client does not know, kept as it came.
    Other {
        /// The entry's `type`.
        kind: String,
        /// The entity as it came.
        entity: Json,
    },
}

impl Entity {
    /// The entity's fields (list fields included, when asked for).
    pub fn fields(&self) -> &[Field] {
        match self {
            Entity::Company(c) => &c.fields,
            Entity::Person(p) => &p.fields,
            Entity::Opportunity(o) => &o.fields,
            Entity::Other { .. } => &[],
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEntryWithEntity {
    id: ListEntryId,
    list_id: ListId,
    #[serde(default)]
    created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    creator_id: Option<PersonId>,
    #[serde(rename = "type")]
    kind: String,
    entity: Json,
}

impl TryFrom<RawEntryWithEntity> for ListEntryWithEntity {
    type Error = String;
    fn try_from(r: RawEntryWithEntity) -> Result<Self, String> {
        let de = |e: serde_json::Error| format!("entity of type `{}`: {e}", r.kind);
        let entity = match r.kind.as_str() {
            "company" => Entity::Company(serde_json::from_value(r.entity).map_err(de)?),
            "person" => Entity::Person(serde_json::from_value(r.entity).map_err(de)?),
            "opportunity" => Entity::Opportunity(serde_json::from_value(r.entity).map_err(de)?),
            _ => Entity::Other {
                kind: r.kind.clone(),
                entity: r.entity,
            },
        };
        Ok(ListEntryWithEntity {
            id: r.id,
            list_id: r.list_id,
            created_at: r.created_at,
            creator_id: r.creator_id,
            entity,
        })
    }
}

/// An item of `/v2/{companies|persons}/{id}/list-entries`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListEntry {
    /// Its id.
    pub id: ListEntryId,
    /// The list it belongs to (`None` for a global field).
    pub list_id: ListId,
    /// When it was created.
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    /// The internal person who created it.
    #[serde(default)]
    pub creator_id: Option<PersonId>,
    /// Its field values, as asked for.
    #[serde(default, deserialize_with = "null_default")]
    pub fields: Vec<Field>,
}

/// A field with its value on one entity.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Field {
    /// Its id.
    pub id: FieldId,
    /// Its name.
    pub name: String,
    /// `enriched`, `global`, `list`, `relationship-intelligence` (2026: `hidden`).
    #[serde(rename = "type")]
    pub field_type: String,
    /// Where an enriched field's data comes from (`none` for a custom field).
    #[serde(default)]
    pub enrichment_source: Option<String>,
    /// The value.
    pub value: FieldValue,
}

/// A field's definition (`GET /v2/lists/{id}/fields`, `/v2/companies/fields`, ...).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldMetadata {
    /// Its id.
    pub id: FieldId,
    /// Its name.
    pub name: String,
    /// `enriched`, `global`, `list`, `relationship-intelligence` (2026: `hidden`).
    #[serde(rename = "type")]
    pub field_type: String,
    /// Where an enriched field's data comes from (`none` for a custom field).
    #[serde(default)]
    pub enrichment_source: Option<String>,
    /// A §3.3 value type (`text`, `ranked-dropdown`, ...).
    pub value_type: String,
    /// When it was created.
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    /// Its description (2026-09-17).
    #[serde(default)]
    pub description: Option<String>,
    /// Whether a value is required (2026-09-17).
    #[serde(default)]
    pub is_required: Option<bool>,
}

/// A location value; every part may be null.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
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

/// A dropdown value: read with `text`, written with the option id alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Dropdown {
    /// The option's id (what a write sends).
    pub dropdown_option_id: DropdownOptionId,
    /// The option's text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// A ranked-dropdown value; `color` is a string in v2 (an int in v1, §8.10).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RankedDropdown {
    /// The option's id (what a write sends).
    pub dropdown_option_id: DropdownOptionId,
    /// The option's text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Its rank (ranked dropdowns).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rank: Option<i64>,
    /// Its color: an int in v1, a name in v2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<Color>,
}

/// A person in a value or reference; writes send the id alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonRef {
    /// Its id.
    pub id: PersonId,
    /// The first name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// The last name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// The primary email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_email_address: Option<String>,
    /// `internal`, `external` or `collaborator`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub person_type: Option<String>,
}

impl PersonRef {
    /// A reference by id alone, as writes send it.
    pub fn id(id: PersonId) -> Self {
        PersonRef {
            id,
            first_name: None,
            last_name: None,
            primary_email_address: None,
            person_type: None,
        }
    }
}

/// A company in a value; writes send the id alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompanyRef {
    /// Its id.
    pub id: OrganizationId,
    /// Its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The primary domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
}

impl CompanyRef {
    /// A reference by id alone, as writes send it.
    pub fn id(id: OrganizationId) -> Self {
        CompanyRef {
            id,
            name: None,
            domain: None,
        }
    }
}

/// A formula field's value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FormulaNumber {
    /// The formula's result.
    #[serde(default)]
    pub calculated_value: Option<f64>,
}

/// An interaction value (read-only): an email, meeting, call or chat message. The common
/// keys are typed; the rest stays in `raw`.
#[derive(Debug, Clone, PartialEq)]
pub struct Interaction {
    /// `email`, `meeting`, `call`, `chat-message`.
    pub kind: String,
    /// Its id.
    pub id: Option<i64>,
    /// `sentAt` for emails and chat messages, `startTime` for meetings and calls.
    pub at: Option<DateTime<Utc>>,
    /// The whole value as it came.
    pub raw: Json,
}

impl Interaction {
    fn from_json(raw: Json) -> Result<Self, String> {
        let kind = raw
            .get("type")
            .and_then(|t| t.as_str())
            .ok_or("an interaction without `type`")?
            .to_string();
        let at = ["sentAt", "startTime"]
            .iter()
            .find_map(|k| raw.get(*k).and_then(|v| v.as_str()))
            .map(|s| {
                DateTime::parse_from_rfc3339(s)
                    .map(|d| d.with_timezone(&Utc))
                    .map_err(|e| format!("interaction time `{s}`: {e}"))
            })
            .transpose()?;
        Ok(Interaction {
            kind,
            id: raw.get("id").and_then(|v| v.as_i64()),
            at,
            raw,
        })
    }
}

/// A field value, `{"type": valueType, "data": …}` (§3.3). Multi values are `None` when
/// empty: v2 sends `null`, not `[]` (§8.10).
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    /// Text.
    Text(Option<String>),
    /// Filterable text (filled by Affinity).
    FilterableText(Option<String>),
    /// Several filterable texts.
    FilterableTextMulti(Option<Vec<String>>),
    /// A number.
    Number(Option<f64>),
    /// Several numbers.
    NumberMulti(Option<Vec<f64>>),
    /// A date and time.
    Datetime(Option<DateTime<Utc>>),
    /// A location.
    Location(Option<Location>),
    /// Several locations.
    LocationMulti(Option<Vec<Location>>),
    /// A dropdown.
    Dropdown(Option<Dropdown>),
    /// Several dropdown options.
    DropdownMulti(Option<Vec<Dropdown>>),
    /// A ranked dropdown.
    RankedDropdown(Option<RankedDropdown>),
    /// A person.
    Person(Option<PersonRef>),
    /// Several persons.
    PersonMulti(Option<Vec<PersonRef>>),
    /// A company.
    Company(Option<CompanyRef>),
    /// Several companies.
    CompanyMulti(Option<Vec<CompanyRef>>),
    /// A formula's result (read-only).
    FormulaNumber(Option<FormulaNumber>),
    /// An interaction (read-only).
    Interaction(Option<Interaction>),
    /// A value type this client does not know (2026: `note`, `reminder`, `list-multi`, ...).
    Other {
        /// Its value type.
        value_type: String,
        /// Its `data` as it came.
        data: Json,
    },
}

#[derive(Serialize, Deserialize)]
struct RawValue {
    #[serde(rename = "type")]
    value_type: String,
    #[serde(default)]
    data: Json,
}

impl FieldValue {
    /// The §3.3 value type name.
    pub fn value_type(&self) -> &str {
        use FieldValue::*;
        match self {
            Text(_) => "text",
            FilterableText(_) => "filterable-text",
            FilterableTextMulti(_) => "filterable-text-multi",
            Number(_) => "number",
            NumberMulti(_) => "number-multi",
            Datetime(_) => "datetime",
            Location(_) => "location",
            LocationMulti(_) => "location-multi",
            Dropdown(_) => "dropdown",
            DropdownMulti(_) => "dropdown-multi",
            RankedDropdown(_) => "ranked-dropdown",
            Person(_) => "person",
            PersonMulti(_) => "person-multi",
            Company(_) => "company",
            CompanyMulti(_) => "company-multi",
            FormulaNumber(_) => "formula-number",
            Interaction(_) => "interaction",
            Other { value_type, .. } => value_type,
        }
    }

    /// Whether the value is empty (`data` null).
    pub fn is_empty(&self) -> bool {
        self.data_json().is_null()
    }

    fn data_json(&self) -> Json {
        use FieldValue::*;
        fn j<T: Serialize>(v: &T) -> Json {
            serde_json::to_value(v).unwrap_or(Json::Null)
        }
        match self {
            Text(v) | FilterableText(v) => j(v),
            FilterableTextMulti(v) => j(v),
            // Whole numbers go out as integers (`100`, not `100.0`), as Affinity writes them.
            Number(v) => v.map(num_json).unwrap_or(Json::Null),
            NumberMulti(v) => v
                .as_ref()
                .map(|ns| Json::Array(ns.iter().copied().map(num_json).collect()))
                .unwrap_or(Json::Null),
            Datetime(v) => match v {
                Some(d) => Json::String(d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                None => Json::Null,
            },
            Location(v) => j(v),
            LocationMulti(v) => j(v),
            Dropdown(v) => j(v),
            DropdownMulti(v) => j(v),
            RankedDropdown(v) => j(v),
            Person(v) => j(v),
            PersonMulti(v) => j(v),
            Company(v) => j(v),
            CompanyMulti(v) => j(v),
            FormulaNumber(v) => j(v),
            Interaction(v) => v.as_ref().map(|i| i.raw.clone()).unwrap_or(Json::Null),
            Other { data, .. } => data.clone(),
        }
    }
}

fn num_json(n: f64) -> Json {
    if n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 {
        Json::from(n as i64)
    } else {
        serde_json::json!(n)
    }
}

impl<'de> Deserialize<'de> for FieldValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = RawValue::deserialize(d)?;
        fn de<T: serde::de::DeserializeOwned, E: serde::de::Error>(
            v: Json,
            t: &str,
        ) -> Result<T, E> {
            serde_json::from_value(v).map_err(|e| E::custom(format!("`{t}` value: {e}")))
        }
        use FieldValue::*;
        let t = raw.value_type.as_str();
        let data = raw.data;
        let v = match t {
            "text" => Text(de(data, t)?),
            "filterable-text" => FilterableText(de(data, t)?),
            "filterable-text-multi" => FilterableTextMulti(de(data, t)?),
            "number" => Number(de(data, t)?),
            "number-multi" => NumberMulti(de(data, t)?),
            "datetime" => Datetime(de(data, t)?),
            "location" => Location(de(data, t)?),
            "location-multi" => LocationMulti(de(data, t)?),
            "dropdown" => Dropdown(de(data, t)?),
            "dropdown-multi" => DropdownMulti(de(data, t)?),
            "ranked-dropdown" => RankedDropdown(de(data, t)?),
            "person" => Person(de(data, t)?),
            "person-multi" => PersonMulti(de(data, t)?),
            "company" => Company(de(data, t)?),
            "company-multi" => CompanyMulti(de(data, t)?),
            "formula-number" => FormulaNumber(de(data, t)?),
            "interaction" => Interaction(match data {
                Json::Null => None,
                raw => Some(self::Interaction::from_json(raw).map_err(serde::de::Error::custom)?),
            }),
            _ => Other {
                value_type: raw.value_type.clone(),
                data,
            },
        };
        Ok(v)
    }
}

impl Serialize for FieldValue {
    /// The write shape: `{type, data}`; references carry only what was set (write them
    /// with [`PersonRef::id`], [`CompanyRef::id`] and option ids).
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        RawValue {
            value_type: self.value_type().to_string(),
            data: self.data_json(),
        }
        .serialize(s)
    }
}

/// The body of `POST /v2/lists/{lid}/list-entries/{eid}/fields/{fieldId}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldValueUpdate {
    /// The value.
    pub value: FieldValue,
}

/// One update of a `PATCH …/fields` batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldUpdate {
    /// Its id.
    pub id: FieldId,
    /// The value.
    pub value: FieldValue,
}

/// `PATCH /v2/lists/{lid}/list-entries/{eid}/fields` (≤100 updates per call).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpdateFields {
    /// Always `update-fields`.
    pub operation: String,
    /// The updates, at most 100.
    pub updates: Vec<FieldUpdate>,
}

/// The 200 answer to an update-fields batch: `{"operation":"update-fields"}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct OperationDone {
    /// Always `update-fields`.
    pub operation: String,
}

/// A v2 note (`entities`, `interaction`, `ai-notetaker`, `user-reply`, ...).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Note {
    /// Its id.
    pub id: NoteId,
    /// 0 plain, 1 email-derived, 2 HTML, 3 AI notetaker.
    #[serde(rename = "type", default)]
    pub note_type: Option<String>,
    /// Its content.
    #[serde(default)]
    pub content: Option<NoteContent>,
    /// Who wrote it.
    #[serde(default)]
    pub creator: Option<PersonRef>,
    /// Who it mentions, as Affinity gives them.
    #[serde(default, deserialize_with = "null_default")]
    pub mentions: Vec<Json>,
    /// When it was created.
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    /// When it last changed, if ever.
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
    /// The note it replies to, on a reply.
    #[serde(default)]
    pub parent: Option<NoteRef>,
    /// The interaction it is attached to, kept as JSON.
    #[serde(default)]
    pub interaction: Option<Json>,
}

/// A note's content.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct NoteContent {
    /// The HTML content.
    #[serde(default)]
    pub html: Option<String>,
}

/// A note named by id.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct NoteRef {
    /// Its id.
    pub id: NoteId,
}

/// `GET /v2/auth/whoami`.
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
    pub email_address: Option<String>,
}

/// The grant of a whoami.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Grant {
    /// The grant's type (`api_key`, `api-key`, `access-token`).
    #[serde(rename = "type", default)]
    pub grant_type: Option<String>,
    /// The grant's scopes.
    #[serde(default, deserialize_with = "null_default")]
    pub scopes: Vec<String>,
    /// When it was created.
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
}

/// `GET /v2/rate-limit` (beta, §4); `orgPerMonth` only when a monthly quota applies.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RateLimit {
    /// The caller's per-minute limit.
    pub caller_per_minute: Quota,
    /// The account's monthly quota, when one applies.
    #[serde(default)]
    pub org_per_month: Option<Quota>,
}

/// One limit.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Quota {
    /// The limit (`unlimited` when none).
    pub limit: Limit,
    /// What is left of it.
    pub remaining: Limit,
    /// Seconds until it resets.
    #[serde(default, deserialize_with = "opt_u64")]
    pub reset: Option<u64>,
    /// How much of it is spent.
    #[serde(default, deserialize_with = "opt_u64")]
    pub used: Option<u64>,
}

// ---- saved views, dropdown options, merges ----

/// A saved view of a list (`GET /v2/lists/{id}/saved-views`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SavedView {
    /// Its id.
    pub id: SavedViewId,
    /// Its name.
    pub name: String,
    /// `sheet`, `board` or `dashboard`.
    #[serde(rename = "type")]
    pub view_type: String,
    /// When it was made.
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
}

/// An option of a dropdown, ranked-dropdown or status-dropdown field (v2).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DropdownOption {
    /// Its id.
    pub id: DropdownOptionId,
    /// Its text.
    pub text: String,
    /// `dropdown`, `ranked-dropdown` or `status-dropdown`.
    #[serde(rename = "type")]
    pub option_type: String,
    /// Its rank (ranked and status dropdowns).
    #[serde(default)]
    pub rank: Option<i64>,
    /// Its color (ranked and status dropdowns): `blue`, `gray`, ...
    #[serde(default)]
    pub color: Option<String>,
}

/// `POST /v2/lists/{id}/fields/{fieldId}/dropdown-options`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum NewDropdownOption {
    /// An option of a plain dropdown.
    Dropdown {
        /// Its text.
        text: String,
    },
    /// An option of a ranked dropdown.
    RankedDropdown {
        /// Its text.
        text: String,
        /// Its rank.
        rank: i64,
        /// Its color: `blue`, `gray`, `green`, `orange`, `purple`, `red` or `white`.
        color: String,
    },
}

/// `POST /v2/lists/{id}/fields/{fieldId}/dropdown-options/{optionId}`: what changes.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DropdownOptionUpdate {
    /// New text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// A new rank.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rank: Option<i64>,
    /// A new color.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
}

/// The 202 answer to a merge: where its task is.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MergeStarted {
    /// The task's URL (`…/v2/tasks/company-merges/{taskId}`).
    pub task_url: String,
}

impl MergeStarted {
    /// The task's id: the last segment of its URL.
    pub fn task_id(&self) -> MergeTaskId {
        MergeTaskId(
            self.task_url
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_string(),
        )
    }
}

/// One merge of two companies (`CompanyMergeState`) or two persons (`PersonMergeState`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Merge {
    /// Its id.
    pub id: MergeId,
    /// The task it belongs to.
    pub task_id: MergeTaskId,
    /// `in-progress`, `success` or `failed`.
    pub status: String,
    /// The survivor (`primaryCompanyId` or `primaryPersonId`).
    #[serde(alias = "primaryCompanyId", alias = "primaryPersonId")]
    pub primary_id: i64,
    /// The record merged away (`duplicateCompanyId` or `duplicatePersonId`).
    #[serde(alias = "duplicateCompanyId", alias = "duplicatePersonId")]
    pub duplicate_id: i64,
    /// Why it failed, if it did.
    #[serde(default)]
    pub error_message: Option<String>,
    /// When it started.
    #[serde(default)]
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended.
    #[serde(default)]
    pub completed_at: Option<DateTime<Utc>>,
}

/// A merge task: one or more merges and how they went.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MergeTask {
    /// Its id.
    pub id: MergeTaskId,
    /// `in-progress`, `success` or `failed`.
    pub status: String,
    /// The counts of its merges.
    pub results_summary: MergeSummary,
}

/// How a task's merges went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MergeSummary {
    /// All of them.
    pub total: u64,
    /// Those that succeeded.
    pub success: u64,
    /// Those that failed.
    pub failed: u64,
    /// Those still running.
    pub in_progress: u64,
}

/// A merge task's id: an opaque string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MergeTaskId(pub String);

impl fmt::Display for MergeTaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A v2 webhook subscription (`GET /v2/webhooks`, 2026-07-15 on).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Webhook {
    /// Its id.
    pub id: super::WebhookId,
    /// Where events go.
    pub url: String,
    /// The event types sent.
    #[serde(default, deserialize_with = "null_default")]
    pub subscriptions: Vec<String>,
    /// `active` or `disabled`.
    pub status: String,
    /// When it was made.
    #[serde(default)]
    pub created_at: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_round_trip_and_null_multis() {
        let cases = vec![
            json!({"type": "text", "data": "x"}),
            json!({"type": "text", "data": null}),
            json!({"type": "number-multi", "data": null}),
            json!({"type": "person-multi", "data": [{"id": 1}]}),
            json!({"type": "dropdown", "data": {"dropdownOptionId": 3}}),
            json!({"type": "ranked-dropdown", "data": {"dropdownOptionId": 3}}),
            json!({"type": "company", "data": {"id": 1}}),
            json!({"type": "datetime", "data": "2024-04-01T12:00:00Z"}),
            json!({"type": "list-multi", "data": [{"id": 1}]}),
        ];
        for c in cases {
            let v: FieldValue = serde_json::from_value(c.clone()).unwrap();
            assert_eq!(serde_json::to_value(&v).unwrap(), c);
        }
        let v: FieldValue =
            serde_json::from_value(json!({"type": "company-multi", "data": null})).unwrap();
        assert_eq!(v, FieldValue::CompanyMulti(None));
        assert!(v.is_empty());
    }

    #[test]
    fn bad_data_for_a_known_type_is_an_error() {
        let r: Result<FieldValue, _> =
            serde_json::from_value(json!({"type": "number", "data": "ten"}));
        assert!(r.unwrap_err().to_string().contains("`number` value"));
    }

    #[test]
    fn field_ids() {
        assert_eq!(FieldId::from_v1(super::super::FieldId(12)).0, "field-12");
        assert_eq!(
            FieldId::from("field-12").as_v1(),
            Some(super::super::FieldId(12))
        );
        assert_eq!(FieldId::from("affinity-data-location").as_v1(), None);
    }
}
