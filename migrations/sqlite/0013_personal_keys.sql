-- The keys that seal personal data in the event log (src/erasure.rs): one XChaCha20-Poly1305 key
-- per person (or, for a participant naming no person, per participant), OUTSIDE the log on
-- purpose. Events hold contact details only sealed under these keys; erasing a person deletes
-- its row, after which what the log holds under it can never be opened again, while the log and
-- its hash chain stay untouched. Not a projection: a rebuild leaves it alone, `shura verify`
-- ignores it and `shura export` does not carry it (an imported log opens nothing it sealed).
CREATE TABLE personal_keys (
    key_id     TEXT PRIMARY KEY,       -- a random UUID, named by each sealed value
    subject_id TEXT NOT NULL UNIQUE,   -- the person (or participant) whose data it seals
    secret     BLOB NOT NULL           -- 32 random bytes from the operating system
) STRICT;
