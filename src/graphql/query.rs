//! The query root: lists with filters and Relay pagination, one consultation (also as it was),
//! the dashboard, search, and the audit views of the log.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::cache::ConsultationCache;
use super::types::{
    Action, Agreement, Consultation, ConsultationSort, Event, Recommendation, Stakeholder,
};
use super::{access, ApiState};
use crate::commands::{consultation_as_of_time, consultation_state};
use crate::error::{ApiError, Code};
use crate::projections::lists::{self, Cursor, Page};
use crate::projections::queries::{self, Dashboard, SearchHit};

/// The largest page a list returns.
pub const MAX_PAGE_SIZE: i64 = 100;

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
    /// How many items match the filters in all.
    pub total_count: Option<i64>,
}

type Conn<T> = Connection<String, T, Total>;

fn page_size(first: Option<i64>) -> Result<i64> {
    let first = first.unwrap_or(20);
    if !(1..=MAX_PAGE_SIZE).contains(&first) {
        return Err(ApiError::new(
            Code::LimitExceeded,
            format!("first must be between 1 and {MAX_PAGE_SIZE}"),
        )
        .into());
    }
    Ok(first)
}

fn bad_cursor() -> async_graphql::Error {
    ApiError::validation(
        "after",
        "INVALID_CURSOR",
        "after is not a cursor this list gave",
    )
    .into()
}

fn encode_cursor(key: &str, id: Uuid) -> String {
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
            total_count: page.total,
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

fn parse_day(field: &str, value: Option<String>) -> Result<Option<String>> {
    match value {
        None => Ok(None),
        Some(v) => NaiveDate::parse_from_str(&v, "%Y-%m-%d")
            .map(|d| Some(d.format("%Y-%m-%d").to_string()))
            .map_err(|_| {
                ApiError::validation(field, "INVALID_DATE", format!("{field} must be YYYY-MM-DD"))
                    .into()
            }),
    }
}

/// Filters of `consultations`; all optional, combined with AND.
#[derive(InputObject, Default)]
pub struct ConsultationFilter {
    /// Region code, e.g. `MA-03`.
    pub region: Option<String>,
    /// Kind, e.g. `regional_consultation`.
    pub kind: Option<String>,
    /// Status: `planned`, `held`, `closed`, `cancelled`.
    pub status: Option<String>,
    /// Starting on or after this day (`YYYY-MM-DD`).
    pub from: Option<String>,
    /// Starting on or before this day (`YYYY-MM-DD`).
    pub to: Option<String>,
    /// With a recommendation of this theme.
    pub theme: Option<String>,
    /// With this organisation or person among the participants.
    pub stakeholder: Option<Uuid>,
    /// Words that must all occur in the title, description, purpose or place (Arabic-aware).
    pub search: Option<String>,
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
        filter: Option<ConsultationFilter>,
        #[graphql(default)] sort: ConsultationSort,
        first: Option<i64>,
        after: Option<String>,
    ) -> Result<Conn<Consultation>> {
        access(ctx).read_models()?;
        let state = ctx.data::<ApiState>()?;
        let first = page_size(first)?;
        let f = filter.unwrap_or_default();
        if f.search
            .as_ref()
            .is_some_and(|t| t.chars().count() > MAX_SEARCH_TEXT)
        {
            return Err(ApiError::validation(
                "filter.search",
                "TOO_LONG",
                format!("search text must be at most {MAX_SEARCH_TEXT} characters"),
            )
            .into());
        }
        let filter = lists::ConsultationFilter {
            region: f.region,
            kind: f.kind,
            status: f.status,
            from: parse_day("filter.from", f.from)?,
            to: parse_day("filter.to", f.to)?,
            theme: f.theme,
            stakeholder: f.stakeholder,
            search: f.search,
        };
        let cursor = after.as_deref().map(decode_cursor).transpose()?;
        let mut page = lists::consultations(
            state.store.pool(),
            &filter,
            sort == ConsultationSort::StartDateDesc,
            first,
            cursor.as_ref(),
        )
        .await
        .map_err(store_error)?;
        let cache = ctx.data::<ConsultationCache>()?;
        let mut nodes = cache.page(state.store.pool(), &page.rows).await?;
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
        id: Uuid,
        as_of_version: Option<i64>,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<Option<Consultation>> {
        if as_of_version.is_some() || as_of.is_some() {
            access(ctx).read_log()?;
        } else {
            access(ctx).read_models()?;
        }
        let state = ctx.data::<ApiState>()?;
        let store = &state.store;
        let folded = match (as_of_version, as_of) {
            (Some(_), Some(_)) => {
                return Err(ApiError::validation(
                    "asOf",
                    "EXCLUSIVE",
                    "give asOfVersion or asOf, not both",
                )
                .into())
            }
            (Some(v), None) => consultation_state(store, id, Some(v)).await,
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

    /// Organisations (ministries, councils, agencies, companies...).
    #[graphql(
        complexity = "first.unwrap_or(20).clamp(0, MAX_PAGE_SIZE) as usize * child_complexity"
    )]
    async fn organisations(
        &self,
        ctx: &Context<'_>,
        kind: Option<String>,
        region: Option<String>,
        search: Option<String>,
        first: Option<i64>,
        after: Option<String>,
    ) -> Result<Conn<Stakeholder>> {
        access(ctx).read_models()?;
        let state = ctx.data::<ApiState>()?;
        let first = page_size(first)?;
        let after = after_id(after)?;
        let filter = lists::StakeholderFilter {
            kind,
            region,
            search,
        };
        let page = lists::organisations(state.store.pool(), &filter, first, after)
            .await
            .map_err(store_error)?;
        connection(
            page,
            |r| encode_cursor("", r.id.0),
            |r| Stakeholder::from_record("organisation", r),
            after.is_some(),
        )
    }

    /// People, by name in Arabic or Latin script.
    #[graphql(
        complexity = "first.unwrap_or(20).clamp(0, MAX_PAGE_SIZE) as usize * child_complexity"
    )]
    async fn people(
        &self,
        ctx: &Context<'_>,
        search: Option<String>,
        first: Option<i64>,
        after: Option<String>,
    ) -> Result<Conn<Stakeholder>> {
        access(ctx).read_models()?;
        let state = ctx.data::<ApiState>()?;
        let first = page_size(first)?;
        let after = after_id(after)?;
        let filter = lists::StakeholderFilter {
            search,
            ..Default::default()
        };
        let page = lists::people(state.store.pool(), &filter, first, after)
            .await
            .map_err(store_error)?;
        connection(
            page,
            |r| encode_cursor("", r.id.0),
            |r| Stakeholder::from_record("person", r),
            after.is_some(),
        )
    }

    /// Recommendations across consultations.
    #[allow(clippy::too_many_arguments)]
    #[graphql(
        complexity = "first.unwrap_or(20).clamp(0, MAX_PAGE_SIZE) as usize * child_complexity"
    )]
    async fn recommendations(
        &self,
        ctx: &Context<'_>,
        consultation_id: Option<Uuid>,
        status: Option<String>,
        theme: Option<String>,
        region: Option<String>,
        search: Option<String>,
        first: Option<i64>,
        after: Option<String>,
    ) -> Result<Conn<Recommendation>> {
        access(ctx).read_models()?;
        let state = ctx.data::<ApiState>()?;
        let first = page_size(first)?;
        let after = after_id(after)?;
        let filter = lists::RecommendationFilter {
            consultation: consultation_id,
            status,
            theme,
            region,
            search,
        };
        let page = lists::recommendations(state.store.pool(), &filter, first, after)
            .await
            .map_err(store_error)?;
        connection(
            page,
            |r| encode_cursor("", r.id.0),
            Recommendation::from_record,
            after.is_some(),
        )
    }

    /// Follow-up actions across consultations. `overdueOn` keeps unfinished actions certainly
    /// due before that day.
    #[allow(clippy::too_many_arguments)]
    #[graphql(
        complexity = "first.unwrap_or(20).clamp(0, MAX_PAGE_SIZE) as usize * child_complexity"
    )]
    async fn actions(
        &self,
        ctx: &Context<'_>,
        consultation_id: Option<Uuid>,
        status: Option<String>,
        owner_id: Option<Uuid>,
        region: Option<String>,
        theme: Option<String>,
        due_before: Option<String>,
        overdue_on: Option<String>,
        first: Option<i64>,
        after: Option<String>,
    ) -> Result<Conn<Action>> {
        access(ctx).read_models()?;
        let state = ctx.data::<ApiState>()?;
        let first = page_size(first)?;
        let after = after_id(after)?;
        let filter = lists::ActionFilter {
            consultation: consultation_id,
            status,
            owner: owner_id,
            region,
            theme,
            due_before: parse_day("dueBefore", due_before)?,
            overdue_on: parse_day("overdueOn", overdue_on)?,
        };
        let page = lists::actions(state.store.pool(), &filter, first, after)
            .await
            .map_err(store_error)?;
        connection(
            page,
            |r| encode_cursor("", r.id.0),
            Action::from_record,
            after.is_some(),
        )
    }

    /// Agreements and their budgets.
    #[allow(clippy::too_many_arguments)]
    #[graphql(
        complexity = "first.unwrap_or(20).clamp(0, MAX_PAGE_SIZE) as usize * child_complexity"
    )]
    async fn agreements(
        &self,
        ctx: &Context<'_>,
        consultation_id: Option<Uuid>,
        status: Option<String>,
        region: Option<String>,
        programme: Option<String>,
        first: Option<i64>,
        after: Option<String>,
    ) -> Result<Conn<Agreement>> {
        access(ctx).read_models()?;
        let state = ctx.data::<ApiState>()?;
        let first = page_size(first)?;
        let after = after_id(after)?;
        let filter = lists::AgreementFilter {
            consultation: consultation_id,
            status,
            region,
            programme,
        };
        let page = lists::agreements(state.store.pool(), &filter, first, after)
            .await
            .map_err(store_error)?;
        connection(
            page,
            |r| encode_cursor("", r.id.0),
            Agreement::from_record,
            after.is_some(),
        )
    }

    /// Counts by status, region, theme and month; overdue actions on `today` (the server's
    /// date when omitted); committed budget by region and programme; progress.
    #[graphql(complexity = "AGGREGATE_COST + child_complexity")]
    async fn dashboard(
        &self,
        ctx: &Context<'_>,
        today: Option<String>,
    ) -> Result<async_graphql::Json<Dashboard>> {
        access(ctx).read_models()?;
        let state = ctx.data::<ApiState>()?;
        let today = match parse_day("today", today)? {
            Some(day) => {
                NaiveDate::parse_from_str(&day, "%Y-%m-%d").map_err(|e| ApiError::internal(&e))?
            }
            None => Utc::now().date_naive(),
        };
        let board = queries::dashboard(state.store.pool(), today)
            .await
            .map_err(store_error)?;
        Ok(async_graphql::Json(board))
    }

    /// Searches consultations, recommendations, agreements, actions and names (Arabic-aware:
    /// hamza forms, taa marbuta, alef maqsura, tashkeel; Latin case and accents).
    #[graphql(complexity = "AGGREGATE_COST + child_complexity")]
    async fn search(
        &self,
        ctx: &Context<'_>,
        text: String,
    ) -> Result<async_graphql::Json<Vec<SearchHit>>> {
        access(ctx).read_models()?;
        if text.chars().count() > MAX_SEARCH_TEXT {
            return Err(ApiError::validation(
                "text",
                "TOO_LONG",
                format!("search text must be at most {MAX_SEARCH_TEXT} characters"),
            )
            .into());
        }
        let state = ctx.data::<ApiState>()?;
        let hits = queries::search(state.store.pool(), &text)
            .await
            .map_err(store_error)?;
        Ok(async_graphql::Json(hits))
    }

    /// A stream's events with their metadata (actor, time, reason, hash, position).
    #[graphql(complexity = "LOG_READ_COST + child_complexity")]
    async fn stream_events(
        &self,
        ctx: &Context<'_>,
        stream_id: Uuid,
        up_to_version: Option<i64>,
    ) -> Result<Vec<Event>> {
        access(ctx).read_log()?;
        let state = ctx.data::<ApiState>()?;
        let events = state
            .store
            .read_stream_stored(stream_id, up_to_version)
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
        #[graphql(default = 0)] after: i64,
        first: Option<i64>,
    ) -> Result<Vec<Event>> {
        access(ctx).read_log()?;
        let state = ctx.data::<ApiState>()?;
        let first = page_size(first)?;
        let events = state
            .store
            .read_all_stored(after, first)
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
        stream_id: Uuid,
        entity_id: Option<Uuid>,
    ) -> Result<Vec<Event>> {
        access(ctx).read_log()?;
        let state = ctx.data::<ApiState>()?;
        let events = state
            .store
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
