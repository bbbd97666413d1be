//! Unauthenticated public links (`/pps/*`): the profile photo and group icons.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use wabiz_domain::WaError;
use wabiz_domain::settings::photo::photo_id;

use crate::error::ApiError;
use crate::state::AppState;

/// `GET /pps/<sha256>.jpg`: the current profile photo, if the link is current.
pub async fn photo(State(state): State<AppState>, Path(file): Path<String>) -> Result<Response, ApiError> {
    let not_found = || ApiError::from(WaError::not_found("Profile photo not found"));
    let id = file.strip_suffix(".jpg").ok_or_else(not_found)?;
    let jpeg = state.settings.photo().await?.ok_or_else(not_found)?;
    if photo_id(&jpeg) != id {
        return Err(not_found());
    }
    Ok(([(header::CONTENT_TYPE, "image/jpeg")], jpeg).into_response())
}

/// `GET /pps/groups/{id}/<sha256>.<ext>`: a group's icon, if the link is current.
pub async fn group_icon(
    State(state): State<AppState>,
    Path((id, file)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::from(WaError::not_found("Group icon not found"));
    let hash = file.strip_suffix(".jpg").or_else(|| file.strip_suffix(".png")).ok_or_else(not_found)?;
    let icon = state.groups.icon(&id).await.map_err(|_| not_found())?;
    if photo_id(&icon.bytes) != hash {
        return Err(not_found());
    }
    Ok(([(header::CONTENT_TYPE, icon.content_type)], icon.bytes).into_response())
}
