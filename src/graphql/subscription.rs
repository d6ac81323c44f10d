//! The subscription root: events as they are appended, and consultations as they change.
//!
//! Subscribers follow the gap-safe global feed from a position, woken by the store's head watch
//! (fed by this process's writer and, on PostgreSQL, by LISTEN/NOTIFY from other processes), with
//! a slow poll as a safety net. A client that reconnects with `after` set to the last position it
//! saw receives every later event exactly once.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use async_graphql::{Context, Result, Subscription};
use futures_util::stream::{self, Stream};
use uuid::Uuid;

use super::types::{Consultation, Event};
use super::ApiState;
use crate::auth::Access;
use crate::commands::consultation_state;
use crate::error::ApiError;
use crate::http::logthrottle::Throttle;
use crate::store::{Store, StoredEvent};

/// How often a subscriber looks at the feed when no wake-up came.
const POLL: Duration = Duration::from_secs(1);
/// Events read per page of the feed.
const PAGE: i64 = 200;

struct Follow {
    store: Store,
    after: i64,
    buffer: VecDeque<StoredEvent>,
    head: tokio::sync::watch::Receiver<i64>,
}

impl Follow {
    async fn next(&mut self) -> Option<StoredEvent> {
        loop {
            if let Some(event) = self.buffer.pop_front() {
                self.after = event.position;
                return Some(event);
            }
            match self.store.read_all_stored(self.after, PAGE).await {
                Ok(events) if !events.is_empty() => self.buffer.extend(events),
                Ok(_) => {
                    let _ = tokio::time::timeout(POLL, self.head.changed()).await;
                }
                Err(error) => {
                    // Every subscriber retries each second: one line a second says it for all.
                    static FEED: Throttle = Throttle::per_second();
                    if let Some(suppressed) = FEED.allow("subscription feed unreadable") {
                        tracing::warn!(%error, suppressed, "subscription could not read the feed; retrying");
                    }
                    tokio::time::sleep(POLL).await;
                }
            }
        }
    }
}

async fn follow(ctx: &Context<'_>, after: Option<i32>) -> Result<Follow> {
    let state = ctx.data::<ApiState>()?;
    let store = state.store.clone();
    let after = match after {
        Some(after) => i64::from(after),
        None => store.head().await.map_err(ApiError::from)?.position,
    };
    Ok(Follow {
        head: store.watch_head(),
        store,
        after,
        buffer: VecDeque::new(),
    })
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
    store: Store,
    access: Access,
    /// The log head when the token was last found valid: a token changes only through an
    /// append, so until the head moves the answer stands.
    valid_at: Option<i64>,
}

impl Permit {
    fn new(ctx: &Context<'_>, store: &Store) -> Permit {
        Permit {
            store: store.clone(),
            access: super::access(ctx).clone(),
            valid_at: None,
        }
    }

    /// Whether the subscriber may still receive events. A read error says no: the stream ends
    /// and the client resubscribes, rather than events flowing unchecked.
    async fn allows(&mut self) -> bool {
        let Access::Token(principal) = &self.access else {
            return true; // anonymous public read: the server's flag, fixed for its life
        };
        let head = *self.store.watch_head().borrow();
        if self.valid_at == Some(head) {
            return true;
        }
        match crate::auth::still_valid(self.store.pool(), principal).await {
            Ok(true) => {
                self.valid_at = Some(head);
                true
            }
            _ => false,
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
        let follow = follow(ctx, after).await?;
        let permit = Permit::new(ctx, &follow.store);
        let filters = (stream_id, event_type, region, HashMap::new());
        Ok(stream::unfold(
            (follow, filters, permit),
            |(mut follow, mut f, mut permit)| async move {
                loop {
                    let event = follow.next().await?;
                    if !permit.allows().await {
                        return None;
                    }
                    if f.0.is_some_and(|s| s != event.stream_id)
                        || f.1.as_ref().is_some_and(|t| *t != event.event_type)
                    {
                        continue;
                    }
                    if let Some(wanted) = &f.2 {
                        let store = follow.store.clone();
                        if region_of(&store, &mut f.3, &event).await.as_ref() != Some(wanted) {
                            continue;
                        }
                    }
                    return Some((Event::from(event), (follow, f, permit)));
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
        let follow = follow(ctx, after).await?;
        let permit = Permit::new(ctx, &follow.store);
        Ok(stream::unfold(
            (follow, permit),
            move |(mut follow, mut permit)| async move {
                loop {
                    let event = follow.next().await?;
                    if event.stream_id != id {
                        continue;
                    }
                    if !permit.allows().await {
                        return None;
                    }
                    let state = consultation_state(&follow.store, id, Some(event.version)).await;
                    if let Ok(Some(c)) = state.map(|s| s.consultation) {
                        let c = Consultation::from_state(c, event.version, event.position);
                        return Some((c, (follow, permit)));
                    }
                }
            },
        ))
    }
}
