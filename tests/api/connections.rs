//! What a client can hold at the edge, against a real `shura serve`: the connection cap and its
//! refusal, the header and idle timeouts, and `/metrics` (bounded labels, optional token).
//!
//! Servers run with small limits (a cap of 50, timeouts of a second or a few) so that every
//! test finishes in seconds; every wait and every loop has a bound.

use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::server::{http, Server};
use crate::common::TestDb;

/// A response read off a kept-alive connection.
struct Answer {
    status: u16,
    head: String,
    body: String,
}

/// Reads one response (head, then `Content-Length` bytes of body) within `within`.
async fn read_answer(stream: &mut TcpStream, within: Duration) -> Answer {
    tokio::time::timeout(within, async {
        let mut raw = Vec::new();
        let mut chunk = [0u8; 4096];
        let head_end = loop {
            if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                break end;
            }
            assert!(raw.len() < 64 * 1024, "a response head over 64 kB");
            let n = stream.read(&mut chunk).await.expect("read a response");
            assert!(n > 0, "closed before a response head");
            raw.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&raw[..head_end]).into_owned();
        let length: usize = head
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse().ok())?
            })
            .expect("a Content-Length");
        let mut body = raw[head_end + 4..].to_vec();
        while body.len() < length {
            let n = stream.read(&mut chunk).await.expect("read a body");
            assert!(n > 0, "closed in the middle of a body");
            body.extend_from_slice(&chunk[..n]);
        }
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        Answer {
            status,
            head,
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no response within {within:?}"))
}

/// Waits at most `within` for the server to close `stream` (end of stream or reset); returns
/// how long that took, or `None` if it was still open. Anything the server sends is skipped.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut chunk = [0u8; 1024];
    tokio::time::timeout(within, async {
        // Bounded by the timeout around it.
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return started.elapsed(),
                Ok(_) => {}
            }
        }
    })
    .await
    .ok()
}

/// A keep-alive `GET`.
fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: shura\r\nAccept: */*\r\n\r\n")
}

/// A graphql-transport-ws connection, initialised (so upgraded and served) within 5 s.
async fn websocket(
    addr: &str,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>> {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::Message;
    tokio::time::timeout(Duration::from_secs(5), async {
        let mut request = format!("ws://{addr}/graphql/ws")
            .into_client_request()
            .expect("request");
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            "graphql-transport-ws".parse().expect("header"),
        );
        let (mut socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("upgrade");
        let init = json!({"type": "connection_init", "payload": {}}).to_string();
        socket.send(Message::text(init)).await.expect("init");
        let Some(Ok(Message::Text(ack))) = socket.next().await else {
            panic!("no connection_ack");
        };
        assert!(ack.as_str().contains("connection_ack"), "{}", ack.as_str());
        socket
    })
    .await
    .expect("a WebSocket within 5 s")
}

/// `GET /healthz` on a new connection answers 200 within `within` (retrying while places are
/// given back).
async fn healthy_within(server: &Server, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        let attempt = tokio::time::timeout(
            Duration::from_secs(2),
            http(&server.addr, "GET", "/healthz", None, "*/*", None),
        )
        .await;
        if let Ok(Ok((200, _))) = attempt {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

pub async fn connections_past_the_cap_are_refused_clearly(db: &TestDb) {
    let cap = 50;
    let server = Server::start(
        &db.url,
        &[
            "--no-seed",
            "--max-connections",
            &cap.to_string(),
            "--header-timeout-secs",
            "30",
            "--idle-timeout-secs",
            "30",
        ],
        &[],
    )
    .await;
    // The start-up probes' connections give their places back as they close.
    assert!(healthy_within(&server, Duration::from_secs(5)).await);

    // A WebSocket keeps its place after the upgrade, and `cap - 1` connections that send
    // nothing hold the others (before this change, enough of them stopped the server from
    // accepting at all).
    let socket = websocket(&server.addr).await;
    let mut idle = Vec::new();
    for _ in 1..cap {
        idle.push(TcpStream::connect(&server.addr).await.expect("connect"));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    // The next one is still accepted, and told clearly why it is not served, at once.
    let started = Instant::now();
    let mut refused = TcpStream::connect(&server.addr).await.expect("connect");
    let answer = read_answer(&mut refused, Duration::from_secs(2)).await;
    assert_eq!(answer.status, 503, "{}", answer.head);
    let head = answer.head.to_ascii_lowercase();
    assert!(head.contains("connection: close"), "{}", answer.head);
    assert!(
        answer.body.contains("too many open connections"),
        "{}",
        answer.body
    );
    assert!(
        closed_within(&mut refused, Duration::from_secs(3))
            .await
            .is_some(),
        "a refused connection is closed"
    );
    assert!(started.elapsed() < Duration::from_secs(3));

    // A client that sends its request at once gets the same answer (not a reset).
    let (status, body) = tokio::time::timeout(
        Duration::from_secs(5),
        http(&server.addr, "GET", "/healthz", None, "*/*", None),
    )
    .await
    .expect("an answer within 5 s")
    .expect("an answer, not a reset");
    assert_eq!(
        (status, body.trim()),
        (503, "too many open connections; retry in a little while")
    );

    // Places come back as soon as the connections go.
    drop(idle);
    drop(socket);
    assert!(
        healthy_within(&server, Duration::from_secs(5)).await,
        "served again within 5 s of the idle connections closing"
    );
    let (status, _) = server.graphql("{ __typename }", json!({})).await;
    assert_eq!(status, 200);
    let log = server.log.lock().map(|l| l.join("\n")).unwrap_or_default();
    assert!(
        log.contains("connection refused: too many open connections"),
        "refusals are logged: {log}"
    );
    // On SIGTERM a request being served finishes, while connections that are not serving one
    // are not waited for: a new one that sent nothing and a kept-alive one (the header and idle
    // timeouts here are 30 s, so waiting for them would show).
    let _silent = TcpStream::connect(&server.addr).await.expect("connect");
    let mut kept = TcpStream::connect(&server.addr).await.expect("connect");
    kept.write_all(get("/healthz").as_bytes())
        .await
        .expect("write");
    assert_eq!(
        read_answer(&mut kept, Duration::from_secs(5)).await.status,
        200
    );
    let body = json!({ "query": "{ __typename }" }).to_string();
    let (first, rest) = body.split_at(body.len() / 2);
    let mut in_flight = TcpStream::connect(&server.addr).await.expect("connect");
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: shura\r\nAccept: application/json\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{first}",
        body.len()
    );
    in_flight.write_all(head.as_bytes()).await.expect("write");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stopping = Instant::now();
    let exited = tokio::spawn(server.terminate());
    tokio::time::sleep(Duration::from_millis(500)).await;
    in_flight.write_all(rest.as_bytes()).await.expect("write");
    let answer = read_answer(&mut in_flight, Duration::from_secs(5)).await;
    assert_eq!(
        answer.status, 200,
        "the request in flight finished: {}",
        answer.body
    );
    assert!(answer.body.contains("__typename"), "{}", answer.body);
    assert!(exited.await.unwrap_or(false), "a clean exit on SIGTERM");
    assert!(
        stopping.elapsed() < Duration::from_secs(5),
        "shutdown took {:?}",
        stopping.elapsed()
    );
}

pub async fn slow_request_heads_are_closed_after_the_header_timeout(db: &TestDb) {
    let server = Server::start(
        &db.url,
        &[
            "--no-seed",
            "--header-timeout-secs",
            "1",
            "--idle-timeout-secs",
            "30",
        ],
        &[],
    )
    .await;
    // Nothing at all, and half a request head.
    let connected = Instant::now();
    let mut silent = TcpStream::connect(&server.addr).await.expect("connect");
    let mut partial = TcpStream::connect(&server.addr).await.expect("connect");
    partial
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: shura\r\n")
        .await
        .expect("write");
    for (what, stream) in [("silent", &mut silent), ("partial", &mut partial)] {
        closed_within(stream, Duration::from_secs(5))
            .await
            .unwrap_or_else(|| panic!("{what}: still open 5 s after a 1 s header timeout"));
        let took = connected.elapsed();
        assert!(
            took >= Duration::from_millis(800),
            "{what}: closed {took:?} after connecting, before the header timeout"
        );
    }

    // A head sent a byte at a time, each well within a second, is not kept alive by its bytes:
    // the timeout counts from the connection's start.
    let mut trickle = TcpStream::connect(&server.addr).await.expect("connect");
    let started = Instant::now();
    let request = get("/healthz");
    let mut closed = None;
    for byte in request.as_bytes().iter().take(30) {
        if trickle.write_all(&[*byte]).await.is_err() {
            closed = Some(started.elapsed());
            break;
        }
        if closed_within(&mut trickle, Duration::from_millis(200))
            .await
            .is_some()
        {
            closed = Some(started.elapsed());
            break;
        }
    }
    let took = closed.expect("a trickled head is closed within 6 s");
    assert!(took < Duration::from_secs(4), "closed after {took:?}");

    // Meanwhile a normal request is served.
    assert!(healthy_within(&server, Duration::from_secs(2)).await);
    server.stop().await;
}

pub async fn idle_kept_alive_connections_are_closed_after_the_idle_timeout(db: &TestDb) {
    let server = Server::start(
        &db.url,
        &[
            "--no-seed",
            "--header-timeout-secs",
            "1",
            "--idle-timeout-secs",
            "3",
        ],
        &[],
    )
    .await;
    let mut stream = TcpStream::connect(&server.addr).await.expect("connect");
    stream
        .write_all(get("/healthz").as_bytes())
        .await
        .expect("write");
    let answer = read_answer(&mut stream, Duration::from_secs(5)).await;
    assert_eq!(answer.status, 200);

    // Kept alive past the 1 s header timeout: waiting for a request is not sending one.
    assert_eq!(
        closed_within(&mut stream, Duration::from_secs(2)).await,
        None,
        "closed before the idle timeout"
    );
    stream
        .write_all(get("/readyz").as_bytes())
        .await
        .expect("write");
    let answer = read_answer(&mut stream, Duration::from_secs(5)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);

    // Then idle for 3 s from that response: closed.
    let took = closed_within(&mut stream, Duration::from_secs(8))
        .await
        .expect("closed within 8 s of a 3 s idle timeout");
    assert!(
        took >= Duration::from_millis(2_500),
        "closed after {took:?}, before the idle timeout"
    );

    // A request whose body stops arriving holds its connection no longer: its head is complete
    // (the header timeout is over), and nothing moves for the idle timeout.
    let mut stalled = TcpStream::connect(&server.addr).await.expect("connect");
    stalled
        .write_all(
            b"POST /graphql HTTP/1.1\r\nHost: shura\r\nContent-Type: application/json\r\n\
              Content-Length: 100\r\n\r\n{\"query\":",
        )
        .await
        .expect("write");
    let started = Instant::now();
    let mut chunk = [0u8; 256];
    let read = tokio::time::timeout(Duration::from_secs(8), stalled.read(&mut chunk))
        .await
        .expect("a stalled body is closed within 8 s of a 3 s idle timeout");
    assert!(
        matches!(read, Ok(0) | Err(_)),
        "closed without an answer, not answered: {:?}",
        read.map(|n| String::from_utf8_lossy(&chunk[..n]).into_owned())
    );
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(2_500),
        "closed after {took:?}, before the idle timeout"
    );
    server.stop().await;
}

pub async fn metrics_stay_small_whatever_operation_names_clients_send(db: &TestDb) {
    let server = Server::start(&db.url, &["--no-seed"], &[]).await;
    let rss_before = server.rss_kib();
    let huge = "a".repeat(500_000);
    let body = json!({ "query": "query Q { __typename }", "operationName": huge }).to_string();
    for n in 0..20 {
        let answer = tokio::time::timeout(
            Duration::from_secs(10),
            http(
                &server.addr,
                "POST",
                "/graphql",
                Some(&body),
                "application/json",
                None,
            ),
        )
        .await
        .unwrap_or_else(|_| panic!("request {n}: no answer within 10 s"))
        .expect("request");
        assert!(answer.0 < 500, "request {n}: {}", answer.0);
    }
    // Names that are valid but long are bounded too, and a normal one is kept as it is.
    let long_name = format!("Q{}", "x".repeat(64));
    for name in [long_name.as_str(), "Q"] {
        let body = json!({ "query": format!("query {name} {{ __typename }}") }).to_string();
        let answer = http(
            &server.addr,
            "POST",
            "/graphql",
            Some(&body),
            "application/json",
            None,
        )
        .await
        .expect("request");
        assert!(answer.0 < 500, "{name:.10}: {}", answer.0);
        let body =
            json!({ "query": format!("query {name} {{ __typename }}"), "operationName": name })
                .to_string();
        http(
            &server.addr,
            "POST",
            "/graphql",
            Some(&body),
            "application/json",
            None,
        )
        .await
        .expect("request");
    }
    for scrape in 0..5 {
        let (status, text) = tokio::time::timeout(
            Duration::from_secs(5),
            http(&server.addr, "GET", "/metrics", None, "text/plain", None),
        )
        .await
        .unwrap_or_else(|_| panic!("scrape {scrape}: no answer within 5 s"))
        .expect("scrape");
        assert_eq!(status, 200, "/metrics is open without --metrics-token");
        assert!(
            text.len() < 64 * 1024,
            "scrape {scrape}: {} bytes",
            text.len()
        );
        assert!(
            !text.contains(&"a".repeat(65)),
            "a client's name reached a label"
        );
        assert!(!text.contains(&long_name), "a 65-byte name reached a label");
        assert!(
            text.contains("shura_graphql_requests_total{operation=\"invalid\"}"),
            "{text}"
        );
        assert!(
            text.contains("shura_graphql_requests_total{operation=\"Q\"} 1"),
            "{text}"
        );
    }
    let grown_kib = server.rss_kib().saturating_sub(rss_before);
    assert!(
        grown_kib < 100 * 1024,
        "the server grew by {} MiB",
        grown_kib / 1024
    );
    server.stop().await;
}

/// `GET /metrics` with an optional bearer, answered within 5 s.
async fn scrape(server: &Server, bearer: Option<&str>) -> (u16, String) {
    tokio::time::timeout(
        Duration::from_secs(5),
        http(&server.addr, "GET", "/metrics", None, "text/plain", bearer),
    )
    .await
    .expect("/metrics answers within 5 s")
    .expect("scrape")
}

pub async fn a_metrics_token_closes_metrics_to_others(db: &TestDb) {
    let token = "metrics-8f2b1c";
    let by_flag = Server::start(&db.url, &["--no-seed", "--metrics-token", token], &[]).await;
    let by_env = Server::start(&db.url, &["--no-seed"], &[("SHURA_METRICS_TOKEN", token)]).await;
    for server in [&by_flag, &by_env] {
        let (status, body) = scrape(server, None).await;
        assert_eq!(status, 401, "{body}");
        assert!(!body.contains("shura_"), "{body}");
        for wrong in ["metrics-8f2b1", "metrics-8f2b1c0", "nothing"] {
            let (status, _) = scrape(server, Some(wrong)).await;
            assert_eq!(status, 401, "{wrong}");
        }
        let (status, body) = scrape(server, Some(token)).await;
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("shura_log_head_position"), "{body}");
        // Only /metrics is closed.
        let (status, _) = http(&server.addr, "GET", "/healthz", None, "*/*", None)
            .await
            .expect("healthz");
        assert_eq!(status, 200);
    }
    by_flag.stop().await;
    by_env.stop().await;
}
