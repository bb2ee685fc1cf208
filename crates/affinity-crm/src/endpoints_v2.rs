//! Typed v2 endpoints (affinity-api.md §3.4). Paged ones are streams that follow `nextUrl`.

use futures::stream::BoxStream;

use super::client::{Client, Request};
use super::error::Error;
use super::v2::{
    Company, DropdownOption, DropdownOptionUpdate, Field, FieldId, FieldMetadata, FieldUpdate,
    FieldValue, FieldValueUpdate, List, ListEntry, ListEntryWithEntity, Merge, MergeStarted,
    MergeTask, MergeTaskId, NewDropdownOption, Note, OperationDone, Opportunity, Page, Person,
    RateLimit, SavedView, UpdateFields, Webhook, WhoAmI,
};
use super::{
    DropdownOptionId, ListEntryId, ListId, MergeId, NoteId, OpportunityId, OrganizationId,
    PersonId, SavedViewId,
};

/// v2's largest page (§3.1).
pub const V2_PAGE_LIMIT: u32 = 100;
/// The most updates one update-fields call takes (§3.4).
pub const MAX_FIELD_UPDATES: usize = 100;

/// Which fields to return: without any, v2 returns no field data (§3.1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSelection {
    /// Fields by id (`fieldIds`).
    pub field_ids: Vec<FieldId>,
    /// `enriched`, `global`, `relationship-intelligence`, and `list` on list-entry routes.
    pub field_types: Vec<String>,
}

impl FieldSelection {
    /// No field data (v2's default).
    pub fn none() -> Self {
        Self::default()
    }
    /// Every field of these types (`global`, `list`, `enriched`, `relationship-intelligence`).
    pub fn types(types: &[&str]) -> Self {
        FieldSelection {
            field_ids: Vec::new(),
            field_types: types.iter().map(|t| t.to_string()).collect(),
        }
    }
    /// These fields.
    pub fn ids(ids: impl IntoIterator<Item = FieldId>) -> Self {
        FieldSelection {
            field_ids: ids.into_iter().collect(),
            field_types: Vec::new(),
        }
    }
    /// Repeats the params (`fieldIds=a&fieldIds=b`), as v2 expects.
    fn apply(&self, mut r: Request) -> Request {
        for id in &self.field_ids {
            r = r.query("fieldIds", id);
        }
        for t in &self.field_types {
            r = r.query("fieldTypes", t);
        }
        r
    }
}

fn ids_query<T: std::fmt::Display>(mut r: Request, ids: &[T]) -> Request {
    for id in ids {
        r = r.query("ids", id);
    }
    r
}

impl Client {
    /// `GET /v2/auth/whoami`.
    pub async fn whoami_v2(&self) -> Result<WhoAmI, Error> {
        self.json(Request::get("/v2/auth/whoami"), "a whoami").await
    }

    /// `GET /v2/rate-limit` (2026-07-15 on).
    pub async fn rate_limit_v2(&self) -> Result<RateLimit, Error> {
        self.json(Request::get("/v2/rate-limit"), "a rate limit")
            .await
    }

    // ---- companies and persons ----

    /// `GET /v2/companies[?ids&fieldIds&fieldTypes]`; all companies when `ids` is empty.
    pub fn companies_v2(
        &self,
        ids: &[OrganizationId],
        fields: &FieldSelection,
    ) -> BoxStream<'static, Result<Company, Error>> {
        let r = fields.apply(ids_query(Request::get("/v2/companies"), ids));
        self.v2_items(r.query("limit", V2_PAGE_LIMIT))
    }

    /// `GET /v2/companies/{id}` with the fields asked for.
    pub async fn company_v2(
        &self,
        id: OrganizationId,
        fields: &FieldSelection,
    ) -> Result<Company, Error> {
        self.json(
            fields.apply(Request::get(format!("/v2/companies/{id}"))),
            "a company",
        )
        .await
    }

    /// `GET /v2/companies/fields`: the company field catalog.
    pub fn company_fields_v2(&self) -> BoxStream<'static, Result<FieldMetadata, Error>> {
        self.v2_items(Request::get("/v2/companies/fields").query("limit", V2_PAGE_LIMIT))
    }

    /// `GET /v2/companies/{id}/list-entries`.
    pub fn company_list_entries_v2(
        &self,
        id: OrganizationId,
    ) -> BoxStream<'static, Result<ListEntry, Error>> {
        self.v2_items(Request::get(format!("/v2/companies/{id}/list-entries")))
    }

    /// `GET /v2/persons[?ids&fieldIds&fieldTypes]`.
    pub fn persons_v2(
        &self,
        ids: &[PersonId],
        fields: &FieldSelection,
    ) -> BoxStream<'static, Result<Person, Error>> {
        let r = fields.apply(ids_query(Request::get("/v2/persons"), ids));
        self.v2_items(r.query("limit", V2_PAGE_LIMIT))
    }

    /// `GET /v2/persons/{id}` with the fields asked for.
    pub async fn person_v2(&self, id: PersonId, fields: &FieldSelection) -> Result<Person, Error> {
        self.json(
            fields.apply(Request::get(format!("/v2/persons/{id}"))),
            "a person",
        )
        .await
    }

    /// `GET /v2/persons/fields`: the person field catalog.
    pub fn person_fields_v2(&self) -> BoxStream<'static, Result<FieldMetadata, Error>> {
        self.v2_items(Request::get("/v2/persons/fields").query("limit", V2_PAGE_LIMIT))
    }

    /// `GET /v2/persons/{id}/list-entries`.
    pub fn person_list_entries_v2(
        &self,
        id: PersonId,
    ) -> BoxStream<'static, Result<ListEntry, Error>> {
        self.v2_items(Request::get(format!("/v2/persons/{id}/list-entries")))
    }

    /// `GET /v2/opportunities[?ids]` (no field data).
    pub fn opportunities_v2(
        &self,
        ids: &[OpportunityId],
    ) -> BoxStream<'static, Result<Opportunity, Error>> {
        let r = ids_query(Request::get("/v2/opportunities"), ids);
        self.v2_items(r.query("limit", V2_PAGE_LIMIT))
    }

    /// `GET /v2/opportunities/{id}`.
    pub async fn opportunity_v2(&self, id: OpportunityId) -> Result<Opportunity, Error> {
        self.json(
            Request::get(format!("/v2/opportunities/{id}")),
            "an opportunity",
        )
        .await
    }

    // ---- lists ----

    /// `GET /v2/lists`.
    pub fn lists_v2(&self) -> BoxStream<'static, Result<List, Error>> {
        self.v2_items(Request::get("/v2/lists").query("limit", V2_PAGE_LIMIT))
    }

    /// `GET /v2/lists/{id}`.
    pub async fn list_v2(&self, id: ListId) -> Result<List, Error> {
        self.json(Request::get(format!("/v2/lists/{id}")), "a list")
            .await
    }

    /// `GET /v2/lists/{id}/fields`: the list's field catalog (list fields included).
    pub fn list_fields_v2(&self, id: ListId) -> BoxStream<'static, Result<FieldMetadata, Error>> {
        self.v2_items(Request::get(format!("/v2/lists/{id}/fields")).query("limit", V2_PAGE_LIMIT))
    }

    /// The pages of `GET /v2/lists/{id}/list-entries` with field data; a pull stores a page
    /// before it moves on (DESIGN.md "commit before you advance").
    pub fn list_entry_pages_v2(
        &self,
        id: ListId,
        fields: &FieldSelection,
    ) -> BoxStream<'static, Result<Page<ListEntryWithEntity>, Error>> {
        let r = fields.apply(Request::get(format!("/v2/lists/{id}/list-entries")));
        self.v2_pages(r.query("limit", V2_PAGE_LIMIT))
    }

    /// The entries of a list, with the fields asked for.
    pub fn list_entries_v2(
        &self,
        id: ListId,
        fields: &FieldSelection,
    ) -> BoxStream<'static, Result<ListEntryWithEntity, Error>> {
        let r = fields.apply(Request::get(format!("/v2/lists/{id}/list-entries")));
        self.v2_items(r.query("limit", V2_PAGE_LIMIT))
    }

    /// `GET /v2/lists/{id}/list-entries/{entry}` (no field data).
    pub async fn list_entry_v2(
        &self,
        list: ListId,
        entry: ListEntryId,
    ) -> Result<ListEntryWithEntity, Error> {
        self.json(
            Request::get(format!("/v2/lists/{list}/list-entries/{entry}")),
            "a list entry",
        )
        .await
    }

    /// `GET /v2/lists/{lid}/list-entries/{eid}/fields`: every field of one entry.
    pub fn list_entry_fields_v2(
        &self,
        list: ListId,
        entry: ListEntryId,
    ) -> BoxStream<'static, Result<Field, Error>> {
        self.v2_items(
            Request::get(format!("/v2/lists/{list}/list-entries/{entry}/fields"))
                .query("limit", V2_PAGE_LIMIT),
        )
    }

    /// `PATCH /v2/lists/{lid}/list-entries/{eid}/fields` with `update-fields`, split into
    /// calls of at most 100 updates (§3.4). Gives the number of calls made. The batches are
    /// sent in order; a failure stops there, the earlier batches applied.
    pub async fn update_list_entry_fields_v2(
        &self,
        list: ListId,
        entry: ListEntryId,
        updates: &[FieldUpdate],
    ) -> Result<usize, Error> {
        let path = format!("/v2/lists/{list}/list-entries/{entry}/fields");
        self.update_fields(&path, updates).await
    }

    /// `POST /v2/lists/{lid}/list-entries/{eid}/fields/{fieldId}` (204): sets one field.
    /// Setting a value twice leaves the same value, so it is safe to repeat.
    pub async fn set_list_entry_field_v2(
        &self,
        list: ListId,
        entry: ListEntryId,
        field: &FieldId,
        value: FieldValue,
    ) -> Result<(), Error> {
        let r = Request::post(format!(
            "/v2/lists/{list}/list-entries/{entry}/fields/{field}"
        ))
        .json(&FieldValueUpdate { value })
        .idempotent(true);
        self.send(r).await.map(|_| ())
    }

    /// `PATCH /v2/companies/{id}/fields` (BETA, 2026): the same bodies as list entries.
    pub async fn update_company_fields_v2(
        &self,
        id: OrganizationId,
        updates: &[FieldUpdate],
    ) -> Result<usize, Error> {
        self.update_fields(&format!("/v2/companies/{id}/fields"), updates)
            .await
    }

    /// `PATCH /v2/persons/{id}/fields` (BETA, 2026).
    pub async fn update_person_fields_v2(
        &self,
        id: PersonId,
        updates: &[FieldUpdate],
    ) -> Result<usize, Error> {
        self.update_fields(&format!("/v2/persons/{id}/fields"), updates)
            .await
    }

    async fn update_fields(&self, path: &str, updates: &[FieldUpdate]) -> Result<usize, Error> {
        let mut calls = 0;
        for chunk in updates.chunks(MAX_FIELD_UPDATES) {
            let body = UpdateFields {
                operation: "update-fields".into(),
                updates: chunk.to_vec(),
            };
            let resp = self.send(Request::patch(path).json(&body)).await?;
            if !resp.body.is_empty() {
                let _: OperationDone = resp.json("an update-fields answer")?;
            }
            calls += 1;
        }
        Ok(calls)
    }

    // ---- notes ----

    /// `GET /v2/notes`.
    pub fn notes_v2(&self) -> BoxStream<'static, Result<Note, Error>> {
        self.v2_items(Request::get("/v2/notes").query("limit", V2_PAGE_LIMIT))
    }

    /// `GET /v2/notes/{id}`.
    pub async fn note_v2(&self, id: NoteId) -> Result<Note, Error> {
        self.json(Request::get(format!("/v2/notes/{id}")), "a note")
            .await
    }

    /// `GET /v2/persons/{id}/notes`.
    pub fn person_notes_v2(&self, id: PersonId) -> BoxStream<'static, Result<Note, Error>> {
        self.v2_items(Request::get(format!("/v2/persons/{id}/notes")))
    }

    /// `GET /v2/companies/{id}/notes`.
    pub fn company_notes_v2(&self, id: OrganizationId) -> BoxStream<'static, Result<Note, Error>> {
        self.v2_items(Request::get(format!("/v2/companies/{id}/notes")))
    }

    // ---- saved views ----

    /// `GET /v2/lists/{id}/saved-views`.
    pub fn saved_views_v2(&self, list: ListId) -> BoxStream<'static, Result<SavedView, Error>> {
        self.v2_items(
            Request::get(format!("/v2/lists/{list}/saved-views")).query("limit", V2_PAGE_LIMIT),
        )
    }

    /// `GET /v2/lists/{id}/saved-views/{viewId}`.
    pub async fn saved_view_v2(&self, list: ListId, view: SavedViewId) -> Result<SavedView, Error> {
        self.json(
            Request::get(format!("/v2/lists/{list}/saved-views/{view}")),
            "a saved view",
        )
        .await
    }

    /// `GET /v2/lists/{id}/saved-views/{viewId}/list-entries`: the entries the view shows,
    /// with its fields.
    pub fn saved_view_entries_v2(
        &self,
        list: ListId,
        view: SavedViewId,
    ) -> BoxStream<'static, Result<ListEntryWithEntity, Error>> {
        self.v2_items(
            Request::get(format!("/v2/lists/{list}/saved-views/{view}/list-entries"))
                .query("limit", V2_PAGE_LIMIT),
        )
    }

    // ---- dropdown options ----

    /// `GET /v2/lists/{id}/fields/{fieldId}/dropdown-options`.
    pub fn dropdown_options_v2(
        &self,
        list: ListId,
        field: &FieldId,
    ) -> BoxStream<'static, Result<DropdownOption, Error>> {
        self.v2_items(
            Request::get(format!("/v2/lists/{list}/fields/{field}/dropdown-options"))
                .query("limit", V2_PAGE_LIMIT),
        )
    }

    /// `GET /v2/companies/fields/{fieldId}/dropdown-options`: a global company field's.
    pub fn company_dropdown_options_v2(
        &self,
        field: &FieldId,
    ) -> BoxStream<'static, Result<DropdownOption, Error>> {
        self.v2_items(
            Request::get(format!("/v2/companies/fields/{field}/dropdown-options"))
                .query("limit", V2_PAGE_LIMIT),
        )
    }

    /// `GET /v2/persons/fields/{fieldId}/dropdown-options`: a global person field's.
    pub fn person_dropdown_options_v2(
        &self,
        field: &FieldId,
    ) -> BoxStream<'static, Result<DropdownOption, Error>> {
        self.v2_items(
            Request::get(format!("/v2/persons/fields/{field}/dropdown-options"))
                .query("limit", V2_PAGE_LIMIT),
        )
    }

    /// `GET /v2/lists/{id}/fields/{fieldId}/dropdown-options/{optionId}`.
    pub async fn dropdown_option_v2(
        &self,
        list: ListId,
        field: &FieldId,
        option: DropdownOptionId,
    ) -> Result<DropdownOption, Error> {
        self.json(
            Request::get(format!(
                "/v2/lists/{list}/fields/{field}/dropdown-options/{option}"
            )),
            "a dropdown option",
        )
        .await
    }

    /// `POST /v2/lists/{id}/fields/{fieldId}/dropdown-options` (201).
    pub async fn create_dropdown_option_v2(
        &self,
        list: ListId,
        field: &FieldId,
        option: &NewDropdownOption,
    ) -> Result<DropdownOption, Error> {
        self.json(
            Request::post(format!("/v2/lists/{list}/fields/{field}/dropdown-options")).json(option),
            "a dropdown option",
        )
        .await
    }

    /// `POST /v2/lists/{id}/fields/{fieldId}/dropdown-options/{optionId}` (204).
    pub async fn update_dropdown_option_v2(
        &self,
        list: ListId,
        field: &FieldId,
        option: DropdownOptionId,
        update: &DropdownOptionUpdate,
    ) -> Result<(), Error> {
        let r = Request::post(format!(
            "/v2/lists/{list}/fields/{field}/dropdown-options/{option}"
        ))
        .json(update)
        .idempotent(true);
        self.send(r).await.map(|_| ())
    }

    /// `DELETE /v2/lists/{id}/fields/{fieldId}/dropdown-options/{optionId}` (204): the values
    /// that held the option are cleared.
    pub async fn delete_dropdown_option_v2(
        &self,
        list: ListId,
        field: &FieldId,
        option: DropdownOptionId,
    ) -> Result<(), Error> {
        self.send(Request::delete(format!(
            "/v2/lists/{list}/fields/{field}/dropdown-options/{option}"
        )))
        .await
        .map(|_| ())
    }

    // ---- merges ----

    /// `POST /v2/company-merges` (202): merges `duplicate` into `primary`; Affinity does it in
    /// the background, as a task ([`Client::company_merge_task_v2`]).
    pub async fn merge_companies_v2(
        &self,
        primary: OrganizationId,
        duplicate: OrganizationId,
    ) -> Result<MergeStarted, Error> {
        let body =
            serde_json::json!({"primaryCompanyId": primary, "duplicateCompanyId": duplicate});
        self.json(
            Request::post("/v2/company-merges").json(&body),
            "a merge answer",
        )
        .await
    }

    /// `POST /v2/person-merges` (202).
    pub async fn merge_persons_v2(
        &self,
        primary: PersonId,
        duplicate: PersonId,
    ) -> Result<MergeStarted, Error> {
        let body = serde_json::json!({"primaryPersonId": primary, "duplicatePersonId": duplicate});
        self.json(
            Request::post("/v2/person-merges").json(&body),
            "a merge answer",
        )
        .await
    }

    /// `GET /v2/company-merges`.
    pub fn company_merges_v2(&self) -> BoxStream<'static, Result<Merge, Error>> {
        self.v2_items(Request::get("/v2/company-merges").query("limit", V2_PAGE_LIMIT))
    }

    /// `GET /v2/person-merges`.
    pub fn person_merges_v2(&self) -> BoxStream<'static, Result<Merge, Error>> {
        self.v2_items(Request::get("/v2/person-merges").query("limit", V2_PAGE_LIMIT))
    }

    /// `GET /v2/company-merges/{mergeId}`.
    pub async fn company_merge_v2(&self, id: MergeId) -> Result<Merge, Error> {
        self.json(Request::get(format!("/v2/company-merges/{id}")), "a merge")
            .await
    }

    /// `GET /v2/person-merges/{mergeId}`.
    pub async fn person_merge_v2(&self, id: MergeId) -> Result<Merge, Error> {
        self.json(Request::get(format!("/v2/person-merges/{id}")), "a merge")
            .await
    }

    /// `GET /v2/tasks/company-merges/{taskId}`.
    pub async fn company_merge_task_v2(&self, id: &MergeTaskId) -> Result<MergeTask, Error> {
        self.json(
            Request::get(format!("/v2/tasks/company-merges/{id}")),
            "a merge task",
        )
        .await
    }

    /// `GET /v2/tasks/person-merges/{taskId}`.
    pub async fn person_merge_task_v2(&self, id: &MergeTaskId) -> Result<MergeTask, Error> {
        self.json(
            Request::get(format!("/v2/tasks/person-merges/{id}")),
            "a merge task",
        )
        .await
    }

    // ---- webhooks ----

    /// `GET /v2/webhooks` (beta, 2026-07-15 on).
    pub fn webhooks_v2(&self) -> BoxStream<'static, Result<Webhook, Error>> {
        self.v2_items(Request::get("/v2/webhooks").query("limit", V2_PAGE_LIMIT))
    }
}
