//! What an execution returns, and cutting large results down to a budget
//! without ever producing invalid JSON.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The outcome of one execution. Serializes to
/// `{"ok", "result", "logs", "calls", "error"}` (+ `"truncated"` when cut).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ExecOutcome {
    /// Whether the code ran to completion.
    pub ok: bool,
    /// The value the code returned (`null` when it failed or returned nothing).
    pub result: Value,
    /// Captured console output, in order (`[warn] …` etc. for non-`log` levels).
    pub logs: Vec<String>,
    /// Every API call, in the order they were started.
    pub calls: Vec<CallRecord>,
    /// Why it failed.
    pub error: Option<ExecError>,
    /// Present when the result was cut to fit the budget: what was cut and
    /// how to ask for less.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncated: Option<String>,
}

/// One API call in the trace.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CallRecord {
    /// The API called (its namespace in the sandbox).
    pub api: String,
    /// The SDK function called (`request` for the generic escape hatch).
    pub operation: String,
    /// HTTP method.
    pub method: String,
    /// Request path (without the query string).
    pub path: String,
    /// Response status; `null` when no response arrived (refused, network error).
    pub status: Option<u16>,
    /// Duration in milliseconds.
    pub ms: u64,
}

/// Why an execution failed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ExecError {
    /// Category.
    pub kind: ErrorKind,
    /// What happened and what to do, for the model.
    pub message: String,
}

/// Error categories.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ErrorKind {
    /// The code does not parse.
    Syntax,
    /// An exception in the code.
    Runtime,
    /// The wall-clock/CPU budget ran out.
    Timeout,
    /// The memory limit was hit.
    Memory,
    /// An API call failed (non-2xx, network).
    Api,
    /// A call was refused by the caller's scopes or the egress policy.
    Policy,
    /// Another limit: calls, response size, stack depth, result size.
    Limit,
    /// The client cancelled the execution.
    Cancelled,
}

impl ErrorKind {
    /// The kind as it appears in output (`syntax`, `runtime`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Syntax => "syntax",
            ErrorKind::Runtime => "runtime",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Memory => "memory",
            ErrorKind::Api => "api",
            ErrorKind::Policy => "policy",
            ErrorKind::Limit => "limit",
            ErrorKind::Cancelled => "cancelled",
        }
    }

    pub(crate) fn parse(s: &str) -> ErrorKind {
        match s {
            "syntax" => ErrorKind::Syntax,
            "timeout" => ErrorKind::Timeout,
            "memory" => ErrorKind::Memory,
            "api" => ErrorKind::Api,
            "policy" => ErrorKind::Policy,
            "limit" => ErrorKind::Limit,
            "cancelled" => ErrorKind::Cancelled,
            _ => ErrorKind::Runtime,
        }
    }
}

/// Cut steps: (array items kept, string chars kept, object keys kept).
const STEPS: &[(usize, usize, usize)] = &[
    (200, 4000, 400),
    (100, 2000, 200),
    (50, 1000, 100),
    (20, 500, 60),
    (10, 200, 40),
    (5, 100, 20),
    (3, 60, 12),
    (1, 40, 8),
    (0, 20, 4),
];
const MAX_DEPTH: usize = 32;

fn size(v: &Value) -> usize {
    serde_json::to_vec(v).map_or(usize::MAX, |b| b.len())
}

/// Fits `value` into `budget` bytes of JSON. Returns the (possibly cut)
/// value and, when cut, a note for the model.
pub(crate) fn fit(value: Value, budget: usize) -> (Value, Option<String>) {
    let original = size(&value);
    if original <= budget {
        return (value, None);
    }
    for &(items, chars, keys) in STEPS {
        let cut = shrink(&value, items, chars, keys, 0);
        if size(&cut) <= budget {
            return (cut, Some(note(original, budget, Some(items))));
        }
    }
    (
        Value::String(format!(
            "[result of {original} bytes dropped: too large even when cut]"
        )),
        Some(note(original, budget, None)),
    )
}

fn note(original: usize, budget: usize, items: Option<usize>) -> String {
    let how = match items {
        Some(n) => format!("arrays keep their first {n} items (with a note of how many were dropped) and long strings are shortened"),
        None => "nothing of it could be kept".into(),
    };
    format!(
        "The result was truncated: about {} tokens, over the budget of about {} tokens; {how}. Return less: select the fields you need (e.g. items.map(x => ({{ id: x.id, name: x.name }}))), slice arrays, or compute the summary in the code.",
        original / 4,
        budget / 4
    )
}

fn shrink(v: &Value, items: usize, chars: usize, keys: usize, depth: usize) -> Value {
    if depth >= MAX_DEPTH {
        return Value::String("[nested too deeply]".into());
    }
    match v {
        Value::String(s) => Value::String(cut_str(s, chars)),
        Value::Array(a) => {
            let mut out: Vec<Value> = a
                .iter()
                .take(items)
                .map(|x| shrink(x, items, chars, keys, depth + 1))
                .collect();
            if a.len() > items {
                out.push(Value::String(format!(
                    "[… {} more items dropped]",
                    a.len() - items
                )));
            }
            Value::Array(out)
        }
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, x) in m.iter().take(keys) {
                out.insert(k.clone(), shrink(x, items, chars, keys, depth + 1));
            }
            if m.len() > keys {
                out.insert(
                    "…".into(),
                    Value::String(format!("{} more keys dropped", m.len() - keys)),
                );
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

/// Shortens a string to `max` chars (on a char boundary), noting the cut.
pub(crate) fn cut_str(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_string(),
        Some((i, _)) => format!("{}… [{} more chars]", &s[..i], s[i..].chars().count()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn small_values_pass() {
        let (v, n) = fit(json!({"a": [1, 2]}), 100);
        assert_eq!(v, json!({"a": [1, 2]}));
        assert!(n.is_none());
    }

    #[test]
    fn big_arrays_are_cut_validly() {
        let big: Vec<Value> = (0..10_000)
            .map(|i| json!({"id": i, "name": "x".repeat(50)}))
            .collect();
        let (v, n) = fit(json!({"items": big}), 4000);
        let text = serde_json::to_string(&v).unwrap_or_default();
        assert!(text.len() <= 4000, "{}", text.len());
        assert!(text.contains("more items dropped"), "{text}");
        assert!(n.is_some_and(|n| n.contains("truncated")));
    }

    #[test]
    fn long_strings_cut_on_char_boundaries() {
        let (v, _) = fit(json!("é".repeat(100_000)), 1000);
        assert!(v.as_str().is_some_and(|s| s.contains("more chars")));
    }
}
