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
use chrono::{DateTime, Utc};

use super::loaders::{self, GraphLoader};
use super::query::AGGREGATE_COST;
use super::{access, ApiState, QueryRoot};
use crate::error::ApiError;
use crate::snapshot::{At, SnapshotError};
use crate::store::Store;
use crate::time_travel::Snapshot;

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
    /// Kept while the request reads it.
    _snapshot: Arc<Snapshot>,
}

/// The record the field being resolved reads under `asOf`, if it is under one.
pub fn current() -> Option<Arc<AsOfReads>> {
    AS_OF.try_with(|slot| slot.get().cloned()).ok().flatten()
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
    /// read as erased). The first question about a position builds that record, which takes a
    /// replay of the log up to it; later ones about the same position are answered from it.
    /// `dashboard(today:)` still defaults to the server's date. Cannot be nested.
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
        let snapshots = &ctx.data::<ApiState>()?.snapshots;
        let position = snapshots.position(at).await.map_err(refusal)?;
        let snapshot = snapshots.at(position).await.map_err(refusal)?;
        let loader = loaders::loader_over(ctx, snapshot.store.pool().clone())?;
        let reads = AsOfReads {
            store: snapshot.store.clone(),
            loader,
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
