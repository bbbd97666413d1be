//! The simulator's control plane (`/simulator/*`): what a test does as the
//! customers (`customers.rs`: write in, change number, delete a message, join
//! a group), as WhatsApp on a bad day (`faults.rs`), as the template reviewer
//! (`templates.rs`), and what it reads back about the simulated world (here).
//! The routes call [`SimulatorControl`] and nothing else.

mod chaos;
mod customers;
mod faults;
mod templates;
mod traffic;

use std::sync::Arc;

use crate::chaos::Chaos;
use crate::traffic::TrafficSignal;
use wabiz_domain::WaError;
use wabiz_domain::callbacks::Outbox;
use wabiz_domain::clock::Clock;
use wabiz_domain::error::ErrorCode;
use wabiz_domain::events::EventBus;
use wabiz_domain::groups::GroupService;
use wabiz_domain::media::MediaService;
use wabiz_domain::messages::RecipientType;
use wabiz_domain::messages::registry::TemplateRegistry;
use wabiz_domain::network::{GatewayStatus, Network, PendingRegistration};
use wabiz_domain::ports::{ChatSummary, MessageRecord, StatusRecord, Store};

/// What the control plane acts on.
pub struct SimulatorControl {
    store: Arc<dyn Store>,
    network: Arc<dyn Network>,
    media: Arc<MediaService>,
    groups: Arc<GroupService>,
    clock: Arc<dyn Clock>,
    outbox: Outbox,
    templates: Arc<TemplateRegistry>,
    events: Arc<EventBus>,
    chaos: Arc<Chaos>,
    /// Wakes the traffic runner; cancels this node's runs.
    traffic: Arc<TrafficSignal>,
}

/// The services the control plane is made of (see [`SimulatorControl`]).
pub struct ControlParts {
    pub store: Arc<dyn Store>,
    pub network: Arc<dyn Network>,
    pub media: Arc<MediaService>,
    pub groups: Arc<GroupService>,
    pub clock: Arc<dyn Clock>,
    pub outbox: Outbox,
    pub templates: Arc<TemplateRegistry>,
    pub events: Arc<EventBus>,
    pub chaos: Arc<Chaos>,
}

/// A stored message with its status history, as the control API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageView {
    pub message: MessageRecord,
    pub statuses: Vec<StatusRecord>,
}

/// The business number as the simulated network sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationView {
    pub wa_id: Option<String>,
    pub gateway_status: GatewayStatus,
    /// The code the simulated SMS or call carried, while it is valid.
    pub pending: Option<PendingRegistration>,
}

impl SimulatorControl {
    pub fn new(parts: ControlParts) -> Self {
        let ControlParts { store, network, media, groups, clock, outbox, templates, events, chaos } = parts;
        Self { store, network, media, groups, clock, outbox, templates, events, chaos, traffic: Arc::default() }
    }

    /// The event stream (`GET /simulator/events`).
    pub fn events(&self) -> &Arc<EventBus> {
        &self.events
    }

    /// The registration state and the pending code.
    pub fn registration(&self) -> RegistrationView {
        RegistrationView {
            wa_id: self.network.registered_number(),
            gateway_status: self.network.gateway_status(),
            pending: self.network.pending_registration(),
        }
    }

    /// A stored message and its status history (404 if unknown).
    pub async fn message(&self, id: &str) -> Result<MessageView, WaError> {
        let Some(message) = self.store.get_message(id).await? else {
            return Err(WaError::not_found(format!("Message {id} not found")));
        };
        let statuses = self.store.message_statuses(id).await?;
        Ok(MessageView { message, statuses })
    }

    /// The last `limit` messages exchanged with a customer (or group), oldest first.
    pub async fn conversation(&self, peer: &str, limit: usize) -> Result<Vec<MessageRecord>, WaError> {
        Ok(self.store.conversation(peer, limit).await?)
    }

    /// The chats, most recent first, or those whose number or name starts
    /// with `search`; a group's chat is named by its subject (groups the
    /// business left keep their id only).
    pub async fn chats(&self, search: Option<&str>, limit: usize) -> Result<Vec<ChatSummary>, WaError> {
        let mut chats = self.store.chats(search, limit).await?;
        for chat in chats.iter_mut().filter(|c| c.recipient_type == RecipientType::Group) {
            chat.name = self.groups.get(&chat.id).await.ok().map(|g| g.subject);
        }
        Ok(chats)
    }

    /// The registered business number (503/1011 while there is none).
    fn business_number(&self) -> Result<String, WaError> {
        self.network.registered_number().ok_or_else(|| WaError::new(ErrorCode::ServiceNotReady, "Service not ready"))
    }
}
