//! The record as it stood at an earlier log position, for GraphQL's `asOf`: a store whose reads
//! show that position, against which every query under `asOf` runs unchanged.
//!
//! Two ways to get one. The service's way ([`Snapshots::with_history`]): a history of the log
//! that a task follows as the log grows, keeping every version of every read-model row (see
//! [`crate::history`]); any position it has reached opens as views on it in milliseconds. The
//! other ([`Snapshots::new`], and `shura snapshot`): a snapshot built on demand, the log cut at
//! the position copied and its read models rebuilt (see [`crate::snapshot`]), which takes a
//! copy and a replay of the log up to the position, once per position. Either is what a fresh
//! rebuild of the log cut there gives; both are kept for the next questions about the same
//! position, in a private directory.
//!
//! Bounds, since anyone allowed to ask can name any position: one build at a time (others wait
//! their turn), at most [`KEPT`] snapshots on disk, each dropped after [`IDLE`] unused. A build
//! outlives the request that started it (a request past its deadline does not waste it: asking
//! again finds it). Snapshots take the personal keys along, so contact details read as they do
//! live; a snapshot holding a key erased since is dropped at the next question or by the
//! janitor within [`SWEEP`], and with it the only clear copy of that person's details it held.
//! The directory goes when the process drops its snapshots; one left by a process that died is
//! removed by the next process that builds a snapshot on the machine. The history alone can be
//! kept elsewhere, across restarts (see [`Snapshots::with_history`] and [`crate::history`]).

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::history::{Followed, History};
use crate::snapshot::{self, At, Keys, SnapshotError};
use crate::store::{LogHead, Progress, Store, StoreConfig, StoreError};

/// Snapshots kept at most.
pub const KEPT: usize = 2;
/// A snapshot unused this long is dropped.
pub const IDLE: Duration = Duration::from_secs(600);
/// How often the janitor looks for idle snapshots and erased keys.
pub const SWEEP: Duration = Duration::from_secs(30);

/// How the directories of snapshots begin, before the owning process's id.
const ORPHAN_PREFIX: &str = "shura-as-of-";
/// How a history's file name begins (then a UUID and `.db`).
const HISTORY_PREFIX: &str = "history-";

/// Removes the snapshot directories of processes that no longer run (a crash leaves them, with
/// the contact details their snapshots held): where `/proc` says which processes run.
fn remove_orphans(temp: &std::path::Path) {
    let proc = std::path::Path::new("/proc/self");
    if !proc.exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(temp) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(ORPHAN_PREFIX)) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().filter(|p| !p.is_empty()) else {
            continue;
        };
        if pid.bytes().all(|b| b.is_ascii_digit())
            && !std::path::Path::new("/proc").join(pid).exists()
        {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// The record as it stood after one log position.
#[derive(Debug)]
pub struct Snapshot {
    /// A store over the snapshot: the log cut at the position and its read models.
    pub store: Store,
    /// The snapshot's head: the position and hash of its last event.
    pub head: LogHead,
    /// The personal keys it was built with.
    keys: std::collections::HashSet<Uuid>,
    backing: Backing,
}

/// What a snapshot reads.
#[derive(Debug)]
enum Backing {
    /// A file of its own: the log cut at the position, replayed.
    File(PathBuf),
    /// Views on the history (see [`crate::history`]), kept while the snapshot lives.
    History {
        /// Held, not read: the history's file goes when its last reader does.
        _history: Arc<History>,
    },
}

impl Drop for Snapshot {
    fn drop(&mut self) {
        if let Backing::File(path) = &self.backing {
            crate::store::remove_sqlite_database(path);
        }
    }
}

struct Kept {
    snapshot: Arc<Snapshot>,
    used: Instant,
}

/// The build under way: how far its copy and replay of the log have gone.
struct Building {
    position: i64,
    started: Instant,
    /// Events copied plus events replayed.
    done: AtomicU64,
    /// Both: twice the position.
    total: u64,
}

impl Progress for Building {
    fn total(&self, _events: u64) {}

    fn advance(&self, events: u64) {
        self.done.fetch_add(events, Ordering::Relaxed);
    }
}

/// A record not ready within the wait: which build is under way and when to ask again.
#[derive(Debug, Clone, PartialEq)]
pub struct Preparing {
    /// The position asked about.
    pub position: i64,
    /// The position being built now, if a build is under way (another one's, when it differs:
    /// builds run one at a time).
    pub building: Option<i64>,
    /// How much of that build is done, in percent.
    pub percent: u8,
    /// When to ask again: the build's remaining time at its rate so far (at least a second).
    pub retry_after: Duration,
}

/// How often the history's follower looks for appends it was not told of (another process's).
const FOLLOW_POLL: Duration = Duration::from_secs(1);
/// How long a question waits on one history before it looks whether it is still the one
/// followed.
const HISTORY_SLICE: Duration = Duration::from_millis(250);
/// How long the follower waits after a failure before it tries again.
const FOLLOW_RETRY: Duration = Duration::from_secs(5);

/// When to ask again when a build has not reported progress yet.
const FIRST_RETRY: Duration = Duration::from_secs(5);
/// The longest `retry_after` said.
const LONGEST_RETRY: Duration = Duration::from_secs(600);

/// How far a build is (in percent) and when to ask again: its remaining work at its rate so
/// far, between a second and [`LONGEST_RETRY`] ([`FIRST_RETRY`] before any progress).
fn estimate(done: u64, total: u64, elapsed: Duration) -> (u8, Duration) {
    let part = (done as f64 / total.max(1) as f64).clamp(0.0, 1.0);
    let remaining = if part > 0.0 {
        elapsed.mul_f64((1.0 - part) / part)
    } else {
        FIRST_RETRY
    };
    (
        (part * 100.0).floor() as u8,
        remaining.clamp(Duration::from_secs(1), LONGEST_RETRY),
    )
}

/// A build under way, as a task.
type Build = tokio::task::JoinHandle<Result<Arc<Snapshot>, SnapshotError>>;

/// The snapshot a build made (dropping the handle instead leaves the build running).
async fn built(build: Build) -> Result<Arc<Snapshot>, SnapshotError> {
    build.await.map_err(|e| {
        SnapshotError::Store(StoreError::Io(std::io::Error::other(format!(
            "the snapshot's build stopped: {e}"
        ))))
    })?
}

/// Snapshots of one live store, built on demand and kept (see the module's doc).
pub struct Snapshots {
    source: Store,
    dir: std::sync::OnceLock<PathBuf>,
    kept: tokio::sync::Mutex<Vec<Kept>>,
    building: Arc<tokio::sync::Mutex<()>>,
    progress: std::sync::Mutex<Option<Arc<Building>>>,
    janitor: std::sync::Once,
    /// Whether questions are answered from a history (see [`Snapshots::with_history`]).
    follows: bool,
    /// The history being followed, once created (none while a new one is created).
    history: std::sync::Mutex<Option<Arc<History>>>,
    /// Where the history is kept across restarts, if it is (see [`Snapshots::with_history`]).
    kept_dir: Option<PathBuf>,
    /// The kept directory's lock, held while these snapshots live: `None` inside when another
    /// process holds it (this one's history is then its own, in its temporary directory).
    kept_lock: std::sync::OnceLock<Option<std::fs::File>>,
    /// Whether the kept directory was searched for a history to reopen (once per process).
    searched: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for Snapshots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshots").finish_non_exhaustive()
    }
}

impl Drop for Snapshots {
    fn drop(&mut self) {
        if let Some(dir) = self.dir.get() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

impl Snapshots {
    /// Snapshots of `source`; nothing is built or created on disk before the first question.
    pub fn new(source: Store) -> Arc<Snapshots> {
        Arc::new(Snapshots {
            source,
            dir: std::sync::OnceLock::new(),
            kept: tokio::sync::Mutex::new(Vec::new()),
            building: Arc::new(tokio::sync::Mutex::new(())),
            progress: std::sync::Mutex::new(None),
            janitor: std::sync::Once::new(),
            follows: false,
            history: std::sync::Mutex::new(None),
            kept_dir: None,
            kept_lock: std::sync::OnceLock::new(),
            searched: false.into(),
        })
    }

    /// Snapshots of `source` read from a history of its log (see [`crate::history`]), which
    /// a task of this process creates now and keeps following while the snapshots live: a
    /// question about a position the history has reached is answered at once, one about a
    /// position it has not reached yet waits for it. With `kept`, a directory (created owner
    /// only if missing), the history is kept there across restarts: the one a previous process
    /// left is reopened and follows on from where it stopped, when it can (see
    /// [`crate::history`]). One process at a time keeps its history there (a lock file); another
    /// one keeps its own in its temporary directory, as without `kept`.
    pub fn with_history(source: Store, kept: Option<PathBuf>) -> Arc<Snapshots> {
        let mut snapshots = Snapshots::new(source);
        if let Some(this) = Arc::get_mut(&mut snapshots) {
            this.follows = true;
            this.kept_dir = kept;
        }
        let weak = Arc::downgrade(&snapshots);
        let mut head = snapshots.source.watch_head();
        tokio::spawn(async move {
            loop {
                let Some(this) = weak.upgrade() else { break };
                let followed = this.follow().await;
                drop(this);
                let pause = match followed {
                    Ok(Followed::CaughtUp) => FOLLOW_POLL,
                    // A new history starts at once.
                    Ok(Followed::Erased) => Duration::ZERO,
                    Err(e) => {
                        tracing::warn!(error = %e, "following the log into the history failed");
                        FOLLOW_RETRY
                    }
                };
                // Another process's appends do not move this watch: the poll sees them.
                let _ = tokio::time::timeout(pause, head.changed()).await;
            }
        });
        snapshots
    }

    /// One run of the follower: creates the history if there is none, and copies what the log
    /// holds beyond it. A history that copied an erasure, or failed, is dropped (and its file
    /// with it, once no snapshot reads it).
    async fn follow(&self) -> Result<Followed, SnapshotError> {
        let current = self.history.lock().ok().and_then(|h| h.clone());
        let history = match current {
            Some(history) => history,
            None => {
                let history = Arc::new(self.new_history().await?);
                if let Ok(mut slot) = self.history.lock() {
                    *slot = Some(history.clone());
                }
                history
            }
        };
        let followed = history.follow(&self.source).await;
        if !matches!(followed, Ok(Followed::CaughtUp)) {
            if let Ok(mut slot) = self.history.lock() {
                *slot = None;
            }
            // Snapshots opened on it hold keys erased since: the sweep drops them.
            drop(self.sweep().await?);
        }
        Ok(followed?)
    }

    /// The history to follow when there is none: the kept one reopened (first time only), or a
    /// new one, in the kept directory if this process holds it, else in the temporary one.
    async fn new_history(&self) -> Result<History, SnapshotError> {
        let name = || format!("{HISTORY_PREFIX}{}.db", Uuid::new_v4());
        let Some(dir) = self.locked_kept_dir() else {
            return Ok(History::create(&self.dir()?.join(name()), false).await?);
        };
        // Once per process, once the search has gone through (a failure to read the live log
        // leaves the kept one for the follower's next try).
        if !self.searched.load(Ordering::SeqCst) {
            let reopened = self.reopen_kept(dir).await?;
            self.searched.store(true, Ordering::SeqCst);
            if let Some(history) = reopened {
                return Ok(history);
            }
        }
        Ok(History::create(&dir.join(name()), true).await?)
    }

    /// The kept directory, if this process holds its lock (taken on first use).
    fn locked_kept_dir(&self) -> Option<&std::path::Path> {
        let dir = self.kept_dir.as_deref()?;
        let lock = self.kept_lock.get_or_init(|| {
            let locked = (|| {
                let mut builder = std::fs::DirBuilder::new();
                builder.recursive(true);
                #[cfg(unix)]
                std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
                builder.create(dir)?;
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(dir.join("lock"))?;
                file.try_lock().map_err(std::io::Error::from)?;
                Ok::<_, std::io::Error>(file)
            })();
            match locked {
                Ok(file) => Some(file),
                Err(e) => {
                    tracing::warn!(
                        dir = %dir.display(),
                        error = %e,
                        "the asOf history is not kept across restarts (another process keeps \
                         its own there, or the directory cannot be used): this one is rebuilt \
                         at each start"
                    );
                    None
                }
            }
        });
        lock.as_ref().map(|_| dir)
    }

    /// The history a previous process kept in `dir`, if one can go on (the most recent that
    /// can); the others are removed.
    async fn reopen_kept(&self, dir: &std::path::Path) -> Result<Option<History>, SnapshotError> {
        let io = |source| SnapshotError::Io {
            path: dir.to_path_buf(),
            source,
        };
        let mut found: Vec<(std::time::SystemTime, PathBuf)> = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io)? {
            let entry = entry.map_err(io)?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if name.starts_with(HISTORY_PREFIX) && name.ends_with(".db") {
                let modified = entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .unwrap_or(std::time::UNIX_EPOCH);
                found.push((modified, entry.path()));
            }
        }
        found.sort();
        let mut reopened = None;
        while let Some((_, path)) = found.pop() {
            if reopened.is_none() {
                reopened = History::reopen(&path, &self.source).await?;
                if let Some(history) = &reopened {
                    tracing::info!(
                        path = %path.display(),
                        position = history.resumed_from(),
                        "reopened the kept asOf history"
                    );
                }
            } else {
                crate::store::remove_sqlite_database(&path);
            }
        }
        Ok(reopened)
    }

    /// The record after `position` from the history, once it has reached it, within `wait`.
    async fn read_history(
        &self,
        position: i64,
        wait: Duration,
    ) -> Result<Result<Arc<Snapshot>, Preparing>, SnapshotError> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let history = self
                .history
                .lock()
                .ok()
                .and_then(|h| h.clone())
                .filter(|h| !h.erased());
            let Some(history) = history else {
                // Being created (at the start, or after an erasure).
                if tokio::time::Instant::now() >= deadline {
                    return Ok(Err(Preparing {
                        position,
                        building: None,
                        percent: 0,
                        retry_after: FIRST_RETRY,
                    }));
                }
                tokio::time::sleep_until(
                    deadline.min(tokio::time::Instant::now() + Duration::from_millis(50)),
                )
                .await;
                continue;
            };
            let mut reached = history.watch();
            // In slices: a history ended by an erasure meanwhile never moves again, and the
            // next one is to be waited for instead.
            let slice = deadline.min(tokio::time::Instant::now() + HISTORY_SLICE);
            let ready = tokio::time::timeout_at(slice, reached.wait_for(|p| *p >= position))
                .await
                .map(|r| r.is_ok());
            match ready {
                Ok(true) if history.erased() => continue,
                // A key erased since it was copied, before the follower met the erasure (on
                // PostgreSQL it learns of appends a moment later): not read, the next one is.
                Ok(true) if history.outlived(&self.source).await? => continue,
                Err(_) if tokio::time::Instant::now() < deadline => continue,
                Ok(true) => {
                    let as_of = history.at(position).await?;
                    let snapshot = Arc::new(Snapshot {
                        store: as_of.store,
                        head: as_of.head,
                        keys: as_of.keys,
                        backing: Backing::History { _history: history },
                    });
                    self.keep(snapshot.clone()).await;
                    return Ok(Ok(snapshot));
                }
                // The history was dropped meanwhile: the next one.
                Ok(false) => continue,
                Err(_) => {
                    let done = u64::try_from(history.position()).unwrap_or(0);
                    let (percent, retry_after) =
                        estimate(done, u64::try_from(position).unwrap_or(0), history.age());
                    return Ok(Err(Preparing {
                        position,
                        building: Some(position),
                        percent,
                        retry_after,
                    }));
                }
            }
        }
    }

    /// Keeps `snapshot` for the next questions, dropping the least recently used beyond [`KEPT`].
    async fn keep(&self, snapshot: Arc<Snapshot>) {
        let mut kept = self.kept.lock().await;
        if kept.len() >= KEPT {
            if let Some(oldest) = kept
                .iter()
                .enumerate()
                .min_by_key(|(_, k)| k.used)
                .map(|(i, _)| i)
            {
                kept.swap_remove(oldest);
            }
        }
        kept.push(Kept {
            snapshot,
            used: Instant::now(),
        });
    }

    /// The position `at` names in the live log (an instant: the last event recorded at or
    /// before it; a position past the head is refused).
    pub async fn position(&self, at: At) -> Result<i64, SnapshotError> {
        snapshot::resolve(&self.source, at).await
    }

    /// The snapshot after `position` if it is kept or built within `wait`; otherwise how far
    /// its build is (the build goes on: asking again later finds it).
    pub async fn within(
        self: &Arc<Self>,
        position: i64,
        wait: Duration,
    ) -> Result<Result<Arc<Snapshot>, Preparing>, SnapshotError> {
        self.start_janitor();
        if let Some(found) = self.kept_at(position).await? {
            return Ok(Ok(found));
        }
        if self.follows {
            return self.read_history(position, wait).await;
        }
        match tokio::time::timeout(wait, built(self.spawn_build(position))).await {
            Ok(built) => built.map(Ok),
            Err(_) => Ok(Err(self.preparing(position))),
        }
    }

    /// How far the build under way is.
    fn preparing(&self, position: i64) -> Preparing {
        let building = self.progress.lock().ok().and_then(|b| b.clone());
        let Some(building) = building else {
            // Queued, or about to start.
            return Preparing {
                position,
                building: None,
                percent: 0,
                retry_after: FIRST_RETRY,
            };
        };
        let (percent, retry_after) = estimate(
            building.done.load(Ordering::Relaxed),
            building.total,
            building.started.elapsed(),
        );
        Preparing {
            position,
            building: Some(building.position),
            percent,
            retry_after,
        }
    }

    /// The snapshot after `position`, built now if none is kept.
    pub async fn at(self: &Arc<Self>, position: i64) -> Result<Arc<Snapshot>, SnapshotError> {
        self.start_janitor();
        if let Some(found) = self.kept_at(position).await? {
            return Ok(found);
        }
        if self.follows {
            loop {
                if let Ok(found) = self.read_history(position, LONGEST_RETRY).await? {
                    return Ok(found);
                }
            }
        }
        built(self.spawn_build(position)).await
    }

    /// Builds the snapshot after `position` (unless the build before it in turn made it) and
    /// keeps it, as a task of its own: a request that gives up does not cancel it.
    fn spawn_build(self: &Arc<Self>, position: i64) -> Build {
        let this = self.clone();
        tokio::spawn(async move {
            let _turn = this.building.clone().lock_owned().await;
            // Built meanwhile by the request before us?
            if let Some(found) = this.kept_at(position).await? {
                return Ok(found);
            }
            let built = Arc::new(this.build(position).await?);
            this.keep(built.clone()).await;
            Ok(built)
        })
    }

    /// The kept snapshots, after dropping those idle too long or holding a key erased since.
    async fn sweep(&self) -> Result<tokio::sync::MutexGuard<'_, Vec<Kept>>, SnapshotError> {
        let mut kept = self.kept.lock().await;
        // Nothing kept (the janitor's usual case): no key to check.
        if kept.is_empty() {
            return Ok(kept);
        }
        let live = crate::erasure::held_key_ids(self.source.pool()).await?;
        let now = Instant::now();
        kept.retain(|k| now.duration_since(k.used) < IDLE && k.snapshot.keys.is_subset(&live));
        Ok(kept)
    }

    /// A kept snapshot of `position`.
    async fn kept_at(&self, position: i64) -> Result<Option<Arc<Snapshot>>, SnapshotError> {
        let mut kept = self.sweep().await?;
        let now = Instant::now();
        Ok(kept
            .iter_mut()
            .find(|k| k.snapshot.head.position == position)
            .map(|k| {
                k.used = now;
                k.snapshot.clone()
            }))
    }

    /// How many snapshots are kept now (after a sweep).
    pub async fn kept(&self) -> Result<usize, SnapshotError> {
        Ok(self.sweep().await?.len())
    }

    async fn build(&self, position: i64) -> Result<Snapshot, SnapshotError> {
        let dir = self.dir()?;
        let path = dir.join(format!("{}.db", Uuid::new_v4()));
        let started = Instant::now();
        let building = Arc::new(Building {
            position,
            started,
            done: AtomicU64::new(0),
            total: u64::try_from(position).unwrap_or(0).saturating_mul(2),
        });
        if let Ok(mut slot) = self.progress.lock() {
            *slot = Some(building.clone());
        }
        let report = snapshot::create(
            &self.source,
            At::Position(position),
            &path,
            building.as_ref(),
            building.as_ref(),
            Keys::Copy,
        )
        .await;
        if let Ok(mut slot) = self.progress.lock() {
            *slot = None;
        }
        let report = report?;
        let mut config = StoreConfig::new(format!("sqlite://{}", path.display()));
        config.max_connections = 4;
        let store = Store::open(config).await?;
        let keys = crate::erasure::held_key_ids(store.pool()).await?;
        tracing::info!(
            position,
            events = report.rebuilt,
            seconds = started.elapsed().as_secs_f64(),
            "built the record as of a log position"
        );
        Ok(Snapshot {
            store,
            head: report.head,
            keys,
            backing: Backing::File(path),
        })
    }

    /// The private directory snapshots are written to (created on first use, owner only).
    fn dir(&self) -> Result<&PathBuf, SnapshotError> {
        if let Some(dir) = self.dir.get() {
            return Ok(dir);
        }
        let temp = std::env::temp_dir();
        remove_orphans(&temp);
        let dir = temp.join(format!(
            "{ORPHAN_PREFIX}{}-{}",
            std::process::id(),
            Uuid::new_v4()
        ));
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&dir).map_err(|source| SnapshotError::Io {
            path: dir.clone(),
            source,
        })?;
        Ok(self.dir.get_or_init(|| dir))
    }

    /// Drops idle snapshots and those holding erased keys every [`SWEEP`], while `self` lives.
    fn start_janitor(self: &Arc<Self>) {
        let weak: Weak<Snapshots> = Arc::downgrade(self);
        self.janitor.call_once(|| {
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(SWEEP).await;
                    let Some(this) = weak.upgrade() else { break };
                    // A key destroyed without its erasure recorded yet (it is retried).
                    let history = this.history.lock().ok().and_then(|h| h.clone());
                    if let Some(history) = history {
                        match history.outlived(&this.source).await {
                            Ok(true) => {
                                if let Ok(mut slot) = this.history.lock() {
                                    *slot = None;
                                }
                            }
                            Ok(false) => {}
                            Err(e) => {
                                tracing::warn!(error = %e, "checking the history's keys failed")
                            }
                        }
                    }
                    let swept = this.sweep().await.map(drop);
                    if let Err(e) = swept {
                        tracing::warn!(error = %e, "checking the kept snapshots failed");
                    }
                }
            });
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_build_says_how_far_it_is_and_when_to_ask_again() {
        let secs = Duration::from_secs;
        // A quarter done in 10 s: 30 s to go.
        assert_eq!(estimate(250, 1_000, secs(10)), (25, secs(30)));
        // Nothing reported yet: the first guess.
        assert_eq!(estimate(0, 1_000, secs(10)), (0, FIRST_RETRY));
        // Almost done: at least a second; very slow: at most the longest.
        assert_eq!(estimate(999, 1_000, secs(1)), (99, secs(1)));
        assert_eq!(estimate(1, 1_000_000, secs(60)), (0, LONGEST_RETRY));
        // An empty log's build, or progress past the total, is done.
        assert_eq!(estimate(5, 0, secs(3)), (100, secs(1)));
    }

    #[test]
    fn directories_of_dead_processes_are_removed_and_live_ones_kept() {
        let temp = tempfile::tempdir().unwrap();
        // Past any pid_max: no process has it.
        let dead = temp.path().join(format!("{ORPHAN_PREFIX}999999999-a"));
        let live = temp
            .path()
            .join(format!("{ORPHAN_PREFIX}{}-b", std::process::id()));
        let other = temp.path().join("shura-bench-999999999");
        for dir in [&dead, &live, &other] {
            std::fs::create_dir(dir).unwrap();
            std::fs::write(dir.join("x.db"), b"contact").unwrap();
        }
        remove_orphans(temp.path());
        assert!(!dead.exists());
        assert!(live.exists() && other.exists());
    }
}
