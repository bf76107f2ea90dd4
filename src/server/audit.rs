//! Logging: JSON lines on stderr (stdout belongs to the stdio transport),
//! and one structured audit event per tool call (target `codemode::audit`).
//! Audit events carry who, what, which operations, statuses, durations,
//! sizes and the outcome; never tokens, credentials, code or bodies.

use super::backend::CallRecord;

/// One tool call, for the audit log.
#[derive(Debug, Clone, Default)]
pub struct AuditEvent {
    /// Caller id (never a token).
    pub caller: String,
    /// `search` or `execute`.
    pub tool: String,
    /// Upstream calls (`execute`), or empty.
    pub calls: Vec<CallRecord>,
    /// Results returned (`search`).
    pub results: Option<u64>,
    /// Wall time in ms.
    pub duration_ms: u64,
    /// Size of the arguments, in bytes of JSON.
    pub bytes_in: u64,
    /// Size of the result, in bytes of JSON.
    pub bytes_out: u64,
    /// `ok`, or the error kind.
    pub outcome: String,
}

/// Emits the event.
pub fn record(e: &AuditEvent) {
    let mut apis: Vec<&str> = e.calls.iter().map(|c| c.api.as_str()).collect();
    apis.sort_unstable();
    apis.dedup();
    let operations: Vec<String> = e
        .calls
        .iter()
        .map(|c| format!("{}.{}", c.api, c.operation))
        .collect();
    let statuses: Vec<u16> = e.calls.iter().map(|c| c.status).collect();
    let call_ms: Vec<u64> = e.calls.iter().map(|c| c.ms).collect();
    tracing::info!(
        target: "codemode::audit",
        caller = %e.caller,
        tool = %e.tool,
        apis = %apis.join(","),
        operations = %operations.join(","),
        statuses = ?statuses,
        call_ms = ?call_ms,
        results = e.results,
        duration_ms = e.duration_ms,
        bytes_in = e.bytes_in,
        bytes_out = e.bytes_out,
        outcome = %e.outcome,
        "tool call"
    );
}

/// Installs the JSON log subscriber on stderr. `RUST_LOG` filters
/// (default `info`). Safe to call twice (the second call does nothing).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tantivy=warn"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_current_span(false)
        .try_init();
}
