//! The static API key (`WA_API_KEY`) accepted by health, metrics and stats as
//! `Authorization: Apikey <key>` (`health-stats.md` §1.1).

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub const MIN_LEN: usize = 12;
pub const MAX_LEN: usize = 128;

/// A configured API key. Only its digest is kept in memory.
pub struct ApiKey {
    digest: [u8; 32],
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(<hidden>)")
    }
}

impl ApiKey {
    /// `Ok(Some)` for a valid key, `Ok(None)` when none is configured, `Err` (a
    /// warning to log) when one is configured but outside 12–128 characters: then
    /// API-key authentication is off and every `Apikey` header is refused.
    pub fn from_config(value: Option<&str>) -> Result<Option<Self>, String> {
        let Some(v) = value.filter(|v| !v.is_empty()) else { return Ok(None) };
        let len = v.chars().count();
        if !(MIN_LEN..=MAX_LEN).contains(&len) {
            return Err(format!(
                "the API key is {len} characters long; it must be {MIN_LEN} to {MAX_LEN}: Apikey authentication is disabled"
            ));
        }
        Ok(Some(Self { digest: Sha256::digest(v.as_bytes()).into() }))
    }

    /// Constant-time comparison (of digests, so the length does not leak either).
    pub fn matches(&self, presented: &str) -> bool {
        let d: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        self.digest.ct_eq(&d).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_rules() {
        assert!(ApiKey::from_config(None).unwrap().is_none());
        assert!(ApiKey::from_config(Some("")).unwrap().is_none());
        assert!(ApiKey::from_config(Some("short")).is_err());
        assert!(ApiKey::from_config(Some(&"k".repeat(129))).is_err());
        let k = ApiKey::from_config(Some("0123456789ab")).unwrap().unwrap();
        assert!(k.matches("0123456789ab"));
        assert!(!k.matches("0123456789ac"));
        assert!(!k.matches(""));
    }
}
