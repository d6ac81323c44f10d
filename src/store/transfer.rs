//! The auditor's copy: the log as NDJSON, one stored event per line, and its import.
//!
//! Export writes events exactly as stored (never upcast), with canonical payloads, so exporting,
//! importing into an empty store and exporting again gives the same bytes.

use serde_json::Value;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt};

use super::codec::{DbTime, DbUuid};
use super::error::StoreError;
use super::hash::canonical_json;
use super::model::{Metadata, StoredEvent};
use super::sql::EventRow;

/// Rows fetched per page while exporting or verifying.
pub const PAGE: i64 = 5_000;

impl EventRow {
    /// The row as the public, decoded type.
    pub fn to_stored(&self) -> Result<StoredEvent, StoreError> {
        let payload: Value =
            serde_json::from_str(&self.payload).map_err(|e| StoreError::Corrupt {
                position: self.position,
                reason: format!("payload is not JSON: {e}"),
            })?;
        Ok(StoredEvent {
            position: self.position,
            stream_id: self.stream_id.0,
            stream_type: self.stream_type.clone(),
            version: self.version,
            event_id: self.event_id.0,
            event_type: self.event_type.clone(),
            schema_version: self.schema_version,
            payload,
            metadata: Metadata {
                actor_id: self.actor_id.clone(),
                actor_name: self.actor_name.clone(),
                recorded_at: self.recorded_at.0,
                correlation_id: self.correlation_id.0,
                causation_id: self.causation_id.map(|id| id.0),
                reason: self.reason.clone(),
                idempotency_key: self.idempotency_key.clone(),
            },
            hash: self.hash.clone(),
        })
    }

    /// The row a stored event is kept as (payload in canonical text).
    pub fn from_stored(event: &StoredEvent) -> EventRow {
        let meta = &event.metadata;
        EventRow {
            position: event.position,
            stream_id: DbUuid(event.stream_id),
            stream_type: event.stream_type.clone(),
            version: event.version,
            event_id: DbUuid(event.event_id),
            event_type: event.event_type.clone(),
            schema_version: event.schema_version,
            payload: canonical_json(&event.payload),
            actor_id: meta.actor_id.clone(),
            actor_name: meta.actor_name.clone(),
            recorded_at: DbTime(meta.recorded_at),
            correlation_id: DbUuid(meta.correlation_id),
            causation_id: meta.causation_id.map(DbUuid),
            reason: meta.reason.clone(),
            idempotency_key: meta.idempotency_key.clone(),
            hash: event.hash.clone(),
        }
    }
}

/// Appends one stored event to `out` as a line of CSV, the form `shura import` hands to
/// PostgreSQL's `COPY` (columns in the order of the `events` table).
pub fn write_csv_row(out: &mut String, event: &StoredEvent) {
    super::sql::csv_row(out, &EventRow::from_stored(event));
}

/// Writes one event as one NDJSON line.
pub async fn write_line<W: AsyncWrite + Unpin>(
    out: &mut W,
    event: &StoredEvent,
) -> Result<(), StoreError> {
    let mut line = serde_json::to_vec(event).map_err(|e| StoreError::Corrupt {
        position: event.position,
        reason: e.to_string(),
    })?;
    line.push(b'\n');
    out.write_all(&line).await?;
    Ok(())
}

/// Reads the next non-empty line as a stored event; `None` at the end of the input.
pub async fn read_line<R: AsyncBufRead + Unpin>(
    input: &mut R,
    buffer: &mut String,
    line_number: &mut usize,
) -> Result<Option<StoredEvent>, StoreError> {
    loop {
        buffer.clear();
        if input.read_line(buffer).await? == 0 {
            return Ok(None);
        }
        *line_number += 1;
        let text = buffer.trim_end_matches(['\n', '\r']);
        if text.trim().is_empty() {
            continue;
        }
        return serde_json::from_str(text)
            .map(Some)
            .map_err(|e| StoreError::Import {
                line: *line_number,
                reason: format!("not an exported event: {e}"),
            });
    }
}

/// Chains events into a valid log outside any database: gives each the next position and its
/// hash. Tools that write export files (benchmarks, fixtures) use it; the store itself chains
/// under its head lock.
#[derive(Debug, Clone)]
pub struct Sealer {
    position: i64,
    hash: String,
}

impl Default for Sealer {
    fn default() -> Self {
        Sealer {
            position: 0,
            hash: super::hash::GENESIS_HASH.to_owned(),
        }
    }
}

impl Sealer {
    /// Sets the event's position to the next one and its hash to the chain's.
    pub fn seal(&mut self, mut event: StoredEvent) -> StoredEvent {
        self.position += 1;
        event.position = self.position;
        let row = EventRow::from_stored(&event);
        event.hash = super::hash::chain_hash(&self.hash, &row);
        self.hash = event.hash.clone();
        event
    }
}
