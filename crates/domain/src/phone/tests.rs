//! The differential test: the compiled path must give libphonenumber's
//! answers (the `phonenumber` crate asked directly) for every calling code,
//! valid and invalid numbers, and the ways clients write them.

use std::collections::BTreeSet;
use std::str::FromStr;

use phonenumber::metadata::DATABASE;

use super::*;

/// `normalize` as it was written against the crate alone: the oracle.
fn libphonenumber_normalize(input: &str, business_cc: Option<u16>) -> Option<String> {
    let trimmed = input.trim();
    if trimmed.is_empty() || trimmed.chars().any(char::is_alphabetic) {
        return None;
    }
    let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    let international = trimmed.starts_with('+') || digits.starts_with("00");
    let digits = if !trimmed.starts_with('+') && digits.starts_with("00") { digits[2..].to_owned() } else { digits };
    if !(5..=15).contains(&digits.len()) {
        return None;
    }
    if international {
        return Some(digits);
    }
    let e164 = |n: &phonenumber::PhoneNumber| {
        phonenumber::format(n).mode(phonenumber::Mode::E164).to_string().trim_start_matches('+').to_owned()
    };
    if let Some(cc) = business_cc {
        for meta in DATABASE.by_code(&cc).unwrap_or_default() {
            if let Ok(region) = phonenumber::country::Id::from_str(meta.id())
                && let Ok(n) = phonenumber::parse(Some(region), &digits)
                && n.code().value() == cc
                && phonenumber::is_valid(&n)
            {
                return Some(e164(&n));
            }
        }
    }
    if let Ok(n) = phonenumber::parse(None, format!("+{digits}"))
        && phonenumber::is_valid(&n)
    {
        return Some(e164(&n));
    }
    match business_cc.map(|c| c.to_string()) {
        Some(cc) if !digits.starts_with(&cc) && digits.len() + cc.len() <= 15 => Some(format!("{cc}{digits}")),
        _ => Some(digits),
    }
}

/// The crate recompiles an expression each time its LRU of 100 has dropped
/// it; a bigger one changes no answer, only how long the oracle takes.
fn speed_up_the_oracle() {
    if let Ok(mut cache) = DATABASE.cache().lock() {
        cache.set_capacity(100_000);
    }
}

/// Every region's metadata, non-geographic entities included (the crate's
/// own iterator goes by region id, and those all share the id `001`).
fn every_region() -> Vec<&'static phonenumber::metadata::Metadata> {
    (1..1000u16).filter_map(|code| DATABASE.by_code(&code)).flatten().collect()
}

fn every_calling_code() -> Vec<u16> {
    (1..1000u16).filter(|code| DATABASE.by_code(code).is_some()).collect()
}

/// A small deterministic generator (SplitMix64): the same cases every run.
struct Draws(u64);

impl Draws {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn digits(&mut self, len: usize) -> String {
        (0..len).map(|_| char::from(b'0' + self.below(10) as u8)).collect()
    }
}

/// Ways clients write a number: the digits as given, then with the
/// punctuation people type.
fn written_forms(digits: &str, draws: &mut Draws) -> Vec<String> {
    let mut forms = vec![digits.to_owned()];
    let spaced = |d: &str, sep: &str| {
        let (a, rest) = d.split_at(d.len().min(3));
        let (b, c) = rest.split_at(rest.len().min(3));
        [a, b, c].iter().filter(|s| !s.is_empty()).copied().collect::<Vec<_>>().join(sep)
    };
    match draws.below(4) {
        0 => forms.push(spaced(digits, " ")),
        1 => forms.push(spaced(digits, "-")),
        2 if digits.len() > 4 => forms.push(format!("({}) {}", &digits[..3], &digits[3..])),
        _ => forms.push(format!(" {digits} ")),
    }
    forms
}

/// Numbers built from every region's example numbers: as they are, with
/// the region's trunk prefix, with its calling code, and changed a little
/// (a digit dropped, added or replaced) so that invalid ones are covered.
fn numbers_of_every_region(draws: &mut Draws) -> Vec<(String, u16)> {
    let mut out = Vec::new();
    for meta in every_region() {
        let d = meta.descriptors();
        let examples: BTreeSet<&str> = [
            Some(d.general()),
            d.fixed_line(),
            d.mobile(),
            d.toll_free(),
            d.premium_rate(),
            d.shared_cost(),
            d.personal_number(),
            d.voip(),
            d.pager(),
            d.uan(),
            d.voicemail(),
            d.no_international(),
        ]
        .into_iter()
        .flatten()
        .filter_map(|x| x.example())
        .collect();
        let code = meta.country_code();
        for example in examples {
            let mut variants = vec![example.to_owned(), format!("{code}{example}")];
            if let Some(prefix) = meta.national_prefix() {
                variants.push(format!("{prefix}{example}"));
            }
            if let Some(idd) = meta.preferred_international_prefix() {
                variants.push(format!("{idd}{code}{example}"));
                variants.push(format!("{idd}44{example}"));
            }
            if example.len() > 1 {
                variants.push(example[..example.len() - 1].to_owned());
                let at = draws.below(example.len());
                let mut changed: Vec<u8> = example.bytes().collect();
                changed[at] = b'0' + ((changed[at] - b'0' + 1 + draws.below(9) as u8) % 10);
                variants.push(String::from_utf8(changed).unwrap_or_default());
            }
            variants.push(format!("{example}{}", draws.below(10)));
            // Other numbers of the same kind: the example's first half kept.
            for _ in 0..3 {
                let keep = example.len() / 2;
                let other = format!("{}{}", &example[..keep], draws.digits(example.len() - keep));
                variants.push(other.clone());
                variants.push(format!("{code}{other}"));
            }
            variants.push(format!("{code}{}", draws.digits(example.len())));
            out.extend(variants.into_iter().map(|v| (v, code)));
        }
    }
    out
}

#[test]
fn every_calling_code_compiles() {
    let codes = every_calling_code();
    assert!(codes.len() > 200, "the metadata lists {} calling codes", codes.len());
    for code in codes {
        assert!(plan::is_calling_code(code));
        assert!(plan::calling_code(code).is_some(), "calling code {code} did not compile");
    }
    assert!(!plan::is_calling_code(0) && plan::calling_code(999).is_none());
}

#[test]
fn the_same_answers_as_libphonenumber_for_every_region() {
    speed_up_the_oracle();
    let mut draws = Draws(19);
    let numbers = numbers_of_every_region(&mut draws);
    assert!(numbers.len() > 12_000, "only {} numbers generated", numbers.len());
    let mut compared = 0usize;
    let mut valid_national = 0usize;
    for (digits, own_code) in &numbers {
        let business = [None, Some(*own_code), Some(1), Some(49)];
        for form in written_forms(digits, &mut draws) {
            for cc in business {
                let want = libphonenumber_normalize(&form, cc);
                assert_eq!(read(&form, cc), want, "{form:?} for a business in +{cc:?}");
                assert_eq!(normalize(&form, cc), want, "{form:?} for a business in +{cc:?}, remembered");
                compared += 1;
            }
        }
        if cc_valid(digits, *own_code) {
            valid_national += 1;
        }
        let want = phonenumber::parse(None, format!("+{digits}")).ok().map(|n| n.code().value());
        assert_eq!(country_code_of(digits), want, "country_code_of({digits})");
    }
    // The set must really cover numbers valid in their own country.
    assert!(valid_national > 8_000, "only {valid_national} numbers valid in their own calling code");
    assert!(compared > 100_000, "{compared} comparisons");
}

fn cc_valid(digits: &str, cc: u16) -> bool {
    valid_in_calling_code(digits, cc).is_some()
}

#[test]
fn the_same_answers_as_libphonenumber_for_random_digits() {
    speed_up_the_oracle();
    let mut draws = Draws(2026);
    let codes = every_calling_code();
    for _ in 0..20_000 {
        let len = 3 + draws.below(16);
        let digits = draws.digits(len);
        let cc = codes[draws.below(codes.len())];
        for business in [None, Some(cc), Some(1)] {
            assert_eq!(
                read(&digits, business),
                libphonenumber_normalize(&digits, business),
                "{digits} in +{business:?}"
            );
        }
        let rest = 4 + draws.below(10);
        let prefixed = format!("{cc}{}", draws.digits(rest));
        assert_eq!(read(&prefixed, Some(cc)), libphonenumber_normalize(&prefixed, Some(cc)), "{prefixed}");
        assert_eq!(read(&prefixed, None), libphonenumber_normalize(&prefixed, None), "{prefixed}");
        let want = phonenumber::parse(None, format!("+{digits}")).ok().map(|n| n.code().value());
        assert_eq!(country_code_of(&digits), want, "country_code_of({digits})");
    }
}

#[test]
fn the_formats_clients_send() {
    let us = Some(1);
    for (input, want) in [
        ("+1 (516) 283-7151", Some("15162837151")),
        ("16315551000", Some("16315551000")),
        ("+1 631 555 1001", Some("16315551001")),
        ("6315551002", Some("16315551002")),
        ("1-631-555-1005", Some("16315551005")),
        ("(631) 555-1006", Some("16315551006")),
        ("5511987654321", Some("5511987654321")),
        ("004915112345678", Some("4915112345678")),
        ("", None),
        ("abc", None),
        ("+1 631 CALL-NOW", None),
        ("123", None),
        ("+1234567890123456", None),
    ] {
        assert_eq!(normalize(input, us).as_deref(), want, "{input}");
        assert_eq!(normalize(input, us), libphonenumber_normalize(input, us), "{input}");
    }
    assert_eq!(normalize("015112345678", Some(49)).as_deref(), Some("4915112345678"), "German national form");
    assert_eq!(normalize("07911 123456", Some(44)).as_deref(), Some("447911123456"), "UK national form");
    assert_eq!(normalize("06 12 34 56 78", Some(33)).as_deref(), Some("33612345678"), "French national form");
    assert_eq!(country_code_of("16315550100"), Some(1));
    assert_eq!(country_code_of("4915112345678"), Some(49));
    assert_eq!(country_code_of("80012345678"), Some(800));
}
