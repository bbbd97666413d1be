//! `GET /openapi.json` and `GET /docs`: the document validates (the
//! reference validator, `openapi-spec-validator`), every operation it lists
//! is routed, every method it leaves out of a path is not (405), and the
//! On-Premises endpoints are all in it.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use reqwest::Method;
use serde_json::Value;

use crate::helpers::*;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// The On-Premises endpoints a client may call (the spec's route tables).
const ON_PREMISES: &[(&str, &str)] = &[
    ("post", "/v1/users/login"),
    ("post", "/v1/users/logout"),
    ("post", "/v1/users"),
    ("get", "/v1/users/{username}"),
    ("put", "/v1/users/{username}"),
    ("delete", "/v1/users/{username}"),
    ("get", "/v1/health"),
    ("get", "/v1/support"),
    ("get", "/metrics"),
    ("get", "/v1/stats/app"),
    ("get", "/v1/stats/db"),
    ("post", "/v1/account"),
    ("post", "/v1/account/verify"),
    ("post", "/v1/account/shards"),
    ("post", "/v1/contacts"),
    ("post", "/v1/messages"),
    ("delete", "/v1/messages"),
    ("put", "/v1/messages/{id}"),
    ("post", "/v1/media"),
    ("get", "/v1/media/{id}"),
    ("delete", "/v1/media/{id}"),
    ("get", "/v1/settings/application"),
    ("patch", "/v1/settings/application"),
    ("delete", "/v1/settings/application"),
    ("get", "/v1/settings/profile/about"),
    ("patch", "/v1/settings/profile/about"),
    ("get", "/v1/settings/profile/photo"),
    ("post", "/v1/settings/profile/photo"),
    ("delete", "/v1/settings/profile/photo"),
    ("get", "/v1/settings/business/profile"),
    ("post", "/v1/settings/business/profile"),
    ("post", "/v1/settings/account/two-step"),
    ("delete", "/v1/settings/account/two-step"),
    ("post", "/v1/settings/backup"),
    ("post", "/v1/settings/restore"),
    ("post", "/v1/certificates/external"),
    ("get", "/v1/certificates/external/ca"),
    ("post", "/v1/certificates/webhooks/ca"),
    ("get", "/v1/groups"),
    ("post", "/v1/groups"),
    ("get", "/v1/groups/{id}"),
    ("put", "/v1/groups/{id}"),
    ("get", "/v1/groups/{id}/invite"),
    ("delete", "/v1/groups/{id}/invite"),
    ("post", "/v1/groups/{id}/leave"),
    ("get", "/v1/groups/{id}/icon"),
    ("post", "/v1/groups/{id}/icon"),
    ("delete", "/v1/groups/{id}/icon"),
    ("patch", "/v1/groups/{id}/admins"),
    ("delete", "/v1/groups/{id}/admins"),
    ("delete", "/v1/groups/{id}/participants"),
    ("put", "/v1/services/message/gc"),
    ("put", "/v1/services/media/gc"),
];

async fn document(app: &TestApp) -> Value {
    let r = app.request(Method::GET, "/openapi.json").send().await.unwrap();
    assert_eq!(r.status(), 200, "served without a token");
    r.json().await.expect("JSON")
}

/// Documented methods per path.
fn operations(doc: &Value) -> BTreeMap<String, BTreeSet<String>> {
    let paths = doc["paths"].as_object().expect("paths");
    paths
        .iter()
        .map(|(path, item)| {
            let methods = item.as_object().unwrap().keys().filter(|k| METHODS.contains(&k.as_str())).cloned();
            (path.clone(), methods.collect())
        })
        .collect()
}

fn concrete(path: &str) -> String {
    path.split('/')
        .map(|seg| match seg {
            "{file}" => "index.html",
            s if s.starts_with('{') => "x",
            s => s,
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn the_document_lists_exactly_what_is_routed() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
    let ops = operations(&doc);
    let count: usize = ops.values().map(BTreeSet::len).sum();
    assert!(count >= 80, "{count} operations");
    for (method, path) in ON_PREMISES {
        assert!(ops.get(*path).is_some_and(|m| m.contains(*method)), "{method} {path} is not documented");
    }
    for (path, documented) in &ops {
        for method in METHODS {
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let r = app.request(m, &concrete(path)).send().await.unwrap();
            let status = r.status().as_u16();
            let body: Value = r.json().await.unwrap_or(Value::Null);
            let code = body["errors"][0]["code"].as_u64();
            if documented.contains(method) {
                // Without credentials, a routed protected operation stops at
                // authentication (401); a public one (security `[{}]`) runs
                // its handler, which may find nothing (`/pps/x`: 404).
                let public = doc["paths"][path][method]["security"] == serde_json::json!([{}]);
                if public {
                    assert_ne!(status, 405, "{method} {path} is documented but not routed");
                } else {
                    assert_eq!(status, 401, "{method} {path} is documented but not routed: {body}");
                }
            } else {
                assert_eq!((status, code), (405, Some(1014)), "{method} {path} is routed but not documented");
            }
        }
    }
    // Security follows the access table: health takes the API key, settings need an admin.
    assert_eq!(doc["paths"]["/v1/health"]["get"]["security"][1], serde_json::json!({"apiKey": []}));
    assert_eq!(doc["paths"]["/v1/settings/application"]["patch"]["description"], "Requires ROLE_ADMIN.");
    assert_eq!(doc["paths"]["/v1/groups/{id}"]["get"]["parameters"][0]["name"], "id");
    // The event stream is described as one, with every event type.
    let stream = &doc["paths"]["/simulator/events"]["get"]["responses"]["200"];
    assert!(stream["content"]["text/event-stream"].is_object(), "{stream}");
    let described = stream["description"].as_str().unwrap();
    for name in wabiz_domain::events::Event::NAMES {
        assert!(described.contains(&format!("`{name}`")), "{name} is not described");
    }
}

#[tokio::test]
async fn without_groups_the_document_has_no_groups() {
    let app = TestApp::spawn_with(Spawn::default().arg("--disable-groups")).await;
    let ops = operations(&document(&app).await);
    assert!(ops.keys().all(|p| !p.starts_with("/v1/groups")), "{:?}", ops.keys());
    assert!(ops.contains_key("/v1/messages"));
}

#[tokio::test]
async fn the_docs_page_loads_our_document() {
    let app = TestApp::spawn().await;

    let r = app.request(Method::GET, "/docs").send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/docs/index.html");
    let r = app.request(Method::GET, "/docs/index.html").send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("swagger-ui"), "Swagger UI's page");
    let init = app.request(Method::GET, "/docs/swagger-initializer.js").send().await.unwrap();
    assert_eq!(init.status(), 200);
    assert!(init.text().await.unwrap().contains("/openapi.json"), "the page loads our document");
}

/// openapi-spec-validator (PyPI, in the interpreter `.ci/run` prepares)
/// accepts the document.
#[tokio::test]
#[cfg_attr(not(wabiz_test_python), ignore = "needs openapi-spec-validator: set WABIZ_TEST_PYTHON")]
async fn the_document_validates() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    let python = std::env::var("WABIZ_TEST_PYTHON").expect("built with WABIZ_TEST_PYTHON set, run without it");
    let file = app.data_dir.path().join("openapi.json");
    std::fs::write(&file, doc.to_string()).unwrap();
    let out = Command::new(python)
        .args(["-c", "import json, sys; from openapi_spec_validator import validate; validate(json.load(open(sys.argv[1]))); print('valid')"])
        .arg(&file)
        .output()
        .expect("the interpreter runs");
    assert!(
        out.status.success(),
        "openapi-spec-validator refused the document:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
