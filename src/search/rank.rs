//! Ranking: tantivy's BM25 gives candidates; a re-ranker scores each with
//! features the bag of words misses (how much of the query the operation's
//! name/path/summary covers, whether its verb and method fit the query's
//! verb, identifier and path-fragment hits, item vs collection,
//! deprecation); [`fuse`] combines the scorers.
//!
//! Each candidate keeps its per-scorer scores, so a second scorer (semantic
//! similarity) can be added as one more field of [`Candidate`] and one more
//! term in [`fuse`].

use super::index::{OpInfo, Segment, Terms};
use super::query::ParsedQuery;
use super::tokenize::Intent;
use std::collections::HashMap;

/// Every tunable number of the ranking, in one place.
#[derive(Debug, Clone)]
pub struct Weights {
    // BM25 field boosts.
    pub f_name: f32,
    pub f_path: f32,
    pub f_path_params: f32,
    pub f_tags: f32,
    pub f_summary: f32,
    pub f_description: f32,
    pub f_params: f32,
    pub f_body: f32,
    pub f_response: f32,
    /// Weight of a synonym relative to the word typed.
    pub synonym: f32,
    /// Weight of an abbreviation's expansion.
    pub abbreviation: f32,
    /// Weight of `me` for "my"/"I".
    pub first_person: f32,
    /// How many BM25 candidates are re-ranked.
    pub candidates: usize,
    // Fusion.
    pub lexical: f32,
    pub coverage: f32,
    pub action: f32,
    pub method: f32,
    pub identifier: f32,
    pub fragment: f32,
    pub shape: f32,
    pub deprecated: f32,
    pub precision: f32,
    pub param_mention: f32,
    pub phrase: f32,
    /// Weight of a synonym match in coverage.
    pub coverage_synonym: f32,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            f_name: 1.5,
            f_path: 1.5,
            f_path_params: 0.3,
            f_tags: 0.8,
            f_summary: 2.0,
            f_description: 0.5,
            f_params: 0.3,
            f_body: 0.3,
            f_response: 0.2,
            synonym: 0.6,
            abbreviation: 0.9,
            first_person: 0.6,
            candidates: 50,
            lexical: 2.0,
            coverage: 1.0,
            action: 0.8,
            method: 1.0,
            identifier: 3.0,
            fragment: 1.5,
            shape: 0.15,
            deprecated: 0.2,
            precision: 0.25,
            param_mention: 0.2,
            // Off: no gain on the dev set (kept for held-out tuning).
            phrase: 0.0,
            coverage_synonym: 0.6,
        }
    }
}

impl Weights {
    /// Sets one weight by name (`coverage=1.2`), for tuning runs.
    pub fn set(&mut self, name: &str, value: f32) -> Result<(), String> {
        let slot = match name {
            "f_name" => &mut self.f_name,
            "f_path" => &mut self.f_path,
            "f_path_params" => &mut self.f_path_params,
            "f_tags" => &mut self.f_tags,
            "f_summary" => &mut self.f_summary,
            "f_description" => &mut self.f_description,
            "f_params" => &mut self.f_params,
            "f_body" => &mut self.f_body,
            "f_response" => &mut self.f_response,
            "synonym" => &mut self.synonym,
            "abbreviation" => &mut self.abbreviation,
            "first_person" => &mut self.first_person,
            "lexical" => &mut self.lexical,
            "coverage" => &mut self.coverage,
            "action" => &mut self.action,
            "method" => &mut self.method,
            "identifier" => &mut self.identifier,
            "fragment" => &mut self.fragment,
            "shape" => &mut self.shape,
            "deprecated" => &mut self.deprecated,
            "precision" => &mut self.precision,
            "param_mention" => &mut self.param_mention,
            "phrase" => &mut self.phrase,
            "coverage_synonym" => &mut self.coverage_synonym,
            "candidates" => {
                self.candidates = value.max(1.0) as usize;
                return Ok(());
            }
            other => return Err(format!("unknown weight {other:?}")),
        };
        *slot = value;
        Ok(())
    }
}

/// One operation under consideration, with every scorer's opinion.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    /// Global operation ordinal.
    pub(crate) ord: u32,
    /// BM25 from tantivy.
    pub(crate) bm25: f32,
    /// Re-ranker features, combined.
    pub(crate) features: f32,
    /// Whole-query exact lookup (name, operationId, `METHOD /path`, path).
    pub(crate) exact: bool,
    /// Final score.
    pub(crate) score: f32,
}

/// Query terms resolved against the term dictionary, with IDF weights.
pub(crate) struct ResolvedTerms {
    /// Per query term: (IDF weight, alternatives as (term id, weight)).
    terms: Vec<(f32, Vec<(u32, f32)>)>,
    /// Every alternative's id with its best weight, sorted by id.
    ids: Vec<(u32, f32)>,
    /// Consecutive query words (as typed), for the phrase bonus.
    bigrams: Vec<(u32, u32)>,
}

impl ResolvedTerms {
    fn weight_of(&self, id: u32) -> f32 {
        match self.ids.binary_search_by_key(&id, |&(i, _)| i) {
            Ok(i) => self.ids[i].1,
            Err(_) => 0.0,
        }
    }
}

pub(crate) fn resolve_terms(
    q: &ParsedQuery,
    dict: &Terms,
    df: &HashMap<u32, u32>,
    n_ops: usize,
    weights: &Weights,
) -> ResolvedTerms {
    let n = n_ops.max(1) as f32;
    let mut terms = Vec::new();
    let mut ids: Vec<(u32, f32)> = Vec::new();
    for t in &q.terms {
        for (i, (alt, w)) in t.alternatives.iter().enumerate() {
            if let Some(id) = dict.get(alt) {
                let w = if i == 0 {
                    1.0
                } else {
                    (*w / weights.synonym.max(1e-3)).min(1.0) * weights.coverage_synonym
                };
                ids.push((id, w));
            }
        }
        let mut alts = Vec::new();
        let mut best_df = 0u32;
        for (i, (alt, w)) in t.alternatives.iter().enumerate() {
            if let Some(id) = dict.get(alt) {
                let d = df.get(&id).copied().unwrap_or(0);
                if d == 0 {
                    continue;
                }
                if i == 0 || best_df == 0 {
                    best_df = best_df.max(d);
                }
                let w = if i == 0 {
                    1.0
                } else {
                    (*w / weights.synonym.max(1e-3)).min(1.0) * weights.coverage_synonym
                };
                alts.push((id, w));
            }
        }
        if alts.is_empty() {
            continue; // a word this API never uses in names/paths/summaries
        }
        let idf = (1.0 + n / (best_df as f32 + 1.0)).ln();
        terms.push((idf, alts));
    }
    ids.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)));
    ids.dedup_by_key(|x| x.0);
    let primary: Vec<Option<u32>> = q
        .terms
        .iter()
        .map(|t| t.alternatives.first().and_then(|(a, _)| dict.get(a)))
        .collect();
    let bigrams = primary
        .windows(2)
        .filter_map(|w| Some((w[0]?, w[1]?)))
        .collect();
    ResolvedTerms {
        terms,
        ids,
        bigrams,
    }
}

/// Whether a path fragment matches the operation's path: literals in order,
/// only parameters skipped between them. 1.0 when it also reaches the end.
fn fragment_match(fragment: &[Segment], path: &[Segment]) -> f32 {
    let literals = fragment
        .iter()
        .filter(|s| matches!(s, Segment::Literal(_)))
        .count();
    if literals == 0 {
        return 0.0;
    }
    let mut best = 0.0f32;
    for start in 0..path.len() {
        let mut pi = start;
        let mut ok = true;
        for seg in fragment {
            match seg {
                Segment::Param => {
                    if matches!(path.get(pi), Some(Segment::Param)) {
                        pi += 1;
                    }
                }
                Segment::Literal(l) => {
                    while matches!(path.get(pi), Some(Segment::Param)) && pi > start {
                        pi += 1;
                    }
                    match path.get(pi) {
                        Some(Segment::Literal(p))
                            if p == l
                                || (p.starts_with(l.as_str()) && p[l.len()..].starts_with('.')) =>
                        {
                            pi += 1
                        }
                        _ => {
                            ok = false;
                            break;
                        }
                    }
                }
            }
        }
        if ok {
            let trailing_params = path[pi..].iter().all(|s| matches!(s, Segment::Param));
            let score = if trailing_params { 1.0 } else { 0.7 };
            best = best.max(score);
        }
    }
    best
}

/// Re-ranker features for one operation.
pub(crate) fn features(
    op: &OpInfo,
    q: &ParsedQuery,
    resolved: &ResolvedTerms,
    identifier_hit: bool,
    w: &Weights,
) -> f32 {
    // Coverage: IDF-weighted share of the query's words found in what the
    // operation is (name, path, summary, tags).
    let mut total = 0.0;
    let mut got = 0.0;
    for (idf, alts) in &resolved.terms {
        total += idf;
        let mut best = 0.0f32;
        for &(id, aw) in alts {
            if aw > best && op.core.binary_search(&id).is_ok() {
                best = aw;
            }
        }
        got += idf * best;
    }
    let coverage = if total > 0.0 { got / total } else { 0.0 };

    // Precision: how much of the operation's summary the query explains.
    let precision = if op.summary.is_empty() {
        0.0
    } else {
        op.summary
            .iter()
            .map(|&t| resolved.weight_of(t))
            .sum::<f32>()
            / op.summary.len() as f32
    };
    let phrase = if resolved.bigrams.is_empty() || w.phrase == 0.0 {
        0.0
    } else {
        let hits = resolved
            .bigrams
            .iter()
            .filter(|b| op.bigrams.binary_search(b).is_ok())
            .count();
        hits as f32 / resolved.bigrams.len() as f32
    };
    let param_mention = if op.params.iter().any(|&t| resolved.weight_of(t) >= 1.0) {
        1.0
    } else {
        0.0
    };

    let action = match q.intent {
        Some(intent) => {
            let by_method = intent.method_fit(op.method);
            let by_verb = match op.action {
                Some(a) if a == intent => 1.0,
                Some(Intent::Read) if intent == Intent::List => 0.5,
                Some(Intent::List) if intent == Intent::Read => 0.5,
                _ => 0.0,
            };
            by_method.max(by_verb) * 0.5 + by_method.min(by_verb) * 0.5
        }
        None => 0.0,
    };

    let method = match q.method {
        Some(m) if m == op.method => 1.0,
        _ => 0.0,
    };

    let fragment = q
        .fragments
        .iter()
        .map(|f| fragment_match(f, &op.segments))
        .fold(0.0f32, f32::max);

    // Item vs collection.
    let wants_item = match q.intent {
        Some(Intent::List) | Some(Intent::Create) => Some(false),
        Some(Intent::Action) => None,
        Some(Intent::Read) if q.plural => Some(false),
        Some(Intent::Read | Intent::Update | Intent::Delete) => Some(true),
        None if q.plural => Some(false),
        _ => None,
    };
    let shape = match wants_item {
        Some(item) if item == op.is_item => 1.0,
        Some(_) => 0.0,
        None => 0.5,
    };

    w.coverage * coverage
        + w.action * action
        + w.method * method
        + w.identifier * f32::from(u8::from(identifier_hit))
        + w.fragment * fragment
        + w.shape * shape
        + w.precision * precision
        + w.param_mention * param_mention
        + w.phrase * phrase
        - w.deprecated * f32::from(u8::from(op.deprecated))
}

/// Combines the scorers into the final score. BM25 is normalized by the
/// best candidate's so its scale does not depend on query length.
pub(crate) fn fuse(candidates: &mut [Candidate], w: &Weights) {
    let max_bm25 = candidates.iter().map(|c| c.bm25).fold(0.0f32, f32::max);
    for c in candidates.iter_mut() {
        let lexical = if max_bm25 > 0.0 {
            c.bm25 / max_bm25
        } else {
            0.0
        };
        c.score = w.lexical * lexical + c.features + if c.exact { 100.0 } else { 0.0 };
    }
    candidates.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.ord.cmp(&b.ord)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::index::segments;

    #[test]
    fn fragments_skip_parameters_and_prefer_full_matches() {
        let p = segments("/tasks/{task_gid}/setParent");
        assert_eq!(fragment_match(&segments("tasks/setParent"), &p), 1.0);
        assert_eq!(fragment_match(&segments("tasks/{id}/setParent"), &p), 1.0);
        assert_eq!(fragment_match(&segments("/tasks"), &p), 0.7);
        assert_eq!(fragment_match(&segments("projects/setParent"), &p), 0.0);
        let thumb = segments("/files/{file_id}/thumbnail.{extension}");
        assert_eq!(
            fragment_match(&segments("files/{file_id}/thumbnail"), &thumb),
            1.0
        );
    }
}
