//! Read models: projections of the event log that dashboards and searches read.
//!
//! They are updated inside each append's transaction (a write is visible to the next read) and
//! can always be rebuilt from the log (`shura rebuild`). Each entity row holds the columns that
//! queries filter and group on, a folded search text, the entity as canonical JSON (`doc`), and
//! `position`: the global position of the last event that changed it. Rows of a consultation's
//! participants, recommendations and agreements carry their own `position` (the last event that
//! changed that participant, recommendation or agreement); their `region` and `month` columns are
//! copies of the consultation's. Key figures keep the event that recorded them; agreement
//! parties their agreement's position; organisers and posts, like action links, the last event
//! of their stream. A consultation row also keeps the first and last day its start can be
//! (`start_first`, `start_last`), which date filters compare. An action's progress reports are
//! rows of `rm_progress_reports` (one per report, keyed by the event that recorded it, never
//! rewritten); its `doc` holds only the latest, as its state does: an append to an action
//! followed for years costs the new report, not all of them.

#[macro_use]
mod table;
pub mod lists;
pub mod queries;
pub mod rows;
pub mod search;
mod sql;

use std::collections::HashMap;

use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::domain::{
    action, consultation, organisation, person, token, user, DomainEvent, PartialDate,
};
use crate::store::{BoxFuture, Projector, StoreError, StoredEvent, Tx};
use rows::{display, doc, minor_units, partial_text, search_of, tag};

/// The read models of the consultation domain.
#[derive(Debug, Default, Clone, Copy)]
pub struct ReadModels;

impl Projector for ReadModels {
    fn project<'a>(
        &'a self,
        tx: &'a mut Tx,
        events: &'a [StoredEvent],
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(project(tx, events))
    }

    fn reset<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(sql::reset(tx))
    }

    fn rebuilt<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(sql::analyze(tx))
    }

    fn tables(&self) -> &'static [&'static str] {
        sql::TABLES
    }

    fn dump<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<Vec<String>, StoreError>> {
        Box::pin(async move {
            let mut lines = sql::dump(tx).await?;
            lines.sort();
            Ok(lines)
        })
    }
}

fn failed(event: &StoredEvent, reason: impl std::fmt::Display) -> StoreError {
    StoreError::Projection {
        position: event.position,
        reason: reason.to_string(),
    }
}

/// Reads a stored document back into the aggregate state it was written from.
fn parse_doc<T: DeserializeOwned>(
    doc: Option<String>,
    event: &StoredEvent,
) -> Result<Option<T>, StoreError> {
    doc.map(|d| serde_json::from_str(&d).map_err(|e| failed(event, e)))
        .transpose()
}

/// Whether a stream's rows may already exist: not when its first event to project is its first
/// event ever, which spares new streams (most of a rebuild, every creation) the reads and deletes.
fn may_exist(first: &StoredEvent) -> bool {
    first.version > 1
}

/// The stream's version before `first`, for the aggregate state it is folded onto (0 for a new
/// stream; stored versions start at 1).
fn version_before(first: &StoredEvent) -> u64 {
    u64::try_from(first.version.saturating_sub(1)).unwrap_or(0)
}

fn decode<E: DomainEvent>(event: &StoredEvent) -> Result<E, StoreError> {
    E::from_payload(&event.event_type, &event.payload).map_err(|e| failed(event, e))
}

/// The rows a run of projected streams writes, gathered so that each table is written once
/// per run (a replay page: a few statements instead of several per stream).
#[derive(Default)]
struct Page {
    consultations: Vec<rows::ConsultationRow>,
    /// Consultations seen for the first time: `rm_counts` grows by this many.
    created: i64,
    /// Consultations that had rows already: their child rows are written again, and their
    /// actions take their (maybe new) region.
    replaced: Vec<(Uuid, Option<String>)>,
    participants: Vec<sql::ParticipantRow>,
    recommendations: Vec<sql::RecommendationRow>,
    themes: Vec<sql::ThemeRow>,
    agreements: Vec<sql::AgreementRow>,
    organisers: Vec<sql::OrganiserRow>,
    parties: Vec<sql::PartyRow>,
    key_figures: Vec<sql::KeyFigureRow>,
    organisations: Vec<rows::OrganisationRow>,
    people: Vec<rows::PersonRow>,
    /// People that had rows already: their posts are written again.
    reposted: Vec<Uuid>,
    posts: Vec<sql::PostRow>,
    actions: Vec<rows::ActionRow>,
    /// Actions that had rows already: their links are written again.
    relinked: Vec<Uuid>,
    links: Vec<sql::LinkRow>,
    /// Progress reports recorded by this run's events (rows of their own, never rewritten).
    reports: Vec<sql::ReportRow>,
}

impl Page {
    /// Writes every gathered row. Consultations come before actions, whose region is read from
    /// their consultation's row in the same statement.
    async fn write(&self, tx: &mut Tx) -> Result<(), StoreError> {
        for (id, _) in &self.replaced {
            sql::delete_children(tx, *id).await?;
        }
        rows::upsert_consultations(tx, &self.consultations).await?;
        if self.created > 0 {
            sql::count_consultations(tx, self.created).await?;
        }
        sql::insert_participants(tx, &self.participants).await?;
        sql::insert_recommendations(tx, &self.recommendations).await?;
        sql::insert_themes(tx, &self.themes).await?;
        sql::insert_agreements(tx, &self.agreements).await?;
        sql::insert_organisers(tx, &self.organisers).await?;
        sql::insert_parties(tx, &self.parties).await?;
        sql::insert_key_figures(tx, &self.key_figures).await?;
        for (id, region) in &self.replaced {
            sql::set_actions_region(tx, *id, region.as_deref()).await?;
        }
        rows::upsert_actions(tx, &self.actions).await?;
        for id in &self.relinked {
            sql::delete_links(tx, *id).await?;
        }
        sql::insert_links(tx, &self.links).await?;
        sql::insert_reports(tx, &self.reports).await?;
        rows::upsert_organisations(tx, &self.organisations).await?;
        rows::upsert_people(tx, &self.people).await?;
        for id in &self.reposted {
            sql::delete_posts(tx, *id).await?;
        }
        sql::insert_posts(tx, &self.posts).await
    }
}

/// Applies events grouped by stream (each stream's events together and in order): folds every
/// stream, then writes each table once.
async fn project(tx: &mut Tx, events: &[StoredEvent]) -> Result<(), StoreError> {
    // Personal values are sealed in the log: opened here with the keys at hand (erased when
    // gone), in the append's (or rebuild's) transaction.
    let opened = crate::erasure::unseal_projected(tx, events).await?;
    let events = opened.as_deref().unwrap_or(events);
    let mut page = Page::default();
    for stream in events.chunk_by(|a, b| a.stream_id == b.stream_id) {
        match stream[0].stream_type.as_str() {
            consultation::STREAM_TYPE => fold_consultation(tx, stream, &mut page).await?,
            organisation::STREAM_TYPE => fold_organisation(tx, stream, &mut page).await?,
            person::STREAM_TYPE => fold_person(tx, stream, &mut page).await?,
            action::STREAM_TYPE => fold_action(tx, stream, &mut page).await?,
            // Tokens are few and change alone: written at once.
            token::STREAM_TYPE => project_token(tx, stream).await?,
            // Users likewise.
            user::STREAM_TYPE => project_user(tx, stream).await?,
            // Streams of other types (tests, future features) have no read model here.
            _ => {}
        }
    }
    page.write(tx).await?;
    // Erasures last, once the page's consultations are written: they rewrite those rows.
    for event in events {
        if event.stream_type == person::STREAM_TYPE && event.event_type == "ContactErased" {
            crate::erasure::erase_in_read_models(tx, event.stream_id, event.position).await?;
        }
    }
    Ok(())
}

/// Folds one consultation's events onto its stored state and gathers its rows.
async fn fold_consultation(
    tx: &mut Tx,
    events: &[StoredEvent],
    page: &mut Page,
) -> Result<(), StoreError> {
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
        version: version_before(first),
    };
    // One event at a time, so that each child's position is the last event that changed it,
    // however the events were grouped into appends or rebuild pages. An event can change only
    // the child it names, so only that child is compared before and after.
    for event in events {
        let decoded: consultation::Event = decode(event)?;
        let child = decoded.child_id();
        let before = child.and_then(|id| Child::of(state.consultation.as_ref(), id));
        state = consultation::apply(state, &decoded);
        // A key figure is recorded once and never changed: its row keeps that event.
        if let consultation::Event::KeyFigureRecorded { key_figure } = &decoded {
            positions.insert(key_figure.key_figure_id, event.position);
        }
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
    let mut row = rows::ConsultationRow::of(c, last.version, last.position);
    // Points raised are found by the list's text filter too.
    if !c.points.is_empty() {
        let points = search_of(c.points.iter().map(|p| &p.text), &[]);
        row.search = format!("{} {points}", row.search);
    }
    if created {
        page.created = page.created.saturating_add(1);
    }
    if existing {
        page.replaced.push((id, row.region.clone()));
    }
    let region = &row.region;
    let month = &row.month;
    let position_of = |child: Uuid| positions.get(&child).copied().unwrap_or(last.position);
    page.participants
        .extend(c.participants.iter().map(|p| sql::ParticipantRow {
            consultation_id: id,
            participant_id: p.participant_id,
            person_id: p.person_id,
            organisation_id: p.organisation_id,
            role: tag(&p.role),
            attendance: tag(&p.attendance),
            region: region.clone(),
            position: position_of(p.participant_id),
            doc: doc(p),
        }));
    page.recommendations
        .extend(c.recommendations.iter().map(|r| sql::RecommendationRow {
            id: r.recommendation_id,
            consultation_id: id,
            status: tag(&r.status),
            region: region.clone(),
            month: month.clone(),
            text: display(&r.text),
            search: search_of([&r.text], &[]),
            position: position_of(r.recommendation_id),
            doc: doc(r),
        }));
    page.themes.extend(c.recommendations.iter().flat_map(|r| {
        r.themes.iter().map(move |theme| sql::ThemeRow {
            recommendation_id: r.recommendation_id,
            theme: theme.clone(),
            consultation_id: id,
            region: region.clone(),
            position: position_of(r.recommendation_id),
        })
    }));
    page.agreements.extend(c.agreements.iter().map(|a| {
        let mut texts = vec![&a.title];
        texts.extend(a.programme.iter());
        texts.extend(a.objectives.iter());
        sql::AgreementRow {
            id: a.agreement_id,
            consultation_id: id,
            kind: tag(&a.kind),
            status: tag(&a.status),
            region: region.clone(),
            budget_region: rows::budget_region(c, a),
            programme: a.programme.as_ref().map(display),
            amount: a.budget.as_ref().map(|m| m.amount.to_string()),
            amount_minor: a
                .budget
                .as_ref()
                .and_then(|m| minor_units(m.amount, &m.currency)),
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
    }));
    page.organisers
        .extend(c.organisers.iter().map(|organisation| sql::OrganiserRow {
            consultation_id: id,
            organisation_id: *organisation,
            position: last.position,
        }));
    page.parties.extend(c.agreements.iter().flat_map(|a| {
        let position = position_of(a.agreement_id);
        a.parties
            .iter()
            .zip(0_i64..)
            .map(move |(p, party)| sql::PartyRow {
                agreement_id: a.agreement_id,
                party,
                consultation_id: id,
                organisation_id: p.organisation_id.or_else(|| {
                    p.participant_id
                        .and_then(|participant| c.participant(participant))
                        .and_then(|participant| participant.organisation_id)
                }),
                participant_id: p.participant_id,
                signatory_person_id: p.signatory_person_id,
                position,
            })
    }));
    page.key_figures.extend(c.key_figures.iter().map(|k| {
        let mut texts = vec![&k.indicator];
        texts.extend(k.stated.iter());
        let (first, last_day) = match (&k.period, &k.as_of) {
            (Some(period), _) => (
                period.start.earliest(),
                period.end.as_ref().and_then(PartialDate::latest),
            ),
            (None, Some(as_of)) => (as_of.earliest(), as_of.latest()),
            (None, None) => (None, None),
        };
        sql::KeyFigureRow {
            consultation_id: id,
            id: k.key_figure_id,
            region: k
                .region
                .as_ref()
                .map(|r| r.as_str().to_owned())
                .or_else(|| region.clone()),
            indicator: display(&k.indicator),
            unit: k.unit.clone(),
            value: k.value.to_string(),
            period_first: first.map(rows::day),
            // Without a known first day, the figure is undated: no last day either.
            period_last: first.and(last_day).map(rows::day),
            search: search_of(texts, &[&k.unit]),
            position: position_of(k.key_figure_id),
            doc: doc(k),
        }
    }));
    page.consultations.push(row);
    Ok(())
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

/// Folds one organisation's events onto its stored state and gathers its row.
async fn fold_organisation(
    tx: &mut Tx,
    events: &[StoredEvent],
    page: &mut Page,
) -> Result<(), StoreError> {
    let (first, last) = (&events[0], &events[events.len() - 1]);
    let mut state = organisation::State {
        organisation: if may_exist(first) {
            parse_doc(sql::organisation_doc(tx, first.stream_id).await?, first)?
        } else {
            None
        },
        version: version_before(first),
    };
    for event in events {
        state = organisation::apply(state, &decode(event)?);
    }
    if let Some(o) = &state.organisation {
        page.organisations
            .push(rows::OrganisationRow::of(o, last.version, last.position));
    }
    Ok(())
}

/// Folds one person's events onto their stored state and gathers their row.
async fn fold_person(
    tx: &mut Tx,
    events: &[StoredEvent],
    page: &mut Page,
) -> Result<(), StoreError> {
    let (first, last) = (&events[0], &events[events.len() - 1]);
    let existing = may_exist(first);
    let mut state = person::State {
        person: if existing {
            parse_doc(sql::person_doc(tx, first.stream_id).await?, first)?
        } else {
            None
        },
        version: version_before(first),
    };
    for event in events {
        state = person::apply(state, &decode(event)?);
    }
    if let Some(p) = &state.person {
        if existing {
            page.reposted.push(p.id);
        }
        page.posts.extend(p.posts.iter().map(|post| sql::PostRow {
            person_id: p.id,
            post_id: post.post_id,
            organisation_id: post.organisation_id,
            ended: post.ended,
            position: last.position,
        }));
        page.people
            .push(rows::PersonRow::of(p, last.version, last.position));
    }
    Ok(())
}

/// Folds one action's events onto its stored state and gathers its row, links and new reports.
///
/// Each progress report is a row of `rm_progress_reports`, written once by the event that
/// recorded it; the action's state (and `doc`) keeps only the latest, so what an append costs
/// does not grow with the reports an action has had.
async fn fold_action(
    tx: &mut Tx,
    events: &[StoredEvent],
    page: &mut Page,
) -> Result<(), StoreError> {
    let (first, last) = (&events[0], &events[events.len() - 1]);
    let existing = may_exist(first);
    let mut state = action::State {
        action: if existing {
            parse_doc(sql::action_doc(tx, first.stream_id).await?, first)?
        } else {
            None
        },
        version: version_before(first),
    };
    for event in events {
        let decoded = decode(event)?;
        state = action::apply(state, &decoded);
        // A report is applied only to an existing action: its row is the report as applied.
        if matches!(decoded, action::Event::ProgressReported { .. }) {
            if let Some(report) = state.action.as_ref().and_then(|a| a.last_report.as_ref()) {
                page.reports.push(sql::ReportRow {
                    action_id: event.stream_id,
                    position: event.position,
                    doc: doc(report),
                });
            }
        }
    }
    let Some(a) = &state.action else {
        return Ok(());
    };
    if existing {
        page.relinked.push(a.id);
    }
    page.links
        .extend(a.recommendation_ids.iter().map(|r| sql::LinkRow {
            action_id: a.id,
            recommendation_id: *r,
            position: last.position,
        }));
    page.actions
        .push(rows::ActionRow::of(a, last.version, last.position));
    Ok(())
}

async fn project_token(tx: &mut Tx, events: &[StoredEvent]) -> Result<(), StoreError> {
    let (first, last) = (&events[0], &events[events.len() - 1]);
    let mut state = token::State {
        token: if may_exist(first) {
            parse_doc(sql::token_doc(tx, first.stream_id).await?, first)?
        } else {
            None
        },
        version: version_before(first),
    };
    for event in events {
        state = token::apply(state, &decode(event)?);
    }
    match &state.token {
        Some(t) => sql::upsert_token(tx, t, last.version, last.position).await,
        None => Ok(()),
    }
}

async fn project_user(tx: &mut Tx, events: &[StoredEvent]) -> Result<(), StoreError> {
    let (first, last) = (&events[0], &events[events.len() - 1]);
    let mut state = user::State {
        user: if may_exist(first) {
            parse_doc(sql::user_doc(tx, first.stream_id).await?, first)?
        } else {
            None
        },
        version: version_before(first),
    };
    for event in events {
        state = user::apply(state, &decode(event)?);
    }
    match &state.user {
        Some(u) => sql::upsert_user(tx, u, last.version, last.position).await,
        None => Ok(()),
    }
}
