//! The emulator's in-memory tenant: the records, and the seed format that fills them.
//!
//! The seed format is this module's types serialized as JSON, in v1's snake_case words and
//! v1's enum codes (see `../shared/affinity-api.md` §2.1). Field values are given in their
//! v1 *write* form (an option's text for a dropdown, an option id for a ranked dropdown, an
//! id for a person or organization), and parsed against their field's value type exactly as
//! a `POST /field-values` would be, so a seed cannot hold a value the API would refuse.
//!
//! A tenant has one or more users. `user` is the first, whose key is `EmulatorConfig::api_key`
//! (`affsync emulator --api-key`), or any key when none is set. `users` ([`SeedUser`]) are the
//! others, each with their own `api_key`:
//!
//! ```json
//! "users": [{"id": 11, "first_name": "Bea", "last_name": null, "email": "bea@fund.vc",
//!            "api_key": "key-bea"}]
//! ```
//!
//! Every user is an internal person of the tenant (added when `persons` does not hold them).
//! A request is its key's user's ([`State::caller`]): what it writes names them as creator
//! (notes' `creator_id`, interactions' `manual_creator_id`, lists, entries, reminders, files,
//! webhook subscriptions, field value changes), `whoami` answers them, and only they may delete
//! their notes or change their webhook subscriptions (v1 `PUT /webhook`). Each key has its own
//! per-minute window; the monthly quota is the account's. A user id or key that repeats, or a
//! key that is the first user's, is refused at load.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Deref;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// v1 entity type codes (lists, fields, list entries).
pub mod entity_type {
    pub const PERSON: i64 = 0;
    pub const ORGANIZATION: i64 = 1;
    pub const OPPORTUNITY: i64 = 8;
}

/// v1 field value type codes.
pub mod value_type {
    pub const PERSON: i64 = 0;
    pub const ORGANIZATION: i64 = 1;
    pub const DROPDOWN: i64 = 2;
    pub const NUMBER: i64 = 3;
    pub const DATE: i64 = 4;
    pub const LOCATION: i64 = 5;
    pub const TEXT: i64 = 6;
    pub const RANKED_DROPDOWN: i64 = 7;
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tenant {
    pub id: i64,
    pub name: String,
    pub subdomain: String,
}

/// The owner of the API key: an internal person of the tenant.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    pub id: i64,
    pub first_name: String,
    pub last_name: Option<String>,
    pub email: String,
}

/// A further user of the tenant, with an API key of their own: a request with that key is
/// theirs (they are the creator of what it writes, `whoami` answers them, and their key has its
/// own per-minute window). Like the first user ([`Seed::user`], whose key is
/// `EmulatorConfig::api_key`), an internal person of the tenant.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedUser {
    pub id: i64,
    pub first_name: String,
    pub last_name: Option<String>,
    pub email: String,
    pub api_key: String,
}

impl SeedUser {
    /// The user without their key.
    pub fn user(&self) -> User {
        User {
            id: self.id,
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            email: self.email.clone(),
        }
    }
}

/// The key is a secret: it never reaches a log.
impl std::fmt::Debug for SeedUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeedUser")
            .field("id", &self.id)
            .field("first_name", &self.first_name)
            .field("last_name", &self.last_name)
            .field("email", &self.email)
            .field("api_key", &"<redacted>")
            .finish()
    }
}

tokio::task_local! {
    /// The user whose key the current request presented, set by the middleware for the
    /// request's life (`crate::middleware::affinity_layer`).
    static CALLER: i64;
}

/// Runs `f` as the user `id`: what it writes is theirs, as if their key had been presented.
/// The middleware runs every request so; tests may too.
pub async fn as_caller<F: std::future::Future>(id: i64, f: F) -> F::Output {
    CALLER.scope(id, f).await
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Person {
    pub id: i64,
    /// 0 external, 1 internal.
    #[serde(default, rename = "type")]
    pub kind: i64,
    pub first_name: String,
    #[serde(default)]
    pub last_name: Option<String>,
    /// The first one is the primary email.
    #[serde(default)]
    pub emails: Vec<String>,
    #[serde(default)]
    pub organization_ids: Vec<i64>,
}

impl Person {
    pub fn primary_email(&self) -> Option<&str> {
        self.emails.first().map(String::as_str)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Organization {
    pub id: i64,
    pub name: String,
    #[serde(default)]
    pub domain: Option<String>,
    /// All domains; `domain` is the primary one and is always among them.
    #[serde(default)]
    pub domains: Vec<String>,
    /// An Affinity global organization: it cannot be renamed, re-domained or deleted.
    #[serde(default)]
    pub global: bool,
    /// False for a global organization outside the tenant: it is found only by a `term`
    /// search (affinity-api.md §8.2), never listed.
    #[serde(default = "yes")]
    pub in_tenant: bool,
    #[serde(default)]
    pub person_ids: Vec<i64>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Opportunity {
    pub id: i64,
    pub name: String,
    /// The opportunity list it belongs to (an opportunity lives on exactly one list).
    pub list_id: i64,
    #[serde(default)]
    pub person_ids: Vec<i64>,
    #[serde(default)]
    pub organization_ids: Vec<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct List {
    pub id: i64,
    /// 0 person, 1 organization, 8 opportunity.
    #[serde(rename = "type")]
    pub kind: i64,
    pub name: String,
    #[serde(default = "yes")]
    pub public: bool,
    pub owner_id: i64,
    pub creator_id: i64,
    /// When the list was made (v2's `createdAt`, required since the 2026 specs).
    #[serde(default = "epoch")]
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DropdownOption {
    pub id: i64,
    pub text: String,
    #[serde(default)]
    pub rank: i64,
    #[serde(default)]
    pub color: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    pub id: i64,
    pub name: String,
    /// `None` for a global field.
    #[serde(default)]
    pub list_id: Option<i64>,
    /// 0 person, 1 organization, 8 opportunity.
    pub entity_type: i64,
    pub value_type: i64,
    #[serde(default)]
    pub allows_multiple: bool,
    #[serde(default = "yes")]
    pub track_changes: bool,
    /// `"none"` for a custom field; `"dealroom"`, `"affinity-data"`, … for enriched ones,
    /// which are read-only.
    #[serde(default = "none_source")]
    pub enrichment_source: String,
    #[serde(default)]
    pub dropdown_options: Vec<DropdownOption>,
    /// When the field was made (v2's `createdAt`).
    #[serde(default = "epoch")]
    pub created_at: DateTime<Utc>,
    /// v2's `description` (2026-09-17).
    #[serde(default)]
    pub description: Option<String>,
    /// v2's `isRequired` (2026-09-17): a list entry cannot be created on a list with a
    /// required field (affinity-api.md §3.4).
    #[serde(default)]
    pub is_required: bool,
}

fn none_source() -> String {
    "none".to_string()
}

impl Field {
    pub fn is_enriched(&self) -> bool {
        self.enrichment_source != "none"
    }
    /// The v2 id of this field: `field-N` for custom fields, `<source>-<slug>` for enriched.
    pub fn v2_id(&self) -> String {
        if self.is_enriched() {
            let slug: String = self
                .name
                .to_ascii_lowercase()
                .split(|c: char| !c.is_ascii_alphanumeric())
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join("-");
            format!("{}-{}", self.enrichment_source, slug)
        } else {
            format!("field-{}", self.id)
        }
    }
    /// The v2 `type` of the field: enriched, list or global.
    pub fn v2_type(&self) -> &'static str {
        if self.is_enriched() {
            "enriched"
        } else if self.list_id.is_some() {
            "list"
        } else {
            "global"
        }
    }
    /// The v2 `valueType`.
    pub fn v2_value_type(&self) -> &'static str {
        let multi = self.allows_multiple;
        match (self.value_type, multi) {
            (value_type::PERSON, false) => "person",
            (value_type::PERSON, true) => "person-multi",
            (value_type::ORGANIZATION, false) => "company",
            (value_type::ORGANIZATION, true) => "company-multi",
            (value_type::DROPDOWN, false) => "dropdown",
            (value_type::DROPDOWN, true) => "dropdown-multi",
            (value_type::NUMBER, false) => "number",
            (value_type::NUMBER, true) => "number-multi",
            (value_type::DATE, _) => "datetime",
            (value_type::LOCATION, false) => "location",
            (value_type::LOCATION, true) => "location-multi",
            (value_type::RANKED_DROPDOWN, _) => "ranked-dropdown",
            (_, false) => "text",
            (_, true) => "filterable-text-multi",
        }
    }
    /// Whether Affinity keeps this field's changes (`GET /field-value-changes`): a field that
    /// asks to (`track_changes`), is not enriched, and is of a type the docs list: multi-valued
    /// person, organization, number and location; single-valued those, date and ranked dropdown
    /// (affinity-api.md §2.3 "Field value changes"). v1's `track_changes` reports this, never the
    /// bare flag, so a field never says it tracks what the changes route refuses (issue 17,
    /// finding 8).
    pub fn tracks_changes(&self) -> bool {
        use value_type::*;
        let types: &[i64] = if self.allows_multiple {
            &[PERSON, ORGANIZATION, NUMBER, LOCATION]
        } else {
            &[
                PERSON,
                ORGANIZATION,
                NUMBER,
                DATE,
                LOCATION,
                RANKED_DROPDOWN,
            ]
        };
        self.track_changes && !self.is_enriched() && types.contains(&self.value_type)
    }
    pub fn option_by_id(&self, id: i64) -> Option<&DropdownOption> {
        self.dropdown_options.iter().find(|o| o.id == id)
    }
    pub fn option_by_text(&self, text: &str) -> Option<&DropdownOption> {
        self.dropdown_options
            .iter()
            .find(|o| o.text.eq_ignore_ascii_case(text))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListEntry {
    pub id: i64,
    pub list_id: i64,
    pub entity_id: i64,
    #[serde(default)]
    pub creator_id: Option<i64>,
    #[serde(default = "epoch")]
    pub created_at: DateTime<Utc>,
}

/// A merge task's id: Affinity's are opaque strings; the emulator's look like UUIDs [I].
pub fn task_id(n: i64) -> String {
    format!("00000000-0000-4000-8000-{n:012x}")
}

fn epoch() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 1, 12, 0, 0).unwrap()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
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

/// A stored field value, already checked against its field.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    Number(f64),
    /// Always midnight US Pacific (affinity-api.md §8.7).
    Date(DateTime<Utc>),
    Location(Location),
    /// A dropdown option id (written in v1 by its text).
    Dropdown(i64),
    /// A ranked dropdown option id (written in v1 by its id).
    RankedDropdown(i64),
    Person(i64),
    Organization(i64),
}

#[derive(Debug, Clone)]
pub struct FieldValue {
    pub id: i64,
    pub field_id: i64,
    pub entity_id: i64,
    pub entity_type: i64,
    pub list_entry_id: Option<i64>,
    pub value: Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// The tenant's field values by id, indexed by the entity they sit on: rendering a page of
/// list entries asks for the values of each (field, entity) pair, and a scan of every value per
/// pair made a 100-entry page of the demo tenant cost millions of comparisons.
///
/// Reads go through `Deref` to the map; writes go through [`FieldValues::insert`] and
/// [`FieldValues::remove`], which keep the index in step.
#[derive(Debug, Clone, Default)]
pub struct FieldValues {
    by_id: BTreeMap<i64, FieldValue>,
    by_entity: HashMap<i64, BTreeSet<i64>>,
}

impl Deref for FieldValues {
    type Target = BTreeMap<i64, FieldValue>;
    fn deref(&self) -> &Self::Target {
        &self.by_id
    }
}

impl FieldValues {
    pub fn insert(&mut self, id: i64, fv: FieldValue) -> Option<FieldValue> {
        let old = self.remove(&id);
        self.by_entity.entry(fv.entity_id).or_default().insert(id);
        self.by_id.insert(id, fv);
        old
    }

    pub fn remove(&mut self, id: &i64) -> Option<FieldValue> {
        let fv = self.by_id.remove(id)?;
        if let Some(ids) = self.by_entity.get_mut(&fv.entity_id) {
            ids.remove(id);
            if ids.is_empty() {
                self.by_entity.remove(&fv.entity_id);
            }
        }
        Some(fv)
    }

    /// A value to change in place. Its `entity_id` must not change (the index is by entity);
    /// move a value to another entity by `remove` and `insert`.
    pub fn get_mut(&mut self, id: &i64) -> Option<&mut FieldValue> {
        self.by_id.get_mut(id)
    }

    /// Every value on one entity (global values and those on its list entries), by id.
    pub fn of_entity(&self, entity_id: i64) -> impl Iterator<Item = &FieldValue> {
        self.by_entity
            .get(&entity_id)
            .into_iter()
            .flatten()
            .filter_map(|id| self.by_id.get(id))
    }
}

/// A field value as a seed gives it: `value` in its v1 write form.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedFieldValue {
    #[serde(default)]
    pub id: Option<i64>,
    pub field_id: i64,
    pub entity_id: i64,
    #[serde(default)]
    pub list_entry_id: Option<i64>,
    pub value: Json,
}

#[derive(Debug, Clone)]
pub struct FieldValueChange {
    pub id: i64,
    pub field_id: i64,
    pub entity_id: i64,
    pub list_entry_id: Option<i64>,
    /// 0 create, 1 delete, 2 update.
    pub action_type: i64,
    pub changer_id: i64,
    pub changed_at: DateTime<Utc>,
    pub value: Value,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Note {
    pub id: i64,
    pub creator_id: i64,
    pub content: String,
    /// 0 plain, 2 HTML.
    #[serde(default, rename = "type")]
    pub kind: i64,
    #[serde(default)]
    pub person_ids: Vec<i64>,
    #[serde(default)]
    pub organization_ids: Vec<i64>,
    #[serde(default)]
    pub opportunity_ids: Vec<i64>,
    #[serde(default)]
    pub parent_id: Option<i64>,
    #[serde(default = "epoch")]
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Interaction {
    pub id: i64,
    /// 0 meeting, 1 call, 2 chat, 3 email.
    #[serde(rename = "type")]
    pub kind: i64,
    pub date: DateTime<Utc>,
    #[serde(default)]
    pub person_ids: Vec<i64>,
    #[serde(default)]
    pub organization_ids: Vec<i64>,
    #[serde(default)]
    pub opportunity_ids: Vec<i64>,
    /// 0 sent, 1 received.
    #[serde(default)]
    pub direction: Option<i64>,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub creator_id: Option<i64>,
}

/// An entity merged into another: reading it answers 422 with the surviving id.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Merge {
    pub entity_type: i64,
    pub old_id: i64,
    pub new_id: i64,
}

/// A saved view of a list (v2 `SavedView`): its entries are the list's, with the fields it
/// shows.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedView {
    pub id: i64,
    pub list_id: i64,
    pub name: String,
    /// `sheet`, `board` or `dashboard`.
    #[serde(default = "sheet", rename = "type")]
    pub kind: String,
    /// The v1 ids of the fields it shows.
    #[serde(default)]
    pub field_ids: Vec<i64>,
    #[serde(default = "epoch")]
    pub created_at: DateTime<Utc>,
}

fn sheet() -> String {
    "sheet".to_string()
}

/// A reminder (v1 §2.3 "Other endpoints", v2 `reminders.Reminder`), on one person,
/// organization or opportunity.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reminder {
    pub id: i64,
    /// 0 one-time, 1 recurring.
    #[serde(default, rename = "type")]
    pub kind: i64,
    #[serde(default)]
    pub content: Option<String>,
    pub due_date: DateTime<Utc>,
    /// Recurring only: 0 interaction, 1 email, 2 meeting (v1's `reset_type`).
    #[serde(default)]
    pub reset_type: Option<i64>,
    /// Recurring only: the period in days.
    #[serde(default)]
    pub reminder_days: Option<i64>,
    pub owner_id: i64,
    pub creator_id: i64,
    #[serde(default)]
    pub person_id: Option<i64>,
    #[serde(default)]
    pub organization_id: Option<i64>,
    #[serde(default)]
    pub opportunity_id: Option<i64>,
    #[serde(default = "epoch")]
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub completed_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub completer_id: Option<i64>,
}

impl Reminder {
    /// v1's `status` code: 0 completed, 1 active, 2 overdue (affinity-api.md §2.1).
    pub fn status(&self, now: DateTime<Utc>) -> i64 {
        if self.completed_at.is_some() {
            0
        } else if self.due_date < now {
            2
        } else {
            1
        }
    }
}

/// A file attached to a person, organization or opportunity (v1 entity files, v2 files). Its
/// content is kept as text, for downloads.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntityFile {
    pub id: i64,
    pub name: String,
    #[serde(default)]
    pub content: String,
    #[serde(default)]
    pub person_id: Option<i64>,
    #[serde(default)]
    pub organization_id: Option<i64>,
    #[serde(default)]
    pub opportunity_id: Option<i64>,
    pub uploader_id: i64,
    #[serde(default = "epoch")]
    pub created_at: DateTime<Utc>,
}

/// One line of a transcript.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fragment {
    pub speaker: String,
    pub content: String,
    /// `HH:MM:SS` into the meeting.
    pub start: String,
    pub end: String,
}

/// An AI notetaker's transcript of a meeting (v2 `transcripts.Transcript`), with the
/// `ai-notetaker` note (v1 note type 3) it belongs to.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transcript {
    pub id: i64,
    pub note_id: i64,
    #[serde(default = "english")]
    pub language_code: String,
    #[serde(default = "epoch")]
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub fragments: Vec<Fragment>,
}

fn english() -> String {
    "en".to_string()
}

/// A team of users (v2 `Team`), with the lists it can see.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Team {
    pub id: i64,
    pub name: String,
    #[serde(default)]
    pub member_ids: Vec<i64>,
    #[serde(default)]
    pub list_ids: Vec<i64>,
    #[serde(default = "epoch")]
    pub created_at: DateTime<Utc>,
}

/// One merge of two companies or two persons (v2 `CompanyMergeState`, `PersonMergeState`).
#[derive(Debug, Clone)]
pub struct MergeRecord {
    pub id: i64,
    /// 0 person, 1 organization.
    pub entity_type: i64,
    pub task_id: String,
    pub primary_id: i64,
    pub duplicate_id: i64,
    /// `success` or `failed` (merges are done at once, so never `in-progress` for long).
    pub status: &'static str,
    pub error_message: Option<String>,
    pub started_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
}

/// The seed file: a whole tenant.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    pub tenant: Tenant,
    /// The first user: the owner of `EmulatorConfig::api_key` (`--api-key`), and of any key
    /// when none is set.
    pub user: User,
    /// Further users, each with their own key.
    #[serde(default)]
    pub users: Vec<SeedUser>,
    #[serde(default)]
    pub persons: Vec<Person>,
    #[serde(default)]
    pub organizations: Vec<Organization>,
    #[serde(default)]
    pub opportunities: Vec<Opportunity>,
    #[serde(default)]
    pub lists: Vec<List>,
    #[serde(default)]
    pub fields: Vec<Field>,
    #[serde(default)]
    pub list_entries: Vec<ListEntry>,
    #[serde(default)]
    pub field_values: Vec<SeedFieldValue>,
    #[serde(default)]
    pub notes: Vec<Note>,
    #[serde(default)]
    pub interactions: Vec<Interaction>,
    #[serde(default)]
    pub merged: Vec<Merge>,
    #[serde(default)]
    pub saved_views: Vec<SavedView>,
    #[serde(default)]
    pub reminders: Vec<Reminder>,
    #[serde(default)]
    pub files: Vec<EntityFile>,
    #[serde(default)]
    pub transcripts: Vec<Transcript>,
    #[serde(default)]
    pub teams: Vec<Team>,
    /// Connections Affinity infers from data outside the tenant (work histories, funding
    /// rounds): served as the seed gives them, in v2's shapes (`CoworkerConnectionGroup`,
    /// `InvestorExecutiveConnectionGroup`) [I].
    #[serde(default)]
    pub inferred_coworkers: Vec<Json>,
    #[serde(default)]
    pub inferred_investor_executives: Vec<Json>,
}

impl Default for Seed {
    /// An empty tenant with one user.
    fn default() -> Self {
        Seed {
            tenant: Tenant {
                id: 1,
                name: "Emulated Tenant".into(),
                subdomain: "emulated".into(),
            },
            user: User {
                id: 1,
                first_name: "Api".into(),
                last_name: Some("User".into()),
                email: "api.user@emulated.example".into(),
            },
            users: vec![],
            persons: vec![],
            organizations: vec![],
            opportunities: vec![],
            lists: vec![],
            fields: vec![],
            list_entries: vec![],
            field_values: vec![],
            notes: vec![],
            interactions: vec![],
            merged: vec![],
            saved_views: vec![],
            reminders: vec![],
            files: vec![],
            transcripts: vec![],
            teams: vec![],
            inferred_coworkers: vec![],
            inferred_investor_executives: vec![],
        }
    }
}

/// Why a seed or a write was refused: the message Affinity would give, and on which key.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{param}: {message}")]
pub struct Invalid {
    pub param: String,
    pub message: String,
}

impl Invalid {
    pub fn new(param: impl Into<String>, message: impl Into<String>) -> Self {
        Invalid {
            param: param.into(),
            message: message.into(),
        }
    }
}

/// The tenant's whole state.
#[derive(Debug, Clone)]
pub struct State {
    pub tenant: Tenant,
    /// The first user (see [`Seed::user`]); the caller of a request is [`State::caller`].
    pub user: User,
    /// The further users, with their keys.
    pub users: Vec<SeedUser>,
    pub persons: BTreeMap<i64, Person>,
    pub organizations: BTreeMap<i64, Organization>,
    pub opportunities: BTreeMap<i64, Opportunity>,
    pub lists: BTreeMap<i64, List>,
    pub fields: BTreeMap<i64, Field>,
    pub list_entries: BTreeMap<i64, ListEntry>,
    pub field_values: FieldValues,
    pub field_value_changes: Vec<FieldValueChange>,
    pub notes: BTreeMap<i64, Note>,
    pub interactions: BTreeMap<i64, Interaction>,
    /// (entity_type, old id) → surviving id.
    pub merged: HashMap<(i64, i64), i64>,
    /// Webhook subscriptions, by id (at most [`crate::webhooks::MAX_SUBSCRIPTIONS`]).
    pub webhooks: BTreeMap<i64, crate::webhooks::Subscription>,
    /// Deliveries announced by the current request, sent once it has answered.
    pub outbox: Vec<crate::webhooks::Delivery>,
    /// Saved views, by id.
    pub saved_views: BTreeMap<i64, SavedView>,
    /// Merges done (seeded ones and those asked for through v2), in order.
    pub merges: Vec<MergeRecord>,
    pub reminders: BTreeMap<i64, Reminder>,
    pub files: BTreeMap<i64, EntityFile>,
    pub transcripts: BTreeMap<i64, Transcript>,
    pub teams: BTreeMap<i64, Team>,
    pub inferred_coworkers: Vec<Json>,
    pub inferred_investor_executives: Vec<Json>,
    next_id: i64,
}

impl State {
    /// Builds a tenant from a seed, checking every reference and every field value.
    // Long by design: one block per collection of the seed, in the order their references
    // need (lists before entries, fields before values), each checked as it is added.
    pub fn from_seed(seed: Seed) -> Result<State, Invalid> {
        let mut st = State {
            tenant: seed.tenant,
            user: seed.user.clone(),
            users: Vec::new(),
            persons: BTreeMap::new(),
            organizations: BTreeMap::new(),
            opportunities: BTreeMap::new(),
            lists: BTreeMap::new(),
            fields: BTreeMap::new(),
            list_entries: BTreeMap::new(),
            field_values: FieldValues::default(),
            field_value_changes: Vec::new(),
            notes: BTreeMap::new(),
            interactions: BTreeMap::new(),
            merged: HashMap::new(),
            webhooks: BTreeMap::new(),
            outbox: Vec::new(),
            saved_views: BTreeMap::new(),
            merges: Vec::new(),
            reminders: BTreeMap::new(),
            files: BTreeMap::new(),
            transcripts: BTreeMap::new(),
            teams: BTreeMap::new(),
            inferred_coworkers: seed.inferred_coworkers,
            inferred_investor_executives: seed.inferred_investor_executives,
            next_id: 1,
        };
        // The key's owner is an internal person of the tenant.
        let owner = Person {
            id: seed.user.id,
            kind: 1,
            first_name: seed.user.first_name.clone(),
            last_name: seed.user.last_name.clone(),
            emails: vec![seed.user.email.clone()],
            organization_ids: vec![],
        };
        let mut persons = seed.persons;
        if !persons.iter().any(|p| p.id == owner.id) {
            persons.push(owner);
        }
        st.users = check_users(seed.user.id, seed.users, &mut persons)?;
        let mut emails = HashMap::new();
        for p in persons {
            for e in &p.emails {
                if let Some(other) = emails.insert(e.to_ascii_lowercase(), p.id) {
                    return Err(Invalid::new(
                        "emails",
                        format!("email {e} belongs to both person {other} and {}", p.id),
                    ));
                }
            }
            insert_unique(&mut st.persons, p.id, p, "persons")?;
        }
        for mut o in seed.organizations {
            if let Some(d) = &o.domain {
                if !o.domains.contains(d) {
                    o.domains.insert(0, d.clone());
                }
            } else if let Some(first) = o.domains.first() {
                o.domain = Some(first.clone());
            }
            insert_unique(&mut st.organizations, o.id, o, "organizations")?;
        }
        for l in seed.lists {
            if ![
                entity_type::PERSON,
                entity_type::ORGANIZATION,
                entity_type::OPPORTUNITY,
            ]
            .contains(&l.kind)
            {
                return Err(Invalid::new(
                    "lists.type",
                    format!("list {} has unknown type {}", l.id, l.kind),
                ));
            }
            insert_unique(&mut st.lists, l.id, l, "lists")?;
        }
        for o in seed.opportunities {
            match st.lists.get(&o.list_id) {
                Some(l) if l.kind == entity_type::OPPORTUNITY => {}
                _ => {
                    return Err(Invalid::new(
                        "opportunities.list_id",
                        format!(
                            "opportunity {} names no opportunity list {}",
                            o.id, o.list_id
                        ),
                    ))
                }
            }
            insert_unique(&mut st.opportunities, o.id, o, "opportunities")?;
        }
        for f in seed.fields {
            if !(0..=7).contains(&f.value_type) {
                return Err(Invalid::new(
                    "fields.value_type",
                    format!("field {} has unknown value type {}", f.id, f.value_type),
                ));
            }
            if let Some(l) = f.list_id {
                if !st.lists.contains_key(&l) {
                    return Err(Invalid::new(
                        "fields.list_id",
                        format!("field {} names unknown list {l}", f.id),
                    ));
                }
            }
            insert_unique(&mut st.fields, f.id, f, "fields")?;
        }
        for e in seed.list_entries {
            let list = st.lists.get(&e.list_id).ok_or_else(|| {
                Invalid::new(
                    "list_entries.list_id",
                    format!("list entry {} names unknown list {}", e.id, e.list_id),
                )
            })?;
            if !st.entity_exists(list.kind, e.entity_id) {
                return Err(Invalid::new(
                    "list_entries.entity_id",
                    format!("list entry {} names unknown entity {}", e.id, e.entity_id),
                ));
            }
            insert_unique(&mut st.list_entries, e.id, e, "list_entries")?;
        }
        // Opportunities always sit on their list: add the entry when the seed left it out.
        let missing: Vec<(i64, i64)> = st
            .opportunities
            .values()
            .filter(|o| {
                !st.list_entries
                    .values()
                    .any(|e| e.list_id == o.list_id && e.entity_id == o.id)
            })
            .map(|o| (o.list_id, o.id))
            .collect();
        st.bump_next_id();
        for (list_id, entity_id) in missing {
            let id = st.next_id();
            st.list_entries.insert(
                id,
                ListEntry {
                    id,
                    list_id,
                    entity_id,
                    creator_id: Some(st.user.id),
                    created_at: epoch(),
                },
            );
        }
        for n in seed.notes {
            insert_unique(&mut st.notes, n.id, n, "notes")?;
        }
        for i in seed.interactions {
            insert_unique(&mut st.interactions, i.id, i, "interactions")?;
        }
        st.bump_next_id();
        for fv in seed.field_values {
            let field = st.fields.get(&fv.field_id).cloned().ok_or_else(|| {
                Invalid::new(
                    "field_values.field_id",
                    format!("unknown field {}", fv.field_id),
                )
            })?;
            let entity_type = st.check_value_target(&field, fv.entity_id, fv.list_entry_id)?;
            let value = st.parse_v1_value(&field, &fv.value)?;
            let id = match fv.id {
                Some(id) => id,
                None => st.next_id(),
            };
            if st.field_values.contains_key(&id) {
                return Err(Invalid::new(
                    "field_values.id",
                    format!("duplicate id {id}"),
                ));
            }
            st.field_values.insert(
                id,
                FieldValue {
                    id,
                    field_id: field.id,
                    entity_id: fv.entity_id,
                    entity_type,
                    list_entry_id: fv.list_entry_id,
                    value,
                    created_at: epoch(),
                    updated_at: None,
                },
            );
        }
        for r in seed.reminders {
            insert_unique(&mut st.reminders, r.id, r, "reminders")?;
        }
        for f in seed.files {
            insert_unique(&mut st.files, f.id, f, "files")?;
        }
        for t in seed.transcripts {
            if !st.notes.contains_key(&t.note_id) {
                return Err(Invalid::new(
                    "transcripts.note_id",
                    format!("transcript {} names unknown note {}", t.id, t.note_id),
                ));
            }
            insert_unique(&mut st.transcripts, t.id, t, "transcripts")?;
        }
        for t in seed.teams {
            insert_unique(&mut st.teams, t.id, t, "teams")?;
        }
        for v in seed.saved_views {
            if !st.lists.contains_key(&v.list_id) {
                return Err(Invalid::new(
                    "saved_views.list_id",
                    format!("saved view {} names unknown list {}", v.id, v.list_id),
                ));
            }
            insert_unique(&mut st.saved_views, v.id, v, "saved_views")?;
        }
        st.bump_next_id();
        // Every list has its default sheet view in Affinity; a seed that names none gets it [I].
        let bare: Vec<i64> = st
            .lists
            .keys()
            .copied()
            .filter(|l| !st.saved_views.values().any(|v| v.list_id == *l))
            .collect();
        for list_id in bare {
            let id = st.next_id();
            let created_at = st.lists[&list_id].created_at;
            st.saved_views.insert(
                id,
                SavedView {
                    id,
                    list_id,
                    name: "All entries".into(),
                    kind: "sheet".into(),
                    field_ids: vec![],
                    created_at,
                },
            );
        }
        for m in seed.merged {
            st.merged.insert((m.entity_type, m.old_id), m.new_id);
            // A seeded merge is one that succeeded, so v2's merge routes list it.
            let id = st.next_id();
            st.merges.push(MergeRecord {
                id,
                entity_type: m.entity_type,
                task_id: task_id(id),
                primary_id: m.new_id,
                duplicate_id: m.old_id,
                status: "success",
                error_message: None,
                started_at: epoch(),
                completed_at: Some(epoch()),
            });
        }
        st.bump_next_id();
        Ok(st)
    }

    /// The user whose key the current request presented; the first user outside a request
    /// (seeding, tests that change the state directly).
    pub fn caller_id(&self) -> i64 {
        CALLER.try_with(|id| *id).unwrap_or(self.user.id)
    }

    /// The caller's user (see [`State::caller_id`]).
    pub fn caller(&self) -> User {
        let id = self.caller_id();
        self.users
            .iter()
            .find(|u| u.id == id)
            .map(SeedUser::user)
            .unwrap_or_else(|| self.user.clone())
    }

    /// The further user whose key this is.
    pub fn user_by_key(&self, key: &str) -> Option<&SeedUser> {
        self.users.iter().find(|u| u.api_key == key)
    }

    fn bump_next_id(&mut self) {
        let max = [
            self.persons.keys().max(),
            self.organizations.keys().max(),
            self.opportunities.keys().max(),
            self.lists.keys().max(),
            self.fields.keys().max(),
            self.list_entries.keys().max(),
            self.field_values.keys().max(),
            self.notes.keys().max(),
            self.interactions.keys().max(),
            self.saved_views.keys().max(),
            self.reminders.keys().max(),
            self.files.keys().max(),
            self.transcripts.keys().max(),
            self.teams.keys().max(),
        ]
        .into_iter()
        .flatten()
        .copied()
        .max()
        .unwrap_or(0);
        self.next_id = self.next_id.max(max + 1);
    }

    /// Announces an event to the subscriptions that listen for it (affinity-api.md §5): each
    /// becomes a delivery, sent when the request has answered (`crate::webhooks`).
    pub fn announce(&mut self, kind: &str, body: Json) {
        for sub in self.webhooks.values().filter(|s| s.wants(kind)) {
            self.outbox.push(crate::webhooks::Delivery {
                subscription_id: sub.id,
                url: sub.url.clone(),
                kind: kind.to_string(),
                body: body.clone(),
            });
        }
    }

    /// A fresh id, unique across every kind of record (Affinity's ids never collide in practice,
    /// and a test that mixes them up should fail rather than pass by luck).
    pub fn next_id(&mut self) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    pub fn entity_exists(&self, entity_type: i64, id: i64) -> bool {
        match entity_type {
            entity_type::PERSON => self.persons.contains_key(&id),
            entity_type::ORGANIZATION => self.organizations.contains_key(&id),
            entity_type::OPPORTUNITY => self.opportunities.contains_key(&id),
            _ => false,
        }
    }

    /// The surviving id when `id` was merged into another entity.
    pub fn merged_into(&self, entity_type: i64, id: i64) -> Option<i64> {
        self.merged.get(&(entity_type, id)).copied()
    }

    /// Merges person or organization `old` into `new`, as Affinity's in-app merge does: the
    /// old one's list entries and values move to the survivor (the survivor's own global
    /// values win where both have one), references to it are repointed, and reads of the old
    /// id answer with the merge (§8.4). For tests and rehearsals; the API's merge endpoints
    /// are not emulated.
    pub fn merge(&mut self, entity_type: i64, old: i64, new: i64) -> Result<(), Invalid> {
        for id in [old, new] {
            if entity_type == entity_type::OPPORTUNITY || !self.entity_exists(entity_type, id) {
                return Err(Invalid::new(
                    "id",
                    format!("no person or organization {id} of type {entity_type}"),
                ));
            }
        }
        for e in self.list_entries.values_mut() {
            let kind = self.lists.get(&e.list_id).map(|l| l.kind);
            if e.entity_id == old && kind == Some(entity_type) {
                e.entity_id = new;
            }
        }
        let survivor_fields: BTreeSet<i64> = self
            .field_values
            .of_entity(new)
            .filter(|fv| fv.entity_type == entity_type && fv.list_entry_id.is_none())
            .map(|fv| fv.field_id)
            .collect();
        let moved: Vec<i64> = self
            .field_values
            .of_entity(old)
            .filter(|fv| fv.entity_type == entity_type)
            .map(|fv| fv.id)
            .collect();
        for id in moved {
            let Some(mut fv) = self.field_values.remove(&id) else {
                continue;
            };
            if fv.list_entry_id.is_none() && survivor_fields.contains(&fv.field_id) {
                continue;
            }
            fv.entity_id = new;
            self.field_values.insert(id, fv);
        }
        let referencing: Vec<i64> = self
            .field_values
            .values()
            .filter(|fv| match fv.value {
                Value::Person(p) => entity_type == entity_type::PERSON && p == old,
                Value::Organization(o) => entity_type == entity_type::ORGANIZATION && o == old,
                _ => false,
            })
            .map(|fv| fv.id)
            .collect();
        for id in referencing {
            if let Some(fv) = self.field_values.get_mut(&id) {
                fv.value = match fv.value {
                    Value::Person(_) => Value::Person(new),
                    _ => Value::Organization(new),
                };
            }
        }
        if entity_type == entity_type::PERSON {
            if let Some(p) = self.persons.remove(&old) {
                if let Some(s) = self.persons.get_mut(&new) {
                    for e in p.emails {
                        if !s.emails.contains(&e) {
                            s.emails.push(e);
                        }
                    }
                }
            }
        } else {
            self.organizations.remove(&old);
        }
        self.merged.insert((entity_type, old), new);
        Ok(())
    }

    /// Checks where a value may be written; gives the entity type it is written on.
    pub fn check_value_target(
        &self,
        field: &Field,
        entity_id: i64,
        list_entry_id: Option<i64>,
    ) -> Result<i64, Invalid> {
        if !self.entity_exists(field.entity_type, entity_id) {
            return Err(Invalid::new(
                "entity_id",
                format!("entity {entity_id} not found"),
            ));
        }
        match (field.list_id, list_entry_id) {
            (Some(list_id), Some(le)) => match self.list_entries.get(&le) {
                Some(e) if e.list_id == list_id && e.entity_id == entity_id => {}
                _ => {
                    return Err(Invalid::new(
                        "list_entry_id",
                        format!(
                        "list entry {le} is not an entry of entity {entity_id} on list {list_id}"
                    ),
                    ))
                }
            },
            (Some(_), None) => {
                return Err(Invalid::new(
                    "list_entry_id",
                    format!(
                        "field {} is list-specific and needs a list_entry_id",
                        field.id
                    ),
                ))
            }
            (None, Some(_)) => {
                return Err(Invalid::new(
                    "list_entry_id",
                    format!("field {} is global and takes no list_entry_id", field.id),
                ))
            }
            (None, None) => {
                if field.entity_type == entity_type::OPPORTUNITY {
                    return Err(Invalid::new(
                        "field_id",
                        "opportunities have no global field values",
                    ));
                }
            }
        }
        Ok(field.entity_type)
    }

    /// Parses a value in its v1 write form (affinity-api.md §2.3, the field value table).
    pub fn parse_v1_value(&self, field: &Field, v: &Json) -> Result<Value, Invalid> {
        let bad = |what: &str| {
            Invalid::new(
                "value",
                format!(
                    "field {} ({}) expects {what}, got {v}",
                    field.id, field.name
                ),
            )
        };
        match field.value_type {
            value_type::PERSON => {
                let id = v.as_i64().ok_or_else(|| bad("a person id"))?;
                if !self.persons.contains_key(&id) {
                    return Err(Invalid::new("value", format!("person {id} not found")));
                }
                Ok(Value::Person(id))
            }
            value_type::ORGANIZATION => {
                let id = v.as_i64().ok_or_else(|| bad("an organization id"))?;
                if !self.organizations.contains_key(&id) {
                    return Err(Invalid::new(
                        "value",
                        format!("organization {id} not found"),
                    ));
                }
                Ok(Value::Organization(id))
            }
            value_type::DROPDOWN => {
                let text = v.as_str().ok_or_else(|| bad("an option's text"))?;
                let opt = field
                    .option_by_text(text)
                    .ok_or_else(|| bad("one of the field's dropdown options"))?;
                Ok(Value::Dropdown(opt.id))
            }
            value_type::RANKED_DROPDOWN => {
                // Ranked dropdowns are written by option id, not by text (§8.10).
                let id = v.as_i64().ok_or_else(|| bad("a dropdown option id"))?;
                field
                    .option_by_id(id)
                    .ok_or_else(|| bad("one of the field's dropdown option ids"))?;
                Ok(Value::RankedDropdown(id))
            }
            value_type::NUMBER => v.as_f64().map(Value::Number).ok_or_else(|| bad("a number")),
            value_type::DATE => {
                let s = v.as_str().ok_or_else(|| bad("an ISO 8601 date"))?;
                parse_date(s)
                    .map(Value::Date)
                    .ok_or_else(|| bad("an ISO 8601 date"))
            }
            value_type::LOCATION => serde_json::from_value::<Location>(v.clone())
                .map(Value::Location)
                .map_err(|_| bad("a location object")),
            _ => v
                .as_str()
                .map(|s| Value::Text(s.to_string()))
                .ok_or_else(|| bad("a string")),
        }
    }

    /// Parses a v2 `{type, data}` value for one field (affinity-api.md §3.3, write column).
    /// Multi-valued fields give several values; `data: null` (or an empty array) gives none.
    pub fn parse_v2_value(&self, field: &Field, v: &Json) -> Result<Vec<Value>, Invalid> {
        let expected = field.v2_value_type();
        let ty = v.get("type").and_then(Json::as_str).unwrap_or_default();
        if ty != expected {
            return Err(Invalid::new(
                "value.type",
                format!(
                    "field {} expects a value of type `{expected}`, got `{ty}`",
                    field.v2_id()
                ),
            ));
        }
        let data = v.get("data").cloned().unwrap_or(Json::Null);
        let one = |d: &Json| -> Result<Value, Invalid> {
            match field.value_type {
                value_type::PERSON | value_type::ORGANIZATION => {
                    let id = d.get("id").cloned().unwrap_or(Json::Null);
                    self.parse_v1_value(field, &id)
                }
                value_type::DROPDOWN | value_type::RANKED_DROPDOWN => {
                    let id = d
                        .get("dropdownOptionId")
                        .and_then(Json::as_i64)
                        .ok_or_else(|| {
                            Invalid::new("value.data", "expected `{\"dropdownOptionId\": N}`")
                        })?;
                    let opt = field.option_by_id(id).ok_or_else(|| {
                        Invalid::new(
                            "value.data",
                            format!("dropdown option {id} does not exist on {}", field.v2_id()),
                        )
                    })?;
                    Ok(if field.value_type == value_type::DROPDOWN {
                        Value::Dropdown(opt.id)
                    } else {
                        Value::RankedDropdown(opt.id)
                    })
                }
                value_type::LOCATION => {
                    let loc = Location {
                        street_address: str_key(d, "streetAddress"),
                        city: str_key(d, "city"),
                        state: str_key(d, "state"),
                        country: str_key(d, "country"),
                        continent: str_key(d, "continent"),
                    };
                    Ok(Value::Location(loc))
                }
                _ => self.parse_v1_value(field, d),
            }
        };
        match data {
            Json::Null => Ok(vec![]),
            Json::Array(items) if field.allows_multiple => items.iter().map(one).collect(),
            Json::Array(_) => Err(Invalid::new(
                "value.data",
                format!("field {} holds one value, not an array", field.v2_id()),
            )),
            _ if field.allows_multiple && field.value_type != value_type::DATE => {
                Err(Invalid::new(
                    "value.data",
                    format!("field {} is multi-valued: send an array", field.v2_id()),
                ))
            }
            d => one(&d).map(|v| vec![v]),
        }
    }

    /// The values of one field on one entity (global field) or list entry (list field).
    pub fn values_of(
        &self,
        field_id: i64,
        entity_id: i64,
        list_entry_id: Option<i64>,
    ) -> Vec<&FieldValue> {
        self.field_values
            .of_entity(entity_id)
            .filter(|fv| fv.field_id == field_id && fv.list_entry_id == list_entry_id)
            .collect()
    }

    /// Records a change of a value: for `GET /field-value-changes` when the field tracks
    /// changes, and as a `field_value.created|deleted|updated` event to webhook subscribers
    /// (affinity-api.md §5; the body is the v1 field value with its `field`, as in
    /// `fixtures/affinity/webhook-payloads/field_value_updated.json`).
    pub fn track_change(&mut self, fv: &FieldValue, action_type: i64) {
        if !self.webhooks.is_empty() {
            let kind = match action_type {
                0 => "field_value.created",
                1 => "field_value.deleted",
                _ => "field_value.updated",
            };
            let mut body = crate::v1::common::field_value_json(self, fv);
            if let Some(f) = self.fields.get(&fv.field_id) {
                body["field"] = crate::v1::fields::field_json(self, f, false, false);
            }
            self.announce(kind, body);
        }
        let tracked = self
            .fields
            .get(&fv.field_id)
            .is_some_and(Field::tracks_changes);
        if tracked {
            let id = self.next_id();
            self.field_value_changes.push(FieldValueChange {
                id,
                field_id: fv.field_id,
                entity_id: fv.entity_id,
                list_entry_id: fv.list_entry_id,
                action_type,
                changer_id: self.caller_id(),
                changed_at: Utc::now(),
                value: fv.value.clone(),
            });
        }
    }
}

/// Checks the further users of a seed (ids and keys their own, and not the first user's id)
/// and adds the internal person of each that the seed does not hold.
fn check_users(
    first: i64,
    users: Vec<SeedUser>,
    persons: &mut Vec<Person>,
) -> Result<Vec<SeedUser>, Invalid> {
    let mut ids = BTreeSet::from([first]);
    let mut keys: HashMap<&str, i64> = HashMap::new();
    for u in &users {
        if !ids.insert(u.id) {
            let whose = if u.id == first {
                "the first user's"
            } else {
                "another user's"
            };
            return Err(Invalid::new(
                "users.id",
                format!("user {} has {whose} id", u.id),
            ));
        }
        if u.api_key.trim().is_empty() {
            return Err(Invalid::new(
                "users.api_key",
                format!("user {} has an empty key", u.id),
            ));
        }
        // The key itself is a secret and stays out of the message.
        if let Some(other) = keys.insert(u.api_key.as_str(), u.id) {
            return Err(Invalid::new(
                "users.api_key",
                format!("users {other} and {} have the same key", u.id),
            ));
        }
        match persons.iter().find(|p| p.id == u.id) {
            Some(p) if p.kind != 1 => {
                return Err(Invalid::new(
                    "users.id",
                    format!(
                        "user {} is person {} of the seed, who is not internal (type 1)",
                        u.id, p.id
                    ),
                ))
            }
            Some(_) => {}
            None => persons.push(Person {
                id: u.id,
                kind: 1,
                first_name: u.first_name.clone(),
                last_name: u.last_name.clone(),
                emails: vec![u.email.clone()],
                organization_ids: vec![],
            }),
        }
    }
    Ok(users)
}

fn str_key(d: &Json, k: &str) -> Option<String> {
    d.get(k).and_then(Json::as_str).map(str::to_string)
}

fn insert_unique<T>(map: &mut BTreeMap<i64, T>, id: i64, v: T, what: &str) -> Result<(), Invalid> {
    if map.insert(id, v).is_some() {
        return Err(Invalid::new(what, format!("duplicate id {id}")));
    }
    Ok(())
}

/// Parses an ISO 8601 date or datetime and stores it the way Affinity does since 2026-01-01:
/// at midnight US Pacific of the day the instant falls on there (affinity-api.md §8.7), so
/// `2024-04-01T15:30:00Z` becomes `2024-04-01T07:00:00Z`.
pub fn parse_date(s: &str) -> Option<DateTime<Utc>> {
    let instant = if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        dt.with_timezone(&Utc)
    } else if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        // A bare date names that day; noon UTC falls on the same day in Pacific time.
        d.and_hms_opt(12, 0, 0)?.and_utc()
    } else if let Ok(ndt) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
        ndt.and_utc()
    } else {
        return None;
    };
    let local = instant + Duration::hours(pacific_offset_hours(instant));
    let day = local.date_naive();
    Some(pacific_midnight(day))
}

/// Midnight US Pacific of `day`, as an instant.
pub fn pacific_midnight(day: NaiveDate) -> DateTime<Utc> {
    // At midnight the offset is that of the day itself (switches happen at 02:00 local).
    let noon = day.and_hms_opt(12, 0, 0).unwrap().and_utc();
    let off = pacific_offset_hours(noon);
    day.and_hms_opt(0, 0, 0).unwrap().and_utc() - Duration::hours(off)
}

/// The US Pacific offset from UTC in hours (-7 in daylight time, -8 otherwise), by the US rule
/// since 2007: daylight time from the second Sunday of March, 02:00 local (10:00 UTC), to the
/// first Sunday of November, 02:00 local (09:00 UTC).
pub fn pacific_offset_hours(t: DateTime<Utc>) -> i64 {
    let y = t.year();
    let start = nth_sunday(y, 3, 2).and_hms_opt(10, 0, 0).unwrap().and_utc();
    let end = nth_sunday(y, 11, 1).and_hms_opt(9, 0, 0).unwrap().and_utc();
    if t >= start && t < end {
        -7
    } else {
        -8
    }
}

fn nth_sunday(year: i32, month: u32, n: u32) -> NaiveDate {
    let first = NaiveDate::from_ymd_opt(year, month, 1).unwrap();
    let to_sunday = (7 - first.weekday().num_days_from_sunday()) % 7;
    first + Duration::days((to_sunday + 7 * (n - 1)) as i64)
}

/// An instant as v1 writes it: milliseconds and the US Pacific offset of that instant
/// (`2021-09-12T16:29:15.962-07:00`).
pub fn v1_time(t: DateTime<Utc>) -> String {
    let off = pacific_offset_hours(t);
    let offset = chrono::FixedOffset::east_opt((off * 3600) as i32).unwrap();
    t.with_timezone(&offset)
        .format("%Y-%m-%dT%H:%M:%S%.3f%:z")
        .to_string()
}

/// An instant as v2 writes it: UTC with `Z`.
pub fn v2_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_stored_at_midnight_pacific() {
        let cases = [
            // The fact sheet's own example (daylight time).
            ("2024-04-01T15:30:00Z", "2024-04-01T07:00:00Z"),
            // Standard time: midnight is 08:00 UTC.
            ("2024-01-15T12:00:00Z", "2024-01-15T08:00:00Z"),
            // 03:00 UTC on the 2nd is still the 1st in California.
            ("2024-04-02T03:00:00Z", "2024-04-01T07:00:00Z"),
            // A bare date names that day.
            ("2024-11-05", "2024-11-05T08:00:00Z"),
            ("2024-07-04", "2024-07-04T07:00:00Z"),
            // Offsets are honoured.
            ("2024-04-01T23:30:00-07:00", "2024-04-01T07:00:00Z"),
        ];
        for (input, want) in cases {
            assert_eq!(v2_time(parse_date(input).unwrap()), want, "{input}");
        }
        assert!(parse_date("not a date").is_none());
    }

    #[test]
    fn pacific_offset_follows_us_daylight_rule() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        assert_eq!(pacific_offset_hours(at("2024-03-10T09:59:00Z")), -8);
        assert_eq!(pacific_offset_hours(at("2024-03-10T10:00:00Z")), -7);
        assert_eq!(pacific_offset_hours(at("2024-11-03T08:59:00Z")), -7);
        assert_eq!(pacific_offset_hours(at("2024-11-03T09:00:00Z")), -8);
        assert_eq!(
            v1_time(at("2021-09-12T23:29:15.962Z")),
            "2021-09-12T16:29:15.962-07:00"
        );
    }

    #[test]
    fn seed_refuses_a_shared_email() {
        let mut seed = Seed::default();
        for id in [10, 11] {
            seed.persons.push(Person {
                id,
                kind: 0,
                first_name: "A".into(),
                last_name: None,
                emails: vec!["Same@x.com".into()],
                organization_ids: vec![],
            });
        }
        let err = State::from_seed(seed).unwrap_err();
        assert_eq!(err.param, "emails");
    }

    fn seed_user(id: i64, key: &str) -> SeedUser {
        SeedUser {
            id,
            first_name: format!("User{id}"),
            last_name: None,
            email: format!("user{id}@emulated.example"),
            api_key: key.into(),
        }
    }

    #[test]
    fn seeded_users_are_internal_persons_and_the_caller_is_the_first_user_outside_a_request() {
        let seed = Seed {
            users: vec![seed_user(2, "k2"), seed_user(3, "k3")],
            ..Seed::default()
        };
        let st = State::from_seed(seed).unwrap();
        for id in [1, 2, 3] {
            assert_eq!(st.persons[&id].kind, 1, "user {id} is an internal person");
        }
        assert_eq!(st.persons[&3].emails, ["user3@emulated.example"]);
        assert_eq!(st.user_by_key("k3").map(|u| u.id), Some(3));
        assert!(st.user_by_key("k1").is_none());
        assert_eq!(st.caller_id(), 1);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let (id, email) = rt.block_on(as_caller(3, async { (st.caller_id(), st.caller().email) }));
        assert_eq!((id, email.as_str()), (3, "user3@emulated.example"));
        assert!(
            !format!("{:?}", st.users).contains("k2"),
            "a key never reaches a log"
        );
    }

    #[test]
    fn seed_refuses_users_whose_ids_or_keys_repeat() {
        let external = Person {
            id: 4,
            kind: 0,
            first_name: "Ext".into(),
            last_name: None,
            emails: vec![],
            organization_ids: vec![],
        };
        let cases: [(&str, Vec<SeedUser>, Vec<Person>, &str); 5] = [
            (
                "first user's id",
                vec![seed_user(1, "k")],
                vec![],
                "users.id",
            ),
            (
                "repeated id",
                vec![seed_user(2, "a"), seed_user(2, "b")],
                vec![],
                "users.id",
            ),
            (
                "repeated key",
                vec![seed_user(2, "a"), seed_user(3, "a")],
                vec![],
                "users.api_key",
            ),
            (
                "empty key",
                vec![seed_user(2, " ")],
                vec![],
                "users.api_key",
            ),
            (
                "an external person",
                vec![seed_user(4, "a")],
                vec![external],
                "users.id",
            ),
        ];
        for (what, users, persons, param) in cases {
            let seed = Seed {
                users,
                persons,
                ..Seed::default()
            };
            let err = State::from_seed(seed).expect_err(what);
            assert_eq!(err.param, param, "{what}: {err}");
            assert!(!err.message.contains("\"a\""), "{what}: no key in {err}");
        }
    }

    #[test]
    fn seed_users_parse_strictly() {
        let mut v = serde_json::to_value(Seed::default()).unwrap();
        v["users"] = serde_json::json!([{
            "id": 2, "first_name": "B", "email": "b@x.com", "api_key": "kb"
        }]);
        let seed: Seed = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(seed.users[0].last_name, None);
        v["users"][0]["role"] = "admin".into();
        assert!(
            serde_json::from_value::<Seed>(v).is_err(),
            "unknown keys are refused"
        );
    }

    #[test]
    fn test_tenant_fixture_loads() {
        let seed: Seed =
            serde_json::from_str(include_str!("../fixtures/test-tenant.json")).unwrap();
        let st = State::from_seed(seed).unwrap();
        // The date was stored at midnight Pacific, as Affinity does.
        assert_eq!(
            st.field_values[&703].value,
            Value::Date(parse_date("2024-04-01").unwrap())
        );
        assert_eq!(st.field_values[&701].value, Value::RankedDropdown(2));
        assert_eq!(st.field_values[&706].value, Value::Dropdown(11));
    }

    #[test]
    fn enriched_fields_get_source_slug_ids() {
        let f = Field {
            id: 3,
            name: "Number of Employees".into(),
            list_id: None,
            entity_type: 1,
            value_type: 3,
            allows_multiple: false,
            track_changes: false,
            enrichment_source: "dealroom".into(),
            dropdown_options: vec![],
            created_at: epoch(),
            description: None,
            is_required: false,
        };
        assert_eq!(f.v2_id(), "dealroom-number-of-employees");
        assert_eq!(f.v2_type(), "enriched");
    }
}
