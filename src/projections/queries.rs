//! Reads over the read models: search and the dashboard's figures.
//!
//! Text ordering is done here, not in SQL, because the two backends collate text differently;
//! the database only filters and counts.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use uuid::Uuid;

use super::search::{like_escape, matches_all, query_terms};
use crate::domain::common::minor_digits;
use crate::store::{on_pool, DbUuid, Pool, StoreError};

type Result<T> = std::result::Result<T, StoreError>;

/// One search result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SearchHit {
    /// `consultation`, `recommendation`, `agreement`, `organisation`, `person` or `action`.
    pub kind: &'static str,
    /// The entity's id.
    pub id: Uuid,
    /// The consultation it belongs to, for recommendations, agreements and actions.
    pub consultation_id: Option<Uuid>,
    /// Its title, text or name as shown.
    pub title: String,
}

/// Searches titles, recommendation texts, agreements, names and actions. Every word of the query
/// must occur (after folding: Arabic hamza, taa marbuta, alef maqsura, tashkeel and tatweel; Latin
/// case and accents).
pub async fn search(pool: &Pool, query: &str) -> Result<Vec<SearchHit>> {
    let terms = query_terms(query);
    let Some(longest) = terms.first() else {
        return Ok(Vec::new());
    };
    let pattern = format!("%{}%", like_escape(longest));
    const SOURCES: [(&str, &str); 6] = [
        (
            "consultation",
            "SELECT id, NULL, title, search FROM rm_consultations WHERE search LIKE $1 ESCAPE '\\'",
        ),
        (
            "recommendation",
            "SELECT id, consultation_id, text, search FROM rm_recommendations \
             WHERE search LIKE $1 ESCAPE '\\'",
        ),
        (
            "agreement",
            "SELECT id, consultation_id, title, search FROM rm_agreements \
             WHERE search LIKE $1 ESCAPE '\\'",
        ),
        (
            "organisation",
            "SELECT id, NULL, name, search FROM rm_organisations WHERE search LIKE $1 ESCAPE '\\'",
        ),
        (
            "person",
            "SELECT id, NULL, name, search FROM rm_people WHERE search LIKE $1 ESCAPE '\\'",
        ),
        (
            "action",
            "SELECT id, consultation_id, title, search FROM rm_actions \
             WHERE search LIKE $1 ESCAPE '\\'",
        ),
    ];
    let mut hits = Vec::new();
    for (kind, sql) in SOURCES {
        let rows = on_pool!(pool, p => sqlx::query_as::<_, (DbUuid, Option<DbUuid>, String, String)>(sql)
            .bind(&pattern)
            .fetch_all(p)
            .await?);
        hits.extend(
            rows.into_iter()
                .filter(|(_, _, _, search)| matches_all(search, &terms))
                .map(|(id, consultation, title, _)| SearchHit {
                    kind,
                    id: id.0,
                    consultation_id: consultation.map(|c| c.0),
                    title,
                }),
        );
    }
    hits.sort_by(|a, b| (a.kind, &a.title, a.id).cmp(&(b.kind, &b.title, b.id)));
    Ok(hits)
}

/// A count per key, sorted by key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Count {
    /// What was counted (a status, a region code, a theme, a month `YYYY-MM`).
    pub key: String,
    /// How many.
    pub count: i64,
}

/// An action past its due date and not finished.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OverdueAction {
    /// The action.
    pub id: Uuid,
    /// Its consultation.
    pub consultation_id: Uuid,
    /// Its title.
    pub title: String,
    /// The latest day it was due.
    pub due_date: String,
    /// Its status.
    pub status: String,
    /// Its progress, 0-100.
    pub progress: i64,
}

/// Budget committed (signed agreements) for one region, programme and currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Budget {
    /// Region code of the consultation, when known.
    pub region: Option<String>,
    /// Programme named by the agreement, when any.
    pub programme: Option<String>,
    /// ISO 4217 currency.
    pub currency: String,
    /// Exact total.
    pub amount: Decimal,
    /// How many agreements.
    pub agreements: i64,
}

/// The follow-up actions' progress in one figure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Progress {
    /// Actions in all.
    pub actions: i64,
    /// Actions done.
    pub done: i64,
    /// Mean progress of all actions, 0-100 (0 when there is none).
    pub average: i64,
}

/// Everything the dashboard shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dashboard {
    /// Consultations by status.
    pub consultations_by_status: Vec<Count>,
    /// Consultations by region code (`unknown` when none).
    pub consultations_by_region: Vec<Count>,
    /// Consultations by month of their start (`unknown` when the month is not known).
    pub consultations_by_month: Vec<Count>,
    /// Recommendations by status.
    pub recommendations_by_status: Vec<Count>,
    /// Recommendations by theme.
    pub recommendations_by_theme: Vec<Count>,
    /// Actions by status.
    pub actions_by_status: Vec<Count>,
    /// Actions overdue on `today`.
    pub overdue_actions: Vec<OverdueAction>,
    /// Committed budget by region and programme.
    pub budget: Vec<Budget>,
    /// Progress of the follow-up.
    pub progress: Progress,
}

async fn counts(pool: &Pool, sql: &'static str) -> Result<Vec<Count>> {
    let rows =
        on_pool!(pool, p => sqlx::query_as::<_, (Option<String>, i64)>(sql).fetch_all(p).await?);
    let mut counts: Vec<Count> = rows
        .into_iter()
        .map(|(key, count)| Count {
            key: key.unwrap_or_else(|| "unknown".to_owned()),
            count,
        })
        .collect();
    counts.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(counts)
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

/// The dashboard's figures on `today` (for overdue actions).
pub async fn dashboard(pool: &Pool, today: NaiveDate) -> Result<Dashboard> {
    let consultations_by_status = counts(
        pool,
        "SELECT status, COUNT(*) FROM rm_consultations GROUP BY status",
    )
    .await?;
    let consultations_by_region = counts(
        pool,
        "SELECT region, COUNT(*) FROM rm_consultations GROUP BY region",
    )
    .await?;
    let consultations_by_month = counts(
        pool,
        "SELECT month, COUNT(*) FROM rm_consultations GROUP BY month",
    )
    .await?;
    let recommendations_by_status = counts(
        pool,
        "SELECT status, COUNT(*) FROM rm_recommendations GROUP BY status",
    )
    .await?;
    let recommendations_by_theme =
        counts(pool, "SELECT theme, COUNT(*) FROM rm_themes GROUP BY theme").await?;
    let actions_by_status = counts(
        pool,
        "SELECT status, COUNT(*) FROM rm_actions GROUP BY status",
    )
    .await?;

    const OVERDUE: &str = "SELECT id, consultation_id, title, due_date, status, progress \
        FROM rm_actions WHERE due_date < $1 AND status NOT IN ('done', 'cancelled')";
    let today = super::rows::day(today);
    let rows = on_pool!(pool, p => sqlx::query_as::<_, (DbUuid, DbUuid, String, String, String, i64)>(OVERDUE)
        .bind(&today)
        .fetch_all(p)
        .await?);
    let mut overdue_actions: Vec<OverdueAction> = rows
        .into_iter()
        .map(
            |(id, consultation_id, title, due_date, status, progress)| OverdueAction {
                id: id.0,
                consultation_id: consultation_id.0,
                title,
                due_date,
                status,
                progress,
            },
        )
        .collect();
    overdue_actions.sort_by(|a, b| (&a.due_date, a.id).cmp(&(&b.due_date, b.id)));

    // Each agreement's minor units are summed in two parts (billions of minor units, and the
    // rest), so that neither SUM can overflow a BIGINT on either backend (SQLite's SUM fails on
    // overflow) however many agreements there are; the parts are combined here in i128.
    const BUDGET: &str = "SELECT region, programme, currency, \
        CAST(SUM(amount_minor / 1000000000) AS BIGINT), \
        CAST(SUM(amount_minor % 1000000000) AS BIGINT), COUNT(*) \
        FROM rm_agreements WHERE status = 'signed' AND amount_minor IS NOT NULL \
        GROUP BY region, programme, currency";
    let rows = on_pool!(pool, p => sqlx::query_as::<_, (Option<String>, Option<String>, String, i64, i64, i64)>(BUDGET)
        .fetch_all(p)
        .await?);
    let mut budget: Vec<Budget> = rows
        .into_iter()
        .map(
            |(region, programme, currency, billions, rest, agreements)| {
                let amount = budget_amount(&currency, billions, rest)?;
                Ok(Budget {
                    region,
                    programme,
                    currency,
                    amount,
                    agreements,
                })
            },
        )
        .collect::<Result<_>>()?;
    budget.sort_by(|a, b| {
        (&a.region, &a.programme, &a.currency).cmp(&(&b.region, &b.programme, &b.currency))
    });

    const PROGRESS: &str = "SELECT COUNT(*), CAST(COALESCE(SUM(progress), 0) AS BIGINT), \
        CAST(COALESCE(SUM(CASE WHEN status = 'done' THEN 1 ELSE 0 END), 0) AS BIGINT) \
        FROM rm_actions";
    let (actions, total, done) =
        on_pool!(pool, p => sqlx::query_as::<_, (i64, i64, i64)>(PROGRESS).fetch_one(p).await?);
    Ok(Dashboard {
        consultations_by_status,
        consultations_by_region,
        consultations_by_month,
        recommendations_by_status,
        recommendations_by_theme,
        actions_by_status,
        overdue_actions,
        budget,
        progress: Progress {
            actions,
            done,
            average: total.checked_div(actions).unwrap_or(0),
        },
    })
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
