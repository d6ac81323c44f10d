//! Shared helpers for the integration tests: a fresh database per test on each backend.
//!
//! SQLite tests get a file in a temporary directory. PostgreSQL tests get a schema of their own
//! in the database named by `TEST_DATABASE_URL`; without that variable they are skipped with a
//! notice, unless `CI=true`, where a missing or unreachable PostgreSQL fails the test.

#![allow(dead_code)]

pub mod facts;
pub mod server;
pub mod web;

use serde_json::{json, Value};
use shura::store::{
    Actor, AppendRequest, ExpectedVersion, NewEvent, Pool, Store, StoreConfig, WriteContext,
};
use uuid::Uuid;

/// Which backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh, empty database for one test.
pub struct TestDb {
    pub backend: Backend,
    pub url: String,
    admin_url: Option<String>,
    schema: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// A new SQLite file.
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("shura.db").display());
        TestDb {
            backend: Backend::Sqlite,
            url,
            admin_url: None,
            schema: None,
            _dir: Some(dir),
        }
    }

    /// A new schema in the PostgreSQL database of `TEST_DATABASE_URL`, or `None` (skip) when the
    /// variable is unset outside CI.
    pub async fn postgres() -> Option<TestDb> {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true");
        let admin_url = match std::env::var("TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => url,
            _ if ci => {
                panic!("CI=true but TEST_DATABASE_URL is not set: PostgreSQL tests must run")
            }
            _ => {
                eprintln!("notice: TEST_DATABASE_URL is not set; skipping this PostgreSQL test");
                return None;
            }
        };
        let schema = format!("shura_test_{}", Uuid::new_v4().simple());
        let admin = sqlx::PgPool::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at TEST_DATABASE_URL is unreachable: {e}"));
        // The schema name is generated here (hex only): DDL identifiers cannot be bound.
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&admin)
            .await
            .expect("create test schema");
        admin.close().await;
        let separator = if admin_url.contains('?') { '&' } else { '?' };
        let url = format!("{admin_url}{separator}options=-c%20search_path%3D{schema}");
        Some(TestDb {
            backend: Backend::Postgres,
            url,
            admin_url: Some(admin_url),
            schema: Some(schema),
            _dir: None,
        })
    }

    /// Opens a store on this database (each call is a separate pool and writer, as another
    /// process would have).
    pub async fn store(&self) -> Store {
        Store::open(StoreConfig::new(&self.url))
            .await
            .expect("open store")
    }

    /// Opens a store that keeps the consultation read models.
    pub async fn domain_store(&self) -> Store {
        self.store_with(|config| {
            config.projector = Some(std::sync::Arc::new(shura::projections::ReadModels));
        })
        .await
    }

    /// Opens a store with a configuration adjusted by `adjust`.
    pub async fn store_with(&self, adjust: impl FnOnce(&mut StoreConfig)) -> Store {
        let mut config = StoreConfig::new(&self.url);
        adjust(&mut config);
        Store::open(config).await.expect("open store")
    }

    /// Drops the PostgreSQL schema (the SQLite directory goes with `self`).
    pub async fn cleanup(self) {
        if let (Some(admin_url), Some(schema)) = (&self.admin_url, &self.schema) {
            if let Ok(admin) = sqlx::PgPool::connect(admin_url).await {
                let _ = sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
                    .execute(&admin)
                    .await;
                admin.close().await;
            }
        }
    }
}

/// The first `position` events of `source`'s log, as NDJSON (what `shura export` writes, cut).
pub async fn log_cut(source: &Store, position: i64) -> String {
    let mut exported = Vec::new();
    source.export_ndjson(&mut exported, 0).await.unwrap();
    let text = String::from_utf8(exported).unwrap();
    text.lines()
        .take(usize::try_from(position).unwrap())
        .map(|l| format!("{l}\n"))
        .collect()
}

/// The log of `source` cut after `position`, imported into a new store on `backend`, with the
/// same personal keys, and its read models rebuilt: what the record as of `position` must
/// equal. The database lives as long as the [`TestDb`].
pub async fn rebuilt_cut(source: &Store, position: i64, backend: Backend) -> (Store, TestDb) {
    let cut = log_cut(source, position).await;
    let fresh = match backend {
        Backend::Sqlite => TestDb::sqlite().await,
        Backend::Postgres => TestDb::postgres().await.expect("postgres"),
    };
    let store = fresh.domain_store().await;
    store
        .import_ndjson(&mut tokio::io::BufReader::new(cut.as_bytes()))
        .await
        .unwrap();
    let keys = shura::erasure::held_keys(source.pool()).await.unwrap();
    shura::erasure::put_keys(store.pool(), &keys).await.unwrap();
    store.rebuild_read_models(true).await.unwrap();
    (store, fresh)
}

/// Runs raw SQL on the store's database, as someone with direct database access would.
pub async fn raw_execute(store: &Store, sql: &str) -> Result<u64, sqlx::Error> {
    match store.pool() {
        Pool::Sqlite(p) => sqlx::raw_sql(sql)
            .execute(p)
            .await
            .map(|r| r.rows_affected()),
        Pool::Postgres(p) => sqlx::raw_sql(sql)
            .execute(p)
            .await
            .map(|r| r.rows_affected()),
    }
}

/// Runs a raw query returning one integer.
pub async fn raw_i64(store: &Store, sql: &str) -> i64 {
    match store.pool() {
        Pool::Sqlite(p) => sqlx::query_scalar::<_, i64>(sql).fetch_one(p).await,
        Pool::Postgres(p) => sqlx::query_scalar::<_, i64>(sql).fetch_one(p).await,
    }
    .expect("raw query")
}

/// Runs a raw query returning one text value.
pub async fn raw_text(store: &Store, sql: &str) -> String {
    match store.pool() {
        Pool::Sqlite(p) => sqlx::query_scalar::<_, String>(sql).fetch_one(p).await,
        Pool::Postgres(p) => sqlx::query_scalar::<_, String>(sql).fetch_one(p).await,
    }
    .expect("raw query")
}

/// Lets raw SQL update and delete events again, as an attacker with database rights could.
pub async fn disable_append_only_triggers(store: &Store) {
    let sql = match store.pool() {
        Pool::Sqlite(_) => "DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;",
        Pool::Postgres(_) => "ALTER TABLE events DISABLE TRIGGER USER;",
    };
    raw_execute(store, sql).await.expect("disable triggers");
}

/// The actor used by tests.
pub fn tester() -> Actor {
    Actor::new("test", "Integration test")
}

/// An event of schema version 1.
pub fn event(event_type: &str, payload: Value) -> NewEvent {
    NewEvent::new(event_type, payload)
}

/// An append of `events` to a `ledger` stream (a type no read model follows).
pub fn append(stream_id: Uuid, expected: ExpectedVersion, events: Vec<NewEvent>) -> AppendRequest {
    AppendRequest {
        stream_id,
        stream_type: "ledger".to_owned(),
        expected,
        events,
        context: WriteContext::new(tester()),
    }
}

/// An append of one small event.
pub fn one(stream_id: Uuid, expected: ExpectedVersion, n: i64) -> AppendRequest {
    append(stream_id, expected, vec![event("Noted", json!({ "n": n }))])
}

/// Generates one `#[tokio::test]` per backend for each named `async fn(&TestDb)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let db = $crate::common::TestDb::sqlite().await;
                    super::$name(&db).await;
                    db.cleanup().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let Some(db) = $crate::common::TestDb::postgres().await else { return };
                    super::$name(&db).await;
                    db.cleanup().await;
                }
            )*
        }
    };
}
