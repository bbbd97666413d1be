//! §6: contacts messages.

use serde_json::Value;

use super::fields::{filled, req_str};
use crate::error::{Problems, WaError, shown};

/// §6: every card is an object with a non-empty `name.formatted_name` (an empty array is pass 1's).
pub(super) fn contacts(p: &mut Problems, cards: &[Value]) {
    for (i, card) in cards.iter().enumerate() {
        let Value::Object(card) = card else {
            p.push(WaError::invalid_value(&format!("contacts[{i}]"), &shown(card)));
            continue;
        };
        match filled(card, "name") {
            None => p.push(WaError::missing_parameter("name.formatted_name")),
            Some(Value::Object(name)) => {
                req_str(p, name, "name", "formatted_name");
            }
            Some(other) => p.push(WaError::invalid_value("name", &shown(other))),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::messages::validate::test_support::*;

    #[test]
    fn contacts_cards() {
        let card = json!({"name": {"formatted_name": "John Smith", "first_name": "John"}, "phones": [{"phone": "+1 (650) 555-1234", "type": "WORK", "wa_id": "16505551234"}]});
        let m = ok(of("contacts", json!([card])));
        assert_eq!(m.content, json!([card]));
        assert_eq!(errs(of("contacts", json!([]))), one(1008, "Parameter 'contacts' is mandatory for type 'contacts'"));
        assert_eq!(
            errs(of("contacts", json!([{"birthday": "2012-08-18"}]))),
            one(1008, "Missing mandatory parameter 'name.formatted_name'")
        );
        assert_eq!(
            errs(of("contacts", json!([{"name": {"formatted_name": ""}}]))),
            one(1008, "Missing mandatory parameter 'name.formatted_name'")
        );
        assert_eq!(
            codes(of("contacts", json!([card, "x", {"name": "John"}, {"name": {"formatted_name": 3}}]))),
            [1009, 1009, 1009]
        );
    }
}
