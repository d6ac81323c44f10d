//! The dashboard through `asOf`, on the big log: the history's catch-up (once per process start,
//! see [`crate::history`]), then the first answer about positions never asked before and the
//! answers after it, against the live dashboard in the same run.

use std::time::{Duration, Instant};

use anyhow::Context;
use async_graphql::Request;

use super::Figure;
use crate::auth::{authenticate, create_token, Access};
use crate::domain::token::Role;
use crate::graphql::{schema, ApiState, ShuraSchema};
use crate::store::{Actor, Store};
use crate::time_travel::Snapshots;

/// The dashboard's figures, as a dashboard developer selects them.
const DASHBOARD: &str = "dashboard(today: \"2026-01-15\") { consultationsByStatus { key count } \
    consultationsByRegion { key count } recommendationsByTheme { key count } \
    actionsByStatus { key count } committedBudgetByRegion { key agreements } \
    progress { actions done average overdue dueSoon } }";

/// Answers after the first, for the median.
const SAMPLES: usize = 5;

async fn timed(schema: &ShuraSchema, access: &Access, query: &str) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let response = schema
        .execute(Request::new(query).data(access.clone()))
        .await;
    let elapsed = started.elapsed();
    anyhow::ensure!(response.errors.is_empty(), "{query}: {:?}", response.errors);
    Ok(elapsed)
}

async fn median(schema: &ShuraSchema, access: &Access, query: &str) -> anyhow::Result<Duration> {
    let mut times = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        times.push(timed(schema, access, query).await?);
    }
    times.sort();
    Ok(times[SAMPLES / 2])
}

/// Figures of `asOf` on `store`'s log (the position halfway).
pub async fn figures(store: &Store, events: usize) -> anyhow::Result<Vec<Figure>> {
    let token = create_token(
        store,
        "bench",
        Role::Auditor,
        &[],
        Actor::new("bench", "Bench"),
    )
    .await
    .context("a token for asOf")?;
    let principal = authenticate(store.pool(), &token.bearer)
        .await?
        .map_err(|e| anyhow::anyhow!("the bench's token was refused: {e:?}"))?;
    let access = Access::Token(principal);
    let mut state = ApiState::new(store.clone(), Default::default());
    let snapshots = Snapshots::with_history(store.clone());
    state.snapshots = snapshots.clone();
    // The catch-up is waited for here, where a client is told to ask again (UNAVAILABLE).
    state.as_of_wait = Duration::from_secs(3_600);
    let schema = schema(state);
    let head = store.head().await?.position;
    let started = Instant::now();
    snapshots.at(head).await?;
    let catch_up = started.elapsed();
    let position = head / 2;
    let live = median(&schema, &access, &format!("{{ {DASHBOARD} }}")).await?;
    let as_of = format!("{{ asOf(position: {position}) {{ {DASHBOARD} }} }}");
    let first = timed(&schema, &access, &as_of).await?;
    let later = median(&schema, &access, &as_of).await?;
    // Other positions never asked before, across the log: the slowest first answer.
    let mut slowest = Duration::ZERO;
    for part in [1, 3, 5, 7, 9] {
        let at = head / 10 * part + 7;
        let query = format!("{{ asOf(position: {at}) {{ {DASHBOARD} }} }}");
        slowest = slowest.max(timed(&schema, &access, &query).await?);
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let rate = head as f64 / catch_up.as_secs_f64().max(1e-9);
    Ok(vec![
        Figure::new(
            &format!(
                "asOf history: catch-up of {head} events from an empty copy, once per process \
                 start ({rate:.0} events/s)"
            ),
            catch_up.as_secs_f64(),
            "s",
        ),
        Figure::new(
            &format!("asOf dashboard at position {position} of {events}: first answer"),
            ms(first),
            "ms",
        )
        .against("the live dashboard", ms(live))
        .target("< 1 s", first < Duration::from_secs(1)),
        Figure::new(
            &format!("asOf dashboard at 5 other positions of {events}: slowest first answer"),
            ms(slowest),
            "ms",
        )
        .against("the live dashboard", ms(live))
        .target("< 1 s", slowest < Duration::from_secs(1)),
        Figure::new(
            &format!("asOf dashboard at position {position} of {events}: later answers (median)"),
            ms(later),
            "ms",
        )
        .against("the live dashboard", ms(live))
        .target("< 1 s", later < Duration::from_secs(1)),
    ])
}
