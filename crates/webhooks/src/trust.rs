//! Which receivers' certificates the webhook client accepts.
//!
//! A chain to a trusted root, as usual: the system's roots plus every
//! certificate of the uploaded webhook CA bundle. And one case the usual
//! rules refuse: a receiver whose certificate is itself one of the uploaded
//! certificates. That is how a test receiver is usually secured
//! (`openssl req -x509 -newkey rsa:2048 -nodes …`, then the certificate
//! uploaded with `POST /v1/certificates/webhooks/ca`), and the Webapp
//! trusted it; webpki refuses such a certificate as a server's own, since it
//! says it is a CA (`CaUsedAsEndEntity`). Such a pinned certificate is
//! accepted only when it is byte for byte one that was uploaded, valid now,
//! and names the host that was called (its subject alternative names, or
//! its common name when it has none, as `openssl req -subj /CN=…` makes it).

use std::net::IpAddr;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{WebPkiServerVerifier, verify_server_name};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{CertificateError, DigitallySignedStruct, Error, RootCertStore, SignatureScheme};
use x509_parser::prelude::{ASN1Time, FromDer, X509Certificate};

/// Chains to the roots, or one of the uploaded certificates itself.
#[derive(Debug)]
pub struct WebhookVerifier {
    /// `None` when there is no root at all (a machine without a certificate
    /// store, and nothing uploaded that can be a root).
    chains: Option<Arc<WebPkiServerVerifier>>,
    pinned: Vec<CertificateDer<'static>>,
    provider: Arc<CryptoProvider>,
}

impl WebhookVerifier {
    /// `roots` verify chains; `uploaded` are also accepted as the receiver's
    /// own certificate.
    pub fn new(roots: RootCertStore, uploaded: Vec<CertificateDer<'static>>, provider: Arc<CryptoProvider>) -> Self {
        let chains = if roots.is_empty() {
            None
        } else {
            match WebPkiServerVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider)).build() {
                Ok(v) => Some(v),
                Err(e) => {
                    tracing::warn!(error = %e, "webhooks: the trusted roots cannot verify certificates");
                    None
                }
            }
        };
        Self { chains, pinned: uploaded, provider }
    }
}

impl ServerCertVerifier for WebhookVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let by_chain = match &self.chains {
            Some(v) => v.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now),
            None => Err(Error::InvalidCertificate(CertificateError::UnknownIssuer)),
        };
        match by_chain {
            Ok(ok) => Ok(ok),
            Err(chain_error) if self.pinned.iter().any(|p| p.as_ref() == end_entity.as_ref()) => {
                check_pinned(end_entity, server_name, now)?;
                tracing::trace!(refused_by_chain = %chain_error, "webhooks: receiver trusted by its uploaded certificate");
                Ok(ServerCertVerified::assertion())
            }
            Err(e) => Err(e),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

/// An uploaded certificate used as the receiver's own: valid at `now`, and
/// for the name called.
fn check_pinned(der: &CertificateDer<'_>, server_name: &ServerName<'_>, now: UnixTime) -> Result<(), Error> {
    let bad = |e: CertificateError| Error::InvalidCertificate(e);
    let Ok((_, cert)) = X509Certificate::from_der(der.as_ref()) else {
        return Err(bad(CertificateError::BadEncoding));
    };
    let at = i64::try_from(now.as_secs()).ok().and_then(|s| ASN1Time::from_timestamp(s).ok());
    if !at.is_some_and(|at| cert.validity().is_valid_at(at)) {
        return Err(bad(if at.is_some_and(|at| at < cert.validity().not_before) {
            CertificateError::NotValidYet
        } else {
            CertificateError::Expired
        }));
    }
    let has_alt_names =
        cert.subject_alternative_name().ok().flatten().is_some_and(|san| !san.value.general_names.is_empty());
    if has_alt_names {
        // The usual rules for the names a certificate lists.
        let parsed = ParsedCertificate::try_from(der)?;
        return verify_server_name(&parsed, server_name);
    }
    // No alternative names: the common name, the way older clients read it.
    let called = match server_name {
        ServerName::DnsName(name) => name.as_ref().to_ascii_lowercase(),
        ServerName::IpAddress(ip) => IpAddr::from(*ip).to_string(),
        _ => return Err(bad(CertificateError::NotValidForName)),
    };
    let common_names = cert.subject().iter_common_name().filter_map(|cn| cn.as_str().ok());
    if common_names.into_iter().any(|cn| name_matches(cn, &called)) {
        Ok(())
    } else {
        Err(bad(CertificateError::NotValidForName))
    }
}

/// A common name against the host called: equal ignoring case, or a
/// wildcard standing for exactly the first label (`*.example.com`).
fn name_matches(pattern: &str, host: &str) -> bool {
    let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
    let host = host.trim_end_matches('.');
    if pattern == host {
        return true;
    }
    match (pattern.strip_prefix("*."), host.split_once('.')) {
        (Some(rest), Some((first, host_rest))) => !first.is_empty() && rest == host_rest && rest.contains('.'),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_names_match_exactly_or_by_one_wildcard_label() {
        assert!(name_matches("localhost", "localhost"));
        assert!(name_matches("LocalHost", "localhost"));
        assert!(name_matches("*.example.com", "hooks.example.com"));
        assert!(!name_matches("*.example.com", "a.b.example.com"));
        assert!(!name_matches("*.example.com", "example.com"));
        assert!(!name_matches("*.com", "example.com"));
        assert!(!name_matches("localhost", "127.0.0.1"));
        assert!(name_matches("127.0.0.1", "127.0.0.1"));
    }
}
