//! Every route wabiz serves, one module per area.

mod account;
mod callbacks;
mod certificates;
mod contacts;
mod groups;
mod health;
mod media;
mod messages;
mod public;
mod services;
mod settings;
mod simulator;
mod stats;
mod support;
mod users;

use axum::Router;
use axum::routing::get;

use crate::error::ApiError;
use crate::state::AppState;
use wabiz_domain::WaError;

/// Every route; the groups API only when `groups` (not `--disable-groups`).
pub fn router(groups: bool) -> Router<AppState> {
    let router = Router::new()
        .route("/", get(health::root))
        .route("/v1/health", get(health::health))
        .route("/v1/support", get(support::support))
        .route("/pps/{file}", get(public::photo))
        .merge(users::routes())
        .merge(settings::routes())
        .merge(certificates::routes())
        .merge(account::routes())
        .merge(contacts::routes())
        .merge(media::routes())
        .merge(messages::routes())
        .merge(simulator::routes())
        .merge(callbacks::routes())
        .merge(stats::routes())
        .merge(services::routes());
    if groups { router.merge(groups::routes()) } else { router }
}

/// Unknown path: 404/1006 `URL path not found`, whoever asks.
pub async fn not_found() -> ApiError {
    WaError::path_not_found().into()
}

/// Known path, method not routed: 405/1014 without details.
pub async fn method_not_allowed() -> ApiError {
    WaError::method_not_allowed().into()
}
