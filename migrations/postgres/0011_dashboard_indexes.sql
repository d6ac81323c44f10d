-- Covering indexes for the dashboard by region (projections::queries::dashboard_counts_of_region):
-- each group is counted from an index alone, never from the wide rows (their `doc`), so the
-- dashboard's cost follows the number of rows of a region, not the size of the documents.
CREATE INDEX rm_consultations_dashboard ON rm_consultations (region, status, month, start_first, start_last, id);
CREATE INDEX rm_recommendations_dashboard ON rm_recommendations (region, status);
CREATE INDEX rm_themes_dashboard ON rm_themes (region, theme);
CREATE INDEX rm_actions_dashboard ON rm_actions (region, status, progress, due_date);
CREATE INDEX rm_agreements_dashboard ON rm_agreements (status, region, programme, currency, amount_minor, id);
