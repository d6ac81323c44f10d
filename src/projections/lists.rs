//! Filtered, keyset-paginated lists over the read models, for the API.
//!
//! Every filter is an optional parameter of one fixed statement (`$n IS NULL OR ...`), so no SQL
//! is assembled at run time. Pages are keyset pages on a unique sort key, so a page never repeats
//! or skips a row when rows are added between two requests.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::search::{query_terms, words_query, WordIndex};
use crate::store::{on_pool, DbUuid, Pool, StoreError};

type Result<T> = std::result::Result<T, StoreError>;

/// The most words a text filter may have.
pub const MAX_SEARCH_TERMS: usize = 4;

/// A text filter's words, checked: at most [`MAX_SEARCH_TERMS`] of them.
pub fn search_terms(text: &str) -> Result<Vec<String>> {
    let terms = query_terms(text);
    if terms.len() > MAX_SEARCH_TERMS {
        return Err(StoreError::validation(
            "search",
            format!("must have at most {MAX_SEARCH_TERMS} words"),
        ));
    }
    Ok(terms)
}

/// A text filter as a list's statement reads it: the query of the backend's word index
/// (migration 0016; [`words_query`]), and which of the statement's three texts to run.
#[derive(Debug, Clone, Default)]
pub struct Words {
    /// The word-index query, bound in the text filter's place; `None` without a text filter.
    pub query: Option<String>,
    /// 0: no text filter; 1: SQLite's FTS5 index; 2: PostgreSQL's text search index; (3:
    /// SQLite's index, rows read in order, chosen by [`Words::for_rows`]).
    pub variant: usize,
}

/// Above this many rows found by SQLite's word index, a list's page is read in the list's order,
/// keeping the rows the index found, until the page is full (a scan of the order index that
/// stops early when matches are many); at or below it, the rows found are fetched and sorted
/// (cheaper when they are few, where the scan would read the whole index).
pub const FETCH_MATCHES_AT_MOST: i64 = 1_000;

impl Words {
    /// The statement text to read a page with, given how many rows the word index finds.
    fn for_rows(&self, found: Option<i64>) -> usize {
        match (self.variant, found) {
            (1, Some(n)) if n > FETCH_MATCHES_AT_MOST => 3,
            (variant, _) => variant,
        }
    }
}

/// How many rows of `$table` SQLite's word index finds for `words` (`None` on PostgreSQL, or
/// without a text filter): one read of the index alone, that chooses how the page is read and,
/// when the text is the list's only filter, is its total.
macro_rules! index_matches {
    ($pool:expr, $table:literal, $words:expr) => {
        async {
            const SQL: &str = concat!(
                "SELECT COUNT(*) FROM ",
                $table,
                "_words WHERE ",
                $table,
                "_words MATCH $1"
            );
            match ($pool, &$words.query) {
                (Pool::Sqlite(p), Some(query)) => sqlx::query_scalar::<_, i64>(SQL)
                    .bind(query)
                    .fetch_one(p)
                    .await
                    .map(Some),
                _ => Ok(None),
            }
        }
    };
}

/// The [`Words`] of a text filter on `pool`'s backend. Every word must begin a word of the
/// row's folded text (after an Arabic proclitic, or without the query's article): "fes" finds
/// "Fès-Meknès", not "professional", as [`super::queries::search`] does.
pub fn search_words(pool: &Pool, text: Option<&str>) -> Result<Words> {
    let Some(text) = text else {
        return Ok(Words::default());
    };
    let terms = search_terms(text)?;
    let (index, variant) = match pool {
        Pool::Sqlite(_) => (WordIndex::Fts5, 1),
        Pool::Postgres(_) => (WordIndex::TsQuery, 2),
    };
    Ok(match words_query(&terms, index) {
        Some(query) => Words {
            query: Some(query),
            variant,
        },
        None => Words::default(),
    })
}

/// A list's text-filter condition on `$table`'s rows, the query in `$param`: `plain` (no filter:
/// the parameter is NULL), `fts` (SQLite: the rows its FTS5 index finds, fetched one by one),
/// `scan` (SQLite: the rows read in the statement's order, each kept if the index found it; a
/// `+` keeps SQLite from fetching by rowid), `tsv` (PostgreSQL: the rows whose stored words,
/// the `words` column of migration 0018, match, through its GIN index or read as they are).
/// Conditions on the index are plain `AND` terms, so that each database starts from the index
/// rather than testing every row.
macro_rules! words {
    (plain, $table:literal, $param:literal) => {
        concat!($param, " IS NULL")
    };
    (fts, $table:literal, $param:literal) => {
        concat!(
            "rowid IN (SELECT rowid FROM ",
            $table,
            "_words WHERE ",
            $table,
            "_words MATCH ",
            $param,
            ")"
        )
    };
    (scan, $table:literal, $param:literal) => {
        concat!(
            "+rowid IN (SELECT rowid FROM ",
            $table,
            "_words WHERE ",
            $table,
            "_words MATCH ",
            $param,
            ")"
        )
    };
    (tsv, $table:literal, $param:literal) => {
        concat!("words @@ to_tsquery('simple', ", $param, ")")
    };
}

pub(crate) use words;

/// The four texts of a list statement, one per [`Words::variant`]: `$before`, the list's
/// conditions (`$where!`) with the text filter's, then `$after`.
macro_rules! per_words {
    ($where:ident, [$($before:expr),+], $after:literal) => {
        [
            concat!($($before,)+ $where!(plain), $after),
            concat!($($before,)+ $where!(fts), $after),
            concat!($($before,)+ $where!(tsv), $after),
            concat!($($before,)+ $where!(scan), $after),
        ]
    };
}

/// The columns a [`ConsultationRecord`] reads (the list's order key among them): the one place
/// they are listed.
macro_rules! consultation_record {
    () => {
        "id, version, position, kind, status, region, start_date, month, title, \
         COALESCE(start_date, '') AS sort_key"
    };
}

/// The columns an [`ActionRecord`] reads.
macro_rules! action_record {
    () => {
        "id, version, position, consultation_id, owner_id, status, progress, due_date, region, \
         title, doc"
    };
}

/// The columns an [`EntityRecord`] reads of an organisation.
macro_rules! organisation_record {
    () => {
        "id, version, NULL AS consultation_id, kind AS status, region, name AS title, position, \
         doc"
    };
}

/// The columns an [`EntityRecord`] reads of a person.
macro_rules! person_record {
    () => {
        "id, version, NULL AS consultation_id, NULL AS status, NULL AS region, name AS title, \
         position, doc"
    };
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
    /// First day, `YYYY-MM-DD`: consultations whose start can be on or after it, compared at
    /// the precision the start is known to (a start known as November 2025 can be on or after
    /// 3 November 2025); a start without a known year is never compared.
    pub from: Option<String>,
    /// Last day, `YYYY-MM-DD`: consultations whose start can be on or before it (same rule).
    pub to: Option<String>,
    pub theme: Option<String>,
    /// An organisation or person taking part: as participant, organiser, agreement party or
    /// signatory.
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
    ($words:ident) => {
        concat!(
            " WHERE ($1 IS NULL OR region = $1) AND ($2 IS NULL OR kind = $2) \
          AND ($3 IS NULL OR status = $3) AND ($4 IS NULL OR start_last >= $4) \
          AND ($5 IS NULL OR start_first <= $5) \
          AND ($6 IS NULL OR id IN (SELECT consultation_id FROM rm_themes WHERE theme = $6)) \
          AND ($7 IS NULL OR id IN (SELECT consultation_id FROM rm_participants \
               WHERE person_id = $7 OR organisation_id = $7) \
               OR id IN (SELECT consultation_id FROM rm_organisers WHERE organisation_id = $7) \
               OR id IN (SELECT consultation_id FROM rm_agreement_parties \
               WHERE organisation_id = $7 OR signatory_person_id = $7)) \
          AND ",
            words!($words, "rm_consultations", "$8"),
            ""
        )
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
            .bind(&$patterns.query)
    };
}

/// A page of consultations, oldest (or newest, with `descending`) start first, with the count
/// of all that match when `with_total`.
pub async fn consultations(
    pool: &Pool,
    filter: &ConsultationFilter,
    descending: bool,
    first: i64,
    after: Option<&Cursor>,
    with_total: bool,
) -> Result<Page<ConsultationRecord>> {
    const COUNT: [&str; 4] = per_words!(
        consultation_where,
        ["SELECT COUNT(*) FROM rm_consultations"],
        ""
    );
    let unfiltered = *filter == ConsultationFilter::default();
    let words = search_words(pool, filter.search.as_deref())?;
    let found = index_matches!(pool, "rm_consultations", words).await?;
    let mut rows = if unfiltered {
        unfiltered_consultations(pool, descending, first, after).await?
    } else {
        filtered_consultations(pool, filter, &words, found, descending, first, after).await?
    };
    let only_words = ConsultationFilter {
        search: None,
        ..filter.clone()
    } == ConsultationFilter::default();
    let total = if !with_total {
        None
    } else if unfiltered {
        // Kept by the projector as it writes (`rm_counts`): one row, whatever the table's size.
        const COUNT_ALL: &str = "SELECT value FROM rm_counts WHERE name = 'consultations'";
        Some(
            on_pool!(pool, p => sqlx::query_scalar::<_, i64>(COUNT_ALL).fetch_optional(p).await?)
                .unwrap_or(0),
        )
    } else if let (true, Some(found)) = (only_words, found) {
        Some(found)
    } else {
        Some(
            on_pool!(pool, p => bind_consultation_filter!(sqlx::query_scalar::<_, i64>(COUNT[words.variant]), filter, words)
            .fetch_one(p)
            .await?),
        )
    };
    let has_next = rows.len() as i64 > first;
    rows.truncate(first as usize);
    Ok(Page {
        rows,
        has_next,
        total,
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
    const FIRST_ASC: &str = concat!(
        "SELECT ",
        consultation_record!(),
        " FROM rm_consultations \
        ORDER BY COALESCE(start_date, ''), id LIMIT $1"
    );
    const FIRST_DESC: &str = concat!(
        "SELECT ",
        consultation_record!(),
        " FROM rm_consultations \
        ORDER BY COALESCE(start_date, '') DESC, id DESC LIMIT $1"
    );
    const AFTER_ASC: &str = concat!(
        "SELECT ",
        consultation_record!(),
        " FROM rm_consultations \
        WHERE (COALESCE(start_date, ''), id) > ($1, $2) \
        ORDER BY COALESCE(start_date, ''), id LIMIT $3"
    );
    const AFTER_DESC: &str = concat!(
        "SELECT ",
        consultation_record!(),
        " FROM rm_consultations \
        WHERE (COALESCE(start_date, ''), id) < ($1, $2) \
        ORDER BY COALESCE(start_date, '') DESC, id DESC LIMIT $3"
    );
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
    patterns: &Words,
    found: Option<i64>,
    descending: bool,
    first: i64,
    after: Option<&Cursor>,
) -> Result<Vec<ConsultationRecord>> {
    const ASC: [&str; 4] = per_words!(
        consultation_where,
        [concat!(
            "SELECT ",
            consultation_record!(),
            " FROM rm_consultations"
        )],
        " AND ($9 IS NULL OR (COALESCE(start_date, ''), id) > ($9, $10)) \
         ORDER BY COALESCE(start_date, ''), id LIMIT $11"
    );
    const DESC: [&str; 4] = per_words!(
        consultation_where,
        [concat!(
            "SELECT ",
            consultation_record!(),
            " FROM rm_consultations"
        )],
        " AND ($9 IS NULL OR (COALESCE(start_date, ''), id) < ($9, $10)) \
         ORDER BY COALESCE(start_date, '') DESC, id DESC LIMIT $11"
    );
    let sql = if descending { DESC } else { ASC }[patterns.for_rows(found)];
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

/// The two texts of a statement over a list of ids: `$ids` stands for the list, read with
/// `json_each` on SQLite and as a `uuid[]` on PostgreSQL (see [`fetch_by_ids`]).
macro_rules! by_ids {
    ($select:expr, $($part:tt),* $(,)?) => {
        (
            concat!($select, $(by_ids!(@sqlite $part)),*),
            concat!($select, $(by_ids!(@postgres $part)),*),
        )
    };
    (@sqlite "IN $ids") => { " IN (SELECT value FROM json_each($1))" };
    (@postgres "IN $ids") => { " = ANY($1)" };
    (@sqlite $part:tt) => { $part };
    (@postgres $part:tt) => { $part };
}

/// The documents of the given consultations (those that exist), with one statement: pages
/// read them only for the consultations their caller has not parsed yet.
pub async fn consultation_docs(pool: &Pool, ids: &[Uuid]) -> Result<Vec<ConsultationDoc>> {
    const SQL: (&str, &str) = by_ids!(
        "SELECT id, version, position, doc FROM rm_consultations WHERE id",
        "IN $ids"
    );
    fetch_by_ids(pool, SQL.0, SQL.1, ids).await
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

/// Runs a statement whose parameters are a list of ids (`$1`) and a number (`$2`), like
/// [`fetch_by_ids`].
async fn fetch_by_ids_and<T>(
    pool: &Pool,
    sqlite: &'static str,
    postgres: &'static str,
    ids: &[Uuid],
    number: i64,
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
                .bind(number)
                .fetch_all(c)
                .await?
        }
        Pool::Postgres(c) => {
            sqlx::query_as::<_, T>(postgres)
                .bind(ids)
                .bind(number)
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
    /// Made at a consultation whose start can be on or after this day (as
    /// [`ConsultationFilter::from`]).
    pub from: Option<String>,
    /// Made at a consultation whose start can be on or before this day.
    pub to: Option<String>,
}

macro_rules! recommendation_where {
    ($words:ident) => {
        concat!(
            " WHERE ($1 IS NULL OR consultation_id = $1) \
        AND ($2 IS NULL OR status = $2) AND ($3 IS NULL OR region = $3) \
        AND ($4 IS NULL OR id IN (SELECT recommendation_id FROM rm_themes WHERE theme = $4)) \
        AND ", words!($words, "rm_recommendations", "$5"), " \
        AND ($6 IS NULL OR consultation_id IN (SELECT id FROM rm_consultations WHERE start_last >= $6)) \
        AND ($7 IS NULL OR consultation_id IN (SELECT id FROM rm_consultations WHERE start_first <= $7))"
        )
    };
}

macro_rules! bind_recommendation_filter {
    ($query:expr, $filter:expr, $p:expr) => {
        $query
            .bind($filter.consultation.map(DbUuid))
            .bind(&$filter.status)
            .bind(&$filter.region)
            .bind(&$filter.theme)
            .bind(&$p.query)
            .bind(&$filter.from)
            .bind(&$filter.to)
    };
}

/// A page of recommendations in id order, with the count of all that match when `with_total`.
pub async fn recommendations(
    pool: &Pool,
    filter: &RecommendationFilter,
    first: i64,
    after: Option<Uuid>,
    with_total: bool,
) -> Result<Page<EntityRecord>> {
    const SQL: [&str; 4] = per_words!(recommendation_where, ["SELECT id, NULL AS version, consultation_id, status, region, text AS title, position, \
         doc FROM rm_recommendations"], " AND ($8 IS NULL OR id > $8) ORDER BY id LIMIT $9");
    const COUNT: [&str; 4] = per_words!(
        recommendation_where,
        ["SELECT COUNT(*) FROM rm_recommendations"],
        ""
    );
    let p = search_words(pool, filter.search.as_deref())?;
    let mut rows = on_pool!(pool, c => bind_recommendation_filter!(sqlx::query_as::<_, EntityRecord>(SQL[p.variant]), filter, p)
        .bind(after.map(DbUuid))
        .bind(first + 1)
        .fetch_all(c)
        .await?);
    let mut page = page(&mut rows, first);
    if with_total {
        page.total = Some(
            on_pool!(pool, c => bind_recommendation_filter!(sqlx::query_scalar::<_, i64>(COUNT[p.variant]), filter, p)
            .fetch_one(c)
            .await?),
        );
    }
    Ok(page)
}

/// Filters of the agreement list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgreementFilter {
    pub consultation: Option<Uuid>,
    pub status: Option<String>,
    pub kind: Option<String>,
    pub region: Option<String>,
    pub programme: Option<String>,
    /// An organisation party to it (itself, or through the participant that is the party).
    pub party: Option<Uuid>,
    /// Words of the title, programme or objectives.
    pub search: Option<String>,
}

macro_rules! agreement_where {
    ($words:ident) => {
        concat!(
            " WHERE ($1 IS NULL OR consultation_id = $1) \
        AND ($2 IS NULL OR status = $2) AND ($3 IS NULL OR kind = $3) \
        AND ($4 IS NULL OR region = $4) AND ($5 IS NULL OR programme = $5) \
        AND ($6 IS NULL OR id IN (SELECT agreement_id FROM rm_agreement_parties \
             WHERE organisation_id = $6)) \
        AND ",
            words!($words, "rm_agreements", "$7"),
            ""
        )
    };
}

macro_rules! bind_agreement_filter {
    ($query:expr, $filter:expr, $p:expr) => {
        $query
            .bind($filter.consultation.map(DbUuid))
            .bind(&$filter.status)
            .bind(&$filter.kind)
            .bind(&$filter.region)
            .bind(&$filter.programme)
            .bind($filter.party.map(DbUuid))
            .bind(&$p.query)
    };
}

/// A page of agreements in id order, with the count of all that match when `with_total`.
pub async fn agreements(
    pool: &Pool,
    filter: &AgreementFilter,
    first: i64,
    after: Option<Uuid>,
    with_total: bool,
) -> Result<Page<EntityRecord>> {
    const SQL: [&str; 4] = per_words!(
        agreement_where,
        [
            "SELECT id, NULL AS version, consultation_id, status, region, title, position, doc \
         FROM rm_agreements"
        ],
        " AND ($8 IS NULL OR id > $8) ORDER BY id LIMIT $9"
    );
    const COUNT: [&str; 4] =
        per_words!(agreement_where, ["SELECT COUNT(*) FROM rm_agreements"], "");
    let p = search_words(pool, filter.search.as_deref())?;
    let mut rows = on_pool!(pool, c => bind_agreement_filter!(sqlx::query_as::<_, EntityRecord>(SQL[p.variant]), filter, p)
        .bind(after.map(DbUuid))
        .bind(first + 1)
        .fetch_all(c)
        .await?);
    let mut page = page(&mut rows, first);
    if with_total {
        page.total = Some(
            on_pool!(pool, c => bind_agreement_filter!(sqlx::query_scalar::<_, i64>(COUNT[p.variant]), filter, p)
            .fetch_one(c)
            .await?),
        );
    }
    Ok(page)
}

/// Filters of the stakeholder lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StakeholderFilter {
    pub kind: Option<String>,
    pub region: Option<String>,
    pub search: Option<String>,
}

macro_rules! organisation_where {
    ($words:ident) => {
        concat!(
            " WHERE ($1 IS NULL OR kind = $1) AND ($2 IS NULL OR region = $2) \
        AND ",
            words!($words, "rm_organisations", "$3"),
            ""
        )
    };
}

macro_rules! bind_organisation_filter {
    ($query:expr, $filter:expr, $p:expr) => {
        $query
            .bind(&$filter.kind)
            .bind(&$filter.region)
            .bind(&$p.query)
    };
}

/// A page of organisations in id order, with the count of all that match when `with_total`.
pub async fn organisations(
    pool: &Pool,
    filter: &StakeholderFilter,
    first: i64,
    after: Option<Uuid>,
    with_total: bool,
) -> Result<Page<EntityRecord>> {
    const SQL: [&str; 4] = per_words!(
        organisation_where,
        [concat!(
            "SELECT ",
            organisation_record!(),
            " FROM rm_organisations"
        )],
        " AND ($4 IS NULL OR id > $4) ORDER BY id LIMIT $5"
    );
    const COUNT: [&str; 4] = per_words!(
        organisation_where,
        ["SELECT COUNT(*) FROM rm_organisations"],
        ""
    );
    let p = search_words(pool, filter.search.as_deref())?;
    let found = index_matches!(pool, "rm_organisations", p).await?;
    let mut rows = on_pool!(pool, c => bind_organisation_filter!(sqlx::query_as::<_, EntityRecord>(SQL[p.for_rows(found)]), filter, p)
        .bind(after.map(DbUuid))
        .bind(first + 1)
        .fetch_all(c)
        .await?);
    let mut page = page(&mut rows, first);
    if with_total && *filter == StakeholderFilter::default() {
        // Without a filter, the count reads the narrowest index, not every row's conditions
        // (a scan of the wide rows: 150 ms at 250,000 organisations on SQLite).
        const COUNT_ALL: &str = "SELECT COUNT(*) FROM rm_organisations";
        page.total =
            Some(on_pool!(pool, c => sqlx::query_scalar::<_, i64>(COUNT_ALL).fetch_one(c).await?));
    } else if let (true, Some(found)) = (
        with_total && filter.kind.is_none() && filter.region.is_none(),
        found,
    ) {
        page.total = Some(found);
    } else if with_total {
        page.total = Some(
            on_pool!(pool, c => bind_organisation_filter!(sqlx::query_scalar::<_, i64>(COUNT[p.variant]), filter, p)
            .fetch_one(c)
            .await?),
        );
    }
    Ok(page)
}

macro_rules! person_where {
    ($words:ident) => {
        concat!(" WHERE ", words!($words, "rm_people", "$1"), "")
    };
}

/// A page of people in id order, with the count of all that match when `with_total`.
pub async fn people(
    pool: &Pool,
    filter: &StakeholderFilter,
    first: i64,
    after: Option<Uuid>,
    with_total: bool,
) -> Result<Page<EntityRecord>> {
    const SQL: [&str; 4] = per_words!(
        person_where,
        [concat!("SELECT ", person_record!(), " FROM rm_people")],
        " AND ($2 IS NULL OR id > $2) ORDER BY id LIMIT $3"
    );
    const COUNT: [&str; 4] = per_words!(person_where, ["SELECT COUNT(*) FROM rm_people"], "");
    let p = search_words(pool, filter.search.as_deref())?;
    let found = index_matches!(pool, "rm_people", p).await?;
    let mut rows = on_pool!(pool, c => sqlx::query_as::<_, EntityRecord>(SQL[p.for_rows(found)])
        .bind(&p.query)
        .bind(after.map(DbUuid))
        .bind(first + 1)
        .fetch_all(c)
        .await?);
    let mut page = page(&mut rows, first);
    if let (true, Some(found)) = (with_total, found) {
        // The text is the people list's only filter: the index's count is its total.
        page.total = Some(found);
    } else if with_total {
        page.total = Some(
            on_pool!(pool, c => sqlx::query_scalar::<_, i64>(COUNT[p.variant])
            .bind(&p.query)
            .fetch_one(c)
            .await?),
        );
    }
    Ok(page)
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

macro_rules! action_where {
    () => {
        " WHERE ($1 IS NULL OR consultation_id = $1) \
        AND ($2 IS NULL OR status = $2) AND ($3 IS NULL OR owner_id = $3) \
        AND ($4 IS NULL OR region = $4) \
        AND ($5 IS NULL OR id IN (SELECT l.action_id FROM rm_action_links l \
             JOIN rm_themes t ON t.recommendation_id = l.recommendation_id WHERE t.theme = $5)) \
        AND ($6 IS NULL OR due_date < $6) \
        AND ($7 IS NULL OR (due_date < $7 AND status NOT IN ('done', 'cancelled')))"
    };
}

macro_rules! bind_action_filter {
    ($query:expr, $filter:expr) => {
        $query
            .bind($filter.consultation.map(DbUuid))
            .bind(&$filter.status)
            .bind($filter.owner.map(DbUuid))
            .bind(&$filter.region)
            .bind(&$filter.theme)
            .bind(&$filter.due_before)
            .bind(&$filter.overdue_on)
    };
}

/// A page of actions in id order, with the count of all that match when `with_total`.
pub async fn actions(
    pool: &Pool,
    filter: &ActionFilter,
    first: i64,
    after: Option<Uuid>,
    with_total: bool,
) -> Result<Page<ActionRecord>> {
    const SQL: &str = concat!(
        concat!("SELECT ", action_record!(), " FROM rm_actions"),
        action_where!(),
        " AND ($8 IS NULL OR id > $8) ORDER BY id LIMIT $9"
    );
    const COUNT: &str = concat!("SELECT COUNT(*) FROM rm_actions", action_where!());
    let mut rows = on_pool!(pool, c => bind_action_filter!(sqlx::query_as::<_, ActionRecord>(SQL), filter)
        .bind(after.map(DbUuid))
        .bind(first + 1)
        .fetch_all(c)
        .await?);
    let mut page = page(&mut rows, first);
    if with_total {
        page.total = Some(
            on_pool!(pool, c => bind_action_filter!(sqlx::query_scalar::<_, i64>(COUNT), filter)
            .fetch_one(c)
            .await?),
        );
    }
    Ok(page)
}

/// A key figure row as lists return it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct KeyFigureRecord {
    pub id: DbUuid,
    pub consultation_id: DbUuid,
    pub region: Option<String>,
    pub position: i64,
    pub doc: String,
}

/// Filters of the key figure list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyFigureFilter {
    pub consultation: Option<Uuid>,
    /// The figure's region, or its consultation's when it states none.
    pub region: Option<String>,
    pub unit: Option<String>,
    /// Words of the indicator (or of the figure as stated).
    pub indicator: Option<String>,
    /// Figures whose period (or `as_of` date) can reach this day or later; an open period
    /// reaches every later day; figures with no known year are never compared.
    pub from: Option<String>,
    /// Figures whose period (or `as_of` date) can start on or before this day.
    pub to: Option<String>,
}

macro_rules! key_figure_where {
    ($words:ident) => {
        concat!(
            " WHERE ($1 IS NULL OR consultation_id = $1) \
        AND ($2 IS NULL OR region = $2) AND ($3 IS NULL OR unit = $3) \
        AND ", words!($words, "rm_key_figures", "$4"), " \
        AND ($5 IS NULL OR (period_first IS NOT NULL AND (period_last IS NULL OR period_last >= $5))) \
        AND ($6 IS NULL OR period_first <= $6)"
        )
    };
}

macro_rules! bind_key_figure_filter {
    ($query:expr, $filter:expr, $p:expr) => {
        $query
            .bind($filter.consultation.map(DbUuid))
            .bind(&$filter.region)
            .bind(&$filter.unit)
            .bind(&$p.query)
            .bind(&$filter.from)
            .bind(&$filter.to)
    };
}

/// Where a key figure page starts: after this figure of this consultation (figure ids are
/// unique within their consultation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyFigureCursor {
    pub id: Uuid,
    pub consultation: Uuid,
}

/// A page of key figures in (id, consultation) order, with the count of all that match when
/// `with_total`.
pub async fn key_figures(
    pool: &Pool,
    filter: &KeyFigureFilter,
    first: i64,
    after: Option<KeyFigureCursor>,
    with_total: bool,
) -> Result<Page<KeyFigureRecord>> {
    const SQL: [&str; 4] = per_words!(
        key_figure_where,
        ["SELECT id, consultation_id, region, position, doc FROM rm_key_figures"],
        " AND ($7 IS NULL OR (id, consultation_id) > ($7, $8)) \
         ORDER BY id, consultation_id LIMIT $9"
    );
    const COUNT: [&str; 4] = per_words!(
        key_figure_where,
        ["SELECT COUNT(*) FROM rm_key_figures"],
        ""
    );
    let p = search_words(pool, filter.indicator.as_deref())?;
    let mut rows = on_pool!(pool, c => bind_key_figure_filter!(sqlx::query_as::<_, KeyFigureRecord>(SQL[p.variant]), filter, p)
        .bind(after.map(|a| DbUuid(a.id)))
        .bind(after.map(|a| DbUuid(a.consultation)))
        .bind(first + 1)
        .fetch_all(c)
        .await?);
    let mut page = page(&mut rows, first);
    if with_total {
        page.total = Some(
            on_pool!(pool, c => bind_key_figure_filter!(sqlx::query_scalar::<_, i64>(COUNT[p.variant]), filter, p)
            .fetch_one(c)
            .await?),
        );
    }
    Ok(page)
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
    const SQL: (&str, &str) = by_ids!(
        concat!(
            "SELECT ",
            action_record!(),
            " FROM rm_actions WHERE consultation_id"
        ),
        "IN $ids",
        " ORDER BY id"
    );
    fetch_by_ids(pool, SQL.0, SQL.1, consultations).await
}

/// The actions with these ids (those that exist), in one statement.
pub async fn actions_by_ids(pool: &Pool, ids: &[Uuid]) -> Result<Vec<ActionRecord>> {
    const SQL: (&str, &str) = by_ids!(
        concat!("SELECT ", action_record!(), " FROM rm_actions WHERE id"),
        "IN $ids"
    );
    fetch_by_ids(pool, SQL.0, SQL.1, ids).await
}

/// One progress report of an action: the event that recorded it and the report (canonical JSON
/// of [`crate::domain::action::ProgressReport`]).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReportRecord {
    pub action_id: DbUuid,
    pub position: i64,
    pub doc: String,
}

/// The progress reports of these actions, each action's oldest first, in one statement (they
/// are rows of their own: an action's `doc` does not hold them).
pub async fn reports_of(pool: &Pool, ids: &[Uuid]) -> Result<Vec<ReportRecord>> {
    const SQL: (&str, &str) = by_ids!(
        "SELECT action_id, position, doc FROM rm_progress_reports WHERE action_id",
        "IN $ids",
        " ORDER BY action_id, position"
    );
    fetch_by_ids(pool, SQL.0, SQL.1, ids).await
}

/// The reports of [`reports_of`] parsed and grouped by action, each action's oldest first.
pub fn group_reports(
    rows: &[ReportRecord],
) -> std::result::Result<
    std::collections::HashMap<Uuid, Vec<crate::domain::action::ProgressReport>>,
    serde_json::Error,
> {
    let mut by: std::collections::HashMap<Uuid, Vec<_>> = std::collections::HashMap::new();
    for row in rows {
        by.entry(row.action_id.0)
            .or_default()
            .push(serde_json::from_str(&row.doc)?);
    }
    Ok(by)
}

/// The consultation rows (without documents) with these ids, in one statement.
pub async fn consultations_by_ids(pool: &Pool, ids: &[Uuid]) -> Result<Vec<ConsultationRecord>> {
    const SQL: (&str, &str) = by_ids!(
        concat!(
            "SELECT ",
            consultation_record!(),
            " FROM rm_consultations WHERE id"
        ),
        "IN $ids"
    );
    fetch_by_ids(pool, SQL.0, SQL.1, ids).await
}

/// The organisations with these ids, in one statement.
pub async fn organisations_by_ids(pool: &Pool, ids: &[Uuid]) -> Result<Vec<EntityRecord>> {
    const SQL: (&str, &str) = by_ids!(
        concat!(
            "SELECT ",
            organisation_record!(),
            " FROM rm_organisations WHERE id"
        ),
        "IN $ids"
    );
    fetch_by_ids(pool, SQL.0, SQL.1, ids).await
}

/// The people with these ids, in one statement.
pub async fn people_by_ids(pool: &Pool, ids: &[Uuid]) -> Result<Vec<EntityRecord>> {
    const SQL: (&str, &str) = by_ids!(
        concat!("SELECT ", person_record!(), " FROM rm_people WHERE id"),
        "IN $ids"
    );
    fetch_by_ids(pool, SQL.0, SQL.1, ids).await
}

/// The recommendations with these ids, in one statement.
pub async fn recommendations_by_ids(pool: &Pool, ids: &[Uuid]) -> Result<Vec<EntityRecord>> {
    const SQL: (&str, &str) = by_ids!(
        "SELECT id, NULL AS version, consultation_id, status, region, text AS title, position, \
         doc FROM rm_recommendations WHERE id",
        "IN $ids"
    );
    fetch_by_ids(pool, SQL.0, SQL.1, ids).await
}

/// The agreements with these ids, in one statement.
pub async fn agreements_by_ids(pool: &Pool, ids: &[Uuid]) -> Result<Vec<EntityRecord>> {
    const SQL: (&str, &str) = by_ids!(
        "SELECT id, NULL AS version, consultation_id, status, region, title, position, doc \
         FROM rm_agreements WHERE id",
        "IN $ids"
    );
    fetch_by_ids(pool, SQL.0, SQL.1, ids).await
}

/// A participant row: the participant's document and its consultation's region.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ParticipantRecord {
    pub consultation_id: DbUuid,
    pub participant_id: DbUuid,
    pub region: Option<String>,
    pub doc: String,
}

/// The participants with these ids in any consultation (participant ids are unique within
/// their consultation only: callers keep the consultation they want), in one statement.
pub async fn participants_by_ids(pool: &Pool, ids: &[Uuid]) -> Result<Vec<ParticipantRecord>> {
    const SQL: (&str, &str) = by_ids!(
        "SELECT consultation_id, participant_id, region, doc FROM rm_participants \
         WHERE participant_id",
        "IN $ids"
    );
    fetch_by_ids(pool, SQL.0, SQL.1, ids).await
}

/// A reverse edge read for many entities at once: which ids each one leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Related {
    /// An organisation's direct children, by id.
    Children,
    /// The people with a post in an organisation, by id.
    People,
    /// The people with a post not ended in an organisation, by id.
    CurrentPeople,
    /// The consultations an organisation took part in (participant, organiser or agreement
    /// party), earliest start first.
    OrganisationConsultations,
    /// The consultations a person took part in (participant or signatory), earliest start
    /// first.
    PersonConsultations,
    /// The actions an organisation owns, by id.
    ActionsOwned,
    /// The actions that follow up a recommendation, by id.
    RecommendationActions,
}

/// For each of `ids`, the first `limit` ids it leads to by `edge`, as `(from, to)` pairs, in
/// one statement.
pub async fn related(
    pool: &Pool,
    edge: Related,
    ids: &[Uuid],
    limit: i64,
) -> Result<Vec<(DbUuid, DbUuid)>> {
    const CHILDREN: (&str, &str) = by_ids!(
        "SELECT parent_id, id FROM (SELECT parent_id, id, ROW_NUMBER() OVER \
         (PARTITION BY parent_id ORDER BY id) AS n FROM rm_organisations WHERE parent_id",
        "IN $ids",
        ") t WHERE n <= $2 ORDER BY parent_id, id"
    );
    const PEOPLE: (&str, &str) = by_ids!(
        "SELECT organisation_id, person_id FROM (SELECT organisation_id, person_id, \
         ROW_NUMBER() OVER (PARTITION BY organisation_id ORDER BY person_id) AS n FROM \
         (SELECT DISTINCT organisation_id, person_id FROM rm_posts WHERE organisation_id",
        "IN $ids",
        ") d) t WHERE n <= $2 ORDER BY organisation_id, person_id"
    );
    const CURRENT_PEOPLE: (&str, &str) = by_ids!(
        "SELECT organisation_id, person_id FROM (SELECT organisation_id, person_id, \
         ROW_NUMBER() OVER (PARTITION BY organisation_id ORDER BY person_id) AS n FROM \
         (SELECT DISTINCT organisation_id, person_id FROM rm_posts WHERE ended = 0 \
         AND organisation_id",
        "IN $ids",
        ") d) t WHERE n <= $2 ORDER BY organisation_id, person_id"
    );
    const ORGANISATION_CONSULTATIONS: (&str, &str) = by_ids!(
        "SELECT who, id FROM (SELECT s.who, c.id, ROW_NUMBER() OVER (PARTITION BY s.who \
         ORDER BY COALESCE(c.start_date, ''), c.id) AS n FROM \
         (SELECT organisation_id AS who, consultation_id AS cid FROM rm_participants \
         WHERE organisation_id",
        "IN $ids",
        " UNION SELECT organisation_id, consultation_id FROM rm_organisers WHERE organisation_id",
        "IN $ids",
        " UNION SELECT organisation_id, consultation_id FROM rm_agreement_parties \
         WHERE organisation_id",
        "IN $ids",
        ") s JOIN rm_consultations c ON c.id = s.cid) t WHERE n <= $2 ORDER BY who, n"
    );
    const PERSON_CONSULTATIONS: (&str, &str) = by_ids!(
        "SELECT who, id FROM (SELECT s.who, c.id, ROW_NUMBER() OVER (PARTITION BY s.who \
         ORDER BY COALESCE(c.start_date, ''), c.id) AS n FROM \
         (SELECT person_id AS who, consultation_id AS cid FROM rm_participants WHERE person_id",
        "IN $ids",
        " UNION SELECT signatory_person_id, consultation_id FROM rm_agreement_parties \
         WHERE signatory_person_id",
        "IN $ids",
        ") s JOIN rm_consultations c ON c.id = s.cid) t WHERE n <= $2 ORDER BY who, n"
    );
    const ACTIONS_OWNED: (&str, &str) = by_ids!(
        "SELECT owner_id, id FROM (SELECT owner_id, id, ROW_NUMBER() OVER \
         (PARTITION BY owner_id ORDER BY id) AS n FROM rm_actions WHERE owner_id",
        "IN $ids",
        ") t WHERE n <= $2 ORDER BY owner_id, id"
    );
    const RECOMMENDATION_ACTIONS: (&str, &str) = by_ids!(
        "SELECT recommendation_id, action_id FROM (SELECT recommendation_id, action_id, \
         ROW_NUMBER() OVER (PARTITION BY recommendation_id ORDER BY action_id) AS n \
         FROM rm_action_links WHERE recommendation_id",
        "IN $ids",
        ") t WHERE n <= $2 ORDER BY recommendation_id, action_id"
    );
    let (sqlite, postgres) = match edge {
        Related::Children => CHILDREN,
        Related::People => PEOPLE,
        Related::CurrentPeople => CURRENT_PEOPLE,
        Related::OrganisationConsultations => ORGANISATION_CONSULTATIONS,
        Related::PersonConsultations => PERSON_CONSULTATIONS,
        Related::ActionsOwned => ACTIONS_OWNED,
        Related::RecommendationActions => RECOMMENDATION_ACTIONS,
    };
    fetch_by_ids_and(pool, sqlite, postgres, ids, limit).await
}

/// One action row by id.
pub async fn action(pool: &Pool, id: Uuid) -> Result<Option<ActionRecord>> {
    const SQL: &str = concat!(
        "SELECT ",
        action_record!(),
        " FROM rm_actions WHERE id = $1"
    );
    Ok(
        on_pool!(pool, c => sqlx::query_as::<_, ActionRecord>(SQL).bind(DbUuid(id)).fetch_optional(c).await?),
    )
}

/// One organisation row by id.
pub async fn organisation(pool: &Pool, id: Uuid) -> Result<Option<EntityRecord>> {
    const SQL: &str = concat!(
        "SELECT ",
        organisation_record!(),
        " FROM rm_organisations WHERE id = $1"
    );
    Ok(
        on_pool!(pool, c => sqlx::query_as::<_, EntityRecord>(SQL).bind(DbUuid(id)).fetch_optional(c).await?),
    )
}

/// One person row by id.
pub async fn person(pool: &Pool, id: Uuid) -> Result<Option<EntityRecord>> {
    const SQL: &str = concat!("SELECT ", person_record!(), " FROM rm_people WHERE id = $1");
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

/// What kind of entity an id names, for `node(id)`: `consultation`, `organisation`, `person`,
/// `action`, `recommendation` or `agreement`, in that order of preference when (against the
/// odds) the same id names several.
pub async fn kind_of(pool: &Pool, id: Uuid) -> Result<Option<String>> {
    const SQL: &str = "SELECT kind FROM (\
        SELECT 1 AS preference, 'consultation' AS kind FROM rm_consultations WHERE id = $1 \
        UNION ALL SELECT 2, 'organisation' FROM rm_organisations WHERE id = $1 \
        UNION ALL SELECT 3, 'person' FROM rm_people WHERE id = $1 \
        UNION ALL SELECT 4, 'action' FROM rm_actions WHERE id = $1 \
        UNION ALL SELECT 5, 'recommendation' FROM rm_recommendations WHERE id = $1 \
        UNION ALL SELECT 6, 'agreement' FROM rm_agreements WHERE id = $1) k \
        ORDER BY preference LIMIT 1";
    Ok(on_pool!(pool, c => sqlx::query_scalar::<_, String>(SQL)
        .bind(DbUuid(id))
        .fetch_optional(c)
        .await?))
}

#[cfg(test)]
mod tests {
    #[test]
    fn id_lists_are_spelt_for_each_backend() {
        let (sqlite, postgres) = by_ids!("SELECT id FROM t WHERE id", "IN $ids", " ORDER BY id");
        assert_eq!(
            sqlite,
            "SELECT id FROM t WHERE id IN (SELECT value FROM json_each($1)) ORDER BY id"
        );
        assert_eq!(postgres, "SELECT id FROM t WHERE id = ANY($1) ORDER BY id");
    }
}
