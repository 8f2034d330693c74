//! The router never panics, whatever the bytes (DESIGN §10): random token soups and
//! pathological shapes go through `route_simple` and `prepare` and come back as plans or
//! errors. Both dialects: the MySQL router gets MySQL's lexical pieces on top.

#![allow(clippy::unwrap_used)]

mod common;

use shardwire_router::{Dialect, Router};

/// splitmix64, so that a failing input can be replayed from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

const PIECES: &[&str] = &[
    "SELECT",
    "INSERT INTO",
    "UPDATE",
    "DELETE FROM",
    "SET",
    "BEGIN",
    "COMMIT",
    "WITH",
    "accounts",
    "users",
    "countries",
    "things",
    "id",
    "name",
    "=",
    "IN",
    "ANY",
    "(",
    ")",
    ",",
    ";",
    "'",
    "''",
    "E'",
    "\\",
    "$",
    "$1",
    "$$",
    "$a$",
    "--",
    "/*",
    "*/",
    "\"",
    "-",
    "1",
    "-5",
    "1.5e",
    "0x",
    "VALUES",
    "WHERE",
    "AND",
    "OR",
    "::",
    "uuid",
    "ARRAY[",
    "]",
    "é",
    "\u{0}",
    " ",
    "\n",
    "$L1",
    "{",
    "}",
    "RETURNING",
    "PREPARE TRANSACTION",
    "SHOW",
];

/// What only MySQL reads specially.
const MYSQL_PIECES: &[&str] = &[
    "?",
    "`",
    "``",
    "#",
    "/*!",
    "/*M!100100",
    "\\'",
    "\\\"",
    "@",
    "@@session.",
    "@x",
    ":=",
    "ON DUPLICATE KEY UPDATE",
    "LIMIT",
    "XA",
    "LOCK TABLES",
    "REPLACE",
    "USE",
    "0b",
    "X'",
    "_utf8mb4",
    "-- ",
];

/// A PostgreSQL and a MySQL router, with the pieces of their token soups.
fn routers() -> Vec<(Router, Vec<&'static str>)> {
    let mysql = Router::new(common::schema(common::SHARDS), Dialect::MySql);
    vec![
        (common::router(), PIECES.to_vec()),
        (mysql, [PIECES, MYSQL_PIECES].concat()),
    ]
}

#[test]
fn random_token_soup_never_panics() {
    for (router, pieces) in routers() {
        let mut rng = Rng(0x5EED);
        for _ in 0..20_000 {
            let len = rng.next() % 24;
            let sql: String = (0..len)
                .map(|_| rng.pick(&pieces))
                .collect::<Vec<_>>()
                .join(" ");
            let _ = router.route_simple(&sql);
            let _ = router.prepare(&sql, &[]);
            let glued: String = (0..len).map(|_| rng.pick(&pieces)).collect();
            let _ = router.route_simple(&glued);
        }
    }
}

#[test]
fn arbitrary_bytes_never_panic() {
    for (router, _) in routers() {
        let mut rng = Rng(0xB17E5);
        for _ in 0..5_000 {
            let bytes: Vec<u8> = (0..rng.next() % 64).map(|_| rng.next() as u8).collect();
            let sql = String::from_utf8_lossy(&bytes);
            let _ = router.route_simple(&sql);
        }
    }
}

#[test]
fn pathological_shapes_are_answered() {
    for (router, _) in routers() {
        pathological(&router);
    }
}

fn pathological(router: &Router) {
    let many_ands = format!(
        "SELECT * FROM accounts WHERE id = 1{}",
        " AND x = 1".repeat(20_000)
    );
    let deep_parens = format!("SELECT {}1{}", "(".repeat(5_000), ")".repeat(5_000));
    let many_rows = format!(
        "INSERT INTO accounts (id) VALUES {}",
        vec!["(1)"; 20_000].join(", ")
    );
    let many_statements = "SELECT 1;".repeat(5_000);
    for sql in [&many_ands, &deep_parens, &many_rows, &many_statements] {
        let _ = router.route_simple(sql);
    }
    assert_eq!(
        common::shard(router, &many_rows),
        Ok(common::int(1)),
        "20,000 rows of one key"
    );
}
