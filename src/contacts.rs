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
//! The first sync goes both ways: file contacts missing from Affinity are created (when
//! enabled), and Affinity persons missing from the file are written to `out`. Each contact's
//! state on both sides is kept in the store (`contact_sync`), so later runs carry only what
//! changed since the last sync: a name changed in the file is written to Affinity, one changed
//! in Affinity (or a person new there) goes to `out`. The conflict rule is **Affinity wins**:
//! when both sides changed a contact, Affinity's names go to `out` and nothing is written to
//! Affinity. Everything is journaled (a `contacts` run, one event per contact that moved).

use crate::io::export::csv_cell_raw as cell;
use affsync_core::diagnostic::{Diagnose, ErrorClass};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
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
use affsync_core::journal::{JournalEvent, RunKind, Step};
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
            ContactsError::Read { .. } | ContactsError::Config { .. } => ErrorClass::BadInput,
            ContactsError::Source(s) => s.class(),
            ContactsError::Store(s) => s.class(),
            ContactsError::Api(_) => ErrorClass::Failure,
        }
    }
    fn hint(&self) -> Option<String> {
        match self {
            ContactsError::Config { .. } => Some("the keys are `[file]` (`path`, `email`, `first_name`, `last_name`) and `[sync]` (`create_in_affinity`, `out`)".into()),
            ContactsError::Source(s) => s.hint(),
            _ => None,
        }
    }
}

impl ContactsError {
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            ContactsError::Read { .. } | ContactsError::Config { .. } | ContactsError::Source(_)
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
    pub writes: u64,
    pub api_calls: u64,
}

/// Syncs the contacts file with Affinity's persons.
pub async fn sync(
    store: &Store,
    client: &Client,
    file: &Path,
    mapping_path: &Path,
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
    let run = store.begin_run(RunKind::Contacts, None).await?;
    let mut counts = SyncCounts::default();
    let mut events = Vec::new();

    let mut in_file: BTreeMap<String, Contact> = BTreeMap::new();
    for r in &records {
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
        let get = |c: &str| r.values.get(c).cloned().unwrap_or_default();
        in_file.insert(
            key,
            Contact {
                email: r.id.clone().unwrap_or_default().trim().to_string(),
                first_name: get(&cols.first_name),
                last_name: get(&cols.last_name),
            },
        );
    }
    counts.file_contacts = in_file.len();

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
    counts.affinity_persons = in_affinity.len();
    let state = store.contact_states(&mapping).await?;

    let out_path = mapping_path
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join(cfg.sync.out.as_deref().unwrap_or("from_affinity.csv"));
    let mut to_file: Vec<Contact> = Vec::new();
    let keys: BTreeSet<&String> = in_file.keys().chain(in_affinity.keys()).collect();
    for key in keys {
        let rec = format!("contact:{key}");
        let prev = state.get(key.as_str());
        match (in_file.get(key), in_affinity.get(key)) {
            (Some(f), Some((id, a))) => {
                let (fh, ah) = (f.hash(), a.hash());
                let file_changed = prev.is_none_or(|s| s.file_hash.as_deref() != Some(&fh));
                let aff_changed = prev.is_none_or(|s| s.affinity_hash.as_deref() != Some(&ah));
                let mut new_ah = ah.clone();
                if prev.is_none() {
                    counts.linked += 1;
                }
                if fh == ah || (prev.is_some() && !file_changed && !aff_changed) {
                    // The same on both sides, or a difference already carried to the file.
                    counts.unchanged += 1;
                } else if prev.is_some() && file_changed && !aff_changed {
                    client
                        .update_person_v1(
                            PersonId(*id),
                            &PersonUpdate {
                                first_name: Some(f.first_name.clone()),
                                last_name: Some(f.last_name.clone()),
                                ..PersonUpdate::default()
                            },
                        )
                        .await?;
                    counts.writes += 1;
                    counts.updated_in_affinity += 1;
                    new_ah.clone_from(&fh);
                    events.push(JournalEvent::new(
                        rec,
                        Step::PersonUpdated {
                            affinity_id: id.to_string(),
                            first_name: Some(f.first_name.clone()),
                            last_name: Some(f.last_name.clone()),
                        },
                    ));
                } else {
                    // Affinity changed it (or both sides did, or they differ at the first
                    // sync): Affinity wins, and its names go to the file's side.
                    if prev.is_none() || file_changed {
                        counts.conflicts += 1;
                    }
                    to_file.push(a.clone());
                    events.push(JournalEvent::new(
                        rec,
                        Step::WrittenToFile {
                            affinity_id: id.to_string(),
                            reason: Some("changed in Affinity; Affinity wins".into()),
                        },
                    ));
                }
                let s = ContactState {
                    affinity_id: Some(*id),
                    file_hash: Some(fh),
                    affinity_hash: Some(new_ah),
                };
                store.save_contact_state(&mapping, key, &s).await?;
            }
            (Some(f), None) => {
                if prev.and_then(|s| s.affinity_id).is_some() {
                    counts.skipped += 1;
                    events.push(JournalEvent::new(
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
                    continue;
                }
                if !cfg.sync.create_in_affinity {
                    counts.skipped += 1;
                    continue;
                }
                let p = client
                    .create_person_v1(&NewPerson {
                        first_name: f.first_name.clone(),
                        last_name: f.last_name.clone(),
                        emails: vec![f.email.clone()],
                        organization_ids: None,
                    })
                    .await?;
                counts.writes += 1;
                counts.created_in_affinity += 1;
                let h = f.hash();
                store
                    .save_contact_state(
                        &mapping,
                        key,
                        &ContactState {
                            affinity_id: Some(p.id.0),
                            file_hash: Some(h.clone()),
                            affinity_hash: Some(h),
                        },
                    )
                    .await?;
                events.push(JournalEvent::new(
                    rec,
                    Step::Created {
                        affinity_id: p.id.0.to_string(),
                        kind: Some(Kind::Person.as_str().into()),
                        name: None,
                    },
                ));
            }
            (None, Some((id, a))) => {
                let ah = a.hash();
                if prev.is_some_and(|s| s.affinity_hash.as_deref() == Some(&ah)) {
                    counts.unchanged += 1;
                    continue;
                }
                to_file.push(a.clone());
                store
                    .save_contact_state(
                        &mapping,
                        key,
                        &ContactState {
                            affinity_id: Some(*id),
                            file_hash: None,
                            affinity_hash: Some(ah),
                        },
                    )
                    .await?;
                events.push(JournalEvent::new(
                    rec,
                    Step::WrittenToFile {
                        affinity_id: id.to_string(),
                        reason: Some("not in the file".into()),
                    },
                ));
            }
            (None, None) => {}
        }
    }
    counts.written_to_file = to_file.len();
    {
        let tmp = out_path.with_extension("partial");
        let mut w = std::io::BufWriter::new(std::fs::File::create(&tmp).map_err(|e| {
            ContactsError::Read {
                file: tmp.display().to_string(),
                message: e.to_string(),
            }
        })?);
        let io = |e: std::io::Error| ContactsError::Read {
            file: out_path.display().to_string(),
            message: e.to_string(),
        };
        writeln!(
            w,
            "{},{},{}",
            cell(&cols.email),
            cell(&cols.first_name),
            cell(&cols.last_name)
        )
        .map_err(io)?;
        for c in &to_file {
            writeln!(
                w,
                "{},{},{}",
                cell(&c.email),
                cell(&c.first_name),
                cell(&c.last_name)
            )
            .map_err(io)?;
        }
        w.flush().map_err(io)?;
        drop(w);
        std::fs::rename(&tmp, &out_path).map_err(io)?;
    }
    counts.api_calls = client.stats().calls - calls_before;
    run.events(&events).await?;
    run.finish(RunEnd::ok(json!(counts), counts.api_calls))
        .await?;
    Ok((counts, out_path))
}
