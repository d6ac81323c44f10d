-- The event log: the only source of truth. Rows are inserted, never updated or deleted.
CREATE TABLE events (
    position        BIGINT      PRIMARY KEY CHECK (position > 0), -- global order, assigned under the head lock
    stream_id       UUID        NOT NULL,
    stream_type     TEXT        NOT NULL,
    version         BIGINT      NOT NULL CHECK (version > 0),     -- 1, 2, 3 ... within the stream
    event_id        UUID        NOT NULL UNIQUE,
    event_type      TEXT        NOT NULL,
    schema_version  INTEGER     NOT NULL CHECK (schema_version > 0),
    payload         TEXT        NOT NULL,                          -- canonical JSON, hashed as stored
    actor_id        TEXT        NOT NULL,
    actor_name      TEXT        NOT NULL,
    recorded_at     TIMESTAMPTZ NOT NULL,
    correlation_id  UUID        NOT NULL,
    causation_id    UUID,
    reason          TEXT,
    idempotency_key TEXT,
    hash            TEXT        NOT NULL,                          -- hex SHA-256 chain
    UNIQUE (stream_id, version)
);

CREATE INDEX events_idempotency_key ON events (idempotency_key) WHERE idempotency_key IS NOT NULL;

-- The chain's tip. Every writer locks this row first, which serialises position assignment
-- across processes: positions commit in order, so the global feed never has a hole to skip.
CREATE TABLE log_head (
    id          SMALLINT    PRIMARY KEY CHECK (id = 1),
    position    BIGINT      NOT NULL,
    hash        TEXT        NOT NULL,
    recorded_at TIMESTAMPTZ
);

INSERT INTO log_head (id, position, hash, recorded_at)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000', NULL);

CREATE FUNCTION shura_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the event log is append-only: % on % is not allowed', TG_OP, TG_TABLE_NAME;
END
$$;

CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION shura_append_only();

CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION shura_append_only();

CREATE TRIGGER log_head_no_delete BEFORE DELETE OR TRUNCATE ON log_head
    FOR EACH STATEMENT EXECUTE FUNCTION shura_append_only();

CREATE FUNCTION shura_head_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.position < OLD.position THEN
        RAISE EXCEPTION 'the log head cannot move back';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER log_head_forward_only BEFORE UPDATE ON log_head
    FOR EACH ROW EXECUTE FUNCTION shura_head_forward_only();
