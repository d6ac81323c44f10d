//! Canonical encoding and the hash chain that makes tampering evident.
//!
//! `hash(n) = SHA-256(bytes(hash(n-1)) || canonical(n))`, with 32 zero bytes before position 1.
//! `canonical(n)` is the compact JSON object below, fields in this order, the payload embedded as
//! its canonical JSON text (object keys sorted, no insignificant space). Position is inside the
//! hashed content, so moving an event breaks the chain as surely as editing it.

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::codec::format_time;
use super::model::StoredEvent;

/// The hash that precedes position 1.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// JSON text with object keys sorted and no insignificant white space, whatever serde_json's
/// map order features are, so the same value always hashes the same.
pub fn canonical_json(value: &Value) -> String {
    let mut out = Vec::with_capacity(128);
    write_canonical(value, &mut out);
    // Only serde_json's own UTF-8 output was written; the fallback is unreachable.
    String::from_utf8(out).unwrap_or_default()
}

// Keys and scalars are written by serde_json straight into the buffer (no string per value):
// hashing and imports canonicalise every payload, so this is on their hot path.
fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                // Writing into a Vec cannot fail.
                let _ = serde_json::to_writer(&mut *out, key);
                out.push(b':');
                write_canonical(item, out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        scalar => {
            let _ = serde_json::to_writer(&mut *out, scalar);
        }
    }
}

/// What the chain hashes of an event: a format of its own, fixed for ever (every hash in every
/// log depends on it), so it is spelled out here rather than derived from [`StoredEvent`]'s
/// serialisation, which may grow. It borrows from the stored event; nothing is copied.
#[derive(Serialize)]
struct Canonical<'a> {
    position: i64,
    stream_id: &'a Uuid,
    stream_type: &'a str,
    version: i64,
    event_id: &'a Uuid,
    event_type: &'a str,
    schema_version: i32,
    payload: &'a str,
    actor_id: &'a str,
    actor_name: &'a str,
    recorded_at: String,
    correlation_id: &'a Uuid,
    causation_id: Option<&'a Uuid>,
    reason: Option<&'a str>,
    idempotency_key: Option<&'a str>,
}

/// The chain hash of `event` given the hash before it. The payload is hashed as stored, so a
/// change to its bytes shows even when it would parse to the same value.
pub fn chain_hash(prev_hash: &str, event: &StoredEvent<String>) -> String {
    let meta = &event.metadata;
    let canonical = Canonical {
        position: event.position,
        stream_id: &event.stream_id,
        stream_type: &event.stream_type,
        version: event.version,
        event_id: &event.event_id,
        event_type: &event.event_type,
        schema_version: event.schema_version,
        payload: &event.payload,
        actor_id: &meta.actor_id,
        actor_name: &meta.actor_name,
        recorded_at: format_time(&meta.recorded_at),
        correlation_id: &meta.correlation_id,
        causation_id: meta.causation_id.as_ref(),
        reason: meta.reason.as_deref(),
        idempotency_key: meta.idempotency_key.as_deref(),
    };
    let mut hasher = Sha256::new();
    // A malformed previous hash (only possible after tampering) hashes as its text bytes, which
    // can never reproduce the honest value, so the break is still reported where it happened.
    match hex::decode(prev_hash) {
        Ok(bytes) => hasher.update(&bytes),
        Err(_) => hasher.update(prev_hash.as_bytes()),
    }
    // Serialising a struct of strings and integers cannot fail.
    hasher.update(serde_json::to_vec(&canonical).unwrap_or_default());
    hex::encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_json_sorts_keys_and_keeps_text_as_written() {
        let value = json!({"b": 1, "a": {"د": "الإقتصاد", "c": [true, null, 2.5]}});
        assert_eq!(
            canonical_json(&value),
            r#"{"a":{"c":[true,null,2.5],"د":"الإقتصاد"},"b":1}"#
        );
    }
}
