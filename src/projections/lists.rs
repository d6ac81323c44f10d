//! Filtered, keyset-paginated lists over the read models, for the API.
//!
//! Every filter is an optional parameter of one fixed statement (`$n IS NULL OR ...`), so no SQL
//! is assembled at run time. Pages are keyset pages on a unique sort key, so a page never repeats
//! or skips a row when rows are added between two requests.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::search::{like_escape, query_terms};
use crate::store::{on_pool, DbUuid, Pool, StoreError};

type Result<T> = std::result::Result<T, StoreError>;

/// The most words a text filter may have.
pub const MAX_SEARCH_TERMS: usize = 4;

/// Up to [`MAX_SEARCH_TERMS`] LIKE patterns for a text filter (unused ones `None`).
pub fn search_patterns(text: Option<&str>) -> Result<[Option<String>; MAX_SEARCH_TERMS]> {
    let mut patterns: [Option<String>; MAX_SEARCH_TERMS] = Default::default();
    let Some(text) = text else {
        return Ok(patterns);
    };
    let terms = query_terms(text);
    if terms.len() > MAX_SEARCH_TERMS {
        return Err(StoreError::validation(
            "search",
            format!("must have at most {MAX_SEARCH_TERMS} words"),
        ));
    }
    for (slot, term) in patterns.iter_mut().zip(terms) {
        *slot = Some(format!("%{}%", like_escape(&term)));
    }
    Ok(patterns)
}

/// A consultation row as lists return it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ConsultationRecord {
    pub id: DbUuid,
    pub version: i64,
    pub position: i64,
    pub kind: String,
    pub status: String,
    pub region: Option<String>,
    pub start_date: Option<String>,
    pub month: Option<String>,
    pub title: String,
    /// The sort key (`start_date` or empty), part of the cursor.
    pub sort_key: String,
}

/// A consultation's stored document, with the version and position it was written at.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ConsultationDoc {
    pub id: DbUuid,
    pub version: i64,
    pub position: i64,
    pub doc: String,
}

/// Filters of the consultation list; all optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsultationFilter {
    pub region: Option<String>,
    pub kind: Option<String>,
    pub status: Option<String>,
    /// First day, `YYYY-MM-DD` (consultations starting on or after).
    pub from: Option<String>,
    /// Last day, `YYYY-MM-DD` (consultations starting on or before).
    pub to: Option<String>,
    pub theme: Option<String>,
    /// An organisation or person taking part (as participant or agreement party).
    pub stakeholder: Option<Uuid>,
    pub search: Option<String>,
}

/// Where a page starts: after this sort key and id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub key: String,
    pub id: Uuid,
}

/// A page of rows and the count of all rows the filters match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub rows: Vec<T>,
    pub has_next: bool,
    /// How many rows match the filters in all (computed where the API exposes it).
    pub total: Option<i64>,
}

macro_rules! consultation_where {
    () => {
        " WHERE ($1 IS NULL OR region = $1) AND ($2 IS NULL OR kind = $2) \
          AND ($3 IS NULL OR status = $3) AND ($4 IS NULL OR start_date >= $4) \
          AND ($5 IS NULL OR start_date <= $5) \
          AND ($6 IS NULL OR id IN (SELECT consultation_id FROM rm_themes WHERE theme = $6)) \
          AND ($7 IS NULL OR id IN (SELECT consultation_id FROM rm_participants \
               WHERE person_id = $7 OR organisation_id = $7)) \
          AND ($8 IS NULL OR search LIKE $8 ESCAPE '\\') AND ($9 IS NULL OR search LIKE $9 ESCAPE '\\') \
          AND ($10 IS NULL OR search LIKE $10 ESCAPE '\\') AND ($11 IS NULL OR search LIKE $11 ESCAPE '\\')"
    };
}

/// Binds `$1` to `$11` of [`consultation_where!`]: the filters, then the search patterns.
macro_rules! bind_consultation_filter {
    ($query:expr, $filter:expr, $patterns:expr) => {
        $query
            .bind(&$filter.region)
            .bind(&$filter.kind)
            .bind(&$filter.status)
            .bind(&$filter.from)
            .bind(&$filter.to)
            .bind(&$filter.theme)
            .bind($filter.stakeholder.map(DbUuid))
            .bind(&$patterns[0])
            .bind(&$patterns[1])
            .bind(&$patterns[2])
            .bind(&$patterns[3])
    };
}

/// A page of consultations, oldest (or newest, with `descending`) start first.
pub async fn consultations(
    pool: &Pool,
    filter: &ConsultationFilter,
    descending: bool,
    first: i64,
    after: Option<&Cursor>,
) -> Result<Page<ConsultationRecord>> {
    const COUNT: &str = concat!(
        "SELECT COUNT(*) FROM rm_consultations",
        consultation_where!()
    );
    let unfiltered = *filter == ConsultationFilter::default();
    let mut rows = if unfiltered {
        unfiltered_consultations(pool, descending, first, after).await?
    } else {
        filtered_consultations(pool, filter, descending, first, after).await?
    };
    let total = if unfiltered {
        // Kept by the projector as it writes (`rm_counts`): one row, whatever the table's size.
        const COUNT_ALL: &str = "SELECT value FROM rm_counts WHERE name = 'consultations'";
        on_pool!(pool, p => sqlx::query_scalar::<_, i64>(COUNT_ALL).fetch_optional(p).await?)
            .unwrap_or(0)
    } else {
        let patterns = search_patterns(filter.search.as_deref())?;
        on_pool!(pool, p => bind_consultation_filter!(sqlx::query_scalar::<_, i64>(COUNT), filter, patterns)
        .fetch_one(p)
        .await?)
    };
    let has_next = rows.len() as i64 > first;
    rows.truncate(first as usize);
    Ok(Page {
        rows,
        has_next,
        total: Some(total),
    })
}

/// A page without filters. Its statements have no optional predicates: PostgreSQL plans a
/// prepared statement once for any parameters (a generic plan), and with the optional filters
/// of [`filtered_consultations`] that plan scans and sorts the whole table (30 ms at 24,000
/// consultations) where these read `first` entries of the order index.
async fn unfiltered_consultations(
    pool: &Pool,
    descending: bool,
    first: i64,
    after: Option<&Cursor>,
) -> Result<Vec<ConsultationRecord>> {
    const FIRST_ASC: &str = "SELECT id, version, position, kind, status, region, start_date, \
        month, title, COALESCE(start_date, '') AS sort_key FROM rm_consultations \
        ORDER BY COALESCE(start_date, ''), id LIMIT $1";
    const FIRST_DESC: &str = "SELECT id, version, position, kind, status, region, start_date, \
        month, title, COALESCE(start_date, '') AS sort_key FROM rm_consultations \
        ORDER BY COALESCE(start_date, '') DESC, id DESC LIMIT $1";
    const AFTER_ASC: &str = "SELECT id, version, position, kind, status, region, start_date, \
        month, title, COALESCE(start_date, '') AS sort_key FROM rm_consultations \
        WHERE (COALESCE(start_date, ''), id) > ($1, $2) \
        ORDER BY COALESCE(start_date, ''), id LIMIT $3";
    const AFTER_DESC: &str = "SELECT id, version, position, kind, status, region, start_date, \
        month, title, COALESCE(start_date, '') AS sort_key FROM rm_consultations \
        WHERE (COALESCE(start_date, ''), id) < ($1, $2) \
        ORDER BY COALESCE(start_date, '') DESC, id DESC LIMIT $3";
    Ok(match after {
        None => {
            let sql = if descending { FIRST_DESC } else { FIRST_ASC };
            on_pool!(pool, p => sqlx::query_as::<_, ConsultationRecord>(sql)
                .bind(first + 1)
                .fetch_all(p)
                .await?)
        }
        Some(cursor) => {
            let sql = if descending { AFTER_DESC } else { AFTER_ASC };
            on_pool!(pool, p => sqlx::query_as::<_, ConsultationRecord>(sql)
                .bind(&cursor.key)
                .bind(DbUuid(cursor.id))
                .bind(first + 1)
                .fetch_all(p)
                .await?)
        }
    })
}

/// A page with at least one filter: one statement whose filters are optional parameters.
async fn filtered_consultations(
    pool: &Pool,
    filter: &ConsultationFilter,
    descending: bool,
    first: i64,
    after: Option<&Cursor>,
) -> Result<Vec<ConsultationRecord>> {
    const ASC: &str = concat!(
        "SELECT id, version, position, kind, status, region, start_date, month, title, \
         COALESCE(start_date, '') AS sort_key FROM rm_consultations",
        consultation_where!(),
        " AND ($12 IS NULL OR (COALESCE(start_date, ''), id) > ($12, $13)) \
         ORDER BY COALESCE(start_date, ''), id LIMIT $14"
    );
    const DESC: &str = concat!(
        "SELECT id, version, position, kind, status, region, start_date, month, title, \
         COALESCE(start_date, '') AS sort_key FROM rm_consultations",
        consultation_where!(),
        " AND ($12 IS NULL OR (COALESCE(start_date, ''), id) < ($12, $13)) \
         ORDER BY COALESCE(start_date, '') DESC, id DESC LIMIT $14"
    );
    let patterns = search_patterns(filter.search.as_deref())?;
    let sql = if descending { DESC } else { ASC };
    let (key, id) = match after {
        Some(c) => (Some(c.key.clone()), Some(DbUuid(c.id))),
        None => (None, None),
    };
    Ok(
        on_pool!(pool, p => bind_consultation_filter!(sqlx::query_as::<_, ConsultationRecord>(sql), filter, patterns)
        .bind(&key)
        .bind(id)
        .bind(first + 1)
        .fetch_all(p)
        .await?),
    )
}

/// The documents of the given consultations (those that exist), with one statement: pages
/// read them only for the consultations their caller has not parsed yet.
pub async fn consultation_docs(pool: &Pool, ids: &[Uuid]) -> Result<Vec<ConsultationDoc>> {
    const SQLITE: &str = "SELECT id, version, position, doc FROM rm_consultations \
        WHERE id IN (SELECT value FROM json_each($1))";
    const POSTGRES: &str = "SELECT id, version, position, doc FROM rm_consultations \
        WHERE id = ANY($1)";
    fetch_by_ids(pool, SQLITE, POSTGRES, ids).await
}

/// Runs a statement whose one parameter is a list of ids: one statement whatever the list's
/// length. The list travels as a JSON array on SQLite (read with `json_each`) and as a `uuid[]`
/// on PostgreSQL, whose generic plan of `= ANY` uses the index (a JSON set is estimated at 100
/// rows and joined by scanning the table).
async fn fetch_by_ids<T>(
    pool: &Pool,
    sqlite: &'static str,
    postgres: &'static str,
    ids: &[Uuid],
) -> Result<Vec<T>>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin,
{
    Ok(match pool {
        Pool::Sqlite(c) => {
            let ids = serde_json::to_string(ids).unwrap_or_else(|_| "[]".to_owned());
            sqlx::query_as::<_, T>(sqlite)
                .bind(ids)
                .fetch_all(c)
                .await?
        }
        Pool::Postgres(c) => {
            sqlx::query_as::<_, T>(postgres)
                .bind(ids)
                .fetch_all(c)
                .await?
        }
    })
}

/// A recommendation, agreement, organisation or person row as lists return it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EntityRecord {
    pub id: DbUuid,
    /// The stream version, for entities that are streams (organisations, people).
    pub version: Option<i64>,
    pub consultation_id: Option<DbUuid>,
    pub status: Option<String>,
    pub region: Option<String>,
    pub title: String,
    pub position: i64,
    pub doc: String,
}

/// Filters of the recommendation list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecommendationFilter {
    pub consultation: Option<Uuid>,
    pub status: Option<String>,
    pub theme: Option<String>,
    pub region: Option<String>,
    pub search: Option<String>,
}

/// A page of recommendations in id order.
pub async fn recommendations(
    pool: &Pool,
    filter: &RecommendationFilter,
    first: i64,
    after: Option<Uuid>,
) -> Result<Page<EntityRecord>> {
    const SQL: &str = "SELECT id, NULL AS version, consultation_id, status, region, text AS title, position, doc \
        FROM rm_recommendations WHERE ($1 IS NULL OR consultation_id = $1) \
        AND ($2 IS NULL OR status = $2) AND ($3 IS NULL OR region = $3) \
        AND ($4 IS NULL OR id IN (SELECT recommendation_id FROM rm_themes WHERE theme = $4)) \
        AND ($5 IS NULL OR search LIKE $5 ESCAPE '\\') AND ($6 IS NULL OR search LIKE $6 ESCAPE '\\') \
        AND ($7 IS NULL OR search LIKE $7 ESCAPE '\\') AND ($8 IS NULL OR search LIKE $8 ESCAPE '\\') \
        AND ($9 IS NULL OR id > $9) ORDER BY id LIMIT $10";
    let p = search_patterns(filter.search.as_deref())?;
    let mut rows = on_pool!(pool, c => sqlx::query_as::<_, EntityRecord>(SQL)
        .bind(filter.consultation.map(DbUuid))
        .bind(&filter.status)
        .bind(&filter.region)
        .bind(&filter.theme)
        .bind(&p[0])
        .bind(&p[1])
        .bind(&p[2])
        .bind(&p[3])
        .bind(after.map(DbUuid))
        .bind(first + 1)
        .fetch_all(c)
        .await?);
    Ok(page(&mut rows, first))
}

/// Filters of the agreement list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgreementFilter {
    pub consultation: Option<Uuid>,
    pub status: Option<String>,
    pub region: Option<String>,
    pub programme: Option<String>,
}

/// A page of agreements in id order.
pub async fn agreements(
    pool: &Pool,
    filter: &AgreementFilter,
    first: i64,
    after: Option<Uuid>,
) -> Result<Page<EntityRecord>> {
    const SQL: &str =
        "SELECT id, NULL AS version, consultation_id, status, region, title, position, doc \
        FROM rm_agreements WHERE ($1 IS NULL OR consultation_id = $1) \
        AND ($2 IS NULL OR status = $2) AND ($3 IS NULL OR region = $3) \
        AND ($4 IS NULL OR programme = $4) AND ($5 IS NULL OR id > $5) ORDER BY id LIMIT $6";
    let mut rows = on_pool!(pool, c => sqlx::query_as::<_, EntityRecord>(SQL)
        .bind(filter.consultation.map(DbUuid))
        .bind(&filter.status)
        .bind(&filter.region)
        .bind(&filter.programme)
        .bind(after.map(DbUuid))
        .bind(first + 1)
        .fetch_all(c)
        .await?);
    Ok(page(&mut rows, first))
}

/// Filters of the stakeholder lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StakeholderFilter {
    pub kind: Option<String>,
    pub region: Option<String>,
    pub search: Option<String>,
}

/// A page of organisations in id order.
pub async fn organisations(
    pool: &Pool,
    filter: &StakeholderFilter,
    first: i64,
    after: Option<Uuid>,
) -> Result<Page<EntityRecord>> {
    const SQL: &str = "SELECT id, version, NULL AS consultation_id, kind AS status, region, name AS title, \
        position, doc FROM rm_organisations WHERE ($1 IS NULL OR kind = $1) \
        AND ($2 IS NULL OR region = $2) \
        AND ($3 IS NULL OR search LIKE $3 ESCAPE '\\') AND ($4 IS NULL OR search LIKE $4 ESCAPE '\\') \
        AND ($5 IS NULL OR search LIKE $5 ESCAPE '\\') AND ($6 IS NULL OR search LIKE $6 ESCAPE '\\') \
        AND ($7 IS NULL OR id > $7) ORDER BY id LIMIT $8";
    let p = search_patterns(filter.search.as_deref())?;
    let mut rows = on_pool!(pool, c => sqlx::query_as::<_, EntityRecord>(SQL)
        .bind(&filter.kind)
        .bind(&filter.region)
        .bind(&p[0])
        .bind(&p[1])
        .bind(&p[2])
        .bind(&p[3])
        .bind(after.map(DbUuid))
        .bind(first + 1)
        .fetch_all(c)
        .await?);
    Ok(page(&mut rows, first))
}

/// A page of people in id order.
pub async fn people(
    pool: &Pool,
    filter: &StakeholderFilter,
    first: i64,
    after: Option<Uuid>,
) -> Result<Page<EntityRecord>> {
    const SQL: &str = "SELECT id, version, NULL AS consultation_id, NULL AS status, NULL AS region, \
        name AS title, position, doc FROM rm_people \
        WHERE ($1 IS NULL OR search LIKE $1 ESCAPE '\\') AND ($2 IS NULL OR search LIKE $2 ESCAPE '\\') \
        AND ($3 IS NULL OR search LIKE $3 ESCAPE '\\') AND ($4 IS NULL OR search LIKE $4 ESCAPE '\\') \
        AND ($5 IS NULL OR id > $5) ORDER BY id LIMIT $6";
    let p = search_patterns(filter.search.as_deref())?;
    let mut rows = on_pool!(pool, c => sqlx::query_as::<_, EntityRecord>(SQL)
        .bind(&p[0])
        .bind(&p[1])
        .bind(&p[2])
        .bind(&p[3])
        .bind(after.map(DbUuid))
        .bind(first + 1)
        .fetch_all(c)
        .await?);
    Ok(page(&mut rows, first))
}

/// An action row as lists return it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ActionRecord {
    pub id: DbUuid,
    pub version: i64,
    pub position: i64,
    pub consultation_id: DbUuid,
    pub owner_id: DbUuid,
    pub status: String,
    pub progress: i64,
    pub due_date: Option<String>,
    pub region: Option<String>,
    pub title: String,
    pub doc: String,
}

/// Filters of the action list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActionFilter {
    pub consultation: Option<Uuid>,
    pub status: Option<String>,
    pub owner: Option<Uuid>,
    pub region: Option<String>,
    pub theme: Option<String>,
    /// Only actions certainly due before this day (`YYYY-MM-DD`).
    pub due_before: Option<String>,
    /// Only unfinished actions certainly due before this day (`YYYY-MM-DD`): overdue on it.
    pub overdue_on: Option<String>,
}

/// A page of actions in id order.
pub async fn actions(
    pool: &Pool,
    filter: &ActionFilter,
    first: i64,
    after: Option<Uuid>,
) -> Result<Page<ActionRecord>> {
    const SQL: &str = "SELECT id, version, position, consultation_id, owner_id, status, progress, \
        due_date, region, title, doc FROM rm_actions WHERE ($1 IS NULL OR consultation_id = $1) \
        AND ($2 IS NULL OR status = $2) AND ($3 IS NULL OR owner_id = $3) \
        AND ($4 IS NULL OR region = $4) \
        AND ($5 IS NULL OR id IN (SELECT l.action_id FROM rm_action_links l \
             JOIN rm_themes t ON t.recommendation_id = l.recommendation_id WHERE t.theme = $5)) \
        AND ($6 IS NULL OR due_date < $6) \
        AND ($7 IS NULL OR (due_date < $7 AND status NOT IN ('done', 'cancelled'))) \
        AND ($8 IS NULL OR id > $8) ORDER BY id LIMIT $9";
    let mut rows = on_pool!(pool, c => sqlx::query_as::<_, ActionRecord>(SQL)
        .bind(filter.consultation.map(DbUuid))
        .bind(&filter.status)
        .bind(filter.owner.map(DbUuid))
        .bind(&filter.region)
        .bind(&filter.theme)
        .bind(&filter.due_before)
        .bind(&filter.overdue_on)
        .bind(after.map(DbUuid))
        .bind(first + 1)
        .fetch_all(c)
        .await?);
    Ok(page(&mut rows, first))
}

fn page<T>(rows: &mut Vec<T>, first: i64) -> Page<T> {
    let has_next = rows.len() as i64 > first;
    rows.truncate(first.max(0) as usize);
    Page {
        rows: std::mem::take(rows),
        has_next,
        total: None,
    }
}

/// The actions of many consultations in one statement (the API's batch loader), by consultation.
pub async fn actions_of(pool: &Pool, consultations: &[Uuid]) -> Result<Vec<ActionRecord>> {
    const SQLITE: &str = "SELECT id, version, position, consultation_id, owner_id, status, \
        progress, due_date, region, title, doc FROM rm_actions \
        WHERE consultation_id IN (SELECT value FROM json_each($1)) ORDER BY id";
    const POSTGRES: &str = "SELECT id, version, position, consultation_id, owner_id, status, \
        progress, due_date, region, title, doc FROM rm_actions \
        WHERE consultation_id = ANY($1) ORDER BY id";
    fetch_by_ids(pool, SQLITE, POSTGRES, consultations).await
}

/// One action row by id.
pub async fn action(pool: &Pool, id: Uuid) -> Result<Option<ActionRecord>> {
    const SQL: &str = "SELECT id, version, position, consultation_id, owner_id, status, progress, \
        due_date, region, title, doc FROM rm_actions WHERE id = $1";
    Ok(
        on_pool!(pool, c => sqlx::query_as::<_, ActionRecord>(SQL).bind(DbUuid(id)).fetch_optional(c).await?),
    )
}

/// One organisation row by id.
pub async fn organisation(pool: &Pool, id: Uuid) -> Result<Option<EntityRecord>> {
    const SQL: &str =
        "SELECT id, version, NULL AS consultation_id, kind AS status, region, name AS title, \
        position, doc FROM rm_organisations WHERE id = $1";
    Ok(
        on_pool!(pool, c => sqlx::query_as::<_, EntityRecord>(SQL).bind(DbUuid(id)).fetch_optional(c).await?),
    )
}

/// One person row by id.
pub async fn person(pool: &Pool, id: Uuid) -> Result<Option<EntityRecord>> {
    const SQL: &str =
        "SELECT id, version, NULL AS consultation_id, NULL AS status, NULL AS region, \
        name AS title, position, doc FROM rm_people WHERE id = $1";
    Ok(
        on_pool!(pool, c => sqlx::query_as::<_, EntityRecord>(SQL).bind(DbUuid(id)).fetch_optional(c).await?),
    )
}

/// The region of one consultation, as its read model has it.
pub async fn consultation_region(pool: &Pool, id: Uuid) -> Result<Option<String>> {
    const SQL: &str = "SELECT region FROM rm_consultations WHERE id = $1";
    Ok(
        on_pool!(pool, c => sqlx::query_scalar::<_, Option<String>>(SQL)
        .bind(DbUuid(id))
        .fetch_optional(c)
        .await?)
        .flatten(),
    )
}
