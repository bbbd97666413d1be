//! The business number and whether it is registered (`registration.md` §5).

use std::sync::{Arc, Mutex, OnceLock, RwLock};

use tokio::sync::Notify;

use crate::chaos::Chaos;
use crate::links::LinkFetcher;
use crate::receipts::{ReceiptWorker, SettleAtOnce, Shards, accepted_event};
use crate::steps::Delays;
use wabiz_domain::WaError;
use wabiz_domain::callbacks::Outbox;
use wabiz_domain::clock::Clock;
use wabiz_domain::events::EventBus;
use wabiz_domain::messages::OutMessageCounters;
use wabiz_domain::network::{CodeRequest, GatewayStatus, Network, PendingRegistration};
use wabiz_domain::phone::country_code_of;
use wabiz_domain::ports::{MessageRecord, SettingWrite, Store, StoreError};
use wabiz_domain::relay::SendEnvelope;

/// The default business number: a fictional North American number
/// (555-01xx numbers are reserved for fiction).
pub const DEFAULT_NUMBER: &str = "16315550100";

use wabiz_domain::network::{ACCOUNT_NUMBER_META as NUMBER_KEY, ACCOUNT_SOURCE_META as SOURCE_KEY};

#[derive(Debug, Clone)]
pub struct SimulatorOptions {
    /// `--simulator-number`: digits only, country code first.
    pub number: String,
    /// `--unregistered`: start without a registered number.
    pub start_unregistered: bool,
    /// `--simulator-registration-code`: the only code accepted (else a random
    /// 6-digit code per request).
    pub registration_code: Option<String>,
    /// `--simulator-sunset`: registration answers Meta's sunset error.
    pub sunset: bool,
    /// Receipt delays.
    pub delays: Delays,
    /// Brazilian and Mexican mobile numbers get the `wa_id` WhatsApp gave
    /// them, not their digits (`wa_ids.rs`). On with the legacy contact
    /// rules (`--contacts-legacy-validation`), as `contacts.md` recommends.
    pub legacy_wa_ids: bool,
}

impl Default for SimulatorOptions {
    fn default() -> Self {
        Self {
            number: DEFAULT_NUMBER.into(),
            start_unregistered: false,
            registration_code: None,
            sunset: false,
            delays: Delays::default(),
            legacy_wa_ids: false,
        }
    }
}

/// How long a requested code stays valid, and how many wrong tries it takes.
const CODE_LIFETIME_SECS: i64 = 600;
const CODE_ATTEMPTS: u32 = 5;

impl SimulatorOptions {
    /// Checks the options before anything starts.
    pub fn validate(&self) -> Result<(), String> {
        let n = &self.number;
        if !(5..=15).contains(&n.len()) || !n.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("--simulator-number must be 5 to 15 digits (country code first, no '+'), not '{n}'"));
        }
        if let Some(code) = &self.registration_code
            && (code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(format!("--simulator-registration-code must be 6 digits, not '{code}'"));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum AccountState {
    Unregistered,
    /// `cc` is the number's calling code, worked out once here rather than on
    /// every send (national numbers are read in the business's country).
    Registered {
        number: String,
        cc: Option<u16>,
    },
}

impl AccountState {
    fn registered(number: String) -> Self {
        let cc = country_code_of(&number);
        AccountState::Registered { number, cc }
    }
}

/// The simulated network.
pub struct SimulatedNetwork {
    state: RwLock<AccountState>,
    pending: Mutex<Option<PendingRegistration>>,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    opts: SimulatorOptions,
    /// Wakes the receipt worker when messages are accepted.
    wake: Arc<Notify>,
    /// Stores the steps due at once with an accepted message (zero `sent`
    /// delay, one node); set when the receipt worker is made, since it
    /// needs the outbox, which needs the settings, which need the network.
    settle: OnceLock<SettleAtOnce>,
    /// Where accepted messages are told (set with the receipt worker).
    events: OnceLock<Arc<EventBus>>,
    /// The network on a bad day (`/simulator/chaos`).
    chaos: Arc<Chaos>,
}

fn random_code() -> String {
    let n = getrandom::u32().unwrap_or(0) % 1_000_000;
    format!("{n:06}")
}

impl SimulatedNetwork {
    /// Starts the simulator and settles the registration state:
    /// - a number registered through the registration flow (or restored from a
    ///   backup) stays registered;
    /// - otherwise, with `--unregistered` no number is registered;
    /// - otherwise the number of `--simulator-number` is registered.
    pub async fn start(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        opts: &SimulatorOptions,
    ) -> Result<Self, StoreError> {
        // A number registered through the registration flow, or restored from
        // a backup, stays registered whatever the flags say.
        let source = store.get_meta(SOURCE_KEY).await?.unwrap_or_default();
        let stored = store.get_meta(NUMBER_KEY).await?.unwrap_or_default();
        let state = if (source == "verify" || source == "restore") && !stored.is_empty() {
            AccountState::registered(stored)
        } else if opts.start_unregistered {
            save_account(store.as_ref(), clock.now_unix(), "", "").await?;
            AccountState::Unregistered
        } else {
            save_account(store.as_ref(), clock.now_unix(), &opts.number, "startup").await?;
            AccountState::registered(opts.number.clone())
        };
        match &state {
            AccountState::Registered { number, .. } => {
                tracing::info!(number = %number, "simulated network: number registered")
            }
            AccountState::Unregistered => tracing::info!("simulated network: no number registered yet"),
        }
        Ok(Self {
            state: RwLock::new(state),
            pending: Mutex::new(None),
            store,
            clock,
            opts: opts.clone(),
            wake: Arc::new(Notify::new()),
            settle: OnceLock::new(),
            events: OnceLock::new(),
            chaos: Arc::new(Chaos::default()),
        })
    }

    /// The worker that moves accepted messages on (the server runs it), on
    /// every message or, in a multiconnect deployment, on the `shards` this
    /// node owns. Messages accepted from now on whose first steps are due
    /// at once are stored with them.
    pub fn receipt_worker(
        self: &Arc<Self>,
        outbox: Outbox,
        links: Option<Arc<LinkFetcher>>,
        counters: Arc<OutMessageCounters>,
        shards: Option<Shards>,
        events: Arc<EventBus>,
    ) -> ReceiptWorker {
        if self.events.set(Arc::clone(&events)).is_err() {
            tracing::warn!("simulated network: a second receipt worker was made; the first one's event bus stays");
        }
        let me = Arc::clone(self);
        let worker = ReceiptWorker {
            store: Arc::clone(&self.store),
            clock: Arc::clone(&self.clock),
            delays: self.opts.delays,
            wake: Arc::clone(&self.wake),
            business: Arc::new(move || me.registered_number()),
            outbox,
            links,
            counters,
            shards,
            events,
            chaos: Arc::clone(&self.chaos),
        };
        if let Some(settle) = worker.settle_at_once()
            && self.settle.set(settle).is_err()
        {
            tracing::warn!("simulated network: a second receipt worker was made; the first one's settings stay");
        }
        worker
    }

    /// The chaos settings this network follows.
    pub fn chaos(&self) -> Arc<Chaos> {
        Arc::clone(&self.chaos)
    }

    /// Reads the registration again: another node of the deployment may
    /// have registered (or restored) a number.
    pub async fn reload(&self) -> Result<(), StoreError> {
        let stored = self.store.get_meta(NUMBER_KEY).await?.unwrap_or_default();
        let state = if stored.is_empty() { AccountState::Unregistered } else { AccountState::registered(stored) };
        self.set_state(state);
        Ok(())
    }

    fn set_state(&self, state: AccountState) {
        *self.state.write().unwrap_or_else(|e| e.into_inner()) = state;
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, Option<PendingRegistration>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait::async_trait]
impl Network for SimulatedNetwork {
    fn name(&self) -> &'static str {
        "simulator"
    }

    fn gateway_status(&self) -> GatewayStatus {
        match &*self.state.read().unwrap_or_else(|e| e.into_inner()) {
            AccountState::Registered { .. } if self.chaos.outage() => GatewayStatus::Disconnected,
            AccountState::Registered { .. } => GatewayStatus::Connected,
            AccountState::Unregistered => GatewayStatus::Unregistered,
        }
    }

    fn registered_number(&self) -> Option<String> {
        match &*self.state.read().unwrap_or_else(|e| e.into_inner()) {
            AccountState::Registered { number, .. } => Some(number.clone()),
            AccountState::Unregistered => None,
        }
    }

    fn registered_country_code(&self) -> Option<u16> {
        match &*self.state.read().unwrap_or_else(|e| e.into_inner()) {
            AccountState::Registered { cc, .. } => *cc,
            AccountState::Unregistered => None,
        }
    }

    async fn reload_registration(&self) -> Result<(), StoreError> {
        self.reload().await
    }

    fn adopt_registration(&self, number: &str) {
        self.set_state(AccountState::registered(number.to_owned()));
        tracing::info!(number = %number, "simulated network: registration restored");
    }

    async fn request_code(&self, number: &str, method: &str, wipe: bool) -> Result<CodeRequest, WaError> {
        if self.opts.sunset {
            return Err(sunset_error());
        }
        if wipe {
            save_account(self.store.as_ref(), self.clock.now_unix(), "", "").await?;
            self.set_state(AccountState::Unregistered);
        } else if self.registered_number().as_deref() == Some(number) {
            return Ok(CodeRequest::AlreadyRegistered);
        }
        let code = self.opts.registration_code.clone().unwrap_or_else(random_code);
        // The simulated SMS: the log and the control API are where it arrives.
        tracing::info!(number = %number, method = %method, code = %code, "simulated network: registration code sent");
        *self.pending() = Some(PendingRegistration {
            number: number.to_owned(),
            method: method.to_owned(),
            code,
            attempts_left: CODE_ATTEMPTS,
            expires_at: self.clock.now_unix() + CODE_LIFETIME_SECS,
        });
        Ok(CodeRequest::CodeSent)
    }

    async fn verify_code(&self, code: &str) -> Result<String, WaError> {
        let number = {
            let mut pending = self.pending();
            let now = self.clock.now_unix();
            if pending.as_ref().is_some_and(|p| p.expires_at < now) {
                *pending = None;
            }
            let Some(p) = pending.as_mut() else {
                return Err(WaError::invalid("No registration code was requested"));
            };
            if p.code != code {
                p.attempts_left = p.attempts_left.saturating_sub(1);
                if p.attempts_left == 0 {
                    *pending = None;
                }
                return Err(WaError::invalid("Invalid registration code"));
            }
            let number = p.number.clone();
            *pending = None;
            number
        };
        // Both keys in one transaction: a crash between them must not lose the registration.
        save_account(self.store.as_ref(), self.clock.now_unix(), &number, "verify").await?;
        self.set_state(AccountState::registered(number.clone()));
        tracing::info!(number = %number, "simulated network: number registered");
        Ok(number)
    }

    fn pending_registration(&self) -> Option<PendingRegistration> {
        let pending = self.pending();
        pending.as_ref().filter(|p| p.expires_at >= self.clock.now_unix()).cloned()
    }

    fn registration_sunset(&self) -> bool {
        self.opts.sunset
    }

    async fn accept_outbound(&self, mut message: MessageRecord, _envelope: SendEnvelope) -> Result<(), WaError> {
        message.plan = self.chaos.plan_next().map(Box::new);
        let sent_ms = message.plan.as_ref().and_then(|p| p.delays_ms).map_or(self.opts.delays.sent_ms, |d| d.sent);
        let delay = i64::try_from(sent_ms).unwrap_or(i64::MAX);
        message.next_event_at = Some(self.clock.now_millis().saturating_add(delay));
        // During an outage nothing moves: the message waits, accepted.
        if let Some(settle) = self.settle.get().filter(|_| !self.chaos.outage()) {
            let business = self.registered_number().unwrap_or_default();
            if settle.store_settled(&message, &business).await? {
                return Ok(());
            }
        }
        self.store.insert_message(&message, &[]).await?;
        if let Some(events) = self.events.get() {
            events.publish_with(|| vec![accepted_event(&message)]);
        }
        self.wake.notify_one();
        Ok(())
    }

    fn is_whatsapp_user(&self, wa_id: &str) -> bool {
        crate::customers::customer(wa_id) != crate::customers::Customer::NotOnWhatsApp
    }

    fn wa_id_of(&self, international: &str) -> String {
        if self.opts.legacy_wa_ids { crate::wa_ids::wa_id_of(international) } else { international.to_owned() }
    }
}

/// Writes the registered number and how it was registered, together: a crash
/// between the two must not leave a number with the wrong origin.
async fn save_account(store: &dyn Store, now: i64, number: &str, source: &str) -> Result<(), StoreError> {
    let writes = vec![
        SettingWrite::PutMeta { key: NUMBER_KEY.into(), value: number.into() },
        SettingWrite::PutMeta { key: SOURCE_KEY.into(), value: source.into() },
    ];
    store.write_settings(writes, now).await
}

/// Meta's answer to registration after the On-Premises sunset.
pub fn sunset_error() -> WaError {
    WaError::forbidden("Unknown error: biz_link_on_prem_reg_blocked")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_validation() {
        assert!(SimulatorOptions::default().validate().is_ok());
        for bad in ["+16315550100", "1234", "1234567890123456", "16315x50100"] {
            let o = SimulatorOptions { number: bad.into(), ..Default::default() };
            assert!(o.validate().is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn state_follows_flags_and_persists() {
        let dir = tempfile::tempdir().unwrap();
        let store =
            wabiz_store::open(&wabiz_store::DatabaseConfig::Sqlite { path: dir.path().join("db") }).await.unwrap();

        let net = SimulatedNetwork::start(
            store.clone(),
            Arc::new(wabiz_domain::clock::SystemClock),
            &SimulatorOptions::default(),
        )
        .await
        .unwrap();
        assert_eq!(net.gateway_status(), GatewayStatus::Connected);
        assert_eq!(net.registered_number().as_deref(), Some(DEFAULT_NUMBER));

        let opts = SimulatorOptions { start_unregistered: true, ..Default::default() };
        let net =
            SimulatedNetwork::start(store.clone(), Arc::new(wabiz_domain::clock::SystemClock), &opts).await.unwrap();
        assert_eq!(net.gateway_status(), GatewayStatus::Unregistered);
        assert_eq!(store.get_meta(NUMBER_KEY).await.unwrap().as_deref(), Some(""));

        // A number registered through the registration flow survives restarts.
        store.put_meta(NUMBER_KEY, "4915112345678").await.unwrap();
        store.put_meta(SOURCE_KEY, "verify").await.unwrap();
        let net = SimulatedNetwork::start(
            store.clone(),
            Arc::new(wabiz_domain::clock::SystemClock),
            &SimulatorOptions::default(),
        )
        .await
        .unwrap();
        assert_eq!(net.registered_number().as_deref(), Some("4915112345678"));
        let opts = SimulatorOptions { start_unregistered: true, ..Default::default() };
        let net =
            SimulatedNetwork::start(store.clone(), Arc::new(wabiz_domain::clock::SystemClock), &opts).await.unwrap();
        assert_eq!(net.registered_number().as_deref(), Some("4915112345678"), "--unregistered keeps a verified number");
        store.close().await;
    }
}
