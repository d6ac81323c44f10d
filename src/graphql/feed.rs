//! One reader of the global feed per schema, fanning each event out in memory to every
//! subscription.
//!
//! Before, each subscription followed the feed itself, so every append cost one store read per
//! subscriber, whether its filter matched or not. Now a single task follows the gap-safe feed
//! (woken by the store's head watch, fed by this process's writer and, on PostgreSQL, by
//! LISTEN/NOTIFY from other processes, with a slow poll as a safety net) and broadcasts each event
//! once. A subscription catches up from the store by position until it meets the broadcast, then
//! takes its events from memory; one that falls behind the bounded buffer, or sees a gap, catches
//! up from the store again on its own, without holding the others back. Positions have no holes
//! and are delivered strictly increasing, so nothing is lost or repeated.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Once, Weak};
use std::time::Duration;

use tokio::sync::broadcast::{self, error::RecvError};

use crate::http::logthrottle::Throttle;
use crate::store::{Store, StoredEvent};
use uuid::Uuid;

/// How often the reader reads the log head when no wake-up came: other processes' appends on
/// SQLite (which has no notifications), and so a token revoked by another process, are seen
/// within this. One single-row read per interval for the whole process, however many listen.
const POLL: Duration = Duration::from_millis(250);
/// The same where the database notifies this process of other processes' appends (PostgreSQL's
/// LISTEN/NOTIFY): only a safety net for a lost notification.
const NOTIFIED_POLL: Duration = Duration::from_secs(1);
/// How long a subscription that could not read the feed waits before reading again: every
/// catching-up subscription retries on its own, so not at the reader's pace.
const RETRY: Duration = Duration::from_secs(1);
/// Events read per page of the feed.
const PAGE: i64 = 200;
/// Events held for slow subscriptions: a subscription further behind catches up from the store.
/// The events are shared (`Arc`), so this bounds the hub's memory whatever the clients do.
const CAPACITY: usize = 1024;

/// The per-schema hub: one reader of the feed, fanning events out to subscriptions.
#[derive(Clone)]
pub struct Feed {
    hub: Arc<Hub>,
}

struct Hub {
    store: Store,
    events: broadcast::Sender<Arc<StoredEvent>>,
    /// The reader task starts with the first subscription: a schema never subscribed to (the
    /// CLI's, most tests') costs nothing.
    started: Once,
    /// Feed reads by the shared reader.
    reader_reads: AtomicU64,
    /// Feed reads by subscriptions catching up (on joining, after lagging or a gap).
    catch_up_reads: AtomicU64,
    /// Per token: the log head at which it was last checked, and whether it was still valid.
    /// Shared by every subscription and socket, so an append costs one check per token, not one
    /// per subscriber. Looked up under a plain lock (never held across an await), so that
    /// hundreds of subscribers of one event do not queue behind each other.
    validity: std::sync::Mutex<HashMap<Uuid, (i64, bool)>>,
    /// Held across a token read, so that the subscribers of one token wait for its one check
    /// instead of all reading at once.
    checking: tokio::sync::Mutex<()>,
    /// Token checks read from the store.
    validity_reads: AtomicU64,
}

/// Most tokens whose validity is remembered; past it the memory starts over.
const MAX_REMEMBERED_TOKENS: usize = 10_000;

impl Feed {
    /// A hub over `store`'s feed; its reader starts with the first subscription.
    pub fn new(store: Store) -> Feed {
        let (events, _) = broadcast::channel(CAPACITY);
        Feed {
            hub: Arc::new(Hub {
                store,
                events,
                started: Once::new(),
                reader_reads: AtomicU64::new(0),
                catch_up_reads: AtomicU64::new(0),
                validity: std::sync::Mutex::new(HashMap::new()),
                checking: tokio::sync::Mutex::new(()),
                validity_reads: AtomicU64::new(0),
            }),
        }
    }

    /// Whether `principal`'s token still grants what it granted, as of the log's current head:
    /// a token changes only through an append, so one check per token and head serves every
    /// subscription and socket. A read error is returned (and not remembered): subscriptions
    /// deliver nothing unchecked, while a socket stays open through an outage.
    pub async fn token_still_valid(
        &self,
        principal: &crate::auth::Principal,
    ) -> Result<bool, crate::store::StoreError> {
        let head = *self.hub.store.watch_head().borrow();
        if let Some(valid) = self.known(principal.token_id, head) {
            return Ok(valid);
        }
        let _checking = self.hub.checking.lock().await;
        // Another subscriber may have read it while this one waited.
        if let Some(valid) = self.known(principal.token_id, head) {
            return Ok(valid);
        }
        self.hub.validity_reads.fetch_add(1, Ordering::Relaxed);
        let valid = crate::auth::still_valid(self.hub.store.pool(), principal).await?;
        if let Ok(mut known) = self.hub.validity.lock() {
            if known.len() >= MAX_REMEMBERED_TOKENS {
                known.clear();
            }
            known.insert(principal.token_id, (head, valid));
        }
        Ok(valid)
    }

    /// What the last check of `token` at `head` found, if it was checked at that head.
    fn known(&self, token: Uuid, head: i64) -> Option<bool> {
        let known = self.hub.validity.lock().ok()?;
        known
            .get(&token)
            .filter(|(at, _)| *at == head)
            .map(|(_, valid)| *valid)
    }

    /// The log head as this process knows it, kept current by the hub's reader: woken by this
    /// process's appends and PostgreSQL's notifications, and reading the head every [`POLL`]
    /// for other processes' appends on SQLite. Starts the reader.
    pub fn watch_head(&self) -> tokio::sync::watch::Receiver<i64> {
        self.start();
        self.hub.store.watch_head()
    }

    /// Token checks read from the store so far (for tests).
    pub fn token_checks(&self) -> u64 {
        self.hub.validity_reads.load(Ordering::Relaxed)
    }

    /// The store the feed is read from.
    pub fn store(&self) -> &Store {
        &self.hub.store
    }

    /// Feed reads from the store so far, by the shared reader and by catching-up subscriptions:
    /// what a test counts to see that appends do not cost work per subscriber.
    pub fn store_reads(&self) -> u64 {
        self.hub.reader_reads.load(Ordering::Relaxed)
            + self.hub.catch_up_reads.load(Ordering::Relaxed)
    }

    /// Every event after `after`, in position order, each once.
    pub fn follow(&self, after: i64) -> Follower {
        self.start();
        // Joined before the catch-up read, so that nothing appended meanwhile is missed: what
        // the broadcast repeats is skipped by position.
        let events = self.hub.events.subscribe();
        Follower {
            hub: self.hub.clone(),
            events,
            last: after,
            buffer: VecDeque::new(),
            catching_up: true,
        }
    }

    fn start(&self) {
        self.hub.started.call_once(|| {
            let hub = Arc::downgrade(&self.hub);
            let head = self.hub.store.watch_head();
            tokio::spawn(read(hub, head));
        });
    }
}

/// The shared reader: follows the feed and broadcasts each event once. It holds the hub only
/// weakly, so it ends when the schema (and every subscription) is gone.
async fn read(hub: Weak<Hub>, mut head: tokio::sync::watch::Receiver<i64>) {
    let mut cursor = *head.borrow_and_update();
    loop {
        let Some(strong) = hub.upgrade() else { return };
        // Marked seen before reading: a commit during the read wakes the next wait at once.
        let seen = *head.borrow_and_update();
        if strong.events.receiver_count() == 0 {
            // Nobody listens: a subscription that joins catches up from the store itself, so
            // there is nothing to read, and idle services cost no reads per append.
            cursor = cursor.max(seen);
        } else if seen > cursor {
            // The head moved past what was broadcast. (A read that stops short, before another
            // transaction's commit, is tried again at the next wake-up or poll.)
            strong.reader_reads.fetch_add(1, Ordering::Relaxed);
            match strong.store.read_all_stored(cursor, PAGE).await {
                Ok(events) if !events.is_empty() => {
                    for event in events {
                        cursor = event.position;
                        // An error only means nobody listens any more.
                        let _ = strong.events.send(Arc::new(event));
                    }
                    continue; // maybe more than a page: read on before waiting
                }
                Ok(_) => {}
                Err(error) => {
                    static FEED: Throttle = Throttle::per_second();
                    if let Some(suppressed) = FEED.allow("subscription feed unreadable") {
                        tracing::warn!(%error, suppressed, "subscription feed unreadable; retrying");
                    }
                }
            }
        }
        let store = strong.store.clone();
        drop(strong);
        // PostgreSQL's notifications move the head watch at once: its poll is a safety net.
        let poll = match store.pool() {
            crate::store::Pool::Postgres(_) => NOTIFIED_POLL,
            crate::store::Pool::Sqlite(_) => POLL,
        };
        match tokio::time::timeout(poll, head.changed()).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => return, // the store is gone
            // Nothing woke it: other processes may have appended. Reading the head moves the
            // watch (and so wakes this loop, and every socket's token watch) if they did.
            Err(_) => {
                let _ = store.refresh_head().await;
            }
        }
    }
}

/// One subscription's place in the feed.
pub struct Follower {
    hub: Arc<Hub>,
    events: broadcast::Receiver<Arc<StoredEvent>>,
    /// The last position delivered (or the `after` it started from).
    last: i64,
    buffer: VecDeque<StoredEvent>,
    /// Reading from the store by position until it comes back empty (then the broadcast has
    /// everything later).
    catching_up: bool,
}

impl Follower {
    /// The next event after the last one delivered; `None` once the hub is gone.
    pub async fn next(&mut self) -> Option<Arc<StoredEvent>> {
        loop {
            if let Some(event) = self.buffer.pop_front() {
                if event.position <= self.last {
                    continue;
                }
                self.last = event.position;
                return Some(Arc::new(event));
            }
            if self.catching_up {
                self.hub.catch_up_reads.fetch_add(1, Ordering::Relaxed);
                match self.hub.store.read_all_stored(self.last, PAGE).await {
                    Ok(events) if !events.is_empty() => self.buffer.extend(events),
                    Ok(_) => self.catching_up = false,
                    Err(error) => {
                        // Every catching-up subscriber retries each second: one line a second
                        // says it for all.
                        static CATCH_UP: Throttle = Throttle::per_second();
                        if let Some(suppressed) = CATCH_UP.allow("subscription feed unreadable") {
                            tracing::warn!(%error, suppressed, "subscription could not read the feed; retrying");
                        }
                        tokio::time::sleep(RETRY).await;
                    }
                }
                continue;
            }
            match self.events.recv().await {
                Ok(event) if event.position <= self.last => {} // already read from the store
                Ok(event) if event.position == self.last + 1 => {
                    self.last = event.position;
                    return Some(event);
                }
                // A hole: the reader started (or skipped while nobody listened) after this
                // subscription's catch-up ended. The store has the missing events.
                Ok(_) => self.catching_up = true,
                // Fell behind the buffer: what it dropped is read from the store, by position.
                Err(RecvError::Lagged(_)) => self.catching_up = true,
                Err(RecvError::Closed) => return None,
            }
        }
    }
}
