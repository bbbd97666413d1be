//! `POST /v1/contacts`: contact checks (`contacts.md`): v2.43+ answers by default,
//! the legacy ones with `--contacts-legacy-validation`.

use crate::openapi::ApiRouter;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use crate::envelope::reply;
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::state::AppState;

pub fn routes() -> ApiRouter {
    ApiRouter::new()
        .post("/v1/contacts", check_contacts, "Check which numbers are on WhatsApp")
        .described(crate::schemas::v1::contacts())
        .get("/v1/contacts/{wa_id}/identity", identity, "A customer's security identity")
        .described(crate::schemas::v1::identity())
        .put("/v1/contacts/{wa_id}/identity", acknowledge_identity, "Acknowledge a customer's new security identity")
        .described(crate::schemas::v1::acknowledge_identity())
}

/// The customer's identity as last recorded (`contacts.md` §4).
async fn identity(State(state): State<AppState>, Path(wa_id): Path<String>) -> Result<Response, ApiError> {
    let identity = state.contacts.identity(&wa_id).await?;
    Ok(reply(StatusCode::OK, &state.meta, identity))
}

/// Acknowledges the customer's current identity (`{"hash": …}`); sends to the
/// customer go through again.
async fn acknowledge_identity(
    State(state): State<AppState>,
    Path(wa_id): Path<String>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    state.contacts.acknowledge_identity(&wa_id, &body.0).await?;
    Ok(reply(StatusCode::OK, &state.meta, json!({})))
}

/// Numbers written without a country code are read in the business number's
/// country, so a check needs a registered number.
async fn check_contacts(State(state): State<AppState>, body: JsonBody) -> Result<Response, ApiError> {
    let results = state.contacts.check(&body.0).await?;
    Ok(reply(StatusCode::OK, &state.meta, json!({ "contacts": results })))
}
