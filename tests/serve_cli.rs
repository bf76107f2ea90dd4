//! `codemode serve`: the example config is valid, `--help` teaches, bad
//! configs are refused with the key and the fix.

use std::path::{Path, PathBuf};
use std::process::Command;

use codemode::server::{self, config};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn codemode(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_codemode"))
        .args(args)
        .env("CODEMODE_TESTING_BACKEND", "1")
        .output()
        .expect("run codemode");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn example_config_is_valid() {
    let flags = config::ServeFlags {
        config: Some(root().join("codemode.example.toml")),
        http: Some(String::new()),
        ..config::ServeFlags::default()
    };
    let env = |k: &str| match k {
        "NOTES_TOKEN" | "ZOO_API_KEY" => Some(format!("secret-for-{k}")),
        _ => None,
    };
    let settings = config::resolve(&flags, &env).expect("example config resolves");
    assert_eq!(
        settings.http.map(|a| a.to_string()).as_deref(),
        Some("127.0.0.1:8787")
    );
    assert_eq!(settings.callers.len(), 2);
    let oauth = settings.oauth.as_ref().expect("oauth section");
    assert_eq!(oauth.audience, "https://mcp.example.com/mcp");
    let apis = server::load_apis(&settings, &env).expect("example specs load");
    assert_eq!(apis.len(), 2);
    assert_eq!(
        apis[0].base_url.as_deref(),
        Some("https://notes.example.com/v1")
    );
    server::check_scopes(&settings, &apis).expect("example scopes name real APIs and operations");
}

fn write(dir: &Path, text: &str) -> String {
    let path = dir.join("codemode.toml");
    std::fs::write(&path, text).expect("write config");
    path.to_string_lossy().into_owned()
}

#[test]
fn bad_configs_name_the_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = root().join("fixtures/mcp/notes.yaml");
    let spec = spec.to_string_lossy();
    let cases = [
        (
            format!("[[apis]]\nname = \"notes\"\nspec = \"{spec}\"\n[local]\nscopes = [{{ api = \"nots\" }}]\n"),
            "local.scopes[0].api = \"nots\" is not a loaded API",
        ),
        (
            format!("[[apis]]\nname = \"notes\"\nspec = \"{spec}\"\n[local]\nscopes = [{{ api = \"notes\", operations = [\"listNote\"] }}]\n"),
            "has no operation \"listNote\"",
        ),
        (
            format!("[[apis]]\nname = \"notes\"\nspec = \"{spec}\"\ncredentials = {{ scheme = \"header\", env = \"X\" }}\n"),
            "apis[0].credentials.name is missing",
        ),
        ("[server]\nbind = 8787\n".to_string(), "bind"),
        ("[[apis]]\nname = \"notes\"\n".to_string(), "missing field `spec`"),
    ];
    for (text, expected) in cases {
        let path = write(dir.path(), &text);
        let (ok, _, stderr) = codemode(&["serve", "--config", &path]);
        assert!(!ok, "config should be refused:\n{text}");
        assert!(
            stderr.contains(expected),
            "expected {expected:?} in:\n{stderr}"
        );
    }
}

#[test]
fn help_lists_the_credential_variables() {
    let (ok, stdout, _) = codemode(&["serve", "--help"]);
    assert!(ok);
    for needle in [
        "CODEMODE_<NAME>_TOKEN",
        "CODEMODE_<NAME>_BASE_URL",
        "--spec",
        "--http",
        "--config",
    ] {
        assert!(
            stdout.contains(needle),
            "{needle} missing from --help:\n{stdout}"
        );
    }
}
