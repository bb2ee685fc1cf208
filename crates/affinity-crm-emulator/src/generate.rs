//! Generated tenants for benchmarks and large tests: one organization list of any size, with
//! 20 fields of every value type (10 list-specific, 10 global), filled the way a deal-flow
//! list is, deterministically from a seed.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use super::state::{
    entity_type, value_type, DropdownOption, Field, List, ListEntry, Organization, Person, Seed,
    SeedFieldValue,
};

/// The generated list's id.
pub const BIG_LIST_ID: i64 = 1001;

const SYLLABLES: &[&str] = &[
    "ar", "bel", "cor", "dan", "el", "fen", "gal", "hex", "io", "jun", "kor", "lum", "mar", "nov",
    "or", "pax", "qu", "ren", "sol", "tek", "um", "ver", "wex", "xan", "yor", "zen",
];
const SUFFIXES: &[&str] = &[
    "", " Inc", " Labs", " AI", " Systems", " GmbH", " Ltd", " Health",
];
const CITIES: &[(&str, &str)] = &[
    ("San Francisco", "United States"),
    ("New York", "United States"),
    ("London", "United Kingdom"),
    ("Berlin", "Germany"),
    ("Paris", "France"),
    ("Tel Aviv", "Israel"),
    ("Singapore", "Singapore"),
];

fn options(names: &[&str]) -> Vec<DropdownOption> {
    names
        .iter()
        .enumerate()
        .map(|(i, t)| DropdownOption {
            id: 9000 + i as i64,
            text: t.to_string(),
            rank: i as i64,
            color: i as i64,
        })
        .collect()
}

fn field(id: i64, name: &str, list: bool, vt: i64, multi: bool) -> Field {
    Field {
        id,
        name: name.into(),
        list_id: list.then_some(BIG_LIST_ID),
        entity_type: entity_type::ORGANIZATION,
        value_type: vt,
        allows_multiple: multi,
        track_changes: true,
        enrichment_source: "none".into(),
        dropdown_options: vec![],
        created_at: chrono::DateTime::from_timestamp(1_700_000_000, 0).expect("a valid time"),
        description: None,
        is_required: false,
    }
}

/// A tenant whose list `Big Deal Flow` (id [`BIG_LIST_ID`]) has `entries` entries on as many
/// organizations, with 20 fields (about 25 values an entry, multi-values included).
// Long by design: the generator writes the 20 fields and their values one after another,
// as a fixture would list them.
pub fn big_list_seed(entries: usize, seed: u64) -> Seed {
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut s = Seed::default();
    s.tenant.name = "Generated Capital".into();
    s.lists.push(List {
        id: BIG_LIST_ID,
        kind: entity_type::ORGANIZATION,
        name: "Big Deal Flow".into(),
        public: true,
        owner_id: s.user.id,
        creator_id: s.user.id,
        created_at: chrono::DateTime::from_timestamp(1_700_000_000, 0).expect("a valid time"),
    });
    let partners: Vec<i64> = (0..20).map(|i| 3_000_000 + i).collect();
    for (i, id) in partners.iter().enumerate() {
        s.persons.push(Person {
            id: *id,
            kind: 1,
            first_name: format!("Partner{i}"),
            last_name: Some("Generated".into()),
            emails: vec![format!("partner{i}@generated.vc")],
            organization_ids: vec![],
        });
    }
    let stages = ["Pre-seed", "Seed", "Series A", "Series B", "Growth"];
    let sectors = ["Fintech", "Health", "Climate", "AI", "Security", "Retail"];
    let mut status = field(5001, "Status", true, value_type::RANKED_DROPDOWN, false);
    status.dropdown_options = options(&["New", "Contacted", "Diligence", "Term Sheet", "Closed"]);
    let mut stage = field(5003, "Stage", true, value_type::DROPDOWN, false);
    stage.dropdown_options = options(&stages);
    let mut tags = field(5007, "Tags", true, value_type::DROPDOWN, true);
    tags.dropdown_options = options(&["Hot", "Warm", "Intro", "Inbound", "Follow-up"]);
    let mut industry = field(5016, "Industry", false, value_type::DROPDOWN, false);
    industry.dropdown_options = options(&sectors);
    let mut sector_f = field(5020, "Sectors", false, value_type::DROPDOWN, true);
    sector_f.dropdown_options = options(&sectors);
    s.fields = vec![
        status,
        field(5002, "Deal Owner", true, value_type::PERSON, false),
        stage,
        field(5004, "Deal Size", true, value_type::NUMBER, false),
        field(5005, "Close Date", true, value_type::DATE, false),
        field(5006, "Deal Notes", true, value_type::TEXT, false),
        tags,
        field(5008, "Co-investors", true, value_type::ORGANIZATION, true),
        field(5009, "Priority", true, value_type::NUMBER, false),
        field(5010, "Source", true, value_type::TEXT, false),
        field(5011, "Website", false, value_type::TEXT, false),
        field(5012, "LinkedIn URL", false, value_type::TEXT, false),
        field(5013, "Headcount", false, value_type::NUMBER, false),
        field(5014, "Founded", false, value_type::DATE, false),
        field(5015, "Headquarters", false, value_type::LOCATION, false),
        industry,
        field(5017, "Investors", false, value_type::ORGANIZATION, true),
        field(5018, "Description", false, value_type::TEXT, false),
        field(5019, "Last Round Size", false, value_type::NUMBER, false),
        sector_f,
    ];
    let org = |i: usize| 2_000_000 + i as i64;
    for i in 0..entries {
        let name: String = (0..rng.random_range(2..4))
            .map(|_| SYLLABLES[rng.random_range(0..SYLLABLES.len())])
            .collect();
        let mut name = format!("{}{}", &name[..1].to_uppercase(), &name[1..]);
        name.push_str(&format!(" {i}"));
        let domain = format!("{}.example", name.to_lowercase().replace(' ', "-"));
        name.push_str(SUFFIXES[rng.random_range(0..SUFFIXES.len())]);
        s.organizations.push(Organization {
            id: org(i),
            name,
            domain: Some(domain.clone()),
            domains: vec![domain],
            global: false,
            in_tenant: true,
            person_ids: vec![],
        });
        s.list_entries.push(ListEntry {
            id: 1_000_000 + i as i64,
            list_id: BIG_LIST_ID,
            entity_id: org(i),
            creator_id: Some(s.user.id),
            created_at: chrono::DateTime::from_timestamp(1_700_000_000 + i as i64 * 60, 0)
                .unwrap_or_default(),
        });
    }
    let mut push = |field_id: i64, entity: i64, entry: Option<i64>, value: serde_json::Value| {
        s.field_values.push(SeedFieldValue {
            id: None,
            field_id,
            entity_id: entity,
            list_entry_id: entry,
            value,
        });
    };
    for i in 0..entries {
        let (e, entry) = (org(i), Some(1_000_000 + i as i64));
        let other = |rng: &mut SmallRng| org(rng.random_range(0..entries));
        let day = |rng: &mut SmallRng, from: i32| {
            format!(
                "{}-{:02}-{:02}",
                rng.random_range(from..2027),
                rng.random_range(1..13),
                rng.random_range(1..29)
            )
        };
        push(5001, e, entry, json!(9000 + rng.random_range(0..5)));
        push(
            5002,
            e,
            entry,
            json!(partners[rng.random_range(0..partners.len())]),
        );
        push(
            5003,
            e,
            entry,
            json!(stages[rng.random_range(0..stages.len())]),
        );
        push(5004, e, entry, json!(rng.random_range(1..200) * 250_000));
        if rng.random_bool(0.7) {
            push(5005, e, entry, json!(day(&mut rng, 2024)));
        }
        push(
            5006,
            e,
            entry,
            json!(format!("Met at demo day; follow up on round {i}")),
        );
        for t in 0..rng.random_range(0..3) {
            push(5007, e, entry, json!(["Hot", "Warm", "Intro"][t]));
        }
        for _ in 0..rng.random_range(0..3) {
            let o = other(&mut rng);
            if o != e {
                push(5008, e, entry, json!(o));
            }
        }
        push(5009, e, entry, json!(rng.random_range(1..6)));
        push(
            5010,
            e,
            entry,
            json!(["Inbound", "Referral", "Event", "Outbound"][i % 4]),
        );
        push(5011, e, None, json!(format!("https://www.org{i}.example")));
        if rng.random_bool(0.8) {
            push(
                5012,
                e,
                None,
                json!(format!("https://www.linkedin.com/company/org{i}")),
            );
        }
        push(5013, e, None, json!(rng.random_range(2..5000)));
        push(5014, e, None, json!(day(&mut rng, 1995)));
        let (city, country) = CITIES[rng.random_range(0..CITIES.len())];
        push(5015, e, None, json!({"city": city, "country": country}));
        push(
            5016,
            e,
            None,
            json!(sectors[rng.random_range(0..sectors.len())]),
        );
        for _ in 0..rng.random_range(1..3) {
            let o = other(&mut rng);
            if o != e {
                push(5017, e, None, json!(o));
            }
        }
        push(
            5018,
            e,
            None,
            json!(format!("Builds software for {} teams", sectors[i % 6])),
        );
        push(5019, e, None, json!(rng.random_range(1..100) * 1_000_000));
        for t in 0..rng.random_range(1..3) {
            push(5020, e, None, json!(sectors[(i + t) % 6]));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::State;

    #[test]
    fn the_generated_tenant_is_valid_and_the_same_each_time() {
        let a = big_list_seed(300, 7);
        let b = big_list_seed(300, 7);
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            serde_json::to_string(&b).unwrap()
        );
        assert_eq!(a.fields.len(), 20);
        let st = State::from_seed(a).expect("a valid seed");
        assert_eq!(st.list_entries.len(), 300);
        assert!(
            st.field_values.len() > 300 * 20,
            "{}",
            st.field_values.len()
        );
    }
}
