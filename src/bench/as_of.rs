//! The dashboard through `asOf`, on the big log: the first answer about a position (which builds
//! the record as of it) and the answers after it, against the live dashboard in the same run.

use std::time::{Duration, Instant};

use anyhow::Context;
use async_graphql::Request;

use super::Figure;
use crate::auth::{authenticate, create_token, Access};
use crate::domain::token::Role;
use crate::graphql::{schema, ApiState, ShuraSchema};
use crate::store::{Actor, Store};

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
    // The first answer's time is the build's: waited for here, where a client is told to
    // ask again (UNAVAILABLE) after a few seconds.
    state.as_of_wait = Duration::from_secs(3_600);
    let schema = schema(state);
    let position = store.head().await?.position / 2;
    let live = median(&schema, &access, &format!("{{ {DASHBOARD} }}")).await?;
    let as_of = format!("{{ asOf(position: {position}) {{ {DASHBOARD} }} }}");
    let first = timed(&schema, &access, &as_of).await?;
    let later = median(&schema, &access, &as_of).await?;
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    Ok(vec![
        Figure::new(
            &format!("asOf dashboard at position {position} of {events}: first answer (builds the record)"),
            ms(first),
            "ms",
        )
        .against("the live dashboard", ms(live))
        .target("< 1 s", first < Duration::from_secs(1)),
        Figure::new(
            &format!("asOf dashboard at position {position} of {events}: later answers (median)"),
            ms(later),
            "ms",
        )
        .against("the live dashboard", ms(live))
        .target("< 1 s", later < Duration::from_secs(1)),
    ])
}
