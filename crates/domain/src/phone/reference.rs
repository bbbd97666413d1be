//! The same questions asked of the `phonenumber` crate itself: the answer
//! `parse.rs` must give, used where the compiled metadata is missing and,
//! in the tests, as the oracle.

use std::str::FromStr;

use super::parse::Parsed;

pub(super) fn parsed(n: &phonenumber::PhoneNumber) -> Parsed {
    Parsed { code: n.code().value(), national: n.national().to_string() }
}

/// `parse(None, "+{digits}")`.
pub(super) fn international(digits: &str) -> Option<phonenumber::PhoneNumber> {
    phonenumber::parse(None, format!("+{digits}")).ok()
}

/// The first region of `cc` in which `digits`, dialled there, is a valid
/// number of `cc`.
pub(super) fn valid_in_calling_code(digits: &str, cc: u16) -> Option<Parsed> {
    let regions = phonenumber::metadata::DATABASE.by_code(&cc).unwrap_or_default();
    regions.into_iter().find_map(|meta| {
        let region = phonenumber::country::Id::from_str(meta.id()).ok()?;
        let n = phonenumber::parse(Some(region), digits).ok()?;
        (n.code().value() == cc && phonenumber::is_valid(&n)).then(|| parsed(&n))
    })
}

/// `digits` as a valid international number written without its `+`.
pub(super) fn valid_international(digits: &str) -> Option<Parsed> {
    international(digits).filter(phonenumber::is_valid).map(|n| parsed(&n))
}
