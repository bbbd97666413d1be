//! The application settings (`/v1/settings/application`): every field of the
//! seed documents, their defaults, the PATCH rules and the GET document
//! (`settings.md` §1).
//!
//! PATCH is all-or-nothing: every field is checked, every problem is reported
//! (one error each), and nothing is applied unless all are valid.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::error::{ErrorCode, Problems, WaError, shown};

/// `log_level` values, most verbose first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Info,
    Warning,
    Error,
    Fatal,
}

impl LogLevel {
    pub const ALL: [LogLevel; 4] = [LogLevel::Info, LogLevel::Warning, LogLevel::Error, LogLevel::Fatal];

    pub const fn as_str(self) -> &'static str {
        match self {
            LogLevel::Info => "info",
            LogLevel::Warning => "warning",
            LogLevel::Error => "error",
            LogLevel::Fatal => "fatal",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "info" => LogLevel::Info,
            "warning" => LogLevel::Warning,
            "error" => LogLevel::Error,
            "fatal" => LogLevel::Fatal,
            _ => return None,
        })
    }
}

/// Media types that may be downloaded automatically when received.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    Audio,
    Document,
    Voice,
    Video,
    Image,
    Sticker,
}

impl MediaKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            MediaKind::Audio => "audio",
            MediaKind::Document => "document",
            MediaKind::Voice => "voice",
            MediaKind::Video => "video",
            MediaKind::Image => "image",
            MediaKind::Sticker => "sticker",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "audio" => MediaKind::Audio,
            "document" => MediaKind::Document,
            "voice" => MediaKind::Voice,
            "video" => MediaKind::Video,
            "image" => MediaKind::Image,
            "sticker" => MediaKind::Sticker,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GarbageCollector {
    pub messages: bool,
    pub media: bool,
}

impl Default for GarbageCollector {
    fn default() -> Self {
        Self { messages: true, media: false }
    }
}

/// Which message statuses are sent as callbacks (`webhooks.message`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct StatusCallbacks {
    pub sent: bool,
    pub delivered: bool,
    pub read: bool,
}

impl Default for StatusCallbacks {
    fn default() -> Self {
        Self { sent: true, delivered: true, read: true }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Webhooks {
    /// `None` while unset: callbacks are then dropped.
    pub url: Option<String>,
    pub max_concurrent_requests: u32,
    pub message: StatusCallbacks,
}

impl Default for Webhooks {
    fn default() -> Self {
        Self { url: None, max_concurrent_requests: 6, message: StatusCallbacks::default() }
    }
}

/// The allowed values of `webhooks.max_concurrent_requests`.
pub const MAX_CONCURRENT_REQUESTS: [u32; 4] = [6, 12, 18, 24];

/// The application settings. Stored as this struct's JSON; missing fields take
/// their defaults, so documents written by older versions keep loading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ApplicationSettings {
    pub axolotl_context_striping_disabled: bool,
    pub callback_backoff_delay_ms: u64,
    pub callback_persist: bool,
    pub garbagecollector_enable: GarbageCollector,
    pub heartbeat_interval: u64,
    pub log_level: LogLevel,
    pub max_callback_backoff_delay_ms: u64,
    pub media_auto_download: Vec<MediaKind>,
    pub notify_user_change_number: bool,
    /// Legacy; stored and echoed once set, no effect.
    pub on_call_pager: Option<String>,
    pub pass_through: bool,
    /// Deprecated alias of `webhooks.message.sent`; reported as last written.
    pub sent_status: bool,
    pub show_security_notifications: bool,
    pub skip_referral_media_download: bool,
    pub unhealthy_interval: u64,
    pub verbose_logging: bool,
    /// Deprecated since v2.39; stored, not echoed, no effect.
    pub webhook_payload_conversation_pricingmodel_disabled: bool,
    pub webhooks: Webhooks,
}

impl Default for ApplicationSettings {
    fn default() -> Self {
        Self {
            axolotl_context_striping_disabled: false,
            callback_backoff_delay_ms: 3_000,
            callback_persist: true,
            garbagecollector_enable: GarbageCollector::default(),
            heartbeat_interval: 5,
            log_level: LogLevel::Info,
            max_callback_backoff_delay_ms: 900_000,
            media_auto_download: Vec::new(),
            notify_user_change_number: false,
            on_call_pager: None,
            pass_through: false,
            sent_status: false,
            show_security_notifications: false,
            skip_referral_media_download: false,
            unhealthy_interval: 30,
            verbose_logging: false,
            webhook_payload_conversation_pricingmodel_disabled: false,
            webhooks: Webhooks::default(),
        }
    }
}

/// Keys a PATCH recognises. Anything else is ignored; a body with none of
/// these is refused. Includes the deprecated and legacy keys and the Webapp's
/// undocumented ones (§1.5), which are accepted and have no effect.
pub const RECOGNISED: &[&str] = &[
    "axolotl_context_striping_disabled",
    "callback_backoff_delay_ms",
    "callback_persist",
    "db_garbagecollector_enable",
    "garbagecollector_enable",
    "heartbeat_interval",
    "log_level",
    "max_callback_backoff_delay_ms",
    "media",
    "notify_user_change_number",
    "on_call_pager",
    "pass_through",
    "sent_status",
    "show_security_notifications",
    "skip_referral_media_download",
    "unhealthy_interval",
    "verbose_logging",
    "webhook_payload_conversation_pricingmodel_disabled",
    "webhooks",
    // The Webapp's undocumented keys (settings.md §1.5).
    "webcallbacks",
    "contacts_api_rate_limit",
    "control_api_rate_limit",
    "healthcheck_api_rate_limit",
    "messaging_api_rate_limit",
    "contacts_scrape_rate_limit",
    "unique_message_sends_rate_limit",
    "allow_nonexistent_users",
    "dogfood_user_limit",
    "template_send_side_validation_disabled",
    "axolotl_context_striping_logical_core_multiplier",
];

/// Keys whose change the original applied only after a Coreapp restart
/// (the R column of `settings.md` §1.3).
pub const RESTART_REQUIRED: &[&str] = &[
    "axolotl_context_striping_disabled",
    "callback_persist",
    "garbagecollector_enable",
    "log_level",
    "pass_through",
    "verbose_logging",
    "webhooks.max_concurrent_requests",
];

/// What a PATCH may depend on besides the body.
#[derive(Debug, Clone, Copy, Default)]
pub struct PatchRules {
    /// `--allow-http-webhooks`.
    pub allow_http_webhooks: bool,
}

fn invalid(p: &mut Problems, name: &str, v: &Value) {
    p.push(WaError::invalid_value(name, &shown(v)));
}

fn boolean(p: &mut Problems, name: &str, v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        other => {
            invalid(p, name, other);
            None
        }
    }
}

/// A JSON integer (not `5.5`, not `"5"`) within `min..=max`.
fn integer(p: &mut Problems, name: &str, v: &Value, min: u64, max: u64) -> Option<u64> {
    match v.as_u64() {
        Some(n) if (min..=max).contains(&n) => Some(n),
        _ => {
            invalid(p, name, v);
            None
        }
    }
}

/// The two `*_delay_ms` fields: documented as strings, integers accepted too.
fn delay(p: &mut Problems, name: &str, v: &Value, max: u64) -> Option<u64> {
    let n = match v {
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => s.parse::<u64>().ok(),
        other => other.as_u64(),
    };
    match n {
        Some(n) if (1..=max).contains(&n) => Some(n),
        _ => {
            invalid(p, name, v);
            None
        }
    }
}

fn object<'a>(p: &mut Problems, name: &str, v: &'a Value) -> Option<&'a Map<String, Value>> {
    match v {
        Value::Object(m) => Some(m),
        other => {
            invalid(p, name, other);
            None
        }
    }
}

impl ApplicationSettings {
    /// Applies a PATCH body and returns the new settings, or every problem found.
    pub fn patched(&self, body: &Value, rules: PatchRules) -> Result<ApplicationSettings, WaError> {
        let no_params = || WaError::invalid("No valid parameters provided");
        let Value::Object(body) = body else { return Err(no_params()) };
        if !body.keys().any(|k| RECOGNISED.contains(&k.as_str())) {
            return Err(no_params());
        }
        let mut next = self.clone();
        let mut p = Problems::new();

        for (key, v) in body {
            if let Some(slot) = plain_boolean(&mut next, key) {
                if let Some(b) = boolean(&mut p, key, v) {
                    *slot = b;
                }
                continue;
            }
            match key.as_str() {
                "pass_through" => {
                    // It can no longer be turned on (since v2.35).
                    match boolean(&mut p, key, v) {
                        Some(false) => next.pass_through = false,
                        Some(true) => invalid(&mut p, key, v),
                        None => {}
                    }
                }
                "sent_status" => {
                    if let Some(b) = boolean(&mut p, key, v) {
                        next.sent_status = b;
                        // Write-through alias, unless the same PATCH sets the new key.
                        let explicit = body.get("webhooks").and_then(|w| w.get("message")).and_then(|m| m.get("sent"));
                        if explicit.is_none() {
                            next.webhooks.message.sent = b;
                        }
                    }
                }
                "db_garbagecollector_enable" => {
                    if let Some(b) = boolean(&mut p, key, v) {
                        let explicit = body.get("garbagecollector_enable").and_then(|g| g.get("messages"));
                        if explicit.is_none() {
                            next.garbagecollector_enable.messages = b;
                        }
                    }
                }
                "callback_backoff_delay_ms" => {
                    if let Some(n) = delay(&mut p, key, v, 900_000) {
                        next.callback_backoff_delay_ms = n;
                    }
                }
                "max_callback_backoff_delay_ms" => {
                    if let Some(n) = delay(&mut p, key, v, 86_400_000) {
                        next.max_callback_backoff_delay_ms = n;
                    }
                }
                "heartbeat_interval" => {
                    if let Some(n) = integer(&mut p, key, v, 1, 3600) {
                        next.heartbeat_interval = n;
                    }
                }
                "unhealthy_interval" => {
                    if let Some(n) = integer(&mut p, key, v, 1, 3600) {
                        next.unhealthy_interval = n;
                    }
                }
                "log_level" => match v.as_str().and_then(LogLevel::parse) {
                    Some(l) => next.log_level = l,
                    None => invalid(&mut p, key, v),
                },
                "on_call_pager" => match v {
                    Value::String(s) if s.is_empty() => next.on_call_pager = None,
                    Value::String(s) if s.len() <= 64 && s.bytes().all(|b| b.is_ascii_digit() || b == b'-') => {
                        next.on_call_pager = Some(s.clone());
                    }
                    other => invalid(&mut p, key, other),
                },
                "garbagecollector_enable" => {
                    if let Some(m) = object(&mut p, key, v) {
                        if let Some(x) = m.get("messages")
                            && let Some(b) = boolean(&mut p, "garbagecollector_enable.messages", x)
                        {
                            next.garbagecollector_enable.messages = b;
                        }
                        if let Some(x) = m.get("media")
                            && let Some(b) = boolean(&mut p, "garbagecollector_enable.media", x)
                        {
                            next.garbagecollector_enable.media = b;
                        }
                    }
                }
                "media" => {
                    if let Some(m) = object(&mut p, key, v) {
                        match m.get("auto_download") {
                            None => p.push(WaError::missing_parameter("auto_download")),
                            Some(list) => {
                                if let Some(kinds) = media_kinds(&mut p, list) {
                                    next.media_auto_download = kinds;
                                }
                            }
                        }
                    }
                }
                "webhooks" => {
                    if let Some(m) = object(&mut p, key, v) {
                        patch_webhooks(&mut p, &mut next.webhooks, m, rules);
                    }
                }
                "allow_nonexistent_users" | "template_send_side_validation_disabled" => {
                    // Recognised and type-checked, but they change nothing here.
                    boolean(&mut p, key, v);
                }
                // Other recognised keys have no effect; unknown keys are ignored.
                _ => {}
            }
        }
        p.into_result().map(|()| next)
    }

    /// The GET document (the inner `application` object). `wa_id` is shown when
    /// a number is registered; `webhooks.url` and `on_call_pager` once set.
    pub fn to_json(&self, wa_id: Option<&str>) -> Value {
        let mut webhooks = json!({
            "max_concurrent_requests": self.webhooks.max_concurrent_requests,
            "message": {
                "sent": self.webhooks.message.sent,
                "delivered": self.webhooks.message.delivered,
                "read": self.webhooks.message.read,
            },
        });
        if let Some(url) = &self.webhooks.url {
            webhooks["url"] = json!(url);
        }
        let mut doc = json!({
            "axolotl_context_striping_disabled": self.axolotl_context_striping_disabled,
            "callback_backoff_delay_ms": self.callback_backoff_delay_ms,
            "callback_persist": self.callback_persist,
            "garbagecollector_enable": {
                "media": self.garbagecollector_enable.media,
                "messages": self.garbagecollector_enable.messages,
            },
            "heartbeat_interval": self.heartbeat_interval,
            "log_level": self.log_level.as_str(),
            "max_callback_backoff_delay_ms": self.max_callback_backoff_delay_ms,
            "media": { "auto_download": self.media_auto_download.iter().map(|k| k.as_str()).collect::<Vec<_>>() },
            "notify_user_change_number": self.notify_user_change_number,
            "pass_through": self.pass_through,
            "sent_status": self.sent_status,
            "show_security_notifications": self.show_security_notifications,
            "skip_referral_media_download": self.skip_referral_media_download,
            "unhealthy_interval": self.unhealthy_interval,
            "verbose_logging": self.verbose_logging,
            "webhooks": webhooks,
        });
        if let Some(w) = wa_id {
            doc["wa_id"] = json!(w);
        }
        if let Some(pager) = &self.on_call_pager {
            doc["on_call_pager"] = json!(pager);
        }
        doc
    }

    /// The restart-required keys whose values differ between `self` and `other`.
    pub fn restart_required_differences(&self, other: &ApplicationSettings) -> Vec<&'static str> {
        let mut keys = Vec::new();
        let mut check = |key: &'static str, differs: bool| {
            if differs {
                keys.push(key);
            }
        };
        check(
            "axolotl_context_striping_disabled",
            self.axolotl_context_striping_disabled != other.axolotl_context_striping_disabled,
        );
        check("callback_persist", self.callback_persist != other.callback_persist);
        check("garbagecollector_enable", self.garbagecollector_enable != other.garbagecollector_enable);
        check("log_level", self.log_level != other.log_level);
        check("pass_through", self.pass_through != other.pass_through);
        check("verbose_logging", self.verbose_logging != other.verbose_logging);
        check(
            "webhooks.max_concurrent_requests",
            self.webhooks.max_concurrent_requests != other.webhooks.max_concurrent_requests,
        );
        keys
    }

    /// These settings with the restart-required fields taken from `boot` (the
    /// values the node started with): what the node runs on under
    /// `--strict-restart-semantics`.
    pub fn with_restart_fields_of(&self, boot: &ApplicationSettings) -> ApplicationSettings {
        let mut s = self.clone();
        s.axolotl_context_striping_disabled = boot.axolotl_context_striping_disabled;
        s.callback_persist = boot.callback_persist;
        s.garbagecollector_enable = boot.garbagecollector_enable.clone();
        s.log_level = boot.log_level;
        s.pass_through = boot.pass_through;
        s.verbose_logging = boot.verbose_logging;
        s.webhooks.max_concurrent_requests = boot.webhooks.max_concurrent_requests;
        s
    }
}

/// The top-level booleans that a PATCH simply sets.
fn plain_boolean<'a>(s: &'a mut ApplicationSettings, key: &str) -> Option<&'a mut bool> {
    Some(match key {
        "axolotl_context_striping_disabled" => &mut s.axolotl_context_striping_disabled,
        "callback_persist" => &mut s.callback_persist,
        "notify_user_change_number" => &mut s.notify_user_change_number,
        "show_security_notifications" => &mut s.show_security_notifications,
        "skip_referral_media_download" => &mut s.skip_referral_media_download,
        "verbose_logging" => &mut s.verbose_logging,
        "webhook_payload_conversation_pricingmodel_disabled" => {
            &mut s.webhook_payload_conversation_pricingmodel_disabled
        }
        _ => return None,
    })
}

fn media_kinds(p: &mut Problems, list: &Value) -> Option<Vec<MediaKind>> {
    let Value::Array(items) = list else {
        invalid(p, "media.auto_download", list);
        return None;
    };
    let mut kinds = Vec::with_capacity(items.len());
    let mut ok = true;
    for item in items {
        match item.as_str().and_then(MediaKind::parse) {
            // Duplicates are dropped; the first position wins.
            Some(k) if !kinds.contains(&k) => kinds.push(k),
            Some(_) => {}
            None => {
                invalid(p, "media.auto_download", item);
                ok = false;
            }
        }
    }
    ok.then_some(kinds)
}

fn patch_webhooks(p: &mut Problems, w: &mut Webhooks, m: &Map<String, Value>, rules: PatchRules) {
    if let Some(v) = m.get("url") {
        match v {
            Value::String(s) if s.is_empty() => w.url = None,
            Value::String(s) if s.len() > 2048 => {
                p.push(WaError::invalid("Parameter 'webhooks.url' is longer than 2048 characters"));
            }
            Value::String(s) => match check_url(s, rules.allow_http_webhooks) {
                Ok(()) => w.url = Some(s.clone()),
                Err(e) => p.push(e),
            },
            other => invalid(p, "webhooks.url", other),
        }
    }
    if let Some(v) = m.get("max_concurrent_requests") {
        match v.as_u64().and_then(|n| u32::try_from(n).ok()) {
            Some(n) if MAX_CONCURRENT_REQUESTS.contains(&n) => w.max_concurrent_requests = n,
            _ => invalid(p, "webhooks.max_concurrent_requests", v),
        }
    }
    if let Some(v) = m.get("message") {
        match v {
            Value::Object(msg) => {
                for (field, slot) in [
                    ("sent", &mut w.message.sent),
                    ("delivered", &mut w.message.delivered),
                    ("read", &mut w.message.read),
                ] {
                    if let Some(x) = msg.get(field)
                        && let Some(b) = boolean(p, &format!("webhooks.message.{field}"), x)
                    {
                        *slot = b;
                    }
                }
            }
            other => invalid(p, "webhooks.message", other),
        }
    }
}

/// A webhook URL: absolute `https://` (or `http://` when allowed) with a host.
fn check_url(url: &str, allow_http: bool) -> Result<(), WaError> {
    let lower = url.to_ascii_lowercase();
    let rest = match (lower.strip_prefix("https://"), lower.strip_prefix("http://")) {
        (Some(r), _) => r,
        (None, Some(r)) if allow_http => r,
        (None, Some(_)) => {
            return Err(WaError::new(
                ErrorCode::ParameterValueNotValid,
                "Webhook URL must use https (start wabiz with --allow-http-webhooks to allow http)",
            ));
        }
        _ => return Err(WaError::invalid_value("webhooks.url", url)),
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() || url.chars().any(char::is_whitespace) {
        return Err(WaError::invalid_value("webhooks.url", url));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_log_level_reads_back() {
        for level in LogLevel::ALL {
            assert_eq!(LogLevel::parse(level.as_str()), Some(level));
        }
    }

    fn patch(s: &ApplicationSettings, body: Value) -> Result<ApplicationSettings, WaError> {
        s.patched(&body, PatchRules::default())
    }

    fn details(e: &WaError) -> Vec<String> {
        e.errors.iter().map(|i| i.details.clone().unwrap_or_default().into_owned()).collect()
    }

    #[test]
    fn defaults_render_as_documented() {
        let doc = ApplicationSettings::default().to_json(None);
        assert_eq!(
            doc,
            json!({
                "axolotl_context_striping_disabled": false,
                "callback_backoff_delay_ms": 3000,
                "callback_persist": true,
                "garbagecollector_enable": { "media": false, "messages": true },
                "heartbeat_interval": 5,
                "log_level": "info",
                "max_callback_backoff_delay_ms": 900000,
                "media": { "auto_download": [] },
                "notify_user_change_number": false,
                "pass_through": false,
                "sent_status": false,
                "show_security_notifications": false,
                "skip_referral_media_download": false,
                "unhealthy_interval": 30,
                "verbose_logging": false,
                "webhooks": { "max_concurrent_requests": 6, "message": { "sent": true, "delivered": true, "read": true } }
            })
        );
        assert_eq!(ApplicationSettings::default().to_json(Some("1555"))["wa_id"], "1555");
    }

    #[test]
    fn nothing_recognised_is_refused() {
        let s = ApplicationSettings::default();
        for body in
            [json!({}), json!({"foo": 1}), json!({"wa_id": "1"}), json!({"tcp_listen_address": "any"}), json!([])]
        {
            let e = patch(&s, body.clone()).unwrap_err();
            assert_eq!(details(&e), ["No valid parameters provided"], "{body}");
        }
        let next = patch(&s, json!({"foo": 1, "sent_status": true})).unwrap();
        assert!(next.sent_status && next.webhooks.message.sent);
        // Undocumented Webapp keys count as recognised and change nothing.
        assert_eq!(patch(&s, json!({"dogfood_user_limit": 5})).unwrap(), s);
    }

    #[test]
    fn types_are_strict() {
        let s = ApplicationSettings::default();
        let e = patch(&s, json!({"callback_persist": "true"})).unwrap_err();
        assert_eq!(details(&e), ["Parameter 'callback_persist' has invalid value 'true'"]);
        assert!(patch(&s, json!({"heartbeat_interval": 5.5})).is_err());
        assert!(patch(&s, json!({"heartbeat_interval": "5"})).is_err());
        assert!(patch(&s, json!({"heartbeat_interval": 0})).is_err());
        assert_eq!(patch(&s, json!({"heartbeat_interval": 10})).unwrap().heartbeat_interval, 10);
        assert!(patch(&s, json!({"allow_nonexistent_users": 1})).is_err());
    }

    #[test]
    fn delays_take_strings_and_numbers() {
        let s = ApplicationSettings::default();
        assert_eq!(patch(&s, json!({"callback_backoff_delay_ms": "5000"})).unwrap().callback_backoff_delay_ms, 5000);
        assert_eq!(
            patch(&s, json!({"max_callback_backoff_delay_ms": 60000})).unwrap().max_callback_backoff_delay_ms,
            60000
        );
        for bad in [json!("abc"), json!(-1), json!(0), json!("0"), json!(""), json!(1.5), json!("900001"), json!(null)]
        {
            assert!(patch(&s, json!({"callback_backoff_delay_ms": bad.clone()})).is_err(), "{bad}");
        }
    }

    #[test]
    fn webhooks_merge_key_by_key() {
        let s = ApplicationSettings::default();
        let a = patch(&s, json!({"webhooks": {"url": "https://example.com/hook?auth=x"}})).unwrap();
        assert_eq!(a.webhooks.url.as_deref(), Some("https://example.com/hook?auth=x"));
        assert_eq!(a.webhooks.max_concurrent_requests, 6);
        let b = patch(&a, json!({"webhooks": {"max_concurrent_requests": 12, "message": {"read": false}}})).unwrap();
        assert_eq!(b.webhooks.url, a.webhooks.url);
        assert_eq!(b.webhooks.message, StatusCallbacks { sent: true, delivered: true, read: false });
        assert_eq!(b.webhooks.max_concurrent_requests, 12);
        for bad in [json!(7), json!("12"), json!(12.0), json!(0)] {
            assert!(patch(&s, json!({"webhooks": {"max_concurrent_requests": bad.clone()}})).is_err(), "{bad}");
        }
        let cleared = patch(&b, json!({"webhooks": {"url": ""}})).unwrap();
        assert_eq!(cleared.webhooks.url, None);
        assert!(cleared.to_json(None)["webhooks"].get("url").is_none());
    }

    #[test]
    fn webhook_url_schemes() {
        let s = ApplicationSettings::default();
        assert!(patch(&s, json!({"webhooks": {"url": "ftp://x"}})).is_err());
        assert!(patch(&s, json!({"webhooks": {"url": "http://x"}})).is_err());
        assert!(patch(&s, json!({"webhooks": {"url": "https://"}})).is_err());
        assert!(patch(&s, json!({"webhooks": {"url": 5}})).is_err());
        let long = format!("https://example.com/{}", "a".repeat(2048));
        assert!(patch(&s, json!({"webhooks": {"url": long}})).is_err());
        let http =
            s.patched(&json!({"webhooks": {"url": "http://127.0.0.1:9/x"}}), PatchRules { allow_http_webhooks: true });
        assert_eq!(http.unwrap().webhooks.url.as_deref(), Some("http://127.0.0.1:9/x"));
    }

    #[test]
    fn media_auto_download() {
        let s = ApplicationSettings::default();
        let a = patch(&s, json!({"media": {"auto_download": ["image", "sticker", "image"]}})).unwrap();
        assert_eq!(a.media_auto_download, vec![MediaKind::Image, MediaKind::Sticker]);
        assert_eq!(a.to_json(None)["media"]["auto_download"], json!(["image", "sticker"]));
        assert!(patch(&s, json!({"media": {"auto_download": ["gif"]}})).is_err());
        assert!(patch(&s, json!({"media": {"auto_download": "image"}})).is_err());
        let e = patch(&s, json!({"media": {}})).unwrap_err();
        assert_eq!(e.errors[0].code, ErrorCode::RequiredParameterMissing);
        assert_eq!(details(&e), ["Missing mandatory parameter 'auto_download'"]);
        assert_eq!(patch(&a, json!({"media": {"auto_download": []}})).unwrap().media_auto_download, vec![]);
    }

    #[test]
    fn enums_and_special_fields() {
        let s = ApplicationSettings::default();
        assert!(patch(&s, json!({"log_level": "debug"})).is_err());
        let a = patch(&s, json!({"log_level": "error", "verbose_logging": true})).unwrap();
        assert_eq!((a.log_level, a.verbose_logging), (LogLevel::Error, true));
        let e = patch(&s, json!({"pass_through": true})).unwrap_err();
        assert_eq!(details(&e), ["Parameter 'pass_through' has invalid value 'true'"]);
        assert!(patch(&s, json!({"pass_through": false})).is_ok());
        let g = patch(&s, json!({"garbagecollector_enable": {"messages": false}})).unwrap();
        assert_eq!(g.garbagecollector_enable, GarbageCollector { messages: false, media: false });
        let d = patch(&s, json!({"db_garbagecollector_enable": false})).unwrap();
        assert!(!d.garbagecollector_enable.messages);
        assert!(d.to_json(None).get("db_garbagecollector_enable").is_none());
        let w = patch(&s, json!({"sent_status": true, "webhooks": {"message": {"sent": false}}})).unwrap();
        assert!(w.sent_status && !w.webhooks.message.sent, "the new key wins");
        let pager = patch(&s, json!({"on_call_pager": "16315551234"})).unwrap();
        assert_eq!(pager.to_json(None)["on_call_pager"], "16315551234");
        assert_eq!(patch(&pager, json!({"on_call_pager": ""})).unwrap().on_call_pager, None);
    }

    #[test]
    fn all_or_nothing_with_one_error_per_field() {
        let s = ApplicationSettings::default();
        let e = patch(
            &s,
            json!({"callback_persist": false, "log_level": "x", "heartbeat_interval": "y",
            "webhooks": {"max_concurrent_requests": 7, "message": {"read": "no"}}}),
        )
        .unwrap_err();
        assert_eq!(e.errors.len(), 4, "{e}");
        assert_eq!(e.status, 400);
    }

    #[test]
    fn restart_bookkeeping() {
        let boot = ApplicationSettings::default();
        let next = patch(
            &boot,
            json!({"callback_persist": false, "heartbeat_interval": 9, "webhooks": {"max_concurrent_requests": 12}}),
        )
        .unwrap();
        assert_eq!(next.restart_required_differences(&boot), ["callback_persist", "webhooks.max_concurrent_requests"]);
        let effective = next.with_restart_fields_of(&boot);
        assert!(effective.callback_persist);
        assert_eq!(effective.heartbeat_interval, 9);
        assert_eq!(effective.webhooks.max_concurrent_requests, 6);
    }

    #[test]
    fn stored_form_round_trips_and_tolerates_missing_fields() {
        let s =
            patch(&ApplicationSettings::default(), json!({"log_level": "warning", "webhooks": {"url": "https://a.b"}}))
                .unwrap();
        let text = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<ApplicationSettings>(&text).unwrap(), s);
        let partial: ApplicationSettings = serde_json::from_str(r#"{"heartbeat_interval": 7}"#).unwrap();
        assert_eq!(partial.heartbeat_interval, 7);
        assert_eq!(partial.webhooks.max_concurrent_requests, 6);
    }
}
