//! Bearer tokens in the Webapp's format: an HS256 JWS whose header is exactly
//! `{"alg": "HS256", "typ": "JWT"}` (with the spaces), with claims `user`, `iat`,
//! `exp` and `wa:rand` (`users-auth.md` §4). The signature makes tokens
//! unguessable; the server-side token table makes them revocable.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The header bytes of every token, as the original Webapp wrote them.
pub const HEADER_JSON: &str = r#"{"alg": "HS256", "typ": "JWT"}"#;

/// What a token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub user: String,
    pub iat: i64,
    pub exp: i64,
    #[serde(rename = "wa:rand")]
    pub rand: u64,
}

/// Why a presented token was refused before any lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// Not three base64url parts, or claims that do not parse.
    Malformed,
    /// The HMAC does not match.
    BadSignature,
}

/// Signs and verifies tokens with one HMAC-SHA256 key.
#[derive(Clone)]
pub struct TokenSigner {
    mac: Hmac<Sha256>,
    header_b64: String,
}

impl std::fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSigner(<key hidden>)")
    }
}

impl TokenSigner {
    /// A signer for `key` (any length; HMAC pads or hashes it).
    pub fn new(key: &[u8]) -> Self {
        // HMAC accepts keys of every length, so this cannot fail.
        let mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        Self { mac, header_b64: URL_SAFE_NO_PAD.encode(HEADER_JSON) }
    }

    /// Encodes and signs `claims`.
    pub fn sign(&self, claims: &Claims) -> String {
        // Serializing four plain fields cannot fail.
        let payload = serde_json::to_vec(claims).unwrap_or_default();
        let mut token = String::with_capacity(200);
        token.push_str(&self.header_b64);
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(payload));
        let mut mac = self.mac.clone();
        mac.update(token.as_bytes());
        let sig = mac.finalize().into_bytes();
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(sig));
        token
    }

    /// Checks the signature (in constant time) and returns the claims. Expiry is
    /// the caller's business: it needs the clock and the skew rule.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let mut parts = token.split('.');
        let (Some(header), Some(payload_b64), Some(sig), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed);
        };
        let sig = URL_SAFE_NO_PAD.decode(sig).map_err(|_| TokenError::Malformed)?;
        let payload = URL_SAFE_NO_PAD.decode(payload_b64).map_err(|_| TokenError::Malformed)?;
        if header.is_empty() || URL_SAFE_NO_PAD.decode(header).is_err() {
            return Err(TokenError::Malformed);
        }
        // The signed part is `header.payload`, exactly as presented.
        let signed = &token[..header.len() + 1 + payload_b64.len()];
        let mut mac = self.mac.clone();
        mac.update(signed.as_bytes());
        mac.verify_slice(&sig).map_err(|_| TokenError::BadSignature)?;
        serde_json::from_slice(&payload).map_err(|_| TokenError::Malformed)
    }
}

/// The digest under which a token is stored (hex SHA-256).
pub fn token_digest(token: &str) -> String {
    crate::hex::encode(&Sha256::digest(token.as_bytes()))
}

/// A fresh random 53-bit `wa:rand` (53 bits so JavaScript clients that decode the
/// claims read it exactly).
pub fn random_claim() -> u64 {
    getrandom::u64().unwrap_or(0) >> 11
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> Claims {
        Claims { user: "admin".into(), iat: 1_700_000_000, exp: 1_700_604_800, rand: 42 }
    }

    #[test]
    fn format_matches_the_webapp() {
        let t = TokenSigner::new(b"k").sign(&claims());
        assert!(t.starts_with("eyJhbGciOiAiSFMyNTYiLCAidHlwIjogIkpXVCJ9."), "{t}");
        let payload = t.split('.').nth(1).unwrap();
        let json = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        assert!(json.starts_with(r#"{"user":"admin","iat":"#), "{json}");
        assert!(json.contains(r#""wa:rand":42"#));
    }

    #[test]
    fn verify_accepts_own_and_rejects_tampering() {
        let s = TokenSigner::new(b"key-one");
        let t = s.sign(&claims());
        assert_eq!(s.verify(&t), Ok(claims()));
        assert_eq!(TokenSigner::new(b"key-two").verify(&t), Err(TokenError::BadSignature));

        // Change one character of the signature.
        let mut bad = t.clone().into_bytes();
        let last = bad.len() - 2;
        bad[last] = if bad[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(s.verify(std::str::from_utf8(&bad).unwrap()), Err(TokenError::BadSignature));

        // Swap in other claims under the old signature.
        let parts: Vec<&str> = t.split('.').collect();
        let forged_claims = Claims { user: "root".into(), ..claims() };
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged_claims).unwrap()),
            parts[2]
        );
        assert_eq!(s.verify(&forged), Err(TokenError::BadSignature));

        for junk in ["", "a.b", "a.b.c.d", "!!.!!.!!", "eyJ.eyJ"] {
            assert_eq!(s.verify(junk), Err(TokenError::Malformed), "{junk}");
        }
    }

    #[test]
    fn digest_is_hex_sha256() {
        let d = token_digest("abc");
        assert_eq!(d, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
