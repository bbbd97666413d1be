//! `POST /v1/contacts`: contact checks (`contacts.md`), with v2.43+ semantics.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use serde_json::json;
use wabiz_domain::contacts::{check, country_code_of, parse_check};
use wabiz_domain::{ErrorCode, WaError};

use crate::envelope::reply;
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/v1/contacts", post(check_contacts))
}

/// Numbers written without a country code are read in the business number's
/// country, so a check needs a registered number.
async fn check_contacts(State(state): State<AppState>, body: JsonBody) -> Result<Response, ApiError> {
    let req = parse_check(&body.0)?;
    let Some(number) = state.network.registered_number() else {
        return Err(WaError::new(ErrorCode::ServiceNotReady, "Service not ready").into());
    };
    let results = check(&req, country_code_of(&number));
    Ok(reply(StatusCode::OK, &state.meta, json!({ "contacts": results })))
}
