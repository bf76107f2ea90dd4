//! The product's [`Backend`]: the search index ([`crate::search`]) answers
//! `search`, the sandbox ([`crate::execute`]) answers `execute`.
//!
//! This module only translates: the caller's [`Scopes`] become the search's
//! visibility and the sandbox's operation allowlist, the caller's limits
//! narrow the sandbox's, and the engines' outputs become the tools' types.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::backend::{
    ApiInfo, Backend, CallRecord, Caller, CancellationToken, CredentialScheme, ExecError,
    ExecuteInput, ExecuteOutput, LoadedApi, ProgressSink, SearchHit, SearchInput, SearchOutput,
    ToolError,
};
use super::scopes::Scopes;
use crate::execute::{self, Executor, ExecutorConfig, RunLimits};
use crate::search::{SearchIndex, SearchRequest, Visibility, DEFAULT_TOKEN_BUDGET};

/// How the engines are set up.
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    /// Where the search index is cached (`None`: built in memory each start).
    pub cache_dir: Option<PathBuf>,
    /// Let scripts reach private, loopback and link-local addresses (for
    /// APIs served inside the network; off by default).
    pub allow_private_network: bool,
    /// Sandbox worker threads (`None`: one per core).
    pub workers: Option<usize>,
}

/// The search index and the sandbox over the loaded APIs.
#[derive(Debug)]
pub struct Engines {
    apis: Vec<LoadedApi>,
    index: SearchIndex,
    executor: Executor,
}

impl Engines {
    /// Builds the search index (or loads it from the cache) and starts the
    /// sandbox workers. Blocking: call it before serving.
    pub fn new(apis: Vec<LoadedApi>, options: &EngineOptions) -> anyhow::Result<Engines> {
        let named: Vec<(String, Arc<sdk_gen::Api>)> = apis
            .iter()
            .map(|a| (a.name.clone(), a.api.clone()))
            .collect();
        let index = SearchIndex::build(&named, options.cache_dir.as_deref())
            .map_err(|e| anyhow::anyhow!("cannot build the search index: {e}"))?;
        let sandboxed = apis
            .iter()
            .map(|a| execute::LoadedApi {
                name: a.name.clone(),
                api: a.api.clone(),
                base_url: a.base_url.clone(),
                credentials: a.credential.as_ref().map(|c| execute::Credentials {
                    scheme: match &c.scheme {
                        CredentialScheme::Bearer => execute::AuthScheme::Bearer,
                        CredentialScheme::Basic => execute::AuthScheme::Basic,
                        CredentialScheme::Header(name) => {
                            execute::AuthScheme::ApiKeyHeader(name.clone())
                        }
                        CredentialScheme::Query(name) => {
                            execute::AuthScheme::ApiKeyQuery(name.clone())
                        }
                    },
                    source: execute::SecretSource::Value(execute::Secret::new(c.secret.expose())),
                }),
            })
            .collect();
        let mut config = ExecutorConfig {
            allow_private_network: options.allow_private_network,
            ..ExecutorConfig::default()
        };
        if let Some(n) = options.workers {
            config.workers = n.max(1);
        }
        let executor = Executor::new(sandboxed, config)?;
        // Load the token counter now, not on the first search.
        crate::search::count_tokens("");
        Ok(Engines {
            apis,
            index,
            executor,
        })
    }

    /// The sandbox's allowlist for `scopes`: everything when a rule grants
    /// every API whole, else exactly the operations the rules allow (a
    /// generic `request()` then reaches only those operations too).
    fn sandbox_scopes(&self, scopes: &Scopes) -> execute::Scopes {
        let unrestricted = scopes.rules.iter().any(|r| {
            r.api == "*"
                && r.operations.is_none()
                && r.tags.is_none()
                && r.methods.is_none()
                && !r.read_only
        });
        if unrestricted {
            return execute::Scopes::default();
        }
        let allowed = self
            .apis
            .iter()
            .flat_map(|a| {
                a.api
                    .operations
                    .iter()
                    .filter(|op| scopes.allows(&a.name, op))
                    .map(|op| format!("{}.{}", a.name, op.name))
            })
            .collect();
        execute::Scopes {
            operations: Some(allowed),
            ..execute::Scopes::default()
        }
    }
}

/// Search shows only what the caller's scopes let it call.
struct ScopeVisibility(Scopes);

impl Visibility for ScopeVisibility {
    fn api_visible(&self, api: &str) -> bool {
        self.0.allows_api(api)
    }
    fn operation_visible(&self, api: &str, op: &sdk_gen::Operation) -> bool {
        self.0.allows(api, op)
    }
}

#[async_trait]
impl Backend for Engines {
    fn apis(&self) -> Vec<ApiInfo> {
        self.apis.iter().map(ApiInfo::of).collect()
    }

    async fn search(&self, caller: &Caller, input: SearchInput) -> Result<SearchOutput, ToolError> {
        let request = SearchRequest {
            query: input.query,
            api: input.api,
            method: input.method,
            tag: input.tag,
            limit: input.limit.map(|n| n as usize),
            visibility: Some(Arc::new(ScopeVisibility(caller.scopes.clone()))),
        };
        let results = self.index.search(&request);
        // The agent reads this as JSON, which costs about a sixth more than
        // the plain text the budget counts.
        let parts = results.render_parts(DEFAULT_TOKEN_BUDGET * 5 / 6);
        let hits = parts
            .hits
            .iter()
            .map(|shown| {
                let hit = &results.hits[shown.index];
                SearchHit {
                    api: hit.api.clone(),
                    operation: hit.name.clone(),
                    method: hit.method.clone(),
                    path: hit.path.clone(),
                    signature: shown.text.trim_end().to_string(),
                }
            })
            .collect();
        Ok(SearchOutput {
            results: hits,
            types: parts
                .types
                .iter()
                .map(|t| t.trim_end().to_string())
                .collect(),
            notes: parts.notes,
        })
    }

    async fn execute(
        &self,
        caller: &Caller,
        input: ExecuteInput,
        progress: ProgressSink,
        cancel: CancellationToken,
    ) -> ExecuteOutput {
        let scopes = self.sandbox_scopes(&caller.scopes);
        let timeout_ms = input
            .timeout_ms
            .unwrap_or(caller.limits.timeout_ms)
            .min(caller.limits.timeout_ms);
        let run = RunLimits {
            timeout: Some(Duration::from_millis(timeout_ms)),
            max_calls: Some(caller.limits.max_calls as usize),
            max_result_tokens: Some((caller.limits.max_result_bytes / 4) as usize),
        };
        let on_progress: Option<execute::ProgressFn> = if progress.is_enabled() {
            Some(Arc::new(move |p: &execute::Progress| {
                let status = p
                    .call
                    .status
                    .map_or_else(|| "no response".to_string(), |s| s.to_string());
                progress.report(
                    p.calls_done as f64,
                    None,
                    Some(format!(
                        "{}.{}: {} {} → {status}",
                        p.call.api, p.call.operation, p.call.method, p.call.path
                    )),
                );
            }))
        } else {
            None
        };
        let out = self
            .executor
            .execute_with(&input.code, &scopes, &run, cancel, on_progress)
            .await;
        ExecuteOutput {
            ok: out.ok,
            result: out.ok.then_some(out.result),
            logs: out.logs,
            calls: out
                .calls
                .into_iter()
                .map(|c| CallRecord {
                    api: c.api,
                    operation: c.operation,
                    method: c.method,
                    path: c.path,
                    status: c.status.unwrap_or(0),
                    ms: c.ms,
                })
                .collect(),
            error: out.error.map(|e| ExecError {
                kind: e.kind.as_str().to_string(),
                message: e.message,
            }),
            truncated: out.truncated,
        }
    }
}
