//! Golden values from a real PostgreSQL 15.18 (x86_64, UTF8, C.UTF-8 collation).
//!
//! Each row is `(key, hashfn_extended(key, HASH_PARTITION_SEED), [r for N = 2, 3, 4, 7])`,
//! where the hash came from `hashint2extended` / `hashint4extended` / `hashint8extended` /
//! `hashtextextended` / `uuid_hash_extended` and `r` is the remainder for which
//! `satisfies_hash_partition('t'::regclass, N, r, key)` is true on a table
//! `PARTITION BY HASH (k)` whose `k` has the column type of the table's name. The keys
//! cover integer extremes and the 32-bit boundaries that `hashint8extended` folds, and
//! every lookup3 tail length (text of 0..=13 bytes, 23..=26 bytes, multibyte UTF-8).

use super::*;

/// The moduli of every golden row, in column order.
const MODULI: [u32; 4] = [2, 3, 4, 7];

/// `bigint` keys.
#[rustfmt::skip]
const INT8: &[(i64, u64, [u32; 4])] = &[
    (-9223372036854775808, 0xac09237e4899f89c, [1, 1, 3, 0]),
    (-9223372036854775807, 0x9b73aeed08a2167f, [0, 0, 2, 5]),
    (-4611686018427387904, 0xab34dfe9234f08c9, [0, 2, 0, 2]),
    (-4294967297, 0x1dce30b74062c547, [0, 1, 2, 4]),
    (-4294967296, 0xc2e34bda39f0f0cd, [0, 2, 0, 4]),
    (-2147483649, 0xac09237e4899f89c, [1, 1, 3, 0]),
    (-2147483648, 0x44893a0f1e949193, [0, 0, 2, 3]),
    (-2147483647, 0x6a7b3d4bf26fa87b, [0, 0, 2, 5]),
    (-65536, 0xc48bdd31eb0fb51f, [0, 0, 2, 6]),
    (-32769, 0xb8f3fa4d85f5f08c, [1, 1, 3, 4]),
    (-32768, 0x51ac94e226a0db9a, [1, 0, 1, 0]),
    (-32767, 0x7da3f59d8c8f4b6b, [0, 2, 2, 6]),
    (-1000, 0x7e6310b9160f9088, [1, 1, 3, 0]),
    (-2, 0x1dce30b74062c547, [0, 1, 2, 4]),
    (-1, 0xba5fc748095606c2, [1, 2, 1, 0]),
    (0, 0xc2e34bda39f0f0cd, [0, 2, 0, 4]),
    (1, 0x52d621058124e6d5, [0, 2, 0, 5]),
    (2, 0xa1da1e669978f897, [0, 0, 2, 6]),
    (3, 0xa56c32dc5e088bd6, [1, 1, 1, 6]),
    (7, 0x17b6109c145c1c34, [1, 1, 3, 6]),
    (42, 0x663218bcfb84b17f, [0, 0, 2, 0]),
    (1000, 0x34ee30c3bb29ccf1, [0, 2, 0, 5]),
    (32767, 0xa6ac42e1ee4bb5eb, [0, 1, 2, 5]),
    (32768, 0x4f20eb67b130d4bf, [0, 2, 2, 4]),
    (65535, 0x16353c21a74b62ab, [0, 0, 2, 2]),
    (65536, 0xa4c9d2b4b3f7b1a1, [0, 0, 0, 0]),
    (2147483647, 0xac09237e4899f89c, [1, 1, 3, 0]),
    (2147483648, 0x44893a0f1e949193, [0, 0, 2, 3]),
    (4294967295, 0xba5fc748095606c2, [1, 2, 1, 0]),
    (4294967296, 0x52d621058124e6d5, [0, 2, 0, 5]),
    (4294967297, 0xc2e34bda39f0f0cd, [0, 2, 0, 4]),
    (9007199254740992, 0x11797a5234f6ac37, [0, 2, 2, 0]),
    (1234567890123, 0x3ac2d831d1eac5ec, [1, 0, 3, 0]),
    (-1234567890123, 0x4e50ba0490cbbefe, [1, 1, 1, 2]),
    (8816678312871386365, 0x2111809f37d2096e, [1, 0, 1, 6]),
    (9223372036854775806, 0x6a7b3d4bf26fa87b, [0, 0, 2, 5]),
    (9223372036854775807, 0x44893a0f1e949193, [0, 0, 2, 3]),
];

/// `integer` keys.
#[rustfmt::skip]
const INT4: &[(i32, u64, [u32; 4])] = &[
    (-2147483648, 0x44893a0f1e949193, [0, 0, 2, 3]),
    (-2147483647, 0x6a7b3d4bf26fa87b, [0, 0, 2, 5]),
    (-1073741824, 0x47ebd5252bf39e92, [1, 2, 1, 2]),
    (-16777216, 0x813feb4110ec3196, [1, 0, 1, 4]),
    (-65536, 0xc48bdd31eb0fb51f, [0, 0, 2, 6]),
    (-32769, 0xb8f3fa4d85f5f08c, [1, 1, 3, 4]),
    (-32768, 0x51ac94e226a0db9a, [1, 0, 1, 0]),
    (-32767, 0x7da3f59d8c8f4b6b, [0, 2, 2, 6]),
    (-1000, 0x7e6310b9160f9088, [1, 1, 3, 0]),
    (-255, 0x9cbed4324c849bef, [0, 0, 2, 1]),
    (-2, 0x1dce30b74062c547, [0, 1, 2, 4]),
    (-1, 0xba5fc748095606c2, [1, 2, 1, 0]),
    (0, 0xc2e34bda39f0f0cd, [0, 2, 0, 4]),
    (1, 0x52d621058124e6d5, [0, 2, 0, 5]),
    (2, 0xa1da1e669978f897, [0, 0, 2, 6]),
    (3, 0xa56c32dc5e088bd6, [1, 1, 1, 6]),
    (7, 0x17b6109c145c1c34, [1, 1, 3, 6]),
    (42, 0x663218bcfb84b17f, [0, 0, 2, 0]),
    (255, 0x2378a024a6058847, [0, 2, 2, 6]),
    (256, 0x5010c8b7cff245ab, [0, 0, 2, 5]),
    (1000, 0x34ee30c3bb29ccf1, [0, 2, 0, 5]),
    (32767, 0xa6ac42e1ee4bb5eb, [0, 1, 2, 5]),
    (32768, 0x4f20eb67b130d4bf, [0, 2, 2, 4]),
    (65535, 0x16353c21a74b62ab, [0, 0, 2, 2]),
    (65536, 0xa4c9d2b4b3f7b1a1, [0, 0, 0, 0]),
    (16777216, 0xa6591580f2713027, [0, 2, 2, 0]),
    (123456789, 0xf3311fb2440a2aea, [1, 1, 1, 4]),
    (1073741824, 0x9fc9726f9a66c8bb, [0, 0, 2, 1]),
    (2147483646, 0x9b73aeed08a2167f, [0, 0, 2, 5]),
    (2147483647, 0xac09237e4899f89c, [1, 1, 3, 0]),
];

/// `smallint` keys.
#[rustfmt::skip]
const INT2: &[(i16, u64, [u32; 4])] = &[
    (-32768, 0x51ac94e226a0db9a, [1, 0, 1, 0]),
    (-32767, 0x7da3f59d8c8f4b6b, [0, 2, 2, 6]),
    (-16384, 0xd4add0ad94a8e11f, [0, 1, 2, 3]),
    (-1000, 0x7e6310b9160f9088, [1, 1, 3, 0]),
    (-256, 0x05b92af0f0f20106, [1, 0, 1, 5]),
    (-255, 0x9cbed4324c849bef, [0, 0, 2, 1]),
    (-129, 0xb8b39b6ce1c655b7, [0, 1, 2, 2]),
    (-128, 0x2a4431fed05f5d90, [1, 1, 3, 6]),
    (-127, 0x4355971f8107c3d8, [1, 1, 3, 3]),
    (-100, 0x340ab5dbad3961ac, [1, 0, 3, 3]),
    (-3, 0x091abcaa3b4dfe59, [0, 1, 0, 3]),
    (-2, 0x1dce30b74062c547, [0, 1, 2, 4]),
    (-1, 0xba5fc748095606c2, [1, 2, 1, 0]),
    (0, 0xc2e34bda39f0f0cd, [0, 2, 0, 4]),
    (1, 0x52d621058124e6d5, [0, 2, 0, 5]),
    (2, 0xa1da1e669978f897, [0, 0, 2, 6]),
    (3, 0xa56c32dc5e088bd6, [1, 1, 1, 6]),
    (7, 0x17b6109c145c1c34, [1, 1, 3, 6]),
    (42, 0x663218bcfb84b17f, [0, 0, 2, 0]),
    (100, 0xa0c32bd47a3fe976, [1, 2, 1, 4]),
    (127, 0x237930d004942860, [1, 0, 3, 5]),
    (128, 0x332217676fba760f, [0, 1, 2, 3]),
    (255, 0x2378a024a6058847, [0, 2, 2, 6]),
    (256, 0x5010c8b7cff245ab, [0, 0, 2, 5]),
    (1000, 0x34ee30c3bb29ccf1, [0, 2, 0, 5]),
    (12345, 0x303e85c8bd98e069, [0, 2, 0, 3]),
    (16384, 0xa0f3854a6c8c6482, [1, 1, 1, 0]),
    (32766, 0x89f3e8499924d69a, [1, 2, 1, 6]),
    (32767, 0xa6ac42e1ee4bb5eb, [0, 1, 2, 5]),
];

/// `text` keys (`varchar` gave the same remainders for every one of them).
#[rustfmt::skip]
const TEXT: &[(&str, u64, [u32; 4])] = &[
    ("", 0xb0e33d0b543fbfc3, [0, 2, 2, 1]),
    ("a", 0xa2f240f8823ba67b, [0, 2, 2, 3]),
    ("ab", 0x0845730e49baf33d, [0, 0, 0, 6]),
    ("abc", 0x325c02d16f43e1c2, [1, 1, 1, 3]),
    ("abcd", 0x37eb4043f6fdb06e, [1, 2, 1, 5]),
    ("abcde", 0x42bdebaa1b2c17d9, [0, 1, 0, 0]),
    ("abcdef", 0xf6dc296ce47a2776, [1, 1, 1, 1]),
    ("abcdefg", 0xeaf53e7fbf379bae, [1, 2, 1, 4]),
    ("abcdefgh", 0x94619c573ca212b2, [1, 2, 1, 5]),
    ("abcdefghi", 0x92e90b933de8cba0, [1, 1, 3, 1]),
    ("abcdefghij", 0x8cba26807c1916a1, [0, 1, 0, 3]),
    ("abcdefghijk", 0xe39999edea562278, [1, 0, 3, 3]),
    ("abcdefghijkl", 0x92b003d370554786, [1, 1, 1, 3]),
    ("abcdefghijklm", 0xa1d42895caa786b3, [0, 1, 2, 0]),
    ("abcdefghijklmnopqrstuvw", 0x9a59a44ce94b5481, [0, 1, 0, 4]),
    ("abcdefghijklmnopqrstuvwx", 0xffd910c13dcae36e, [1, 1, 1, 4]),
    ("abcdefghijklmnopqrstuvwxy", 0x13317813436137bf, [0, 1, 2, 3]),
    ("abcdefghijklmnopqrstuvwxyz", 0x9c7a73cc5c301158, [1, 1, 3, 4]),
    ("é", 0x3cc15889cb0c9ecc, [1, 1, 3, 4]),
    ("aé", 0xb8b29d550fcdc63c, [1, 0, 3, 4]),
    ("abé", 0xe88f618b44b604ca, [1, 0, 1, 1]),
    ("abcé", 0x2f8b8efe56852e75, [0, 0, 0, 1]),
    ("日本語", 0x9047acd944d603db, [0, 0, 2, 6]),
    ("🦀", 0x116b5f25dfc40049, [0, 0, 0, 0]),
    ("🦀🦀🦀", 0x159c0a2940a0d038, [1, 1, 3, 5]),
    ("éééééé", 0x361e06b55ec63efe, [1, 2, 1, 3]),
    ("ééééééé", 0x4893c52cc0a653ca, [1, 1, 1, 1]),
    ("xéééééé", 0x823eb08c6a3862a5, [0, 2, 0, 4]),
    ("Ünïcödé strings", 0x1981c9fbb51ad407, [0, 2, 2, 3]),
    ("hello world", 0x6a5d0d0ef960c4a5, [0, 1, 0, 4]),
    (" ", 0x963eaacf0d3cc122, [1, 0, 1, 0]),
    ("NULL", 0x777231d9f31dd62f, [0, 2, 2, 5]),
    ("0", 0x0d8807be6946eb26, [1, 1, 1, 4]),
    ("-1", 0x7c18fd0a9eb80a65, [0, 2, 0, 0]),
    ("user:42", 0x49b684ddb134ed6a, [1, 0, 1, 6]),
    ("tab\there", 0x20f0fb212684f0e0, [1, 1, 3, 6]),
    ("The quick brown fox jumps over the lazy dog", 0x517737d437d650e6, [1, 1, 1, 1]),
    ("ÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿ🦀", 0x57142a58625cfaad, [0, 0, 0, 1]),
];

/// `uuid` keys, written in PostgreSQL's output form.
#[rustfmt::skip]
const UUID: &[(&str, u64, [u32; 4])] = &[
    ("00000000-0000-0000-0000-000000000000", 0xb6b5d3c4aa5d92c2, [1, 0, 1, 2]),
    ("ffffffff-ffff-ffff-ffff-ffffffffffff", 0xfdeeb1999c98549e, [1, 1, 1, 0]),
    ("00000000-0000-0000-0000-000000000001", 0x49027b8a0954e54a, [1, 2, 1, 1]),
    ("80000000-0000-0000-0000-000000000000", 0xab35919f57dacf2b, [0, 2, 2, 1]),
    ("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", 0x05e42c7f7f75bced, [0, 1, 0, 6]),
    ("123e4567-e89b-12d3-a456-426614174000", 0xee9f87f344f2caa2, [1, 1, 1, 5]),
    ("6ba7b810-9dad-11d1-80b4-00c04fd430c8", 0xe2d8106b9773f303, [0, 1, 2, 4]),
    ("6ba7b811-9dad-11d1-80b4-00c04fd430c8", 0xb9578fea71f8ceac, [1, 0, 3, 1]),
    ("f47ac10b-58cc-4372-a567-0e02b2c3d479", 0x6ce257e905c7b887, [0, 0, 2, 3]),
    ("550e8400-e29b-41d4-a716-446655440000", 0xcfdf92ea773ffce6, [1, 2, 1, 4]),
    ("01890a5d-ac96-774b-bcce-b302099a8057", 0x3ffa5ced18d1636d, [0, 2, 0, 1]),
    ("7fffffff-ffff-ffff-ffff-ffffffffffff", 0xb5d6b7ca435cfa30, [1, 0, 3, 5]),
    ("deadbeef-dead-beef-dead-beefdeadbeef", 0xc51a7ea1c31aacd9, [0, 2, 0, 0]),
    ("00112233-4455-6677-8899-aabbccddeeff", 0x874451fadcc360a3, [0, 1, 2, 4]),
    ("c9bf9e57-1685-4c89-bafb-ff5af830be8a", 0x34bac49c2790165e, [1, 0, 1, 4]),
    ("e1e2e3e4-f5f6-0708-090a-0b0c0d0e0f10", 0x9d84865eb4fdd722, [1, 1, 1, 5]),
];

/// Checks one key against its golden hash and remainders.
fn check(label: &str, key: ShardKey<'_>, hash: u64, remainders: [u32; 4]) {
    assert_eq!(
        hash_value(&key, HASH_PARTITION_SEED),
        hash,
        "hashfn of {label}"
    );
    for (modulus, remainder) in MODULI.into_iter().zip(remainders) {
        let shards = NonZeroU32::new(modulus).expect("non-zero modulus");
        assert_eq!(
            shard_of(&key, shards),
            remainder,
            "{label} modulo {modulus}"
        );
    }
}

#[test]
fn bigint_keys_land_on_postgres_hash_partition() {
    for &(value, hash, remainders) in INT8 {
        check(
            &format!("bigint {value}"),
            ShardKey::from(value),
            hash,
            remainders,
        );
    }
}

#[test]
fn integer_keys_land_on_postgres_hash_partition() {
    for &(value, hash, remainders) in INT4 {
        check(
            &format!("integer {value}"),
            ShardKey::from(value),
            hash,
            remainders,
        );
    }
}

#[test]
fn smallint_keys_land_on_postgres_hash_partition() {
    for &(value, hash, remainders) in INT2 {
        check(
            &format!("smallint {value}"),
            ShardKey::from(value),
            hash,
            remainders,
        );
    }
}

#[test]
fn text_keys_land_on_postgres_hash_partition() {
    for &(value, hash, remainders) in TEXT {
        check(
            &format!("text {value:?}"),
            ShardKey::from(value),
            hash,
            remainders,
        );
    }
}

#[test]
fn uuid_keys_land_on_postgres_hash_partition() {
    for &(text, hash, remainders) in UUID {
        let bytes = parse_uuid(text).expect("golden uuid parses");
        check(
            &format!("uuid {text}"),
            ShardKey::Uuid(bytes),
            hash,
            remainders,
        );
    }
}

#[test]
fn null_key_lands_on_shard_zero() {
    // PostgreSQL: satisfies_hash_partition(t, N, 0, NULL) is true for every N.
    assert_eq!(partition_hash(&ShardKey::Null), 0);
    for modulus in [1, 2, 3, 4, 7, u32::MAX] {
        let shards = NonZeroU32::new(modulus).expect("non-zero modulus");
        assert_eq!(shard_of(&ShardKey::Null, shards), 0);
    }
}

#[test]
fn int32_range_hashes_alike_for_every_integer_type() {
    // hashint8extended agrees with hashint4extended on the int4 range (PostgreSQL relies
    // on it for cross-type hash joins), so one `Int` variant serves all integer types.
    for &(value, hash, _) in INT4 {
        assert_eq!(hashint8extended(value.into(), HASH_PARTITION_SEED), hash);
    }
    for &(value, _, _) in INT8 {
        if let Ok(narrow) = i32::try_from(value) {
            assert_eq!(ShardKey::from(narrow), ShardKey::Int(value));
        }
    }
}

#[test]
fn one_shard_owns_everything_and_results_stay_in_range() {
    let one = NonZeroU32::MIN;
    let max = NonZeroU32::MAX;
    for key in [
        ShardKey::Int(i64::MIN),
        ShardKey::from("x"),
        ShardKey::Uuid([0xff; 16]),
    ] {
        assert_eq!(shard_of(&key, one), 0);
        assert!(shard_of(&key, max) < u32::MAX);
    }
}

#[test]
fn hash_combine64_with_zero_adds_the_constant() {
    assert_eq!(hash_combine64(0, 0), 0x49a0_f4dd_15e5_a8e3);
    assert_eq!(hash_combine64(0, u64::MAX), 0x49a0_f4dd_15e5_a8e2);
}
