//! The value types inside a consultation: its details and schedule, its
//! participants, recommendations, agreements, key figures and points raised,
//! each with the validation of its own fields.

use chrono::NaiveTime;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::common::{
    at, check_inference, check_required_str, check_slugs, check_texts, check_unique_ids, nth,
    reject, Contact, Inference, Money, PartialDate, Period, Place, Source, Text, CODE_MAX,
    LONG_TEXT_MAX, SHORT_TEXT_MAX,
};
use crate::domain::error::{DomainError, Rule};
use crate::domain::region::RegionCode;

/// What kind of gathering a consultation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsultationStatus {
    /// Announced, not yet held.
    #[default]
    Planned,
    /// It took place; its record is still open.
    Held,
    /// Its record is final: attendance and meeting content are frozen.
    Closed,
    /// It was called off; nothing more can be recorded on it.
    Cancelled,
}

impl ConsultationStatus {
    /// The snake_case name, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            ConsultationStatus::Planned => "planned",
            ConsultationStatus::Held => "held",
            ConsultationStatus::Closed => "closed",
            ConsultationStatus::Cancelled => "cancelled",
        }
    }
}

/// When a consultation takes place: partial dates, optional local times of
/// day (Morocco), and the date exactly as the source words it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    /// The (first) day, as far as known.
    pub start: PartialDate,
    /// The last day, for multi-day events.
    #[serde(default)]
    pub end: Option<PartialDate>,
    /// The local starting time, when stated (`"10:00:00"`).
    #[serde(default)]
    pub start_time: Option<NaiveTime>,
    /// The local ending time, when stated.
    #[serde(default)]
    pub end_time: Option<NaiveTime>,
    /// The date as worded in the source (kept when the source contradicts
    /// itself, e.g. a weekday that does not match the day number).
    #[serde(default)]
    pub as_stated: Option<Text>,
    /// True when part of the structured dates was resolved from context
    /// (e.g. the year from the article's date) rather than stated.
    #[serde(default)]
    pub inferred: bool,
}

impl Schedule {
    /// A schedule known only by its start.
    pub fn starting(start: PartialDate) -> Self {
        Schedule {
            start,
            end: None,
            start_time: None,
            end_time: None,
            as_stated: None,
            inferred: false,
        }
    }

    /// Checks the dates, that the end is not certainly before the start, and
    /// that on a single day the end time is not before the start time.
    pub fn validate(&self, field: &str) -> Result<(), DomainError> {
        self.start.validate(&at(field, "start"))?;
        if let Some(end) = &self.end {
            end.validate(&at(field, "end"))?;
            if end.is_certainly_before(&self.start) {
                return reject(at(field, "end"), Rule::EndBeforeStart);
            }
        }
        let single_day = match &self.end {
            None => true,
            Some(end) => end.cmp_known(&self.start) == Some(std::cmp::Ordering::Equal),
        };
        if let (Some(start), Some(end), true) = (self.start_time, self.end_time, single_day) {
            if end < start {
                return reject(at(field, "end_time"), Rule::EndBeforeStart);
            }
        }
        if let Some(as_stated) = &self.as_stated {
            as_stated.validate(&at(field, "as_stated"), SHORT_TEXT_MAX)?;
        }
        Ok(())
    }
}

/// The larger event a consultation is part of, e.g. "the 3rd National
/// Industry Day" or "the UNIDO Director General's working visit".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Occasion {
    /// Its name.
    pub name: Text,
    /// When it ran, if known (e.g. 2 to 5 October 2017).
    #[serde(default)]
    pub period: Option<Period>,
    /// The consultation stream recording it, if there is one.
    #[serde(default)]
    pub consultation_id: Option<Uuid>,
}

/// The descriptive details of a consultation, given when planned and
/// replaced whole when revised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsultationDetails {
    /// What kind of gathering it is.
    pub kind: ConsultationKind,
    /// Its title (a headline works).
    pub title: Text,
    /// A longer description.
    #[serde(default)]
    pub description: Option<Text>,
    /// When it takes place.
    pub schedule: Schedule,
    /// Where it takes place.
    #[serde(default)]
    pub place: Option<Place>,
    /// The region it concerns.
    #[serde(default)]
    pub region: Option<RegionCode>,
    /// Set when the region is not stated by the sources but inferred (e.g. from the city).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region_inferred: Option<Inference>,
    /// What it is for (e.g. "prepare the 2025 foreign-trade action programme").
    #[serde(default)]
    pub purpose: Option<Text>,
    /// The larger event it is part of.
    #[serde(default)]
    pub occasion: Option<Occasion>,
    /// Patronage, e.g. "under the high patronage of King Mohammed VI".
    #[serde(default)]
    pub patronage: Option<Text>,
}

impl ConsultationDetails {
    /// Checks every detail; field names are top-level (`title`, `schedule.end`,
    /// `place.name`, `region`...) as they are flattened into the commands.
    pub fn validate(&self, consultation_id: Uuid) -> Result<(), DomainError> {
        self.title.validate("title", SHORT_TEXT_MAX)?;
        if let Some(description) = &self.description {
            description.validate("description", LONG_TEXT_MAX)?;
        }
        self.schedule.validate("schedule")?;
        if let Some(place) = &self.place {
            place.validate("place")?;
        }
        if let Some(region) = &self.region {
            region.validate("region")?;
        }
        check_inference("region_inferred", &self.region_inferred)?;
        if let Some(purpose) = &self.purpose {
            purpose.validate("purpose", LONG_TEXT_MAX)?;
        }
        if let Some(occasion) = &self.occasion {
            occasion.name.validate("occasion.name", SHORT_TEXT_MAX)?;
            if let Some(period) = &occasion.period {
                period.validate("occasion.period")?;
            }
            if occasion.consultation_id == Some(consultation_id) {
                return reject("occasion.consultation_id", Rule::SelfReference);
            }
        }
        if let Some(patronage) = &self.patronage {
            patronage.validate("patronage", SHORT_TEXT_MAX)?;
        }
        Ok(())
    }
}

/// A participant's role in the meeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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

impl ParticipantRole {
    /// The snake_case name, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            ParticipantRole::Chair => "chair",
            ParticipantRole::CoChair => "co_chair",
            ParticipantRole::Host => "host",
            ParticipantRole::Organiser => "organiser",
            ParticipantRole::CoOrganiser => "co_organiser",
            ParticipantRole::Supervisor => "supervisor",
            ParticipantRole::Speaker => "speaker",
            ParticipantRole::Attendee => "attendee",
            ParticipantRole::Signatory => "signatory",
            ParticipantRole::Guest => "guest",
        }
    }
}

/// Whether a participant was there.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Attendance {
    /// Invited; attendance not (yet) known.
    #[default]
    Invited,
    /// Was there.
    Attended,
    /// Was not there.
    Absent,
}

/// Someone taking part: a person, an organisation, or a person on behalf of
/// an organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    /// The participant's id within the consultation.
    pub participant_id: Uuid,
    /// The person, when named.
    pub person_id: Option<Uuid>,
    /// The organisation represented.
    pub organisation_id: Option<Uuid>,
    /// The capacity as stated, e.g. "رئيس مجلس جهة فاس-مكناس" when the person
    /// is not named.
    pub capacity: Option<Text>,
    /// The role in the meeting.
    pub role: ParticipantRole,
    /// Whether they were there.
    pub attendance: Attendance,
    /// How to reach them (personal data).
    #[serde(default)]
    pub contact: Option<Contact>,
    /// Set when the sources do not state this participation (or attendance) but it was
    /// inferred, e.g. a signatory organisation's representative.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inferred: Option<Inference>,
}

impl Participant {
    /// Whether this is the same attendee as `other`: same person and
    /// organisation, or, when no person is named, same organisation and
    /// capacity (two unnamed officials of one council are different people).
    pub fn same_attendee(&self, other: &Participant) -> bool {
        self.person_id == other.person_id
            && self.organisation_id == other.organisation_id
            && (self.person_id.is_some() || self.capacity == other.capacity)
    }
}

/// Where a recommendation stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum RecommendationStatus {
    /// Made at the meeting, not yet decided on.
    #[default]
    Proposed,
    /// Taken up.
    Accepted,
    /// Turned down.
    Rejected,
    /// Folded into another recommendation.
    Merged {
        /// The recommendation it was merged into.
        into: Uuid,
    },
}

impl RecommendationStatus {
    /// The snake_case name of the status.
    pub fn as_str(&self) -> &'static str {
        match self {
            RecommendationStatus::Proposed => "proposed",
            RecommendationStatus::Accepted => "accepted",
            RecommendationStatus::Rejected => "rejected",
            RecommendationStatus::Merged { .. } => "merged",
        }
    }
}

/// A recommendation made at the consultation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recommendation {
    /// Its id within the consultation.
    pub recommendation_id: Uuid,
    /// What it says.
    pub text: Text,
    /// Theme tags (slugs), e.g. `export-promotion`.
    pub themes: Vec<String>,
    /// The participant who made it, when known.
    pub proposer: Option<Uuid>,
    /// Where it stands.
    pub status: RecommendationStatus,
    /// The reason given with the last status change.
    pub status_reason: Option<String>,
}

/// What kind of agreement was signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgreementStatus {
    /// Signed at (or recorded with) this consultation.
    #[default]
    Signed,
    /// Announced or planned, not signed (e.g. a "new partnership framework" to come).
    Envisaged,
    /// An earlier agreement recalled for context (e.g. the plan this one follows).
    Previous,
}

/// A party to an agreement: an organisation and/or a participant, with the
/// person who signed for it when known, and its own commitments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    /// The organisation that is party to it.
    #[serde(default)]
    pub organisation_id: Option<Uuid>,
    /// The participant (of this consultation) that is party to it.
    #[serde(default)]
    pub participant_id: Option<Uuid>,
    /// The person who signed, when known.
    #[serde(default)]
    pub signatory_person_id: Option<Uuid>,
    /// The signatory's capacity as stated, when the person is not named.
    #[serde(default)]
    pub signatory_capacity: Option<Text>,
    /// What this party commits to.
    #[serde(default)]
    pub commitments: Vec<Text>,
    /// Set when the sources do not name this party but it was inferred (e.g. the State as
    /// the funder of a contract programme).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inferred: Option<Inference>,
}

impl Party {
    /// A party known only by its organisation.
    pub fn organisation(organisation_id: Uuid) -> Self {
        Party {
            organisation_id: Some(organisation_id),
            participant_id: None,
            signatory_person_id: None,
            signatory_capacity: None,
            commitments: Vec::new(),
            inferred: None,
        }
    }

    /// Whether this names the same party as `other` (same organisation or same participant).
    pub fn same_party(&self, other: &Party) -> bool {
        (self.organisation_id.is_some() && self.organisation_id == other.organisation_id)
            || (self.participant_id.is_some() && self.participant_id == other.participant_id)
    }

    /// Checks the party on its own and against the consultation's participants.
    pub fn validate(&self, field: &str, participants: &[Participant]) -> Result<(), DomainError> {
        if self.organisation_id.is_none() && self.participant_id.is_none() {
            return reject(at(field, "organisation_id"), Rule::Required);
        }
        if let Some(participant_id) = self.participant_id {
            if !participants
                .iter()
                .any(|p| p.participant_id == participant_id)
            {
                return reject(
                    at(field, "participant_id"),
                    Rule::UnknownReference {
                        what: "participant".into(),
                    },
                );
            }
        }
        if let Some(capacity) = &self.signatory_capacity {
            capacity.validate(&at(field, "signatory_capacity"), SHORT_TEXT_MAX)?;
        }
        check_texts(&at(field, "commitments"), &self.commitments, LONG_TEXT_MAX)?;
        check_inference(&at(field, "inferred"), &self.inferred)
    }
}

/// Whether an agreement's scope is the whole country or one region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScopeLevel {
    /// The whole country (e.g. a national programme signed in Rabat).
    National,
    /// One region, named by the scope's `region`.
    Regional,
}

/// What an agreement covers: the whole country, or one region. Its budget counts in that
/// region's budget, or (national) in no region's but in the all-regions total. It is the
/// agreement's own, not its venue's: a national programme signed in Rabat is not
/// Rabat-Salé-Kénitra spending.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AgreementScope {
    /// National or regional.
    pub level: ScopeLevel,
    /// The region, for a regional scope (and only then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<RegionCode>,
}

impl AgreementScope {
    /// The whole country.
    pub fn national() -> Self {
        AgreementScope {
            level: ScopeLevel::National,
            region: None,
        }
    }

    /// One region.
    pub fn regional(region: RegionCode) -> Self {
        AgreementScope {
            level: ScopeLevel::Regional,
            region: Some(region),
        }
    }

    /// The region whose budget the agreement counts in: none for a national scope.
    pub fn budget_region(&self) -> Option<&RegionCode> {
        match self.level {
            ScopeLevel::National => None,
            ScopeLevel::Regional => self.region.as_ref(),
        }
    }

    /// Checks that a regional scope names a known region and a national one names none.
    pub fn validate(&self, field: &str) -> Result<(), DomainError> {
        let region = at(field, "region");
        match (self.level, &self.region) {
            (ScopeLevel::Regional, None) => reject(region, Rule::Required),
            (ScopeLevel::Regional, Some(code)) => code.validate(&region).map(|_| ()),
            (ScopeLevel::National, Some(_)) => reject(
                region,
                Rule::InvalidFormat {
                    expected: "no region with a national scope".into(),
                },
            ),
            (ScopeLevel::National, None) => Ok(()),
        }
    }
}

/// An agreement signed at (or recorded with) the consultation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agreement {
    /// Its id within the consultation.
    pub agreement_id: Uuid,
    /// Its title.
    pub title: Text,
    /// What kind of agreement it is.
    pub kind: AgreementKind,
    /// Signed here (default), envisaged, or a previous agreement.
    #[serde(default)]
    pub status: AgreementStatus,
    /// The parties and signatories.
    #[serde(default)]
    pub parties: Vec<Party>,
    /// The money committed (exact decimal).
    #[serde(default)]
    pub budget: Option<Money>,
    /// The period it covers, e.g. 2026-2028.
    #[serde(default)]
    pub period: Option<Period>,
    /// The programme it serves, e.g. "Industrial Innovation Support Programme".
    #[serde(default)]
    pub programme: Option<Text>,
    /// Its objectives or strategic axes.
    #[serde(default)]
    pub objectives: Vec<Text>,
    /// Anything else stated about it (e.g. "the 900 million MAD are additional funding").
    #[serde(default)]
    pub notes: Vec<Text>,
    /// When it was signed, if different from or more precise than the consultation.
    #[serde(default)]
    pub signed_on: Option<PartialDate>,
    /// What it covers: national, or a region. Left out, it is its consultation's region (the
    /// venue's), which is what every agreement recorded before scopes existed means.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<AgreementScope>,
}

impl Agreement {
    /// Checks every field; parties may refer to the consultation's participants.
    pub fn validate(&self, participants: &[Participant]) -> Result<(), DomainError> {
        self.title.validate("title", SHORT_TEXT_MAX)?;
        for (i, party) in self.parties.iter().enumerate() {
            let field = nth("parties", i);
            party.validate(&field, participants)?;
            if self.parties[..i]
                .iter()
                .any(|earlier| earlier.same_party(party))
            {
                return reject(field, Rule::Duplicate);
            }
        }
        if let Some(budget) = &self.budget {
            budget.validate("budget")?;
        }
        if let Some(period) = &self.period {
            period.validate("period")?;
        }
        if let Some(programme) = &self.programme {
            programme.validate("programme", SHORT_TEXT_MAX)?;
        }
        check_texts("objectives", &self.objectives, LONG_TEXT_MAX)?;
        check_texts("notes", &self.notes, LONG_TEXT_MAX)?;
        if let Some(signed_on) = &self.signed_on {
            signed_on.validate("signed_on")?;
        }
        if let Some(scope) = &self.scope {
            scope.validate("scope")?;
        }
        Ok(())
    }

    /// Its scope: its own, or else the region of its consultation (`consultation_region`,
    /// see [`Consultation::region`]); `None` when neither is known.
    pub fn scope_in(&self, consultation_region: Option<&RegionCode>) -> Option<AgreementScope> {
        self.scope
            .clone()
            .or_else(|| consultation_region.cloned().map(AgreementScope::regional))
    }
}

/// A figure stated at the consultation, e.g. the Fès-Meknès region's
/// industrial exports: 2.6 billion MAD.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyFigure {
    /// Its id within the consultation.
    pub key_figure_id: Uuid,
    /// What is measured.
    pub indicator: Text,
    /// The exact value (serialised as a string).
    pub value: Decimal,
    /// The unit: a currency code (`MAD`), `percent`, `count`...
    pub unit: String,
    /// The period the value covers.
    #[serde(default)]
    pub period: Option<Period>,
    /// The date the value stands at.
    #[serde(default)]
    pub as_of: Option<PartialDate>,
    /// The region the value is about.
    #[serde(default)]
    pub region: Option<RegionCode>,
    /// Where the figure comes from, when not the consultation's own sources.
    #[serde(default)]
    pub source: Option<Source>,
    /// The figure as worded in the source, e.g. "2,6 مليار درهم".
    #[serde(default)]
    pub stated: Option<Text>,
    /// Qualifications, e.g. "dominated by traditional industries".
    #[serde(default)]
    pub notes: Vec<Text>,
}

impl KeyFigure {
    /// Checks every field.
    pub fn validate(&self) -> Result<(), DomainError> {
        self.indicator.validate("indicator", SHORT_TEXT_MAX)?;
        check_required_str("unit", &self.unit, CODE_MAX)?;
        if let Some(period) = &self.period {
            period.validate("period")?;
        }
        if let Some(as_of) = &self.as_of {
            as_of.validate("as_of")?;
        }
        if let Some(region) = &self.region {
            region.validate("region")?;
        }
        if let Some(source) = &self.source {
            source.validate("source")?;
        }
        if let Some(stated) = &self.stated {
            stated.validate("stated", SHORT_TEXT_MAX)?;
        }
        check_texts("notes", &self.notes, LONG_TEXT_MAX)
    }
}

/// What kind of point was raised.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PointKind {
    /// Something said or presented.
    #[default]
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

/// A discussion point: a fact of the meeting that is neither a
/// recommendation nor a signed commitment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Point {
    /// Its id within the consultation.
    pub point_id: Uuid,
    /// What was said.
    pub text: Text,
    /// What kind of point it is.
    #[serde(default)]
    pub kind: PointKind,
    /// The participants who raised it (several when stated jointly).
    #[serde(default)]
    pub speakers: Vec<Uuid>,
    /// Theme tags (slugs).
    #[serde(default)]
    pub themes: Vec<String>,
}

impl Point {
    /// Checks every field; speakers must be participants, each named once.
    pub fn validate(&self, participants: &[Participant]) -> Result<(), DomainError> {
        self.text.validate("text", LONG_TEXT_MAX)?;
        check_unique_ids("speakers", &self.speakers)?;
        for (i, speaker) in self.speakers.iter().enumerate() {
            check_participant(&nth("speakers", i), Some(*speaker), participants)?;
        }
        check_slugs("themes", &self.themes)
    }
}

/// Checks that an optional participant reference exists.
pub(crate) fn check_participant(
    field: &str,
    participant_id: Option<Uuid>,
    participants: &[Participant],
) -> Result<(), DomainError> {
    match participant_id {
        Some(id) if !participants.iter().any(|p| p.participant_id == id) => reject(
            field,
            Rule::UnknownReference {
                what: "participant".into(),
            },
        ),
        _ => Ok(()),
    }
}

/// A consultation as rebuilt from its events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consultation {
    /// Its stream id.
    pub id: Uuid,
    /// Its descriptive details.
    pub details: ConsultationDetails,
    /// Where it is in its lifecycle.
    pub status: ConsultationStatus,
    /// The organisations that organised it.
    pub organisers: Vec<Uuid>,
    /// Where the facts come from.
    pub sources: Vec<Source>,
    /// Background notes (e.g. "UNIDO office in Rabat opened February 2004").
    pub context_notes: Vec<Text>,
    /// Who took part.
    pub participants: Vec<Participant>,
    /// What was recommended.
    pub recommendations: Vec<Recommendation>,
    /// What was signed.
    pub agreements: Vec<Agreement>,
    /// Figures stated.
    pub key_figures: Vec<KeyFigure>,
    /// Points raised.
    pub points: Vec<Point>,
    /// Why it was cancelled, if it was.
    pub cancellation_reason: Option<String>,
}

impl Consultation {
    /// The participant with this id.
    pub fn participant(&self, id: Uuid) -> Option<&Participant> {
        self.participants.iter().find(|p| p.participant_id == id)
    }

    /// The recommendation with this id.
    pub fn recommendation(&self, id: Uuid) -> Option<&Recommendation> {
        self.recommendations
            .iter()
            .find(|r| r.recommendation_id == id)
    }

    /// The agreement with this id.
    pub fn agreement(&self, id: Uuid) -> Option<&Agreement> {
        self.agreements.iter().find(|a| a.agreement_id == id)
    }

    /// The region it concerns: its own, or else its place's.
    pub fn region(&self) -> Option<&RegionCode> {
        self.details
            .region
            .as_ref()
            .or(self.details.place.as_ref().and_then(|p| p.region.as_ref()))
    }

    /// The participants who chaired the meeting.
    pub fn chairs(&self) -> impl Iterator<Item = &Participant> {
        self.participants
            .iter()
            .filter(|p| p.role == ParticipantRole::Chair)
    }
}

#[cfg(test)]
mod facts_tests {
    use super::*;
    use crate::domain::consultation::Event;

    fn scope(level: ScopeLevel, region: Option<&str>) -> AgreementScope {
        AgreementScope {
            level,
            region: region.map(RegionCode::new),
        }
    }

    #[test]
    fn a_scope_names_a_known_region_only_when_regional() {
        let fes = scope(ScopeLevel::Regional, Some("MA-03"));
        assert_eq!(fes.validate("scope"), Ok(()));
        assert_eq!(fes.budget_region(), Some(&RegionCode::new("MA-03")));
        assert_eq!(AgreementScope::national().validate("scope"), Ok(()));
        assert_eq!(AgreementScope::national().budget_region(), None);
        let code = |s: AgreementScope| s.validate("scope").map_err(|e| e.code());
        assert_eq!(
            code(scope(ScopeLevel::Regional, None)),
            Err("REQUIRED"),
            "a region is required"
        );
        assert_eq!(
            code(scope(ScopeLevel::National, Some("MA-03"))),
            Err("INVALID_FORMAT")
        );
        assert_eq!(
            code(scope(ScopeLevel::Regional, Some("MA-13"))),
            Err("UNKNOWN_REGION")
        );
    }

    #[test]
    fn events_recorded_before_scopes_and_inferences_decode_with_their_old_meaning() {
        let id = uuid::Uuid::from_u128(1);
        // An agreement and a participant as stored before this change: no `scope`, no
        // `inferred`.
        let agreement = serde_json::json!({"agreement": {"agreement_id": id,
            "title": {"fr": "Convention"}, "kind": "framework_agreement",
            "parties": [{"organisation_id": id}],
            "budget": {"amount": "900000000", "currency": "MAD"}}});
        let Ok(Event::AgreementRecorded { agreement }) =
            Event::from_payload("AgreementRecorded", &agreement)
        else {
            panic!("an old AgreementRecorded decodes");
        };
        assert_eq!(agreement.scope, None);
        assert_eq!(agreement.parties[0].inferred, None);
        let rabat = RegionCode::new("MA-04");
        assert_eq!(
            agreement.scope_in(Some(&rabat)),
            Some(AgreementScope::regional(rabat)),
            "counted in its venue's region, as before"
        );
        assert_eq!(agreement.scope_in(None), None);
        // Re-encoded, it is the payload it was: nothing is added to an old event.
        let again = Event::AgreementRecorded { agreement }.to_payload();
        assert!(again["agreement"].get("scope").is_none());
        assert!(again["agreement"]["parties"][0].get("inferred").is_none());
        let participant = serde_json::json!({"participant": {"participant_id": id,
            "person_id": null, "organisation_id": id, "capacity": null, "role": "attendee",
            "attendance": "attended"}});
        let Ok(Event::ParticipantRegistered { participant }) =
            Event::from_payload("ParticipantRegistered", &participant)
        else {
            panic!("an old ParticipantRegistered decodes");
        };
        assert_eq!(participant.inferred, None);
    }
}
