//! `PUT /v1/services/message/gc` and `/v1/services/media/gc` (`services.md`):
//! start a garbage-collection pass, answer `processing`; the outcome comes by
//! webhook. `POST` is accepted the same way (Recommended).

use crate::openapi::ApiRouter;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;
use wabiz_domain::gc::GcKind;

use crate::envelope::reply;
use crate::state::AppState;

pub fn routes() -> ApiRouter {
    ApiRouter::new()
        .put("/v1/services/message/gc", messages, "Collect stored messages (result by webhook)")
        .described(crate::schemas::v1::garbage_collection("message"))
        .post("/v1/services/message/gc", messages, "Collect stored messages (result by webhook)")
        .described(crate::schemas::v1::garbage_collection("message"))
        .put("/v1/services/media/gc", media, "Collect media unused for 30 days (result by webhook)")
        .described(crate::schemas::v1::garbage_collection("media"))
        .post("/v1/services/media/gc", media, "Collect media unused for 30 days (result by webhook)")
        .described(crate::schemas::v1::garbage_collection("media"))
}

fn start(state: &AppState, kind: GcKind) -> Response {
    state.gc.start(kind);
    reply(StatusCode::OK, &state.meta, json!({ "services": { kind.key(): { "gc": { "status": "processing" } } } }))
}

async fn messages(State(state): State<AppState>) -> Response {
    start(&state, GcKind::Messages)
}

async fn media(State(state): State<AppState>) -> Response {
    start(&state, GcKind::Media)
}
