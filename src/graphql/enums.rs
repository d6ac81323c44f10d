//! The schema's enums: one for every fixed set of the domain, mirrored with async-graphql's
//! `remote` derive so that each converts to and from the domain's own type with `From`, and the
//! compiler checks that no variant is missing on either side.

use async_graphql::Enum;

/// What kind of gathering a consultation is.
#[derive(Enum, serde::Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
#[graphql(remote = "crate::domain::consultation::ConsultationKind")]
pub enum ConsultationKind {
    /// A regional consultation meeting (لقاء تشاوري جهوي).
    RegionalConsultation,
    /// A (consultative) workshop (ورشة).
    Workshop,
    /// A meeting between two parties.
    BilateralMeeting,
    /// A working meeting.
    WorkingMeeting,
    /// A signing ceremony for agreements.
    SigningCeremony,
    /// A conference or national day.
    Conference,
    /// Anything else.
    Other,
}

/// Where a consultation is in its lifecycle:
/// planned -> held -> closed, and planned|held -> cancelled.
#[derive(Enum, serde::Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
#[graphql(remote = "crate::domain::consultation::ConsultationStatus")]
pub enum ConsultationStatus {
    /// Announced, not yet held.
    Planned,
    /// It took place; its record is still open.
    Held,
    /// Its record is final: attendance and meeting content are frozen.
    Closed,
    /// It was called off; nothing more can be recorded on it.
    Cancelled,
}

/// A participant's role in the meeting.
#[derive(Enum, serde::Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
#[graphql(remote = "crate::domain::consultation::ParticipantRole")]
pub enum ParticipantRole {
    /// Chaired it (ترأس).
    Chair,
    /// Sat beside the chair (إلى جانب).
    CoChair,
    /// Received the other party (استقبل), e.g. a minister at his ministry.
    Host,
    /// Organised it.
    Organiser,
    /// Organised it with the organiser (بتعاون مع).
    CoOrganiser,
    /// Supervised it (تحت إشراف).
    Supervisor,
    /// Spoke.
    Speaker,
    /// Attended.
    Attendee,
    /// Signed an agreement.
    Signatory,
    /// Guest.
    Guest,
}

/// Whether a participant was there.
#[derive(Enum, serde::Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
#[graphql(remote = "crate::domain::consultation::Attendance")]
pub enum Attendance {
    /// Invited; attendance not (yet) known.
    Invited,
    /// Was there.
    Attended,
    /// Was not there.
    Absent,
}

/// What kind of agreement was signed.
#[derive(Enum, serde::Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
#[graphql(remote = "crate::domain::consultation::AgreementKind")]
pub enum AgreementKind {
    /// اتفاقية إطار.
    FrameworkAgreement,
    /// اتفاقية شراكة.
    PartnershipAgreement,
    /// ملحق اتفاقية.
    Amendment,
    /// برنامج تعاقدي / contrat-programme.
    ContractProgramme,
    /// مذكرة تفاهم.
    Memorandum,
    /// Anything else.
    Other,
}

/// Whether an agreement was signed at the consultation, only announced, or
/// is an earlier agreement recalled for context.
#[derive(Enum, serde::Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
#[graphql(remote = "crate::domain::consultation::AgreementStatus")]
pub enum AgreementStatus {
    /// Signed at (or recorded with) this consultation.
    Signed,
    /// Announced or planned, not signed (e.g. a "new partnership framework" to come).
    Envisaged,
    /// An earlier agreement recalled for context (e.g. the plan this one follows).
    Previous,
}

/// Whether an agreement's scope is the whole country or one region.
#[derive(Enum, serde::Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
#[graphql(remote = "crate::domain::consultation::ScopeLevel")]
pub enum ScopeLevel {
    /// The whole country.
    National,
    /// One region.
    Regional,
}

/// What kind of point was raised.
#[derive(Enum, serde::Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
#[graphql(remote = "crate::domain::consultation::PointKind")]
pub enum PointKind {
    /// Something said or presented.
    Statement,
    /// A verbatim quotation.
    Quote,
    /// A commitment or follow-up area announced, not a signed agreement.
    Commitment,
    /// A follow-up step announced ("turn the recommendations into projects").
    FollowUp,
    /// A result or achievement reported.
    ResultReported,
    /// An assessment of a situation ("the region's share of exports is limited").
    Assessment,
    /// An objective stated.
    Objective,
    /// A plan or planned infrastructure described.
    Plan,
    /// Anything else.
    Other,
}

/// Where an action stands.
#[derive(Enum, serde::Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
#[graphql(remote = "crate::domain::action::ActionStatus")]
pub enum ActionStatus {
    /// Not started yet.
    NotStarted,
    /// Under way.
    InProgress,
    /// Finished, progress 100.
    Done,
    /// Stuck (reason required).
    Blocked,
    /// Dropped (reason required).
    Cancelled,
}

/// What kind of body an organisation is.
#[derive(Enum, serde::Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
#[graphql(remote = "crate::domain::organisation::OrganisationKind")]
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

/// What a token's holder may do.
#[derive(Enum, serde::Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
#[graphql(remote = "crate::domain::token::Role")]
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

/// A day of the week, as stated in a source ("يوم الثلاثاء", a Tuesday).
#[derive(Enum, serde::Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
#[graphql(remote = "crate::domain::common::Weekday")]
pub enum Weekday {
    /// Monday.
    Monday,
    /// Tuesday.
    Tuesday,
    /// Wednesday.
    Wednesday,
    /// Thursday.
    Thursday,
    /// Friday.
    Friday,
    /// Saturday.
    Saturday,
    /// Sunday.
    Sunday,
}

/// What became of a recommendation (the recommendation it was merged into is its own field).
#[derive(Enum, serde::Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum RecommendationStatus {
    /// Made at the meeting, not yet decided on.
    Proposed,
    /// Taken up.
    Accepted,
    /// Turned down.
    Rejected,
    /// Folded into another recommendation.
    Merged,
}

impl From<&crate::domain::consultation::RecommendationStatus> for RecommendationStatus {
    fn from(status: &crate::domain::consultation::RecommendationStatus) -> Self {
        use crate::domain::consultation::RecommendationStatus as Domain;
        match status {
            Domain::Proposed => RecommendationStatus::Proposed,
            Domain::Accepted => RecommendationStatus::Accepted,
            Domain::Rejected => RecommendationStatus::Rejected,
            Domain::Merged { .. } => RecommendationStatus::Merged,
        }
    }
}
