//! The long-streams figure of `shura bench`: the latency of one real command on a stream that
//! already holds 10, 1,000 or 10,000 events, against the same command on a short stream in the
//! same run.
//!
//! The command is `ReportProgress` on a follow-up action: an action followed for years gathers a
//! report a month (or more), and the domain puts no bound on its reports, so its stream can reach
//! any length (a consultation's points could too). The streams are filled with real
//! `ProgressReported` events, appended in large batches (and projected like any append), then each
//! sample runs the whole command path: load the state (from the store's state cache), decide,
//! append, project the read model, commit.

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use serde_json::json;
use uuid::Uuid;

use super::load::percentile;
use crate::commands::{execute, AnyCommand, CommandContext};
use crate::domain::action;
use crate::store::{
    Actor, AppendRequest, ExpectedVersion, NewEvent, Store, WriteContext, MAX_EVENTS_PER_APPEND,
};

/// Streams of the shortest length measured, used in turn so that each stays about that long.
const SHORT_STREAMS: usize = 20;

/// One stream length's timings.
#[derive(Debug, Clone)]
pub struct StreamTiming {
    /// Events in the stream before the measured appends.
    pub events: usize,
    /// Median latency of one command, ms.
    pub p50_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
}

fn actor() -> Actor {
    Actor::new("bench", "Benchmark")
}

fn command(value: serde_json::Value) -> anyhow::Result<AnyCommand> {
    Ok(serde_json::from_value(value)?)
}

async fn run(store: &Store, value: serde_json::Value) -> anyhow::Result<()> {
    execute(store, command(value)?, CommandContext::new(actor())).await?;
    Ok(())
}

/// The note every report carries: a monthly report's usual size.
fn note() -> serde_json::Value {
    json!({"ar": "تقرير شهري: تقدم الأشغال حسب البرنامج", "fr": "Rapport mensuel : avancement conforme au programme"})
}

/// The day of the `n`th report from `start`.
fn day(start: NaiveDate, n: usize) -> anyhow::Result<NaiveDate> {
    let days = u64::try_from(n)?;
    start
        .checked_add_days(chrono::Days::new(days))
        .ok_or_else(|| anyhow::anyhow!("no day {n} after {start}"))
}

fn first_day() -> anyhow::Result<NaiveDate> {
    NaiveDate::from_ymd_opt(2000, 1, 1).ok_or_else(|| anyhow::anyhow!("2000-01-01"))
}

/// Creates an action on a consultation of its own and fills its stream with `events` events in
/// all (its creation and `events - 1` progress reports, dated a day apart).
async fn long_action(
    store: &Store,
    organisation: Uuid,
    consultation: Uuid,
    events: usize,
) -> anyhow::Result<Uuid> {
    let id = Uuid::new_v4();
    run(
        store,
        json!({"aggregate": "action", "type": "create_action", "action_id": id,
            "consultation_id": consultation, "title": {"ar": "متابعة البرنامج الجهوي", "fr": "Suivi du programme régional"},
            "owner_organisation_id": organisation, "due": {"year": 2040}}),
    )
    .await?;
    let start = first_day()?;
    let note: crate::domain::Text = serde_json::from_value(note())?;
    let mut version = 1usize;
    while version < events {
        let batch = (events - version).min(MAX_EVENTS_PER_APPEND);
        let mut new = Vec::with_capacity(batch);
        for n in version..version + batch {
            let event = action::Event::ProgressReported {
                on: day(start, n)?,
                progress: 50,
                note: Some(note.clone()),
                reason: None,
            };
            new.push(NewEvent {
                event_id: None,
                event_type: event.event_type().to_owned(),
                schema_version: event.schema_version(),
                payload: event.to_payload(),
            });
        }
        store
            .append(AppendRequest {
                stream_id: id,
                stream_type: action::STREAM_TYPE.to_owned(),
                expected: ExpectedVersion::Exact(i64::try_from(version)?),
                events: new,
                context: WriteContext::new(actor()),
            })
            .await?;
        version += batch;
    }
    Ok(id)
}

/// One `ReportProgress` command on `id`, dated `on`; its latency.
async fn report(store: &Store, id: Uuid, on: NaiveDate) -> anyhow::Result<Duration> {
    let value = json!({"aggregate": "action", "type": "report_progress", "action_id": id,
        "on": on, "progress": 50, "note": note()});
    let command = command(value)?;
    let started = Instant::now();
    execute(store, command, CommandContext::new(actor())).await?;
    Ok(started.elapsed())
}

/// Times `samples` commands on streams of each length in `lengths` (the first is the short
/// baseline), interleaved so that noise from other processes falls on every length alike.
pub async fn measure(
    store: &Store,
    lengths: &[usize],
    samples: usize,
) -> anyhow::Result<Vec<StreamTiming>> {
    let organisation = Uuid::new_v4();
    let consultation = Uuid::new_v4();
    run(
        store,
        json!({"aggregate": "organisation", "type": "register_organisation",
            "organisation_id": organisation, "name": {"ar": "المديرية الجهوية", "fr": "Direction régionale"},
            "kind": "regional_directorate", "region": "MA-03"}),
    )
    .await?;
    run(
        store,
        json!({"aggregate": "consultation", "type": "plan_consultation",
            "consultation_id": consultation, "kind": "regional_consultation",
            "title": {"ar": "لقاء تشاوري", "fr": "Concertation régionale"},
            "schedule": {"start": {"year": 2024, "month": 11}}, "region": "MA-03"}),
    )
    .await?;
    // The shortest length is measured on several streams in turn, so that none grows much
    // beyond it; the longer ones grow by `samples` at most, a small part of their length.
    let mut streams: Vec<Vec<Uuid>> = Vec::new();
    for (i, &events) in lengths.iter().enumerate() {
        let count = if i == 0 { SHORT_STREAMS } else { 1 };
        let mut ids = Vec::with_capacity(count);
        for _ in 0..count {
            ids.push(long_action(store, organisation, consultation, events).await?);
        }
        streams.push(ids);
    }
    // Reports are dated after every filled one.
    let later = day(first_day()?, lengths.iter().copied().max().unwrap_or(0) + 1)?;
    // Warm-up: the first command on each stream folds it whole into the state cache (once per
    // process), as a server's first command on a stream does.
    for ids in &streams {
        for id in ids {
            report(store, *id, later).await?;
        }
    }
    let mut latencies: Vec<Vec<Duration>> = vec![Vec::with_capacity(samples); lengths.len()];
    for n in 0..samples {
        let on = day(later, n + 1)?;
        for (ids, times) in streams.iter().zip(latencies.iter_mut()) {
            let id = ids[n % ids.len()];
            times.push(report(store, id, on).await?);
        }
    }
    Ok(lengths
        .iter()
        .zip(latencies)
        .map(|(&events, mut times)| {
            times.sort();
            StreamTiming {
                events,
                p50_ms: percentile(&times, 0.50),
                p99_ms: percentile(&times, 0.99),
            }
        })
        .collect())
}
