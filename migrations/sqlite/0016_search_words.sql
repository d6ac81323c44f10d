-- Word search (projections::search::words_query): the folded `search` text of every searchable
-- read model indexed by word, so that a search reads the rows whose words begin with its terms
-- instead of testing every row's text (a LIKE over the whole table). SQLite: an FTS5 index of
-- its own per table, contentless (the text stays in the table) with row deletion, kept by
-- triggers in step with every write of the table (appends and rebuilds alike). The text is
-- already folded (case, accents, Arabic letter forms), so the tokenizer only splits on spaces
-- and removes nothing.

CREATE VIRTUAL TABLE rm_consultations_words USING fts5(search, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 0');
CREATE TRIGGER rm_consultations_words_insert AFTER INSERT ON rm_consultations BEGIN
    INSERT INTO rm_consultations_words (rowid, search) VALUES (new.rowid, new.search);
END;
CREATE TRIGGER rm_consultations_words_update AFTER UPDATE OF search ON rm_consultations WHEN old.search IS NOT new.search BEGIN
    DELETE FROM rm_consultations_words WHERE rowid = old.rowid;
    INSERT INTO rm_consultations_words (rowid, search) VALUES (new.rowid, new.search);
END;
CREATE TRIGGER rm_consultations_words_delete AFTER DELETE ON rm_consultations BEGIN
    DELETE FROM rm_consultations_words WHERE rowid = old.rowid;
END;
INSERT INTO rm_consultations_words (rowid, search) SELECT rowid, search FROM rm_consultations;

CREATE VIRTUAL TABLE rm_recommendations_words USING fts5(search, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 0');
CREATE TRIGGER rm_recommendations_words_insert AFTER INSERT ON rm_recommendations BEGIN
    INSERT INTO rm_recommendations_words (rowid, search) VALUES (new.rowid, new.search);
END;
CREATE TRIGGER rm_recommendations_words_update AFTER UPDATE OF search ON rm_recommendations WHEN old.search IS NOT new.search BEGIN
    DELETE FROM rm_recommendations_words WHERE rowid = old.rowid;
    INSERT INTO rm_recommendations_words (rowid, search) VALUES (new.rowid, new.search);
END;
CREATE TRIGGER rm_recommendations_words_delete AFTER DELETE ON rm_recommendations BEGIN
    DELETE FROM rm_recommendations_words WHERE rowid = old.rowid;
END;
INSERT INTO rm_recommendations_words (rowid, search) SELECT rowid, search FROM rm_recommendations;

CREATE VIRTUAL TABLE rm_agreements_words USING fts5(search, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 0');
CREATE TRIGGER rm_agreements_words_insert AFTER INSERT ON rm_agreements BEGIN
    INSERT INTO rm_agreements_words (rowid, search) VALUES (new.rowid, new.search);
END;
CREATE TRIGGER rm_agreements_words_update AFTER UPDATE OF search ON rm_agreements WHEN old.search IS NOT new.search BEGIN
    DELETE FROM rm_agreements_words WHERE rowid = old.rowid;
    INSERT INTO rm_agreements_words (rowid, search) VALUES (new.rowid, new.search);
END;
CREATE TRIGGER rm_agreements_words_delete AFTER DELETE ON rm_agreements BEGIN
    DELETE FROM rm_agreements_words WHERE rowid = old.rowid;
END;
INSERT INTO rm_agreements_words (rowid, search) SELECT rowid, search FROM rm_agreements;

CREATE VIRTUAL TABLE rm_organisations_words USING fts5(search, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 0');
CREATE TRIGGER rm_organisations_words_insert AFTER INSERT ON rm_organisations BEGIN
    INSERT INTO rm_organisations_words (rowid, search) VALUES (new.rowid, new.search);
END;
CREATE TRIGGER rm_organisations_words_update AFTER UPDATE OF search ON rm_organisations WHEN old.search IS NOT new.search BEGIN
    DELETE FROM rm_organisations_words WHERE rowid = old.rowid;
    INSERT INTO rm_organisations_words (rowid, search) VALUES (new.rowid, new.search);
END;
CREATE TRIGGER rm_organisations_words_delete AFTER DELETE ON rm_organisations BEGIN
    DELETE FROM rm_organisations_words WHERE rowid = old.rowid;
END;
INSERT INTO rm_organisations_words (rowid, search) SELECT rowid, search FROM rm_organisations;

CREATE VIRTUAL TABLE rm_people_words USING fts5(search, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 0');
CREATE TRIGGER rm_people_words_insert AFTER INSERT ON rm_people BEGIN
    INSERT INTO rm_people_words (rowid, search) VALUES (new.rowid, new.search);
END;
CREATE TRIGGER rm_people_words_update AFTER UPDATE OF search ON rm_people WHEN old.search IS NOT new.search BEGIN
    DELETE FROM rm_people_words WHERE rowid = old.rowid;
    INSERT INTO rm_people_words (rowid, search) VALUES (new.rowid, new.search);
END;
CREATE TRIGGER rm_people_words_delete AFTER DELETE ON rm_people BEGIN
    DELETE FROM rm_people_words WHERE rowid = old.rowid;
END;
INSERT INTO rm_people_words (rowid, search) SELECT rowid, search FROM rm_people;

CREATE VIRTUAL TABLE rm_actions_words USING fts5(search, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 0');
CREATE TRIGGER rm_actions_words_insert AFTER INSERT ON rm_actions BEGIN
    INSERT INTO rm_actions_words (rowid, search) VALUES (new.rowid, new.search);
END;
CREATE TRIGGER rm_actions_words_update AFTER UPDATE OF search ON rm_actions WHEN old.search IS NOT new.search BEGIN
    DELETE FROM rm_actions_words WHERE rowid = old.rowid;
    INSERT INTO rm_actions_words (rowid, search) VALUES (new.rowid, new.search);
END;
CREATE TRIGGER rm_actions_words_delete AFTER DELETE ON rm_actions BEGIN
    DELETE FROM rm_actions_words WHERE rowid = old.rowid;
END;
INSERT INTO rm_actions_words (rowid, search) SELECT rowid, search FROM rm_actions;

CREATE VIRTUAL TABLE rm_key_figures_words USING fts5(search, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 0');
CREATE TRIGGER rm_key_figures_words_insert AFTER INSERT ON rm_key_figures BEGIN
    INSERT INTO rm_key_figures_words (rowid, search) VALUES (new.rowid, new.search);
END;
CREATE TRIGGER rm_key_figures_words_update AFTER UPDATE OF search ON rm_key_figures WHEN old.search IS NOT new.search BEGIN
    DELETE FROM rm_key_figures_words WHERE rowid = old.rowid;
    INSERT INTO rm_key_figures_words (rowid, search) VALUES (new.rowid, new.search);
END;
CREATE TRIGGER rm_key_figures_words_delete AFTER DELETE ON rm_key_figures BEGIN
    DELETE FROM rm_key_figures_words WHERE rowid = old.rowid;
END;
INSERT INTO rm_key_figures_words (rowid, search) SELECT rowid, search FROM rm_key_figures;
