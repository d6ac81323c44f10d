//! The web app's pages under `shura bench`: the server time of each page (from the request
//! entering the router to the last byte of its body, so the database reads and the template
//! rendering, without the network), signed in as an admin, one request at a time, against the
//! server time of `/healthz` on the same router (the floor of a request) in the same run.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use tower::ServiceExt;

use super::load::percentile;
use crate::domain::token::Role;
use crate::projections::lists::{self, ActionFilter, ConsultationFilter, StakeholderFilter};
use crate::store::Actor;

/// One page's timings.
#[derive(Debug, Clone)]
pub struct PageTiming {
    /// The page (its path with ids replaced by `{id}`).
    pub page: String,
    /// Median server time, ms.
    pub p50_ms: f64,
    /// 99th percentile server time, ms.
    pub p99_ms: f64,
    /// Requests that did not answer 200 (or redirect, for forms' targets).
    pub failures: usize,
}

/// Times every page of the web app on the log at `url` (read models built), `samples` requests
/// each after a warm-up. The first of the timings is `/healthz`, the baseline.
pub async fn pages(url: &str, samples: usize) -> anyhow::Result<Vec<PageTiming>> {
    let mut config = crate::app::AppConfig::new(url);
    // The pages are timed, not the asOf history's catch-up beside them.
    config.as_of_history = false;
    let app = crate::app::build(config).await?;
    let store = app.store.clone();
    let username = "bench.admin";
    let password = "benchmark password, long enough";
    if crate::accounts::verify_password(store.pool(), username, password)
        .await?
        .is_none()
    {
        crate::accounts::create_user(
            &store,
            username,
            Some("Benchmark"),
            Role::Admin,
            &[],
            password,
            Actor::new("bench", "Benchmark"),
        )
        .await?;
    }
    let user_id = crate::accounts::user_id(username);
    let (secret, _) = crate::web::session::create(store.pool(), user_id).await?;
    let cookie = format!("{}={secret}", crate::web::session::SESSION_COOKIE);

    let pool = store.pool();
    let consultation =
        lists::consultations(pool, &ConsultationFilter::default(), false, 1, None, false)
            .await?
            .rows
            .first()
            .map(|c| c.id.0);
    let action = lists::actions(pool, &ActionFilter::default(), 1, None, false)
        .await?
        .rows
        .first()
        .map(|a| a.id.0);
    let organisation = lists::organisations(pool, &StakeholderFilter::default(), 1, None, false)
        .await?
        .rows
        .first()
        .map(|o| o.id.0);
    let mut paths: Vec<(String, String)> = [
        "/healthz",
        "/",
        "/?region=all",
        "/consultations",
        "/consultations?region=all&q=%D8%A7%D9%84%D8%AA%D8%B5%D8%AF%D9%8A%D8%B1",
        "/board",
        "/reminders",
        "/stakeholders",
        "/stakeholders?q=fes",
        "/audit",
        "/meetings/new",
    ]
    .iter()
    .map(|p| ((*p).to_owned(), (*p).to_owned()))
    .collect();
    if let Some(id) = consultation {
        for page in [
            "/consultations/{id}",
            "/meetings/{id}/participants",
            "/meetings/{id}/agreements",
        ] {
            paths.push((page.to_owned(), page.replace("{id}", &id.to_string())));
        }
    }
    if let Some(id) = action {
        paths.push(("/actions/{id}".to_owned(), format!("/actions/{id}")));
    }
    if let Some(id) = organisation {
        paths.push((
            "/stakeholders/organisations/{id}".to_owned(),
            format!("/stakeholders/organisations/{id}"),
        ));
    }

    let mut timings = Vec::new();
    for (page, path) in paths {
        let mut latencies = Vec::with_capacity(samples);
        let mut failures = 0;
        for i in 0..samples.saturating_add(3) {
            let request = Request::get(&path)
                .header(header::COOKIE, &cookie)
                .header(header::ACCEPT_LANGUAGE, "ar")
                .body(Body::empty())?;
            let started = Instant::now();
            let response = app.router.clone().oneshot(request).await?;
            let status = response.status();
            let body = axum::body::to_bytes(response.into_body(), 16 * 1024 * 1024).await;
            let elapsed = started.elapsed();
            if status != StatusCode::OK || body.is_err() {
                failures += 1;
            }
            // The first three warm the statement caches and the state cache.
            if i >= 3 {
                latencies.push(elapsed);
            }
        }
        latencies.sort();
        timings.push(PageTiming {
            page,
            p50_ms: percentile(&latencies, 0.50),
            p99_ms: percentile(&latencies, 0.99),
            failures,
        });
    }
    store.close().await;
    Ok(timings)
}

/// The sample count of a run.
pub fn samples(quick: bool) -> usize {
    if quick {
        30
    } else {
        300
    }
}

/// Most a page may take, server time, at the 99th percentile.
pub const PAGE_P99_TARGET: Duration = Duration::from_millis(50);
