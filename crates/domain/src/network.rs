//! The port to "WhatsApp's servers". The simulated network implements it today;
//! a Cloud API relay may later.

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

/// What the rest of the server needs to know about the network backend.
pub trait Network: Send + Sync + 'static {
    /// The backend's name, for logs and support (`simulator`).
    fn name(&self) -> &'static str;

    /// The current state of the link to the (simulated) WhatsApp servers.
    fn gateway_status(&self) -> GatewayStatus;

    /// The registered business number (`wa_id`), if any.
    fn registered_number(&self) -> Option<String>;

    /// Takes over a registration already written to the store under
    /// [`ACCOUNT_NUMBER_META`] (a restored backup).
    fn adopt_registration(&self, number: &str);
}

/// Meta key of the registered number (empty while unregistered).
pub const ACCOUNT_NUMBER_META: &str = "account.number";
/// Meta key saying how the number was registered: `startup` (the simulator's
/// configured number), `verify` (the registration flow) or `restore` (a backup).
pub const ACCOUNT_SOURCE_META: &str = "account.registered_by";
