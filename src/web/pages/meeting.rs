//! The meeting pages (being built).

use axum::Router;

use crate::web::WebState;

/// This area's routes.
pub fn routes() -> Router<WebState> {
    Router::new()
}
