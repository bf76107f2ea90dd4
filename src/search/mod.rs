//! # Search: find the right operations in a large API from a few words
//!
//! This module owns the `search` tool's engine: indexing every loaded API's
//! operations, understanding a query, ranking, and rendering results within
//! a token budget. One stage per file:
//!
//! - [`tokenize`]: identifier-aware analysis (camelCase, snake_case,
//!   kebab-case, dotted names, `{params}`), stemming, stop words, synonyms,
//!   verb intents; registered with tantivy as one tokenizer.
//! - [`index`]: the tantivy schema (one document per operation), building,
//!   and the on-disk cache keyed by a hash of the APIs; the in-memory
//!   operation table the re-ranker reads.
//! - [`query`]: user text → terms, intent, explicit method, identifiers and
//!   path fragments → a tantivy query built clause by clause (the query
//!   parser never sees user text).
//! - [`rank`]: BM25 candidates re-ranked by features and fused; ready for a
//!   second (semantic) scorer.
//! - [`render`]: budgeted text for agents (full signatures for the best few,
//!   one line for the next) and structured JSON.
//! - [`eval`]: recall@1/recall@5/MRR over a query set (the quality gate).
//!
//! Public API: [`SearchIndex::build`], [`SearchIndex::search`] with a
//! [`SearchRequest`], then [`SearchResults::render_text`] or
//! [`SearchResults::json_hits`].

pub mod eval;
mod index;
mod query;
mod rank;
mod render;
mod tokenize;

pub use index::IndexOrigin;
pub use rank::Weights;
pub use render::{count_tokens, JsonHit, RenderedHit, RenderedParts, DEFAULT_TOKEN_BUDGET};

use index::{Fields, OpInfo, Terms};
use sdk_gen::{Api, Method, TypeId};
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tantivy::collector::{Count, TopDocs};
use tantivy::{DocAddress, Searcher};

/// Results shown when the request does not say.
pub const DEFAULT_LIMIT: usize = 5;
/// Most results one request may ask for.
pub const MAX_LIMIT: usize = 50;

/// Why an index could not be built or opened.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// tantivy failed (a corrupt cache is rebuilt, so this is rare).
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    /// Two APIs were given the same name.
    #[error("two APIs are named {0:?}; give each loaded API a distinct name")]
    DuplicateApi(String),
}

/// One search. Only `query` is required.
#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    /// What the agent wants: free text, an operation name (`reposGet`), an
    /// operationId (`repos/get`), `METHOD /path`, a path, or a type name.
    pub query: String,
    /// Only this API (a name given to [`SearchIndex::build`]).
    pub api: Option<String>,
    /// Only this HTTP method (any case).
    pub method: Option<String>,
    /// Only operations with this tag (any case).
    pub tag: Option<String>,
    /// How many operations to return (default [`DEFAULT_LIMIT`], at most [`MAX_LIMIT`]).
    pub limit: Option<usize>,
    /// What the caller may see (its scopes); `None` shows everything.
    pub visibility: Option<Arc<dyn Visibility>>,
}

/// Decides which APIs and operations one caller may see: search never
/// shows what the caller could not call.
pub trait Visibility: Send + Sync {
    /// Whether anything of `api` may be shown (its types, say).
    fn api_visible(&self, api: &str) -> bool;
    /// Whether `op` of `api` may be shown.
    fn operation_visible(&self, api: &str, op: &sdk_gen::Operation) -> bool;
}

impl std::fmt::Debug for dyn Visibility {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Visibility")
    }
}

/// One ranked operation.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    /// The API it belongs to.
    pub api: String,
    /// SDK function name.
    pub name: String,
    /// HTTP method, upper case.
    pub method: String,
    /// The path key exactly as in the spec.
    pub path: String,
    /// Final ranking score (higher is better; only comparable within one search).
    pub score: f32,
    /// The whole query named this operation exactly.
    pub exact: bool,
    /// `summary` (or the start of `description`).
    pub summary: Option<String>,
    pub deprecated: bool,
    #[serde(skip)]
    pub(crate) api_ref: Arc<Api>,
    #[serde(skip)]
    pub(crate) op_index: usize,
}

impl Hit {
    /// The operation in its API's model.
    pub fn operation(&self) -> &sdk_gen::Operation {
        &self.api_ref.operations[self.op_index]
    }
}

/// A type whose name the query gave.
#[derive(Debug, Clone, Serialize)]
pub struct TypeHit {
    pub api: String,
    /// TypeScript name.
    pub name: String,
    /// Name in the spec.
    pub source_name: String,
    /// Full declaration.
    pub declaration: String,
}

/// What a search found.
#[derive(Debug, Clone, Serialize)]
pub struct SearchResults {
    /// The query as searched (cut if it was huge).
    pub query: String,
    /// Ranked operations, best first, at most `limit`.
    pub hits: Vec<Hit>,
    /// Types named by the query.
    pub types: Vec<TypeHit>,
    /// How many operations matched at all.
    pub total: usize,
    /// The limit applied.
    pub limit: usize,
    /// Messages for the caller: nothing matched and why, what to try, query cut…
    pub notes: Vec<String>,
}

/// How the index was made and how long it took.
#[derive(Debug, Clone)]
pub struct BuildReport {
    pub origin: IndexOrigin,
    /// Wall time of [`SearchIndex::build`] (tantivy part and tables).
    pub elapsed: Duration,
    /// Of which: the re-ranker's operation table.
    pub tables: Duration,
    /// Of which: hashing the APIs for the cache key (zero without a cache).
    pub hashing: Duration,
    /// Of which: building or opening the tantivy index.
    pub tantivy: Duration,
    pub operations: usize,
}

struct LoadedApi {
    name: String,
    api: Arc<Api>,
    /// Core-term document frequencies in this API.
    df: HashMap<u32, u32>,
    tags: Vec<String>,
}

/// Searchable operations of every loaded API.
pub struct SearchIndex {
    apis: Vec<LoadedApi>,
    ops: Vec<OpInfo>,
    terms: Terms,
    fields: Fields,
    searcher: Searcher,
    /// segment ordinal → doc id → global operation ordinal.
    doc_ords: Vec<Vec<u32>>,
    /// Lower-cased exact keys (name, operationId, `method path`, path) → ordinals.
    exact: HashMap<String, Vec<u32>>,
    /// Lower-cased type names (TypeScript and spec) → (api, type).
    types: HashMap<String, Vec<(usize, TypeId)>>,
    weights: Weights,
    report: BuildReport,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex")
            .field("apis", &self.api_names())
            .field("operations", &self.ops.len())
            .field("report", &self.report)
            .finish_non_exhaustive()
    }
}

/// `$CODEMODE_CACHE_DIR`, else `$XDG_CACHE_HOME/codemode`, else `~/.cache/codemode`.
pub fn default_cache_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("CODEMODE_CACHE_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d));
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d).join("codemode"));
    }
    std::env::var_os("HOME")
        .filter(|d| !d.is_empty())
        .map(|h| PathBuf::from(h).join(".cache").join("codemode"))
}

/// Path without params' names: `/repos/{owner}` → `/repos/{}`.
fn normalize_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push('{');
            }
            '}' => {
                in_param = false;
                out.push('}');
            }
            _ if in_param => {}
            _ => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// Lower-cased, whitespace-collapsed form of an exact key.
fn exact_key(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

impl SearchIndex {
    /// Indexes these APIs (name → model). With a `cache_dir`, the tantivy
    /// index is stored there keyed by a hash of the models, and reopened
    /// instead of rebuilt next time; without, it is built in memory.
    pub fn build(
        apis: &[(String, Arc<Api>)],
        cache_dir: Option<&Path>,
    ) -> Result<SearchIndex, SearchError> {
        Self::build_with(apis, cache_dir, Weights::default())
    }

    /// [`SearchIndex::build`] with non-default ranking weights (tuning).
    pub fn build_with(
        apis: &[(String, Arc<Api>)],
        cache_dir: Option<&Path>,
        weights: Weights,
    ) -> Result<SearchIndex, SearchError> {
        let start = Instant::now();
        for (i, (name, _)) in apis.iter().enumerate() {
            if apis[..i].iter().any(|(n, _)| n == name) {
                return Err(SearchError::DuplicateApi(name.clone()));
            }
        }
        let t = Instant::now();
        let (ops, terms, dfs) = index::op_table(apis);
        let tables = t.elapsed();
        if let Some(dir) = cache_dir {
            std::fs::create_dir_all(dir).map_err(|e| {
                tantivy::TantivyError::SystemError(format!(
                    "cannot create the search cache directory {}: {e}; pass another cache directory or none",
                    dir.display()
                ))
            })?;
        }
        let key = match cache_dir {
            Some(dir) => {
                let t = Instant::now();
                let key = index::cache_key(apis);
                Some((dir, key, t.elapsed()))
            }
            None => None,
        };
        let hashing = key.as_ref().map_or(Duration::ZERO, |k| k.2);
        let t = Instant::now();
        let (tantivy_index, fields, origin) =
            index::open_or_build(apis, &ops, key.as_ref().map(|(d, k, _)| (*d, k.as_str())))?;
        let tantivy = t.elapsed();
        let reader = index::reader(&tantivy_index)?;
        let searcher = reader.searcher();
        let mut doc_ords = Vec::new();
        for segment in searcher.segment_readers() {
            let column = segment.fast_fields().u64("ord")?;
            let ords = (0..segment.max_doc())
                .map(|d| column.first(d).unwrap_or(0) as u32)
                .collect();
            doc_ords.push(ords);
        }
        let mut exact: HashMap<String, Vec<u32>> = HashMap::new();
        let mut add = |key: String, ord: u32| {
            let v = exact.entry(key).or_default();
            if !v.contains(&ord) {
                v.push(ord);
            }
        };
        for (ord, info) in ops.iter().enumerate() {
            let ord = ord as u32;
            let op = &apis[info.api].1.operations[info.op];
            add(op.name.to_lowercase(), ord);
            if let Some(id) = &op.operation_id {
                add(exact_key(id), ord);
            }
            let path = op.path.to_lowercase();
            let norm = normalize_path(&op.path);
            add(format!("{} {}", op.method.key(), path), ord);
            add(format!("{} {}", op.method.key(), norm), ord);
            add(path.clone(), ord);
            add(norm.clone(), ord);
            add(path.trim_start_matches('/').to_string(), ord);
        }
        let mut types: HashMap<String, Vec<(usize, TypeId)>> = HashMap::new();
        for (ai, (_, api)) in apis.iter().enumerate() {
            for (ti, t) in api.types.iter().enumerate() {
                for key in [t.name.to_lowercase(), t.source_name.to_lowercase()] {
                    let v = types.entry(key).or_default();
                    if !v.contains(&(ai, TypeId(ti))) {
                        v.push((ai, TypeId(ti)));
                    }
                }
            }
        }
        let loaded = apis
            .iter()
            .zip(dfs)
            .map(|((name, api), df)| {
                let mut tags: Vec<String> = api
                    .operations
                    .iter()
                    .flat_map(|o| o.tags.iter().cloned())
                    .collect();
                tags.sort();
                tags.dedup();
                LoadedApi {
                    name: name.clone(),
                    api: api.clone(),
                    df,
                    tags,
                }
            })
            .collect();
        let operations = ops.len();
        Ok(SearchIndex {
            apis: loaded,
            ops,
            terms,
            fields,
            searcher,
            doc_ords,
            exact,
            types,
            weights,
            report: BuildReport {
                origin,
                elapsed: start.elapsed(),
                tables,
                hashing,
                tantivy,
                operations,
            },
        })
    }

    /// Names of the loaded APIs, in load order.
    pub fn api_names(&self) -> Vec<&str> {
        self.apis.iter().map(|a| a.name.as_str()).collect()
    }

    /// How the index was made.
    pub fn report(&self) -> &BuildReport {
        &self.report
    }

    fn ord_of(&self, addr: DocAddress) -> Option<u32> {
        self.doc_ords
            .get(addr.segment_ord as usize)
            .and_then(|s| s.get(addr.doc_id as usize))
            .copied()
    }

    fn hit(&self, c: &rank::Candidate) -> Hit {
        let info = &self.ops[c.ord as usize];
        let loaded = &self.apis[info.api];
        let op = &loaded.api.operations[info.op];
        Hit {
            api: loaded.name.clone(),
            name: op.name.clone(),
            method: op.method.as_str().to_string(),
            path: op.path.clone(),
            score: c.score,
            exact: c.exact,
            summary: op
                .summary
                .as_deref()
                .or(op.description.as_deref())
                .map(|s| sdk_gen::typescript::summarize(s, 120)),
            deprecated: op.deprecated,
            api_ref: loaded.api.clone(),
            op_index: info.op,
        }
    }

    /// Runs one search. Never fails: bad input gives no hits and a note
    /// that says what to try.
    pub fn search(&self, req: &SearchRequest) -> SearchResults {
        let limit = req.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
        let mut results = SearchResults {
            query: String::new(),
            hits: Vec::new(),
            types: Vec::new(),
            total: 0,
            limit,
            notes: Vec::new(),
        };
        if let Some(problem) = self.check_filters(req) {
            results.query = query::cut(req.query.trim(), query::MAX_QUERY_CHARS).to_string();
            results.notes.push(problem);
            return results;
        }
        let api_filter = req.api.as_deref().and_then(|a| {
            self.apis
                .iter()
                .position(|x| x.name.eq_ignore_ascii_case(a.trim()))
        });
        let method_filter = req.method.as_deref().and_then(|m| Method::parse(m.trim()));
        let tag_filter = req.tag.as_deref().map(|t| t.trim().to_lowercase());
        let q = query::parse(&req.query, &self.weights);
        results.query = q.text.clone();
        results.notes.extend(q.notes.iter().cloned());

        let visible = |ord: u32| {
            let info = &self.ops[ord as usize];
            let loaded = &self.apis[info.api];
            req.visibility
                .as_ref()
                .is_none_or(|v| v.operation_visible(&loaded.name, &loaded.api.operations[info.op]))
        };
        let passes = |ord: u32| {
            let info = &self.ops[ord as usize];
            let op = &self.apis[info.api].api.operations[info.op];
            visible(ord)
                && api_filter.is_none_or(|a| a == info.api)
                && method_filter.is_none_or(|m| m == op.method)
                && tag_filter
                    .as_deref()
                    .is_none_or(|t| op.tags.iter().any(|x| x.to_lowercase() == t))
        };

        // Exact lookups.
        let whole = exact_key(&q.text);
        let mut exact_ords: Vec<u32> = Vec::new();
        for key in exact_candidates(&whole) {
            if let Some(ords) = self.exact.get(&key) {
                for &o in ords {
                    if passes(o) && !exact_ords.contains(&o) {
                        exact_ords.push(o);
                    }
                }
            }
        }
        // Type names.
        if let Some(found) = self.types.get(&whole) {
            for &(ai, tid) in found {
                if api_filter.is_some_and(|a| a != ai)
                    || req
                        .visibility
                        .as_ref()
                        .is_some_and(|v| !v.api_visible(&self.apis[ai].name))
                {
                    continue;
                }
                let api = &self.apis[ai].api;
                let t = api.ty(tid);
                results.types.push(TypeHit {
                    api: self.apis[ai].name.clone(),
                    name: t.name.clone(),
                    source_name: t.source_name.clone(),
                    declaration: sdk_gen::typescript::type_declaration(api, tid),
                });
            }
        }
        // Identifier tokens inside a longer query.
        let mut ident_ords: Vec<u32> = Vec::new();
        for token in &q.identifiers {
            for key in exact_candidates(token) {
                if let Some(ords) = self.exact.get(&key) {
                    ident_ords.extend(ords.iter().copied().filter(|&o| passes(o)));
                }
            }
        }

        let filters = query::Filters {
            api: api_filter.map(|a| self.apis[a].name.as_str()),
            method: method_filter,
            tag: tag_filter.clone(),
        };
        let mut candidates: Vec<rank::Candidate> = Vec::new();
        if let Some(tq) = query::tantivy_query(&q, &self.fields, &filters, &self.weights, |t| {
            self.terms.get(t).is_some()
        }) {
            let browse = q.terms.is_empty();
            let k = if browse {
                limit
            } else {
                self.weights.candidates.max(limit)
            };
            // Hidden operations are dropped below: look further down the list.
            let k = if req.visibility.is_some() { k * 4 } else { k };
            match self.searcher.search(&*tq, &(TopDocs::with_limit(k), Count)) {
                Ok((top, count)) => {
                    results.total = count;
                    for (score, addr) in top {
                        if let Some(ord) = self.ord_of(addr) {
                            if !visible(ord) {
                                results.total = results.total.saturating_sub(1);
                                continue;
                            }
                            candidates.push(rank::Candidate {
                                ord,
                                bm25: if browse { 0.0 } else { score },
                                features: 0.0,
                                exact: false,
                                score: 0.0,
                            });
                        }
                    }
                    if browse {
                        candidates.sort_by_key(|c| c.ord);
                    }
                }
                Err(e) => results
                    .notes
                    .push(format!("search failed inside the index: {e}")),
            }
        }
        for &o in exact_ords.iter().chain(&ident_ords) {
            if !candidates.iter().any(|c| c.ord == o) {
                candidates.push(rank::Candidate {
                    ord: o,
                    bm25: 0.0,
                    features: 0.0,
                    exact: false,
                    score: 0.0,
                });
                results.total += 1;
            }
        }
        if !q.terms.is_empty() || !exact_ords.is_empty() || !ident_ords.is_empty() {
            // Per-API term statistics: use the filtered API's, else each candidate's own.
            let mut resolved_per_api: Vec<Option<rank::ResolvedTerms>> =
                (0..self.apis.len()).map(|_| None).collect();
            for c in candidates.iter_mut() {
                let info = &self.ops[c.ord as usize];
                let resolved = resolved_per_api[info.api].get_or_insert_with(|| {
                    let loaded = &self.apis[info.api];
                    rank::resolve_terms(
                        &q,
                        &self.terms,
                        &loaded.df,
                        loaded.api.operations.len(),
                        &self.weights,
                    )
                });
                c.exact = exact_ords.contains(&c.ord);
                c.features = rank::features(
                    info,
                    &q,
                    resolved,
                    ident_ords.contains(&c.ord),
                    &self.weights,
                );
            }
            rank::fuse(&mut candidates, &self.weights);
        }
        results.hits = candidates.iter().take(limit).map(|c| self.hit(c)).collect();
        if results.hits.is_empty() && results.types.is_empty() {
            results.notes.push(self.no_match_note(&req.query, &q));
        }
        results
    }

    fn check_filters(&self, req: &SearchRequest) -> Option<String> {
        if let Some(a) = req.api.as_deref() {
            if !self
                .apis
                .iter()
                .any(|x| x.name.eq_ignore_ascii_case(a.trim()))
            {
                return Some(format!(
                    "no API is named {a:?}; APIs loaded: {}. Leave `api` out to search them all.",
                    self.api_names().join(", ")
                ));
            }
        }
        if let Some(m) = req.method.as_deref() {
            if Method::parse(m.trim()).is_none() {
                return Some(format!(
                    "{m:?} is not an HTTP method; use one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, TRACE, or leave `method` out."
                ));
            }
        }
        if let Some(t) = req.tag.as_deref() {
            let t = t.trim();
            let scope: Vec<&LoadedApi> = match req.api.as_deref() {
                Some(a) => self
                    .apis
                    .iter()
                    .filter(|x| x.name.eq_ignore_ascii_case(a.trim()))
                    .collect(),
                None => self.apis.iter().collect(),
            };
            if !scope
                .iter()
                .any(|x| x.tags.iter().any(|y| y.eq_ignore_ascii_case(t)))
            {
                let mut known: Vec<&str> = scope
                    .iter()
                    .flat_map(|x| x.tags.iter().map(String::as_str))
                    .collect();
                known.sort_unstable();
                known.dedup();
                let shown: Vec<&str> = known.iter().take(30).copied().collect();
                let more = known.len().saturating_sub(shown.len());
                let mut msg = format!("no operation has the tag {t:?}; ");
                if known.is_empty() {
                    msg.push_str("these APIs use no tags. Leave `tag` out.");
                } else {
                    msg.push_str(&format!("tags: {}", shown.join(", ")));
                    if more > 0 {
                        msg.push_str(&format!(" (and {more} more)"));
                    }
                    msg.push_str(". Leave `tag` out to search every operation.");
                }
                return Some(msg);
            }
        }
        None
    }

    fn no_match_note(&self, raw: &str, q: &query::ParsedQuery) -> String {
        let apis = self.api_names().join(", ");
        if raw.trim().is_empty() {
            format!(
                "the query is empty; describe what you want to do in a few words (e.g. \"list open pull requests\"), or give an operation name, `METHOD /path` or a type name. APIs loaded: {apis}."
            )
        } else if q.terms.is_empty() {
            format!(
                "{:?} has no searchable words (only stop words, numbers or punctuation); name the action and the thing, e.g. \"delete a webhook\". APIs loaded: {apis}.",
                q.text
            )
        } else {
            format!(
                "no operation matched {:?}; APIs loaded: {apis}. Try other words for the thing you want (e.g. \"user\" instead of \"member\"), fewer words, or drop the method/tag filter.",
                q.text
            )
        }
    }
}

/// Keys under which an exact query may be found.
fn exact_candidates(whole: &str) -> Vec<String> {
    let mut keys = vec![whole.to_string()];
    if let Some((m, rest)) = whole.split_once(' ') {
        if Method::parse(m).is_some() {
            let rest = rest.trim();
            let with_slash = if rest.starts_with('/') {
                rest.to_string()
            } else {
                format!("/{rest}")
            };
            keys.push(format!("{m} {with_slash}"));
            keys.push(format!("{m} {}", normalize_path(&with_slash)));
        }
    }
    if whole.starts_with('/') || whole.contains('/') {
        keys.push(normalize_path(whole));
        if !whole.starts_with('/') {
            keys.push(format!("/{whole}"));
            keys.push(normalize_path(&format!("/{whole}")));
        }
    }
    keys
}
