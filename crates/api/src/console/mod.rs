//! The web console at `/console` (issue 22): its pages, embedded in the
//! binary and served without credentials (they hold no data), and its
//! session (`session.rs`). Everything the pages show or do is a call to the
//! documented API; the session only lets a browser make those calls without
//! the page ever holding the token.

pub mod assets;
pub mod session;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};
use wabiz_domain::WaError;
use wabiz_domain::users::Principal;

use crate::envelope::reply;
use crate::error::ApiError;
use crate::extract::Auth;
use crate::openapi::ApiRouter;
use crate::schemas::console as described;
use crate::state::AppState;

pub fn routes() -> ApiRouter {
    ApiRouter::new()
        .get("/console", assets::page, "The web console")
        .answers_binary()
        .described(described::page())
        .get("/console/assets/{file}", assets::file, "The web console's scripts and styles")
        .answers_binary()
        .described(described::asset())
        .post("/console/session", open, "Keep this token in the console's cookie (HttpOnly, SameSite=Strict)")
        .described(described::open())
        .get("/console/session", show, "The console session: who is signed in, and the CSRF value")
        .described(described::show())
        .delete("/console/session", close, "Sign out: revoke the session's token and remove the cookie")
        .described(described::close())
}

/// `POST /console/session` with `Authorization: Bearer <token>` (what
/// `POST /v1/users/login` gave): the token moves into the cookie.
async fn open(State(state): State<AppState>, Auth(me): Auth, headers: HeaderMap) -> Result<Response, ApiError> {
    let token =
        bearer(&headers).ok_or_else(|| WaError::unauthenticated("Send the token as `Authorization: Bearer`"))?;
    let mut res = reply(StatusCode::CREATED, &state.meta, json!({ "session": session_json(&me, token) }));
    set_cookie(&mut res, Some(token), &state);
    Ok(res)
}

/// `GET /console/session`: a (re)loaded page learns whether it is signed in,
/// as whom, and its CSRF value; `session: null` when not (not a 401: asking
/// is how the page starts).
async fn show(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let session = match session::cookie_token(&headers) {
        Some(token) => match state.users.authenticate_bearer(token).await {
            Ok(me) => session_json(&me, token),
            Err(_) => Value::Null,
        },
        None => Value::Null,
    };
    reply(StatusCode::OK, &state.meta, json!({ "session": session }))
}

/// `DELETE /console/session`: the token is revoked, as by logout, and the cookie removed.
async fn close(State(state): State<AppState>, Auth(me): Auth) -> Result<Response, ApiError> {
    state.users.logout(&me).await?;
    let mut res = reply(StatusCode::OK, &state.meta, json!({}));
    set_cookie(&mut res, None, &state);
    Ok(res)
}

/// A session as the page sees it: who, with which role, and its CSRF value.
fn session_json(me: &Principal, token: &str) -> Value {
    json!({ "username": me.username, "role": me.role.as_str(), "csrf": session::csrf_of(token) })
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    crate::auth::authorization(headers)
        .filter(|(scheme, token)| *scheme == "Bearer" && !token.is_empty())
        .map(|(_, t)| t)
}

fn set_cookie(res: &mut Response, token: Option<&str>, state: &AppState) {
    let value = session::set_cookie(token, state.links.scheme == "https");
    if let Ok(v) = axum::http::HeaderValue::from_str(&value) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res.headers_mut().insert(header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
}
