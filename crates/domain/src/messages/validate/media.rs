//! §4: media references, of media messages and of template and interactive headers.

use serde_json::{Map, Value};

use super::fields::{at, filled, max_chars, not_required_for, opt_obj, opt_str, req_str, truthy};
use super::{MediaRef, MessageType};
use crate::error::{ErrorCode, Problems, WaError, shown};

/// Media caption limit (`messages.md` §4, Recommended).
pub const MAX_CAPTION: usize = 1024;

/// §4: a media message's object. `caption`/`filename` presence per type is pass 1's.
pub(super) fn media_message(p: &mut Problems, kind: MessageType, o: &Map<String, Value>, media: &mut Vec<MediaRef>) {
    media_object(p, o, "", media);
    if let Some(caption) = opt_str(p, o, "", "caption") {
        max_chars(p, "caption", caption, MAX_CAPTION);
    }
    if kind == MessageType::Document {
        opt_str(p, o, "", "filename");
    }
}

/// Exactly one of `id` / `link`; a link is `http(s)` with a host; `provider` (`{"name": …}`)
/// only with a link. Used for media messages and template/interactive header media.
fn media_object(p: &mut Problems, o: &Map<String, Value>, prefix: &str, media: &mut Vec<MediaRef>) {
    match (filled(o, "id"), filled(o, "link")) {
        (None, None) => p.push(WaError::missing_parameter_of(&["id", "link"])),
        (Some(_), Some(_)) => p.push(WaError::exactly_one_of(&["id", "link"])),
        (Some(id), None) => {
            match id {
                Value::String(s) => media.push(MediaRef::Id(s.clone())),
                other => p.push(WaError::invalid_value(&at(prefix, "id"), &shown(other))),
            }
            // A provider only carries the credentials for downloading a link.
            if filled(o, "provider").is_some() {
                p.push(WaError::new(
                    ErrorCode::ParameterNotRequired,
                    format!("Parameter '{}' is only allowed with 'link'", at(prefix, "provider")),
                ));
            }
        }
        (None, Some(link)) => {
            let url = match link {
                Value::String(s) if is_http_url(s) => Some(s.clone()),
                other => {
                    p.push(WaError::invalid_value(&at(prefix, "link"), &shown(other)));
                    None
                }
            };
            let provider_path = at(prefix, "provider");
            let provider = match opt_obj(p, o, prefix, "provider") {
                Some(pr) => req_str(p, pr, &provider_path, "name").map(str::to_owned),
                None => None,
            };
            if let Some(url) = url {
                media.push(MediaRef::Link { url, provider });
            }
        }
    }
}

/// A media object in a template or interactive header: §4 rules, `filename` for documents only.
pub(super) fn header_media(
    p: &mut Problems,
    m: &Map<String, Value>,
    prefix: &str,
    ty: &str,
    media: &mut Vec<MediaRef>,
) {
    media_object(p, m, prefix, media);
    if ty == "document" {
        opt_str(p, m, prefix, "filename");
    } else if truthy(m.get("filename")) {
        p.push(not_required_for("filename", ty));
    }
}

/// An absolute `http`/`https` URL with a host. The domain crate has no URL parser, and this is
/// all `messages.md` §4 asks of a media link (the download itself happens at send time).
fn is_http_url(s: &str) -> bool {
    fn strip_scheme<'a>(s: &'a str, scheme: &str) -> Option<&'a str> {
        let n = scheme.len();
        // The scheme is ASCII, so a case-insensitive byte match ends on a char boundary.
        (s.len() >= n && s.as_bytes()[..n].eq_ignore_ascii_case(scheme.as_bytes())).then(|| &s[n..])
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let Some(rest) = strip_scheme(s, "https://").or_else(|| strip_scheme(s, "http://")) else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = if let Some(v6) = host_port.strip_prefix('[') {
        match v6.split_once(']') {
            Some((addr, tail)) if !addr.is_empty() => (addr, tail.strip_prefix(':').unwrap_or(tail)),
            _ => return false,
        }
    } else {
        host_port.split_once(':').unwrap_or((host_port, ""))
    };
    !host.is_empty()
        && port.bytes().all(|b| b.is_ascii_digit())
        && host.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '.' | '_' | '%' | ':'))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::messages::validate::MediaRef;
    use crate::messages::validate::test_support::*;

    #[test]
    fn b19_media_with_both_id_and_link() {
        assert_eq!(
            errs(of("image", json!({"id": "x", "link": "https://a.b/c.jpg"}))),
            one(1010, "Exactly one of the following parameters must be present: 'id', 'link'")
        );
    }

    #[test]
    fn media_needs_id_or_link() {
        assert_eq!(
            errs(of("video", json!({"caption": "c"}))),
            one(1008, "Atleast one of the following parameters must be present: 'id', 'link'")
        );
        assert_eq!(codes(of("video", json!({"id": "", "link": "", "caption": "c"}))), [1008]);
        assert_eq!(codes(of("video", json!({"id": 5}))), [1009]);
    }

    #[test]
    fn media_links() {
        let m = ok(of(
            "document",
            json!({"link": "https://example.com/a.pdf", "provider": {"name": "my-cdn"}, "caption": "Invoice", "filename": "invoice.pdf"}),
        ));
        assert_eq!(
            m.media,
            [MediaRef::Link { url: "https://example.com/a.pdf".into(), provider: Some("my-cdn".into()) }]
        );
        for good in [
            "http://a.b",
            "HTTPS://example.com:8443/x?y#z",
            "http://user:pw@host/p",
            "http://[::1]:80/x",
            "http://localhost",
        ] {
            assert_eq!(
                ok(of("image", json!({"link": good}))).media,
                [MediaRef::Link { url: good.into(), provider: None }]
            );
        }
        for bad in [
            "ftp://a.b/c",
            "https://",
            "https:///x",
            "example.com/a.jpg",
            "http://a b/c",
            "http://host:port/",
            "http://[]/x",
            "javascript:alert(1)",
        ] {
            assert_eq!(
                errs(of("image", json!({"link": bad}))),
                one(1009, &format!("Parameter 'link' has invalid value '{bad}'")),
                "{bad}"
            );
        }
    }

    #[test]
    fn media_provider() {
        assert_eq!(
            errs(of("image", json!({"id": "x", "provider": {"name": "p"}}))),
            one(1010, "Parameter 'provider' is only allowed with 'link'")
        );
        assert_eq!(
            errs(of("image", json!({"link": "https://a.b/c", "provider": {}}))),
            one(1008, "Missing mandatory parameter 'provider.name'")
        );
        assert_eq!(codes(of("image", json!({"link": "https://a.b/c", "provider": "p"}))), [1009]);
        assert_eq!(codes(of("image", json!({"link": "https://a.b/c", "provider": {"name": 1}}))), [1009]);
    }

    #[test]
    fn media_caption_and_filename() {
        ok(of("image", json!({"id": "x", "caption": "c".repeat(1024)})));
        assert_eq!(codes(of("image", json!({"id": "x", "caption": "c".repeat(1025)}))), [1009]);
        assert_eq!(codes(of("image", json!({"id": "x", "caption": 5}))), [1009]);
        assert_eq!(codes(of("document", json!({"id": "x", "filename": ["a"]}))), [1009]);
    }
}
