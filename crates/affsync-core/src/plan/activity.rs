//! Feed events, settings, the persons of the mirror and what earlier runs logged → the writes
//! to make. Pure: no I/O, no clock (the caller gives `now`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::activity::feed::{Direction, FeedEvent, FeedRow, Kind};
use crate::activity::members::{owner_of, MemberRoute, Owner};
pub use crate::activity::settings::same_phone;
use crate::activity::settings::{digits, phone_key, CallAs, Country, Settings, SmsAs, Unowned};
use crate::journal::ActivityAction;
use crate::matcher::Candidate;

/// Affinity's interaction type for a call (affinity-api.md §2: 0 meeting, 1 call, 2 chat, 3 email).
pub const CALL: i64 = 1;
/// Affinity's interaction directions: 0 sent, 1 received.
pub const SENT: i64 = 0;
pub const RECEIVED: i64 = 1;

/// What a feed event became in Affinity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Object {
    Note,
    Interaction,
}

impl Object {
    pub fn as_str(self) -> &'static str {
        match self {
            Object::Note => "note",
            Object::Interaction => "interaction",
        }
    }

    pub fn parse(s: &str) -> Option<Object> {
        match s {
            "note" => Some(Object::Note),
            "interaction" => Some(Object::Interaction),
            _ => None,
        }
    }
}

/// What an earlier run logged for one feed id (the store's `activity_log` row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    pub object: Object,
    pub affinity_id: i64,
    pub person_id: i64,
    pub hash: String,
    pub deleted: bool,
    /// The member whose key wrote it (its creator in Affinity); `None` is the default key.
    pub member: Option<String>,
}

/// A person of the mirror as the contact lookup sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Known {
    id: i64,
    name: String,
    emails: Vec<String>,
    phones: Vec<String>,
}

/// The persons of the mirror, searchable by phone (digits), email and name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Directory {
    persons: Vec<Known>,
}

/// How a feed's `contact` is read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum ContactKey {
    /// Digits only.
    Phone(String),
    /// Lowercase.
    Email(String),
    /// Lowercase words joined by one space.
    Name(String),
}

impl ContactKey {
    /// An email has an `@`; a phone has only phone characters and at least 5 digits; anything
    /// else is a name.
    pub fn of(contact: &str) -> ContactKey {
        ContactKey::of_in(contact, None)
    }

    /// As [`ContactKey::of`], a phone read with the country of numbers written without a
    /// country code.
    pub fn of_in(contact: &str, country: Option<Country>) -> ContactKey {
        let c = contact.trim();
        if c.contains('@') {
            return ContactKey::Email(c.to_lowercase());
        }
        let phone_chars = c
            .chars()
            .all(|ch| ch.is_ascii_digit() || " +-().".contains(ch));
        let d = digits(c);
        if phone_chars && d.len() >= 5 {
            ContactKey::Phone(phone_key(c, country))
        } else {
            ContactKey::Name(name_key(c))
        }
    }

    fn describe(&self, phone_field: &str) -> String {
        match self {
            ContactKey::Phone(d) => format!("the phone `{d}` (field `{phone_field}`)"),
            ContactKey::Email(e) => format!("the email `{e}`"),
            ContactKey::Name(n) => format!("the name `{n}`"),
        }
    }
}

fn name_key(s: &str) -> String {
    s.split_whitespace()
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The result of looking a contact up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Found(i64),
    NotFound,
    Ambiguous(Vec<i64>),
}

impl Directory {
    /// From the mirror's person candidates, with the phone field's values entered under
    /// `phone_field`.
    pub fn from_candidates(
        cands: &[Candidate],
        phone_field: &str,
        country: Option<Country>,
    ) -> Directory {
        let persons = cands
            .iter()
            .filter_map(|c| {
                let id = c.id.parse::<i64>().ok()?;
                let name = match (&c.first_name, &c.last_name) {
                    (None, None) => c.name.clone(),
                    (f, l) => format!(
                        "{} {}",
                        f.as_deref().unwrap_or_default(),
                        l.as_deref().unwrap_or_default()
                    ),
                };
                Some(Known {
                    id,
                    name: name_key(&name),
                    emails: c.emails.iter().map(|e| e.trim().to_lowercase()).collect(),
                    phones: c
                        .fields
                        .get(phone_field)
                        .into_iter()
                        .flatten()
                        // A multi-number cell (`+1 555 1, +1 555 2`) holds several.
                        .flat_map(|v| v.split([',', ';', '/']))
                        .map(|n| phone_key(n, country))
                        .filter(|d| !d.is_empty())
                        .collect(),
                })
            })
            .collect();
        Directory { persons }
    }

    pub fn lookup(&self, key: &ContactKey) -> Lookup {
        let hits: Vec<i64> = self
            .persons
            .iter()
            .filter(|p| match key {
                ContactKey::Phone(d) => p.phones.iter().any(|q| same_phone(q, d)),
                ContactKey::Email(e) => p.emails.contains(e),
                ContactKey::Name(n) => !n.is_empty() && p.name == *n,
            })
            .map(|p| p.id)
            .collect();
        match hits.as_slice() {
            [] => Lookup::NotFound,
            [one] => Lookup::Found(*one),
            _ => Lookup::Ambiguous(hits),
        }
    }
}

/// A person to create for a contact the mirror does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewContact {
    pub contact: String,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    /// The phone as the feed wrote it, for the phone field.
    pub phone: Option<String>,
}

impl NewContact {
    fn from(contact: &str, key: &ContactKey) -> NewContact {
        let contact = contact.trim().to_string();
        let split = |s: &str| -> (String, String) {
            let mut words = s.split_whitespace();
            let first = words.next().unwrap_or_default().to_string();
            let last = words.collect::<Vec<_>>().join(" ");
            (
                first,
                if last.is_empty() {
                    "Unknown".into()
                } else {
                    last
                },
            )
        };
        match key {
            ContactKey::Email(e) => {
                let local = e.split('@').next().unwrap_or_default();
                let words: String = local
                    .split(['.', '_', '-', '+'])
                    .filter(|w| !w.is_empty())
                    .map(|w| {
                        let mut cs = w.chars();
                        cs.next()
                            .map(|f| f.to_uppercase().collect::<String>() + cs.as_str())
                            .unwrap_or_default()
                    })
                    .collect::<Vec<_>>()
                    .join(" ");
                let (first_name, last_name) = split(&words);
                NewContact {
                    contact,
                    first_name,
                    last_name,
                    email: Some(e.clone()),
                    phone: None,
                }
            }
            ContactKey::Phone(_) => NewContact {
                first_name: contact.clone(),
                last_name: "Unknown".into(),
                email: None,
                phone: Some(contact.clone()),
                contact,
            },
            ContactKey::Name(_) => {
                let (first_name, last_name) = split(&contact);
                NewContact {
                    contact,
                    first_name,
                    last_name,
                    email: None,
                    phone: None,
                }
            }
        }
    }
}

/// Whom a write is about: a person of the mirror, or one of the plan's new contacts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Person(i64),
    New(usize),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    CreateNote {
        content: String,
        created_at: Option<DateTime<Utc>>,
    },
    UpdateNote {
        note_id: i64,
        content: String,
    },
    DeleteNote {
        note_id: i64,
    },
    LogCall {
        date: DateTime<Utc>,
        direction: i64,
        content: String,
    },
    UpdateCall {
        id: i64,
        date: DateTime<Utc>,
        direction: i64,
        content: String,
    },
    DeleteCall {
        id: i64,
    },
}

impl Action {
    /// What the journal calls the write.
    pub fn journal(&self) -> ActivityAction {
        match self {
            Action::CreateNote { .. } => ActivityAction::NoteCreated,
            Action::UpdateNote { .. } => ActivityAction::NoteUpdated,
            Action::DeleteNote { .. } => ActivityAction::NoteDeleted,
            Action::LogCall { .. } => ActivityAction::CallLogged,
            Action::UpdateCall { .. } => ActivityAction::CallUpdated,
            Action::DeleteCall { .. } => ActivityAction::CallDeleted,
        }
    }

    pub fn object(&self) -> Object {
        match self {
            Action::CreateNote { .. } | Action::UpdateNote { .. } | Action::DeleteNote { .. } => {
                Object::Note
            }
            _ => Object::Interaction,
        }
    }
}

/// One write to make.
#[derive(Debug, Clone, PartialEq)]
pub struct Op {
    pub feed_id: String,
    pub row: usize,
    pub kind: Kind,
    pub target: Target,
    pub action: Action,
    /// The hash of what is written (kept for the next run's comparison).
    pub hash: String,
    /// The member whose key writes it (an index into the plan's members); `None` is the
    /// default key.
    pub member: Option<usize>,
}

/// Why an event is not logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SkipKind {
    /// Its kind is `disabled` in `[workflow]`.
    Disabled,
    /// Its line is not in `connected_numbers`.
    NotConnected,
    /// Nobody in the mirror is the contact, and `create_contacts` is off.
    UnknownContact,
    /// Several persons are the contact.
    AmbiguousContact,
    /// The row lacks what its kind needs, or cannot be read.
    Unreadable,
    /// With `[[members]]`: the event is no member's, and `unowned` is `skip`.
    Unowned,
}

impl SkipKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SkipKind::Disabled => "disabled",
            SkipKind::NotConnected => "not_connected",
            SkipKind::UnknownContact => "unknown_contact",
            SkipKind::AmbiguousContact => "ambiguous_contact",
            SkipKind::Unreadable => "unreadable",
            SkipKind::Unowned => "unowned",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    pub feed_id: Option<String>,
    pub row: usize,
    pub kind: SkipKind,
    pub reason: String,
}

/// Everything a run would do.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    pub ops: Vec<Op>,
    pub new_contacts: Vec<NewContact>,
    pub skipped: Vec<Skip>,
    /// Events already logged as the feed has them.
    pub unchanged: usize,
}

/// The SHA-256 (hex) of what a write puts into Affinity.
pub fn content_hash(object: Object, parts: &[&str]) -> String {
    let mut h = Sha256::new();
    h.update(object.as_str().as_bytes());
    for p in parts {
        h.update([0u8]);
        h.update(p.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn duration_words(s: u64) -> String {
    match (s / 60, s % 60) {
        (0, s) => format!("{s} s"),
        (m, 0) => format!("{m} min"),
        (m, s) => format!("{m} min {s} s"),
    }
}

/// What an event becomes, before any contact lookup: the object, its content and hash, or the
/// reason it is not logged.
enum Desired {
    Note {
        content: String,
        created_at: Option<DateTime<Utc>>,
    },
    Call {
        date: DateTime<Utc>,
        direction: i64,
        content: String,
    },
}

impl Desired {
    fn hash(&self) -> String {
        match self {
            Desired::Note { content, .. } => content_hash(Object::Note, &[content]),
            Desired::Call {
                date,
                direction,
                content,
            } => content_hash(
                Object::Interaction,
                &[&date.to_rfc3339(), &direction.to_string(), content],
            ),
        }
    }

    fn object(&self) -> Object {
        match self {
            Desired::Note { .. } => Object::Note,
            Desired::Call { .. } => Object::Interaction,
        }
    }
}

/// The longest call a feed may log: a day.
pub const MAX_DURATION_S: u64 = 86_400;

/// Whether an event's time and duration are ones a call or a note can have: from 1970 to a day
/// ahead of `now`, and from 0 to [`MAX_DURATION_S`] seconds.
fn check_times(e: &FeedEvent, now: DateTime<Utc>) -> Result<(), String> {
    if let Some(d) = e.duration_s {
        if d > MAX_DURATION_S {
            return Err(format!(
                "`duration_s` is {d}: a call lasts from 0 to {MAX_DURATION_S} seconds"
            ));
        }
    }
    if let Some(at) = e.at {
        let earliest = DateTime::<Utc>::UNIX_EPOCH;
        let latest = now + chrono::Duration::days(1);
        if at < earliest || at > latest {
            return Err(format!(
                "`at` is {}: an event is dated from 1970 to a day from now",
                at.to_rfc3339()
            ));
        }
    }
    Ok(())
}

fn desired(e: &FeedEvent, s: &Settings, now: DateTime<Utc>) -> Result<Desired, (SkipKind, String)> {
    let unreadable = |m: String| (SkipKind::Unreadable, m);
    check_times(e, now).map_err(unreadable)?;
    let disabled = |key: &str| {
        (
            SkipKind::Disabled,
            format!("`workflow.{key}` is `disabled` in `{}`", s.file),
        )
    };
    match e.kind {
        Kind::Call | Kind::Voicemail => {
            let dir = match (e.kind, e.direction) {
                (Kind::Voicemail, d) => d.unwrap_or(Direction::Inbound),
                (_, Some(d)) => d,
                (_, None) => return Err(unreadable("a call needs `direction`".into())),
            };
            let answered = e.answered.unwrap_or(e.duration_s.unwrap_or(0) > 0);
            let (key, setting) = match (e.kind, dir, answered) {
                (Kind::Voicemail, _, _) => ("voicemail", s.workflow.voicemail),
                (_, Direction::Outbound, true) => (
                    "outgoing_answered_calls",
                    s.workflow.outgoing_answered_calls,
                ),
                (_, Direction::Outbound, false) => (
                    "outgoing_unanswered_calls",
                    s.workflow.outgoing_unanswered_calls,
                ),
                (_, Direction::Inbound, true) => (
                    "incoming_answered_calls",
                    s.workflow.incoming_answered_calls,
                ),
                (_, Direction::Inbound, false) => (
                    "incoming_unanswered_calls",
                    s.workflow.incoming_unanswered_calls,
                ),
            };
            if setting == CallAs::Disabled {
                return Err(disabled(key));
            }
            let date =
                e.at.ok_or_else(|| unreadable(format!("a {} needs `at`", e.kind.as_str())))?;
            let mut content = match (e.kind, dir) {
                (Kind::Voicemail, _) => "Voicemail".to_string(),
                (_, Direction::Outbound) => "Outgoing call".to_string(),
                (_, Direction::Inbound) => "Incoming call".to_string(),
            };
            if e.kind == Kind::Call {
                content.push_str(if answered {
                    ", answered"
                } else {
                    ", not answered"
                });
            }
            if let Some(d) = e.duration_s.filter(|d| *d > 0) {
                content.push_str(&format!(", {}", duration_words(d)));
            }
            if let Some(t) = &e.text {
                content.push('\n');
                content.push_str(t.trim());
            }
            Ok(Desired::Call {
                date,
                direction: match dir {
                    Direction::Outbound => SENT,
                    Direction::Inbound => RECEIVED,
                },
                content,
            })
        }
        Kind::Sms => {
            let dir = e
                .direction
                .ok_or_else(|| unreadable("an SMS needs `direction`".into()))?;
            let (key, setting, label) = match dir {
                Direction::Inbound => ("incoming_sms", s.workflow.incoming_sms, "SMS received"),
                Direction::Outbound => ("outgoing_sms", s.workflow.outgoing_sms, "SMS sent"),
            };
            if setting == SmsAs::Disabled {
                return Err(disabled(key));
            }
            let text = e
                .text
                .as_deref()
                .ok_or_else(|| unreadable("an SMS needs `text`".into()))?;
            Ok(Desired::Note {
                content: format!("{label}\n{}", text.trim()),
                created_at: e.at.filter(|t| *t <= now),
            })
        }
        Kind::Note => {
            let text = e
                .text
                .as_deref()
                .ok_or_else(|| unreadable("a note needs `text`".into()))?;
            Ok(Desired::Note {
                content: text.trim().to_string(),
                created_at: e.at.filter(|t| *t <= now),
            })
        }
    }
}

/// What an event an earlier run logged becomes.
enum Followed {
    Unchanged,
    Skip(String),
    /// The write and the hash to record.
    Write(Action, String),
}

/// An event already logged: deleted, updated when what it asks for changed, or left.
fn follow_logged(l: &Logged, deleted: bool, want: Desired, hash: &str) -> Followed {
    if l.deleted {
        return Followed::Unchanged;
    }
    if l.object != want.object() {
        return Followed::Skip(format!(
            "the event was logged as a {} and is now a {}; it is left as it was",
            l.object.as_str(),
            want.object().as_str()
        ));
    }
    if deleted {
        let action = match l.object {
            Object::Note => Action::DeleteNote {
                note_id: l.affinity_id,
            },
            Object::Interaction => Action::DeleteCall { id: l.affinity_id },
        };
        return Followed::Write(action, l.hash.clone());
    }
    if l.hash == hash {
        return Followed::Unchanged;
    }
    let action = match want {
        Desired::Note { content, .. } => Action::UpdateNote {
            note_id: l.affinity_id,
            content,
        },
        Desired::Call {
            date,
            direction,
            content,
        } => Action::UpdateCall {
            id: l.affinity_id,
            date,
            direction,
            content,
        },
    };
    Followed::Write(action, hash.to_string())
}

/// The person an event's contact is: found in the directory, or a new contact (one for every
/// spelling of one number) when `create_contacts` is on; else why it is skipped.
fn contact_target(
    p: &mut Plan,
    new_at: &mut BTreeMap<ContactKey, usize>,
    contact: &str,
    settings: &Settings,
    dir: &Directory,
) -> Result<Target, (SkipKind, String)> {
    let key = ContactKey::of_in(contact, settings.default_country);
    match dir.lookup(&key) {
        Lookup::Found(id) => Ok(Target::Person(id)),
        Lookup::Ambiguous(ids) => Err((
            SkipKind::AmbiguousContact,
            format!(
                "{} persons have {}: {}",
                ids.len(),
                key.describe(&settings.phone_field),
                ids.iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
        Lookup::NotFound if settings.create_contacts => {
            let same = new_at.iter().find_map(|(k, i)| match (k, &key) {
                (ContactKey::Phone(a), ContactKey::Phone(b)) if same_phone(a, b) => Some(*i),
                _ => None,
            });
            let n = match same {
                Some(i) => i,
                None => *new_at.entry(key.clone()).or_insert_with(|| {
                    p.new_contacts.push(NewContact::from(contact, &key));
                    p.new_contacts.len() - 1
                }),
            };
            Ok(Target::New(n))
        }
        Lookup::NotFound => Err((
            SkipKind::UnknownContact,
            format!(
                "no person in the mirror has {}, and `create_contacts` is off in `{}`",
                key.describe(&settings.phone_field),
                settings.file
            ),
        )),
    }
}

/// Whose key writes an event (`None`: the default key) and under which settings; or, when it
/// is no member's and `unowned` is `skip`, why it is skipped.
fn route<'a>(
    e: &FeedEvent,
    settings: &'a Settings,
    members: &[MemberRoute],
    member_settings: &'a [Settings],
) -> Result<(Option<usize>, &'a Settings), String> {
    if members.is_empty() {
        return Ok((None, settings));
    }
    match owner_of(e, members, settings.default_country) {
        Owner::Member(m) => Ok((Some(m), &member_settings[m])),
        Owner::Nobody(_) if settings.unowned == Unowned::DefaultKey => Ok((None, settings)),
        Owner::Nobody(why) => Err(format!(
            "{why}, and `unowned` is `skip` in `{}` (`unowned = \"default_key\"` writes such events with the default key)",
            settings.file
        )),
    }
}

/// The plan of a run. A feed id met on several rows takes its last row (a feed that appends
/// edits and deletions as new rows reads as one that rewrites them in place).
pub fn plan(
    rows: &[FeedRow],
    settings: &Settings,
    dir: &Directory,
    logged: &BTreeMap<String, Logged>,
    now: DateTime<Utc>,
) -> Plan {
    plan_for_members(rows, settings, &[], dir, logged, now)
}

/// [`plan`] with `[[members]]`: each event goes to its member ([`owner_of`]), under that
/// member's workflow and lines, written with their key; an event that is no member's is
/// skipped, or, with `unowned = "default_key"`, planned under `settings` for the default key.
/// With no members this is [`plan`].
pub fn plan_for_members(
    rows: &[FeedRow],
    settings: &Settings,
    members: &[MemberRoute],
    dir: &Directory,
    logged: &BTreeMap<String, Logged>,
    now: DateTime<Utc>,
) -> Plan {
    // Each member's events are planned under their own workflow; their lines are theirs.
    let member_settings: Vec<Settings> = members
        .iter()
        .map(|m| Settings {
            workflow: m.workflow.unwrap_or(settings.workflow),
            connected_numbers: m.lines.clone(),
            file: m.file.clone(),
            ..settings.clone()
        })
        .collect();
    let mut last: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        if let Some(id) = &r.id {
            last.insert(id.trim(), i);
        }
    }
    let mut p = Plan::default();
    let mut new_at: BTreeMap<ContactKey, usize> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        let skip = |kind: SkipKind, reason: String| Skip {
            feed_id: r.id.clone(),
            row: r.row,
            kind,
            reason,
        };
        if let Some(id) = &r.id {
            if last.get(id.trim()) != Some(&i) {
                continue;
            }
        }
        let e = match &r.event {
            Ok(e) => e,
            Err(reason) => {
                p.skipped.push(skip(SkipKind::Unreadable, reason.clone()));
                continue;
            }
        };
        let (member, settings) = match route(e, settings, members, &member_settings) {
            Ok(r) => r,
            Err(why) => {
                p.skipped.push(skip(SkipKind::Unowned, why));
                continue;
            }
        };
        let want = match desired(e, settings, now) {
            Ok(w) => w,
            Err((kind, reason)) => {
                p.skipped.push(skip(kind, reason));
                continue;
            }
        };
        // A member's event is on their line (or named theirs by the feed).
        let on_line =
            member.is_some() || e.line.as_deref().is_some_and(|l| settings.is_connected(l));
        if !on_line {
            let reason = match &e.line {
                None => "the event has no `line`, so it is on no connected number".to_string(),
                Some(l) => format!(
                    "line `{l}` is not in `connected_numbers` of `{}`",
                    settings.file
                ),
            };
            p.skipped.push(skip(SkipKind::NotConnected, reason));
            continue;
        }
        let hash = want.hash();
        let op = |target: Target, action: Action, hash: String| Op {
            feed_id: e.id.clone(),
            row: r.row,
            kind: e.kind,
            target,
            action,
            hash,
            member,
        };
        if let Some(l) = logged.get(&e.id) {
            match follow_logged(l, e.deleted, want, &hash) {
                Followed::Unchanged => p.unchanged += 1,
                Followed::Skip(reason) => p.skipped.push(skip(SkipKind::Unreadable, reason)),
                Followed::Write(action, hash) => {
                    // An edit or a deletion is made with the key that wrote it, its creator's.
                    // (`None`: the default key wrote it.)
                    let mut o = op(Target::Person(l.person_id), action, hash);
                    o.member = match &l.member {
                        None => None,
                        Some(n) => members.iter().position(|m| &m.name == n).or(o.member),
                    };
                    p.ops.push(o)
                }
            }
            continue;
        }
        if e.deleted {
            // Deleted before it was ever logged: nothing to carry over.
            p.unchanged += 1;
            continue;
        }
        let target = match contact_target(&mut p, &mut new_at, &e.contact, settings, dir) {
            Ok(t) => t,
            Err((kind, reason)) => {
                p.skipped.push(skip(kind, reason));
                continue;
            }
        };
        let action = match want {
            Desired::Note {
                content,
                created_at,
            } => Action::CreateNote {
                content,
                created_at,
            },
            Desired::Call {
                date,
                direction,
                content,
            } => Action::LogCall {
                date,
                direction,
                content,
            },
        };
        p.ops.push(op(target, action, hash));
    }
    p
}

#[cfg(test)]
mod tests;
