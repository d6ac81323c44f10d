//! GraphQL output types: read-model rows and domain values as clients see them, every value
//! typed and every relation an object (loaded in batches by [`super::loaders`]).
//!
//! Numbers a client counts with (versions, positions, progress, pages) are GraphQL `Int`s, which
//! are 32-bit: a stored value past that range is an error for that field, never a wrapped number.

use std::sync::Arc;

use async_graphql::{Context, Enum, Json, Object, Result, SimpleObject, ID};
use chrono::{DateTime, NaiveTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use super::enums::{
    ActionStatus, AgreementKind, AgreementStatus, Attendance, ConsultationKind, ConsultationStatus,
    ParticipantRole, PointKind, RecommendationStatus, ScopeLevel, Weekday,
};
use super::loaders;
use super::scalars::{Date, Decimal, Money};
pub use super::stakeholders::{Organisation, Person, Stakeholder};
use crate::domain::{action, consultation, Text};
use crate::error::ApiError;
use crate::projections::lists::{
    ActionRecord, ConsultationRecord, EntityRecord, KeyFigureRecord, ParticipantRecord, Related,
};
use crate::projections::rows::{display, region_of};
use crate::store::StoredEvent;

/// A stored number as a GraphQL `Int` (32-bit): an error when it does not fit, never a wrap.
pub fn int(value: i64) -> Result<i32> {
    i32::try_from(value).map_err(|_| {
        ApiError::internal(&format!("{value} does not fit a GraphQL Int (32 bits)")).into()
    })
}

/// A document read back from a read model.
pub(crate) fn parse<T: serde::de::DeserializeOwned>(doc: &str) -> Result<T> {
    serde_json::from_str(doc).map_err(|e| ApiError::internal(&e).into())
}

/// A UUID as a global id (see [`super::node`]).
pub fn global_id(id: Uuid) -> ID {
    ID(id.to_string())
}

/// Text in Arabic (first, right to left), French and English.
#[derive(SimpleObject, Clone, Debug)]
pub struct LocalizedText {
    /// Arabic, as written.
    pub ar: Option<String>,
    /// French.
    pub fr: Option<String>,
    /// English.
    pub en: Option<String>,
}

impl From<&Text> for LocalizedText {
    fn from(t: &Text) -> Self {
        LocalizedText {
            ar: t.ar.clone(),
            fr: t.fr.clone(),
            en: t.en.clone(),
        }
    }
}

fn texts(all: &[Text]) -> Vec<LocalizedText> {
    all.iter().map(Into::into).collect()
}

/// How precisely a partial date is known: its finest known calendar part.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum DatePrecision {
    /// The day of the month is known (the year may still be unknown).
    Day,
    /// The month is known, not the day.
    Month,
    /// Only the year is known.
    Year,
    /// No calendar part is known, only the weekday ("a Tuesday").
    Weekday,
}

/// A date as far as it is known: "November 2024", "2013", "a Tuesday", or a full day. It is
/// never served as a day it is not: `date` is null unless year, month and day are all known;
/// `earliest` and `latest` bound the days it can be.
pub struct PartialDate(pub crate::domain::PartialDate);

/// A date as far as it is known: "November 2024", "2013", "a Tuesday", or a full day. It is
/// never served as a day it is not: `date` is null unless year, month and day are all known;
/// `earliest` and `latest` bound the days it can be.
#[Object]
impl PartialDate {
    /// The year, when known.
    async fn year(&self) -> Option<i32> {
        self.0.year
    }
    /// The month, 1-12, when known.
    async fn month(&self) -> Option<i32> {
        self.0.month.map(i32::from)
    }
    /// The day of the month, when known.
    async fn day(&self) -> Option<i32> {
        self.0.day.map(i32::from)
    }
    /// The weekday, when stated.
    async fn weekday(&self) -> Option<Weekday> {
        self.0.weekday.map(Into::into)
    }
    /// The finest calendar part known.
    async fn precision(&self) -> DatePrecision {
        match (self.0.day, self.0.month, self.0.year) {
            (Some(_), _, _) => DatePrecision::Day,
            (None, Some(_), _) => DatePrecision::Month,
            (None, None, Some(_)) => DatePrecision::Year,
            (None, None, None) => DatePrecision::Weekday,
        }
    }
    /// The exact day: only when year, month and day are all known.
    async fn date(&self) -> Option<Date> {
        self.0.to_naive_date().map(Date)
    }
    /// The first day it can be (needs the year): 1 November for "November 2024".
    async fn earliest(&self) -> Option<Date> {
        self.0.earliest().map(Date)
    }
    /// The last day it can be (needs the year): 30 November for "November 2024".
    async fn latest(&self) -> Option<Date> {
        self.0.latest().map(Date)
    }
    /// As text: `2024-11`, `2013`, `Tuesday 2017-10-03`, `Tuesday`.
    async fn text(&self) -> String {
        self.0.to_string()
    }
}

fn partial(date: &Option<crate::domain::PartialDate>) -> Option<PartialDate> {
    date.map(PartialDate)
}

/// A span of time such as 2026-2028; the end is null when open or unknown.
pub struct Period(pub crate::domain::Period);

/// A span of time such as 2026-2028; the end is null when open or unknown.
#[Object]
impl Period {
    /// When it starts.
    async fn start(&self) -> PartialDate {
        PartialDate(self.0.start)
    }
    /// When it ends, if known.
    async fn end(&self) -> Option<PartialDate> {
        partial(&self.0.end)
    }
}

/// When a consultation takes place: dates as far as known, local times of day (Morocco), and
/// the date exactly as the source words it.
pub struct Schedule(pub consultation::Schedule);

/// When a consultation takes place: dates as far as known, local times of day (Morocco), and
/// the date exactly as the source words it.
#[Object]
impl Schedule {
    /// The (first) day, as far as known.
    async fn start(&self) -> PartialDate {
        PartialDate(self.0.start)
    }
    /// The last day, for events of several days.
    async fn end(&self) -> Option<PartialDate> {
        partial(&self.0.end)
    }
    /// The local starting time, when stated.
    async fn start_time(&self) -> Option<NaiveTime> {
        self.0.start_time
    }
    /// The local ending time, when stated.
    async fn end_time(&self) -> Option<NaiveTime> {
        self.0.end_time
    }
    /// The date as the source words it (kept when the source contradicts itself).
    async fn as_stated(&self) -> Option<LocalizedText> {
        self.0.as_stated.as_ref().map(Into::into)
    }
    /// True when part of the dates was resolved from context (e.g. the year from the article's
    /// date) rather than stated.
    async fn inferred(&self) -> bool {
        self.0.inferred
    }
}

/// A fact the sources do not state but that was inferred (from context or general knowledge),
/// with how: a participant, post, party, name, acronym, place or region. A fact whose
/// `inferred` is null is stated by the sources.
#[derive(SimpleObject, Clone, Debug)]
pub struct Inference {
    /// How the fact was inferred.
    pub note: String,
}

/// The inference of an optional flag, as the API shows it.
pub fn inference(inferred: &Option<crate::domain::Inference>) -> Option<Inference> {
    inferred.as_ref().map(|i| Inference {
        note: i.note.clone(),
    })
}

/// What an agreement covers: the whole country, or one region (whose budget it counts in).
#[derive(SimpleObject, Clone, Debug)]
pub struct AgreementScope {
    /// National or regional.
    pub level: ScopeLevel,
    /// The region code (`MA-03`), for a regional scope.
    pub region: Option<String>,
}

/// Where something took place: a venue as stated, its city and region.
pub struct Place(pub crate::domain::Place);

/// Where something took place: a venue as stated, its city and region.
#[Object]
impl Place {
    /// The most precise place stated.
    async fn name(&self) -> LocalizedText {
        (&self.0.name).into()
    }
    /// The city, when known.
    async fn city(&self) -> Option<LocalizedText> {
        self.0.city.as_ref().map(Into::into)
    }
    /// The region code (`MA-03`), when known.
    async fn region(&self) -> Option<&str> {
        self.0.region.as_ref().map(|r| r.as_str())
    }
    /// Set when part of the place (its city or region) is inferred, not stated.
    async fn inferred(&self) -> Option<Inference> {
        inference(&self.0.inferred)
    }
}

/// Where a fact comes from: a press article or another document.
pub struct Source(pub crate::domain::Source);

/// Where a fact comes from: a press article or another document.
#[Object]
impl Source {
    /// Who published it.
    async fn publisher(&self) -> Option<LocalizedText> {
        self.0.publisher.as_ref().map(Into::into)
    }
    /// The byline.
    async fn author(&self) -> Option<LocalizedText> {
        self.0.author.as_ref().map(Into::into)
    }
    /// Where it can be read.
    async fn url(&self) -> Option<&str> {
        self.0.url.as_deref()
    }
    /// Its headline as published.
    async fn title(&self) -> Option<LocalizedText> {
        self.0.title.as_ref().map(Into::into)
    }
    /// When it was published, as far as known.
    async fn published_on(&self) -> Option<PartialDate> {
        partial(&self.0.published_on)
    }
    /// A document reference, e.g. an archived file name.
    async fn document(&self) -> Option<&str> {
        self.0.document.as_deref()
    }
}

/// The larger event a consultation is part of ("the 3rd National Industry Day").
pub struct Occasion(pub consultation::Occasion);

/// The larger event a consultation is part of ("the 3rd National Industry Day").
#[Object]
impl Occasion {
    /// Its name.
    async fn name(&self) -> LocalizedText {
        (&self.0.name).into()
    }
    /// When it ran, if known.
    async fn period(&self) -> Option<Period> {
        self.0.period.map(Period)
    }
    /// The consultation recording it, if there is one.
    async fn consultation(&self, ctx: &Context<'_>) -> Result<Option<Consultation>> {
        match self.0.consultation_id {
            Some(id) => loaders::consultation(ctx, id).await,
            None => Ok(None),
        }
    }
}

/// A consultation: a meeting, workshop or signing ceremony, and what came of it.
#[derive(Clone)]
pub struct Consultation {
    /// Its id (the stream id).
    pub id: Uuid,
    /// Version of the last event that changed it.
    pub version: i64,
    /// Global position of the last event that changed it.
    pub position: i64,
    /// Its region: its own, or its place's.
    pub region: Option<String>,
    /// The consultation as folded from its events.
    pub state: Arc<consultation::Consultation>,
}

impl Consultation {
    /// From a list row and its parsed document (read at the row's position).
    pub fn from_row(r: &ConsultationRecord, state: Arc<consultation::Consultation>) -> Self {
        Consultation {
            id: r.id.0,
            version: r.version,
            position: r.position,
            region: r.region.clone(),
            state,
        }
    }

    /// From a state folded from the log (time travel): version and position as of that state.
    pub fn from_state(c: consultation::Consultation, version: i64, position: i64) -> Self {
        Consultation {
            id: c.id,
            version,
            position,
            region: region_of(&c),
            state: Arc::new(c),
        }
    }

    fn participant(&self, p: &consultation::Participant) -> Participant {
        Participant {
            consultation_id: self.id,
            region: self.region.clone(),
            data: p.clone(),
        }
    }

    fn participant_by_id(&self, id: Uuid) -> Option<Participant> {
        self.state.participant(id).map(|p| self.participant(p))
    }
}

/// A consultation: a meeting, workshop or signing ceremony, and what came of it.
#[Object]
impl Consultation {
    /// Its id: the UUID of its stream, also its global id for `node(id:)`.
    pub(crate) async fn id(&self) -> ID {
        global_id(self.id)
    }
    /// Version of the last event that changed it.
    async fn version(&self) -> Result<i32> {
        int(self.version)
    }
    /// Global position of the last event that changed it.
    async fn position(&self) -> Result<i32> {
        int(self.position)
    }
    /// What kind of gathering it is.
    async fn kind(&self) -> ConsultationKind {
        self.state.details.kind.into()
    }
    /// Where it is in its lifecycle.
    async fn status(&self) -> ConsultationStatus {
        self.state.status.into()
    }
    /// Region code (`MA-03` is Fès-Meknès): its own, or its place's.
    async fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }
    /// Set when its own region is inferred, not stated (see also `place.inferred`).
    async fn region_inferred(&self) -> Option<Inference> {
        inference(&self.state.details.region_inferred)
    }
    /// The day it starts: only when that day is known. A start known as "November 2025" has
    /// none (see `schedule.start` for what is known, and its `earliest`/`latest` bounds).
    async fn start_date(&self) -> Option<Date> {
        self.state.details.schedule.start.to_naive_date().map(Date)
    }
    /// `YYYY-MM` of the start, when its year and month are known.
    async fn month(&self) -> Option<String> {
        let start = &self.state.details.schedule.start;
        match (start.year, start.month) {
            (Some(y), Some(m)) => Some(format!("{y:04}-{m:02}")),
            _ => None,
        }
    }
    /// The title as shown (Arabic first, then French, then English).
    async fn title(&self) -> String {
        display(&self.state.details.title)
    }
    /// The title in every language.
    async fn title_text(&self) -> LocalizedText {
        (&self.state.details.title).into()
    }
    /// The description in every language.
    async fn description(&self) -> Option<LocalizedText> {
        self.state.details.description.as_ref().map(Into::into)
    }
    /// The purpose in every language.
    async fn purpose(&self) -> Option<LocalizedText> {
        self.state.details.purpose.as_ref().map(Into::into)
    }
    /// When it takes place, as far as known.
    async fn schedule(&self) -> Schedule {
        Schedule(self.state.details.schedule.clone())
    }
    /// Where it takes place.
    async fn place(&self) -> Option<Place> {
        self.state.details.place.clone().map(Place)
    }
    /// The larger event it is part of.
    async fn occasion(&self) -> Option<Occasion> {
        self.state.details.occasion.clone().map(Occasion)
    }
    /// Patronage, e.g. "under the high patronage of His Majesty the King".
    async fn patronage(&self) -> Option<LocalizedText> {
        self.state.details.patronage.as_ref().map(Into::into)
    }
    /// The organisations that organised it.
    async fn organisers(&self, ctx: &Context<'_>) -> Result<Vec<Organisation>> {
        loaders::organisations(ctx, &self.state.organisers).await
    }
    /// Where the facts come from.
    async fn sources(&self) -> Vec<Source> {
        self.state.sources.iter().cloned().map(Source).collect()
    }
    /// Background notes.
    async fn context_notes(&self) -> Vec<LocalizedText> {
        texts(&self.state.context_notes)
    }
    /// Who took part.
    async fn participants(&self) -> Vec<Participant> {
        self.state
            .participants
            .iter()
            .map(|p| self.participant(p))
            .collect()
    }
    /// What was recommended.
    async fn recommendations(&self) -> Vec<Recommendation> {
        self.state
            .recommendations
            .iter()
            .map(|r| Recommendation::of(self, r))
            .collect()
    }
    /// What was committed.
    async fn agreements(&self) -> Vec<Agreement> {
        self.state
            .agreements
            .iter()
            .map(|a| Agreement::of(self, a))
            .collect()
    }
    /// Figures stated (indicator, exact value, unit, period).
    async fn key_figures(&self) -> Vec<KeyFigure> {
        self.state
            .key_figures
            .iter()
            .map(|k| KeyFigure {
                consultation_id: self.id,
                region: k
                    .region
                    .as_ref()
                    .map(|r| r.as_str().to_owned())
                    .or_else(|| self.region.clone()),
                data: k.clone(),
            })
            .collect()
    }
    /// Points raised: statements, quotes, follow-ups and results reported.
    async fn points(&self) -> Vec<Point> {
        self.state
            .points
            .iter()
            .map(|p| Point {
                speakers: p
                    .speakers
                    .iter()
                    .filter_map(|s| self.participant_by_id(*s))
                    .collect(),
                data: p.clone(),
            })
            .collect()
    }
    /// The follow-up actions (loaded for a whole page at once).
    async fn actions(&self, ctx: &Context<'_>) -> Result<Vec<Action>> {
        loaders::actions_of(ctx, self.id).await
    }
    /// Why it was cancelled, if it was.
    async fn cancellation_reason(&self) -> Option<&str> {
        self.state.cancellation_reason.as_deref()
    }
}

/// Someone taking part in a consultation: a person, an organisation, or a person on behalf of
/// an organisation.
#[derive(Clone)]
pub struct Participant {
    /// The consultation.
    pub consultation_id: Uuid,
    /// The consultation's region (contact details are readable by its editors).
    pub region: Option<String>,
    /// The participant as recorded.
    pub data: consultation::Participant,
}

impl Participant {
    /// From a participant row.
    pub fn from_record(r: &ParticipantRecord) -> Result<Self> {
        Ok(Participant {
            consultation_id: r.consultation_id.0,
            region: r.region.clone(),
            data: parse(&r.doc)?,
        })
    }
}

/// Someone taking part in a consultation: a person, an organisation, or a person on behalf of
/// an organisation.
#[Object]
impl Participant {
    /// The participant's id within its consultation.
    async fn id(&self) -> Uuid {
        self.data.participant_id
    }
    /// The person, when named.
    async fn person(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        match self.data.person_id {
            Some(id) => loaders::person(ctx, id).await,
            None => Ok(None),
        }
    }
    /// The organisation represented.
    async fn organisation(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        match self.data.organisation_id {
            Some(id) => loaders::organisation(ctx, id).await,
            None => Ok(None),
        }
    }
    /// The consultation.
    async fn consultation(&self, ctx: &Context<'_>) -> Result<Consultation> {
        loaders::required_consultation(ctx, self.consultation_id).await
    }
    /// The capacity as stated, e.g. "رئيس مجلس جهة فاس-مكناس" when the person is not named.
    async fn capacity(&self) -> Option<LocalizedText> {
        self.data.capacity.as_ref().map(Into::into)
    }
    /// The role in the meeting.
    async fn role(&self) -> ParticipantRole {
        self.data.role.into()
    }
    /// Whether they were there.
    async fn attendance(&self) -> Attendance {
        self.data.attendance.into()
    }
    /// Set when the sources do not state this participation (or attendance), with how it was
    /// inferred.
    async fn inferred(&self) -> Option<Inference> {
        inference(&self.data.inferred)
    }
    /// Contact details: personal data, readable by admins, auditors and the editors of the
    /// consultation's region only. For anyone else this field alone is null, with a
    /// `FORBIDDEN` error naming its path.
    async fn contact(&self, ctx: &Context<'_>) -> Result<Option<Contact>> {
        super::access(ctx).contacts(self.region.as_deref())?;
        Ok(self.data.contact.as_ref().map(|c| Contact {
            email: c.email.clone(),
            phone: c.phone.clone(),
            erased: c.erased,
        }))
    }
}

/// How to reach a participant.
#[derive(SimpleObject, Clone)]
pub struct Contact {
    /// E-mail address.
    pub email: Option<String>,
    /// Telephone number.
    pub phone: Option<String>,
    /// True when the details were erased (the person's key destroyed): e-mail and phone are
    /// then null for everyone.
    pub erased: bool,
}

/// A recommendation made at a consultation.
#[derive(Clone)]
pub struct Recommendation {
    /// Its consultation.
    pub consultation_id: Uuid,
    /// Region of the consultation.
    pub region: Option<String>,
    /// The recommendation as recorded.
    pub data: consultation::Recommendation,
    /// Its proposer, when it was read with its consultation.
    proposer: Option<Participant>,
}

impl Recommendation {
    fn of(c: &Consultation, r: &consultation::Recommendation) -> Self {
        Recommendation {
            consultation_id: c.id,
            region: c.region.clone(),
            data: r.clone(),
            proposer: r.proposer.and_then(|p| c.participant_by_id(p)),
        }
    }

    /// From a list row.
    pub fn from_record(r: &EntityRecord) -> Result<Self> {
        Ok(Recommendation {
            consultation_id: r.consultation_id.map(|c| c.0).unwrap_or_default(),
            region: r.region.clone(),
            data: parse(&r.doc)?,
            proposer: None,
        })
    }
}

/// A recommendation made at a consultation.
#[Object]
impl Recommendation {
    /// Its id, also its global id for `node(id:)`.
    pub(crate) async fn id(&self) -> ID {
        global_id(self.data.recommendation_id)
    }
    /// Its consultation.
    async fn consultation(&self, ctx: &Context<'_>) -> Result<Consultation> {
        loaders::required_consultation(ctx, self.consultation_id).await
    }
    /// Region of the consultation.
    async fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }
    /// What became of it.
    async fn status(&self) -> RecommendationStatus {
        (&self.data.status).into()
    }
    /// The recommendation it was merged into, when merged.
    async fn merged_into(&self, ctx: &Context<'_>) -> Result<Option<Recommendation>> {
        match self.data.status {
            consultation::RecommendationStatus::Merged { into } => {
                loaders::recommendation(ctx, into).await
            }
            _ => Ok(None),
        }
    }
    /// The text in every language.
    async fn text(&self) -> LocalizedText {
        (&self.data.text).into()
    }
    /// Theme slugs, e.g. `export-promotion`.
    async fn themes(&self) -> &[String] {
        &self.data.themes
    }
    /// The participant who proposed it, when known.
    async fn proposer(&self, ctx: &Context<'_>) -> Result<Option<Participant>> {
        if let Some(p) = &self.proposer {
            return Ok(Some(p.clone()));
        }
        match self.data.proposer {
            Some(p) => loaders::participant(ctx, self.consultation_id, p).await,
            None => Ok(None),
        }
    }
    /// The reason given with its last status change.
    async fn status_reason(&self) -> Option<&str> {
        self.data.status_reason.as_deref()
    }
    /// The actions that follow it up, by id: at most `first` (1-100, default 20).
    #[graphql(
        complexity = "first.unwrap_or(20).clamp(0, super::query::MAX_PAGE_SIZE) as usize * child_complexity"
    )]
    async fn actions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "At most this many (1-100, default 20).")] first: Option<i32>,
    ) -> Result<Vec<Action>> {
        let ids = loaders::related(
            ctx,
            Related::RecommendationActions,
            self.data.recommendation_id,
            first,
        )
        .await?;
        loaders::actions(ctx, &ids).await
    }
}

/// An agreement or commitment recorded at a consultation.
#[derive(Clone)]
pub struct Agreement {
    /// Its consultation.
    pub consultation_id: Uuid,
    /// Region of the consultation.
    pub region: Option<String>,
    /// The agreement as recorded.
    pub data: consultation::Agreement,
    /// The participants its parties name, when it was read with its consultation.
    participants: Option<Vec<Participant>>,
}

impl Agreement {
    fn of(c: &Consultation, a: &consultation::Agreement) -> Self {
        Agreement {
            consultation_id: c.id,
            region: c.region.clone(),
            data: a.clone(),
            participants: Some(
                a.parties
                    .iter()
                    .filter_map(|p| p.participant_id)
                    .filter_map(|p| c.participant_by_id(p))
                    .collect(),
            ),
        }
    }

    /// From a list row.
    pub fn from_record(r: &EntityRecord) -> Result<Self> {
        Ok(Agreement {
            consultation_id: r.consultation_id.map(|c| c.0).unwrap_or_default(),
            region: r.region.clone(),
            data: parse(&r.doc)?,
            participants: None,
        })
    }
}

/// An agreement or commitment recorded at a consultation.
#[Object]
impl Agreement {
    /// Its id, also its global id for `node(id:)`.
    pub(crate) async fn id(&self) -> ID {
        global_id(self.data.agreement_id)
    }
    /// Its consultation.
    async fn consultation(&self, ctx: &Context<'_>) -> Result<Consultation> {
        loaders::required_consultation(ctx, self.consultation_id).await
    }
    /// Region of the consultation.
    async fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }
    /// The title in every language.
    async fn title(&self) -> LocalizedText {
        (&self.data.title).into()
    }
    /// What kind of agreement it is.
    async fn kind(&self) -> AgreementKind {
        self.data.kind.into()
    }
    /// Signed here, envisaged, or an earlier agreement recalled.
    async fn status(&self) -> AgreementStatus {
        self.data.status.into()
    }
    /// The money committed, exact.
    async fn budget(&self) -> Option<Money> {
        self.data.budget.as_ref().map(Into::into)
    }
    /// The programme it serves.
    async fn programme(&self) -> Option<LocalizedText> {
        self.data.programme.as_ref().map(Into::into)
    }
    /// The period it covers, e.g. 2026-2028.
    async fn period(&self) -> Option<Period> {
        self.data.period.map(Period)
    }
    /// Its objectives or strategic axes.
    async fn objectives(&self) -> Vec<LocalizedText> {
        texts(&self.data.objectives)
    }
    /// Anything else stated about it.
    async fn notes(&self) -> Vec<LocalizedText> {
        texts(&self.data.notes)
    }
    /// When it was signed, if different from or more precise than the consultation.
    async fn signed_on(&self) -> Option<PartialDate> {
        partial(&self.data.signed_on)
    }
    /// What it covers: national, or a region, whose budget it counts in. Agreements recorded
    /// without a scope cover their consultation's region. Null when neither is known.
    async fn scope(&self) -> Option<AgreementScope> {
        let region = self.region.as_deref().map(crate::domain::RegionCode::new);
        self.data
            .scope_in(region.as_ref())
            .map(|scope| AgreementScope {
                level: scope.level.into(),
                region: scope.region.map(|r| r.as_str().to_owned()),
            })
    }
    /// The parties and their signatories, in the order recorded.
    async fn parties(&self) -> Vec<AgreementParty> {
        self.data
            .parties
            .iter()
            .map(|p| AgreementParty {
                consultation_id: self.consultation_id,
                participant: p.participant_id.and_then(|id| {
                    self.participants
                        .as_ref()
                        .and_then(|all| all.iter().find(|q| q.data.participant_id == id).cloned())
                }),
                data: p.clone(),
            })
            .collect()
    }
}

/// A party to an agreement: an organisation and/or a participant, the person who signed for it
/// when known, and its own commitments.
pub struct AgreementParty {
    consultation_id: Uuid,
    /// The participant, when it was read with its consultation.
    participant: Option<Participant>,
    data: consultation::Party,
}

impl AgreementParty {
    async fn participant_of(&self, ctx: &Context<'_>) -> Result<Option<Participant>> {
        if let Some(p) = &self.participant {
            return Ok(Some(p.clone()));
        }
        match self.data.participant_id {
            Some(p) => loaders::participant(ctx, self.consultation_id, p).await,
            None => Ok(None),
        }
    }
}

/// A party to an agreement: an organisation and/or a participant, the person who signed for it
/// when known, and its own commitments.
#[Object]
impl AgreementParty {
    /// The organisation that is party to it: its own, or its participant's.
    async fn organisation(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        let id = match self.data.organisation_id {
            Some(id) => Some(id),
            None => self
                .participant_of(ctx)
                .await?
                .and_then(|p| p.data.organisation_id),
        };
        match id {
            Some(id) => loaders::organisation(ctx, id).await,
            None => Ok(None),
        }
    }
    /// The participant of the consultation that is party to it, when named.
    async fn participant(&self, ctx: &Context<'_>) -> Result<Option<Participant>> {
        self.participant_of(ctx).await
    }
    /// The person who signed, when known.
    async fn signatory(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        match self.data.signatory_person_id {
            Some(id) => loaders::person(ctx, id).await,
            None => Ok(None),
        }
    }
    /// The signatory's capacity as stated, when the person is not named.
    async fn signatory_capacity(&self) -> Option<LocalizedText> {
        self.data.signatory_capacity.as_ref().map(Into::into)
    }
    /// The party's role at the consultation: its participant's role, when a participant.
    async fn role(&self, ctx: &Context<'_>) -> Result<Option<ParticipantRole>> {
        Ok(self.participant_of(ctx).await?.map(|p| p.data.role.into()))
    }
    /// What this party commits to.
    async fn commitments(&self) -> Vec<LocalizedText> {
        texts(&self.data.commitments)
    }
    /// Set when the sources do not name this party, with how it was inferred.
    async fn inferred(&self) -> Option<Inference> {
        inference(&self.data.inferred)
    }
}

/// A figure stated at a consultation, e.g. the region's industrial exports: 2.6 billion MAD.
#[derive(Clone)]
pub struct KeyFigure {
    consultation_id: Uuid,
    region: Option<String>,
    data: consultation::KeyFigure,
}

impl KeyFigure {
    /// From a list row.
    pub fn from_record(r: &KeyFigureRecord) -> Result<Self> {
        Ok(KeyFigure {
            consultation_id: r.consultation_id.0,
            region: r.region.clone(),
            data: parse(&r.doc)?,
        })
    }
}

/// A figure stated at a consultation, e.g. the region's industrial exports: 2.6 billion MAD.
#[Object]
impl KeyFigure {
    /// Its id within its consultation.
    async fn id(&self) -> Uuid {
        self.data.key_figure_id
    }
    /// The consultation where it was stated.
    async fn consultation(&self, ctx: &Context<'_>) -> Result<Consultation> {
        loaders::required_consultation(ctx, self.consultation_id).await
    }
    /// What is measured.
    async fn indicator(&self) -> LocalizedText {
        (&self.data.indicator).into()
    }
    /// The exact value.
    async fn value(&self) -> Decimal {
        Decimal(self.data.value)
    }
    /// The unit: a currency code (`MAD`), `percent`, `count`...
    async fn unit(&self) -> &str {
        &self.data.unit
    }
    /// The period the value covers.
    async fn period(&self) -> Option<Period> {
        self.data.period.map(Period)
    }
    /// The date the value stands at.
    async fn as_of(&self) -> Option<PartialDate> {
        partial(&self.data.as_of)
    }
    /// The region it is about: its own, or its consultation's when it states none.
    async fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }
    /// Where it comes from, when not the consultation's own sources.
    async fn source(&self) -> Option<Source> {
        self.data.source.clone().map(Source)
    }
    /// The figure as worded in the source, e.g. "2,6 مليار درهم".
    async fn stated(&self) -> Option<LocalizedText> {
        self.data.stated.as_ref().map(Into::into)
    }
    /// Qualifications.
    async fn notes(&self) -> Vec<LocalizedText> {
        texts(&self.data.notes)
    }
}

/// A point raised at a consultation: neither a recommendation nor a signed commitment.
pub struct Point {
    speakers: Vec<Participant>,
    data: consultation::Point,
}

/// A point raised at a consultation: neither a recommendation nor a signed commitment.
#[Object]
impl Point {
    /// Its id within its consultation.
    async fn id(&self) -> Uuid {
        self.data.point_id
    }
    /// What kind of point it is.
    async fn kind(&self) -> PointKind {
        self.data.kind.into()
    }
    /// What was said, in every language.
    async fn statement(&self) -> LocalizedText {
        (&self.data.text).into()
    }
    /// The participants who raised it (several when stated jointly).
    async fn speakers(&self) -> &[Participant] {
        &self.speakers
    }
    /// Theme slugs.
    async fn themes(&self) -> &[String] {
        &self.data.themes
    }
}

/// A follow-up action.
#[derive(Clone)]
pub struct Action {
    /// Its id (the stream id).
    pub id: Uuid,
    /// Version of the last event that changed it.
    pub version: i64,
    /// Global position of the last event that changed it.
    pub position: i64,
    /// Region of its consultation.
    pub region: Option<String>,
    /// The action as folded from its events.
    pub state: Arc<action::Action>,
}

impl Action {
    /// From a list row.
    pub fn from_record(r: &ActionRecord) -> Result<Self> {
        Ok(Action {
            id: r.id.0,
            version: r.version,
            position: r.position,
            region: r.region.clone(),
            state: Arc::new(parse(&r.doc)?),
        })
    }
}

/// A follow-up action.
#[Object]
impl Action {
    /// Its id: the UUID of its stream, also its global id for `node(id:)`.
    pub(crate) async fn id(&self) -> ID {
        global_id(self.id)
    }
    /// Version of the last event that changed it.
    async fn version(&self) -> Result<i32> {
        int(self.version)
    }
    /// Global position of the last event that changed it.
    async fn position(&self) -> Result<i32> {
        int(self.position)
    }
    /// The consultation it follows up.
    async fn consultation(&self, ctx: &Context<'_>) -> Result<Consultation> {
        loaders::required_consultation(ctx, self.state.consultation_id).await
    }
    /// The organisation responsible.
    async fn owner(&self, ctx: &Context<'_>) -> Result<Organisation> {
        let owner = self.state.owner_organisation_id;
        loaders::organisation(ctx, owner)
            .await?
            .ok_or_else(|| ApiError::internal(&format!("organisation {owner} has no row")).into())
    }
    /// The recommendations it implements.
    async fn recommendations(&self, ctx: &Context<'_>) -> Result<Vec<Recommendation>> {
        loaders::recommendations(ctx, &self.state.recommendation_ids).await
    }
    /// The agreement it implements.
    async fn agreement(&self, ctx: &Context<'_>) -> Result<Option<Agreement>> {
        match self.state.agreement_id {
            Some(id) => loaders::agreement(ctx, id).await,
            None => Ok(None),
        }
    }
    /// Where it stands.
    async fn status(&self) -> ActionStatus {
        self.state.status.into()
    }
    /// Progress, 0-100.
    async fn progress(&self) -> i32 {
        i32::from(self.state.progress)
    }
    /// When it is due, as far as known.
    async fn due(&self) -> Option<PartialDate> {
        partial(&self.state.due)
    }
    /// The day it is due: only when that day is known (a due date known as "March 2025" has
    /// none; `due.latest` is its last possible day, which `overdueOn` compares).
    async fn due_date(&self) -> Option<Date> {
        self.state
            .due
            .as_ref()
            .and_then(|d| d.to_naive_date())
            .map(Date)
    }
    /// Region of its consultation.
    async fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }
    /// The title as shown (Arabic first).
    async fn title(&self) -> String {
        display(&self.state.title)
    }
    /// The title in every language.
    async fn title_text(&self) -> LocalizedText {
        (&self.state.title).into()
    }
    /// More detail.
    async fn description(&self) -> Option<LocalizedText> {
        self.state.description.as_ref().map(Into::into)
    }
    /// Its budget, exact.
    async fn budget(&self) -> Option<Money> {
        self.state.budget.as_ref().map(Into::into)
    }
    /// Every progress report, oldest first.
    async fn reports(&self, ctx: &Context<'_>) -> Result<Vec<ProgressReport>> {
        // Rows of their own (the action's document does not hold them), batch-loaded.
        Ok(super::loaders::reports_of(ctx, self.id)
            .await?
            .iter()
            .map(|r| ProgressReport {
                on: Date(r.on),
                progress: i32::from(r.progress),
                note: r.note.as_ref().map(Into::into),
                reason: r.reason.clone(),
            })
            .collect())
    }
    /// The reason given with its last status change.
    async fn status_reason(&self) -> Option<&str> {
        self.state.status_reason.as_deref()
    }
}

/// A dated progress report on an action.
#[derive(SimpleObject)]
pub struct ProgressReport {
    /// The day of the report.
    pub on: Date,
    /// Progress, 0-100.
    pub progress: i32,
    /// What was reported.
    pub note: Option<LocalizedText>,
    /// Why progress went down, when it did.
    pub reason: Option<String>,
}

/// An event as the log holds it, with its metadata: the auditor's view.
#[derive(Clone)]
pub struct Event(pub Arc<StoredEvent>);

/// An event as the log holds it, with its metadata: the auditor's view.
#[Object]
impl Event {
    /// Global position.
    async fn position(&self) -> Result<i32> {
        int(self.0.position)
    }
    /// The stream.
    async fn stream_id(&self) -> Uuid {
        self.0.stream_id
    }
    /// The stream's type.
    async fn stream_type(&self) -> &str {
        &self.0.stream_type
    }
    /// Version within the stream.
    async fn version(&self) -> Result<i32> {
        int(self.0.version)
    }
    /// The event's id.
    async fn event_id(&self) -> Uuid {
        self.0.event_id
    }
    /// Its type.
    async fn event_type(&self) -> &str {
        &self.0.event_type
    }
    /// Payload schema version as written.
    async fn schema_version(&self) -> i32 {
        self.0.schema_version
    }
    /// The payload as written (the raw event, for auditors).
    async fn payload(&self) -> Json<&Value> {
        Json(&self.0.payload)
    }
    /// Who wrote it (principal id).
    async fn actor_id(&self) -> &str {
        &self.0.metadata.actor_id
    }
    /// Who wrote it (principal name).
    async fn actor_name(&self) -> &str {
        &self.0.metadata.actor_name
    }
    /// Server time of the commit, UTC.
    async fn recorded_at(&self) -> DateTime<Utc> {
        self.0.metadata.recorded_at
    }
    /// Groups the events of one request.
    async fn correlation_id(&self) -> Uuid {
        self.0.metadata.correlation_id
    }
    /// What caused it.
    async fn causation_id(&self) -> Option<Uuid> {
        self.0.metadata.causation_id
    }
    /// Why, when given.
    async fn reason(&self) -> Option<&str> {
        self.0.metadata.reason.as_deref()
    }
    /// Hash chaining it to the event before.
    async fn hash(&self) -> &str {
        &self.0.hash
    }
}

impl From<StoredEvent> for Event {
    fn from(e: StoredEvent) -> Self {
        Event(Arc::new(e))
    }
}

/// An event shared with every subscription it is delivered to: none copies it.
impl From<Arc<StoredEvent>> for Event {
    fn from(e: Arc<StoredEvent>) -> Self {
        Event(e)
    }
}

/// Consultation list order.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, Default)]
pub enum ConsultationSort {
    /// Earliest start first (starts without a known month first).
    #[default]
    StartDateAsc,
    /// Latest start first.
    StartDateDesc,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_numbers_past_32_bits_are_errors_not_wrapped_ints() {
        assert_eq!(int(2_147_483_647).ok(), Some(i32::MAX));
        assert_eq!(int(-5).ok(), Some(-5));
        assert!(int(2_147_483_648).is_err());
        assert!(int(18_813_396_227).is_err());
    }
}
