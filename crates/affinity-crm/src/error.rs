//! What a request can end in, and how an Affinity error answer is read.

use std::fmt;
use std::time::Duration;

use super::KeySource;

/// What the retries cost before the client gave up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RetrySpent {
    /// Attempts made, the first included.
    pub attempts: u32,
    /// Time from the first attempt to giving up.
    pub elapsed: Duration,
}

impl fmt::Display for RetrySpent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "after {} attempt{} in {:.1}s",
            self.attempts,
            if self.attempts == 1 { "" } else { "s" },
            self.elapsed.as_secs_f64()
        )
    }
}

/// The kind of a merged entity (affinity-api.md §8.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntityKind {
    /// A person.
    Person,
    /// An organization (v2: company).
    Organization,
    /// An opportunity.
    Opportunity,
    /// Neither the message nor the path said which.
    Unknown,
}

impl fmt::Display for EntityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EntityKind::Person => "person",
            EntityKind::Organization => "organization",
            EntityKind::Opportunity => "opportunity",
            EntityKind::Unknown => "entity",
        })
    }
}

/// Why a request to Affinity failed. `request` is `METHOD /path`, without the query.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 401. Names where the key came from, never the key.
    #[error("{request}: Affinity refused {key_source} (401): {message}\nhint: check that the key is current and belongs to this Affinity tenant")]
    Auth {
        /// `METHOD /path`.
        request: String,
        /// Where the refused key came from.
        key_source: KeySource,
        /// Affinity's message.
        message: String,
    },
    /// 403: the key's user may not do this.
    #[error("{request}: forbidden (403): {message}")]
    Forbidden {
        /// `METHOD /path`.
        request: String,
        /// Affinity's message.
        message: String,
    },
    /// 404.
    #[error("{request}: not found (404): {message}")]
    NotFound {
        /// `METHOD /path`.
        request: String,
        /// Affinity's message.
        message: String,
    },
    /// 422 for a person or organization merged into another: use `new_id` instead.
    #[error(
        "{request}: {entity} {old_id} was merged into {new_id}\nhint: use id {new_id} instead"
    )]
    Merged {
        /// `METHOD /path`.
        request: String,
        /// What was merged.
        entity: EntityKind,
        /// The id asked for, merged away.
        old_id: i64,
        /// The surviving id.
        new_id: i64,
    },
    /// 400 or 422 with Affinity's message (and, in v2, the parameter it names).
    #[error("{request}: rejected ({status}): {message}{}", param.as_ref().map(|p| format!(" (`{p}`)")).unwrap_or_default())]
    Validation {
        /// `METHOD /path`.
        request: String,
        /// 400 or 422.
        status: u16,
        /// Affinity's message.
        message: String,
        /// The parameter it names (v2).
        param: Option<String>,
    },
    /// Still 429 when the retry budget ran out, or the monthly quota is spent.
    #[error("{request}: rate limited (429) {retry}: {message}{}", reset.map(|r| format!("; the limit resets in {}s", r.as_secs())).unwrap_or_default())]
    RateLimited {
        /// `METHOD /path`.
        request: String,
        /// Affinity's message.
        message: String,
        /// When the limit that was hit resets, if the answer said.
        reset: Option<Duration>,
        /// What the waits cost.
        retry: RetrySpent,
    },
    /// 5xx (or 408) when the retry budget ran out, or a write that is not safe to repeat.
    #[error("{request}: server error ({status}) {retry}: {message}")]
    Server {
        /// `METHOD /path`.
        request: String,
        /// The status (5xx or 408).
        status: u16,
        /// Affinity's message, or the body's text.
        message: String,
        /// What the retries cost.
        retry: RetrySpent,
    },
    /// Another status Affinity uses (405, 409, 415, ...): a retry will not help.
    #[error("{request}: unexpected status {status}: {message}")]
    Status {
        /// `METHOD /path`.
        request: String,
        /// The status.
        status: u16,
        /// Affinity's message, or the body's text.
        message: String,
    },
    /// The connection failed, broke mid-answer or timed out.
    #[error("{request}: network failure {retry}: {message}")]
    Transport {
        /// `METHOD /path`.
        request: String,
        /// What failed, with its causes.
        message: String,
        /// Whether it was a timeout.
        timeout: bool,
        /// What the retries cost.
        retry: RetrySpent,
    },
    /// Not sent: the client's [`crate::WriteGate`] refused the write (the process may no
    /// longer write, e.g. a job whose lock another process took over while it was paused).
    #[error("{request}: not sent: {reason}")]
    WriteRefused {
        /// `METHOD /path`.
        request: String,
        /// Why the gate refused it.
        reason: String,
    },
    /// The answer was not the JSON we expected.
    #[error("{request}: cannot read Affinity's answer as {what}: {message}")]
    Decode {
        /// `METHOD /path`.
        request: String,
        /// What the answer should have been.
        what: String,
        /// Why it is not.
        message: String,
    },
}

impl Error {
    /// The retry cost, on the variants that were retried.
    pub fn retry_spent(&self) -> Option<RetrySpent> {
        match self {
            Error::RateLimited { retry, .. }
            | Error::Server { retry, .. }
            | Error::Transport { retry, .. } => Some(*retry),
            _ => None,
        }
    }

    /// Whether trying the same request later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Error::RateLimited { .. } | Error::Server { .. } | Error::Transport { .. }
        )
    }

    /// The HTTP status, when there was an answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Auth { .. } => Some(401),
            Error::Forbidden { .. } => Some(403),
            Error::NotFound { .. } => Some(404),
            Error::Merged { .. } => Some(422),
            Error::RateLimited { .. } => Some(429),
            Error::Validation { status, .. }
            | Error::Server { status, .. }
            | Error::Status { status, .. } => Some(*status),
            Error::Transport { .. } | Error::Decode { .. } | Error::WriteRefused { .. } => None,
        }
    }
}

/// Affinity's message and parameter from an error body.
///
/// v2 documents `{"errors":[{"code","message","param"?}]}`; v1's body is undocumented \[I\]:
/// accept `{"errors":["..."]}`, `{"errors":[{"message"}]}`, `{"message"}` and `{"error"}`
/// (affinity-api.md §2.1, §3.1), several errors joined with `; `. Anything else gives the
/// body's text, cut short.
pub fn read_error_body(body: &[u8]) -> (String, Option<String>) {
    let text = String::from_utf8_lossy(body);
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) else {
        return (cut(text.trim()), None);
    };
    let mut messages = Vec::new();
    let mut param = None;
    if let Some(errors) = v.get("errors").and_then(|e| e.as_array()) {
        for e in errors {
            match e {
                serde_json::Value::String(s) => messages.push(s.clone()),
                serde_json::Value::Object(o) => {
                    if let Some(m) = o.get("message").and_then(|m| m.as_str()) {
                        messages.push(m.to_string());
                    }
                    if param.is_none() {
                        param = o.get("param").and_then(|p| p.as_str()).map(String::from);
                    }
                }
                _ => {}
            }
        }
    }
    if messages.is_empty() {
        for key in ["message", "error"] {
            match v.get(key) {
                Some(serde_json::Value::String(s)) => {
                    messages.push(s.clone());
                    break;
                }
                Some(serde_json::Value::Object(o)) => {
                    if let Some(m) = o.get("message").and_then(|m| m.as_str()) {
                        messages.push(m.to_string());
                        break;
                    }
                }
                _ => {}
            }
        }
    }
    if messages.is_empty() {
        return (cut(text.trim()), param);
    }
    (messages.join("; "), param)
}

fn cut(s: &str) -> String {
    if s.chars().count() > 300 {
        let mut out: String = s.chars().take(300).collect();
        out.push('…');
        out
    } else if s.is_empty() {
        "(no message)".to_string()
    } else {
        s.to_string()
    }
}

/// Reads "<old> no longer exists as it has been merged into <new>", maybe prefixed by
/// `organization_id: ` or `person_id: ` (affinity-api.md §8.4). Gives the kind the prefix
/// names (or `Unknown`), the old id and the new id.
pub fn parse_merged(message: &str) -> Option<(EntityKind, i64, i64)> {
    const MID: &str = " no longer exists as it has been merged into ";
    let at = message.find(MID)?;
    let before = message[..at].trim();
    let after = &message[at + MID.len()..];
    let (prefix, old) = match before.rsplit_once(|c: char| !c.is_ascii_digit()) {
        Some((p, digits)) => (p.trim_end_matches([':', ' ']).trim(), digits),
        None => ("", before),
    };
    let old: i64 = old.parse().ok()?;
    let new_digits: String = after
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    let new: i64 = new_digits.parse().ok()?;
    let kind = match prefix.rsplit(' ').next().unwrap_or("") {
        "organization_id" | "organization" | "company_id" | "company" => EntityKind::Organization,
        "person_id" | "person" => EntityKind::Person,
        "opportunity_id" | "opportunity" => EntityKind::Opportunity,
        _ => EntityKind::Unknown,
    };
    Some((kind, old, new))
}

/// The kind of entity a path is about, for a merged message without a prefix.
pub fn kind_of_path(path: &str) -> EntityKind {
    let p = path.strip_prefix("/v2").unwrap_or(path);
    let first = p.trim_start_matches('/').split('/').next().unwrap_or("");
    match first {
        "organizations" | "companies" => EntityKind::Organization,
        "persons" => EntityKind::Person,
        "opportunities" => EntityKind::Opportunity,
        _ => EntityKind::Unknown,
    }
}

/// Classifies a final (not retried) error status into an [`Error`].
pub fn classify(
    request: &str,
    path: &str,
    status: u16,
    body: &[u8],
    key_source: &KeySource,
) -> Error {
    let (message, param) = read_error_body(body);
    let request = request.to_string();
    match status {
        401 => Error::Auth {
            request,
            key_source: key_source.clone(),
            message,
        },
        403 => Error::Forbidden { request, message },
        404 => Error::NotFound { request, message },
        400 | 422 => {
            if let Some((kind, old_id, new_id)) = parse_merged(&message) {
                let entity = match kind {
                    EntityKind::Unknown => kind_of_path(path),
                    k => k,
                };
                return Error::Merged {
                    request,
                    entity,
                    old_id,
                    new_id,
                };
            }
            Error::Validation {
                request,
                status,
                message,
                param,
            }
        }
        _ => Error::Status {
            request,
            status,
            message,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_in_every_shape() {
        let cases: &[(&str, &str, Option<&str>)] = &[
            (
                r#"{"errors":[{"code":"validation","message":"bad id","param":"ids"}]}"#,
                "bad id",
                Some("ids"),
            ),
            (r#"{"errors":["one","two"]}"#, "one; two", None),
            (r#"{"errors":[{"message":"m"}]}"#, "m", None),
            (r#"{"message":"plain"}"#, "plain", None),
            (r#"{"error":"e"}"#, "e", None),
            (r#"{"error":{"message":"nested"}}"#, "nested", None),
            ("<html>Bad gateway</html>", "<html>Bad gateway</html>", None),
            ("", "(no message)", None),
            (r#"{"errors":[]}"#, r#"{"errors":[]}"#, None),
        ];
        for (body, msg, param) in cases {
            let (m, p) = read_error_body(body.as_bytes());
            assert_eq!(m, *msg, "{body}");
            assert_eq!(p.as_deref(), *param, "{body}");
        }
    }

    #[test]
    fn merged_messages() {
        use EntityKind::*;
        type Case<'a> = (&'a str, Option<(EntityKind, i64, i64)>);
        let cases: &[Case] = &[
            (
                "organization_id: 299 no longer exists as it has been merged into 201",
                Some((Organization, 299, 201)),
            ),
            (
                "person_id: 199 no longer exists as it has been merged into 101",
                Some((Person, 199, 101)),
            ),
            (
                "299 no longer exists as it has been merged into 201",
                Some((Unknown, 299, 201)),
            ),
            (
                "299 no longer exists as it has been merged into 201.",
                Some((Unknown, 299, 201)),
            ),
            ("organization_id: not found", None),
            ("x no longer exists as it has been merged into 3", None),
        ];
        for (m, want) in cases {
            assert_eq!(parse_merged(m), *want, "{m}");
        }
    }

    #[test]
    fn classification_by_status() {
        let ks = KeySource::Env("AFFINITY_API_KEY".into());
        let v1 = |m: &str| format!(r#"{{"errors":["{m}"]}}"#);
        let e = classify("GET /x", "/x", 401, v1("Unauthorized").as_bytes(), &ks);
        assert!(matches!(e, Error::Auth { .. }));
        assert!(e.to_string().contains("the key from `AFFINITY_API_KEY`"));
        assert!(matches!(
            classify("GET /x", "/x", 403, b"", &ks),
            Error::Forbidden { .. }
        ));
        assert!(matches!(
            classify("GET /x", "/x", 404, b"", &ks),
            Error::NotFound { .. }
        ));
        let e = classify(
            "GET /v2/companies/299",
            "/v2/companies/299",
            422,
            br#"{"errors":[{"code":"unprocessable-entity","message":"299 no longer exists as it has been merged into 201"}]}"#,
            &ks,
        );
        assert!(
            matches!(
                e,
                Error::Merged {
                    entity: EntityKind::Organization,
                    old_id: 299,
                    new_id: 201,
                    ..
                }
            ),
            "{e:?}"
        );
        let e = classify(
            "POST /v2/x",
            "/v2/x",
            400,
            br#"{"errors":[{"code":"validation","message":"bad","param":"name"}]}"#,
            &ks,
        );
        match e {
            Error::Validation {
                status: 400,
                message,
                param,
                ..
            } => {
                assert_eq!(message, "bad");
                assert_eq!(param.as_deref(), Some("name"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            classify("GET /x", "/x", 409, b"", &ks),
            Error::Status { status: 409, .. }
        ));
    }
}
