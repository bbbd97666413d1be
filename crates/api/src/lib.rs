//! The HTTP edge of wabiz: the On-Premises `/v1` routes, the access rules and
//! authentication every route goes through, and the response envelope.
//!
//! Handlers only extract, call one domain service (or, for `/simulator/*`, the
//! simulator's `SimulatorControl`) and shape the answer; no SQL, no retries,
//! no spawning here.
//!
//! Order of processing, as in the Webapp: routing (404/405, even without a
//! token) → authentication (401) → role (403) → body decoding (400/1025) →
//! handler.

mod auth;
pub mod client_ip;
mod console;
mod envelope;
mod error;
mod extract;
mod metrics;
mod middleware;
mod openapi;
mod routes;
mod schemas;
mod snapshot;
mod state;

pub use envelope::Meta;
pub use error::ApiError;
pub use metrics::WebMetrics;
pub use snapshot::node_snapshot;
pub use state::{AppServices, AppState, InFlight, Limits, PublicLinks, SupportInfo};

use axum::Router;
use axum::extract::Request;
use axum::response::Response;
use std::convert::Infallible;
use std::sync::Arc;
use tower::util::BoxCloneSyncService;
use tower::{ServiceBuilder, ServiceExt as _};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::normalize_path::NormalizePathLayer;
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};

/// The whole HTTP application as one service, ready to be served.
pub type HttpService = BoxCloneSyncService<Request, Response, Infallible>;

/// The router with every route, fallback and the authentication layer.
pub fn router(state: AppState) -> Router {
    let (routes, document) =
        routes::router(state.groups_enabled, state.reactions_enabled, state.cloud_webhooks.is_some()).finish();
    let document = routes::ApiDocument(Arc::from(document.to_json().unwrap_or_default()));
    routes
        // Runs only for matched routes, so unknown paths (404) and unrouted
        // methods (405) are answered before any credential is looked at.
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), middleware::guard_route))
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .layer(axum::Extension(document))
        .with_state(state)
}

/// The complete service: request ids, logging, the error envelope, panic
/// catching and trailing-slash normalisation around the router.
pub fn service(state: AppState) -> HttpService {
    let router = router(state.clone());
    let svc = ServiceBuilder::new()
        .layer(SetRequestIdLayer::x_request_id(middleware::HexRequestId))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(axum::middleware::from_fn_with_state(state, middleware::around_request))
        .layer(CatchPanicLayer::custom(error::panic_response))
        .layer(NormalizePathLayer::trim_trailing_slash())
        .service(router);
    BoxCloneSyncService::new(svc.map_response(axum::response::IntoResponse::into_response))
}
