//! Assembles the service: store with read models, GraphQL schema, HTTP routes; and serves it
//! within connection limits ([`ConnectionLimits`]) with graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;

use crate::graphql::{self, ApiState};
use crate::http::metrics::Metrics;
pub use crate::http::serve::ConnectionLimits;
use crate::http::{self as edge, HttpState, Limits};
use crate::projections::ReadModels;
use crate::seeds;
use crate::store::{Store, StoreConfig};

/// How to build the service.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// `sqlite://FILE` or `postgres://...`.
    pub database_url: String,
    /// Apply the built-in seeds when the log is empty.
    pub seed_if_empty: bool,
    /// HTTP limits.
    pub limits: Limits,
    /// Let anonymous clients read the read models (never the log or contact details).
    pub public_read: bool,
    /// Bounds on open connections and on how long they may stay idle.
    pub connections: ConnectionLimits,
    /// When set, `/metrics` answers only requests with `Authorization: Bearer <token>`.
    pub metrics_token: Option<String>,
    /// When set, a checkpoint is signed every so many events (see [`crate::checkpoint`]).
    pub checkpoints: Option<crate::checkpoint::Schedule>,
    /// Mark the web app's cookies `Secure` (see [`crate::web::WebState::secure_cookies`]).
    pub secure_cookies: bool,
    /// Refuse every write and start none of the writer's side jobs (see [`crate::snapshot`]):
    /// no seeding, no checkpoints, mutations and forms refused.
    pub read_only: bool,
    /// How long `asOf` waits for a record being prepared (at most half the request timeout)
    /// before it answers `UNAVAILABLE` with when to ask again.
    pub as_of_wait: std::time::Duration,
    /// Answer `asOf` from a history of the log that this process keeps following (see
    /// [`crate::history`]); without it, each position asked is a copy and replay of the log.
    pub as_of_history: bool,
    /// Where that history is kept across restarts (see [`crate::time_travel::Snapshots::with_history`]);
    /// `None`: beside a SQLite database file ([`crate::history::kept_beside`]) unless
    /// `read_only`, not kept with PostgreSQL.
    pub as_of_history_dir: Option<std::path::PathBuf>,
}

impl AppConfig {
    /// Defaults for `database_url`: no seeding, default limits.
    pub fn new(database_url: impl Into<String>) -> Self {
        AppConfig {
            database_url: database_url.into(),
            seed_if_empty: false,
            limits: Limits::default(),
            public_read: false,
            connections: ConnectionLimits::default(),
            metrics_token: None,
            checkpoints: None,
            secure_cookies: false,
            read_only: false,
            as_of_wait: crate::graphql::DEFAULT_AS_OF_WAIT,
            as_of_history: true,
            as_of_history_dir: None,
        }
    }
}

/// The built service.
pub struct App {
    /// The routes, ready to serve.
    pub router: Router,
    /// The store behind them.
    pub store: Store,
    /// The connection limits [`serve`] applies.
    pub connections: ConnectionLimits,
}

/// Opens the store (migrations applied), seeds an empty log if asked, and builds the routes.
pub async fn build(config: AppConfig) -> anyhow::Result<App> {
    let mut store_config = StoreConfig::new(&config.database_url);
    store_config.projector = Some(Arc::new(ReadModels));
    let store = Store::open(store_config)
        .await
        .context("opening the store")?;
    if config.seed_if_empty && !config.read_only && store.head().await?.position == 0 {
        let report = seeds::apply(&store, &seeds::embedded()).await?;
        tracing::info!(
            files = report.files,
            events = report.appended,
            "seeded an empty store"
        );
    }
    if let Some(schedule) = config.checkpoints.as_ref().filter(|_| !config.read_only) {
        crate::checkpoint::spawn_every(&store, schedule.signer.clone(), schedule.every);
    }
    let metrics = Arc::new(Metrics::default());
    let mut api = ApiState::new(store.clone(), metrics.clone());
    // Answered before the request's own deadline, which would say only LIMIT_EXCEEDED.
    api.as_of_wait = config.as_of_wait.min(config.limits.request_timeout / 2);
    if config.as_of_history {
        let kept = match &config.as_of_history_dir {
            Some(dir) => Some(dir.clone()),
            // Read-only writes nothing beside the file it serves (a snapshot may sit on
            // read-only media): its history lives in the temporary directory.
            None if config.read_only => None,
            None => store
                .database_file()
                .await?
                .map(|file| crate::history::kept_beside(&file)),
        };
        api.snapshots = crate::time_travel::Snapshots::with_history(store.clone(), kept);
    }
    // The sockets' token watch shares the subscriptions' feed hub: one check per token and head.
    let feed = api.feed.clone();
    let mut schema = graphql::builder(api);
    if config.read_only {
        schema = schema.extension(crate::snapshot::ReadOnly);
    }
    let schema = schema.finish();
    // One failure limiter for bearer tokens and web sign-ins: both are guesses at a secret.
    let failures: Arc<crate::http::guard::FailureLimiter> = Default::default();
    let web = crate::web::router(crate::web::WebState {
        store: store.clone(),
        failures: failures.clone(),
        secure_cookies: config.secure_cookies,
        timeout: config.limits.request_timeout,
    });
    let web = if config.read_only {
        web.layer(axum::middleware::from_fn(
            crate::snapshot::refuse_web_writes,
        ))
    } else {
        web
    };
    let router = edge::router(HttpState {
        schema,
        store: store.clone(),
        metrics,
        limits: config.limits,
        public_read: config.public_read,
        failures,
        metrics_token: config.metrics_token.map(Arc::from),
        open_data: Default::default(),
        feed,
    })
    .merge(web);
    Ok(App {
        router,
        store,
        connections: config.connections,
    })
}

/// Serves until SIGTERM or Ctrl-C within the app's connection limits, then lets in-flight
/// requests finish.
pub async fn serve(app: App, addr: SocketAddr) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    // The address bound (the port chosen, for `:0`).
    let addr = listener.local_addr().unwrap_or(addr);
    let limits = app.connections;
    tracing::info!(
        %addr,
        max_connections = limits.max_connections,
        header_timeout_secs = limits.header_timeout.as_secs(),
        idle_timeout_secs = limits.idle_timeout.as_secs(),
        "serving the web app at /, GraphQL at /graphql (GraphiQL in a browser), subscriptions at /graphql/ws"
    );
    // A writer that stopped (it survives a panicking batch, so this is never expected) leaves a
    // process that can read but never write: `/readyz` says so at once, and the process stops
    // with an error, so that its supervisor starts a new one.
    let writer_stopped = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop = {
        let writer = app.store.writer_stopped();
        let flag = writer_stopped.clone();
        async move {
            tokio::select! {
                _ = shutdown_signal() => {}
                _ = writer => {
                    flag.store(true, std::sync::atomic::Ordering::SeqCst);
                    tracing::error!("the writer stopped: shutting down to be restarted");
                }
            }
        }
    };
    crate::http::serve::serve(listener, app.router, limits, stop).await;
    app.store.close().await;
    if writer_stopped.load(std::sync::atomic::Ordering::SeqCst) {
        anyhow::bail!("the writer stopped; exiting so that a supervisor restarts the service");
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
