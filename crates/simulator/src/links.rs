//! Media sent by link (`media.md` §4): before such a message can be `sent`, the
//! network downloads the link, with the credentials of the named media
//! provider. A link that cannot be fetched (an error status, a connection
//! failure, no answer in time, too large, an unknown provider) makes the
//! message fail with 400 `Media download error`, reported by status.

use std::sync::Arc;

use serde_json::Value;
use wabiz_domain::error::ErrorCode;
use wabiz_domain::messages::service::media_size_limit;
use wabiz_domain::messages::{Failure, MessageStatus};
use wabiz_domain::ports::DueMessage;
use wabiz_domain::settings::SettingsService;
use wabiz_domain::settings::providers::ProviderAuth;

pub struct LinkFetcher {
    client: reqwest::Client,
    settings: Arc<SettingsService>,
}

/// The link and provider name of a media message's content, if it has a link.
fn link_of(due: &DueMessage) -> Option<(String, Option<String>)> {
    media_size_limit(&due.kind)?;
    let content: Value = serde_json::from_str(&due.content).ok()?;
    let link = content.get("link")?.as_str()?.to_owned();
    let provider = content.pointer("/provider/name").and_then(Value::as_str).map(str::to_owned);
    Some((link, provider))
}

fn failure(details: String) -> Option<Failure> {
    Some(Failure::new(ErrorCode::MediaDownloadError, details))
}

impl LinkFetcher {
    /// `client` carries the trust roots and the time limit.
    pub fn new(client: reqwest::Client, settings: Arc<SettingsService>) -> Self {
        Self { client, settings }
    }

    /// Whether `due` needs a download before it can be sent.
    pub fn needed(due: &DueMessage) -> bool {
        due.status == MessageStatus::Accepted && due.failure.is_none() && link_of(due).is_some()
    }

    /// Downloads the message's link; the failure if it cannot be fetched.
    /// The bytes are not kept: the simulated recipient only needs to know
    /// they exist.
    pub async fn fetch(&self, due: &DueMessage) -> Option<Failure> {
        let (link, provider) = link_of(due)?;
        let limit = media_size_limit(&due.kind).unwrap_or(0);
        let mut request = self.client.get(&link);
        if let Some(name) = provider {
            let providers = match self.settings.media_providers().await {
                Ok(p) => p,
                Err(_) => return failure("Media providers could not be read".into()),
            };
            let Some(p) = providers.into_iter().find(|p| p.name == name) else {
                return failure(format!("Media provider '{name}' is not configured"));
            };
            request = match p.config {
                ProviderAuth::Basic { username, password } => request.basic_auth(username, Some(password)),
                ProviderAuth::Bearer(token) => request.bearer_auth(token),
            };
        }
        let mut response = match request.send().await {
            Ok(r) => r,
            Err(e) if e.is_timeout() => {
                return failure("Media download failed: the link did not answer in time".into());
            }
            Err(_) => return failure("Media download failed: the link could not be reached".into()),
        };
        if !response.status().is_success() {
            return failure(format!("Media download failed: HTTP {} from the link", response.status().as_u16()));
        }
        let mut size: u64 = 0;
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    size += chunk.len() as u64;
                    if size > limit {
                        return failure(format!("Media size exceeds limit for type '{}'", due.kind));
                    }
                }
                Ok(None) => break,
                Err(_) => return failure("Media download failed: the transfer was interrupted".into()),
            }
        }
        if size == 0 {
            return failure("Media download failed: the link returned no data".into());
        }
        None
    }
}
