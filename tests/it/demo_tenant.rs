//! The demo tenant shipped with the binary (`crates/affinity-crm-emulator/fixtures/demo-tenant.json`, written by
//! `crates/affinity-crm-emulator/fixtures/gen_demo_tenant.py`): it loads, it has the shape the product's demos and the
//! matcher's hard cases need, and the committed file is what the generator writes.

use std::collections::BTreeMap;

use crate::common::*;
use affinity_crm_emulator::state::{entity_type, value_type, List, Value};
use affinity_crm_emulator::{demo_seed, EmulatorConfig, State};

fn demo() -> State {
    State::from_seed(demo_seed()).expect("the demo seed is valid")
}

fn list<'a>(st: &'a State, name: &str) -> &'a List {
    st.lists
        .values()
        .find(|l| l.name == name)
        .unwrap_or_else(|| panic!("no list `{name}`"))
}

#[test]
fn demo_tenant_has_about_200_orgs_and_300_people() {
    let st = demo();
    assert_eq!(st.tenant.name, "Northwind Ventures");
    let in_tenant = st.organizations.values().filter(|o| o.in_tenant).count();
    assert!(
        (180..=230).contains(&in_tenant),
        "{in_tenant} organizations"
    );
    assert!(
        (270..=330).contains(&st.persons.len()),
        "{} persons",
        st.persons.len()
    );
    // The key's owner is one of the firm's internal people, on the firm's domain.
    let user = &st.persons[&st.user.id];
    assert_eq!(user.kind, 1);
    assert_eq!(user.primary_email(), Some(st.user.email.as_str()));
    let domain = st.user.email.split('@').nth(1).unwrap();
    let internal: Vec<_> = st.persons.values().filter(|p| p.kind == 1).collect();
    assert!(internal.len() >= 4, "{} internal people", internal.len());
    for p in internal {
        assert!(
            p.emails.iter().any(|e| e.ends_with(&format!("@{domain}"))),
            "internal person {} has no address on `{domain}`",
            p.id
        );
    }
}

#[test]
fn demo_lists_have_their_types_and_sizes() {
    let st = demo();
    let cases = [
        ("Deal Flow", entity_type::ORGANIZATION, 100..=140),
        ("Portfolio", entity_type::ORGANIZATION, 25..=35),
        ("LPs", entity_type::PERSON, 35..=45),
    ];
    for (name, kind, size) in cases {
        let l = list(&st, name);
        assert_eq!(l.kind, kind, "type of `{name}`");
        let n = st
            .list_entries
            .values()
            .filter(|e| e.list_id == l.id)
            .count();
        assert!(size.contains(&n), "`{name}` has {n} entries");
    }
}

#[test]
fn deal_flow_fields_are_exactly_these() {
    let st = demo();
    let df = list(&st, "Deal Flow");
    let got: BTreeMap<&str, (i64, bool)> = st
        .fields
        .values()
        .filter(|f| f.list_id == Some(df.id))
        .map(|f| (f.name.as_str(), (f.value_type, f.allows_multiple)))
        .collect();
    let want: BTreeMap<&str, (i64, bool)> = [
        ("Status", (value_type::RANKED_DROPDOWN, false)),
        ("Owner", (value_type::PERSON, false)),
        ("Last Funding Date", (value_type::DATE, false)),
        ("Website", (value_type::TEXT, false)),
        ("LinkedIn URL", (value_type::TEXT, false)),
        ("Headcount", (value_type::NUMBER, false)),
        ("Sectors", (value_type::DROPDOWN, true)),
        ("Round", (value_type::DROPDOWN, false)),
    ]
    .into_iter()
    .collect();
    assert_eq!(got, want);
    // The ranked dropdown's options carry distinct ranks, as a pipeline's stages do.
    let status = st
        .fields
        .values()
        .find(|f| f.list_id == Some(df.id) && f.name == "Status")
        .unwrap();
    let mut ranks: Vec<i64> = status.dropdown_options.iter().map(|o| o.rank).collect();
    ranks.sort_unstable();
    ranks.dedup();
    assert_eq!(ranks.len(), status.dropdown_options.len());
    for stage in [
        "New",
        "Screening",
        "Diligence",
        "IC",
        "Term Sheet",
        "Passed",
    ] {
        assert!(status.option_by_text(stage).is_some(), "no `{stage}` stage");
    }
}

#[test]
fn deal_flow_entries_are_mostly_filled_and_one_org_is_there_twice() {
    let st = demo();
    let df = list(&st, "Deal Flow");
    let field = |name: &str| {
        st.fields
            .values()
            .find(|f| f.list_id == Some(df.id) && f.name == name)
            .unwrap()
            .id
    };
    let (status, owner) = (field("Status"), field("Owner"));
    let entries: Vec<_> = st
        .list_entries
        .values()
        .filter(|e| e.list_id == df.id)
        .collect();
    let with_status = entries
        .iter()
        .filter(|e| !st.values_of(status, e.entity_id, Some(e.id)).is_empty())
        .count();
    assert!(
        with_status * 10 >= entries.len() * 8,
        "{with_status} of {} entries have a status",
        entries.len()
    );
    // Some are left empty on purpose.
    assert!(with_status < entries.len());
    // Owners are the firm's own people.
    let owners: Vec<_> = st
        .field_values
        .values()
        .filter(|v| v.field_id == owner)
        .collect();
    assert!(!owners.is_empty());
    for v in owners {
        let Value::Person(id) = v.value else {
            panic!("owner value {} is not a person", v.id)
        };
        assert_eq!(st.persons[&id].kind, 1, "owner {id} is not internal");
    }
    // Affinity lets an organization sit on a list twice (affinity-api.md §8.5).
    let mut seen = BTreeMap::new();
    for e in &entries {
        *seen.entry(e.entity_id).or_insert(0) += 1;
    }
    assert!(seen.values().any(|&n| n > 1), "no duplicate entry");
}

#[test]
fn demo_tenant_holds_the_matchers_hard_cases() {
    let st = demo();
    let orgs: Vec<_> = st.organizations.values().collect();
    let tenant: Vec<_> = orgs.iter().filter(|o| o.in_tenant).collect();
    let has_name = |pred: &dyn Fn(&str) -> bool| tenant.iter().any(|o| pred(&o.name));
    let has_domain = |suffix: &str| {
        tenant
            .iter()
            .any(|o| o.domains.iter().any(|d| d.ends_with(suffix)))
    };
    for suffix in [" Inc.", " LLC", " Ltd", " GmbH", " SAS", " BV"] {
        assert!(
            has_name(&|n| n.ends_with(suffix)),
            "no name ends with `{suffix}`"
        );
    }
    assert!(has_name(&|n| n.contains(" & ")), "no `&` in a name");
    assert!(has_name(&|n| n.contains(" and ")), "no `and` in a name");
    assert!(has_name(&|n| n.starts_with("The ")), "no leading `The`");
    assert!(has_name(&|n| !n.is_ascii()), "no accented name");
    for suffix in [".co.uk", ".com.au", ".de"] {
        assert!(has_domain(suffix), "no `{suffix}` domain");
    }
    assert!(tenant.iter().any(|o| o.domains.len() >= 2));
    assert!(tenant.iter().any(|o| o.domain.is_none()));
    assert!(tenant.iter().any(|o| o.global));
    // The leading word of each global organization outside the tenant is in a tenant name,
    // so a `term` search for that name finds both (affinity-api.md §8.2).
    let outside: Vec<_> = orgs.iter().filter(|o| !o.in_tenant).collect();
    assert!(
        outside.len() >= 5,
        "{} outside organizations",
        outside.len()
    );
    for o in &outside {
        assert!(o.global, "{} is outside the tenant but not global", o.id);
        let word = o.name.split_whitespace().next().unwrap().to_lowercase();
        assert!(
            has_name(&|n| n.to_lowercase().contains(&word)),
            "`{}` overlaps no tenant name",
            o.name
        );
    }
    // People: several addresses, personal ones only, none at all, accents in names.
    let people: Vec<_> = st.persons.values().collect();
    assert!(people.iter().filter(|p| p.emails.len() >= 2).count() >= 10);
    assert!(people.iter().any(|p| p.emails.len() >= 3));
    assert!(people.iter().any(|p| p.emails.is_empty()));
    assert!(people
        .iter()
        .any(|p| p.organization_ids.is_empty() && !p.emails.is_empty()));
    assert!(people.iter().any(|p| !p.first_name.is_ascii()));
    assert!(people.iter().any(|p| p
        .emails
        .iter()
        .any(|e| e.chars().any(|c| c.is_ascii_uppercase()))));
}

#[test]
fn demo_tenant_has_notes_interactions_and_merges() {
    let st = demo();
    let notes: Vec<_> = st.notes.values().collect();
    assert!(notes.len() >= 50, "{} notes", notes.len());
    assert!(notes.iter().any(|n| n.kind == 2), "no HTML note");
    assert!(notes.iter().any(|n| n.kind == 0), "no plain note");
    assert!(notes.iter().any(|n| n.content.contains('_')));
    assert!(notes.iter().any(|n| !n.organization_ids.is_empty()));
    assert!(notes
        .iter()
        .any(|n| n.organization_ids.is_empty() && !n.person_ids.is_empty()));
    for n in &notes {
        assert!(st.persons.contains_key(&n.creator_id));
        for id in &n.organization_ids {
            assert!(
                st.organizations.contains_key(id),
                "note {} names {id}",
                n.id
            );
        }
        for id in &n.person_ids {
            assert!(st.persons.contains_key(id), "note {} names {id}", n.id);
        }
        if let Some(parent) = n.parent_id {
            assert!(st.notes.contains_key(&parent));
        }
    }
    assert!(!st.interactions.is_empty());
    assert!(st.merged.len() >= 2);
    for (&(kind, old), &new) in &st.merged {
        assert!(!st.entity_exists(kind, old), "merged id {old} still exists");
        assert!(st.entity_exists(kind, new), "merged into missing {new}");
    }
    // Every kind of record has its own id range: no id is used by two kinds.
    let mut all: Vec<i64> = st
        .persons
        .keys()
        .chain(st.organizations.keys())
        .chain(st.opportunities.keys())
        .chain(st.lists.keys())
        .chain(st.fields.keys())
        .chain(st.list_entries.keys())
        .chain(st.field_values.keys())
        .chain(st.notes.keys())
        .chain(st.interactions.keys())
        .copied()
        .collect();
    let n = all.len();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), n, "an id is shared by two kinds of record");
}

#[tokio::test]
async fn emulator_serves_the_demo_tenant() {
    let t = TestEmu::with(EmulatorConfig::default(), demo_seed()).await;
    let v2 = t.get("/v2/auth/whoami", 200).await;
    assert_eq!(v2["tenant"]["name"], "Northwind Ventures");
    assert_eq!(v2["user"]["emailAddress"], "maya@northwind.vc");
    let v1 = t.get("/auth/whoami", 200).await;
    assert_eq!(v1["tenant"]["subdomain"], "northwindventures");
}

/// The committed JSON is what `crates/affinity-crm-emulator/fixtures/gen_demo_tenant.py` writes, so nobody edits one
/// without the other.
#[test]
#[cfg_attr(not(has_python3), ignore = "needs `python3` on PATH")]
fn demo_tenant_json_is_what_the_generator_writes() {
    let out = std::process::Command::new("python3")
        .arg("crates/affinity-crm-emulator/fixtures/gen_demo_tenant.py")
        .arg("--check")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run `python3`: {e}"));
    assert!(
        out.status.success(),
        "generator check failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}
