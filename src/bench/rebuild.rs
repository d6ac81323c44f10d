//! Appends while `shura rebuild` runs: their p99 with the rebuild running (its own process, as
//! an operator runs it beside the service), against their p99 alone in the same run (before
//! the rebuild and after it), at the same pace.

use std::time::{Duration, Instant};

use anyhow::Context;

use super::{append_one, percentile, Figure};
use crate::store::Store;

/// The appends' pace: one every this long, alone and during the rebuild (a busy directorate,
/// not a load test: the figure is how long each waits).
const PACE: Duration = Duration::from_millis(10);
/// Appends timed alone, before the rebuild and again after it: 2 x 1,000 (20 s), so that the
/// baseline's p99 is the 20th-longest of 2,000, not the 2nd of 200 (it moved 2.5-12 ms
/// between runs with 200).
const ALONE: usize = 1_000;

/// One append, then a pause to the pace: how long it took, and whether it was refused (on
/// SQLite, an append that waits past the busy timeout for the rebuild's lock is).
async fn paced(store: &Store, n: usize) -> (Duration, bool) {
    let started = Instant::now();
    let refused = append_one(store, n).await.is_err();
    let took = started.elapsed();
    tokio::time::sleep(PACE.saturating_sub(took)).await;
    (took, refused)
}

fn ms(mut latencies: Vec<Duration>, at: f64) -> f64 {
    latencies.sort();
    percentile(&latencies, at)
}

/// What `shura rebuild` printed: the events replayed and how long appends waited, in ms.
fn printed(stdout: &str) -> Option<(u64, f64)> {
    let line = stdout
        .lines()
        .find(|l| l.starts_with("rebuilt the read models from "))?;
    let mut numbers = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|n| !n.is_empty())
        .map(|n| n.parse::<u64>().ok());
    Some((numbers.next()??, numbers.next()?? as f64))
}

/// The figures of appends to `store` (at `url`) while `shura rebuild` runs on it.
pub async fn figures(store: &Store, url: &str) -> anyhow::Result<Vec<Figure>> {
    let mut alone = Vec::with_capacity(2 * ALONE);
    for n in 0..ALONE {
        let (took, refused) = paced(store, n).await;
        anyhow::ensure!(!refused, "an append was refused with nothing else running");
        alone.push(took);
    }
    let mut appended_before = ALONE;
    let started = Instant::now();
    let mut rebuild = tokio::process::Command::new(std::env::current_exe()?)
        .args(["--database-url", url, "rebuild"])
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("starting shura rebuild")?;
    let (mut during, mut refused) = (Vec::new(), 0);
    while rebuild.try_wait()?.is_none() {
        let (took, no) = paced(store, appended_before).await;
        appended_before += 1;
        during.push(took);
        refused += usize::from(no);
    }
    let output = rebuild.wait_with_output().await?;
    let took = started.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout);
    anyhow::ensure!(output.status.success(), "shura rebuild failed: {stdout}");
    let (events, held) = printed(&stdout).context("shura rebuild's report")?;
    for n in 0..ALONE {
        let (took, refused) = paced(store, appended_before + n).await;
        anyhow::ensure!(!refused, "an append was refused after the rebuild");
        alone.push(took);
    }
    let longest = during.iter().max().copied().unwrap_or_default();
    let appended = during.len();
    let (alone_p50, during_p50) = (ms(alone.clone(), 0.5), ms(during.clone(), 0.5));
    let (alone_p99, during_p99) = (ms(alone, 0.99), ms(during, 0.99));
    Ok(vec![
        Figure::new(
            &format!(
                "append p99 while shura rebuild replays {events} events ({appended} appends in \
                 {:.1} s)",
                took.as_secs_f64()
            ),
            during_p99,
            "ms",
        )
        .against(
            "append p99 alone, same pace, before and after it",
            alone_p99,
        )
        .target("<= 2 x", during_p99 <= 2.0 * alone_p99),
        Figure::new("append p50 while shura rebuild runs", during_p50, "ms")
            .against("append p50 alone", alone_p50),
        Figure::new("shura rebuild: appends held", held, "ms").against(
            "the longest append during it",
            longest.as_secs_f64() * 1000.0,
        ),
        Figure::new(
            "appends refused while shura rebuild ran",
            refused as f64,
            "appends",
        )
        .target("none", refused == 0),
    ])
}

#[cfg(test)]
mod tests {
    use super::printed;

    #[test]
    fn the_rebuilds_report_is_read() {
        let out = "rebuilt the read models from 100170 events (appends waited 87 ms)\n";
        assert_eq!(printed(out), Some((100_170, 87.0)));
        assert_eq!(printed("something else"), None);
    }
}
