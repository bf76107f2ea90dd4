//! The MCP server: `codemode serve`.
//!
//! Owns the protocol surface and everything around the two tools, but not
//! the engines behind them:
//! - [`config`]: TOML config + `serve` flags → [`config::Settings`] (errors name the key).
//! - [`backend`]: the [`backend::Backend`] trait the tools call (search engine,
//!   execute sandbox) and its input/output types.
//! - [`scopes`]: the single definition of what a caller may call.
//! - [`tools`]: the rmcp service with the `search` and `execute` tools.
//! - [`auth`] and [`jwt`]: bearer-hash callers, OAuth 2.1 resource server, RFC 9728.
//! - [`http`]: the axum router (`/mcp`, `/healthz`, `/metrics`, `/.well-known/…`).
//! - [`metrics`] and [`audit`]: Prometheus text and the per-call audit log.
//! - [`engines`]: the product's backend: the search index and the sandbox.
//! - [`testing`]: a small backend for tests (not the product's engines).

pub mod audit;
pub mod auth;
pub mod backend;
pub mod config;
pub mod engines;
pub mod http;
pub mod jwt;
pub mod metrics;
pub mod scopes;
pub mod testing;
pub mod tools;

use std::sync::Arc;

use anyhow::Context as _;
use rmcp::ServiceExt as _;
use tokio_util::sync::CancellationToken;

use backend::{Backend, Caller, Credential, CredentialScheme, LoadedApi, Secret};
use config::Settings;

/// Loads every configured API (blocking: call before starting the runtime
/// or from `spawn_blocking`). `env` looks up environment variables.
pub fn load_apis(
    settings: &Settings,
    env: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<Vec<LoadedApi>> {
    let mut out: Vec<LoadedApi> = Vec::new();
    for a in &settings.apis {
        let api = sdk_gen::load(&a.spec)
            .with_context(|| format!("{}: cannot load spec {}", a.origin, a.spec))?;
        let name = a
            .name
            .clone()
            .unwrap_or_else(|| sdk_gen::typescript::default_namespace(&api));
        if out.iter().any(|o| o.name == name) {
            anyhow::bail!(
                "{}: two APIs are named {name:?}: name them, e.g. --spec {name}2={}",
                a.origin,
                a.spec
            );
        }
        let description = match &a.description {
            Some(d) => d.clone(),
            None => api.title.clone(),
        };
        let base_url = a
            .base_url
            .clone()
            .or_else(|| env(&config::base_url_env_var(&name)))
            .or_else(|| api.servers.first().map(|s| s.default_url()));
        let credential = match &a.credential {
            Some((scheme, secret)) => Some(Credential {
                scheme: scheme.clone(),
                secret: secret.clone(),
            }),
            None => env(&config::token_env_var(&name))
                .filter(|v| !v.is_empty())
                .map(|secret| Credential {
                    scheme: scheme_from_spec(&api),
                    secret: Secret::new(secret),
                }),
        };
        out.push(LoadedApi {
            name,
            description,
            api: Arc::new(api),
            base_url,
            credential,
        });
    }
    Ok(out)
}

/// Checks that every scope rule names a loaded API and existing operations
/// and tags, so a typo is an error at startup rather than a silent denial.
pub fn check_scopes(settings: &Settings, apis: &[LoadedApi]) -> anyhow::Result<()> {
    let mut sets: Vec<(String, &scopes::Scopes)> =
        vec![("local.scopes".into(), &settings.local_scopes)];
    for c in &settings.callers {
        sets.push((format!("callers (name = {:?}).scopes", c.name), &c.scopes));
    }
    if let Some(o) = &settings.oauth {
        for (name, s) in &o.scopes {
            sets.push((format!("oauth.scopes.{name:?}"), s));
        }
    }
    let names: Vec<&str> = apis.iter().map(|a| a.name.as_str()).collect();
    for (key, set) in sets {
        for (i, rule) in set.rules.iter().enumerate() {
            if rule.api == "*" {
                continue;
            }
            let Some(api) = apis.iter().find(|a| a.name == rule.api) else {
                anyhow::bail!(
                    "{key}[{i}].api = {:?} is not a loaded API: use one of {} or \"*\"",
                    rule.api,
                    names.join(", ")
                );
            };
            for op in rule.operations.iter().flatten() {
                if !api.api.operations.iter().any(|o| &o.name == op) {
                    anyhow::bail!(
                        "{key}[{i}].operations: {:?} has no operation {op:?}: use the SDK function names (codemode sdk <spec>)",
                        rule.api
                    );
                }
            }
            for tag in rule.tags.iter().flatten() {
                if !api.api.operations.iter().any(|o| o.tags.contains(tag)) {
                    anyhow::bail!(
                        "{key}[{i}].tags: no operation of {:?} has tag {tag:?}",
                        rule.api
                    );
                }
            }
        }
    }
    Ok(())
}

/// How a quick-start token is sent: as the spec's first usable security scheme says.
fn scheme_from_spec(api: &sdk_gen::Api) -> CredentialScheme {
    use sdk_gen::{ParamLocation, SecuritySchemeKind as K};
    for s in &api.security_schemes {
        match &s.kind {
            K::ApiKey { param, location } if *location == ParamLocation::Header => {
                return CredentialScheme::Header(param.clone());
            }
            K::ApiKey { param, location } if *location == ParamLocation::Query => {
                return CredentialScheme::Query(param.clone());
            }
            K::Basic => return CredentialScheme::Basic,
            K::Bearer { .. } | K::OAuth2 { .. } | K::OpenIdConnect { .. } => {
                return CredentialScheme::Bearer
            }
            _ => {}
        }
    }
    CredentialScheme::Bearer
}

/// Serves MCP on stdin/stdout as the local user until the client disconnects.
pub async fn run_stdio(settings: &Settings, backend: Arc<dyn Backend>) -> anyhow::Result<()> {
    let metrics = Arc::new(metrics::Metrics::default());
    let local = Caller {
        id: "local".into(),
        scopes: settings.local_scopes.clone(),
        limits: settings.local_limits.clone(),
    };
    let server = tools::CodemodeServer::new(backend, metrics, Some(local));
    tracing::info!(transport = "stdio", "codemode serving");
    let running = server
        .serve(rmcp::transport::stdio())
        .await
        .context("MCP stdio handshake failed")?;
    running
        .waiting()
        .await
        .context("MCP stdio session failed")?;
    Ok(())
}

/// Serves MCP over Streamable HTTP until `shutdown` fires (or Ctrl-C).
pub async fn run_http(
    settings: &Settings,
    backend: Arc<dyn Backend>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let addr = settings
        .http
        .context("no HTTP address: pass --http 127.0.0.1:8787")?;
    let metrics = Arc::new(metrics::Metrics::default());
    let auth = Arc::new(auth::Authenticator::new(settings).await?);
    let server = tools::CodemodeServer::new(backend, metrics.clone(), None);
    let app = http::router(server, auth.clone(), metrics, settings, shutdown.clone());
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}: is another server using the port?"))?;
    let local = listener.local_addr()?;
    tracing::info!(
        transport = "http",
        addr = %local,
        url = %format!("http://{local}/mcp"),
        auth_required = auth.required(),
        "codemode serving"
    );
    let stop = shutdown.clone();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            tokio::select! {
                () = stop.cancelled() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        })
        .await
        .context("HTTP server failed")?;
    Ok(())
}
