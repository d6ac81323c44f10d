//! Rebuilding SQLite's read models beside the live ones, so that appends (in any process) and
//! readers go on while the log is replayed, and wait only for a short swap at the end.
//!
//! SQLite has one writer per file and no schemas inside a file, so the new models are built in
//! a file of their own, `<database>.rebuild`: a connection whose main database is that file,
//! with the live database attached, runs the projector unchanged. Its statements name tables
//! without a schema, and SQLite looks such a name up in `main` first: the read models are found
//! in the new file, everything else (the log, the personal keys) in the live one, which this
//! connection only reads, without any lock. Then:
//!
//! 1. the read models' tables, word indexes, indexes and triggers are created in the new file
//!    from the live catalogue, verbatim; the log up to the committed head is replayed into
//!    them, then the events appended meanwhile, in rounds;
//! 2. the same shapes are created in the live file under other names (`t__next`; an index takes
//!    the other of its two names, `i` or `i__next`, since SQLite cannot rename an index), and
//!    the rows are copied in, keeping their rowids, a few milliseconds of the live file's write
//!    lock at a time with at least as long a pause after each, so that appends pass between
//!    them; the word indexes fill through their triggers. From the copy on, triggers in the new
//!    file log every row written there; rounds project the events appended meanwhile into the
//!    new file, then bring the rows they changed over (deleted and copied again), each round one
//!    short transaction;
//! 3. one transaction locks the log's head (appends in every process wait from here), projects
//!    the last few events into the new file and brings their rows over, renames the live
//!    tables away and the new ones into their place (SQLite rewrites the triggers'
//!    references), and gives the triggers their names back. This lasts as long as those few
//!    events and the catalogue's changes. The old tables are dropped after the commit, one per
//!    transaction: SQLite makes other connections prepare their statements again after each
//!    change of the catalogue and retries only once, so the changes are kept apart
//!    ([`SCHEMA_SPACING`]).
//!
//! A migration that drops a read model's index on SQLite therefore drops both of its names
//! (`DROP INDEX IF EXISTS i; DROP INDEX IF EXISTS i__next;`).
//!
//! One rebuild at a time per database: an exclusive lock on `<database>.rebuild.lock`, which the
//! operating system releases if the process dies. What a rebuild that stopped half-way left
//! (the file, `__next` or `__old` tables) is removed by the next one.
//!
//! The DDL is the live catalogue's own text with names replaced, assembled from catalogue
//! names (quoted), never from input.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};

use super::beside::{report, CLOSE_ENOUGH, ROUNDS};
use super::db::{remove_sqlite_database, suffixed};
use super::temporal::quoted;
use super::{
    diff_lines, sql, NoProgress, Pool, Progress, Projector, RebuildReport, Store, StoreError, Tx,
};

/// How long one transaction of the copy aims to hold the live file's write lock. An append that
/// finds the lock taken sleeps 1, 2, 5, 10 ms... between tries (SQLite's busy handler): a short
/// slice, with as long a pause after it, lets it in at its first or second try.
const SLICE: Duration = Duration::from_millis(2);
/// The fewest and most rows one transaction of the copy moves.
const CHUNK_ROWS: (i64, i64) = (16, 50_000);
/// The suffix of the new models' names in the live file, and of an index's other name.
const NEXT: &str = "__next";
/// The suffix of the old models' names between the swap and their drop.
const OLD: &str = "__old";
/// The least time between two changes of the live catalogue. Every change makes each other
/// connection prepare its next statement again, and SQLite retries a statement whose
/// preparation meets a change once only: changes in quick succession (the old tables dropped
/// one transaction each, in a first version) made readers' word searches fail with
/// `SQLITE_SCHEMA` ("vtable constructor failed"). A rebuild's changes of the catalogue (the new
/// shapes, the swap, each old table's drop) are this far apart at least.
const SCHEMA_SPACING: Duration = Duration::from_millis(200);
/// The new file's log of the rows written in it after the copy began.
const CHANGES: &str = "rebuild_changes";
/// How long connections wait for the live file's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Rebuilds the read models of a SQLite store beside the live ones (see the module's
/// documentation) and, with `keep`, swaps them in; with `compare`, reports how the new models
/// differ from the live ones at the same position. `None` where this does not apply: another
/// backend, a database that is not a file, a projector that names no tables, or read models
/// still empty (a new store's: nobody reads them, and a rebuild in place is quicker).
pub(super) async fn rebuild(
    store: &Store,
    projector: &dyn Projector,
    keep: bool,
    compare: bool,
    progress: &dyn Progress,
) -> Result<Option<RebuildReport>, StoreError> {
    let Pool::Sqlite(live) = store.pool() else {
        return Ok(None);
    };
    let tables = projector.tables();
    if tables.is_empty() {
        return Ok(None);
    }
    let Some(path) = database_file(live).await? else {
        return Ok(None);
    };
    if !any_rows(live, tables).await? {
        return Ok(None);
    }
    let _lock = one_at_a_time(&path).await?;
    let next_path = suffixed(&path, ".rebuild");
    remove_sqlite_database(&next_path);
    let next = open_next(&next_path, &path).await?;
    let files = Files {
        live: &path,
        next: &next_path,
    };
    let outcome = build_and_swap(store, projector, &next, files, keep, compare, progress).await;
    next.close().await;
    remove_sqlite_database(&next_path);
    outcome.map(Some)
}

/// The file of the main database, `None` for one in memory.
pub(super) async fn database_file(pool: &SqlitePool) -> Result<Option<PathBuf>, StoreError> {
    const SQL: &str = "SELECT file FROM pragma_database_list WHERE name = 'main'";
    let file: Option<String> = sqlx::query_scalar(SQL).fetch_optional(pool).await?;
    Ok(file.filter(|f| !f.is_empty()).map(PathBuf::from))
}

/// Whether any of the read models holds a row.
async fn any_rows(pool: &SqlitePool, tables: &[&str]) -> Result<bool, StoreError> {
    for table in tables {
        let sql = format!("SELECT 1 FROM {} LIMIT 1", quoted(table));
        let row: Option<i64> = sqlx::query_scalar(&sql).fetch_optional(pool).await?;
        if row.is_some() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Waits for, then holds, the exclusive lock of this database's rebuilds (released when the
/// file is dropped, or by the operating system when the process dies).
async fn one_at_a_time(path: &Path) -> Result<std::fs::File, StoreError> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(suffixed(path, ".rebuild.lock"))?;
    let locked = tokio::task::spawn_blocking(move || file.lock().map(|()| file))
        .await
        .map_err(|e| StoreError::Io(std::io::Error::other(e.to_string())))?;
    Ok(locked?)
}

/// A connection to the new file, with the live database attached as `live`: the projector's
/// unqualified names find the new read models first, and the log and keys in the live file.
/// The new file is a scratch copy until the swap: no journal on disk, no `fsync`.
async fn open_next(next_path: &Path, live_path: &Path) -> Result<SqlitePool, StoreError> {
    let options = SqliteConnectOptions::new()
        .filename(next_path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Memory)
        .synchronous(SqliteSynchronous::Off);
    open_attached(options, live_path, "live").await
}

/// A connection to the live file, with the new file attached as `next`: what the copy runs on.
/// Its commits do not wait for the disk (`synchronous = NORMAL`, which in WAL mode never
/// corrupts the file; the next commit of an append makes them durable): a slice of the copy is
/// then its rows' work only, not a flush. Losing the swap's commit to a power cut leaves the
/// old models in place, as consistent as before.
async fn open_copier(live_path: &Path, next_path: &Path) -> Result<SqlitePool, StoreError> {
    let options = SqliteConnectOptions::new()
        .filename(live_path)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal);
    open_attached(options, next_path, "next").await
}

/// One connection opened with `options` (and the busy timeout) that attaches `file` as
/// `alias` (a constant of this module).
async fn open_attached(
    options: SqliteConnectOptions,
    file: &Path,
    alias: &'static str,
) -> Result<SqlitePool, StoreError> {
    let file = file.to_string_lossy().into_owned();
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .acquire_timeout(BUSY_TIMEOUT)
        .after_connect(move |c, _| {
            let file = file.clone();
            Box::pin(async move {
                let sql = format!("ATTACH DATABASE $1 AS {alias}");
                sqlx::query(&sql).bind(file).execute(c).await.map(|_| ())
            })
        });
    Ok(pool
        .connect_with(options.busy_timeout(BUSY_TIMEOUT))
        .await?)
}

/// The live database's file and the new models' file.
#[derive(Debug, Clone, Copy)]
struct Files<'a> {
    live: &'a Path,
    next: &'a Path,
}

async fn build_and_swap(
    store: &Store,
    projector: &dyn Projector,
    next: &SqlitePool,
    files: Files<'_>,
    keep: bool,
    compare: bool,
    progress: &dyn Progress,
) -> Result<RebuildReport, StoreError> {
    let pool = store.pool();
    let Pool::Sqlite(live) = pool else {
        return Err(needs_sqlite());
    };
    let tables = projector.tables();
    let shapes = Shapes::read(live, tables).await?;
    // What a rebuild that stopped half-way left in the live file.
    run_in_transaction(live, &shapes.leftovers()).await?;

    // 1. The new file's models, and the log up to the committed head, appends going on.
    run_in_transaction(next, &shapes.verbatim()).await?;
    let head = sql::read_head(pool).await?.position;
    progress.total(u64::try_from(head).unwrap_or(0));
    let mut tx = Tx::Sqlite(next.begin().await?);
    sql::set_page_cache(&mut tx, sql::PageCache::Replay).await?;
    let (mut after, mut events) = store
        .project_log(&mut tx, projector, 0, head, true, progress)
        .await?;
    projector.rebuilt(&mut tx).await?;
    tx.commit().await?;
    for _ in 0..ROUNDS {
        let head = sql::read_head(pool).await?.position;
        if head - after <= CLOSE_ENOUGH {
            break;
        }
        let mut tx = Tx::Sqlite(next.begin().await?);
        let (last, more) = store
            .project_log(&mut tx, projector, after, head, true, &NoProgress)
            .await?;
        tx.commit().await?;
        (after, events) = (last, events + more);
    }

    if !keep {
        // A check: the new models against the live ones at one position, the head held.
        let mut held = pool.begin().await?;
        let head = sql::lock_head(&mut held).await?.position;
        let started = Instant::now();
        let mut tx = Tx::Sqlite(next.begin().await?);
        let (_, more) = store
            .project_log(&mut tx, projector, after, head, false, &NoProgress)
            .await?;
        let differences = if compare {
            diff_lines(
                &projector.dump(&mut held).await?,
                &projector.dump(&mut tx).await?,
            )
        } else {
            Vec::new()
        };
        tx.rollback().await?;
        held.rollback().await?;
        return Ok(report(events + more, differences, started.elapsed()));
    }

    // 2. The same shapes in the live file, filled a slice at a time; from here the new file
    // logs the rows that change in it, and rounds bring them over.
    run_in_transaction(next, &shapes.change_log()).await?;
    let copier = open_copier(files.live, files.next).await?;
    let swapped = copy_and_swap(store, projector, next, &copier, &shapes, after, compare).await;
    copier.close().await;
    let (more, differences, held, longest_slice) = swapped?;
    // The swap is done: failing to drop the old tables only leaves them to the next rebuild.
    if let Err(error) = retire(live, &shapes).await {
        tracing::warn!(%error, "could not drop the old read models");
    }
    tracing::info!(
        events = more,
        swap_ms = held.as_millis(),
        longest_copy_slice_ms = longest_slice.as_millis(),
        "swapped the rebuilt read models in"
    );
    Ok(report(events + more, differences, held))
}

/// Steps 2 and 3 (see the module's documentation) on `copier`: the copy, rounds of the events
/// appended meanwhile (projected into the new file, then its changed rows brought over), and
/// the swap. Returns the events projected after `after`, the differences (with `compare`), how
/// long appends were held, and the longest slice of the copy.
async fn copy_and_swap(
    store: &Store,
    projector: &dyn Projector,
    next: &SqlitePool,
    copier: &SqlitePool,
    shapes: &Shapes,
    mut after: i64,
    compare: bool,
) -> Result<(i64, Vec<String>, Duration, Duration), StoreError> {
    let pool = store.pool();
    let created = Instant::now();
    let longest_slice = copy(copier, shapes).await?;
    let (mut events, mut synced) = (0, 0);
    for _ in 0..ROUNDS {
        let head = sql::read_head(pool).await?.position;
        let mut tx = Tx::Sqlite(next.begin().await?);
        let (last, more) = store
            .project_log(&mut tx, projector, after, head, true, &NoProgress)
            .await?;
        tx.commit().await?;
        (after, events) = (last, events + more);
        let mut tx = copier.begin().await?;
        synced = sync(&mut tx, shapes, synced).await?;
        tx.commit().await?;
        if sql::read_head(pool).await?.position - after <= CLOSE_ENOUGH {
            break;
        }
    }

    // 3. The last events and the swap, the head held.
    tokio::time::sleep(SCHEMA_SPACING.saturating_sub(created.elapsed())).await;
    let mut tx = Tx::Sqlite(copier.begin().await?);
    let head = sql::lock_head(&mut tx).await?.position;
    let held = Instant::now();
    let before = if compare {
        projector.dump(&mut tx).await?
    } else {
        Vec::new()
    };
    // The new file reads the log beside this transaction, which holds the head only.
    let mut last = Tx::Sqlite(next.begin().await?);
    let (_, more) = store
        .project_log(&mut last, projector, after, head, false, &NoProgress)
        .await?;
    last.commit().await?;
    let Tx::Sqlite(c) = &mut tx else {
        return Err(needs_sqlite());
    };
    sync(c, shapes, synced).await?;
    swap(&mut tx, shapes).await?;
    let differences = if compare {
        diff_lines(&before, &projector.dump(&mut tx).await?)
    } else {
        Vec::new()
    };
    tx.commit().await?;
    Ok((events + more, differences, held.elapsed(), longest_slice))
}

/// What a rebuild beside the live models says on PostgreSQL (never reached: the store calls it
/// on SQLite only).
fn needs_sqlite() -> StoreError {
    StoreError::Io(std::io::Error::other(
        "a rebuild in a file beside the live models needs SQLite",
    ))
}

/// One object of the catalogue: a table, word index, index or trigger of the read models.
#[derive(Debug, Clone)]
struct Object {
    kind: String,
    name: String,
    table: String,
    sql: String,
}

/// The read models' objects in the live catalogue, and the names they take in the live file
/// while the new models are built there.
#[derive(Debug)]
struct Shapes {
    /// The projector's tables.
    tables: Vec<String>,
    /// Word indexes (virtual tables) that the tables' triggers keep.
    companions: Vec<String>,
    /// Tables, word indexes, indexes, triggers: in the order they can be created.
    objects: Vec<Object>,
    /// Lower-cased name in the live models -> name of the new models in the live file.
    next_names: HashMap<String, String>,
    /// Each table's columns, quoted, separated by commas.
    columns: HashMap<String, String>,
}

impl Shapes {
    async fn read(live: &SqlitePool, tables: &[&str]) -> Result<Shapes, StoreError> {
        const SQL: &str = "SELECT type, name, tbl_name, sql FROM sqlite_master \
                           WHERE sql IS NOT NULL AND type IN ('table', 'index', 'trigger')";
        let rows = sqlx::query(SQL).fetch_all(live).await?;
        let all: Vec<Object> = rows
            .iter()
            .map(|r| Object {
                kind: r.get(0),
                name: r.get(1),
                table: r.get(2),
                sql: r.get(3),
            })
            .collect();
        let tables: Vec<String> = tables.iter().map(|t| (*t).to_owned()).collect();
        let is_table: HashSet<String> = tables.iter().map(|t| t.to_lowercase()).collect();
        let virtual_tables: HashSet<String> = all
            .iter()
            .filter(|o| o.kind == "table" && starts_with_words(&o.sql, "CREATE VIRTUAL TABLE"))
            .map(|o| o.name.to_lowercase())
            .collect();
        // The word indexes are the virtual tables that the tables' triggers name.
        let mut companions: Vec<String> = Vec::new();
        for trigger in all
            .iter()
            .filter(|o| o.kind == "trigger" && is_table.contains(&o.table.to_lowercase()))
        {
            for name in identifiers(&trigger.sql) {
                let lower = name.to_lowercase();
                if virtual_tables.contains(&lower)
                    && !companions.iter().any(|c| c.to_lowercase() == lower)
                {
                    companions.push(name);
                }
            }
        }
        for table in &tables {
            if !all
                .iter()
                .any(|o| o.kind == "table" && o.name.eq_ignore_ascii_case(table))
            {
                return Err(StoreError::Io(std::io::Error::other(format!(
                    "rebuild: no table {table} in the catalogue"
                ))));
            }
        }
        let is_companion: HashSet<String> = companions.iter().map(|c| c.to_lowercase()).collect();
        let mut objects = Vec::new();
        for (kind, of_tables) in [("table", false), ("index", true), ("trigger", true)] {
            for object in &all {
                let owner = if of_tables {
                    &object.table
                } else {
                    &object.name
                };
                let owner = owner.to_lowercase();
                if object.kind == kind
                    && (is_table.contains(&owner) || is_companion.contains(&owner))
                {
                    objects.push(object.clone());
                }
            }
        }
        let mut next_names = HashMap::new();
        for name in tables.iter().chain(&companions) {
            next_names.insert(name.to_lowercase(), format!("{name}{NEXT}"));
        }
        for object in objects.iter().filter(|o| o.kind != "table") {
            let other = match object.name.strip_suffix(NEXT) {
                Some(first) if object.kind == "index" => first.to_owned(),
                _ => format!("{}{NEXT}", object.name),
            };
            next_names.insert(object.name.to_lowercase(), other);
        }
        let mut columns = HashMap::new();
        for table in &tables {
            const SQL: &str = "SELECT name FROM pragma_table_info($1) ORDER BY cid";
            let names: Vec<String> = sqlx::query_scalar(SQL).bind(table).fetch_all(live).await?;
            let list: Vec<String> = names.iter().map(|n| quoted(n)).collect();
            columns.insert(table.clone(), list.join(", "));
        }
        Ok(Shapes {
            tables,
            companions,
            objects,
            next_names,
            columns,
        })
    }

    /// Tables and word indexes: the projector's tables first.
    fn all_tables(&self) -> impl Iterator<Item = &String> {
        self.tables.iter().chain(&self.companions)
    }

    /// The statements that create the read models as they are, for the new file.
    fn verbatim(&self) -> Vec<String> {
        self.objects.iter().map(|o| o.sql.clone()).collect()
    }

    /// The statements that create the new models' shapes in the live file, under their names
    /// there.
    fn in_live(&self) -> Vec<String> {
        self.objects
            .iter()
            .map(|o| renamed(&o.sql, &self.next_names))
            .collect()
    }

    /// `rowid` and the columns of `table`, quoted.
    fn row(&self, table: &str) -> String {
        let columns = self.columns.get(table).map_or("", String::as_str);
        format!("rowid, {columns}")
    }

    /// The statements that make the new file log, in [`CHANGES`], the rows written from now
    /// on: what [`sync`] brings over to the live file.
    fn change_log(&self) -> Vec<String> {
        let mut statements = vec![format!(
            "CREATE TABLE {CHANGES} (seq INTEGER PRIMARY KEY, tbl TEXT NOT NULL, rid INTEGER NOT NULL)"
        )];
        for table in &self.tables {
            for (event, row) in [("INSERT", "new"), ("UPDATE", "new"), ("DELETE", "old")] {
                statements.push(format!(
                    "CREATE TRIGGER {} AFTER {event} ON {} BEGIN \
                     INSERT INTO {CHANGES} (tbl, rid) VALUES ({}, {row}.rowid); END",
                    quoted(&format!("{CHANGES}_{table}_{event}")),
                    quoted(table),
                    literal(table),
                ));
            }
        }
        statements
    }

    /// The statements that drop what a rebuild that stopped half-way left in the live file.
    fn leftovers(&self) -> Vec<String> {
        self.all_tables()
            .flat_map(|t| {
                [NEXT, OLD].map(|suffix| {
                    format!("DROP TABLE IF EXISTS {}", quoted(&format!("{t}{suffix}")))
                })
            })
            .collect()
    }
}

/// Runs `statements` in one transaction on `pool`.
async fn run_in_transaction(pool: &SqlitePool, statements: &[String]) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    for statement in statements {
        sqlx::query(statement).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Creates the new models' shapes in the live file and copies the new file's rows into them,
/// a slice of the live file's write lock at a time; returns the longest slice.
async fn copy(copier: &SqlitePool, shapes: &Shapes) -> Result<Duration, StoreError> {
    run_in_transaction(copier, &shapes.in_live()).await?;
    let mut longest = Duration::ZERO;
    let mut rows = CHUNK_ROWS.0;
    for table in &shapes.tables {
        let target = quoted(&format!("{table}{NEXT}"));
        let source = format!("next.{}", quoted(table));
        let bound =
            format!("SELECT rowid FROM {source} WHERE rowid > $1 ORDER BY rowid LIMIT 1 OFFSET $2");
        // Rows keep their rowid, so that a row changed in the new file later is found again.
        let row = shapes.row(table);
        let insert = format!(
            "INSERT INTO main.{target} ({row}) SELECT {row} FROM {source} \
             WHERE rowid > $1 AND rowid <= $2"
        );
        let mut after = i64::MIN;
        loop {
            let upto: Option<i64> = sqlx::query_scalar(&bound)
                .bind(after)
                .bind(rows - 1)
                .fetch_optional(copier)
                .await?;
            let started = Instant::now();
            let mut tx = copier.begin().await?;
            sqlx::query(&insert)
                .bind(after)
                .bind(upto.unwrap_or(i64::MAX))
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            let took = started.elapsed();
            longest = longest.max(took);
            let Some(upto) = upto else {
                break;
            };
            after = upto;
            // Aim at one slice per transaction, and leave the lock free at least as long.
            if took < SLICE / 2 {
                rows = rows.saturating_mul(2).min(CHUNK_ROWS.1);
            } else if took > SLICE {
                rows = (rows / 2).max(CHUNK_ROWS.0);
            }
            tokio::time::sleep(took.max(Duration::from_millis(1))).await;
        }
    }
    Ok(longest)
}

/// Brings the rows that changed in the new file after `synced` (a sequence number of its
/// [`CHANGES`]) over to the new models in the live file, inside `c`'s transaction: each such
/// row deleted there, then copied again if it still exists (the word indexes follow through
/// their triggers). Returns the last sequence number brought over.
async fn sync(
    c: &mut sqlx::SqliteConnection,
    shapes: &Shapes,
    synced: i64,
) -> Result<i64, StoreError> {
    let upto: i64 =
        sqlx::query_scalar(&format!("SELECT COALESCE(MAX(seq), 0) FROM next.{CHANGES}"))
            .fetch_one(&mut *c)
            .await?;
    if upto <= synced {
        return Ok(synced);
    }
    let changed =
        format!("SELECT rid FROM next.{CHANGES} WHERE tbl = $1 AND seq > $2 AND seq <= $3");
    for table in &shapes.tables {
        let target = quoted(&format!("{table}{NEXT}"));
        let row = shapes.row(table);
        let statements = [
            format!("DELETE FROM main.{target} WHERE rowid IN ({changed})"),
            format!(
                "INSERT INTO main.{target} ({row}) SELECT {row} FROM next.{} \
                 WHERE rowid IN ({changed})",
                quoted(table)
            ),
        ];
        for statement in &statements {
            sqlx::query(statement)
                .bind(table)
                .bind(synced)
                .bind(upto)
                .execute(&mut *c)
                .await?;
        }
    }
    Ok(upto)
}

/// Inside the transaction that holds the head: the live models renamed away, the new ones into
/// their place, and their triggers given the live names.
async fn swap(tx: &mut Tx, shapes: &Shapes) -> Result<(), StoreError> {
    let Tx::Sqlite(c) = tx else {
        return Err(needs_sqlite());
    };
    let mut statements: Vec<String> = shapes
        .objects
        .iter()
        .filter(|o| o.kind == "trigger")
        .map(|o| format!("DROP TRIGGER {}", quoted(&o.name)))
        .collect();
    for table in shapes.all_tables() {
        statements.push(format!(
            "ALTER TABLE {} RENAME TO {}",
            quoted(table),
            quoted(&format!("{table}{OLD}"))
        ));
        statements.push(format!(
            "ALTER TABLE {} RENAME TO {}",
            quoted(&format!("{table}{NEXT}")),
            quoted(table)
        ));
    }
    for statement in &statements {
        sqlx::query(statement).execute(&mut **c).await?;
    }
    // The new tables' triggers, as SQLite rewrote them, under the live names.
    const TRIGGERS: &str = "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'";
    let live_names: HashMap<String, String> = shapes
        .objects
        .iter()
        .filter(|o| o.kind == "trigger")
        .map(|o| (format!("{}{NEXT}", o.name).to_lowercase(), o.name.clone()))
        .collect();
    let triggers = sqlx::query(TRIGGERS).fetch_all(&mut **c).await?;
    for row in &triggers {
        let (name, sql): (String, String) = (row.get(0), row.get(1));
        if live_names.contains_key(&name.to_lowercase()) {
            sqlx::query(&format!("DROP TRIGGER {}", quoted(&name)))
                .execute(&mut **c)
                .await?;
            sqlx::query(&renamed(&sql, &live_names))
                .execute(&mut **c)
                .await?;
        }
    }
    Ok(())
}

/// Drops the old models, one table per transaction (a million events' models take seconds to
/// drop at once), each a change of the catalogue and so [`SCHEMA_SPACING`] after the one
/// before.
async fn retire(live: &SqlitePool, shapes: &Shapes) -> Result<(), StoreError> {
    for table in shapes.all_tables() {
        tokio::time::sleep(SCHEMA_SPACING).await;
        let drop = format!("DROP TABLE IF EXISTS {}", quoted(&format!("{table}{OLD}")));
        run_in_transaction(live, &[drop]).await?;
    }
    Ok(())
}

/// A catalogue name as an SQL string literal.
fn literal(name: &str) -> String {
    format!("'{}'", name.replace('\'', "''"))
}

/// Whether `sql` begins with `words` (case and spacing aside).
fn starts_with_words(sql: &str, words: &str) -> bool {
    let mut sql = sql.split_whitespace();
    words
        .split_whitespace()
        .all(|w| sql.next().is_some_and(|s| s.eq_ignore_ascii_case(w)))
}

/// One piece of an SQL text, as [`tokens`] cuts it.
#[derive(Debug, PartialEq, Eq)]
enum Token<'a> {
    /// An identifier (bare or in double quotes), with its name unquoted.
    Name { text: &'a str, name: String },
    /// Anything else, as written: strings, comments, spaces, punctuation, numbers.
    Other(&'a str),
}

/// Cuts `sql` into identifiers and the rest, enough to rename identifiers in the catalogue's
/// text without touching strings or comments.
fn tokens(sql: &str) -> Vec<Token<'_>> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let (mut i, mut other) = (0, 0);
    let starts_name = |b: u8| b.is_ascii_alphabetic() || b == b'_' || b >= 0x80;
    let in_name = |b: u8| starts_name(b) || b.is_ascii_digit() || b == b'$';
    while i < bytes.len() {
        let b = bytes[i];
        let end = match b {
            b'\'' => Some(closing(bytes, i, b'\'')),
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                Some(sql[i..].find('\n').map_or(bytes.len(), |n| i + n))
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => Some(
                sql[i + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |n| i + 2 + n + 2),
            ),
            _ => None,
        };
        if let Some(end) = end {
            i = end;
            continue;
        }
        let name_end = if b == b'"' {
            Some(closing(bytes, i, b'"'))
        } else if starts_name(b) && (i == 0 || !in_name(bytes[i - 1])) {
            let mut j = i;
            while j < bytes.len() && in_name(bytes[j]) {
                j += 1;
            }
            Some(j)
        } else {
            None
        };
        match name_end {
            Some(end) => {
                if other < i {
                    out.push(Token::Other(&sql[other..i]));
                }
                let text = &sql[i..end];
                let name = if b == b'"' {
                    text.trim_start_matches('"')
                        .strip_suffix('"')
                        .unwrap_or(text)
                        .replace("\"\"", "\"")
                } else {
                    text.to_owned()
                };
                out.push(Token::Name { text, name });
                i = end;
                other = end;
            }
            None => i += 1,
        }
    }
    if other < bytes.len() {
        out.push(Token::Other(&sql[other..]));
    }
    out
}

/// The end (exclusive) of the quoted text opening at `open` with `quote` (a doubled quote
/// inside it is part of it); the text's end when it does not close.
fn closing(bytes: &[u8], open: usize, quote: u8) -> usize {
    let mut j = open + 1;
    while j < bytes.len() {
        if bytes[j] == quote {
            if bytes.get(j + 1) == Some(&quote) {
                j += 2;
                continue;
            }
            return j + 1;
        }
        j += 1;
    }
    bytes.len()
}

/// The identifiers of `sql`, unquoted, in order.
fn identifiers(sql: &str) -> Vec<String> {
    tokens(sql)
        .into_iter()
        .filter_map(|t| match t {
            Token::Name { name, .. } => Some(name),
            Token::Other(_) => None,
        })
        .collect()
}

/// `sql` with each identifier that `names` maps (by its lower-cased name) replaced by the new
/// name, quoted; everything else as written.
fn renamed(sql: &str, names: &HashMap<String, String>) -> String {
    tokens(sql)
        .into_iter()
        .map(|t| match t {
            Token::Name { text, name } => match names.get(&name.to_lowercase()) {
                Some(new) => quoted(new),
                None => text.to_owned(),
            },
            Token::Other(text) => text.to_owned(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_lowercase(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn identifiers_are_renamed_whole_and_strings_and_comments_are_kept() {
        let sql = "CREATE TRIGGER rm_x_words_insert AFTER INSERT ON \"rm_x\" BEGIN \
                   -- rm_x in a comment\n INSERT INTO rm_x_words (rowid, search) \
                   VALUES (new.rowid, 'rm_x' || new.search); /* rm_x */ END";
        let map = names(&[
            ("rm_x", "rm_x__next"),
            ("rm_x_words", "rm_x_words__next"),
            ("rm_x_words_insert", "rm_x_words_insert__next"),
        ]);
        assert_eq!(
            renamed(sql, &map),
            "CREATE TRIGGER \"rm_x_words_insert__next\" AFTER INSERT ON \"rm_x__next\" BEGIN \
             -- rm_x in a comment\n INSERT INTO \"rm_x_words__next\" (rowid, search) \
             VALUES (new.rowid, 'rm_x' || new.search); /* rm_x */ END"
        );
    }

    #[test]
    fn quoted_identifiers_with_doubled_quotes_and_upper_case_names_are_found() {
        let sql = "CREATE INDEX \"a\"\"b\" ON RM_X (n) WHERE s = 'it''s'";
        assert_eq!(
            identifiers(sql),
            ["CREATE", "INDEX", "a\"b", "ON", "RM_X", "n", "WHERE", "s"]
        );
        let map = names(&[("rm_x", "t"), ("a\"b", "c")]);
        assert_eq!(
            renamed(sql, &map),
            "CREATE INDEX \"c\" ON \"t\" (n) WHERE s = 'it''s'"
        );
    }

    #[test]
    fn create_virtual_table_is_told_from_create_table() {
        assert!(starts_with_words(
            "CREATE  VIRTUAL\nTABLE w USING fts5(s)",
            "CREATE VIRTUAL TABLE"
        ));
        assert!(!starts_with_words(
            "CREATE TABLE w (s)",
            "CREATE VIRTUAL TABLE"
        ));
    }
}
