//! `wabiz healthcheck`: asks a node for `GET /` (liveness) or `GET /ready`
//! and exits 0 on a 200. Container images run it as their health check, so
//! they need no curl; over HTTPS it trusts the node's generated certificate
//! authority from the data folder, as well as the system's roots.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::Failure;

#[derive(Debug, Args)]
pub struct HealthcheckArgs {
    /// The URL to ask. Default: `GET /` of the node this environment
    /// describes (`WABIZ_LISTEN`, on loopback when it is a wildcard; http
    /// when `WABIZ_INSECURE_HTTP` is set), else https://127.0.0.1:9090/.
    #[arg(long, env = "WABIZ_HEALTHCHECK_URL")]
    pub url: Option<String>,

    /// The node's data folder, whose tls/ca.pem is trusted for the request.
    #[arg(long, env = "WABIZ_DATA_DIR", value_name = "DIR", default_value = "./wabiz-data")]
    pub data_dir: PathBuf,

    /// Seconds to wait for the answer.
    #[arg(long, default_value_t = 5)]
    pub timeout_secs: u64,
}

/// The liveness URL of the node that `listen` and `insecure_http` (its
/// environment's values) describe.
pub fn default_url(listen: Option<&str>, insecure_http: Option<&str>) -> String {
    let addr: std::net::SocketAddr =
        listen.and_then(|l| l.trim().parse().ok()).unwrap_or_else(|| ([127, 0, 0, 1], 9090).into());
    let addr = match addr.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => ([127, 0, 0, 1], addr.port()).into(),
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => (std::net::Ipv6Addr::LOCALHOST, addr.port()).into(),
        _ => addr,
    };
    let plain = insecure_http.is_some_and(|v| !matches!(v.trim(), "" | "0" | "false" | "no" | "off"));
    format!("{}://{addr}/", if plain { "http" } else { "https" })
}

pub async fn run(args: &HealthcheckArgs) -> Result<(), Failure> {
    let url = args.url.clone().unwrap_or_else(|| {
        default_url(std::env::var("WABIZ_LISTEN").ok().as_deref(), std::env::var("WABIZ_INSECURE_HTTP").ok().as_deref())
    });
    let ca = std::fs::read_to_string(args.data_dir.join("tls").join("ca.pem")).ok();
    let client = wabiz_webhooks::client::build(ca.as_deref(), Duration::from_secs(args.timeout_secs.max(1)), false)
        .map_err(Failure::failed)?;
    let answer = client.get(&url).send().await.map_err(|e| Failure::failed(format!("{url}: {e}")))?;
    let status = answer.status();
    if status.as_u16() == 200 {
        println!("{url}: 200");
        Ok(())
    } else {
        let body = answer.text().await.unwrap_or_default();
        Err(Failure::failed(format!("{url}: {status} {}", body.chars().take(300).collect::<String>())))
    }
}

#[cfg(test)]
mod tests {
    use super::default_url;

    #[test]
    fn the_default_url_follows_the_nodes_environment() {
        assert_eq!(default_url(None, None), "https://127.0.0.1:9090/");
        assert_eq!(default_url(Some("0.0.0.0:8443"), None), "https://127.0.0.1:8443/");
        assert_eq!(default_url(Some("[::]:9000"), Some("true")), "http://[::1]:9000/");
        assert_eq!(default_url(Some("10.0.0.5:9090"), Some("false")), "https://10.0.0.5:9090/");
    }
}
