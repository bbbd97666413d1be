//! What a Cloud API error means to an On-Premises client
//! (`cloud-mapping.md` §2.3): the On-Premises code (and, for an answer to a
//! request, its HTTP status), the Cloud code kept in `details`; and whether
//! the relay should try again later instead.
//!
//! The relay answers a send before Cloud sees it, so a send's Cloud error
//! reaches the client as a `failed` status callback with the On-Premises
//! code; other calls (media, mark read, profile) answer with it.

use serde_json::Value;
use wabiz_domain::error::{ErrorCode, WaError};

/// A Graph API error answer: `{"error": {"message", "type", "code",
/// "error_subcode", "error_data": {"details"}, "is_transient", "fbtrace_id"}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudError {
    /// The HTTP status Cloud answered with.
    pub status: u16,
    /// Cloud's code (`0` when the body had none).
    pub code: i64,
    pub subcode: Option<i64>,
    pub message: String,
    /// `error_data.details`, where Cloud says more.
    pub details: Option<String>,
    /// Cloud's own hint that trying again may work.
    pub transient: bool,
}

impl CloudError {
    /// Reads an error answer; a body that is not one (a proxy's page, an
    /// empty answer) keeps the status and says so.
    pub fn from_answer(status: u16, body: &[u8]) -> Self {
        let parsed: Option<Value> = serde_json::from_slice(body).ok();
        match parsed.as_ref().and_then(|v| v.get("error")) {
            Some(e) => Self::from_object(status, e),
            None => Self::from_object(
                status,
                &serde_json::json!({"message": format!("HTTP {status} without a Graph API error")}),
            ),
        }
    }

    /// Reads an error object: an answer's `error`, or an item of a
    /// webhook's `errors` (which has a `title` where an answer has a `message`).
    pub fn from_object(status: u16, e: &Value) -> Self {
        Self {
            status,
            code: e["code"].as_i64().unwrap_or(0),
            subcode: e["error_subcode"].as_i64(),
            message: e["message"].as_str().or(e["title"].as_str()).unwrap_or_default().to_owned(),
            details: e["error_data"]["details"].as_str().map(str::to_owned),
            transient: e["is_transient"].as_bool().unwrap_or(false),
        }
    }

    /// What the relay does about it.
    pub fn disposition(&self) -> Disposition {
        if RETRIED.contains(&self.code)
            || self.transient
            || self.status == 429
            || self.status >= 500 && !self.permanent()
        {
            Disposition::TryAgain
        } else {
            Disposition::Fail(self.on_prem_code())
        }
    }

    /// A code the table maps, whatever the HTTP status (Cloud answers some
    /// permanent errors with 500).
    fn permanent(&self) -> bool {
        TABLE.iter().any(|(codes, _)| codes.contains(&self.code))
    }

    /// The On-Premises code it maps to (`1014 Internal error` when the
    /// table has none).
    pub fn on_prem_code(&self) -> ErrorCode {
        TABLE.iter().find(|(codes, _)| codes.contains(&self.code)).map_or(ErrorCode::InternalError, |(_, code)| *code)
    }

    /// `details` as clients see it: the Cloud code first, then what Cloud
    /// said (`cloud_code=131047: Re-engagement message`).
    pub fn on_prem_details(&self) -> String {
        let mut d = format!("cloud_code={}", self.code);
        if let Some(sub) = self.subcode {
            d.push_str(&format!(" (subcode {sub})"));
        }
        d.push_str(": ");
        d.push_str(self.details.as_deref().unwrap_or(&self.message));
        d
    }

    /// Whether the token or its permissions were refused.
    pub fn is_auth(&self) -> bool {
        AUTH.contains(&self.code)
    }

    /// The error an On-Premises request answers with. The token's problems
    /// are the relay's, not the client's: they say so, without the token.
    pub fn to_wa_error(&self) -> WaError {
        let code = match self.on_prem_code() {
            // 470 is a callback's code; a request answers 1009 (§2.3).
            ErrorCode::ReEngagementMessage => ErrorCode::ParameterValueNotValid,
            code => code,
        };
        if AUTH.contains(&self.code) {
            return WaError::new(code, format!("relay upstream authentication failed ({})", self.on_prem_details()));
        }
        WaError::new(code, self.on_prem_details())
    }
}

/// Whether to give up or try again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Throughput, maintenance, a server error or a timeout: later, with backoff.
    TryAgain,
    /// Final: the message fails (or the request answers) with this code.
    Fail(ErrorCode),
}

/// Codes worth another try: Cloud's and Graph's rate limits (130429
/// throughput, 131056 pair rate, 80007 WABA rate, 4 app, 17 user, 613
/// calls), 131057 account maintenance and 2494100 throughput upgrade, and
/// Graph's 1 (unknown) and 2 (service temporarily unavailable).
const RETRIED: [i64; 10] = [130_429, 131_056, 80_007, 4, 17, 613, 131_057, 2_494_100, 1, 2];

/// Token and permission problems.
const AUTH: [i64; 3] = [190, 10, 200];

/// `cloud-mapping.md` §2.3, the codes a send or a request can end with.
/// (Its throughput and maintenance rows are retried instead: `RETRIED`.)
const TABLE: [(&[i64], ErrorCode); 13] = [
    (&[100, 131_009], ErrorCode::ParameterValueNotValid),
    (&[131_008], ErrorCode::RequiredParameterMissing),
    // Outside the 24-hour window: the webhook code (sends fail by callback).
    (&[131_047], ErrorCode::ReEngagementMessage),
    (&[131_026], ErrorCode::UserNotValid),
    (&[131_051], ErrorCode::ReceiverIncapable),
    (&[132_000], ErrorCode::TemplateParamCountMismatch),
    (&[132_001], ErrorCode::TemplateMissing),
    (&[132_005], ErrorCode::TemplateHydratedTextTooLong),
    (&[132_007], ErrorCode::TemplateFormatCharacterPolicyViolated),
    (&[132_012], ErrorCode::TemplateParameterFormatMismatch),
    (&[132_015], ErrorCode::TemplatePaused),
    (&[132_016], ErrorCode::TemplateDisabled),
    (&AUTH, ErrorCode::InternalError),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn error(status: u16, code: i64) -> CloudError {
        let body = serde_json::json!({"error": {"message": "(#x) text", "type": "OAuthException", "code": code,
                                                "error_data": {"messaging_product": "whatsapp", "details": "what went wrong"},
                                                "fbtrace_id": "AbC"}});
        CloudError::from_answer(status, body.to_string().as_bytes())
    }

    #[test]
    fn each_row_of_the_mapping_keeps_the_cloud_code_in_details() {
        let rows = [
            (100, ErrorCode::ParameterValueNotValid, 400),
            (131_009, ErrorCode::ParameterValueNotValid, 400),
            (131_008, ErrorCode::RequiredParameterMissing, 400),
            (131_047, ErrorCode::ReEngagementMessage, 400),
            (131_026, ErrorCode::UserNotValid, 400),
            (131_051, ErrorCode::ReceiverIncapable, 501),
            (132_000, ErrorCode::TemplateParamCountMismatch, 400),
            (132_001, ErrorCode::TemplateMissing, 404),
            (132_005, ErrorCode::TemplateHydratedTextTooLong, 400),
            (132_007, ErrorCode::TemplateFormatCharacterPolicyViolated, 400),
            (132_012, ErrorCode::TemplateParameterFormatMismatch, 400),
            (132_015, ErrorCode::TemplatePaused, 400),
            (132_016, ErrorCode::TemplateDisabled, 400),
            (190, ErrorCode::InternalError, 500),
            (999_999, ErrorCode::InternalError, 500),
        ];
        for (cloud, code, http) in rows {
            let e = error(400, cloud);
            assert_eq!(e.disposition(), Disposition::Fail(code), "{cloud}");
            let wa = e.to_wa_error();
            let sync = if code == ErrorCode::ReEngagementMessage { ErrorCode::ParameterValueNotValid } else { code };
            assert_eq!((wa.code(), wa.status), (Some(sync), http), "{cloud}");
            assert!(wa.to_string().contains(&format!("cloud_code={cloud}: what went wrong")), "{cloud}: {wa}");
        }
        assert!(error(401, 190).to_wa_error().to_string().contains("relay upstream authentication failed"));
    }

    #[test]
    fn rate_limits_maintenance_and_server_errors_are_tried_again() {
        for code in [130_429, 131_056, 80_007, 131_057, 2_494_100, 1, 2] {
            assert_eq!(error(400, code).disposition(), Disposition::TryAgain, "{code}");
        }
        assert_eq!(error(503, 0).disposition(), Disposition::TryAgain, "a 5xx without a known code");
        assert_eq!(error(429, 0).disposition(), Disposition::TryAgain);
        let gateway = CloudError::from_answer(502, b"<html>Bad gateway</html>");
        assert_eq!((gateway.code, gateway.disposition()), (0, Disposition::TryAgain));
        assert!(gateway.message.contains("HTTP 502"), "{gateway:?}");
        // A mapped code is final even when Cloud answers it with a 500.
        assert_eq!(error(500, 131_026).disposition(), Disposition::Fail(ErrorCode::UserNotValid));
        let transient = CloudError::from_answer(400, br#"{"error":{"code":100,"is_transient":true,"message":"m"}}"#);
        assert_eq!(transient.disposition(), Disposition::TryAgain, "Cloud's own hint wins");
    }
}
