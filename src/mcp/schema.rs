//! Tool definitions: each tool's input schema comes from its own argument type (schemars,
//! JSON Schema 2020-12, as rmcp generates it), with an example; write tools get `plan_token`;
//! at listing time the schemas that name fields get the mirror's field names and dropdown
//! options as enums.

use std::sync::Arc;

use rmcp::model::{JsonObject, Tool};
use schemars::JsonSchema;
use serde_json::{json, Value as Json};

use affsync_core::mapping::catalog::Catalog;

use super::{annotations, Group, ToolSpec};

/// Builds a tool of `group` from its argument type.
pub fn tool<P: JsonSchema + 'static>(
    name: &'static str,
    group: Group,
    title: &str,
    description: &str,
    example: Json,
) -> ToolSpec {
    let mut schema: JsonObject = rmcp::handler::server::tool::schema_for_input::<P>()
        .unwrap_or_else(|e| panic!("the input schema of `{name}`: {e}"))
        .as_ref()
        .clone();
    schema.entry("properties").or_insert_with(|| json!({}));
    if group == Group::Write {
        if let Some(Json::Object(props)) = schema.get_mut("properties") {
            props.insert(
                "plan_token".into(),
                json!({
                    "type": ["string", "null"],
                    "description": "Leave it out to get the plan (nothing is written). To apply that plan, call again with exactly the same arguments and the `plan_token` the plan gave.",
                    "pattern": "^plan-[0-9a-f]{32}$",
                    "examples": ["plan-0123456789abcdef0123456789abcdef"],
                }),
            );
        }
    }
    schema.insert("examples".into(), json!([example.clone()]));
    let cost = match group {
        Group::Mirror => "Cost: no API call (answered from the local mirror).",
        Group::Live => "Cost: API calls from Affinity's budget (see the description), paced by the client.",
        Group::Write => "Guarded write: refused unless the server runs with --allow-writes. The first call returns the plan (old → new, the calls it costs) and a plan_token; nothing is written until the same call is repeated with that plan_token.",
    };
    let destructive = name.starts_with("delete_") || name.starts_with("merge_");
    let tool = Tool::new(name, format!("{description}\n\n{cost}"), Arc::new(schema))
        .with_title(title)
        .with_annotations(annotations(group, title, destructive));
    ToolSpec {
        name,
        group,
        tool,
        example,
    }
}

/// The tools whose schemas take the mirror's field names (and, per dropdown field, its
/// options as an enum of `value`).
pub fn with_catalog(name: &str, tool: &mut Tool, catalog: &Catalog) {
    if !matches!(name, "set_fields" | "search_list") {
        return;
    }
    let mut schema = tool.input_schema.as_ref().clone();
    let mut names: Vec<String> = catalog
        .fields
        .iter()
        .filter(|f| name == "search_list" || !f.is_affinity_owned())
        .map(|f| f.name.clone())
        .collect();
    names.sort();
    names.dedup();
    if names.is_empty() || names.len() > 500 {
        return;
    }
    // The item type of `values` (set_fields) or `filters` (search_list), wherever schemars put it.
    let item = if name == "set_fields" {
        "FieldAssignment"
    } else {
        "ValueFilterArg"
    };
    let Some(Json::Object(defs)) = schema.get_mut("$defs") else {
        return;
    };
    let Some(Json::Object(def)) = defs.get_mut(item) else {
        return;
    };
    if let Some(Json::Object(props)) = def.get_mut("properties") {
        if let Some(Json::Object(field)) = props.get_mut("field") {
            field.insert("enum".into(), json!(names));
        }
    }
    if name == "set_fields" {
        let mut rules = Vec::new();
        for f in &catalog.fields {
            if f.options.is_empty() || f.is_affinity_owned() {
                continue;
            }
            let texts: Vec<&str> = f.options.iter().map(|o| o.text.as_str()).collect();
            rules.push(json!({
                "if": { "properties": { "field": { "const": f.name } }, "required": ["field"] },
                "then": { "properties": { "value": { "anyOf": [
                    { "enum": texts },
                    { "type": "string", "pattern": ";" },
                    { "type": "null" },
                ] } } },
            }));
            if rules.len() >= 100 {
                break;
            }
        }
        if !rules.is_empty() {
            def.insert("allOf".into(), Json::Array(rules));
        }
    }
    tool.input_schema = Arc::new(schema);
}
