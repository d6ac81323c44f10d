//! Shura (شورى, "consultation"): an event-sourced stakeholder consultation tracker.
//!
//! The event log ([`store`]) is the only source of truth; the read models ([`projections`]) are
//! derived from it.

pub mod accounts;
pub mod app;
pub mod auth;
pub mod bench;
pub mod checkpoint;
pub mod cli;
pub mod commands;
pub mod domain;
pub mod erasure;
pub mod error;
pub mod graphql;
pub mod history;
pub mod http;
pub mod open_data;
pub mod progress;
pub mod progress_import;
pub mod projections;
pub mod remind;
pub mod seeds;
pub mod snapshot;
pub mod store;
pub mod time_travel;
pub mod web;
