//! The token stream: API bearer tokens, their role and regions, and their revocation.
//!
//! Only a hash of the secret is ever recorded; the secret itself is shown once to whoever created
//! the token. Tokens are event-sourced like everything else, so who could act when is part of the
//! auditable history.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::common::{check_required_str, reject, SHORT_TEXT_MAX};
use super::error::{DomainError, Rule};
use super::region::RegionCode;

/// The stream type of token streams.
pub const STREAM_TYPE: &str = "token";

/// What a token's holder may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything.
    Admin,
    /// Writes consultations, stakeholders and follow-ups of its own regions; reads read models.
    Editor,
    /// Reads read models, without personal contact details.
    Viewer,
    /// Reads everything, the event log included; writes nothing.
    Auditor,
}

impl Role {
    /// The role's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Editor => "editor",
            Role::Viewer => "viewer",
            Role::Auditor => "auditor",
        }
    }

    /// Parses a role name.
    pub fn parse(field: &str, name: &str) -> Result<Role, DomainError> {
        match name {
            "admin" => Ok(Role::Admin),
            "editor" => Ok(Role::Editor),
            "viewer" => Ok(Role::Viewer),
            "auditor" => Ok(Role::Auditor),
            _ => reject(
                field,
                Rule::InvalidFormat {
                    expected: "one of admin, editor, viewer, auditor".into(),
                },
            ),
        }
    }
}

/// A token as its stream defines it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Token {
    /// Its id.
    pub id: Uuid,
    /// Who or what holds it.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// For editors: the regions it may write.
    pub regions: Vec<RegionCode>,
    /// Hex SHA-256 of the secret.
    pub secret_hash: String,
    /// Whether it was revoked.
    pub revoked: bool,
}

/// A token stream's state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// The token, once created.
    pub token: Option<Token>,
    /// How many events have been applied.
    pub version: u64,
}

/// Creates a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    /// The new stream's id.
    pub token_id: Uuid,
    /// Who or what holds it.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// For editors: the regions it may write (at least one).
    #[serde(default)]
    pub regions: Vec<RegionCode>,
    /// Hex SHA-256 of the secret.
    pub secret_hash: String,
}

/// Revokes a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeToken {
    /// The token.
    pub token_id: Uuid,
}

/// Everything that can be asked of a token stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Command {
    /// See [`CreateToken`].
    CreateToken(CreateToken),
    /// See [`RevokeToken`].
    RevokeToken(RevokeToken),
}

impl Command {
    /// The id of the stream this command is for.
    pub fn stream_id(&self) -> Uuid {
        match self {
            Command::CreateToken(c) => c.token_id,
            Command::RevokeToken(c) => c.token_id,
        }
    }
}

/// Everything that can happen to a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum Event {
    /// The token was created.
    TokenCreated {
        /// The token.
        token: Token,
    },
    /// The token was revoked; it no longer authenticates.
    TokenRevoked {},
}

super::codec::domain_events!(STREAM_TYPE, [TokenCreated, TokenRevoked,]);

/// Checks a role's regions, as tokens and users both hold them: each a known region code, at least
/// one for an editor, none for the other roles (they are not limited to regions).
pub fn check_role_regions(role: Role, regions: &[RegionCode]) -> Result<(), DomainError> {
    for (i, region) in regions.iter().enumerate() {
        region.validate(&format!("regions[{i}]"))?;
    }
    match (role, regions.is_empty()) {
        (Role::Editor, true) => reject("regions", Rule::Required),
        (Role::Editor, false) | (_, true) => Ok(()),
        (_, false) => reject(
            "regions",
            Rule::InvalidFormat {
                expected: "empty: only editors are limited to regions".into(),
            },
        ),
    }
}

/// Decides which events a command produces, or why it is rejected.
pub fn decide(state: &State, command: Command) -> Result<Vec<Event>, DomainError> {
    match command {
        Command::CreateToken(c) => {
            if state.token.is_some() {
                return reject("token_id", Rule::AlreadyExists);
            }
            check_required_str("name", &c.name, SHORT_TEXT_MAX)?;
            let well_formed =
                c.secret_hash.len() == 64 && c.secret_hash.chars().all(|ch| ch.is_ascii_hexdigit());
            if !well_formed {
                return reject(
                    "secret_hash",
                    Rule::InvalidFormat {
                        expected: "a hex SHA-256 digest".into(),
                    },
                );
            }
            check_role_regions(c.role, &c.regions)?;
            Ok(vec![Event::TokenCreated {
                token: Token {
                    id: c.token_id,
                    name: c.name,
                    role: c.role,
                    regions: c.regions,
                    secret_hash: c.secret_hash.to_lowercase(),
                    revoked: false,
                },
            }])
        }
        Command::RevokeToken(_) => match &state.token {
            None => reject("token_id", Rule::NotCreated),
            Some(token) if token.revoked => Ok(vec![]),
            Some(_) => Ok(vec![Event::TokenRevoked {}]),
        },
    }
}

/// Applies an event to the state.
pub fn apply(mut state: State, event: &Event) -> State {
    match event {
        Event::TokenCreated { token } => state.token = Some(token.clone()),
        Event::TokenRevoked {} => {
            if let Some(token) = &mut state.token {
                token.revoked = true;
            }
        }
    }
    state.version += 1;
    state
}

/// Folds events into a state.
pub fn fold<'a>(events: impl IntoIterator<Item = &'a Event>) -> State {
    events.into_iter().fold(State::default(), apply)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8";

    fn create(role: Role, regions: &[&str]) -> Command {
        Command::CreateToken(CreateToken {
            token_id: Uuid::nil(),
            name: "Direction régionale de Fès".into(),
            role,
            regions: regions.iter().map(|r| RegionCode::new(*r)).collect(),
            secret_hash: HASH.into(),
        })
    }

    fn given(events: &[Event]) -> State {
        fold(events)
    }

    #[test]
    fn given_nothing_when_an_editor_token_is_created_then_it_holds_its_regions() {
        let events = decide(&given(&[]), create(Role::Editor, &["MA-03"])).unwrap();
        let state = given(&events);
        let token = state.token.unwrap();
        assert_eq!(
            (token.role, token.regions.len(), token.revoked),
            (Role::Editor, 1, false)
        );
    }

    #[test]
    fn given_nothing_when_an_editor_has_no_region_then_regions_are_required() {
        let error = decide(&given(&[]), create(Role::Editor, &[])).unwrap_err();
        assert_eq!((error.field(), error.code()), ("regions", "REQUIRED"));
    }

    #[test]
    fn given_nothing_when_a_viewer_has_regions_or_a_region_is_unknown_then_it_is_refused() {
        let error = decide(&given(&[]), create(Role::Viewer, &["MA-03"])).unwrap_err();
        assert_eq!(error.field(), "regions");
        let error = decide(&given(&[]), create(Role::Editor, &["MA-99"])).unwrap_err();
        assert_eq!(
            (error.field(), error.code()),
            ("regions[0]", "UNKNOWN_REGION")
        );
    }

    #[test]
    fn given_nothing_when_the_hash_or_name_is_malformed_then_the_field_is_named() {
        let mut command = create(Role::Admin, &[]);
        if let Command::CreateToken(c) = &mut command {
            c.secret_hash = "secret".into();
        }
        assert_eq!(
            decide(&given(&[]), command).unwrap_err().field(),
            "secret_hash"
        );
        let mut command = create(Role::Admin, &[]);
        if let Command::CreateToken(c) = &mut command {
            c.name = " ".into();
        }
        assert_eq!(decide(&given(&[]), command).unwrap_err().field(), "name");
    }

    #[test]
    fn given_a_token_when_it_is_revoked_then_it_is_revoked_once() {
        let created = decide(&given(&[]), create(Role::Admin, &[])).unwrap();
        let revoke = Command::RevokeToken(RevokeToken {
            token_id: Uuid::nil(),
        });
        let revoked = decide(&given(&created), revoke.clone()).unwrap();
        assert_eq!(revoked, vec![Event::TokenRevoked {}]);
        let all: Vec<Event> = created.into_iter().chain(revoked).collect();
        assert!(given(&all).token.unwrap().revoked);
        assert!(decide(&given(&all), revoke.clone()).unwrap().is_empty());
        assert_eq!(
            decide(&given(&[]), revoke).unwrap_err().code(),
            "NOT_CREATED"
        );
        let again = decide(&given(&all), create(Role::Admin, &[])).unwrap_err();
        assert_eq!(again.code(), "ALREADY_EXISTS");
    }

    #[test]
    fn every_event_round_trips_through_its_payload() {
        for event in decide(&given(&[]), create(Role::Auditor, &[]))
            .unwrap()
            .into_iter()
            .chain([Event::TokenRevoked {}])
        {
            let back = Event::from_payload(event.event_type(), &event.to_payload()).unwrap();
            assert_eq!(back, event);
        }
    }
}
