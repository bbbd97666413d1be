//! The HTTP client callbacks are POSTed with. It trusts the system's root
//! certificates plus the uploaded webhook CA (`certificates.md`; which
//! certificates pass is `trust.rs`), follows no redirects (only a 200 from
//! the configured URL acknowledges), and gives up on an attempt after the
//! configured timeout.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;

use crate::trust::WebhookVerifier;

/// The system roots, read once (reading them walks the certificate folder).
fn system_roots() -> &'static [CertificateDer<'static>] {
    static ROOTS: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let found = rustls_native_certs::load_native_certs();
        for e in &found.errors {
            tracing::warn!(error = %e, "webhooks: a system root certificate could not be read");
        }
        found.certs
    })
}

/// The certificates of a PEM bundle (others are skipped with a warning: the
/// bundle was checked when it was uploaded).
fn pem_certs(pem: &str) -> Vec<CertificateDer<'static>> {
    let mut reader = pem.as_bytes();
    rustls_pemfile::certs(&mut reader)
        .filter_map(|c| match c {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::warn!(error = %e, "webhooks: skipping an unreadable webhook CA certificate");
                None
            }
        })
        .collect()
}

/// Whether a webhook URL is `http://`, which callbacks are sent to only with
/// `--allow-http-webhooks`.
pub fn is_plain_http(url: &str) -> bool {
    url.get(..7).is_some_and(|scheme| scheme.eq_ignore_ascii_case("http://"))
}

/// A client for the current trust settings. Webhooks follow no redirect
/// (only a 200 from the configured URL acknowledges); media links follow up
/// to five, as CDNs use them.
pub fn build(webhook_ca: Option<&str>, timeout: Duration, follow_redirects: bool) -> Result<reqwest::Client, String> {
    let mut roots = RootCertStore::empty();
    let (_, ignored) = roots.add_parsable_certificates(system_roots().iter().cloned());
    if ignored > 0 {
        tracing::debug!(ignored, "webhooks: some system root certificates are not usable");
    }
    let uploaded = webhook_ca.map(pem_certs).unwrap_or_default();
    for cert in &uploaded {
        // A receiver's own self-signed certificate may not be usable as a
        // root; `WebhookVerifier` still accepts it for that receiver.
        if let Err(e) = roots.add(cert.clone()) {
            tracing::debug!(error = %e, "webhooks: an uploaded certificate is not usable as a root");
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = WebhookVerifier::new(roots, uploaded, Arc::clone(&provider));
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .redirect(if follow_redirects {
            reqwest::redirect::Policy::limited(5)
        } else {
            reqwest::redirect::Policy::none()
        })
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .pool_max_idle_per_host(64)
        .http1_only()
        // The URL (with its shared secret) goes to the receiver only.
        .no_proxy()
        .user_agent(concat!("wabiz/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| e.to_string())
}
