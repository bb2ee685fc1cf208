//! The vocabulary of every stage: one record kind, the catalog (lists, fields, options), the
//! records (organizations, persons, opportunities, list entries) and their field values.
//!
//! Names follow Affinity's own words (DESIGN.md): an *organization* is what Affinity's v2 API
//! calls a company; "company" appears only at the API's edge, in the client crate.

use serde::{Deserialize, Serialize};

/// The kinds of Affinity record: what a list holds, what a mapping file maps, what the matcher
/// compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Organization,
    Person,
    Opportunity,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Organization, Kind::Person, Kind::Opportunity];

    /// The word stored, journaled and printed: `organization`, `person`, `opportunity`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Organization => "organization",
            Kind::Person => "person",
            Kind::Opportunity => "opportunity",
        }
    }

    /// The kind a word names; v2's `company` and the plurals are accepted too.
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "organization" | "organizations" | "company" | "companies" => Some(Kind::Organization),
            "person" | "persons" | "people" => Some(Kind::Person),
            "opportunity" | "opportunities" => Some(Kind::Opportunity),
            _ => None,
        }
    }

    /// The plural, for messages (`3 organizations`).
    pub fn plural(self) -> &'static str {
        match self {
            Kind::Organization => "organizations",
            Kind::Person => "persons",
            Kind::Opportunity => "opportunities",
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Kind {
    type Err = String;
    fn from_str(s: &str) -> Result<Kind, String> {
        Kind::parse(s).ok_or_else(|| {
            format!("unknown record kind `{s}`; expected `organization`, `person` or `opportunity`")
        })
    }
}

/// One execution of a command, as the journal numbers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RunId(pub i64);

impl std::fmt::Display for RunId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A list of the catalog.
#[derive(Debug, Clone, PartialEq)]
pub struct ListRow {
    pub id: i64,
    pub name: String,
    pub kind: Kind,
    pub is_public: bool,
    pub owner_id: Option<i64>,
    pub creator_id: Option<i64>,
}

/// A dropdown option of a field.
#[derive(Debug, Clone, PartialEq)]
pub struct OptionRow {
    pub option_id: i64,
    pub text: String,
    pub rank: Option<i64>,
    pub color: Option<String>,
}

/// A field of the catalog, keyed by its v2 id.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldRow {
    pub id: String,
    pub name: String,
    /// global | list | enriched | relationship-intelligence
    pub field_type: String,
    /// The v2 valueType (`text`, `number-multi`, `ranked-dropdown`, ...).
    pub value_type: String,
    pub list_id: Option<i64>,
    pub entity_kind: Option<Kind>,
    pub allows_multiple: bool,
    pub enrichment_source: Option<String>,
    pub track_changes: Option<bool>,
    /// Dropdown options, by option id.
    pub options: Vec<OptionRow>,
}

impl FieldRow {
    /// Whether Affinity fills the field itself (enriched and relationship-intelligence fields
    /// take no writes).
    pub fn is_affinity_owned(&self) -> bool {
        self.field_type == "enriched" || self.field_type == "relationship-intelligence"
    }
}

/// An organization of the mirror.
#[derive(Debug, Clone, PartialEq)]
pub struct OrganizationRow {
    pub id: i64,
    pub name: String,
    pub domain: Option<String>,
    pub domains: Vec<String>,
    pub is_global: bool,
}

/// A person of the mirror.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonRow {
    pub id: i64,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub primary_email: Option<String>,
    pub emails: Vec<String>,
    pub person_type: Option<String>,
}

/// An opportunity of the mirror.
#[derive(Debug, Clone, PartialEq)]
pub struct OpportunityRow {
    pub id: i64,
    pub name: String,
    pub list_id: Option<i64>,
}

/// A record of any kind.
#[derive(Debug, Clone, PartialEq)]
pub enum EntityRow {
    Organization(OrganizationRow),
    Person(PersonRow),
    Opportunity(OpportunityRow),
}

impl EntityRow {
    pub fn kind(&self) -> Kind {
        match self {
            EntityRow::Organization(_) => Kind::Organization,
            EntityRow::Person(_) => Kind::Person,
            EntityRow::Opportunity(_) => Kind::Opportunity,
        }
    }

    pub fn id(&self) -> i64 {
        match self {
            EntityRow::Organization(o) => o.id,
            EntityRow::Person(p) => p.id,
            EntityRow::Opportunity(o) => o.id,
        }
    }

    /// The name a person reads: an organization's or opportunity's name, a person's first and
    /// last names (else their email).
    pub fn display_name(&self) -> String {
        match self {
            EntityRow::Organization(o) => o.name.clone(),
            EntityRow::Opportunity(o) => o.name.clone(),
            EntityRow::Person(p) => person_name(
                p.first_name.as_deref(),
                p.last_name.as_deref(),
                p.primary_email
                    .as_deref()
                    .or(p.emails.first().map(String::as_str)),
            )
            .unwrap_or_default(),
        }
    }
}

/// A record as a person reads it: `Acme 20 Inc (organization 2918538601)`.
pub fn labelled(name: &str, kind: Kind, id: impl std::fmt::Display) -> String {
    labelled_as(name, kind, id)
}

/// [`labelled`] with the kind in any words (`global organization`).
pub fn labelled_as(name: &str, kind: impl std::fmt::Display, id: impl std::fmt::Display) -> String {
    if name.trim().is_empty() {
        format!("{kind} {id}")
    } else {
        format!("{name} ({kind} {id})")
    }
}

/// `1 row`, `2 rows`: a count and its noun, plural by an `s`, for messages people read.
pub fn counted(n: impl Into<u64>, noun: &str) -> String {
    let n = n.into();
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// A person's name for people: `First Last`, else the email.
pub fn person_name(first: Option<&str>, last: Option<&str>, email: Option<&str>) -> Option<String> {
    let name = [first, last]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if name.is_empty() {
        email.map(str::to_string).filter(|e| !e.is_empty())
    } else {
        Some(name)
    }
}

/// A list entry: a record on a list.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryRow {
    pub id: i64,
    pub list_id: i64,
    pub entity_kind: Kind,
    pub entity_id: i64,
    pub created_at: Option<String>,
    pub creator_id: Option<i64>,
}

/// Who a field value belongs to: the entity (global and enriched fields) or one of its list
/// entries (list-specific fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Owner {
    Entity(Kind, i64),
    Entry(i64),
}

impl Owner {
    /// The word stored for the owner's kind: a record kind, or `entry`.
    pub fn kind_str(self) -> &'static str {
        match self {
            Owner::Entity(k, _) => k.as_str(),
            Owner::Entry(_) => "entry",
        }
    }

    pub fn id(self) -> i64 {
        match self {
            Owner::Entity(_, id) | Owner::Entry(id) => id,
        }
    }

    /// The owner a stored kind word and id name.
    pub fn parse(kind: &str, id: i64) -> Option<Owner> {
        if kind == "entry" {
            Some(Owner::Entry(id))
        } else {
            Kind::parse(kind).map(|k| Owner::Entity(k, id))
        }
    }
}

/// One element of a field value, typed: a single-valued field has at most one, a multi-valued
/// one an element per value, an empty value none.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ValueItem {
    pub value_type: String,
    /// Text; a dropdown option's text; a referenced person's or organization's name.
    pub text: Option<String>,
    pub number: Option<f64>,
    /// A datetime (RFC 3339, UTC).
    pub at: Option<String>,
    /// A dropdown option, person or organization id.
    pub ref_id: Option<i64>,
    /// The value as Affinity gave it, where the columns above do not hold all of it.
    pub json: Option<String>,
}

/// The whole value of one field on one owner.
#[derive(Debug, Clone, PartialEq)]
pub struct OwnedValue {
    pub owner: Owner,
    pub field_id: String,
    pub items: Vec<ValueItem>,
}

/// A location value, in the JSON shape Affinity's v2 API reads and writes (every part may be
/// missing).
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

/// A time as the mirror and the journal write it: RFC 3339 in UTC, to the millisecond.
pub fn time_text(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_kind_word_each_and_the_api_word_is_read_too() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.as_str()), Some(k));
            assert_eq!(Kind::parse(k.plural()), Some(k));
        }
        assert_eq!(Kind::parse("company"), Some(Kind::Organization));
        assert_eq!(Kind::Organization.to_string(), "organization");
        assert_eq!(Kind::parse("deal"), None);
    }

    #[test]
    fn owners_round_trip_through_their_stored_words() {
        for o in [
            Owner::Entity(Kind::Organization, 1),
            Owner::Entity(Kind::Person, 2),
            Owner::Entry(3),
        ] {
            assert_eq!(Owner::parse(o.kind_str(), o.id()), Some(o));
        }
    }

    #[test]
    fn person_names_fall_back_to_the_email() {
        assert_eq!(
            person_name(Some("Ada"), Some("Lovelace"), None).as_deref(),
            Some("Ada Lovelace")
        );
        assert_eq!(
            person_name(None, Some(" "), Some("a@b.co")).as_deref(),
            Some("a@b.co")
        );
        assert_eq!(person_name(None, None, None), None);
    }
}
