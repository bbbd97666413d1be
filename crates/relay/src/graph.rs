//! The Graph API calls the relay makes for one business number, each
//! answer read into what the relay needs or into a [`CloudError`]. A call
//! that gets no answer (refused, timed out) is a `CloudError` with status 0,
//! marked transient: the sender tries again.

use std::time::Duration;

use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};

use crate::errors::CloudError;
use crate::secret::Secret;

/// Where and as whom the relay calls.
#[derive(Debug, Clone)]
pub struct GraphConfig {
    /// `https://graph.facebook.com` (tests point it at a stand-in).
    pub url: String,
    /// The pinned Graph version, `v23.0`.
    pub version: String,
    pub phone_number_id: String,
    pub access_token: Secret,
    /// One call's time limit.
    pub timeout: Duration,
}

/// The Graph API, for one phone number.
pub struct Graph {
    http: reqwest::Client,
    config: GraphConfig,
}

/// What Cloud answered a send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The message's Cloud id.
    pub wamid: String,
    /// The customer's `wa_id` as Cloud knows them (may differ from the digits sent).
    pub wa_id: Option<String>,
}

/// A Cloud media object's details; its `url` is good for 5 minutes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaInfo {
    pub url: String,
    pub mime_type: String,
    pub sha256: Option<String>,
    pub file_size: Option<u64>,
}

/// How a registration code travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeMethod {
    Sms,
    Voice,
}

impl Graph {
    /// A client for `config`, over `http` (which decides the trust roots).
    pub fn new(http: reqwest::Client, config: GraphConfig) -> Self {
        Self { http, config }
    }

    /// `{url}/{version}/{path}`.
    fn url(&self, path: &str) -> String {
        format!("{}/{}/{}", self.config.url.trim_end_matches('/'), self.config.version, path.trim_start_matches('/'))
    }

    fn request(&self, method: Method, url: &str) -> RequestBuilder {
        self.http.request(method, url).bearer_auth(self.config.access_token.expose()).timeout(self.config.timeout)
    }

    /// Sends a request and reads its answer's body; any status but 2xx is a
    /// Cloud error.
    async fn body(&self, request: RequestBuilder) -> Result<Vec<u8>, CloudError> {
        let response = request.send().await.map_err(unanswered)?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(unanswered)?;
        if !(200..300).contains(&status) {
            return Err(CloudError::from_answer(status, &body));
        }
        Ok(body.to_vec())
    }

    /// The same, for a JSON answer.
    async fn json(&self, request: RequestBuilder) -> Result<Value, CloudError> {
        let body = self.body(request).await?;
        serde_json::from_slice(&body).map_err(|_| malformed("an answer that is not JSON"))
    }

    /// `POST /{phone-number-id}/messages` with a message (see `outbound`).
    pub async fn send(&self, message: &Value) -> Result<Accepted, CloudError> {
        let url = self.url(&format!("{}/messages", self.config.phone_number_id));
        let answer = self.json(self.request(Method::POST, &url).json(message)).await?;
        let wamid =
            answer["messages"][0]["id"].as_str().ok_or_else(|| malformed("a send's answer without messages[0].id"))?;
        Ok(Accepted { wamid: wamid.to_owned(), wa_id: answer["contacts"][0]["wa_id"].as_str().map(str::to_owned) })
    }

    /// Marks an inbound message read (`status: read` on the messages edge).
    pub async fn mark_read(&self, wamid: &str) -> Result<(), CloudError> {
        let url = self.url(&format!("{}/messages", self.config.phone_number_id));
        let body = json!({"messaging_product": "whatsapp", "status": "read", "message_id": wamid});
        self.json(self.request(Method::POST, &url).json(&body)).await.map(|_| ())
    }

    /// Uploads media (`multipart/form-data`: `file`, `type`, `messaging_product`);
    /// answers the Cloud media id.
    pub async fn upload(&self, bytes: Vec<u8>, mime_type: &str, filename: &str) -> Result<String, CloudError> {
        let url = self.url(&format!("{}/media", self.config.phone_number_id));
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(filename.to_owned())
            .mime_str(mime_type)
            .map_err(|_| malformed("a MIME type the upload cannot carry"))?;
        let form = reqwest::multipart::Form::new()
            .text("messaging_product", "whatsapp")
            .text("type", mime_type.to_owned())
            .part("file", part);
        let answer = self.json(self.request(Method::POST, &url).multipart(form)).await?;
        answer["id"].as_str().map(str::to_owned).ok_or_else(|| malformed("an upload's answer without an id"))
    }

    /// A media object's details, with a fresh URL.
    pub async fn media(&self, media_id: &str) -> Result<MediaInfo, CloudError> {
        cloud_media_id(media_id)?;
        let url = self.url(media_id);
        let answer = self.json(self.request(Method::GET, &url)).await?;
        Ok(MediaInfo {
            url: answer["url"].as_str().ok_or_else(|| malformed("media without a url"))?.to_owned(),
            mime_type: answer["mime_type"].as_str().unwrap_or("application/octet-stream").to_owned(),
            sha256: answer["sha256"].as_str().map(str::to_owned),
            file_size: answer["file_size"].as_u64(),
        })
    }

    /// The bytes behind a media URL (it takes the same token).
    pub async fn download(&self, media_url: &str) -> Result<Vec<u8>, CloudError> {
        self.body(self.request(Method::GET, media_url)).await
    }

    /// Deletes a media object.
    pub async fn delete_media(&self, media_id: &str) -> Result<(), CloudError> {
        cloud_media_id(media_id)?;
        // Both ids are digits (the media id just checked, the number's with
        // the configuration): nothing to escape.
        let url = format!("{}?phone_number_id={}", self.url(media_id), self.config.phone_number_id);
        self.json(self.request(Method::DELETE, &url)).await.map(|_| ())
    }

    /// Asks for a registration code.
    pub async fn request_code(&self, method: CodeMethod, language: &str) -> Result<(), CloudError> {
        let url = self.url(&format!("{}/request_code", self.config.phone_number_id));
        let method = match method {
            CodeMethod::Sms => "SMS",
            CodeMethod::Voice => "VOICE",
        };
        let body = json!({"code_method": method, "language": language});
        self.json(self.request(Method::POST, &url).json(&body)).await.map(|_| ())
    }

    /// Checks the code received.
    pub async fn verify_code(&self, code: &str) -> Result<(), CloudError> {
        let url = self.url(&format!("{}/verify_code", self.config.phone_number_id));
        self.json(self.request(Method::POST, &url).json(&json!({"code": code}))).await.map(|_| ())
    }

    /// Registers the number with its two-step PIN.
    pub async fn register(&self, pin: &Secret) -> Result<(), CloudError> {
        let url = self.url(&format!("{}/register", self.config.phone_number_id));
        let body = json!({"messaging_product": "whatsapp", "pin": pin.expose()});
        self.json(self.request(Method::POST, &url).json(&body)).await.map(|_| ())
    }

    /// The phone number as Cloud shows it (health: reachable, token valid).
    /// Changes the business profile (`about`, `address`, `vertical`, …).
    pub async fn set_business_profile(&self, body: &Value) -> Result<(), CloudError> {
        let url = self.url(&format!("{}/whatsapp_business_profile", self.config.phone_number_id));
        self.json(self.request(Method::POST, &url).json(body)).await.map(|_| ())
    }

    /// Sets the profile photo: Cloud's resumable upload (an upload session
    /// of the token's app, then the bytes), whose handle becomes the
    /// profile's picture.
    pub async fn set_profile_photo(&self, jpeg: Vec<u8>) -> Result<(), CloudError> {
        let app = self.json(self.request(Method::GET, &self.url("app"))).await?;
        let app_id = app["id"].as_str().ok_or_else(|| malformed("the token's app without an id"))?;
        let url = format!("{}?file_length={}&file_type=image/jpeg", self.url(&format!("{app_id}/uploads")), jpeg.len());
        let session = self.json(self.request(Method::POST, &url)).await?;
        let session = session["id"].as_str().ok_or_else(|| malformed("an upload session without an id"))?;
        // The upload itself takes the token as `OAuth`, not `Bearer`.
        let upload = self
            .http
            .post(self.url(session))
            .header(reqwest::header::AUTHORIZATION, format!("OAuth {}", self.config.access_token.expose()))
            .header("file_offset", "0")
            .timeout(self.config.timeout)
            .body(jpeg);
        let handle = self.json(upload).await?;
        let handle = handle["h"].as_str().ok_or_else(|| malformed("an upload without a handle"))?;
        self.set_business_profile(&json!({"messaging_product": "whatsapp", "profile_picture_handle": handle})).await
    }

    /// Sets the two-step verification PIN.
    pub async fn set_pin(&self, pin: &str) -> Result<(), CloudError> {
        let url = self.url(&self.config.phone_number_id);
        self.json(self.request(Method::POST, &url).json(&json!({"pin": pin}))).await.map(|_| ())
    }

    pub async fn phone_number(&self) -> Result<Value, CloudError> {
        let url = format!(
            "{}?fields=display_phone_number,verified_name,quality_rating",
            self.url(&self.config.phone_number_id)
        );
        self.json(self.request(Method::GET, &url)).await
    }
}

/// Cloud media ids are digits; anything else would name another path.
fn cloud_media_id(id: &str) -> Result<(), CloudError> {
    if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(malformed("a media id that is not Cloud's"))
    }
}

/// No answer: tried again later.
fn unanswered(e: reqwest::Error) -> CloudError {
    let why = if e.is_timeout() { "no answer in time" } else { "no connection" };
    CloudError {
        status: 0,
        code: 0,
        subcode: None,
        message: format!("{why} (the Graph API was not reached)"),
        details: None,
        transient: true,
    }
}

/// A 2xx answer without what it should hold.
fn malformed(what: &str) -> CloudError {
    CloudError {
        status: 200,
        code: 0,
        subcode: None,
        message: format!("{what} from the Graph API"),
        details: None,
        transient: false,
    }
}
