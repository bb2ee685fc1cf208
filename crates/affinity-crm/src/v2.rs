//! v2 models (affinity-api.md §3): camelCase, `{data, pagination}` pages, field values as
//! `{type, data}`. Unknown fields are ignored; unknown value types are kept as JSON.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::lenient::{null_default, opt_u64, Color, Limit};
use super::{
    DropdownOptionId, ListEntryId, ListId, NoteId, OpportunityId, OrganizationId, PersonId,
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
    pub data: Vec<T>,
    #[serde(default)]
    pub pagination: Pagination,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    #[serde(default)]
    pub next_url: Option<String>,
    #[serde(default)]
    pub prev_url: Option<String>,
    #[serde(default)]
    pub total_count: Option<u64>,
}

/// A company (v1: organization).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Company {
    pub id: OrganizationId,
    pub name: String,
    #[serde(default)]
    pub domain: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub domains: Vec<String>,
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
    pub id: PersonId,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub primary_email_address: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub email_addresses: Vec<String>,
    #[serde(rename = "type", default)]
    pub person_type: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub fields: Vec<Field>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Opportunity {
    pub id: OpportunityId,
    pub name: String,
    #[serde(default)]
    pub list_id: Option<ListId>,
    #[serde(default, deserialize_with = "null_default")]
    pub fields: Vec<Field>,
}

/// A list (`ListWithType`); `type` is `company`, `person` or `opportunity`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct List {
    pub id: ListId,
    pub name: String,
    #[serde(default)]
    pub creator_id: Option<PersonId>,
    #[serde(default)]
    pub owner_id: Option<PersonId>,
    #[serde(default)]
    pub is_public: bool,
    #[serde(rename = "type", default)]
    pub list_type: Option<String>,
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
}

/// An item of `GET /v2/lists/{id}/list-entries`: the entry and its entity.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawEntryWithEntity")]
pub struct ListEntryWithEntity {
    pub id: ListEntryId,
    pub list_id: ListId,
    pub created_at: Option<DateTime<Utc>>,
    pub creator_id: Option<PersonId>,
    pub entity: Entity,
}

/// The entity a v2 list entry holds, by the entry's `type`.
#[derive(Debug, Clone, PartialEq)]
pub enum Entity {
    Company(Company),
    Person(Person),
    Opportunity(Opportunity),
    Other { kind: String, entity: Json },
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
    pub id: ListEntryId,
    pub list_id: ListId,
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub creator_id: Option<PersonId>,
    #[serde(default, deserialize_with = "null_default")]
    pub fields: Vec<Field>,
}

/// A field with its value on one entity.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Field {
    pub id: FieldId,
    pub name: String,
    /// `enriched`, `global`, `list`, `relationship-intelligence` (2026: `hidden`).
    #[serde(rename = "type")]
    pub field_type: String,
    #[serde(default)]
    pub enrichment_source: Option<String>,
    pub value: FieldValue,
}

/// A field's definition (`GET /v2/lists/{id}/fields`, `/v2/companies/fields`, ...).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldMetadata {
    pub id: FieldId,
    pub name: String,
    #[serde(rename = "type")]
    pub field_type: String,
    #[serde(default)]
    pub enrichment_source: Option<String>,
    /// A §3.3 value type (`text`, `ranked-dropdown`, ...).
    pub value_type: String,
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub is_required: Option<bool>,
}

/// A location value; every part may be null.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
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

/// A dropdown value: read with `text`, written with the option id alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Dropdown {
    pub dropdown_option_id: DropdownOptionId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// A ranked-dropdown value; `color` is a string in v2 (an int in v1, §8.10).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RankedDropdown {
    pub dropdown_option_id: DropdownOptionId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rank: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<Color>,
}

/// A person in a value or reference; writes send the id alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonRef {
    pub id: PersonId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_email_address: Option<String>,
    /// `internal`, `external` or `collaborator`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub person_type: Option<String>,
}

impl PersonRef {
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
    pub id: OrganizationId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
}

impl CompanyRef {
    pub fn id(id: OrganizationId) -> Self {
        CompanyRef {
            id,
            name: None,
            domain: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FormulaNumber {
    #[serde(default)]
    pub calculated_value: Option<f64>,
}

/// An interaction value (read-only): an email, meeting, call or chat message. The common
/// keys are typed; the rest stays in `raw`.
#[derive(Debug, Clone, PartialEq)]
pub struct Interaction {
    /// `email`, `meeting`, `call`, `chat-message`.
    pub kind: String,
    pub id: Option<i64>,
    /// `sentAt` for emails and chat messages, `startTime` for meetings and calls.
    pub at: Option<DateTime<Utc>>,
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
    Text(Option<String>),
    FilterableText(Option<String>),
    FilterableTextMulti(Option<Vec<String>>),
    Number(Option<f64>),
    NumberMulti(Option<Vec<f64>>),
    Datetime(Option<DateTime<Utc>>),
    Location(Option<Location>),
    LocationMulti(Option<Vec<Location>>),
    Dropdown(Option<Dropdown>),
    DropdownMulti(Option<Vec<Dropdown>>),
    RankedDropdown(Option<RankedDropdown>),
    Person(Option<PersonRef>),
    PersonMulti(Option<Vec<PersonRef>>),
    Company(Option<CompanyRef>),
    CompanyMulti(Option<Vec<CompanyRef>>),
    FormulaNumber(Option<FormulaNumber>),
    Interaction(Option<Interaction>),
    /// A value type this client does not know (2026: `note`, `reminder`, `list-multi`, ...).
    Other {
        value_type: String,
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
    pub value: FieldValue,
}

/// One update of a `PATCH …/fields` batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldUpdate {
    pub id: FieldId,
    pub value: FieldValue,
}

/// `PATCH /v2/lists/{lid}/list-entries/{eid}/fields` (≤100 updates per call).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpdateFields {
    pub operation: String,
    pub updates: Vec<FieldUpdate>,
}

/// The 200 answer to an update-fields batch: `{"operation":"update-fields"}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct OperationDone {
    pub operation: String,
}

/// A v2 note (`entities`, `interaction`, `ai-notetaker`, `user-reply`, ...).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Note {
    pub id: NoteId,
    #[serde(rename = "type", default)]
    pub note_type: Option<String>,
    #[serde(default)]
    pub content: Option<NoteContent>,
    #[serde(default)]
    pub creator: Option<PersonRef>,
    #[serde(default, deserialize_with = "null_default")]
    pub mentions: Vec<Json>,
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub parent: Option<NoteRef>,
    #[serde(default)]
    pub interaction: Option<Json>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct NoteContent {
    #[serde(default)]
    pub html: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct NoteRef {
    pub id: NoteId,
}

/// `GET /v2/auth/whoami`.
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
    pub email_address: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Grant {
    #[serde(rename = "type", default)]
    pub grant_type: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
}

/// `GET /v2/rate-limit` (beta, §4); `orgPerMonth` only when a monthly quota applies.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RateLimit {
    pub caller_per_minute: Quota,
    #[serde(default)]
    pub org_per_month: Option<Quota>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Quota {
    pub limit: Limit,
    pub remaining: Limit,
    #[serde(default, deserialize_with = "opt_u64")]
    pub reset: Option<u64>,
    #[serde(default, deserialize_with = "opt_u64")]
    pub used: Option<u64>,
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
