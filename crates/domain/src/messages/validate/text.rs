//! §3: text messages.

use serde_json::{Map, Value};

use super::fields::given;
use crate::error::{ErrorCode, Problems, WaError, shown};

/// `text.body` limit (`messages.md` §3).
pub const MAX_TEXT_BODY: usize = 4096;

/// §3: `body` is a string of at most 4096 characters (its presence is pass 1's).
pub(super) fn text(p: &mut Problems, o: &Map<String, Value>) {
    match given(o, "body") {
        Some(Value::String(s)) => {
            let n = s.chars().count();
            if n > MAX_TEXT_BODY {
                p.push(WaError::new(
                    ErrorCode::MessageTooLong,
                    format!("Parameter 'body' is too long: {n} characters, at most {MAX_TEXT_BODY} allowed"),
                ));
            }
        }
        Some(other) => p.push(WaError::invalid_value("body", &shown(other))),
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::messages::validate::test_support::*;

    #[test]
    fn b10_text_too_long() {
        let e = errs(json!({"to": "1", "text": {"body": "a".repeat(4097)}}));
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].0, 1001);
        assert!(e[0].1.contains("4097"), "{}", e[0].1);
        ok(json!({"to": "1", "text": {"body": "a".repeat(4096)}}));
        // Characters, not bytes.
        ok(json!({"to": "1", "text": {"body": "é".repeat(4096)}}));
        let err = check_with(json!({"to": "1", "text": {"body": "é".repeat(4097)}}), RULES).unwrap_err();
        assert_eq!(err.status, 400);
        assert_eq!(err.errors[0].code.title(), "Message too long");
    }
}
