//! Bad input gives an error that names the file and position and says what
//! is wrong; partial problems are warnings. Never a panic.

mod common;

use common::fixture;

fn error_of(name: &str) -> String {
    match sdk_gen::load(&fixture(name)) {
        Ok(_) => panic!("{name} should not load"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_document_that_is_not_openapi_says_what_it_found() {
    let msg = error_of("bad/not-openapi.yaml");
    assert!(msg.contains("not-openapi.yaml"), "{msg}");
    assert!(msg.contains("not an OpenAPI description"), "{msg}");
    assert!(msg.contains("name, dependencies"), "{msg}");
    assert!(msg.contains("openapi: 3.x"), "{msg}");
}

#[test]
fn broken_yaml_names_line_and_column() {
    let msg = error_of("bad/broken.yaml");
    assert!(msg.contains("broken.yaml:4:10: invalid YAML"), "{msg}");
}

#[test]
fn broken_json_names_line_and_column_once() {
    let msg = error_of("bad/broken.json");
    assert!(
        msg.contains("broken.json:3:25: invalid JSON: trailing comma"),
        "{msg}"
    );
    assert!(!msg.contains("at line"), "position given twice: {msg}");
}

#[test]
fn unsupported_versions_are_named() {
    let msg = error_of("bad/unsupported-version.yaml");
    assert!(msg.contains("unsupported version \"4.0.0\""), "{msg}");
}

#[test]
fn a_missing_file_says_so() {
    let msg = error_of("bad/does-not-exist.yaml");
    assert!(msg.contains("cannot read"), "{msg}");
    assert!(msg.contains("does-not-exist.yaml"), "{msg}");
}

#[test]
fn a_ref_to_a_missing_file_is_a_warning_and_the_rest_loads() {
    let api = sdk_gen::load(&fixture("bad/missing-file-ref.yaml")).expect("loads");
    assert_eq!(api.operations.len(), 2);
    assert_eq!(api.warnings.len(), 1, "{:?}", api.warnings);
    let w = &api.warnings[0];
    assert!(
        w.location
            .ends_with("#/paths/~1a/get/responses/200/content/application~1json/schema"),
        "{w}"
    );
    assert!(w.message.contains("schemas/nowhere.yaml"), "{w}");
}

#[test]
fn odd_documents_are_errors_not_panics() {
    for (text, expect) in [
        ("", "the document is empty"),
        ("[1, 2]", "the document is a list"),
        ("42", "single value"),
        ("{}", "empty object"),
        ("openapi: 3.0.0", "API"), // no info, no paths: loads as an empty API
    ] {
        match sdk_gen::load_str("inline.yaml", text) {
            Ok(api) => assert!(api.title.contains(expect), "{text:?} → {}", api.title),
            Err(e) => assert!(e.to_string().contains(expect), "{text:?} → {e}"),
        }
    }
}

#[test]
fn hostile_structures_do_not_crash() {
    // Wrong types everywhere: each problem is skipped with a warning.
    let text = r##"
openapi: 3.0.0
info: { title: 7, version: [1] }
paths:
  /a: "not an object"
  /b:
    get: "nope"
  /c:
    $ref: "#/paths/~1c"
  /d:
    get:
      parameters: [ { in: query }, { name: x, in: body }, 5, { $ref: "#/nowhere" } ]
      requestBody: { content: 5 }
      responses: { "200": { $ref: "#/also/nowhere" } }
components:
  schemas:
    A: 5
    B: { type: wibble }
    C: { $ref: "#/components/schemas/C" }
    D: { properties: { x: { $ref: "other.yaml#not-a-pointer" } } }
"##;
    let api = sdk_gen::load_str("hostile.yaml", text).expect("loads what it can");
    assert_eq!(api.operations.len(), 1, "only /d/get is an operation");
    assert!(api.warnings.len() >= 6, "{:#?}", api.warnings);
    let ts = sdk_gen::typescript::declarations(&api, "hostile").expect("ts");
    assert!(ts.contains("function getD("), "{ts}");
}

#[test]
fn deeply_nested_schemas_are_cut_with_a_warning() {
    let mut schema = String::from("{type: string}");
    for _ in 0..100 {
        schema = format!("{{type: array, items: {schema}}}");
    }
    let text = format!("openapi: 3.0.0\ninfo: {{title: t, version: '1'}}\npaths: {{}}\ncomponents:\n  schemas:\n    Deep: {schema}\n");
    let api = sdk_gen::load_str("deep.yaml", &text).expect("loads");
    assert!(
        api.warnings
            .iter()
            .any(|w| w.message.contains("levels deep")),
        "{:?}",
        api.warnings
    );
}

#[test]
fn invalid_namespace_names_are_refused_with_the_fix() {
    let api = sdk_gen::load(&fixture("features-v31.yaml")).expect("loads");
    let err = sdk_gen::typescript::declarations(&api, "my-api").expect_err("invalid");
    assert!(
        err.to_string()
            .contains("\"my-api\" is not a valid identifier"),
        "{err}"
    );
}
