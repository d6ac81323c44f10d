//! Authentication at the edge: the bearer token of each request becomes an [`Access`], failed
//! attempts are logged (never the token) and limited per client address and token id, and
//! WebSocket clients authenticate in `connection_init` through the same check and limiter.
//!
//! WebSockets are also watched for their whole life: `connection_init` must come within
//! [`INIT_TIMEOUT`] (close code 4408, as graphql-transport-ws says), and a connection whose
//! token is revoked or changed is closed within a second (close code 4403).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql::Data;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{mpsc, watch};
use uuid::Uuid;

use super::logthrottle::Throttle;
use super::{error_body, negotiate, HttpState, Media};
use crate::auth::{self, Access, Principal, Refusal};
use crate::error::{ApiError, Code};

/// Failed authentications allowed per client address and token id in one window.
pub const MAX_FAILURES: u32 = 10;
/// The window.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(60);
/// Most (address, token id) pairs tracked at once; past it the oldest window is forgotten.
pub const MAX_TRACKED: usize = 10_000;
/// How long a WebSocket may stay open without `connection_init`.
pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);

/// Whose failures are counted together: a client address and the token id it presented (`None`
/// for bearers that are not token-shaped). Keyed this way, wrong guesses from an office's shared
/// address lock out the token guessed at, not every colleague's valid token.
pub type FailureKey = (IpAddr, Option<Uuid>);

/// Counts failed authentications per [`FailureKey`].
#[derive(Debug, Default)]
pub struct FailureLimiter {
    failures: Mutex<HashMap<FailureKey, (Instant, u32)>>,
}

impl FailureLimiter {
    /// Whether `key` used up its failures in the current window.
    pub fn blocked(&self, key: FailureKey) -> bool {
        let Ok(mut failures) = self.failures.lock() else {
            return false;
        };
        match failures.get(&key) {
            Some((since, _)) if since.elapsed() > FAILURE_WINDOW => {
                failures.remove(&key);
                false
            }
            Some((_, count)) => *count >= MAX_FAILURES,
            None => false,
        }
    }

    /// Records a failure of `key`.
    pub fn failed(&self, key: FailureKey) {
        if let Ok(mut failures) = self.failures.lock() {
            if failures.len() >= MAX_TRACKED && !failures.contains_key(&key) {
                // Forget finished windows; if every one is live, the oldest goes, so memory stays
                // bounded whatever a client sends.
                failures.retain(|_, (since, _)| since.elapsed() <= FAILURE_WINDOW);
                if failures.len() >= MAX_TRACKED {
                    let oldest = failures.iter().min_by_key(|(_, (since, _))| *since);
                    if let Some(oldest) = oldest.map(|(k, _)| *k) {
                        failures.remove(&oldest);
                    }
                }
            }
            let entry = failures.entry(key).or_insert((Instant::now(), 0));
            if entry.0.elapsed() > FAILURE_WINDOW {
                *entry = (Instant::now(), 0);
            }
            entry.1 = entry.1.saturating_add(1);
        }
    }
}

/// The client address of a request (absent in in-process tests).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub Option<IpAddr>);

/// Why a bearer was not accepted, with what the client is told.
struct Refused {
    status: StatusCode,
    error: ApiError,
}

/// Checks a bearer for a client: the one rule for HTTP requests and WebSocket
/// `connection_init`. Only a wrong or malformed token counts as a failure; a database error is
/// `INTERNAL` (503) and locks nobody out.
async fn admit(
    state: &HttpState,
    address: Option<IpAddr>,
    token: Option<&str>,
) -> Result<Access, Refused> {
    let Some(token) = token else {
        return Ok(Access::Anonymous {
            public_read: state.public_read,
        });
    };
    let key = address.map(|a| (a, auth::token_id(token)));
    if let Some(key) = key.filter(|k| state.failures.blocked(*k)) {
        throttled_warn("authentication refused: too many failures", key.0);
        return Err(Refused {
            status: StatusCode::TOO_MANY_REQUESTS,
            error: ApiError::new(
                Code::LimitExceeded,
                "too many failed authentications with this token from this address; wait a minute",
            ),
        });
    }
    match auth::authenticate(state.store.pool(), token).await {
        Ok(Ok(principal)) => Ok(Access::Token(principal)),
        Ok(Err(refusal)) => {
            // One message for every refusal: a client must not learn which ids exist or were
            // revoked. The log keeps the reason (never the token).
            let counted = matches!(refusal, Refusal::Malformed | Refusal::Unknown);
            if let (Some(key), true) = (key, counted) {
                state.failures.failed(key);
            }
            let reason = match refusal {
                Refusal::Malformed => "authentication failed: malformed token",
                Refusal::Unknown => "authentication failed: unknown token or wrong secret",
                Refusal::Revoked => "authentication failed: revoked token",
            };
            if let Some(address) = address {
                throttled_warn(reason, address);
            }
            Err(Refused {
                status: StatusCode::UNAUTHORIZED,
                error: ApiError::new(
                    Code::Unauthenticated,
                    "authentication failed: invalid or revoked token",
                ),
            })
        }
        Err(error) => Err(Refused {
            status: StatusCode::SERVICE_UNAVAILABLE,
            error: ApiError::from(error),
        }),
    }
}

/// Logs a refusal at most once a second per message, with how many were left out meanwhile:
/// under attack, thousands of identical lines a second would drown the log.
fn throttled_warn(message: &'static str, address: IpAddr) {
    static REFUSALS: Throttle = Throttle::per_second();
    if let Some(suppressed) = REFUSALS.allow(message) {
        tracing::warn!(%address, suppressed, "{message}");
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.strip_prefix("Bearer ").unwrap_or(v).trim())
}

/// Middleware: turns the request's token into an [`Access`] extension, or answers
/// `UNAUTHENTICATED` (401), `LIMIT_EXCEEDED` (429) for a token with too many failures from this
/// address, or `INTERNAL` (503) when the tokens cannot be read.
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
    match admit(&state, address, token.as_deref()).await {
        Ok(access) => {
            request.extensions_mut().insert(access);
            request.extensions_mut().insert(ClientAddress(address));
            next.run(request).await
        }
        Err(refused) => error_body(refused.status, media, refused.error),
    }
}

/// How much of a WebSocket tungstenite reads at once. Before each read it zero-fills that much
/// of its buffer, and async-graphql tries a read each time it sends a subscription's message:
/// at the default 128 KiB, filling buffers was 45 % of the CPU with 1,000 sockets receiving
/// events. Clients send small messages (subscribe, ping, complete); a larger one takes more
/// reads.
const WEBSOCKET_READ_BUFFER: usize = 4 * 1024;

/// The WebSocket endpoint (`graphql-transport-ws` and the older `graphql-ws`). A token in
/// `connection_init`'s payload (`{"Authorization": "Bearer ..."}`) replaces the upgrade request's,
/// through the same check and failure limiter as HTTP.
pub async fn websocket(
    State(state): State<HttpState>,
    Extension(access): Extension<Access>,
    Extension(ClientAddress(address)): Extension<ClientAddress>,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    let largest = state.limits.max_body_bytes;
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        // A client's message is a GraphQL request: held to the same limit as an HTTP body
        // (tungstenite's own defaults: 64 MiB a message, 16 MiB a frame).
        .max_message_size(largest)
        .max_frame_size(largest)
        .read_buffer_size(WEBSOCKET_READ_BUFFER)
        .on_upgrade(move |socket| serve_socket(state, socket, protocol, access, address))
        .into_response()
}

/// Serves one WebSocket: async-graphql speaks the protocol, writing through a channel, while a
/// watcher may close the socket itself (init timeout, revoked token).
async fn serve_socket(
    state: HttpState,
    socket: WebSocket,
    protocol: GraphQLProtocol,
    access: Access,
    address: Option<IpAddr>,
) {
    let (mut sink, stream) = socket.split();
    let (out, mut outgoing) = mpsc::channel::<Message>(16);
    let out = futures_util::sink::unfold(out, |out, message: Message| async move {
        out.send(message)
            .await
            .map_err(|_| axum::Error::new("socket closed"))?;
        Ok::<_, axum::Error>(out)
    });
    let (admitted, mut admission) = watch::channel(None::<Access>);
    // Set when connection_init is refused: async-graphql closes with 1002 (protocol error);
    // graphql-transport-ws says 4403 (forbidden), so that close is rewritten on its way out.
    let refused = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let refused_in_init = refused.clone();
    let schema = state.schema.clone();
    let init_state = state.clone();
    let graphql = GraphQLWebSocket::new_with_pair(out, stream, schema, protocol)
        .on_connection_init(move |payload| async move {
            let token = payload
                .get("Authorization")
                .or_else(|| payload.get("authorization"))
                .and_then(|v| v.as_str())
                .map(|v| v.strip_prefix("Bearer ").unwrap_or(v).trim().to_owned());
            let access = match token {
                None => access,
                Some(token) => match admit(&init_state, address, Some(&token)).await {
                    Ok(access) => access,
                    Err(refusal) => {
                        refused_in_init.store(true, std::sync::atomic::Ordering::SeqCst);
                        return Err(async_graphql::Error::new(refusal.error.message));
                    }
                },
            };
            let _ = admitted.send(Some(access.clone()));
            let mut data = Data::default();
            data.insert(access);
            Ok(data)
        })
        .serve();
    let feed = state.feed.clone();
    let watcher = async move {
        // In a block of its own: the watch's read guard must be gone before the next await.
        let principal: Option<Principal> = {
            let granted =
                tokio::time::timeout(INIT_TIMEOUT, admission.wait_for(Option::is_some)).await;
            match granted {
                Err(_) => return (4408, "Connection initialisation timeout"),
                Ok(Err(_)) => None, // the protocol ended first
                Ok(Ok(access)) => match &*access {
                    Some(Access::Token(principal)) => Some(principal.clone()),
                    _ => None,
                },
            }
        };
        let Some(principal) = principal else {
            return std::future::pending().await;
        };
        // A token changes only through an append: checked when the head moves (one check per
        // token and head, shared by every socket and subscription), so an idle socket costs
        // nothing. The hub reads the head every quarter second for other processes' appends.
        // Checked once first: a revocation between admission and this watch is not missed.
        let mut head = feed.watch_head();
        loop {
            // A read error keeps the socket: an outage is not a revocation.
            if let Ok(false) = feed.token_still_valid(&principal).await {
                return (4403, "Forbidden: the token was revoked or changed");
            }
            if head.changed().await.is_err() {
                return std::future::pending().await; // the store is gone: the protocol ends
            }
        }
    };
    tokio::pin!(graphql, watcher);
    let mut protocol_ended = false;
    loop {
        tokio::select! {
            _ = &mut graphql, if !protocol_ended => protocol_ended = true,
            (code, reason) = &mut watcher, if !protocol_ended => {
                let frame = CloseFrame { code, reason: reason.into() };
                let _ = sink.send(Message::Close(Some(frame))).await;
                return;
            }
            message = outgoing.recv() => {
                // None: the protocol ended and everything it queued (its own close) was sent.
                let Some(mut message) = message else { return };
                // Whatever else is queued already goes out with it, in one write to the
                // socket: a busy feed costs a write per burst, not one per event (a burst of
                // at most the channel's 16 and what arrives meanwhile, bounded).
                let mut burst = 0u8;
                loop {
                    if let Message::Close(Some(frame)) = &mut message {
                        if frame.code == 1002 && refused.load(std::sync::atomic::Ordering::SeqCst)
                        {
                            frame.code = 4403;
                        }
                    }
                    let closing = matches!(message, Message::Close(_));
                    if sink.feed(message).await.is_err() {
                        return;
                    }
                    if closing {
                        let _ = sink.flush().await;
                        return;
                    }
                    burst = burst.saturating_add(1);
                    match outgoing.try_recv() {
                        Ok(next) if burst < 64 => message = next,
                        Ok(next) => {
                            // Flushed first: the next burst starts with it.
                            if sink.flush().await.is_err() {
                                return;
                            }
                            burst = 0;
                            message = next;
                        }
                        Err(_) => break,
                    }
                }
                if sink.flush().await.is_err() {
                    return;
                }
            }
        }
    }
}
