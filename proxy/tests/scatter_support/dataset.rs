//! The differential test's dataset: three sharded tables and one reference table, made
//! deterministically (a fixed seed), with NULLs, duplicates, negative numbers and
//! mixed-case text. Rows are SQL value tuples, inserted into the reference database
//! directly and into the sharded ones through the proxy.

use std::num::NonZeroU32;

use shardwire_router::hash::{shard_of, ShardKey};

use super::rng::Rng;

/// Tables, created on every shard and on the reference database.
pub const SCHEMA: &str = "
CREATE TABLE regions (code text PRIMARY KEY, name text NOT NULL, zone int NOT NULL);
CREATE TABLE customers (id bigint PRIMARY KEY, name text NOT NULL, city text, score int,
    balance numeric(12,2) NOT NULL, created timestamp NOT NULL, active bool NOT NULL, ref uuid);
CREATE TABLE orders (id bigint NOT NULL, customer_id bigint NOT NULL, amount numeric(10,2),
    qty int NOT NULL, status text, weight float8, placed date NOT NULL,
    PRIMARY KEY (customer_id, id));
CREATE TABLE events (id uuid PRIMARY KEY, customer_id bigint NOT NULL, kind text NOT NULL,
    value bigint, at timestamptz NOT NULL);
CREATE TABLE pgbench_branches (bid int PRIMARY KEY, bbalance int, filler char(88));
";

/// The proxy's table configuration for [`SCHEMA`].
pub const TABLES: &str = "
  [[databases.tables]]
  name = \"customers\"
  shard_key = \"id\"
  key_type = \"bigint\"

  [[databases.tables]]
  name = \"orders\"
  shard_key = \"customer_id\"
  key_type = \"bigint\"

  [[databases.tables]]
  name = \"events\"
  shard_key = \"id\"
  key_type = \"uuid\"

  [[databases.tables]]
  name = \"pgbench_branches\"
  shard_key = \"bid\"
  key_type = \"integer\"

  [[databases.tables]]
  name = \"regions\"
  reference = true
";

/// The reference table's rows: the same on every shard (written directly, since writes
/// to reference tables need distributed transactions).
pub const REGIONS: &str = "INSERT INTO regions VALUES
  ('ber', 'Berlin', 1), ('BCN', 'Barcelona', 1), ('lis', 'Lisbon', 1), ('nyc', 'New York', 2),
  ('sfo', 'San Francisco', 2), ('Tok', 'Tokyo', 3), ('syd', 'Sydney', 3), ('zrh', 'Zurich', 1),
  ('ams', 'Amsterdam', 1), ('yul', 'Montreal', 2)";

/// City codes used by customers (one not in `regions`).
pub const CITIES: &[&str] = &[
    "ber", "BCN", "lis", "nyc", "sfo", "Tok", "syd", "zrh", "ams", "yul", "xxx",
];
/// Order statuses.
pub const STATUSES: &[&str] = &["new", "Paid", "shipped", "CANCELLED", "paid"];
/// Event kinds.
pub const KINDS: &[&str] = &["click", "view", "Buy", "refund", "click "];

/// One table's rows, each with its shard key for grouping inserts by shard.
pub struct Rows {
    /// The table.
    pub table: &'static str,
    /// The column list of the INSERT.
    pub columns: &'static str,
    /// (shard key, SQL value tuple).
    pub rows: Vec<(ShardKey<'static>, String)>,
}

/// Customer ids: negative ones included.
pub fn customer_ids() -> impl Iterator<Item = i64> {
    -2500..7500
}

/// The whole dataset (about 52,000 rows).
pub fn generate() -> Vec<Rows> {
    let mut rng = Rng::new(0x5eed_da7a);
    let syllables = ["al", "Be", "ka", "RO", "mi", "to", "Zu", "ne", "ly", "ö"];
    let mut customers = Vec::new();
    for id in customer_ids() {
        let mut name = String::new();
        for _ in 0..rng.range(1, 4) {
            name.push_str(rng.pick(&syllables));
        }
        let city = if rng.chance(10) {
            "NULL".to_string()
        } else {
            format!("'{}'", rng.pick(CITIES))
        };
        let score = if rng.chance(15) {
            "NULL".to_string()
        } else {
            rng.range(-100, 101).to_string()
        };
        let balance = format!("{:.2}", rng.range(-500_000, 500_001) as f64 / 100.0);
        let created = format!(
            "'2023-{:02}-{:02} {:02}:{:02}:{:02}{}'",
            rng.range(1, 13),
            rng.range(1, 29),
            rng.range(0, 24),
            rng.range(0, 60),
            rng.range(0, 60),
            if rng.chance(30) { ".25" } else { "" }
        );
        let active = if rng.chance(40) { "false" } else { "true" };
        let uuid = if rng.chance(20) {
            "NULL".to_string()
        } else {
            format!("'{}'", rng.uuid())
        };
        customers.push((
            ShardKey::Int(id),
            format!("({id}, '{name}', {city}, {score}, {balance}, {created}, {active}, {uuid})"),
        ));
    }
    let ids: Vec<i64> = customer_ids().collect();
    let mut orders = Vec::new();
    for id in 1..=30_000i64 {
        let customer = ids[rng.range(0, ids.len() as i64) as usize];
        let amount = if rng.chance(8) {
            "NULL".to_string()
        } else {
            format!("{:.2}", rng.range(-1_000, 100_000) as f64 / 100.0)
        };
        let status = if rng.chance(10) {
            "NULL".to_string()
        } else {
            format!("'{}'", rng.pick(STATUSES))
        };
        let weight = if rng.chance(10) {
            "NULL".to_string()
        } else {
            format!("{}", rng.range(-5_000, 50_000) as f64 / 8.0)
        };
        let placed = format!("'2024-{:02}-{:02}'", rng.range(1, 13), rng.range(1, 29));
        orders.push((
            ShardKey::Int(customer),
            format!(
                "({id}, {customer}, {amount}, {}, {status}, {weight}, {placed})",
                rng.range(-5, 51)
            ),
        ));
    }
    let mut events = Vec::new();
    for _ in 0..12_000 {
        let uuid = rng.uuid();
        let customer = ids[rng.range(0, ids.len() as i64) as usize];
        let value = if rng.chance(12) {
            "NULL".to_string()
        } else {
            rng.range(-1_000_000, 1_000_000).to_string()
        };
        let at = format!(
            "'2024-{:02}-{:02} {:02}:{:02}:00+0{}'",
            rng.range(1, 13),
            rng.range(1, 29),
            rng.range(0, 24),
            rng.range(0, 60),
            rng.range(0, 3)
        );
        let key = ShardKey::Uuid(shardwire_router::hash::parse_uuid(&uuid).unwrap_or([0; 16]));
        events.push((
            key,
            format!(
                "('{uuid}', {customer}, '{}', {value}, {at})",
                rng.pick(KINDS)
            ),
        ));
    }
    vec![
        Rows {
            table: "customers",
            columns: "id, name, city, score, balance, created, active, ref",
            rows: customers,
        },
        Rows {
            table: "orders",
            columns: "id, customer_id, amount, qty, status, weight, placed",
            rows: orders,
        },
        Rows {
            table: "events",
            columns: "id, customer_id, kind, value, at",
            rows: events,
        },
    ]
}

/// INSERT statements of at most `per` rows each, every one on a single shard of `shards`
/// (so the proxy routes each to one shard), or in plain chunks when `shards` is `None`.
pub fn inserts(rows: &Rows, shards: Option<u32>, per: usize) -> Vec<String> {
    let buckets = shards.unwrap_or(1) as usize;
    let mut by_shard: Vec<Vec<&str>> = vec![Vec::new(); buckets];
    for (key, tuple) in &rows.rows {
        let shard = match shards.and_then(NonZeroU32::new) {
            Some(n) => shard_of(key, n) as usize,
            None => 0,
        };
        by_shard[shard].push(tuple);
    }
    let mut out = Vec::new();
    for tuples in by_shard {
        for chunk in tuples.chunks(per) {
            out.push(format!(
                "INSERT INTO {} ({}) VALUES {}",
                rows.table,
                rows.columns,
                chunk.join(", ")
            ));
        }
    }
    out
}
