//! The client's models decode every recorded v1 answer and every official v2 example.
//!
//! The recorded v1 answers are in the repository (`fixtures/affinity/v1-recorded/`). Affinity's
//! own examples (the three v1 examples of its docs, and `components.examples` of the full
//! 2024-01-01 spec) carry no open licence and stay outside it: they are read from
//! `../shared/data/affinity/` (or `$AFFSYNC_SHARED/data/affinity/`), and the tests that need
//! them are ignored when the tests were built without them (fixtures/affinity/README.md,
//! `tests/resources/build.rs`).

use std::path::PathBuf;

use affinity_crm::{v1, v2, Color, Limit, V1Page};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The repository's copy of the reference data.
pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/affinity")
}

/// `shared/data/affinity/` beside the repository (`../shared`), or under `AFFSYNC_SHARED`: for
/// the tests that are ignored without it (the same place `tests/resources/build.rs` looks).
pub fn shared() -> PathBuf {
    match std::env::var("AFFSYNC_SHARED") {
        Ok(p) => PathBuf::from(p),
        Err(_) => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"),
    }
    .join("data/affinity")
}

/// The full 2024-01-01 spec (Proprietary, not in the repository).
fn full_spec() -> Value {
    read_json(shared().join("openapi-v2-2024-01-01.json"))
}

fn read_json(path: PathBuf) -> Value {
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read `{}`: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn de<T: DeserializeOwned>(v: &Value) -> Result<T, String> {
    serde_json::from_value(v.clone()).map_err(|e| e.to_string())
}

fn page<T: DeserializeOwned>(v: &Value, key: &str) -> Result<V1Page<T>, String> {
    V1Page::from_value(v.clone(), key)
}

type Check = fn(&Value) -> Result<(), String>;

/// Each v1 fixture, the model it decodes into, and what it must show.
const V1_FIXTURES: &[(&str, Check)] = &[
    ("auth_whoami.json", |v| {
        let w: v1::WhoAmI = de(v)?;
        assert_eq!(w.user.first_name.as_deref(), Some("First"));
        assert_eq!(w.grant.scope.as_deref(), Some("external_api"));
        Ok(())
    }),
    ("rate_limit.json", |v| {
        let r: v1::RateLimit = de(v)?;
        assert_eq!(r.rate.org_monthly.limit, Limit::Unlimited);
        assert_eq!(r.rate.org_monthly.remaining, Limit::Unlimited);
        assert_eq!(r.rate.api_key_per_minute.limit, Limit::Count(900));
        assert_eq!(r.rate.api_key_per_minute.reset, Some(10));
        Ok(())
    }),
    ("list_entries_all.json", |v| {
        let p: V1Page<v1::ListEntry> = page(v, "list_entries")?;
        assert_eq!(p.items.len(), 3);
        assert!(
            p.next_page_token.is_none(),
            "a bare array is one whole page"
        );
        // The same person twice: lists hold duplicates (affinity-api.md §8.5).
        assert_eq!(p.items[0].entity_id, p.items[1].entity_id);
        match &p.items[0].entity {
            Some(v1::ListEntity::Person(person)) => {
                assert_eq!(person.primary_email.as_deref(), Some("t@f.io"))
            }
            other => panic!("expected a person entity, got {other:?}"),
        }
        Ok(())
    }),
    ("persons_search.json", |v| {
        let p: V1Page<v1::Person> = page(v, "persons")?;
        assert_eq!(p.items.len(), 3);
        assert!(p.items[2].is_internal());
        Ok(())
    }),
    ("persons_get.json", |v| {
        let p: v1::Person = de(v)?;
        assert_eq!(p.organization_ids.as_ref().map(Vec::len), Some(6));
        assert_eq!(p.list_entries.as_ref().map(Vec::len), Some(2));
        Ok(())
    }),
    ("persons_search_with_dates.json", |v| {
        let p: V1Page<v1::Person> = page(v, "persons")?;
        let d = p.items[0]
            .interaction_dates
            .as_ref()
            .expect("interaction dates");
        assert!(d.next_event_date.is_none());
        // -07:00 offsets read as instants.
        assert_eq!(
            d.last_interaction_date.unwrap().to_rfc3339(),
            "2022-07-08T07:00:00+00:00"
        );
        Ok(())
    }),
    ("notes_all.json", |v| {
        let p: V1Page<v1::Note> = page(v, "notes")?;
        assert_eq!(p.items.len(), 2);
        assert_eq!(p.items[0].note_type, 2);
        Ok(())
    }),
    ("organizations_search.json", |v| {
        let p: V1Page<v1::Organization> = page(v, "organizations")?;
        assert!(!p.items[0].global && p.items[1].global);
        assert!(p.next_page_token.is_some());
        Ok(())
    }),
    ("field_values_get_all.json", |v| {
        let vals: Vec<v1::FieldValue> = de(v)?;
        assert!(
            matches!(&vals[0].value, v1::Value::Location(l) if l.city.as_deref() == Some("San Francisco"))
        );
        assert_eq!(
            vals[1].value,
            v1::Value::Dropdown("Software Engineer".into())
        );
        Ok(())
    }),
    ("fields_all.json", |v| {
        let f: Vec<v1::Field> = de(v)?;
        assert_eq!(f[0].value_type, v1::ValueType::Number);
        assert_eq!(f[2].enrichment_source.as_deref(), Some("dealroom"));
        Ok(())
    }),
];

/// The v1 examples of Affinity's docs: read from `../shared` only (see the module's docs).
const V1_DOC_EXAMPLES: &[&str] = &[
    "organizations_search.json",
    "field_values_get_all.json",
    "fields_all.json",
];

fn check_v1(dir: &std::path::Path, f: &str) {
    let (_, check) = V1_FIXTURES
        .iter()
        .find(|(name, _)| *name == f)
        .unwrap_or_else(|| panic!("fixture `{f}` has no model in V1_FIXTURES"));
    check(&read_json(dir.join(f))).unwrap_or_else(|e| panic!("`{f}`: {e}"));
}

#[test]
fn every_recorded_v1_answer_decodes() {
    let dir = fixtures().join("v1-recorded");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list `{}`: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    files.sort();
    for f in &files {
        assert!(
            !V1_DOC_EXAMPLES.contains(&f.as_str()),
            "`{f}` is an example of Affinity's docs: it stays out of the repository"
        );
        check_v1(&dir, f);
    }
    assert_eq!(
        files.len() + V1_DOC_EXAMPLES.len(),
        V1_FIXTURES.len(),
        "a listed fixture is missing"
    );
}

#[test]
#[cfg_attr(
    not(has_shared_v1_docs),
    ignore = "needs Affinity's v1 doc examples in ../shared/data/affinity/v1-fixtures/ (not in the repository)"
)]
fn v1_doc_examples_decode() {
    let dir = shared().join("v1-fixtures");
    for f in V1_DOC_EXAMPLES {
        check_v1(&dir, f);
    }
}

fn ok<T: DeserializeOwned>(v: &Value) -> Result<(), String> {
    de::<T>(v).map(|_| ())
}

/// A field example: decodes, and its value type is known (not `Other`).
fn field(v: &Value) -> Result<(), String> {
    let f: v2::Field = de(v)?;
    if matches!(f.value, v2::FieldValue::Other { .. }) {
        return Err(format!(
            "value type `{}` not modelled",
            f.value.value_type()
        ));
    }
    Ok(())
}

/// A write body: decodes, and writes back exactly as the example.
fn write_back(v: &Value) -> Result<(), String> {
    let u: v2::FieldValueUpdate = de(v)?;
    let back = serde_json::to_value(&u).unwrap();
    if &back != v {
        return Err(format!("writes back as {back}"));
    }
    Ok(())
}

/// Each example of `components.examples` and the model it decodes into.
const V2_EXAMPLES: &[(&str, Check)] = &[
    // notes
    ("ai-notetaker", ok::<v2::Page<v2::Note>>),
    ("ai-notetaker-3", ok::<v2::Page<v2::Note>>),
    ("ai-notetaker-reply-2", ok::<v2::Page<v2::Note>>),
    ("entities", ok::<v2::Page<v2::Note>>),
    ("entities-3", ok::<v2::Page<v2::Note>>),
    ("interaction-2", ok::<v2::Page<v2::Note>>),
    ("interaction-4", ok::<v2::Page<v2::Note>>),
    ("user-reply-2", ok::<v2::Page<v2::Note>>),
    ("ai-notetaker-2", ok::<v2::Note>),
    ("ai-notetaker-reply", ok::<v2::Note>),
    ("entities-2", ok::<v2::Note>),
    ("interaction-3", ok::<v2::Note>),
    ("user-reply", ok::<v2::Note>),
    // one field with its value, per value type
    ("company", field),
    ("company-multi", field),
    ("datetime", field),
    ("dropdown", field),
    ("dropdown-multi", field),
    ("filterable-text", field),
    ("filterable-text-multi", field),
    ("formula-number", field),
    ("interaction", field),
    ("location", field),
    ("location-multi", field),
    ("number", field),
    ("number-multi", field),
    ("person", field),
    ("person-multi", field),
    ("ranked-dropdown", |v| {
        field(v)?;
        let f: v2::Field = de(v)?;
        match f.value {
            v2::FieldValue::RankedDropdown(Some(r)) => {
                assert_eq!(r.color, Some(Color::Name("gray".into())));
                Ok(())
            }
            other => Err(format!("{other:?}")),
        }
    }),
    ("text", field),
    // the write body of POST …/fields/{fieldId}, per value type
    ("company-2", write_back),
    ("company-multi-2", write_back),
    ("datetime-2", write_back),
    ("dropdown-2", write_back),
    ("dropdown-multi-2", write_back),
    ("filterable-text-2", write_back),
    ("filterable-text-multi-2", write_back),
    ("location-2", write_back),
    ("location-multi-2", write_back),
    ("number-2", write_back),
    ("number-multi-2", write_back),
    ("person-2", write_back),
    ("person-multi-2", write_back),
    ("ranked-dropdown-2", write_back),
    ("text-2", write_back),
    // lists
    ("company-list", ok::<v2::List>),
    ("opportunity-list", ok::<v2::List>),
    ("person-list", ok::<v2::List>),
    ("success", ok::<v2::Page<v2::List>>),
    ("company-list-2", ok::<v2::Page<v2::FieldMetadata>>),
    ("opportunity-list-2", ok::<v2::Page<v2::FieldMetadata>>),
    ("person-list-2", ok::<v2::Page<v2::FieldMetadata>>),
    // list entries
    (
        "company-list-enriched",
        ok::<v2::Page<v2::ListEntryWithEntity>>,
    ),
    (
        "company-list-global-and-list",
        ok::<v2::Page<v2::ListEntryWithEntity>>,
    ),
    (
        "company-list-relationship-intelligence",
        ok::<v2::Page<v2::ListEntryWithEntity>>,
    ),
    ("company-list-enriched-2", ok::<v2::ListEntryWithEntity>),
    (
        "company-list-global-and-list-2",
        ok::<v2::ListEntryWithEntity>,
    ),
    (
        "company-list-relationship-intelligence-2",
        ok::<v2::ListEntryWithEntity>,
    ),
    ("company-list-enriched-3", ok::<v2::Page<v2::Field>>),
    ("company-list-global-and-list-3", ok::<v2::Page<v2::Field>>),
    (
        "company-list-relationship-intelligence-3",
        ok::<v2::Page<v2::Field>>,
    ),
    // opportunities attached to a note
    ("success-2", ok::<v2::Page<v2::Opportunity>>),
    // update-fields
    ("update-fields", |v| {
        let u: v2::UpdateFields = de(v)?;
        let back = serde_json::to_value(&u).unwrap();
        if &back != v {
            return Err(format!("writes back as {back}"));
        }
        Ok(())
    }),
    ("update-fields-2", ok::<v2::OperationDone>),
    // merges and their tasks
    ("failed-merge", ok::<v2::Merge>),
    ("failed-merge-2", ok::<v2::Merge>),
    ("in-progress-merge", ok::<v2::Merge>),
    ("in-progress-merge-2", ok::<v2::Merge>),
    ("succeeded-merge", ok::<v2::Merge>),
    ("succeeded-merge-2", ok::<v2::Merge>),
    ("merges-list", ok::<v2::Page<v2::Merge>>),
    ("merges-list-2", ok::<v2::Page<v2::Merge>>),
    ("merge-initiated", merge_started),
    ("merge-initiated-2", merge_started),
    ("task-failed", ok::<v2::MergeTask>),
    ("task-in-progress", ok::<v2::MergeTask>),
    ("task-success", ok::<v2::MergeTask>),
    ("task-success-2", ok::<v2::MergeTask>),
    ("tasks-list", ok::<v2::Page<v2::MergeTask>>),
    ("tasks-list-2", ok::<v2::Page<v2::MergeTask>>),
];

/// Examples with no model, and why.
const V2_UNMODELLED: &[(&str, &str)] = &[
    (
        "merge-companies",
        "a merge request body: `Client::merge_companies_v2` takes the two ids",
    ),
    (
        "merge-persons",
        "a merge request body: `Client::merge_persons_v2` takes the two ids",
    ),
];

/// A merge task's answer: its id is the last segment of the URL.
fn merge_started(v: &Value) -> Result<(), String> {
    let m: v2::MergeStarted = de(v)?;
    if m.task_id().0.is_empty() || !m.task_url.ends_with(&m.task_id().0) {
        return Err(format!("task id `{}` of `{}`", m.task_id(), m.task_url));
    }
    Ok(())
}

#[test]
#[cfg_attr(
    not(has_shared_spec),
    ignore = "needs ../shared/data/affinity/openapi-v2-2024-01-01.json (Proprietary: not in the repository)"
)]
fn every_v2_example_decodes_or_is_listed() {
    let spec = full_spec();
    let examples = spec["components"]["examples"]
        .as_object()
        .expect("components.examples");
    let mut failures = Vec::new();
    for (key, ex) in examples {
        let value = &ex["value"];
        match V2_EXAMPLES.iter().find(|(k, _)| k == key) {
            Some((_, check)) => {
                if let Err(e) = check(value) {
                    failures.push(format!("`{key}`: {e}"));
                }
            }
            None => {
                if !V2_UNMODELLED.iter().any(|(k, _)| k == key) {
                    failures.push(format!("`{key}`: no model and not listed as unmodelled"));
                }
            }
        }
    }
    for (k, _) in V2_EXAMPLES.iter().map(|(k, c)| (k, c)) {
        if !examples.contains_key(*k) {
            failures.push(format!("`{k}` is not an example of the spec"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(examples.len(), V2_EXAMPLES.len() + V2_UNMODELLED.len());
}

#[test]
#[cfg_attr(
    not(has_shared_spec),
    ignore = "needs ../shared/data/affinity/openapi-v2-2024-01-01.json (Proprietary: not in the repository)"
)]
fn v2_examples_show_their_quirks() {
    let spec = full_spec();
    let ex = |k: &str| spec["components"]["examples"][k]["value"].clone();
    let p: v2::Page<v2::ListEntryWithEntity> = de(&ex("company-list-enriched")).unwrap();
    let entry = &p.data[0];
    assert!(matches!(entry.entity, v2::Entity::Company(ref c) if c.is_global));
    assert!(entry
        .entity
        .fields()
        .iter()
        .any(|f| f.id.0 == "affinity-data-location"));
    assert!(p.pagination.next_url.is_some());
    let f: v2::Field = de(&ex("interaction")).unwrap();
    match f.value {
        v2::FieldValue::Interaction(Some(i)) => {
            assert_eq!(i.kind, "meeting");
            assert!(i.at.is_some());
        }
        other => panic!("{other:?}"),
    }
}
