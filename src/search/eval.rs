//! Search quality on a labelled query set: recall@1, recall@5 and MRR per
//! spec, per query kind and overall. Used by the `search-eval` binary and
//! the floor test (`tests/search_eval.rs`).
//!
//! Query file format (JSON lines): `{"spec": "<name>", "query": "<text>",
//! "expected": ["METHOD /path", …], "kind": "<kind>"}`; spec names resolve
//! to files through the shared `specs/INDEX.tsv`.

use super::{SearchIndex, SearchRequest, Weights};
use anyhow::{bail, Context as _};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Results looked at per query (MRR counts ranks up to this).
pub const DEPTH: usize = 10;

/// One labelled query.
#[derive(Debug, Clone, Deserialize)]
pub struct EvalQuery {
    pub spec: String,
    pub query: String,
    /// `METHOD /path` keys; any counts, the first is the best.
    pub expected: Vec<String>,
    pub kind: String,
}

/// The shared data folder: `$CODEMODE_SHARED`, else `../shared` next to the workspace.
pub fn shared_dir() -> PathBuf {
    match std::env::var_os("CODEMODE_SHARED").filter(|d| !d.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join("shared"),
    }
}

/// Reads a JSON-lines query file.
pub fn load_queries(path: &Path) -> anyhow::Result<Vec<EvalQuery>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the query set {}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let q: EvalQuery = serde_json::from_str(line)
            .with_context(|| format!("{}:{}: not a query object", path.display(), i + 1))?;
        out.push(q);
    }
    Ok(out)
}

/// Spec name → file, from `specs/INDEX.tsv` (columns `name`, `path`, …).
pub fn spec_paths(shared: &Path) -> anyhow::Result<BTreeMap<String, PathBuf>> {
    let specs = shared.join("specs");
    let index = specs.join("INDEX.tsv");
    let text = std::fs::read_to_string(&index).with_context(|| {
        format!(
            "cannot read {}; set CODEMODE_SHARED to the folder holding specs/ and search-eval/",
            index.display()
        )
    })?;
    let mut out = BTreeMap::new();
    for line in text.lines().skip(1) {
        let mut cols = line.split('\t');
        if let (Some(name), Some(path)) = (cols.next(), cols.next()) {
            out.insert(name.to_string(), specs.join(path));
        }
    }
    Ok(out)
}

/// Loads every spec the queries use (named as in the query file).
pub fn load_specs(
    shared: &Path,
    queries: &[EvalQuery],
) -> anyhow::Result<Vec<(String, Arc<sdk_gen::Api>)>> {
    let paths = spec_paths(shared)?;
    let mut names: Vec<&str> = queries.iter().map(|q| q.spec.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    let mut apis = Vec::new();
    for name in names {
        let Some(path) = paths.get(name) else {
            bail!("spec {name:?} is not in INDEX.tsv");
        };
        let source = path.to_string_lossy();
        let api = sdk_gen::load(&source)
            .with_context(|| format!("cannot load spec {name:?} from {source}"))?;
        apis.push((name.to_string(), Arc::new(api)));
    }
    Ok(apis)
}

/// Scores of a group of queries.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Scores {
    pub queries: usize,
    pub recall_at_1: f64,
    pub recall_at_5: f64,
    pub mrr: f64,
}

/// One query's outcome.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub query: EvalQuery,
    /// 1-based rank of the first expected operation within [`DEPTH`].
    pub rank: Option<usize>,
    /// The top results as `METHOD /path`.
    pub top: Vec<String>,
}

/// Everything an evaluation run measured.
#[derive(Debug, Clone)]
pub struct Report {
    pub outcomes: Vec<Outcome>,
}

fn scores<'a>(outcomes: impl Iterator<Item = &'a Outcome>) -> Scores {
    let mut s = Scores::default();
    for o in outcomes {
        s.queries += 1;
        if let Some(r) = o.rank {
            if r == 1 {
                s.recall_at_1 += 1.0;
            }
            if r <= 5 {
                s.recall_at_5 += 1.0;
            }
            s.mrr += 1.0 / r as f64;
        }
    }
    if s.queries > 0 {
        let n = s.queries as f64;
        s.recall_at_1 /= n;
        s.recall_at_5 /= n;
        s.mrr /= n;
    }
    s
}

impl Report {
    pub fn overall(&self) -> Scores {
        scores(self.outcomes.iter())
    }

    /// Scores grouped by a key (spec or kind), sorted by key.
    pub fn by(&self, key: impl Fn(&EvalQuery) -> &str) -> Vec<(String, Scores)> {
        let mut groups: BTreeMap<String, Vec<&Outcome>> = BTreeMap::new();
        for o in &self.outcomes {
            groups.entry(key(&o.query).to_string()).or_default().push(o);
        }
        groups
            .into_iter()
            .map(|(k, v)| (k, scores(v.into_iter())))
            .collect()
    }

    /// The report as a text table (per spec, per kind, overall).
    pub fn table(&self) -> String {
        let mut s = String::new();
        let row = |s: &mut String, name: &str, x: &Scores| {
            let _ = writeln!(
                s,
                "{name:<22} {:>3}  {:>6.3}  {:>6.3}  {:>6.3}",
                x.queries, x.recall_at_1, x.recall_at_5, x.mrr
            );
        };
        let header = |s: &mut String, title: &str| {
            let _ = writeln!(
                s,
                "{title:<22} {:>3}  {:>6}  {:>6}  {:>6}",
                "n", "R@1", "R@5", "MRR"
            );
        };
        header(&mut s, "spec");
        for (k, x) in self.by(|q| &q.spec) {
            row(&mut s, &k, &x);
        }
        s.push('\n');
        header(&mut s, "kind");
        for (k, x) in self.by(|q| &q.kind) {
            row(&mut s, &k, &x);
        }
        s.push('\n');
        row(&mut s, "overall", &self.overall());
        s
    }

    /// Queries whose best expected answer was not first, with what ranked.
    pub fn misses(&self) -> String {
        let mut s = String::new();
        for o in &self.outcomes {
            if o.rank == Some(1) {
                continue;
            }
            let rank = o.rank.map_or("-".to_string(), |r| r.to_string());
            let _ = writeln!(
                s,
                "[{rank}] {} | {} ({})",
                o.query.spec, o.query.query, o.query.kind
            );
            let _ = writeln!(s, "    want {}", o.query.expected.join(" | "));
            for t in o.top.iter().take(3) {
                let _ = writeln!(s, "    got  {t}");
            }
        }
        s
    }
}

/// Runs every query against `index` (each restricted to its spec's API).
pub fn run(index: &SearchIndex, queries: &[EvalQuery]) -> Report {
    let outcomes = queries
        .iter()
        .map(|q| {
            let results = index.search(&SearchRequest {
                query: q.query.clone(),
                api: Some(q.spec.clone()),
                limit: Some(DEPTH),
                ..SearchRequest::default()
            });
            let top: Vec<String> = results
                .hits
                .iter()
                .map(|h| format!("{} {}", h.method, h.path))
                .collect();
            let rank = top
                .iter()
                .position(|t| q.expected.contains(t))
                .map(|p| p + 1);
            Outcome {
                query: q.clone(),
                rank,
                top,
            }
        })
        .collect();
    Report { outcomes }
}

/// Parses `name=value,name=value` weight overrides.
pub fn parse_weights(spec: &str) -> anyhow::Result<Weights> {
    let mut w = Weights::default();
    for pair in spec.split(',').filter(|p| !p.trim().is_empty()) {
        let Some((k, v)) = pair.split_once('=') else {
            bail!("weight {pair:?} is not name=value");
        };
        let v: f32 = v
            .trim()
            .parse()
            .with_context(|| format!("weight {k}: {v:?} is not a number"))?;
        w.set(k.trim(), v).map_err(anyhow::Error::msg)?;
    }
    Ok(w)
}
