//! The console's session: the token of a sign-in, kept by the browser in an
//! `HttpOnly`, `SameSite=Strict` cookie (`Secure` on an HTTPS listener), so
//! the page's script never holds it. A request that changes something and
//! is authenticated by the cookie must also carry the session's CSRF value
//! in a header, which only the page can read (from `GET /console/session`).

use axum::http::{HeaderMap, HeaderValue, Method, header};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use wabiz_domain::WaError;

/// The cookie that holds the token.
pub const COOKIE: &str = "wabiz_console";

/// The header that carries the CSRF value on changing requests.
pub const CSRF_HEADER: &str = "x-wabiz-csrf";

/// The CSRF value of a session: derived from its token (a secret the page
/// cannot read), so nothing has to be stored and a new sign-in changes it.
pub fn csrf_of(token: &str) -> String {
    let digest = Sha256::new().chain_update(b"wabiz console csrf\0").chain_update(token.as_bytes()).finalize();
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// The token in the request's `Cookie` headers, if the console's cookie is there.
pub fn cookie_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(COOKIE)?.strip_prefix('='))
        .filter(|t| !t.is_empty())
}

/// A cookie-authenticated request that may change something must carry the
/// session's CSRF value (compared in constant time).
pub fn check_csrf(method: &Method, headers: &HeaderMap, token: &str) -> Result<(), WaError> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    let expected = csrf_of(token);
    let given = headers.get(CSRF_HEADER).map(HeaderValue::as_bytes).unwrap_or_default();
    if bool::from(given.ct_eq(expected.as_bytes())) {
        Ok(())
    } else {
        Err(WaError::forbidden("The console's CSRF header is missing or wrong"))
    }
}

/// The `Set-Cookie` value that keeps `token` (a browser-session cookie; the
/// token itself expires on its own), or with `None` the one that removes it.
pub fn set_cookie(token: Option<&str>, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    match token {
        Some(t) => format!("{COOKIE}={t}; Path=/; HttpOnly; SameSite=Strict{secure}"),
        None => format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("a=1; wabiz_console=tok.en; b=2"));
        assert_eq!(cookie_token(&h), Some("tok.en"));
        h.insert(header::COOKIE, HeaderValue::from_static("wabiz_console_other=x; wabiz_console="));
        assert_eq!(cookie_token(&h), None, "neither a longer name nor an empty value");
    }

    #[test]
    fn changing_requests_need_the_csrf_value() {
        let mut h = HeaderMap::new();
        assert!(check_csrf(&Method::GET, &h, "t").is_ok());
        assert!(check_csrf(&Method::POST, &h, "t").is_err());
        h.insert(CSRF_HEADER, HeaderValue::from_str(&csrf_of("other")).unwrap());
        assert!(check_csrf(&Method::PATCH, &h, "t").is_err());
        h.insert(CSRF_HEADER, HeaderValue::from_str(&csrf_of("t")).unwrap());
        assert!(check_csrf(&Method::DELETE, &h, "t").is_ok());
        assert_ne!(csrf_of("t"), csrf_of("u"));
    }

    #[test]
    fn the_cookie_is_http_only_and_strict() {
        let c = set_cookie(Some("tok"), true);
        assert!(c.starts_with("wabiz_console=tok;") && c.contains("HttpOnly") && c.contains("SameSite=Strict"));
        assert!(c.contains("Secure"));
        assert!(!set_cookie(Some("tok"), false).contains("Secure"));
        assert!(set_cookie(None, false).contains("Max-Age=0"));
    }
}
