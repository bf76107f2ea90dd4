//! Turning spec names into valid, unique JavaScript and TypeScript names.
//!
//! Spec names are anything: `repos/get`, `create-zone`, `chat.postMessage`,
//! `io.k8s.api.apps.v1.Deployment`, `account_capability`. Operations become
//! camelCase function names, types become PascalCase type names; collisions
//! are settled in a fixed order so the same spec always gives the same names.

use std::collections::{HashMap, HashSet};

/// Words reserved in JavaScript or TypeScript declarations: a function or type
/// with one of these names would not parse.
const RESERVED: &[&str] = &[
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "debugger",
    "default",
    "delete",
    "do",
    "else",
    "enum",
    "export",
    "extends",
    "false",
    "finally",
    "for",
    "function",
    "if",
    "import",
    "in",
    "instanceof",
    "new",
    "null",
    "return",
    "super",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "typeof",
    "var",
    "void",
    "while",
    "with",
    "implements",
    "interface",
    "let",
    "package",
    "private",
    "protected",
    "public",
    "static",
    "yield",
    "await",
    "arguments",
    "eval",
    "undefined",
    "NaN",
    "Infinity",
    "any",
    "boolean",
    "number",
    "string",
    "symbol",
    "bigint",
    "object",
    "never",
    "unknown",
    "type",
    "declare",
    "namespace",
    "module",
    "async",
    "request",
];

/// Global type names the generated declarations use (or agents will expect):
/// a schema with one of these names must not shadow them inside the namespace.
const RESERVED_TYPES: &[&str] = &[
    "Promise",
    "Record",
    "Array",
    "Object",
    "String",
    "Number",
    "Boolean",
    "Date",
    "Error",
    "ApiError",
    "Function",
    "Symbol",
    "Map",
    "Set",
    "Blob",
    "File",
    "JSON",
    "Partial",
    "Required",
    "Readonly",
    "Pick",
    "Omit",
    "Exclude",
    "Extract",
    "Uint8Array",
    "ArrayBuffer",
];

/// Splits a name into words at non-alphanumeric characters and camelCase
/// boundaries: `repos/get` → `repos get`, `HTTPServer2Go` → `HTTP Server2 Go`.
pub(crate) fn words(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for chunk in s.split(|c: char| !c.is_ascii_alphanumeric()) {
        if chunk.is_empty() {
            continue;
        }
        let chars: Vec<(usize, char)> = chunk.char_indices().collect();
        let mut start = 0;
        for i in 1..chars.len() {
            let (idx, c) = chars[i];
            let prev = chars[i - 1].1;
            let next = chars.get(i + 1).map(|&(_, n)| n);
            let boundary = (c.is_ascii_uppercase()
                && (prev.is_ascii_lowercase() || prev.is_ascii_digit()))
                || (c.is_ascii_uppercase()
                    && prev.is_ascii_uppercase()
                    && next.is_some_and(|n| n.is_ascii_lowercase()));
            if boundary {
                out.push(&chunk[start..idx]);
                start = idx;
            }
        }
        out.push(&chunk[start..]);
    }
    out
}

fn capitalize(word: &str, out: &mut String) {
    let mut chars = word.chars();
    if let Some(first) = chars.next() {
        out.push(first.to_ascii_uppercase());
        out.push_str(chars.as_str());
    }
}

/// `repos/get` → `reposGet`; `GetAccount` → `getAccount`; `HTTPGet` → `httpGet`.
pub(crate) fn camel_case(s: &str) -> String {
    let ws = words(s);
    let mut out = String::with_capacity(s.len());
    for (i, w) in ws.iter().enumerate() {
        if i == 0 {
            out.push_str(&w.to_ascii_lowercase());
        } else {
            capitalize(w, &mut out);
        }
    }
    out
}

/// `account_capability` → `AccountCapability`; `v1.Pod` → `V1Pod`.
pub(crate) fn pascal_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for w in words(s) {
        capitalize(w, &mut out);
    }
    out
}

/// Whether `s` can be written as a bare property name or identifier.
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' || c == '$' => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// Makes a usable identifier: a leading digit gets `_`, a reserved word gets a
/// trailing `_`, an empty name becomes `fallback`.
fn fix_identifier(mut s: String, fallback: &str) -> String {
    if s.is_empty() {
        s = fallback.to_string();
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    if RESERVED.contains(&s.as_str()) {
        s.push('_');
    }
    s
}

/// The SDK function name for an operation: from its `operationId`, or from
/// method and path (`GET /users/{id}/media` → `getUsersIdMedia`).
pub(crate) fn operation_base_name(operation_id: Option<&str>, method: &str, path: &str) -> String {
    let raw = match operation_id {
        Some(id) if !camel_case(id).is_empty() => camel_case(id),
        _ => camel_case(&format!("{method} {path}")),
    };
    fix_identifier(raw, "operation")
}

/// Makes names unique in first-come order: the first keeps its name, later
/// ones get `2`, `3`, … (skipping any name already taken).
#[derive(Debug, Default)]
pub(crate) struct NameSet {
    taken: HashSet<String>,
}

impl NameSet {
    /// A set where the reserved global type names are already taken.
    pub(crate) fn for_types() -> NameSet {
        NameSet {
            taken: RESERVED_TYPES.iter().map(|s| s.to_string()).collect(),
        }
    }

    pub(crate) fn is_taken(&self, name: &str) -> bool {
        self.taken.contains(name)
    }

    pub(crate) fn take(&mut self, base: &str) -> String {
        if self.taken.insert(base.to_string()) {
            return base.to_string();
        }
        let mut n = 2;
        loop {
            let candidate = format!("{base}{n}");
            if self.taken.insert(candidate.clone()) {
                return candidate;
            }
            n += 1;
        }
    }
}

/// Assigns type names to schemas from their spec names, keeping them short:
/// a dotted name uses its last segment (`io.k8s.api.core.v1.Pod` → `Pod`)
/// and takes more segments only while two names collide
/// (`V1HorizontalPodAutoscaler`, `V2HorizontalPodAutoscaler`). Names that still
/// collide (`foo_bar` and `fooBar`) get numbers in input order.
pub(crate) fn assign_type_names(source_names: &[String], names: &mut NameSet) -> Vec<String> {
    let segments: Vec<Vec<&str>> = source_names
        .iter()
        .map(|s| {
            let segs: Vec<&str> = s.split('.').filter(|p| !p.is_empty()).collect();
            if segs.is_empty() {
                vec![s.as_str()]
            } else {
                segs
            }
        })
        .collect();
    let candidate = |i: usize, k: usize| -> String {
        let segs = &segments[i];
        let k = k.min(segs.len());
        let joined = segs[segs.len() - k..].join(".");
        let name = pascal_case(&joined);
        let name = if name.is_empty() {
            "Schema".to_string()
        } else {
            name
        };
        fix_identifier(name, "Schema")
    };
    let mut depth = vec![1usize; source_names.len()];
    // Grow the suffix of every member of a colliding group until no group
    // collides or nobody can grow any more.
    loop {
        let mut groups: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, d) in depth.iter().enumerate() {
            groups.entry(candidate(i, *d)).or_default().push(i);
        }
        let mut grew = false;
        for (name, members) in &groups {
            let collides = members.len() > 1 || names.is_taken(name);
            if !collides {
                continue;
            }
            for &i in members {
                if depth[i] < segments[i].len() {
                    depth[i] += 1;
                    grew = true;
                }
            }
        }
        if !grew {
            break;
        }
    }
    (0..source_names.len())
        .map(|i| names.take(&candidate(i, depth[i])))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_names_from_real_operation_ids() {
        assert_eq!(
            operation_base_name(Some("repos/get"), "get", "/"),
            "reposGet"
        );
        assert_eq!(
            operation_base_name(Some("zone-settings-get-all"), "get", "/"),
            "zoneSettingsGetAll"
        );
        assert_eq!(
            operation_base_name(Some("GetAccount"), "get", "/"),
            "getAccount"
        );
        assert_eq!(
            operation_base_name(Some("chat.postMessage"), "post", "/"),
            "chatPostMessage"
        );
        assert_eq!(
            operation_base_name(Some("listCoreV1NamespacedPod"), "get", "/"),
            "listCoreV1NamespacedPod"
        );
        assert_eq!(
            operation_base_name(Some("delete"), "delete", "/"),
            "delete_"
        );
        assert_eq!(operation_base_name(Some("2fa"), "get", "/"), "_2fa");
        assert_eq!(
            operation_base_name(None, "GET", "/users/{user-id}/media/recent"),
            "getUsersUserIdMediaRecent"
        );
        assert_eq!(operation_base_name(Some("///"), "POST", "/x"), "postX");
    }

    #[test]
    fn dotted_type_names_stay_short_unless_they_collide() {
        let src: Vec<String> = [
            "io.k8s.api.core.v1.Pod",
            "io.k8s.api.autoscaling.v1.HorizontalPodAutoscaler",
            "io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler",
            "foo_bar",
            "fooBar",
            "Promise",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let names = assign_type_names(&src, &mut NameSet::for_types());
        assert_eq!(
            names,
            [
                "Pod",
                "V1HorizontalPodAutoscaler",
                "V2HorizontalPodAutoscaler",
                "FooBar",
                "FooBar2",
                "Promise2"
            ]
        );
    }

    #[test]
    fn identifiers() {
        assert!(is_identifier("abc_$1"));
        assert!(!is_identifier("1abc"));
        assert!(!is_identifier("Parameter1.Name"));
        assert!(!is_identifier(""));
    }
}
