//! Request ids and request logging.

use std::time::Instant;

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tower_http::request_id::{MakeRequestId, RequestId};
use tracing::Instrument;

use crate::state::InFlight;

/// Generates the 32-hex-character `X-Request-ID` of requests that carry none.
#[derive(Clone, Copy, Default)]
pub struct HexRequestId;

impl MakeRequestId for HexRequestId {
    fn make_request_id<B>(&mut self, _req: &axum::http::Request<B>) -> Option<RequestId> {
        let mut raw = [0u8; 16];
        getrandom::fill(&mut raw).ok()?;
        HeaderValue::from_str(&wabiz_domain::hex::encode(&raw)).ok().map(RequestId::new)
    }
}

/// Counts the request as in flight, runs it inside a span that carries its id, and logs one line when
/// it completes: DEBUG normally (a line per request at INFO would cost the hot
/// path dearly), WARN for server errors.
pub async fn log_requests(State(in_flight): State<Arc<InFlight>>, req: Request, next: Next) -> Response {
    let _counted = in_flight.enter();
    let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-").to_owned();
    let method = req.method().clone();
    // The path only: query strings (webhook secrets, say) stay out of the log.
    let path = req.uri().path().to_owned();
    let span = tracing::info_span!("request", request_id = %id);
    let started = Instant::now();
    let res = next.run(req).instrument(span.clone()).await;
    let _enter = span.enter();
    let status = res.status().as_u16();
    let micros = started.elapsed().as_micros() as u64;
    if res.status().is_server_error() {
        tracing::warn!(%method, path, status, micros, "request completed");
    } else {
        tracing::debug!(%method, path, status, micros, "request completed");
    }
    res
}
