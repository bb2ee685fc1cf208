//! Typed v1 endpoints (affinity-api.md §2.3). Paged ones are streams; every call goes
//! through [`Client::send`].

use futures::stream::BoxStream;
use serde_json::json;

use super::client::{Client, Request, V1Page};
use super::error::Error;
use super::v1::{
    EntityFile, Field, FieldValue, FieldValueChange, Interaction, List, ListEntry, NewField,
    NewFieldValue, NewInteraction, NewList, NewNote, NewOpportunity, NewOrganization, NewPerson,
    NewReminder, NewWebhook, Note, Opportunity, OpportunityUpdate, Organization,
    OrganizationUpdate, Person, PersonUpdate, RateLimit, RelationshipStrength, Reminder,
    ReminderUpdate, Success, Webhook, WebhookUpdate, WhoAmI,
};
use super::{
    EntityFileId, FieldId, FieldValueId, InteractionId, ListEntryId, ListId, NoteId, OpportunityId,
    OrganizationId, PersonId, ReminderId, WebhookId,
};

/// The v1 page size: the maximum and the default (§2.2).
pub const V1_PAGE_SIZE: u32 = 500;

/// The one entity whose field values (or changes, or notes) to read: `GET /field-values`
/// takes exactly one (§2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValuesOf {
    /// A person.
    Person(PersonId),
    /// An organization (v2: company).
    Organization(OrganizationId),
    /// An opportunity.
    Opportunity(OpportunityId),
    /// A list entry.
    ListEntry(ListEntryId),
}

impl FieldValuesOf {
    fn param(self) -> (&'static str, i64) {
        match self {
            FieldValuesOf::Person(id) => ("person_id", id.0),
            FieldValuesOf::Organization(id) => ("organization_id", id.0),
            FieldValuesOf::Opportunity(id) => ("opportunity_id", id.0),
            FieldValuesOf::ListEntry(id) => ("list_entry_id", id.0),
        }
    }
}

fn with_params(mut r: Request, params: &[(&str, String)]) -> Request {
    for (k, v) in params {
        r = r.query(k, v);
    }
    r
}

impl Client {
    /// `GET /auth/whoami`.
    pub async fn whoami_v1(&self) -> Result<WhoAmI, Error> {
        self.json(Request::get("/auth/whoami"), "a whoami").await
    }

    /// `GET /rate-limit`.
    pub async fn rate_limit_v1(&self) -> Result<RateLimit, Error> {
        self.json(Request::get("/rate-limit"), "a rate limit").await
    }

    // ---- lists and list entries ----

    /// `GET /lists` (a bare array, unpaged).
    pub async fn lists_v1(&self) -> Result<Vec<List>, Error> {
        self.json(Request::get("/lists"), "lists").await
    }

    /// `GET /lists/{id}`, with the list's own fields.
    pub async fn list_v1(&self, id: ListId) -> Result<List, Error> {
        self.json(Request::get(format!("/lists/{id}")), "a list")
            .await
    }

    /// The pages of `GET /lists/{id}/list-entries`. Always sent with `page_size`: without
    /// it the API answers every entry in one bare array (§8.1).
    pub fn list_entry_pages_v1(
        &self,
        list: ListId,
        page_size: u32,
    ) -> BoxStream<'static, Result<V1Page<ListEntry>, Error>> {
        self.v1_pages(
            Request::get(format!("/lists/{list}/list-entries")),
            "list_entries",
            Some(page_size),
        )
    }

    /// Every entry of a list (duplicates included: lists allow them, §8.5).
    pub fn list_entries_v1(&self, list: ListId) -> BoxStream<'static, Result<ListEntry, Error>> {
        self.v1_items(
            Request::get(format!("/lists/{list}/list-entries")),
            "list_entries",
            Some(V1_PAGE_SIZE),
        )
    }

    /// `GET /lists/{id}/list-entries/{entry}`.
    pub async fn list_entry_v1(&self, list: ListId, id: ListEntryId) -> Result<ListEntry, Error> {
        self.json(
            Request::get(format!("/lists/{list}/list-entries/{id}")),
            "a list entry",
        )
        .await
    }

    /// `POST /lists/{id}/list-entries`: no dedupe, so a repeat adds a second entry (§8.5).
    pub async fn add_list_entry_v1(
        &self,
        list: ListId,
        entity_id: i64,
    ) -> Result<ListEntry, Error> {
        self.json(
            Request::post(format!("/lists/{list}/list-entries"))
                .json(&json!({ "entity_id": entity_id })),
            "a list entry",
        )
        .await
    }

    /// `DELETE /lists/{id}/list-entries/{entry}`; on an opportunity list this also deletes
    /// the opportunity (§8.11).
    pub async fn delete_list_entry_v1(&self, list: ListId, id: ListEntryId) -> Result<(), Error> {
        self.delete(format!("/lists/{list}/list-entries/{id}"))
            .await
    }

    // ---- fields and field values ----

    /// `GET /fields` with optional filters (`list_id`, `value_type`, `entity_type`, ...).
    pub async fn fields_v1(&self, params: &[(&str, String)]) -> Result<Vec<Field>, Error> {
        self.json(with_params(Request::get("/fields"), params), "fields")
            .await
    }

    /// `GET /persons/fields`: global person fields.
    pub async fn person_fields_v1(&self) -> Result<Vec<Field>, Error> {
        self.json(Request::get("/persons/fields"), "fields").await
    }

    /// `GET /organizations/fields`: global organization fields.
    pub async fn organization_fields_v1(&self) -> Result<Vec<Field>, Error> {
        self.json(Request::get("/organizations/fields"), "fields")
            .await
    }

    /// `GET /field-values?<one of>`: an entity's global values plus those on its list
    /// entries (§2.3).
    pub async fn field_values_v1(&self, of: FieldValuesOf) -> Result<Vec<FieldValue>, Error> {
        let (k, v) = of.param();
        self.json(Request::get("/field-values").query(k, v), "field values")
            .await
    }

    /// `POST /field-values`. Not repeated after an ambiguous failure: on a multi-valued
    /// field a repeat adds a second value.
    pub async fn create_field_value_v1(&self, body: &NewFieldValue) -> Result<FieldValue, Error> {
        self.json(Request::post("/field-values").json(body), "a field value")
            .await
    }

    /// `PUT /field-values/{value_id}`: by the value's id, not the field's (§2.3).
    pub async fn update_field_value_v1(
        &self,
        id: FieldValueId,
        value: serde_json::Value,
    ) -> Result<FieldValue, Error> {
        self.json(
            Request::put(format!("/field-values/{id}")).json(&json!({ "value": value })),
            "a field value",
        )
        .await
    }

    /// `DELETE /field-values/{id}`.
    pub async fn delete_field_value_v1(&self, id: FieldValueId) -> Result<(), Error> {
        self.delete(format!("/field-values/{id}")).await
    }

    /// `GET /field-value-changes?field_id=` (tracked fields only).
    pub async fn field_value_changes_v1(
        &self,
        field: FieldId,
        of: Option<FieldValuesOf>,
    ) -> Result<Vec<FieldValueChange>, Error> {
        let mut r = Request::get("/field-value-changes").query("field_id", field);
        if let Some(of) = of {
            let (k, v) = of.param();
            r = r.query(k, v);
        }
        self.json(r, "field value changes").await
    }

    // ---- persons ----

    /// `GET /persons?term=…` as a stream. `term` is a substring match (§8.2): compare
    /// emails exactly on this side. `params` are kept identical on every page.
    pub fn persons_v1(
        &self,
        term: Option<&str>,
        params: &[(&str, String)],
    ) -> BoxStream<'static, Result<Person, Error>> {
        let r = with_params(Request::get("/persons").query_opt("term", term), params);
        self.v1_items(r, "persons", Some(V1_PAGE_SIZE))
    }

    /// `GET /persons/{id}`.
    pub async fn person_v1(&self, id: PersonId) -> Result<Person, Error> {
        self.json(Request::get(format!("/persons/{id}")), "a person")
            .await
    }

    /// `POST /persons`; fails if an email belongs to another person.
    pub async fn create_person_v1(&self, body: &NewPerson) -> Result<Person, Error> {
        self.json(Request::post("/persons").json(body), "a person")
            .await
    }

    /// `PUT /persons/{id}`: `emails` and `organization_ids` replace the whole set (§8.6).
    pub async fn update_person_v1(
        &self,
        id: PersonId,
        body: &PersonUpdate,
    ) -> Result<Person, Error> {
        self.json(
            Request::put(format!("/persons/{id}")).json(body),
            "a person",
        )
        .await
    }

    /// `DELETE /persons/{id}`: its field values go with it.
    pub async fn delete_person_v1(&self, id: PersonId) -> Result<(), Error> {
        self.delete(format!("/persons/{id}")).await
    }

    // ---- organizations ----

    /// `GET /organizations?term=…`: with only `term`, the results include Affinity's global
    /// organizations from outside the tenant (§8.2).
    pub fn organizations_v1(
        &self,
        term: Option<&str>,
        params: &[(&str, String)],
    ) -> BoxStream<'static, Result<Organization, Error>> {
        let r = with_params(
            Request::get("/organizations").query_opt("term", term),
            params,
        );
        self.v1_items(r, "organizations", Some(V1_PAGE_SIZE))
    }

    /// `GET /organizations/{id}`.
    pub async fn organization_v1(&self, id: OrganizationId) -> Result<Organization, Error> {
        self.json(
            Request::get(format!("/organizations/{id}")),
            "an organization",
        )
        .await
    }

    /// `POST /organizations`: never a global organization.
    pub async fn create_organization_v1(
        &self,
        body: &NewOrganization,
    ) -> Result<Organization, Error> {
        self.json(
            Request::post("/organizations").json(body),
            "an organization",
        )
        .await
    }

    /// `PUT /organizations/{id}`; global organizations refuse it (§8.3).
    pub async fn update_organization_v1(
        &self,
        id: OrganizationId,
        body: &OrganizationUpdate,
    ) -> Result<Organization, Error> {
        self.json(
            Request::put(format!("/organizations/{id}")).json(body),
            "an organization",
        )
        .await
    }

    /// `DELETE /organizations/{id}`; global organizations refuse it (§8.3).
    pub async fn delete_organization_v1(&self, id: OrganizationId) -> Result<(), Error> {
        self.delete(format!("/organizations/{id}")).await
    }

    // ---- opportunities ----

    /// `GET /opportunities?term=…` as a stream; `term` matches the name.
    pub fn opportunities_v1(
        &self,
        term: Option<&str>,
    ) -> BoxStream<'static, Result<Opportunity, Error>> {
        self.v1_items(
            Request::get("/opportunities").query_opt("term", term),
            "opportunities",
            Some(V1_PAGE_SIZE),
        )
    }

    /// `GET /opportunities/{id}`.
    pub async fn opportunity_v1(&self, id: OpportunityId) -> Result<Opportunity, Error> {
        self.json(
            Request::get(format!("/opportunities/{id}")),
            "an opportunity",
        )
        .await
    }

    /// `POST /opportunities`: with its one list entry.
    pub async fn create_opportunity_v1(&self, body: &NewOpportunity) -> Result<Opportunity, Error> {
        self.json(Request::post("/opportunities").json(body), "an opportunity")
            .await
    }

    /// `PUT /opportunities/{id}`: the id arrays replace the sets (§8.6).
    pub async fn update_opportunity_v1(
        &self,
        id: OpportunityId,
        body: &OpportunityUpdate,
    ) -> Result<Opportunity, Error> {
        self.json(
            Request::put(format!("/opportunities/{id}")).json(body),
            "an opportunity",
        )
        .await
    }

    /// `DELETE /opportunities/{id}`.
    pub async fn delete_opportunity_v1(&self, id: OpportunityId) -> Result<(), Error> {
        self.delete(format!("/opportunities/{id}")).await
    }

    // ---- notes ----

    /// `GET /notes[?<entity>_id]`: paged live, though the docs show a bare array (§2.2).
    pub fn notes_v1(&self, of: Option<FieldValuesOf>) -> BoxStream<'static, Result<Note, Error>> {
        let mut r = Request::get("/notes");
        if let Some(of) = of {
            let (k, v) = of.param();
            r = r.query(k, v);
        }
        self.v1_items(r, "notes", Some(V1_PAGE_SIZE))
    }

    /// `GET /notes/{id}`.
    pub async fn note_v1(&self, id: NoteId) -> Result<Note, Error> {
        self.json(Request::get(format!("/notes/{id}")), "a note")
            .await
    }

    /// `POST /notes`.
    pub async fn create_note_v1(&self, body: &NewNote) -> Result<Note, Error> {
        self.json(Request::post("/notes").json(body), "a note")
            .await
    }

    /// `PUT /notes/{id}`; refused for notes with mentions and email notes (§8.9).
    pub async fn update_note_v1(&self, id: NoteId, content: &str) -> Result<Note, Error> {
        self.json(
            Request::put(format!("/notes/{id}")).json(&json!({ "content": content })),
            "a note",
        )
        .await
    }

    /// `DELETE /notes/{id}`: the creator only.
    pub async fn delete_note_v1(&self, id: NoteId) -> Result<(), Error> {
        self.delete(format!("/notes/{id}")).await
    }

    // ---- interactions ----

    /// `GET /interactions?type&start_time&end_time&person_id`: one person's interactions of
    /// one type within at most a year. The array's key is `emails` for type 3 (§2.2); the
    /// others' keys are undocumented \[I\]: `events`, `calls`, `chat_messages`.
    pub fn person_interactions_v1(
        &self,
        interaction_type: i64,
        person: PersonId,
        start: chrono::DateTime<chrono::Utc>,
        end: chrono::DateTime<chrono::Utc>,
    ) -> BoxStream<'static, Result<Interaction, Error>> {
        let key = match interaction_type {
            0 => "events",
            1 => "calls",
            2 => "chat_messages",
            _ => "emails",
        };
        let r = Request::get("/interactions")
            .query("type", interaction_type)
            .query("start_time", start.to_rfc3339())
            .query("end_time", end.to_rfc3339())
            .query("person_id", person);
        // Interactions page by 100 at most (§2.2).
        self.v1_items(r, key, Some(100))
    }

    /// `POST /interactions`: a call, meeting or chat message logged by hand.
    pub async fn create_interaction_v1(&self, body: &NewInteraction) -> Result<Interaction, Error> {
        self.json(Request::post("/interactions").json(body), "an interaction")
            .await
    }

    /// `GET /interactions/{id}?type=`: ids are per type, so the type goes with the id.
    pub async fn interaction_v1(
        &self,
        id: InteractionId,
        interaction_type: i64,
    ) -> Result<Interaction, Error> {
        self.json(
            Request::get(format!("/interactions/{id}")).query("type", interaction_type),
            "an interaction",
        )
        .await
    }

    /// `PUT /interactions/{id}`: the body carries the type and the keys that change.
    pub async fn update_interaction_v1(
        &self,
        id: InteractionId,
        body: &NewInteraction,
    ) -> Result<Interaction, Error> {
        self.json(
            Request::put(format!("/interactions/{id}")).json(body),
            "an interaction",
        )
        .await
    }

    /// `DELETE /interactions/{id}?type=`.
    pub async fn delete_interaction_v1(
        &self,
        id: InteractionId,
        interaction_type: i64,
    ) -> Result<(), Error> {
        let resp = self
            .send(Request::delete(format!("/interactions/{id}")).query("type", interaction_type))
            .await?;
        if !resp.body.is_empty() {
            let _: Option<Success> = resp.json("a delete answer").ok();
        }
        Ok(())
    }

    /// `GET /interactions?type&start_time&end_time&<entity>_id`: the interactions of one type,
    /// within at most a year, of a person, an organization (its people's included) or an
    /// opportunity. `of` must not be a list entry. Keys as [`Client::person_interactions_v1`].
    pub fn interactions_v1(
        &self,
        interaction_type: i64,
        of: FieldValuesOf,
        start: chrono::DateTime<chrono::Utc>,
        end: chrono::DateTime<chrono::Utc>,
    ) -> BoxStream<'static, Result<Interaction, Error>> {
        let key = match interaction_type {
            0 => "events",
            1 => "calls",
            2 => "chat_messages",
            _ => "emails",
        };
        let (k, v) = of.param();
        let r = Request::get("/interactions")
            .query("type", interaction_type)
            .query("start_time", start.to_rfc3339())
            .query("end_time", end.to_rfc3339())
            .query(k, v);
        self.v1_items(r, key, Some(100))
    }

    // ---- lists and fields ----

    /// `POST /lists`.
    pub async fn create_list_v1(&self, body: &NewList) -> Result<List, Error> {
        self.json(Request::post("/lists").json(body), "a list")
            .await
    }

    /// `POST /fields`: fields cannot be edited afterwards, only deleted.
    pub async fn create_field_v1(&self, body: &NewField) -> Result<Field, Error> {
        self.json(Request::post("/fields").json(body), "a field")
            .await
    }

    /// `DELETE /fields/{id}`: its values go with it.
    pub async fn delete_field_v1(&self, id: FieldId) -> Result<(), Error> {
        self.delete(format!("/fields/{id}")).await
    }

    // ---- relationship strengths ----

    /// `GET /relationships-strengths?external_id[&internal_id]`: how well the tenant's users
    /// know an external person.
    pub async fn relationship_strengths_v1(
        &self,
        external: PersonId,
        internal: Option<PersonId>,
    ) -> Result<Vec<RelationshipStrength>, Error> {
        let r = Request::get("/relationships-strengths")
            .query("external_id", external)
            .query_opt("internal_id", internal);
        self.json(r, "relationship strengths").await
    }

    // ---- reminders ----

    /// `GET /reminders[?<entity>_id]` as a stream (paged like persons, §2.2).
    pub fn reminders_v1(
        &self,
        of: Option<FieldValuesOf>,
    ) -> BoxStream<'static, Result<Reminder, Error>> {
        let mut r = Request::get("/reminders");
        if let Some(of) = of {
            let (k, v) = of.param();
            r = r.query(k, v);
        }
        self.v1_items(r, "reminders", Some(V1_PAGE_SIZE))
    }

    /// `GET /reminders/{id}`.
    pub async fn reminder_v1(&self, id: ReminderId) -> Result<Reminder, Error> {
        self.json(Request::get(format!("/reminders/{id}")), "a reminder")
            .await
    }

    /// `POST /reminders`.
    pub async fn create_reminder_v1(&self, body: &NewReminder) -> Result<Reminder, Error> {
        self.json(Request::post("/reminders").json(body), "a reminder")
            .await
    }

    /// `PUT /reminders/{id}`.
    pub async fn update_reminder_v1(
        &self,
        id: ReminderId,
        body: &ReminderUpdate,
    ) -> Result<Reminder, Error> {
        self.json(
            Request::put(format!("/reminders/{id}")).json(body),
            "a reminder",
        )
        .await
    }

    /// `DELETE /reminders/{id}`.
    pub async fn delete_reminder_v1(&self, id: ReminderId) -> Result<(), Error> {
        self.delete(format!("/reminders/{id}")).await
    }

    // ---- entity files ----

    /// `GET /entity-files[?<entity>_id]` as a stream.
    pub fn entity_files_v1(
        &self,
        of: Option<FieldValuesOf>,
    ) -> BoxStream<'static, Result<EntityFile, Error>> {
        let mut r = Request::get("/entity-files");
        if let Some(of) = of {
            let (k, v) = of.param();
            r = r.query(k, v);
        }
        self.v1_items(r, "entity_files", Some(V1_PAGE_SIZE))
    }

    /// `GET /entity-files/{id}`.
    pub async fn entity_file_v1(&self, id: EntityFileId) -> Result<EntityFile, Error> {
        self.json(
            Request::get(format!("/entity-files/{id}")),
            "an entity file",
        )
        .await
    }

    /// `GET /entity-files/download/{id}`: the file's bytes. Affinity answers with a redirect
    /// to its storage (§2.3), which the HTTP client follows.
    pub async fn download_entity_file_v1(&self, id: EntityFileId) -> Result<bytes::Bytes, Error> {
        Ok(self
            .send(Request::get(format!("/entity-files/download/{id}")))
            .await?
            .body)
    }

    /// `POST /entity-files`: uploads one file to a person, organization or opportunity (not a
    /// list entry), as `multipart/form-data` (§2.3). Not repeated after an ambiguous failure:
    /// a repeat would attach the file twice.
    pub async fn upload_entity_file_v1(
        &self,
        of: FieldValuesOf,
        file_name: &str,
        content: &[u8],
    ) -> Result<(), Error> {
        let (k, v) = of.param();
        let boundary = format!("affinity-crm-{:016x}", rand::random::<u64>());
        let quoted = file_name.replace(['"', '\r', '\n'], "_");
        let mut body = Vec::with_capacity(content.len() + 256);
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n\
                 --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{quoted}\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let r = Request::post("/entity-files")
            .raw(format!("multipart/form-data; boundary={boundary}"), body);
        let resp = self.send(r).await?;
        if !resp.body.is_empty() {
            let _: Option<Success> = resp.json("an upload answer").ok();
        }
        Ok(())
    }

    // ---- webhooks ----

    /// `GET /webhook` (a bare array).
    pub async fn webhooks_v1(&self) -> Result<Vec<Webhook>, Error> {
        self.json(Request::get("/webhook"), "webhooks").await
    }

    /// `GET /webhook/{id}`.
    pub async fn webhook_v1(&self, id: WebhookId) -> Result<Webhook, Error> {
        self.json(Request::get(format!("/webhook/{id}")), "a webhook")
            .await
    }

    /// `POST /webhook/subscribe`: at most three subscriptions per tenant (§5).
    pub async fn create_webhook_v1(&self, body: &NewWebhook) -> Result<Webhook, Error> {
        self.json(Request::post("/webhook/subscribe").json(body), "a webhook")
            .await
    }

    /// `PUT /webhook/{id}`.
    pub async fn update_webhook_v1(
        &self,
        id: WebhookId,
        body: &WebhookUpdate,
    ) -> Result<Webhook, Error> {
        self.json(
            Request::put(format!("/webhook/{id}")).json(body),
            "a webhook",
        )
        .await
    }

    /// `DELETE /webhook/{id}`.
    pub async fn delete_webhook_v1(&self, id: WebhookId) -> Result<(), Error> {
        self.delete(format!("/webhook/{id}")).await
    }

    /// A v1 DELETE: `{"success": true}` (§2.1); any 2xx counts.
    async fn delete(&self, path: String) -> Result<(), Error> {
        let resp = self.send(Request::delete(path)).await?;
        if !resp.body.is_empty() {
            let _: Option<Success> = resp.json("a delete answer").ok();
        }
        Ok(())
    }
}
