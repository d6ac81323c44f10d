//! The consultation stream, the heart of Shura: a meeting with stakeholders
//! (regional consultation, workshop, signing ceremony...) with its details,
//! lifecycle, participants, recommendations, agreements, key figures and
//! points raised.
//!
//! Lifecycle: planned -> held -> closed; planned|held -> cancelled (with a
//! reason). Rules on status:
//! - cancelled: nothing at all can be recorded;
//! - closed: attendance is frozen (no registration, role or attendance
//!   change) and no new meeting content can be added (recommendations,
//!   agreements, signatories, key figures, points, organisers); what happens
//!   after the meeting can still be recorded: recommendation decisions,
//!   agreement budget revisions, detail and text corrections (with reason),
//!   extra sources and context notes;
//! - planned: participants can be invited but only marked attended or
//!   absent once the consultation is held.

mod model;
#[cfg(test)]
mod tests;

pub use model::*;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::common::{
    check_inference, check_reason, check_slugs, check_texts, check_unique_ids, nth, reject,
    Contact, Inference, Money, Source, Text, LONG_TEXT_MAX, SHORT_TEXT_MAX,
};
use super::error::{DomainError, Rule};

/// The stream type of consultation streams.
pub const STREAM_TYPE: &str = "consultation";

/// The consultation as rebuilt from its events; `Default` is "not yet planned".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// The consultation, once planned.
    pub consultation: Option<Consultation>,
    /// How many events have been applied.
    pub version: u64,
}

/// Plans (creates) a consultation. Details are flattened: `title`, `kind`,
/// `schedule`... sit beside `consultation_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanConsultation {
    /// The new stream's id, chosen by the caller.
    pub consultation_id: Uuid,
    /// Its details.
    #[serde(flatten)]
    pub details: ConsultationDetails,
    /// The organising organisations.
    #[serde(default)]
    pub organisers: Vec<Uuid>,
    /// Where the facts come from.
    #[serde(default)]
    pub sources: Vec<Source>,
    /// Background notes.
    #[serde(default)]
    pub context_notes: Vec<Text>,
}

/// Replaces the details (corrections, rescheduling), with a reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviseConsultationDetails {
    /// The consultation.
    pub consultation_id: Uuid,
    /// The new details.
    #[serde(flatten)]
    pub details: ConsultationDetails,
    /// Why.
    pub reason: String,
}

/// Records that a planned consultation took place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarkConsultationHeld {
    /// The consultation.
    pub consultation_id: Uuid,
}

/// Closes the record of a held consultation (freezes attendance).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloseConsultation {
    /// The consultation.
    pub consultation_id: Uuid,
}

/// Calls off a planned or held consultation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancelConsultation {
    /// The consultation.
    pub consultation_id: Uuid,
    /// Why (required).
    pub reason: String,
}

/// Adds an organising organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddOrganiser {
    /// The consultation.
    pub consultation_id: Uuid,
    /// The organisation.
    pub organisation_id: Uuid,
}

/// Adds a source (another article covering it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddSource {
    /// The consultation.
    pub consultation_id: Uuid,
    /// The source.
    pub source: Source,
}

/// Adds a background note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddContextNote {
    /// The consultation.
    pub consultation_id: Uuid,
    /// The note.
    pub note: Text,
}

/// Registers a participant (invited by default).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterParticipant {
    /// The consultation.
    pub consultation_id: Uuid,
    /// The participant's id, chosen by the caller.
    pub participant_id: Uuid,
    /// The person, when named.
    #[serde(default)]
    pub person_id: Option<Uuid>,
    /// The organisation represented.
    #[serde(default)]
    pub organisation_id: Option<Uuid>,
    /// The capacity as stated.
    #[serde(default)]
    pub capacity: Option<Text>,
    /// The role in the meeting.
    pub role: ParticipantRole,
    /// Attendance (invited unless the consultation is held).
    #[serde(default)]
    pub attendance: Attendance,
    /// How to reach them (personal data).
    #[serde(default)]
    pub contact: Option<Contact>,
    /// Set when the sources do not state this participation but it was inferred, with why.
    #[serde(default)]
    pub inferred: Option<Inference>,
}

/// Changes a participant's role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeParticipantRole {
    /// The consultation.
    pub consultation_id: Uuid,
    /// The participant.
    pub participant_id: Uuid,
    /// The new role.
    pub role: ParticipantRole,
}

/// Changes (or, with none, removes) a participant's contact details, which are otherwise given
/// at registration only. Personal data: sealed in the log like the registration's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeParticipantContact {
    /// The consultation.
    pub consultation_id: Uuid,
    /// The participant.
    pub participant_id: Uuid,
    /// The new contact details; none removes them.
    #[serde(default)]
    pub contact: Option<Contact>,
}

/// Records whether a participant attended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordAttendance {
    /// The consultation.
    pub consultation_id: Uuid,
    /// The participant.
    pub participant_id: Uuid,
    /// The attendance.
    pub attendance: Attendance,
}

/// Records a recommendation made at the consultation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProposeRecommendation {
    /// The consultation.
    pub consultation_id: Uuid,
    /// The recommendation's id, chosen by the caller.
    pub recommendation_id: Uuid,
    /// What it says.
    pub text: Text,
    /// Theme slugs.
    #[serde(default)]
    pub themes: Vec<String>,
    /// The participant who made it.
    #[serde(default)]
    pub proposer: Option<Uuid>,
}

/// Decides on a proposed recommendation (accepted, rejected or merged).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeRecommendationStatus {
    /// The consultation.
    pub consultation_id: Uuid,
    /// The recommendation.
    pub recommendation_id: Uuid,
    /// The new status, e.g. `{status = "merged", into = "..."}`.
    pub to: RecommendationStatus,
    /// Why (required).
    pub reason: String,
}

/// Revises how a recommendation is worded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviseRecommendationText {
    /// The consultation.
    pub consultation_id: Uuid,
    /// The recommendation.
    pub recommendation_id: Uuid,
    /// The new text.
    pub text: Text,
    /// Why (required).
    pub reason: String,
}

/// Records an agreement; its fields are flattened beside `consultation_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordAgreement {
    /// The consultation.
    pub consultation_id: Uuid,
    /// The agreement.
    #[serde(flatten)]
    pub agreement: Agreement,
}

/// Adds a party (and its signatory) to a recorded agreement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddAgreementSignatory {
    /// The consultation.
    pub consultation_id: Uuid,
    /// The agreement.
    pub agreement_id: Uuid,
    /// The party.
    pub party: Party,
}

/// Revises an agreement's budget, with a reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviseAgreementBudget {
    /// The consultation.
    pub consultation_id: Uuid,
    /// The agreement.
    pub agreement_id: Uuid,
    /// The new budget.
    pub budget: Money,
    /// Why (required).
    pub reason: String,
}

/// Changes what an agreement covers (national, or one region), with a reason: a scope recorded
/// wrongly, or left out when the agreement was recorded, is corrected in the log, not rewritten.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeAgreementScope {
    /// The consultation.
    pub consultation_id: Uuid,
    /// The agreement.
    pub agreement_id: Uuid,
    /// What it covers now.
    pub scope: AgreementScope,
    /// Why (required).
    pub reason: String,
}

/// Records a key figure; its fields are flattened beside `consultation_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordKeyFigure {
    /// The consultation.
    pub consultation_id: Uuid,
    /// The figure.
    #[serde(flatten)]
    pub key_figure: KeyFigure,
}

/// Records a point raised; its fields are flattened beside `consultation_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RaisePoint {
    /// The consultation.
    pub consultation_id: Uuid,
    /// The point.
    #[serde(flatten)]
    pub point: Point,
}

/// Everything that can be asked of a consultation stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
// Commands are short-lived messages; boxing the large ones would only add noise.
#[allow(clippy::large_enum_variant)]
pub enum Command {
    /// See [`PlanConsultation`].
    PlanConsultation(PlanConsultation),
    /// See [`ReviseConsultationDetails`].
    ReviseConsultationDetails(ReviseConsultationDetails),
    /// See [`MarkConsultationHeld`].
    MarkConsultationHeld(MarkConsultationHeld),
    /// See [`CloseConsultation`].
    CloseConsultation(CloseConsultation),
    /// See [`CancelConsultation`].
    CancelConsultation(CancelConsultation),
    /// See [`AddOrganiser`].
    AddOrganiser(AddOrganiser),
    /// See [`AddSource`].
    AddSource(AddSource),
    /// See [`AddContextNote`].
    AddContextNote(AddContextNote),
    /// See [`RegisterParticipant`].
    RegisterParticipant(RegisterParticipant),
    /// See [`ChangeParticipantRole`].
    ChangeParticipantRole(ChangeParticipantRole),
    /// See [`RecordAttendance`].
    RecordAttendance(RecordAttendance),
    /// See [`ChangeParticipantContact`].
    ChangeParticipantContact(ChangeParticipantContact),
    /// See [`ProposeRecommendation`].
    ProposeRecommendation(ProposeRecommendation),
    /// See [`ChangeRecommendationStatus`].
    ChangeRecommendationStatus(ChangeRecommendationStatus),
    /// See [`ReviseRecommendationText`].
    ReviseRecommendationText(ReviseRecommendationText),
    /// See [`RecordAgreement`].
    RecordAgreement(RecordAgreement),
    /// See [`AddAgreementSignatory`].
    AddAgreementSignatory(AddAgreementSignatory),
    /// See [`ReviseAgreementBudget`].
    ReviseAgreementBudget(ReviseAgreementBudget),
    /// See [`ChangeAgreementScope`].
    ChangeAgreementScope(ChangeAgreementScope),
    /// See [`RecordKeyFigure`].
    RecordKeyFigure(RecordKeyFigure),
    /// See [`RaisePoint`].
    RaisePoint(RaisePoint),
}

impl Command {
    /// The id of the stream this command is for.
    pub fn stream_id(&self) -> Uuid {
        match self {
            Command::PlanConsultation(c) => c.consultation_id,
            Command::ReviseConsultationDetails(c) => c.consultation_id,
            Command::MarkConsultationHeld(c) => c.consultation_id,
            Command::CloseConsultation(c) => c.consultation_id,
            Command::CancelConsultation(c) => c.consultation_id,
            Command::AddOrganiser(c) => c.consultation_id,
            Command::AddSource(c) => c.consultation_id,
            Command::AddContextNote(c) => c.consultation_id,
            Command::RegisterParticipant(c) => c.consultation_id,
            Command::ChangeParticipantRole(c) => c.consultation_id,
            Command::RecordAttendance(c) => c.consultation_id,
            Command::ChangeParticipantContact(c) => c.consultation_id,
            Command::ProposeRecommendation(c) => c.consultation_id,
            Command::ChangeRecommendationStatus(c) => c.consultation_id,
            Command::ReviseRecommendationText(c) => c.consultation_id,
            Command::RecordAgreement(c) => c.consultation_id,
            Command::AddAgreementSignatory(c) => c.consultation_id,
            Command::ReviseAgreementBudget(c) => c.consultation_id,
            Command::ChangeAgreementScope(c) => c.consultation_id,
            Command::RecordKeyFigure(c) => c.consultation_id,
            Command::RaisePoint(c) => c.consultation_id,
        }
    }
}

/// Everything that can happen to a consultation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
// Events are moved once into the store; boxing the large ones would only add noise.
#[allow(clippy::large_enum_variant)]
pub enum Event {
    /// The consultation was planned (created).
    ConsultationPlanned {
        /// Its stream id.
        consultation_id: Uuid,
        /// Its details.
        details: ConsultationDetails,
        /// The organisers.
        organisers: Vec<Uuid>,
        /// The sources.
        sources: Vec<Source>,
        /// Background notes.
        context_notes: Vec<Text>,
    },
    /// Its details were replaced.
    ConsultationDetailsRevised {
        /// The new details.
        details: ConsultationDetails,
        /// Why.
        reason: String,
    },
    /// It took place.
    ConsultationHeld {},
    /// Its record was closed.
    ConsultationClosed {},
    /// It was called off.
    ConsultationCancelled {
        /// The status it was cancelled from.
        from: ConsultationStatus,
        /// Why.
        reason: String,
    },
    /// An organiser was added.
    OrganiserAdded {
        /// The organisation.
        organisation_id: Uuid,
    },
    /// A source was added.
    SourceAdded {
        /// The source.
        source: Source,
    },
    /// A context note was added.
    ContextNoteAdded {
        /// The note.
        note: Text,
    },
    /// A participant was registered.
    ParticipantRegistered {
        /// The participant.
        participant: Participant,
    },
    /// A participant's role changed.
    ParticipantRoleChanged {
        /// The participant.
        participant_id: Uuid,
        /// The previous role.
        from: ParticipantRole,
        /// The new role.
        to: ParticipantRole,
    },
    /// A participant's attendance was recorded.
    AttendanceRecorded {
        /// The participant.
        participant_id: Uuid,
        /// The previous attendance.
        from: Attendance,
        /// The new attendance.
        to: Attendance,
    },
    /// A participant's contact details changed (none: removed).
    ParticipantContactChanged {
        /// The participant.
        participant_id: Uuid,
        /// The person, when named: whose key seals the contact in the log.
        person_id: Option<Uuid>,
        /// The new contact details.
        contact: Option<Contact>,
    },
    /// A recommendation was made.
    RecommendationProposed {
        /// Its id.
        recommendation_id: Uuid,
        /// What it says.
        text: Text,
        /// Theme slugs.
        themes: Vec<String>,
        /// Who made it.
        proposer: Option<Uuid>,
    },
    /// A recommendation was decided on.
    RecommendationStatusChanged {
        /// The recommendation.
        recommendation_id: Uuid,
        /// The previous status.
        from: RecommendationStatus,
        /// The new status.
        to: RecommendationStatus,
        /// Why.
        reason: String,
    },
    /// A recommendation's wording was revised.
    RecommendationTextRevised {
        /// The recommendation.
        recommendation_id: Uuid,
        /// The new text.
        text: Text,
        /// Why.
        reason: String,
    },
    /// An agreement was recorded.
    AgreementRecorded {
        /// The agreement.
        agreement: Agreement,
    },
    /// A party was added to an agreement.
    AgreementSignatoryAdded {
        /// The agreement.
        agreement_id: Uuid,
        /// The party.
        party: Party,
    },
    /// An agreement's budget was revised.
    AgreementBudgetRevised {
        /// The agreement.
        agreement_id: Uuid,
        /// The previous budget.
        from: Option<Money>,
        /// The new budget.
        to: Money,
        /// Why.
        reason: String,
    },
    /// What an agreement covers was changed.
    AgreementScopeChanged {
        /// The agreement.
        agreement_id: Uuid,
        /// The previous scope (none: its consultation's region).
        from: Option<AgreementScope>,
        /// The new scope.
        to: AgreementScope,
        /// Why.
        reason: String,
    },
    /// A key figure was recorded.
    KeyFigureRecorded {
        /// The figure.
        key_figure: KeyFigure,
    },
    /// A point was raised.
    PointRaised {
        /// The point.
        point: Point,
    },
}

super::codec::domain_events!(
    STREAM_TYPE,
    [
        ConsultationPlanned,
        ConsultationDetailsRevised,
        ConsultationHeld,
        ConsultationClosed,
        ConsultationCancelled,
        OrganiserAdded,
        SourceAdded,
        ContextNoteAdded,
        ParticipantRegistered,
        ParticipantRoleChanged,
        AttendanceRecorded,
        ParticipantContactChanged,
        RecommendationProposed,
        RecommendationStatusChanged,
        RecommendationTextRevised,
        AgreementRecorded,
        AgreementSignatoryAdded,
        AgreementBudgetRevised,
        AgreementScopeChanged,
        KeyFigureRecorded,
        PointRaised,
    ]
);

/// Decides which events a command produces, or why it is rejected.
pub fn decide(state: &State, command: Command) -> Result<Vec<Event>, DomainError> {
    match command {
        Command::PlanConsultation(c) => plan(state, c),
        Command::ReviseConsultationDetails(c) => revise_details(state, c),
        Command::MarkConsultationHeld(c) => mark_held(state, c),
        Command::CloseConsultation(c) => close(state, c),
        Command::CancelConsultation(c) => cancel(state, c),
        Command::AddOrganiser(c) => add_organiser(state, c),
        Command::AddSource(c) => add_source(state, c),
        Command::AddContextNote(c) => add_context_note(state, c),
        Command::RegisterParticipant(c) => register_participant(state, c),
        Command::ChangeParticipantRole(c) => change_role(state, c),
        Command::RecordAttendance(c) => record_attendance(state, c),
        Command::ChangeParticipantContact(c) => change_contact(state, c),
        Command::ProposeRecommendation(c) => propose_recommendation(state, c),
        Command::ChangeRecommendationStatus(c) => change_recommendation_status(state, c),
        Command::ReviseRecommendationText(c) => revise_recommendation_text(state, c),
        Command::RecordAgreement(c) => record_agreement(state, c),
        Command::AddAgreementSignatory(c) => add_signatory(state, c),
        Command::ReviseAgreementBudget(c) => revise_agreement_budget(state, c),
        Command::ChangeAgreementScope(c) => change_agreement_scope(state, c),
        Command::RecordKeyFigure(c) => record_key_figure(state, c),
        Command::RaisePoint(c) => raise_point(state, c),
    }
}

/// The consultation this command targets, which must exist and not be cancelled.
fn open(state: &State, id: Uuid) -> Result<&Consultation, DomainError> {
    match &state.consultation {
        None => reject("consultation_id", Rule::NotCreated),
        Some(c) if c.id != id => reject(
            "consultation_id",
            Rule::UnknownReference {
                what: "consultation".into(),
            },
        ),
        Some(c) if c.status == ConsultationStatus::Cancelled => {
            reject("consultation_id", Rule::ConsultationCancelled)
        }
        Some(c) => Ok(c),
    }
}

/// As [`open`], and not closed: for new meeting content.
fn recording(state: &State, id: Uuid) -> Result<&Consultation, DomainError> {
    let consultation = open(state, id)?;
    if consultation.status == ConsultationStatus::Closed {
        return reject("consultation_id", Rule::ConsultationClosed);
    }
    Ok(consultation)
}

/// As [`open`], and attendance not frozen: for participants.
fn attendance_open(state: &State, id: Uuid) -> Result<&Consultation, DomainError> {
    let consultation = open(state, id)?;
    if consultation.status == ConsultationStatus::Closed {
        return reject("consultation_id", Rule::AttendanceFrozen);
    }
    Ok(consultation)
}

fn transition(from: ConsultationStatus, to: ConsultationStatus) -> Result<Vec<Event>, DomainError> {
    reject(
        "status",
        Rule::InvalidTransition {
            from: from.as_str().into(),
            to: to.as_str().into(),
        },
    )
}

fn unknown(field: &str, what: &str) -> Result<Vec<Event>, DomainError> {
    reject(field, Rule::UnknownReference { what: what.into() })
}

fn plan(state: &State, c: PlanConsultation) -> Result<Vec<Event>, DomainError> {
    if state.consultation.is_some() {
        return reject("consultation_id", Rule::AlreadyExists);
    }
    c.details.validate(c.consultation_id)?;
    check_unique_ids("organisers", &c.organisers)?;
    for (i, source) in c.sources.iter().enumerate() {
        source.validate(&nth("sources", i))?;
    }
    check_texts("context_notes", &c.context_notes, LONG_TEXT_MAX)?;
    Ok(vec![Event::ConsultationPlanned {
        consultation_id: c.consultation_id,
        details: c.details,
        organisers: c.organisers,
        sources: c.sources,
        context_notes: c.context_notes,
    }])
}

fn revise_details(state: &State, c: ReviseConsultationDetails) -> Result<Vec<Event>, DomainError> {
    let consultation = open(state, c.consultation_id)?;
    c.details.validate(c.consultation_id)?;
    check_reason("reason", &c.reason)?;
    if consultation.details == c.details {
        return Ok(vec![]);
    }
    Ok(vec![Event::ConsultationDetailsRevised {
        details: c.details,
        reason: c.reason,
    }])
}

fn mark_held(state: &State, c: MarkConsultationHeld) -> Result<Vec<Event>, DomainError> {
    let consultation = open(state, c.consultation_id)?;
    match consultation.status {
        ConsultationStatus::Planned => Ok(vec![Event::ConsultationHeld {}]),
        from => transition(from, ConsultationStatus::Held),
    }
}

fn close(state: &State, c: CloseConsultation) -> Result<Vec<Event>, DomainError> {
    let consultation = open(state, c.consultation_id)?;
    match consultation.status {
        ConsultationStatus::Held => Ok(vec![Event::ConsultationClosed {}]),
        from => transition(from, ConsultationStatus::Closed),
    }
}

fn cancel(state: &State, c: CancelConsultation) -> Result<Vec<Event>, DomainError> {
    let consultation = open(state, c.consultation_id)?;
    match consultation.status {
        from @ (ConsultationStatus::Planned | ConsultationStatus::Held) => {
            check_reason("reason", &c.reason)?;
            Ok(vec![Event::ConsultationCancelled {
                from,
                reason: c.reason,
            }])
        }
        from => transition(from, ConsultationStatus::Cancelled),
    }
}

fn add_organiser(state: &State, c: AddOrganiser) -> Result<Vec<Event>, DomainError> {
    let consultation = recording(state, c.consultation_id)?;
    if consultation.organisers.contains(&c.organisation_id) {
        return reject("organisation_id", Rule::Duplicate);
    }
    Ok(vec![Event::OrganiserAdded {
        organisation_id: c.organisation_id,
    }])
}

fn add_source(state: &State, c: AddSource) -> Result<Vec<Event>, DomainError> {
    let consultation = open(state, c.consultation_id)?;
    c.source.validate("source")?;
    let known = consultation.sources.iter().any(|s| {
        *s == c.source
            || (s.url.is_some() && s.url == c.source.url)
            || (s.document.is_some() && s.document == c.source.document)
    });
    if known {
        return reject("source", Rule::Duplicate);
    }
    Ok(vec![Event::SourceAdded { source: c.source }])
}

fn add_context_note(state: &State, c: AddContextNote) -> Result<Vec<Event>, DomainError> {
    let consultation = open(state, c.consultation_id)?;
    c.note.validate("note", LONG_TEXT_MAX)?;
    if consultation.context_notes.contains(&c.note) {
        return reject("note", Rule::Duplicate);
    }
    Ok(vec![Event::ContextNoteAdded { note: c.note }])
}

fn check_attendance(
    consultation: &Consultation,
    attendance: Attendance,
) -> Result<(), DomainError> {
    if consultation.status == ConsultationStatus::Planned && attendance != Attendance::Invited {
        return reject("attendance", Rule::NotHeldYet);
    }
    Ok(())
}

fn register_participant(state: &State, c: RegisterParticipant) -> Result<Vec<Event>, DomainError> {
    let consultation = attendance_open(state, c.consultation_id)?;
    if consultation.participant(c.participant_id).is_some() {
        return reject("participant_id", Rule::Duplicate);
    }
    if c.person_id.is_none() && c.organisation_id.is_none() {
        return reject("person_id", Rule::Required);
    }
    if let Some(capacity) = &c.capacity {
        capacity.validate("capacity", SHORT_TEXT_MAX)?;
    }
    check_attendance(consultation, c.attendance)?;
    if let Some(contact) = &c.contact {
        contact.validate("contact")?;
    }
    check_inference("inferred", &c.inferred)?;
    let participant = Participant {
        participant_id: c.participant_id,
        person_id: c.person_id,
        organisation_id: c.organisation_id,
        capacity: c.capacity,
        role: c.role,
        attendance: c.attendance,
        contact: c.contact,
        inferred: c.inferred,
    };
    if consultation
        .participants
        .iter()
        .any(|p| p.same_attendee(&participant))
    {
        return reject("person_id", Rule::Duplicate);
    }
    Ok(vec![Event::ParticipantRegistered { participant }])
}

fn change_role(state: &State, c: ChangeParticipantRole) -> Result<Vec<Event>, DomainError> {
    let consultation = attendance_open(state, c.consultation_id)?;
    let Some(participant) = consultation.participant(c.participant_id) else {
        return unknown("participant_id", "participant");
    };
    if participant.role == c.role {
        return Ok(vec![]);
    }
    Ok(vec![Event::ParticipantRoleChanged {
        participant_id: c.participant_id,
        from: participant.role,
        to: c.role,
    }])
}

fn record_attendance(state: &State, c: RecordAttendance) -> Result<Vec<Event>, DomainError> {
    let consultation = attendance_open(state, c.consultation_id)?;
    let Some(participant) = consultation.participant(c.participant_id) else {
        return unknown("participant_id", "participant");
    };
    check_attendance(consultation, c.attendance)?;
    if participant.attendance == c.attendance {
        return Ok(vec![]);
    }
    Ok(vec![Event::AttendanceRecorded {
        participant_id: c.participant_id,
        from: participant.attendance,
        to: c.attendance,
    }])
}

/// Contact details may change whatever the consultation's status (they serve the follow-up),
/// except once it is cancelled, like everything else.
fn change_contact(state: &State, c: ChangeParticipantContact) -> Result<Vec<Event>, DomainError> {
    let consultation = open(state, c.consultation_id)?;
    let Some(participant) = consultation.participant(c.participant_id) else {
        return unknown("participant_id", "participant");
    };
    if let Some(contact) = &c.contact {
        contact.validate("contact")?;
    }
    if participant.contact == c.contact {
        return Ok(vec![]);
    }
    Ok(vec![Event::ParticipantContactChanged {
        participant_id: c.participant_id,
        person_id: participant.person_id,
        contact: c.contact,
    }])
}

fn propose_recommendation(
    state: &State,
    c: ProposeRecommendation,
) -> Result<Vec<Event>, DomainError> {
    let consultation = recording(state, c.consultation_id)?;
    if consultation.recommendation(c.recommendation_id).is_some() {
        return reject("recommendation_id", Rule::Duplicate);
    }
    c.text.validate("text", LONG_TEXT_MAX)?;
    check_slugs("themes", &c.themes)?;
    check_participant("proposer", c.proposer, &consultation.participants)?;
    Ok(vec![Event::RecommendationProposed {
        recommendation_id: c.recommendation_id,
        text: c.text,
        themes: c.themes,
        proposer: c.proposer,
    }])
}

fn change_recommendation_status(
    state: &State,
    c: ChangeRecommendationStatus,
) -> Result<Vec<Event>, DomainError> {
    // Decisions on recommendations come after the meeting: allowed when closed.
    let consultation = open(state, c.consultation_id)?;
    let Some(recommendation) = consultation.recommendation(c.recommendation_id) else {
        return unknown("recommendation_id", "recommendation");
    };
    let from = recommendation.status;
    if from != RecommendationStatus::Proposed || c.to == RecommendationStatus::Proposed {
        return reject(
            "to",
            Rule::InvalidTransition {
                from: from.as_str().into(),
                to: c.to.as_str().into(),
            },
        );
    }
    if let RecommendationStatus::Merged { into } = c.to {
        if into == c.recommendation_id {
            return reject("to.into", Rule::SelfReference);
        }
        match consultation.recommendation(into) {
            None => return unknown("to.into", "recommendation"),
            Some(target) if matches!(target.status, RecommendationStatus::Merged { .. }) => {
                return reject("to.into", Rule::MergeIntoMerged);
            }
            Some(_) => {}
        }
    }
    check_reason("reason", &c.reason)?;
    Ok(vec![Event::RecommendationStatusChanged {
        recommendation_id: c.recommendation_id,
        from,
        to: c.to,
        reason: c.reason,
    }])
}

fn revise_recommendation_text(
    state: &State,
    c: ReviseRecommendationText,
) -> Result<Vec<Event>, DomainError> {
    // A correction of what was recorded: allowed when closed, with a reason.
    let consultation = open(state, c.consultation_id)?;
    let Some(recommendation) = consultation.recommendation(c.recommendation_id) else {
        return unknown("recommendation_id", "recommendation");
    };
    c.text.validate("text", LONG_TEXT_MAX)?;
    check_reason("reason", &c.reason)?;
    if recommendation.text == c.text {
        return Ok(vec![]);
    }
    Ok(vec![Event::RecommendationTextRevised {
        recommendation_id: c.recommendation_id,
        text: c.text,
        reason: c.reason,
    }])
}

fn record_agreement(state: &State, c: RecordAgreement) -> Result<Vec<Event>, DomainError> {
    let consultation = recording(state, c.consultation_id)?;
    if consultation.agreement(c.agreement.agreement_id).is_some() {
        return reject("agreement_id", Rule::Duplicate);
    }
    c.agreement.validate(&consultation.participants)?;
    Ok(vec![Event::AgreementRecorded {
        agreement: c.agreement,
    }])
}

fn add_signatory(state: &State, c: AddAgreementSignatory) -> Result<Vec<Event>, DomainError> {
    let consultation = recording(state, c.consultation_id)?;
    let Some(agreement) = consultation.agreement(c.agreement_id) else {
        return unknown("agreement_id", "agreement");
    };
    c.party.validate("party", &consultation.participants)?;
    if agreement.parties.iter().any(|p| p.same_party(&c.party)) {
        return reject("party", Rule::Duplicate);
    }
    Ok(vec![Event::AgreementSignatoryAdded {
        agreement_id: c.agreement_id,
        party: c.party,
    }])
}

fn revise_agreement_budget(
    state: &State,
    c: ReviseAgreementBudget,
) -> Result<Vec<Event>, DomainError> {
    // Budgets slip after signing: allowed when closed.
    let consultation = open(state, c.consultation_id)?;
    let Some(agreement) = consultation.agreement(c.agreement_id) else {
        return unknown("agreement_id", "agreement");
    };
    c.budget.validate("budget")?;
    check_reason("reason", &c.reason)?;
    if agreement.budget.as_ref() == Some(&c.budget) {
        return Ok(vec![]);
    }
    Ok(vec![Event::AgreementBudgetRevised {
        agreement_id: c.agreement_id,
        from: agreement.budget.clone(),
        to: c.budget,
        reason: c.reason,
    }])
}

fn change_agreement_scope(
    state: &State,
    c: ChangeAgreementScope,
) -> Result<Vec<Event>, DomainError> {
    // A correction of the record: allowed when closed, like a budget revision.
    let consultation = open(state, c.consultation_id)?;
    let Some(agreement) = consultation.agreement(c.agreement_id) else {
        return unknown("agreement_id", "agreement");
    };
    c.scope.validate("scope")?;
    check_reason("reason", &c.reason)?;
    if agreement.scope.as_ref() == Some(&c.scope) {
        return Ok(vec![]);
    }
    Ok(vec![Event::AgreementScopeChanged {
        agreement_id: c.agreement_id,
        from: agreement.scope.clone(),
        to: c.scope,
        reason: c.reason,
    }])
}

fn record_key_figure(state: &State, c: RecordKeyFigure) -> Result<Vec<Event>, DomainError> {
    let consultation = recording(state, c.consultation_id)?;
    let id = c.key_figure.key_figure_id;
    if consultation
        .key_figures
        .iter()
        .any(|k| k.key_figure_id == id)
    {
        return reject("key_figure_id", Rule::Duplicate);
    }
    c.key_figure.validate()?;
    Ok(vec![Event::KeyFigureRecorded {
        key_figure: c.key_figure,
    }])
}

fn raise_point(state: &State, c: RaisePoint) -> Result<Vec<Event>, DomainError> {
    let consultation = recording(state, c.consultation_id)?;
    if consultation
        .points
        .iter()
        .any(|p| p.point_id == c.point.point_id)
    {
        return reject("point_id", Rule::Duplicate);
    }
    c.point.validate(&consultation.participants)?;
    Ok(vec![Event::PointRaised { point: c.point }])
}

/// Replaces the item with the same key, or appends it: replays stay idempotent.
fn upsert<T>(items: &mut Vec<T>, item: T, same: impl Fn(&T) -> bool) {
    match items.iter_mut().find(|existing| same(existing)) {
        Some(existing) => *existing = item,
        None => items.push(item),
    }
}

impl Event {
    /// The participant, recommendation or agreement this event may change, if any: the only
    /// child of the consultation that [`apply`] can touch for this event.
    pub fn child_id(&self) -> Option<Uuid> {
        match self {
            Event::ParticipantRegistered { participant } => Some(participant.participant_id),
            Event::ParticipantRoleChanged { participant_id, .. }
            | Event::AttendanceRecorded { participant_id, .. }
            | Event::ParticipantContactChanged { participant_id, .. } => Some(*participant_id),
            Event::RecommendationProposed {
                recommendation_id, ..
            }
            | Event::RecommendationStatusChanged {
                recommendation_id, ..
            }
            | Event::RecommendationTextRevised {
                recommendation_id, ..
            } => Some(*recommendation_id),
            Event::AgreementRecorded { agreement } => Some(agreement.agreement_id),
            Event::AgreementSignatoryAdded { agreement_id, .. }
            | Event::AgreementBudgetRevised { agreement_id, .. }
            | Event::AgreementScopeChanged { agreement_id, .. } => Some(*agreement_id),
            Event::ConsultationPlanned { .. }
            | Event::ConsultationDetailsRevised { .. }
            | Event::ConsultationHeld {}
            | Event::ConsultationClosed {}
            | Event::ConsultationCancelled { .. }
            | Event::OrganiserAdded { .. }
            | Event::SourceAdded { .. }
            | Event::ContextNoteAdded { .. }
            | Event::KeyFigureRecorded { .. }
            | Event::PointRaised { .. } => None,
        }
    }
}

/// Applies one event to the state. Never fails: events were validated when
/// decided; an event that cannot apply (e.g. before planning, or about an
/// unknown participant) is skipped, and replayed items replace those with the
/// same id.
pub fn apply(mut state: State, event: &Event) -> State {
    state.version += 1;
    if let Event::ConsultationPlanned {
        consultation_id,
        details,
        organisers,
        sources,
        context_notes,
    } = event
    {
        state.consultation = Some(Consultation {
            id: *consultation_id,
            details: details.clone(),
            status: ConsultationStatus::Planned,
            organisers: organisers.clone(),
            sources: sources.clone(),
            context_notes: context_notes.clone(),
            participants: Vec::new(),
            recommendations: Vec::new(),
            agreements: Vec::new(),
            key_figures: Vec::new(),
            points: Vec::new(),
            cancellation_reason: None,
        });
        return state;
    }
    if let Some(consultation) = state.consultation.as_mut() {
        apply_to(consultation, event);
    }
    state
}

fn apply_to(c: &mut Consultation, event: &Event) {
    match event {
        Event::ConsultationPlanned { .. } => {}
        Event::ConsultationDetailsRevised { details, .. } => c.details = details.clone(),
        Event::ConsultationHeld {} => c.status = ConsultationStatus::Held,
        Event::ConsultationClosed {} => c.status = ConsultationStatus::Closed,
        Event::ConsultationCancelled { reason, .. } => {
            c.status = ConsultationStatus::Cancelled;
            c.cancellation_reason = Some(reason.clone());
        }
        Event::OrganiserAdded { organisation_id } => {
            if !c.organisers.contains(organisation_id) {
                c.organisers.push(*organisation_id);
            }
        }
        Event::SourceAdded { source } => {
            if !c.sources.contains(source) {
                c.sources.push(source.clone());
            }
        }
        Event::ContextNoteAdded { note } => {
            if !c.context_notes.contains(note) {
                c.context_notes.push(note.clone());
            }
        }
        Event::ParticipantRegistered { participant } => {
            let id = participant.participant_id;
            upsert(&mut c.participants, participant.clone(), |p| {
                p.participant_id == id
            });
        }
        Event::ParticipantRoleChanged {
            participant_id, to, ..
        } => {
            if let Some(p) = c
                .participants
                .iter_mut()
                .find(|p| p.participant_id == *participant_id)
            {
                p.role = *to;
            }
        }
        Event::AttendanceRecorded {
            participant_id, to, ..
        } => {
            if let Some(p) = c
                .participants
                .iter_mut()
                .find(|p| p.participant_id == *participant_id)
            {
                p.attendance = *to;
            }
        }
        Event::ParticipantContactChanged {
            participant_id,
            contact,
            ..
        } => {
            if let Some(p) = c
                .participants
                .iter_mut()
                .find(|p| p.participant_id == *participant_id)
            {
                p.contact = contact.clone();
            }
        }
        Event::RecommendationProposed {
            recommendation_id,
            text,
            themes,
            proposer,
        } => {
            let recommendation = Recommendation {
                recommendation_id: *recommendation_id,
                text: text.clone(),
                themes: themes.clone(),
                proposer: *proposer,
                status: RecommendationStatus::Proposed,
                status_reason: None,
            };
            upsert(&mut c.recommendations, recommendation, |r| {
                r.recommendation_id == *recommendation_id
            });
        }
        Event::RecommendationStatusChanged {
            recommendation_id,
            to,
            reason,
            ..
        } => {
            if let Some(r) = c
                .recommendations
                .iter_mut()
                .find(|r| r.recommendation_id == *recommendation_id)
            {
                r.status = *to;
                r.status_reason = Some(reason.clone());
            }
        }
        Event::RecommendationTextRevised {
            recommendation_id,
            text,
            ..
        } => {
            if let Some(r) = c
                .recommendations
                .iter_mut()
                .find(|r| r.recommendation_id == *recommendation_id)
            {
                r.text = text.clone();
            }
        }
        Event::AgreementRecorded { agreement } => {
            let id = agreement.agreement_id;
            upsert(&mut c.agreements, agreement.clone(), |a| {
                a.agreement_id == id
            });
        }
        Event::AgreementSignatoryAdded {
            agreement_id,
            party,
        } => {
            if let Some(a) = c
                .agreements
                .iter_mut()
                .find(|a| a.agreement_id == *agreement_id)
            {
                upsert(&mut a.parties, party.clone(), |p| p.same_party(party));
            }
        }
        Event::AgreementBudgetRevised {
            agreement_id, to, ..
        } => {
            if let Some(a) = c
                .agreements
                .iter_mut()
                .find(|a| a.agreement_id == *agreement_id)
            {
                a.budget = Some(to.clone());
            }
        }
        Event::AgreementScopeChanged {
            agreement_id, to, ..
        } => {
            if let Some(a) = c
                .agreements
                .iter_mut()
                .find(|a| a.agreement_id == *agreement_id)
            {
                a.scope = Some(to.clone());
            }
        }
        Event::KeyFigureRecorded { key_figure } => {
            let id = key_figure.key_figure_id;
            upsert(&mut c.key_figures, key_figure.clone(), |k| {
                k.key_figure_id == id
            });
        }
        Event::PointRaised { point } => {
            let id = point.point_id;
            upsert(&mut c.points, point.clone(), |p| p.point_id == id);
        }
    }
}

/// Rebuilds the state from events, e.g. the first `n` events for the state "as of" version `n`.
pub fn fold<'a>(events: impl IntoIterator<Item = &'a Event>) -> State {
    events.into_iter().fold(State::default(), apply)
}
