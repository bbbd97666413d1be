//! The access table: which role every path needs (`users-auth.md` §2). It is
//! evaluated for every routed request, in order, first match wins, exactly like
//! the Webapp's `access_rules`; no handler decides this on its own.

use crate::users::Role;

/// What a request must present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Nothing (liveness page, public profile-photo links).
    Public,
    /// HTTP Basic credentials, checked by the login handler itself.
    Basic,
    /// A bearer token (or, for `Role::Api` routes, the API key) of at least this role.
    Role(Role),
}

/// Whether `path` is `prefix` or lies under it (`/v1/users` covers `/v1/users/x`,
/// not `/v1/usersx`).
fn under(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The access rule for `method` (upper case) on `path` (already normalised:
/// no trailing slash).
pub fn required_access(method: &str, path: &str) -> Access {
    access_rule(method, path).0
}

/// The rule the Webapp applies to whatever no other rule names: a user's
/// token. A route outside `/v1` should never fall to it (a test checks).
pub const DEFAULT_RULE: &str = "default: any user";

/// The access rule for `method` on `path`, with the rule's name.
pub fn access_rule(method: &str, path: &str) -> (Access, &'static str) {
    // HEAD is answered by the GET handler, so it must follow GET's rule.
    let is = |m: &str| method == m || (m == "GET" && method == "HEAD");
    // wabiz additions that precede the Webapp's catch-all.
    if is("GET") && path == "/" {
        return (Access::Public, "liveness");
    }
    if is("GET") && path == "/ready" {
        return (Access::Public, "readiness");
    }
    if is("GET") && under(path, "/pps") {
        return (Access::Public, "public profile photos");
    }
    // The API's own description: a browser opens it without a token.
    if is("GET") && (path == "/openapi.json" || under(path, "/docs")) {
        return (Access::Public, "the API's description");
    }
    // Meta calls the Cloud relay's webhook: the handshake checks the verify
    // token and each POST its signature, in the handler.
    if (is("GET") || is("POST")) && path == "/relay/webhook" {
        return (Access::Public, "the Cloud relay's webhook (signed by Meta)");
    }
    if is("POST") && path == "/v1/users/login" {
        return (Access::Basic, "login");
    }
    // The console's page and files hold no data; a page asks whether it is
    // signed in (the answer checks the cookie itself); opening and closing a
    // session is any user's.
    if is("GET") && (path == "/console" || under(path, "/console/assets") || path == "/console/session") {
        return (Access::Public, "the console's pages");
    }
    if path == "/console/session" {
        return (Access::Role(Role::User), "the console's session");
    }
    // The Webapp's rules, in order. Its `^/v1/admin`-style rules are plain
    // prefixes, so `/v1/accounts` would match `^/v1/account` too; keep that.
    if path.starts_with("/v1/admin") || path.starts_with("/v1/account") || path.starts_with("/v1/settings") {
        return (Access::Role(Role::Admin), "admin areas");
    }
    if is("POST") && path == "/v1/users/logout" {
        return (Access::Role(Role::User), "logout");
    }
    if (is("POST") || is("DELETE")) && under(path, "/v1/users") {
        return (Access::Role(Role::Admin), "user management");
    }
    if (is("POST") || is("DELETE")) && under(path, "/v1/certificates") {
        return (Access::Role(Role::Admin), "certificate changes");
    }
    if is("GET") && under(path, "/v1/certificates/webhooks") {
        return (Access::Role(Role::Admin), "the webhook CA");
    }
    if is("GET") && (path == "/v1/health" || path == "/metrics" || under(path, "/v1/stats")) {
        return (Access::Role(Role::Api), "health and stats");
    }
    if (is("PUT") || is("POST")) && under(path, "/v1/services") {
        return (Access::Role(Role::Admin), "services");
    }
    if under(path, "/simulator") || under(path, "/wabiz") {
        return (Access::Role(Role::Admin), "wabiz's control API");
    }
    (Access::Role(Role::User), DEFAULT_RULE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Access::*;

    #[test]
    fn table() {
        let cases = [
            ("GET", "/", Public),
            ("GET", "/pps/abc", Public),
            ("GET", "/relay/webhook", Public),
            ("GET", "/ready", Public),
            ("POST", "/relay/webhook", Public),
            ("POST", "/v1/users/login", Basic),
            ("POST", "/v1/users/logout", Role(crate::users::Role::User)),
            ("POST", "/v1/users", Role(crate::users::Role::Admin)),
            ("DELETE", "/v1/users/jdoe", Role(crate::users::Role::Admin)),
            ("GET", "/v1/users/jdoe", Role(crate::users::Role::User)),
            ("PUT", "/v1/users/jdoe", Role(crate::users::Role::User)),
            ("GET", "/v1/settings/application", Role(crate::users::Role::Admin)),
            ("POST", "/v1/account/verify", Role(crate::users::Role::Admin)),
            ("GET", "/v1/admin/x", Role(crate::users::Role::Admin)),
            ("GET", "/v1/health", Role(crate::users::Role::Api)),
            ("GET", "/metrics", Role(crate::users::Role::Api)),
            ("GET", "/v1/stats/app", Role(crate::users::Role::Api)),
            ("GET", "/v1/support", Role(crate::users::Role::User)),
            ("POST", "/v1/certificates/external", Role(crate::users::Role::Admin)),
            ("GET", "/v1/certificates/external/ca", Role(crate::users::Role::User)),
            ("GET", "/v1/certificates/webhooks/ca", Role(crate::users::Role::Admin)),
            ("PUT", "/v1/services/message/gc", Role(crate::users::Role::Admin)),
            ("POST", "/simulator/inbound", Role(crate::users::Role::Admin)),
            ("GET", "/wabiz/callbacks", Role(crate::users::Role::Admin)),
            ("GET", "/wabizz", Role(crate::users::Role::User)),
            ("GET", "/simulator/templates", Role(crate::users::Role::Admin)),
            ("POST", "/v1/messages", Role(crate::users::Role::User)),
            ("DELETE", "/v1/messages", Role(crate::users::Role::User)),
            ("POST", "/v1/usersx", Role(crate::users::Role::User)),
            ("POST", "/v1/users/login/x", Role(crate::users::Role::Admin)),
            ("HEAD", "/v1/certificates/webhooks/ca", Role(crate::users::Role::Admin)),
            ("HEAD", "/pps/abc.jpg", Public),
            ("HEAD", "/v1/health", Role(crate::users::Role::Api)),
            ("HEAD", "/", Public),
            ("GET", "/openapi.json", Public),
            ("GET", "/docs/index.html", Public),
            ("POST", "/docs/x", Role(crate::users::Role::User)),
            ("GET", "/docsx", Role(crate::users::Role::User)),
        ];
        for (m, p, want) in cases {
            assert_eq!(required_access(m, p), want, "{m} {p}");
        }
    }
}
