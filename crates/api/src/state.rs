//! What every handler can reach. Cheap to clone (a few `Arc`s).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use wabiz_domain::account::AccountService;
use wabiz_domain::certificates::ListenerCertificates;
use wabiz_domain::contacts::ContactsService;
use wabiz_domain::db_stats::DbStats;
use wabiz_domain::media::MediaService;
use wabiz_domain::messages::MessageService;
use wabiz_domain::network::Network;
use wabiz_domain::ports::Store;
use wabiz_domain::settings::SettingsService;
use wabiz_domain::users::UserService;
use wabiz_domain::users::apikey::ApiKey;

use crate::envelope::Meta;

/// Size limits of request bodies.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest JSON body accepted (bytes).
    pub json_body_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { json_body_bytes: 4 * 1024 * 1024 }
    }
}

/// Requests being handled right now (graceful shutdown waits for zero).
#[derive(Debug, Default)]
pub struct InFlight(AtomicUsize);

impl InFlight {
    pub fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }

    pub(crate) fn enter(self: &Arc<Self>) -> InFlightGuard {
        self.0.fetch_add(1, Ordering::SeqCst);
        InFlightGuard(Arc::clone(self))
    }
}

/// Decrements the count when the request ends, however it ends.
pub(crate) struct InFlightGuard(Arc<InFlight>);

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        self.0.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What every handler reaches: the services, behind one `Arc`. axum clones
/// the state for each extractor and middleware of every request; one
/// reference count is much cheaper than one per service (the send path
/// spent about 4 % of its worker CPU cloning and dropping the fields).
#[derive(Clone)]
pub struct AppState(Arc<AppServices>);

impl AppState {
    pub fn new(services: AppServices) -> Self {
        Self(Arc::new(services))
    }
}

impl std::ops::Deref for AppState {
    type Target = AppServices;

    fn deref(&self) -> &AppServices {
        &self.0
    }
}

pub struct AppServices {
    pub users: Arc<UserService>,
    /// Whose `X-Forwarded-For` names the client (`--trusted-proxies`).
    pub trusted_proxies: crate::client_ip::TrustedProxies,
    pub network: Arc<dyn Network>,
    pub store: Arc<dyn Store>,
    pub meta: Arc<Meta>,
    pub api_key: Option<Arc<ApiKey>>,
    pub limits: Limits,
    pub in_flight: Arc<InFlight>,
    pub settings: Arc<SettingsService>,
    pub account: Arc<AccountService>,
    pub media: Arc<MediaService>,
    pub messages: Arc<MessageService>,
    pub contacts: Arc<ContactsService>,
    /// `GET /v1/stats/db`'s counts, as a snapshot (`db_stats.rs`).
    pub db_stats: Arc<DbStats>,
    pub certificates: Arc<dyn ListenerCertificates>,
    pub links: PublicLinks,
    /// `--strict-restart-semantics`: report restart-required changes in a header.
    pub strict_restart: bool,
    /// What the webhook engine reports about itself.
    pub webhooks: Arc<wabiz_webhooks::Metrics>,
    /// Sends a test callback to the configured URL (`POST /wabiz/webhook/test`).
    pub webhook_test: Arc<wabiz_webhooks::Tester>,
    /// The web server's counters (`/metrics`).
    pub web: Arc<crate::metrics::WebMetrics>,
    /// This node's name (`host:instance`), the `node` label of metrics.
    pub node: Arc<str>,
    pub groups: Arc<wabiz_domain::groups::GroupService>,
    /// The simulated network's control plane (`/simulator/*`).
    pub simulator: Arc<wabiz_simulator::SimulatorControl>,
    /// False with `--disable-groups`: the groups API is not routed.
    pub groups_enabled: bool,
    /// True with `--enable-reactions`: the document's message types include `reaction`.
    pub reactions_enabled: bool,
    pub gc: Arc<wabiz_domain::gc::GcService>,
    /// What `GET /v1/support` reports about this installation.
    pub support: Arc<SupportInfo>,
    pub clock: Arc<dyn wabiz_domain::clock::Clock>,
    /// Wakes the webhook engine (a callback made due by hand).
    pub outbox: wabiz_domain::callbacks::Outbox,
    /// Outbound messages by the status they reached (`out_message_*`).
    pub out_messages: Arc<wabiz_domain::messages::OutMessageCounters>,
    /// This node's part in a multiconnect deployment (`None`: single instance).
    pub cluster: Option<Arc<wabiz_cluster::Cluster>>,
    /// With `--network cloud`: where Meta's webhooks go (`/relay/webhook`).
    pub cloud_webhooks: Option<Arc<dyn wabiz_domain::relay::CloudWebhooks>>,
    /// With `--network cloud`: what the relay counts.
    pub relay_counters: Option<Arc<wabiz_domain::relay::RelayCounters>>,
}

/// The installation facts `GET /v1/support` reports, fixed at start.
#[derive(Debug, Clone, Default)]
pub struct SupportInfo {
    /// The data folder (database, certificates).
    pub data_dir: std::path::PathBuf,
    /// Where media files are kept.
    pub media_dir: std::path::PathBuf,
    /// Where logs go: wabiz logs to standard output, so the data folder.
    pub logs_dir: std::path::PathBuf,
    /// Part of a multi-node deployment.
    pub multi_connect: bool,
}

/// How public links (profile photo) are built.
#[derive(Debug, Clone)]
pub struct PublicLinks {
    /// `--public-base-url`, without a trailing slash.
    pub base_url: Option<String>,
    /// The listener's scheme, used with the request's `Host` when no base is set.
    pub scheme: &'static str,
}

impl PublicLinks {
    /// The base of public links: `--public-base-url`, else the request's own
    /// scheme and host.
    pub fn base(&self, headers: &axum::http::HeaderMap) -> String {
        if let Some(base) = &self.base_url {
            return base.clone();
        }
        let host = headers.get(axum::http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
        format!("{}://{}", self.scheme, host)
    }
}
