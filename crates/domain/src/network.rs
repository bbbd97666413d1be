//! The port to "WhatsApp's servers". The simulated network implements it
//! (`--network simulator`), and so does the Cloud API relay (`--network cloud`).

use crate::error::WaError;
use crate::ports::{MessageRecord, StoreError};
use crate::relay::SendEnvelope;

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

/// A change of the business's profile the settings accepted, for a network
/// that keeps its own copy (the Cloud relay writes it through to Cloud).
#[derive(Debug, Clone, PartialEq)]
pub enum ProfileChange {
    About(String),
    /// The whole business profile after the change (`BusinessProfile::to_json`).
    Business(serde_json::Value),
    /// Two-step verification turned on with this PIN.
    TwoStepPin(String),
    TwoStepOff,
    /// The new photo, as stored (JPEG).
    Photo(Vec<u8>),
    PhotoRemoved,
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
        self.registered_number().and_then(|n| crate::phone::country_code_of(&n))
    }

    /// Reads the registration again: another node of the deployment may have
    /// registered (or restored) a number.
    async fn reload_registration(&self) -> Result<(), StoreError> {
        Ok(())
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

    /// Takes an outbound message the API accepted (checked, its failure if
    /// any decided, `accepted`) and makes it durable: when this returns
    /// `Ok`, the message is stored and the send may answer 201. The network
    /// decides what is stored with it: when it acts first (`next_event_at`,
    /// so the work survives a restart) and any steps it takes at once (the
    /// simulator with zero delays stores the message already `read`, with
    /// the callback reporting its statuses). The network moves the message
    /// on from there. `envelope` holds what the request said beside the
    /// type object (a network that forwards the request needs it). A network
    /// that cannot take more answers 1016 (its queue is full).
    async fn accept_outbound(&self, message: MessageRecord, envelope: SendEnvelope) -> Result<(), WaError>;

    /// Whether wabiz itself applies WhatsApp's rules to a send (the 24-hour
    /// window, the template registry) and reports their failures. A network
    /// that forwards sends to the real WhatsApp leaves that to it.
    fn applies_whatsapp_rules(&self) -> bool {
        true
    }

    /// Tells WhatsApp that the business read `message` (an inbound one),
    /// before it is marked read here.
    async fn mark_read(&self, _message: &MessageRecord) -> Result<(), WaError> {
        Ok(())
    }

    /// Tells WhatsApp a profile change before it is stored here; an error
    /// leaves the stored settings as they were.
    async fn publish_profile(&self, _change: &ProfileChange) -> Result<(), WaError> {
        Ok(())
    }

    /// Deletes the network's copy of media `id`, if it has one (`true`).
    async fn delete_media(&self, _id: &str) -> Result<bool, WaError> {
        Ok(false)
    }

    /// Media this server does not hold itself but the network does (the
    /// Cloud relay's inbound media): its MIME type and bytes, or `None`.
    async fn remote_media(&self, _id: &str) -> Result<Option<(String, Vec<u8>)>, WaError> {
        Ok(None)
    }

    /// Whether a `wa_id` belongs to a WhatsApp user (legacy contact checks).
    fn is_whatsapp_user(&self, _wa_id: &str) -> bool {
        true
    }

    /// The account (`wa_id`) WhatsApp knows a number by, given the number's
    /// international digits. Usually the same digits; not always (Brazilian
    /// and Mexican mobile numbers, which the simulator reproduces).
    fn wa_id_of(&self, international: &str) -> String {
        international.to_owned()
    }

    /// The `wa_id` of a number as a client wrote it (`+`, spaces, national
    /// form…), or `None` when it cannot be a phone number. Every place that
    /// takes a customer's number from a request goes through here, so that
    /// checks, sends, statuses and inbound messages all use the same `wa_id`.
    fn wa_id_for_input(&self, input: &str) -> Option<String> {
        crate::phone::normalize(input, self.registered_country_code()).map(|n| self.wa_id_of(&n))
    }
}

/// Meta key of the registered number (empty while unregistered).
pub const ACCOUNT_NUMBER_META: &str = "account.number";
/// Meta key saying how the number was registered: `startup` (the simulator's
/// configured number), `verify` (the registration flow) or `restore` (a backup).
pub const ACCOUNT_SOURCE_META: &str = "account.registered_by";
