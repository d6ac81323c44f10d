//! The user stream: people who sign in, their role and regions, and whether they may.
//!
//! A user's creation, role changes and disabling are events, so who could act when is part of the
//! auditable history. The password is not: an append-only log would keep every old hash forever,
//! so hashes live in the `credentials` table beside the log (see `crate::accounts`). This module
//! only checks a password's length ([`check_password`]), which is pure.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::common::{check_optional_str, reject, SHORT_TEXT_MAX};
use super::error::{DomainError, Rule};
use super::region::RegionCode;
use super::token::{check_role_regions, Role};

/// The stream type of user streams.
pub const STREAM_TYPE: &str = "user";

/// The shortest accepted username, in characters.
pub const USERNAME_MIN: usize = 3;
/// The longest accepted username, in characters.
pub const USERNAME_MAX: usize = 64;
/// The shortest accepted password, in characters.
pub const PASSWORD_MIN: usize = 12;
/// The longest accepted password, in characters: long passphrases are welcome, but not megabytes
/// handed to the hasher.
pub const PASSWORD_MAX: usize = 1_024;

/// Checks a username: 3 to 64 characters of `a-z`, `0-9`, `.`, `_` and `-` (lowercase only, so
/// that two spellings of one name cannot be two users).
pub fn check_username(field: &str, username: &str) -> Result<(), DomainError> {
    let length = username.chars().count();
    if length > USERNAME_MAX {
        return reject(field, Rule::TooLong { max: USERNAME_MAX });
    }
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || ".-_".contains(c);
    if length < USERNAME_MIN || !username.chars().all(allowed) {
        return reject(
            field,
            Rule::InvalidFormat {
                expected: "3 to 64 characters of a-z, 0-9, '.', '_' and '-'".into(),
            },
        );
    }
    Ok(())
}

/// Checks a password's length: at least [`PASSWORD_MIN`] and at most [`PASSWORD_MAX`] characters.
/// Any character is allowed; nothing else is demanded of it.
pub fn check_password(field: &str, password: &str) -> Result<(), DomainError> {
    let length = password.chars().count();
    if length > PASSWORD_MAX {
        return reject(field, Rule::TooLong { max: PASSWORD_MAX });
    }
    if length < PASSWORD_MIN {
        return reject(
            field,
            Rule::InvalidFormat {
                expected: format!("at least {PASSWORD_MIN} characters"),
            },
        );
    }
    Ok(())
}

/// A user as its stream defines it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Its id.
    pub id: Uuid,
    /// The name it signs in with (unique, lowercase).
    pub username: String,
    /// The name shown to others, when given.
    #[serde(default)]
    pub display_name: Option<String>,
    /// What it may do.
    pub role: Role,
    /// For editors: the regions it may write.
    #[serde(default)]
    pub regions: Vec<RegionCode>,
    /// Whether it was disabled (it may not sign in).
    #[serde(default)]
    pub disabled: bool,
}

/// A user stream's state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// The user, once created.
    pub user: Option<User>,
    /// How many events have been applied.
    pub version: u64,
}

/// Creates a user. Whether the username is free is checked by the caller against the read
/// model (the domain sees one stream only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// The new stream's id.
    pub user_id: Uuid,
    /// The name it signs in with.
    pub username: String,
    /// The name shown to others.
    #[serde(default)]
    pub display_name: Option<String>,
    /// What it may do.
    pub role: Role,
    /// For editors: the regions it may write (at least one).
    #[serde(default)]
    pub regions: Vec<RegionCode>,
}

/// Gives a user another role (and regions).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeUserRole {
    /// The user.
    pub user_id: Uuid,
    /// Its new role.
    pub role: Role,
    /// For editors: the regions it may write (at least one).
    #[serde(default)]
    pub regions: Vec<RegionCode>,
}

/// Disables a user: it may no longer sign in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisableUser {
    /// The user.
    pub user_id: Uuid,
}

/// Enables a disabled user again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnableUser {
    /// The user.
    pub user_id: Uuid,
}

/// Everything that can be asked of a user stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Command {
    /// See [`CreateUser`].
    CreateUser(CreateUser),
    /// See [`ChangeUserRole`].
    ChangeUserRole(ChangeUserRole),
    /// See [`DisableUser`].
    DisableUser(DisableUser),
    /// See [`EnableUser`].
    EnableUser(EnableUser),
}

impl Command {
    /// The id of the stream this command is for.
    pub fn stream_id(&self) -> Uuid {
        match self {
            Command::CreateUser(c) => c.user_id,
            Command::ChangeUserRole(c) => c.user_id,
            Command::DisableUser(c) => c.user_id,
            Command::EnableUser(c) => c.user_id,
        }
    }
}

/// Everything that can happen to a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum Event {
    /// The user was created (never with its password: see the module's documentation).
    UserCreated {
        /// The user.
        user: User,
    },
    /// The user's role (and regions) changed.
    UserRoleChanged {
        /// Its new role.
        role: Role,
        /// For editors, its regions.
        #[serde(default)]
        regions: Vec<RegionCode>,
    },
    /// The user was disabled.
    UserDisabled {},
    /// The user was enabled again.
    UserEnabled {},
}

super::codec::domain_events!(
    STREAM_TYPE,
    [UserCreated, UserRoleChanged, UserDisabled, UserEnabled,]
);

/// Decides which events a command produces, or why it is rejected.
pub fn decide(state: &State, command: Command) -> Result<Vec<Event>, DomainError> {
    match command {
        Command::CreateUser(c) => {
            if state.user.is_some() {
                return reject("user_id", Rule::AlreadyExists);
            }
            check_username("username", &c.username)?;
            check_optional_str("display_name", &c.display_name, SHORT_TEXT_MAX)?;
            check_role_regions(c.role, &c.regions)?;
            Ok(vec![Event::UserCreated {
                user: User {
                    id: c.user_id,
                    username: c.username,
                    display_name: c.display_name,
                    role: c.role,
                    regions: c.regions,
                    disabled: false,
                },
            }])
        }
        Command::ChangeUserRole(c) => {
            let user = created(state)?;
            check_role_regions(c.role, &c.regions)?;
            if user.role == c.role && user.regions == c.regions {
                return Ok(vec![]);
            }
            Ok(vec![Event::UserRoleChanged {
                role: c.role,
                regions: c.regions,
            }])
        }
        Command::DisableUser(_) => Ok(match created(state)?.disabled {
            true => vec![],
            false => vec![Event::UserDisabled {}],
        }),
        Command::EnableUser(_) => Ok(match created(state)?.disabled {
            true => vec![Event::UserEnabled {}],
            false => vec![],
        }),
    }
}

fn created(state: &State) -> Result<&User, DomainError> {
    match &state.user {
        Some(user) => Ok(user),
        None => reject("user_id", Rule::NotCreated),
    }
}

/// Applies an event to the state.
pub fn apply(mut state: State, event: &Event) -> State {
    match (event, &mut state.user) {
        (Event::UserCreated { user }, _) => state.user = Some(user.clone()),
        (Event::UserRoleChanged { role, regions }, Some(user)) => {
            user.role = *role;
            user.regions = regions.clone();
        }
        (Event::UserDisabled {}, Some(user)) => user.disabled = true,
        (Event::UserEnabled {}, Some(user)) => user.disabled = false,
        (_, None) => {}
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

    fn create(username: &str, role: Role, regions: &[&str]) -> Command {
        Command::CreateUser(CreateUser {
            user_id: Uuid::nil(),
            username: username.into(),
            display_name: Some("Salma Bennani".into()),
            role,
            regions: regions.iter().map(|r| RegionCode::new(*r)).collect(),
        })
    }

    fn given(events: &[Event]) -> State {
        fold(events)
    }

    fn refused(state: &State, command: Command) -> (String, &'static str) {
        let error = decide(state, command).unwrap_err();
        (error.field().to_owned(), error.code())
    }

    fn id() -> Uuid {
        Uuid::nil()
    }

    #[test]
    fn given_nothing_when_an_editor_is_created_then_it_holds_its_regions_and_is_enabled() {
        let events = decide(&given(&[]), create("s.bennani", Role::Editor, &["MA-03"])).unwrap();
        let user = given(&events).user.unwrap();
        assert_eq!(
            (
                user.username.as_str(),
                user.role,
                user.regions.len(),
                user.disabled
            ),
            ("s.bennani", Role::Editor, 1, false)
        );
    }

    #[test]
    fn given_nothing_when_the_username_is_malformed_then_it_is_named() {
        for bad in ["ab", "Salma", "salma bennani", "salma@fes", "sálma", ""] {
            assert_eq!(
                refused(&given(&[]), create(bad, Role::Viewer, &[])),
                ("username".into(), "INVALID_FORMAT"),
                "{bad:?}"
            );
        }
        let long = "a".repeat(USERNAME_MAX + 1);
        assert_eq!(
            refused(&given(&[]), create(&long, Role::Viewer, &[])),
            ("username".into(), "TOO_LONG")
        );
        for good in ["abc", "s.bennani", "dr_fes-2", &"a".repeat(USERNAME_MAX)] {
            assert!(
                decide(&given(&[]), create(good, Role::Viewer, &[])).is_ok(),
                "{good}"
            );
        }
    }

    #[test]
    fn given_nothing_when_regions_do_not_fit_the_role_then_they_are_refused_as_for_tokens() {
        assert_eq!(
            refused(&given(&[]), create("salma", Role::Editor, &[])),
            ("regions".into(), "REQUIRED")
        );
        assert_eq!(
            refused(&given(&[]), create("salma", Role::Auditor, &["MA-03"])).0,
            "regions"
        );
        assert_eq!(
            refused(&given(&[]), create("salma", Role::Editor, &["MA-99"])),
            ("regions[0]".into(), "UNKNOWN_REGION")
        );
    }

    #[test]
    fn given_a_user_when_it_is_created_again_then_it_already_exists() {
        let created = decide(&given(&[]), create("salma", Role::Admin, &[])).unwrap();
        assert_eq!(
            refused(&given(&created), create("salma", Role::Admin, &[])),
            ("user_id".into(), "ALREADY_EXISTS")
        );
    }

    #[test]
    fn given_a_viewer_when_it_becomes_an_editor_then_it_needs_regions_and_changes_once() {
        let created = decide(&given(&[]), create("salma", Role::Viewer, &[])).unwrap();
        let change = |role, regions: &[&str]| {
            Command::ChangeUserRole(ChangeUserRole {
                user_id: id(),
                role,
                regions: regions.iter().map(|r| RegionCode::new(*r)).collect(),
            })
        };
        assert_eq!(
            refused(&given(&created), change(Role::Editor, &[])),
            ("regions".into(), "REQUIRED")
        );
        let changed = decide(&given(&created), change(Role::Editor, &["MA-03"])).unwrap();
        let all: Vec<Event> = created.into_iter().chain(changed).collect();
        let state = given(&all);
        let user = state.user.clone().unwrap();
        assert_eq!((user.role, user.regions.len()), (Role::Editor, 1));
        assert!(decide(&state, change(Role::Editor, &["MA-03"]))
            .unwrap()
            .is_empty());
        assert_eq!(
            refused(&given(&[]), change(Role::Viewer, &[])),
            ("user_id".into(), "NOT_CREATED")
        );
    }

    #[test]
    fn given_a_user_when_it_is_disabled_and_enabled_then_each_happens_once() {
        let disable = Command::DisableUser(DisableUser { user_id: id() });
        let enable = Command::EnableUser(EnableUser { user_id: id() });
        let created = decide(&given(&[]), create("salma", Role::Viewer, &[])).unwrap();
        assert!(decide(&given(&created), enable.clone()).unwrap().is_empty());
        let disabled = decide(&given(&created), disable.clone()).unwrap();
        assert_eq!(disabled, vec![Event::UserDisabled {}]);
        let mut all: Vec<Event> = created.into_iter().chain(disabled).collect();
        assert!(given(&all).user.unwrap().disabled);
        assert!(decide(&given(&all), disable.clone()).unwrap().is_empty());
        all.extend(decide(&given(&all), enable).unwrap());
        assert!(!given(&all).user.unwrap().disabled);
        assert_eq!(
            refused(&given(&[]), disable),
            ("user_id".into(), "NOT_CREATED")
        );
    }

    #[test]
    fn passwords_are_12_to_1024_characters_of_anything() {
        assert_eq!(
            check_password("password", "short pass!")
                .unwrap_err()
                .code(),
            "INVALID_FORMAT"
        );
        assert_eq!(
            check_password("password", "").unwrap_err().field(),
            "password"
        );
        assert!(check_password("password", "twelve chars").is_ok());
        // Characters, not bytes: twelve Arabic letters are 24 bytes and enough.
        assert!(check_password("password", &"ب".repeat(12)).is_ok());
        assert!(check_password("password", &"ب".repeat(11)).is_err());
        assert!(check_password("password", &"x".repeat(PASSWORD_MAX)).is_ok());
        assert_eq!(
            check_password("password", &"x".repeat(PASSWORD_MAX + 1))
                .unwrap_err()
                .code(),
            "TOO_LONG"
        );
    }

    #[test]
    fn every_event_round_trips_through_its_payload_and_holds_no_password() {
        for event in decide(&given(&[]), create("salma", Role::Editor, &["MA-03"]))
            .unwrap()
            .into_iter()
            .chain([
                Event::UserRoleChanged {
                    role: Role::Viewer,
                    regions: vec![],
                },
                Event::UserDisabled {},
                Event::UserEnabled {},
            ])
        {
            let payload = event.to_payload();
            assert!(!payload.to_string().contains("password"), "{payload}");
            let back = Event::from_payload(event.event_type(), &payload).unwrap();
            assert_eq!(back, event);
        }
    }
}
