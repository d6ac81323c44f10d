-- Signed checkpoints (src/checkpoint.rs): the log's head signed with an Ed25519 key. They sign
-- the log and are kept beside it, never in it; `GET /checkpoints` serves them, newest first.
CREATE TABLE checkpoints (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    position    INTEGER NOT NULL,
    hash        TEXT    NOT NULL,  -- hex chain hash of the event at `position`
    recorded_at TEXT    NOT NULL,  -- when it was signed, as signed (the log's time text)
    signature   TEXT    NOT NULL,  -- hex Ed25519 signature
    key_id      TEXT    NOT NULL   -- first 16 hex of SHA-256 of the public key
) STRICT;

CREATE INDEX checkpoints_by_key ON checkpoints (key_id, position);
