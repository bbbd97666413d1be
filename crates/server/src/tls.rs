//! The HTTPS listener's certificate. On first start wabiz makes a small local CA
//! and a server certificate signed by it, and keeps both in DATA_DIR/tls, so
//! clients can trust the CA once (`GET /v1/certificates/external/ca` will serve
//! it) and keep trusting the server across restarts.

use std::path::{Path, PathBuf};

use std::sync::{Arc, RwLock};

use anyhow::{Context, Result};
use axum_server::tls_rustls::RustlsConfig;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use wabiz_domain::WaError;
use wabiz_domain::certificates::{
    EXTERNAL_CERTIFICATE_DOC, ExternalBundle, ListenerCertificates, parse_external_bundle,
};
use wabiz_domain::clock::Clock;
use wabiz_domain::ports::{SettingWrite, Store};

/// PEM material for the listener.
#[derive(Clone)]
pub struct TlsMaterial {
    /// The server certificate followed by its chain.
    pub cert_chain_pem: String,
    pub key_pem: String,
    /// The CA that signed it, when wabiz generated it.
    pub ca_pem: Option<String>,
}

impl std::fmt::Debug for TlsMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsMaterial").field("has_ca", &self.ca_pem.is_some()).finish_non_exhaustive()
    }
}

struct Paths {
    ca: PathBuf,
    ca_key: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

fn paths(dir: &Path) -> Paths {
    Paths {
        ca: dir.join("ca.pem"),
        ca_key: dir.join("ca-key.pem"),
        cert: dir.join("server.pem"),
        key: dir.join("server-key.pem"),
    }
}

/// Loads the generated certificate from `dir`, generating it first if absent.
/// `names` are the DNS names and IP addresses the certificate must cover.
pub fn load_or_generate(dir: &Path, names: &[String]) -> Result<TlsMaterial> {
    let p = paths(dir);
    if p.cert.exists() && p.key.exists() {
        let material = TlsMaterial {
            cert_chain_pem: read(&p.cert)?,
            key_pem: read(&p.key)?,
            ca_pem: if p.ca.exists() { Some(read(&p.ca)?) } else { None },
        };
        tracing::info!(dir = %dir.display(), "using the TLS certificate kept in the data dir");
        return Ok(material);
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let generated = generate(names)?;
    write_secret(&p.ca_key, &generated.ca_key_pem)?;
    write_public(&p.ca, &generated.ca_pem)?;
    write_secret(&p.key, &generated.key_pem)?;
    // Written last: its presence means the set is complete.
    write_public(&p.cert, &generated.cert_chain_pem)?;
    tracing::info!(dir = %dir.display(), names = ?names, "generated a self-signed CA and server certificate");
    Ok(TlsMaterial {
        cert_chain_pem: generated.cert_chain_pem,
        key_pem: generated.key_pem,
        ca_pem: Some(generated.ca_pem),
    })
}

/// Loads operator-supplied PEM files.
pub fn load_files(cert: &Path, key: &Path) -> Result<TlsMaterial> {
    Ok(TlsMaterial { cert_chain_pem: read(cert)?, key_pem: read(key)?, ca_pem: None })
}

struct Generated {
    ca_pem: String,
    ca_key_pem: String,
    cert_chain_pem: String,
    key_pem: String,
}

fn generate(names: &[String]) -> Result<Generated> {
    let now = time::OffsetDateTime::now_utc();

    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages =
        vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "wabiz local CA");
    dn.push(DnType::OrganizationName, "wabiz");
    ca_params.distinguished_name = dn;
    ca_params.not_before = now - time::Duration::days(1);
    ca_params.not_after = now + time::Duration::days(20 * 365);
    let ca_key = KeyPair::generate()?;
    let ca_key_pem = ca_key.serialize_pem();
    let ca = CertifiedIssuer::self_signed(ca_params, ca_key)?;

    let mut leaf_params = CertificateParams::new(names.to_vec())?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, names.first().map_or("localhost", String::as_str));
    leaf_params.distinguished_name = dn;
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf_params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    leaf_params.not_before = now - time::Duration::days(1);
    leaf_params.not_after = now + time::Duration::days(10 * 365);
    let leaf_key = KeyPair::generate()?;
    let leaf = leaf_params.signed_by(&leaf_key, &ca)?;

    Ok(Generated {
        cert_chain_pem: format!("{}{}", leaf.pem(), ca.pem()),
        key_pem: leaf_key.serialize_pem(),
        ca_pem: ca.pem(),
        ca_key_pem,
    })
}

/// The names a generated certificate covers: loopback, the machine's host
/// name, and any configured server names.
pub fn default_names(hostname: &str, extra: &[String]) -> Vec<String> {
    let mut names = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned()];
    for n in std::iter::once(hostname.to_owned()).chain(extra.iter().cloned()) {
        let n = n.trim().to_owned();
        if is_host_name(&n) && !names.contains(&n) {
            names.push(n);
        }
    }
    names
}

/// A DNS name or an IP address, as a certificate's subject alternative name.
fn is_host_name(n: &str) -> bool {
    n.parse::<std::net::IpAddr>().is_ok()
        || (!n.is_empty()
            && n.len() <= 253
            && n.split('.').all(|label| {
                !label.is_empty() && label.len() <= 63 && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            }))
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

fn write_public(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// Writes a private key readable by the owner only.
fn write_secret(path: &Path, text: &str) -> Result<()> {
    use std::io::Write as _;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).with_context(|| format!("cannot write {}", path.display()))?;
    f.write_all(text.as_bytes()).with_context(|| format!("cannot write {}", path.display()))
}

// ------------------------------------------------------------------ uploads

/// The listener's certificate at run time: serves `GET …/external/ca` and
/// installs uploads (`POST /v1/certificates/external`) without a restart.
pub struct TlsManager {
    /// `None` under `--insecure-http`: uploads are kept (and used once HTTPS is
    /// on) but there is no listener to reload.
    rustls: Option<RustlsConfig>,
    ca: RwLock<Option<String>>,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl TlsManager {
    pub fn new(rustls: Option<RustlsConfig>, ca: Option<String>, store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self { rustls, ca: RwLock::new(ca), store, clock }
    }
}

/// The uploaded bundle kept in the store, if any.
pub async fn stored_upload(store: &dyn Store) -> Result<Option<TlsMaterial>> {
    let Some(text) = store.get_setting(EXTERNAL_CERTIFICATE_DOC).await? else { return Ok(None) };
    let b: ExternalBundle = serde_json::from_str(&text).context("the stored uploaded certificate does not parse")?;
    Ok(Some(TlsMaterial { cert_chain_pem: b.chain_pem, key_pem: b.key_pem, ca_pem: Some(b.ca_pem) }))
}

/// The CA certificates of an operator's `--tls-cert-file`: all but the first.
pub fn ca_of_chain(chain_pem: &str) -> Option<String> {
    let marker = "-----BEGIN CERTIFICATE-----";
    let second = chain_pem.match_indices(marker).nth(1)?.0;
    Some(chain_pem[second..].to_owned())
}

/// Checks that the key is usable and belongs to the server certificate.
fn check_key_pair(bundle: &ExternalBundle) -> Result<(), WaError> {
    let key = PrivateKeyDer::from_pem_slice(bundle.key_pem.as_bytes())
        .map_err(|_| WaError::invalid("The private key cannot be read"))?;
    let chain = CertificateDer::pem_slice_iter(bundle.chain_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| WaError::invalid("Invalid certificate"))?;
    match rustls::sign::CertifiedKey::from_der(chain, key, &rustls::crypto::ring::default_provider()) {
        Ok(_) => Ok(()),
        Err(rustls::Error::InconsistentKeys(_)) => {
            Err(WaError::invalid("The private key does not match the server certificate"))
        }
        Err(e) => Err(WaError::invalid(format!("The private key cannot be used: {e}"))),
    }
}

#[async_trait::async_trait]
impl ListenerCertificates for TlsManager {
    async fn install(&self, bundle_pem: &str) -> Result<(), WaError> {
        let bundle = parse_external_bundle(bundle_pem)?;
        check_key_pair(&bundle)?;
        let doc = serde_json::to_string(&bundle).map_err(|e| WaError::internal(e.to_string()))?;
        self.store
            .write_settings(
                vec![SettingWrite::Put { name: EXTERNAL_CERTIFICATE_DOC.into(), value: doc }],
                self.clock.now_unix(),
            )
            .await?;
        if let Some(cfg) = &self.rustls {
            cfg.reload_from_pem(bundle.chain_pem.clone().into_bytes(), bundle.key_pem.clone().into_bytes())
                .await
                .map_err(|e| WaError::invalid(format!("The certificate cannot be served: {e}")))?;
        }
        *self.ca.write().unwrap_or_else(|e| e.into_inner()) = Some(bundle.ca_pem);
        tracing::info!("installed an uploaded HTTPS certificate");
        Ok(())
    }

    fn ca_pem(&self) -> Option<String> {
        self.ca.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_once_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let names = default_names("testhost", &["api.example.test".into()]);
        let first = load_or_generate(dir.path(), &names).unwrap();
        assert!(first.cert_chain_pem.matches("BEGIN CERTIFICATE").count() == 2);
        assert!(first.key_pem.contains("PRIVATE KEY"));
        let again = load_or_generate(dir.path(), &names).unwrap();
        assert_eq!(first.cert_chain_pem, again.cert_chain_pem);
        assert_eq!(first.ca_pem, again.ca_pem);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.path().join("server-key.pem")).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "key readable by others");
        }
    }

    #[test]
    fn names() {
        let n = default_names("host", &["bad name".into(), "ok.example".into(), "host".into()]);
        assert_eq!(n, vec!["localhost", "127.0.0.1", "::1", "host", "ok.example"]);
    }
}
