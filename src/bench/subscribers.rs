//! The subscribers figure of `shura bench`: append throughput and latency while 0, 200 and 1,000
//! `eventsAppended` subscriptions are open over WebSocket on a server in the same process, half
//! of them with a filter that matches nothing; and the process's CPU time, per append and while
//! everyone is idle.
//!
//! The server is the real one (`app::build`, served by `http::serve` on a loopback port), the
//! appends go through the store it serves from (so its feed reader is woken as in production),
//! and each unfiltered subscriber must receive every event: the figure counts what was not
//! delivered. The clients run in the same process, so its CPU time is the server's and the
//! clients' together (the clients only read frames and count them).
//!
//! Each subscriber holds two descriptors here (its socket and the server's end): 1,000 need about
//! 2,100 open files. The soft limit is checked first and the run stops with what is needed
//! (`ulimit -n`) rather than failing midway.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use uuid::Uuid;

use super::load::percentile;
use super::ws::{self, Subscriber};
use crate::app::{AppConfig, ConnectionLimits};
use crate::domain::token::Role;
use crate::store::{Actor, Store};

/// Descriptors besides the sockets: the database, the listener, the runtime, standard streams.
const SPARE_FILES: u64 = 128;
/// How long delivery may lag behind the last append before the run counts what is missing.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(60);

/// What one number of subscribers measured.
#[derive(Debug, Clone)]
pub struct SubscriberCase {
    /// Open subscriptions (half of them filtered to nothing).
    pub subscribers: usize,
    /// Appends per second, one writer.
    pub per_second: f64,
    /// Median append latency, ms.
    pub p50_ms: f64,
    /// 99th percentile append latency, ms.
    pub p99_ms: f64,
    /// Process CPU time per append, from the first append to the last delivery, ms.
    pub cpu_ms_per_append: f64,
    /// Process CPU time while nothing is appended, ms per second.
    pub idle_cpu_ms_per_s: f64,
    /// Events the unfiltered subscribers should have received but had not when the run ended.
    pub undelivered: u64,
}

/// The process's CPU time (user and system, every thread) from `/proc/self/stat`, in ms; `None`
/// where `/proc` is not available. The kernel counts it in ticks of 10 ms (`USER_HZ` = 100).
async fn cpu_ms() -> Option<f64> {
    let stat = tokio::fs::read_to_string("/proc/self/stat").await.ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let rest = stat.get(stat.rfind(')')?.checked_add(1)?..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) * 10.0)
}

/// The soft limit on open files, from `/proc/self/limits`; `None` when unknown or unlimited.
async fn open_files_limit() -> Option<u64> {
    let limits = tokio::fs::read_to_string("/proc/self/limits").await.ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// Checks that `subscribers` sockets (two descriptors each) fit under the soft limit.
async fn check_open_files(subscribers: usize) -> anyhow::Result<()> {
    let needed = u64::try_from(subscribers)?
        .saturating_mul(2)
        .saturating_add(SPARE_FILES);
    if let Some(limit) = open_files_limit().await {
        anyhow::ensure!(
            limit >= needed,
            "the subscribers figure needs {needed} open files and the soft limit is {limit}: \
             raise it (`ulimit -n {needed}`) and run again"
        );
    }
    Ok(())
}

/// Waits until `delivered` reaches `target` or the timeout passes; what is still missing.
async fn await_delivery(delivered: &AtomicU64, target: u64, timeout: Duration) -> u64 {
    let deadline = Instant::now() + timeout;
    loop {
        let got = delivered.load(Ordering::Relaxed);
        if got >= target || Instant::now() >= deadline {
            return target.saturating_sub(got);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Measures `appends` appends with each number of subscribers in `counts` (increasing; the
/// first is the baseline, normally 0), after `idle` of doing nothing.
pub async fn measure(
    url: &str,
    counts: &[usize],
    appends: usize,
    idle: Duration,
) -> anyhow::Result<Vec<SubscriberCase>> {
    let most = counts.iter().copied().max().unwrap_or(0);
    check_open_files(most).await?;
    let mut config = AppConfig::new(url);
    // Appends and deliveries are measured, not the asOf history's catch-up beside them.
    config.as_of_history = false;
    config.connections = ConnectionLimits {
        max_connections: most.saturating_mul(2).saturating_add(64),
        idle_timeout: Duration::from_secs(3600),
        ..ConnectionLimits::default()
    };
    let app = crate::app::build(config).await?;
    let store = app.store.clone();
    let token = crate::auth::create_token(
        &store,
        "bench subscribers",
        Role::Auditor,
        &[],
        Actor::new("bench", "Benchmark"),
    )
    .await?
    .bearer;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?.to_string();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(crate::http::serve::serve(
        listener,
        app.router,
        app.connections,
        async move {
            let _ = stopped.await;
        },
    ));
    let result = cases(&store, &addr, &token, counts, appends, idle).await;
    let _ = stop.send(());
    // Every socket is closed by now (the subscribers were dropped): the server ends at once.
    let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
    store.close().await;
    result
}

async fn cases(
    store: &Store,
    addr: &str,
    token: &str,
    counts: &[usize],
    appends: usize,
    idle: Duration,
) -> anyhow::Result<Vec<SubscriberCase>> {
    let delivered = Arc::new(AtomicU64::new(0));
    let mut subscribers: Vec<Subscriber> = Vec::new();
    let mut unfiltered = 0u64;
    let nowhere = Uuid::new_v4();
    let mut results = Vec::new();
    let mut appended = 0usize;
    for &count in counts {
        while subscribers.len() < count {
            // Every other one is filtered to a stream that never exists: it follows the feed
            // and receives nothing.
            let query = if subscribers.len().is_multiple_of(2) {
                unfiltered += 1;
                "subscription { eventsAppended { position } }".to_owned()
            } else {
                format!("subscription {{ eventsAppended(streamId: \"{nowhere}\") {{ position }} }}")
            };
            subscribers.push(ws::subscribe(addr, token, &query, delivered.clone()).await?);
        }
        // A probe: once every unfiltered subscription has received it, all of them are live.
        let before = delivered.load(Ordering::Relaxed);
        super::append_one(store, appended).await?;
        appended += 1;
        let missing = await_delivery(
            &delivered,
            before.saturating_add(unfiltered),
            DELIVERY_TIMEOUT,
        )
        .await;
        anyhow::ensure!(
            missing == 0,
            "{missing} of {unfiltered} subscriptions never received the probe"
        );

        let idle_from = cpu_ms().await;
        tokio::time::sleep(idle).await;
        let idle_cpu = match (idle_from, cpu_ms().await) {
            (Some(a), Some(b)) => (b - a) / idle.as_secs_f64(),
            _ => 0.0,
        };

        let before = delivered.load(Ordering::Relaxed);
        let cpu_from = cpu_ms().await;
        let started = Instant::now();
        let mut latencies = Vec::with_capacity(appends);
        for _ in 0..appends {
            latencies.push(super::append_one(store, appended).await?);
            appended += 1;
        }
        let elapsed = started.elapsed();
        let expected = unfiltered.saturating_mul(u64::try_from(appends)?);
        let undelivered = await_delivery(
            &delivered,
            before.saturating_add(expected),
            DELIVERY_TIMEOUT,
        )
        .await;
        let cpu = match (cpu_from, cpu_ms().await) {
            (Some(a), Some(b)) => (b - a) / appends.max(1) as f64,
            _ => 0.0,
        };
        latencies.sort();
        results.push(SubscriberCase {
            subscribers: count,
            per_second: appends as f64 / elapsed.as_secs_f64(),
            p50_ms: percentile(&latencies, 0.50),
            p99_ms: percentile(&latencies, 0.99),
            cpu_ms_per_append: cpu,
            idle_cpu_ms_per_s: idle_cpu,
            undelivered,
        });
    }
    drop(subscribers);
    Ok(results)
}
