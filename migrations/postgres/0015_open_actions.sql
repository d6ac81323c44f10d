-- The unfinished actions in due order (projections::queries::dashboard_due_actions and
-- due_action_count): partial indexes that hold only the actions not done or cancelled, so that
-- the overdue and due-soon lists read their first rows in order and the reminder badge counts
-- only the open actions, however many actions are finished.
CREATE INDEX rm_actions_open_due ON rm_actions (due_date, id) WHERE status NOT IN ('done', 'cancelled');
CREATE INDEX rm_actions_open_region_due ON rm_actions (region, due_date, id) WHERE status NOT IN ('done', 'cancelled');
