//! The accept loop: serves the routes over HTTP/1.1 (and WebSocket upgrades) with bounds on
//! what an idle or slow client can hold.
//!
//! `axum::serve` keeps every connection for as long as the client wants: a client that connects
//! and sends nothing, sends half a request head, or keeps a connection alive without using it
//! holds a socket and a task forever, and enough of them stop the server from accepting at all.
//! Here each connection has
//!
//! - a **header timeout** ([`ConnectionLimits::header_timeout`]): a request head must be complete
//!   within it, counted from the accept for a connection's first request and from the first byte
//!   of each later one;
//! - an **idle timeout** ([`ConnectionLimits::idle_timeout`]): a kept-alive connection waiting
//!   for its next request (nothing read since its last response was written) is closed after it,
//!   and so is one whose request has stalled (a body that stops arriving, a response the client
//!   stops reading: no byte either way for that long);
//! - a place under a **cap** ([`ConnectionLimits::max_connections`]): a connection past the cap is
//!   answered at once `503 Service Unavailable` with `Connection: close` and a short body, and
//!   closed. A place is held for the connection's whole life, WebSocket included (its permit
//!   travels inside the socket through the upgrade).
//!
//! Why hyper's own `header_read_timeout` is not used: its clock starts whenever the connection
//! starts waiting for a request, so on a kept-alive connection it is also the idle timeout, and
//! the two cannot be set apart (a 10 s header timeout would close every kept-alive connection
//! after 10 s). Each connection's timing is therefore kept by a small watchdog here: the socket
//! wrapper notes when bytes arrive, the service notes when a request starts and ends, and the
//! watchdog closes the connection at the deadline of the phase it is in. While a handler runs
//! without reading or writing (a query being computed), the stall deadline applies too, so the
//! idle timeout must stay above the request timeout ([`super::Limits`], 30 s by default).
//!
//! On shutdown the listener is closed, every connection is told to finish the request it is
//! serving and close (hyper's graceful shutdown; idle ones close at once), and the call returns
//! when they have, or after [`SHUTDOWN_GRACE`] at most. Upgraded WebSockets are not waited for,
//! as with `axum::serve`.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, Response};
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::Service;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use super::logthrottle::Throttle;

/// Default for [`ConnectionLimits::max_connections`].
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// Default for [`ConnectionLimits::header_timeout`], in seconds.
pub const DEFAULT_HEADER_TIMEOUT_SECS: u64 = 10;
/// Default for [`ConnectionLimits::idle_timeout`], in seconds.
pub const DEFAULT_IDLE_TIMEOUT_SECS: u64 = 60;

/// Refused connections whose refusal may linger (see [`refuse`]) at once; past it a refused
/// socket is closed right after the answer is written.
const MAX_LINGERING_REFUSALS: usize = 64;
/// How long a refused connection is drained of what the client sent before it is closed.
const REFUSAL_LINGER: Duration = Duration::from_secs(1);
/// Longest a shutdown waits for connections to finish their requests; those still open then
/// are dropped, so that a client trickling a body cannot keep the process from exiting.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
/// How long the loop waits after an accept error that is not about one connection (out of file
/// descriptors, say) before it tries again, rather than spinning on it.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// The answer to a connection past the cap: complete, so any HTTP client shows it as it is.
const REFUSAL: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Length: 51\r\n\
Retry-After: 1\r\n\
Connection: close\r\n\
\r\n\
too many open connections; retry in a little while\n";

/// Bounds on the connections a server keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Most connections open at once, WebSockets included; past it a new connection is answered
    /// `503` and closed.
    pub max_connections: usize,
    /// Longest a client may take to send a request head: from the accept for the first request
    /// of a connection, from the request's first byte for later ones.
    pub header_timeout: Duration,
    /// Longest a kept-alive connection may wait for its next request, and a request may go
    /// without a byte read or written (keep it above the request timeout).
    pub idle_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            max_connections: DEFAULT_MAX_CONNECTIONS,
            header_timeout: Duration::from_secs(DEFAULT_HEADER_TIMEOUT_SECS),
            idle_timeout: Duration::from_secs(DEFAULT_IDLE_TIMEOUT_SECS),
        }
    }
}

/// Serves `router` on `listener` within `limits` until `shutdown` resolves, then lets in-flight
/// requests finish (for [`SHUTDOWN_GRACE`] at most) and returns. Handlers can read the client's address as
/// `ConnectInfo<SocketAddr>`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) {
    static ACCEPT_FAILED: Throttle = Throttle::per_second();
    static REFUSED: Throttle = Throttle::per_second();
    let places = Arc::new(Semaphore::new(limits.max_connections));
    let lingering = Arc::new(Semaphore::new(MAX_LINGERING_REFUSALS));
    // Connections watch `draining` for the shutdown; each holds a clone of `open`, and
    // `open.closed()` resolves once the last one has ended.
    let (draining, draining_rx) = watch::channel(());
    let (open, open_rx) = watch::channel(());
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            // One connection that failed before it was accepted: nothing to wait for.
            Err(error) if is_connection_error(&error) => continue,
            Err(error) => {
                if let Some(suppressed) = ACCEPT_FAILED.allow("cannot accept connections") {
                    tracing::error!(%error, suppressed, "cannot accept connections");
                }
                tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                continue;
            }
        };
        let Ok(place) = places.clone().try_acquire_owned() else {
            let message = "connection refused: too many open connections";
            if let Some(suppressed) = REFUSED.allow(message) {
                tracing::warn!(%peer, max = limits.max_connections, suppressed, "{message}");
            }
            refuse(stream, &lingering);
            continue;
        };
        // Small responses go out at once rather than waiting on Nagle's algorithm.
        let _ = stream.set_nodelay(true);
        let connection = Connection {
            stream,
            peer,
            place,
            router: router.clone(),
            limits,
        };
        let draining = draining_rx.clone();
        let open = open_rx.clone();
        tokio::spawn(async move {
            connection.run(draining).await;
            drop(open);
        });
    }
    drop(listener);
    drop(draining_rx);
    drop(open_rx);
    let _ = draining.send(());
    if tokio::time::timeout(SHUTDOWN_GRACE, open.closed())
        .await
        .is_err()
    {
        tracing::warn!(
            grace_secs = SHUTDOWN_GRACE.as_secs(),
            "shutting down with connections still open after the grace period"
        );
    }
}

/// Whether an accept error concerns only the connection being accepted (the loop goes on at
/// once), rather than the listener or the process (the loop pauses).
fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// Answers a connection past the cap with [`REFUSAL`] and closes it.
///
/// The answer is written without waiting (a fresh socket's send buffer is empty, so it fits).
/// Closing a socket whose client has sent bytes we never read makes the kernel send a reset,
/// which can destroy the answer before the client reads it; so the socket is half-closed and
/// drained for up to [`REFUSAL_LINGER`] first, in a task. At most [`MAX_LINGERING_REFUSALS`] do
/// so at once, so a flood of connections cannot turn into a flood of tasks: past it the socket
/// is closed at once.
fn refuse(stream: TcpStream, lingering: &Arc<Semaphore>) {
    let _ = stream.try_write(REFUSAL);
    let Ok(permit) = lingering.clone().try_acquire_owned() else {
        return;
    };
    tokio::spawn(async move {
        let _permit = permit;
        let mut stream = stream;
        let _ = stream.shutdown().await;
        let mut sink = [0u8; 1024];
        let _ = tokio::time::timeout(REFUSAL_LINGER, async {
            while let Ok(1..) = stream.read(&mut sink).await {}
        })
        .await;
    });
}

/// One accepted connection and what it needs to be served.
struct Connection {
    stream: TcpStream,
    peer: SocketAddr,
    place: OwnedSemaphorePermit,
    router: Router,
    limits: ConnectionLimits,
}

impl Connection {
    /// Serves the connection until the client closes it, a deadline passes, or the server shuts
    /// down (`draining` changes or its sender goes).
    async fn run(self, mut draining: watch::Receiver<()>) {
        let Connection {
            stream,
            peer,
            place,
            router,
            limits,
        } = self;
        let activity = Arc::new(Activity::new(limits));
        let io = TokioIo::new(Tracked {
            stream,
            activity: activity.clone(),
            _place: place,
        });
        let service = PerConnection {
            inner: TowerToHyperService::new(router),
            peer,
            activity: activity.clone(),
        };
        // Our watchdog keeps the header timeout (see the module's documentation); hyper's, on by
        // default, is switched off so that it does not close kept-alive connections early.
        let connection = http1::Builder::new()
            .keep_alive(true)
            .header_read_timeout(None)
            .serve_connection(io, service)
            .with_upgrades();
        tokio::pin!(connection);
        let watchdog = activity.expired();
        tokio::pin!(watchdog);
        let mut shutting_down = false;
        loop {
            tokio::select! {
                served = connection.as_mut() => {
                    if let Err(error) = served {
                        // The client's doing (a malformed request, a reset): not worth a warning.
                        tracing::debug!(%peer, %error, "connection ended with an error");
                    }
                    return;
                }
                reason = &mut watchdog => {
                    tracing::debug!(%peer, reason, "connection closed");
                    return;
                }
                _ = draining.changed(), if !shutting_down => {
                    shutting_down = true;
                    connection.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// Where a connection is in its request cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Receiving a request head that began at this instant (for a new connection, its accept).
    Head(Instant),
    /// Handlers are running for `requests` requests; a byte was last read or written (or a
    /// request started) at `moved`.
    Busy { requests: usize, moved: Instant },
    /// Kept alive with no request since this instant (its last response, or the last bytes of
    /// it written).
    Idle(Instant),
}

/// What happens on a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Event {
    /// Bytes arrived: on an idle connection, a new request head has begun; on a busy one, the
    /// request is moving.
    Read,
    /// Bytes of a response went out: the connection is not idle (or stalled) while they do.
    Wrote,
    /// A request's head was read and its handler starts.
    Started,
    /// A handler finished (or was dropped).
    Finished,
}

impl Phase {
    /// The phase after `event` at `now`.
    fn next(self, event: Event, now: Instant) -> Phase {
        match (self, event) {
            (Phase::Idle(_), Event::Read) => Phase::Head(now),
            (Phase::Idle(_), Event::Wrote) => Phase::Idle(now),
            (Phase::Head(_), Event::Read | Event::Wrote) => self,
            (Phase::Busy { requests, .. }, Event::Read | Event::Wrote) => Phase::Busy {
                requests,
                moved: now,
            },
            (Phase::Busy { requests, .. }, Event::Started) => Phase::Busy {
                requests: requests.saturating_add(1),
                moved: now,
            },
            (Phase::Head(_) | Phase::Idle(_), Event::Started) => Phase::Busy {
                requests: 1,
                moved: now,
            },
            (Phase::Busy { requests, .. }, Event::Finished) if requests > 1 => Phase::Busy {
                requests: requests.saturating_sub(1),
                moved: now,
            },
            (_, Event::Finished) => Phase::Idle(now),
        }
    }

    /// When a connection in this phase must be closed if nothing changes, and why. `None`: no
    /// deadline (the timeout is too large to represent).
    fn deadline(self, limits: ConnectionLimits) -> Option<(Instant, &'static str)> {
        match self {
            Phase::Head(since) => since
                .checked_add(limits.header_timeout)
                .map(|at| (at, "request head not received within the header timeout")),
            Phase::Idle(since) => since
                .checked_add(limits.idle_timeout)
                .map(|at| (at, "no new request within the idle timeout")),
            Phase::Busy { moved, .. } => moved.checked_add(limits.idle_timeout).map(|at| {
                (
                    at,
                    "request stalled: no byte either way within the idle timeout",
                )
            }),
        }
    }
}

/// What a connection's watchdog watches: the socket wrapper and the service report to it.
#[derive(Debug)]
struct Activity {
    limits: ConnectionLimits,
    phase: Mutex<Phase>,
    /// Woken when a deadline may have come sooner than the one the watchdog sleeps towards.
    changed: Notify,
}

impl Activity {
    fn new(limits: ConnectionLimits) -> Activity {
        Activity {
            limits,
            phase: Mutex::new(Phase::Head(Instant::now())),
            changed: Notify::new(),
        }
    }

    /// The current phase. A poisoned lock still holds a valid phase (every update is one
    /// assignment), so it is used as it is.
    fn phase(&self) -> std::sync::MutexGuard<'_, Phase> {
        self.phase.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records `event`.
    fn note(&self, event: Event) {
        let mut phase = self.phase();
        let before = *phase;
        *phase = before.next(event, Instant::now());
        let after = *phase;
        drop(phase);
        // The watchdog sleeps until the deadline it last saw: it must be woken when the new one
        // is sooner (half a head after an idle wait, say). A later one it finds when it wakes.
        let deadline = |phase: Phase| phase.deadline(self.limits).map(|(at, _)| at);
        let sooner = match (deadline(before), deadline(after)) {
            (Some(before), Some(after)) => after < before,
            (None, Some(_)) => true,
            (_, None) => false,
        };
        if sooner {
            self.changed.notify_one();
        }
    }

    /// Resolves, with the reason, when the connection passes its phase's deadline.
    async fn expired(&self) -> &'static str {
        loop {
            // Created before the phase is read, so a change in between is not missed.
            let changed = self.changed.notified();
            let deadline = self.phase().deadline(self.limits);
            match deadline {
                Some((at, reason)) if at <= Instant::now() => return reason,
                Some((at, _)) => {
                    tokio::select! {
                        () = tokio::time::sleep_until(at) => {}
                        () = changed => {}
                    }
                }
                None => changed.await,
            }
        }
    }
}

/// The socket, reporting what it reads and writes to the watchdog, and holding the connection's
/// place under the cap: it travels with the socket through a WebSocket upgrade, so the place is
/// given back only when the socket is closed.
struct Tracked {
    stream: TcpStream,
    activity: Arc<Activity>,
    _place: OwnedSemaphorePermit,
}

impl AsyncRead for Tracked {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.stream).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.activity.note(Event::Read);
        }
        polled
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.stream).poll_write(cx, buf);
        if let Poll::Ready(Ok(1..)) = polled {
            this.activity.note(Event::Wrote);
        }
        polled
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(1..)) = polled {
            this.activity.note(Event::Wrote);
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// The routes as one connection's hyper service: adds the client's address for handlers and
/// tells the watchdog when each request starts and ends.
#[derive(Clone)]
struct PerConnection {
    inner: TowerToHyperService<Router>,
    peer: SocketAddr,
    activity: Arc<Activity>,
}

/// Marks a request finished when dropped: when its handler returns, and also when the
/// connection is dropped mid-request.
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.note(Event::Finished);
    }
}

impl Service<Request<Incoming>> for PerConnection {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn call(&self, mut request: Request<Incoming>) -> Self::Future {
        request.extensions_mut().insert(ConnectInfo(self.peer));
        self.activity.note(Event::Started);
        let in_flight = InFlight(self.activity.clone());
        let response = self.inner.call(request);
        Box::pin(async move {
            let response = response.await;
            drop(in_flight);
            response
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: ConnectionLimits = ConnectionLimits {
        max_connections: 1,
        header_timeout: Duration::from_secs(10),
        idle_timeout: Duration::from_secs(60),
    };

    fn at(phase: Phase) -> Option<Instant> {
        phase.deadline(LIMITS).map(|(at, _)| at)
    }

    #[test]
    fn the_refusal_is_a_complete_response() {
        let text = std::str::from_utf8(REFUSAL).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 503 "));
        assert!(head.contains("\r\nConnection: close"));
        let length = format!("\r\nContent-Length: {}", body.len());
        assert!(head.contains(&length), "{head}");
    }

    #[test]
    fn deadlines_follow_the_phase() {
        let accept = Instant::now();
        let s = |secs| accept + Duration::from_secs(secs);
        // A new connection: its first head is due 10 s after the accept, however its bytes come.
        let phase = Phase::Head(accept).next(Event::Read, s(3));
        assert_eq!(at(phase), Some(s(10)));
        // Running handlers: closed only if nothing moves for the idle timeout (a stalled body).
        let phase = phase.next(Event::Started, s(4));
        assert_eq!(at(phase), Some(s(64)));
        let phase = phase.next(Event::Started, s(4));
        let phase = phase.next(Event::Finished, s(5)).next(Event::Read, s(6));
        assert_eq!(at(phase), Some(s(66)));
        let phase = phase.next(Event::Wrote, s(50));
        assert_eq!(at(phase), Some(s(110)));
        // Kept alive: 60 s from the last response, pushed back while its bytes go out.
        let phase = phase.next(Event::Finished, s(100));
        assert_eq!(at(phase), Some(s(160)));
        let phase = phase.next(Event::Wrote, s(105));
        assert_eq!(at(phase), Some(s(165)));
        // The next request's first byte: its head is due 10 s later, sooner than the idle end,
        // and more bytes do not push it back.
        let phase = phase.next(Event::Read, s(110)).next(Event::Read, s(119));
        assert_eq!(at(phase), Some(s(120)));
        // A timeout too large to represent is no deadline rather than a panic.
        let huge = ConnectionLimits {
            idle_timeout: Duration::MAX,
            ..LIMITS
        };
        assert_eq!(Phase::Idle(accept).deadline(huge), None);
    }

    #[tokio::test]
    async fn the_watchdog_wakes_for_a_sooner_deadline() {
        let limits = ConnectionLimits {
            header_timeout: Duration::from_millis(200),
            ..LIMITS
        };
        let activity = Arc::new(Activity::new(limits));
        activity.note(Event::Started);
        activity.note(Event::Finished);
        let watched = activity.clone();
        let watchdog = tokio::spawn(async move { watched.expired().await });
        tokio::time::sleep(Duration::from_millis(50)).await;
        // Half a request head arrives while the watchdog sleeps towards the 60 s idle deadline.
        let first_byte = Instant::now();
        activity.note(Event::Read);
        let reason = tokio::time::timeout(Duration::from_secs(5), watchdog)
            .await
            .expect("the header deadline, not the idle one")
            .unwrap();
        assert_eq!(
            reason,
            "request head not received within the header timeout"
        );
        assert!(first_byte.elapsed() >= limits.header_timeout);
    }
}
