//! `/v1/settings*`: application settings, media providers, profile, business
//! profile, two-step verification, backup and restore (`settings.md`,
//! `registration.md` §4). The access table limits all of it to the admin.

use crate::openapi::ApiRouter;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use wabiz_domain::WaError;
use wabiz_domain::settings::PatchOutcome;
use wabiz_domain::settings::photo::{MAX_UPLOAD_BYTES, photo_id};
use wabiz_domain::settings::service::wrap;

use crate::envelope::reply;
use crate::error::ApiError;
use crate::extract::{FormatQuery, JsonBody, JsonValue, read_raw_body};
use crate::state::AppState;

pub fn routes() -> ApiRouter {
    ApiRouter::new()
        .get("/v1/settings/application", get_application, "The application settings")
        .described(crate::schemas::v1::application_settings())
        .patch("/v1/settings/application", patch_application, "Change application settings")
        .described(crate::schemas::v1::patch_application_settings())
        .delete("/v1/settings/application", reset_application, "Reset the application settings to their defaults")
        .described(crate::schemas::settings::reset_application())
        .get("/v1/settings/application/media/providers", get_providers, "The media providers")
        .described(crate::schemas::settings::providers())
        .post("/v1/settings/application/media/providers", post_provider, "Add or update media providers")
        .described(crate::schemas::settings::add_providers())
        .delete("/v1/settings/application/media/providers/{name}", delete_provider, "Delete a media provider")
        .described(crate::schemas::settings::delete_provider())
        .get("/v1/settings/profile/about", get_about, "The profile's about text")
        .described(crate::schemas::settings::about())
        .patch("/v1/settings/profile/about", patch_about, "Change the profile's about text")
        .described(crate::schemas::settings::set_about())
        .get("/v1/settings/profile/photo", get_photo, "The profile photo (image, or `?format=link`)")
        .answers_binary()
        .described(crate::schemas::settings::photo())
        .post("/v1/settings/profile/photo", post_photo, "Set the profile photo (raw image or multipart form)")
        .takes_binary("image/jpeg")
        .described(crate::schemas::settings::set_photo())
        .delete("/v1/settings/profile/photo", delete_photo, "Remove the profile photo")
        .described(crate::schemas::settings::delete_photo())
        // The multipart form's overhead on top of the largest photo.
        .body_limit("/v1/settings/profile/photo", MAX_UPLOAD_BYTES + 64 * 1024)
        .get("/v1/settings/business/profile", get_business, "The business profile")
        .described(crate::schemas::settings::business_profile())
        .post("/v1/settings/business/profile", post_business, "Change the business profile")
        .described(crate::schemas::settings::set_business_profile())
        .post("/v1/settings/account/two-step", enable_two_step, "Enable two-step verification")
        .described(crate::schemas::settings::enable_two_step())
        .delete("/v1/settings/account/two-step", disable_two_step, "Disable two-step verification")
        .described(crate::schemas::settings::disable_two_step())
        .post("/v1/settings/backup", backup, "Back up the settings, encrypted with a password")
        .described(crate::schemas::settings::backup())
        .post("/v1/settings/restore", restore, "Restore settings from a backup")
        .described(crate::schemas::settings::restore())
}

fn ok(state: &AppState) -> Response {
    reply(StatusCode::OK, &state.meta, json!({}))
}

/// A change of application settings: `meta` only, plus, in strict restart
/// mode, the keys that wait for a restart (a wabiz extension header).
fn changed(state: &AppState, outcome: PatchOutcome) -> Response {
    let mut res = ok(state);
    if state.strict_restart
        && !outcome.pending_restart.is_empty()
        && let Ok(v) = HeaderValue::from_str(&outcome.pending_restart.join(","))
    {
        res.headers_mut().insert("x-wabiz-restart-required", v);
    }
    res
}

async fn get_application(State(state): State<AppState>) -> Response {
    let app = state.settings.application_json().await;
    reply(StatusCode::OK, &state.meta, wrap(&["settings", "application"], app))
}

async fn patch_application(State(state): State<AppState>, JsonValue(body): JsonValue) -> Result<Response, ApiError> {
    let outcome = state.settings.patch_application(&body).await?;
    Ok(changed(&state, outcome))
}

async fn reset_application(State(state): State<AppState>) -> Result<Response, ApiError> {
    let outcome = state.settings.reset_application().await?;
    Ok(changed(&state, outcome))
}

async fn get_providers(State(state): State<AppState>) -> Result<Response, ApiError> {
    let list = state.settings.media_providers().await?;
    let list = serde_json::to_value(list).map_err(|e| WaError::internal(e.to_string()))?;
    Ok(reply(StatusCode::OK, &state.meta, wrap(&["settings", "application", "media", "providers"], list)))
}

async fn post_provider(State(state): State<AppState>, JsonValue(body): JsonValue) -> Result<Response, ApiError> {
    state.settings.add_media_provider(&body).await?;
    Ok(ok(&state))
}

async fn delete_provider(State(state): State<AppState>, Path(name): Path<String>) -> Result<Response, ApiError> {
    state.settings.delete_media_provider(&name).await?;
    Ok(ok(&state))
}

async fn get_about(State(state): State<AppState>) -> Result<Response, ApiError> {
    let text = state.settings.about().await?;
    Ok(reply(StatusCode::OK, &state.meta, wrap(&["settings", "profile", "about"], json!({ "text": text }))))
}

async fn patch_about(State(state): State<AppState>, body: JsonBody) -> Result<Response, ApiError> {
    state.settings.set_about(body.get("text")).await?;
    Ok(ok(&state))
}

async fn get_photo(
    State(state): State<AppState>,
    Query(q): Query<FormatQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(jpeg) = state.settings.photo().await? else {
        return Err(WaError::not_found("Profile photo not found").into());
    };
    if q.format.as_deref() == Some("link") {
        let link = format!("{}/pps/{}.jpg", state.links.base(&headers), photo_id(&jpeg));
        return Ok(reply(
            StatusCode::OK,
            &state.meta,
            wrap(&["settings", "profile", "photo"], json!({ "link": link })),
        ));
    }
    Ok((
        [
            (header::CONTENT_TYPE, "image/jpeg"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"profilePicture.jpg\""),
        ],
        jpeg,
    )
        .into_response())
}

fn photo_too_large() -> WaError {
    WaError::invalid(format!("Photo size too large. Max allowed size: {MAX_UPLOAD_BYTES} bytes"))
}

/// The raw body is the image; a `multipart/form-data` upload (the Postman
/// collection's form) gives its `File` part, or else its first file part.
async fn post_photo(State(state): State<AppState>, req: Request) -> Result<Response, ApiError> {
    let bytes = image_upload(&state, req).await?;
    state.settings.set_photo(bytes).await?;
    Ok(reply(StatusCode::CREATED, &state.meta, json!({})))
}

/// An uploaded image (profile photo, group icon): the raw body, or the first
/// file of a `multipart/form-data` form (the Postman collection's way); under
/// 5 MB.
pub(crate) async fn image_upload(state: &AppState, req: Request) -> Result<Vec<u8>, WaError> {
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    let bytes = if is_multipart {
        multipart_file(Multipart::from_request(req, state).await.map_err(|_| WaError::invalid("Invalid image"))?)
            .await?
    } else {
        read_raw_body(req, MAX_UPLOAD_BYTES, photo_too_large).await?.to_vec()
    };
    if bytes.len() >= MAX_UPLOAD_BYTES {
        return Err(photo_too_large());
    }
    Ok(bytes)
}

async fn multipart_file(mut form: Multipart) -> Result<Vec<u8>, WaError> {
    let mut first: Option<Vec<u8>> = None;
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            // Past the route's body limit, or a malformed form.
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(photo_too_large()),
            Err(_) => return Err(WaError::invalid("Invalid image")),
        };
        let is_file_part = field.name() == Some("File");
        let has_filename = field.file_name().is_some();
        let data = field.bytes().await.map_err(|_| photo_too_large())?;
        if is_file_part {
            return Ok(data.to_vec());
        }
        if has_filename && first.is_none() {
            first = Some(data.to_vec());
        }
    }
    first.ok_or_else(|| WaError::new(wabiz_domain::ErrorCode::RequiredParameterMissing, "No data found"))
}

async fn delete_photo(State(state): State<AppState>) -> Result<Response, ApiError> {
    state.settings.delete_photo().await?;
    Ok(ok(&state))
}

async fn get_business(State(state): State<AppState>) -> Result<Response, ApiError> {
    let profile = state.settings.business_profile().await?;
    Ok(reply(StatusCode::OK, &state.meta, wrap(&["settings", "business", "profile"], profile.to_json())))
}

async fn post_business(State(state): State<AppState>, JsonValue(body): JsonValue) -> Result<Response, ApiError> {
    let body = if body.is_null() { json!({}) } else { body };
    state.settings.update_business_profile(&body).await?;
    Ok(ok(&state))
}

async fn enable_two_step(State(state): State<AppState>, body: JsonBody) -> Result<Response, ApiError> {
    state.settings.enable_two_step(body.get("pin")).await?;
    Ok(ok(&state))
}

async fn disable_two_step(State(state): State<AppState>) -> Result<Response, ApiError> {
    state.settings.disable_two_step().await?;
    Ok(ok(&state))
}

async fn backup(State(state): State<AppState>, body: JsonBody) -> Result<Response, ApiError> {
    let data = state.settings.backup(body.get("password")).await?;
    Ok(reply(StatusCode::OK, &state.meta, json!({ "settings": { "data": data } })))
}

async fn restore(State(state): State<AppState>, req: Request) -> Result<Response, ApiError> {
    let body = JsonBody::from_request(req, &state).await?;
    state.settings.restore(body.get("password"), body.get("data")).await?;
    Ok(ok(&state))
}
