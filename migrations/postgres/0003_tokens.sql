-- API tokens as the read model of the token streams: only hashes of secrets, never secrets.
CREATE TABLE rm_tokens (
    id          UUID PRIMARY KEY,
    version     BIGINT NOT NULL,
    position    BIGINT NOT NULL,
    name        TEXT NOT NULL,
    role        TEXT NOT NULL,
    regions     TEXT NOT NULL,  -- JSON array of region codes (editors)
    secret_hash TEXT NOT NULL,
    revoked     BIGINT NOT NULL     -- 0 or 1
);
