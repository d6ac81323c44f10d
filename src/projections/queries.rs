//! Reads over the read models: the dashboard's figures and ranked search.
//!
//! Text ordering is done here, not in SQL, because the two backends collate text differently;
//! the database only filters, counts and sums. Each reading is one statement whatever the size
//! of the read models: the dashboard's counts, its budgets and its due actions are one
//! statement each, a search is one.

use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::lists::words;
use super::lists::{ActionRecord, ConsultationRecord, EntityRecord};
use super::rows::{all_languages, day};
use super::search::{fold, query_terms, score, words_query, WordIndex};
use crate::domain::common::minor_digits;
use crate::domain::Text;
use crate::store::temporal::Narrow;
use crate::store::{on_pool, DbUuid, Pool, StoreError};

type Result<T> = std::result::Result<T, StoreError>;

// ---------------------------------------------------------------------------------------------
// The dashboard
// ---------------------------------------------------------------------------------------------

/// How many days ahead "due soon" looks, today included.
pub const DUE_SOON_DAYS: u64 = 30;

/// The most overdue (and due-soon) actions a dashboard lists.
pub const MAX_DUE_ACTIONS: i64 = 100;

/// Which consultations a dashboard counts; every group of the dashboard counts what belongs to
/// them. All optional, combined with AND.
///
/// - `region`: the consultation's region code.
/// - `from`/`to`: the consultation's start can be within the period, as far as it is known
///   (the rule of the consultation list's `from`/`to`, so a count and the list it sums agree):
///   some day the start can be lies between `from` and `to`, both included. A start known to
///   the day is compared by day; one known to the month is inside when its month meets the
///   period (a consultation "in November 2025" is inside `from: 2025-11-03, to: 2025-11-30`,
///   and inside `to: 2025-11-01`); one known to the year, when its year does. A start whose
///   year is not known ("a Tuesday") is in no bounded period.
/// - `theme`: consultations with a recommendation of that theme; recommendations are then
///   those of the theme (grouped by all their themes) and actions those following up on one.
///
/// Recommendations, agreements and actions belong to a consultation and are counted with it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DashboardFilter {
    /// Region code, e.g. `MA-03`.
    pub region: Option<String>,
    /// First day of the period.
    pub from: Option<NaiveDate>,
    /// Last day of the period.
    pub to: Option<NaiveDate>,
    /// Recommendation theme, e.g. `export`.
    pub theme: Option<String>,
}

/// Binds `$1` to `$4` of [`scope!`]: region, first and last day, theme.
macro_rules! bind_scope {
    ($query:expr, $filter:expr) => {
        $query
            .bind(&$filter.region)
            .bind($filter.from.map(day))
            .bind($filter.to.map(day))
            .bind(&$filter.theme)
    };
}

/// The consultations a dashboard counts, as the CTE `scope` (see [`DashboardFilter`]):
/// `start_first` and `start_last` are the earliest and latest day the start can be (NULL when
/// its year is not known). `scope!(name)` reads them from `name` instead of the table (as of a
/// position, [`COUNTED`]'s view).
macro_rules! scope {
    () => {
        scope!("rm_consultations")
    };
    ($consultations:literal) => {
        concat!(
            "WITH scope AS (SELECT c.id, c.status, c.region, c.month FROM ",
            $consultations,
            " c \
         WHERE ($1 IS NULL OR c.region = $1) AND ($2 IS NULL OR c.start_last >= $2) \
         AND ($3 IS NULL OR c.start_first <= $3) AND ($4 IS NULL OR c.id IN \
         (SELECT t.consultation_id FROM rm_themes t WHERE t.theme = $4)))"
        )
    };
}

/// The actions a dashboard counts (`a`): those of the consultations in `scope`, and with a theme,
/// those following up on a recommendation of it.
macro_rules! actions_in_scope {
    () => {
        "a.consultation_id IN (SELECT id FROM scope) AND ($4 IS NULL OR a.id IN \
         (SELECT l.action_id FROM rm_action_links l JOIN rm_themes t \
         ON t.recommendation_id = l.recommendation_id WHERE t.theme = $4))"
    };
}

/// A count per key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Count {
    /// What was counted: a status, a region code, a theme, a month `YYYY-MM`; `None` when not
    /// known (a consultation without a region, a start whose month is not known).
    pub key: Option<String>,
    /// How many.
    pub count: i64,
}

/// The follow-up actions' progress.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Progress {
    /// Actions in all.
    pub actions: i64,
    /// Actions done.
    pub done: i64,
    /// Mean progress of all actions, 0-100, rounded down (0 when there is none).
    pub average: i64,
    /// Unfinished actions certainly due before today.
    pub overdue: i64,
    /// Unfinished actions due from today to [`DUE_SOON_DAYS`] days ahead at the latest.
    pub due_soon: i64,
}

/// The dashboard's counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DashboardCounts {
    /// Consultations by status.
    pub consultations_by_status: Vec<Count>,
    /// Consultations by region code.
    pub consultations_by_region: Vec<Count>,
    /// Consultations by month of their start.
    pub consultations_by_month: Vec<Count>,
    /// Recommendations by status.
    pub recommendations_by_status: Vec<Count>,
    /// Recommendations by theme (one with two themes counts under each).
    pub recommendations_by_theme: Vec<Count>,
    /// Actions by status.
    pub actions_by_status: Vec<Count>,
    /// Progress of the follow-up.
    pub progress: Progress,
}

/// Sorts counts by key, unknown last.
fn sorted(mut counts: Vec<Count>) -> Vec<Count> {
    counts.sort_by(|a, b| (a.key.is_none(), &a.key).cmp(&(b.key.is_none(), &b.key)));
    counts
}

/// The last day "due soon" reaches from `today`.
fn due_soon_end(today: NaiveDate) -> Result<NaiveDate> {
    today
        .checked_add_days(Days::new(DUE_SOON_DAYS))
        .ok_or_else(|| StoreError::validation("today", "is too late in the calendar"))
}

/// The sum of `counts`, checked.
fn total<'a>(mut counts: impl Iterator<Item = &'a Count>) -> Result<i64> {
    counts
        .try_fold(0_i64, |sum, c| sum.checked_add(c.count))
        .ok_or_else(|| StoreError::Overflow {
            what: "the count of actions".to_owned(),
        })
}

/// The consultations' columns the dashboard reads (its counts, and the scope of a period or a
/// theme), versioned on their own in an `asOf` history (see
/// [`crate::store::temporal::Narrow`]): as of a position, the dashboard reads them through the
/// view named here. A consultation's row changes at each of its events (its document), these
/// columns seldom (planned, held, closed; a new date): the seeds' 5 consultations have 132
/// versions and 15 of these columns, so that a first answer at a million events, from a cold
/// disk, reads a few megabytes rather than the scattered pages of 630,000 versions. The other
/// tables the dashboard reads change with the columns it reads already (a recommendation's
/// version is a change of it). The live read models have no such view: the dashboard reads the
/// table's covering index of the same columns (migration 0011).
pub const COUNTED: &[Narrow] = &[Narrow {
    name: "counted_consultations",
    table: "rm_consultations",
    columns: &[
        "region",
        "status",
        "month",
        "start_first",
        "start_last",
        "id",
    ],
}];

/// The read models a dashboard reads: a pool, and whether its connections show an `asOf`
/// history (see [`crate::store::temporal`]), whose [`COUNTED`] views hold the counted columns'
/// versions. A pool alone is the live read models' (or a snapshot's), which have no such view.
/// Known when the store is opened, so that no read asks the database which it is.
#[derive(Debug, Clone, Copy)]
pub struct Models<'a> {
    /// Where the read models are read.
    pub pool: &'a Pool,
    /// Whether `pool`'s connections show an `asOf` history's views.
    pub history: bool,
}

impl<'a> From<&'a Pool> for Models<'a> {
    fn from(pool: &'a Pool) -> Self {
        Models {
            pool,
            history: false,
        }
    }
}

impl Models<'_> {
    /// Whether [`COUNTED`]'s views hold the counted columns (only SQLite keeps a history).
    fn counted_views(self) -> bool {
        self.history && matches!(self.pool, Pool::Sqlite(_)) && !COUNTED.is_empty()
    }
}

/// Every count of the dashboard, with one statement.
pub async fn dashboard_counts(
    models: impl Into<Models<'_>>,
    filter: &DashboardFilter,
    today: NaiveDate,
) -> Result<DashboardCounts> {
    let models = models.into();
    if filter.from.is_none() && filter.to.is_none() && filter.theme.is_none() {
        dashboard_counts_of_region(models, filter.region.as_deref(), today).await
    } else {
        dashboard_counts_in_scope(models, filter, today).await
    }
}

/// [`dashboard_counts`] with only a region (or none), the dashboard's default: every row of
/// the read models carries its consultation's region, so each group is counted on its own table
/// by region, from the covering `*_dashboard` indexes (migration 0011), without the semi-joins
/// of [`dashboard_counts_in_scope`] (which a period or a theme needs). Both count the same rows,
/// as a test on both backends checks; this one reads indexes only, so that the dashboard stays
/// within a page's budget at a million events.
pub async fn dashboard_counts_of_region(
    models: impl Into<Models<'_>>,
    region: Option<&str>,
    today: NaiveDate,
) -> Result<DashboardCounts> {
    let models = models.into();
    let pool = models.pool;
    // Two statements rather than `($1 IS NULL OR region = $1)`: with that condition SQLite
    // chooses the group's index (`theme`) and reads every row to test the region; `region = $1`
    // reads the `(region, ...)` index's range alone. And each in two halves, read at once on two
    // connections: the recommendations and their themes (the largest tables) beside the rest,
    // so that two cores share the index scans.
    macro_rules! recommendations {
        ($where:literal) => {
            concat!(
                "SELECT 'recommendation_status' AS grp, status AS key, COUNT(*) AS n \
                 FROM rm_recommendations ",
                $where,
                " GROUP BY status \
                 UNION ALL SELECT 'recommendation_theme', theme, COUNT(*) FROM rm_themes ",
                $where,
                " GROUP BY theme"
            )
        };
    }
    macro_rules! the_rest {
        ($consultations:literal, $where:literal, $and:literal, $today:literal, $soon:literal) => {
            concat!(
                "SELECT 'consultation_status' AS grp, status AS key, COUNT(*) AS n FROM ",
                $consultations,
                " ",
                $where,
                " GROUP BY status \
                 UNION ALL SELECT 'consultation_region', region, COUNT(*) FROM ",
                $consultations,
                " ",
                $where,
                " GROUP BY region \
                 UNION ALL SELECT 'consultation_month', month, COUNT(*) FROM ",
                $consultations,
                " ",
                $where,
                " GROUP BY month \
                 UNION ALL SELECT 'action_status', status, COUNT(*) FROM rm_actions ",
                $where,
                " GROUP BY status \
                 UNION ALL SELECT 'action_progress', NULL, \
                 CAST(COALESCE(SUM(progress), 0) AS BIGINT) FROM rm_actions ",
                $where,
                " UNION ALL SELECT 'action_overdue', NULL, COUNT(*) FROM rm_actions WHERE ",
                $and,
                " due_date < ",
                $today,
                " AND status NOT IN ('done', 'cancelled') \
                 UNION ALL SELECT 'action_due_soon', NULL, COUNT(*) FROM rm_actions WHERE ",
                $and,
                " due_date >= ",
                $today,
                " AND due_date <= ",
                $soon,
                " AND status NOT IN ('done', 'cancelled')"
            )
        };
    }
    // The consultations' counts read the table, or as of a position its view of the counted
    // columns (see [`COUNTED`]); the other tables' versions change with the counted columns
    // already.
    macro_rules! all_and_region {
        ($consultations:literal) => {
            [
                (
                    recommendations!(""),
                    the_rest!($consultations, "", "", "$1", "$2"),
                ),
                (
                    recommendations!("WHERE region = $1"),
                    the_rest!(
                        $consultations,
                        "WHERE region = $1",
                        "region = $1 AND",
                        "$2",
                        "$3"
                    ),
                ),
            ]
        };
    }
    const TABLE: [(&str, &str); 2] = all_and_region!("rm_consultations");
    const AS_OF: [(&str, &str); 2] = all_and_region!("counted_consultations");
    let [all, by_region] = if models.counted_views() { AS_OF } else { TABLE };
    type Row = (String, Option<String>, i64);
    let (today_text, soon) = (day(today), day(due_soon_end(today)?));
    let (recommendations, rest) = match region {
        None => tokio::try_join!(
            async {
                Ok::<_, StoreError>(on_pool!(pool, p => sqlx::query_as::<_, Row>(all.0)
                    .fetch_all(p)
                    .await?))
            },
            async {
                Ok::<_, StoreError>(on_pool!(pool, p => sqlx::query_as::<_, Row>(all.1)
                    .bind(&today_text)
                    .bind(&soon)
                    .fetch_all(p)
                    .await?))
            },
        )?,
        Some(region) => tokio::try_join!(
            async {
                Ok::<_, StoreError>(on_pool!(pool, p => sqlx::query_as::<_, Row>(by_region.0)
                    .bind(region)
                    .fetch_all(p)
                    .await?))
            },
            async {
                Ok::<_, StoreError>(on_pool!(pool, p => sqlx::query_as::<_, Row>(by_region.1)
                    .bind(region)
                    .bind(&today_text)
                    .bind(&soon)
                    .fetch_all(p)
                    .await?))
            },
        )?,
    };
    collect_counts(recommendations.into_iter().chain(rest).collect())
}

/// [`dashboard_counts`] for any filter: the consultations in scope first, then what belongs to
/// them.
pub async fn dashboard_counts_in_scope(
    models: impl Into<Models<'_>>,
    filter: &DashboardFilter,
    today: NaiveDate,
) -> Result<DashboardCounts> {
    let models = models.into();
    let pool = models.pool;
    macro_rules! counts {
        ($consultations:literal) => {
            concat!(
                scope!($consultations),
                ", recs AS (SELECT r.id, r.status FROM rm_recommendations r \
                 WHERE r.consultation_id IN (SELECT id FROM scope) AND ($4 IS NULL OR r.id IN \
                 (SELECT t.recommendation_id FROM rm_themes t WHERE t.theme = $4))), \
                 acts AS (SELECT a.status, a.progress, a.due_date FROM rm_actions a WHERE ",
                actions_in_scope!(),
                ") SELECT 'consultation_status' AS grp, status AS key, COUNT(*) AS n \
                 FROM scope GROUP BY status \
                 UNION ALL SELECT 'consultation_region', region, COUNT(*) FROM scope GROUP BY region \
                 UNION ALL SELECT 'consultation_month', month, COUNT(*) FROM scope GROUP BY month \
                 UNION ALL SELECT 'recommendation_status', status, COUNT(*) FROM recs \
                 GROUP BY status \
                 UNION ALL SELECT 'recommendation_theme', t.theme, COUNT(*) FROM rm_themes t \
                 WHERE t.recommendation_id IN (SELECT id FROM recs) GROUP BY t.theme \
                 UNION ALL SELECT 'action_status', status, COUNT(*) FROM acts GROUP BY status \
                 UNION ALL SELECT 'action_progress', NULL, \
                 CAST(COALESCE(SUM(progress), 0) AS BIGINT) FROM acts \
                 UNION ALL SELECT 'action_overdue', NULL, COUNT(*) FROM acts \
                 WHERE due_date < $5 AND status NOT IN ('done', 'cancelled') \
                 UNION ALL SELECT 'action_due_soon', NULL, COUNT(*) FROM acts \
                 WHERE due_date >= $5 AND due_date <= $6 AND status NOT IN ('done', 'cancelled')"
            )
        };
    }
    const TABLE: &str = counts!("rm_consultations");
    const AS_OF: &str = counts!("counted_consultations");
    let sql = if models.counted_views() { AS_OF } else { TABLE };
    let (today_text, soon) = (day(today), day(due_soon_end(today)?));
    let rows = on_pool!(pool, p => {
        bind_scope!(
            sqlx::query_as::<_, (String, Option<String>, i64)>(sql),
            filter
        )
        .bind(&today_text)
        .bind(&soon)
        .fetch_all(p)
        .await?
    });
    collect_counts(rows)
}

/// The dashboard's counts from the `(group, key, count)` rows of either statement.
fn collect_counts(rows: Vec<(String, Option<String>, i64)>) -> Result<DashboardCounts> {
    let mut counts = DashboardCounts::default();
    let mut progress_sum = 0_i64;
    for (group, key, n) in rows {
        let count = Count { key, count: n };
        match group.as_str() {
            "consultation_status" => counts.consultations_by_status.push(count),
            "consultation_region" => counts.consultations_by_region.push(count),
            "consultation_month" => counts.consultations_by_month.push(count),
            "recommendation_status" => counts.recommendations_by_status.push(count),
            "recommendation_theme" => counts.recommendations_by_theme.push(count),
            "action_status" => counts.actions_by_status.push(count),
            "action_progress" => progress_sum = n,
            "action_overdue" => counts.progress.overdue = n,
            "action_due_soon" => counts.progress.due_soon = n,
            _ => {}
        }
    }
    counts.progress.actions = total(counts.actions_by_status.iter())?;
    counts.progress.done = total(
        counts
            .actions_by_status
            .iter()
            .filter(|c| c.key.as_deref() == Some("done")),
    )?;
    counts.progress.average = progress_sum
        .checked_div(counts.progress.actions)
        .unwrap_or(0);
    counts.consultations_by_status = sorted(std::mem::take(&mut counts.consultations_by_status));
    counts.consultations_by_region = sorted(std::mem::take(&mut counts.consultations_by_region));
    counts.consultations_by_month = sorted(std::mem::take(&mut counts.consultations_by_month));
    counts.recommendations_by_status =
        sorted(std::mem::take(&mut counts.recommendations_by_status));
    counts.recommendations_by_theme = sorted(std::mem::take(&mut counts.recommendations_by_theme));
    counts.actions_by_status = sorted(std::mem::take(&mut counts.actions_by_status));
    Ok(counts)
}

/// Budget committed (signed agreements with a budget) under one key, in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Budget {
    /// The region code, or the programme as shown (Arabic first); `None` when there is none.
    pub key: Option<String>,
    /// ISO 4217 currency.
    pub currency: String,
    /// Exact total, in the currency's major unit.
    pub amount: Decimal,
    /// How many agreements.
    pub agreements: i64,
    /// The programme in every language it was recorded in (programme groups only).
    pub programme: Option<Text>,
}

/// An agreement document's programme.
#[derive(Deserialize)]
struct Programme {
    #[serde(default)]
    programme: Option<Text>,
}

/// Committed budgets by region and by programme.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Budgets {
    /// By region of the consultation, then currency.
    pub by_region: Vec<Budget>,
    /// By programme, then currency.
    pub by_programme: Vec<Budget>,
}

/// Minor units in a budget sum's part of billions.
const BILLION: i128 = 1_000_000_000;

/// The exact total of a budget group, from its two partial sums of minor units (`billions` of
/// `10^9` minor units, and the `rest`), in the currency's major unit (trailing zeros removed).
/// Any two BIGINT parts make an exact Decimal (at most about 9.2 * 10^27 minor units, within
/// its 96 bits); were that ever not so, this fails rather than rounding or panicking.
fn budget_amount(currency: &str, billions: i64, rest: i64) -> Result<Decimal> {
    let overflow = || StoreError::Overflow {
        what: format!("the {currency} budget total"),
    };
    let total = i128::from(billions)
        .checked_mul(BILLION)
        .and_then(|high| high.checked_add(i128::from(rest)))
        .ok_or_else(overflow)?;
    let amount =
        Decimal::try_from_i128_with_scale(total, minor_digits(currency)).map_err(|_| overflow())?;
    Ok(amount.normalize())
}

/// The committed budgets of the dashboard's consultations, by region and by programme. An
/// agreement counts in the region of its own scope (a national one in no region's, only in the
/// all-regions total). With a region only (or none), the signed agreements are read by that
/// region from the covering index of migration 0012; with a period or a theme, through the
/// consultations in scope.
pub async fn dashboard_budgets(
    models: impl Into<Models<'_>>,
    filter: &DashboardFilter,
) -> Result<Budgets> {
    let by_region = filter.from.is_none() && filter.to.is_none() && filter.theme.is_none();
    budgets(models.into(), filter, by_region).await
}

/// [`dashboard_budgets`] always through the consultations in scope (what the region-only path
/// must equal; the tests compare them).
pub async fn dashboard_budgets_in_scope(
    models: impl Into<Models<'_>>,
    filter: &DashboardFilter,
) -> Result<Budgets> {
    budgets(models.into(), filter, false).await
}

async fn budgets(models: Models<'_>, filter: &DashboardFilter, by_region: bool) -> Result<Budgets> {
    let pool = models.pool;
    // Each agreement's minor units are summed in two parts (billions of minor units, and the
    // rest), so that neither SUM can overflow a BIGINT on either backend (SQLite's SUM fails on
    // overflow) however many agreements there are; the parts are combined in i128. A
    // programme's row names one of its agreements (the least id), whose document gives the
    // programme's name in its languages.
    macro_rules! sums {
        ($signed:expr) => {
            concat!(
                " SELECT 'region' AS grp, region AS key, currency, \
                 CAST(SUM(amount_minor / 1000000000) AS BIGINT), \
                 CAST(SUM(amount_minor % 1000000000) AS BIGINT), COUNT(*), CAST(NULL AS TEXT) \
                 FROM ",
                $signed,
                " GROUP BY region, currency \
                 UNION ALL SELECT 'programme', programme, currency, \
                 CAST(SUM(amount_minor / 1000000000) AS BIGINT), \
                 CAST(SUM(amount_minor % 1000000000) AS BIGINT), COUNT(*), \
                 MIN(CAST(id AS TEXT)) FROM ",
                $signed,
                " GROUP BY programme, currency"
            )
        };
    }
    /// The signed agreements with an amount: the columns the sums read, under `$where`.
    macro_rules! signed_rows {
        ($where:literal) => {
            concat!(
                "SELECT g.id, g.budget_region AS region, g.programme, g.currency, \
                 g.amount_minor \
                 FROM rm_agreements g WHERE g.status = 'signed' AND g.amount_minor IS NOT NULL \
                 AND g.currency IS NOT NULL",
                $where
            )
        };
    }
    // With a period or a theme, the agreements in scope are named once (`signed`) and summed
    // twice. Without, each sum reads the agreements itself, as a subquery SQLite flattens into
    // it, so that each grouping reads its own covering index in its own order (migration 0015)
    // instead of a materialised list sorted twice.
    macro_rules! signed {
        ($where:literal) => {
            concat!("signed AS (", signed_rows!($where), ")")
        };
    }
    // An agreement counts in the region of its own scope (`budget_region`), not its venue's:
    // the region filters the agreements ($5), the scope only the period and theme.
    macro_rules! scoped {
        ($consultations:literal) => {
            concat!(
                scope!($consultations),
                ", ",
                signed!(
                    " AND ($5 IS NULL OR g.budget_region = $5) \
                     AND g.consultation_id IN (SELECT id FROM scope)"
                ),
                sums!("signed")
            )
        };
    }
    const SCOPED: [&str; 2] = [
        scoped!("rm_consultations"),
        scoped!("counted_consultations"),
    ];
    const ALL: &str = sums!(concat!("(", signed_rows!(""), ") AS signed"));
    const REGION: &str = sums!(concat!(
        "(",
        signed_rows!(" AND g.budget_region = $1"),
        ") AS signed"
    ));
    type Row = (
        String,
        Option<String>,
        String,
        i64,
        i64,
        i64,
        Option<String>,
    );
    let rows = match (by_region, &filter.region) {
        (true, None) => on_pool!(pool, p => sqlx::query_as::<_, Row>(ALL).fetch_all(p).await?),
        (true, Some(region)) => on_pool!(pool, p => sqlx::query_as::<_, Row>(REGION)
            .bind(region)
            .fetch_all(p)
            .await?),
        (false, _) => on_pool!(pool, p => {
            let any_region = DashboardFilter {
                region: None,
                ..filter.clone()
            };
            let [table, as_of] = SCOPED;
            let scoped = if models.counted_views() { as_of } else { table };
            bind_scope!(sqlx::query_as::<_, Row>(scoped), any_region)
                .bind(&filter.region)
                .fetch_all(p)
                .await?
        }),
    };
    let named: Vec<Uuid> = rows
        .iter()
        .filter_map(|row| row.6.as_deref())
        .filter_map(|id| Uuid::parse_str(id).ok())
        .collect();
    let docs: std::collections::HashMap<Uuid, String> =
        super::lists::agreements_by_ids(pool, &named)
            .await?
            .into_iter()
            .map(|record| (record.id.0, record.doc))
            .collect();
    let mut budgets = Budgets::default();
    for (group, key, currency, billions, rest, agreements, named) in rows {
        let amount = budget_amount(&currency, billions, rest)?;
        let doc = named
            .as_deref()
            .and_then(|id| Uuid::parse_str(id).ok())
            .and_then(|id| docs.get(&id));
        let programme = match doc {
            Some(doc) => {
                serde_json::from_str::<Programme>(doc)
                    .map_err(|e| StoreError::Corrupt {
                        position: 0,
                        reason: format!("an agreement of programme {key:?}: {e}"),
                    })?
                    .programme
            }
            None => None,
        };
        let budget = Budget {
            key,
            currency,
            amount,
            agreements,
            programme,
        };
        if group == "region" {
            budgets.by_region.push(budget);
        } else {
            budgets.by_programme.push(budget);
        }
    }
    let order = |a: &Budget, b: &Budget| {
        (a.key.is_none(), &a.key, &a.currency).cmp(&(b.key.is_none(), &b.key, &b.currency))
    };
    budgets.by_region.sort_by(order);
    budgets.by_programme.sort_by(order);
    Ok(budgets)
}

/// Unfinished actions that are overdue or due soon.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DueActions {
    /// Certainly due before today (their latest possible due day has passed), the longest
    /// overdue first.
    pub overdue: Vec<ActionRecord>,
    /// Due from today to [`DUE_SOON_DAYS`] days ahead at the latest, the soonest first.
    pub due_soon: Vec<ActionRecord>,
}

/// How many unfinished actions of `region` (every region when `None`) are overdue or due within
/// [`DUE_SOON_DAYS`] days of `today`: the dashboard's `overdue + due_soon`, counted alone (the
/// web app's reminder badge, on every page) from the open actions' partial indexes (migration
/// 0015), which hold only the unfinished actions.
pub async fn due_action_count(pool: &Pool, region: Option<&str>, today: NaiveDate) -> Result<i64> {
    // Two statements rather than `($2 IS NULL OR region = $2)`, which would keep SQLite from the
    // `(region, due_date)` index.
    const ALL: &str = "SELECT COUNT(*) FROM rm_actions WHERE status NOT IN ('done', 'cancelled') \
        AND due_date <= $1";
    const REGION: &str = "SELECT COUNT(*) FROM rm_actions \
        WHERE status NOT IN ('done', 'cancelled') AND region = $2 AND due_date <= $1";
    let last = day(due_soon_end(today)?);
    Ok(match region {
        None => on_pool!(pool, p => sqlx::query_scalar::<_, i64>(ALL)
            .bind(&last)
            .fetch_one(p)
            .await?),
        Some(region) => on_pool!(pool, p => sqlx::query_scalar::<_, i64>(REGION)
            .bind(&last)
            .bind(region)
            .fetch_one(p)
            .await?),
    })
}

/// The columns of an action row as [`ActionRecord`] reads them.
macro_rules! action_columns {
    () => {
        "a.id, a.version, a.position, a.consultation_id, a.owner_id, a.status, a.progress, \
         a.due_date, a.region, a.title, a.doc"
    };
}

/// The dashboard's overdue and due-soon actions, at most `limit` of each, with one statement.
/// An action's `due_date` is the latest day it can be due, so a partial due date ("March
/// 2025") is overdue only once it certainly is. With a region alone (or none: the dashboard's
/// default and the reminders), the actions are read in due order from the open actions' partial
/// indexes (migration 0015), `limit` rows each; a period or a theme selects them through the
/// consultations in scope. Both select the same actions (an action's row carries its
/// consultation's region), as a test checks.
pub async fn dashboard_due_actions(
    models: impl Into<Models<'_>>,
    filter: &DashboardFilter,
    today: NaiveDate,
    limit: i64,
) -> Result<DueActions> {
    let by_region = filter.from.is_none() && filter.to.is_none() && filter.theme.is_none();
    due_actions(models.into(), filter, today, limit, by_region).await
}

/// [`dashboard_due_actions`] through the consultations in scope whatever the filter: the way a
/// period or a theme takes, which tests compare with the region's own.
pub async fn dashboard_due_actions_in_scope(
    models: impl Into<Models<'_>>,
    filter: &DashboardFilter,
    today: NaiveDate,
    limit: i64,
) -> Result<DueActions> {
    due_actions(models.into(), filter, today, limit, false).await
}

/// The overdue and due-soon actions with one more condition (`$1` today, `$2` the last day due
/// soon, `$3` how many of each).
macro_rules! due_of {
    ($where:literal) => {
        concat!(
            "SELECT * FROM (SELECT ",
            action_columns!(),
            " FROM rm_actions a WHERE a.status NOT IN ('done', 'cancelled')",
            $where,
            " AND a.due_date < $1 ORDER BY a.due_date, a.id LIMIT $3) AS o \
             UNION ALL SELECT * FROM (SELECT ",
            action_columns!(),
            " FROM rm_actions a WHERE a.status NOT IN ('done', 'cancelled')",
            $where,
            " AND a.due_date >= $1 AND a.due_date <= $2 ORDER BY a.due_date, a.id \
             LIMIT $3) AS s"
        )
    };
}

/// Due actions of every region, from the open actions' partial index.
const DUE_ALL: &str = due_of!("");
/// Due actions of one region (`$4`), likewise.
const DUE_REGION: &str = due_of!(" AND a.region = $4");
/// Due actions of the consultations in scope (read from the table, or from [`COUNTED`]'s view).
macro_rules! due_scoped {
    ($consultations:literal) => {
        concat!(
            scope!($consultations),
            " SELECT * FROM (SELECT ",
            action_columns!(),
            " FROM rm_actions a WHERE ",
            actions_in_scope!(),
            " AND a.status NOT IN ('done', 'cancelled') AND a.due_date < $5 \
             ORDER BY a.due_date, a.id LIMIT $7) AS o \
             UNION ALL SELECT * FROM (SELECT ",
            action_columns!(),
            " FROM rm_actions a WHERE ",
            actions_in_scope!(),
            " AND a.status NOT IN ('done', 'cancelled') AND a.due_date >= $5 \
             AND a.due_date <= $6 ORDER BY a.due_date, a.id LIMIT $7) AS s"
        )
    };
}
const DUE_SCOPED: [&str; 2] = [
    due_scoped!("rm_consultations"),
    due_scoped!("counted_consultations"),
];

async fn due_actions(
    models: Models<'_>,
    filter: &DashboardFilter,
    today: NaiveDate,
    limit: i64,
    by_region: bool,
) -> Result<DueActions> {
    let pool = models.pool;
    let (today_text, soon) = (day(today), day(due_soon_end(today)?));
    let limit = limit.clamp(0, MAX_DUE_ACTIONS);
    let rows = match (by_region, filter.region.as_deref()) {
        (true, None) => on_pool!(pool, p => sqlx::query_as::<_, ActionRecord>(DUE_ALL)
            .bind(&today_text)
            .bind(&soon)
            .bind(limit)
            .fetch_all(p)
            .await?),
        (true, Some(region)) => on_pool!(pool, p => sqlx::query_as::<_, ActionRecord>(DUE_REGION)
            .bind(&today_text)
            .bind(&soon)
            .bind(limit)
            .bind(region)
            .fetch_all(p)
            .await?),
        (false, _) => on_pool!(pool, p => {
            let [table, as_of] = DUE_SCOPED;
            let scoped = if models.counted_views() { as_of } else { table };
            bind_scope!(sqlx::query_as::<_, ActionRecord>(scoped), filter)
                .bind(&today_text)
                .bind(&soon)
                .bind(limit)
                .fetch_all(p)
                .await?
        }),
    };
    let (mut overdue, mut due_soon): (Vec<_>, Vec<_>) = rows
        .into_iter()
        .partition(|a| a.due_date.as_deref() < Some(today_text.as_str()));
    let order =
        |a: &ActionRecord, b: &ActionRecord| (&a.due_date, a.id.0).cmp(&(&b.due_date, b.id.0));
    overdue.sort_by(order);
    due_soon.sort_by(order);
    Ok(DueActions { overdue, due_soon })
}

/// Everything the dashboard shows (its three statements), for callers that want it all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DashboardFigures {
    /// Counts and progress.
    pub counts: DashboardCounts,
    /// Committed budgets.
    pub budgets: Budgets,
    /// Overdue and due-soon actions, at most [`MAX_DUE_ACTIONS`] of each.
    pub due: DueActions,
}

/// The whole dashboard for `filter`, overdue actions as of `today`.
pub async fn dashboard_figures(
    models: impl Into<Models<'_>>,
    filter: &DashboardFilter,
    today: NaiveDate,
) -> Result<DashboardFigures> {
    let models = models.into();
    Ok(DashboardFigures {
        counts: dashboard_counts(models, filter, today).await?,
        budgets: dashboard_budgets(models, filter).await?,
        due: dashboard_due_actions(models, filter, today, MAX_DUE_ACTIONS).await?,
    })
}

// ---------------------------------------------------------------------------------------------
// Search
// ---------------------------------------------------------------------------------------------

/// How many of the most recently changed matching rows of each kind a search ranks.
pub const SEARCH_CANDIDATES: i64 = 200;

/// A search hit: a row of one of the six kinds, ready to be shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HitRecord {
    /// A consultation, with its document.
    Consultation(ConsultationRecord, String),
    /// A recommendation.
    Recommendation(EntityRecord),
    /// An agreement.
    Agreement(EntityRecord),
    /// A follow-up action.
    Action(ActionRecord),
    /// An organisation.
    Organisation(EntityRecord),
    /// A person.
    Person(EntityRecord),
}

/// What a search hit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HitKind {
    /// A consultation.
    Consultation,
    /// A recommendation.
    Recommendation,
    /// An agreement.
    Agreement,
    /// A follow-up action.
    Action,
    /// An organisation.
    Organisation,
    /// A person.
    Person,
}

impl HitRecord {
    /// What it is.
    pub fn kind(&self) -> HitKind {
        match self {
            HitRecord::Consultation(..) => HitKind::Consultation,
            HitRecord::Recommendation(_) => HitKind::Recommendation,
            HitRecord::Agreement(_) => HitKind::Agreement,
            HitRecord::Action(_) => HitKind::Action,
            HitRecord::Organisation(_) => HitKind::Organisation,
            HitRecord::Person(_) => HitKind::Person,
        }
    }
}

/// One ranked search result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RankedHit {
    /// Higher is better ([`super::search::score`]).
    pub score: i64,
    /// Global position of the last event that changed it (ties are broken by recency).
    pub position: i64,
    /// Its id.
    pub id: Uuid,
    /// Its title, text or name as shown.
    pub title: String,
    /// The row.
    pub record: HitRecord,
}

/// A candidate row of any kind (the columns a kind lacks are NULL).
#[derive(Debug, Clone, sqlx::FromRow)]
struct SearchRow {
    hit: String,
    id: DbUuid,
    version: Option<i64>,
    position: i64,
    consultation_id: Option<DbUuid>,
    owner_id: Option<DbUuid>,
    sort: Option<String>,
    status: Option<String>,
    region: Option<String>,
    start_date: Option<String>,
    month: Option<String>,
    progress: Option<i64>,
    due_date: Option<String>,
    title: String,
    acronym: Option<String>,
    search: String,
    doc: String,
}

#[derive(Deserialize)]
struct Titled {
    title: Text,
}

#[derive(Deserialize)]
struct Named {
    name: Text,
}

#[derive(Deserialize)]
struct ConsultationTitle {
    details: Titled,
}

impl SearchRow {
    fn corrupt(&self, reason: impl std::fmt::Display) -> StoreError {
        StoreError::Corrupt {
            position: self.position,
            reason: format!("{} {}: {reason}", self.hit, self.id.0),
        }
    }

    /// The folded words of its title: every language of a consultation's, agreement's or
    /// action's title, an organisation's name and acronym; a recommendation's whole text and a
    /// person's whole name.
    fn folded_title(&self) -> Result<String> {
        let parse = |doc: &str| -> Result<Text> {
            Ok(match self.hit.as_str() {
                "consultation" => {
                    serde_json::from_str::<ConsultationTitle>(doc)
                        .map_err(|e| self.corrupt(e))?
                        .details
                        .title
                }
                "organisation" => {
                    serde_json::from_str::<Named>(doc)
                        .map_err(|e| self.corrupt(e))?
                        .name
                }
                _ => {
                    serde_json::from_str::<Titled>(doc)
                        .map_err(|e| self.corrupt(e))?
                        .title
                }
            })
        };
        Ok(match self.hit.as_str() {
            "recommendation" | "person" => self.search.clone(),
            _ => {
                let title = parse(&self.doc)?;
                let acronym = self.acronym.as_deref().unwrap_or_default();
                fold(&format!("{} {acronym}", all_languages(&title)))
            }
        })
    }

    fn entity(self) -> EntityRecord {
        EntityRecord {
            id: self.id,
            version: self.version,
            consultation_id: self.consultation_id,
            status: if self.hit == "organisation" {
                self.sort
            } else {
                self.status
            },
            region: self.region,
            title: self.title,
            position: self.position,
            doc: self.doc,
        }
    }

    fn record(self) -> Result<HitRecord> {
        let missing = |what: &str| self.corrupt(format!("no {what}"));
        Ok(match self.hit.as_str() {
            "consultation" => {
                let record = ConsultationRecord {
                    id: self.id,
                    version: self.version.ok_or_else(|| missing("version"))?,
                    position: self.position,
                    kind: self.sort.clone().ok_or_else(|| missing("kind"))?,
                    status: self.status.clone().ok_or_else(|| missing("status"))?,
                    region: self.region.clone(),
                    start_date: self.start_date.clone(),
                    month: self.month.clone(),
                    title: self.title.clone(),
                    sort_key: self.start_date.clone().unwrap_or_default(),
                };
                HitRecord::Consultation(record, self.doc)
            }
            "action" => HitRecord::Action(ActionRecord {
                id: self.id,
                version: self.version.ok_or_else(|| missing("version"))?,
                position: self.position,
                consultation_id: self
                    .consultation_id
                    .ok_or_else(|| missing("consultation"))?,
                owner_id: self.owner_id.ok_or_else(|| missing("owner"))?,
                status: self.status.clone().ok_or_else(|| missing("status"))?,
                progress: self.progress.ok_or_else(|| missing("progress"))?,
                due_date: self.due_date.clone(),
                region: self.region.clone(),
                title: self.title.clone(),
                doc: self.doc,
            }),
            "recommendation" => HitRecord::Recommendation(self.entity()),
            "agreement" => HitRecord::Agreement(self.entity()),
            "organisation" => HitRecord::Organisation(self.entity()),
            _ => HitRecord::Person(self.entity()),
        })
    }
}

/// The `WHERE` of a search branch on `$table`: the rows whose words begin with every term, from
/// the word index (`$1`, [`words_query`]), the most recently changed first (`$2` of them).
macro_rules! words_match {
    ($words:ident, $table:literal) => {
        concat!(
            " WHERE ",
            words!($words, $table, "$1"),
            " ORDER BY position DESC LIMIT $2"
        )
    };
}

/// The query terms the statement selects with (the longest four; the others are checked on the
/// rows).
const SQL_TERMS: usize = 4;

/// Searches consultations, recommendations, agreements, actions, organisations and people, with
/// one statement, and ranks the hits: every word of the query must begin a word of the text
/// (after folding: Arabic hamza, taa marbuta, alef maqsura, tashkeel and tatweel, an Arabic
/// word's proclitics; Latin case and accents), so "fes" finds "Fès" and "Fès-Meknès", not
/// "professional". Ranked by [`score`] (an exact word over a prefix, the title over the rest of
/// the text), then the most recently changed, then kind and id. At most `limit` hits; of each
/// kind, the [`SEARCH_CANDIDATES`] most recently changed matching rows are ranked.
pub async fn search(pool: &Pool, query: &str, limit: usize) -> Result<Vec<RankedHit>> {
    macro_rules! statement {
        ($words:ident) => {
            concat!(
        "SELECT * FROM (SELECT 'consultation' AS hit, id, version, position, \
         CAST(NULL AS UUID) AS consultation_id, CAST(NULL AS UUID) AS owner_id, kind AS sort, \
         status, region, start_date, month, CAST(NULL AS BIGINT) AS progress, \
         CAST(NULL AS TEXT) AS due_date, title, CAST(NULL AS TEXT) AS acronym, search, doc \
         FROM rm_consultations",
        words_match!($words, "rm_consultations"),
        ") AS c UNION ALL SELECT * FROM (SELECT 'recommendation', id, CAST(NULL AS BIGINT), \
         position, consultation_id, CAST(NULL AS UUID), CAST(NULL AS TEXT), status, region, \
         CAST(NULL AS TEXT), month, CAST(NULL AS BIGINT), CAST(NULL AS TEXT), text, \
         CAST(NULL AS TEXT), search, doc FROM rm_recommendations",
        words_match!($words, "rm_recommendations"),
        ") AS r UNION ALL SELECT * FROM (SELECT 'agreement', id, CAST(NULL AS BIGINT), \
         position, consultation_id, CAST(NULL AS UUID), kind, status, region, \
         CAST(NULL AS TEXT), CAST(NULL AS TEXT), CAST(NULL AS BIGINT), CAST(NULL AS TEXT), \
         title, CAST(NULL AS TEXT), search, doc FROM rm_agreements",
        words_match!($words, "rm_agreements"),
        ") AS g UNION ALL SELECT * FROM (SELECT 'action', id, version, position, \
         consultation_id, owner_id, CAST(NULL AS TEXT), status, region, CAST(NULL AS TEXT), \
         CAST(NULL AS TEXT), progress, due_date, title, CAST(NULL AS TEXT), search, doc \
         FROM rm_actions",
        words_match!($words, "rm_actions"),
        ") AS a UNION ALL SELECT * FROM (SELECT 'organisation', id, version, position, \
         CAST(NULL AS UUID), CAST(NULL AS UUID), kind, CAST(NULL AS TEXT), region, \
         CAST(NULL AS TEXT), CAST(NULL AS TEXT), CAST(NULL AS BIGINT), CAST(NULL AS TEXT), \
         name, acronym, search, doc FROM rm_organisations",
        words_match!($words, "rm_organisations"),
        ") AS o UNION ALL SELECT * FROM (SELECT 'person', id, version, position, \
         CAST(NULL AS UUID), CAST(NULL AS UUID), CAST(NULL AS TEXT), CAST(NULL AS TEXT), \
         CAST(NULL AS TEXT), CAST(NULL AS TEXT), CAST(NULL AS TEXT), CAST(NULL AS BIGINT), \
         CAST(NULL AS TEXT), name, CAST(NULL AS TEXT), search, doc FROM rm_people",
        words_match!($words, "rm_people"),
        ") AS p"
            )
        };
    }
    const SQL: [&str; 3] = [statement!(plain), statement!(fts), statement!(tsv)];
    let terms = query_terms(query);
    if terms.is_empty() || limit == 0 {
        return Ok(Vec::new());
    }
    // The longest terms select the rows; every term is checked on them by `score`.
    let selecting = &terms[..terms.len().min(SQL_TERMS)];
    let words = match pool {
        Pool::Sqlite(_) => (words_query(selecting, WordIndex::Fts5), 1),
        Pool::Postgres(_) => (words_query(selecting, WordIndex::TsQuery), 2),
    };
    let rows = on_pool!(pool, p => sqlx::query_as::<_, SearchRow>(SQL[words.1])
        .bind(&words.0)
        .bind(SEARCH_CANDIDATES)
        .fetch_all(p)
        .await?);
    let mut ranked = Vec::new();
    for row in rows {
        let Some(points) = score(&row.folded_title()?, &row.search, &terms) else {
            continue;
        };
        ranked.push((points, row));
    }
    let kind_order = |hit: &str| match hit {
        "consultation" => 0,
        "recommendation" => 1,
        "agreement" => 2,
        "action" => 3,
        "organisation" => 4,
        _ => 5,
    };
    ranked.sort_by(|(a_points, a), (b_points, b)| {
        (b_points, b.position, kind_order(&a.hit), a.id.0).cmp(&(
            a_points,
            a.position,
            kind_order(&b.hit),
            b.id.0,
        ))
    });
    ranked.truncate(limit);
    ranked
        .into_iter()
        .map(|(points, row)| {
            Ok(RankedHit {
                score: points,
                position: row.position,
                id: row.id.0,
                title: row.title.clone(),
                record: row.record()?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_amounts_are_exact_beyond_i64_minor_units() {
        // 120 agreements of 999,999,999,999,999.99 MAD: 1.2 * 10^19 centimes, past i64::MAX.
        let each: i64 = 99_999_999_999_999_999;
        let (billions, rest) = (120 * (each / 1_000_000_000), 120 * (each % 1_000_000_000));
        let amount = budget_amount("MAD", billions, rest).map(|a| a.to_string());
        assert_eq!(amount.ok().as_deref(), Some("119999999999999998.8"));
        let yen = budget_amount("JPY", 3, 5).map(|a| a.to_string());
        assert_eq!(yen.ok().as_deref(), Some("3000000005"));
        let dinars = budget_amount("TND", 0, 1_230).map(|a| a.to_string());
        assert_eq!(dinars.ok().as_deref(), Some("1.23"));
    }

    #[test]
    fn budget_amounts_of_any_partial_sums_fit_a_decimal() {
        // The largest partial sums a BIGINT can hold still make an exact Decimal.
        let amount = budget_amount("MAD", i64::MAX, i64::MAX).map(|a| a.to_string());
        assert_eq!(
            amount.ok().as_deref(),
            Some("92233720460781478438547758.07")
        );
    }
}
