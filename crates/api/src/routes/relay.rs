//! `GET|POST /relay/webhook`: where Meta calls the Cloud relay
//! (`--network cloud`). Not part of the `/v1` API nor of its description:
//! its contract is Meta's (the verification handshake, signed event POSTs).
//! Without the relay the path does not exist (404).

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
use crate::state::AppState;

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
