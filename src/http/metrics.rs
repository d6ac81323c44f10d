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

use std::collections::HashSet;
use std::sync::atomic::AtomicI64;
use std::sync::Mutex;
use std::time::Duration;

use axum::http::{header, HeaderMap};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
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
/// The media type of the exposition (OpenMetrics text, which Prometheus reads).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The one label of the per-operation series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Operation {
    operation: String,
}

fn latency() -> Histogram {
    Histogram::new(BUCKETS)
}

/// The process's metrics, in a prometheus-client registry.
pub struct Metrics {
    registry: Registry,
    /// Operation names seen so far (bounded by [`MAX_OPERATIONS`]).
    seen: Mutex<HashSet<String>>,
    requests: Family<Operation, Counter>,
    errors: Family<Operation, Counter>,
    durations: Family<Operation, Histogram, fn() -> Histogram>,
    appends: Counter,
    conflicts: Counter,
    head: Gauge<i64, AtomicI64>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<Operation, Counter>::default();
        let errors = Family::<Operation, Counter>::default();
        let durations: Family<Operation, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(latency);
        let appends = Counter::default();
        let conflicts = Counter::default();
        let head = Gauge::<i64, AtomicI64>::default();
        let lag = Gauge::<i64, AtomicI64>::default();
        registry.register(
            "shura_graphql_requests",
            "GraphQL requests by operation name",
            requests.clone(),
        );
        registry.register(
            "shura_graphql_errors",
            "GraphQL requests answered with errors",
            errors.clone(),
        );
        registry.register(
            "shura_graphql_request_duration_seconds",
            "GraphQL request latency",
            durations.clone(),
        );
        registry.register(
            "shura_appended_events",
            "Events appended through the API",
            appends.clone(),
        );
        registry.register(
            "shura_append_conflicts",
            "Appends refused for an expected-version conflict",
            conflicts.clone(),
        );
        registry.register(
            "shura_log_head_position",
            "Position of the last event this process knows of",
            head.clone(),
        );
        // Always 0: read models are written in the append's own transaction.
        registry.register(
            "shura_projection_lag_events",
            "Events in the log not yet in the read models",
            lag,
        );
        Metrics {
            registry,
            seen: Mutex::new(HashSet::new()),
            requests,
            errors,
            durations,
            appends,
            conflicts,
            head,
        }
    }
}

impl Metrics {
    /// Records one GraphQL request.
    pub fn record(&self, operation: &str, elapsed: Duration, failed: bool) {
        let operation = label(operation);
        // Operation names come from clients: past a bound, new ones share one series, so a
        // client cannot grow the process's memory without limit.
        let key = match self.seen.lock() {
            Ok(seen) if seen.contains(operation) => operation,
            Ok(mut seen) if seen.len() < MAX_OPERATIONS => {
                seen.insert(operation.to_owned());
                operation
            }
            _ => OTHER,
        };
        let labels = Operation {
            operation: key.to_owned(),
        };
        self.requests.get_or_create(&labels).inc();
        if failed {
            self.errors.get_or_create(&labels).inc();
        }
        self.durations
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
    }

    /// Counts events appended by mutations.
    pub fn appended(&self, events: u64) {
        self.appends.inc_by(events);
    }

    /// Counts an expected-version conflict.
    pub fn conflict(&self) {
        self.conflicts.inc();
    }

    /// The exposition ([`CONTENT_TYPE`]), with the log head as of now.
    pub fn render(&self, head_position: i64) -> String {
        self.head.set(head_position);
        let mut out = String::new();
        if let Err(error) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(%error, "metrics could not be encoded");
        }
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
