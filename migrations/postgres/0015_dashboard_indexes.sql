-- Indexes for the dashboard and the reminders (issue 13's page budget).
--
-- The unfinished actions in due order (projections::queries::dashboard_due_actions and
-- due_action_count): partial indexes that hold only the actions not done or cancelled, so that
-- the overdue and due-soon lists read their first rows in order and the reminder badge counts
-- only the open actions, however many actions are finished.
CREATE INDEX rm_actions_open_due ON rm_actions (due_date, id) WHERE status NOT IN ('done', 'cancelled');
CREATE INDEX rm_actions_open_region_due ON rm_actions (region, due_date, id) WHERE status NOT IN ('done', 'cancelled');

-- The dashboard's budgets of every region sum the signed agreements by programme from this
-- index in its own order (projections::queries::dashboard_budgets); by region, from 0012's
-- `rm_agreements_budget`. 0011's index by venue region is no longer read by any statement.
CREATE INDEX rm_agreements_programme ON rm_agreements (status, programme, currency, amount_minor, id);
DROP INDEX IF EXISTS rm_agreements_dashboard;
