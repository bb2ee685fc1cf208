//! Values between the mirror's form and Affinity's: references resolved through the mirror,
//! and the v2 body of a field write.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::affinity::v2::{CompanyRef, Dropdown, FieldValue, Location, PersonRef, RankedDropdown};
use crate::affinity::{DropdownOptionId, OrganizationId, PersonId};
use crate::mapping::convert::{RefKey, Resolve, Resolved};
use crate::mapping::{Mapping, ValueKind};
use crate::matcher::normalize;
use crate::matcher::Kind;
use crate::store::{Store, StoreError, ValueItem};

use super::Bound;

/// Persons and organizations of the mirror, by id, email and domain.
#[derive(Debug, Default)]
pub struct MirrorResolve {
    persons: HashMap<RefKey, Resolved>,
    organizations: HashMap<RefKey, Resolved>,
}

impl MirrorResolve {
    /// Loads what the mapping's `person` and `organization` values may name (nothing when it
    /// has none).
    pub async fn load(
        store: &Store,
        mapping: &Mapping,
        bound: &[Bound],
    ) -> Result<MirrorResolve, StoreError> {
        let wants = |k: ValueKind| {
            bound
                .iter()
                .any(|b| *mapping.fields[b.spec].ty.get_ref() == k)
        };
        let mut r = MirrorResolve::default();
        if wants(ValueKind::Person) {
            for c in store.candidates(Kind::Person, &[]).await? {
                let Ok(id) = c.id.parse::<i64>() else {
                    continue;
                };
                let name = Some(c.name.clone()).filter(|n| !n.trim().is_empty());
                let res = Resolved { id, name };
                r.persons.insert(RefKey::Id(id), res.clone());
                for e in &c.emails {
                    r.persons
                        .insert(RefKey::Email(e.trim().to_lowercase()), res.clone());
                }
            }
        }
        if wants(ValueKind::Organization) {
            for c in store.candidates(Kind::Organization, &[]).await? {
                let Ok(id) = c.id.parse::<i64>() else {
                    continue;
                };
                let res = Resolved {
                    id,
                    name: Some(c.name.clone()),
                };
                r.organizations.insert(RefKey::Id(id), res.clone());
                for d in &c.domains {
                    if let Some(k) = normalize::domain_key(d) {
                        r.organizations.insert(RefKey::Domain(k), res.clone());
                    }
                }
            }
        }
        Ok(r)
    }
}

impl Resolve for MirrorResolve {
    fn person(&self, key: &RefKey) -> Option<Resolved> {
        self.persons.get(key).cloned().or(match key {
            RefKey::Id(id) => Some(Resolved {
                id: *id,
                name: None,
            }),
            _ => None,
        })
    }
    fn organization(&self, key: &RefKey) -> Option<Resolved> {
        self.organizations.get(key).cloned().or(match key {
            RefKey::Id(id) => Some(Resolved {
                id: *id,
                name: None,
            }),
            _ => None,
        })
    }
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
