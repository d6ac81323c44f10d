//! The dashboard and search part of the query root: a typed `Dashboard` whose groups a client
//! selects (each family of figures is read with one statement, and only when selected), and a
//! ranked `search`.
//!
//! The figures are the read models' ([`crate::projections::queries`]); this module adds the
//! labels to show them with, in Arabic, French or English.

use async_graphql::resolver_utils::EnumType;
use async_graphql::{Context, Enum, Object, Result};
use chrono::{NaiveDate, Utc};
use tokio::sync::OnceCell;

use super::access;
use super::as_of::reads;
use super::enums::{ActionStatus, ConsultationStatus, RecommendationStatus};
use super::query::{AGGREGATE_COST, MAX_SEARCH_TEXT};
use super::scalars::{Date, Decimal, Money};
use super::search::{SearchHit, MAX_SEARCH_RESULTS};
use super::types::{int, Action};
use crate::domain::Region;
use crate::error::{ApiError, Code};
use crate::projections::queries::{
    self, Budgets, DashboardCounts, DashboardFilter, DueActions, Models, MAX_DUE_ACTIONS,
};
use crate::store::Pool;

/// The dashboard and search.
#[derive(Default)]
pub struct DashboardQuery;

#[Object(name = "DashboardQuery")]
impl DashboardQuery {
    /// The dashboard's figures for the consultations matching the filters (all of them without
    /// any): counts by status, region, month and theme, overdue and due-soon actions, committed
    /// budget by region and programme, progress. Every group counts what belongs to the same
    /// consultations: their recommendations, agreements and follow-up actions. Each family of
    /// figures (counts and progress, budgets, due actions) is one statement, read only when
    /// one of its fields is selected.
    #[graphql(complexity = "AGGREGATE_COST + child_complexity")]
    async fn dashboard(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The day overdue and due-soon actions are judged on (the server's date when omitted)."
        )]
        today: Option<Date>,
        #[graphql(desc = "Only consultations of this region (code, e.g. `MA-03`).")] region: Option<
            String,
        >,
        #[graphql(
            desc = "Only consultations whose start can be on or after this day, compared at the precision the start is known to (a start known as November 2025 can be on or after 3 November 2025); a start without a known year is in no bounded period. The rule of `consultations(filter: {from})`."
        )]
        from: Option<Date>,
        #[graphql(
            desc = "Only consultations whose start can be on or before this day (same rule as `from`)."
        )]
        to: Option<Date>,
        #[graphql(
            desc = "Only consultations with a recommendation of this theme (e.g. `export`); recommendations are then those of the theme and actions those following one up."
        )]
        theme: Option<String>,
    ) -> Result<Dashboard> {
        access(ctx).read_models()?;
        let store = reads(ctx)?;
        if let Some(code) = &region {
            Region::by_code("region", code).map_err(ApiError::from)?;
        }
        if let (Some(from), Some(to)) = (from, to) {
            if from > to {
                return Err(ApiError::validation(
                    "to",
                    "BEFORE_FROM",
                    "to must be on or after from",
                )
                .into());
            }
        }
        Ok(Dashboard {
            pool: store.pool().clone(),
            history: store.as_of().is_some(),
            filter: DashboardFilter {
                region,
                from: from.map(|d| d.0),
                to: to.map(|d| d.0),
                theme,
            },
            today: today.map_or_else(
                || super::as_of::today().unwrap_or_else(|| Utc::now().date_naive()),
                |d| d.0,
            ),
            counts: OnceCell::new(),
            budgets: OnceCell::new(),
            due: OnceCell::new(),
        })
    }

    /// Consultations, recommendations, agreements, actions, organisations and people whose text
    /// has a word beginning with every word of `text` ("fes" finds "Fès" and "Fès-Meknès", not
    /// "professional"), Arabic-aware (hamza forms, taa marbuta, alef maqsura, tashkeel; the
    /// article and joined prepositions: "فاس" finds "بفاس") and Latin case- and accent-blind.
    /// Ranked: an exact word over a prefix, the title over the rest of the text, then the most
    /// recently changed.
    #[graphql(
        complexity = "AGGREGATE_COST + first.clamp(0, MAX_SEARCH_RESULTS as i32) as usize * child_complexity"
    )]
    async fn search(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The words to find, at most 200 characters.")] text: String,
        #[graphql(default = 20, desc = "How many hits at most, 1 to 50.")] first: i32,
    ) -> Result<Vec<SearchHit>> {
        access(ctx).read_models()?;
        if text.chars().count() > MAX_SEARCH_TEXT {
            return Err(ApiError::validation(
                "text",
                "TOO_LONG",
                format!("search text must be at most {MAX_SEARCH_TEXT} characters"),
            )
            .into());
        }
        let limit = usize::try_from(first)
            .ok()
            .filter(|n| (1..=MAX_SEARCH_RESULTS).contains(n))
            .ok_or_else(|| {
                ApiError::new(
                    Code::LimitExceeded,
                    format!("first must be between 1 and {MAX_SEARCH_RESULTS}"),
                )
            })?;
        let store = reads(ctx)?;
        let hits = queries::search(store.pool(), &text, limit)
            .await
            .map_err(ApiError::from)?;
        hits.into_iter().map(SearchHit::from_ranked).collect()
    }
}

/// A language to label figures in.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Language {
    /// Arabic.
    #[default]
    Ar,
    /// French.
    Fr,
    /// English.
    En,
}

/// A label in Arabic, French and English.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Label([String; 3]);

impl Label {
    fn new(ar: &str, fr: &str, en: &str) -> Self {
        Label([ar.to_owned(), fr.to_owned(), en.to_owned()])
    }

    /// The same text in every language (a theme slug, a programme's name as recorded).
    fn same(text: &str) -> Self {
        Label::new(text, text, text)
    }

    /// A text in the languages it has, the others as `shown`.
    fn of_text(text: &crate::domain::Text, shown: &str) -> Self {
        let or_shown = |t: &Option<String>| t.clone().unwrap_or_else(|| shown.to_owned());
        Label([or_shown(&text.ar), or_shown(&text.fr), or_shown(&text.en)])
    }

    fn get(&self, language: Language) -> &str {
        let [ar, fr, en] = &self.0;
        match language {
            Language::Ar => ar,
            Language::Fr => fr,
            Language::En => en,
        }
    }
}

/// Labels of the values of a fixed set; the match in each impl names every value, so a new
/// value cannot go without its labels.
trait Labelled: EnumType {
    /// Arabic, French and English.
    fn labels(self) -> [&'static str; 3];
}

impl Labelled for ConsultationStatus {
    fn labels(self) -> [&'static str; 3] {
        match self {
            ConsultationStatus::Planned => ["مبرمج", "prévue", "planned"],
            ConsultationStatus::Held => ["منعقد", "tenue", "held"],
            ConsultationStatus::Closed => ["مختتم", "clôturée", "closed"],
            ConsultationStatus::Cancelled => ["ملغى", "annulée", "cancelled"],
        }
    }
}

impl Labelled for RecommendationStatus {
    fn labels(self) -> [&'static str; 3] {
        match self {
            RecommendationStatus::Proposed => ["مقترحة", "proposée", "proposed"],
            RecommendationStatus::Accepted => ["مقبولة", "acceptée", "accepted"],
            RecommendationStatus::Rejected => ["مرفوضة", "rejetée", "rejected"],
            RecommendationStatus::Merged => ["مدمجة", "fusionnée", "merged"],
        }
    }
}

impl Labelled for ActionStatus {
    fn labels(self) -> [&'static str; 3] {
        match self {
            ActionStatus::NotStarted => ["لم يبدأ", "non démarrée", "not started"],
            ActionStatus::InProgress => ["قيد الإنجاز", "en cours", "in progress"],
            ActionStatus::Done => ["منجز", "réalisée", "done"],
            ActionStatus::Blocked => ["متعثر", "bloquée", "blocked"],
            ActionStatus::Cancelled => ["ملغى", "annulée", "cancelled"],
        }
    }
}

/// Month names as used in Morocco: Arabic (يناير ... دجنبر), French, English.
const MONTHS: [[&str; 3]; 12] = [
    ["يناير", "janvier", "January"],
    ["فبراير", "février", "February"],
    ["مارس", "mars", "March"],
    ["أبريل", "avril", "April"],
    ["ماي", "mai", "May"],
    ["يونيو", "juin", "June"],
    ["يوليوز", "juillet", "July"],
    ["غشت", "août", "August"],
    ["شتنبر", "septembre", "September"],
    ["أكتوبر", "octobre", "October"],
    ["نونبر", "novembre", "November"],
    ["دجنبر", "décembre", "December"],
];

/// What a group's keys are, for their labels.
#[derive(Debug, Clone, Copy)]
enum KeyKind {
    ConsultationStatus,
    RecommendationStatus,
    ActionStatus,
    Region,
    /// The region an agreement's budget counts in: none for a national agreement.
    BudgetRegion,
    Month,
    Theme,
    Programme,
}

impl KeyKind {
    /// The label of a null key.
    fn unknown(self) -> Label {
        match self {
            KeyKind::Region => {
                Label::new("جهة غير محددة", "région non précisée", "region not known")
            }
            KeyKind::BudgetRegion => Label::new(
                "على الصعيد الوطني",
                "national (aucune région)",
                "national (no region)",
            ),
            KeyKind::Month => Label::new("تاريخ غير محدد", "date non précisée", "date not known"),
            KeyKind::Programme => Label::new("خارج البرامج", "hors programme", "no programme"),
            _ => Label::new("غير محدد", "non précisé", "not known"),
        }
    }
}

/// The API's name of a status stored as its serde tag (`not_started` is `NOT_STARTED`), and its
/// labels; a tag the enum does not know is shown as stored.
fn status<E: Labelled>(tag: &str) -> (String, Label) {
    match E::items()
        .iter()
        .find(|item| item.name.eq_ignore_ascii_case(tag))
    {
        Some(item) => {
            let [ar, fr, en] = item.value.labels();
            (item.name.to_owned(), Label::new(ar, fr, en))
        }
        None => (tag.to_owned(), Label::same(tag)),
    }
}

/// "نونبر 2025", "novembre 2025", "November 2025" for `2025-11`.
fn month_label(key: &str) -> Option<Label> {
    let (year, month) = key.split_once('-')?;
    let index = month.parse::<usize>().ok()?.checked_sub(1)?;
    let [ar, fr, en] = MONTHS.get(index)?;
    Some(Label::new(
        &format!("{ar} {year}"),
        &format!("{fr} {year}"),
        &format!("{en} {year}"),
    ))
}

/// The key as the API's filters take it, and its label.
fn keyed(kind: KeyKind, key: Option<String>) -> (Option<String>, Label) {
    let Some(key) = key else {
        return (None, kind.unknown());
    };
    let (key, label) = match kind {
        KeyKind::ConsultationStatus => status::<ConsultationStatus>(&key),
        KeyKind::RecommendationStatus => status::<RecommendationStatus>(&key),
        KeyKind::ActionStatus => status::<ActionStatus>(&key),
        KeyKind::Region | KeyKind::BudgetRegion => {
            let label = Region::find(&key).map_or_else(
                || Label::same(&key),
                |r| Label::new(r.name_ar, r.name_fr, r.name_en),
            );
            (key, label)
        }
        KeyKind::Month => {
            let label = month_label(&key).unwrap_or_else(|| Label::same(&key));
            (key, label)
        }
        KeyKind::Theme | KeyKind::Programme => {
            let label = Label::same(&key);
            (key, label)
        }
    };
    (Some(key), label)
}

/// How many of something there are under one key, with a label to show it by.
pub struct Count {
    key: Option<String>,
    label: Label,
    count: i64,
}

impl Count {
    fn all(kind: KeyKind, counts: &[queries::Count]) -> Vec<Count> {
        counts
            .iter()
            .map(|c| {
                let (key, label) = keyed(kind, c.key.clone());
                Count {
                    key,
                    label,
                    count: c.count,
                }
            })
            .collect()
    }
}

/// How many of something there are under one key, with a label to show it by.
#[Object]
impl Count {
    /// What was counted, as the API's filters take it: a status (`CLOSED`), a region code
    /// (`MA-03`), a month (`2025-11`), a theme (`export`). Null when it is not known (no
    /// region, a start whose month is not known); such a group comes last.
    async fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    /// The key as a reader would say it: the region's name, the status's word, the month's
    /// name and year; a theme as recorded; "not known" (غير محدد, non précisé) for a null key.
    async fn label(
        &self,
        #[graphql(default, desc = "The label's language (Arabic by default).")] language: Language,
    ) -> &str {
        self.label.get(language)
    }

    /// How many.
    async fn count(&self) -> Result<i32> {
        int(self.count)
    }
}

/// Budget committed by signed agreements under one key (a region, a programme), in one
/// currency.
pub struct BudgetTotal {
    key: Option<String>,
    label: Label,
    total: Money,
    agreements: i64,
}

impl BudgetTotal {
    fn all(kind: KeyKind, budgets: &[queries::Budget]) -> Vec<BudgetTotal> {
        budgets
            .iter()
            .map(|b| {
                let (key, mut label) = keyed(kind, b.key.clone());
                if let (Some(programme), Some(shown)) = (&b.programme, &key) {
                    label = Label::of_text(programme, shown);
                }
                BudgetTotal {
                    key,
                    label,
                    total: Money {
                        amount: Decimal(b.amount),
                        currency: b.currency.clone(),
                    },
                    agreements: b.agreements,
                }
            })
            .collect()
    }
}

/// Budget committed by signed agreements under one key (a region, a programme), in one
/// currency.
#[Object]
impl BudgetTotal {
    /// The region code (`MA-04`) or the programme as recorded (Arabic first); null for
    /// agreements of a consultation without a region, or without a programme.
    async fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    /// The region's name, the programme's name in that language (as shown when it was not
    /// recorded in it); "no programme" (خارج البرامج, hors programme) or "region not known" for
    /// a null key.
    async fn label(
        &self,
        #[graphql(default, desc = "The label's language (Arabic by default).")] language: Language,
    ) -> &str {
        self.label.get(language)
    }

    /// The exact total (one entry per currency).
    async fn total(&self) -> &Money {
        &self.total
    }

    /// How many signed agreements it sums.
    async fn agreements(&self) -> Result<i32> {
        int(self.agreements)
    }
}

/// The follow-up actions' progress.
pub struct Progress(queries::Progress);

/// The follow-up actions' progress.
#[Object]
impl Progress {
    /// Actions in all.
    async fn actions(&self) -> Result<i32> {
        int(self.0.actions)
    }

    /// Actions done.
    async fn done(&self) -> Result<i32> {
        int(self.0.done)
    }

    /// Mean progress of all actions, 0 to 100, rounded down (0 when there is none).
    async fn average(&self) -> Result<i32> {
        int(self.0.average)
    }

    /// Unfinished actions certainly due before the dashboard's day (all of them, where
    /// `overdueActions` lists the first ones).
    async fn overdue(&self) -> Result<i32> {
        int(self.0.overdue)
    }

    /// Unfinished actions due within 30 days of the dashboard's day, that day included, at the
    /// latest.
    async fn due_soon(&self) -> Result<i32> {
        int(self.0.due_soon)
    }
}

/// The dashboard's figures, for the consultations its arguments select.
pub struct Dashboard {
    pool: Pool,
    /// Whether `pool` shows an `asOf` history (see [`Models`]).
    history: bool,
    filter: DashboardFilter,
    today: NaiveDate,
    counts: OnceCell<DashboardCounts>,
    budgets: OnceCell<Budgets>,
    due: OnceCell<DueActions>,
}

impl Dashboard {
    /// What the dashboard's reads read.
    fn models(&self) -> Models<'_> {
        Models {
            pool: &self.pool,
            history: self.history,
        }
    }

    async fn counts(&self) -> Result<&DashboardCounts> {
        Ok(self
            .counts
            .get_or_try_init(|| queries::dashboard_counts(self.models(), &self.filter, self.today))
            .await
            .map_err(ApiError::from)?)
    }

    async fn budgets(&self) -> Result<&Budgets> {
        Ok(self
            .budgets
            .get_or_try_init(|| queries::dashboard_budgets(self.models(), &self.filter))
            .await
            .map_err(ApiError::from)?)
    }

    async fn due(&self) -> Result<&DueActions> {
        Ok(self
            .due
            .get_or_try_init(|| {
                queries::dashboard_due_actions(
                    self.models(),
                    &self.filter,
                    self.today,
                    MAX_DUE_ACTIONS,
                )
            })
            .await
            .map_err(ApiError::from)?)
    }
}

/// The first `first` actions of a list, as `Action` nodes.
fn actions(records: &[crate::projections::lists::ActionRecord], first: i32) -> Result<Vec<Action>> {
    let first = usize::try_from(first)
        .ok()
        .filter(|n| (1..=MAX_DUE_ACTIONS as usize).contains(n))
        .ok_or_else(|| {
            ApiError::new(
                Code::LimitExceeded,
                format!("first must be between 1 and {MAX_DUE_ACTIONS}"),
            )
        })?;
    records
        .iter()
        .take(first)
        .map(Action::from_record)
        .collect()
}

/// The dashboard's figures, for the consultations its arguments select.
#[Object]
impl Dashboard {
    /// The day overdue and due-soon actions are judged on.
    async fn today(&self) -> Date {
        Date(self.today)
    }

    /// Consultations by status.
    async fn consultations_by_status(&self) -> Result<Vec<Count>> {
        Ok(Count::all(
            KeyKind::ConsultationStatus,
            &self.counts().await?.consultations_by_status,
        ))
    }

    /// Consultations by region (unknown last).
    async fn consultations_by_region(&self) -> Result<Vec<Count>> {
        Ok(Count::all(
            KeyKind::Region,
            &self.counts().await?.consultations_by_region,
        ))
    }

    /// Consultations by the month of their start, oldest first (starts whose month is not
    /// known last).
    async fn consultations_by_month(&self) -> Result<Vec<Count>> {
        Ok(Count::all(
            KeyKind::Month,
            &self.counts().await?.consultations_by_month,
        ))
    }

    /// Recommendations by status.
    async fn recommendations_by_status(&self) -> Result<Vec<Count>> {
        Ok(Count::all(
            KeyKind::RecommendationStatus,
            &self.counts().await?.recommendations_by_status,
        ))
    }

    /// Recommendations by theme (one with two themes counts under each).
    async fn recommendations_by_theme(&self) -> Result<Vec<Count>> {
        Ok(Count::all(
            KeyKind::Theme,
            &self.counts().await?.recommendations_by_theme,
        ))
    }

    /// Follow-up actions by status.
    async fn actions_by_status(&self) -> Result<Vec<Count>> {
        Ok(Count::all(
            KeyKind::ActionStatus,
            &self.counts().await?.actions_by_status,
        ))
    }

    /// Unfinished actions certainly due before `today` (their latest possible due day has
    /// passed: one due "in March 2025" is overdue from 1 April 2025), the longest overdue
    /// first. `progress.overdue` counts them all.
    #[graphql(complexity = "first.clamp(0, MAX_DUE_ACTIONS as i32) as usize * child_complexity")]
    async fn overdue_actions(
        &self,
        #[graphql(default = 20, desc = "How many at most, 1 to 100.")] first: i32,
    ) -> Result<Vec<Action>> {
        actions(&self.due().await?.overdue, first)
    }

    /// Unfinished actions due within 30 days (from `today`, included), the soonest first: the
    /// latest day they can be due falls in that window. `progress.dueSoon` counts them all.
    #[graphql(complexity = "first.clamp(0, MAX_DUE_ACTIONS as i32) as usize * child_complexity")]
    async fn actions_due_soon(
        &self,
        #[graphql(default = 20, desc = "How many at most, 1 to 100.")] first: i32,
    ) -> Result<Vec<Action>> {
        actions(&self.due().await?.due_soon, first)
    }

    /// Budget committed by signed agreements, by the region of their scope (their consultation's
    /// when recorded without one) and currency; national agreements under the null key.
    async fn committed_budget_by_region(&self) -> Result<Vec<BudgetTotal>> {
        Ok(BudgetTotal::all(
            KeyKind::BudgetRegion,
            &self.budgets().await?.by_region,
        ))
    }

    /// Budget committed by signed agreements, by programme and currency.
    async fn committed_budget_by_programme(&self) -> Result<Vec<BudgetTotal>> {
        Ok(BudgetTotal::all(
            KeyKind::Programme,
            &self.budgets().await?.by_programme,
        ))
    }

    /// Progress of the follow-up actions.
    async fn progress(&self) -> Result<Progress> {
        Ok(Progress(self.counts().await?.progress.clone()))
    }
}
