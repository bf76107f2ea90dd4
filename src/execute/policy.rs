//! Scopes: which operations the caller may run. Checked on the host for
//! every call before anything is sent; a refusal throws `PolicyError` in
//! the sandbox and never reaches the network.

use sdk_gen::{Method, Operation};
use serde::{Deserialize, Serialize};

/// What one caller may do. Every list that is set must allow the call (they
/// combine with AND); an unset list allows everything. `Default` allows all.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Scopes {
    /// Only GET and HEAD requests.
    pub read_only: bool,
    /// Allowed operations: `opName`, `api.opName` or `api.*`.
    pub operations: Option<Vec<String>>,
    /// Allowed tags (an operation passes when it has any of them).
    pub tags: Option<Vec<String>>,
    /// Allowed HTTP methods (any case).
    pub methods: Option<Vec<String>>,
    /// Whether `<api>.request(...)` may be used. A generic request that
    /// matches a spec operation is checked as that operation; one that
    /// matches none is refused while `operations` or `tags` is set.
    pub generic_request: bool,
}

impl Default for Scopes {
    fn default() -> Self {
        Scopes {
            read_only: false,
            operations: None,
            tags: None,
            methods: None,
            generic_request: true,
        }
    }
}

impl Scopes {
    /// Read-only access to everything.
    pub fn read_only() -> Scopes {
        Scopes {
            read_only: true,
            ..Scopes::default()
        }
    }

    /// Checks a call. `op` is the matched operation (`None` for a generic
    /// request that matches no operation); `generic` says it came through
    /// `request()`. `Err` is the message for the model.
    pub(crate) fn check(
        &self,
        api: &str,
        op: Option<&Operation>,
        method: Method,
        generic: bool,
    ) -> Result<(), String> {
        let what = match op {
            Some(op) => format!("{api}.{}", op.name),
            None => format!("{api}.request({method} …)"),
        };
        if generic && !self.generic_request {
            return Err(format!(
                "{what}: the generic {api}.request() is not allowed for this caller; use the typed operations"
            ));
        }
        if self.read_only && !matches!(method, Method::Get | Method::Head) {
            return Err(format!(
                "{what}: this caller is read-only (GET and HEAD only); {method} is not allowed"
            ));
        }
        if let Some(methods) = &self.methods {
            if !methods
                .iter()
                .any(|m| m.eq_ignore_ascii_case(method.as_str()))
            {
                return Err(format!(
                    "{what}: method {method} is not allowed for this caller (allowed: {})",
                    methods.join(", ")
                ));
            }
        }
        if self.operations.is_some() || self.tags.is_some() {
            let Some(op) = op else {
                return Err(format!(
                    "{what}: this request matches no operation of the spec, and this caller may only call listed operations"
                ));
            };
            if let Some(ops) = &self.operations {
                let ok = ops.iter().any(|a| {
                    a == &op.name
                        || a.strip_prefix(api)
                            .and_then(|r| r.strip_prefix('.'))
                            .is_some_and(|r| r == op.name || r == "*")
                });
                if !ok {
                    return Err(format!("{what} is not in this caller's allowed operations"));
                }
            }
            if let Some(tags) = &self.tags {
                if !op.tags.iter().any(|t| tags.contains(t)) {
                    return Err(format!(
                        "{what} has none of this caller's allowed tags ({})",
                        tags.join(", ")
                    ));
                }
            }
        }
        Ok(())
    }
}
