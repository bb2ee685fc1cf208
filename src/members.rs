//! Members: the people whose calls, SMS and notes are written into Affinity with their own key,
//! so that Affinity records them as the creator, under their own workflow.
//!
//! ```toml
//! # affsync.toml (the admin's)
//! [[members]]
//! name = "Ada Lovelace"
//! key_env = "ADA_AFFINITY_KEY"          # or key_file = "...", or key_command = "..."
//! lines = ["+1 555 0001"]               # her connected numbers
//! emails = ["ada@firm.example"]
//! workflow = { incoming_sms = "disabled" }
//!
//! [[members]]
//! name = "Grace Hopper"
//! file = "members/grace.toml"           # her own settings, in a file she can read
//! ```
//!
//! A member's own file holds only their settings (`key_env`/`key_file`/`key_command`, `lines`,
//! `emails`, `[workflow]`, and their `name` if written again); the admin's settings and other
//! members' are refused there with the file, the line and the key. Each setting is written in
//! one place: in `affsync.toml` or in the member's file. A line belongs to one member.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use affsync_core::activity::members::MemberRoute;
use affsync_core::activity::settings::{digits, phone_key, Country, Workflow};
use affsync_core::diagnostic::line_of;

use affinity_crm::{Client, Config};

use crate::jobs::config::{key_spec, ConfigError, KeySpec};
use crate::store::activity_log::MemberUser;
use crate::store::{Store, StoreError};

/// The keys of a member, for hints.
pub const MEMBER_KEYS: &str = "a member has `name`, `file` (their own settings file), `key_env`, `key_file` or `key_command`, `lines`, `emails` and `workflow`";
/// The keys of a member's own file, for hints.
pub const MEMBER_FILE_KEYS: &str = "a member's own file has `key_env`, `key_file` or `key_command`, `lines`, `emails`, `[workflow]`, and `name` (theirs) if written again";
/// What `affsync.toml` holds that a member's file may not set.
const ADMIN_KEYS: &[&str] = &[
    "database_url",
    "lock_stale_after_s",
    "affinity",
    "jobs",
    "members",
    "file",
];

/// A member, as the settings give them.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub name: String,
    /// Where their key is read from; never `AFFINITY_API_KEY` unless they name it.
    pub key: Setting<KeySpec>,
    /// Their lines, as written.
    pub lines: Setting<Vec<String>>,
    pub emails: Setting<Vec<String>>,
    /// Their own workflow; `None` takes the activity settings'.
    pub workflow: Option<Setting<Workflow>>,
    /// Their own settings file, when they have one.
    pub file: Option<PathBuf>,
}

/// A member's setting and the file it is written in.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting<T> {
    pub value: T,
    pub from: PathBuf,
}

impl Member {
    /// The member as the activity plan routes to them; numbers without a country code are
    /// read in `country` (the activity settings' `default_country`).
    pub fn route(&self, country: Option<Country>) -> MemberRoute {
        MemberRoute {
            name: self.name.clone(),
            lines: self
                .lines
                .value
                .iter()
                .filter(|l| !l.contains('@'))
                .map(|l| phone_key(l, country))
                .collect(),
            emails: self
                .emails
                .value
                .iter()
                .chain(self.lines.value.iter().filter(|l| l.contains('@')))
                .map(|e| e.trim().to_lowercase())
                .collect(),
            workflow: self.workflow.as_ref().map(|w| w.value),
            file: self
                .workflow
                .as_ref()
                .map(|w| w.from.display().to_string())
                .unwrap_or_else(|| self.key.from.display().to_string()),
        }
    }
}

/// A `[[members]]` entry of `affsync.toml`, or a member's own file (where `name` may only
/// repeat theirs and `file` is refused): one shape, each key optional and checked after.
/// (serde's `flatten` would have shared the keys, but loses their spans.)
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMember {
    name: Option<Spanned<String>>,
    file: Option<Spanned<String>>,
    key_env: Option<Spanned<String>>,
    key_file: Option<Spanned<String>>,
    key_command: Option<Spanned<String>>,
    lines: Option<Spanned<Vec<Spanned<String>>>>,
    emails: Option<Spanned<Vec<Spanned<String>>>>,
    workflow: Option<Spanned<Workflow>>,
}

/// One file's text, to name lines in errors.
struct Text<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Text<'_> {
    fn invalid(&self, span: std::ops::Range<usize>, message: String, hint: &str) -> ConfigError {
        ConfigError::Invalid {
            file: self.path.display().to_string(),
            line: line_of(self.text, span.start),
            job: None,
            message,
            hint: hint.to_string(),
        }
    }
}

/// The members of `affsync.toml` (`text`, at `path`), their own files read and checked.
pub(crate) fn resolve(
    raw: &[Spanned<RawMember>],
    path: &Path,
    text: &str,
) -> Result<Vec<Member>, ConfigError> {
    let admin = Text { path, text };
    let dir = path.parent().unwrap_or(Path::new(""));
    let names: Vec<String> = raw
        .iter()
        .map(|m| {
            let n = m.get_ref().name.as_ref();
            n.map(|n| n.get_ref().trim().to_string())
                .unwrap_or_default()
        })
        .collect();
    let mut members: Vec<Member> = Vec::new();
    // The line of its file each member's line is written on, for the check below.
    let mut line_at: Vec<Vec<usize>> = Vec::new();
    for (i, rm) in raw.iter().enumerate() {
        let r = rm.get_ref();
        let name = names[i].clone();
        let name_span = r.name.as_ref().map_or(rm.span(), Spanned::span);
        if name.is_empty() {
            return Err(admin.invalid(
                name_span.clone(),
                "a member has no `name`".into(),
                "name every member: their events and settings go by it",
            ));
        }
        if names[..i].iter().any(|n| n.eq_ignore_ascii_case(&name)) {
            return Err(admin.invalid(
                name_span,
                format!("two members are named `{name}`"),
                "member names are unique",
            ));
        }
        let in_admin = own(r, &admin, dir, &name, rm.span())?;
        let (mine, file) = match &r.file {
            None => (Own::default(), None),
            Some(f) => {
                let file = dir.join(f.get_ref());
                let ftext = std::fs::read_to_string(&file).map_err(|e| {
                    admin.invalid(
                        f.span(),
                        format!("cannot read member `{name}`'s file `{}`: {e}", file.display()),
                        "give the path of the member's own settings file, relative to `affsync.toml`",
                    )
                })?;
                let theirs = Text {
                    path: &file,
                    text: &ftext,
                };
                let others: Vec<&str> = names
                    .iter()
                    .filter(|n| !n.eq_ignore_ascii_case(&name))
                    .map(String::as_str)
                    .collect();
                let fm = member_file(&theirs, &name, &others)?;
                let fdir = file.parent().unwrap_or(Path::new(""));
                let mine = own(&fm, &theirs, fdir, &name, 0..0)?;
                if let Some((key, span)) = in_admin.overlap(&mine) {
                    return Err(theirs.invalid(
                        span,
                        format!("member `{name}`'s `{key}` is set in `affsync.toml` and again in their file"),
                        "write each of a member's settings in one place: `affsync.toml` or their own file",
                    ));
                }
                (mine, Some(file))
            }
        };
        let Some(key) = mine.key.or(in_admin.key) else {
            return Err(admin.invalid(
                r.name.as_ref().map_or(rm.span(), Spanned::span),
                format!("member `{name}` has no key"),
                "set `key_env`, `key_file` or `key_command` for them, in `affsync.toml` or in their own `file`: their events are written with their key, never another's",
            ));
        };
        let (lines, at) = mine
            .lines
            .or(in_admin.lines)
            .unwrap_or_else(|| (setting(Vec::new(), path), Vec::new()));
        line_at.push(at);
        members.push(Member {
            name,
            key,
            lines,
            emails: mine
                .emails
                .or(in_admin.emails)
                .unwrap_or_else(|| setting(Vec::new(), path)),
            workflow: mine.workflow.or(in_admin.workflow),
            file,
        });
    }
    // A line is one member's.
    for (i, a) in members.iter().enumerate() {
        for b in &members[..i] {
            for (l, at) in a.lines.value.iter().zip(&line_at[i]) {
                let k = phone_key(l, None);
                if b.lines
                    .value
                    .iter()
                    .any(|o| o.eq_ignore_ascii_case(l) || phone_key(o, None) == k)
                {
                    let file = a.lines.from.display().to_string();
                    return Err(ConfigError::Invalid {
                        file: file.clone(),
                        line: *at,
                        job: None,
                        message: format!(
                            "line `{l}` of member `{}` is also member `{}`'s",
                            a.name, b.name
                        ),
                        hint: format!(
                            "a line belongs to one member; remove it from one of them (`{file}`)"
                        ),
                    });
                }
            }
        }
    }
    Ok(members)
}

/// A member's own file, refused where it sets what is not theirs.
fn member_file(t: &Text, name: &str, others: &[&str]) -> Result<RawMember, ConfigError> {
    let table = toml::de::DeTable::parse(t.text).map_err(|e| {
        t.invalid(
            e.span().unwrap_or(0..0),
            e.message().trim_end().to_string(),
            MEMBER_FILE_KEYS,
        )
    })?;
    for (key, _) in table.get_ref().iter() {
        let k = key.get_ref().as_ref();
        if ADMIN_KEYS.contains(&k) {
            return Err(t.invalid(
                key.span(),
                format!("member `{name}`'s file sets `{k}`, which is the admin's setting"),
                &format!(
                    "`{k}` is set in `affsync.toml`, not in a member's file; {MEMBER_FILE_KEYS}"
                ),
            ));
        }
        if let Some(other) = others.iter().find(|o| o.eq_ignore_ascii_case(k)) {
            return Err(t.invalid(
                key.span(),
                format!("member `{name}`'s file sets `{k}`, the settings of member `{other}`"),
                &format!("a member's file holds only their own settings; {MEMBER_FILE_KEYS}"),
            ));
        }
    }
    let raw: RawMember = toml::from_str(t.text).map_err(|e| {
        t.invalid(
            e.span().unwrap_or(0..0),
            e.message().trim_end().to_string(),
            MEMBER_FILE_KEYS,
        )
    })?;
    if let Some(n) = &raw.name {
        let n_ = n.get_ref().trim();
        if !n_.eq_ignore_ascii_case(name) {
            return Err(t.invalid(
                n.span(),
                format!("member `{name}`'s file sets `name` to `{n_}`"),
                "a member's file is theirs alone: its `name` is the one `affsync.toml` gives it, or absent",
            ));
        }
    }
    Ok(raw)
}

/// A list's entries, and the line of its file each is written on.
type Entries = (Vec<String>, Vec<usize>);

/// What one place (`affsync.toml`'s entry or the member's file) writes of a member, each
/// with where it is written.
#[derive(Default)]
struct Own {
    key: Option<Setting<KeySpec>>,
    /// The lines, and the line of the file each is written on.
    lines: Option<(Setting<Vec<String>>, Vec<usize>)>,
    emails: Option<Setting<Vec<String>>>,
    workflow: Option<Setting<Workflow>>,
    spans: Vec<(&'static str, std::ops::Range<usize>)>,
}

impl Own {
    /// A setting both places write: its key, and where `other` writes it.
    fn overlap(&self, other: &Own) -> Option<(&'static str, std::ops::Range<usize>)> {
        other
            .spans
            .iter()
            .find(|(k, _)| self.spans.iter().any(|(m, _)| m == k))
            .cloned()
    }
}

/// The settings of one place.
fn own(
    r: &RawMember,
    t: &Text,
    dir: &Path,
    name: &str,
    span: std::ops::Range<usize>,
) -> Result<Own, ConfigError> {
    let from = t.path;
    let mut out = Own::default();
    let key_span = r
        .key_env
        .as_ref()
        .or(r.key_file.as_ref())
        .or(r.key_command.as_ref())
        .map(Spanned::span);
    let key = key_spec(
        r.key_env.as_ref().map(|s| s.get_ref().clone()),
        r.key_file.as_ref().map(|s| s.get_ref().clone()),
        r.key_command.as_ref().map(|s| s.get_ref().clone()),
        dir,
    )
    .map_err(|message| {
        t.invalid(
            key_span.clone().unwrap_or(span),
            format!("member `{name}`: {message}"),
            "keep one: where the member's key comes from must be unambiguous",
        )
    })?;
    if let (Some(k), Some(s)) = (key, key_span) {
        out.spans.push(("key", s.clone()));
        out.key = Some(setting(k, from));
    }
    // Each entry of a list checked: (the key, what is wrong with a bad entry, the hint).
    let checked = |list: &Option<Spanned<Vec<Spanned<String>>>>,
                   key: &'static str,
                   ok: &dyn Fn(&str) -> bool,
                   what: &str,
                   hint: &str|
     -> Result<Option<Entries>, ConfigError> {
        let Some(ls) = list else { return Ok(None) };
        let (mut out, mut at) = (Vec::new(), Vec::new());
        for l in ls.get_ref() {
            let v = l.get_ref().trim();
            if !ok(v) {
                return Err(t.invalid(
                    l.span(),
                    format!("member `{name}`'s `{key}` has `{v}`, which is not {what}"),
                    hint,
                ));
            }
            out.push(v.to_string());
            at.push(line_of(t.text, l.span().start));
        }
        Ok(Some((out, at)))
    };
    let lines = checked(
        &r.lines,
        "lines",
        &|v| v.contains('@') || digits(v).len() >= 3,
        "a phone number",
        "write each line as a phone number, such as `\"+15550001\"`, or an email",
    )?;
    if let (Some(ls), Some((lines, at))) = (&r.lines, lines) {
        out.spans.push(("lines", ls.span()));
        out.lines = Some((setting(lines, from), at));
    }
    let emails = checked(
        &r.emails,
        "emails",
        &|v| v.contains('@'),
        "an email",
        "write each email as `name@firm.example`",
    )?;
    if let (Some(es), Some((emails, _))) = (&r.emails, emails) {
        out.spans.push(("emails", es.span()));
        out.emails = Some(setting(emails, from));
    }
    if let Some(w) = &r.workflow {
        out.spans.push(("workflow", w.span()));
        out.workflow = Some(setting(*w.get_ref(), from));
    }
    Ok(out)
}

/// A setting written in `from`.
fn setting<T>(value: T, from: &Path) -> Setting<T> {
    Setting {
        value,
        from: from.to_path_buf(),
    }
}

/// A member ready to write: their client and the Affinity user behind their key, or why
/// their events cannot be written (a key that cannot be read, or that Affinity refuses).
#[derive(Clone)]
pub struct Connected {
    pub member: Member,
    pub client: Result<Client, String>,
    pub user: Option<MemberUser>,
}

impl Connected {
    /// How a report names them: `Ada (Ada Lovelace, user 7)`, or `Ada Lovelace (user 7)`
    /// when their name is their Affinity user's.
    pub fn label(&self) -> String {
        match &self.user {
            Some(u) if u.display() == self.member.name => {
                format!("{} (user {})", self.member.name, u.user_id)
            }
            Some(u) => format!("{} ({}, user {})", self.member.name, u.display(), u.user_id),
            None => self.member.name.clone(),
        }
    }
}

/// The first 16 hex digits of a key's SHA-256: tells a changed key without keeping it.
fn digest(key: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(key.as_bytes())
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Each member's client (its own pacer: a key's rate-limit headers pace its own requests
/// only), configured as `like` is and writing under its write gate, and the user behind their key: read once
/// through whoami and kept in the mirror, read again when the key changes.
pub async fn connect(
    members: &[Member],
    like: &Client,
    store: &Store,
) -> Result<Vec<Connected>, StoreError> {
    let mut out = Vec::new();
    for m in members {
        let (client, user) = match connect_one(m, like, store).await? {
            Ok((c, u)) => (Ok(c), Some(u)),
            Err(e) => (Err(e), None),
        };
        out.push(Connected {
            member: m.clone(),
            client,
            user,
        });
    }
    Ok(out)
}

/// A member's own client, configured as `like` is (address, timeouts, retries, pacing) and
/// writing under its write gate, with the member's key; and the key's digest.
pub fn client_of(m: &Member, like: &Client) -> Result<(Client, String), String> {
    let who = format!("member `{}`", m.name);
    let (key, source) = m.key.value.read().map_err(|e| format!("{who}: {e}"))?;
    let d = digest(key.expose());
    let config = Config {
        key,
        key_source: source,
        ..like.config().clone()
    };
    let client = Client::new(config).map_err(|e| format!("{who}: {e}"))?;
    Ok(match like.write_gate() {
        Some(g) => (client.with_write_gate(g), d),
        None => (client, d),
    })
}

async fn connect_one(
    m: &Member,
    like: &Client,
    store: &Store,
) -> Result<Result<(Client, MemberUser), String>, StoreError> {
    let (client, d) = match client_of(m, like) {
        Ok(c) => c,
        Err(e) => return Ok(Err(e)),
    };
    if let Some(u) = store.member_user(&m.name, &d).await? {
        return Ok(Ok((client, u)));
    }
    match client.whoami_v2().await {
        Ok(w) => {
            let u = MemberUser {
                user_id: w.user.id.0,
                first_name: w.user.first_name,
                last_name: w.user.last_name,
                email: w.user.email_address,
            };
            store
                .learn_member_user(&m.name, &d, &u, chrono::Utc::now())
                .await?;
            Ok(Ok((client, u)))
        }
        Err(e) => Ok(Err(refused(&m.name, &e))),
    }
}

/// What a member's failed request says: a refused key is named as such.
pub fn refused(member: &str, e: &affinity_crm::Error) -> String {
    match e.status() {
        Some(401) => format!(
            "member `{member}`: Affinity refused their key (401): {e}; none of their events is written until it is replaced"
        ),
        _ => format!("member `{member}`: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::config::JobsConfig;
    use affsync_core::activity::settings::SmsAs;
    use affsync_core::diagnostic::{Diagnose, ErrorClass};

    const ADMIN: &str = r#"[affinity]
key_env = "ADMIN_KEY"

[[members]]
name = "Ada"
key_env = "ADA_KEY"
lines = ["+1 555 0001"]
emails = ["ada@firm.example"]

[[members]]
name = "Grace"
file = "members/grace.toml"
"#;

    fn load(admin: &str, grace: &str) -> Result<JobsConfig, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("members")).unwrap();
        std::fs::write(d.join("affsync.toml"), admin).unwrap();
        std::fs::write(d.join("members/grace.toml"), grace).unwrap();
        JobsConfig::load(&d.join("affsync.toml"))
    }

    #[test]
    fn members_come_from_affsync_toml_and_their_own_files() {
        let c = load(
            ADMIN,
            "key_file = \"grace.key\"\nlines = [\"+1 555 0002\"]\n[workflow]\nincoming_sms = \"disabled\"\n",
        )
        .unwrap();
        let [ada, grace] = &c.members[..] else {
            panic!("{:?}", c.members)
        };
        assert_eq!(ada.key.value, KeySpec::Env("ADA_KEY".into()));
        assert!(ada.key.from.ends_with("affsync.toml"));
        assert_eq!(ada.lines.value, ["+1 555 0001"]);
        assert!(ada.workflow.is_none());
        // Grace's settings are hers, from her file, her key file relative to it.
        assert!(grace.key.from.ends_with("members/grace.toml"));
        assert!(
            matches!(&grace.key.value, KeySpec::File(p) if p.ends_with("members/grace.key")),
            "{:?}",
            grace.key
        );
        assert_eq!(
            grace.workflow.as_ref().unwrap().value.incoming_sms,
            SmsAs::Disabled
        );
        let route = grace.route(None);
        assert_eq!(route.lines, ["+15550002"]);
        assert!(route.file.ends_with("members/grace.toml"));
        assert_eq!(ada.route(None).emails, ["ada@firm.example"]);
    }

    #[test]
    fn a_members_file_cannot_set_what_is_not_theirs() {
        let cases = [
            (
                "database_url = \"sqlite://x.db\"\n",
                1,
                "sets `database_url`, which is the admin's setting",
            ),
            (
                "lines = [\"+15550002\"]\n\n[affinity]\nkey_env = \"X\"\n",
                3,
                "sets `affinity`",
            ),
            (
                "key_env = \"G\"\n[[members]]\nname = \"Ada\"\nkey_env = \"MINE\"\n",
                2,
                "sets `members`",
            ),
            (
                "key_env = \"G\"\n[Ada]\nkey_env = \"MINE\"\n",
                2,
                "the settings of member `Ada`",
            ),
            (
                "key_env = \"G\"\n[ada.workflow]\nvoicemail = \"disabled\"\n",
                2,
                "the settings of member `Ada`",
            ),
            (
                "key_env = \"G\"\nname = \"Ada\"\n",
                2,
                "sets `name` to `Ada`",
            ),
            (
                "key_env = \"G\"\nlines = [\"+1 (555) 0001\"]\n",
                2,
                "line `+1 (555) 0001` of member `Grace` is also member `Ada`'s",
            ),
            ("lines = [\"+15550002\"]\n", 11, "member `Grace` has no key"),
            (
                "key_env = \"G\"\nkey_file = \"g.key\"\n",
                1,
                "more than one of `key_env`",
            ),
            (
                "key_env = \"G\"\n[workflow]\nsms = \"disabled\"\n",
                3,
                "unknown field `sms`",
            ),
        ];
        for (grace, line, want) in cases {
            let e = load(ADMIN, grace).unwrap_err();
            let ConfigError::Invalid { file, line: at, .. } = &e else {
                panic!("{grace}: {e}")
            };
            let in_admin = want.contains("has no key");
            assert!(
                file.ends_with(if in_admin {
                    "affsync.toml"
                } else {
                    "members/grace.toml"
                }),
                "{grace}: {e}"
            );
            assert_eq!(*at, line, "{grace}: {e}");
            assert!(e.to_string().contains(want), "{grace}: {e}");
            assert_eq!(e.class(), ErrorClass::BadInput);
            assert!(e.hint().is_some_and(|h| !h.is_empty()), "{grace}");
        }
        // A setting written for her in `affsync.toml` and again in her file.
        let admin = ADMIN.replace(
            "file = \"members/grace.toml\"",
            "file = \"members/grace.toml\"\nworkflow = { voicemail = \"disabled\" }",
        );
        let e = load(
            &admin,
            "key_env = \"G\"\n[workflow]\nvoicemail = \"interaction\"\n",
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("members/grace.toml")
                && e.to_string()
                    .contains("`workflow` is set in `affsync.toml` and again"),
            "{e}"
        );
    }
}
