//! The generated TypeScript: snapshots of the fixtures' declarations and
//! compact signatures, and `tsc --strict` over all of them.

mod common;

use common::{assert_tsc_accepts, fixture};
use sdk_gen::typescript::{self, SignatureOptions};

const FIXTURES: &[&str] = &[
    "features-v30.yaml",
    "features-v31.yaml",
    "swagger2.json",
    "multi-file/openapi.yaml",
];

fn load(name: &str) -> sdk_gen::Api {
    sdk_gen::load(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn fixture_declarations_snapshot() {
    for name in FIXTURES {
        let api = load(name);
        let ts = typescript::declarations(&api, &typescript::default_namespace(&api)).expect("ts");
        insta::assert_snapshot!(format!("declarations-{}", name.replace('/', "-")), ts);
    }
}

#[test]
fn fixture_declarations_pass_tsc_strict() {
    let files: Vec<(String, String)> = FIXTURES
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let api = load(name);
            let ts = typescript::declarations(&api, &format!("fixture{i}")).expect("ts");
            (format!("fixture{i}.d.ts"), ts)
        })
        .collect();
    assert_tsc_accepts(&files);
}

#[test]
fn compact_signatures_snapshot() {
    let api = load("features-v30.yaml");
    let options = SignatureOptions::default();
    let all: Vec<String> = api
        .operations
        .iter()
        .map(|op| typescript::operation_signature(&api, op, &options))
        .collect();
    insta::assert_snapshot!("signatures-features-v30", all.join("\n"));
}

#[test]
fn compact_signatures_stay_small_on_large_real_apis() {
    // One search result must cost tens to a few hundred tokens, not thousands,
    // even for operations returning GitHub's 90-property repository.
    let spec = common::shared_index()
        .into_iter()
        .find(|s| s.name == "github-octokit")
        .expect("github in INDEX.tsv");
    let api = sdk_gen::load(&spec.path.to_string_lossy()).expect("loads");
    let options = SignatureOptions::default();
    let op = api.operation("reposGet").expect("reposGet");
    let sig = typescript::operation_signature(&api, op, &options);
    assert!(sig.contains("function reposGet(params: {"), "{sig}");
    assert!(sig.contains("interface FullRepository"), "{sig}");
    assert!(sig.contains("more properties"), "{sig}");
    let mut longest = (0, String::new());
    for op in &api.operations {
        let sig = typescript::operation_signature(&api, op, &options);
        if sig.len() > longest.0 {
            longest = (sig.len(), op.name.clone());
        }
    }
    // ~4 characters a token: 8,000 characters is ~2,000 tokens at the very worst.
    assert!(
        longest.0 < 8_000,
        "{} renders to {} characters",
        longest.1,
        longest.0
    );
}

#[test]
fn type_declaration_renders_one_full_type() {
    let api = load("features-v30.yaml");
    let id = api
        .types
        .iter()
        .position(|t| t.name == "Animal")
        .map(sdk_gen::TypeId)
        .expect("Animal");
    let decl = typescript::type_declaration(&api, id);
    assert!(
        decl.starts_with("/** Any animal in the zoo. */\ninterface Animal {"),
        "{decl}"
    );
    assert!(decl.contains("\"Parameter1.Name\"?: string;"), "{decl}");
}
