//! `affsync log-activity`: a communication feed (calls, voicemail, SMS, notes) into Affinity.
//!
//! feed → [`plan::plan`] (settings, the mirror's persons, what earlier runs logged) → writes,
//! each journaled before and after it, the store learning each one (feed id → Affinity id and
//! the hash of what was written), so that the same feed run twice writes nothing the second
//! time, and a feed's edits and deletions follow the notes and calls they became.

pub mod feed;
pub mod plan;
pub mod settings;
mod store;

use affsync_core::model::RunId;
use affsync_core::model::{Kind, Owner, ValueItem};
use std::path::Path;

use chrono::Utc;
use futures::TryStreamExt;
use serde_json::json;

use crate::io::source::SourceError;
use crate::store::pushed::LearnedEntity;
use crate::store::{Event, RunStatus, Store, StoreError};
use affinity_crm::v1::{NewFieldValue, NewInteraction, NewNote, NewPerson};
use affinity_crm::{Client, FieldId, FieldValuesOf, InteractionId, NoteId, PersonId};

pub use feed::{read_feed, FeedEvent, FeedRow};
pub use plan::{plan, Action, Directory, Op, Plan, Skip, SkipKind, Target};
pub use settings::Settings;

#[derive(Debug, thiserror::Error)]
pub enum ActivityError {
    #[error("`{file}`, line {line}: {message}\nhint: {hint}")]
    Settings {
        file: String,
        line: usize,
        message: String,
        hint: String,
    },
    #[error("cannot read `{path}`: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{path}`, line {line}: {message}\nhint: {hint}")]
    Feed {
        path: String,
        line: usize,
        message: String,
        hint: String,
    },
    #[error(transparent)]
    Source(SourceError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ActivityError {
    /// Errors in what a person wrote or gave (exit code 2).
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, ActivityError::Store(_))
    }
}

/// What a run did, by kind of write.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub notes_created: usize,
    pub notes_updated: usize,
    pub notes_deleted: usize,
    pub calls_logged: usize,
    pub calls_updated: usize,
    pub calls_deleted: usize,
    pub contacts_created: usize,
    pub skipped: usize,
    pub unchanged: usize,
    pub failed: usize,
    pub api_calls: u64,
}

/// A run's outcome: its plan, what was done, and what failed (feed id, message).
#[derive(Debug, Clone)]
pub struct Report {
    pub run: Option<RunId>,
    pub dry_run: bool,
    pub plan: Plan,
    pub counts: Counts,
    pub failures: Vec<(String, String)>,
}

impl Report {
    pub fn partial(&self) -> bool {
        self.counts.failed > 0
    }
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    pub dry_run: bool,
    /// The scheduler's job, when one runs this.
    pub job: Option<String>,
}

/// The person field that holds phone numbers: its mirror id (`field-523`) and value type.
async fn phone_field(
    store: &Store,
    settings: &Settings,
) -> Result<Option<(String, String)>, ActivityError> {
    let fields = store.fields_with_gone().await?;
    let person_fields: Vec<_> = fields
        .into_iter()
        .filter(|(f, gone)| {
            !gone && f.list_id.is_none() && f.entity_kind.is_none_or(|k| k == Kind::Person)
        })
        .map(|(f, _)| f)
        .collect();
    let want = settings.phone_field.trim();
    let hit = person_fields
        .iter()
        .find(|f| f.id == want || f.name.eq_ignore_ascii_case(want));
    match (hit, settings.phone_field_line) {
        (Some(f), _) => Ok(Some((f.id.clone(), f.value_type.clone()))),
        // The default name, not written in the file: phone lookups simply find nobody.
        (None, None) => Ok(None),
        (None, Some(line)) => {
            let mut names: Vec<String> = person_fields
                .iter()
                .filter(|f| f.entity_kind == Some(Kind::Person))
                .map(|f| format!("`{}`", f.name))
                .collect();
            names.sort();
            names.dedup();
            Err(ActivityError::Settings {
                file: settings.file.clone(),
                line,
                message: format!(
                    "`phone_field` names `{want}`, which is no person field in the mirror"
                ),
                hint: if names.is_empty() {
                    "pull a person list first (`affsync pull --list NAME`), so that the mirror knows the person fields".into()
                } else {
                    format!("the mirror's person fields are {}", names.join(", "))
                },
            })
        }
    }
}

/// The record key of a feed event in the journal.
fn record_of(feed_id: Option<&str>, row: usize) -> String {
    match feed_id {
        Some(id) => format!("activity:{id}"),
        None => format!("activity-row:{row}"),
    }
}

/// Plans a feed against the mirror and, unless dry, writes it into Affinity.
pub async fn log_activity(
    store: &Store,
    client: &Client,
    feed_path: &Path,
    settings: &Settings,
    opts: &Options,
) -> Result<Report, ActivityError> {
    let rows = read_feed(feed_path)?;
    let phone = phone_field(store, settings).await?;
    let keys = vec![settings.phone_field.clone()];
    let cands = store
        .candidates(affsync_core::matcher::Kind::Person, &keys)
        .await?;
    let dir = Directory::from_candidates(&cands, &settings.phone_field);
    let logged = store.activity_logged().await?;
    let the_plan = plan::plan(&rows, settings, &dir, &logged, Utc::now());
    let mut report = Report {
        run: None,
        dry_run: opts.dry_run,
        counts: Counts {
            skipped: the_plan.skipped.len(),
            unchanged: the_plan.unchanged,
            ..Counts::default()
        },
        plan: the_plan,
        failures: Vec::new(),
    };
    if opts.dry_run {
        return Ok(report);
    }
    let calls_before = client.stats().calls;
    let run = store
        .start_run("log-activity", opts.job.as_deref(), Utc::now())
        .await?;
    report.run = Some(run);
    let skips: Vec<Event> = report
        .plan
        .skipped
        .iter()
        .map(|s| {
            Event::new(
                record_of(s.feed_id.as_deref(), s.row),
                "skipped",
                Some(json!({"why": s.kind.as_str(), "reason": s.reason, "row": s.row})),
            )
        })
        .collect();
    store.add_events(run, &skips, Utc::now()).await?;

    // New contacts first: the writes about them need their ids.
    let mut created: Vec<Result<i64, String>> = Vec::new();
    for c in &report.plan.new_contacts {
        let rk = format!("contact:{}", c.contact);
        store
            .add_events(
                run,
                &[Event::new(
                    &rk,
                    "contact_create_started",
                    Some(json!({"first_name": c.first_name, "last_name": c.last_name})),
                )],
                Utc::now(),
            )
            .await?;
        let body = NewPerson {
            first_name: c.first_name.clone(),
            last_name: c.last_name.clone(),
            emails: c.email.iter().cloned().collect(),
            organization_ids: None,
        };
        let outcome = match client.create_person_v1(&body).await {
            Ok(p) => {
                let id = p.id.0;
                store
                    .learn_entity(
                        &LearnedEntity::Person {
                            id,
                            first_name: Some(c.first_name.clone()),
                            last_name: Some(c.last_name.clone()),
                            emails: body.emails.clone(),
                        },
                        Utc::now(),
                    )
                    .await?;
                let mut detail = json!({"person_id": id});
                if let (Some(number), Some((field, value_type))) = (&c.phone, &phone) {
                    let v1_id = field
                        .strip_prefix("field-")
                        .and_then(|n| n.parse::<i64>().ok());
                    match v1_id {
                        Some(fid) => {
                            let fv = NewFieldValue {
                                field_id: FieldId(fid),
                                entity_id: id,
                                value: json!(number),
                                list_entry_id: None,
                            };
                            match client.create_field_value_v1(&fv).await {
                                Ok(_) => {
                                    let item = ValueItem {
                                        value_type: value_type.clone(),
                                        text: Some(number.clone()),
                                        number: None,
                                        at: None,
                                        ref_id: None,
                                        json: None,
                                    };
                                    store
                                        .learn_values(
                                            Owner::Entity(Kind::Person, id),
                                            field,
                                            &[item],
                                            Utc::now(),
                                        )
                                        .await?;
                                    detail["phone"] = json!(number);
                                }
                                Err(e) => detail["phone_error"] = json!(e.to_string()),
                            }
                        }
                        None => {
                            detail["phone_error"] =
                                json!(format!("field `{field}` cannot be written through v1"))
                        }
                    }
                }
                store
                    .add_events(
                        run,
                        &[Event::new(&rk, "contact_created", Some(detail))],
                        Utc::now(),
                    )
                    .await?;
                report.counts.contacts_created += 1;
                Ok(id)
            }
            Err(e) => {
                let msg = e.to_string();
                store
                    .add_events(
                        run,
                        &[Event::new(&rk, "failed", Some(json!({"error": msg})))],
                        Utc::now(),
                    )
                    .await?;
                Err(msg)
            }
        };
        created.push(outcome);
    }

    // Creates an earlier run started and never saw completed (killed between the request
    // and the store learning it): Affinity is asked before they are written again.
    let unconfirmed: std::collections::BTreeSet<String> = store
        .events_with_steps(&["write_started"])
        .await?
        .into_iter()
        .filter(|e| {
            e.event
                .detail
                .as_ref()
                .is_some_and(|d| d["action"] == "note_created" || d["action"] == "call_logged")
        })
        .filter_map(|e| e.event.record.strip_prefix("activity:").map(str::to_string))
        .collect();
    let ops = report.plan.ops.clone();
    for op in &ops {
        let rk = record_of(Some(&op.feed_id), op.row);
        let person = match op.target {
            Target::Person(id) => id,
            Target::New(i) => match &created[i] {
                Ok(id) => *id,
                Err(e) => {
                    let msg = format!("the contact could not be created: {e}");
                    store
                        .add_events(
                            run,
                            &[Event::new(&rk, "failed", Some(json!({"error": msg})))],
                            Utc::now(),
                        )
                        .await?;
                    report.counts.failed += 1;
                    report.failures.push((op.feed_id.clone(), msg));
                    continue;
                }
            },
        };
        // Write-ahead: the journal says what is about to be written before it is.
        store
            .add_events(
                run,
                &[Event::new(
                    &rk,
                    "write_started",
                    Some(json!({"action": op.action.step(), "person_id": person, "row": op.row})),
                )],
                Utc::now(),
            )
            .await?;
        match apply(store, client, op, person, unconfirmed.contains(&op.feed_id)).await {
            Ok(detail) => {
                match &op.action {
                    Action::CreateNote { .. } => report.counts.notes_created += 1,
                    Action::UpdateNote { .. } => report.counts.notes_updated += 1,
                    Action::DeleteNote { .. } => report.counts.notes_deleted += 1,
                    Action::LogCall { .. } => report.counts.calls_logged += 1,
                    Action::UpdateCall { .. } => report.counts.calls_updated += 1,
                    Action::DeleteCall { .. } => report.counts.calls_deleted += 1,
                }
                store
                    .add_events(
                        run,
                        &[Event::new(&rk, op.action.step(), Some(detail))],
                        Utc::now(),
                    )
                    .await?;
            }
            Err(ApplyError::Api(msg)) => {
                store
                    .add_events(
                        run,
                        &[Event::new(
                            &rk,
                            "failed",
                            Some(json!({"error": msg, "action": op.action.step()})),
                        )],
                        Utc::now(),
                    )
                    .await?;
                report.counts.failed += 1;
                report.failures.push((op.feed_id.clone(), msg));
            }
            Err(ApplyError::Store(e)) => return Err(e.into()),
        }
    }
    report.counts.api_calls = client.stats().calls - calls_before;
    let status = if report.partial() {
        RunStatus::Partial
    } else {
        RunStatus::Ok
    };
    store
        .finish_run(
            run,
            status,
            &serde_json::to_value(&report.counts).expect("counts serialize"),
            report.counts.api_calls,
            None,
            Utc::now(),
        )
        .await?;
    Ok(report)
}

enum ApplyError {
    /// Affinity refused or could not be reached: the event fails, the run goes on.
    Api(String),
    Store(StoreError),
}

impl From<StoreError> for ApplyError {
    fn from(e: StoreError) -> Self {
        ApplyError::Store(e)
    }
}

fn api(e: affinity_crm::Error) -> ApplyError {
    ApplyError::Api(e.to_string())
}

/// One write, and the store learning it; gives the journal's detail.
async fn apply(
    store: &Store,
    client: &Client,
    op: &Op,
    person: i64,
    unconfirmed: bool,
) -> Result<serde_json::Value, ApplyError> {
    let now = Utc::now;
    match &op.action {
        Action::CreateNote {
            content,
            created_at,
        } => {
            if unconfirmed {
                let notes: Vec<_> = client
                    .notes_v1(Some(FieldValuesOf::Person(PersonId(person))))
                    .try_collect()
                    .await
                    .map_err(api)?;
                if let Some(n) = notes.iter().find(|n| n.text().as_deref() == Some(content)) {
                    store
                        .record_activity(
                            &op.feed_id,
                            plan::Object::Note,
                            n.id.0,
                            None,
                            person,
                            &op.hash,
                            now(),
                        )
                        .await?;
                    return Ok(json!({"note_id": n.id.0, "person_id": person, "found": true}));
                }
            }
            let body = NewNote {
                content: content.clone(),
                person_ids: vec![PersonId(person)],
                created_at: *created_at,
                ..NewNote::default()
            };
            let n = client.create_note_v1(&body).await.map_err(api)?;
            store
                .record_activity(
                    &op.feed_id,
                    plan::Object::Note,
                    n.id.0,
                    None,
                    person,
                    &op.hash,
                    now(),
                )
                .await?;
            Ok(json!({"note_id": n.id.0, "person_id": person}))
        }
        Action::UpdateNote { note_id, content } => {
            client
                .update_note_v1(NoteId(*note_id), content)
                .await
                .map_err(api)?;
            store
                .record_activity(
                    &op.feed_id,
                    plan::Object::Note,
                    *note_id,
                    None,
                    person,
                    &op.hash,
                    now(),
                )
                .await?;
            Ok(json!({"note_id": note_id}))
        }
        Action::DeleteNote { note_id } => {
            match client.delete_note_v1(NoteId(*note_id)).await {
                Ok(()) => {}
                // Already gone in Affinity: the feed and Affinity agree.
                Err(e) if e.status() == Some(404) => {}
                Err(e) => return Err(api(e)),
            }
            store.mark_activity_deleted(&op.feed_id, now()).await?;
            Ok(json!({"note_id": note_id}))
        }
        Action::LogCall {
            date,
            direction,
            content,
        } => {
            if unconfirmed {
                let calls: Vec<_> = client
                    .person_interactions_v1(
                        plan::CALL,
                        PersonId(person),
                        *date - chrono::Duration::minutes(1),
                        *date + chrono::Duration::minutes(1),
                    )
                    .try_collect()
                    .await
                    .map_err(api)?;
                let same = calls.iter().find(|i| {
                    i.date == Some(*date)
                        && i.direction == Some(*direction)
                        && i.content.as_deref() == Some(content)
                });
                if let Some(i) = same {
                    store
                        .record_activity(
                            &op.feed_id,
                            plan::Object::Interaction,
                            i.id.0,
                            Some(plan::CALL),
                            person,
                            &op.hash,
                            now(),
                        )
                        .await?;
                    return Ok(
                        json!({"interaction_id": i.id.0, "person_id": person, "found": true}),
                    );
                }
            }
            let body = NewInteraction {
                interaction_type: plan::CALL,
                person_ids: vec![PersonId(person)],
                content: Some(content.clone()),
                date: *date,
                direction: Some(*direction),
            };
            let i = client.create_interaction_v1(&body).await.map_err(api)?;
            store
                .record_activity(
                    &op.feed_id,
                    plan::Object::Interaction,
                    i.id.0,
                    Some(plan::CALL),
                    person,
                    &op.hash,
                    now(),
                )
                .await?;
            Ok(
                json!({"interaction_id": i.id.0, "person_id": person, "date": date.to_rfc3339(), "direction": direction}),
            )
        }
        Action::UpdateCall {
            id,
            date,
            direction,
            content,
        } => {
            let body = NewInteraction {
                interaction_type: plan::CALL,
                person_ids: vec![PersonId(person)],
                content: Some(content.clone()),
                date: *date,
                direction: Some(*direction),
            };
            client
                .update_interaction_v1(InteractionId(*id), &body)
                .await
                .map_err(api)?;
            store
                .record_activity(
                    &op.feed_id,
                    plan::Object::Interaction,
                    *id,
                    Some(plan::CALL),
                    person,
                    &op.hash,
                    now(),
                )
                .await?;
            Ok(json!({"interaction_id": id}))
        }
        Action::DeleteCall { id } => {
            match client
                .delete_interaction_v1(InteractionId(*id), plan::CALL)
                .await
            {
                Ok(()) => {}
                Err(e) if e.status() == Some(404) => {}
                Err(e) => return Err(api(e)),
            }
            store.mark_activity_deleted(&op.feed_id, now()).await?;
            Ok(json!({"interaction_id": id}))
        }
    }
}
