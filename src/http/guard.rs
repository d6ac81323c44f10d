//! Authentication at the edge: the bearer token of each request becomes an [`Access`], failed
//! attempts are logged (never the token) and limited per client address, and WebSocket clients
//! may authenticate in `connection_init` instead of a header.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql::Data;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Extension;

use super::{error_body, negotiate, HttpState, Media};
use crate::auth::{self, Access, Refusal};
use crate::error::{ApiError, Code};
use crate::store::Pool;

/// Failed authentications allowed per client address in one window.
pub const MAX_FAILURES: u32 = 10;
/// The window.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(60);

/// Counts failed authentications per client address.
#[derive(Debug, Default)]
pub struct FailureLimiter {
    failures: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl FailureLimiter {
    /// Whether `address` used up its failures in the current window.
    pub fn blocked(&self, address: IpAddr) -> bool {
        let Ok(mut failures) = self.failures.lock() else {
            return false;
        };
        match failures.get(&address) {
            Some((since, _)) if since.elapsed() > FAILURE_WINDOW => {
                failures.remove(&address);
                false
            }
            Some((_, count)) => *count >= MAX_FAILURES,
            None => false,
        }
    }

    /// Records a failure of `address`.
    pub fn failed(&self, address: IpAddr) {
        if let Ok(mut failures) = self.failures.lock() {
            // Forget finished windows before the map can grow large.
            if failures.len() >= 10_000 {
                failures.retain(|_, (since, _)| since.elapsed() <= FAILURE_WINDOW);
            }
            let entry = failures.entry(address).or_insert((Instant::now(), 0));
            if entry.0.elapsed() > FAILURE_WINDOW {
                *entry = (Instant::now(), 0);
            }
            entry.1 += 1;
        }
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.strip_prefix("Bearer ").unwrap_or(v).trim())
}

/// What a presented token is worth.
async fn check(pool: &Pool, public_read: bool, token: Option<&str>) -> Result<Access, ApiError> {
    let Some(token) = token else {
        return Ok(Access::Anonymous { public_read });
    };
    match auth::authenticate(pool, token).await? {
        Ok(principal) => Ok(Access::Token(principal)),
        Err(refusal) => {
            let why = match refusal {
                Refusal::Malformed => "malformed token",
                Refusal::Unknown => "unknown token or wrong secret",
                Refusal::Revoked => "revoked token",
            };
            Err(ApiError::new(
                Code::Unauthenticated,
                format!("authentication failed: {why}"),
            ))
        }
    }
}

/// Middleware: turns the request's token into an [`Access`] extension, or answers
/// `UNAUTHENTICATED` (401), or `LIMIT_EXCEEDED` (429) for an address with too many failures.
pub async fn authenticate(
    State(state): State<HttpState>,
    mut request: Request,
    next: Next,
) -> Response {
    let media = negotiate(request.headers()).unwrap_or(Media::Json);
    let address = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip());
    let token = bearer(request.headers()).map(str::to_owned);
    if token.is_some() {
        if let Some(address) = address.filter(|a| state.failures.blocked(*a)) {
            tracing::warn!(%address, "authentication refused: too many failures");
            return error_body(
                StatusCode::TOO_MANY_REQUESTS,
                media,
                ApiError::new(
                    Code::LimitExceeded,
                    "too many failed authentications from this address; wait a minute",
                ),
            );
        }
    }
    match check(state.store.pool(), state.public_read, token.as_deref()).await {
        Ok(access) => {
            request.extensions_mut().insert(access);
            next.run(request).await
        }
        Err(error) => {
            // The token itself is never logged.
            tracing::warn!(address = ?address, reason = %error.message, "authentication failed");
            if let Some(address) = address {
                state.failures.failed(address);
            }
            let status = if error.code == Code::Unauthenticated {
                StatusCode::UNAUTHORIZED
            } else {
                StatusCode::INTERNAL_SERVER_ERROR
            };
            error_body(status, media, error)
        }
    }
}

/// The WebSocket endpoint (`graphql-transport-ws` and the older `graphql-ws`). A token in
/// `connection_init`'s payload (`{"Authorization": "Bearer ..."}`) replaces the upgrade request's.
pub async fn websocket(
    State(state): State<HttpState>,
    Extension(access): Extension<Access>,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    let schema = state.schema.clone();
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| {
            GraphQLWebSocket::new(socket, schema, protocol)
                .on_connection_init(move |payload| async move {
                    let token = payload
                        .get("Authorization")
                        .or_else(|| payload.get("authorization"))
                        .and_then(|v| v.as_str())
                        .map(|v| v.strip_prefix("Bearer ").unwrap_or(v).trim().to_owned());
                    let access = match token {
                        None => access,
                        Some(token) => {
                            let public_read = state.public_read;
                            match check(state.store.pool(), public_read, Some(&token)).await {
                                Ok(access) => access,
                                Err(error) => {
                                    tracing::warn!(reason = %error.message, "websocket authentication failed");
                                    return Err(async_graphql::Error::new(error.message));
                                }
                            }
                        }
                    };
                    let mut data = Data::default();
                    data.insert(access);
                    Ok(data)
                })
                .serve()
        })
        .into_response()
}
