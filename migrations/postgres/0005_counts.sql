-- Row counts the projector keeps as it writes, so an unfiltered `totalCount` reads one row
-- instead of counting every consultation (PostgreSQL's COUNT(*) reads the whole table).
CREATE TABLE rm_counts (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
-- No row means zero, as after a rebuild of an empty log.
INSERT INTO rm_counts (name, value) SELECT 'consultations', COUNT(*) FROM rm_consultations
HAVING COUNT(*) > 0;
