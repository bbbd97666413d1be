//! `POST /v1/messages`: one schema per message type (`oneOf` on `type`), an
//! example of each, and the limits the validators enforce.

use serde_json::{Value, json};
use wabiz_domain::messages::validate::limits::*;

use super::Described;
use super::parts::{envelope, meta_example, object, one};

/// `{"type": "string", "maxLength": n}`.
fn text_of(max: usize) -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": max})
}

/// A media object: an uploaded file's `id`, or a `link` (with a provider's credentials).
fn media(caption: bool, filename: bool) -> Value {
    let mut props = json!({
        "id": {"type": "string", "minLength": 1, "description": "what `POST /v1/media` answered"},
        "link": {"type": "string", "pattern": "^https?://", "description": "downloaded when the message is sent"},
        "provider": object(json!({"name": {"type": "string"}})),
    });
    if caption {
        props["caption"] = json!({"type": "string", "maxLength": MAX_CAPTION});
    }
    if filename {
        props["filename"] = json!({"type": "string"});
    }
    json!({"type": "object", "properties": props, "oneOf": [{"required": ["id"]}, {"required": ["link"]}]})
}

fn language() -> Value {
    object(
        json!({"policy": {"type": "string", "enum": ["deterministic", "fallback"]}, "code": {"type": "string", "minLength": 1}}),
    )
}

fn template() -> Value {
    let parameter = json!({"type": "object", "required": ["type"], "properties": {
        "type": {"type": "string", "enum": ["text", "currency", "date_time", "image", "video", "document", "payload"]},
    }});
    let component = json!({"type": "object", "required": ["type"], "properties": {
        "type": {"type": "string", "enum": ["header", "body", "button"]},
        "sub_type": {"type": "string", "enum": ["quick_reply", "url"]},
        "index": {"type": ["string", "integer"]},
        "parameters": {"type": "array", "items": parameter},
    }});
    json!({"type": "object", "required": ["namespace", "name", "language"], "properties": {
        "namespace": {"type": "string", "minLength": 1}, "name": {"type": "string", "minLength": 1},
        "language": language(), "components": {"type": "array", "items": component},
    }})
}

fn hsm() -> Value {
    json!({"type": "object", "required": ["namespace", "element_name"], "properties": {
        "namespace": {"type": "string", "minLength": 1}, "element_name": {"type": "string", "minLength": 1},
        "language": language(),
        "fallback_lg": {"type": "string"}, "fallback_lc": {"type": "string"},
        "localizable_params": {"type": "array", "items": {"type": "object", "required": ["default"], "properties": {
            "default": {"type": "string"}, "currency": {"type": "object"}, "date_time": {"type": "object"},
        }}},
    }})
}

fn interactive() -> Value {
    let reply = object(json!({"id": text_of(MAX_BUTTON_ID), "title": text_of(MAX_BUTTON_TITLE)}));
    let button = object(json!({"type": {"type": "string", "enum": ["reply"]}, "reply": reply}));
    let row = json!({"type": "object", "required": ["id", "title"], "properties": {
        "id": text_of(MAX_ROW_ID), "title": text_of(MAX_ROW_TITLE), "description": {"type": "string", "maxLength": MAX_ROW_DESCRIPTION},
    }});
    let rows = json!({"type": "object", "required": ["rows"], "properties": {
        "title": text_of(MAX_SECTION_TITLE),
        "rows": {"type": "array", "minItems": 1, "maxItems": MAX_ROWS, "items": row},
    }});
    let products = json!({"type": "object", "required": ["product_items"], "properties": {
        "title": text_of(MAX_SECTION_TITLE),
        "product_items": {"type": "array", "minItems": 1, "maxItems": MAX_PRODUCTS,
                          "items": object(json!({"product_retailer_id": {"type": "string", "minLength": 1}}))},
    }});
    let header = json!({"type": "object", "required": ["type"], "properties": {
        "type": {"type": "string", "enum": ["text", "image", "video", "document"]}, "text": text_of(MAX_HEADER_TEXT),
    }});
    let text_header = json!({"type": "object", "required": ["type", "text"], "properties": {
        "type": {"const": "text"}, "text": text_of(MAX_HEADER_TEXT),
    }});
    let body = object(json!({"text": text_of(MAX_INTERACTIVE_BODY)}));
    let footer = object(json!({"text": text_of(MAX_FOOTER_TEXT)}));
    let catalog = json!({"type": "string", "minLength": 1});
    // One branch per kind: what its header, body and action must hold.
    let kind = |name: &str, required: &[&str], header: Value, action: Value| {
        let mut required = required.to_vec();
        required.extend(["type", "action"]);
        let mut branch = json!({"type": "object", "required": required, "properties": {
            "type": {"const": name}, "header": header, "body": body, "footer": footer, "action": action,
        }});
        if branch["properties"]["header"].is_null() {
            // No header allowed (a product message shows the product's own).
            branch["properties"].as_object_mut().map(|p| p.remove("header"));
            branch["not"] = json!({"required": ["header"]});
        }
        branch
    };
    // Several sections each need a title.
    let sections = |items: Value| {
        json!({"type": "array", "minItems": 1, "maxItems": MAX_SECTIONS, "items": items,
               "anyOf": [{"maxItems": 1}, {"items": {"required": ["title"]}}]})
    };
    json!({"oneOf": [
        kind("button", &["body"], header.clone(), json!({"type": "object", "required": ["buttons"], "properties": {
            "buttons": {"type": "array", "minItems": 1, "maxItems": MAX_BUTTONS, "items": button,
                        "description": "ids and titles unique"},
        }})),
        kind("list", &["body"], text_header.clone(), json!({"type": "object", "required": ["button", "sections"], "properties": {
            "button": text_of(MAX_LIST_BUTTON), "sections": sections(rows),
        }, "description": "at most 10 rows in all sections; a title on each section when there are several"})),
        kind("product", &[], Value::Null, json!({"type": "object", "required": ["catalog_id", "product_retailer_id"], "properties": {
            "catalog_id": catalog, "product_retailer_id": catalog,
        }})),
        kind("product_list", &["header", "body"], text_header, json!({"type": "object", "required": ["catalog_id", "sections"], "properties": {
            "catalog_id": catalog, "sections": sections(products),
        }})),
    ]})
}

fn contact_card() -> Value {
    let list = |item: Value| json!({"type": "array", "items": item});
    json!({"type": "object", "required": ["name"], "properties": {
        "name": {"type": "object", "required": ["formatted_name"], "properties": {
            "formatted_name": {"type": "string", "minLength": 1}, "first_name": {"type": "string"},
            "last_name": {"type": "string"}, "middle_name": {"type": "string"}, "suffix": {"type": "string"}, "prefix": {"type": "string"},
        }},
        "birthday": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
        "addresses": list(json!({"type": "object"})), "emails": list(json!({"type": "object"})),
        "phones": list(json!({"type": "object", "properties": {"phone": {"type": "string"}, "wa_id": {"type": "string"}, "type": {"type": "string"}}})),
        "urls": list(json!({"type": "object"})), "org": {"type": "object"},
    }})
}

/// The branch of one message type: `type` set to it (or absent for text) and its object.
fn branch(kind: &str, body: Value) -> Value {
    let type_schema = json!({"const": kind});
    let mut b = json!({"title": kind, "required": ["type", kind], "properties": { "type": type_schema, kind: body }});
    if kind == "text" {
        // `type` defaults to text.
        b["required"] = json!(["text"]);
        b["properties"]["type"] = json!({"enum": ["text"]});
    }
    b
}

fn request(reactions: bool) -> Value {
    let location = json!({"type": "object", "required": ["longitude", "latitude"], "properties": {
        "longitude": {"type": ["number", "string"]}, "latitude": {"type": ["number", "string"]},
        "name": {"type": "string"}, "address": {"type": "string"},
    }});
    let reaction = object(json!({"message_id": {"type": "string", "minLength": 1}, "emoji": {"type": "string"}}));
    let mut types = vec![
        "text",
        "image",
        "audio",
        "video",
        "document",
        "sticker",
        "location",
        "contacts",
        "template",
        "hsm",
        "interactive",
    ];
    if reactions {
        types.push("reaction");
    }
    let mut request = json!({
        "type": "object",
        "required": ["to"],
        "properties": {
            "to": {"type": "string", "minLength": 1, "description": "the customer's `wa_id` or phone number in any common format, or a group id"},
            "recipient_type": {"type": "string", "enum": ["individual", "group"]},
            "type": {"type": "string", "enum": types},
            "preview_url": {"type": "boolean"},
            "render_mentions": {"type": "boolean"},
            "ttl": {"description": "non-empty when present"},
            "context": object(json!({"message_id": {"type": "string"}})),
        },
        "oneOf": [
            branch("text", object(json!({"body": text_of(MAX_TEXT_BODY)}))),
            branch("image", media(true, false)),
            branch("audio", media(false, false)),
            branch("video", media(true, false)),
            branch("document", media(true, true)),
            branch("sticker", media(false, false)),
            branch("location", location),
            branch("contacts", json!({"type": "array", "minItems": 1, "items": contact_card()})),
            branch("template", template()),
            branch("hsm", hsm()),
            branch("interactive", interactive()),
        ],
    });
    // Reactions are refused (1009) unless the server was started with `--enable-reactions`.
    if reactions && let Some(branches) = request["oneOf"].as_array_mut() {
        branches.push(branch("reaction", reaction));
    }
    request
}

/// `POST /v1/messages`.
pub fn send(reactions: bool) -> Described {
    let message = object(json!({"id": {"type": "string", "minLength": 1}}));
    let contact = object(json!({"input": {"type": "string"}, "wa_id": {"type": "string"}}));
    let mut answer = envelope(&[("messages", one(message))]);
    answer["properties"]["contacts"] = one(contact);
    Described::answers(201, answer, json!({"messages": [{"id": "gBGGFlA5FpafAgkOuJbRq54qwbM"}], "meta": meta_example()}))
        .takes(request(reactions), json!({"to": "16315551234", "type": "text", "text": {"body": "Your order has shipped."}}))
        .example("image", json!({"to": "16315551234", "type": "image", "image": {"link": "https://example.com/receipt.jpg", "caption": "Your receipt"}}))
        .example("document", json!({"to": "16315551234", "type": "document", "document": {"link": "https://example.com/invoice.pdf", "caption": "Invoice", "filename": "invoice.pdf"}}))
        .example("location", json!({"to": "16315551234", "type": "location", "location": {"longitude": -122.425332, "latitude": 37.758056, "name": "Facebook HQ", "address": "1 Hacker Way, Menlo Park, CA 94025"}}))
        .example("contacts", json!({"to": "16315551234", "type": "contacts", "contacts": [{
            "name": {"formatted_name": "John Smith", "first_name": "John", "last_name": "Smith"},
            "phones": [{"phone": "+1 (650) 555-1234", "type": "WORK", "wa_id": "16505551234"}],
            "emails": [{"email": "john@example.com", "type": "WORK"}], "birthday": "2012-08-18"}]}))
        .example("template", json!({"to": "16315551234", "type": "template", "template": {
            "namespace": "business_a_namespace", "name": "order_update", "language": {"policy": "deterministic", "code": "en_US"},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": "Jane"}, {"type": "text", "text": "today"}]}]}}))
        .example("interactive", json!({"to": "16315551234", "type": "interactive", "interactive": {
            "type": "button", "header": {"type": "text", "text": "Order 123"}, "body": {"text": "Confirm your order?"},
            "footer": {"text": "Reply below"},
            "action": {"buttons": [{"type": "reply", "reply": {"id": "yes", "title": "Yes"}}, {"type": "reply", "reply": {"id": "no", "title": "No"}}]}}}))
        .example("reply", json!({"to": "16315551234", "type": "text", "context": {"message_id": "ABGGFlA5FpafAgo6tHcNmNjXmuSf"}, "text": {"body": "Thanks!"}}))
        .null_is_absent()
        .link("Message", "get_v1_messages_id", "id", "/messages/0/id")
        .link("SimulatedFate", "get_simulator_messages_id", "id", "/messages/0/id")
}
