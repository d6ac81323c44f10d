//! Appends while the read models are rebuilt: their p99 with a rebuild running, against their
//! p99 alone in the same run, at the same pace.

use std::time::{Duration, Instant};

use super::{append_one, percentile, Figure};
use crate::store::{NoProgress, Store};

/// The appends' pace: one every this long, alone and during the rebuild (a busy directorate,
/// not a load test: the figure is how long each waits).
const PACE: Duration = Duration::from_millis(10);
/// Appends timed alone.
const ALONE: usize = 200;

async fn paced(store: &Store, n: usize) -> anyhow::Result<Duration> {
    let took = append_one(store, n).await?;
    tokio::time::sleep(PACE.saturating_sub(took)).await;
    Ok(took)
}

fn ms(mut latencies: Vec<Duration>, at: f64) -> f64 {
    latencies.sort();
    percentile(&latencies, at)
}

/// The figures of appends during a rebuild of `store`'s read models.
pub async fn figures(store: &Store) -> anyhow::Result<Vec<Figure>> {
    let mut alone = Vec::with_capacity(ALONE);
    for n in 0..ALONE {
        alone.push(paced(store, n).await?);
    }
    let started = Instant::now();
    let rebuild = {
        let store = store.clone();
        tokio::spawn(async move { store.build_new_read_models_with_progress(&NoProgress).await })
    };
    let mut during = Vec::new();
    while !rebuild.is_finished() {
        during.push(paced(store, ALONE + during.len()).await?);
    }
    let report = rebuild.await??;
    let took = started.elapsed();
    let (alone_p99, during_p99) = (ms(alone, 0.99), ms(during.clone(), 0.99));
    let longest = during.iter().max().copied().unwrap_or_default();
    Ok(vec![
        Figure::new(
            &format!(
                "append p99 during a rebuild of {} events ({} appends in {:.1} s)",
                report.events,
                during.len(),
                took.as_secs_f64()
            ),
            during_p99,
            "ms",
        )
        .against("append p99 alone, same pace", alone_p99)
        .target("<= 2 x", during_p99 <= 2.0 * alone_p99),
        Figure::new(
            "rebuild: appends held (last catch-up and swap)",
            report.writes_held.as_secs_f64() * 1000.0,
            "ms",
        )
        .against(
            "the longest append during it",
            longest.as_secs_f64() * 1000.0,
        ),
    ])
}
