//! The dashboard through `asOf`, on the big log: the history's catch-up from an empty copy (see
//! [`crate::history`]), then the first answer about positions never asked before and the
//! answers after it, against the live dashboard in the same run; then a restart: the history
//! kept, reopened, and the first answer after it.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use async_graphql::Request;

use super::Figure;
use crate::auth::{authenticate, create_token, Access};
use crate::domain::token::Role;
use crate::graphql::{schema, ApiState, ShuraSchema};
use crate::store::{Actor, Store};
use crate::time_travel::Snapshots;

/// The dashboard's figures, as a dashboard developer selects them.
const DASHBOARD: &str = "dashboard(today: \"2026-01-15\") { consultationsByStatus { key count } \
    consultationsByRegion { key count } recommendationsByTheme { key count } \
    actionsByStatus { key count } committedBudgetByRegion { key agreements } \
    progress { actions done average overdue dueSoon } }";

/// Answers after the first, for the median.
const SAMPLES: usize = 5;

async fn timed(schema: &ShuraSchema, access: &Access, query: &str) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let response = schema
        .execute(Request::new(query).data(access.clone()))
        .await;
    let elapsed = started.elapsed();
    anyhow::ensure!(response.errors.is_empty(), "{query}: {:?}", response.errors);
    Ok(elapsed)
}

async fn median(schema: &ShuraSchema, access: &Access, query: &str) -> anyhow::Result<Duration> {
    let mut times = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        times.push(timed(schema, access, query).await?);
    }
    times.sort();
    Ok(times[SAMPLES / 2])
}

/// A schema whose `asOf` reads `snapshots`, waiting as long as the history takes.
fn schema_over(store: &Store, snapshots: &Arc<Snapshots>) -> ShuraSchema {
    let mut state = ApiState::new(store.clone(), Default::default());
    state.snapshots = snapshots.clone();
    // The catch-up is waited for here, where a client is told to ask again (UNAVAILABLE).
    state.as_of_wait = Duration::from_secs(3_600);
    schema(state)
}

/// The sizes of the history's files in `dir`, in MB: the databases and their write-ahead logs.
fn sizes(dir: &Path) -> anyhow::Result<(f64, f64)> {
    let (mut file, mut wal) = (0u64, 0u64);
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let len = entry.metadata()?.len();
        if name.ends_with(".db") {
            file = file.saturating_add(len);
        } else if name.ends_with(".db-wal") {
            wal = wal.saturating_add(len);
        }
    }
    let mb = |b: u64| b as f64 / 1e6;
    Ok((mb(file), mb(wal)))
}

/// What this process has read so far: bytes through its read calls (the OS page cache
/// included), bytes from the disk, and read calls (`rchar`, `read_bytes` and `syscr` of
/// Linux's `/proc/self/io`); `None` where that file is not there.
fn reads() -> Option<[u64; 3]> {
    let io = std::fs::read_to_string("/proc/self/io").ok()?;
    let field = |name: &str| {
        io.lines().find_map(|l| {
            l.strip_prefix(name)?
                .strip_prefix(": ")?
                .trim()
                .parse()
                .ok()
        })
    };
    Some([field("rchar")?, field("read_bytes")?, field("syscr")?])
}

/// What was read since `before` (a [`reads`]): MB in all, MB from the disk, read calls.
fn read_since(before: Option<[u64; 3]>) -> Option<(f64, f64, u64)> {
    let [all, disk, calls] = before?;
    let [all_now, disk_now, calls_now] = reads()?;
    let mb = |b: u64| b as f64 / 1e6;
    Some((
        mb(all_now.saturating_sub(all)),
        mb(disk_now.saturating_sub(disk)),
        calls_now.saturating_sub(calls),
    ))
}

/// The figure of what an answer read, if the OS says.
fn read_figure(what: &str, read: Option<(f64, f64, u64)>) -> Option<Figure> {
    read.map(|(all, disk, calls)| {
        Figure::new(
            &format!("{what}: read from the disk (of {all:.1} MB read in all, {calls} read calls)"),
            disk,
            "MB",
        )
    })
}

/// Drops the history's files in `dir` from the OS page cache, written out first (only clean
/// pages can go), so that the next answer reads them from the disk, as after a reboot or once
/// other files have pushed them out. Linux only (`posix_fadvise`); elsewhere it says so.
fn evict(dir: &Path) -> anyhow::Result<bool> {
    #[cfg(target_os = "linux")]
    {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            let name = path.to_string_lossy();
            if name.ends_with(".db") || name.ends_with(".db-wal") {
                let file = std::fs::File::open(&path)?;
                file.sync_all()?;
                rustix::fs::fadvise(&file, 0, None, rustix::fs::Advice::DontNeed)?;
            }
        }
        Ok(true)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = dir;
        Ok(false)
    }
}

/// Figures of `asOf` on `store`'s log (the position halfway), the history kept in `dir`.
pub async fn figures(store: &Store, events: usize, dir: &Path) -> anyhow::Result<Vec<Figure>> {
    let token = create_token(
        store,
        "bench",
        Role::Auditor,
        &[],
        Actor::new("bench", "Bench"),
    )
    .await
    .context("a token for asOf")?;
    let principal = authenticate(store.pool(), &token.bearer)
        .await?
        .map_err(|e| anyhow::anyhow!("the bench's token was refused: {e:?}"))?;
    let access = Access::Token(principal);
    let kept = dir.join("as-of-history");
    let snapshots = Snapshots::with_history(store.clone(), Some(kept.clone()));
    let schema = schema_over(store, &snapshots);
    let head = store.head().await?.position;
    let started = Instant::now();
    snapshots.at(head).await?;
    let catch_up = started.elapsed();
    let position = head / 2;
    let live = median(&schema, &access, &format!("{{ {DASHBOARD} }}")).await?;
    let as_of = format!("{{ asOf(position: {position}) {{ {DASHBOARD} }} }}");
    // The first answer in two parts: opening the position (its views, on new connections),
    // then the dashboard's statements through them.
    let before = reads();
    let opening = Instant::now();
    snapshots.at(position).await?;
    let opened = opening.elapsed();
    let first = opened + timed(&schema, &access, &as_of).await?;
    let first_read = read_since(before);
    let later = median(&schema, &access, &as_of).await?;
    // Other positions never asked before, across the log: the slowest first answer.
    let mut slowest = Duration::ZERO;
    for part in [1, 3, 5, 7, 9] {
        let at = head / 10 * part + 7;
        let query = format!("{{ asOf(position: {at}) {{ {DASHBOARD} }} }}");
        slowest = slowest.max(timed(&schema, &access, &query).await?);
    }
    // One more position, its files out of the OS page cache first: what a first answer costs
    // when nothing of the history is in memory.
    let cold_at = head / 10 * 4 + 3;
    let cold_query = format!("{{ asOf(position: {cold_at}) {{ {DASHBOARD} }} }}");
    let cold = if evict(&kept)? {
        let before = reads();
        let took = timed(&schema, &access, &cold_query).await?;
        Some((took, read_since(before)))
    } else {
        None
    };
    // A restart: this process's history let go (its follower holds it for a poll at most),
    // then a new one reopens it and answers about the same position.
    drop(schema);
    drop(snapshots);
    let lock = std::fs::File::open(kept.join("lock"))?;
    let letting_go = Instant::now();
    while lock.try_lock().is_err() {
        anyhow::ensure!(
            letting_go.elapsed() < Duration::from_secs(60),
            "the first history's follower never let go of its lock"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    lock.unlock()?;
    // What the next start finds: the write-ahead log, once the follower has folded it (it
    // does once caught up, while the answers above were asked) or the pool's last
    // connection has closed.
    let (file_mb, wal_mb) = sizes(&kept)?;
    let before = reads();
    let started = Instant::now();
    let snapshots = Snapshots::with_history(store.clone(), Some(kept));
    let schema = schema_over(store, &snapshots);
    timed(&schema, &access, &as_of).await?;
    let restarted = started.elapsed();
    let restart_read = read_since(before);
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let rate = head as f64 / catch_up.as_secs_f64().max(1e-9);
    let mut figures = vec![
        Figure::new(
            &format!(
                "asOf history: catch-up of {head} events from an empty copy, at a new binary's \
                 first start or after an erasure ({rate:.0} events/s)"
            ),
            catch_up.as_secs_f64(),
            "s",
        ),
        Figure::new(
            &format!("asOf dashboard at position {position} of {events}: first answer"),
            ms(first),
            "ms",
        )
        .against("the live dashboard", ms(live))
        .target("< 1 s", first < Duration::from_secs(1)),
        Figure::new(
            &format!("asOf dashboard at position {position} of {events}: of its first answer, opening the position"),
            ms(opened),
            "ms",
        ),
        Figure::new(
            "asOf history: its file, as the next start finds it",
            file_mb,
            "MB",
        ),
        Figure::new(
            "asOf history: its write-ahead log, as the next start finds it",
            wal_mb,
            "MB",
        ),
        Figure::new(
            &format!("asOf dashboard at 5 other positions of {events}: slowest first answer"),
            ms(slowest),
            "ms",
        )
        .against("the live dashboard", ms(live))
        .target("< 1 s", slowest < Duration::from_secs(1)),
        Figure::new(
            &format!("asOf dashboard at position {position} of {events}: later answers (median)"),
            ms(later),
            "ms",
        )
        .against("the live dashboard", ms(live))
        .target("< 1 s", later < Duration::from_secs(1)),
        Figure::new(
            &format!(
                "asOf after a restart: the kept history reopened and its first answer about \
                 position {position} of {events}"
            ),
            ms(restarted),
            "ms",
        )
        .against("the history's catch-up from an empty copy", ms(catch_up))
        .target("< 1 s", restarted < Duration::from_secs(1)),
    ];
    figures.extend(read_figure(
        &format!("asOf dashboard at position {position} of {events}: its first answer"),
        first_read,
    ));
    figures.extend(read_figure("asOf after a restart", restart_read));
    if let Some((took, read)) = cold {
        let what = format!(
            "asOf dashboard at position {cold_at} of {events}, the history's files out of the \
             OS page cache: first answer"
        );
        figures.push(
            Figure::new(&what, ms(took), "ms")
                .against("the live dashboard", ms(live))
                .target("< 1 s", took < Duration::from_secs(1)),
        );
        figures.extend(read_figure(&what, read));
    }
    Ok(figures)
}
