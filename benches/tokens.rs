//! Token benchmark: what it costs an agent to be given each shared API as
//! one MCP tool per endpoint, against codemode's two tools.
//!
//! `cargo bench --bench tokens`. Tokens are counted with the o200k_base
//! encoding (tiktoken-rs). Columns:
//! - per-endpoint: the JSON of a `tools/list` result with one tool per
//!   operation: name, description (summary and first paragraph of the
//!   description) and an `inputSchema` with the operation's parameters and
//!   body and every named type it reaches under `$defs` (what OpenAPI-to-MCP
//!   generators emit). An agent pays this on every turn.
//! - codemode list: codemode's real `tools/list` with this API loaded.
//! - search avg/max: codemode's real `search` answers (the JSON text the
//!   agent reads) over the dev queries of `../shared/search-eval` for this
//!   spec; `-` when the set has none.
//! - ratio: per-endpoint ÷ (codemode list + one average search).

use codemode::server::backend::{Backend, Caller, Limits, LoadedApi, SearchInput};
use codemode::server::engines::{EngineOptions, Engines};
use codemode::server::metrics::Metrics;
use codemode::server::scopes::Scopes;
use codemode::server::tools::CodemodeServer;
use sdk_gen::typescript;
use serde_json::json;
use std::path::PathBuf;
use std::sync::Arc;

fn specs_dir() -> PathBuf {
    match std::env::var_os("CODEMODE_SHARED") {
        Some(d) => PathBuf::from(d).join("specs"),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/specs"),
    }
}

fn main() {
    let bpe = tiktoken_rs::o200k_base().expect("o200k_base is bundled with tiktoken-rs");
    let tokens = |s: &str| bpe.encode_with_special_tokens(s).len();
    let index = std::fs::read_to_string(specs_dir().join("INDEX.tsv")).expect("INDEX.tsv");
    let queries = dev_queries();
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    println!(
        "{:<24} {:>5} {:>13} {:>9} {:>8} {:>8} {:>8}",
        "spec", "ops", "per-endpoint", "cm list", "srch avg", "srch max", "ratio"
    );
    let (mut all_tools, mut all_ops) = (0usize, 0usize);
    for line in index.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let cells: Vec<&str> = line.split('\t').collect();
        let (name, rel) = (cells[0], cells[1]);
        let api = sdk_gen::load(&specs_dir().join(rel).to_string_lossy()).expect("loads");
        if api.operations.is_empty() {
            continue;
        }
        let per_endpoint = tokens(&per_endpoint_tools_list(&api));

        let namespace = sdk_gen::typescript::default_namespace(&api);
        let loaded = LoadedApi {
            name: namespace,
            description: api.title.clone(),
            api: Arc::new(api),
            // No call is made; some specs have only relative servers.
            base_url: Some("https://api.example.com".into()),
            credential: None,
        };
        let ops = loaded.api.operations.len();
        let engines = Arc::new(
            Engines::new(
                vec![loaded],
                &EngineOptions {
                    workers: Some(1),
                    ..EngineOptions::default()
                },
            )
            .expect("engines start"),
        );
        let caller = Caller {
            id: "bench".into(),
            scopes: Scopes::all(),
            limits: Limits::default(),
        };
        let server = CodemodeServer::new(engines.clone(), Arc::new(Metrics::default()), None);
        let list =
            serde_json::to_string(&json!({ "tools": server.tools_for(&caller) })).expect("json");
        let list_tokens = tokens(&list);
        let answers: Vec<usize> = queries
            .iter()
            .filter(|(spec, _)| spec == name)
            .map(|(_, q)| {
                let out = runtime
                    .block_on(engines.search(
                        &caller,
                        SearchInput {
                            query: q.clone(),
                            ..SearchInput::default()
                        },
                    ))
                    .expect("search answers");
                tokens(&serde_json::to_string(&out).expect("json"))
            })
            .collect();
        let (avg, max) = if answers.is_empty() {
            ("-".to_string(), "-".to_string())
        } else {
            (
                (answers.iter().sum::<usize>() / answers.len()).to_string(),
                answers.iter().max().copied().unwrap_or(0).to_string(),
            )
        };
        let ratio = match avg.parse::<usize>() {
            Ok(search) => format!(
                "{:.0}x",
                per_endpoint as f64 / (list_tokens + search) as f64
            ),
            Err(_) => "-".to_string(),
        };
        println!(
            "{:<24} {:>5} {:>13} {:>9} {:>8} {:>8} {:>8}",
            name, ops, per_endpoint, list_tokens, avg, max, ratio
        );
        all_tools += per_endpoint;
        all_ops += ops;
    }
    println!("{:<24} {:>5} {:>13}", "all", all_ops, all_tools);
}

/// A `tools/list` result with one tool per operation.
fn per_endpoint_tools_list(api: &sdk_gen::Api) -> String {
    let tools: Vec<serde_json::Value> = api
        .operations
        .iter()
        .map(|op| {
            let mut description = op.summary.clone().unwrap_or_default();
            if let Some(d) = &op.description {
                let first = typescript::summarize(d, 100_000);
                if !description.is_empty() {
                    description.push_str("\n\n");
                }
                description.push_str(&first);
            }
            json!({
                "name": op.name,
                "description": description,
                "inputSchema": sdk_gen::json_schema::operation_input_schema(api, op),
            })
        })
        .collect();
    serde_json::to_string(&json!({ "tools": tools })).expect("json")
}

/// `(spec, query)` pairs of the dev search-eval set.
fn dev_queries() -> Vec<(String, String)> {
    let path = specs_dir().join("../search-eval/dev-queries.jsonl");
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| {
            Some((
                v["spec"].as_str()?.to_string(),
                v["query"].as_str()?.to_string(),
            ))
        })
        .collect()
}
