//! Pass 1: the Webapp's checks of the request envelope.

use serde_json::{Map, Value};

use super::fields::{filled, given, mandatory_for, not_required_for, php_empty, req_str, truthy};
use super::presence::{language, presence_table};
use super::{MessageType, RecipientType, Rules};
use crate::error::{Problems, WaError, shown};

/// `ttl` bounds (`messages.md` §9, Recommended): at most the 30 days Meta retries for.
const DAY_SECS: u64 = 86_400;
const MAX_TTL_DAYS: u64 = 30;

/// What the first pass extracts. When it reports problems the values are placeholders, never
/// used: `validate` returns the problems first.
pub(super) struct Envelope {
    pub(super) to: String,
    pub(super) kind: MessageType,
    pub(super) recipient_type: RecipientType,
    pub(super) preview_url: bool,
    pub(super) render_mentions: bool,
    pub(super) ttl_secs: Option<u64>,
    pub(super) context_message_id: Option<String>,
    pub(super) content: Value,
}

pub(super) fn envelope(p: &mut Problems, body: &Map<String, Value>, rules: Rules) -> Envelope {
    let to = match filled(body, "to") {
        None => {
            p.push(WaError::missing_parameter("to"));
            String::new()
        }
        Some(Value::String(s)) => s.clone(),
        Some(other) => {
            p.push(WaError::invalid_value("to", &shown(other)));
            String::new()
        }
    };

    let kind = match given(body, "type") {
        None => Some(MessageType::Text),
        Some(v) => match v.as_str().and_then(MessageType::from_name) {
            // Outbound reactions exist only with --enable-reactions (messages.md §9); otherwise
            // they are as unknown as any other type.
            Some(MessageType::Reaction) if !rules.reactions => {
                p.push(WaError::invalid_value("type", "reaction"));
                None
            }
            Some(k) => Some(k),
            None => {
                p.push(WaError::invalid_value("type", &shown(v)));
                None
            }
        },
    };

    let recipient_type = match given(body, "recipient_type") {
        None => Some(RecipientType::Individual),
        Some(v) => match v.as_str().and_then(RecipientType::parse) {
            // With --disable-groups the value itself is not allowed (messages.md §10).
            Some(RecipientType::Group) if !rules.groups => {
                p.push(WaError::invalid_value("recipient_type", &shown(v)));
                None
            }
            Some(t) => Some(t),
            None => {
                p.push(WaError::invalid_value("recipient_type", &shown(v)));
                None
            }
        },
    };
    // Templates are 1:1 business notifications; groups never took them (Recommended, §10).
    if let (Some(RecipientType::Group), Some(k @ (MessageType::Template | MessageType::Hsm))) = (recipient_type, kind) {
        p.push(WaError::invalid(format!(
            "Parameter 'type' has invalid value '{}' for recipient_type 'group'",
            k.as_str()
        )));
    }

    let preview_url = boolean(p, body, "preview_url");
    let render_mentions = boolean(p, body, "render_mentions");

    let context_message_id = match given(body, "context") {
        None => None,
        Some(Value::Object(c)) => req_str(p, c, "context", "message_id").map(str::to_owned),
        Some(other) => {
            p.push(WaError::invalid_value("context", &shown(other)));
            None
        }
    };

    let mut env = Envelope {
        to,
        kind: kind.unwrap_or(MessageType::Text),
        recipient_type: recipient_type.unwrap_or(RecipientType::Individual),
        preview_url,
        render_mentions,
        ttl_secs: None,
        context_message_id,
        content: Value::Null,
    };

    if let Some(v) = given(body, "ttl") {
        if php_empty(v) {
            // The Webapp stopped checking here (`break` out of its parse loop).
            p.push(WaError::invalid("Empty TTL value not allowed"));
            return env;
        }
        env.ttl_secs = ttl_secs(v);
        if env.ttl_secs.is_none() {
            p.push(WaError::invalid_value("ttl", &shown(v)));
        }
    }

    // Without a valid type the Webapp had nothing to check the type objects against.
    let Some(kind) = kind else { return env };
    let name = kind.as_str();
    match body.get(name).filter(|v| truthy(Some(v))) {
        None => p.push(mandatory_for(name, name)),
        Some(v) => {
            let shaped = if kind == MessageType::Contacts { v.is_array() } else { v.is_object() };
            if shaped {
                env.content = v.clone();
            } else {
                p.push(WaError::invalid_value(name, &shown(v)));
            }
        }
    }
    for other in MessageType::ORDER {
        // A `reaction` key is just an unknown key when reactions are off (rule 8).
        if other == kind || (other == MessageType::Reaction && !rules.reactions) {
            continue;
        }
        if truthy(body.get(other.as_str())) {
            p.push(not_required_for(other.as_str(), name));
        }
    }
    if let Value::Object(o) = &env.content {
        presence_table(p, kind, o);
        language(p, kind, o);
    }
    env
}

/// A top-level boolean (default `false`); anything but a JSON boolean is 1009.
fn boolean(p: &mut Problems, body: &Map<String, Value>, key: &str) -> bool {
    match given(body, key) {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            p.push(WaError::invalid_value(key, &shown(other)));
            false
        }
    }
}

/// `{"days": N}` (1..=30) or a positive number of seconds up to 30 days (`messages.md` §9).
fn ttl_secs(v: &Value) -> Option<u64> {
    match v {
        Value::Object(o) if o.len() == 1 => {
            o.get("days")?.as_u64().filter(|d| (1..=MAX_TTL_DAYS).contains(d)).map(|d| d * DAY_SECS)
        }
        Value::Number(n) => n.as_u64().filter(|s| (1..=MAX_TTL_DAYS * DAY_SECS).contains(s)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::error::ErrorCode;
    use crate::messages::validate::test_support::*;
    use crate::messages::validate::{MessageType, RecipientType, Rules};

    // ---- messages.md "Behaviours to test" ----

    #[test]
    fn b01_text_without_type_defaults_to_text() {
        let m = ok(json!({"to": "16315551234", "text": {"body": "hi"}}));
        assert_eq!(m.kind, MessageType::Text);
        assert_eq!(m.to, "16315551234");
        assert_eq!(m.recipient_type, RecipientType::Individual);
        assert!(!m.preview_url && !m.render_mentions);
        assert_eq!(m.ttl_secs, None);
        assert_eq!(m.context_message_id, None);
        assert_eq!(m.content, json!({"body": "hi"}));
        assert!(m.media.is_empty() && m.template.is_none());
    }

    #[test]
    fn b02_missing_to() {
        assert_eq!(
            errs(json!({"type": "text", "text": {"body": "hi"}})),
            one(1008, "Missing mandatory parameter 'to'")
        );
        assert_eq!(
            errs(json!({})),
            one(1008, "Missing mandatory parameter 'to'")
                .into_iter()
                .chain(one(1008, "Parameter 'text' is mandatory for type 'text'"))
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn b03_missing_type_object() {
        assert_eq!(
            errs(json!({"to": "1", "type": "text"})),
            one(1008, "Parameter 'text' is mandatory for type 'text'")
        );
        // Empty objects and empty strings count as absent.
        assert_eq!(codes(json!({"to": "1", "type": "text", "text": {}})), [1008]);
        assert_eq!(codes(json!({"to": "1", "type": "text", "text": ""})), [1008]);
    }

    #[test]
    fn b04_object_of_another_type() {
        assert_eq!(
            errs(json!({"to": "1", "type": "image", "image": {"id": "x"}, "text": {"body": "y"}})),
            one(1010, "Parameter 'text' is not required for type 'image'")
        );
        // An empty foreign object is ignored, like any absent one.
        ok(json!({"to": "1", "type": "image", "image": {"id": "x"}, "text": {}}));
    }

    #[test]
    fn b07_preview_url_must_be_a_boolean() {
        assert_eq!(
            errs(json!({"to": "1", "type": "text", "preview_url": "true", "text": {"body": "https://a.b"}})),
            one(1009, "Parameter 'preview_url' has invalid value 'true'")
        );
        assert!(ok(json!({"to": "1", "preview_url": true, "text": {"body": "https://a.b"}})).preview_url);
    }

    #[test]
    fn b08_recipient_type_enum() {
        assert_eq!(
            errs(json!({"to": "1", "recipient_type": "team", "text": {"body": "x"}})),
            one(1009, "Parameter 'recipient_type' has invalid value 'team'")
        );
        let m = ok(json!({"to": "16315558032-1530825318", "recipient_type": "group", "text": {"body": "x"}}));
        assert_eq!(m.recipient_type, RecipientType::Group);
    }

    #[test]
    fn b09_empty_ttl() {
        assert_eq!(
            errs(json!({"to": "1", "type": "text", "ttl": "", "text": {"body": "x"}})),
            one(1009, "Empty TTL value not allowed")
        );
        for empty in [json!(0), json!("0"), json!({}), json!([]), json!(false)] {
            assert_eq!(codes(json!({"to": "1", "ttl": empty, "text": {"body": "x"}})), [1009]);
        }
    }

    // ---- general rules ----

    #[test]
    fn two_independent_problems_give_two_errors_in_webapp_order() {
        assert_eq!(
            errs(json!({"preview_url": "yes", "text": {"body": "x"}})),
            [
                (1008, "Missing mandatory parameter 'to'".to_owned()),
                (1009, "Parameter 'preview_url' has invalid value 'yes'".to_owned())
            ]
        );
        // Order: to, type, recipient_type, booleans, type objects.
        assert_eq!(
            codes(
                json!({"type": "image", "recipient_type": "x", "render_mentions": 1, "image": {"id": "i", "caption": "c", "body": "b"}, "text": {"body": "t"}})
            ),
            [1008, 1009, 1009, 1010, 1010]
        );
    }

    #[test]
    fn to_must_be_a_non_empty_string() {
        assert_eq!(errs(json!({"to": "", "text": {"body": "x"}})), one(1008, "Missing mandatory parameter 'to'"));
        assert_eq!(errs(json!({"to": null, "text": {"body": "x"}})), one(1008, "Missing mandatory parameter 'to'"));
        assert_eq!(
            errs(json!({"to": 1555, "text": {"body": "x"}})),
            one(1009, "Parameter 'to' has invalid value '1555'")
        );
        // Kept exactly as sent; normalisation happens later.
        assert_eq!(ok(json!({"to": "+1 (631) 555-1234", "text": {"body": "x"}})).to, "+1 (631) 555-1234");
    }

    #[test]
    fn type_must_be_known() {
        assert_eq!(
            errs(json!({"to": "1555", "type": "bogus"})),
            one(1009, "Parameter 'type' has invalid value 'bogus'")
        );
        assert_eq!(codes(json!({"to": "1555", "type": "address", "address": {"x": 1}})), [1009]);
        assert_eq!(codes(json!({"to": "1555", "type": 3})), [1009]);
        assert_eq!(ok(json!({"to": "1", "type": null, "text": {"body": "x"}})).kind, MessageType::Text);
    }

    #[test]
    fn groups_can_be_disabled() {
        let off = Rules { reactions: false, groups: false };
        let g = json!({"to": "16315558032-1530825318", "recipient_type": "group", "text": {"body": "x"}});
        assert_eq!(errs_with(g.clone(), off), one(1009, "Parameter 'recipient_type' has invalid value 'group'"));
        check_with(g, RULES).unwrap();
        check_with(json!({"to": "1", "recipient_type": "individual", "text": {"body": "x"}}), off).unwrap();
    }

    #[test]
    fn templates_cannot_go_to_groups() {
        let mut t = map(template_with("/components", None));
        t.insert("recipient_type".into(), json!("group"));
        assert_eq!(
            errs(Value::Object(t)),
            one(1009, "Parameter 'type' has invalid value 'template' for recipient_type 'group'")
        );
        let mut h = map(of("hsm", hsm_body()));
        h.insert("recipient_type".into(), json!("group"));
        assert_eq!(codes(Value::Object(h)), [1009]);
    }

    #[test]
    fn render_mentions_must_be_a_boolean() {
        assert!(
            ok(json!({"to": "g", "recipient_type": "group", "render_mentions": true, "text": {"body": "@1"}}))
                .render_mentions
        );
        assert_eq!(
            errs(json!({"to": "1", "render_mentions": "yes", "text": {"body": "x"}})),
            one(1009, "Parameter 'render_mentions' has invalid value 'yes'")
        );
    }

    #[test]
    fn ttl_shapes() {
        let ttl = |v: Value| check_with(json!({"to": "1", "ttl": v, "text": {"body": "x"}}), RULES);
        assert_eq!(ttl(json!({"days": 1})).unwrap().ttl_secs, Some(86_400));
        assert_eq!(ttl(json!({"days": 30})).unwrap().ttl_secs, Some(30 * 86_400));
        assert_eq!(ttl(json!(3600)).unwrap().ttl_secs, Some(3600));
        assert_eq!(ttl(json!(null)).unwrap().ttl_secs, None);
        for bad in [
            json!({"days": 31}),
            json!({"days": 0}),
            json!({"days": "2"}),
            json!({"hours": 2}),
            json!(2_592_001),
            json!(-5),
            json!(1.5),
            json!("abc"),
        ] {
            let e = ttl(bad.clone()).expect_err("accepted");
            assert_eq!(e.code(), Some(ErrorCode::ParameterValueNotValid), "{bad}");
            assert!(e.errors[0].details.as_deref().unwrap().starts_with("Parameter 'ttl' has invalid value"), "{bad}");
        }
    }

    #[test]
    fn empty_ttl_stops_the_webapp_checks() {
        // No type object at all, yet only the TTL error: the Webapp broke out of its checks.
        assert_eq!(
            errs(json!({"ttl": "", "type": "image"})),
            [(1008, "Missing mandatory parameter 'to'".to_owned()), (1009, "Empty TTL value not allowed".to_owned())]
        );
    }

    #[test]
    fn context_message_id() {
        let m = ok(json!({"to": "1", "context": {"message_id": "ABGGFlA5Fpa"}, "text": {"body": "x"}}));
        assert_eq!(m.context_message_id.as_deref(), Some("ABGGFlA5Fpa"));
        assert_eq!(
            errs(json!({"to": "1", "context": {}, "text": {"body": "x"}})),
            one(1008, "Missing mandatory parameter 'context.message_id'")
        );
        assert_eq!(codes(json!({"to": "1", "context": "ABGG", "text": {"body": "x"}})), [1009]);
        assert_eq!(codes(json!({"to": "1", "context": {"message_id": 7}, "text": {"body": "x"}})), [1009]);
    }

    #[test]
    fn unknown_top_level_keys_are_ignored() {
        ok(json!({"to": "1", "text": {"body": "x"}, "messaging_product": "whatsapp", "foo": [1]}));
    }

    #[test]
    fn type_object_must_have_the_right_json_type() {
        assert_eq!(errs(of("text", json!("hello"))), one(1009, "Parameter 'text' has invalid value 'hello'"));
        assert_eq!(codes(of("contacts", json!({"name": {"formatted_name": "x"}}))), [1009]);
    }
}
