//! The event store's vocabulary: what callers append and what readers get back.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

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

/// An event the caller wants to append.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// Client-chosen id; a new random one when `None`.
    pub event_id: Option<Uuid>,
    /// Type name, for example `ConsultationPlanned`.
    pub event_type: String,
    /// Version of the payload's shape for this type (1, 2, ...).
    pub schema_version: i32,
    /// The event's data: a JSON object.
    pub payload: Value,
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

    /// The same context with a reason.
    pub fn with_reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }
}

/// One atomic append: events to one stream, all or nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct AppendRequest {
    /// The stream appended to.
    pub stream_id: Uuid,
    /// The stream's type (`consultation`, `stakeholder`, ...); fixed by its first event.
    pub stream_type: String,
    /// The version check made before writing.
    pub expected: ExpectedVersion,
    /// The events, in order; at least one.
    pub events: Vec<NewEvent>,
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// An event exactly as the log holds it: the auditor's view, never upcast.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredEvent {
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
    /// The payload's schema version as written.
    pub schema_version: i32,
    /// The payload as written (canonical JSON: sorted keys, no spaces).
    pub payload: Value,
    /// Who, when, why.
    pub metadata: Metadata,
    /// Hex SHA-256 chaining this event to the one before it.
    pub hash: String,
}

/// An event as the domain reads it: payload upcast to the current schema version.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedEvent {
    /// Global position.
    pub position: i64,
    /// The stream it belongs to.
    pub stream_id: Uuid,
    /// The stream's type.
    pub stream_type: String,
    /// Version within the stream.
    pub version: i64,
    /// The event's id.
    pub event_id: Uuid,
    /// The event's type name.
    pub event_type: String,
    /// The schema version of `payload` after upcasting (the current one).
    pub schema_version: i32,
    /// The schema version the event was written with.
    pub stored_schema_version: i32,
    /// The payload in the current schema version.
    pub payload: Value,
    /// Who, when, why.
    pub metadata: Metadata,
    /// Hex SHA-256 of the chain at this event.
    pub hash: String,
}

/// What a projection reads of an event: where it stands in its stream and in the log, and what
/// it says (payload upcast to the current schema version). Metadata and hash stay in the log:
/// read models never depend on them, and a replay reads less for it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectedEvent {
    /// Global position.
    pub position: i64,
    /// The stream it belongs to.
    pub stream_id: Uuid,
    /// The stream's type.
    pub stream_type: String,
    /// Version within the stream.
    pub version: i64,
    /// The event's type name.
    pub event_type: String,
    /// The payload in the current schema version.
    pub payload: Value,
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
