//! The users admin pages (admins only): the accounts with their role, regions and state, a form
//! to create one, and disabling or enabling one. Everything goes through [`crate::accounts`],
//! with the signed-in admin as the events' actor; disabling also ends the user's web sessions
//! at once (its next request already finds it disabled, this removes the sessions themselves).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use serde::Deserialize;

use crate::accounts::{self, AccountError};
use crate::commands::CommandError;
use crate::domain::token::Role;
use crate::domain::user::PASSWORD_MIN;
use crate::domain::DomainError;
use crate::web::forms::{self, Submitted};
use crate::web::i18n::Tr;
use crate::web::{
    respond, see_other, session, urlencode, Nav, PageContext, Viewer, WebError, WebResult, WebState,
};

/// The roles offered, in the order shown.
const ROLES: [Role; 4] = [Role::Editor, Role::Viewer, Role::Auditor, Role::Admin];

/// This area's routes.
pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/users", get(list).post(create))
        .route("/users/{name}/disable", post(disable))
        .route("/users/{name}/enable", post(enable))
}

/// The create form's fields, as the account functions name them.
const FIELDS: [&str; 7] = [
    "username",
    "display_name",
    "email",
    "role",
    "regions",
    "password",
    "password_confirmation",
];

/// A user as listed.
pub struct UserRow {
    username: String,
    display_name: String,
    role: String,
    regions: String,
    disabled: bool,
    has_password: bool,
    /// The signed-in admin itself (not offered to disable).
    me: bool,
}

/// The create form's values and errors (passwords are never drawn back).
#[derive(Default)]
pub struct NewUser {
    username: String,
    display_name: String,
    email: String,
    role: String,
    regions: Vec<String>,
    /// `(field, message)` of the refusal.
    error: Option<(String, String)>,
}

impl NewUser {
    /// The message for `field`, if the refusal names it.
    pub fn error_for(&self, field: &str) -> Option<&str> {
        self.error
            .as_ref()
            .filter(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }

    /// The message of a refusal naming no field of the form (shown above the button).
    pub fn other_error(&self) -> Option<&str> {
        self.error
            .as_ref()
            .filter(|(f, _)| !FIELDS.contains(&f.as_str()))
            .map(|(_, m)| m.as_str())
    }

    /// Whether `region` was chosen.
    pub fn has_region(&self, region: &str) -> bool {
        self.regions.iter().any(|r| r == region)
    }
}

#[derive(Template)]
#[template(path = "users.html", config = "src/web/askama.toml")]
struct UsersPage {
    p: PageContext,
    users: Vec<UserRow>,
    notice: Option<(&'static str, String)>,
    form: NewUser,
    roles: Vec<(String, String)>,
    regions: Vec<(String, String)>,
}

/// What the list says after a redirect.
#[derive(Debug, Default, Deserialize)]
struct Done {
    created: Option<String>,
    disabled: Option<String>,
    enabled: Option<String>,
}

async fn draw(
    state: &WebState,
    viewer: &Viewer,
    notice: Option<(&'static str, String)>,
    form: NewUser,
    status: StatusCode,
) -> WebResult {
    let me = viewer.require(&[Role::Admin])?;
    let tr = viewer.tr;
    let users = accounts::list_users(state.store.pool())
        .await?
        .into_iter()
        .map(|u| {
            let regions: Vec<String> = serde_json::from_str(&u.regions).unwrap_or_default();
            UserRow {
                me: u.username == me.username,
                display_name: u.display_name.unwrap_or_default(),
                role: tr.value("role", &u.role),
                regions: regions
                    .iter()
                    .map(|r| tr.region(r))
                    .collect::<Vec<_>>()
                    .join("، "),
                disabled: u.disabled != 0,
                has_password: u.has_password != 0,
                username: u.username,
            }
        })
        .collect();
    let page = UsersPage {
        p: viewer.page(tr.t("users-title"), Nav::Users),
        users,
        notice,
        form,
        roles: ROLES
            .iter()
            .map(|r| (r.as_str().to_owned(), tr.value("role", r.as_str())))
            .collect(),
        regions: tr.regions(),
    };
    Ok((status, Html(askama::Template::render(&page)?)).into_response())
}

async fn list(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    Query(done): Query<Done>,
) -> Response {
    let tr = viewer.tr;
    let notice = match done {
        Done {
            created: Some(name),
            ..
        } => Some(("ok", tr.t1("users-created", "name", name))),
        Done {
            disabled: Some(name),
            ..
        } => Some(("ok", tr.t1("users-disabled", "name", name))),
        Done {
            enabled: Some(name),
            ..
        } => Some(("ok", tr.t1("users-enabled", "name", name))),
        _ => None,
    };
    let result = draw(&state, &viewer, notice, NewUser::default(), StatusCode::OK).await;
    respond(&viewer, result)
}

/// A refused account operation's field and message in the viewer's language, or `Err` when the
/// failure is not the user's.
fn refusal(tr: &Tr, error: AccountError) -> Result<(String, String), WebError> {
    let Some((field, code)) = error.validation() else {
        return Err(WebError::Internal(error.to_string()));
    };
    let field = field.to_owned();
    let message = match (field.as_str(), code) {
        // The domain states these formats in English for the API; the page says them.
        ("password", "INVALID_FORMAT") => tr.t1("users-password-too-short", "min", PASSWORD_MIN),
        ("username", "INVALID_FORMAT") => tr.t("users-username-format"),
        ("email", "INVALID_FORMAT") => tr.t("users-email-format"),
        _ => match &error {
            AccountError::Command(CommandError::Domain(DomainError::Validation {
                rule, ..
            })) => forms::rule_message(tr, rule),
            _ => tr.t(&format!("rule-{}", code.to_lowercase().replace('_', "-"))),
        },
    };
    Ok((field, message))
}

async fn create(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    Form(submitted): Form<Submitted>,
) -> Response {
    let result = async {
        let admin = viewer.require(&[Role::Admin])?;
        viewer.check_csrf(forms::value(&submitted, "_csrf"))?;
        let tr = viewer.tr;
        let text = |name: &str| {
            forms::value(&submitted, name)
                .unwrap_or("")
                .trim()
                .to_owned()
        };
        let mut form = NewUser {
            username: text("username"),
            display_name: text("display_name"),
            email: text("email"),
            role: text("role"),
            regions: submitted
                .iter()
                .filter(|(k, v)| k == "regions" && !v.is_empty())
                .map(|(_, v)| v.clone())
                .collect(),
            error: None,
        };
        // Passwords are taken as typed: spaces are part of a passphrase.
        let password = forms::value(&submitted, "password").unwrap_or("");
        let confirmation = forms::value(&submitted, "password_confirmation").unwrap_or("");
        let refused = create_account(&state, &tr, admin, &form, password, confirmation).await?;
        match refused {
            None => Ok(see_other(&format!(
                "/users?created={}",
                urlencode(&form.username)
            ))),
            Some(error) => {
                form.error = Some(error);
                draw(
                    &state,
                    &viewer,
                    None,
                    form,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
        }
    }
    .await;
    respond(&viewer, result)
}

/// Creates the account the form describes; `Some((field, message))` when it is refused.
async fn create_account(
    state: &WebState,
    tr: &Tr,
    admin: &accounts::UserPrincipal,
    form: &NewUser,
    password: &str,
    confirmation: &str,
) -> Result<Option<(String, String)>, WebError> {
    if password != confirmation {
        let message = tr.t("users-password-mismatch");
        return Ok(Some(("password_confirmation".to_owned(), message)));
    }
    let Ok(role) = Role::parse("role", &form.role) else {
        return Ok(Some(("role".to_owned(), tr.t("rule-required"))));
    };
    // The address is checked before the account exists, so a typo writes nothing.
    if !form.email.is_empty() {
        if let Err(error) = accounts::check_email(&form.email) {
            return refusal(tr, error).map(Some);
        }
    }
    let display = (!form.display_name.is_empty()).then_some(form.display_name.as_str());
    let created = accounts::create_user(
        &state.store,
        &form.username,
        display,
        role,
        &form.regions,
        password,
        admin.actor(),
    )
    .await;
    if let Err(error) = created {
        return refusal(tr, error).map(Some);
    }
    if !form.email.is_empty() {
        if let Err(error) = accounts::set_email(&state.store, &form.username, &form.email).await {
            return refusal(tr, error).map(Some);
        }
    }
    Ok(None)
}

async fn disable(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    Path(name): Path<String>,
    Form(submitted): Form<Submitted>,
) -> Response {
    let result = switch(&state, &viewer, &name, &submitted, false).await;
    respond(&viewer, result)
}

async fn enable(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    Path(name): Path<String>,
    Form(submitted): Form<Submitted>,
) -> Response {
    let result = switch(&state, &viewer, &name, &submitted, true).await;
    respond(&viewer, result)
}

/// Disables or enables a user.
async fn switch(
    state: &WebState,
    viewer: &Viewer,
    name: &str,
    submitted: &Submitted,
    enable: bool,
) -> WebResult {
    let admin = viewer.require(&[Role::Admin])?;
    viewer.check_csrf(forms::value(submitted, "_csrf"))?;
    let tr = viewer.tr;
    // An admin disabling itself would lock itself out mid-task: refused here, not offered.
    if !enable && name == admin.username {
        return Err(WebError::BadRequest);
    }
    let done = if enable {
        accounts::enable_user(&state.store, name, admin.actor()).await
    } else {
        accounts::disable_user(&state.store, name, admin.actor()).await
    };
    match done {
        Ok(()) => {}
        Err(error) => {
            let (field, message) = refusal(&tr, error)?;
            if field == "username" {
                return Err(WebError::NotFound);
            }
            return draw(
                state,
                viewer,
                Some(("error", message)),
                NewUser::default(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    }
    if enable {
        return Ok(see_other(&format!("/users?enabled={}", urlencode(name))));
    }
    session::delete_for_user(state.store.pool(), accounts::user_id(name)).await?;
    tracing::info!(user = %name, by = %admin.username, "user disabled from the web");
    Ok(see_other(&format!("/users?disabled={}", urlencode(name))))
}
