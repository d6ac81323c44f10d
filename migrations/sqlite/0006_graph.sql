-- Read models of the typed graph: the bounds of a consultation's start (date filters compare
-- what is known), organisers, agreement parties, key figures and posts, so that the API's edges
-- and filters are read with one statement per batch.
--
-- Like every read model, these are derived from the documents by the projector: opening a
-- database that already holds events applies this migration and then rebuilds the read models
-- (`Store::open`), so they are filled before anything is served. New rows keep `position` like the others: the event that recorded a key figure, the
-- agreement's position for its parties, the stream's last event for organisers and posts.

-- The earliest and latest day the start can be, `YYYY-MM-DD`; NULL when its year is unknown.
ALTER TABLE rm_consultations ADD COLUMN start_first TEXT;
ALTER TABLE rm_consultations ADD COLUMN start_last TEXT;

CREATE TABLE rm_organisers (
    consultation_id TEXT NOT NULL,
    organisation_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (consultation_id, organisation_id)
) STRICT;

-- One row per party, in the agreement's order (`party`). `organisation_id` is the party's own
-- organisation, or its participant's when the party is named by a participant.
CREATE TABLE rm_agreement_parties (
    agreement_id TEXT NOT NULL,
    party INTEGER NOT NULL,
    consultation_id TEXT NOT NULL,
    organisation_id TEXT,
    participant_id TEXT,
    signatory_person_id TEXT,
    position INTEGER NOT NULL,
    PRIMARY KEY (agreement_id, party)
) STRICT;

-- `region`: the figure's own region, or its consultation's when it states none. `period_first`
-- and `period_last`: the earliest and latest day its period (or, without one, its `as_of` date)
-- can cover; `period_last` is NULL for an open period, both are NULL when no year is known.
CREATE TABLE rm_key_figures (
    consultation_id TEXT NOT NULL,
    id TEXT NOT NULL,
    region TEXT,
    indicator TEXT NOT NULL,
    unit TEXT NOT NULL,
    value TEXT NOT NULL,
    period_first TEXT,
    period_last TEXT,
    search TEXT NOT NULL,
    position INTEGER NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (consultation_id, id)
) STRICT;

CREATE TABLE rm_posts (
    person_id TEXT NOT NULL,
    post_id TEXT NOT NULL,
    organisation_id TEXT NOT NULL,
    ended INTEGER NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (person_id, post_id)
) STRICT;

CREATE INDEX rm_organisers_organisation_id ON rm_organisers (organisation_id);
CREATE INDEX rm_agreement_parties_organisation_id ON rm_agreement_parties (organisation_id);
CREATE INDEX rm_agreement_parties_signatory ON rm_agreement_parties (signatory_person_id);
CREATE INDEX rm_agreement_parties_consultation_id ON rm_agreement_parties (consultation_id);
CREATE INDEX rm_key_figures_id ON rm_key_figures (id, consultation_id);
CREATE INDEX rm_key_figures_region ON rm_key_figures (region);
CREATE INDEX rm_posts_organisation_id ON rm_posts (organisation_id);
CREATE INDEX rm_organisations_parent_id ON rm_organisations (parent_id);
