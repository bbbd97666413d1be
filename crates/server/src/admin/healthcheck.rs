//! `wabiz healthcheck`: asks a node for `GET /` (liveness), or another URL
//! such as `/ready`, and exits 0 on a 200. Container images run it as their
//! health check, so they need no curl. It finds the node from the same
//! options, variables and config file as `serve`, and over HTTPS it trusts
//! the node's generated certificate authority from the data folder, as well
//! as the system's roots.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::Failure;

#[derive(Debug, Args)]
pub struct HealthcheckArgs {
    /// The URL to ask. Default: `GET /` of the node the options below
    /// describe (a wildcard address is asked on loopback).
    #[arg(long, env = "WABIZ_HEALTHCHECK_URL")]
    pub url: Option<String>,

    /// `wabiz serve`'s config file: its `listen`, `insecure-http` and
    /// `data-dir` say where the node is.
    #[arg(long, env = "WABIZ_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// The node's address, as given to `serve`.
    #[arg(long, env = "WABIZ_LISTEN", value_name = "ADDR:PORT", default_value = "127.0.0.1:9090")]
    pub listen: std::net::SocketAddr,

    /// The node serves plain HTTP.
    #[arg(long, env = "WABIZ_INSECURE_HTTP")]
    pub insecure_http: bool,

    /// The node's data folder, whose tls/ca.pem is trusted for the request.
    #[arg(long, env = "WABIZ_DATA_DIR", value_name = "DIR", default_value = "./wabiz-data")]
    pub data_dir: PathBuf,

    /// Seconds to wait for the answer.
    #[arg(long, default_value_t = 5)]
    pub timeout_secs: u64,
}

/// The liveness URL of the node listening on `listen`.
pub fn default_url(listen: std::net::SocketAddr, insecure_http: bool) -> String {
    let scheme = if insecure_http { "http" } else { "https" };
    format!("{scheme}://{}/", crate::config::reachable_locally(listen))
}

pub async fn run(args: &HealthcheckArgs) -> Result<(), Failure> {
    let url = args.url.clone().unwrap_or_else(|| default_url(args.listen, args.insecure_http));
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
    fn the_default_url_is_the_nodes_own_address_on_loopback() {
        let at = |s: &str| s.parse().unwrap();
        assert_eq!(default_url(at("127.0.0.1:9090"), false), "https://127.0.0.1:9090/");
        assert_eq!(default_url(at("0.0.0.0:8443"), false), "https://127.0.0.1:8443/");
        assert_eq!(default_url(at("[::]:9000"), true), "http://[::1]:9000/");
        assert_eq!(default_url(at("10.0.0.5:9090"), false), "https://10.0.0.5:9090/");
    }
}
