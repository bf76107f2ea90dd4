//! The narrow interface between the MCP layer and the engines behind it.
//!
//! The MCP tools (`tools.rs`) parse and validate the client's request,
//! authenticate and authorize the caller, then call a [`Backend`]: the search
//! engine answers `search`, the sandbox answers `execute`. The backend gets
//! the verified [`Caller`] (with its [`Scopes`] and [`Limits`]) and must apply
//! the scopes: `search` returns only operations the caller may call and
//! `execute` refuses the rest.

use std::sync::Arc;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
pub use tokio_util::sync::CancellationToken;

use super::scopes::Scopes;

/// One API loaded from a spec, with what the engines need to call it.
#[derive(Debug, Clone)]
pub struct LoadedApi {
    /// Name the agent uses (`github` in `await github.reposGet(…)`).
    pub name: String,
    /// One line for the tool descriptions (configured, else from the spec).
    pub description: String,
    /// The normalized spec.
    pub api: Arc<sdk_gen::Api>,
    /// Where requests go (config/env override, else the spec's first server).
    pub base_url: Option<String>,
    /// How to authenticate upstream, if at all. Injected by the host; never
    /// shown to the script or logged.
    pub credential: Option<Credential>,
}

/// An upstream credential and how to send it.
#[derive(Clone)]
pub struct Credential {
    /// How the secret travels.
    pub scheme: CredentialScheme,
    /// The secret (a token, an API key, or `user:password` for basic).
    pub secret: Secret,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("scheme", &self.scheme)
            .field("secret", &self.secret)
            .finish()
    }
}

/// How an upstream credential is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialScheme {
    /// `Authorization: Bearer <secret>`.
    Bearer,
    /// `Authorization: Basic base64(<secret>)`, the secret being `user:password`.
    Basic,
    /// A header carrying the secret as is, e.g. `X-Api-Key`.
    Header(String),
    /// A query parameter carrying the secret, e.g. `api_key`.
    Query(String),
}

/// A secret string whose `Debug` never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    /// The value, for the one place that sends it upstream.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Per-caller limits. The MCP layer clamps `timeout_ms`; the execute engine
/// enforces the rest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Longest run of one `execute`, in milliseconds.
    pub timeout_ms: u64,
    /// Most upstream HTTP calls one `execute` may make.
    pub max_calls: u32,
    /// Largest result returned to the agent, in bytes (JSON).
    pub max_result_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout_ms: 30_000,
            max_calls: 50,
            max_result_bytes: 100_000,
        }
    }
}

/// Who is calling, as verified by the transport (stdio: the local user;
/// HTTP: a bearer token or an OAuth access token).
#[derive(Debug, Clone)]
pub struct Caller {
    /// Stable id for logs and audit (`local`, a configured caller name, or
    /// `oauth:<sub>`). Never a token.
    pub id: String,
    /// What the caller may call.
    pub scopes: Scopes,
    /// The caller's limits.
    pub limits: Limits,
}

/// One API as listed in the tool descriptions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiInfo {
    /// The SDK namespace (`github`).
    pub name: String,
    /// One line.
    pub description: String,
    /// How many operations it has.
    pub operations: u32,
}

impl ApiInfo {
    /// How a loaded API is listed.
    pub fn of(api: &LoadedApi) -> ApiInfo {
        ApiInfo {
            name: api.name.clone(),
            description: api.description.clone(),
            operations: api.api.operations.len() as u32,
        }
    }
}

/// `search` arguments.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchInput {
    /// What you want to do, in words (e.g. "list open issues of a repo").
    pub query: String,
    /// Only this API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<String>,
    /// Only this HTTP method (GET, POST, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Only operations with this tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// Most results (default 5, max 20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// `search` result: matching operations as TypeScript signatures.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SearchOutput {
    /// Best first.
    pub results: Vec<SearchHit>,
    /// Declarations of types the query named.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<String>,
    /// What else to know: more matches and how to see them, bad filters.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// One matching operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SearchHit {
    /// API namespace in scripts.
    pub api: String,
    /// Function name: call `await <api>.<operation>(params)`.
    pub operation: String,
    /// HTTP method.
    pub method: String,
    /// HTTP path.
    pub path: String,
    /// TypeScript declaration of the function and its types (the best
    /// results), or one line naming it (the rest: search its name for more).
    pub signature: String,
}

/// `execute` arguments.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExecuteInput {
    /// TypeScript. Top-level await works; `return` the value you need.
    pub code: String,
    /// Time limit in ms (capped by the server).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
}

/// `execute` result.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ExecuteOutput {
    /// Whether the script finished without error.
    pub ok: bool,
    /// The script's return value (JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<serde_json::Value>,
    /// `console.log` lines.
    #[serde(default)]
    pub logs: Vec<String>,
    /// Upstream calls made.
    #[serde(default)]
    pub calls: Vec<CallRecord>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ExecError>,
    /// Present when the result was cut to the size limit: what was cut and
    /// how to ask for less.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncated: Option<String>,
}

/// One upstream HTTP call made by a script.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CallRecord {
    /// API name.
    pub api: String,
    /// Operation name.
    pub operation: String,
    /// HTTP method.
    pub method: String,
    /// Request path (no query string: it may carry secrets).
    pub path: String,
    /// HTTP status (0: no response).
    pub status: u16,
    /// Duration in ms.
    pub ms: u64,
}

/// Why an `execute` failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ExecError {
    /// `syntax`, `runtime`, `timeout`, `memory`, `api`, `policy`, `limit` or `cancelled`.
    pub kind: String,
    /// What went wrong and how to fix the script.
    pub message: String,
}

impl ExecuteOutput {
    /// A failed run with no result.
    pub fn failed(kind: impl Into<String>, message: impl Into<String>) -> Self {
        ExecuteOutput {
            ok: false,
            error: Some(ExecError {
                kind: kind.into(),
                message: message.into(),
            }),
            ..ExecuteOutput::default()
        }
    }
}

/// A failure of `search` shown to the agent as a tool error (`isError`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToolError {
    /// The input cannot be served; the message says how to fix it.
    #[error("{0}")]
    InvalidInput(String),
    /// The engine failed.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ToolError {
    /// Short kind for metrics and audit.
    pub fn kind(&self) -> &'static str {
        match self {
            ToolError::InvalidInput(_) => "invalid_input",
            ToolError::Internal(_) => "internal",
        }
    }
}

/// One progress report of a long `execute`.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// Work done so far (increases with each report).
    pub progress: f64,
    /// Total work, when known.
    pub total: Option<f64>,
    /// What is happening, one line.
    pub message: Option<String>,
}

/// Where the execute engine reports progress. Cheap to clone, never blocks;
/// a no-op when the client did not ask for progress.
#[derive(Debug, Clone, Default)]
pub struct ProgressSink {
    tx: Option<mpsc::UnboundedSender<Progress>>,
}

impl ProgressSink {
    /// A sink that drops reports (the client sent no progress token).
    pub fn disabled() -> Self {
        ProgressSink { tx: None }
    }

    /// A sink and the receiver its reports arrive on.
    pub fn channel() -> (Self, mpsc::UnboundedReceiver<Progress>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (ProgressSink { tx: Some(tx) }, rx)
    }

    /// Whether anyone listens (skip computing expensive messages if not).
    pub fn is_enabled(&self) -> bool {
        self.tx.is_some()
    }

    /// Reports progress; callable from any thread, including a sandbox's.
    pub fn report(&self, progress: f64, total: Option<f64>, message: Option<String>) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(Progress {
                progress,
                total,
                message,
            });
        }
    }
}

/// The engines behind the two tools. The lead implements this over the real
/// search index and sandbox; tests use `server::testing::TestBackend`.
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    /// Every loaded API (the tools filter by the caller's scopes).
    fn apis(&self) -> Vec<ApiInfo>;

    /// Finds operations for `input.query` among those `caller.scopes`
    /// allows, best first, at most `input.limit` (already clamped to 1..=20).
    async fn search(&self, caller: &Caller, input: SearchInput) -> Result<SearchOutput, ToolError>;

    /// Runs `input.code` (timeout already clamped to `caller.limits`) calling
    /// only operations `caller.scopes` allows. Must stop the run promptly
    /// when `cancel` fires and then return `ExecuteOutput::failed("cancelled", …)`.
    async fn execute(
        &self,
        caller: &Caller,
        input: ExecuteInput,
        progress: ProgressSink,
        cancel: CancellationToken,
    ) -> ExecuteOutput;
}
