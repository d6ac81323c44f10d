//! `GET /open-data/latest.zip`: the CSV package of the current head as one zip file.
//!
//! Built on demand and kept: the zip of the last head built is served until the log moves on, so
//! a flood of downloads costs one build per head, not one per request. At most one build runs at
//! a time (single flight): requests that find the zip stale queue on one lock and, once the build
//! they waited for is stored, get it. A build runs in a task of its own, so a client that gives
//! up (or times out) does not waste it. Memory is the package of one head and at most two zips
//! (the one served and the one replacing it). The archive is reproducible too: entries in the
//! package's order, deflated, stamped with the zip format's fixed earliest time.

use std::io::{Cursor, Write};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use super::{Facts, OpenDataError, Package};
use crate::auth::Access;
use crate::error::{ApiError, Code};
use crate::http::{error_body, HttpState, Media};
use crate::store::{LogHead, Pool, Store};

/// A built zip and the head it was cut at.
#[derive(Debug)]
pub struct Built {
    /// The log position and hash the package is the state at.
    pub head: LogHead,
    /// The archive.
    pub zip: Bytes,
}

/// The last zip built, behind the lock that makes builds single-flight.
#[derive(Debug, Default)]
pub struct LatestZip {
    slot: Arc<tokio::sync::Mutex<Option<Arc<Built>>>>,
}

impl LatestZip {
    /// The zip of the current head (or of a later one, if the log moved on meanwhile): the kept
    /// one when it is that recent, else a new build, shared with every request waiting for it.
    pub async fn get(&self, store: &Store) -> Result<Arc<Built>, OpenDataError> {
        let head = store.head().await?;
        let mut slot = self.slot.clone().lock_owned().await;
        // Positions only grow and an event never changes: a package at or past this position
        // is current.
        if let Some(built) = slot.as_ref().filter(|b| b.head.position >= head.position) {
            return Ok(built.clone());
        }
        let pool = store.pool().clone();
        let task = tokio::spawn(async move {
            let built = build(&pool).await.map(Arc::new);
            if let Ok(built) = &built {
                *slot = Some(built.clone());
            }
            built
        });
        task.await.map_err(|e| OpenDataError::Encode {
            file: "latest.zip".into(),
            reason: e.to_string(),
        })?
    }
}

/// Reads the facts, then builds the package and its zip off the async threads.
async fn build(pool: &Pool) -> Result<Built, OpenDataError> {
    let facts = Facts::read(pool).await?;
    let work = tokio::task::spawn_blocking(move || {
        let package = Package::of(&facts)?;
        let zip = zip(&package)?;
        Ok::<_, OpenDataError>(Built {
            head: package.head,
            zip: Bytes::from(zip),
        })
    });
    work.await.map_err(|e| OpenDataError::Encode {
        file: "latest.zip".into(),
        reason: e.to_string(),
    })?
}

/// The package's files as a zip archive, in the package's order: the same package gives the
/// same bytes.
pub fn zip(package: &Package) -> Result<Vec<u8>, OpenDataError> {
    let failed = |e: &dyn std::fmt::Display| OpenDataError::Encode {
        file: "latest.zip".into(),
        reason: e.to_string(),
    };
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644);
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in &package.files {
        writer
            .start_file(name.as_str(), options)
            .map_err(|e| failed(&e))?;
        writer.write_all(bytes).map_err(|e| failed(&e))?;
    }
    let cursor = writer.finish().map_err(|e| failed(&e))?;
    Ok(cursor.into_inner())
}

/// Whether `access` may download the package: any valid token or signed-in user, and anyone
/// when the server was started with `--public-read`.
fn allowed(access: &Access) -> bool {
    match access {
        Access::Anonymous { public_read } => *public_read,
        Access::Token(_) | Access::User(_) => true,
    }
}

/// `GET /open-data/latest.zip`, behind [`crate::http::guard::authenticate`].
pub async fn handler(
    State(state): State<HttpState>,
    Extension(access): Extension<Access>,
    headers: HeaderMap,
) -> Response {
    if !allowed(&access) {
        let mut answer = error_body(
            StatusCode::UNAUTHORIZED,
            Media::Json,
            ApiError::new(
                Code::Unauthenticated,
                "the open-data package needs Authorization: Bearer <token> on this server",
            ),
        );
        answer
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return answer;
    }
    let limit = state.limits.request_timeout;
    let built = match tokio::time::timeout(limit, state.open_data.get(&state.store)).await {
        Ok(Ok(built)) => built,
        Ok(Err(error)) => {
            tracing::error!(%error, "cannot build the open-data package");
            return unavailable("the open-data package cannot be built now; try again later\n");
        }
        Err(_) => {
            return unavailable("the open-data package is being built; try again shortly\n");
        }
    };
    let etag = format!("\"{}\"", built.head.hash);
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (StatusCode::OK, built.zip.clone()).into_response()
    };
    let disposition = format!(
        "attachment; filename=\"shura-open-data-{}.zip\"",
        built.head.position
    );
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, "application/zip".to_owned()),
        (header::CONTENT_DISPOSITION, disposition),
        (header::ETAG, etag),
        // Revalidate every time: the ETag makes that cheap, and the log moves on.
        (header::CACHE_CONTROL, "no-cache".to_owned()),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    response
}

/// `503` with a retry hint, and nothing of the failure's detail (it is in the server log).
fn unavailable(message: &'static str) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, "5")],
        message,
    )
        .into_response()
}
