-- An agreement's budget counts in the region of its own scope (national: in no region's, only
-- in the all-regions total), not in its venue's: `budget_region` is that region, NULL for a
-- national agreement (or one whose scope and consultation region are both unknown). Filled by
-- the projector from the documents: opening a database that already holds events applies this
-- migration and then rebuilds the read models (`Store::open`).
ALTER TABLE rm_agreements ADD COLUMN budget_region TEXT;

-- The dashboard's budgets by region read this covering index alone, as 0011's did by venue.
CREATE INDEX rm_agreements_budget ON rm_agreements (status, budget_region, programme, currency, amount_minor, id);
