//! The event serialisation contract shared by all aggregates: a stable event
//! type name, a schema version and a JSON payload (the event's data without
//! its type tag), plus the generic helpers that implement it with serde's
//! adjacently tagged enums (`{"type": ..., "data": {...}}`).

use serde::de::value::MapDeserializer;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use super::error::DomainError;

/// What the event store needs from every aggregate's `Event` enum. Each
/// `Event` also has the same functions as inherent methods, so callers do not
/// need this trait in scope; it exists for generic store code.
pub trait DomainEvent: Sized {
    /// The stream type of the aggregate, e.g. `consultation`.
    const STREAM_TYPE: &'static str;
    /// The schema version of every event type of this aggregate.
    const SCHEMA_VERSION: i32;
    /// Every event type name of this aggregate.
    const EVENT_TYPES: &'static [&'static str];

    /// The stable PascalCase name of this event.
    fn event_type(&self) -> &'static str;
    /// The schema version of this event's payload.
    fn schema_version(&self) -> i32 {
        Self::SCHEMA_VERSION
    }
    /// The event's data as a JSON object, without the type tag.
    fn to_payload(&self) -> Value;
    /// Rebuilds an event from its type name and payload.
    fn from_payload(event_type: &str, payload: &Value) -> Result<Self, DomainError>;
}

/// The `data` half of an adjacently tagged event, always a JSON object.
pub(crate) fn payload_of<E: Serialize>(event: &E) -> Value {
    match serde_json::to_value(event) {
        Ok(Value::Object(mut tagged)) => match tagged.remove("data") {
            Some(data @ Value::Object(_)) => data,
            _ => Value::Object(Map::new()),
        },
        // Unreachable for our events: they hold only string-keyed data whose
        // serialisation cannot fail; an empty object keeps the signature total.
        _ => Value::Object(Map::new()),
    }
}

/// Rebuilds an adjacently tagged event from its type and payload. The tag is handed to serde
/// before the data, so serde decodes the data straight into the variant instead of buffering it
/// first (what it must do when `data` comes first, as in a sorted JSON object).
pub(crate) fn event_from_payload<E: DeserializeOwned>(
    stream_type: &str,
    known: &[&str],
    event_type: &str,
    payload: &Value,
) -> Result<E, DomainError> {
    if !known.contains(&event_type) {
        return Err(DomainError::UnknownEventType {
            stream_type: stream_type.to_string(),
            event_type: event_type.to_string(),
        });
    }
    if !payload.is_object() {
        return Err(DomainError::InvalidPayload {
            event_type: event_type.to_string(),
            message: "the payload must be a JSON object".to_string(),
        });
    }
    let tag = Value::String(event_type.to_string());
    // The deserializer also rejects entries left unread, as a JSON object's would.
    let tagged = MapDeserializer::new([("type", &tag), ("data", payload)].into_iter());
    E::deserialize(tagged).map_err(|error: serde_json::Error| DomainError::InvalidPayload {
        event_type: event_type.to_string(),
        message: error.to_string(),
    })
}

macro_rules! domain_events {
    ($stream:expr, [$($variant:ident),+ $(,)?]) => {
        impl Event {
            /// The schema version of every event of this stream.
            pub const SCHEMA_VERSION: i32 = 1;
            /// Every event type of this stream.
            pub const EVENT_TYPES: &'static [&'static str] = &[$(stringify!($variant)),+];

            /// The stable event type name.
            pub fn event_type(&self) -> &'static str {
                match self {
                    $(Event::$variant { .. } => stringify!($variant),)+
                }
            }

            /// The payload's schema version (1).
            pub fn schema_version(&self) -> i32 {
                Self::SCHEMA_VERSION
            }

            /// The event's data as a JSON object, without its type.
            pub fn to_payload(&self) -> serde_json::Value {
                $crate::domain::codec::payload_of(self)
            }

            /// Rebuilds an event from its type and payload.
            pub fn from_payload(
                event_type: &str,
                payload: &serde_json::Value,
            ) -> Result<Self, $crate::domain::DomainError> {
                $crate::domain::codec::event_from_payload($stream, Self::EVENT_TYPES, event_type, payload)
            }
        }

        impl $crate::domain::DomainEvent for Event {
            const STREAM_TYPE: &'static str = $stream;
            const SCHEMA_VERSION: i32 = Event::SCHEMA_VERSION;
            const EVENT_TYPES: &'static [&'static str] = Event::EVENT_TYPES;

            fn event_type(&self) -> &'static str {
                Event::event_type(self)
            }
            fn to_payload(&self) -> serde_json::Value {
                Event::to_payload(self)
            }
            fn from_payload(
                event_type: &str,
                payload: &serde_json::Value,
            ) -> Result<Self, $crate::domain::DomainError> {
                Event::from_payload(event_type, payload)
            }
        }
    };
}
pub(crate) use domain_events;

#[cfg(test)]
pub(crate) fn assert_round_trip<E>(event: &E)
where
    E: DomainEvent + PartialEq + std::fmt::Debug,
{
    let event_type = event.event_type();
    assert!(
        E::EVENT_TYPES.contains(&event_type),
        "{event_type} not listed"
    );
    assert_eq!(event.schema_version(), 1);
    let payload = event.to_payload();
    assert!(payload.is_object(), "{event_type} payload is not an object");
    assert!(
        payload.get("type").is_none(),
        "{event_type} payload kept its tag"
    );
    // Through text too, as the store will keep it.
    let text = payload.to_string();
    let parsed: Value = serde_json::from_str(&text).expect("payload is valid JSON");
    let back = E::from_payload(event_type, &parsed).expect("payload decodes");
    assert_eq!(&back, event);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(tag = "type", content = "data")]
    enum Sample {
        Happened { n: u8 },
        Empty {},
    }

    #[test]
    fn payload_is_the_data_object() {
        assert_eq!(
            payload_of(&Sample::Happened { n: 3 }),
            serde_json::json!({"n": 3})
        );
        assert_eq!(payload_of(&Sample::Empty {}), serde_json::json!({}));
    }

    #[test]
    fn unknown_type_and_bad_payload_are_errors() {
        let known = ["Happened", "Empty"];
        let unknown: Result<Sample, _> =
            event_from_payload("sample", &known, "Nope", &serde_json::json!({}));
        assert_eq!(
            unknown,
            Err(DomainError::UnknownEventType {
                stream_type: "sample".into(),
                event_type: "Nope".into()
            })
        );
        let not_object: Result<Sample, _> =
            event_from_payload("sample", &known, "Happened", &serde_json::json!(3));
        assert_eq!(not_object.map_err(|e| e.code()), Err("INVALID_PAYLOAD"));
        let wrong_field: Result<Sample, _> =
            event_from_payload("sample", &known, "Happened", &serde_json::json!({"n": "x"}));
        assert_eq!(wrong_field.map_err(|e| e.code()), Err("INVALID_PAYLOAD"));
        let ok: Result<Sample, _> =
            event_from_payload("sample", &known, "Happened", &serde_json::json!({"n": 1}));
        assert_eq!(ok, Ok(Sample::Happened { n: 1 }));
    }
}
