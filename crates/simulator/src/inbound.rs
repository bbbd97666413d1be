//! Messages from simulated customers (`POST /simulator/inbound`): the request,
//! checked, becomes one inbound message in the On-Premises callback shape
//! (`webhooks.md` §2), which is what is stored and later delivered by webhook.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};
use wabiz_domain::error::{Problems, WaError};

/// Inbound types the callbacks know (`order`, `system`, `unknown` and
/// `ephemeral` come from elsewhere).
pub const INBOUND_TYPES: [&str; 11] = [
    "text",
    "image",
    "document",
    "audio",
    "voice",
    "video",
    "sticker",
    "location",
    "contacts",
    "button",
    "interactive",
];

const MEDIA_TYPES: [&str; 6] = ["image", "document", "audio", "voice", "video", "sticker"];

/// Largest media a simulated customer may send through the control API. The
/// bytes travel base64-encoded in a JSON body, whose limit is 4 MiB.
pub const MAX_INBOUND_MEDIA: usize = 3 * 1024 * 1024;

/// Media carried by an inbound message, to be stored before the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMedia {
    pub mime_type: String,
    pub bytes: Vec<u8>,
    pub caption: Option<String>,
    pub filename: Option<String>,
}

/// A checked inbound request.
#[derive(Debug, Clone, PartialEq)]
pub struct InboundRequest {
    /// The sender as written (normalised by the caller).
    pub from: String,
    pub kind: String,
    /// The type object (without media, which is filled in once stored).
    pub object: Value,
    pub media: Option<InboundMedia>,
    pub profile_name: Option<String>,
    pub context: Option<Value>,
}

/// Plausible bytes for media a simulated customer sends without giving any.
pub fn sample_media(kind: &str) -> (String, Vec<u8>) {
    match kind {
        "image" => {
            let mut out = std::io::Cursor::new(Vec::new());
            let img = image::RgbImage::from_pixel(16, 16, image::Rgb([37, 211, 102]));
            // Encoding a tiny in-memory image cannot fail; fall back to no bytes if it did.
            let _ = img.write_to(&mut out, image::ImageFormat::Jpeg);
            ("image/jpeg".into(), out.into_inner())
        }
        "document" => ("application/pdf".into(), b"%PDF-1.4\n% wabiz simulated document\n%%EOF\n".to_vec()),
        "audio" => ("audio/mpeg".into(), b"ID3\x04\x00\x00\x00\x00\x00\x00wabiz simulated audio".to_vec()),
        "voice" => ("audio/ogg; codecs=opus".into(), b"OggS\x00\x02wabiz simulated voice note".to_vec()),
        "video" => ("video/mp4".into(), b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isomwabiz".to_vec()),
        _ => ("image/webp".into(), b"RIFF\x1c\x00\x00\x00WEBPVP8 wabiz simulated sticker".to_vec()),
    }
}

/// `type/subtype`, optionally with parameters, in printable ASCII (it becomes
/// a `Content-Type` header on download).
pub fn is_mime_type(s: &str) -> bool {
    let essence = s.split(';').next().unwrap_or_default().trim();
    let ok_part = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b));
    s.len() <= 255
        && s.bytes().all(|b| (0x20..0x7f).contains(&b))
        && essence.split_once('/').is_some_and(|(t, st)| ok_part(t) && ok_part(st))
}

fn opt_string(p: &mut Problems, o: &Map<String, Value>, key: &str, path: &str) -> Option<String> {
    match o.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            p.push(WaError::invalid_value(path, &other.to_string()));
            None
        }
    }
}

fn req_string(p: &mut Problems, o: &Map<String, Value>, key: &str, path: &str) -> Option<String> {
    match o.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        None | Some(Value::Null) | Some(Value::String(_)) => {
            p.push(WaError::missing_parameter(path));
            None
        }
        Some(other) => {
            p.push(WaError::invalid_value(path, &other.to_string()));
            None
        }
    }
}

/// Checks a control-API request.
pub fn parse(body: &Map<String, Value>) -> Result<InboundRequest, WaError> {
    let mut p = Problems::new();
    let from = req_string(&mut p, body, "from", "from");
    let kind = req_string(&mut p, body, "type", "type");
    if let Some(k) = &kind
        && !INBOUND_TYPES.contains(&k.as_str())
    {
        p.push(WaError::invalid_value("type", k));
    }
    let profile_name = match body.get("profile") {
        None | Some(Value::Null) => None,
        Some(Value::Object(pr)) => opt_string(&mut p, pr, "name", "profile.name"),
        Some(other) => {
            p.push(WaError::invalid_value("profile", &other.to_string()));
            None
        }
    };
    let context = match body.get("context") {
        None | Some(Value::Null) => None,
        Some(c @ Value::Object(_)) => Some(c.clone()),
        Some(other) => {
            p.push(WaError::invalid_value("context", &other.to_string()));
            None
        }
    };
    p.into_result()?;
    let (Some(from), Some(kind)) = (from, kind) else { return Err(WaError::missing_parameter("from")) };

    let mut p = Problems::new();
    let object = match body.get(&kind) {
        None | Some(Value::Null) => {
            return Err(WaError::missing_parameter(&kind));
        }
        Some(v) => v.clone(),
    };
    let mut media = None;
    let object = match (kind.as_str(), &object) {
        ("text", Value::Object(o)) => {
            let text = req_string(&mut p, o, "body", "text.body");
            json!({ "body": text.unwrap_or_default() })
        }
        (m, Value::Object(o)) if MEDIA_TYPES.contains(&m) => {
            let (default_mime, sample) = sample_media(m);
            let mime_type = match opt_string(&mut p, o, "mime_type", &format!("{m}.mime_type")) {
                None => default_mime,
                Some(mt) if is_mime_type(&mt) => mt,
                Some(mt) => {
                    p.push(WaError::invalid_value(&format!("{m}.mime_type"), &mt));
                    String::new()
                }
            };
            let bytes = match opt_string(&mut p, o, "data", &format!("{m}.data")) {
                None => sample,
                Some(b64) => match STANDARD.decode(b64.trim()) {
                    Ok(bytes) if !bytes.is_empty() && bytes.len() <= MAX_INBOUND_MEDIA => bytes,
                    Ok(_) => {
                        p.push(WaError::invalid(format!("Parameter '{m}.data' must hold 1 byte to 3 MiB")));
                        Vec::new()
                    }
                    Err(_) => {
                        p.push(WaError::invalid(format!("Parameter '{m}.data' is not base64")));
                        Vec::new()
                    }
                },
            };
            let caption = opt_string(&mut p, o, "caption", &format!("{m}.caption"));
            let filename = opt_string(&mut p, o, "filename", &format!("{m}.filename"));
            media = Some(InboundMedia { mime_type, bytes, caption, filename });
            json!({})
        }
        ("location", Value::Object(o)) => {
            for key in ["latitude", "longitude"] {
                if !o.get(key).is_some_and(Value::is_number) {
                    p.push(WaError::invalid(format!("Parameter 'location.{key}' must be a number")));
                }
            }
            object.clone()
        }
        ("contacts", Value::Array(cards)) if !cards.is_empty() => object.clone(),
        ("button", Value::Object(o)) => {
            req_string(&mut p, o, "text", "button.text");
            object.clone()
        }
        ("interactive", Value::Object(o)) => {
            match o.get("type").and_then(Value::as_str) {
                Some(t @ ("button_reply" | "list_reply")) => match o.get(t).and_then(Value::as_object) {
                    Some(reply) => {
                        req_string(&mut p, reply, "id", &format!("interactive.{t}.id"));
                        req_string(&mut p, reply, "title", &format!("interactive.{t}.title"));
                    }
                    None => p.push(WaError::missing_parameter(&format!("interactive.{t}"))),
                },
                _ => p.push(WaError::invalid("Parameter 'interactive.type' must be 'button_reply' or 'list_reply'")),
            }
            object.clone()
        }
        (k, other) => {
            p.push(WaError::invalid_value(k, &other.to_string()));
            Value::Null
        }
    };
    p.into_result()?;
    Ok(InboundRequest { from, kind, object, media, profile_name, context })
}

/// The callback body of one inbound message (`{"contacts": […], "messages": […]}`).
pub fn callback(id: &str, wa_id: &str, timestamp: i64, req: &InboundRequest, object: Value) -> Value {
    let mut message = json!({ "from": wa_id, "id": id, "timestamp": timestamp.to_string(), "type": req.kind });
    message[req.kind.as_str()] = object;
    if let Some(c) = &req.context {
        message["context"] = c.clone();
    }
    json!({ "contacts": [ { "profile": { "name": shown_name(req, wa_id) } , "wa_id": wa_id } ], "messages": [ message ] })
}

/// The profile name the customer shows with this message: the one asked
/// for, or their usual one.
pub fn shown_name(req: &InboundRequest, wa_id: &str) -> String {
    req.profile_name.clone().unwrap_or_else(|| crate::profile::profile_name(wa_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn every_type_parses() {
        let cases = [
            json!({"from": "16315551234", "type": "text", "text": {"body": "hi"}, "profile": {"name": "Kerry"}}),
            json!({"from": "16315551234", "type": "image", "image": {"caption": "look"}}),
            json!({"from": "16315551234", "type": "voice", "voice": {}}),
            json!({"from": "16315551234", "type": "document", "document": {"data": "JVBERi0=", "mime_type": "application/pdf", "filename": "a.pdf"}}),
            json!({"from": "16315551234", "type": "location", "location": {"latitude": 38.98, "longitude": -131.94}}),
            json!({"from": "16315551234", "type": "contacts", "contacts": [{"name": {"formatted_name": "A"}}]}),
            json!({"from": "16315551234", "type": "button", "button": {"payload": "YES", "text": "Yes"}, "context": {"id": "gBx"}}),
            json!({"from": "16315551234", "type": "interactive", "interactive": {"type": "list_reply", "list_reply": {"id": "r1", "title": "Row"}}}),
        ];
        for c in cases {
            assert!(parse(&body(c.clone())).is_ok(), "{c}");
        }
        let voice = parse(&body(json!({"from": "1", "type": "voice", "voice": {}}))).unwrap();
        assert_eq!(voice.media.unwrap().mime_type, "audio/ogg; codecs=opus");
        let doc = parse(&body(json!({"from": "1", "type": "document", "document": {"data": "JVBERi0="}}))).unwrap();
        assert_eq!(doc.media.unwrap().bytes, b"%PDF-");
    }

    #[test]
    fn bad_requests() {
        let err = |v: Value| parse(&body(v)).unwrap_err().errors[0].details.clone().unwrap().into_owned();
        assert_eq!(err(json!({"type": "text", "text": {"body": "x"}})), "Missing mandatory parameter 'from'");
        assert_eq!(err(json!({"from": "1", "type": "fax"})), "Parameter 'type' has invalid value 'fax'");
        assert_eq!(err(json!({"from": "1", "type": "text"})), "Missing mandatory parameter 'text'");
        assert_eq!(err(json!({"from": "1", "type": "text", "text": {}})), "Missing mandatory parameter 'text.body'");
        assert!(parse(&body(json!({"from": "1", "type": "image", "image": {"data": "%%%"}}))).is_err());
        assert!(parse(&body(json!({"from": "1", "type": "location", "location": {"latitude": "x"}}))).is_err());
        assert!(
            parse(&body(json!({"from": "1", "type": "interactive", "interactive": {"type": "nfm_reply"}}))).is_err()
        );
        assert!(parse(&body(json!({"from": "1", "type": "contacts", "contacts": []}))).is_err());
        assert!(
            parse(&body(json!({"from": "1", "type": "image", "image": {"mime_type": "image/jpeg\nX-Evil: 1"}})))
                .is_err()
        );
        assert!(parse(&body(json!({"from": "1", "type": "image", "image": {"mime_type": "jpeg"}}))).is_err());
        assert!(is_mime_type("audio/ogg; codecs=opus") && is_mime_type("application/vnd.ms-excel"));
    }

    #[test]
    fn ids_and_callbacks() {
        let id = wabiz_domain::ids::inbound_message();
        let req = parse(&body(
            json!({"from": "16315551234", "type": "text", "text": {"body": "hi"}, "profile": {"name": "Kerry"}}),
        ))
        .unwrap();
        let cb = callback(&id, "16315551234", 1_518_694_235, &req, req.object.clone());
        assert_eq!(cb["contacts"][0], json!({"profile": {"name": "Kerry"}, "wa_id": "16315551234"}));
        let nameless = parse(&body(json!({"from": "16315551234", "type": "text", "text": {"body": "hi"}}))).unwrap();
        let cb = callback(&id, "16315551234", 1_518_694_235, &nameless, nameless.object.clone());
        assert_eq!(cb["contacts"][0]["profile"]["name"], crate::profile::profile_name("16315551234"));
        assert_eq!(cb["messages"][0]["timestamp"], "1518694235");
        assert_eq!(cb["messages"][0]["text"]["body"], "hi");
        let (mime, bytes) = sample_media("image");
        assert_eq!(mime, "image/jpeg");
        assert_eq!(&bytes[..3], &[0xff, 0xd8, 0xff]);
    }
}
