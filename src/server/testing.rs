//! TEST-ONLY backend. Not the product's search engine or sandbox: it exists
//! so the MCP layer can be tested end to end (over both transports, with
//! real clients) before the real engines are wired in. The binary uses it
//! only when `CODEMODE_TESTING_BACKEND=1` is set.
//!
//! - `search`: case-insensitive word match over operation names, summaries,
//!   paths and tags, filtered by the caller's scopes, rendered with
//!   `sdk_gen::typescript::operation_signature`.
//! - `execute`: a line-based mini language instead of TypeScript:
//!   `call <api>.<operation> <json params>` (a real HTTP request with the
//!   host's credential, refused outside the caller's scopes),
//!   `sleep <ms>` (reports progress every 50 ms, stops on cancel),
//!   `log <text>`, `fail <message>`, `return <json>`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use base64::Engine as _;
use serde_json::Value;

use super::backend::{
    ApiInfo, Backend, CallRecord, Caller, CancellationToken, CredentialScheme, ExecuteInput,
    ExecuteOutput, LoadedApi, ProgressSink, SearchHit, SearchInput, SearchOutput, ToolError,
};

/// See the module documentation.
#[derive(Debug)]
pub struct TestBackend {
    apis: Vec<LoadedApi>,
    http: reqwest::Client,
}

impl TestBackend {
    /// Over these APIs.
    pub fn new(apis: Vec<LoadedApi>) -> Arc<TestBackend> {
        Arc::new(TestBackend {
            apis,
            http: reqwest::Client::new(),
        })
    }
}

#[async_trait]
impl Backend for TestBackend {
    fn apis(&self) -> Vec<ApiInfo> {
        self.apis.iter().map(ApiInfo::of).collect()
    }

    async fn search(&self, caller: &Caller, input: SearchInput) -> Result<SearchOutput, ToolError> {
        let words: Vec<String> = input
            .query
            .split_whitespace()
            .map(|w| w.to_lowercase())
            .collect();
        let method = input.method.as_deref().and_then(sdk_gen::Method::parse);
        let mut scored = Vec::new();
        for a in &self.apis {
            if input.api.as_ref().is_some_and(|n| n != &a.name) {
                continue;
            }
            for op in &a.api.operations {
                if !caller.scopes.allows(&a.name, op)
                    || method.is_some_and(|m| m != op.method)
                    || input.tag.as_ref().is_some_and(|t| !op.tags.contains(t))
                {
                    continue;
                }
                let hay = format!(
                    "{} {} {} {}",
                    op.name,
                    op.summary.as_deref().unwrap_or(""),
                    op.path,
                    op.tags.join(" ")
                )
                .to_lowercase();
                let score = words.iter().filter(|w| hay.contains(w.as_str())).count();
                if score > 0 {
                    scored.push((score, a, op));
                }
            }
        }
        scored.sort_by(|x, y| y.0.cmp(&x.0).then_with(|| x.2.name.cmp(&y.2.name)));
        let limit = input.limit.unwrap_or(5) as usize;
        Ok(SearchOutput {
            results: scored
                .into_iter()
                .take(limit)
                .map(|(_, a, op)| SearchHit {
                    api: a.name.clone(),
                    operation: op.name.clone(),
                    method: op.method.to_string(),
                    path: op.path.clone(),
                    signature: sdk_gen::typescript::operation_signature(
                        &a.api,
                        op,
                        &Default::default(),
                    ),
                })
                .collect(),
            ..SearchOutput::default()
        })
    }

    async fn execute(
        &self,
        caller: &Caller,
        input: ExecuteInput,
        progress: ProgressSink,
        cancel: CancellationToken,
    ) -> ExecuteOutput {
        let mut out = ExecuteOutput {
            ok: true,
            ..ExecuteOutput::default()
        };
        let deadline = Instant::now() + Duration::from_millis(input.timeout_ms.unwrap_or(30_000));
        for (n, line) in input.code.lines().map(str::trim).enumerate() {
            if line.is_empty() || line.starts_with("//") {
                continue;
            }
            let (cmd, rest) = line.split_once(' ').unwrap_or((line, ""));
            let step = match cmd {
                "sleep" => sleep(rest, &progress, &cancel, deadline).await,
                "log" => {
                    out.logs.push(rest.to_string());
                    Ok(())
                }
                "fail" => Err(("runtime", rest.to_string())),
                "return" => match serde_json::from_str::<Value>(rest) {
                    Ok(v) => {
                        out.result = Some(v);
                        return out;
                    }
                    Err(e) => Err((
                        "compile",
                        format!("line {}: bad JSON after return: {e}", n + 1),
                    )),
                },
                "call" => {
                    if out.calls.len() as u32 >= caller.limits.max_calls {
                        Err((
                            "limit",
                            format!("more than {} upstream calls", caller.limits.max_calls),
                        ))
                    } else {
                        self.call(caller, rest, &mut out).await
                    }
                }
                other => Err((
                    "compile",
                    format!("line {}: unknown command {other:?}", n + 1),
                )),
            };
            if let Err((kind, message)) = step {
                let calls = std::mem::take(&mut out.calls);
                let logs = std::mem::take(&mut out.logs);
                out = ExecuteOutput::failed(kind, message);
                out.calls = calls;
                out.logs = logs;
                return out;
            }
        }
        out
    }
}

async fn sleep(
    arg: &str,
    progress: &ProgressSink,
    cancel: &CancellationToken,
    deadline: Instant,
) -> Result<(), (&'static str, String)> {
    let ms: u64 = arg
        .trim()
        .parse()
        .map_err(|_| ("compile", format!("sleep needs milliseconds, got {arg:?}")))?;
    let steps = ms.div_ceil(50).max(1);
    for i in 0..steps {
        tokio::select! {
            () = cancel.cancelled() => return Err(("cancelled", "the run was cancelled".into())),
            () = tokio::time::sleep(Duration::from_millis(50.min(ms))) => {}
        }
        if Instant::now() > deadline {
            return Err(("timeout", "the script ran past its time limit".into()));
        }
        progress.report(
            (i + 1) as f64,
            Some(steps as f64),
            Some(format!("slept {} ms", (i + 1) * 50)),
        );
    }
    Ok(())
}

impl TestBackend {
    async fn call(
        &self,
        caller: &Caller,
        rest: &str,
        out: &mut ExecuteOutput,
    ) -> Result<(), (&'static str, String)> {
        let (target, params) = rest.split_once(' ').unwrap_or((rest, "{}"));
        let (api_name, op_name) = target.split_once('.').ok_or((
            "compile",
            format!("call needs <api>.<operation>, got {target:?}"),
        ))?;
        let api = self
            .apis
            .iter()
            .find(|a| a.name == api_name)
            .ok_or(("runtime", format!("unknown API {api_name:?}")))?;
        let op = api
            .api
            .operations
            .iter()
            .find(|o| o.name == op_name)
            .ok_or((
                "runtime",
                format!("{api_name} has no operation {op_name:?}"),
            ))?;
        if !caller.scopes.allows(&api.name, op) {
            return Err((
                "forbidden",
                format!(
                    "{api_name}.{op_name} is outside your scopes: search shows what you may call"
                ),
            ));
        }
        let params: serde_json::Map<String, Value> = serde_json::from_str(params)
            .map_err(|e| ("compile", format!("bad JSON params: {e}")))?;
        let base = api
            .base_url
            .as_deref()
            .ok_or(("runtime", format!("{api_name} has no base URL")))?;
        let mut path = op.request_path.clone();
        let mut query: Vec<(String, String)> = op.fixed_query.clone();
        for p in &op.parameters {
            let Some(v) = params.get(&p.key) else {
                continue;
            };
            let text = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            match p.location {
                sdk_gen::ParamLocation::Path => {
                    path = path.replace(&format!("{{{}}}", p.name), &text)
                }
                _ => query.push((p.name.clone(), text)),
            }
        }
        let method = reqwest::Method::from_bytes(op.method.as_str().as_bytes())
            .map_err(|e| ("internal", e.to_string()))?;
        let mut req = self
            .http
            .request(method, format!("{}{}", base.trim_end_matches('/'), path))
            .timeout(Duration::from_secs(10));
        if let Some(c) = &api.credential {
            match &c.scheme {
                CredentialScheme::Bearer => req = req.bearer_auth(c.secret.expose()),
                CredentialScheme::Basic => {
                    let encoded =
                        base64::engine::general_purpose::STANDARD.encode(c.secret.expose());
                    req = req.header("authorization", format!("Basic {encoded}"));
                }
                CredentialScheme::Header(h) => req = req.header(h.as_str(), c.secret.expose()),
                CredentialScheme::Query(q) => {
                    query.push((q.clone(), c.secret.expose().to_string()))
                }
            }
        }
        req = req.query(&query);
        if let Some(body) = params.get(&op.body_key) {
            req = req.json(body);
        }
        let started = Instant::now();
        let result = req.send().await;
        let ms = started.elapsed().as_millis() as u64;
        let (status, value) = match result {
            Ok(resp) => {
                let status = resp.status().as_u16();
                let text = resp.text().await.unwrap_or_default();
                (
                    status,
                    serde_json::from_str(&text).unwrap_or(Value::String(text)),
                )
            }
            Err(e) => {
                out.calls.push(record(api_name, op, &path, 0, ms));
                return Err(("upstream", format!("{api_name}.{op_name} failed: {e}")));
            }
        };
        out.calls.push(record(api_name, op, &path, status, ms));
        out.result = Some(value);
        Ok(())
    }
}

fn record(api: &str, op: &sdk_gen::Operation, path: &str, status: u16, ms: u64) -> CallRecord {
    CallRecord {
        api: api.into(),
        operation: op.name.clone(),
        method: op.method.to_string(),
        path: path.into(),
        status,
        ms,
    }
}
