//! §7.1: template messages, and the currency and date_time parameter shapes hsm shares.

use serde_json::{Map, Value};

use super::fields::{at, filled, given, int_like, opt_array, opt_obj, opt_str, req_array, req_obj, req_str};
use super::media::header_media;
use super::{MediaRef, TemplateButton, TemplateCall, TemplateParameter};
use crate::error::{Problems, WaError, shown};

const WEEKDAYS: [&str; 7] = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"];

/// Where a template parameter appears; decides which parameter types are allowed there
/// (§7.1: media in headers only, payload in quick-reply buttons only, url buttons take text).
#[derive(Debug, Clone, Copy)]
enum Place {
    Header,
    Body,
    QuickReply,
    UrlButton,
    /// A button whose `sub_type` was itself invalid (already reported).
    UnknownButton,
}

impl Place {
    fn allows(self, ty: &str) -> bool {
        match self {
            Place::Header => ty != "payload",
            Place::Body => matches!(ty, "text" | "currency" | "date_time"),
            Place::QuickReply => ty == "payload",
            Place::UrlButton => ty == "text",
            Place::UnknownButton => true,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Place::Header => "component 'header'",
            Place::Body => "component 'body'",
            Place::QuickReply => "button sub_type 'quick_reply'",
            Place::UrlButton => "button sub_type 'url'",
            Place::UnknownButton => "button",
        }
    }
}

const PARAMETER_TYPES: [&str; 7] = ["text", "currency", "date_time", "image", "video", "document", "payload"];

/// §7.1. Namespace and language presence are pass 1's; whether the template exists and the
/// parameters fit it is the registry's, later.
pub(super) fn template(p: &mut Problems, o: &Map<String, Value>, media: &mut Vec<MediaRef>) -> TemplateCall {
    let namespace = opt_str(p, o, "", "namespace").unwrap_or_default().to_owned();
    let name = req_str(p, o, "", "name").unwrap_or_default().to_owned();
    let TemplateLanguage { code: language, policy } = language_of(o);
    let mut call = TemplateCall { namespace, name, language, policy, parameters: Vec::new(), buttons: Vec::new() };
    if let Some(components) = opt_array(p, o, "", "components") {
        for (i, c) in components.iter().enumerate() {
            component(p, &format!("components[{i}]"), c, &mut call, media);
        }
    }
    call
}

/// The language a template send asks for, as [`TemplateCall`] records it.
pub(super) struct TemplateLanguage {
    /// `language.code`, e.g. `en_US`.
    pub(super) code: String,
    /// `language.policy`: `fallback` or `deterministic`.
    pub(super) policy: String,
}

/// `language.code` and `language.policy` (checked in pass 1).
pub(super) fn language_of(o: &Map<String, Value>) -> TemplateLanguage {
    let lang = o.get("language").and_then(Value::as_object);
    let field = |key: &str| lang.and_then(|l| l.get(key)).and_then(Value::as_str).unwrap_or_default().to_owned();
    TemplateLanguage { code: field("code"), policy: field("policy") }
}

fn component(p: &mut Problems, prefix: &str, c: &Value, call: &mut TemplateCall, media: &mut Vec<MediaRef>) {
    let Value::Object(c) = c else {
        p.push(WaError::invalid_value(prefix, &shown(c)));
        return;
    };
    let Some(kind) = req_str(p, c, prefix, "type") else { return };
    match kind {
        "header" | "body" => {
            let place = if kind == "header" { Place::Header } else { Place::Body };
            // Parameters may be omitted: whether the template needs some is the registry's call.
            for (j, v) in opt_array(p, c, prefix, "parameters").unwrap_or_default().iter().enumerate() {
                if let Some(ty) = parameter(p, &format!("{prefix}.parameters[{j}]"), v, place, media) {
                    call.parameters.push(TemplateParameter::new(kind, ty).showing(shown_text(v, ty)));
                }
            }
        }
        "button" => {
            let sub_type = match req_str(p, c, prefix, "sub_type") {
                Some(s @ ("quick_reply" | "url")) => Some(s),
                Some(other) => {
                    p.push(WaError::invalid_value(&at(prefix, "sub_type"), other));
                    None
                }
                None => None,
            };
            let index = match filled(c, "index") {
                None => {
                    p.push(WaError::missing_parameter(&at(prefix, "index")));
                    None
                }
                Some(v) => match int_like(v).filter(|n| *n <= 2).and_then(|n| u8::try_from(n).ok()) {
                    Some(n) => Some(n),
                    None => {
                        p.push(WaError::invalid_value(&at(prefix, "index"), &shown(v)));
                        None
                    }
                },
            };
            let place = match sub_type {
                Some("quick_reply") => Place::QuickReply,
                Some(_) => Place::UrlButton,
                None => Place::UnknownButton,
            };
            // A button component carries nothing but its parameters.
            let Some(params) = req_array(p, c, prefix, "parameters") else { return };
            if params.is_empty() {
                p.push(WaError::missing_parameter(&at(prefix, "parameters")));
            }
            for (j, v) in params.iter().enumerate() {
                if let (Some(ty), Some(s), Some(i)) =
                    (parameter(p, &format!("{prefix}.parameters[{j}]"), v, place, media), sub_type, index)
                {
                    let value = shown_text(v, ty).unwrap_or_default();
                    call.buttons.push(TemplateButton { sub_type: s.to_owned(), index: i, kind: ty.to_owned(), value });
                }
            }
        }
        other => p.push(WaError::invalid_value(&at(prefix, "type"), other)),
    }
}

/// What a valid parameter of type `ty` shows: its text or payload, or the
/// fallback value of a currency or date; `None` for media.
fn shown_text(v: &Value, ty: &str) -> Option<String> {
    let shown = match ty {
        "text" | "payload" => v.get(ty),
        "currency" | "date_time" => v.get(ty).and_then(|o| o.get("fallback_value")),
        _ => None,
    };
    shown.and_then(Value::as_str).map(str::to_owned)
}

/// One template parameter object; returns its type when it is valid at this place.
fn parameter(
    p: &mut Problems,
    prefix: &str,
    v: &Value,
    place: Place,
    media: &mut Vec<MediaRef>,
) -> Option<&'static str> {
    let Value::Object(o) = v else {
        p.push(WaError::invalid_value(prefix, &shown(v)));
        return None;
    };
    let given_type = req_str(p, o, prefix, "type")?;
    let Some(ty) = PARAMETER_TYPES.into_iter().find(|t| *t == given_type) else {
        p.push(WaError::invalid_value(&at(prefix, "type"), given_type));
        return None;
    };
    let allowed = place.allows(ty);
    if !allowed {
        p.push(WaError::invalid(format!(
            "Parameter '{}' has invalid value '{ty}' for {}",
            at(prefix, "type"),
            place.describe()
        )));
    }
    let inner = at(prefix, ty);
    match ty {
        "text" | "payload" => {
            req_str(p, o, prefix, ty);
        }
        "currency" => {
            if let Some(c) = req_obj(p, o, prefix, ty) {
                currency(p, &inner, c, "code", true);
            }
        }
        "date_time" => {
            if let Some(d) = req_obj(p, o, prefix, ty) {
                date_time(p, &inner, d, true);
            }
        }
        _ => {
            if let Some(m) = req_obj(p, o, prefix, ty) {
                header_media(p, m, &inner, ty, media);
            }
        }
    }
    allowed.then_some(ty)
}
/// A currency object: `code_key` is `code` in templates, `currency_code` in hsm; hsm params
/// carry their fallback in `default` instead of `fallback_value`.
pub(super) fn currency(p: &mut Problems, prefix: &str, o: &Map<String, Value>, code_key: &str, with_fallback: bool) {
    if with_fallback {
        req_str(p, o, prefix, "fallback_value");
    }
    if let Some(code) = req_str(p, o, prefix, code_key)
        && !(code.len() == 3 && code.bytes().all(|b| b.is_ascii_alphabetic()))
    {
        p.push(WaError::invalid_value(&at(prefix, code_key), code));
    }
    match filled(o, "amount_1000") {
        None => p.push(WaError::missing_parameter(&at(prefix, "amount_1000"))),
        Some(v) if v.is_i64() || v.is_u64() => {}
        Some(v) => p.push(WaError::invalid_value(&at(prefix, "amount_1000"), &shown(v))),
    }
}

/// A date_time object in any of the three documented shapes: flat component fields, a flat
/// `timestamp`, or the Postman schema's `component` / `unix_epoch` nesting. The shape fields
/// are optional (the fallback alone is a valid parameter); present ones must be well-formed.
pub(super) fn date_time(p: &mut Problems, prefix: &str, o: &Map<String, Value>, with_fallback: bool) {
    if with_fallback {
        req_str(p, o, prefix, "fallback_value");
    }
    date_fields(p, prefix, o);
    if let Some(v) = given(o, "timestamp") {
        timestamp(p, &at(prefix, "timestamp"), v);
    }
    if let Some(c) = opt_obj(p, o, prefix, "component") {
        date_fields(p, &at(prefix, "component"), c);
    }
    let epoch = at(prefix, "unix_epoch");
    if let Some(u) = opt_obj(p, o, prefix, "unix_epoch") {
        match filled(u, "timestamp") {
            None => p.push(WaError::missing_parameter(&at(&epoch, "timestamp"))),
            Some(v) => timestamp(p, &at(&epoch, "timestamp"), v),
        }
    }
}

fn date_fields(p: &mut Problems, prefix: &str, o: &Map<String, Value>) {
    for (key, lo, hi) in
        [("year", 1, 9999), ("month", 1, 12), ("day_of_month", 1, 31), ("hour", 0, 23), ("minute", 0, 59)]
    {
        if let Some(v) = given(o, key)
            && !int_like(v).is_some_and(|n| (lo..=hi).contains(&n))
        {
            p.push(WaError::invalid_value(&at(prefix, key), &shown(v)));
        }
    }
    // 1 = Monday … 7 = Sunday, as a number, a numeric string or (Cloud API style) the name.
    if let Some(v) = given(o, "day_of_week") {
        let numeric = int_like(v).is_some_and(|n| (1..=7).contains(&n));
        let named = v.as_str().is_some_and(|s| WEEKDAYS.iter().any(|d| d.eq_ignore_ascii_case(s)));
        if !numeric && !named {
            p.push(WaError::invalid_value(&at(prefix, "day_of_week"), &shown(v)));
        }
    }
    opt_str(p, o, prefix, "calendar");
}

fn timestamp(p: &mut Problems, name: &str, v: &Value) {
    if int_like(v).is_none() {
        p.push(WaError::invalid_value(name, &shown(v)));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::messages::validate::test_support::*;
    use crate::messages::validate::{MediaRef, MessageType};

    #[test]
    fn template_example_is_accepted() {
        let m = ok(of("template", template_body()));
        assert_eq!(m.kind, MessageType::Template);
        assert!(!m.kind.is_free_form());
        assert_eq!(m.media, [MediaRef::Link { url: "https://example.com/h.jpg".into(), provider: None }]);
        let call = m.template.unwrap();
        assert_eq!(call.namespace, "business_a_namespace");
        assert_eq!(call.name, "order_update");
        assert_eq!(call.language, "en_US");
        assert_eq!(call.policy, "deterministic");
        let pairs: Vec<(&str, &str)> =
            call.parameters.iter().map(|t| (t.component.as_str(), t.kind.as_str())).collect();
        assert_eq!(pairs, [("header", "image"), ("body", "text"), ("body", "currency"), ("body", "date_time")]);
        let buttons: Vec<(&str, u8, &str)> =
            call.buttons.iter().map(|b| (b.sub_type.as_str(), b.index, b.kind.as_str())).collect();
        assert_eq!(buttons, [("quick_reply", 0, "payload"), ("url", 1, "text")]);
        // No components at all is fine (templates without variables).
        assert_eq!(ok(template_with("/components", None)).template.unwrap().parameters, []);
    }

    #[test]
    fn template_name_and_components() {
        assert_eq!(errs(template_with("/name", None)), one(1008, "Missing mandatory parameter 'name'"));
        assert_eq!(codes(template_with("/namespace", Some(json!(5)))), [1009]);
        assert_eq!(codes(template_with("/components", Some(json!({"type": "body"})))), [1009]);
        assert_eq!(
            errs(template_with("/components/0/type", Some(json!("footer")))),
            one(1009, "Parameter 'components[0].type' has invalid value 'footer'")
        );
        assert_eq!(
            errs(template_with("/components/0/type", None)),
            one(1008, "Missing mandatory parameter 'components[0].type'")
        );
        assert_eq!(codes(template_with("/components/0", Some(json!("header")))), [1009]);
    }

    #[test]
    fn template_buttons() {
        assert_eq!(
            errs(template_with("/components/2/sub_type", Some(json!("call")))),
            one(1009, "Parameter 'components[2].sub_type' has invalid value 'call'")
        );
        assert_eq!(
            errs(template_with("/components/2/sub_type", None)),
            one(1008, "Missing mandatory parameter 'components[2].sub_type'")
        );
        assert_eq!(
            errs(template_with("/components/2/index", Some(json!("3")))),
            one(1009, "Parameter 'components[2].index' has invalid value '3'")
        );
        assert_eq!(codes(template_with("/components/2/index", Some(json!(-1)))), [1009]);
        assert_eq!(codes(template_with("/components/2/index", None)), [1008]);
        assert_eq!(ok(template_with("/components/2/index", Some(json!(2)))).template.unwrap().buttons[0].index, 2);
        assert_eq!(codes(template_with("/components/2/parameters", Some(json!([])))), [1008]);
        assert_eq!(codes(template_with("/components/2/parameters", None)), [1008]);
    }

    #[test]
    fn template_parameter_placement() {
        // A quick-reply button takes a payload, a url button a text.
        assert_eq!(
            errs(template_with("/components/2/parameters/0", Some(json!({"type": "text", "text": "x"})))),
            one(
                1009,
                "Parameter 'components[2].parameters[0].type' has invalid value 'text' for button sub_type 'quick_reply'"
            )
        );
        assert_eq!(
            codes(template_with("/components/3/parameters/0", Some(json!({"type": "payload", "payload": "x"})))),
            [1009]
        );
        // Media in the header only; payloads in buttons only.
        assert_eq!(
            codes(template_with("/components/1/parameters/0", Some(json!({"type": "image", "image": {"id": "m"}})))),
            [1009]
        );
        assert_eq!(
            codes(template_with("/components/0/parameters/0", Some(json!({"type": "payload", "payload": "p"})))),
            [1009]
        );
        ok(template_with("/components/0/parameters/0", Some(json!({"type": "text", "text": "Hello"}))));
    }

    #[test]
    fn template_parameter_types() {
        let param = |v: Value| template_with("/components/1/parameters/0", Some(v));
        assert_eq!(
            errs(param(json!({"type": "location"}))),
            one(1009, "Parameter 'components[1].parameters[0].type' has invalid value 'location'")
        );
        assert_eq!(
            errs(param(json!({"text": "x"}))),
            one(1008, "Missing mandatory parameter 'components[1].parameters[0].type'")
        );
        assert_eq!(
            errs(param(json!({"type": "text"}))),
            one(1008, "Missing mandatory parameter 'components[1].parameters[0].text'")
        );
        assert_eq!(codes(param(json!({"type": "text", "text": 5}))), [1009]);
        assert_eq!(codes(param(json!("Jane")))[..], [1009]);
        assert_eq!(
            errs(param(json!({"type": "currency"}))),
            one(1008, "Missing mandatory parameter 'components[1].parameters[0].currency'")
        );
    }

    #[test]
    fn template_currency() {
        let cur = |v: Value| template_with("/components/1/parameters/1/currency", Some(v));
        ok(cur(json!({"fallback_value": "-€5", "code": "eur", "amount_1000": -5000})));
        assert_eq!(
            errs(cur(json!({"fallback_value": "$1", "code": "US", "amount_1000": 1000}))),
            one(1009, "Parameter 'components[1].parameters[1].currency.code' has invalid value 'US'")
        );
        assert_eq!(codes(cur(json!({"fallback_value": "$1", "code": "USD", "amount_1000": 1.5}))), [1009]);
        assert_eq!(codes(cur(json!({"fallback_value": "$1", "code": "USD", "amount_1000": "1000"}))), [1009]);
        assert_eq!(codes(cur(json!({}))), [1008, 1008, 1008]);
    }

    #[test]
    fn template_date_time() {
        let dt = |v: Value| template_with("/components/1/parameters/2/date_time", Some(v));
        ok(dt(
            json!({"fallback_value": "x", "day_of_week": 1, "year": 1977, "month": 2, "day_of_month": 25, "hour": 15, "minute": 33, "calendar": "GREGORIAN"}),
        ));
        ok(dt(json!({"fallback_value": "x", "day_of_week": "7"})));
        ok(dt(json!({"fallback_value": "x", "day_of_week": "monday"})));
        ok(dt(json!({"fallback_value": "x", "timestamp": 1485470276})));
        ok(dt(json!({"fallback_value": "x", "component": {"day_of_week": 5, "month": 2}})));
        ok(dt(json!({"fallback_value": "x", "unix_epoch": {"timestamp": 1485470276}})));
        assert_eq!(
            errs(dt(json!({"day_of_week": 1}))),
            one(1008, "Missing mandatory parameter 'components[1].parameters[2].date_time.fallback_value'")
        );
        assert_eq!(
            errs(dt(json!({"fallback_value": "x", "month": 13}))),
            one(1009, "Parameter 'components[1].parameters[2].date_time.month' has invalid value '13'")
        );
        assert_eq!(codes(dt(json!({"fallback_value": "x", "day_of_week": 8}))), [1009]);
        assert_eq!(codes(dt(json!({"fallback_value": "x", "component": {"hour": 24}}))), [1009]);
        assert_eq!(codes(dt(json!({"fallback_value": "x", "unix_epoch": {}}))), [1008]);
        assert_eq!(codes(dt(json!({"fallback_value": "x", "timestamp": "soon"}))), [1009]);
    }

    #[test]
    fn template_header_media() {
        let media = |v: Value| template_with("/components/0/parameters/0/image", Some(v));
        assert_eq!(
            errs(media(json!({}))),
            one(1008, "Atleast one of the following parameters must be present: 'id', 'link'")
        );
        assert_eq!(codes(media(json!({"id": "a", "link": "https://a.b"}))), [1010]);
        assert_eq!(codes(media(json!({"link": "file:///etc/passwd"}))), [1009]);
        assert_eq!(codes(media(json!({"id": "a", "filename": "x.jpg"}))), [1010]);
        assert_eq!(ok(media(json!({"id": "a"}))).media, [MediaRef::Id("a".into())]);
        let doc = json!({"type": "document", "document": {"id": "d", "filename": "x.pdf"}});
        ok(template_with("/components/0/parameters/0", Some(doc)));
    }
}
