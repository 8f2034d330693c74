//! The sharding function agrees with a real PostgreSQL's hash partitioning (DESIGN §5).
//!
//! For each shard-key type (smallint, integer, bigint, text, uuid) this generates 10,000
//! keys — edge values first, then pseudo-random ones from a seeded generator (the seed is
//! printed; set `SHARDWIRE_TEST_SEED` to replay a run) — and asks PostgreSQL, in one
//! round trip per type, for the remainder `r` with
//! `satisfies_hash_partition(t, N, r, key)` for N = 2, 3 and 5, plus the type's
//! `hash*extended` value, then compares with `shard_of` and `partition_hash`.
//! Uuids travel as text in assorted spellings, so `parse_uuid` is checked against
//! PostgreSQL's `uuid_in` on the way.

use std::fmt::Debug;
use std::num::NonZeroU32;

use shardwire_router::hash::{parse_uuid, partition_hash, shard_of, ShardKey};
use tokio_postgres::types::ToSql;
use tokio_postgres::Client;

/// Keys compared per type.
const KEYS_PER_TYPE: usize = 10_000;
/// Shard counts compared.
const MODULI: [u32; 3] = [2, 3, 5];
/// `HASH_PARTITION_SEED`, as the signed `bigint` PostgreSQL's SQL functions take.
const SEED_SQL: &str = "8816678312871386365";
/// `hash_combine64(0, h) == h + this`: how the row hash follows from the type's hash.
const COMBINE_CONSTANT: u64 = 0x49a0_f4dd_15e5_a8e3;
/// Seed of the key generator unless `SHARDWIRE_TEST_SEED` says otherwise.
const DEFAULT_SEED: u64 = 0x5EED_0F5A_4D17_0001;

/// splitmix64: a small deterministic generator, so that a failing key can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn test_seed() -> u64 {
    std::env::var("SHARDWIRE_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_SEED)
}

/// Integers: the edges `hashint8extended` treats specially, values near zero, then
/// values spread over the whole range of the type (`min..=max`).
fn integers(rng: &mut Rng, min: i64, max: i64) -> Vec<i64> {
    let edges = [
        i64::MIN,
        i64::MIN + 1,
        -(1 << 32) - 1,
        -(1 << 32),
        i64::from(i32::MIN) - 1,
        i64::from(i32::MIN),
        i64::from(i16::MIN),
        -1,
        0,
        1,
        i64::from(i16::MAX),
        i64::from(i32::MAX),
        i64::from(i32::MAX) + 1,
        (1 << 32) - 1,
        1 << 32,
        i64::MAX - 1,
        i64::MAX,
    ];
    let mut keys: Vec<i64> = edges
        .into_iter()
        .filter(|v| (min..=max).contains(v))
        .collect();
    keys.extend((-500..500).filter(|v| (min..=max).contains(v)));
    let span = (max as i128 - min as i128 + 1) as u128;
    while keys.len() < KEYS_PER_TYPE {
        let value = match rng.below(3) {
            // Anywhere in the type's range.
            0 => min as i128 + (u128::from(rng.next()) % span) as i128,
            // Near a power of two, on either side of zero.
            1 => {
                let magnitude = 1i128 << rng.below(63);
                let near = magnitude + rng.below(5) as i128 - 2;
                if rng.below(2) == 0 {
                    near
                } else {
                    -near
                }
            }
            // Small magnitudes.
            _ => rng.below(2_000_000) as i128 - 1_000_000,
        };
        if let Ok(v) = i64::try_from(value) {
            if (min..=max).contains(&v) {
                keys.push(v);
            }
        }
    }
    keys
}

/// Text: every length 0..=26 in ASCII, multibyte UTF-8 (2, 3 and 4 bytes per character),
/// then random strings of up to 40 characters mixing all of those. No NUL: PostgreSQL
/// text cannot hold it.
fn texts(rng: &mut Rng) -> Vec<String> {
    const ALPHABET: &str = "abcdefghijklmnopqrstuvwxyz";
    let mut keys: Vec<String> = (0..=ALPHABET.len())
        .map(|n| ALPHABET[..n].to_owned())
        .collect();
    keys.extend(["é", "日本語", "🦀", "Ünïcödé", "ÿÿÿÿÿÿÿ", " ", "NULL"].map(String::from));
    while keys.len() < KEYS_PER_TYPE {
        let len = rng.below(41);
        let key = (0..len)
            .map(|_| {
                let code = match rng.below(10) {
                    0 => 0x80 + rng.below(0x780),         // two bytes
                    1 => 0x800 + rng.below(0x7800),       // three bytes, below the surrogates
                    2 => 0x1_0000 + rng.below(0x10_0000), // four bytes
                    _ => 0x20 + rng.below(0x5f),          // printable ASCII
                };
                char::from_u32(code as u32).unwrap_or('?')
            })
            .collect();
        keys.push(key);
    }
    keys
}

/// Uuids as text, in every spelling PostgreSQL accepts, with a few fixed edge values.
fn uuid_texts(rng: &mut Rng) -> Vec<String> {
    let mut keys: Vec<String> = [
        "00000000-0000-0000-0000-000000000000",
        "ffffffff-ffff-ffff-ffff-ffffffffffff",
        "{A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11}",
        "a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11",
    ]
    .map(String::from)
    .to_vec();
    while keys.len() < KEYS_PER_TYPE {
        let hex = format!("{:016x}{:016x}", rng.next(), rng.next());
        let hex = if rng.below(2) == 0 {
            hex
        } else {
            hex.to_uppercase()
        };
        let (a, b, c, d, e) = (
            &hex[..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..],
        );
        keys.push(match rng.below(4) {
            0 => format!("{a}-{b}-{c}-{d}-{e}"),
            1 => format!("{{{a}-{b}-{c}-{d}-{e}}}"),
            2 => hex,
            _ => format!("{a}{b}-{c}{d}-{e}"),
        });
    }
    keys
}

/// PostgreSQL's answers for a batch of keys sent as one array parameter.
struct PgAnswers {
    /// `hashfn_extended(key, HASH_PARTITION_SEED)`, reinterpreted as unsigned.
    hashes: Vec<u64>,
    /// For each modulus of [`MODULI`], the remainder of each key.
    remainders: Vec<Vec<i32>>,
}

/// Asks PostgreSQL, in one round trip, for the hash and the partition remainders of every
/// key in `keys`, bound as `$1::<array_type>` and turned into the key type by `key_expr`.
async fn ask_postgres<T: ToSql + Sync>(
    client: &Client,
    table: &str,
    array_type: &str,
    key_expr: &str,
    hash_fn: &str,
    keys: &T,
) -> PgAnswers {
    let remainder_columns: Vec<String> = MODULI
        .iter()
        .map(|n| {
            format!(
                "array_agg((SELECT r FROM generate_series(0, {n} - 1) AS r \
                 WHERE satisfies_hash_partition('{table}'::regclass, {n}, r, k)) ORDER BY i)"
            )
        })
        .collect();
    let sql = format!(
        "SELECT array_agg({hash_fn}(k, {SEED_SQL}) ORDER BY i), {} \
         FROM (SELECT {key_expr} AS k, i FROM unnest($1::{array_type}) WITH ORDINALITY AS u(v, i)) AS keys",
        remainder_columns.join(", ")
    );
    let row = client.query_one(&sql, &[keys]).await.expect(&sql);
    let hashes: Vec<i64> = row.get(0);
    PgAnswers {
        hashes: hashes.into_iter().map(|h| h as u64).collect(),
        remainders: (1..=MODULI.len()).map(|c| row.get(c)).collect(),
    }
}

/// Compares our answers for `keys` (shown in failures as `labels`) with PostgreSQL's and
/// panics listing the first disagreements.
fn compare(type_name: &str, labels: &[impl Debug], keys: &[ShardKey<'_>], pg: &PgAnswers) {
    assert_eq!(
        pg.hashes.len(),
        keys.len(),
        "{type_name}: one answer per key"
    );
    let mut mismatches = Vec::new();
    for (i, (label, key)) in labels.iter().zip(keys).enumerate() {
        let ours = partition_hash(key);
        let theirs = pg.hashes[i].wrapping_add(COMBINE_CONSTANT);
        if ours != theirs {
            mismatches.push(format!(
                "{label:?}: row hash {ours:#x}, PostgreSQL {theirs:#x}"
            ));
        }
        for (m, &modulus) in MODULI.iter().enumerate() {
            let shards = NonZeroU32::new(modulus).expect("non-zero modulus");
            let ours = shard_of(key, shards);
            let theirs = pg.remainders[m][i];
            if i64::from(ours) != i64::from(theirs) {
                mismatches.push(format!(
                    "{label:?}: shard {ours} of {modulus}, PostgreSQL {theirs}"
                ));
            }
        }
    }
    println!(
        "{type_name}: {} keys, {} mismatches",
        keys.len(),
        mismatches.len()
    );
    let first: Vec<&str> = mismatches.iter().take(20).map(String::as_str).collect();
    assert!(
        mismatches.is_empty(),
        "{type_name} disagrees with PostgreSQL:\n{}",
        first.join("\n")
    );
}

/// Creates the (partitionless) hash-partitioned tables `satisfies_hash_partition` needs.
async fn create_tables(client: &Client) {
    for ty in ["int2", "int4", "int8", "text", "uuid"] {
        let sql = format!("CREATE TEMP TABLE sw_hash_{ty} (k {ty}) PARTITION BY HASH (k)");
        client.batch_execute(&sql).await.expect(&sql);
    }
}

/// Compares integer keys of one PostgreSQL type, bound as `Vec<T>`.
async fn compare_integers<T>(client: &Client, ty: &str, rng: &mut Rng)
where
    T: TryFrom<i64> + Into<i64> + Copy + Bounded + ToSql + Sync,
{
    let values: Vec<T> = integers(rng, T::MIN.into(), T::MAX.into())
        .into_iter()
        .filter_map(|v| T::try_from(v).ok())
        .collect();
    let pg = ask_postgres(
        client,
        &format!("sw_hash_{ty}"),
        &format!("{ty}[]"),
        "v",
        &format!("hash{ty}extended"),
        &values,
    )
    .await;
    let labels: Vec<i64> = values.iter().map(|&v| v.into()).collect();
    let keys: Vec<ShardKey<'_>> = labels.iter().map(|&v| ShardKey::Int(v)).collect();
    compare(ty, &labels, &keys, &pg);
}

/// The range of an integer type.
trait Bounded {
    const MIN: Self;
    const MAX: Self;
}

impl Bounded for i16 {
    const MIN: Self = i16::MIN;
    const MAX: Self = i16::MAX;
}

impl Bounded for i32 {
    const MIN: Self = i32::MIN;
    const MAX: Self = i32::MAX;
}

impl Bounded for i64 {
    const MIN: Self = i64::MIN;
    const MAX: Self = i64::MAX;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_of_every_type_land_on_the_postgres_hash_partition() {
    let seed = test_seed();
    println!("key generator seed: {seed} (replay with SHARDWIRE_TEST_SEED={seed})");
    let mut rng = Rng(seed);

    let topo = shardwire_testbed::Topology::builder()
        .pg_shards(1)
        .pg_replicas(0)
        .start()
        .await
        .expect("testbed");
    let client: Client = topo.pg(0).primary().pg_client().await.expect("connect");
    create_tables(&client).await;

    compare_integers::<i16>(&client, "int2", &mut rng).await;
    compare_integers::<i32>(&client, "int4", &mut rng).await;
    compare_integers::<i64>(&client, "int8", &mut rng).await;

    let texts = texts(&mut rng);
    let pg = ask_postgres(
        &client,
        "sw_hash_text",
        "text[]",
        "v",
        "hashtextextended",
        &texts,
    )
    .await;
    let keys: Vec<ShardKey<'_>> = texts.iter().map(|s| ShardKey::from(s.as_str())).collect();
    compare("text", &texts, &keys, &pg);

    let uuids = uuid_texts(&mut rng);
    let pg = ask_postgres(
        &client,
        "sw_hash_uuid",
        "text[]",
        "v::uuid",
        "uuid_hash_extended",
        &uuids,
    )
    .await;
    let keys: Vec<ShardKey<'_>> = uuids
        .iter()
        .map(|s| {
            ShardKey::Uuid(parse_uuid(s).unwrap_or_else(|| panic!("{s:?} is a uuid to PostgreSQL")))
        })
        .collect();
    compare("uuid", &uuids, &keys, &pg);
}
