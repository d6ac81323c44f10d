//! The HTTP edge: GraphQL over HTTP (POST and GET, content negotiation, status codes), GraphiQL,
//! the WebSocket subscription endpoint, health, readiness and metrics.

pub mod explorer;
pub mod guard;
pub mod logthrottle;
pub mod metrics;
pub mod serve;

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType};
use async_graphql::{ServerError, Variables};
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Extension;
use axum::Router;
use serde::Deserialize;
use tracing::Instrument;

use crate::auth::Access;
use crate::error::{ApiError, Code};
use crate::graphql::{limits, ShuraSchema};
use crate::store::Store;
use metrics::Metrics;

/// Limits of the HTTP edge.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Longest a request may run.
    pub request_timeout: Duration,
}

/// Default of [`Limits::max_body_bytes`]: 1 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;
/// Default of [`Limits::request_timeout`], in seconds.
pub const DEFAULT_REQUEST_TIMEOUT_SECS: u64 = 30;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            request_timeout: Duration::from_secs(DEFAULT_REQUEST_TIMEOUT_SECS),
        }
    }
}

/// What the handlers share.
#[derive(Clone)]
pub struct HttpState {
    /// The GraphQL schema.
    pub schema: ShuraSchema,
    /// The store, for readiness.
    pub store: Store,
    /// Request metrics.
    pub metrics: Arc<Metrics>,
    /// Limits.
    pub limits: Limits,
    /// Whether anonymous clients may read the read models.
    pub public_read: bool,
    /// Failed authentications per client address.
    pub failures: Arc<guard::FailureLimiter>,
    /// The bearer token `/metrics` requires, if any (see [`metrics::authorized`]).
    pub metrics_token: Option<Arc<str>>,
    /// The open-data zip last built (see [`crate::open_data::latest`]).
    pub open_data: Arc<crate::open_data::latest::LatestZip>,
    /// The schema's feed hub, whose shared token checks watch open WebSockets.
    pub feed: crate::graphql::feed::Feed,
}

/// The routes.
pub fn router(state: HttpState) -> Router {
    let guarded = Router::new()
        .route("/graphql", get(graphql_get).post(graphql_post))
        .route("/graphql/ws", get(guard::websocket))
        .route(
            "/open-data/latest.zip",
            get(crate::open_data::latest::handler),
        )
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::authenticate,
        ));
    Router::new()
        .merge(guarded)
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics_text))
        .route("/checkpoints", get(checkpoints))
        .route("/graphiql/{version}/{name}", get(explorer::asset))
        .with_state(state)
}

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";
const JSON: &str = "application/json";

/// Which media type the client accepts for a GraphQL response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Media {
    /// `application/graphql-response+json`.
    GraphqlResponse,
    /// `application/json`.
    Json,
}

impl Media {
    fn as_str(self) -> &'static str {
        match self {
            Media::GraphqlResponse => GRAPHQL_RESPONSE,
            Media::Json => JSON,
        }
    }
}

/// Content negotiation: `application/graphql-response+json` when accepted, else
/// `application/json`; no `Accept` means `application/json` (the spec's legacy default).
pub fn negotiate(headers: &HeaderMap) -> Option<Media> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Some(Media::Json);
    };
    let types: Vec<&str> = accept
        .split(',')
        .map(|t| t.split(';').next().unwrap_or("").trim())
        .collect();
    if types.contains(&GRAPHQL_RESPONSE) {
        Some(Media::GraphqlResponse)
    } else if types
        .iter()
        .any(|t| *t == JSON || *t == "*/*" || *t == "application/*")
    {
        Some(Media::Json)
    } else {
        None
    }
}

/// A JSON error response with a code (also used by the guard).
pub fn error_body(status: StatusCode, media: Media, error: ApiError) -> Response {
    let server_error = error.into_server_error();
    let body = serde_json::json!({ "errors": [server_error] });
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(media.as_str()),
        )],
        body.to_string(),
    )
        .into_response()
}

/// The GET form of a GraphQL request.
#[derive(Debug, Deserialize)]
struct GetParams {
    query: Option<String>,
    #[serde(rename = "operationName")]
    operation_name: Option<String>,
    variables: Option<String>,
    extensions: Option<String>,
}

/// The POST body of a GraphQL request.
#[derive(Debug, Deserialize)]
struct PostBody {
    query: Option<String>,
    #[serde(rename = "operationName", default)]
    operation_name: Option<String>,
    #[serde(default)]
    variables: Option<serde_json::Value>,
    #[serde(default)]
    extensions: Option<serde_json::Value>,
}

/// `variables` and `extensions` are maps when given (GraphQL over HTTP).
fn check_maps(
    variables: Option<&serde_json::Value>,
    extensions: Option<&serde_json::Value>,
) -> Result<(), ApiError> {
    for (name, value) in [("variables", variables), ("extensions", extensions)] {
        if value.is_some_and(|v| !v.is_object() && !v.is_null()) {
            return Err(ApiError::validation(
                name,
                "NOT_AN_OBJECT",
                format!("{name} must be a JSON object"),
            ));
        }
    }
    Ok(())
}

async fn graphql_get(
    State(state): State<HttpState>,
    Extension(access): Extension<Access>,
    headers: HeaderMap,
    Query(params): Query<GetParams>,
) -> Response {
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if params.query.is_none() && wants_html {
        return explorer::page();
    }
    let Some(media) = negotiate(&headers) else {
        return not_acceptable();
    };
    if let Some(refused) = params
        .variables
        .as_deref()
        .and_then(|v| limits::check_json_nesting(v.as_bytes()).err())
    {
        return refuse(media, &refused);
    }
    let variables = match params.variables.as_deref().map(serde_json::from_str) {
        None => None,
        Some(Ok(v)) => {
            if let Err(error) = check_maps(Some(&v), None) {
                return error_body(StatusCode::BAD_REQUEST, media, error);
            }
            Some(v)
        }
        Some(Err(_)) => {
            return error_body(
                StatusCode::BAD_REQUEST,
                media,
                ApiError::validation(
                    "variables",
                    "INVALID_JSON",
                    "variables must be a JSON object",
                ),
            )
        }
    };
    let extensions = match params.extensions.as_deref().map(serde_json::from_str) {
        Some(Ok(value)) => Some(value),
        Some(Err(_)) => {
            return error_body(
                StatusCode::BAD_REQUEST,
                media,
                ApiError::validation(
                    "extensions",
                    "INVALID_JSON",
                    "extensions must be a JSON object",
                ),
            )
        }
        None => None,
    };
    if let Err(error) = check_maps(None, extensions.as_ref()) {
        return error_body(StatusCode::BAD_REQUEST, media, error);
    }
    let Some(query) = params.query else {
        return error_body(
            StatusCode::BAD_REQUEST,
            media,
            ApiError::validation("query", "REQUIRED", "a GraphQL request needs a query"),
        );
    };
    let call = Call {
        media,
        method: Method::GET,
        access,
    };
    execute(state, call, query, params.operation_name, variables).await
}

async fn graphql_post(
    State(state): State<HttpState>,
    Extension(access): Extension<Access>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(media) = negotiate(&headers) else {
        return not_acceptable();
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type.split(';').next().map(str::trim) != Some(JSON) {
        return error_body(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            media,
            ApiError::validation("Content-Type", "UNSUPPORTED", "send application/json"),
        );
    }
    // Bounded in time as well as size: a body trickled a byte a minute must not hold a
    // connection (and its place under the cap) for ever.
    let read = axum::body::to_bytes(body, state.limits.max_body_bytes);
    let bytes: Bytes = match tokio::time::timeout(state.limits.request_timeout, read).await {
        Ok(Ok(bytes)) => bytes,
        Err(_) => {
            return error_body(
                StatusCode::REQUEST_TIMEOUT,
                media,
                ApiError::new(
                    Code::LimitExceeded,
                    format!(
                        "the request body did not arrive within {:?}",
                        state.limits.request_timeout
                    ),
                ),
            )
        }
        Ok(Err(_)) => {
            return error_body(
                StatusCode::PAYLOAD_TOO_LARGE,
                media,
                ApiError::new(
                    Code::LimitExceeded,
                    format!(
                        "request body larger than {} bytes",
                        state.limits.max_body_bytes
                    ),
                ),
            )
        }
    };
    // Counted flat before serde recurses into it.
    if let Err(refused) = limits::check_json_nesting(&bytes) {
        return refuse(media, &refused);
    }
    let request: PostBody = match serde_json::from_slice(&bytes) {
        Ok(request) => request,
        Err(e) => {
            return error_body(
                StatusCode::BAD_REQUEST,
                media,
                ApiError::validation(
                    "body",
                    "INVALID_JSON",
                    format!("the body is not a GraphQL request: {e}"),
                ),
            )
        }
    };
    if let Err(error) = check_maps(request.variables.as_ref(), request.extensions.as_ref()) {
        return error_body(StatusCode::BAD_REQUEST, media, error);
    }
    let Some(query) = request.query else {
        return error_body(
            StatusCode::BAD_REQUEST,
            media,
            ApiError::validation("query", "REQUIRED", "a GraphQL request needs a query"),
        );
    };
    let call = Call {
        media,
        method: Method::POST,
        access,
    };
    execute(
        state,
        call,
        query,
        request.operation_name,
        request.variables,
    )
    .await
}

/// How a GraphQL request arrived.
struct Call {
    media: Media,
    method: Method,
    access: Access,
}

/// A request refused by [`limits`] before it ran.
fn refuse(media: Media, refused: &limits::Refused) -> Response {
    error_body(StatusCode::BAD_REQUEST, media, refused.to_api_error())
}

fn not_acceptable() -> Response {
    (
        StatusCode::NOT_ACCEPTABLE,
        format!("accept {GRAPHQL_RESPONSE} or {JSON}\n"),
    )
        .into_response()
}

/// The operation a document would run: its type, or `None` when the operation name matches
/// nothing (execution reports that).
fn operation_type(document: &ExecutableDocument, name: Option<&str>) -> Option<OperationType> {
    match (&document.operations, name) {
        (DocumentOperations::Single(op), _) => Some(op.node.ty),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| op.node.ty),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.values().next().map(|op| op.node.ty)
        }
        _ => None,
    }
}

/// Gives every error a code: limits, request errors (parse, validation) and any execution error
/// that escaped the boundary type, whose detail is logged once and hidden.
fn classify(errors: &mut [ServerError], request_error: bool) {
    for error in errors {
        let has_code = error
            .extensions
            .as_ref()
            .is_some_and(|e| e.get("code").is_some());
        if has_code {
            continue;
        }
        let limit = error.message.contains("too deep") || error.message.contains("too complex");
        // An argument or variable that fails to parse as its type is the client's input,
        // whenever async-graphql notices it.
        let input = error.message.starts_with("Failed to parse")
            || error.message.starts_with("Invalid value for argument");
        let code = if limit {
            Code::LimitExceeded
        } else if request_error || input {
            Code::Validation
        } else {
            let hidden = ApiError::internal(&error.message);
            error.message = hidden.message;
            Code::Internal
        };
        let extensions = error.extensions.get_or_insert_with(Default::default);
        extensions.set("code", code.as_str());
        // async-graphql names the offending input only in its English message; say it in
        // `field` and `rule` too, as every other validation error does.
        if code == Code::Validation {
            if let Some((field, rule)) = crate::graphql::inputs::validation_field(&error.message) {
                extensions.set("field", field);
                extensions.set("rule", rule);
            }
        }
    }
}

async fn execute(
    state: HttpState,
    call: Call,
    query: String,
    operation_name: Option<String>,
    variables: Option<serde_json::Value>,
) -> Response {
    let Call {
        media,
        method,
        access,
    } = call;
    // Before anything parses the document: the parser recurses once per nesting level.
    if let Err(refused) = limits::check_document_text(&query) {
        return refuse(media, &refused);
    }
    if let Some(Err(error)) = variables.as_ref().map(limits::check_variables) {
        return error_body(StatusCode::BAD_REQUEST, media, error);
    }
    // Parsed once for the whole request: here for the operation's type and the expansion check,
    // then handed to async-graphql. A document that does not parse or expands too far is left
    // to async-graphql, whose parse (through the limits extension) reports it as a request error.
    let document = async_graphql::parser::parse_query(&query)
        .ok()
        .filter(|doc| limits::check_expansion(doc).is_ok());
    let op_type = document
        .as_ref()
        .and_then(|doc| operation_type(doc, operation_name.as_deref()));
    if method == Method::GET && op_type.is_some_and(|t| t != OperationType::Query) {
        let mut response = error_body(
            StatusCode::METHOD_NOT_ALLOWED,
            media,
            ApiError::validation(
                "method",
                "GET_QUERY_ONLY",
                "GET runs queries only; use POST",
            ),
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    let name = operation_name
        .clone()
        .unwrap_or_else(|| "anonymous".to_owned());
    let mark = limits::ExecutionMark::default();
    let anonymous = matches!(access, Access::Anonymous { .. });
    let mut request = async_graphql::Request::new(query)
        .data(access)
        .data(mark.clone());
    if let Some(name) = operation_name {
        request = request.operation_name(name);
    }
    if let Some(variables) = variables {
        request = request.variables(Variables::from_json(variables));
    }
    if let Some(document) = document {
        request.set_parsed_query(document);
        request = request.data(limits::Checked);
    }
    let started = Instant::now();
    // The client's name, bounded as in /metrics: a 500 kB name must not ride on every log line.
    let span = tracing::info_span!("graphql", operation = %metrics::label(&name));
    let run = state.schema.execute(request).instrument(span);
    // A request past its deadline is abandoned, and one that finished past it (the timer's
    // resolution is a millisecond) is answered the same way: the limit means the same whatever
    // the race. Like any timeout, it cannot undo a write that already committed; clients retry
    // with their idempotency key.
    let limit = state.limits.request_timeout;
    let outcome = tokio::time::timeout(limit, run)
        .await
        .ok()
        .filter(|_| started.elapsed() <= limit);
    let Some(mut response) = outcome else {
        state.metrics.record(&name, started.elapsed(), true);
        return error_body(
            StatusCode::GATEWAY_TIMEOUT,
            media,
            ApiError::new(
                Code::LimitExceeded,
                format!(
                    "the request took longer than {:?}",
                    state.limits.request_timeout
                ),
            ),
        );
    };
    // A request error: nothing executed (parse, validation, limits, unknown operation).
    let request_error = !mark.executed();
    classify(&mut response.errors, request_error);
    state
        .metrics
        .record(&name, started.elapsed(), response.is_err());
    // No token where one is needed: the whole answer is "authenticate first", so it is the
    // HTTP answer too (401, as for a bad token), whatever the media type.
    let unauthenticated = anonymous
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| {
            e.extensions
                .as_ref()
                .and_then(|x| x.get("code"))
                .is_some_and(|c| *c == async_graphql::Value::from(Code::Unauthenticated.as_str()))
        })
        && nothing_resolved(&response.data);
    let (status, body) = if request_error || unauthenticated {
        // GraphQL over HTTP: a request that was not executed has no `data` entry at all.
        let status = if unauthenticated {
            StatusCode::UNAUTHORIZED
        } else if media == Media::GraphqlResponse {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        };
        let body = serde_json::json!({ "errors": response.errors });
        (status, body.to_string())
    } else {
        let body = serde_json::to_string(&response).unwrap_or_else(|_| "{}".to_owned());
        (StatusCode::OK, body)
    };
    let mut answer = (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(media.as_str()),
        )],
        body,
    )
        .into_response();
    if unauthenticated {
        answer
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    answer
}

/// Whether no root field produced a value: `data` is null or every root field is null.
fn nothing_resolved(data: &async_graphql::Value) -> bool {
    match data {
        async_graphql::Value::Null => true,
        async_graphql::Value::Object(fields) => {
            fields.values().all(|v| *v == async_graphql::Value::Null)
        }
        _ => false,
    }
}

async fn ready(State(state): State<HttpState>) -> Response {
    // Without its writer the process can serve reads but never another write: not ready, and
    // `serve` exits non-zero so that a supervisor restarts it.
    if !state.store.writer_alive() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: the writer stopped\n",
        )
            .into_response();
    }
    match state.store.head().await {
        Ok(head) => (
            StatusCode::OK,
            format!("ready: log at position {}\n", head.position),
        )
            .into_response(),
        Err(error) => {
            tracing::warn!(%error, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "not ready: database unreachable\n",
            )
                .into_response()
        }
    }
}

/// The signed checkpoints, newest first (at most [`crate::checkpoint::MAX_LISTED`]), as a JSON
/// array: public, so that anyone can keep a copy outside the database.
async fn checkpoints(State(state): State<HttpState>) -> Response {
    match crate::checkpoint::list(state.store.pool(), crate::checkpoint::MAX_LISTED).await {
        Ok(list) => axum::Json(list).into_response(),
        Err(error) => {
            tracing::warn!(%error, "cannot list checkpoints");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "checkpoints unavailable: database unreachable\n",
            )
                .into_response()
        }
    }
}

async fn metrics_text(State(state): State<HttpState>, headers: HeaderMap) -> Response {
    if !metrics::authorized(state.metrics_token.as_deref(), &headers) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer realm=\"metrics\"")],
            "/metrics needs Authorization: Bearer <the --metrics-token of this server>\n",
        )
            .into_response();
    }
    let head = *state.store.watch_head().borrow();
    (
        [(header::CONTENT_TYPE, metrics::CONTENT_TYPE)],
        state.metrics.render(head),
    )
        .into_response()
}
