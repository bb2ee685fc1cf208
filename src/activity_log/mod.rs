//! `affsync log-activity`: a communication feed (calls, voicemail, SMS, notes) into Affinity.
//!
//! feed → [`plan::plan`] (settings, the mirror's persons, what earlier runs logged) → writes,
//! each journaled before and after it, the store learning each one (feed id → Affinity id and
//! the hash of what was written), so that the same feed run twice writes nothing the second
//! time, and a feed's edits and deletions follow the notes and calls they became.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::Utc;
use futures::TryStreamExt;
use serde_json::json;

use crate::io::source::{read_records, SourceError};
use crate::members::Connected;
use crate::store::activity_log::RecordedActivity;
use crate::store::journal::{Run, RunEnd};
use crate::store::pushed::LearnedEntity;
use crate::store::{Store, StoreError};
use affinity_crm::v1::{NewFieldValue, NewInteraction, NewNote, NewPerson};
use affinity_crm::{Client, FieldId, FieldValuesOf, InteractionId, NoteId, PersonId};
use affsync_core::activity::feed::{self, csv_columns, parse_event, read_jsonl, FeedRow};
use affsync_core::activity::settings::Settings;
use affsync_core::diagnostic::{quoted, Diagnose, ErrorClass, FileError};
use affsync_core::journal::{
    ActivityWrite, JournalEvent, RunKind, RunStatus, Step, ACTIVITY_WRITE_STEPS,
};
use affsync_core::model::{Kind, Owner, RunId, ValueItem};
use affsync_core::plan::activity::{self as plan, Action, Directory, NewContact, Op, Plan, Target};
use affsync_core::source::{ReadOptions, SourceFormat};

mod recover;

#[derive(Debug, thiserror::Error)]
pub enum ActivityError {
    /// The settings file or the feed has a mistake.
    #[error(transparent)]
    File(#[from] FileError),
    #[error("cannot read `{path}`: {cause}")]
    Io { path: String, cause: std::io::Error },
    #[error(transparent)]
    Source(SourceError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Affinity could not be asked what an earlier run left unconfirmed.
    #[error(transparent)]
    Api(affinity_crm::Error),
}

impl Diagnose for ActivityError {
    fn class(&self) -> ErrorClass {
        match self {
            ActivityError::Store(e) => e.class(),
            ActivityError::Api(_) => ErrorClass::Failure,
            _ => ErrorClass::BadInput,
        }
    }
    fn hint(&self) -> Option<String> {
        match self {
            ActivityError::File(e) => e.hint(),
            ActivityError::Source(e) => e.hint(),
            ActivityError::Store(e) => e.hint(),
            ActivityError::Io { .. } => Some(
                "check the path: `--settings` names the settings file, and its `feed` is relative to it".into(),
            ),
            ActivityError::Api(_) => None,
        }
    }
}

impl ActivityError {
    /// Errors in what a person wrote or gave (exit code 2).
    pub fn is_bad_input(&self) -> bool {
        self.class() == ErrorClass::BadInput
    }
}

/// Reads a settings file.
pub fn load_settings(path: &Path) -> Result<Settings, ActivityError> {
    let text = std::fs::read_to_string(path).map_err(|cause| ActivityError::Io {
        path: path.display().to_string(),
        cause,
    })?;
    Ok(Settings::parse(path, &text)?)
}

/// Reads a feed file: `.jsonl`/`.ndjson` line by line, `.csv`/`.tsv` through the source reader.
pub fn read_feed(path: &Path) -> Result<Vec<FeedRow>, ActivityError> {
    let shown = path.display().to_string();
    let read = || {
        std::fs::read_to_string(path).map_err(|cause| ActivityError::Io {
            path: shown.clone(),
            cause,
        })
    };
    let bad = |message: String, hint: String| {
        ActivityError::File(FileError {
            file: shown.clone(),
            line: 1,
            message,
            hint,
        })
    };
    match SourceFormat::from_path(path) {
        Some(SourceFormat::Jsonl) => Ok(read_jsonl(&read()?)),
        Some(SourceFormat::Csv) => {
            let text = read()?;
            let tsv = path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("tsv"));
            let sep = if tsv { '\t' } else { ',' };
            let header: Vec<String> = text
                .lines()
                .next()
                .unwrap_or_default()
                .split(sep)
                .map(|c| c.trim().trim_matches('"').to_string())
                .collect();
            let columns = csv_columns(&header).map_err(|missing| {
                bad(
                    format!("the feed has no column `{missing}`"),
                    format!("a feed has the columns {}", quoted(feed::COLUMNS)),
                )
            })?;
            let opts = ReadOptions {
                id: "id".into(),
                columns,
                separator: Some(sep as u8),
                format: Some(SourceFormat::Csv),
            };
            let records = read_records(path, &opts).map_err(ActivityError::Source)?;
            Ok(records
                .into_iter()
                .map(|r| {
                    let event = match r.problem {
                        Some(p) => Err(p),
                        None => parse_event(&r.values, r.id.as_deref()),
                    };
                    FeedRow {
                        row: r.row,
                        id: r.id,
                        event,
                    }
                })
                .collect())
        }
        _ => Err(bad(
            "cannot tell the feed's format".into(),
            "end the file name with `.jsonl` or `.csv`".into(),
        )),
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

impl Counts {
    /// Adds another key's writes (the calls are counted once, per client, by the caller).
    fn add(&mut self, o: &Counts) {
        self.notes_created += o.notes_created;
        self.notes_updated += o.notes_updated;
        self.notes_deleted += o.notes_deleted;
        self.calls_logged += o.calls_logged;
        self.calls_updated += o.calls_updated;
        self.calls_deleted += o.calls_deleted;
        self.contacts_created += o.contacts_created;
        self.skipped += o.skipped;
        self.unchanged += o.unchanged;
        self.failed += o.failed;
    }
}

/// A run's outcome: its plan, what was done, and what failed (feed id, message).
#[derive(Debug, Clone)]
pub struct Report {
    pub run: Option<RunId>,
    /// The members the plan's ops name by index ([`Op::member`]), as a person reads them.
    pub members: Vec<String>,
    /// Members whose events could not be written at all: why (their name in it).
    pub member_failures: Vec<String>,
    /// The names of the persons the plan writes to, by id (for people reading the report).
    pub person_names: std::collections::BTreeMap<i64, String>,
    pub dry_run: bool,
    pub plan: Plan,
    pub counts: Counts,
    pub failures: Vec<(String, String)>,
}

impl Report {
    pub fn partial(&self) -> bool {
        self.counts.failed > 0
    }

    /// Who an op is written as: its member, or the default key.
    pub fn written_as(&self, op: &Op) -> &str {
        match op.member {
            Some(m) => &self.members[m],
            None => "default key",
        }
    }
}

/// What one key's writes did: counted apart, added to the report after.
#[derive(Debug, Default)]
struct Tally {
    counts: Counts,
    failures: Vec<(String, String)>,
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
            Err(ActivityError::File(FileError {
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
            }))
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
///
/// With `members` (`[[members]]` in `affsync.toml`, connected), each event is written with its
/// member's key; the members' events are written in parallel, each key within its own budget,
/// and a member whose key fails has their events failed alone.
pub async fn log_activity(
    store: &Store,
    client: &Client,
    feed_path: &Path,
    settings: &Settings,
    members: &[Connected],
    opts: &Options,
) -> Result<Report, ActivityError> {
    let rows = read_feed(feed_path)?;
    let phone = phone_field(store, settings).await?;
    let calls_before = client.stats().calls;
    // A real run starts before the plan: what earlier runs left of their contacts is settled
    // first (journaled in this run), so that the plan finds those persons by their number.
    let run = if opts.dry_run {
        None
    } else {
        let run = store
            .begin_run(RunKind::LogActivity, opts.job.as_deref())
            .await?;
        match recover::recover_contacts(store, client, &run, phone.as_ref()).await {
            Ok(_) => Some(run),
            Err(e) => {
                run.fail(&e.to_string(), client.stats().calls - calls_before)
                    .await;
                return Err(e);
            }
        }
    };
    let keys = vec![settings.phone_field.clone()];
    let cands = store.candidates(Kind::Person, &keys).await?;
    let dir = Directory::from_candidates(&cands, &settings.phone_field, settings.default_country);
    let logged = store.activity_logged().await?;
    let routes: Vec<_> = members
        .iter()
        .map(|m| m.member.route(settings.default_country))
        .collect();
    let the_plan = plan::plan_for_members(&rows, settings, &routes, &dir, &logged, Utc::now());
    let person_names = cands
        .iter()
        .filter_map(|c| Some((c.id.parse::<i64>().ok()?, c.name.clone())))
        .collect();
    let mut report = Report {
        run: None,
        members: members.iter().map(Connected::label).collect(),
        person_names,
        dry_run: opts.dry_run,
        counts: Counts {
            skipped: the_plan.skipped.len(),
            unchanged: the_plan.unchanged,
            ..Counts::default()
        },
        plan: the_plan,
        failures: Vec::new(),
        member_failures: Vec::new(),
    };
    let Some(run) = run else {
        // A dry run says which members' keys cannot write their events.
        for (i, m) in members.iter().enumerate() {
            if let Err(e) = &m.client {
                if report.plan.ops.iter().any(|o| o.member == Some(i)) {
                    report.member_failures.push(e.clone());
                }
            }
        }
        return Ok(report);
    };
    report.run = Some(run.id());
    let done = write_plan(store, client, members, &run, phone.as_ref(), &mut report).await;
    let member_calls: u64 = members
        .iter()
        .filter_map(|m| m.client.as_ref().ok())
        .map(|c| c.stats().calls)
        .sum();
    // A member's client is made for the run: all its calls are the run's (whoami included).
    report.counts.api_calls = client.stats().calls - calls_before + member_calls;
    let status = if report.partial() {
        RunStatus::Partial
    } else {
        RunStatus::Ok
    };
    let counts = serde_json::to_value(&report.counts).expect("counts serialize");
    let api_calls = report.counts.api_calls;
    let note = (!report.member_failures.is_empty()).then(|| report.member_failures.join("; "));
    run.close(
        done,
        |_| RunEnd {
            status,
            counts,
            api_calls,
            note,
        },
        api_calls,
    )
    .await?;
    Ok(report)
}

/// The writes of a plan, in order: skips journaled, new contacts created, then each note and
/// call, journaled before and after.
async fn write_plan(
    store: &Store,
    client: &Client,
    members: &[Connected],
    run: &Run,
    phone: Option<&(String, String)>,
    report: &mut Report,
) -> Result<(), ActivityError> {
    let skips: Vec<JournalEvent> = report
        .plan
        .skipped
        .iter()
        .map(|s| {
            JournalEvent::new(
                record_of(s.feed_id.as_deref(), s.row),
                Step::Skipped {
                    reason: Some(s.reason.clone()),
                    detail: None,
                    why: Some(s.kind.as_str().to_string()),
                    row: Some(s.row),
                    problem: None,
                },
            )
        })
        .collect();
    run.events(&skips).await?;
    // New contacts first: the writes about them need their ids.
    let mut created: Vec<Result<i64, String>> = Vec::new();
    for c in report.plan.new_contacts.clone() {
        let (outcome, phone_error) = create_contact(store, client, run, &c, phone).await?;
        if outcome.is_ok() {
            report.counts.contacts_created += 1;
        }
        // The person exists without their number: a failure (the next run writes it, and
        // finds the person again rather than making a second one).
        if let Some(e) = phone_error {
            report.counts.failed += 1;
            report.failures.push((
                format!("contact {}", c.contact),
                format!("created, but its phone number was not written: {e}"),
            ));
        }
        created.push(outcome);
    }
    let unconfirmed = unconfirmed_creates(store).await?;
    // One lane per key, written in parallel: each key's pacer spends only its own budget.
    let mut lanes: BTreeMap<Option<usize>, Vec<Op>> = BTreeMap::new();
    for op in &report.plan.ops {
        lanes.entry(op.member).or_default().push(op.clone());
    }
    let ctx = Lane {
        store,
        run,
        created: &created,
        unconfirmed: &unconfirmed,
    };
    let written = futures::future::join_all(lanes.iter().map(|(m, ops)| {
        let (client, who) = match m {
            None => (Ok(client), None),
            Some(i) => (
                members[*i].client.as_ref().map_err(String::clone),
                Some(members[*i].member.name.as_str()),
            ),
        };
        ctx.write(client, who, ops)
    }))
    .await;
    for lane in written {
        let (tally, stopped) = lane?;
        report.counts.add(&tally.counts);
        report.failures.extend(tally.failures);
        report.member_failures.extend(stopped);
    }
    Ok(())
}

/// What every key's lane of writes shares.
struct Lane<'a> {
    store: &'a Store,
    run: &'a Run,
    created: &'a [Result<i64, String>],
    unconfirmed: &'a BTreeSet<String>,
}

impl Lane<'_> {
    /// One key's writes, in order; once Affinity refuses the key (401), or when it could not
    /// be read, the rest fail with that reason. Gives the tally, and why the lane stopped.
    async fn write(
        &self,
        client: Result<&Client, String>,
        member: Option<&str>,
        ops: &[Op],
    ) -> Result<(Tally, Option<String>), ActivityError> {
        let mut tally = Tally::default();
        let mut stopped = client.as_ref().err().cloned();
        for op in ops {
            let client = match (&stopped, &client) {
                (None, Ok(c)) => *c,
                (Some(why), _) | (None, Err(why)) => {
                    let msg = format!("not written: {why}");
                    let rk = record_of(Some(&op.feed_id), op.row);
                    self.run
                        .events(&[JournalEvent::new(&rk, failed(&msg, Some(&op.action)))])
                        .await?;
                    tally.counts.failed += 1;
                    tally.failures.push((op.feed_id.clone(), msg));
                    continue;
                }
            };
            if let Some(refused) = write_op(self, client, member, op, &mut tally).await? {
                stopped = Some(refused);
            }
        }
        Ok((tally, stopped))
    }
}

/// Creates a contact the plan needs, with its phone number; gives its id, or why it could not
/// be created (journaled), and why its phone number was not written, if it was not.
async fn create_contact(
    store: &Store,
    client: &Client,
    run: &Run,
    c: &NewContact,
    phone: Option<&(String, String)>,
) -> Result<(Result<i64, String>, Option<String>), ActivityError> {
    let rk = format!("contact:{}", c.contact);
    run.events(&[JournalEvent::new(
        &rk,
        Step::ContactCreateStarted {
            first_name: Some(c.first_name.clone()),
            last_name: Some(c.last_name.clone()),
            phone: phone.and(c.phone.clone()),
        },
    )])
    .await?;
    let body = NewPerson {
        first_name: c.first_name.clone(),
        last_name: c.last_name.clone(),
        emails: c.email.iter().cloned().collect(),
        organization_ids: None,
    };
    let p = match client.create_person_v1(&body).await {
        Ok(p) => p,
        Err(e) => {
            let msg = e.to_string();
            run.events(&[JournalEvent::new(&rk, failed(&msg, None))])
                .await?;
            return Ok((Err(msg), None));
        }
    };
    let id = p.id.0;
    store
        .learn_entity(
            &LearnedEntity::Person {
                id,
                // A person created through the API is an external one.
                person_type: Some("external".into()),
                first_name: Some(c.first_name.clone()),
                last_name: Some(c.last_name.clone()),
                emails: body.emails.clone(),
            },
            Utc::now(),
        )
        .await?;
    let (mut phone_written, mut phone_error) = (None, None);
    if let (Some(number), Some((field, value_type))) = (&c.phone, phone) {
        match write_phone(store, client, id, field, value_type, number).await? {
            Ok(()) => phone_written = Some(number.clone()),
            Err(e) => phone_error = Some(e),
        }
    }
    run.events(&[JournalEvent::new(
        &rk,
        Step::ContactCreated {
            person_id: id,
            phone: phone_written,
            phone_error: phone_error.clone(),
        },
    )])
    .await?;
    Ok((Ok(id), phone_error))
}

/// Writes a new contact's phone number (through v1, which takes a field's numeric id).
pub(super) async fn write_phone(
    store: &Store,
    client: &Client,
    person: i64,
    field: &str,
    value_type: &str,
    number: &str,
) -> Result<Result<(), String>, ActivityError> {
    let Some(fid) = field
        .strip_prefix("field-")
        .and_then(|n| n.parse::<i64>().ok())
    else {
        return Ok(Err(format!("field `{field}` cannot be written through v1")));
    };
    let fv = NewFieldValue {
        field_id: FieldId(fid),
        entity_id: person,
        value: json!(number),
        list_entry_id: None,
    };
    if let Err(e) = client.create_field_value_v1(&fv).await {
        return Ok(Err(e.to_string()));
    }
    learn_phone(store, person, field, value_type, number).await?;
    Ok(Ok(()))
}

/// The mirror learns a person's phone number in the phone field.
pub(super) async fn learn_phone(
    store: &Store,
    person: i64,
    field: &str,
    value_type: &str,
    number: &str,
) -> Result<(), StoreError> {
    let item = ValueItem {
        value_type: value_type.to_string(),
        text: Some(number.to_string()),
        ..ValueItem::default()
    };
    store
        .learn_values(
            Owner::Entity(Kind::Person, person),
            field,
            &[item],
            Utc::now(),
        )
        .await
}

/// Creates an earlier run started and never saw completed (killed between the request and the
/// store learning it): Affinity is asked before they are written again.
async fn unconfirmed_creates(store: &Store) -> Result<BTreeSet<String>, ActivityError> {
    Ok(store
        .events_with_steps(&ACTIVITY_WRITE_STEPS)
        .await?
        .into_iter()
        .filter(|e| matches!(&e.event.step, Step::WriteStarted { action, .. } if action.creates()))
        .filter_map(|e| e.event.record.strip_prefix("activity:").map(str::to_string))
        .collect())
}

/// A `failed` step with an error and the write it stopped.
fn failed(msg: &str, action: Option<&Action>) -> Step {
    Step::Failed {
        reason: None,
        field: None,
        fields: vec![],
        message: None,
        error: Some(msg.to_string()),
        action: action.map(|a| a.journal().as_str().to_string()),
    }
}

/// One note or call: journaled before it is written and after, counted. Gives why the key
/// was refused, when Affinity refused it (401).
async fn write_op(
    lane: &Lane<'_>,
    client: &Client,
    member: Option<&str>,
    op: &Op,
    tally: &mut Tally,
) -> Result<Option<String>, ActivityError> {
    let (store, run) = (lane.store, lane.run);
    let rk = record_of(Some(&op.feed_id), op.row);
    let person = match op.target {
        Target::Person(id) => id,
        Target::New(i) => match &lane.created[i] {
            Ok(id) => *id,
            Err(e) => {
                let msg = format!("the contact could not be created: {e}");
                run.events(&[JournalEvent::new(&rk, failed(&msg, None))])
                    .await?;
                tally.counts.failed += 1;
                tally.failures.push((op.feed_id.clone(), msg));
                return Ok(None);
            }
        },
    };
    // Write-ahead: the journal says what is about to be written before it is.
    run.events(&[JournalEvent::new(
        &rk,
        Step::WriteStarted {
            action: op.action.journal(),
            person_id: Some(person),
            row: Some(op.row),
            member: member.map(str::to_string),
        },
    )])
    .await?;
    let unconfirmed = lane.unconfirmed.contains(&op.feed_id);
    match apply(store, client, op, person, member, unconfirmed).await {
        Ok(mut written) => {
            let c = &mut tally.counts;
            *match &op.action {
                Action::CreateNote { .. } => &mut c.notes_created,
                Action::UpdateNote { .. } => &mut c.notes_updated,
                Action::DeleteNote { .. } => &mut c.notes_deleted,
                Action::LogCall { .. } => &mut c.calls_logged,
                Action::UpdateCall { .. } => &mut c.calls_updated,
                Action::DeleteCall { .. } => &mut c.calls_deleted,
            } += 1;
            written.member = member.map(str::to_string);
            run.events(&[JournalEvent::new(&rk, op.action.journal().done(written))])
                .await?;
            Ok(None)
        }
        Err(ApplyError::Api(e)) => {
            let msg = e.to_string();
            run.events(&[JournalEvent::new(&rk, failed(&msg, Some(&op.action)))])
                .await?;
            tally.counts.failed += 1;
            tally.failures.push((op.feed_id.clone(), msg));
            Ok((e.status() == Some(401)).then(|| match member {
                Some(m) => crate::members::refused(m, &e),
                None => format!("the default key was refused (401): {e}"),
            }))
        }
        Err(ApplyError::Store(e)) => Err(e.into()),
    }
}

enum ApplyError {
    /// Affinity refused or could not be reached: the event fails, the run goes on.
    Api(affinity_crm::Error),
    Store(StoreError),
}

impl From<StoreError> for ApplyError {
    fn from(e: StoreError) -> Self {
        ApplyError::Store(e)
    }
}

fn api(e: affinity_crm::Error) -> ApplyError {
    ApplyError::Api(e)
}

/// One write, and the store learning it; gives the journal's detail.
async fn apply(
    store: &Store,
    client: &Client,
    op: &Op,
    person: i64,
    member: Option<&str>,
    unconfirmed: bool,
) -> Result<ActivityWrite, ApplyError> {
    let recorded = |object, affinity_id, interaction_type| RecordedActivity {
        object,
        affinity_id,
        interaction_type,
        person_id: person,
        hash: &op.hash,
        member,
    };
    let learn = |object, id, kind| async move {
        store
            .record_activity(&op.feed_id, recorded(object, id, kind), Utc::now())
            .await
    };
    match &op.action {
        Action::CreateNote {
            content,
            created_at,
        } => {
            let id = create_note(client, person, unconfirmed, content, *created_at).await?;
            learn(plan::Object::Note, id.0, None).await?;
            Ok(ActivityWrite {
                note_id: Some(id.0),
                person_id: Some(person),
                found: id.1,
                ..ActivityWrite::default()
            })
        }
        Action::UpdateNote { note_id, content } => {
            client
                .update_note_v1(NoteId(*note_id), content)
                .await
                .map_err(api)?;
            learn(plan::Object::Note, *note_id, None).await?;
            Ok(ActivityWrite {
                note_id: Some(*note_id),
                ..ActivityWrite::default()
            })
        }
        Action::DeleteNote { note_id } => {
            match client.delete_note_v1(NoteId(*note_id)).await {
                Ok(()) => {}
                // Already gone in Affinity: the feed and Affinity agree.
                Err(e) if e.status() == Some(404) => {}
                Err(e) => return Err(api(e)),
            }
            store.mark_activity_deleted(&op.feed_id, Utc::now()).await?;
            Ok(ActivityWrite {
                note_id: Some(*note_id),
                ..ActivityWrite::default()
            })
        }
        Action::LogCall {
            date,
            direction,
            content,
        } => {
            let (id, found) =
                log_call(client, person, unconfirmed, *date, *direction, content).await?;
            learn(plan::Object::Interaction, id, Some(plan::CALL)).await?;
            // A call found again keeps the shape it was journaled with before (no date,
            // direction).
            Ok(ActivityWrite {
                interaction_id: Some(id),
                person_id: Some(person),
                found,
                date: (!found).then(|| date.to_rfc3339()),
                direction: (!found)
                    .then(|| serde_json::to_value(direction).ok())
                    .flatten()
                    .map(|d| d.to_string().trim_matches('"').to_string()),
                ..ActivityWrite::default()
            })
        }
        Action::UpdateCall {
            id,
            date,
            direction,
            content,
        } => {
            let body = call_body(person, *date, *direction, content);
            client
                .update_interaction_v1(InteractionId(*id), &body)
                .await
                .map_err(api)?;
            learn(plan::Object::Interaction, *id, Some(plan::CALL)).await?;
            Ok(ActivityWrite {
                interaction_id: Some(*id),
                ..ActivityWrite::default()
            })
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
            store.mark_activity_deleted(&op.feed_id, Utc::now()).await?;
            Ok(ActivityWrite {
                interaction_id: Some(*id),
                ..ActivityWrite::default()
            })
        }
    }
}

fn call_body(
    person: i64,
    date: chrono::DateTime<Utc>,
    direction: i64,
    content: &str,
) -> NewInteraction {
    NewInteraction {
        interaction_type: plan::CALL,
        person_ids: vec![PersonId(person)],
        content: Some(content.to_string()),
        date,
        direction: Some(direction),
    }
}

/// A note for a feed event; when an earlier run's create of it is unconfirmed, the person's
/// notes are asked first and one with the same text is taken as that create. Gives its id and
/// whether it was found.
async fn create_note(
    client: &Client,
    person: i64,
    unconfirmed: bool,
    content: &str,
    created_at: Option<chrono::DateTime<Utc>>,
) -> Result<(i64, bool), ApplyError> {
    if unconfirmed {
        let notes: Vec<_> = client
            .notes_v1(Some(FieldValuesOf::Person(PersonId(person))))
            .try_collect()
            .await
            .map_err(api)?;
        if let Some(n) = notes.iter().find(|n| n.text().as_deref() == Some(content)) {
            return Ok((n.id.0, true));
        }
    }
    let body = NewNote {
        content: content.to_string(),
        person_ids: vec![PersonId(person)],
        created_at,
        ..NewNote::default()
    };
    Ok((client.create_note_v1(&body).await.map_err(api)?.id.0, false))
}

/// A call for a feed event; when an earlier run's create of it is unconfirmed, the person's
/// calls around its time are asked first and one with the same date, direction and words is
/// taken as that create. Gives its id and whether it was found.
async fn log_call(
    client: &Client,
    person: i64,
    unconfirmed: bool,
    date: chrono::DateTime<Utc>,
    direction: i64,
    content: &str,
) -> Result<(i64, bool), ApplyError> {
    if unconfirmed {
        let calls: Vec<_> = client
            .person_interactions_v1(
                plan::CALL,
                PersonId(person),
                date - chrono::Duration::minutes(1),
                date + chrono::Duration::minutes(1),
            )
            .try_collect()
            .await
            .map_err(api)?;
        let same = |i: &&affinity_crm::v1::Interaction| {
            i.date == Some(date)
                && i.direction == Some(direction)
                && i.content.as_deref() == Some(content)
        };
        if let Some(i) = calls.iter().find(same) {
            return Ok((i.id.0, true));
        }
    }
    let body = call_body(person, date, direction, content);
    Ok((
        client.create_interaction_v1(&body).await.map_err(api)?.id.0,
        false,
    ))
}
