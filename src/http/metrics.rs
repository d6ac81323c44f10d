//! Prometheus metrics kept in process: requests and latency by operation, appends, conflicts,
//! and the log head (projection lag is 0 by construction: read models are written in the
//! append's own transaction).
//!
//! Operation names come from clients, so they are bounded before they become label values: a
//! name longer than [`MAX_LABEL_BYTES`] or not in GraphQL's name syntax is counted as `invalid`,
//! and past [`MAX_OPERATIONS`] distinct names new ones are counted as `other`. A scrape is thus
//! at most a few hundred series of short names, whatever clients send.
//!
//! `/metrics` is open by default (it is where Prometheus expects it); an operator can require a
//! bearer token (`shura serve --metrics-token`, checked by [`authorized`]).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use axum::http::{header, HeaderMap};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Distinct operation names tracked; later ones are counted as `other`.
pub const MAX_OPERATIONS: usize = 200;
/// Longest operation name kept as a label value; longer ones are counted as `invalid`.
pub const MAX_LABEL_BYTES: usize = 64;
/// The label of operation names that are too long or not GraphQL names.
pub const INVALID: &str = "invalid";
/// The label of valid names past the first [`MAX_OPERATIONS`].
pub const OTHER: &str = "other";
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
        let operation = label(operation);
        if let Ok(mut operations) = self.operations.lock() {
            // Operation names come from clients: past a bound, new ones share one series, so a
            // client cannot grow the process's memory without limit.
            let key = if operations.contains_key(operation) || operations.len() < MAX_OPERATIONS {
                operation
            } else {
                OTHER
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

/// The label value for a client's operation name: the name itself when it is a GraphQL name
/// (`[A-Za-z_][A-Za-z0-9_]*`) of at most [`MAX_LABEL_BYTES`] bytes, else [`INVALID`]. Such a
/// name needs no escaping either.
pub fn label(operation: &str) -> &str {
    let mut bytes = operation.bytes();
    let valid = operation.len() <= MAX_LABEL_BYTES
        && bytes
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if valid {
        operation
    } else {
        INVALID
    }
}

/// Whether a request may read `/metrics`: always when no token is configured (`expected` is
/// `None`), else only with `Authorization: Bearer <expected>`.
///
/// The comparison takes the same time whatever the presented token: both sides are hashed
/// (SHA-256) and the digests compared in constant time, so neither the position of the first
/// wrong byte nor the token's length can be learnt by timing answers.
pub fn authorized(expected: Option<&str>, headers: &HeaderMap) -> bool {
    let Some(expected) = expected else {
        return true;
    };
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let Some(presented) = presented else {
        return false;
    };
    let expected = Sha256::digest(expected.as_bytes());
    let presented = Sha256::digest(presented.as_bytes());
    expected.as_slice().ct_eq(presented.as_slice()).into()
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

    #[test]
    fn label_values_are_graphql_names_of_bounded_length() {
        let longest = "x".repeat(MAX_LABEL_BYTES);
        let long = "x".repeat(MAX_LABEL_BYTES + 1);
        let huge = "a".repeat(500_000);
        for good in ["anonymous", "A", "_", "getConsultation_2", longest.as_str()] {
            assert_eq!(label(good), good);
        }
        for bad in [
            "",
            "2fast",
            "a-b",
            "a b",
            "a\"}",
            "é",
            "a\nb",
            "op{x}",
            long.as_str(),
            huge.as_str(),
        ] {
            assert_eq!(label(bad), INVALID, "{bad:.20}");
        }
        let metrics = Metrics::default();
        for _ in 0..20 {
            metrics.record(&huge, Duration::from_millis(1), false);
        }
        let text = metrics.render(0);
        assert!(text.len() < 4_096, "{} bytes", text.len());
        assert!(text.contains("shura_graphql_requests_total{operation=\"invalid\"} 20"));
    }

    #[test]
    fn the_metrics_token_is_required_only_when_configured() {
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::AUTHORIZATION, value.parse().unwrap());
            headers
        };
        assert!(authorized(None, &HeaderMap::new()));
        assert!(authorized(None, &with("Bearer anything")));
        assert!(authorized(Some("s3cret"), &with("Bearer s3cret")));
        assert!(!authorized(Some("s3cret"), &HeaderMap::new()));
        assert!(!authorized(Some("s3cret"), &with("Bearer s3cre")));
        assert!(!authorized(Some("s3cret"), &with("Bearer s3cret2")));
        assert!(!authorized(Some("s3cret"), &with("s3cret")));
        assert!(!authorized(Some("s3cret"), &with("Basic s3cret")));
    }
}
