//! A secret of the relay's configuration (the access token, the app secret,
//! the verify token, the PIN): it never shows in logs, debug output or
//! errors, only where it is used.

use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself, for the one place that sends or checks it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether `given` is the secret, in constant time (digests of both are
    /// compared, so neither the length nor a common prefix shows).
    pub fn matches(&self, given: &str) -> bool {
        use sha2::Digest as _;
        use subtle::ConstantTimeEq as _;
        let (a, b) = (sha2::Sha256::digest(self.0.as_bytes()), sha2::Sha256::digest(given.as_bytes()));
        a.as_slice().ct_eq(b.as_slice()).into()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_prints() {
        let s = Secret::new("EAAG-token-value");
        assert_eq!(format!("{s} {s:?} {:?}", Some(&s)), "*** Secret(***) Some(Secret(***))");
        assert_eq!(s.expose(), "EAAG-token-value");
        assert!(s.matches("EAAG-token-value"));
        assert!(!s.matches("EAAG-token-valuE") && !s.matches("") && !s.matches("EAAG-token-value "));
    }
}
