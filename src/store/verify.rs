//! Verification of the log: the hash chain, positions, stream versions and the head.
//!
//! The same checker serves `shura verify` (over the stored log) and `shura import` (over a file
//! before it is accepted), so both mean the same thing by "intact".

use std::collections::HashMap;

use serde::Serialize;
use uuid::Uuid;

use super::hash::{chain_hash, GENESIS_HASH};
use super::model::LogHead;
use super::model::StoredEvent;

/// The first thing found wrong, at the first position where the log stops being intact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The first bad position.
    pub position: i64,
    /// What is wrong there.
    pub problem: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "position {}: {}", self.position, self.problem)
    }
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// Events checked.
    pub events: i64,
    /// Distinct streams seen.
    pub streams: usize,
    /// The last event checked (the log's tip when intact).
    pub tip: LogHead,
    /// The first problem, `None` when the log is intact.
    pub finding: Option<Finding>,
}

impl VerifyReport {
    /// Whether the log is intact.
    pub fn is_intact(&self) -> bool {
        self.finding.is_none()
    }
}

/// Walks events in position order and stops at the first inconsistency.
#[derive(Debug)]
pub struct ChainChecker {
    position: i64,
    hash: String,
    events: i64,
    streams: HashMap<Uuid, (i64, String)>,
    anchors: HashMap<i64, String>,
}

impl ChainChecker {
    /// A checker expecting the log from position 1, and the given anchors (position, hash)
    /// recorded earlier outside the database.
    pub fn new(anchors: &[LogHead]) -> Self {
        ChainChecker {
            position: 0,
            hash: GENESIS_HASH.to_owned(),
            events: 0,
            streams: HashMap::new(),
            anchors: anchors
                .iter()
                .map(|a| (a.position, a.hash.to_lowercase()))
                .collect(),
        }
    }

    /// Checks the next row; on success it becomes the new tip.
    pub fn check(&mut self, row: &StoredEvent<String>) -> Result<(), Finding> {
        let expected = self.position + 1;
        let fail = |position: i64, problem: String| Err(Finding { position, problem });
        if row.position != expected {
            return fail(
                expected,
                format!(
                    "missing: the next event stored is at position {} (deleted, or moved)",
                    row.position
                ),
            );
        }
        let hash = chain_hash(&self.hash, row);
        if hash != row.hash {
            return fail(
                row.position,
                "hash mismatch: the event's content or metadata was altered, or the event \
                 before it was"
                    .to_owned(),
            );
        }
        if let Some(anchor) = self.anchors.get(&row.position) {
            if *anchor != row.hash {
                return fail(
                    row.position,
                    format!(
                        "hash differs from the anchor {anchor}: the log up to here was rewritten"
                    ),
                );
            }
        }
        let stream = self
            .streams
            .entry(row.stream_id)
            .or_insert_with(|| (0, row.stream_type.clone()));
        if row.version != stream.0 + 1 || row.stream_type != stream.1 {
            return fail(
                row.position,
                format!(
                    "stream {} goes from version {} ({}) to version {} ({})",
                    row.stream_id, stream.0, stream.1, row.version, row.stream_type
                ),
            );
        }
        stream.0 = row.version;
        self.position = row.position;
        self.hash = hash;
        self.events += 1;
        Ok(())
    }

    /// Checks what remains once every row was seen: the stored head and unreached anchors.
    pub fn finish(&self, stored_head: &LogHead) -> Result<(), Finding> {
        if stored_head.position != self.position || stored_head.hash != self.hash {
            let position = if stored_head.position == self.position {
                self.position.max(1)
            } else {
                self.position.min(stored_head.position) + 1
            };
            return Err(Finding {
                position,
                problem: format!(
                    "the log ends at position {} but its head records position {} (events at \
                     the end were removed, or the head was altered)",
                    self.position, stored_head.position
                ),
            });
        }
        if let Some(position) = self.anchors.keys().filter(|p| **p > self.position).min() {
            return Err(Finding {
                position: *position,
                problem: "anchored event is missing: the log was truncated".to_owned(),
            });
        }
        Ok(())
    }

    /// The last good event.
    pub fn tip(&self) -> LogHead {
        LogHead {
            position: self.position,
            hash: self.hash.clone(),
        }
    }

    /// Events checked so far.
    pub fn events(&self) -> i64 {
        self.events
    }

    /// Streams seen so far.
    pub fn streams(&self) -> usize {
        self.streams.len()
    }
}
