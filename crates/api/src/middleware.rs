//! Request ids and request logging.

use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tower_http::request_id::{MakeRequestId, RequestId};
use tracing::Instrument;

use crate::auth::authorize;
use crate::error::render_pending_error;
use crate::metrics::Timer;
use crate::state::AppState;

/// Generates the 32-hex-character `X-Request-ID` of requests that carry none.
#[derive(Clone, Copy, Default)]
pub struct HexRequestId;

impl MakeRequestId for HexRequestId {
    fn make_request_id<B>(&mut self, _req: &axum::http::Request<B>) -> Option<RequestId> {
        // The thread's CSPRNG: no system call per request.
        let mut raw = [0u8; 16];
        rand::Rng::fill_bytes(&mut rand::rng(), &mut raw);
        HeaderValue::from_str(&wabiz_domain::hex::encode(&raw)).ok().map(RequestId::new)
    }
}

/// The outer middleware of every request: counts it as in flight, runs it
/// inside a span that carries its id, writes the error envelope of a refusal
/// ([`render_pending_error`]) and logs one line when it completes: DEBUG
/// normally (a line per request at INFO would cost the hot path dearly), WARN
/// for server errors. One layer rather than one per concern: every `from_fn`
/// layer boxes the request's future and clones the service inside it.
pub async fn around_request(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let _counted = state.in_flight.enter();
    let span = match req.headers().get("x-request-id").and_then(|v| v.to_str().ok()) {
        Some(id) => tracing::info_span!("request", request_id = %id),
        None => tracing::info_span!("request", request_id = "-"),
    };
    let method = req.method().clone();
    // The path only: query strings (webhook secrets, say) stay out of the log.
    let path = req.uri().path().to_owned();
    let started = Instant::now();
    let res = next.run(req).instrument(span.clone()).await;
    let _enter = span.enter();
    let res = render_pending_error(&state, res);
    let status = res.status().as_u16();
    let micros = started.elapsed().as_micros() as u64;
    if res.status().is_server_error() {
        tracing::warn!(%method, path, status, micros, "request completed");
    } else {
        tracing::debug!(%method, path, status, micros, "request completed");
    }
    res
}

/// The middleware of every routed request: times it and authenticates the
/// caller ([`authorize`]); timed outside authentication, so that refusals
/// (401/403) are counted too.
pub async fn guard_route(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let timer = Timer::start(&req);
    let res = match authorize(&state, &mut req).await {
        Ok(()) => next.run(req).await,
        Err(refusal) => refusal,
    };
    timer.finish(&state.web, res)
}
