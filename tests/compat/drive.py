#!/usr/bin/env python3
"""Drives three Affinity clients from PyPI against the affsync emulator.

    drive.py BASE_URL API_KEY POSTGRES_URL UNCAPPED_URL

BASE_URL is the emulator's address on 127.0.0.1, serving `fixtures/full-tenant.json` of the
emulator crate (its ids are the ones used below), as an account with a monthly quota;
UNCAPPED_URL is a second one, as an account without (its org rate-limit headers say
`unlimited`); POSTGRES_URL may be empty. Each client is pointed at it and at nothing
else; then each operation the client offers is called once. One line per operation:

    ok    CLIENT OPERATION
    FAIL  CLIENT OPERATION: what went wrong
    BUG   CLIENT OPERATION: the client's own bug, with the line of its code that shows it
    skip  CLIENT OPERATION: why it was not run

and a last line `N passed, N failed` (with `, N skipped` when some were). A client's own bug
is not a failure of the emulator; it is listed, not counted as failed. The exit code is 1 when
anything failed.
"""

import datetime
import os
import sys
import traceback
import types

BASE, KEY = sys.argv[1].rstrip("/"), sys.argv[2]
POSTGRES = sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] else None
UNCAPPED = sys.argv[4].rstrip("/") if len(sys.argv) > 4 and sys.argv[4] else None
for url in (BASE, UNCAPPED):
    if url and not url.startswith("http://127.0.0.1:"):
        sys.exit(f"refusing to drive clients at {url}: only the emulator on 127.0.0.1 is allowed")

results = []  # (state, client, operation, detail)


def record(state, client, op, detail=""):
    results.append((state, client, op, detail))
    line = f"{state:<5} {client} {op}"
    print(f"{line}: {detail}" if detail else line, flush=True)


def drain(value):
    """Consumes iterators and generators, so that lazy paging really runs."""
    if isinstance(value, (types.GeneratorType,)) or (
        hasattr(value, "__iter__") and hasattr(value, "__next__")
    ):
        return list(value)
    return value


def run(client, op, fn, bugs=None):
    """Calls `fn`. `bugs` maps an operation to the client's own bug that stops it, as
    `(reason, signature)`: a failure is put down to the bug only when its message holds the
    signature, so another failure of the same operation is still a failure."""
    known, signature = (bugs or {}).get(op, (None, None))
    try:
        drain(fn())
    except Exception as e:  # noqa: BLE001 - every failure is reported, none hidden
        if known and signature in f"{type(e).__name__}: {e}":
            record("BUG", client, op, known)
            return
        detail = f"{type(e).__name__}: {e}".replace("\n", " ")[:400]
        tb = traceback.extract_tb(e.__traceback__)
        if tb:
            detail += f" (at {os.path.basename(tb[-1].filename)}:{tb[-1].lineno})"
        record("FAIL", client, op, detail)
        return
    if known:
        record("ok", client, op, f"passed although listed as a client bug ({known})")
    else:
        record("ok", client, op)


# ------------------------------------------------------------------------ affinity-sdk

def drive_sdk():
    import affinity
    from affinity.models import (
        CompanyCreate, CompanyUpdate, FieldCreate, FieldValueCreate, InteractionCreate, InteractionUpdate,
        ListCreate, NoteCreate, NoteUpdate, OpportunityCreate, OpportunityUpdate, PersonCreate,
        PersonUpdate, ReminderCreate, ReminderUpdate, WebhookCreate, WebhookUpdate,
    )
    from affinity.models import types as t

    sdk = affinity.Affinity(
        api_key=KEY,
        v1_base_url=BASE,
        v2_base_url=f"{BASE}/v2",
        enable_beta_endpoints=True,
        max_retries=1,
        timeout=10.0,
    )
    C = "affinity-sdk"
    co, pe, op, li, en = t.CompanyId(201), t.PersonId(101), t.OpportunityId(401), t.ListId(301), t.ListEntryId(601)
    now = datetime.datetime.now(datetime.timezone.utc)
    year_ago = now - datetime.timedelta(days=364)
    ops = [
        ("auth.whoami", lambda: sdk.auth.whoami()),
        ("whoami", lambda: sdk.whoami()),
        ("rate_limits.refresh", lambda: sdk.rate_limits.refresh()),
        ("rate_limits.snapshot", lambda: sdk.rate_limits.snapshot()),
        # companies
        ("companies.list", lambda: sdk.companies.list()),
        ("companies.all", lambda: sdk.companies.all()),
        ("companies.iter", lambda: sdk.companies.iter()),
        ("companies.get", lambda: sdk.companies.get(co)),
        ("companies.get_many", lambda: sdk.companies.get_many([co, t.CompanyId(202)])),
        ("companies.get_fields", lambda: sdk.companies.get_fields()),
        ("companies.get_field_values", lambda: sdk.companies.get_field_values(co)),
        ("companies.get_list_entries", lambda: sdk.companies.get_list_entries(co)),
        ("companies.get_lists", lambda: sdk.companies.get_lists(co)),
        ("companies.get_field_dropdown_options", lambda: sdk.companies.get_field_dropdown_options(t.FieldId(511))),
        ("companies.list_notes", lambda: sdk.companies.list_notes(co)),
        ("companies.list_relationships", lambda: sdk.companies.list_relationships(co)),
        ("companies.list_coworker_connections", lambda: sdk.companies.list_coworker_connections(co)),
        ("companies.list_investor_executive_connections", lambda: sdk.companies.list_investor_executive_connections(co)),
        ("companies.list_duplicate_suggestions", lambda: sdk.companies.list_duplicate_suggestions()),
        ("companies.list_merges", lambda: sdk.companies.list_merges()),
        ("companies.get_associated_person_ids", lambda: sdk.companies.get_associated_person_ids(co)),
        ("companies.get_associated_opportunity_ids", lambda: sdk.companies.get_associated_opportunity_ids(co)),
        ("companies.search", lambda: sdk.companies.search("analytical")),
        ("companies.semantic_search", lambda: sdk.companies.semantic_search("analytical engines")),
        ("companies.create", lambda: sdk.companies.create(CompanyCreate(name="Difference Co", domain="difference.example"))),
        ("companies.update", lambda: sdk.companies.update(t.CompanyId(205), CompanyUpdate(name="Engine Works Ltd"))),
        ("companies.update_field_value", lambda: sdk.companies.update_field_value(202, "field-511", {"dropdownOptionId": 22}, value_type="dropdown")),
        ("companies.get_field_value", lambda: sdk.companies.get_field_value(201, "field-511")),
        ("companies.list_field_value_items", lambda: sdk.companies.list_field_value_items(201, "field-511")),
        ("companies.batch_update_fields", lambda: sdk.companies.batch_update_fields(co, {"field-512": {"city": "Oxford", "country": "United Kingdom"}}, value_types={"field-512": "location"})),
        ("companies.merge", lambda: sdk.companies.merge(t.CompanyId(202), t.CompanyId(206))),
        # persons
        ("persons.list", lambda: sdk.persons.list()),
        ("persons.all", lambda: sdk.persons.all()),
        ("persons.get", lambda: sdk.persons.get(pe)),
        ("persons.get_fields", lambda: sdk.persons.get_fields()),
        ("persons.get_field_values", lambda: sdk.persons.get_field_values(pe)),
        ("persons.get_list_entries", lambda: sdk.persons.get_list_entries(t.PersonId(102))),
        ("persons.get_lists", lambda: sdk.persons.get_lists(t.PersonId(102))),
        ("persons.list_notes", lambda: sdk.persons.list_notes(pe)),
        ("persons.list_relationships", lambda: sdk.persons.list_relationships(pe)),
        ("persons.list_duplicate_suggestions", lambda: sdk.persons.list_duplicate_suggestions()),
        ("persons.list_merges", lambda: sdk.persons.list_merges()),
        ("persons.get_associated_company_ids", lambda: sdk.persons.get_associated_company_ids(pe)),
        ("persons.search", lambda: sdk.persons.search("lovelace")),
        ("persons.create", lambda: sdk.persons.create(PersonCreate(first_name="Emmy", last_name="Noether", emails=["emmy@example.com"]))),
        ("persons.update", lambda: sdk.persons.update(t.PersonId(103), PersonUpdate(last_name="M. Turing"))),
        ("persons.merge", lambda: sdk.persons.merge(t.PersonId(102), t.PersonId(106))),
        # lists
        ("lists.list", lambda: sdk.lists.list()),
        ("lists.all", lambda: sdk.lists.all()),
        ("lists.get", lambda: sdk.lists.get(li)),
        ("lists.get_fields", lambda: sdk.lists.get_fields(li)),
        ("lists.get_size", lambda: sdk.lists.get_size(li)),
        ("lists.resolve", lambda: sdk.lists.resolve(name="Deal Flow")),
        ("lists.get_saved_views", lambda: sdk.lists.get_saved_views(li)),
        ("lists.get_saved_view", lambda: sdk.lists.get_saved_view(li, t.SavedViewId(951))),
        ("lists.get_field_dropdown_options", lambda: sdk.lists.get_field_dropdown_options(li, t.FieldId(506))),
        ("lists.create", lambda: sdk.lists.create(ListCreate(name="Angels", type=t.ListType.PERSON, is_public=True))),
        ("lists.entries.list", lambda: sdk.lists.entries(li).list()),
        ("lists.entries.all", lambda: sdk.lists.entries(li).all()),
        ("lists.entries.get", lambda: sdk.lists.entries(li).get(en)),
        # opportunities
        ("opportunities.list", lambda: sdk.opportunities.list()),
        ("opportunities.get", lambda: sdk.opportunities.get(op)),
        ("opportunities.get_details", lambda: sdk.opportunities.get_details(op)),
        ("opportunities.get_associations", lambda: sdk.opportunities.get_associations(op)),
        ("opportunities.list_notes", lambda: sdk.opportunities.list_notes(op)),
        ("opportunities.create", lambda: sdk.opportunities.create(OpportunityCreate(name="Cobol seed", list_id=t.ListId(303)))),
        ("opportunities.update", lambda: sdk.opportunities.update(op, OpportunityUpdate(name="Analytical Series A1"))),
        # notes
        ("notes.list", lambda: sdk.notes.list()),
        ("notes.get", lambda: sdk.notes.get(t.NoteId(802))),
        ("notes.list_replies", lambda: sdk.notes.list_replies(t.NoteId(802))),
        ("notes.list_attached_persons", lambda: sdk.notes.list_attached_persons(t.NoteId(802))),
        ("notes.list_attached_companies", lambda: sdk.notes.list_attached_companies(t.NoteId(802))),
        ("notes.list_attached_opportunities", lambda: sdk.notes.list_attached_opportunities(t.NoteId(804))),
        ("notes.search", lambda: sdk.notes.search("founders")),
        ("notes.create", lambda: sdk.notes.create(NoteCreate(content="From the SDK", person_ids=[pe]))),
        ("notes.update", lambda: sdk.notes.update(t.NoteId(801), NoteUpdate(content="Edited by the SDK"))),
        ("notes.delete", lambda: sdk.notes.delete(t.NoteId(803))),
        # reminders
        ("reminders.list", lambda: sdk.reminders.list()),
        ("reminders.get", lambda: sdk.reminders.get(t.ReminderIdType(991))),
        ("reminders.create", lambda: sdk.reminders.create(ReminderCreate(owner_id=t.UserId(1), type=t.ReminderType.ONE_TIME, due_date=now + datetime.timedelta(days=30), person_id=pe))),
        ("reminders.update", lambda: sdk.reminders.update(t.ReminderIdType(991), ReminderUpdate(content="Send the new deck"))),
        ("reminders.delete", lambda: sdk.reminders.delete(t.ReminderIdType(992))),
        # webhooks
        ("webhooks.create", lambda: sdk.webhooks.create(WebhookCreate(url="http://127.0.0.1:9/sdk", subscriptions=["person.created"]))),
        ("webhooks.list", lambda: sdk.webhooks.list()),
        ("webhooks.get", lambda: sdk.webhooks.get(sdk.webhooks.list().data[0].id)),
        ("webhooks.update", lambda: sdk.webhooks.update(sdk.webhooks.list().data[0].id, WebhookUpdate(url="http://127.0.0.1:9/sdk2"))),
        ("webhooks.delete", lambda: sdk.webhooks.delete(sdk.webhooks.list().data[0].id)),
        # interactions
        ("interactions.list", lambda: sdk.interactions.list(type=t.InteractionType.CALL, start_time=year_ago, end_time=now, person_id=pe)),
        ("interactions.get", lambda: sdk.interactions.get(t.InteractionId(901), t.InteractionType.CALL)),
        ("interactions.list_emails", lambda: sdk.interactions.list_emails()),
        ("interactions.list_calls", lambda: sdk.interactions.list_calls()),
        ("interactions.list_meetings", lambda: sdk.interactions.list_meetings()),
        ("interactions.list_chat_messages", lambda: sdk.interactions.list_chat_messages()),
        ("interactions.get_meeting", lambda: sdk.interactions.get_meeting(902)),
        ("interactions.create", lambda: sdk.interactions.create(InteractionCreate(type=t.InteractionType.CALL, person_ids=[t.PersonId(102)], content="call", date=now - datetime.timedelta(days=1)))),
        # fields and values
        ("fields.list", lambda: sdk.fields.list()),
        ("fields.get_by_name", lambda: sdk.fields.get_by_name("Industry")),
        ("fields.create", lambda: sdk.fields.create(FieldCreate(name="Score", entity_type=t.EntityType.ORGANIZATION, value_type=t.FieldValueType.NUMBER))),
        ("field_values.list", lambda: sdk.field_values.list(company_id=co)),
        ("field_values.create", lambda: sdk.field_values.create(FieldValueCreate(field_id=t.FieldId(521), entity_id=102, value="Rear Admiral"))),
        ("field_values.update", lambda: sdk.field_values.update(t.FieldValueId(705), 44)),
        ("field_values.delete", lambda: sdk.field_values.delete(t.FieldValueId(704))),
        ("field_value_changes.list", lambda: sdk.field_value_changes.list(t.FieldId(501))),
        # files
        ("files.list", lambda: sdk.files.list(company_id=co)),
        ("files.get", lambda: sdk.files.get(t.FileId(981))),
        ("files.download", lambda: sdk.files.download(t.FileId(981))),
        ("files.upload_bytes", lambda: sdk.files.upload_bytes(b"hello", "hello.txt", person_id=pe)),
        ("files.search", lambda: sdk.files.search("term sheet")),
        # the rest
        ("relationships.get", lambda: sdk.relationships.get(pe)),
        ("transcripts.list", lambda: sdk.transcripts.list()),
        ("transcripts.get", lambda: sdk.transcripts.get(961)),
        ("transcripts.fragments", lambda: sdk.transcripts.fragments(961)),
        ("teams.list", lambda: sdk.teams.list()),
        ("teams.get", lambda: sdk.teams.get(971)),
        ("teams.list_members", lambda: sdk.teams.list_members(971)),
        ("teams.list_accessible_lists", lambda: sdk.teams.list_accessible_lists(971)),
        ("users.list", lambda: sdk.users.list()),
        ("users.get", lambda: sdk.users.get(104)),
        ("feedback.send", lambda: sdk.feedback.send("api", "Hello", "From the compatibility suite")),
        ("tasks.list_merge_tasks", lambda: sdk.tasks.list_merge_tasks("company")),
        # the rest of each service: iterators, pages, helpers built on the same routes
        ("companies.iter_page", lambda: sdk.companies.pages(limit=2)),
        ("companies.get_first", lambda: sdk.companies.get_first()),
        ("companies.resolve", lambda: sdk.companies.resolve(domain="analytical.io")),
        ("companies.search_all", lambda: sdk.companies.search_all("engine")),
        ("companies.search_pages", lambda: sdk.companies.search_pages("engine")),
        ("companies.find", lambda: sdk.companies.find(term="analytical")),
        ("companies.iter_find", lambda: sdk.companies.iter_find(term="analytical")),
        ("companies.find_body", lambda: sdk.companies.find_body({"search": {"term": "cobol"}})),
        ("companies.get_associated_people", lambda: sdk.companies.get_associated_people(co)),
        ("companies.get_associated_person_ids_batch", lambda: sdk.companies.get_associated_person_ids_batch([co])),
        ("companies.get_associated_opportunity_ids_batch", lambda: sdk.companies.get_associated_opportunity_ids_batch([co])),
        ("companies.iter_coworker_connections", lambda: sdk.companies.iter_coworker_connections(co)),
        ("companies.iter_investor_executive_connections", lambda: sdk.companies.iter_investor_executive_connections(co)),
        ("companies.iter_duplicate_suggestions", lambda: sdk.companies.iter_duplicate_suggestions()),
        ("companies.iter_field_value_items", lambda: sdk.companies.iter_field_value_items(201, "field-511")),
        ("companies.iter_merges", lambda: sdk.companies.iter_merges()),
        ("companies.iter_notes", lambda: sdk.companies.iter_notes(co)),
        ("companies.iter_relationships", lambda: sdk.companies.iter_relationships(co)),
        ("companies.get_merge_state", lambda: sdk.companies.get_merge_state(sdk.companies.list_merges().data[0].id)),
        ("companies.get_merge_status", lambda: sdk.companies.get_merge_status(sdk.companies.list_merges().data[0].task_id)),
        ("persons.iter", lambda: sdk.persons.iter()),
        ("persons.pages", lambda: sdk.persons.pages(limit=2)),
        ("persons.get_first", lambda: sdk.persons.get_first()),
        ("persons.resolve", lambda: sdk.persons.resolve(email="ada@analytical.io")),
        ("persons.resolve_all", lambda: sdk.persons.resolve_all(name="Grace Hopper")),
        ("persons.search_all", lambda: sdk.persons.search_all("ada")),
        ("persons.search_pages", lambda: sdk.persons.search_pages("ada")),
        ("persons.find", lambda: sdk.persons.find(term="lovelace")),
        ("persons.iter_find", lambda: sdk.persons.iter_find(term="lovelace")),
        ("persons.find_body", lambda: sdk.persons.find_body({"search": {"term": "hopper"}})),
        ("persons.get_field_value", lambda: sdk.persons.get_field_value(101, "field-521")),
        ("persons.update_field_value", lambda: sdk.persons.update_field_value(101, "field-521", "Countess")),
        ("persons.batch_update_fields", lambda: sdk.persons.batch_update_fields(pe, {"field-521": "Countess of Lovelace"})),
        ("persons.get_field_dropdown_options", lambda: sdk.persons.get_field_dropdown_options("field-523")),
        ("persons.list_field_value_items", lambda: sdk.persons.list_field_value_items(101, "field-523")),
        ("persons.iter_field_value_items", lambda: sdk.persons.iter_field_value_items(101, "field-523")),
        ("persons.get_associated_opportunity_ids", lambda: sdk.persons.get_associated_opportunity_ids(pe)),
        ("persons.get_associated_company_ids_batch", lambda: sdk.persons.get_associated_company_ids_batch([pe])),
        ("persons.get_associated_opportunity_ids_batch", lambda: sdk.persons.get_associated_opportunity_ids_batch([pe])),
        ("persons.iter_duplicate_suggestions", lambda: sdk.persons.iter_duplicate_suggestions()),
        ("persons.iter_merges", lambda: sdk.persons.iter_merges()),
        ("persons.iter_notes", lambda: sdk.persons.iter_notes(pe)),
        ("persons.iter_relationships", lambda: sdk.persons.iter_relationships(pe)),
        ("persons.get_merge_state", lambda: sdk.persons.get_merge_state(sdk.persons.list_merges().data[0].id)),
        ("persons.get_merge_status", lambda: sdk.persons.get_merge_status(sdk.persons.list_merges().data[0].task_id)),
        ("lists.iter", lambda: sdk.lists.iter()),
        ("lists.pages", lambda: sdk.lists.pages(limit=1)),
        ("lists.get_first", lambda: sdk.lists.get_first()),
        ("lists.resolve_all", lambda: sdk.lists.resolve_all(name="Deal Flow")),
        ("lists.saved_views_all", lambda: sdk.lists.saved_views_all(li)),
        ("lists.saved_views_pages", lambda: sdk.lists.saved_views_pages(li)),
        ("lists.get_field_dropdown_option", lambda: sdk.lists.get_field_dropdown_option(li, "field-506", 11)),
        ("lists.create_field_dropdown_option", lambda: sdk.lists.create_field_dropdown_option(li, "field-506", option_type="dropdown", text="Robotics")),
        ("lists.update_field_dropdown_option", lambda: sdk.lists.update_field_dropdown_option(li, "field-506", 13, text="Climate tech")),
        ("lists.delete_field_dropdown_option", lambda: sdk.lists.delete_field_dropdown_option(li, "field-506", 13)),
        ("lists.entries.iter", lambda: sdk.lists.entries(li).iter()),
        ("lists.entries.pages", lambda: sdk.lists.entries(li).pages(limit=2)),
        ("lists.entries.get_first", lambda: sdk.lists.entries(li).get_first()),
        ("lists.entries.find", lambda: sdk.lists.entries(li).find(term="cobol")),
        ("lists.entries.iter_find", lambda: sdk.lists.entries(li).iter_find(term="cobol")),
        ("lists.entries.find_body", lambda: sdk.lists.entries(li).find_body({"search": {"term": "cobol"}})),
        ("lists.entries.find_company", lambda: sdk.lists.entries(li).find_company(co)),
        ("lists.entries.find_all_company", lambda: sdk.lists.entries(li).find_all_company(co)),
        ("lists.entries.find_person", lambda: sdk.lists.entries(t.ListId(302)).find_person(t.PersonId(102))),
        ("lists.entries.find_all_person", lambda: sdk.lists.entries(t.ListId(302)).find_all_person(t.PersonId(102))),
        ("lists.entries.from_saved_view", lambda: sdk.lists.entries(li).from_saved_view(t.SavedViewId(951))),
        ("lists.entries.get_field_value", lambda: sdk.lists.entries(li).get_field_value(en, "field-501")),
        ("lists.entries.get_field_values", lambda: sdk.lists.entries(li).get_field_values(en)),
        ("lists.entries.list_field_value_items", lambda: sdk.lists.entries(li).list_field_value_items(en, "field-506")),
        ("lists.entries.iter_field_value_items", lambda: sdk.lists.entries(li).iter_field_value_items(en, "field-506")),
        ("lists.entries.list_field_changes", lambda: sdk.lists.entries(li).list_field_changes(en)),
        ("lists.entries.iter_field_changes", lambda: sdk.lists.entries(li).iter_field_changes(en)),
        ("lists.entries.update_field_value", lambda: sdk.lists.entries(li).update_field_value(en, "field-504", "https://analytical.io/")),
        ("lists.entries.batch_update_fields", lambda: sdk.lists.entries(li).batch_update_fields(en, {"field-505": 43})),
        ("lists.entries.add_company", lambda: sdk.lists.entries(li).add_company(t.CompanyId(205))),
        ("lists.entries.ensure_company", lambda: sdk.lists.entries(li).ensure_company(t.CompanyId(205))),
        ("lists.entries.add_person", lambda: sdk.lists.entries(t.ListId(302)).add_person(t.PersonId(103))),
        ("lists.entries.ensure_person", lambda: sdk.lists.entries(t.ListId(302)).ensure_person(t.PersonId(103))),
        ("lists.entries.delete", lambda: sdk.lists.entries(li).delete(t.ListEntryId(604))),
        ("opportunities.all", lambda: sdk.opportunities.all()),
        ("opportunities.iter", lambda: sdk.opportunities.iter()),
        ("opportunities.pages", lambda: sdk.opportunities.pages(limit=1)),
        ("opportunities.get_first", lambda: sdk.opportunities.get_first()),
        ("opportunities.resolve", lambda: sdk.opportunities.resolve(name="Analytical Series A1", list_id=t.ListId(303))),
        ("opportunities.resolve_all", lambda: sdk.opportunities.resolve_all(name="Analytical Series A1", list_id=t.ListId(303))),
        ("opportunities.search", lambda: sdk.opportunities.search("series")),
        ("opportunities.search_all", lambda: sdk.opportunities.search_all("series")),
        ("opportunities.search_pages", lambda: sdk.opportunities.search_pages("series")),
        ("opportunities.get_associated_companies", lambda: sdk.opportunities.get_associated_companies(op)),
        ("opportunities.get_associated_company_ids", lambda: sdk.opportunities.get_associated_company_ids(op)),
        ("opportunities.get_associated_people", lambda: sdk.opportunities.get_associated_people(op)),
        ("opportunities.get_associated_person_ids", lambda: sdk.opportunities.get_associated_person_ids(op)),
        ("opportunities.get_associated_company_ids_batch", lambda: sdk.opportunities.get_associated_company_ids_batch([op])),
        ("opportunities.get_associated_person_ids_batch", lambda: sdk.opportunities.get_associated_person_ids_batch([op])),
        ("opportunities.iter_notes", lambda: sdk.opportunities.iter_notes(op)),
        ("tasks.iter_merge_tasks", lambda: sdk.tasks.iter_merge_tasks("person")),
        ("tasks.get", lambda: sdk.tasks.get(f"{BASE}/v2/tasks/company-merges/{sdk.companies.list_merges().data[0].task_id}")),
        ("tasks.wait", lambda: sdk.tasks.wait(f"{BASE}/v2/tasks/person-merges/{sdk.persons.list_merges().data[0].task_id}", timeout=10)),
        ("transcripts.iter", lambda: sdk.transcripts.iter()),
        ("transcripts.iter_fragments", lambda: sdk.transcripts.iter_fragments(961)),
        ("notes.iter", lambda: sdk.notes.iter()),
        ("notes.feed", lambda: sdk.notes.feed()),
        ("notes.iter_feed", lambda: sdk.notes.iter_feed()),
        ("notes.iter_replies", lambda: sdk.notes.iter_replies(t.NoteId(802))),
        ("notes.iter_attached_persons", lambda: sdk.notes.iter_attached_persons(t.NoteId(802))),
        ("notes.iter_attached_companies", lambda: sdk.notes.iter_attached_companies(t.NoteId(802))),
        ("notes.iter_attached_opportunities", lambda: sdk.notes.iter_attached_opportunities(t.NoteId(804))),
        ("reminders.iter", lambda: sdk.reminders.iter()),
        ("reminders.list_batch", lambda: sdk.reminders.list_batch(person_ids=[pe])),
        ("webhooks.iter", lambda: sdk.webhooks.iter()),
        ("teams.iter", lambda: sdk.teams.iter()),
        ("teams.iter_members", lambda: sdk.teams.iter_members(971)),
        ("teams.iter_accessible_lists", lambda: sdk.teams.iter_accessible_lists(971)),
        ("users.iter", lambda: sdk.users.iter()),
        ("interactions.iter", lambda: sdk.interactions.iter(type=t.InteractionType.MEETING, start_time=year_ago, end_time=now, person_id=pe)),
        ("interactions.iter_emails", lambda: sdk.interactions.iter_emails()),
        ("interactions.iter_calls", lambda: sdk.interactions.iter_calls()),
        ("interactions.iter_meetings", lambda: sdk.interactions.iter_meetings()),
        ("interactions.iter_chat_messages", lambda: sdk.interactions.iter_chat_messages()),
        ("interactions.update", lambda: sdk.interactions.update(t.InteractionId(901), t.InteractionType.CALL, InteractionUpdate(content="Intro call, moved"))),
        ("fields.exists", lambda: sdk.fields.exists("field-511")),
        ("field_values.get_for_entity", lambda: sdk.field_values.get_for_entity("field-511", company_id=co)),
        ("field_values.list_batch", lambda: sdk.field_values.list_batch(company_ids=[co])),
        ("field_value_changes.iter", lambda: sdk.field_value_changes.iter(t.FieldId(501))),
        ("field_value_changes.iter_all", lambda: sdk.field_value_changes.iter_all(t.FieldId(501))),
        ("field_value_changes.list_global", lambda: sdk.field_value_changes.list_global(field_id="field-501")),
        ("field_value_changes.iter_global", lambda: sdk.field_value_changes.iter_global(field_id="field-501")),
        ("files.all", lambda: sdk.files.all(company_id=co)),
        ("files.iter", lambda: sdk.files.iter(company_id=co)),
        ("files.feed", lambda: sdk.files.feed()),
        ("files.iter_feed", lambda: sdk.files.iter_feed()),
        ("files.get_download_url", lambda: sdk.files.get_download_url(t.FileId(981))),
        ("files.download_stream", lambda: sdk.files.download_stream(t.FileId(981))),
        ("files.download_stream_with_info", lambda: sdk.files.download_stream_with_info(t.FileId(981))),
        ("files.download_to", lambda: sdk.files.download_to(t.FileId(981), os.path.join(os.environ.get("TMPDIR", "/tmp"), f"compat-{os.getpid()}.txt"), overwrite=True)),
        ("files.upload", lambda: sdk.files.upload({"file": ("a.txt", b"a")}, person_id=pe)),
        ("files.upload_returning_files", lambda: sdk.files.upload_returning_files({"file": ("b.txt", b"b")}, person_id=pe)),
        ("files.upload_bytes_returning_files", lambda: sdk.files.upload_bytes_returning_files(b"c", "c.txt", person_id=pe)),
        ("files.upload_path", lambda: sdk.files.upload_path(__file__, person_id=pe)),
        ("files.upload_path_returning_files", lambda: sdk.files.upload_path_returning_files(__file__, person_id=pe)),
        ("interactions.delete", lambda: sdk.interactions.delete(t.InteractionId(903), t.InteractionType.CHAT_MESSAGE)),
        ("fields.delete", lambda: sdk.fields.delete(next(f.id for f in sdk.fields.list() if f.name == "Score"))),
        # deletes last: they take records away
        ("opportunities.delete", lambda: sdk.opportunities.delete(op)),
        ("persons.delete", lambda: sdk.persons.delete(t.PersonId(105))),
        ("companies.delete", lambda: sdk.companies.delete(t.CompanyId(205))),
    ]
    for name, fn in ops:
        run(C, name, fn, SDK_BUGS)
    sdk.close()
    if UNCAPPED:
        uncapped = affinity.Affinity(
            api_key=KEY, v1_base_url=UNCAPPED, v2_base_url=f"{UNCAPPED}/v2", max_retries=1
        )
        run(C, "auth.whoami (an account without a monthly cap)", lambda: uncapped.auth.whoami(), SDK_BUGS)
        uncapped.close()


# The affinity-sdk's own bugs found by this suite: operation -> reason and line.
SDK_BUGS = {
    "auth.whoami (an account without a monthly cap)": (
        "every call fails on an account without a monthly cap: RateLimitState.update_from_headers "
        "reads each x-ratelimit-* header with int(), and such an account's org headers say "
        "`unlimited` (the live /rate-limit answer says so; affinity-sync parses it in the headers) "
        "- affinity/clients/http.py:834 `return int(value) if value else None`",
        "'unlimited'",
    ),
}


# ------------------------------------------------------------------------ affinity-sync

def drive_sync():
    from affinity_sync.clients import affinity_base, affinity_v1, affinity_v2

    # The client's addresses are class constants (name-mangled); point them at the emulator.
    affinity_base.AffinityBase._AffinityBase__URL = f"{BASE}/v2/"
    affinity_v1.AffinityClientV1._AffinityClientV1__URL = f"{BASE}/"
    affinity_v2.AffinityClientV2._AffinityClientV2__URL = f"{BASE}/v2/"
    C = "affinity-sync"
    v1 = affinity_v1.AffinityClientV1(KEY)
    v2 = affinity_v2.AffinityClientV2(KEY)
    ops = [
        ("v2.get_companies", lambda: v2.get_companies()),
        ("v2.get_company_fields", lambda: v2.get_company_fields()),
        ("v2.get_list_metadatas", lambda: v2.get_list_metadatas()),
        ("v2.get_list_fields", lambda: v2.get_list_fields(301)),
        ("v2.get_list_entries", lambda: v2.get_list_entries(301)),
        ("v2.get_view_metadatas", lambda: v2.get_view_metadatas(301)),
        ("v2.get_view_entries", lambda: v2.get_view_entries(301, 951)),
        ("v2.get_people_fields", lambda: v2.get_people_fields()),
        ("v2.get_people", lambda: v2.get_people()),
        ("v2.get_single_person", lambda: v2.get_single_person(101)),
        ("v1.fetch_fields", lambda: v1.fetch_fields()),
        ("v1.find_person_by_email", lambda: v1.find_person_by_email("ada@analytical.io")),
        ("v1.find_person_by_name", lambda: v1.find_person_by_name("Ada", "Lovelace")),
        ("v1.find_person_by_id", lambda: v1.find_person_by_id(101)),
        ("v1.find_company_by_id", lambda: v1.find_company_by_id(201)),
        ("v1.find_company_by_domain", lambda: v1.find_company_by_domain("analytical.io")),
        ("v1.find_company_by_name", lambda: v1.find_company_by_name("Cobol Systems")),
        ("v1.fetch_all_list_entries", lambda: v1.fetch_all_list_entries(301)),
        ("v1.fetch_all_entity_files", lambda: v1.fetch_all_entity_files()),
        ("v1.list_notes", lambda: v1.list_notes()),
        ("v1.get_all_webhooks", lambda: v1.get_all_webhooks()),
    ]
    for name, fn in ops:
        run(C, name, fn, SYNC_BUGS)
    if POSTGRES:
        run(C, "sync.run (Postgres)", lambda: full_sync(), SYNC_BUGS)
    else:
        record("skip", C, "sync.run (Postgres)", "no Postgres URL given (AFFSYNC_TEST_POSTGRES_URL)")


def full_sync():
    from urllib.parse import urlsplit

    from affinity_sync import sync

    pg = urlsplit(POSTGRES)
    s = sync.Sync(
        affinity_api_key=KEY,
        db_host=pg.hostname,
        db_port=pg.port or 5432,
        db_name=pg.path.lstrip("/") or "postgres",
        db_user=pg.username or "postgres",
        db_password=pg.password or "",
    )
    s.set_up_syncs()
    s.run()


# affinity-sync's own bugs: its pydantic models forbid unknown keys (extra='forbid',
# affinity_sync/module_types/base.py:8) and lack keys Affinity's current spec requires.
_SYNC_FORBIDS = (
    "its FieldMetadata/ListMetadata models forbid `createdAt`, which every v2 spec digest "
    "requires on field metadata and lists (and `description`/`isRequired`, required since "
    "2026-09-17) - affinity_sync/module_types/base.py:8 `extra='forbid'`, "
    "affinity_sync/module_types/affinity_v2_api.py:{line} `class {cls}(base.Base)` has no `created_at`"
)
SYNC_BUGS = {
    "v2.get_company_fields": (_SYNC_FORBIDS.format(line=64, cls="FieldMetadata"), "createdAt"),
    "v2.get_people_fields": (_SYNC_FORBIDS.format(line=64, cls="FieldMetadata"), "createdAt"),
    "v2.get_list_fields": (_SYNC_FORBIDS.format(line=64, cls="FieldMetadata"), "createdAt"),
    "v2.get_list_metadatas": (_SYNC_FORBIDS.format(line=112, cls="ListMetadata"), "createdAt"),
    "sync.run (Postgres)": (
        "the full sync reads field metadata and lists first: "
        + _SYNC_FORBIDS.format(line=64, cls="FieldMetadata"),
        "createdAt",
    ),
}


# ------------------------------------------------------------------------ dlt-source-affinity

def drive_dlt():
    # The source reads its key from dlt's secrets when its module is imported, and binds its
    # address as a default argument then: both are set before and after the import.
    os.environ["AFFINITY_API_KEY"] = KEY
    import dlt_source_affinity as src
    from dlt_source_affinity import rest_client

    for f in (rest_client.get_v1_rest_client, rest_client.get_v2_rest_client):
        f.__defaults__ = (KEY, BASE)
    C = "dlt-source-affinity"
    source = src.source(
        list_refs=[src.ListReference(301), src.ListReference(302), src.ListReference(301, 951)]
    )
    for name, resource in source.resources.items():
        run(C, f"resource {name}", lambda r=resource: list(r), DLT_BUGS)


DLT_BUGS = {}


def main():
    for name, drive in (("affinity-sdk", drive_sdk), ("affinity-sync", drive_sync), ("dlt-source-affinity", drive_dlt)):
        try:
            drive()
        except Exception as e:  # noqa: BLE001 - a client that cannot start is a failure
            record("FAIL", name, "(setup)", f"{type(e).__name__}: {e}".replace("\n", " ")[:400])
    passed = sum(1 for r in results if r[0] == "ok")
    failed = sum(1 for r in results if r[0] == "FAIL")
    bugs = sum(1 for r in results if r[0] == "BUG")
    skipped = sum(1 for r in results if r[0] == "skip")
    if bugs:
        print(f"{bugs} operations stopped by the clients' own bugs (listed above as BUG)")
    tail = f", {skipped} skipped" if skipped else ""
    print(f"{passed} passed, {failed} failed{tail}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
