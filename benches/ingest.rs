//! Ingest benchmark: load + normalize + TypeScript generation time and peak
//! memory for the largest shared specs.
//!
//! `cargo bench --bench ingest` (release profile). Each spec is timed over
//! several runs in this process; peak RSS is measured in a fresh child
//! process per spec (peak RSS only grows within one process).
//! `CODEMODE_SHARED` overrides the `../shared` directory.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

const SPECS: &[(&str, &str)] = &[
    ("github-octokit", "github-octokit/api.github.com.json"),
    ("kubernetes", "kubernetes/swagger.json"),
    ("stripe", "stripe/spec3.yaml"),
    (
        "digitalocean",
        "digitalocean/specification/DigitalOcean-public.v2.yaml",
    ),
];
const RUNS: usize = 10;

fn specs_dir() -> PathBuf {
    match std::env::var_os("CODEMODE_SHARED") {
        Some(d) => PathBuf::from(d).join("specs"),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/specs"),
    }
}

fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // Child mode: load + generate once, print peak RSS in KiB.
    if let Some(i) = args.iter().position(|a| a == "--peak-rss-of") {
        let path = &args[i + 1];
        let api = sdk_gen::load(path).expect("spec loads");
        let ts = sdk_gen::typescript::declarations(&api, "bench").expect("ts");
        std::hint::black_box(ts);
        println!("{}", peak_rss_kb());
        return;
    }
    let dir = specs_dir();
    println!(
        "{:<16} {:>6} {:>7} {:>10} {:>10} {:>10} {:>10} {:>9}",
        "spec", "ops", "schemas", "load p50", "ts p50", "total p50", "total min", "peak RSS"
    );
    for (name, rel) in SPECS {
        let path = dir.join(rel).to_string_lossy().into_owned();
        let mut load_times = Vec::with_capacity(RUNS);
        let mut ts_times = Vec::with_capacity(RUNS);
        let mut totals = Vec::with_capacity(RUNS);
        let mut counts = (0, 0);
        for _ in 0..RUNS {
            let start = Instant::now();
            let api = sdk_gen::load(&path).expect("spec loads");
            let loaded = Instant::now();
            let ts = sdk_gen::typescript::declarations(&api, "bench").expect("ts");
            let done = Instant::now();
            std::hint::black_box(&ts);
            counts = (api.operations.len(), api.types.len());
            load_times.push(loaded - start);
            ts_times.push(done - loaded);
            totals.push(done - start);
        }
        for v in [&mut load_times, &mut ts_times, &mut totals] {
            v.sort();
        }
        let exe = std::env::current_exe().expect("own path");
        let child = Command::new(exe)
            .args(["--peak-rss-of", &path])
            .output()
            .expect("child runs");
        let rss_kb: u64 = String::from_utf8_lossy(&child.stdout)
            .trim()
            .parse()
            .unwrap_or(0);
        println!(
            "{:<16} {:>6} {:>7} {:>8.1}ms {:>8.1}ms {:>8.1}ms {:>8.1}ms {:>7.1}MB",
            name,
            counts.0,
            counts.1,
            ms(load_times[RUNS / 2]),
            ms(ts_times[RUNS / 2]),
            ms(totals[RUNS / 2]),
            ms(totals[0]),
            rss_kb as f64 / 1024.0
        );
    }
}
