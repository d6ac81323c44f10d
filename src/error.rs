//! The boundary error: what any failure becomes when it reaches a client, with a stable code.
//!
//! Codes: `VALIDATION` (with `field` and `rule`), `NOT_FOUND`, `CONFLICT` (with `expected` and
//! `actual` versions), `UNAUTHENTICATED`, `FORBIDDEN`, `LIMIT_EXCEEDED`, `UNAVAILABLE` (with
//! `retryAfter`, in seconds), `INTERNAL`. Internal
//! failures are logged here, once, with their detail; the client gets only a reference to the
//! log line, never SQL, paths or stack traces.

use async_graphql::ErrorExtensions;
use uuid::Uuid;

use crate::commands::CommandError;
use crate::domain::DomainError;
use crate::store::{ExpectedVersion, StoreError};

/// The stable error codes clients see in `extensions.code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// Bad input: `field` and `rule` say what and why.
    Validation,
    /// The thing asked for does not exist.
    NotFound,
    /// The stream moved on: `expected` and `actual` versions.
    Conflict,
    /// No valid credentials.
    Unauthenticated,
    /// Credentials valid, permission missing.
    Forbidden,
    /// A limit (size, depth, complexity, page, rate, time) was exceeded.
    LimitExceeded,
    /// The answer is being prepared: ask again after `retryAfter` seconds.
    Unavailable,
    /// Our fault; details are in the server log under `reference`.
    Internal,
}

impl Code {
    /// The code as clients see it.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Validation => "VALIDATION",
            Code::NotFound => "NOT_FOUND",
            Code::Conflict => "CONFLICT",
            Code::Unauthenticated => "UNAUTHENTICATED",
            Code::Forbidden => "FORBIDDEN",
            Code::LimitExceeded => "LIMIT_EXCEEDED",
            Code::Unavailable => "UNAVAILABLE",
            Code::Internal => "INTERNAL",
        }
    }
}

/// An error on its way to a client. It deliberately has no `Display`: async-graphql turns any
/// displayable error into a code-less error, so this one must go through [`ErrorExtensions`].
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The stable code.
    pub code: Code,
    /// A sentence for people.
    pub message: String,
    /// The offending field, for `VALIDATION`.
    pub field: Option<String>,
    /// The broken rule's code, for `VALIDATION`.
    pub rule: Option<String>,
    /// Expected and actual versions, for `CONFLICT`.
    pub versions: Option<(Option<i64>, i64)>,
    /// When to ask again, in seconds, for `UNAVAILABLE`.
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with a code and a message.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            field: None,
            rule: None,
            versions: None,
            retry_after: None,
        }
    }

    /// A validation error on `field` breaking `rule`.
    pub fn validation(
        field: impl Into<String>,
        rule: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        ApiError {
            field: Some(field.into()),
            rule: Some(rule.into()),
            ..ApiError::new(Code::Validation, message)
        }
    }

    /// An internal failure: logged once here with its detail; the client sees a reference.
    pub fn internal(detail: &dyn std::fmt::Display) -> Self {
        let reference = Uuid::new_v4();
        tracing::error!(%reference, error = %detail, "internal error");
        ApiError::new(
            Code::Internal,
            format!("internal error (reference {reference})"),
        )
    }
}

impl ApiError {
    /// This error as a request-level GraphQL error: no `locations`, since it points at no place
    /// in the document (GraphQL locations start at line 1; a `0:0` would be a false one).
    pub fn into_server_error(self) -> async_graphql::ServerError {
        let mut error = self.extend().into_server_error(Default::default());
        error.locations.clear();
        error
    }
}

impl From<DomainError> for ApiError {
    fn from(error: DomainError) -> Self {
        match &error {
            DomainError::Validation { .. } => {
                ApiError::validation(error.field(), error.code(), error.to_string())
            }
            // Decoding errors come from stored events, never from input.
            _ => ApiError::internal(&error),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match &error {
            StoreError::Conflict {
                expected, actual, ..
            } => ApiError {
                versions: Some((
                    match expected {
                        ExpectedVersion::Exact(v) => Some(*v),
                        ExpectedVersion::NoStream => Some(0),
                        ExpectedVersion::Any => None,
                    },
                    *actual,
                )),
                ..ApiError::new(Code::Conflict, error.to_string())
            },
            StoreError::IdempotencyMismatch { .. } => ApiError::validation(
                "idempotencyKey",
                "IDEMPOTENCY_KEY_REUSED",
                error.to_string(),
            ),
            StoreError::Validation { field, rule } => {
                ApiError::validation(field.clone(), "INVALID", rule.clone())
            }
            _ => ApiError::internal(&error),
        }
    }
}

impl From<CommandError> for ApiError {
    fn from(error: CommandError) -> Self {
        match error {
            CommandError::Domain(e) => e.into(),
            CommandError::Store(e) => e.into(),
        }
    }
}

impl ErrorExtensions for ApiError {
    fn extend(&self) -> async_graphql::Error {
        async_graphql::Error::new(self.message.clone()).extend_with(|_, ext| {
            ext.set("code", self.code.as_str());
            if let Some(field) = &self.field {
                ext.set("field", field.as_str());
            }
            if let Some(rule) = &self.rule {
                ext.set("rule", rule.as_str());
            }
            if let Some((expected, actual)) = &self.versions {
                // Both numbers ("no stream yet" is version 0); null only for "any version",
                // which never conflicts.
                match expected {
                    Some(expected) => ext.set("expected", *expected),
                    None => ext.set("expected", async_graphql::Value::Null),
                }
                ext.set("actual", *actual);
            }
            if let Some(seconds) = self.retry_after {
                ext.set("retryAfter", seconds);
            }
        })
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(error: ApiError) -> Self {
        error.extend()
    }
}
