//! libphonenumber's metadata for one calling code, with its regular
//! expressions compiled once and kept.
//!
//! The `phonenumber` crate keeps its expressions as sources in a global LRU
//! cache of 100 entries behind one mutex: every use locks it, hashes the
//! (often kilobyte-long) source, and recompiles it when the LRU has dropped
//! it, which the 25 regions of +1 alone guarantee. Here each expression is
//! compiled from the same source with the same options (`ignore_whitespace`)
//! the first time its calling code is needed, then shared read-only by every
//! thread.

use std::str::FromStr;
use std::sync::{LazyLock, OnceLock};

use phonenumber::metadata::{DATABASE, Descriptor as LibDescriptor, Metadata};
use regex::{Regex, RegexBuilder};
use regex_automata::{Anchored, Input, meta, util::syntax};

/// An expression libphonenumber only ever asks "does a match start at the
/// first digit?" (or "where does that match end?"). The crate asks with an
/// unanchored `find` and checks the start; the leftmost match starts at 0
/// exactly when some match does, and then it is the same match, so an
/// anchored search gives the same answer while the lazy DFA only has to
/// learn the states reachable from the first digit (unanchored, the long
/// patterns of +1 kept it building states for every number never seen).
pub(super) struct Pattern(meta::Regex);

impl Pattern {
    fn compile(source: &str) -> Option<Self> {
        meta::Regex::builder().syntax(syntax::Config::new().ignore_whitespace(true)).build(source).ok().map(Self)
    }

    /// A match starts at the first character.
    pub(super) fn matches_start(&self, text: &str) -> bool {
        self.0.is_match(Input::new(text).anchored(Anchored::Yes))
    }

    /// Where the match that starts at the first character ends.
    pub(super) fn start_match_end(&self, text: &str) -> Option<usize> {
        self.0.find(Input::new(text).anchored(Anchored::Yes)).map(|m| m.end())
    }
}

/// A number's description of one type (fixed line, mobile, …, or the general
/// one every number of the region matches).
pub(super) struct Descriptor {
    pattern: Pattern,
    lengths: Box<[u16]>,
    local_lengths: Box<[u16]>,
}

impl Descriptor {
    fn compile(d: &LibDescriptor) -> Option<Self> {
        Some(Self {
            pattern: Pattern::compile(d.national_number().as_str())?,
            lengths: d.possible_length().into(),
            local_lengths: d.possible_local_length().into(),
        })
    }

    /// libphonenumber's test: a possible length (when lengths are listed),
    /// and the pattern matching from the first digit (not necessarily to the
    /// last).
    pub(super) fn matches(&self, national: &str) -> bool {
        if !self.lengths.is_empty() && !self.lengths.iter().any(|&l| usize::from(l) == national.len()) {
            return false;
        }
        self.pattern.matches_start(national)
    }
}

/// What a national number's length says about it (libphonenumber's
/// `Validation`, of which only these outcomes matter here).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Length {
    Possible,
    TooShort,
    Other,
}

/// One region (country or non-geographic entity) of a calling code.
pub(super) struct Region {
    /// The region's id is one libphonenumber's `country::Id` knows: it can
    /// be a default region for parsing, and a validation result.
    pub(super) id_is_country: bool,
    /// The id `001`: a non-geographic entity (800, 808, 870, …).
    pub(super) non_geographic: bool,
    pub(super) code: u16,
    pub(super) code_text: String,
    pub(super) international_prefix: Option<Pattern>,
    pub(super) national_prefix: Option<String>,
    pub(super) prefix_for_parsing: Option<Regex>,
    pub(super) prefix_transform: Option<String>,
    pub(super) leading_digits: Option<Pattern>,
    pub(super) general: Descriptor,
    /// Every type that makes a number valid (premium rate, toll free,
    /// shared cost, VoIP, personal, pager, UAN, voicemail, fixed line,
    /// mobile): libphonenumber's `number_type(..) != Unknown`.
    types: Vec<Descriptor>,
}

impl Region {
    fn compile(meta: &Metadata) -> Option<Self> {
        let d = meta.descriptors();
        let types = [
            d.premium_rate(),
            d.toll_free(),
            d.shared_cost(),
            d.voip(),
            d.personal_number(),
            d.pager(),
            d.uan(),
            d.voicemail(),
            d.fixed_line(),
            d.mobile(),
        ]
        .into_iter()
        .flatten()
        .map(Descriptor::compile)
        .collect::<Option<Vec<_>>>()?;
        Some(Self {
            id_is_country: phonenumber::country::Id::from_str(meta.id()).is_ok(),
            non_geographic: meta.id() == "001",
            code: meta.country_code(),
            code_text: meta.country_code().to_string(),
            international_prefix: optional(meta.international_prefix().map(|r| r.as_str()), Pattern::compile)?,
            national_prefix: meta.national_prefix().map(str::to_owned),
            prefix_for_parsing: optional(meta.national_prefix_for_parsing().map(|r| r.as_str()), compile)?,
            prefix_transform: meta.national_prefix_transform_rule().map(str::to_owned),
            leading_digits: optional(meta.leading_digits().map(|r| r.as_str()), Pattern::compile)?,
            general: Descriptor::compile(d.general())?,
            types,
        })
    }

    /// libphonenumber's `number_type(meta, national) != Type::Unknown`.
    pub(super) fn has_type(&self, national: &str) -> bool {
        self.general.matches(national) && self.types.iter().any(|t| t.matches(national))
    }

    /// libphonenumber's `validator::length(meta, number, Type::Unknown)`.
    pub(super) fn length(&self, len: usize) -> Length {
        let possible = &self.general.lengths;
        let (Some(&min), Some(&max)) = (possible.first(), possible.last()) else {
            return Length::Other;
        };
        let has = |ls: &[u16]| ls.iter().any(|&l| usize::from(l) == len);
        if has(&self.general.local_lengths) || len == usize::from(min) {
            Length::Possible
        } else if len < usize::from(min) {
            Length::TooShort
        } else if len > usize::from(max) {
            Length::Other
        } else if has(possible) {
            Length::Possible
        } else {
            Length::Other
        }
    }
}

/// Every region of one calling code, in libphonenumber's order (the main
/// country first).
pub(super) struct CallingCode {
    pub(super) regions: Vec<Region>,
}

/// The national prefix's expression is also used for its groups and for
/// replacing, as the crate does: kept as a `regex::Regex`.
fn compile(source: &str) -> Option<Regex> {
    RegexBuilder::new(source).ignore_whitespace(true).build().ok()
}

/// `Some(None)` without a source, `None` when the source does not compile.
fn optional<T>(source: Option<&str>, compile: impl Fn(&str) -> Option<T>) -> Option<Option<T>> {
    match source {
        None => Some(None),
        Some(s) => compile(s).map(Some),
    }
}

/// Calling codes are at most three digits.
const CODES: usize = 1000;

/// One slot per calling code, filled the first time the code is asked for.
/// An inner `None`: no such code, or an expression this build could not
/// compile (the caller then asks the `phonenumber` crate itself).
static PLANS: LazyLock<Box<[OnceLock<Option<CallingCode>>]>> =
    LazyLock::new(|| (0..CODES).map(|_| OnceLock::new()).collect());

/// The compiled metadata of calling code `code`: `None` when no region has
/// it (see `is_calling_code`) or when an expression did not compile.
pub(super) fn calling_code(code: u16) -> Option<&'static CallingCode> {
    let slot = PLANS.get(usize::from(code))?;
    slot.get_or_init(|| {
        let metas = DATABASE.by_code(&code)?;
        let regions = metas.into_iter().map(Region::compile).collect::<Option<Vec<_>>>()?;
        Some(CallingCode { regions })
    })
    .as_ref()
}

/// The calling codes libphonenumber knows.
/// (Asked code by code: the crate's iterator goes by region id, and the
/// non-geographic entities all share the id `001`.)
static KNOWN: LazyLock<Box<[bool]>> =
    LazyLock::new(|| (0..CODES).map(|c| u16::try_from(c).is_ok_and(|c| DATABASE.by_code(&c).is_some())).collect());

/// Whether libphonenumber knows calling code `code` (nothing compiled).
pub(super) fn is_calling_code(code: u16) -> bool {
    KNOWN.get(usize::from(code)).copied().unwrap_or(false)
}
