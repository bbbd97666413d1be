//! `/v1/groups…` (`groups.md`), and the simulator's invite-link join. Not
//! routed at all with `--disable-groups` (404/1006).

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use wabiz_domain::settings::photo::MAX_UPLOAD_BYTES;

use super::settings::image_upload;
use crate::envelope::reply;
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/groups", get(list).post(create))
        .route("/v1/groups/{id}", get(info).put(set_subject))
        .route("/v1/groups/{id}/invite", get(invite).delete(revoke))
        .route("/v1/groups/{id}/leave", post(leave))
        .route(
            "/v1/groups/{id}/icon",
            get(icon).post(set_icon).delete(delete_icon).layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES + 64 * 1024)),
        )
        .route("/v1/groups/{id}/admins", axum::routing::patch(promote).delete(demote))
        .route("/v1/groups/{id}/participants", axum::routing::delete(remove))
        .route("/simulator/groups/join", post(join))
}

fn ok(state: &AppState) -> Response {
    reply(StatusCode::OK, &state.meta, json!({}))
}

async fn list(State(state): State<AppState>) -> Result<Response, ApiError> {
    let groups: Vec<_> =
        state.groups.list().await?.into_iter().map(|(id, t)| json!({ "creation_time": t, "id": id })).collect();
    Ok(reply(StatusCode::OK, &state.meta, json!({ "groups": groups })))
}

async fn create(State(state): State<AppState>, body: JsonBody) -> Result<Response, ApiError> {
    let (id, t) = state.groups.create(&body.0).await?;
    Ok(reply(StatusCode::OK, &state.meta, json!({ "groups": [{ "creation_time": t, "id": id }] })))
}

async fn info(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let g = state.groups.get(&id).await?;
    let item = json!({
        "admins": g.admins, "creation_time": g.creation_time, "creator": g.creator,
        "participants": g.participants, "subject": g.subject,
    });
    Ok(reply(StatusCode::OK, &state.meta, json!({ "groups": [item] })))
}

async fn set_subject(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    state.groups.set_subject(&id, &body.0).await?;
    Ok(ok(&state))
}

async fn invite(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let link = state.groups.invite_link(&id).await?;
    Ok(reply(StatusCode::OK, &state.meta, json!({ "groups": [{ "link": link }] })))
}

async fn revoke(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    state.groups.revoke_invite(&id).await?;
    Ok(ok(&state))
}

async fn leave(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    state.groups.leave(&id).await?;
    Ok(ok(&state))
}

async fn set_icon(State(state): State<AppState>, Path(id): Path<String>, req: Request) -> Result<Response, ApiError> {
    let bytes = image_upload(&state, req).await?;
    state.groups.set_icon(&id, bytes).await?;
    Ok(reply(StatusCode::CREATED, &state.meta, json!({})))
}

async fn icon(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let icon = state.groups.icon(&id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, icon.content_type),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"groupIcon.jpg\""),
        ],
        icon.bytes,
    )
        .into_response())
}

async fn delete_icon(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    state.groups.delete_icon(&id).await?;
    Ok(ok(&state))
}

async fn promote(State(state): State<AppState>, Path(id): Path<String>, body: JsonBody) -> Result<Response, ApiError> {
    state.groups.set_admins(&id, &body.0, true).await?;
    Ok(ok(&state))
}

async fn demote(State(state): State<AppState>, Path(id): Path<String>, body: JsonBody) -> Result<Response, ApiError> {
    state.groups.set_admins(&id, &body.0, false).await?;
    Ok(ok(&state))
}

async fn remove(State(state): State<AppState>, Path(id): Path<String>, body: JsonBody) -> Result<Response, ApiError> {
    state.groups.remove_participants(&id, &body.0).await?;
    Ok(ok(&state))
}

/// A simulated customer joins through the invite link.
async fn join(State(state): State<AppState>, body: JsonBody) -> Result<Response, ApiError> {
    let id = state.groups.join(&body.0).await?;
    Ok(reply(StatusCode::OK, &state.meta, json!({ "groups": [{ "id": id }] })))
}
