//! The settings service: loads every settings document at start, answers the
//! `/v1/settings*` endpoints, persists changes, and tells the parts of the
//! server that act on settings when they change.
//!
//! The parts that *use* settings (logging, the webhook engine, garbage
//! collection, multiconnect) never read the database: they hold a
//! [`watch::Receiver`] from [`SettingsService::subscribe`] and read the
//! *effective* settings from it. By default the effective settings are the
//! stored ones. Under `--strict-restart-semantics` the restart-required fields
//! keep the values the node started with until it restarts, as the original
//! Coreapp did; the API reports that through [`PatchOutcome::pending_restart`].

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::{Mutex, watch};

use super::application::{ApplicationSettings, PatchRules};
use super::backup::{self, BackupError};
use super::business::BusinessProfile;
use super::photo::{self, Photo};
use super::providers::{self, MediaProvider};
use crate::certificates;
use crate::clock::Clock;
use crate::error::{ErrorCode, WaError};
use crate::network::{ACCOUNT_NUMBER_META, ACCOUNT_SOURCE_META, Network, ProfileChange};
use crate::ports::{SettingWrite, Store, StoreError};
use crate::users::password::PasswordHasher;

/// Names of the stored documents.
mod doc {
    pub const APPLICATION: &str = "application";
    pub const MEDIA_PROVIDERS: &str = "media_providers";
    pub const ABOUT: &str = "profile_about";
    pub const BUSINESS: &str = "business_profile";
    pub const TWO_STEP: &str = "two_step";
    pub const WEBHOOK_CA: &str = "webhook_ca";
    pub const PHOTO_BLOB: &str = "profile_photo";
}

/// Longest "about" text (characters).
pub const ABOUT_MAX_CHARS: usize = 139;
/// Longest backup password accepted.
pub const BACKUP_PASSWORD_MAX: usize = 1024;

#[derive(Debug, Clone, Default)]
pub struct SettingsConfig {
    /// `--allow-http-webhooks`.
    pub allow_http_webhooks: bool,
    /// `--strict-restart-semantics`.
    pub strict_restart: bool,
    /// Hashes the two-step PIN.
    pub hasher: PasswordHasher,
}

/// The result of a change of the application settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatchOutcome {
    /// Restart-required keys this change modified that the node will only use
    /// after a restart (only ever non-empty under `--strict-restart-semantics`).
    pub pending_restart: Vec<&'static str>,
}

/// The plaintext of a backup (format 1). Users, tokens and the listener's
/// certificate are deliberately not part of it.
#[derive(Debug, Serialize, Deserialize)]
struct BackupDocument {
    format: u32,
    application: ApplicationSettings,
    #[serde(default)]
    media_providers: Vec<MediaProvider>,
    registration: BackupRegistration,
    #[serde(default)]
    two_step_pin_hash: Option<String>,
    #[serde(default)]
    profile: BackupProfile,
    #[serde(default)]
    business_profile: BusinessProfile,
    #[serde(default)]
    webhook_ca_pem: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct BackupRegistration {
    wa_id: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct BackupProfile {
    #[serde(default)]
    about: String,
    #[serde(default)]
    photo_jpeg_b64: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct TwoStep {
    pin_hash: String,
}

pub struct SettingsService {
    store: Arc<dyn Store>,
    network: Arc<dyn Network>,
    clock: Arc<dyn Clock>,
    cfg: SettingsConfig,
    /// The application settings as the node started with them.
    boot: ApplicationSettings,
    /// The stored application settings; the lock serialises read-modify-write.
    stored: Mutex<ApplicationSettings>,
    /// Serialises changes of the other documents.
    docs: Mutex<()>,
    effective: watch::Sender<Arc<ApplicationSettings>>,
    webhook_ca: watch::Sender<Option<Arc<str>>>,
}

fn not_ready() -> WaError {
    WaError::new(ErrorCode::ServiceNotReady, "Service not ready")
}

fn corrupt(name: &str, e: serde_json::Error) -> StoreError {
    StoreError::Other(format!("stored settings document '{name}' does not parse: {e}"))
}

impl SettingsService {
    /// Loads the stored settings (defaults where nothing is stored).
    pub async fn start(
        store: Arc<dyn Store>,
        network: Arc<dyn Network>,
        clock: Arc<dyn Clock>,
        cfg: SettingsConfig,
    ) -> Result<Self, StoreError> {
        let application: ApplicationSettings = match store.get_setting(doc::APPLICATION).await? {
            Some(text) => serde_json::from_str(&text).map_err(|e| corrupt(doc::APPLICATION, e))?,
            None => ApplicationSettings::default(),
        };
        let ca: Option<String> = match store.get_setting(doc::WEBHOOK_CA).await? {
            Some(text) => serde_json::from_str(&text).map_err(|e| corrupt(doc::WEBHOOK_CA, e))?,
            None => None,
        };
        let (effective, _) = watch::channel(Arc::new(application.clone()));
        let (webhook_ca, _) = watch::channel(ca.map(Arc::from));
        Ok(Self {
            store,
            network,
            clock,
            cfg,
            boot: application.clone(),
            stored: Mutex::new(application),
            docs: Mutex::new(()),
            effective,
            webhook_ca,
        })
    }

    // ------------------------------------------------- the typed interface

    /// The settings the node runs on now.
    pub fn current(&self) -> Arc<ApplicationSettings> {
        self.effective.borrow().clone()
    }

    /// Change notifications of the effective settings.
    pub fn subscribe(&self) -> watch::Receiver<Arc<ApplicationSettings>> {
        self.effective.subscribe()
    }

    /// The webhook CA bundle (PEM) the webhook client must trust, and its changes.
    pub fn subscribe_webhook_ca(&self) -> watch::Receiver<Option<Arc<str>>> {
        self.webhook_ca.subscribe()
    }

    fn effective_for(&self, stored: &ApplicationSettings) -> ApplicationSettings {
        if self.cfg.strict_restart { stored.with_restart_fields_of(&self.boot) } else { stored.clone() }
    }

    /// Makes `stored` the stored settings' new value known to subscribers and
    /// reports which restart-required keys changed (against `previous`) but wait.
    fn publish(&self, previous: &ApplicationSettings, stored: &ApplicationSettings) -> PatchOutcome {
        let effective = self.effective_for(stored);
        let changed = previous.restart_required_differences(stored);
        let pending_restart =
            stored.restart_required_differences(&effective).into_iter().filter(|k| changed.contains(k)).collect();
        self.effective.send_if_modified(|cur| {
            if **cur == effective {
                false
            } else {
                *cur = Arc::new(effective);
                true
            }
        });
        PatchOutcome { pending_restart }
    }

    /// Restart-required keys changed since start and not yet in effect.
    pub async fn pending_restart(&self) -> Vec<&'static str> {
        let stored = self.stored.lock().await;
        stored.restart_required_differences(&self.effective_for(&stored))
    }

    /// Reads the stored settings again: another node of the deployment
    /// changed them (multiconnect). Restart-required fields keep the values
    /// this node started with, as for a change made here.
    pub async fn reload(&self) -> Result<(), StoreError> {
        let application: ApplicationSettings = match self.store.get_setting(doc::APPLICATION).await? {
            Some(text) => serde_json::from_str(&text).map_err(|e| corrupt(doc::APPLICATION, e))?,
            None => ApplicationSettings::default(),
        };
        let ca: Option<String> = match self.store.get_setting(doc::WEBHOOK_CA).await? {
            Some(text) => serde_json::from_str(&text).map_err(|e| corrupt(doc::WEBHOOK_CA, e))?,
            None => None,
        };
        {
            let mut stored = self.stored.lock().await;
            let previous = std::mem::replace(&mut *stored, application);
            self.publish(&previous, &stored);
        }
        let ca: Option<Arc<str>> = ca.map(Arc::from);
        self.webhook_ca.send_if_modified(|cur| {
            let changed = *cur != ca;
            *cur = ca;
            changed
        });
        Ok(())
    }

    // ------------------------------------------------ application settings

    /// `GET /v1/settings/application`: the stored values.
    pub async fn application_json(&self) -> Value {
        let stored = self.stored.lock().await;
        stored.to_json(self.network.registered_number().as_deref())
    }

    async fn save_application(&self, next: &ApplicationSettings) -> Result<(), WaError> {
        let text = serde_json::to_string(next).map_err(|e| WaError::internal(format!("serialising settings: {e}")))?;
        self.write(vec![SettingWrite::Put { name: doc::APPLICATION.into(), value: text }]).await
    }

    async fn write(&self, writes: Vec<SettingWrite>) -> Result<(), WaError> {
        self.store.write_settings(writes, self.clock.now_unix()).await.map_err(WaError::from)
    }

    /// `PATCH /v1/settings/application`.
    pub async fn patch_application(&self, body: &Value) -> Result<PatchOutcome, WaError> {
        let mut stored = self.stored.lock().await;
        let next = stored.patched(body, PatchRules { allow_http_webhooks: self.cfg.allow_http_webhooks })?;
        self.save_application(&next).await?;
        let previous = std::mem::replace(&mut *stored, next);
        Ok(self.publish(&previous, &stored))
    }

    /// `DELETE /v1/settings/application`: back to the defaults.
    pub async fn reset_application(&self) -> Result<PatchOutcome, WaError> {
        let mut stored = self.stored.lock().await;
        let next = ApplicationSettings::default();
        self.save_application(&next).await?;
        let previous = std::mem::replace(&mut *stored, next);
        Ok(self.publish(&previous, &stored))
    }

    // ---------------------------------------------------- media providers

    async fn load<T: serde::de::DeserializeOwned>(&self, name: &str) -> Result<Option<T>, WaError> {
        match self.store.get_setting(name).await? {
            None => Ok(None),
            Some(text) => serde_json::from_str(&text).map(Some).map_err(|e| corrupt(name, e).into()),
        }
    }

    fn put<T: Serialize>(name: &str, value: &T) -> Result<SettingWrite, WaError> {
        let value = serde_json::to_string(value).map_err(|e| WaError::internal(format!("serialising {name}: {e}")))?;
        Ok(SettingWrite::Put { name: name.into(), value })
    }

    pub async fn media_providers(&self) -> Result<Vec<MediaProvider>, WaError> {
        Ok(self.load(doc::MEDIA_PROVIDERS).await?.unwrap_or_default())
    }

    /// `POST …/media/providers`: adds or replaces one provider.
    pub async fn add_media_provider(&self, body: &Value) -> Result<(), WaError> {
        let provider = providers::parse_post(body)?;
        let _guard = self.docs.lock().await;
        let list = providers::upsert(&self.media_providers().await?, provider)?;
        self.write(vec![Self::put(doc::MEDIA_PROVIDERS, &list)?]).await
    }

    /// `DELETE …/media/providers/{name}`.
    pub async fn delete_media_provider(&self, name: &str) -> Result<(), WaError> {
        let _guard = self.docs.lock().await;
        let mut list = self.media_providers().await?;
        let before = list.len();
        list.retain(|p| p.name != name);
        if list.len() == before {
            return Err(WaError::not_found("Provider not found"));
        }
        self.write(vec![Self::put(doc::MEDIA_PROVIDERS, &list)?]).await
    }

    // ------------------------------------------------------------ profile

    pub async fn about(&self) -> Result<String, WaError> {
        Ok(self.load(doc::ABOUT).await?.unwrap_or_default())
    }

    /// `PATCH /v1/settings/profile/about`.
    pub async fn set_about(&self, text: Option<&Value>) -> Result<(), WaError> {
        let text = match text {
            None => return Err(WaError::missing_parameter("text")),
            Some(Value::String(s)) => s,
            Some(other) => return Err(WaError::invalid_value("text", &other.to_string())),
        };
        if text.chars().count() > ABOUT_MAX_CHARS {
            return Err(WaError::invalid(format!("Parameter 'text' is longer than {ABOUT_MAX_CHARS} characters")));
        }
        if self.network.registered_number().is_none() {
            return Err(not_ready());
        }
        self.network.publish_profile(&ProfileChange::About(text.clone())).await?;
        self.write(vec![Self::put(doc::ABOUT, text)?]).await
    }

    /// The stored profile photo (JPEG), if any.
    pub async fn photo(&self) -> Result<Option<Vec<u8>>, WaError> {
        Ok(self.store.get_blob(doc::PHOTO_BLOB).await?)
    }

    /// `POST /v1/settings/profile/photo`: checks, crops, scales and stores it.
    pub async fn set_photo(&self, upload: Vec<u8>) -> Result<(), WaError> {
        let processed: Photo = tokio::task::spawn_blocking(move || photo::process_upload(&upload))
            .await
            .map_err(|e| WaError::internal(format!("photo processing failed: {e}")))??;
        if self.network.registered_number().is_none() {
            return Err(not_ready());
        }
        self.network.publish_profile(&ProfileChange::Photo(processed.jpeg.clone())).await?;
        self.write(vec![SettingWrite::PutBlob { name: doc::PHOTO_BLOB.into(), data: processed.jpeg }]).await
    }

    /// `DELETE /v1/settings/profile/photo` (no photo is not an error).
    pub async fn delete_photo(&self) -> Result<(), WaError> {
        self.network.publish_profile(&ProfileChange::PhotoRemoved).await?;
        self.write(vec![SettingWrite::DeleteBlob { name: doc::PHOTO_BLOB.into() }]).await
    }

    pub async fn business_profile(&self) -> Result<BusinessProfile, WaError> {
        Ok(self.load(doc::BUSINESS).await?.unwrap_or_default())
    }

    /// `POST /v1/settings/business/profile` (a partial update).
    pub async fn update_business_profile(&self, body: &Value) -> Result<(), WaError> {
        let _guard = self.docs.lock().await;
        let next = self.business_profile().await?.apply_update(body)?;
        if self.network.registered_number().is_none() {
            return Err(not_ready());
        }
        self.network.publish_profile(&ProfileChange::Business(next.to_json())).await?;
        self.write(vec![Self::put(doc::BUSINESS, &next)?]).await
    }

    // ----------------------------------------------------------- two-step

    /// Whether two-step verification is on.
    pub async fn two_step_enabled(&self) -> Result<bool, WaError> {
        Ok(self.load::<TwoStep>(doc::TWO_STEP).await?.is_some())
    }

    /// Checks a PIN against the stored one (`true` when two-step is off).
    pub async fn verify_pin(&self, pin: &str) -> Result<bool, WaError> {
        let Some(stored) = self.load::<TwoStep>(doc::TWO_STEP).await? else { return Ok(true) };
        let (hasher, pin) = (self.cfg.hasher.clone(), pin.to_owned());
        tokio::task::spawn_blocking(move || hasher.verify(&pin, &stored.pin_hash))
            .await
            .map_err(|e| WaError::internal(format!("PIN check failed: {e}")))
    }

    /// `POST /v1/settings/account/two-step`: enables it, or replaces the PIN.
    pub async fn enable_two_step(&self, pin: Option<&Value>) -> Result<(), WaError> {
        let pin = match pin {
            None => return Err(WaError::missing_parameter("pin")),
            // PHP's falsy values: "" and "0".
            Some(Value::String(s)) if s.is_empty() || s == "0" => {
                return Err(WaError::invalid("Pin must not be empty"));
            }
            Some(Value::Bool(false)) | Some(Value::Null) => return Err(WaError::invalid("Pin must not be empty")),
            Some(Value::String(s)) if s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit()) => s.clone(),
            Some(other) => return Err(WaError::invalid_json_value("pin", other)),
        };
        if self.network.registered_number().is_none() {
            return Err(not_ready());
        }
        self.network.publish_profile(&ProfileChange::TwoStepPin(pin.clone())).await?;
        let hasher = self.cfg.hasher.clone();
        let pin_hash = tokio::task::spawn_blocking(move || hasher.hash(&pin))
            .await
            .map_err(|e| WaError::internal(format!("PIN hashing failed: {e}")))?
            .map_err(WaError::internal)?;
        self.write(vec![Self::put(doc::TWO_STEP, &TwoStep { pin_hash })?]).await
    }

    /// `DELETE /v1/settings/account/two-step` (already off is fine).
    pub async fn disable_two_step(&self) -> Result<(), WaError> {
        if self.network.registered_number().is_none() {
            return Err(not_ready());
        }
        self.network.publish_profile(&ProfileChange::TwoStepOff).await?;
        self.write(vec![SettingWrite::Delete { name: doc::TWO_STEP.into() }]).await
    }

    // --------------------------------------------------------- webhook CA

    pub fn webhook_ca(&self) -> Option<Arc<str>> {
        self.webhook_ca.borrow().clone()
    }

    /// `POST /v1/certificates/webhooks/ca`: replaces the bundle.
    pub async fn set_webhook_ca(&self, pem: &str) -> Result<(), WaError> {
        certificates::check_webhook_ca(pem)?;
        let _guard = self.docs.lock().await;
        self.write(vec![Self::put(doc::WEBHOOK_CA, &pem)?]).await?;
        self.webhook_ca.send_replace(Some(Arc::from(pem)));
        Ok(())
    }

    /// `DELETE /v1/certificates/webhooks/ca` (nothing stored is fine).
    pub async fn delete_webhook_ca(&self) -> Result<(), WaError> {
        let _guard = self.docs.lock().await;
        self.write(vec![SettingWrite::Delete { name: doc::WEBHOOK_CA.into() }]).await?;
        self.webhook_ca.send_replace(None);
        Ok(())
    }

    // ---------------------------------------------------- backup/restore

    /// `POST /v1/settings/backup`: an encrypted blob of every backed-up setting.
    pub async fn backup(&self, password: Option<&Value>) -> Result<String, WaError> {
        let password = backup_password(password)?;
        let Some(wa_id) = self.network.registered_number() else { return Err(not_ready()) };
        let document = {
            let _guard = self.docs.lock().await;
            let stored = self.stored.lock().await;
            BackupDocument {
                format: 1,
                application: stored.clone(),
                media_providers: self.media_providers().await?,
                registration: BackupRegistration { wa_id },
                two_step_pin_hash: self.load::<TwoStep>(doc::TWO_STEP).await?.map(|t| t.pin_hash),
                profile: BackupProfile {
                    about: self.about().await?,
                    photo_jpeg_b64: self.photo().await?.map(|b| STANDARD.encode(b)),
                },
                business_profile: self.business_profile().await?,
                webhook_ca_pem: self.webhook_ca().map(|c| c.to_string()),
            }
        };
        let plain = serde_json::to_vec(&document).map_err(|e| WaError::internal(format!("backup: {e}")))?;
        tokio::task::spawn_blocking(move || backup::encrypt(&password, &plain))
            .await
            .map_err(|e| WaError::internal(format!("backup failed: {e}")))?
            .map_err(|e| WaError::internal(e.to_string()))
    }

    /// `POST /v1/settings/restore`: replaces every backed-up setting at once,
    /// or (wrong password, damaged or foreign data) changes nothing.
    pub async fn restore(&self, password: Option<&Value>, data: Option<&Value>) -> Result<(), WaError> {
        // The Webapp checked `password`, then `data`, and reported only the first missing.
        let password = match password {
            None => return Err(WaError::missing_parameter("password")),
            Some(Value::String(s)) => s.clone(),
            Some(other) => return Err(WaError::invalid_value("password", &other.to_string())),
        };
        let data = match data {
            None => return Err(WaError::missing_parameter("data")),
            Some(Value::String(s)) => s.clone(),
            Some(other) => return Err(WaError::invalid_value("data", &other.to_string())),
        };
        let plain = tokio::task::spawn_blocking(move || backup::decrypt(&password, &data))
            .await
            .map_err(|e| WaError::internal(format!("restore failed: {e}")))?
            .map_err(|e| match e {
                BackupError::Malformed | BackupError::Rejected => WaError::invalid("Unable to decrypt backup data"),
                BackupError::Crypto(m) => WaError::internal(m),
            })?;
        let document: BackupDocument = serde_json::from_slice(&plain)
            .map_err(|_| WaError::invalid("Unsupported backup data: the content is not a wabiz backup"))?;
        if document.format != 1 {
            return Err(WaError::invalid(format!("Unsupported backup format {}", document.format)));
        }
        let wa_id = document.registration.wa_id;
        if wa_id.is_empty() || !wa_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(WaError::invalid("Unsupported backup data: no registered number"));
        }
        let photo = match document.profile.photo_jpeg_b64 {
            None => None,
            Some(b64) => {
                Some(STANDARD.decode(b64).map_err(|_| WaError::invalid("Unsupported backup data: bad photo"))?)
            }
        };
        if let Some(ca) = &document.webhook_ca_pem {
            certificates::check_webhook_ca(ca)?;
        }

        let _guard = self.docs.lock().await;
        let mut stored = self.stored.lock().await;
        let mut writes = vec![
            Self::put(doc::APPLICATION, &document.application)?,
            Self::put(doc::MEDIA_PROVIDERS, &document.media_providers)?,
            Self::put(doc::ABOUT, &document.profile.about)?,
            Self::put(doc::BUSINESS, &document.business_profile)?,
            SettingWrite::PutMeta { key: ACCOUNT_NUMBER_META.into(), value: wa_id.clone() },
            SettingWrite::PutMeta { key: ACCOUNT_SOURCE_META.into(), value: "restore".into() },
        ];
        writes.push(match &document.two_step_pin_hash {
            Some(h) => Self::put(doc::TWO_STEP, &TwoStep { pin_hash: h.clone() })?,
            None => SettingWrite::Delete { name: doc::TWO_STEP.into() },
        });
        writes.push(match &document.webhook_ca_pem {
            Some(ca) => Self::put(doc::WEBHOOK_CA, ca)?,
            None => SettingWrite::Delete { name: doc::WEBHOOK_CA.into() },
        });
        writes.push(match photo {
            Some(data) => SettingWrite::PutBlob { name: doc::PHOTO_BLOB.into(), data },
            None => SettingWrite::DeleteBlob { name: doc::PHOTO_BLOB.into() },
        });
        self.write(writes).await?;

        let previous = std::mem::replace(&mut *stored, document.application);
        self.publish(&previous, &stored);
        self.webhook_ca.send_replace(document.webhook_ca_pem.map(Arc::from));
        self.network.adopt_registration(&wa_id);
        tracing::info!(wa_id = %wa_id, "settings restored from a backup");
        Ok(())
    }
}

fn backup_password(v: Option<&Value>) -> Result<String, WaError> {
    match v {
        None => Err(WaError::missing_parameter("password")),
        Some(Value::String(s)) if s.is_empty() => Err(WaError::invalid("Parameter 'password' must not be empty")),
        Some(Value::String(s)) if s.chars().count() > BACKUP_PASSWORD_MAX => {
            Err(WaError::invalid(format!("Parameter 'password' is longer than {BACKUP_PASSWORD_MAX} characters")))
        }
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(WaError::invalid_value("password", &other.to_string())),
    }
}

/// `{"settings": {"application": …}}` and friends: the documented wrappers.
pub fn wrap(path: &[&str], inner: Value) -> Value {
    path.iter().rev().fold(inner, |acc, key| json!({ *key: acc }))
}
