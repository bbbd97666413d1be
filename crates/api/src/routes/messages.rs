//! `/v1/messages`: send, and mark as read (`messages.md`).

use crate::openapi::ApiRouter;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;
use wabiz_domain::messages::Sent;

use crate::envelope::{Meta, reply};
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::state::AppState;

/// `reactions`: whether `--enable-reactions` lets `reaction` messages through (the document says so).
pub fn routes(reactions: bool) -> ApiRouter {
    ApiRouter::new()
        .post("/v1/messages", send, "Send a message")
        .described(crate::schemas::messages::send(reactions))
        .delete("/v1/messages", delete_stored, "Delete stored messages older than `age` seconds or `before` a time")
        .described(crate::schemas::v1::delete_stored_messages())
        .put("/v1/messages/{id}", mark_read, "Mark an inbound message as read")
        .described(crate::schemas::v1::mark_read())
        .get("/v1/messages/{id}", no_op, "Routed by the Webapp, does nothing")
        .described(crate::schemas::v1::message_no_op())
        .delete("/v1/messages/{id}", no_op, "Routed by the Webapp, does nothing")
        .described(crate::schemas::v1::message_no_op())
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
    Ok((StatusCode::CREATED, Json(SendReply::new(&sent, &state.meta))).into_response())
}

/// The 201 of a send, serialised from its parts rather than through a
/// `Value` tree built for every send (issue 7). The fields are in the order
/// the envelope's map prints them, so the text is the same as [`reply`]'s
/// (a test compares them).
#[derive(Serialize)]
struct SendReply<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    contacts: Option<[ContactItem<'a>; 1]>,
    messages: [MessageItem<'a>; 1],
    meta: MetaItem<'a>,
}

#[derive(Serialize)]
struct ContactItem<'a> {
    input: &'a str,
    wa_id: &'a str,
}

#[derive(Serialize)]
struct MessageItem<'a> {
    id: &'a str,
}

#[derive(Serialize)]
struct MetaItem<'a> {
    api_status: &'a str,
    version: &'a str,
}

impl<'a> SendReply<'a> {
    fn new(sent: &'a Sent, meta: &'a Meta) -> Self {
        Self {
            contacts: sent.contact.as_ref().map(|(input, wa_id)| [ContactItem { input, wa_id }]),
            messages: [MessageItem { id: &sent.id }],
            meta: MetaItem { api_status: meta.api_status, version: &meta.version },
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The typed 201 prints exactly what the `Value` envelope printed.
    #[tokio::test]
    async fn the_send_reply_is_the_envelope_text() {
        let meta = Meta::new("v2.53.1");
        for contact in [None, Some(("+1 631-555-1234".to_owned(), "16315551234".to_owned()))] {
            let sent = Sent { id: "gBEGkYiEB1VXAglK1ZEqA1YKPrU".into(), contact: contact.clone() };
            let mut payload = json!({ "messages": [ { "id": sent.id } ] });
            if let Some((input, wa_id)) = &contact {
                payload["contacts"] = json!([ { "input": input, "wa_id": wa_id } ]);
            }
            let old = axum::body::to_bytes(reply(StatusCode::CREATED, &meta, payload).into_body(), 4096).await.unwrap();
            let new = serde_json::to_vec(&SendReply::new(&sent, &meta)).unwrap();
            assert_eq!(String::from_utf8_lossy(&new), String::from_utf8_lossy(&old));
        }
    }
}
