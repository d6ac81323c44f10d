//! The mutations' input types: one `input` per domain command, with camelCase fields, the
//! schema's enums and scalars, and one input type per shared value (localized text, partial
//! date, period, money, place, source, contact...).
//!
//! These types only carry values: each serialises (serde, snake_case field names as in
//! `src/domain`) to the JSON that the domain command deserialises, so the domain's own
//! deserialisation stays the one definition of a command, its defaults included. A field the
//! client leaves out is left out of that JSON, and the domain's default applies.
//!
//! [`Checked`] wraps a mutation's `input` argument so that a scalar that GraphQL validation lets
//! through but that does not parse (a malformed UUID or Decimal, an Int beyond 32 bits) is a
//! `VALIDATION` error naming the field by its GraphQL path, as every other input error is.

use std::borrow::Cow;

use async_graphql::registry::{MetaType, MetaTypeName, Registry};
use async_graphql::{InputObject, InputType, InputValueResult, ScalarType, Value};
use serde::{Serialize, Serializer};
use uuid::Uuid;

use super::enums::{
    ActionStatus, AgreementKind, AgreementStatus, Attendance, ConsultationKind, OrganisationKind,
    ParticipantRole, PointKind, RecommendationStatus, ScopeLevel, Weekday,
};
use super::scalars::{Date, Decimal};
use crate::error::ApiError;

// ---------------------------------------------------------------------------------------------
// Shared values
// ---------------------------------------------------------------------------------------------

/// A text in up to three languages: Arabic first, then French, then English. At least one is
/// required; none may be blank (leave a language out instead). Kept byte for byte.
#[derive(InputObject, Serialize, Debug, Clone, Default)]
pub struct LocalizedTextInput {
    /// Arabic text.
    pub ar: Option<String>,
    /// French text.
    pub fr: Option<String>,
    /// English text.
    pub en: Option<String>,
}

/// A date known only in part: any of year, month, day and weekday. "A Tuesday in November
/// 2024" is `{year: 2024, month: 11, weekday: TUESDAY}`; "February 2004" is
/// `{year: 2004, month: 2}`.
#[derive(InputObject, Serialize, Debug, Clone, Default)]
pub struct PartialDateInput {
    /// The year, when known (1900-2100).
    pub year: Option<i32>,
    /// The month 1-12, when known.
    pub month: Option<i32>,
    /// The day of the month, when known (needs the month).
    pub day: Option<i32>,
    /// The weekday, when stated (it must match the full date when there is one).
    pub weekday: Option<Weekday>,
}

/// A span of time such as 2026-2028; the end is optional (open-ended or unknown).
#[derive(InputObject, Serialize, Debug, Clone)]
pub struct PeriodInput {
    /// When the period starts.
    pub start: PartialDateInput,
    /// When the period ends, if known (not before the start).
    pub end: Option<PartialDateInput>,
}

/// An exact amount of money.
#[derive(InputObject, Serialize, Debug, Clone)]
pub struct MoneyInput {
    /// The exact, non-negative amount in the currency's major unit (`"1250000.50"`), at most
    /// 10^15 and with no more decimals than the currency has (2 for MAD).
    #[serde(serialize_with = "decimal")]
    pub amount: Decimal,
    /// ISO 4217 code, three uppercase letters (`MAD`).
    pub currency: String,
}

/// Marks a fact that the sources do not state but that was inferred, with how (e.g. "the
/// article writes only the family name").
#[derive(InputObject, Serialize, Debug, Clone)]
pub struct InferenceInput {
    /// How the fact was inferred: non-blank, at most 2000 characters.
    pub note: String,
}

/// What an agreement covers: the whole country, or one region.
#[derive(InputObject, Serialize, Debug, Clone)]
pub struct AgreementScopeInput {
    /// National or regional.
    pub level: ScopeLevel,
    /// The region code (`MA-01` to `MA-12`): required with `REGIONAL`, refused with `NATIONAL`.
    pub region: Option<String>,
}

/// Where something took place: the venue as stated, its city and region.
#[derive(InputObject, Serialize, Debug, Clone)]
pub struct PlaceInput {
    /// The most precise place stated, e.g. "القاعة الكبرى لعمالة فاس".
    pub name: LocalizedTextInput,
    /// The city, when known.
    pub city: Option<LocalizedTextInput>,
    /// The region code (`MA-01` to `MA-12`), when known.
    pub region: Option<String>,
    /// Set when part of the place (its city or region) is inferred, not stated.
    pub inferred: Option<InferenceInput>,
}

/// Where a fact comes from: an article, a press release, a document. At least one of
/// publisher, URL or document identifies it.
#[derive(InputObject, Serialize, Debug, Clone, Default)]
pub struct SourceInput {
    /// Who published it (newspaper, agency, ministry site), when known.
    pub publisher: Option<LocalizedTextInput>,
    /// The byline, when given.
    pub author: Option<LocalizedTextInput>,
    /// Where it can be read (an http or https URL).
    pub url: Option<String>,
    /// Its headline as published.
    pub title: Option<LocalizedTextInput>,
    /// When it was published, as far as known.
    pub published_on: Option<PartialDateInput>,
    /// A document reference, e.g. the archived file name.
    pub document: Option<String>,
}

/// How to reach a participant (personal data); at least one of the two.
#[derive(InputObject, Serialize, Debug, Clone, Default)]
pub struct ContactInput {
    /// E-mail address.
    pub email: Option<String>,
    /// Telephone number: digits with optional `+`, spaces, dots, dashes and brackets.
    pub phone: Option<String>,
}

/// A person's name as written in the sources: Arabic script and/or a Latin transliteration;
/// at least one.
#[derive(InputObject, Serialize, Debug, Clone, Default)]
pub struct PersonNameInput {
    /// The name in Arabic script.
    pub arabic: Option<String>,
    /// The name in Latin script.
    pub latin: Option<String>,
    /// Set when the sources do not give this name (or part of it), with how it was inferred.
    pub inferred: Option<InferenceInput>,
}

/// When a consultation takes place.
#[derive(InputObject, Serialize, Debug, Clone)]
pub struct ScheduleInput {
    /// The (first) day, as far as known.
    pub start: PartialDateInput,
    /// The last day, for multi-day events.
    pub end: Option<PartialDateInput>,
    /// The local starting time (Morocco), when stated: `HH:MM` or `HH:MM:SS`.
    pub start_time: Option<String>,
    /// The local ending time, when stated: `HH:MM` or `HH:MM:SS`.
    pub end_time: Option<String>,
    /// The date as worded in the source (kept when the source contradicts itself).
    pub as_stated: Option<LocalizedTextInput>,
    /// True when part of the dates was resolved from context rather than stated (default
    /// false).
    pub inferred: Option<bool>,
}

/// The larger event a consultation is part of, e.g. "the 3rd National Industry Day".
#[derive(InputObject, Serialize, Debug, Clone)]
pub struct OccasionInput {
    /// Its name.
    pub name: LocalizedTextInput,
    /// When it ran, if known.
    pub period: Option<PeriodInput>,
    /// The consultation recording it, if there is one (not this one).
    pub consultation_id: Option<Uuid>,
}

/// The descriptive details of a consultation, given when it is planned and replaced whole when
/// revised. Its fields sit directly in `PlanConsultationInput` and
/// `ReviseConsultationDetailsInput`.
#[derive(InputObject, Serialize, Debug, Clone)]
pub struct ConsultationDetailsInput {
    /// What kind of gathering it is.
    pub kind: ConsultationKind,
    /// Its title (a headline works).
    pub title: LocalizedTextInput,
    /// A longer description.
    pub description: Option<LocalizedTextInput>,
    /// When it takes place.
    pub schedule: ScheduleInput,
    /// Where it takes place.
    pub place: Option<PlaceInput>,
    /// The region it concerns (`MA-01` to `MA-12`).
    pub region: Option<String>,
    /// Set when the region is inferred, not stated.
    pub region_inferred: Option<InferenceInput>,
    /// What it is for.
    pub purpose: Option<LocalizedTextInput>,
    /// The larger event it is part of.
    pub occasion: Option<OccasionInput>,
    /// Patronage, e.g. "under the high patronage of King Mohammed VI".
    pub patronage: Option<LocalizedTextInput>,
}

/// A party to an agreement: an organisation and/or a participant (at least one), with the
/// person who signed for it when known, and its own commitments.
#[derive(InputObject, Serialize, Debug, Clone, Default)]
pub struct PartyInput {
    /// The organisation that is party to it.
    pub organisation_id: Option<Uuid>,
    /// The participant (of this consultation) that is party to it.
    pub participant_id: Option<Uuid>,
    /// The person who signed, when known.
    pub signatory_person_id: Option<Uuid>,
    /// The signatory's capacity as stated, when the person is not named.
    pub signatory_capacity: Option<LocalizedTextInput>,
    /// What this party commits to.
    pub commitments: Option<Vec<LocalizedTextInput>>,
    /// Set when the sources do not name this party, with how it was inferred.
    pub inferred: Option<InferenceInput>,
}

/// A decision on a recommendation.
#[derive(InputObject, Serialize, Debug, Clone)]
pub struct RecommendationDecisionInput {
    /// The new status.
    pub status: RecommendationStatus,
    /// The recommendation it is merged into: required with `MERGED`, not read with any other
    /// status.
    pub into: Option<Uuid>,
}

// ---------------------------------------------------------------------------------------------
// Organisation commands
// ---------------------------------------------------------------------------------------------

/// Registers a new organisation.
#[derive(InputObject, Serialize, Debug, Clone)]
pub struct RegisterOrganisationInput {
    /// The new organisation's id, chosen by the caller.
    pub organisation_id: Uuid,
    /// Its name.
    pub name: LocalizedTextInput,
    /// Its acronym, if any, e.g. `CGEM`.
    pub acronym: Option<String>,
    /// What kind of body it is.
    pub kind: OrganisationKind,
    /// The organisation it belongs to, if any.
    pub parent_id: Option<Uuid>,
    /// The region it serves (`MA-01` to `MA-12`), if regional.
    pub region: Option<String>,
    /// Set when the name is not written in the sources but rebuilt, with how.
    pub name_inferred: Option<InferenceInput>,
    /// Set when the acronym is not written in the sources, with where it comes from.
    pub acronym_inferred: Option<InferenceInput>,
}

/// Records that an organisation changed its name (the old one is kept).
#[derive(InputObject, Serialize, Debug, Clone)]
pub struct RenameOrganisationInput {
    /// The organisation.
    pub organisation_id: Uuid,
    /// The new name.
    pub name: LocalizedTextInput,
    /// The new acronym, if any.
    pub acronym: Option<String>,
    /// When the new name took effect, if known.
    pub effective: Option<PartialDateInput>,
    /// Why (e.g. "government reshuffle of October 2021").
    pub reason: String,
}

/// Corrects details of an organisation that were recorded wrongly.
#[derive(InputObject, Serialize, Debug, Clone)]
pub struct CorrectOrganisationDetailsInput {
    /// The organisation.
    pub organisation_id: Uuid,
    /// The corrected name.
    pub name: LocalizedTextInput,
    /// The corrected acronym.
    pub acronym: Option<String>,
    /// The corrected kind.
    pub kind: OrganisationKind,
    /// The corrected region.
    pub region: Option<String>,
    /// Set when the name is not written in the sources but rebuilt, with how.
    pub name_inferred: Option<InferenceInput>,
    /// Set when the acronym is not written in the sources, with where it comes from.
    pub acronym_inferred: Option<InferenceInput>,
    /// Why the correction is needed.
    pub reason: String,
}

/// Moves an organisation under another parent (or none).
#[derive(InputObject, Serialize, Debug, Clone)]
pub struct ChangeOrganisationParentInput {
    /// The organisation.
    pub organisation_id: Uuid,
    /// The new parent; left out for a top-level body.
    pub parent_id: Option<Uuid>,
    /// Why.
    pub reason: String,
}

// ---------------------------------------------------------------------------------------------
// Person commands
// ---------------------------------------------------------------------------------------------

/// Registers a person.
#[derive(InputObject, Serialize, Debug, Clone)]
pub struct RegisterPersonInput {
    /// The new person's id, chosen by the caller.
    pub person_id: Uuid,
    /// The person's name.
    pub name: PersonNameInput,
    /// An honorific such as "السيد" / "M.", if stated.
    pub honorific: Option<LocalizedTextInput>,
}

/// Records that a person holds (or held) a post in an organisation.
#[derive(InputObject, Serialize, Debug, Clone)]
pub struct StartPostInput {
    /// The person.
    pub person_id: Uuid,
    /// The new post's id, chosen by the caller.
    pub post_id: Uuid,
    /// The organisation the post is in.
    pub organisation_id: Uuid,
    /// The post title as stated.
    pub title: LocalizedTextInput,
    /// When it started, if known.
    pub start: Option<PartialDateInput>,
    /// A date on which a source shows the person in the post.
    pub attested_on: Option<PartialDateInput>,
    /// Set when the sources do not state this post, with how it was inferred.
    pub inferred: Option<InferenceInput>,
}

/// Records that a post ended.
#[derive(InputObject, Serialize, Debug, Clone)]
pub struct EndPostInput {
    /// The person.
    pub person_id: Uuid,
    /// The post that ended.
    pub post_id: Uuid,
    /// When it ended, if known.
    pub end: Option<PartialDateInput>,
    /// Why, if known (non-blank when given).
    pub reason: Option<String>,
}

/// Erases a person's contact details (admins only): destroys the key they are sealed under in
/// the log and records who did it and why. Names and posts stay.
#[derive(InputObject, Serialize, Debug, Clone)]
pub struct ErasePersonInput {
    /// The person.
    pub person_id: Uuid,
    /// Why, e.g. the request under law 09-08 or the GDPR that it answers.
    pub reason: String,
}

/// Corrects a wrongly recorded name or honorific.
#[derive(InputObject, Serialize, Debug, Clone)]
pub struct CorrectPersonNameInput {
    /// The person.
    pub person_id: Uuid,
    /// The corrected name.
    pub name: PersonNameInput,
    /// The corrected honorific.
    pub honorific: Option<LocalizedTextInput>,
    /// Why.
    pub reason: String,
}

// ---------------------------------------------------------------------------------------------
// Consultation commands
// ---------------------------------------------------------------------------------------------

/// Plans (creates) a consultation.
#[derive(InputObject, Serialize, Debug, Clone)]
pub struct PlanConsultationInput {
    /// The new consultation's id, chosen by the caller.
    pub consultation_id: Uuid,
    #[graphql(flatten)]
    #[serde(flatten)]
    pub details: ConsultationDetailsInput,
    /// The organising organisations.
    pub organisers: Option<Vec<Uuid>>,
    /// Where the facts come from.
    pub sources: Option<Vec<SourceInput>>,
    /// Background notes.
    pub context_notes: Option<Vec<LocalizedTextInput>>,
}

/// Replaces a consultation's details (corrections, rescheduling), with a reason.
#[derive(InputObject, Serialize, Debug, Clone)]
pub struct ReviseConsultationDetailsInput {
    /// The consultation.
    pub consultation_id: Uuid,
    #[graphql(flatten)]
    #[serde(flatten)]
    pub details: ConsultationDetailsInput,
    /// Why.
    pub reason: String,
}

/// Records that a planned consultation took place.
#[derive(InputObject, Serialize, Debug, Clone)]
pub struct MarkConsultationHeldInput {
    /// The consultation.
    pub consultation_id: Uuid,
}

/// Closes the record of a held consultation (freezes attendance and meeting content).
#[derive(InputObject, Serialize, Debug, Clone)]
pub struct CloseConsultationInput {
    /// The consultation.
    pub consultation_id: Uuid,
}

/// Calls off a planned or held consultation.
#[derive(InputObject, Serialize, Debug, Clone)]
pub struct CancelConsultationInput {
    /// The consultation.
    pub consultation_id: Uuid,
    /// Why (required).
    pub reason: String,
}

/// Adds an organising organisation.
#[derive(InputObject, Serialize, Debug, Clone)]
pub struct AddOrganiserInput {
    /// The consultation.
    pub consultation_id: Uuid,
    /// The organisation.
    pub organisation_id: Uuid,
}

/// Adds a source (another article covering the consultation).
#[derive(InputObject, Serialize, Debug, Clone)]
pub struct AddSourceInput {
    /// The consultation.
    pub consultation_id: Uuid,
    /// The source.
    pub source: SourceInput,
}

/// Adds a background note.
#[derive(InputObject, Serialize, Debug, Clone)]
pub struct AddContextNoteInput {
    /// The consultation.
    pub consultation_id: Uuid,
    /// The note.
    pub note: LocalizedTextInput,
}

/// Registers a participant: a person, an organisation, or a person on behalf of an
/// organisation.
#[derive(InputObject, Serialize, Debug, Clone)]
pub struct RegisterParticipantInput {
    /// The consultation.
    pub consultation_id: Uuid,
    /// The participant's id, chosen by the caller.
    pub participant_id: Uuid,
    /// The person, when named.
    pub person_id: Option<Uuid>,
    /// The organisation represented.
    pub organisation_id: Option<Uuid>,
    /// The capacity as stated, e.g. when the person is not named.
    pub capacity: Option<LocalizedTextInput>,
    /// The role in the meeting.
    pub role: ParticipantRole,
    /// Attendance (`INVITED` when left out; attended or absent only once held).
    pub attendance: Option<Attendance>,
    /// How to reach them (personal data).
    pub contact: Option<ContactInput>,
    /// Set when the sources do not state this participation (or attendance), with how it was
    /// inferred.
    pub inferred: Option<InferenceInput>,
}

/// Changes a participant's role.
#[derive(InputObject, Serialize, Debug, Clone)]
pub struct ChangeParticipantRoleInput {
    /// The consultation.
    pub consultation_id: Uuid,
    /// The participant.
    pub participant_id: Uuid,
    /// The new role.
    pub role: ParticipantRole,
}

/// Changes (or, left out, removes) a participant's contact details: personal data, sealed in
/// the log under the person's key.
#[derive(InputObject, Serialize, Debug, Clone)]
pub struct ChangeParticipantContactInput {
    /// The consultation.
    pub consultation_id: Uuid,
    /// The participant.
    pub participant_id: Uuid,
    /// The new contact details; left out, they are removed.
    pub contact: Option<ContactInput>,
}

/// Records whether a participant attended.
#[derive(InputObject, Serialize, Debug, Clone)]
pub struct RecordAttendanceInput {
    /// The consultation.
    pub consultation_id: Uuid,
    /// The participant.
    pub participant_id: Uuid,
    /// The attendance.
    pub attendance: Attendance,
}

/// Records a recommendation made at the consultation.
#[derive(InputObject, Serialize, Debug, Clone)]
pub struct ProposeRecommendationInput {
    /// The consultation.
    pub consultation_id: Uuid,
    /// The recommendation's id, chosen by the caller.
    pub recommendation_id: Uuid,
    /// What it says.
    pub text: LocalizedTextInput,
    /// Theme tags: lowercase slugs such as `export-promotion`, each once.
    pub themes: Option<Vec<String>>,
    /// The participant who made it.
    pub proposer: Option<Uuid>,
}

/// Decides on a proposed recommendation (accepted, rejected or merged).
#[derive(InputObject, Serialize, Debug, Clone)]
pub struct ChangeRecommendationStatusInput {
    /// The consultation.
    pub consultation_id: Uuid,
    /// The recommendation.
    pub recommendation_id: Uuid,
    /// The decision.
    pub to: RecommendationDecisionInput,
    /// Why (required).
    pub reason: String,
}

/// Revises how a recommendation is worded.
#[derive(InputObject, Serialize, Debug, Clone)]
pub struct ReviseRecommendationTextInput {
    /// The consultation.
    pub consultation_id: Uuid,
    /// The recommendation.
    pub recommendation_id: Uuid,
    /// The new text.
    pub text: LocalizedTextInput,
    /// Why (required).
    pub reason: String,
}

/// Records an agreement signed at (or recalled by) the consultation.
#[derive(InputObject, Serialize, Debug, Clone)]
pub struct RecordAgreementInput {
    /// The consultation.
    pub consultation_id: Uuid,
    /// The agreement's id, chosen by the caller.
    pub agreement_id: Uuid,
    /// Its title.
    pub title: LocalizedTextInput,
    /// What kind of agreement it is.
    pub kind: AgreementKind,
    /// Signed here (`SIGNED`, when left out), envisaged, or a previous agreement.
    pub status: Option<AgreementStatus>,
    /// The parties and signatories.
    pub parties: Option<Vec<PartyInput>>,
    /// The money committed.
    pub budget: Option<MoneyInput>,
    /// The period it covers, e.g. 2026-2028.
    pub period: Option<PeriodInput>,
    /// The programme it serves.
    pub programme: Option<LocalizedTextInput>,
    /// Its objectives or strategic axes.
    pub objectives: Option<Vec<LocalizedTextInput>>,
    /// Anything else stated about it.
    pub notes: Option<Vec<LocalizedTextInput>>,
    /// When it was signed, if different from or more precise than the consultation.
    pub signed_on: Option<PartialDateInput>,
    /// What it covers: national, or a region (its budget counts in that region's). Left out,
    /// its consultation's region.
    pub scope: Option<AgreementScopeInput>,
}

/// Adds a party (and its signatory) to a recorded agreement.
#[derive(InputObject, Serialize, Debug, Clone)]
pub struct AddAgreementSignatoryInput {
    /// The consultation.
    pub consultation_id: Uuid,
    /// The agreement.
    pub agreement_id: Uuid,
    /// The party.
    pub party: PartyInput,
}

/// Revises an agreement's budget, with a reason.
#[derive(InputObject, Serialize, Debug, Clone)]
pub struct ReviseAgreementBudgetInput {
    /// The consultation.
    pub consultation_id: Uuid,
    /// The agreement.
    pub agreement_id: Uuid,
    /// The new budget.
    pub budget: MoneyInput,
    /// Why (required).
    pub reason: String,
}

/// Changes what an agreement covers (national, or one region), with a reason.
#[derive(InputObject, Serialize, Debug, Clone)]
pub struct ChangeAgreementScopeInput {
    /// The consultation.
    pub consultation_id: Uuid,
    /// The agreement.
    pub agreement_id: Uuid,
    /// What it covers now: its budget counts in that region's (none for national).
    pub scope: AgreementScopeInput,
    /// Why (required).
    pub reason: String,
}

/// Records a figure stated at the consultation, e.g. the region's industrial exports.
#[derive(InputObject, Serialize, Debug, Clone)]
pub struct RecordKeyFigureInput {
    /// The consultation.
    pub consultation_id: Uuid,
    /// The figure's id, chosen by the caller.
    pub key_figure_id: Uuid,
    /// What is measured.
    pub indicator: LocalizedTextInput,
    /// The exact value (`"2600000000"`).
    #[serde(serialize_with = "decimal")]
    pub value: Decimal,
    /// The unit: a currency code (`MAD`), `percent`, `count`...
    pub unit: String,
    /// The period the value covers.
    pub period: Option<PeriodInput>,
    /// The date the value stands at.
    pub as_of: Option<PartialDateInput>,
    /// The region the value is about (`MA-01` to `MA-12`).
    pub region: Option<String>,
    /// Where the figure comes from, when not the consultation's own sources.
    pub source: Option<SourceInput>,
    /// The figure as worded in the source, e.g. "2,6 مليار درهم".
    pub stated: Option<LocalizedTextInput>,
    /// Qualifications.
    pub notes: Option<Vec<LocalizedTextInput>>,
}

/// Records a point raised: a fact of the meeting that is neither a recommendation nor a signed
/// commitment.
#[derive(InputObject, Serialize, Debug, Clone)]
pub struct RaisePointInput {
    /// The consultation.
    pub consultation_id: Uuid,
    /// The point's id, chosen by the caller.
    pub point_id: Uuid,
    /// What was said.
    pub text: LocalizedTextInput,
    /// What kind of point it is (`STATEMENT` when left out).
    pub kind: Option<PointKind>,
    /// The participants who raised it, each once.
    pub speakers: Option<Vec<Uuid>>,
    /// Theme tags (lowercase slugs).
    pub themes: Option<Vec<String>>,
}

// ---------------------------------------------------------------------------------------------
// Action commands
// ---------------------------------------------------------------------------------------------

/// Creates a follow-up action of a consultation.
#[derive(InputObject, Serialize, Debug, Clone)]
pub struct CreateActionInput {
    /// The new action's id, chosen by the caller.
    pub action_id: Uuid,
    /// The consultation it follows up.
    pub consultation_id: Uuid,
    /// The recommendations (of that consultation) it implements.
    pub recommendation_ids: Option<Vec<Uuid>>,
    /// The agreement (of that consultation) it implements.
    pub agreement_id: Option<Uuid>,
    /// What is to be done.
    pub title: LocalizedTextInput,
    /// More detail.
    pub description: Option<LocalizedTextInput>,
    /// The organisation responsible.
    pub owner_organisation_id: Uuid,
    /// When it is due.
    pub due: Option<PartialDateInput>,
    /// Its budget.
    pub budget: Option<MoneyInput>,
}

/// Reports an action's progress.
#[derive(InputObject, Serialize, Debug, Clone)]
pub struct ReportProgressInput {
    /// The action.
    pub action_id: Uuid,
    /// The day of the report (not before the previous report).
    #[serde(serialize_with = "date")]
    pub on: Date,
    /// Progress, 0-100.
    pub progress: i32,
    /// What was reported.
    pub note: Option<LocalizedTextInput>,
    /// Why progress went down (required when it does).
    pub reason: Option<String>,
}

/// Changes where an action stands.
#[derive(InputObject, Serialize, Debug, Clone)]
pub struct ChangeActionStatusInput {
    /// The action.
    pub action_id: Uuid,
    /// The new status.
    pub to: ActionStatus,
    /// Why (required for `BLOCKED` and `CANCELLED`).
    pub reason: Option<String>,
}

/// Reopens a done or cancelled action.
#[derive(InputObject, Serialize, Debug, Clone)]
pub struct ReopenActionInput {
    /// The action.
    pub action_id: Uuid,
    /// Why (required).
    pub reason: String,
}

/// Moves an action's deadline.
#[derive(InputObject, Serialize, Debug, Clone)]
pub struct ExtendDeadlineInput {
    /// The action.
    pub action_id: Uuid,
    /// The new deadline (not earlier than the current one).
    pub to: PartialDateInput,
    /// Why (required).
    pub reason: String,
}

/// Makes another organisation responsible for an action.
#[derive(InputObject, Serialize, Debug, Clone)]
pub struct ReassignOwnerInput {
    /// The action.
    pub action_id: Uuid,
    /// The new owner organisation.
    pub to: Uuid,
    /// Why (required).
    pub reason: String,
}

/// Revises an action's budget.
#[derive(InputObject, Serialize, Debug, Clone)]
pub struct ReviseActionBudgetInput {
    /// The action.
    pub action_id: Uuid,
    /// The new budget.
    pub to: MoneyInput,
    /// Why (required).
    pub reason: String,
}

// ---------------------------------------------------------------------------------------------
// Serialisation helpers and paths
// ---------------------------------------------------------------------------------------------

/// A `Decimal` as the domain reads it: its exact digits, as a string.
fn decimal<S: Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&value.0)
}

/// A `Date` as the domain reads it: `YYYY-MM-DD`.
fn date<S: Serializer>(value: &Date, serializer: S) -> Result<S::Ok, S::Error> {
    value.0.serialize(serializer)
}

/// The camelCase GraphQL name of a snake_case domain name (`organisation_id` is
/// `organisationId`), as async-graphql names the input fields. A list index such as `[2]` is
/// kept as it is.
pub fn camel_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        match c {
            '_' => upper = true,
            c if upper => {
                out.extend(c.to_uppercase());
                upper = false;
            }
            c => out.push(c),
        }
    }
    out
}

/// The GraphQL path of a field of a mutation's `input`, from the path the domain names it by:
/// `parties[2].organisation_id` is `input.parties[2].organisationId`; the empty path (or
/// serde's root `.`) is `input` itself.
pub fn graphql_path(domain_path: &str) -> String {
    domain_path
        .split('.')
        .filter(|segment| !segment.is_empty())
        .fold(String::from("input"), |mut path, segment| {
            path.push('.');
            path.push_str(&camel_case(segment));
            path
        })
}

/// Whether the input type `T` has a field of this GraphQL name at its top level.
pub fn has_field<T: InputType>(name: &str) -> bool {
    let mut registry = Registry::default();
    T::create_type_info(&mut registry);
    matches!(
        registry.types.get(T::type_name().as_ref()),
        Some(MetaType::InputObject { input_fields, .. }) if input_fields.contains_key(name)
    )
}

/// The field and rule of an argument refused by GraphQL validation, from async-graphql's
/// message, so that the edge can give such errors the same `field` and `rule` as the others:
/// `Invalid value for argument "input.parties.2.organisationId", expected type "UUID"` is
/// `input.parties[2].organisationId` (`INVALID_FORMAT`); `... argument "input", field "name" of
/// type ... is required but not provided` is `input.name` (`REQUIRED`); `... unknown field
/// "colour" ...` is `input.colour` (`UNKNOWN_FIELD`).
pub fn validation_field(message: &str) -> Option<(String, &'static str)> {
    let quoted = |after: &str| {
        message
            .split_once(after)
            .and_then(|(_, rest)| rest.split('"').next())
    };
    let argument = quoted("Invalid value for argument \"")?;
    let mut path = String::new();
    for segment in argument.split('.') {
        if segment.parse::<usize>().is_ok() {
            path.push_str(&format!("[{segment}]"));
        } else {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(segment);
        }
    }
    let (field, rule) = if message.contains("is required but not provided") {
        (quoted(", field \""), "REQUIRED")
    } else if message.contains(", unknown field \"") {
        (quoted(", unknown field \""), "UNKNOWN_FIELD")
    } else {
        (None, "INVALID_FORMAT")
    };
    if let Some(field) = field {
        path.push('.');
        path.push_str(field);
    }
    Some((path, rule))
}

// ---------------------------------------------------------------------------------------------
// The checked argument
// ---------------------------------------------------------------------------------------------

/// A mutation's `input`, the same type in the schema as `T`, whose parsing never fails the
/// field with an unclassified error: a value that passed GraphQL validation but does not parse
/// (GraphQL validation only checks a scalar's shape) becomes a `VALIDATION` error naming the
/// field by its GraphQL path and saying what was expected.
pub struct Checked<T>(pub Result<T, ApiError>);

impl<T: InputType> InputType for Checked<T> {
    type RawValueType = T::RawValueType;

    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }

    fn qualified_type_name() -> String {
        T::qualified_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::create_type_info(registry)
    }

    fn parse(value: Option<Value>) -> InputValueResult<Self> {
        match T::parse(value.clone()) {
            Ok(parsed) => Ok(Checked(Ok(parsed))),
            Err(_) => Ok(Checked(Err(unreadable::<T>(value.unwrap_or_default())))),
        }
    }

    fn to_value(&self) -> Value {
        match &self.0 {
            Ok(value) => value.to_value(),
            Err(_) => Value::Null,
        }
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        self.0.as_ref().ok().and_then(InputType::as_raw_value)
    }
}

/// The error for an input of type `T` that does not parse: the first scalar in it that does
/// not, by its GraphQL path.
fn unreadable<T: InputType>(value: Value) -> ApiError {
    let mut registry = Registry::default();
    let ty = T::create_type_info(&mut registry);
    let (field, rule, expected) = first_unreadable(&registry, &ty, &value, "input".to_owned())
        .unwrap_or_else(|| {
            (
                "input".to_owned(),
                "INVALID_FORMAT",
                format!("a {}", T::type_name()),
            )
        });
    ApiError::validation(&field, rule, format!("Field `{field}` must be {expected}."))
}

/// Walks `value` as the schema type `ty` and returns the path, rule code and expected shape of
/// the first scalar that does not parse.
fn first_unreadable(
    registry: &Registry,
    ty: &str,
    value: &Value,
    path: String,
) -> Option<(String, &'static str, String)> {
    match MetaTypeName::create(ty) {
        MetaTypeName::NonNull(inner) => first_unreadable(registry, inner, value, path),
        MetaTypeName::List(inner) => match value {
            Value::List(items) => items.iter().enumerate().find_map(|(i, item)| {
                first_unreadable(registry, inner, item, format!("{path}[{i}]"))
            }),
            // GraphQL coerces a single value to a list of one.
            single => first_unreadable(registry, inner, single, path),
        },
        MetaTypeName::Named(_) if matches!(value, Value::Null) => None,
        MetaTypeName::Named(name) => match registry.types.get(name)? {
            MetaType::InputObject { input_fields, .. } => {
                // GraphQL validation lets any non-object through here.
                let Value::Object(fields) = value else {
                    return Some((
                        path,
                        "INVALID_FORMAT",
                        format!("an object of type `{name}`"),
                    ));
                };
                input_fields.values().find_map(|field| {
                    let item = fields.get(field.name.as_str())?;
                    first_unreadable(registry, &field.ty, item, format!("{path}.{}", field.name))
                })
            }
            MetaType::Scalar { .. } => {
                unparsable_scalar(name, value).map(|(rule, expected)| (path, rule, expected))
            }
            _ => None,
        },
    }
}

/// The rule code and expected shape when `value` is not a valid `scalar`.
fn unparsable_scalar(scalar: &str, value: &Value) -> Option<(&'static str, String)> {
    let value = value.clone();
    let (parses, rule, expected) = match scalar {
        "UUID" => (
            <Uuid as ScalarType>::parse(value).is_ok(),
            "INVALID_FORMAT",
            "a UUID such as `6f1c1f0e-8a7e-4c1e-9a55-3f0f5a1e2b10`",
        ),
        "Decimal" => (
            <Decimal as ScalarType>::parse(value).is_ok(),
            "INVALID_FORMAT",
            "an exact decimal number written as a string, such as `\"1250000.50\"`",
        ),
        "Date" => (
            <Date as ScalarType>::parse(value).is_ok(),
            "INVALID_FORMAT",
            "a calendar day written `YYYY-MM-DD`",
        ),
        "Int" => (
            <i32 as ScalarType>::parse(value).is_ok(),
            "OUT_OF_RANGE",
            "an integer between -2147483648 and 2147483647",
        ),
        "String" => (
            <String as ScalarType>::parse(value).is_ok(),
            "INVALID_FORMAT",
            "a string",
        ),
        "Boolean" => (
            <bool as ScalarType>::parse(value).is_ok(),
            "INVALID_FORMAT",
            "true or false",
        ),
        _ => (true, "", ""),
    };
    (!parses).then(|| (rule, expected.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_paths_become_graphql_paths() {
        for (domain, graphql) in [
            ("", "input"),
            (".", "input"),
            ("name", "input.name"),
            ("name.ar", "input.name.ar"),
            (
                "parties[2].organisation_id",
                "input.parties[2].organisationId",
            ),
            ("schedule.start.month", "input.schedule.start.month"),
            ("schedule.as_stated.fr", "input.schedule.asStated.fr"),
            ("occasion.consultation_id", "input.occasion.consultationId"),
            ("recommendation_ids[0]", "input.recommendationIds[0]"),
            ("to.into", "input.to.into"),
            ("budget.amount", "input.budget.amount"),
        ] {
            assert_eq!(graphql_path(domain), graphql, "{domain}");
        }
    }

    fn parse<T: InputType>(value: serde_json::Value) -> Result<T, ApiError> {
        let value = Value::from_json(value).expect("a GraphQL value");
        match Checked::<T>::parse(Some(value)) {
            Ok(Checked(result)) => result,
            Err(_) => panic!("Checked never fails"),
        }
    }

    #[test]
    fn an_unparsable_scalar_is_named_by_its_graphql_path() {
        let id = "6f1c1f0e-8a7e-4c1e-9a55-3f0f5a1e2b10";
        let agreement = |party: serde_json::Value, amount: serde_json::Value| {
            serde_json::json!({
                "consultationId": id, "agreementId": id, "title": {"fr": "Convention"},
                "kind": "MEMORANDUM", "parties": [{"organisationId": id}, party],
                "budget": {"amount": amount, "currency": "MAD"},
            })
        };
        assert!(parse::<RecordAgreementInput>(agreement(
            serde_json::json!({"participantId": id}),
            serde_json::json!("12.5")
        ))
        .is_ok());
        let error = parse::<RecordAgreementInput>(agreement(
            serde_json::json!({"organisationId": "not-a-uuid"}),
            serde_json::json!("12.5"),
        ))
        .expect_err("refused");
        assert_eq!(
            error.field.as_deref(),
            Some("input.parties[1].organisationId")
        );
        assert_eq!(error.rule.as_deref(), Some("INVALID_FORMAT"));
        assert!(error.message.contains("UUID"), "{}", error.message);
        let error = parse::<RecordAgreementInput>(agreement(
            serde_json::json!({"participantId": id}),
            serde_json::json!(2.5),
        ))
        .expect_err("refused");
        assert_eq!(error.field.as_deref(), Some("input.budget.amount"));
        let error = parse::<RecordAgreementInput>(agreement(
            serde_json::json!("not an object"),
            serde_json::json!("12.5"),
        ))
        .expect_err("refused");
        assert_eq!(error.field.as_deref(), Some("input.parties[1]"));
        assert!(error.message.contains("PartyInput"), "{}", error.message);
        let progress = serde_json::json!({"actionId": id, "on": "2026-02-30", "progress": 3});
        let error = parse::<ReportProgressInput>(progress).expect_err("refused");
        assert_eq!(error.field.as_deref(), Some("input.on"));
        let progress =
            serde_json::json!({"actionId": id, "on": "2026-02-03", "progress": 1u64 << 40});
        let error = parse::<ReportProgressInput>(progress).expect_err("refused");
        assert_eq!(
            (error.field.as_deref(), error.rule.as_deref()),
            (Some("input.progress"), Some("OUT_OF_RANGE"))
        );
    }

    #[test]
    fn graphql_validation_messages_give_their_field() {
        for (message, field, rule) in [
            (
                r#"Invalid value for argument "input.parties.2.organisationId", expected type "UUID""#,
                "input.parties[2].organisationId",
                "INVALID_FORMAT",
            ),
            (
                r#"Invalid value for argument "input", field "organisationId" of type "UUID!" is required but not provided"#,
                "input.organisationId",
                "REQUIRED",
            ),
            (
                r#"Invalid value for argument "input.schedule", field "start" of type "PartialDateInput!" is required but not provided"#,
                "input.schedule.start",
                "REQUIRED",
            ),
            (
                r#"Invalid value for argument "input", unknown field "colour" of type "RegisterOrganisationInput""#,
                "input.colour",
                "UNKNOWN_FIELD",
            ),
            (
                r#"Invalid value for argument "input.kind", enumeration type "OrganisationKind" does not contain the value "CASTLE""#,
                "input.kind",
                "INVALID_FORMAT",
            ),
        ] {
            assert_eq!(
                validation_field(message),
                Some((field.to_owned(), rule)),
                "{message}"
            );
        }
        assert_eq!(
            validation_field(r#"Unknown field "x" on type "Query"."#),
            None
        );
    }

    #[test]
    fn fields_are_found_at_the_top_level_only() {
        assert!(has_field::<RecordAgreementInput>("parties"));
        assert!(has_field::<PlanConsultationInput>("schedule"));
        assert!(!has_field::<ReopenActionInput>("status"));
    }
}
