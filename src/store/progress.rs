//! A progress hook for the store's long operations (export, import, rebuild, verify).
//!
//! The store only counts: it says how many events an operation will go through
//! ([`Progress::total`]) and how many more it has gone through ([`Progress::advance`]). How that
//! is shown (a bar on a terminal, log lines otherwise) is the caller's business: the store
//! depends on no terminal library.

/// Receives an operation's progress, in events. Called from the operation's task, between pages
/// of the log; implementations must be cheap (no I/O that waits).
pub trait Progress: Send + Sync {
    /// How many events the operation will go through in all; may be called again when the
    /// figure turns out different (events appended meanwhile).
    fn total(&self, events: u64);
    /// `events` more were gone through.
    fn advance(&self, events: u64);
}

/// Reports nothing: what the operations without a hook use.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn total(&self, _events: u64) {}
    fn advance(&self, _events: u64) {}
}
