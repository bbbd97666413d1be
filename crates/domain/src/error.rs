//! The On-Premises error model, in one place.
//!
//! Every failure that reaches a client, synchronously in an HTTP response or
//! later in a webhook, is a list of `{code, title, details?, href?}` items. The
//! code decides the title and the default HTTP status (`errors.md` §4); a few
//! framework-level failures override the status (401 for authentication
//! failures carrying 1005, 405 for an unrouted method carrying 1014).

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use serde::Serialize;
use serde::ser::{SerializeStruct, Serializer};

/// Declares the code table once: variant, numeric code, Meta's title, HTTP status
/// when returned synchronously (`None` for codes only seen in webhooks; those map
/// to 500 if ever returned synchronously).
macro_rules! error_codes {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, $title:literal, $status:expr; )*) => {
        /// An On-Premises error code (`errors.md` §4).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant, )*
        }

        impl ErrorCode {
            /// Every code of the table, in table order.
            pub const ALL: &'static [ErrorCode] = &[ $( ErrorCode::$variant, )* ];

            /// The numeric code clients see.
            pub const fn code(self) -> u16 {
                match self { $( ErrorCode::$variant => $code, )* }
            }

            /// Meta's title for the code (the one current clients log and match on).
            pub const fn title(self) -> &'static str {
                match self { $( ErrorCode::$variant => $title, )* }
            }

            /// The HTTP status used when the code is returned synchronously.
            pub const fn http_status(self) -> u16 {
                let status: Option<u16> = match self { $( ErrorCode::$variant => $status, )* };
                match status { Some(s) => s, None => 500 }
            }

            /// Looks a numeric code up in the table.
            pub fn from_code(code: u16) -> Option<ErrorCode> {
                match code { $( $code => Some(ErrorCode::$variant), )* _ => None }
            }
        }
    };
}

error_codes! {
    // Delivery / status codes, mostly seen in webhooks (§4.1).
    MediaDownloadError = 400, "Media download error", None;
    PaymentIssue = 402, "Business eligibility — Payment issue", None;
    MessageNotValid = 408, "Message is not valid", None;
    MessageExpired = 410, "Message expired", None;
    RateLimitHit = 429, "Rate limit hit", None;
    UnsignedCertificate = 430, "Unsigned certificate", None;
    CertificateIdMismatch = 432, "Certificate ID mismatch", None;
    CertificateSignatureInvalid = 433, "Certificate signature invalid", None;
    ReEngagementMessage = 470, "Re-engagement message", None;
    SpamRateLimitHit = 471, "Spam rate limit hit", None;
    UserInExperiment = 472, "User's number is part of an experiment", None;
    UserPotentiallyChanged = 480, "User potentially changed", None;
    GenericDeliveryError = 500, "Generic error", None;
    UnsupportedMessageType = 501, "Message type is not currently supported", None;
    // Application codes (§4.2).
    GenericError = 1000, "Generic error", Some(500);
    MessageTooLong = 1001, "Message too long", Some(400);
    InvalidRecipientType = 1002, "Invalid recipient type", Some(400);
    NotGroupParticipant = 1003, "Not a group participant", Some(400);
    ResourceAlreadyExists = 1004, "Resource already exists", Some(409);
    AccessDenied = 1005, "Access denied", Some(403);
    ResourceNotFound = 1006, "Resource not found", Some(404);
    RecipientBlocked = 1007, "Recipient blocked to receive message", Some(403);
    RequiredParameterMissing = 1008, "Required parameter is missing", Some(400);
    ParameterValueNotValid = 1009, "Parameter value is not valid", Some(400);
    ParameterNotRequired = 1010, "Parameter is not required", Some(400);
    ServiceNotReady = 1011, "Service not ready", Some(500);
    GroupUnknown = 1012, "Group is unknown", Some(404);
    UserNotValid = 1013, "User is not valid", Some(400);
    InternalError = 1014, "Internal error", Some(500);
    TooManyRequests = 1015, "Too many requests", Some(429);
    SystemOverloaded = 1016, "System overloaded", Some(503);
    NotPrimaryMaster = 1017, "Not Primary Master", Some(500);
    NotPrimaryCoreapp = 1018, "Not Primary Coreapp", Some(500);
    NotGroupAdmin = 1019, "Not a group admin", Some(400);
    BadGroup = 1020, "Bad group", Some(400);
    BadUser = 1021, "Bad User", Some(400);
    WebhooksUrlNotConfigured = 1022, "Webhooks URL is not configured", Some(412);
    DatabaseError = 1023, "Database error occurred", Some(500);
    PasswordChangeRequired = 1024, "Password Change Required", Some(401);
    InvalidRequest = 1025, "Invalid Request", Some(400);
    ReceiverIncapable = 1026, "Receiver Incapable", Some(501);
    IdentityChangeAckRequired = 1028, "A user_identity_changed system notification requires acknowledgement", Some(400);
    SenderAccountLocked = 1031, "Sender account has been locked", Some(403);
    // Template / message-structure codes (§4.3).
    TemplateParamCountMismatch = 2000, "Template Param Count Mismatch", Some(400);
    TemplateMissing = 2001, "Template Missing", Some(404);
    TemplateFetchFailed = 2002, "Template Fetch Failed", Some(404);
    TemplatePackMissing = 2003, "Template Pack Missing", Some(404);
    TemplateParamLengthTooLong = 2004, "Template Param Length Too Long", Some(400);
    TemplateHydratedTextTooLong = 2005, "Template Hydrated Text Too Long", Some(400);
    TemplateWhiteSpacePolicyViolated = 2006, "Template White Space Policy Violated", Some(400);
    TemplateFormatCharacterPolicyViolated = 2007, "Template Format Character Policy Violated", Some(400);
    TemplateMediaFormatUnsupported = 2008, "Template Media Format Unsupported", Some(400);
    TemplateRequiredComponentMissing = 2009, "Template Required Component Missing", Some(400);
    TemplateInvalidHydratedUrl = 2010, "Template Invalid Hydrated URL", Some(400);
    TemplateInvalidPhoneNumber = 2011, "Template Invalid Phone Number", Some(400);
    TemplateParameterFormatMismatch = 2012, "Template Parameter Format Mismatch", Some(400);
    TemplateButtonsUnsupported = 2013, "Template Buttons Unsupported", Some(501);
    ExpectedNamespaceEmpty = 2014, "Expected Namespace is Empty", Some(400);
    InvalidNumberOfSections = 2015, "Invalid number of sections", Some(400);
    InvalidNumberOfRows = 2016, "Invalid number of rows", Some(400);
    CharacterPolicyViolated = 2017, "Character Policy Violated", Some(400);
    InvalidNumberOfProducts = 2023, "Invalid number of product", Some(400);
    CatalogIdNotFound = 2024, "Catalog ID not found", Some(400);
    CatalogIdNotLinked = 2025, "Catalog ID not linked to API number", Some(400);
    MissingProducts = 2026, "Missing products", Some(400);
    NoProductsFound = 2027, "No products found", Some(400);
    ListAllProductsFailedCompliance = 2028, "List all products failed compliance", Some(400);
    ListSomeProductsFailedCompliance = 2029, "List some products failed compliance", Some(400);
    ListMixedProductsInvalid = 2030, "List mixed products invalid and failed compliance", Some(400);
    InvalidHeaderStructure = 2036, "Invalid Header Structure", Some(400);
    MissingComplianceInfo = 2050, "Missing Compliance Info", Some(400);
    TemplateRejected = 2060, "Template Rejected", Some(400);
    TemplatePaused = 2061, "Template Paused", Some(400);
    TemplateDisabled = 2062, "Template Disabled", Some(400);
    FlowBlocked = 2068, "Flow is blocked", Some(400);
    FlowThrottled = 2069, "Flow is throttled", Some(400);
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code(), self.title())
    }
}

/// One item of an `errors` array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorItem {
    pub code: ErrorCode,
    /// `None` means "no details key at all" (the Webapp omits empty details).
    pub details: Option<Cow<'static, str>>,
    pub href: Option<Cow<'static, str>>,
}

impl ErrorItem {
    pub fn new(code: ErrorCode, details: impl Into<Cow<'static, str>>) -> Self {
        Self { code, details: Some(details.into()), href: None }
    }

    pub fn bare(code: ErrorCode) -> Self {
        Self { code, details: None, href: None }
    }
}

impl Serialize for ErrorItem {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let len = 2 + usize::from(self.details.is_some()) + usize::from(self.href.is_some());
        let mut st = s.serialize_struct("ErrorItem", len)?;
        st.serialize_field("code", &self.code.code())?;
        st.serialize_field("title", self.code.title())?;
        if let Some(d) = &self.details {
            st.serialize_field("details", d)?;
        }
        if let Some(h) = &self.href {
            st.serialize_field("href", h)?;
        }
        st.end()
    }
}

/// A failed request: an HTTP status and one or more error items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaError {
    pub status: u16,
    pub errors: Vec<ErrorItem>,
    /// What failed underneath (a storage engine's message), for the log only:
    /// it may hold SQL or paths, so it is never rendered to a client. The
    /// error is logged once, with it, where it is rendered or dropped.
    cause: Option<Arc<str>>,
}

impl WaError {
    /// One error with details; the status is the code's default.
    pub fn new(code: ErrorCode, details: impl Into<Cow<'static, str>>) -> Self {
        Self { status: code.http_status(), errors: vec![ErrorItem::new(code, details)], cause: None }
    }

    /// One error without details.
    pub fn bare(code: ErrorCode) -> Self {
        Self { status: code.http_status(), errors: vec![ErrorItem::bare(code)], cause: None }
    }

    /// Several errors in one response. As in the Webapp, the status of the last
    /// one wins. Returns `None` for an empty list.
    pub fn many(errors: Vec<ErrorItem>) -> Option<Self> {
        let status = errors.last()?.code.http_status();
        Some(Self { status, errors, cause: None })
    }

    /// Keeps what failed underneath, for the log.
    pub fn with_cause(mut self, cause: impl fmt::Display) -> Self {
        self.cause = Some(Arc::from(cause.to_string()));
        self
    }

    /// What failed underneath, if known (for the log only).
    pub fn cause(&self) -> Option<&str> {
        self.cause.as_deref()
    }

    /// Overrides the HTTP status (401 for authentication failures, 405, …).
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    /// The first error's code (what most callers branch on).
    pub fn code(&self) -> Option<ErrorCode> {
        self.errors.first().map(|e| e.code)
    }

    // ---- the Webapp's standard wordings (errors.md §5, users-auth.md §1.2) ----

    /// 1008 `Missing mandatory parameter '<name>'`.
    pub fn missing_parameter(name: &str) -> Self {
        Self::new(ErrorCode::RequiredParameterMissing, format!("Missing mandatory parameter '{name}'"))
    }

    /// 1009 `Parameter '<name>' has invalid value '<value>'`.
    pub fn invalid_value(name: &str, value: &str) -> Self {
        Self::new(ErrorCode::ParameterValueNotValid, format!("Parameter '{name}' has invalid value '{value}'"))
    }

    /// 1008 `Atleast one of the following parameters must be present: 'a', 'b'` (sic).
    pub fn missing_parameter_of(names: &[&str]) -> Self {
        let list = names.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ");
        Self::new(
            ErrorCode::RequiredParameterMissing,
            format!("Atleast one of the following parameters must be present: {list}"),
        )
    }

    /// 1010 `Exactly one of the following parameters must be present: 'a', 'b'`.
    pub fn exactly_one_of(names: &[&str]) -> Self {
        let list = names.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ");
        Self::new(
            ErrorCode::ParameterNotRequired,
            format!("Exactly one of the following parameters must be present: {list}"),
        )
    }

    /// 1009 `Parameter '<name>' has invalid value '<value>'` for a JSON value:
    /// a string is shown as it is, anything else as JSON.
    pub fn invalid_json_value(name: &str, value: &serde_json::Value) -> Self {
        Self::invalid_value(name, &shown(value))
    }

    /// 1009 with free-form details.
    pub fn invalid(details: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::ParameterValueNotValid, details)
    }

    /// 404/1006 with the given details.
    pub fn not_found(details: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::ResourceNotFound, details)
    }

    /// 404/1006 `URL path not found`: the router found nothing.
    pub fn path_not_found() -> Self {
        Self::not_found("URL path not found")
    }

    /// 405/1014 without details: the path exists but not for this method.
    pub fn method_not_allowed() -> Self {
        Self::bare(ErrorCode::InternalError).with_status(405)
    }

    /// 401/1005: authentication failed.
    pub fn unauthenticated(details: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::AccessDenied, details).with_status(401)
    }

    /// 403/1005: authenticated, but not allowed.
    pub fn forbidden(details: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::AccessDenied, details)
    }

    /// 500/1014 with details (never internal secrets: they go to the log).
    pub fn internal(details: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InternalError, details)
    }

    /// 429/1015 with details.
    pub fn too_many_requests(details: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::TooManyRequests, details)
    }

    /// 400/1025 `Unable to decode the request: <reason>`.
    pub fn undecodable(reason: &str) -> Self {
        Self::new(ErrorCode::InvalidRequest, format!("Unable to decode the request: {reason}"))
    }
}

impl fmt::Display for WaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}", self.status)?;
        for e in &self.errors {
            write!(f, "; {}", e.code)?;
            if let Some(d) = &e.details {
                write!(f, ": {d}")?;
            }
        }
        if let Some(cause) = &self.cause {
            write!(f, " (caused by: {cause})")?;
        }
        Ok(())
    }
}

impl std::error::Error for WaError {}

/// How a JSON value appears in `… has invalid value '<value>'`: a string as it
/// is, anything else as JSON.
pub fn shown(v: &serde_json::Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
}

/// Collects validation problems so that one response reports all of them
/// (`errors.md` §2.1: request-level validation accumulates).
#[derive(Debug, Default)]
pub struct Problems(Vec<ErrorItem>);

impl Problems {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, err: WaError) {
        self.0.extend(err.errors);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(())` when nothing was pushed, otherwise all problems in one error.
    pub fn into_result(self) -> Result<(), WaError> {
        match WaError::many(self.0) {
            None => Ok(()),
            Some(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for c in ErrorCode::ALL {
            assert!(seen.insert(c.code()), "duplicate code {}", c.code());
            assert_eq!(ErrorCode::from_code(c.code()), Some(*c));
            assert!(!c.title().is_empty());
        }
        assert_eq!(ErrorCode::from_code(1027), None);
    }

    #[test]
    fn statuses_follow_the_webapp_map() {
        let expect = [
            (1000, 500),
            (1004, 409),
            (1005, 403),
            (1006, 404),
            (1008, 400),
            (1011, 500),
            (1015, 429),
            (1016, 503),
            (1022, 412),
            (1024, 401),
            (1026, 501),
            (2001, 404),
            (2013, 501),
            (470, 500),
        ];
        for (code, status) in expect {
            let c = ErrorCode::from_code(code).unwrap_or_else(|| panic!("code {code} missing"));
            assert_eq!(c.http_status(), status, "code {code}");
        }
    }

    #[test]
    fn details_key_is_omitted_when_empty() {
        let v = serde_json::to_value(ErrorItem::bare(ErrorCode::InternalError)).unwrap();
        assert_eq!(v, serde_json::json!({"code": 1014, "title": "Internal error"}));
        let v = serde_json::to_value(ErrorItem::new(ErrorCode::ResourceNotFound, "x")).unwrap();
        assert_eq!(v, serde_json::json!({"code": 1006, "title": "Resource not found", "details": "x"}));
    }

    #[test]
    fn several_errors_take_the_status_of_the_last() {
        let mut p = Problems::new();
        p.push(WaError::missing_parameter("to"));
        p.push(WaError::not_found("gone"));
        let e = p.into_result().unwrap_err();
        assert_eq!(e.errors.len(), 2);
        assert_eq!(e.status, 404);
        assert!(Problems::new().into_result().is_ok());
    }
}
