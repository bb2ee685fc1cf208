//! Persons, organizations and opportunities (affinity-api.md §2.3).

use std::collections::BTreeSet;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{json, Value as Json_};

use super::common::*;
use crate::state::{
    entity_type, v1_time, Interaction, ListEntry, Opportunity, Organization, Person,
    State as Tenant,
};
use crate::{ApiError, AppState};

/// The person and organization links are kept on both sides; this sets a person's side and
/// mirrors it on the organizations.
fn set_person_orgs(st: &mut Tenant, pid: i64, orgs: &[i64]) {
    for o in st.organizations.values_mut() {
        let want = orgs.contains(&o.id);
        let has = o.person_ids.contains(&pid);
        if want && !has {
            o.person_ids.push(pid);
        } else if !want && has {
            o.person_ids.retain(|p| *p != pid);
        }
        if want {
            // A global organization linked to a tenant's person is now part of the tenant [I].
            o.in_tenant = true;
        }
    }
    if let Some(p) = st.persons.get_mut(&pid) {
        p.organization_ids = dedup(orgs);
    }
}

fn set_org_persons(st: &mut Tenant, oid: i64, persons: &[i64]) {
    for p in st.persons.values_mut() {
        let want = persons.contains(&p.id);
        let has = p.organization_ids.contains(&oid);
        if want && !has {
            p.organization_ids.push(oid);
        } else if !want && has {
            p.organization_ids.retain(|o| *o != oid);
        }
    }
    if let Some(o) = st.organizations.get_mut(&oid) {
        o.person_ids = dedup(persons);
    }
}

fn dedup(ids: &[i64]) -> Vec<i64> {
    let mut seen = BTreeSet::new();
    ids.iter().copied().filter(|i| seen.insert(*i)).collect()
}

/// The interactions an entity took part in: for an organization, those naming it or one of
/// its persons [I].
fn interactions_of(st: &Tenant, kind: i64, id: i64) -> Vec<&Interaction> {
    st.interactions
        .values()
        .filter(|i| match kind {
            entity_type::PERSON => i.person_ids.contains(&id),
            _ => {
                let persons = st
                    .organizations
                    .get(&id)
                    .map(|o| o.person_ids.clone())
                    .unwrap_or_default();
                i.organization_ids.contains(&id) || i.person_ids.iter().any(|p| persons.contains(p))
            }
        })
        .collect()
}

/// `with_interaction_dates=true` adds `interaction_dates` (seven `*_date` keys) and
/// `interactions` (`{date}` or null), and drops entities without any interaction (§2.3, §8.11;
/// fixture `persons_search_with_dates.json`, whose `interactions` carry no `person_ids`).
/// `with_interaction_persons=true` adds each one's `person_ids` (issue 17, finding 4).
/// Meetings and calls count as events [I].
fn interaction_dates(
    st: &Tenant,
    kind: i64,
    id: i64,
    with_persons: bool,
) -> Option<(Json_, Json_)> {
    let all = interactions_of(st, kind, id);
    if all.is_empty() {
        return None;
    }
    let now = Utc::now();
    let pick = |types: &[i64], future: bool, last: bool| -> Option<&Interaction> {
        let it = all
            .iter()
            .copied()
            .filter(|i| types.contains(&i.kind) && (i.date > now) == future);
        if last {
            it.max_by_key(|i| i.date)
        } else {
            it.min_by_key(|i| i.date)
        }
    };
    let keys: [(&str, Option<&Interaction>); 7] = [
        ("first_email", pick(&[3], false, false)),
        ("last_email", pick(&[3], false, true)),
        ("first_event", pick(&[0, 1], false, false)),
        ("last_event", pick(&[0, 1], false, true)),
        ("next_event", pick(&[0, 1], true, false)),
        ("last_chat_message", pick(&[2], false, true)),
        ("last_interaction", pick(&[0, 1, 2, 3], false, true)),
    ];
    let date = |i: Option<&Interaction>| i.map(|i| v1_time(i.date));
    let mut dates = serde_json::Map::new();
    let mut inter = serde_json::Map::new();
    for (k, i) in keys {
        dates.insert(format!("{k}_date"), json!(date(i)));
        inter.insert(
            k.to_string(),
            i.map_or(Json_::Null, |i| {
                let mut v = json!({ "date": v1_time(i.date) });
                if with_persons {
                    v["person_ids"] = json!(i.person_ids);
                }
                v
            }),
        );
    }
    Some((Json_::Object(dates), Json_::Object(inter)))
}

/// Adds what the `with_*` flags ask for; `None` when `with_interaction_dates` drops it.
fn with_flags(st: &Tenant, q: &Q, kind: i64, id: i64, mut v: Json_) -> Option<Json_> {
    if q.bool("with_interaction_dates").unwrap_or(false) {
        let with_persons = q.bool("with_interaction_persons").unwrap_or(false);
        let (dates, inter) = interaction_dates(st, kind, id, with_persons)?;
        v["interaction_dates"] = dates;
        v["interactions"] = inter;
    }
    if q.bool("with_opportunities").unwrap_or(false) {
        v["opportunity_ids"] = json!(opportunity_ids(st, kind, id));
    }
    if kind == entity_type::PERSON && q.bool("with_current_organizations").unwrap_or(false) {
        v["current_organization_ids"] = json!(st
            .persons
            .get(&id)
            .map(|p| p.organization_ids.clone())
            .unwrap_or_default());
    }
    Some(v)
}

fn opportunity_ids(st: &Tenant, kind: i64, id: i64) -> Vec<i64> {
    st.opportunities
        .values()
        .filter(|o| match kind {
            entity_type::PERSON => o.person_ids.contains(&id),
            _ => o.organization_ids.contains(&id),
        })
        .map(|o| o.id)
        .collect()
}

fn check_flags(q: &Q) -> Result<(), ApiError> {
    for k in [
        "with_interaction_dates",
        "with_interaction_persons",
        "with_opportunities",
        "with_current_organizations",
    ] {
        q.bool(k)?;
    }
    Ok(())
}

// ---------------------------------------------------------------- persons

fn person_short(p: &Person) -> Json_ {
    let mut v = person_json(p);
    v["organization_ids"] = json!(p.organization_ids);
    v
}

/// `GET /persons?term=&page_size&page_token`: `term` is a case-insensitive substring of an
/// email, the first name or the last name (§8.2).
pub async fn persons(State(s): State<AppState>, RawQuery(raw): RawQuery) -> Answer {
    let q = Q::parse(raw);
    check_flags(&q)?;
    let p = Paging::from(&q, 500)?;
    let term = q.str("term").map(str::to_lowercase);
    let st = s.tenant();
    let hits: Vec<Json_> = st
        .persons
        .values()
        .filter(|p| match &term {
            None => true,
            Some(t) => {
                contains_ci(&p.first_name, t)
                    || p.last_name.as_deref().is_some_and(|l| contains_ci(l, t))
                    || p.emails.iter().any(|e| contains_ci(e, t))
            }
        })
        .filter_map(|p| with_flags(&st, &q, entity_type::PERSON, p.id, person_json(p)))
        .collect();
    let (page, next) = p.page(hits);
    ok(json!({ "persons": page, "next_page_token": next }))
}

/// `GET /persons/{id}` (fixture `persons_get.json`).
pub async fn person(State(s): State<AppState>, P(id): P<i64>, RawQuery(raw): RawQuery) -> Answer {
    let q = Q::parse(raw);
    check_flags(&q)?;
    let st = s.tenant();
    let p = super::common::person(&st, id)?;
    let mut v = person_short(p);
    v["list_entries"] = json!(entries_of(&st, entity_type::PERSON, id));
    ok(with_flags(&st, &q, entity_type::PERSON, id, v.clone()).unwrap_or(v))
}

#[derive(Deserialize)]
struct NewPerson {
    first_name: String,
    last_name: Option<String>,
    emails: Vec<String>,
    #[serde(default)]
    organization_ids: Vec<i64>,
}

/// Emails are unique per person, case-insensitively (§8.5).
fn check_emails(st: &Tenant, emails: &[String], except: Option<i64>) -> Result<(), ApiError> {
    for e in emails {
        if !e.contains('@') {
            return Err(invalid("emails", format!("`{e}` is not an email address")));
        }
        let lower = e.to_lowercase();
        if let Some(other) = st
            .persons
            .values()
            .find(|p| Some(p.id) != except && p.emails.iter().any(|x| x.to_lowercase() == lower))
        {
            return Err(invalid(
                "emails",
                format!("email {e} already belongs to person {}", other.id),
            ));
        }
    }
    Ok(())
}

fn dedup_emails(emails: Vec<String>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    emails
        .into_iter()
        .map(|e| e.trim().to_string())
        .filter(|e| seen.insert(e.to_lowercase()))
        .collect()
}

/// `POST /persons {first_name, last_name, emails, organization_ids?}`: fails when an email
/// already belongs to another person.
pub async fn create_person(State(s): State<AppState>, b: Bytes) -> Answer {
    let np: NewPerson = body(&b)?;
    let mut st = s.tenant();
    if np.first_name.trim().is_empty() {
        return Err(invalid("first_name", "`first_name` is required"));
    }
    let emails = dedup_emails(np.emails);
    check_emails(&st, &emails, None)?;
    check_ids(
        &st,
        entity_type::ORGANIZATION,
        &np.organization_ids,
        "organization_ids",
    )?;
    let id = st.next_id();
    st.persons.insert(
        id,
        Person {
            id,
            kind: 0,
            first_name: np.first_name,
            last_name: np.last_name,
            emails,
            organization_ids: vec![],
        },
    );
    set_person_orgs(&mut st, id, &np.organization_ids);
    let v = person_short(&st.persons[&id]);
    st.announce("person.created", v.clone());
    created(v)
}

#[derive(Deserialize)]
struct PersonUpdate {
    first_name: Option<String>,
    last_name: Option<String>,
    emails: Option<Vec<String>>,
    organization_ids: Option<Vec<i64>>,
}

/// `PUT /persons/{id}`: partial, but `emails` and `organization_ids` replace the whole set
/// (§8.6).
pub async fn update_person(State(s): State<AppState>, P(id): P<i64>, b: Bytes) -> Answer {
    let mut st = s.tenant();
    super::common::person(&st, id)?;
    let pu: PersonUpdate = body(&b)?;
    let emails = pu.emails.map(dedup_emails);
    if let Some(e) = &emails {
        check_emails(&st, e, Some(id))?;
    }
    if let Some(o) = &pu.organization_ids {
        check_ids(&st, entity_type::ORGANIZATION, o, "organization_ids")?;
    }
    if pu
        .first_name
        .as_deref()
        .is_some_and(|f| f.trim().is_empty())
    {
        return Err(invalid("first_name", "`first_name` cannot be empty"));
    }
    let p = st.persons.get_mut(&id).expect("checked above");
    if let Some(f) = pu.first_name {
        p.first_name = f;
    }
    if let Some(l) = pu.last_name {
        p.last_name = Some(l);
    }
    if let Some(e) = emails {
        p.emails = e;
    }
    if let Some(o) = pu.organization_ids {
        set_person_orgs(&mut st, id, &o);
    }
    let v = person_short(&st.persons[&id]);
    st.announce("person.updated", v.clone());
    ok(v)
}

/// `DELETE /persons/{id}`: also its field values and list entries. Internal persons (users)
/// cannot be deleted (v2 answers 403 for them; v1 is undocumented: 422 [I]).
pub async fn delete_person(State(s): State<AppState>, P(id): P<i64>) -> Answer {
    let mut st = s.tenant();
    let p = super::common::person(&st, id)?;
    if p.kind == 1 {
        return Err(invalid("person_id", format!("person {id} is internal")));
    }
    let announced = person_short(p);
    set_person_orgs(&mut st, id, &[]);
    for o in st.opportunities.values_mut() {
        o.person_ids.retain(|p| *p != id);
    }
    delete_entity_data(&mut st, entity_type::PERSON, id);
    st.persons.remove(&id);
    st.announce("person.deleted", announced);
    success()
}

// ---------------------------------------------------------------- organizations

fn organization_short(o: &Organization) -> Json_ {
    let mut v = organization_json(o);
    v["person_ids"] = json!(o.person_ids);
    v
}

/// `GET /organizations?term=`: `term` is a case-insensitive substring of the name or a
/// domain. Global organizations outside the tenant are found only when `term` is the only
/// filter (paging params aside), and never listed otherwise (§8.2).
pub async fn organizations(State(s): State<AppState>, RawQuery(raw): RawQuery) -> Answer {
    let q = Q::parse(raw);
    check_flags(&q)?;
    let p = Paging::from(&q, 500)?;
    let term = q.str("term").map(str::to_lowercase);
    let only_term = term.is_some()
        && q.0
            .iter()
            .all(|(k, _)| matches!(k.as_str(), "term" | "page_size" | "page_token"));
    let st = s.tenant();
    let hits: Vec<Json_> = st
        .organizations
        .values()
        .filter(|o| o.in_tenant || only_term)
        .filter(|o| match &term {
            None => true,
            Some(t) => contains_ci(&o.name, t) || o.domains.iter().any(|d| contains_ci(d, t)),
        })
        .filter_map(|o| {
            with_flags(
                &st,
                &q,
                entity_type::ORGANIZATION,
                o.id,
                organization_json(o),
            )
        })
        .collect();
    let (page, next) = p.page(hits);
    ok(json!({ "organizations": page, "next_page_token": next }))
}

/// `GET /organizations/{id}`: adds `person_ids` and `list_entries`; `opportunity_ids` only with
/// `with_opportunities=true`, as for persons (issue 17, finding 4).
pub async fn organization(
    State(s): State<AppState>,
    P(id): P<i64>,
    RawQuery(raw): RawQuery,
) -> Answer {
    let q = Q::parse(raw);
    check_flags(&q)?;
    let st = s.tenant();
    let o = super::common::organization(&st, id)?;
    let mut v = organization_short(o);
    v["list_entries"] = json!(entries_of(&st, entity_type::ORGANIZATION, id));
    ok(with_flags(&st, &q, entity_type::ORGANIZATION, id, v.clone()).unwrap_or(v))
}

#[derive(Deserialize)]
struct NewOrganization {
    name: String,
    domain: Option<String>,
    #[serde(default)]
    person_ids: Vec<i64>,
}

fn normalize_domain(d: &str) -> String {
    d.trim().to_lowercase()
}

/// `POST /organizations {name, domain?, person_ids?}`: always a non-global organization.
pub async fn create_organization(State(s): State<AppState>, b: Bytes) -> Answer {
    let no: NewOrganization = body(&b)?;
    let mut st = s.tenant();
    if no.name.trim().is_empty() {
        return Err(invalid("name", "`name` is required"));
    }
    check_ids(&st, entity_type::PERSON, &no.person_ids, "person_ids")?;
    let domain = no.domain.as_deref().map(normalize_domain);
    let id = st.next_id();
    st.organizations.insert(
        id,
        Organization {
            id,
            name: no.name,
            domains: domain.iter().cloned().collect(),
            domain,
            global: false,
            in_tenant: true,
            person_ids: vec![],
        },
    );
    set_org_persons(&mut st, id, &no.person_ids);
    let v = organization_short(&st.organizations[&id]);
    st.announce("organization.created", v.clone());
    created(v)
}

#[derive(Deserialize)]
struct OrganizationUpdate {
    name: Option<String>,
    domain: Option<String>,
    person_ids: Option<Vec<i64>>,
}

/// `PUT /organizations/{id} {name?, domain?, person_ids?}`: `person_ids` replaces the set.
/// A global organization cannot be renamed or re-domained: 422 [I] (§8.3).
pub async fn update_organization(State(s): State<AppState>, P(id): P<i64>, b: Bytes) -> Answer {
    let mut st = s.tenant();
    let o = super::common::organization(&st, id)?.clone();
    let ou: OrganizationUpdate = body(&b)?;
    let domain = ou.domain.as_deref().map(normalize_domain);
    if o.global {
        if ou.name.as_ref().is_some_and(|n| *n != o.name) {
            return Err(invalid(
                "name",
                format!("organization {id} is global and cannot be renamed"),
            ));
        }
        if domain.is_some() && domain != o.domain {
            return Err(invalid(
                "domain",
                format!("organization {id} is global and its domain cannot change"),
            ));
        }
    }
    if ou.name.as_deref().is_some_and(|n| n.trim().is_empty()) {
        return Err(invalid("name", "`name` cannot be empty"));
    }
    if let Some(p) = &ou.person_ids {
        check_ids(&st, entity_type::PERSON, p, "person_ids")?;
    }
    let org = st.organizations.get_mut(&id).expect("checked above");
    if let Some(n) = ou.name {
        org.name = n;
    }
    if let Some(d) = domain {
        // The new primary domain replaces the old primary one; other domains stay.
        if let Some(old) = org.domain.take() {
            org.domains.retain(|x| *x != old);
        }
        org.domains.retain(|x| *x != d);
        org.domains.insert(0, d.clone());
        org.domain = Some(d);
    }
    if let Some(p) = ou.person_ids {
        set_org_persons(&mut st, id, &p);
    }
    let v = organization_short(&st.organizations[&id]);
    st.announce("organization.updated", v.clone());
    ok(v)
}

/// `DELETE /organizations/{id}`: a global organization cannot be deleted: 422 [I] (§8.3).
pub async fn delete_organization(State(s): State<AppState>, P(id): P<i64>) -> Answer {
    let mut st = s.tenant();
    let o = super::common::organization(&st, id)?;
    if o.global {
        return Err(invalid(
            "organization_id",
            format!("organization {id} is global and cannot be deleted"),
        ));
    }
    let announced = organization_short(o);
    set_org_persons(&mut st, id, &[]);
    for o in st.opportunities.values_mut() {
        o.organization_ids.retain(|x| *x != id);
    }
    delete_entity_data(&mut st, entity_type::ORGANIZATION, id);
    st.organizations.remove(&id);
    st.announce("organization.deleted", announced);
    success()
}

// ---------------------------------------------------------------- opportunities

fn opportunity_full(st: &Tenant, o: &Opportunity) -> Json_ {
    json!({
        "id": o.id,
        "name": o.name,
        "person_ids": o.person_ids,
        "organization_ids": o.organization_ids,
        "list_entries": entries_of(st, entity_type::OPPORTUNITY, o.id),
    })
}

/// `GET /opportunities?term=`: `term` is a case-insensitive substring of the name.
pub async fn opportunities(State(s): State<AppState>, RawQuery(raw): RawQuery) -> Answer {
    let q = Q::parse(raw);
    let p = Paging::from(&q, 500)?;
    let term = q.str("term").map(str::to_lowercase);
    let st = s.tenant();
    let hits: Vec<Json_> = st
        .opportunities
        .values()
        .filter(|o| term.as_ref().is_none_or(|t| contains_ci(&o.name, t)))
        .map(|o| opportunity_full(&st, o))
        .collect();
    let (page, next) = p.page(hits);
    ok(json!({ "opportunities": page, "next_page_token": next }))
}

pub async fn opportunity(State(s): State<AppState>, P(id): P<i64>) -> Answer {
    let st = s.tenant();
    let o = super::common::opportunity(&st, id)?;
    ok(opportunity_full(&st, o))
}

#[derive(Deserialize)]
struct NewOpportunity {
    name: String,
    list_id: i64,
    #[serde(default)]
    person_ids: Vec<i64>,
    #[serde(default)]
    organization_ids: Vec<i64>,
}

/// `POST /opportunities {name, list_id, person_ids?, organization_ids?}`: also creates its
/// (single) list entry.
pub async fn create_opportunity(State(s): State<AppState>, b: Bytes) -> Answer {
    let no: NewOpportunity = body(&b)?;
    let mut st = s.tenant();
    match st.lists.get(&no.list_id) {
        Some(l) if l.kind == entity_type::OPPORTUNITY => {}
        _ => {
            return Err(invalid(
                "list_id",
                format!("{} is not an opportunity list", no.list_id),
            ))
        }
    }
    if no.name.trim().is_empty() {
        return Err(invalid("name", "`name` is required"));
    }
    check_ids(&st, entity_type::PERSON, &no.person_ids, "person_ids")?;
    check_ids(
        &st,
        entity_type::ORGANIZATION,
        &no.organization_ids,
        "organization_ids",
    )?;
    let id = st.next_id();
    let o = Opportunity {
        id,
        name: no.name,
        list_id: no.list_id,
        person_ids: dedup(&no.person_ids),
        organization_ids: dedup(&no.organization_ids),
    };
    st.opportunities.insert(id, o.clone());
    let eid = st.next_id();
    let creator = st.caller_id();
    st.list_entries.insert(
        eid,
        ListEntry {
            id: eid,
            list_id: no.list_id,
            entity_id: id,
            creator_id: Some(creator),
            created_at: Utc::now(),
        },
    );
    let v = opportunity_full(&st, &o);
    st.announce("opportunity.created", v.clone());
    created(v)
}

#[derive(Deserialize)]
struct OpportunityUpdate {
    name: Option<String>,
    person_ids: Option<Vec<i64>>,
    organization_ids: Option<Vec<i64>>,
}

/// `PUT /opportunities/{id}`: the id arrays replace the sets.
pub async fn update_opportunity(State(s): State<AppState>, P(id): P<i64>, b: Bytes) -> Answer {
    let mut st = s.tenant();
    super::common::opportunity(&st, id)?;
    let ou: OpportunityUpdate = body(&b)?;
    if let Some(p) = &ou.person_ids {
        check_ids(&st, entity_type::PERSON, p, "person_ids")?;
    }
    if let Some(o) = &ou.organization_ids {
        check_ids(&st, entity_type::ORGANIZATION, o, "organization_ids")?;
    }
    if ou.name.as_deref().is_some_and(|n| n.trim().is_empty()) {
        return Err(invalid("name", "`name` cannot be empty"));
    }
    let o = st.opportunities.get_mut(&id).expect("checked above");
    if let Some(n) = ou.name {
        o.name = n;
    }
    if let Some(p) = ou.person_ids {
        o.person_ids = dedup(&p);
    }
    if let Some(x) = ou.organization_ids {
        o.organization_ids = dedup(&x);
    }
    let o = o.clone();
    let v = opportunity_full(&st, &o);
    st.announce("opportunity.updated", v.clone());
    ok(v)
}

/// `DELETE /opportunities/{id}`: with its list entry and values.
pub async fn delete_opportunity(State(s): State<AppState>, P(id): P<i64>) -> Answer {
    let mut st = s.tenant();
    let o = super::common::opportunity(&st, id)?.clone();
    let announced = opportunity_full(&st, &o);
    delete_entity_data(&mut st, entity_type::OPPORTUNITY, id);
    st.opportunities.remove(&id);
    st.announce("opportunity.deleted", announced);
    success()
}
