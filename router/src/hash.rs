//! The sharding function (DESIGN §5, a contract): which shard owns a row.
//!
//! `shard(key, N)` is the remainder `r` for which PostgreSQL 15's hash partitioning puts
//! the key into partition `FOR VALUES WITH (MODULUS N, REMAINDER r)`. Users can therefore
//! check a row's placement with `satisfies_hash_partition` in PostgreSQL itself, and a
//! sharded table can become native hash partitions without moving rows. MySQL shards use
//! the same function.
//!
//! PostgreSQL computes, for a single-column partition key (`compute_partition_hash_value`
//! in `partbounds.c`): `row_hash = hash_combine64(0, hashfn_extended(value, SEED))` and the
//! partition is `row_hash % N`. The per-type `hashfn_extended` functions are ported in
//! `hash_value`; the lookup3 core lives in `lookup3`. Everything here is pure: no I/O, no
//! allocation, no panics.

mod lookup3;
mod uuid;

#[cfg(test)]
mod tests;

use std::num::NonZeroU32;

pub use self::uuid::parse_uuid;

/// PostgreSQL's `HASH_PARTITION_SEED` (`partition.h`), the seed of every partition hash.
pub const HASH_PARTITION_SEED: u64 = 0x7A5B_2236_7996_DCFD;

/// A shard-key value, typed the way PostgreSQL hashes it.
///
/// `smallint`, `integer` and `bigint` share the [`ShardKey::Int`] variant: PostgreSQL's
/// `hashint2extended` and `hashint4extended` hash the value as a 32-bit integer, and
/// `hashint8extended` folds the high half of a 64-bit value into the low half in a way that
/// leaves every value in 32-bit range unchanged (deliberately, so that cross-type hash joins
/// work). The same number therefore lands on the same shard whatever its integer type;
/// the golden tests check this against PostgreSQL for all three types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ShardKey<'a> {
    /// SQL `NULL`. PostgreSQL skips null columns, so the row hash is 0 and the row lands
    /// on shard 0 for every shard count.
    Null,
    /// A `smallint`, `integer` or `bigint` value (widened to `i64`).
    Int(i64),
    /// A `text` or `varchar` value: its bytes in the database encoding (UTF-8), without
    /// any terminator. Hashed as bytes, which is what PostgreSQL does under any
    /// deterministic collation (`C`, `POSIX`, libc and ICU defaults).
    Text(&'a [u8]),
    /// A `uuid` value: its 16 bytes in the order they are written in text form. Use
    /// [`parse_uuid`] for uuid literals.
    Uuid([u8; 16]),
}

impl From<i64> for ShardKey<'_> {
    fn from(value: i64) -> Self {
        ShardKey::Int(value)
    }
}

impl From<i32> for ShardKey<'_> {
    fn from(value: i32) -> Self {
        ShardKey::Int(value.into())
    }
}

impl From<i16> for ShardKey<'_> {
    fn from(value: i16) -> Self {
        ShardKey::Int(value.into())
    }
}

impl<'a> From<&'a str> for ShardKey<'a> {
    fn from(value: &'a str) -> Self {
        ShardKey::Text(value.as_bytes())
    }
}

impl<'a> From<&'a [u8]> for ShardKey<'a> {
    fn from(value: &'a [u8]) -> Self {
        ShardKey::Text(value)
    }
}

/// The row hash PostgreSQL computes for a single-column hash partition key:
/// `hash_combine64(0, hashfn_extended(key, HASH_PARTITION_SEED))`, or 0 for `NULL`.
///
/// The partition (and shard) is this value modulo the number of partitions; see
/// [`shard_of`].
pub fn partition_hash(key: &ShardKey<'_>) -> u64 {
    match key {
        ShardKey::Null => 0,
        _ => hash_combine64(0, hash_value(key, HASH_PARTITION_SEED)),
    }
}

/// The shard (0-based) that owns `key` among `shards` shards: the `REMAINDER` of the
/// PostgreSQL hash partition with `MODULUS shards` that would hold the key.
///
/// Taking [`NonZeroU32`] makes "no shards" unrepresentable instead of giving it a made-up
/// answer; configuration validation is where a shard count of zero is rejected. The
/// result is always `< shards`.
///
/// ```
/// use std::num::NonZeroU32;
/// use shardwire_router::hash::{shard_of, ShardKey};
/// let three = NonZeroU32::new(3).expect("non-zero");
/// // PostgreSQL 15: satisfies_hash_partition('t'::regclass, 3, 2, 1::bigint) is true.
/// assert_eq!(shard_of(&ShardKey::Int(1), three), 2);
/// ```
pub fn shard_of(key: &ShardKey<'_>, shards: NonZeroU32) -> u32 {
    // The remainder is below `shards`, so it fits in u32.
    (partition_hash(key) % u64::from(shards.get())) as u32
}

/// The type's `hashfn_extended(value, seed)` as PostgreSQL's hash operator class
/// support function 2 computes it (`hashint8extended`, `hashtextextended`,
/// `uuid_hash_extended`); 0 for `NULL`, which PostgreSQL never hashes.
fn hash_value(key: &ShardKey<'_>, seed: u64) -> u64 {
    match *key {
        ShardKey::Null => 0,
        ShardKey::Int(value) => hashint8extended(value, seed),
        ShardKey::Text(bytes) => lookup3::hash_bytes_extended(bytes, seed),
        ShardKey::Uuid(ref bytes) => lookup3::hash_bytes_extended(bytes, seed),
    }
}

/// PostgreSQL's `hashint8extended`: fold the high half into the low half (complemented for
/// negative values, so that every `int4` value hashes as `hashint4extended` would), then
/// hash the 32-bit result.
fn hashint8extended(value: i64, seed: u64) -> u64 {
    let hi_half = (value >> 32) as u32;
    let lo_half = value as u32 ^ if value >= 0 { hi_half } else { !hi_half };
    lookup3::hash_uint32_extended(lo_half, seed)
}

/// PostgreSQL's `hash_combine64` (`hashfn.h`), which folds each column's hash into the
/// row hash.
fn hash_combine64(a: u64, b: u64) -> u64 {
    a ^ b
        .wrapping_add(0x49a0_f4dd_15e5_a8e3)
        .wrapping_add(a << 54)
        .wrapping_add(a >> 7)
}
