//! Quality floor: the dev query set over the real shared specs must keep
//! scoring at least this well, so ranking regressions fail CI. The figures
//! the engine reaches are printed by `cargo run --release --bin search-eval`.
//!
//! Specs and queries come from `$CODEMODE_SHARED` (default `../shared`).

use codemode::search::{eval, SearchIndex};

/// A little below what the engine scores (0.750 / 0.917 / 0.821 when set).
const FLOOR_RECALL_AT_1: f64 = 0.70;
const FLOOR_RECALL_AT_5: f64 = 0.88;
const FLOOR_MRR: f64 = 0.78;

#[test]
fn dev_set_scores_stay_above_the_floor() {
    let shared = eval::shared_dir();
    let queries = eval::load_queries(&shared.join("search-eval").join("dev-queries.jsonl"))
        .expect("the dev query set is readable (set CODEMODE_SHARED to the shared folder)");
    assert!(
        queries.len() >= 50,
        "the dev set shrank to {} queries",
        queries.len()
    );
    let apis = eval::load_specs(&shared, &queries).expect("every spec of the dev set loads");
    let index = SearchIndex::build(&apis, None).expect("index builds");
    let report = eval::run(&index, &queries);
    let s = report.overall();
    println!("{}", report.table());
    assert!(
        s.recall_at_1 >= FLOOR_RECALL_AT_1 && s.recall_at_5 >= FLOOR_RECALL_AT_5 && s.mrr >= FLOOR_MRR,
        "search quality fell below the floor: R@1 {:.3} (floor {FLOOR_RECALL_AT_1}), R@5 {:.3} (floor {FLOOR_RECALL_AT_5}), MRR {:.3} (floor {FLOOR_MRR})\n{}\n{}",
        s.recall_at_1,
        s.recall_at_5,
        s.mrr,
        report.table(),
        report.misses()
    );
}
