//! Checking uploaded PEM certificates (`certificates.md`): the listener's own
//! bundle (key, server certificate, CA certificates) and the webhook CA bundle.
//! Parsing only; installing a listener certificate is the server's job (it
//! also checks that the key matches, which needs the TLS library).

use rustls_pki_types::pem::{PemObject, SectionKind};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::error::{ErrorCode, WaError};

/// The HTTPS listener's certificate, as the API sees it. The server implements
/// it (checking that the key matches needs the TLS library, and installing
/// needs the listener).
#[async_trait::async_trait]
pub trait ListenerCertificates: Send + Sync {
    /// Checks an uploaded bundle (`key`, server certificate, CA certificates),
    /// keeps it, and serves it to new connections from now on.
    async fn install(&self, bundle_pem: &str) -> Result<(), WaError>;
    /// The CA certificates (PEM) of the served certificate, if known.
    fn ca_pem(&self) -> Option<String>;
}

/// The settings document holding an uploaded listener bundle.
pub const EXTERNAL_CERTIFICATE_DOC: &str = "external_certificate";

/// Largest certificate upload accepted (bytes).
pub const MAX_PEM_BYTES: usize = 1024 * 1024;

const CERT_MARKER: &str = "-----BEGIN CERTIFICATE-----";

/// An uploaded listener bundle, split the Webapp's way: everything before the
/// first certificate is the key section, the first certificate is the server's,
/// the rest are its CA certificates.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ExternalBundle {
    /// The private key, as PEM.
    pub key_pem: String,
    /// Server certificate followed by the CA certificates, as PEM.
    pub chain_pem: String,
    /// The CA certificates alone, as PEM (what `GET /v1/certificates/external/ca` serves).
    pub ca_pem: String,
}

impl std::fmt::Debug for ExternalBundle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExternalBundle").field("ca_pem", &self.ca_pem).finish_non_exhaustive()
    }
}

fn invalid_certificate() -> WaError {
    WaError::invalid("Invalid certificate")
}

/// Every PEM section of `text`, with its kind.
fn sections(text: &str) -> Result<Vec<(SectionKind, Vec<u8>)>, WaError> {
    <(SectionKind, Vec<u8>)>::pem_slice_iter(text.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| invalid_certificate())
}

fn is_private_key(kind: SectionKind) -> bool {
    matches!(kind, SectionKind::PrivateKey | SectionKind::RsaPrivateKey | SectionKind::EcPrivateKey)
}

/// Encrypted keys use PEM labels the parser does not know; spot them by text.
fn mentions_encrypted_key(text: &str) -> bool {
    text.contains("ENCRYPTED PRIVATE KEY") || text.contains("Proc-Type: 4,ENCRYPTED")
}

fn parse_x509(der: &[u8]) -> Result<X509Certificate<'_>, WaError> {
    match X509Certificate::from_der(der) {
        Ok(([], cert)) => Ok(cert),
        _ => Err(invalid_certificate()),
    }
}

fn to_pem(label: &str, der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Checks the body of `POST /v1/certificates/external` and splits it.
pub fn parse_external_bundle(text: &str) -> Result<ExternalBundle, WaError> {
    if text.trim().is_empty() {
        return Err(WaError::invalid("Request had no (empty) content"));
    }
    if text.matches(CERT_MARKER).count() < 2 {
        return Err(WaError::invalid(
            "Certificate must contain private key, cert and at least one CA certificate sections",
        ));
    }
    let first_cert = text.find(CERT_MARKER).unwrap_or(0);
    let (key_part, cert_part) = text.split_at(first_cert);
    if mentions_encrypted_key(key_part) {
        return Err(WaError::invalid("The private key must not be encrypted"));
    }
    let keys: Vec<_> = sections(key_part)?.into_iter().filter(|(k, _)| is_private_key(*k)).collect();
    let [(kind, key_der)] = keys.as_slice() else {
        return Err(WaError::invalid("The private key section must hold exactly one unencrypted private key"));
    };
    let label = match kind {
        SectionKind::RsaPrivateKey => "RSA PRIVATE KEY",
        SectionKind::EcPrivateKey => "EC PRIVATE KEY",
        _ => "PRIVATE KEY",
    };
    let certs: Vec<Vec<u8>> =
        sections(cert_part)?.into_iter().filter(|(k, _)| *k == SectionKind::Certificate).map(|(_, der)| der).collect();
    if certs.len() < 2 {
        return Err(WaError::invalid(
            "Certificate must contain private key, cert and at least one CA certificate sections",
        ));
    }
    for der in &certs {
        parse_x509(der)?;
    }
    if !parse_x509(&certs[0])?.validity().is_valid() {
        return Err(WaError::invalid("The server certificate is expired or not yet valid"));
    }
    let chain_pem: String = certs.iter().map(|d| to_pem("CERTIFICATE", d)).collect();
    let ca_pem: String = certs[1..].iter().map(|d| to_pem("CERTIFICATE", d)).collect();
    Ok(ExternalBundle { key_pem: to_pem(label, key_der), chain_pem, ca_pem })
}

/// Checks the body of `POST /v1/certificates/webhooks/ca`: one or more
/// certificates and nothing else.
pub fn check_webhook_ca(text: &str) -> Result<(), WaError> {
    if text.trim().is_empty() {
        return Err(WaError::new(ErrorCode::RequiredParameterMissing, "No cert data found"));
    }
    if mentions_encrypted_key(text) {
        return Err(WaError::invalid("Private keys are not accepted"));
    }
    let all = sections(text)?;
    if all.iter().any(|(k, _)| is_private_key(*k)) {
        return Err(WaError::invalid("Private keys are not accepted"));
    }
    let certs: Vec<_> = all.iter().filter(|(k, _)| *k == SectionKind::Certificate).collect();
    if certs.is_empty() || certs.len() != all.len() {
        return Err(invalid_certificate());
    }
    for (_, der) in certs {
        parse_x509(der)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A throwaway CA and a server certificate it signed, made with openssl for these tests.
    const CERT: &str = include_str!("../testdata/cert.pem");
    const KEY: &str = include_str!("../testdata/key.pem");
    const CA: &str = include_str!("../testdata/ca.pem");

    fn details(e: WaError) -> String {
        e.errors[0].details.clone().unwrap_or_default().into_owned()
    }

    #[test]
    fn external_bundle_is_split() {
        let b = parse_external_bundle(&format!("{KEY}{CERT}{CA}")).unwrap();
        assert!(b.key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        assert_eq!(b.chain_pem.matches(CERT_MARKER).count(), 2);
        assert_eq!(b.ca_pem.matches(CERT_MARKER).count(), 1);
        assert_eq!(b.ca_pem.replace('\n', ""), CA.trim().replace('\n', ""));
    }

    #[test]
    fn external_bundle_errors() {
        assert_eq!(details(parse_external_bundle("").unwrap_err()), "Request had no (empty) content");
        assert_eq!(
            details(parse_external_bundle(&format!("{KEY}{CERT}")).unwrap_err()),
            "Certificate must contain private key, cert and at least one CA certificate sections"
        );
        assert!(parse_external_bundle(&format!("{CERT}{CA}")).is_err(), "no key");
        assert!(parse_external_bundle(&format!("{KEY}{KEY}{CERT}{CA}")).is_err(), "two keys");
        let encrypted = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n";
        assert!(parse_external_bundle(&format!("{encrypted}{CERT}{CA}")).is_err());
        let garbage = format!("{KEY}{CERT_MARKER}\nnot base64 at all!\n-----END CERTIFICATE-----\n{CA}");
        assert!(parse_external_bundle(&garbage).is_err());
        let not_x509 = format!("{KEY}{CERT_MARKER}\nAAAA\n-----END CERTIFICATE-----\n{CA}");
        assert_eq!(details(parse_external_bundle(&not_x509).unwrap_err()), "Invalid certificate");
    }

    #[test]
    fn webhook_ca_rules() {
        assert!(check_webhook_ca(CA).is_ok());
        assert!(check_webhook_ca(&format!("{CA}{CERT}")).is_ok());
        let e = check_webhook_ca("").unwrap_err();
        assert_eq!((e.errors[0].code.code(), details(e)), (1008, "No cert data found".to_owned()));
        assert_eq!(details(check_webhook_ca(&format!("{CA}{KEY}")).unwrap_err()), "Private keys are not accepted");
        assert_eq!(details(check_webhook_ca("hello").unwrap_err()), "Invalid certificate");
        let not_x509 = format!("{CERT_MARKER}\nAAAA\n-----END CERTIFICATE-----\n");
        assert_eq!(details(check_webhook_ca(&not_x509).unwrap_err()), "Invalid certificate");
    }
}
