//! Bob Jenkins' lookup3 hash as PostgreSQL's `src/common/hashfn.c` uses it for the
//! `*_extended` (64-bit, seeded) hash functions.
//!
//! This is the innermost layer of the sharding function (DESIGN §5): it must agree bit for
//! bit with PostgreSQL on x86_64, so the structure follows `hash_bytes_extended` and
//! `hash_uint32_extended` closely: three 32-bit lanes, the 64-bit seed folded in as an
//! extra 12-byte block, 12-byte blocks read as little-endian words, a tail of up to 11
//! bytes whose byte 8..11 go to the *upper* bytes of `c` (the lowest byte of `c` is where
//! the original lookup3 puts the length), one `final` round even for an empty input, and
//! the result `(b << 32) | c`.

/// Initial value of every lane before the length is added (the golden ratio).
const GOLDEN: u32 = 0x9e37_79b9;
/// PostgreSQL's extra constant added to the initial lanes.
const PG_INIT: u32 = 3_923_095;

/// The three 32-bit lanes of lookup3's internal state.
struct State {
    a: u32,
    b: u32,
    c: u32,
}

impl State {
    /// Sets up the lanes for an input of `len` bytes and mixes in a non-zero `seed`.
    fn new(len: u32, seed: u64) -> Self {
        let init = GOLDEN.wrapping_add(len).wrapping_add(PG_INIT);
        let mut s = State {
            a: init,
            b: init,
            c: init,
        };
        if seed != 0 {
            // The seed is hashed as if it were a 12-byte block: high half, low half, zeros.
            s.a = s.a.wrapping_add((seed >> 32) as u32);
            s.b = s.b.wrapping_add(seed as u32);
            s.mix();
        }
        s
    }

    /// lookup3 `mix()`: reversible mixing of the three lanes after each 12-byte block.
    fn mix(&mut self) {
        let State { a, b, c } = self;
        *a = a.wrapping_sub(*c) ^ c.rotate_left(4);
        *c = c.wrapping_add(*b);
        *b = b.wrapping_sub(*a) ^ a.rotate_left(6);
        *a = a.wrapping_add(*c);
        *c = c.wrapping_sub(*b) ^ b.rotate_left(8);
        *b = b.wrapping_add(*a);
        *a = a.wrapping_sub(*c) ^ c.rotate_left(16);
        *c = c.wrapping_add(*b);
        *b = b.wrapping_sub(*a) ^ a.rotate_left(19);
        *a = a.wrapping_add(*c);
        *c = c.wrapping_sub(*b) ^ b.rotate_left(4);
        *b = b.wrapping_add(*a);
    }

    /// lookup3 `final()` followed by PostgreSQL's 64-bit result `(b << 32) | c`.
    fn finish(mut self) -> u64 {
        let State { a, b, c } = &mut self;
        *c = (*c ^ *b).wrapping_sub(b.rotate_left(14));
        *a = (*a ^ *c).wrapping_sub(c.rotate_left(11));
        *b = (*b ^ *a).wrapping_sub(a.rotate_left(25));
        *c = (*c ^ *b).wrapping_sub(b.rotate_left(16));
        *a = (*a ^ *c).wrapping_sub(c.rotate_left(4));
        *b = (*b ^ *a).wrapping_sub(a.rotate_left(14));
        *c = (*c ^ *b).wrapping_sub(b.rotate_left(24));
        (u64::from(*b) << 32) | u64::from(*c)
    }
}

/// Reads up to four bytes as a little-endian word, missing high bytes being zero.
fn le_word(bytes: &[u8]) -> u32 {
    bytes
        .iter()
        .rev()
        .fold(0u32, |word, &byte| (word << 8) | u32::from(byte))
}

/// PostgreSQL's `hash_bytes_extended(k, keylen, seed)` on a little-endian machine.
///
/// PostgreSQL's length is a C `int`; inputs are at most 1 GB there, so truncating the
/// length to 32 bits here changes nothing for any value PostgreSQL can store.
pub(crate) fn hash_bytes_extended(key: &[u8], seed: u64) -> u64 {
    let mut s = State::new(key.len() as u32, seed);
    let mut blocks = key.chunks_exact(12);
    for block in &mut blocks {
        s.a = s.a.wrapping_add(le_word(&block[0..4]));
        s.b = s.b.wrapping_add(le_word(&block[4..8]));
        s.c = s.c.wrapping_add(le_word(&block[8..12]));
        s.mix();
    }
    // The last 0..=11 bytes: 0..4 into a, 4..8 into b, 8..11 into the upper three bytes of c.
    let tail = blocks.remainder();
    let (lo, rest) = tail.split_at(tail.len().min(4));
    let (mid, hi) = rest.split_at(rest.len().min(4));
    s.a = s.a.wrapping_add(le_word(lo));
    s.b = s.b.wrapping_add(le_word(mid));
    s.c = s.c.wrapping_add(le_word(hi) << 8);
    s.finish()
}

/// PostgreSQL's `hash_uint32_extended(k, seed)`: the 4-byte special case of
/// [`hash_bytes_extended`] on a little-endian machine.
pub(crate) fn hash_uint32_extended(k: u32, seed: u64) -> u64 {
    let mut s = State::new(4, seed);
    s.a = s.a.wrapping_add(k);
    s.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uint32_equals_bytes_of_its_little_endian_form() {
        for k in [0u32, 1, 0xff, 0x1234_5678, u32::MAX] {
            for seed in [0u64, 1, 0x7A5B_2236_7996_DCFD, u64::MAX] {
                assert_eq!(
                    hash_uint32_extended(k, seed),
                    hash_bytes_extended(&k.to_le_bytes(), seed)
                );
            }
        }
    }

    #[test]
    fn le_word_reads_little_endian_and_zero_fills() {
        assert_eq!(le_word(&[]), 0);
        assert_eq!(le_word(&[0x11]), 0x11);
        assert_eq!(le_word(&[0x11, 0x22, 0x33]), 0x0033_2211);
        assert_eq!(le_word(&[0x11, 0x22, 0x33, 0x44]), 0x4433_2211);
    }
}
