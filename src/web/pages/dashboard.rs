//! The dashboard (home): for the signed-in person's regions by default, any region on request.
//! Consultations by month, recommendations by status and theme, follow-ups overdue and due
//! within [`DUE_SOON_DAYS`](crate::projections::queries::DUE_SOON_DAYS) days, progress, and
//! committed budget by programme: the read models' dashboard queries, the very ones GraphQL's
//! `dashboard` answers with.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::Extension;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::projections::lists::ActionRecord;
use crate::projections::queries::{self, Count, DashboardFilter, Progress};
use crate::web::charts::{Bar, BarChart};
use crate::web::i18n::Tr;
use crate::web::{html, respond, Nav, PageContext, Viewer, WebError, WebResult, WebState};

/// The dashboard's filters, as the query string gives them (empty values are no filter).
#[derive(Debug, Default, Deserialize)]
pub struct Params {
    /// A region code; `all` for every region.
    pub region: Option<String>,
    /// First day of the period.
    pub from: Option<String>,
    /// Last day of the period.
    pub to: Option<String>,
    /// A theme.
    pub theme: Option<String>,
}

/// One row of a count table.
pub struct Row {
    /// What is counted.
    pub label: String,
    /// How many, formatted.
    pub shown: String,
}

/// A chart and its numbers.
pub struct Chart {
    /// The catalogue title.
    pub title: String,
    /// The drawing.
    pub svg: BarChart,
    /// The numbers.
    pub rows: Vec<Row>,
}

/// A due follow-up action as listed.
pub struct DueRow {
    /// Its id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its due day, formatted.
    pub due: String,
    /// Its progress, 0-100.
    pub progress: i64,
    /// Its region's name.
    pub region: String,
}

#[derive(Template)]
#[template(path = "dashboard.html", config = "src/web/askama.toml")]
struct DashboardPage {
    p: PageContext,
    region: String,
    from: String,
    to: String,
    theme: String,
    regions: Vec<(String, String)>,
    charts: Vec<Chart>,
    progress: Progress,
    overdue: Vec<DueRow>,
    due_soon: Vec<DueRow>,
    budgets: Vec<Row>,
    budget_chart: BarChart,
}

fn chart(tr: &Tr, title: &str, counts: &[Count], label: impl Fn(&str) -> String) -> Chart {
    let bars: Vec<Bar> = counts
        .iter()
        .map(|c| Bar {
            label: c
                .key
                .as_deref()
                .map_or_else(|| tr.t("value-unknown"), &label),
            value: c.count,
            shown: tr.int(c.count),
        })
        .collect();
    Chart {
        title: tr.t(title),
        rows: bars
            .iter()
            .map(|b| Row {
                label: b.label.clone(),
                shown: b.shown.clone(),
            })
            .collect(),
        svg: BarChart {
            bars,
            rtl: tr.lang.dir() == "rtl",
        },
    }
}

fn due_rows(tr: &Tr, actions: &[ActionRecord]) -> Vec<DueRow> {
    actions
        .iter()
        .map(|a| DueRow {
            id: a.id.0.to_string(),
            title: a.title.clone(),
            due: a
                .due_date
                .as_deref()
                .map_or_else(String::new, |d| tr.iso_date(d)),
            progress: a.progress.clamp(0, 100),
            region: a
                .region
                .as_deref()
                .map_or_else(String::new, |r| tr.region(r)),
        })
        .collect()
}

fn optional(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// `GET /`: the dashboard.
pub async fn page(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    Query(params): Query<Params>,
) -> Response {
    let result = render(&state, &viewer, params).await;
    respond(&viewer, result)
}

async fn render(state: &WebState, viewer: &Viewer, params: Params) -> WebResult {
    let user = viewer.user()?;
    let tr = viewer.tr;
    // The person's own region by default; `all` (or any region) when asked.
    let region = match optional(params.region) {
        Some(all) if all == "all" => None,
        Some(code) => Some(code),
        None => user.regions.first().cloned(),
    };
    let day = |v: Option<String>| -> Result<Option<NaiveDate>, WebError> {
        optional(v)
            .map(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").map_err(|_| WebError::BadRequest))
            .transpose()
    };
    let filter = DashboardFilter {
        region: region.clone(),
        from: day(params.from.clone())?,
        to: day(params.to.clone())?,
        theme: optional(params.theme.clone()),
    };
    let today = chrono::Utc::now().date_naive();
    let pool = state.store.pool();
    // Three independent reads, on three of the pool's connections at once: the page waits for
    // the longest of them, not for their sum.
    let (counts, budgets, due) = tokio::try_join!(
        queries::dashboard_counts(pool, &filter, today),
        queries::dashboard_budgets(pool, &filter),
        queries::dashboard_due_actions(pool, &filter, today, 20),
    )?;
    let month = |key: &str| match key.split_once('-') {
        Some((year, month)) => match month.parse::<u32>() {
            Ok(m) => format!("{} {year}", tr.t(&format!("month-{m}"))),
            Err(_) => key.to_owned(),
        },
        None => key.to_owned(),
    };
    let charts = vec![
        chart(
            &tr,
            "dashboard-by-month",
            &counts.consultations_by_month,
            month,
        ),
        chart(
            &tr,
            "dashboard-recommendations-by-status",
            &counts.recommendations_by_status,
            |k| tr.value("recommendation-status", k),
        ),
        chart(
            &tr,
            "dashboard-recommendations-by-theme",
            &counts.recommendations_by_theme,
            |k| tr.value("theme", k),
        ),
        chart(
            &tr,
            "dashboard-actions-by-status",
            &counts.actions_by_status,
            |k| tr.value("action-status", k),
        ),
    ];
    let budget_rows: Vec<(String, Decimal, String)> = budgets
        .by_programme
        .iter()
        .map(|b| {
            let name = b
                .programme
                .as_ref()
                .map(|p| tr.text(p).value.into_owned())
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| tr.t("budget-no-programme"));
            (name, b.amount, tr.money(&b.amount, &b.currency))
        })
        .collect();
    let budget_chart = BarChart {
        bars: budget_rows
            .iter()
            .map(|(label, amount, shown)| Bar {
                label: label.clone(),
                // Drawn to the whole unit; the table shows every digit.
                value: i64::try_from(amount.trunc().mantissa()).unwrap_or(i64::MAX),
                shown: shown.clone(),
            })
            .collect(),
        rtl: tr.lang.dir() == "rtl",
    };
    let page = DashboardPage {
        p: viewer.page(tr.t("dashboard-title"), Nav::Dashboard),
        region: region.unwrap_or_else(|| "all".to_owned()),
        from: optional(params.from).unwrap_or_default(),
        to: optional(params.to).unwrap_or_default(),
        theme: optional(params.theme).unwrap_or_default(),
        regions: tr.regions(),
        charts,
        progress: counts.progress,
        overdue: due_rows(&tr, &due.overdue),
        due_soon: due_rows(&tr, &due.due_soon),
        budgets: budget_rows
            .into_iter()
            .map(|(label, _, shown)| Row { label, shown })
            .collect(),
        budget_chart,
    };
    html(&page)
}
