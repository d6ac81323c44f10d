//! Folded aggregate states kept between commands, so that deciding a command on a long stream
//! reads and folds only the events appended since the last time, not the whole stream.
//!
//! An entry is a stream's state *as of a version*. Events are never updated or deleted, so the
//! state of a stream at version `v` never changes: an entry can be older than the stream (another
//! handle or process appended since) but never wrong. A reader takes the newest entry at or below
//! the version it wants and folds the events after it; that is exact for any version, including
//! the older basis an idempotent retry is decided on.
//!
//! The cache knows nothing of the domain: states are stored as `Arc<dyn Any>` under the stream
//! id *and* the state's type, so a caller asking for one aggregate's state never sees another's.
//! It lives in the [`Store`](super::Store) handle: clones of a handle share it, handles opened
//! separately (or other processes) each have their own.
//!
//! Memory is bounded: at most [`MAX_STREAMS`] streams, each with at most
//! [`VERSIONS_PER_STREAM`] versions; when a new stream comes in and the cache is full, the
//! stream used least recently is dropped.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use uuid::Uuid;

/// The most streams whose states are kept.
pub const MAX_STREAMS: usize = 1_024;
/// The most versions kept per stream: the latest ones, and older ones asked for by idempotent
/// retries (their basis is the version before the first attempt's events).
pub const VERSIONS_PER_STREAM: usize = 4;

type Key = (Uuid, TypeId);
type Shared = Arc<dyn Any + Send + Sync>;

/// Folded states by (stream, state type) and version; see the module documentation.
#[derive(Default)]
pub struct StateCache {
    entries: Mutex<Entries>,
    /// Events folded on top of cached states (or from scratch), for tests and measurements.
    folded: AtomicU64,
}

#[derive(Default)]
struct Entries {
    streams: HashMap<Key, Slot>,
    /// Grows on every use; a slot's `last_used` orders the streams for eviction.
    tick: u64,
}

struct Slot {
    last_used: u64,
    /// By increasing version, at most [`VERSIONS_PER_STREAM`].
    states: Vec<(i64, Shared)>,
}

impl std::fmt::Debug for StateCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateCache")
            .field("streams", &self.len())
            .field("folded", &self.events_folded())
            .finish()
    }
}

impl StateCache {
    /// An empty cache.
    pub fn new() -> Self {
        StateCache::default()
    }

    /// The newest state of `stream_id` of type `S` at or below `up_to_version` (any when
    /// `None`), with its version.
    pub fn get<S: Clone + Send + Sync + 'static>(
        &self,
        stream_id: Uuid,
        up_to_version: Option<i64>,
    ) -> Option<(i64, S)> {
        let limit = up_to_version.unwrap_or(i64::MAX);
        let found = {
            let mut entries = self.lock();
            entries.tick += 1;
            let tick = entries.tick;
            let slot = entries.streams.get_mut(&(stream_id, TypeId::of::<S>()))?;
            slot.last_used = tick;
            slot.states
                .iter()
                .rev()
                .find(|(version, _)| *version <= limit)
                .map(|(version, state)| (*version, state.clone()))
        };
        // Cloned outside the lock: a large state must not hold up other commands.
        let (version, state) = found?;
        state
            .downcast_ref::<S>()
            .map(|state| (version, state.clone()))
    }

    /// Keeps `state` as the state of `stream_id` at `version`.
    pub fn put<S: Send + Sync + 'static>(&self, stream_id: Uuid, version: i64, state: S) {
        // Version 0 is the default state: there is nothing to save by keeping it.
        if version <= 0 {
            return;
        }
        let shared: Shared = Arc::new(state);
        let mut entries = self.lock();
        entries.tick += 1;
        let tick = entries.tick;
        let key = (stream_id, TypeId::of::<S>());
        if !entries.streams.contains_key(&key) && entries.streams.len() >= MAX_STREAMS {
            let oldest = entries
                .streams
                .iter()
                .min_by_key(|(_, slot)| slot.last_used)
                .map(|(key, _)| *key);
            if let Some(oldest) = oldest {
                entries.streams.remove(&oldest);
            }
        }
        let slot = entries.streams.entry(key).or_insert_with(|| Slot {
            last_used: tick,
            states: Vec::new(),
        });
        slot.last_used = tick;
        match slot.states.binary_search_by_key(&version, |(v, _)| *v) {
            // The same version folds to the same state: the one kept is as good.
            Ok(_) => {}
            Err(at) => {
                slot.states.insert(at, (version, shared));
                if slot.states.len() > VERSIONS_PER_STREAM {
                    slot.states.remove(0);
                }
            }
        }
    }

    /// Forgets every state: after an erasure, states folded before it hold personal data that
    /// the log no longer opens.
    pub fn clear(&self) {
        self.lock().streams.clear();
    }

    /// Counts events folded by a caller of the cache.
    pub fn count_folded(&self, events: usize) {
        self.folded.fetch_add(events as u64, Ordering::Relaxed);
    }

    /// How many events callers folded since the store was opened: what loading states cost.
    pub fn events_folded(&self) -> u64 {
        self.folded.load(Ordering::Relaxed)
    }

    /// How many streams have a state kept.
    pub fn len(&self) -> usize {
        self.lock().streams.len()
    }

    /// Whether no state is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, Entries> {
        // A panic while the lock was held cannot leave a wrong state behind (entries are only
        // inserted or removed whole), so a poisoned cache is still a correct one.
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_state_at_or_below_the_wanted_version_is_returned() {
        let cache = StateCache::new();
        let id = Uuid::from_u128(1);
        assert_eq!(cache.get::<String>(id, None), None);
        cache.put(id, 3, "three".to_owned());
        cache.put(id, 7, "seven".to_owned());
        cache.put(id, 5, "five".to_owned());
        assert_eq!(cache.get::<String>(id, None), Some((7, "seven".into())));
        assert_eq!(cache.get::<String>(id, Some(6)), Some((5, "five".into())));
        assert_eq!(cache.get::<String>(id, Some(5)), Some((5, "five".into())));
        assert_eq!(cache.get::<String>(id, Some(4)), Some((3, "three".into())));
        assert_eq!(cache.get::<String>(id, Some(2)), None);
        // Another state type under the same stream id is another entry.
        assert_eq!(cache.get::<u32>(id, None), None);
        cache.put(id, 1, 1_u32);
        assert_eq!(cache.get::<u32>(id, None), Some((1, 1)));
        assert_eq!(cache.get::<String>(id, None), Some((7, "seven".into())));
        // Version 0 is the default state, never kept.
        cache.put(Uuid::from_u128(2), 0, "none".to_owned());
        assert_eq!(cache.get::<String>(Uuid::from_u128(2), None), None);
    }

    #[test]
    fn versions_per_stream_and_streams_are_bounded_least_recently_used_first() {
        let cache = StateCache::new();
        let id = Uuid::from_u128(1);
        for version in 1..=10 {
            cache.put(id, version, version);
        }
        assert_eq!(cache.get::<i64>(id, None), Some((10, 10)));
        let lowest = 10 - VERSIONS_PER_STREAM as i64 + 1;
        assert_eq!(cache.get::<i64>(id, Some(lowest)), Some((lowest, lowest)));
        assert_eq!(cache.get::<i64>(id, Some(lowest - 1)), None);

        for n in 2..=MAX_STREAMS as u128 {
            cache.put(Uuid::from_u128(n), 1, 1_i64);
        }
        assert_eq!(cache.len(), MAX_STREAMS);
        // Stream 1 is used again, so stream 2 is now the least recently used.
        assert!(cache.get::<i64>(id, None).is_some());
        cache.put(Uuid::from_u128(MAX_STREAMS as u128 + 1), 1, 1_i64);
        assert_eq!(cache.len(), MAX_STREAMS);
        assert_eq!(cache.get::<i64>(Uuid::from_u128(2), None), None);
        assert!(cache.get::<i64>(id, None).is_some());
        assert!(cache
            .get::<i64>(Uuid::from_u128(MAX_STREAMS as u128 + 1), None)
            .is_some());
    }
}
