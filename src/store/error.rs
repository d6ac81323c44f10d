//! The event store's typed errors.

use uuid::Uuid;

use super::model::ExpectedVersion;

/// Everything an event store operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The stream's version did not match the caller's expectation; nothing was written.
    #[error("stream {stream_id}: expected version {expected}, actual version {actual}")]
    Conflict {
        /// The stream appended to.
        stream_id: Uuid,
        /// What the caller expected.
        expected: ExpectedVersion,
        /// The stream's version when the append was checked (0: no event).
        actual: i64,
    },
    /// The idempotency key was used before for a different append; nothing was written.
    #[error("idempotency key {key:?} was already used for a different append")]
    IdempotencyMismatch {
        /// The reused key.
        key: String,
    },
    /// The input broke a rule; `field` names what, `rule` says which rule.
    #[error("{field}: {rule}")]
    Validation {
        /// The offending field, for example `events[0].event_type`.
        field: String,
        /// The rule it broke, in a short sentence.
        rule: String,
    },
    /// An import file (or a stored row) could not be read.
    #[error("line {line}: {reason}")]
    Import {
        /// 1-based line of the file.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// A stored payload could not be brought to the current schema version.
    #[error("event at position {position} ({event_type} v{version}): {reason}")]
    Upcast {
        /// The event's position.
        position: i64,
        /// Its type.
        event_type: String,
        /// The version the upcaster started from.
        version: i32,
        /// What failed.
        reason: String,
    },
    /// The transaction carrying this append (with others) failed as a whole; nothing was written.
    #[error("the append's batch failed: {0}")]
    Batch(#[source] std::sync::Arc<StoreError>),
    /// A stored row is not what the log can hold (only possible after tampering).
    #[error("position {position}: {reason}")]
    Corrupt {
        /// The row's position.
        position: i64,
        /// What is wrong with it.
        reason: String,
    },
    /// A read model could not be updated from an event (a bug, never bad input); the append
    /// that carried the event is undone.
    #[error("read model update failed at position {position}: {reason}")]
    Projection {
        /// The event's position.
        position: i64,
        /// What failed.
        reason: String,
    },
    /// The writer task is gone (the store is shutting down).
    #[error("the event store is shutting down")]
    Closed,
    /// Writing the append's batch panicked (a bug, logged with its message); nothing of the
    /// batch was written and the writer carries on with the next one.
    #[error("the append's batch failed unexpectedly; nothing was written")]
    Panicked,
    /// A figure computed from the read models does not fit its type (not possible for what the
    /// domain accepts).
    #[error("{what} does not fit its type")]
    Overflow {
        /// The figure, e.g. `the MAD budget total`.
        what: String,
    },
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Applying migrations failed.
    #[error("migration error: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// Reading or writing a file failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

impl StoreError {
    /// A validation error for `field` breaking `rule`.
    pub fn validation(field: impl Into<String>, rule: impl Into<String>) -> Self {
        StoreError::Validation {
            field: field.into(),
            rule: rule.into(),
        }
    }
}
