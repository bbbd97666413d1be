//! Every id the server makes up, in one place, each in the shape the original
//! gave it (clients store them but must not parse them).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// `n` random bytes from the operating system. Without randomness an id is
/// only less unique, which no caller can do better about.
fn os_random<const N: usize>() -> [u8; N] {
    let mut raw = [0u8; N];
    let _ = getrandom::fill(&mut raw);
    raw
}

/// An outbound message id: `gB` and 25 base64url characters. The first 6
/// bytes are the time in milliseconds and the other 13 random, so that the
/// ids stored in one commit sit side by side in the primary-key index:
/// random keys dirtied one index page per message, written again at every
/// checkpoint. The random bytes come from the thread's CSPRNG (`rand`,
/// seeded from the OS): a `getrandom` system call per message was 1 % of
/// the send path.
pub fn outbound_message() -> String {
    let mut raw = [0u8; 19];
    let millis =
        u64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis()))
            .unwrap_or(u64::MAX);
    raw[..6].copy_from_slice(&millis.to_be_bytes()[2..]);
    rand::Rng::fill_bytes(&mut rand::rng(), &mut raw[6..]);
    let mut id = String::with_capacity(27);
    id.push_str("gB");
    id.push_str(&URL_SAFE_NO_PAD.encode(raw)[..25]);
    id
}

/// An inbound message id (also system messages and group events): `AB` and
/// 26 random base64url characters, 28 in all.
pub fn inbound_message() -> String {
    format!("AB{}", &URL_SAFE_NO_PAD.encode(os_random::<20>())[..26])
}

/// A media id: a lower-case UUID v4.
pub fn media() -> String {
    uuid::Builder::from_random_bytes(os_random()).into_uuid().to_string()
}

/// A pricing conversation id: 32 hex characters.
pub fn conversation() -> String {
    crate::hex::encode(&os_random::<16>())
}

/// A group invite code: 22 base64url characters.
pub fn group_invite() -> String {
    URL_SAFE_NO_PAD.encode(os_random::<17>())[..22].to_owned()
}

/// A node's instance id: 12 hex characters.
pub fn node_instance() -> String {
    crate::hex::encode(&os_random::<6>())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base64url(s: &str) -> bool {
        s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }

    #[test]
    fn outbound_ids_look_like_the_originals_and_sort_by_time() {
        let id = outbound_message();
        assert_eq!(id.len(), 27);
        assert!(id.starts_with("gB") && base64url(&id), "{id}");
        // Ids made together share their leading characters (the time), so
        // they are stored side by side; the rest differs.
        let (a, b) = (outbound_message(), outbound_message());
        assert_eq!(a[..7], b[..7], "{a} {b}");
        assert_ne!(a[9..], b[9..], "{a} {b}");
    }

    #[test]
    fn every_id_has_its_shape_and_differs_each_time() {
        let inbound = inbound_message();
        assert!(inbound.starts_with("AB") && inbound.len() == 28 && base64url(&inbound), "{inbound}");
        let media = media();
        let parts: Vec<&str> = media.split('-').collect();
        assert_eq!(parts.iter().map(|p| p.len()).collect::<Vec<_>>(), [8, 4, 4, 4, 12]);
        assert!(parts[2].starts_with('4'), "version 4: {media}");
        assert!(matches!(parts[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'), "RFC 4122 variant: {media}");
        assert!(media.chars().all(|c| c == '-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        let conversation = conversation();
        assert!(conversation.len() == 32 && conversation.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(group_invite().len(), 22);
        assert_eq!(node_instance().len(), 12);
        assert_ne!(inbound_message(), inbound_message());
        assert_ne!(self::media(), self::media());
    }
}
