//! "Log a meeting": the guided flow a directorate's staff follow to record a consultation, one
//! step per page (plan, participants, recommendations, agreements, follow-up actions, held,
//! closed). Each form is one domain command, appended as soon as it is sent, so nothing is lost
//! when the browser closes: reopening `/meetings/{id}/{step}` continues from the log.
//!
//! Every form is declared once here as a [`Spec`] (its fields by the command's JSON paths, the
//! step that shows it, the command it becomes); one handler turns any of them into its command
//! and runs it through [`run_as`], so roles, regions, idempotency (`_key`) and conflicts
//! (`_version`) are handled the same way for all. Stakeholders are chosen as one types (htmx
//! asks `/meetings/suggest`), or without JavaScript with a search form and a radio choice.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Form, Router};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::auth::{run_as, WriteError};
use crate::commands::{consultation_state, AnyCommand, CommandContext, CommandError};
use crate::domain::consultation::{Consultation, ConsultationStatus};
use crate::domain::token::Role;
use crate::projections::lists::{self, StakeholderFilter};
use crate::store::StoreError;
use crate::web::forms::{self, Field, FieldError, FormProblem, FormView, Kind, Submitted};
use crate::web::i18n::{Lang, Tr};
use crate::web::{
    respond, see_other, session, Nav, PageContext, Viewer, WebError, WebResult, WebState,
};

/// This area's routes.
pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/meetings/new", get(new_page).post(new_submit))
        .route("/meetings/suggest", get(suggest))
        .route("/meetings/{id}/{step}", get(step_get).post(step_post))
}

/// The steps of the flow, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The details (planned, then revised).
    Plan,
    /// Who takes part.
    Participants,
    /// What was recommended.
    Recommendations,
    /// What was agreed or signed.
    Agreements,
    /// The follow-up actions.
    Actions,
    /// It took place.
    Held,
    /// Its record is closed.
    Close,
}

impl Step {
    const ALL: [Step; 7] = [
        Step::Plan,
        Step::Participants,
        Step::Recommendations,
        Step::Agreements,
        Step::Actions,
        Step::Held,
        Step::Close,
    ];

    /// The last segment of its path.
    pub fn slug(self) -> &'static str {
        match self {
            Step::Plan => "plan",
            Step::Participants => "participants",
            Step::Recommendations => "recommendations",
            Step::Agreements => "agreements",
            Step::Actions => "actions",
            Step::Held => "held",
            Step::Close => "close",
        }
    }

    fn parse(slug: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|s| s.slug() == slug)
    }

    fn label(self, tr: &Tr) -> String {
        tr.value("meeting-step", self.slug())
    }
}

/// Where a form leads once its command was appended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    /// To a step's page.
    Step(Step),
    /// Back to the participants, with the new stakeholder chosen in this field.
    Choose(&'static str),
}

/// A form of the flow, declared once.
#[derive(Debug)]
struct Spec {
    /// Its name: the last segment of the path it is posted to.
    name: &'static str,
    /// The step that shows it (`None`: the new-meeting page).
    step: Option<Step>,
    /// The command's aggregate and type (`AnyCommand`'s tags).
    aggregate: &'static str,
    command: &'static str,
    /// Whether the command names the consultation of the page (`consultation_id`).
    of_consultation: bool,
    /// Whether it changes the consultation: drawn with its version, refused on a conflict.
    versioned: bool,
    fields: &'static [Field],
    /// Hidden id fields given a fresh id when the form is drawn (a resubmission is the same
    /// command).
    fresh: &'static [&'static str],
    /// Paths of lists the form gives one member of.
    lists: &'static [&'static str],
    /// Values shown when drawn; dropped when nothing else of their object is given.
    defaults: &'static [(&'static str, &'static str)],
    /// The statuses in which the form is offered (the domain decides in the end).
    offered: &'static [ConsultationStatus],
    next: Next,
    heading: &'static str,
    submit: &'static str,
}

const CONSULTATION_KINDS: &[&str] = &[
    "regional_consultation",
    "workshop",
    "bilateral_meeting",
    "working_meeting",
    "signing_ceremony",
    "conference",
    "other",
];
const ROLES: &[&str] = &[
    "chair",
    "co_chair",
    "host",
    "organiser",
    "co_organiser",
    "supervisor",
    "speaker",
    "attendee",
    "signatory",
    "guest",
];
const ATTENDANCES: &[&str] = &["invited", "attended", "absent"];
const AGREEMENT_KINDS: &[&str] = &[
    "framework_agreement",
    "partnership_agreement",
    "amendment",
    "contract_programme",
    "memorandum",
    "other",
];
const AGREEMENT_STATUSES: &[&str] = &["signed", "envisaged", "previous"];
const SCOPE_LEVELS: &[&str] = &["national", "regional"];
const ORGANISATION_KINDS: &[&str] = &[
    "ministry",
    "ministry_delegate",
    "secretariat_of_state",
    "directorate",
    "regional_directorate",
    "wilaya",
    "prefecture",
    "province",
    "regional_council",
    "chamber",
    "federation",
    "confederation",
    "agency",
    "public_office",
    "public_institution",
    "company",
    "university",
    "foundation",
    "international_organisation",
    "competitiveness_cluster",
    "consultancy",
    "standards_body",
    "technical_centre",
    "association",
    "cooperative",
    "other",
];

const fn text(name: &'static str, label: &'static str) -> Field {
    Field::new(name, Kind::Text, label)
}
const fn int(name: &'static str, label: &'static str) -> Field {
    Field::new(name, Kind::Int, label)
}
const fn hidden(name: &'static str) -> Field {
    Field::new(name, Kind::Hidden, "meeting-field-id")
}

/// The consultation's details, as planned and as revised, followed by `$extra` fields.
macro_rules! with_details {
    ($($extra:expr),* $(,)?) => {
        &[
            Field::new(
                "kind",
                Kind::Select { values: CONSULTATION_KINDS, prefix: "consultation-kind" },
                "meeting-field-kind",
            )
            .required(),
            text("title.ar", "meeting-field-title-ar"),
            text("title.fr", "meeting-field-title-fr"),
            int("schedule.start.year", "meeting-field-start-year"),
            int("schedule.start.month", "meeting-field-start-month"),
            int("schedule.start.day", "meeting-field-start-day"),
            Field::new("schedule.start_time", Kind::Time, "meeting-field-start-time"),
            int("schedule.end.year", "meeting-field-end-year"),
            int("schedule.end.month", "meeting-field-end-month"),
            int("schedule.end.day", "meeting-field-end-day"),
            text("schedule.as_stated.ar", "meeting-field-as-stated-ar"),
            text("schedule.as_stated.fr", "meeting-field-as-stated-fr"),
            text("place.name.ar", "meeting-field-place-ar"),
            text("place.name.fr", "meeting-field-place-fr"),
            text("place.city.ar", "meeting-field-city-ar"),
            text("place.city.fr", "meeting-field-city-fr"),
            text("region", "meeting-field-region"),
            Field::new("purpose.ar", Kind::TextArea, "meeting-field-purpose-ar"),
            Field::new("purpose.fr", Kind::TextArea, "meeting-field-purpose-fr"),
            $($extra),*
        ]
    };
}

const PLAN_FIELDS: &[Field] = with_details![
    hidden("consultation_id"),
    Field::new("organisers", Kind::Organisation, "meeting-field-organiser"),
    text("sources.publisher.ar", "meeting-field-source-publisher-ar"),
    text("sources.publisher.fr", "meeting-field-source-publisher-fr"),
    text("sources.title.ar", "meeting-field-source-title-ar"),
    text("sources.title.fr", "meeting-field-source-title-fr"),
    text("sources.url", "meeting-field-source-url"),
    int("sources.published_on.year", "meeting-field-source-year"),
    int("sources.published_on.month", "meeting-field-source-month"),
    int("sources.published_on.day", "meeting-field-source-day"),
];

const REVISE_FIELDS: &[Field] =
    with_details![Field::new("reason", Kind::TextArea, "meeting-field-reason").required()];

const PARTICIPANT_FIELDS: &[Field] = &[
    hidden("participant_id"),
    Field::new("person_id", Kind::Person, "meeting-field-person"),
    Field::new(
        "organisation_id",
        Kind::Organisation,
        "meeting-field-organisation",
    ),
    text("capacity.ar", "meeting-field-capacity-ar"),
    text("capacity.fr", "meeting-field-capacity-fr"),
    Field::new(
        "role",
        Kind::Select {
            values: ROLES,
            prefix: "meeting-role",
        },
        "meeting-field-role",
    )
    .required(),
    Field::new(
        "attendance",
        Kind::Select {
            values: ATTENDANCES,
            prefix: "meeting-attendance",
        },
        "meeting-field-attendance",
    ),
];

const ORGANISATION_FIELDS: &[Field] = &[
    hidden("organisation_id"),
    text("name.ar", "meeting-field-name-ar"),
    text("name.fr", "meeting-field-name-fr"),
    text("acronym", "meeting-field-acronym"),
    Field::new(
        "kind",
        Kind::Select {
            values: ORGANISATION_KINDS,
            prefix: "meeting-organisation-kind",
        },
        "meeting-field-organisation-kind",
    )
    .required(),
    text("region", "meeting-field-region"),
];

const PERSON_FIELDS: &[Field] = &[
    hidden("person_id"),
    text("name.arabic", "meeting-field-name-arabic"),
    text("name.latin", "meeting-field-name-latin"),
];

const RECOMMENDATION_FIELDS: &[Field] = &[
    hidden("recommendation_id"),
    Field::new("text.ar", Kind::TextArea, "meeting-field-text-ar"),
    Field::new("text.fr", Kind::TextArea, "meeting-field-text-fr"),
    Field::new("themes", Kind::List, "meeting-field-themes"),
    text("proposer", "meeting-field-proposer"),
];

const AGREEMENT_FIELDS: &[Field] = &[
    hidden("agreement_id"),
    text("title.ar", "meeting-field-title-ar"),
    text("title.fr", "meeting-field-title-fr"),
    Field::new(
        "kind",
        Kind::Select {
            values: AGREEMENT_KINDS,
            prefix: "meeting-agreement-kind",
        },
        "meeting-field-agreement-kind",
    )
    .required(),
    Field::new(
        "status",
        Kind::Select {
            values: AGREEMENT_STATUSES,
            prefix: "meeting-agreement-status",
        },
        "meeting-field-agreement-status",
    ),
    Field::new("budget.amount", Kind::Decimal, "meeting-field-budget"),
    text("budget.currency", "meeting-field-currency"),
    // Where the budget counts: a national programme signed in Rabat is not Rabat's spending.
    Field::new(
        "scope.level",
        Kind::Select {
            values: SCOPE_LEVELS,
            prefix: "meeting-scope-level",
        },
        "meeting-field-scope-level",
    ),
    text("scope.region", "meeting-field-scope-region"),
    int("period.start.year", "meeting-field-period-start"),
    int("period.end.year", "meeting-field-period-end"),
    text("programme.ar", "meeting-field-programme-ar"),
    text("programme.fr", "meeting-field-programme-fr"),
    int("signed_on.year", "meeting-field-signed-year"),
    int("signed_on.month", "meeting-field-signed-month"),
    int("signed_on.day", "meeting-field-signed-day"),
];

const SIGNATORY_FIELDS: &[Field] = &[
    text("agreement_id", "meeting-field-agreement").required(),
    Field::new(
        "party.organisation_id",
        Kind::Organisation,
        "meeting-field-party",
    ),
    Field::new(
        "party.signatory_person_id",
        Kind::Person,
        "meeting-field-signatory",
    ),
    text("party.signatory_capacity.ar", "meeting-field-capacity-ar"),
    text("party.signatory_capacity.fr", "meeting-field-capacity-fr"),
    Field::new(
        "party.commitments.ar",
        Kind::TextArea,
        "meeting-field-commitment-ar",
    ),
    Field::new(
        "party.commitments.fr",
        Kind::TextArea,
        "meeting-field-commitment-fr",
    ),
];

const ACTION_FIELDS: &[Field] = &[
    hidden("action_id"),
    text("title.ar", "meeting-field-title-ar"),
    text("title.fr", "meeting-field-title-fr"),
    Field::new(
        "owner_organisation_id",
        Kind::Organisation,
        "meeting-field-owner",
    ),
    int("due.year", "meeting-field-due-year"),
    int("due.month", "meeting-field-due-month"),
    int("due.day", "meeting-field-due-day"),
    text("recommendation_ids", "meeting-field-follows"),
    text("agreement_id", "meeting-field-agreement"),
];

use ConsultationStatus::{Closed, Held, Planned};

const SPECS: &[Spec] = &[
    Spec {
        name: "new",
        step: None,
        aggregate: "consultation",
        command: "plan_consultation",
        of_consultation: false,
        versioned: false,
        fields: PLAN_FIELDS,
        fresh: &["consultation_id"],
        lists: &["organisers", "sources"],
        defaults: &[],
        offered: &[],
        next: Next::Step(Step::Participants),
        heading: "meeting-form-plan",
        submit: "meeting-submit-plan",
    },
    Spec {
        name: "plan",
        step: Some(Step::Plan),
        aggregate: "consultation",
        command: "revise_consultation_details",
        of_consultation: true,
        versioned: true,
        fields: REVISE_FIELDS,
        fresh: &[],
        lists: &[],
        defaults: &[],
        offered: &[Planned, Held, Closed],
        next: Next::Step(Step::Plan),
        heading: "meeting-form-revise",
        submit: "meeting-submit-revise",
    },
    Spec {
        name: "participants",
        step: Some(Step::Participants),
        aggregate: "consultation",
        command: "register_participant",
        of_consultation: true,
        versioned: true,
        fields: PARTICIPANT_FIELDS,
        fresh: &["participant_id"],
        lists: &[],
        defaults: &[],
        offered: &[Planned, Held],
        next: Next::Step(Step::Participants),
        heading: "meeting-form-participant",
        submit: "meeting-submit-participant",
    },
    Spec {
        name: "organisations",
        step: Some(Step::Participants),
        aggregate: "organisation",
        command: "register_organisation",
        of_consultation: false,
        versioned: false,
        fields: ORGANISATION_FIELDS,
        fresh: &["organisation_id"],
        lists: &[],
        defaults: &[],
        offered: &[Planned, Held],
        next: Next::Choose("organisation_id"),
        heading: "meeting-form-organisation",
        submit: "meeting-submit-organisation",
    },
    Spec {
        name: "people",
        step: Some(Step::Participants),
        aggregate: "person",
        command: "register_person",
        of_consultation: false,
        versioned: false,
        fields: PERSON_FIELDS,
        fresh: &["person_id"],
        lists: &[],
        defaults: &[],
        offered: &[Planned, Held],
        next: Next::Choose("person_id"),
        heading: "meeting-form-person",
        submit: "meeting-submit-person",
    },
    Spec {
        name: "recommendations",
        step: Some(Step::Recommendations),
        aggregate: "consultation",
        command: "propose_recommendation",
        of_consultation: true,
        versioned: true,
        fields: RECOMMENDATION_FIELDS,
        fresh: &["recommendation_id"],
        lists: &[],
        defaults: &[],
        offered: &[Planned, Held],
        next: Next::Step(Step::Recommendations),
        heading: "meeting-form-recommendation",
        submit: "meeting-submit-recommendation",
    },
    Spec {
        name: "agreements",
        step: Some(Step::Agreements),
        aggregate: "consultation",
        command: "record_agreement",
        of_consultation: true,
        versioned: true,
        fields: AGREEMENT_FIELDS,
        fresh: &["agreement_id"],
        lists: &[],
        defaults: &[("budget.currency", "MAD")],
        offered: &[Planned, Held],
        next: Next::Step(Step::Agreements),
        heading: "meeting-form-agreement",
        submit: "meeting-submit-agreement",
    },
    Spec {
        name: "signatories",
        step: Some(Step::Agreements),
        aggregate: "consultation",
        command: "add_agreement_signatory",
        of_consultation: true,
        versioned: true,
        fields: SIGNATORY_FIELDS,
        fresh: &[],
        lists: &["party.commitments"],
        defaults: &[],
        offered: &[Planned, Held],
        next: Next::Step(Step::Agreements),
        heading: "meeting-form-signatory",
        submit: "meeting-submit-signatory",
    },
    Spec {
        name: "actions",
        step: Some(Step::Actions),
        aggregate: "action",
        command: "create_action",
        of_consultation: true,
        versioned: false,
        fields: ACTION_FIELDS,
        fresh: &["action_id"],
        lists: &["recommendation_ids"],
        defaults: &[],
        offered: &[Planned, Held, Closed],
        next: Next::Step(Step::Actions),
        heading: "meeting-form-action",
        submit: "meeting-submit-action",
    },
    Spec {
        name: "held",
        step: Some(Step::Held),
        aggregate: "consultation",
        command: "mark_consultation_held",
        of_consultation: true,
        versioned: true,
        fields: &[],
        fresh: &[],
        lists: &[],
        defaults: &[],
        offered: &[Planned],
        next: Next::Step(Step::Close),
        heading: "meeting-form-held",
        submit: "meeting-submit-held",
    },
    Spec {
        name: "close",
        step: Some(Step::Close),
        aggregate: "consultation",
        command: "close_consultation",
        of_consultation: true,
        versioned: true,
        fields: &[],
        fresh: &[],
        lists: &[],
        defaults: &[],
        offered: &[Held],
        next: Next::Step(Step::Close),
        heading: "meeting-form-close",
        submit: "meeting-submit-close",
    },
];

fn spec(name: &str) -> Option<&'static Spec> {
    SPECS.iter().find(|s| s.name == name)
}

/// One link of the steps bar.
pub struct StepLink {
    /// Where it leads (none before the consultation exists).
    pub href: Option<String>,
    /// Its label.
    pub label: String,
    /// Whether it is this page's step.
    pub current: bool,
}

/// A form drawn on a page.
pub struct Block {
    /// The spec's name (ids on the page).
    pub name: &'static str,
    /// Its heading.
    pub heading: String,
    /// Its button.
    pub submit: String,
    /// Where it is posted.
    pub action: String,
    /// Its fields.
    pub form: FormView,
    /// Its idempotency key.
    pub key: String,
    /// The consultation's version when drawn, for forms that change it.
    pub version: Option<i64>,
}

/// A change someone else made since a form was drawn.
pub struct Change {
    /// What happened.
    pub what: String,
    /// Who did it.
    pub who: String,
    /// When, shown.
    pub when: String,
    /// When, machine-readable.
    pub iso: String,
}

/// A list shown on a step: cells are HTML already escaped (texts in the other language carry
/// their own `lang`).
pub struct Table {
    /// Its element id.
    pub id: &'static str,
    /// Its heading.
    pub heading: String,
    /// The column headers.
    pub columns: Vec<String>,
    /// The rows; the first cell heads its row.
    pub rows: Vec<Vec<String>>,
}

/// A message above the page's content.
pub struct Notice {
    /// `ok`, `warn` or `error`.
    pub class: &'static str,
    /// `status` or `alert`.
    pub role: &'static str,
    /// The message.
    pub text: String,
}

#[derive(Template)]
#[template(path = "meeting.html", config = "src/web/askama.toml")]
struct MeetingPage {
    p: PageContext,
    /// The consultation's id (empty on the new-meeting page).
    id: String,
    /// The path the search forms come back to.
    here: String,
    steps: Vec<StepLink>,
    /// The consultation's title (HTML) and status, once planned.
    heading: Option<(String, String)>,
    notice: Option<Notice>,
    changes: Vec<Change>,
    facts: Vec<(String, String)>,
    tables: Vec<Table>,
    blocks: Vec<Block>,
    /// Names of the stakeholders chosen in the forms, by id.
    names: HashMap<String, String>,
    /// The picker field a search without JavaScript was for, its words and its matches.
    pick: String,
    q: String,
    matches: Vec<(String, String)>,
    next: Option<StepLink>,
}

impl MeetingPage {
    /// The name of the stakeholder chosen in a picker.
    fn chosen(&self, id: &str) -> String {
        self.names.get(id).cloned().unwrap_or_default()
    }

    /// The words searched for a picker (without JavaScript).
    fn query_for(&self, field: &str) -> &str {
        if self.pick == field {
            &self.q
        } else {
            ""
        }
    }
}

#[derive(Template)]
#[template(path = "meeting_suggest.html", config = "src/web/askama.toml")]
struct Suggestions {
    tr: Tr,
    target: String,
    matches: Vec<(String, String)>,
}

/// The query of a step page: a search without JavaScript, a stakeholder to preselect, a
/// confirmation.
#[derive(Debug, Default, Deserialize)]
pub struct StepQuery {
    /// The picker field searched for.
    pub pick: Option<String>,
    /// The words.
    pub q: Option<String>,
    /// Set after a form was saved.
    pub saved: Option<String>,
    /// An organisation to preselect (just registered).
    pub organisation_id: Option<Uuid>,
    /// A person to preselect (just registered).
    pub person_id: Option<Uuid>,
}

/// The stakeholder search of `/meetings/suggest`.
#[derive(Debug, Default, Deserialize)]
pub struct SuggestQuery {
    /// `organisation` or `person`.
    pub kind: Option<String>,
    /// The words.
    pub q: Option<String>,
    /// The id of the hidden input a choice fills.
    pub target: Option<String>,
}

/// Why a form was not accepted, ready to draw again.
struct Failed {
    spec: &'static Spec,
    form: FormView,
    key: String,
    version: Option<i64>,
    status: StatusCode,
    notice: Option<String>,
    changes: Vec<Change>,
}

/// The most matches a stakeholder search shows.
const MAX_MATCHES: i64 = 10;

/// The words of a stakeholder search are cut to what the read model's search takes.
const MAX_QUERY_CHARS: usize = 100;

/// Organisations or people whose names match `q` (the read models' Arabic-aware search), as
/// (id, name).
async fn matches(state: &WebState, kind: &str, q: &str) -> Result<Vec<(String, String)>, WebError> {
    let words: Vec<&str> = q.split_whitespace().take(lists::MAX_SEARCH_TERMS).collect();
    if words.is_empty() {
        return Ok(Vec::new());
    }
    let search: String = words.join(" ").chars().take(MAX_QUERY_CHARS).collect();
    let filter = StakeholderFilter {
        search: Some(search),
        ..StakeholderFilter::default()
    };
    let pool = state.store.pool();
    let page = match kind {
        "person" => lists::people(pool, &filter, MAX_MATCHES, None, false).await,
        _ => lists::organisations(pool, &filter, MAX_MATCHES, None, false).await,
    };
    match page {
        Ok(page) => Ok(page
            .rows
            .into_iter()
            .map(|r| (r.id.0.to_string(), r.title))
            .collect()),
        // Words the search cannot take (too many once split) match nothing.
        Err(StoreError::Validation { .. }) => Ok(Vec::new()),
        Err(error) => Err(error.into()),
    }
}

/// `GET /meetings/suggest`: the stakeholders matching what is typed, as buttons that fill a
/// picker (an htmx fragment).
async fn suggest(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    Query(query): Query<SuggestQuery>,
) -> Response {
    let result = async {
        viewer.user()?;
        let target = query.target.unwrap_or_default();
        // The target is echoed into an attribute: only an id of ours.
        if target.is_empty()
            || !target
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(WebError::BadRequest);
        }
        let kind = query.kind.unwrap_or_default();
        let matches = matches(&state, &kind, query.q.as_deref().unwrap_or("")).await?;
        let fragment = Suggestions {
            tr: viewer.tr,
            target,
            matches,
        };
        Ok(Html(fragment.render()?).into_response())
    }
    .await;
    respond(&viewer, result)
}

/// Escapes a text for a table cell.
fn esc(value: &str) -> String {
    askama::filters::escape(value, askama::filters::Html)
        .map(|e| e.to_string())
        .unwrap_or_default()
}

/// The snake_case name of a closed value (an enum's serde name).
fn name_of<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(s)) => s,
        _ => String::new(),
    }
}

/// `ConsultationHeld` -> `consultation_held`, for the catalogue's event labels.
fn snake(event_type: &str) -> String {
    let mut out = String::new();
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

/// A record's values by the dotted paths forms use (to draw a revision with what is there).
fn flatten(value: &Value, prefix: &str, out: &mut HashMap<String, String>) {
    let path = |key: &str| {
        if prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{prefix}.{key}")
        }
    };
    match value {
        Value::Object(members) => {
            for (key, member) in members {
                flatten(member, &path(key), out);
            }
        }
        Value::String(s) => {
            out.insert(prefix.to_owned(), s.clone());
        }
        Value::Number(n) => {
            out.insert(prefix.to_owned(), n.to_string());
        }
        _ => {}
    }
}

/// Removes the value at a dotted path.
fn remove_path(root: &mut Value, path: &str) {
    let mut node = root;
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        let Value::Object(members) = node else {
            return;
        };
        if parts.peek().is_none() {
            members.remove(part);
            return;
        }
        match members.get_mut(part) {
            Some(next) => node = next,
            None => return,
        }
    }
}

/// Copies `from`'s members into `into`, object by object.
fn merge(into: &mut Value, from: Value) {
    match (into, from) {
        (Value::Object(target), Value::Object(source)) => {
            for (key, value) in source {
                match target.get_mut(&key) {
                    Some(existing) if existing.is_object() && value.is_object() => {
                        merge(existing, value)
                    }
                    _ => {
                        target.insert(key, value);
                    }
                }
            }
        }
        (target, source) => *target = source,
    }
}

/// Drops objects left empty (a cleared purpose is no purpose, not an empty text).
fn prune(value: &mut Value) {
    if let Value::Object(members) = value {
        for member in members.values_mut() {
            prune(member);
        }
        members.retain(|_, v| !matches!(v, Value::Object(m) if m.is_empty()));
    }
}

/// Turns the value at `path` into a one-member list (the form gives the list's first member).
fn wrap_list(root: &mut Value, path: &str) {
    let (parent, last) = match path.rsplit_once('.') {
        Some((parent, last)) => (Some(parent), last),
        None => (None, path),
    };
    let mut node = Some(root);
    for part in parent.into_iter().flat_map(|p| p.split('.')) {
        node = node.and_then(|n| n.get_mut(part));
    }
    if let Some(Value::Object(members)) = node {
        if let Some(value) = members.remove(last) {
            let list = if value.is_array() {
                value
            } else {
                Value::Array(vec![value])
            };
            members.insert(last.to_owned(), list);
        }
    }
}

/// The submission without empty values (an unset picker beside a chosen radio, blank inputs)
/// and without defaults nobody completed (a currency without an amount).
fn cleaned(spec: &Spec, submitted: Submitted) -> Submitted {
    let filled: Submitted = submitted
        .into_iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .collect();
    let lone_default = |name: &str, value: &str| {
        spec.defaults.iter().any(|(path, default)| {
            let group = path
                .rsplit_once('.')
                .map_or(String::new(), |(g, _)| format!("{g}."));
            // A default of the form's root object is always kept.
            !group.is_empty()
                && *path == name
                && *default == value
                && !filled
                    .iter()
                    .any(|(k, _)| k != name && k.starts_with(&group))
        })
    };
    filled
        .iter()
        .filter(|(k, v)| !lone_default(k, v))
        .cloned()
        .collect()
}

/// Places each error on the field that shows it: `title` (no title at all) on `title.ar`,
/// `sources[0].url` on `sources.url`.
fn placed(errors: Vec<FieldError>, fields: &[Field]) -> Vec<FieldError> {
    errors
        .into_iter()
        .map(|mut error| {
            let mut path = String::new();
            let mut skipping = false;
            for c in error.field.chars() {
                match c {
                    '[' => skipping = true,
                    ']' => skipping = false,
                    c if !skipping => path.push(c),
                    _ => {}
                }
            }
            let shown = fields.iter().any(|f| {
                f.kind != Kind::Hidden
                    && (f.name == path || path.starts_with(&format!("{}.", f.name)))
            });
            if !shown {
                if let Some(field) = fields
                    .iter()
                    .find(|f| f.kind != Kind::Hidden && f.name.starts_with(&format!("{path}.")))
                {
                    path = field.name.to_owned();
                }
            }
            error.field = path;
            error
        })
        .collect()
}

/// The command a submission stands for: the declared fields by their paths, lists wrapped,
/// the page's consultation, on top of `base` (what a revision keeps of the record).
fn command_json(
    spec: &Spec,
    submitted: &Submitted,
    tr: &Tr,
    consultation: Option<Uuid>,
    base: Option<Value>,
) -> Result<Value, Vec<FieldError>> {
    let mut json = forms::to_json(spec.fields, submitted, tr)?;
    for path in spec.lists {
        wrap_list(&mut json, path);
    }
    if let Some(mut base) = base {
        for field in spec.fields {
            remove_path(&mut base, field.name);
        }
        merge(&mut base, json);
        json = base;
    }
    prune(&mut json);
    if let Value::Object(members) = &mut json {
        if let (true, Some(id)) = (spec.of_consultation, consultation) {
            members.insert("consultation_id".into(), Value::String(id.to_string()));
        }
        members.insert("aggregate".into(), Value::String(spec.aggregate.into()));
        members.insert("type".into(), Value::String(spec.command.into()));
    }
    Ok(json)
}

/// Draws a spec's form with these values.
fn draw(
    spec: &'static Spec,
    tr: &Tr,
    mut values: HashMap<String, String>,
    action: String,
    version: Option<i64>,
) -> Result<Block, WebError> {
    for name in spec.fresh {
        values.insert((*name).to_owned(), Uuid::new_v4().to_string());
    }
    for (name, default) in spec.defaults {
        values
            .entry((*name).to_owned())
            .or_insert_with(|| (*default).to_owned());
    }
    Ok(Block {
        name: spec.name,
        heading: tr.t(spec.heading),
        submit: tr.t(spec.submit),
        action,
        form: FormView::new(spec.fields, &values, &[], tr),
        key: session::random_hex()?,
        version: spec.versioned.then_some(version).flatten(),
    })
}

/// The steps bar: links once the consultation exists.
fn steps(tr: &Tr, id: Option<Uuid>, current: Step) -> Vec<StepLink> {
    Step::ALL
        .into_iter()
        .map(|step| StepLink {
            href: id.map(|id| format!("/meetings/{id}/{}", step.slug())),
            label: step.label(tr),
            current: step == current,
        })
        .collect()
}

/// Runs a submitted form: its command through [`run_as`], or the reason it was not accepted.
async fn save(
    state: &WebState,
    viewer: &Viewer,
    spec: &'static Spec,
    consultation: Option<Uuid>,
    submitted: Submitted,
    base: Option<Value>,
) -> Result<Result<Uuid, Failed>, WebError> {
    let tr = viewer.tr;
    let submitted = cleaned(spec, submitted);
    let key = forms::value(&submitted, "_key").unwrap_or("").to_owned();
    let version = forms::value(&submitted, "_version").and_then(|v| v.parse::<i64>().ok());
    let failed = |errors: Vec<FieldError>, status, notice, version, changes| Failed {
        spec,
        form: FormView::submitted(spec.fields, &submitted, &placed(errors, spec.fields), &tr),
        key: key.clone(),
        version,
        status,
        notice,
        changes,
    };
    let json = match command_json(spec, &submitted, &tr, consultation, base) {
        Ok(json) => json,
        Err(errors) => {
            return Ok(Err(failed(
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                version,
                Vec::new(),
            )))
        }
    };
    let command = match forms::decode::<AnyCommand>(&json, &tr) {
        Ok(command) => command,
        Err(error) => {
            return Ok(Err(failed(
                vec![forms::locate(error, spec.fields, &submitted)],
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                version,
                Vec::new(),
            )))
        }
    };
    let access = viewer.access();
    let context = CommandContext {
        actor: access.actor(),
        expected_version: if spec.versioned { version } else { None },
        // A retry after a lost answer is answered from the log, not written twice.
        idempotency_key: Some(key.clone()).filter(|k| !k.is_empty()),
        reason: None,
        correlation_id: None,
    };
    let error = match run_as(&state.store, &access, command, context).await {
        Ok(outcome) => return Ok(Ok(outcome.stream_id)),
        Err(WriteError::Command(CommandError::Store(StoreError::IdempotencyMismatch {
            ..
        }))) => {
            return Ok(Err(failed(
                Vec::new(),
                StatusCode::CONFLICT,
                Some(tr.t("meeting-already-sent")),
                version,
                Vec::new(),
            )))
        }
        Err(error) => error,
    };
    Ok(Err(match forms::write_error(error, &tr)? {
        FormProblem::Field(error) => failed(
            vec![error],
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            version,
            Vec::new(),
        ),
        // Only a refused write is a problem of the whole form.
        FormProblem::Form(message) => failed(
            Vec::new(),
            StatusCode::FORBIDDEN,
            Some(message),
            version,
            Vec::new(),
        ),
        FormProblem::Conflict { actual } => {
            let changes = match consultation {
                Some(id) => changes_since(state, &tr, id, version.unwrap_or(0)).await?,
                None => Vec::new(),
            };
            failed(
                Vec::new(),
                StatusCode::CONFLICT,
                Some(tr.t("meeting-conflict")),
                Some(actual),
                changes,
            )
        }
    }))
}

/// What was appended to the consultation after `version`: what, who, when.
async fn changes_since(
    state: &WebState,
    tr: &Tr,
    id: Uuid,
    version: i64,
) -> Result<Vec<Change>, WebError> {
    let events = state.store.read_stream_after(id, version, None).await?;
    Ok(events
        .into_iter()
        .map(|e| {
            let at = e.metadata.recorded_at;
            Change {
                what: tr.value("meeting-event", &snake(&e.event_type)),
                who: e.metadata.actor_name,
                when: format!("{} {}", tr.date(at.date_naive()), at.format("%H:%M")),
                iso: at.to_rfc3339(),
            }
        })
        .collect())
}

fn parse_id(id: &str) -> Result<Uuid, WebError> {
    Uuid::parse_str(id).map_err(|_| WebError::BadRequest)
}

/// `GET /meetings/new`: the first step, planning the consultation.
async fn new_page(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    Query(query): Query<StepQuery>,
) -> Response {
    let result = new_render(&state, &viewer, &query, None).await;
    respond(&viewer, result)
}

/// `POST /meetings/new`: plans the consultation, then on to its participants.
async fn new_submit(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    Form(submitted): Form<Submitted>,
) -> Response {
    let result = async {
        viewer.require(&[Role::Admin, Role::Editor])?;
        viewer.check_csrf(forms::value(&submitted, session::CSRF_FIELD))?;
        let spec = spec("new").ok_or(WebError::NotFound)?;
        match save(&state, &viewer, spec, None, submitted, None).await? {
            Ok(id) => Ok(see_other(&format!("/meetings/{id}/participants?saved=1"))),
            Err(failed) => new_render(&state, &viewer, &StepQuery::default(), Some(failed)).await,
        }
    }
    .await;
    respond(&viewer, result)
}

async fn new_render(
    state: &WebState,
    viewer: &Viewer,
    query: &StepQuery,
    failed: Option<Failed>,
) -> WebResult {
    let user = viewer.require(&[Role::Admin, Role::Editor])?;
    let tr = viewer.tr;
    let spec = spec("new").ok_or(WebError::NotFound)?;
    let (block, status, notice) = match failed {
        Some(f) => (
            Block {
                name: spec.name,
                heading: tr.t(spec.heading),
                submit: tr.t(spec.submit),
                action: "/meetings/new".into(),
                form: f.form,
                key: f.key,
                version: None,
            },
            f.status,
            f.notice,
        ),
        None => {
            let mut values = HashMap::new();
            if let Some(region) = user.regions.first() {
                values.insert("region".to_owned(), region.clone());
            }
            let block = draw(spec, &tr, values, "/meetings/new".into(), None)?;
            (block, StatusCode::OK, None)
        }
    };
    let mut page = MeetingPage {
        p: viewer.page(tr.t("meeting-new-title"), Nav::NewMeeting),
        id: String::new(),
        here: "/meetings/new".into(),
        steps: steps(&tr, None, Step::Plan),
        heading: None,
        notice: notice.map(|text| Notice {
            class: "error",
            role: "alert",
            text,
        }),
        changes: Vec::new(),
        facts: Vec::new(),
        tables: Vec::new(),
        blocks: vec![block],
        names: HashMap::new(),
        pick: String::new(),
        q: String::new(),
        matches: Vec::new(),
        next: None,
    };
    finish(state, &tr, &mut page, None, query).await?;
    render(&page, status)
}

/// Fills what every page's forms need: choices of selects, names of chosen stakeholders,
/// matches of a search without JavaScript.
async fn finish(
    state: &WebState,
    tr: &Tr,
    page: &mut MeetingPage,
    consultation: Option<&Consultation>,
    query: &StepQuery,
) -> Result<(), WebError> {
    let mut ids: Vec<Uuid> = Vec::new();
    if let Some(c) = consultation {
        ids.extend(c.organisers.iter().copied());
        for p in &c.participants {
            ids.extend(p.person_id.into_iter().chain(p.organisation_id));
        }
        for a in &c.agreements {
            for party in &a.parties {
                ids.extend(
                    party
                        .organisation_id
                        .into_iter()
                        .chain(party.signatory_person_id),
                );
            }
        }
    }
    for block in &page.blocks {
        for f in &block.form.fields {
            if matches!(f.field.kind, Kind::Organisation | Kind::Person) {
                ids.extend(Uuid::parse_str(&f.value).ok());
            }
        }
    }
    ids.sort();
    ids.dedup();
    let pool = state.store.pool();
    let found = lists::organisations_by_ids(pool, &ids)
        .await?
        .into_iter()
        .chain(lists::people_by_ids(pool, &ids).await?);
    page.names = found.map(|r| (r.id.0.to_string(), r.title)).collect();

    let options = |name: &str| -> Option<Vec<(String, String)>> {
        match name {
            "region" => Some(tr.regions()),
            _ => {
                let c = consultation?;
                match name {
                    "proposer" => Some(
                        c.participants
                            .iter()
                            .map(|p| {
                                (
                                    p.participant_id.to_string(),
                                    participant_name(tr, p, &page.names),
                                )
                            })
                            .collect(),
                    ),
                    "agreement_id" => Some(
                        c.agreements
                            .iter()
                            .map(|a| {
                                (
                                    a.agreement_id.to_string(),
                                    tr.text(&a.title).value.into_owned(),
                                )
                            })
                            .collect(),
                    ),
                    "recommendation_ids" => Some(
                        c.recommendations
                            .iter()
                            .map(|r| {
                                let text: String =
                                    tr.text(&r.text).value.chars().take(90).collect();
                                (r.recommendation_id.to_string(), text)
                            })
                            .collect(),
                    ),
                    _ => None,
                }
            }
        }
    };
    let mut filled = Vec::new();
    for (b, block) in page.blocks.iter().enumerate() {
        for (i, f) in block.form.fields.iter().enumerate() {
            if f.field.kind == Kind::Text {
                if let Some(list) = options(f.field.name) {
                    filled.push((b, i, list));
                }
            }
        }
    }
    for (b, i, list) in filled {
        if let Some(f) = page
            .blocks
            .get_mut(b)
            .and_then(|b| b.form.fields.get_mut(i))
        {
            f.options = list;
        }
    }
    // A choice among none (no participant yet to propose, no agreement yet to sign) is left
    // out, and a form that needs one is not offered.
    let dynamic = |f: &forms::FieldView| {
        f.field.kind == Kind::Text && f.options.is_empty() && options(f.field.name).is_some()
    };
    page.blocks
        .retain(|b| !b.form.fields.iter().any(|f| f.field.required && dynamic(f)));
    for block in &mut page.blocks {
        block.form.fields.retain(|f| !dynamic(f));
    }

    if let (Some(pick), Some(q)) = (&query.pick, &query.q) {
        let picker = page
            .blocks
            .iter()
            .flat_map(|b| b.form.fields.iter())
            .find(|f| f.field.name == pick.as_str())
            .map(|f| f.field.kind);
        let kind = match picker {
            Some(Kind::Organisation) => Some("organisation"),
            Some(Kind::Person) => Some("person"),
            _ => None,
        };
        if let Some(kind) = kind {
            page.matches = matches(state, kind, q).await?;
            page.pick = pick.clone();
            page.q = q.clone();
        }
    }
    Ok(())
}

/// A participant as named in choices and lists: the person, else the organisation, with the
/// capacity.
fn participant_name(
    tr: &Tr,
    p: &crate::domain::consultation::Participant,
    names: &HashMap<String, String>,
) -> String {
    let name = |id: Option<Uuid>| id.and_then(|id| names.get(&id.to_string()).cloned());
    let mut shown = name(p.person_id)
        .or_else(|| name(p.organisation_id))
        .unwrap_or_default();
    if let Some(capacity) = &p.capacity {
        let capacity = tr.text(capacity).value.into_owned();
        if !capacity.is_empty() {
            shown = if shown.is_empty() {
                capacity
            } else {
                format!("{shown} ({capacity})")
            };
        }
    }
    shown
}

fn render(page: &MeetingPage, status: StatusCode) -> WebResult {
    Ok((status, Html(page.render()?)).into_response())
}

/// `GET /meetings/{id}/{step}`.
async fn step_get(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    Path((id, step)): Path<(String, String)>,
    Query(query): Query<StepQuery>,
) -> Response {
    let result = async {
        let id = parse_id(&id)?;
        let step = Step::parse(&step).ok_or(WebError::NotFound)?;
        step_render(&state, &viewer, id, step, &query, None).await
    }
    .await;
    respond(&viewer, result)
}

/// `POST /meetings/{id}/{form}`: one of the step forms.
async fn step_post(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    Path((id, form)): Path<(String, String)>,
    Form(submitted): Form<Submitted>,
) -> Response {
    let result = async {
        viewer.check_csrf(forms::value(&submitted, session::CSRF_FIELD))?;
        let id = parse_id(&id)?;
        let spec = spec(&form).ok_or(WebError::NotFound)?;
        let step = spec.step.ok_or(WebError::NotFound)?;
        let current = consultation_state(&state.store, id, None).await?;
        let Some(consultation) = current.consultation else {
            return Err(WebError::NotFound);
        };
        // A revision replaces the details: what the form does not show is kept as it is.
        let base = match spec.command {
            "revise_consultation_details" => Some(
                serde_json::to_value(&consultation.details)
                    .map_err(|e| WebError::Internal(e.to_string()))?,
            ),
            _ => None,
        };
        match save(&state, &viewer, spec, Some(id), submitted, base).await? {
            Ok(stream) => Ok(see_other(&match spec.next {
                Next::Step(next) => format!("/meetings/{id}/{}?saved=1", next.slug()),
                Next::Choose(field) => {
                    format!("/meetings/{id}/participants?{field}={stream}&saved=1")
                }
            })),
            Err(failed) => {
                let query = StepQuery::default();
                step_render(&state, &viewer, id, step, &query, Some(failed)).await
            }
        }
    }
    .await;
    respond(&viewer, result)
}

async fn step_render(
    state: &WebState,
    viewer: &Viewer,
    id: Uuid,
    step: Step,
    query: &StepQuery,
    failed: Option<Failed>,
) -> WebResult {
    viewer.user()?;
    let tr = viewer.tr;
    let current = consultation_state(&state.store, id, None).await?;
    let Some(c) = current.consultation.as_ref() else {
        return Err(WebError::NotFound);
    };
    let version = i64::try_from(current.version).map_err(|e| WebError::Internal(e.to_string()))?;
    let region = lists::consultation_region(state.store.pool(), id).await?;
    let writable = viewer.may_write(region.as_deref());

    let mut status = StatusCode::OK;
    let mut notice = None;
    let mut changes = Vec::new();
    let mut blocks = Vec::new();
    let mut failed = failed;
    for spec in SPECS.iter().filter(|s| s.step == Some(step)) {
        let action = format!("/meetings/{id}/{}", spec.name);
        if let Some(f) = failed.take_if(|f| f.spec.name == spec.name) {
            status = f.status;
            notice = f.notice.map(|text| Notice {
                class: "error",
                role: "alert",
                text,
            });
            changes = f.changes;
            if writable {
                blocks.push(Block {
                    name: spec.name,
                    heading: tr.t(spec.heading),
                    submit: tr.t(spec.submit),
                    action,
                    form: f.form,
                    key: f.key,
                    version: f.version,
                });
            }
            continue;
        }
        if !writable || !(spec.offered.is_empty() || spec.offered.contains(&c.status)) {
            continue;
        }
        let mut values = HashMap::new();
        match spec.name {
            "plan" => {
                if let Ok(details) = serde_json::to_value(&c.details) {
                    flatten(&details, "", &mut values);
                }
            }
            "organisations" => {
                if let Some(region) = &region {
                    values.insert("region".to_owned(), region.clone());
                }
            }
            "participants" => {
                let chosen = [
                    ("organisation_id", query.organisation_id),
                    ("person_id", query.person_id),
                ];
                for (field, id) in chosen {
                    if let Some(id) = id {
                        values.insert(field.to_owned(), id.to_string());
                    }
                }
            }
            _ => {}
        }
        blocks.push(draw(spec, &tr, values, action, Some(version))?);
    }
    if notice.is_none() {
        notice = if !writable {
            Some(Notice {
                class: "warn",
                role: "status",
                text: tr.t("meeting-read-only"),
            })
        } else if query.saved.is_some() {
            Some(Notice {
                class: "ok",
                role: "status",
                text: tr.t("meeting-saved"),
            })
        } else if blocks.is_empty() {
            Some(Notice {
                class: "warn",
                role: "status",
                text: tr.args(
                    "meeting-not-offered",
                    &[("status", tr.value("consultation-status", c.status.as_str()))],
                ),
            })
        } else {
            None
        };
    }

    let next = Step::ALL
        .into_iter()
        .skip_while(|s| *s != step)
        .nth(1)
        .map(|s| StepLink {
            href: Some(format!("/meetings/{id}/{}", s.slug())),
            label: tr.args("meeting-next", &[("step", s.label(&tr))]),
            current: false,
        });
    let mut page = MeetingPage {
        p: viewer.page(
            tr.args("meeting-step-title", &[("step", step.label(&tr))]),
            Nav::NewMeeting,
        ),
        id: id.to_string(),
        here: format!("/meetings/{id}/{}", step.slug()),
        steps: steps(&tr, Some(id), step),
        heading: Some((
            tr.text(&c.details.title).to_string(),
            tr.value("consultation-status", c.status.as_str()),
        )),
        notice,
        changes,
        facts: Vec::new(),
        tables: Vec::new(),
        blocks,
        names: HashMap::new(),
        pick: String::new(),
        q: String::new(),
        matches: Vec::new(),
        next,
    };
    finish(state, &tr, &mut page, Some(c), query).await?;
    let (facts, tables) = contents(state, &tr, c, step, &page.names).await?;
    page.facts = facts;
    page.tables = tables;
    render(&page, status)
}

/// What a step shows of the consultation: facts, and the lists it adds to.
async fn contents(
    state: &WebState,
    tr: &Tr,
    c: &Consultation,
    step: Step,
    names: &HashMap<String, String>,
) -> Result<(Vec<(String, String)>, Vec<Table>), WebError> {
    let name = |id: Option<Uuid>| {
        id.and_then(|id| names.get(&id.to_string()))
            .map_or_else(String::new, |n| esc(n))
    };
    // Lists are joined with the language's own comma.
    let sep = match tr.lang {
        Lang::Ar => "، ",
        Lang::Fr => ", ",
    };
    let details = &c.details;
    let mut when = tr.partial_date(&details.schedule.start);
    if let Some(end) = &details.schedule.end {
        when = format!("{when} – {}", tr.partial_date(end));
    }
    if let Some(time) = details.schedule.start_time {
        when = format!("{when}{sep}{}", time.format("%H:%M"));
    }
    let mut facts = vec![
        (
            tr.t("meeting-field-kind"),
            esc(&tr.value("consultation-kind", &name_of(&details.kind))),
        ),
        (tr.t("meeting-fact-when"), esc(&when)),
    ];
    if let Some(stated) = &details.schedule.as_stated {
        facts.push((tr.t("meeting-fact-as-stated"), tr.text(stated).to_string()));
    }
    if let Some(place) = &details.place {
        let mut shown = tr.text(&place.name).to_string();
        if let Some(city) = &place.city {
            shown = format!("{shown}{sep}{}", tr.text(city));
        }
        facts.push((tr.t("meeting-fact-place"), shown));
    }
    if let Some(region) = &details.region {
        facts.push((
            tr.t("meeting-field-region"),
            esc(&tr.region(region.as_str())),
        ));
    }
    let organisers: Vec<String> = c.organisers.iter().map(|o| name(Some(*o))).collect();
    if !organisers.is_empty() {
        facts.push((tr.t("meeting-fact-organisers"), organisers.join(sep)));
    }
    let count = |id: &str, n: usize| tr.count(id, i64::try_from(n).unwrap_or(i64::MAX));
    let mut tables = Vec::new();
    match step {
        Step::Plan => {
            if let Some(purpose) = &details.purpose {
                facts.push((tr.t("meeting-fact-purpose"), tr.text(purpose).to_string()));
            }
        }
        Step::Held | Step::Close => {
            facts.push((
                tr.t("meeting-fact-recorded"),
                esc(&[
                    count("meeting-participants-count", c.participants.len()),
                    count("meeting-recommendations-count", c.recommendations.len()),
                    count("meeting-agreements-count", c.agreements.len()),
                ]
                .join(sep)),
            ));
        }
        Step::Participants => {
            let mut participants: Vec<_> = c.participants.iter().collect();
            participants.sort_by_key(|p| ROLES.iter().position(|r| *r == p.role.as_str()));
            tables.push(Table {
                id: "participants",
                heading: count("meeting-participants-count", participants.len()),
                columns: [
                    "meeting-field-role",
                    "meeting-field-person",
                    "meeting-field-organisation",
                    "meeting-column-capacity",
                    "meeting-field-attendance",
                ]
                .iter()
                .map(|id| tr.t(id))
                .collect(),
                rows: participants
                    .into_iter()
                    .map(|p| {
                        vec![
                            esc(&tr.value("meeting-role", p.role.as_str())),
                            name(p.person_id),
                            name(p.organisation_id),
                            tr.opt_text(&p.capacity).to_string(),
                            esc(&tr.value("meeting-attendance", &name_of(&p.attendance))),
                        ]
                    })
                    .collect(),
            });
        }
        Step::Recommendations => {
            tables.push(Table {
                id: "recommendations",
                heading: count("meeting-recommendations-count", c.recommendations.len()),
                columns: [
                    "meeting-column-text",
                    "meeting-field-themes",
                    "meeting-field-proposer",
                    "meeting-column-status",
                ]
                .iter()
                .map(|id| tr.t(id))
                .collect(),
                rows: c
                    .recommendations
                    .iter()
                    .map(|r| {
                        let proposer = r
                            .proposer
                            .and_then(|id| c.participant(id))
                            .map_or_else(String::new, |p| esc(&participant_name(tr, p, names)));
                        vec![
                            tr.text(&r.text).to_string(),
                            esc(&r.themes.join(sep)),
                            proposer,
                            esc(&tr.value("recommendation-status", r.status.as_str())),
                        ]
                    })
                    .collect(),
            });
        }
        Step::Agreements => {
            tables.push(Table {
                id: "agreements",
                heading: count("meeting-agreements-count", c.agreements.len()),
                columns: [
                    "meeting-column-title",
                    "meeting-field-agreement-kind",
                    "meeting-field-agreement-status",
                    "meeting-field-budget",
                    "meeting-column-period",
                    "meeting-column-parties",
                ]
                .iter()
                .map(|id| tr.t(id))
                .collect(),
                rows: c
                    .agreements
                    .iter()
                    .map(|a| {
                        let period = a.period.as_ref().map_or_else(String::new, |p| {
                            let end = p
                                .end
                                .as_ref()
                                .map_or_else(String::new, |e| format!(" – {}", tr.partial_date(e)));
                            esc(&format!("{}{end}", tr.partial_date(&p.start)))
                        });
                        let parties: Vec<String> = a
                            .parties
                            .iter()
                            .map(|party| {
                                let signatory = name(party.signatory_person_id);
                                let organisation = name(party.organisation_id);
                                if signatory.is_empty() {
                                    organisation
                                } else {
                                    format!("{organisation} ({signatory})")
                                }
                            })
                            .collect();
                        vec![
                            tr.text(&a.title).to_string(),
                            esc(&tr.value("meeting-agreement-kind", &name_of(&a.kind))),
                            esc(&tr.value("meeting-agreement-status", &name_of(&a.status))),
                            a.budget.as_ref().map_or_else(String::new, |b| {
                                esc(&tr.money(&b.amount, &b.currency))
                            }),
                            period,
                            parties.join("<br>"),
                        ]
                    })
                    .collect(),
            });
        }
        Step::Actions => {
            let actions = lists::actions_of(state.store.pool(), &[c.id]).await?;
            tables.push(Table {
                id: "actions",
                heading: count("meeting-actions-count", actions.len()),
                columns: [
                    "meeting-column-title",
                    "meeting-column-status",
                    "meeting-column-due",
                    "meeting-column-progress",
                ]
                .iter()
                .map(|id| tr.t(id))
                .collect(),
                rows: actions
                    .iter()
                    .map(|a| {
                        vec![
                            format!(
                                "<a href=\"/actions/{}\" dir=\"auto\">{}</a>",
                                a.id.0,
                                esc(&a.title)
                            ),
                            esc(&tr.value("action-status", &a.status)),
                            a.due_date
                                .as_deref()
                                .map_or_else(String::new, |d| esc(&tr.iso_date(d))),
                            format!("{}%", a.progress.clamp(0, 100)),
                        ]
                    })
                    .collect(),
            });
        }
    }
    Ok((facts, tables))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Submitted {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_plan_becomes_the_domain_command_with_its_lists() {
        let tr = Tr::new(Lang::Ar);
        let plan = spec("new").unwrap();
        let organiser = Uuid::new_v4();
        let id = Uuid::new_v4();
        let submitted = cleaned(
            plan,
            pairs(&[
                ("consultation_id", &id.to_string()),
                ("kind", "workshop"),
                ("title.ar", "لقاء تشاوري"),
                ("title.fr", ""),
                ("schedule.start.year", "2025"),
                ("schedule.start.month", "11"),
                ("schedule.start_time", "10:00"),
                ("organisers", ""),
                ("organisers", &organiser.to_string()),
                ("sources.publisher.ar", "هسبريس"),
                ("sources.url", "https://example.ma/a"),
            ]),
        );
        let json = command_json(plan, &submitted, &tr, None, None).unwrap();
        assert_eq!(
            json["organisers"],
            serde_json::json!([organiser.to_string()])
        );
        assert_eq!(json["sources"][0]["url"], "https://example.ma/a");
        assert!(json.get("title").and_then(|t| t.get("fr")).is_none());
        let command: AnyCommand = forms::decode(&json, &tr).unwrap();
        assert_eq!(command.stream_id(), id);
    }

    #[test]
    fn a_lone_default_is_dropped_and_errors_land_on_a_shown_field() {
        let agreement = spec("agreements").unwrap();
        let kept = cleaned(
            agreement,
            pairs(&[("budget.currency", "MAD"), ("kind", "other")]),
        );
        assert!(forms::value(&kept, "budget.currency").is_none());
        let with_amount = cleaned(
            agreement,
            pairs(&[("budget.currency", "MAD"), ("budget.amount", "10")]),
        );
        assert_eq!(forms::value(&with_amount, "budget.currency"), Some("MAD"));
        let errors = placed(
            vec![FieldError {
                field: "title".into(),
                code: "REQUIRED",
                message: String::new(),
            }],
            PLAN_FIELDS,
        );
        assert_eq!(errors[0].field, "title.ar");
        let errors = placed(
            vec![FieldError {
                field: "sources[0].publisher".into(),
                code: "REQUIRED",
                message: String::new(),
            }],
            PLAN_FIELDS,
        );
        assert_eq!(errors[0].field, "sources.publisher.ar");
    }

    #[test]
    fn a_revision_keeps_what_the_form_does_not_show() {
        let tr = Tr::new(Lang::Fr);
        let revise = spec("plan").unwrap();
        let base = serde_json::json!({
            "kind": "workshop",
            "title": {"ar": "قديم"},
            "patronage": {"ar": "تحت إشراف"},
            "purpose": {"ar": "هدف"},
            "schedule": {"start": {"year": 2025}, "inferred": false},
        });
        let submitted = pairs(&[
            ("kind", "workshop"),
            ("title.fr", "Nouveau"),
            ("schedule.start.year", "2025"),
            ("reason", "coquille"),
        ]);
        let json = command_json(revise, &submitted, &tr, Some(Uuid::nil()), Some(base)).unwrap();
        assert_eq!(json["title"], serde_json::json!({"fr": "Nouveau"}));
        assert_eq!(json["patronage"]["ar"], "تحت إشراف");
        assert!(json.get("purpose").is_none());
        assert_eq!(json["schedule"]["inferred"], false);
        let _: AnyCommand = forms::decode(&json, &tr).unwrap();
    }

    #[test]
    fn event_types_are_named_in_both_catalogues() {
        assert_eq!(snake("ConsultationHeld"), "consultation_held");
        for lang in Lang::ALL {
            let tr = Tr::new(lang);
            for event in crate::domain::consultation::Event::EVENT_TYPES {
                assert_ne!(tr.value("meeting-event", &snake(event)), snake(event));
            }
            for kind in ORGANISATION_KINDS {
                assert_ne!(tr.value("meeting-organisation-kind", kind), *kind);
            }
        }
    }
}
