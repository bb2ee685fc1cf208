//! Two-way contact sync between a contacts file and Affinity's persons, keyed by email.
//!
//! ```toml
//! [file]
//! path = "contacts.csv"               # for job steps; `--file` otherwise
//! email = "email"                     # the key column: matched with a person's emails
//! first_name = "first_name"
//! last_name = "last_name"
//!
//! [sync]
//! create_in_affinity = true           # file contacts Affinity lacks are created there
//! out = "from_affinity.csv"           # Affinity's side for the file, in the file's columns
//! ```
//!
//! Each run reads both sides whole. The out file is what the file needs to be in step with
//! Affinity (every person it lacks, every contact where Affinity's names win), computed from
//! both sides as they are and written before any write to Affinity: nothing of Affinity's side
//! is lost to a kill, a failed write or an out file nobody read. Each contact's state (hashes
//! of its names on both sides at the last sync) is kept in the store (`contact_sync`) to tell
//! who changed what: a name changed only in the file is written to Affinity; **Affinity wins**
//! everywhere else. A write that fails fails its contact alone; a create whose answer was lost
//! is found by its email on the next read. Everything is journaled (a `contacts` run, one event
//! per contact that moved).

use affsync_core::diagnostic::{Diagnose, ErrorClass};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use futures::TryStreamExt;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::io::source::read_records;
use crate::store::contacts::ContactState;
use crate::store::journal::RunEnd;
use crate::store::{Store, StoreError};
use affinity_crm::v1::{NewPerson, PersonUpdate};
use affinity_crm::{Client, PersonId};
use affsync_core::journal::{JournalEvent, RunKind, RunStatus, Step};
use affsync_core::matcher::normalize;
use affsync_core::model::Kind;
use affsync_core::source::ReadOptions;

/// A contacts mapping file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactsConfig {
    pub file: FileColumns,
    #[serde(default)]
    pub sync: SyncSettings,
}

/// The file's columns.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileColumns {
    /// The contacts file a job step syncs, relative to the mapping file.
    pub path: Option<String>,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncSettings {
    #[serde(default = "yes")]
    pub create_in_affinity: bool,
    /// Relative to the mapping file; `from_affinity.csv` by default.
    pub out: Option<String>,
}

fn yes() -> bool {
    true
}

impl Default for SyncSettings {
    fn default() -> Self {
        SyncSettings {
            create_in_affinity: true,
            out: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ContactsError {
    #[error("cannot read `{file}`: {message}")]
    Read { file: String, message: String },
    #[error("cannot write `{file}`: {message}")]
    Write { file: String, message: String },
    #[error("`{file}`: the folder of the out file `{out}` does not exist")]
    OutFolder { file: String, out: String },
    #[error("`{file}`, line {line}: {message}")]
    Config {
        file: String,
        line: usize,
        message: String,
    },
    #[error(transparent)]
    Source(#[from] crate::io::source::SourceError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Api(#[from] affinity_crm::Error),
}

impl Diagnose for ContactsError {
    fn class(&self) -> ErrorClass {
        match self {
            ContactsError::Read { .. }
            | ContactsError::Config { .. }
            | ContactsError::OutFolder { .. } => ErrorClass::BadInput,
            ContactsError::Write { .. } => ErrorClass::Failure,
            ContactsError::Source(s) => s.class(),
            ContactsError::Store(s) => s.class(),
            ContactsError::Api(_) => ErrorClass::Failure,
        }
    }
    fn hint(&self) -> Option<String> {
        match self {
            ContactsError::Config { .. } => Some("the keys are `[file]` (`path`, `email`, `first_name`, `last_name`) and `[sync]` (`create_in_affinity`, `out`)".into()),
            ContactsError::Source(s) => s.hint(),
            ContactsError::Read { .. } => Some(
                "check the path: `--mapping` names the contacts mapping, `--file` the contacts file".into(),
            ),
            ContactsError::OutFolder { .. } => Some(
                "create the folder, or set `out` in `[sync]` to a file in a folder that exists (a relative path is from the mapping's folder)".into(),
            ),
            _ => None,
        }
    }
}

impl ContactsError {
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            ContactsError::Read { .. }
                | ContactsError::Config { .. }
                | ContactsError::OutFolder { .. }
                | ContactsError::Source(_)
        )
    }
}

impl ContactsConfig {
    /// The contacts file a mapping names (`[file] path`), resolved against its folder.
    pub fn file_path(&self, mapping_path: &Path) -> Option<PathBuf> {
        self.file.path.as_ref().map(|p| {
            mapping_path
                .parent()
                .unwrap_or_else(|| Path::new("."))
                .join(p)
        })
    }

    pub fn load(path: &Path) -> Result<ContactsConfig, ContactsError> {
        let text = std::fs::read_to_string(path).map_err(|e| ContactsError::Read {
            file: path.display().to_string(),
            message: e.to_string(),
        })?;
        toml::from_str(&text).map_err(|e| ContactsError::Config {
            file: path.display().to_string(),
            line: e
                .span()
                .map_or(1, |s| affsync_core::mapping::line_of(&text, s.start)),
            message: e.message().trim_end().to_string(),
        })
    }
}

/// One contact on one side: names, and the email it is known by.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Contact {
    email: String,
    first_name: String,
    last_name: String,
}

impl Contact {
    fn hash(&self) -> String {
        let mut h = Sha256::new();
        h.update(self.first_name.trim().as_bytes());
        h.update([0]);
        h.update(self.last_name.trim().as_bytes());
        format!("{:x}", h.finalize())
    }
}

/// What one sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SyncCounts {
    pub file_contacts: usize,
    pub affinity_persons: usize,
    pub linked: usize,
    pub created_in_affinity: usize,
    pub updated_in_affinity: usize,
    pub written_to_file: usize,
    pub conflicts: usize,
    pub unchanged: usize,
    pub skipped: usize,
    /// Rows of the file that could not be synced (a second row for one email): journaled.
    pub errors: usize,
    /// Writes Affinity refused or that were lost: journaled; the next sync settles them.
    pub failed: usize,
    pub writes: u64,
    pub api_calls: u64,
    /// Why the writes stopped early (the key refused, the quota spent), if they did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
}

impl SyncCounts {
    /// Some rows or writes failed, or the writes stopped early.
    pub fn partial(&self) -> bool {
        self.errors > 0 || self.failed > 0 || self.stopped.is_some()
    }
}

/// How a sync runs.
#[derive(Debug, Clone, Default)]
pub struct SyncOptions {
    /// Plan and count only: nothing written to Affinity, the store or the out file.
    pub dry_run: bool,
    /// Neutralize cells a spreadsheet would run in the out file (a leading `'`); the file is
    /// raw by default, as programs read it back.
    pub csv_safe: bool,
}

/// One write to Affinity a sync plans.
enum Write {
    Update { id: i64, contact: Contact },
    Create { contact: Contact },
}

/// What a sync decided, before anything is written.
#[derive(Default)]
struct SyncPlan {
    /// Affinity's side of the contacts the file lacks or holds otherwise (Affinity wins).
    to_file: Vec<(String, i64, Contact)>,
    writes: Vec<(String, Write)>,
    /// States to keep once the out file holds them, or at once (unchanged, linked).
    states: Vec<(String, ContactState)>,
    events: Vec<JournalEvent>,
}

/// The file's contacts by email key; a second row for one key is an error row naming the row
/// kept.
fn file_side(
    records: &[affsync_core::matcher::SourceRecord],
    cols: &FileColumns,
    counts: &mut SyncCounts,
    events: &mut Vec<JournalEvent>,
) -> BTreeMap<String, (usize, Contact)> {
    let mut in_file: BTreeMap<String, (usize, Contact)> = BTreeMap::new();
    for r in records {
        let Some(key) = r.id.as_deref().and_then(normalize::email_key) else {
            counts.skipped += 1;
            events.push(JournalEvent::new(
                format!("row:{}", r.row),
                Step::Skipped {
                    reason: Some("no usable email".into()),
                    detail: None,
                    why: None,
                    row: Some(r.row),
                    problem: r.problem.clone(),
                },
            ));
            continue;
        };
        if let Some((kept, _)) = in_file.get(&key) {
            counts.errors += 1;
            events.push(JournalEvent::new(
                format!("row:{}", r.row),
                Step::Failed {
                    reason: Some("duplicate_email".into()),
                    field: Some(cols.email.clone()),
                    fields: vec![],
                    message: Some(format!(
                        "`{}` is the email of row {kept} too (the same address once case, dots and `+tags` are folded); row {kept} is kept, this row is not synced",
                        r.id.as_deref().unwrap_or_default().trim()
                    )),
                    error: None,
                    action: None,
                },
            ));
            continue;
        }
        let get = |c: &str| r.values.get(c).cloned().unwrap_or_default();
        in_file.insert(
            key,
            (
                r.row,
                Contact {
                    email: r.id.clone().unwrap_or_default().trim().to_string(),
                    first_name: get(&cols.first_name),
                    last_name: get(&cols.last_name),
                },
            ),
        );
    }
    in_file
}

/// Affinity's persons with an email, by email key (the first person for a key).
async fn affinity_side(client: &Client) -> Result<BTreeMap<String, (i64, Contact)>, ContactsError> {
    let persons: Vec<_> = client.persons_v1(None, &[]).try_collect().await?;
    let mut in_affinity: BTreeMap<String, (i64, Contact)> = BTreeMap::new();
    for p in persons {
        let Some((key, email)) = p
            .emails
            .iter()
            .find_map(|e| normalize::email_key(e).map(|k| (k, e.clone())))
        else {
            continue;
        };
        in_affinity.entry(key).or_insert((
            p.id.0,
            Contact {
                email,
                first_name: p.first_name.clone().unwrap_or_default(),
                last_name: p.last_name.clone().unwrap_or_default(),
            },
        ));
    }
    Ok(in_affinity)
}

/// Decides each contact. The out file is what the file needs to be in step with Affinity:
/// every person it lacks (unless it deleted them since the last sync) and every contact whose
/// names differ where Affinity wins (Affinity changed them, both sides did, or they differed
/// when first seen); it is computed from both sides as they are now, so a run that was
/// killed, or whose out file was never read, loses nothing: the next one writes those rows
/// again. A contact whose names only the file changed since the last sync is written to
/// Affinity instead.
fn plan(
    in_file: &BTreeMap<String, (usize, Contact)>,
    in_affinity: &BTreeMap<String, (i64, Contact)>,
    state: &BTreeMap<String, ContactState>,
    create_in_affinity: bool,
    counts: &mut SyncCounts,
) -> SyncPlan {
    let mut p = SyncPlan::default();
    let keys: BTreeSet<&String> = in_file.keys().chain(in_affinity.keys()).collect();
    for key in keys {
        let rec = format!("contact:{key}");
        let prev = state.get(key.as_str());
        match (in_file.get(key), in_affinity.get(key)) {
            (Some((_, f)), Some((id, a))) => {
                let (fh, ah) = (f.hash(), a.hash());
                let file_changed = prev.is_some_and(|s| s.file_hash.as_deref() != Some(&fh));
                let aff_changed = prev.is_some_and(|s| s.affinity_hash.as_deref() != Some(&ah));
                if prev.is_none_or(|s| s.file_hash.is_none()) {
                    counts.linked += 1;
                }
                let st = |file_hash: &str, affinity_hash: &str| ContactState {
                    affinity_id: Some(*id),
                    file_hash: Some(file_hash.to_string()),
                    affinity_hash: Some(affinity_hash.to_string()),
                };
                if fh == ah {
                    counts.unchanged += 1;
                    p.states.push((key.clone(), st(&fh, &ah)));
                } else if file_changed && !aff_changed {
                    p.writes.push((
                        key.clone(),
                        Write::Update {
                            id: *id,
                            contact: f.clone(),
                        },
                    ));
                } else {
                    // Both changed since the last sync: a conflict, which Affinity wins.
                    if file_changed && aff_changed {
                        counts.conflicts += 1;
                    }
                    p.to_file.push((key.clone(), *id, a.clone()));
                    p.events.push(JournalEvent::new(
                        rec,
                        Step::WrittenToFile {
                            affinity_id: id.to_string(),
                            reason: Some(if prev.is_none() {
                                "names differ at the first sync; Affinity wins".into()
                            } else {
                                "changed in Affinity; Affinity wins".into()
                            }),
                        },
                    ));
                    p.states.push((key.clone(), st(&fh, &ah)));
                }
            }
            (Some((_, f)), None) => {
                if prev.and_then(|s| s.affinity_id).is_some() {
                    counts.skipped += 1;
                    p.events.push(JournalEvent::new(
                        rec,
                        Step::Skipped {
                            reason: Some(
                                "gone from Affinity since the last sync; not created again".into(),
                            ),
                            detail: None,
                            why: None,
                            row: None,
                            problem: None,
                        },
                    ));
                } else if create_in_affinity {
                    p.writes
                        .push((key.clone(), Write::Create { contact: f.clone() }));
                } else {
                    counts.skipped += 1;
                }
            }
            (None, Some((id, a))) => {
                // In the file at the last sync and gone from it now: the file deleted it.
                if prev.is_some_and(|s| s.file_hash.is_some()) {
                    counts.skipped += 1;
                    p.events.push(JournalEvent::new(
                        rec,
                        Step::Skipped {
                            reason: Some(
                                "deleted from the file since the last sync; not written back"
                                    .into(),
                            ),
                            detail: None,
                            why: None,
                            row: None,
                            problem: None,
                        },
                    ));
                    continue;
                }
                p.to_file.push((key.clone(), *id, a.clone()));
                p.events.push(JournalEvent::new(
                    rec,
                    Step::WrittenToFile {
                        affinity_id: id.to_string(),
                        reason: Some("not in the file".into()),
                    },
                ));
                p.states.push((
                    key.clone(),
                    ContactState {
                        affinity_id: Some(*id),
                        file_hash: None,
                        affinity_hash: Some(a.hash()),
                    },
                ));
            }
            (None, None) => {}
        }
    }
    counts.written_to_file = p.to_file.len();
    p
}

/// Writes the out file (in the file's columns) through a temporary file and a rename.
fn write_out(
    out_path: &Path,
    cols: &FileColumns,
    rows: &[(String, i64, Contact)],
    csv_safe: bool,
) -> Result<(), ContactsError> {
    crate::io::export::write_csv_file(out_path, !csv_safe, |w| {
        w.row([&cols.email, &cols.first_name, &cols.last_name])?;
        for (_, _, c) in rows {
            w.row([&c.email, &c.first_name, &c.last_name])?;
        }
        Ok(())
    })
    .map_err(|e| ContactsError::Write {
        file: out_path.display().to_string(),
        message: e.to_string(),
    })
}

/// One write to Affinity, its state kept as soon as Affinity confirmed it. A write that fails
/// is journaled and counted; the quota spent, the key refused or a job's lock lost stop the
/// writes that follow.
async fn apply_write(
    store: &Store,
    client: &Client,
    mapping: &str,
    key: &str,
    w: &Write,
    counts: &mut SyncCounts,
    events: &mut Vec<JournalEvent>,
) -> Result<(), ContactsError> {
    let rec = format!("contact:{key}");
    let result = match w {
        Write::Update { id, contact } => client
            .update_person_v1(
                PersonId(*id),
                &PersonUpdate {
                    first_name: Some(contact.first_name.clone()),
                    last_name: Some(contact.last_name.clone()),
                    ..PersonUpdate::default()
                },
            )
            .await
            .map(|_| (*id, contact)),
        Write::Create { contact } => client
            .create_person_v1(&NewPerson {
                first_name: contact.first_name.clone(),
                last_name: contact.last_name.clone(),
                emails: vec![contact.email.clone()],
                organization_ids: None,
            })
            .await
            .map(|p| (p.id.0, contact)),
    };
    counts.writes += 1;
    let (id, contact) = match result {
        Ok(r) => r,
        Err(e) => {
            counts.failed += 1;
            if matches!(
                e,
                affinity_crm::Error::Auth { .. }
                    | affinity_crm::Error::Forbidden { .. }
                    | affinity_crm::Error::RateLimited { .. }
                    | affinity_crm::Error::WriteRefused { .. }
            ) {
                counts.stopped = Some(format!("stopped: {e}"));
            }
            events.push(JournalEvent::new(
                rec,
                Step::Failed {
                    reason: Some("write_failed".into()),
                    field: None,
                    fields: vec![],
                    message: Some(format!(
                        "{e} (a create whose answer was lost is found by its email next time)"
                    )),
                    error: None,
                    action: None,
                },
            ));
            return Ok(());
        }
    };
    let h = contact.hash();
    store
        .save_contact_state(
            mapping,
            key,
            &ContactState {
                affinity_id: Some(id),
                file_hash: Some(h.clone()),
                affinity_hash: Some(h),
            },
        )
        .await?;
    events.push(JournalEvent::new(
        rec,
        match w {
            Write::Update { .. } => {
                counts.updated_in_affinity += 1;
                Step::PersonUpdated {
                    affinity_id: id.to_string(),
                    first_name: Some(contact.first_name.clone()),
                    last_name: Some(contact.last_name.clone()),
                }
            }
            Write::Create { .. } => {
                counts.created_in_affinity += 1;
                Step::Created {
                    affinity_id: id.to_string(),
                    kind: Some(Kind::Person.as_str().into()),
                    name: Some(format!("{} {}", contact.first_name, contact.last_name)),
                }
            }
        },
    ));
    Ok(())
}

/// Syncs the contacts file with Affinity's persons. In order: both sides read, the plan, the
/// out file written (and the states it carries kept), then Affinity's writes one by one, each
/// kept as it is confirmed. Nothing the out file needs is lost to a kill, a failed write or an
/// out file never read.
pub async fn sync(
    store: &Store,
    client: &Client,
    file: &Path,
    mapping_path: &Path,
    opts: &SyncOptions,
) -> Result<(SyncCounts, PathBuf), ContactsError> {
    let cfg = ContactsConfig::load(mapping_path)?;
    let mapping = crate::matching::mapping_key(mapping_path);
    let calls_before = client.stats().calls;
    let cols = &cfg.file;
    let records = read_records(
        file,
        &ReadOptions {
            id: cols.email.clone(),
            columns: vec![cols.first_name.clone(), cols.last_name.clone()],
            ..ReadOptions::default()
        },
    )?;
    let out_path = mapping_path
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join(cfg.sync.out.as_deref().unwrap_or("from_affinity.csv"));
    // Before any call to Affinity, the dry run's included: the out file must be writable
    // where it is to go.
    if out_path
        .parent()
        .is_some_and(|d| !d.as_os_str().is_empty() && !d.is_dir())
    {
        return Err(ContactsError::OutFolder {
            file: mapping_path.display().to_string(),
            out: out_path.display().to_string(),
        });
    }
    let mut counts = SyncCounts::default();
    let mut events = Vec::new();
    let in_file = file_side(&records, cols, &mut counts, &mut events);
    counts.file_contacts = in_file.len();
    if opts.dry_run {
        let in_affinity = affinity_side(client).await?;
        counts.affinity_persons = in_affinity.len();
        let state = store.contact_states(&mapping).await?;
        let p = plan(
            &in_file,
            &in_affinity,
            &state,
            cfg.sync.create_in_affinity,
            &mut counts,
        );
        for (_, w) in &p.writes {
            match w {
                Write::Update { .. } => counts.updated_in_affinity += 1,
                Write::Create { .. } => counts.created_in_affinity += 1,
            }
        }
        counts.api_calls = client.stats().calls - calls_before;
        return Ok((counts, out_path));
    }
    let run = store.begin_run(RunKind::Contacts, None).await?;
    let work = async {
        let in_affinity = affinity_side(client).await?;
        counts.affinity_persons = in_affinity.len();
        let state = store.contact_states(&mapping).await?;
        let p = plan(
            &in_file,
            &in_affinity,
            &state,
            cfg.sync.create_in_affinity,
            &mut counts,
        );
        events.extend(p.events);
        write_out(&out_path, cols, &p.to_file, opts.csv_safe)?;
        for (key, s) in &p.states {
            store.save_contact_state(&mapping, key, s).await?;
        }
        run.events(&std::mem::take(&mut events)).await?;
        for (key, w) in &p.writes {
            if counts.stopped.is_some() {
                break;
            }
            apply_write(store, client, &mapping, key, w, &mut counts, &mut events).await?;
            run.events(&std::mem::take(&mut events)).await?;
        }
        counts.api_calls = client.stats().calls - calls_before;
        Ok::<(), ContactsError>(())
    }
    .await;
    let api_calls = client.stats().calls - calls_before;
    let status = if counts.partial() {
        RunStatus::Partial
    } else {
        RunStatus::Ok
    };
    let end = RunEnd {
        status,
        counts: json!(counts),
        api_calls,
        note: counts.stopped.clone(),
    };
    run.close(work, |_| end, api_calls).await?;
    Ok((counts, out_path))
}
