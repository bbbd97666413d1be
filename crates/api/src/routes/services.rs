//! `PUT /v1/services/message/gc` and `/v1/services/media/gc` (`services.md`):
//! start a garbage-collection pass, answer `processing`; the outcome comes by
//! webhook. `POST` is accepted the same way (Recommended).

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::put;
use serde_json::json;
use wabiz_domain::gc::GcKind;

use crate::envelope::reply;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/services/message/gc", put(messages).post(messages))
        .route("/v1/services/media/gc", put(media).post(media))
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
