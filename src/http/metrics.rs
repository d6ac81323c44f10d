//! Prometheus metrics kept in process: requests and latency by operation, appends, conflicts,
//! and the log head (projection lag is 0 by construction: read models are written in the
//! append's own transaction).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Distinct operation names tracked; later ones are counted as `other`.
const MAX_OPERATIONS: usize = 200;
/// Latency bucket bounds, in seconds.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

#[derive(Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
    errors: u64,
}

/// The process's metrics.
#[derive(Default)]
pub struct Metrics {
    operations: Mutex<BTreeMap<String, Histogram>>,
    appends: AtomicU64,
    conflicts: AtomicU64,
}

impl Metrics {
    /// Records one GraphQL request.
    pub fn record(&self, operation: &str, elapsed: Duration, failed: bool) {
        let seconds = elapsed.as_secs_f64();
        if let Ok(mut operations) = self.operations.lock() {
            // Operation names come from clients: past a bound, new ones share one series, so a
            // client cannot grow the process's memory without limit.
            let key = if operations.contains_key(operation) || operations.len() < MAX_OPERATIONS {
                operation
            } else {
                "other"
            };
            let h = operations.entry(key.to_owned()).or_default();
            for (i, bound) in BUCKETS.iter().enumerate() {
                if seconds <= *bound {
                    h.counts[i] += 1;
                }
            }
            h.count += 1;
            h.sum += seconds;
            if failed {
                h.errors += 1;
            }
        }
    }

    /// Counts events appended by mutations.
    pub fn appended(&self, events: u64) {
        self.appends.fetch_add(events, Ordering::Relaxed);
    }

    /// Counts an expected-version conflict.
    pub fn conflict(&self) {
        self.conflicts.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition.
    pub fn render(&self, head_position: i64) -> String {
        let mut out = String::new();
        let operations = self
            .operations
            .lock()
            .map(|o| o.clone())
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "# HELP shura_graphql_requests_total GraphQL requests by operation name."
        );
        let _ = writeln!(out, "# TYPE shura_graphql_requests_total counter");
        for (op, h) in &operations {
            let _ = writeln!(
                out,
                "shura_graphql_requests_total{{operation=\"{}\"}} {}",
                escape(op),
                h.count
            );
        }
        let _ = writeln!(
            out,
            "# HELP shura_graphql_errors_total GraphQL requests answered with errors."
        );
        let _ = writeln!(out, "# TYPE shura_graphql_errors_total counter");
        for (op, h) in &operations {
            let _ = writeln!(
                out,
                "shura_graphql_errors_total{{operation=\"{}\"}} {}",
                escape(op),
                h.errors
            );
        }
        let _ = writeln!(
            out,
            "# HELP shura_graphql_request_duration_seconds GraphQL request latency."
        );
        let _ = writeln!(
            out,
            "# TYPE shura_graphql_request_duration_seconds histogram"
        );
        for (op, h) in &operations {
            let op = escape(op);
            for (bound, count) in BUCKETS.iter().zip(h.counts) {
                let _ = writeln!(out, "shura_graphql_request_duration_seconds_bucket{{operation=\"{op}\",le=\"{bound}\"}} {count}");
            }
            let _ = writeln!(out, "shura_graphql_request_duration_seconds_bucket{{operation=\"{op}\",le=\"+Inf\"}} {}", h.count);
            let _ = writeln!(
                out,
                "shura_graphql_request_duration_seconds_sum{{operation=\"{op}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "shura_graphql_request_duration_seconds_count{{operation=\"{op}\"}} {}",
                h.count
            );
        }
        let _ = writeln!(
            out,
            "# HELP shura_appended_events_total Events appended through the API."
        );
        let _ = writeln!(out, "# TYPE shura_appended_events_total counter");
        let _ = writeln!(
            out,
            "shura_appended_events_total {}",
            self.appends.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP shura_append_conflicts_total Appends refused for an expected-version conflict."
        );
        let _ = writeln!(out, "# TYPE shura_append_conflicts_total counter");
        let _ = writeln!(
            out,
            "shura_append_conflicts_total {}",
            self.conflicts.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP shura_log_head_position Position of the last event this process knows of."
        );
        let _ = writeln!(out, "# TYPE shura_log_head_position gauge");
        let _ = writeln!(out, "shura_log_head_position {head_position}");
        let _ = writeln!(out, "# HELP shura_projection_lag_events Events in the log not yet in the read models (0: they are written in the append's transaction).");
        let _ = writeln!(out, "# TYPE shura_projection_lag_events gauge");
        let _ = writeln!(out, "shura_projection_lag_events 0");
        out
    }
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_names_are_bounded() {
        let metrics = Metrics::default();
        for n in 0..(MAX_OPERATIONS + 50) {
            metrics.record(&format!("op{n}"), Duration::from_millis(1), false);
        }
        metrics.record("op0", Duration::from_millis(1), true);
        let text = metrics.render(0);
        assert!(text.contains("shura_graphql_requests_total{operation=\"other\"} 50"));
        assert!(text.contains("shura_graphql_requests_total{operation=\"op0\"} 2"));
        assert!(text.contains("shura_graphql_errors_total{operation=\"op0\"} 1"));
    }
}
