//! JSON Schema (OpenAPI's dialects: 2.0, 3.0, 3.1) to [`Schema`].
//!
//! Every `$ref` in a schema becomes a named type ([`SchemaKind::Ref`]) that is
//! converted later from a work queue, never recursively, so circular schemas
//! and long `$ref` chains cost neither stack nor repeated work.

use crate::documents::{DocId, Documents, Target};
use crate::model::{ObjectSchema, Property, Schema, SchemaKind, TypeId, Warning};
use serde_json::{Map, Value};
use std::collections::{HashMap, VecDeque};

/// Inline nesting deeper than this is treated as `unknown` (with a warning);
/// real specs stay far below it.
const MAX_INLINE_DEPTH: usize = 64;

/// A named type being built: its spec name and, once converted, its schema.
#[derive(Debug)]
pub(crate) struct PendingType {
    pub(crate) source_name: String,
    pub(crate) schema: Schema,
}

/// Converts schemas and owns the named types and warnings found on the way.
#[derive(Debug)]
pub(crate) struct SchemaConverter {
    pub(crate) docs: Documents,
    pub(crate) types: Vec<PendingType>,
    pub(crate) warnings: Vec<Warning>,
    type_ids: HashMap<(DocId, String), TypeId>,
    queue: VecDeque<(TypeId, Target)>,
}

/// Escapes one JSON pointer segment (`/` → `~1`, `~` → `~0`).
pub(crate) fn pointer_segment(s: &str) -> String {
    if s.contains(['~', '/']) {
        s.replace('~', "~0").replace('/', "~1")
    } else {
        s.to_string()
    }
}

/// `base` + `/` + escaped `segment`.
pub(crate) fn child(base: &str, segment: &str) -> String {
    format!("{base}/{}", pointer_segment(segment))
}

impl SchemaConverter {
    pub(crate) fn new(docs: Documents) -> SchemaConverter {
        SchemaConverter {
            docs,
            types: Vec::new(),
            warnings: Vec::new(),
            type_ids: HashMap::new(),
            queue: VecDeque::new(),
        }
    }

    pub(crate) fn warn(&mut self, doc: DocId, pointer: &str, message: impl Into<String>) {
        self.warnings.push(Warning {
            location: self.docs.describe(doc, pointer),
            message: message.into(),
        });
    }

    /// Registers the schema at `pointer` in `doc` as a named type (once) and
    /// returns its id; its conversion is queued.
    pub(crate) fn named_type(&mut self, target: Target, source_name: Option<&str>) -> TypeId {
        let key = (target.doc, target.pointer.clone());
        if let Some(id) = self.type_ids.get(&key) {
            return *id;
        }
        let id = TypeId(self.types.len());
        let source_name = match source_name {
            Some(n) => n.to_string(),
            None => self.name_for(&target),
        };
        self.types.push(PendingType {
            source_name,
            schema: Schema::default(),
        });
        self.type_ids.insert(key, id);
        self.queue.push_back((id, target));
        id
    }

    /// Converts every queued named type (and the ones they reference).
    pub(crate) fn drain(&mut self) {
        while let Some((id, target)) = self.queue.pop_front() {
            let schema = match target.value() {
                Some(v) => self.convert(target.doc, &target.pointer, v, 0),
                None => Schema::default(),
            };
            self.types[id.0].schema = schema;
        }
    }

    /// A spec name for a `$ref` target: the component key, the last
    /// meaningful pointer segment, or the file's stem for a whole-file `$ref`.
    fn name_for(&self, target: &Target) -> String {
        const STRUCTURAL: &[&str] = &[
            "schema",
            "schemas",
            "properties",
            "items",
            "allOf",
            "oneOf",
            "anyOf",
            "not",
            "additionalProperties",
            "content",
            "definitions",
            "components",
            "$defs",
            "responses",
            "parameters",
            "requestBody",
        ];
        let segment = target
            .pointer
            .rsplit('/')
            .map(|s| s.replace("~1", "/").replace("~0", "~"))
            .find(|s| {
                !s.is_empty()
                    && !STRUCTURAL.contains(&s.as_str())
                    && !s.contains('/')
                    && !s.chars().all(|c| c.is_ascii_digit())
            });
        if let Some(s) = segment {
            return s;
        }
        let location = self.docs.get(target.doc).location.to_string();
        let file = location.rsplit(['/', '\\']).next().unwrap_or(&location);
        let stem = file.split('.').next().unwrap_or(file);
        if stem.is_empty() {
            "Schema".to_string()
        } else {
            stem.to_string()
        }
    }

    /// Converts the schema `v`, found at `pointer` in `doc`.
    pub(crate) fn convert(&mut self, doc: DocId, pointer: &str, v: &Value, depth: usize) -> Schema {
        let obj = match v {
            Value::Object(o) => o,
            Value::Bool(true) => return Schema::of(SchemaKind::Any),
            Value::Bool(false) => return Schema::of(SchemaKind::Never),
            _ => {
                self.warn(
                    doc,
                    pointer,
                    "schema is not an object; its type is `unknown`",
                );
                return Schema::default();
            }
        };
        if depth > MAX_INLINE_DEPTH {
            self.warn(
                doc,
                pointer,
                format!(
                    "schema nests more than {MAX_INLINE_DEPTH} levels deep; the rest is `unknown`"
                ),
            );
            return Schema::default();
        }
        let nullable = obj.get("nullable").and_then(Value::as_bool) == Some(true)
            || obj.get("x-nullable").and_then(Value::as_bool) == Some(true);

        let mut schema = if let Some(reference) = obj.get("$ref").and_then(Value::as_str) {
            self.reference(doc, pointer, reference)
        } else {
            self.structure(doc, pointer, obj, depth)
        };
        if nullable {
            schema = with_null(schema);
        }
        apply_metadata(&mut schema, obj);
        schema
    }

    /// A `$ref` in schema position: a named type, or `unknown` with a warning.
    pub(crate) fn reference(&mut self, doc: DocId, pointer: &str, reference: &str) -> Schema {
        match self.docs.resolve(doc, reference) {
            Ok(target) => Schema::of(SchemaKind::Ref {
                id: self.named_type(target, None),
            }),
            Err(problem) => {
                self.warn(
                    doc,
                    pointer,
                    format!("$ref {reference:?} {problem}; that type is `unknown`"),
                );
                Schema::default()
            }
        }
    }

    fn structure(
        &mut self,
        doc: DocId,
        pointer: &str,
        obj: &Map<String, Value>,
        depth: usize,
    ) -> Schema {
        let composed = ["allOf", "oneOf", "anyOf"]
            .iter()
            .any(|k| obj.get(*k).is_some_and(Value::is_array));
        let mut parts: Vec<Schema> = Vec::new();
        if let Some(own) = self.own_kind(doc, pointer, obj, depth, composed) {
            parts.push(Schema::of(own));
        }
        if let Some(Value::Array(items)) = obj.get("allOf") {
            let base = child(pointer, "allOf");
            for (i, item) in items.iter().enumerate() {
                parts.push(self.convert(doc, &child(&base, &i.to_string()), item, depth + 1));
            }
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(Value::Array(items)) = obj.get(key) {
                let base = child(pointer, key);
                let variants: Vec<Schema> = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        self.convert(doc, &child(&base, &i.to_string()), item, depth + 1)
                    })
                    .collect();
                let discriminator = obj
                    .get("discriminator")
                    .and_then(|d| d.get("propertyName"))
                    .and_then(Value::as_str)
                    .map(str::to_string);
                parts.push(union(variants, discriminator));
            }
        }
        match parts.len() {
            0 => Schema::default(),
            1 => parts.pop().unwrap_or_default(),
            _ => Schema::of(SchemaKind::Intersection { parts }),
        }
    }

    /// The schema's own type (`type`, `enum`, `const`, `properties`,
    /// `items`), if it states one. A bare `type: object` beside
    /// `allOf`/`oneOf`/`anyOf` adds nothing and is dropped.
    fn own_kind(
        &mut self,
        doc: DocId,
        pointer: &str,
        obj: &Map<String, Value>,
        depth: usize,
        composed: bool,
    ) -> Option<SchemaKind> {
        if let Some(c) = obj.get("const") {
            return Some(SchemaKind::Enum {
                values: literal_values(std::slice::from_ref(c)),
            });
        }
        if let Some(Value::Array(values)) = obj.get("enum") {
            let values = literal_values(values);
            if values.is_empty() {
                return Some(SchemaKind::Any);
            }
            return Some(SchemaKind::Enum { values });
        }
        let types: Vec<&str> = match obj.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ => {
                if obj.contains_key("properties")
                    || obj.contains_key("additionalProperties")
                    || obj.contains_key("patternProperties")
                {
                    vec!["object"]
                } else if obj.contains_key("items") || obj.contains_key("prefixItems") {
                    vec!["array"]
                } else {
                    Vec::new()
                }
            }
        };
        let mut kinds: Vec<SchemaKind> = Vec::with_capacity(types.len());
        for t in &types {
            let kind = match *t {
                "null" => SchemaKind::Null,
                "boolean" => SchemaKind::Boolean,
                "integer" => SchemaKind::Integer,
                "number" => SchemaKind::Number,
                "string" | "file" => SchemaKind::String,
                "array" => self.array(doc, pointer, obj, depth),
                "object" => {
                    let has_shape = obj.contains_key("properties")
                        || obj.contains_key("additionalProperties")
                        || obj.contains_key("patternProperties");
                    if composed && !has_shape {
                        continue;
                    }
                    self.object(doc, pointer, obj, depth)
                }
                other => {
                    self.warn(
                        doc,
                        pointer,
                        format!("unknown type {other:?}; treated as `unknown`"),
                    );
                    SchemaKind::Any
                }
            };
            kinds.push(kind);
        }
        match kinds.len() {
            0 => None,
            1 => kinds.pop(),
            _ => Some(SchemaKind::Union {
                variants: kinds.into_iter().map(Schema::of).collect(),
                discriminator: None,
            }),
        }
    }

    fn array(
        &mut self,
        doc: DocId,
        pointer: &str,
        obj: &Map<String, Value>,
        depth: usize,
    ) -> SchemaKind {
        let items = match (obj.get("items"), obj.get("prefixItems")) {
            (Some(Value::Array(tuple)), _) | (None, Some(Value::Array(tuple))) => {
                let base = child(pointer, "items");
                let variants = tuple
                    .iter()
                    .enumerate()
                    .map(|(i, t)| self.convert(doc, &child(&base, &i.to_string()), t, depth + 1))
                    .collect();
                union(variants, None)
            }
            (Some(items), _) => self.convert(doc, &child(pointer, "items"), items, depth + 1),
            _ => Schema::default(),
        };
        SchemaKind::Array {
            items: Box::new(items),
        }
    }

    fn object(
        &mut self,
        doc: DocId,
        pointer: &str,
        obj: &Map<String, Value>,
        depth: usize,
    ) -> SchemaKind {
        let required: Vec<&str> = match obj.get("required") {
            Some(Value::Array(r)) => r.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let mut properties = Vec::new();
        // Some multi-file specs `$ref` the whole `properties` map.
        let mut props_at = (doc, child(pointer, "properties"), None);
        if let Some(reference) = obj
            .get("properties")
            .and_then(|p| p.get("$ref"))
            .and_then(Value::as_str)
        {
            match self.docs.resolve(doc, reference) {
                Ok(target) => props_at = (target.doc, target.pointer.clone(), Some(target)),
                Err(problem) => self.warn(
                    doc,
                    &props_at.1,
                    format!("$ref {reference:?} {problem}; these properties are skipped"),
                ),
            }
        }
        let (props_doc, base, target) = props_at;
        let props = match &target {
            Some(t) => t.value(),
            None => obj.get("properties"),
        };
        if let Some(Value::Object(props)) = props.filter(|p| p.get("$ref").is_none()) {
            for (name, prop) in props {
                let schema = self.convert(props_doc, &child(&base, name), prop, depth + 1);
                properties.push(Property {
                    name: name.clone(),
                    required: required.contains(&name.as_str()),
                    schema,
                });
            }
        }
        let additional = match obj.get("additionalProperties") {
            Some(Value::Bool(false)) => None,
            Some(Value::Bool(true)) => Some(Box::new(Schema::default())),
            Some(schema @ Value::Object(_)) => Some(Box::new(self.convert(
                doc,
                &child(pointer, "additionalProperties"),
                schema,
                depth + 1,
            ))),
            _ => match obj.get("patternProperties") {
                Some(Value::Object(patterns)) if !patterns.is_empty() => {
                    let base = child(pointer, "patternProperties");
                    let variants = patterns
                        .iter()
                        .map(|(k, s)| self.convert(doc, &child(&base, k), s, depth + 1))
                        .collect();
                    Some(Box::new(union(variants, None)))
                }
                _ if properties.is_empty() => Some(Box::new(Schema::default())),
                _ => None,
            },
        };
        SchemaKind::Object(Box::new(ObjectSchema {
            properties,
            additional,
        }))
    }
}

/// Keeps the enum values TypeScript can write as literal types.
fn literal_values(values: &[Value]) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::with_capacity(values.len());
    for v in values {
        if matches!(
            v,
            Value::String(_) | Value::Number(_) | Value::Bool(_) | Value::Null
        ) && !out.contains(v)
        {
            out.push(v.clone());
        }
    }
    out
}

fn union(mut variants: Vec<Schema>, discriminator: Option<String>) -> Schema {
    if variants.len() == 1 && discriminator.is_none() {
        return variants.pop().unwrap_or_default();
    }
    if variants.is_empty() {
        return Schema::default();
    }
    Schema::of(SchemaKind::Union {
        variants,
        discriminator,
    })
}

/// `schema | null`, without doubling a `null` already there.
fn with_null(schema: Schema) -> Schema {
    match schema.kind {
        SchemaKind::Null | SchemaKind::Any => schema,
        SchemaKind::Union {
            mut variants,
            discriminator,
        } => {
            if !variants.iter().any(|v| matches!(v.kind, SchemaKind::Null)) {
                variants.push(Schema::of(SchemaKind::Null));
            }
            Schema {
                kind: SchemaKind::Union {
                    variants,
                    discriminator,
                },
                ..schema
            }
        }
        SchemaKind::Enum { mut values } => {
            if !values.contains(&Value::Null) {
                values.push(Value::Null);
            }
            Schema {
                kind: SchemaKind::Enum { values },
                ..schema
            }
        }
        kind => Schema::of(SchemaKind::Union {
            variants: vec![Schema::of(kind), Schema::of(SchemaKind::Null)],
            discriminator: None,
        }),
    }
}

fn apply_metadata(schema: &mut Schema, obj: &Map<String, Value>) {
    let text = |k: &str| {
        obj.get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    if let Some(d) = text("description").or_else(|| text("title")) {
        schema.description = Some(d);
    }
    if let Some(f) = text("format") {
        schema.format = Some(f);
    }
    let flag = |k: &str| obj.get(k).and_then(Value::as_bool) == Some(true);
    schema.deprecated |= flag("deprecated");
    schema.read_only |= flag("readOnly");
    schema.write_only |= flag("writeOnly");
    if let Some(d) = obj.get("default") {
        schema.default = Some(d.clone());
    }
}
