//! An On-Premises send as Cloud's `POST /{phone-number-id}/messages` body
//! (`cloud-mapping.md` §2.1), from the message the API validated.
//!
//! - `messaging_product: "whatsapp"` is added; the customer is their `wa_id`.
//! - `preview_url`, top-level in On-Premises, goes inside `text`.
//! - A template loses `namespace` and `language.policy`, which Cloud has not.
//! - `hsm` (long gone from Cloud) becomes the template it named, its
//!   localizable parameters the body's parameters.
//! - Media ids are wabiz's: each becomes the Cloud media id it stands for;
//!   `provider` (a media provider of this server) is dropped.
//! - A reply (`context`) names the Cloud id of the message it quotes.

use serde_json::{Map, Value, json};
use wabiz_domain::error::{ErrorCode, WaError};
use wabiz_domain::messages::RecipientType;
use wabiz_domain::messages::validate::{MessageType, OutboundMessage};

/// What the relay knows of ids: wabiz's media ids and message ids, as
/// Cloud knows them.
pub trait CloudIds {
    /// The Cloud media id of wabiz media `id`, if it was uploaded to Cloud.
    fn media(&self, id: &str) -> Option<String>;
    /// The Cloud message id (`wamid`) of message `id`: itself for a message
    /// that came from Cloud, the one Cloud gave for one sent through it.
    fn message(&self, id: &str) -> Option<String>;
}

/// The Cloud request for `msg` to customer `wa_id`.
pub fn cloud_request(msg: &OutboundMessage, wa_id: &str, ids: &dyn CloudIds) -> Result<Value, WaError> {
    if msg.recipient_type == RecipientType::Group {
        return Err(WaError::new(
            ErrorCode::ParameterValueNotValid,
            "recipient_type 'group' is not supported in relay mode (the Cloud API's groups are another model)",
        ));
    }
    let mut body = Map::new();
    body.insert("messaging_product".into(), json!("whatsapp"));
    body.insert("recipient_type".into(), json!("individual"));
    body.insert("to".into(), json!(wa_id));
    if let Some(quoted) = &msg.context_message_id {
        let wamid = ids.message(quoted).ok_or_else(|| {
            WaError::new(
                ErrorCode::ParameterValueNotValid,
                format!("context message {quoted} is unknown to the Cloud API"),
            )
        })?;
        body.insert("context".into(), json!({"message_id": wamid}));
    }
    let (kind, object) = match msg.kind {
        MessageType::Hsm => ("template", template_of_hsm(&msg.content)),
        MessageType::Template => ("template", template(&msg.content, ids)?),
        MessageType::Text => {
            let mut text = msg.content.clone();
            if msg.preview_url {
                text["preview_url"] = json!(true);
            }
            ("text", text)
        }
        kind if kind.is_media() => (kind.as_str(), media(&msg.content, ids)?),
        kind => (kind.as_str(), msg.content.clone()),
    };
    body.insert("type".into(), json!(kind));
    body.insert(kind.into(), object);
    Ok(Value::Object(body))
}

/// A media object with its id as Cloud's, without `provider`.
fn media(object: &Value, ids: &dyn CloudIds) -> Result<Value, WaError> {
    let mut object = object.clone();
    if let Some(o) = object.as_object_mut() {
        o.remove("provider");
        if let Some(id) = o.get("id").and_then(Value::as_str) {
            let cloud =
                ids.media(id).ok_or_else(|| WaError::not_found(format!("Media {id} not found on the Cloud API")))?;
            o.insert("id".into(), json!(cloud));
        }
    }
    Ok(object)
}

/// A template without what Cloud has not, its header media as Cloud's.
fn template(object: &Value, ids: &dyn CloudIds) -> Result<Value, WaError> {
    let mut t = object.clone();
    if let Some(o) = t.as_object_mut() {
        o.remove("namespace");
        if let Some(language) = o.get_mut("language").and_then(Value::as_object_mut) {
            language.remove("policy");
        }
    }
    // `get_mut`, not indexing: an index would add the keys it does not find.
    let components = t.get_mut("components").and_then(Value::as_array_mut).into_iter().flatten();
    for component in components {
        for parameter in component.get_mut("parameters").and_then(Value::as_array_mut).into_iter().flatten() {
            let kind = parameter["type"].as_str().unwrap_or_default().to_owned();
            if matches!(kind.as_str(), "image" | "video" | "document") {
                let mapped = media(&parameter[&kind], ids)?;
                parameter[&kind] = mapped;
            }
        }
    }
    Ok(t)
}

/// An `hsm` as the template it names: `element_name` is the name, each
/// localizable parameter a body parameter (its `default` the text, or a
/// currency's or date's fallback).
fn template_of_hsm(hsm: &Value) -> Value {
    let code = hsm["language"]["code"].as_str().map(str::to_owned).unwrap_or_else(|| {
        format!(
            "{}_{}",
            hsm["fallback_lg"].as_str().unwrap_or_default(),
            hsm["fallback_lc"].as_str().unwrap_or_default()
        )
    });
    let parameters: Vec<Value> = hsm["localizable_params"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            let shown = p["default"].clone();
            if let Some(c) = p.get("currency") {
                json!({"type": "currency", "currency": {"fallback_value": shown, "code": c["currency_code"], "amount_1000": c["amount_1000"]}})
            } else if p.get("date_time").is_some() {
                json!({"type": "date_time", "date_time": {"fallback_value": shown}})
            } else {
                json!({"type": "text", "text": shown})
            }
        })
        .collect();
    let mut t = json!({"name": hsm["element_name"], "language": {"code": code}});
    if !parameters.is_empty() {
        t["components"] = json!([{"type": "body", "parameters": parameters}]);
    }
    t
}

#[cfg(test)]
mod tests {
    use serde_json::Map;
    use wabiz_domain::messages::validate::{Rules, validate};

    use super::*;

    struct Known;

    impl CloudIds for Known {
        fn media(&self, id: &str) -> Option<String> {
            (id == "f043afd0-f0ae-4b9c-ab3d-696fb4c8cd68").then(|| "1037543291543636".to_owned())
        }
        fn message(&self, id: &str) -> Option<String> {
            id.starts_with("wamid.").then(|| id.to_owned())
        }
    }

    fn cloud(body: Value) -> Result<Value, WaError> {
        let body: Map<String, Value> = serde_json::from_value(body).unwrap();
        let msg = validate(&body, Rules { reactions: true, groups: true }).unwrap();
        cloud_request(&msg, "16315551234", &Known)
    }

    /// §9.1: `preview_url` moves into `text`.
    #[test]
    fn a_text_with_a_preview_has_it_inside_text() {
        let body = json!({"to": "+1 631-555-1234", "type": "text", "preview_url": true, "text": {"body": "See https://example.com"}});
        assert_eq!(
            cloud(body).unwrap(),
            json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": "16315551234", "type": "text",
                   "text": {"body": "See https://example.com", "preview_url": true}})
        );
        let plain = cloud(json!({"to": "16315551234", "text": {"body": "hi"}})).unwrap();
        assert_eq!(plain["text"], json!({"body": "hi"}));
    }

    /// §9.2: a template without `namespace` and `language.policy`.
    #[test]
    fn a_template_loses_its_namespace_and_policy() {
        let body = json!({"to": "16315551234", "type": "template", "template": {
            "namespace": "business_a_namespace", "name": "order_ready",
            "language": {"policy": "deterministic", "code": "en_US"},
            "components": [
                {"type": "header", "parameters": [{"type": "image", "image": {"id": "f043afd0-f0ae-4b9c-ab3d-696fb4c8cd68"}}]},
                {"type": "body", "parameters": [{"type": "text", "text": "Kerry"}]}]}});
        let t = &cloud(body).unwrap()["template"];
        assert_eq!(t["language"], json!({"code": "en_US"}));
        assert!(t.get("namespace").is_none(), "{t}");
        assert_eq!(
            t["components"][0]["parameters"][0]["image"],
            json!({"id": "1037543291543636"}),
            "header media as Cloud's"
        );
    }

    /// §9.3: `hsm` reaches Cloud as the template it named.
    #[test]
    fn an_hsm_becomes_its_template_with_body_parameters() {
        let body = json!({"to": "16315551234", "type": "hsm", "hsm": {
            "namespace": "business_a_namespace", "element_name": "payment_due",
            "language": {"policy": "deterministic", "code": "en"},
            "localizable_params": [{"default": "Kerry"},
                                   {"default": "$100.99", "currency": {"currency_code": "USD", "amount_1000": 100_990}}]}});
        let request = cloud(body).unwrap();
        assert_eq!(request["type"], "template");
        assert!(request.get("hsm").is_none(), "{request}");
        assert_eq!(
            request["template"],
            json!({"name": "payment_due", "language": {"code": "en"}, "components": [{
            "type": "body", "parameters": [
                {"type": "text", "text": "Kerry"},
                {"type": "currency", "currency": {"fallback_value": "$100.99", "code": "USD", "amount_1000": 100_990}}]}]})
        );
    }

    /// §9.4 (the send half): wabiz's media id becomes Cloud's; an unknown
    /// one is refused rather than sent.
    #[test]
    fn media_go_by_their_cloud_id_and_links_without_provider() {
        let by_id = cloud(json!({"to": "16315551234", "type": "image",
                                 "image": {"id": "f043afd0-f0ae-4b9c-ab3d-696fb4c8cd68", "caption": "Receipt"}}))
        .unwrap();
        assert_eq!(by_id["image"], json!({"id": "1037543291543636", "caption": "Receipt"}));
        let by_link = cloud(json!({"to": "16315551234", "type": "document",
                                   "document": {"link": "https://example.com/a.pdf", "provider": {"name": "cdn"}, "filename": "a.pdf"}}));
        assert_eq!(by_link.unwrap()["document"], json!({"link": "https://example.com/a.pdf", "filename": "a.pdf"}));
        let unknown = cloud(
            json!({"to": "16315551234", "type": "image", "image": {"id": "0a1b2c3d-0000-4000-8000-000000000000"}}),
        );
        assert_eq!(unknown.unwrap_err().code(), Some(ErrorCode::ResourceNotFound));
    }

    #[test]
    fn replies_name_the_cloud_id_and_other_types_pass_as_they_are() {
        let reply =
            cloud(json!({"to": "16315551234", "context": {"message_id": "wamid.HBgLMTYz"}, "text": {"body": "Yes"}}))
                .unwrap();
        assert_eq!(reply["context"], json!({"message_id": "wamid.HBgLMTYz"}));
        let unknown = cloud(
            json!({"to": "16315551234", "context": {"message_id": "gBGGFlA5FpafAgkOuJbRq54qwbM"}, "text": {"body": "Yes"}}),
        );
        assert_eq!(unknown.unwrap_err().code(), Some(ErrorCode::ParameterValueNotValid));
        let location = json!({"longitude": -122.148981, "latitude": 37.483307, "name": "Pablo Morales", "address": "1 Hacker Way"});
        let sent = cloud(json!({"to": "16315551234", "type": "location", "location": location})).unwrap();
        assert_eq!((sent["type"].as_str(), &sent["location"]), (Some("location"), &location));
        let reaction = cloud(
            json!({"to": "16315551234", "type": "reaction", "reaction": {"message_id": "wamid.X", "emoji": "👍"}}),
        )
        .unwrap();
        assert_eq!(reaction["reaction"]["emoji"], "👍");
        let group = cloud(json!({"to": "16315551234-1700000000", "recipient_type": "group", "text": {"body": "hi"}}));
        assert_eq!(group.unwrap_err().code(), Some(ErrorCode::ParameterValueNotValid));
    }
}
