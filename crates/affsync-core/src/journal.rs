//! The journal's events: one [`JournalEvent`] per record per step of every kind of run, typed.
//!
//! The store keeps an event as its record (`src:ACME-1`, `entry:601`), its step's name (the
//! enum's tag) and its detail (the variant's fields, as JSON). Recovery, the activity view and
//! the report match on variants; only this module's (de)serialization knows the step names as
//! text. Events written by earlier versions read back as long as their detail keys are the
//! ones below; a detail that no longer reads is kept as [`Step::Unreadable`].

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::model::RunId;

/// The kinds of run the journal holds (`runs.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunKind {
    Pull,
    Match,
    Push,
    PushDryRun,
    Job,
    Review,
    LogActivity,
    Contacts,
    /// Writes an assistant asked for through `affsync mcp`.
    Mcp,
    /// `affsync listen`: webhook events applied to the mirror, and the enrichment loop.
    Listen,
}

impl RunKind {
    pub const ALL: [RunKind; 10] = [
        RunKind::Pull,
        RunKind::Match,
        RunKind::Push,
        RunKind::PushDryRun,
        RunKind::Job,
        RunKind::Review,
        RunKind::LogActivity,
        RunKind::Contacts,
        RunKind::Mcp,
        RunKind::Listen,
    ];

    /// The word stored in `runs.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            RunKind::Pull => "pull",
            RunKind::Match => "match",
            RunKind::Push => "push",
            RunKind::PushDryRun => "push-dry-run",
            RunKind::Job => "job",
            RunKind::Review => "review",
            RunKind::LogActivity => "log-activity",
            RunKind::Contacts => "contacts",
            RunKind::Mcp => "mcp",
            RunKind::Listen => "listen",
        }
    }

    pub fn parse(s: &str) -> Option<RunKind> {
        RunKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for RunKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a run ended (`runs.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Running,
    Ok,
    /// Some records failed; the others were done.
    Partial,
    Failed,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Ok => "ok",
            RunStatus::Partial => "partial",
            RunStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<RunStatus> {
        [
            RunStatus::Running,
            RunStatus::Ok,
            RunStatus::Partial,
            RunStatus::Failed,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// One journal line: what happened to which record.
#[derive(Debug, Clone, PartialEq)]
pub struct JournalEvent {
    /// `entry:601`, `organization:201`, `list:301`, `src:ACME-1`, `row:7`, `job:nightly`, ...
    pub record: String,
    /// The mapping file the event is about (match, push and review events).
    pub mapping: Option<String>,
    pub step: Step,
}

impl JournalEvent {
    pub fn new(record: impl Into<String>, step: Step) -> JournalEvent {
        JournalEvent {
            record: record.into(),
            mapping: None,
            step,
        }
    }

    /// The same event, about a mapping file.
    pub fn for_mapping(mut self, mapping: impl Into<String>) -> JournalEvent {
        self.mapping = Some(mapping.into());
        self
    }

    /// The step's name and its detail as stored: the detail carries `mapping` beside the
    /// step's own fields.
    pub fn to_stored(&self) -> (String, Option<Json>) {
        let (name, mut detail) = self.step.to_stored();
        if let Some(m) = &self.mapping {
            let d = detail.get_or_insert_with(|| Json::Object(Default::default()));
            if let Json::Object(o) = d {
                o.insert("mapping".into(), Json::String(m.clone()));
            }
        }
        (name, detail)
    }

    /// An event from what the store holds.
    pub fn from_stored(record: String, step: &str, detail: Option<Json>) -> JournalEvent {
        let mapping = detail
            .as_ref()
            .and_then(|d| d.get("mapping"))
            .and_then(Json::as_str)
            .map(str::to_string);
        JournalEvent {
            record,
            mapping,
            step: Step::from_stored(step, detail),
        }
    }
}

/// An id written as text or as a number (both occur in journals written by hand or by
/// earlier versions); read as text.
fn lenient_id<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Json>::deserialize(d)? {
        Some(Json::String(s)) => Some(s),
        Some(Json::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

fn lenient_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    lenient_id(d).map(Option::unwrap_or_default)
}

/// A candidate a match decision weighed.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct CandidateScore {
    pub affinity_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
}

impl<'de> Deserialize<'de> for CandidateScore {
    /// `{"affinity_id": "201", "score": 0.9}`, or a bare id.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Json::deserialize(d)?;
        let text = |v: &Json| match v {
            Json::String(s) => Some(s.clone()),
            Json::Number(n) => Some(n.to_string()),
            _ => None,
        };
        match &v {
            Json::Object(o) => Ok(CandidateScore {
                affinity_id: o.get("affinity_id").and_then(text).unwrap_or_default(),
                score: o.get("score").and_then(Json::as_f64),
            }),
            other => Ok(CandidateScore {
                affinity_id: text(other).unwrap_or_default(),
                score: None,
            }),
        }
    }
}

/// What a match decided about one record (the detail of `matched`, `review`, `unmatched`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct MatchDetail {
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub score: Option<f64>,
    #[serde(default, deserialize_with = "lenient_id")]
    pub affinity_id: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub candidates: Vec<CandidateScore>,
    /// The waterfall of the chosen (or best) candidate's match weight, the prior first; empty
    /// when nothing was compared (and in events written before it existed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contributions: Vec<WeightStep>,
}

/// One step of a match weight's waterfall: what one compared attribute said, in bits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct WeightStep {
    /// The source column; `None` for the prior and for adjustments.
    #[serde(default)]
    pub source: Option<String>,
    /// The Affinity attribute compared with it.
    #[serde(default)]
    pub affinity: Option<String>,
    /// The comparison level (`exact`, `missing`), `prior`, or an adjustment.
    #[serde(default)]
    pub level: String,
    /// Bits for (positive) or against (negative) a match.
    #[serde(default)]
    pub weight: f64,
}

/// One field that failed, with why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct FieldProblem {
    pub field: String,
    pub reason: String,
}

/// A field written: its name and id, the values before and after in words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct FieldChange {
    pub field: String,
    #[serde(default)]
    pub field_id: Option<String>,
    #[serde(default)]
    pub old: Option<String>,
    #[serde(default)]
    pub new: Option<String>,
}

/// The step of a journal event, with what it carries. The tag is the step's stored name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "step", content = "detail", rename_all = "snake_case")]
pub enum Step {
    // ---- pull ----
    /// A list entry, list or field seen for the first time.
    New {
        #[serde(default)]
        list: Option<i64>,
        /// `organization:201`: the entity a new entry holds.
        #[serde(default)]
        entity: Option<String>,
        #[serde(default)]
        name: Option<String>,
    },
    /// A list entry, list or field that differs from the mirror: the parts that changed.
    Changed {
        #[serde(default)]
        changed: Vec<String>,
        #[serde(default)]
        name: Option<String>,
    },
    /// No longer in Affinity (flagged `gone_at`, kept).
    Removed {
        #[serde(default)]
        list: Option<i64>,
    },
    /// An entity Affinity merged into another.
    Merged {
        #[serde(default)]
        into: Option<String>,
    },
    /// An entity Affinity no longer has.
    Gone {},
    /// One list pulled: its counts.
    Pulled(ListPulled),

    // ---- match ----
    Matched(MatchDetail),
    Review(MatchDetail),
    Unmatched(MatchDetail),
    /// A record or step that could not be done at all (an unreadable row; a job's failed step).
    Error {
        #[serde(default)]
        reason: Option<String>,
        #[serde(default)]
        message: Option<String>,
        /// The job step that failed.
        #[serde(default)]
        step: Option<String>,
    },

    // ---- review ----
    ReviewDecided(ReviewDetail),
    ReviewUndone(ReviewDetail),
    /// A reviewer accepted a record that Affinity has since merged: the verdict follows the
    /// survivor, as a pull does.
    VerdictFollowedMerge {
        #[serde(deserialize_with = "lenient_text")]
        from: String,
        #[serde(deserialize_with = "lenient_text")]
        to: String,
    },
    /// A reviewer accepted a record that Affinity has since deleted: the record is open again.
    VerdictReopened {
        #[serde(deserialize_with = "lenient_text")]
        affinity_id: String,
        reason: String,
    },

    // ---- push ----
    /// A dry run's plan for one record.
    Planned {
        action: String,
        #[serde(default)]
        affinity_id: Option<i64>,
        #[serde(default)]
        fields: Vec<FieldChange>,
        #[serde(default)]
        add_to_list: bool,
        #[serde(default)]
        reason: String,
        #[serde(default)]
        estimated_calls: u64,
    },
    /// A create is about to be sent (a rerun asks Affinity before sending it again).
    CreateStarted {
        kind: String,
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        domain: Option<String>,
        #[serde(default)]
        emails: Vec<String>,
    },
    /// A record created in Affinity (push, contacts).
    Created {
        #[serde(deserialize_with = "lenient_text")]
        affinity_id: String,
        #[serde(default)]
        kind: Option<String>,
        #[serde(default)]
        name: Option<String>,
    },
    /// An add to a list is about to be sent.
    AddStarted {
        list: String,
        #[serde(default, deserialize_with = "lenient_id")]
        affinity_id: Option<String>,
    },
    AddedToList {
        list: String,
        #[serde(default, deserialize_with = "lenient_id")]
        entry_id: Option<String>,
        #[serde(default, deserialize_with = "lenient_id")]
        affinity_id: Option<String>,
    },
    FieldUpdated {
        #[serde(flatten)]
        change: FieldChange,
        #[serde(default, deserialize_with = "lenient_id")]
        affinity_id: Option<String>,
    },
    Unchanged {
        #[serde(default, deserialize_with = "lenient_id")]
        affinity_id: Option<String>,
    },
    /// A cell that did not convert: skipped, the record's other values written.
    ValueSkipped {
        field: String,
        #[serde(default)]
        value: Option<String>,
        #[serde(default)]
        reason: Option<String>,
    },
    /// Not written, and why (a push's `awaiting_review`, a feed line no member owns, ...).
    Skipped {
        #[serde(default)]
        reason: Option<String>,
        #[serde(default)]
        detail: Option<String>,
        /// The kind of skip, where the run has several (log-activity).
        #[serde(default)]
        why: Option<String>,
        #[serde(default)]
        row: Option<usize>,
        #[serde(default)]
        problem: Option<String>,
    },
    /// A record that failed: the reason, the fields that failed, Affinity's message.
    Failed {
        #[serde(default)]
        reason: Option<String>,
        #[serde(default)]
        field: Option<String>,
        #[serde(default)]
        fields: Vec<FieldProblem>,
        #[serde(default)]
        message: Option<String>,
        /// log-activity: the error and the write it stopped.
        #[serde(default)]
        error: Option<String>,
        #[serde(default)]
        action: Option<String>,
    },

    // ---- log-activity ----
    ContactCreateStarted {
        #[serde(default)]
        first_name: Option<String>,
        #[serde(default)]
        last_name: Option<String>,
        /// The number to write into the phone field once the person exists.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        phone: Option<String>,
    },
    ContactCreated {
        person_id: i64,
        #[serde(default)]
        phone: Option<String>,
        #[serde(default)]
        phone_error: Option<String>,
    },
    /// A note or call write is about to be sent.
    WriteStarted {
        action: ActivityAction,
        #[serde(default)]
        person_id: Option<i64>,
        #[serde(default)]
        row: Option<usize>,
        /// The member whose key writes it (`[[members]]`); absent: the default key.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        member: Option<String>,
    },
    NoteCreated(ActivityWrite),
    NoteUpdated(ActivityWrite),
    NoteDeleted(ActivityWrite),
    CallLogged(ActivityWrite),
    CallUpdated(ActivityWrite),
    CallDeleted(ActivityWrite),

    // ---- contacts ----
    PersonUpdated {
        #[serde(deserialize_with = "lenient_text")]
        affinity_id: String,
        #[serde(default)]
        first_name: Option<String>,
        #[serde(default)]
        last_name: Option<String>,
    },
    WrittenToFile {
        #[serde(deserialize_with = "lenient_text")]
        affinity_id: String,
        #[serde(default)]
        reason: Option<String>,
    },

    // ---- mcp ----
    /// A write an assistant asked for through `affsync mcp`, its plan confirmed, about to be
    /// sent. `origin` is the assistant (the MCP client's name and version).
    McpWriteStarted {
        tool: String,
        origin: String,
        #[serde(default)]
        summary: String,
    },
    /// The write was applied: what it did and the calls it took.
    McpWritten {
        tool: String,
        origin: String,
        #[serde(default)]
        summary: String,
        #[serde(default, deserialize_with = "lenient_id")]
        affinity_id: Option<String>,
        #[serde(default)]
        changes: Vec<FieldChange>,
        #[serde(default)]
        calls: u64,
    },
    /// The write failed: Affinity's answer or why it was not sent.
    McpWriteFailed {
        tool: String,
        origin: String,
        #[serde(default)]
        error: String,
    },
    // ---- listen ----
    /// The listener subscribed to Affinity's webhooks (or found its own subscription again).
    Subscribed {
        subscription: i64,
        /// The event types it takes.
        #[serde(default)]
        events: Vec<String>,
        /// Its subscription of an earlier start, kept.
        #[serde(default)]
        reused: bool,
    },
    /// The listener removed its subscription (`affsync listen --unsubscribe`).
    Unsubscribed {
        subscription: i64,
    },
    /// A webhook event applied to the mirror: what it was, and the reads it took.
    WebhookApplied(WebhookDetail),
    /// A webhook event that needed nothing done, and why.
    WebhookSkipped {
        #[serde(flatten)]
        event: WebhookDetail,
        why: WebhookSkip,
    },
    /// A reconciliation: a pull compared with what the webhooks had brought; its drift is the
    /// entries they missed.
    Drift(DriftDetail),
    /// The enrichment loop: a record landed on its list and the enrichment source has no row
    /// for it.
    NotInSource {
        list: String,
        #[serde(default)]
        name: Option<String>,
    },

    /// An event whose step or detail this version cannot read: kept as it was stored.
    #[serde(skip)]
    Unreadable {
        step: String,
        detail: Option<Json>,
    },
}

/// One list's pull.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ListPulled {
    pub list_id: i64,
    pub list: String,
    pub entries_seen: usize,
    pub new: usize,
    pub changed: usize,
    pub removed: usize,
    pub entities: usize,
    pub field_values: usize,
    pub field_values_written: usize,
    pub fields_new: usize,
    pub fields_changed: usize,
    pub api_calls: u64,
    pub seconds: f64,
}

/// A webhook event as the listener took it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct WebhookDetail {
    /// Its type, as sent: `list_entry.created`.
    pub event: String,
    /// Its place in the listener's queue.
    pub queued: i64,
    /// `sent_at`, Unix seconds, when the event carried it.
    pub sent_at: Option<i64>,
    /// The reads of Affinity it took (at most one).
    pub reads: u64,
}

/// Why a webhook event needed nothing done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookSkip {
    /// A type the mirror does not follow (notes, reminders, files, ...) or does not know.
    NotFollowed,
    /// About a list the mirror does not pull, or a record no pulled list holds.
    NotMirrored,
    /// About a record already gone (deletions are final): a late or repeated event.
    AlreadyGone,
    /// Its change was already read: a read made after it arrived brought it.
    AlreadyRead,
    /// The mirror already holds the value it announces: the echo of affsync's own write (the
    /// mirror learned the value from the write), or a repeated delivery.
    AlreadyHeld,
    /// Its body lacks what the event is about.
    Unreadable,
}

impl WebhookSkip {
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookSkip::NotFollowed => "not followed",
            WebhookSkip::NotMirrored => "not mirrored",
            WebhookSkip::AlreadyGone => "already gone",
            WebhookSkip::AlreadyRead => "already read",
            WebhookSkip::AlreadyHeld => "already held",
            WebhookSkip::Unreadable => "unreadable",
        }
    }
}

/// What a reconciliation found: the entries that differed from the mirror the webhooks kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct DriftDetail {
    /// The lists reconciled.
    pub lists: Vec<String>,
    pub entries: usize,
    pub new: usize,
    pub changed: usize,
    pub removed: usize,
    /// new + changed + removed.
    pub drift: usize,
    /// The entries that drifted (ids), for finding them in the journal.
    pub drifted: Vec<i64>,
}

/// A reviewer's verdict, or its undoing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ReviewDetail {
    #[serde(default)]
    pub verdict: Option<String>,
    #[serde(default, deserialize_with = "lenient_id")]
    pub affinity_id: Option<String>,
    #[serde(default)]
    pub decided_by: Option<String>,
}

/// The writes log-activity makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivityAction {
    NoteCreated,
    NoteUpdated,
    NoteDeleted,
    CallLogged,
    CallUpdated,
    CallDeleted,
}

impl ActivityAction {
    /// Whether the write creates something (a rerun must find it before creating it again).
    pub fn creates(self) -> bool {
        matches!(
            self,
            ActivityAction::NoteCreated | ActivityAction::CallLogged
        )
    }

    /// The step journaled once the write is done.
    pub fn done(self, w: ActivityWrite) -> Step {
        match self {
            ActivityAction::NoteCreated => Step::NoteCreated(w),
            ActivityAction::NoteUpdated => Step::NoteUpdated(w),
            ActivityAction::NoteDeleted => Step::NoteDeleted(w),
            ActivityAction::CallLogged => Step::CallLogged(w),
            ActivityAction::CallUpdated => Step::CallUpdated(w),
            ActivityAction::CallDeleted => Step::CallDeleted(w),
        }
    }

    /// The name, as the journal and `--json` say it.
    pub fn as_str(self) -> &'static str {
        match self {
            ActivityAction::NoteCreated => "note_created",
            ActivityAction::NoteUpdated => "note_updated",
            ActivityAction::NoteDeleted => "note_deleted",
            ActivityAction::CallLogged => "call_logged",
            ActivityAction::CallUpdated => "call_updated",
            ActivityAction::CallDeleted => "call_deleted",
        }
    }
}

/// A note or interaction written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ActivityWrite {
    #[serde(default)]
    pub note_id: Option<i64>,
    #[serde(default)]
    pub interaction_id: Option<i64>,
    #[serde(default)]
    pub person_id: Option<i64>,
    /// Found in Affinity (written by a run that never recorded it), not written again.
    #[serde(default)]
    pub found: bool,
    #[serde(default)]
    pub date: Option<String>,
    #[serde(default)]
    pub direction: Option<String>,
    /// The member whose key wrote it (`[[members]]`); absent: the default key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<String>,
}

impl Step {
    /// What an activity write did (`note_created` … `call_deleted`), for the steps that are one.
    pub fn activity_write(&self) -> Option<&ActivityWrite> {
        match self {
            Step::NoteCreated(w)
            | Step::NoteUpdated(w)
            | Step::NoteDeleted(w)
            | Step::CallLogged(w)
            | Step::CallUpdated(w)
            | Step::CallDeleted(w) => Some(w),
            _ => None,
        }
    }

    /// The step's stored name (`matched`, `field_updated`, ...).
    pub fn name(&self) -> String {
        match self {
            Step::Unreadable { step, .. } => step.clone(),
            other => other.to_stored().0,
        }
    }

    /// The name and the detail as stored.
    fn to_stored(&self) -> (String, Option<Json>) {
        if let Step::Unreadable { step, detail } = self {
            return (step.clone(), detail.clone());
        }
        let v = serde_json::to_value(self).expect("a journal step serializes");
        let name = v["step"].as_str().unwrap_or_default().to_string();
        // What is absent is left out, not written as `null` or `[]`.
        let detail = match v.get("detail").cloned() {
            Some(Json::Object(mut o)) => {
                o.retain(|_, v| !(v.is_null() || v.as_array().is_some_and(Vec::is_empty)));
                Some(Json::Object(o)).filter(|d| d.as_object().is_some_and(|o| !o.is_empty()))
            }
            Some(Json::Null) | None => None,
            other => other,
        };
        (name, detail)
    }

    /// The step a stored name and detail make.
    fn from_stored(step: &str, detail: Option<Json>) -> Step {
        let content = match &detail {
            Some(Json::Object(o)) => {
                let mut o = o.clone();
                o.remove("mapping");
                Json::Object(o)
            }
            Some(other) => other.clone(),
            None => Json::Object(Default::default()),
        };
        let tagged = serde_json::json!({ "step": step, "detail": content });
        serde_json::from_value(tagged).unwrap_or(Step::Unreadable {
            step: step.to_string(),
            detail,
        })
    }

    /// Whether the step is a record's failure (`failed`, `error`).
    pub fn is_failure(&self) -> bool {
        matches!(self, Step::Failed { .. } | Step::Error { .. })
    }

    /// The decision of a match step, with its score.
    pub fn match_detail(&self) -> Option<&MatchDetail> {
        match self {
            Step::Matched(d) | Step::Review(d) | Step::Unmatched(d) => Some(d),
            _ => None,
        }
    }

    /// One step, in words: `matched by fuzzy (score 0.93) to 201`, `Website: a.io → b.io`.
    // Long by design: one short arm per step variant, an exhaustive match that the compiler
    // keeps complete when a step is added.
    pub fn describe(&self) -> String {
        let or = |v: &Option<String>, d: &str| v.clone().unwrap_or_else(|| d.to_string());
        match self {
            Step::New { list, entity, name } => match (name, list, entity) {
                (Some(n), _, _) => format!("new: {n}"),
                (_, Some(l), Some(e)) => format!("new on list {l}: {e}"),
                (_, Some(l), None) => format!("new on list {l}"),
                _ => "new".into(),
            },
            Step::Changed { changed, name } => match (changed.is_empty(), name) {
                (false, _) => format!("changed: {}", changed.join(", ")),
                (true, Some(n)) => format!("changed: {n}"),
                (true, None) => "changed".into(),
            },
            Step::Removed { list } => match list {
                Some(l) => format!("removed from list {l}"),
                None => "removed".into(),
            },
            Step::Merged { into } => format!("merged into {}", or(into, "?")),
            Step::Gone {} => "gone".into(),
            Step::Pulled(p) => format!(
                "pulled {} entries: {} new, {} changed, {} removed",
                p.entries_seen, p.new, p.changed, p.removed
            ),
            Step::Matched(d) => {
                let mut s = format!("matched by {}", or(&d.method, "?"));
                if let Some(sc) = d.score {
                    s.push_str(&format!(" (score {sc:.2})"));
                }
                if let Some(a) = &d.affinity_id {
                    s.push_str(&format!(" to {a}"));
                }
                s
            }
            Step::Review(d) => format!(
                "sent to review (score {}, {} candidates)",
                d.score.map_or_else(|| "?".into(), |s| format!("{s:.2}")),
                d.candidates.len()
            ),
            Step::Unmatched(d) => format!("no match: {}", or(&d.reason, "no reason given")),
            Step::Error {
                reason, message, ..
            } => match (reason, message) {
                (Some(r), Some(m)) => format!("error: {r}: {}", first_line(m)),
                (Some(r), None) => format!("error: {r}"),
                (None, Some(m)) => format!("error: {}", first_line(m)),
                _ => "error".into(),
            },
            Step::ReviewDecided(r) => format!(
                "reviewer {} decided {}{}",
                or(&r.decided_by, "?"),
                or(&r.verdict, "?"),
                r.affinity_id
                    .as_ref()
                    .map(|a| format!(" ({a})"))
                    .unwrap_or_default()
            ),
            Step::ReviewUndone(r) => format!(
                "reviewer {} undid {}",
                or(&r.decided_by, "?"),
                or(&r.verdict, "a verdict")
            ),
            Step::VerdictFollowedMerge { from, to } => {
                format!("the reviewer's verdict follows the merge: {from} → {to}")
            }
            Step::VerdictReopened {
                affinity_id,
                reason,
            } => format!("open again: the accepted record {affinity_id} {reason}"),
            Step::Planned {
                action,
                fields,
                estimated_calls,
                ..
            } => format!(
                "planned: {action}, {} field(s), {estimated_calls} call(s)",
                fields.len()
            ),
            Step::CreateStarted { kind, name, .. } => format!("creating {kind} {}", or(name, ""))
                .trim_end()
                .to_string(),
            Step::Created {
                affinity_id, kind, ..
            } => format!("created {} {affinity_id}", or(kind, "record")),
            Step::AddStarted { list, .. } => format!("adding to {list}"),
            Step::AddedToList { list, entry_id, .. } => {
                format!("added to {list} (entry {})", or(entry_id, "?"))
            }
            Step::FieldUpdated { change, .. } => format!(
                "{}: {} → {}",
                change.field,
                or(&change.old, "(empty)"),
                or(&change.new, "(empty)")
            ),
            Step::Unchanged { .. } => "unchanged".into(),
            Step::ValueSkipped {
                field,
                value,
                reason,
            } => format!(
                "value skipped: {field} `{}` ({})",
                or(value, ""),
                or(reason, "does not convert")
            ),
            Step::Skipped {
                reason,
                detail,
                why,
                ..
            } => {
                let r = reason.clone().or_else(|| why.clone());
                match (r, detail) {
                    (Some(r), Some(d)) if !d.is_empty() => format!("skipped: {r} ({d})"),
                    (Some(r), _) => format!("skipped: {r}"),
                    (None, _) => "skipped: no reason given".into(),
                }
            }
            Step::Failed {
                reason,
                field,
                message,
                error,
                ..
            } => {
                let mut s = match field {
                    Some(f) => format!("failed on {f}"),
                    None => "failed".into(),
                };
                if let Some(r) = reason {
                    s.push_str(&format!(": {r}"));
                }
                if let Some(m) = message.as_ref().or(error.as_ref()) {
                    s.push_str(&format!(" ({})", first_line(m)));
                }
                s
            }
            Step::ContactCreateStarted {
                first_name,
                last_name,
                ..
            } => format!(
                "creating contact {} {}",
                or(first_name, ""),
                or(last_name, "")
            )
            .trim_end()
            .to_string(),
            Step::ContactCreated {
                person_id,
                phone_error,
                ..
            } => match phone_error {
                Some(e) => format!("contact created: person {person_id} (phone not written: {e})"),
                None => format!("contact created: person {person_id}"),
            },
            Step::WriteStarted { action, member, .. } => match member {
                Some(m) => format!("writing: {} as {m}", action.as_str()),
                None => format!("writing: {}", action.as_str()),
            },
            Step::NoteCreated(w)
            | Step::NoteUpdated(w)
            | Step::NoteDeleted(w)
            | Step::CallLogged(w)
            | Step::CallUpdated(w)
            | Step::CallDeleted(w) => {
                let what = match (w.note_id, w.interaction_id) {
                    (Some(n), _) => format!("note {n}"),
                    (None, Some(i)) => format!("interaction {i}"),
                    _ => "?".into(),
                };
                let who = w
                    .person_id
                    .map(|p| format!(" on person {p}"))
                    .unwrap_or_default();
                let found = if w.found { " (found in Affinity)" } else { "" };
                let by = w
                    .member
                    .as_ref()
                    .map(|m| format!(" as {m}"))
                    .unwrap_or_default();
                format!("{}: {what}{who}{by}{found}", self.name().replace('_', " "))
            }
            Step::PersonUpdated {
                affinity_id,
                first_name,
                last_name,
            } => format!(
                "person {affinity_id} updated: {} {}",
                or(first_name, ""),
                or(last_name, "")
            )
            .trim_end()
            .to_string(),
            Step::WrittenToFile {
                affinity_id,
                reason,
            } => match reason {
                Some(r) => format!("written to the file: {affinity_id} ({r})"),
                None => format!("written to the file: {affinity_id}"),
            },
            Step::McpWriteStarted {
                tool,
                origin,
                summary,
            } => format!("{origin} asked for {tool}: {summary}")
                .trim_end_matches([' ', ':'])
                .to_string(),
            Step::McpWritten {
                tool,
                origin,
                summary,
                calls,
                ..
            } => format!("{tool} for {origin}: {summary} ({calls} call(s))"),
            Step::McpWriteFailed {
                tool,
                origin,
                error,
            } => format!("{tool} for {origin} failed: {}", first_line(error)),
            Step::Subscribed {
                subscription,
                events,
                reused,
            } => format!(
                "{} webhook subscription {subscription} ({} event types)",
                if *reused { "kept" } else { "made" },
                events.len()
            ),
            Step::Unsubscribed { subscription } => {
                format!("removed webhook subscription {subscription}")
            }
            Step::WebhookApplied(w) => format!(
                "webhook {} applied ({} read{})",
                w.event,
                w.reads,
                if w.reads == 1 { "" } else { "s" }
            ),
            Step::WebhookSkipped { event, why } => {
                format!("webhook {} skipped: {}", event.event, why.as_str())
            }
            Step::Drift(d) => format!(
                "reconciled {} entries: drift {} ({} new, {} changed, {} removed)",
                d.entries, d.drift, d.new, d.changed, d.removed
            ),
            Step::NotInSource { list, name } => format!(
                "on {list}{}, and not in the enrichment source",
                name.as_ref()
                    .map(|n| format!(" as {n}"))
                    .unwrap_or_default()
            ),
            Step::Unreadable { step, detail } => match detail {
                Some(Json::Object(o)) if !o.is_empty() => format!(
                    "{step}: {}",
                    o.iter()
                        .map(|(k, v)| match v {
                            Json::String(s) => format!("{k}={s}"),
                            v => format!("{k}={v}"),
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                Some(Json::Null) | None => step.clone(),
                Some(other) => format!("{step}: {other}"),
            },
        }
    }

    /// The Affinity id the step names, if any.
    pub fn affinity_id(&self) -> Option<String> {
        match self {
            Step::Matched(d) | Step::Review(d) | Step::Unmatched(d) => d.affinity_id.clone(),
            Step::Created { affinity_id, .. }
            | Step::PersonUpdated { affinity_id, .. }
            | Step::WrittenToFile { affinity_id, .. } => Some(affinity_id.clone()),
            Step::AddStarted { affinity_id, .. }
            | Step::AddedToList { affinity_id, .. }
            | Step::FieldUpdated { affinity_id, .. }
            | Step::Unchanged { affinity_id } => affinity_id.clone(),
            Step::ReviewDecided(r) | Step::ReviewUndone(r) => r.affinity_id.clone(),
            Step::Planned { affinity_id, .. } => affinity_id.map(|i| i.to_string()),
            Step::ContactCreated { person_id, .. } => Some(person_id.to_string()),
            Step::McpWritten { affinity_id, .. } => affinity_id.clone(),
            _ => None,
        }
    }
}

/// The steps in the order a person reads them (tables, reports); others come after, by name.
pub const STEP_ORDER: &[&str] = &[
    "new",
    "changed",
    "removed",
    "merged",
    "gone",
    "pulled",
    "matched",
    "review",
    "unmatched",
    "created",
    "field_updated",
    "added_to_list",
    "unchanged",
    "value_skipped",
    "skipped",
    "failed",
    "error",
];

/// The steps that mark a write begun, before its outcome is known (the journal writes them
/// ahead, so that a rerun can settle a write a kill cut short): never an outcome to count.
pub const INTENT_STEPS: [&str; 4] = [
    "create_started",
    "add_started",
    "write_started",
    "contact_create_started",
];

/// The steps of a push's writes a rerun must settle: a create or list add begun and never
/// confirmed (the store reads them by name).
pub const PUSH_WRITE_STEPS: [&str; 4] =
    ["create_started", "created", "add_started", "added_to_list"];
/// The steps of log-activity's writes a rerun must settle.
pub const ACTIVITY_WRITE_STEPS: [&str; 2] = ["write_started", "contact_create_started"];
/// The steps that tell how far the creation of a log-activity contact got (`contact:` records).
pub const CONTACT_STEPS: [&str; 4] = [
    "contact_create_started",
    "contact_created",
    "failed",
    "skipped",
];

/// A run's id and its events, as a caller of the store sees them.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub run_id: RunId,
    pub at: String,
    pub event: JournalEvent,
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

/// How the journal names a source record: `src:ID`, or `row:N` for a row without an id.
pub fn record_key(source_id: Option<&str>, row: usize) -> String {
    match source_id {
        Some(s) if !s.trim().is_empty() => format!("src:{s}"),
        _ => format!("row:{row}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip(e: JournalEvent) {
        let (step, detail) = e.to_stored();
        let back = JournalEvent::from_stored(e.record.clone(), &step, detail);
        assert_eq!(back, e, "{step}");
        assert!(!matches!(back.step, Step::Unreadable { .. }), "{step}");
    }

    #[test]
    fn every_step_round_trips_through_the_store_form() {
        let steps = vec![
            Step::New {
                list: Some(1),
                entity: Some("organization:2".into()),
                name: None,
            },
            Step::Changed {
                changed: vec!["fields".into()],
                name: None,
            },
            Step::Removed { list: None },
            Step::Merged {
                into: Some("organization:7".into()),
            },
            Step::Gone {},
            Step::Pulled(ListPulled {
                list: "Deal Flow".into(),
                entries_seen: 3,
                ..Default::default()
            }),
            Step::Matched(MatchDetail {
                method: Some("key".into()),
                score: Some(1.0),
                affinity_id: Some("201".into()),
                reason: Some("by key".into()),
                candidates: vec![CandidateScore {
                    affinity_id: "201".into(),
                    score: Some(1.0),
                }],
                contributions: vec![
                    WeightStep {
                        level: "prior".into(),
                        weight: -9.5,
                        ..Default::default()
                    },
                    WeightStep {
                        source: Some("company".into()),
                        affinity: Some("name".into()),
                        level: "exact".into(),
                        weight: 12.25,
                    },
                ],
            }),
            Step::Error {
                reason: Some("step_failed".into()),
                message: Some("boom".into()),
                step: Some("push".into()),
            },
            Step::ReviewDecided(ReviewDetail {
                verdict: Some("accept".into()),
                affinity_id: Some("1".into()),
                decided_by: Some("maya".into()),
            }),
            Step::CreateStarted {
                kind: "organization".into(),
                name: Some("Acme".into()),
                domain: None,
                emails: vec![],
            },
            Step::FieldUpdated {
                change: FieldChange {
                    field: "Website".into(),
                    field_id: Some("field-1".into()),
                    old: None,
                    new: Some("acme.com".into()),
                },
                affinity_id: Some("9".into()),
            },
            Step::Unchanged { affinity_id: None },
            Step::Failed {
                reason: Some("create".into()),
                field: None,
                fields: vec![FieldProblem {
                    field: "Round".into(),
                    reason: "not an option".into(),
                }],
                message: None,
                error: None,
                action: None,
            },
            Step::WriteStarted {
                action: ActivityAction::CallLogged,
                person_id: Some(4),
                row: Some(2),
                member: Some("Mia Chen".into()),
            },
            ActivityAction::NoteCreated.done(ActivityWrite {
                note_id: Some(5),
                person_id: Some(4),
                ..Default::default()
            }),
            Step::McpWriteStarted {
                tool: "update_field_value".into(),
                origin: "claude-desktop 1.2".into(),
                summary: "Stage: Lead → Term Sheet".into(),
            },
            Step::McpWritten {
                tool: "update_field_value".into(),
                origin: "claude-desktop 1.2".into(),
                summary: "Stage: Lead → Term Sheet".into(),
                affinity_id: Some("201".into()),
                changes: vec![FieldChange {
                    field: "Stage".into(),
                    field_id: Some("field-7".into()),
                    old: Some("Lead".into()),
                    new: Some("Term Sheet".into()),
                }],
                calls: 1,
            },
            Step::McpWriteFailed {
                tool: "create_note".into(),
                origin: "claude-desktop 1.2".into(),
                error: "POST /notes: rejected (422)".into(),
            },
            Step::Subscribed {
                subscription: 9,
                events: vec!["list_entry.created".into()],
                reused: true,
            },
            Step::Unsubscribed { subscription: 9 },
            Step::WebhookApplied(WebhookDetail {
                event: "field_value.updated".into(),
                queued: 3,
                sent_at: Some(1_636_635_565),
                reads: 1,
            }),
            Step::WebhookSkipped {
                event: WebhookDetail {
                    event: "note.created".into(),
                    queued: 4,
                    sent_at: None,
                    reads: 0,
                },
                why: WebhookSkip::NotFollowed,
            },
            Step::Drift(DriftDetail {
                lists: vec!["Deal Flow".into()],
                entries: 5,
                new: 1,
                changed: 1,
                removed: 0,
                drift: 2,
                drifted: vec![601, 605],
            }),
            Step::NotInSource {
                list: "Deal Flow".into(),
                name: Some("Engine Works".into()),
            },
        ];
        for s in steps {
            round_trip(JournalEvent::new("src:A", s.clone()));
            round_trip(JournalEvent::new("src:A", s).for_mapping("m.toml"));
        }
    }

    #[test]
    fn every_step_reads_as_a_phrase() {
        let cases: Vec<(&str, Json, &str)> = vec![
            (
                "matched",
                json!({"method": "fuzzy", "score": 0.931, "affinity_id": "201"}),
                "matched by fuzzy (score 0.93) to 201",
            ),
            ("matched", json!({"method": "key"}), "matched by key"),
            (
                "review",
                json!({"score": 0.71, "candidates": [{"affinity_id": "1"}, {"affinity_id": "2"}, {"affinity_id": "3"}]}),
                "sent to review (score 0.71, 3 candidates)",
            ),
            (
                "unmatched",
                json!({"reason": "no candidate"}),
                "no match: no candidate",
            ),
            (
                "error",
                json!({"reason": "bad_row", "message": "line 3\nmore"}),
                "error: bad_row: line 3",
            ),
            (
                "created",
                json!({"affinity_id": "901", "kind": "organization"}),
                "created organization 901",
            ),
            (
                "field_updated",
                json!({"field": "Website", "old": null, "new": "a.io"}),
                "Website: (empty) → a.io",
            ),
            (
                "added_to_list",
                json!({"list": "Deal Flow", "entry_id": "77"}),
                "added to Deal Flow (entry 77)",
            ),
            ("unchanged", Json::Null, "unchanged"),
            (
                "skipped",
                json!({"reason": "no_match"}),
                "skipped: no_match",
            ),
            (
                "failed",
                json!({"field": "Headcount", "reason": "type", "message": "not a number"}),
                "failed on Headcount: type (not a number)",
            ),
            (
                "merged",
                json!({"into": "organization:7"}),
                "merged into organization:7",
            ),
            ("removed", json!({"list": 301}), "removed from list 301"),
            ("removed", Json::Null, "removed"),
            (
                "changed",
                json!({"changed": ["fields", "entity"]}),
                "changed: fields, entity",
            ),
            (
                "pulled",
                json!({"entries_seen": 4, "new": 1, "changed": 0, "removed": 2}),
                "pulled 4 entries: 1 new, 0 changed, 2 removed",
            ),
            (
                "teleported",
                json!({"to": "mars", "n": 2}),
                "teleported: n=2, to=mars",
            ),
            ("teleported", Json::Null, "teleported"),
            (
                "webhook_applied",
                json!({"event": "list_entry.created", "queued": 1, "reads": 1}),
                "webhook list_entry.created applied (1 read)",
            ),
            (
                "webhook_skipped",
                json!({"event": "list_entry.deleted", "queued": 2, "why": "already_gone"}),
                "webhook list_entry.deleted skipped: already gone",
            ),
            (
                "drift",
                json!({"entries": 1000, "new": 1, "changed": 2, "removed": 0, "drift": 3}),
                "reconciled 1000 entries: drift 3 (1 new, 2 changed, 0 removed)",
            ),
            (
                "not_in_source",
                json!({"list": "Deal Flow", "name": "Engine Works"}),
                "on Deal Flow as Engine Works, and not in the enrichment source",
            ),
        ];
        for (step, d, want) in cases {
            let d = (!d.is_null()).then_some(d);
            let e = JournalEvent::from_stored("x:1".into(), step, d);
            assert_eq!(e.step.describe(), want, "{step}");
        }
    }

    #[test]
    fn the_recovery_step_names_are_the_variants_names() {
        let push = [
            Step::CreateStarted {
                kind: String::new(),
                name: None,
                domain: None,
                emails: vec![],
            },
            Step::Created {
                affinity_id: String::new(),
                kind: None,
                name: None,
            },
            Step::AddStarted {
                list: String::new(),
                affinity_id: None,
            },
            Step::AddedToList {
                list: String::new(),
                entry_id: None,
                affinity_id: None,
            },
        ];
        let names: Vec<String> = push.iter().map(Step::name).collect();
        assert_eq!(names, PUSH_WRITE_STEPS);
        let activity = [
            Step::WriteStarted {
                action: ActivityAction::NoteCreated,
                person_id: None,
                row: None,
                member: None,
            },
            Step::ContactCreateStarted {
                first_name: None,
                last_name: None,
                phone: None,
            },
        ];
        let names: Vec<String> = activity.iter().map(Step::name).collect();
        assert_eq!(names, ACTIVITY_WRITE_STEPS);
        let contact = [
            activity[1].clone(),
            Step::ContactCreated {
                person_id: 1,
                phone: None,
                phone_error: None,
            },
            Step::Failed {
                reason: None,
                field: None,
                fields: vec![],
                message: None,
                error: None,
                action: None,
            },
            Step::Skipped {
                reason: None,
                detail: None,
                why: None,
                row: None,
                problem: None,
            },
        ];
        let names: Vec<String> = contact.iter().map(Step::name).collect();
        assert_eq!(names, CONTACT_STEPS);
    }

    #[test]
    fn events_of_earlier_versions_read_back_and_unknown_ones_are_kept() {
        let e = JournalEvent::from_stored(
            "src:c1".into(),
            "matched",
            Some(
                serde_json::json!({"mapping": "mappings/companies.toml", "method": "fuzzy",
                "score": 0.93, "affinity_id": "201", "reason": "r", "candidates": [{"affinity_id": "201", "score": 0.93}]}),
            ),
        );
        assert_eq!(e.mapping.as_deref(), Some("mappings/companies.toml"));
        assert_eq!(e.step.describe(), "matched by fuzzy (score 0.93) to 201");
        let e = JournalEvent::from_stored("list:3".into(), "removed", None);
        assert_eq!(e.step, Step::Removed { list: None });
        let e = JournalEvent::from_stored(
            "x:1".into(),
            "teleported",
            Some(serde_json::json!({"to": "mars"})),
        );
        assert_eq!(e.step.name(), "teleported");
        assert_eq!(e.step.describe(), "teleported: to=mars");
    }
}
