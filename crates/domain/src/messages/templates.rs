//! The approved-template registry of the simulated network
//! (`/simulator/templates`) and the check of template and hsm sends against it.
//!
//! Templates are written the way the Business Management API creates them:
//! `HEADER` (format `TEXT`, `IMAGE`, `VIDEO`, `DOCUMENT` or `LOCATION`), `BODY`,
//! `FOOTER`, `BUTTONS`, with `{{1}}`-style placeholders. A send that does not
//! fit is still accepted (201); it then fails by status with the 2000-range
//! code (`errors.md` §3).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::validate::TemplateCall;
use crate::error::{ErrorCode, ErrorItem, Problems, WaError};
use crate::ports::TemplateRecord;

/// A registered template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    pub namespace: String,
    pub name: String,
    pub language: String,
    /// As given (`HEADER`, `BODY`, …), kept for listing.
    pub components: Value,
    /// `MARKETING`, `UTILITY` (the default) or `AUTHENTICATION`: the pricing
    /// category of its conversations.
    #[serde(default = "default_category")]
    pub category: String,
    /// Where the template is in its review; only approved ones can be sent.
    #[serde(default)]
    pub status: TemplateStatus,
    /// The reason given with the status (a rejection's, a pause's), if any.
    #[serde(default)]
    pub reason: Option<String>,
}

/// A template's review status, as the Business Management API reports it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum TemplateStatus {
    #[default]
    Approved,
    Pending,
    Rejected,
    Paused,
    Disabled,
}

impl TemplateStatus {
    pub const ALL: [TemplateStatus; 5] = [Self::Approved, Self::Pending, Self::Rejected, Self::Paused, Self::Disabled];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Approved => "APPROVED",
            Self::Pending => "PENDING",
            Self::Rejected => "REJECTED",
            Self::Paused => "PAUSED",
            Self::Disabled => "DISABLED",
        }
    }

    /// Reads a status, in any case.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str().eq_ignore_ascii_case(s))
    }

    /// The code a send with a template in this status fails with, if it
    /// does (`errors.md`: a template not approved is missing, 2001; the
    /// others have codes of their own).
    pub const fn refusal(self) -> Option<ErrorCode> {
        match self {
            Self::Approved => None,
            Self::Pending => Some(ErrorCode::TemplateMissing),
            Self::Rejected => Some(ErrorCode::TemplateRejected),
            Self::Paused => Some(ErrorCode::TemplatePaused),
            Self::Disabled => Some(ErrorCode::TemplateDisabled),
        }
    }
}

/// A required, non-blank string field of a registry request.
fn required_text(p: &mut Problems, body: &Map<String, Value>, key: &str) -> String {
    match body.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        None | Some(Value::Null) => {
            p.push(WaError::missing_parameter(key));
            String::new()
        }
        Some(other) => {
            p.push(WaError::invalid_json_value(key, other));
            String::new()
        }
    }
}

/// The optional `reason` given with a status.
fn optional_reason(p: &mut Problems, body: &Map<String, Value>) -> Option<String> {
    match body.get("reason") {
        None | Some(Value::Null) => None,
        Some(Value::String(r)) => Some(r.clone()),
        Some(other) => {
            p.push(WaError::invalid_json_value("reason", other));
            None
        }
    }
}

/// A status change (`PATCH /simulator/templates`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    pub namespace: String,
    pub name: String,
    pub language: String,
    pub status: TemplateStatus,
    pub reason: Option<String>,
}

impl StatusChange {
    /// Reads `namespace`, `name`, `language`, `status` and an optional `reason`.
    pub fn parse(body: &Map<String, Value>) -> Result<StatusChange, WaError> {
        let mut p = Problems::new();
        let mut text = |key: &str| required_text(&mut p, body, key);
        let (namespace, name, language, status) = (text("namespace"), text("name"), text("language"), text("status"));
        let status = match TemplateStatus::parse(&status) {
            Some(s) => s,
            None => {
                if !status.is_empty() {
                    p.push(WaError::invalid_value("status", &status));
                }
                TemplateStatus::Approved
            }
        };
        let reason = optional_reason(&mut p, body);
        p.into_result()?;
        Ok(StatusChange { namespace, name, language, status, reason })
    }
}

/// The categories the Business Management API gives templates.
pub const CATEGORIES: [&str; 3] = ["MARKETING", "UTILITY", "AUTHENTICATION"];

fn default_category() -> String {
    "UTILITY".to_owned()
}

const HEADER_FORMATS: [&str; 5] = ["TEXT", "IMAGE", "VIDEO", "DOCUMENT", "LOCATION"];

/// The highest `{{n}}` in a text (placeholders are numbered from 1).
fn placeholders(text: &str) -> usize {
    let mut max = 0;
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                if let Ok(n) = after[..end].trim().parse::<usize>() {
                    max = max.max(n);
                }
                rest = &after[end + 2..];
            }
            None => break,
        }
    }
    max
}

pub(super) fn component<'a>(components: &'a Value, kind: &str) -> Option<&'a Map<String, Value>> {
    components
        .as_array()?
        .iter()
        .filter_map(Value::as_object)
        .find(|c| c.get("type").and_then(Value::as_str) == Some(kind))
}

impl Template {
    /// A stored template; `None` if its components are not JSON (a
    /// hand-edited row), which no send can match.
    pub fn from_record(r: TemplateRecord) -> Option<Template> {
        let components = serde_json::from_str(&r.components).ok()?;
        // A status this build does not know (a hand edit) is not approved.
        let status = TemplateStatus::parse(&r.status).unwrap_or(TemplateStatus::Pending);
        Some(Template {
            namespace: r.namespace,
            name: r.name,
            language: r.language,
            components,
            category: r.category,
            status,
            reason: r.reason,
        })
    }

    /// The template as stored, registered at `now` (Unix seconds).
    pub fn to_record(&self, now: i64) -> TemplateRecord {
        TemplateRecord {
            namespace: self.namespace.clone(),
            name: self.name.clone(),
            language: self.language.clone(),
            components: self.components.to_string(),
            created_at: now,
            category: self.category.clone(),
            status: self.status.as_str().to_owned(),
            reason: self.reason.clone(),
        }
    }

    /// Reads a registry POST body: `namespace`, `name`, `language` (code) and
    /// `components` with one `BODY`.
    pub fn parse(body: &Map<String, Value>) -> Result<Template, WaError> {
        let mut p = Problems::new();
        let mut text = |key: &str| required_text(&mut p, body, key);
        let (namespace, name, language) = (text("namespace"), text("name"), text("language"));
        let category = match body.get("category") {
            None | Some(Value::Null) => default_category(),
            Some(Value::String(c)) if CATEGORIES.contains(&c.to_ascii_uppercase().as_str()) => c.to_ascii_uppercase(),
            Some(other) => {
                p.push(WaError::invalid_json_value("category", other));
                String::new()
            }
        };
        let status = match body.get("status") {
            None | Some(Value::Null) => TemplateStatus::Approved,
            Some(v) => v.as_str().and_then(TemplateStatus::parse).unwrap_or_else(|| {
                p.push(WaError::invalid_json_value("status", v));
                TemplateStatus::Approved
            }),
        };
        let reason = optional_reason(&mut p, body);
        let components = body.get("components").cloned().unwrap_or(Value::Null);
        match &components {
            Value::Array(items) => {
                let mut bodies = 0;
                for c in items {
                    let kind = c.get("type").and_then(Value::as_str).unwrap_or_default();
                    match kind {
                        "BODY" => {
                            bodies += 1;
                            if c.get("text").and_then(Value::as_str).is_none_or(str::is_empty) {
                                p.push(WaError::missing_parameter("components.BODY.text"));
                            }
                        }
                        "HEADER" => {
                            let format = c.get("format").and_then(Value::as_str).unwrap_or("TEXT");
                            if !HEADER_FORMATS.contains(&format) {
                                p.push(WaError::invalid_value("components.HEADER.format", format));
                            }
                        }
                        "FOOTER" | "BUTTONS" => {}
                        other => p.push(WaError::invalid_value("components.type", other)),
                    }
                }
                if bodies != 1 {
                    p.push(WaError::invalid("A template needs exactly one BODY component"));
                }
            }
            Value::Null => p.push(WaError::missing_parameter("components")),
            other => p.push(WaError::invalid_value("components", &other.to_string())),
        }
        p.into_result()?;
        Ok(Template { namespace, name, language, components, category, status, reason })
    }

    fn header_format(&self) -> Option<&str> {
        component(&self.components, "HEADER").map(|h| h.get("format").and_then(Value::as_str).unwrap_or("TEXT"))
    }

    /// The text of the component `kind` (`HEADER`, `BODY`…), empty if none.
    pub(super) fn text_of(&self, kind: &str) -> &str {
        component(&self.components, kind).and_then(|c| c.get("text")).and_then(Value::as_str).unwrap_or("")
    }
}

fn failure(code: ErrorCode, details: String) -> ErrorItem {
    ErrorItem::new(code, details)
}

/// Checks a send against the templates registered under its namespace and
/// name (all languages). `None` means it fits.
pub fn check(call: &TemplateCall, same_name: &[Template]) -> Option<ErrorItem> {
    let Some(t) = same_name.iter().find(|t| t.language == call.language) else {
        let details = if same_name.is_empty() {
            format!("Template '{}' does not exist in namespace '{}'", call.name, call.namespace)
        } else {
            format!("Template '{}' does not exist in language '{}'", call.name, call.language)
        };
        return Some(failure(ErrorCode::TemplateMissing, details));
    };
    if let Some(code) = t.status.refusal() {
        let mut details =
            format!("Template '{}' in language '{}' is {}", call.name, call.language, t.status.as_str().to_lowercase());
        if let Some(reason) = &t.reason {
            details.push_str(": ");
            details.push_str(reason);
        }
        return Some(failure(code, details));
    }
    let given = |component: &str| call.parameters.iter().filter(|t| t.component == component).collect::<Vec<_>>();

    // Header: media templates need one media parameter of their format.
    let header = given("header");
    match t.header_format() {
        Some(format @ ("IMAGE" | "VIDEO" | "DOCUMENT")) => {
            let want = format.to_ascii_lowercase();
            match header.as_slice() {
                [] => {
                    return Some(failure(
                        ErrorCode::TemplateRequiredComponentMissing,
                        format!("The template's {want} header needs a header parameter"),
                    ));
                }
                [given] if given.kind == want => {}
                _ => {
                    return Some(failure(
                        ErrorCode::TemplateParameterFormatMismatch,
                        format!("The template's header takes one {want} parameter"),
                    ));
                }
            }
        }
        _ => {
            let expected = placeholders(t.text_of("HEADER"));
            if header.len() != expected {
                return Some(failure(
                    ErrorCode::TemplateParamCountMismatch,
                    format!("Header: {expected} parameters expected, {} given", header.len()),
                ));
            }
            if let Some(kind) =
                header.iter().map(|t| &t.kind).find(|k| matches!(k.as_str(), "image" | "video" | "document"))
            {
                return Some(failure(
                    ErrorCode::TemplateParameterFormatMismatch,
                    format!("The template's header is text, not {kind}"),
                ));
            }
        }
    }
    let body = given("body");
    let expected = placeholders(t.text_of("BODY"));
    if body.len() != expected {
        return Some(failure(
            ErrorCode::TemplateParamCountMismatch,
            format!("Body: {expected} parameters expected, {} given", body.len()),
        ));
    }
    super::template_policy::check_buttons(t, call).or_else(|| super::template_policy::check_texts(t, call))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn template(components: Value) -> Template {
        Template::parse(
            json!({"namespace": "ns", "name": "order_update", "language": "en_US", "components": components})
                .as_object()
                .unwrap(),
        )
        .unwrap()
    }

    fn call(language: &str, parameters: &[(&str, &str)]) -> TemplateCall {
        TemplateCall {
            namespace: "ns".into(),
            name: "order_update".into(),
            language: language.into(),
            policy: "deterministic".into(),
            parameters: parameters
                .iter()
                .map(|(c, k)| crate::messages::validate::TemplateParameter::new(c, k))
                .collect(),
            buttons: vec![],
        }
    }

    #[test]
    fn placeholder_counting() {
        assert_eq!(placeholders("Hi {{1}}, order {{2}} ships {{3}}"), 3);
        assert_eq!(placeholders("no params"), 0);
        assert_eq!(placeholders("{{2}} then {{1}}"), 2);
        assert_eq!(placeholders("{{ 1 }} and {{x}} and {{"), 1);
    }

    #[test]
    fn registry_entries_are_checked() {
        let bad = |v: Value| Template::parse(v.as_object().unwrap()).is_err();
        assert!(bad(json!({"name": "t", "language": "en", "components": [{"type": "BODY", "text": "x"}]})));
        assert!(bad(json!({"namespace": "n", "name": "t", "language": "en", "components": []})));
        assert!(bad(json!({"namespace": "n", "name": "t", "language": "en", "components": [{"type": "BODY"}]})));
        assert!(bad(json!({"namespace": "n", "name": "t", "language": "en",
            "components": [{"type": "HEADER", "format": "GIF"}, {"type": "BODY", "text": "x"}]})));
        assert!(bad(
            json!({"namespace": "n", "name": "t", "language": "en", "components": [{"type": "BODY", "text": "x"}, {"type": "BODY", "text": "y"}]})
        ));
    }

    #[test]
    fn sends_are_checked_against_the_registry() {
        let t =
            template(json!([{"type": "HEADER", "format": "IMAGE"}, {"type": "BODY", "text": "Hi {{1}}, total {{2}}"}]));
        let code = |c: &TemplateCall, reg: &[Template]| check(c, reg).map(|e| e.code.code());
        let ok = call("en_US", &[("header", "image"), ("body", "text"), ("body", "currency")]);
        assert_eq!(code(&ok, std::slice::from_ref(&t)), None);
        assert_eq!(code(&ok, &[]), Some(2001), "unknown template");
        assert_eq!(code(&call("pt_BR", &[]), std::slice::from_ref(&t)), Some(2001), "unknown language");
        assert_eq!(
            code(&call("en_US", &[("header", "image"), ("body", "text")]), std::slice::from_ref(&t)),
            Some(2000)
        );
        assert_eq!(code(&call("en_US", &[("body", "text"), ("body", "text")]), std::slice::from_ref(&t)), Some(2009));
        assert_eq!(
            code(&call("en_US", &[("header", "video"), ("body", "text"), ("body", "text")]), std::slice::from_ref(&t)),
            Some(2012)
        );
        let text_header = template(
            json!([{"type": "HEADER", "format": "TEXT", "text": "Order {{1}}"}, {"type": "BODY", "text": "Hello"}]),
        );
        assert_eq!(code(&call("en_US", &[("header", "text")]), std::slice::from_ref(&text_header)), None);
        assert_eq!(code(&call("en_US", &[]), std::slice::from_ref(&text_header)), Some(2000));
        assert_eq!(code(&call("en_US", &[("header", "image")]), std::slice::from_ref(&text_header)), Some(2000 + 12));
    }
}
