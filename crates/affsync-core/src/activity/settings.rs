//! The settings file of `affsync log-activity`: which lines are logged, whether unknown
//! contacts are created, the person field that holds phone numbers, and what each kind of
//! event becomes in Affinity.

use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use crate::diagnostic::{line_of, FileError};

/// What every key of a settings file is, for hints.
pub const SETTINGS_KEYS: &str = "a settings file has `feed` (for job steps), `connected_numbers`, `default_country`, `create_contacts`, `phone_field`, `unowned` (`skip` or `default_key`: events on no member's line, with `[[members]]` in `affsync.toml`) and `[workflow]` (`outgoing_answered_calls`, `outgoing_unanswered_calls`, `incoming_answered_calls`, `incoming_unanswered_calls`, `voicemail`: `interaction` or `disabled`; `incoming_sms`, `outgoing_sms`: `note` or `disabled`)";

/// What a call or a voicemail becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CallAs {
    /// A call interaction with its date and direction.
    #[default]
    Interaction,
    Disabled,
}

/// What a text message becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SmsAs {
    /// A note with the message's text.
    #[default]
    Note,
    Disabled,
}

/// What becomes of an event on no member's line when `affsync.toml` has `[[members]]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unowned {
    /// Skipped, with the reason (a member's event is never written with another's key).
    #[default]
    Skip,
    /// Written with the default key (`[affinity]`), under these settings.
    DefaultKey,
}

impl Unowned {
    pub fn as_str(self) -> &'static str {
        match self {
            Unowned::Skip => "skip",
            Unowned::DefaultKey => "default_key",
        }
    }
}

/// `[workflow]`: every kind is logged unless disabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Workflow {
    pub outgoing_answered_calls: CallAs,
    pub outgoing_unanswered_calls: CallAs,
    pub incoming_answered_calls: CallAs,
    pub incoming_unanswered_calls: CallAs,
    pub voicemail: CallAs,
    pub incoming_sms: SmsAs,
    pub outgoing_sms: SmsAs,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    /// The feed a job step logs, relative to the settings file.
    feed: Option<String>,
    #[serde(default)]
    connected_numbers: Vec<Spanned<String>>,
    #[serde(default)]
    create_contacts: bool,
    phone_field: Option<Spanned<String>>,
    default_country: Option<Spanned<String>>,
    #[serde(default)]
    workflow: Workflow,
    #[serde(default)]
    unowned: Unowned,
}

/// Parsed settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The lines whose events are logged, as phone keys ([`phone_key`]); empty logs nothing.
    pub connected_numbers: Vec<String>,
    /// The country of numbers written without a country code (`default_country = "US"`).
    pub default_country: Option<Country>,
    pub create_contacts: bool,
    /// The person field (name or id) that holds phone numbers; `Phone` by default.
    pub phone_field: String,
    /// Its line in the file, when written there (for errors found against the mirror).
    pub phone_field_line: Option<usize>,
    pub workflow: Workflow,
    /// With `[[members]]`: what becomes of an event on no member's line.
    pub unowned: Unowned,
    /// The file, for messages.
    pub file: String,
    /// The feed a job step logs (`feed = "..."`, resolved against the settings file's folder).
    pub feed: Option<std::path::PathBuf>,
}

/// The default `phone_field`.
pub const DEFAULT_PHONE_FIELD: &str = "Phone";

/// The digits of a phone number (`+1 (555) 000-1` → `15550001`).
pub fn digits(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_digit()).collect()
}

/// A country, for numbers written without a country code (ISO 3166 alpha-2, `US`, `GB`).
pub type Country = phonenumber::country::Id;

/// A phone number as it is compared: E.164 (`+12079460100`) when it has a country code or
/// `country` gives one, else its digits as written (`2079460100`).
pub fn phone_key(s: &str, country: Option<Country>) -> String {
    let d = digits(s);
    if d.is_empty() {
        return d;
    }
    match phonenumber::parse(country, s.trim()) {
        Ok(n) => n.format().mode(phonenumber::Mode::E164).to_string(),
        Err(_) => d,
    }
}

/// Two phone keys are one number when both are E.164 and equal, or, when either has no
/// country, when their digits are (never by a part of them: `+1 207 946 0100` and
/// `+44 20 7946 0100` end alike and are two numbers).
pub fn same_phone(a: &str, b: &str) -> bool {
    if a.is_empty() || b.is_empty() {
        return false;
    }
    if a.starts_with('+') && b.starts_with('+') {
        a == b
    } else {
        digits(a) == digits(b)
    }
}

impl Settings {
    /// Parses a settings file's text; `path` names it in errors and anchors `feed`.
    pub fn parse(path: &Path, text: &str) -> Result<Settings, FileError> {
        let file = path.display().to_string();
        let raw: Raw = toml::from_str(text).map_err(|e| FileError {
            file: file.clone(),
            line: e.span().map_or(1, |s| line_of(text, s.start)),
            message: e.message().trim_end().to_string(),
            hint: SETTINGS_KEYS.to_string(),
        })?;
        let default_country = match &raw.default_country {
            None => None,
            Some(c) => match c.get_ref().trim().to_uppercase().parse::<Country>() {
                Ok(id) => Some(id),
                Err(_) => {
                    return Err(FileError {
                        file,
                        line: line_of(text, c.span().start),
                        message: format!(
                            "`default_country` is `{}`, which is not a country code",
                            c.get_ref()
                        ),
                        hint: "write the country of numbers without a country code as two letters (ISO 3166), such as `\"US\"` or `\"GB\"`".into(),
                    })
                }
            },
        };
        let mut numbers = Vec::new();
        for n in &raw.connected_numbers {
            let d = digits(n.get_ref());
            if d.len() < 3 {
                return Err(FileError {
                    file,
                    line: line_of(text, n.span().start),
                    message: format!(
                        "`connected_numbers` has `{}`, which is not a phone number",
                        n.get_ref()
                    ),
                    hint: "write each line as a phone number, such as `\"+15550001\"`".into(),
                });
            }
            numbers.push(phone_key(n.get_ref(), default_country));
        }
        let (phone_field, phone_field_line) = match raw.phone_field {
            Some(f) if f.get_ref().trim().is_empty() => {
                return Err(FileError {
                    file,
                    line: line_of(text, f.span().start),
                    message: "`phone_field` is empty".into(),
                    hint: "name the person field that holds phone numbers, such as `phone_field = \"Phone\"`".into(),
                })
            }
            Some(f) => (f.get_ref().trim().to_string(), Some(line_of(text, f.span().start))),
            None => (DEFAULT_PHONE_FIELD.to_string(), None),
        };
        Ok(Settings {
            connected_numbers: numbers,
            default_country,
            create_contacts: raw.create_contacts,
            phone_field,
            phone_field_line,
            workflow: raw.workflow,
            unowned: raw.unowned,
            feed: raw
                .feed
                .map(|f| path.parent().unwrap_or_else(|| Path::new(".")).join(f)),
            file,
        })
    }

    /// Whether events on `line` are logged.
    pub fn is_connected(&self, line: &str) -> bool {
        let k = phone_key(line, self.default_country);
        self.connected_numbers.iter().any(|n| same_phone(n, &k))
    }

    /// A feed's or the mirror's phone number as it is compared ([`phone_key`]).
    pub fn phone_key(&self, s: &str) -> String {
        phone_key(s, self.default_country)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Settings, String> {
        Settings::parse(Path::new("activity.toml"), text).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_log_everything_on_no_line() {
        let s = parse("").unwrap();
        assert_eq!(s.workflow, Workflow::default());
        assert_eq!(s.workflow.voicemail, CallAs::Interaction);
        assert_eq!(s.workflow.incoming_sms, SmsAs::Note);
        assert!(s.connected_numbers.is_empty());
        assert!(!s.is_connected("+15550001"));
        assert_eq!(s.phone_field, "Phone");
        assert!(!s.create_contacts);
    }

    #[test]
    fn the_issue_example_parses() {
        let s = parse(
            r#"connected_numbers = ["+1 555-0001"]
create_contacts = true
phone_field = "Mobile"
[workflow]
outgoing_answered_calls = "interaction"
outgoing_unanswered_calls = "disabled"
incoming_sms = "disabled"
"#,
        )
        .unwrap();
        assert!(s.is_connected("+15550001"));
        assert!(!s.is_connected("+15550002"));
        assert!(s.create_contacts);
        assert_eq!(s.phone_field, "Mobile");
        assert_eq!(s.phone_field_line, Some(3));
        assert_eq!(s.workflow.outgoing_unanswered_calls, CallAs::Disabled);
        assert_eq!(s.workflow.incoming_sms, SmsAs::Disabled);
        assert_eq!(s.workflow.outgoing_sms, SmsAs::Note);
    }

    #[test]
    fn mistakes_name_file_line_and_hint() {
        let cases = [
            (
                "create_contact = true\n",
                1,
                "unknown field `create_contact`",
            ),
            (
                "[workflow]\nvoicemail = \"note\"\n",
                2,
                "unknown variant `note`",
            ),
            (
                "[workflow]\nincoming_sms = \"interaction\"\n",
                2,
                "unknown variant `interaction`",
            ),
            ("\n[workflow]\nsms = \"note\"\n", 3, "unknown field `sms`"),
            ("connected_numbers = [\"ext\"]\n", 1, "not a phone number"),
            ("phone_field = \" \"\n", 1, "`phone_field` is empty"),
        ];
        for (text, line, want) in cases {
            let e = Settings::parse(Path::new("activity.toml"), text).unwrap_err();
            assert_eq!(
                (e.file.as_str(), e.line),
                ("activity.toml", line),
                "{text}: {e}"
            );
            assert!(e.message.contains(want), "{text}: {e}");
            assert!(!e.hint.is_empty(), "{text}: {e}");
        }
    }
}
