//! The operation table: SDK function name → operation, built once per API
//! when the executor starts. The sandbox's namespaces are `Proxy`s that
//! resolve names here lazily, so per-execution cost does not grow with the
//! size of the API.

use sdk_gen::{Api, Method, Operation};
use std::collections::HashMap;

/// Operation lookup for one API.
#[derive(Debug)]
pub(crate) struct OpTable {
    by_name: HashMap<String, usize>,
}

impl OpTable {
    pub(crate) fn new(api: &Api) -> OpTable {
        let by_name = api
            .operations
            .iter()
            .enumerate()
            .map(|(i, op)| (op.name.clone(), i))
            .collect();
        OpTable { by_name }
    }

    pub(crate) fn get<'a>(&self, api: &'a Api, name: &str) -> Option<&'a Operation> {
        self.by_name.get(name).and_then(|&i| api.operations.get(i))
    }

    /// Up to five operation names resembling `name`, for error messages.
    pub(crate) fn suggest(api: &Api, name: &str) -> Vec<String> {
        let want = name.to_ascii_lowercase();
        let mut scored: Vec<(usize, &str)> = api
            .operations
            .iter()
            .filter_map(|op| {
                let have = op.name.to_ascii_lowercase();
                let common = have
                    .chars()
                    .zip(want.chars())
                    .take_while(|(a, b)| a == b)
                    .count();
                let score = if have.contains(&want) || want.contains(&have) {
                    100 + common
                } else {
                    common
                };
                (score >= 3).then_some((score, op.name.as_str()))
            })
            .collect();
        scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
        scored
            .into_iter()
            .take(5)
            .map(|(_, n)| n.to_string())
            .collect()
    }

    /// The operation whose path template matches a concrete (encoded) path
    /// with this method; literal segments win over `{param}` segments.
    pub(crate) fn match_path<'a>(
        api: &'a Api,
        method: Method,
        path: &str,
    ) -> Option<&'a Operation> {
        let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
        api.operations
            .iter()
            .filter(|op| op.method == method)
            .filter_map(|op| {
                let tsegs: Vec<&str> = op.request_path.trim_matches('/').split('/').collect();
                if tsegs.len() != segs.len() {
                    return None;
                }
                let mut literal = 0;
                for (t, s) in tsegs.iter().zip(&segs) {
                    if t.starts_with('{') && t.ends_with('}') {
                        if s.is_empty() {
                            return None;
                        }
                    } else if t == s {
                        literal += 1;
                    } else {
                        return None;
                    }
                }
                Some((literal, op))
            })
            .max_by_key(|(l, _)| *l)
            .map(|(_, op)| op)
    }
}
