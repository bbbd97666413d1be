//! The campaign's recipients: distinct US numbers in a scattered order, the
//! way a CRM exports them (`1`, area code, seven digits, no `+`).
//!
//! The space holds 10 million numbers: 25 area codes × 40 exchanges
//! (`220`–`259`, clear of the `N11` service codes and of `555`) × 10,000
//! lines. An index `i` becomes a point of that space through the affine map
//! `i → (STEP·i + OFFSET) mod SPACE`, a permutation because `STEP` shares no
//! factor with 10⁷ (it is odd and does not end in 5), so no number comes
//! twice before the space is used up. Each wrk thread (and each wrk process
//! of a multi-node run) owns a slot: a block of `SPACE / slots` indices.
//!
//! wrk runs the same arithmetic in Lua ([`lua_generator`]); the wrk test
//! checks that both agree request by request. LuaJIT counts in doubles,
//! which stay exact here: `STEP · i` is below 10¹⁴, far from 2⁵³.

/// How many numbers the campaign draws from.
pub const SPACE: u64 = 10_000_000;

/// Well-known geographic area codes that libphonenumber takes as valid US
/// numbers with any exchange `[2-9]xx`. 631 is left out: the simulator's
/// own number and the bench's other ranges live there.
pub const AREA_CODES: [&str; 25] = [
    "201", "202", "206", "212", "213", "214", "303", "305", "312", "313", "404", "412", "415", "503", "504", "512",
    "602", "612", "615", "617", "702", "713", "804", "818", "919",
];

/// The first exchange (the three digits after the area code).
const FIRST_EXCHANGE: u64 = 220;
const EXCHANGES: u64 = 40;
const LINES: u64 = 10_000;
const PER_AREA: u64 = EXCHANGES * LINES;

/// The affine map's factor: odd and not a multiple of 5, so coprime with 10⁷.
const STEP: u64 = 7_654_321;
const OFFSET: u64 = 1_234_567;

// The space is exactly covered by the area codes.
const _: () = assert!(AREA_CODES.len() as u64 * PER_AREA == SPACE);

// The generator in Rust, which `lua_generator` transcribes: the tests check
// its properties, and that wrk's requests follow it number for number.

/// The point of the space the `i`-th draw lands on.
#[cfg(test)]
pub fn permuted(i: u64) -> u64 {
    (STEP * (i % SPACE) + OFFSET) % SPACE
}

/// The number at point `v` of the space.
#[cfg(test)]
pub fn number(v: u64) -> String {
    let area = AREA_CODES[usize::try_from(v / PER_AREA).unwrap_or(0) % AREA_CODES.len()];
    let rest = v % PER_AREA;
    format!("1{area}{:03}{:04}", FIRST_EXCHANGE + rest / LINES, rest % LINES)
}

/// How many draws each of `slots` slots may make before it would reach the
/// next slot's numbers.
pub fn stride(slots: u64) -> u64 {
    SPACE / slots.max(1)
}

/// The `n`-th number of slot `slot` of `slots`.
#[cfg(test)]
pub fn nth(slot: u64, slots: u64, n: u64) -> String {
    number(permuted(slot * stride(slots) + n))
}

/// The Lua of the same generator, for wrk. It expects the globals `slot`
/// (set per thread by the script's `setup`) and defines `next_number()`.
pub fn lua_generator(slots: u64) -> String {
    let areas = AREA_CODES.iter().map(|a| format!("\"{a}\"")).collect::<Vec<_>>().join(", ");
    format!(
        r#"local areas = {{ {areas} }}
local drawn = 0
function next_number()
  local v = ({STEP} * (slot * {stride} + drawn) + {OFFSET}) % {SPACE}
  drawn = drawn + 1
  local rest = v % {PER_AREA}
  return "1" .. areas[math.floor(v / {PER_AREA}) + 1]
    .. string.format("%03d%04d", {FIRST_EXCHANGE} + math.floor(rest / {LINES}), rest % {LINES})
end
"#,
        stride = stride(slots)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A set of points of the space, one bit each.
    struct Seen(Vec<u64>);

    impl Seen {
        fn new() -> Self {
            Seen(vec![0; (SPACE as usize).div_ceil(64)])
        }
        /// `false` if `v` was there already.
        fn insert(&mut self, v: u64) -> bool {
            let (word, bit) = ((v / 64) as usize, 1u64 << (v % 64));
            let new = self.0[word] & bit == 0;
            self.0[word] |= bit;
            new
        }
    }

    #[test]
    fn two_million_draws_never_repeat_and_cover_every_area_code() {
        let mut seen = Seen::new();
        let mut texts = std::collections::HashSet::new();
        let mut areas = std::collections::HashSet::new();
        // Four slots, as four wrk threads would draw them.
        for slot in 0..4 {
            for n in 0..500_000 {
                let v = permuted(slot * stride(4) + n);
                assert!(seen.insert(v), "slot {slot}, draw {n}: point {v} came twice");
                if n % 50 == 0 {
                    let to = number(v);
                    assert!(texts.insert(to.clone()), "{to} came twice");
                    areas.insert(to[1..4].to_owned());
                }
            }
        }
        assert_eq!(areas.len(), AREA_CODES.len(), "{areas:?}");
        // The first draws are scattered: not a run of neighbouring numbers.
        let first: Vec<String> = (0..5).map(|n| nth(0, 1, n)).collect();
        let distinct_areas: std::collections::HashSet<&str> = first.iter().map(|t| &t[1..4]).collect();
        assert!(distinct_areas.len() >= 4, "{first:?}");
    }

    #[test]
    fn the_map_is_a_permutation_of_the_whole_space() {
        let mut seen = Seen::new();
        for i in 0..SPACE {
            assert!(seen.insert(permuted(i)), "draw {i} repeats");
        }
        // Every point is a distinct number of eleven digits.
        assert_eq!(number(0), "12012200000");
        assert_eq!(number(SPACE - 1), "19192599999");
        assert!((0..SPACE).step_by(9_973).all(|v| {
            let t = number(v);
            t.len() == 11 && t.bytes().all(|b| b.is_ascii_digit())
        }));
    }

    /// libphonenumber (the library the server normalises with) takes every
    /// area code and exchange of the space as a valid US number.
    #[test]
    fn libphonenumber_takes_the_numbers_as_valid() {
        for (k, area) in AREA_CODES.iter().enumerate() {
            for e in 0..EXCHANGES {
                let v = k as u64 * PER_AREA + e * LINES + (e * 7_919) % LINES;
                let to = number(v);
                assert_eq!(&to[1..4], *area);
                let parsed = phonenumber::parse(None, format!("+{to}")).unwrap_or_else(|e| panic!("{to}: {e}"));
                assert!(phonenumber::is_valid(&parsed), "{to} is not a valid number for libphonenumber");
            }
        }
    }
}
