//! The audit pages, for admins and auditors only (the log is theirs to read, as
//! [`crate::auth::Access::read_log`] says): the chain's head and last signed checkpoint, a
//! verification of the whole chain on request, the event feed with its filters, each stream's
//! whole history with payloads and metadata, and the log's NDJSON export, streamed. The users
//! admin pages ([`users`]) are routed here too.

pub mod users;

use askama::Template;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use chrono::NaiveDate;
use serde::Deserialize;
use tokio::io::AsyncReadExt;
use uuid::Uuid;

use crate::domain::token::Role;
use crate::store::{StoredEvent, VerifyReport};
use crate::web::forms::{self, Submitted};
use crate::web::i18n::Tr;
use crate::web::{
    html, respond, urlencode, Nav, PageContext, Viewer, WebError, WebResult, WebState,
};

/// Events shown per page of the feed.
const FEED_PAGE: usize = 50;
/// Events read per statement while filtering the feed.
const READ_CHUNK: i64 = 500;
/// Most events one feed page reads: a filter that matches little stops there and offers to go
/// on from where it stopped, so a page costs a bounded amount of work.
const SCAN_LIMIT: i64 = 5_000;
/// Bytes held between the export's writer and the response body.
const EXPORT_BUFFER: usize = 64 * 1024;

/// The roles that read the log.
const READERS: &[Role] = &[Role::Admin, Role::Auditor];

/// This area's routes (and the users admin's).
pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/audit", get(page))
        .route("/audit/verify", post(verify))
        .route("/audit/streams/{id}", get(stream_page))
        .route("/audit/export/log.ndjson", get(export_log))
        .merge(users::routes())
}

/// A stream type's page in the app, if it has one.
fn entity_path(stream_type: &str, id: Uuid) -> Option<String> {
    match stream_type {
        "organisation" => Some(format!("/stakeholders/organisations/{id}")),
        "person" => Some(format!("/stakeholders/people/{id}")),
        "consultation" => Some(format!("/consultations/{id}")),
        "action" => Some(format!("/actions/{id}")),
        _ => None,
    }
}

/// A time of the log, shown as the day in this language and the UTC time of day.
fn time(tr: &Tr, at: &chrono::DateTime<chrono::Utc>) -> String {
    format!("{} {} UTC", tr.date(at.date_naive()), at.format("%H:%M:%S"))
}

/// One event of the feed as listed.
pub struct FeedRow {
    position: i64,
    time: String,
    stream_id: String,
    stream_type: String,
    event_type: String,
    actor_name: String,
    actor_id: String,
    reason: String,
}

impl FeedRow {
    fn of(tr: &Tr, e: &StoredEvent) -> FeedRow {
        FeedRow {
            position: e.position,
            time: time(tr, &e.metadata.recorded_at),
            stream_id: e.stream_id.to_string(),
            stream_type: tr.value("stream-type", &e.stream_type),
            event_type: e.event_type.clone(),
            actor_name: e.metadata.actor_name.clone(),
            actor_id: e.metadata.actor_id.clone(),
            reason: e.metadata.reason.clone().unwrap_or_default(),
        }
    }
}

/// The feed's query string (empty values are no filter).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct FeedParams {
    /// By position from this one (oldest first); newest first when absent.
    from: Option<String>,
    /// Newest first, before this position (the next page of the newest-first order).
    before: Option<String>,
    /// Only this stream type.
    stream_type: Option<String>,
    /// Only this actor (its id, or its name).
    actor: Option<String>,
    /// Recorded on or after this day (UTC).
    from_date: Option<String>,
    /// Recorded on or before this day (UTC).
    to_date: Option<String>,
}

/// The feed's filters, read.
struct Filter {
    stream_type: Option<String>,
    actor: Option<String>,
    from_date: Option<NaiveDate>,
    to_date: Option<NaiveDate>,
}

impl Filter {
    fn matches(&self, e: &StoredEvent) -> bool {
        let day = e.metadata.recorded_at.date_naive();
        self.stream_type
            .as_ref()
            .is_none_or(|t| *t == e.stream_type)
            && self.actor.as_ref().is_none_or(|a| {
                *a == e.metadata.actor_id
                    || a.to_lowercase() == e.metadata.actor_name.to_lowercase()
            })
            && self.from_date.is_none_or(|d| day >= d)
            && self.to_date.is_none_or(|d| day <= d)
    }
}

fn optional(value: &Option<String>) -> Option<String> {
    value
        .as_ref()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

fn position(value: &Option<String>) -> Result<Option<i64>, WebError> {
    optional(value)
        .map(|v| {
            v.parse::<i64>()
                .ok()
                .filter(|p| *p >= 0)
                .ok_or(WebError::BadRequest)
        })
        .transpose()
}

fn day(value: &Option<String>) -> Result<Option<NaiveDate>, WebError> {
    optional(value)
        .map(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").map_err(|_| WebError::BadRequest))
        .transpose()
}

/// A page of the feed: its rows and where the next page starts, if there is one.
struct FeedPage {
    rows: Vec<StoredEvent>,
    /// The query of the next page.
    next: Option<String>,
    /// Whether the page stopped at [`SCAN_LIMIT`] rather than at a full page.
    stopped: bool,
}

/// Reads a page of the feed: by position from `from`, or newest first before `before` (the
/// head's next position when absent), keeping the events the filter matches.
async fn feed(
    state: &WebState,
    filter: &Filter,
    from: Option<i64>,
    before: Option<i64>,
    head: i64,
) -> Result<FeedPage, WebError> {
    let store = &state.store;
    let mut rows = Vec::new();
    let mut scanned = 0i64;
    if let Some(from) = from {
        let mut after = from.saturating_sub(1).max(0);
        loop {
            if scanned >= SCAN_LIMIT {
                return Ok(FeedPage {
                    rows,
                    next: Some(format!("from={}", after.saturating_add(1))),
                    stopped: true,
                });
            }
            let events = store.read_all_stored(after, READ_CHUNK).await?;
            let Some(last) = events.last().map(|e| e.position) else {
                return Ok(FeedPage {
                    rows,
                    next: None,
                    stopped: false,
                });
            };
            scanned = scanned.saturating_add(READ_CHUNK);
            for e in events {
                // Times never decrease along positions: past the last day, nothing more matches.
                if filter
                    .to_date
                    .is_some_and(|d| e.metadata.recorded_at.date_naive() > d)
                {
                    return Ok(FeedPage {
                        rows,
                        next: None,
                        stopped: false,
                    });
                }
                if filter.matches(&e) {
                    let next = e.position.saturating_add(1);
                    rows.push(e);
                    if rows.len() == FEED_PAGE {
                        return Ok(FeedPage {
                            rows,
                            next: (next <= head).then(|| format!("from={next}")),
                            stopped: false,
                        });
                    }
                }
            }
            after = last;
        }
    }
    // Newest first: windows of positions read backwards from `before`.
    let mut upper = before
        .unwrap_or(head.saturating_add(1))
        .min(head.saturating_add(1));
    while upper > 1 {
        if scanned >= SCAN_LIMIT {
            return Ok(FeedPage {
                rows,
                next: Some(format!("before={upper}")),
                stopped: true,
            });
        }
        let low = upper.saturating_sub(1).saturating_sub(READ_CHUNK).max(0);
        let count = upper.saturating_sub(1).saturating_sub(low);
        let events = store.read_all_stored(low, count.max(1)).await?;
        scanned = scanned.saturating_add(count);
        for e in events.into_iter().rev() {
            if e.position >= upper {
                continue;
            }
            // Before the first day, nothing older matches.
            if filter
                .from_date
                .is_some_and(|d| e.metadata.recorded_at.date_naive() < d)
            {
                return Ok(FeedPage {
                    rows,
                    next: None,
                    stopped: false,
                });
            }
            if filter.matches(&e) {
                let next = e.position;
                rows.push(e);
                if rows.len() == FEED_PAGE {
                    return Ok(FeedPage {
                        rows,
                        next: (next > 1).then(|| format!("before={next}")),
                        stopped: false,
                    });
                }
            }
        }
        upper = low.saturating_add(1);
    }
    Ok(FeedPage {
        rows,
        next: None,
        stopped: false,
    })
}

/// The last signed checkpoint, as shown.
pub struct CheckpointView {
    position: i64,
    hash: String,
    recorded_at: String,
    key_id: String,
}

/// A verification's result, as shown.
pub struct VerifyView {
    intact: bool,
    events: String,
    streams: String,
    tip: i64,
    problem: Option<(i64, String)>,
}

impl VerifyView {
    fn of(tr: &Tr, report: &VerifyReport) -> VerifyView {
        VerifyView {
            intact: report.is_intact(),
            events: tr.count("audit-verify-events", report.events),
            streams: tr.count(
                "audit-verify-streams",
                i64::try_from(report.streams).unwrap_or(i64::MAX),
            ),
            tip: report.tip.position,
            problem: report
                .finding
                .as_ref()
                .map(|f| (f.position, f.problem.clone())),
        }
    }
}

#[derive(Template)]
#[template(path = "audit.html", config = "src/web/askama.toml")]
struct AuditPage {
    p: PageContext,
    head_position: i64,
    head_hash: String,
    checkpoint: Option<CheckpointView>,
    verified: Option<VerifyView>,
    stream_types: Vec<(String, String)>,
    from: String,
    stream_type: String,
    actor: String,
    from_date: String,
    to_date: String,
    newest_first: bool,
    rows: Vec<FeedRow>,
    next: Option<String>,
    stopped: bool,
}

async fn page(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    Query(params): Query<FeedParams>,
) -> Response {
    let result = render(&state, &viewer, params, None).await;
    respond(&viewer, result)
}

/// `POST /audit/verify`: reads the whole log, so a form with its token, never a link.
async fn verify(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    Form(submitted): Form<Submitted>,
) -> Response {
    let result = async {
        viewer.require(READERS)?;
        viewer.check_csrf(forms::value(&submitted, "_csrf"))?;
        let report = state.store.verify(&[]).await?;
        if let Some(finding) = &report.finding {
            tracing::warn!(%finding, "log verification from the web found a problem");
        }
        render(&state, &viewer, FeedParams::default(), Some(report)).await
    }
    .await;
    respond(&viewer, result)
}

async fn render(
    state: &WebState,
    viewer: &Viewer,
    params: FeedParams,
    report: Option<VerifyReport>,
) -> WebResult {
    viewer.require(READERS)?;
    let tr = viewer.tr;
    let pool = state.store.pool();
    let head = state.store.head().await?;
    let checkpoint = crate::checkpoint::list(pool, 1)
        .await?
        .into_iter()
        .next()
        .map(|c| CheckpointView {
            position: c.position,
            hash: c.hash,
            recorded_at: crate::store::parse_time(&c.recorded_at)
                .map_or(c.recorded_at.clone(), |t| time(&tr, &t)),
            key_id: c.key_id,
        });
    let filter = Filter {
        stream_type: optional(&params.stream_type),
        actor: optional(&params.actor),
        from_date: day(&params.from_date)?,
        to_date: day(&params.to_date)?,
    };
    let from = position(&params.from)?;
    let before = position(&params.before)?;
    let found = feed(state, &filter, from, before, head.position).await?;
    // The next page keeps the filters.
    let mut keep = String::new();
    for (name, value) in [
        ("stream_type", &params.stream_type),
        ("actor", &params.actor),
        ("from_date", &params.from_date),
        ("to_date", &params.to_date),
    ] {
        if let Some(value) = optional(value) {
            keep.push_str(&format!("&{name}={}", urlencode(&value)));
        }
    }
    let page = AuditPage {
        p: viewer.page(tr.t("audit-title"), Nav::Audit),
        head_position: head.position,
        head_hash: head.hash,
        checkpoint,
        verified: report.as_ref().map(|r| VerifyView::of(&tr, r)),
        stream_types: crate::domain::STREAM_TYPES
            .iter()
            .map(|(t, _)| ((*t).to_owned(), tr.value("stream-type", t)))
            .collect(),
        from: from.map(|f| f.to_string()).unwrap_or_default(),
        stream_type: filter.stream_type.clone().unwrap_or_default(),
        actor: filter.actor.clone().unwrap_or_default(),
        from_date: optional(&params.from_date).unwrap_or_default(),
        to_date: optional(&params.to_date).unwrap_or_default(),
        newest_first: from.is_none(),
        rows: found.rows.iter().map(|e| FeedRow::of(&tr, e)).collect(),
        next: found.next.map(|n| format!("/audit?{n}{keep}")),
        stopped: found.stopped,
    };
    html(&page)
}

/// One event of a stream's history, with its payload and metadata.
pub struct HistoryRow {
    row: FeedRow,
    version: i64,
    event_id: String,
    schema_version: i32,
    payload: String,
    correlation_id: String,
    causation_id: String,
    idempotency_key: String,
    hash: String,
}

#[derive(Template)]
#[template(path = "audit_stream.html", config = "src/web/askama.toml")]
struct StreamPage {
    p: PageContext,
    id: String,
    stream_type: String,
    entity: Option<String>,
    events: Vec<HistoryRow>,
}

async fn stream_page(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        viewer.require(READERS)?;
        let tr = viewer.tr;
        let id = Uuid::parse_str(id.trim()).map_err(|_| WebError::BadRequest)?;
        let stream_type = state
            .store
            .stream_type_of(id)
            .await?
            .ok_or(WebError::NotFound)?;
        let events = state.store.read_stream_stored(id, None).await?;
        let page = StreamPage {
            p: viewer.page(tr.t("audit-stream-title"), Nav::Audit),
            id: id.to_string(),
            entity: entity_path(&stream_type, id),
            stream_type: tr.value("stream-type", &stream_type),
            events: events
                .iter()
                .map(|e| HistoryRow {
                    row: FeedRow::of(&tr, e),
                    version: e.version,
                    event_id: e.event_id.to_string(),
                    schema_version: e.schema_version,
                    // Escaped by the template like any text.
                    payload: serde_json::to_string_pretty(&e.payload).unwrap_or_default(),
                    correlation_id: e.metadata.correlation_id.to_string(),
                    causation_id: e
                        .metadata
                        .causation_id
                        .map(|c| c.to_string())
                        .unwrap_or_default(),
                    idempotency_key: e.metadata.idempotency_key.clone().unwrap_or_default(),
                    hash: e.hash.clone(),
                })
                .collect(),
        };
        html(&page)
    }
    .await;
    respond(&viewer, result)
}

/// `GET /audit/export/log.ndjson`: the whole log as `shura export` writes it, streamed: a task
/// writes into one end of a bounded pipe while the body reads the other, so memory holds at most
/// [`EXPORT_BUFFER`] bytes whatever the log's size. A failure midway aborts the body, so a
/// client never takes a cut file for a whole one.
async fn export_log(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
) -> Response {
    let result = async {
        viewer.require(READERS)?;
        let head = state.store.head().await?;
        let (mut writer, reader) = tokio::io::duplex(EXPORT_BUFFER);
        let store = state.store.clone();
        let task = tokio::spawn(async move { store.export_ndjson(&mut writer, 0).await });
        let body =
            futures_util::stream::unfold((reader, Some(task)), |(mut reader, task)| async move {
                let mut buffer = vec![0u8; 16 * 1024];
                match reader.read(&mut buffer).await {
                    Ok(0) => {
                        // The writer is done: whether it finished decides how the body ends.
                        let outcome = match task {
                            Some(task) => task.await,
                            None => return None,
                        };
                        match outcome {
                            Ok(Ok(_)) => None,
                            Ok(Err(e)) => {
                                Some((Err(std::io::Error::other(e.to_string())), (reader, None)))
                            }
                            Err(e) => {
                                Some((Err(std::io::Error::other(e.to_string())), (reader, None)))
                            }
                        }
                    }
                    Ok(n) => {
                        buffer.truncate(n);
                        Some((Ok(Bytes::from(buffer)), (reader, task)))
                    }
                    Err(e) => Some((Err(e), (reader, None))),
                }
            });
        let name = format!(
            "attachment; filename=\"shura-log-{}.ndjson\"",
            head.position
        );
        let mut response = Body::from_stream(body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-ndjson"),
        );
        if let Ok(value) = HeaderValue::from_str(&name) {
            headers.insert(header::CONTENT_DISPOSITION, value);
        }
        Ok(response)
    }
    .await;
    respond(&viewer, result)
}
