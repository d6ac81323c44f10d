//! Rebuilding PostgreSQL's read models beside the live ones (blue/green), so that neither
//! readers nor writers wait for a replay of the whole log.
//!
//! The projector's tables ([`Projector::tables`]) are created empty in a schema of their own
//! (`<live>_rebuild_<hash>`), shaped like the live ones (`LIKE ... INCLUDING ALL`, primary keys
//! added, other indexes only once the rows are in: a bulk load then builds each index once).
//! The projector writes there unchanged: its statements name tables without a schema, and the
//! replay's transactions put that schema first on their `search_path`. Then:
//!
//! 1. the log up to the committed head is replayed, without any lock: appends go on, their own
//!    projection writing the live tables as always;
//! 2. indexes and planner statistics are made, and the events appended meanwhile are projected
//!    in rounds, still without a lock, until few remain;
//! 3. one transaction locks the log's head (appends in every process wait from here), projects
//!    the last events, and swaps the tables: the live ones move to a retired schema, the new
//!    ones into the live schema. `ALTER TABLE ... SET SCHEMA` changes the catalogue only, so
//!    this lasts as long as the last round of events, not the log. The retired tables are
//!    dropped after the commit (removing their files is not for appends to wait on).
//!
//! The swap needs each live table to itself for a moment: a reader in the middle of a long
//! statement holds it. The swap waits [`SWAP_LOCK_WAIT`] at most, then gives the head back,
//! catches up and tries again ([`SWAP_TRIES`] times; the last try waits as long as it takes).
//! One rebuild at a time per schema: a transaction-scoped advisory lock, held by a transaction
//! kept open for the rebuild's length, released however the rebuild ends. A rebuild that fails
//! drops its schema; schemas left by a process that died are dropped by the next rebuild.

use std::time::{Duration, Instant};

use sqlx::{PgConnection, Postgres, Transaction};

use super::{
    diff_lines, sql, NoProgress, Pool, Progress, Projector, RebuildReport, Store, StoreError, Tx,
};

/// How long the swap waits for a table that a reader holds, before it lets appends through
/// and tries again.
const SWAP_LOCK_WAIT: &str = "500ms";
/// Swap attempts; the last waits for its locks as long as it takes.
const SWAP_TRIES: usize = 5;
/// Catch-up rounds without the lock stop once at most this many events remain: the rest is
/// projected while the head is held.
pub(super) const CLOSE_ENOUGH: i64 = 100;
/// Catch-up rounds without the lock, at most (appends may outpace a round).
pub(super) const ROUNDS: usize = 8;

/// The schemas of one rebuild, as PostgreSQL names and quotes them.
#[derive(Debug, sqlx::FromRow)]
struct Schemas {
    /// Where the store's tables are: the first schema of the `search_path`.
    live: String,
    /// Where the new read models are built.
    next: String,
    /// Where the old ones go for the moment of the swap.
    retired: String,
    /// The `search_path` to restore (the live models first again).
    path: String,
}

/// Names derived from the live schema (a short hash keeps them within PostgreSQL's 63 bytes
/// and apart for live schemas that share a prefix).
const SCHEMAS: &str = "SELECT current_schema() AS live, \
    left(current_schema(), 40) || '_rebuild_' || left(md5(current_schema()), 8) AS next, \
    left(current_schema(), 40) || '_retired_' || left(md5(current_schema()), 8) AS retired, \
    current_setting('search_path') AS path";

/// One rebuild at a time per schema, until the holding transaction ends.
const ONE_AT_A_TIME: &str =
    "SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || '/rebuild', 0))";

/// The statements that create the new schema empty and the projector's tables in it, shaped
/// like the live ones, with their primary keys and unique constraints (the projector's upserts
/// need them) but no other index. PostgreSQL writes and quotes every statement (`format %I`).
const PREPARE: &str = "SELECT statement FROM ( \
        SELECT 1 AS step, 0 AS n, format('DROP SCHEMA IF EXISTS %I CASCADE', $1::text) AS statement \
        UNION ALL SELECT 1, 1, format('DROP SCHEMA IF EXISTS %I CASCADE', $3::text) \
        UNION ALL SELECT 2, 0, format('CREATE SCHEMA %I', $1::text) \
        UNION ALL SELECT 3, n, format('CREATE TABLE %I.%I (LIKE %I.%I INCLUDING ALL \
            EXCLUDING INDEXES)', $1::text, t, $2::text, t) \
            FROM unnest($4::text[]) WITH ORDINALITY AS u(t, n) \
        UNION ALL SELECT 4, 0, format('ALTER TABLE %I.%I ADD CONSTRAINT %I %s', $1::text, \
            rel.relname, con.conname, pg_get_constraintdef(con.oid)) \
            FROM pg_constraint con JOIN pg_class rel ON rel.oid = con.conrelid \
            JOIN pg_namespace ns ON ns.oid = rel.relnamespace \
            WHERE ns.nspname = $2 AND rel.relname = ANY($4) AND con.contype IN ('p', 'u') \
    ) AS script ORDER BY step, n, statement";

/// The live tables' other indexes, as statements creating them under the same names on the new
/// tables. Run with an empty `search_path`, so that `pg_get_indexdef` names each table with its
/// schema, which is then replaced.
const INDEXES: &str = "SELECT replace(pg_get_indexdef(i.indexrelid), \
        ' ON ' || quote_ident($2) || '.', ' ON ' || quote_ident($1) || '.') \
    FROM pg_index i JOIN pg_class rel ON rel.oid = i.indrelid \
    JOIN pg_namespace n ON n.oid = rel.relnamespace \
    WHERE n.nspname = $2 AND rel.relname = ANY($4) \
    AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid)";

/// The swap: each live table to the retired schema and the new one into the live schema in its
/// place, and the new schema, empty now, removed. The retired tables are dropped after the
/// commit ([`RETIRE`]): removing their files takes time that appends need not wait for.
const SWAP: &str = "SELECT statement FROM ( \
        SELECT 1 AS step, 0 AS n, format('CREATE SCHEMA %I', $3::text) AS statement \
        UNION ALL SELECT 2, 2 * n, format('ALTER TABLE %I.%I SET SCHEMA %I', \
            $2::text, t, $3::text) FROM unnest($4::text[]) WITH ORDINALITY AS u(t, n) \
        UNION ALL SELECT 2, 2 * n + 1, format('ALTER TABLE %I.%I SET SCHEMA %I', \
            $1::text, t, $2::text) FROM unnest($4::text[]) WITH ORDINALITY AS u(t, n) \
        UNION ALL SELECT 3, 0, format('DROP SCHEMA %I', $1::text) \
    ) AS script ORDER BY step, n";

/// The old tables, once the swap is committed (a rebuild that stops before this leaves them to
/// the next rebuild's [`PREPARE`]).
const RETIRE: &str = "SELECT format('DROP SCHEMA IF EXISTS %I CASCADE', $3::text)";

/// The new schema, with whatever a failed or checking rebuild left in it.
const DROP_NEXT: &str = "SELECT format('DROP SCHEMA IF EXISTS %I CASCADE', $1::text)";

fn tables_of(projector: &dyn Projector) -> Vec<String> {
    projector.tables().iter().map(|t| (*t).to_owned()).collect()
}

/// Runs the statements that `script` (a query of the catalogue: [`PREPARE`], [`INDEXES`],
/// [`SWAP`], [`RETIRE`], [`DROP_NEXT`]) writes, one by one in its order. Every script is bound the same parameters:
/// the new, live and retired schemas' names, and the tables.
async fn run_script(
    c: &mut PgConnection,
    script: &'static str,
    schemas: &Schemas,
    tables: &[String],
) -> Result<(), StoreError> {
    let statements: Vec<String> = sqlx::query_scalar(script)
        .bind(&schemas.next)
        .bind(&schemas.live)
        .bind(&schemas.retired)
        .bind(tables)
        .fetch_all(&mut *c)
        .await?;
    for statement in &statements {
        sqlx::query(statement.as_str())
            .persistent(false)
            .execute(&mut *c)
            .await?;
    }
    Ok(())
}

/// Puts the new schema first on the transaction's `search_path`: the projector's statements
/// then write the new tables, and still find the log (`events`) in the live schema.
async fn write_next(c: &mut PgConnection, schemas: &Schemas) -> Result<(), StoreError> {
    const SQL: &str = "SELECT set_config('search_path', format('%I, ', $1::text) || $2, true)";
    sqlx::query(SQL)
        .bind(&schemas.next)
        .bind(&schemas.path)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Gives the transaction its `search_path` back (the live models).
async fn read_live(c: &mut PgConnection, schemas: &Schemas) -> Result<(), StoreError> {
    sqlx::query("SELECT set_config('search_path', $1, true)")
        .bind(&schemas.path)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Drops the new schema, after a rebuild that failed or was only a check.
async fn drop_next(pool: &Pool, schemas: &Schemas, tables: &[String]) {
    if let Err(error) = run_alone(pool, DROP_NEXT, schemas, tables).await {
        tracing::warn!(%error, schema = %schemas.next, "could not drop a rebuild's schema");
    }
}

/// Runs `script` in a transaction of its own.
async fn run_alone(
    pool: &Pool,
    script: &'static str,
    schemas: &Schemas,
    tables: &[String],
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    run_script(postgres(&mut tx)?, script, schemas, tables).await?;
    tx.commit().await
}

/// What a rebuild beside the live models says on SQLite (never reached: the store calls it on
/// PostgreSQL only).
fn needs_postgres() -> StoreError {
    StoreError::Projection {
        position: 0,
        reason: "a rebuild beside the live models needs PostgreSQL".into(),
    }
}

fn postgres(tx: &mut Tx) -> Result<&mut Transaction<'static, Postgres>, StoreError> {
    match tx {
        Tx::Postgres(t) => Ok(t),
        Tx::Sqlite(_) => Err(needs_postgres()),
    }
}

/// Whether an error is the swap giving up on a lock (or PostgreSQL breaking a deadlock with a
/// reader): then it tries again.
fn lock_refused(error: &StoreError) -> bool {
    match error {
        StoreError::Database(sqlx::Error::Database(e)) => {
            matches!(e.code().as_deref(), Some("55P03") | Some("40P01"))
        }
        _ => false,
    }
}

/// Rebuilds the read models beside the live ones and, with `keep`, swaps them in (see the
/// module's documentation); with `compare`, reports how the new models differ from the live
/// ones at the same position.
pub(super) async fn rebuild(
    store: &Store,
    projector: &dyn Projector,
    keep: bool,
    compare: bool,
    progress: &dyn Progress,
) -> Result<RebuildReport, StoreError> {
    let Pool::Postgres(pg) = store.pool() else {
        return Err(needs_postgres());
    };
    let mut guard = pg.begin().await?;
    sqlx::query(ONE_AT_A_TIME).execute(&mut *guard).await?;
    let schemas: Schemas = sqlx::query_as(SCHEMAS).fetch_one(&mut *guard).await?;
    let outcome = build_and_swap(store, projector, &schemas, keep, compare, progress).await;
    if outcome.is_err() || !keep {
        drop_next(store.pool(), &schemas, &tables_of(projector)).await;
    }
    guard.rollback().await?;
    outcome
}

async fn build_and_swap(
    store: &Store,
    projector: &dyn Projector,
    schemas: &Schemas,
    keep: bool,
    compare: bool,
    progress: &dyn Progress,
) -> Result<RebuildReport, StoreError> {
    let tables = tables_of(projector);
    let pool = store.pool();

    let mut tx = pool.begin().await?;
    run_script(postgres(&mut tx)?, PREPARE, schemas, &tables).await?;
    tx.commit().await?;

    // 1. The log up to the committed head, appends going on.
    let head = sql::read_head(pool).await?.position;
    progress.total(u64::try_from(head).unwrap_or(0));
    let mut tx = pool.begin().await?;
    write_next(postgres(&mut tx)?, schemas).await?;
    let (mut after, mut events) = store
        .project_log(&mut tx, projector, 0, head, true, progress)
        .await?;
    tx.commit().await?;

    // 2. Indexes, statistics, and rounds of the events appended meanwhile.
    let mut tx = pool.begin().await?;
    no_path(postgres(&mut tx)?).await?;
    run_script(postgres(&mut tx)?, INDEXES, schemas, &tables).await?;
    write_next(postgres(&mut tx)?, schemas).await?;
    projector.rebuilt(&mut tx).await?;
    tx.commit().await?;
    for _ in 0..ROUNDS {
        let head = sql::read_head(pool).await?.position;
        if head - after <= CLOSE_ENOUGH {
            break;
        }
        let mut tx = pool.begin().await?;
        write_next(postgres(&mut tx)?, schemas).await?;
        let (last, more) = store
            .project_log(&mut tx, projector, after, head, true, &NoProgress)
            .await?;
        tx.commit().await?;
        (after, events) = (last, events + more);
    }

    // 3. The last events and the swap, the head held.
    let mut tries = 0;
    loop {
        tries += 1;
        let mut tx = pool.begin().await?;
        let head = sql::lock_head(&mut tx).await?.position;
        // Appends wait from here until the commit or rollback.
        let held = Instant::now();
        write_next(postgres(&mut tx)?, schemas).await?;
        let (_, more) = store
            .project_log(&mut tx, projector, after, head, false, &NoProgress)
            .await?;
        let differences = if compare {
            let rebuilt = projector.dump(&mut tx).await?;
            read_live(postgres(&mut tx)?, schemas).await?;
            let live = projector.dump(&mut tx).await?;
            diff_lines(&live, &rebuilt)
        } else {
            Vec::new()
        };
        if !keep {
            tx.rollback().await?;
            return Ok(report(events + more, differences, held.elapsed()));
        }
        let caught_up = held.elapsed();
        match swap(&mut tx, schemas, &tables, tries < SWAP_TRIES).await {
            Ok(()) => {
                tx.commit().await?;
                let held = held.elapsed();
                // The swap is done: failing to drop the old tables only leaves them to the
                // next rebuild.
                if let Err(error) = run_alone(pool, RETIRE, schemas, &tables).await {
                    tracing::warn!(%error, schema = %schemas.retired, "could not drop the retired read models");
                }
                tracing::info!(
                    events = more,
                    catch_up_ms = caught_up.as_millis(),
                    swap_ms = held.saturating_sub(caught_up).as_millis(),
                    "swapped the rebuilt read models in"
                );
                return Ok(report(events + more, differences, held));
            }
            Err(error) if lock_refused(&error) && tries < SWAP_TRIES => {
                tx.rollback().await?;
                tracing::info!(tries, "a reader held a read model: the swap tries again");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(error) => return Err(error),
        }
    }
}

/// A rebuild's report (both backends' rebuilds beside the live models).
pub(super) fn report(
    events: i64,
    differences: Vec<String>,
    writes_held: Duration,
) -> RebuildReport {
    RebuildReport {
        events,
        differences,
        writes_held,
    }
}

/// Moves the new tables into the live schema in place of the old ones, inside `tx`; with
/// `bounded`, waiting at most [`SWAP_LOCK_WAIT`] for each table's lock.
async fn swap(
    tx: &mut Tx,
    schemas: &Schemas,
    tables: &[String],
    bounded: bool,
) -> Result<(), StoreError> {
    let c = postgres(tx)?;
    let wait = if bounded { SWAP_LOCK_WAIT } else { "0" };
    set_local(c, "lock_timeout", wait).await?;
    run_script(c, SWAP, schemas, tables).await?;
    set_local(c, "lock_timeout", "0").await
}

/// Sets a setting for the rest of the transaction.
async fn set_local(c: &mut PgConnection, name: &str, value: &str) -> Result<(), StoreError> {
    sqlx::query("SELECT set_config($1, $2, true)")
        .bind(name)
        .bind(value)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// An empty `search_path` for the rest of the transaction: the catalogue's functions then name
/// every table with its schema.
async fn no_path(c: &mut PgConnection) -> Result<(), StoreError> {
    set_local(c, "search_path", "").await
}
