use crate::helpers::*;

// `/v1/certificates/*` (`certificates.md`, items 1–14 of "Behaviours to test"):
// the HTTPS listener's own certificate (upload, validation, hot reload, the CA
// download, persistence across a restart) and the webhook CA bundle.
//
// Every claim about "which certificate the listener presents" is checked with a
// real TLS handshake: a fresh reqwest client that trusts exactly one CA either
// connects or fails. Fresh clients only, so no pooled connection from before a
// reload can hide the change.

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair,
};
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use reqwest::{Client, Method, Response, StatusCode};
use serde_json::Value;
use time::{Duration, OffsetDateTime};

const EXTERNAL: &str = "/v1/certificates/external";
const EXTERNAL_CA: &str = "/v1/certificates/external/ca";
const WEBHOOK_CA: &str = "/v1/certificates/webhooks/ca";

const MISSING_CREDENTIALS: &str = "Missing or invalid authentication credentials";
const NO_PERMISSION: &str = "User doesn't have permission";
const NO_CA_SECTION: &str = "Certificate must contain private key, cert and at least one CA certificate sections";
const EMPTY_UPLOAD: &str = "Request had no (empty) content";
const KEY_MISMATCH: &str = "The private key does not match the server certificate";
const WEBHOOK_CA_NOT_FOUND: &str = "Webhook CA certificate not found";

const USER: &str = "jdoe";
const USER_PASSWORD: &str = "Passw0rd!";

/// A P-256 key made with `openssl genpkey` for these tests (unencrypted PKCS#8)…
const FIXED_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgCUJ8CEJxdr3tLIIu
fsKMD/shO+AKRLooj79ek/DiNLChRANCAAQM/q1CvRd99H87OUpqMcu2PUMI7/wP
1I0F9f4kjOZdgauKzLPuFLjUvFwxW9L5kwn/c0t9a7Pqu4R6XBglrkHt
-----END PRIVATE KEY-----
";

/// …the same key as encrypted PKCS#8 (`openssl pkcs8 -topk8 -v2 aes-256-cbc`)…
const FIXED_KEY_PKCS8_ENCRYPTED: &str = "-----BEGIN ENCRYPTED PRIVATE KEY-----
MIHsMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAjIefPLQUDCzAICCAAw
DAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEEExqgRK3rFDSWHrdlhjRbFIEgZDP
L/nh0+Anag7thRQK1AEWNWE4SOEEpGoeLdpnMv9qr4RGXFtxvEwH5fDNVVYx0ZGp
yH9VblCpTVrYX8VCbtJ5LQyJu3n2VOpFYYaSjMXtK+EhW2c+u9L8ZNF77iAuoIze
mNFEMx5rMdlWdzokX9oflMMG4L0DsTlYKs8+hlTqlXOChUPDkC24uU6yssWrQwo=
-----END ENCRYPTED PRIVATE KEY-----
";

/// …and in the legacy encrypted form (`openssl pkey -traditional -aes256`).
const FIXED_KEY_LEGACY_ENCRYPTED: &str = "-----BEGIN EC PRIVATE KEY-----
Proc-Type: 4,ENCRYPTED
DEK-Info: AES-256-CBC,BFF8608815659C8E805D3A871400EE3F

r5jnRHbRcIGSDL14bAqw0mZ81dWozwWYyo6i+TA4s3hZuFQ+ILUfoszp/mc3/7mH
besLhbuZIbjzxoUD4kx98Q8oHZzg5KOddv/EQAtmSlJ459Gotadx/3iHLrV8IGPY
PB+7Zl7rPuNN61PGja5M6SVAXgKqRl9kfUbeRX1li64=
-----END EC PRIVATE KEY-----
";

// ------------------------------------------------------------------ certificates

type Issuer = CertifiedIssuer<'static, KeyPair>;

fn dn(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn
}

fn ca_params(common_name: &str) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name = dn(common_name);
    params
}

/// A self-signed root CA.
fn root_ca(common_name: &str) -> Issuer {
    CertifiedIssuer::self_signed(ca_params(common_name), KeyPair::generate().expect("key")).expect("root CA")
}

/// An intermediate CA signed by `parent`.
fn intermediate_ca(common_name: &str, parent: &Issuer) -> Issuer {
    CertifiedIssuer::signed_by(ca_params(common_name), KeyPair::generate().expect("key"), parent).expect("intermediate")
}

/// A server certificate for the addresses the tests connect to, valid from
/// `not_before` to `not_after`, for `key`, signed by `issuer` (PEM).
fn leaf_valid(issuer: &Issuer, key: &KeyPair, not_before: OffsetDateTime, not_after: OffsetDateTime) -> String {
    let mut params = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).expect("leaf params");
    params.distinguished_name = dn("wabiz test server");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.not_before = not_before;
    params.not_after = not_after;
    params.signed_by(key, issuer).expect("leaf").pem()
}

/// A currently valid server certificate.
fn leaf(issuer: &Issuer, key: &KeyPair) -> String {
    let now = OffsetDateTime::now_utc();
    leaf_valid(issuer, key, now - Duration::days(1), now + Duration::days(30))
}

/// A valid upload: a root CA, an intermediate, and a leaf signed by the
/// intermediate; the bundle is key + leaf + intermediate (as documented).
pub(crate) struct Bundle {
    pub(crate) root: Issuer,
    pub(crate) intermediate: Issuer,
    pub(crate) text: String,
}

pub(crate) fn bundle(name: &str) -> Bundle {
    let root = root_ca(&format!("{name} root CA"));
    let intermediate = intermediate_ca(&format!("{name} intermediate CA"), &root);
    let key = KeyPair::generate().expect("leaf key");
    let text = format!("{}{}{}", key.serialize_pem(), leaf(&intermediate, &key), intermediate.pem());
    Bundle { root, intermediate, text }
}

/// PEM text without line breaks, to compare certificates whatever the wrapping.
fn squash(pem: &str) -> String {
    pem.chars().filter(|c| !c.is_whitespace()).collect()
}

// ------------------------------------------------------------------ TLS probes

/// A client with its own connection pool that trusts `ca_pem` and nothing else.
fn client_trusting(ca_pem: &str) -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let ca = reqwest::Certificate::from_pem(ca_pem.as_bytes()).expect("CA parses");
    Client::builder().tls_certs_only([ca]).redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

/// Whether a new TLS handshake with the listener succeeds for a client that
/// trusts only `ca_pem`; when it does, the answer must come from wabiz.
async fn handshake_ok(app: &TestApp, ca_pem: &str) -> bool {
    match client_trusting(ca_pem).get(app.url("/v1/health")).send().await {
        Ok(r) => {
            let (s, b) = json(r).await;
            assert_error(s, &b, 401, 1005, Some(MISSING_CREDENTIALS));
            true
        }
        Err(e) => {
            assert!(e.is_connect() || e.is_request(), "unexpected failure kind: {e:?}");
            false
        }
    }
}

async fn assert_served_by(app: &TestApp, ca_pem: &str, what: &str) {
    assert!(handshake_ok(app, ca_pem).await, "a client trusting only {what} must connect");
}

async fn assert_not_served_by(app: &TestApp, ca_pem: &str, what: &str) {
    assert!(!handshake_ok(app, ca_pem).await, "a client trusting only {what} must fail the handshake");
}

// ------------------------------------------------------------------ requests

async fn upload_external(app: &TestApp, token: &str, text: &str) -> (StatusCode, Value) {
    let r = app
        .authed(Method::POST, EXTERNAL, token)
        .header(CONTENT_TYPE, "text/plain")
        .body(text.to_owned())
        .send()
        .await
        .expect("upload request");
    json(r).await
}

async fn upload_webhook_ca(app: &TestApp, token: &str, content_type: Option<&str>, text: &str) -> (StatusCode, Value) {
    let mut rb = app.authed(Method::POST, WEBHOOK_CA, token).body(text.to_owned());
    if let Some(ct) = content_type {
        rb = rb.header(CONTENT_TYPE, ct);
    }
    send(rb).await
}

/// Asserts a PEM download: 200, text/plain, `Content-Disposition` naming
/// `filename`; returns the body.
async fn download(r: Response, filename: &str) -> String {
    let status = r.status();
    let header = |name| r.headers().get(name).map(|v: &reqwest::header::HeaderValue| v.to_str().unwrap().to_owned());
    let disposition = header(CONTENT_DISPOSITION);
    let content_type = header(CONTENT_TYPE);
    let body = r.text().await.expect("body");
    assert_eq!(status, StatusCode::OK, "body: {body}");
    let disposition = disposition.unwrap_or_else(|| panic!("no Content-Disposition; body: {body}"));
    assert!(disposition.contains(filename), "Content-Disposition {disposition:?} must name {filename}");
    let content_type = content_type.unwrap_or_default();
    assert!(content_type.starts_with("text/plain"), "Content-Type {content_type:?}");
    body
}

async fn external_ca(app: &TestApp, token: &str) -> String {
    download(app.authed(Method::GET, EXTERNAL_CA, token).send().await.expect("GET external CA"), "ca.pem").await
}

async fn webhook_ca(app: &TestApp, token: &str) -> String {
    download(app.authed(Method::GET, WEBHOOK_CA, token).send().await.expect("GET webhook CA"), "webhookCaCerts.pem")
        .await
}

async fn assert_no_webhook_ca(app: &TestApp, token: &str) {
    let (s, b) = app.get(token, WEBHOOK_CA).await;
    assert_error(s, &b, 404, 1006, Some(WEBHOOK_CA_NOT_FOUND));
}

/// A `400`/`1009` whose details the spec leaves open (Recommended checks).
fn assert_invalid(status: StatusCode, body: &Value, what: &str) {
    assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: body {body}");
    assert!(body["meta"]["version"].is_string(), "{what}: meta missing: {body}");
    assert_eq!(body["errors"][0]["code"].as_u64(), Some(1009), "{what}: body {body}");
    assert!(body["errors"][0]["title"].is_string(), "{what}: title missing: {body}");
}

async fn https_app() -> (TestApp, String, String) {
    let app = TestApp::spawn_with(Spawn::https()).await;
    let admin = app.admin_token().await;
    let user = app.user_token(&admin, USER, USER_PASSWORD).await;
    (app, admin, user)
}

// ------------------------------------------------------------------ listener certificate

/// Item 1.
#[tokio::test]
async fn fresh_server_serves_the_generated_ca_which_verifies_the_listener() {
    let (app, admin, user) = https_app().await;
    assert!(app.base_url.starts_with("https://"), "{}", app.base_url);

    let (s, b) = send(app.request(Method::GET, EXTERNAL_CA)).await;
    assert_error(s, &b, 401, 1005, Some(MISSING_CREDENTIALS));

    // Any authenticated user may download it, and both get the same CA.
    let ca = external_ca(&app, &user).await;
    assert!(ca.starts_with("-----BEGIN CERTIFICATE-----"), "{ca}");
    assert_eq!(external_ca(&app, &admin).await, ca);
    assert_eq!(squash(&ca), squash(app.app().ca_pem().expect("generated CA")));

    // The downloaded CA alone verifies the chain the listener presents…
    assert_served_by(&app, &ca, "the downloaded CA").await;
    // …which an unrelated CA does not (the probe can fail).
    assert_not_served_by(&app, &root_ca("unrelated").pem(), "an unrelated CA").await;
}

/// Item 2, hot reload, and the upload surviving a restart.
#[tokio::test]
async fn uploaded_certificate_is_served_at_once_and_after_a_restart() {
    let (app, admin, user) = https_app().await;
    let generated = external_ca(&app, &user).await;
    let b = bundle("uploaded");
    let (root, intermediate) = (b.root.pem(), b.intermediate.pem());
    assert_served_by(&app, &generated, "the generated CA").await;
    assert_not_served_by(&app, &intermediate, "the uploaded CA (before the upload)").await;
    assert_not_served_by(&app, &root, "the uploaded root (before the upload)").await;

    let (s, body) = upload_external(&app, &admin, &b.text).await;
    assert_meta_only(s, &body, 201);

    // `GET …/external/ca` now returns the CA part of the bundle: the intermediate.
    let ca = external_ca(&app, &user).await;
    assert_eq!(ca.matches("-----BEGIN CERTIFICATE-----").count(), 1, "{ca}");
    assert_eq!(squash(&ca), squash(&intermediate));

    // New handshakes on the same running server present the new leaf (and its
    // intermediate, so the root verifies it too); the generated CA no longer does.
    assert_served_by(&app, &ca, "the CA returned after the upload").await;
    assert_served_by(&app, &intermediate, "the uploaded CA").await;
    assert_served_by(&app, &root, "the root above the uploaded CA").await;
    assert_not_served_by(&app, &generated, "the generated CA (after the upload)").await;

    // The upload is kept: after a restart the listener still presents it.
    let app = app.restart().await;
    assert_served_by(&app, &intermediate, "the uploaded CA (after a restart)").await;
    assert_not_served_by(&app, &generated, "the generated CA (after a restart)").await;
    let after_restart = download(
        client_trusting(&intermediate).get(app.url(EXTERNAL_CA)).bearer_auth(&user).send().await.unwrap(),
        "ca.pem",
    )
    .await;
    assert_eq!(squash(&after_restart), squash(&intermediate));
}

/// Item 3: a bundle without a CA section is refused; the generated certificate stays.
#[tokio::test]
async fn upload_without_a_ca_certificate_is_refused_and_the_previous_one_stays() {
    let (app, admin, user) = https_app().await;
    let generated = external_ca(&app, &user).await;
    let root = root_ca("would-be");
    let key = KeyPair::generate().unwrap();
    let key_and_leaf = format!("{}{}", key.serialize_pem(), leaf(&root, &key));

    let (s, b) = upload_external(&app, &admin, &key_and_leaf).await;
    assert_error(s, &b, 400, 1009, Some(NO_CA_SECTION));
    // Key only, and no certificate at all: same check.
    let (s, b) = upload_external(&app, &admin, &key.serialize_pem()).await;
    assert_error(s, &b, 400, 1009, Some(NO_CA_SECTION));
    let (s, b) = upload_external(&app, &admin, "not a certificate").await;
    assert_error(s, &b, 400, 1009, Some(NO_CA_SECTION));

    assert_eq!(external_ca(&app, &user).await, generated);
    assert_served_by(&app, &generated, "the generated CA").await;
    assert_not_served_by(&app, &root.pem(), "the CA of the refused upload").await;
}

/// Item 4.
#[tokio::test]
async fn empty_upload_is_refused() {
    let (app, admin, user) = https_app().await;
    let generated = external_ca(&app, &user).await;
    let (s, b) = upload_external(&app, &admin, "").await;
    assert_error(s, &b, 400, 1009, Some(EMPTY_UPLOAD));
    assert_eq!(external_ca(&app, &user).await, generated);
    assert_served_by(&app, &generated, "the generated CA").await;
}

/// Item 5 (Recommended checks), and a failed upload leaving the previously
/// uploaded certificate served.
#[tokio::test]
async fn invalid_bundles_are_refused_and_change_nothing() {
    let (app, admin, user) = https_app().await;
    let previous = bundle("previous");
    let (s, b) = upload_external(&app, &admin, &previous.text).await;
    assert_meta_only(s, &b, 201);
    let previous_ca = previous.intermediate.pem();

    let ca = root_ca("refused");
    let ca_pem = ca.pem();
    let now = OffsetDateTime::now_utc();

    // The key does not match the server certificate.
    let key = KeyPair::generate().unwrap();
    let other_key = KeyPair::generate().unwrap();
    let text = format!("{}{}{ca_pem}", other_key.serialize_pem(), leaf(&ca, &key));
    let (s, b) = upload_external(&app, &admin, &text).await;
    assert_error(s, &b, 400, 1009, Some(KEY_MISMATCH));

    // The server certificate is expired, or not valid yet.
    let expired = leaf_valid(&ca, &key, now - Duration::days(30), now - Duration::days(1));
    let (s, b) = upload_external(&app, &admin, &format!("{}{expired}{ca_pem}", key.serialize_pem())).await;
    assert_invalid(s, &b, "expired leaf");
    let future = leaf_valid(&ca, &key, now + Duration::days(1), now + Duration::days(30));
    let (s, b) = upload_external(&app, &admin, &format!("{}{future}{ca_pem}", key.serialize_pem())).await;
    assert_invalid(s, &b, "leaf not valid yet");

    // The key is encrypted (both PEM forms); the leaf is made for that very key,
    // so encryption is the only fault (the unencrypted control below passes).
    let fixed = KeyPair::from_pem(FIXED_KEY).expect("fixture key");
    let fixed_leaf = leaf(&ca, &fixed);
    for (what, encrypted) in
        [("encrypted PKCS#8 key", FIXED_KEY_PKCS8_ENCRYPTED), ("legacy encrypted key", FIXED_KEY_LEGACY_ENCRYPTED)]
    {
        let (s, b) = upload_external(&app, &admin, &format!("{encrypted}{fixed_leaf}{ca_pem}")).await;
        assert_invalid(s, &b, what);
    }

    // No private key at all, two keys, and a certificate block that is not X.509.
    let (s, b) = upload_external(&app, &admin, &format!("{fixed_leaf}{ca_pem}")).await;
    assert_invalid(s, &b, "no key");
    let (s, b) = upload_external(&app, &admin, &format!("{FIXED_KEY}{FIXED_KEY}{fixed_leaf}{ca_pem}")).await;
    assert_invalid(s, &b, "two keys");
    let garbage = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    let (s, b) = upload_external(&app, &admin, &format!("{FIXED_KEY}{fixed_leaf}{garbage}")).await;
    assert_invalid(s, &b, "CA block that is not X.509");

    // Nothing was stored or installed: the previous upload is still served.
    assert_eq!(squash(&external_ca(&app, &user).await), squash(&previous_ca));
    assert_served_by(&app, &previous_ca, "the previously uploaded CA").await;
    assert_not_served_by(&app, &ca_pem, "the CA of the refused uploads").await;

    // Control: the same bundle with the key unencrypted is accepted.
    let (s, b) = upload_external(&app, &admin, &format!("{FIXED_KEY}{fixed_leaf}{ca_pem}")).await;
    assert_meta_only(s, &b, 201);
    assert_served_by(&app, &ca_pem, "the CA of the accepted upload").await;
    assert_not_served_by(&app, &previous_ca, "the previously uploaded CA (after a new upload)").await;
}

/// Item 6, and the role table of the listener certificate.
#[tokio::test]
async fn only_admins_upload_the_listener_certificate() {
    let (app, _admin, user) = https_app().await;
    let generated = external_ca(&app, &user).await;
    let b = bundle("forbidden");

    let (s, body) = upload_external(&app, &user, &b.text).await;
    assert_error(s, &body, 403, 1005, Some(NO_PERMISSION));
    let r = app.request(Method::POST, EXTERNAL).body(b.text.clone()).send().await.unwrap();
    let (s, body) = json(r).await;
    assert_error(s, &body, 401, 1005, Some(MISSING_CREDENTIALS));

    // ROLE_USER may read the CA; nothing changed.
    assert_eq!(external_ca(&app, &user).await, generated);
    assert_served_by(&app, &generated, "the generated CA").await;
    assert_not_served_by(&app, &b.intermediate.pem(), "the CA of the forbidden upload").await;
}

/// Item 14, and other methods not routed on these paths (routing comes before
/// authentication, so ROLE_USER and anonymous callers get the 405 too).
#[tokio::test]
async fn wrong_methods_are_405_with_code_1014() {
    let (app, admin, user) = https_app().await;
    let cases = [
        (Method::PUT, EXTERNAL),
        (Method::DELETE, EXTERNAL),
        (Method::GET, EXTERNAL),
        (Method::POST, EXTERNAL_CA),
        (Method::PUT, WEBHOOK_CA),
    ];
    for (method, path) in cases {
        for token in [Some(&admin), Some(&user), None] {
            let mut rb = app.request(method.clone(), path);
            if let Some(t) = token {
                rb = rb.bearer_auth(t);
            }
            let (s, b) = send(rb).await;
            assert_error(s, &b, 405, 1014, None);
        }
    }
}

// ------------------------------------------------------------------ webhook CA

/// Items 7, 8, 11 and 12.
///
/// Item 8's second half ("a webhook server whose certificate chains to one of
/// them is now reachable") needs the webhook delivery engine, which does not
/// exist yet; it is not tested here.
#[tokio::test]
async fn webhook_ca_is_stored_replaced_and_deleted() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;

    // Item 7.
    assert_no_webhook_ca(&app, &admin).await;

    // Item 8: two concatenated certificates, returned exactly as sent.
    let first = format!("{}{}", root_ca("webhook one").pem(), root_ca("webhook two").pem());
    let (s, b) = upload_webhook_ca(&app, &admin, Some("text/plain"), &first).await;
    assert_meta_only(s, &b, 200);
    assert_eq!(webhook_ca(&app, &admin).await, first);

    // Item 11: a second upload replaces the first.
    let second = root_ca("webhook three").pem();
    let (s, b) = upload_webhook_ca(&app, &admin, Some("text/plain"), &second).await;
    assert_meta_only(s, &b, 200);
    assert_eq!(webhook_ca(&app, &admin).await, second);

    // Item 12: DELETE, then nothing stored, and DELETE is idempotent.
    let (s, b) = app.delete(&admin, WEBHOOK_CA).await;
    assert_meta_only(s, &b, 200);
    assert_no_webhook_ca(&app, &admin).await;
    let (s, b) = app.delete(&admin, WEBHOOK_CA).await;
    assert_meta_only(s, &b, 200);
    assert_no_webhook_ca(&app, &admin).await;
}

/// Item 9.
#[tokio::test]
async fn webhook_ca_needs_text_plain_and_a_body() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let pem = root_ca("webhook").pem();

    let (s, b) = upload_webhook_ca(&app, &admin, Some("application/json"), &pem).await;
    assert_error(s, &b, 400, 1009, Some("Content-Type must be text/plain"));
    let (s, b) = upload_webhook_ca(&app, &admin, None, &pem).await;
    assert_error(s, &b, 400, 1009, Some("Content-Type must be text/plain"));
    let (s, b) = upload_webhook_ca(&app, &admin, Some("text/plain"), "").await;
    assert_error(s, &b, 400, 1008, Some("No cert data found"));
    assert_no_webhook_ca(&app, &admin).await;

    // Recommended leniency: parameters after the media type are fine.
    let (s, b) = upload_webhook_ca(&app, &admin, Some("text/plain; charset=utf-8"), &pem).await;
    assert_meta_only(s, &b, 200);
    assert_eq!(webhook_ca(&app, &admin).await, pem);
}

/// Item 10: certificates only; a refused upload keeps the stored bundle.
#[tokio::test]
async fn webhook_ca_accepts_certificates_only() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let stored = root_ca("kept").pem();
    let (s, b) = upload_webhook_ca(&app, &admin, Some("text/plain"), &stored).await;
    assert_meta_only(s, &b, 200);

    let cert = root_ca("webhook").pem();
    let key = KeyPair::generate().unwrap().serialize_pem();
    for (what, text) in [
        ("certificate then key", format!("{cert}{key}")),
        ("key only", key.clone()),
        ("encrypted key", format!("{cert}{FIXED_KEY_PKCS8_ENCRYPTED}")),
    ] {
        let (s, b) = upload_webhook_ca(&app, &admin, Some("text/plain"), &text).await;
        assert_eq!(s, 400, "{what}: {b}");
        assert_error(s, &b, 400, 1009, Some("Private keys are not accepted"));
    }
    for (what, text) in [
        ("plain text", "this is not a certificate".to_owned()),
        ("JSON", r#"{"cert":"none"}"#.to_owned()),
        (
            "certificate block that is not X.509",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".into(),
        ),
    ] {
        let (s, b) = upload_webhook_ca(&app, &admin, Some("text/plain"), &text).await;
        assert_eq!(s, 400, "{what}: {b}");
        assert_error(s, &b, 400, 1009, Some("Invalid certificate"));
    }

    assert_eq!(webhook_ca(&app, &admin).await, stored);
}

/// Item 13: the webhook CA is admin-only, GET included; the external CA is not.
#[tokio::test]
async fn webhook_ca_is_admin_only() {
    let (app, admin, user) = https_app().await;
    let stored = root_ca("admin's").pem();
    let (s, b) = upload_webhook_ca(&app, &admin, Some("text/plain"), &stored).await;
    assert_meta_only(s, &b, 200);

    let (s, b) = app.get(&user, WEBHOOK_CA).await;
    assert_error(s, &b, 403, 1005, Some(NO_PERMISSION));
    let (s, b) = upload_webhook_ca(&app, &user, Some("text/plain"), &root_ca("user's").pem()).await;
    assert_error(s, &b, 403, 1005, Some(NO_PERMISSION));
    let (s, b) = app.delete(&user, WEBHOOK_CA).await;
    assert_error(s, &b, 403, 1005, Some(NO_PERMISSION));
    for method in [Method::GET, Method::POST, Method::DELETE] {
        let (s, b) = send(app.request(method, WEBHOOK_CA)).await;
        assert_error(s, &b, 401, 1005, Some(MISSING_CREDENTIALS));
    }

    // The refused calls changed nothing.
    assert_eq!(webhook_ca(&app, &admin).await, stored);
    // ROLE_USER may still download the listener's CA.
    let r = app.authed(Method::GET, EXTERNAL_CA, &user).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}
