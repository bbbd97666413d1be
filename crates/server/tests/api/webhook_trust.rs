//! Which HTTPS receivers the webhook client trusts, with real TLS receivers:
//! one whose certificate a CA signed (the CA uploaded), and the usual test
//! receiver secured by a self-signed certificate that is uploaded itself,
//! made by rcgen and by the exact `openssl req -x509` command people use.
//! An uploaded certificate still has to name the host called and be valid.

use std::process::Command;
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use reqwest::Method;
use serde_json::json;

use crate::helpers::*;
use crate::receiver::{Receiver, Served};
use crate::webhooks::{configure, inbound, queue};

const WAIT: Duration = Duration::from_secs(20);

/// A server with instant receipts and short retries, pointed at `rx`.
async fn server_for(rx: &Receiver) -> (TestApp, String) {
    let app = TestApp::spawn_with(Spawn::instant_receipts()).await;
    let admin = app.admin_token().await;
    configure(
        &app,
        &admin,
        json!({"webhooks": {"url": rx.url()}, "callback_backoff_delay_ms": 100, "max_callback_backoff_delay_ms": 200}),
    )
    .await;
    (app, admin)
}

async fn upload_webhook_ca(app: &TestApp, admin: &str, pem: &str) {
    let r = app
        .authed(Method::POST, "/v1/certificates/webhooks/ca", admin)
        .header("content-type", "text/plain")
        .body(pem.to_owned())
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{:?}", r.text().await);
}

/// What the first failed attempt of the first pending callback got.
async fn first_failure(app: &TestApp, admin: &str) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        let q = queue(app, admin).await;
        if q["pending"][0]["attempts"].as_u64().unwrap_or(0) >= 1 {
            return q["pending"][0]["last_result"].as_str().unwrap_or_default().to_owned();
        }
        assert!(Instant::now() < deadline, "no failed attempt: {q}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn say(app: &TestApp, admin: &str, body: &str) {
    inbound(app, admin, json!({"from": "16315551234", "type": "text", "text": {"body": body}})).await;
}

/// A self-signed certificate for `names`, marked as a CA the way
/// `openssl req -x509` marks it, valid from `not_before` to `not_after`.
fn self_signed(names: &[&str], not_before: (i32, u8, u8), not_after: (i32, u8, u8)) -> Served {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.not_before = rcgen::date_time_ymd(not_before.0, not_before.1, not_before.2);
    params.not_after = rcgen::date_time_ymd(not_after.0, not_after.1, not_after.2);
    let cert = params.self_signed(&key).unwrap();
    Served { cert_pem: cert.pem(), key_pem: key.serialize_pem() }
}

const NOW_ISH: (i32, u8, u8) = (2020, 1, 1);
const LATER: (i32, u8, u8) = (2099, 1, 1);

#[tokio::test]
async fn https_receivers_are_trusted_through_the_webhook_ca() {
    let rx = Receiver::start_tls().await;
    let (app, admin) = server_for(&rx).await;
    say(&app, &admin, "tls").await;
    // Unknown CA: the handshake fails, the callback waits, and the queue
    // says why.
    let why = first_failure(&app, &admin).await;
    assert!(why.starts_with("TLS failed: ") && why.contains("certificate"), "{why}");
    assert!(rx.hits().is_empty());
    upload_webhook_ca(&app, &admin, &rx.ca_pem.clone().unwrap()).await;
    let hits = rx.wait_for(WAIT, "delivery once the CA is trusted", |h| !h.is_empty()).await;
    assert_eq!(hits[0].body["messages"][0]["text"]["body"], "tls");
}

/// The receiver's own self-signed certificate (a CA certificate, which the
/// usual rules refuse as a server's), uploaded, is trusted for it.
#[tokio::test]
async fn a_receivers_own_self_signed_certificate_is_trusted_once_uploaded() {
    let served = self_signed(&["127.0.0.1", "localhost"], NOW_ISH, LATER);
    let cert = served.cert_pem.clone();
    let rx = Receiver::start_serving(served, "127.0.0.1").await;
    let (app, admin) = server_for(&rx).await;
    say(&app, &admin, "pinned").await;
    let why = first_failure(&app, &admin).await;
    assert!(why.starts_with("TLS failed: "), "refused before the upload: {why}");
    upload_webhook_ca(&app, &admin, &cert).await;
    let hits = rx.wait_for(WAIT, "delivery once the certificate is uploaded", |h| !h.is_empty()).await;
    assert_eq!(hits[0].body["messages"][0]["text"]["body"], "pinned");
}

/// The exact command of the usual instructions: a certificate with only a
/// common name, no alternative names, and the CA flag openssl sets.
#[tokio::test]
async fn the_certificate_of_openssl_req_x509_works_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out", "cert.pem"])
        .args(["-days", "2", "-subj", "/CN=localhost"])
        .current_dir(dir.path())
        .output()
        .expect("openssl runs (Debian: apt-get install openssl)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).unwrap();
    let (cert_pem, key_pem) = (read("cert.pem"), read("key.pem"));
    let rx = Receiver::start_serving(Served { cert_pem: cert_pem.clone(), key_pem }, "localhost").await;
    let (app, admin) = server_for(&rx).await;
    upload_webhook_ca(&app, &admin, &cert_pem).await;
    say(&app, &admin, "openssl").await;
    let hits = rx.wait_for(WAIT, "delivery to the openssl-secured receiver", |h| !h.is_empty()).await;
    assert_eq!(hits[0].body["messages"][0]["text"]["body"], "openssl");
}

/// An uploaded certificate is good only for the names it lists, and only
/// while it is valid.
#[tokio::test]
async fn an_uploaded_certificate_still_needs_the_right_name_and_dates() {
    for (served, want) in [
        (self_signed(&["hooks.example.org"], NOW_ISH, LATER), "not valid for name"),
        (self_signed(&["127.0.0.1"], (2019, 1, 1), (2020, 1, 1)), "expired"),
    ] {
        let cert = served.cert_pem.clone();
        let rx = Receiver::start_serving(served, "127.0.0.1").await;
        let (app, admin) = server_for(&rx).await;
        upload_webhook_ca(&app, &admin, &cert).await;
        say(&app, &admin, "refused").await;
        let why = first_failure(&app, &admin).await;
        assert!(why.starts_with("TLS failed: ") && why.to_lowercase().contains(want), "want {want}: {why}");
        assert!(rx.hits().is_empty());
    }
}
