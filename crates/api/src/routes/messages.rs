//! `/v1/messages`: send, and mark as read (`messages.md`).

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
        .post("/v1/messages", send, "Send a message")
        .delete("/v1/messages", delete_stored, "Delete stored messages older than `age` seconds or `before` a time")
        .put("/v1/messages/{id}", mark_read, "Mark an inbound message as read")
        .get("/v1/messages/{id}", no_op, "Routed by the Webapp, does nothing")
        .delete("/v1/messages/{id}", no_op, "Routed by the Webapp, does nothing")
}

/// Bulk delete of stored messages older than `age` seconds or `before` a
/// Unix time (`services.md` §3a): 200 with `meta` only.
async fn delete_stored(State(state): State<AppState>, body: JsonBody) -> Result<Response, ApiError> {
    state.gc.delete_messages(&body.0).await?;
    Ok(reply(StatusCode::OK, &state.meta, json!({})))
}

/// 201 with the new id; `contacts` when the recipient was not written as its `wa_id`.
async fn send(State(state): State<AppState>, body: JsonBody) -> Result<Response, ApiError> {
    let sent = state.messages.send(&body.0).await?;
    let mut payload = json!({ "messages": [ { "id": sent.id } ] });
    if let Some((input, wa_id)) = sent.contact {
        payload["contacts"] = json!([ { "input": input, "wa_id": wa_id } ]);
    }
    Ok(reply(StatusCode::CREATED, &state.meta, payload))
}

async fn mark_read(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    state.messages.mark_read(&id, &body.0).await?;
    Ok(reply(StatusCode::OK, &state.meta, json!({})))
}

/// Routed in the Webapp, where they did nothing and answered 200.
async fn no_op(State(state): State<AppState>) -> Response {
    reply(StatusCode::OK, &state.meta, json!({}))
}
