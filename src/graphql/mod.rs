//! The GraphQL schema: queries, one mutation per domain command, subscriptions, and the audit
//! views, over the read models and the log.

pub mod as_of;
pub mod cache;
pub mod dashboard;
pub mod enums;
pub mod feed;
pub mod inputs;
pub mod limits;
pub mod loaders;
pub mod mutation;
pub mod node;
pub mod nulls;
pub mod query;
pub mod scalars;
pub mod search;
pub mod stakeholders;
pub mod subscription;
pub mod types;

use async_graphql::{Context, Schema};

use crate::auth::Access;
use crate::store::{Actor, Store};

pub use mutation::Mutation;
pub use query::Query;
pub use subscription::Subscription;

/// The query root: the parts of the graph, each in its own module, merged into one type.
#[derive(async_graphql::MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    Query,
    node::GraphQuery,
    dashboard::DashboardQuery,
    as_of::AsOfQuery,
);

/// The served schema.
pub type ShuraSchema = Schema<QueryRoot, Mutation, Subscription>;

/// Deepest query accepted (checked in [`limits`], where introspection is not counted).
pub use limits::MAX_DEPTH;
/// Most complex query accepted (async-graphql's count: one per field, lists times their size).
pub const MAX_COMPLEXITY: usize = 5_000;

/// What resolvers share.
#[derive(Clone)]
pub struct ApiState {
    /// The event store (and, through its pool, the read models).
    pub store: Store,
    /// Appends and conflicts, for `/metrics`.
    pub metrics: std::sync::Arc<crate::http::metrics::Metrics>,
    /// The one reader of the global feed that every subscription of this schema shares.
    pub feed: feed::Feed,
    /// The record at earlier positions, for `asOf`.
    pub snapshots: std::sync::Arc<crate::time_travel::Snapshots>,
    /// How long `asOf` waits for a record being prepared before it answers `UNAVAILABLE` with
    /// when to ask again (kept under the request timeout: see [`crate::app::build`]).
    pub as_of_wait: std::time::Duration,
}

/// Default of [`ApiState::as_of_wait`].
pub const DEFAULT_AS_OF_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Anonymous without public read: what a request is when the HTTP layer said nothing.
static CLOSED: Access = Access::Anonymous { public_read: false };

/// Who is asking: the HTTP layer puts an [`Access`] in every request's data.
pub fn access<'a>(ctx: &Context<'a>) -> &'a Access {
    ctx.data_opt::<Access>().unwrap_or(&CLOSED)
}

impl ApiState {
    /// The state over `store`, with its own feed hub.
    pub fn new(store: Store, metrics: std::sync::Arc<crate::http::metrics::Metrics>) -> ApiState {
        ApiState {
            feed: feed::Feed::new(store.clone()),
            snapshots: crate::time_travel::Snapshots::new(store.clone()),
            as_of_wait: DEFAULT_AS_OF_WAIT,
            store,
            metrics,
        }
    }

    /// The actor of this request, for the events it writes.
    pub fn actor(&self, ctx: &Context<'_>) -> Actor {
        access(ctx).actor()
    }
}

/// Builds the schema with its limits.
pub fn schema(state: ApiState) -> ShuraSchema {
    builder(state).finish()
}

/// [`schema`] before it is finished, for a server that adds an extension of its own (a read-only
/// server's, [`crate::snapshot::ReadOnly`]).
pub fn builder(state: ApiState) -> async_graphql::SchemaBuilder<QueryRoot, Mutation, Subscription> {
    let loaders = loaders::PerRequest::new(state.store.pool().clone());
    Schema::build(QueryRoot::default(), Mutation, Subscription)
        .data(state)
        .extension(loaders)
        .extension(as_of::AsOfScope)
        .extension(nulls::NullFailedFields)
        .extension(limits::RequestLimits)
        .limit_complexity(MAX_COMPLEXITY)
}

/// The schema's SDL, as `schema/schema.graphql` holds it.
pub fn sdl() -> String {
    Schema::build(QueryRoot::default(), Mutation, Subscription)
        .finish()
        .sdl()
}
