//! Phone numbers as businesses write them, turned into `wa_id`s.
//!
//! The answers are libphonenumber's (the `phonenumber` crate's metadata and
//! rules), computed on metadata compiled once per calling code (`plan.rs`,
//! `parse.rs`) so that a number never seen before costs microseconds on
//! every core at once. `reference.rs` asks the crate itself: where a calling
//! code's metadata did not compile, and in the differential test
//! (`tests.rs`) that holds the two to the same answers.

mod parse;
mod plan;
mod reference;
#[cfg(test)]
mod tests;

use std::sync::{Arc, LazyLock};

use parse::{Parsed, Uncompiled};

/// The calling code of an international number given as digits
/// (`"16315550100"` → 1), as libphonenumber reads `+{wa_id}`.
pub fn country_code_of(wa_id: &str) -> Option<u16> {
    if !is_plain_digits(wa_id) {
        return reference::international(wa_id).map(|n| n.code().value());
    }
    match parse::international(wa_id) {
        Ok(parsed) => parsed.map(|p| p.code),
        Err(Uncompiled) => reference::international(wa_id).map(|n| n.code().value()),
    }
}

/// Digits only, as many as libphonenumber's fast path here is written for.
fn is_plain_digits(s: &str) -> bool {
    (3..=20).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

/// Numbers normalised lately: integrations send to the same customers again
/// and again, and a hit (about 0.3 µs) is cheaper than reading the number
/// again (about 5 µs for +1, where 25 regions share the code). The answer
/// depends only on the text and the calling code. Kept small: a campaign to
/// distinct numbers only fills it (100,000 entries were some 25 MiB).
static NORMALIZED: LazyLock<NormalizedCache> = LazyLock::new(|| moka::sync::Cache::new(16_384));

/// (number as written, business calling code) → `wa_id`.
type NormalizedCache = moka::sync::Cache<(Box<str>, Option<u16>), Option<Arc<str>>>;

/// The `wa_id` of a phone number written any common way, or `None` when it
/// cannot be one. A number written without its country code is read in the
/// business's country (`business_cc`).
pub fn normalize(input: &str, business_cc: Option<u16>) -> Option<String> {
    let key = (Box::from(input), business_cc);
    if let Some(hit) = NORMALIZED.get(&key) {
        return hit.as_deref().map(str::to_owned);
    }
    let wa_id = read(input, business_cc);
    NORMALIZED.insert(key, wa_id.as_deref().map(Arc::from));
    wa_id
}

/// `normalize` without the cache.
fn read(input: &str, business_cc: Option<u16>) -> Option<String> {
    let trimmed = input.trim();
    if trimmed.is_empty() || trimmed.chars().any(char::is_alphabetic) {
        return None;
    }
    let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    let international = trimmed.starts_with('+') || digits.starts_with("00");
    let digits = match digits.strip_prefix("00") {
        Some(rest) if !trimmed.starts_with('+') => rest.to_owned(),
        _ => digits,
    };
    if !(5..=15).contains(&digits.len()) {
        return None;
    }
    if international {
        return Some(digits);
    }
    // Written nationally in the business's country? (libphonenumber knows the
    // trunk prefixes and lengths.)
    if let Some(cc) = business_cc
        && let Some(n) = valid_in_calling_code(&digits, cc)
    {
        return Some(n.e164_digits());
    }
    // A complete international number without its '+'.
    if let Some(n) = valid_international(&digits) {
        return Some(n.e164_digits());
    }
    // Neither is certain: a number that already starts with the business's
    // code is taken as international, anything else gets the code prepended.
    match business_cc.map(|c| c.to_string()) {
        Some(cc) if !digits.starts_with(&cc) && digits.len() + cc.len() <= 15 => Some(format!("{cc}{digits}")),
        _ => Some(digits),
    }
}

/// The first region of calling code `cc` in which `digits`, dialled there,
/// is a valid number of `cc`.
fn valid_in_calling_code(digits: &str, cc: u16) -> Option<Parsed> {
    let Some(plan) = plan::calling_code(cc) else {
        return if plan::is_calling_code(cc) { reference::valid_in_calling_code(digits, cc) } else { None };
    };
    // Validity depends only on the parsed number, and most regions of a
    // calling code parse a number alike (the 25 of +1 always do): each
    // distinct result is judged once.
    let mut last_invalid: Option<Parsed> = None;
    for region in plan.regions.iter().filter(|r| r.id_is_country) {
        let Some(parsed) = parse::in_region(digits, region).filter(|p| p.code == cc) else {
            continue;
        };
        if last_invalid.as_ref() == Some(&parsed) {
            continue;
        }
        match parse::is_valid(&parsed) {
            Ok(true) => return Some(parsed),
            Ok(false) => last_invalid = Some(parsed),
            Err(Uncompiled) => return reference::valid_in_calling_code(digits, cc),
        }
    }
    None
}

/// `digits` as a valid international number written without its `+`.
fn valid_international(digits: &str) -> Option<Parsed> {
    let check = || -> Result<Option<Parsed>, Uncompiled> {
        match parse::international(digits)? {
            Some(parsed) if parse::is_valid(&parsed)? => Ok(Some(parsed)),
            _ => Ok(None),
        }
    };
    check().unwrap_or_else(|Uncompiled| reference::valid_international(digits))
}
