//! Batch loading of the graph's edges: every key a request asks for at one depth of the query
//! is read with one statement per kind of key, so a page of consultations with their
//! organisers, participants, parties, actions and owners costs a constant number of statements,
//! whatever the page's size.
//!
//! Each request gets a [`DataLoader`] of its own ([`PerRequest`]), serving every key type (each
//! its own batch), that keeps what it read for the rest of the request (not for a
//! subscription, which lives long). Parsed consultation documents are shared by every request,
//! at the row position they were read at ([`ConsultationCache`]).
//!
//! **When a batch is read.** async-graphql's loader reads a batch a set delay after its first
//! key; keys asked for later go to another batch. Resolving a page of 20 consultations takes
//! longer than a millisecond in a busy process, so with a timer alone one depth of the query
//! could be read in several batches, more the larger the page. Here a batch is not even started
//! before the request's resolution has gone as far as it can (its future returned `Pending`):
//! every key of that pass is in it.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextPrepareRequest,
};
use async_graphql::{Context, Request, Response, Result, ServerResult};
use futures_util::future::BoxFuture;
use uuid::Uuid;

use super::as_of::AsOfReads;
use super::cache::ConsultationCache;
use super::stakeholders::{Organisation, Person};
use super::types::{Action, Agreement, Consultation, Participant, Recommendation};
use crate::error::ApiError;
use crate::projections::lists::{self, Related};
use crate::store::Pool;

/// What the graph's loaders read from.
pub struct Graph {
    /// The read models.
    pub pool: Pool,
    /// Parsed consultation documents shared by every request of this process.
    pub cache: Arc<ConsultationCache>,
}

/// The loader of the graph's edges, in every request's data.
pub type GraphLoader = DataLoader<Graph, HashMapCache>;

/// Gives every request a [`GraphLoader`] of its own (a schema extension).
pub struct PerRequest {
    pool: Pool,
    cache: Arc<ConsultationCache>,
}

impl PerRequest {
    /// Loaders over `pool`, sharing one cache of parsed consultations.
    pub fn new(pool: Pool) -> Self {
        PerRequest {
            pool,
            cache: Arc::new(ConsultationCache::default()),
        }
    }
}

impl ExtensionFactory for PerRequest {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RequestLoader {
            pool: self.pool.clone(),
            cache: self.cache.clone(),
            launcher: Arc::new(Launcher::default()),
        })
    }
}

/// Batch reads waiting for the request's resolution to pause.
#[derive(Default)]
struct Launcher {
    /// Whether a query or mutation is being resolved (batches then wait for its pauses).
    holding: AtomicBool,
    waiting: Mutex<Vec<BoxFuture<'static, ()>>>,
}

impl Launcher {
    fn spawn(&self, task: BoxFuture<'static, ()>) {
        if self.holding.load(Ordering::SeqCst) {
            if let Ok(mut waiting) = self.waiting.lock() {
                waiting.push(task);
                return;
            }
        }
        tokio::spawn(task);
    }

    fn launch(&self) {
        let tasks = self
            .waiting
            .lock()
            .map(|mut w| std::mem::take(&mut *w))
            .unwrap_or_default();
        for task in tasks {
            tokio::spawn(task);
        }
    }
}

struct RequestLoader {
    pool: Pool,
    cache: Arc<ConsultationCache>,
    launcher: Arc<Launcher>,
}

#[async_graphql::async_trait::async_trait]
impl Extension for RequestLoader {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let launcher = self.launcher.clone();
        let loader = DataLoader::with_cache(
            Graph {
                pool: self.pool.clone(),
                cache: self.cache.clone(),
            },
            move |task| launcher.spawn(task),
            HashMapCache::default(),
        )
        // Batches start when resolution pauses (see the module's doc), not on a timer.
        .delay(Duration::ZERO);
        // Values are kept only within a query or a mutation: a subscription lives long.
        loader.enable_all_cache(false);
        let batches = Batches(self.launcher.clone());
        next.run(ctx, request.data(loader).data(batches)).await
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        if let Some(loader) = ctx.data_opt::<GraphLoader>() {
            loader.enable_all_cache(true);
        }
        self.launcher.holding.store(true, Ordering::SeqCst);
        let execution = next.run(ctx, operation_name);
        futures_util::pin_mut!(execution);
        let launcher = &self.launcher;
        let response = std::future::poll_fn(|cx| {
            let polled = execution.as_mut().poll(cx);
            // Resolution went as far as it could: read what it asked for.
            launcher.launch();
            polled
        })
        .await;
        self.launcher.holding.store(false, Ordering::SeqCst);
        self.launcher.launch();
        response
    }
}

/// An organisation by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OrganisationId(pub Uuid);
/// A person by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PersonId(pub Uuid);
/// A consultation by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConsultationId(pub Uuid);
/// A recommendation by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RecommendationId(pub Uuid);
/// An agreement by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AgreementId(pub Uuid);
/// An action by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ActionId(pub Uuid);
/// The actions of a consultation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ActionsOf(pub Uuid);
/// The progress reports of an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReportsOf(pub Uuid);
/// A participant of a consultation (participant ids are unique within their consultation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ParticipantOf {
    /// The consultation.
    pub consultation: Uuid,
    /// The participant.
    pub participant: Uuid,
}
/// The first `limit` ids an entity leads to by a reverse edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RelatedTo {
    /// The edge.
    pub edge: Related,
    /// Where it starts.
    pub id: Uuid,
    /// How many ids at most.
    pub limit: i64,
}

fn by_id<K: Eq + Hash, V>(rows: impl IntoIterator<Item = Result<(K, V)>>) -> Result<HashMap<K, V>> {
    rows.into_iter().collect()
}

fn ids<K: Copy>(keys: &[K], id: impl Fn(K) -> Uuid) -> Vec<Uuid> {
    keys.iter().map(|k| id(*k)).collect()
}

impl Loader<OrganisationId> for Graph {
    type Value = Organisation;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[OrganisationId]) -> Result<HashMap<OrganisationId, Organisation>> {
        let rows = lists::organisations_by_ids(&self.pool, &ids(keys, |k| k.0))
            .await
            .map_err(ApiError::from)?;
        by_id(
            rows.iter()
                .map(|r| Ok((OrganisationId(r.id.0), Organisation::from_record(r)?))),
        )
    }
}

impl Loader<PersonId> for Graph {
    type Value = Person;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[PersonId]) -> Result<HashMap<PersonId, Person>> {
        let rows = lists::people_by_ids(&self.pool, &ids(keys, |k| k.0))
            .await
            .map_err(ApiError::from)?;
        by_id(
            rows.iter()
                .map(|r| Ok((PersonId(r.id.0), Person::from_record(r)?))),
        )
    }
}

impl Loader<ConsultationId> for Graph {
    type Value = Consultation;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[ConsultationId]) -> Result<HashMap<ConsultationId, Consultation>> {
        let rows = lists::consultations_by_ids(&self.pool, &ids(keys, |k| k.0))
            .await
            .map_err(ApiError::from)?;
        let nodes = self.cache.page(&self.pool, &rows).await?;
        Ok(nodes
            .into_iter()
            .map(|(id, c)| (ConsultationId(id), c))
            .collect())
    }
}

impl Loader<RecommendationId> for Graph {
    type Value = Recommendation;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[RecommendationId],
    ) -> Result<HashMap<RecommendationId, Recommendation>> {
        let rows = lists::recommendations_by_ids(&self.pool, &ids(keys, |k| k.0))
            .await
            .map_err(ApiError::from)?;
        by_id(
            rows.iter()
                .map(|r| Ok((RecommendationId(r.id.0), Recommendation::from_record(r)?))),
        )
    }
}

impl Loader<AgreementId> for Graph {
    type Value = Agreement;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[AgreementId]) -> Result<HashMap<AgreementId, Agreement>> {
        let rows = lists::agreements_by_ids(&self.pool, &ids(keys, |k| k.0))
            .await
            .map_err(ApiError::from)?;
        by_id(
            rows.iter()
                .map(|r| Ok((AgreementId(r.id.0), Agreement::from_record(r)?))),
        )
    }
}

impl Loader<ActionId> for Graph {
    type Value = Action;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[ActionId]) -> Result<HashMap<ActionId, Action>> {
        let rows = lists::actions_by_ids(&self.pool, &ids(keys, |k| k.0))
            .await
            .map_err(ApiError::from)?;
        by_id(
            rows.iter()
                .map(|r| Ok((ActionId(r.id.0), Action::from_record(r)?))),
        )
    }
}

impl Loader<ActionsOf> for Graph {
    type Value = Vec<Action>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[ActionsOf]) -> Result<HashMap<ActionsOf, Vec<Action>>> {
        let rows = lists::actions_of(&self.pool, &ids(keys, |k| k.0))
            .await
            .map_err(ApiError::from)?;
        let mut by: HashMap<ActionsOf, Vec<Action>> =
            keys.iter().map(|k| (*k, Vec::new())).collect();
        for row in &rows {
            by.entry(ActionsOf(row.consultation_id.0))
                .or_default()
                .push(Action::from_record(row)?);
        }
        Ok(by)
    }
}

impl Loader<ReportsOf> for Graph {
    type Value = Vec<crate::domain::action::ProgressReport>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[ReportsOf]) -> Result<HashMap<ReportsOf, Self::Value>> {
        let rows = lists::reports_of(&self.pool, &ids(keys, |k| k.0))
            .await
            .map_err(ApiError::from)?;
        let by = lists::group_reports(&rows)
            .map_err(|e| ApiError::internal(&format!("a stored progress report: {e}")))?;
        Ok(by.into_iter().map(|(id, r)| (ReportsOf(id), r)).collect())
    }
}

impl Loader<ParticipantOf> for Graph {
    type Value = Participant;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[ParticipantOf]) -> Result<HashMap<ParticipantOf, Participant>> {
        let rows = lists::participants_by_ids(&self.pool, &ids(keys, |k| k.participant))
            .await
            .map_err(ApiError::from)?;
        let mut found = HashMap::with_capacity(keys.len());
        for row in &rows {
            let key = ParticipantOf {
                consultation: row.consultation_id.0,
                participant: row.participant_id.0,
            };
            if keys.contains(&key) {
                found.insert(key, Participant::from_record(row)?);
            }
        }
        Ok(found)
    }
}

impl Loader<RelatedTo> for Graph {
    type Value = Vec<Uuid>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[RelatedTo]) -> Result<HashMap<RelatedTo, Vec<Uuid>>> {
        // One statement per edge and size asked for (a query asks for few).
        let mut groups: HashMap<(Related, i64), Vec<Uuid>> = HashMap::new();
        for key in keys {
            groups
                .entry((key.edge, key.limit))
                .or_default()
                .push(key.id);
        }
        let mut found: HashMap<RelatedTo, Vec<Uuid>> =
            keys.iter().map(|k| (*k, Vec::new())).collect();
        for ((edge, limit), from) in groups {
            let pairs = lists::related(&self.pool, edge, &from, limit)
                .await
                .map_err(ApiError::from)?;
            for (from, to) in pairs {
                let key = RelatedTo {
                    edge,
                    id: from.0,
                    limit,
                };
                found.entry(key).or_default().push(to.0);
            }
        }
        Ok(found)
    }
}

/// The loader a resolver reads through: the request's, or under `asOf` the snapshot's.
enum GraphRef<'a> {
    Live(&'a GraphLoader),
    AsOf(Arc<AsOfReads>),
}

impl std::ops::Deref for GraphRef<'_> {
    type Target = GraphLoader;

    fn deref(&self) -> &GraphLoader {
        match self {
            GraphRef::Live(loader) => loader,
            GraphRef::AsOf(reads) => &reads.loader,
        }
    }
}

fn graph<'a>(ctx: &Context<'a>) -> Result<GraphRef<'a>> {
    if let Some(reads) = super::as_of::current() {
        return Ok(GraphRef::AsOf(reads));
    }
    Ok(GraphRef::Live(ctx.data::<GraphLoader>()?))
}

/// The parsed consultation documents of the read models this field reads.
pub fn cache(ctx: &Context<'_>) -> Result<Arc<ConsultationCache>> {
    Ok(graph(ctx)?.loader().cache.clone())
}

/// The read models this field reads: the live ones, or under `asOf` the snapshot's.
pub fn pool(ctx: &Context<'_>) -> Result<Pool> {
    Ok(graph(ctx)?.loader().pool.clone())
}

/// Starts the request's batches when its resolution pauses (see the module's doc); in every
/// request's data, for the loaders a request makes of its own (`asOf`'s).
#[derive(Clone)]
pub struct Batches(Arc<Launcher>);

/// A loader over `pool` for the rest of this request, batching as the request's own does, with
/// a cache of parsed documents of its own (the documents of another record).
pub fn loader_over(ctx: &Context<'_>, pool: Pool) -> Result<GraphLoader> {
    let launcher = ctx.data::<Batches>()?.0.clone();
    let loader = DataLoader::with_cache(
        Graph {
            pool,
            cache: Arc::new(ConsultationCache::default()),
        },
        move |task| launcher.spawn(task),
        HashMapCache::default(),
    )
    .delay(Duration::ZERO);
    loader.enable_all_cache(true);
    Ok(loader)
}

async fn one<K, V>(ctx: &Context<'_>, key: K) -> Result<Option<V>>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    Graph: Loader<K, Value = V, Error = async_graphql::Error>,
{
    graph(ctx)?.load_one(key).await
}

/// The values of `keys` that exist, in the order of `keys`.
async fn many<K, V>(ctx: &Context<'_>, keys: impl IntoIterator<Item = K>) -> Result<Vec<V>>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    Graph: Loader<K, Value = V, Error = async_graphql::Error>,
    V: Clone,
{
    let keys: Vec<K> = keys.into_iter().collect();
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let found = graph(ctx)?.load_many(keys.iter().cloned()).await?;
    Ok(keys.iter().filter_map(|k| found.get(k).cloned()).collect())
}

/// One organisation.
pub async fn organisation(ctx: &Context<'_>, id: Uuid) -> Result<Option<Organisation>> {
    one(ctx, OrganisationId(id)).await
}

/// Organisations, in the order given (those that exist).
pub async fn organisations(ctx: &Context<'_>, ids: &[Uuid]) -> Result<Vec<Organisation>> {
    many(ctx, ids.iter().map(|id| OrganisationId(*id))).await
}

/// One person.
pub async fn person(ctx: &Context<'_>, id: Uuid) -> Result<Option<Person>> {
    one(ctx, PersonId(id)).await
}

/// People, in the order given (those that exist).
pub async fn people(ctx: &Context<'_>, ids: &[Uuid]) -> Result<Vec<Person>> {
    many(ctx, ids.iter().map(|id| PersonId(*id))).await
}

/// One consultation, as it is now.
pub async fn consultation(ctx: &Context<'_>, id: Uuid) -> Result<Option<Consultation>> {
    one(ctx, ConsultationId(id)).await
}

/// A consultation another entity refers to (the domain checks such references).
pub async fn required_consultation(ctx: &Context<'_>, id: Uuid) -> Result<Consultation> {
    consultation(ctx, id)
        .await?
        .ok_or_else(|| ApiError::internal(&format!("consultation {id} has no row")).into())
}

/// Consultations, in the order given (those that exist).
pub async fn consultations(ctx: &Context<'_>, ids: &[Uuid]) -> Result<Vec<Consultation>> {
    many(ctx, ids.iter().map(|id| ConsultationId(*id))).await
}

/// One recommendation.
pub async fn recommendation(ctx: &Context<'_>, id: Uuid) -> Result<Option<Recommendation>> {
    one(ctx, RecommendationId(id)).await
}

/// Recommendations, in the order given (those that exist).
pub async fn recommendations(ctx: &Context<'_>, ids: &[Uuid]) -> Result<Vec<Recommendation>> {
    many(ctx, ids.iter().map(|id| RecommendationId(*id))).await
}

/// One agreement.
pub async fn agreement(ctx: &Context<'_>, id: Uuid) -> Result<Option<Agreement>> {
    one(ctx, AgreementId(id)).await
}

/// One action.
pub async fn action(ctx: &Context<'_>, id: Uuid) -> Result<Option<Action>> {
    one(ctx, ActionId(id)).await
}

/// Actions, in the order given (those that exist).
pub async fn actions(ctx: &Context<'_>, ids: &[Uuid]) -> Result<Vec<Action>> {
    many(ctx, ids.iter().map(|id| ActionId(*id))).await
}

/// The actions of a consultation, by id.
pub async fn actions_of(ctx: &Context<'_>, consultation: Uuid) -> Result<Vec<Action>> {
    Ok(one(ctx, ActionsOf(consultation)).await?.unwrap_or_default())
}

/// An action's progress reports, oldest first.
pub async fn reports_of(
    ctx: &Context<'_>,
    action: Uuid,
) -> Result<Vec<crate::domain::action::ProgressReport>> {
    Ok(one(ctx, ReportsOf(action)).await?.unwrap_or_default())
}

/// A participant of a consultation.
pub async fn participant(
    ctx: &Context<'_>,
    consultation: Uuid,
    participant: Uuid,
) -> Result<Option<Participant>> {
    one(
        ctx,
        ParticipantOf {
            consultation,
            participant,
        },
    )
    .await
}

/// The first `first` ids (1-100, default 20) `id` leads to by `edge`.
pub async fn related(
    ctx: &Context<'_>,
    edge: Related,
    id: Uuid,
    first: Option<i32>,
) -> Result<Vec<Uuid>> {
    let limit = super::query::page_size(first)?;
    Ok(one(ctx, RelatedTo { edge, id, limit })
        .await?
        .unwrap_or_default())
}
