//! `GET /v1/support` (`health-stats.md` §6): diagnostic facts about this
//! installation, as the On-Premises client gave them to Meta support.
//!
//! `env` is a whitelist of non-secret variables: never the API key, the
//! database URL (it may carry a password) or the registration code.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;
use std::path::Path;
use time::format_description::well_known::Rfc3339;
use wabiz_domain::WaError;
use wabiz_domain::network::GatewayStatus;

use crate::envelope::reply;
use crate::error::ApiError;
use crate::snapshot::{SUPPORT, published};
use crate::state::AppState;

/// Variables whose values `env` may show. Everything else stays out,
/// secret or not, so that a new secret variable cannot leak by default.
const ENV_WHITELIST: [&str; 24] = [
    "WABIZ_ALLOW_HTTP_WEBHOOKS",
    "WABIZ_CONTACTS_LEGACY_VALIDATION",
    "WABIZ_DATA_DIR",
    "WABIZ_DISABLE_GROUPS",
    "WABIZ_ENABLE_REACTIONS",
    "WABIZ_GC_INTERVAL_SECS",
    "WABIZ_INSECURE_HTTP",
    "WABIZ_LISTEN",
    "WABIZ_LOG_FORMAT",
    "WABIZ_LOG_TRACE",
    "WABIZ_MEDIA_MAX_UPLOAD_BYTES",
    "WABIZ_MESSAGE_RETENTION_DAYS",
    "WABIZ_NETWORK",
    "WABIZ_PUBLIC_BASE_URL",
    "WABIZ_SIMULATOR_DELIVERED_DELAY_MS",
    "WABIZ_SIMULATOR_NUMBER",
    "WABIZ_SIMULATOR_OPEN_WINDOW",
    "WABIZ_SIMULATOR_READ_DELAY_MS",
    "WABIZ_SIMULATOR_SENT_DELAY_MS",
    "WABIZ_STRICT_RESTART_SEMANTICS",
    "WABIZ_WEBHOOK_TIMEOUT_MS",
    "WABIZ_WEBHOOK_WINDOW",
    "RUST_LOG",
    "TZ",
];

/// wabiz builds do not expire; the On-Premises field is kept for clients
/// that read it.
const NEVER_EXPIRES: &str = "9999-12-31T00:00:00";

pub async fn support(State(state): State<AppState>) -> Result<Response, ApiError> {
    let local = document(&state).await?;
    let body = match &state.cluster {
        None => local,
        Some(cluster) => {
            let unhealthy = std::time::Duration::from_secs(state.settings.current().unhealthy_interval.max(1));
            let members = cluster.members(unhealthy).await.map_err(WaError::from)?;
            let mut nodes = serde_json::Map::new();
            for m in members {
                let entry = if m.node_id == cluster.node_id() {
                    Some(local.clone())
                } else if m.healthy {
                    published(&m.snapshot, SUPPORT).filter(serde_json::Value::is_object)
                } else {
                    None
                };
                let value = match entry {
                    Some(mut doc) => {
                        doc["multi_connect"] = json!(true);
                        doc["role"] = json!(m.role);
                        doc["shards"] = json!(m.shards.iter().map(|k| [k, k]).collect::<Vec<_>>());
                        doc["socket_conn"] = json!(if m.shards.is_empty() { "DN" } else { "UP" });
                        doc
                    }
                    None => crate::routes::health::unreachable(&m),
                };
                nodes.insert(m.node_id, value);
            }
            serde_json::Value::Object(nodes)
        }
    };
    Ok(reply(StatusCode::OK, &state.meta, json!({ "support": body })))
}

/// This node's support document.
pub async fn document(state: &AppState) -> Result<serde_json::Value, WaError> {
    let info = state.store.describe().await.map_err(|e| {
        tracing::error!(error = %e, "support: the database does not answer");
        WaError::internal("Communication failure: the database does not answer")
    })?;
    let s = &state.support;
    let (lc, lg) = locale(std::env::var("LANG").ok().as_deref());
    let (os_name, os_version) = os_release();
    let now = state.clock.now().format(&Rfc3339).unwrap_or_default();
    let engine = match state.store.engine() {
        "postgres" => "POSTGRESQL",
        _ => "SQLITE",
    };
    let support = json!({
        "context": "healthcheck",
        "db_engine": engine,
        "db_info": info.versions,
        "debug_info": state.network.registered_number().unwrap_or_else(|| "unregistered".to_owned()),
        "description": format!("wabiz {} (On-Premises API {})", env!("CARGO_PKG_VERSION"), state.meta.version),
        "device_iso8601": now,
        "env": whitelisted_env(std::env::vars()),
        "expire_timestamp": NEVER_EXPIRES,
        "free_space_data": free_space(&s.data_dir),
        "free_space_logs": free_space(&s.logs_dir),
        "free_space_media_incoming": free_space(&s.media_dir),
        "free_space_media_outgoing": free_space(&s.media_dir),
        "lc": lc,
        "lg": lg,
        "multi_connect": s.multi_connect,
        "os_name": os_name,
        "os_version": os_version,
        "schema": { "wabiz": info.schema_version },
        "socket_conn": socket_conn(state.network.gateway_status()),
    });
    Ok(support)
}

/// `NAME=value` for the whitelisted variables that are set, sorted.
fn whitelisted_env(vars: impl Iterator<Item = (String, String)>) -> Vec<String> {
    let mut out: Vec<String> =
        vars.filter(|(k, _)| ENV_WHITELIST.contains(&k.as_str())).map(|(k, v)| format!("{k}={v}")).collect();
    out.sort();
    out
}

/// Bytes available to this process on the file system holding `dir`
/// (0 if it cannot be read).
fn free_space(dir: &Path) -> u64 {
    match rustix::fs::statvfs(dir) {
        Ok(v) => v.f_bavail.saturating_mul(v.f_frsize),
        Err(e) => {
            tracing::warn!(dir = %dir.display(), error = %e, "support: cannot read the free space");
            0
        }
    }
}

/// `lc` (ISO-639, lower case) and `lg` (ISO-3166, `ZZ` if unknown) from a
/// POSIX locale such as `pt_BR.UTF-8`; `en`/`ZZ` without one.
fn locale(lang: Option<&str>) -> (String, String) {
    let tag = lang.unwrap_or("").split(['.', '@']).next().unwrap_or("");
    let mut parts = tag.split(['_', '-']);
    let lc = parts.next().filter(|l| (2..=3).contains(&l.len()) && l.bytes().all(|b| b.is_ascii_alphabetic()));
    let lg = parts.next().filter(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()));
    (
        lc.map_or_else(|| "en".to_owned(), str::to_ascii_lowercase),
        lg.map_or_else(|| "ZZ".to_owned(), str::to_ascii_uppercase),
    )
}

/// `<distribution>-<arch>` and its version from `/etc/os-release`, as the
/// Coreapp reported `ubuntu-x86_64` / `16.04`.
fn os_release() -> (String, String) {
    let text = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix('=')))
            .map(|v| v.trim_matches('"').to_owned())
    };
    let id = field("ID").unwrap_or_else(|| std::env::consts::OS.to_owned());
    (format!("{id}-{}", std::env::consts::ARCH), field("VERSION_ID").unwrap_or_else(|| "unknown".to_owned()))
}

/// The Coreapp's connection codes.
fn socket_conn(status: GatewayStatus) -> &'static str {
    match status {
        GatewayStatus::Connected => "UP",
        GatewayStatus::Connecting => "SC",
        GatewayStatus::Disconnected | GatewayStatus::Unregistered => "DN",
        GatewayStatus::Uninitialized => "UNK",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_shows_only_whitelisted_variables() {
        let vars = [
            ("WABIZ_LISTEN", "0.0.0.0:443"),
            ("WABIZ_API_KEY", "k3y-that-must-not-leak"),
            ("WABIZ_DATABASE", "postgres://u:p4ssw0rd@db/wabiz"),
            ("WABIZ_SIMULATOR_REGISTRATION_CODE", "123456"),
            ("AWS_SECRET_ACCESS_KEY", "x"),
            ("TZ", "UTC"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        assert_eq!(whitelisted_env(vars.into_iter()), ["TZ=UTC", "WABIZ_LISTEN=0.0.0.0:443"]);
    }

    #[test]
    fn locales() {
        let l = |s: Option<&str>| locale(s);
        assert_eq!(l(Some("pt_BR.UTF-8")), ("pt".into(), "BR".into()));
        assert_eq!(l(Some("de_DE@euro")), ("de".into(), "DE".into()));
        assert_eq!(l(Some("C.UTF-8")), ("en".into(), "ZZ".into()));
        assert_eq!(l(Some("fr")), ("fr".into(), "ZZ".into()));
        assert_eq!(l(None), ("en".into(), "ZZ".into()));
    }

    #[test]
    fn free_space_of_a_real_folder() {
        let dir = std::env::temp_dir();
        assert!(free_space(&dir) > 0);
        assert_eq!(free_space(Path::new("/no/such/folder/at/all")), 0);
    }
}
