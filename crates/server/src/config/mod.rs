//! The command line. Every option is also an environment variable
//! `WABIZ_<NAME>`; the original containers' `WA_*` variables are read only as
//! fall-backs (`logging-ops.md` §5), and a wabiz option always wins.

use std::io::IsTerminal as _;
use std::net::SocketAddr;
use std::path::PathBuf;

pub mod effective;
pub mod file;

use clap::{Args, Parser, Subcommand, ValueEnum};
use wabiz_cluster::DeploymentMode;
use wabiz_domain::cluster::NodeRole;
use wabiz_relay::secret::Secret;
use wabiz_relay::{RelayConfig, RelayOptions};
use wabiz_simulator::{Delays, SimulatorOptions};
use wabiz_store::DatabaseConfig;

/// The `meta.version` reported when `WA_VERSION` is not set.
pub const DEFAULT_META_VERSION: &str = "v2.53.1";

/// What `wabiz --version` says: the version, the commit it was built from,
/// and what the build carries.
pub const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (git ",
    env!("WABIZ_GIT_REVISION"),
    "; stores: sqlite, postgres; networks: simulator, cloud)"
);

#[derive(Debug, Parser)]
#[command(
    name = "wabiz",
    version = LONG_VERSION,
    about = "A self-hosted server for the WhatsApp Business On-Premises API (/v1)",
    long_about = "wabiz serves the WhatsApp Business On-Premises API (/v1) from one binary, \
                  with an embedded database and a simulated WhatsApp network, so that \
                  integrations written for Meta's On-Premises client run unchanged, offline."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start a node. With no options: SQLite and media in ./wabiz-data, HTTPS with a
    /// self-signed certificate (generated on first start, kept in the data dir), the
    /// simulated network, listening on 127.0.0.1:9090.
    Serve(ServeArgs),
    /// Show the configuration `wabiz serve` would run with (it takes the same
    /// options): each value and where it came from, secrets masked. Exits 2
    /// when that configuration would not start.
    Config(ServeArgs),
    /// Copy a node's SQLite store (online, while it serves), media and TLS
    /// files into a new folder, with a manifest of checksums. For PostgreSQL
    /// it explains what to do instead.
    Backup(crate::admin::backup::BackupArgs),
    /// Put a backup back into a data folder that no node is using.
    Restore(crate::admin::backup::RestoreArgs),
    /// List users, or reset a password, through the database.
    #[command(subcommand)]
    Users(crate::admin::users::UsersCommand),
    /// The database schema: its version and pending migrations, or apply them.
    #[command(subcommand)]
    Db(crate::admin::db::DbCommand),
    /// Exit 0 when a node answers 200 (`GET /` by default): for container health checks.
    Healthcheck(crate::admin::healthcheck::HealthcheckArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NetworkKind {
    /// The built-in simulated WhatsApp network (offline, deterministic).
    Simulator,
    /// The Cloud API relay: the same /v1 API, carried to Meta's Cloud API
    /// (needs the --relay-* options).
    Cloud,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One JSON object per line.
    Json,
    /// Human-readable lines.
    Text,
}

impl LogFormat {
    /// Without `--log-format`: lines for a person reading a terminal, JSON
    /// for a machine collecting the output (a pipe, a file, a service manager).
    pub fn for_output(is_terminal: bool) -> LogFormat {
        if is_terminal { LogFormat::Text } else { LogFormat::Json }
    }
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// A TOML file of these options, named as the flags without the `--`
    /// (`data-dir = "/var/lib/wabiz"`). A flag or an environment variable
    /// overrides the file; an unknown key or a bad value stops the start.
    #[arg(long, env = "WABIZ_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Address and port to listen on (port 0 picks a free port).
    #[arg(long, env = "WABIZ_LISTEN", value_name = "ADDR:PORT", default_value = "127.0.0.1:9090")]
    pub listen: SocketAddr,

    /// Folder for the SQLite database, media files and the generated TLS certificate.
    #[arg(long, env = "WABIZ_DATA_DIR", value_name = "DIR", default_value = "./wabiz-data")]
    pub data_dir: PathBuf,

    /// Database URL: sqlite://PATH or postgres://USER@HOST:PORT/DB. Default: SQLite
    /// at DATA_DIR/wabiz.db. PostgreSQL is the store for multi-node deployments.
    #[arg(long, env = "WABIZ_DATABASE", value_name = "URL", hide_env_values = true)]
    pub database: Option<String>,

    /// Serve plain HTTP instead of HTTPS (for local use).
    #[arg(long, env = "WABIZ_INSECURE_HTTP")]
    pub insecure_http: bool,

    /// Reverse proxies in front of this node (addresses or networks, comma
    /// separated: 10.0.0.0/8,192.0.2.7). For requests from them, the client
    /// is read from X-Forwarded-For, so per-address limits (failed logins,
    /// user writes) count each client, not the proxy. Default: none; the
    /// TCP peer is the client and the header is ignored.
    #[arg(long, env = "WABIZ_TRUSTED_PROXIES", value_name = "LIST")]
    pub trusted_proxies: Option<String>,

    /// Accept http:// webhook URLs (the original API refuses them).
    #[arg(long, env = "WABIZ_ALLOW_HTTP_WEBHOOKS")]
    pub allow_http_webhooks: bool,

    /// Time limit of one webhook attempt, in milliseconds; a callback not
    /// answered in time is retried with the backoff.
    #[arg(long, env = "WABIZ_WEBHOOK_TIMEOUT_MS", value_name = "MS", default_value_t = 20_000,
          value_parser = clap::value_parser!(u64).range(1..=600_000))]
    pub webhook_timeout_ms: u64,

    /// Most pending callbacks a node holds in memory; the rest wait in the
    /// database (memory stays flat however long the receiver is away).
    #[arg(long, env = "WABIZ_WEBHOOK_WINDOW", value_name = "N", default_value_t = 4096,
          value_parser = clap::value_parser!(u64).range(16..=1_000_000))]
    pub webhook_window: u64,

    /// Age (days) after which message garbage collection may delete delivered
    /// and received messages.
    #[arg(long, env = "WABIZ_MESSAGE_RETENTION_DAYS", value_name = "N", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub message_retention_days: u32,

    /// Seconds between runs of the automatic garbage collectors
    /// (`garbagecollector_enable`).
    #[arg(long, env = "WABIZ_GC_INTERVAL_SECS", value_name = "SECS", default_value_t = 3600,
          value_parser = clap::value_parser!(u64).range(1..=604_800))]
    pub gc_interval_secs: u64,

    /// The WhatsApp network backend.
    #[arg(long, env = "WABIZ_NETWORK", value_enum, default_value = "simulator")]
    pub network: NetworkKind,

    /// The simulated business number (digits, country code first).
    #[arg(long, env = "WABIZ_SIMULATOR_NUMBER", value_name = "DIGITS", default_value = wabiz_simulator::account::DEFAULT_NUMBER)]
    pub simulator_number: String,

    /// Start with no registered number: /v1/health says "unregistered" until the
    /// registration flow registers one.
    #[arg(long, env = "WABIZ_UNREGISTERED")]
    pub unregistered: bool,

    /// The only registration code the simulator accepts (6 digits). Default: a
    /// random code per request, shown in the log and at GET /simulator/registration.
    #[arg(long, env = "WABIZ_SIMULATOR_REGISTRATION_CODE", value_name = "CODE")]
    pub simulator_registration_code: Option<String>,

    /// Registration and set-shards answer Meta's sunset error (403/1005).
    #[arg(long, env = "WABIZ_SIMULATOR_SUNSET")]
    pub simulator_sunset: bool,

    /// Simulated network: every customer counts as inside the 24-hour
    /// customer-service window (free-form messages never fail with 470).
    #[arg(long, env = "WABIZ_SIMULATOR_OPEN_WINDOW")]
    pub simulator_open_window: bool,

    /// Simulated network: milliseconds from acceptance to the `sent` receipt.
    #[arg(long, env = "WABIZ_SIMULATOR_SENT_DELAY_MS", value_name = "MS", default_value_t = 100)]
    pub simulator_sent_delay_ms: u64,

    /// Milliseconds from `sent` to `delivered`.
    #[arg(long, env = "WABIZ_SIMULATOR_DELIVERED_DELAY_MS", value_name = "MS", default_value_t = 500)]
    pub simulator_delivered_delay_ms: u64,

    /// Milliseconds from `delivered` to `read`.
    #[arg(long, env = "WABIZ_SIMULATOR_READ_DELAY_MS", value_name = "MS", default_value_t = 2000)]
    pub simulator_read_delay_ms: u64,

    /// Serve this PEM certificate chain instead of the generated one (needs --tls-key-file).
    #[arg(long, env = "WABIZ_TLS_CERT_FILE", value_name = "FILE", requires = "tls_key_file")]
    pub tls_cert_file: Option<PathBuf>,

    /// The PEM private key of --tls-cert-file.
    #[arg(long, env = "WABIZ_TLS_KEY_FILE", value_name = "FILE", requires = "tls_cert_file")]
    pub tls_key_file: Option<PathBuf>,

    /// API key accepted as `Authorization: Apikey KEY` by /v1/health, /metrics and
    /// /v1/stats (12 to 128 characters). Fall-back: WA_API_KEY.
    #[arg(long, env = "WABIZ_API_KEY", value_name = "KEY", hide_env_values = true)]
    pub api_key: Option<String>,

    /// Log line format (default: text on a terminal, JSON otherwise).
    #[arg(long, env = "WABIZ_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,

    /// Log at TRACE instead of DEBUG while the `verbose_logging` setting is on.
    #[arg(long, env = "WABIZ_LOG_TRACE")]
    pub log_trace: bool,

    /// Restart-required settings (callback_persist, log_level, …) keep the value
    /// the node started with until it restarts, as the original did; by default
    /// they apply at once.
    #[arg(long, env = "WABIZ_STRICT_RESTART_SEMANTICS")]
    pub strict_restart_semantics: bool,

    /// Contact checks give real valid/invalid answers, cached 7 days (bypassed by
    /// `force_check`), unchecked numbers are `processing` in `no_wait` calls, and a
    /// send to a number never checked valid fails with 404/1006 `unknown contact`
    /// (the pre-v2.39 rules).
    #[arg(long, env = "WABIZ_CONTACTS_LEGACY_VALIDATION")]
    pub contacts_legacy_validation: bool,

    /// Accept outbound `type: "reaction"` messages (the original did not).
    #[arg(long, env = "WABIZ_ENABLE_REACTIONS")]
    pub enable_reactions: bool,

    /// Turn the groups API off: group sends answer 400/1009 (as later builds, which
    /// removed groups).
    #[arg(long, env = "WABIZ_DISABLE_GROUPS")]
    pub disable_groups: bool,

    /// Largest media upload accepted, in bytes (the original's limit is 100 MB).
    #[arg(long, env = "WABIZ_MEDIA_MAX_UPLOAD_BYTES", value_name = "BYTES", default_value_t = wabiz_domain::media::DEFAULT_MAX_UPLOAD)]
    pub media_max_upload_bytes: u64,

    /// Base of public links (profile photo), e.g. https://wa.example.com.
    /// Default: the scheme and host of the request.
    #[arg(long, env = "WABIZ_PUBLIC_BASE_URL", value_name = "URL")]
    pub public_base_url: Option<String>,

    /// Run as a node of a multiconnect deployment: several nodes on one
    /// PostgreSQL database (--database postgres://…). Fall-back:
    /// WA_APP_MULTICONNECT=1.
    #[arg(long, env = "WABIZ_MULTICONNECT")]
    pub multiconnect: bool,

    /// The node's role in a multiconnect deployment: `master` competes for the
    /// master lease, `coreapp` owns a shard when given one, `all` does both,
    /// `webapp` only serves the API. Fall-back: WA_MASTER_NODE=1 means master.
    #[arg(long, env = "WABIZ_ROLE", value_enum)]
    pub role: Option<RoleArg>,

    /// Cloud relay: the phone number id Meta shows for the number.
    #[arg(
        long,
        env = "WABIZ_RELAY_PHONE_NUMBER_ID",
        value_name = "ID",
        help_heading = "Cloud relay (--network cloud)"
    )]
    pub relay_phone_number_id: Option<String>,

    /// Cloud relay: the WhatsApp Business Account id.
    #[arg(long, env = "WABIZ_RELAY_WABA_ID", value_name = "ID", help_heading = "Cloud relay (--network cloud)")]
    pub relay_waba_id: Option<String>,

    /// Cloud relay: the system-user access token (sent to the Graph API only).
    #[arg(
        long,
        env = "WABIZ_RELAY_ACCESS_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true,
        help_heading = "Cloud relay (--network cloud)"
    )]
    pub relay_access_token: Option<String>,

    /// Cloud relay: the Meta app's secret, which signs Cloud's webhooks.
    #[arg(
        long,
        env = "WABIZ_RELAY_APP_SECRET",
        value_name = "SECRET",
        hide_env_values = true,
        help_heading = "Cloud relay (--network cloud)"
    )]
    pub relay_app_secret: Option<String>,

    /// Cloud relay: the verify token given to Meta with the webhook URL.
    #[arg(
        long,
        env = "WABIZ_RELAY_VERIFY_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true,
        help_heading = "Cloud relay (--network cloud)"
    )]
    pub relay_verify_token: Option<String>,

    /// Cloud relay: the number's 6-digit two-step PIN (used to register it).
    #[arg(
        long,
        env = "WABIZ_RELAY_PIN",
        value_name = "PIN",
        hide_env_values = true,
        help_heading = "Cloud relay (--network cloud)"
    )]
    pub relay_pin: Option<String>,

    /// Cloud relay: the Graph API version, pinned.
    #[arg(
        long,
        env = "WABIZ_RELAY_GRAPH_VERSION",
        value_name = "VERSION",
        help_heading = "Cloud relay (--network cloud)"
    )]
    pub relay_graph_version: Option<String>,

    /// Cloud relay: the Graph API's address (tests point it at a stand-in).
    #[arg(long, env = "WABIZ_RELAY_GRAPH_URL", value_name = "URL", help_heading = "Cloud relay (--network cloud)")]
    pub relay_graph_url: Option<String>,

    /// Cloud relay: most sends waiting for the Cloud API; beyond it a send
    /// answers 503/1016 (System overloaded).
    #[arg(long, env = "WABIZ_RELAY_QUEUE_LIMIT", value_name = "N", help_heading = "Cloud relay (--network cloud)")]
    pub relay_queue_limit: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    /// Serves the API only.
    Webapp,
    /// Owns a shard when the primary master gives it one.
    Coreapp,
    /// Competes for the master lease.
    Master,
    /// Master and coreapp in one process (the default).
    All,
}

/// How the listener speaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain HTTP (`--insecure-http`).
    Off,
    /// A certificate generated on first start and kept in DATA_DIR/tls.
    Generated,
    /// Operator-supplied PEM files.
    Files { cert: PathBuf, key: PathBuf },
}

/// Everything the server needs, resolved from options and environment.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database: DatabaseConfig,
    pub tls: TlsMode,
    pub allow_http_webhooks: bool,
    pub webhook_timeout: std::time::Duration,
    pub webhook_window: usize,
    pub message_retention_days: u32,
    pub gc_interval: std::time::Duration,
    pub simulator: SimulatorOptions,
    pub api_key: Option<String>,
    pub meta_version: String,
    /// `WA_WEB_JWT_CRYPTO_KEY`: a shared token signing key (else one is generated
    /// and stored in the database, which all nodes of a deployment share).
    pub token_key: Option<Vec<u8>>,
    /// Extra names for the generated certificate (`WA_WEB_SERVERNAME`).
    pub server_names: Vec<String>,
    /// Host name part of the node id (`WEBAPP_HOSTNAME`; else the machine's).
    pub node_hostname: Option<String>,
    pub log_format: LogFormat,
    pub log_trace: bool,
    pub strict_restart: bool,
    pub public_base_url: Option<String>,
    pub trusted_proxies: wabiz_api::client_ip::TrustedProxies,
    pub media_max_upload_bytes: u64,
    pub enable_reactions: bool,
    pub disable_groups: bool,
    pub open_window: bool,
    pub contacts_legacy: bool,
    /// `Some(role)` for a node of a multiconnect deployment.
    pub cluster: Option<NodeRole>,
    /// `Some` with `--network cloud`: the relay's checked options.
    pub relay: Option<RelayConfig>,
}

impl ServeArgs {
    /// Resolves the options. `env` looks up the original containers' variables
    /// (tests pass a closure over a fixed map instead of the process environment).
    pub fn resolve(self, env: &dyn Fn(&str) -> Option<String>) -> Result<Config, String> {
        let database = database_config(self.database.as_deref(), &self.data_dir)?;
        let tls = match (self.insecure_http, self.tls_cert_file, self.tls_key_file) {
            (true, _, _) => TlsMode::Off,
            (false, Some(cert), Some(key)) => TlsMode::Files { cert, key },
            _ => TlsMode::Generated,
        };
        let simulator = SimulatorOptions {
            number: self.simulator_number,
            start_unregistered: self.unregistered,
            registration_code: self.simulator_registration_code,
            sunset: self.simulator_sunset,
            delays: Delays {
                sent_ms: self.simulator_sent_delay_ms,
                delivered_ms: self.simulator_delivered_delay_ms,
                read_ms: self.simulator_read_delay_ms,
            },
            legacy_wa_ids: self.contacts_legacy_validation,
        };
        simulator.validate()?;
        let from_env = DeploymentMode::from_wa_app_multiconnect(env("WA_APP_MULTICONNECT").as_deref())?;
        let multiconnect = self.multiconnect || from_env == DeploymentMode::Multiconnect;
        let role = match self.role {
            Some(r) => r,
            None if env("WA_MASTER_NODE").is_some_and(|v| v.trim() == "1") => RoleArg::Master,
            None => RoleArg::All,
        };
        let cluster = if multiconnect {
            if !matches!(database, DatabaseConfig::Postgres { .. }) {
                return Err("a multiconnect node needs the deployment's PostgreSQL database: \
                            --database postgres://USER@HOST:PORT/DB"
                    .into());
            }
            Some(match role {
                RoleArg::Webapp => NodeRole::Webapp,
                RoleArg::Coreapp => NodeRole::Coreapp,
                RoleArg::Master => NodeRole::Master,
                RoleArg::All => NodeRole::All,
            })
        } else {
            if self.role.is_some_and(|r| r != RoleArg::All) {
                return Err("--role is for nodes of a multiconnect deployment (add --multiconnect)".into());
            }
            None
        };
        let relay = match self.network {
            NetworkKind::Simulator => None,
            NetworkKind::Cloud => Some(
                RelayConfig::from_options(&RelayOptions {
                    phone_number_id: self.relay_phone_number_id,
                    waba_id: self.relay_waba_id,
                    access_token: self.relay_access_token.map(Secret::new),
                    app_secret: self.relay_app_secret.map(Secret::new),
                    verify_token: self.relay_verify_token.map(Secret::new),
                    pin: self.relay_pin.map(Secret::new),
                    graph_version: self.relay_graph_version,
                    graph_url: self.relay_graph_url,
                    queue_limit: self.relay_queue_limit,
                })
                .map_err(|e| e.to_string())?,
            ),
        };
        let disable_groups = self.disable_groups || relay.is_some();
        let trusted_proxies =
            wabiz_api::client_ip::TrustedProxies::parse(self.trusted_proxies.as_deref().unwrap_or(""))
                .map_err(|e| format!("--trusted-proxies: {e}"))?;
        Ok(Config {
            relay,
            trusted_proxies,
            listen: self.listen,
            data_dir: self.data_dir,
            database,
            tls,
            allow_http_webhooks: self.allow_http_webhooks,
            webhook_timeout: std::time::Duration::from_millis(self.webhook_timeout_ms),
            webhook_window: usize::try_from(self.webhook_window).unwrap_or(4096),
            message_retention_days: self.message_retention_days,
            gc_interval: std::time::Duration::from_secs(self.gc_interval_secs),
            simulator,
            api_key: self.api_key.or_else(|| env("WA_API_KEY")),
            meta_version: env("WA_VERSION")
                .filter(|v| !v.trim().is_empty())
                .unwrap_or_else(|| DEFAULT_META_VERSION.into()),
            token_key: env("WA_WEB_JWT_CRYPTO_KEY").filter(|k| !k.is_empty()).map(String::into_bytes),
            server_names: env("WA_WEB_SERVERNAME").into_iter().filter(|n| !n.trim().is_empty()).collect(),
            node_hostname: env("WEBAPP_HOSTNAME"),
            log_format: self.log_format.unwrap_or_else(|| LogFormat::for_output(std::io::stdout().is_terminal())),
            log_trace: self.log_trace,
            media_max_upload_bytes: self.media_max_upload_bytes,
            enable_reactions: self.enable_reactions,
            // Cloud's groups are another model (`cloud-mapping.md` §1): off in relay mode.
            disable_groups,
            open_window: self.simulator_open_window,
            contacts_legacy: self.contacts_legacy_validation,
            cluster,
            strict_restart: self.strict_restart_semantics,
            public_base_url: match self.public_base_url {
                None => None,
                Some(u) if u.starts_with("https://") || u.starts_with("http://") => {
                    Some(u.trim_end_matches('/').to_owned())
                }
                Some(u) => return Err(format!("--public-base-url must start with http:// or https://, not '{u}'")),
            },
        })
    }
}

/// Where a person or a probe on this machine reaches a listener: a wildcard
/// address (`0.0.0.0`, `::`) through the loopback address.
pub fn reachable_locally(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => SocketAddr::from(([127, 0, 0, 1], addr.port())),
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, addr.port()))
        }
        _ => addr,
    }
}

/// The store of `--database`, else SQLite in the data folder.
pub fn database_config(database: Option<&str>, data_dir: &std::path::Path) -> Result<DatabaseConfig, String> {
    match database {
        Some(url) => DatabaseConfig::parse(url),
        None => Ok(DatabaseConfig::Sqlite { path: data_dir.join("wabiz.db") }),
    }
}

/// Looks a variable up in the process environment.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> ServeArgs {
        let mut full = vec!["wabiz", "serve"];
        full.extend_from_slice(args);
        match Cli::try_parse_from(full).unwrap().command {
            Command::Serve(a) => a,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn defaults_are_the_embedded_default() {
        let c = parse(&[]).resolve(&|_| None).unwrap();
        assert_eq!(c.listen, "127.0.0.1:9090".parse().unwrap());
        assert_eq!(c.data_dir, PathBuf::from("./wabiz-data"));
        assert_eq!(c.database, DatabaseConfig::Sqlite { path: PathBuf::from("./wabiz-data/wabiz.db") });
        assert_eq!(c.tls, TlsMode::Generated);
        assert_eq!(c.meta_version, DEFAULT_META_VERSION);
        assert!(!c.allow_http_webhooks);
        assert!(!c.simulator.start_unregistered);
    }

    #[test]
    fn options_and_fallbacks() {
        let c = parse(&[
            "--listen",
            "0.0.0.0:8443",
            "--data-dir",
            "/tmp/w",
            "--database",
            "postgres://u@h/db",
            "--insecure-http",
            "--allow-http-webhooks",
            "--unregistered",
        ])
        .resolve(&|k| match k {
            "WA_API_KEY" => Some("0123456789abcdef".into()),
            "WA_VERSION" => Some("2.45.1".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.tls, TlsMode::Off);
        assert!(matches!(c.database, DatabaseConfig::Postgres { .. }));
        assert_eq!(c.api_key.as_deref(), Some("0123456789abcdef"));
        assert_eq!(c.meta_version, "2.45.1");
        assert!(c.allow_http_webhooks && c.simulator.start_unregistered);

        // An option wins over the WA_* fall-back.
        let c = parse(&["--api-key", "from-the-option"]).resolve(&|_| Some("from-the-env-var".into()));
        assert!(c.is_err(), "WA_APP_MULTICONNECT is set too by this closure");
        let c = parse(&["--api-key", "from-the-option"])
            .resolve(&|k| (k == "WA_API_KEY").then(|| "from-the-env-var".into()))
            .unwrap();
        assert_eq!(c.api_key.as_deref(), Some("from-the-option"));
    }

    #[test]
    fn multiconnect_needs_postgres_and_takes_a_role() {
        assert!(parse(&["--multiconnect"]).resolve(&|_| None).unwrap_err().contains("PostgreSQL"));
        let c = parse(&["--multiconnect", "--database", "postgres://u@h/db", "--role", "coreapp"])
            .resolve(&|_| None)
            .unwrap();
        assert_eq!(c.cluster, Some(NodeRole::Coreapp));
        // The original containers' variables.
        let env = |k: &str| matches!(k, "WA_APP_MULTICONNECT" | "WA_MASTER_NODE").then(|| "1".to_owned());
        let c = parse(&["--database", "postgres://u@h/db"]).resolve(&env).unwrap();
        assert_eq!(c.cluster, Some(NodeRole::Master));
        assert_eq!(parse(&[]).resolve(&|_| None).unwrap().cluster, None);
        assert!(parse(&["--role", "master"]).resolve(&|_| None).unwrap_err().contains("--multiconnect"));
    }

    #[test]
    fn the_cloud_relay_needs_its_options_and_names_the_missing_one() {
        let e = parse(&["--network", "cloud"]).resolve(&|_| None).unwrap_err();
        assert!(e.contains("--relay-") && e.contains("WABIZ_RELAY_"), "{e}");
        let complete = [
            "--network",
            "cloud",
            "--relay-phone-number-id",
            "106540352242922",
            "--relay-waba-id",
            "102290129340398",
            "--relay-access-token",
            "EAAG-secret-token",
            "--relay-app-secret",
            "app-secret",
            "--relay-verify-token",
            "verify-me",
            "--relay-pin",
            "123456",
        ];
        let c = parse(&complete).resolve(&|_| None).unwrap();
        let relay = c.relay.as_ref().expect("relay options");
        assert_eq!((relay.phone_number_id.as_str(), relay.graph_version.as_str()), ("106540352242922", "v23.0"));
        assert!(!format!("{c:?}").contains("EAAG-secret-token"), "no secret in the configuration's debug output");
        let mut short_pin = complete.to_vec();
        short_pin[13] = "12";
        assert!(parse(&short_pin).resolve(&|_| None).unwrap_err().contains("--relay-pin"));
        assert_eq!(parse(&[]).resolve(&|_| None).unwrap().relay, None);
    }

    #[test]
    fn the_version_names_the_commit_and_what_the_build_carries() {
        let e = Cli::try_parse_from(["wabiz", "--version"]).unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::DisplayVersion);
        let shown = e.to_string();
        assert!(shown.starts_with(&format!("wabiz {} (git ", env!("CARGO_PKG_VERSION"))), "{shown}");
        let rev = env!("WABIZ_GIT_REVISION");
        assert!(rev == "unknown" || rev.trim_end_matches("-dirty").len() == 12, "{rev}");
        assert!(shown.contains("stores: sqlite, postgres; networks: simulator, cloud"), "{shown}");
    }

    #[test]
    fn logs_are_lines_on_a_terminal_and_json_elsewhere_unless_asked() {
        assert_eq!(LogFormat::for_output(true), LogFormat::Text);
        assert_eq!(LogFormat::for_output(false), LogFormat::Json);
        let c = parse(&["--log-format", "json"]).resolve(&|_| None).unwrap();
        assert_eq!(c.log_format, LogFormat::Json);
        let c = parse(&["--log-format", "text"]).resolve(&|_| None).unwrap();
        assert_eq!(c.log_format, LogFormat::Text);
    }

    #[test]
    fn bad_values_are_refused() {
        assert!(Cli::try_parse_from(["wabiz", "serve", "--network", "satellite"]).is_err());
        assert!(Cli::try_parse_from(["wabiz", "serve", "--listen", "nowhere"]).is_err());
        assert!(Cli::try_parse_from(["wabiz", "serve", "--tls-cert-file", "c.pem"]).is_err());
        assert!(parse(&["--database", "mysql://x"]).resolve(&|_| None).is_err());
        assert!(parse(&["--simulator-number", "+1555"]).resolve(&|_| None).is_err());
        let e = parse(&[]).resolve(&|k| (k == "WA_APP_MULTICONNECT").then(|| "yes".into())).unwrap_err();
        assert!(e.contains("WA_APP_MULTICONNECT"));
    }
}
