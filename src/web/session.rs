//! Web sign-in sessions and their cookies, and the form tokens that guard every form (CSRF).
//!
//! A session is 32 random bytes from the OS, sent as the `HttpOnly`, `SameSite=Lax` cookie
//! [`SESSION_COOKIE`] (`Secure` when the server is told it is behind TLS), valid for
//! [`SESSION_TTL`] and deleted at sign-out. The database keeps only its SHA-256, in
//! `web_sessions`, outside the event log (see the migration for why). Each lookup reads the
//! user's current role, regions and disabled flag from `rm_users`, so disabling a user or
//! changing its role takes effect on its next request.
//!
//! Every form carries the session's own token (`_csrf`), compared in constant time; the sign-in
//! form, before any session, carries the value of a short-lived `SameSite=Strict` cookie instead
//! (double submit). A cross-site page can neither read these values nor make the browser send
//! the cookie with its POST.

use std::time::Duration;

use axum::http::{header, HeaderMap, HeaderValue};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::accounts::UserPrincipal;
use crate::domain::token::Role;
use crate::store::{on_pool, DbTime, DbUuid, Pool, StoreError};

/// The session cookie.
pub const SESSION_COOKIE: &str = "shura_session";
/// The sign-in form's token cookie.
pub const SIGNIN_COOKIE: &str = "shura_signin";
/// How long a session lasts after sign-in.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// How long the sign-in form's token lasts.
pub const SIGNIN_TTL: Duration = Duration::from_secs(3600);
/// The form field carrying the form token.
pub const CSRF_FIELD: &str = "_csrf";

/// A signed-in session.
#[derive(Debug, Clone)]
pub struct Session {
    /// Who.
    pub user: UserPrincipal,
    /// Its form token.
    pub csrf: String,
}

/// The value of cookie `name` in a request, if sent (the first one, as browsers send the most
/// specific first).
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim_matches('"'))
}

/// 32 random bytes from the OS, in hex.
pub fn random_hex() -> Result<String, StoreError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| {
        StoreError::Io(std::io::Error::other(format!(
            "no randomness from the OS: {e}"
        )))
    })?;
    Ok(hex::encode(bytes))
}

fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Whether a submitted form token equals the expected one (constant time; never for empty).
pub fn tokens_match(expected: &str, given: &str) -> bool {
    !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
}

/// A `Set-Cookie` value: `HttpOnly`, `Path=/`, the given `SameSite`, `Secure` when asked;
/// `max_age` zero deletes it.
pub fn set_cookie(
    name: &str,
    value: &str,
    max_age: Duration,
    same_site: cookie::SameSite,
    secure: bool,
) -> HeaderValue {
    let built = cookie::Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .same_site(same_site)
        .secure(secure)
        .max_age(cookie::time::Duration::seconds(
            i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX),
        ))
        .build();
    // Names and values are ours (hex, fixed names), so always a valid header value.
    HeaderValue::from_str(&built.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Starts a session for a user; returns the cookie's secret and the session's form token.
/// Expired sessions of every user are deleted first, so the table holds live sessions only.
pub async fn create(pool: &Pool, user_id: Uuid) -> Result<(String, String), StoreError> {
    const PURGE: &str = "DELETE FROM web_sessions WHERE expires_at <= $1";
    const INSERT: &str = "INSERT INTO web_sessions (id_hash, user_id, csrf, created_at, \
        expires_at) VALUES ($1, $2, $3, $4, $5)";
    let now = chrono::Utc::now();
    let ttl = chrono::Duration::from_std(SESSION_TTL).unwrap_or(chrono::Duration::hours(12));
    let (secret, csrf) = (random_hex()?, random_hex()?);
    on_pool!(pool, p => sqlx::query(PURGE).bind(DbTime(now)).execute(p).await.map(|_| ())?);
    on_pool!(pool, p => sqlx::query(INSERT)
        .bind(digest(&secret))
        .bind(DbUuid(user_id))
        .bind(&csrf)
        .bind(DbTime(now))
        .bind(DbTime(now + ttl))
        .execute(p)
        .await
        .map(|_| ())?);
    Ok((secret, csrf))
}

/// The live session of a cookie's secret: not expired, its user not disabled.
pub async fn lookup(pool: &Pool, secret: &str) -> Result<Option<Session>, StoreError> {
    const SQL: &str = "SELECT u.id, u.username, u.display_name, u.role, u.regions, s.csrf \
        FROM web_sessions s JOIN rm_users u ON u.id = s.user_id \
        WHERE s.id_hash = $1 AND s.expires_at > $2 AND u.disabled = 0";
    type Row = (DbUuid, String, Option<String>, String, String, String);
    // A secret is 64 hex digits; anything else is no session, without a query.
    if secret.len() != 64 || !secret.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let row = on_pool!(pool, p => sqlx::query_as::<_, Row>(SQL)
        .bind(digest(secret))
        .bind(DbTime(chrono::Utc::now()))
        .fetch_optional(p)
        .await?);
    let Some((id, username, display_name, role, regions, csrf)) = row else {
        return Ok(None);
    };
    let Ok(role) = Role::parse("role", &role) else {
        return Ok(None);
    };
    Ok(Some(Session {
        user: UserPrincipal {
            user_id: id.0,
            username,
            display_name,
            role,
            regions: serde_json::from_str(&regions).unwrap_or_default(),
        },
        csrf,
    }))
}

/// Ends a session (sign-out).
pub async fn delete(pool: &Pool, secret: &str) -> Result<(), StoreError> {
    const SQL: &str = "DELETE FROM web_sessions WHERE id_hash = $1";
    on_pool!(pool, p => sqlx::query(SQL).bind(digest(secret)).execute(p).await.map(|_| ())?);
    Ok(())
}

/// Ends every session of a user (when disabled, or its password changed).
pub async fn delete_for_user(pool: &Pool, user_id: Uuid) -> Result<(), StoreError> {
    const SQL: &str = "DELETE FROM web_sessions WHERE user_id = $1";
    on_pool!(pool, p => sqlx::query(SQL).bind(DbUuid(user_id)).execute(p).await.map(|_| ())?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_by_exact_name() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; shura_session_x=2; shura_session=abc"),
        );
        headers.append(header::COOKIE, HeaderValue::from_static("shura_lang=fr"));
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&headers, "shura_lang"), Some("fr"));
        assert_eq!(cookie(&headers, "missing"), None);
    }

    #[test]
    fn session_cookies_are_http_only_and_same_site() {
        let value = set_cookie(
            SESSION_COOKIE,
            "ab",
            SESSION_TTL,
            cookie::SameSite::Lax,
            true,
        );
        let text = value.to_str().unwrap();
        for part in [
            "HttpOnly",
            "SameSite=Lax",
            "Secure",
            "Path=/",
            "Max-Age=43200",
        ] {
            assert!(text.contains(part), "{text}");
        }
        let plain = set_cookie("x", "y", SIGNIN_TTL, cookie::SameSite::Strict, false);
        assert!(!plain.to_str().unwrap().contains("Secure"));
    }

    #[test]
    fn form_tokens_compare_whole_and_never_empty() {
        assert!(tokens_match("abc", "abc"));
        assert!(!tokens_match("abc", "abd"));
        assert!(!tokens_match("abc", "ab"));
        assert!(!tokens_match("", ""));
    }
}
