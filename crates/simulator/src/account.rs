//! The business number and whether it is registered (`registration.md` §5).

use std::sync::{Arc, RwLock};

use wabiz_domain::network::{GatewayStatus, Network};
use wabiz_domain::ports::{Store, StoreError};

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
}

impl Default for SimulatorOptions {
    fn default() -> Self {
        Self { number: DEFAULT_NUMBER.into(), start_unregistered: false }
    }
}

impl SimulatorOptions {
    /// Checks the options before anything starts.
    pub fn validate(&self) -> Result<(), String> {
        let n = &self.number;
        if !(5..=15).contains(&n.len()) || !n.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("--simulator-number must be 5 to 15 digits (country code first, no '+'), not '{n}'"));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum AccountState {
    Unregistered,
    Registered { number: String },
}

/// The simulated network.
pub struct SimulatedNetwork {
    state: RwLock<AccountState>,
}

impl SimulatedNetwork {
    /// Starts the simulator and settles the registration state:
    /// - `--unregistered`: the number starts unregistered (any earlier state is dropped);
    /// - a number registered through the registration flow (or restored from a
    ///   backup) stays registered;
    /// - otherwise the number of `--simulator-number` is registered.
    pub async fn start(store: Arc<dyn Store>, opts: &SimulatorOptions) -> Result<Self, StoreError> {
        let state = if opts.start_unregistered {
            store.put_meta(NUMBER_KEY, "").await?;
            store.put_meta(SOURCE_KEY, "").await?;
            AccountState::Unregistered
        } else {
            let source = store.get_meta(SOURCE_KEY).await?.unwrap_or_default();
            let stored = store.get_meta(NUMBER_KEY).await?.unwrap_or_default();
            if (source == "verify" || source == "restore") && !stored.is_empty() {
                AccountState::Registered { number: stored }
            } else {
                store.put_meta(NUMBER_KEY, &opts.number).await?;
                store.put_meta(SOURCE_KEY, "startup").await?;
                AccountState::Registered { number: opts.number.clone() }
            }
        };
        match &state {
            AccountState::Registered { number } => {
                tracing::info!(number = %number, "simulated network: number registered")
            }
            AccountState::Unregistered => tracing::info!("simulated network: no number registered yet"),
        }
        Ok(Self { state: RwLock::new(state) })
    }
}

impl Network for SimulatedNetwork {
    fn name(&self) -> &'static str {
        "simulator"
    }

    fn gateway_status(&self) -> GatewayStatus {
        match &*self.state.read().unwrap_or_else(|e| e.into_inner()) {
            AccountState::Registered { .. } => GatewayStatus::Connected,
            AccountState::Unregistered => GatewayStatus::Unregistered,
        }
    }

    fn registered_number(&self) -> Option<String> {
        match &*self.state.read().unwrap_or_else(|e| e.into_inner()) {
            AccountState::Registered { number } => Some(number.clone()),
            AccountState::Unregistered => None,
        }
    }

    fn adopt_registration(&self, number: &str) {
        *self.state.write().unwrap_or_else(|e| e.into_inner()) = AccountState::Registered { number: number.to_owned() };
        tracing::info!(number = %number, "simulated network: registration restored");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_validation() {
        assert!(SimulatorOptions::default().validate().is_ok());
        for bad in ["+16315550100", "1234", "1234567890123456", "16315x50100"] {
            let o = SimulatorOptions { number: bad.into(), start_unregistered: false };
            assert!(o.validate().is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn state_follows_flags_and_persists() {
        let dir = tempfile::tempdir().unwrap();
        let store =
            wabiz_store::open(&wabiz_store::DatabaseConfig::Sqlite { path: dir.path().join("db") }).await.unwrap();

        let net = SimulatedNetwork::start(store.clone(), &SimulatorOptions::default()).await.unwrap();
        assert_eq!(net.gateway_status(), GatewayStatus::Connected);
        assert_eq!(net.registered_number().as_deref(), Some(DEFAULT_NUMBER));

        let opts = SimulatorOptions { start_unregistered: true, ..Default::default() };
        let net = SimulatedNetwork::start(store.clone(), &opts).await.unwrap();
        assert_eq!(net.gateway_status(), GatewayStatus::Unregistered);
        assert_eq!(store.get_meta(NUMBER_KEY).await.unwrap().as_deref(), Some(""));

        // A number registered through the registration flow survives restarts.
        store.put_meta(NUMBER_KEY, "4915112345678").await.unwrap();
        store.put_meta(SOURCE_KEY, "verify").await.unwrap();
        let net = SimulatedNetwork::start(store.clone(), &SimulatorOptions::default()).await.unwrap();
        assert_eq!(net.registered_number().as_deref(), Some("4915112345678"));
        store.close().await;
    }
}
