-- Users' e-mail addresses, where `shura remind` sends the follow-up digests. OUTSIDE the event
-- log on purpose, like `credentials`: an address is personal data that must be correctable and
-- erasable, which an append-only log kept forever (exported, imported, handed to auditors) could
-- never do. One row per user, replaced when the address changes. Not a projection: a rebuild
-- leaves it alone, `shura verify` ignores it and `shura export` does not carry it. No foreign key
-- to rm_users: a rebuild empties and refills rm_users while these rows stay.
CREATE TABLE user_emails (
    user_id    TEXT PRIMARY KEY,
    email      TEXT NOT NULL,          -- checked by lettre's address parser before it is written
    updated_at TEXT NOT NULL           -- UTC, YYYY-MM-DDTHH:MM:SS.ffffffZ
) STRICT;
