//! User text → a structured query: the words to search (stemmed, with
//! synonyms and abbreviations), the verb's intent, an explicit HTTP method,
//! identifier-looking tokens (`repos/get`, `chat.postMessage`,
//! `files/{file_id}/content`) and the tantivy query. The user's text never
//! reaches tantivy's query parser: every clause is built from analyzed terms.

use super::index::{segments, Fields, Segment};
use super::rank::Weights;
use super::tokenize::{self, Intent};
use sdk_gen::Method;
use tantivy::query::{AllQuery, BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::Term;

/// Queries longer than this are cut (an agent pasting a whole document).
pub(crate) const MAX_QUERY_CHARS: usize = 500;
/// At most this many distinct words are searched.
pub(crate) const MAX_TERMS: usize = 24;

/// One searched word and what may stand for it.
#[derive(Debug, Clone)]
pub(crate) struct QueryTerm {
    /// Alternatives: first the stemmed word as typed (weight 1), then
    /// expansions and synonyms.
    pub(crate) alternatives: Vec<(String, f32)>,
}

/// A parsed query.
#[derive(Debug, Clone, Default)]
pub(crate) struct ParsedQuery {
    /// The (possibly cut) text.
    pub(crate) text: String,
    pub(crate) terms: Vec<QueryTerm>,
    /// The first action verb's intent.
    pub(crate) intent: Option<Intent>,
    /// `GET`, `POST`… written in upper case as a word of the query.
    pub(crate) method: Option<Method>,
    /// Whitespace tokens that look like identifiers or paths, lower-cased.
    pub(crate) identifiers: Vec<String>,
    /// Path fragments (`payment_intents/{intent}/capture`).
    pub(crate) fragments: Vec<Vec<Segment>>,
    /// The query names things in the plural (`pods`, `replies`).
    pub(crate) plural: bool,
    /// Notes for the user (query cut, words dropped…).
    pub(crate) notes: Vec<String>,
}

fn is_identifier_like(token: &str) -> bool {
    token.len() >= 4
        && (token.contains(['/', '.', '_', '-', '{'])
            || token.chars().skip(1).any(char::is_uppercase))
}

/// Trims punctuation around a whitespace token (quotes, commas, backticks…).
fn trim_token(token: &str) -> &str {
    token.trim_matches(|c: char| {
        !(c.is_alphanumeric() || c == '/' || c == '{' || c == '}' || c == '_' || c == '#')
    })
}

/// Cuts text to at most `max` characters at a char boundary.
pub(crate) fn cut(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((i, _)) => &text[..i],
        None => text,
    }
}

pub(crate) fn parse(text: &str, weights: &Weights) -> ParsedQuery {
    let vocab = tokenize::vocabulary();
    let mut q = ParsedQuery::default();
    let trimmed = text.trim();
    let cut_text = cut(trimmed, MAX_QUERY_CHARS);
    if cut_text.len() < trimmed.len() {
        q.notes.push(format!(
            "the query was cut to its first {MAX_QUERY_CHARS} characters; describe the operation in a few words"
        ));
    }
    q.text = cut_text.to_string();

    for raw in q.text.split_whitespace() {
        if q.method.is_none() && raw.len() >= 3 && raw.chars().all(|c| c.is_ascii_uppercase()) {
            q.method = Method::parse(raw);
        }
        let token = trim_token(raw);
        if is_identifier_like(token) {
            q.identifiers.push(token.to_lowercase());
            let trimmed_slash = token.trim_start_matches('/');
            if token.contains('/') && (token.starts_with('/') || trimmed_slash.contains('/')) {
                let segs = segments(token.split('#').next().unwrap_or(token));
                if !segs.is_empty() {
                    q.fragments.push(segs);
                }
            }
        }
    }

    let mut seen: Vec<String> = Vec::new();
    let mut first_person = false;
    let spans = tokenize::word_spans(&q.text);
    let lowers: Vec<String> = spans
        .iter()
        .map(|&(a, b)| q.text[a..b].to_lowercase())
        .collect();
    let mut skip_next = false;
    let mut saw_list_word = false;
    for (i, lower) in lowers.iter().enumerate() {
        if std::mem::take(&mut skip_next) {
            continue;
        }
        if lower.chars().all(|c| c.is_ascii_digit()) {
            continue; // ids and counts ("PR #512", "2 GB")
        }
        let (word, stem) = match lowers.get(i + 1).and_then(|next| vocab.phrase(lower, next)) {
            Some(verb) => {
                skip_next = true;
                (verb.to_string(), tokenize::stem(verb))
            }
            None => (lower.clone(), tokenize::stem(lower)),
        };
        let lower = &word;
        // A participle after the first word is an adjective ("a deleted file").
        let adjective = i > 0 && lower.ends_with("ed");
        match vocab.intent(&stem) {
            Some(Intent::List) => saw_list_word = true,
            Some(found) if q.intent.is_none() && !adjective => q.intent = Some(found),
            _ => {}
        }
        if vocab.is_first_person(&stem) || vocab.is_first_person(lower) {
            first_person = true;
            continue;
        }
        if vocab.is_stop(&stem) || vocab.is_stop(lower) {
            continue;
        }
        if lower.len() > 3
            && lower.ends_with('s')
            && !lower.ends_with("ss")
            && &stem != lower
            && vocab.intent(&stem).is_none()
        {
            q.plural = true;
        }
        if seen.contains(&stem) {
            continue;
        }
        if seen.len() >= MAX_TERMS {
            q.notes.push(format!(
                "only the first {MAX_TERMS} distinct words were searched"
            ));
            break;
        }
        seen.push(stem.clone());
        let mut alternatives = vec![(stem.clone(), 1.0)];
        if let Some(full) = vocab.abbreviation(lower) {
            for t in full {
                if !alternatives.iter().any(|(a, _)| a == t) {
                    alternatives.push((t.clone(), weights.abbreviation));
                }
            }
        }
        for s in vocab.synonyms(&stem) {
            if !alternatives.iter().any(|(a, _)| a == s) {
                alternatives.push((s.clone(), weights.synonym));
            }
        }
        q.terms.push(QueryTerm { alternatives });
    }
    // "show all pets", "get pets": reading many is listing.
    if (saw_list_word && q.intent.is_none_or(|i| i == Intent::Read))
        || (q.intent == Some(Intent::Read) && q.plural)
    {
        q.intent = Some(Intent::List);
    }
    if first_person && q.terms.len() < MAX_TERMS {
        q.terms.push(QueryTerm {
            alternatives: vec![
                ("me".to_string(), weights.first_person),
                (tokenize::stem("authenticated"), weights.first_person * 0.5),
            ],
        });
    }
    q
}

/// Filters applied as required clauses.
#[derive(Debug, Default)]
pub(crate) struct Filters<'a> {
    pub(crate) api: Option<&'a str>,
    pub(crate) method: Option<Method>,
    pub(crate) tag: Option<String>,
}

/// The tantivy query: every (field, word or alternative) pair is one
/// boosted term clause and BM25 scores add up (BM25F-like; on the dev set a
/// plain sum ranks as well as a per-word disjunction-max and is faster:
/// one union instead of one per word). Filters are `Must` clauses.
///
/// The word as typed is looked up in every text field; synonyms and
/// expansions only in the fields that say what an operation does (name,
/// path, tags, summary, description) and only if some operation's name,
/// path, tags or summary uses them (`known`), which keeps the query small.
pub(crate) fn tantivy_query(
    q: &ParsedQuery,
    fields: &Fields,
    filters: &Filters<'_>,
    weights: &Weights,
    known: impl Fn(&str) -> bool,
) -> Option<Box<dyn Query>> {
    let text_fields = fields.text_fields(weights);
    let core_fields = [
        fields.name,
        fields.path,
        fields.tags,
        fields.summary,
        fields.description,
    ];
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for term in &q.terms {
        for (i, (alt, alt_weight)) in term.alternatives.iter().enumerate() {
            if i > 0 && !known(alt) {
                continue;
            }
            for &(field, boost) in &text_fields {
                if i > 0 && !core_fields.contains(&field) {
                    continue;
                }
                let tq = TermQuery::new(
                    Term::from_field_text(field, alt),
                    IndexRecordOption::WithFreqs,
                );
                clauses.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(tq), boost * alt_weight)),
                ));
            }
        }
    }
    let has_text = !clauses.is_empty();
    let mut filter_clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    if let Some(api) = filters.api {
        filter_clauses.push((Occur::Must, raw_term(fields.api, api)));
    }
    if let Some(m) = filters.method {
        filter_clauses.push((Occur::Must, raw_term(fields.method, m.key())));
    }
    if let Some(tag) = &filters.tag {
        filter_clauses.push((Occur::Must, raw_term(fields.tag, tag)));
    }
    if !has_text {
        if filter_clauses.is_empty() {
            return None;
        }
        filter_clauses.push((Occur::Must, Box::new(AllQuery)));
        return Some(Box::new(BooleanQuery::new(filter_clauses)));
    }
    if filter_clauses.is_empty() {
        return Some(Box::new(BooleanQuery::new(clauses)));
    }
    // Text scores; filters only restrict (boost 0 keeps their score out).
    let text: Box<dyn Query> = Box::new(BooleanQuery::new(clauses));
    let mut all = vec![(Occur::Must, text)];
    for (occur, f) in filter_clauses {
        all.push((occur, Box::new(BoostQuery::new(f, 0.0)) as Box<dyn Query>));
    }
    Some(Box::new(BooleanQuery::new(all)))
}

fn raw_term(field: tantivy::schema::Field, value: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, value),
        IndexRecordOption::Basic,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_intent_method_identifiers_and_fragments() {
        let w = Weights::default();
        let q = parse("POST /apis/batch/v1 cronjobs in a namespace", &w);
        assert_eq!(q.method, Some(Method::Post));
        assert_eq!(q.fragments.len(), 1);
        let q = parse("remove the labels from issues/add-labels, please", &w);
        assert_eq!(q.intent, Some(Intent::Delete));
        assert_eq!(q.identifiers, ["issues/add-labels"]);
        assert!(q.plural);
        assert!(q
            .terms
            .iter()
            .all(|t| t.alternatives[0].0 != "the" && t.alternatives[0].0 != "pleas"));
    }

    #[test]
    fn drops_numbers_and_stop_words() {
        let q = parse("which files were touched in PR #512", &Weights::default());
        let terms: Vec<&str> = q
            .terms
            .iter()
            .map(|t| t.alternatives[0].0.as_str())
            .collect();
        assert_eq!(terms, ["file", "touch", "pr"]);
        let pr = &q.terms[2];
        assert!(pr.alternatives.iter().any(|(a, _)| a == "pull"));
    }

    #[test]
    fn cuts_huge_queries_on_char_boundaries() {
        let long = "é".repeat(10_000);
        let q = parse(&long, &Weights::default());
        assert_eq!(q.text.chars().count(), MAX_QUERY_CHARS);
        assert!(!q.notes.is_empty());
    }
}
