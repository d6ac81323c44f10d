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
    erased: std::sync::atomic::AtomicBool,
}

impl Drop for History {
    fn drop(&mut self) {
        crate::store::remove_sqlite_database(&self.path);
    }
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

fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

impl History {
    /// A new, empty history in the new file `path`.
    pub async fn create(path: &Path) -> Result<History, StoreError> {
        let mut config = StoreConfig::new(sqlite_url(path));
        config.max_connections = 2;
        config.disposable = true;
        config.projector = Some(Arc::new(Versioned(Arc::new(ReadModels))));
        let store = Store::open(config).await?;
        let history = History {
            store,
            path: path.to_path_buf(),
            started: Instant::now(),
            erased: false.into(),
        };
        match history.store.pool() {
            crate::store::Pool::Sqlite(pool) => {
                temporal::install(pool, ReadModels.tables()).await?;
            }
            crate::store::Pool::Postgres(_) => {
                return Err(StoreError::validation("history", "must be a SQLite file"));
            }
        }
        Ok(history)
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
