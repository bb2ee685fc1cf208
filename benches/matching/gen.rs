//! Generated organizations for the matching benchmarks: names made of syllables, industries,
//! surnames and places, with typos, changed legal forms, case and `&`/`and` on the source side,
//! and websites written every which way; deterministic for a seed.

use std::collections::BTreeMap;

use affsync_core::matcher::{Candidate, Kind, SourceRecord};

const ONSETS: &[&str] = &[
    "b", "br", "c", "ch", "cl", "cr", "d", "dr", "f", "fl", "fr", "g", "gl", "gr", "h", "j", "k",
    "kl", "kr", "l", "m", "n", "p", "pl", "pr", "qu", "r", "s", "sh", "sk", "sl", "sp", "st",
    "str", "t", "th", "tr", "v", "w", "z", "zh", "",
];
const VOWELS: &[&str] = &[
    "a", "e", "i", "o", "u", "ai", "ea", "ee", "io", "oa", "ou", "y", "ae", "ia",
];
const CODAS: &[&str] = &[
    "", "", "", "n", "r", "l", "s", "x", "t", "m", "nd", "nt", "rk", "ck", "ng", "sh", "th", "v",
    "z", "ll",
];
const INDUSTRY: &[&str] = &[
    "Analytics",
    "Robotics",
    "Capital",
    "Health",
    "Labs",
    "Systems",
    "Foods",
    "Logistics",
    "Energy",
    "Bio",
    "Partners",
    "Ventures",
    "Media",
    "Software",
    "Networks",
    "Consulting",
    "Holdings",
    "Group",
    "Solutions",
    "Technologies",
    "Therapeutics",
    "Pharma",
    "Motors",
    "Studio",
    "Design",
    "Security",
    "Data",
    "Cloud",
    "Finance",
    "Insurance",
    "Realty",
    "Construction",
    "Engineering",
    "Materials",
    "Devices",
    "Diagnostics",
    "Genomics",
    "Games",
    "Apparel",
    "Brands",
    "Travel",
    "Mobility",
    "Aerospace",
    "Marine",
    "Farms",
    "Kitchen",
    "Coffee",
    "Brewing",
    "Wines",
    "Logic",
    "Works",
    "Industries",
    "Dynamics",
    "Digital",
    "Interactive",
    "Education",
    "Learning",
    "Legal",
    "Advisors",
    "Research",
    "Medical",
    "Care",
    "Dental",
    "Vision",
    "Audio",
    "Optics",
    "Solar",
    "Power",
    "Water",
    "Air",
    "Freight",
    "Shipping",
    "Retail",
    "Market",
    "Supply",
    "Tools",
    "Textiles",
    "Paper",
    "Print",
    "Labs",
];
const SURNAMES: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Martinez",
    "Lopez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Thompson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Hill",
    "Green",
    "Adams",
    "Baker",
    "Nelson",
    "Carter",
    "Mitchell",
    "Roberts",
    "Turner",
    "Phillips",
    "Campbell",
    "Parker",
    "Evans",
    "Edwards",
    "Collins",
    "Stewart",
    "Morris",
    "Murphy",
    "Cook",
    "Rogers",
    "Morgan",
    "Cooper",
    "Peterson",
    "Reed",
    "Bailey",
    "Bell",
    "Kelly",
    "Howard",
    "Ward",
    "Cox",
    "Richardson",
    "Wood",
    "Watson",
    "Brooks",
    "Bennett",
    "Gray",
    "James",
    "Hughes",
    "Price",
    "Sanders",
    "Myers",
    "Long",
    "Ross",
    "Foster",
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Dubois",
    "Lefèvre",
    "Moreau",
    "Laurent",
    "Girard",
    "Rossi",
    "Russo",
    "Ferrari",
    "Esposito",
    "Bianchi",
    "Jansen",
    "de Vries",
    "van Dijk",
    "Bakker",
    "Visser",
    "Nowak",
    "Kowalski",
    "Novák",
    "Svensson",
    "Johansson",
    "Nielsen",
    "Hansen",
    "Sato",
    "Suzuki",
    "Takahashi",
    "Kim",
    "Park",
    "Chen",
    "Wang",
    "Li",
    "Zhang",
    "Singh",
    "Patel",
    "Kumar",
];
const PLACES: &[&str] = &[
    "Atlantic",
    "Pacific",
    "Northern",
    "Southern",
    "Western",
    "Eastern",
    "Alpine",
    "Baltic",
    "Nordic",
    "Iberian",
    "Boston",
    "Berlin",
    "London",
    "Paris",
    "Austin",
    "Denver",
    "Hudson",
    "Sierra",
    "Bay",
    "Harbor",
    "Summit",
    "Valley",
    "River",
    "Lake",
    "Cedar",
    "Oak",
    "Maple",
    "Granite",
    "Silver",
    "Golden",
    "Blue",
    "Red",
    "Green",
    "Evergreen",
    "Pioneer",
    "Liberty",
];
const LEGAL: &[&str] = &[
    "Inc",
    "Inc.",
    "LLC",
    "Ltd",
    "Ltd.",
    "Limited",
    "GmbH",
    "SA",
    "S.A.",
    "BV",
    "B.V.",
    "PLC",
    "AG",
    "Corp",
    "Corporation",
    "Co.",
    "SAS",
    "Pty Ltd",
    "Oy",
    "AB",
];
const TLDS: &[&str] = &[
    "com", "com", "com", "com", "com", "io", "co", "ai", "de", "co.uk", "net", "fr", "nl", "ch",
    "se", "app", "tech",
];

struct Gen {
    rng: rand::rngs::SmallRng,
}

impl Gen {
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        use rand::Rng;
        xs[self.rng.random_range(0..xs.len())]
    }

    fn chance(&mut self, p: f64) -> bool {
        use rand::Rng;
        self.rng.random_bool(p)
    }

    fn brand(&mut self) -> String {
        let n = if self.chance(0.7) { 2 } else { 3 };
        let mut w = String::new();
        for _ in 0..n {
            w.push_str(self.pick(ONSETS));
            w.push_str(self.pick(VOWELS));
            w.push_str(self.pick(CODAS));
        }
        if w.len() < 4 {
            w.push_str(self.pick(&["ex", "on", "ia", "ix", "ara"]));
        }
        let mut c = w.chars();
        let first = c.next().unwrap().to_ascii_uppercase();
        std::iter::once(first).chain(c).collect()
    }

    /// A company: its name without a legal form, the legal form, and a domain stem.
    fn company(&mut self) -> (String, Option<&'static str>, String) {
        use rand::Rng;
        let roll: f64 = self.rng.random();
        let (name, stem) = if roll < 0.22 {
            let b = self.brand();
            (b.clone(), b)
        } else if roll < 0.55 {
            let b = self.brand();
            let i = self.pick(INDUSTRY);
            (
                format!("{b} {i}"),
                format!("{b}{}", if self.chance(0.4) { i } else { "" }),
            )
        } else if roll < 0.65 {
            let a = self.pick(SURNAMES);
            let b = self.pick(SURNAMES);
            let c = self.brand();
            (format!("{a} & {b} {c}"), format!("{a}{b}{c}"))
        } else if roll < 0.80 {
            let a = self.pick(SURNAMES);
            let b = self.brand();
            let i = self.pick(INDUSTRY);
            (format!("{a} {b} {i}"), format!("{a}{b}"))
        } else if roll < 0.90 {
            let p = self.pick(PLACES);
            let b = self.brand();
            let i = self.pick(INDUSTRY);
            (format!("{p} {b} {i}"), format!("{p}{b}"))
        } else {
            let b = self.brand();
            let i = self.pick(INDUSTRY).to_lowercase();
            (format!("{b}{i}"), format!("{b}{i}"))
        };
        let legal = self.chance(0.6).then(|| self.pick(LEGAL));
        let stem: String = affsync_core::matcher::normalize::fold(&stem).replace(' ', "");
        (name, legal, stem)
    }

    /// One typing error: a letter changed, dropped, doubled or swapped with the next.
    fn typo(&mut self, s: &str) -> String {
        use rand::Rng;
        let mut cs: Vec<char> = s.chars().collect();
        if cs.len() < 4 {
            return s.to_string();
        }
        let i = self.rng.random_range(1..cs.len() - 1);
        match self.rng.random_range(0..4) {
            0 => cs[i] = (b'a' + self.rng.random_range(0..26u8)) as char,
            1 => {
                cs.remove(i);
            }
            2 => cs.insert(i, cs[i]),
            _ => cs.swap(i, i + 1),
        }
        cs.into_iter().collect()
    }

    /// A website as people write it.
    fn website(&mut self, domain: &str) -> String {
        use rand::Rng;
        match self.rng.random_range(0..6) {
            0 => domain.to_string(),
            1 => format!("www.{domain}"),
            2 => format!("https://www.{domain}/"),
            3 => format!("http://{domain}/about"),
            4 => format!("https://{domain}"),
            _ => format!("HTTPS://WWW.{}/contact?ref=crm", domain.to_uppercase()),
        }
    }
}

pub struct Generated {
    pub cands: Vec<Candidate>,
    pub sources: Vec<SourceRecord>,
    /// Source index → candidate id, for sources that are a candidate.
    pub truth: Vec<Option<String>>,
}

/// `n` organizations on Affinity's side and `n` source records: 80% of them are a candidate
/// written differently (typos, changed legal forms, case, `&`/`and`, websites written every
/// which way), 20% are companies Affinity does not have. 30% of the records on each side have
/// no domain.
pub fn generate(n: usize, seed: u64) -> Generated {
    use rand::{Rng, SeedableRng};
    let mut g = Gen {
        rng: rand::rngs::SmallRng::seed_from_u64(seed),
    };
    let mut used_domains: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut make = |g: &mut Gen| -> (String, Option<&'static str>, String) {
        let (name, legal, stem) = g.company();
        let mut domain = format!("{stem}.{}", g.pick(TLDS));
        let mut k = 2;
        while used_domains.contains(&domain) {
            domain = format!("{stem}{k}.{}", g.pick(TLDS));
            k += 1;
        }
        used_domains.insert(domain.clone());
        (name, legal, domain)
    };
    let mut companies = Vec::with_capacity(n);
    let mut cands = Vec::with_capacity(n);
    for i in 0..n {
        let (name, legal, domain) = make(&mut g);
        let full = match legal {
            Some(l) => format!("{name} {l}"),
            None => name.clone(),
        };
        let mut c = Candidate::new(Kind::Organization, format!("{}", 100_000_000 + i), full);
        if !g.chance(0.3) {
            c.domains = vec![domain.clone()];
        }
        cands.push(c);
        companies.push((name, legal, domain));
    }
    let mut sources = Vec::with_capacity(n);
    let mut truth = Vec::with_capacity(n);
    // Each candidate is the truth of at most one source record (one to one).
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = g.rng.random_range(0..=i);
        order.swap(i, j);
    }
    for (row, &pick) in order.iter().enumerate() {
        let known = g.chance(0.8);
        let (name, legal, domain, tid) = if known {
            let (name, legal, domain) = companies[pick].clone();
            (name, legal, domain, Some(cands[pick].id.clone()))
        } else {
            let (name, legal, domain) = make(&mut g);
            (name, legal, domain, None)
        };
        let mut name = name;
        if known {
            if g.chance(0.35) {
                name = g.typo(&name);
            }
            if g.chance(0.08) {
                name = g.typo(&name);
            }
            if g.chance(0.15) {
                name = name.to_uppercase();
            }
            if g.chance(0.5) {
                name = name.replace(" & ", " and ");
            }
        }
        let legal = if known && g.chance(0.3) {
            if g.chance(0.5) {
                None
            } else {
                Some(g.pick(LEGAL))
            }
        } else {
            legal
        };
        let full = match legal {
            Some(l) if g.chance(0.3) => format!("{name}, {l}"),
            Some(l) => format!("{name} {l}"),
            None => name,
        };
        let mut values = BTreeMap::new();
        values.insert("name".to_string(), full);
        if !g.chance(0.3) {
            values.insert("website".to_string(), g.website(&domain));
        }
        sources.push(SourceRecord {
            row: row + 1,
            id: Some(format!("s{row}")),
            values,
            problem: None,
        });
        truth.push(tid);
    }
    Generated {
        cands,
        sources,
        truth,
    }
}
