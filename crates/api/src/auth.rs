//! Authentication and the access table, applied to every routed request.

use axum::extract::Request;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use wabiz_domain::WaError;
use wabiz_domain::access::{Access, required_access};
use wabiz_domain::users::{API_USERNAME, Principal, Role};

use crate::error::ApiError;
use crate::state::AppState;

/// Looks the route up in the access table, authenticates the caller (bearer
/// token, API key, or the console's cookie with its CSRF check), checks the role and hands the principal to the handler
/// (in the request's extensions). `Err` is the refusal to answer with.
pub async fn authorize(state: &AppState, req: &mut Request) -> Result<(), Response> {
    let required = match required_access(req.method().as_str(), req.uri().path()) {
        Access::Public | Access::Basic => return Ok(()),
        Access::Role(r) => r,
    };
    let principal = match (stream_token(state, req), console_cookie(req)) {
        (Some(found), _) => found,
        (None, Some(token)) => match crate::console::session::check_csrf(req.method(), req.headers(), token) {
            Ok(()) => state.users.authenticate_bearer(token).await,
            Err(e) => Err(e),
        },
        (None, None) => principal(state, req.headers()).await,
    }
    .map_err(|e| ApiError::from(e).into_response())?;
    if !principal.role.includes(required) {
        return Err(ApiError::from(WaError::forbidden("User doesn't have permission")).into_response());
    }
    req.extensions_mut().insert(principal);
    Ok(())
}

/// The event stream also opens with a stream token in its query (browsers'
/// `EventSource` cannot send headers); only there, and only without an
/// `Authorization` header. `None`: not such a request.
fn stream_token(state: &AppState, req: &Request) -> Option<Result<Principal, WaError>> {
    if req.uri().path() != EVENT_STREAM || req.headers().contains_key(header::AUTHORIZATION) {
        return None;
    }
    let token = req.uri().query()?.split('&').find_map(|pair| pair.strip_prefix("token="))?;
    let events = state.simulator.events();
    Some(match events.tokens().check(token, events.now_millis()) {
        Some(username) => Ok(Principal { username, role: Role::Admin, token_digest: None }),
        None => Err(WaError::unauthenticated("Invalid or expired stream token")),
    })
}

/// The console's session cookie, when the request has no `Authorization`
/// header (a header, when there is one, is what authenticates).
fn console_cookie(req: &Request) -> Option<&str> {
    if req.headers().contains_key(header::AUTHORIZATION) {
        return None;
    }
    crate::console::session::cookie_token(req.headers())
}

/// The one route a stream token opens.
pub(crate) const EVENT_STREAM: &str = "/simulator/events";

/// The `Authorization` header as (scheme, credential). The scheme word is
/// compared case-sensitively; the credential is the text after the first space.
pub(crate) fn authorization(headers: &HeaderMap) -> Option<(&str, &str)> {
    headers.get(header::AUTHORIZATION)?.to_str().ok()?.split_once(' ')
}

async fn principal(state: &AppState, headers: &HeaderMap) -> Result<Principal, WaError> {
    let missing = || WaError::unauthenticated("Missing or invalid authentication credentials");
    let (scheme, credential) = authorization(headers).ok_or_else(missing)?;
    match scheme {
        "Bearer" => state.users.authenticate_bearer(credential).await,
        "Apikey" => match &state.api_key {
            Some(key) if key.matches(credential) => {
                Ok(Principal { username: API_USERNAME.to_owned(), role: Role::Api, token_digest: None })
            }
            _ => Err(WaError::unauthenticated("Invalid credentials.")),
        },
        _ => Err(missing()),
    }
}
