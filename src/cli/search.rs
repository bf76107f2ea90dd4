//! `codemode search`: one search over one spec, printed as the agent's
//! `search` tool would show it (text), or as JSON for scripts.

use super::args::SearchArgs;
use crate::search::{default_cache_dir, SearchIndex, SearchRequest};
use anyhow::Context as _;
use sdk_gen::Api;
use std::sync::Arc;

/// Runs the search and returns what to print.
pub(crate) fn run(args: &SearchArgs, api: Api) -> anyhow::Result<String> {
    let name = sdk_gen::typescript::default_namespace(&api);
    let apis = vec![(name, Arc::new(api))];
    let cache_dir = if args.no_cache {
        None
    } else {
        args.cache_dir.clone().or_else(default_cache_dir)
    };
    let index = SearchIndex::build(&apis, cache_dir.as_deref()).with_context(|| match &cache_dir {
        Some(d) => format!(
            "cannot build the search index (cache directory {}); try --no-cache or another --cache-dir",
            d.display()
        ),
        None => "cannot build the search index".to_string(),
    })?;
    let results = index.search(&SearchRequest {
        query: args.query.clone(),
        api: None,
        method: args.method.clone(),
        tag: args.tag.clone(),
        limit: Some(args.limit),
        visibility: None,
    });
    if args.json {
        let mut s = serde_json::to_string_pretty(&results.json_hits())?;
        s.push('\n');
        if results.hits.is_empty() {
            // Scripts get `[]` on stdout; people get the reason on stderr.
            for note in &results.notes {
                eprintln!("note: {note}");
            }
        }
        Ok(s)
    } else {
        Ok(results.render_text_within(args.budget))
    }
}
