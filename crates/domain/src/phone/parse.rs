//! What the `phonenumber` crate (libphonenumber's metadata, version pinned in
//! Cargo.lock) answers for a string of ASCII digits, computed on the
//! compiled metadata of `plan.rs`.
//!
//! Only the path a string of 3 to 17 plain digits takes through its parser
//! and validator is followed here, step for step, quirks included (a
//! national prefix may be stripped twice; a pattern matches when a match
//! starts at the first digit). `tests.rs` holds the differential test that
//! compares every answer with the crate's own over a large generated set.

use std::borrow::Cow;

use super::plan::{self, CallingCode, Length, Region};

/// libphonenumber's shortest and longest national significant numbers.
const MIN_NATIONAL: usize = 2;
const MAX_NATIONAL: usize = 17;
/// Calling codes have one to three digits.
const MAX_CODE_DIGITS: usize = 3;

/// A parsed number: its calling code and national significant number
/// (leading zeros kept, as libphonenumber prints it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Parsed {
    pub(super) code: u16,
    pub(super) national: String,
}

impl Parsed {
    /// libphonenumber's E.164 form without its `+`.
    pub(super) fn e164_digits(&self) -> String {
        format!("{}{}", self.code, self.national)
    }
}

/// Strips a calling code of 1–3 digits off the front of `digits`, the first
/// (shortest) one libphonenumber knows.
fn split_calling_code(digits: &str) -> Option<(u16, &str)> {
    if digits.len() <= MIN_NATIONAL || digits.starts_with('0') {
        return None;
    }
    (1..=MAX_CODE_DIGITS).find_map(|len| {
        let code: u16 = digits.get(..len)?.parse().ok()?;
        plan::is_calling_code(code).then(|| (code, &digits[len..]))
    })
}

/// A calling code whose metadata did not compile with this build's regex
/// engine: the caller asks the `phonenumber` crate instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Uncompiled;

fn compiled(code: u16) -> Result<&'static CallingCode, Uncompiled> {
    plan::calling_code(code).ok_or(Uncompiled)
}

/// `parse(None, "+{digits}")`.
pub(super) fn international(digits: &str) -> Result<Option<Parsed>, Uncompiled> {
    let Some((code, national)) = split_calling_code(digits) else {
        return Ok(None);
    };
    let region = region_of(compiled(code)?, national.trim_start_matches('0'));
    Ok(finish(code, region, Cow::Borrowed(national)))
}

/// `parse(Some(region), digits)`: a number as dialled in `region`.
pub(super) fn in_region(digits: &str, region: &Region) -> Option<Parsed> {
    let after_idd = region.international_prefix.as_ref().and_then(|idd| {
        let rest = &digits[idd.start_match_end(digits)?..];
        (!rest.starts_with('0')).then_some(rest)
    });
    let (code, national) = match after_idd {
        // Dialled with the region's international prefix: a calling code follows.
        Some(rest) => split_calling_code(rest)?,
        None => {
            let national = if digits.starts_with(&region.code_text)
                && (!region.general.matches(digits) || region.length(digits.len()) != Length::Possible)
            {
                &digits[region.code_text.len()..]
            } else {
                digits
            };
            (region.code, national)
        }
    };
    // The region given, not the one the calling code belongs to: the
    // crate strips national prefixes with the default region's rules.
    finish(code, Some(region), Cow::Borrowed(national))
}

/// The end of libphonenumber's `parse_with`: the national prefix stripped
/// (where what is left is not too short), then the length limits and the
/// national number's own parse.
fn finish(code: u16, region: Option<&Region>, mut national: Cow<'_, str>) -> Option<Parsed> {
    if let Some(region) = region {
        let mut stripped = strip_national_prefix(region, &national);
        if let Some(prefix) = &region.national_prefix
            && stripped.starts_with(prefix.as_str())
        {
            stripped = Cow::Owned(stripped[prefix.len()..].to_owned());
        }
        if region.length(stripped.len()) != Length::TooShort {
            national = Cow::Owned(stripped.into_owned());
        }
    }
    if !(MIN_NATIONAL..=MAX_NATIONAL).contains(&national.len()) {
        return None;
    }
    // libphonenumber keeps the leading zeros apart and the rest as a number
    // below 2^56: all zeros, or a rest that large, does not parse.
    let rest = national.trim_start_matches('0');
    let value: u64 = rest.parse().ok()?;
    if value >= 1 << 56 {
        return None;
    }
    Some(Parsed { code, national: national.into_owned() })
}

/// libphonenumber's national-prefix (trunk code) stripping for a region.
fn strip_national_prefix<'a>(region: &Region, national: &'a str) -> Cow<'a, str> {
    let Some(parsing) = &region.prefix_for_parsing else {
        return match &region.national_prefix {
            Some(prefix) if national.starts_with(prefix.as_str()) => Cow::Borrowed(&national[prefix.len()..]),
            _ => Cow::Borrowed(national),
        };
    };
    let Some(caps) = parsing.captures(national).filter(|c| c.get(0).is_some_and(|m| m.start() == 0)) else {
        return Cow::Borrowed(national);
    };
    let end = caps.get(0).map_or(0, |m| m.end());
    let last_group_matched = caps.get(caps.len() - 1).is_some();
    match &region.prefix_transform {
        Some(transform) if last_group_matched => {
            let transformed = parsing.replace(national, transform.as_str());
            if region.general.matches(national) && !region.general.matches(&transformed) {
                Cow::Borrowed(national)
            } else {
                Cow::Owned(transformed.into_owned())
            }
        }
        // The crate's guard here compares the number with itself: it never
        // keeps the prefix.
        _ => Cow::Borrowed(&national[end..]),
    }
}

/// The region whose rules judge `national` (libphonenumber's `source_for`).
fn region_of<'a>(cc: &'a CallingCode, national: &str) -> Option<&'a Region> {
    if let [only] = cc.regions.as_slice() {
        return (only.non_geographic || only.id_is_country).then_some(only);
    }
    cc.regions.iter().find(|r| match &r.leading_digits {
        Some(leading) => leading.matches_start(national),
        None => r.has_type(national),
    })
}

/// libphonenumber's `is_valid`.
pub(super) fn is_valid(parsed: &Parsed) -> Result<bool, Uncompiled> {
    Ok(region_of(compiled(parsed.code)?, &parsed.national).is_some_and(|r| r.has_type(&parsed.national)))
}
