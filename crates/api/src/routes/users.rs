//! `/v1/users*`: login, logout and user management (`users-auth.md` §5–§10).

use crate::openapi::ApiRouter;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use wabiz_domain::WaError;
use wabiz_domain::users::LoginFailure;

use crate::envelope::reply;
use crate::error::ApiError;
use crate::extract::{Auth, ClientIp, JsonBody};
use crate::state::AppState;

pub fn routes() -> ApiRouter {
    ApiRouter::new()
        .post("/v1/users/login", login, "Log in with HTTP Basic credentials and get a token")
        .described(crate::schemas::v1::login())
        .post("/v1/users/logout", logout, "Revoke the token of this request")
        .described(crate::schemas::v1::logout())
        .post("/v1/users", create, "Create a user")
        .described(crate::schemas::v1::create_user())
        .get("/v1/users/{username}", read, "A user")
        .described(crate::schemas::v1::read_user())
        .put("/v1/users/{username}", update, "Change a user's password")
        .described(crate::schemas::v1::update_user())
        .delete("/v1/users/{username}", delete, "Delete a user")
        .described(crate::schemas::v1::delete_user())
}

impl From<LoginFailure> for ApiError {
    fn from(f: LoginFailure) -> Self {
        match f {
            LoginFailure::Challenge => ApiError::BasicChallenge,
            LoginFailure::Error(e) => ApiError::Wa(e),
        }
    }
}

/// `Authorization: Basic base64(user:password)`, if present and well formed.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// Credentials first (401 with an empty body), then the body (400/1025), then
/// the forced password change (1024), then `new_password`, then a token.
async fn login(State(state): State<AppState>, ClientIp(ip): ClientIp, req: Request) -> Result<Response, ApiError> {
    let user = state.users.authenticate_basic(ip, basic_credentials(req.headers())).await?;
    let body = match JsonBody::from_request(req, &state).await {
        Ok(b) => b,
        Err(e) => {
            // A 400, not a failed login.
            state.users.login_attempt_not_failed(ip);
            return Err(e);
        }
    };
    let new_password = match body.get("new_password") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            state.users.login_attempt_not_failed(ip);
            return Err(WaError::invalid_value("new_password", &other.to_string()).into());
        }
    };
    let issued = state.users.finish_login(ip, user, new_password).await?;
    Ok(reply(
        StatusCode::OK,
        &state.meta,
        json!({ "users": [ { "token": issued.token, "expires_after": issued.expires_after() } ] }),
    ))
}

async fn logout(State(state): State<AppState>, Auth(me): Auth) -> Result<Response, ApiError> {
    state.users.logout(&me).await?;
    Ok(reply(StatusCode::OK, &state.meta, json!({})))
}

async fn create(State(state): State<AppState>, ClientIp(ip): ClientIp, body: JsonBody) -> Result<Response, ApiError> {
    let username = state.users.create_user(ip, body.get("username"), body.get("password")).await?;
    Ok(reply(StatusCode::CREATED, &state.meta, json!({ "users": [ { "username": username } ] })))
}

async fn read(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(username): Path<String>,
) -> Result<Response, ApiError> {
    let user = state.users.get_user(&me, &username).await?;
    Ok(reply(
        StatusCode::OK,
        &state.meta,
        json!({ "users": [ { "ROLES": user.role.as_str(), "username": user.username } ] }),
    ))
}

async fn update(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Auth(me): Auth,
    Path(username): Path<String>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    state.users.update_password(ip, &me, &username, body.get("password")).await?;
    Ok(reply(StatusCode::OK, &state.meta, json!({ "users": [ { "username": username } ] })))
}

async fn delete(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(username): Path<String>,
) -> Result<Response, ApiError> {
    state.users.delete_user(&me, &username).await?;
    Ok(reply(StatusCode::OK, &state.meta, json!({ "users": [ { "username": username } ] })))
}
