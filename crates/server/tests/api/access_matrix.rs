//! Every route against every principal (issue 21 §3): the routes come from
//! the server's own table (`/openapi.json` is generated from the router, and
//! the router refuses a route without its operation), the expected answer
//! from the access table (`wabiz_domain::access`). A new route is covered
//! the day it is added; one outside `/v1` that falls to the Webapp's
//! default rule fails.

use std::collections::BTreeMap;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use wabiz_domain::access::{Access, DEFAULT_RULE, access_rule};
use wabiz_domain::users::Role;

use crate::helpers::*;

const API_KEY: &str = "matrix-api-key-0123456789";
const PASSWORD: &str = "Us3r-Passw0rd!";

/// The access table as `users-auth.md` §2 states it (plus wabiz's own
/// areas), by rule: the server's table must say the same, so a rule whose
/// role changes in the code fails here.
const SPEC: [(&str, Access); 16] = [
    ("liveness", Access::Public),
    ("readiness", Access::Public),
    ("the console's pages", Access::Public),
    ("the console's session", Access::Role(Role::User)),
    ("public profile photos", Access::Public),
    ("the API's description", Access::Public),
    ("login", Access::Basic),
    ("admin areas", Access::Role(Role::Admin)),
    ("logout", Access::Role(Role::User)),
    ("user management", Access::Role(Role::Admin)),
    ("certificate changes", Access::Role(Role::Admin)),
    ("the webhook CA", Access::Role(Role::Admin)),
    ("health and stats", Access::Role(Role::Api)),
    ("services", Access::Role(Role::Admin)),
    ("wabiz's control API", Access::Role(Role::Admin)),
    (DEFAULT_RULE, Access::Role(Role::User)),
];

/// Who calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Nobody,
    Malformed,
    Expired,
    DeletedUser,
    LoggedOut,
    User,
    Admin,
    ApiKey,
}

impl Who {
    /// Whether the access table lets this principal through `access`.
    fn passes(self, access: Access) -> bool {
        match access {
            Access::Public => true,
            // The login handler wants Basic credentials, which no principal here sends.
            Access::Basic => false,
            Access::Role(required) => match self {
                Who::User => Role::User.includes(required),
                Who::Admin => Role::Admin.includes(required),
                Who::ApiKey => Role::Api.includes(required),
                _ => false,
            },
        }
    }

    /// Whether it is authenticated at all (else 401, before any role check).
    fn authenticated(self) -> bool {
        matches!(self, Who::User | Who::Admin | Who::ApiKey)
    }
}

/// The documented operations: `(METHOD, path template)`.
async fn operations(app: &TestApp) -> Vec<(String, String)> {
    let doc: Value = app.client.get(app.url("/openapi.json")).send().await.unwrap().json().await.unwrap();
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                ops.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    ops
}

/// The path with a sample value in each parameter.
fn concrete(path: &str) -> String {
    path.split('/').map(|seg| if seg.starts_with('{') { "x" } else { seg }).collect::<Vec<_>>().join("/")
}

/// The path `who` calls: a user reads and changes only itself
/// (`users-auth.md`), so its own name stands in the user routes.
fn concrete_for(path: &str, who: Who) -> String {
    match who {
        Who::User => concrete(&path.replace("{username}", "matrix-user")),
        _ => concrete(path),
    }
}

struct Principals {
    tokens: BTreeMap<&'static str, String>,
}

impl Principals {
    fn header(&self, who: Who) -> Option<String> {
        let bearer = |k: &str| Some(format!("Bearer {}", self.tokens[k]));
        match who {
            Who::Nobody => None,
            Who::Malformed => Some("Bearer not.a.token".into()),
            Who::Expired => bearer("expired"),
            Who::DeletedUser => bearer("deleted"),
            Who::LoggedOut => bearer("logged_out"),
            Who::User => bearer("user"),
            Who::Admin => bearer("admin"),
            Who::ApiKey => Some(format!("Apikey {API_KEY}")),
        }
    }
}

/// Calls `method path` as `who`; the status and, for a refusal, the code.
async fn call(app: &TestApp, header: Option<String>, method: &str, path: &str) -> (StatusCode, Option<u64>) {
    let m = Method::from_bytes(method.as_bytes()).unwrap();
    let mut rb = app.request(m.clone(), path);
    if let Some(h) = header {
        rb = rb.header("Authorization", h);
    }
    if m != Method::GET && m != Method::DELETE {
        rb = rb.json(&json!({}));
    }
    let r = rb.send().await.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let status = r.status();
    // Only refusals are read: a stream (`/simulator/events`) never ends.
    let code = if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
        r.json::<Value>().await.ok().and_then(|b| b["errors"][0]["code"].as_u64())
    } else {
        None
    };
    (status, code)
}

/// Checks one principal against every operation; the mismatches.
async fn check(app: &TestApp, ops: &[(String, String)], principals: &Principals, who: Who) -> Vec<String> {
    let mut wrong = Vec::new();
    for (method, path) in ops {
        // Logging out would end the token the rest of the matrix uses: a fresh one each time.
        let ends_session = path == "/v1/users/logout" || (path == "/console/session" && method == "DELETE");
        let header = if ends_session && matches!(who, Who::User | Who::Admin) {
            let name = if who == Who::Admin { "admin" } else { "matrix-user" };
            let password = if who == Who::Admin { ADMIN_PASSWORD } else { PASSWORD };
            Some(format!("Bearer {}", token_of(app.login(name, password, None).await).await))
        } else {
            principals.header(who)
        };
        let (access, rule) = access_rule(method, &concrete(path));
        let (status, code) = call(app, header, method, &concrete_for(path, who)).await;
        let refused = status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN;
        let ok = if who.passes(access) {
            !refused
        } else if !who.authenticated() || access == Access::Basic {
            status == StatusCode::UNAUTHORIZED && (access == Access::Basic || code == Some(1005))
        } else {
            status == StatusCode::FORBIDDEN && code == Some(1005)
        };
        if !ok {
            wrong.push(format!("{who:?} {method} {path} ({rule}, {access:?}): got {status} {code:?}"));
        }
    }
    wrong
}

#[tokio::test]
async fn every_route_answers_every_principal_as_the_access_table_says() {
    let app = TestApp::spawn_with(Spawn::default().env("WA_API_KEY", API_KEY)).await;
    let admin = app.admin_token().await;
    let mut tokens = BTreeMap::new();
    tokens.insert("admin", admin.clone());
    tokens.insert("user", app.user_token(&admin, "matrix-user", PASSWORD).await);
    // A token minted now, to be checked once it has expired.
    tokens.insert("expired", token_of(app.login("admin", ADMIN_PASSWORD, None).await).await);
    let deleted = app.user_token(&admin, "matrix-gone", PASSWORD).await;
    let (s, b) = app.delete(&admin, "/v1/users/matrix-gone").await;
    assert!(s.is_success(), "{b}");
    tokens.insert("deleted", deleted);
    let out = token_of(app.login("admin", ADMIN_PASSWORD, None).await).await;
    let (s, b) = app.call(&out, Method::POST, "/v1/users/logout", None).await;
    assert!(s.is_success(), "{b}");
    tokens.insert("logged_out", out);
    let principals = Principals { tokens };

    let ops = operations(&app).await;
    assert!(ops.len() > 90, "{} operations", ops.len());
    // Outside the Webapp's own `/v1`, every route has a rule of its own, and
    // every rule gives the role the specification gives it.
    for (method, path) in &ops {
        let (access, rule) = access_rule(method, &concrete(path));
        assert!(path.starts_with("/v1/") || rule != DEFAULT_RULE, "{method} {path} has no access rule of its own");
        let spec = SPEC.iter().find(|(name, _)| *name == rule).map(|(_, a)| *a);
        assert_eq!(spec, Some(access), "{method} {path}: rule '{rule}'");
    }

    let mut wrong = Vec::new();
    for who in [Who::Nobody, Who::Malformed, Who::DeletedUser, Who::LoggedOut, Who::User, Who::ApiKey, Who::Admin] {
        wrong.extend(check(&app, &ops, &principals, who).await);
    }
    // Past the token lifetime (7 days) and the clock skew allowed (10 minutes)
    // the first token is refused everywhere.
    app.clock.advance(7 * 24 * 3600 + 11 * 60);
    wrong.extend(check(&app, &ops, &principals, Who::Expired).await);
    assert!(wrong.is_empty(), "{} mismatches:\n{}", wrong.len(), wrong.join("\n"));
}
