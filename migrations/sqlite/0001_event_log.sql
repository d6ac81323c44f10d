-- The event log: the only source of truth. Rows are inserted, never updated or deleted.
CREATE TABLE events (
    position        INTEGER PRIMARY KEY CHECK (position > 0), -- global order, assigned under the head lock
    stream_id       TEXT    NOT NULL,                          -- UUID, hyphenated
    stream_type     TEXT    NOT NULL,
    version         INTEGER NOT NULL CHECK (version > 0),     -- 1, 2, 3 ... within the stream
    event_id        TEXT    NOT NULL UNIQUE,
    event_type      TEXT    NOT NULL,
    schema_version  INTEGER NOT NULL CHECK (schema_version > 0),
    payload         TEXT    NOT NULL,                          -- canonical JSON
    actor_id        TEXT    NOT NULL,
    actor_name      TEXT    NOT NULL,
    recorded_at     TEXT    NOT NULL,                          -- UTC, YYYY-MM-DDTHH:MM:SS.ffffffZ
    correlation_id  TEXT    NOT NULL,
    causation_id    TEXT,
    reason          TEXT,
    idempotency_key TEXT,
    hash            TEXT    NOT NULL,                          -- hex SHA-256 chain
    UNIQUE (stream_id, version)
) STRICT;

CREATE INDEX events_idempotency_key ON events (idempotency_key) WHERE idempotency_key IS NOT NULL;

-- The chain's tip. Every writer locks this row first, which serialises position assignment.
CREATE TABLE log_head (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    position    INTEGER NOT NULL,
    hash        TEXT    NOT NULL,
    recorded_at TEXT
) STRICT;

INSERT INTO log_head (id, position, hash, recorded_at)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000', NULL);

CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'the event log is append-only: UPDATE on events is not allowed');
END;

CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'the event log is append-only: DELETE on events is not allowed');
END;

CREATE TRIGGER log_head_no_delete BEFORE DELETE ON log_head
BEGIN
    SELECT RAISE(ABORT, 'the log head cannot be deleted');
END;

CREATE TRIGGER log_head_no_rewind BEFORE UPDATE ON log_head WHEN NEW.position < OLD.position
BEGIN
    SELECT RAISE(ABORT, 'the log head cannot move back');
END;
