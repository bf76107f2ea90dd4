//! The model back to JSON Schema (2020-12): one operation's parameters as a
//! single object schema, with every named type it reaches under `$defs`.
//!
//! This is what a "one MCP tool per endpoint" server would put in each tool's
//! `inputSchema`; the token benchmark uses it to price that approach against
//! codemode's two tools.

use crate::model::*;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// `{type: object, properties: {…params, body}, required: […], $defs: {…}}`.
pub fn operation_input_schema(api: &Api, op: &Operation) -> Value {
    let mut defs = BTreeMap::new();
    let mut properties = Map::new();
    let mut required = Vec::new();
    for p in &op.parameters {
        let mut s = to_json(api, &p.schema, &mut defs);
        if let (Some(d), Value::Object(m)) = (&p.description, &mut s) {
            m.entry("description").or_insert_with(|| json!(d));
        }
        properties.insert(p.key.clone(), s);
        if p.required {
            required.push(json!(p.key));
        }
    }
    if let Some(body) = &op.request_body {
        properties.insert(op.body_key.clone(), to_json(api, &body.schema, &mut defs));
        if body.required {
            required.push(json!(op.body_key));
        }
    }
    let mut root = Map::new();
    root.insert("type".into(), json!("object"));
    root.insert("properties".into(), Value::Object(properties));
    if !required.is_empty() {
        root.insert("required".into(), Value::Array(required));
    }
    if !defs.is_empty() {
        root.insert("$defs".into(), Value::Object(defs.into_iter().collect()));
    }
    Value::Object(root)
}

/// One schema; named types it references are added to `defs` (once each,
/// with their own references, so cycles end).
pub fn to_json(api: &Api, schema: &Schema, defs: &mut BTreeMap<String, Value>) -> Value {
    let mut out = match &schema.kind {
        SchemaKind::Any => json!({}),
        SchemaKind::Never => json!({"not": {}}),
        SchemaKind::Null => json!({"type": "null"}),
        SchemaKind::Boolean => json!({"type": "boolean"}),
        SchemaKind::Integer => json!({"type": "integer"}),
        SchemaKind::Number => json!({"type": "number"}),
        SchemaKind::String => json!({"type": "string"}),
        SchemaKind::Enum { values } => json!({ "enum": values }),
        SchemaKind::Array { items } => json!({"type": "array", "items": to_json(api, items, defs)}),
        SchemaKind::Object(obj) => {
            let mut props = Map::new();
            let mut required = Vec::new();
            for p in &obj.properties {
                props.insert(p.name.clone(), to_json(api, &p.schema, defs));
                if p.required {
                    required.push(json!(p.name));
                }
            }
            let mut m = Map::new();
            m.insert("type".into(), json!("object"));
            if !props.is_empty() {
                m.insert("properties".into(), Value::Object(props));
            }
            if !required.is_empty() {
                m.insert("required".into(), Value::Array(required));
            }
            if let Some(extra) = &obj.additional {
                if !matches!(extra.kind, SchemaKind::Any) {
                    m.insert("additionalProperties".into(), to_json(api, extra, defs));
                }
            }
            Value::Object(m)
        }
        SchemaKind::Ref { id } => {
            let ty = api.ty(*id);
            if !defs.contains_key(&ty.name) {
                // Reserve the name first: a cycle back to this type stops here.
                defs.insert(ty.name.clone(), Value::Null);
                let body = to_json(api, &ty.schema, defs);
                defs.insert(ty.name.clone(), body);
            }
            json!({ "$ref": format!("#/$defs/{}", ty.name) })
        }
        SchemaKind::Union { variants, .. } => {
            json!({ "anyOf": variants.iter().map(|v| to_json(api, v, defs)).collect::<Vec<_>>() })
        }
        SchemaKind::Intersection { parts } => {
            json!({ "allOf": parts.iter().map(|p| to_json(api, p, defs)).collect::<Vec<_>>() })
        }
    };
    if let Value::Object(m) = &mut out {
        if let Some(d) = &schema.description {
            m.insert("description".into(), json!(d));
        }
        if let Some(f) = &schema.format {
            m.insert("format".into(), json!(f));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_body_and_reachable_types_with_cycles() {
        let spec = r##"
openapi: 3.0.0
info: { title: t, version: "1" }
paths:
  /nodes/{id}:
    put:
      operationId: putNode
      parameters:
        - { name: id, in: path, required: true, schema: { type: string }, description: Node id. }
      requestBody:
        required: true
        content:
          application/json:
            schema: { $ref: "#/components/schemas/Node" }
      responses: { "200": { description: ok } }
components:
  schemas:
    Node:
      type: object
      properties:
        children: { type: array, items: { $ref: "#/components/schemas/Node" } }
"##;
        let api = crate::load_str("t.yaml", spec).expect("loads");
        let schema = operation_input_schema(&api, &api.operations[0]);
        assert_eq!(schema["required"], json!(["id", "body"]));
        assert_eq!(schema["properties"]["id"]["description"], "Node id.");
        assert_eq!(schema["properties"]["body"]["$ref"], "#/$defs/Node");
        assert_eq!(
            schema["$defs"]["Node"]["properties"]["children"]["items"]["$ref"],
            "#/$defs/Node"
        );
    }
}
