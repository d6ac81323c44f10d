//! The GraphQL schema: queries, one mutation per domain command, subscriptions, and the audit
//! views, over the read models and the log.

pub mod mutation;
pub mod query;
pub mod subscription;
pub mod types;

use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, Schema};

use crate::store::{Actor, Store};

pub use mutation::Mutation;
pub use query::Query;
pub use subscription::Subscription;

/// The served schema.
pub type ShuraSchema = Schema<Query, Mutation, Subscription>;

/// Deepest query accepted.
pub const MAX_DEPTH: usize = 12;
/// Most complex query accepted (async-graphql's count: one per field, lists times their size).
pub const MAX_COMPLEXITY: usize = 5_000;

/// What resolvers share.
#[derive(Clone)]
pub struct ApiState {
    /// The event store (and, through its pool, the read models).
    pub store: Store,
    /// Appends and conflicts, for `/metrics`.
    pub metrics: std::sync::Arc<crate::http::metrics::Metrics>,
}

/// The principal of a request, put in the request's data by the HTTP layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Who, as recorded in events.
    pub actor: Actor,
}

impl ApiState {
    /// The actor of this request: its principal, or `anonymous`.
    pub fn actor(&self, ctx: &Context<'_>) -> Actor {
        ctx.data_opt::<Principal>()
            .map(|p| p.actor.clone())
            .unwrap_or_else(|| Actor::new("anonymous", "Anonymous"))
    }
}

/// Builds the schema with its limits.
pub fn schema(state: ApiState) -> ShuraSchema {
    let loader = DataLoader::new(
        types::ActionsByConsultation {
            pool: state.store.pool().clone(),
        },
        tokio::spawn,
    );
    Schema::build(Query, Mutation, Subscription)
        .data(state)
        .data(loader)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .finish()
}

/// The schema's SDL, as `schema/schema.graphql` holds it.
pub fn sdl() -> String {
    Schema::build(Query, Mutation, Subscription).finish().sdl()
}
