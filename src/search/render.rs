//! Results → what the agent reads, within a token budget: the best few
//! operations as full compact signatures (JSDoc + signature + referenced
//! types, from `sdk-gen`), the next ones as one line each, and a footer
//! saying how many more matched and how to see them.

use super::{Hit, SearchResults};
use sdk_gen::typescript::{operation_signature, SignatureOptions};
use serde::Serialize;
use std::fmt::Write as _;
use std::sync::OnceLock;
use tiktoken_rs::CoreBPE;

/// Default budget of a rendered result, in o200k tokens.
pub const DEFAULT_TOKEN_BUDGET: usize = 1200;
/// How many results get a full signature (when the budget allows).
const FULL_SIGNATURES: usize = 3;

fn bpe() -> Option<&'static CoreBPE> {
    static BPE: OnceLock<Option<CoreBPE>> = OnceLock::new();
    BPE.get_or_init(|| tiktoken_rs::o200k_base().ok()).as_ref()
}

/// Tokens of `text` in o200k_base (a chars/4 estimate if the tokenizer is unavailable).
pub fn count_tokens(text: &str) -> usize {
    match bpe() {
        Some(b) => b.encode_ordinary(text).len(),
        None => text.len().div_ceil(4),
    }
}

/// Signature renderings from most to least detailed.
fn signature_levels() -> [SignatureOptions; 3] {
    [
        SignatureOptions::default(),
        SignatureOptions {
            type_depth: 1,
            max_properties: 8,
            max_enum_values: 5,
            max_types: 4,
        },
        SignatureOptions {
            type_depth: 0,
            max_properties: 8,
            max_enum_values: 5,
            max_types: 0,
        },
    ]
}

/// Drops the declarations of types already shown earlier in the same
/// answer (`seen` holds their names), so shared types are printed once.
fn without_seen_types(sig: &str, seen: &mut Vec<String>) -> String {
    let mut out = String::with_capacity(sig.len());
    let mut pending_doc: Option<&str> = None;
    let mut skipping = false;
    for line in sig.lines() {
        let declared = line
            .strip_prefix("interface ")
            .or_else(|| line.strip_prefix("type "))
            .map(|rest| {
                rest.split([' ', '<', '='])
                    .next()
                    .unwrap_or(rest)
                    .to_string()
            });
        if line.starts_with("/**") {
            if let Some(doc) = pending_doc.take() {
                if !skipping {
                    out.push_str(doc);
                    out.push('\n');
                }
            }
            pending_doc = Some(line);
            continue;
        }
        if let Some(name) = declared {
            skipping = seen.contains(&name);
            if !skipping {
                seen.push(name);
            }
        } else if line.starts_with("function ") {
            skipping = false;
        }
        if let Some(doc) = pending_doc.take() {
            if !skipping {
                out.push_str(doc);
                out.push('\n');
            }
        }
        if !skipping {
            out.push_str(line);
            out.push('\n');
        }
    }
    if let Some(doc) = pending_doc {
        out.push_str(doc);
        out.push('\n');
    }
    out
}

/// The most detailed signature of `hit` that fits in `budget` tokens,
/// without the types already shown.
fn fitting_signature(hit: &Hit, budget: usize, seen: &mut Vec<String>) -> Option<(String, usize)> {
    for options in signature_levels() {
        let mut names = seen.clone();
        let sig = without_seen_types(
            &operation_signature(&hit.api_ref, hit.operation(), &options),
            &mut names,
        );
        let tokens = count_tokens(&sig);
        if tokens <= budget {
            *seen = names;
            return Some((sig, tokens));
        }
    }
    None
}

fn one_line(hit: &Hit, multi_api: bool) -> String {
    let mut s = String::from("- ");
    if multi_api {
        let _ = write!(s, "{}.", hit.api);
    }
    let _ = write!(s, "{} — {} {}", hit.name, hit.method, hit.path);
    if let Some(summary) = &hit.summary {
        let _ = write!(s, " — {summary}");
    }
    if hit.deprecated {
        s.push_str(" (deprecated)");
    }
    s.push('\n');
    s
}

/// One result for `--json`: the hit's fields plus its signature.
#[derive(Debug, Clone, Serialize)]
pub struct JsonHit {
    /// The ranked operation (`api`, `name`, `method`, `path`, `score`, …).
    #[serde(flatten)]
    pub hit: Hit,
    /// Compact TypeScript signature with referenced types.
    pub signature: String,
}

impl SearchResults {
    /// Every hit with its full signature, best first.
    pub fn json_hits(&self) -> Vec<JsonHit> {
        self.hits
            .iter()
            .map(|h| JsonHit {
                signature: operation_signature(
                    &h.api_ref,
                    h.operation(),
                    &SignatureOptions::default(),
                ),
                hit: h.clone(),
            })
            .collect()
    }

    /// Text for an agent, within [`DEFAULT_TOKEN_BUDGET`] tokens.
    pub fn render_text(&self) -> String {
        self.render_text_within(DEFAULT_TOKEN_BUDGET)
    }

    /// Text for an agent, within `budget` tokens: type declarations the
    /// query named, full signatures for the best results, one line for the
    /// rest, then notes and how to get more.
    pub fn render_text_within(&self, budget: usize) -> String {
        let parts = self.render_parts(budget);
        let mut out = String::new();
        for t in &parts.types {
            out.push_str(t);
            out.push('\n');
        }
        let mut listed_header = false;
        for hit in &parts.hits {
            if !hit.full && !listed_header {
                out.push_str("// Also relevant (search for the name to see its signature):\n");
                listed_header = true;
            }
            if hit.full && parts.multi_api {
                let _ = writeln!(out, "// api: {}", self.hits[hit.index].api);
            }
            out.push_str(&hit.text);
            if hit.full {
                out.push('\n');
            }
        }
        for note in &parts.notes {
            let _ = writeln!(out, "// {note}");
        }
        out
    }

    /// The pieces of [`SearchResults::render_text_within`], for structured
    /// output: each shown hit with its text (a full signature for the best
    /// ones, one line for the rest), the type declarations, and the notes
    /// (including how many more matched and how to see them).
    pub fn render_parts(&self, budget: usize) -> RenderedParts {
        let mut parts = RenderedParts::default();
        let mut used = 0usize;
        // Reserve room for the footer.
        let budget = budget.saturating_sub(60);
        for t in &self.types {
            let block = format!(
                "// type {} ({})\n{}\n",
                t.name,
                t.source_name,
                t.declaration.trim_end()
            );
            let tokens = count_tokens(&block);
            if used + tokens > budget {
                parts
                    .notes
                    .push(format!("type {} is too large to show in full here", t.name));
                continue;
            }
            parts.types.push(block);
            used += tokens;
        }
        parts.multi_api = {
            let mut apis: Vec<&str> = self.hits.iter().map(|h| h.api.as_str()).collect();
            apis.dedup();
            apis.len() > 1
        };
        let mut seen_types: Vec<String> = self.types.iter().map(|t| t.name.clone()).collect();
        for (i, hit) in self.hits.iter().enumerate() {
            // Keep room for one line per remaining hit.
            let remaining_lines = (self.hits.len() - i - 1) * 30;
            let room = budget.saturating_sub(used + remaining_lines);
            let full = if i < FULL_SIGNATURES {
                fitting_signature(hit, room, &mut seen_types)
            } else {
                None
            };
            match full {
                Some((sig, tokens)) => {
                    parts.hits.push(RenderedHit {
                        index: i,
                        full: true,
                        text: sig,
                    });
                    used += tokens;
                }
                None => {
                    let line = one_line(hit, parts.multi_api);
                    let tokens = count_tokens(&line);
                    if used + tokens > budget {
                        break;
                    }
                    parts.hits.push(RenderedHit {
                        index: i,
                        full: false,
                        text: line,
                    });
                    used += tokens;
                }
            }
        }
        parts.notes.extend(self.notes.iter().cloned());
        let shown = parts.hits.len();
        let more = self.total.saturating_sub(shown);
        if shown > 0 && more > 0 {
            parts.notes.push(format!(
                "{more} more operation(s) matched; search with limit {} or with more specific words to see others.",
                (self.limit * 2).min(super::MAX_LIMIT)
            ));
        }
        parts
    }
}

/// [`SearchResults::render_parts`]' output.
#[derive(Debug, Clone, Default)]
pub struct RenderedParts {
    /// Declarations of the types the query named.
    pub types: Vec<String>,
    /// The hits shown, best first.
    pub hits: Vec<RenderedHit>,
    /// Notes for the agent (bad filters, more results, …).
    pub notes: Vec<String>,
    /// Whether the hits come from more than one API.
    pub multi_api: bool,
}

/// One shown hit.
#[derive(Debug, Clone)]
pub struct RenderedHit {
    /// Index into [`SearchResults::hits`].
    pub index: usize,
    /// A full signature (else a one-line entry).
    pub full: bool,
    /// The text shown.
    pub text: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_types_are_dropped_with_their_doc() {
        let sig = "/** Get a pet — GET /pets/{id} */\nfunction petsGet(params: {\n  id: number;\n}): Promise<Pet>;\n/** A pet. */\ninterface Pet {\n  owner: User;\n}\ntype User = { id: number };\n";
        let mut seen = vec!["Pet".to_string()];
        let out = without_seen_types(sig, &mut seen);
        assert_eq!(
            out,
            "/** Get a pet — GET /pets/{id} */\nfunction petsGet(params: {\n  id: number;\n}): Promise<Pet>;\ntype User = { id: number };\n"
        );
        assert_eq!(seen, ["Pet", "User"]);
        let mut fresh = Vec::new();
        assert_eq!(without_seen_types(sig, &mut fresh), sig);
    }
}
