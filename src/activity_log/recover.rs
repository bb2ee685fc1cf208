//! Contacts an earlier run began to create and never saw finished: killed after Affinity
//! created the person, or the answer lost on the way back; or created without their phone
//! number (its write failed). Before the next run plans, each is settled: the person is looked
//! up in Affinity by name (and email), the mirror learns them, and a missing phone number is
//! written, once (the person's values are read first: a lost answer may have written it).
//! Then the plan finds them by their number, and no second person is created.

use std::collections::BTreeMap;

use chrono::Utc;
use futures::{StreamExt, TryStreamExt};

use super::{write_phone, ActivityError};
use crate::store::journal::Run;
use crate::store::pushed::LearnedEntity;
use crate::store::Store;
use affinity_crm::{Client, FieldValuesOf, PersonId};
use affsync_core::activity::settings::digits;
use affsync_core::journal::{JournalEvent, Step, CONTACT_STEPS};

/// How far an earlier run got with one contact.
enum Pending {
    /// Begun, never confirmed (or failed: the answer may have been lost after the create).
    Begun {
        first_name: String,
        last_name: String,
        phone: Option<String>,
    },
    /// Created, but its phone number was not written.
    NoPhone { person: i64, phone: Option<String> },
}

/// The contacts earlier runs left unsettled, by record key (`contact:…`).
async fn pending(store: &Store) -> Result<BTreeMap<String, Pending>, ActivityError> {
    let mut out: BTreeMap<String, Pending> = BTreeMap::new();
    for e in store.events_with_steps(&CONTACT_STEPS).await? {
        let rk = e.event.record;
        if !rk.starts_with("contact:") {
            continue;
        }
        match e.event.step {
            Step::ContactCreateStarted {
                first_name,
                last_name,
                phone,
            } => {
                out.insert(
                    rk,
                    Pending::Begun {
                        first_name: first_name.unwrap_or_default(),
                        last_name: last_name.unwrap_or_default(),
                        phone,
                    },
                );
            }
            Step::ContactCreated {
                person_id,
                phone_error: Some(_),
                ..
            } => {
                let phone = match out.remove(&rk) {
                    Some(Pending::Begun { phone, .. }) | Some(Pending::NoPhone { phone, .. }) => {
                        phone
                    }
                    None => None,
                };
                out.insert(
                    rk,
                    Pending::NoPhone {
                        person: person_id,
                        phone,
                    },
                );
            }
            Step::ContactCreated { .. } | Step::Skipped { .. } => {
                out.remove(&rk);
            }
            // A failed create stays begun: the answer may have been lost after Affinity wrote.
            _ => {}
        }
    }
    Ok(out)
}

fn same_name(a: Option<&str>, b: &str) -> bool {
    a.unwrap_or_default().trim().to_lowercase() == b.trim().to_lowercase()
}

/// The person an unconfirmed create made, if Affinity has one by that exact name: the newest.
async fn find_person(
    client: &Client,
    first_name: &str,
    last_name: &str,
) -> Result<Option<affinity_crm::v1::Person>, affinity_crm::Error> {
    let found: Vec<_> = client
        .persons_v1(Some(first_name.trim()), &[])
        .take(500)
        .try_collect()
        .await?;
    Ok(found
        .into_iter()
        .filter(|p| same_name(p.first_name.as_deref(), first_name))
        .filter(|p| same_name(p.last_name.as_deref(), last_name))
        .max_by_key(|p| p.id.0))
}

/// Writes `number` into the person's phone field unless Affinity already holds it there.
async fn settle_phone(
    store: &Store,
    client: &Client,
    person: i64,
    number: &str,
    (field, value_type): &(String, String),
) -> Result<Result<(), String>, ActivityError> {
    let held = match client
        .field_values_v1(FieldValuesOf::Person(PersonId(person)))
        .await
    {
        Ok(values) => values.iter().any(|v| {
            format!("field-{}", v.field_id.0) == *field
                && v.raw_value
                    .as_str()
                    .is_some_and(|t| digits(t) == digits(number))
        }),
        Err(e) => return Ok(Err(e.to_string())),
    };
    if held {
        super::learn_phone(store, person, field, value_type, number).await?;
        return Ok(Ok(()));
    }
    write_phone(store, client, person, field, value_type, number).await
}

/// Settles what earlier runs left of their contacts; gives how many persons were found again.
pub(super) async fn recover_contacts(
    store: &Store,
    client: &Client,
    run: &Run,
    phone_field: Option<&(String, String)>,
) -> Result<usize, ActivityError> {
    let mut found = 0;
    for (rk, p) in pending(store).await? {
        let (person, phone) = match p {
            Pending::NoPhone { person, phone } => (person, phone),
            Pending::Begun {
                first_name,
                last_name,
                phone,
            } => match find_person(client, &first_name, &last_name).await {
                Ok(Some(p)) => {
                    store
                        .learn_entity(
                            &LearnedEntity::Person {
                                id: p.id.0,
                                person_type: Some("external".into()),
                                first_name: p.first_name.clone(),
                                last_name: p.last_name.clone(),
                                emails: p.emails.clone(),
                            },
                            Utc::now(),
                        )
                        .await?;
                    found += 1;
                    (p.id.0, phone)
                }
                Ok(None) => {
                    run.events(&[JournalEvent::new(
                        &rk,
                        Step::Skipped {
                            reason: Some("contact_not_created".into()),
                            detail: Some(
                                "an earlier run began creating this contact; Affinity has no such person"
                                    .into(),
                            ),
                            why: None,
                            row: None,
                            problem: None,
                        },
                    )])
                    .await?;
                    continue;
                }
                // Unreachable now: left for the next run, and the plan creates nothing twice
                // only if it can ask, so the run stops here.
                Err(e) => return Err(ActivityError::Api(e)),
            },
        };
        let (mut written, mut error) = (None, None);
        if let (Some(number), Some(field)) = (&phone, phone_field) {
            match settle_phone(store, client, person, number, field).await? {
                Ok(()) => written = Some(number.clone()),
                Err(e) => error = Some(e),
            }
        }
        run.events(&[JournalEvent::new(
            &rk,
            Step::ContactCreated {
                person_id: person,
                phone: written,
                phone_error: error,
            },
        )])
        .await?;
    }
    Ok(found)
}
