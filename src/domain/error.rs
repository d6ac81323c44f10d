//! The one error type of the domain layer: every rejected command names the
//! field at fault and the rule it broke, and every undecodable stored event
//! says which event type and why.

use std::fmt;

use serde::Serialize;

use super::common::Weekday;

/// A business rule that a command (or a stored event) can break.
///
/// Each rule has a stable SCREAMING_SNAKE code (see [`Rule::code`]) and an
/// English predicate that reads after "Field `x` ..." (see its `Display`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "rule", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Rule {
    /// A value is missing, empty or blank.
    Required,
    /// A string is longer than `max` characters (Unicode scalar values).
    TooLong {
        /// The longest accepted length, in characters.
        max: usize,
    },
    /// A string holds a control character: a C0 control other than tab, line
    /// feed and carriage return, or DEL (PostgreSQL cannot store NUL at all).
    ControlCharacter {
        /// The first one found, as `U+0000`.
        found: String,
    },
    /// A number is outside the inclusive range `min..=max`.
    OutOfRange {
        /// The smallest accepted value.
        min: i64,
        /// The largest accepted value.
        max: i64,
    },
    /// An end (date or time) is certainly before its start.
    EndBeforeStart,
    /// A new value is certainly earlier than the value it follows
    /// (a progress report before the last one, a deadline moved earlier).
    BeforePrevious,
    /// A reference points at something that does not exist.
    UnknownReference {
        /// What kind of thing was looked for, e.g. `participant`.
        what: String,
    },
    /// The same entry is given twice, or already exists.
    Duplicate,
    /// Something refers to itself where that makes no sense.
    SelfReference,
    /// A lifecycle or workflow step that the current status does not allow.
    InvalidTransition {
        /// The current status.
        from: String,
        /// The requested status.
        to: String,
    },
    /// The consultation is closed: what happened in the meeting is final.
    ConsultationClosed,
    /// The consultation is cancelled: nothing can be recorded on it.
    ConsultationCancelled,
    /// The consultation is closed: attendance can no longer change.
    AttendanceFrozen,
    /// Attendance (attended/absent) can only be recorded once the
    /// consultation has been held.
    NotHeldYet,
    /// The stream has not been created yet.
    NotCreated,
    /// The stream was already created.
    AlreadyExists,
    /// Not one of Morocco's 12 region codes.
    UnknownRegion {
        /// The code that was given.
        code: String,
    },
    /// Not an ISO 4217 code of three uppercase letters.
    InvalidCurrency {
        /// The code that was given.
        code: String,
    },
    /// An amount of money is below zero.
    NegativeAmount,
    /// An amount of money has more decimal places than its currency's minor unit
    /// (ISO 4217: 2 for MAD, 0 for JPY, 3 for TND); trailing zeros do not count.
    TooManyDecimals {
        /// The most decimal places the currency allows.
        max: u32,
    },
    /// This change must say why (non-blank reason).
    ReasonRequired,
    /// The day does not exist in that month (and year, when known).
    InvalidDate,
    /// A weekday was given that does not match the full date.
    WeekdayMismatch {
        /// The weekday that the full date actually falls on.
        actual: Weekday,
    },
    /// A day of the month was given without its month.
    DayWithoutMonth,
    /// A value does not have the expected shape.
    InvalidFormat {
        /// A short description of the expected shape.
        expected: String,
    },
    /// An action can only be done once its progress is 100.
    DoneRequiresFullProgress,
    /// The action is done or cancelled: only reopening (with a reason) is
    /// allowed.
    ActionFinished {
        /// The action's current status.
        status: String,
    },
    /// The post has already ended.
    AlreadyEnded,
    /// A recommendation cannot be merged into one that is itself merged.
    MergeIntoMerged,
}

impl Rule {
    /// The stable SCREAMING_SNAKE code of this rule, for APIs and logs.
    pub fn code(&self) -> &'static str {
        match self {
            Rule::Required => "REQUIRED",
            Rule::TooLong { .. } => "TOO_LONG",
            Rule::ControlCharacter { .. } => "CONTROL_CHARACTER",
            Rule::OutOfRange { .. } => "OUT_OF_RANGE",
            Rule::EndBeforeStart => "END_BEFORE_START",
            Rule::BeforePrevious => "BEFORE_PREVIOUS",
            Rule::UnknownReference { .. } => "UNKNOWN_REFERENCE",
            Rule::Duplicate => "DUPLICATE",
            Rule::SelfReference => "SELF_REFERENCE",
            Rule::InvalidTransition { .. } => "INVALID_TRANSITION",
            Rule::ConsultationClosed => "CONSULTATION_CLOSED",
            Rule::ConsultationCancelled => "CONSULTATION_CANCELLED",
            Rule::AttendanceFrozen => "ATTENDANCE_FROZEN",
            Rule::NotHeldYet => "NOT_HELD_YET",
            Rule::NotCreated => "NOT_CREATED",
            Rule::AlreadyExists => "ALREADY_EXISTS",
            Rule::UnknownRegion { .. } => "UNKNOWN_REGION",
            Rule::InvalidCurrency { .. } => "INVALID_CURRENCY",
            Rule::NegativeAmount => "NEGATIVE_AMOUNT",
            Rule::TooManyDecimals { .. } => "TOO_MANY_DECIMALS",
            Rule::ReasonRequired => "REASON_REQUIRED",
            Rule::InvalidDate => "INVALID_DATE",
            Rule::WeekdayMismatch { .. } => "WEEKDAY_MISMATCH",
            Rule::DayWithoutMonth => "DAY_WITHOUT_MONTH",
            Rule::InvalidFormat { .. } => "INVALID_FORMAT",
            Rule::DoneRequiresFullProgress => "DONE_REQUIRES_FULL_PROGRESS",
            Rule::ActionFinished { .. } => "ACTION_FINISHED",
            Rule::AlreadyEnded => "ALREADY_ENDED",
            Rule::MergeIntoMerged => "MERGE_INTO_MERGED",
        }
    }
}

impl fmt::Display for Rule {
    /// A predicate that completes the sentence "Field `x` ...".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rule::Required => write!(f, "is required and must not be blank"),
            Rule::TooLong { max } => write!(f, "must be at most {max} characters long"),
            Rule::ControlCharacter { found } => write!(
                f,
                "must not hold the control character {found} (only tab, line feed and carriage return are allowed)"
            ),
            Rule::OutOfRange { min, max } => write!(f, "must be between {min} and {max}"),
            Rule::EndBeforeStart => write!(f, "must not be before the start"),
            Rule::BeforePrevious => write!(f, "must not be before the previous value"),
            Rule::UnknownReference { what } => write!(f, "does not refer to a known {what}"),
            Rule::Duplicate => write!(f, "duplicates an entry that already exists"),
            Rule::SelfReference => write!(f, "must not refer to itself"),
            Rule::InvalidTransition { from, to } => {
                write!(f, "cannot change from `{from}` to `{to}`")
            }
            Rule::ConsultationClosed => {
                write!(f, "cannot be recorded because the consultation is closed")
            }
            Rule::ConsultationCancelled => {
                write!(
                    f,
                    "cannot be recorded because the consultation is cancelled"
                )
            }
            Rule::AttendanceFrozen => write!(
                f,
                "cannot change because attendance is frozen once the consultation is closed"
            ),
            Rule::NotHeldYet => write!(
                f,
                "can only be attended or absent once the consultation has been held"
            ),
            Rule::NotCreated => write!(f, "refers to something that has not been created yet"),
            Rule::AlreadyExists => write!(f, "refers to something that already exists"),
            Rule::UnknownRegion { code } => {
                write!(f, "must be one of Morocco's 12 region codes, not `{code}`")
            }
            Rule::InvalidCurrency { code } => write!(
                f,
                "must be an ISO 4217 code of three uppercase letters, not `{code}`"
            ),
            Rule::NegativeAmount => write!(f, "must not be negative"),
            Rule::TooManyDecimals { max } => {
                write!(f, "must have at most {max} decimal places for its currency")
            }
            Rule::ReasonRequired => write!(f, "must give a non-blank reason for this change"),
            Rule::InvalidDate => write!(f, "is not a day that exists in that month"),
            Rule::WeekdayMismatch { actual } => {
                write!(f, "does not match the full date, which is a {actual}")
            }
            Rule::DayWithoutMonth => write!(f, "cannot be given without a month"),
            Rule::InvalidFormat { expected } => write!(f, "must be {expected}"),
            Rule::DoneRequiresFullProgress => {
                write!(f, "must be 100 before the action can be done")
            }
            Rule::ActionFinished { status } => write!(
                f,
                "cannot change because the action is {status}; reopen it with a reason first"
            ),
            Rule::AlreadyEnded => write!(f, "has already ended"),
            Rule::MergeIntoMerged => write!(
                f,
                "must name a recommendation that is not itself merged into another"
            ),
        }
    }
}

/// Every failure of the domain layer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// A command broke a business rule on one field.
    #[error("Field `{field}` {rule}.")]
    Validation {
        /// The path of the field at fault, e.g. `parties[2].organisation_id`.
        field: String,
        /// The rule it broke.
        rule: Rule,
    },
    /// A stored event has a type that this stream type does not know.
    #[error("Event type `{event_type}` is not known for {stream_type} streams.")]
    UnknownEventType {
        /// The stream type asked, e.g. `consultation`.
        stream_type: String,
        /// The unknown event type.
        event_type: String,
    },
    /// A stored event's payload does not match its event type.
    #[error("The payload of a `{event_type}` event cannot be decoded: {message}.")]
    InvalidPayload {
        /// The event type whose payload failed.
        event_type: String,
        /// What the decoder said.
        message: String,
    },
}

impl DomainError {
    /// Shorthand for a [`DomainError::Validation`].
    pub fn validation(field: impl Into<String>, rule: Rule) -> Self {
        DomainError::Validation {
            field: field.into(),
            rule,
        }
    }

    /// The field at fault (`event_type` or `payload` for decoding errors).
    pub fn field(&self) -> &str {
        match self {
            DomainError::Validation { field, .. } => field,
            DomainError::UnknownEventType { .. } => "event_type",
            DomainError::InvalidPayload { .. } => "payload",
        }
    }

    /// The stable SCREAMING_SNAKE code of the failure.
    pub fn code(&self) -> &'static str {
        match self {
            DomainError::Validation { rule, .. } => rule.code(),
            DomainError::UnknownEventType { .. } => "UNKNOWN_EVENT_TYPE",
            DomainError::InvalidPayload { .. } => "INVALID_PAYLOAD",
        }
    }

    /// The rule broken, for validation failures.
    pub fn rule(&self) -> Option<&Rule> {
        match self {
            DomainError::Validation { rule, .. } => Some(rule),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_error_names_field_rule_and_reads_as_a_sentence() {
        // given a validation failure
        let error = DomainError::validation("participants[2].organisation_id", Rule::Duplicate);
        // then its parts are reachable and its message is a sentence
        assert_eq!(error.field(), "participants[2].organisation_id");
        assert_eq!(error.code(), "DUPLICATE");
        assert_eq!(error.rule(), Some(&Rule::Duplicate));
        assert_eq!(
            error.to_string(),
            "Field `participants[2].organisation_id` duplicates an entry that already exists."
        );
    }

    #[test]
    fn rule_messages_include_their_parameters() {
        let error = DomainError::validation(
            "status",
            Rule::InvalidTransition {
                from: "planned".into(),
                to: "closed".into(),
            },
        );
        assert_eq!(
            error.to_string(),
            "Field `status` cannot change from `planned` to `closed`."
        );
        assert_eq!(
            Rule::OutOfRange { min: 0, max: 100 }.to_string(),
            "must be between 0 and 100"
        );
        assert_eq!(
            Rule::WeekdayMismatch {
                actual: Weekday::Thursday
            }
            .to_string(),
            "does not match the full date, which is a Thursday"
        );
    }

    #[test]
    fn decoding_errors_have_field_and_code() {
        let unknown = DomainError::UnknownEventType {
            stream_type: "person".into(),
            event_type: "Nope".into(),
        };
        assert_eq!(unknown.field(), "event_type");
        assert_eq!(unknown.code(), "UNKNOWN_EVENT_TYPE");
        assert_eq!(unknown.rule(), None);
        let invalid = DomainError::InvalidPayload {
            event_type: "PersonRegistered".into(),
            message: "missing field".into(),
        };
        assert_eq!(invalid.field(), "payload");
        assert_eq!(invalid.code(), "INVALID_PAYLOAD");
    }

    #[test]
    fn every_rule_code_is_screaming_snake_and_unique() {
        let rules = vec![
            Rule::Required,
            Rule::TooLong { max: 1 },
            Rule::ControlCharacter {
                found: "U+0000".into(),
            },
            Rule::OutOfRange { min: 0, max: 1 },
            Rule::EndBeforeStart,
            Rule::BeforePrevious,
            Rule::UnknownReference { what: "x".into() },
            Rule::Duplicate,
            Rule::SelfReference,
            Rule::InvalidTransition {
                from: "a".into(),
                to: "b".into(),
            },
            Rule::ConsultationClosed,
            Rule::ConsultationCancelled,
            Rule::AttendanceFrozen,
            Rule::NotHeldYet,
            Rule::NotCreated,
            Rule::AlreadyExists,
            Rule::UnknownRegion { code: "x".into() },
            Rule::InvalidCurrency { code: "x".into() },
            Rule::NegativeAmount,
            Rule::TooManyDecimals { max: 2 },
            Rule::ReasonRequired,
            Rule::InvalidDate,
            Rule::WeekdayMismatch {
                actual: Weekday::Monday,
            },
            Rule::DayWithoutMonth,
            Rule::InvalidFormat {
                expected: "x".into(),
            },
            Rule::DoneRequiresFullProgress,
            Rule::ActionFinished {
                status: "done".into(),
            },
            Rule::AlreadyEnded,
            Rule::MergeIntoMerged,
        ];
        let mut codes: Vec<&str> = rules.iter().map(Rule::code).collect();
        for code in &codes {
            assert!(code.chars().all(|c| c.is_ascii_uppercase() || c == '_'));
        }
        // The serde tag must agree with code() so APIs see the same string.
        for rule in &rules {
            let json = serde_json::to_value(rule).unwrap_or_default();
            assert_eq!(json["rule"], rule.code());
            assert!(!rule.to_string().is_empty());
        }
        let before = codes.len();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), before);
    }
}
