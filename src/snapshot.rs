//! Read-only snapshots: `shura snapshot --at POSITION|TIME --out FILE.db` writes the record as it
//! stood at one point of the log into a new SQLite database, and `shura serve --read-only`
//! serves such a database (or any other) without ever writing to the record.
//!
//! A snapshot holds the log cut at that position (events `1..=P` exactly as stored, so the hash
//! chain is intact and `shura verify` passes on it) and read models rebuilt from it by the same
//! rebuild as `shura rebuild`: it is what the live read models were when the log stood at `P`.
//! Nothing outside the log is copied (passwords, web sessions, e-mail addresses, signed
//! checkpoints); tokens are, as they are events: those valid at `P` work on the snapshot.
//!
//! A read-only server refuses every write at its edges: GraphQL mutations (over HTTP and
//! WebSocket alike) answer `FORBIDDEN` with the rule `READ_ONLY` before any command runs, the web
//! app's forms answer `403`, and none of the writer's side jobs (seeding, the first admin token,
//! signed checkpoints) start.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextResolve, ResolveInfo,
};
use async_graphql::{ServerResult, Value};
use axum::extract::Request;
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use tokio::io::{AsyncWriteExt, BufReader};

use crate::error::{ApiError, Code};
use crate::projections::ReadModels;
use crate::store::{
    on_pool, write_line, DbTime, LogHead, Pool, Progress, Store, StoreConfig, StoreError, PAGE,
};

/// The rule a read-only server's refusals name.
pub const READ_ONLY_RULE: &str = "READ_ONLY";

/// Where to cut the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum At {
    /// After this position (0: before the first event).
    Position(i64),
    /// After the last event recorded at or before this instant (the longest prefix of the log
    /// recorded at or before it).
    Time(DateTime<Utc>),
}

impl FromStr for At {
    type Err = String;

    /// A position (digits) or an RFC 3339 time (`2026-11-22T10:00:00Z`, `...+01:00`).
    fn from_str(text: &str) -> Result<At, String> {
        let text = text.trim();
        if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
            return text
                .parse::<i64>()
                .map(At::Position)
                .map_err(|_| format!("position {text} is out of range"));
        }
        DateTime::parse_from_rfc3339(text)
            .map(|t| At::Time(t.with_timezone(&Utc)))
            .map_err(|_| {
                "expected a log position (e.g. 42) or an RFC 3339 time (e.g. 2026-11-22T10:00:00Z)"
                    .to_owned()
            })
    }
}

/// Why a snapshot was not written.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// `--out` names an existing file.
    #[error("--out {0}: the file already exists (a snapshot never overwrites one)")]
    Exists(PathBuf),
    /// `--out` cannot be written in a SQLite URL.
    #[error("--out {0}: a path with '?' or '#' cannot be opened as a SQLite database")]
    BadPath(PathBuf),
    /// `--at` is past the head.
    #[error("--at {at}: the log ends at position {head}")]
    PastHead {
        /// The position asked for.
        at: i64,
        /// The head's position.
        head: i64,
    },
    /// The copy holds fewer events than the position: the source log has a gap.
    #[error("the source log holds {copied} events up to position {position}")]
    Incomplete {
        /// Events copied.
        copied: u64,
        /// The position asked for.
        position: i64,
    },
    /// Creating the file failed.
    #[error("creating {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The failure.
        source: std::io::Error,
    },
    /// Reading the source or writing the snapshot failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a snapshot holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotReport {
    /// The snapshot's head: the position and hash of the last event copied.
    pub head: LogHead,
    /// Events replayed into its read models.
    pub rebuilt: i64,
}

/// Writes the snapshot of `source` at `at` into the new SQLite file `out`, reporting the events
/// copied to `copy` and those replayed to `rebuild`. Refuses an existing `out`; removes what it
/// wrote when it fails.
pub async fn snapshot(
    source: &Store,
    at: At,
    out: &Path,
    copy: &dyn Progress,
    rebuild: &dyn Progress,
) -> Result<SnapshotReport, SnapshotError> {
    create(source, at, out, copy, rebuild, Keys::Leave).await
}

/// Whether a snapshot takes the personal keys along.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keys {
    /// A file handed out (`shura snapshot`): no key leaves the database, so contact details
    /// read as erased there.
    Leave,
    /// A snapshot this process keeps for `asOf`: it opens what the live read models open.
    Copy,
}

/// [`snapshot`], with or without the keys.
pub(crate) async fn create(
    source: &Store,
    at: At,
    out: &Path,
    copy: &dyn Progress,
    rebuild: &dyn Progress,
    keys: Keys,
) -> Result<SnapshotReport, SnapshotError> {
    let text = out.display().to_string();
    if text.contains(['?', '#']) {
        return Err(SnapshotError::BadPath(out.to_path_buf()));
    }
    let position = resolve(source, at).await?;
    // `create_new` claims the name atomically: never an overwrite, even of a file that appears
    // meanwhile. SQLite takes an empty file as a new database.
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(out)
    {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(SnapshotError::Exists(out.to_path_buf()))
        }
        Err(source) => {
            return Err(SnapshotError::Io {
                path: out.to_path_buf(),
                source,
            })
        }
    }
    let written = write(source, position, &text, copy, rebuild, keys).await;
    if written.is_err() {
        crate::store::remove_sqlite_database(out);
    }
    written
}

/// The position `at` names in `source`'s log.
pub(crate) async fn resolve(source: &Store, at: At) -> Result<i64, SnapshotError> {
    let head = source.head().await?.position;
    match at {
        At::Position(position) if position > head => {
            Err(SnapshotError::PastHead { at: position, head })
        }
        At::Position(position) => Ok(position),
        // Up to the first event recorded after the instant, or the whole log.
        At::Time(instant) => Ok(first_after(source.pool(), instant)
            .await?
            .map_or(head, |first| first.saturating_sub(1))),
    }
}

/// The first position recorded after `instant`, if any.
async fn first_after(pool: &Pool, instant: DateTime<Utc>) -> Result<Option<i64>, StoreError> {
    const SQL: &str = "SELECT MIN(position) FROM events WHERE recorded_at > $1";
    Ok(
        on_pool!(pool, p => sqlx::query_scalar::<_, Option<i64>>(SQL)
        .bind(DbTime(instant))
        .fetch_one(p)
        .await?),
    )
}

/// Copies events `1..=position` into a new store at `path`, then rebuilds its read models.
async fn write(
    source: &Store,
    position: i64,
    path: &str,
    copy: &dyn Progress,
    rebuild: &dyn Progress,
    keys: Keys,
) -> Result<SnapshotReport, SnapshotError> {
    let mut config = StoreConfig::new(format!("sqlite://{path}"));
    config.projector = Some(Arc::new(ReadModels));
    let target = Store::open(config).await?;
    let result = fill(source, &target, position, copy, rebuild, keys).await;
    target.close().await;
    result
}

async fn fill(
    source: &Store,
    target: &Store,
    position: i64,
    copy: &dyn Progress,
    rebuild: &dyn Progress,
    keys: Keys,
) -> Result<SnapshotReport, SnapshotError> {
    // The events go through the import as they are read, a page at a time: the import checks
    // the chain and keeps every id, version, metadata and hash, and memory stays one page and
    // a pipe's buffer whatever the log's length.
    let (mut sending, receiving) = tokio::io::duplex(1 << 16);
    let send = async move {
        let mut after = 0;
        while after < position {
            let page = source
                .read_all_stored(after, PAGE.min(position.saturating_sub(after)))
                .await?;
            let Some(last) = page.last() else { break };
            after = last.position;
            for event in &page {
                write_line(&mut sending, event).await?;
            }
        }
        sending.shutdown().await?;
        Ok::<_, StoreError>(())
    };
    let expected = u64::try_from(position).unwrap_or(0);
    let mut input = BufReader::new(receiving);
    let receive = target.import_ndjson_with_progress(&mut input, Some(expected), copy);
    let ((), copied) = tokio::try_join!(send, receive)?;
    if copied != expected {
        return Err(SnapshotError::Incomplete { copied, position });
    }
    if keys == Keys::Copy {
        // Read after the events: a key erased meanwhile is missing here too.
        let held = crate::erasure::held_keys(source.pool()).await?;
        crate::erasure::put_keys(target.pool(), &held).await?;
    }
    let rebuilt = target.build_new_read_models_with_progress(rebuild).await?;
    Ok(SnapshotReport {
        head: target.head().await?,
        rebuilt: rebuilt.events,
    })
}

/// Installs [`RefuseMutations`] on a read-only server's schema.
pub struct ReadOnly;

impl ExtensionFactory for ReadOnly {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RefuseMutations)
    }
}

/// Refuses every root field of a mutation before it resolves (`__typename` excepted): no
/// command runs, whoever asks.
pub struct RefuseMutations;

#[async_graphql::async_trait::async_trait]
impl Extension for RefuseMutations {
    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let root = info.path_node.parent.is_none();
        if root && info.parent_type == "Mutation" && !info.is_for_introspection {
            let mut error = ApiError {
                rule: Some(READ_ONLY_RULE.to_owned()),
                ..ApiError::new(
                    Code::Forbidden,
                    "this server serves a read-only snapshot: nothing can be changed here",
                )
            }
            .into_server_error();
            error.path = vec![async_graphql::PathSegment::Field(
                info.alias.unwrap_or(info.name).to_owned(),
            )];
            return Err(error);
        }
        next.run(ctx, info).await
    }
}

/// Middleware for the web app of a read-only server: reads pass, as do signing in and out
/// (sessions are not the record); any other form answers `403`.
pub async fn refuse_web_writes(request: Request, next: Next) -> Response {
    let safe = matches!(*request.method(), Method::GET | Method::HEAD);
    let session = matches!(request.uri().path(), "/signin" | "/signout");
    if safe || session {
        return next.run(request).await;
    }
    (
        StatusCode::FORBIDDEN,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "READ_ONLY\n\
         هذا الخادم يعرض نسخة للقراءة فقط: لا يمكن تغيير أي شيء هنا.\n\
         Ce serveur présente un instantané en lecture seule : rien ne peut y être modifié.\n\
         This server serves a read-only snapshot: nothing can be changed here.\n",
    )
        .into_response()
}
