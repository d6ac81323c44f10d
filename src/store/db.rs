//! Connections to the two backends, and the dispatch that lets one SQL text serve both.
//!
//! SQLite (a file, zero set-up) is the embedded default; PostgreSQL is the production and
//! multi-instance backend. Statements are written once with `$n` placeholders, which both accept;
//! the few that differ say so where they are.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};

use super::error::StoreError;

/// A connection pool on one of the two backends.
#[derive(Debug, Clone)]
pub enum Pool {
    /// The embedded default.
    Sqlite(SqlitePool),
    /// The production backend.
    Postgres(PgPool),
}

/// A transaction on one of the two backends.
pub enum Tx {
    /// A SQLite transaction.
    Sqlite(Transaction<'static, Sqlite>),
    /// A PostgreSQL transaction.
    Postgres(Transaction<'static, Postgres>),
}

/// Runs `$body` with `$p` bound to the concrete pool, compiled once per backend.
macro_rules! on_pool {
    ($pool:expr, $p:ident => $body:expr) => {
        match $pool {
            $crate::store::Pool::Sqlite($p) => $body,
            $crate::store::Pool::Postgres($p) => $body,
        }
    };
}
pub(crate) use on_pool;

/// Runs `$body` with `$c` bound to the transaction's concrete connection.
macro_rules! on_tx {
    ($tx:expr, $c:ident => $body:expr) => {
        match $tx {
            $crate::store::Tx::Sqlite(t) => {
                let $c = &mut **t;
                $body
            }
            $crate::store::Tx::Postgres(t) => {
                let $c = &mut **t;
                $body
            }
        }
    };
}
pub(crate) use on_tx;

/// The page cache of a disposable SQLite file's connections, in KiB (SQLite's negative
/// `cache_size`): 64 MiB, against SQLite's default 2 MiB.
const DISPOSABLE_CACHE_KIB: &str = "-65536";

/// How long a SQLite connection waits for another process's write lock before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(30);

impl Pool {
    /// Connects to `url`: `postgres://` or `postgresql://` selects PostgreSQL, anything else is a
    /// SQLite URL (`sqlite://shura.db`); the SQLite file is created if missing.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Pool, StoreError> {
        Pool::connect_as_of(url, max_connections, None, false).await
    }

    /// [`Pool::connect`]; with `as_of`, every connection to a temporal store (SQLite only)
    /// shows the record as it stood after that position (see [`super::temporal`]). A
    /// `disposable` SQLite file (see [`super::StoreConfig::disposable`]) does not wait for the
    /// disk at commits (only at checkpoints) and keeps its statement journals in memory.
    pub async fn connect_as_of(
        url: &str,
        max_connections: u32,
        as_of: Option<i64>,
        disposable: bool,
    ) -> Result<Pool, StoreError> {
        if is_postgres_url(url) {
            if as_of.is_some() {
                return Err(StoreError::validation(
                    "database_url",
                    "a temporal store is a SQLite database",
                ));
            }
            let options = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(options)
                .await?;
            Ok(Pool::Postgres(pool))
        } else {
            // WAL lets readers run beside the one writer; synchronous=FULL makes every commit
            // durable (fsync of the WAL) before the append is acknowledged.
            let mut options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
                .foreign_keys(true);
            if disposable {
                // Made again from the log when lost: no fsync at commits (NORMAL, in WAL mode,
                // waits for the disk at checkpoints only, so that a power loss may lose the last
                // commits but never leaves the file corrupt: a kept history is reopened after a
                // restart); a larger page cache for its indexes, and the triggers' statement
                // journals in memory.
                options = options
                    .synchronous(SqliteSynchronous::Normal)
                    .pragma("cache_size", DISPOSABLE_CACHE_KIB)
                    .pragma("temp_store", "memory");
            }
            let mut pool = SqlitePoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(Duration::from_secs(30));
            if let Some(position) = as_of {
                pool = pool.after_connect(move |c, _| {
                    Box::pin(async move {
                        super::temporal::open_as_of(c, position)
                            .await
                            .map_err(|e| sqlx::Error::Protocol(e.to_string()))
                    })
                });
            }
            Ok(Pool::Sqlite(pool.connect_with(options).await?))
        }
    }

    /// Applies the embedded migrations of this backend; returns how many were new.
    pub async fn migrate(&self) -> Result<usize, StoreError> {
        let before = self.applied_migrations().await;
        match self {
            Pool::Sqlite(p) => sqlx::migrate!("migrations/sqlite").run(p).await?,
            Pool::Postgres(p) => sqlx::migrate!("migrations/postgres").run(p).await?,
        }
        let after = self.applied_migrations().await;
        Ok(after.saturating_sub(before))
    }

    /// Migrations recorded as applied (0 before the first, when sqlx's table does not exist).
    async fn applied_migrations(&self) -> usize {
        const SQL: &str = "SELECT COUNT(*) FROM _sqlx_migrations WHERE success";
        let count = match self {
            Pool::Sqlite(p) => sqlx::query_scalar::<_, i64>(SQL).fetch_one(p).await,
            Pool::Postgres(p) => sqlx::query_scalar::<_, i64>(SQL).fetch_one(p).await,
        };
        count
            .ok()
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(0)
    }

    /// Starts a transaction.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(match self {
            Pool::Sqlite(p) => Tx::Sqlite(p.begin().await?),
            Pool::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    /// The backend's name, for logs and reports.
    pub fn backend(&self) -> &'static str {
        match self {
            Pool::Sqlite(_) => "sqlite",
            Pool::Postgres(_) => "postgres",
        }
    }

    /// Closes every connection.
    pub async fn close(&self) {
        on_pool!(self, p => p.close().await)
    }
}

impl Tx {
    /// Commits the transaction; on return the commit is durable.
    pub async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }

    /// Rolls the transaction back now, rather than when the connection is next used: the
    /// writer's next transaction may need SQLite's write lock straight away.
    pub async fn rollback(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(t) => t.rollback().await?,
            Tx::Postgres(t) => t.rollback().await?,
        }
        Ok(())
    }
}

/// Removes a SQLite database file and its write-ahead log and index, as far as they exist.
/// Unlinking is enough for connections still open: they keep reading until they close.
pub fn remove_sqlite_database(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let _ = std::fs::remove_file(suffixed(path, suffix));
    }
}

/// `path` with `suffix` added to its file name.
pub(crate) fn suffixed(path: &std::path::Path, suffix: &str) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    std::path::PathBuf::from(name)
}

/// Whether `url` names a PostgreSQL database.
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}
