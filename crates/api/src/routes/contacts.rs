//! `POST /v1/contacts`: contact checks (`contacts.md`): v2.43+ answers by default,
//! the legacy ones with `--contacts-legacy-validation`.

use crate::openapi::ApiRouter;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use crate::envelope::reply;
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::state::AppState;

pub fn routes() -> ApiRouter {
    ApiRouter::new().post("/v1/contacts", check_contacts, "Check which numbers are on WhatsApp")
}

/// Numbers written without a country code are read in the business number's
/// country, so a check needs a registered number.
async fn check_contacts(State(state): State<AppState>, body: JsonBody) -> Result<Response, ApiError> {
    let results = state.contacts.check(&body.0).await?;
    Ok(reply(StatusCode::OK, &state.meta, json!({ "contacts": results })))
}
