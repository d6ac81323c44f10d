//! Search results: ranked hits whose node is the entity itself, typed.

use std::sync::Arc;

use async_graphql::{Enum, Result, SimpleObject, Union};

use super::types::{int, Action, Agreement, Consultation, Organisation, Person, Recommendation};
use crate::error::ApiError;
use crate::projections::queries::{HitRecord, RankedHit};

/// The most hits one search returns.
pub const MAX_SEARCH_RESULTS: usize = 50;

/// What a search hit is.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::projections::queries::HitKind")]
pub enum SearchKind {
    /// A consultation (its title, description, purpose or place matched).
    Consultation,
    /// A recommendation (its text matched).
    Recommendation,
    /// An agreement (its title or programme matched).
    Agreement,
    /// A follow-up action (its title or description matched).
    Action,
    /// An organisation (its name, a former name or its acronym matched).
    Organisation,
    /// A person (the name, in Arabic or Latin script, matched).
    Person,
}

/// The entity a search hit is.
#[derive(Union, Clone)]
pub enum SearchNode {
    /// A consultation.
    Consultation(Consultation),
    /// A recommendation.
    Recommendation(Recommendation),
    /// An agreement.
    Agreement(Agreement),
    /// A follow-up action.
    Action(Action),
    /// An organisation.
    Organisation(Organisation),
    /// A person.
    Person(Person),
}

/// One search result, best first.
#[derive(SimpleObject, Clone)]
pub struct SearchHit {
    /// How well it matched, higher first: for each word of the query, 4 when a word of the
    /// title is that word, 3 when another word of the text is, 2 when a word of the title
    /// begins with it, 1 when another word does; summed. Equal scores: the most recently
    /// changed first.
    pub score: i32,
    /// What it is.
    pub kind: SearchKind,
    /// Its title, text or name as shown (Arabic first).
    pub title: String,
    /// The entity.
    pub node: SearchNode,
}

impl SearchHit {
    /// From a ranked read-model hit.
    pub fn from_ranked(hit: RankedHit) -> Result<Self> {
        let kind = SearchKind::from(hit.record.kind());
        let node = match &hit.record {
            HitRecord::Consultation(row, doc) => {
                let state = serde_json::from_str(doc).map_err(|e| ApiError::internal(&e))?;
                SearchNode::Consultation(Consultation::from_row(row, Arc::new(state)))
            }
            HitRecord::Recommendation(r) => {
                SearchNode::Recommendation(Recommendation::from_record(r)?)
            }
            HitRecord::Agreement(r) => SearchNode::Agreement(Agreement::from_record(r)?),
            HitRecord::Action(r) => SearchNode::Action(Action::from_record(r)?),
            HitRecord::Organisation(r) => SearchNode::Organisation(Organisation::from_record(r)?),
            HitRecord::Person(r) => SearchNode::Person(Person::from_record(r)?),
        };
        Ok(SearchHit {
            score: int(hit.score)?,
            kind,
            title: hit.title,
            node,
        })
    }
}
