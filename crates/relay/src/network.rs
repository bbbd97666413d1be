//! The relay as the server's `Network` (`--network cloud`): sends are stored
//! and queued for the sender (`sender.rs`), registration and mark-read go to
//! the Graph API, and the link's state comes from the last Graph answers.

use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use wabiz_domain::WaError;
use wabiz_domain::clock::Clock;
use wabiz_domain::events::{Event, EventBus};
use wabiz_domain::network::{
    ACCOUNT_NUMBER_META, ACCOUNT_SOURCE_META, CodeRequest, GatewayStatus, Network, PendingRegistration, ProfileChange,
};
use wabiz_domain::ports::{MessageRecord, SettingWrite, Store, StoreError};
use wabiz_domain::relay::SendEnvelope;

use crate::config::RelayConfig;
use crate::errors::CloudError;
use crate::graph::{CodeMethod, Graph};
use crate::profile::{ProfileCall, call_for};
use crate::users::is_relay_wa_id;

/// How often the link is checked when nothing else tells (a Graph call that
/// reads the phone number).
const PROBE_EVERY: Duration = Duration::from_secs(30);

/// How a number the relay may keep from an earlier run was registered:
/// read from Cloud, or through `/v1/account/verify`.
const RELAY_SOURCES: [&str; 2] = ["cloud", "verify"];

/// What the last Graph answer said about the link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum LinkState {
    /// No Graph call has answered yet.
    Unknown = 0,
    /// The last call was answered (whatever its outcome for the message).
    Up = 1,
    /// The last call got no answer.
    Unreachable = 2,
    /// The last call was refused for the token or its permissions.
    Unauthorized = 3,
}

/// The link's state, shared by everything that calls the Graph API.
#[derive(Debug, Default)]
pub struct Link(AtomicU8);

impl Link {
    pub fn get(&self) -> LinkState {
        match self.0.load(Ordering::Relaxed) {
            1 => LinkState::Up,
            2 => LinkState::Unreachable,
            3 => LinkState::Unauthorized,
            _ => LinkState::Unknown,
        }
    }

    /// Records what a Graph call's outcome says about the link.
    pub fn observe<T>(&self, outcome: &Result<T, CloudError>) {
        let state = match outcome {
            Ok(_) => LinkState::Up,
            Err(e) if e.status == 0 => LinkState::Unreachable,
            Err(e) if e.is_auth() => LinkState::Unauthorized,
            Err(_) => LinkState::Up,
        };
        self.0.store(state as u8, Ordering::Relaxed);
    }
}

/// The Cloud relay.
pub struct RelayNetwork {
    config: RelayConfig,
    graph: Arc<Graph>,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    /// The business number (digits), once known: registered through
    /// `/v1/account`, or read from Cloud at start.
    number: RwLock<Option<String>>,
    /// The number a code was requested for.
    pending: Mutex<Option<String>>,
    link: Arc<Link>,
    /// About how many sends wait (the sender reads it from the store).
    queued: Arc<AtomicU64>,
    /// Wakes the sender when a send is queued.
    wake: Arc<Notify>,
    events: Arc<EventBus>,
}

impl RelayNetwork {
    /// The relay, with the number stored by an earlier run, if any.
    pub async fn start(
        config: RelayConfig,
        graph: Arc<Graph>,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        events: Arc<EventBus>,
    ) -> Result<Self, StoreError> {
        // Only a number the relay registered or read from Cloud: one the
        // simulator was started with (the same data dir, before going live)
        // is not the Cloud number's.
        let source = store.get_meta(ACCOUNT_SOURCE_META).await?.unwrap_or_default();
        let number = store
            .get_meta(ACCOUNT_NUMBER_META)
            .await?
            .filter(|n| !n.is_empty() && RELAY_SOURCES.contains(&source.as_str()));
        Ok(Self {
            config,
            graph,
            store,
            clock,
            number: RwLock::new(number),
            pending: Mutex::new(None),
            link: Arc::new(Link::default()),
            queued: Arc::new(AtomicU64::new(0)),
            wake: Arc::new(Notify::new()),
            events,
        })
    }

    pub fn config(&self) -> &RelayConfig {
        &self.config
    }

    pub fn graph(&self) -> Arc<Graph> {
        Arc::clone(&self.graph)
    }

    pub fn link(&self) -> Arc<Link> {
        Arc::clone(&self.link)
    }

    /// The figure of waiting sends the sender keeps current.
    pub fn queued(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.queued)
    }

    /// What the sender waits on.
    pub fn wake_handle(&self) -> Arc<Notify> {
        Arc::clone(&self.wake)
    }

    fn set_number(&self, number: Option<String>) {
        *self.number.write().unwrap_or_else(|e| e.into_inner()) = number;
    }

    async fn save_number(&self, number: &str, source: &str) -> Result<(), StoreError> {
        let writes = vec![
            SettingWrite::PutMeta { key: ACCOUNT_NUMBER_META.into(), value: number.into() },
            SettingWrite::PutMeta { key: ACCOUNT_SOURCE_META.into(), value: source.into() },
        ];
        self.store.write_settings(writes, self.clock.now_unix()).await?;
        self.set_number((!number.is_empty()).then(|| number.to_owned()));
        Ok(())
    }

    /// Reads the phone number from Cloud: the link's state, and the business
    /// number when none is known yet (a number already live on Cloud needs no
    /// `/v1/account` call).
    pub async fn probe(&self) {
        let answer = self.graph.phone_number().await;
        self.link.observe(&answer);
        match answer {
            Ok(phone) if self.registered_number().is_none() => {
                let digits: String = phone["display_phone_number"]
                    .as_str()
                    .unwrap_or_default()
                    .chars()
                    .filter(char::is_ascii_digit)
                    .collect();
                if digits.len() >= 5 {
                    match self.save_number(&digits, "cloud").await {
                        Ok(()) => tracing::info!(number = %digits, "relay: the business number, as Cloud shows it"),
                        Err(e) => tracing::warn!(error = %e, "relay: could not store the business number"),
                    }
                }
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e.on_prem_details(), "relay: the Graph API did not answer the link check")
            }
        }
    }

    /// Checks the link now and then until shut down.
    pub async fn watch_link(self: Arc<Self>, shutdown: CancellationToken) {
        loop {
            self.probe().await;
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(PROBE_EVERY) => {}
            }
        }
    }
}

#[async_trait::async_trait]
impl Network for RelayNetwork {
    fn name(&self) -> &'static str {
        "cloud"
    }

    fn gateway_status(&self) -> GatewayStatus {
        if self.registered_number().is_none() {
            return GatewayStatus::Unregistered;
        }
        match self.link.get() {
            LinkState::Up => GatewayStatus::Connected,
            LinkState::Unknown => GatewayStatus::Connecting,
            LinkState::Unreachable | LinkState::Unauthorized => GatewayStatus::Disconnected,
        }
    }

    fn registered_number(&self) -> Option<String> {
        self.number.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    async fn reload_registration(&self) -> Result<(), StoreError> {
        let source = self.store.get_meta(ACCOUNT_SOURCE_META).await?.unwrap_or_default();
        let stored = self.store.get_meta(ACCOUNT_NUMBER_META).await?;
        if let Some(number) = stored.filter(|n| !n.is_empty() && RELAY_SOURCES.contains(&source.as_str())) {
            self.set_number(Some(number));
        }
        Ok(())
    }

    fn adopt_registration(&self, number: &str) {
        self.set_number((!number.is_empty()).then(|| number.to_owned()));
    }

    async fn request_code(&self, number: &str, method: &str, wipe: bool) -> Result<CodeRequest, WaError> {
        if !wipe && self.registered_number().as_deref() == Some(number) {
            return Ok(CodeRequest::AlreadyRegistered);
        }
        let method = if method.eq_ignore_ascii_case("voice") { CodeMethod::Voice } else { CodeMethod::Sms };
        let answer = self.graph.request_code(method, "en_US").await;
        self.link.observe(&answer);
        answer.map_err(|e| e.to_wa_error())?;
        *self.pending.lock().unwrap_or_else(|e| e.into_inner()) = Some(number.to_owned());
        Ok(CodeRequest::CodeSent)
    }

    async fn verify_code(&self, code: &str) -> Result<String, WaError> {
        let Some(number) = self.pending.lock().unwrap_or_else(|e| e.into_inner()).clone() else {
            return Err(WaError::invalid("No registration code was requested"));
        };
        let verified = self.graph.verify_code(code).await;
        self.link.observe(&verified);
        verified.map_err(|e| e.to_wa_error())?;
        // The two-step PIN comes from the configuration (`--relay-pin`).
        let registered = self.graph.register(&self.config.pin).await;
        self.link.observe(&registered);
        registered.map_err(|e| e.to_wa_error())?;
        self.save_number(&number, "verify").await?;
        *self.pending.lock().unwrap_or_else(|e| e.into_inner()) = None;
        tracing::info!(number = %number, "relay: number registered on the Cloud API");
        Ok(number)
    }

    fn pending_registration(&self) -> Option<PendingRegistration> {
        // The code goes to the phone: the relay never sees it.
        None
    }

    async fn accept_outbound(&self, message: MessageRecord, envelope: SendEnvelope) -> Result<(), WaError> {
        // Bounded, so that legacy load shedding still works (§6): the
        // sender keeps the figure current, each send adds to it.
        if self.queued.load(Ordering::Relaxed) >= self.config.queue_limit {
            return Err(WaError::new(
                wabiz_domain::ErrorCode::SystemOverloaded,
                "The queue of sends to the Cloud API is full; try again later",
            ));
        }
        self.store.queue_cloud_send(&message, &envelope, self.clock.now_millis()).await?;
        self.queued.fetch_add(1, Ordering::Relaxed);
        self.events.publish_with(|| {
            vec![Event::MessageAccepted {
                id: message.id.clone(),
                wa_id: message.peer.clone(),
                kind: message.kind.clone(),
            }]
        });
        self.wake.notify_one();
        Ok(())
    }

    fn wa_id_for_input(&self, input: &str) -> Option<String> {
        let digits: String = input.chars().filter(|c| !matches!(c, '+' | ' ' | '-')).collect();
        if is_relay_wa_id(&digits) {
            return Some(digits);
        }
        wabiz_domain::phone::normalize(input, self.registered_country_code()).map(|n| self.wa_id_of(&n))
    }

    fn applies_whatsapp_rules(&self) -> bool {
        false
    }

    async fn mark_read(&self, message: &MessageRecord) -> Result<(), WaError> {
        let answer = self.graph.mark_read(&message.id).await;
        self.link.observe(&answer);
        answer.map_err(|e| e.to_wa_error())
    }

    async fn publish_profile(&self, change: &ProfileChange) -> Result<(), WaError> {
        let answer = match call_for(change)? {
            ProfileCall::BusinessProfile(body) => self.graph.set_business_profile(&body).await,
            ProfileCall::Pin(pin) => self.graph.set_pin(&pin).await,
            ProfileCall::Photo(jpeg) => self.graph.set_profile_photo(jpeg).await,
        };
        self.link.observe(&answer);
        answer.map_err(|e| e.to_wa_error())
    }

    async fn delete_media(&self, id: &str) -> Result<bool, WaError> {
        let Some(media) = self.store.cloud_media(id).await? else { return Ok(false) };
        let deleted = self.graph.delete_media(&media.cloud_id).await;
        self.link.observe(&deleted);
        match deleted {
            Ok(()) => {}
            // Gone there already (expired): nothing left to delete.
            Err(e) if e.status == 404 => {}
            Err(e) => return Err(e.to_wa_error()),
        }
        self.store.forget_cloud_media(id).await?;
        Ok(true)
    }

    async fn remote_media(&self, id: &str) -> Result<Option<(String, Vec<u8>)>, WaError> {
        let Some(media) = self.store.cloud_media(id).await? else { return Ok(None) };
        // Cloud's download URLs last minutes: a fresh one each time.
        let info = self.graph.media(&media.cloud_id).await;
        self.link.observe(&info);
        let info = info.map_err(|e| media_error(id, &e))?;
        let bytes = self.graph.download(&info.url).await.map_err(|e| media_error(id, &e))?;
        Ok(Some((info.mime_type, bytes)))
    }
}

/// A Cloud media that cannot be fetched: gone there (404), or the error.
fn media_error(id: &str, e: &CloudError) -> WaError {
    if e.status == 404 {
        WaError::not_found(format!("Media {id} is no longer on the Cloud API"))
    } else {
        e.to_wa_error()
    }
}
