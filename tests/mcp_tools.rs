//! The MCP tool surface in process: `tools/list` stays under 1,000 o200k
//! tokens however many APIs are loaded, schemas are clean, scopes hide APIs.

use std::sync::Arc;

use codemode::server::backend::{Caller, Limits, LoadedApi};
use codemode::server::metrics::Metrics;
use codemode::server::scopes::{ScopeRule, Scopes};
use codemode::server::testing::TestBackend;
use codemode::server::tools::CodemodeServer;

fn apis(n: usize) -> Vec<LoadedApi> {
    let root = env!("CARGO_MANIFEST_DIR");
    let api = Arc::new(
        sdk_gen::load(&format!("{root}/fixtures/mcp/notes.yaml")).expect("notes spec loads"),
    );
    (0..n)
        .map(|i| LoadedApi {
            name: format!("service{i}"),
            description: format!(
                "Service number {i}: manages accounts, invoices, subscriptions, webhooks and reports for a large SaaS product. It has a very long description."
            ),
            api: api.clone(),
            base_url: None,
            credential: None,
        })
        .collect()
}

fn caller(scopes: Scopes) -> Caller {
    Caller {
        id: "t".into(),
        scopes,
        limits: Limits::default(),
    }
}

fn tools_list_json(n: usize, scopes: Scopes) -> String {
    let server = CodemodeServer::new(
        TestBackend::new(apis(n)),
        Arc::new(Metrics::default()),
        None,
    );
    let tools = server.tools_for(&caller(scopes));
    serde_json::to_string(&serde_json::json!({ "tools": tools })).expect("serialize tools")
}

#[test]
fn tools_list_stays_under_1000_tokens() {
    let bpe = tiktoken_rs::o200k_base().expect("o200k tokenizer");
    for n in [1, 20, 200] {
        let json = tools_list_json(n, Scopes::all());
        let tokens = bpe.encode_with_special_tokens(&json).len();
        eprintln!("{n} APIs: {tokens} tokens");
        assert!(
            tokens < 1000,
            "{n} APIs: tools/list is {tokens} tokens:\n{json}"
        );
        assert!(json.contains("service0"), "the first API is listed");
    }
}

#[test]
fn schemas_are_object_rooted_and_portable() {
    let json: serde_json::Value =
        serde_json::from_str(&tools_list_json(1, Scopes::all())).expect("json");
    for tool in json["tools"].as_array().expect("tools") {
        assert_eq!(tool["inputSchema"]["type"], "object", "{tool}");
        assert_eq!(tool["outputSchema"]["type"], "object", "{tool}");
        let text = tool.to_string();
        assert!(!text.contains("\"uint"), "no format: uint in {text}");
    }
    let search = &json["tools"][0];
    assert_eq!(search["name"], "search");
    assert_eq!(
        search["inputSchema"]["required"],
        serde_json::json!(["query"])
    );
    assert_eq!(search["annotations"]["readOnlyHint"], true);
    let execute = &json["tools"][1];
    assert_eq!(execute["annotations"]["readOnlyHint"], false);
    assert_eq!(execute["annotations"]["idempotentHint"], false);
    assert_eq!(execute["annotations"]["openWorldHint"], true);
}

#[test]
fn descriptions_list_only_the_callers_apis() {
    let only_one = Scopes {
        rules: vec![ScopeRule::api("service3")],
    };
    let json = tools_list_json(5, only_one);
    assert!(json.contains("service3"), "{json}");
    assert!(!json.contains("service1:"), "{json}");
    let none = tools_list_json(5, Scopes::none());
    assert!(none.contains("No APIs are available"), "{none}");
}
