//! `/v1/account*`: registration and shards (`registration.md` §1–§3). The
//! access table limits them to the admin.

use crate::openapi::ApiRouter;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;
use wabiz_domain::account::RegistrationAnswer;

use crate::envelope::reply;
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::state::AppState;

pub fn routes() -> ApiRouter {
    ApiRouter::new()
        .post("/v1/account", request_code, "Request a registration code (or learn the number is registered)")
        .described(crate::schemas::v1::request_code())
        .post("/v1/account/verify", verify, "Verify the registration code")
        .described(crate::schemas::v1::verify())
        .post("/v1/account/shards", set_shards, "Set the number of shards")
        .described(crate::schemas::v1::set_shards())
        .get("/v1/account/shards", get_shards, "The number of shards")
        .described(crate::schemas::v1::shards())
}

/// 202 with the verified name when a code was sent; 201 with `meta` only when
/// the number is already registered here.
async fn request_code(State(state): State<AppState>, body: JsonBody) -> Result<Response, ApiError> {
    Ok(match state.account.request_code(&body.0).await? {
        RegistrationAnswer::AlreadyRegistered => reply(StatusCode::CREATED, &state.meta, json!({})),
        RegistrationAnswer::CodeSent { vname } => {
            reply(StatusCode::ACCEPTED, &state.meta, json!({ "account": [ { "vname": vname } ] }))
        }
    })
}

async fn verify(State(state): State<AppState>, body: JsonBody) -> Result<Response, ApiError> {
    state.account.verify(&body.0).await?;
    Ok(reply(StatusCode::CREATED, &state.meta, json!({})))
}

async fn set_shards(State(state): State<AppState>, body: JsonBody) -> Result<Response, ApiError> {
    state.account.set_shards(&body.0).await?;
    Ok(reply(StatusCode::CREATED, &state.meta, json!({})))
}

async fn get_shards(State(state): State<AppState>) -> Result<Response, ApiError> {
    let shards = state.account.shards().await?;
    Ok(reply(StatusCode::OK, &state.meta, json!({ "account": { "shards": shards } })))
}
