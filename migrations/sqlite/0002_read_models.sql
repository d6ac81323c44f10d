-- Read models: projections of the event log, rebuilt by `shura rebuild`, never a source of truth.
-- Every row keeps `position`, the global position of the last event that changed it.

CREATE TABLE rm_consultations (
    id TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    position INTEGER NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    region TEXT,
    start_date TEXT,
    month TEXT,
    title TEXT NOT NULL,
    search TEXT NOT NULL,
    doc TEXT NOT NULL
) STRICT;

CREATE TABLE rm_participants (
    consultation_id TEXT NOT NULL,
    participant_id TEXT NOT NULL,
    person_id TEXT,
    organisation_id TEXT,
    role TEXT NOT NULL,
    attendance TEXT NOT NULL,
    region TEXT,
    position INTEGER NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (consultation_id, participant_id)
) STRICT;

CREATE TABLE rm_recommendations (
    id TEXT PRIMARY KEY,
    consultation_id TEXT NOT NULL,
    status TEXT NOT NULL,
    region TEXT,
    month TEXT,
    text TEXT NOT NULL,
    search TEXT NOT NULL,
    position INTEGER NOT NULL,
    doc TEXT NOT NULL
) STRICT;

CREATE TABLE rm_themes (
    recommendation_id TEXT NOT NULL,
    theme TEXT NOT NULL,
    consultation_id TEXT NOT NULL,
    region TEXT,
    position INTEGER NOT NULL,
    PRIMARY KEY (recommendation_id, theme)
) STRICT;

CREATE TABLE rm_agreements (
    id TEXT PRIMARY KEY,
    consultation_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    region TEXT,
    programme TEXT,
    amount TEXT,
    amount_minor INTEGER,
    currency TEXT,
    period_start TEXT,
    period_end TEXT,
    title TEXT NOT NULL,
    search TEXT NOT NULL,
    position INTEGER NOT NULL,
    doc TEXT NOT NULL
) STRICT;

CREATE TABLE rm_organisations (
    id TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    position INTEGER NOT NULL,
    kind TEXT NOT NULL,
    acronym TEXT,
    region TEXT,
    parent_id TEXT,
    name TEXT NOT NULL,
    search TEXT NOT NULL,
    doc TEXT NOT NULL
) STRICT;

CREATE TABLE rm_people (
    id TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    search TEXT NOT NULL,
    doc TEXT NOT NULL
) STRICT;

CREATE TABLE rm_actions (
    id TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    position INTEGER NOT NULL,
    consultation_id TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    status TEXT NOT NULL,
    progress INTEGER NOT NULL,
    due_date TEXT,
    region TEXT,
    title TEXT NOT NULL,
    search TEXT NOT NULL,
    doc TEXT NOT NULL
) STRICT;

CREATE TABLE rm_action_links (
    action_id TEXT NOT NULL,
    recommendation_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (action_id, recommendation_id)
) STRICT;

CREATE INDEX rm_consultations_region_status ON rm_consultations (region, status);
CREATE INDEX rm_consultations_start_date ON rm_consultations (start_date);
CREATE INDEX rm_consultations_month ON rm_consultations (month);
CREATE INDEX rm_participants_person_id ON rm_participants (person_id);
CREATE INDEX rm_participants_organisation_id ON rm_participants (organisation_id);
CREATE INDEX rm_recommendations_consultation_id ON rm_recommendations (consultation_id);
CREATE INDEX rm_recommendations_status ON rm_recommendations (status);
CREATE INDEX rm_themes_theme ON rm_themes (theme);
CREATE INDEX rm_themes_consultation_id ON rm_themes (consultation_id);
CREATE INDEX rm_agreements_consultation_id ON rm_agreements (consultation_id);
CREATE INDEX rm_agreements_region_programme ON rm_agreements (region, programme);
CREATE INDEX rm_actions_consultation_id ON rm_actions (consultation_id);
CREATE INDEX rm_actions_status_due_date ON rm_actions (status, due_date);
CREATE INDEX rm_actions_owner_id ON rm_actions (owner_id);
CREATE INDEX rm_action_links_recommendation_id ON rm_action_links (recommendation_id);
