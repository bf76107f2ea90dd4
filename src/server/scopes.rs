//! What a caller may call: the single definition of scopes, shared by the
//! MCP tools (`search` hides what is not allowed) and the execute engine
//! (which refuses it).
//!
//! A [`Scopes`] is a union of [`ScopeRule`]s. A rule names one API (or `*`)
//! and optionally narrows it by operation names, tags, HTTP methods, or to
//! read-only methods. An operation is allowed when any rule allows it; no
//! rules means nothing is allowed.

use sdk_gen::{Method, Operation};
use serde::{Deserialize, Serialize};

/// The operations a caller may search for and call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Scopes {
    /// Allowed when any rule allows.
    pub rules: Vec<ScopeRule>,
}

/// One grant: an API (or `*` for every API) narrowed by the optional filters.
/// All filters that are present must match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopeRule {
    /// API name as configured (`github`), or `*` for all APIs.
    pub api: String,
    /// Only these operation names (the SDK function names, e.g. `reposGet`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operations: Option<Vec<String>>,
    /// Only operations carrying at least one of these tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    /// Only these HTTP methods (`GET`, `POST`, …; any case).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub methods: Option<Vec<String>>,
    /// Only GET, HEAD, OPTIONS and TRACE.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
}

impl ScopeRule {
    /// Everything in one API (`*` for every API).
    pub fn api(api: impl Into<String>) -> Self {
        ScopeRule {
            api: api.into(),
            operations: None,
            tags: None,
            methods: None,
            read_only: false,
        }
    }

    /// Whether this rule covers (some of) `api`.
    pub fn covers_api(&self, api: &str) -> bool {
        self.api == "*" || self.api == api
    }

    /// Whether this rule allows calling `op` of `api`.
    pub fn allows(&self, api: &str, op: &Operation) -> bool {
        self.covers_api(api)
            && (!self.read_only || op.method.is_read_only())
            && self
                .operations
                .as_ref()
                .is_none_or(|names| names.iter().any(|n| n == &op.name))
            && self
                .tags
                .as_ref()
                .is_none_or(|tags| tags.iter().any(|t| op.tags.contains(t)))
            && self.methods.as_ref().is_none_or(|methods| {
                methods
                    .iter()
                    .any(|m| Method::parse(m).is_some_and(|m| m == op.method))
            })
    }

    /// Checks the rule's own values; the message names the bad value and the fix.
    pub fn validate(&self) -> Result<(), String> {
        if self.api.trim().is_empty() {
            return Err("`api` is empty: use an API name or \"*\"".into());
        }
        for m in self.methods.iter().flatten() {
            if Method::parse(m).is_none() {
                return Err(format!(
                    "method {m:?} is not an HTTP method: use GET, PUT, POST, DELETE, PATCH, HEAD, OPTIONS or TRACE"
                ));
            }
        }
        Ok(())
    }
}

impl Scopes {
    /// Every operation of every API.
    pub fn all() -> Self {
        Scopes {
            rules: vec![ScopeRule::api("*")],
        }
    }

    /// Nothing at all.
    pub fn none() -> Self {
        Scopes::default()
    }

    /// Whether the caller may call `op` of `api`.
    pub fn allows(&self, api: &str, op: &Operation) -> bool {
        self.rules.iter().any(|r| r.allows(api, op))
    }

    /// Whether the caller may call anything in `api` at all (the API is
    /// listed to the caller). Operation-level filters are checked by
    /// [`Scopes::allows`].
    pub fn allows_api(&self, api: &str) -> bool {
        self.rules.iter().any(|r| r.covers_api(api))
    }

    /// The union of two grants.
    pub fn union(mut self, other: Scopes) -> Scopes {
        self.rules.extend(other.rules);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(name: &str, method: Method, tags: &[&str]) -> Operation {
        let api = sdk_gen::load_str(
            "t.json",
            r#"{"openapi":"3.0.0","info":{"title":"t","version":"1"},"paths":{"/x":{"get":{"operationId":"x","responses":{"200":{"description":"ok"}}}}}}"#,
        )
        .expect("tiny spec loads");
        let mut o = api.operations[0].clone();
        o.name = name.into();
        o.method = method;
        o.tags = tags.iter().map(|t| t.to_string()).collect();
        o
    }

    #[test]
    fn rules_narrow_by_api_name_tag_method_and_read_only() {
        let get = op("petsList", Method::Get, &["pets"]);
        let post = op("petsCreate", Method::Post, &["pets"]);
        let store = op("storeGet", Method::Get, &["store"]);

        assert!(Scopes::all().allows("any", &post));
        assert!(!Scopes::none().allows("any", &get));

        let ro = Scopes {
            rules: vec![ScopeRule {
                read_only: true,
                ..ScopeRule::api("pet")
            }],
        };
        assert!(ro.allows("pet", &get));
        assert!(!ro.allows("pet", &post));
        assert!(!ro.allows("other", &get));
        assert!(ro.allows_api("pet") && !ro.allows_api("other"));

        let tagged = Scopes {
            rules: vec![ScopeRule {
                tags: Some(vec!["store".into()]),
                ..ScopeRule::api("*")
            }],
        };
        assert!(tagged.allows("pet", &store) && !tagged.allows("pet", &get));

        let named = Scopes {
            rules: vec![ScopeRule {
                operations: Some(vec!["petsCreate".into()]),
                methods: Some(vec!["post".into()]),
                ..ScopeRule::api("pet")
            }],
        };
        assert!(named.allows("pet", &post) && !named.allows("pet", &get));
        assert!(ro.clone().union(named).allows("pet", &post));
    }

    #[test]
    fn validate_names_the_bad_method() {
        let bad = ScopeRule {
            methods: Some(vec!["FETCH".into()]),
            ..ScopeRule::api("x")
        };
        let err = bad.validate().expect_err("FETCH is not a method");
        assert!(err.contains("\"FETCH\""), "{err}");
    }
}
