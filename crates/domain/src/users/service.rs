//! Login, logout, bearer-token checks and user management, with the Webapp's
//! order of checks and wording (`users-auth.md` §4–§10).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use time::OffsetDateTime;
use time::macros::format_description;

use super::password::PasswordHasher;
use super::policy;
use super::token::{Claims, TokenError, TokenSigner, random_claim, token_digest};
use super::{ADMIN_USERNAME, FACTORY_ADMIN_PASSWORD, Role};
use crate::clock::Clock;
use crate::error::{ErrorCode, WaError};
use crate::ports::{Store, StoreError, TokenRecord, UserRecord};
use crate::ratelimit::SlidingWindow;

/// Tunables of the user service. The defaults are the Webapp's.
#[derive(Debug, Clone)]
pub struct UserServiceConfig {
    /// Token lifetime (604 800 s = 7 days).
    pub token_lifetime_secs: i64,
    /// A token is refused only once `exp < now - skew` (600 s).
    pub clock_skew_secs: i64,
    /// Failed logins per IP per hour before 429 (30).
    pub login_failures_per_hour: usize,
    /// Create/update-user calls per IP per hour before 429 (256).
    pub user_writes_per_hour: usize,
    /// How long a checked token is trusted without asking the store again. Local
    /// revocations (logout, user deletion) take effect at once; the TTL bounds how
    /// long another node sharing the database may still accept a revoked token.
    pub token_cache_ttl: Duration,
    pub hasher: PasswordHasher,
}

impl Default for UserServiceConfig {
    fn default() -> Self {
        Self {
            token_lifetime_secs: 7 * 24 * 3600,
            clock_skew_secs: 600,
            login_failures_per_hour: 30,
            user_writes_per_hour: 256,
            token_cache_ttl: Duration::from_secs(5),
            hasher: PasswordHasher::default(),
        }
    }
}

/// Who is making a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub username: String,
    pub role: Role,
    /// The digest of the bearer token used, if any (for logout).
    pub token_digest: Option<String>,
}

impl Principal {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// A freshly issued token.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: String,
    pub expires_at: i64,
}

impl IssuedToken {
    /// `expires_after` as the Webapp formats it: `YYYY-MM-DD HH:MM:SS+00:00`, UTC.
    pub fn expires_after(&self) -> String {
        let fmt = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]+00:00");
        OffsetDateTime::from_unix_timestamp(self.expires_at).ok().and_then(|t| t.format(&fmt).ok()).unwrap_or_default()
    }
}

/// Why a login did not produce a token.
#[derive(Debug)]
pub enum LoginFailure {
    /// Bad or missing Basic credentials: the Webapp answers 401 with an empty
    /// body and `WWW-Authenticate: Basic realm="Secured"`.
    Challenge,
    /// Any other failure, in the usual envelope.
    Error(WaError),
}

impl From<WaError> for LoginFailure {
    fn from(e: WaError) -> Self {
        LoginFailure::Error(e)
    }
}

impl From<StoreError> for LoginFailure {
    fn from(e: StoreError) -> Self {
        LoginFailure::Error(e.into())
    }
}

#[derive(Clone)]
struct CachedToken {
    username: Arc<str>,
    role: Role,
    /// The token's expiry (Unix seconds), from its verified claims.
    exp: i64,
}

/// The user service. Cheap to share behind an `Arc`.
pub struct UserService {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    signer: TokenSigner,
    cfg: UserServiceConfig,
    cache: moka::sync::Cache<String, CachedToken>,
    login_failures: SlidingWindow,
    user_writes: SlidingWindow,
    /// Verified against when the user does not exist, so that a wrong user name
    /// costs as much time as a wrong password.
    dummy_hash: String,
    /// Bounds concurrent Argon2 runs (one per core).
    hash_slots: tokio::sync::Semaphore,
}

/// The meta key under which the token signing key is kept when none is configured.
pub const SIGNING_KEY_META: &str = "token_signing_key";

impl UserService {
    /// Builds the service: resolves the signing key (the configured one, else
    /// the one stored at first start, else a new random one) and makes sure the
    /// built-in `admin` exists.
    pub async fn start(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        configured_key: Option<Vec<u8>>,
        cfg: UserServiceConfig,
    ) -> Result<Self, StoreError> {
        let key = match configured_key {
            Some(k) => k,
            None => {
                let mut fresh = [0u8; 32];
                getrandom::fill(&mut fresh).map_err(|e| StoreError::Other(format!("no randomness: {e}")))?;
                let stored = store.put_meta_if_absent(SIGNING_KEY_META, &crate::hex::encode(&fresh)).await?;
                crate::hex::decode(&stored)
                    .ok_or_else(|| StoreError::Other("stored token signing key is not hex".into()))?
            }
        };
        let hasher = cfg.hasher.clone();
        let dummy_hash = blocking(move || hasher.hash("not-a-real-password-Aa1!"))
            .await
            .map_err(|e| StoreError::Other(e.to_string()))?;
        let svc = Self {
            signer: TokenSigner::new(&key),
            cache: moka::sync::Cache::builder().max_capacity(100_000).time_to_live(cfg.token_cache_ttl).build(),
            login_failures: SlidingWindow::new(3600, cfg.login_failures_per_hour + 1),
            user_writes: SlidingWindow::new(3600, cfg.user_writes_per_hour + 1),
            store,
            clock,
            cfg,
            dummy_hash,
            hash_slots: tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())),
        };
        svc.ensure_admin().await?;
        Ok(svc)
    }

    async fn ensure_admin(&self) -> Result<(), StoreError> {
        if self.store.get_user(ADMIN_USERNAME).await?.is_some() {
            return Ok(());
        }
        let hasher = self.cfg.hasher.clone();
        let hash = blocking(move || hasher.hash(FACTORY_ADMIN_PASSWORD))
            .await
            .map_err(|e| StoreError::Other(e.to_string()))?;
        let admin = UserRecord {
            username: ADMIN_USERNAME.into(),
            password_hash: hash,
            role: Role::Admin,
            password_is_default: true,
            created_at: self.clock.now_unix(),
        };
        // `false` means another node created it first, which is just as good.
        self.store.insert_user(&admin).await?;
        tracing::info!("created the built-in admin user with the factory password; it must be changed at first login");
        Ok(())
    }

    // ---------------------------------------------------------------- login

    /// Step 1–2 of login: the rate limit, then the Basic credentials.
    pub async fn authenticate_basic(
        &self,
        ip: IpAddr,
        credentials: Option<(String, String)>,
    ) -> Result<UserRecord, LoginFailure> {
        let now = self.clock.now_unix();
        // The attempt counts as a failure before the (slow) password check, so
        // parallel attempts cannot slip past the limit; success takes it back.
        if self.login_failures.record(ip, now) > self.cfg.login_failures_per_hour {
            self.login_failures.undo(ip);
            return Err(WaError::too_many_requests("Rate limiting exceeded on bad login attempts").into());
        }
        let Some((username, password)) = credentials else {
            return Err(LoginFailure::Challenge);
        };
        let user = self.store.get_user(&username).await?;
        let hash = user.as_ref().map_or_else(|| self.dummy_hash.clone(), |u| u.password_hash.clone());
        let hasher = self.cfg.hasher.clone();
        let matches = self.hashing(move || Ok(hasher.verify(&password, &hash))).await?;
        match user {
            Some(user) if matches => Ok(user),
            _ => Err(LoginFailure::Challenge),
        }
    }

    /// Takes back the failure counted in advance by [`Self::authenticate_basic`]
    /// when the login did not end in a 401 (a body that does not decode).
    pub fn login_attempt_not_failed(&self, ip: IpAddr) {
        self.login_failures.undo(ip);
    }

    /// Runs Argon2 work on the blocking pool, a bounded number at a time: each
    /// run takes 19 MiB, so unbounded parallel logins would exhaust memory.
    async fn hashing<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> Result<T, String> + Send + 'static,
    ) -> Result<T, WaError> {
        let _slot = self.hash_slots.acquire().await.map_err(|_| WaError::internal("Password hashing is shut down"))?;
        blocking(f).await
    }

    /// Step 3–5 of login, after the body was decoded: the forced first password
    /// change, an optional password change, then a new token.
    pub async fn finish_login(
        &self,
        ip: IpAddr,
        user: UserRecord,
        new_password: Option<String>,
    ) -> Result<IssuedToken, LoginFailure> {
        let new_password = new_password.filter(|p| !p.is_empty());
        if user.username == ADMIN_USERNAME && user.password_is_default && new_password.is_none() {
            // A 401: the attempt counted in advance stays counted.
            return Err(WaError::new(ErrorCode::PasswordChangeRequired, "Password must be changed").into());
        }
        self.login_failures.undo(ip);
        if let Some(pw) = new_password {
            policy::check_password_complexity(&pw)?;
            let hash = self.hash(pw).await?;
            if !self.store.set_password(&user.username, &hash, false).await? {
                // Deleted between the two steps.
                return Err(LoginFailure::Challenge);
            }
            tracing::info!(user = %user.username, "password changed at login");
        }
        Ok(self.issue_token(&user.username).await?)
    }

    async fn issue_token(&self, username: &str) -> Result<IssuedToken, WaError> {
        let now = self.clock.now_unix();
        let claims = Claims {
            user: username.to_owned(),
            iat: now,
            exp: now + self.cfg.token_lifetime_secs,
            rand: random_claim(),
        };
        let token = self.signer.sign(&claims);
        let record = TokenRecord {
            digest: token_digest(&token),
            username: username.to_owned(),
            issued_at: now,
            expires_at: claims.exp,
        };
        self.store.insert_token(&record).await?;
        Ok(IssuedToken { token, expires_at: claims.exp })
    }

    // --------------------------------------------------------------- bearer

    /// Checks a bearer token: signature, expiry (with skew), presence in the
    /// store, and that its user still exists.
    pub async fn authenticate_bearer(&self, token: &str) -> Result<Principal, WaError> {
        let digest = token_digest(token);
        let now = self.clock.now_unix();
        // A token verified before is found by its digest, a SHA-256 of the
        // whole token, signature included: only that exact string hits, so
        // its signature needs no second check (2 % of the send path, issue
        // 7). Its expiry does; an expired one takes the full path below,
        // which removes it. The signing key only changes with a restart.
        if let Some(hit) = self.cache.get(&digest)
            && hit.exp >= now - self.cfg.clock_skew_secs
        {
            return Ok(Principal { username: hit.username.to_string(), role: hit.role, token_digest: Some(digest) });
        }
        let claims = match self.signer.verify(token) {
            Ok(c) => c,
            Err(TokenError::Malformed) => {
                return Err(WaError::unauthenticated("Missing or invalid authentication credentials"));
            }
            Err(TokenError::BadSignature) => return Err(WaError::unauthenticated("Invalid credentials.")),
        };
        if claims.exp < now - self.cfg.clock_skew_secs {
            // An expired token is removed from the store (Webapp behaviour).
            self.cache.invalidate(&digest);
            if let Err(e) = self.store.delete_token(&digest).await {
                tracing::warn!(error = %e, "could not delete an expired token");
            }
            return Err(WaError::unauthenticated("Invalid credentials."));
        }
        let Some(record) = self.store.find_token(&digest).await? else {
            return Err(WaError::unauthenticated("Invalid credentials."));
        };
        let Some(user) = self.store.get_user(&record.username).await? else {
            return Err(WaError::unauthenticated("Username could not be found."));
        };
        self.cache.insert(
            digest.clone(),
            CachedToken { username: Arc::from(user.username.as_str()), role: user.role, exp: claims.exp },
        );
        Ok(Principal { username: user.username, role: user.role, token_digest: Some(digest) })
    }

    /// Forgets every cached token, so that the next use of each is checked
    /// against the store (another node of a deployment revoked one).
    pub fn forget_cached_tokens(&self) {
        self.cache.invalidate_all();
    }

    /// Revokes the token the principal authenticated with; other tokens stay.
    pub async fn logout(&self, principal: &Principal) -> Result<(), WaError> {
        if let Some(digest) = &principal.token_digest {
            self.cache.invalidate(digest);
            self.store.delete_token(digest).await?;
        }
        Ok(())
    }

    /// Deletes tokens that can no longer be accepted. Returns how many.
    pub async fn purge_expired_tokens(&self) -> Result<u64, StoreError> {
        self.store.purge_expired_tokens(self.clock.now_unix() - self.cfg.clock_skew_secs).await
    }

    // ------------------------------------------------------ user management

    /// `POST /v1/users`: checks in the Webapp's order, first failure wins.
    pub async fn create_user(
        &self,
        ip: IpAddr,
        username: Option<&Value>,
        password: Option<&Value>,
    ) -> Result<String, WaError> {
        if self.user_writes.record(ip, self.clock.now_unix()) > self.cfg.user_writes_per_hour {
            return Err(WaError::too_many_requests("Rate limiting exceeded on create user"));
        }
        let username = string_field("username", username)?;
        policy::check_new_username(&username)?;
        let password = string_field("password", password)?;
        policy::check_password_length(&password)?;
        policy::check_password_complexity(&password)?;
        let exists = || WaError::internal("Unable to create user. Already exist?");
        if self.store.get_user(&username).await?.is_some() {
            return Err(exists());
        }
        let hash = self.hash(password).await?;
        let record = UserRecord {
            username: username.clone(),
            password_hash: hash,
            role: Role::User,
            password_is_default: false,
            created_at: self.clock.now_unix(),
        };
        if !self.store.insert_user(&record).await? {
            return Err(exists());
        }
        tracing::info!(user = %username, "user created");
        Ok(username)
    }

    /// `GET /v1/users/{username}`.
    pub async fn get_user(&self, actor: &Principal, username: &str) -> Result<UserRecord, WaError> {
        if !actor.is_admin() && actor.username != username {
            return Err(WaError::forbidden("Regular user cannot read other user information"));
        }
        self.store.get_user(username).await?.ok_or_else(|| WaError::not_found("User does not exist"))
    }

    /// `PUT /v1/users/{username}`: changes a password. Tokens stay valid.
    pub async fn update_password(
        &self,
        ip: IpAddr,
        actor: &Principal,
        username: &str,
        password: Option<&Value>,
    ) -> Result<(), WaError> {
        if self.user_writes.record(ip, self.clock.now_unix()) > self.cfg.user_writes_per_hour {
            return Err(WaError::too_many_requests("Rate limiting exceeded on update user"));
        }
        if !actor.is_admin() && actor.username != username {
            return Err(WaError::forbidden("Regular user cannot modify other user"));
        }
        let password = match password {
            Some(Value::String(s)) => s.clone(),
            _ => String::new(),
        };
        policy::check_password_complexity(&password)?;
        if self.store.get_user(username).await?.is_none() {
            return Err(WaError::not_found("User does not exist"));
        }
        let hash = self.hash(password).await?;
        if !self.store.set_password(username, &hash, false).await? {
            return Err(WaError::not_found("User does not exist"));
        }
        tracing::info!(user = %username, by = %actor.username, "password changed");
        Ok(())
    }

    /// `DELETE /v1/users/{username}`: the user and all of its tokens.
    pub async fn delete_user(&self, actor: &Principal, username: &str) -> Result<(), WaError> {
        if username == ADMIN_USERNAME {
            return Err(WaError::invalid("Admin user cannot be deleted"));
        }
        if !self.store.delete_user(username).await? {
            return Err(WaError::not_found("User does not exist"));
        }
        // Tokens are cached by digest, not by user: drop them all (a rare event).
        self.cache.invalidate_all();
        tracing::info!(user = %username, by = %actor.username, "user deleted");
        Ok(())
    }

    async fn hash(&self, password: String) -> Result<String, WaError> {
        let hasher = self.cfg.hasher.clone();
        self.hashing(move || hasher.hash(&password)).await
    }
}

/// Reads a string field for the length/character checks. A missing field counts
/// as the empty string (the Webapp only tested lengths); any other JSON type is
/// an invalid value.
fn string_field(name: &str, v: Option<&Value>) -> Result<String, WaError> {
    match v {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(WaError::invalid_value(name, &other.to_string())),
    }
}

/// Runs CPU-heavy work (Argon2) on the blocking pool.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, String> + Send + 'static) -> Result<T, WaError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "password hashing failed");
            Err(WaError::internal("Password hashing failed"))
        }
        Err(e) => {
            tracing::error!(error = %e, "password hashing task failed");
            Err(WaError::internal("Password hashing failed"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expires_after_format() {
        let t = IssuedToken { token: String::new(), expires_at: 1_631_633_366 };
        assert_eq!(t.expires_after(), "2021-09-14 15:29:26+00:00");
    }
}
