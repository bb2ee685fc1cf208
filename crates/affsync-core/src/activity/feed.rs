//! The communication feed: JSON Lines or CSV, one event a row, with the columns `id`, `kind`
//! (`call`, `voicemail`, `sms`, `note`), `direction` (`inbound`, `outbound`), `answered`, `at`,
//! `duration_s`, `line` (our number), `contact` (a phone, an email or a name), `text`,
//! `deleted` and `member` (whose event it is, by name or email, when the line does not say). Only `id`, `kind` and `contact` are required; other columns are ignored.
//!
//! A row that cannot be read does not stop the run: it becomes a [`FeedRow`] whose event is an
//! error that names what is wrong, which the plan journals as a skip.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// The columns a feed may have.
pub const COLUMNS: &[&str] = &[
    "id",
    "kind",
    "direction",
    "answered",
    "at",
    "duration_s",
    "line",
    "contact",
    "text",
    "deleted",
    "member",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Call,
    Voicemail,
    Sms,
    Note,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Call => "call",
            Kind::Voicemail => "voicemail",
            Kind::Sms => "sms",
            Kind::Note => "note",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Inbound,
    Outbound,
}

/// One communication event.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedEvent {
    pub id: String,
    pub kind: Kind,
    pub direction: Option<Direction>,
    pub answered: Option<bool>,
    pub at: Option<DateTime<Utc>>,
    pub duration_s: Option<u64>,
    pub line: Option<String>,
    pub contact: String,
    pub text: Option<String>,
    pub deleted: bool,
    /// The member whose event it is (`affsync.toml`'s `[[members]]`, by name or email).
    pub member: Option<String>,
}

/// A row of the feed (numbered from 1, a CSV header not counted) and what it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedRow {
    pub row: usize,
    /// The row's `id`, when it has one.
    pub id: Option<String>,
    /// The event, or why the row cannot be one.
    pub event: Result<FeedEvent, String>,
}

/// The feed columns a CSV header holds, or why it cannot be a feed (a missing required
/// column; `id` is read as the id, not a column).
pub fn csv_columns(header: &[String]) -> Result<Vec<String>, String> {
    for needed in ["id", "kind", "contact"] {
        if !header.iter().any(|h| h == needed) {
            return Err(needed.to_string());
        }
    }
    Ok(header
        .iter()
        .filter(|h| COLUMNS.contains(&h.as_str()) && h.as_str() != "id")
        .cloned()
        .collect())
}

/// The events of a JSON Lines text; blank lines are not rows.
pub fn read_jsonl(text: &str) -> Vec<FeedRow> {
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let row = i + 1;
        let obj = match serde_json::from_str::<serde_json::Value>(line) {
            Ok(serde_json::Value::Object(o)) => o,
            Ok(_) => {
                rows.push(FeedRow {
                    row,
                    id: None,
                    event: Err("the line is not a JSON object".into()),
                });
                continue;
            }
            Err(e) => {
                rows.push(FeedRow {
                    row,
                    id: None,
                    event: Err(format!("the line is not JSON: {e}")),
                });
                continue;
            }
        };
        let mut values = BTreeMap::new();
        for (k, v) in obj {
            let t = match v {
                serde_json::Value::Null => continue,
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            values.insert(k, t);
        }
        let id = values.get("id").cloned().filter(|s| !s.trim().is_empty());
        let event = parse_event(&values, id.as_deref());
        rows.push(FeedRow { row, id, event });
    }
    rows
}

/// One event from its columns as text (empty cells count as absent).
pub fn parse_event(
    values: &BTreeMap<String, String>,
    id: Option<&str>,
) -> Result<FeedEvent, String> {
    let get = |k: &str| values.get(k).map(|s| s.trim()).filter(|s| !s.is_empty());
    let id = id
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or("the event has no `id`")?
        .to_string();
    let kind = match get("kind").map(str::to_ascii_lowercase).as_deref() {
        Some("call") => Kind::Call,
        Some("voicemail") => Kind::Voicemail,
        Some("sms") => Kind::Sms,
        Some("note") => Kind::Note,
        Some(other) => {
            return Err(format!(
                "`kind` is `{other}`; it is one of `call`, `voicemail`, `sms`, `note`"
            ))
        }
        None => return Err("the event has no `kind`".into()),
    };
    let direction = match get("direction").map(str::to_ascii_lowercase).as_deref() {
        None => None,
        Some("inbound" | "incoming" | "in") => Some(Direction::Inbound),
        Some("outbound" | "outgoing" | "out") => Some(Direction::Outbound),
        Some(other) => {
            return Err(format!(
                "`direction` is `{other}`; it is `inbound` or `outbound`"
            ))
        }
    };
    let flag = |k: &str| -> Result<Option<bool>, String> {
        match get(k).map(str::to_ascii_lowercase).as_deref() {
            None => Ok(None),
            Some("true" | "yes" | "1" | "y") => Ok(Some(true)),
            Some("false" | "no" | "0" | "n") => Ok(Some(false)),
            Some(other) => Err(format!("`{k}` is `{other}`; it is `true` or `false`")),
        }
    };
    let answered = flag("answered")?;
    let deleted = flag("deleted")?.unwrap_or(false);
    let at = get("at").map(parse_time).transpose()?;
    let duration_s = get("duration_s")
        .map(|d| {
            d.parse::<f64>()
                .ok()
                .filter(|n| *n >= 0.0 && n.is_finite())
                .map(|n| n.round() as u64)
                .ok_or_else(|| format!("`duration_s` is `{d}`, not a number of seconds"))
        })
        .transpose()?;
    let contact = get("contact")
        .ok_or("the event has no `contact`")?
        .to_string();
    Ok(FeedEvent {
        id,
        kind,
        direction,
        answered,
        at,
        duration_s,
        line: get("line").map(str::to_string),
        contact,
        text: values.get("text").filter(|t| !t.trim().is_empty()).cloned(),
        deleted,
        member: get("member").map(str::to_string),
    })
}

/// RFC 3339, or a date and time without a zone (taken as UTC), or a bare date (noon UTC).
fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    for f in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Ok(t.and_utc());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(12, 0, 0).expect("noon exists").and_utc());
    }
    Err(format!(
        "`at` is `{s}`, not a date and time such as `2026-11-20T15:04:05Z`"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonl_rows_become_events_or_reasons() {
        let text = r#"{"id":"c1","kind":"call","direction":"outbound","answered":true,"at":"2026-11-20T10:00:00Z","duration_s":125,"line":"+15550001","contact":"+15551234"}

{"id":"s1","kind":"SMS","direction":"inbound","at":"2026-11-20 11:00:00","line":"+15550001","contact":"ada@analytical.io","text":"On my way"}
[1,2]
{"id":"x","kind":"fax","contact":"a"}
{"kind":"note","contact":"a"}
{"id":"n1","kind":"note","contact":"Ada Lovelace","text":"Met","deleted":"yes","at":"2026-11-20"}
"#;
        let rows = read_jsonl(text);
        assert_eq!(rows.len(), 6);
        let c = rows[0].event.as_ref().unwrap();
        assert_eq!(c.kind, Kind::Call);
        assert_eq!(c.direction, Some(Direction::Outbound));
        assert_eq!(c.answered, Some(true));
        assert_eq!(c.duration_s, Some(125));
        assert_eq!(c.at.unwrap().to_rfc3339(), "2026-11-20T10:00:00+00:00");
        assert_eq!(rows[1].row, 3);
        let s = rows[1].event.as_ref().unwrap();
        assert_eq!(s.kind, Kind::Sms);
        assert_eq!(s.text.as_deref(), Some("On my way"));
        assert_eq!(s.at.unwrap().to_rfc3339(), "2026-11-20T11:00:00+00:00");
        assert!(rows[2]
            .event
            .as_ref()
            .unwrap_err()
            .contains("not a JSON object"));
        assert!(rows[3]
            .event
            .as_ref()
            .unwrap_err()
            .contains("`kind` is `fax`"));
        assert!(rows[4].event.as_ref().unwrap_err().contains("no `id`"));
        let n = rows[5].event.as_ref().unwrap();
        assert!(n.deleted);
        assert_eq!(n.at.unwrap().to_rfc3339(), "2026-11-20T12:00:00+00:00");
    }

    #[test]
    fn bad_values_are_named() {
        let cases = [
            (
                r#"{"id":"a","kind":"call","contact":"x","direction":"up"}"#,
                "`direction` is `up`",
            ),
            (
                r#"{"id":"a","kind":"call","contact":"x","answered":"maybe"}"#,
                "`answered` is `maybe`",
            ),
            (
                r#"{"id":"a","kind":"call","contact":"x","at":"yesterday"}"#,
                "`at` is `yesterday`",
            ),
            (
                r#"{"id":"a","kind":"call","contact":"x","duration_s":"-3"}"#,
                "`duration_s` is `-3`",
            ),
            (r#"{"id":"a","kind":"call"}"#, "no `contact`"),
        ];
        for (line, want) in cases {
            let rows = read_jsonl(line);
            let e = rows[0].event.as_ref().unwrap_err();
            assert!(e.contains(want), "{line}: {e}");
        }
    }
}
