//! `GET|POST /relay/webhook`: where Meta calls the Cloud relay
//! (`--network cloud`). Its contract is Meta's (the verification handshake,
//! signed event POSTs); it is routed, and described, only in relay mode.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use wabiz_domain::WaError;
use wabiz_domain::error::ErrorCode;
use wabiz_domain::relay::WebhookRefusal;

use crate::envelope::reply;
use crate::error::ApiError;
use crate::openapi::ApiRouter;
use crate::state::AppState;

pub fn routes() -> ApiRouter {
    ApiRouter::new()
        .get("/relay/webhook", handshake, "Meta's verification handshake of the Cloud relay's webhook")
        .answers_binary()
        .described(crate::schemas::wabiz::relay_handshake())
        .post("/relay/webhook", receive, "Meta's signed webhook events for the Cloud relay")
        .described(crate::schemas::wabiz::relay_events())
}

/// The handshake's query (`hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`).
#[derive(Debug, Deserialize)]
pub struct Handshake {
    #[serde(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    verify_token: Option<String>,
    #[serde(rename = "hub.challenge")]
    challenge: Option<String>,
}

/// Answers the handshake with the challenge, as plain text, when the verify
/// token matches; 403 otherwise.
pub async fn handshake(State(state): State<AppState>, Query(q): Query<Handshake>) -> Result<Response, ApiError> {
    let hooks = state.cloud_webhooks.as_ref().ok_or_else(WaError::path_not_found)?;
    match hooks.handshake(q.mode.as_deref(), q.verify_token.as_deref(), q.challenge.as_deref()) {
        Some(challenge) => Ok((
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8"), (header::X_CONTENT_TYPE_OPTIONS, "nosniff")],
            challenge,
        )
            .into_response()),
        None => Err(WaError::forbidden("The verify token does not match").into()),
    }
}

/// Takes an event POST: 200 once what it reports is stored.
pub async fn receive(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    let hooks = state.cloud_webhooks.as_ref().ok_or_else(WaError::path_not_found)?;
    let signature = headers.get("x-hub-signature-256").and_then(|v| v.to_str().ok());
    match hooks.receive(signature, &body).await {
        Ok(()) => Ok(reply(StatusCode::OK, &state.meta, json!({}))),
        Err(WebhookRefusal::Signature(why)) => {
            tracing::warn!(why = %why, "relay: a webhook POST was refused for its signature");
            Err(WaError::unauthenticated("The X-Hub-Signature-256 header does not match the body").into())
        }
        Err(WebhookRefusal::Malformed) => Err(WaError::invalid("The webhook body is not JSON").into()),
        Err(WebhookRefusal::Store(e)) => {
            Err(WaError::new(ErrorCode::SystemOverloaded, "The webhook could not be stored; Meta sends it again")
                .with_cause(e)
                .into())
        }
    }
}
