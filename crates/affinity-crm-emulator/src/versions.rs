//! v2's dated API versions (affinity-api.md §1): which operations each has, and how a request
//! names one.
//!
//! A request picks its version with `X-Affinity-Api-Version: <date>`; without it, the key's
//! default version applies (the emulator's [`crate::EmulatorConfig::default_api_version`], the
//! current one unless set). The version is echoed back on every v2 answer, as Affinity does
//! (clients read the echo to learn which version they were served). The operations come from
//! the spec digests of the three versions (`fixtures/affinity/openapi-v2-digests/` in the
//! repository; a test there checks this table against them).

/// The v2 versions, oldest first (`2024-01-01` and `2026-07-15` are locked).
pub const VERSIONS: [&str; 3] = ["2024-01-01", "2026-07-15", "2026-09-17"];

/// The current version: what a request gets when it names none.
pub const CURRENT: &str = "2026-09-17";

/// The header that names the version, in a request and in its answer.
pub const HEADER: &str = "x-affinity-api-version";

/// The operations that came after 2024-01-01: `(version that brought it, method, route)`.
/// Every other v2 operation the emulator serves is in all three versions.
pub const ADDED: &[(&str, &str, &str)] = &[
    ("2026-07-15", "DELETE", "/v2/persons/{personId}"),
    ("2026-07-15", "DELETE", "/v2/reminders/{reminderId}"),
    ("2026-07-15", "DELETE", "/v2/webhooks/{webhookId}"),
    ("2026-07-15", "GET", "/v2/duplicates/company-suggestions"),
    ("2026-07-15", "GET", "/v2/duplicates/person-suggestions"),
    ("2026-07-15", "GET", "/v2/meetings/{meetingId}"),
    ("2026-07-15", "GET", "/v2/rate-limit"),
    ("2026-07-15", "GET", "/v2/reminders/{reminderId}"),
    ("2026-07-15", "GET", "/v2/webhooks"),
    ("2026-07-15", "GET", "/v2/webhooks/{webhookId}"),
    ("2026-07-15", "POST", "/v2/persons"),
    ("2026-07-15", "POST", "/v2/webhooks"),
    ("2026-07-15", "POST", "/v2/webhooks/{webhookId}"),
    ("2026-09-17", "DELETE", "/v2/opportunities/{opportunityId}"),
    ("2026-09-17", "DELETE", "/v2/transcripts/{transcriptId}"),
    (
        "2026-09-17",
        "GET",
        "/v2/companies/{companyId}/fields/{fieldId}/values",
    ),
    ("2026-09-17", "GET", "/v2/files"),
    ("2026-09-17", "GET", "/v2/files/{fileId}"),
    (
        "2026-09-17",
        "GET",
        "/v2/lists/{listId}/list-entries/{listEntryId}/fields/{fieldId}/values",
    ),
    (
        "2026-09-17",
        "GET",
        "/v2/persons/{personId}/fields/{fieldId}/values",
    ),
    ("2026-09-17", "GET", "/v2/teams"),
    ("2026-09-17", "GET", "/v2/teams/{teamId}"),
    ("2026-09-17", "GET", "/v2/teams/{teamId}/accessible-lists"),
    ("2026-09-17", "GET", "/v2/teams/{teamId}/members"),
    ("2026-09-17", "POST", "/v2/lists/{listId}/list-entries"),
    ("2026-09-17", "POST", "/v2/opportunities/{opportunityId}"),
    ("2026-09-17", "POST", "/v2/reminders/{reminderId}"),
];

/// The version named by `raw`, if Affinity has it.
pub fn parse(raw: &str) -> Option<&'static str> {
    VERSIONS.iter().copied().find(|v| *v == raw.trim())
}

/// Whether `version` has the operation `method route` (route as the router's template).
pub fn has(version: &str, method: &str, route: &str) -> bool {
    match ADDED.iter().find(|(_, m, r)| *m == method && *r == route) {
        // Dates in `YYYY-MM-DD` compare as strings.
        Some((since, _, _)) => version >= *since,
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_have_their_operations() {
        assert!(has("2024-01-01", "GET", "/v2/companies"));
        assert!(!has("2024-01-01", "POST", "/v2/persons"));
        assert!(has("2026-07-15", "POST", "/v2/persons"));
        assert!(!has("2026-07-15", "GET", "/v2/teams"));
        assert!(has("2026-09-17", "GET", "/v2/teams"));
        assert_eq!(parse("2026-07-15"), Some("2026-07-15"));
        assert_eq!(parse("2027-01-01"), None);
        assert!(ADDED.iter().all(|(v, _, _)| VERSIONS.contains(v)));
    }
}
