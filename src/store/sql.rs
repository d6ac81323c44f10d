//! The event store's SQL: one small function per statement, the same text on both backends.

use sqlx::FromRow;

use super::codec::{DbTime, DbUuid};
use super::db::{on_pool, on_tx, Pool, Tx};
use super::error::StoreError;

/// The column list of `events`, in the order of [`EventRow`].
macro_rules! event_columns {
    () => {
        "position, stream_id, stream_type, version, event_id, event_type, schema_version, \
         payload, actor_id, actor_name, recorded_at, correlation_id, causation_id, reason, \
         idempotency_key, hash"
    };
}

/// One row of `events`, exactly as stored (payload as its canonical JSON text).
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct EventRow {
    pub position: i64,
    pub stream_id: DbUuid,
    pub stream_type: String,
    pub version: i64,
    pub event_id: DbUuid,
    pub event_type: String,
    pub schema_version: i32,
    pub payload: String,
    pub actor_id: String,
    pub actor_name: String,
    pub recorded_at: DbTime,
    pub correlation_id: DbUuid,
    pub causation_id: Option<DbUuid>,
    pub reason: Option<String>,
    pub idempotency_key: Option<String>,
    pub hash: String,
}

/// What a projection reads of one row of `events` (see [`ProjectedEvent`](super::ProjectedEvent)).
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct ProjectionRow {
    pub position: i64,
    pub stream_id: DbUuid,
    pub stream_type: String,
    pub version: i64,
    pub event_type: String,
    pub schema_version: i32,
    pub payload: String,
}

impl ProjectionRow {
    /// The columns of a full row that a projection reads.
    pub fn of(row: &EventRow) -> ProjectionRow {
        ProjectionRow {
            position: row.position,
            stream_id: row.stream_id,
            stream_type: row.stream_type.clone(),
            version: row.version,
            event_type: row.event_type.clone(),
            schema_version: row.schema_version,
            payload: row.payload.clone(),
        }
    }
}

/// The single row of `log_head`: the last position and hash, the chain's tip.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct HeadRow {
    pub position: i64,
    pub hash: String,
    pub recorded_at: Option<DbTime>,
}

/// The version and type of a stream's last event.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct StreamTip {
    pub version: i64,
    pub stream_type: String,
}

/// Locks the log's head for this transaction and reads it. Every writer (in this process or
/// another) passes here first, so positions are handed out one transaction at a time and commit
/// in position order. The no-op UPDATE takes PostgreSQL's row lock and SQLite's write lock at the
/// start of the transaction, so SQLite waits for other processes instead of failing later.
pub async fn lock_head(tx: &mut Tx) -> Result<HeadRow, StoreError> {
    const SQL: &str = "UPDATE log_head SET position = position WHERE id = 1 \
                       RETURNING position, hash, recorded_at";
    Ok(on_tx!(tx, c => sqlx::query_as::<_, HeadRow>(SQL).fetch_one(c).await?))
}

/// Moves the head to the last event written by this transaction.
pub async fn set_head(tx: &mut Tx, head: &HeadRow) -> Result<(), StoreError> {
    const SQL: &str = "UPDATE log_head SET position = $1, hash = $2, recorded_at = $3 WHERE id = 1";
    on_tx!(tx, c => sqlx::query(SQL)
        .bind(head.position)
        .bind(&head.hash)
        .bind(head.recorded_at)
        .execute(c)
        .await
        .map(|_| ())?);
    Ok(())
}

/// Reads the log head, without locking it.
const READ_HEAD: &str = "SELECT position, hash, recorded_at FROM log_head WHERE id = 1";

/// Reads the head inside a transaction, without locking it.
pub async fn read_head_in(tx: &mut Tx) -> Result<HeadRow, StoreError> {
    Ok(on_tx!(tx, c => sqlx::query_as::<_, HeadRow>(READ_HEAD).fetch_one(c).await?))
}

/// The log head, read on any connection of the pool.
pub async fn read_head(pool: &Pool) -> Result<HeadRow, StoreError> {
    Ok(on_pool!(pool, p => sqlx::query_as::<_, HeadRow>(READ_HEAD).fetch_one(p).await?))
}

/// The version and type of a stream's last event, `None` for a stream with no event.
pub async fn stream_tip(tx: &mut Tx, stream_id: DbUuid) -> Result<Option<StreamTip>, StoreError> {
    const SQL: &str = "SELECT version, stream_type FROM events WHERE stream_id = $1 \
                       ORDER BY version DESC LIMIT 1";
    Ok(on_tx!(tx, c => sqlx::query_as::<_, StreamTip>(SQL)
        .bind(stream_id)
        .fetch_optional(c)
        .await?))
}

/// The tips of several streams with one statement (those with no event are absent): a batch of
/// appends reads every stream it writes at once instead of one round trip per append.
pub async fn stream_tips(
    tx: &mut Tx,
    stream_ids: &[uuid::Uuid],
) -> Result<Vec<(DbUuid, StreamTip)>, StoreError> {
    // Each stream's last event through the (stream_id, version) index, whatever its length.
    const SQLITE: &str = "SELECT id, version, stream_type FROM (SELECT j.value AS id, \
        (SELECT version FROM events WHERE stream_id = j.value ORDER BY version DESC LIMIT 1) \
        AS version, (SELECT stream_type FROM events WHERE stream_id = j.value \
        ORDER BY version DESC LIMIT 1) AS stream_type FROM json_each($1) AS j) \
        WHERE version IS NOT NULL";
    const POSTGRES: &str =
        "SELECT t.id, e.version, e.stream_type FROM unnest($1::uuid[]) AS t(id) \
        CROSS JOIN LATERAL (SELECT version, stream_type FROM events WHERE stream_id = t.id \
        ORDER BY version DESC LIMIT 1) AS e";
    let rows: Vec<(DbUuid, i64, String)> = match tx {
        Tx::Sqlite(c) => {
            let ids = serde_json::to_string(stream_ids).unwrap_or_else(|_| "[]".to_owned());
            sqlx::query_as(SQLITE).bind(ids).fetch_all(&mut **c).await?
        }
        Tx::Postgres(c) => {
            sqlx::query_as(POSTGRES)
                .bind(stream_ids)
                .fetch_all(&mut **c)
                .await?
        }
    };
    Ok(rows
        .into_iter()
        .map(|(id, version, stream_type)| {
            (
                id,
                StreamTip {
                    version,
                    stream_type,
                },
            )
        })
        .collect())
}

/// Runs fixed statements without parameters in one round trip (the simple query protocol on
/// PostgreSQL): savepoint hand-overs between the appends of a batch.
pub async fn execute_script(tx: &mut Tx, sql: &'static str) -> Result<(), StoreError> {
    on_tx!(tx, c => sqlx::Executor::execute(c, sql).await.map(|_| ())?);
    Ok(())
}

/// A stream's current version (0 for a stream with no event), outside any transaction.
pub async fn stream_version(pool: &Pool, stream_id: DbUuid) -> Result<i64, StoreError> {
    const SQL: &str = "SELECT COALESCE(MAX(version), 0) FROM events WHERE stream_id = $1";
    Ok(on_pool!(pool, p => sqlx::query_scalar::<_, i64>(SQL).bind(stream_id).fetch_one(p).await?))
}

/// A stream's type and the position of its last event, `None` for a stream with no event.
pub async fn stream_summary(
    pool: &Pool,
    stream_id: DbUuid,
) -> Result<Option<(String, i64)>, StoreError> {
    const SQL: &str = "SELECT stream_type, position FROM events WHERE stream_id = $1 \
                       ORDER BY version DESC LIMIT 1";
    Ok(on_pool!(pool, p => sqlx::query_as::<_, (String, i64)>(SQL)
        .bind(stream_id)
        .fetch_optional(p)
        .await?))
}

/// The versions and positions written by the append that used this idempotency key.
pub async fn idempotent_span(
    pool: &Pool,
    key: &str,
) -> Result<Option<(DbUuid, i64, i64, i64, i64)>, StoreError> {
    const SQL: &str = "SELECT stream_id, MIN(version), MAX(version), MIN(position), MAX(position) \
                       FROM events WHERE idempotency_key = $1 GROUP BY stream_id";
    Ok(
        on_pool!(pool, p => sqlx::query_as::<_, (DbUuid, i64, i64, i64, i64)>(SQL)
        .bind(key)
        .fetch_optional(p)
        .await?),
    )
}

/// The events written by the append that used this idempotency key, in order.
pub async fn events_by_idempotency_key(
    tx: &mut Tx,
    key: &str,
) -> Result<Vec<EventRow>, StoreError> {
    const SQL: &str = concat!(
        "SELECT ",
        event_columns!(),
        " FROM events WHERE idempotency_key = $1 ORDER BY position"
    );
    Ok(on_tx!(tx, c => sqlx::query_as::<_, EventRow>(SQL).bind(key).fetch_all(c).await?))
}

/// Binds one event row's values, in the order of [`event_columns!`].
fn push_event_row<'a, DB>(
    mut b: sqlx::query_builder::Separated<'_, 'a, DB, &'static str>,
    row: &'a EventRow,
) where
    DB: sqlx::Database,
    i64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    i32: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    DbUuid: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    Option<DbUuid>: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    DbTime: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    &'a String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    &'a Option<String>: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    b.push_bind(row.position)
        .push_bind(row.stream_id)
        .push_bind(&row.stream_type)
        .push_bind(row.version)
        .push_bind(row.event_id)
        .push_bind(&row.event_type)
        .push_bind(row.schema_version)
        .push_bind(&row.payload)
        .push_bind(&row.actor_id)
        .push_bind(&row.actor_name)
        .push_bind(row.recorded_at)
        .push_bind(row.correlation_id)
        .push_bind(row.causation_id)
        .push_bind(&row.reason)
        .push_bind(&row.idempotency_key)
        .push_bind(&row.hash);
}

/// Inserts event rows with one statement (imports, appends). The statement is built by sqlx's
/// `QueryBuilder`: a fixed text with one placeholder per value, every value bound.
pub async fn insert_events(tx: &mut Tx, rows: &[EventRow]) -> Result<(), StoreError> {
    on_tx!(tx, c => {
        let mut query = sqlx::QueryBuilder::new(concat!("INSERT INTO events (", event_columns!(), ") "));
        query.push_values(rows, push_event_row);
        query.build().execute(c).await.map(|_| ())?
    });
    Ok(())
}

/// Loads batches of event rows as they arrive (imports): one `COPY` for all of them on
/// PostgreSQL, its fastest way in; multi-row INSERTs on SQLite, which has no `COPY`.
pub async fn load_events(
    tx: &mut Tx,
    batches: &mut tokio::sync::mpsc::Receiver<Vec<EventRow>>,
) -> Result<(), StoreError> {
    const COPY: &str = concat!(
        "COPY events (",
        event_columns!(),
        ") FROM STDIN WITH (FORMAT csv)"
    );
    if let Tx::Postgres(t) = tx {
        let mut copy = t.copy_in_raw(COPY).await?;
        let mut csv = String::new();
        while let Some(batch) = batches.recv().await {
            csv.clear();
            for row in &batch {
                csv_row(&mut csv, row);
            }
            if let Err(error) = copy.send(csv.as_bytes()).await {
                // Ends the COPY so that the connection can roll back and return to the pool.
                let _ = copy.abort("import failed").await;
                return Err(error.into());
            }
        }
        copy.finish().await?;
        return Ok(());
    }
    while let Some(batch) = batches.recv().await {
        insert_events(tx, &batch).await?;
    }
    Ok(())
}

/// Appends one event row to `out` as a line of CSV, in the order of [`event_columns!`]: every
/// value quoted (quotes doubled), NULL as an empty unquoted field, times in the log's text form.
pub fn csv_row(out: &mut String, row: &EventRow) {
    use std::fmt::{Display, Write};

    /// Writes into the line, doubling every quote.
    struct Quoting<'a>(&'a mut String);
    impl Write for Quoting<'_> {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            for part in s.split_inclusive('"') {
                self.0.push_str(part);
                if part.ends_with('"') {
                    self.0.push('"');
                }
            }
            Ok(())
        }
    }

    let recorded_at = super::codec::format_time(&row.recorded_at.0);
    let fields: [Option<&dyn Display>; 16] = [
        Some(&row.position),
        Some(&row.stream_id.0),
        Some(&row.stream_type),
        Some(&row.version),
        Some(&row.event_id.0),
        Some(&row.event_type),
        Some(&row.schema_version),
        Some(&row.payload),
        Some(&row.actor_id),
        Some(&row.actor_name),
        Some(&recorded_at),
        Some(&row.correlation_id.0),
        row.causation_id.as_ref().map(|id| &id.0 as &dyn Display),
        row.reason.as_ref().map(|r| r as &dyn Display),
        row.idempotency_key.as_ref().map(|k| k as &dyn Display),
        Some(&row.hash),
    ];
    for (index, field) in fields.into_iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        if let Some(value) = field {
            out.push('"');
            // Writing to a String cannot fail.
            let _ = write!(Quoting(out), "{value}");
            out.push('"');
        }
    }
    out.push('\n');
}

/// Most event rows one INSERT carries (16 values each, well under PostgreSQL's 65,535).
const EVENTS_PER_INSERT: usize = 1_000;

/// Inserts a batch's event rows, moves the head past them and tells other processes. On
/// PostgreSQL, when the rows fit one insert, the three are one statement (one round trip
/// instead of three); SQLite cannot modify tables in a `WITH`, and has no other process to tell.
pub async fn append_rows(tx: &mut Tx, rows: &[EventRow], head: &HeadRow) -> Result<(), StoreError> {
    match tx {
        Tx::Postgres(c) if rows.len() <= EVENTS_PER_INSERT => {
            let mut query = sqlx::QueryBuilder::new(concat!(
                "WITH appended AS (INSERT INTO events (",
                event_columns!(),
                ") "
            ));
            query.push_values(rows, push_event_row);
            query.push("), moved AS (UPDATE log_head SET position = ");
            query.push_bind(head.position);
            query.push(", hash = ");
            query.push_bind(&head.hash);
            query.push(", recorded_at = ");
            query.push_bind(head.recorded_at);
            query.push(
                " WHERE id = 1 RETURNING id) \
                 SELECT pg_notify('shura_events', current_schema()) FROM moved",
            );
            query.build().execute(&mut **c).await?;
        }
        _ => {
            for chunk in rows.chunks(EVENTS_PER_INSERT) {
                insert_events(tx, chunk).await?;
            }
            set_head(tx, head).await?;
            notify_appended(tx).await?;
        }
    }
    Ok(())
}

/// Runs a fixed transaction-control statement (savepoints).
pub async fn execute_fixed(tx: &mut Tx, sql: &'static str) -> Result<(), StoreError> {
    on_tx!(tx, c => sqlx::query(sql).execute(c).await.map(|_| ())?);
    Ok(())
}

/// A stream's events after `after_version` and up to `up_to_version`, in version order (the
/// `(stream_id, version)` unique index serves the range).
pub async fn read_stream(
    pool: &Pool,
    stream_id: DbUuid,
    after_version: i64,
    up_to_version: i64,
) -> Result<Vec<EventRow>, StoreError> {
    const SQL: &str = concat!(
        "SELECT ",
        event_columns!(),
        " FROM events WHERE stream_id = $1 AND version > $2 AND version <= $3 ORDER BY version"
    );
    Ok(on_pool!(pool, p => sqlx::query_as::<_, EventRow>(SQL)
        .bind(stream_id)
        .bind(after_version)
        .bind(up_to_version)
        .fetch_all(p)
        .await?))
}

/// Up to `limit` events after `after_position`, in position order.
pub async fn read_all(
    pool: &Pool,
    after_position: i64,
    limit: i64,
) -> Result<Vec<EventRow>, StoreError> {
    const SQL: &str = concat!(
        "SELECT ",
        event_columns!(),
        " FROM events WHERE position > $1 ORDER BY position LIMIT $2"
    );
    Ok(on_pool!(pool, p => sqlx::query_as::<_, EventRow>(SQL)
        .bind(after_position)
        .bind(limit)
        .fetch_all(p)
        .await?))
}

/// Up to `limit` events after `after_position`, only the columns projections read (replays).
pub async fn read_for_projection(
    tx: &mut Tx,
    after_position: i64,
    limit: i64,
) -> Result<Vec<ProjectionRow>, StoreError> {
    const SQL: &str = "SELECT position, stream_id, stream_type, version, event_type, \
        schema_version, payload FROM events WHERE position > $1 ORDER BY position LIMIT $2";
    Ok(on_tx!(tx, c => sqlx::query_as::<_, ProjectionRow>(SQL)
        .bind(after_position)
        .bind(limit)
        .fetch_all(c)
        .await?))
}

/// Sets how much of the database SQLite keeps in memory for this connection, in KiB: a replay
/// rewrites every read model in one transaction, and with SQLite's default (2 MiB) it would
/// spill pages to the WAL, often the same page several times, before committing. PostgreSQL
/// has no per-connection page cache to set: a no-op there.
pub async fn set_page_cache(tx: &mut Tx, size: PageCache) -> Result<(), StoreError> {
    let sql = match size {
        PageCache::Replay => "PRAGMA cache_size = -65536",
        PageCache::Default => "PRAGMA cache_size = -2000",
    };
    if let Tx::Sqlite(c) = tx {
        sqlx::query(sql).execute(&mut **c).await?;
    }
    Ok(())
}

/// The SQLite page cache sizes [`set_page_cache`] switches between.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageCache {
    /// 64 MiB, for a replay.
    Replay,
    /// SQLite's default, 2,000 KiB.
    Default,
}

/// Whether the log holds any event.
pub async fn has_events(tx: &mut Tx) -> Result<bool, StoreError> {
    const SQL: &str = "SELECT position FROM events LIMIT 1";
    Ok(on_tx!(tx, c => sqlx::query_scalar::<_, i64>(SQL).fetch_optional(c).await?).is_some())
}

/// Tells other processes on the same PostgreSQL database that the log moved (delivered at
/// commit, never for a rolled-back batch). SQLite has no other process to tell.
pub async fn notify_appended(tx: &mut Tx) -> Result<(), StoreError> {
    if let Tx::Postgres(t) = tx {
        sqlx::query("SELECT pg_notify('shura_events', current_schema())")
            .execute(&mut **t)
            .await?;
    }
    Ok(())
}
