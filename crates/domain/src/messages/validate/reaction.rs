//! §9: reaction messages (with --enable-reactions).

use serde_json::{Map, Value};

use super::fields::{given, req_str};
use crate::error::{Problems, WaError, shown};

/// §9 (with --enable-reactions): the message reacted to and the emoji. An empty emoji is
/// accepted: in the Cloud API it removes an earlier reaction.
pub(super) fn reaction(p: &mut Problems, o: &Map<String, Value>) {
    req_str(p, o, "", "message_id");
    match given(o, "emoji") {
        None => p.push(WaError::missing_parameter("emoji")),
        Some(Value::String(_)) => {}
        Some(other) => p.push(WaError::invalid_value("emoji", &shown(other))),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::messages::validate::test_support::*;
    use crate::messages::validate::{MessageType, Rules};

    #[test]
    fn reactions_need_the_flag() {
        let r = json!({"to": "1", "type": "reaction", "reaction": {"message_id": "ABGG", "emoji": "👍"}});
        assert_eq!(errs(r.clone()), one(1009, "Parameter 'type' has invalid value 'reaction'"));
        let on = Rules { reactions: true, groups: true };
        let m = check_with(r, on).unwrap();
        assert_eq!(m.kind, MessageType::Reaction);
        assert_eq!(m.content, json!({"message_id": "ABGG", "emoji": "👍"}));
        // Removing a reaction (Cloud API style) sends an empty emoji.
        check_with(json!({"to": "1", "type": "reaction", "reaction": {"message_id": "ABGG", "emoji": ""}}), on)
            .unwrap();
        assert_eq!(
            errs_with(json!({"to": "1", "type": "reaction", "reaction": {"emoji": 5}}), on),
            [
                (1008, "Missing mandatory parameter 'message_id'".to_owned()),
                (1009, "Parameter 'emoji' has invalid value '5'".to_owned())
            ]
        );
        assert_eq!(codes_with(json!({"to": "1", "type": "reaction"}), on), [1008]);
        // With the flag off a `reaction` key is an unknown key; with it on, a foreign type object.
        ok(json!({"to": "1", "text": {"body": "x"}, "reaction": {"emoji": "x"}}));
        assert_eq!(
            errs_with(json!({"to": "1", "text": {"body": "x"}, "reaction": {"emoji": "x"}}), on),
            one(1010, "Parameter 'reaction' is not required for type 'text'")
        );
    }
}
