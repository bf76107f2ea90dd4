//! The seam between the sandbox engine and the host. An [`Engine`] runs
//! stripped JavaScript in a fresh, isolated context and talks to the host
//! only through [`Host`], exchanging JSON strings; QuickJS
//! ([`super::quickjs`]) is the one implementation today, and a V8 executor
//! would implement the same trait.

use super::limits::Limits;
use super::output::ErrorKind;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Instant;
use tokio_util::sync::CancellationToken;

/// When to stop: the deadline or a cancellation from the client.
#[derive(Debug, Clone)]
pub(crate) struct StopSignal {
    pub(crate) deadline: Instant,
    pub(crate) cancel: CancellationToken,
}

impl StopSignal {
    /// Why the execution must stop now, if it must.
    pub(crate) fn reason(&self) -> Option<ErrorKind> {
        if self.cancel.is_cancelled() {
            Some(ErrorKind::Cancelled)
        } else if Instant::now() >= self.deadline {
            Some(ErrorKind::Timeout)
        } else {
            None
        }
    }
}

/// An error the host hands back into the sandbox (thrown there as
/// `ApiError`, `PolicyError`, `LimitError` or `TypeError`).
#[derive(Debug, Clone)]
pub(crate) struct HostError {
    /// `api`, `policy`, `limit` or `runtime` (a bad call: `TypeError`).
    pub(crate) kind: &'static str,
    pub(crate) message: String,
    pub(crate) status: Option<u16>,
    pub(crate) body: Option<String>,
}

impl HostError {
    pub(crate) fn to_json(&self) -> String {
        serde_json::json!({
            "kind": self.kind,
            "message": self.message,
            "status": self.status,
            "body": self.body,
        })
        .to_string()
    }
}

/// What waiting for the host produced.
#[derive(Debug)]
pub(crate) enum Wait {
    /// A call finished: its id and `{"ok": value}` or `{"error": {...}}`.
    Settled { id: u64, json: String },
    /// Nothing is pending: the code awaits something that never resolves.
    Idle,
    /// The deadline passed or the client cancelled.
    Stop,
}

/// The host side, as the engine sees it. Everything crossing is a string.
pub(crate) trait Host {
    /// Starts `api.op(params)` (`op` empty: the generic `api.request(args)`).
    /// Returns the call id, or an error to throw in the sandbox.
    fn start_call(&mut self, api: &str, op: &str, params_json: &str) -> Result<u64, HostError>;
    /// Records console output.
    fn log(&mut self, level: &str, text: &str);
    /// Records the end of the code: the result as JSON, or an error as
    /// `{"kind", "message"}` JSON.
    fn finish(&mut self, ok: bool, json: String);
    /// Whether [`Host::finish`] was called.
    fn is_finished(&self) -> bool;
    /// Blocks until a call finishes, nothing is pending, or it is time to stop.
    fn wait(&mut self) -> Wait;
}

/// An engine failure that ended the execution (not an exception the code
/// handled or reported through [`Host::finish`]).
#[derive(Debug, Clone)]
pub(crate) struct EngineFailure {
    pub(crate) kind: ErrorKind,
    pub(crate) message: String,
}

/// What one execution needs to know.
#[derive(Debug)]
pub(crate) struct RunSpec<'a> {
    /// The expression evaluating to the code's async function.
    pub(crate) js: &'a str,
    /// Global SDK namespaces to install, one per API.
    pub(crate) namespaces: &'a [String],
    pub(crate) limits: &'a Limits,
    pub(crate) stop: &'a StopSignal,
}

/// A sandbox engine. Each `run` uses a fresh runtime and context and drops
/// them before returning.
pub(crate) trait Engine: Send + Sync + std::fmt::Debug {
    fn run(&self, spec: &RunSpec<'_>, host: Rc<RefCell<dyn Host>>) -> Result<(), EngineFailure>;
}
