//! §7.2: hsm messages.

use serde_json::{Map, Value};

use super::fields::{at, opt_array, opt_obj, opt_str, req_str};
use super::template::{TemplateLanguage, currency, date_time, language_of};
use super::{TemplateCall, TemplateParameter};
use crate::error::{Problems, WaError, shown};

/// §7.2: a body-only template. Presence of `namespace`, `element_name` and the language is
/// pass 1's; here the value types and `localizable_params`.
pub(super) fn hsm(p: &mut Problems, o: &Map<String, Value>) -> TemplateCall {
    let namespace = opt_str(p, o, "", "namespace").unwrap_or_default().to_owned();
    let name = opt_str(p, o, "", "element_name").unwrap_or_default().to_owned();
    let TemplateLanguage { code: language, policy } = if o.get("language").is_some_and(Value::is_object) {
        language_of(o)
    } else {
        // The very old pair names a language and a locale, and meant fallback matching.
        let lg = opt_str(p, o, "", "fallback_lg").unwrap_or_default();
        let lc = opt_str(p, o, "", "fallback_lc").unwrap_or_default();
        TemplateLanguage { code: format!("{lg}_{lc}"), policy: "fallback".to_owned() }
    };
    let mut parameters = Vec::new();
    for (i, v) in opt_array(p, o, "", "localizable_params").unwrap_or_default().iter().enumerate() {
        let prefix = format!("localizable_params[{i}]");
        let Value::Object(lp) = v else {
            p.push(WaError::invalid_value(&prefix, &shown(v)));
            continue;
        };
        req_str(p, lp, &prefix, "default");
        let mut ty = "text";
        if let Some(c) = opt_obj(p, lp, &prefix, "currency") {
            currency(p, &at(&prefix, "currency"), c, "currency_code", false);
            ty = "currency";
        }
        if let Some(d) = opt_obj(p, lp, &prefix, "date_time") {
            date_time(p, &at(&prefix, "date_time"), d, false);
            if ty == "text" {
                ty = "date_time";
            }
        }
        let shown = lp.get("default").and_then(Value::as_str).map(str::to_owned);
        parameters.push(TemplateParameter::new("body", ty).showing(shown));
    }
    TemplateCall { namespace, name, language, policy, parameters, buttons: Vec::new() }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::messages::validate::test_support::*;

    #[test]
    fn hsm_example_is_accepted() {
        let call = ok(of("hsm", hsm_body())).template.unwrap();
        assert_eq!((call.namespace.as_str(), call.name.as_str()), ("business_a_namespace", "hello_world"));
        assert_eq!((call.language.as_str(), call.policy.as_str()), ("en", "deterministic"));
        let types: Vec<&str> = call
            .parameters
            .iter()
            .map(|t| {
                assert_eq!(t.component, "body");
                t.kind.as_str()
            })
            .collect();
        assert_eq!(types, ["text", "currency", "date_time", "date_time"]);
        assert!(call.buttons.is_empty());
    }

    #[test]
    fn hsm_required_fields() {
        let mut h = map(hsm_body());
        h.remove("element_name");
        h.remove("namespace");
        assert_eq!(
            errs(of("hsm", Value::Object(h))),
            [
                (1008, "Parameter 'namespace' is mandatory for type 'hsm'".to_owned()),
                (1008, "Parameter 'element_name' is mandatory for type 'hsm'".to_owned())
            ]
        );
    }

    #[test]
    fn hsm_languages() {
        let mut h = map(hsm_body());
        h.remove("language");
        assert_eq!(
            errs(of("hsm", Value::Object(h.clone()))),
            [
                (1008, "Atleast one of the following parameters must be present: 'language', 'fallback_lg'".to_owned()),
                (1008, "Atleast one of the following parameters must be present: 'language', 'fallback_lc'".to_owned())
            ]
        );
        h.insert("fallback_lg".into(), json!("en"));
        h.insert("fallback_lc".into(), json!("US"));
        let call = ok(of("hsm", Value::Object(h))).template.unwrap();
        assert_eq!((call.language.as_str(), call.policy.as_str()), ("en_US", "fallback"));
    }

    #[test]
    fn hsm_localizable_params() {
        let mut h = hsm_body();
        h["localizable_params"] = json!([{"currency": {"currency_code": "USD", "amount_1000": 1}}, 5]);
        assert_eq!(
            errs(of("hsm", h.clone())),
            [
                (1008, "Missing mandatory parameter 'localizable_params[0].default'".to_owned()),
                (1009, "Parameter 'localizable_params[1]' has invalid value '5'".to_owned())
            ]
        );
        h["localizable_params"] = json!([{"default": "x", "currency": {"currency_code": "DOLLAR", "amount_1000": 1}}]);
        assert_eq!(codes(of("hsm", h.clone())), [1009]);
        h["localizable_params"] = json!({"default": "x"});
        assert_eq!(codes(of("hsm", h)), [1009]);
    }
}
