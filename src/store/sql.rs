//! The event store's SQL: one small function per statement, the same text on both backends.

use std::fmt::Display;

use sqlx::FromRow;

use super::codec::{DbTime, DbUuid};
use super::db::{on_pool, on_tx, Pool, Tx};
use super::error::StoreError;
use super::model::StoredEvent;

/// The columns of `events`, declared once: each column's name, the kind of value it holds, and
/// where a [`StoredEvent`] keeps it. The column list ([`event_columns!`]), the decoding of a row
/// (`FromRow`), the binds of an INSERT and the CSV of a `COPY` all follow from it, in this order.
/// Kinds: `plain` (an integer or text), `opt` (text or NULL), `uuid`, `opt_uuid` (a UUID or
/// NULL) and `time` (see [`DbUuid`] and [`DbTime`]).
macro_rules! events_table {
    ($then:ident) => {
        $then! {
            position: plain = position,
            stream_id: uuid = stream_id,
            stream_type: plain = stream_type,
            version: plain = version,
            event_id: uuid = event_id,
            event_type: plain = event_type,
            schema_version: plain = schema_version,
            payload: plain = payload,
            actor_id: plain = metadata.actor_id,
            actor_name: plain = metadata.actor_name,
            recorded_at: time = metadata.recorded_at,
            correlation_id: uuid = metadata.correlation_id,
            causation_id: opt_uuid = metadata.causation_id,
            reason: opt = metadata.reason,
            idempotency_key: opt = metadata.idempotency_key,
            hash: plain = hash,
        }
    };
}

/// The column list of `events`, from [`events_table!`].
macro_rules! event_columns {
    () => {
        events_table!(column_list)
    };
}

/// `a, b, c` from the columns of a table macro.
macro_rules! column_list {
    ($first:ident : $fk:ident = $($fp:ident).+ $(, $name:ident : $kind:ident = $($path:ident).+)* $(,)?) => {
        concat!(stringify!($first) $(, ", ", stringify!($name))*)
    };
}

/// Decodes one column of a kind of [`events_table!`].
macro_rules! decode_column {
    (plain, $row:expr, $name:expr) => {
        $row.try_get($name)?
    };
    (opt, $row:expr, $name:expr) => {
        $row.try_get($name)?
    };
    (uuid, $row:expr, $name:expr) => {
        $row.try_get::<DbUuid, _>($name)?.0
    };
    (opt_uuid, $row:expr, $name:expr) => {
        $row.try_get::<Option<DbUuid>, _>($name)?.map(|id| id.0)
    };
    (time, $row:expr, $name:expr) => {
        $row.try_get::<DbTime, _>($name)?.0
    };
}

/// The value bound for one column of a kind of [`events_table!`].
macro_rules! bind_column {
    (plain, $value:expr) => {
        &$value
    };
    (opt, $value:expr) => {
        &$value
    };
    ($kind:ident, $value:expr) => {
        bind_owned!($kind, $value)
    };
}

/// One column of a kind of [`events_table!`], as [`bind_column!`] but taking the value (ids
/// and times are taken by both: they are `Copy`).
macro_rules! bind_owned {
    (plain, $value:expr) => {
        $value
    };
    (opt, $value:expr) => {
        $value
    };
    (uuid, $value:expr) => {
        DbUuid($value)
    };
    (opt_uuid, $value:expr) => {
        $value.map(DbUuid)
    };
    (time, $value:expr) => {
        DbTime($value)
    };
}

/// One column of a kind of [`events_table!`] as a CSV field (`None` for NULL).
macro_rules! csv_column {
    (plain, $value:expr, $time:ident) => {
        Some(&$value as &dyn Display)
    };
    (opt, $value:expr, $time:ident) => {
        $value.as_ref().map(|v| v as &dyn Display)
    };
    (uuid, $value:expr, $time:ident) => {
        Some(&$value as &dyn Display)
    };
    (opt_uuid, $value:expr, $time:ident) => {
        $value.as_ref().map(|v| v as &dyn Display)
    };
    (time, $value:expr, $time:ident) => {
        Some(&$time as &dyn Display)
    };
}

/// `FromRow` for a stored event on either backend: every column by name.
macro_rules! event_from_row {
    ($($name:ident : $kind:ident = $($path:ident).+),* $(,)?) => {
        impl<'r, R: sqlx::Row> FromRow<'r, R> for StoredEvent<String>
        where
            &'static str: sqlx::ColumnIndex<R>,
            i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
            i32: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
            String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
            Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
            DbUuid: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
            Option<DbUuid>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
            DbTime: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
        {
            fn from_row(row: &'r R) -> Result<Self, sqlx::Error> {
                let mut event = StoredEvent::<String>::default();
                $( event.$($path).+ = decode_column!($kind, row, stringify!($name)); )*
                Ok(event)
            }
        }
    };
}
events_table!(event_from_row);

/// Binds a stored event's values, in the order of [`event_columns!`].
macro_rules! event_binds {
    ($($name:ident : $kind:ident = $($path:ident).+),* $(,)?) => {
        fn push_event_row<'a, DB>(
            mut b: sqlx::query_builder::Separated<'_, 'a, DB, &'static str>,
            event: &'a StoredEvent<String>,
        ) where
            DB: sqlx::Database,
            &'a i64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
            &'a i32: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
            &'a String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
            &'a Option<String>: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
            DbUuid: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
            Option<DbUuid>: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
            DbTime: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
        {
            $( b.push_bind(bind_column!($kind, event.$($path).+)); )*
        }
    };
}
events_table!(event_binds);

/// Binds a stored event's values by taking them, in the order of [`event_columns!`]: a SQLite
/// statement built this way owns its values and can be made ready before it runs.
macro_rules! event_binds_owned {
    ($($name:ident : $kind:ident = $($path:ident).+),* $(,)?) => {
        fn push_owned_event_row(
            mut b: sqlx::query_builder::Separated<'_, 'static, sqlx::Sqlite, &'static str>,
            event: StoredEvent<String>,
        ) {
            $( b.push_bind(bind_owned!($kind, event.$($path).+)); )*
        }
    };
}
events_table!(event_binds_owned);

/// Writes a stored event as a line of CSV, in the order of [`event_columns!`].
macro_rules! event_csv {
    ($($name:ident : $kind:ident = $($path:ident).+),* $(,)?) => {
        /// Appends one stored event to `out` as a line of CSV, in the order of
        /// [`event_columns!`]: every value quoted (quotes doubled), NULL as an empty unquoted
        /// field, times in the log's text form.
        pub fn csv_row(out: &mut String, event: &StoredEvent<String>) {
            let time = super::codec::format_time(&event.metadata.recorded_at);
            let fields = [$( csv_column!($kind, event.$($path).+, time) ),*];
            write_csv_fields(out, fields);
        }
    };
}
events_table!(event_csv);

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
) -> Result<Vec<StoredEvent<String>>, StoreError> {
    const SQL: &str = concat!(
        "SELECT ",
        event_columns!(),
        " FROM events WHERE idempotency_key = $1 ORDER BY position"
    );
    Ok(on_tx!(tx, c => sqlx::query_as::<_, StoredEvent<String>>(SQL).bind(key).fetch_all(c).await?))
}

/// Inserts event rows with one statement (imports, appends). The statement is built by sqlx's
/// `QueryBuilder`: a fixed text with one placeholder per value, every value bound.
pub async fn insert_events(tx: &mut Tx, rows: &[StoredEvent<String>]) -> Result<(), StoreError> {
    insert_event_rows_into(tx, "events", rows).await
}

/// [`insert_events`] into another table with the log's columns (the benchmark's plain load):
/// `table` is a name written in the code, never a value from outside.
pub async fn insert_event_rows_into(
    tx: &mut Tx,
    table: &'static str,
    rows: &[StoredEvent<String>],
) -> Result<(), StoreError> {
    on_tx!(tx, c => {
        let mut query = sqlx::QueryBuilder::new("INSERT INTO ");
        query.push(table);
        query.push(concat!(" (", event_columns!(), ") "));
        query.push_values(rows, push_event_row);
        query.build().execute(c).await.map(|_| ())?
    });
    Ok(())
}

/// Loads batches of event rows as they arrive (imports): one `COPY` for all of them on
/// PostgreSQL, its fastest way in; multi-row INSERTs on SQLite, which has no `COPY`.
pub async fn load_events(
    tx: &mut Tx,
    batches: &mut tokio::sync::mpsc::Receiver<Vec<StoredEvent<String>>>,
) -> Result<(), StoreError> {
    const COPY: &str = concat!(
        "COPY events (",
        event_columns!(),
        ") FROM STDIN WITH (FORMAT csv)"
    );
    match tx {
        Tx::Postgres(t) => {
            sqlx::query(DROP_UNIQUE).execute(&mut **t).await?;
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
            sqlx::query(ADD_UNIQUE).execute(&mut **t).await?;
        }
        Tx::Sqlite(c) => {
            // The next statement is bound (its ids and times formatted, its rows moved in)
            // while SQLite's worker thread runs the current one, which otherwise waits for it.
            // `OR FAIL`: a broken constraint stops the statement where it is instead of undoing
            // it, so SQLite keeps no statement journal (the original of every page a 500-row
            // insert changes, written to a temporary file: a quarter of its thread's time in a
            // profile); any failure rolls the whole import back anyway.
            let statement = |batch: Vec<StoredEvent<String>>| {
                let mut query = sqlx::QueryBuilder::new(concat!(
                    "INSERT OR FAIL INTO events (",
                    event_columns!(),
                    ") "
                ));
                query.push_values(batch, push_owned_event_row);
                query
            };
            let mut next = batches.recv().await.map(statement);
            while let Some(mut query) = next.take() {
                let (done, following) = tokio::join!(query.build().execute(&mut **c), async {
                    batches.recv().await.map(statement)
                });
                done?;
                next = following;
            }
        }
    }
    Ok(())
}

/// The log's unique constraints besides its key, dropped while an import loads the rows into
/// the empty log (in the import's transaction, so no other session sees the log without them)
/// and built again once the rows are in: one sorted build of each index instead of an
/// insertion at a random place for every row (import at a million events: 73,000 -> 95,000-
/// 100,000 events/s). A duplicate in the file fails the build, and the import with it. Readers
/// of the (empty) log on other connections wait for the import's commit meanwhile.
const DROP_UNIQUE: &str = "ALTER TABLE events DROP CONSTRAINT events_event_id_key, \
                           DROP CONSTRAINT events_stream_id_version_key";
/// The constraints [`DROP_UNIQUE`] dropped, under the names PostgreSQL gave them in the
/// migration that created the log (`0001_event_log.sql`).
const ADD_UNIQUE: &str = "ALTER TABLE events \
                          ADD CONSTRAINT events_event_id_key UNIQUE (event_id), \
                          ADD CONSTRAINT events_stream_id_version_key UNIQUE (stream_id, version)";

/// Writes CSV fields as one line: every value quoted (quotes doubled), NULL as an empty
/// unquoted field.
fn write_csv_fields<const N: usize>(out: &mut String, fields: [Option<&dyn Display>; N]) {
    use std::fmt::Write;

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
pub async fn append_rows(
    tx: &mut Tx,
    rows: &[StoredEvent<String>],
    head: &HeadRow,
) -> Result<(), StoreError> {
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
) -> Result<Vec<StoredEvent<String>>, StoreError> {
    const SQL: &str = concat!(
        "SELECT ",
        event_columns!(),
        " FROM events WHERE stream_id = $1 AND version > $2 AND version <= $3 ORDER BY version"
    );
    Ok(
        on_pool!(pool, p => sqlx::query_as::<_, StoredEvent<String>>(SQL)
        .bind(stream_id)
        .bind(after_version)
        .bind(up_to_version)
        .fetch_all(p)
        .await?),
    )
}

/// Every column of up to `$2` events after position `$1`, in position order.
const READ_ALL: &str = concat!(
    "SELECT ",
    event_columns!(),
    " FROM events WHERE position > $1 ORDER BY position LIMIT $2"
);

/// Up to `limit` events after `after_position`, in position order.
pub async fn read_all(
    pool: &Pool,
    after_position: i64,
    limit: i64,
) -> Result<Vec<StoredEvent<String>>, StoreError> {
    Ok(
        on_pool!(pool, p => sqlx::query_as::<_, StoredEvent<String>>(READ_ALL)
        .bind(after_position)
        .bind(limit)
        .fetch_all(p)
        .await?),
    )
}

/// [`read_all`] inside a transaction (replays: the transaction that writes the models, or a
/// reader's that sees the same head).
pub async fn read_all_in(
    tx: &mut Tx,
    after_position: i64,
    limit: i64,
) -> Result<Vec<StoredEvent<String>>, StoreError> {
    Ok(
        on_tx!(tx, c => sqlx::query_as::<_, StoredEvent<String>>(READ_ALL)
        .bind(after_position)
        .bind(limit)
        .fetch_all(c)
        .await?),
    )
}

/// Sets how much of the database SQLite keeps in memory for this connection, in KiB: a replay
/// rewrites every read model in one transaction, and an import inserts into the log's indexes
/// all over them; with SQLite's default (2 MiB) either would spill pages to the WAL, often the
/// same page several times, before committing. PostgreSQL has no per-connection page cache to
/// set: a no-op there.
pub async fn set_page_cache(tx: &mut Tx, size: PageCache) -> Result<(), StoreError> {
    let sql = match size {
        PageCache::Replay => "PRAGMA cache_size = -65536",
        PageCache::Import => "PRAGMA cache_size = -262144",
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
    /// 256 MiB, for an import: the log's two unique indexes, whose every row lands at a
    /// random place, stay in memory up to about two million events (105 MB at a
    /// million), instead of being spilled and read back (import at a million events: 56,000
    /// -> 80,000 events/s; 1 GiB did no better).
    Import,
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
