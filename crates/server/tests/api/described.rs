//! The typed descriptions in `/openapi.json` (issue 21 §1) hold for the real
//! server: every operation's example request is sent, and its answer must
//! have the documented status and fit the documented schema (JSON), media
//! type (files) or be an event stream.
//!
//! Operations with path parameters are sent to things the test makes first
//! (a media file, a group, a user, messages, a traffic run …); those that
//! undo something run after the rest, and the few that end a session or
//! leave a group run last.

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

/// Operations still without a typed description; may only go down.
const NOT_YET_DESCRIBED: usize = 0;

/// One documented operation.
struct Op {
    method: String,
    path: String,
    item: Value,
}

impl Op {
    fn key(&self) -> String {
        format!("{} {}", self.method.to_uppercase(), self.path)
    }

    /// When it runs: undoing operations after the rest, ending ones last.
    fn rank(&self) -> u8 {
        const LAST: &[&str] = &[
            "POST /v1/groups/{id}/leave",
            "POST /v1/users/logout",
            "POST /v1/settings/restore",
            "DELETE /v1/settings/application",
            "POST /v1/account/verify",
        ];
        if LAST.contains(&self.key().as_str()) {
            2
        } else if self.method == "delete" {
            1
        } else {
            0
        }
    }

    /// The success answers (and redirects) it documents by status, if it is described (no `2XX` left).
    fn successes(&self) -> Option<BTreeMap<u16, &Value>> {
        let responses = self.item["responses"].as_object()?;
        if responses.contains_key("2XX") {
            return None;
        }
        Some(
            responses
                .iter()
                .filter_map(|(code, r)| Some((code.parse::<u16>().ok().filter(|c| (200..400).contains(c))?, r)))
                .collect(),
        )
    }
}

/// What the operations with path parameters are sent to.
struct Fixtures {
    paths: BTreeMap<&'static str, String>,
    /// Bodies that must carry something the server made (a hash, a backup).
    bodies: BTreeMap<&'static str, Value>,
}

impl Fixtures {
    async fn make(app: &TestApp, admin: &str) -> Self {
        let mut paths = BTreeMap::new();
        let customer = "16315551234";
        let (s, b) = app.post(admin, "/v1/contacts", json!({"blocking": "wait", "contacts": [customer]})).await;
        assert_eq!(s, 200, "{b}");

        let (s, b) =
            send(app.authed(Method::POST, "/v1/media", admin).header("content-type", "image/png").body(png())).await;
        assert_eq!(s, 201, "{b}");
        let media = b["media"][0]["id"].as_str().unwrap().to_owned();
        paths.insert("/v1/media/{id}", format!("/v1/media/{media}"));

        let (s, b) = app.post(admin, "/v1/groups", json!({"subject": "Fixture group"})).await;
        assert_eq!(s, 200, "{b}");
        let group = b["groups"][0]["id"].as_str().unwrap().to_owned();
        for tail in ["", "/invite", "/leave", "/icon", "/admins", "/participants"] {
            let template: &'static str = Box::leak(format!("/v1/groups/{{id}}{tail}").into_boxed_str());
            paths.insert(template, format!("/v1/groups/{group}{tail}"));
        }
        let (s, b) = send(app.authed(Method::GET, &format!("/v1/groups/{group}/invite"), admin)).await;
        assert_eq!(s, 200, "{b}");
        let link = b["groups"][0]["link"].as_str().unwrap().to_owned();
        let (s, b) = app.post(admin, "/simulator/groups/join", json!({"invite": link, "wa_id": customer})).await;
        assert_eq!(s, 200, "{b}");
        let (s, b) = send(
            app.authed(Method::POST, &format!("/v1/groups/{group}/icon"), admin)
                .header("content-type", "image/jpeg")
                .body(jpeg()),
        )
        .await;
        assert_eq!(s, 201, "{b}");
        let (s, b) = send(app.authed(Method::GET, &format!("/v1/groups/{group}/icon?format=link"), admin)).await;
        assert_eq!(s, 200, "{b}");
        paths.insert("/pps/groups/{id}/{file}", path_of(b["groups"][0]["icon"]["link"].as_str().unwrap()));

        let (s, b) = send(
            app.authed(Method::POST, "/v1/settings/profile/photo", admin)
                .header("content-type", "image/png")
                .body(png()),
        )
        .await;
        assert_eq!(s, 201, "{b}");
        let (s, b) = send(app.authed(Method::GET, "/v1/settings/profile/photo?format=link", admin)).await;
        assert_eq!(s, 200, "{b}");
        paths.insert("/pps/{file}", path_of(b["settings"]["profile"]["photo"]["link"].as_str().unwrap()));

        let (s, b) =
            app.post(admin, "/v1/users", json!({"username": "fixture-user", "password": "Fixture-Passw0rd!"})).await;
        assert_eq!(s, 201, "{b}");
        paths.insert("/v1/users/{username}", "/v1/users/fixture-user".to_owned());

        let (s, b) = app
            .post(admin, "/simulator/inbound", json!({"from": customer, "type": "text", "text": {"body": "Hello"}}))
            .await;
        assert_eq!(s, 201, "{b}");
        let inbound = b["messages"][0]["id"].as_str().unwrap().to_owned();
        paths.insert("/v1/messages/{id}", format!("/v1/messages/{inbound}"));

        let (s, b) =
            app.post(admin, "/v1/messages", json!({"to": customer, "type": "text", "text": {"body": "Hi"}})).await;
        assert_eq!(s, 201, "{b}");
        let outbound = b["messages"][0]["id"].as_str().unwrap().to_owned();
        paths.insert("/simulator/messages/{id}", format!("/simulator/messages/{outbound}"));
        paths.insert("/simulator/messages/{id}/delete", format!("/simulator/messages/{inbound}/delete"));

        for template in [
            "/v1/contacts/{wa_id}/identity",
            "/simulator/conversations/{wa_id}",
            "/simulator/customers/{wa_id}/change-identity",
            "/simulator/customers/{wa_id}/change-number",
        ] {
            paths.insert(template, template.replace("{wa_id}", customer));
        }

        let provider = json!([{"name": "fixture-cdn", "type": "www", "config": {"bearer": "fixture-token"}}]);
        let (s, b) = app.post(admin, "/v1/settings/application/media/providers", provider).await;
        assert_eq!(s, 200, "{b}");
        paths.insert(
            "/v1/settings/application/media/providers/{name}",
            "/v1/settings/application/media/providers/fixture-cdn".to_owned(),
        );

        let (s, b) = app.post(admin, "/simulator/traffic", json!({"count": 1, "rate": 10})).await;
        assert_eq!(s, 201, "{b}");
        let run = b["traffic"][0]["id"].as_str().unwrap().to_owned();
        paths.insert("/simulator/traffic/{id}", format!("/simulator/traffic/{run}"));

        paths.insert("/docs/{file}", "/docs/index.html".to_owned());

        let mut bodies = BTreeMap::new();
        let (s, b) = app.post(admin, &format!("/simulator/customers/{customer}/change-identity"), json!({})).await;
        assert_eq!(s, 201, "{b}");
        let (s, b) = app.post(admin, "/v1/settings/backup", json!({"password": "fixture-passphrase"})).await;
        assert_eq!(s, 200, "{b}");
        bodies.insert(
            "POST /v1/settings/restore",
            json!({"password": "fixture-passphrase", "data": b["settings"]["data"]}),
        );

        let ca = crate::certificates::bundle("fixture").root.pem();
        let (s, b) = send(
            app.authed(Method::POST, "/v1/certificates/webhooks/ca", admin)
                .header("content-type", "text/plain")
                .body(ca),
        )
        .await;
        assert_eq!(s, 200, "{b}");

        // PATCH runs before POST: the template it changes; DELETE needs its key.
        let template = json!({"namespace": "business_a_namespace", "name": "order_update", "language": "en_US",
                              "components": [{"type": "BODY", "text": "Hi {{1}}, your order ships {{2}}."}]});
        let (s, b) = app.post(admin, "/simulator/templates", template).await;
        assert_eq!(s, 201, "{b}");
        paths.insert(
            "/simulator/templates",
            "/simulator/templates?namespace=business_a_namespace&name=order_update".to_owned(),
        );
        // An invite link is random: the fixture group's.
        bodies.insert("POST /simulator/groups/join", json!({"invite": link, "wa_id": customer}));
        // A callback that stays pending: a receiver that is not there.
        let (s, b) =
            app.patch(admin, "/v1/settings/application", json!({"webhooks": {"url": "https://127.0.0.1:9/"}})).await;
        assert_eq!(s, 200, "{b}");
        let (s, b) = app
            .post(
                admin,
                "/simulator/inbound",
                json!({"from": customer, "type": "text", "text": {"body": "Still there?"}}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        let (s, b) = send(app.authed(Method::GET, "/wabiz/callbacks", admin)).await;
        assert_eq!(s, 200, "{b}");
        let seq = b["callbacks"]["pending"][0]["seq"].as_i64().unwrap_or_else(|| panic!("a pending callback: {b}"));
        paths.insert("/wabiz/callbacks/{seq}", format!("/wabiz/callbacks/{seq}"));
        paths.insert("/wabiz/callbacks/{seq}/retry", format!("/wabiz/callbacks/{seq}/retry"));
        Self { paths, bodies }
    }

    /// Where to send `op`: its fixture, else its path with each parameter's example.
    fn path_for(&self, op: &Op) -> String {
        if let Some(p) = self.paths.get(op.path.as_str()) {
            return p.clone();
        }
        let mut path = op.path.clone();
        for p in op.item["parameters"].as_array().into_iter().flatten() {
            if p["in"] == "path" {
                let example =
                    p["example"].as_str().unwrap_or_else(|| panic!("{}: no example for {}", op.key(), p["name"]));
                path = path.replace(&format!("{{{}}}", p["name"].as_str().unwrap()), example);
            }
        }
        path
    }
}

/// The path (and query) of a link the server gave.
fn path_of(link: &str) -> String {
    let url = reqwest::Url::parse(link).unwrap_or_else(|e| panic!("{link}: {e}"));
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    }
}

fn png() -> Vec<u8> {
    crate::settings::picture(64, 48)
}

fn jpeg() -> Vec<u8> {
    let picture = image::load_from_memory(&png()).expect("the test picture decodes");
    let mut out = std::io::Cursor::new(Vec::new());
    picture.to_luma8().write_to(&mut out, image::ImageFormat::Jpeg).expect("it encodes as JPEG");
    out.into_inner()
}

/// Bytes of the media type an upload operation documents.
fn upload_for(op: &Op) -> (String, Vec<u8>) {
    let content = op.item["requestBody"]["content"].as_object().expect("an upload documents its media type");
    let media_type = content.keys().next().unwrap().clone();
    let bytes = match media_type.as_str() {
        "image/jpeg" => jpeg(),
        "text/plain" if op.path.ends_with("/external") => crate::certificates::bundle("described").text.into_bytes(),
        "text/plain" => crate::certificates::bundle("described").root.pem().into_bytes(),
        _ => png(),
    };
    (media_type, bytes)
}

#[tokio::test]
async fn every_described_example_gets_an_answer_that_fits_its_schema() {
    let app = TestApp::spawn_with(
        Spawn::instant_receipts().arg("--simulator-open-window").arg("--simulator-registration-code").arg("123456"),
    )
    .await;
    let admin = app.admin_token().await;
    let doc: Value = app.request(Method::GET, "/openapi.json").send().await.unwrap().json().await.unwrap();
    let mut ops: Vec<Op> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object().unwrap().iter().map(|(method, op)| Op {
                method: method.clone(),
                path: path.clone(),
                item: op.clone(),
            })
        })
        .collect();
    ops.sort_by(|a, b| (a.rank(), &a.path, &a.method).cmp(&(b.rank(), &b.path, &b.method)));
    let fixtures = Fixtures::make(&app, &admin).await;

    let (mut described, mut undescribed) = (0, Vec::new());
    for op in &ops {
        let Some(successes) = op.successes() else {
            undescribed.push(op.key());
            continue;
        };
        described += 1;
        let key = op.key();
        let request = &op.item["requestBody"]["content"]["application/json"];
        // The example, or each of the named examples.
        let examples: Vec<Value> = match request["examples"].as_object() {
            Some(named) => named.values().map(|e| e["value"].clone()).collect(),
            None if request["example"].is_null() => Vec::new(),
            None => vec![request["example"].clone()],
        };
        if !request["schema"].is_null() {
            let v = jsonschema::validator_for(&request["schema"]).unwrap_or_else(|e| panic!("{key}: {e}"));
            assert!(!examples.is_empty(), "{key}: a JSON body needs an example");
            for example in &examples {
                let problems: Vec<String> =
                    v.iter_errors(example).map(|e| format!("{e} at {}", e.instance_path())).collect();
                assert!(
                    problems.is_empty(),
                    "{key}: the request's example {example} does not fit its schema: {problems:?}"
                );
            }
        }
        let sends: Vec<Option<&Value>> =
            if examples.is_empty() { vec![None] } else { examples.iter().map(Some).collect() };
        for example in sends {
            let m = Method::from_bytes(op.method.to_uppercase().as_bytes()).unwrap();
            let path = fixtures.path_for(op);
            let mut rb = match key.as_str() {
                "POST /v1/users/login" => app.request(m, &path).header("Authorization", basic("admin", ADMIN_PASSWORD)),
                // Logging out revokes the token it is sent with: a token of its own.
                "POST /v1/users/logout" | "DELETE /console/session" => app.authed(m, &path, &app.admin_token().await),
                _ => app.authed(m, &path, &admin),
            };
            if key == "POST /v1/account/verify" {
                // A code to verify: asked for a number not registered yet.
                let ask = json!({"cc": "1", "phone_number": "6315557777", "method": "sms", "cert": crate::registration::acme()});
                let (s, b) = app.post(&admin, "/v1/account", ask).await;
                assert_eq!(s, 202, "{b}");
            }
            if key == "PUT /v1/contacts/{wa_id}/identity" {
                // The hash of the customer's identity as it is now.
                let (s, b) = send(app.authed(Method::GET, &path, &admin)).await;
                assert_eq!(s, 200, "{b}");
                rb = rb.json(&json!({"hash": b["identity"][0]["hash"]}));
            } else if let Some(body) = fixtures.bodies.get(key.as_str()) {
                rb = rb.json(body);
            } else if let Some(example) = example {
                rb = rb.json(example);
            } else if op.item["requestBody"]["required"] == true {
                let (media_type, bytes) = upload_for(op);
                rb = rb.header("content-type", media_type).body(bytes);
            }
            let r = rb.send().await.unwrap_or_else(|e| panic!("{key}: {e}"));
            let got = r.status().as_u16();
            let content_type = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
            let location = r.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
            if content_type.starts_with("text/event-stream") {
                // The stream never ends: its head is the answer.
                let documented = successes
                    .get(&got)
                    .and_then(|a| a["content"].as_object())
                    .map(|c| c.contains_key("text/event-stream"));
                assert_eq!(documented, Some(true), "{key}: an undocumented event stream");
                continue;
            }
            let body = r.bytes().await.unwrap();
            let text = String::from_utf8_lossy(&body);
            let Some(answer) = successes.get(&got) else {
                panic!("{key} ({path}): {got} is not a documented success ({:?}): {text}", successes.keys())
            };
            if let Some(to) = answer["headers"]["Location"]["example"].as_str() {
                assert_eq!(location, to, "{key}: a redirect elsewhere");
                continue;
            }
            let (documented_type, media) =
                answer["content"].as_object().and_then(|c| c.iter().next()).expect("content");
            if documented_type != "application/json" {
                let range = documented_type.trim_end_matches('*');
                assert!(
                    documented_type == "*/*" || content_type.starts_with(range),
                    "{key}: answered {content_type}, documented {documented_type}"
                );
                continue;
            }
            let body: Value = serde_json::from_slice(&body).unwrap_or_else(|e| panic!("{key}: not JSON ({e}): {text}"));
            let validator = jsonschema::validator_for(&media["schema"]).unwrap_or_else(|e| panic!("{key}: {e}"));
            assert!(validator.is_valid(&media["example"]), "{key}: the answer's example does not fit its schema");
            let problems: Vec<String> =
                validator.iter_errors(&body).map(|e| format!("{e} at {}", e.instance_path())).collect();
            assert!(problems.is_empty(), "{key}: the answer does not fit its schema: {problems:?}\n{body}");
        }
    }
    assert!(described >= 21, "{described} described operations");
    undescribed.sort();
    assert_eq!(
        undescribed.len(),
        NOT_YET_DESCRIBED,
        "operations without a typed description: update NOT_YET_DESCRIBED only downwards\n{}",
        undescribed.join("\n")
    );
}

/// Every OpenAPI link names an operation of the document, and a parameter
/// it takes, and points into a JSON answer (stateful testing follows them).
#[tokio::test]
async fn every_link_leads_to_an_operation_that_takes_its_parameter() {
    let app = TestApp::spawn_with(Spawn::default()).await;
    let doc: Value = app.request(Method::GET, "/openapi.json").send().await.unwrap().json().await.unwrap();
    let mut by_id = BTreeMap::new();
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            by_id.insert(op["operationId"].as_str().unwrap().to_owned(), op.clone());
        }
    }
    let mut links = 0;
    for (id, op) in &by_id {
        for (status, answer) in op["responses"].as_object().unwrap() {
            for (name, link) in answer["links"].as_object().into_iter().flatten() {
                links += 1;
                let target = link["operationId"].as_str().unwrap();
                let Some(target_op) = by_id.get(target) else {
                    panic!("{id} {status} link {name}: no operation {target}")
                };
                for (parameter, expression) in link["parameters"].as_object().into_iter().flatten() {
                    let declared =
                        target_op["parameters"].as_array().into_iter().flatten().any(|p| p["name"] == *parameter);
                    assert!(declared, "{id} link {name}: {target} has no parameter {parameter}");
                    let pointer = expression.as_str().unwrap().strip_prefix("$response.body#").expect("a body pointer");
                    let example = &answer["content"]["application/json"]["example"];
                    assert!(
                        example.pointer(pointer).is_some(),
                        "{id} link {name}: the example has nothing at {pointer}"
                    );
                }
            }
        }
    }
    assert!(links >= 10, "{links} links");
}
