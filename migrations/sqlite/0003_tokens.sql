-- API tokens as the read model of the token streams: only hashes of secrets, never secrets.
CREATE TABLE rm_tokens (
    id          TEXT PRIMARY KEY,
    version     INTEGER NOT NULL,
    position    INTEGER NOT NULL,
    name        TEXT NOT NULL,
    role        TEXT NOT NULL,
    regions     TEXT NOT NULL,  -- JSON array of region codes (editors)
    secret_hash TEXT NOT NULL,
    revoked     INTEGER NOT NULL     -- 0 or 1
) STRICT;
