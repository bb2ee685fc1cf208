//! The typed client against the real emulator, one test per quirk of affinity-api.md §8
//! (the client's side; the emulator's side is in `emulator_v1.rs` and `emulator_v2.rs`),
//! plus v2 paging and update-fields batches. Every v2 answer is checked against the
//! OpenAPI spec when the `TestEmu` drops.

use affinity_crm::{
    v1, v2, ApiKey, Client, Color, Config, DropdownOptionId, EntityKind, Error, FieldSelection,
    FieldValuesOf, KeySource, Limit, ListEntryId, ListId, OpportunityId, OrganizationId, PersonId,
    Request,
};
use chrono::{DateTime, Utc};
use futures::TryStreamExt;

use crate::common::{TestEmu, KEY};

fn client(t: &TestEmu) -> Client {
    let config = Config::new(ApiKey::new(KEY), KeySource::Code)
        .with_base_url(&t.emu.base_url())
        .unwrap();
    Client::new(config).unwrap()
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// Every page of a v1 paged route with `page_size`, through the client's own paging.
async fn v1_page_ids<T, F>(
    c: &Client,
    path: &str,
    key: &'static str,
    size: u32,
    id: F,
) -> Vec<Vec<i64>>
where
    T: serde::de::DeserializeOwned + Send + 'static,
    F: Fn(&T) -> i64,
{
    let pages: Vec<affinity_crm::V1Page<T>> = c
        .v1_pages(Request::get(path), key, Some(size))
        .try_collect()
        .await
        .unwrap();
    pages
        .iter()
        .map(|p| p.items.iter().map(&id).collect())
        .collect()
}

/// The field `id` among `fields`.
fn field<'a>(fields: &'a [v2::Field], id: &str) -> &'a v2::Field {
    fields
        .iter()
        .find(|f| f.id.0 == id)
        .unwrap_or_else(|| panic!("no field `{id}` in {fields:?}"))
}

/// The emulator's request count for `route` (`METHOD /matched/path`).
async fn emu_count(t: &TestEmu, pick: impl Fn(&str) -> bool) -> u64 {
    let stats = t.get("/_emulator/stats", 200).await;
    stats["routes"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| pick(k))
        .map(|(_, v)| v.as_u64().unwrap())
        .sum()
}

// ---- §8.1 v1 paging ----

#[tokio::test]
async fn v1_paging_walks_three_or_more_pages_to_the_empty_page_with_a_token() {
    let t = TestEmu::start().await;
    let c = client(&t);
    let persons = v1_page_ids(&c, "/persons", "persons", 2, |p: &v1::Person| p.id.0).await;
    // Six persons in pages of two: the third page is full, so it carries a token that
    // leads to an empty page with a null token (§2.2); the client follows it and stops.
    assert_eq!(
        persons,
        vec![vec![1, 101], vec![102, 103], vec![104, 105], vec![]]
    );
    let orgs = v1_page_ids(
        &c,
        "/organizations",
        "organizations",
        1,
        |o: &v1::Organization| o.id.0,
    )
    .await;
    // 204 is a global organization outside the tenant: not listed without `term` (§8.2).
    assert_eq!(
        orgs,
        vec![vec![201], vec![202], vec![203], vec![205], vec![]]
    );
    // Live `/notes` is paged although the docs show a bare array (§8.1).
    let notes = v1_page_ids(&c, "/notes", "notes", 1, |n: &v1::Note| n.id.0).await;
    assert_eq!(notes, vec![vec![801], vec![802], vec![803], vec![]]);

    // Any parameter change between pages is refused (`Invalid page_token variable`,
    // §8.1): the client keeps `term` on every page, so a term search pages to its end.
    let pages: Vec<affinity_crm::V1Page<v1::Person>> = c
        .v1_pages(
            Request::get("/persons").query("term", "a"),
            "persons",
            Some(1),
        )
        .try_collect()
        .await
        .unwrap();
    assert!(pages.len() >= 3, "{pages:?}");
    assert!(pages.last().unwrap().items.is_empty());

    // The typed streams give the same items across their pages.
    let all: Vec<v1::Person> = c.persons_v1(None, &[]).try_collect().await.unwrap();
    let ids: Vec<i64> = all.iter().map(|p| p.id.0).collect();
    assert_eq!(ids, [1, 101, 102, 103, 104, 105]);
    let notes: Vec<v1::Note> = c.notes_v1(None).try_collect().await.unwrap();
    assert_eq!(notes.len(), 3);
}

#[tokio::test]
async fn v1_list_entries_unpaged_bare_array_and_paged_give_the_same_entries() {
    let t = TestEmu::start().await;
    let c = client(&t);
    // Without `page_size` the answer is a bare array: one page, no token (§8.1).
    let bare: Vec<affinity_crm::V1Page<v1::ListEntry>> = c
        .v1_pages(
            Request::get("/lists/301/list-entries"),
            "list_entries",
            None,
        )
        .try_collect()
        .await
        .unwrap();
    assert_eq!(bare.len(), 1);
    assert_eq!(bare[0].next_page_token, None);
    let bare = bare.into_iter().next().unwrap().items;

    let pages: Vec<_> = c
        .list_entry_pages_v1(ListId(301), 1)
        .try_collect()
        .await
        .unwrap();
    let sizes: Vec<usize> = pages.iter().map(|p| p.items.len()).collect();
    assert_eq!(sizes, [1, 1, 1, 1, 0]);
    let paged: Vec<v1::ListEntry> = pages.into_iter().flat_map(|p| p.items).collect();
    assert_eq!(paged, bare);
    let ids: Vec<i64> = paged.iter().map(|e| e.id.0).collect();
    assert_eq!(ids, [601, 602, 603, 604]);
    assert!(matches!(
        &paged[0].entity,
        Some(v1::ListEntity::Organization(o)) if o.id == OrganizationId(201)
    ));
    let streamed: Vec<v1::ListEntry> = c.list_entries_v1(ListId(301)).try_collect().await.unwrap();
    assert_eq!(streamed, bare);
}

// ---- §8.2 term search ----

#[tokio::test]
async fn term_search_includes_global_orgs_outside_the_tenant_so_match_domains_exactly() {
    let t = TestEmu::start().await;
    let c = client(&t);
    let found: Vec<v1::Organization> = c
        .organizations_v1(Some("acme"), &[])
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<i64> = found.iter().map(|o| o.id.0).collect();
    assert!(ids.contains(&203) && ids.contains(&204), "{ids:?}");
    let outside = found.iter().find(|o| o.id.0 == 204).unwrap();
    assert!(outside.global);
    assert_eq!(outside.name, "Acme Outside");

    // The client has no exact-match helper: picking the one organization a record means
    // is the matcher's job (§8.2, DESIGN.md "match"). Here the raw results are enough for
    // a case-insensitive exact domain match to pick the right one.
    let by_domain = |d: &str| -> Vec<i64> {
        found
            .iter()
            .filter(|o| {
                o.domain
                    .iter()
                    .chain(o.domains.iter())
                    .any(|x| x.eq_ignore_ascii_case(d))
            })
            .map(|o| o.id.0)
            .collect()
    };
    assert_eq!(by_domain("ACME.com"), [203]);
    assert_eq!(by_domain("acme-outside.com"), [204]);
    assert!(by_domain("acme").is_empty(), "a substring is not a match");
}

// ---- §8.3 global organizations ----

#[tokio::test]
async fn global_org_is_immutable_and_undeletable() {
    let t = TestEmu::start().await;
    let c = client(&t);
    let rename = v1::OrganizationUpdate {
        name: Some("Acme Renamed".into()),
        ..Default::default()
    };
    match c
        .update_organization_v1(OrganizationId(203), &rename)
        .await
        .unwrap_err()
    {
        Error::Validation {
            status, message, ..
        } => {
            assert_eq!(status, 422);
            assert!(message.contains("global"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    match c
        .delete_organization_v1(OrganizationId(203))
        .await
        .unwrap_err()
    {
        Error::Validation {
            status, message, ..
        } => {
            assert_eq!(status, 422);
            assert!(message.contains("cannot be deleted"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    let still = c.organization_v1(OrganizationId(203)).await.unwrap();
    assert_eq!(still.name, "Acme Global");
    assert!(still.global);
    // What to do instead (§8.3): add the global organization to the list.
    let e = c.add_list_entry_v1(ListId(301), 203).await.unwrap();
    assert_eq!(e.entity_id, 203);
    assert_eq!(c.stats().retries, 0, "a 422 is not retried");
}

// ---- §8.4 merged ----

#[tokio::test]
async fn merged_entity_gives_a_typed_error_with_the_new_id() {
    let t = TestEmu::start().await;
    let c = client(&t);
    let none = FieldSelection::none();
    let errors = [
        (
            c.organization_v1(OrganizationId(299)).await.unwrap_err(),
            EntityKind::Organization,
            299,
            201,
        ),
        (
            c.person_v1(PersonId(199)).await.unwrap_err(),
            EntityKind::Person,
            199,
            101,
        ),
        (
            c.company_v2(OrganizationId(299), &none).await.unwrap_err(),
            EntityKind::Organization,
            299,
            201,
        ),
        (
            c.person_v2(PersonId(199), &none).await.unwrap_err(),
            EntityKind::Person,
            199,
            101,
        ),
    ];
    // A stream under a merged id fails the same way.
    let listed: Result<Vec<v2::ListEntry>, Error> = c
        .company_list_entries_v2(OrganizationId(299))
        .try_collect()
        .await;
    let errors =
        errors
            .into_iter()
            .chain([(listed.unwrap_err(), EntityKind::Organization, 299, 201)]);
    for (e, kind, old, new) in errors {
        match &e {
            Error::Merged {
                entity,
                old_id,
                new_id,
                ..
            } => assert_eq!((*entity, *old_id, *new_id), (kind, old, new), "{e}"),
            other => panic!("{other:?}"),
        }
        assert!(e.to_string().contains(&format!("use id {new}")), "{e}");
    }
    assert_eq!(c.stats().retries, 0);
}

// ---- §8.5 duplicates ----

#[tokio::test]
async fn duplicates_emails_are_unique_but_lists_take_repeat_entries() {
    let t = TestEmu::start().await;
    let c = client(&t);
    let dup = v1::NewPerson {
        first_name: "Ada".into(),
        last_name: "Again".into(),
        emails: vec!["ada@analytical.io".into()],
        organization_ids: None,
    };
    match c.create_person_v1(&dup).await.unwrap_err() {
        Error::Validation {
            status, message, ..
        } => {
            assert_eq!(status, 422);
            assert!(message.contains("ada@analytical.io"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    // Org 201 is on list 301 twice already (601, 603); a third add is a new entry.
    let added = c.add_list_entry_v1(ListId(301), 201).await.unwrap();
    assert!(added.id.0 > 604, "{added:?}");
    let entries: Vec<v2::ListEntryWithEntity> = c
        .list_entries_v2(ListId(301), &FieldSelection::none())
        .try_collect()
        .await
        .unwrap();
    let of_201: Vec<i64> = entries
        .iter()
        .filter(|e| matches!(&e.entity, v2::Entity::Company(co) if co.id.0 == 201))
        .map(|e| e.id.0)
        .collect();
    assert_eq!(of_201, [601, 603, added.id.0]);
}

// ---- §8.6 replace semantics ----

#[tokio::test]
async fn replace_semantics_put_emails_replaces_the_whole_set() {
    let t = TestEmu::start().await;
    let c = client(&t);
    let before = c.person_v1(PersonId(101)).await.unwrap();
    assert_eq!(before.emails, ["ada@analytical.io", "ada.l@gmail.com"]);
    let update = v1::PersonUpdate {
        emails: Some(vec!["ada@newmail.io".into()]),
        organization_ids: Some(vec![OrganizationId(202)]),
        ..Default::default()
    };
    let answer = c.update_person_v1(PersonId(101), &update).await.unwrap();
    assert_eq!(answer.emails, ["ada@newmail.io"]);
    let read = c.person_v1(PersonId(101)).await.unwrap();
    assert_eq!(read.emails, ["ada@newmail.io"], "not appended: replaced");
    assert_eq!(read.organization_ids, Some(vec![OrganizationId(202)]));
    let v2 = c
        .person_v2(PersonId(101), &FieldSelection::none())
        .await
        .unwrap();
    assert_eq!(v2.email_addresses, ["ada@newmail.io"]);
    // The old address is free again.
    let p = c
        .create_person_v1(&v1::NewPerson {
            first_name: "New".into(),
            last_name: "Owner".into(),
            emails: vec!["ada.l@gmail.com".into()],
            organization_ids: None,
        })
        .await
        .unwrap();
    assert_eq!(p.emails, ["ada.l@gmail.com"]);
}

// ---- §8.7 dates ----

#[tokio::test]
async fn dates_written_in_v2_read_as_the_same_instant_in_v1_and_v2() {
    let t = TestEmu::start().await;
    let c = client(&t);
    let written = at("2024-04-01T15:30:00Z");
    // Midnight US Pacific of that day (§8.7).
    let stored = at("2024-04-01T07:00:00Z");
    let f503 = v2::FieldId::from_v1(affinity_crm::FieldId(503));
    c.set_list_entry_field_v2(
        ListId(301),
        ListEntryId(602),
        &f503,
        v2::FieldValue::Datetime(Some(written)),
    )
    .await
    .unwrap();
    let updates = [v2::FieldUpdate {
        id: f503.clone(),
        value: v2::FieldValue::Datetime(Some(written)),
    }];
    let calls = c
        .update_list_entry_fields_v2(ListId(301), ListEntryId(603), &updates)
        .await
        .unwrap();
    assert_eq!(calls, 1);

    for entry in [602, 603] {
        let v1_values = c
            .field_values_v1(FieldValuesOf::ListEntry(ListEntryId(entry)))
            .await
            .unwrap();
        let v1_date = v1_values
            .iter()
            .find(|v| v.field_id.0 == 503)
            .unwrap_or_else(|| panic!("{entry}: no 503 in {v1_values:?}"));
        // v1 carries a local offset (§8.7) ...
        let raw = v1_date.raw_value.as_str().unwrap();
        assert!(raw.ends_with("-07:00"), "{raw}");
        let v1_instant = match v1_date.typed(v1::ValueType::Date) {
            v1::Value::Date(d) => d,
            other => panic!("{other:?}"),
        };
        // ... v2 uses `Z`: the parsed instants are equal.
        let v2_fields: Vec<v2::Field> = c
            .list_entry_fields_v2(ListId(301), ListEntryId(entry))
            .try_collect()
            .await
            .unwrap();
        let v2_instant = match &field(&v2_fields, "field-503").value {
            v2::FieldValue::Datetime(Some(d)) => *d,
            other => panic!("{other:?}"),
        };
        assert_eq!(v1_instant, v2_instant, "{entry}");
        assert_eq!(v1_instant, stored, "{entry}");
    }
}

// §8.8 eventual consistency (v2 stale for ~100-500 ms after a v1 write) has no test: the
// emulator is consistent, so a test could not fail. The client's answer is to use the
// write response, which the tests above do.

// ---- §8.9 notes ----

#[tokio::test]
async fn notes_underscores_come_back_escaped_and_the_client_decodes_them() {
    let t = TestEmu::start().await;
    let c = client(&t);
    let note = c
        .create_note_v1(&v1::NewNote {
            content: "see snake_case_name".into(),
            person_ids: vec![PersonId(103)],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(note.content.as_deref(), Some("see snake\\_case\\_name"));
    assert_eq!(note.text().as_deref(), Some("see snake_case_name"));
    let read = c.note_v1(note.id).await.unwrap();
    assert_eq!(read.text().as_deref(), Some("see snake_case_name"));
    let updated = c.update_note_v1(note.id, "a_b and a\\_c").await.unwrap();
    assert_eq!(updated.text().as_deref(), Some("a_b and a_c"));
}

// ---- §8.10 types ----

#[tokio::test]
async fn types_ranked_dropdown_by_option_id_color_string_in_v2_int_in_v1() {
    let t = TestEmu::start().await;
    let c = client(&t);
    let f501 = v2::FieldId::from("field-501");
    c.set_list_entry_field_v2(
        ListId(301),
        ListEntryId(601),
        &f501,
        v2::FieldValue::RankedDropdown(Some(v2::RankedDropdown {
            dropdown_option_id: DropdownOptionId(3),
            text: None,
            rank: None,
            color: None,
        })),
    )
    .await
    .unwrap();
    let fields: Vec<v2::Field> = c
        .list_entry_fields_v2(ListId(301), ListEntryId(601))
        .try_collect()
        .await
        .unwrap();
    match &field(&fields, "field-501").value {
        v2::FieldValue::RankedDropdown(Some(r)) => {
            assert_eq!(r.dropdown_option_id, DropdownOptionId(3));
            assert_eq!(r.text.as_deref(), Some("Closed"));
            assert!(matches!(r.color, Some(Color::Name(_))), "{r:?}");
        }
        other => panic!("{other:?}"),
    }
    let values = c
        .field_values_v1(FieldValuesOf::ListEntry(ListEntryId(601)))
        .await
        .unwrap();
    let v = values.iter().find(|v| v.field_id.0 == 501).unwrap();
    match v.typed(v1::ValueType::RankedDropdown) {
        v1::Value::RankedDropdown(o) => {
            assert_eq!(o.id, DropdownOptionId(3));
            assert_eq!(o.text, "Closed");
            assert_eq!(o.color, Some(Color::Code(3)));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn types_unlimited_quotas_decode() {
    let t = TestEmu::start().await;
    let c = client(&t);
    let rl = c.rate_limit_v1().await.unwrap();
    // The test tenant has no monthly quota: v1 says `"unlimited"` (§8.10, §4).
    assert_eq!(rl.rate.org_monthly.limit, Limit::Unlimited);
    assert_eq!(rl.rate.org_monthly.remaining, Limit::Unlimited);
    assert!(rl.rate.api_key_per_minute.limit.count().is_some());
    // v2 leaves `orgPerMonth` out when no monthly quota applies (§4).
    let rl2 = c.rate_limit_v2().await.unwrap();
    assert!(
        rl2.org_per_month
            .as_ref()
            .is_none_or(|q| q.limit == Limit::Unlimited),
        "{rl2:?}"
    );
    assert!(rl2.caller_per_minute.limit.count().is_some());
}

#[tokio::test]
async fn types_empty_v2_multi_values_decode_as_none() {
    let t = TestEmu::start().await;
    let c = client(&t);
    let co = c
        .company_v2(
            OrganizationId(201),
            &FieldSelection::ids([v2::FieldId::from("field-514")]),
        )
        .await
        .unwrap();
    assert_eq!(
        field(&co.fields, "field-514").value,
        v2::FieldValue::FilterableTextMulti(None)
    );
    // 603 is the second entry of org 201: its multi list fields are empty (`null`).
    let fields: Vec<v2::Field> = c
        .list_entry_fields_v2(ListId(301), ListEntryId(603))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        field(&fields, "field-506").value,
        v2::FieldValue::DropdownMulti(None)
    );
    assert_eq!(
        field(&fields, "field-507").value,
        v2::FieldValue::CompanyMulti(None)
    );
    assert!(field(&fields, "field-507").value.is_empty());
    // 601's are filled.
    let fields: Vec<v2::Field> = c
        .list_entry_fields_v2(ListId(301), ListEntryId(601))
        .try_collect()
        .await
        .unwrap();
    match &field(&fields, "field-506").value {
        v2::FieldValue::DropdownMulti(Some(d)) => assert_eq!(d.len(), 2),
        other => panic!("{other:?}"),
    }
}

// ---- §8.11 side effects ----

#[tokio::test]
async fn side_effects_deleting_an_opportunity_list_entry_deletes_the_opportunity() {
    let t = TestEmu::start().await;
    let c = client(&t);
    assert_eq!(
        c.opportunity_v1(OpportunityId(401)).await.unwrap().name,
        "Analytical Series A"
    );
    c.delete_list_entry_v1(ListId(303), ListEntryId(621))
        .await
        .unwrap();
    let e = c.opportunity_v1(OpportunityId(401)).await.unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e:?}");
    let e = c.opportunity_v2(OpportunityId(401)).await.unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e:?}");
    let left: Vec<v2::Opportunity> = c
        .opportunities_v2(&[OpportunityId(401)])
        .try_collect()
        .await
        .unwrap();
    assert!(left.is_empty(), "{left:?}");
}

// ---- v2 paging and batches ----

#[tokio::test]
async fn v2_paging_across_three_or_more_pages_with_field_data() {
    let t = TestEmu::start().await;
    let c = client(&t);
    let r = Request::get("/v2/lists/301/list-entries")
        .query("limit", 1)
        .query("fieldIds", "field-501");
    let pages: Vec<v2::Page<v2::ListEntryWithEntity>> = c.v2_pages(r).try_collect().await.unwrap();
    assert_eq!(pages.len(), 4);
    let mut status = vec![];
    for p in &pages {
        assert_eq!(p.data.len(), 1);
        let e = &p.data[0];
        let text = match &field(e.entity.fields(), "field-501").value {
            v2::FieldValue::RankedDropdown(r) => r.as_ref().and_then(|r| r.text.clone()),
            other => panic!("{other:?}"),
        };
        status.push((e.id.0, text));
    }
    assert_eq!(
        status,
        [
            (601, Some("Diligence".to_string())),
            (602, Some("New".to_string())),
            (603, None),
            (604, None),
        ]
    );
    assert!(pages.last().unwrap().pagination.next_url.is_none());

    let r = Request::get("/v2/companies")
        .query("limit", 1)
        .query("fieldIds", "field-511");
    let pages: Vec<v2::Page<v2::Company>> = c.v2_pages(r).try_collect().await.unwrap();
    let ids: Vec<Vec<i64>> = pages
        .iter()
        .map(|p| p.data.iter().map(|co| co.id.0).collect())
        .collect();
    assert_eq!(ids, [vec![201], vec![202], vec![203], vec![205]]);
    match &field(&pages[0].data[0].fields, "field-511").value {
        v2::FieldValue::Dropdown(Some(d)) => assert_eq!(d.text.as_deref(), Some("Software")),
        other => panic!("{other:?}"),
    }
    // The items stream gives the same companies.
    let all: Vec<v2::Company> = c
        .companies_v2(&[], &FieldSelection::none())
        .try_collect()
        .await
        .unwrap();
    let flat: Vec<i64> = ids.into_iter().flatten().collect();
    assert_eq!(all.iter().map(|co| co.id.0).collect::<Vec<_>>(), flat);
}

#[tokio::test]
async fn v2_update_fields_over_100_updates_go_in_batches() {
    let t = TestEmu::start().await;
    let c = client(&t);
    let is_patch = |k: &str| {
        k.starts_with("PATCH /v2/lists/") && k.ends_with("/fields") && k.contains("list-entries")
    };
    let before_emu = emu_count(&t, is_patch).await;
    let before = c.stats().calls;
    let updates: Vec<v2::FieldUpdate> = (0..250)
        .map(|i| v2::FieldUpdate {
            id: v2::FieldId::from("field-504"),
            value: v2::FieldValue::Text(Some(format!("https://v{i}.example"))),
        })
        .collect();
    let calls = c
        .update_list_entry_fields_v2(ListId(301), ListEntryId(601), &updates)
        .await
        .unwrap();
    assert_eq!(calls, 3);
    assert_eq!(c.stats().calls - before, 3);
    assert_eq!(emu_count(&t, is_patch).await - before_emu, 3);
    let fields: Vec<v2::Field> = c
        .list_entry_fields_v2(ListId(301), ListEntryId(601))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        field(&fields, "field-504").value,
        v2::FieldValue::Text(Some("https://v249.example".into()))
    );
}

/// Every read endpoint of the client decodes the emulator's answer (a decode error here is
/// a mismatch between the two halves, met in production as a failed pull).
#[tokio::test]
async fn every_read_endpoint_decodes_the_emulators_answers() {
    let t = TestEmu::start().await;
    let c = client(&t);
    let all = FieldSelection::types(&["enriched", "global", "relationship-intelligence"]);
    c.whoami_v1().await.unwrap();
    c.whoami_v2().await.unwrap();
    assert_eq!(c.lists_v1().await.unwrap().len(), 3);
    let list = c.list_v1(ListId(301)).await.unwrap();
    assert_eq!(list.fields.map(|f| f.len()), Some(7));
    c.list_entry_v1(ListId(301), ListEntryId(601))
        .await
        .unwrap();
    assert!(!c.fields_v1(&[]).await.unwrap().is_empty());
    assert!(!c.person_fields_v1().await.unwrap().is_empty());
    assert!(!c.organization_fields_v1().await.unwrap().is_empty());
    for of in [
        FieldValuesOf::Person(PersonId(101)),
        FieldValuesOf::Organization(OrganizationId(201)),
        FieldValuesOf::Opportunity(OpportunityId(401)),
        FieldValuesOf::ListEntry(ListEntryId(601)),
    ] {
        c.field_values_v1(of).await.unwrap();
    }
    c.field_value_changes_v1(affinity_crm::FieldId(501), None)
        .await
        .unwrap();
    c.person_v1(PersonId(101)).await.unwrap();
    c.organization_v1(OrganizationId(201)).await.unwrap();
    let opps: Vec<v1::Opportunity> = c.opportunities_v1(None).try_collect().await.unwrap();
    assert_eq!(opps.len(), 1);
    c.note_v1(affinity_crm::NoteId(802)).await.unwrap();

    let companies: Vec<v2::Company> = c.companies_v2(&[], &all).try_collect().await.unwrap();
    assert_eq!(companies.len(), 4);
    c.company_v2(OrganizationId(201), &all).await.unwrap();
    let _: Vec<v2::FieldMetadata> = c.company_fields_v2().try_collect().await.unwrap();
    let _: Vec<v2::ListEntry> = c
        .company_list_entries_v2(OrganizationId(201))
        .try_collect()
        .await
        .unwrap();
    let persons: Vec<v2::Person> = c.persons_v2(&[], &all).try_collect().await.unwrap();
    assert!(persons.len() >= 5);
    c.person_v2(PersonId(101), &all).await.unwrap();
    let _: Vec<v2::FieldMetadata> = c.person_fields_v2().try_collect().await.unwrap();
    let _: Vec<v2::ListEntry> = c
        .person_list_entries_v2(PersonId(104))
        .try_collect()
        .await
        .unwrap();
    let _: Vec<v2::Opportunity> = c.opportunities_v2(&[]).try_collect().await.unwrap();
    c.opportunity_v2(OpportunityId(401)).await.unwrap();
    let lists: Vec<v2::List> = c.lists_v2().try_collect().await.unwrap();
    assert_eq!(lists.len(), 3);
    c.list_v2(ListId(303)).await.unwrap();
    for list in [301, 302, 303] {
        let _: Vec<v2::FieldMetadata> = c.list_fields_v2(ListId(list)).try_collect().await.unwrap();
        let entries: Vec<v2::ListEntryWithEntity> = c
            .list_entries_v2(ListId(list), &FieldSelection::types(&["list", "global"]))
            .try_collect()
            .await
            .unwrap();
        assert!(!entries.is_empty(), "{list}");
    }
    c.list_entry_v2(ListId(303), ListEntryId(621))
        .await
        .unwrap();
    let notes: Vec<v2::Note> = c.notes_v2().try_collect().await.unwrap();
    assert_eq!(notes.len(), 3);
    c.note_v2(affinity_crm::NoteId(801)).await.unwrap();
    let _: Vec<v2::Note> = c
        .person_notes_v2(PersonId(101))
        .try_collect()
        .await
        .unwrap();
    let _: Vec<v2::Note> = c
        .company_notes_v2(OrganizationId(201))
        .try_collect()
        .await
        .unwrap();
}

/// Every write endpoint of the client is taken by the emulator and its answer decodes.
#[tokio::test]
async fn every_write_endpoint_round_trips_through_the_emulator() {
    let t = TestEmu::start().await;
    let c = client(&t);
    let org = c
        .create_organization_v1(&v1::NewOrganization {
            name: "Babbage Labs".into(),
            domain: Some("babbage.dev".into()),
            person_ids: None,
        })
        .await
        .unwrap();
    assert!(!org.global);
    let opp = c
        .create_opportunity_v1(&v1::NewOpportunity {
            name: "Babbage Seed".into(),
            list_id: ListId(303),
            person_ids: None,
            organization_ids: Some(vec![org.id]),
        })
        .await
        .unwrap();
    let opp = c
        .update_opportunity_v1(
            opp.id,
            &v1::OpportunityUpdate {
                name: Some("Babbage Seed II".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(opp.name, "Babbage Seed II");
    let entry = c.add_list_entry_v1(ListId(301), org.id.0).await.unwrap();
    let fv = c
        .create_field_value_v1(&v1::NewFieldValue {
            field_id: affinity_crm::FieldId(504),
            entity_id: org.id.0,
            value: "https://babbage.dev".into(),
            list_entry_id: Some(entry.id),
        })
        .await
        .unwrap();
    assert_eq!(fv.raw_value, "https://babbage.dev");
    let fv = c
        .update_field_value_v1(fv.id, "https://babbage.io".into())
        .await
        .unwrap();
    assert_eq!(fv.raw_value, "https://babbage.io");
    c.delete_field_value_v1(fv.id).await.unwrap();
    let f511 = v2::FieldId::from("field-511");
    let dropdown = |id| {
        v2::FieldValue::Dropdown(Some(v2::Dropdown {
            dropdown_option_id: DropdownOptionId(id),
            text: None,
        }))
    };
    let n = c
        .update_company_fields_v2(
            org.id,
            &[v2::FieldUpdate {
                id: f511.clone(),
                value: dropdown(22),
            }],
        )
        .await
        .unwrap();
    assert_eq!(n, 1);
    let co = c
        .company_v2(org.id, &FieldSelection::ids([f511.clone()]))
        .await
        .unwrap();
    assert_eq!(
        field(&co.fields, "field-511").value.value_type(),
        "dropdown"
    );
    let n = c
        .update_person_fields_v2(
            PersonId(101),
            &[v2::FieldUpdate {
                id: v2::FieldId::from("field-521"),
                value: v2::FieldValue::Text(Some("Countess of Lovelace".into())),
            }],
        )
        .await
        .unwrap();
    assert_eq!(n, 1);
    c.delete_list_entry_v1(ListId(301), entry.id).await.unwrap();
    c.delete_opportunity_v1(opp.id).await.unwrap();
    c.delete_organization_v1(org.id).await.unwrap();
    let p = c
        .create_person_v1(&v1::NewPerson {
            first_name: "Charles".into(),
            last_name: "Babbage".into(),
            emails: vec![],
            organization_ids: None,
        })
        .await
        .unwrap();
    c.delete_person_v1(p.id).await.unwrap();
    let e = c.person_v1(p.id).await.unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e:?}");
    let note = c
        .create_note_v1(&v1::NewNote {
            content: "n".into(),
            organization_ids: vec![OrganizationId(201)],
            ..Default::default()
        })
        .await
        .unwrap();
    c.delete_note_v1(note.id).await.unwrap();
}
