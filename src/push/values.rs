//! Values between the mirror's form and Affinity's: references resolved through the mirror,
//! and the v2 body of a field write.

use affsync_core::model::ValueItem;
use chrono::{DateTime, Utc};

use crate::store::Store;
use affinity_crm::v2::{CompanyRef, Dropdown, FieldValue, Location, PersonRef, RankedDropdown};
use affinity_crm::{DropdownOptionId, OrganizationId, PersonId};
use affsync_core::mapping::catalog::MirrorRefs;
use affsync_core::mapping::convert::{RefKey, Resolve};
use affsync_core::mapping::{Mapping, ValueKind};
use affsync_core::matcher::normalize;

use affsync_core::plan::push::Bound;

/// Asks Affinity (term search, then an exact comparison) for the emails and domains that the
/// records' `person` and `organization` values name and `refs` (the mirror's) lacks; what is
/// found is added to `refs` and, when `learn`, learned by the mirror. One search per unknown
/// email or domain; gives the number of searches.
pub async fn look_up_references(
    store: &Store,
    client: &affinity_crm::Client,
    mapping: &Mapping,
    bound: &[Bound],
    records: &[affsync_core::matcher::SourceRecord],
    refs: &mut MirrorRefs,
    learn: bool,
) -> Result<usize, super::PushError> {
    let mut searches = 0;
    use futures::{StreamExt, TryStreamExt};
    for b in bound {
        let ty = *mapping.fields[b.spec].ty.get_ref();
        if ty != ValueKind::Person && ty != ValueKind::Organization {
            continue;
        }
        let mut asked = std::collections::BTreeSet::new();
        for rec in records {
            let Some(cell) = rec.values.get(&b.source) else {
                continue;
            };
            for part in cell.split(affsync_core::mapping::convert::MULTI_SEPARATOR) {
                let part = part.trim();
                if ty == ValueKind::Person {
                    let Some(e) = normalize::email_key(part).filter(|_| part.contains('@')) else {
                        continue;
                    };
                    let Ok(norm) = affsync_core::mapping::convert::normalize_email(part) else {
                        continue;
                    };
                    if refs.person(&RefKey::Email(norm)).is_some() || !asked.insert(e.clone()) {
                        continue;
                    }
                    searches += 1;
                    let found: Vec<_> = client
                        .persons_v1(Some(part), &[])
                        .take(100)
                        .try_collect()
                        .await?;
                    if let Some(p) = found.into_iter().find(|p| {
                        p.emails
                            .iter()
                            .any(|x| normalize::email_key(x).as_deref() == Some(e.as_str()))
                    }) {
                        let name = [p.first_name.clone(), p.last_name.clone()]
                            .into_iter()
                            .flatten()
                            .collect::<Vec<_>>()
                            .join(" ");
                        if learn {
                            store
                                .learn_entity(
                                    &crate::store::pushed::LearnedEntity::Person {
                                        id: p.id.0,
                                        person_type: Some(
                                            super::resolve::v1_person_type(p.person_type).into(),
                                        ),
                                        first_name: p.first_name.clone(),
                                        last_name: p.last_name.clone(),
                                        emails: p.emails.clone(),
                                    },
                                    Utc::now(),
                                )
                                .await?;
                        }
                        let mut emails = p.emails.clone();
                        emails.push(part.to_string());
                        refs.add_person(p.id.0, Some(name).filter(|n| !n.is_empty()), &emails);
                    }
                } else {
                    let Some(d) = normalize::domain_key(part) else {
                        continue;
                    };
                    if part.parse::<i64>().is_ok()
                        || refs.organization(&RefKey::Domain(d.clone())).is_some()
                        || !asked.insert(d.clone())
                    {
                        continue;
                    }
                    searches += 1;
                    let found: Vec<_> = client
                        .organizations_v1(Some(&d), &[])
                        .take(100)
                        .try_collect()
                        .await?;
                    if let Some(o) = found.into_iter().find(|o| {
                        o.domain
                            .iter()
                            .chain(&o.domains)
                            .any(|x| normalize::domain_key(x).as_deref() == Some(d.as_str()))
                    }) {
                        if learn {
                            store
                                .learn_entity(
                                    &crate::store::pushed::LearnedEntity::Organization {
                                        id: o.id.0,
                                        name: o.name.clone(),
                                        domain: o.domain.clone(),
                                        domains: o.domains.clone(),
                                        global: o.global,
                                    },
                                    Utc::now(),
                                )
                                .await?;
                        }
                        let mut domains = o.domains.clone();
                        domains.extend(o.domain.clone());
                        refs.add_organization(o.id.0, Some(o.name), &domains);
                    }
                }
            }
        }
    }
    Ok(searches)
}

fn at(item: &ValueItem) -> Option<DateTime<Utc>> {
    item.at
        .as_deref()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|d| d.with_timezone(&Utc))
}

fn location(item: &ValueItem) -> Location {
    item.json
        .as_deref()
        .and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or(Location {
            street_address: None,
            city: item.text.clone(),
            state: None,
            country: None,
            continent: None,
        })
}

/// The v2 body of a write of `items` to a field of `value_type`; `None` for a value type
/// Affinity does not take writes of.
pub fn to_v2(value_type: &str, items: &[ValueItem]) -> Option<FieldValue> {
    let texts = || items.iter().filter_map(|i| i.text.clone());
    let numbers = || items.iter().filter_map(|i| i.number);
    let dropdown = |i: &ValueItem| {
        i.ref_id.map(|id| Dropdown {
            dropdown_option_id: DropdownOptionId(id),
            text: None,
        })
    };
    let person = |i: &ValueItem| {
        i.ref_id.map(|id| PersonRef {
            id: PersonId(id),
            first_name: None,
            last_name: None,
            primary_email_address: None,
            person_type: None,
        })
    };
    let company = |i: &ValueItem| i.ref_id.map(|id| CompanyRef::id(OrganizationId(id)));
    let first = items.first();
    Some(match value_type {
        "text" => FieldValue::Text(texts().next()),
        "filterable-text" => FieldValue::FilterableText(texts().next()),
        "filterable-text-multi" => FieldValue::FilterableTextMulti(Some(texts().collect())),
        "number" => FieldValue::Number(numbers().next()),
        "number-multi" => FieldValue::NumberMulti(Some(numbers().collect())),
        "datetime" => FieldValue::Datetime(first.and_then(at)),
        "location" => FieldValue::Location(first.map(location)),
        "location-multi" => FieldValue::LocationMulti(Some(items.iter().map(location).collect())),
        "dropdown" => FieldValue::Dropdown(first.and_then(dropdown)),
        "dropdown-multi" => {
            FieldValue::DropdownMulti(Some(items.iter().filter_map(dropdown).collect()))
        }
        "ranked-dropdown" => FieldValue::RankedDropdown(first.and_then(|i| {
            i.ref_id.map(|id| RankedDropdown {
                dropdown_option_id: DropdownOptionId(id),
                text: None,
                rank: None,
                color: None,
            })
        })),
        "person" => FieldValue::Person(first.and_then(person)),
        "person-multi" => FieldValue::PersonMulti(Some(items.iter().filter_map(person).collect())),
        "company" => FieldValue::Company(first.and_then(company)),
        "company-multi" => {
            FieldValue::CompanyMulti(Some(items.iter().filter_map(company).collect()))
        }
        _ => return None,
    })
}

/// What the mirror knows of the persons and organizations values refer to, to record a written
/// reference as a pull reads it back (names, email, domain).
#[derive(Debug, Clone, Default)]
pub struct RefDetails {
    pub persons: std::collections::BTreeMap<i64, PersonRef>,
    pub organizations: std::collections::BTreeMap<i64, CompanyRef>,
}

/// A date as Affinity keeps it since 2026: midnight US Pacific of the day the instant falls on
/// there (affinity-api.md §8.7).
pub fn affinity_day(at: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::TimeZone;
    let tz = chrono_tz::America::Los_Angeles;
    let day = at.with_timezone(&tz).date_naive();
    let midnight = day.and_hms_opt(0, 0, 0).expect("midnight exists");
    tz.from_local_datetime(&midnight)
        .earliest()
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or(at)
}

/// The items a pull will read back after `items` are written to a field of `value_type`:
/// dates at Affinity's midnight, references with the names Affinity sends with them. The
/// mirror learns these, so that the next pull finds nothing changed.
pub fn as_pulled(value_type: &str, items: &[ValueItem], refs: &RefDetails) -> Vec<ValueItem> {
    let Some(mut fv) = to_v2(value_type, items) else {
        return items.to_vec();
    };
    let person = |p: &mut PersonRef| {
        if let Some(known) = refs.persons.get(&p.id.0) {
            *p = known.clone();
        }
    };
    let company = |c: &mut CompanyRef| {
        if let Some(known) = refs.organizations.get(&c.id.0) {
            *c = known.clone();
        }
    };
    match &mut fv {
        FieldValue::Datetime(Some(at)) => *at = affinity_day(*at),
        FieldValue::Person(Some(p)) => person(p),
        FieldValue::PersonMulti(Some(ps)) => ps.iter_mut().for_each(person),
        FieldValue::Company(Some(c)) => company(c),
        FieldValue::CompanyMulti(Some(cs)) => cs.iter_mut().for_each(company),
        FieldValue::RankedDropdown(Some(r)) => {
            // The rank and text a pull reads come with the written item.
            if let Some(i) = items.first() {
                r.text = i.text.clone();
                r.rank = i.number.map(|n| n as i64);
            }
        }
        FieldValue::Dropdown(Some(d)) => d.text = items.first().and_then(|i| i.text.clone()),
        FieldValue::DropdownMulti(Some(ds)) => {
            for (d, i) in ds.iter_mut().zip(items) {
                d.text = i.text.clone();
            }
        }
        _ => {}
    }
    crate::pull::value_items(&fv)
}

/// A value in words, for the dry run and the journal: `2024-03-05`, `Series A`, `12`.
pub fn words(items: &[ValueItem]) -> String {
    if items.is_empty() {
        return "(none)".into();
    }
    items
        .iter()
        .map(|i| {
            if let Some(t) = &i.text {
                t.clone()
            } else if let Some(n) = i.number {
                if n.fract() == 0.0 && n.abs() < 1e15 {
                    format!("{}", n as i64)
                } else {
                    n.to_string()
                }
            } else if let Some(a) = &i.at {
                a.get(..10).unwrap_or(a).to_string()
            } else if let Some(r) = i.ref_id {
                format!("#{r}")
            } else {
                String::new()
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}
