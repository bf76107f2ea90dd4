//! The host state of one execution: starts API calls (validate → policy →
//! limits → send), collects their results, the console output and the call
//! trace. Lives on the worker thread next to the engine.

use super::engine::{Host, HostError, StopSignal, Wait};
use super::http::{self, CallError, Reply};
use super::output::{cut_str, CallRecord};
use super::policy::Scopes;
use super::request;
use super::sdk::OpTable;
use super::{ApiEntry, Progress, ProgressFn, Shared};
use serde_json::Value;
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

type Done = (u64, usize, Result<Reply, CallError>, Duration);

struct Queued {
    id: u64,
    trace: usize,
    api: usize,
    req: request::Prepared,
}

pub(crate) struct HostState {
    shared: Arc<Shared>,
    scopes: Scopes,
    /// This run's limits (the executor's, narrowed by the caller's).
    limits: super::Limits,
    stop: StopSignal,
    rt: Rc<tokio::runtime::Runtime>,
    client: reqwest::Client,
    progress: Option<ProgressFn>,
    next_id: u64,
    started: usize,
    completed: usize,
    in_flight: usize,
    queue: VecDeque<Queued>,
    tasks: JoinSet<Done>,
    /// Labels (`api.op`) per trace entry, for messages.
    labels: Vec<String>,
    pub(crate) trace: Vec<CallRecord>,
    pub(crate) logs: Vec<String>,
    log_bytes: usize,
    logs_dropped: usize,
    pub(crate) finished: Option<(bool, String)>,
}

impl std::fmt::Debug for HostState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostState")
            .field("started", &self.started)
            .finish_non_exhaustive()
    }
}

impl HostState {
    pub(crate) fn new(
        shared: Arc<Shared>,
        scopes: Scopes,
        limits: super::Limits,
        stop: StopSignal,
        rt: Rc<tokio::runtime::Runtime>,
        client: reqwest::Client,
        progress: Option<ProgressFn>,
    ) -> HostState {
        HostState {
            shared,
            scopes,
            limits,
            stop,
            rt,
            client,
            progress,
            next_id: 1,
            started: 0,
            completed: 0,
            in_flight: 0,
            queue: VecDeque::new(),
            tasks: JoinSet::new(),
            labels: Vec::new(),
            trace: Vec::new(),
            logs: Vec::new(),
            log_bytes: 0,
            logs_dropped: 0,
            finished: None,
        }
    }

    /// Aborts calls still in flight and closes the log.
    pub(crate) fn shutdown(&mut self) {
        self.queue.clear();
        self.tasks.abort_all();
        let rt = self.rt.clone();
        let tasks = &mut self.tasks;
        rt.block_on(async { while tasks.join_next().await.is_some() {} });
        if self.logs_dropped > 0 {
            self.logs.push(format!(
                "[… {} more log lines dropped: console output is limited to {} bytes]",
                self.logs_dropped, self.limits.max_log_bytes
            ));
        }
    }

    fn redact(&self, s: &str) -> String {
        http::redact(s, &self.shared.redactions)
    }

    fn spawn(&mut self, q: Queued) {
        let client = self.client.clone();
        let target = self.shared.apis[q.api].target.clone();
        let max = self.limits.max_response_bytes;
        let deadline = self.stop.deadline;
        let (id, trace) = (q.id, q.trace);
        let req = q.req;
        self.in_flight += 1;
        let _guard = self.rt.enter();
        self.tasks.spawn(async move {
            let t = Instant::now();
            let r = http::send(&client, &target, req, max, deadline).await;
            (id, trace, r, t.elapsed())
        });
    }

    fn error(kind: &'static str, message: String) -> HostError {
        HostError {
            kind,
            message,
            status: None,
            body: None,
        }
    }

    fn settled(&mut self, done: Done) -> Wait {
        let (id, trace, result, took) = done;
        self.in_flight = self.in_flight.saturating_sub(1);
        self.completed += 1;
        let label = self.labels.get(trace).cloned().unwrap_or_default();
        let status = match &result {
            Ok(r) => Some(r.status),
            Err(CallError::Api { status, .. }) => Some(*status),
            Err(_) => None,
        };
        if let Some(rec) = self.trace.get_mut(trace) {
            rec.status = status;
            rec.ms = took.as_millis() as u64;
        }
        if let (Some(p), Some(rec)) = (&self.progress, self.trace.get(trace)) {
            let done = self
                .trace
                .iter()
                .filter(|r| r.status.is_some() || r.ms > 0)
                .count();
            p(&Progress {
                calls_done: done,
                call: rec.clone(),
            });
        }
        while self.in_flight < self.limits.max_concurrent_calls.max(1) {
            let Some(q) = self.queue.pop_front() else {
                break;
            };
            self.spawn(q);
        }
        let json = match result {
            Ok(reply) => {
                let body = serde_json::to_string(&reply.body).unwrap_or_else(|_| "null".into());
                format!("{{\"ok\":{body}}}")
            }
            Err(e) => {
                let he = match e {
                    CallError::Api {
                        status,
                        message,
                        body,
                    } => HostError {
                        kind: "api",
                        message: self
                            .redact(&format!("{label}: {message}: {}", cut_str(&body, 300))),
                        status: Some(status),
                        body: Some(self.redact(&body)),
                    },
                    CallError::Limit(m) => {
                        Self::error("limit", self.redact(&format!("{label}: {m}")))
                    }
                    CallError::Egress(m) => {
                        Self::error("policy", self.redact(&format!("{label}: {m}")))
                    }
                    CallError::Network(m) => HostError {
                        kind: "api",
                        message: self.redact(&format!("{label}: {m}")),
                        status: None,
                        body: None,
                    },
                };
                format!("{{\"error\":{}}}", he.to_json())
            }
        };
        Wait::Settled { id, json }
    }
}

impl Host for HostState {
    fn start_call(
        &mut self,
        api_name: &str,
        op_name: &str,
        params_json: &str,
    ) -> Result<u64, HostError> {
        let shared = self.shared.clone();
        let Some((api_idx, entry)) = shared
            .apis
            .iter()
            .enumerate()
            .find(|(_, a)| a.name == api_name)
        else {
            return Err(Self::error("runtime", format!("unknown API `{api_name}`")));
        };
        let params: Value = serde_json::from_str(params_json).map_err(|e| {
            Self::error(
                "runtime",
                format!("{api_name}.{op_name}: the params could not be read: {e}"),
            )
        })?;
        let (label, prepared) = prepare(entry, op_name, &params, &self.scopes)?;
        if let Some(c) = &entry.target.credential {
            if let Some(h) = c.header_name() {
                if prepared
                    .headers
                    .iter()
                    .any(|(k, _)| k.eq_ignore_ascii_case(h))
                {
                    return Err(Self::error(
                        "policy",
                        format!("{label}: the `{h}` header carries the API credential and is set by the host; remove it"),
                    ));
                }
            }
        }
        if self.started >= self.limits.max_calls {
            return Err(Self::error(
                "limit",
                format!(
                    "{label}: this execution already started {} API calls, the limit; fetch more per call (larger pages, batch endpoints) or split the work across executions",
                    self.limits.max_calls
                ),
            ));
        }
        self.started += 1;
        let id = self.next_id;
        self.next_id += 1;
        let trace = self.trace.len();
        self.trace.push(CallRecord {
            api: api_name.to_string(),
            operation: op_name.to_string(),
            method: prepared.method.as_str().to_string(),
            path: prepared.path.clone(),
            status: None,
            ms: 0,
        });
        self.labels.push(label);
        let q = Queued {
            id,
            trace,
            api: api_idx,
            req: prepared,
        };
        if self.in_flight < self.limits.max_concurrent_calls.max(1) {
            self.spawn(q);
        } else {
            self.queue.push_back(q);
        }
        Ok(id)
    }

    fn log(&mut self, level: &str, text: &str) {
        let max = self.limits.max_log_bytes;
        if self.log_bytes >= max {
            self.logs_dropped += 1;
            return;
        }
        let line = if level == "log" {
            text.to_string()
        } else {
            format!("[{level}] {text}")
        };
        let room = (max - self.log_bytes).min(4000);
        let line = if line.len() > room {
            cut_str(&line, room / 4)
        } else {
            line
        };
        let line = self.redact(&line);
        self.log_bytes += line.len().max(1);
        self.logs.push(line);
    }

    fn finish(&mut self, ok: bool, json: String) {
        if self.finished.is_none() {
            self.finished = Some((ok, json));
        }
    }

    fn is_finished(&self) -> bool {
        self.finished.is_some()
    }

    fn wait(&mut self) -> Wait {
        if self.tasks.is_empty() {
            return Wait::Idle;
        }
        let rt = self.rt.clone();
        let stop = self.stop.clone();
        let tasks = &mut self.tasks;
        let next = rt.block_on(async {
            tokio::select! {
                r = tasks.join_next() => r,
                _ = tokio::time::sleep_until(stop.deadline.into()) => None,
                _ = stop.cancel.cancelled() => None,
            }
        });
        match next {
            None => Wait::Stop,
            Some(Ok(done)) => self.settled(done),
            Some(Err(_)) => Wait::Stop,
        }
    }
}

/// Validates a call and checks the caller's scopes.
fn prepare(
    entry: &ApiEntry,
    op_name: &str,
    params: &Value,
    scopes: &Scopes,
) -> Result<(String, request::Prepared), HostError> {
    let api = &entry.name;
    let bad = |m: String| HostError {
        kind: "runtime",
        message: m,
        status: None,
        body: None,
    };
    let policy = |m: String| HostError {
        kind: "policy",
        message: m,
        status: None,
        body: None,
    };
    if op_name.is_empty() {
        let mut req = request::generic(api, params).map_err(bad)?;
        let op = OpTable::match_path(&entry.api, req.method, &req.path);
        req.anonymous = op.is_some_and(request::is_anonymous);
        scopes.check(api, op, req.method, true).map_err(policy)?;
        return Ok((format!("{api}.request({} {})", req.method, req.path), req));
    }
    let Some(op) = entry.table.get(&entry.api, op_name) else {
        let similar = OpTable::suggest(&entry.api, op_name);
        let hint = if similar.is_empty() {
            String::new()
        } else {
            format!(" Did you mean: {}?", similar.join(", "))
        };
        return Err(bad(format!(
            "{api}.{op_name} is not an operation of this API.{hint} Use the search tool to find operation names, or {api}.request({{ method, path }}) for endpoints the spec lacks."
        )));
    };
    scopes
        .check(api, Some(op), op.method, false)
        .map_err(policy)?;
    let req = request::from_operation(api, op, params).map_err(bad)?;
    Ok((format!("{api}.{}", op.name), req))
}
