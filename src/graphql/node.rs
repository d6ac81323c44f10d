//! Global ids and the root fields that fetch one entity: Relay's `node(id:)`, `organisation(id:)`
//! and `person(id:)`.
//!
//! **Global ids.** An entity's global id is its own UUID, as text. Consultations,
//! organisations, people and actions are streams, and a stream has exactly one type, so their
//! ids never clash. Recommendations and agreements have ids chosen when they are recorded,
//! unique among their kind (the read models key on them); should one ever equal another
//! entity's id, `node` answers with the first of: consultation, organisation, person, action,
//! recommendation, agreement. Ids therefore stay the UUIDs clients already hold, and any of them
//! can be refetched with `node(id:)`.

use async_graphql::{Context, Interface, Object, Result, ID};
use uuid::Uuid;

use super::access;
use super::loaders;
use super::stakeholders::{Organisation, Person};
use super::types::{Action, Agreement, Consultation, Recommendation};
use crate::error::ApiError;
use crate::projections::lists;

/// An entity that can be fetched again by its global id with `node(id:)` (Relay).
#[derive(Interface)]
#[graphql(field(
    name = "id",
    ty = "ID",
    desc = "Its global id: the entity's UUID (see `node`)."
))]
pub enum Node {
    /// A consultation.
    Consultation(Consultation),
    /// An organisation.
    Organisation(Organisation),
    /// A person.
    Person(Person),
    /// A follow-up action.
    Action(Action),
    /// A recommendation.
    Recommendation(Recommendation),
    /// An agreement.
    Agreement(Agreement),
}

/// The root fields that fetch one entity by id.
#[derive(Default)]
pub struct GraphQuery;

/// The root fields that fetch one entity by id.
#[Object]
impl GraphQuery {
    /// The entity with this global id (its UUID), of whatever type: null when there is none
    /// (or the id is not a UUID).
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The global id: the entity's UUID.")] id: ID,
    ) -> Result<Option<Node>> {
        access(ctx).read_models()?;
        let Ok(id) = Uuid::parse_str(&id) else {
            return Ok(None);
        };
        let pool = loaders::pool(ctx)?;
        let kind = lists::kind_of(&pool, id).await.map_err(ApiError::from)?;
        Ok(match kind.as_deref() {
            Some("consultation") => loaders::consultation(ctx, id).await?.map(Node::from),
            Some("organisation") => loaders::organisation(ctx, id).await?.map(Node::from),
            Some("person") => loaders::person(ctx, id).await?.map(Node::from),
            Some("action") => loaders::action(ctx, id).await?.map(Node::from),
            Some("recommendation") => loaders::recommendation(ctx, id).await?.map(Node::from),
            Some("agreement") => loaders::agreement(ctx, id).await?.map(Node::from),
            _ => None,
        })
    }

    /// One organisation, as it is now: null when there is none.
    async fn organisation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The organisation's id.")] id: Uuid,
    ) -> Result<Option<Organisation>> {
        access(ctx).read_models()?;
        loaders::organisation(ctx, id).await
    }

    /// One person, as they are now: null when there is none.
    async fn person(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The person's id.")] id: Uuid,
    ) -> Result<Option<Person>> {
        access(ctx).read_models()?;
        loaders::person(ctx, id).await
    }
}
