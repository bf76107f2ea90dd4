//! A parsed spec document to an [`Api`]: version detection, info, servers,
//! security schemes, paths and operations (Swagger 2.0's `body`/`formData`
//! parameters, `consumes`/`produces` and `definitions` mapped onto 3.x terms).
//! Schemas are handed to [`crate::schema`].

use crate::documents::{lookup, DocId, Documents, Location, Target};
use crate::error::Error;
use crate::model::*;
use crate::names;
use crate::schema::{child, SchemaConverter};
use serde_json::{Map, Value};

/// Which dialect the root document speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    Swagger2,
    OpenApi3,
}

/// A value together with the document and pointer it was found at, so
/// relative `$ref`s inside it resolve against the right file.
#[derive(Debug, Clone)]
struct Found {
    doc: DocId,
    pointer: String,
    root: std::sync::Arc<Value>,
}

impl Found {
    fn value(&self) -> &Value {
        lookup(&self.root, &self.pointer).unwrap_or(&Value::Null)
    }
    fn child(&self, segment: &str) -> Found {
        Found {
            doc: self.doc,
            pointer: child(&self.pointer, segment),
            root: self.root.clone(),
        }
    }
}

/// A resolved parameter with its name and `in`, read once.
#[derive(Debug, Clone)]
struct ParamRef {
    found: Found,
    name: Option<String>,
    location: Option<String>,
}

impl From<Target> for Found {
    fn from(t: Target) -> Found {
        Found {
            doc: t.doc,
            pointer: t.pointer,
            root: t.root,
        }
    }
}

pub(crate) struct Normalizer {
    conv: SchemaConverter,
    dialect: Dialect,
    root: DocId,
    /// 2.0: spec-wide `consumes` / `produces`.
    consumes: Vec<String>,
    produces: Vec<String>,
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn string_list(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// Loads and normalizes: the whole pipeline behind [`crate::load`].
pub(crate) fn normalize(docs: Documents, root: DocId) -> Result<Api, Error> {
    let location = docs.get(root).location.clone();
    let root_value = docs.get(root).root.clone();
    let dialect = detect(&location, &root_value)?;
    let mut n = Normalizer {
        conv: SchemaConverter::new(docs),
        dialect,
        root,
        consumes: string_list(root_value.get("consumes")),
        produces: string_list(root_value.get("produces")),
    };
    let info = root_value.get("info").cloned().unwrap_or(Value::Null);
    let openapi = match dialect {
        Dialect::Swagger2 => "2.0".to_string(),
        Dialect::OpenApi3 => version_string(root_value.get("openapi")).unwrap_or_default(),
    };
    let servers = n.servers(&root_value, &location);
    let security_schemes = n.security_schemes(&root_value);
    let security = security_requirements(root_value.get("security")).unwrap_or_default();

    // Component schemas first, in spec order, so they are named types even
    // when nothing references them.
    let components = match dialect {
        Dialect::Swagger2 => "/definitions",
        Dialect::OpenApi3 => "/components/schemas",
    };
    if let Some(Value::Object(schemas)) = root_value.pointer(components) {
        for key in schemas.keys() {
            let target = Target {
                doc: root,
                root: root_value.clone(),
                pointer: child(components, key),
            };
            n.conv.named_type(target, Some(key));
        }
    }

    let mut operations = n.operations(&root_value);
    n.conv.drain();

    // Names: types first (their spec names), then the operations.
    let source_names: Vec<String> = n.conv.types.iter().map(|t| t.source_name.clone()).collect();
    let mut type_names = names::NameSet::for_types();
    let assigned = names::assign_type_names(&source_names, &mut type_names);
    let types = n
        .conv
        .types
        .drain(..)
        .zip(assigned)
        .map(|(t, name)| NamedType {
            name,
            source_name: t.source_name,
            schema: t.schema,
        })
        .collect();
    let mut op_names = names::NameSet::default();
    for op in &mut operations {
        op.name = op_names.take(&op.name);
    }
    // Each operation's params and response types share the namespace with
    // the named types, so they are drawn from the same name set.
    for op in &mut operations {
        let base = names::pascal_case(&op.name);
        op.params_type = type_names.take(&format!("{base}Params"));
        op.response_type = type_names.take(&format!("{base}Response"));
    }

    Ok(Api {
        title: text(&info, "title").unwrap_or_else(|| "API".to_string()),
        version: text(&info, "version")
            .or_else(|| version_string(info.get("version")))
            .unwrap_or_default(),
        description: text(&info, "description"),
        openapi,
        servers,
        security_schemes,
        security,
        operations,
        types,
        warnings: n.conv.warnings,
        source_sha256: n.conv.docs.source_sha256(),
    })
}

fn version_string(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn detect(location: &Location, root: &Value) -> Result<Dialect, Error> {
    let location = location.to_string();
    let obj = match root {
        Value::Object(o) => o,
        other => {
            let found = match other {
                Value::Null => "the document is empty".to_string(),
                Value::Array(_) => "the document is a list".to_string(),
                _ => format!("the document is a single value ({other})"),
            };
            return Err(Error::NotOpenApi {
                location,
                problem: found,
            });
        }
    };
    if let Some(v) = obj.get("openapi") {
        let version = version_string(Some(v)).unwrap_or_else(|| v.to_string());
        if version.starts_with("3.0") || version.starts_with("3.1") {
            return Ok(Dialect::OpenApi3);
        }
        return Err(Error::UnsupportedVersion { location, version });
    }
    if let Some(v) = obj.get("swagger") {
        let version = version_string(Some(v)).unwrap_or_else(|| v.to_string());
        if version == "2.0" || version == "2" {
            return Ok(Dialect::Swagger2);
        }
        return Err(Error::UnsupportedVersion { location, version });
    }
    let keys: Vec<&str> = obj.keys().take(5).map(String::as_str).collect();
    Err(Error::NotOpenApi {
        location,
        problem: if keys.is_empty() {
            "the document is an empty object".to_string()
        } else {
            format!("its top-level keys are {}", keys.join(", "))
        },
    })
}

fn security_requirements(v: Option<&Value>) -> Option<Vec<SecurityRequirement>> {
    let Value::Array(items) = v? else {
        return None;
    };
    Some(
        items
            .iter()
            .filter_map(Value::as_object)
            .map(|alt| {
                alt.iter()
                    .map(|(k, scopes)| (k.clone(), string_list(Some(scopes))))
                    .collect()
            })
            .collect(),
    )
}

/// Media types in order of preference for the SDK: JSON, form, multipart, text, anything.
fn pick_media_type<'a>(types: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let mut best: Option<(u8, &str)> = None;
    for mt in types {
        let lower = mt.to_ascii_lowercase();
        let rank = if lower.starts_with("application/json") {
            0
        } else {
            match BodyEncoding::of(mt) {
                BodyEncoding::Json => 1,
                BodyEncoding::Form => 2,
                BodyEncoding::Multipart => 3,
                BodyEncoding::Text => 4,
                BodyEncoding::Binary => 5,
            }
        };
        if best.is_none_or(|(r, _)| rank < r) {
            best = Some((rank, mt));
        }
    }
    best.map(|(_, mt)| mt)
}

impl Normalizer {
    /// Follows `$ref`s (any number, loops detected) from a non-schema object
    /// to the object itself. `None` (with a warning) if it does not resolve.
    fn deref(&mut self, found: Found, what: &str) -> Option<Found> {
        let mut current = found;
        for _ in 0..32 {
            let Some(reference) = current.value().get("$ref").and_then(Value::as_str) else {
                return Some(current);
            };
            let reference = reference.to_string();
            match self.conv.docs.resolve(current.doc, &reference) {
                Ok(target) => current = target.into(),
                Err(problem) => {
                    self.conv.warn(
                        current.doc,
                        &current.pointer,
                        format!("$ref {reference:?} {problem}; this {what} is skipped"),
                    );
                    return None;
                }
            }
        }
        self.conv.warn(
            current.doc,
            &current.pointer,
            format!("$ref chain for this {what} loops; it is skipped"),
        );
        None
    }

    fn servers(&mut self, root: &Value, location: &Location) -> Vec<Server> {
        let base_url = match location {
            Location::Url(u) => Some(u.clone()),
            Location::File(_) => None,
        };
        let absolute = |url: String| -> String {
            match &base_url {
                Some(base) if !url.contains("://") && !url.contains('{') => {
                    base.join(&url).map(|u| u.to_string()).unwrap_or(url)
                }
                _ => url,
            }
        };
        match self.dialect {
            Dialect::OpenApi3 => {
                let Some(Value::Array(servers)) = root.get("servers") else {
                    return Vec::new();
                };
                servers
                    .iter()
                    .filter_map(|s| {
                        let url = text(s, "url")?;
                        let variables = match s.get("variables") {
                            Some(Value::Object(vars)) => vars
                                .iter()
                                .map(|(name, v)| ServerVariable {
                                    name: name.clone(),
                                    default: version_string(v.get("default")).unwrap_or_default(),
                                    allowed: string_list(v.get("enum")),
                                    description: text(v, "description"),
                                })
                                .collect(),
                            _ => Vec::new(),
                        };
                        Some(Server {
                            url: absolute(url),
                            description: text(s, "description"),
                            variables,
                        })
                    })
                    .collect()
            }
            Dialect::Swagger2 => {
                let host = text(root, "host").or_else(|| {
                    base_url.as_ref().and_then(|u| {
                        u.host_str().map(|h| match u.port() {
                            Some(p) => format!("{h}:{p}"),
                            None => h.to_string(),
                        })
                    })
                });
                let base_path = text(root, "basePath").unwrap_or_else(|| "/".to_string());
                let mut schemes = string_list(root.get("schemes"));
                if schemes.is_empty() {
                    schemes.push(
                        base_url
                            .as_ref()
                            .map(|u| u.scheme().to_string())
                            .unwrap_or_else(|| "https".to_string()),
                    );
                }
                // https first: it is what a client should use when offered both.
                schemes.sort_by_key(|s| s != "https");
                match host {
                    Some(host) => schemes
                        .iter()
                        .filter(|s| matches!(s.as_str(), "http" | "https"))
                        .map(|scheme| Server {
                            url: format!("{scheme}://{host}{base_path}"),
                            description: None,
                            variables: Vec::new(),
                        })
                        .collect(),
                    None => vec![Server {
                        url: base_path,
                        description: None,
                        variables: Vec::new(),
                    }],
                }
            }
        }
    }

    fn security_schemes(&mut self, root: &Value) -> Vec<SecurityScheme> {
        let pointer = match self.dialect {
            Dialect::Swagger2 => "/securityDefinitions",
            Dialect::OpenApi3 => "/components/securitySchemes",
        };
        let Some(Value::Object(schemes)) = root.pointer(pointer) else {
            return Vec::new();
        };
        let root_arc = self.conv.docs.get(self.root).root.clone();
        let mut out = Vec::new();
        for name in schemes.keys() {
            let found = Found {
                doc: self.root,
                pointer: child(pointer, name),
                root: root_arc.clone(),
            };
            let Some(found) = self.deref(found, "security scheme") else {
                continue;
            };
            let s = found.value();
            let kind_name = text(s, "type").unwrap_or_default();
            let kind = match kind_name.as_str() {
                "apiKey" => {
                    let location = match text(s, "in").as_deref() {
                        Some("query") => ParamLocation::Query,
                        Some("cookie") => ParamLocation::Cookie,
                        _ => ParamLocation::Header,
                    };
                    SecuritySchemeKind::ApiKey {
                        param: text(s, "name").unwrap_or_default(),
                        location,
                    }
                }
                "basic" => SecuritySchemeKind::Basic,
                "http" => match text(s, "scheme").map(|x| x.to_ascii_lowercase()).as_deref() {
                    Some("basic") => SecuritySchemeKind::Basic,
                    Some("bearer") => SecuritySchemeKind::Bearer {
                        format: text(s, "bearerFormat"),
                    },
                    other => SecuritySchemeKind::OtherHttp {
                        scheme: other.unwrap_or_default().to_string(),
                    },
                },
                "oauth2" => {
                    let mut scopes: Vec<String> = Vec::new();
                    if let Some(Value::Object(m)) = s.get("scopes") {
                        scopes.extend(m.keys().cloned());
                    }
                    if let Some(Value::Object(flows)) = s.get("flows") {
                        for flow in flows.values() {
                            if let Some(Value::Object(m)) = flow.get("scopes") {
                                scopes.extend(m.keys().cloned());
                            }
                        }
                    }
                    scopes.sort();
                    scopes.dedup();
                    SecuritySchemeKind::OAuth2 { scopes }
                }
                "openIdConnect" => SecuritySchemeKind::OpenIdConnect {
                    url: text(s, "openIdConnectUrl").unwrap_or_default(),
                },
                _ => SecuritySchemeKind::Unsupported { kind: kind_name },
            };
            out.push(SecurityScheme {
                name: name.clone(),
                kind,
                description: text(s, "description"),
            });
        }
        out
    }

    fn operations(&mut self, root: &Value) -> Vec<Operation> {
        let Some(Value::Object(paths)) = root.get("paths") else {
            return Vec::new();
        };
        let root_arc = self.conv.docs.get(self.root).root.clone();
        let mut out = Vec::new();
        for path in paths.keys() {
            let item = Found {
                doc: self.root,
                pointer: child("/paths", path),
                root: root_arc.clone(),
            };
            let Some(item) = self.deref(item, "path item") else {
                continue;
            };
            if !item.value().is_object() {
                self.conv.warn(
                    item.doc,
                    &item.pointer,
                    "path item is not an object; skipped",
                );
                continue;
            }
            let shared_params = self.parameter_list(&item);
            let methods: Vec<Method> = {
                let v = item.value();
                Method::ALL
                    .into_iter()
                    .filter(|m| v.get(m.key()).is_some())
                    .collect()
            };
            for method in methods {
                let op = item.child(method.key());
                let Some(op) = self.deref(op, "operation") else {
                    continue;
                };
                if !op.value().is_object() {
                    self.conv
                        .warn(op.doc, &op.pointer, "operation is not an object; skipped");
                    continue;
                }
                out.push(self.operation(path, method, &op, &shared_params));
            }
        }
        out
    }

    /// The `parameters` list of a path item or operation, each resolved.
    fn parameter_list(&mut self, parent: &Found) -> Vec<ParamRef> {
        let len = match parent.value().get("parameters") {
            Some(Value::Array(items)) => items.len(),
            _ => return Vec::new(),
        };
        let list = parent.child("parameters");
        (0..len)
            .filter_map(|i| self.deref(list.child(&i.to_string()), "parameter"))
            .map(|found| {
                let v = found.value();
                ParamRef {
                    name: text(v, "name"),
                    location: text(v, "in"),
                    found,
                }
            })
            .collect()
    }

    fn operation(
        &mut self,
        path: &str,
        method: Method,
        op: &Found,
        shared_params: &[ParamRef],
    ) -> Operation {
        let root = op.root.clone();
        let v = lookup(&root, &op.pointer).unwrap_or(&Value::Null);
        let operation_id = text(v, "operationId");
        let base_name = names::operation_base_name(operation_id.as_deref(), method.key(), path);

        // Operation-level parameters override path-level ones with the same name and location.
        let own = self.parameter_list(op);
        let mut all: Vec<ParamRef> = shared_params
            .iter()
            .filter(|p| {
                !own.iter()
                    .any(|o| o.name == p.name && o.location == p.location)
            })
            .cloned()
            .collect();
        all.extend(own);

        let mut parameters = Vec::new();
        let mut body_param: Option<Found> = None;
        let mut form_params: Vec<Found> = Vec::new();
        for p in all {
            match p.location.as_deref() {
                Some("body") if self.dialect == Dialect::Swagger2 => body_param = Some(p.found),
                Some("formData") if self.dialect == Dialect::Swagger2 => form_params.push(p.found),
                // OpenAPI 3: these headers are set from the content types and
                // security schemes, and a parameter of that name is ignored.
                Some("header")
                    if p.name.as_deref().is_some_and(|n| {
                        ["accept", "content-type", "authorization"]
                            .contains(&n.to_ascii_lowercase().as_str())
                    }) => {}
                _ => {
                    if let Some(param) = self.parameter(&p.found) {
                        parameters.push(param);
                    }
                }
            }
        }
        let (request_path, fixed_query) = split_path_key(path);
        // Every `{name}` in the path must be a path parameter, or the request
        // could not be built.
        for name in template_names(&request_path) {
            if !parameters
                .iter()
                .any(|p| p.location == ParamLocation::Path && p.name == name)
            {
                self.conv.warn(
                    op.doc,
                    &op.pointer,
                    format!(
                        "path parameter {{{name}}} is not declared; added as a required string"
                    ),
                );
                parameters.push(Parameter {
                    key: name.clone(),
                    name,
                    location: ParamLocation::Path,
                    required: true,
                    schema: Schema::of(SchemaKind::String),
                    description: None,
                    deprecated: false,
                    style: ParamStyle::Simple,
                    explode: false,
                });
            }
        }
        assign_param_keys(&mut parameters);

        let request_body = match self.dialect {
            Dialect::OpenApi3 => match v.get("requestBody") {
                Some(_) => self.request_body_v3(op.child("requestBody")),
                None => None,
            },
            Dialect::Swagger2 => self.request_body_v2(v, body_param, &form_params),
        };
        let body_key = ["body", "requestBody", "body_"]
            .into_iter()
            .find(|k| !parameters.iter().any(|p| p.key == *k))
            .unwrap_or("body")
            .to_string();
        let response = self.response(op, v);

        Operation {
            name: base_name,
            operation_id,
            method,
            path: path.to_string(),
            request_path,
            fixed_query,
            parameters,
            request_body,
            response,
            tags: string_list(v.get("tags")),
            summary: text(v, "summary"),
            description: text(v, "description"),
            deprecated: v.get("deprecated").and_then(Value::as_bool) == Some(true),
            security: security_requirements(v.get("security")),
            body_key,
            params_type: String::new(),
            response_type: String::new(),
        }
    }

    fn parameter(&mut self, p: &Found) -> Option<Parameter> {
        let v = p.value();
        let Some(name) = v.get("name").and_then(Value::as_str).map(str::to_string) else {
            self.conv
                .warn(p.doc, &p.pointer, "parameter has no name; skipped");
            return None;
        };
        let location = match text(v, "in").as_deref() {
            Some("path") => ParamLocation::Path,
            Some("query") => ParamLocation::Query,
            Some("header") => ParamLocation::Header,
            Some("cookie") => ParamLocation::Cookie,
            other => {
                self.conv.warn(
                    p.doc,
                    &p.pointer,
                    format!(
                        "parameter {name:?} has `in: {}`, which is not path, query, header or cookie; skipped",
                        other.unwrap_or("(missing)")
                    ),
                );
                return None;
            }
        };
        let schema = if let Some(s) = v.get("schema") {
            self.conv.convert(p.doc, &child(&p.pointer, "schema"), s, 0)
        } else if let Some(Value::Object(content)) = v.get("content") {
            match content.iter().next() {
                Some((mt, media)) => match media.get("schema") {
                    Some(s) => {
                        let ptr = child(&child(&child(&p.pointer, "content"), mt), "schema");
                        self.conv.convert(p.doc, &ptr, s, 0)
                    }
                    None => Schema::default(),
                },
                None => Schema::default(),
            }
        } else {
            // Swagger 2.0: the parameter object carries type/format/items/enum itself.
            self.conv.convert(p.doc, &p.pointer, v, 0)
        };
        let mut schema = schema;
        if schema.description.is_none() {
            schema.description = text(v, "description");
        }
        let default_style = match location {
            ParamLocation::Path | ParamLocation::Header => ParamStyle::Simple,
            ParamLocation::Query | ParamLocation::Cookie => ParamStyle::Form,
        };
        let (style, explode) = match text(v, "collectionFormat").as_deref() {
            Some("multi") => (ParamStyle::Form, true),
            Some("ssv") => (ParamStyle::SpaceDelimited, false),
            Some("pipes") => (ParamStyle::PipeDelimited, false),
            Some(_) => (default_style, false),
            None if self.dialect == Dialect::Swagger2 => (default_style, false),
            None => {
                let style = match text(v, "style").as_deref() {
                    Some("simple") => ParamStyle::Simple,
                    Some("form") => ParamStyle::Form,
                    Some("label") => ParamStyle::Label,
                    Some("matrix") => ParamStyle::Matrix,
                    Some("spaceDelimited") => ParamStyle::SpaceDelimited,
                    Some("pipeDelimited") => ParamStyle::PipeDelimited,
                    Some("deepObject") => ParamStyle::DeepObject,
                    _ => default_style,
                };
                let explode = v
                    .get("explode")
                    .and_then(Value::as_bool)
                    .unwrap_or(style == ParamStyle::Form || style == ParamStyle::DeepObject);
                (style, explode)
            }
        };
        Some(Parameter {
            key: name.clone(),
            required: location == ParamLocation::Path
                || v.get("required").and_then(Value::as_bool) == Some(true),
            name,
            location,
            schema,
            description: text(v, "description"),
            deprecated: v.get("deprecated").and_then(Value::as_bool) == Some(true),
            style,
            explode,
        })
    }

    fn request_body_v3(&mut self, found: Found) -> Option<RequestBody> {
        let body = self.deref(found, "request body")?;
        let v = body.value();
        let content = match v.get("content") {
            Some(Value::Object(c)) => c,
            _ => {
                self.conv.warn(
                    body.doc,
                    &body.pointer,
                    "request body has no content; ignored",
                );
                return None;
            }
        };
        let media_type = pick_media_type(content.keys().map(String::as_str))?.to_string();
        let encoding = BodyEncoding::of(&media_type);
        let schema = match content.get(&media_type).and_then(|m| m.get("schema")) {
            Some(s) => {
                let ptr = child(
                    &child(&child(&body.pointer, "content"), &media_type),
                    "schema",
                );
                self.conv.convert(body.doc, &ptr, s, 0)
            }
            None => default_body_schema(encoding),
        };
        Some(RequestBody {
            required: v.get("required").and_then(Value::as_bool) == Some(true),
            content_type: media_type,
            encoding,
            schema,
            description: text(v, "description"),
        })
    }

    fn request_body_v2(
        &mut self,
        op: &Value,
        body_param: Option<Found>,
        form_params: &[Found],
    ) -> Option<RequestBody> {
        let consumes = {
            let own = string_list(op.get("consumes"));
            if own.is_empty() {
                self.consumes.clone()
            } else {
                own
            }
        };
        if let Some(p) = body_param {
            let v = p.value();
            let schema = match v.get("schema") {
                Some(s) => self.conv.convert(p.doc, &child(&p.pointer, "schema"), s, 0),
                None => Schema::default(),
            };
            let media_type = pick_media_type(consumes.iter().map(String::as_str))
                .unwrap_or("application/json")
                .to_string();
            return Some(RequestBody {
                required: v.get("required").and_then(Value::as_bool) == Some(true),
                encoding: BodyEncoding::of(&media_type),
                content_type: media_type,
                schema,
                description: text(v, "description"),
            });
        }
        if form_params.is_empty() {
            return None;
        }
        let has_file = form_params
            .iter()
            .any(|p| text(p.value(), "type").as_deref() == Some("file"));
        let multipart = has_file
            || consumes
                .iter()
                .any(|c| c.to_ascii_lowercase().starts_with("multipart/"))
                && !consumes
                    .iter()
                    .any(|c| c.eq_ignore_ascii_case("application/x-www-form-urlencoded"));
        let media_type = if multipart {
            "multipart/form-data"
        } else {
            "application/x-www-form-urlencoded"
        };
        let mut properties = Vec::new();
        for p in form_params {
            let v = p.value();
            let Some(name) = text(v, "name") else {
                continue;
            };
            let mut schema = self.conv.convert(p.doc, &p.pointer, v, 0);
            if schema.description.is_none() {
                schema.description = text(v, "description");
            }
            properties.push(Property {
                required: v.get("required").and_then(Value::as_bool) == Some(true),
                name,
                schema,
            });
        }
        let required = properties.iter().any(|p| p.required);
        Some(RequestBody {
            required,
            content_type: media_type.to_string(),
            encoding: BodyEncoding::of(media_type),
            schema: Schema::of(SchemaKind::Object(Box::new(ObjectSchema {
                properties,
                additional: None,
            }))),
            description: None,
        })
    }

    /// The success response: the lowest 2xx (`2XX` counts), else `default`.
    fn response(&mut self, op: &Found, v: &Value) -> Option<Response> {
        let Some(Value::Object(responses)) = v.get("responses") else {
            return None;
        };
        let status = pick_success_status(responses)?;
        let found = self.deref(op.child("responses").child(&status), "response")?;
        let r = found.value();
        let description = text(r, "description");
        match self.dialect {
            Dialect::OpenApi3 => {
                let Some(Value::Object(content)) = r.get("content") else {
                    return Some(Response {
                        status,
                        content_type: None,
                        schema: None,
                        description,
                    });
                };
                let media_type = pick_media_type(content.keys().map(String::as_str))?.to_string();
                let schema = match content.get(&media_type).and_then(|m| m.get("schema")) {
                    Some(s) => {
                        let ptr = child(
                            &child(&child(&found.pointer, "content"), &media_type),
                            "schema",
                        );
                        self.conv.convert(found.doc, &ptr, s, 0)
                    }
                    None => default_body_schema(BodyEncoding::of(&media_type)),
                };
                Some(Response {
                    status,
                    content_type: Some(media_type),
                    schema: Some(schema),
                    description,
                })
            }
            Dialect::Swagger2 => {
                let schema = r.get("schema").map(|s| {
                    self.conv
                        .convert(found.doc, &child(&found.pointer, "schema"), s, 0)
                });
                let produces = {
                    let own = string_list(v.get("produces"));
                    if own.is_empty() {
                        self.produces.clone()
                    } else {
                        own
                    }
                };
                let content_type = schema.as_ref().map(|_| {
                    pick_media_type(produces.iter().map(String::as_str))
                        .unwrap_or("application/json")
                        .to_string()
                });
                Some(Response {
                    status,
                    content_type,
                    schema,
                    description,
                })
            }
        }
    }
}

fn default_body_schema(encoding: BodyEncoding) -> Schema {
    match encoding {
        BodyEncoding::Text | BodyEncoding::Binary => Schema::of(SchemaKind::String),
        _ => Schema::default(),
    }
}

fn pick_success_status(responses: &Map<String, Value>) -> Option<String> {
    let mut best: Option<(u32, &String)> = None;
    for key in responses.keys() {
        let rank = if key.len() == 3 && key.starts_with('2') {
            key[1..].parse::<u32>().unwrap_or(99)
        } else if key.eq_ignore_ascii_case("2XX") {
            100
        } else if key == "default" {
            200
        } else {
            continue;
        };
        if best.is_none_or(|(r, _)| rank < r) {
            best = Some((rank, key));
        }
    }
    best.map(|(_, k)| k.clone())
}

/// Splits a path key into the path to request and query pairs fixed by the
/// key: `/files/{id}#get_shared_link` → `/files/{id}`;
/// `/search?beta=true` → `/search` + `beta=true`.
fn split_path_key(path: &str) -> (String, Vec<(String, String)>) {
    let without_fragment = path.split('#').next().unwrap_or(path);
    match without_fragment.split_once('?') {
        Some((p, q)) => {
            let pairs = q
                .split('&')
                .filter(|s| !s.is_empty())
                .map(|pair| match pair.split_once('=') {
                    Some((k, v)) => (k.to_string(), v.to_string()),
                    None => (pair.to_string(), String::new()),
                })
                .collect();
            (p.to_string(), pairs)
        }
        None => (without_fragment.to_string(), Vec::new()),
    }
}

/// The `{name}`s in a path template, in order.
pub(crate) fn template_names(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('}') else { break };
        let name = &after[..end];
        if !name.is_empty() && !out.iter().any(|n: &String| n == name) {
            out.push(name.to_string());
        }
        rest = &after[end + 1..];
    }
    out
}

/// Gives every parameter a unique key in the SDK's params object: its name,
/// or `<location>_<name>` when another parameter already has that name.
fn assign_param_keys(params: &mut [Parameter]) {
    let mut taken: Vec<String> = Vec::with_capacity(params.len());
    for p in params.iter_mut() {
        let mut key = p.name.clone();
        if taken.contains(&key) {
            key = format!("{}_{}", p.location.as_str(), p.name);
            let mut n = 2;
            while taken.contains(&key) {
                key = format!("{}_{}{n}", p.location.as_str(), p.name);
                n += 1;
            }
        }
        p.key = key.clone();
        taken.push(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_keys_with_fragments_and_queries() {
        assert_eq!(
            split_path_key("/files/{file_id}#get_shared_link"),
            ("/files/{file_id}".to_string(), vec![])
        );
        assert_eq!(
            split_path_key("/search?beta=true&x"),
            (
                "/search".to_string(),
                vec![
                    ("beta".to_string(), "true".to_string()),
                    ("x".to_string(), String::new())
                ]
            )
        );
        assert_eq!(template_names("/a/{b}/{c}.{b}"), ["b", "c"]);
    }
}
