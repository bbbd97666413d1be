//! Turning failures into On-Premises error responses.
//!
//! Handlers and extractors return [`ApiError`]. Its `IntoResponse` cannot see
//! the application state (where `meta` lives), so it only sets the status and
//! attaches the error to the response; [`render_pending_error`], called by the
//! outer middleware with the state, writes the envelope and logs server-side failures in one place.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use wabiz_domain::ports::StoreError;
use wabiz_domain::{ErrorCode, WaError};

use crate::state::AppState;

/// A failed request.
#[derive(Debug)]
pub enum ApiError {
    /// An On-Premises error, rendered in the envelope.
    Wa(WaError),
    /// Login with bad Basic credentials: 401, empty body, `WWW-Authenticate`.
    BasicChallenge,
}

impl From<WaError> for ApiError {
    fn from(e: WaError) -> Self {
        ApiError::Wa(e)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::Wa(e.into())
    }
}

/// The error waiting in a response's extensions for [`render_pending_error`].
#[derive(Clone)]
struct PendingError(Arc<WaError>);

/// Marks a response whose body must stay as it is (the Basic challenge).
#[derive(Clone, Copy)]
struct Verbatim;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::BasicChallenge => {
                let mut r = StatusCode::UNAUTHORIZED.into_response();
                r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"Secured\""));
                r.extensions_mut().insert(Verbatim);
                r
            }
            ApiError::Wa(e) => {
                let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                let mut r = status.into_response();
                r.extensions_mut().insert(PendingError(Arc::new(e)));
                r
            }
        }
    }
}

/// The code to use when something outside our handlers produced an error
/// status without an envelope (a framework rejection).
fn fallback_error(status: StatusCode) -> WaError {
    let e = match status {
        StatusCode::NOT_FOUND => WaError::path_not_found(),
        StatusCode::METHOD_NOT_ALLOWED => WaError::method_not_allowed(),
        StatusCode::PAYLOAD_TOO_LARGE => WaError::invalid("Request content is too large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE | StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => {
            WaError::new(ErrorCode::InvalidRequest, "The request is not valid")
        }
        StatusCode::UNAUTHORIZED => WaError::unauthenticated("Missing or invalid authentication credentials"),
        StatusCode::FORBIDDEN => WaError::forbidden("User doesn't have permission"),
        StatusCode::TOO_MANY_REQUESTS => WaError::bare(ErrorCode::TooManyRequests),
        StatusCode::SERVICE_UNAVAILABLE => WaError::bare(ErrorCode::SystemOverloaded),
        _ => WaError::bare(ErrorCode::InternalError),
    };
    e.with_status(status.as_u16())
}

/// Writes the envelope of an error response and logs server-side failures;
/// other responses pass unchanged.
pub fn render_pending_error(state: &AppState, mut res: Response) -> Response {
    let pending = res.extensions_mut().remove::<PendingError>();
    let err = match pending {
        Some(PendingError(e)) => e,
        None => {
            let s = res.status();
            let is_json =
                res.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
            if (s.is_client_error() || s.is_server_error()) && !is_json && res.extensions().get::<Verbatim>().is_none()
            {
                Arc::new(fallback_error(s))
            } else {
                return res;
            }
        }
    };
    if res.status().is_server_error() {
        tracing::error!(status = res.status().as_u16(), error = %err, "request failed");
    } else {
        // Codes only: the details of a refusal may echo what was sent (a PIN,
        // a password), which must not reach the log.
        let codes: Vec<u16> = err.errors.iter().map(|e| e.code.code()).collect();
        tracing::debug!(status = res.status().as_u16(), codes = ?codes, "request refused");
    }
    let body = serde_json::json!({ "meta": state.meta.to_value(), "errors": err.errors });
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    res.headers_mut().remove(header::CONTENT_LENGTH);
    *res.body_mut() = Body::from(bytes);
    res
}

/// A handler panicked: answer 500/1014 (the panic is logged; the process lives on).
pub fn panic_response(err: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let msg = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = %msg, "a request handler panicked");
    ApiError::Wa(WaError::internal("An unexpected error occurred while handling the request")).into_response()
}
