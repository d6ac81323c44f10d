//! The temporal read model behind `asOf`: a private SQLite copy of the live log whose read
//! models keep every version of every row, with the positions between which it held (see
//! [`crate::store::temporal`]). It follows the live log as it grows, projecting one event at a
//! time, so that every position of the log is a state it went through; the record as of any
//! position it has reached is then a set of views on it, opened in milliseconds, instead of a
//! copy and a replay of the log up to that position (see [`crate::time_travel`]).
//!
//! The copy holds what the live read models hold, contact details included (with the personal
//! keys of the events it copied): it lives in the process's private directory, and an erasure
//! ends it: when the follower meets a `ContactErased` whose key it had copied (or the janitor
//! finds such a key gone, see [`crate::time_travel`]), the whole copy is dropped (every version
//! of the person's details in it) and a new one starts, in which the details read as erased at
//! every position, as a rebuild of the log shows them.
//!
//! A history can be kept across restarts (see [`crate::time_travel::Snapshots::with_history`]):
//! in a directory of its own, it is reopened at the next start and follows the log from where it
//! stopped, instead of a catch-up from an empty copy (about an hour at a million events). It is
//! reopened only when nothing it holds can differ from what a new one would: it was made by this
//! very binary (the SHA-256 of the executable: another build may project differently), its last
//! event is the live log's event at that position (same hash: the same log, not restored to an
//! earlier state or replaced), and every personal key it copied is still held (no erasure since,
//! made while the service was stopped). Otherwise its file is removed and a new one starts.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use uuid::Uuid;

use crate::projections::ReadModels;
use crate::store::{
    temporal, BoxFuture, LogHead, Projector, Store, StoreConfig, StoreError, StoredEvent, Tx, PAGE,
};

/// The event whose copy ends a history (see the module's doc).
const ERASURE: &str = "ContactErased";

/// The size of write-ahead log a caught-up history leaves as it is (see [`History::settle`]):
/// SQLite's own checkpoints keep it to about 4 MB when events come a few at a time.
pub const WAL_KEPT: u64 = 16 << 20;

/// A projector that projects one event at a time in log order, stamping the versions its
/// writes make with the event's position.
#[derive(Debug)]
struct Versioned(Arc<dyn Projector>);

impl Projector for Versioned {
    fn project<'a>(
        &'a self,
        tx: &'a mut Tx,
        events: &'a [StoredEvent],
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            // A replay's page comes grouped by stream: versions need the log's order.
            let mut order: Vec<&StoredEvent> = events.iter().collect();
            order.sort_by_key(|e| e.position);
            for event in order {
                temporal::set_cursor(tx, event.position).await?;
                self.0.project(tx, std::slice::from_ref(event)).await?;
            }
            Ok(())
        })
    }

    fn reset<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<(), StoreError>> {
        self.0.reset(tx)
    }

    fn dump<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<Vec<String>, StoreError>> {
        self.0.dump(tx)
    }
}

/// How a follower's run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Followed {
    /// It holds the source's log as it was read last.
    CaughtUp,
    /// It copied an erasure: this history must go (see the module's doc).
    Erased,
}

/// A temporal copy of one live log (see the module's doc). Dropping it removes its file.
#[derive(Debug)]
pub struct History {
    store: Store,
    path: PathBuf,
    /// When it started, and from which position: its rate so far says when it will reach one.
    started: Instant,
    /// The position it held when this process opened it (0 for a new one).
    resumed_from: i64,
    erased: std::sync::atomic::AtomicBool,
    /// Kept across restarts: its file stays when it is dropped, unless it must not be read.
    kept: bool,
}

impl Drop for History {
    fn drop(&mut self) {
        if !self.kept || self.erased() {
            crate::store::remove_sqlite_database(&self.path);
        }
    }
}

/// The table that says which binary made a history (see the module's doc).
const MADE_BY_TABLE: &str = "CREATE TABLE IF NOT EXISTS history_made_by (sha256 TEXT NOT NULL)";
const MADE_BY_WRITE: &str = "INSERT INTO history_made_by (sha256) VALUES ($1)";
const MADE_BY_READ: &str = "SELECT sha256 FROM history_made_by";

/// The SHA-256 of the running executable, hex: 0.3-1 s for a 240 MB release build (debug
/// line tables included; in the page cache or not), paid when a history is made or reopened,
/// not cached, so that a restart's figure in `shura bench` includes it.
async fn this_binary() -> Result<String, StoreError> {
    tokio::task::spawn_blocking(|| {
        use sha2::{Digest, Sha256};
        use std::io::Read;
        let mut file = std::fs::File::open(std::env::current_exe()?)?;
        let mut hasher = Sha256::new();
        let mut buffer = vec![0u8; 1 << 20];
        loop {
            let read = file.read(&mut buffer)?;
            if read == 0 {
                break;
            }
            hasher.update(buffer.get(..read).unwrap_or_default());
        }
        Ok::<_, std::io::Error>(hex::encode(hasher.finalize()))
    })
    .await
    .map_err(|e| StoreError::Io(std::io::Error::other(e.to_string())))?
    .map_err(StoreError::Io)
}

/// What a kept history's file says of itself: the binary that made it and its last event. Read
/// before a store opens it: a store applies its migrations, which a history made by another
/// binary may not have had.
async fn made_by_and_head(
    path: &Path,
) -> Result<(Option<String>, Option<(i64, String)>), sqlx::Error> {
    use sqlx::{ConnectOptions, Connection};
    let mut c = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .connect()
        .await?;
    let made_by: Option<String> = sqlx::query_scalar(MADE_BY_READ)
        .fetch_optional(&mut c)
        .await?;
    let head: Option<(i64, String)> =
        sqlx::query_as("SELECT position, hash FROM events ORDER BY position DESC LIMIT 1")
            .fetch_optional(&mut c)
            .await?;
    c.close().await?;
    Ok((made_by, head))
}

/// The size of the write-ahead log beside the SQLite file `path` (0 when there is none).
fn wal_bytes(path: &Path) -> u64 {
    std::fs::metadata(crate::store::suffixed(path, "-wal")).map_or(0, |m| m.len())
}

/// Why a kept history is not to be reopened, if it is not. A failure to read the live log is
/// an error (the history is kept for the next try), not a reason.
async fn unfit(path: &Path, source: &Store) -> Result<Option<String>, StoreError> {
    // Where a restart's time goes: a write-ahead log left behind is read whole by the first
    // connection and folded into the file when it closes; the checksum reads the binary.
    let wal_bytes = wal_bytes(path);
    let started = Instant::now();
    let (made_by, head) = match made_by_and_head(path).await {
        Ok(read) => read,
        Err(e) => return Ok(Some(format!("unreadable: {e}"))),
    };
    let read = started.elapsed();
    let binary = this_binary().await?;
    tracing::info!(
        path = %path.display(),
        wal_bytes,
        read_ms = read.as_millis(),
        checksum_ms = started.elapsed().saturating_sub(read).as_millis(),
        "checked the kept asOf history's file"
    );
    if made_by.as_deref() != Some(binary.as_str()) {
        return Ok(Some("made by another binary".to_owned()));
    }
    if let Some((position, hash)) = head {
        let live = source
            .read_all_stored(position.saturating_sub(1), 1)
            .await?;
        if !live
            .first()
            .is_some_and(|e| e.position == position && e.hash == hash)
        {
            return Ok(Some(format!(
                "the live log does not hold its event {position}"
            )));
        }
    }
    Ok(None)
}

/// Removes a kept history that is not reopened, saying why.
fn discard(path: &Path, why: &str) {
    tracing::info!(
        path = %path.display(),
        why,
        "the kept asOf history is not reopened: a new one starts"
    );
    crate::store::remove_sqlite_database(path);
}

/// The record as of one position, read through a history's views.
#[derive(Debug)]
pub struct AsOf {
    /// A store whose every read shows the record as it stood after the position.
    pub store: Store,
    /// The log's head at that position.
    pub head: LogHead,
    /// The personal keys its history held when it was opened.
    pub keys: HashSet<Uuid>,
}

/// Where the history of a SQLite database's log is kept across restarts by default: the
/// directory `<database>.history` beside its file.
pub fn kept_beside(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".history");
    PathBuf::from(name)
}

/// Removes the histories kept in `dir` (what an erasure does to the one beside a SQLite
/// database: they may hold the erased details in clear). A process following one of them reads
/// on until it meets the erasure, then starts a new one.
pub fn remove_kept(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "db") {
            crate::store::remove_sqlite_database(&path);
        }
    }
}

fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

impl History {
    async fn open(path: &Path, kept: bool) -> Result<History, StoreError> {
        let mut config = StoreConfig::new(sqlite_url(path));
        config.max_connections = 2;
        config.disposable = true;
        config.projector = Some(Arc::new(Versioned(Arc::new(ReadModels))));
        let store = Store::open(config).await?;
        let resumed_from = store.head().await?.position;
        Ok(History {
            store,
            path: path.to_path_buf(),
            started: Instant::now(),
            resumed_from,
            erased: false.into(),
            kept,
        })
    }

    /// A new, empty history in the new file `path`; `kept`, its file stays when it is dropped
    /// (unless it copied an erasure), to be reopened after a restart with [`History::reopen`].
    pub async fn create(path: &Path, kept: bool) -> Result<History, StoreError> {
        let history = History::open(path, kept).await?;
        let crate::store::Pool::Sqlite(pool) = history.store.pool() else {
            return Err(StoreError::validation("history", "must be a SQLite file"));
        };
        // Which binary made it goes last: a kept file without it is not reopened.
        let made = async {
            temporal::install(
                pool,
                ReadModels.tables(),
                crate::projections::queries::COUNTED,
            )
            .await?;
            sqlx::query(MADE_BY_TABLE).execute(pool).await?;
            sqlx::query(MADE_BY_WRITE)
                .bind(this_binary().await?)
                .execute(pool)
                .await?;
            Ok::<_, StoreError>(())
        }
        .await;
        if let Err(e) = made {
            // Never to be read: dropped here, its file goes, kept or not.
            history
                .erased
                .store(true, std::sync::atomic::Ordering::SeqCst);
            return Err(e);
        }
        Ok(history)
    }

    /// The kept history in `path`, if it can go on following `source` (see the module's doc);
    /// otherwise its file is removed and the reason is logged.
    pub async fn reopen(path: &Path, source: &Store) -> Result<Option<History>, StoreError> {
        if let Some(why) = unfit(path, source).await? {
            discard(path, &why);
            return Ok(None);
        }
        let history = match History::open(path, true).await {
            Ok(history) => history,
            Err(e) => {
                discard(path, &e.to_string());
                return Ok(None);
            }
        };
        if history.outlived(source).await? {
            // Marked erased, it removes its file as it goes: said here.
            drop(history);
            discard(path, "it holds a personal key erased since");
            return Ok(None);
        }
        Ok(Some(history))
    }

    /// The position it held when this process opened it: 0 for a new one, its last position
    /// for a kept one reopened.
    pub fn resumed_from(&self) -> i64 {
        self.resumed_from
    }

    /// The last position copied and projected.
    pub fn position(&self) -> i64 {
        *self.store.watch_head().borrow()
    }

    /// Watches [`History::position`].
    pub fn watch(&self) -> tokio::sync::watch::Receiver<i64> {
        self.store.watch_head()
    }

    /// Whether it copied an erasure (it must not be read any more).
    pub fn erased(&self) -> bool {
        self.erased.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// How long it has been following (with [`History::position`], its rate).
    pub fn age(&self) -> std::time::Duration {
        self.started.elapsed()
    }

    /// Copies the events of `source` after its head, a page at a time (each page one
    /// transaction, with the personal keys its events name), until it has read all of them.
    pub async fn follow(&self, source: &Store) -> Result<Followed, StoreError> {
        loop {
            let after = self.position();
            let page = source.read_all_stored(after, PAGE).await?;
            if page.is_empty() {
                self.settle(WAL_KEPT).await?;
                return Ok(Followed::CaughtUp);
            }
            // An erasure destroys the key before it is recorded: if this history copied it,
            // its versions hold the erased details, and it ends.
            if page.iter().any(|e| e.event_type == ERASURE) && self.outlived(source).await? {
                return Ok(Followed::Erased);
            }
            crate::erasure::copy_keys(source.pool(), self.store.pool(), &page).await?;
            self.store.extend_log(&page).await?;
        }
    }

    /// Empties its write-ahead log if it has grown past `above` bytes ([`History::follow`]
    /// does once it has caught up, with [`WAL_KEPT`]); whether it was emptied. A page of a
    /// catch-up is one transaction, so the log grows to a whole page's versions (123 MB at
    /// 100,000 events), and SQLite writes over it afterwards but never shrinks it: a kept
    /// history's next start would read all of it again before its first answer. A truncating
    /// checkpoint waits for the readers under way; if they outlast the busy timeout, it is
    /// left for the next catch-up.
    pub async fn settle(&self, above: u64) -> Result<bool, StoreError> {
        let crate::store::Pool::Sqlite(pool) = self.store.pool() else {
            return Ok(false);
        };
        let wal_bytes = wal_bytes(&self.path);
        if wal_bytes <= above {
            return Ok(false);
        }
        let started = Instant::now();
        let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
            .fetch_one(pool)
            .await?;
        tracing::info!(
            path = %self.path.display(),
            wal_bytes,
            emptied = busy == 0,
            took_ms = started.elapsed().as_millis(),
            "the asOf history's write-ahead log folded into its file"
        );
        Ok(busy == 0)
    }

    /// Whether it holds a key that `source` no longer holds (erased since it was copied); if
    /// so it is marked [`History::erased`], before anything is read of it again.
    pub async fn outlived(&self, source: &Store) -> Result<bool, StoreError> {
        let held = crate::erasure::held_key_ids(self.store.pool()).await?;
        if held.is_empty() {
            return Ok(false);
        }
        let live = crate::erasure::held_key_ids(source.pool()).await?;
        let outlived = !held.is_subset(&live);
        if outlived {
            self.erased.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        Ok(outlived)
    }

    /// The record as it stood after `position` (at most [`History::position`]).
    pub async fn at(&self, position: i64) -> Result<AsOf, StoreError> {
        let reached = self.position();
        if position > reached {
            return Err(StoreError::validation(
                "position",
                format!("the history has reached position {reached}"),
            ));
        }
        let mut config = StoreConfig::new(sqlite_url(&self.path));
        config.max_connections = 4;
        config.as_of = Some(position);
        config.disposable = true;
        let store = Store::open(config).await?;
        let head = store.head().await?;
        let keys = crate::erasure::held_key_ids(self.store.pool()).await?;
        Ok(AsOf { store, head, keys })
    }
}
