-- Progress reports in rows of their own (issue 15, long streams). An action's `doc` no longer
-- holds every report: an append to an action followed for years writes one small row here
-- instead of reading, re-serialising and rewriting a document that grows with each report.
-- A report is never changed or removed; each row is keyed by the position of the event that
-- recorded it, so position order is the reports' order (oldest first). Applying this migration
-- rebuilds the read models (as every migration does), which moves the reports out of the docs.
CREATE TABLE rm_progress_reports (
    action_id UUID NOT NULL,
    position BIGINT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (action_id, position)
);
