//! Organisations and people (Popolo's `Organization` and `Person`, with posts as memberships),
//! their edges, and the `Stakeholder` interface they share.

use std::sync::Arc;

use async_graphql::{Context, Interface, Object, Result, ID};
use uuid::Uuid;

use super::enums::OrganisationKind;
use super::loaders;
use super::types::{
    global_id, inference, int, parse, Action, Consultation, Inference, LocalizedText, PartialDate,
};
use crate::domain::{organisation, person};
use crate::error::ApiError;
use crate::projections::lists::{EntityRecord, Related};

/// An organisation or a person: what mutations on either return.
// Two fields of one type repeat `ty = "i32"`, which clippy takes for a repeated attribute.
#[allow(clippy::duplicated_attributes)]
#[derive(Interface, Clone)]
#[graphql(
    field(
        name = "id",
        ty = "ID",
        desc = "Its id: the UUID of its stream, also its global id."
    ),
    field(
        name = "name",
        ty = "String",
        desc = "The name as shown (Arabic first; people with their Latin transliteration)."
    ),
    field(
        name = "version",
        ty = "i32",
        desc = "Version of the last event that changed it."
    ),
    field(
        name = "position",
        ty = "i32",
        desc = "Global position of the last event that changed it."
    )
)]
pub enum Stakeholder {
    /// An organisation.
    Organisation(Organisation),
    /// A person.
    Person(Person),
}

impl Stakeholder {
    /// From a list row of `organisation`s or (any other type) `person`s.
    pub fn from_record(stakeholder_type: &str, r: &EntityRecord) -> Result<Self> {
        Ok(match stakeholder_type {
            organisation::STREAM_TYPE => Stakeholder::Organisation(Organisation::from_record(r)?),
            _ => Stakeholder::Person(Person::from_record(r)?),
        })
    }
}

/// An organisation: a ministry, directorate, council, federation, company...
#[derive(Clone)]
pub struct Organisation {
    /// Its id (the stream id).
    pub id: Uuid,
    /// Version of the last event that changed it.
    pub version: i64,
    /// Global position of the last event that changed it.
    pub position: i64,
    /// Its name as shown.
    pub name: String,
    /// The organisation as folded from its events.
    pub state: Arc<organisation::Organisation>,
}

impl Organisation {
    /// From a list row.
    pub fn from_record(r: &EntityRecord) -> Result<Self> {
        Ok(Organisation {
            id: r.id.0,
            version: r.version.unwrap_or_default(),
            position: r.position,
            name: r.title.clone(),
            state: Arc::new(parse(&r.doc)?),
        })
    }
}

/// An organisation: a ministry, directorate, council, federation, company...
#[Object]
impl Organisation {
    /// Its id: the UUID of its stream, also its global id for `node(id:)`.
    pub(crate) async fn id(&self) -> ID {
        global_id(self.id)
    }
    /// Version of the last event that changed it.
    pub(crate) async fn version(&self) -> Result<i32> {
        int(self.version)
    }
    /// Global position of the last event that changed it.
    pub(crate) async fn position(&self) -> Result<i32> {
        int(self.position)
    }
    /// The name as shown (Arabic first).
    pub(crate) async fn name(&self) -> String {
        self.name.clone()
    }
    /// The name in every language.
    async fn name_text(&self) -> LocalizedText {
        (&self.state.name).into()
    }
    /// Its acronym, e.g. `CGEM`.
    async fn acronym(&self) -> Option<&str> {
        self.state.acronym.as_deref()
    }
    /// Set when its name is not written in the sources but rebuilt, with how.
    async fn name_inferred(&self) -> Option<Inference> {
        inference(&self.state.name_inferred)
    }
    /// Set when its acronym is not written in the sources, with where it comes from.
    async fn acronym_inferred(&self) -> Option<Inference> {
        inference(&self.state.acronym_inferred)
    }
    /// What kind of body it is.
    async fn kind(&self) -> OrganisationKind {
        self.state.kind.into()
    }
    /// The region it serves, if regional.
    async fn region(&self) -> Option<&str> {
        self.state.region.as_ref().map(|r| r.as_str())
    }
    /// Its former names, oldest first.
    async fn former_names(&self) -> Vec<FormerName> {
        self.state
            .former_names
            .iter()
            .map(|f| FormerName(f.clone()))
            .collect()
    }
    /// The organisation it belongs to.
    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        match self.state.parent_id {
            Some(id) => loaders::organisation(ctx, id).await,
            None => Ok(None),
        }
    }
    /// The organisations that belong to it, by id: at most `first` (1-100, default 20).
    #[graphql(
        complexity = "first.unwrap_or(20).clamp(0, super::query::MAX_PAGE_SIZE) as usize * child_complexity"
    )]
    async fn children(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "At most this many (1-100, default 20).")] first: Option<i32>,
    ) -> Result<Vec<Organisation>> {
        let ids = loaders::related(ctx, Related::Children, self.id, first).await?;
        loaders::organisations(ctx, &ids).await
    }
    /// The people who hold or held a post in it (only posts not ended with `current`), by id:
    /// at most `first` (1-100, default 20).
    #[graphql(
        complexity = "first.unwrap_or(20).clamp(0, super::query::MAX_PAGE_SIZE) as usize * child_complexity"
    )]
    async fn people(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            default,
            desc = "Only people whose post there has not ended (false: everyone who held one)."
        )]
        current: bool,
        #[graphql(desc = "At most this many (1-100, default 20).")] first: Option<i32>,
    ) -> Result<Vec<Person>> {
        let edge = if current {
            Related::CurrentPeople
        } else {
            Related::People
        };
        let ids = loaders::related(ctx, edge, self.id, first).await?;
        loaders::people(ctx, &ids).await
    }
    /// The consultations it took part in, as participant, organiser or agreement party,
    /// earliest start first: at most `first` (1-100, default 20). `consultations(filter:
    /// {stakeholder: id})` pages through them all.
    #[graphql(
        complexity = "first.unwrap_or(20).clamp(0, super::query::MAX_PAGE_SIZE) as usize * child_complexity"
    )]
    async fn consultations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "At most this many (1-100, default 20).")] first: Option<i32>,
    ) -> Result<Vec<Consultation>> {
        let ids = loaders::related(ctx, Related::OrganisationConsultations, self.id, first).await?;
        loaders::consultations(ctx, &ids).await
    }
    /// The follow-up actions it owns, by id: at most `first` (1-100, default 20).
    /// `actions(ownerId: id)` pages through them all.
    #[graphql(
        complexity = "first.unwrap_or(20).clamp(0, super::query::MAX_PAGE_SIZE) as usize * child_complexity"
    )]
    async fn actions_owned(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "At most this many (1-100, default 20).")] first: Option<i32>,
    ) -> Result<Vec<Action>> {
        let ids = loaders::related(ctx, Related::ActionsOwned, self.id, first).await?;
        loaders::actions(ctx, &ids).await
    }
}

/// A name an organisation used to have.
pub struct FormerName(organisation::FormerName);

/// A name an organisation used to have.
#[Object]
impl FormerName {
    /// The former name.
    async fn name(&self) -> LocalizedText {
        (&self.0.name).into()
    }
    /// The former acronym.
    async fn acronym(&self) -> Option<&str> {
        self.0.acronym.as_deref()
    }
    /// When the next name took effect, if known.
    async fn until(&self) -> Option<PartialDate> {
        self.0.until.map(PartialDate)
    }
}

/// A person, named in Arabic script and/or a Latin transliteration.
#[derive(Clone)]
pub struct Person {
    /// Its id (the stream id).
    pub id: Uuid,
    /// Version of the last event that changed it.
    pub version: i64,
    /// Global position of the last event that changed it.
    pub position: i64,
    /// The name as shown.
    pub name: String,
    /// The person as folded from their events.
    pub state: Arc<person::Person>,
}

impl Person {
    /// From a list row.
    pub fn from_record(r: &EntityRecord) -> Result<Self> {
        Ok(Person {
            id: r.id.0,
            version: r.version.unwrap_or_default(),
            position: r.position,
            name: r.title.clone(),
            state: Arc::new(parse(&r.doc)?),
        })
    }
}

/// A person, named in Arabic script and/or a Latin transliteration.
#[Object]
impl Person {
    /// Their id: the UUID of their stream, also their global id for `node(id:)`.
    pub(crate) async fn id(&self) -> ID {
        global_id(self.id)
    }
    /// Version of the last event that changed them.
    pub(crate) async fn version(&self) -> Result<i32> {
        int(self.version)
    }
    /// Global position of the last event that changed them.
    pub(crate) async fn position(&self) -> Result<i32> {
        int(self.position)
    }
    /// The name as shown: Arabic, with the Latin transliteration in brackets when both are known.
    pub(crate) async fn name(&self) -> String {
        self.name.clone()
    }
    /// The name in Arabic script, as written.
    async fn arabic_name(&self) -> Option<&str> {
        self.state.name.arabic.as_deref()
    }
    /// The name in Latin script, as written.
    async fn latin_name(&self) -> Option<&str> {
        self.state.name.latin.as_deref()
    }
    /// Set when the sources do not give this name (or part of it), with how it was inferred.
    async fn name_inferred(&self) -> Option<Inference> {
        inference(&self.state.name.inferred)
    }
    /// An honorific such as "السيد" / "M.", if stated.
    async fn honorific(&self) -> Option<LocalizedText> {
        self.state.honorific.as_ref().map(Into::into)
    }
    /// Every post recorded (their memberships of organisations), in the order started.
    async fn posts(&self) -> Vec<Post> {
        self.state.posts.iter().cloned().map(Post).collect()
    }
    /// The consultations they took part in, as participant or signatory, earliest start
    /// first: at most `first` (1-100, default 20).
    #[graphql(
        complexity = "first.unwrap_or(20).clamp(0, super::query::MAX_PAGE_SIZE) as usize * child_complexity"
    )]
    async fn consultations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "At most this many (1-100, default 20).")] first: Option<i32>,
    ) -> Result<Vec<Consultation>> {
        let ids = loaders::related(ctx, Related::PersonConsultations, self.id, first).await?;
        loaders::consultations(ctx, &ids).await
    }
}

/// A post a person holds or held in an organisation (a Popolo membership).
pub struct Post(person::Post);

/// A post a person holds or held in an organisation (a Popolo membership).
#[Object]
impl Post {
    /// The post's id.
    async fn id(&self) -> Uuid {
        self.0.post_id
    }
    /// The organisation the post is in.
    async fn organisation(&self, ctx: &Context<'_>) -> Result<Organisation> {
        let id = self.0.organisation_id;
        loaders::organisation(ctx, id)
            .await?
            .ok_or_else(|| ApiError::internal(&format!("organisation {id} has no row")).into())
    }
    /// The title as stated, e.g. "كاتب الدولة المكلف بالتجارة الخارجية".
    async fn title(&self) -> LocalizedText {
        (&self.0.title).into()
    }
    /// When it started, as far as known.
    async fn from(&self) -> Option<PartialDate> {
        self.0.start.map(PartialDate)
    }
    /// When it ended, as far as known (null while held, or when the end is not dated).
    async fn to(&self) -> Option<PartialDate> {
        self.0.end.map(PartialDate)
    }
    /// A date on which a source shows the person in this post.
    async fn attested_on(&self) -> Option<PartialDate> {
        self.0.attested_on.map(PartialDate)
    }
    /// Whether it has ended.
    async fn ended(&self) -> bool {
        self.0.ended
    }
    /// Why it ended, if given.
    async fn end_reason(&self) -> Option<&str> {
        self.0.end_reason.as_deref()
    }
    /// Set when the sources do not state this post, with how it was inferred.
    async fn inferred(&self) -> Option<Inference> {
        inference(&self.0.inferred)
    }
}
