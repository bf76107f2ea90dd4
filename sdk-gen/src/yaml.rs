//! YAML 1.2 text to `serde_json::Value`, through `saphyr`.
//!
//! libyaml-based parsers reject some published specs (a tab inside a block
//! scalar, U+2028 in text, integers outside 64 bits); saphyr reads them.
//! Mapping keys become strings (`200:` is the key `"200"`), `<<` merge keys
//! are applied, integers too large for 64 bits become floats, and values
//! JSON cannot hold (NaN, infinities) become `null`.

use crate::error::Error;
use saphyr::{LoadableYamlNode, Scalar, Yaml};
use serde_json::{Map, Number, Value};

pub(crate) fn parse(location: &str, text: &str) -> Result<Value, Error> {
    let docs = Yaml::load_from_str(text).map_err(|e| Error::Syntax {
        location: location.to_string(),
        format: "YAML",
        line: e.marker().line(),
        column: e.marker().col() + 1,
        message: e.info().to_string(),
    })?;
    match docs.into_iter().next() {
        Some(doc) => Ok(to_json(doc)),
        None => Ok(Value::Null),
    }
}

fn to_json(node: Yaml<'_>) -> Value {
    match node {
        Yaml::Value(scalar) => scalar_to_json(scalar),
        Yaml::Representation(text, _, _) => Value::String(text.into_owned()),
        Yaml::Sequence(items) => Value::Array(items.into_iter().map(to_json).collect()),
        Yaml::Mapping(entries) => {
            let mut map = Map::with_capacity(entries.len());
            let mut merged: Vec<Value> = Vec::new();
            for (k, v) in entries {
                let key = key_string(k);
                if key == "<<" {
                    merged.push(to_json(v));
                } else {
                    map.insert(key, to_json(v));
                }
            }
            // Merge keys: explicit keys win, earlier merged maps win over later ones.
            for source in merged {
                let sources = match source {
                    Value::Array(items) => items,
                    other => vec![other],
                };
                for source in sources {
                    if let Value::Object(m) = source {
                        for (k, v) in m {
                            map.entry(k).or_insert(v);
                        }
                    }
                }
            }
            Value::Object(map)
        }
        Yaml::Tagged(_, inner) => to_json(*inner),
        Yaml::Alias(_) | Yaml::BadValue => Value::Null,
    }
}

fn scalar_to_json(scalar: Scalar<'_>) -> Value {
    match scalar {
        Scalar::Null => Value::Null,
        Scalar::Boolean(b) => Value::Bool(b),
        Scalar::Integer(i) => Value::Number(i.into()),
        Scalar::FloatingPoint(f) => Number::from_f64(f.into_inner())
            .map(Value::Number)
            .unwrap_or(Value::Null),
        Scalar::String(s) => Value::String(s.into_owned()),
    }
}

fn key_string(key: Yaml<'_>) -> String {
    match to_json(key) {
        Value::String(s) => s,
        Value::Null => "null".to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_libyaml_forks_reject() {
        let text = "a: |\n  line\n  \tindented with a tab\nb: \"x\u{2028}y\"\nc: 123456789012345678901234567890\n200: ok\n";
        let v = parse("t.yaml", text).expect("parses");
        assert_eq!(v["a"], "line\n\tindented with a tab\n");
        assert_eq!(v["b"], "x\u{2028}y");
        assert!(v["c"].as_f64().is_some_and(|f| f > 1e29));
        assert_eq!(v["200"], "ok");
    }

    #[test]
    fn applies_merge_keys_and_aliases() {
        let text = "base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  y: 3\n";
        let v = parse("t.yaml", text).expect("parses");
        assert_eq!(v["d"], serde_json::json!({"y": 3, "x": 1}));
    }

    #[test]
    fn syntax_errors_name_line_and_column() {
        let err = parse("bad.yaml", "a: [1, 2\nb: }\n").expect_err("must fail");
        let msg = err.to_string();
        assert!(msg.starts_with("bad.yaml:"), "{msg}");
        assert!(msg.contains("invalid YAML"), "{msg}");
    }
}
