//! The tantivy index: schema, one document per operation, building it, and
//! caching it on disk keyed by a hash of the loaded APIs.
//!
//! Alongside tantivy (first-stage BM25 retrieval) this stage keeps a compact
//! in-memory table per operation ([`OpInfo`]) that the re-ranker reads:
//! interned core terms, the verb of its summary, its path segments.

use super::tokenize::{self, IdentTokenizer, Intent, TOKENIZER};
use sdk_gen::{Api, Operation, Schema, SchemaKind};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, Schema as TantivySchema, TextFieldIndexing,
    TextOptions, STRING,
};
use tantivy::{doc, Index, IndexReader, ReloadPolicy, TantivyDocument};

/// Bump when the schema, the tokenizer or what is indexed changes: old
/// caches are then ignored.
pub(crate) const INDEX_VERSION: u32 = 2;

/// Longest description text indexed per operation.
const DESCRIPTION_CHARS: usize = 1500;

/// Handles to every field of the schema.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fields {
    /// Global operation ordinal (fast field): index into `SearchIndex::ops`.
    pub(crate) ord: Field,
    /// API name, raw (filter).
    pub(crate) api: Field,
    /// Lower-case method, raw (filter).
    pub(crate) method: Field,
    /// Lower-case tags, raw (filter).
    pub(crate) tag: Field,
    /// SDK name and operationId.
    pub(crate) name: Field,
    /// Literal path segments (and `#fragment`).
    pub(crate) path: Field,
    /// Path parameter names.
    pub(crate) path_params: Field,
    /// Tags as text.
    pub(crate) tags: Field,
    pub(crate) summary: Field,
    pub(crate) description: Field,
    /// Query/header parameter names.
    pub(crate) params: Field,
    /// Request body property names and type name.
    pub(crate) body: Field,
    /// Response property names and type name.
    pub(crate) response: Field,
}

impl Fields {
    /// The text fields searched for free text, with their BM25 boosts.
    pub(crate) fn text_fields(&self, boosts: &super::rank::Weights) -> [(Field, f32); 9] {
        [
            (self.name, boosts.f_name),
            (self.path, boosts.f_path),
            (self.path_params, boosts.f_path_params),
            (self.tags, boosts.f_tags),
            (self.summary, boosts.f_summary),
            (self.description, boosts.f_description),
            (self.params, boosts.f_params),
            (self.body, boosts.f_body),
            (self.response, boosts.f_response),
        ]
    }
}

pub(crate) fn schema() -> (TantivySchema, Fields) {
    let mut b = TantivySchema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    let fields = Fields {
        ord: b.add_u64_field("ord", NumericOptions::default().set_fast()),
        api: b.add_text_field("api", STRING),
        method: b.add_text_field("method", STRING),
        tag: b.add_text_field("tag", STRING),
        name: b.add_text_field("name", text.clone()),
        path: b.add_text_field("path", text.clone()),
        path_params: b.add_text_field("path_params", text.clone()),
        tags: b.add_text_field("tags", text.clone()),
        summary: b.add_text_field("summary", text.clone()),
        description: b.add_text_field("description", text.clone()),
        params: b.add_text_field("params", text.clone()),
        body: b.add_text_field("body", text.clone()),
        response: b.add_text_field("response", text),
    };
    (b.build(), fields)
}

/// One segment of a path template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    /// Literal text, lower-cased (`repos`, `chat.postephemeral`).
    Literal(String),
    /// `{name}` (or a literal with a parameter inside, `thumbnail.{extension}`,
    /// is kept as a literal of its text before the brace).
    Param,
}

/// Splits a path template (without `#fragment`) into segments.
pub(crate) fn segments(path: &str) -> Vec<Segment> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            if s.starts_with('{') && s.ends_with('}') {
                Segment::Param
            } else {
                let lit = s.split('{').next().unwrap_or(s);
                Segment::Literal(lit.trim_end_matches('.').to_lowercase())
            }
        })
        .collect()
}

/// What the re-ranker knows about one operation.
#[derive(Debug)]
pub(crate) struct OpInfo {
    /// Index into `SearchIndex::apis`.
    pub(crate) api: usize,
    /// Index into that API's `operations`.
    pub(crate) op: usize,
    /// Interned, sorted, unique terms of name, operationId, literal path,
    /// summary and tags: what the operation *is*.
    pub(crate) core: Vec<u32>,
    /// Interned unique terms of the summary (or the name when there is
    /// none), without stop words and verbs: what a matching query should mention.
    pub(crate) summary: Vec<u32>,
    /// Adjacent content-word pairs of the summary, the name and the literal
    /// path (stop words skipped), sorted: for the phrase bonus.
    pub(crate) bigrams: Vec<(u32, u32)>,
    /// Interned terms of the path parameters' names (`{file_id}` → `file`).
    pub(crate) params: Vec<u32>,
    /// The intent of the summary's (or name's) leading verb.
    pub(crate) action: Option<Intent>,
    /// Path segments (request path, no fragment).
    pub(crate) segments: Vec<Segment>,
    /// The path ends in a parameter: one item, not a collection.
    pub(crate) is_item: bool,
    pub(crate) deprecated: bool,
    pub(crate) method: sdk_gen::Method,
}

/// Term interning: every core term gets a small integer.
#[derive(Debug, Default)]
pub(crate) struct Terms {
    ids: HashMap<String, u32>,
    /// Per term id: a stop word, a number, or a verb with an intent.
    flags: Vec<(bool, Option<Intent>)>,
    /// Raw word (as written) → term id, so each distinct word is stemmed once.
    words: HashMap<String, u32>,
}

impl Terms {
    fn intern(&mut self, term: &str) -> u32 {
        if let Some(&id) = self.ids.get(term) {
            return id;
        }
        let id = self.ids.len() as u32;
        self.ids.insert(term.to_string(), id);
        let vocab = tokenize::vocabulary();
        let skip = vocab.is_stop(term) || term.chars().all(|c| c.is_ascii_digit());
        self.flags.push((skip, vocab.intent(term)));
        id
    }

    /// Term ids of a text, in order ([`tokenize::terms`], memoized).
    fn ids_of(&mut self, text: &str) -> Vec<u32> {
        tokenize::word_spans(text)
            .into_iter()
            .map(|(a, b)| {
                let word = &text[a..b];
                if let Some(&id) = self.words.get(word) {
                    return id;
                }
                let id = self.intern(&tokenize::stem(word));
                self.words.insert(word.to_string(), id);
                id
            })
            .collect()
    }

    /// Stop word or number.
    fn is_noise(&self, id: u32) -> bool {
        self.flags[id as usize].0
    }

    fn intent(&self, id: u32) -> Option<Intent> {
        self.flags[id as usize].1
    }

    pub(crate) fn get(&self, term: &str) -> Option<u32> {
        self.ids.get(term).copied()
    }
}

/// Texts indexed for one operation.
struct OpTexts {
    name: String,
    path: String,
    path_params: String,
    tags: String,
    summary: String,
    description: String,
    params: String,
    body: String,
    response: String,
}

fn op_texts(api: &Api, op: &Operation) -> OpTexts {
    let mut name = op.name.clone();
    if let Some(id) = &op.operation_id {
        name.push(' ');
        name.push_str(id);
    }
    let (template, fragment) = match op.path.split_once('#') {
        Some((t, f)) => (t, Some(f)),
        None => (op.path.as_str(), None),
    };
    let mut path = String::new();
    let mut path_params = String::new();
    for seg in template.split('/') {
        let mut rest = seg;
        while let Some(open) = rest.find('{') {
            path.push_str(&rest[..open]);
            path.push(' ');
            let after = &rest[open + 1..];
            let close = after.find('}').unwrap_or(after.len());
            path_params.push_str(&after[..close]);
            path_params.push(' ');
            rest = after.get(close + 1..).unwrap_or("");
        }
        path.push_str(rest);
        path.push(' ');
    }
    if let Some(f) = fragment {
        path.push_str(f);
    }
    let params = op
        .parameters
        .iter()
        .filter(|p| p.location != sdk_gen::ParamLocation::Path)
        .map(|p| p.name.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let body = op
        .request_body
        .as_ref()
        .map(|b| schema_words(api, &b.schema))
        .unwrap_or_default();
    let response = op
        .response
        .as_ref()
        .and_then(|r| r.schema.as_ref())
        .map(|s| schema_words(api, s))
        .unwrap_or_default();
    let description = op
        .description
        .as_deref()
        .map(|d| d.chars().take(DESCRIPTION_CHARS).collect())
        .unwrap_or_default();
    OpTexts {
        name,
        path,
        path_params,
        tags: op.tags.join(" "),
        summary: op.summary.clone().unwrap_or_default(),
        description,
        params,
        body,
        response,
    }
}

/// Top-level property names of a schema (through refs, arrays, unions and
/// intersections, one level), plus the names of the types it refers to.
fn schema_words(api: &Api, schema: &Schema) -> String {
    let mut out = String::new();
    let mut stack: Vec<(&Schema, usize)> = vec![(schema, 0)];
    let mut steps = 0;
    while let Some((s, depth)) = stack.pop() {
        steps += 1;
        if steps > 64 {
            break;
        }
        match &s.kind {
            SchemaKind::Ref { id } if depth < 3 => {
                if let Some(t) = api.types.get(id.0) {
                    out.push_str(&t.name);
                    out.push(' ');
                    stack.push((&t.schema, depth + 1));
                }
            }
            SchemaKind::Array { items } if depth < 3 => stack.push((items, depth + 1)),
            SchemaKind::Union { variants, .. } if depth < 3 => {
                stack.extend(variants.iter().map(|v| (v, depth + 1)));
            }
            SchemaKind::Intersection { parts } if depth < 3 => {
                stack.extend(parts.iter().map(|p| (p, depth + 1)));
            }
            SchemaKind::Object(obj) => {
                for p in obj.properties.iter().take(40) {
                    out.push_str(&p.name);
                    out.push(' ');
                }
            }
            _ => {}
        }
    }
    out
}

/// Builds the in-memory operation table and term dictionary.
pub(crate) fn op_table(
    apis: &[(String, Arc<Api>)],
) -> (Vec<OpInfo>, Terms, Vec<HashMap<u32, u32>>) {
    let mut terms = Terms::default();
    let generic: Vec<u32> = GENERIC_PARAM_WORDS
        .iter()
        .map(|w| terms.intern(&tokenize::stem(w)))
        .collect();
    let mut ops = Vec::new();
    let mut dfs = Vec::with_capacity(apis.len());
    for (ai, (_, api)) in apis.iter().enumerate() {
        let mut df: HashMap<u32, u32> = HashMap::new();
        for (oi, op) in api.operations.iter().enumerate() {
            let request_path = op.path.split('#').next().unwrap_or(&op.path);
            let segs = segments(request_path);
            let literal_path: String = segs
                .iter()
                .filter_map(|s| match s {
                    Segment::Literal(l) => Some(l.as_str()),
                    Segment::Param => None,
                })
                .collect::<Vec<_>>()
                .join(" ");
            let fragment = op.path.split_once('#').map_or("", |(_, f)| f);
            let summary_text = op
                .summary
                .as_deref()
                .filter(|s| !s.trim().is_empty())
                .unwrap_or(&op.name);
            let name_ids = terms.ids_of(&op.name);
            let path_ids = terms.ids_of(&literal_path);
            let summary_ids = terms.ids_of(summary_text);

            let mut core: Vec<u32> = name_ids
                .iter()
                .chain(&path_ids)
                .chain(&summary_ids)
                .copied()
                .collect();
            for extra in [op.operation_id.as_deref().unwrap_or(""), fragment] {
                core.extend(terms.ids_of(extra));
            }
            for tag in &op.tags {
                core.extend(terms.ids_of(tag));
            }
            core.sort_unstable();
            core.dedup();
            for &t in &core {
                *df.entry(t).or_default() += 1;
            }

            let leading = |ids: &[u32]| ids.iter().take(2).find_map(|&t| terms.intent(t));
            let action = leading(&summary_ids).or_else(|| leading(&name_ids));

            let mut summary: Vec<u32> = summary_ids
                .iter()
                .copied()
                .filter(|&t| !terms.is_noise(t) && terms.intent(t).is_none())
                .collect();
            summary.sort_unstable();
            summary.dedup();

            let mut bigrams: Vec<(u32, u32)> = Vec::new();
            for ids in [&summary_ids, &name_ids, &path_ids] {
                let content: Vec<u32> = ids
                    .iter()
                    .copied()
                    .filter(|&t| !terms.is_noise(t))
                    .collect();
                bigrams.extend(content.windows(2).map(|w| (w[0], w[1])));
            }
            bigrams.sort_unstable();
            bigrams.dedup();

            let mut params: Vec<u32> = Vec::new();
            for p in &op.parameters {
                if p.location == sdk_gen::ParamLocation::Path {
                    params.extend(
                        terms
                            .ids_of(&p.name)
                            .into_iter()
                            .filter(|t| !generic.contains(t)),
                    );
                }
            }
            params.sort_unstable();
            params.dedup();
            ops.push(OpInfo {
                api: ai,
                op: oi,
                core,
                summary,
                bigrams,
                params,
                action,
                is_item: matches!(segs.last(), Some(Segment::Param)),
                segments: segs,
                deprecated: op.deprecated,
                method: op.method,
            });
        }
        dfs.push(df);
    }
    (ops, terms, dfs)
}

/// Path-parameter words that say nothing about the resource.
const GENERIC_PARAM_WORDS: &[&str] = &["id", "gid", "uuid", "name", "key", "number"];

/// `sha256` over the index version, `sdk-gen`'s version and, per API, its
/// name, the digest of every spec file it was read from, and each
/// operation's name, method and path (so a change in how `sdk-gen` reads the
/// same files also changes the key). Cheap: the spec files were hashed while
/// they were read.
pub(crate) fn cache_key(apis: &[(String, Arc<Api>)]) -> String {
    let mut h = Sha256::new();
    h.update(format!("codemode-search-index v{INDEX_VERSION}\n").as_bytes());
    h.update(b"sdk-gen ");
    h.update(sdk_gen::VERSION.as_bytes());
    h.update(b"\n");
    for (name, api) in apis {
        h.update(name.as_bytes());
        h.update(b"\n");
        h.update(api.source_sha256.as_bytes());
        h.update(b"\n");
        for op in &api.operations {
            h.update(op.name.as_bytes());
            h.update(b" ");
            h.update(op.method.as_str().as_bytes());
            h.update(b" ");
            h.update(op.path.as_bytes());
            h.update(b"\n");
        }
    }
    let digest = h.finalize();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn register_tokenizer(index: &Index) {
    index
        .tokenizers()
        .register(TOKENIZER, IdentTokenizer::default());
}

/// Where an index came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexOrigin {
    /// Built in memory (no cache directory given).
    Memory,
    /// Built now and written to this cache directory.
    Built(PathBuf),
    /// Opened from this cache directory.
    Cached(PathBuf),
}

/// Opens the index cached under `cache_dir` for `key` (see [`cache_key`]),
/// or builds it (and caches it); without a cache, builds it in memory.
pub(crate) fn open_or_build(
    apis: &[(String, Arc<Api>)],
    ops: &[OpInfo],
    cache: Option<(&Path, &str)>,
) -> tantivy::Result<(Index, Fields, IndexOrigin)> {
    let (schema, fields) = schema();
    let Some((cache_dir, key)) = cache else {
        let index = Index::create_in_ram(schema);
        register_tokenizer(&index);
        write_docs(&index, &fields, apis, ops)?;
        return Ok((index, fields, IndexOrigin::Memory));
    };
    let final_dir = cache_dir.join(format!("search-{key}"));
    if final_dir.join("meta.json").is_file() {
        if let Ok(index) = Index::open_in_dir(&final_dir) {
            if index.schema() == schema {
                register_tokenizer(&index);
                return Ok((index, fields, IndexOrigin::Cached(final_dir)));
            }
        }
        // Unreadable or from another schema: rebuild it.
        let _ = std::fs::remove_dir_all(&final_dir);
    }
    let tmp = cache_dir.join(format!(
        "search-tmp-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp)?;
    let index = Index::create_in_dir(&tmp, schema.clone())?;
    register_tokenizer(&index);
    write_docs(&index, &fields, apis, ops)?;
    drop(index);
    match std::fs::rename(&tmp, &final_dir) {
        Ok(()) => {}
        Err(_) if final_dir.join("meta.json").is_file() => {
            // Another process cached the same index first: use theirs.
            let _ = std::fs::remove_dir_all(&tmp);
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(e.into());
        }
    }
    let index = Index::open_in_dir(&final_dir)?;
    register_tokenizer(&index);
    Ok((index, fields, IndexOrigin::Built(final_dir)))
}

fn write_docs(
    index: &Index,
    f: &Fields,
    apis: &[(String, Arc<Api>)],
    ops: &[OpInfo],
) -> tantivy::Result<()> {
    // One thread: one segment, deterministic document order.
    let mut writer = index.writer_with_num_threads::<TantivyDocument>(1, 64_000_000)?;
    for (ord, info) in ops.iter().enumerate() {
        let (api_name, api) = &apis[info.api];
        let op = &api.operations[info.op];
        let t = op_texts(api, op);
        let mut d = doc!(
            f.ord => ord as u64,
            f.api => api_name.as_str(),
            f.method => op.method.key(),
            f.name => t.name,
            f.path => t.path,
            f.path_params => t.path_params,
            f.tags => t.tags,
            f.summary => t.summary,
            f.description => t.description,
            f.params => t.params,
            f.body => t.body,
            f.response => t.response,
        );
        for tag in &op.tags {
            d.add_text(f.tag, tag.to_lowercase());
        }
        writer.add_document(d)?;
    }
    writer.commit()?;
    writer.wait_merging_threads()?;
    Ok(())
}

/// A reader that never reloads by itself (the index is immutable).
pub(crate) fn reader(index: &Index) -> tantivy::Result<IndexReader> {
    index
        .reader_builder()
        .reload_policy(ReloadPolicy::Manual)
        .try_into()
}
