//! `/simulator/traffic`: generated traffic runs.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use crate::envelope::reply;
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::state::AppState;

/// Starts a run; answers it with its id.
pub(super) async fn start(State(state): State<AppState>, body: JsonBody) -> Result<Response, ApiError> {
    let run = state.simulator.start_traffic(&body.0).await?;
    Ok(reply(StatusCode::CREATED, &state.meta, json!({ "traffic": [run] })))
}

/// The latest runs.
pub(super) async fn list(State(state): State<AppState>) -> Result<Response, ApiError> {
    let runs = state.simulator.traffic_runs().await?;
    Ok(reply(StatusCode::OK, &state.meta, json!({ "traffic": runs })))
}

/// One run and its progress.
pub(super) async fn show(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let run = state.simulator.traffic(&id).await?;
    Ok(reply(StatusCode::OK, &state.meta, json!({ "traffic": [run] })))
}

/// Stops a run.
pub(super) async fn stop(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let run = state.simulator.stop_traffic(&id).await?;
    Ok(reply(StatusCode::OK, &state.meta, json!({ "traffic": [run] })))
}
