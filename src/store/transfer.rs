//! The auditor's copy: the log as NDJSON, one stored event per line, and its import.
//!
//! Export writes events exactly as stored (never upcast), with canonical payloads, so exporting,
//! importing into an empty store and exporting again gives the same bytes.

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt};

use super::error::StoreError;
use super::hash::canonical_json;
use super::model::StoredEvent;

/// Rows fetched per page while exporting or verifying.
pub const PAGE: i64 = 5_000;

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
        let payload = std::mem::take(&mut event.payload);
        let mut stored = event.with_payload(canonical_json(&payload));
        stored.hash = super::hash::chain_hash(&self.hash, &stored);
        self.hash = stored.hash.clone();
        stored.with_payload(payload)
    }
}
