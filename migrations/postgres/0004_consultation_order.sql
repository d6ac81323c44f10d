-- The consultation list's keyset order, so a page is read from an index, never sorted whole.
CREATE INDEX rm_consultations_order ON rm_consultations ((COALESCE(start_date, '')), id);
