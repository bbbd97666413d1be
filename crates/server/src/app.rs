//! The composition root: opens the store, starts the simulated network and the
//! services, binds the listener and runs the HTTP server and background tasks
//! under one shutdown signal. Tests build the same `App` on port 0.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use axum::body::Body;
use axum::extract::Request;
use axum_server::tls_rustls::RustlsConfig;
use hyper::body::Incoming;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt as _;
use wabiz_api::{AppServices, AppState, InFlight, Limits, Meta, PublicLinks, SupportInfo};
use wabiz_cluster::{Cluster, ForgetTokensHook, Hooks, NodeIdentity, ReloadHook, SnapshotHook};
use wabiz_domain::account::AccountService;
use wabiz_domain::callbacks::Outbox;
use wabiz_domain::clock::{Clock, SystemClock};
use wabiz_domain::contacts::ContactsService;
use wabiz_domain::db_stats::DbStats;
use wabiz_domain::events::{Event, EventBus};
use wabiz_domain::media::MediaService;
use wabiz_domain::messages::MessageService;
use wabiz_domain::messages::registry::TemplateRegistry;
use wabiz_domain::messages::validate::Rules;
use wabiz_domain::network::Network;
use wabiz_domain::ports::Store;
use wabiz_domain::relay::{CloudWebhooks, RelayCounters};
use wabiz_domain::settings::{SettingsConfig, SettingsService};
use wabiz_domain::users::apikey::ApiKey;
use wabiz_domain::users::password::PasswordHasher;
use wabiz_domain::users::{ADMIN_USERNAME, UserService, UserServiceConfig};
use wabiz_relay::RelayNetwork;
use wabiz_relay::sender::Sender;
use wabiz_relay::statuses::StatusBook;
use wabiz_relay::users::Users;
use wabiz_relay::webhook::WebhookReceiver;
use wabiz_simulator::control::ControlParts;
use wabiz_simulator::links::LinkFetcher;
use wabiz_simulator::receipts::Shards;
use wabiz_simulator::traffic::TrafficRunner;
use wabiz_simulator::{SimulatedNetwork, SimulatorControl};
use wabiz_store::DatabaseConfig;
use wabiz_store::files::DiskMediaFiles;
use wabiz_webhooks::{Engine, EngineConfig};

use crate::config::{Config, TlsMode};
use crate::data_lock::DataLock;
use crate::telemetry::{self, FilterHandle};
use crate::tls::{self, TlsManager};

/// Things tests may replace.
pub struct BuildOptions {
    pub clock: Arc<dyn Clock>,
    pub hasher: PasswordHasher,
    /// The process's log filter, which the log settings drive (`None` in
    /// tests that run several servers in one process).
    pub log_filter: Option<FilterHandle>,
}

impl Default for BuildOptions {
    fn default() -> Self {
        Self { clock: Arc::new(SystemClock), hasher: PasswordHasher::default(), log_filter: None }
    }
}

/// A running node.
pub struct App {
    addr: SocketAddr,
    https: bool,
    ca_pem: Option<String>,
    node: NodeIdentity,
    store: Arc<dyn Store>,
    gc: Arc<wabiz_domain::gc::GcService>,
    handle: axum_server::Handle<SocketAddr>,
    in_flight: Arc<InFlight>,
    server: JoinHandle<std::io::Result<()>>,
    shutdown: CancellationToken,
    background: Vec<JoinHandle<()>>,
    /// The last field, so the last dropped: after the store.
    _data_lock: Option<DataLock>,
}

/// The longest a Graph API call may take (a media download included).
const GRAPH_TIMEOUT: Duration = Duration::from_secs(30);

/// The network backend `--network` chose.
enum Backend {
    Simulator(Arc<SimulatedNetwork>),
    Cloud(Arc<RelayNetwork>),
}

impl Backend {
    fn network(&self) -> Arc<dyn Network> {
        match self {
            Backend::Simulator(n) => Arc::clone(n) as Arc<dyn Network>,
            Backend::Cloud(n) => Arc::clone(n) as Arc<dyn Network>,
        }
    }

    /// The chaos settings `/simulator/chaos` edits: the simulator's own; a
    /// relay's are never read.
    fn chaos(&self) -> Arc<wabiz_simulator::chaos::Chaos> {
        match self {
            Backend::Simulator(n) => n.chaos(),
            Backend::Cloud(_) => Arc::new(wabiz_simulator::chaos::Chaos::default()),
        }
    }
}

/// The Cloud relay's workers: the sender, and what Meta's webhooks reach.
struct RelayParts {
    sender: Arc<Sender>,
    webhooks: Arc<WebhookReceiver>,
    counters: Arc<RelayCounters>,
}

impl RelayParts {
    /// The sender and the webhook receiver, sharing `statuses` (and its
    /// store, clock, outbox, events and counters).
    fn new(relay: &Arc<RelayNetwork>, alone: bool, media: &Arc<MediaService>, statuses: StatusBook) -> Self {
        let statuses = Arc::new(statuses);
        let counters = Arc::new(RelayCounters { queued: relay.queued(), ..RelayCounters::default() });
        let sender = Arc::new(Sender {
            store: Arc::clone(&statuses.store),
            clock: Arc::clone(&statuses.clock),
            graph: relay.graph(),
            media: Arc::clone(media),
            outbox: statuses.outbox.clone(),
            events: Arc::clone(&statuses.events),
            statuses: Arc::clone(&statuses),
            wake: relay.wake_handle(),
            link: relay.link(),
            counters: Arc::clone(&statuses.counters),
            metrics: Arc::clone(&counters),
            alone,
        });
        let config = relay.config();
        let webhooks = Arc::new(WebhookReceiver {
            app_secret: config.app_secret.clone(),
            verify_token: config.verify_token.clone(),
            phone_number_id: config.phone_number_id.clone(),
            store: Arc::clone(&statuses.store),
            clock: Arc::clone(&statuses.clock),
            outbox: statuses.outbox.clone(),
            events: Arc::clone(&statuses.events),
            users: Users { store: Arc::clone(&statuses.store) },
            statuses,
            counters: Arc::clone(&counters),
            graph: relay.graph(),
            media: Arc::clone(media),
        });
        Self { sender, webhooks, counters }
    }
}

/// How long requests in flight may take to finish once a stop is asked for.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// How often expired tokens are purged from the store.
const TOKEN_PURGE_EVERY: Duration = Duration::from_secs(3600);

impl App {
    /// Starts everything; returns once the listener is bound.
    pub async fn build(config: Config, opts: BuildOptions) -> Result<App> {
        // One crypto backend (ring) for every TLS user in the process. A second
        // call finds it installed, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();

        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("cannot create the data dir {}", config.data_dir.display()))?;
        // A SQLite file is one node's; nodes on PostgreSQL share their database.
        let data_lock = match &config.database {
            DatabaseConfig::Sqlite { path } => Some(DataLock::for_database(path).map_err(anyhow::Error::msg)?),
            DatabaseConfig::Postgres { .. } => None,
        };
        let node = NodeIdentity::new(config.node_hostname.clone());

        tracing::info!(database = %config.database.describe(), "opening the store");
        let store = wabiz_store::open(&config.database).await.context("cannot open the database")?;

        let events = EventBus::new(Arc::clone(&opts.clock));
        let backend = match &config.relay {
            None => Backend::Simulator(Arc::new(
                SimulatedNetwork::start(Arc::clone(&store), Arc::clone(&opts.clock), &config.simulator)
                    .await
                    .context("cannot start the simulated network")?,
            )),
            Some(relay) => {
                let http = wabiz_webhooks::client::build(None, GRAPH_TIMEOUT, true)
                    .map_err(|e| anyhow::anyhow!("cannot build the HTTP client for the Graph API: {e}"))?;
                let graph = Arc::new(wabiz_relay::graph::Graph::new(http, relay.graph(GRAPH_TIMEOUT)));
                Backend::Cloud(Arc::new(
                    RelayNetwork::start(
                        relay.clone(),
                        graph,
                        Arc::clone(&store),
                        Arc::clone(&opts.clock),
                        Arc::clone(&events),
                    )
                    .await
                    .context("cannot start the Cloud relay")?,
                ))
            }
        };
        let network = backend.network();
        let users = Arc::new(
            UserService::start(
                Arc::clone(&store),
                Arc::clone(&opts.clock),
                config.token_key.clone(),
                UserServiceConfig { hasher: opts.hasher.clone(), ..UserServiceConfig::default() },
            )
            .await
            .context("cannot start the user service")?,
        );
        let settings = Arc::new(
            SettingsService::start(
                Arc::clone(&store),
                Arc::clone(&network),
                Arc::clone(&opts.clock),
                SettingsConfig {
                    allow_http_webhooks: config.allow_http_webhooks,
                    strict_restart: config.strict_restart,
                    hasher: opts.hasher.clone(),
                },
            )
            .await
            .context("cannot load the settings")?,
        );
        let api_key = match ApiKey::from_config(config.api_key.as_deref()) {
            Ok(k) => k.map(Arc::new),
            Err(warning) => {
                tracing::warn!("{warning}");
                None
            }
        };

        let material = match &config.tls {
            TlsMode::Off => None,
            TlsMode::Files { cert, key } => Some(tls::load_files(cert, key)?),
            TlsMode::Generated => match tls::stored_upload(store.as_ref()).await? {
                // An uploaded certificate replaces the generated one.
                Some(uploaded) => Some(uploaded),
                None => {
                    let names = tls::default_names(&node.hostname, &config.server_names);
                    Some(tls::load_or_generate(&config.data_dir.join("tls"), &names)?)
                }
            },
        };
        let rustls = match &material {
            None => None,
            Some(m) => Some(
                RustlsConfig::from_pem(m.cert_chain_pem.clone().into_bytes(), m.key_pem.clone().into_bytes())
                    .await
                    .context("the TLS certificate or key is not usable")?,
            ),
        };
        let listener_ca = match (&config.tls, &material) {
            (TlsMode::Files { .. }, Some(m)) => tls::ca_of_chain(&m.cert_chain_pem),
            (_, Some(m)) => m.ca_pem.clone(),
            // Plain HTTP: an earlier upload's CA, if any.
            (_, None) => tls::stored_upload(store.as_ref()).await?.and_then(|m| m.ca_pem),
        };
        let certificates =
            Arc::new(TlsManager::new(rustls.clone(), listener_ca, Arc::clone(&store), Arc::clone(&opts.clock)));

        let media_dir = config.data_dir.join("media");
        let media = Arc::new(
            MediaService::new(
                Arc::clone(&store),
                Arc::new(
                    DiskMediaFiles::new(&media_dir)
                        .with_context(|| format!("cannot create {}", media_dir.display()))?,
                ),
                Arc::clone(&opts.clock),
                config.media_max_upload_bytes,
            )
            .with_network(Arc::clone(&network)),
        );
        // Callbacks: producers store them with their cause; the engine delivers.
        let web = Arc::new(wabiz_api::WebMetrics::default());
        let outbox = Outbox::new(settings.subscribe());
        let out_messages = Arc::new(wabiz_domain::messages::OutMessageCounters::default());
        let cluster = match config.cluster {
            None => None,
            Some(role) => {
                let cluster_store = Arc::clone(&store)
                    .cluster()
                    .context("multiconnect needs the PostgreSQL engine (--database postgres://…)")?;
                Some(Cluster::new(cluster_store, node.to_string(), role))
            }
        };
        wabiz_webhooks::prepare_queue(store.as_ref(), settings.current().callback_persist, cluster.is_some())
            .await
            .map_err(|e| anyhow::anyhow!("cannot prepare the callback queue: {e}"))?;
        let contacts = Arc::new(
            ContactsService::new(
                Arc::clone(&store),
                Arc::clone(&network),
                Arc::clone(&settings),
                Arc::clone(&opts.clock),
                config.contacts_legacy,
            )
            .with_outbox(outbox.clone())
            .with_events(Arc::clone(&events)),
        );
        let webhook_metrics = Arc::new(wabiz_webhooks::Metrics::default());
        // Media sent by link is fetched by the network before `sent`, with the
        // same trust roots as webhooks (system roots + the webhook CA at start).
        let links = LinkFetcher::new(
            wabiz_webhooks::client::build(settings.webhook_ca().as_deref(), config.webhook_timeout, true)
                .map_err(|e| anyhow::anyhow!("cannot build the HTTP client for media links: {e}"))?,
            Arc::clone(&settings),
        );
        let groups = Arc::new(wabiz_domain::groups::GroupService::new(
            Arc::clone(&store),
            Arc::clone(&network),
            Arc::clone(&opts.clock),
            outbox.clone(),
        ));
        let gc = Arc::new(wabiz_domain::gc::GcService::new(
            Arc::clone(&store),
            Arc::clone(&media),
            Arc::clone(&opts.clock),
            outbox.clone(),
            config.message_retention_days,
        ));
        // In a deployment, only the shards this node owns, fenced by the shard map.
        let shards = cluster.as_ref().map(|c| Shards { store: c.store(), scope: c.subscribe_scope() });
        let receipts = match &backend {
            Backend::Simulator(simulator) => Some(simulator.receipt_worker(
                outbox.clone(),
                Some(Arc::new(links)),
                Arc::clone(&out_messages),
                shards,
                Arc::clone(&events),
            )),
            Backend::Cloud(_) => None,
        };
        let relay = match &backend {
            Backend::Simulator(_) => None,
            Backend::Cloud(relay) => Some(RelayParts::new(
                relay,
                cluster.is_none(),
                &media,
                StatusBook {
                    store: Arc::clone(&store),
                    clock: Arc::clone(&opts.clock),
                    outbox: outbox.clone(),
                    events: Arc::clone(&events),
                    counters: Arc::clone(&out_messages),
                },
            )),
        };
        let templates = TemplateRegistry::new(Arc::clone(&store));
        let messages = MessageService::new(
            Arc::clone(&store),
            Arc::clone(&network),
            Arc::clone(&opts.clock),
            Rules { reactions: config.enable_reactions, groups: !config.disable_groups },
            config.open_window,
            Arc::clone(&templates),
        )
        .with_contacts(Arc::clone(&contacts))
        .with_groups(Arc::clone(&groups));
        let simulator = Arc::new(SimulatorControl::new(ControlParts {
            store: Arc::clone(&store),
            network: Arc::clone(&network),
            media: Arc::clone(&media),
            groups: Arc::clone(&groups),
            clock: Arc::clone(&opts.clock),
            outbox: outbox.clone(),
            templates: Arc::clone(&templates),
            events: Arc::clone(&events),
            chaos: backend.chaos(),
        }));
        let simulator_control = Arc::clone(&simulator);
        let in_flight = Arc::new(InFlight::default());
        let state = AppState::new(AppServices {
            trusted_proxies: config.trusted_proxies.clone(),
            users: Arc::clone(&users),
            network: Arc::clone(&network),
            store: Arc::clone(&store),
            db_stats: DbStats::new(Arc::clone(&store)),
            meta: Arc::new(Meta::new(config.meta_version.clone())),
            api_key,
            limits: Limits::default(),
            in_flight: Arc::clone(&in_flight),
            account: Arc::new(
                AccountService::new(Arc::clone(&network), Arc::clone(&settings), Arc::clone(&store))
                    .with_events(Arc::clone(&events)),
            ),
            media: Arc::clone(&media),
            messages: Arc::new(messages),
            contacts,
            settings: Arc::clone(&settings),
            certificates,
            links: PublicLinks {
                base_url: config.public_base_url.clone(),
                scheme: if rustls.is_some() { "https" } else { "http" },
            },
            strict_restart: config.strict_restart,
            webhooks: Arc::clone(&webhook_metrics),
            webhook_test: Arc::new(wabiz_webhooks::Tester {
                settings: settings.subscribe(),
                webhook_ca: settings.subscribe_webhook_ca(),
                allow_http: config.allow_http_webhooks,
                timeout: config.webhook_timeout,
            }),
            web: Arc::clone(&web),
            groups: Arc::clone(&groups),
            simulator,
            groups_enabled: !config.disable_groups,
            reactions_enabled: config.enable_reactions,
            gc: Arc::clone(&gc),
            node: Arc::from(node.to_string()),
            support: Arc::new(SupportInfo {
                data_dir: config.data_dir.clone(),
                media_dir: media_dir.clone(),
                logs_dir: config.data_dir.clone(),
                multi_connect: cluster.is_some(),
            }),
            clock: Arc::clone(&opts.clock),
            outbox: outbox.clone(),
            out_messages: Arc::clone(&out_messages),
            cluster: cluster.clone(),
            cloud_webhooks: relay.as_ref().map(|r| Arc::clone(&r.webhooks) as Arc<dyn CloudWebhooks>),
            relay_counters: relay.as_ref().map(|r| Arc::clone(&r.counters)),
        });
        let snapshot_state = state.clone();
        let service = wabiz_api::service(state).map_request(|req: Request<Incoming>| req.map(Body::new));
        let per_connection =
            axum::ServiceExt::<Request<Incoming>>::into_make_service_with_connect_info::<SocketAddr>(service);
        // Called once per accepted connection: `web_connections` counts here.
        let make_service = tower::service_fn(move |addr: SocketAddr| {
            web.connection_accepted();
            let mut make = per_connection.clone();
            async move { tower::Service::call(&mut make, addr).await }
        });

        let listener = std::net::TcpListener::bind(config.listen)
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;

        let handle = axum_server::Handle::new();
        let server = match rustls.clone() {
            None => {
                let server = axum_server::from_tcp(listener)?.handle(handle.clone());
                tokio::spawn(async move { server.serve(make_service).await })
            }
            Some(cfg) => {
                let server = axum_server::from_tcp_rustls(listener, cfg)?.handle(handle.clone());
                tokio::spawn(async move { server.serve(make_service).await })
            }
        };

        let shutdown = CancellationToken::new();
        let mut background = vec![
            tokio::spawn(purge_tokens(Arc::clone(&users), shutdown.clone())),
            tokio::spawn(tell_settings_changes(settings.subscribe(), Arc::clone(&events), shutdown.clone())),
            tokio::spawn(Arc::clone(&gc).run_automatic(
                settings.subscribe(),
                config.gc_interval,
                gc_gate(cluster.as_ref()),
                shutdown.clone(),
            )),
            tokio::spawn(
                Engine {
                    store: Arc::clone(&store),
                    clock: Arc::clone(&opts.clock),
                    settings: settings.subscribe(),
                    webhook_ca: settings.subscribe_webhook_ca(),
                    wake: outbox.wake_handle(),
                    metrics: Arc::clone(&webhook_metrics),
                    config: EngineConfig {
                        node: node.to_string(),
                        allow_http: config.allow_http_webhooks,
                        timeout: config.webhook_timeout,
                        window: config.webhook_window,
                        share: cluster.as_ref().map(|c| c.subscribe_share()),
                    },
                    events: Some(Arc::clone(&events)),
                }
                .run(shutdown.clone()),
            ),
        ];
        if let Some(receipts) = receipts {
            background.push(tokio::spawn(receipts.run(shutdown.clone())));
            // Generated traffic is simulated customers: never on the real network,
            // even a run left over from the simulator on the same data.
            background.push(tokio::spawn(
                TrafficRunner {
                    control: Arc::clone(&simulator_control),
                    // A single node takes its previous run's leases back at once.
                    node: if cluster.is_some() { node.to_string() } else { "single-node".to_owned() },
                }
                .run(shutdown.clone()),
            ));
        }
        if let (Some(relay), Backend::Cloud(network)) = (&relay, &backend) {
            background.push(tokio::spawn(Arc::clone(&relay.sender).run(shutdown.clone())));
            background.push(tokio::spawn(Arc::clone(network).watch_link(shutdown.clone())));
        }
        if let Some(cluster) = &cluster {
            let hooks =
                cluster_hooks(Arc::clone(&settings), Arc::clone(&network), Arc::clone(&templates), snapshot_state);
            background.push(tokio::spawn(Arc::clone(cluster).run(settings.subscribe(), hooks, shutdown.clone())));
        }
        if let Some(handle) = opts.log_filter {
            background.extend(telemetry::follow_settings(
                handle,
                settings.subscribe(),
                config.log_trace,
                shutdown.clone(),
            ));
        }

        let scheme = if rustls.is_some() { "https" } else { "http" };
        let url = config
            .public_base_url
            .clone()
            .unwrap_or_else(|| format!("{scheme}://{}", crate::config::reachable_locally(addr)));
        let admin = match store.get_user(ADMIN_USERNAME).await {
            Ok(Some(u)) if u.password_is_default => {
                "the factory password: sign in at the console, or POST /v1/users/login, and change it"
            }
            Ok(Some(_)) => "a password of its own",
            Ok(None) => "deleted",
            Err(_) => "unknown (the store did not answer)",
        };
        // The one line a newcomer needs: where the node is and what to open.
        tracing::info!(
            %addr,
            %scheme,
            node = %node,
            network = network.name(),
            url = %url,
            docs = %format!("{url}/docs"),
            console = %format!("{url}/console"),
            admin,
            "wabiz is listening"
        );
        Ok(App {
            addr,
            https: rustls.is_some(),
            ca_pem: material.and_then(|m| m.ca_pem),
            node,
            store,
            gc,
            handle,
            in_flight,
            server,
            shutdown,
            background,
            _data_lock: data_lock,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `https://ADDR` or `http://ADDR`.
    pub fn base_url(&self) -> String {
        format!("{}://{}", if self.https { "https" } else { "http" }, self.addr)
    }

    /// The generated CA certificate (PEM), when the listener uses one.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    pub fn node(&self) -> &NodeIdentity {
        &self.node
    }

    pub fn store(&self) -> Arc<dyn Store> {
        Arc::clone(&self.store)
    }

    /// Serves until SIGINT or SIGTERM, then shuts down gracefully.
    pub async fn run_until_stopped(self) -> Result<()> {
        let stopped = wait_for_signal();
        tokio::pin!(stopped);
        let mut app = self;
        tokio::select! {
            () = &mut stopped => tracing::info!("stop signal received; shutting down"),
            res = &mut app.server => {
                // The server ended on its own: that is an error.
                let err = match res {
                    Ok(Ok(())) => anyhow::anyhow!("the HTTP server stopped unexpectedly"),
                    Ok(Err(e)) => anyhow::Error::new(e).context("the HTTP server failed"),
                    Err(e) => anyhow::Error::new(e).context("the HTTP server task failed"),
                };
                app.stop_background().await;
                return Err(err);
            }
        }
        app.shutdown().await;
        Ok(())
    }

    /// Stops accepting connections, lets requests in flight finish (up to
    /// `SHUTDOWN_GRACE`), stops background tasks and closes the store.
    pub async fn shutdown(mut self) {
        self.handle.graceful_shutdown(Some(SHUTDOWN_GRACE));
        // Idle keep-alive connections (HTTP/2 especially) would hold the grace
        // period open until it expires; once no request is in flight, close them.
        loop {
            tokio::select! {
                res = &mut self.server => {
                    if let Err(e) = res {
                        tracing::warn!(error = %e, "HTTP server task ended abnormally");
                    }
                    break;
                }
                () = tokio::time::sleep(Duration::from_millis(20)) => {
                    if self.in_flight.get() == 0 {
                        self.handle.shutdown();
                    }
                }
            }
        }
        self.stop_background().await;
        tracing::info!("stopped");
    }

    async fn stop_background(&mut self) {
        self.shutdown.cancel();
        for task in self.background.drain(..) {
            let _ = task.await;
        }
        // Passes started by requests run outside `background`.
        self.gc.shutdown().await;
        self.store.close().await;
    }
}

/// In a deployment, only the primary master collects garbage.
fn gc_gate(cluster: Option<&Arc<Cluster>>) -> Option<wabiz_domain::gc::DutyGate> {
    let cluster = Arc::clone(cluster?);
    Some(Arc::new(move || cluster.is_primary()))
}

/// What a node of a deployment reloads when another node changes the shared
/// configuration, and what it publishes about itself.
fn cluster_hooks(
    settings: Arc<SettingsService>,
    network: Arc<dyn Network>,
    templates: Arc<TemplateRegistry>,
    state: AppState,
) -> Hooks {
    let reload: ReloadHook = Arc::new(move || {
        let (settings, network) = (Arc::clone(&settings), Arc::clone(&network));
        templates.forget();
        Box::pin(async move {
            if let Err(e) = settings.reload().await {
                tracing::warn!(error = %e, "cluster: could not reload the settings");
            }
            if let Err(e) = network.reload_registration().await {
                tracing::warn!(error = %e, "cluster: could not reload the registration");
            }
        })
    });
    let users = Arc::clone(&state.users);
    let forget_tokens: ForgetTokensHook = Arc::new(move || users.forget_cached_tokens());
    let snapshot: SnapshotHook = Arc::new(move || {
        let state = state.clone();
        Box::pin(async move { wabiz_api::node_snapshot(&state).await })
    });
    Hooks { reload, snapshot, forget_tokens }
}

/// Publishes a `settings_changed` event whenever the effective settings change.
async fn tell_settings_changes(
    mut settings: tokio::sync::watch::Receiver<Arc<wabiz_domain::settings::application::ApplicationSettings>>,
    events: Arc<EventBus>,
    shutdown: CancellationToken,
) {
    settings.mark_unchanged();
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            changed = settings.changed() => {
                if changed.is_err() {
                    return;
                }
                events.publish(Event::SettingsChanged);
            }
        }
    }
}

async fn purge_tokens(users: Arc<UserService>, shutdown: CancellationToken) {
    loop {
        match users.purge_expired_tokens().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(count = n, "purged expired tokens"),
            Err(e) => tracing::warn!(error = %e, "could not purge expired tokens"),
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(TOKEN_PURGE_EVERY) => {}
        }
    }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
