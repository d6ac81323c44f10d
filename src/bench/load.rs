//! A small HTTP/1.1 load generator: persistent connections on loopback, each sending one
//! request after another for a fixed time, recording every latency.

use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// What a load run measured.
#[derive(Debug, Clone)]
pub struct LoadResult {
    /// Successful requests per second.
    pub per_second: f64,
    /// Median latency, milliseconds.
    pub p50_ms: f64,
    /// 99th percentile latency, milliseconds.
    pub p99_ms: f64,
    /// Requests that failed (non-200 or connection errors).
    pub failures: u64,
}

/// Percentile of sorted latencies, in milliseconds.
pub fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

async fn one(
    stream: &mut BufReader<TcpStream>,
    request: &[u8],
    body: &mut Vec<u8>,
) -> std::io::Result<u16> {
    stream.get_mut().write_all(request).await?;
    let mut line = String::new();
    stream.read_line(&mut line).await?;
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut length = 0usize;
    loop {
        line.clear();
        if stream.read_line(&mut line).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    body.resize(length, 0);
    stream.read_exact(body).await?;
    Ok(status)
}

/// Runs `connections` clients posting `body` to `path` for `duration`.
pub async fn run(
    addr: &str,
    path: &str,
    token: &str,
    body: &str,
    connections: usize,
    duration: Duration,
) -> anyhow::Result<LoadResult> {
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nAccept: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes();
    let deadline = Instant::now() + duration;
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let request = request.clone();
        let addr = addr.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failures = 0u64;
            let mut body = Vec::new();
            let Ok(stream) = TcpStream::connect(&addr).await else {
                return (latencies, 1);
            };
            let _ = stream.set_nodelay(true);
            let mut stream = BufReader::new(stream);
            while Instant::now() < deadline {
                let started = Instant::now();
                match one(&mut stream, &request, &mut body).await {
                    Ok(200) => latencies.push(started.elapsed()),
                    Ok(_) => failures += 1,
                    Err(_) => {
                        failures += 1;
                        break;
                    }
                }
            }
            (latencies, failures)
        }));
    }
    let started = Instant::now();
    let mut all = Vec::new();
    let mut failures = 0;
    for task in tasks {
        let (latencies, failed) = task.await?;
        all.extend(latencies);
        failures += failed;
    }
    let elapsed = started.elapsed().max(duration).as_secs_f64();
    all.sort();
    Ok(LoadResult {
        per_second: all.len() as f64 / elapsed,
        p50_ms: percentile(&all, 0.50),
        p99_ms: percentile(&all, 0.99),
        failures,
    })
}
