//! wabiz's own control API of the simulated network (`/simulator/*`, admin
//! only, same envelope). Documented in the README.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};

use crate::envelope::reply;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/simulator/registration", get(registration))
}

/// The registration state and the code the simulated "SMS" carried.
async fn registration(State(state): State<AppState>) -> Response {
    let pending = state.network.pending_registration().map_or(Value::Null, |p| {
        json!({
            "number": p.number,
            "method": p.method,
            "code": p.code,
            "attempts_left": p.attempts_left,
            "expires_at": p.expires_at,
        })
    });
    let body = json!({
        "registration": {
            "wa_id": state.network.registered_number(),
            "gateway_status": state.network.gateway_status().as_str(),
            "pending": pending,
        }
    });
    reply(StatusCode::OK, &state.meta, body)
}
