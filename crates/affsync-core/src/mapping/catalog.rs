//! What the checker and the value converter need from the mirror, read once (by the store):
//! the lists, the field catalog (with dropdown options and which lists carry which fields),
//! and the persons and organizations that cells may name by email or domain.

use std::collections::{BTreeMap, HashMap};

use crate::matcher::normalize::domain_key;
use crate::model::{FieldRow, Kind, ListRow};

use super::convert::{RefKey, Resolve, Resolved};

/// The lists and fields the mirror holds (gone ones left out).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Catalog {
    pub lists: Vec<ListRow>,
    pub fields: Vec<FieldRow>,
    /// The fields each list's entries carry (its own, and its entity type's global ones).
    pub list_fields: BTreeMap<i64, Vec<String>>,
}

/// How a name or id found a field.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldLookup<'a> {
    Found(&'a FieldRow),
    /// The field exists, but on another list or for another kind of record.
    Elsewhere(&'a FieldRow),
    /// No field has this name or id; the closest names of the fields that could be meant.
    Unknown(Vec<String>),
}

impl Catalog {
    /// Whether a pull has filled the catalog.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.lists.is_empty()
    }

    /// A list by id or by name (exact, then case-insensitive).
    pub fn find_list(&self, name_or_id: &str) -> Option<&ListRow> {
        let w = name_or_id.trim();
        self.lists
            .iter()
            .find(|l| l.id.to_string() == w || l.name == w)
            .or_else(|| self.lists.iter().find(|l| l.name.eq_ignore_ascii_case(w)))
    }

    /// Whether a field is global (or enriched) for a kind of record: not list-specific, and
    /// either said to be of that kind or carried by that kind's lists.
    pub fn is_global_for(&self, f: &FieldRow, kind: Kind) -> bool {
        if f.list_id.is_some() || f.field_type == "list" {
            return false;
        }
        match f.entity_kind {
            Some(k) => k == kind,
            None => self.lists.iter().filter(|l| l.kind == kind).any(|l| {
                self.list_fields
                    .get(&l.id)
                    .is_some_and(|ids| ids.contains(&f.id))
            }),
        }
    }

    /// The fields a record of `kind` may be given: its kind's global fields, and the fields of
    /// `list` (its own ones).
    pub fn fields_for(&self, kind: Kind, list: Option<&ListRow>) -> Vec<&FieldRow> {
        self.fields
            .iter()
            .filter(|f| {
                self.is_global_for(f, kind) || (list.is_some_and(|l| f.list_id == Some(l.id)))
            })
            .collect()
    }

    /// Finds a field by id (`field-123`) or name (exact, then case-insensitive) among the
    /// fields a record of `kind` on `list` may be given.
    pub fn lookup(&self, name_or_id: &str, kind: Kind, list: Option<&ListRow>) -> FieldLookup<'_> {
        let w = name_or_id.trim();
        let allowed = self.fields_for(kind, list);
        fn pick<'c>(set: &[&'c FieldRow], w: &str) -> Option<&'c FieldRow> {
            set.iter()
                .find(|f| f.id == w)
                .or_else(|| set.iter().find(|f| f.name == w))
                .or_else(|| set.iter().find(|f| f.name.eq_ignore_ascii_case(w)))
                .copied()
        }
        if let Some(f) = pick(&allowed, w) {
            return FieldLookup::Found(f);
        }
        let all: Vec<&FieldRow> = self.fields.iter().collect();
        if let Some(f) = pick(&all, w) {
            return FieldLookup::Elsewhere(f);
        }
        let names: Vec<String> = allowed.iter().map(|f| f.name.clone()).collect();
        FieldLookup::Unknown(super::convert::closest(w, &names, 3))
    }

    pub fn list_by_id(&self, id: i64) -> Option<&ListRow> {
        self.lists.iter().find(|l| l.id == id)
    }
}

/// The persons and organizations the mirror knows, by id, email and domain: the entities of
/// pulled lists, and those that field values refer to (a deal's owner, say).
#[derive(Debug, Clone, Default)]
pub struct MirrorRefs {
    persons: HashMap<RefKey, Resolved>,
    organizations: HashMap<RefKey, Resolved>,
}

impl MirrorRefs {
    /// Adds a person known by these addresses.
    pub fn add_person(&mut self, id: i64, name: Option<String>, emails: &[String]) {
        let r = Resolved { id, name };
        self.persons
            .entry(RefKey::Id(id))
            .or_insert_with(|| r.clone());
        for e in emails {
            let e = e.trim().to_lowercase();
            if !e.is_empty() {
                self.persons
                    .entry(RefKey::Email(e))
                    .or_insert_with(|| r.clone());
            }
        }
    }

    /// Adds an organization known by these domains.
    pub fn add_organization(&mut self, id: i64, name: Option<String>, domains: &[String]) {
        let r = Resolved { id, name };
        self.organizations
            .entry(RefKey::Id(id))
            .or_insert_with(|| r.clone());
        for d in domains {
            if let Some(k) = domain_key(d) {
                self.organizations
                    .entry(RefKey::Domain(k))
                    .or_insert_with(|| r.clone());
            }
        }
    }
}

impl Resolve for MirrorRefs {
    fn person(&self, key: &RefKey) -> Option<Resolved> {
        self.persons.get(key).cloned()
    }
    fn organization(&self, key: &RefKey) -> Option<Resolved> {
        self.organizations.get(key).cloned()
    }
}
