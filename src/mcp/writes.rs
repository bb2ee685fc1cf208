//! Write tools: one per writing operation of the typed client, and `set_fields` (field values
//! by name, typed and converted as a mapping's are, old → new from the mirror).
//!
//! Each is planned first ([`McpServer::plan_write`]: no call, old values from the mirror) and
//! applied only with the plan's token ([`McpServer::apply_write`]): a run of kind `mcp`, a
//! `mcp_write_started` event before the request, `mcp_written` (or `mcp_write_failed`) after,
//! with the assistant as origin; and the mirror learns what the write changed, as a push's
//! mirror does.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Value as Json};

use super::live::{EntityTypeArg, InteractionType, OwnerKind, OwnerRef, ValueTypeArg};
use super::mirror::KindArg;
use super::schema::tool;
use super::{parse, Group, McpServer, ToolError, ToolSpec};
use crate::push::apply::learned_entry;
use crate::push::resolve::v1_person_type;
use crate::push::values::{to_v2, words};
use crate::store::journal::RunEnd;
use crate::store::pushed::LearnedEntity;
use affinity_crm::v1::{self, EntityType, ValueType};
use affinity_crm::v2::{FieldId as V2FieldId, FieldUpdate};
use affinity_crm::{
    FieldId, FieldValueId, InteractionId, ListEntryId, ListId, NoteId, OpportunityId,
    OrganizationId, PersonId, ReminderId,
};
use affsync_core::journal::{FieldChange, JournalEvent, RunKind, Step};
use affsync_core::mapping::catalog::FieldLookup;
use affsync_core::mapping::convert::{convert, kinds_for_value_type, same_value, Rule, Target};
use affsync_core::matcher::Kind;
use affsync_core::model::{Owner, ValueItem};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrganizationArgs {
    /// Its name.
    #[schemars(length(min = 1), example = &"Northwind Analytics")]
    pub name: String,
    /// Its primary domain (`northwind.io`).
    #[schemars(example = &"northwind.io")]
    pub domain: Option<String>,
    /// Persons to link to it, by id.
    pub person_ids: Option<Vec<i64>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrganizationArgs {
    /// The organization's id.
    #[schemars(range(min = 1), example = 201)]
    pub organization_id: i64,
    /// A new name.
    pub name: Option<String>,
    /// A new primary domain.
    pub domain: Option<String>,
    /// The persons linked to it: this replaces the whole set.
    pub person_ids: Option<Vec<i64>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteOrganizationArgs {
    /// The organization's id; its field values and list entries go with it.
    #[schemars(range(min = 1), example = 201)]
    pub organization_id: i64,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePersonArgs {
    /// The first name.
    #[schemars(length(min = 1), example = &"Ada")]
    pub first_name: String,
    /// The last name.
    #[schemars(length(min = 1), example = &"Lovelace")]
    pub last_name: String,
    /// Email addresses (none may belong to another person); the first is the primary one.
    #[serde(default)]
    #[schemars(example = vec!["ada@example.com"])]
    pub emails: Vec<String>,
    /// Organizations to link the person to, by id.
    pub organization_ids: Option<Vec<i64>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePersonArgs {
    /// The person's id.
    #[schemars(range(min = 1), example = 401)]
    pub person_id: i64,
    /// A new first name.
    pub first_name: Option<String>,
    /// A new last name.
    pub last_name: Option<String>,
    /// Every email address: this replaces the whole set.
    pub emails: Option<Vec<String>>,
    /// The organizations linked: this replaces the whole set.
    pub organization_ids: Option<Vec<i64>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeletePersonArgs {
    /// The person's id; their field values go with them.
    #[schemars(range(min = 1), example = 401)]
    pub person_id: i64,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOpportunityArgs {
    /// Its name.
    #[schemars(length(min = 1), example = &"Northwind Series B")]
    pub name: String,
    /// The opportunity list it goes on (an opportunity lives on exactly one).
    #[schemars(range(min = 1), example = 303)]
    pub list_id: i64,
    /// Persons linked, by id.
    pub person_ids: Option<Vec<i64>>,
    /// Organizations linked, by id.
    pub organization_ids: Option<Vec<i64>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOpportunityArgs {
    /// The opportunity's id.
    #[schemars(range(min = 1), example = 801)]
    pub opportunity_id: i64,
    /// A new name.
    pub name: Option<String>,
    /// The persons linked: this replaces the whole set.
    pub person_ids: Option<Vec<i64>>,
    /// The organizations linked: this replaces the whole set.
    pub organization_ids: Option<Vec<i64>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteOpportunityArgs {
    /// The opportunity's id (its list entry goes with it).
    #[schemars(range(min = 1), example = 801)]
    pub opportunity_id: i64,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateNoteArgs {
    /// The note's text (plain text, or HTML with `html: true`).
    #[schemars(length(min = 1), example = &"Call with the CEO: raising a Series B in Q3.")]
    pub content: String,
    /// Persons it is about.
    #[serde(default)]
    pub person_ids: Vec<i64>,
    /// Organizations it is about.
    #[serde(default)]
    #[schemars(example = vec![201])]
    pub organization_ids: Vec<i64>,
    /// Opportunities it is about.
    #[serde(default)]
    pub opportunity_ids: Vec<i64>,
    /// The note this one replies to.
    pub parent_id: Option<i64>,
    /// `content` is HTML.
    #[serde(default)]
    pub html: bool,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateNoteArgs {
    /// The note's id (notes with mentions and email notes cannot be edited).
    #[schemars(range(min = 1), example = 5001)]
    pub note_id: i64,
    /// The new text.
    #[schemars(length(min = 1), example = &"Updated: term sheet signed.")]
    pub content: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteNoteArgs {
    /// The note's id (only its creator may delete it).
    #[schemars(range(min = 1), example = 5001)]
    pub note_id: i64,
}

/// The interactions that can be logged by hand (emails cannot).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LoggableInteraction {
    Meeting,
    Call,
    ChatMessage,
}

impl LoggableInteraction {
    fn code(self) -> i64 {
        match self {
            LoggableInteraction::Meeting => 0,
            LoggableInteraction::Call => 1,
            LoggableInteraction::ChatMessage => 2,
        }
    }
}

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Sent,
    Received,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInteractionArgs {
    /// What kind of interaction.
    #[serde(rename = "type")]
    pub interaction_type: LoggableInteraction,
    /// The persons involved (at least one), by id.
    #[schemars(length(min = 1), example = vec![401])]
    pub person_ids: Vec<i64>,
    /// When it happened (RFC 3339).
    #[schemars(example = &"2026-11-20T15:00:00Z")]
    pub date: DateTime<Utc>,
    /// What was said.
    pub content: Option<String>,
    /// For chat messages: sent or received.
    pub direction: Option<Direction>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateInteractionArgs {
    /// The interaction's id.
    #[schemars(range(min = 1), example = 7001)]
    pub interaction_id: i64,
    /// Its type (ids are per type).
    #[serde(rename = "type")]
    pub interaction_type: LoggableInteraction,
    /// The persons involved, by id.
    #[schemars(length(min = 1))]
    pub person_ids: Vec<i64>,
    /// When it happened (RFC 3339).
    pub date: DateTime<Utc>,
    /// What was said.
    pub content: Option<String>,
    /// For chat messages: sent or received.
    pub direction: Option<Direction>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteInteractionArgs {
    /// The interaction's id.
    #[schemars(range(min = 1), example = 7001)]
    pub interaction_id: i64,
    /// Its type.
    #[serde(rename = "type")]
    pub interaction_type: InteractionType,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateListArgs {
    /// The list's name.
    #[schemars(length(min = 1), example = &"Q4 Pipeline")]
    pub name: String,
    /// What the list holds.
    #[serde(rename = "type")]
    pub list_type: EntityTypeArg,
    /// Whether every user of the tenant sees it.
    pub public: bool,
    /// Its owner (an internal person's id); the key's user when absent.
    pub owner_id: Option<i64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateFieldArgs {
    /// The field's name.
    #[schemars(length(min = 1), example = &"Fund Size")]
    pub name: String,
    /// The kind of record it is on.
    pub entity_type: EntityTypeArg,
    /// Its value type (fields cannot be edited afterwards).
    pub value_type: ValueTypeArg,
    /// A list's own field; a global field when absent.
    pub list_id: Option<i64>,
    /// Whether it holds several values.
    #[serde(default)]
    pub allows_multiple: bool,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteFieldArgs {
    /// The field's v1 id (the number in `field-123`); its values go with it.
    #[schemars(range(min = 1), example = 1234)]
    pub field_id: i64,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateListEntryArgs {
    /// The list.
    #[schemars(range(min = 1), example = 301)]
    pub list_id: i64,
    /// The person or organization to add (of the list's kind). Lists allow duplicates: the
    /// plan says when the mirror already has it on the list.
    #[schemars(range(min = 1), example = 201)]
    pub entity_id: i64,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteListEntryArgs {
    /// The list.
    #[schemars(range(min = 1), example = 301)]
    pub list_id: i64,
    /// The entry (on an opportunity list this deletes the opportunity too).
    #[schemars(range(min = 1), example = 601)]
    pub list_entry_id: i64,
}

/// A location value.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LocationArg {
    pub street_address: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub country: Option<String>,
}

/// A v1 field value: a number (numbers, and the ids of persons, organizations and dropdown
/// options), a text (text, a date as RFC 3339, a dropdown's text), or a location.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum WriteValue {
    Number(f64),
    Text(String),
    Location(LocationArg),
}

impl WriteValue {
    fn json(&self) -> Json {
        match self {
            WriteValue::Number(n) if n.fract() == 0.0 && n.abs() < 9e15 => json!(*n as i64),
            WriteValue::Number(n) => json!(n),
            WriteValue::Text(t) => json!(t),
            WriteValue::Location(l) => json!({
                "street_address": l.street_address, "city": l.city, "state": l.state, "country": l.country,
            }),
        }
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateFieldValueArgs {
    /// The field's v1 id.
    #[schemars(range(min = 1), example = 1234)]
    pub field_id: i64,
    /// The person, organization or opportunity.
    #[schemars(range(min = 1), example = 201)]
    pub entity_id: i64,
    /// The value, in the field's type.
    pub value: WriteValue,
    /// For a list's own field: the entry.
    pub list_entry_id: Option<i64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateFieldValueArgs {
    /// The value's id (list_field_values gives it), not the field's.
    #[schemars(range(min = 1), example = 70001)]
    pub field_value_id: i64,
    /// The new value, in the field's type.
    pub value: WriteValue,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteFieldValueArgs {
    /// The value's id (list_field_values gives it).
    #[schemars(range(min = 1), example = 70001)]
    pub field_value_id: i64,
}

/// One-time or recurring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReminderType {
    OneTime,
    Recurring,
}

/// What resets a recurring reminder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResetType {
    Interaction,
    Email,
    Meeting,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateReminderArgs {
    /// The user it is for (an internal person's id).
    #[schemars(range(min = 1), example = 1)]
    pub owner_id: i64,
    /// One-time (needs `due_date`) or recurring (needs `reset_type` and `reminder_days`).
    #[serde(rename = "type")]
    pub reminder_type: ReminderType,
    /// The record it is on (a person, organization or opportunity).
    pub of: OwnerRef,
    /// Its text.
    #[schemars(example = &"Follow up on the term sheet")]
    pub content: Option<String>,
    /// When a one-time reminder is due (RFC 3339).
    pub due_date: Option<DateTime<Utc>>,
    /// What resets a recurring reminder.
    pub reset_type: Option<ResetType>,
    /// A recurring reminder's period in days.
    #[schemars(range(min = 1))]
    pub reminder_days: Option<i64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateReminderArgs {
    /// The reminder's id.
    #[schemars(range(min = 1), example = 9001)]
    pub reminder_id: i64,
    /// A new owner.
    pub owner_id: Option<i64>,
    /// New text.
    pub content: Option<String>,
    /// A new due date (RFC 3339).
    pub due_date: Option<DateTime<Utc>>,
    /// `true` completes it, `false` opens it again.
    pub completed: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteReminderArgs {
    /// The reminder's id.
    #[schemars(range(min = 1), example = 9001)]
    pub reminder_id: i64,
}

/// How `content` is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContentEncoding {
    /// The text itself.
    Utf8,
    /// The bytes, base64.
    Base64,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadEntityFileArgs {
    /// The record it is attached to (not a list entry).
    pub of: OwnerRef,
    /// The file's name.
    #[schemars(length(min = 1), example = &"memo.txt")]
    pub file_name: String,
    /// The file's content.
    #[schemars(example = &"Investment memo: ...")]
    pub content: String,
    /// How `content` is written (default `utf8`).
    pub encoding: Option<ContentEncoding>,
}

/// One field and its new value.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldAssignment {
    /// The field's name as Affinity shows it (mirror_catalog lists them) or its id.
    #[schemars(length(min = 1), example = &"Stage")]
    pub field: String,
    /// The new value as text, converted to the field's type as a mapping's cells are: a date
    /// (`2026-03-01`), a number (`1,200`), a dropdown option's text, a URL, a person by email,
    /// an organization by domain; several values of a multi-valued field separated by `;`.
    /// `null` or empty clears the field.
    #[schemars(example = &"Term Sheet")]
    pub value: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetFieldsArgs {
    /// What kind of record.
    pub kind: KindArg,
    /// Its id.
    #[schemars(range(min = 1), example = 201)]
    pub id: i64,
    /// For a list's own fields: the list (name or id) whose entry of the record is written.
    #[schemars(example = &"Deal Flow")]
    pub list: Option<String>,
    /// The fields to write (at most 100).
    #[schemars(length(min = 1, max = 100))]
    pub values: Vec<FieldAssignment>,
}

pub fn specs() -> Vec<ToolSpec> {
    let w = Group::Write;
    vec![
        tool::<super::bulk::PushMappingArgs>("push_mapping", w, "Push a mapping file", "Bulk writes through the push planner: the records of a mapping file (the TOML `affsync push` takes, checked against the field catalog: typed fields, search term and fuzzy match, create + update or update only, `add_to_list`) are matched and written as a push writes them, only what changed, journaled per record. The plan is the push's dry run: each record's action and fields old → new, and the calls; making it costs the lookups a dry run makes (one term search per search term the mirror lacks). Applying it runs the push.", json!({"mapping": "mappings/companies.toml", "only": ["c001", "c002"]})),
        tool::<SetFieldsArgs>("set_fields", w, "Set field values", "Sets field values of a record (global fields) or of its entry on a list (list fields), by field name, each value converted to the field's type as a mapping file's cells are (dates, numbers, dropdown options by text, persons by email, organizations by domain). The plan shows each field old → new from the mirror and leaves out values that are already so. Applies with one v2 update-fields call per owner (the record, the entry); the mirror learns the new values.", json!({"kind": "organization", "id": 201, "list": "Deal Flow", "values": [{"field": "Stage", "value": "Term Sheet"}]})),
        tool::<CreateOrganizationArgs>("create_organization", w, "Create an organization", "Creates an organization (POST /organizations). The plan says when the mirror already has one with this name or domain. Cost: 1 call.", json!({"name": "Northwind Analytics", "domain": "northwind.io"})),
        tool::<UpdateOrganizationArgs>("update_organization", w, "Update an organization", "Changes an organization's name, domain or linked persons (PUT /organizations/{id}); Affinity's global organizations refuse it. Cost: 1 call.", json!({"organization_id": 201, "name": "Northwind Analytics Inc"})),
        tool::<DeleteOrganizationArgs>("delete_organization", w, "Delete an organization", "Deletes an organization with its field values (DELETE /organizations/{id}). Cost: 1 call.", json!({"organization_id": 201})),
        tool::<CreatePersonArgs>("create_person", w, "Create a person", "Creates a person (POST /persons); an email that belongs to another person is refused. Cost: 1 call.", json!({"first_name": "Ada", "last_name": "Lovelace", "emails": ["ada@example.com"]})),
        tool::<UpdatePersonArgs>("update_person", w, "Update a person", "Changes a person's names, emails or organizations (PUT /persons/{id}); emails and organizations replace the whole set. Cost: 1 call.", json!({"person_id": 401, "last_name": "King"})),
        tool::<DeletePersonArgs>("delete_person", w, "Delete a person", "Deletes a person with their field values (DELETE /persons/{id}). Cost: 1 call.", json!({"person_id": 401})),
        tool::<CreateOpportunityArgs>("create_opportunity", w, "Create an opportunity", "Creates an opportunity on an opportunity list (POST /opportunities). Cost: 1 call.", json!({"name": "Northwind Series B", "list_id": 303, "organization_ids": [201]})),
        tool::<UpdateOpportunityArgs>("update_opportunity", w, "Update an opportunity", "Changes an opportunity's name or linked records (PUT /opportunities/{id}); the id lists replace the sets. Cost: 1 call.", json!({"opportunity_id": 801, "name": "Northwind Series B (lead)"})),
        tool::<DeleteOpportunityArgs>("delete_opportunity", w, "Delete an opportunity", "Deletes an opportunity (DELETE /opportunities/{id}). Cost: 1 call.", json!({"opportunity_id": 801})),
        tool::<CreateNoteArgs>("create_note", w, "Create a note", "Adds a note to persons, organizations or opportunities (POST /notes). Cost: 1 call.", json!({"content": "Met the CEO: Series B in Q3.", "organization_ids": [201]})),
        tool::<UpdateNoteArgs>("update_note", w, "Update a note", "Replaces a note's text (PUT /notes/{id}). Cost: 1 call.", json!({"note_id": 5001, "content": "Term sheet signed."})),
        tool::<DeleteNoteArgs>("delete_note", w, "Delete a note", "Deletes a note (DELETE /notes/{id}). Cost: 1 call.", json!({"note_id": 5001})),
        tool::<CreateInteractionArgs>("create_interaction", w, "Log an interaction", "Logs a meeting, call or chat message with persons (POST /interactions). Cost: 1 call.", json!({"type": "call", "person_ids": [401], "date": "2026-11-20T15:00:00Z", "content": "Intro call"})),
        tool::<UpdateInteractionArgs>("update_interaction", w, "Update an interaction", "Changes a logged interaction (PUT /interactions/{id}). Cost: 1 call.", json!({"interaction_id": 7001, "type": "call", "person_ids": [401], "date": "2026-11-20T16:00:00Z"})),
        tool::<DeleteInteractionArgs>("delete_interaction", w, "Delete an interaction", "Deletes an interaction (DELETE /interactions/{id}?type=). Cost: 1 call.", json!({"interaction_id": 7001, "type": "call"})),
        tool::<CreateListArgs>("create_list", w, "Create a list", "Creates a list (POST /lists). Cost: 1 call.", json!({"name": "Q4 Pipeline", "type": "organization", "public": true})),
        tool::<CreateFieldArgs>("create_field", w, "Create a field", "Creates a field, global or a list's own (POST /fields); fields cannot be edited afterwards. Cost: 1 call.", json!({"name": "Fund Size", "entity_type": "organization", "value_type": "number"})),
        tool::<DeleteFieldArgs>("delete_field", w, "Delete a field", "Deletes a field and every value of it (DELETE /fields/{id}). Cost: 1 call.", json!({"field_id": 1234})),
        tool::<CreateListEntryArgs>("create_list_entry", w, "Add to a list", "Adds a person or organization to a list (POST /lists/{id}/list-entries); lists allow duplicates, so the plan warns when the mirror has it there already. The mirror learns the entry. Cost: 1 call.", json!({"list_id": 301, "entity_id": 201})),
        tool::<DeleteListEntryArgs>("delete_list_entry", w, "Remove from a list", "Removes an entry from a list (DELETE /lists/{id}/list-entries/{entry}); on an opportunity list the opportunity goes too. Cost: 1 call.", json!({"list_id": 301, "list_entry_id": 601})),
        tool::<CreateFieldValueArgs>("create_field_value", w, "Add a field value", "Adds a v1 field value (POST /field-values); on a multi-valued field it adds one more value. set_fields is simpler (by name, converted, old → new). Cost: 1 call.", json!({"field_id": 1234, "entity_id": 201, "value": "Series B"})),
        tool::<UpdateFieldValueArgs>("update_field_value", w, "Change a field value", "Changes one v1 field value by its value id (PUT /field-values/{id}). Cost: 1 call.", json!({"field_value_id": 70001, "value": 42})),
        tool::<DeleteFieldValueArgs>("delete_field_value", w, "Delete a field value", "Deletes one v1 field value by its value id (DELETE /field-values/{id}). Cost: 1 call.", json!({"field_value_id": 70001})),
        tool::<CreateReminderArgs>("create_reminder", w, "Create a reminder", "Creates a reminder on a record for a user (POST /reminders). Cost: 1 call.", json!({"owner_id": 1, "type": "one_time", "of": {"kind": "organization", "id": 201}, "content": "Follow up", "due_date": "2026-12-01T09:00:00Z"})),
        tool::<UpdateReminderArgs>("update_reminder", w, "Update a reminder", "Changes a reminder, or completes it (PUT /reminders/{id}). Cost: 1 call.", json!({"reminder_id": 9001, "completed": true})),
        tool::<DeleteReminderArgs>("delete_reminder", w, "Delete a reminder", "Deletes a reminder (DELETE /reminders/{id}). Cost: 1 call.", json!({"reminder_id": 9001})),
        tool::<UploadEntityFileArgs>("upload_entity_file", w, "Attach a file", "Uploads a file to a person, organization or opportunity (POST /entity-files, multipart). Not repeated after an ambiguous failure. Cost: 1 call.", json!({"of": {"kind": "organization", "id": 201}, "file_name": "memo.txt", "content": "Investment memo"})),
    ]
}

/// What a write will do, as its plan says and the journal keeps.
#[derive(Debug, Clone, Default)]
struct Plan {
    /// The journal's record (`organization:201`, `note:5001`).
    record: String,
    summary: String,
    changes: Vec<FieldChange>,
    calls: u64,
    warnings: Vec<String>,
    /// A bulk write's records, each with its action and fields old → new.
    records: Option<Json>,
}

impl Plan {
    fn json(&self) -> Json {
        let mut v = json!({
            "record": self.record,
            "summary": self.summary,
            "changes": self.changes.iter().map(|c| json!({
                "field": c.field, "field_id": c.field_id, "old": c.old, "new": c.new,
            })).collect::<Vec<_>>(),
            "api_calls": self.calls,
            "warnings": self.warnings,
        });
        if let Some(r) = &self.records {
            v["records"] = r.clone();
        }
        v
    }
}

/// What an applied write gives back.
struct Applied {
    result: Json,
    affinity_id: Option<String>,
    /// What the mirror learned, in words.
    mirror: String,
}

fn change(field: &str, old: Option<String>, new: Option<String>) -> FieldChange {
    FieldChange {
        field: field.into(),
        field_id: None,
        old,
        new,
    }
}

fn ids_words(ids: &[i64]) -> String {
    ids.iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn to_json<T: serde::Serialize>(v: &T) -> Json {
    serde_json::to_value(v).unwrap_or(Json::Null)
}

/// One field a `set_fields` writes: its name, id, value type, old and new value.
type FieldWrite = (String, String, String, Vec<ValueItem>, Vec<ValueItem>);

/// A `set_fields` write resolved: per owner, the fields that change.
struct FieldPlan {
    owner: Owner,
    /// The list and entry, for a list's own fields.
    entry: Option<(i64, i64)>,
    writes: Vec<FieldWrite>,
}

impl McpServer {
    /// Plans a write: what it changes, old → new from the mirror, and the calls it costs.
    pub(super) async fn plan_write(&self, name: &str, args: Json) -> Result<Json, ToolError> {
        let plan = self.plan_of(name, args).await?;
        Ok(plan.json())
    }

    async fn name_of(&self, kind: Kind, id: i64) -> Result<Option<String>, ToolError> {
        Ok(self
            .store()
            .mirror_record(kind, id)
            .await?
            .map(|r| r.name)
            .filter(|n| !n.is_empty()))
    }

    async fn label(&self, kind: Kind, id: i64) -> Result<String, ToolError> {
        Ok(match self.name_of(kind, id).await? {
            Some(n) => format!("{} {id} ({n})", kind.as_str()),
            None => format!("{} {id} (not in the mirror)", kind.as_str()),
        })
    }

    async fn plan_of(&self, name: &str, args: Json) -> Result<Plan, ToolError> {
        let store = self.store();
        let one = |record: String, summary: String| Plan {
            record,
            summary,
            calls: 1,
            ..Plan::default()
        };
        Ok(match name {
            "push_mapping" => {
                let (summary, report) = self.plan_push_mapping(args).await?;
                Plan {
                    record: format!("mapping:{}", report["mapping"].as_str().unwrap_or("")),
                    summary,
                    calls: report["estimated_calls"].as_u64().unwrap_or(0),
                    records: Some(report),
                    ..Plan::default()
                }
            }
            "set_fields" => {
                let a: SetFieldsArgs = parse(args)?;
                let (plans, unchanged) = self.field_plans(&a).await?;
                let mut p = Plan {
                    record: format!("{}:{}", a.kind.kind().as_str(), a.id),
                    calls: plans.iter().filter(|f| !f.writes.is_empty()).count() as u64,
                    ..Plan::default()
                };
                for f in &plans {
                    for (field, fid, _, old, new) in &f.writes {
                        p.changes.push(FieldChange {
                            field: field.clone(),
                            field_id: Some(fid.clone()),
                            old: Some(words(old)),
                            new: Some(words(new)),
                        });
                    }
                }
                for u in unchanged {
                    p.warnings
                        .push(format!("`{u}` already holds that value: not written"));
                }
                p.summary = format!(
                    "{}: {} field(s) change",
                    self.label(a.kind.kind(), a.id).await?,
                    p.changes.len()
                );
                if p.changes.is_empty() {
                    p.summary.push_str("; nothing to write");
                }
                p
            }
            "create_organization" => {
                let a: CreateOrganizationArgs = parse(args)?;
                let mut p = one(
                    "organization:new".into(),
                    format!("create the organization `{}`", a.name),
                );
                p.changes.push(change("name", None, Some(a.name.clone())));
                if let Some(d) = &a.domain {
                    p.changes.push(change("domain", None, Some(d.clone())));
                }
                let snap = self.snapshot().await?;
                for h in snap
                    .organizations
                    .find(a.domain.as_deref().unwrap_or(&a.name), 3, 0.92)
                {
                    let c = &snap.organizations.cands[h.cand];
                    p.warnings.push(format!(
                        "the mirror already has {} ({} {:.2}): update it instead?",
                        c.label(),
                        h.by,
                        h.score
                    ));
                }
                p
            }
            "update_organization" => {
                let a: UpdateOrganizationArgs = parse(args)?;
                let rec = store
                    .mirror_record(Kind::Organization, a.organization_id)
                    .await?;
                let mut p = one(
                    format!("organization:{}", a.organization_id),
                    format!(
                        "update {}",
                        self.label(Kind::Organization, a.organization_id).await?
                    ),
                );
                if let Some(n) = &a.name {
                    p.changes.push(change(
                        "name",
                        rec.as_ref().map(|r| r.name.clone()),
                        Some(n.clone()),
                    ));
                }
                if let Some(d) = &a.domain {
                    p.changes.push(change(
                        "domain",
                        rec.as_ref().and_then(|r| r.domain.clone()),
                        Some(d.clone()),
                    ));
                }
                if let Some(ids) = &a.person_ids {
                    p.changes
                        .push(change("person_ids (replaced)", None, Some(ids_words(ids))));
                }
                if rec.as_ref().is_some_and(|r| r.is_global) {
                    p.warnings
                        .push("a global organization: Affinity will refuse the update".into());
                }
                p
            }
            "delete_organization" => {
                let a: DeleteOrganizationArgs = parse(args)?;
                let mut p = one(
                    format!("organization:{}", a.organization_id),
                    format!(
                        "delete {} with its field values and list entries",
                        self.label(Kind::Organization, a.organization_id).await?
                    ),
                );
                p.warnings.push("this cannot be undone".into());
                p
            }
            "create_person" => {
                let a: CreatePersonArgs = parse(args)?;
                let mut p = one(
                    "person:new".into(),
                    format!("create the person `{} {}`", a.first_name, a.last_name),
                );
                p.changes
                    .push(change("first_name", None, Some(a.first_name.clone())));
                p.changes
                    .push(change("last_name", None, Some(a.last_name.clone())));
                if !a.emails.is_empty() {
                    p.changes
                        .push(change("emails", None, Some(a.emails.join(", "))));
                }
                let snap = self.snapshot().await?;
                for e in &a.emails {
                    for h in snap.persons.find(e, 3, 1.0) {
                        let c = &snap.persons.cands[h.cand];
                        p.warnings.push(format!(
                            "`{e}` belongs to {} in the mirror: Affinity refuses an email another person has",
                            c.label()
                        ));
                    }
                }
                p
            }
            "update_person" => {
                let a: UpdatePersonArgs = parse(args)?;
                let rec = store.mirror_record(Kind::Person, a.person_id).await?;
                let mut p = one(
                    format!("person:{}", a.person_id),
                    format!("update {}", self.label(Kind::Person, a.person_id).await?),
                );
                if let Some(v) = &a.first_name {
                    p.changes.push(change(
                        "first_name",
                        rec.as_ref().and_then(|r| r.first_name.clone()),
                        Some(v.clone()),
                    ));
                }
                if let Some(v) = &a.last_name {
                    p.changes.push(change(
                        "last_name",
                        rec.as_ref().and_then(|r| r.last_name.clone()),
                        Some(v.clone()),
                    ));
                }
                if let Some(v) = &a.emails {
                    p.changes.push(change(
                        "emails (replaced)",
                        rec.as_ref().map(|r| r.emails.join(", ")),
                        Some(v.join(", ")),
                    ));
                }
                if let Some(ids) = &a.organization_ids {
                    p.changes.push(change(
                        "organization_ids (replaced)",
                        None,
                        Some(ids_words(ids)),
                    ));
                }
                p
            }
            "delete_person" => {
                let a: DeletePersonArgs = parse(args)?;
                let mut p = one(
                    format!("person:{}", a.person_id),
                    format!(
                        "delete {} with their field values",
                        self.label(Kind::Person, a.person_id).await?
                    ),
                );
                p.warnings.push("this cannot be undone".into());
                p
            }
            "create_opportunity" => {
                let a: CreateOpportunityArgs = parse(args)?;
                let snap = self.snapshot().await?;
                let mut p = one(
                    "opportunity:new".into(),
                    format!("create the opportunity `{}` on list {}", a.name, a.list_id),
                );
                p.changes.push(change("name", None, Some(a.name.clone())));
                match snap.catalog.list_by_id(a.list_id) {
                    Some(l) if l.kind != Kind::Opportunity => {
                        return Err(ToolError::new(
                            format!(
                                "list {} (`{}`) holds {}, not opportunities",
                                l.id,
                                l.name,
                                l.kind.plural()
                            ),
                            "name an opportunity list (mirror_catalog shows each list's kind)",
                        ))
                    }
                    Some(l) => p.changes.push(change("list", None, Some(l.name.clone()))),
                    None => p
                        .warnings
                        .push(format!("the mirror does not hold list {}", a.list_id)),
                }
                p
            }
            "update_opportunity" => {
                let a: UpdateOpportunityArgs = parse(args)?;
                let rec = store
                    .mirror_record(Kind::Opportunity, a.opportunity_id)
                    .await?;
                let mut p = one(
                    format!("opportunity:{}", a.opportunity_id),
                    format!(
                        "update {}",
                        self.label(Kind::Opportunity, a.opportunity_id).await?
                    ),
                );
                if let Some(n) = &a.name {
                    p.changes
                        .push(change("name", rec.map(|r| r.name), Some(n.clone())));
                }
                if let Some(ids) = &a.person_ids {
                    p.changes
                        .push(change("person_ids (replaced)", None, Some(ids_words(ids))));
                }
                if let Some(ids) = &a.organization_ids {
                    p.changes.push(change(
                        "organization_ids (replaced)",
                        None,
                        Some(ids_words(ids)),
                    ));
                }
                p
            }
            "delete_opportunity" => {
                let a: DeleteOpportunityArgs = parse(args)?;
                let mut p = one(
                    format!("opportunity:{}", a.opportunity_id),
                    format!(
                        "delete {}",
                        self.label(Kind::Opportunity, a.opportunity_id).await?
                    ),
                );
                p.warnings.push("this cannot be undone".into());
                p
            }
            "create_note" => {
                let a: CreateNoteArgs = parse(args)?;
                if a.person_ids.is_empty()
                    && a.organization_ids.is_empty()
                    && a.opportunity_ids.is_empty()
                    && a.parent_id.is_none()
                {
                    return Err(ToolError::new(
                        "a note needs a person, an organization, an opportunity or a parent note",
                        "give `organization_ids`, `person_ids`, `opportunity_ids` or `parent_id`",
                    ));
                }
                let mut on = Vec::new();
                for id in &a.organization_ids {
                    on.push(self.label(Kind::Organization, *id).await?);
                }
                for id in &a.person_ids {
                    on.push(self.label(Kind::Person, *id).await?);
                }
                for id in &a.opportunity_ids {
                    on.push(self.label(Kind::Opportunity, *id).await?);
                }
                let record = note_record(&a);
                let mut p = one(record, format!("add a note on {}", on.join(", ")));
                p.changes
                    .push(change("content", None, Some(a.content.clone())));
                p
            }
            "update_note" => {
                let a: UpdateNoteArgs = parse(args)?;
                let mut p = one(
                    format!("note:{}", a.note_id),
                    format!("replace the text of note {}", a.note_id),
                );
                p.changes.push(change(
                    "content",
                    Some("(the note's current text; get_note reads it)".into()),
                    Some(a.content),
                ));
                p
            }
            "delete_note" => {
                let a: DeleteNoteArgs = parse(args)?;
                one(
                    format!("note:{}", a.note_id),
                    format!("delete note {}", a.note_id),
                )
            }
            "create_interaction" => {
                let a: CreateInteractionArgs = parse(args)?;
                if a.person_ids.is_empty() {
                    return Err(ToolError::new(
                        "an interaction needs at least one person",
                        "give `person_ids`",
                    ));
                }
                let mut who = Vec::new();
                for id in &a.person_ids {
                    who.push(self.label(Kind::Person, *id).await?);
                }
                let mut p = one(
                    format!("person:{}", a.person_ids[0]),
                    format!(
                        "log a {:?} on {} with {}",
                        a.interaction_type,
                        a.date.to_rfc3339(),
                        who.join(", ")
                    )
                    .to_lowercase(),
                );
                if let Some(c) = &a.content {
                    p.changes.push(change("content", None, Some(c.clone())));
                }
                p
            }
            "update_interaction" => {
                let a: UpdateInteractionArgs = parse(args)?;
                let mut p = one(
                    format!("interaction:{}", a.interaction_id),
                    format!(
                        "update interaction {} ({:?})",
                        a.interaction_id, a.interaction_type
                    )
                    .to_lowercase(),
                );
                p.changes
                    .push(change("date", None, Some(a.date.to_rfc3339())));
                p.changes
                    .push(change("person_ids", None, Some(ids_words(&a.person_ids))));
                if let Some(c) = &a.content {
                    p.changes.push(change("content", None, Some(c.clone())));
                }
                p
            }
            "delete_interaction" => {
                let a: DeleteInteractionArgs = parse(args)?;
                one(
                    format!("interaction:{}", a.interaction_id),
                    format!(
                        "delete interaction {} ({:?})",
                        a.interaction_id, a.interaction_type
                    )
                    .to_lowercase(),
                )
            }
            "create_list" => {
                let a: CreateListArgs = parse(args)?;
                let snap = self.snapshot().await?;
                let mut p = one(
                    "list:new".into(),
                    format!(
                        "create the {} list `{}`",
                        if a.public { "public" } else { "private" },
                        a.name
                    ),
                );
                if snap.catalog.find_list(&a.name).is_some() {
                    p.warnings
                        .push(format!("the mirror already has a list `{}`", a.name));
                }
                p
            }
            "create_field" => {
                let a: CreateFieldArgs = parse(args)?;
                let mut p = one(
                    "field:new".into(),
                    format!(
                        "create the {:?} field `{}` for {:?} records{}",
                        a.value_type,
                        a.name,
                        a.entity_type,
                        a.list_id
                            .map(|l| format!(" on list {l}"))
                            .unwrap_or_default()
                    )
                    .to_lowercase(),
                );
                p.warnings
                    .push("fields cannot be edited afterwards, only deleted".into());
                p
            }
            "delete_field" => {
                let a: DeleteFieldArgs = parse(args)?;
                let snap = self.snapshot().await?;
                let fid = format!("field-{}", a.field_id);
                let name = snap
                    .catalog
                    .fields
                    .iter()
                    .find(|f| f.id == fid)
                    .map(|f| f.name.clone());
                let mut p = one(
                    format!("field:{}", a.field_id),
                    format!(
                        "delete the field {}{} and every value of it",
                        fid,
                        name.map(|n| format!(" (`{n}`)")).unwrap_or_default()
                    ),
                );
                p.warnings.push("this cannot be undone".into());
                p
            }
            "create_list_entry" => {
                let a: CreateListEntryArgs = parse(args)?;
                let snap = self.snapshot().await?;
                let list = snap.catalog.list_by_id(a.list_id).cloned();
                let kind = list.as_ref().map(|l| l.kind).unwrap_or(Kind::Organization);
                let mut p = one(
                    format!("{}:{}", kind.as_str(), a.entity_id),
                    format!(
                        "add {} to {}",
                        self.label(kind, a.entity_id).await?,
                        list.as_ref()
                            .map(|l| format!("`{}`", l.name))
                            .unwrap_or_else(|| format!("list {}", a.list_id))
                    ),
                );
                if let Some(l) = &list {
                    if l.kind == Kind::Opportunity {
                        return Err(ToolError::new(
                            format!("`{}` is an opportunity list: its entries are made with their opportunity", l.name),
                            "use create_opportunity",
                        ));
                    }
                    if let Some(e) = store.entry_of(l.id, kind, a.entity_id).await? {
                        p.warnings.push(format!("the mirror already has it on `{}` (entry {e}); lists allow duplicates, so this adds a second entry", l.name));
                    }
                } else {
                    p.warnings
                        .push(format!("the mirror does not hold list {}", a.list_id));
                }
                p
            }
            "delete_list_entry" => {
                let a: DeleteListEntryArgs = parse(args)?;
                one(
                    format!("entry:{}", a.list_entry_id),
                    format!("remove entry {} from list {}", a.list_entry_id, a.list_id),
                )
            }
            "create_field_value" => {
                let a: CreateFieldValueArgs = parse(args)?;
                let mut p = one(
                    format!("field-value:field-{}:{}", a.field_id, a.entity_id),
                    format!(
                        "add a value to field-{} of record {}",
                        a.field_id, a.entity_id
                    ),
                );
                p.changes.push(change(
                    &format!("field-{}", a.field_id),
                    None,
                    Some(a.value.json().to_string()),
                ));
                p
            }
            "update_field_value" => {
                let a: UpdateFieldValueArgs = parse(args)?;
                let mut p = one(
                    format!("field-value:{}", a.field_value_id),
                    format!("change field value {}", a.field_value_id),
                );
                p.changes.push(change(
                    "value",
                    Some("(list_field_values reads it)".into()),
                    Some(a.value.json().to_string()),
                ));
                p
            }
            "delete_field_value" => {
                let a: DeleteFieldValueArgs = parse(args)?;
                one(
                    format!("field-value:{}", a.field_value_id),
                    format!("delete field value {}", a.field_value_id),
                )
            }
            "create_reminder" => {
                let a: CreateReminderArgs = parse(args)?;
                if a.of.kind == OwnerKind::ListEntry {
                    return Err(ToolError::new(
                        "reminders go on persons, organizations or opportunities",
                        "give the entry's record",
                    ));
                }
                match a.reminder_type {
                    ReminderType::OneTime if a.due_date.is_none() => {
                        return Err(ToolError::new(
                            "a one-time reminder needs `due_date`",
                            "give `due_date` (RFC 3339)",
                        ))
                    }
                    ReminderType::Recurring
                        if a.reset_type.is_none() || a.reminder_days.is_none() =>
                    {
                        return Err(ToolError::new(
                            "a recurring reminder needs `reset_type` and `reminder_days`",
                            "give both",
                        ))
                    }
                    _ => {}
                }
                let kind = owner_kind(a.of.kind);
                let mut p = one(
                    format!("{}:{}", kind.as_str(), a.of.id),
                    format!(
                        "remind user {} about {}",
                        a.owner_id,
                        self.label(kind, a.of.id).await?
                    ),
                );
                if let Some(c) = &a.content {
                    p.changes.push(change("content", None, Some(c.clone())));
                }
                if let Some(d) = &a.due_date {
                    p.changes
                        .push(change("due_date", None, Some(d.to_rfc3339())));
                }
                p
            }
            "update_reminder" => {
                let a: UpdateReminderArgs = parse(args)?;
                let mut p = one(
                    format!("reminder:{}", a.reminder_id),
                    format!("update reminder {}", a.reminder_id),
                );
                if let Some(c) = &a.content {
                    p.changes.push(change("content", None, Some(c.clone())));
                }
                if let Some(d) = &a.due_date {
                    p.changes
                        .push(change("due_date", None, Some(d.to_rfc3339())));
                }
                if let Some(c) = a.completed {
                    p.changes
                        .push(change("completed", None, Some(c.to_string())));
                }
                p
            }
            "delete_reminder" => {
                let a: DeleteReminderArgs = parse(args)?;
                one(
                    format!("reminder:{}", a.reminder_id),
                    format!("delete reminder {}", a.reminder_id),
                )
            }
            "upload_entity_file" => {
                let a: UploadEntityFileArgs = parse(args)?;
                if a.of.kind == OwnerKind::ListEntry {
                    return Err(ToolError::new(
                        "files go on persons, organizations or opportunities",
                        "give the entry's record",
                    ));
                }
                let bytes = file_bytes(&a)?;
                let kind = owner_kind(a.of.kind);
                one(
                    format!("{}:{}", kind.as_str(), a.of.id),
                    format!(
                        "attach `{}` ({} bytes) to {}",
                        a.file_name,
                        bytes.len(),
                        self.label(kind, a.of.id).await?
                    ),
                )
            }
            other => return Err(ToolError::new(format!("no write tool `{other}`"), "")),
        })
    }

    /// Resolves a `set_fields`: each field found in the catalog for the record's kind (and
    /// list), each value converted to its type, compared with the mirror. Gives the writes per
    /// owner, and the fields left out because they already hold the value.
    async fn field_plans(
        &self,
        a: &SetFieldsArgs,
    ) -> Result<(Vec<FieldPlan>, Vec<String>), ToolError> {
        let kind = a.kind.kind();
        let store = self.store();
        let snap = self.snapshot().await?;
        if a.values.is_empty() || a.values.len() > 100 {
            return Err(ToolError::new(
                "`values` takes 1 to 100 fields",
                "split the write",
            ));
        }
        if store.mirror_record(kind, a.id).await?.is_none() {
            return Err(ToolError::new(
                format!("the mirror has no {} {}", kind.as_str(), a.id),
                format!("find it with find_{} first; set_fields writes records the mirror holds, so that the plan can show old → new", kind.as_str()),
            ));
        }
        let list = match &a.list {
            None => None,
            Some(l) => Some(snap.catalog.find_list(l).cloned().ok_or_else(|| {
                ToolError::new(
                    format!("the mirror holds no list `{l}`"),
                    "mirror_catalog lists them",
                )
            })?),
        };
        let entry =
            match &list {
                None => None,
                Some(l) => Some(store.entry_of(l.id, kind, a.id).await?.ok_or_else(|| {
                    ToolError::new(
                    format!("{} {} is not on `{}` in the mirror", kind.as_str(), a.id, l.name),
                    "add it with create_list_entry first, or leave `list` out for global fields",
                )
                })?),
            };
        let refs = store.mirror_refs().await?;
        let mut by_owner: BTreeMap<(bool, i64), FieldPlan> = BTreeMap::new();
        let mut unchanged = Vec::new();
        let mut cache: BTreeMap<(bool, i64), BTreeMap<String, Vec<ValueItem>>> = BTreeMap::new();
        for fa in &a.values {
            let f = match snap.catalog.lookup(&fa.field, kind, list.as_ref()) {
                FieldLookup::Found(f) => f,
                FieldLookup::Elsewhere(f) => {
                    return Err(ToolError::new(
                        format!(
                            "`{}` is {} field, not one of this {}{}",
                            f.name,
                            match f.list_id.and_then(|l| snap.catalog.list_by_id(l)) {
                                Some(l) => format!("the list `{}`'s", l.name),
                                None => "another kind of record's".into(),
                            },
                            kind.as_str(),
                            list.as_ref()
                                .map(|l| format!(" on `{}`", l.name))
                                .unwrap_or_default()
                        ),
                        "a list's own field needs `list`; a global field needs none",
                    ))
                }
                FieldLookup::Unknown(close) => {
                    return Err(ToolError::new(
                        format!(
                            "no field `{}` for a {}{}",
                            fa.field,
                            kind.as_str(),
                            list.as_ref()
                                .map(|l| format!(" on `{}`", l.name))
                                .unwrap_or_default()
                        ),
                        if close.is_empty() {
                            "mirror_catalog lists the fields".to_string()
                        } else {
                            format!(
                                "did you mean {}?",
                                close
                                    .iter()
                                    .map(|c| format!("`{c}`"))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )
                        },
                    ))
                }
            };
            if f.is_affinity_owned() {
                return Err(ToolError::new(
                    format!(
                        "`{}` is filled by Affinity ({}) and takes no writes",
                        f.name, f.field_type
                    ),
                    "write a custom field instead",
                ));
            }
            let Some(&vk) = kinds_for_value_type(&f.value_type).first() else {
                return Err(ToolError::new(
                    format!(
                        "`{}` is a {} field, which Affinity does not take writes of",
                        f.name, f.value_type
                    ),
                    "",
                ));
            };
            let target = Target::Field(f);
            let new = convert(
                fa.value.as_deref().unwrap_or(""),
                Rule::new(vk),
                &target,
                &refs,
            )
            .map_err(|e| ToolError::new(format!("`{}`: {e}", f.name), e.hint()))?;
            let on_entry = f.list_id.is_some() || f.field_type == "list";
            let owner = match (on_entry, entry) {
                (true, Some(e)) => Owner::Entry(e),
                (true, None) => {
                    return Err(ToolError::new(
                        format!("`{}` is a list's own field", f.name),
                        "give `list`: the list whose entry of the record is written",
                    ))
                }
                (false, _) => Owner::Entity(kind, a.id),
            };
            let key = (on_entry, owner.id());
            if let std::collections::btree_map::Entry::Vacant(v) = cache.entry(key) {
                v.insert(store.owner_values(owner).await?);
            }
            let old = cache[&key].get(&f.id).cloned().unwrap_or_default();
            if same_value(&new, &old) {
                unchanged.push(f.name.clone());
                continue;
            }
            let fp = by_owner.entry(key).or_insert_with(|| FieldPlan {
                owner,
                entry: if on_entry {
                    list.as_ref().zip(entry).map(|(l, e)| (l.id, e))
                } else {
                    None
                },
                writes: Vec::new(),
            });
            fp.writes
                .push((f.name.clone(), f.id.clone(), f.value_type.clone(), old, new));
        }
        Ok((by_owner.into_values().collect(), unchanged))
    }

    /// Applies a planned write: journaled before and after in a run of kind `mcp`.
    pub(super) async fn apply_write(
        &self,
        name: &str,
        args: Json,
        plan: &Json,
        origin: &str,
    ) -> Result<Json, ToolError> {
        let store = self.store();
        let client = self.client()?;
        let record = plan["record"].as_str().unwrap_or("mcp").to_string();
        let summary = plan["summary"].as_str().unwrap_or_default().to_string();
        let run = store.begin_run(RunKind::Mcp, None).await?;
        let run_id = run.id();
        run.events(&[JournalEvent::new(
            record.clone(),
            Step::McpWriteStarted {
                tool: name.to_string(),
                origin: origin.to_string(),
                summary: summary.clone(),
            },
        )])
        .await?;
        let before = client.stats().calls;
        let result = self.do_write(name, args, run.id()).await;
        let calls = client.stats().calls - before;
        match result {
            Ok((applied, changes)) => {
                let mut events: Vec<JournalEvent> = changes
                    .iter()
                    .map(|c| {
                        JournalEvent::new(
                            record.clone(),
                            Step::FieldUpdated {
                                change: c.clone(),
                                affinity_id: applied.affinity_id.clone(),
                            },
                        )
                    })
                    .collect();
                events.push(JournalEvent::new(
                    record.clone(),
                    Step::McpWritten {
                        tool: name.to_string(),
                        origin: origin.to_string(),
                        summary: summary.clone(),
                        affinity_id: applied.affinity_id.clone(),
                        changes: changes.clone(),
                        calls,
                    },
                ));
                run.events(&events).await?;
                run.finish(RunEnd::ok(
                    json!({ "tool": name, "origin": origin, "writes": 1 }),
                    calls,
                ))
                .await?;
                Ok(json!({
                    "affinity": applied.result,
                    "affinity_id": applied.affinity_id,
                    "api_calls": calls,
                    "mirror": applied.mirror,
                    "journal": { "run": run_id.0, "kind": RunKind::Mcp.as_str(), "origin": origin },
                }))
            }
            Err(e) => {
                let _ = run
                    .events(&[JournalEvent::new(
                        record,
                        Step::McpWriteFailed {
                            tool: name.to_string(),
                            origin: origin.to_string(),
                            error: e.message.clone(),
                        },
                    )])
                    .await;
                run.fail(&e.message, calls).await;
                Err(e)
            }
        }
    }

    /// Sends a write and teaches the mirror what it changed.
    async fn do_write(
        &self,
        name: &str,
        args: Json,
        run: affsync_core::model::RunId,
    ) -> Result<(Applied, Vec<FieldChange>), ToolError> {
        let c = self.client()?;
        let store = self.store();
        let now = Utc::now();
        let applied = |result: Json, id: Option<String>, mirror: &str| Applied {
            result,
            affinity_id: id,
            mirror: mirror.to_string(),
        };
        const NEXT_PULL: &str = "the mirror does not hold these; nothing to learn";
        Ok((
            match name {
                "push_mapping" => applied(
                    self.apply_push_mapping(args).await?,
                    None,
                    "the push's mirror learns every write, as `affsync push`'s does",
                ),
                "set_fields" => {
                    let a: SetFieldsArgs = parse(args)?;
                    let (plans, _) = self.field_plans(&a).await?;
                    let mut changes = Vec::new();
                    let mut calls = 0;
                    for fp in &plans {
                        if fp.writes.is_empty() {
                            continue;
                        }
                        let mut updates = Vec::new();
                        for (field, fid, vt, _, new) in &fp.writes {
                            let value = to_v2(vt, new).ok_or_else(|| {
                                ToolError::new(
                                    format!("`{field}` is a {vt} field, which takes no writes"),
                                    "",
                                )
                            })?;
                            updates.push(FieldUpdate {
                                id: V2FieldId(fid.clone()),
                                value,
                            });
                        }
                        calls += match (fp.owner, fp.entry) {
                            (Owner::Entry(_), Some((list, entry))) => {
                                c.update_list_entry_fields_v2(
                                    ListId(list),
                                    ListEntryId(entry),
                                    &updates,
                                )
                                .await?
                            }
                            (Owner::Entity(Kind::Organization, id), _) => {
                                c.update_company_fields_v2(OrganizationId(id), &updates)
                                    .await?
                            }
                            (Owner::Entity(Kind::Person, id), _) => {
                                c.update_person_fields_v2(PersonId(id), &updates).await?
                            }
                            _ => {
                                return Err(ToolError::new(
                                    "an opportunity's fields are its list entry's",
                                    "give `list`: the opportunity's list",
                                ))
                            }
                        };
                        for (field, fid, _, old, new) in &fp.writes {
                            store.learn_values(fp.owner, fid, new, now).await?;
                            changes.push(FieldChange {
                                field: field.clone(),
                                field_id: Some(fid.clone()),
                                old: Some(words(old)),
                                new: Some(words(new)),
                            });
                        }
                    }
                    return Ok((
                        applied(
                            json!({ "fields_written": changes.len(), "update_calls": calls }),
                            Some(a.id.to_string()),
                            "the mirror holds the new values",
                        ),
                        changes,
                    ));
                }
                "create_organization" => {
                    let a: CreateOrganizationArgs = parse(args)?;
                    let o = c
                        .create_organization_v1(&v1::NewOrganization {
                            name: a.name,
                            domain: a.domain,
                            person_ids: a.person_ids.map(|v| v.into_iter().map(PersonId).collect()),
                        })
                        .await?;
                    store.learn_entity(&learned_org(&o), now).await?;
                    applied(
                        to_json(&o),
                        Some(o.id.to_string()),
                        "the mirror knows the organization",
                    )
                }
                "update_organization" => {
                    let a: UpdateOrganizationArgs = parse(args)?;
                    let o = c
                        .update_organization_v1(
                            OrganizationId(a.organization_id),
                            &v1::OrganizationUpdate {
                                name: a.name,
                                domain: a.domain,
                                person_ids: a
                                    .person_ids
                                    .map(|v| v.into_iter().map(PersonId).collect()),
                            },
                        )
                        .await?;
                    store.learn_entity(&learned_org(&o), now).await?;
                    applied(
                        to_json(&o),
                        Some(o.id.to_string()),
                        "the mirror holds the new name and domains",
                    )
                }
                "delete_organization" => {
                    let a: DeleteOrganizationArgs = parse(args)?;
                    c.delete_organization_v1(OrganizationId(a.organization_id))
                        .await?;
                    store
                        .flag_entity_gone(run, Kind::Organization, a.organization_id, None, now)
                        .await?;
                    applied(
                        json!({"deleted": true}),
                        Some(a.organization_id.to_string()),
                        "the mirror flags it gone",
                    )
                }
                "create_person" => {
                    let a: CreatePersonArgs = parse(args)?;
                    let p = c
                        .create_person_v1(&v1::NewPerson {
                            first_name: a.first_name,
                            last_name: a.last_name,
                            emails: a.emails,
                            organization_ids: a
                                .organization_ids
                                .map(|v| v.into_iter().map(OrganizationId).collect()),
                        })
                        .await?;
                    store.learn_entity(&learned_person(&p), now).await?;
                    applied(
                        to_json(&p),
                        Some(p.id.to_string()),
                        "the mirror knows the person",
                    )
                }
                "update_person" => {
                    let a: UpdatePersonArgs = parse(args)?;
                    let p = c
                        .update_person_v1(
                            PersonId(a.person_id),
                            &v1::PersonUpdate {
                                first_name: a.first_name,
                                last_name: a.last_name,
                                emails: a.emails,
                                organization_ids: a
                                    .organization_ids
                                    .map(|v| v.into_iter().map(OrganizationId).collect()),
                            },
                        )
                        .await?;
                    store.learn_entity(&learned_person(&p), now).await?;
                    applied(
                        to_json(&p),
                        Some(p.id.to_string()),
                        "the mirror holds the new names and emails",
                    )
                }
                "delete_person" => {
                    let a: DeletePersonArgs = parse(args)?;
                    c.delete_person_v1(PersonId(a.person_id)).await?;
                    store
                        .flag_entity_gone(run, Kind::Person, a.person_id, None, now)
                        .await?;
                    applied(
                        json!({"deleted": true}),
                        Some(a.person_id.to_string()),
                        "the mirror flags them gone",
                    )
                }
                "create_opportunity" => {
                    let a: CreateOpportunityArgs = parse(args)?;
                    let o = c
                        .create_opportunity_v1(&v1::NewOpportunity {
                            name: a.name,
                            list_id: ListId(a.list_id),
                            person_ids: a.person_ids.map(|v| v.into_iter().map(PersonId).collect()),
                            organization_ids: a
                                .organization_ids
                                .map(|v| v.into_iter().map(OrganizationId).collect()),
                        })
                        .await?;
                    store
                        .learn_entity(
                            &LearnedEntity::Opportunity {
                                id: o.id.0,
                                name: o.name.clone(),
                                list_id: a.list_id,
                            },
                            now,
                        )
                        .await?;
                    for e in o.list_entries.iter().flatten() {
                        store
                            .learn_entry(&learned_entry(e, Kind::Opportunity, o.id.0), now)
                            .await?;
                    }
                    applied(
                        to_json(&o),
                        Some(o.id.to_string()),
                        "the mirror knows the opportunity and its entry",
                    )
                }
                "update_opportunity" => {
                    let a: UpdateOpportunityArgs = parse(args)?;
                    let o = c
                        .update_opportunity_v1(
                            OpportunityId(a.opportunity_id),
                            &v1::OpportunityUpdate {
                                name: a.name,
                                person_ids: a
                                    .person_ids
                                    .map(|v| v.into_iter().map(PersonId).collect()),
                                organization_ids: a
                                    .organization_ids
                                    .map(|v| v.into_iter().map(OrganizationId).collect()),
                            },
                        )
                        .await?;
                    let list = store
                        .mirror_record(Kind::Opportunity, o.id.0)
                        .await?
                        .and_then(|r| r.list_id);
                    let mirror = match list {
                        Some(list_id) => {
                            store
                                .learn_entity(
                                    &LearnedEntity::Opportunity {
                                        id: o.id.0,
                                        name: o.name.clone(),
                                        list_id,
                                    },
                                    now,
                                )
                                .await?;
                            "the mirror holds the new name"
                        }
                        None => "the mirror does not hold this opportunity",
                    };
                    applied(to_json(&o), Some(o.id.to_string()), mirror)
                }
                "delete_opportunity" => {
                    let a: DeleteOpportunityArgs = parse(args)?;
                    c.delete_opportunity_v1(OpportunityId(a.opportunity_id))
                        .await?;
                    store
                        .flag_entity_gone(run, Kind::Opportunity, a.opportunity_id, None, now)
                        .await?;
                    applied(
                        json!({"deleted": true}),
                        Some(a.opportunity_id.to_string()),
                        "the mirror flags it gone",
                    )
                }
                "create_note" => {
                    let a: CreateNoteArgs = parse(args)?;
                    let n = c
                        .create_note_v1(&v1::NewNote {
                            content: a.content,
                            person_ids: a.person_ids.into_iter().map(PersonId).collect(),
                            organization_ids: a
                                .organization_ids
                                .into_iter()
                                .map(OrganizationId)
                                .collect(),
                            opportunity_ids: a
                                .opportunity_ids
                                .into_iter()
                                .map(OpportunityId)
                                .collect(),
                            parent_id: a.parent_id.map(NoteId),
                            note_type: a.html.then_some(2),
                            creator_id: None,
                            created_at: None,
                        })
                        .await?;
                    applied(to_json(&n), Some(n.id.to_string()), NEXT_PULL)
                }
                "update_note" => {
                    let a: UpdateNoteArgs = parse(args)?;
                    let n = c.update_note_v1(NoteId(a.note_id), &a.content).await?;
                    applied(to_json(&n), Some(n.id.to_string()), NEXT_PULL)
                }
                "delete_note" => {
                    let a: DeleteNoteArgs = parse(args)?;
                    c.delete_note_v1(NoteId(a.note_id)).await?;
                    applied(
                        json!({"deleted": true}),
                        Some(a.note_id.to_string()),
                        NEXT_PULL,
                    )
                }
                "create_interaction" => {
                    let a: CreateInteractionArgs = parse(args)?;
                    let i = c
                        .create_interaction_v1(&v1::NewInteraction {
                            interaction_type: a.interaction_type.code(),
                            person_ids: a.person_ids.into_iter().map(PersonId).collect(),
                            content: a.content,
                            date: a.date,
                            direction: a.direction.map(|d| i64::from(d == Direction::Received)),
                        })
                        .await?;
                    applied(to_json(&i), Some(i.id.to_string()), NEXT_PULL)
                }
                "update_interaction" => {
                    let a: UpdateInteractionArgs = parse(args)?;
                    let i = c
                        .update_interaction_v1(
                            InteractionId(a.interaction_id),
                            &v1::NewInteraction {
                                interaction_type: a.interaction_type.code(),
                                person_ids: a.person_ids.into_iter().map(PersonId).collect(),
                                content: a.content,
                                date: a.date,
                                direction: a.direction.map(|d| i64::from(d == Direction::Received)),
                            },
                        )
                        .await?;
                    applied(to_json(&i), Some(i.id.to_string()), NEXT_PULL)
                }
                "delete_interaction" => {
                    let a: DeleteInteractionArgs = parse(args)?;
                    c.delete_interaction_v1(
                        InteractionId(a.interaction_id),
                        a.interaction_type.code(),
                    )
                    .await?;
                    applied(
                        json!({"deleted": true}),
                        Some(a.interaction_id.to_string()),
                        NEXT_PULL,
                    )
                }
                "create_list" => {
                    let a: CreateListArgs = parse(args)?;
                    let l = c
                        .create_list_v1(&v1::NewList {
                            name: a.name,
                            list_type: EntityType::from(a.list_type.code()),
                            is_public: a.public,
                            owner_id: a.owner_id.map(PersonId),
                        })
                        .await?;
                    applied(
                        to_json(&l),
                        Some(l.id.to_string()),
                        "the next pull brings the list into the mirror",
                    )
                }
                "create_field" => {
                    let a: CreateFieldArgs = parse(args)?;
                    let f = c
                        .create_field_v1(&v1::NewField {
                            name: a.name,
                            entity_type: EntityType::from(a.entity_type.code()),
                            value_type: ValueType::from(a.value_type.code()),
                            list_id: a.list_id.map(ListId),
                            allows_multiple: a.allows_multiple,
                        })
                        .await?;
                    applied(
                        to_json(&f),
                        Some(f.id.to_string()),
                        "the next pull brings the field into the catalog",
                    )
                }
                "delete_field" => {
                    let a: DeleteFieldArgs = parse(args)?;
                    c.delete_field_v1(FieldId(a.field_id)).await?;
                    applied(
                        json!({"deleted": true}),
                        Some(a.field_id.to_string()),
                        "the next pull flags the field gone",
                    )
                }
                "create_list_entry" => {
                    let a: CreateListEntryArgs = parse(args)?;
                    let e = c.add_list_entry_v1(ListId(a.list_id), a.entity_id).await?;
                    let kind = match e.entity_type {
                        v1::EntityType::Person => Some(Kind::Person),
                        v1::EntityType::Organization => Some(Kind::Organization),
                        v1::EntityType::Opportunity => Some(Kind::Opportunity),
                        v1::EntityType::Other(_) => None,
                    };
                    let mirror = match kind {
                        Some(k) => {
                            store
                                .learn_entry(&learned_entry(&e, k, e.entity_id), now)
                                .await?;
                            "the mirror knows the entry"
                        }
                        None => "the entry's kind is unknown: the next pull brings it",
                    };
                    applied(to_json(&e), Some(e.id.to_string()), mirror)
                }
                "delete_list_entry" => {
                    let a: DeleteListEntryArgs = parse(args)?;
                    c.delete_list_entry_v1(ListId(a.list_id), ListEntryId(a.list_entry_id))
                        .await?;
                    store.forget_entry(a.list_entry_id, now).await?;
                    applied(
                        json!({"deleted": true}),
                        Some(a.list_entry_id.to_string()),
                        "the mirror flags the entry gone",
                    )
                }
                "create_field_value" => {
                    let a: CreateFieldValueArgs = parse(args)?;
                    let v = c
                        .create_field_value_v1(&v1::NewFieldValue {
                            field_id: FieldId(a.field_id),
                            entity_id: a.entity_id,
                            value: a.value.json(),
                            list_entry_id: a.list_entry_id.map(ListEntryId),
                        })
                        .await?;
                    applied(
                        super::present::field_value(&v),
                        Some(a.entity_id.to_string()),
                        "the next pull brings the value (set_fields teaches the mirror at once)",
                    )
                }
                "update_field_value" => {
                    let a: UpdateFieldValueArgs = parse(args)?;
                    let v = c
                        .update_field_value_v1(FieldValueId(a.field_value_id), a.value.json())
                        .await?;
                    applied(
                        super::present::field_value(&v),
                        Some(v.entity_id.to_string()),
                        "the next pull brings the value (set_fields teaches the mirror at once)",
                    )
                }
                "delete_field_value" => {
                    let a: DeleteFieldValueArgs = parse(args)?;
                    c.delete_field_value_v1(FieldValueId(a.field_value_id))
                        .await?;
                    applied(
                        json!({"deleted": true}),
                        None,
                        "the next pull removes the value",
                    )
                }
                "create_reminder" => {
                    let a: CreateReminderArgs = parse(args)?;
                    let (p, o, op) = match a.of.kind {
                        OwnerKind::Person => (Some(PersonId(a.of.id)), None, None),
                        OwnerKind::Organization => (None, Some(OrganizationId(a.of.id)), None),
                        _ => (None, None, Some(OpportunityId(a.of.id))),
                    };
                    let r = c
                        .create_reminder_v1(&v1::NewReminder {
                            owner_id: PersonId(a.owner_id),
                            reminder_type: match a.reminder_type {
                                ReminderType::OneTime => 0,
                                ReminderType::Recurring => 1,
                            },
                            content: a.content,
                            due_date: a.due_date,
                            reset_type: a.reset_type.map(|t| match t {
                                ResetType::Interaction => 0,
                                ResetType::Email => 1,
                                ResetType::Meeting => 2,
                            }),
                            reminder_days: a.reminder_days,
                            person_id: p,
                            organization_id: o,
                            opportunity_id: op,
                        })
                        .await?;
                    applied(
                        super::present::reminder(&r),
                        Some(r.id.to_string()),
                        NEXT_PULL,
                    )
                }
                "update_reminder" => {
                    let a: UpdateReminderArgs = parse(args)?;
                    let r = c
                        .update_reminder_v1(
                            ReminderId(a.reminder_id),
                            &v1::ReminderUpdate {
                                owner_id: a.owner_id.map(PersonId),
                                content: a.content,
                                due_date: a.due_date,
                                is_completed: a.completed,
                            },
                        )
                        .await?;
                    applied(
                        super::present::reminder(&r),
                        Some(r.id.to_string()),
                        NEXT_PULL,
                    )
                }
                "delete_reminder" => {
                    let a: DeleteReminderArgs = parse(args)?;
                    c.delete_reminder_v1(ReminderId(a.reminder_id)).await?;
                    applied(
                        json!({"deleted": true}),
                        Some(a.reminder_id.to_string()),
                        NEXT_PULL,
                    )
                }
                "upload_entity_file" => {
                    let a: UploadEntityFileArgs = parse(args)?;
                    let bytes = file_bytes(&a)?;
                    c.upload_entity_file_v1(a.of.of(), &a.file_name, &bytes)
                        .await?;
                    applied(
                        json!({"uploaded": a.file_name, "bytes": bytes.len()}),
                        Some(a.of.id.to_string()),
                        NEXT_PULL,
                    )
                }
                other => return Err(ToolError::new(format!("no write tool `{other}`"), "")),
            },
            Vec::new(),
        ))
    }
}

fn note_record(a: &CreateNoteArgs) -> String {
    if let Some(id) = a.organization_ids.first() {
        format!("organization:{id}")
    } else if let Some(id) = a.person_ids.first() {
        format!("person:{id}")
    } else if let Some(id) = a.opportunity_ids.first() {
        format!("opportunity:{id}")
    } else {
        format!("note:{}", a.parent_id.unwrap_or_default())
    }
}

fn owner_kind(k: OwnerKind) -> Kind {
    match k {
        OwnerKind::Person => Kind::Person,
        OwnerKind::Opportunity => Kind::Opportunity,
        _ => Kind::Organization,
    }
}

fn file_bytes(a: &UploadEntityFileArgs) -> Result<Vec<u8>, ToolError> {
    match a.encoding.unwrap_or(ContentEncoding::Utf8) {
        ContentEncoding::Utf8 => Ok(a.content.as_bytes().to_vec()),
        ContentEncoding::Base64 => {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD
                .decode(a.content.trim())
                .map_err(|e| {
                    ToolError::new(
                        format!("`content` is not base64: {e}"),
                        "send the bytes base64-encoded, or use `encoding: utf8` for text",
                    )
                })
        }
    }
}

fn learned_org(o: &v1::Organization) -> LearnedEntity {
    LearnedEntity::Organization {
        id: o.id.0,
        name: o.name.clone(),
        domain: o.domain.clone(),
        domains: o.domains.clone(),
        global: o.global,
    }
}

fn learned_person(p: &v1::Person) -> LearnedEntity {
    let mut emails = p.emails.clone();
    if let Some(e) = &p.primary_email {
        if !emails.contains(e) {
            emails.insert(0, e.clone());
        }
    }
    LearnedEntity::Person {
        id: p.id.0,
        first_name: p.first_name.clone(),
        last_name: p.last_name.clone(),
        emails,
        person_type: Some(v1_person_type(p.person_type).into()),
    }
}
