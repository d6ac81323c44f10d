//! The subscription root: events as they are appended, and consultations as they change.
//!
//! Every subscription of a schema shares one reader of the gap-safe global feed (see
//! [`super::feed`]) and filters the events in memory, so an append costs one store read however
//! many subscribe, and a subscription whose filter matches nothing costs no store read at all.
//! A client that reconnects with `after` set to the last position it saw receives every later
//! event exactly once.

use std::collections::HashMap;

use async_graphql::{Context, Result, Subscription};
use futures_util::stream::{self, Stream};
use uuid::Uuid;

use super::feed::{Feed, Follower};
use super::types::{Consultation, Event};
use super::ApiState;
use crate::auth::Access;
use crate::commands::consultation_state;
use crate::error::ApiError;
use crate::store::{Store, StoredEvent};

async fn follow(ctx: &Context<'_>, after: Option<i32>) -> Result<(Store, Follower)> {
    let state = ctx.data::<ApiState>()?;
    let store = state.feed.store().clone();
    let after = match after {
        Some(after) => i64::from(after),
        None => store.head().await.map_err(ApiError::from)?.position,
    };
    Ok((store, state.feed.follow(after)))
}

/// The region of the consultation a stream belongs to (consultations and actions), cached.
async fn region_of(
    store: &Store,
    cache: &mut HashMap<Uuid, Option<String>>,
    event: &StoredEvent,
) -> Option<String> {
    if let Some(region) = cache.get(&event.stream_id) {
        return region.clone();
    }
    let consultation = match event.stream_type.as_str() {
        "consultation" => Some(event.stream_id),
        "action" => event
            .payload
            .get("consultation_id")
            .and_then(|v| v.as_str())
            .and_then(|s| Uuid::parse_str(s).ok()),
        _ => None,
    };
    let region = match consultation {
        Some(id) => consultation_state(store, id, None)
            .await
            .ok()
            .and_then(|s| s.consultation)
            .and_then(|c| crate::projections::rows::region_of(&c)),
        None => None,
    };
    cache.insert(event.stream_id, region.clone());
    region
}

/// The permissions a subscription was opened with, checked again before each event it delivers:
/// a token revoked or changed since ends the stream (its socket is closed by the HTTP edge too).
struct Permit {
    feed: Feed,
    access: Access,
}

impl Permit {
    fn new(ctx: &Context<'_>, feed: &Feed) -> Permit {
        Permit {
            feed: feed.clone(),
            access: super::access(ctx).clone(),
        }
    }

    /// Whether the subscriber may still receive events (one check per token and log head,
    /// shared by every subscription: [`Feed::token_still_valid`]).
    async fn allows(&mut self) -> bool {
        match &self.access {
            // Anonymous public read: the server's flag, fixed for its life.
            Access::Anonymous { .. } => true,
            // A read error delivers nothing unchecked.
            Access::Token(principal) => self
                .feed
                .token_still_valid(principal)
                .await
                .unwrap_or(false),
            // Web sessions are not GraphQL credentials (the HTTP edge never makes one here).
            Access::User(_) => false,
        }
    }
}

/// The subscription root.
pub struct Subscription;

/// The subscription root: events as they are appended, consultations as they change
/// (graphql-transport-ws at `/graphql/ws`).
#[Subscription]
impl Subscription {
    /// Events appended after `after` (the current head when omitted), optionally only of one
    /// stream, of one event type, or of one region's consultations and actions.
    async fn events_appended(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The position after which to start (the current head when left out): \
            the last position a client saw, to resume without a gap."
        )]
        after: Option<i32>,
        #[graphql(desc = "Only this stream's events.")] stream_id: Option<Uuid>,
        #[graphql(desc = "Only events of this type (e.g. `ParticipantRegistered`).")]
        event_type: Option<String>,
        #[graphql(desc = "Only events of consultations (and their actions) in this region code.")]
        region: Option<String>,
    ) -> Result<impl Stream<Item = Event>> {
        super::access(ctx).read_log()?;
        let (store, follow) = follow(ctx, after).await?;
        let permit = Permit::new(ctx, &ctx.data::<ApiState>()?.feed);
        let filters = (stream_id, event_type, region, HashMap::new());
        Ok(stream::unfold(
            (store, follow, filters, permit),
            |(store, mut follow, mut f, mut permit)| async move {
                loop {
                    let event = follow.next().await?;
                    // The filters first, on the shared event in memory: a subscription whose
                    // filter matches nothing costs no store read per append. Nothing is
                    // delivered unchecked: the permit is asked before every event sent.
                    if f.0.is_some_and(|s| s != event.stream_id)
                        || f.1.as_ref().is_some_and(|t| *t != event.event_type)
                    {
                        continue;
                    }
                    if let Some(wanted) = &f.2 {
                        if region_of(&store, &mut f.3, &event).await.as_ref() != Some(wanted) {
                            continue;
                        }
                    }
                    if !permit.allows().await {
                        return None;
                    }
                    let event = Event::from(event);
                    return Some((event, (store, follow, f, permit)));
                }
            },
        ))
    }

    /// The consultation each time an event changes it, as of that event. With `after`, the
    /// states since that position are replayed first: past states are the log's, so `after`
    /// needs the same right as `consultation(asOfVersion:)` (auditor or admin).
    async fn consultation_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The consultation's id.")] id: Uuid,
        #[graphql(
            desc = "Replay the states after this log position first (auditors and \
            admins); left out, only changes from now on."
        )]
        after: Option<i32>,
    ) -> Result<impl Stream<Item = Consultation>> {
        // One rule for a capability, whatever the transport: reading past states is reading
        // the log.
        if after.is_some() {
            super::access(ctx).read_log()?;
        } else {
            super::access(ctx).read_models()?;
        }
        let (store, follow) = follow(ctx, after).await?;
        let permit = Permit::new(ctx, &ctx.data::<ApiState>()?.feed);
        Ok(stream::unfold(
            (store, follow, permit),
            move |(store, mut follow, mut permit)| async move {
                loop {
                    let event = follow.next().await?;
                    if event.stream_id != id {
                        continue;
                    }
                    if !permit.allows().await {
                        return None;
                    }
                    let state = consultation_state(&store, id, Some(event.version)).await;
                    if let Ok(Some(c)) = state.map(|s| s.consultation) {
                        let c = Consultation::from_state(c, event.version, event.position);
                        return Some((c, (store, follow, permit)));
                    }
                }
            },
        ))
    }
}
