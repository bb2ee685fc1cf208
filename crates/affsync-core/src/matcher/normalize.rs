//! Normalizers: the many ways people write a website, a LinkedIn URL, an email or a name, brought
//! to the one form the matcher compares. Pure functions, no I/O.
//!
//! - [`fold`]: lower-case ASCII, accents folded (`Müller` → `muller`), punctuation to spaces.
//! - [`domain_key`]: a website or domain to its registrable domain by the Public Suffix List, with
//!   hosting and shared domains kept apart (see [`SHARED_HOSTS`]).
//! - [`linkedin_key`]: a LinkedIn URL to `/in/slug` or `/company/slug`.
//! - [`email_key`]: trimmed, lower-cased, Gmail dots and `+tags` removed.
//! - [`org_name`]: an organization's name, raw and without legal suffixes.
//! - [`person_name`]: a person's full name to first and last name.

use std::borrow::Cow;

/// The longest compared text, in bytes: a longer cell is cut (at a character boundary) before it
/// is normalized, so that a 1 MB cell costs what a short one does. Names and field values longer
/// than this are not names.
pub const MAX_TEXT: usize = 256;

/// `text` cut to at most [`MAX_TEXT`] bytes, at a character boundary.
pub fn capped(text: &str) -> &str {
    if text.len() <= MAX_TEXT {
        return text;
    }
    let mut end = MAX_TEXT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Lower-case ASCII with accents and other scripts transliterated, `&` written `and`,
/// apostrophes and dots dropped (`O'Brien` → `obrien`, `S.A.` → `sa`), every other
/// non-alphanumeric character a single space; no leading or trailing space.
pub fn fold(s: &str) -> String {
    let ascii: Cow<str> = if s.is_ascii() {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(deunicode::deunicode(s))
    };
    let mut out = String::with_capacity(ascii.len());
    let mut pending_space = false;
    for b in ascii.bytes() {
        match b {
            b'a'..=b'z' | b'0'..=b'9' => {
                if pending_space && !out.is_empty() {
                    out.push(' ');
                }
                pending_space = false;
                out.push(b as char);
            }
            b'A'..=b'Z' => {
                if pending_space && !out.is_empty() {
                    out.push(' ');
                }
                pending_space = false;
                out.push(b.to_ascii_lowercase() as char);
            }
            // `Yost .Group` keeps its space, `K.uhn` and `S.A.` lose the dot.
            b'\'' | b'`' | b'.' => {}
            b'&' => {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str("and");
                pending_space = true;
            }
            _ => pending_space = true,
        }
    }
    out
}

/// How a shared host is keyed: by its subdomain when there is one (`acme.github.io`), else by
/// this many leading path segments (`linktr.ee/acme`); 0 means the bare host is no key at all.
///
/// These hosts serve many unrelated people and companies, so their registrable domain must
/// never be a key: `medium.com/@acme` and `medium.com/@zenith` are two companies.
pub const SHARED_HOSTS: &[(&str, usize)] = &[
    ("about.me", 1),
    ("angel.co", 1),
    ("bit.ly", 0),
    ("blogspot.com", 0),
    ("business.site", 0),
    ("calendly.com", 1),
    ("carrd.co", 0),
    ("crunchbase.com", 1),
    ("docs.google.com", 0),
    ("drive.google.com", 0),
    ("facebook.com", 1),
    ("fb.com", 1),
    ("forms.gle", 0),
    ("framer.website", 0),
    ("github.com", 1),
    ("github.io", 0),
    ("gitlab.com", 1),
    ("gitlab.io", 0),
    ("godaddysites.com", 0),
    ("goo.gl", 0),
    ("herokuapp.com", 0),
    ("instagram.com", 1),
    ("jimdosite.com", 0),
    ("linktr.ee", 1),
    ("medium.com", 1),
    ("myshopify.com", 0),
    ("mystrikingly.com", 0),
    ("netlify.app", 0),
    ("notion.site", 0),
    ("notion.so", 1),
    ("pages.dev", 0),
    ("sites.google.com", 1),
    ("squarespace.com", 0),
    ("strikingly.com", 0),
    ("substack.com", 0),
    ("tumblr.com", 0),
    ("twitter.com", 1),
    ("vercel.app", 0),
    ("webflow.io", 0),
    ("webnode.com", 0),
    ("weebly.com", 0),
    ("wellfound.com", 1),
    ("wix.com", 0),
    ("wixsite.com", 0),
    ("wordpress.com", 0),
    ("x.com", 1),
    ("youtube.com", 1),
];

/// A first path segment that only says what kind of page follows (`/view/acme`, `/company/acme`,
/// `/c/acme`): the key takes one segment more.
const PREFIX_SEGMENTS: &[&str] = &[
    "c",
    "channel",
    "company",
    "groups",
    "organization",
    "p",
    "pages",
    "products",
    "site",
    "u",
    "user",
    "view",
];

/// Mail providers whose domain says nothing about the company of a person writing from it.
pub const FREEMAIL: &[&str] = &[
    "aol.com",
    "gmail.com",
    "gmx.de",
    "gmx.net",
    "googlemail.com",
    "hotmail.com",
    "icloud.com",
    "live.com",
    "mail.ru",
    "me.com",
    "msn.com",
    "outlook.com",
    "pm.me",
    "proton.me",
    "protonmail.com",
    "qq.com",
    "web.de",
    "yahoo.com",
    "yandex.ru",
];

/// The parts of a URL-like string that the keys are made of.
struct UrlParts {
    host: String,
    /// Path segments, lower-cased and percent-decoded, empty ones dropped.
    segments: Vec<String>,
}

/// Splits `https://user@www.Acme.com:8080/a/b?q#f` (scheme optional) into a lower-case host
/// without `www.`, port or trailing dot, and the path segments. `None` when there is no
/// plausible host (no dot, spaces, an IP address).
fn url_parts(input: &str) -> Option<UrlParts> {
    let s = input
        .trim()
        .trim_matches(|c| c == '<' || c == '>' || c == '"');
    let s = match s.find("://") {
        Some(i) if s[..i].chars().all(|c| c.is_ascii_alphabetic()) => &s[i + 3..],
        _ => s.strip_prefix("//").unwrap_or(s),
    };
    let end = s.find(['/', '?', '#']).unwrap_or(s.len());
    let (authority, rest) = s.split_at(end);
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let host = match authority.rfind(':') {
        Some(i) if authority[i + 1..].chars().all(|c| c.is_ascii_digit()) => &authority[..i],
        _ => authority,
    };
    let host = host.trim_end_matches('.');
    let mut host = if host.is_ascii() {
        host.to_ascii_lowercase()
    } else {
        // Internationalized names compare in their ASCII (punycode) form.
        url::Url::parse(&format!("http://{host}/"))
            .ok()?
            .host_str()?
            .to_string()
    };
    if host.is_empty()
        || !host.contains('.')
        || host.starts_with('.')
        || host.contains("..")
        || !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
        || host.bytes().all(|b| b.is_ascii_digit() || b == b'.')
    {
        return None;
    }
    while let Some(rest) = host.strip_prefix("www.") {
        host = rest.to_string();
    }
    let path = rest
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .trim_start_matches('/');
    let segments = path
        .split('/')
        .filter(|p| !p.is_empty())
        .map(|p| percent_decode(p).to_lowercase())
        .collect();
    Some(UrlParts { host, segments })
}

/// `%C3%BC` → `ü`; malformed escapes are kept as written.
fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The key of a website, domain or email address: its registrable domain
/// (`https://blog.acme.co.uk/x` → `acme.co.uk`), a LinkedIn page's [`linkedin_key`] under
/// `linkedin.com`, and for a shared host (see [`SHARED_HOSTS`]) the host or its first path
/// segment (`acme.github.io`, `linktr.ee/acme`). `None` when the text holds no usable key,
/// including an address at a mail provider (`jo@gmail.com`).
pub fn domain_key(input: &str) -> Option<String> {
    let t = input.trim();
    if t.is_empty() {
        return None;
    }
    // An email address stands for its domain, unless that is a mail provider's.
    if !t.contains('/') {
        if let Some(at) = t.rfind('@') {
            let domain = t[at + 1..].trim().to_ascii_lowercase();
            if domain.is_empty() || FREEMAIL.contains(&domain.as_str()) {
                return None;
            }
            return domain_key(&domain);
        }
    }
    let parts = url_parts(t)?;
    let host = parts.host.as_str();
    if host == "linkedin.com" || host.ends_with(".linkedin.com") {
        return linkedin_key(t).map(|k| format!("linkedin.com{k}"));
    }
    for &(shared, depth) in SHARED_HOSTS {
        let sub = if host == shared {
            ""
        } else if let Some(sub) = host.strip_suffix(shared).and_then(|s| s.strip_suffix('.')) {
            sub
        } else {
            continue;
        };
        if !sub.is_empty() {
            return Some(host.to_string());
        }
        if depth == 0 {
            return None;
        }
        let mut want = depth;
        if let Some(first) = parts.segments.first() {
            if PREFIX_SEGMENTS.contains(&first.as_str()) {
                want += 1;
            }
        }
        if parts.segments.len() < want {
            return None;
        }
        return Some(format!("{shared}/{}", parts.segments[..want].join("/")));
    }
    let domain = psl::domain_str(host)?;
    Some(domain.to_string())
}

/// A LinkedIn profile or company page in one form: `/in/slug`, `/company/slug` (also
/// `/school/slug`, `/showcase/slug`); any subdomain, scheme, query and trailing path removed,
/// the slug lower-cased and percent-decoded. `None` for any other URL.
pub fn linkedin_key(input: &str) -> Option<String> {
    let parts = url_parts(input)?;
    if parts.host != "linkedin.com" && !parts.host.ends_with(".linkedin.com") {
        return None;
    }
    let mut segs = parts.segments.iter();
    let kind = match segs.next()?.as_str() {
        "in" | "pub" => "in",
        "company" => "company",
        "school" => "school",
        "showcase" => "showcase",
        _ => return None,
    };
    let slug = segs.next()?;
    if slug.is_empty() {
        return None;
    }
    Some(format!("/{kind}/{slug}"))
}

/// Providers that deliver `name+tag@` to `name@`.
const PLUS_TAG_PROVIDERS: &[&str] = &[
    "fastmail.com",
    "gmail.com",
    "hotmail.com",
    "icloud.com",
    "live.com",
    "me.com",
    "outlook.com",
    "pm.me",
    "proton.me",
    "protonmail.com",
];

/// An email address in one form: trimmed, `mailto:` and a display name (`Jo <jo@x.com>`)
/// removed, lower-cased; at Gmail (and `googlemail.com`, which is the same mailbox) the dots of
/// the local part go, and at providers that ignore them, `+tags` go. `None` when the text is not
/// an address.
pub fn email_key(input: &str) -> Option<String> {
    let mut t = input.trim();
    if let (Some(a), Some(b)) = (t.rfind('<'), t.rfind('>')) {
        if a < b {
            t = &t[a + 1..b];
        }
    }
    let t = t.trim();
    let t = t
        .strip_prefix("mailto:")
        .or_else(|| t.strip_prefix("MAILTO:"))
        .unwrap_or(t);
    let lower = t.trim().to_lowercase();
    let (local, domain) = lower.rsplit_once('@')?;
    let domain = domain.trim_end_matches('.');
    if local.is_empty()
        || domain.is_empty()
        || !domain.contains('.')
        || domain.starts_with('.')
        || lower.chars().any(char::is_whitespace)
        || local.contains('@')
    {
        return None;
    }
    let (mut local, domain) = if domain == "googlemail.com" {
        (local.to_string(), "gmail.com")
    } else {
        (local.to_string(), domain)
    };
    if PLUS_TAG_PROVIDERS.contains(&domain) {
        if let Some(i) = local.find('+') {
            local.truncate(i);
        }
    }
    if domain == "gmail.com" {
        local.retain(|c| c != '.');
    }
    if local.is_empty() {
        return None;
    }
    Some(format!("{local}@{domain}"))
}

/// Legal forms, as [`fold`] writes them (dots gone, `S A` merged to `sa`).
pub const LEGAL_FORMS: &[&str] = &[
    "ab",
    "ad",
    "ag",
    "ans",
    "aps",
    "as",
    "asa",
    "bhd",
    "bv",
    "bvba",
    "co",
    "company",
    "corp",
    "corporation",
    "cos",
    "cv",
    "dd",
    "doo",
    "eg",
    "ehf",
    "eirl",
    "eood",
    "eurl",
    "ev",
    "gbr",
    "gk",
    "gmbh",
    "hf",
    "inc",
    "incorporated",
    "kft",
    "kg",
    "kgaa",
    "kk",
    "ks",
    "lda",
    "limited",
    "llc",
    "lllp",
    "llp",
    "lp",
    "ltd",
    "ltda",
    "mbh",
    "nv",
    "nyrt",
    "ohg",
    "ood",
    "oy",
    "oyj",
    "pc",
    "plc",
    "pllc",
    "pte",
    "pty",
    "pvt",
    "sa",
    "sapa",
    "sarl",
    "sas",
    "sasu",
    "sca",
    "scs",
    "sdn",
    "se",
    "sl",
    "slu",
    "snc",
    "sp",
    "spa",
    "spol",
    "sprl",
    "srl",
    "srls",
    "sro",
    "tbk",
    "ug",
    "vof",
    "yk",
    "zrt",
];

/// Words that join legal forms (`GmbH & Co. KG`, `S.A. de C.V.`).
const LEGAL_JOINERS: &[&str] = &["and", "de", "et", "und", "y"];

fn is_legal(t: &str) -> bool {
    LEGAL_FORMS.binary_search(&t).is_ok()
}

/// An organization's name in the two forms the matcher scores.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OrgName {
    /// [`fold`]ed, nothing removed: `Acme, Inc.` → `acme inc`.
    pub raw: String,
    /// Without a leading `the`, the word `and`, and legal forms at either end: `acme`.
    pub norm: String,
}

/// `The Acme Company, Inc.` → raw `the acme company inc`, norm `acme`. Runs of single letters
/// are merged (`S. A.` → `sa`, `I B M` → `ibm`). A name made only of removable words keeps them.
pub fn org_name(s: &str) -> OrgName {
    let raw = fold(s);
    // Runs of single letters become one token: `s a` → `sa`.
    let mut toks: Vec<String> = Vec::new();
    let mut in_run = false;
    for t in raw.split(' ').filter(|t| !t.is_empty()) {
        let single = t.len() == 1 && t.as_bytes()[0].is_ascii_alphabetic();
        match toks.last_mut() {
            Some(last) if single && in_run => last.push_str(t),
            _ => toks.push(t.to_string()),
        }
        in_run = single;
    }
    // `Sp. z o.o.` (Polish) arrives as `sp z oo` or `sp zoo`; `zoo` alone is a word.
    let n = toks.len();
    if n >= 3 && toks[n - 3..] == ["sp", "z", "oo"] {
        toks.truncate(n - 2);
    } else if n >= 2 && toks[n - 2..] == ["sp", "zoo"] {
        toks.pop();
    }
    let kept = toks.clone();
    if toks.first().is_some_and(|t| t == "the") && toks.len() > 1 {
        toks.remove(0);
    }
    // Trailing legal forms, with the words that join them.
    let mut stripped = false;
    while toks.len() > 1 {
        let last = toks[toks.len() - 1].as_str();
        if is_legal(last) || (stripped && LEGAL_JOINERS.contains(&last)) {
            stripped = stripped || is_legal(last);
            toks.pop();
        } else {
            break;
        }
    }
    // Leading ones (`AB Volvo`, a legal form moved to the front).
    while toks.len() > 1 && is_legal(&toks[0]) {
        toks.remove(0);
    }
    toks.retain(|t| t != "and");
    let norm = if toks.is_empty() {
        kept.join(" ")
    } else {
        toks.join(" ")
    };
    OrgName { raw, norm }
}

/// Titles and generational suffixes that are not part of a person's name.
const PERSON_NOISE: &[&str] = &[
    "dr", "esq", "ii", "iii", "iv", "jr", "md", "miss", "mr", "mrs", "ms", "mx", "phd", "prof",
    "sir", "sr",
];

/// A person's name, [`fold`]ed: `first` may hold initials (`j`) or several given names.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PersonName {
    pub first: String,
    pub last: String,
}

impl PersonName {
    /// `first last`, or whichever of the two is there.
    pub fn full(&self) -> String {
        match (self.first.is_empty(), self.last.is_empty()) {
            (false, false) => format!("{} {}", self.first, self.last),
            (true, _) => self.last.clone(),
            (false, true) => self.first.clone(),
        }
    }
}

/// One part of a person's name (a first or a last name): folded, titles and suffixes dropped.
pub fn person_part(s: &str) -> String {
    let f = fold(s);
    let toks: Vec<&str> = f
        .split(' ')
        .filter(|t| !t.is_empty() && !PERSON_NOISE.contains(t))
        .collect();
    if toks.is_empty() {
        f
    } else {
        toks.join(" ")
    }
}

/// `Dr. José  García` → first `jose`, last `garcia`; `García, José` (swapped order, with a
/// comma) → the same; `J. R. Smith` → first `j r`, last `smith`.
pub fn person_name(s: &str) -> PersonName {
    if let Some((last, first)) = s.split_once(',') {
        let first_part = person_part(first);
        let last_part = person_part(last);
        // `Smith, Jr.` is not a swapped name.
        if !first_part.is_empty() && !PERSON_NOISE.contains(&fold(first).as_str()) {
            return PersonName {
                first: first_part,
                last: last_part,
            };
        }
        return person_name(last);
    }
    let p = person_part(s);
    match p.rsplit_once(' ') {
        Some((first, last)) => PersonName {
            first: first.to_string(),
            last: last.to_string(),
        },
        None => PersonName {
            first: String::new(),
            last: p,
        },
    }
}

/// Splits a cell that may hold several websites or addresses (`a.com; b.com`, `a@x.com, b@y.com`).
pub fn split_multi(s: &str) -> impl Iterator<Item = &str> {
    s.split([';', ',', '|', '\n', ' ', '\t'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legal_forms_are_sorted_for_binary_search() {
        let mut sorted = LEGAL_FORMS.to_vec();
        sorted.sort_unstable();
        assert_eq!(sorted, LEGAL_FORMS);
    }

    #[test]
    fn fold_table() {
        let cases = [
            ("Müller & Söhne", "muller and sohne"),
            ("  ACME,  Inc. ", "acme inc"),
            ("O'Brien’s", "obriens"),
            ("S.A.", "sa"),
            ("Yost .Group", "yost group"),
            ("Frami--Pouros", "frami pouros"),
            ("Zürich–Øresund", "zurich oresund"),
            ("", ""),
            ("!!!", ""),
        ];
        for (input, want) in cases {
            assert_eq!(fold(input), want, "fold({input:?})");
        }
    }

    #[test]
    fn domain_key_table() {
        let cases: &[(&str, Option<&str>)] = &[
            ("https://blog.acme.co.uk/x", Some("acme.co.uk")),
            ("acme.com", Some("acme.com")),
            ("ACME.COM.", Some("acme.com")),
            ("www.acme.com", Some("acme.com")),
            ("http://www.acme.com:8080/about?x=1#top", Some("acme.com")),
            ("//cdn.acme.io/a.js", Some("acme.io")),
            ("https://user:pw@shop.acme.de", Some("acme.de")),
            ("info@acme.com", Some("acme.com")),
            ("jo@gmail.com", None),
            ("https://bücher.de", Some("xn--bcher-kva.de")),
            ("https://acme.github.io/docs", Some("acme.github.io")),
            ("https://zenith.github.io", Some("zenith.github.io")),
            ("https://github.io", None),
            ("https://github.com/acme/repo", Some("github.com/acme")),
            ("https://linktr.ee/acme", Some("linktr.ee/acme")),
            ("https://linktr.ee/zenith?utm=1", Some("linktr.ee/zenith")),
            ("https://linktr.ee", None),
            ("https://medium.com/@acme/post-1", Some("medium.com/@acme")),
            ("https://acme.medium.com/post", Some("acme.medium.com")),
            ("https://acme.wixsite.com/site", Some("acme.wixsite.com")),
            ("https://zenith.blogspot.com", Some("zenith.blogspot.com")),
            (
                "https://acme.notion.site/Home-123",
                Some("acme.notion.site"),
            ),
            (
                "https://sites.google.com/view/acme/home",
                Some("sites.google.com/view/acme"),
            ),
            (
                "https://sites.google.com/view/zenith",
                Some("sites.google.com/view/zenith"),
            ),
            ("https://docs.google.com/document/d/1", None),
            ("https://www.google.com", Some("google.com")),
            ("https://acme.carrd.co", Some("acme.carrd.co")),
            ("https://bit.ly/3xyz", None),
            ("https://www.facebook.com/acme", Some("facebook.com/acme")),
            (
                "https://www.facebook.com/pages/acme/123",
                Some("facebook.com/pages/acme"),
            ),
            (
                "https://www.linkedin.com/company/acme/about/",
                Some("linkedin.com/company/acme"),
            ),
            ("https://www.linkedin.com/feed", None),
            ("co.uk", None),
            ("localhost", None),
            ("192.168.0.1", None),
            ("not a website", None),
            ("", None),
            ("n/a", None),
        ];
        for (input, want) in cases {
            assert_eq!(domain_key(input).as_deref(), *want, "domain_key({input:?})");
        }
    }

    #[test]
    fn shared_hosts_never_join_unrelated_companies() {
        let pairs = [
            ("https://linktr.ee/acme", "https://linktr.ee/zenith"),
            ("https://medium.com/@acme", "https://medium.com/@zenith"),
            ("https://acme.github.io", "https://zenith.github.io"),
            ("https://acme.wixsite.com/a", "https://zenith.wixsite.com/a"),
            (
                "https://sites.google.com/view/acme",
                "https://sites.google.com/view/zenith",
            ),
            ("https://acme.blogspot.com", "https://zenith.blogspot.com"),
            ("https://acme.carrd.co", "https://zenith.carrd.co"),
            ("https://acme.notion.site", "https://zenith.notion.site"),
        ];
        for (a, b) in pairs {
            assert_ne!(domain_key(a), domain_key(b), "{a} vs {b}");
        }
        for shared in [
            "https://linktr.ee/",
            "https://medium.com",
            "https://wixsite.com",
        ] {
            assert_eq!(domain_key(shared), None, "{shared}");
        }
    }

    #[test]
    fn linkedin_key_table() {
        let cases: &[(&str, Option<&str>)] = &[
            (
                "https://www.linkedin.com/in/jane-doe-123/",
                Some("/in/jane-doe-123"),
            ),
            ("linkedin.com/in/Jane-Doe?trk=x", Some("/in/jane-doe")),
            (
                "https://uk.linkedin.com/in/jane-doe/details/experience",
                Some("/in/jane-doe"),
            ),
            (
                "https://www.linkedin.com/company/acme-corp/",
                Some("/company/acme-corp"),
            ),
            (
                "http://linkedin.com/company/acme-corp/jobs?x=1#y",
                Some("/company/acme-corp"),
            ),
            (
                "https://www.linkedin.com/in/j%C3%BCrgen",
                Some("/in/jürgen"),
            ),
            ("https://www.linkedin.com/school/mit/", Some("/school/mit")),
            ("https://www.linkedin.com/feed/", None),
            ("https://www.linkedin.com/in/", None),
            ("https://acme.com/in/jane", None),
            ("", None),
        ];
        for (input, want) in cases {
            assert_eq!(
                linkedin_key(input).as_deref(),
                *want,
                "linkedin_key({input:?})"
            );
        }
    }

    #[test]
    fn email_key_table() {
        let cases: &[(&str, Option<&str>)] = &[
            ("  Jane.Doe@Acme.com ", Some("jane.doe@acme.com")),
            ("mailto:jane@acme.com", Some("jane@acme.com")),
            ("Jane Doe <jane@acme.com>", Some("jane@acme.com")),
            ("J.a.n.e+news@gmail.com", Some("jane@gmail.com")),
            ("jane.doe+x@googlemail.com", Some("janedoe@gmail.com")),
            ("jane+x@outlook.com", Some("jane@outlook.com")),
            // A company's own domain may use `+` in real addresses.
            ("jane+sales@acme.com", Some("jane+sales@acme.com")),
            ("jane.doe@acme.com", Some("jane.doe@acme.com")),
            ("jane", None),
            ("@acme.com", None),
            ("jane@localhost", None),
            ("jane doe@acme.com", None),
            ("", None),
        ];
        for (input, want) in cases {
            assert_eq!(email_key(input).as_deref(), *want, "email_key({input:?})");
        }
    }

    #[test]
    fn org_name_table() {
        let cases = [
            ("Acme, Inc.", "acme inc", "acme"),
            ("The Acme Company", "the acme company", "acme"),
            ("ACME GmbH & Co. KG", "acme gmbh and co kg", "acme"),
            ("Acme S.A. de C.V.", "acme sa de cv", "acme"),
            ("Acme Sp. z o.o.", "acme sp z oo", "acme"),
            ("Acme sp z o o", "acme sp z o o", "acme"),
            ("Brooklyn Zoo", "brooklyn zoo", "brooklyn zoo"),
            ("AB Volvo", "ab volvo", "volvo"),
            (
                "Société Générale S.A.",
                "societe generale sa",
                "societe generale",
            ),
            (
                "Johnson & Johnson",
                "johnson and johnson",
                "johnson johnson",
            ),
            ("Terry and Sons", "terry and sons", "terry sons"),
            ("I B M Corp", "i b m corp", "ibm"),
            ("Acme Pty Ltd", "acme pty ltd", "acme"),
            ("Acme Limited", "acme limited", "acme"),
            ("Inc", "inc", "inc"),
            ("The", "the", "the"),
            ("Quitzon Group", "quitzon group", "quitzon group"),
            ("", "", ""),
        ];
        for (input, raw, norm) in cases {
            let got = org_name(input);
            assert_eq!(got.raw, raw, "raw of {input:?}");
            assert_eq!(got.norm, norm, "norm of {input:?}");
        }
    }

    #[test]
    fn person_name_table() {
        let cases = [
            ("Jane Doe", "jane", "doe"),
            ("Doe, Jane", "jane", "doe"),
            ("Dr. José García", "jose", "garcia"),
            ("García, José", "jose", "garcia"),
            ("J. R. Smith", "j r", "smith"),
            ("Smith, J.", "j", "smith"),
            ("John Smith Jr.", "john", "smith"),
            ("Smith, Jr.", "", "smith"),
            ("Mary Ann O'Neil", "mary ann", "oneil"),
            ("Madonna", "", "madonna"),
        ];
        for (input, first, last) in cases {
            let got = person_name(input);
            assert_eq!(
                (got.first.as_str(), got.last.as_str()),
                (first, last),
                "{input:?}"
            );
        }
        assert_eq!(person_name("Doe, Jane").full(), "jane doe");
        assert_eq!(person_part("Mr. O’Neil"), "oneil");
    }
}
