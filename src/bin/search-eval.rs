//! Search quality report: recall@1, recall@5 and MRR per spec, per query
//! kind and overall, on a labelled query set.
//!
//! ```text
//! cargo run --release --bin search-eval                 # dev set, default weights
//! cargo run --release --bin search-eval -- --misses     # also list queries not ranked first
//! cargo run --release --bin search-eval -- --queries other.jsonl --weights coverage=1.2,action=0.4
//! ```
//! Specs and queries default to `$CODEMODE_SHARED` (or `../shared`):
//! `search-eval/dev-queries.jsonl` and `specs/INDEX.tsv`.

use anyhow::Context as _;
use codemode::search::{eval, SearchIndex};
use std::path::PathBuf;
use std::time::Instant;

fn main() -> anyhow::Result<()> {
    let mut queries_path: Option<PathBuf> = None;
    let mut weights = String::new();
    let mut misses = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--queries" => {
                queries_path = Some(args.next().context("--queries needs a file")?.into())
            }
            "--weights" => weights = args.next().context("--weights needs name=value,…")?,
            "--misses" => misses = true,
            "-h" | "--help" => {
                println!("usage: search-eval [--queries FILE.jsonl] [--weights name=value,...] [--misses]");
                return Ok(());
            }
            other => anyhow::bail!("unknown argument {other:?}; see --help"),
        }
    }
    let shared = eval::shared_dir();
    let queries_path =
        queries_path.unwrap_or_else(|| shared.join("search-eval").join("dev-queries.jsonl"));
    let queries = eval::load_queries(&queries_path)?;
    let t = Instant::now();
    let apis = eval::load_specs(&shared, &queries)?;
    let load = t.elapsed();
    let t = Instant::now();
    let index = SearchIndex::build_with(&apis, None, eval::parse_weights(&weights)?)?;
    let build = t.elapsed();
    let t = Instant::now();
    let report = eval::run(&index, &queries);
    let run = t.elapsed();
    println!(
        "{} queries over {} specs (load {:.2?}, index {:.2?}, search {:.2?})\n",
        queries.len(),
        apis.len(),
        load,
        build,
        run
    );
    print!("{}", report.table());
    if misses {
        println!("\n{}", report.misses());
    }
    Ok(())
}
