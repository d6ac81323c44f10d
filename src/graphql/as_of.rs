//! `asOf(position, time)`: the whole query root as the record stood at an earlier log position,
//! for auditors and admins.
//!
//! The field resolves to the query root again, and everything selected under it reads a
//! snapshot of that position ([`crate::time_travel`]) instead of the live store: [`AsOfScope`]
//! wraps the field's resolution (its selection included) in a task-local slot that the field
//! fills, and the resolvers' one way to the data ([`reads`], and [`super::loaders`]'s loader)
//! looks there first. Sibling fields outside `asOf` read the live store, in the same request.

use std::sync::{Arc, OnceLock};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextResolve, ResolveInfo,
};
use async_graphql::{Context, Object, Result, ServerResult, SimpleObject, Value};
use chrono::{DateTime, NaiveDate, Utc};

use super::loaders::{self, GraphLoader};
use super::query::AGGREGATE_COST;
use super::{access, ApiState, QueryRoot};
use crate::error::{ApiError, Code};
use crate::snapshot::{At, SnapshotError};
use crate::store::Store;
use crate::time_travel::{Preparing, Snapshot};

tokio::task_local! {
    /// The record the fields being resolved read, when they are under `asOf`.
    static AS_OF: Arc<OnceLock<Arc<AsOfReads>>>;
}

/// What the fields under one `asOf` read.
pub struct AsOfReads {
    /// The snapshot's store.
    pub store: Store,
    /// The loader of the graph's edges over the snapshot, for the rest of the request.
    pub loader: GraphLoader,
    /// The day the record was cut: the dashboard's `today` when none is given.
    pub today: Option<NaiveDate>,
    /// Kept while the request reads it.
    _snapshot: Arc<Snapshot>,
}

/// The record the field being resolved reads under `asOf`, if it is under one.
pub fn current() -> Option<Arc<AsOfReads>> {
    AS_OF.try_with(|slot| slot.get().cloned()).ok().flatten()
}

/// Under `asOf`, the day the record was cut (the instant asked for, or the day its last event
/// was recorded): "overdue" and "due soon" as they stood then.
pub fn today() -> Option<NaiveDate> {
    current().and_then(|reads| reads.today)
}

/// The store a field reads: the live one, or under `asOf` the snapshot's.
pub fn reads(ctx: &Context<'_>) -> Result<Store> {
    if let Some(reads) = current() {
        return Ok(reads.store.clone());
    }
    Ok(ctx.data::<ApiState>()?.store.clone())
}

/// Gives each `asOf` field its slot (a schema extension).
pub struct AsOfScope;

impl ExtensionFactory for AsOfScope {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(AsOfScope)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for AsOfScope {
    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let opens = info.name == "asOf" && info.parent_type == "Query";
        // Under another `asOf` the slot is already there (and filled): the field refuses.
        if opens && AS_OF.try_with(|_| ()).is_err() {
            return AS_OF
                .scope(Arc::new(OnceLock::new()), next.run(ctx, info))
                .await;
        }
        next.run(ctx, info).await
    }
}

/// A position of the log: where `asOf` cut it.
#[derive(SimpleObject)]
pub struct LogHead {
    /// Global position of the last event (0: an empty log).
    pub position: i32,
    /// Hash of the last event (the chain's head), hex; 64 zeros for an empty log.
    pub hash: String,
}

/// The `asOf` field of the query root.
#[derive(Default)]
pub struct AsOfQuery;

#[Object]
impl AsOfQuery {
    /// Every query as the read models stood after a log position, or at an instant (auditors
    /// and admins): `{ asOf(time: "2025-01-01T00:00:00Z") { dashboard { ... } } }`. Give
    /// `position` or `time`: an instant stands for the last event recorded at or before it.
    /// The answer is what a rebuild of the log cut there gives (contact details erased since
    /// read as erased). It is read from a history of every read-model row's versions that the
    /// service keeps as the log grows, at once for any position the history has reached; the
    /// history is built when the service starts (and again after an erasure), and a question
    /// it cannot answer yet within a few seconds is answered `UNAVAILABLE` with `retryAfter`
    /// (seconds). `dashboard(today:)` defaults to the day of the cut (the instant's, or the
    /// day its last event was recorded). Cannot be nested.
    #[graphql(complexity = "AGGREGATE_COST + child_complexity")]
    async fn as_of(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "After this global position (0: before the first event).")]
        position: Option<i32>,
        #[graphql(desc = "At this instant.")] time: Option<DateTime<Utc>>,
    ) -> Result<QueryRoot> {
        access(ctx).read_log()?;
        let slot = AS_OF
            .try_with(Arc::clone)
            .map_err(|_| ApiError::internal(&"asOf resolved without its scope"))?;
        if slot.get().is_some() {
            return Err(
                ApiError::validation("asOf", "NESTED", "asOf cannot be used under asOf").into(),
            );
        }
        let at = match (position, time) {
            (Some(_), Some(_)) => {
                return Err(ApiError::validation(
                    "time",
                    "EXCLUSIVE",
                    "give position or time, not both",
                )
                .into())
            }
            (None, None) => {
                return Err(
                    ApiError::validation("position", "REQUIRED", "give position or time").into(),
                )
            }
            (Some(p), None) if p < 0 => {
                return Err(ApiError::validation(
                    "position",
                    "NEGATIVE",
                    "position must be 0 or more",
                )
                .into())
            }
            (Some(p), None) => At::Position(i64::from(p)),
            (None, Some(t)) => At::Time(t),
        };
        let instant = match &at {
            At::Time(t) => Some(*t),
            At::Position(_) => None,
        };
        let state = ctx.data::<ApiState>()?;
        let snapshots = &state.snapshots;
        let position = snapshots.position(at).await.map_err(refusal)?;
        let snapshot = match snapshots
            .within(position, state.as_of_wait)
            .await
            .map_err(refusal)?
        {
            Ok(snapshot) => snapshot,
            Err(preparing) => return Err(not_ready(&preparing).into()),
        };
        let today = match instant {
            Some(t) => Some(t.date_naive()),
            None => last_day(&snapshot.store, position).await?,
        };
        let loader = loaders::loader_over(ctx, snapshot.store.pool().clone())?;
        let reads = AsOfReads {
            store: snapshot.store.clone(),
            loader,
            today,
            _snapshot: snapshot,
        };
        if slot.set(Arc::new(reads)).is_err() {
            return Err(ApiError::internal(&"asOf's slot was filled twice").into());
        }
        Ok(QueryRoot::default())
    }

    /// The log's head (auditors and admins): under `asOf`, where the log was cut.
    async fn log_head(&self, ctx: &Context<'_>) -> Result<LogHead> {
        access(ctx).read_log()?;
        let head = reads(ctx)?.head().await.map_err(ApiError::from)?;
        Ok(LogHead {
            position: super::types::int(head.position)?,
            hash: head.hash,
        })
    }
}

/// The day the last event up to `position` was recorded (none before the first event).
async fn last_day(store: &Store, position: i64) -> Result<Option<NaiveDate>> {
    if position <= 0 {
        return Ok(None);
    }
    let events = store
        .read_all_stored(position.saturating_sub(1), 1)
        .await
        .map_err(ApiError::from)?;
    Ok(events.first().map(|e| e.metadata.recorded_at.date_naive()))
}

/// A record still being prepared: `UNAVAILABLE`, saying how far and when to ask again.
fn not_ready(preparing: &Preparing) -> ApiError {
    let seconds = preparing.retry_after.as_secs().max(1);
    let (position, percent) = (preparing.position, preparing.percent);
    let message = match preparing.building {
        Some(building) if building == position => format!(
            "the record as of position {position} is being prepared ({percent} % of a copy and \
             replay of the log up to it): ask again in about {seconds} s"
        ),
        Some(building) => format!(
            "the record as of position {position} waits for the one being prepared first \
             (position {building}, {percent} % done): ask again in about {seconds} s"
        ),
        None => format!(
            "the record as of position {position} is about to be prepared: ask again in about \
             {seconds} s"
        ),
    };
    ApiError {
        retry_after: Some(seconds),
        ..ApiError::new(Code::Unavailable, message)
    }
}

fn refusal(error: SnapshotError) -> async_graphql::Error {
    match error {
        SnapshotError::PastHead { head, .. } => ApiError::validation(
            "position",
            "PAST_HEAD",
            format!("the log ends at position {head}"),
        ),
        other => ApiError::internal(&other),
    }
    .into()
}
