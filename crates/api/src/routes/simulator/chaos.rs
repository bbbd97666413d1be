//! `GET|PUT /simulator/chaos` and `POST /simulator/chaos/next`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use crate::envelope::reply;
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::state::AppState;

/// The chaos settings, the forced outcomes waiting, and how many messages
/// were planned since the last `PUT`.
pub(super) async fn show(State(state): State<AppState>) -> Response {
    reply(StatusCode::OK, &state.meta, json!({ "chaos": state.simulator.chaos() }))
}

/// Replaces every chaos setting; `{}` turns chaos off.
pub(super) async fn replace(State(state): State<AppState>, body: JsonBody) -> Result<Response, ApiError> {
    let chaos = state.simulator.replace_chaos(&body.0)?;
    Ok(reply(StatusCode::OK, &state.meta, json!({ "chaos": chaos })))
}

/// The next `count` messages get exactly `outcome`.
pub(super) async fn next(State(state): State<AppState>, body: JsonBody) -> Result<Response, ApiError> {
    let answer = state.simulator.force_outcomes(&body.0)?;
    Ok(reply(StatusCode::OK, &state.meta, answer))
}
