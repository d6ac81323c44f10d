//! The event store: the append-only log that is the project's only source of truth.
//!
//! Every change is an event in a stream; events are appended atomically with an expected version,
//! chained by hash, never updated or deleted (the database's triggers refuse it), and read back
//! per stream or as one global feed in position order. See the README's "Event store" section
//! for the design.

mod beside;
mod beside_sqlite;
mod codec;
mod db;
mod error;
mod hash;
mod model;
mod progress;
mod sql;
mod state_cache;
pub mod temporal;
mod transfer;
mod upcast;
mod verify;
mod writer;

use std::sync::Arc;

use tokio::io::{AsyncBufRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot, watch};
use uuid::Uuid;

pub use codec::{format_time, parse_time, DbTime, DbUuid};
pub use db::{is_postgres_url, remove_sqlite_database, Pool, Tx};
pub(crate) use db::{on_pool, on_tx, suffixed};
pub use error::StoreError;
pub use hash::{canonical_json, chain_hash, GENESIS_HASH};
pub use model::{
    Actor, AppendRequest, AppendResult, ExpectedVersion, LogHead, Metadata, NewEvent, StoredEvent,
    WriteContext,
};
pub use progress::{NoProgress, Progress};
pub use sql::{csv_row, insert_event_rows_into};
pub use state_cache::{StateCache, MAX_STREAMS as STATE_CACHE_STREAMS, VERSIONS_PER_STREAM};
pub use transfer::{write_line, Sealer, PAGE};
pub use upcast::{UpcastStep, Upcasters};
pub use verify::{ChainChecker, Finding, VerifyReport};
pub use writer::CommitGate;

use crate::domain::common::{free_string_rule, REASON_MAX, SHORT_TEXT_MAX};

use writer::{Job, PreparedAppend};

/// The most events one append may carry.
pub const MAX_EVENTS_PER_APPEND: usize = 10_000;
/// The most events one page of the global feed returns.
pub const MAX_PAGE: i64 = 10_000;
/// Rows per insert statement while importing (16 values each: within both backends' limits).
pub const IMPORT_BATCH: usize = 500;
/// The longest idempotency key accepted, in characters.
pub const MAX_IDEMPOTENCY_KEY: usize = 200;

/// How to open a store.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// `sqlite://FILE` (created if missing) or `postgres://...`.
    pub database_url: String,
    /// Size of the connection pool.
    pub max_connections: u32,
    /// How older payload versions are read.
    pub upcasters: Upcasters,
    /// The read models kept up to date inside every append's transaction.
    pub projector: Option<Arc<dyn Projector>>,
    /// Opens a temporal store (see [`temporal`]) as it stood after this position: its
    /// connections read the past, and nothing is to be written through it.
    pub as_of: Option<i64>,
    /// A SQLite file that is made again from elsewhere when lost (the `asOf` history, see
    /// [`crate::history`]): its last commits may be lost to a power cut (never its
    /// consistency: a kept history resumes from the last one that reached the disk).
    pub disposable: bool,
}

impl StoreConfig {
    /// A configuration with default pool size and no upcaster.
    pub fn new(database_url: impl Into<String>) -> Self {
        StoreConfig {
            database_url: database_url.into(),
            max_connections: 8,
            upcasters: Upcasters::new(),
            projector: None,
            as_of: None,
            disposable: false,
        }
    }
}

/// A handle on the event store; cheap to clone, all clones share one writer.
#[derive(Clone, Debug)]
pub struct Store {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    pool: Pool,
    writer: mpsc::Sender<Job>,
    /// Closes when the writer task ends, however it ends.
    writer_running: watch::Receiver<()>,
    upcasters: Arc<Upcasters>,
    projector: Option<Arc<dyn Projector>>,
    head: Arc<watch::Sender<i64>>,
    /// Write transactions committed by this store's writer.
    commits: Arc<std::sync::atomic::AtomicU64>,
    /// Firing or dropping it (with the store) stops the PostgreSQL listener.
    listener_stop: std::sync::Mutex<Option<oneshot::Sender<()>>>,
    /// Aggregate states folded by commands, so that the next command on a stream folds only
    /// the events after them.
    states: StateCache,
    /// The position whose record this store shows, when opened as of one (see
    /// [`StoreConfig::as_of`]).
    as_of: Option<i64>,
}

impl Store {
    /// Connects, applies pending migrations, and starts the writer.
    pub async fn open(config: StoreConfig) -> Result<Store, StoreError> {
        let pool = Pool::connect_as_of(
            &config.database_url,
            config.max_connections,
            config.as_of,
            config.disposable,
        )
        .await?;
        let migrated = pool.migrate().await?;
        let position = sql::read_head(&pool).await?.position;
        let head = Arc::new(watch::Sender::new(position));
        let listener_stop = match &pool {
            Pool::Postgres(pg) => Some(spawn_listener(pg.clone(), pool.clone(), head.clone())),
            Pool::Sqlite(_) => None,
        };
        let upcasters = Arc::new(config.upcasters);
        let commits = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let (writer, writer_running) = writer::spawn(
            pool.clone(),
            upcasters.clone(),
            config.projector.clone(),
            head.clone(),
            commits.clone(),
        );
        let store = Store {
            inner: Arc::new(Inner {
                pool,
                writer,
                writer_running,
                upcasters,
                projector: config.projector,
                head,
                listener_stop: std::sync::Mutex::new(listener_stop),
                commits,
                states: StateCache::new(),
                as_of: config.as_of,
            }),
        };
        // A new migration may add read-model tables or columns that only a replay can fill
        // (they derive from the documents): read models are projections, so an upgrade rebuilds
        // them once rather than serving half-filled ones.
        if migrated > 0 && position > 0 && store.inner.projector.is_some() {
            tracing::info!(
                migrations = migrated,
                events = position,
                "new migrations on an existing log: rebuilding the read models"
            );
            store.rebuild_read_models(true).await?;
        }
        Ok(store)
    }

    /// The connection pool, for the read models and for tests that need raw SQL.
    pub fn pool(&self) -> &Pool {
        &self.inner.pool
    }

    /// The position whose record this store shows, when it was opened as of one (an `asOf`
    /// history's connections, whose temporary views show the read models as they stood).
    pub fn as_of(&self) -> Option<i64> {
        self.inner.as_of
    }

    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        self.inner.pool.backend()
    }

    /// Appends events to one stream atomically, after checking the expected version. Returns
    /// once the commit is durable.
    pub async fn append(&self, request: AppendRequest) -> Result<AppendResult, StoreError> {
        self.submit(request, None).await
    }

    /// Appends like [`Store::append`] but holds the transaction open, rows written, until the
    /// gate is released. A test hook for the gap-safety proof; never used by the service.
    #[doc(hidden)]
    pub async fn append_gated(
        &self,
        request: AppendRequest,
        gate: CommitGate,
    ) -> Result<AppendResult, StoreError> {
        self.submit(request, Some(gate)).await
    }

    async fn submit(
        &self,
        request: AppendRequest,
        gate: Option<CommitGate>,
    ) -> Result<AppendResult, StoreError> {
        let append = prepare(request)?;
        let (reply, answer) = oneshot::channel();
        self.inner
            .writer
            .send(Job {
                append,
                reply,
                gate,
            })
            .await
            .map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    /// A stream's events up to `up_to_version` (all when `None`), payloads upcast.
    pub async fn read_stream(
        &self,
        stream_id: Uuid,
        up_to_version: Option<i64>,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        self.read_stream_after(stream_id, 0, up_to_version).await
    }

    /// A stream's events after `after_version` and up to `up_to_version` (all when `None`),
    /// payloads upcast: what to fold on top of a state known as of `after_version`.
    pub async fn read_stream_after(
        &self,
        stream_id: Uuid,
        after_version: i64,
        up_to_version: Option<i64>,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = sql::read_stream(
            self.pool(),
            DbUuid(stream_id),
            after_version,
            up_to_version.unwrap_or(i64::MAX),
        )
        .await?;
        rows.into_iter().map(|row| self.decode(row)).collect()
    }

    /// The aggregate states this handle (and its clones) keeps between commands; see
    /// [`StateCache`].
    pub fn states(&self) -> &StateCache {
        &self.inner.states
    }

    /// A stream's events exactly as stored (the auditor's view).
    pub async fn read_stream_stored(
        &self,
        stream_id: Uuid,
        up_to_version: Option<i64>,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = sql::read_stream(
            self.pool(),
            DbUuid(stream_id),
            0,
            up_to_version.unwrap_or(i64::MAX),
        )
        .await?;
        rows.into_iter().map(StoredEvent::decoded).collect()
    }

    /// Up to `limit` events after `after_position`, in position order, payloads upcast. A reader
    /// that resumes from the last position it saw never misses an event: positions are handed
    /// out and committed one transaction at a time, so no smaller position can commit later.
    pub async fn read_all(
        &self,
        after_position: i64,
        limit: i64,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = sql::read_all(self.pool(), after_position, check_limit(limit)?).await?;
        rows.into_iter().map(|row| self.decode(row)).collect()
    }

    /// The global feed exactly as stored.
    pub async fn read_all_stored(
        &self,
        after_position: i64,
        limit: i64,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = sql::read_all(self.pool(), after_position, check_limit(limit)?).await?;
        rows.into_iter().map(StoredEvent::decoded).collect()
    }

    /// [`Store::read_all_stored`] without parsing the payloads: the rows as a replay reads them
    /// (the benchmark's floor under a rebuild).
    pub(crate) async fn read_all_encoded(
        &self,
        after_position: i64,
        limit: i64,
    ) -> Result<Vec<StoredEvent<String>>, StoreError> {
        sql::read_all(self.pool(), after_position, check_limit(limit)?).await
    }

    /// A stream's current version: the version of its last event, 0 when it has none.
    pub async fn stream_version(&self, stream_id: Uuid) -> Result<i64, StoreError> {
        sql::stream_version(self.pool(), DbUuid(stream_id)).await
    }

    /// A stream's type, `None` when the stream has no event.
    pub async fn stream_type_of(&self, stream_id: Uuid) -> Result<Option<String>, StoreError> {
        Ok(sql::stream_summary(self.pool(), DbUuid(stream_id))
            .await?
            .map(|(stream_type, _)| stream_type))
    }

    /// The position of a stream's last event, 0 when it has none.
    pub async fn stream_position(&self, stream_id: Uuid) -> Result<i64, StoreError> {
        Ok(sql::stream_summary(self.pool(), DbUuid(stream_id))
            .await?
            .map_or(0, |(_, position)| position))
    }

    /// What the append that used `key` wrote, if one did.
    pub async fn idempotent_result(&self, key: &str) -> Result<Option<AppendResult>, StoreError> {
        // Checked before the lookup: a NUL in the key would fail the query on PostgreSQL only.
        free_string("idempotency_key", key, MAX_IDEMPOTENCY_KEY)?;
        Ok(sql::idempotent_span(self.pool(), key).await?.map(
            |(stream_id, first_version, last_version, first_position, last_position)| {
                AppendResult {
                    stream_id: stream_id.0,
                    first_version,
                    last_version,
                    first_position,
                    last_position,
                    replayed: true,
                }
            },
        ))
    }

    /// The file of a SQLite database (`None` for PostgreSQL or a database in memory).
    pub async fn database_file(&self) -> Result<Option<std::path::PathBuf>, StoreError> {
        match self.pool() {
            Pool::Sqlite(pool) => beside_sqlite::database_file(pool).await,
            Pool::Postgres(_) => Ok(None),
        }
    }

    /// The log's last position and hash, to anchor outside the database.
    pub async fn head(&self) -> Result<LogHead, StoreError> {
        let head = sql::read_head(self.pool()).await?;
        Ok(LogHead {
            position: head.position,
            hash: head.hash,
        })
    }

    /// How many write transactions this store's writer committed: fewer than appends when
    /// concurrent appends were grouped into one commit.
    pub fn commits(&self) -> u64 {
        self.inner
            .commits
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether this store's writer task is still running. While a handle on the store exists
    /// it ends only on a failure it cannot carry on from (a panic while writing a batch fails
    /// that batch only); once it has ended every append fails with [`StoreError::Closed`], so a
    /// service should report itself not ready, and exit.
    pub fn writer_alive(&self) -> bool {
        !self.inner.writer.is_closed()
    }

    /// Resolves when this store's writer task has ended, however it ended (see
    /// [`Store::writer_alive`]), and stays pending while it runs. The future holds no handle on
    /// the store: it also resolves once every handle is dropped and the writer stops.
    pub fn writer_stopped(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut running = self.inner.writer_running.clone();
        async move {
            // Nothing is ever sent: `changed` fails once the writer task drops the sender.
            while running.changed().await.is_ok() {}
        }
    }

    /// Follows the last committed position of this process's appends (and imports), and of other
    /// processes' as far as [`Store::refresh_head`] (or, on PostgreSQL, LISTEN/NOTIFY) saw them.
    pub fn watch_head(&self) -> watch::Receiver<i64> {
        self.inner.head.subscribe()
    }

    /// Reads the log head and moves the head watch if another process appended since: what
    /// wakes this process's watchers when the database has no notifications (SQLite), and what
    /// a PostgreSQL notification triggers.
    pub async fn refresh_head(&self) -> Result<i64, StoreError> {
        advance_head(&self.inner.pool, &self.inner.head).await
    }

    /// Recomputes the whole chain and checks positions, stream versions, the head and the given
    /// anchors; reports the first bad position.
    pub async fn verify(&self, anchors: &[LogHead]) -> Result<VerifyReport, StoreError> {
        self.verify_with_progress(anchors, &NoProgress).await
    }

    /// [`Store::verify`], reporting the events checked to `progress` (the total is the head's
    /// position).
    pub async fn verify_with_progress(
        &self,
        anchors: &[LogHead],
        progress: &dyn Progress,
    ) -> Result<VerifyReport, StoreError> {
        progress.total(u64::try_from(self.head().await?.position).unwrap_or(0));
        let mut checker = ChainChecker::new(anchors);
        let mut after = 0;
        let mut finding = None;
        'pages: loop {
            let rows = sql::read_all(self.pool(), after, PAGE).await?;
            let Some(last) = rows.last() else { break };
            after = last.position;
            for row in &rows {
                if let Err(found) = checker.check(row) {
                    finding = Some(found);
                    break 'pages;
                }
            }
            progress.advance(rows.len() as u64);
        }
        if finding.is_none() {
            finding = checker.finish(&self.head().await?).err();
        }
        Ok(VerifyReport {
            events: checker.events(),
            streams: checker.streams(),
            tip: checker.tip(),
            finding,
        })
    }

    /// Writes every event after `after_position` as NDJSON; returns how many.
    pub async fn export_ndjson<W: AsyncWrite + Unpin>(
        &self,
        out: &mut W,
        after_position: i64,
    ) -> Result<u64, StoreError> {
        self.export_ndjson_with_progress(out, after_position, &NoProgress)
            .await
    }

    /// [`Store::export_ndjson`], reporting the events written to `progress` (the total is the
    /// head's position less `after_position`).
    pub async fn export_ndjson_with_progress<W: AsyncWrite + Unpin>(
        &self,
        out: &mut W,
        after_position: i64,
        progress: &dyn Progress,
    ) -> Result<u64, StoreError> {
        let head = self.head().await?.position;
        let expected = u64::try_from(head.saturating_sub(after_position)).unwrap_or(0);
        progress.total(expected);
        let mut after = after_position;
        let mut count = 0;
        loop {
            let rows = sql::read_all(self.pool(), after, PAGE).await?;
            let Some(last) = rows.last() else { break };
            after = last.position;
            let read = rows.len() as u64;
            for row in rows {
                transfer::write_line(out, &row.decoded()?).await?;
                count += 1;
            }
            progress.advance(read);
        }
        out.flush().await?;
        if count != expected {
            // Events were appended meanwhile: the total was what the head said at the start.
            progress.total(count);
        }
        Ok(count)
    }

    /// Loads an NDJSON export into an empty store in one transaction, keeping ids, versions,
    /// metadata and hashes. The file must hold the log from position 1 and its chain must verify;
    /// otherwise nothing is written. Returns how many events were loaded.
    pub async fn import_ndjson<R: AsyncBufRead + Unpin>(
        &self,
        input: &mut R,
    ) -> Result<u64, StoreError> {
        self.import_ndjson_with_progress(input, None, &NoProgress)
            .await
    }

    /// [`Store::import_ndjson`], reporting the events read and checked to `progress`. The input
    /// is a stream whose length the store cannot know: `expected` is the caller's count of its
    /// events (e.g. its non-blank lines), handed on as the total; without it the total is only
    /// reported at the end.
    pub async fn import_ndjson_with_progress<R: AsyncBufRead + Unpin>(
        &self,
        input: &mut R,
        expected: Option<u64>,
        progress: &dyn Progress,
    ) -> Result<u64, StoreError> {
        if let Some(expected) = expected {
            progress.total(expected);
        }
        let mut tx = self.pool().begin().await?;
        let head = sql::lock_head(&mut tx).await?;
        if head.position != 0 || sql::has_events(&mut tx).await? {
            return Err(StoreError::validation(
                "store",
                "must be empty to import: the log already holds events",
            ));
        }
        // Reading, parsing and checking the chain run beside the inserts: the database works on
        // one batch (in SQLite's worker thread, or PostgreSQL's process) while the next one is
        // parsed. Either side failing stops both (`try_join!`).
        let (batches, mut arriving) = tokio::sync::mpsc::channel::<Vec<StoredEvent<String>>>(2);
        let read = async move {
            let mut checker = ChainChecker::new(&[]);
            let (mut buffer, mut line, mut count) = (String::new(), 0usize, 0u64);
            let mut last_time = None;
            let mut batch = Vec::with_capacity(IMPORT_BATCH);
            while let Some(event) = transfer::read_line(input, &mut buffer, &mut line).await? {
                let row = event.encoded();
                checker.check(&row).map_err(|finding| StoreError::Import {
                    line,
                    reason: finding.to_string(),
                })?;
                last_time = Some(DbTime(row.metadata.recorded_at));
                count += 1;
                batch.push(row);
                if batch.len() == IMPORT_BATCH {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(IMPORT_BATCH));
                    if batches.send(full).await.is_err() {
                        break;
                    }
                    progress.advance(IMPORT_BATCH as u64);
                }
            }
            if !batch.is_empty() {
                progress.advance(batch.len() as u64);
                // The receiver only goes away when inserting failed, which try_join! reports.
                let _ = batches.send(batch).await;
            }
            Ok::<_, StoreError>((checker, last_time, count))
        };
        // The page cache goes back to its default whether the load succeeded or not: the
        // connection returns to the pool either way.
        sql::set_page_cache(&mut tx, sql::PageCache::Import).await?;
        let write = sql::load_events(&mut tx, &mut arriving);
        let loaded = tokio::try_join!(read, write);
        let restored = sql::set_page_cache(&mut tx, sql::PageCache::Default).await;
        let ((checker, last_time, count), ()) = loaded?;
        restored?;
        let tip = checker.tip();
        sql::set_head(
            &mut tx,
            &sql::HeadRow {
                position: tip.position,
                hash: tip.hash,
                recorded_at: last_time,
            },
        )
        .await?;
        tx.commit().await?;
        self.inner.head.send_replace(checker.tip().position);
        if expected != Some(count) {
            progress.total(count);
        }
        Ok(count)
    }

    /// Appends events copied from another store's log, as they were stored there (ids,
    /// versions, metadata, hashes), and projects them, in one transaction: a replica following
    /// its source (see [`crate::history`]). They must continue this log: the next position,
    /// and a chain that verifies from this log's head. Returns the new head's position.
    pub async fn extend_log(&self, events: &[StoredEvent]) -> Result<i64, StoreError> {
        let mut tx = self.pool().begin().await?;
        let head = sql::lock_head(&mut tx).await?;
        let (mut position, mut hash) = (head.position, head.hash.clone());
        let rows: Vec<StoredEvent<String>> =
            events.iter().map(|event| event.clone().encoded()).collect();
        for row in &rows {
            let expected = position.saturating_add(1);
            if row.position != expected || hash::chain_hash(&hash, row) != row.hash {
                return Err(StoreError::Import {
                    line: usize::try_from(row.position).unwrap_or(usize::MAX),
                    reason: format!(
                        "event {} does not continue this log (head {position})",
                        row.position
                    ),
                });
            }
            position = row.position;
            hash.clone_from(&row.hash);
        }
        let Some(last) = rows.last() else {
            return Ok(head.position);
        };
        for chunk in rows.chunks(IMPORT_BATCH) {
            sql::insert_events(&mut tx, chunk).await?;
        }
        if let Some(projector) = &self.inner.projector {
            // A page of events rewrites many rows: a replay's page cache, as for a rebuild.
            sql::set_page_cache(&mut tx, sql::PageCache::Replay).await?;
            let projected = self
                .project_log(
                    &mut tx,
                    projector.as_ref(),
                    head.position,
                    position,
                    false,
                    &NoProgress,
                )
                .await;
            let restored = sql::set_page_cache(&mut tx, sql::PageCache::Default).await;
            projected?;
            restored?;
        }
        sql::set_head(
            &mut tx,
            &sql::HeadRow {
                position,
                hash,
                recorded_at: Some(DbTime(last.metadata.recorded_at)),
            },
        )
        .await?;
        tx.commit().await?;
        self.inner.head.send_replace(position);
        Ok(position)
    }

    /// Replays the whole log into fresh read models. With `keep` the new models replace the
    /// old ones; without it they are thrown away, which checks the live models against a
    /// rebuild without changing anything. Readers keep being served the old models until the
    /// new ones replace them.
    ///
    /// The new models are built beside the live ones while appends go on, and swapped in at
    /// the end: appends wait only for the last events and the swap (PostgreSQL: a schema of
    /// their own, see [`beside`]; SQLite: a file of their own, then copied in, see
    /// [`beside_sqlite`]; with `keep == false` the comparison is made with the head held). A
    /// SQLite database in memory, or whose read models are still empty, is rebuilt in one
    /// transaction that holds the log's head. [`RebuildReport::writes_held`] says how long
    /// appends waited, either way.
    pub async fn rebuild_read_models(&self, keep: bool) -> Result<RebuildReport, StoreError> {
        self.rebuild_read_models_with_progress(keep, &NoProgress)
            .await
    }

    /// [`Store::rebuild_read_models`], reporting the events replayed to `progress` (the total
    /// is the head's position).
    pub async fn rebuild_read_models_with_progress(
        &self,
        keep: bool,
        progress: &dyn Progress,
    ) -> Result<RebuildReport, StoreError> {
        self.rebuild(keep, true, progress).await
    }

    /// A rebuild kept, without the comparison with the models before, which costs a read of
    /// every row and memory for all of them twice (on PostgreSQL, with appends held): for a
    /// store that has no models yet (a snapshot's), and for `shura rebuild`.
    pub async fn build_new_read_models_with_progress(
        &self,
        progress: &dyn Progress,
    ) -> Result<RebuildReport, StoreError> {
        self.rebuild(true, false, progress).await
    }

    async fn rebuild(
        &self,
        keep: bool,
        compare: bool,
        progress: &dyn Progress,
    ) -> Result<RebuildReport, StoreError> {
        let Some(projector) = &self.inner.projector else {
            return Ok(RebuildReport {
                events: 0,
                differences: Vec::new(),
                writes_held: std::time::Duration::ZERO,
            });
        };
        if matches!(self.pool(), Pool::Postgres(_)) && !projector.tables().is_empty() {
            return beside::rebuild(self, projector.as_ref(), keep, compare, progress).await;
        }
        if let Some(report) =
            beside_sqlite::rebuild(self, projector.as_ref(), keep, compare, progress).await?
        {
            return Ok(report);
        }
        let started = std::time::Instant::now();
        let mut tx = self.pool().begin().await?;
        let head = sql::lock_head(&mut tx).await?;
        sql::set_page_cache(&mut tx, sql::PageCache::Replay).await?;
        progress.total(u64::try_from(head.position).unwrap_or(0));
        let replayed = self
            .replay(
                &mut tx,
                projector.as_ref(),
                head.position,
                compare,
                progress,
            )
            .await;
        // The connection goes back to the pool: it must not keep a replay's cache.
        let restored = sql::set_page_cache(&mut tx, sql::PageCache::Default).await;
        let (events, differences) = replayed?;
        restored?;
        if keep {
            tx.commit().await?;
        }
        Ok(RebuildReport {
            events,
            differences,
            writes_held: started.elapsed(),
        })
    }

    /// Empties the read models and projects the log up to `head` into them; returns how many
    /// events it replayed and, with `compare`, how the models differ from what they were.
    async fn replay(
        &self,
        tx: &mut Tx,
        projector: &dyn Projector,
        head: i64,
        compare: bool,
        progress: &dyn Progress,
    ) -> Result<(i64, Vec<String>), StoreError> {
        let before = if compare {
            projector.dump(tx).await?
        } else {
            Vec::new()
        };
        projector.reset(tx).await?;
        let (_, events) = self
            .project_log(tx, projector, 0, head, true, progress)
            .await?;
        projector.rebuilt(tx).await?;
        if !compare {
            return Ok((events, Vec::new()));
        }
        let after = projector.dump(tx).await?;
        Ok((events, diff_lines(&before, &after)))
    }

    /// Projects the events after `after` up to `head` (a page may end past it: the committed
    /// events are always a prefix of the log, appends committing in position order) through
    /// `tx`; returns the last position projected and how many events were.
    ///
    /// With `ahead`, reading and decoding the next pages runs on a second connection (a task of
    /// its own) while this one folds and writes the current page, so that two cores overlap
    /// them. Where a second connection does not see `head` yet (a database private to one
    /// connection), or without `ahead` (a few events: not worth a connection), the pages are
    /// read here instead.
    async fn project_log(
        &self,
        tx: &mut Tx,
        projector: &dyn Projector,
        after: i64,
        head: i64,
        ahead: bool,
        progress: &dyn Progress,
    ) -> Result<(i64, i64), StoreError> {
        let mut pages = match ahead {
            true => PageReader::start(self.pool(), &self.inner.upcasters, after, head).await,
            false => None,
        };
        let (mut after_position, mut events) = (after, 0);
        while after_position < head {
            let page = match &mut pages {
                Some(reader) => reader.next().await?,
                None => {
                    let rows = sql::read_all_in(tx, after_position, PAGE).await?;
                    decode_page(&self.inner.upcasters, rows)?
                }
            };
            let Some(last) = page.iter().map(|e| e.position).max() else {
                break;
            };
            after_position = last;
            events += page.len() as i64;
            projector.project(tx, &page).await?;
            progress.advance(page.len() as u64);
        }
        Ok((after_position, events))
    }

    /// Stops the PostgreSQL listener (it holds a connection) and closes the connection pool.
    pub async fn close(&self) {
        let stop = self
            .inner
            .listener_stop
            .lock()
            .ok()
            .and_then(|mut stop| stop.take());
        if let Some(stop) = stop {
            let _ = stop.send(());
        }
        self.inner.pool.close().await;
    }

    fn decode(&self, row: StoredEvent<String>) -> Result<StoredEvent, StoreError> {
        upcast(&self.inner.upcasters, row)
    }
}

/// Follows appends made by other processes on the same PostgreSQL database (LISTEN/NOTIFY) and
/// moves this process's head watch, so that its subscribers wake up. The watch only wakes
/// readers; what they read comes from the gap-safe feed, so a lost notification delays an event
/// but never loses it.
fn spawn_listener(
    pg: sqlx::PgPool,
    pool: Pool,
    head: Arc<watch::Sender<i64>>,
) -> oneshot::Sender<()> {
    let (stop, mut stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let mut listener = match sqlx::postgres::PgListener::connect_with(&pg).await {
            Ok(listener) => listener,
            // A short-lived store (a CLI command) can be closed before its listener connects:
            // there is nothing left to listen for, and nothing to warn about.
            Err(_) if pg.is_closed() => return,
            Err(error) => {
                tracing::warn!(%error, "cannot LISTEN for other processes' appends");
                return;
            }
        };
        if let Err(error) = listener.listen("shura_events").await {
            if !pg.is_closed() {
                tracing::warn!(%error, "cannot LISTEN for other processes' appends");
            }
            return;
        }
        // The channel is database-wide; notifications name the schema whose log moved.
        let schema: Option<String> = sqlx::query_scalar("SELECT current_schema()")
            .fetch_one(&pg)
            .await
            .ok();
        loop {
            // `biased`: once the store is closing, the stop wins over `recv`, which fails then too.
            let received = tokio::select! {
                biased;
                _ = &mut stopped => break,
                received = listener.recv() => received,
            };
            match received {
                Ok(notification) if Some(notification.payload()) != schema.as_deref() => {}
                Ok(_) => {
                    // A read error: the next notification (or the feed's poll) reads again.
                    let _ = advance_head(&pool, &head).await;
                }
                // `Store::close` fires the stop and then closes the pool, and closing the pool
                // makes a pending `recv` fail at once (sqlx's close event): that is the store
                // shutting down, not a lost connection, so it ends the listener without a word.
                // (It printed a spurious warning after every short CLI command on PostgreSQL.)
                Err(_) if pg.is_closed() => break,
                Err(error) => {
                    tracing::warn!(%error, "LISTEN connection lost; reconnecting");
                    tokio::select! {
                        _ = &mut stopped => break,
                        () = tokio::time::sleep(std::time::Duration::from_millis(500)) => {}
                    }
                }
            }
        }
    });
    stop
}

/// Reads the log head and moves `head` forward to it (never back), waking its watchers if it
/// moved; the position read.
async fn advance_head(pool: &Pool, head: &watch::Sender<i64>) -> Result<i64, StoreError> {
    let current = sql::read_head(pool).await?.position;
    head.send_if_modified(|p| {
        let moved = current > *p;
        *p = (*p).max(current);
        moved
    });
    Ok(current)
}

/// A stored event as readers that fold it take it: payload parsed and upcast to its type's
/// current schema version (which `schema_version` then says).
fn upcast(upcasters: &Upcasters, row: StoredEvent<String>) -> Result<StoredEvent, StoreError> {
    let mut event = row.decoded()?;
    let payload = std::mem::take(&mut event.payload);
    let (schema_version, payload) = upcasters
        .upcast(&event.event_type, event.schema_version, payload)
        .map_err(|(version, reason)| StoreError::Upcast {
            position: event.position,
            event_type: event.event_type.clone(),
            version,
            reason,
        })?;
    event.schema_version = schema_version;
    Ok(event.with_payload(payload))
}

/// Puts each stream's events of a replay page next to each other, streams in the order of their
/// first event in the page, each stream's events still in log order (the sort is stable), so
/// that a stream is folded and written once per page.
fn group_by_stream(page: &mut [StoredEvent]) {
    let mut first: std::collections::HashMap<Uuid, usize> = std::collections::HashMap::new();
    for (index, event) in page.iter().enumerate() {
        first.entry(event.stream_id).or_insert(index);
    }
    page.sort_by_key(|event| first.get(&event.stream_id).copied().unwrap_or(usize::MAX));
}

/// Decodes a page of the log for the projector, each stream's events together.
fn decode_page(
    upcasters: &Upcasters,
    rows: Vec<StoredEvent<String>>,
) -> Result<Vec<StoredEvent>, StoreError> {
    let mut page = rows
        .into_iter()
        .map(|row| upcast(upcasters, row))
        .collect::<Result<Vec<_>, _>>()?;
    group_by_stream(&mut page);
    Ok(page)
}

/// Pages of the log up to a head, read and decoded ahead by a task on a connection of its own.
struct PageReader {
    pages: mpsc::Receiver<Result<Vec<StoredEvent>, StoreError>>,
}

/// Pages decoded ahead of the projector: enough to keep it busy, few enough to bound memory.
const PAGES_AHEAD: usize = 2;

impl PageReader {
    /// Starts reading after position `after`, if a connection of the pool sees the log up to
    /// `head` at least; `None` otherwise (or when no second connection is to be had).
    async fn start(
        pool: &Pool,
        upcasters: &Arc<Upcasters>,
        after: i64,
        head: i64,
    ) -> Option<PageReader> {
        // A pool with every connection taken would make the replay wait: then it reads alone.
        let mut reader = tokio::time::timeout(std::time::Duration::from_millis(200), pool.begin())
            .await
            .ok()?
            .ok()?;
        let seen = sql::read_head_in(&mut reader).await.ok()?;
        if seen.position < head {
            let _ = reader.rollback().await;
            return None;
        }
        let (send, pages) = mpsc::channel(PAGES_AHEAD);
        let upcasters = upcasters.clone();
        tokio::spawn(async move {
            let mut after = after;
            while after < head {
                let page = match sql::read_all_in(&mut reader, after, PAGE).await {
                    Ok(rows) => {
                        if let Some(last) = rows.last() {
                            after = last.position;
                        } else {
                            after = head;
                        }
                        decode_page(&upcasters, rows)
                    }
                    Err(error) => Err(error),
                };
                let failed = page.is_err();
                // The replay stopped (an error, or it was dropped): nothing more to read.
                if send.send(page).await.is_err() || failed {
                    break;
                }
            }
            let _ = reader.rollback().await;
        });
        Some(PageReader { pages })
    }

    /// The next page (empty once the head is reached).
    async fn next(&mut self) -> Result<Vec<StoredEvent>, StoreError> {
        self.pages.recv().await.unwrap_or_else(|| Ok(Vec::new()))
    }
}

/// A future boxed for a trait object.
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// Read models kept by the store: applied to every append inside its transaction (so a write is
/// visible to the next read), and rebuilt from the log on demand.
pub trait Projector: Send + Sync + std::fmt::Debug {
    /// Applies events grouped by stream: each stream's events next to each other and in order.
    /// An append hands over its own events, inside its transaction (an error undoes the
    /// append). A replay (`rebuild_read_models`) hands over a whole page of the log, each
    /// stream's events together, streams in the order of their first event in the page: events
    /// of different streams may arrive in another order than the log's. A projector whose rows
    /// depend on another stream's rows may only depend on streams whose first event comes
    /// earlier (an action on its consultation), and must keep such copies up to date from both
    /// sides.
    fn project<'a>(
        &'a self,
        tx: &'a mut Tx,
        events: &'a [StoredEvent],
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Empties every read model, before a replay of the whole log.
    fn reset<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Every read-model row as one line of text, sorted: what `verify` compares.
    fn dump<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<Vec<String>, StoreError>>;

    /// Called once a replay has written every row, before it commits (refreshing the query
    /// planner's statistics, for instance). Nothing by default.
    fn rebuilt<'a>(&'a self, _tx: &'a mut Tx) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async { Ok(()) })
    }

    /// The tables the projector writes, and only those: a rebuild builds them anew beside the
    /// live ones, while appends go on, and swaps them in. Empty by default: the rebuild then
    /// holds the log's head for its whole length.
    fn tables(&self) -> &'static [&'static str] {
        &[]
    }
}

/// How `rebuild_read_models` went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RebuildReport {
    /// Events replayed.
    pub events: i64,
    /// Differences between the read models before and after, as `-`/`+` lines (empty when equal).
    pub differences: Vec<String>,
    /// How long appends waited for it: the last catch-up and the swap (see [`beside`] and
    /// [`beside_sqlite`]); the whole rebuild where it runs in place (it holds the log's head).
    pub writes_held: std::time::Duration,
}

/// Lines only in `before` (prefixed `-`) and only in `after` (prefixed `+`); both are sorted.
fn diff_lines(before: &[String], after: &[String]) -> Vec<String> {
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < before.len() || j < after.len() {
        match (before.get(i), after.get(j)) {
            (Some(a), Some(b)) if a == b => {
                i += 1;
                j += 1;
            }
            (Some(a), Some(b)) if a < b => {
                out.push(format!("- {a}"));
                i += 1;
            }
            (Some(_), Some(b)) => {
                out.push(format!("+ {b}"));
                j += 1;
            }
            (Some(a), None) => {
                out.push(format!("- {a}"));
                i += 1;
            }
            (None, Some(b)) => {
                out.push(format!("+ {b}"));
                j += 1;
            }
            (None, None) => break,
        }
    }
    out
}

fn check_limit(limit: i64) -> Result<i64, StoreError> {
    if (1..=MAX_PAGE).contains(&limit) {
        Ok(limit)
    } else {
        Err(StoreError::validation(
            "limit",
            format!("must be between 1 and {MAX_PAGE}"),
        ))
    }
}

fn non_blank(field: &str, value: &str) -> Result<(), StoreError> {
    if value.trim().is_empty() {
        Err(StoreError::validation(field, "must not be empty"))
    } else {
        Ok(())
    }
}

/// Checks a free string of the write context by the domain's rule (non-blank, at most `max`
/// characters, no control character), so that both backends accept the same metadata:
/// PostgreSQL's TEXT cannot hold NUL, SQLite's can.
fn free_string(field: &str, value: &str, max: usize) -> Result<(), StoreError> {
    match free_string_rule(value, max) {
        Some(rule) => Err(StoreError::validation(field, rule.to_string())),
        None => Ok(()),
    }
}

/// Checks an append and encodes its payloads; nothing reaches the writer unless it passes.
fn prepare(request: AppendRequest) -> Result<PreparedAppend, StoreError> {
    non_blank("stream_type", &request.stream_type)?;
    if request.events.is_empty() {
        return Err(StoreError::validation(
            "events",
            "must hold at least one event",
        ));
    }
    if request.events.len() > MAX_EVENTS_PER_APPEND {
        return Err(StoreError::validation(
            "events",
            format!("must hold at most {MAX_EVENTS_PER_APPEND} events"),
        ));
    }
    if let ExpectedVersion::Exact(v) = request.expected {
        if v < 0 {
            return Err(StoreError::validation(
                "expected_version",
                "must not be negative",
            ));
        }
    }
    let mut context = request.context;
    free_string("actor.id", &context.actor.id, SHORT_TEXT_MAX)?;
    free_string("actor.name", &context.actor.name, SHORT_TEXT_MAX)?;
    if let Some(reason) = &context.reason {
        free_string("reason", reason, REASON_MAX)?;
    }
    if let Some(key) = &context.idempotency_key {
        free_string("idempotency_key", key, MAX_IDEMPOTENCY_KEY)?;
    }
    let mut events = Vec::with_capacity(request.events.len());
    for (i, event) in request.events.into_iter().enumerate() {
        non_blank(&format!("events[{i}].event_type"), &event.event_type)?;
        if event.schema_version < 1 {
            return Err(StoreError::validation(
                format!("events[{i}].schema_version"),
                "must be at least 1",
            ));
        }
        if !event.payload.is_object() {
            return Err(StoreError::validation(
                format!("events[{i}].payload"),
                "must be a JSON object",
            ));
        }
        events.push(NewEvent {
            event_id: event.event_id,
            event_type: event.event_type,
            schema_version: event.schema_version,
            payload: canonical_json(&event.payload),
        });
    }
    // Every event of the append shares one correlation id, whichever attempt writes it.
    context.correlation_id = Some(context.correlation_id.unwrap_or_else(Uuid::new_v4));
    Ok(PreparedAppend {
        stream_id: request.stream_id,
        stream_type: request.stream_type,
        expected: request.expected,
        events,
        context,
    })
}
