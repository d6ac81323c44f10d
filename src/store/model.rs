//! The event store's vocabulary: what callers append and what readers get back.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::error::StoreError;
use super::hash::canonical_json;

/// What the caller believes the stream's current version is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExpectedVersion {
    /// Append whatever the stream's version.
    Any,
    /// The stream must not exist yet (no event in it).
    NoStream,
    /// The stream's last event must have this version (0 means no event, like `NoStream`).
    Exact(i64),
}

impl ExpectedVersion {
    /// Whether a stream at `actual` (0 when it has no event) satisfies this expectation.
    pub fn admits(self, actual: i64) -> bool {
        match self {
            ExpectedVersion::Any => true,
            ExpectedVersion::NoStream => actual == 0,
            ExpectedVersion::Exact(v) => actual == v,
        }
    }
}

impl std::fmt::Display for ExpectedVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExpectedVersion::Any => f.write_str("any"),
            ExpectedVersion::NoStream => f.write_str("no stream"),
            ExpectedVersion::Exact(v) => write!(f, "{v}"),
        }
    }
}

/// Who made a change: the principal behind the request (a token, the seeder, an importer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// Stable identifier of the principal (for example a token id).
    pub id: String,
    /// Human-readable name of the principal.
    pub name: String,
}

impl Actor {
    /// Builds an actor from an id and a name.
    pub fn new(id: impl Into<String>, name: impl Into<String>) -> Self {
        Actor {
            id: id.into(),
            name: name.into(),
        }
    }
}

/// An event the caller wants to append. `P` is how its payload is held: a JSON value as the
/// caller builds it (the default), or its canonical text once the store has checked it (what it
/// writes and hashes, and what a retried append is compared with).
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent<P = Value> {
    /// Client-chosen id; a new random one when `None`.
    pub event_id: Option<Uuid>,
    /// Type name, for example `ConsultationPlanned`.
    pub event_type: String,
    /// Version of the payload's shape for this type (1, 2, ...).
    pub schema_version: i32,
    /// The event's data: a JSON object.
    pub payload: P,
}

impl NewEvent {
    /// A new event of schema version 1 with a generated id.
    pub fn new(event_type: impl Into<String>, payload: Value) -> Self {
        NewEvent {
            event_id: None,
            event_type: event_type.into(),
            schema_version: 1,
            payload,
        }
    }
}

/// Metadata the caller supplies with an append; the store adds `recorded_at`.
#[derive(Debug, Clone, PartialEq)]
pub struct WriteContext {
    /// Who is writing.
    pub actor: Actor,
    /// Groups the events of one user request; a new id when `None`.
    pub correlation_id: Option<Uuid>,
    /// The event or command that caused this one, when known.
    pub causation_id: Option<Uuid>,
    /// Why the change was made, when the caller gives a reason.
    pub reason: Option<String>,
    /// Makes a retried append return the first result instead of writing again.
    pub idempotency_key: Option<String>,
}

impl WriteContext {
    /// A context with only an actor.
    pub fn new(actor: Actor) -> Self {
        WriteContext {
            actor,
            correlation_id: None,
            causation_id: None,
            reason: None,
            idempotency_key: None,
        }
    }

    /// The same context with an idempotency key.
    pub fn with_idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }

    /// The metadata of an event written with this context at `recorded_at` (a context without
    /// a correlation id gets the nil one: the store gives every append one before writing).
    pub(crate) fn metadata(&self, recorded_at: DateTime<Utc>) -> Metadata {
        Metadata {
            actor_id: self.actor.id.clone(),
            actor_name: self.actor.name.clone(),
            recorded_at,
            correlation_id: self.correlation_id.unwrap_or_default(),
            causation_id: self.causation_id,
            reason: self.reason.clone(),
            idempotency_key: self.idempotency_key.clone(),
        }
    }

    /// The same context with a reason.
    pub fn with_reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }
}

/// One atomic append: events to one stream, all or nothing. `P` is how the events' payloads
/// are held (see [`NewEvent`]): the store checks a request and encodes its payloads before
/// its writer takes it.
#[derive(Debug, Clone, PartialEq)]
pub struct AppendRequest<P = Value> {
    /// The stream appended to.
    pub stream_id: Uuid,
    /// The stream's type (`consultation`, `stakeholder`, ...); fixed by its first event.
    pub stream_type: String,
    /// The version check made before writing.
    pub expected: ExpectedVersion,
    /// The events, in order; at least one.
    pub events: Vec<NewEvent<P>>,
    /// Who, why, and the idempotency key.
    pub context: WriteContext,
}

/// What an append wrote (or, for an idempotent retry, what the first attempt wrote).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendResult {
    /// The stream appended to.
    pub stream_id: Uuid,
    /// Version of the first event written.
    pub first_version: i64,
    /// Version of the last event written: the stream's new version.
    pub last_version: i64,
    /// Global position of the first event written.
    pub first_position: i64,
    /// Global position of the last event written.
    pub last_position: i64,
    /// True when this answer replays an earlier append with the same idempotency key.
    pub replayed: bool,
}

/// Metadata recorded with every event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    /// Id of the principal who wrote the event.
    pub actor_id: String,
    /// Name of the principal who wrote the event.
    pub actor_name: String,
    /// Server time of the commit's batch (UTC, microseconds), never decreasing along positions.
    #[serde(with = "time_text")]
    pub recorded_at: DateTime<Utc>,
    /// Groups the events of one request.
    pub correlation_id: Uuid,
    /// What caused this event, when known.
    pub causation_id: Option<Uuid>,
    /// Why the change was made, when given.
    pub reason: Option<String>,
    /// The append's idempotency key, when given.
    pub idempotency_key: Option<String>,
}

/// An event of the log: the one shape every reader gets, whatever it reads it for.
///
/// `P` is how its payload is held: a JSON value (the default), or the canonical JSON text
/// exactly as stored (`StoredEvent<String>`: what the SQL reads and writes, and what the hash
/// chain covers, byte for byte). Readers that fold events (commands, projections, time travel,
/// subscriptions) get the payload upcast to its type's current schema version, and
/// `schema_version` says so; the auditor's reads (`read_*_stored`, exports) get it as written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredEvent<P = Value> {
    /// Global position, 1, 2, 3 ... with no hole, in commit order.
    pub position: i64,
    /// The stream it belongs to.
    pub stream_id: Uuid,
    /// The stream's type.
    pub stream_type: String,
    /// Version within the stream, 1, 2, 3 ...
    pub version: i64,
    /// The event's id.
    pub event_id: Uuid,
    /// The event's type name.
    pub event_type: String,
    /// The schema version of `payload` (as written, or after upcasting: see above).
    pub schema_version: i32,
    /// The event's data (canonical JSON as written: sorted keys, no spaces).
    pub payload: P,
    /// Who, when, why.
    pub metadata: Metadata,
    /// Hex SHA-256 chaining this event to the one before it.
    pub hash: String,
}

impl<P> StoredEvent<P> {
    /// The same event with another payload (decoded, encoded, upcast, opened).
    pub fn with_payload<Q>(self, payload: Q) -> StoredEvent<Q> {
        StoredEvent {
            position: self.position,
            stream_id: self.stream_id,
            stream_type: self.stream_type,
            version: self.version,
            event_id: self.event_id,
            event_type: self.event_type,
            schema_version: self.schema_version,
            payload,
            metadata: self.metadata,
            hash: self.hash,
        }
    }
}

impl StoredEvent<String> {
    /// The event with its stored text parsed.
    pub fn decoded(mut self) -> Result<StoredEvent, StoreError> {
        let text = std::mem::take(&mut self.payload);
        let payload = serde_json::from_str(&text).map_err(|e| StoreError::Corrupt {
            position: self.position,
            reason: format!("payload is not JSON: {e}"),
        })?;
        Ok(self.with_payload(payload))
    }
}

impl StoredEvent {
    /// The event as the log keeps it: its payload as canonical text.
    pub fn encoded(mut self) -> StoredEvent<String> {
        let payload = std::mem::take(&mut self.payload);
        self.with_payload(canonical_json(&payload))
    }
}

/// The last event of the log: what an auditor anchors elsewhere.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogHead {
    /// Position of the last event (0 for an empty log).
    pub position: i64,
    /// Hash of the last event (64 zeros for an empty log).
    pub hash: String,
}

/// Serde helper: times in the log's one fixed text form.
pub(crate) mod time_text {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::super::codec::format_time(t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(d)?;
        super::super::codec::parse_time(&text).map_err(serde::de::Error::custom)
    }
}
