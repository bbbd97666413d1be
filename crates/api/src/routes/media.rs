//! `/v1/media`: upload, download and delete (`media.md` §1–§3).

use crate::openapi::ApiRouter;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt as _;
use serde_json::json;
use tokio_util::io::ReaderStream;
use wabiz_domain::{ErrorCode, WaError};

use crate::envelope::reply;
use crate::error::ApiError;
use crate::state::AppState;

pub fn routes() -> ApiRouter {
    ApiRouter::new()
        .post("/v1/media", upload, "Upload a media file (raw body with its Content-Type)")
        .takes_binary("application/octet-stream")
        .described(crate::schemas::media::upload())
        .get("/v1/media/{id}", download, "Download a media file")
        .answers_binary()
        .described(crate::schemas::media::download())
        .delete("/v1/media/{id}", delete, "Delete a media file")
        .described(crate::schemas::media::delete())
}

/// The raw body is the file. It is streamed to disk as it arrives, so a
/// 100 MB upload costs a buffer, not 100 MB of memory.
async fn upload(State(state): State<AppState>, req: Request) -> Result<Response, ApiError> {
    let headers = req.headers();
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    let mut upload = state.media.begin_upload(content_type.as_deref(), declared).await?;
    let mut body = req.into_body();
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(frame) => {
                if let Some(data) = frame.data_ref() {
                    upload.push(data).await?;
                }
            }
            Err(_) => {
                upload.abort().await;
                return Err(WaError::new(ErrorCode::InvalidRequest, "The request body could not be read").into());
            }
        }
    }
    let id = state.media.finish_upload(upload).await?;
    Ok(reply(StatusCode::CREATED, &state.meta, json!({ "media": [ { "id": id } ] })))
}

async fn download(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let (record, file, len) = match state.media.open(&id).await {
        Ok(opened) => opened,
        // Not held here: the network may hold it (the Cloud relay's inbound media).
        Err(e) if e.code() == Some(ErrorCode::ResourceNotFound) => match state.network.remote_media(&id).await? {
            Some((mime, bytes)) => return Ok(remote_file(&id, mime, bytes)),
            None => return Err(e.into()),
        },
        Err(e) => return Err(e.into()),
    };
    let body = Body::from_stream(ReaderStream::new(file));
    // A stored type that cannot be a header value never turns a download into a 500.
    let mime = if axum::http::HeaderValue::from_str(&record.mime_type).is_ok() {
        record.mime_type
    } else {
        "application/octet-stream".to_owned()
    };
    Ok((
        [
            (header::CONTENT_TYPE, mime),
            (header::CONTENT_LENGTH, len.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename={}", record.id)),
        ],
        body,
    )
        .into_response())
}

/// A file the network fetched, answered as a stored one is.
fn remote_file(id: &str, mime: String, bytes: Vec<u8>) -> Response {
    let mime =
        if axum::http::HeaderValue::from_str(&mime).is_ok() { mime } else { "application/octet-stream".to_owned() };
    ([(header::CONTENT_TYPE, mime), (header::CONTENT_DISPOSITION, format!("attachment; filename={id}"))], bytes)
        .into_response()
}

async fn delete(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    state.media.delete(&id).await?;
    Ok(reply(StatusCode::OK, &state.meta, json!({})))
}
