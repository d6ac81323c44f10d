//! The query root: lists with filters and Relay pagination, one consultation (also as it was),
//! and the audit views of the log.
//!
//! Every list is a Relay connection with `totalCount` (counted only when selected). Filters on
//! a fixed set of values take the schema's enums; date filters take `Date`s and compare what is
//! known of partial dates (see each filter's description).

use async_graphql::connection::{
    Connection, DefaultConnectionName, DefaultEdgeName, Edge, EmptyFields, EnableNodesField,
};
use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::access;
use super::as_of::reads;
use super::enums::{
    ActionStatus, AgreementKind, AgreementStatus, ConsultationKind, ConsultationStatus,
    OrganisationKind, RecommendationStatus,
};
use super::loaders;
use super::scalars::Date;
use super::stakeholders::{Organisation, Person};
use super::types::{
    int, Action, Agreement, Consultation, ConsultationSort, Event, KeyFigure, Recommendation,
};
use crate::commands::{consultation_as_of_time, consultation_state};
use crate::domain::{action, consultation, organisation};
use crate::error::{ApiError, Code};
use crate::projections::lists::{self, Cursor, KeyFigureCursor, Page};
use crate::projections::rows::{day, tag};

/// The largest page a list returns.
pub const MAX_PAGE_SIZE: i32 = 100;

/// Longest search text, in characters.
pub const MAX_SEARCH_TEXT: usize = 200;

/// Complexity of a root field that aggregates whole read models (`dashboard`, `search`): each
/// alias of one runs it again, so ten of them fill a request's budget
/// ([`super::MAX_COMPLEXITY`]).
pub const AGGREGATE_COST: usize = 500;
/// Complexity of a root field that reads or folds a stream from the log.
pub const LOG_READ_COST: usize = 100;

/// Fields every connection adds to Relay's.
#[derive(SimpleObject)]
pub struct Total {
    /// How many items match the filters in all (counted when asked for).
    pub total_count: i32,
}

/// A Relay connection with `totalCount`, and `nodes` beside `edges` for clients that need no
/// cursor per item.
type Conn<T> = Connection<
    String,
    T,
    Total,
    EmptyFields,
    DefaultConnectionName,
    DefaultEdgeName,
    EnableNodesField,
>;

/// A page's size: `first` between 1 and [`MAX_PAGE_SIZE`], 20 when not given.
pub fn page_size(first: Option<i32>) -> Result<i64> {
    let first = first.unwrap_or(20);
    if !(1..=MAX_PAGE_SIZE).contains(&first) {
        return Err(ApiError::new(
            Code::LimitExceeded,
            format!("first must be between 1 and {MAX_PAGE_SIZE}"),
        )
        .into());
    }
    Ok(i64::from(first))
}

/// Whether the connection's `totalCount` is selected (it costs a statement).
fn wants_total(ctx: &Context<'_>) -> bool {
    ctx.look_ahead().field("totalCount").exists()
}

fn bad_cursor() -> async_graphql::Error {
    ApiError::validation(
        "after",
        "INVALID_CURSOR",
        "after is not a cursor this list gave",
    )
    .into()
}

fn encode_cursor(key: &str, id: uuid::Uuid) -> String {
    hex::encode(format!("{key}|{id}"))
}

fn decode_cursor(cursor: &str) -> Result<Cursor> {
    let text = hex::decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(bad_cursor)?;
    let (key, id) = text.rsplit_once('|').ok_or_else(bad_cursor)?;
    Ok(Cursor {
        key: key.to_owned(),
        id: Uuid::parse_str(id).map_err(|_| bad_cursor())?,
    })
}

fn after_id(after: Option<String>) -> Result<Option<Uuid>> {
    after.map(|a| decode_cursor(&a).map(|c| c.id)).transpose()
}

fn connection<R, T>(
    page: Page<R>,
    cursor: impl Fn(&R) -> String,
    mut node: impl FnMut(&R) -> Result<T>,
    has_previous: bool,
) -> Result<Conn<T>>
where
    T: async_graphql::OutputType,
{
    let mut conn = Connection::with_additional_fields(
        has_previous,
        page.has_next,
        Total {
            total_count: int(page.total.unwrap_or_default())?,
        },
    );
    for row in &page.rows {
        conn.edges.push(Edge::new(cursor(row), node(row)?));
    }
    Ok(conn)
}

fn store_error(e: crate::store::StoreError) -> async_graphql::Error {
    ApiError::from(e).into()
}

fn check_search(field: &str, text: &Option<String>) -> Result<()> {
    if text
        .as_ref()
        .is_some_and(|t| t.chars().count() > MAX_SEARCH_TEXT)
    {
        return Err(ApiError::validation(
            field,
            "TOO_LONG",
            format!("search text must be at most {MAX_SEARCH_TEXT} characters"),
        )
        .into());
    }
    Ok(())
}

fn day_of(date: Option<Date>) -> Option<String> {
    date.map(|d| day(d.0))
}

fn recommendation_status(status: RecommendationStatus) -> String {
    match status {
        RecommendationStatus::Proposed => "proposed",
        RecommendationStatus::Accepted => "accepted",
        RecommendationStatus::Rejected => "rejected",
        RecommendationStatus::Merged => "merged",
    }
    .to_owned()
}

/// Filters of `consultations`; all optional, combined with AND.
///
/// Dates compare what is known of a consultation's start: a start known only as November 2025
/// can be any day of that month, so it is kept by `from: "2025-11-03"` and by
/// `to: "2025-11-30"`, and left out by `from: "2025-12-01"`; a start known only by its year is
/// compared by its year; a start whose year is unknown ("a Tuesday") is left out whenever
/// `from` or `to` is given.
#[derive(InputObject, Default)]
pub struct ConsultationFilter {
    /// Region code, e.g. `MA-03`.
    pub region: Option<String>,
    /// Kind of gathering.
    pub kind: Option<ConsultationKind>,
    /// Lifecycle status.
    pub status: Option<ConsultationStatus>,
    /// Keeps consultations whose start can be on or after this day (compared at the precision
    /// the start is known to).
    pub from: Option<Date>,
    /// Keeps consultations whose start can be on or before this day (compared at the precision
    /// the start is known to).
    pub to: Option<Date>,
    /// With a recommendation of this theme.
    pub theme: Option<String>,
    /// With this organisation or person taking part: as participant, organiser, agreement
    /// party or signatory.
    pub stakeholder: Option<Uuid>,
    /// Words that must all occur in the title, description, purpose, place or points raised
    /// (Arabic-aware).
    pub search: Option<String>,
}

/// Filters of `keyFigures`; all optional, combined with AND.
#[derive(InputObject, Default)]
pub struct KeyFigureFilter {
    /// Stated at this consultation.
    pub consultation_id: Option<Uuid>,
    /// About this region (code): the figure's own region, or its consultation's when it states
    /// none.
    pub region: Option<String>,
    /// In this unit (`MAD`, `percent`...).
    pub unit: Option<String>,
    /// Words that must all occur in the indicator or in the figure as stated (Arabic-aware).
    pub indicator: Option<String>,
    /// Keeps figures whose period (or, without one, the date they stand at) can reach this day
    /// or later, compared at the precision known (a period 2026-2028 reaches 2028-12-31; a
    /// period without an end reaches every later day). Figures with no dated period are left
    /// out.
    pub from: Option<Date>,
    /// Keeps figures whose period (or date) can start on or before this day (same rule).
    pub to: Option<Date>,
}

/// The query root.
#[derive(Default)]
pub struct Query;

#[Object(name = "CoreQuery")]
impl Query {
    /// Consultations, filtered, sorted by start date, in Relay pages.
    #[graphql(
        complexity = "first.unwrap_or(20).clamp(0, MAX_PAGE_SIZE) as usize * child_complexity"
    )]
    async fn consultations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Filters, combined with AND.")] filter: Option<ConsultationFilter>,
        #[graphql(default, desc = "Order of the list.")] sort: ConsultationSort,
        #[graphql(desc = "Page size, 1-100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "The cursor of the last item of the previous page.")] after: Option<
            String,
        >,
    ) -> Result<Conn<Consultation>> {
        access(ctx).read_models()?;
        let store = reads(ctx)?;
        let first = page_size(first)?;
        let f = filter.unwrap_or_default();
        check_search("filter.search", &f.search)?;
        let filter = lists::ConsultationFilter {
            region: f.region,
            kind: f
                .kind
                .map(|k| tag(&consultation::ConsultationKind::from(k))),
            status: f.status.map(|s| {
                consultation::ConsultationStatus::from(s)
                    .as_str()
                    .to_owned()
            }),
            from: day_of(f.from),
            to: day_of(f.to),
            theme: f.theme,
            stakeholder: f.stakeholder,
            search: f.search,
        };
        let cursor = after.as_deref().map(decode_cursor).transpose()?;
        let mut page = lists::consultations(
            store.pool(),
            &filter,
            sort == ConsultationSort::StartDateDesc,
            first,
            cursor.as_ref(),
            wants_total(ctx),
        )
        .await
        .map_err(store_error)?;
        let mut nodes = loaders::cache(ctx)?.page(store.pool(), &page.rows).await?;
        // A row gone between the page and its documents (a rebuild committing) is left out.
        page.rows.retain(|r| nodes.contains_key(&r.id.0));
        connection(
            page,
            |r| encode_cursor(&r.sort_key, r.id.0),
            |r| {
                nodes
                    .remove(&r.id.0)
                    .ok_or_else(|| ApiError::internal(&"a page row without its node").into())
            },
            cursor.is_some(),
        )
    }

    /// One consultation, as it is now, or as it was at a stream version or a point in time
    /// (folded from the log, for auditors).
    #[graphql(complexity = "LOG_READ_COST + child_complexity")]
    async fn consultation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Its id.")] id: Uuid,
        #[graphql(desc = "As it was at this version of its stream (auditors).")]
        as_of_version: Option<i32>,
        #[graphql(desc = "As it was at this instant (auditors).")] as_of: Option<DateTime<Utc>>,
    ) -> Result<Option<Consultation>> {
        if as_of_version.is_some() || as_of.is_some() {
            access(ctx).read_log()?;
        } else {
            access(ctx).read_models()?;
        }
        let store = &reads(ctx)?;
        let folded = match (as_of_version, as_of) {
            (Some(_), Some(_)) => {
                return Err(ApiError::validation(
                    "asOf",
                    "EXCLUSIVE",
                    "give asOfVersion or asOf, not both",
                )
                .into())
            }
            (Some(v), None) => consultation_state(store, id, Some(i64::from(v))).await,
            (None, Some(t)) => consultation_as_of_time(store, id, t).await,
            (None, None) => consultation_state(store, id, None).await,
        }
        .map_err(ApiError::from)?;
        let version = folded.version as i64;
        let Some(c) = folded.consultation else {
            return Ok(None);
        };
        let events = store
            .read_stream_stored(id, Some(version))
            .await
            .map_err(store_error)?;
        let position = events.last().map_or(0, |e| e.position);
        Ok(Some(Consultation::from_state(c, version, position)))
    }

    /// Organisations (ministries, councils, agencies, companies...), by id.
    #[graphql(
        complexity = "first.unwrap_or(20).clamp(0, MAX_PAGE_SIZE) as usize * child_complexity"
    )]
    async fn organisations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Of this kind.")] kind: Option<OrganisationKind>,
        #[graphql(desc = "Serving this region (code).")] region: Option<String>,
        #[graphql(desc = "Words of the name, a former name or the acronym (Arabic-aware).")]
        search: Option<String>,
        #[graphql(desc = "Page size, 1-100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "The cursor of the last item of the previous page.")] after: Option<
            String,
        >,
    ) -> Result<Conn<Organisation>> {
        access(ctx).read_models()?;
        check_search("search", &search)?;
        let store = reads(ctx)?;
        let first = page_size(first)?;
        let after = after_id(after)?;
        let filter = lists::StakeholderFilter {
            kind: kind.map(|k| tag(&organisation::OrganisationKind::from(k))),
            region,
            search,
        };
        let page = lists::organisations(store.pool(), &filter, first, after, wants_total(ctx))
            .await
            .map_err(store_error)?;
        connection(
            page,
            |r| encode_cursor("", r.id.0),
            Organisation::from_record,
            after.is_some(),
        )
    }

    /// People, by name in Arabic or Latin script, by id.
    #[graphql(
        complexity = "first.unwrap_or(20).clamp(0, MAX_PAGE_SIZE) as usize * child_complexity"
    )]
    async fn people(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Words of the name, in either script (Arabic-aware).")] search: Option<
            String,
        >,
        #[graphql(desc = "Page size, 1-100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "The cursor of the last item of the previous page.")] after: Option<
            String,
        >,
    ) -> Result<Conn<Person>> {
        access(ctx).read_models()?;
        check_search("search", &search)?;
        let store = reads(ctx)?;
        let first = page_size(first)?;
        let after = after_id(after)?;
        let filter = lists::StakeholderFilter {
            search,
            ..Default::default()
        };
        let page = lists::people(store.pool(), &filter, first, after, wants_total(ctx))
            .await
            .map_err(store_error)?;
        connection(
            page,
            |r| encode_cursor("", r.id.0),
            Person::from_record,
            after.is_some(),
        )
    }

    /// Recommendations across consultations, by id. `from` and `to` compare the start of their
    /// consultation as `consultations` does.
    #[allow(clippy::too_many_arguments)]
    #[graphql(
        complexity = "first.unwrap_or(20).clamp(0, MAX_PAGE_SIZE) as usize * child_complexity"
    )]
    async fn recommendations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Made at this consultation.")] consultation_id: Option<Uuid>,
        #[graphql(desc = "With this status.")] status: Option<RecommendationStatus>,
        #[graphql(desc = "Tagged with this theme.")] theme: Option<String>,
        #[graphql(desc = "Made in this region (code).")] region: Option<String>,
        #[graphql(desc = "Words of the text (Arabic-aware).")] search: Option<String>,
        #[graphql(
            desc = "Made at a consultation whose start can be on or after this day (compared at the precision the start is known to)."
        )]
        from: Option<Date>,
        #[graphql(
            desc = "Made at a consultation whose start can be on or before this day (compared at the precision the start is known to)."
        )]
        to: Option<Date>,
        #[graphql(desc = "Page size, 1-100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "The cursor of the last item of the previous page.")] after: Option<
            String,
        >,
    ) -> Result<Conn<Recommendation>> {
        access(ctx).read_models()?;
        check_search("search", &search)?;
        let store = reads(ctx)?;
        let first = page_size(first)?;
        let after = after_id(after)?;
        let filter = lists::RecommendationFilter {
            consultation: consultation_id,
            status: status.map(recommendation_status),
            theme,
            region,
            search,
            from: day_of(from),
            to: day_of(to),
        };
        let page = lists::recommendations(store.pool(), &filter, first, after, wants_total(ctx))
            .await
            .map_err(store_error)?;
        connection(
            page,
            |r| encode_cursor("", r.id.0),
            Recommendation::from_record,
            after.is_some(),
        )
    }

    /// Follow-up actions across consultations, by id. Due dates compare what is known: an
    /// action due "in March 2025" is certainly due before 1 April 2025, not before 31 March.
    #[allow(clippy::too_many_arguments)]
    #[graphql(
        complexity = "first.unwrap_or(20).clamp(0, MAX_PAGE_SIZE) as usize * child_complexity"
    )]
    async fn actions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Following up this consultation.")] consultation_id: Option<Uuid>,
        #[graphql(desc = "With this status.")] status: Option<ActionStatus>,
        #[graphql(desc = "Owned by this organisation.")] owner_id: Option<Uuid>,
        #[graphql(desc = "In this region (code), their consultation's.")] region: Option<String>,
        #[graphql(desc = "Implementing a recommendation of this theme.")] theme: Option<String>,
        #[graphql(
            desc = "Certainly due before this day (every day they can be due is before it)."
        )]
        due_before: Option<Date>,
        #[graphql(desc = "Unfinished and certainly due before this day: overdue on it.")]
        overdue_on: Option<Date>,
        #[graphql(desc = "Page size, 1-100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "The cursor of the last item of the previous page.")] after: Option<
            String,
        >,
    ) -> Result<Conn<Action>> {
        access(ctx).read_models()?;
        let store = reads(ctx)?;
        let first = page_size(first)?;
        let after = after_id(after)?;
        let filter = lists::ActionFilter {
            consultation: consultation_id,
            status: status.map(|s| action::ActionStatus::from(s).as_str().to_owned()),
            owner: owner_id,
            region,
            theme,
            due_before: day_of(due_before),
            overdue_on: day_of(overdue_on),
        };
        let page = lists::actions(store.pool(), &filter, first, after, wants_total(ctx))
            .await
            .map_err(store_error)?;
        connection(
            page,
            |r| encode_cursor("", r.id.0),
            Action::from_record,
            after.is_some(),
        )
    }

    /// Agreements and their budgets, by id.
    #[allow(clippy::too_many_arguments)]
    #[graphql(
        complexity = "first.unwrap_or(20).clamp(0, MAX_PAGE_SIZE) as usize * child_complexity"
    )]
    async fn agreements(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Recorded at this consultation.")] consultation_id: Option<Uuid>,
        #[graphql(desc = "With this status.")] status: Option<AgreementStatus>,
        #[graphql(desc = "Of this kind.")] kind: Option<AgreementKind>,
        #[graphql(desc = "In this region (code), their consultation's.")] region: Option<String>,
        #[graphql(desc = "For this programme, as shown (Arabic first).")] programme: Option<String>,
        #[graphql(
            desc = "With this organisation among the parties (itself, or as the organisation of the participant that is party)."
        )]
        party_id: Option<Uuid>,
        #[graphql(desc = "Words of the title, programme or objectives (Arabic-aware).")]
        search: Option<String>,
        #[graphql(desc = "Page size, 1-100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "The cursor of the last item of the previous page.")] after: Option<
            String,
        >,
    ) -> Result<Conn<Agreement>> {
        access(ctx).read_models()?;
        check_search("search", &search)?;
        let store = reads(ctx)?;
        let first = page_size(first)?;
        let after = after_id(after)?;
        let filter = lists::AgreementFilter {
            consultation: consultation_id,
            status: status.map(|s| tag(&consultation::AgreementStatus::from(s))),
            kind: kind.map(|k| tag(&consultation::AgreementKind::from(k))),
            region,
            programme,
            party: party_id,
            search,
        };
        let page = lists::agreements(store.pool(), &filter, first, after, wants_total(ctx))
            .await
            .map_err(store_error)?;
        connection(
            page,
            |r| encode_cursor("", r.id.0),
            Agreement::from_record,
            after.is_some(),
        )
    }

    /// Key figures stated at consultations (indicator, exact value, unit, period), filtered by
    /// region, indicator and period.
    #[graphql(
        complexity = "first.unwrap_or(20).clamp(0, MAX_PAGE_SIZE) as usize * child_complexity"
    )]
    async fn key_figures(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Filters, combined with AND.")] filter: Option<KeyFigureFilter>,
        #[graphql(desc = "Page size, 1-100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "The cursor of the last item of the previous page.")] after: Option<
            String,
        >,
    ) -> Result<Conn<KeyFigure>> {
        access(ctx).read_models()?;
        let store = reads(ctx)?;
        let first = page_size(first)?;
        let f = filter.unwrap_or_default();
        check_search("filter.indicator", &f.indicator)?;
        let after = after
            .as_deref()
            .map(|a| {
                let c = decode_cursor(a)?;
                Ok::<_, async_graphql::Error>(KeyFigureCursor {
                    id: c.id,
                    consultation: Uuid::parse_str(&c.key).map_err(|_| bad_cursor())?,
                })
            })
            .transpose()?;
        let filter = lists::KeyFigureFilter {
            consultation: f.consultation_id,
            region: f.region,
            unit: f.unit,
            indicator: f.indicator,
            from: day_of(f.from),
            to: day_of(f.to),
        };
        let page = lists::key_figures(store.pool(), &filter, first, after, wants_total(ctx))
            .await
            .map_err(store_error)?;
        connection(
            page,
            |r| encode_cursor(&r.consultation_id.0.to_string(), r.id.0),
            KeyFigure::from_record,
            after.is_some(),
        )
    }

    /// A stream's events with their metadata (actor, time, reason, hash, position).
    #[graphql(complexity = "LOG_READ_COST + child_complexity")]
    async fn stream_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The stream.")] stream_id: Uuid,
        #[graphql(desc = "Up to this version (all when omitted).")] up_to_version: Option<i32>,
    ) -> Result<Vec<Event>> {
        access(ctx).read_log()?;
        let store = reads(ctx)?;
        let events = store
            .read_stream_stored(stream_id, up_to_version.map(i64::from))
            .await
            .map_err(store_error)?;
        Ok(events.into_iter().map(Event::from).collect())
    }

    /// The global feed, in position order: events after `after`, at most `first`.
    #[graphql(
        complexity = "first.unwrap_or(20).clamp(0, MAX_PAGE_SIZE) as usize * child_complexity"
    )]
    async fn events(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 0, desc = "Events after this global position.")] after: i32,
        #[graphql(desc = "How many, 1-100 (default 20).")] first: Option<i32>,
    ) -> Result<Vec<Event>> {
        access(ctx).read_log()?;
        let store = reads(ctx)?;
        let first = page_size(first)?;
        let events = store
            .read_all_stored(i64::from(after), first)
            .await
            .map_err(store_error)?;
        Ok(events.into_iter().map(Event::from).collect())
    }

    /// Who changed a recommendation, an agreement, a participant or an action, when and why: the
    /// events of its stream that name it (all events, for an action).
    #[graphql(complexity = "LOG_READ_COST + child_complexity")]
    async fn history(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The stream: a consultation's, or an action's.")] stream_id: Uuid,
        #[graphql(
            desc = "The recommendation, agreement or participant (all events when omitted)."
        )]
        entity_id: Option<Uuid>,
    ) -> Result<Vec<Event>> {
        access(ctx).read_log()?;
        let store = reads(ctx)?;
        let events = store
            .read_stream_stored(stream_id, None)
            .await
            .map_err(store_error)?;
        let wanted = entity_id.map(|id| id.to_string());
        Ok(events
            .into_iter()
            .filter(|e| match &wanted {
                None => true,
                Some(id) => e.payload.to_string().contains(id.as_str()),
            })
            .map(Event::from)
            .collect())
    }

    /// Morocco's 12 regions: code and names.
    async fn regions(&self, ctx: &Context<'_>) -> Result<Vec<Region>> {
        access(ctx).read_models()?;
        Ok(crate::domain::REGIONS
            .iter()
            .map(|r| Region {
                code: r.code.to_owned(),
                name_ar: r.name_ar.to_owned(),
                name_fr: r.name_fr.to_owned(),
                name_en: r.name_en.to_owned(),
            })
            .collect())
    }
}

/// A region of Morocco.
#[derive(SimpleObject)]
pub struct Region {
    /// Code, `MA-01` to `MA-12`.
    pub code: String,
    /// Arabic name.
    pub name_ar: String,
    /// French name.
    pub name_fr: String,
    /// English name.
    pub name_en: String,
}
