//! The web app's pages, one module per area; each declares its routes.

pub mod audit;
pub mod board;
pub mod consultations;
pub mod dashboard;
pub mod meeting;
pub mod stakeholders;

use axum::Router;

use super::WebState;

/// Every page's routes (the dashboard at `/` is routed by [`super::router`]).
pub fn routes() -> Router<WebState> {
    Router::new()
        .merge(consultations::routes())
        .merge(meeting::routes())
        .merge(board::routes())
        .merge(stakeholders::routes())
        .merge(audit::routes())
}
