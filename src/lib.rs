//! Shura (شورى, "consultation"): an event-sourced stakeholder consultation tracker.
//!
//! The event log ([`store`]) is the only source of truth; everything else is derived from it.

pub mod cli;
pub mod store;
