//! The `codemode` binary as scripts and people use it: output, exit codes,
//! and one-paragraph errors on stderr.

use std::process::{Command, Output};

fn codemode(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_codemode"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run codemode")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn inspect_json_has_the_stable_fields() {
    let out = codemode(&["inspect", "fixtures/features-v30.yaml", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("one JSON object");
    assert_eq!(v["title"], "Feature Zoo API");
    assert_eq!(v["version"], "2.1");
    assert_eq!(v["openapi"], "3.0.3");
    assert_eq!(v["operations"], 9);
    assert_eq!(v["schemas"], 15);
    let warnings = v["warnings"].as_array().expect("warnings array");
    assert_eq!(warnings.len(), 2);
    assert!(warnings.iter().all(|w| w.is_string()));
}

#[test]
fn inspect_text_snapshot() {
    let out = codemode(&["inspect", "fixtures/swagger2.json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    insta::assert_snapshot!(stdout(&out));
}

#[test]
fn sdk_prints_declarations_with_the_chosen_namespace() {
    let out = codemode(&[
        "sdk",
        "fixtures/multi-file/openapi.yaml",
        "--namespace",
        "kennel",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    insta::assert_snapshot!(stdout(&out));
}

#[test]
fn sdk_defaults_the_namespace_from_the_title() {
    let out = codemode(&["sdk", "fixtures/swagger2.json"]);
    assert!(
        stdout(&out).contains("declare namespace legacyShop {"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn errors_are_one_paragraph_on_stderr_with_a_nonzero_exit() {
    for (args, expect) in [
        (
            vec!["inspect", "fixtures/bad/broken.yaml"],
            "broken.yaml:4:10: invalid YAML",
        ),
        (
            vec!["inspect", "fixtures/bad/not-openapi.yaml"],
            "not an OpenAPI description",
        ),
        (vec!["sdk", "missing.yaml"], "cannot read missing.yaml"),
        (
            vec!["sdk", "fixtures/swagger2.json", "--namespace", "1x"],
            "not a valid identifier",
        ),
    ] {
        let out = codemode(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert!(
            err.starts_with("error: ") && err.contains(expect),
            "{args:?}: {err}"
        );
        assert_eq!(err.trim_end().lines().count(), 1, "one paragraph: {err}");
        assert!(stdout(&out).is_empty());
    }
}

#[test]
fn usage_errors_and_help() {
    let out = codemode(&["inspect"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("<SPEC>"), "{}", stderr(&out));
    let help = codemode(&["--help"]);
    assert!(help.status.success());
    let text = stdout(&help);
    for command in ["sdk", "inspect"] {
        assert!(text.contains(command), "{text}");
    }
}
