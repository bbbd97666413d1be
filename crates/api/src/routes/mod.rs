//! Every route wabiz serves, one module per area.

mod account;
mod callbacks;
mod certificates;
mod contacts;
mod docs;
mod groups;
pub(crate) mod health;
mod media;
mod messages;
mod public;
pub(crate) mod relay;
mod services;
mod settings;
mod simulator;
pub(crate) mod stats;
pub(crate) mod support;
mod users;

pub use docs::ApiDocument;

use crate::error::ApiError;
use crate::openapi::ApiRouter;
use wabiz_domain::WaError;

/// Every route; the groups API only when `groups` (not `--disable-groups`),
/// the Cloud relay's webhook only when `relay` (`--network cloud`).
pub fn router(groups: bool, reactions: bool, relay: bool) -> ApiRouter {
    let router = ApiRouter::new()
        .get("/", health::root, "Liveness: 200 without credentials")
        .described(crate::schemas::wabiz::root())
        .get(
            "/ready",
            health::ready,
            "Readiness: 200 when the node can take traffic, 503 with the reasons, without credentials",
        )
        .described(crate::schemas::wabiz::ready())
        .get("/v1/health", health::health, "The node's health and gateway status")
        .described(crate::schemas::v1::health())
        .get("/v1/support", support::support, "Diagnostic facts about this installation")
        .described(crate::schemas::wabiz::support())
        .get("/pps/{file}", public::photo, "A public profile photo link")
        .answers_binary()
        .described(crate::schemas::wabiz::profile_photo())
        .merge(users::routes())
        .merge(crate::console::routes())
        .merge(settings::routes())
        .merge(certificates::routes())
        .merge(account::routes())
        .merge(contacts::routes())
        .merge(media::routes())
        .merge(messages::routes(reactions))
        .merge(simulator::views())
        .merge(if relay {
            simulator::controls().map_routes(|r| r.layer(axum::middleware::from_fn(simulator::not_on_the_relay)))
        } else {
            simulator::controls()
        })
        .merge(callbacks::routes())
        .merge(stats::routes())
        .merge(services::routes())
        .merge(docs::routes());
    let router = if groups { router.merge(groups::routes()) } else { router };
    if relay { router.merge(relay::routes()) } else { router }
}

/// Unknown path: 404/1006 `URL path not found`, whoever asks.
pub async fn not_found() -> ApiError {
    WaError::path_not_found().into()
}

/// Known path, method not routed: 405/1014 without details.
pub async fn method_not_allowed() -> ApiError {
    WaError::method_not_allowed().into()
}
