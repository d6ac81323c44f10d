//! Shura's domain layer: pure, synchronous decisions and state folds for the
//! four event-sourced aggregates (organisation, person, consultation,
//! action), the value types they share, and the one error type.
//!
//! Each aggregate module offers the same entry points: `State` (its
//! `Default` is "not yet created"), `Command`, `Event`, `decide`, `apply`,
//! `fold` and `STREAM_TYPE`. No I/O, no clock, no randomness: time and ids
//! come in with the commands.

pub mod action;
pub mod codec;
pub mod common;
pub mod consultation;
pub mod error;
pub mod organisation;
pub mod person;
pub mod region;
#[cfg(test)]
mod seed_fit;
pub mod token;
pub mod user;

pub use codec::DomainEvent;
pub use common::{Contact, Inference, Money, PartialDate, Period, Place, Source, Text, Weekday};
pub use error::{DomainError, Rule};
pub use region::{Region, RegionCode, REGIONS};

/// Every stream type, with every event type it can hold.
pub const STREAM_TYPES: [(&str, &[&str]); 6] = [
    (organisation::STREAM_TYPE, organisation::Event::EVENT_TYPES),
    (person::STREAM_TYPE, person::Event::EVENT_TYPES),
    (consultation::STREAM_TYPE, consultation::Event::EVENT_TYPES),
    (action::STREAM_TYPE, action::Event::EVENT_TYPES),
    (token::STREAM_TYPE, token::Event::EVENT_TYPES),
    (user::STREAM_TYPE, user::Event::EVENT_TYPES),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_are_unique_across_all_aggregates_and_pascal_case() {
        let mut all: Vec<&str> = STREAM_TYPES
            .iter()
            .flat_map(|(_, types)| types.iter().copied())
            .collect();
        for event_type in &all {
            assert!(event_type.starts_with(|c: char| c.is_ascii_uppercase()));
            assert!(event_type.chars().all(|c| c.is_ascii_alphanumeric()));
        }
        let count = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), count);
        assert_eq!(count, 4 + 5 + 21 + 7 + 2 + 4);
    }

    #[test]
    fn stream_types_are_the_agreed_names() {
        let names: Vec<&str> = STREAM_TYPES.iter().map(|(name, _)| *name).collect();
        assert_eq!(
            names,
            [
                "organisation",
                "person",
                "consultation",
                "action",
                "token",
                "user"
            ]
        );
    }
}
