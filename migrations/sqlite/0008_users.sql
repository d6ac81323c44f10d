-- User accounts as the read model of the user streams (creation, role, regions, disabling).
-- Rebuilt from the log like every rm_ table; `shura verify` compares it with a fresh rebuild.
CREATE TABLE rm_users (
    id           TEXT PRIMARY KEY,
    version      INTEGER NOT NULL,
    position     INTEGER NOT NULL,
    username     TEXT NOT NULL UNIQUE,  -- lowercase [a-z0-9._-], 3 to 64 characters
    display_name TEXT,
    role         TEXT NOT NULL,
    regions      TEXT NOT NULL,         -- JSON array of region codes (editors)
    disabled     INTEGER NOT NULL       -- 0 or 1
) STRICT;

-- Password hashes, OUTSIDE the event log on purpose: the log is append-only and kept forever
-- (exported, imported, copied to auditors), so a hash written there could never be replaced or
-- erased, and every old hash would stay open to offline guessing. One row per user, replaced
-- when the password changes: an argon2id PHC string (it carries its own salt and parameters).
-- This table is not a projection: a rebuild neither empties nor recreates it, `shura verify`
-- ignores it, and `shura export` does not carry it, so the users of an imported log must be given
-- passwords again (`shura user password NAME --password-stdin`). No foreign key to rm_users: a
-- rebuild empties and refills rm_users while these rows stay.
CREATE TABLE credentials (
    user_id    TEXT PRIMARY KEY,
    phc        TEXT NOT NULL,
    updated_at TEXT NOT NULL           -- UTC, YYYY-MM-DDTHH:MM:SS.ffffffZ
) STRICT;
