//! The encrypted blob of `POST /v1/settings/backup` and `POST /v1/settings/restore`
//! (`settings.md` §6).
//!
//! # Format
//!
//! ```text
//! blob    = "WABK1." base64url-no-padding(payload)
//! payload = salt (16 bytes) ‖ nonce (12 bytes) ‖ AES-256-GCM(plaintext) (ciphertext ‖ 16-byte tag)
//! key     = Argon2id(password, salt), 19 MiB, 2 passes, 1 lane, 32 bytes
//! ```
//!
//! The blob is plain ASCII so it travels inside JSON (`settings.data`) untouched,
//! and the `WABK1.` prefix names the format and its version: anything else is
//! refused as [`BackupError::Malformed`] before any expensive work is done.
//!
//! # Why this design
//!
//! - **Authenticated encryption** (AES-GCM): the backup holds the registration
//!   certificate and the two-step PIN hash, so it must be both secret and
//!   tamper-evident. A wrong password and an altered byte anywhere (salt, nonce,
//!   ciphertext or tag) both fail the tag check, and are reported the same way
//!   ([`BackupError::Rejected`]) without ever yielding partial plaintext.
//! - **Memory-hard KDF** (Argon2id): the password is chosen by a person and the
//!   blob may be stored anywhere, so offline guessing must be expensive. Each
//!   guess costs 19 MiB of memory and two passes over it (OWASP's baseline).
//! - **Random salt and nonce** per backup (from the OS): two backups of the same
//!   state differ, the same password never yields the same key twice, and a
//!   (key, nonce) pair is never reused.
//!
//! Deriving the key is CPU-heavy (tens of milliseconds): callers run [`encrypt`]
//! and [`decrypt`] on a blocking thread.

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{Aead, KeyInit};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The ASCII prefix of every blob: format name and version.
pub const PREFIX: &str = "WABK1.";

/// Length of the Argon2 salt at the start of the payload.
const SALT_LEN: usize = 16;
/// Length of the AES-GCM nonce after the salt.
const NONCE_LEN: usize = 12;
/// Length of the AES-GCM authentication tag at the end of the payload.
const TAG_LEN: usize = 16;
/// Length of the AES-256 key derived from the password.
const KEY_LEN: usize = 32;
/// The shortest valid payload: salt, nonce and the tag of an empty plaintext.
const MIN_PAYLOAD_LEN: usize = SALT_LEN + NONCE_LEN + TAG_LEN;

/// Argon2id memory cost in KiB (19 MiB).
const KDF_MEMORY_KIB: u32 = 19 * 1024;
/// Argon2id passes.
const KDF_PASSES: u32 = 2;
/// Argon2id lanes.
const KDF_LANES: u32 = 1;

/// Why a backup could not be made or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackupError {
    /// Not a WABK1 blob: wrong prefix, bad base64, too short.
    #[error("not a wabiz backup")]
    Malformed,
    /// Authentication failed: wrong password, or the blob was altered.
    #[error("wrong password or altered backup")]
    Rejected,
    /// Randomness or the KDF failed (should not happen).
    #[error("backup crypto failure: {0}")]
    Crypto(String),
}

/// Encrypts `plaintext` with a key derived from `password`. CPU-heavy (Argon2): callers run it on a blocking thread.
pub fn encrypt(password: &str, plaintext: &[u8]) -> Result<String, BackupError> {
    let mut salt = [0u8; SALT_LEN];
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut salt).map_err(|e| BackupError::Crypto(format!("no randomness: {e}")))?;
    getrandom::fill(&mut nonce).map_err(|e| BackupError::Crypto(format!("no randomness: {e}")))?;

    let cipher = cipher_for(password, &salt)?;
    let sealed = cipher
        .encrypt(&nonce.into(), plaintext)
        .map_err(|_| BackupError::Crypto("AES-GCM refused the plaintext (too long)".to_owned()))?;

    let mut payload = Vec::with_capacity(SALT_LEN + NONCE_LEN + sealed.len());
    payload.extend_from_slice(&salt);
    payload.extend_from_slice(&nonce);
    payload.extend_from_slice(&sealed);

    let mut blob = String::with_capacity(PREFIX.len() + payload.len().div_ceil(3) * 4);
    blob.push_str(PREFIX);
    URL_SAFE_NO_PAD.encode_string(&payload, &mut blob);
    Ok(blob)
}

/// Decrypts a blob made by `encrypt`.
pub fn decrypt(password: &str, blob: &str) -> Result<Vec<u8>, BackupError> {
    let encoded = blob.trim().strip_prefix(PREFIX).ok_or(BackupError::Malformed)?;
    let payload = URL_SAFE_NO_PAD.decode(encoded).map_err(|_| BackupError::Malformed)?;
    if payload.len() < MIN_PAYLOAD_LEN {
        return Err(BackupError::Malformed);
    }
    let (salt, rest) = payload.split_at(SALT_LEN);
    let (nonce, sealed) = rest.split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| BackupError::Malformed)?;

    let cipher = cipher_for(password, salt)?;
    cipher.decrypt(&nonce.into(), sealed).map_err(|_| BackupError::Rejected)
}

/// The AES-256-GCM cipher keyed with Argon2id(`password`, `salt`).
fn cipher_for(password: &str, salt: &[u8]) -> Result<Aes256Gcm, BackupError> {
    let params = Params::new(KDF_MEMORY_KIB, KDF_PASSES, KDF_LANES, Some(KEY_LEN))
        .map_err(|e| BackupError::Crypto(format!("argon2 parameters: {e}")))?;
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let mut key = [0u8; KEY_LEN];
    argon2
        .hash_password_into(password.as_bytes(), salt, &mut key)
        .map_err(|e| BackupError::Crypto(format!("argon2: {e}")))?;
    let cipher = Aes256Gcm::new(&key.into());
    // Best effort without `zeroize`: do not leave the raw key on the stack.
    key.fill(0);
    std::hint::black_box(&key);
    Ok(cipher)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWORD: &str = "correct horse battery staple";

    fn payload_of(blob: &str) -> Vec<u8> {
        let encoded = blob.strip_prefix(PREFIX).expect("prefix");
        URL_SAFE_NO_PAD.decode(encoded).expect("base64url")
    }

    fn blob_of(payload: &[u8]) -> String {
        format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(payload))
    }

    #[test]
    fn round_trip() {
        let plaintext = br#"{"format":1,"application":{"callback_persist":true}}"#;
        let blob = encrypt(PASSWORD, plaintext).expect("encrypt");
        assert_eq!(decrypt(PASSWORD, &blob).expect("decrypt"), plaintext);
    }

    #[test]
    fn output_is_prefixed_unpadded_base64url_of_the_right_length() {
        let plaintext = b"hello";
        let blob = encrypt(PASSWORD, plaintext).expect("encrypt");
        assert!(blob.starts_with(PREFIX), "{blob}");
        assert!(!blob.contains('='), "{blob}");
        assert!(blob.is_ascii());
        assert!(blob[PREFIX.len()..].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{blob}");
        assert_eq!(payload_of(&blob).len(), MIN_PAYLOAD_LEN + plaintext.len());
    }

    #[test]
    fn two_encryptions_of_the_same_input_differ() {
        let a = encrypt(PASSWORD, b"same state").expect("encrypt");
        let b = encrypt(PASSWORD, b"same state").expect("encrypt");
        assert_ne!(a, b);
        let (pa, pb) = (payload_of(&a), payload_of(&b));
        assert_ne!(pa[..SALT_LEN], pb[..SALT_LEN], "salt must be random");
        assert_ne!(pa[SALT_LEN..SALT_LEN + NONCE_LEN], pb[SALT_LEN..SALT_LEN + NONCE_LEN], "nonce must be random");
    }

    #[test]
    fn wrong_password_is_rejected() {
        let blob = encrypt(PASSWORD, b"secret").expect("encrypt");
        assert_eq!(decrypt("Correct horse battery staple", &blob), Err(BackupError::Rejected));
        assert_eq!(decrypt("", &blob), Err(BackupError::Rejected));
    }

    #[test]
    fn flipping_any_byte_is_rejected() {
        let blob = encrypt(PASSWORD, b"registration and settings").expect("encrypt");
        let payload = payload_of(&blob);
        let last = payload.len() - 1;
        let positions = [
            0,                    // salt, first byte
            SALT_LEN - 1,         // salt, last byte
            SALT_LEN,             // nonce
            SALT_LEN + NONCE_LEN, // ciphertext, first byte
            last - TAG_LEN,       // ciphertext, last byte
            last - TAG_LEN + 1,   // tag, first byte
            last,                 // tag, last byte
        ];
        for pos in positions {
            let mut altered = payload.clone();
            altered[pos] ^= 0x01;
            assert_eq!(decrypt(PASSWORD, &blob_of(&altered)), Err(BackupError::Rejected), "byte {pos} flipped");
        }
    }

    #[test]
    fn malformed_blobs_are_refused_before_the_kdf() {
        let blob = encrypt(PASSWORD, b"x").expect("encrypt");
        let payload = payload_of(&blob);
        let cases = [
            String::new(),
            "   ".to_owned(),
            PREFIX.to_owned(),
            blob[PREFIX.len()..].to_owned(),                 // no prefix
            format!("WABK2.{}", &blob[PREFIX.len()..]),      // wrong version
            format!("wabk1.{}", &blob[PREFIX.len()..]),      // prefix is case-sensitive
            format!("{PREFIX}not*base64!"),                  // not base64
            format!("{blob}="),                              // padding is not accepted
            blob.replace('-', "+").replace('_', "/") + "+/", // standard alphabet
            blob_of(&payload[..MIN_PAYLOAD_LEN - 1]),        // truncated below salt+nonce+tag
            blob_of(&payload[..SALT_LEN]),                   // salt only
            blob_of(&[]),                                    // empty payload
        ];
        for case in &cases {
            assert_eq!(decrypt(PASSWORD, case), Err(BackupError::Malformed), "{case:?}");
        }
    }

    #[test]
    fn truncated_ciphertext_is_rejected() {
        // Long enough to parse, but the tag no longer matches.
        let blob = encrypt(PASSWORD, b"some settings").expect("encrypt");
        let payload = payload_of(&blob);
        let truncated = blob_of(&payload[..payload.len() - 1]);
        assert_eq!(decrypt(PASSWORD, &truncated), Err(BackupError::Rejected));
    }

    #[test]
    fn surrounding_whitespace_is_tolerated() {
        let blob = encrypt(PASSWORD, b"spaced").expect("encrypt");
        let padded = format!(" \n\t{blob}\r\n ");
        assert_eq!(decrypt(PASSWORD, &padded).expect("decrypt"), b"spaced");
    }

    #[test]
    fn empty_plaintext_round_trips() {
        let blob = encrypt(PASSWORD, b"").expect("encrypt");
        assert_eq!(payload_of(&blob).len(), MIN_PAYLOAD_LEN);
        assert_eq!(decrypt(PASSWORD, &blob).expect("decrypt"), b"");
    }

    #[test]
    fn empty_and_unicode_passwords_work() {
        let blob = encrypt("", b"no password").expect("encrypt");
        assert_eq!(decrypt("", &blob).expect("decrypt"), b"no password");
        let blob = encrypt("пароль 🔑", b"unicode").expect("encrypt");
        assert_eq!(decrypt("пароль 🔑", &blob).expect("decrypt"), b"unicode");
    }

    #[test]
    fn one_megabyte_round_trips() {
        let plaintext: Vec<u8> = (0..1024 * 1024u32).map(|i| (i.wrapping_mul(31) % 251) as u8).collect();
        let blob = encrypt(PASSWORD, &plaintext).expect("encrypt");
        assert_eq!(decrypt(PASSWORD, &blob).expect("decrypt"), plaintext);
    }

    #[test]
    fn errors_display() {
        assert_eq!(BackupError::Malformed.to_string(), "not a wabiz backup");
        assert_eq!(BackupError::Rejected.to_string(), "wrong password or altered backup");
        assert_eq!(BackupError::Crypto("x".into()).to_string(), "backup crypto failure: x");
    }
}
