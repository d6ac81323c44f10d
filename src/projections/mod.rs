//! Read models: projections of the event log that dashboards and searches read.
//!
//! They are updated inside each append's transaction (a write is visible to the next read) and
//! can always be rebuilt from the log (`shura rebuild`). Each entity row holds the columns that
//! queries filter and group on, a folded search text, the entity as canonical JSON (`doc`), and
//! `position`: the global position of the last event that changed it. Rows of a consultation's
//! participants, recommendations and agreements carry their own `position` (the last event that
//! changed that participant, recommendation or agreement); their `region` and `month` columns are
//! copies of the consultation's.

pub mod lists;
pub mod queries;
pub mod rows;
pub mod search;
mod sql;

use std::collections::HashMap;

use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::domain::{action, consultation, organisation, person, token, DomainEvent};
use crate::store::{BoxFuture, ProjectedEvent, Projector, StoreError, Tx};
use rows::{display, doc, minor_units, partial_text, search_of, tag};

/// The read models of the consultation domain.
#[derive(Debug, Default, Clone, Copy)]
pub struct ReadModels;

impl Projector for ReadModels {
    fn project<'a>(
        &'a self,
        tx: &'a mut Tx,
        events: &'a [ProjectedEvent],
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(project(tx, events))
    }

    fn reset<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(sql::reset(tx))
    }

    fn rebuilt<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(sql::analyze(tx))
    }

    fn dump<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<Vec<String>, StoreError>> {
        Box::pin(async move {
            let mut lines = sql::dump(tx).await?;
            lines.sort();
            Ok(lines)
        })
    }
}

fn failed(event: &ProjectedEvent, reason: impl std::fmt::Display) -> StoreError {
    StoreError::Projection {
        position: event.position,
        reason: reason.to_string(),
    }
}

/// Reads a stored document back into the aggregate state it was written from.
fn parse_doc<T: DeserializeOwned>(
    doc: Option<String>,
    event: &ProjectedEvent,
) -> Result<Option<T>, StoreError> {
    doc.map(|d| serde_json::from_str(&d).map_err(|e| failed(event, e)))
        .transpose()
}

/// Whether a stream's rows may already exist: not when its first event to project is its first
/// event ever, which spares new streams (most of a rebuild, every creation) the reads and deletes.
fn may_exist(first: &ProjectedEvent) -> bool {
    first.version > 1
}

fn decode<E: DomainEvent>(event: &ProjectedEvent) -> Result<E, StoreError> {
    E::from_payload(&event.event_type, &event.payload).map_err(|e| failed(event, e))
}

/// Applies one stream's consecutive events.
async fn project(tx: &mut Tx, events: &[ProjectedEvent]) -> Result<(), StoreError> {
    let Some(first) = events.first() else {
        return Ok(());
    };
    match first.stream_type.as_str() {
        consultation::STREAM_TYPE => project_consultation(tx, events).await,
        organisation::STREAM_TYPE => project_organisation(tx, events).await,
        person::STREAM_TYPE => project_person(tx, events).await,
        action::STREAM_TYPE => project_action(tx, events).await,
        token::STREAM_TYPE => project_token(tx, events).await,
        // Streams of other types (tests, future features) have no read model here.
        _ => Ok(()),
    }
}

async fn project_consultation(tx: &mut Tx, events: &[ProjectedEvent]) -> Result<(), StoreError> {
    let (first, last) = (&events[0], &events[events.len() - 1]);
    let id = first.stream_id;
    let existing = may_exist(first);
    let (stored, mut positions): (Option<consultation::Consultation>, HashMap<Uuid, i64>) =
        if existing {
            (
                parse_doc(sql::consultation_doc(tx, id).await?, first)?,
                sql::child_positions(tx, id)
                    .await?
                    .into_iter()
                    .map(|(child, position)| (child.0, position))
                    .collect(),
            )
        } else {
            (None, HashMap::new())
        };
    let created = stored.is_none();
    let mut state = consultation::State {
        consultation: stored,
        version: (first.version - 1).max(0) as u64,
    };
    // One event at a time, so that each child's position is the last event that changed it,
    // however the events were grouped into appends or rebuild pages. An event can change only
    // the child it names, so only that child is compared before and after.
    for event in events {
        let decoded: consultation::Event = decode(event)?;
        let child = decoded.child_id();
        let before = child.and_then(|id| Child::of(state.consultation.as_ref(), id));
        state = consultation::apply(state, &decoded);
        if let Some(id) = child {
            let after = Child::of(state.consultation.as_ref(), id);
            if after.is_some() && after != before {
                positions.insert(id, event.position);
            }
        }
    }
    let Some(c) = &state.consultation else {
        return Ok(());
    };
    let row = rows::ConsultationRow::of(c, last.version, last.position);
    sql::upsert_consultation(tx, &row).await?;
    if created {
        sql::count_consultation(tx).await?;
    }
    if existing {
        sql::delete_children(tx, id).await?;
    }
    let region = row.region.as_deref();
    let month = row.month.as_deref();
    let position_of = |child: Uuid| positions.get(&child).copied().unwrap_or(last.position);
    let participants: Vec<_> = c
        .participants
        .iter()
        .map(|p| sql::ParticipantRow {
            consultation_id: id,
            participant_id: p.participant_id,
            person_id: p.person_id,
            organisation_id: p.organisation_id,
            role: tag(&p.role),
            attendance: tag(&p.attendance),
            region,
            position: position_of(p.participant_id),
            doc: doc(p),
        })
        .collect();
    sql::insert_participants(tx, &participants).await?;
    let recommendations: Vec<_> = c
        .recommendations
        .iter()
        .map(|r| sql::RecommendationRow {
            id: r.recommendation_id,
            consultation_id: id,
            status: tag(&r.status),
            region,
            month,
            text: display(&r.text),
            search: search_of([&r.text], &[]),
            position: position_of(r.recommendation_id),
            doc: doc(r),
        })
        .collect();
    sql::insert_recommendations(tx, &recommendations).await?;
    let themes: Vec<_> = c
        .recommendations
        .iter()
        .flat_map(|r| {
            r.themes.iter().map(move |theme| sql::ThemeRow {
                recommendation_id: r.recommendation_id,
                theme,
                consultation_id: id,
                region,
                position: position_of(r.recommendation_id),
            })
        })
        .collect();
    sql::insert_themes(tx, &themes).await?;
    let agreements: Vec<_> = c
        .agreements
        .iter()
        .map(|a| {
            let mut texts = vec![&a.title];
            texts.extend(a.programme.iter());
            sql::AgreementRow {
                id: a.agreement_id,
                consultation_id: id,
                kind: tag(&a.kind),
                status: tag(&a.status),
                region,
                programme: a.programme.as_ref().map(display),
                amount: a.budget.as_ref().map(|m| m.amount.to_string()),
                amount_minor: a.budget.as_ref().and_then(|m| minor_units(m.amount)),
                currency: a.budget.as_ref().map(|m| m.currency.clone()),
                period_start: a.period.as_ref().and_then(|p| partial_text(&p.start)),
                period_end: a
                    .period
                    .as_ref()
                    .and_then(|p| p.end.as_ref())
                    .and_then(partial_text),
                title: display(&a.title),
                search: search_of(texts, &[]),
                position: position_of(a.agreement_id),
                doc: doc(a),
            }
        })
        .collect();
    sql::insert_agreements(tx, &agreements).await?;
    if !existing {
        // Actions name an existing consultation, so a new one has none to update.
        return Ok(());
    }
    sql::set_actions_region(tx, id, region).await
}

/// A copy of one participant, recommendation or agreement of a consultation.
#[derive(Debug, PartialEq)]
enum Child {
    Participant(consultation::Participant),
    Recommendation(consultation::Recommendation),
    Agreement(consultation::Agreement),
}

impl Child {
    /// The child with this id, if the consultation has one.
    fn of(c: Option<&consultation::Consultation>, id: Uuid) -> Option<Child> {
        let c = c?;
        if let Some(p) = c.participant(id) {
            return Some(Child::Participant(p.clone()));
        }
        if let Some(r) = c.recommendation(id) {
            return Some(Child::Recommendation(r.clone()));
        }
        c.agreement(id).map(|a| Child::Agreement(a.clone()))
    }
}

async fn project_organisation(tx: &mut Tx, events: &[ProjectedEvent]) -> Result<(), StoreError> {
    let (first, last) = (&events[0], &events[events.len() - 1]);
    let mut state = organisation::State {
        organisation: if may_exist(first) {
            parse_doc(sql::organisation_doc(tx, first.stream_id).await?, first)?
        } else {
            None
        },
        version: (first.version - 1).max(0) as u64,
    };
    for event in events {
        state = organisation::apply(state, &decode(event)?);
    }
    match &state.organisation {
        Some(o) => {
            sql::upsert_organisation(
                tx,
                &rows::OrganisationRow::of(o, last.version, last.position),
            )
            .await
        }
        None => Ok(()),
    }
}

async fn project_person(tx: &mut Tx, events: &[ProjectedEvent]) -> Result<(), StoreError> {
    let (first, last) = (&events[0], &events[events.len() - 1]);
    let mut state = person::State {
        person: if may_exist(first) {
            parse_doc(sql::person_doc(tx, first.stream_id).await?, first)?
        } else {
            None
        },
        version: (first.version - 1).max(0) as u64,
    };
    for event in events {
        state = person::apply(state, &decode(event)?);
    }
    match &state.person {
        Some(p) => {
            sql::upsert_person(tx, &rows::PersonRow::of(p, last.version, last.position)).await
        }
        None => Ok(()),
    }
}

async fn project_action(tx: &mut Tx, events: &[ProjectedEvent]) -> Result<(), StoreError> {
    let (first, last) = (&events[0], &events[events.len() - 1]);
    let mut state = action::State {
        action: if may_exist(first) {
            parse_doc(sql::action_doc(tx, first.stream_id).await?, first)?
        } else {
            None
        },
        version: (first.version - 1).max(0) as u64,
    };
    for event in events {
        state = action::apply(state, &decode(event)?);
    }
    let Some(a) = &state.action else {
        return Ok(());
    };
    let region = sql::consultation_region(tx, a.consultation_id).await?;
    sql::upsert_action(
        tx,
        &rows::ActionRow::of(a, last.version, last.position),
        region.as_deref(),
    )
    .await?;
    sql::replace_action_links(tx, a.id, &a.recommendation_ids, last.position).await
}

async fn project_token(tx: &mut Tx, events: &[ProjectedEvent]) -> Result<(), StoreError> {
    let (first, last) = (&events[0], &events[events.len() - 1]);
    let mut state = token::State {
        token: if may_exist(first) {
            parse_doc(sql::token_doc(tx, first.stream_id).await?, first)?
        } else {
            None
        },
        version: (first.version - 1).max(0) as u64,
    };
    for event in events {
        state = token::apply(state, &decode(event)?);
    }
    match &state.token {
        Some(t) => sql::upsert_token(tx, t, last.version, last.position).await,
        None => Ok(()),
    }
}
