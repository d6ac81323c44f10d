//! The single writer: every append of this process goes through one task that groups the
//! appends waiting at the same moment into one transaction (group commit).
//!
//! One writer means SQLite never sees two writers of ours competing for its lock ("database is
//! locked"), and one commit (one fsync) serves a whole batch. Each append in a batch keeps its own
//! expected-version and idempotency checks, and its own savepoint, so one failing append never
//! takes the others down. The head row lock taken first makes writers of other processes wait
//! their turn, so positions are handed out, and committed, in order.

use std::any::Any;
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, SubsecRound, Utc};
use futures_util::FutureExt;
use tokio::sync::{mpsc, oneshot, watch};
use uuid::Uuid;

use super::codec::{DbTime, DbUuid};
use super::db::{Pool, Tx};
use super::error::StoreError;
use super::hash::chain_hash;
use super::model::{AppendRequest, AppendResult, ExpectedVersion, StoredEvent};
use super::sql::{self, HeadRow, StreamTip};
use super::upcast::Upcasters;
use super::{upcast, Projector};

/// The most appends one transaction carries.
const MAX_BATCH: usize = 256;

/// An append checked and its payloads encoded (canonical text), ready to be written; its
/// context has a correlation id.
pub(crate) type PreparedAppend = AppendRequest<String>;

/// Holds a batch open after its rows are written and before it commits: a test hook that shows
/// what readers and other writers see while a transaction is in flight.
pub struct CommitGate {
    /// Receives the append's outcome once its rows are written (uncommitted).
    pub written: oneshot::Sender<Result<AppendResult, String>>,
    /// The commit waits until this fires (or its sender is dropped).
    pub release: oneshot::Receiver<()>,
}

pub(crate) struct Job {
    pub append: PreparedAppend,
    pub reply: oneshot::Sender<Result<AppendResult, StoreError>>,
    pub gate: Option<CommitGate>,
}

/// Starts the writer task; it ends when every sender is dropped. Returns its queue, and a
/// watch whose sender the task holds: it closes when the task ends, however it ends.
pub(crate) fn spawn(
    pool: Pool,
    upcasters: Arc<Upcasters>,
    projector: Option<Arc<dyn Projector>>,
    head: Arc<watch::Sender<i64>>,
    commits: Arc<AtomicU64>,
) -> (mpsc::Sender<Job>, watch::Receiver<()>) {
    let (sender, receiver) = mpsc::channel(4 * MAX_BATCH);
    let (running, stopped) = watch::channel(());
    let writer = Writer {
        pool,
        upcasters,
        projector,
        commits,
    };
    tokio::spawn(async move {
        // Dropped with this task, by a return or an unwinding panic alike.
        let _running = running;
        run(writer, receiver, head).await;
    });
    (sender, stopped)
}

/// What the writer task needs besides its queue.
struct Writer {
    pool: Pool,
    upcasters: Arc<Upcasters>,
    projector: Option<Arc<dyn Projector>>,
    /// Transactions committed, for tests and metrics (appends per commit shows group commit).
    commits: Arc<AtomicU64>,
}

async fn run(writer: Writer, mut receiver: mpsc::Receiver<Job>, head: Arc<watch::Sender<i64>>) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = receiver.recv().await {
        jobs.push(first);
        // No waiting for company: whatever queued while the last batch committed joins this one.
        while jobs.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        // A panic while writing (a bug in a projector, say) fails this batch alone: the future
        // is dropped here with its transaction, which rolls back, and the writer carries on.
        let written = AssertUnwindSafe(write_batch(&writer, &mut jobs))
            .catch_unwind()
            .await;
        let written = match written {
            Ok(written) => written,
            Err(panic) => {
                tracing::error!(
                    panic = panic_message(panic.as_ref()),
                    appends = jobs.len(),
                    "append batch panicked; nothing written, the writer carries on"
                );
                for job in jobs.drain(..) {
                    let _ = job.reply.send(Err(StoreError::Panicked));
                }
                continue;
            }
        };
        match written {
            Ok((outcomes, position)) => {
                head.send_if_modified(|current| {
                    let moved = position > *current;
                    *current = (*current).max(position);
                    moved
                });
                for (job, outcome) in jobs.drain(..).zip(outcomes) {
                    // The caller may have given up waiting; its append stands regardless.
                    let _ = job.reply.send(outcome);
                }
            }
            Err(error) => {
                tracing::error!(%error, appends = jobs.len(), "append batch failed; nothing written");
                let shared = Arc::new(error);
                for job in jobs.drain(..) {
                    let _ = job.reply.send(Err(StoreError::Batch(shared.clone())));
                }
            }
        }
    }
}

/// The message a panic was raised with, when it has one.
fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&'static str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

/// An append's outcome for each job, and the head after the batch.
type Written = (Vec<Result<AppendResult, StoreError>>, i64);

/// Writes a batch in one transaction. The outer error fails the whole batch (nothing written);
/// the inner results are each append's own outcome.
///
/// The batch is first written at once: every event in one INSERT, no savepoints. When a write
/// fails there (an event id already in the log, a stream taken as new that exists, a projection
/// error), or two appends share an idempotency key, that attempt is rolled back and the batch is
/// written again with one savepoint per append, so that only the failing append fails. Both ways
/// check each append against the same log, so they give the same outcomes.
async fn write_batch(writer: &Writer, jobs: &mut [Job]) -> Result<Written, StoreError> {
    match write_together(writer, jobs).await? {
        Some(written) => Ok(written),
        None => write_one_by_one(writer, jobs).await,
    }
}

/// The batch's state while it is written: the head so far, where it started, its time, and
/// the tip of every stream it writes.
struct Batch {
    head: HeadRow,
    start: i64,
    now: DateTime<Utc>,
    tips: HashMap<Uuid, Option<StreamTip>>,
}

/// Locks the head and reads, in one statement, the tip of every stream the batch writes: known
/// tips, and known absences. With `assume_new`, streams that every append of the batch expects
/// not to exist are not read but taken as absent: the unique (stream_id, version) index then
/// refuses version 1 of a stream that does exist, which sends the batch down the careful way.
async fn open_batch(tx: &mut Tx, jobs: &[Job], assume_new: bool) -> Result<Batch, StoreError> {
    let head = sql::lock_head(tx).await?;
    let now = batch_time(Utc::now(), head.recorded_at.map(|t| t.0));
    let mut streams: Vec<Uuid> = jobs.iter().map(|j| j.append.stream_id).collect();
    streams.sort_unstable();
    streams.dedup();
    let mut tips: HashMap<Uuid, Option<StreamTip>> = streams.iter().map(|id| (*id, None)).collect();
    if assume_new {
        let mut known: std::collections::HashSet<Uuid> = jobs
            .iter()
            .filter(|j| j.append.expected != ExpectedVersion::NoStream)
            .map(|j| j.append.stream_id)
            .collect();
        streams.retain(|id| known.remove(id));
    }
    if !streams.is_empty() {
        for (id, tip) in sql::stream_tips(tx, &streams).await? {
            tips.insert(id.0, Some(tip));
        }
    }
    Ok(Batch {
        start: head.position,
        head,
        now,
        tips,
    })
}

/// Moves the head (unless the rows' insert already did), lets the commit gates of tests hold
/// the batch open, and commits.
async fn close_batch(
    writer: &Writer,
    mut tx: Tx,
    jobs: &mut [Job],
    batch: &Batch,
    outcomes: &[Result<AppendResult, StoreError>],
    head_moved: bool,
) -> Result<(), StoreError> {
    if !head_moved && batch.head.position != batch.start {
        sql::set_head(&mut tx, &batch.head).await?;
        sql::notify_appended(&mut tx).await?;
    }
    for (job, outcome) in jobs.iter_mut().zip(outcomes) {
        if let Some(gate) = job.gate.take() {
            let seen = outcome.as_ref().map(|r| *r).map_err(|e| e.to_string());
            let _ = gate.written.send(seen);
            let _ = gate.release.await;
        }
    }
    tx.commit().await?;
    writer.commits.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

/// Writes the whole batch at once, with no savepoints: its events in one INSERT (on PostgreSQL,
/// in the same statement as the head's move).
/// Returns `None`, having written nothing, when a write failed or two appends share an
/// idempotency key (the second must see the first's events): the caller then writes the batch
/// one append at a time.
async fn write_together(writer: &Writer, jobs: &mut [Job]) -> Result<Option<Written>, StoreError> {
    let mut tx = writer.pool.begin().await?;
    let mut batch = open_batch(&mut tx, jobs, true).await?;
    let mut outcomes = Vec::with_capacity(jobs.len());
    let mut rows: Vec<StoredEvent<String>> = Vec::new();
    let mut appends = Vec::with_capacity(jobs.len());
    let mut keys = std::collections::HashSet::new();
    for job in jobs.iter() {
        let append = &job.append;
        if let Some(key) = &append.context.idempotency_key {
            if !keys.insert(key.as_str()) {
                tx.rollback().await?;
                return Ok(None);
            }
        }
        match check(&mut tx, &batch, append).await? {
            Checked::Decided(outcome) => outcomes.push(outcome),
            Checked::Rows(new) => {
                outcomes.push(Ok(advance(&mut batch, append, &new)));
                let from = rows.len();
                rows.extend(new);
                appends.push(from..rows.len());
            }
        }
    }
    if !rows.is_empty() {
        if let Err(error) = write_rows(writer, &mut tx, &rows, &batch.head, &appends).await {
            tracing::debug!(%error, "batch written again, one append at a time");
            tx.rollback().await?;
            return Ok(None);
        }
    }
    close_batch(writer, tx, jobs, &batch, &outcomes, true).await?;
    Ok(Some((outcomes, batch.head.position)))
}

/// Inserts the rows, moves the head to `head`, and projects each append's events (`appends`
/// are ranges of `rows`).
async fn write_rows(
    writer: &Writer,
    tx: &mut Tx,
    rows: &[StoredEvent<String>],
    head: &HeadRow,
    appends: &[std::ops::Range<usize>],
) -> Result<(), StoreError> {
    sql::append_rows(tx, rows, head).await?;
    if let Some(projector) = &writer.projector {
        for range in appends {
            let events = rows[range.clone()]
                .iter()
                .map(|row| upcast(&writer.upcasters, row.clone()))
                .collect::<Result<Vec<_>, _>>()?;
            projector.project(tx, &events).await?;
        }
    }
    Ok(())
}

/// Writes the batch one append at a time, each in a savepoint of its own, so that an append
/// whose write fails is undone alone.
async fn write_one_by_one(writer: &Writer, jobs: &mut [Job]) -> Result<Written, StoreError> {
    let mut tx = writer.pool.begin().await?;
    let mut batch = open_batch(&mut tx, jobs, false).await?;
    let mut savepoint = Savepoint::None;
    let mut outcomes = Vec::with_capacity(jobs.len());
    for job in jobs.iter() {
        outcomes.push(append_one(writer, &mut tx, &mut batch, &mut savepoint, &job.append).await?);
    }
    close_batch(writer, tx, jobs, &batch, &outcomes, false).await?;
    Ok((outcomes, batch.head.position))
}

/// The batch's recorded time: the server clock, but never before the previous batch's, so that
/// "the log as of time T" is always a prefix of the log.
fn batch_time(now: DateTime<Utc>, previous: Option<DateTime<Utc>>) -> DateTime<Utc> {
    let now = now.trunc_subsecs(6);
    previous.map_or(now, |p| p.max(now))
}

/// The batch's savepoint: none yet, or one left by the previous append (released when the next
/// one opens its own, in the same round trip; the commit releases the last).
enum Savepoint {
    None,
    Open,
}

impl Savepoint {
    /// Opens this append's savepoint, releasing the previous append's in the same round trip.
    async fn open(&mut self, tx: &mut Tx) -> Result<(), StoreError> {
        match self {
            Savepoint::None => sql::execute_fixed(tx, "SAVEPOINT shura_append").await?,
            Savepoint::Open => {
                sql::execute_script(tx, "RELEASE SAVEPOINT shura_append; SAVEPOINT shura_append")
                    .await?
            }
        }
        *self = Savepoint::Open;
        Ok(())
    }
}

/// What checking an append against the log found.
enum Checked {
    /// Settled without writing: a retry answered from the log, a conflict, a refusal.
    Decided(Result<AppendResult, StoreError>),
    /// The rows to write (never empty), positions and hashes following the batch's head.
    Rows(Vec<StoredEvent<String>>),
}

/// Checks an append against the log as the batch has it so far (idempotency key, stream type,
/// expected version) and, when it passes, makes its rows.
async fn check(tx: &mut Tx, batch: &Batch, append: &PreparedAppend) -> Result<Checked, StoreError> {
    if let Some(key) = &append.context.idempotency_key {
        let earlier = sql::events_by_idempotency_key(tx, key).await?;
        if !earlier.is_empty() {
            return Ok(Checked::Decided(replay(append, key, &earlier)));
        }
    }
    let tip = match batch.tips.get(&append.stream_id) {
        Some(known) => known.clone(),
        None => sql::stream_tip(tx, DbUuid(append.stream_id)).await?,
    };
    let actual = tip.as_ref().map_or(0, |t| t.version);
    if let Some(tip) = &tip {
        if tip.stream_type != append.stream_type {
            return Ok(Checked::Decided(Err(StoreError::validation(
                "stream_type",
                format!(
                    "must stay {:?} for stream {} (its first event fixed it), not {:?}",
                    tip.stream_type, append.stream_id, append.stream_type
                ),
            ))));
        }
    }
    if !append.expected.admits(actual) {
        return Ok(Checked::Decided(Err(StoreError::Conflict {
            stream_id: append.stream_id,
            expected: append.expected,
            actual,
        })));
    }
    if append.events.is_empty() {
        return Ok(Checked::Decided(Err(StoreError::validation(
            "events",
            "must hold at least one event",
        ))));
    }
    let mut prev_hash = batch.head.hash.clone();
    let mut rows = Vec::with_capacity(append.events.len());
    for (offset, event) in (1i64..).zip(&append.events) {
        let mut row = StoredEvent {
            position: batch.head.position + offset,
            stream_id: append.stream_id,
            stream_type: append.stream_type.clone(),
            version: actual + offset,
            event_id: event.event_id.unwrap_or_else(Uuid::new_v4),
            event_type: event.event_type.clone(),
            schema_version: event.schema_version,
            payload: event.payload.clone(),
            metadata: append.context.metadata(batch.now),
            hash: String::new(),
        };
        row.hash = chain_hash(&prev_hash, &row);
        prev_hash = row.hash.clone();
        rows.push(row);
    }
    Ok(Checked::Rows(rows))
}

/// Moves the batch's head and the stream's tip past an append's rows (never empty) and says
/// where they went.
fn advance(
    batch: &mut Batch,
    append: &PreparedAppend,
    rows: &[StoredEvent<String>],
) -> AppendResult {
    let first = rows.first().map_or((0, 0), |r| (r.version, r.position));
    let last = rows.last().map_or((0, 0), |r| (r.version, r.position));
    if let Some(row) = rows.last() {
        batch.head.position = row.position;
        batch.head.hash = row.hash.clone();
        batch.head.recorded_at = Some(DbTime(batch.now));
        batch.tips.insert(
            append.stream_id,
            Some(StreamTip {
                version: row.version,
                stream_type: append.stream_type.clone(),
            }),
        );
    }
    AppendResult {
        stream_id: append.stream_id,
        first_version: first.0,
        last_version: last.0,
        first_position: first.1,
        last_position: last.1,
        replayed: false,
    }
}

/// Writes one append in a savepoint of its own: undone alone when its insert or projection
/// fails.
async fn append_one(
    writer: &Writer,
    tx: &mut Tx,
    batch: &mut Batch,
    savepoint: &mut Savepoint,
    append: &PreparedAppend,
) -> Result<Result<AppendResult, StoreError>, StoreError> {
    let rows = match check(tx, batch, append).await? {
        Checked::Decided(outcome) => return Ok(outcome),
        Checked::Rows(rows) => rows,
    };
    savepoint.open(tx).await?;
    for (index, row) in rows.iter().enumerate() {
        if let Err(error) = sql::insert_events(tx, std::slice::from_ref(row)).await {
            sql::execute_fixed(tx, "ROLLBACK TO SAVEPOINT shura_append").await?;
            return Ok(Err(classify_insert_error(error, index)));
        }
    }
    if let Some(projector) = &writer.projector {
        let projected = match rows
            .iter()
            .map(|row| upcast(&writer.upcasters, row.clone()))
            .collect::<Result<Vec<_>, _>>()
        {
            Ok(events) => projector.project(tx, &events).await,
            Err(error) => Err(error),
        };
        if let Err(error) = projected {
            sql::execute_fixed(tx, "ROLLBACK TO SAVEPOINT shura_append").await?;
            tracing::error!(%error, stream = %append.stream_id, "projection failed; append undone");
            return Ok(Err(error));
        }
    }
    Ok(Ok(advance(batch, append, &rows)))
}

/// A unique violation on insert can only be a reused event id: positions and versions are
/// assigned under the head lock.
fn classify_insert_error(error: StoreError, index: usize) -> StoreError {
    match &error {
        StoreError::Database(sqlx::Error::Database(db)) if db.is_unique_violation() => {
            StoreError::validation(
                format!("events[{index}].event_id"),
                "must be unique: an event with this id is already in the log",
            )
        }
        _ => error,
    }
}

/// The answer to a retried append: the first attempt's result when the content is the same, an
/// error when the key was used for something else.
fn replay(
    append: &PreparedAppend,
    key: &str,
    earlier: &[StoredEvent<String>],
) -> Result<AppendResult, StoreError> {
    let same = earlier.len() == append.events.len()
        && earlier.iter().zip(&append.events).all(|(row, event)| {
            row.stream_id == append.stream_id
                && row.stream_type == append.stream_type
                && row.event_type == event.event_type
                && row.schema_version == event.schema_version
                && row.payload == event.payload
                && event.event_id.is_none_or(|id| id == row.event_id)
        });
    match (same, earlier.first(), earlier.last()) {
        (true, Some(first), Some(last)) => Ok(AppendResult {
            stream_id: append.stream_id,
            first_version: first.version,
            last_version: last.version,
            first_position: first.position,
            last_position: last.position,
            replayed: true,
        }),
        _ => Err(StoreError::IdempotencyMismatch {
            key: key.to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn panic_messages_are_read_from_str_and_string_payloads() {
        let text: Box<dyn Any + Send> = Box::new("projector bug");
        assert_eq!(panic_message(text.as_ref()), "projector bug");
        let formatted: Box<dyn Any + Send> = Box::new(format!("bug at {}", 7));
        assert_eq!(panic_message(formatted.as_ref()), "bug at 7");
        let other: Box<dyn Any + Send> = Box::new(7_u8);
        assert_eq!(panic_message(other.as_ref()), "(no message)");
    }

    #[test]
    fn batch_time_never_goes_back() {
        let earlier = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let later = Utc.with_ymd_and_hms(2026, 1, 2, 0, 0, 0).unwrap();
        assert_eq!(batch_time(earlier, Some(later)), later);
        assert_eq!(batch_time(later, Some(earlier)), later);
        assert_eq!(batch_time(later, None), later);
    }
}
