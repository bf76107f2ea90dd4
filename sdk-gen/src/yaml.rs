//! YAML 1.2 text to `serde_json::Value`, through `saphyr`.
//!
//! libyaml-based parsers reject some published specs (a tab inside a block
//! scalar, U+2028 in text, integers outside 64 bits); saphyr reads them.
//! Mapping keys become strings (`200:` is the key `"200"`), `<<` merge keys
//! are applied, integers too large for 64 bits become floats, and values
//! JSON cannot hold (NaN, infinities) become `null`.

use crate::error::Error;
use saphyr::Scalar;
use saphyr_parser::{Event, Parser, ScalarStyle};
use serde_json::{Map, Number, Value};
use std::collections::HashMap;

/// Deeper documents are refused: no real spec comes close.
const MAX_NESTING: usize = 256;
/// Nodes that aliases may expand to, in all: stops "billion laughs" documents.
const MAX_ALIAS_NODES: usize = 5_000_000;

/// A container being built.
enum Frame {
    Seq {
        items: Vec<Value>,
        anchor: usize,
    },
    Map {
        map: Map<String, Value>,
        key: Option<String>,
        merges: Vec<Value>,
        anchor: usize,
    },
}

/// Builds the first document from parser events, without recursion (deep
/// documents cannot exhaust the stack).
pub(crate) fn parse(location: &str, text: &str) -> Result<Value, Error> {
    let error = |line: usize, column: usize, message: String| Error::Syntax {
        location: location.to_string(),
        format: "YAML",
        line,
        column,
        message,
    };
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, (Value, usize)> = HashMap::new();
    let mut alias_nodes = 0usize;
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| {
            error(
                e.marker().line(),
                e.marker().col() + 1,
                e.info().to_string(),
            )
        })?;
        let (line, column) = (span.start.line(), span.start.col() + 1);
        let done = match event {
            Event::StreamEnd | Event::DocumentEnd if stack.is_empty() => return Ok(Value::Null),
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if stack.len() >= MAX_NESTING {
                    return Err(error(
                        line,
                        column,
                        format!("nesting deeper than {MAX_NESTING} levels"),
                    ));
                }
                stack.push(if matches!(event, Event::SequenceStart(..)) {
                    Frame::Seq {
                        items: Vec::new(),
                        anchor,
                    }
                } else {
                    Frame::Map {
                        map: Map::new(),
                        key: None,
                        merges: Vec::new(),
                        anchor,
                    }
                });
                None
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some(Frame::Seq { items, anchor }) => Some((Value::Array(items), anchor)),
                Some(Frame::Map {
                    mut map,
                    merges,
                    anchor,
                    ..
                }) => {
                    apply_merges(&mut map, merges);
                    Some((Value::Object(map), anchor))
                }
                None => None,
            },
            Event::Scalar(value, style, anchor, tag) => {
                let scalar =
                    Scalar::parse_from_cow_and_metadata(value.clone(), style, tag.as_ref())
                        .unwrap_or(Scalar::String(value));
                let json = if style == ScalarStyle::Plain {
                    scalar_to_json(scalar)
                } else {
                    match scalar {
                        Scalar::String(s) => Value::String(s.into_owned()),
                        other => scalar_to_json(other),
                    }
                };
                Some((json, anchor))
            }
            Event::Alias(id) => {
                let Some((value, size)) = anchors.get(&id) else {
                    return Err(error(
                        line,
                        column,
                        "alias to an unknown anchor".to_string(),
                    ));
                };
                alias_nodes += size;
                if alias_nodes > MAX_ALIAS_NODES {
                    return Err(error(
                        line,
                        column,
                        format!("aliases expand to more than {MAX_ALIAS_NODES} nodes"),
                    ));
                }
                Some((value.clone(), 0))
            }
            _ => None,
        };
        let Some((value, anchor)) = done else {
            continue;
        };
        if anchor != 0 {
            anchors.insert(anchor, (value.clone(), node_count(&value)));
        }
        match stack.last_mut() {
            None => return Ok(value),
            Some(Frame::Seq { items, .. }) => items.push(value),
            Some(Frame::Map {
                map, key, merges, ..
            }) => match key.take() {
                None => *key = Some(key_string(value)),
                Some(k) if k == "<<" => merges.push(value),
                Some(k) => {
                    map.insert(k, value);
                }
            },
        }
    }
    Ok(Value::Null)
}

/// Merge keys: explicit keys win, earlier merged maps win over later ones.
fn apply_merges(map: &mut Map<String, Value>, merges: Vec<Value>) {
    for source in merges {
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
}

fn node_count(v: &Value) -> usize {
    let mut count = 0;
    let mut todo = vec![v];
    while let Some(v) = todo.pop() {
        count += 1;
        match v {
            Value::Array(items) => todo.extend(items),
            Value::Object(m) => todo.extend(m.values()),
            _ => {}
        }
    }
    count
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

fn key_string(key: Value) -> String {
    match key {
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
    fn deep_or_exploding_documents_are_refused_not_crashed() {
        let mut deep = String::from("x:\n");
        for i in 0..5000 {
            deep.push_str(&" ".repeat(i + 1));
            deep.push_str("a:\n");
        }
        let err = parse("deep.yaml", &deep).expect_err("too deep");
        assert!(err.to_string().contains("nesting deeper than 256"), "{err}");

        let mut laughs = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let prev = (b'a' + i - 1) as char;
            let cur = (b'a' + i) as char;
            laughs.push_str(&format!("{cur}: &{cur} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
        }
        let err = parse("laughs.yaml", &laughs).expect_err("too many aliases");
        assert!(err.to_string().contains("aliases expand"), "{err}");
    }

    #[test]
    fn quoted_scalars_stay_strings() {
        let v = parse("t.yaml", "a: '123'\nb: 123\nc: \"true\"\nd: ~\ne: 1.5\n").expect("parses");
        assert_eq!(
            v,
            serde_json::json!({"a": "123", "b": 123, "c": "true", "d": null, "e": 1.5})
        );
    }

    #[test]
    fn syntax_errors_name_line_and_column() {
        let err = parse("bad.yaml", "a: [1, 2\nb: }\n").expect_err("must fail");
        let msg = err.to_string();
        assert!(msg.starts_with("bad.yaml:"), "{msg}");
        assert!(msg.contains("invalid YAML"), "{msg}");
    }
}
