//! A minimal `graphql-transport-ws` client over a plain WebSocket (RFC 6455), for the
//! subscribers figure of `shura bench`: it connects, authenticates in `connection_init`,
//! subscribes once, and then only counts the `next` messages it is sent.
//!
//! The service's own dependencies have no WebSocket client (the tests' is a dev-dependency), and
//! the little the benchmark needs (text frames out, masked; frames in, unfragmented or not,
//! counted; pings answered) is short enough to write here, like the HTTP load generator beside it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use uuid::Uuid;

const TEXT: u8 = 0x1;
const CLOSE: u8 = 0x8;
const PING: u8 = 0x9;
const PONG: u8 = 0xA;

/// An open subscription; dropping it closes the socket.
pub struct Subscriber {
    task: JoinHandle<()>,
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Standard base64 with padding (RFC 4648), for the handshake's 16-byte key.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Writes one masked client frame (RFC 6455 5.3: every client frame is masked).
async fn send_frame(
    out: &mut (impl AsyncWrite + Unpin),
    opcode: u8,
    payload: &[u8],
) -> std::io::Result<()> {
    let mut frame = Vec::with_capacity(payload.len() + 14);
    frame.push(0x80 | opcode);
    match payload.len() {
        len @ 0..=125 => frame.push(0x80 | len as u8),
        len @ 126..=65535 => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(len as u16).to_be_bytes());
        }
        len => {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    let mask = *Uuid::new_v4().as_bytes();
    let key = [mask[0], mask[1], mask[2], mask[3]];
    frame.extend_from_slice(&key);
    frame.extend(payload.iter().zip(key.iter().cycle()).map(|(b, k)| b ^ k));
    out.write_all(&frame).await
}

/// Reads one server frame (never masked): its opcode and payload.
async fn read_frame(
    input: &mut BufReader<OwnedReadHalf>,
    payload: &mut Vec<u8>,
) -> std::io::Result<u8> {
    let mut head = [0u8; 2];
    input.read_exact(&mut head).await?;
    let len = match head[1] & 0x7F {
        126 => u64::from(input.read_u16().await?),
        127 => input.read_u64().await?,
        len => u64::from(len),
    };
    let len = usize::try_from(len).map_err(|_| std::io::ErrorKind::InvalidData)?;
    payload.resize(len, 0);
    input.read_exact(payload).await?;
    Ok(head[0] & 0x0F)
}

/// Whether a text message is a `next` (an event delivered).
fn is_next(message: &[u8]) -> bool {
    message.windows(6).any(|w| w == b"\"next\"")
}

/// Opens a WebSocket to `/graphql/ws` on `addr`, authenticates with `token`, waits for the
/// server's `connection_ack`, and subscribes with `query`. Every `next` message then adds one to
/// `delivered`.
pub async fn subscribe(
    addr: &str,
    token: &str,
    query: &str,
    delivered: Arc<AtomicU64>,
) -> anyhow::Result<Subscriber> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    let key = base64(Uuid::new_v4().as_bytes());
    let request = format!(
        "GET /graphql/ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Protocol: graphql-transport-ws\r\nAuthorization: Bearer {token}\r\n\r\n"
    );
    write.write_all(request.as_bytes()).await?;
    let mut line = String::new();
    read.read_line(&mut line).await?;
    anyhow::ensure!(
        line.split_whitespace().nth(1) == Some("101"),
        "the WebSocket upgrade was refused: {}",
        line.trim()
    );
    loop {
        line.clear();
        anyhow::ensure!(
            read.read_line(&mut line).await? > 0,
            "closed in the handshake"
        );
        if line.trim_end().is_empty() {
            break;
        }
    }
    let init = serde_json::json!({"type": "connection_init",
        "payload": {"Authorization": format!("Bearer {token}")}});
    send_frame(&mut write, TEXT, init.to_string().as_bytes()).await?;
    let mut payload = Vec::new();
    loop {
        match read_frame(&mut read, &mut payload).await? {
            TEXT if payload.windows(16).any(|w| w == b"\"connection_ack\"") => break,
            PING => send_frame(&mut write, PONG, &payload).await?,
            CLOSE => anyhow::bail!("the server closed the WebSocket before acknowledging it"),
            _ => {}
        }
    }
    let subscribe =
        serde_json::json!({"id": "1", "type": "subscribe", "payload": {"query": query}});
    send_frame(&mut write, TEXT, subscribe.to_string().as_bytes()).await?;
    let task = tokio::spawn(async move {
        let mut payload = Vec::new();
        while let Ok(opcode) = read_frame(&mut read, &mut payload).await {
            match opcode {
                TEXT if is_next(&payload) => {
                    delivered.fetch_add(1, Ordering::Relaxed);
                }
                PING if send_frame(&mut write, PONG, &payload).await.is_err() => return,
                CLOSE => return,
                _ => {}
            }
        }
    });
    Ok(Subscriber { task })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_pads_as_rfc_4648_says() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        // RFC 6455's example key.
        assert_eq!(base64(b"the sample nonce"), "dGhlIHNhbXBsZSBub25jZQ==");
    }
}
