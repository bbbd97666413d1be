//! `/v1/certificates/*`: the HTTPS listener's certificate and its CA, and the
//! extra CA certificates the webhook client trusts (`certificates.md`).

use crate::openapi::ApiRouter;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use wabiz_domain::certificates::MAX_PEM_BYTES;
use wabiz_domain::{ErrorCode, WaError};

use crate::envelope::reply;
use crate::error::ApiError;
use crate::extract::read_raw_body;
use crate::state::AppState;

pub fn routes() -> ApiRouter {
    ApiRouter::new()
        .post("/v1/certificates/external", upload_external, "Upload the listener's certificate, key and CA (PEM)")
        .takes_binary("text/plain")
        .described(crate::schemas::v1::upload_certificate())
        .get("/v1/certificates/external/ca", external_ca, "The CA certificate of the listener (PEM)")
        .answers_binary()
        .described(crate::schemas::v1::ca_certificate())
        .get("/v1/certificates/webhooks/ca", webhook_ca, "The CA trusted for webhook receivers (PEM)")
        .answers_binary()
        .described(crate::schemas::v1::ca_certificate())
        .post("/v1/certificates/webhooks/ca", upload_webhook_ca, "Trust a CA for webhook receivers (PEM)")
        .takes_binary("text/plain")
        .described(crate::schemas::v1::upload_webhook_ca())
        .delete("/v1/certificates/webhooks/ca", delete_webhook_ca, "Stop trusting the uploaded webhook CA")
        .described(crate::schemas::v1::delete_webhook_ca())
}

fn too_large() -> WaError {
    WaError::invalid(format!("Request content exceeds size of {MAX_PEM_BYTES} bytes"))
}

/// A PEM text body; anything that is not UTF-8 cannot be a certificate.
async fn pem_body(req: Request) -> Result<String, WaError> {
    let bytes = read_raw_body(req, MAX_PEM_BYTES, too_large).await?;
    String::from_utf8(bytes.to_vec()).map_err(|_| WaError::invalid("Invalid certificate"))
}

fn pem_download(pem: String, filename: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/plain".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename={filename}")),
        ],
        pem,
    )
        .into_response()
}

async fn upload_external(State(state): State<AppState>, req: Request) -> Result<Response, ApiError> {
    let pem = pem_body(req).await?;
    state.certificates.install(&pem).await?;
    Ok(reply(StatusCode::CREATED, &state.meta, json!({})))
}

async fn external_ca(State(state): State<AppState>) -> Result<Response, ApiError> {
    match state.certificates.ca_pem() {
        Some(pem) => Ok(pem_download(pem, "ca.pem")),
        None => Err(WaError::not_found("External CA cert file not found").into()),
    }
}

async fn webhook_ca(State(state): State<AppState>) -> Result<Response, ApiError> {
    match state.settings.webhook_ca() {
        Some(pem) => Ok(pem_download(pem.to_string(), "webhookCaCerts.pem")),
        None => Err(WaError::not_found("Webhook CA certificate not found").into()),
    }
}

/// The Webapp's checks first (empty body, then `Content-Type`), then the
/// certificates themselves.
async fn upload_webhook_ca(State(state): State<AppState>, req: Request) -> Result<Response, ApiError> {
    let declared_empty = req.headers().get(header::CONTENT_LENGTH).is_some_and(|v| v.as_bytes() == b"0");
    if declared_empty {
        return Err(WaError::new(ErrorCode::RequiredParameterMissing, "No cert data found").into());
    }
    let is_text = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("text/plain"));
    let pem = pem_body(req).await?;
    if pem.is_empty() {
        return Err(WaError::new(ErrorCode::RequiredParameterMissing, "No cert data found").into());
    }
    if !is_text {
        return Err(WaError::invalid("Content-Type must be text/plain").into());
    }
    state.settings.set_webhook_ca(&pem).await?;
    Ok(reply(StatusCode::OK, &state.meta, json!({})))
}

async fn delete_webhook_ca(State(state): State<AppState>) -> Result<Response, ApiError> {
    state.settings.delete_webhook_ca().await?;
    Ok(reply(StatusCode::OK, &state.meta, json!({})))
}
