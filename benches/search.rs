//! Search benchmarks on the largest shared specs (release build):
//!
//! - query latency (p50, p99) of `SearchIndex::search` over the dev queries
//!   of github-octokit and kubernetes — wall time, and wall time minus the
//!   time the thread waited for a CPU (on a shared machine) — and of
//!   rendering the results;
//! - index build time (in memory, and into the disk cache) vs opening the
//!   cached index, for github-octokit, stripe, kubernetes and digitalocean.
//!
//! ```text
//! cargo bench --bench search                 # everything
//! cargo bench --bench search -- kubernetes   # one spec
//! SEARCH_BENCH_LATENCY_ONLY=1 SEARCH_BENCH_PER_QUERY=1 cargo bench --bench search
//! ```
//! Specs come from `$CODEMODE_SHARED` (default `../shared`).

use codemode::search::{eval, SearchIndex, SearchRequest};
use std::sync::Arc;
use std::time::{Duration, Instant};

const LATENCY_SPECS: &[&str] = &["github-octokit", "kubernetes"];
const BUILD_SPECS: &[&str] = &["github-octokit", "stripe", "kubernetes", "digitalocean"];
const ROUNDS: usize = 300;

/// Nanoseconds this thread has spent waiting for a CPU (Linux
/// `/proc/thread-self/schedstat`, second field); `None` elsewhere. Wall
/// time minus this is the latency on an idle machine: the benchmark
/// machine may be shared.
fn run_queue_wait() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = text.split_whitespace().nth(1)?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn median_of<F: FnMut() -> Duration>(runs: usize, mut f: F) -> Duration {
    let mut v: Vec<Duration> = (0..runs).map(|_| f()).collect();
    v.sort();
    v[v.len() / 2]
}

fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn main() -> anyhow::Result<()> {
    // `cargo bench` passes `--bench`; a filter argument picks specs.
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let shared = eval::shared_dir();
    let paths = eval::spec_paths(&shared)?;
    let queries = eval::load_queries(&shared.join("search-eval").join("dev-queries.jsonl"))?;
    let cache = tempfile::tempdir()?;

    println!("== index build vs cached load (median of 3; spec load excluded)");
    println!(
        "{:<16} {:>6} {:>12} {:>14} {:>14} {:>12}",
        "spec", "ops", "spec load", "build (RAM)", "build+cache", "cached load"
    );
    let latency_only = std::env::var_os("SEARCH_BENCH_LATENCY_ONLY").is_some();
    for &name in BUILD_SPECS {
        if latency_only {
            break;
        }
        if filter.as_deref().is_some_and(|f| !name.contains(f)) {
            continue;
        }
        let Some(path) = paths.get(name) else {
            continue;
        };
        let t = Instant::now();
        let api = Arc::new(sdk_gen::load(&path.to_string_lossy())?);
        let spec_load = t.elapsed();
        let apis = vec![(name.to_string(), api.clone())];
        let build_ram = median_of(3, || {
            let t = Instant::now();
            let ix = SearchIndex::build(&apis, None).expect("builds");
            let d = t.elapsed();
            drop(ix);
            d
        });
        let build_cache = median_of(3, || {
            let dir = cache.path().join(format!("{name}-fresh-{}", rand_suffix()));
            let t = Instant::now();
            let ix = SearchIndex::build(&apis, Some(&dir)).expect("builds");
            let d = t.elapsed();
            drop(ix);
            d
        });
        let dir = cache.path().join(format!("{name}-warm"));
        drop(SearchIndex::build(&apis, Some(&dir))?);
        let mut phases = String::new();
        let cached = median_of(3, || {
            let t = Instant::now();
            let ix = SearchIndex::build(&apis, Some(&dir)).expect("opens");
            let d = t.elapsed();
            assert!(matches!(
                ix.report().origin,
                codemode::search::IndexOrigin::Cached(_)
            ));
            let r = ix.report();
            phases = format!(
                "(hash {}, tables {}, open {})",
                ms(r.hashing),
                ms(r.tables),
                ms(r.tantivy)
            );
            d
        });
        println!(
            "{:<16} {:>6} {:>12} {:>14} {:>14} {:>12}  {phases}",
            name,
            api.operations.len(),
            ms(spec_load),
            ms(build_ram),
            ms(build_cache),
            ms(cached)
        );
    }

    println!("\n== query latency over the dev queries ({ROUNDS} rounds each)");
    println!(
        "{:<16} {:>4} {:>10} {:>10} {:>14} {:>14} {:>14} {:>14}",
        "spec", "q", "p50", "p99", "on-CPU p50", "on-CPU p99", "render p50", "render p99"
    );
    for &name in LATENCY_SPECS {
        if filter.as_deref().is_some_and(|f| !name.contains(f)) {
            continue;
        }
        let Some(path) = paths.get(name) else {
            continue;
        };
        let api = Arc::new(sdk_gen::load(&path.to_string_lossy())?);
        let apis = vec![(name.to_string(), api)];
        // `SEARCH_BENCH_WEIGHTS=name=value,…` measures other ranking settings.
        let weights =
            eval::parse_weights(&std::env::var("SEARCH_BENCH_WEIGHTS").unwrap_or_default())?;
        let index = SearchIndex::build_with(&apis, None, weights)?;
        let requests: Vec<SearchRequest> = queries
            .iter()
            .filter(|q| q.spec == name)
            .map(|q| SearchRequest {
                query: q.query.clone(),
                ..SearchRequest::default()
            })
            .collect();
        // Warm up (tokenizer tables, BPE, caches).
        for r in &requests {
            let _ = index.search(r).render_text();
        }
        let mut search_times = Vec::with_capacity(ROUNDS * requests.len());
        let mut on_cpu_times = Vec::with_capacity(ROUNDS * requests.len());
        let mut render_times = Vec::with_capacity(ROUNDS * requests.len());
        for _ in 0..ROUNDS {
            for r in &requests {
                let wait = run_queue_wait();
                let t = Instant::now();
                let results = index.search(r);
                let wall = t.elapsed();
                search_times.push(wall);
                if let (Some(a), Some(b)) = (wait, run_queue_wait()) {
                    on_cpu_times.push(wall.saturating_sub(b.saturating_sub(a)));
                }
                if latency_only {
                    continue;
                }
                let t = Instant::now();
                let text = results.render_text();
                render_times.push(t.elapsed());
                std::hint::black_box(text);
            }
        }
        if std::env::var_os("SEARCH_BENCH_PER_QUERY").is_some() {
            for (i, r) in requests.iter().enumerate() {
                let mut v: Vec<Duration> = search_times
                    .iter()
                    .skip(i)
                    .step_by(requests.len())
                    .copied()
                    .collect();
                v.sort();
                println!("  {:>10}  {}", us(percentile(&v, 0.5)), r.query);
            }
        }
        search_times.sort();
        render_times.sort();
        on_cpu_times.sort();
        println!(
            "{:<16} {:>4} {:>10} {:>10} {:>14} {:>14} {:>14} {:>14}",
            name,
            requests.len(),
            us(percentile(&search_times, 0.5)),
            us(percentile(&search_times, 0.99)),
            us(percentile(&on_cpu_times, 0.5)),
            us(percentile(&on_cpu_times, 0.99)),
            us(percentile(&render_times, 0.5)),
            us(percentile(&render_times, 0.99)),
        );
    }
    Ok(())
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}
