//! `GET /openapi.json` (the OpenAPI document of every route, built from the
//! router itself: see `crate::openapi`) and `GET /docs` (Swagger UI, served
//! from files compiled into the binary, so it works offline).

use std::sync::Arc;

use axum::Extension;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use utoipa_swagger_ui::Config;

use crate::error::ApiError;
use crate::openapi::ApiRouter;
use wabiz_domain::WaError;

/// The document, serialised once at start.
#[derive(Clone)]
pub struct ApiDocument(pub Arc<str>);

pub fn routes() -> ApiRouter {
    ApiRouter::new()
        .get("/openapi.json", document, "This OpenAPI document")
        .described(crate::schemas::wabiz::openapi())
        .get("/docs", docs_root, "Interactive API documentation (Swagger UI)")
        .answers_binary()
        .described(crate::schemas::wabiz::docs())
        .get("/docs/{*file}", docs_file, "Swagger UI's files")
        .answers_binary()
        .described(crate::schemas::wabiz::docs_file())
}

async fn document(Extension(doc): Extension<ApiDocument>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], doc.0.to_string()).into_response()
}

/// Swagger UI loads its files relative to the page, so the page must be
/// addressed by a path inside `/docs/` (trailing slashes are trimmed here).
async fn docs_root() -> Redirect {
    Redirect::to("/docs/index.html")
}

async fn docs_file(Path(file): Path<String>) -> Result<Response, ApiError> {
    let config = Arc::new(Config::from("/openapi.json"));
    match utoipa_swagger_ui::serve(&file, config) {
        Ok(Some(f)) => {
            let mut r =
                (StatusCode::OK, [(header::CONTENT_TYPE, f.content_type)], f.bytes.into_owned()).into_response();
            if f.gzpipped {
                r.headers_mut().insert(header::CONTENT_ENCODING, header::HeaderValue::from_static("gzip"));
            }
            Ok(r)
        }
        Ok(None) => Err(WaError::path_not_found().into()),
        Err(e) => {
            tracing::error!(error = %e, "cannot serve the API documentation");
            Err(WaError::internal("The API documentation cannot be served").into())
        }
    }
}
