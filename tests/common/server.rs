//! A `shura serve` child process, a minimal HTTP client and a graphql-transport-ws client: what
//! the tests need to talk to a real server over loopback.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// A running `shura serve`.
pub struct Server {
    pub addr: String,
    /// The bearer token requests carry, if any.
    pub token: Option<String>,
    child: Child,
    /// Lines the server logged (JSON), as they come.
    pub log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Starts `shura serve` on a free port for `url`, with `extra` arguments and environment.
    pub async fn start(url: &str, extra: &[&str], env: &[(&str, &str)]) -> Server {
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
            probe.local_addr().expect("address").port()
        };
        let addr = format!("127.0.0.1:{port}");
        let mut command = Command::new(env!("CARGO_BIN_EXE_shura"));
        command
            .args(["serve", "--addr", &addr])
            .args(extra)
            .env("DATABASE_URL", url)
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("spawn shura serve");
        let log = Arc::new(Mutex::new(Vec::new()));
        if let Some(stderr) = child.stderr.take() {
            let log = log.clone();
            tokio::spawn(async move {
                let mut lines = BufReader::new(stderr).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    log.lock().unwrap().push(line);
                }
            });
        }
        if let Some(stdout) = child.stdout.take() {
            let log = log.clone();
            tokio::spawn(async move {
                let mut lines = BufReader::new(stdout).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    log.lock().unwrap().push(format!("stdout: {line}"));
                }
            });
        }
        for _ in 0..200 {
            if let Ok((200, _)) = http(&addr, "GET", "/healthz", None, "text/plain", None).await {
                return Server {
                    addr,
                    token: None,
                    child,
                    log,
                };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("shura serve did not start: {:?}", log.lock().unwrap());
    }

    /// Posts a GraphQL request; returns the HTTP status and the JSON body.
    pub async fn graphql(&self, query: &str, variables: Value) -> (u16, Value) {
        let body = json!({ "query": query, "variables": variables }).to_string();
        let (status, text) = http(
            &self.addr,
            "POST",
            "/graphql",
            Some(&body),
            "application/json",
            self.token.as_deref(),
        )
        .await
        .expect("request");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Sends SIGTERM and waits (at most 15 s) for the process to exit; returns whether it exited
    /// successfully.
    pub async fn terminate(mut self) -> bool {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
        match tokio::time::timeout(Duration::from_secs(15), self.child.wait()).await {
            Ok(Ok(status)) => status.success(),
            _ => false,
        }
    }

    /// The server's resident memory, in KiB (from /proc), or 0 where unreadable.
    pub fn rss_kib(&self) -> u64 {
        let Some(pid) = self.child.id() else { return 0 };
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|status| {
                status
                    .lines()
                    .find(|l| l.starts_with("VmRSS:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|kib| kib.parse().ok())
            })
            .unwrap_or(0)
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Stops the server (SIGKILL is enough for tests).
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// One HTTP/1.1 request with `Connection: close`; returns status and body.
pub async fn http(
    addr: &str,
    method: &str,
    path: &str,
    body: Option<&str>,
    accept: &str,
    token: Option<&str>,
) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(addr).await?;
    let body = body.unwrap_or("");
    let authorization = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: {accept}\r\n{authorization}\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok((status, body.to_owned()))
}

/// A graphql-transport-ws client connection.
pub struct Subscriber {
    socket: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>,
}

impl Subscriber {
    /// Connects, initialises, and subscribes with `query`.
    pub async fn subscribe(addr: &str, token: Option<&str>, query: &str) -> Subscriber {
        let mut request = format!("ws://{addr}/graphql/ws")
            .into_client_request()
            .expect("request");
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            "graphql-transport-ws".parse().expect("header"),
        );
        let (mut socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("websocket");
        let payload = match token {
            Some(t) => json!({ "Authorization": format!("Bearer {t}") }),
            None => json!({}),
        };
        let init = json!({"type": "connection_init", "payload": payload}).to_string();
        socket.send(Message::text(init)).await.expect("init");
        let mut subscriber = Subscriber { socket };
        let ack = subscriber.next_message().await;
        assert_eq!(ack["type"], "connection_ack", "{ack}");
        let subscribe = json!({"id": "1", "type": "subscribe", "payload": {"query": query}});
        subscriber
            .socket
            .send(Message::text(subscribe.to_string()))
            .await
            .expect("subscribe");
        subscriber
    }

    /// Opens a graphql-transport-ws connection and sends nothing.
    pub async fn connect(addr: &str) -> Subscriber {
        let mut request = format!("ws://{addr}/graphql/ws")
            .into_client_request()
            .expect("request");
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            "graphql-transport-ws".parse().expect("header"),
        );
        let (socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("websocket");
        Subscriber { socket }
    }

    /// Sends `connection_init` with `token`; returns the server's answer: `Ok(())` for
    /// `connection_ack`, else the close code and reason.
    pub async fn init(&mut self, token: Option<&str>) -> Result<(), (u16, String)> {
        let payload = match token {
            Some(t) => json!({ "Authorization": format!("Bearer {t}") }),
            None => json!({}),
        };
        let init = json!({"type": "connection_init", "payload": payload}).to_string();
        if self.socket.send(Message::text(init)).await.is_err() {
            return Err((0, "send failed".into()));
        }
        loop {
            match tokio::time::timeout(Duration::from_secs(15), self.socket.next()).await {
                Ok(Some(Ok(Message::Text(text)))) => {
                    let message: Value = serde_json::from_str(text.as_str()).expect("JSON");
                    if message["type"] == "connection_ack" {
                        return Ok(());
                    }
                }
                Ok(Some(Ok(Message::Close(frame)))) => {
                    return Err(frame.map_or((0, String::new()), |f| {
                        (u16::from(f.code), f.reason.to_string())
                    }))
                }
                Ok(Some(Ok(_))) => {}
                _ => return Err((0, "closed without a close frame".into())),
            }
        }
    }

    /// Waits at most `within` for the server to close the connection; returns the close code
    /// (0 for a close without a frame), or `None` if it stayed open.
    pub async fn closed_within(&mut self, within: Duration) -> Option<u16> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.socket.next()).await {
                Err(_) => return None,
                Ok(Some(Ok(Message::Close(frame)))) => {
                    return Some(frame.map_or(0, |f| u16::from(f.code)))
                }
                Ok(Some(Ok(_))) => {}
                Ok(Some(Err(_))) | Ok(None) => return Some(0),
            }
        }
    }

    pub async fn next_message(&mut self) -> Value {
        loop {
            let message = tokio::time::timeout(Duration::from_secs(15), self.socket.next())
                .await
                .expect("a message within 15 s")
                .expect("open socket")
                .expect("message");
            if let Message::Text(text) = message {
                return serde_json::from_str(text.as_str()).expect("JSON message");
            }
        }
    }

    /// The next `next` payload's data.
    pub async fn next_data(&mut self) -> Value {
        loop {
            let message = self.next_message().await;
            match message["type"].as_str() {
                Some("next") => return message["payload"]["data"].clone(),
                Some("ping") => {
                    let pong = json!({"type": "pong"}).to_string();
                    self.socket.send(Message::text(pong)).await.expect("pong");
                }
                Some("error") | Some("complete") => panic!("subscription ended: {message}"),
                _ => {}
            }
        }
    }

    /// Sends a text message as it is; whether it could be sent.
    pub async fn send_text(&mut self, text: String) -> bool {
        self.socket.send(Message::text(text)).await.is_ok()
    }

    /// Nothing arrives within `wait`.
    pub async fn quiet_for(&mut self, wait: Duration) -> bool {
        tokio::time::timeout(wait, self.socket.next())
            .await
            .is_err()
    }

    /// Closes the connection.
    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }
}
