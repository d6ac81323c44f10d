//! Parsed consultation documents shared by the requests of this process.
//!
//! A consultation row's document is a function of the log up to the row's `position` (the last
//! event that changed it; rebuilds write the same bytes), so a document parsed at a position
//! never goes stale: when the row moves on, its new position misses and the new document is
//! read. Appends by other processes on the same database change positions, never what an
//! (id, position) pair means, so the cache is safe with several instances. Pages read their
//! rows without documents, then the documents of the rows not cached at their position, with
//! one statement.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_graphql::Result;
use uuid::Uuid;

use super::types::Consultation;
use crate::domain::consultation;
use crate::error::ApiError;
use crate::projections::lists::{self, ConsultationRecord};
use crate::store::Pool;

/// How many parsed consultations a process keeps (a few tens of MB for seed-sized documents).
pub const CAPACITY: usize = 1024;

struct Parsed<T> {
    position: i64,
    state: Arc<T>,
}

/// Values by id, each valid for the position it was read at, at most `capacity` of them.
pub struct PositionCache<T> {
    entries: Mutex<HashMap<Uuid, Parsed<T>>>,
    capacity: usize,
}

/// Parsed consultation documents.
pub type ConsultationCache = PositionCache<consultation::Consultation>;

impl<T> Default for PositionCache<T> {
    fn default() -> Self {
        PositionCache::new(CAPACITY)
    }
}

impl<T> PositionCache<T> {
    /// A cache holding at most `capacity` values.
    pub fn new(capacity: usize) -> Self {
        PositionCache {
            entries: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    fn get(&self, id: Uuid, position: i64) -> Option<Arc<T>> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(&id)
            .filter(|p| p.position == position)
            .map(|p| p.state.clone())
    }

    fn put(&self, id: Uuid, position: i64, state: Arc<T>) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= self.capacity && !entries.contains_key(&id) {
            // Any entry will do: a bounded cache matters here, not which entry leaves.
            if let Some(victim) = entries.keys().next().copied() {
                entries.remove(&victim);
            }
        }
        entries.insert(id, Parsed { position, state });
    }
}

impl ConsultationCache {
    /// The consultations of a page's rows, by id. Documents not cached at their row's position
    /// are read with one statement and parsed once. A row that changed between the page and the
    /// document read is shown as of its newer document, whole; a row gone in between (a rebuild
    /// committing) has no consultation.
    pub async fn page(
        &self,
        pool: &Pool,
        rows: &[ConsultationRecord],
    ) -> Result<HashMap<Uuid, Consultation>> {
        let mut found: HashMap<Uuid, Consultation> = HashMap::with_capacity(rows.len());
        let mut missing = Vec::new();
        for row in rows {
            match self.get(row.id.0, row.position) {
                Some(state) => {
                    found.insert(row.id.0, Consultation::from_row(row, state));
                }
                None => missing.push(row.id.0),
            }
        }
        if !missing.is_empty() {
            let docs = lists::consultation_docs(pool, &missing)
                .await
                .map_err(ApiError::from)?;
            for doc in docs {
                let state: consultation::Consultation =
                    serde_json::from_str(&doc.doc).map_err(|e| ApiError::internal(&e))?;
                let state = Arc::new(state);
                self.put(doc.id.0, doc.position, state.clone());
                let node = match rows.iter().find(|r| r.id == doc.id) {
                    Some(row) if row.position == doc.position => Consultation::from_row(row, state),
                    _ => Consultation::from_state(
                        Arc::unwrap_or_clone(state),
                        doc.version,
                        doc.position,
                    ),
                };
                found.insert(doc.id.0, node);
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> Arc<String> {
        Arc::new("parsed".to_owned())
    }

    #[test]
    fn an_entry_is_found_only_at_the_position_it_was_read_at() {
        // Given a consultation parsed at position 7
        let cache = PositionCache::new(4);
        let id = Uuid::new_v4();
        cache.put(id, 7, state());
        // Then it is found at 7 and missed once the row has moved on to 9
        assert!(cache.get(id, 7).is_some());
        assert!(cache.get(id, 9).is_none());
        // And a newer read replaces it
        cache.put(id, 9, state());
        assert!(cache.get(id, 9).is_some());
        assert!(cache.get(id, 7).is_none());
    }

    #[test]
    fn the_cache_never_holds_more_than_its_capacity() {
        let cache = PositionCache::new(3);
        for position in 0..10 {
            cache.put(Uuid::new_v4(), position, state());
        }
        assert_eq!(cache.entries.lock().map(|e| e.len()).unwrap_or(0), 3);
    }
}
