//! Pass 1 inside the type object: the Webapp's field presence table and its `language` check.

use serde_json::{Map, Value};

use super::MessageType;
use super::fields::{filled, mandatory_for, not_required_for, req_str, truthy};
use crate::error::{Problems, WaError, shown};

const LANGUAGE_POLICIES: [&str; 2] = ["fallback", "deterministic"];

/// One row of the Webapp's field presence table.
struct PresenceRule {
    /// The key inside the type object.
    field: &'static str,
    /// The types whose object must carry it.
    required: &'static [MessageType],
    /// The types whose object must not carry it.
    forbidden: &'static [MessageType],
}

/// The Webapp's field presence table (`messages.md` §1): field, types that require it, types
/// that forbid it. Webapp rows, extended to the types later builds added: `sticker` follows the
/// other media types (and the Recommended caption rule), and "every other type" rows cover
/// `sticker`, `interactive` and `reaction` too. `interactive.body` is an object of its own, so
/// `body` is deliberately not forbidden there.
const PRESENCE: [PresenceRule; 6] = {
    use MessageType as T;
    [
        PresenceRule {
            field: "body",
            required: &[T::Text],
            forbidden: &[T::Audio, T::Document, T::Hsm, T::Image, T::Location, T::Video, T::Contacts, T::Sticker],
        },
        PresenceRule { field: "id", required: &[], forbidden: &[T::Hsm, T::Location, T::Text, T::Contacts] },
        PresenceRule {
            field: "namespace",
            required: &[T::Hsm, T::Template],
            forbidden: &[T::Audio, T::Document, T::Image, T::Location, T::Text, T::Video, T::Sticker],
        },
        PresenceRule {
            field: "element_name",
            required: &[T::Hsm],
            forbidden: &[
                T::Audio,
                T::Document,
                T::Image,
                T::Location,
                T::Text,
                T::Video,
                T::Contacts,
                T::Template,
                T::Sticker,
                T::Interactive,
                T::Reaction,
            ],
        },
        PresenceRule {
            field: "caption",
            required: &[],
            forbidden: &[T::Audio, T::Hsm, T::Location, T::Text, T::Contacts, T::Sticker],
        },
        PresenceRule {
            field: "filename",
            required: &[],
            forbidden: &[
                T::Audio,
                T::Hsm,
                T::Image,
                T::Location,
                T::Text,
                T::Video,
                T::Contacts,
                T::Template,
                T::Sticker,
                T::Interactive,
                T::Reaction,
            ],
        },
    ]
};

pub(super) fn presence_table(p: &mut Problems, kind: MessageType, o: &Map<String, Value>) {
    for PresenceRule { field, required, forbidden } in PRESENCE {
        let here = truthy(o.get(field));
        if here && forbidden.contains(&kind) {
            p.push(not_required_for(field, kind.as_str()));
        } else if !here && required.contains(&kind) {
            p.push(mandatory_for(field, kind.as_str()));
        }
    }
}

/// The Webapp's `language` check (any type object carrying one), plus the language each
/// template kind needs: `template` a `language` object, `hsm` a `language` object or the old
/// `fallback_lg`/`fallback_lc` pair.
pub(super) fn language(p: &mut Problems, kind: MessageType, o: &Map<String, Value>) {
    const FALLBACKS: [&str; 2] = ["fallback_lg", "fallback_lc"];
    match filled(o, "language") {
        Some(lang) => {
            for fallback in FALLBACKS {
                if truthy(o.get(fallback)) {
                    p.push(WaError::exactly_one_of(&["language", fallback]));
                }
            }
            match lang {
                Value::Object(l) => {
                    req_str(p, l, "", "code");
                    if let Some(policy) = req_str(p, l, "", "policy")
                        && !LANGUAGE_POLICIES.contains(&policy)
                    {
                        p.push(WaError::invalid_value("policy", policy));
                    }
                }
                other => p.push(WaError::invalid_value("language", &shown(other))),
            }
        }
        None if kind == MessageType::Hsm => {
            for fallback in FALLBACKS {
                if !truthy(o.get(fallback)) {
                    p.push(WaError::missing_parameter_of(&["language", fallback]));
                }
            }
        }
        None if kind == MessageType::Template => p.push(mandatory_for("language", "template")),
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::messages::validate::MediaRef;
    use crate::messages::validate::test_support::*;

    // ---- messages.md "Behaviours to test" ----

    #[test]
    fn b05_audio_caption_forbidden() {
        assert_eq!(
            errs(json!({"to": "1", "type": "audio", "audio": {"id": "x", "caption": "c"}})),
            one(1010, "Parameter 'caption' is not required for type 'audio'")
        );
        ok(json!({"to": "1", "type": "audio", "audio": {"id": "x", "caption": ""}}));
    }

    #[test]
    fn b06_image_filename_forbidden() {
        assert_eq!(
            errs(json!({"to": "1", "type": "image", "image": {"id": "x", "filename": "a.jpg"}})),
            one(1010, "Parameter 'filename' is not required for type 'image'")
        );
        let m =
            ok(json!({"to": "1", "type": "document", "document": {"id": "x", "filename": "a.pdf", "caption": "c"}}));
        assert_eq!(m.media, [MediaRef::Id("x".into())]);
    }

    #[test]
    fn b11_template_without_namespace() {
        assert_eq!(
            errs(template_with("/namespace", None)),
            one(1008, "Parameter 'namespace' is mandatory for type 'template'")
        );
        assert_eq!(codes(template_with("/namespace", Some(json!("")))), [1008]);
    }

    #[test]
    fn b12_template_language_policy() {
        assert_eq!(errs(template_with("/language/policy", None)), one(1008, "Missing mandatory parameter 'policy'"));
        assert_eq!(
            errs(template_with("/language/policy", Some(json!("random")))),
            one(1009, "Parameter 'policy' has invalid value 'random'")
        );
        assert_eq!(errs(template_with("/language/code", None)), one(1008, "Missing mandatory parameter 'code'"));
        assert_eq!(
            errs(template_with("/language", None)),
            one(1008, "Parameter 'language' is mandatory for type 'template'")
        );
        assert_eq!(codes(template_with("/language", Some(json!("en")))), [1009]);
        let m = ok(template_with("/language/policy", Some(json!("fallback"))));
        assert_eq!(m.template.unwrap().policy, "fallback");
    }

    #[test]
    fn b13_hsm_language_and_fallback() {
        let mut h = hsm_body();
        h["fallback_lg"] = json!("en");
        assert_eq!(
            errs(of("hsm", h.clone())),
            one(1010, "Exactly one of the following parameters must be present: 'language', 'fallback_lg'")
        );
        h["fallback_lc"] = json!("US");
        assert_eq!(codes(of("hsm", h)), [1010, 1010]);
    }

    // ---- general rules ----

    #[test]
    fn presence_table() {
        assert_eq!(
            errs(of("text", json!({"body": "x", "id": "i"}))),
            one(1010, "Parameter 'id' is not required for type 'text'")
        );
        assert_eq!(
            errs(of("image", json!({"id": "i", "body": "b"}))),
            one(1010, "Parameter 'body' is not required for type 'image'")
        );
        assert_eq!(
            errs(of("location", json!({"longitude": 1, "latitude": 2, "id": "x"}))),
            one(1010, "Parameter 'id' is not required for type 'location'")
        );
        assert_eq!(
            errs(of("text", json!({"body": "x", "namespace": "n"}))),
            one(1010, "Parameter 'namespace' is not required for type 'text'")
        );
        assert_eq!(
            errs(template_with("/element_name", Some(json!("x")))),
            one(1010, "Parameter 'element_name' is not required for type 'template'")
        );
        assert_eq!(
            errs(of("sticker", json!({"id": "x", "caption": "c"}))),
            one(1010, "Parameter 'caption' is not required for type 'sticker'")
        );
        assert_eq!(errs(of("text", json!({"body": ""}))), one(1008, "Parameter 'body' is mandatory for type 'text'"));
        assert_eq!(errs(of("text", json!({"body": 5}))), one(1009, "Parameter 'body' has invalid value '5'"));
        assert_eq!(ok(of("sticker", json!({"id": "s"}))).media, [MediaRef::Id("s".into())]);
    }
}
