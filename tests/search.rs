//! The search engine on small fixture specs: exact lookups rank first,
//! free text finds the right sibling, filters, type names, bad input,
//! the token budget, the disk cache and the CLI.

use codemode::search::{count_tokens, IndexOrigin, SearchIndex, SearchRequest, SearchResults};
use std::path::Path;
use std::sync::Arc;

fn fixture(name: &str) -> Arc<sdk_gen::Api> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/search")
        .join(name);
    Arc::new(sdk_gen::load(&path.to_string_lossy()).expect("fixture loads"))
}

fn apis() -> Vec<(String, Arc<sdk_gen::Api>)> {
    vec![
        ("petshop".to_string(), fixture("petshop.yaml")),
        ("weather".to_string(), fixture("weather.yaml")),
    ]
}

fn index() -> SearchIndex {
    SearchIndex::build(&apis(), None).expect("index builds")
}

fn search(index: &SearchIndex, query: &str) -> SearchResults {
    index.search(&SearchRequest {
        query: query.to_string(),
        ..SearchRequest::default()
    })
}

fn top(index: &SearchIndex, query: &str) -> String {
    let r = search(index, query);
    r.hits
        .first()
        .map(|h| h.name.clone())
        .unwrap_or_else(|| format!("nothing: {:?}", r.notes))
}

#[test]
fn exact_lookups_rank_first() {
    let ix = index();
    assert_eq!(top(&ix, "petsGet"), "petsGet");
    assert_eq!(top(&ix, "pets/get"), "petsGet");
    assert_eq!(top(&ix, "place-order"), "placeOrder");
    assert_eq!(top(&ix, "GET /pets/{pet_id}"), "petsGet");
    assert_eq!(top(&ix, "delete /pets/{id}"), "petsDelete");
    assert_eq!(top(&ix, "PATCH pets/{pet_id}"), "petsUpdate");
    let r = search(&ix, "/pets/{pet_id}");
    let names: Vec<&str> = r.hits.iter().take(3).map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["petsGet", "petsUpdate", "petsDelete"]);
    assert!(r.hits[..3].iter().all(|h| h.exact));
    // Exact hits are followed by related operations, not alone.
    assert!(r.hits.len() > 3);
}

#[test]
fn free_text_picks_the_right_sibling() {
    let ix = index();
    assert_eq!(top(&ix, "remove a pet"), "petsDelete");
    assert_eq!(top(&ix, "show all the pets"), "petsList");
    assert_eq!(top(&ix, "fetch one pet by id"), "petsGet");
    assert_eq!(top(&ix, "add a new pet"), "petsCreate");
    assert_eq!(top(&ix, "edit pet"), "petsUpdate");
    assert_eq!(top(&ix, "cancel an order"), "cancelOrder");
    assert_eq!(top(&ix, "upload pet picture"), "uploadPetPhoto");
    assert_eq!(top(&ix, "who am I"), "usersGetMe");
    assert_eq!(top(&ix, "weather forecast for Paris"), "getForecast");
}

#[test]
fn identifier_fragments_inside_free_text() {
    let ix = index();
    assert_eq!(
        top(&ix, "call stores/{store_id}/orders to see orders"),
        "listStoreOrders"
    );
    assert_eq!(
        top(&ix, "use list_store_orders for store 5"),
        "listStoreOrders"
    );
}

#[test]
fn deprecated_operations_rank_below_current_ones() {
    let ix = index();
    let r = search(&ix, "list orders");
    let pos = |n: &str| r.hits.iter().position(|h| h.name == n);
    assert!(
        pos("listStoreOrders") < pos("legacyListOrders"),
        "{:?}",
        r.hits
    );
    assert!(r.hits.iter().any(|h| h.deprecated));
}

#[test]
fn filters_restrict_results() {
    let ix = index();
    let r = ix.search(&SearchRequest {
        query: "pet".into(),
        method: Some("delete".into()),
        ..SearchRequest::default()
    });
    assert!(!r.hits.is_empty());
    assert!(r.hits.iter().all(|h| h.method == "DELETE"));
    let r = ix.search(&SearchRequest {
        query: "list".into(),
        tag: Some("STORE".into()),
        ..SearchRequest::default()
    });
    assert!(!r.hits.is_empty());
    assert!(r
        .hits
        .iter()
        .all(|h| h.operation().tags.contains(&"store".to_string())));
    let r = ix.search(&SearchRequest {
        query: "get".into(),
        api: Some("weather".into()),
        ..SearchRequest::default()
    });
    assert!(!r.hits.is_empty());
    assert!(r.hits.iter().all(|h| h.api == "weather"));
    // Filters alone browse what they select.
    let r = ix.search(&SearchRequest {
        query: String::new(),
        tag: Some("alerts".into()),
        ..SearchRequest::default()
    });
    assert_eq!(r.hits.len(), 1);
    assert_eq!(r.hits[0].name, "listAlerts");
}

#[test]
fn limit_is_applied_and_more_is_announced() {
    let ix = index();
    let r = ix.search(&SearchRequest {
        query: "pet".into(),
        limit: Some(2),
        ..SearchRequest::default()
    });
    assert_eq!(r.hits.len(), 2);
    assert!(r.total > 2);
    assert!(r.render_text().contains("more operation(s) matched"));
}

#[test]
fn type_name_query_returns_its_declaration() {
    let ix = index();
    for q in ["Pet", "pet"] {
        let r = search(&ix, q);
        assert_eq!(r.types.len(), 1, "{q}");
        assert!(r.types[0].declaration.contains("interface Pet {"));
        assert!(r.render_text().contains("interface Pet {"));
    }
    let r = search(&ix, "Forecast");
    assert_eq!(r.types[0].api, "weather");
}

fn assert_helpful(r: &SearchResults, needle: &str) {
    assert!(r.hits.is_empty(), "{:?}", r.hits);
    let text = r.render_text();
    assert!(text.contains(needle), "{text}");
}

#[test]
fn bad_input_gets_a_helpful_answer() {
    let ix = index();
    assert_helpful(&search(&ix, ""), "the query is empty");
    assert_helpful(&search(&ix, "   \n\t "), "the query is empty");
    assert_helpful(&search(&ix, "the of and to a"), "no searchable words");
    assert_helpful(
        &search(&ix, "?!?.,;:()[]{}\"'*~^+-&&||"),
        "no searchable words",
    );
    assert_helpful(
        &search(&ix, "zzzqqq xyzzy"),
        "APIs loaded: petshop, weather",
    );
    // Query-parser syntax is just text.
    let r = search(&ix, "name:pet AND (status:sold OR \"x\")^3 -foo");
    assert_eq!(r.hits.first().map(|h| h.api.as_str()), Some("petshop"));
    // Huge queries are cut, not rejected.
    let huge = "list pets ".repeat(20_000);
    let r = search(&ix, &huge);
    assert_eq!(r.hits[0].name, "petsList");
    assert!(r.render_text().contains("cut"));
    let r = ix.search(&SearchRequest {
        query: "pets".into(),
        api: Some("github".into()),
        ..SearchRequest::default()
    });
    assert_helpful(
        &r,
        "no API is named \"github\"; APIs loaded: petshop, weather",
    );
    let r = ix.search(&SearchRequest {
        query: "pets".into(),
        tag: Some("cats".into()),
        ..SearchRequest::default()
    });
    assert_helpful(
        &r,
        "no operation has the tag \"cats\"; tags: alerts, forecasts, pets, store, users",
    );
    let r = ix.search(&SearchRequest {
        query: "pets".into(),
        method: Some("FETCH".into()),
        ..SearchRequest::default()
    });
    assert_helpful(&r, "is not an HTTP method");
}

#[test]
fn rendering_stays_within_the_token_budget() {
    let ix = index();
    let r = ix.search(&SearchRequest {
        query: "pet".into(),
        limit: Some(10),
        ..SearchRequest::default()
    });
    let text = r.render_text();
    assert!(count_tokens(&text) <= 1200);
    let small = r.render_text_within(150);
    assert!(count_tokens(&small) <= 150, "{small}");
    assert!(small.contains("— ")); // at least one-line entries
    insta::assert_snapshot!(
        "render_update_a_pet",
        search(&ix, "update a pet").render_text()
    );
}

#[test]
fn json_hits_carry_signatures() {
    let ix = index();
    let hits = search(&ix, "pets/get").json_hits();
    let v = serde_json::to_value(&hits).expect("serializes");
    assert_eq!(v[0]["name"], "petsGet");
    assert_eq!(v[0]["method"], "GET");
    assert_eq!(v[0]["path"], "/pets/{pet_id}");
    assert!(v[0]["score"].as_f64().is_some());
    assert!(v[0]["signature"]
        .as_str()
        .is_some_and(|s| s.contains("function petsGet(")));
}

#[test]
fn index_is_cached_on_disk_and_reused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = SearchIndex::build(&apis(), Some(dir.path())).expect("builds");
    assert!(matches!(first.report().origin, IndexOrigin::Built(_)));
    let second = SearchIndex::build(&apis(), Some(dir.path())).expect("opens");
    assert!(matches!(second.report().origin, IndexOrigin::Cached(_)));
    for q in ["remove a pet", "list orders", "forecast"] {
        let a: Vec<String> = search(&first, q)
            .hits
            .iter()
            .map(|h| h.name.clone())
            .collect();
        let b: Vec<String> = search(&second, q)
            .hits
            .iter()
            .map(|h| h.name.clone())
            .collect();
        assert_eq!(a, b, "{q}");
    }
    // A different set of APIs gets its own cache entry.
    let only_pets = vec![apis().remove(0)];
    let third = SearchIndex::build(&only_pets, Some(dir.path())).expect("builds");
    assert!(matches!(third.report().origin, IndexOrigin::Built(_)));
    // A corrupt cache is rebuilt, not an error.
    let IndexOrigin::Cached(path) = &second.report().origin else {
        unreachable!()
    };
    std::fs::write(path.join("meta.json"), "not json").expect("write");
    let fourth = SearchIndex::build(&apis(), Some(dir.path())).expect("rebuilds");
    assert!(matches!(fourth.report().origin, IndexOrigin::Built(_)));
    assert_eq!(top(&fourth, "remove a pet"), "petsDelete");
}

#[test]
fn duplicate_api_names_are_refused() {
    let mut a = apis();
    a.push(("petshop".into(), fixture("weather.yaml")));
    let err = SearchIndex::build(&a, None).expect_err("duplicate");
    assert!(err.to_string().contains("two APIs are named \"petshop\""));
}

fn cli(args: &[&str]) -> (String, String, bool) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_codemode"))
        .args(args)
        .output()
        .expect("runs");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.success(),
    )
}

#[test]
fn cli_search_text_and_json() {
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/search/petshop.yaml");
    let spec = spec.to_string_lossy();
    let (out, _, ok) = cli(&[
        "search",
        &spec,
        "delete a pet",
        "--no-cache",
        "--limit",
        "3",
    ]);
    assert!(ok);
    insta::assert_snapshot!("cli_text_delete_a_pet", out);
    let (out, _, ok) = cli(&[
        "search",
        &spec,
        "delete a pet",
        "--no-cache",
        "--json",
        "--limit",
        "2",
    ]);
    assert!(ok);
    // Scores move with tuning; their order is what matters.
    let mut v: serde_json::Value = serde_json::from_str(&out).expect("JSON array");
    let scores: Vec<f64> = v
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|h| h["score"].as_f64())
        .collect();
    assert!(scores.len() == 2 && scores[0] >= scores[1], "{scores:?}");
    for h in v.as_array_mut().expect("array") {
        h["score"] = serde_json::json!("[score]");
    }
    insta::assert_snapshot!(
        "cli_json_delete_a_pet",
        serde_json::to_string_pretty(&v).expect("json")
    );
    let (out, err, ok) = cli(&["search", &spec, "???", "--no-cache", "--json"]);
    assert!(ok);
    assert_eq!(out.trim(), "[]");
    assert!(err.contains("no searchable words"), "{err}");
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = dir.path().to_string_lossy();
    let (a, _, ok) = cli(&["search", &spec, "orders", "--cache-dir", &cache, "--json"]);
    assert!(ok);
    let (b, _, _) = cli(&["search", &spec, "orders", "--cache-dir", &cache, "--json"]);
    assert_eq!(a, b);
    assert!(std::fs::read_dir(dir.path()).expect("cache dir").count() >= 1);
}
