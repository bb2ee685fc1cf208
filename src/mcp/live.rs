//! Live read tools: one per reading operation of the typed client, through its one `send()`
//! (auth, pacing by the rate-limit headers, retries). Each says what it costs in calls.

use chrono::{DateTime, Utc};
use futures::{StreamExt, TryStreamExt};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Value as Json};

use super::present;
use super::schema::tool;
use super::{parse, Group, McpServer, ToolError, ToolSpec};
use affinity_crm::{
    EntityFileId, FieldId, FieldValuesOf, InteractionId, ListEntryId, ListId, NoteId,
    OpportunityId, OrganizationId, PersonId, ReminderId,
};

/// What a list, note, reminder or file belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OwnerKind {
    Person,
    Organization,
    Opportunity,
    /// A list entry (field values only).
    ListEntry,
}

/// A record that notes, reminders, files or field values belong to.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OwnerRef {
    /// The kind of record.
    pub kind: OwnerKind,
    /// Its Affinity id.
    #[schemars(range(min = 1), example = 201)]
    pub id: i64,
}

impl OwnerRef {
    pub fn of(self) -> FieldValuesOf {
        match self.kind {
            OwnerKind::Person => FieldValuesOf::Person(PersonId(self.id)),
            OwnerKind::Organization => FieldValuesOf::Organization(OrganizationId(self.id)),
            OwnerKind::Opportunity => FieldValuesOf::Opportunity(OpportunityId(self.id)),
            OwnerKind::ListEntry => FieldValuesOf::ListEntry(ListEntryId(self.id)),
        }
    }
}

/// The type of an interaction (Affinity's codes 0 to 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum InteractionType {
    Meeting,
    Call,
    ChatMessage,
    Email,
}

impl InteractionType {
    pub fn code(self) -> i64 {
        match self {
            InteractionType::Meeting => 0,
            InteractionType::Call => 1,
            InteractionType::ChatMessage => 2,
            InteractionType::Email => 3,
        }
    }
}

/// No arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoArgs {}

/// A search of organizations, persons or opportunities.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TermArgs {
    /// Affinity's term search: a substring of the name (and for organizations the domain, for
    /// persons the email). Without it, every record is listed.
    #[schemars(example = &"northwind")]
    pub term: Option<String>,
    /// At most this many results (1 to 500; default 25). Up to 500 cost one call.
    #[schemars(range(min = 1, max = 500))]
    pub limit: Option<u32>,
}

/// One organization by id.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganizationIdArgs {
    /// The organization's Affinity id.
    #[schemars(range(min = 1), example = 201)]
    pub organization_id: i64,
}

/// One person by id.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonIdArgs {
    /// The person's Affinity id.
    #[schemars(range(min = 1), example = 401)]
    pub person_id: i64,
}

/// One opportunity by id.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OpportunityIdArgs {
    /// The opportunity's Affinity id.
    #[schemars(range(min = 1), example = 801)]
    pub opportunity_id: i64,
}

/// The notes of a record, or all notes.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListNotesArgs {
    /// Only the notes of this person, organization or opportunity (not a list entry).
    pub of: Option<OwnerRef>,
    /// At most this many (1 to 500; default 25; one call).
    #[schemars(range(min = 1, max = 500))]
    pub limit: Option<u32>,
}

/// One note.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteIdArgs {
    /// The note's id.
    #[schemars(range(min = 1), example = 5001)]
    pub note_id: i64,
}

/// A record's interactions of one type within a period of at most a year.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListInteractionsArgs {
    /// Which type.
    #[serde(rename = "type")]
    pub interaction_type: InteractionType,
    /// Whose: a person, an organization (its people's included) or an opportunity.
    pub of: OwnerRef,
    /// From (RFC 3339).
    #[schemars(example = &"2026-01-01T00:00:00Z")]
    pub start: DateTime<Utc>,
    /// To (RFC 3339), at most a year after `start`.
    #[schemars(example = &"2026-12-31T23:59:59Z")]
    pub end: DateTime<Utc>,
    /// At most this many (1 to 500; default 25; 100 a call).
    #[schemars(range(min = 1, max = 500))]
    pub limit: Option<u32>,
}

/// One interaction: ids are per type.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InteractionIdArgs {
    /// The interaction's id.
    #[schemars(range(min = 1), example = 7001)]
    pub interaction_id: i64,
    /// Its type (the id is unique within a type only).
    #[serde(rename = "type")]
    pub interaction_type: InteractionType,
}

/// One list.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListIdArgs {
    /// The list's id (mirror_catalog gives them, with no call).
    #[schemars(range(min = 1), example = 301)]
    pub list_id: i64,
}

/// Value types of fields, as `list_fields` filters them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ValueTypeArg {
    Person,
    Organization,
    Dropdown,
    Number,
    Date,
    Location,
    Text,
    RankedDropdown,
}

impl ValueTypeArg {
    pub fn code(self) -> i64 {
        match self {
            ValueTypeArg::Person => 0,
            ValueTypeArg::Organization => 1,
            ValueTypeArg::Dropdown => 2,
            ValueTypeArg::Number => 3,
            ValueTypeArg::Date => 4,
            ValueTypeArg::Location => 5,
            ValueTypeArg::Text => 6,
            ValueTypeArg::RankedDropdown => 7,
        }
    }
}

/// Kinds of records fields and lists are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntityTypeArg {
    Person,
    Organization,
    Opportunity,
}

impl EntityTypeArg {
    pub fn code(self) -> i64 {
        match self {
            EntityTypeArg::Person => 0,
            EntityTypeArg::Organization => 1,
            EntityTypeArg::Opportunity => 8,
        }
    }
}

/// Field definitions, filtered.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListFieldsArgs {
    /// Only this list's fields.
    #[schemars(range(min = 1), example = 301)]
    pub list_id: Option<i64>,
    /// Only fields of this value type.
    pub value_type: Option<ValueTypeArg>,
    /// Only fields for this kind of record.
    pub entity_type: Option<EntityTypeArg>,
}

/// A page of a list's entries.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListListEntriesArgs {
    /// The list's id.
    #[schemars(range(min = 1), example = 301)]
    pub list_id: i64,
    /// At most this many (1 to 500; default 25; one call).
    #[schemars(range(min = 1, max = 500))]
    pub limit: Option<u32>,
}

/// One list entry.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListEntryIdArgs {
    /// The list's id.
    #[schemars(range(min = 1), example = 301)]
    pub list_id: i64,
    /// The entry's id.
    #[schemars(range(min = 1), example = 601)]
    pub list_entry_id: i64,
}

/// The field values of one record or list entry.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListFieldValuesArgs {
    /// Whose values: a person, organization or opportunity (its list entries' values
    /// included), or one list entry.
    pub of: OwnerRef,
}

/// The changes of a field whose changes are tracked.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldValueChangesArgs {
    /// The field's v1 id (the number in `field-123`).
    #[schemars(range(min = 1), example = 1234)]
    pub field_id: i64,
    /// Only the changes on this record or list entry.
    pub of: Option<OwnerRef>,
    /// At most this many, newest last (1 to 500; default 50; one call).
    #[schemars(range(min = 1, max = 500))]
    pub limit: Option<u32>,
}

/// How well the team knows a person.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RelationshipStrengthsArgs {
    /// The external person.
    #[schemars(range(min = 1), example = 401)]
    pub external_person_id: i64,
    /// Only this user's strength (an internal person's id).
    #[schemars(range(min = 1))]
    pub internal_person_id: Option<i64>,
}

/// Reminders of a record, or all.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListRemindersArgs {
    /// Only the reminders on this person, organization or opportunity.
    pub of: Option<OwnerRef>,
    /// At most this many (1 to 500; default 25; one call).
    #[schemars(range(min = 1, max = 500))]
    pub limit: Option<u32>,
}

/// One reminder.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReminderIdArgs {
    /// The reminder's id.
    #[schemars(range(min = 1), example = 9001)]
    pub reminder_id: i64,
}

/// Files of a record, or all.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListEntityFilesArgs {
    /// Only the files on this person, organization or opportunity.
    pub of: Option<OwnerRef>,
    /// At most this many (1 to 500; default 25; one call).
    #[schemars(range(min = 1, max = 500))]
    pub limit: Option<u32>,
}

/// One file.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EntityFileIdArgs {
    /// The file's id.
    #[schemars(range(min = 1), example = 3001)]
    pub entity_file_id: i64,
}

/// A file's content.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DownloadEntityFileArgs {
    /// The file's id.
    #[schemars(range(min = 1), example = 3001)]
    pub entity_file_id: i64,
    /// Give at most this many bytes (1 to 1,000,000; default 100,000); the rest is cut off.
    #[schemars(range(min = 1, max = 1_000_000))]
    pub max_bytes: Option<u32>,
}

pub fn specs() -> Vec<ToolSpec> {
    let l = Group::Live;
    vec![
        tool::<NoArgs>("whoami", l, "Who am I", "The tenant, user and API grant behind the key (GET /v2/auth/whoami). Cost: 1 call.", json!({})),
        tool::<NoArgs>("rate_limit", l, "Rate limits", "The per-minute and monthly request budgets and what is left of them (GET /rate-limit). Cost: 1 call.", json!({})),
        tool::<TermArgs>("list_organizations", l, "Search organizations in Affinity", "Organizations from Affinity by term search (GET /organizations?term=); without a term, every organization. Affinity's global organizations come too. Cost: 1 call per 500. Prefer find_organization, which costs nothing.", json!({"term": "northwind", "limit": 10})),
        tool::<OrganizationIdArgs>("get_organization", l, "Get an organization from Affinity", "One organization as Affinity has it now (GET /organizations/{id}): name, domains, persons, list entries. Cost: 1 call. Prefer get_record (no call) unless the mirror is stale.", json!({"organization_id": 201})),
        tool::<TermArgs>("list_persons", l, "Search persons in Affinity", "Persons from Affinity by term search on names and emails (GET /persons?term=). Cost: 1 call per 500. Prefer find_person.", json!({"term": "lovelace"})),
        tool::<PersonIdArgs>("get_person", l, "Get a person from Affinity", "One person as Affinity has it now (GET /persons/{id}). Cost: 1 call.", json!({"person_id": 401})),
        tool::<TermArgs>("list_opportunities", l, "Search opportunities in Affinity", "Opportunities from Affinity by name (GET /opportunities?term=). Cost: 1 call per 500. Prefer find_opportunity.", json!({"term": "series b"})),
        tool::<OpportunityIdArgs>("get_opportunity", l, "Get an opportunity from Affinity", "One opportunity as Affinity has it now (GET /opportunities/{id}). Cost: 1 call.", json!({"opportunity_id": 801})),
        tool::<ListNotesArgs>("list_notes", l, "List notes", "Notes, of one record or all (GET /notes). Cost: 1 call per 500.", json!({"of": {"kind": "organization", "id": 201}, "limit": 10})),
        tool::<NoteIdArgs>("get_note", l, "Get a note", "One note (GET /notes/{id}). Cost: 1 call.", json!({"note_id": 5001})),
        tool::<ListInteractionsArgs>("list_interactions", l, "List interactions", "A record's meetings, calls, chat messages or emails of one type within at most a year (GET /interactions). Cost: 1 call per 100. get_record gives the interaction dates with no call.", json!({"type": "meeting", "of": {"kind": "person", "id": 401}, "start": "2026-01-01T00:00:00Z", "end": "2026-06-30T00:00:00Z"})),
        tool::<InteractionIdArgs>("get_interaction", l, "Get an interaction", "One interaction by id and type (GET /interactions/{id}). Cost: 1 call.", json!({"interaction_id": 7001, "type": "call"})),
        tool::<NoArgs>("list_lists", l, "List lists", "Every list the key's user can see (GET /lists). Cost: 1 call. mirror_catalog gives the pulled ones with no call.", json!({})),
        tool::<ListIdArgs>("get_list", l, "Get a list", "One list with its own fields (GET /lists/{id}). Cost: 1 call.", json!({"list_id": 301})),
        tool::<ListFieldsArgs>("list_fields", l, "List fields", "Field definitions, filtered by list, value type or kind of record (GET /fields). Cost: 1 call. mirror_catalog gives the mirror's with no call.", json!({"list_id": 301, "value_type": "dropdown"})),
        tool::<NoArgs>("list_person_fields", l, "List person fields", "The global person fields (GET /persons/fields). Cost: 1 call.", json!({})),
        tool::<NoArgs>("list_organization_fields", l, "List organization fields", "The global organization fields (GET /organizations/fields). Cost: 1 call.", json!({})),
        tool::<ListListEntriesArgs>("list_list_entries", l, "List a list's entries", "A list's entries with their entities, as Affinity has them now (GET /lists/{id}/list-entries). Cost: 1 call per 500. search_list answers from the mirror with no call, with filters.", json!({"list_id": 301, "limit": 50})),
        tool::<ListEntryIdArgs>("get_list_entry", l, "Get a list entry", "One list entry (GET /lists/{id}/list-entries/{entry}). Cost: 1 call.", json!({"list_id": 301, "list_entry_id": 601})),
        tool::<ListFieldValuesArgs>("list_field_values", l, "List field values", "A record's or a list entry's field values with their value ids (GET /field-values), which update_field_value and delete_field_value take. Cost: 1 call.", json!({"of": {"kind": "organization", "id": 201}})),
        tool::<FieldValueChangesArgs>("list_field_value_changes", l, "Field value history", "The history of a tracked field: who changed it, when, to what (GET /field-value-changes). Cost: 1 call.", json!({"field_id": 1234, "of": {"kind": "list_entry", "id": 601}})),
        tool::<RelationshipStrengthsArgs>("get_relationship_strengths", l, "Relationship strengths", "How well each of the team's users knows an external person, from 0 to 1 (GET /relationships-strengths). Cost: 1 call.", json!({"external_person_id": 401})),
        tool::<ListRemindersArgs>("list_reminders", l, "List reminders", "Reminders, of one record or all (GET /reminders). Cost: 1 call per 500.", json!({"of": {"kind": "organization", "id": 201}})),
        tool::<ReminderIdArgs>("get_reminder", l, "Get a reminder", "One reminder (GET /reminders/{id}). Cost: 1 call.", json!({"reminder_id": 9001})),
        tool::<ListEntityFilesArgs>("list_entity_files", l, "List files", "Files attached to records, of one record or all (GET /entity-files). Cost: 1 call per 500.", json!({"of": {"kind": "organization", "id": 201}})),
        tool::<EntityFileIdArgs>("get_entity_file", l, "Get a file's details", "One file's name, size and owner (GET /entity-files/{id}). Cost: 1 call.", json!({"entity_file_id": 3001})),
        tool::<DownloadEntityFileArgs>("download_entity_file", l, "Download a file", "A file's content (GET /entity-files/download/{id}): as text when it is UTF-8, else base64. Cost: 1 call.", json!({"entity_file_id": 3001, "max_bytes": 20000})),
    ]
}

fn lim(v: Option<u32>, default: u32, max: u32) -> usize {
    v.unwrap_or(default).clamp(1, max) as usize
}

fn to_json<T: serde::Serialize>(v: &T) -> Json {
    serde_json::to_value(v).unwrap_or(Json::Null)
}

impl McpServer {
    pub(super) async fn live_call(&self, name: &str, args: Json) -> Result<Json, ToolError> {
        let c = self.client()?;
        Ok(match name {
            "whoami" => {
                let _: NoArgs = parse(args)?;
                present::whoami(&c.whoami_v2().await?)
            }
            "rate_limit" => {
                let _: NoArgs = parse(args)?;
                present::rate_limit(&c.rate_limit_v1().await?)
            }
            "list_organizations" => {
                let a: TermArgs = parse(args)?;
                let n = lim(a.limit, 25, 500);
                let v: Vec<_> = c
                    .organizations_v1(a.term.as_deref(), &[])
                    .take(n)
                    .try_collect()
                    .await?;
                to_json(&v)
            }
            "get_organization" => {
                let a: OrganizationIdArgs = parse(args)?;
                to_json(&c.organization_v1(OrganizationId(a.organization_id)).await?)
            }
            "list_persons" => {
                let a: TermArgs = parse(args)?;
                let n = lim(a.limit, 25, 500);
                let v: Vec<_> = c
                    .persons_v1(a.term.as_deref(), &[])
                    .take(n)
                    .try_collect()
                    .await?;
                to_json(&v)
            }
            "get_person" => {
                let a: PersonIdArgs = parse(args)?;
                to_json(&c.person_v1(PersonId(a.person_id)).await?)
            }
            "list_opportunities" => {
                let a: TermArgs = parse(args)?;
                let n = lim(a.limit, 25, 500);
                let v: Vec<_> = c
                    .opportunities_v1(a.term.as_deref())
                    .take(n)
                    .try_collect()
                    .await?;
                to_json(&v)
            }
            "get_opportunity" => {
                let a: OpportunityIdArgs = parse(args)?;
                to_json(&c.opportunity_v1(OpportunityId(a.opportunity_id)).await?)
            }
            "list_notes" => {
                let a: ListNotesArgs = parse(args)?;
                let n = lim(a.limit, 25, 500);
                let v: Vec<_> = c
                    .notes_v1(a.of.map(OwnerRef::of))
                    .take(n)
                    .try_collect()
                    .await?;
                to_json(&v)
            }
            "get_note" => {
                let a: NoteIdArgs = parse(args)?;
                to_json(&c.note_v1(NoteId(a.note_id)).await?)
            }
            "list_interactions" => {
                let a: ListInteractionsArgs = parse(args)?;
                if a.of.kind == OwnerKind::ListEntry {
                    return Err(ToolError::new(
                        "interactions belong to persons, organizations and opportunities, not list entries",
                        "give the entry's organization, person or opportunity",
                    ));
                }
                if a.end <= a.start || a.end - a.start > chrono::Duration::days(366) {
                    return Err(ToolError::new(
                        "`end` must come after `start`, at most a year later",
                        "ask for a year at a time",
                    ));
                }
                let n = lim(a.limit, 25, 500);
                let v: Vec<_> = c
                    .interactions_v1(a.interaction_type.code(), a.of.of(), a.start, a.end)
                    .take(n)
                    .try_collect()
                    .await?;
                to_json(&v)
            }
            "get_interaction" => {
                let a: InteractionIdArgs = parse(args)?;
                to_json(
                    &c.interaction_v1(InteractionId(a.interaction_id), a.interaction_type.code())
                        .await?,
                )
            }
            "list_lists" => {
                let _: NoArgs = parse(args)?;
                to_json(&c.lists_v1().await?)
            }
            "get_list" => {
                let a: ListIdArgs = parse(args)?;
                to_json(&c.list_v1(ListId(a.list_id)).await?)
            }
            "list_fields" => {
                let a: ListFieldsArgs = parse(args)?;
                let mut params = Vec::new();
                if let Some(l) = a.list_id {
                    params.push(("list_id", l.to_string()));
                }
                if let Some(v) = a.value_type {
                    params.push(("value_type", v.code().to_string()));
                }
                if let Some(e) = a.entity_type {
                    params.push(("entity_type", e.code().to_string()));
                }
                to_json(&c.fields_v1(&params).await?)
            }
            "list_person_fields" => {
                let _: NoArgs = parse(args)?;
                to_json(&c.person_fields_v1().await?)
            }
            "list_organization_fields" => {
                let _: NoArgs = parse(args)?;
                to_json(&c.organization_fields_v1().await?)
            }
            "list_list_entries" => {
                let a: ListListEntriesArgs = parse(args)?;
                let n = lim(a.limit, 25, 500);
                let mut pages = c.list_entry_pages_v1(ListId(a.list_id), n as u32);
                let page = pages.try_next().await?;
                match page {
                    Some(p) => json!({
                        "entries": to_json(&p.items.iter().take(n).collect::<Vec<_>>()),
                        "more": p.next_page_token.is_some(),
                    }),
                    None => json!({ "entries": [], "more": false }),
                }
            }
            "get_list_entry" => {
                let a: ListEntryIdArgs = parse(args)?;
                to_json(
                    &c.list_entry_v1(ListId(a.list_id), ListEntryId(a.list_entry_id))
                        .await?,
                )
            }
            "list_field_values" => {
                let a: ListFieldValuesArgs = parse(args)?;
                let v = c.field_values_v1(a.of.of()).await?;
                Json::Array(v.iter().map(present::field_value).collect())
            }
            "list_field_value_changes" => {
                let a: FieldValueChangesArgs = parse(args)?;
                let n = lim(a.limit, 50, 500);
                let v = c
                    .field_value_changes_v1(FieldId(a.field_id), a.of.map(OwnerRef::of))
                    .await?;
                let skip = v.len().saturating_sub(n);
                Json::Array(
                    v.iter()
                        .skip(skip)
                        .map(present::field_value_change)
                        .collect(),
                )
            }
            "get_relationship_strengths" => {
                let a: RelationshipStrengthsArgs = parse(args)?;
                let v = c
                    .relationship_strengths_v1(
                        PersonId(a.external_person_id),
                        a.internal_person_id.map(PersonId),
                    )
                    .await?;
                Json::Array(v.iter().map(present::relationship_strength).collect())
            }
            "list_reminders" => {
                let a: ListRemindersArgs = parse(args)?;
                let n = lim(a.limit, 25, 500);
                let v: Vec<_> = c
                    .reminders_v1(a.of.map(OwnerRef::of))
                    .take(n)
                    .try_collect()
                    .await?;
                Json::Array(v.iter().map(present::reminder).collect())
            }
            "get_reminder" => {
                let a: ReminderIdArgs = parse(args)?;
                present::reminder(&c.reminder_v1(ReminderId(a.reminder_id)).await?)
            }
            "list_entity_files" => {
                let a: ListEntityFilesArgs = parse(args)?;
                let n = lim(a.limit, 25, 500);
                let v: Vec<_> = c
                    .entity_files_v1(a.of.map(OwnerRef::of))
                    .take(n)
                    .try_collect()
                    .await?;
                Json::Array(v.iter().map(present::entity_file).collect())
            }
            "get_entity_file" => {
                let a: EntityFileIdArgs = parse(args)?;
                present::entity_file(&c.entity_file_v1(EntityFileId(a.entity_file_id)).await?)
            }
            "download_entity_file" => {
                let a: DownloadEntityFileArgs = parse(args)?;
                let max = a.max_bytes.unwrap_or(100_000).clamp(1, 1_000_000) as usize;
                let bytes = c
                    .download_entity_file_v1(EntityFileId(a.entity_file_id))
                    .await?;
                let cut = bytes.len() > max;
                let part = &bytes[..bytes.len().min(max)];
                match std::str::from_utf8(part) {
                    Ok(t) => {
                        json!({ "encoding": "utf-8", "content": t, "bytes": bytes.len(), "truncated": cut })
                    }
                    Err(_) => {
                        use base64::Engine;
                        json!({
                            "encoding": "base64",
                            "content": base64::engine::general_purpose::STANDARD.encode(part),
                            "bytes": bytes.len(), "truncated": cut,
                        })
                    }
                }
            }
            other => {
                return Err(ToolError::new(format!("no live tool `{other}`"), ""));
            }
        })
    }
}
