//! The organisation stream (Popolo `Organization`): ministries, directorates,
//! councils, federations, companies... with their multilingual name, kind,
//! parent organisation and region, and the history of their renamings.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::common::{
    check_inference, check_optional_str, check_reason, reject, Inference, PartialDate, Text,
    CODE_MAX, SHORT_TEXT_MAX,
};
use super::error::{DomainError, Rule};
use super::region::RegionCode;

/// The stream type of organisation streams.
pub const STREAM_TYPE: &str = "organisation";

/// What kind of body an organisation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrganisationKind {
    /// A ministry (وزارة).
    Ministry,
    /// A ministry delegate (وزارة منتدبة).
    MinistryDelegate,
    /// A secretariat of state (كتابة الدولة).
    SecretariatOfState,
    /// A central directorate (مديرية).
    Directorate,
    /// A regional directorate (مديرية جهوية).
    RegionalDirectorate,
    /// A wilaya (ولاية).
    Wilaya,
    /// A prefecture (عمالة).
    Prefecture,
    /// A province (إقليم).
    Province,
    /// A regional council (مجلس الجهة).
    RegionalCouncil,
    /// A chamber (of commerce, crafts...).
    Chamber,
    /// A professional federation.
    Federation,
    /// A confederation, e.g. CGEM.
    Confederation,
    /// A public agency.
    Agency,
    /// A public office, e.g. ONCF.
    PublicOffice,
    /// Another public institution.
    PublicInstitution,
    /// A company.
    Company,
    /// A university.
    University,
    /// A foundation.
    Foundation,
    /// An international organisation, e.g. UNIDO.
    InternationalOrganisation,
    /// A competitiveness and innovation cluster.
    CompetitivenessCluster,
    /// A consultancy or study office.
    Consultancy,
    /// A standards body, e.g. IMANOR.
    StandardsBody,
    /// A technical centre, e.g. a CTI.
    TechnicalCentre,
    /// An association or network.
    Association,
    /// A cooperative.
    Cooperative,
    /// Anything else.
    Other,
}

/// A name an organisation used to have, kept when it is renamed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormerName {
    /// The former name.
    pub name: Text,
    /// The former acronym.
    pub acronym: Option<String>,
    /// When the new name took effect, if known.
    pub until: Option<PartialDate>,
}

/// A registered organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organisation {
    /// Its stream id.
    pub id: Uuid,
    /// Its current name.
    pub name: Text,
    /// Its current acronym, e.g. `CGEM`.
    pub acronym: Option<String>,
    /// What kind of body it is.
    pub kind: OrganisationKind,
    /// The organisation it belongs to, if any.
    pub parent_id: Option<Uuid>,
    /// The region it serves, if regional.
    pub region: Option<RegionCode>,
    /// Its former names, oldest first.
    pub former_names: Vec<FormerName>,
    /// Set when its current name is not written in the sources but rebuilt, with how.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_inferred: Option<Inference>,
    /// Set when its current acronym is not written in the sources, with where it comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acronym_inferred: Option<Inference>,
}

/// The organisation as rebuilt from its events; `Default` is "not yet registered".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// The organisation, once registered.
    pub organisation: Option<Organisation>,
    /// How many events have been applied.
    pub version: u64,
}

/// Registers a new organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterOrganisation {
    /// The new stream's id, chosen by the caller.
    pub organisation_id: Uuid,
    /// Its name.
    pub name: Text,
    /// Its acronym, if any.
    #[serde(default)]
    pub acronym: Option<String>,
    /// What kind of body it is.
    pub kind: OrganisationKind,
    /// The organisation it belongs to, if any.
    #[serde(default)]
    pub parent_id: Option<Uuid>,
    /// The region it serves, if regional.
    #[serde(default)]
    pub region: Option<RegionCode>,
    /// Set when the name is not written in the sources but rebuilt, with how.
    #[serde(default)]
    pub name_inferred: Option<Inference>,
    /// Set when the acronym is not written in the sources, with where it comes from.
    #[serde(default)]
    pub acronym_inferred: Option<Inference>,
}

/// Records that an organisation changed its name (the old one is kept).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenameOrganisation {
    /// The organisation's stream id.
    pub organisation_id: Uuid,
    /// The new name.
    pub name: Text,
    /// The new acronym, if any.
    #[serde(default)]
    pub acronym: Option<String>,
    /// When the new name took effect, if known.
    #[serde(default)]
    pub effective: Option<PartialDate>,
    /// Why (e.g. "government reshuffle of October 2021").
    pub reason: String,
}

/// Corrects details that were recorded wrongly (no history kept but the event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorrectOrganisationDetails {
    /// The organisation's stream id.
    pub organisation_id: Uuid,
    /// The corrected name.
    pub name: Text,
    /// The corrected acronym.
    #[serde(default)]
    pub acronym: Option<String>,
    /// The corrected kind.
    pub kind: OrganisationKind,
    /// The corrected region.
    #[serde(default)]
    pub region: Option<RegionCode>,
    /// Set when the corrected name is not written in the sources but rebuilt, with how.
    #[serde(default)]
    pub name_inferred: Option<Inference>,
    /// Set when the corrected acronym is not written in the sources, with where it comes from.
    #[serde(default)]
    pub acronym_inferred: Option<Inference>,
    /// Why the correction is needed.
    pub reason: String,
}

/// Moves an organisation under another parent (or none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeOrganisationParent {
    /// The organisation's stream id.
    pub organisation_id: Uuid,
    /// The new parent, or `None` for a top-level body.
    #[serde(default)]
    pub parent_id: Option<Uuid>,
    /// Why.
    pub reason: String,
}

/// Everything that can be asked of an organisation stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Command {
    /// See [`RegisterOrganisation`].
    RegisterOrganisation(RegisterOrganisation),
    /// See [`RenameOrganisation`].
    RenameOrganisation(RenameOrganisation),
    /// See [`CorrectOrganisationDetails`].
    CorrectOrganisationDetails(CorrectOrganisationDetails),
    /// See [`ChangeOrganisationParent`].
    ChangeOrganisationParent(ChangeOrganisationParent),
}

impl Command {
    /// The id of the stream this command is for.
    pub fn stream_id(&self) -> Uuid {
        match self {
            Command::RegisterOrganisation(c) => c.organisation_id,
            Command::RenameOrganisation(c) => c.organisation_id,
            Command::CorrectOrganisationDetails(c) => c.organisation_id,
            Command::ChangeOrganisationParent(c) => c.organisation_id,
        }
    }
}

/// Everything that can happen to an organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum Event {
    /// The organisation was registered.
    OrganisationRegistered {
        /// Its stream id.
        organisation_id: Uuid,
        /// Its name.
        name: Text,
        /// Its acronym.
        acronym: Option<String>,
        /// Its kind.
        kind: OrganisationKind,
        /// Its parent.
        parent_id: Option<Uuid>,
        /// Its region.
        region: Option<RegionCode>,
        /// Set when the name was rebuilt, not written in the sources.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name_inferred: Option<Inference>,
        /// Set when the acronym is not written in the sources.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        acronym_inferred: Option<Inference>,
    },
    /// The organisation changed its name; the old one became a former name.
    OrganisationRenamed {
        /// The new name.
        name: Text,
        /// The new acronym.
        acronym: Option<String>,
        /// When it took effect, if known.
        effective: Option<PartialDate>,
        /// Why.
        reason: String,
    },
    /// Wrongly recorded details were corrected.
    OrganisationDetailsCorrected {
        /// The corrected name.
        name: Text,
        /// The corrected acronym.
        acronym: Option<String>,
        /// The corrected kind.
        kind: OrganisationKind,
        /// The corrected region.
        region: Option<RegionCode>,
        /// Set when the corrected name was rebuilt, not written in the sources.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name_inferred: Option<Inference>,
        /// Set when the corrected acronym is not written in the sources.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        acronym_inferred: Option<Inference>,
        /// Why.
        reason: String,
    },
    /// The organisation was moved under another parent.
    OrganisationParentChanged {
        /// The previous parent.
        from: Option<Uuid>,
        /// The new parent.
        to: Option<Uuid>,
        /// Why.
        reason: String,
    },
}

super::codec::domain_events!(
    STREAM_TYPE,
    [
        OrganisationRegistered,
        OrganisationRenamed,
        OrganisationDetailsCorrected,
        OrganisationParentChanged,
    ]
);

/// Decides which events a command produces, or why it is rejected.
pub fn decide(state: &State, command: Command) -> Result<Vec<Event>, DomainError> {
    match command {
        Command::RegisterOrganisation(c) => register(state, c),
        Command::RenameOrganisation(c) => rename(state, c),
        Command::CorrectOrganisationDetails(c) => correct(state, c),
        Command::ChangeOrganisationParent(c) => change_parent(state, c),
    }
}

fn existing(state: &State, id: Uuid) -> Result<&Organisation, DomainError> {
    match &state.organisation {
        None => reject("organisation_id", Rule::NotCreated),
        Some(organisation) if organisation.id != id => reject(
            "organisation_id",
            Rule::UnknownReference {
                what: "organisation".into(),
            },
        ),
        Some(organisation) => Ok(organisation),
    }
}

fn check_details(
    name: &Text,
    acronym: &Option<String>,
    region: &Option<RegionCode>,
    inferred: [&Option<Inference>; 2],
) -> Result<(), DomainError> {
    name.validate("name", SHORT_TEXT_MAX)?;
    check_optional_str("acronym", acronym, CODE_MAX)?;
    if let Some(region) = region {
        region.validate("region")?;
    }
    check_inference("name_inferred", inferred[0])?;
    check_inference("acronym_inferred", inferred[1])
}

fn register(state: &State, c: RegisterOrganisation) -> Result<Vec<Event>, DomainError> {
    if state.organisation.is_some() {
        return reject("organisation_id", Rule::AlreadyExists);
    }
    check_details(
        &c.name,
        &c.acronym,
        &c.region,
        [&c.name_inferred, &c.acronym_inferred],
    )?;
    if c.parent_id == Some(c.organisation_id) {
        return reject("parent_id", Rule::SelfReference);
    }
    Ok(vec![Event::OrganisationRegistered {
        organisation_id: c.organisation_id,
        name: c.name,
        acronym: c.acronym,
        kind: c.kind,
        parent_id: c.parent_id,
        region: c.region,
        name_inferred: c.name_inferred,
        acronym_inferred: c.acronym_inferred,
    }])
}

fn rename(state: &State, c: RenameOrganisation) -> Result<Vec<Event>, DomainError> {
    let organisation = existing(state, c.organisation_id)?;
    c.name.validate("name", SHORT_TEXT_MAX)?;
    check_optional_str("acronym", &c.acronym, CODE_MAX)?;
    if let Some(effective) = &c.effective {
        effective.validate("effective")?;
    }
    check_reason("reason", &c.reason)?;
    // Same name and acronym: nothing happened (idempotent).
    if organisation.name == c.name && organisation.acronym == c.acronym {
        return Ok(vec![]);
    }
    Ok(vec![Event::OrganisationRenamed {
        name: c.name,
        acronym: c.acronym,
        effective: c.effective,
        reason: c.reason,
    }])
}

fn correct(state: &State, c: CorrectOrganisationDetails) -> Result<Vec<Event>, DomainError> {
    let organisation = existing(state, c.organisation_id)?;
    check_details(
        &c.name,
        &c.acronym,
        &c.region,
        [&c.name_inferred, &c.acronym_inferred],
    )?;
    check_reason("reason", &c.reason)?;
    let unchanged = organisation.name == c.name
        && organisation.acronym == c.acronym
        && organisation.kind == c.kind
        && organisation.region == c.region
        && organisation.name_inferred == c.name_inferred
        && organisation.acronym_inferred == c.acronym_inferred;
    if unchanged {
        return Ok(vec![]);
    }
    Ok(vec![Event::OrganisationDetailsCorrected {
        name: c.name,
        acronym: c.acronym,
        kind: c.kind,
        region: c.region,
        name_inferred: c.name_inferred,
        acronym_inferred: c.acronym_inferred,
        reason: c.reason,
    }])
}

fn change_parent(state: &State, c: ChangeOrganisationParent) -> Result<Vec<Event>, DomainError> {
    let organisation = existing(state, c.organisation_id)?;
    if c.parent_id == Some(c.organisation_id) {
        return reject("parent_id", Rule::SelfReference);
    }
    check_reason("reason", &c.reason)?;
    if organisation.parent_id == c.parent_id {
        return Ok(vec![]);
    }
    Ok(vec![Event::OrganisationParentChanged {
        from: organisation.parent_id,
        to: c.parent_id,
        reason: c.reason,
    }])
}

/// Applies one event to the state. Never fails: events were validated when
/// decided; an event that cannot apply (e.g. before registration) is skipped.
pub fn apply(mut state: State, event: &Event) -> State {
    state.version += 1;
    match event {
        Event::OrganisationRegistered {
            organisation_id,
            name,
            acronym,
            kind,
            parent_id,
            region,
            name_inferred,
            acronym_inferred,
        } => {
            // A replayed registration keeps former names already known.
            let former_names = state
                .organisation
                .take()
                .map(|o| o.former_names)
                .unwrap_or_default();
            state.organisation = Some(Organisation {
                id: *organisation_id,
                name: name.clone(),
                acronym: acronym.clone(),
                kind: *kind,
                parent_id: *parent_id,
                region: region.clone(),
                former_names,
                name_inferred: name_inferred.clone(),
                acronym_inferred: acronym_inferred.clone(),
            });
        }
        Event::OrganisationRenamed {
            name,
            acronym,
            effective,
            ..
        } => {
            if let Some(organisation) = state.organisation.as_mut() {
                organisation.former_names.push(FormerName {
                    name: std::mem::replace(&mut organisation.name, name.clone()),
                    acronym: std::mem::replace(&mut organisation.acronym, acronym.clone()),
                    until: *effective,
                });
                // A new name is recorded as stated: what was inferred of the old one is not
                // carried over (correct the details to flag the new one).
                organisation.name_inferred = None;
                organisation.acronym_inferred = None;
            }
        }
        Event::OrganisationDetailsCorrected {
            name,
            acronym,
            kind,
            region,
            name_inferred,
            acronym_inferred,
            ..
        } => {
            if let Some(organisation) = state.organisation.as_mut() {
                organisation.name = name.clone();
                organisation.acronym = acronym.clone();
                organisation.kind = *kind;
                organisation.region = region.clone();
                organisation.name_inferred = name_inferred.clone();
                organisation.acronym_inferred = acronym_inferred.clone();
            }
        }
        Event::OrganisationParentChanged { to, .. } => {
            if let Some(organisation) = state.organisation.as_mut() {
                organisation.parent_id = *to;
            }
        }
    }
    state
}

/// Rebuilds the state from events, e.g. the first `n` events for the state "as of" version `n`.
pub fn fold<'a>(events: impl IntoIterator<Item = &'a Event>) -> State {
    events.into_iter().fold(State::default(), apply)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::codec::assert_round_trip;

    const ID: Uuid = Uuid::from_u128(0x0a);
    const PARENT: Uuid = Uuid::from_u128(0x0b);

    fn given(events: &[Event]) -> State {
        fold(events)
    }

    fn rejected(field: &str, rule: Rule) -> Result<Vec<Event>, DomainError> {
        Err(DomainError::validation(field, rule))
    }

    fn register() -> RegisterOrganisation {
        RegisterOrganisation {
            organisation_id: ID,
            name: Text::ar("وزارة الصناعة والتجارة")
                .with_fr("Ministère de l'Industrie et du Commerce"),
            acronym: Some("MIC".into()),
            kind: OrganisationKind::Ministry,
            parent_id: None,
            region: None,
            name_inferred: None,
            acronym_inferred: None,
        }
    }

    fn registered() -> Event {
        Event::OrganisationRegistered {
            organisation_id: ID,
            name: register().name,
            acronym: Some("MIC".into()),
            kind: OrganisationKind::Ministry,
            parent_id: None,
            region: None,
            name_inferred: None,
            acronym_inferred: None,
        }
    }

    fn rename() -> RenameOrganisation {
        RenameOrganisation {
            organisation_id: ID,
            name: Text::ar("وزارة الصناعة والاستثمار والتجارة والاقتصاد الرقمي"),
            acronym: None,
            effective: Some(PartialDate::month(2021, 10)),
            reason: "government reshuffle".into(),
        }
    }

    fn correct() -> CorrectOrganisationDetails {
        CorrectOrganisationDetails {
            organisation_id: ID,
            name: register().name,
            acronym: Some("MIC".into()),
            kind: OrganisationKind::Ministry,
            region: Some(RegionCode::new("MA-04")),
            reason: "seat is in Rabat".into(),
            name_inferred: None,
            acronym_inferred: None,
        }
    }

    fn change_parent() -> ChangeOrganisationParent {
        ChangeOrganisationParent {
            organisation_id: ID,
            parent_id: Some(PARENT),
            reason: "attached to the ministry".into(),
        }
    }

    #[test]
    fn register_happy_path() {
        let state = given(&[]);
        let events = decide(&state, Command::RegisterOrganisation(register()));
        assert_eq!(events, Ok(vec![registered()]));
    }

    #[test]
    fn register_with_parent_and_region() {
        let command = RegisterOrganisation {
            kind: OrganisationKind::RegionalDirectorate,
            parent_id: Some(PARENT),
            region: Some(RegionCode::new("MA-03")),
            ..register()
        };
        let events = decide(&given(&[]), Command::RegisterOrganisation(command));
        assert!(matches!(
            events.as_deref(),
            Ok([Event::OrganisationRegistered {
                parent_id: Some(PARENT),
                ..
            }])
        ));
    }

    #[test]
    fn register_twice_is_rejected() {
        let state = given(&[registered()]);
        let result = decide(&state, Command::RegisterOrganisation(register()));
        assert_eq!(result, rejected("organisation_id", Rule::AlreadyExists));
    }

    #[test]
    fn register_rejects_empty_name() {
        let command = RegisterOrganisation {
            name: Text::default(),
            ..register()
        };
        let result = decide(&given(&[]), Command::RegisterOrganisation(command));
        assert_eq!(result, rejected("name", Rule::Required));
    }

    #[test]
    fn register_rejects_too_long_name() {
        let command = RegisterOrganisation {
            name: Text::en("x".repeat(SHORT_TEXT_MAX + 1)),
            ..register()
        };
        let result = decide(&given(&[]), Command::RegisterOrganisation(command));
        assert_eq!(
            result,
            rejected(
                "name.en",
                Rule::TooLong {
                    max: SHORT_TEXT_MAX
                }
            )
        );
    }

    #[test]
    fn register_rejects_blank_or_long_acronym() {
        let blank = RegisterOrganisation {
            acronym: Some(" ".into()),
            ..register()
        };
        assert_eq!(
            decide(&given(&[]), Command::RegisterOrganisation(blank)),
            rejected("acronym", Rule::Required)
        );
        let long = RegisterOrganisation {
            acronym: Some("A".repeat(CODE_MAX + 1)),
            ..register()
        };
        assert_eq!(
            decide(&given(&[]), Command::RegisterOrganisation(long)),
            rejected("acronym", Rule::TooLong { max: CODE_MAX })
        );
    }

    #[test]
    fn register_rejects_unknown_region() {
        let command = RegisterOrganisation {
            region: Some(RegionCode::new("MA-99")),
            ..register()
        };
        let result = decide(&given(&[]), Command::RegisterOrganisation(command));
        assert_eq!(
            result,
            rejected(
                "region",
                Rule::UnknownRegion {
                    code: "MA-99".into()
                }
            )
        );
    }

    #[test]
    fn register_rejects_itself_as_parent() {
        let command = RegisterOrganisation {
            parent_id: Some(ID),
            ..register()
        };
        let result = decide(&given(&[]), Command::RegisterOrganisation(command));
        assert_eq!(result, rejected("parent_id", Rule::SelfReference));
    }

    #[test]
    fn rename_keeps_the_former_name() {
        let state = given(&[registered()]);
        let events = decide(&state, Command::RenameOrganisation(rename()));
        let expected = Event::OrganisationRenamed {
            name: rename().name,
            acronym: None,
            effective: Some(PartialDate::month(2021, 10)),
            reason: "government reshuffle".into(),
        };
        assert_eq!(events, Ok(vec![expected.clone()]));
        let after = apply(state, &expected);
        let organisation = after.organisation.unwrap();
        assert_eq!(organisation.name, rename().name);
        assert_eq!(organisation.former_names.len(), 1);
        assert_eq!(organisation.former_names[0].name, register().name);
        assert_eq!(organisation.former_names[0].acronym.as_deref(), Some("MIC"));
    }

    #[test]
    fn rename_to_the_same_name_changes_nothing() {
        let state = given(&[registered()]);
        let command = RenameOrganisation {
            name: register().name,
            acronym: Some("MIC".into()),
            ..rename()
        };
        assert_eq!(
            decide(&state, Command::RenameOrganisation(command)),
            Ok(vec![])
        );
    }

    #[test]
    fn rename_before_registration_is_rejected() {
        let result = decide(&given(&[]), Command::RenameOrganisation(rename()));
        assert_eq!(result, rejected("organisation_id", Rule::NotCreated));
    }

    #[test]
    fn rename_of_another_stream_is_rejected() {
        let command = RenameOrganisation {
            organisation_id: PARENT,
            ..rename()
        };
        let result = decide(
            &given(&[registered()]),
            Command::RenameOrganisation(command),
        );
        assert_eq!(
            result,
            rejected(
                "organisation_id",
                Rule::UnknownReference {
                    what: "organisation".into()
                }
            )
        );
    }

    #[test]
    fn rename_requires_a_reason() {
        let command = RenameOrganisation {
            reason: "  ".into(),
            ..rename()
        };
        let result = decide(
            &given(&[registered()]),
            Command::RenameOrganisation(command),
        );
        assert_eq!(result, rejected("reason", Rule::ReasonRequired));
    }

    #[test]
    fn rename_rejects_invalid_effective_date_and_empty_name() {
        let command = RenameOrganisation {
            effective: Some(PartialDate::month(2021, 13)),
            ..rename()
        };
        let result = decide(
            &given(&[registered()]),
            Command::RenameOrganisation(command),
        );
        assert_eq!(
            result,
            rejected("effective.month", Rule::OutOfRange { min: 1, max: 12 })
        );
        let command = RenameOrganisation {
            name: Text::default(),
            ..rename()
        };
        let result = decide(
            &given(&[registered()]),
            Command::RenameOrganisation(command),
        );
        assert_eq!(result, rejected("name", Rule::Required));
    }

    #[test]
    fn correct_details_happy_path() {
        let state = given(&[registered()]);
        let events = decide(&state, Command::CorrectOrganisationDetails(correct()));
        let expected = Event::OrganisationDetailsCorrected {
            name: register().name,
            acronym: Some("MIC".into()),
            kind: OrganisationKind::Ministry,
            region: Some(RegionCode::new("MA-04")),
            reason: "seat is in Rabat".into(),
            name_inferred: None,
            acronym_inferred: None,
        };
        assert_eq!(events, Ok(vec![expected.clone()]));
        let after = apply(state, &expected);
        assert_eq!(
            after.organisation.and_then(|o| o.region),
            Some(RegionCode::new("MA-04"))
        );
    }

    #[test]
    fn correct_details_requires_reason_and_valid_region() {
        let state = given(&[registered()]);
        let command = CorrectOrganisationDetails {
            reason: String::new(),
            ..correct()
        };
        assert_eq!(
            decide(&state, Command::CorrectOrganisationDetails(command)),
            rejected("reason", Rule::ReasonRequired)
        );
        let command = CorrectOrganisationDetails {
            region: Some(RegionCode::new("Fès")),
            ..correct()
        };
        assert_eq!(
            decide(&state, Command::CorrectOrganisationDetails(command)),
            rejected(
                "region",
                Rule::UnknownRegion {
                    code: "Fès".into()
                }
            )
        );
    }

    #[test]
    fn correct_details_without_change_produces_nothing() {
        let state = given(&[registered()]);
        let command = CorrectOrganisationDetails {
            region: None,
            ..correct()
        };
        assert_eq!(
            decide(&state, Command::CorrectOrganisationDetails(command)),
            Ok(vec![])
        );
    }

    #[test]
    fn correct_details_before_registration_is_rejected() {
        assert_eq!(
            decide(&given(&[]), Command::CorrectOrganisationDetails(correct())),
            rejected("organisation_id", Rule::NotCreated)
        );
    }

    #[test]
    fn change_parent_happy_path() {
        let state = given(&[registered()]);
        let events = decide(&state, Command::ChangeOrganisationParent(change_parent()));
        let expected = Event::OrganisationParentChanged {
            from: None,
            to: Some(PARENT),
            reason: "attached to the ministry".into(),
        };
        assert_eq!(events, Ok(vec![expected.clone()]));
        let after = apply(state, &expected);
        assert_eq!(after.organisation.and_then(|o| o.parent_id), Some(PARENT));
    }

    #[test]
    fn change_parent_rejects_itself_and_needs_reason() {
        let state = given(&[registered()]);
        let command = ChangeOrganisationParent {
            parent_id: Some(ID),
            ..change_parent()
        };
        assert_eq!(
            decide(&state, Command::ChangeOrganisationParent(command)),
            rejected("parent_id", Rule::SelfReference)
        );
        let command = ChangeOrganisationParent {
            reason: "\t".into(),
            ..change_parent()
        };
        assert_eq!(
            decide(&state, Command::ChangeOrganisationParent(command)),
            rejected("reason", Rule::ReasonRequired)
        );
    }

    #[test]
    fn change_parent_to_the_same_parent_produces_nothing() {
        let state = given(&[registered()]);
        let command = ChangeOrganisationParent {
            parent_id: None,
            ..change_parent()
        };
        assert_eq!(
            decide(&state, Command::ChangeOrganisationParent(command)),
            Ok(vec![])
        );
        assert_eq!(
            decide(
                &given(&[]),
                Command::ChangeOrganisationParent(change_parent())
            ),
            rejected("organisation_id", Rule::NotCreated)
        );
    }

    #[test]
    fn apply_tolerates_events_before_registration_and_counts_versions() {
        let orphan = Event::OrganisationParentChanged {
            from: None,
            to: Some(PARENT),
            reason: "r".into(),
        };
        let state = given(&[orphan.clone(), registered(), registered()]);
        assert_eq!(state.version, 3);
        assert_eq!(state.organisation.map(|o| o.parent_id), Some(None));
        // "As of" version 1: only the orphan event, nothing registered.
        let events = [orphan, registered()];
        assert_eq!(fold(&events[..1]).organisation, None);
    }

    #[test]
    fn every_event_round_trips() {
        let events = [
            registered(),
            Event::OrganisationRenamed {
                name: rename().name,
                acronym: Some("MIICEN".into()),
                effective: Some(PartialDate::year(2021)),
                reason: "r".into(),
            },
            Event::OrganisationDetailsCorrected {
                name: Text::fr("IMANOR"),
                acronym: None,
                kind: OrganisationKind::StandardsBody,
                region: Some(RegionCode::new("MA-04")),
                reason: "r".into(),
                name_inferred: None,
                acronym_inferred: None,
            },
            Event::OrganisationParentChanged {
                from: Some(PARENT),
                to: None,
                reason: "r".into(),
            },
        ];
        assert_eq!(events.len(), Event::EVENT_TYPES.len());
        for event in &events {
            assert_round_trip(event);
        }
        assert_eq!(
            Event::from_payload("PersonRegistered", &serde_json::json!({})).map_err(|e| e.code()),
            Err("UNKNOWN_EVENT_TYPE")
        );
    }

    #[test]
    fn commands_deserialise_from_snake_case_tags() {
        let json = serde_json::json!({
            "type": "register_organisation",
            "organisation_id": "00000000-0000-0000-0000-00000000000a",
            "name": {"ar": "الاتحاد العام لمقاولات المغرب", "fr": "Confédération Générale des Entreprises du Maroc"},
            "acronym": "CGEM",
            "kind": "confederation"
        });
        let command: Command = serde_json::from_value(json).unwrap();
        assert_eq!(command.stream_id(), ID);
        let text = serde_json::to_string(&command).unwrap();
        assert_eq!(serde_json::from_str::<Command>(&text).unwrap(), command);
    }
}

#[cfg(test)]
mod inference_tests {
    use super::*;

    fn register(acronym_inferred: Option<Inference>) -> Command {
        Command::RegisterOrganisation(RegisterOrganisation {
            organisation_id: uuid::Uuid::from_u128(1),
            name: Text::ar("وزارة الصناعة والاستثمار والتجارة والاقتصاد الرقمي"),
            acronym: Some("MIICEN".into()),
            kind: OrganisationKind::Ministry,
            parent_id: None,
            region: None,
            name_inferred: Some(Inference::new("rebuilt from the minister's title")),
            acronym_inferred,
        })
    }

    #[test]
    fn inferred_names_and_acronyms_are_kept_and_a_rename_states_the_new_name() {
        let events = decide(
            &State::default(),
            register(Some(Inference::new("not in the text"))),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let state = fold(&events);
        let organisation = state.organisation.clone().expect("registered");
        assert!(organisation.name_inferred.is_some());
        assert!(organisation.acronym_inferred.is_some());
        let rename = Command::RenameOrganisation(RenameOrganisation {
            organisation_id: uuid::Uuid::from_u128(1),
            name: Text::ar("وزارة الصناعة والتجارة"),
            acronym: None,
            effective: None,
            reason: "reshuffle".into(),
        });
        let renamed = decide(&state, rename).unwrap_or_else(|e| panic!("{e}"));
        let after = renamed.iter().fold(state, apply);
        let organisation = after.organisation.expect("registered");
        assert_eq!(organisation.name_inferred, None);
        assert_eq!(organisation.acronym_inferred, None);
    }

    #[test]
    fn a_blank_inference_note_is_refused_by_its_field() {
        let error = decide(
            &State::default(),
            register(Some(Inference::new("\u{200f} "))),
        )
        .expect_err("a blank note");
        assert_eq!(
            (error.field(), error.code()),
            ("acronym_inferred.note", "REQUIRED")
        );
    }

    #[test]
    fn an_organisation_registered_before_inferences_decodes_as_stated() {
        let payload = serde_json::json!({"organisation_id": uuid::Uuid::from_u128(1),
            "name": {"fr": "CGEM"}, "acronym": "CGEM", "kind": "confederation",
            "parent_id": null, "region": null});
        let event = Event::from_payload("OrganisationRegistered", &payload)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(event.to_payload(), payload, "re-encoded unchanged");
        let organisation = fold([&event]).organisation.expect("registered");
        assert_eq!(organisation.name_inferred, None);
        assert_eq!(organisation.acronym_inferred, None);
    }
}
