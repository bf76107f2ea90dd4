//! The HTTP surface: `/mcp` (Streamable HTTP, both protocol eras: stateless
//! 2026-07-28 and 2025-11-25 sessions), `/healthz`, `/metrics` and the RFC
//! 9728 metadata at `/.well-known/oauth-protected-resource[/mcp]`.
//!
//! In front of `/mcp`: Origin check (403), authentication (401 with
//! `WWW-Authenticate`), a caller with no grants at all (403
//! `insufficient_scope`), and legacy sessions bound to the caller that
//! created them. rmcp additionally checks `Host`, Origin and the body size.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio_util::sync::CancellationToken;

use super::auth::{AuthFailure, Authenticator};
use super::config::Settings;
use super::metrics::Metrics;
use super::tools::CodemodeServer;

/// Most legacy sessions remembered for caller binding.
const MAX_SESSIONS: usize = 10_000;

#[derive(Debug)]
struct Guard {
    auth: Arc<Authenticator>,
    metrics: Arc<Metrics>,
    allowed_origins: Vec<String>,
    /// Legacy session id → caller id that created it (oldest evicted first).
    sessions: Mutex<Sessions>,
}

#[derive(Debug, Default)]
struct Sessions {
    owner: HashMap<String, String>,
    order: VecDeque<String>,
}

impl Sessions {
    fn bind(&mut self, id: &str, caller: String) {
        while self.order.len() >= MAX_SESSIONS {
            if let Some(old) = self.order.pop_front() {
                self.owner.remove(&old);
            }
        }
        self.order.push_back(id.to_string());
        self.owner.insert(id.to_string(), caller);
    }

    fn forget(&mut self, id: &str) {
        self.owner.remove(id);
        self.order.retain(|s| s != id);
    }
}

/// Builds the router. `shutdown` stops the MCP sessions.
pub fn router(
    server: CodemodeServer,
    auth: Arc<Authenticator>,
    metrics: Arc<Metrics>,
    settings: &Settings,
    shutdown: CancellationToken,
) -> Router {
    let mut config = StreamableHttpServerConfig::default()
        .with_allowed_hosts(settings.allowed_hosts.clone())
        .with_allowed_origins(settings.allowed_origins.clone())
        .enforce_origin_validation()
        .with_max_request_body_bytes(settings.max_body_bytes)
        .with_legacy_session_mode(true)
        .with_cancellation_token(shutdown);
    config.sse_keep_alive = Some(std::time::Duration::from_secs(15));
    let mcp = StreamableHttpService::new(
        move || Ok(server.clone()),
        Arc::new(LocalSessionManager::default()),
        config,
    );
    let guard = Arc::new(Guard {
        auth: auth.clone(),
        metrics: metrics.clone(),
        allowed_origins: settings.allowed_origins.clone(),
        sessions: Mutex::new(Sessions::default()),
    });
    let metadata = auth.metadata();
    let metadata2 = metadata.clone();

    Router::new()
        .route_service("/mcp", mcp)
        .route_layer(middleware::from_fn_with_state(guard, guard_mcp))
        .route("/healthz", get(|| async { "ok\n" }))
        .route(
            "/metrics",
            get(move || {
                let m = metrics.clone();
                async move {
                    (
                        [(
                            header::CONTENT_TYPE,
                            "text/plain; version=0.0.4; charset=utf-8",
                        )],
                        m.render(),
                    )
                }
            }),
        )
        .route(
            "/.well-known/oauth-protected-resource",
            get(move || std::future::ready(Json(metadata.clone()))),
        )
        .route(
            "/.well-known/oauth-protected-resource/mcp",
            get(move || std::future::ready(Json(metadata2.clone()))),
        )
        .layer(DefaultBodyLimit::max(settings.max_body_bytes))
}

fn origin_allowed(origin: &str, allowed: &[String]) -> bool {
    allowed.iter().any(|a| {
        if a == origin {
            return true;
        }
        // `scheme://host:*` matches any port.
        a.strip_suffix(":*").is_some_and(|prefix| {
            origin == prefix
                || origin
                    .strip_prefix(prefix)
                    .and_then(|rest| rest.strip_prefix(':'))
                    .is_some_and(|port| {
                        !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit())
                    })
        })
    })
}

fn json_error(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({
        "jsonrpc": "2.0",
        "id": null,
        "error": {"code": -32600, "message": message},
    });
    (status, Json(body)).into_response()
}

async fn guard_mcp(
    State(guard): State<Arc<Guard>>,
    mut req: Request<Body>,
    next: Next,
) -> Response {
    let headers: &HeaderMap = req.headers();
    if let Some(origin) = headers.get(header::ORIGIN) {
        let ok = origin
            .to_str()
            .is_ok_and(|o| origin_allowed(o, &guard.allowed_origins));
        if !ok {
            tracing::warn!(origin = ?origin, "request from a disallowed Origin refused");
            guard.metrics.refused("origin");
            return json_error(
                StatusCode::FORBIDDEN,
                "Origin not allowed: add it to server.allowed_origins (or --allow-origin)",
            );
        }
    }
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let caller = match guard.auth.authenticate(authorization).await {
        Ok(c) => c,
        Err(failure) => {
            let reason = match &failure {
                AuthFailure::Missing => "missing",
                AuthFailure::Invalid(r) => r.as_str(),
            };
            tracing::info!(reason, "unauthenticated request refused");
            guard.metrics.refused(match failure {
                AuthFailure::Missing => "missing_token",
                AuthFailure::Invalid(_) => "invalid_token",
            });
            let mut resp = json_error(
                StatusCode::UNAUTHORIZED,
                "authentication required: send Authorization: Bearer <token>",
            );
            if let Ok(v) = HeaderValue::from_str(&guard.auth.challenge(&failure)) {
                resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
            }
            return resp;
        }
    };
    if caller.scopes.rules.is_empty() {
        tracing::info!(caller = %caller.id, "caller without any grant refused");
        guard.metrics.refused("insufficient_scope");
        let mut resp = json_error(
            StatusCode::FORBIDDEN,
            "insufficient scope: this token grants no API",
        );
        if let Ok(v) = HeaderValue::from_str(&guard.auth.insufficient_scope()) {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        return resp;
    }

    // Legacy sessions belong to the caller that created them.
    let session = req
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    if let Some(id) = &session {
        let owner = guard
            .sessions
            .lock()
            .ok()
            .and_then(|s| s.owner.get(id).cloned());
        if owner.is_some_and(|o| o != caller.id) {
            tracing::warn!(caller = %caller.id, "session of another caller refused");
            guard.metrics.refused("session");
            return json_error(StatusCode::NOT_FOUND, "session not found");
        }
    }
    let is_delete = req.method() == axum::http::Method::DELETE;
    let caller_id = caller.id.clone();
    req.extensions_mut().insert(caller);
    let resp = next.run(req).await;

    if let Ok(mut sessions) = guard.sessions.lock() {
        if let Some(new_id) = resp
            .headers()
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
        {
            if session.is_none() && resp.status().is_success() {
                sessions.bind(new_id, caller_id);
            }
        }
        if is_delete && resp.status().is_success() {
            if let Some(id) = &session {
                sessions.forget(id);
            }
        }
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_evict_the_oldest_binding() {
        let mut s = Sessions::default();
        for i in 0..=MAX_SESSIONS {
            s.bind(&format!("s{i}"), "alice".into());
        }
        assert!(!s.owner.contains_key("s0"));
        assert_eq!(s.owner.get("s1").map(String::as_str), Some("alice"));
        s.forget("s1");
        assert!(!s.owner.contains_key("s1"));
        assert_eq!(s.owner.len(), MAX_SESSIONS - 1);
    }

    #[test]
    fn origins_match_exactly_or_by_port_wildcard() {
        let allowed = vec![
            "https://app.example.com".to_string(),
            "http://localhost:*".to_string(),
        ];
        assert!(origin_allowed("https://app.example.com", &allowed));
        assert!(!origin_allowed(
            "https://app.example.com.evil.com",
            &allowed
        ));
        assert!(origin_allowed("http://localhost:3000", &allowed));
        assert!(origin_allowed("http://localhost", &allowed));
        assert!(!origin_allowed("http://localhost.evil.com", &allowed));
        assert!(!origin_allowed("http://localhost:30x", &allowed));
        assert!(!origin_allowed("https://evil.com", &[]));
    }
}
