//! Password hashing with Argon2id (memory-hard). Hashing and verifying are
//! CPU-heavy, so the service runs them on the blocking pool.

use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier as _, Version};

/// Argon2id with fixed costs. The PHC string stores the costs, so hashes made
/// with other costs (older installs, tests) still verify.
#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher").finish_non_exhaustive()
    }
}

impl Default for PasswordHasher {
    /// OWASP's Argon2id baseline: 19 MiB, 2 passes, 1 lane.
    fn default() -> Self {
        Self::with_costs(19 * 1024, 2, 1)
    }
}

impl PasswordHasher {
    /// Custom costs (memory in KiB, passes, lanes). Falls back to the defaults
    /// when Argon2 rejects the combination.
    pub fn with_costs(m_kib: u32, t: u32, p: u32) -> Self {
        let params = Params::new(m_kib, t, p, None).unwrap_or_default();
        Self { params }
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// A PHC-format hash with a fresh random salt.
    pub fn hash(&self, password: &str) -> Result<String, String> {
        self.argon2().hash_password(password.as_bytes()).map(|h| h.to_string()).map_err(|e| format!("argon2: {e}"))
    }

    /// Whether `password` matches `phc`. A malformed stored hash never matches.
    pub fn verify(&self, password: &str, phc: &str) -> bool {
        self.argon2().verify_password(password.as_bytes(), phc).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_salting() {
        let h = PasswordHasher::with_costs(1024, 1, 1);
        let a = h.hash("Passw0rd!").unwrap();
        let b = h.hash("Passw0rd!").unwrap();
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b, "salt must differ");
        assert!(h.verify("Passw0rd!", &a));
        assert!(!h.verify("Passw0rd?", &a));
        assert!(!h.verify("Passw0rd!", "not a hash"));
        // Hashes keep their own costs: a default hasher verifies a cheap hash.
        assert!(PasswordHasher::default().verify("Passw0rd!", &b));
    }
}
