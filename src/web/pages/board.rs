//! The follow-up pages: the board of a region's actions by status (`/board`), an action's page
//! with its facts, history and the follow-up officer's forms (`/actions/{id}`), and the
//! reminders of overdue and due-soon actions (`/reminders`, and [`reminder_count`] for the
//! navigation's badge).
//!
//! Reads are the read models' ([`lists::actions`], [`queries::dashboard_due_actions`]) and the
//! action's own stream (its history, folded for its state); every form is a command of
//! [`crate::domain::action`] run through [`run_as`], which checks the role and the region and
//! records the signed-in person. "Overdue" is the dashboard's notion: unfinished and its latest
//! possible due day (`due_date`) before today.

use std::collections::{HashMap, HashSet};

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use crate::auth::{run_as, WriteError};
use crate::commands::{consultation_state, fold_recorded, AnyCommand, CommandContext};
use crate::domain::action::{self, ActionStatus};
use crate::domain::{organisation, PartialDate, Text};
use crate::projections::lists::{self, ActionFilter, ActionRecord};
use crate::projections::queries::{self, DashboardFilter, MAX_DUE_ACTIONS};
use crate::store::{Pool, StoreError, StoredEvent};
use crate::web::forms::{self, Field, FieldError, FieldView, FormProblem, FormView, Kind};
use crate::web::i18n::{Lang, Shown, Tr};
use crate::web::{
    html, respond, see_other, session, Nav, PageContext, Viewer, WebError, WebResult, WebState,
};

/// The statuses, in the board's order of columns.
const STATUSES: [ActionStatus; 5] = [
    ActionStatus::NotStarted,
    ActionStatus::InProgress,
    ActionStatus::Blocked,
    ActionStatus::Done,
    ActionStatus::Cancelled,
];

/// The most actions one board shows (a region has far fewer; "all regions" may not).
const BOARD_LIMIT: i64 = 500;

/// This area's routes.
pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/board", get(board))
        .route("/reminders", get(reminders))
        .route("/actions/{id}", get(action_page))
        .route("/actions/{id}/{form}", post(action_submit))
}

/// A text of a record, owned, for a template.
fn shown(tr: &Tr, text: &Text) -> Shown<'static> {
    let s = tr.text(text);
    Shown {
        value: s.value.into_owned().into(),
        lang: s.lang,
        own: s.own,
    }
}

/// A plain string (a name stored as shown) as a text of the page's language.
fn plain(tr: &Tr, value: String) -> Shown<'static> {
    Shown {
        value: value.into(),
        lang: tr.lang.code(),
        own: true,
    }
}

/// Days an unfinished action is overdue on `today` (its latest possible due day has passed).
fn days_late(status: &str, due_date: Option<&str>, today: NaiveDate) -> Option<i64> {
    if matches!(status, "done" | "cancelled") {
        return None;
    }
    let due = NaiveDate::parse_from_str(due_date?, "%Y-%m-%d").ok()?;
    (due < today).then(|| today.signed_duration_since(due).num_days())
}

/// The names of organisations, in the page's language when they have one.
async fn organisation_names(
    pool: &Pool,
    tr: &Tr,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Shown<'static>>, StoreError> {
    let rows = lists::organisations_by_ids(pool, ids).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let name = serde_json::from_str::<organisation::Organisation>(&r.doc)
                .map(|o| shown(tr, &o.name))
                .unwrap_or_else(|_| plain(tr, r.title.clone()));
            (r.id.0, name)
        })
        .collect())
}

/// `region` of the query string: `all`, a code, or (left out) the person's first region.
fn chosen_region(asked: Option<String>, own: &[String]) -> Option<String> {
    match asked.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty()) {
        Some(all) if all == "all" => None,
        Some(code) => Some(code),
        None => own.first().cloned(),
    }
}

// ---------------------------------------------------------------------------------------------
// The board
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
struct BoardParams {
    region: Option<String>,
}

/// An action on the board or in the reminders.
struct Card {
    id: String,
    title: Shown<'static>,
    owner: Shown<'static>,
    /// The due date as known, or "no due date".
    due: String,
    /// "Overdue by N days", when it is.
    late: Option<String>,
    /// "Due in N days", for the reminders.
    due_in: Option<String>,
    region: String,
    progress: i64,
}

struct Column {
    status: &'static str,
    label: String,
    count: String,
    cards: Vec<Card>,
}

#[derive(Template)]
#[template(path = "board.html", config = "src/web/askama.toml")]
struct BoardPage {
    p: PageContext,
    region: String,
    regions: Vec<(String, String)>,
    columns: Vec<Column>,
    read_only: bool,
    truncated: Option<String>,
}

/// Cards of action rows, with their owners' names (one read).
async fn cards(
    pool: &Pool,
    tr: &Tr,
    rows: &[ActionRecord],
    today: NaiveDate,
) -> Result<Vec<Card>, StoreError> {
    let mut owners: Vec<Uuid> = rows.iter().map(|a| a.owner_id.0).collect();
    owners.sort();
    owners.dedup();
    let names = organisation_names(pool, tr, &owners).await?;
    Ok(rows
        .iter()
        .map(|a| {
            let parsed = serde_json::from_str::<action::Action>(&a.doc).ok();
            let due = match parsed.as_ref().and_then(|p| p.due.as_ref()) {
                Some(due) => tr.partial_date(due),
                None => tr.t("board-no-due"),
            };
            let late = days_late(&a.status, a.due_date.as_deref(), today);
            let due_in = a
                .due_date
                .as_deref()
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                .filter(|d| *d >= today)
                .map(|d| tr.count("board-due-in", d.signed_duration_since(today).num_days()));
            Card {
                id: a.id.0.to_string(),
                title: parsed
                    .as_ref()
                    .map_or_else(|| plain(tr, a.title.clone()), |p| shown(tr, &p.title)),
                owner: names
                    .get(&a.owner_id.0)
                    .cloned()
                    .unwrap_or_else(|| plain(tr, String::new())),
                due,
                late: late.map(|n| tr.count("board-days-late", n)),
                due_in,
                region: a
                    .region
                    .as_deref()
                    .map_or_else(String::new, |r| tr.region(r)),
                progress: a.progress.clamp(0, 100),
            }
        })
        .collect())
}

async fn board(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    Query(params): Query<BoardParams>,
) -> Response {
    let result = board_inner(&state, &viewer, params).await;
    respond(&viewer, result)
}

async fn board_inner(state: &WebState, viewer: &Viewer, params: BoardParams) -> WebResult {
    let user = viewer.user()?;
    let tr = viewer.tr;
    let region = chosen_region(params.region, &user.regions);
    let today = chrono::Utc::now().date_naive();
    let pool = state.store.pool();
    let filter = ActionFilter {
        region: region.clone(),
        ..ActionFilter::default()
    };
    let page = lists::actions(pool, &filter, BOARD_LIMIT, None, false).await?;
    let all = cards(pool, &tr, &page.rows, today).await?;
    // Within a column: the most overdue first, then by due day (none last), then by title.
    let mut keyed: Vec<(Option<String>, String, Card)> = page
        .rows
        .iter()
        .zip(all)
        .map(|(a, c)| (a.due_date.clone(), a.status.clone(), c))
        .collect();
    keyed.sort_by(|(a_due, _, a), (b_due, _, b)| {
        (a_due.is_none(), a_due, &a.title.value).cmp(&(b_due.is_none(), b_due, &b.title.value))
    });
    let mut columns: Vec<Column> = STATUSES
        .iter()
        .map(|s| Column {
            status: s.as_str(),
            label: tr.value("action-status", s.as_str()),
            count: String::new(),
            cards: Vec::new(),
        })
        .collect();
    for (_, status, card) in keyed {
        if let Some(column) = columns.iter_mut().find(|c| c.status == status) {
            column.cards.push(card);
        }
    }
    for column in &mut columns {
        let n = i64::try_from(column.cards.len()).unwrap_or(i64::MAX);
        column.count = tr.count("board-column-count", n);
    }
    let page = BoardPage {
        p: viewer.page(tr.t("board-title"), Nav::Board),
        read_only: region
            .as_deref()
            .is_some_and(|r| !viewer.may_write(Some(r))),
        region: region.unwrap_or_else(|| "all".to_owned()),
        regions: tr.regions(),
        columns,
        truncated: page
            .has_next
            .then(|| tr.count("board-truncated", BOARD_LIMIT)),
    };
    html(&page)
}

// ---------------------------------------------------------------------------------------------
// Reminders
// ---------------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "reminders.html", config = "src/web/askama.toml")]
struct RemindersPage {
    p: PageContext,
    overdue: Vec<Card>,
    due_soon: Vec<Card>,
}

/// The regions whose reminders a person gets: its own, or every region (`None`) for an admin
/// or anyone without a region.
fn reminder_scopes(user: &crate::accounts::UserPrincipal) -> Vec<Option<String>> {
    if user.role == crate::domain::token::Role::Admin || user.regions.is_empty() {
        vec![None]
    } else {
        user.regions.iter().cloned().map(Some).collect()
    }
}

async fn reminders(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
) -> Response {
    let result = async {
        let user = viewer.user()?;
        let tr = viewer.tr;
        let today = chrono::Utc::now().date_naive();
        let pool = state.store.pool();
        let (mut overdue, mut due_soon) = (Vec::new(), Vec::new());
        for region in reminder_scopes(user) {
            let filter = DashboardFilter {
                region,
                ..DashboardFilter::default()
            };
            let due = queries::dashboard_due_actions(pool, &filter, today, MAX_DUE_ACTIONS).await?;
            overdue.extend(due.overdue);
            due_soon.extend(due.due_soon);
        }
        // Across regions: the most overdue (the earliest due day) first, then the soonest.
        let order =
            |a: &ActionRecord, b: &ActionRecord| (&a.due_date, a.id.0).cmp(&(&b.due_date, b.id.0));
        overdue.sort_by(order);
        due_soon.sort_by(order);
        let page = RemindersPage {
            p: viewer.page(tr.t("reminders-title"), Nav::Reminders),
            overdue: cards(pool, &tr, &overdue, today).await?,
            due_soon: cards(pool, &tr, &due_soon, today).await?,
        };
        html(&page)
    }
    .await;
    respond(&viewer, result)
}

/// How many unfinished actions of `regions` (every region when empty, as for an admin) are
/// overdue or due within 30 days on `today`: the navigation's badge, the dashboard's
/// `overdue + due_soon` counted alone ([`queries::due_action_count`], one statement per region).
pub async fn reminder_count(
    pool: &Pool,
    regions: &[String],
    today: NaiveDate,
) -> Result<i64, StoreError> {
    if regions.is_empty() {
        return queries::due_action_count(pool, None, today).await;
    }
    let mut total = 0_i64;
    for region in regions {
        let count = queries::due_action_count(pool, Some(region), today).await?;
        total = total.saturating_add(count);
    }
    Ok(total)
}

// ---------------------------------------------------------------------------------------------
// An action's page and forms
// ---------------------------------------------------------------------------------------------

const PROGRESS_AR: &[Field] = &[
    Field::new("on", Kind::Date, "board-field-on").required(),
    Field::new("progress", Kind::Int, "board-field-progress").required(),
    Field::new("note.ar", Kind::TextArea, "board-field-note"),
    Field::new("reason", Kind::Text, "board-field-progress-reason"),
];
const PROGRESS_FR: &[Field] = &[
    Field::new("on", Kind::Date, "board-field-on").required(),
    Field::new("progress", Kind::Int, "board-field-progress").required(),
    Field::new("note.fr", Kind::TextArea, "board-field-note"),
    Field::new("reason", Kind::Text, "board-field-progress-reason"),
];
const DEADLINE: &[Field] = &[
    Field::new("to.year", Kind::Int, "board-field-year").required(),
    Field::new("to.month", Kind::Int, "board-field-month"),
    Field::new("to.day", Kind::Int, "board-field-day"),
    Field::new("reason", Kind::TextArea, "board-field-reason").required(),
];
const OWNER: &[Field] = &[
    Field::new("to", Kind::Organisation, "board-field-owner").required(),
    Field::new("reason", Kind::TextArea, "board-field-reason").required(),
];
const REASON: &[Field] = &[Field::new("reason", Kind::TextArea, "board-field-reason").required()];
const OPTIONAL_REASON: &[Field] = &[Field::new("reason", Kind::TextArea, "board-field-reason")];

/// The forms of an action's page, each posted to `/actions/{id}/{slot}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Progress,
    Deadline,
    Owner,
    Start,
    Block,
    Complete,
    Cancel,
    Reopen,
}

impl Slot {
    const ALL: [Slot; 8] = [
        Slot::Progress,
        Slot::Deadline,
        Slot::Owner,
        Slot::Start,
        Slot::Block,
        Slot::Complete,
        Slot::Cancel,
        Slot::Reopen,
    ];

    fn name(self) -> &'static str {
        match self {
            Slot::Progress => "progress",
            Slot::Deadline => "deadline",
            Slot::Owner => "owner",
            Slot::Start => "start",
            Slot::Block => "block",
            Slot::Complete => "complete",
            Slot::Cancel => "cancel",
            Slot::Reopen => "reopen",
        }
    }

    fn parse(name: &str) -> Option<Slot> {
        Slot::ALL.into_iter().find(|s| s.name() == name)
    }

    fn fields(self, lang: Lang) -> &'static [Field] {
        match self {
            Slot::Progress if lang == Lang::Ar => PROGRESS_AR,
            Slot::Progress => PROGRESS_FR,
            Slot::Deadline => DEADLINE,
            Slot::Owner => OWNER,
            Slot::Block | Slot::Cancel | Slot::Reopen => REASON,
            Slot::Start => OPTIONAL_REASON,
            Slot::Complete => &[],
        }
    }

    /// The command's `type`, and for a status change the status it goes to.
    fn command(self) -> (&'static str, Option<ActionStatus>) {
        match self {
            Slot::Progress => ("report_progress", None),
            Slot::Deadline => ("extend_deadline", None),
            Slot::Owner => ("reassign_owner", None),
            Slot::Start => ("change_action_status", Some(ActionStatus::InProgress)),
            Slot::Block => ("change_action_status", Some(ActionStatus::Blocked)),
            Slot::Complete => ("change_action_status", Some(ActionStatus::Done)),
            Slot::Cancel => ("change_action_status", Some(ActionStatus::Cancelled)),
            Slot::Reopen => ("reopen_action", None),
        }
    }

    /// Whether it is offered for an action in `status`.
    fn offered(self, status: ActionStatus) -> bool {
        match self {
            Slot::Reopen => status.is_finished(),
            _ if status.is_finished() => false,
            Slot::Start => status != ActionStatus::InProgress,
            Slot::Block => status != ActionStatus::Blocked,
            _ => true,
        }
    }
}

/// A form of the action's page, ready to draw.
struct ActionForm {
    slot: &'static str,
    legend: String,
    key: String,
    fields: Vec<FieldView>,
    message: Option<String>,
    /// Drawn open: the progress report (the common one) and a form with a problem.
    open: bool,
}

/// One event of the action's stream, as the history lists it.
struct HistoryRow {
    /// RFC 3339, for `<time datetime>`.
    at: String,
    when: String,
    what: String,
    detail: String,
    who: String,
    why: String,
}

struct ReportRow {
    on: String,
    progress: i64,
    note: Shown<'static>,
    reason: String,
}

struct DeadlineRow {
    when: String,
    from: String,
    to: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "action.html", config = "src/web/askama.toml")]
struct ActionPage {
    p: PageContext,
    id: String,
    version: i64,
    region: String,
    consultation_id: String,
    consultation_title: Shown<'static>,
    description: Shown<'static>,
    recommendations: Vec<Shown<'static>>,
    owner: Shown<'static>,
    due: String,
    late: Option<String>,
    status: String,
    status_key: &'static str,
    status_reason: String,
    progress: i64,
    budget: String,
    reports: Vec<ReportRow>,
    initial_due: String,
    deadlines: Vec<DeadlineRow>,
    history: Option<Vec<HistoryRow>>,
    writable: bool,
    finished: bool,
    forms: Vec<ActionForm>,
    saved: bool,
    conflict: Option<Vec<HistoryRow>>,
}

/// What went wrong with a submitted form, to draw it again as it was typed.
struct Problem {
    slot: Slot,
    submitted: forms::Submitted,
    errors: Vec<FieldError>,
    message: Option<String>,
    /// The version the form was drawn at, when someone changed the action since.
    conflict_since: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
struct ActionParams {
    saved: Option<String>,
}

fn parse_id(id: &str) -> Result<Uuid, WebError> {
    Uuid::try_parse(id).map_err(|_| WebError::NotFound)
}

async fn action_page(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
    Query(params): Query<ActionParams>,
) -> Response {
    let result = async {
        viewer.user()?;
        let id = parse_id(&id)?;
        let (status, page) =
            render_action(&state, &viewer, id, None, params.saved.is_some()).await?;
        Ok((status, Html(page)).into_response())
    }
    .await;
    respond(&viewer, result)
}

/// The event type `DeadlineExtended` as the value `deadline_extended`.
fn snake(event_type: &str) -> String {
    let mut out = String::with_capacity(event_type.len().saturating_add(4));
    for (i, c) in event_type.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// What an event did, in words, with the names of the organisations it names.
fn history_row(
    tr: &Tr,
    recorded: &StoredEvent,
    names: &HashMap<Uuid, Shown<'static>>,
) -> HistoryRow {
    use action::Event as E;
    let status = |s: &ActionStatus| tr.value("action-status", s.as_str());
    let name = |id: &Uuid| {
        names
            .get(id)
            .map_or_else(|| id.to_string(), |n| n.value.to_string())
    };
    let partial =
        |d: &Option<PartialDate>| d.as_ref().map_or("—".to_owned(), |d| tr.partial_date(d));
    let event = action::Event::from_payload(&recorded.event_type, &recorded.payload).ok();
    let (detail, reason) = match &event {
        Some(E::ActionCreated { due, .. }) => (partial(due), None),
        Some(E::ProgressReported {
            on,
            progress,
            note,
            reason,
        }) => {
            let mut detail = format!("{} % · {}", progress, tr.date(*on));
            if let Some(note) = note {
                detail.push_str(" · ");
                detail.push_str(&tr.text(note).value);
            }
            (detail, reason.clone())
        }
        Some(E::ActionStatusChanged { from, to, reason }) => {
            (format!("{} → {}", status(from), status(to)), reason.clone())
        }
        Some(E::ActionReopened { from, to, reason }) => (
            format!("{} → {}", status(from), status(to)),
            Some(reason.clone()),
        ),
        Some(E::DeadlineExtended { from, to, reason }) => (
            format!("{} → {}", partial(from), tr.partial_date(to)),
            Some(reason.clone()),
        ),
        Some(E::OwnerReassigned { from, to, reason }) => (
            format!("{} → {}", name(from), name(to)),
            Some(reason.clone()),
        ),
        Some(E::BudgetRevised { from, to, reason }) => (
            format!(
                "{} → {}",
                from.as_ref()
                    .map_or("—".to_owned(), |m| tr.money(&m.amount, &m.currency)),
                tr.money(&to.amount, &to.currency)
            ),
            Some(reason.clone()),
        ),
        None => (String::new(), None),
    };
    let at = recorded.metadata.recorded_at;
    HistoryRow {
        at: at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        when: format!("{} {}", tr.date(at.date_naive()), at.format("%H:%M UTC")),
        what: tr.value("board-event", &snake(&recorded.event_type)),
        detail,
        who: recorded.metadata.actor_name.clone(),
        why: reason
            .or_else(|| recorded.metadata.reason.clone())
            .unwrap_or_default(),
    }
}

/// Draws the action's page; with a `problem`, the form at fault as it was typed, with its
/// errors (`422`), or the changes made since it was drawn (`409`).
async fn render_action(
    state: &WebState,
    viewer: &Viewer,
    id: Uuid,
    problem: Option<Problem>,
    saved: bool,
) -> Result<(StatusCode, String), WebError> {
    let tr = viewer.tr;
    let pool = state.store.pool();
    let record = lists::action(pool, id).await?.ok_or(WebError::NotFound)?;
    let events = state.store.read_stream(id, None).await?;
    let version = events.last().map_or(0, |e| e.version);
    let folded =
        fold_recorded::<action::Event, _>(&events, action::State::default(), action::apply)
            .map_err(|e| WebError::Internal(e.to_string()))?;
    let act = folded.action.ok_or(WebError::NotFound)?;
    let today = chrono::Utc::now().date_naive();
    let region = record.region.clone();
    let writable = viewer.may_write(region.as_deref());
    let sees_log = viewer.access().history(region.as_deref()).is_ok();

    let consultation = consultation_state(&state.store, act.consultation_id, None)
        .await?
        .consultation;
    // The owner, the organisations named in the history, and those that took part in the
    // consultation (whom the action may be given to), named with one read.
    let mut org_ids: Vec<Uuid> = vec![act.owner_organisation_id];
    if let Some(c) = &consultation {
        org_ids.extend(c.participants.iter().filter_map(|p| p.organisation_id));
        org_ids.extend(c.organisers.iter().copied());
    }
    for e in &events {
        if let Ok(action::Event::OwnerReassigned { from, to, .. }) =
            action::Event::from_payload(&e.event_type, &e.payload)
        {
            org_ids.extend([from, to]);
        }
    }
    let mut seen = HashSet::new();
    org_ids.retain(|id| seen.insert(*id));
    let names = organisation_names(pool, &tr, &org_ids).await?;

    let mut initial_due = tr.t("board-no-due");
    let mut deadlines = Vec::new();
    for e in &events {
        match action::Event::from_payload(&e.event_type, &e.payload) {
            Ok(action::Event::ActionCreated { due: Some(due), .. }) => {
                initial_due = tr.partial_date(&due);
            }
            Ok(action::Event::DeadlineExtended { from, to, reason }) => {
                deadlines.push(DeadlineRow {
                    when: tr.date(e.metadata.recorded_at.date_naive()),
                    from: from.map_or("—".to_owned(), |d| tr.partial_date(&d)),
                    to: tr.partial_date(&to),
                    reason,
                });
            }
            _ => {}
        }
    }

    // The forms: each drawn with the current values, the one at fault as it was typed.
    let mut forms = Vec::new();
    if writable {
        let defaults: HashMap<String, String> = [
            ("on".to_owned(), today.format("%Y-%m-%d").to_string()),
            ("progress".to_owned(), act.progress.to_string()),
            (
                "to.year".to_owned(),
                act.due
                    .and_then(|d| d.year)
                    .map_or(String::new(), |y| y.to_string()),
            ),
            (
                "to.month".to_owned(),
                act.due
                    .and_then(|d| d.month)
                    .map_or(String::new(), |m| m.to_string()),
            ),
            (
                "to.day".to_owned(),
                act.due
                    .and_then(|d| d.day)
                    .map_or(String::new(), |d| d.to_string()),
            ),
        ]
        .into_iter()
        .collect();
        let owners: Vec<(String, String)> = org_ids
            .iter()
            .filter_map(|id| names.get(id).map(|n| (id.to_string(), n.value.to_string())))
            .collect();
        for slot in Slot::ALL.into_iter().filter(|s| s.offered(act.status)) {
            let fields = slot.fields(tr.lang);
            let mut view = match &problem {
                Some(p) if p.slot == slot => {
                    FormView::submitted(fields, &p.submitted, &p.errors, &tr)
                }
                // "Done needs 100 %" is about the progress: said at its field too.
                Some(p) if slot == Slot::Progress && p.slot == Slot::Complete => {
                    let at_progress: Vec<FieldError> = p
                        .errors
                        .iter()
                        .filter(|e| e.field == "progress")
                        .cloned()
                        .collect();
                    FormView::new(fields, &defaults, &at_progress, &tr)
                }
                _ => {
                    let mut values = defaults.clone();
                    if slot == Slot::Owner {
                        values.insert("to".to_owned(), act.owner_organisation_id.to_string());
                    }
                    FormView::new(fields, &values, &[], &tr)
                }
            };
            for field in &mut view.fields {
                if field.field.kind == Kind::Organisation {
                    field.options = owners.clone();
                }
            }
            let message = match &problem {
                Some(p) if p.slot == slot => p.message.clone().or(view.message),
                _ => view.message,
            };
            forms.push(ActionForm {
                slot: slot.name(),
                legend: tr.t(&format!("board-form-{}", slot.name())),
                key: session::random_hex()?,
                fields: view.fields,
                message,
                open: slot == Slot::Progress || problem.as_ref().is_some_and(|p| p.slot == slot),
            });
        }
    }

    let conflict = match problem.as_ref().and_then(|p| p.conflict_since) {
        Some(since) => Some(
            state
                .store
                .read_stream_after(id, since, None)
                .await?
                .iter()
                .map(|e| history_row(&tr, e, &names))
                .collect(),
        ),
        None => None,
    };
    let status = match &problem {
        None => StatusCode::OK,
        Some(p) if p.conflict_since.is_some() => StatusCode::CONFLICT,
        Some(_) => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let page = ActionPage {
        p: viewer.page(tr.text(&act.title).value.into_owned(), Nav::Board),
        id: id.to_string(),
        version,
        region: region.as_deref().map_or_else(String::new, |r| tr.region(r)),
        consultation_id: act.consultation_id.to_string(),
        consultation_title: consultation.as_ref().map_or_else(
            || plain(&tr, String::new()),
            |c| shown(&tr, &c.details.title),
        ),
        recommendations: act
            .recommendation_ids
            .iter()
            .filter_map(|r| consultation.as_ref().and_then(|c| c.recommendation(*r)))
            .map(|r| shown(&tr, &r.text))
            .collect(),
        owner: names
            .get(&act.owner_organisation_id)
            .cloned()
            .unwrap_or_else(|| plain(&tr, act.owner_organisation_id.to_string())),
        due: act
            .due
            .as_ref()
            .map_or_else(|| tr.t("board-no-due"), |d| tr.partial_date(d)),
        late: days_late(act.status.as_str(), record.due_date.as_deref(), today)
            .map(|n| tr.count("board-days-late", n)),
        status: tr.value("action-status", act.status.as_str()),
        status_key: act.status.as_str(),
        status_reason: act.status_reason.clone().unwrap_or_default(),
        progress: i64::from(act.progress),
        budget: act
            .budget
            .as_ref()
            .map_or_else(String::new, |m| tr.money(&m.amount, &m.currency)),
        // Every report is an event of the stream read above (the state keeps only the last).
        reports: events
            .iter()
            .filter_map(
                |e| match action::Event::from_payload(&e.event_type, &e.payload).ok()? {
                    action::Event::ProgressReported {
                        on,
                        progress,
                        note,
                        reason,
                    } => Some(ReportRow {
                        on: tr.date(on),
                        progress: i64::from(progress),
                        note: note
                            .as_ref()
                            .map_or_else(|| plain(&tr, String::new()), |n| shown(&tr, n)),
                        reason: reason.unwrap_or_default(),
                    }),
                    _ => None,
                },
            )
            .collect(),
        initial_due,
        deadlines,
        history: sees_log.then(|| {
            events
                .iter()
                .rev()
                .map(|e| history_row(&tr, e, &names))
                .collect()
        }),
        writable,
        finished: act.status.is_finished(),
        forms,
        saved,
        conflict,
        description: act
            .description
            .as_ref()
            .map_or_else(|| plain(&tr, String::new()), |d| shown(&tr, d)),
    };
    Ok((status, page.render()?))
}

async fn action_submit(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    Path((id, form)): Path<(String, String)>,
    Form(submitted): Form<forms::Submitted>,
) -> Response {
    let result = submit_inner(&state, &viewer, &id, &form, submitted).await;
    respond(&viewer, result)
}

async fn submit_inner(
    state: &WebState,
    viewer: &Viewer,
    id: &str,
    form: &str,
    submitted: forms::Submitted,
) -> WebResult {
    viewer.check_csrf(forms::value(&submitted, "_csrf"))?;
    let id = parse_id(id)?;
    let slot = Slot::parse(form).ok_or(WebError::NotFound)?;
    let tr = viewer.tr;
    let redraw = |errors: Vec<FieldError>, message: Option<String>, since: Option<i64>| Problem {
        slot,
        submitted: submitted.clone(),
        errors,
        message,
        conflict_since: since,
    };
    let answer = |(status, body): (StatusCode, String)| Ok((status, Html(body)).into_response());
    let json = match forms::to_json(slot.fields(tr.lang), &submitted, &tr) {
        Ok(json) => json,
        Err(errors) => {
            let problem = redraw(errors, None, None);
            return answer(render_action(state, viewer, id, Some(problem), false).await?);
        }
    };
    let Value::Object(mut members) = json else {
        return Err(WebError::BadRequest);
    };
    let (kind, to) = slot.command();
    members.insert("aggregate".into(), "action".into());
    members.insert("type".into(), kind.into());
    members.insert("action_id".into(), id.to_string().into());
    if let Some(to) = to {
        members.insert("to".into(), to.as_str().into());
    }
    let command = match forms::decode::<AnyCommand>(&Value::Object(members), &tr) {
        Ok(command) => command,
        Err(error) => {
            let problem = redraw(vec![error], None, None);
            return answer(render_action(state, viewer, id, Some(problem), false).await?);
        }
    };
    let drawn_at = forms::value(&submitted, "_version")
        .map(|v| v.trim().parse::<i64>().map_err(|_| WebError::BadRequest))
        .transpose()?;
    let mut context = CommandContext::new(viewer.access().actor());
    context.expected_version = drawn_at;
    context.idempotency_key = forms::value(&submitted, "_key")
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_owned);
    let problem = match run_as(&state.store, &viewer.access(), command, context).await {
        Ok(_) => return Ok(see_other(&format!("/actions/{id}?saved={}", slot.name()))),
        // Not this person's to change: nothing was decided or written.
        Err(WriteError::Refused(_)) => return Err(WebError::Forbidden),
        Err(error) => match forms::write_error(error, &tr)? {
            FormProblem::Field(mut error) => {
                // The deadline is one field in three inputs: its error goes to the year.
                if slot == Slot::Deadline && error.field == "to" {
                    error.field = "to.year".to_owned();
                }
                redraw(vec![error], None, None)
            }
            FormProblem::Form(message) => redraw(Vec::new(), Some(message), None),
            FormProblem::Conflict { .. } => {
                redraw(Vec::new(), Some(tr.t("board-conflict")), drawn_at)
            }
        },
    };
    answer(render_action(state, viewer, id, Some(problem), false).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_become_catalogue_values() {
        assert_eq!(snake("DeadlineExtended"), "deadline_extended");
        assert_eq!(snake("ActionCreated"), "action_created");
    }

    #[test]
    fn overdue_is_unfinished_and_past_its_latest_day() {
        let today = NaiveDate::from_ymd_opt(2026, 3, 10).unwrap();
        assert_eq!(days_late("in_progress", Some("2026-03-01"), today), Some(9));
        assert_eq!(days_late("blocked", Some("2026-03-10"), today), None);
        assert_eq!(days_late("done", Some("2025-01-01"), today), None);
        assert_eq!(days_late("not_started", None, today), None);
    }

    #[test]
    fn every_slot_has_its_words_and_a_command() {
        for lang in Lang::ALL {
            let tr = Tr::new(lang);
            for slot in Slot::ALL {
                assert_eq!(Slot::parse(slot.name()), Some(slot));
                let id = format!("board-form-{}", slot.name());
                assert_ne!(tr.t(&id), id);
                for field in slot.fields(lang) {
                    assert_ne!(tr.t(field.label), field.label);
                }
            }
            for event in action::Event::EVENT_TYPES {
                let value = snake(event);
                assert_ne!(tr.value("board-event", &value), value);
            }
        }
    }
}
