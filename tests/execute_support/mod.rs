//! Shared helpers for the `execute` integration tests: a loopback mock
//! upstream (axum on 127.0.0.1:0) that records every request it receives,
//! and builders for executors pointed at it.
#![allow(dead_code, clippy::unwrap_used)]

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use codemode::execute::{
    AuthScheme, CancellationToken, Credentials, ExecOutcome, Executor, ExecutorConfig, Limits,
    LoadedApi, Scopes, Secret, SecretSource,
};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

pub fn rt() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    })
}

/// A request the mock received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    /// Path and query exactly as received (still percent-encoded).
    pub uri: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Clone)]
struct MockState {
    seen: Arc<Mutex<Vec<Seen>>>,
}

pub struct Mock {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Mock {
    pub fn start() -> Mock {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let state = MockState { seen: seen.clone() };
        let listener = rt()
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let app = axum::Router::new().fallback(handle).with_state(state);
        rt().spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Mock { addr, seen }
    }

    /// `http://127.0.0.1:PORT` + prefix.
    pub fn url(&self, prefix: &str) -> String {
        format!("http://{}{prefix}", self.addr)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn query_param(q: &str, name: &str) -> Option<String> {
    url::form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.to_string())
}

fn json_response(status: u16, v: Value) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(v.to_string()))
        .unwrap()
}

fn redirect(to: &str) -> Response {
    Response::builder()
        .status(StatusCode::FOUND)
        .header(header::LOCATION, HeaderValue::from_str(to).unwrap())
        .body(Body::empty())
        .unwrap()
}

async fn handle(State(st): State<MockState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, 16 << 20)
        .await
        .unwrap_or_default();
    let body = String::from_utf8_lossy(&bytes).to_string();
    let uri = parts.uri.to_string();
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                String::from_utf8_lossy(v.as_bytes()).to_string(),
            )
        })
        .collect();
    st.seen.lock().unwrap().push(Seen {
        method: parts.method.to_string(),
        uri: uri.clone(),
        headers: headers.clone(),
        body: body.clone(),
    });
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().unwrap_or("").to_string();
    let tail = path
        .strip_prefix("/v1")
        .or_else(|| path.strip_prefix("/api"))
        .unwrap_or(&path)
        .to_string();
    if let Some(code) = tail.strip_prefix("/status/") {
        let code: u16 = code.parse().unwrap_or(500);
        return json_response(
            code,
            json!({"error": "mock error", "code": code, "detail": "x".repeat(3000)}),
        );
    }
    match tail.as_str() {
        "/redirect/external" => return redirect("http://example.com/steal"),
        "/redirect/metadata" => return redirect("http://169.254.169.254/latest/meta-data/"),
        "/redirect/internal" => return redirect("/v1/public"),
        "/redirect/loop" => return redirect("/v1/redirect/loop"),
        "/big" => {
            let n: usize = query_param(&query, "bytes")
                .and_then(|b| b.parse().ok())
                .unwrap_or(10);
            return json_response(200, json!(["y".repeat(n)]));
        }
        "/slow" => {
            let ms: u64 = query_param(&query, "ms")
                .and_then(|b| b.parse().ok())
                .unwrap_or(10);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            return json_response(200, json!({"slept": ms}));
        }
        "/text" => {
            return Response::builder()
                .header(header::CONTENT_TYPE, "text/plain")
                .body(Body::from("hello text"))
                .unwrap()
        }
        "/list" => {
            let n: usize = query_param(&query, "n")
                .and_then(|b| b.parse().ok())
                .unwrap_or(10);
            let items: Vec<Value> = (0..n)
                .map(|i| json!({"id": i, "name": format!("item {i}")}))
                .collect();
            return json_response(200, Value::Array(items));
        }
        "/echo-auth" => {
            let auth = headers
                .iter()
                .find(|(k, _)| k == "authorization")
                .map(|(_, v)| v.clone());
            return json_response(200, json!({ "you_sent": auth }));
        }
        _ => {}
    }
    let echo_headers: serde_json::Map<String, Value> = headers
        .iter()
        .filter(|(k, _)| k != "authorization")
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let parsed: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let status = if parts.method == "POST" { 201 } else { 200 };
    json_response(
        status,
        json!({
            "method": parts.method.to_string(),
            "path": path,
            "query": query,
            "headers": echo_headers,
            "body": body,
            "json": parsed,
        }),
    )
}

/// Loads a spec once per test binary.
pub fn spec(path: &str) -> Arc<sdk_gen::Api> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<sdk_gen::Api>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(a) = cache.lock().unwrap().get(path) {
        return a.clone();
    }
    let full = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    let api = Arc::new(sdk_gen::load(&full).unwrap());
    cache.lock().unwrap().insert(path.to_string(), api.clone());
    api
}

pub fn api(name: &str, path: &str, base: String, cred: Option<Credentials>) -> LoadedApi {
    LoadedApi {
        name: name.into(),
        api: spec(path),
        base_url: Some(base),
        credentials: cred,
    }
}

pub fn bearer(secret: &str) -> Credentials {
    Credentials {
        scheme: AuthScheme::Bearer,
        source: SecretSource::Value(Secret::new(secret)),
    }
}

pub fn executor_with(apis: Vec<LoadedApi>, limits: Limits, workers: usize) -> Executor {
    Executor::new(
        apis,
        ExecutorConfig {
            limits,
            workers,
            allow_private_network: true,
        },
    )
    .unwrap()
}

/// The mock API (`mock`) at the mock server, with a bearer token.
pub fn mock_executor(mock: &Mock, limits: Limits) -> Executor {
    executor_with(
        vec![api(
            "mock",
            "fixtures/mock-api.yaml",
            mock.url("/v1"),
            Some(bearer("sekret-bearer-123")),
        )],
        limits,
        2,
    )
}

pub fn run(ex: &Executor, code: &str) -> ExecOutcome {
    run_scoped(ex, code, &Scopes::default())
}

pub fn run_scoped(ex: &Executor, code: &str, scopes: &Scopes) -> ExecOutcome {
    rt().block_on(ex.execute(code, scopes, CancellationToken::new(), None))
}

/// Asserts success and returns the result.
#[track_caller]
pub fn ok(out: &ExecOutcome) -> &Value {
    assert!(
        out.ok,
        "expected success, got {}",
        serde_json::to_string_pretty(out).unwrap()
    );
    &out.result
}

/// Asserts failure with this kind and returns the message.
#[track_caller]
pub fn err(out: &ExecOutcome, kind: &str) -> String {
    let e = out.error.as_ref().unwrap_or_else(|| {
        panic!(
            "expected a {kind} error, got {}",
            serde_json::to_string(out).unwrap()
        )
    });
    assert!(!out.ok);
    let k = serde_json::to_value(e.kind).unwrap();
    assert_eq!(k, kind, "wrong kind; message: {}", e.message);
    e.message.clone()
}
