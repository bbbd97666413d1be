//! Short-lived tokens for the event stream. A browser's `EventSource` cannot
//! send an `Authorization` header, so an admin asks for a token with its
//! bearer token and opens `GET /simulator/events?token=…` with it. The token
//! opens streams only, for [`LIFETIME_MS`]; a stream opened with it lives on.

use std::collections::HashMap;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use crate::hex;

/// How long a stream token opens streams.
pub const LIFETIME_MS: i64 = 5 * 60 * 1000;
/// Most live tokens kept (expired ones are dropped first).
const MAX_TOKENS: usize = 1024;

/// A token's owner and end; the token itself is kept only as its digest.
#[derive(Debug, Clone)]
struct Grant {
    username: String,
    expires_at: i64,
}

#[derive(Default)]
pub struct StreamTokens {
    grants: Mutex<HashMap<[u8; 32], Grant>>,
}

/// A minted token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamToken {
    pub token: String,
    pub expires_at: i64,
}

impl StreamTokens {
    /// A new random token for `username`, valid from `now_ms`.
    pub fn mint(&self, username: &str, now_ms: i64) -> Result<StreamToken, getrandom::Error> {
        let mut raw = [0u8; 24];
        getrandom::fill(&mut raw)?;
        let token = hex::encode(&raw);
        let expires_at = now_ms + LIFETIME_MS;
        let mut grants = self.grants.lock().unwrap_or_else(|e| e.into_inner());
        grants.retain(|_, g| g.expires_at > now_ms);
        if grants.len() >= MAX_TOKENS {
            // The oldest goes: a flood of requests cannot grow this without bound.
            if let Some(oldest) = grants.iter().min_by_key(|(_, g)| g.expires_at).map(|(k, _)| *k) {
                grants.remove(&oldest);
            }
        }
        grants.insert(Sha256::digest(token.as_bytes()).into(), Grant { username: username.to_owned(), expires_at });
        Ok(StreamToken { token, expires_at })
    }

    /// The owner of `token` if it is still valid at `now_ms`. Looked up by
    /// digest, so no comparison runs on the secret itself.
    pub fn check(&self, token: &str, now_ms: i64) -> Option<String> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let grants = self.grants.lock().unwrap_or_else(|e| e.into_inner());
        grants.get(&digest).filter(|g| g.expires_at > now_ms).map(|g| g.username.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_opens_streams_until_it_expires() {
        let tokens = StreamTokens::default();
        let t = tokens.mint("admin", 1_000).unwrap();
        assert_eq!(t.token.len(), 48);
        assert_eq!(tokens.check(&t.token, 1_001).as_deref(), Some("admin"));
        assert_eq!(tokens.check(&t.token, 1_000 + LIFETIME_MS), None);
        assert_eq!(tokens.check("nope", 1_001), None);
        for n in 0..(MAX_TOKENS + 5) {
            tokens.mint("admin", 2_000 + i64::try_from(n).unwrap()).unwrap();
        }
        assert!(tokens.grants.lock().unwrap().len() <= MAX_TOKENS);
    }
}
