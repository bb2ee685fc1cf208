//! Checks v2 answers against Affinity's OpenAPI spec, in the version each answer was given in.
//!
//! The spec digests of the three v2 versions (`fixtures/affinity/openapi-v2-digests/`: 2024-01-01,
//! 2026-07-15 and 2026-09-17) map each `METHOD /path` to its 2xx responses and hold every
//! component schema. Every answer the emulator recorded on a `/v2/` route is matched to its
//! operation in the digest of the version it answered in (the `X-Affinity-Api-Version` it echoed;
//! 2026-09-17 when none was asked for) by method and route template:
//!
//! - a 2xx answer must be one of the operation's statuses; its body is validated against the
//!   schema (OpenAPI 3.1 schemas are JSON Schema 2020-12), and a status without content (204)
//!   must have no body;
//! - an error answer (4xx, 5xx) must have the spec's `Errors` shape (the digests list no error
//!   responses; the full spec gives every operation the same ones);
//! - a 2xx answer on a route the version does not have is a failure, so a typo in a route, or
//!   an operation answered in a version that lacks it, cannot pass.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use affinity_crm_emulator::Recorded;
use serde_json::{json, Value};

/// The versions there are digests of, oldest first; the last is the current one.
pub const VERSIONS: [&str; 3] = ["2024-01-01", "2026-07-15", "2026-09-17"];
/// The version an answer is in when the request named none (the emulator's default).
pub const CURRENT: &str = "2026-09-17";

/// One version's digest: its operations by `(METHOD, route)`, its schemas, and the validators
/// compiled so far.
pub struct Digest {
    pub version: &'static str,
    pub ops: HashMap<(String, String), Value>,
    schemas: Value,
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

fn digest_path(version: &str) -> PathBuf {
    crate::decode::fixtures()
        .join("openapi-v2-digests")
        .join(format!("{version}.json"))
}

/// The digest of `version` (one of [`VERSIONS`]).
pub fn digest(version: &str) -> &'static Digest {
    static DIGESTS: OnceLock<Vec<Digest>> = OnceLock::new();
    let all = DIGESTS.get_or_init(|| VERSIONS.iter().map(|v| load(v)).collect());
    all.iter()
        .find(|d| d.version == version)
        .unwrap_or_else(|| panic!("no spec digest of version `{version}`"))
}

fn load(version: &'static str) -> Digest {
    let path = digest_path(version);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read the v2 spec digest `{}`: {e}", path.display()));
    let doc: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("invalid JSON in `{}`: {e}", path.display()));
    assert_eq!(
        doc["source"]["x-affinity-api-version"],
        version,
        "`{}` is the digest of another version",
        path.display()
    );
    let mut ops = HashMap::new();
    for (key, op) in doc["digest"]["operations"]
        .as_object()
        .expect("digest has `operations`")
    {
        let (method, route) = key.split_once(' ').expect("`METHOD /path`");
        ops.insert((method.to_string(), normalize(route)), op.clone());
    }
    Digest {
        version,
        ops,
        schemas: doc["digest"]["schemas"].clone(),
        validators: Mutex::new(HashMap::new()),
    }
}

/// `/v2/lists/{listId}/list-entries` and `/v2/lists/{id}/list-entries` both become
/// `/v2/lists/{}/list-entries`: our axum templates name their parameters differently.
pub fn normalize(route: &str) -> String {
    let mut out = String::with_capacity(route.len());
    let mut in_param = false;
    for c in route.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push_str("{}");
            }
            '}' => in_param = false,
            _ if in_param => {}
            _ => out.push(c),
        }
    }
    out
}

impl Digest {
    /// A validator for `schema`, whose `#/components/schemas/...` refs resolve in the digest.
    fn validator(&self, key: &str, schema: &Value) -> Arc<jsonschema::Validator> {
        if let Some(v) = self.validators.lock().unwrap().get(key) {
            return v.clone();
        }
        let mut root = match schema {
            Value::Object(m) => Value::Object(m.clone()),
            other => json!({ "allOf": [other] }),
        };
        root["components"] = json!({ "schemas": self.schemas });
        let validator = jsonschema::draft202012::options()
            .should_validate_formats(true)
            .build(&root)
            .unwrap_or_else(|e| {
                panic!(
                    "the {} schema for {key} does not compile: {e}",
                    self.version
                )
            });
        let validator = Arc::new(validator);
        self.validators
            .lock()
            .unwrap()
            .insert(key.to_string(), validator.clone());
        validator
    }

    /// What is wrong with one answer, if anything.
    pub fn check(&self, r: &Recorded) -> Option<String> {
        let route = normalize(&r.route);
        let what = format!(
            "{} {} ({}) -> {} [{}]",
            r.method, r.uri, r.route, r.status, self.version
        );
        if r.status >= 400 {
            let schema = json!({ "$ref": "#/components/schemas/Errors" });
            return self.validate("Errors", &schema, r, &what);
        }
        let Some(op) = self.ops.get(&(r.method.clone(), route.clone())) else {
            return Some(format!(
                "{what}: no such operation in version {}",
                self.version
            ));
        };
        let status = r.status.to_string();
        let Some(response) = op["responses"].get(&status) else {
            return Some(format!(
                "{what}: status {} is not among the operation's responses ({})",
                r.status,
                op["responses"]
                    .as_object()
                    .map(|o| o.keys().cloned().collect::<Vec<_>>().join(", "))
                    .unwrap_or_default()
            ));
        };
        let Some(schema) = response.get("application/json") else {
            // A response without content (204): there must be no body.
            return r
                .body
                .as_ref()
                .map(|b| format!("{what}: the spec gives this status no body, got {b}"));
        };
        let key = format!("{} {} {}", r.method, route, status);
        self.validate(&key, schema, r, &what)
    }

    fn validate(&self, key: &str, schema: &Value, r: &Recorded, what: &str) -> Option<String> {
        let Some(body) = &r.body else {
            return Some(format!("{what}: no JSON body"));
        };
        let validator = self.validator(key, schema);
        let errors: Vec<String> = validator
            .iter_errors(body)
            .take(10)
            .map(|e| format!("  at `{}`: {e}", e.instance_path()))
            .collect();
        if errors.is_empty() {
            None
        } else {
            let mut b = body.to_string();
            if b.len() > 2000 {
                b.truncate(2000);
                b.push('…');
            }
            Some(format!("{what}:\n{}\n  body: {b}", errors.join("\n")))
        }
    }
}

/// The version an answer was given in: the one it echoed, or the current one.
fn version_of(r: &Recorded) -> &str {
    r.api_version.as_deref().unwrap_or(CURRENT)
}

/// One line per v2 answer that does not match its version's schema for its operation and status.
pub fn check_recorded(records: &[Recorded]) -> Vec<String> {
    records
        .iter()
        .filter(|r| r.route.starts_with("/v2/"))
        .filter_map(|r| digest(version_of(r)).check(r))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(method: &str, route: &str, status: u16, body: Option<Value>) -> Recorded {
        rec_in(None, method, route, status, body)
    }

    fn rec_in(
        version: Option<&str>,
        method: &str,
        route: &str,
        status: u16,
        body: Option<Value>,
    ) -> Recorded {
        Recorded {
            method: method.into(),
            route: route.into(),
            uri: route.into(),
            status,
            body,
            api_version: version.map(String::from),
        }
    }

    fn company() -> Value {
        json!({"id": 1, "name": "Acme", "domain": "acme.co", "domains": ["acme.co"], "isGlobal": false})
    }

    fn list() -> Value {
        json!({"id": 1, "name": "Deals", "creatorId": 1, "ownerId": 1, "isPublic": true,
               "type": "company", "createdAt": "2024-01-01T12:00:00Z"})
    }

    #[test]
    fn checker_accepts_good_answers_and_refuses_bad_ones() {
        let mut no_created_at = list();
        no_created_at.as_object_mut().unwrap().remove("createdAt");
        // (record, passes?)
        let cases = [
            (rec("GET", "/v2/companies/{id}", 200, Some(company())), true),
            // A missing required key.
            (
                rec(
                    "GET",
                    "/v2/companies/{companyId}",
                    200,
                    Some(json!({"id": 1, "name": "A"})),
                ),
                false,
            ),
            // `createdAt` is required on lists by the digests (issue 17, finding 2).
            (rec("GET", "/v2/lists/{listId}", 200, Some(list())), true),
            (
                rec("GET", "/v2/lists/{listId}", 200, Some(no_created_at)),
                false,
            ),
            // A v1-style color (an int) in a v2 ranked dropdown.
            (
                rec(
                    "GET",
                    "/v2/lists/{listId}/list-entries/{listEntryId}/fields/{fieldId}",
                    200,
                    Some(json!({
                        "id": "field-1", "name": "Status", "type": "list", "enrichmentSource": null,
                        "value": {"type": "ranked-dropdown", "data": {"dropdownOptionId": 1, "text": "New", "rank": 0, "color": 3}}
                    })),
                ),
                false,
            ),
            // A typo in a route is not skipped silently.
            (rec("GET", "/v2/compnies", 200, Some(json!({}))), false),
            // A 2xx status the operation does not list.
            (rec("GET", "/v2/lists", 201, Some(json!({}))), false),
            // Errors in the spec's shape, and not.
            (
                rec(
                    "GET",
                    "/v2/lists/{id}",
                    404,
                    Some(json!({"errors": [{"code": "not-found", "message": "x"}]})),
                ),
                true,
            ),
            (
                rec(
                    "GET",
                    "/v2/lists",
                    400,
                    Some(json!({"errors": [{"code": "validation", "message": "x"}]})),
                ),
                false,
            ),
            (
                rec("POST", "/v2/notes", 400, Some(json!({"message": "plain"}))),
                false,
            ),
            // 204 with no body; 204 with one.
            (
                rec(
                    "POST",
                    "/v2/lists/{a}/list-entries/{b}/fields/{c}",
                    204,
                    None,
                ),
                true,
            ),
            (
                rec(
                    "POST",
                    "/v2/lists/{a}/list-entries/{b}/fields/{c}",
                    204,
                    Some(json!({})),
                ),
                false,
            ),
            // `POST /v2/persons` came with 2026-07-15: a 201 in 2024-01-01 cannot be.
            (
                rec_in(
                    Some("2024-01-01"),
                    "POST",
                    "/v2/persons",
                    201,
                    Some(json!({"id": 1})),
                ),
                false,
            ),
            // Teams came with 2026-09-17.
            (
                rec_in(
                    Some("2026-07-15"),
                    "GET",
                    "/v2/teams",
                    200,
                    Some(json!({"data": [], "pagination": {"nextUrl": null, "prevUrl": null}})),
                ),
                false,
            ),
            // Not a v2 route: not checked.
            (rec("GET", "/lists", 200, Some(json!([1, 2]))), true),
        ];
        for (r, ok) in cases {
            let problems = check_recorded(std::slice::from_ref(&r));
            assert_eq!(
                problems.is_empty(),
                ok,
                "{} {} {}: {problems:?}",
                r.method,
                r.route,
                r.status
            );
        }
    }

    #[test]
    fn routes_are_normalized_by_template() {
        assert_eq!(
            normalize("/v2/lists/{listId}/list-entries/{listEntryId}"),
            "/v2/lists/{}/list-entries/{}"
        );
        assert_eq!(normalize("/v2/lists"), "/v2/lists");
    }

    #[test]
    fn digests_have_the_operations_their_readme_counts() {
        for (v, n) in VERSIONS.iter().zip([87, 100, 114]) {
            assert_eq!(digest(v).ops.len(), n, "{v}");
        }
    }
}
