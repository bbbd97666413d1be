//! The port to "WhatsApp's servers". The simulated network implements it today;
//! a Cloud API relay may later.

use crate::error::WaError;
use crate::ports::{MessageRecord, StoreError};

/// The link between the Coreapp and WhatsApp's servers, as `/v1/health` reports it
/// (`health-stats.md` §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GatewayStatus {
    Connected,
    Connecting,
    Disconnected,
    Uninitialized,
    Unregistered,
}

impl GatewayStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            GatewayStatus::Connected => "connected",
            GatewayStatus::Connecting => "connecting",
            GatewayStatus::Disconnected => "disconnected",
            GatewayStatus::Uninitialized => "uninitialized",
            GatewayStatus::Unregistered => "unregistered",
        }
    }
}

/// What a registration-code request led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeRequest {
    /// The number is already registered here: nothing to do (201).
    AlreadyRegistered,
    /// A code was sent (202).
    CodeSent,
}

/// A pending registration, as the simulator's control API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingRegistration {
    pub number: String,
    pub method: String,
    pub code: String,
    pub attempts_left: u32,
    pub expires_at: i64,
}

/// What the rest of the server needs to know about the network backend.
#[async_trait::async_trait]
pub trait Network: Send + Sync + 'static {
    /// The backend's name, for logs and support (`simulator`).
    fn name(&self) -> &'static str;

    /// The current state of the link to the (simulated) WhatsApp servers.
    fn gateway_status(&self) -> GatewayStatus;

    /// The registered business number (`wa_id`), if any.
    fn registered_number(&self) -> Option<String>;

    /// The calling code of the registered number. Backends should keep it with
    /// the registration: senders ask for it on every message.
    fn registered_country_code(&self) -> Option<u16> {
        self.registered_number().and_then(|n| crate::contacts::country_code_of(&n))
    }

    /// Takes over a registration already written to the store under
    /// [`ACCOUNT_NUMBER_META`] (a restored backup).
    fn adopt_registration(&self, number: &str);

    /// Asks for a registration code for `number` (`cc` + national number),
    /// sent by `method` (`sms` or `voice`). `wipe` drops local state first.
    async fn request_code(&self, number: &str, method: &str, wipe: bool) -> Result<CodeRequest, WaError>;

    /// Completes a registration with the code received; returns the number.
    async fn verify_code(&self, code: &str) -> Result<String, WaError>;

    /// The pending registration, for backends that can show it (the simulator).
    fn pending_registration(&self) -> Option<PendingRegistration>;

    /// Whether registration is closed (Meta's sunset of the On-Premises API).
    fn registration_sunset(&self) -> bool {
        false
    }

    /// When the network first acts on an outbound message accepted at `now_ms`
    /// (stored with the message, so the work survives a restart).
    fn first_step_at(&self, now_ms: i64) -> Option<i64> {
        Some(now_ms)
    }

    /// Tells the network that messages were accepted (wakes its worker).
    fn outbound_accepted(&self) {}

    /// Whether a `wa_id` belongs to a WhatsApp user (legacy contact checks).
    fn is_whatsapp_user(&self, _wa_id: &str) -> bool {
        true
    }
}

/// Meta key of the registered number (empty while unregistered).
pub const ACCOUNT_NUMBER_META: &str = "account.number";
/// Meta key saying how the number was registered: `startup` (the simulator's
/// configured number), `verify` (the registration flow) or `restore` (a backup).
pub const ACCOUNT_SOURCE_META: &str = "account.registered_by";

/// A network whose first steps can be due the moment a message is accepted
/// (the simulator with zero delays) stores them with the message: one write
/// of the final row instead of an insert that its worker reads back and
/// updates (issue 7). What is stored, and when the webhooks see it, is the
/// same either way.
#[async_trait::async_trait]
pub trait ImmediateSteps: Send + Sync {
    /// Stores `message` (as accepted) with the steps due now and their
    /// callbacks; `Ok(false)` when nothing was stored because no step is due
    /// at once, or the first needs work first (a media link to fetch): the
    /// caller then stores the message and the worker moves it on.
    async fn store_with_steps(&self, message: &MessageRecord) -> Result<bool, StoreError>;
}
