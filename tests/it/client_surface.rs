//! The client's methods for the rest of Affinity's surface (lists and fields created,
//! interactions of any entity, relationship strengths, reminders, entity files, webhooks,
//! saved views, dropdown options, merges), each against the emulator.

use affinity_crm::v1::{
    EntityType, NewField, NewList, NewReminder, NewWebhook, ReminderUpdate, ValueType,
    WebhookUpdate,
};
use affinity_crm::v2::{DropdownOptionUpdate, FieldId, NewDropdownOption};
use affinity_crm::{
    Client, DropdownOptionId, EntityFileId, FieldValuesOf, ListId, OrganizationId, PersonId,
    ReminderId, SavedViewId,
};
use affinity_crm_emulator::EmulatorConfig;
use chrono::{DateTime, Utc};
use futures::TryStreamExt;

use crate::common::TestEmu;
use crate::every_operation::full_seed;

async fn emu() -> (TestEmu, Client) {
    let t = TestEmu::with(EmulatorConfig::default(), full_seed()).await;
    let c = crate::client::client(&t.emu.base_url());
    (t, c)
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

#[tokio::test]
async fn lists_and_fields_are_created_and_fields_deleted() {
    let (_t, c) = emu().await;
    let list = c
        .create_list_v1(&NewList {
            name: "Angels".into(),
            list_type: EntityType::Person,
            is_public: false,
            owner_id: None,
        })
        .await
        .unwrap();
    assert_eq!(list.list_type, EntityType::Person);
    assert!(!list.public);
    assert!(c.lists_v1().await.unwrap().iter().any(|l| l.id == list.id));
    let field = c
        .create_field_v1(&NewField {
            name: "Ticket size".into(),
            entity_type: EntityType::Person,
            value_type: ValueType::Number,
            list_id: Some(list.id),
            allows_multiple: false,
        })
        .await
        .unwrap();
    assert_eq!(field.list_id, Some(list.id));
    assert_eq!(field.value_type, ValueType::Number);
    c.delete_field_v1(field.id).await.unwrap();
    let left = c
        .fields_v1(&[("list_id", list.id.to_string())])
        .await
        .unwrap();
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test]
async fn interactions_of_an_organization_include_its_people() {
    let (_t, c) = emu().await;
    let (start, end) = (at("2024-01-01T00:00:00Z"), at("2024-12-31T00:00:00Z"));
    // Call 901 names person 101, who works at organization 201.
    let calls: Vec<_> = c
        .interactions_v1(
            1,
            FieldValuesOf::Organization(OrganizationId(201)),
            start,
            end,
        )
        .try_collect()
        .await
        .unwrap();
    assert_eq!(calls.iter().map(|i| i.id.0).collect::<Vec<_>>(), [901]);
    let emails: Vec<_> = c
        .interactions_v1(3, FieldValuesOf::Person(PersonId(101)), start, end)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(emails.iter().map(|i| i.id.0).collect::<Vec<_>>(), [904]);
}

#[tokio::test]
async fn relationship_strengths_come_from_interactions() {
    let (_t, c) = emu().await;
    let all = c
        .relationship_strengths_v1(PersonId(101), None)
        .await
        .unwrap();
    assert!(!all.is_empty());
    assert!(all.iter().all(|r| r.external_id == PersonId(101)));
    assert!(all.iter().all(|r| r.strength > 0.0 && r.strength <= 1.0));
    let one = c
        .relationship_strengths_v1(PersonId(101), Some(PersonId(104)))
        .await
        .unwrap();
    assert_eq!(one.len(), 1, "{one:?}");
    assert!(c
        .relationship_strengths_v1(PersonId(103), None)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn reminders_round_trip() {
    let (_t, c) = emu().await;
    let on_101: Vec<_> = c
        .reminders_v1(Some(FieldValuesOf::Person(PersonId(101))))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        on_101.iter().map(|r| r.id).collect::<Vec<_>>(),
        [ReminderId(991)]
    );
    let r = c
        .create_reminder_v1(&NewReminder {
            owner_id: PersonId(104),
            reminder_type: 0,
            content: Some("Send the memo".into()),
            due_date: Some(at("2030-05-01T12:00:00Z")),
            reset_type: None,
            reminder_days: None,
            person_id: None,
            organization_id: Some(OrganizationId(202)),
            opportunity_id: None,
        })
        .await
        .unwrap();
    assert_eq!(r.status, Some(1), "active");
    assert_eq!(r.organization_id, Some(OrganizationId(202)));
    let done = c
        .update_reminder_v1(
            r.id,
            &ReminderUpdate {
                is_completed: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(done.status, Some(0), "completed");
    assert!(done.completed_at.is_some());
    assert_eq!(c.reminder_v1(r.id).await.unwrap().status, Some(0));
    c.delete_reminder_v1(r.id).await.unwrap();
    let e = c.reminder_v1(r.id).await.unwrap_err();
    assert_eq!(e.status(), Some(404));
}

#[tokio::test]
async fn entity_files_upload_list_and_download() {
    let (_t, c) = emu().await;
    let seeded = c.entity_file_v1(EntityFileId(981)).await.unwrap();
    assert_eq!(seeded.name, "term-sheet.txt");
    let bytes = c.download_entity_file_v1(EntityFileId(981)).await.unwrap();
    assert_eq!(&bytes[..], b"Draft term sheet for the Series A");
    c.upload_entity_file_v1(
        FieldValuesOf::Person(PersonId(102)),
        "notes \"v2\".md",
        b"# Notes\nline two\r\n",
    )
    .await
    .unwrap();
    let files: Vec<_> = c
        .entity_files_v1(Some(FieldValuesOf::Person(PersonId(102))))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].name, "notes _v2_.md");
    assert_eq!(files[0].size, Some(18));
    let back = c.download_entity_file_v1(files[0].id).await.unwrap();
    assert_eq!(&back[..], b"# Notes\nline two\r\n");
    let all: Vec<_> = c.entity_files_v1(None).try_collect().await.unwrap();
    assert_eq!(all.len(), 2);
}

#[tokio::test]
async fn webhooks_are_subscribed_changed_and_removed() {
    let (_t, c) = emu().await;
    let w = c
        .create_webhook_v1(&NewWebhook {
            webhook_url: "http://127.0.0.1:9/hook".into(),
            subscriptions: vec!["list_entry.created".into()],
        })
        .await
        .unwrap();
    assert!(!w.disabled);
    let off = c
        .update_webhook_v1(
            w.id,
            &WebhookUpdate {
                disabled: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(off.disabled);
    assert_eq!(c.webhook_v1(w.id).await.unwrap().subscriptions.len(), 1);
    let v2: Vec<_> = c.webhooks_v2().try_collect().await.unwrap();
    assert_eq!(v2.len(), 1);
    assert_eq!(v2[0].status, "disabled");
    assert_eq!(c.webhooks_v1().await.unwrap().len(), 1);
    c.delete_webhook_v1(w.id).await.unwrap();
    assert!(c.webhooks_v1().await.unwrap().is_empty());
}

#[tokio::test]
async fn saved_views_show_their_entries_with_their_fields() {
    let (_t, c) = emu().await;
    let views: Vec<_> = c.saved_views_v2(ListId(301)).try_collect().await.unwrap();
    let board = views.iter().find(|v| v.id == SavedViewId(951)).unwrap();
    assert_eq!(board.view_type, "board");
    assert_eq!(
        c.saved_view_v2(ListId(301), SavedViewId(951))
            .await
            .unwrap()
            .name,
        "Pipeline board"
    );
    let entries: Vec<_> = c
        .saved_view_entries_v2(ListId(301), SavedViewId(951))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(entries.len(), 4);
    let fields: Vec<&str> = entries[0]
        .entity
        .fields()
        .iter()
        .map(|f| f.id.0.as_str())
        .collect();
    assert_eq!(fields, ["field-501", "field-505"]);
}

#[tokio::test]
async fn dropdown_options_are_listed_created_changed_and_deleted() {
    let (_t, c) = emu().await;
    let sectors = FieldId::from("field-506");
    let before: Vec<_> = c
        .dropdown_options_v2(ListId(301), &sectors)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        before.iter().map(|o| o.text.as_str()).collect::<Vec<_>>(),
        ["Fintech", "AI", "Climate"]
    );
    let new = c
        .create_dropdown_option_v2(
            ListId(301),
            &sectors,
            &NewDropdownOption::Dropdown {
                text: "Robotics".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(new.option_type, "dropdown");
    c.update_dropdown_option_v2(
        ListId(301),
        &sectors,
        new.id,
        &DropdownOptionUpdate {
            text: Some("Robots".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        c.dropdown_option_v2(ListId(301), &sectors, new.id)
            .await
            .unwrap()
            .text,
        "Robots"
    );
    // A ranked dropdown takes a rank and a color.
    let status = FieldId::from("field-501");
    let ranked = c
        .create_dropdown_option_v2(
            ListId(301),
            &status,
            &NewDropdownOption::RankedDropdown {
                text: "Passed".into(),
                rank: 3,
                color: "red".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (ranked.rank, ranked.color.as_deref()),
        (Some(3), Some("red"))
    );
    // Deleting `AI` clears the values that held it (entry 601 had Fintech and AI).
    c.delete_dropdown_option_v2(ListId(301), &sectors, DropdownOptionId(12))
        .await
        .unwrap();
    let e = c
        .dropdown_option_v2(ListId(301), &sectors, DropdownOptionId(12))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(404));
    let industry: Vec<_> = c
        .company_dropdown_options_v2(&FieldId::from("field-511"))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(industry.len(), 2);
    let seniority: Vec<_> = c
        .person_dropdown_options_v2(&FieldId::from("field-523"))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(seniority[0].text, "Partner");
}

#[tokio::test]
async fn merges_run_as_tasks_and_the_merged_id_reads_as_merged() {
    let (_t, c) = emu().await;
    let started = c
        .merge_companies_v2(OrganizationId(202), OrganizationId(206))
        .await
        .unwrap();
    let task = c.company_merge_task_v2(&started.task_id()).await.unwrap();
    assert_eq!(task.status, "success");
    assert_eq!(
        (task.results_summary.total, task.results_summary.success),
        (1, 1)
    );
    let merges: Vec<_> = c.company_merges_v2().try_collect().await.unwrap();
    let m = merges.iter().find(|m| m.task_id == task.id).unwrap();
    assert_eq!((m.primary_id, m.duplicate_id), (202, 206));
    assert_eq!(c.company_merge_v2(m.id).await.unwrap(), *m);
    // The merged company answers with the merge, as Affinity does (§8.4).
    let e = c.organization_v1(OrganizationId(206)).await.unwrap_err();
    assert!(
        matches!(e, affinity_crm::Error::Merged { new_id: 202, .. }),
        "{e}"
    );
    let started = c
        .merge_persons_v2(PersonId(102), PersonId(106))
        .await
        .unwrap();
    let task = c.person_merge_task_v2(&started.task_id()).await.unwrap();
    assert_eq!(task.status, "success");
    let persons: Vec<_> = c.person_merges_v2().try_collect().await.unwrap();
    let m = persons.iter().find(|m| m.task_id == task.id).unwrap();
    assert_eq!(c.person_merge_v2(m.id).await.unwrap().duplicate_id, 106);
    // A record cannot be merged into itself.
    let e = c
        .merge_companies_v2(OrganizationId(201), OrganizationId(201))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(400));
}
