//! The built-in demo API: a small bookshop spec (`bookshop.yaml`, embedded)
//! and an in-process HTTP server implementing it on a loopback port, so
//! `codemode serve` with no spec has something real to search and execute
//! against, without credentials or network.
//!
//! The server keeps its catalogue in memory and checks a bearer token made up
//! at start-up: codemode injects it on the host side, as it would a real
//! API's credentials, so the demo shows the whole path.

use axum::extract::Request;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// The demo spec's text.
pub const SPEC: &str = include_str!("bookshop.yaml");
/// The name the demo API is served under.
pub const NAME: &str = "bookshop";

/// A running demo server.
#[derive(Debug)]
pub struct DemoServer {
    /// Where it listens (loopback).
    pub addr: SocketAddr,
    /// The bearer token it expects; hand it to codemode as the API's credential.
    pub token: String,
    task: tokio::task::JoinHandle<()>,
}

impl DemoServer {
    /// Base URL to call, e.g. `http://127.0.0.1:40123/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Loads the embedded spec.
pub fn api() -> Result<sdk_gen::Api, sdk_gen::Error> {
    sdk_gen::load_str("demo/bookshop.yaml", SPEC)
}

/// Starts the demo server on `127.0.0.1` with a fresh catalogue.
pub async fn spawn() -> std::io::Result<DemoServer> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let token = make_token();
    let shop = Shop {
        token: token.clone(),
        store: Arc::new(Mutex::new(Store::seeded())),
    };
    let app = router(shop);
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::warn!(error = %e, "demo server stopped");
        }
    });
    Ok(DemoServer { addr, token, task })
}

fn make_token() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    format!("demo-{:016x}", h.finish())
}

#[derive(Clone)]
struct Shop {
    token: String,
    store: Arc<Mutex<Store>>,
}

struct Store {
    books: BTreeMap<i64, Value>,
    authors: Vec<Value>,
    orders: BTreeMap<i64, Value>,
    next_book: i64,
    next_order: i64,
}

impl Store {
    fn seeded() -> Store {
        let authors = vec![
            json!({"id": 1, "name": "Ursula K. Le Guin", "country": "US"}),
            json!({"id": 2, "name": "Carl Sagan", "country": "US"}),
            json!({"id": 3, "name": "Mary Beard", "country": "GB"}),
            json!({"id": 4, "name": "Astrid Lindgren", "country": "SE"}),
            json!({"id": 5, "name": "Stanisław Lem", "country": "PL"}),
        ];
        let rows: &[(&str, i64, &str, i64, i64, i64)] = &[
            ("A Wizard of Earthsea", 1, "fiction", 1299, 4, 1968),
            ("The Left Hand of Darkness", 1, "fiction", 1499, 0, 1969),
            ("The Dispossessed", 1, "fiction", 1599, 7, 1974),
            ("The Lathe of Heaven", 1, "fiction", 1199, 2, 1971),
            ("Cosmos", 2, "science", 1899, 5, 1980),
            ("Pale Blue Dot", 2, "science", 1799, 1, 1994),
            ("The Demon-Haunted World", 2, "science", 1699, 3, 1995),
            ("Contact", 2, "fiction", 1399, 0, 1985),
            ("SPQR", 3, "history", 2199, 6, 2015),
            ("Women & Power", 3, "history", 999, 9, 2017),
            ("Twelve Caesars", 3, "history", 2499, 2, 2021),
            ("Pippi Longstocking", 4, "children", 899, 12, 1945),
            ("The Brothers Lionheart", 4, "children", 999, 3, 1973),
            ("Ronia, the Robber's Daughter", 4, "children", 949, 0, 1981),
            ("Solaris", 5, "fiction", 1299, 8, 1961),
            ("The Cyberiad", 5, "fiction", 1399, 2, 1965),
            ("His Master's Voice", 5, "fiction", 1499, 1, 1968),
            ("Summa Technologiae", 5, "science", 2999, 1, 1964),
        ];
        let books: BTreeMap<i64, Value> = rows
            .iter()
            .enumerate()
            .map(|(i, (title, author, genre, price, stock, year))| {
                let id = i as i64 + 1;
                (
                    id,
                    json!({"id": id, "title": title, "author_id": author, "genre": genre,
                           "price_cents": price, "in_stock": stock, "published": year}),
                )
            })
            .collect();
        Store {
            next_book: books.len() as i64 + 1,
            books,
            authors,
            orders: BTreeMap::new(),
            next_order: 1,
        }
    }
}

fn router(shop: Shop) -> Router {
    Router::new()
        .route("/v1/books", get(list_books).post(create_book))
        .route(
            "/v1/books/{book_id}",
            get(get_book).patch(update_book).delete(delete_book),
        )
        .route("/v1/authors", get(list_authors))
        .route("/v1/authors/{author_id}", get(get_author))
        .route("/v1/orders", get(list_orders).post(place_order))
        .route("/v1/orders/{order_id}/cancel", post(cancel_order))
        .layer(middleware::from_fn_with_state(shop.clone(), require_token))
        .with_state(shop)
}

fn problem(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

/// Every route needs the bearer token made up at start-up.
async fn require_token(State(shop): State<Shop>, request: Request, next: Next) -> Response {
    let expected = format!("Bearer {}", shop.token);
    match request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
    {
        Some(v) if v == expected => next.run(request).await,
        _ => problem(StatusCode::UNAUTHORIZED, "missing or wrong bearer token"),
    }
}

fn lock(shop: &Shop) -> std::sync::MutexGuard<'_, Store> {
    // A panic while holding the lock cannot leave the store half-written in
    // a way that matters for a demo; keep serving.
    shop.store.lock().unwrap_or_else(|e| e.into_inner())
}

#[derive(Deserialize)]
struct BookFilter {
    genre: Option<String>,
    author_id: Option<i64>,
    q: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

async fn list_books(State(shop): State<Shop>, Query(f): Query<BookFilter>) -> Response {
    let limit = f.limit.unwrap_or(10);
    if !(1..=50).contains(&limit) {
        return problem(StatusCode::BAD_REQUEST, "limit must be between 1 and 50");
    }
    let offset = f.offset.unwrap_or(0).max(0) as usize;
    let needle = f.q.as_deref().map(str::to_lowercase);
    let store = lock(&shop);
    let matching: Vec<&Value> = store
        .books
        .values()
        .filter(|b| f.genre.as_deref().is_none_or(|g| b["genre"] == g))
        .filter(|b| f.author_id.is_none_or(|a| b["author_id"] == a))
        .filter(|b| {
            needle.as_deref().is_none_or(|n| {
                b["title"]
                    .as_str()
                    .is_some_and(|t| t.to_lowercase().contains(n))
            })
        })
        .collect();
    let total = matching.len();
    let items: Vec<&Value> = matching
        .into_iter()
        .skip(offset)
        .take(limit as usize)
        .collect();
    let end = offset + items.len();
    let next = if end < total { json!(end) } else { Value::Null };
    Json(json!({ "items": items, "total": total, "next_offset": next })).into_response()
}

async fn create_book(State(shop): State<Shop>, Json(body): Json<Value>) -> Response {
    let (Some(title), Some(author), Some(price)) = (
        body["title"].as_str(),
        body["author_id"].as_i64(),
        body["price_cents"].as_i64(),
    ) else {
        return problem(
            StatusCode::BAD_REQUEST,
            "title, author_id and price_cents are required",
        );
    };
    let mut store = lock(&shop);
    if !store.authors.iter().any(|a| a["id"] == author) {
        return problem(StatusCode::BAD_REQUEST, "no author with that id");
    }
    let id = store.next_book;
    store.next_book += 1;
    let book = json!({"id": id, "title": title, "author_id": author,
        "genre": body.get("genre").cloned().unwrap_or(Value::Null),
        "price_cents": price, "in_stock": body["in_stock"].as_i64().unwrap_or(0),
        "published": body.get("published").cloned().unwrap_or(Value::Null)});
    store.books.insert(id, book.clone());
    (StatusCode::CREATED, Json(book)).into_response()
}

async fn get_book(State(shop): State<Shop>, Path(id): Path<i64>) -> Response {
    match lock(&shop).books.get(&id) {
        Some(b) => Json(b.clone()).into_response(),
        None => problem(StatusCode::NOT_FOUND, "no book with that id"),
    }
}

async fn update_book(
    State(shop): State<Shop>,
    Path(id): Path<i64>,
    Json(patch): Json<Value>,
) -> Response {
    let mut store = lock(&shop);
    let Some(book) = store.books.get_mut(&id) else {
        return problem(StatusCode::NOT_FOUND, "no book with that id");
    };
    for key in ["title", "price_cents", "in_stock"] {
        if let Some(v) = patch.get(key) {
            book[key] = v.clone();
        }
    }
    Json(book.clone()).into_response()
}

async fn delete_book(State(shop): State<Shop>, Path(id): Path<i64>) -> Response {
    match lock(&shop).books.remove(&id) {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => problem(StatusCode::NOT_FOUND, "no book with that id"),
    }
}

async fn list_authors(State(shop): State<Shop>) -> Response {
    Json(lock(&shop).authors.clone()).into_response()
}

async fn get_author(State(shop): State<Shop>, Path(id): Path<i64>) -> Response {
    match lock(&shop).authors.iter().find(|a| a["id"] == id) {
        Some(a) => Json(a.clone()).into_response(),
        None => problem(StatusCode::NOT_FOUND, "no author with that id"),
    }
}

#[derive(Deserialize)]
struct OrderFilter {
    status: Option<String>,
}

async fn list_orders(State(shop): State<Shop>, Query(f): Query<OrderFilter>) -> Response {
    let store = lock(&shop);
    let orders: Vec<&Value> = store
        .orders
        .values()
        .filter(|o| f.status.as_deref().is_none_or(|s| o["status"] == s))
        .collect();
    Json(orders).into_response()
}

async fn place_order(State(shop): State<Shop>, Json(body): Json<Value>) -> Response {
    let (Some(book_id), Some(quantity)) = (body["book_id"].as_i64(), body["quantity"].as_i64())
    else {
        return problem(StatusCode::BAD_REQUEST, "book_id and quantity are required");
    };
    if quantity < 1 {
        return problem(StatusCode::BAD_REQUEST, "quantity must be at least 1");
    }
    let mut store = lock(&shop);
    let Some(book) = store.books.get_mut(&book_id) else {
        return problem(StatusCode::NOT_FOUND, "no book with that id");
    };
    let stock = book["in_stock"].as_i64().unwrap_or(0);
    if stock < quantity {
        return problem(StatusCode::CONFLICT, "not enough copies in stock");
    }
    book["in_stock"] = json!(stock - quantity);
    let total = book["price_cents"].as_i64().unwrap_or(0) * quantity;
    let id = store.next_order;
    store.next_order += 1;
    let order = json!({"id": id, "book_id": book_id, "quantity": quantity,
        "total_cents": total, "status": "placed"});
    store.orders.insert(id, order.clone());
    (StatusCode::CREATED, Json(order)).into_response()
}

async fn cancel_order(State(shop): State<Shop>, Path(id): Path<i64>) -> Response {
    let mut store = lock(&shop);
    let Some(order) = store.orders.get(&id).cloned() else {
        return problem(StatusCode::NOT_FOUND, "no order with that id");
    };
    if order["status"] == "cancelled" {
        return problem(StatusCode::CONFLICT, "order already cancelled");
    }
    let (book_id, quantity) = (
        order["book_id"].as_i64().unwrap_or(0),
        order["quantity"].as_i64().unwrap_or(0),
    );
    if let Some(book) = store.books.get_mut(&book_id) {
        let stock = book["in_stock"].as_i64().unwrap_or(0);
        book["in_stock"] = json!(stock + quantity);
    }
    let mut cancelled = order;
    cancelled["status"] = json!("cancelled");
    store.orders.insert(id, cancelled.clone());
    Json(cancelled).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_spec_loads_cleanly() {
        let api = api().expect("demo spec loads");
        assert!(api.warnings.is_empty(), "{:?}", api.warnings);
        assert_eq!(api.operations.len(), 10);
        assert!(api.operation("booksList").is_some());
    }

    #[tokio::test]
    async fn the_server_implements_the_spec_and_checks_the_token() {
        let server = spawn().await.expect("starts");
        let client = reqwest::Client::new();
        let url = format!("{}/books?genre=science&limit=2", server.base_url());
        let denied = client.get(&url).send().await.expect("request");
        assert_eq!(denied.status(), 401);
        let page: Value = client
            .get(&url)
            .bearer_auth(&server.token)
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("json");
        assert_eq!(page["total"], 4);
        assert_eq!(page["items"].as_array().map(Vec::len), Some(2));
        assert_eq!(page["next_offset"], 2);
        let order = client
            .post(format!("{}/orders", server.base_url()))
            .bearer_auth(&server.token)
            .json(&json!({"book_id": 2, "quantity": 1}))
            .send()
            .await
            .expect("request");
        assert_eq!(order.status(), 409, "book 2 is out of stock");
    }
}
