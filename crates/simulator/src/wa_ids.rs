//! The `wa_id` WhatsApp knows a number by, where it is not the number's
//! international digits. Two well-known cases, reproduced (with the legacy
//! contact rules, `SimulatorOptions::legacy_wa_ids`) for every number they
//! cover, so that clients keeping an `input` → `wa_id` map can be tested:
//!
//! - Brazil: mobile numbers gained a ninth digit (a `9` before the eight-digit
//!   subscriber number); accounts keep the number without it. `+55 11
//!   91234-5678` is `wa_id` `551112345678`.
//! - Mexico: mobile accounts carry the old mobile prefix `1` after the country
//!   code. `+52 55 1234 5678` is `wa_id` `5215512345678`.
//!
//! Every other number's `wa_id` is its digits. A number already in its
//! `wa_id` form maps to itself.

/// The `wa_id` of the number with international digits `number`.
pub fn wa_id_of(number: &str) -> String {
    if let Some(rest) = number.strip_prefix("55")
        && rest.len() == 11
        && rest.as_bytes().get(2) == Some(&b'9')
    {
        return format!("55{}{}", &rest[..2], &rest[3..]);
    }
    if let Some(rest) = number.strip_prefix("52")
        && rest.len() == 10
    {
        return format!("521{rest}");
    }
    number.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brazilian_mobiles_lose_the_ninth_digit() {
        assert_eq!(wa_id_of("5511912345678"), "551112345678");
        assert_eq!(wa_id_of("551112345678"), "551112345678");
        // A landline (eight digits after the area code) is itself.
        assert_eq!(wa_id_of("551132345678"), "551132345678");
    }

    #[test]
    fn mexican_mobiles_keep_the_one() {
        assert_eq!(wa_id_of("525512345678"), "5215512345678");
        assert_eq!(wa_id_of("5215512345678"), "5215512345678");
    }

    #[test]
    fn other_numbers_are_their_digits() {
        for n in ["16315551234", "447700900123", "5511", "52"] {
            assert_eq!(wa_id_of(n), n);
        }
    }
}
