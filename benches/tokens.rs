//! Token benchmark: what it costs an agent to be given each shared API as
//! one MCP tool per endpoint, against codemode's compact per-operation
//! signatures.
//!
//! `cargo bench --bench tokens`. Tokens are counted with the o200k_base
//! encoding (tiktoken-rs). "Per-endpoint tools" is the JSON of a `tools/list`
//! result with one tool per operation: name, description (summary and first
//! paragraph of the description) and an `inputSchema` holding the operation's
//! parameters and body with every named type it reaches under `$defs` — what
//! OpenAPI-to-MCP generators emit.

use sdk_gen::typescript::{self, SignatureOptions};
use serde_json::json;
use std::path::PathBuf;

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
    println!(
        "{:<26} {:>5} {:>16} {:>14} {:>14}",
        "spec", "ops", "per-endpoint", "signature avg", "signature max"
    );
    let (mut all_tools, mut all_sigs, mut all_ops) = (0usize, 0usize, 0usize);
    for line in index.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let cells: Vec<&str> = line.split('\t').collect();
        let (name, rel) = (cells[0], cells[1]);
        let api = sdk_gen::load(&specs_dir().join(rel).to_string_lossy()).expect("loads");
        if api.operations.is_empty() {
            continue;
        }
        let tools: Vec<serde_json::Value> = api
            .operations
            .iter()
            .map(|op| {
                let mut description = op.summary.clone().unwrap_or_default();
                if let Some(d) = &op.description {
                    let first = typescript::summarize(d, usize::MAX / 8);
                    if !description.is_empty() {
                        description.push_str("\n\n");
                    }
                    description.push_str(&first);
                }
                json!({
                    "name": op.name,
                    "description": description,
                    "inputSchema": sdk_gen::json_schema::operation_input_schema(&api, op),
                })
            })
            .collect();
        let listed = serde_json::to_string(&json!({ "tools": tools })).expect("json");
        let per_endpoint = tokens(&listed);
        let options = SignatureOptions::default();
        let sig_tokens: Vec<usize> = api
            .operations
            .iter()
            .map(|op| tokens(&typescript::operation_signature(&api, op, &options)))
            .collect();
        let sum: usize = sig_tokens.iter().sum();
        let max = sig_tokens.iter().copied().max().unwrap_or(0);
        println!(
            "{:<26} {:>5} {:>16} {:>14} {:>14}",
            name,
            api.operations.len(),
            per_endpoint,
            sum / sig_tokens.len(),
            max
        );
        all_tools += per_endpoint;
        all_sigs += sum;
        all_ops += api.operations.len();
    }
    println!(
        "{:<26} {:>5} {:>16} {:>14}",
        "all",
        all_ops,
        all_tools,
        all_sigs / all_ops.max(1)
    );
}
