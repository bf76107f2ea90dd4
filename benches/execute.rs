//! Benchmark of `execute` (plain binary, `harness = false`).
//!
//! `cargo bench --bench execute` prints:
//! - fresh sandbox + trivial script, p50/p99 (petstore and the 874-operation
//!   GitHub spec loaded, to show the cost does not grow with the API);
//! - one SDK call to a loopback mock, p50/p99;
//! - trivial executions per second with 2 worker threads;
//! - RSS before/after 10,000 sequential executions.
#![allow(clippy::unwrap_used)]

#[path = "../tests/execute_support/mod.rs"]
mod execute_support;

use codemode::execute::{CancellationToken, Executor, Limits, Scopes};
use execute_support::*;
use std::time::{Duration, Instant};

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        })
        .unwrap_or(0)
}

/// CPU time (user + system, all threads) of this process in milliseconds.
fn cpu_ms() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the `(comm)`: state is field 3; utime/stime are 14/15.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) * 10.0
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn latency(ex: &Executor, code: &str, n: usize) -> (Duration, Duration) {
    let scopes = Scopes::default();
    for _ in 0..50 {
        let out = rt().block_on(ex.execute(code, &scopes, CancellationToken::new(), None));
        assert!(out.ok, "{out:?}");
    }
    let mut v: Vec<Duration> = (0..n)
        .map(|_| {
            let t = Instant::now();
            let out = rt().block_on(ex.execute(code, &scopes, CancellationToken::new(), None));
            let d = t.elapsed();
            assert!(out.ok);
            d
        })
        .collect();
    v.sort();
    (pct(&v, 0.5), pct(&v, 0.99))
}

/// Like [`latency`] but every execution sends different code (no cache hits).
fn latency_uncached(ex: &Executor, n: usize) -> (Duration, Duration) {
    let scopes = Scopes::default();
    let mut v: Vec<Duration> = (0..n)
        .map(|i| {
            let code = format!("return 1 + {i}");
            let t = Instant::now();
            let out = rt().block_on(ex.execute(&code, &scopes, CancellationToken::new(), None));
            let d = t.elapsed();
            assert!(out.ok);
            d
        })
        .collect();
    v.sort();
    (pct(&v, 0.5), pct(&v, 0.99))
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let mock = Mock::start();
    let small = executor_with(
        vec![api(
            "mock",
            "fixtures/mock-api.yaml",
            mock.url("/v1"),
            Some(bearer("t")),
        )],
        Limits::default(),
        2,
    );
    let big = executor_with(
        vec![api(
            "github",
            "../shared/specs/github-octokit/api.github.com.json",
            mock.url("/v1"),
            Some(bearer("t")),
        )],
        Limits::default(),
        2,
    );
    let trivial = "return 1 + 1";

    let (p50, p99) = latency(&small, trivial, 2000);
    println!(
        "trivial (small API):           p50 {}  p99 {}",
        ms(p50),
        ms(p99)
    );
    let (p50, p99) = latency_uncached(&small, 2000);
    println!(
        "trivial, new code every time:  p50 {}  p99 {}",
        ms(p50),
        ms(p99)
    );
    let (p50, p99) = latency(&big, trivial, 2000);
    println!(
        "trivial (GitHub, 874 ops):     p50 {}  p99 {}",
        ms(p50),
        ms(p99)
    );
    let (p50, p99) = latency(
        &small,
        "const r = await mock.getItem({ id: '1' }); return r.path",
        1000,
    );
    println!(
        "one SDK call (loopback mock):  p50 {}  p99 {}",
        ms(p50),
        ms(p99)
    );
    let (p50, p99) = latency(
        &big,
        "const r = await github.reposGet({ owner: 'o', repo: 'r' }); return r.path",
        1000,
    );
    println!(
        "one SDK call (GitHub spec):    p50 {}  p99 {}",
        ms(p50),
        ms(p99)
    );

    // Throughput: 2 workers, many executions in flight.
    let ex = std::sync::Arc::new(small);
    for (label, vary) in [("same code", false), ("new code every time", true)] {
        let n = 10_000;
        let t = Instant::now();
        let cpu0 = cpu_ms();
        rt().block_on(async {
            let scopes = Scopes::default();
            let mut set = tokio::task::JoinSet::new();
            for i in 0..n {
                let ex = ex.clone();
                let scopes = scopes.clone();
                let code = if vary {
                    format!("return 1 + {i}")
                } else {
                    trivial.to_string()
                };
                set.spawn(async move {
                    ex.execute(&code, &scopes, CancellationToken::new(), None)
                        .await
                        .ok
                });
                while set.len() >= 32 {
                    assert!(set.join_next().await.unwrap().unwrap());
                }
            }
            while let Some(r) = set.join_next().await {
                assert!(r.unwrap());
            }
        });
        let secs = t.elapsed().as_secs_f64();
        let cpu = (cpu_ms() - cpu0) / n as f64;
        println!(
            "throughput (2 workers, {label}): {:.0} trivial executions/s wall-clock; {:.3} CPU-ms each (all threads) = {:.0}/s on 2 idle cores",
            n as f64 / secs,
            cpu,
            2000.0 / cpu
        );
    }

    // Memory: 10,000 sequential executions (a mix of trivial and SDK calls).
    let ex = executor_with(
        vec![api(
            "mock",
            "fixtures/mock-api.yaml",
            mock.url("/v1"),
            Some(bearer("t")),
        )],
        Limits::default(),
        2,
    );
    let scopes = Scopes::default();
    for _ in 0..500 {
        rt().block_on(ex.execute(trivial, &scopes, CancellationToken::new(), None));
    }
    let before = rss_kib();
    let mut mid = 0;
    for i in 0..10_000 {
        let code = if i % 10 == 0 {
            "const r = await mock.getItem({ id: 'x' }); return r.path"
        } else {
            "const a = Array.from({ length: 1000 }, (_, i) => ({ i })); return a.length"
        };
        let out = rt().block_on(ex.execute(code, &scopes, CancellationToken::new(), None));
        assert!(out.ok);
        if i == 4_999 {
            mid = rss_kib();
        }
    }
    let after = rss_kib();
    println!(
        "RSS over 10,000 executions:    {} KiB after warm-up, {} KiB at 5,000, {} KiB at 10,000 (growth {} KiB)",
        before,
        mid,
        after,
        after as i64 - before as i64
    );
}
