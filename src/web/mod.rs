//! The directorates' web app, served at `/` beside `/graphql` by the same process.
//!
//! Server-rendered HTML (askama templates, checked at compile time, in `src/web/templates`)
//! with progressive enhancement: every page and form works without JavaScript, and the vendored
//! htmx (served from the binary, no CDN) only swaps parts of pages when it is there. Words come
//! from the Fluent catalogues ([`i18n`]); people sign in with the accounts of
//! [`crate::accounts`] ([`session`]).
//!
//! The pages are a thin edge: reads go to the read models ([`crate::projections`]) and the
//! folded state ([`crate::commands`]), writes to [`crate::auth::run_as`], the same path as
//! GraphQL's, with the signed-in person as the events' actor and the same roles and regions.
//! No business rule lives here: forms become domain commands ([`forms`]) and the domain's
//! answer, rule and field, is shown next to the field.

pub mod charts;
pub mod forms;
pub mod i18n;
pub mod pages;
pub mod session;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use askama::Template;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use serde::Deserialize;

use crate::accounts::UserPrincipal;
use crate::auth::Access;
use crate::domain::token::Role;
use crate::http::guard::FailureLimiter;
use crate::store::{Store, StoreError};
use i18n::{Lang, Tr};
use session::Session;

/// The largest form the web app reads (a meeting's step is a few kilobytes).
pub const MAX_FORM_BYTES: usize = 64 * 1024;

/// What the web handlers share.
#[derive(Clone)]
pub struct WebState {
    /// The store.
    pub store: Store,
    /// Failed sign-ins per (address, username): the limiter of bearer tokens.
    pub failures: Arc<FailureLimiter>,
    /// Mark cookies `Secure` on every response (the server is behind TLS). Without it they are
    /// marked so on requests a proxy forwarded as `X-Forwarded-Proto: https`.
    pub secure_cookies: bool,
    /// Longest a page may take.
    pub timeout: Duration,
}

/// Who is asking, in which language: resolved once per request by [`resolve`].
#[derive(Debug, Clone)]
pub struct Viewer {
    /// The translator of the request's language.
    pub tr: Tr,
    /// The signed-in session, if any.
    pub session: Option<Session>,
    /// Whether cookies set for this request are `Secure`.
    pub secure: bool,
    /// The path and query asked for (where to come back after sign-in or a language switch).
    pub path: String,
    /// The client's address, when known.
    pub address: Option<IpAddr>,
    /// Follow-ups of the person's regions overdue or due within 30 days (the reminders badge;
    /// counted for pages, `GET`, only).
    pub reminders: i64,
}

impl Viewer {
    /// The access of the signed-in person (anonymous when nobody is).
    pub fn access(&self) -> Access {
        match &self.session {
            Some(session) => Access::User(session.user.clone()),
            None => Access::Anonymous { public_read: false },
        }
    }

    /// The signed-in person, or [`WebError::SignIn`].
    pub fn user(&self) -> Result<&UserPrincipal, WebError> {
        self.session
            .as_ref()
            .map(|s| &s.user)
            .ok_or_else(|| WebError::SignIn(self.path.clone()))
    }

    /// The signed-in person, when its role is one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<&UserPrincipal, WebError> {
        let user = self.user()?;
        if roles.contains(&user.role) {
            Ok(user)
        } else {
            Err(WebError::Forbidden)
        }
    }

    /// Checks a submitted form's token against the session's.
    pub fn check_csrf(&self, given: Option<&str>) -> Result<(), WebError> {
        let session = self
            .session
            .as_ref()
            .ok_or_else(|| WebError::SignIn(self.path.clone()))?;
        if session::tokens_match(&session.csrf, given.unwrap_or("")) {
            Ok(())
        } else {
            Err(WebError::Csrf)
        }
    }

    /// What every page's layout shows.
    pub fn page(&self, title: String, nav: Nav) -> PageContext {
        let user = self.session.as_ref().map(|s| &s.user);
        PageContext {
            tr: self.tr,
            title,
            nav,
            user_name: user.map(|u| u.display_name.clone().unwrap_or(u.username.clone())),
            role: user.map(|u| u.role),
            csrf: self
                .session
                .as_ref()
                .map(|s| s.csrf.clone())
                .unwrap_or_default(),
            path: self.path.clone(),
            reminders: self.reminders,
        }
    }

    /// Whether the signed-in person may write in `region` (what the pages offer; the write
    /// itself is checked again by [`crate::auth::run_as`]).
    pub fn may_write(&self, region: Option<&str>) -> bool {
        self.access().write(&[region.map(str::to_owned)]).is_ok()
    }
}

/// The layout's navigation entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    /// The dashboard.
    Dashboard,
    /// The consultations.
    Consultations,
    /// Logging a meeting.
    NewMeeting,
    /// The follow-up board.
    Board,
    /// Organisations and people.
    Stakeholders,
    /// The reminders.
    Reminders,
    /// The audit pages.
    Audit,
    /// The users (admins).
    Users,
    /// No entry (sign-in, errors).
    None,
}

/// What the layout (`base.html`) needs from every page.
#[derive(Debug, Clone)]
pub struct PageContext {
    /// The translator.
    pub tr: Tr,
    /// The page's title.
    pub title: String,
    /// The active navigation entry.
    pub nav: Nav,
    /// The signed-in person's name.
    pub user_name: Option<String>,
    /// Its role.
    pub role: Option<Role>,
    /// The session's form token (empty when signed out).
    pub csrf: String,
    /// The current path, for the language switch to come back to.
    pub path: String,
    /// The reminders badge's count.
    pub reminders: i64,
}

impl PageContext {
    /// The current path, for a `next=` parameter.
    pub fn next(&self) -> String {
        urlencode(&self.path)
    }

    /// Whether the audit pages are offered.
    pub fn auditor(&self) -> bool {
        matches!(self.role, Some(Role::Admin | Role::Auditor))
    }

    /// Whether the admin pages are offered.
    pub fn admin(&self) -> bool {
        self.role == Some(Role::Admin)
    }

    /// Whether writing pages are offered.
    pub fn writer(&self) -> bool {
        matches!(self.role, Some(Role::Admin | Role::Editor))
    }

    /// `aria-current="page"` for the active entry.
    pub fn current(&self, nav: Nav) -> &'static str {
        if nav == self.nav {
            "page"
        } else {
            "false"
        }
    }
}

/// Percent-encodes a value for a query string.
pub fn urlencode(value: &str) -> String {
    askama::filters::urlencode_strict(value)
        .map(|v| v.to_string())
        .unwrap_or_default()
}

/// Why a page could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// Nobody is signed in: to the sign-in page, then back to this path.
    #[error("sign-in required")]
    SignIn(String),
    /// The signed-in person may not see or do this.
    #[error("forbidden")]
    Forbidden,
    /// No such page or record.
    #[error("not found")]
    NotFound,
    /// The form's token is missing or wrong.
    #[error("form token mismatch")]
    Csrf,
    /// The request itself is malformed (a bad id, a parameter out of range).
    #[error("bad request")]
    BadRequest,
    /// The store failed; logged, never shown.
    #[error("internal: {0}")]
    Internal(String),
}

impl From<StoreError> for WebError {
    fn from(error: StoreError) -> Self {
        WebError::Internal(error.to_string())
    }
}

impl From<crate::commands::CommandError> for WebError {
    fn from(error: crate::commands::CommandError) -> Self {
        WebError::Internal(error.to_string())
    }
}

impl From<askama::Error> for WebError {
    fn from(error: askama::Error) -> Self {
        WebError::Internal(error.to_string())
    }
}

#[derive(Template)]
#[template(path = "error.html", config = "src/web/askama.toml")]
struct ErrorPage {
    p: PageContext,
    message: String,
}

impl WebError {
    /// The error page in the viewer's language.
    pub fn render(self, viewer: &Viewer) -> Response {
        let (status, message) = match &self {
            WebError::SignIn(next) => {
                return Redirect::to(&format!("/signin?next={}", urlencode(next))).into_response()
            }
            WebError::Forbidden => (StatusCode::FORBIDDEN, "error-forbidden"),
            WebError::NotFound => (StatusCode::NOT_FOUND, "error-not-found"),
            WebError::Csrf => (StatusCode::FORBIDDEN, "error-csrf"),
            WebError::BadRequest => (StatusCode::BAD_REQUEST, "error-bad-request"),
            WebError::Internal(detail) => {
                tracing::error!(%detail, "web page failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "error-internal")
            }
        };
        let page = ErrorPage {
            p: viewer.page(viewer.tr.t("error-title"), Nav::None),
            message: viewer.tr.t(message),
        };
        match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(_) => status.into_response(),
        }
    }
}

/// A page handler's result: HTML, a redirect, or an error page.
pub type WebResult = Result<Response, WebError>;

/// Renders a template as a `200 OK` HTML response.
pub fn html<T: Template>(template: &T) -> WebResult {
    Ok(Html(template.render()?).into_response())
}

/// A `303 See Other` to `to` (after a form was handled: reloading does not post it again).
pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// Middleware: resolves the language and the session once, applies the page time limit,
/// renders errors as pages, and sets the headers every page carries.
pub async fn resolve(State(state): State<WebState>, mut request: Request, next: Next) -> Response {
    let headers = request.headers();
    let lang = Lang::of_request(headers);
    let secure = state.secure_cookies
        || headers
            .get("x-forwarded-proto")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"));
    let address = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip());
    let path = request
        .uri()
        .path_and_query()
        .map_or("/".to_owned(), |p| p.as_str().to_owned());
    let mut viewer = Viewer {
        tr: Tr::new(lang),
        session: None,
        secure,
        path,
        address,
        reminders: 0,
    };
    if let Some(secret) = session::cookie(headers, session::SESSION_COOKIE) {
        match session::lookup(state.store.pool(), secret).await {
            Ok(found) => viewer.session = found,
            Err(error) => return WebError::from(error).render(&viewer),
        }
    }
    if let (Some(session), true) = (&viewer.session, request.method() == Method::GET) {
        // Admins (and people without a region) are reminded of every region's follow-ups.
        let regions: &[String] = if session.user.role == Role::Admin {
            &[]
        } else {
            &session.user.regions
        };
        let today = chrono::Utc::now().date_naive();
        match pages::board::reminder_count(state.store.pool(), regions, today).await {
            Ok(count) => viewer.reminders = count,
            Err(error) => return WebError::from(error).render(&viewer),
        }
    }
    request.extensions_mut().insert(viewer.clone());
    let mut response = match tokio::time::timeout(state.timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => WebError::Internal("page timed out".into()).render(&viewer),
    };
    let headers = response.headers_mut();
    // Pages are per person: never cached by a shared proxy. No framing by other sites, no
    // sniffing, and scripts only from this server.
    for (name, value) in [
        (header::CACHE_CONTROL, "no-store"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
             frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ),
    ] {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    }
    response
}

/// Turns a handler's result into a response, rendering errors in the viewer's language.
pub fn respond(viewer: &Viewer, result: WebResult) -> Response {
    match result {
        Ok(response) => response,
        Err(error) => error.render(viewer),
    }
}

/// The web app's routes, under the [`resolve`] middleware.
pub fn router(state: WebState) -> Router {
    Router::new()
        .route("/", get(pages::dashboard::page))
        .route("/signin", get(signin_page).post(signin))
        .route("/signout", post(signout))
        .route("/lang/{code}", get(switch_language))
        .merge(pages::routes())
        .layer(DefaultBodyLimit::max(MAX_FORM_BYTES))
        .layer(axum::middleware::from_fn_with_state(state.clone(), resolve))
        .route("/static/{name}", get(asset))
        .with_state(state)
}

/// Where to go back to: a local path only (never `//host` or a scheme: no open redirect).
pub fn local_path(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.starts_with("/\\")
                && !path.chars().any(char::is_control) =>
        {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

#[derive(Debug, Deserialize)]
struct NextParam {
    next: Option<String>,
}

async fn switch_language(
    Extension(viewer): Extension<Viewer>,
    Path(code): Path<String>,
    Query(params): Query<NextParam>,
) -> Response {
    let Some(lang) = Lang::parse(&code) else {
        return WebError::NotFound.render(&viewer);
    };
    let mut response = see_other(&local_path(params.next.as_deref()));
    // The choice of language is no secret, but kept like the others: a year, same site.
    let cookie = session::set_cookie(
        i18n::LANG_COOKIE,
        lang.code(),
        Duration::from_secs(365 * 24 * 3600),
        cookie::SameSite::Lax,
        viewer.secure,
    );
    response.headers_mut().append(header::SET_COOKIE, cookie);
    response
}

#[derive(Template)]
#[template(path = "signin.html", config = "src/web/askama.toml")]
struct SignInPage {
    p: PageContext,
    next: String,
    token: String,
    username: String,
    error: Option<String>,
}

fn signin_form(
    viewer: &Viewer,
    next: String,
    username: String,
    error: Option<String>,
    status: StatusCode,
) -> WebResult {
    let token = session::random_hex()?;
    let page = SignInPage {
        p: viewer.page(viewer.tr.t("signin-title"), Nav::None),
        next,
        token: token.clone(),
        username,
        error,
    };
    let mut response = (status, Html(page.render()?)).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        session::set_cookie(
            session::SIGNIN_COOKIE,
            &token,
            session::SIGNIN_TTL,
            cookie::SameSite::Strict,
            viewer.secure,
        ),
    );
    Ok(response)
}

async fn signin_page(
    Extension(viewer): Extension<Viewer>,
    Query(params): Query<NextParam>,
) -> Response {
    let next = local_path(params.next.as_deref());
    if viewer.session.is_some() {
        return see_other(&next);
    }
    let result = signin_form(&viewer, next, String::new(), None, StatusCode::OK);
    respond(&viewer, result)
}

#[derive(Debug, Deserialize)]
struct SignInForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: Option<String>,
    #[serde(default, rename = "_csrf")]
    csrf: String,
}

async fn signin(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let result = signin_inner(&state, &viewer, &headers, form).await;
    respond(&viewer, result)
}

async fn signin_inner(
    state: &WebState,
    viewer: &Viewer,
    headers: &HeaderMap,
    form: SignInForm,
) -> WebResult {
    let next = local_path(form.next.as_deref());
    let expected = session::cookie(headers, session::SIGNIN_COOKIE).unwrap_or("");
    if !session::tokens_match(expected, &form.csrf) {
        return Err(WebError::Csrf);
    }
    let username = form.username.trim().to_lowercase();
    let key = viewer
        .address
        .map(|a| (a, Some(crate::accounts::user_id(&username))));
    let refuse = |message: &str, status| {
        signin_form(
            viewer,
            next.clone(),
            username.clone(),
            Some(viewer.tr.t(message)),
            status,
        )
    };
    if key.is_some_and(|k| state.failures.blocked(k)) {
        return refuse("signin-too-many", StatusCode::TOO_MANY_REQUESTS);
    }
    let user = crate::accounts::verify_password(state.store.pool(), &username, &form.password)
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    let Some(user) = user else {
        if let Some(key) = key {
            state.failures.failed(key);
        }
        tracing::info!(address = ?viewer.address, "web sign-in refused");
        return refuse("signin-wrong", StatusCode::UNAUTHORIZED);
    };
    let (secret, _) = session::create(state.store.pool(), user.user_id).await?;
    let mut response = see_other(&next);
    let headers = response.headers_mut();
    headers.append(
        header::SET_COOKIE,
        session::set_cookie(
            session::SESSION_COOKIE,
            &secret,
            session::SESSION_TTL,
            cookie::SameSite::Lax,
            viewer.secure,
        ),
    );
    headers.append(
        header::SET_COOKIE,
        session::set_cookie(
            session::SIGNIN_COOKIE,
            "",
            Duration::ZERO,
            cookie::SameSite::Strict,
            viewer.secure,
        ),
    );
    tracing::info!(user = %user.username, "web sign-in");
    Ok(response)
}

#[derive(Debug, Deserialize)]
struct CsrfOnly {
    #[serde(default, rename = "_csrf")]
    csrf: Option<String>,
}

async fn signout(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    headers: HeaderMap,
    Form(form): Form<CsrfOnly>,
) -> Response {
    let result = async {
        viewer.check_csrf(form.csrf.as_deref())?;
        if let Some(secret) = session::cookie(&headers, session::SESSION_COOKIE) {
            session::delete(state.store.pool(), secret).await?;
        }
        let mut response = see_other("/signin");
        response.headers_mut().append(
            header::SET_COOKIE,
            session::set_cookie(
                session::SESSION_COOKIE,
                "",
                Duration::ZERO,
                cookie::SameSite::Lax,
                viewer.secure,
            ),
        );
        Ok(response)
    }
    .await;
    respond(&viewer, result)
}

/// The app's own static files, embedded in the binary; names carry their version, so they are
/// cached for a year.
async fn asset(Path(name): Path<String>) -> Response {
    let (body, kind): (&'static [u8], &str) = match name.as_str() {
        "htmx-2.0.11.min.js" => (
            include_bytes!("static/htmx-2.0.11.min.js"),
            "text/javascript; charset=utf-8",
        ),
        "shura-1.css" => (
            include_bytes!("static/shura.css"),
            "text/css; charset=utf-8",
        ),
        "shura-1.js" => (
            include_bytes!("static/shura.js"),
            "text/javascript; charset=utf-8",
        ),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_str(kind)
                    .unwrap_or(HeaderValue::from_static("application/octet-stream")),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(
            local_path(Some("/consultations?page=2")),
            "/consultations?page=2"
        );
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil",
            "evil",
            "/a\nb",
        ] {
            assert_eq!(local_path(Some(bad)), "/", "{bad}");
        }
        assert_eq!(local_path(None), "/");
    }
}
