//! Meta signs each webhook POST with the app secret:
//! `X-Hub-Signature-256: sha256=<hex of HMAC-SHA256(app secret, raw body)>`.
//! A POST whose signature is missing or wrong is refused, and nothing of it
//! is forwarded.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The header Meta signs webhook POSTs with.
pub const HEADER: &str = "x-hub-signature-256";

/// Why a webhook POST's signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("no X-Hub-Signature-256 header")]
    Missing,
    #[error("X-Hub-Signature-256 is not `sha256=` and 64 hex digits")]
    Malformed,
    #[error("X-Hub-Signature-256 does not match the body")]
    Mismatch,
}

/// Checks `header` (the value of `X-Hub-Signature-256`) against `body` as it
/// arrived, in constant time.
pub fn verify(app_secret: &[u8], body: &[u8], header: Option<&str>) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let hex = header.trim().strip_prefix("sha256=").ok_or(SignatureError::Malformed)?;
    let given = decode_hex(hex).ok_or(SignatureError::Malformed)?;
    mac(app_secret, body).verify_slice(&given).map_err(|_| SignatureError::Mismatch)
}

/// The header value Meta would send for `body` (the tests' stand-in signs
/// with it).
pub fn sign(app_secret: &[u8], body: &[u8]) -> String {
    let digest = mac(app_secret, body).finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

fn mac(app_secret: &[u8], body: &[u8]) -> Hmac<Sha256> {
    // HMAC takes a key of any length: this cannot fail.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(app_secret).unwrap_or_else(|_| unreachable!());
    mac.update(body);
    mac
}

/// 32 bytes from 64 hex digits (either case), or `None`.
fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if hex.len() != 64 || !hex.is_ascii() {
        return None;
    }
    (0..32).map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"app-secret";
    const BODY: &[u8] = br#"{"object":"whatsapp_business_account","entry":[]}"#;

    #[test]
    fn a_signature_of_the_body_passes_and_anything_else_is_refused() {
        let good = sign(SECRET, BODY);
        assert!(good.starts_with("sha256=") && good.len() == 71, "{good}");
        assert_eq!(verify(SECRET, BODY, Some(&good)), Ok(()));
        assert_eq!(
            verify(SECRET, BODY, Some(&good.to_uppercase().replace("SHA256=", "sha256="))),
            Ok(()),
            "hex in any case"
        );
        assert_eq!(verify(SECRET, BODY, None), Err(SignatureError::Missing));
        assert_eq!(verify(SECRET, BODY, Some("sha1=abc")), Err(SignatureError::Malformed));
        assert_eq!(verify(SECRET, BODY, Some("sha256=zz")), Err(SignatureError::Malformed));
        assert_eq!(verify(SECRET, BODY, Some(&format!("sha256={}", "g".repeat(64)))), Err(SignatureError::Malformed));
        assert_eq!(verify(b"another secret", BODY, Some(&good)), Err(SignatureError::Mismatch));
        let mut changed = BODY.to_vec();
        changed[2] ^= 1;
        assert_eq!(verify(SECRET, &changed, Some(&good)), Err(SignatureError::Mismatch), "one bit of the body");
    }

    /// The published HMAC-SHA256 example (key `key`, the quick brown fox).
    #[test]
    fn the_signature_is_hmac_sha256_in_hex() {
        assert_eq!(
            sign(b"key", b"The quick brown fox jumps over the lazy dog"),
            "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
    }
}
