//! # execute: run model-written TypeScript against the typed SDK
//!
//! This module is the product's engine and its security boundary. The code
//! comes from a model that may be confused or manipulated; it can do what
//! the API and the caller's scopes allow, and nothing else.
//!
//! ## Data flow
//!
//! 1. [`Executor::execute`] hands the job to a bounded pool of worker
//!    threads (the async server never blocks on JavaScript).
//! 2. `strip` turns TypeScript into one `async function` (fences dropped,
//!    types stripped by swc, the three accepted code shapes unified).
//! 3. `quickjs` (behind the `engine::Engine` seam) creates a fresh runtime
//!    and context with memory, stack and time limits, evaluates the small
//!    fixed `prelude.js` (console, error classes, one `Proxy` namespace per
//!    API), removes `eval`/function constructors, and runs the code.
//! 4. An SDK call crosses to the host as `(api, operation, params-JSON)`
//!    strings — never a URL, never a host object. `host` resolves the
//!    operation in `sdk`'s table, validates and encodes it (`request`),
//!    checks the caller's [`Scopes`] (`policy`) and the call limits, and
//!    `http` adds credentials, enforces egress rules and sends it on the
//!    worker's own tokio runtime. The parsed response goes back as JSON.
//! 5. The result, captured logs and call trace become an [`ExecOutcome`];
//!    `output` cuts large results to the token budget as valid JSON.
//!
//! ## The boundary
//!
//! Inside: plain data and the functions the prelude defines. Outside:
//! credentials, URLs, sockets, the file system, the environment. Secrets are
//! attached in `http` after validation and redacted from every text that
//! flows back (response bodies, errors, logs). Nothing JavaScript can mutate
//! survives an execution: the runtime is dropped afterwards.

mod engine;
mod host;
mod http;
mod limits;
mod output;
mod policy;
mod quickjs;
mod request;
mod sdk;
mod strip;

pub use http::{AuthScheme, Credentials, Secret, SecretSource};
pub use limits::Limits;
pub use output::{CallRecord, ErrorKind, ExecError, ExecOutcome};
pub use policy::Scopes;
pub use tokio_util::sync::CancellationToken;

use engine::{Engine, RunSpec, StopSignal};
use sdk_gen::Api;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::{mpsc, Arc, Mutex};
use std::time::Instant;

/// One API the sandbox can call.
#[derive(Debug, Clone)]
pub struct LoadedApi {
    /// The global namespace in the sandbox (`github` → `github.reposGet(...)`).
    pub name: String,
    /// The normalized spec.
    pub api: Arc<Api>,
    /// Base URL; `None` uses the spec's first server.
    pub base_url: Option<String>,
    /// Credentials added by the host, if any.
    pub credentials: Option<Credentials>,
}

/// Executor settings.
#[derive(Debug, Clone)]
pub struct ExecutorConfig {
    /// Limits applied to every execution.
    pub limits: Limits,
    /// Worker threads (executions running in parallel).
    pub workers: usize,
    /// Allow requests to private, loopback and link-local addresses.
    pub allow_private_network: bool,
}

impl Default for ExecutorConfig {
    fn default() -> Self {
        ExecutorConfig {
            limits: Limits::default(),
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            allow_private_network: false,
        }
    }
}

/// Per-run narrowing of the executor's [`Limits`] (`None`: keep the executor's).
#[derive(Debug, Clone, Default)]
pub struct RunLimits {
    /// Wall-clock budget.
    pub timeout: Option<std::time::Duration>,
    /// API calls one run may start.
    pub max_calls: Option<usize>,
    /// Result budget in (approximate, 4 bytes each) tokens.
    pub max_result_tokens: Option<usize>,
}

/// Progress of a running execution: sent after every finished API call.
#[derive(Debug, Clone)]
pub struct Progress {
    /// Calls finished so far.
    pub calls_done: usize,
    /// The call that just finished.
    pub call: CallRecord,
}

/// Receives [`Progress`]; called on a worker thread.
pub type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

#[derive(Debug)]
pub(crate) struct ApiEntry {
    pub(crate) name: String,
    pub(crate) api: Arc<Api>,
    pub(crate) table: sdk::OpTable,
    pub(crate) target: http::Target,
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) apis: Vec<ApiEntry>,
    pub(crate) names: Vec<String>,
    pub(crate) limits: Limits,
    pub(crate) allow_private: bool,
    pub(crate) redactions: Vec<String>,
    engine: Box<dyn Engine>,
}

struct Job {
    code: String,
    scopes: Scopes,
    limits: Limits,
    cancel: CancellationToken,
    progress: Option<ProgressFn>,
    reply: tokio::sync::oneshot::Sender<ExecOutcome>,
}

/// Runs code in sandboxes on a pool of worker threads.
#[derive(Debug)]
pub struct Executor {
    tx: Mutex<Option<mpsc::Sender<Job>>>,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job").finish_non_exhaustive()
    }
}

/// Globals a namespace may not shadow.
const RESERVED: &[&str] = &[
    "console",
    "ApiError",
    "PolicyError",
    "LimitError",
    "globalThis",
    "Object",
    "Function",
    "Array",
    "Number",
    "String",
    "Boolean",
    "Symbol",
    "Promise",
    "JSON",
    "Math",
    "Date",
    "RegExp",
    "Error",
    "Proxy",
    "Reflect",
    "Map",
    "Set",
    "undefined",
    "NaN",
    "Infinity",
    "eval",
];

impl Executor {
    /// Starts the worker pool. Credentials are read now (an unset variable
    /// or unreadable file is an error naming it, never showing a value).
    pub fn new(apis: Vec<LoadedApi>, config: ExecutorConfig) -> anyhow::Result<Executor> {
        let mut entries = Vec::new();
        let mut redactions = Vec::new();
        for a in apis {
            if !sdk_gen::is_identifier(&a.name) || RESERVED.contains(&a.name.as_str()) {
                anyhow::bail!("{:?} cannot be an SDK namespace (it must be a JavaScript identifier that is not a built-in global)", a.name);
            }
            if entries.iter().any(|e: &ApiEntry| e.name == a.name) {
                anyhow::bail!("two APIs share the namespace {:?}", a.name);
            }
            let base = match &a.base_url {
                Some(u) => u.clone(),
                None => a
                    .api
                    .servers
                    .first()
                    .map(|s| s.default_url())
                    .ok_or_else(|| {
                        anyhow::anyhow!(
                            "API {:?}: the spec has no server URL; give a base URL",
                            a.name
                        )
                    })?,
            };
            let base = url::Url::parse(&base)
                .map_err(|e| anyhow::anyhow!("API {:?}: base URL {base:?} is not an absolute URL ({e}); give one like https://api.example.com", a.name))?;
            if !matches!(base.scheme(), "http" | "https") || base.host_str().is_none() {
                anyhow::bail!("API {:?}: the base URL must be http(s) with a host", a.name);
            }
            if !base.username().is_empty() || base.password().is_some() {
                anyhow::bail!("API {:?}: put credentials in the credential configuration, not in the base URL", a.name);
            }
            let credential = match &a.credentials {
                Some(c) => Some(
                    c.resolve()
                        .map_err(|e| anyhow::anyhow!("API {:?}: {e}", a.name))?,
                ),
                None => None,
            };
            if let Some(c) = &credential {
                redactions.extend(c.redactions.iter().cloned());
            }
            entries.push(ApiEntry {
                name: a.name.clone(),
                table: sdk::OpTable::new(&a.api),
                api: a.api,
                target: http::Target {
                    base,
                    allow_private: config.allow_private_network,
                    credential,
                },
            });
        }
        redactions.sort_by_key(|r| std::cmp::Reverse(r.len()));
        let shared = Arc::new(Shared {
            names: entries.iter().map(|e| e.name.clone()).collect(),
            apis: entries,
            limits: config.limits.clone(),
            allow_private: config.allow_private_network,
            redactions,
            engine: Box::new(quickjs::QuickJs),
        });
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        // The JS stack limit must be reached long before the native stack
        // runs out, and swc recurses once per nesting level of the code
        // (bounded by the code size limit and `strip`'s bracket check).
        // Only touched pages are committed.
        let stack =
            (256 << 20).max(config.limits.stack_bytes * 8 + config.limits.max_code_bytes * 4096);
        for i in 0..config.workers.max(1) {
            let shared = shared.clone();
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("codemode-exec-{i}"))
                .stack_size(stack)
                .spawn(move || worker(shared, rx))?;
        }
        Ok(Executor {
            tx: Mutex::new(Some(tx)),
            shared,
        })
    }

    /// The namespaces available in the sandbox.
    pub fn namespaces(&self) -> &[String] {
        &self.shared.names
    }

    /// Runs `code` with the caller's `scopes`. Cancelling `cancel` (or
    /// dropping the returned future) stops the sandbox promptly; `progress`
    /// is called after every finished API call.
    pub async fn execute(
        &self,
        code: &str,
        scopes: &Scopes,
        cancel: CancellationToken,
        progress: Option<ProgressFn>,
    ) -> ExecOutcome {
        self.execute_with(code, scopes, &RunLimits::default(), cancel, progress)
            .await
    }

    /// [`Executor::execute`] with this run's limits narrowed (a caller's
    /// shorter timeout, fewer calls, a smaller result); the executor's own
    /// limits still cap them.
    pub async fn execute_with(
        &self,
        code: &str,
        scopes: &Scopes,
        run: &RunLimits,
        cancel: CancellationToken,
        progress: Option<ProgressFn>,
    ) -> ExecOutcome {
        let mut limits = self.shared.limits.clone();
        if let Some(t) = run.timeout {
            limits.timeout = limits.timeout.min(t);
        }
        if let Some(n) = run.max_calls {
            limits.max_calls = limits.max_calls.min(n);
        }
        if let Some(t) = run.max_result_tokens {
            limits.max_result_tokens = limits.max_result_tokens.min(t);
        }
        let token = cancel.child_token();
        let guard = token.clone().drop_guard();
        let (reply, rx) = tokio::sync::oneshot::channel();
        let job = Job {
            code: code.to_string(),
            scopes: scopes.clone(),
            limits,
            cancel: token,
            progress,
            reply,
        };
        let sent = {
            let tx = self.tx.lock().unwrap_or_else(|e| e.into_inner());
            tx.as_ref().is_some_and(|tx| tx.send(job).is_ok())
        };
        let out = if sent {
            rx.await.unwrap_or_else(|_| {
                failure(
                    ErrorKind::Runtime,
                    "internal error: the sandbox worker stopped".into(),
                )
            })
        } else {
            failure(
                ErrorKind::Runtime,
                "internal error: the executor is shut down".into(),
            )
        };
        guard.disarm();
        out
    }
}

impl Drop for Executor {
    fn drop(&mut self) {
        // Closing the channel ends every worker after its current job.
        self.tx.lock().unwrap_or_else(|e| e.into_inner()).take();
    }
}

fn failure(kind: ErrorKind, message: String) -> ExecOutcome {
    ExecOutcome {
        ok: false,
        result: serde_json::Value::Null,
        logs: Vec::new(),
        calls: Vec::new(),
        error: Some(ExecError { kind, message }),
        truncated: None,
    }
}

fn worker(shared: Arc<Shared>, rx: Arc<Mutex<mpsc::Receiver<Job>>>) {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    let rt = Rc::new(rt);
    let client = {
        let _g = rt.enter();
        http::client(shared.allow_private)
    };
    loop {
        let job = {
            let guard = rx.lock().unwrap_or_else(|e| e.into_inner());
            guard.recv()
        };
        let Ok(job) = job else { return };
        let reply = job.reply;
        let run = RunInput {
            code: job.code,
            scopes: job.scopes,
            limits: job.limits,
            cancel: job.cancel,
            progress: job.progress,
        };
        let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run_job(&shared, &rt, &client, run)
        }))
        .unwrap_or_else(|_| {
            failure(
                ErrorKind::Runtime,
                "internal error while running the code".into(),
            )
        });
        let _ = reply.send(out);
    }
}

/// One run's inputs, on its worker.
struct RunInput {
    code: String,
    scopes: Scopes,
    limits: Limits,
    cancel: CancellationToken,
    progress: Option<ProgressFn>,
}

fn run_job(
    shared: &Arc<Shared>,
    rt: &Rc<tokio::runtime::Runtime>,
    client: &reqwest::Client,
    run: RunInput,
) -> ExecOutcome {
    let RunInput {
        code,
        scopes,
        limits,
        cancel,
        progress,
    } = run;
    let code = code.as_str();
    let limits = &limits;
    let stop = StopSignal {
        deadline: Instant::now() + limits.timeout,
        cancel,
    };
    if code.len() > limits.max_code_bytes {
        return failure(
            ErrorKind::Limit,
            format!(
                "the code is {} bytes, over the {}-byte limit; send less code",
                code.len(),
                limits.max_code_bytes
            ),
        );
    }
    let js = match strip::to_js_cached(code) {
        Ok(js) => js,
        Err(m) => return failure(ErrorKind::Syntax, m),
    };
    let host = Rc::new(RefCell::new(host::HostState::new(
        shared.clone(),
        scopes,
        limits.clone(),
        stop.clone(),
        rt.clone(),
        client.clone(),
        progress,
    )));
    let spec = RunSpec {
        js: &js,
        namespaces: &shared.names,
        limits,
        stop: &stop,
    };
    let ran = shared.engine.run(&spec, host.clone());
    let mut h = host.borrow_mut();
    h.shutdown();
    let redact = |s: &str| http::redact(s, &shared.redactions);
    let mut out = ExecOutcome {
        ok: false,
        result: serde_json::Value::Null,
        logs: std::mem::take(&mut h.logs),
        calls: std::mem::take(&mut h.trace),
        error: None,
        truncated: None,
    };
    match (ran, h.finished.take()) {
        (Err(f), _) => {
            out.error = Some(ExecError {
                kind: f.kind,
                message: redact(&f.message),
            })
        }
        (Ok(()), Some((true, json))) => {
            let json = redact(&json);
            match serde_json::from_str::<serde_json::Value>(&json) {
                Ok(v) => {
                    let (v, note) = output::fit(v, limits.result_bytes());
                    out.ok = true;
                    out.result = v;
                    out.truncated = note;
                }
                Err(_) => {
                    out.error = Some(ExecError {
                        kind: ErrorKind::Limit,
                        message: "the returned value is nested too deeply to serialize; return a flatter value".into(),
                    })
                }
            }
        }
        (Ok(()), Some((false, json))) => {
            let v: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
            let kind =
                ErrorKind::parse(v.get("kind").and_then(|k| k.as_str()).unwrap_or("runtime"));
            let message = v
                .get("message")
                .and_then(|m| m.as_str())
                .unwrap_or("the code failed")
                .to_string();
            let message = quickjs::explain(kind, message, limits);
            out.error = Some(ExecError {
                kind,
                message: redact(&output::cut_str(&message, 4000)),
            });
        }
        (Ok(()), None) => {
            out.error = Some(ExecError {
                kind: ErrorKind::Runtime,
                message: "the code ended without a result".into(),
            })
        }
    }
    out
}
