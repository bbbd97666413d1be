//! `GET /` (unauthenticated liveness) and `GET /v1/health` (`health-stats.md` §2).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;
use wabiz_domain::WaError;

use crate::envelope::reply;
use crate::error::ApiError;
use crate::state::AppState;

/// Liveness for load balancers and orchestrators: 200, no token needed.
pub async fn root(State(state): State<AppState>) -> Response {
    reply(StatusCode::OK, &state.meta, json!({}))
}

/// The single-instance health document. The gateway status comes from the
/// network backend; if the database cannot be reached the node cannot work,
/// so the answer is 500/1014, as the Webapp answered when its Coreapp was down.
pub async fn health(State(state): State<AppState>) -> Result<Response, ApiError> {
    if let Err(e) = state.store.ping().await {
        tracing::error!(error = %e, "health: the database does not answer");
        return Err(WaError::internal("Communication failure: the database does not answer").into());
    }
    let status = state.network.gateway_status();
    Ok(reply(StatusCode::OK, &state.meta, json!({ "health": { "gateway_status": status.as_str() } })))
}
