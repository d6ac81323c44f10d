//! Synthetic but realistic logs for benchmarks: the five seed consultations, copied with fresh
//! ids as often as needed, chained into a valid export file.

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;
use tokio::io::{AsyncWriteExt, BufWriter};
use uuid::Uuid;

use crate::seeds;
use crate::store::{write_line, Sealer, Store, StoreConfig, StoredEvent};

/// The seed log (210 events), read from a throw-away SQLite store.
pub async fn template(dir: &Path) -> anyhow::Result<Vec<StoredEvent>> {
    let url = format!("sqlite://{}", dir.join("template.db").display());
    let mut config = StoreConfig::new(url);
    config.projector = Some(std::sync::Arc::new(crate::projections::ReadModels));
    let store = Store::open(config).await?;
    seeds::apply(&store, &seeds::embedded()).await?;
    let events = store.read_all_stored(0, crate::store::MAX_PAGE).await?;
    store.close().await;
    Ok(events)
}

fn remap(value: &mut Value, ids: &mut HashMap<Uuid, Uuid>) {
    match value {
        Value::String(s) => {
            if let Ok(id) = Uuid::parse_str(s) {
                *s = ids.entry(id).or_insert_with(Uuid::new_v4).to_string();
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| remap(v, ids)),
        Value::Object(map) => map.values_mut().for_each(|v| remap(v, ids)),
        _ => {}
    }
}

/// Writes a valid export of about `events` events (whole copies of the seeds) to `path`;
/// returns how many it wrote.
pub async fn write_log(
    template: &[StoredEvent],
    events: usize,
    path: &Path,
    start: DateTime<Utc>,
) -> anyhow::Result<usize> {
    let file = tokio::fs::File::create(path).await?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut sealer = Sealer::default();
    let mut written = 0;
    while written < events {
        let mut ids = HashMap::new();
        for event in template {
            let mut copy = event.clone();
            copy.stream_id = *ids.entry(event.stream_id).or_insert_with(Uuid::new_v4);
            copy.event_id = Uuid::new_v4();
            copy.metadata.correlation_id = *ids
                .entry(event.metadata.correlation_id)
                .or_insert_with(Uuid::new_v4);
            copy.metadata.idempotency_key = None;
            copy.metadata.recorded_at = start + Duration::microseconds(written as i64);
            remap(&mut copy.payload, &mut ids);
            write_line(&mut out, &sealer.seal(copy)).await?;
            written += 1;
        }
    }
    out.flush().await?;
    Ok(written)
}
