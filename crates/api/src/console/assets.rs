//! The console's files, compiled into the binary (nothing is fetched from
//! elsewhere, so the console works offline): one page, one style sheet and
//! a few JavaScript modules, plain HTML, JavaScript and CSS with no build
//! step.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use wabiz_domain::WaError;

use crate::error::ApiError;

const INDEX: &str = include_str!("../../console/index.html");

const SCRIPT: &str = "text/javascript; charset=utf-8";

/// Every file under `/console/assets/`: its name, content and type.
const FILES: [(&str, &str, &str); 8] = [
    ("console.css", include_str!("../../console/console.css"), "text/css; charset=utf-8"),
    ("console.js", include_str!("../../console/console.js"), SCRIPT),
    ("api.js", include_str!("../../console/api.js"), SCRIPT),
    ("chats.js", include_str!("../../console/chats.js"), SCRIPT),
    ("health.js", include_str!("../../console/health.js"), SCRIPT),
    ("settings.js", include_str!("../../console/settings.js"), SCRIPT),
    ("templates.js", include_str!("../../console/templates.js"), SCRIPT),
    ("webhooks.js", include_str!("../../console/webhooks.js"), SCRIPT),
];

/// The page's own rules for the browser: only this origin's scripts,
/// styles and connections; never framed (clickjacking).
const POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// `GET /console`.
pub async fn page() -> Response {
    serve(INDEX, "text/html; charset=utf-8")
}

/// `GET /console/assets/{file}`.
pub async fn file(Path(name): Path<String>) -> Result<Response, ApiError> {
    match FILES.iter().find(|(file, _, _)| *file == name) {
        Some((_, body, content_type)) => Ok(serve(body, content_type)),
        None => Err(WaError::not_found(format!("No console file {name}")).into()),
    }
}

fn serve(body: &'static str, content_type: &'static str) -> Response {
    let mut res = (StatusCode::OK, body).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(POLICY));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    // The files change with the binary: revalidate rather than keep a stale one.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    res
}
