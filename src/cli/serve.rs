//! `codemode serve`: resolve settings, load the specs (blocking, before the
//! runtime starts), then serve MCP on stdio or Streamable HTTP.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;

use crate::server::{self, backend::Backend, config};

pub(crate) const LONG_ABOUT: &str = "\
Serve APIs to AI agents over MCP: two tools, `search` and `execute`.

Try it with no spec: a built-in demo bookshop API (books, authors, orders)
is served, backed by an in-process loopback server; no credentials needed:
  codemode serve                      (stdio)
  codemode serve --http               (http://127.0.0.1:8787/mcp)
Your own API (stdio, for a local MCP client):
  codemode serve --spec github=api.github.com.json
Streamable HTTP on a loopback port:
  codemode serve --spec petstore.yaml --http 127.0.0.1:8787
Deployments (APIs, credentials, callers, OAuth, limits):
  codemode serve --config codemode.toml --http

Upstream credentials for --spec APIs come from the environment, per API name
(upper case, other characters as `_`):
  CODEMODE_<NAME>_TOKEN     sent as the spec's security scheme (bearer by
                            default; an apiKey scheme's header or query
                            parameter; basic takes user:password)
  CODEMODE_<NAME>_BASE_URL  overrides the spec's server URL
e.g. CODEMODE_GITHUB_TOKEN=ghp_... codemode serve --spec github=api.json

Logs are JSON lines on stderr (RUST_LOG=debug for more), one audit event per
tool call; tokens and credentials are never logged.";

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// An OpenAPI spec to serve (path or URL), optionally named: `github=api.json`
    /// [default name: from the spec's title]. Repeatable. None (and no
    /// [[apis]] in --config): the built-in demo bookshop API.
    #[arg(long = "spec", value_name = "[NAME=]SPEC")]
    pub(crate) specs: Vec<String>,
    /// TOML config file (see codemode.example.toml).
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Serve Streamable HTTP at this address instead of stdio. Without a
    /// value: the config's server.bind, else 127.0.0.1:8787.
    #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = "")]
    pub(crate) http: Option<String>,
    /// Allow browser requests from this Origin (e.g. https://app.example.com). Repeatable.
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    pub(crate) allow_origins: Vec<String>,
    /// Accept this Host header value (DNS-rebinding protection; loopback by default). Repeatable.
    #[arg(long = "allow-host", value_name = "HOST")]
    pub(crate) allow_hosts: Vec<String>,
    /// Let scripts call APIs on private, loopback or link-local addresses
    /// (refused by default, so a script cannot reach your internal network).
    #[arg(long)]
    pub(crate) allow_private_network: bool,
}

pub(crate) fn run(a: ServeArgs) -> anyhow::Result<()> {
    server::audit::init_logging();
    let flags = config::ServeFlags {
        specs: a.specs,
        config: a.config,
        http: a.http,
        allowed_origins: a.allow_origins,
        allowed_hosts: a.allow_hosts,
        allow_private_network: a.allow_private_network,
    };
    let env = |k: &str| std::env::var(k).ok();
    let settings = config::resolve(&flags, &env)?;
    let mut apis = server::load_apis(&settings, &env)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        // No API configured: serve the built-in demo bookshop (an in-process
        // loopback server; its token is injected like any credential).
        let mut options = server::engines::EngineOptions {
            cache_dir: settings
                .cache_dir
                .clone()
                .or_else(crate::search::default_cache_dir),
            allow_private_network: settings.allow_private_network,
            workers: None,
        };
        let _demo = if apis.is_empty() {
            let (demo, api) = start_demo().await?;
            apis.push(api);
            // The demo is the only API, on loopback: nothing else is reachable.
            options.allow_private_network = true;
            Some(demo)
        } else {
            None
        };
        server::check_scopes(&settings, &apis)?;
        let backend = build_backend(apis, &options)?;
        if settings.http.is_some() {
            server::run_http(
                &settings,
                backend,
                tokio_util::sync::CancellationToken::new(),
            )
            .await
        } else {
            server::run_stdio(&settings, backend).await
        }
    })
}

async fn start_demo() -> anyhow::Result<(crate::demo::DemoServer, server::backend::LoadedApi)> {
    use server::backend::{Credential, CredentialScheme, LoadedApi, Secret};
    let api = crate::demo::api()
        .map_err(|e| anyhow::anyhow!("the built-in demo spec does not load: {e}"))?;
    let demo = crate::demo::spawn()
        .await
        .map_err(|e| anyhow::anyhow!("cannot start the built-in demo API on 127.0.0.1: {e}"))?;
    tracing::info!(
        api = crate::demo::NAME,
        base_url = %demo.base_url(),
        "no --spec or [[apis]] given: serving the built-in demo bookshop API"
    );
    let loaded = LoadedApi {
        name: crate::demo::NAME.to_string(),
        description: "Demo bookshop: books, authors, orders (built in, no credentials needed)"
            .into(),
        api: Arc::new(api),
        base_url: Some(demo.base_url()),
        credential: Some(Credential {
            scheme: CredentialScheme::Bearer,
            secret: Secret::new(demo.token.clone()),
        }),
    };
    Ok((demo, loaded))
}

/// The engines behind the tools: the search index and the sandbox (or,
/// for protocol tests only, the test backend).
fn build_backend(
    apis: Vec<server::backend::LoadedApi>,
    options: &server::engines::EngineOptions,
) -> anyhow::Result<Arc<dyn Backend>> {
    if std::env::var("CODEMODE_TESTING_BACKEND").as_deref() == Ok("1") {
        tracing::warn!("serving the TEST backend (CODEMODE_TESTING_BACKEND=1): not for production");
        return Ok(server::testing::TestBackend::new(apis));
    }
    Ok(Arc::new(server::engines::Engines::new(apis, options)?))
}
