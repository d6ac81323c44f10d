-- Word search on PostgreSQL reads each row's words from a stored column instead of an index on
-- the expression. The planner takes a sequential scan when it expects many rows to match (a
-- common word, a small table), and then the expression computed `to_tsvector` over every row's
-- folded text at each search: 1.9 s for 2,400 consultations (3.9 kB of text each) where the
-- stored column takes 27 ms (measured with EXPLAIN ANALYZE on copies of the seeds). The GIN
-- index moves to the column. SQLite's FTS5 tables are unchanged.
ALTER TABLE rm_consultations ADD COLUMN words tsvector GENERATED ALWAYS AS (to_tsvector('simple', search)) STORED;
DROP INDEX rm_consultations_words;
CREATE INDEX rm_consultations_words ON rm_consultations USING gin (words);
ALTER TABLE rm_recommendations ADD COLUMN words tsvector GENERATED ALWAYS AS (to_tsvector('simple', search)) STORED;
DROP INDEX rm_recommendations_words;
CREATE INDEX rm_recommendations_words ON rm_recommendations USING gin (words);
ALTER TABLE rm_agreements ADD COLUMN words tsvector GENERATED ALWAYS AS (to_tsvector('simple', search)) STORED;
DROP INDEX rm_agreements_words;
CREATE INDEX rm_agreements_words ON rm_agreements USING gin (words);
ALTER TABLE rm_organisations ADD COLUMN words tsvector GENERATED ALWAYS AS (to_tsvector('simple', search)) STORED;
DROP INDEX rm_organisations_words;
CREATE INDEX rm_organisations_words ON rm_organisations USING gin (words);
ALTER TABLE rm_people ADD COLUMN words tsvector GENERATED ALWAYS AS (to_tsvector('simple', search)) STORED;
DROP INDEX rm_people_words;
CREATE INDEX rm_people_words ON rm_people USING gin (words);
ALTER TABLE rm_actions ADD COLUMN words tsvector GENERATED ALWAYS AS (to_tsvector('simple', search)) STORED;
DROP INDEX rm_actions_words;
CREATE INDEX rm_actions_words ON rm_actions USING gin (words);
ALTER TABLE rm_key_figures ADD COLUMN words tsvector GENERATED ALWAYS AS (to_tsvector('simple', search)) STORED;
DROP INDEX rm_key_figures_words;
CREATE INDEX rm_key_figures_words ON rm_key_figures USING gin (words);
