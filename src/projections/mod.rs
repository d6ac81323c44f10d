//! Read models: projections of the event log that dashboards and searches read.
//!
//! They are updated inside each append's transaction (a write is visible to the next read) and
//! can always be rebuilt from the log (`shura rebuild`).

pub mod search;
