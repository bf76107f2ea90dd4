//! Prometheus metrics, rendered as text at `/metrics`: tool calls by
//! outcome, errors by kind, execute duration, upstream calls and latency.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

use super::backend::CallRecord;

/// Histogram bucket upper bounds, in seconds.
const BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, secs: f64) {
        for (i, le) in BUCKETS.iter().enumerate() {
            if secs <= *le {
                self.counts[i] += 1;
            }
        }
        self.count += 1;
        self.sum += secs;
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        for (i, le) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{le}\"}} {}",
                self.counts[i]
            );
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}",
            self.count
        );
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let _ = writeln!(out, "{name}_sum{braces} {}", self.sum);
        let _ = writeln!(out, "{name}_count{braces} {}", self.count);
    }
}

#[derive(Debug, Default)]
struct Inner {
    tool_calls: BTreeMap<(String, String), u64>,
    errors: BTreeMap<(String, String), u64>,
    execute_duration: Histogram,
    upstream_calls: BTreeMap<(String, String), u64>,
    upstream_duration: BTreeMap<String, Histogram>,
    refused: BTreeMap<String, u64>,
}

/// The process's metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    /// Counts one tool call; `error_kind` is `None` on success.
    pub fn tool_call(&self, tool: &str, error_kind: Option<&str>) {
        let Ok(mut m) = self.inner.lock() else { return };
        let outcome = if error_kind.is_some() { "error" } else { "ok" };
        *m.tool_calls
            .entry((tool.into(), outcome.into()))
            .or_default() += 1;
        if let Some(kind) = error_kind {
            *m.errors.entry((tool.into(), kind.into())).or_default() += 1;
        }
    }

    /// Counts one HTTP request refused before reaching the tools
    /// (`missing_token`, `invalid_token`, `insufficient_scope`, `origin`, `session`).
    pub fn refused(&self, reason: &str) {
        let Ok(mut m) = self.inner.lock() else { return };
        *m.refused.entry(reason.into()).or_default() += 1;
    }

    /// Records one `execute`'s duration and its upstream calls.
    pub fn execution(&self, secs: f64, calls: &[CallRecord]) {
        let Ok(mut m) = self.inner.lock() else { return };
        m.execute_duration.observe(secs);
        for c in calls {
            let class = match c.status {
                0 => "none".to_string(),
                s => format!("{}xx", s / 100),
            };
            *m.upstream_calls.entry((c.api.clone(), class)).or_default() += 1;
            m.upstream_duration
                .entry(c.api.clone())
                .or_default()
                .observe(c.ms as f64 / 1000.0);
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let Ok(m) = self.inner.lock() else { return out };
        out.push_str("# HELP codemode_tool_calls_total MCP tool calls by tool and outcome.\n# TYPE codemode_tool_calls_total counter\n");
        for ((tool, outcome), n) in &m.tool_calls {
            let _ = writeln!(
                out,
                "codemode_tool_calls_total{{tool=\"{}\",outcome=\"{}\"}} {n}",
                label(tool),
                label(outcome)
            );
        }
        out.push_str("# HELP codemode_tool_errors_total Failed tool calls by tool and error kind.\n# TYPE codemode_tool_errors_total counter\n");
        for ((tool, kind), n) in &m.errors {
            let _ = writeln!(
                out,
                "codemode_tool_errors_total{{tool=\"{}\",kind=\"{}\"}} {n}",
                label(tool),
                label(kind)
            );
        }
        out.push_str("# HELP codemode_http_refused_total HTTP requests refused before the tools, by reason.\n# TYPE codemode_http_refused_total counter\n");
        for (reason, n) in &m.refused {
            let _ = writeln!(
                out,
                "codemode_http_refused_total{{reason=\"{}\"}} {n}",
                label(reason)
            );
        }
        out.push_str("# HELP codemode_execute_duration_seconds Duration of execute calls.\n# TYPE codemode_execute_duration_seconds histogram\n");
        m.execute_duration
            .render(&mut out, "codemode_execute_duration_seconds", "");
        out.push_str("# HELP codemode_upstream_calls_total Upstream API calls by API and status class.\n# TYPE codemode_upstream_calls_total counter\n");
        for ((api, class), n) in &m.upstream_calls {
            let _ = writeln!(
                out,
                "codemode_upstream_calls_total{{api=\"{}\",status=\"{}\"}} {n}",
                label(api),
                label(class)
            );
        }
        out.push_str("# HELP codemode_upstream_duration_seconds Upstream API call latency by API.\n# TYPE codemode_upstream_duration_seconds histogram\n");
        for (api, h) in &m.upstream_duration {
            h.render(
                &mut out,
                "codemode_upstream_duration_seconds",
                &format!("api=\"{}\"", label(api)),
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histograms() {
        let m = Metrics::default();
        m.tool_call("search", None);
        m.tool_call("execute", Some("timeout"));
        m.refused("missing_token");
        m.execution(
            0.2,
            &[CallRecord {
                api: "pet".into(),
                operation: "petsList".into(),
                method: "GET".into(),
                path: "/pets".into(),
                status: 200,
                ms: 30,
            }],
        );
        let text = m.render();
        assert!(
            text.contains("codemode_tool_calls_total{tool=\"search\",outcome=\"ok\"} 1"),
            "{text}"
        );
        assert!(text.contains("codemode_tool_errors_total{tool=\"execute\",kind=\"timeout\"} 1"));
        assert!(text.contains("codemode_execute_duration_seconds_bucket{le=\"0.25\"} 1"));
        assert!(text.contains("codemode_http_refused_total{reason=\"missing_token\"} 1"));
        assert!(text.contains("codemode_execute_duration_seconds_bucket{le=\"0.1\"} 0"));
        assert!(text.contains("codemode_upstream_calls_total{api=\"pet\",status=\"2xx\"} 1"));
        assert!(
            text.contains("codemode_upstream_duration_seconds_bucket{api=\"pet\",le=\"0.05\"} 1")
        );
    }
}
