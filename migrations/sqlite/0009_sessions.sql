-- Web app sign-in sessions, OUTSIDE the event log like `credentials`: a session is a secret
-- bearer, short-lived and deleted at logout, none of which an append-only log can hold. Signing
-- in and out is not a change to the record; what a signed-in person writes is, with the person
-- as the events' actor. Only the SHA-256 of the cookie's secret is kept, so a copy of this table
-- opens no session. Expired rows are deleted when a new session is created.
CREATE TABLE web_sessions (
    id_hash    TEXT PRIMARY KEY,          -- hex SHA-256 of the cookie's 32 random bytes
    user_id    TEXT NOT NULL,
    csrf       TEXT NOT NULL,             -- the form token of this session (hex, 32 bytes)
    created_at TEXT NOT NULL,             -- UTC, YYYY-MM-DDTHH:MM:SS.ffffffZ
    expires_at TEXT NOT NULL
) STRICT;
CREATE INDEX web_sessions_user ON web_sessions (user_id);
CREATE INDEX web_sessions_expiry ON web_sessions (expires_at);
