//! The consultations pages: the list (filters, an Arabic-aware search, pages of 20 with their
//! total) and one consultation's whole record as folded from its log, with its follow-up
//! actions, its history and the record "as it was" on a day or after a change.
//!
//! Every read is the API's: the list is [`lists::consultations`] (GraphQL's `consultations`), the
//! record is [`consultation_state`] / [`consultation_as_of_time`] (GraphQL's `consultation`),
//! names come from the read models by id. Who may see what is [`crate::auth::Access`]'s to say:
//! contact details by [`crate::auth::Access::contacts`], the history and earlier states by
//! [`crate::auth::Access::history`] (log readers, and the editors of the record's region).

use std::borrow::Cow;
use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::{Extension, Router};
use chrono::{NaiveDate, NaiveTime, Utc};
use serde::Deserialize;
use uuid::Uuid;

use crate::commands::{consultation_as_of_time, consultation_state};
use crate::domain::action::Action;
use crate::domain::common::{Money, PartialDate, Period, Text};
use crate::domain::consultation::{
    self as domain, Consultation, ConsultationKind, ConsultationStatus, ParticipantRole,
};
use crate::domain::organisation::Organisation;
use crate::domain::person::Person;
use crate::projections::lists::{self, ConsultationFilter, Cursor};
use crate::projections::rows::{region_of, tag};
use crate::store::StoredEvent;
use crate::web::i18n::{Shown, Tr};
use crate::web::{
    html, respond, urlencode, Nav, PageContext, Viewer, WebError, WebResult, WebState,
};

/// A page of the list holds this many consultations unless `first` asks otherwise.
const PAGE_SIZE: i64 = 20;
/// The most a page may hold (GraphQL's page limit).
const MAX_PAGE_SIZE: i64 = 100;

/// The kinds, in the domain's order, for the filter.
const KINDS: [ConsultationKind; 7] = [
    ConsultationKind::RegionalConsultation,
    ConsultationKind::Workshop,
    ConsultationKind::BilateralMeeting,
    ConsultationKind::WorkingMeeting,
    ConsultationKind::SigningCeremony,
    ConsultationKind::Conference,
    ConsultationKind::Other,
];

/// The statuses, in lifecycle order, for the filter.
const STATUSES: [ConsultationStatus; 4] = [
    ConsultationStatus::Planned,
    ConsultationStatus::Held,
    ConsultationStatus::Closed,
    ConsultationStatus::Cancelled,
];

/// The roles, most prominent first: participants are grouped in this order.
const ROLES: [ParticipantRole; 10] = [
    ParticipantRole::Chair,
    ParticipantRole::CoChair,
    ParticipantRole::Host,
    ParticipantRole::Organiser,
    ParticipantRole::CoOrganiser,
    ParticipantRole::Supervisor,
    ParticipantRole::Speaker,
    ParticipantRole::Signatory,
    ParticipantRole::Attendee,
    ParticipantRole::Guest,
];

/// This area's routes.
pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/consultations", get(list))
        .route("/consultations/{id}", get(detail))
}

/// A text of the record, owned, so that views outlive the documents they were read from.
fn owned(shown: Shown<'_>) -> Shown<'static> {
    Shown {
        value: Cow::Owned(shown.value.into_owned()),
        lang: shown.lang,
        own: shown.own,
    }
}

fn optional(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

fn day(value: Option<&str>) -> Result<Option<NaiveDate>, WebError> {
    value
        .map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| WebError::BadRequest))
        .transpose()
}

// ------------------------------------------------------------------------------------ list

/// The list's filters, as the query string gives them (empty values are no filter).
#[derive(Debug, Default, Deserialize)]
pub struct ListParams {
    /// A region code; `all` for every region; the person's first region when absent.
    pub region: Option<String>,
    /// A kind (snake_case).
    pub kind: Option<String>,
    /// A status (snake_case).
    pub status: Option<String>,
    /// First day, `YYYY-MM-DD`.
    pub from: Option<String>,
    /// Last day, `YYYY-MM-DD`.
    pub to: Option<String>,
    /// A theme.
    pub theme: Option<String>,
    /// Words to search for (Arabic-aware).
    pub q: Option<String>,
    /// Where the page starts (the cursor of the previous page's last row).
    pub after: Option<String>,
    /// The page size, 1-100.
    pub first: Option<String>,
}

/// One consultation of the list.
pub struct ListRow {
    /// Its id.
    pub id: String,
    /// Its title in the page's language when the record has it.
    pub title: Shown<'static>,
    /// Its kind's label.
    pub kind: String,
    /// Its status's label.
    pub status: String,
    /// Its start, as precisely as known.
    pub date: String,
    /// Its region's name.
    pub region: String,
}

#[derive(Template)]
#[template(path = "consultations.html", config = "src/web/askama.toml")]
struct ListPage {
    p: PageContext,
    region: String,
    kind: String,
    status: String,
    from: String,
    to: String,
    theme: String,
    q: String,
    first: String,
    regions: Vec<(String, String)>,
    kinds: Vec<(String, String)>,
    statuses: Vec<(String, String)>,
    search_error: Option<String>,
    total: String,
    rows: Vec<ListRow>,
    next: Option<String>,
    paged: bool,
}

impl ListPage {
    /// The query string of these filters (without the page), for the page links.
    fn query(&self) -> String {
        [
            ("region", &self.region),
            ("kind", &self.kind),
            ("status", &self.status),
            ("from", &self.from),
            ("to", &self.to),
            ("theme", &self.theme),
            ("q", &self.q),
            ("first", &self.first),
        ]
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
    }
}

/// The cursor of a row, as GraphQL spells it (hex of `key|id`), so a page link is opaque.
fn encode_cursor(key: &str, id: Uuid) -> String {
    hex::encode(format!("{key}|{id}"))
}

fn decode_cursor(cursor: &str) -> Result<Cursor, WebError> {
    let text = hex::decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or(WebError::BadRequest)?;
    let (key, id) = text.rsplit_once('|').ok_or(WebError::BadRequest)?;
    Ok(Cursor {
        key: key.to_owned(),
        id: Uuid::parse_str(id).map_err(|_| WebError::BadRequest)?,
    })
}

/// `GET /consultations`: the list.
async fn list(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    Query(params): Query<ListParams>,
) -> Response {
    let result = list_page(&state, &viewer, params).await;
    respond(&viewer, result)
}

async fn list_page(state: &WebState, viewer: &Viewer, params: ListParams) -> WebResult {
    let user = viewer.user()?;
    let tr = viewer.tr;
    let region = match optional(params.region) {
        Some(all) if all == "all" => None,
        Some(code) => Some(code),
        None => user.regions.first().cloned(),
    };
    let (from, to) = (optional(params.from), optional(params.to));
    day(from.as_deref())?;
    day(to.as_deref())?;
    let first = match optional(params.first) {
        Some(n) => n
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
            .ok_or(WebError::BadRequest)?,
        None => PAGE_SIZE,
    };
    let cursor = optional(params.after)
        .map(|a| decode_cursor(&a))
        .transpose()?;
    let q = optional(params.q);
    // The read model's limits on a search (words, length): a longer one is shown as a notice
    // on the page, not as an error page, and the list is left unsearched.
    let search_error = q.as_deref().is_some_and(|q| {
        q.chars().count() > crate::graphql::query::MAX_SEARCH_TEXT
            || lists::search_terms(q).is_err()
    });
    let filter = ConsultationFilter {
        region: region.clone(),
        kind: optional(params.kind.clone()),
        status: optional(params.status.clone()),
        from: from.clone(),
        to: to.clone(),
        theme: optional(params.theme.clone()),
        stakeholder: None,
        search: if search_error { None } else { q.clone() },
    };
    let pool = state.store.pool();
    let page = lists::consultations(pool, &filter, true, first, cursor.as_ref(), true).await?;
    let ids: Vec<Uuid> = page.rows.iter().map(|r| r.id.0).collect();
    let docs: HashMap<Uuid, Consultation> = lists::consultation_docs(pool, &ids)
        .await?
        .into_iter()
        .filter_map(|d| Some((d.id.0, serde_json::from_str(&d.doc).ok()?)))
        .collect();
    let rows = page
        .rows
        .iter()
        .map(|r| {
            let doc = docs.get(&r.id.0);
            ListRow {
                id: r.id.0.to_string(),
                title: match doc {
                    Some(c) => owned(tr.text(&c.details.title)),
                    None => owned(tr.text(&Text {
                        ar: None,
                        fr: None,
                        en: Some(r.title.clone()),
                    })),
                },
                kind: tr.value("consultation-kind", &r.kind),
                status: tr.value("consultation-status", &r.status),
                date: match doc {
                    Some(c) => tr.partial_date(&c.details.schedule.start),
                    None => r
                        .start_date
                        .as_deref()
                        .map_or_else(String::new, |d| tr.iso_date(d)),
                },
                region: r
                    .region
                    .as_deref()
                    .map_or_else(String::new, |r| tr.region(r)),
            }
        })
        .collect();
    let next = match (page.has_next, page.rows.last()) {
        (true, Some(last)) => Some(encode_cursor(&last.sort_key, last.id.0)),
        _ => None,
    };
    let page = ListPage {
        p: viewer.page(tr.t("consultations-title"), Nav::Consultations),
        region: region.unwrap_or_else(|| "all".to_owned()),
        kind: optional(params.kind).unwrap_or_default(),
        status: optional(params.status).unwrap_or_default(),
        from: from.unwrap_or_default(),
        to: to.unwrap_or_default(),
        theme: optional(params.theme).unwrap_or_default(),
        q: q.unwrap_or_default(),
        first: if first == PAGE_SIZE {
            String::new()
        } else {
            first.to_string()
        },
        regions: tr.regions(),
        kinds: KINDS
            .iter()
            .map(|k| (tag(k), tr.value("consultation-kind", &tag(k))))
            .collect(),
        statuses: STATUSES
            .iter()
            .map(|s| {
                (
                    s.as_str().to_owned(),
                    tr.value("consultation-status", s.as_str()),
                )
            })
            .collect(),
        search_error: search_error.then(|| tr.t("consultations-search-too-long")),
        total: tr.count("consultations-total", page.total.unwrap_or(0)),
        rows,
        next,
        paged: cursor.is_some(),
    };
    html(&page)
}

// ---------------------------------------------------------------------------------- detail

/// The record's point in time, as the query string asks for it.
#[derive(Debug, Default, Deserialize)]
pub struct DetailParams {
    /// As it was at the end of this day (UTC), `YYYY-MM-DD`.
    pub as_of: Option<String>,
    /// As it was after this version of its stream.
    pub as_of_version: Option<String>,
}

/// An organisation or a person named on the page, linked to its page.
pub struct Named {
    /// Its name.
    pub name: Shown<'static>,
    /// Its page.
    pub href: String,
}

/// How to reach a participant (shown only to those allowed).
pub struct ContactView {
    /// E-mail address.
    pub email: Option<String>,
    /// Telephone.
    pub phone: Option<String>,
}

/// A participant.
pub struct ParticipantView {
    /// The person and the organisation represented, when known.
    pub who: Vec<Named>,
    /// The capacity as stated.
    pub capacity: Shown<'static>,
    /// The attendance's label.
    pub attendance: String,
    /// Contact details, when the viewer may see them and there are any.
    pub contact: Option<ContactView>,
    /// How the participation was inferred, when the sources do not state it.
    pub inferred: Option<String>,
}

/// The participants of one role.
pub struct RoleGroup {
    /// The role's label.
    pub role: String,
    /// Its participants.
    pub participants: Vec<ParticipantView>,
}

/// A source.
pub struct SourceView {
    /// The publisher.
    pub publisher: Shown<'static>,
    /// The author.
    pub author: Shown<'static>,
    /// The title.
    pub title: Shown<'static>,
    /// The publication date.
    pub date: Option<String>,
    /// The address, only when it is a web address (never a `javascript:` link).
    pub url: Option<String>,
    /// The archived document's name.
    pub document: Option<String>,
}

/// A recommendation.
pub struct RecommendationView {
    /// What it says.
    pub text: Shown<'static>,
    /// Its themes.
    pub themes: Vec<String>,
    /// Its status's label.
    pub status: String,
    /// The reason given with its last status change.
    pub reason: Option<String>,
    /// Who proposed it.
    pub proposer: Option<Shown<'static>>,
}

/// A party to an agreement.
pub struct PartyView {
    /// The organisation (or participant) that is party.
    pub who: Vec<Named>,
    /// The person who signed.
    pub signatory: Option<Named>,
    /// The signatory's capacity as stated.
    pub capacity: Shown<'static>,
    /// What it commits to.
    pub commitments: Vec<Shown<'static>>,
}

/// An agreement.
pub struct AgreementView {
    /// Its title.
    pub title: Shown<'static>,
    /// Its kind's label.
    pub kind: String,
    /// Its status's label.
    pub status: String,
    /// Its parties.
    pub parties: Vec<PartyView>,
    /// Its budget, every digit.
    pub budget: Option<String>,
    /// The period it covers.
    pub period: Option<String>,
    /// The programme it serves.
    pub programme: Shown<'static>,
    /// Its objectives.
    pub objectives: Vec<Shown<'static>>,
    /// Other notes.
    pub notes: Vec<Shown<'static>>,
    /// When it was signed.
    pub signed_on: Option<String>,
    /// What it covers, when recorded: "national", or the region's name.
    pub scope: Option<String>,
}

/// A key figure.
pub struct FigureView {
    /// What is measured.
    pub indicator: Shown<'static>,
    /// The value with its unit, every digit.
    pub value: String,
    /// The period it covers.
    pub period: Option<String>,
    /// The day it stands at.
    pub as_of: Option<String>,
    /// The region it is about.
    pub region: Option<String>,
    /// As worded in the source.
    pub stated: Shown<'static>,
    /// Qualifications.
    pub notes: Vec<Shown<'static>>,
}

/// A point raised.
pub struct PointView {
    /// Its kind's label.
    pub kind: String,
    /// What was said.
    pub text: Shown<'static>,
    /// Who said it.
    pub speakers: Vec<Shown<'static>>,
}

/// A follow-up action of the consultation.
pub struct ActionView {
    /// Its id.
    pub id: String,
    /// Its title.
    pub title: Shown<'static>,
    /// Its status's label.
    pub status: String,
    /// Its progress, 0-100.
    pub progress: i64,
    /// Its due date, as precisely as known.
    pub due: Option<String>,
    /// Unfinished and certainly past due.
    pub overdue: bool,
}

/// One change of the history.
pub struct HistoryEntry {
    /// The stream version after it.
    pub version: i64,
    /// That version, for people.
    pub label: String,
    /// What happened.
    pub what: String,
    /// Who did it.
    pub who: String,
    /// When, for people.
    pub when: String,
    /// When, for machines (RFC 3339).
    pub datetime: String,
    /// Why, when given.
    pub why: Option<String>,
}

/// Everything the record holds, ready to show.
pub struct RecordView {
    /// The kind's label.
    pub kind: String,
    /// The status's label.
    pub status: String,
    /// The title in each language the record has, as (code, text).
    pub titles: Vec<(&'static str, String)>,
    /// The description.
    pub description: Shown<'static>,
    /// The date as the source words it.
    pub as_stated: Shown<'static>,
    /// The start, as precisely as known.
    pub start: String,
    /// The end, when stated.
    pub end: Option<String>,
    /// The times, when stated.
    pub times: Option<String>,
    /// Whether part of the dates was inferred.
    pub inferred: bool,
    /// The place's name, city and region.
    pub place: Vec<Shown<'static>>,
    /// The region's name.
    pub region: Option<String>,
    /// What it is for.
    pub purpose: Shown<'static>,
    /// The larger event.
    pub occasion: Option<Shown<'static>>,
    /// When the larger event ran.
    pub occasion_period: Option<String>,
    /// The larger event's own record.
    pub occasion_href: Option<String>,
    /// The patronage.
    pub patronage: Shown<'static>,
    /// Why it was cancelled.
    pub cancellation: Option<String>,
    /// The organisers.
    pub organisers: Vec<Named>,
    /// The sources.
    pub sources: Vec<SourceView>,
    /// The context notes.
    pub notes: Vec<Shown<'static>>,
    /// The participants by role.
    pub participants: Vec<RoleGroup>,
    /// The recommendations.
    pub recommendations: Vec<RecommendationView>,
    /// The agreements.
    pub agreements: Vec<AgreementView>,
    /// The key figures.
    pub figures: Vec<FigureView>,
    /// The points raised.
    pub points: Vec<PointView>,
}

#[derive(Template)]
#[template(path = "consultation.html", config = "src/web/askama.toml")]
struct DetailPage {
    p: PageContext,
    id: String,
    record: Option<RecordView>,
    /// The banner of an earlier state ("as it was on ..."), none for the current record.
    banner: Option<String>,
    /// The notice when the consultation did not exist yet then.
    not_yet: Option<String>,
    as_of: String,
    viewed_version: Option<i64>,
    actions: Vec<ActionView>,
    may_write: bool,
    history: Option<Vec<HistoryEntry>>,
    /// The comma between list items in the page's script.
    comma: &'static str,
}

impl DetailPage {
    /// Whether the page shows the state after this version.
    fn viewing(&self, version: impl std::borrow::Borrow<i64>) -> bool {
        self.viewed_version == Some(*version.borrow())
    }
}

/// `GET /consultations/{id}`: one consultation.
async fn detail(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
    Query(params): Query<DetailParams>,
) -> Response {
    let result = detail_page(&state, &viewer, &id, params).await;
    respond(&viewer, result)
}

/// Which state of the record is asked for.
enum AsOf {
    Now,
    Day(NaiveDate),
    Version(i64),
}

async fn detail_page(
    state: &WebState,
    viewer: &Viewer,
    id: &str,
    params: DetailParams,
) -> WebResult {
    viewer.user()?;
    let tr = viewer.tr;
    let id = Uuid::parse_str(id).map_err(|_| WebError::NotFound)?;
    let store = &state.store;
    if store.stream_type_of(id).await?.as_deref() != Some(domain::STREAM_TYPE) {
        return Err(WebError::NotFound);
    }
    let as_of = match (optional(params.as_of), optional(params.as_of_version)) {
        (None, None) => AsOf::Now,
        (Some(d), None) => AsOf::Day(day(Some(&d))?.ok_or(WebError::BadRequest)?),
        (None, Some(v)) => AsOf::Version(
            v.parse::<i64>()
                .ok()
                .filter(|v| *v >= 0)
                .ok_or(WebError::BadRequest)?,
        ),
        (Some(_), Some(_)) => return Err(WebError::BadRequest),
    };
    let access = viewer.access();
    // Permissions follow the record as it is now, whatever state is shown.
    let region = lists::consultation_region(store.pool(), id).await?;
    let reads_log = access.history(region.as_deref()).is_ok();
    // Earlier states are folded from the log: the right to read the record's history.
    if !matches!(as_of, AsOf::Now) && !reads_log {
        return Err(WebError::Forbidden);
    }
    let folded = match as_of {
        AsOf::Now => consultation_state(store, id, None).await?,
        AsOf::Day(d) => {
            let end = d
                .and_time(
                    NaiveTime::from_hms_micro_opt(23, 59, 59, 999_999).unwrap_or(NaiveTime::MIN),
                )
                .and_utc();
            consultation_as_of_time(store, id, end).await?
        }
        AsOf::Version(v) => consultation_state(store, id, Some(v)).await?,
    };
    let events = if reads_log {
        store.read_stream(id, None).await?
    } else {
        Vec::new()
    };
    let (banner, not_yet) = match as_of {
        AsOf::Now => (None, None),
        AsOf::Day(d) => (
            Some(tr.args("consultations-as-of-banner", &[("date", tr.date(d))])),
            Some(tr.args("consultations-not-yet", &[("date", tr.date(d))])),
        ),
        AsOf::Version(v) => {
            let when = events
                .iter()
                .find(|e| e.version == v)
                .map_or_else(String::new, |e| when(&tr, e).0);
            (
                Some(tr.args(
                    "consultations-as-of-version-banner",
                    &[("version", tr.int(v)), ("date", when)],
                )),
                Some(tr.t("consultations-not-yet-version")),
            )
        }
    };
    let record = match folded.consultation {
        Some(c) => Some(record_view(state, viewer, &c, region.as_deref()).await?),
        None if matches!(as_of, AsOf::Now) => return Err(WebError::NotFound),
        None => None,
    };
    let actions = if matches!(as_of, AsOf::Now) {
        action_views(state, &tr, id).await?
    } else {
        Vec::new()
    };
    let title = record
        .as_ref()
        .and_then(|r| r.titles.first().map(|(_, t)| t.clone()))
        .unwrap_or_else(|| tr.t("consultations-title"));
    let page = DetailPage {
        p: viewer.page(title, Nav::Consultations),
        id: id.to_string(),
        not_yet: if record.is_none() { not_yet } else { None },
        record,
        banner,
        as_of: match as_of {
            AsOf::Day(d) => d.format("%Y-%m-%d").to_string(),
            _ => String::new(),
        },
        viewed_version: match as_of {
            AsOf::Version(v) => Some(v),
            _ => None,
        },
        actions,
        may_write: viewer.may_write(region.as_deref()),
        history: reads_log.then(|| history(&tr, &events)),
        comma: if tr.lang.dir() == "rtl" { "،" } else { "," },
    };
    html(&page)
}

/// When an event was recorded: for people (in UTC, said so) and for machines.
fn when(tr: &Tr, event: &StoredEvent) -> (String, String) {
    let at = event.metadata.recorded_at;
    (
        tr.args(
            "consultations-at",
            &[
                ("date", tr.date(at.date_naive())),
                ("time", at.format("%H:%M").to_string()),
            ],
        ),
        at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    )
}

/// `ConsultationPlanned` -> `consultation_planned`, the catalogue's value of an event type.
fn snake(event_type: &str) -> String {
    let mut out = String::with_capacity(event_type.len() + 4);
    for (i, c) in event_type.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

fn history(tr: &Tr, events: &[StoredEvent]) -> Vec<HistoryEntry> {
    events
        .iter()
        .map(|e| {
            let (when, datetime) = when(tr, e);
            // The reason given with the request, else the one the domain asked for (a
            // revision's, a cancellation's): the why, not the payload.
            let why = e.metadata.reason.clone().or_else(|| {
                e.payload
                    .get("reason")
                    .and_then(|r| r.as_str())
                    .map(str::to_owned)
            });
            HistoryEntry {
                version: e.version,
                label: tr.args("consultations-version", &[("version", tr.int(e.version))]),
                what: tr.value("consultations-event", &snake(&e.event_type)),
                who: e.metadata.actor_name.clone(),
                when,
                datetime,
                why,
            }
        })
        .collect()
}

async fn action_views(state: &WebState, tr: &Tr, id: Uuid) -> Result<Vec<ActionView>, WebError> {
    let today = Utc::now().date_naive();
    let records = lists::actions_of(state.store.pool(), &[id]).await?;
    Ok(records
        .iter()
        .map(|r| {
            let action: Option<Action> = serde_json::from_str(&r.doc).ok();
            let due = action.as_ref().and_then(|a| a.due);
            ActionView {
                id: r.id.0.to_string(),
                title: match &action {
                    Some(a) => owned(tr.text(&a.title)),
                    None => owned(tr.text(&Text::en(r.title.clone()))),
                },
                status: tr.value("action-status", &r.status),
                progress: r.progress.clamp(0, 100),
                due: due.as_ref().map(|d| tr.partial_date(d)),
                // Overdue once its last possible due day has passed, as the dashboard counts.
                overdue: action.as_ref().is_some_and(|a| !a.status.is_finished())
                    && due
                        .as_ref()
                        .and_then(PartialDate::latest)
                        .is_some_and(|d| d < today),
            }
        })
        .collect())
}

/// The names of the organisations and people a record refers to, read once.
struct Names {
    organisations: HashMap<Uuid, Shown<'static>>,
    people: HashMap<Uuid, Shown<'static>>,
}

impl Names {
    async fn of(state: &WebState, tr: &Tr, c: &Consultation) -> Result<Names, WebError> {
        let mut organisation_ids: Vec<Uuid> = c.organisers.clone();
        let mut person_ids = Vec::new();
        for p in &c.participants {
            organisation_ids.extend(p.organisation_id);
            person_ids.extend(p.person_id);
        }
        for party in c.agreements.iter().flat_map(|a| &a.parties) {
            organisation_ids.extend(party.organisation_id);
            person_ids.extend(party.signatory_person_id);
        }
        organisation_ids.sort_unstable();
        organisation_ids.dedup();
        person_ids.sort_unstable();
        person_ids.dedup();
        let pool = state.store.pool();
        let organisations = lists::organisations_by_ids(pool, &organisation_ids)
            .await?
            .into_iter()
            .filter_map(|r| {
                let o: Organisation = serde_json::from_str(&r.doc).ok()?;
                Some((r.id.0, owned(tr.text(&o.name))))
            })
            .collect();
        let people = lists::people_by_ids(pool, &person_ids)
            .await?
            .into_iter()
            .filter_map(|r| {
                let p: Person = serde_json::from_str(&r.doc).ok()?;
                // Arabic script on Arabic pages, Latin script on French ones.
                let name = Text {
                    ar: p.name.arabic,
                    fr: p.name.latin,
                    en: None,
                };
                Some((r.id.0, owned(tr.text(&name))))
            })
            .collect();
        Ok(Names {
            organisations,
            people,
        })
    }

    fn unknown(id: Uuid) -> Shown<'static> {
        Shown {
            value: Cow::Owned(id.to_string()),
            lang: "en",
            own: true,
        }
    }

    fn organisation(&self, id: Uuid) -> Named {
        Named {
            name: self
                .organisations
                .get(&id)
                .cloned()
                .unwrap_or_else(|| Self::unknown(id)),
            href: format!("/stakeholders/organisations/{id}"),
        }
    }

    fn person(&self, id: Uuid) -> Named {
        Named {
            name: self
                .people
                .get(&id)
                .cloned()
                .unwrap_or_else(|| Self::unknown(id)),
            href: format!("/stakeholders/people/{id}"),
        }
    }

    /// A participant's person and organisation.
    fn participant(&self, p: &domain::Participant) -> Vec<Named> {
        p.person_id
            .map(|id| self.person(id))
            .into_iter()
            .chain(p.organisation_id.map(|id| self.organisation(id)))
            .collect()
    }

    /// A participant in one line: the person's name, else the organisation's, else the
    /// capacity.
    fn participant_name(&self, tr: &Tr, c: &Consultation, id: Uuid) -> Shown<'static> {
        match c.participant(id) {
            Some(p) => match (p.person_id, p.organisation_id) {
                (Some(person), _) => self.person(person).name,
                (None, Some(organisation)) => self.organisation(organisation).name,
                (None, None) => owned(tr.opt_text(&p.capacity)),
            },
            None => Self::unknown(id),
        }
    }
}

fn texts(tr: &Tr, list: &[Text]) -> Vec<Shown<'static>> {
    list.iter().map(|t| owned(tr.text(t))).collect()
}

fn period(tr: &Tr, p: &Period) -> String {
    match &p.end {
        Some(end) => tr.args(
            "consultations-range",
            &[
                ("start", tr.partial_date(&p.start)),
                ("end", tr.partial_date(end)),
            ],
        ),
        None => tr.partial_date(&p.start),
    }
}

fn money(tr: &Tr, m: &Money) -> String {
    tr.money(&m.amount, &m.currency)
}

/// A figure's value with its unit: a currency as an amount, a percentage with its sign,
/// another unit by its catalogue name (or as recorded).
fn figure_value(tr: &Tr, f: &domain::KeyFigure) -> String {
    let currency = f.unit.len() == 3 && f.unit.chars().all(|c| c.is_ascii_uppercase());
    if currency {
        tr.money(&f.value, &f.unit)
    } else {
        format!(
            "{}\u{a0}{}",
            tr.decimal(&f.value),
            tr.value("consultations-unit", &f.unit)
        )
    }
}

async fn record_view(
    state: &WebState,
    viewer: &Viewer,
    c: &Consultation,
    region: Option<&str>,
) -> Result<RecordView, WebError> {
    let tr = viewer.tr;
    let names = Names::of(state, &tr, c).await?;
    let d = &c.details;
    let schedule = &d.schedule;
    let contacts = viewer.access().contacts(region).is_ok();
    let times = match (schedule.start_time, schedule.end_time) {
        (Some(s), Some(e)) => Some(tr.args(
            "consultations-range",
            &[
                ("start", s.format("%H:%M").to_string()),
                ("end", e.format("%H:%M").to_string()),
            ],
        )),
        (Some(s), None) => Some(s.format("%H:%M").to_string()),
        (None, Some(e)) => Some(e.format("%H:%M").to_string()),
        (None, None) => None,
    };
    let titles = [
        ("ar", &d.title.ar),
        ("fr", &d.title.fr),
        ("en", &d.title.en),
    ];
    // The page's own language first: it is also the page's title.
    let mut titles: Vec<(&'static str, String)> = titles
        .into_iter()
        .filter_map(|(l, t)| t.clone().map(|t| (l, t)))
        .collect();
    titles.sort_by_key(|(l, _)| *l != tr.lang.code());
    let participants = ROLES
        .iter()
        .filter_map(|role| {
            let members: Vec<ParticipantView> = c
                .participants
                .iter()
                .filter(|p| p.role == *role)
                .map(|p| ParticipantView {
                    who: names.participant(p),
                    capacity: owned(tr.opt_text(&p.capacity)),
                    attendance: tr.value("consultations-attendance", &tag(&p.attendance)),
                    contact: p
                        .contact
                        .as_ref()
                        .filter(|_| contacts)
                        .map(|k| ContactView {
                            email: k.email.clone(),
                            phone: k.phone.clone(),
                        }),
                    inferred: p.inferred.as_ref().map(|i| i.note.clone()),
                })
                .collect();
            (!members.is_empty()).then(|| RoleGroup {
                role: tr.value("consultations-role", role.as_str()),
                participants: members,
            })
        })
        .collect();
    let place = d
        .place
        .iter()
        .flat_map(|p| {
            let mut parts = vec![owned(tr.text(&p.name))];
            parts.extend(p.city.as_ref().map(|city| owned(tr.text(city))));
            parts.extend(p.region.as_ref().map(|r| Shown {
                value: Cow::Owned(tr.region(r.as_str())),
                lang: tr.lang.code(),
                own: true,
            }));
            parts
        })
        .collect();
    Ok(RecordView {
        kind: tr.value("consultation-kind", &tag(&d.kind)),
        status: tr.value("consultation-status", c.status.as_str()),
        titles,
        description: owned(tr.opt_text(&d.description)),
        as_stated: owned(tr.opt_text(&schedule.as_stated)),
        start: tr.partial_date(&schedule.start),
        end: schedule.end.as_ref().map(|e| tr.partial_date(e)),
        times,
        inferred: schedule.inferred,
        place,
        region: region_of(c).map(|r| tr.region(&r)),
        purpose: owned(tr.opt_text(&d.purpose)),
        occasion: d.occasion.as_ref().map(|o| owned(tr.text(&o.name))),
        occasion_period: d
            .occasion
            .as_ref()
            .and_then(|o| o.period.as_ref())
            .map(|p| period(&tr, p)),
        occasion_href: d
            .occasion
            .as_ref()
            .and_then(|o| o.consultation_id)
            .map(|id| format!("/consultations/{id}")),
        patronage: owned(tr.opt_text(&d.patronage)),
        cancellation: c.cancellation_reason.clone(),
        organisers: c
            .organisers
            .iter()
            .map(|id| names.organisation(*id))
            .collect(),
        sources: c
            .sources
            .iter()
            .map(|s| SourceView {
                publisher: owned(tr.opt_text(&s.publisher)),
                author: owned(tr.opt_text(&s.author)),
                title: owned(tr.opt_text(&s.title)),
                date: s.published_on.as_ref().map(|d| tr.partial_date(d)),
                url: s
                    .url
                    .clone()
                    .filter(|u| u.starts_with("https://") || u.starts_with("http://")),
                document: s.document.clone(),
            })
            .collect(),
        notes: texts(&tr, &c.context_notes),
        participants,
        recommendations: c
            .recommendations
            .iter()
            .map(|r| RecommendationView {
                text: owned(tr.text(&r.text)),
                themes: r.themes.clone(),
                status: tr.value("recommendation-status", r.status.as_str()),
                reason: r.status_reason.clone(),
                proposer: r.proposer.map(|p| names.participant_name(&tr, c, p)),
            })
            .collect(),
        agreements: c
            .agreements
            .iter()
            .map(|a| AgreementView {
                title: owned(tr.text(&a.title)),
                kind: tr.value("consultations-agreement-kind", &tag(&a.kind)),
                status: tr.value("consultations-agreement-status", &tag(&a.status)),
                parties: a
                    .parties
                    .iter()
                    .map(|party| PartyView {
                        who: match (party.organisation_id, party.participant_id) {
                            (Some(o), _) => vec![names.organisation(o)],
                            (None, Some(p)) => c
                                .participant(p)
                                .map(|p| names.participant(p))
                                .unwrap_or_default(),
                            (None, None) => Vec::new(),
                        },
                        signatory: party.signatory_person_id.map(|p| names.person(p)),
                        capacity: owned(tr.opt_text(&party.signatory_capacity)),
                        commitments: texts(&tr, &party.commitments),
                    })
                    .collect(),
                budget: a.budget.as_ref().map(|m| money(&tr, m)),
                period: a.period.as_ref().map(|p| period(&tr, p)),
                programme: owned(tr.opt_text(&a.programme)),
                objectives: texts(&tr, &a.objectives),
                notes: texts(&tr, &a.notes),
                signed_on: a.signed_on.as_ref().map(|d| tr.partial_date(d)),
                scope: a.scope.as_ref().map(|s| match s.budget_region() {
                    Some(code) => tr.region(&code.0),
                    None => tr.t("consultations-scope-national"),
                }),
            })
            .collect(),
        figures: c
            .key_figures
            .iter()
            .map(|f| FigureView {
                indicator: owned(tr.text(&f.indicator)),
                value: figure_value(&tr, f),
                period: f.period.as_ref().map(|p| period(&tr, p)),
                as_of: f.as_of.as_ref().map(|d| tr.partial_date(d)),
                region: f.region.as_ref().map(|r| tr.region(r.as_str())),
                stated: owned(tr.opt_text(&f.stated)),
                notes: texts(&tr, &f.notes),
            })
            .collect(),
        points: c
            .points
            .iter()
            .map(|p| PointView {
                kind: tr.value("consultations-point-kind", &tag(&p.kind)),
                text: owned(tr.text(&p.text)),
                speakers: p
                    .speakers
                    .iter()
                    .map(|s| names.participant_name(&tr, c, *s))
                    .collect(),
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::i18n::Lang;

    #[test]
    fn event_types_have_labels_in_both_languages() {
        // Every event the domain declares, so that a new one cannot go unlabelled.
        for event_type in domain::Event::EVENT_TYPES {
            let value = snake(event_type);
            for lang in Lang::ALL {
                let label = Tr::new(lang).value("consultations-event", &value);
                assert_ne!(label, value, "{event_type} in {}", lang.code());
            }
        }
        assert_eq!(snake("ConsultationPlanned"), "consultation_planned");
    }

    #[test]
    fn every_closed_value_has_a_label() {
        let ar = Tr::new(Lang::Ar);
        for role in ROLES {
            assert_ne!(ar.value("consultations-role", role.as_str()), role.as_str());
        }
        for kind in KINDS {
            let kind = tag(&kind);
            assert_ne!(ar.value("consultation-kind", &kind), kind);
        }
        for value in [
            tag(&domain::AgreementKind::ContractProgramme),
            tag(&domain::AgreementStatus::Envisaged),
            tag(&domain::PointKind::ResultReported),
            tag(&domain::Attendance::Absent),
        ] {
            let found = [
                "consultations-agreement-kind",
                "consultations-agreement-status",
                "consultations-point-kind",
                "consultations-attendance",
            ]
            .iter()
            .any(|prefix| ar.value(prefix, &value) != value);
            assert!(found, "{value}");
        }
    }

    #[test]
    fn cursors_round_trip_and_junk_is_refused() {
        let id = Uuid::new_v4();
        let cursor = decode_cursor(&encode_cursor("2024-11-28", id)).unwrap();
        assert_eq!((cursor.key.as_str(), cursor.id), ("2024-11-28", id));
        assert!(decode_cursor("zz").is_err());
        assert!(decode_cursor(&hex::encode("no-bar")).is_err());
    }
}
