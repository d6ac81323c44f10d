//! Assembles the service: store with read models, GraphQL schema, HTTP routes; and serves it
//! with graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;

use crate::graphql::{self, ApiState};
use crate::http::metrics::Metrics;
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
}

impl AppConfig {
    /// Defaults for `database_url`: no seeding, default limits.
    pub fn new(database_url: impl Into<String>) -> Self {
        AppConfig {
            database_url: database_url.into(),
            seed_if_empty: false,
            limits: Limits::default(),
            public_read: false,
        }
    }
}

/// The built service.
pub struct App {
    /// The routes, ready to serve.
    pub router: Router,
    /// The store behind them.
    pub store: Store,
}

/// Opens the store (migrations applied), seeds an empty log if asked, and builds the routes.
pub async fn build(config: AppConfig) -> anyhow::Result<App> {
    let mut store_config = StoreConfig::new(&config.database_url);
    store_config.projector = Some(Arc::new(ReadModels));
    let store = Store::open(store_config)
        .await
        .context("opening the store")?;
    if config.seed_if_empty && store.head().await?.position == 0 {
        let report = seeds::apply(&store, &seeds::embedded()).await?;
        tracing::info!(
            files = report.files,
            events = report.appended,
            "seeded an empty store"
        );
    }
    let metrics = Arc::new(Metrics::default());
    let schema = graphql::schema(ApiState {
        store: store.clone(),
        metrics: metrics.clone(),
    });
    let router = edge::router(HttpState {
        schema,
        store: store.clone(),
        metrics,
        limits: config.limits,
        public_read: config.public_read,
        failures: Default::default(),
    });
    Ok(App { router, store })
}

/// Serves until SIGTERM or Ctrl-C, then lets in-flight requests finish.
pub async fn serve(app: App, addr: SocketAddr) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    tracing::info!(%addr, "serving GraphQL at /graphql (GraphiQL in a browser), subscriptions at /graphql/ws");
    let service = app
        .router
        .into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("serving")?;
    app.store.close().await;
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
