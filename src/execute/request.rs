//! Building an HTTP request from what the sandbox handed over: an operation
//! and its params object (typed calls) or `{ method, path, query, headers,
//! body }` (the generic `request()`). Everything is validated here, on the
//! host; errors name the parameter and say how to fix the call.
//!
//! Path values are percent-encoded as one segment each (`/`, `?`, `#`, `%`
//! and friends included), and `.`/`..`/empty values are refused, so a value
//! can never change which path is requested. No header name or value may
//! hold CR, LF or other control characters.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sdk_gen::{BodyEncoding, Method, Operation, ParamLocation, ParamStyle, Parameter, RequestBody};
use serde_json::{Map, Value};

/// Everything but RFC 3986 unreserved characters is encoded.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
/// For generic paths: `/` and already-encoded `%XX` are kept.
const GENERIC_PATH: &AsciiSet = &SEGMENT.remove(b'/').remove(b'%').remove(b':').remove(b'@');

/// Headers the sandbox may never set: transport framing, routing and
/// credentials belong to the host.
const FORBIDDEN_HEADERS: &[&str] = &[
    "host",
    "authorization",
    "proxy-authorization",
    "cookie",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
    "expect",
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-real-ip",
];

/// A validated request, relative to the API's base URL.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    pub(crate) method: Method,
    /// Encoded path starting with `/`, appended to the base URL's path.
    pub(crate) path: String,
    /// Decoded query pairs (encoded when the URL is built).
    pub(crate) query: Vec<(String, String)>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Option<Body>,
    /// The operation declares `security: []`: send no credential.
    pub(crate) anonymous: bool,
}

/// An encoded request body.
#[derive(Debug, Clone)]
pub(crate) struct Body {
    pub(crate) content_type: String,
    pub(crate) bytes: Vec<u8>,
}

/// Builds the request for a typed call `api.op(params)`.
pub(crate) fn from_operation(
    api: &str,
    op: &Operation,
    params: &Value,
) -> Result<Prepared, String> {
    let call = format!("{api}.{}", op.name);
    let empty = Map::new();
    let obj = match params {
        Value::Object(m) => m,
        Value::Null => &empty,
        other => {
            return Err(format!(
                "{call}: expected one params object like {{ {} }}, got {}",
                expected_keys(op),
                type_name(other)
            ))
        }
    };
    for key in obj.keys() {
        let known = op.parameters.iter().any(|p| &p.key == key)
            || (op.request_body.is_some() && key == &op.body_key);
        if !known {
            return Err(format!(
                "{call}: unknown parameter `{key}`; this operation takes {{ {} }}",
                expected_keys(op)
            ));
        }
    }
    let get = |p: &Parameter| obj.get(&p.key).filter(|v| !v.is_null());
    for p in &op.parameters {
        if p.required && get(p).is_none() {
            return Err(format!(
                "{call}: missing required {} parameter `{}`",
                p.location.as_str(),
                p.key
            ));
        }
    }

    // Path: fill `{name}` from the template, each value one encoded segment.
    let mut path = String::new();
    let mut rest = op.request_path.as_str();
    while let Some(open) = rest.find('{') {
        path.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            path.push_str(&rest[open..]);
            rest = "";
            break;
        };
        let name = &after[..close];
        let param = op
            .parameters
            .iter()
            .find(|p| p.location == ParamLocation::Path && p.name == name);
        let value = param.and_then(get).ok_or_else(|| {
            format!(
                "{call}: missing required path parameter `{}`",
                param.map_or(name, |p| p.key.as_str())
            )
        })?;
        let key = param.map_or(name, |p| p.key.as_str());
        path.push_str(&path_value(&call, key, param.map(|p| p.style), value)?);
        rest = &after[close + 1..];
    }
    path.push_str(rest);
    if !path.starts_with('/') {
        path.insert(0, '/');
    }

    let mut query: Vec<(String, String)> = op.fixed_query.clone();
    let mut headers = Vec::new();
    let mut cookies = Vec::new();
    for p in &op.parameters {
        let Some(v) = get(p) else { continue };
        match p.location {
            ParamLocation::Path => {}
            ParamLocation::Query => push_query(&call, &mut query, p, v)?,
            ParamLocation::Header => {
                let value = joined(&call, &p.key, v, ",")?;
                check_header(&p.name, &value)
                    .map_err(|e| format!("{call}: parameter `{}`: {e}", p.key))?;
                headers.push((p.name.clone(), value));
            }
            ParamLocation::Cookie => {
                let value = joined(&call, &p.key, v, ",")?;
                if value.contains([';', '\r', '\n', '\0']) || p.name.contains(['=', ';']) {
                    return Err(format!(
                        "{call}: parameter `{}`: cookie values may not contain `;`, CR or LF",
                        p.key
                    ));
                }
                cookies.push(format!("{}={value}", p.name));
            }
        }
    }
    if !cookies.is_empty() {
        headers.push(("cookie".into(), cookies.join("; ")));
    }

    let body = match &op.request_body {
        None => None,
        Some(rb) => match obj.get(&op.body_key).filter(|v| !v.is_null()) {
            None if rb.required => {
                return Err(format!(
                    "{call}: missing required request body `{}` ({})",
                    op.body_key, rb.content_type
                ))
            }
            None => None,
            Some(v) => Some(encode_body(&call, rb, v)?),
        },
    };
    Ok(Prepared {
        method: op.method,
        path,
        query,
        headers,
        body,
        anonymous: is_anonymous(op),
    })
}

/// Whether the operation explicitly needs no credential (`security: []`).
pub(crate) fn is_anonymous(op: &Operation) -> bool {
    matches!(&op.security, Some(alternatives) if alternatives.is_empty())
}

/// Builds the request for `api.request({ method, path, query, headers, body })`.
pub(crate) fn generic(api: &str, args: &Value) -> Result<Prepared, String> {
    let call = format!("{api}.request");
    let Value::Object(obj) = args else {
        return Err(format!(
            "{call}: expected {{ method, path, query?, headers?, body? }}, got {}",
            type_name(args)
        ));
    };
    for key in obj.keys() {
        if !matches!(
            key.as_str(),
            "method" | "path" | "query" | "headers" | "body"
        ) {
            return Err(format!(
                "{call}: unknown field `{key}`; use {{ method, path, query?, headers?, body? }}"
            ));
        }
    }
    let method = match obj.get("method") {
        None | Some(Value::Null) => Method::Get,
        Some(Value::String(m)) => {
            Method::parse(m).ok_or_else(|| format!("{call}: unknown HTTP method {m:?}"))?
        }
        Some(other) => {
            return Err(format!(
                "{call}: `method` must be a string, got {}",
                type_name(other)
            ))
        }
    };
    let path = match obj.get("path") {
        Some(Value::String(p)) => generic_path(&call, p)?,
        _ => return Err(format!("{call}: `path` is required: a string like \"/users/octocat\" (relative to the API's base URL)")),
    };
    let mut query = Vec::new();
    match obj.get("query") {
        None | Some(Value::Null) => {}
        Some(Value::Object(q)) => {
            for (k, v) in q {
                match v {
                    Value::Null => {}
                    Value::Array(items) => {
                        for item in items {
                            query.push((k.clone(), scalar(&call, k, item)?));
                        }
                    }
                    v => query.push((k.clone(), scalar(&call, k, v)?)),
                }
            }
        }
        Some(other) => {
            return Err(format!(
                "{call}: `query` must be an object, got {}",
                type_name(other)
            ))
        }
    }
    let mut headers = Vec::new();
    match obj.get("headers") {
        None | Some(Value::Null) => {}
        Some(Value::Object(h)) => {
            for (k, v) in h {
                let value = scalar(&call, k, v)?;
                check_header(k, &value).map_err(|e| format!("{call}: header `{k}`: {e}"))?;
                headers.push((k.clone(), value));
            }
        }
        Some(other) => {
            return Err(format!(
                "{call}: `headers` must be an object, got {}",
                type_name(other)
            ))
        }
    }
    let content_type = headers
        .iter()
        .position(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .map(|i| headers.remove(i).1);
    let body = match obj.get("body") {
        None | Some(Value::Null) => None,
        Some(v) => {
            let ct = content_type.unwrap_or_else(|| match v {
                Value::String(_) => "text/plain; charset=utf-8".into(),
                _ => "application/json".into(),
            });
            let rb = RequestBody {
                required: false,
                encoding: BodyEncoding::of(&ct),
                content_type: ct,
                schema: sdk_gen::Schema::default(),
                description: None,
            };
            Some(encode_body(&call, &rb, v)?)
        }
    };
    Ok(Prepared {
        method,
        path,
        query,
        headers,
        body,
        anonymous: false,
    })
}

/// Validates a generic path: relative to the base URL, no scheme, host,
/// query, fragment or dot segments (also percent-encoded ones).
fn generic_path(call: &str, p: &str) -> Result<String, String> {
    let fail = |why: &str| {
        Err(format!(
            "{call}: path {:?} {why}; give a path relative to the API's base URL like \"/users/octocat\", and put query parameters in `query`",
            p.chars().take(200).collect::<String>()
        ))
    };
    if !p.starts_with('/') || p.starts_with("//") {
        return fail("must start with a single `/`");
    }
    if p.contains("://") {
        return fail("must not contain a scheme or host");
    }
    if p.chars()
        .any(|c| c.is_control() || c == '\\' || c == '?' || c == '#' || c.is_whitespace())
    {
        return fail("must not contain `?`, `#`, `\\`, spaces or control characters");
    }
    for seg in p.split('/') {
        let decoded = percent_encoding::percent_decode_str(seg)
            .decode_utf8_lossy()
            .to_string();
        if decoded == "." || decoded == ".." || decoded.contains(['/', '\\']) {
            return fail("must not contain `.`/`..` segments or encoded slashes");
        }
    }
    // Keep valid `%XX` escapes, encode a stray `%`.
    let bytes = p.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'%'
            && !(bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
        {
            return fail("has a `%` that is not a valid %XX escape");
        }
    }
    Ok(utf8_percent_encode(p, GENERIC_PATH).to_string())
}

fn path_value(
    call: &str,
    key: &str,
    style: Option<ParamStyle>,
    v: &Value,
) -> Result<String, String> {
    let raw = joined(call, key, v, ",")?;
    if raw.is_empty() || raw == "." || raw == ".." {
        return Err(format!(
            "{call}: path parameter `{key}` must not be empty, `.` or `..`"
        ));
    }
    let enc = utf8_percent_encode(&raw, SEGMENT).to_string();
    Ok(match style {
        Some(ParamStyle::Label) => format!(".{enc}"),
        Some(ParamStyle::Matrix) => format!(";{}={enc}", utf8_percent_encode(key, SEGMENT)),
        _ => enc,
    })
}

fn push_query(
    call: &str,
    out: &mut Vec<(String, String)>,
    p: &Parameter,
    v: &Value,
) -> Result<(), String> {
    let name = &p.name;
    match v {
        Value::Array(items) => {
            let vals = items
                .iter()
                .map(|i| scalar(call, &p.key, i))
                .collect::<Result<Vec<_>, _>>()?;
            match (p.style, p.explode) {
                (ParamStyle::Form, true) | (ParamStyle::DeepObject, _) => {
                    out.extend(vals.into_iter().map(|s| (name.clone(), s)))
                }
                (ParamStyle::SpaceDelimited, _) => out.push((name.clone(), vals.join(" "))),
                (ParamStyle::PipeDelimited, _) => out.push((name.clone(), vals.join("|"))),
                _ => out.push((name.clone(), vals.join(","))),
            }
        }
        Value::Object(m) => match (p.style, p.explode) {
            (ParamStyle::DeepObject, _) => flatten(call, &p.key, name, v, out, 0)?,
            (ParamStyle::Form, true) => {
                for (k, item) in m {
                    out.push((k.clone(), scalar(call, &p.key, item)?));
                }
            }
            _ => {
                let mut parts = Vec::new();
                for (k, item) in m {
                    parts.push(k.clone());
                    parts.push(scalar(call, &p.key, item)?);
                }
                out.push((name.clone(), parts.join(",")));
            }
        },
        v => out.push((name.clone(), scalar(call, &p.key, v)?)),
    }
    Ok(())
}

/// `a[b][c]=v` / `a[0]=v` flattening (deepObject query, form bodies).
fn flatten(
    call: &str,
    key: &str,
    prefix: &str,
    v: &Value,
    out: &mut Vec<(String, String)>,
    depth: usize,
) -> Result<(), String> {
    if depth > 8 {
        return Err(format!("{call}: parameter `{key}` is nested too deeply"));
    }
    match v {
        Value::Object(m) => {
            for (k, item) in m {
                flatten(call, key, &format!("{prefix}[{k}]"), item, out, depth + 1)?;
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                flatten(call, key, &format!("{prefix}[{i}]"), item, out, depth + 1)?;
            }
        }
        Value::Null => {}
        v => out.push((prefix.to_string(), scalar(call, key, v)?)),
    }
    Ok(())
}

fn encode_body(call: &str, rb: &RequestBody, v: &Value) -> Result<Body, String> {
    let mut content_type = rb.content_type.clone();
    let bytes = match rb.encoding {
        BodyEncoding::Json => {
            if content_type.trim() == "*/*" {
                content_type = "application/json".into();
            }
            serde_json::to_vec(v).map_err(|e| format!("{call}: body: {e}"))?
        }
        BodyEncoding::Form => {
            let Value::Object(m) = v else {
                return Err(format!(
                    "{call}: the body is form-encoded and must be an object, got {}",
                    type_name(v)
                ));
            };
            let mut pairs = Vec::new();
            for (k, item) in m {
                flatten(call, "body", k, item, &mut pairs, 0)?;
            }
            let mut ser = url::form_urlencoded::Serializer::new(String::new());
            for (k, val) in &pairs {
                ser.append_pair(k, val);
            }
            ser.finish().into_bytes()
        }
        BodyEncoding::Multipart => {
            let Value::Object(m) = v else {
                return Err(format!(
                    "{call}: the body is multipart and must be an object, got {}",
                    type_name(v)
                ));
            };
            let boundary = format!("codemode-{:016x}", boundary_seed());
            let mut out = Vec::new();
            for (k, item) in m {
                if k.contains(['"', '\r', '\n']) {
                    return Err(format!("{call}: body field name {k:?} is not allowed"));
                }
                let text = match item {
                    Value::String(s) => s.clone(),
                    Value::Null => continue,
                    other => other.to_string(),
                };
                out.extend_from_slice(
                    format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n")
                        .as_bytes(),
                );
                out.extend_from_slice(text.as_bytes());
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
            content_type = format!("multipart/form-data; boundary={boundary}");
            out
        }
        BodyEncoding::Text => match v {
            Value::String(s) => s.clone().into_bytes(),
            other => other.to_string().into_bytes(),
        },
        BodyEncoding::Binary => match v {
            Value::String(s) => s.clone().into_bytes(),
            other => {
                return Err(format!(
                    "{call}: the body is sent as raw bytes ({}) and must be a string, got {}",
                    rb.content_type,
                    type_name(other)
                ))
            }
        },
    };
    if content_type.contains(['\r', '\n']) {
        return Err(format!("{call}: invalid content type"));
    }
    Ok(Body {
        content_type,
        bytes,
    })
}

fn boundary_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0);
    h.finish()
}

/// A header name/value the host will accept from the sandbox.
pub(crate) fn check_header(name: &str, value: &str) -> Result<(), String> {
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    {
        return Err(format!("{name:?} is not a valid header name"));
    }
    if value
        .chars()
        .any(|c| c == '\r' || c == '\n' || c == '\0' || (c.is_control() && c != '\t'))
    {
        return Err("header values may not contain CR, LF or other control characters".into());
    }
    let lower = name.to_ascii_lowercase();
    if FORBIDDEN_HEADERS.contains(&lower.as_str()) {
        return Err(format!(
            "the `{name}` header is set by the host (credentials and transport are added outside the sandbox)"
        ));
    }
    Ok(())
}

fn scalar(call: &str, key: &str, v: &Value) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(format!(
            "{call}: parameter `{key}` must be a string, number or boolean here, got {}",
            type_name(other)
        )),
    }
}

fn joined(call: &str, key: &str, v: &Value, sep: &str) -> Result<String, String> {
    match v {
        Value::Array(items) => Ok(items
            .iter()
            .map(|i| scalar(call, key, i))
            .collect::<Result<Vec<_>, _>>()?
            .join(sep)),
        v => scalar(call, key, v),
    }
}

fn expected_keys(op: &Operation) -> String {
    let mut keys: Vec<String> = op
        .parameters
        .iter()
        .map(|p| format!("{}{}", p.key, if p.required { "" } else { "?" }))
        .collect();
    if let Some(rb) = &op.request_body {
        keys.push(format!(
            "{}{}",
            op.body_key,
            if rb.required { "" } else { "?" }
        ));
    }
    if keys.is_empty() {
        "no parameters".into()
    } else {
        keys.join(", ")
    }
}

pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
