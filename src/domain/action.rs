//! The action stream: follow-up actions that turn a consultation's
//! recommendations or agreements into work, with an owner, a due date, a
//! status, dated progress reports, and slippage (deadline, owner, budget
//! changes) recorded as events of their own with a reason.
//!
//! Actions live in their own streams so they outlive the consultation. The
//! facts needed from the consultation (does it exist, is it cancelled, which
//! recommendations and agreements it has) come inside the `CreateAction`
//! command as [`ConsultationFacts`], so `decide` stays pure.
//!
//! Rules chosen here:
//! - progress is 0-100; it may go down only with a non-blank reason;
//! - progress reports are chronological: a report may not be dated before the last one;
//! - `done` needs progress 100; `blocked` and `cancelled` need a reason;
//! - a done or cancelled action is finished: nothing changes on it except
//!   `ReopenAction` (reason required), which puts it back in progress (or
//!   not started when its progress is 0);
//! - moving among open statuses (not started, in progress, blocked) is free;
//! - a deadline "extension" may not move the deadline certainly earlier.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::common::{
    check_optional_reason, check_reason, check_unique_ids, nth, reject, Money, PartialDate, Text,
    LONG_TEXT_MAX, SHORT_TEXT_MAX,
};
use super::consultation::{self, ConsultationStatus};
use super::error::{DomainError, Rule};

/// The stream type of action streams.
pub const STREAM_TYPE: &str = "action";

/// Where an action stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    /// Not started yet.
    #[default]
    NotStarted,
    /// Under way.
    InProgress,
    /// Finished, progress 100.
    Done,
    /// Stuck (reason required).
    Blocked,
    /// Dropped (reason required).
    Cancelled,
}

impl ActionStatus {
    /// The snake_case name, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionStatus::NotStarted => "not_started",
            ActionStatus::InProgress => "in_progress",
            ActionStatus::Done => "done",
            ActionStatus::Blocked => "blocked",
            ActionStatus::Cancelled => "cancelled",
        }
    }

    /// Whether the action is done or cancelled (only reopening is allowed).
    pub fn is_finished(self) -> bool {
        matches!(self, ActionStatus::Done | ActionStatus::Cancelled)
    }
}

/// What the action stream needs to know about its consultation, read by the
/// caller from the consultation stream before deciding `CreateAction`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsultationFacts {
    /// The consultation these facts are about.
    pub consultation_id: Uuid,
    /// Its current status.
    pub status: ConsultationStatus,
    /// The ids of its recommendations.
    #[serde(default)]
    pub recommendation_ids: Vec<Uuid>,
    /// The ids of its agreements.
    #[serde(default)]
    pub agreement_ids: Vec<Uuid>,
}

impl ConsultationFacts {
    /// The facts of a consultation state; `None` if it was never planned.
    pub fn from_state(state: &consultation::State) -> Option<Self> {
        state.consultation.as_ref().map(|c| ConsultationFacts {
            consultation_id: c.id,
            status: c.status,
            recommendation_ids: c
                .recommendations
                .iter()
                .map(|r| r.recommendation_id)
                .collect(),
            agreement_ids: c.agreements.iter().map(|a| a.agreement_id).collect(),
        })
    }
}

/// A dated progress report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressReport {
    /// The day of the report.
    pub on: NaiveDate,
    /// Progress, 0-100.
    pub progress: u8,
    /// What was reported.
    pub note: Option<Text>,
    /// Why progress went down, when it did.
    pub reason: Option<String>,
}

/// A follow-up action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    /// Its stream id.
    pub id: Uuid,
    /// The consultation it follows up.
    pub consultation_id: Uuid,
    /// The recommendations it implements.
    pub recommendation_ids: Vec<Uuid>,
    /// The agreement it implements.
    pub agreement_id: Option<Uuid>,
    /// What is to be done.
    pub title: Text,
    /// More detail.
    pub description: Option<Text>,
    /// The organisation responsible.
    pub owner_organisation_id: Uuid,
    /// When it is due.
    pub due: Option<PartialDate>,
    /// Its budget.
    pub budget: Option<Money>,
    /// Where it stands.
    pub status: ActionStatus,
    /// The latest progress, 0-100.
    pub progress: u8,
    /// The latest progress report: what the next one is checked against (reports are
    /// chronological). Every report is an event of the stream (and a row of the read models):
    /// the state does not hold them all, so that folding and copying it costs the same after a
    /// year of monthly reports as after one.
    #[serde(default)]
    pub last_report: Option<ProgressReport>,
    /// The reason given with the last status change.
    pub status_reason: Option<String>,
}

/// The action as rebuilt from its events; `Default` is "not yet created".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// The action, once created.
    pub action: Option<Action>,
    /// How many events have been applied.
    pub version: u64,
}

/// Creates an action following up a consultation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateAction {
    /// The new stream's id, chosen by the caller.
    pub action_id: Uuid,
    /// The consultation it follows up.
    pub consultation_id: Uuid,
    /// The recommendations it implements (may be empty).
    #[serde(default)]
    pub recommendation_ids: Vec<Uuid>,
    /// The agreement it implements.
    #[serde(default)]
    pub agreement_id: Option<Uuid>,
    /// What is to be done.
    pub title: Text,
    /// More detail.
    #[serde(default)]
    pub description: Option<Text>,
    /// The organisation responsible.
    pub owner_organisation_id: Uuid,
    /// When it is due.
    #[serde(default)]
    pub due: Option<PartialDate>,
    /// Its budget.
    #[serde(default)]
    pub budget: Option<Money>,
    /// Facts about the consultation, filled in by the caller from the
    /// consultation stream (seed files leave this out); `None` means the
    /// consultation does not exist.
    #[serde(default)]
    pub consultation: Option<ConsultationFacts>,
}

/// Reports progress on a given day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportProgress {
    /// The action.
    pub action_id: Uuid,
    /// The day of the report (`"2025-03-31"`).
    pub on: NaiveDate,
    /// Progress, 0-100 (a wider type so that out-of-range values get a clear error).
    pub progress: i32,
    /// What was reported.
    #[serde(default)]
    pub note: Option<Text>,
    /// Why progress went down (required when it does).
    #[serde(default)]
    pub reason: Option<String>,
}

/// Changes the status among not started, in progress, blocked, done, cancelled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeActionStatus {
    /// The action.
    pub action_id: Uuid,
    /// The new status.
    pub to: ActionStatus,
    /// Why (required for blocked and cancelled).
    #[serde(default)]
    pub reason: Option<String>,
}

/// Reopens a done or cancelled action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReopenAction {
    /// The action.
    pub action_id: Uuid,
    /// Why (required).
    pub reason: String,
}

/// Moves the deadline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtendDeadline {
    /// The action.
    pub action_id: Uuid,
    /// The new deadline.
    pub to: PartialDate,
    /// Why (required).
    pub reason: String,
}

/// Gives the action to another organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReassignOwner {
    /// The action.
    pub action_id: Uuid,
    /// The new owner organisation.
    pub to: Uuid,
    /// Why (required).
    pub reason: String,
}

/// Changes the action's budget.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviseActionBudget {
    /// The action.
    pub action_id: Uuid,
    /// The new budget.
    pub to: Money,
    /// Why (required).
    pub reason: String,
}

/// Everything that can be asked of an action stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
// Commands are short-lived messages; boxing the large one would only add noise.
#[allow(clippy::large_enum_variant)]
pub enum Command {
    /// See [`CreateAction`].
    CreateAction(CreateAction),
    /// See [`ReportProgress`].
    ReportProgress(ReportProgress),
    /// See [`ChangeActionStatus`].
    ChangeActionStatus(ChangeActionStatus),
    /// See [`ReopenAction`].
    ReopenAction(ReopenAction),
    /// See [`ExtendDeadline`].
    ExtendDeadline(ExtendDeadline),
    /// See [`ReassignOwner`].
    ReassignOwner(ReassignOwner),
    /// See [`ReviseActionBudget`].
    ReviseActionBudget(ReviseActionBudget),
}

impl Command {
    /// The id of the stream this command is for.
    pub fn stream_id(&self) -> Uuid {
        match self {
            Command::CreateAction(c) => c.action_id,
            Command::ReportProgress(c) => c.action_id,
            Command::ChangeActionStatus(c) => c.action_id,
            Command::ReopenAction(c) => c.action_id,
            Command::ExtendDeadline(c) => c.action_id,
            Command::ReassignOwner(c) => c.action_id,
            Command::ReviseActionBudget(c) => c.action_id,
        }
    }
}

/// Everything that can happen to an action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
// Events are moved once into the store; boxing the large one would only add noise.
#[allow(clippy::large_enum_variant)]
pub enum Event {
    /// The action was created.
    ActionCreated {
        /// Its stream id.
        action_id: Uuid,
        /// The consultation it follows up.
        consultation_id: Uuid,
        /// The recommendations it implements.
        recommendation_ids: Vec<Uuid>,
        /// The agreement it implements.
        agreement_id: Option<Uuid>,
        /// What is to be done.
        title: Text,
        /// More detail.
        description: Option<Text>,
        /// The organisation responsible.
        owner_organisation_id: Uuid,
        /// When it is due.
        due: Option<PartialDate>,
        /// Its budget.
        budget: Option<Money>,
    },
    /// Progress was reported.
    ProgressReported {
        /// The day of the report.
        on: NaiveDate,
        /// Progress, 0-100.
        progress: u8,
        /// What was reported.
        note: Option<Text>,
        /// Why progress went down, when it did.
        reason: Option<String>,
    },
    /// The status changed.
    ActionStatusChanged {
        /// The previous status.
        from: ActionStatus,
        /// The new status.
        to: ActionStatus,
        /// Why.
        reason: Option<String>,
    },
    /// A done or cancelled action was reopened.
    ActionReopened {
        /// The status it was in.
        from: ActionStatus,
        /// The status it is back in.
        to: ActionStatus,
        /// Why.
        reason: String,
    },
    /// The deadline moved.
    DeadlineExtended {
        /// The previous deadline.
        from: Option<PartialDate>,
        /// The new deadline.
        to: PartialDate,
        /// Why.
        reason: String,
    },
    /// Another organisation became responsible.
    OwnerReassigned {
        /// The previous owner.
        from: Uuid,
        /// The new owner.
        to: Uuid,
        /// Why.
        reason: String,
    },
    /// The budget changed.
    BudgetRevised {
        /// The previous budget.
        from: Option<Money>,
        /// The new budget.
        to: Money,
        /// Why.
        reason: String,
    },
}

super::codec::domain_events!(
    STREAM_TYPE,
    [
        ActionCreated,
        ProgressReported,
        ActionStatusChanged,
        ActionReopened,
        DeadlineExtended,
        OwnerReassigned,
        BudgetRevised,
    ]
);

/// Decides which events a command produces, or why it is rejected.
pub fn decide(state: &State, command: Command) -> Result<Vec<Event>, DomainError> {
    match command {
        Command::CreateAction(c) => create(state, c),
        Command::ReportProgress(c) => report_progress(state, c),
        Command::ChangeActionStatus(c) => change_status(state, c),
        Command::ReopenAction(c) => reopen(state, c),
        Command::ExtendDeadline(c) => extend_deadline(state, c),
        Command::ReassignOwner(c) => reassign_owner(state, c),
        Command::ReviseActionBudget(c) => revise_budget(state, c),
    }
}

fn existing(state: &State, id: Uuid) -> Result<&Action, DomainError> {
    match &state.action {
        None => reject("action_id", Rule::NotCreated),
        Some(action) if action.id != id => reject(
            "action_id",
            Rule::UnknownReference {
                what: "action".into(),
            },
        ),
        Some(action) => Ok(action),
    }
}

/// As [`existing`], and neither done nor cancelled.
fn unfinished(state: &State, id: Uuid) -> Result<&Action, DomainError> {
    let action = existing(state, id)?;
    if action.status.is_finished() {
        return reject(
            "action_id",
            Rule::ActionFinished {
                status: action.status.as_str().into(),
            },
        );
    }
    Ok(action)
}

fn create(state: &State, c: CreateAction) -> Result<Vec<Event>, DomainError> {
    if state.action.is_some() {
        return reject("action_id", Rule::AlreadyExists);
    }
    let facts = match &c.consultation {
        Some(facts) if facts.consultation_id == c.consultation_id => facts,
        _ => {
            return reject(
                "consultation_id",
                Rule::UnknownReference {
                    what: "consultation".into(),
                },
            )
        }
    };
    if facts.status == ConsultationStatus::Cancelled {
        return reject("consultation_id", Rule::ConsultationCancelled);
    }
    check_unique_ids("recommendation_ids", &c.recommendation_ids)?;
    for (i, id) in c.recommendation_ids.iter().enumerate() {
        if !facts.recommendation_ids.contains(id) {
            return reject(
                nth("recommendation_ids", i),
                Rule::UnknownReference {
                    what: "recommendation".into(),
                },
            );
        }
    }
    if let Some(agreement_id) = &c.agreement_id {
        if !facts.agreement_ids.contains(agreement_id) {
            return reject(
                "agreement_id",
                Rule::UnknownReference {
                    what: "agreement".into(),
                },
            );
        }
    }
    c.title.validate("title", SHORT_TEXT_MAX)?;
    if let Some(description) = &c.description {
        description.validate("description", LONG_TEXT_MAX)?;
    }
    if let Some(due) = &c.due {
        due.validate("due")?;
    }
    if let Some(budget) = &c.budget {
        budget.validate("budget")?;
    }
    Ok(vec![Event::ActionCreated {
        action_id: c.action_id,
        consultation_id: c.consultation_id,
        recommendation_ids: c.recommendation_ids,
        agreement_id: c.agreement_id,
        title: c.title,
        description: c.description,
        owner_organisation_id: c.owner_organisation_id,
        due: c.due,
        budget: c.budget,
    }])
}

fn report_progress(state: &State, c: ReportProgress) -> Result<Vec<Event>, DomainError> {
    let action = unfinished(state, c.action_id)?;
    let progress = match u8::try_from(c.progress) {
        Ok(progress) if progress <= 100 => progress,
        _ => return reject("progress", Rule::OutOfRange { min: 0, max: 100 }),
    };
    if let Some(last) = &action.last_report {
        if c.on < last.on {
            return reject("on", Rule::BeforePrevious);
        }
    }
    check_optional_reason("reason", &c.reason)?;
    if progress < action.progress && c.reason.is_none() {
        return reject("reason", Rule::ReasonRequired);
    }
    if let Some(note) = &c.note {
        note.validate("note", LONG_TEXT_MAX)?;
    }
    Ok(vec![Event::ProgressReported {
        on: c.on,
        progress,
        note: c.note,
        reason: c.reason,
    }])
}

fn change_status(state: &State, c: ChangeActionStatus) -> Result<Vec<Event>, DomainError> {
    let action = unfinished(state, c.action_id)?;
    if action.status == c.to {
        return reject(
            "to",
            Rule::InvalidTransition {
                from: action.status.as_str().into(),
                to: c.to.as_str().into(),
            },
        );
    }
    check_optional_reason("reason", &c.reason)?;
    match c.to {
        ActionStatus::Done if action.progress < 100 => {
            return reject("progress", Rule::DoneRequiresFullProgress);
        }
        ActionStatus::Blocked | ActionStatus::Cancelled if c.reason.is_none() => {
            return reject("reason", Rule::ReasonRequired);
        }
        _ => {}
    }
    Ok(vec![Event::ActionStatusChanged {
        from: action.status,
        to: c.to,
        reason: c.reason,
    }])
}

fn reopen(state: &State, c: ReopenAction) -> Result<Vec<Event>, DomainError> {
    let action = existing(state, c.action_id)?;
    let to = if action.progress > 0 {
        ActionStatus::InProgress
    } else {
        ActionStatus::NotStarted
    };
    if !action.status.is_finished() {
        return reject(
            "status",
            Rule::InvalidTransition {
                from: action.status.as_str().into(),
                to: to.as_str().into(),
            },
        );
    }
    check_reason("reason", &c.reason)?;
    Ok(vec![Event::ActionReopened {
        from: action.status,
        to,
        reason: c.reason,
    }])
}

fn extend_deadline(state: &State, c: ExtendDeadline) -> Result<Vec<Event>, DomainError> {
    let action = unfinished(state, c.action_id)?;
    c.to.validate("to")?;
    check_reason("reason", &c.reason)?;
    if let Some(from) = &action.due {
        if c.to.is_certainly_before(from) {
            return reject("to", Rule::BeforePrevious);
        }
    }
    if action.due == Some(c.to) {
        return Ok(vec![]);
    }
    Ok(vec![Event::DeadlineExtended {
        from: action.due,
        to: c.to,
        reason: c.reason,
    }])
}

fn reassign_owner(state: &State, c: ReassignOwner) -> Result<Vec<Event>, DomainError> {
    let action = unfinished(state, c.action_id)?;
    check_reason("reason", &c.reason)?;
    if action.owner_organisation_id == c.to {
        return Ok(vec![]);
    }
    Ok(vec![Event::OwnerReassigned {
        from: action.owner_organisation_id,
        to: c.to,
        reason: c.reason,
    }])
}

fn revise_budget(state: &State, c: ReviseActionBudget) -> Result<Vec<Event>, DomainError> {
    let action = unfinished(state, c.action_id)?;
    c.to.validate("to")?;
    check_reason("reason", &c.reason)?;
    if action.budget.as_ref() == Some(&c.to) {
        return Ok(vec![]);
    }
    Ok(vec![Event::BudgetRevised {
        from: action.budget.clone(),
        to: c.to,
        reason: c.reason,
    }])
}

/// Applies one event to the state. Never fails: events were validated when
/// decided; an event that cannot apply (before creation) is skipped, and a
/// replayed creation keeps the progress history already folded.
pub fn apply(mut state: State, event: &Event) -> State {
    state.version += 1;
    if let Event::ActionCreated {
        action_id,
        consultation_id,
        recommendation_ids,
        agreement_id,
        title,
        description,
        owner_organisation_id,
        due,
        budget,
    } = event
    {
        let previous = state.action.take();
        state.action = Some(Action {
            id: *action_id,
            consultation_id: *consultation_id,
            recommendation_ids: recommendation_ids.clone(),
            agreement_id: *agreement_id,
            title: title.clone(),
            description: description.clone(),
            owner_organisation_id: *owner_organisation_id,
            due: *due,
            budget: budget.clone(),
            status: previous.as_ref().map(|a| a.status).unwrap_or_default(),
            progress: previous.as_ref().map(|a| a.progress).unwrap_or(0),
            last_report: previous.and_then(|a| a.last_report),
            status_reason: None,
        });
        return state;
    }
    let Some(action) = state.action.as_mut() else {
        return state;
    };
    match event {
        Event::ActionCreated { .. } => {}
        Event::ProgressReported {
            on,
            progress,
            note,
            reason,
        } => {
            action.progress = *progress;
            action.last_report = Some(ProgressReport {
                on: *on,
                progress: *progress,
                note: note.clone(),
                reason: reason.clone(),
            });
        }
        Event::ActionStatusChanged { to, reason, .. } => {
            action.status = *to;
            action.status_reason = reason.clone();
        }
        Event::ActionReopened { to, reason, .. } => {
            action.status = *to;
            action.status_reason = Some(reason.clone());
        }
        Event::DeadlineExtended { to, .. } => action.due = Some(*to),
        Event::OwnerReassigned { to, .. } => action.owner_organisation_id = *to,
        Event::BudgetRevised { to, .. } => action.budget = Some(to.clone()),
    }
    state
}

/// Rebuilds the state from events, e.g. the first `n` events for the state "as of" version `n`.
pub fn fold<'a>(events: impl IntoIterator<Item = &'a Event>) -> State {
    events.into_iter().fold(State::default(), apply)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::codec::assert_round_trip;
    use rust_decimal::Decimal;

    const ID: Uuid = Uuid::from_u128(0xa0);
    const CONSULTATION: Uuid = Uuid::from_u128(0xc0);
    const R1: Uuid = Uuid::from_u128(0x400);
    const R2: Uuid = Uuid::from_u128(0x401);
    const A1: Uuid = Uuid::from_u128(0x500);
    const OWNER: Uuid = Uuid::from_u128(0x100);
    const OTHER_OWNER: Uuid = Uuid::from_u128(0x101);

    fn given(events: &[Event]) -> State {
        fold(events)
    }

    fn when(events: &[Event], command: Command) -> Result<Vec<Event>, DomainError> {
        decide(&given(events), command)
    }

    fn rejected(field: &str, rule: Rule) -> Result<Vec<Event>, DomainError> {
        Err(DomainError::validation(field, rule))
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    fn facts() -> ConsultationFacts {
        ConsultationFacts {
            consultation_id: CONSULTATION,
            status: ConsultationStatus::Closed,
            recommendation_ids: vec![R1, R2],
            agreement_ids: vec![A1],
        }
    }

    fn create() -> CreateAction {
        CreateAction {
            action_id: ID,
            consultation_id: CONSULTATION,
            recommendation_ids: vec![R1],
            agreement_id: None,
            title: Text::ar("تحويل التوصيات إلى مشاريع وبرامج عملية"),
            description: None,
            owner_organisation_id: OWNER,
            due: Some(PartialDate::month(2025, 12)),
            budget: None,
            consultation: Some(facts()),
        }
    }

    fn created() -> Event {
        Event::ActionCreated {
            action_id: ID,
            consultation_id: CONSULTATION,
            recommendation_ids: vec![R1],
            agreement_id: None,
            title: create().title,
            description: None,
            owner_organisation_id: OWNER,
            due: Some(PartialDate::month(2025, 12)),
            budget: None,
        }
    }

    fn reported(on: NaiveDate, progress: u8) -> Event {
        Event::ProgressReported {
            on,
            progress,
            note: None,
            reason: None,
        }
    }

    fn status(from: ActionStatus, to: ActionStatus) -> Event {
        Event::ActionStatusChanged {
            from,
            to,
            reason: Some("r".into()),
        }
    }

    fn report(on: NaiveDate, progress: i32, reason: Option<&str>) -> Command {
        Command::ReportProgress(ReportProgress {
            action_id: ID,
            on,
            progress,
            note: Some(Text::en("two projects launched")),
            reason: reason.map(String::from),
        })
    }

    fn change(to: ActionStatus, reason: Option<&str>) -> Command {
        Command::ChangeActionStatus(ChangeActionStatus {
            action_id: ID,
            to,
            reason: reason.map(String::from),
        })
    }

    fn done_history() -> Vec<Event> {
        vec![
            created(),
            reported(day(2025, 6, 1), 100),
            status(ActionStatus::NotStarted, ActionStatus::Done),
        ]
    }

    // ---- create ------------------------------------------------------------

    #[test]
    fn create_happy_path() {
        assert_eq!(
            when(&[], Command::CreateAction(create())),
            Ok(vec![created()])
        );
        let action = given(&[created()]).action.unwrap();
        assert_eq!(action.status, ActionStatus::NotStarted);
        assert_eq!(action.progress, 0);
    }

    #[test]
    fn create_linked_only_to_the_consultation_or_an_agreement() {
        let bare = CreateAction {
            recommendation_ids: vec![],
            ..create()
        };
        assert!(when(&[], Command::CreateAction(bare)).is_ok());
        let with_agreement = CreateAction {
            recommendation_ids: vec![],
            agreement_id: Some(A1),
            budget: Some(Money::mad(Decimal::new(250_000_000, 0))),
            ..create()
        };
        assert!(when(&[], Command::CreateAction(with_agreement)).is_ok());
    }

    #[test]
    fn create_twice_is_rejected() {
        assert_eq!(
            when(&[created()], Command::CreateAction(create())),
            rejected("action_id", Rule::AlreadyExists)
        );
    }

    #[test]
    fn create_needs_facts_of_the_same_existing_consultation() {
        let missing = CreateAction {
            consultation: None,
            ..create()
        };
        let unknown = rejected(
            "consultation_id",
            Rule::UnknownReference {
                what: "consultation".into(),
            },
        );
        assert_eq!(when(&[], Command::CreateAction(missing)), unknown);
        let other = CreateAction {
            consultation: Some(ConsultationFacts {
                consultation_id: Uuid::from_u128(0xc9),
                ..facts()
            }),
            ..create()
        };
        assert_eq!(when(&[], Command::CreateAction(other)), unknown);
    }

    #[test]
    fn create_on_a_cancelled_consultation_is_rejected() {
        let command = CreateAction {
            consultation: Some(ConsultationFacts {
                status: ConsultationStatus::Cancelled,
                ..facts()
            }),
            ..create()
        };
        assert_eq!(
            when(&[], Command::CreateAction(command)),
            rejected("consultation_id", Rule::ConsultationCancelled)
        );
    }

    #[test]
    fn create_rejects_unknown_or_duplicate_links() {
        let unknown_recommendation = CreateAction {
            recommendation_ids: vec![R1, Uuid::from_u128(0x499)],
            ..create()
        };
        assert_eq!(
            when(&[], Command::CreateAction(unknown_recommendation)),
            rejected(
                "recommendation_ids[1]",
                Rule::UnknownReference {
                    what: "recommendation".into()
                }
            )
        );
        let twice = CreateAction {
            recommendation_ids: vec![R1, R1],
            ..create()
        };
        assert_eq!(
            when(&[], Command::CreateAction(twice)),
            rejected("recommendation_ids[1]", Rule::Duplicate)
        );
        let unknown_agreement = CreateAction {
            agreement_id: Some(Uuid::from_u128(0x599)),
            ..create()
        };
        assert_eq!(
            when(&[], Command::CreateAction(unknown_agreement)),
            rejected(
                "agreement_id",
                Rule::UnknownReference {
                    what: "agreement".into()
                }
            )
        );
    }

    #[test]
    fn create_rejects_bad_fields() {
        let untitled = CreateAction {
            title: Text::default(),
            ..create()
        };
        assert_eq!(
            when(&[], Command::CreateAction(untitled)),
            rejected("title", Rule::Required)
        );
        let blank_description = CreateAction {
            description: Some(Text::en("")),
            ..create()
        };
        assert_eq!(
            when(&[], Command::CreateAction(blank_description)),
            rejected("description.en", Rule::Required)
        );
        let bad_due = CreateAction {
            due: Some(PartialDate::ymd(2025, 2, 30)),
            ..create()
        };
        assert_eq!(
            when(&[], Command::CreateAction(bad_due)),
            rejected("due.day", Rule::InvalidDate)
        );
        let bad_budget = CreateAction {
            budget: Some(Money {
                amount: Decimal::ONE,
                currency: "Dh".into(),
            }),
            ..create()
        };
        assert_eq!(
            when(&[], Command::CreateAction(bad_budget)),
            rejected(
                "budget.currency",
                Rule::InvalidCurrency { code: "Dh".into() }
            )
        );
    }

    #[test]
    fn facts_are_read_from_a_consultation_state() {
        use crate::domain::consultation as c;
        assert_eq!(ConsultationFacts::from_state(&c::State::default()), None);
        let details = c::ConsultationDetails {
            kind: c::ConsultationKind::Workshop,
            title: Text::en("t"),
            description: None,
            schedule: c::Schedule::starting(PartialDate::year(2024)),
            place: None,
            region: None,
            purpose: None,
            occasion: None,
            patronage: None,
            region_inferred: None,
        };
        let state = c::fold(&[
            c::Event::ConsultationPlanned {
                consultation_id: CONSULTATION,
                details,
                organisers: vec![],
                sources: vec![],
                context_notes: vec![],
            },
            c::Event::RecommendationProposed {
                recommendation_id: R1,
                text: Text::en("r"),
                themes: vec![],
                proposer: None,
            },
        ]);
        let facts = ConsultationFacts::from_state(&state).unwrap();
        assert_eq!(facts.status, ConsultationStatus::Planned);
        assert_eq!(facts.recommendation_ids, vec![R1]);
        assert!(facts.agreement_ids.is_empty());
    }

    #[test]
    fn commands_on_a_missing_or_other_action_are_rejected() {
        assert_eq!(
            when(&[], report(day(2025, 1, 1), 10, None)),
            rejected("action_id", Rule::NotCreated)
        );
        let other = Command::ReassignOwner(ReassignOwner {
            action_id: Uuid::from_u128(0xa9),
            to: OTHER_OWNER,
            reason: "r".into(),
        });
        assert_eq!(
            when(&[created()], other),
            rejected(
                "action_id",
                Rule::UnknownReference {
                    what: "action".into()
                }
            )
        );
    }

    // ---- progress ------------------------------------------------------------

    #[test]
    fn report_progress_happy_path() {
        let expected = Event::ProgressReported {
            on: day(2025, 3, 31),
            progress: 40,
            note: Some(Text::en("two projects launched")),
            reason: None,
        };
        assert_eq!(
            when(&[created()], report(day(2025, 3, 31), 40, None)),
            Ok(vec![expected.clone()])
        );
        let action = given(&[created(), expected]).action.unwrap();
        assert_eq!(action.progress, 40);
        assert_eq!(action.last_report.map(|r| r.on), Some(day(2025, 3, 31)));
    }

    #[test]
    fn report_progress_rejects_out_of_range() {
        for progress in [-1, 101, 1000] {
            assert_eq!(
                when(&[created()], report(day(2025, 1, 1), progress, None)),
                rejected("progress", Rule::OutOfRange { min: 0, max: 100 })
            );
        }
        assert!(when(&[created()], report(day(2025, 1, 1), 0, None)).is_ok());
        assert!(when(&[created()], report(day(2025, 1, 1), 100, None)).is_ok());
    }

    #[test]
    fn progress_goes_backwards_only_with_a_reason() {
        let history = [created(), reported(day(2025, 3, 1), 60)];
        assert_eq!(
            when(&history, report(day(2025, 4, 1), 50, None)),
            rejected("reason", Rule::ReasonRequired)
        );
        assert_eq!(
            when(&history, report(day(2025, 4, 1), 50, Some(" "))),
            rejected("reason", Rule::ReasonRequired)
        );
        assert!(when(&history, report(day(2025, 4, 1), 50, Some("scope grew"))).is_ok());
        assert!(when(&history, report(day(2025, 4, 1), 60, None)).is_ok());
    }

    #[test]
    fn progress_reports_are_chronological() {
        let history = [created(), reported(day(2025, 3, 1), 10)];
        assert_eq!(
            when(&history, report(day(2025, 2, 28), 20, None)),
            rejected("on", Rule::BeforePrevious)
        );
        assert!(when(&history, report(day(2025, 3, 1), 20, None)).is_ok());
    }

    #[test]
    fn report_progress_rejects_blank_note() {
        let command = Command::ReportProgress(ReportProgress {
            action_id: ID,
            on: day(2025, 1, 1),
            progress: 5,
            note: Some(Text::default()),
            reason: None,
        });
        assert_eq!(
            when(&[created()], command),
            rejected("note", Rule::Required)
        );
    }

    // ---- status -----------------------------------------------------------------

    #[test]
    fn change_status_happy_paths() {
        assert_eq!(
            when(&[created()], change(ActionStatus::InProgress, None)),
            Ok(vec![Event::ActionStatusChanged {
                from: ActionStatus::NotStarted,
                to: ActionStatus::InProgress,
                reason: None
            }])
        );
        assert!(when(
            &[created()],
            change(ActionStatus::Blocked, Some("no budget"))
        )
        .is_ok());
        assert!(when(
            &[created()],
            change(ActionStatus::Cancelled, Some("merged"))
        )
        .is_ok());
        let history = [created(), reported(day(2025, 6, 1), 100)];
        assert!(when(&history, change(ActionStatus::Done, None)).is_ok());
        let state = given(&done_history());
        assert_eq!(state.action.map(|a| a.status), Some(ActionStatus::Done));
    }

    #[test]
    fn done_implies_progress_100() {
        let history = [created(), reported(day(2025, 6, 1), 99)];
        assert_eq!(
            when(&history, change(ActionStatus::Done, None)),
            rejected("progress", Rule::DoneRequiresFullProgress)
        );
    }

    #[test]
    fn blocked_and_cancelled_need_a_reason() {
        assert_eq!(
            when(&[created()], change(ActionStatus::Blocked, None)),
            rejected("reason", Rule::ReasonRequired)
        );
        assert_eq!(
            when(&[created()], change(ActionStatus::Cancelled, Some(""))),
            rejected("reason", Rule::ReasonRequired)
        );
    }

    #[test]
    fn change_to_the_same_status_is_rejected() {
        assert_eq!(
            when(&[created()], change(ActionStatus::NotStarted, None)),
            rejected(
                "to",
                Rule::InvalidTransition {
                    from: "not_started".into(),
                    to: "not_started".into()
                }
            )
        );
    }

    #[test]
    fn nothing_changes_on_a_finished_action() {
        let cancelled = vec![
            created(),
            status(ActionStatus::NotStarted, ActionStatus::Cancelled),
        ];
        let commands = [
            report(day(2025, 7, 1), 100, None),
            change(ActionStatus::InProgress, None),
            Command::ExtendDeadline(ExtendDeadline {
                action_id: ID,
                to: PartialDate::year(2026),
                reason: "r".into(),
            }),
            Command::ReassignOwner(ReassignOwner {
                action_id: ID,
                to: OTHER_OWNER,
                reason: "r".into(),
            }),
            Command::ReviseActionBudget(ReviseActionBudget {
                action_id: ID,
                to: Money::mad(Decimal::ONE),
                reason: "r".into(),
            }),
        ];
        for (history, status) in [(done_history(), "done"), (cancelled, "cancelled")] {
            for command in &commands {
                assert_eq!(
                    when(&history, command.clone()),
                    rejected(
                        "action_id",
                        Rule::ActionFinished {
                            status: status.into()
                        }
                    ),
                    "{command:?}"
                );
            }
        }
    }

    #[test]
    fn reopen_happy_path() {
        let reopen = Command::ReopenAction(ReopenAction {
            action_id: ID,
            reason: "audit found gaps".into(),
        });
        let expected = Event::ActionReopened {
            from: ActionStatus::Done,
            to: ActionStatus::InProgress,
            reason: "audit found gaps".into(),
        };
        assert_eq!(
            when(&done_history(), reopen.clone()),
            Ok(vec![expected.clone()])
        );
        let mut history = done_history();
        history.push(expected);
        let state = given(&history);
        assert_eq!(
            state.action.map(|a| a.status),
            Some(ActionStatus::InProgress)
        );
        // A cancelled action with no progress goes back to not started.
        let cancelled = [
            created(),
            status(ActionStatus::NotStarted, ActionStatus::Cancelled),
        ];
        assert_eq!(
            when(&cancelled, reopen),
            Ok(vec![Event::ActionReopened {
                from: ActionStatus::Cancelled,
                to: ActionStatus::NotStarted,
                reason: "audit found gaps".into(),
            }])
        );
    }

    #[test]
    fn reopen_needs_a_finished_action_and_a_reason() {
        let reopen = |reason: &str| {
            Command::ReopenAction(ReopenAction {
                action_id: ID,
                reason: reason.into(),
            })
        };
        assert_eq!(
            when(&[created()], reopen("r")),
            rejected(
                "status",
                Rule::InvalidTransition {
                    from: "not_started".into(),
                    to: "not_started".into()
                }
            )
        );
        assert_eq!(
            when(&done_history(), reopen(" ")),
            rejected("reason", Rule::ReasonRequired)
        );
    }

    // ---- slippage -----------------------------------------------------------------

    #[test]
    fn extend_deadline_happy_path() {
        let command = Command::ExtendDeadline(ExtendDeadline {
            action_id: ID,
            to: PartialDate::month(2026, 6),
            reason: "waiting for the finance law".into(),
        });
        let expected = Event::DeadlineExtended {
            from: Some(PartialDate::month(2025, 12)),
            to: PartialDate::month(2026, 6),
            reason: "waiting for the finance law".into(),
        };
        assert_eq!(when(&[created()], command), Ok(vec![expected.clone()]));
        let state = given(&[created(), expected]);
        assert_eq!(
            state.action.and_then(|a| a.due),
            Some(PartialDate::month(2026, 6))
        );
    }

    #[test]
    fn extend_deadline_rules() {
        let extend = |to, reason: &str| {
            Command::ExtendDeadline(ExtendDeadline {
                action_id: ID,
                to,
                reason: reason.into(),
            })
        };
        assert_eq!(
            when(&[created()], extend(PartialDate::year(2026), "")),
            rejected("reason", Rule::ReasonRequired)
        );
        assert_eq!(
            when(&[created()], extend(PartialDate::month(2025, 11), "r")),
            rejected("to", Rule::BeforePrevious)
        );
        assert_eq!(
            when(&[created()], extend(PartialDate::month(2025, 13), "r")),
            rejected("to.month", Rule::OutOfRange { min: 1, max: 12 })
        );
        assert_eq!(
            when(&[created()], extend(PartialDate::month(2025, 12), "r")),
            Ok(vec![])
        );
        // Within the same partly known period it is not certainly earlier.
        assert!(when(&[created()], extend(PartialDate::ymd(2025, 12, 15), "r")).is_ok());
    }

    #[test]
    fn reassign_owner_happy_path_and_rules() {
        let reassign = |to, reason: &str| {
            Command::ReassignOwner(ReassignOwner {
                action_id: ID,
                to,
                reason: reason.into(),
            })
        };
        let expected = Event::OwnerReassigned {
            from: OWNER,
            to: OTHER_OWNER,
            reason: "regional directorate takes over".into(),
        };
        assert_eq!(
            when(
                &[created()],
                reassign(OTHER_OWNER, "regional directorate takes over")
            ),
            Ok(vec![expected.clone()])
        );
        let state = given(&[created(), expected]);
        assert_eq!(
            state.action.map(|a| a.owner_organisation_id),
            Some(OTHER_OWNER)
        );
        assert_eq!(
            when(&[created()], reassign(OTHER_OWNER, "\n")),
            rejected("reason", Rule::ReasonRequired)
        );
        assert_eq!(when(&[created()], reassign(OWNER, "r")), Ok(vec![]));
    }

    #[test]
    fn revise_budget_happy_path_and_rules() {
        let revise = |amount: i64, currency: &str, reason: &str| {
            Command::ReviseActionBudget(ReviseActionBudget {
                action_id: ID,
                to: Money {
                    amount: Decimal::new(amount, 0),
                    currency: currency.into(),
                },
                reason: reason.into(),
            })
        };
        let expected = Event::BudgetRevised {
            from: None,
            to: Money::mad(Decimal::new(5_000_000, 0)),
            reason: "regional council co-funds".into(),
        };
        assert_eq!(
            when(
                &[created()],
                revise(5_000_000, "MAD", "regional council co-funds")
            ),
            Ok(vec![expected.clone()])
        );
        let history = [created(), expected];
        assert_eq!(
            given(&history).action.and_then(|a| a.budget),
            Some(Money::mad(Decimal::new(5_000_000, 0)))
        );
        assert_eq!(when(&history, revise(5_000_000, "MAD", "r")), Ok(vec![]));
        assert_eq!(
            when(&history, revise(1, "MAD", "")),
            rejected("reason", Rule::ReasonRequired)
        );
        assert_eq!(
            when(&history, revise(-1, "MAD", "r")),
            rejected("to.amount", Rule::NegativeAmount)
        );
        assert_eq!(
            when(&history, revise(1, "EURO", "r")),
            rejected(
                "to.currency",
                Rule::InvalidCurrency {
                    code: "EURO".into()
                }
            )
        );
    }

    // ---- apply, fold, serialisation ---------------------------------------------------

    #[test]
    fn apply_tolerates_orphans_and_replayed_creation() {
        let state = given(&[reported(day(2025, 1, 1), 10)]);
        assert_eq!(state.action, None);
        let state = given(&[created(), reported(day(2025, 1, 1), 10), created()]);
        let action = state.action.unwrap();
        assert_eq!(action.progress, 10);
        assert_eq!(action.last_report.map(|r| r.progress), Some(10));
        assert_eq!(state.version, 3);
        // "As of" version 1.
        let events = [created(), reported(day(2025, 1, 1), 10)];
        assert_eq!(fold(&events[..1]).action.map(|a| a.progress), Some(0));
    }

    #[test]
    fn every_event_round_trips() {
        let events = [
            Event::ActionCreated {
                action_id: ID,
                consultation_id: CONSULTATION,
                recommendation_ids: vec![R1, R2],
                agreement_id: Some(A1),
                title: Text::ar("t").with_fr("t"),
                description: Some(Text::en("d")),
                owner_organisation_id: OWNER,
                due: Some(PartialDate::year(2028)),
                budget: Some(Money::mad(Decimal::new(90_000_000_050, 2))),
            },
            Event::ProgressReported {
                on: day(2025, 3, 31),
                progress: 40,
                note: Some(Text::en("n")),
                reason: Some("r".into()),
            },
            status(ActionStatus::InProgress, ActionStatus::Blocked),
            Event::ActionReopened {
                from: ActionStatus::Cancelled,
                to: ActionStatus::NotStarted,
                reason: "r".into(),
            },
            Event::DeadlineExtended {
                from: None,
                to: PartialDate::month(2026, 6),
                reason: "r".into(),
            },
            Event::OwnerReassigned {
                from: OWNER,
                to: OTHER_OWNER,
                reason: "r".into(),
            },
            Event::BudgetRevised {
                from: Some(Money::mad(Decimal::ONE)),
                to: Money::mad(Decimal::new(290_000_000, 0)),
                reason: "r".into(),
            },
        ];
        assert_eq!(events.len(), Event::EVENT_TYPES.len());
        for event in &events {
            assert_round_trip(event);
        }
        assert_eq!(events[0].to_payload()["budget"]["amount"], "900000000.50");
        assert_eq!(events[1].to_payload()["on"], "2025-03-31");
    }

    #[test]
    fn commands_deserialise_from_snake_case_tags() {
        let json = serde_json::json!({
            "type": "report_progress",
            "action_id": ID,
            "on": "2025-03-31",
            "progress": 40,
        });
        let command: Command = serde_json::from_value(json).unwrap();
        assert_eq!(command.stream_id(), ID);
        let json = serde_json::json!({
            "type": "create_action",
            "action_id": ID,
            "consultation_id": CONSULTATION,
            "recommendation_ids": [R1],
            "title": {"ar": "تحويل التوصيات إلى مشاريع"},
            "owner_organisation_id": OWNER,
            "due": {"year": 2025},
        });
        let command: Command = serde_json::from_value(json).unwrap();
        // Seed files leave the facts out; the caller fills them in.
        assert!(matches!(&command, Command::CreateAction(c) if c.consultation.is_none()));
        let text = serde_json::to_string(&command).unwrap();
        assert_eq!(serde_json::from_str::<Command>(&text).unwrap(), command);
    }
}
