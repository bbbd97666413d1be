//! `/v1/groups…` (`groups.md`), and the simulator's invite-link join. Not
//! routed at all with `--disable-groups` (404/1006).

use crate::openapi::ApiRouter;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use wabiz_domain::settings::photo::{MAX_UPLOAD_BYTES, photo_id};

use super::settings::image_upload;
use crate::envelope::reply;
use crate::error::ApiError;
use crate::extract::{FormatQuery, JsonBody};
use crate::state::AppState;

pub fn routes() -> ApiRouter {
    ApiRouter::new()
        .get("/v1/groups", list, "The groups the business is in")
        .described(crate::schemas::v1::list_groups())
        .post("/v1/groups", create, "Create a group")
        .described(crate::schemas::v1::create_group())
        .get("/v1/groups/{id}", info, "A group: subject, creation time, admins, participants")
        .described(crate::schemas::v1::group_info())
        .put("/v1/groups/{id}", set_subject, "Change a group's subject")
        .described(crate::schemas::v1::set_group_subject())
        .get("/v1/groups/{id}/invite", invite, "The group's invite link")
        .described(crate::schemas::v1::group_invite())
        .delete("/v1/groups/{id}/invite", revoke, "Revoke the invite link")
        .described(crate::schemas::v1::group_done())
        .post("/v1/groups/{id}/leave", leave, "Leave a group")
        .described(crate::schemas::v1::group_done())
        .get("/v1/groups/{id}/icon", icon, "The group icon (image, or `?format=link`)")
        .answers_binary()
        .described(crate::schemas::v1::group_icon())
        .post("/v1/groups/{id}/icon", set_icon, "Set the group icon (raw image body)")
        .takes_binary("image/jpeg")
        .described(crate::schemas::v1::set_group_icon())
        .delete("/v1/groups/{id}/icon", delete_icon, "Remove the group icon")
        .described(crate::schemas::v1::group_done())
        .body_limit("/v1/groups/{id}/icon", MAX_UPLOAD_BYTES + 64 * 1024)
        .patch("/v1/groups/{id}/admins", promote, "Promote participants to admins")
        .described(crate::schemas::v1::group_members())
        .delete("/v1/groups/{id}/admins", demote, "Demote admins")
        .described(crate::schemas::v1::group_members())
        .delete("/v1/groups/{id}/participants", remove, "Remove participants")
        .described(crate::schemas::v1::group_members())
        .get("/pps/groups/{id}/{file}", super::public::group_icon, "A group icon's public link")
        .answers_binary()
        .described(crate::schemas::wabiz::group_icon())
        .post("/simulator/groups/join", join, "A simulated customer joins a group through its invite link")
        .described(crate::schemas::simulator::join_group())
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

/// The icon's bytes, or with `?format=link` a public link to them (served
/// without credentials at `/pps/groups/{id}/<sha256>.<ext>` while current).
async fn icon(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<FormatQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let icon = state.groups.icon(&id).await?;
    if q.format.as_deref() == Some("link") {
        let ext = if icon.content_type == "image/png" { "png" } else { "jpg" };
        let link = format!("{}/pps/groups/{id}/{}.{ext}", state.links.base(&headers), photo_id(&icon.bytes));
        return Ok(reply(StatusCode::OK, &state.meta, json!({ "groups": [{ "icon": { "link": link } }] })));
    }
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
    let id = state.simulator.join_group(&body.0).await?;
    Ok(reply(StatusCode::OK, &state.meta, json!({ "groups": [{ "id": id }] })))
}
