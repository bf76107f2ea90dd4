//! The normalized API model: what every later stage (TypeScript, search, the
//! sandbox's operation table) reads, whatever the spec's version or layout.
//!
//! Swagger 2.0, OpenAPI 3.0 and 3.1 all normalize to the same shapes here.
//! `$ref`s to schemas become [`Schema::Ref`] pointing into [`Api::types`], so
//! circular schemas are finite; every other `$ref` (parameters, responses,
//! path items, operations) is already resolved in place.

use serde::Serialize;
use std::collections::BTreeMap;

/// One loaded API.
#[derive(Debug, Clone, Serialize)]
pub struct Api {
    /// `info.title`.
    pub title: String,
    /// `info.version`.
    pub version: String,
    /// `info.description`, as written.
    pub description: Option<String>,
    /// The spec's version field: `"3.0.3"`, `"3.1.0"` or `"2.0"`.
    pub openapi: String,
    /// Servers (`servers`, or 2.0's `schemes` + `host` + `basePath`), in spec order.
    pub servers: Vec<Server>,
    /// Security schemes by their name in the spec, in spec order.
    pub security_schemes: Vec<SecurityScheme>,
    /// The spec-wide security requirement, if any. Each entry is one
    /// alternative; all schemes inside one alternative apply together.
    pub security: Vec<SecurityRequirement>,
    /// Every operation, in spec order (path order, then method order).
    pub operations: Vec<Operation>,
    /// Named types: component schemas and every other `$ref`'d schema.
    /// [`Schema::Ref`] indexes into this list.
    pub types: Vec<NamedType>,
    /// Problems that did not stop the load (an unresolvable schema, an
    /// operation without responses…), each naming where it is.
    pub warnings: Vec<Warning>,
    /// Hex SHA-256 over every document read (location and text): a cheap
    /// content key for caches built from this API.
    pub source_sha256: String,
}

/// A server URL template with its variables.
#[derive(Debug, Clone, Serialize)]
pub struct Server {
    /// URL template, e.g. `https://{region}.example.com/v1`.
    pub url: String,
    /// `description`.
    pub description: Option<String>,
    /// Variables in spec order.
    pub variables: Vec<ServerVariable>,
}

impl Server {
    /// The URL with every variable replaced by its default.
    pub fn default_url(&self) -> String {
        let mut url = self.url.clone();
        for v in &self.variables {
            url = url.replace(&format!("{{{}}}", v.name), &v.default);
        }
        url
    }
}

/// A `{name}` in a server URL.
#[derive(Debug, Clone, Serialize)]
pub struct ServerVariable {
    /// Name without braces.
    pub name: String,
    /// Default value (required by the spec).
    pub default: String,
    /// Allowed values, if restricted.
    pub allowed: Vec<String>,
    /// `description`.
    pub description: Option<String>,
}

/// A security scheme (`components.securitySchemes` / `securityDefinitions`).
#[derive(Debug, Clone, Serialize)]
pub struct SecurityScheme {
    /// The scheme's key in the spec; security requirements refer to it.
    pub name: String,
    /// What it is.
    pub kind: SecuritySchemeKind,
    /// `description`.
    pub description: Option<String>,
}

/// How credentials travel for one security scheme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum SecuritySchemeKind {
    /// An API key in a header, query parameter or cookie.
    ApiKey {
        /// Header, query parameter or cookie name.
        param: String,
        /// Where it goes.
        location: ParamLocation,
    },
    /// `Authorization: Basic …`.
    Basic,
    /// `Authorization: Bearer …` (also OAuth 2 and OpenID Connect access tokens).
    Bearer {
        /// `bearerFormat`, e.g. `JWT`.
        format: Option<String>,
    },
    /// OAuth 2 (the access token is sent as a bearer token).
    OAuth2 {
        /// Every scope named by any flow, sorted.
        scopes: Vec<String>,
    },
    /// OpenID Connect (the access token is sent as a bearer token).
    OpenIdConnect {
        /// `openIdConnectUrl`.
        url: String,
    },
    /// Another HTTP scheme (`digest`, `hoba`, …), kept by name.
    OtherHttp {
        /// The `scheme` value.
        scheme: String,
    },
    /// mutualTLS or an unknown type.
    Unsupported {
        /// The `type` value.
        kind: String,
    },
}

/// One alternative of a security requirement: scheme name → required scopes.
pub type SecurityRequirement = BTreeMap<String, Vec<String>>;

/// HTTP methods an operation may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    /// GET
    Get,
    /// PUT
    Put,
    /// POST
    Post,
    /// DELETE
    Delete,
    /// OPTIONS
    Options,
    /// HEAD
    Head,
    /// PATCH
    Patch,
    /// TRACE
    Trace,
}

impl Method {
    /// All methods, in the order a path item lists them.
    pub const ALL: [Method; 8] = [
        Method::Get,
        Method::Put,
        Method::Post,
        Method::Delete,
        Method::Options,
        Method::Head,
        Method::Patch,
        Method::Trace,
    ];

    /// Upper-case name, as sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Put => "PUT",
            Method::Post => "POST",
            Method::Delete => "DELETE",
            Method::Options => "OPTIONS",
            Method::Head => "HEAD",
            Method::Patch => "PATCH",
            Method::Trace => "TRACE",
        }
    }

    /// Lower-case key used in a path item (`get`, `post`, …).
    pub fn key(self) -> &'static str {
        match self {
            Method::Get => "get",
            Method::Put => "put",
            Method::Post => "post",
            Method::Delete => "delete",
            Method::Options => "options",
            Method::Head => "head",
            Method::Patch => "patch",
            Method::Trace => "trace",
        }
    }

    /// Parses a method name in any case.
    pub fn parse(s: &str) -> Option<Method> {
        Method::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(s))
    }

    /// GET, HEAD, OPTIONS and TRACE do not change state.
    pub fn is_read_only(self) -> bool {
        matches!(
            self,
            Method::Get | Method::Head | Method::Options | Method::Trace
        )
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One HTTP operation.
#[derive(Debug, Clone, Serialize)]
pub struct Operation {
    /// A valid, unique JavaScript identifier (from `operationId`, or derived
    /// from method and path when absent): the SDK function's name.
    pub name: String,
    /// The spec's `operationId`, as written.
    pub operation_id: Option<String>,
    /// HTTP method.
    pub method: Method,
    /// The path key exactly as written in the spec, e.g.
    /// `/files/{file_id}#get_shared_link`.
    pub path: String,
    /// The path to request: `path` without any `#fragment` or `?query`.
    pub request_path: String,
    /// Query pairs fixed by the path key itself (`/search?beta=true`).
    pub fixed_query: Vec<(String, String)>,
    /// Parameters (path-item level merged with operation level), in order.
    pub parameters: Vec<Parameter>,
    /// The request body, if the operation takes one.
    pub request_body: Option<RequestBody>,
    /// The success response (lowest 2xx, else `default`).
    pub response: Option<Response>,
    /// `tags`.
    pub tags: Vec<String>,
    /// `summary`.
    pub summary: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `deprecated`.
    pub deprecated: bool,
    /// Operation-level security; `None` means the spec-wide one applies.
    pub security: Option<Vec<SecurityRequirement>>,
    /// Key of the request body in the SDK's params object (`body`, unless a
    /// parameter already has that name).
    pub body_key: String,
    /// Name of the TypeScript interface of the params object (`ReposGetParams`).
    pub params_type: String,
    /// Name of the TypeScript type of the response (`ReposGetResponse`).
    pub response_type: String,
}

/// Where a parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamLocation {
    /// In the path template.
    Path,
    /// In the query string.
    Query,
    /// A request header.
    Header,
    /// A cookie.
    Cookie,
}

impl ParamLocation {
    /// Name as written in a spec's `in`.
    pub fn as_str(self) -> &'static str {
        match self {
            ParamLocation::Path => "path",
            ParamLocation::Query => "query",
            ParamLocation::Header => "header",
            ParamLocation::Cookie => "cookie",
        }
    }
}

/// Serialization style of a parameter (OpenAPI 3 `style`; 2.0's
/// `collectionFormat` maps onto it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ParamStyle {
    /// `simple` (path, header default): `a,b,c`.
    Simple,
    /// `form` (query, cookie default): `x=a&x=b` exploded, `x=a,b` not.
    Form,
    /// `label`: `.a.b`.
    Label,
    /// `matrix`: `;x=a,b`.
    Matrix,
    /// `spaceDelimited`: `x=a%20b`.
    SpaceDelimited,
    /// `pipeDelimited`: `x=a|b`.
    PipeDelimited,
    /// `deepObject`: `x[key]=value`.
    DeepObject,
}

/// One parameter of an operation.
#[derive(Debug, Clone, Serialize)]
pub struct Parameter {
    /// Name on the wire.
    pub name: String,
    /// Key in the SDK's params object: `name`, unless two parameters in
    /// different locations share it (then `query_name` etc.).
    pub key: String,
    /// Where it goes.
    pub location: ParamLocation,
    /// Whether the caller must give it (always true for path parameters).
    pub required: bool,
    /// Its type.
    pub schema: Schema,
    /// `description`.
    pub description: Option<String>,
    /// `deprecated`.
    pub deprecated: bool,
    /// Serialization style.
    pub style: ParamStyle,
    /// Whether arrays/objects are exploded.
    pub explode: bool,
}

/// How a request body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyEncoding {
    /// `application/json` and `+json` types.
    Json,
    /// `application/x-www-form-urlencoded`.
    Form,
    /// `multipart/form-data`.
    Multipart,
    /// `text/*`: sent as a string.
    Text,
    /// Anything else (`application/octet-stream`, images…): raw bytes.
    Binary,
}

impl BodyEncoding {
    /// Classifies a media type.
    pub fn of(media_type: &str) -> BodyEncoding {
        let mt = media_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if mt == "application/json" || mt.ends_with("+json") || mt == "*/*" || mt.ends_with("/json")
        {
            BodyEncoding::Json
        } else if mt == "application/x-www-form-urlencoded" {
            BodyEncoding::Form
        } else if mt.starts_with("multipart/") {
            BodyEncoding::Multipart
        } else if mt.starts_with("text/") || mt.ends_with("+xml") || mt.ends_with("/xml") {
            BodyEncoding::Text
        } else {
            BodyEncoding::Binary
        }
    }
}

/// An operation's request body.
#[derive(Debug, Clone, Serialize)]
pub struct RequestBody {
    /// Whether a body must be sent.
    pub required: bool,
    /// The chosen media type (JSON preferred, then form, multipart, others).
    pub content_type: String,
    /// How that media type is encoded.
    pub encoding: BodyEncoding,
    /// The body's type.
    pub schema: Schema,
    /// `description`.
    pub description: Option<String>,
}

/// An operation's success response.
#[derive(Debug, Clone, Serialize)]
pub struct Response {
    /// `200`, `201`, …, or `default`.
    pub status: String,
    /// Its media type, if it has content.
    pub content_type: Option<String>,
    /// Body type; `None` for a response without content (`void`).
    pub schema: Option<Schema>,
    /// `description`.
    pub description: Option<String>,
}

/// Index into [`Api::types`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct TypeId(pub usize);

/// A named type.
#[derive(Debug, Clone, Serialize)]
pub struct NamedType {
    /// A valid, unique TypeScript type name (PascalCase).
    pub name: String,
    /// The name in the spec (component key, or the `$ref` it came from).
    pub source_name: String,
    /// Its definition.
    pub schema: Schema,
}

/// A schema: a type expression plus what documentation it carries.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Schema {
    /// The type itself.
    pub kind: SchemaKind,
    /// `description` (or `title` when there is no description).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `format` (`date-time`, `int64`, `binary`…).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// `deprecated`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub deprecated: bool,
    /// `readOnly`: sent by the server only.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
    /// `writeOnly`: sent by the client only.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub write_only: bool,
    /// `default`, if given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<serde_json::Value>,
}

impl Schema {
    /// The kind's name as written in JSON (`string`, `object`, `ref`…).
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            SchemaKind::Any => "any",
            SchemaKind::Never => "never",
            SchemaKind::Null => "null",
            SchemaKind::Boolean => "boolean",
            SchemaKind::Integer => "integer",
            SchemaKind::Number => "number",
            SchemaKind::String => "string",
            SchemaKind::Enum { .. } => "enum",
            SchemaKind::Array { .. } => "array",
            SchemaKind::Object(_) => "object",
            SchemaKind::Ref { .. } => "ref",
            SchemaKind::Union { .. } => "union",
            SchemaKind::Intersection { .. } => "intersection",
        }
    }

    /// A schema of this kind with no documentation.
    pub fn of(kind: SchemaKind) -> Schema {
        Schema {
            kind,
            ..Schema::default()
        }
    }
}

/// The shape of a value.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SchemaKind {
    /// Anything (no constraints, or constraints we do not model).
    #[default]
    Any,
    /// Nothing (`false` schema).
    Never,
    /// `null`.
    Null,
    /// `boolean`.
    Boolean,
    /// `integer`.
    Integer,
    /// `number`.
    Number,
    /// `string`.
    String,
    /// A set of literal values (`enum`, or `const` as a one-value set).
    Enum {
        /// The allowed values (strings, numbers, booleans or null).
        values: Vec<serde_json::Value>,
    },
    /// `array`.
    Array {
        /// Item type.
        items: Box<Schema>,
    },
    /// `object`.
    Object(Box<ObjectSchema>),
    /// A reference to a named type.
    Ref {
        /// The type.
        id: TypeId,
    },
    /// `oneOf`, `anyOf`, type arrays and `nullable`: any one of these.
    Union {
        /// Alternatives.
        variants: Vec<Schema>,
        /// `discriminator.propertyName`, if given.
        #[serde(skip_serializing_if = "Option::is_none")]
        discriminator: Option<String>,
    },
    /// `allOf`: all of these at once.
    Intersection {
        /// Parts.
        parts: Vec<Schema>,
    },
}

/// An object's properties.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ObjectSchema {
    /// Declared properties, in spec order.
    pub properties: Vec<Property>,
    /// Type of any other property: `None` when the spec forbids or does not
    /// mention extra properties and declares some; `Some(Any)` for a free-form map.
    pub additional: Option<Box<Schema>>,
}

/// One declared property.
#[derive(Debug, Clone, Serialize)]
pub struct Property {
    /// Name as on the wire.
    pub name: String,
    /// Whether it is in `required`.
    pub required: bool,
    /// Its type.
    pub schema: Schema,
}

/// A problem that did not stop the load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// Where: a file (or URL) and a JSON pointer inside it, e.g.
    /// `spec.yaml#/paths/~1pets/get`.
    pub location: String,
    /// What is wrong and what was done about it.
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

impl Api {
    /// The named type behind a [`TypeId`].
    pub fn ty(&self, id: TypeId) -> &NamedType {
        &self.types[id.0]
    }

    /// Finds an operation by its SDK name.
    pub fn operation(&self, name: &str) -> Option<&Operation> {
        self.operations.iter().find(|op| op.name == name)
    }

    /// The default base URL: the first server with variables at their defaults.
    pub fn base_url(&self) -> Option<String> {
        self.servers.first().map(Server::default_url)
    }
}
