//! Every bound an execution runs under, with safe defaults.

use std::time::Duration;

/// Limits for one execution. `Default` gives the documented safe values.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Wall-clock budget for the whole execution, including API calls (30 s).
    pub timeout: Duration,
    /// QuickJS heap limit in bytes, ArrayBuffers included (64 MiB).
    pub memory_bytes: usize,
    /// JavaScript stack limit in bytes (1 MiB); worker threads get a larger
    /// native stack so this limit is what stops deep recursion.
    pub stack_bytes: usize,
    /// Maximum API calls one execution may start (50).
    pub max_calls: usize,
    /// Maximum API calls in flight at once; more are queued (6).
    pub max_concurrent_calls: usize,
    /// Maximum upstream response body in bytes (8 MiB).
    pub max_response_bytes: usize,
    /// Result budget in (approximate, 4 bytes each) tokens (8,000).
    pub max_result_tokens: usize,
    /// Total bytes of captured console output (16 KiB).
    pub max_log_bytes: usize,
    /// Maximum source size accepted (64 KiB).
    pub max_code_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Duration::from_secs(30),
            memory_bytes: 64 << 20,
            stack_bytes: 1 << 20,
            max_calls: 50,
            max_concurrent_calls: 6,
            max_response_bytes: 8 << 20,
            max_result_tokens: 8_000,
            max_log_bytes: 16 << 10,
            max_code_bytes: 64 << 10,
        }
    }
}

impl Limits {
    /// The result budget in bytes of JSON.
    pub(crate) fn result_bytes(&self) -> usize {
        self.max_result_tokens.saturating_mul(4).max(64)
    }
}
