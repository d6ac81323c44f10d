//! GraphQL output types: read-model rows and domain values as clients see them.

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{ComplexObject, Context, Enum, Json, Result, SimpleObject};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

use crate::domain::{action, consultation, Text};
use crate::error::ApiError;
use crate::projections::lists::{self, ActionRecord, ConsultationRecord, EntityRecord};
use crate::projections::rows::tag;
use crate::store::{Pool, StoredEvent};

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

fn parse<T: serde::de::DeserializeOwned>(doc: &str) -> Result<T> {
    serde_json::from_str(doc).map_err(|e| ApiError::internal(&e).into())
}

fn json_of<T: serde::Serialize>(value: &T) -> Json<Value> {
    Json(serde_json::to_value(value).unwrap_or(Value::Null))
}

/// A consultation: a meeting, workshop or signing ceremony, and what came of it.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Consultation {
    /// Its id (the stream id).
    pub id: Uuid,
    /// Version of the last event that changed it.
    pub version: i64,
    /// Global position of the last event that changed it.
    pub position: i64,
    /// `regional_consultation`, `workshop`, `bilateral_meeting`, `signing_ceremony`...
    pub kind: String,
    /// `planned`, `held`, `closed` or `cancelled`.
    pub status: String,
    /// Region code (`MA-03` is Fès-Meknès).
    pub region: Option<String>,
    /// First known day of the meeting, `YYYY-MM-DD`, when the month is known.
    pub start_date: Option<String>,
    /// `YYYY-MM` of the start, when known.
    pub month: Option<String>,
    /// The title as shown (Arabic first).
    pub title: String,
    #[graphql(skip)]
    pub state: Arc<consultation::Consultation>,
}

impl Consultation {
    /// From a list row and its parsed document (read at the row's position).
    pub fn from_row(r: &ConsultationRecord, state: Arc<consultation::Consultation>) -> Self {
        Consultation {
            id: r.id.0,
            version: r.version,
            position: r.position,
            kind: r.kind.clone(),
            status: r.status.clone(),
            region: r.region.clone(),
            start_date: r.start_date.clone(),
            month: r.month.clone(),
            title: r.title.clone(),
            state,
        }
    }

    /// From a state folded from the log (time travel): version and position as of that state.
    pub fn from_state(c: consultation::Consultation, version: i64, position: i64) -> Self {
        let row = crate::projections::rows::ConsultationRow::of(&c, version, position);
        Consultation {
            id: c.id,
            version,
            position,
            kind: row.kind,
            status: row.status,
            region: row.region,
            start_date: row.start_date,
            month: row.month,
            title: row.title,
            state: Arc::new(c),
        }
    }
}

#[ComplexObject]
impl Consultation {
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
    /// Schedule (partial dates as known, wording as stated), place, occasion, patronage.
    async fn details(&self) -> Json<Value> {
        json_of(&self.state.details)
    }
    /// Organising organisations' ids.
    async fn organiser_ids(&self) -> Vec<Uuid> {
        self.state.organisers.clone()
    }
    /// Where the facts come from (publisher, URL, publication date).
    async fn sources(&self) -> Json<Value> {
        json_of(&self.state.sources)
    }
    /// Background notes.
    async fn context_notes(&self) -> Vec<LocalizedText> {
        self.state.context_notes.iter().map(Into::into).collect()
    }
    /// Who took part.
    async fn participants(&self) -> Vec<Participant> {
        self.state
            .participants
            .iter()
            .map(|p| Participant {
                id: p.participant_id,
                person_id: p.person_id,
                organisation_id: p.organisation_id,
                capacity: p.capacity.as_ref().map(Into::into),
                role: tag(&p.role),
                attendance: tag(&p.attendance),
                contact_details: p.contact.clone(),
                region: self.region.clone(),
            })
            .collect()
    }
    /// What was recommended.
    async fn recommendations(&self) -> Vec<Recommendation> {
        self.state
            .recommendations
            .iter()
            .map(|r| Recommendation::of(self.id, self.region.clone(), r))
            .collect()
    }
    /// What was committed.
    async fn agreements(&self) -> Vec<Agreement> {
        self.state
            .agreements
            .iter()
            .map(|a| Agreement::of(self.id, self.region.clone(), a))
            .collect()
    }
    /// Key figures (indicator, exact value, unit, period).
    async fn key_figures(&self) -> Json<Value> {
        json_of(&self.state.key_figures)
    }
    /// Points raised, statements, follow-ups and results reported.
    async fn points(&self) -> Json<Value> {
        json_of(&self.state.points)
    }
    /// The follow-up actions (loaded for a whole page at once).
    async fn actions(&self, ctx: &Context<'_>) -> Result<Vec<Action>> {
        let loader = ctx.data::<DataLoader<ActionsByConsultation>>()?;
        Ok(loader.load_one(self.id).await?.unwrap_or_default())
    }
}

/// Someone taking part in a consultation.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Participant {
    /// The participant's id within the consultation.
    pub id: Uuid,
    /// The person, when named.
    pub person_id: Option<Uuid>,
    /// The organisation represented.
    pub organisation_id: Option<Uuid>,
    /// The capacity as stated.
    pub capacity: Option<LocalizedText>,
    /// `chair`, `organiser`, `speaker`, `attendee`, `signatory`...
    pub role: String,
    /// `invited`, `attended` or `absent`.
    pub attendance: String,
    #[graphql(skip)]
    pub contact_details: Option<crate::domain::Contact>,
    #[graphql(skip)]
    pub region: Option<String>,
}

/// How to reach a participant.
#[derive(SimpleObject, Clone)]
pub struct Contact {
    /// E-mail address.
    pub email: Option<String>,
    /// Telephone number.
    pub phone: Option<String>,
}

#[ComplexObject]
impl Participant {
    /// Contact details: personal data, readable by admins, auditors and the editors of the
    /// consultation's region only (`FORBIDDEN` for everyone else).
    async fn contact(&self, ctx: &Context<'_>) -> Result<Option<Contact>> {
        super::access(ctx).contacts(self.region.as_deref())?;
        Ok(self.contact_details.as_ref().map(|c| Contact {
            email: c.email.clone(),
            phone: c.phone.clone(),
        }))
    }
}

/// A recommendation made at a consultation.
#[derive(SimpleObject, Clone)]
pub struct Recommendation {
    /// Its id.
    pub id: Uuid,
    /// Its consultation.
    pub consultation_id: Uuid,
    /// Region of the consultation.
    pub region: Option<String>,
    /// `proposed`, `accepted`, `rejected` or `merged`.
    pub status: String,
    /// The text in every language.
    pub text: LocalizedText,
    /// Theme slugs.
    pub themes: Vec<String>,
    /// The participant who proposed it.
    pub proposer: Option<Uuid>,
    /// Why its status last changed.
    pub status_reason: Option<String>,
}

impl Recommendation {
    fn of(consultation_id: Uuid, region: Option<String>, r: &consultation::Recommendation) -> Self {
        Recommendation {
            id: r.recommendation_id,
            consultation_id,
            region,
            status: tag(&r.status),
            text: (&r.text).into(),
            themes: r.themes.clone(),
            proposer: r.proposer,
            status_reason: r.status_reason.clone(),
        }
    }

    /// From a list row.
    pub fn from_record(r: &EntityRecord) -> Result<Self> {
        let rec: consultation::Recommendation = parse(&r.doc)?;
        Ok(Recommendation::of(
            r.consultation_id.map(|c| c.0).unwrap_or_default(),
            r.region.clone(),
            &rec,
        ))
    }
}

/// An agreement or commitment.
#[derive(SimpleObject, Clone)]
pub struct Agreement {
    /// Its id.
    pub id: Uuid,
    /// Its consultation.
    pub consultation_id: Uuid,
    /// Region of the consultation.
    pub region: Option<String>,
    /// The title in every language.
    pub title: LocalizedText,
    /// `framework_agreement`, `amendment`, `contract_programme`...
    pub kind: String,
    /// `signed`, `envisaged` or `previous`.
    pub status: String,
    /// Budget amount as an exact decimal string.
    pub budget_amount: Option<String>,
    /// Budget currency (ISO 4217).
    pub budget_currency: Option<String>,
    /// The programme it belongs to.
    pub programme: Option<LocalizedText>,
    /// Parties, signatories, period, objectives and notes.
    pub details: Json<Value>,
}

impl Agreement {
    fn of(consultation_id: Uuid, region: Option<String>, a: &consultation::Agreement) -> Self {
        Agreement {
            id: a.agreement_id,
            consultation_id,
            region,
            title: (&a.title).into(),
            kind: tag(&a.kind),
            status: tag(&a.status),
            budget_amount: a.budget.as_ref().map(|m| m.amount.to_string()),
            budget_currency: a.budget.as_ref().map(|m| m.currency.clone()),
            programme: a.programme.as_ref().map(Into::into),
            details: json_of(a),
        }
    }

    /// From a list row.
    pub fn from_record(r: &EntityRecord) -> Result<Self> {
        let a: consultation::Agreement = parse(&r.doc)?;
        Ok(Agreement::of(
            r.consultation_id.map(|c| c.0).unwrap_or_default(),
            r.region.clone(),
            &a,
        ))
    }
}

/// A follow-up action.
#[derive(SimpleObject, Clone)]
pub struct Action {
    /// Its id (the stream id).
    pub id: Uuid,
    /// Version of the last event that changed it.
    pub version: i64,
    /// Global position of the last event that changed it.
    pub position: i64,
    /// The consultation it follows up.
    pub consultation_id: Uuid,
    /// The responsible organisation.
    pub owner_id: Uuid,
    /// `not_started`, `in_progress`, `done`, `blocked` or `cancelled`.
    pub status: String,
    /// Progress, 0-100.
    pub progress: i64,
    /// Latest day it can be due, `YYYY-MM-DD`.
    pub due_date: Option<String>,
    /// Region of its consultation.
    pub region: Option<String>,
    /// Title as shown.
    pub title: String,
    /// Links, due date as known, budget, progress reports.
    pub details: Json<Value>,
}

impl Action {
    /// From a list row.
    pub fn from_record(r: &ActionRecord) -> Result<Self> {
        let a: action::Action = parse(&r.doc)?;
        Ok(Action {
            id: r.id.0,
            version: r.version,
            position: r.position,
            consultation_id: r.consultation_id.0,
            owner_id: r.owner_id.0,
            status: r.status.clone(),
            progress: r.progress,
            due_date: r.due_date.clone(),
            region: r.region.clone(),
            title: r.title.clone(),
            details: json_of(&a),
        })
    }
}

/// An organisation or a person.
#[derive(SimpleObject, Clone)]
pub struct Stakeholder {
    /// Its id (the stream id).
    pub id: Uuid,
    /// `organisation` or `person`.
    pub stakeholder_type: String,
    /// For organisations: `ministry`, `regional_council`, `agency`...
    pub kind: Option<String>,
    /// Region code, when tied to one.
    pub region: Option<String>,
    /// Name as shown (Arabic first; people with their Latin transliteration).
    pub name: String,
    /// Version of the last event that changed it.
    pub version: i64,
    /// Global position of the last event that changed it.
    pub position: i64,
    /// Names in every language and script, acronym, parent, posts held.
    pub details: Json<Value>,
}

impl Stakeholder {
    /// From a list row.
    pub fn from_record(stakeholder_type: &str, r: &EntityRecord) -> Result<Self> {
        let details: Value = parse(&r.doc)?;
        Ok(Stakeholder {
            id: r.id.0,
            stakeholder_type: stakeholder_type.to_owned(),
            kind: r.status.clone(),
            region: r.region.clone(),
            name: r.title.clone(),
            version: r.version.unwrap_or_default(),
            position: r.position,
            details: Json(details),
        })
    }
}

/// An event as the log holds it, with its metadata: the auditor's view.
#[derive(SimpleObject, Clone)]
pub struct Event {
    /// Global position.
    pub position: i64,
    /// The stream.
    pub stream_id: Uuid,
    /// The stream's type.
    pub stream_type: String,
    /// Version within the stream.
    pub version: i64,
    /// The event's id.
    pub event_id: Uuid,
    /// Its type.
    pub event_type: String,
    /// Payload schema version as written.
    pub schema_version: i32,
    /// The payload as written.
    pub payload: Json<Value>,
    /// Who wrote it (principal id).
    pub actor_id: String,
    /// Who wrote it (principal name).
    pub actor_name: String,
    /// Server time of the commit, UTC.
    pub recorded_at: String,
    /// Groups the events of one request.
    pub correlation_id: Uuid,
    /// What caused it.
    pub causation_id: Option<Uuid>,
    /// Why, when given.
    pub reason: Option<String>,
    /// Hash chaining it to the event before.
    pub hash: String,
}

impl From<StoredEvent> for Event {
    fn from(e: StoredEvent) -> Self {
        Event {
            position: e.position,
            stream_id: e.stream_id,
            stream_type: e.stream_type,
            version: e.version,
            event_id: e.event_id,
            event_type: e.event_type,
            schema_version: e.schema_version,
            payload: Json(e.payload),
            actor_id: e.metadata.actor_id,
            actor_name: e.metadata.actor_name,
            recorded_at: crate::store::format_time(&e.metadata.recorded_at),
            correlation_id: e.metadata.correlation_id,
            causation_id: e.metadata.causation_id,
            reason: e.metadata.reason,
            hash: e.hash,
        }
    }
}

/// Consultation list order.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, Default)]
pub enum ConsultationSort {
    /// Earliest start first (unknown dates first).
    #[default]
    StartDateAsc,
    /// Latest start first.
    StartDateDesc,
}

/// Loads the actions of many consultations with one statement.
pub struct ActionsByConsultation {
    /// Where to read.
    pub pool: Pool,
}

impl Loader<Uuid> for ActionsByConsultation {
    type Value = Vec<Action>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>> {
        let rows = lists::actions_of(&self.pool, keys)
            .await
            .map_err(ApiError::from)?;
        let mut by: HashMap<Uuid, Vec<Action>> = keys.iter().map(|k| (*k, Vec::new())).collect();
        for row in &rows {
            by.entry(row.consultation_id.0)
                .or_default()
                .push(Action::from_record(row)?);
        }
        Ok(by)
    }
}
