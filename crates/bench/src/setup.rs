//! What the bench asks of a started deployment before the load, through the
//! API: the first login, the webhook, the campaign's template, and for a
//! multiconnect deployment its shards.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use reqwest::Method;
use serde_json::{Value, json};

use crate::workload::{TEMPLATE_LANGUAGE, TEMPLATE_NAME, TEMPLATE_NAMESPACE};

/// The admin's password after the first login.
const PASSWORD: &str = "Bench-Passw0rd!";

/// An HTTP client for the bench's own calls. It accepts the server's
/// generated, self-signed certificate: the bench measures the default
/// listener, it does not check it.
pub fn client() -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder().tls_danger_accept_invalid_certs(true).build()?)
}

/// The admin, logged in on a deployment.
#[derive(Clone)]
pub struct Api {
    client: reqwest::Client,
    base: String,
    pub token: String,
}

impl Api {
    /// The first login (`admin`/`secret`, which must be changed at once).
    pub async fn first_login(client: &reqwest::Client, base: &str) -> Result<Api> {
        let login: Value = client
            .post(format!("{base}/v1/users/login"))
            .basic_auth("admin", Some("secret"))
            .json(&json!({"new_password": PASSWORD}))
            .send()
            .await?
            .json()
            .await?;
        let token = login["users"][0]["token"].as_str().with_context(|| format!("no token in {login}"))?.to_owned();
        Ok(Api { client: client.clone(), base: base.to_owned(), token })
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Result<(u16, Value)> {
        let mut rb = self.client.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await?;
        let status = r.status().as_u16();
        let body = r.json::<Value>().await.unwrap_or(Value::Null);
        Ok((status, body))
    }

    async fn expect(&self, method: Method, path: &str, body: Option<Value>, want: u16) -> Result<Value> {
        let (status, answer) = self.call(method.clone(), path, body).await?;
        if status != want {
            bail!("{method} {path} answered {status}: {answer}");
        }
        Ok(answer)
    }

    /// Webhooks to the bench's receiver, `concurrency` POSTs at a time.
    pub async fn set_webhook(&self, url: &str, concurrency: u32) -> Result<()> {
        let body = json!({"webhooks": {"url": url, "max_concurrent_requests": concurrency}});
        self.expect(Method::PATCH, "/v1/settings/application", Some(body), 200).await.map(drop)
    }

    /// The template the campaign (and the probe, where the window is
    /// closed) sends: one BODY, no parameters.
    pub async fn register_template(&self) -> Result<()> {
        let body = json!({
            "namespace": TEMPLATE_NAMESPACE, "name": TEMPLATE_NAME, "language": TEMPLATE_LANGUAGE,
            "components": [{"type": "BODY", "text": "Our spring offers are here: reply STOP to opt out."}],
        });
        self.expect(Method::POST, "/simulator/templates", Some(body), 201).await.map(drop)
    }

    /// Splits a multiconnect deployment into `shards` message shards (the
    /// simulator's registered number, re-stated as the API asks).
    /// Waits until the node says `connected` (a relay, once it has read its
    /// number from Cloud).
    pub async fn wait_connected(&self, within: Duration) -> Result<()> {
        let deadline = std::time::Instant::now() + within;
        loop {
            let health: serde_json::Value = self
                .client
                .get(format!("{}/v1/health", self.base))
                .bearer_auth(&self.token)
                .send()
                .await?
                .json()
                .await?;
            if health["health"]["gateway_status"] == "connected" {
                return Ok(());
            }
            if std::time::Instant::now() > deadline {
                anyhow::bail!("the node never connected: {health}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn set_shards(&self, shards: u32) -> Result<()> {
        let body =
            json!({"cc": "1", "phone_number": "6315550100", "shards": shards, "cert": certificate("Wabiz Bench")});
        self.expect(Method::POST, "/v1/account/shards", Some(body), 201).await.map(drop)
    }

    /// Waits until `nodes` healthy nodes share the deployment: one primary
    /// master, and each of `shards` message shards owned by one node.
    pub async fn wait_for_shards(&self, nodes: usize, shards: i64, within: Duration) -> Result<()> {
        let deadline = Instant::now() + within;
        loop {
            let support = self.expect(Method::GET, "/v1/support", None, 200).await?;
            let entries: Vec<&Value> = support["support"].as_object().map(|o| o.values().collect()).unwrap_or_default();
            let healthy = entries.iter().filter(|d| d.get("errors").is_none()).count();
            let primaries = entries.iter().filter(|d| d["role"] == "primary_master").count();
            let owned: Vec<i64> = entries
                .iter()
                .flat_map(|d| d["shards"].as_array().cloned().unwrap_or_default())
                .filter_map(|pair| pair[0].as_i64())
                .collect();
            if healthy == nodes && primaries == 1 && (0..shards).all(|k| owned.iter().filter(|s| **s == k).count() == 1)
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "the deployment did not settle on {nodes} nodes and {shards} shards within {within:?}: {support}"
                );
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

/// A base64 `VerifiedNameCertificate` naming `name`: field 1 (details) holds
/// a serial and field 4, the verified name; field 2 is a signature, which
/// the simulated network does not check.
fn certificate(name: &str) -> String {
    let name = name.as_bytes();
    let mut details = vec![0x08, 0x01];
    details.push(0x22);
    details.push(u8::try_from(name.len()).unwrap_or(0));
    details.extend_from_slice(name);
    let mut raw = vec![0x0a, u8::try_from(details.len()).unwrap_or(0)];
    raw.extend(details);
    raw.extend([0x12, 0x02, 0x5a, 0x5a]);
    STANDARD.encode(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_certificate_is_a_protobuf_with_the_name_in_its_details() {
        let raw = STANDARD.decode(certificate("Wabiz Bench")).unwrap();
        // Field 1, length-delimited, then its contents: serial, then field 4.
        assert_eq!(raw[0], 0x0a);
        let details = &raw[2..2 + raw[1] as usize];
        assert_eq!(&details[..2], &[0x08, 0x01]);
        assert_eq!(details[2], 0x22);
        assert_eq!(&details[4..], b"Wabiz Bench");
        assert_eq!(&raw[2 + raw[1] as usize..], &[0x12, 0x02, 0x5a, 0x5a]);
    }
}
