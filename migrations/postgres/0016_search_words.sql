-- Word search (projections::search::words_query): the folded `search` text of every searchable
-- read model indexed by word, so that a search reads the rows whose words begin with its terms
-- instead of testing every row's text (a LIKE over the whole table). PostgreSQL: a GIN index of
-- each table's words ('simple' configuration: no stemming, no stop words), which PostgreSQL
-- keeps itself. The text is already folded (case, accents, Arabic letter forms).
CREATE INDEX rm_consultations_words ON rm_consultations USING gin (to_tsvector('simple', search));
CREATE INDEX rm_recommendations_words ON rm_recommendations USING gin (to_tsvector('simple', search));
CREATE INDEX rm_agreements_words ON rm_agreements USING gin (to_tsvector('simple', search));
CREATE INDEX rm_organisations_words ON rm_organisations USING gin (to_tsvector('simple', search));
CREATE INDEX rm_people_words ON rm_people USING gin (to_tsvector('simple', search));
CREATE INDEX rm_actions_words ON rm_actions USING gin (to_tsvector('simple', search));
CREATE INDEX rm_key_figures_words ON rm_key_figures USING gin (to_tsvector('simple', search));
