//! Checks v2 answers against Affinity's OpenAPI spec (`../shared/data/affinity/`).
//!
//! Every answer the emulator recorded on a `/v2/` route is matched to its operation in the
//! 2024-01-01 spec by method and route template, and its body is validated against
//! `responses[status].content["application/json"].schema` (OpenAPI 3.1 schemas are JSON
//! Schema 2020-12). Statuses an operation does not list fall back to its `default` response,
//! as OpenAPI says. Routes the 2024-01-01 spec does not describe are skipped only when they
//! are in [`NOT_IN_SPEC`]: anything else is a failure, so a typo in a route cannot pass.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use affinity_crm_emulator::Recorded;
use serde_json::{json, Value};

/// Operations the emulator serves that the 2024-01-01 spec does not describe: the 2026
/// additions (affinity-api.md §3.4, "2026 additions"). `(method, route with `{}` for every
/// path parameter)`. Their 4xx answers are still checked against the spec's generic `Errors`.
const NOT_IN_SPEC: &[(&str, &str)] = &[
    // `GET /v2/rate-limit` (beta, §4).
    ("GET", "/v2/rate-limit"),
    // Company and person field reads and writes (2026 beta): same bodies as list-entry fields.
    ("GET", "/v2/companies/{}/fields"),
    ("PATCH", "/v2/companies/{}/fields"),
    ("GET", "/v2/companies/{}/fields/{}"),
    ("POST", "/v2/companies/{}/fields/{}"),
    ("GET", "/v2/persons/{}/fields"),
    ("PATCH", "/v2/persons/{}/fields"),
    ("GET", "/v2/persons/{}/fields/{}"),
    ("POST", "/v2/persons/{}/fields/{}"),
    // Note writes (2026): create (201), update (204), delete (204).
    ("POST", "/v2/notes"),
    ("POST", "/v2/notes/{}"),
    ("DELETE", "/v2/notes/{}"),
];

/// The spec, its operations by `(METHOD, route)`, and the validators compiled so far.
struct Spec {
    doc: Value,
    ops: HashMap<(String, String), Value>,
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

fn spec_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/affinity/openapi-v2-2024-01-01.json")
}

fn spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| {
        let path = spec_path();
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "cannot read the v2 OpenAPI spec `{}`: {e}\nhint: the tests expect the shared \
                 folder beside the crate (`../shared/data/affinity/`)",
                path.display()
            )
        });
        let doc: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("invalid JSON in `{}`: {e}", path.display()));
        let mut ops = HashMap::new();
        for (route, item) in doc["paths"].as_object().expect("spec has `paths`") {
            for (method, op) in item.as_object().expect("a path item is an object") {
                if method == "parameters" {
                    continue;
                }
                ops.insert((method.to_ascii_uppercase(), normalize(route)), op.clone());
            }
        }
        Spec {
            doc,
            ops,
            validators: Mutex::new(HashMap::new()),
        }
    })
}

/// `/v2/lists/{listId}/list-entries` and `/v2/lists/{id}/list-entries` both become
/// `/v2/lists/{}/list-entries`: our axum templates name their parameters differently.
fn normalize(route: &str) -> String {
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

impl Spec {
    /// Follows a local `$ref` (`#/components/responses/404`) to its target.
    fn deref<'a>(&'a self, v: &'a Value) -> &'a Value {
        match v.get("$ref").and_then(Value::as_str) {
            Some(r) => self
                .doc
                .pointer(r.trim_start_matches('#'))
                .unwrap_or_else(|| panic!("dangling `$ref` {r} in the spec")),
            None => v,
        }
    }

    /// A validator for `schema`, whose `#/components/...` refs resolve against the spec.
    fn validator(&self, key: &str, schema: &Value) -> Arc<jsonschema::Validator> {
        if let Some(v) = self.validators.lock().unwrap().get(key) {
            return v.clone();
        }
        let mut root = match schema {
            Value::Object(m) => Value::Object(m.clone()),
            other => json!({ "allOf": [other] }),
        };
        root["components"] = json!({ "schemas": self.doc["components"]["schemas"] });
        let validator = jsonschema::draft202012::options()
            .should_validate_formats(true)
            .build(&root)
            .unwrap_or_else(|e| panic!("the spec's schema for {key} does not compile: {e}"));
        let validator = Arc::new(validator);
        self.validators
            .lock()
            .unwrap()
            .insert(key.to_string(), validator.clone());
        validator
    }

    /// What is wrong with one answer, if anything.
    fn check(&self, r: &Recorded) -> Option<String> {
        let route = normalize(&r.route);
        let what = format!("{} {} ({}) -> {}", r.method, r.uri, r.route, r.status);
        let skipped = NOT_IN_SPEC
            .iter()
            .any(|(m, p)| *m == r.method && *p == route);
        let Some(op) = self.ops.get(&(r.method.clone(), route.clone())) else {
            if !skipped {
                return Some(format!("{what}: no such operation in the spec"));
            }
            if r.status >= 400 {
                let schema = json!({ "$ref": "#/components/schemas/Errors" });
                return self.validate("Errors", &schema, r, &what);
            }
            return None;
        };
        let responses = &op["responses"];
        let status = r.status.to_string();
        let response = match responses.get(&status) {
            Some(resp) => self.deref(resp),
            None if r.status >= 400 && responses.get("default").is_some() => {
                self.deref(&responses["default"])
            }
            None => {
                return Some(format!(
                    "{what}: status {} is not among the operation's responses",
                    r.status
                ))
            }
        };
        let Some(schema) = response.pointer("/content/application~1json/schema") else {
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
            .map(|e| format!("  at `{}`: {e}", e.instance_path()))
            .collect();
        if errors.is_empty() {
            None
        } else {
            Some(format!("{what}:\n{}\n  body: {body}", errors.join("\n")))
        }
    }
}

/// One line per v2 answer that does not match the spec's schema for its operation and status.
pub fn check_recorded(records: &[Recorded]) -> Vec<String> {
    let v2: Vec<&Recorded> = records
        .iter()
        .filter(|r| r.route.starts_with("/v2/"))
        .collect();
    if v2.is_empty() {
        return Vec::new();
    }
    let spec = spec();
    v2.into_iter().filter_map(|r| spec.check(r)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(method: &str, route: &str, status: u16, body: Option<Value>) -> Recorded {
        Recorded {
            method: method.into(),
            route: route.into(),
            uri: route.into(),
            status,
            body,
        }
    }

    fn company() -> Value {
        json!({"id": 1, "name": "Acme", "domain": "acme.co", "domains": ["acme.co"], "isGlobal": false})
    }

    #[test]
    fn checker_accepts_good_answers_and_refuses_bad_ones() {
        // (record, passes?)
        let cases = [
            (rec("GET", "/v2/companies/{id}", 200, Some(company())), true),
            // An extra key where `additionalProperties` is false.
            (
                rec(
                    "GET",
                    "/v2/companies/{id}",
                    200,
                    Some({
                        let mut c = company();
                        c["extra"] = json!(1);
                        c
                    }),
                ),
                false,
            ),
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
            // A 404 in the spec's shape, and one with a stray `param`.
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
                    "/v2/lists/{id}",
                    404,
                    Some(json!({"errors": [{"code": "not-found", "message": "x", "param": "id"}]})),
                ),
                false,
            ),
            // 400 validation needs its `param`.
            (
                rec(
                    "GET",
                    "/v2/lists",
                    400,
                    Some(json!({"errors": [{"code": "validation", "message": "x"}]})),
                ),
                false,
            ),
            // A status only covered by `default` (422).
            (
                rec(
                    "GET",
                    "/v2/companies/{id}",
                    422,
                    Some(json!({"errors": [{"code": "unprocessable-entity", "message": "x"}]})),
                ),
                true,
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
            // Skipped 2026 routes, but their errors still have the error shape.
            (
                rec("POST", "/v2/notes", 201, Some(json!({"anything": true}))),
                true,
            ),
            (
                rec("POST", "/v2/notes", 400, Some(json!({"message": "plain"}))),
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
}
