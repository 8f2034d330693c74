//! Support for the MySQL scattered-read tests: the dataset, a seeded query corpus, and
//! the comparison of two answers.

#![allow(dead_code)]

use mysql_async::consts::ColumnType;
use mysql_async::prelude::*;

#[path = "../scatter_support/rng.rs"]
pub mod rng;

use rng::Rng;

/// The tables on the proxy's shards and on the reference server.
pub const SCHEMA: &str = "
CREATE TABLE items (id BIGINT PRIMARY KEY, grp INT, name VARCHAR(40), amount DECIMAL(12,3),
  score DOUBLE, qty INT, made DATE, at DATETIME(3), big BIGINT UNSIGNED, took TIME);
CREATE TABLE notes (id BIGINT PRIMARY KEY, item INT, body VARCHAR(30) COLLATE utf8mb4_bin,
  n SMALLINT);
";

/// The sharding of both tables.
pub const TABLES: &str = "
  [[databases.tables]]
  name = \"items\"
  shard_key = \"id\"
  key_type = \"bigint\"

  [[databases.tables]]
  name = \"notes\"
  shard_key = \"id\"
  key_type = \"bigint\"
";

const NAMES: &[&str] = &[
    "apple",
    "Apple",
    "APPLE",
    "banana",
    "Banana",
    "cherry",
    "Élan",
    "élan",
    "Zürich",
    "zürich",
    "ångström",
    "Œuvre",
    "naïve",
    "Ørsted",
    "straße",
    "mango",
    "Mango",
    "kiwi",
];
const BODIES: &[&str] = &["a", "B", "b", "ä", "Ä", "z", "Z", "é", "e", "ab", "Ab"];

fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The INSERT statements of the dataset (batches of 100 rows).
pub fn inserts(rng: &mut Rng, items: i64, notes: i64) -> Vec<String> {
    let mut out = Vec::new();
    let mut rows = Vec::new();
    macro_rules! null_or {
        ($rng:expr, $v:expr) => {{
            let v: String = $v;
            if $rng.chance(8) {
                "NULL".to_string()
            } else {
                v
            }
        }};
    }
    for id in 1..=items {
        let grp = null_or!(rng, rng.range(-3, 12).to_string());
        let name = null_or!(rng, quoted(rng.pick(NAMES)));
        let amount = null_or!(
            rng,
            format!("{}.{:03}", rng.range(-5000, 5000), rng.range(0, 1000))
        );
        let score = null_or!(
            rng,
            format!("{}e{}", rng.range(-99999, 99999), rng.range(-6, 3))
        );
        let qty = null_or!(rng, rng.range(-50, 200).to_string());
        let made = null_or!(
            rng,
            format!(
                "'20{:02}-{:02}-{:02}'",
                rng.range(0, 30),
                rng.range(1, 13),
                rng.range(1, 29)
            )
        );
        let at = null_or!(
            rng,
            format!(
                "'2024-01-{:02} {:02}:{:02}:{:02}.{:03}'",
                rng.range(1, 29),
                rng.range(0, 24),
                rng.range(0, 60),
                rng.range(0, 60),
                rng.range(0, 1000)
            )
        );
        let big = null_or!(
            rng,
            (u64::MAX - rng.range(0, 1000) as u64 * 1_000_000_007).to_string()
        );
        let took = null_or!(
            rng,
            format!(
                "'{}:{:02}:{:02}'",
                rng.range(-100, 100),
                rng.range(0, 60),
                rng.range(0, 60)
            )
        );
        rows.push(format!(
            "({id}, {grp}, {name}, {amount}, {score}, {qty}, {made}, {at}, {big}, {took})"
        ));
        if rows.len() == 100 || id == items {
            out.push(format!("INSERT INTO items (id, grp, name, amount, score, qty, made, at, big, took) VALUES {}", rows.join(", ")));
            rows.clear();
        }
    }
    for id in 1..=notes {
        let body = null_or!(rng, quoted(rng.pick(BODIES)));
        rows.push(format!(
            "({id}, {}, {body}, {})",
            rng.range(1, items),
            rng.range(-5, 5)
        ));
        if rows.len() == 100 || id == notes {
            out.push(format!(
                "INSERT INTO notes (id, item, body, n) VALUES {}",
                rows.join(", ")
            ));
            rows.clear();
        }
    }
    out
}

/// A generated query: its text and whether its `ORDER BY` fixes the row order.
pub struct Query {
    /// SQL.
    pub sql: String,
    /// Rows compared in order.
    pub ordered: bool,
}

/// `count` seeded queries over the dataset.
pub fn corpus(rng: &mut Rng, count: usize) -> Vec<Query> {
    let cols = [
        "grp", "name", "amount", "score", "qty", "made", "at", "big", "took",
    ];
    let mut out = Vec::new();
    while out.len() < count {
        let k = rng.range(-20, 150);
        let g = rng.range(-3, 12);
        let c1 = rng.pick(&cols);
        let c2 = rng.pick(&cols);
        let dir = |rng: &mut Rng| if rng.chance(50) { "DESC" } else { "ASC" };
        let (sql, ordered) = match rng.range(0, 12) {
            0 => (format!("SELECT id, {c1}, {c2} FROM items WHERE qty > {k} ORDER BY {c1} {}, {c2} {}, id LIMIT {}, {}", dir(rng), dir(rng), rng.range(0, 50), rng.range(1, 60)), true),
            1 => (format!("SELECT id, name, amount FROM items WHERE grp = {g} ORDER BY name {}, id", dir(rng)), true),
            2 => (format!("SELECT COUNT(*), COUNT({c1}), SUM(qty), SUM(amount), MIN({c1}), MAX({c2}), AVG(amount), AVG(qty), SUM(score), AVG(score) FROM items WHERE qty < {k}"), false),
            3 => (format!("SELECT grp, COUNT(*), SUM(amount), AVG(qty), MIN(name), MAX(at) FROM items GROUP BY grp HAVING COUNT(*) > {} ORDER BY grp {}", rng.range(0, 300), dir(rng)), true),
            4 => (format!("SELECT DISTINCT {c1} FROM items WHERE qty BETWEEN {k} AND {} ORDER BY {c1} {}", k + 40, dir(rng)), true),
            5 => (format!("SELECT DISTINCT name FROM items WHERE grp <> {g}"), false),
            6 => {
                let ids: Vec<String> = (0..rng.range(2, 12)).map(|_| rng.range(1, 3000).to_string()).collect();
                (format!("SELECT id, qty, name FROM items WHERE id IN ({}) ORDER BY qty {}, id", ids.join(", "), dir(rng)), true)
            }
            7 => (format!("SELECT name, COUNT(*), SUM(qty) FROM items GROUP BY name ORDER BY COUNT(*) DESC, SUM(qty) LIMIT {}", rng.range(1, 20)), false),
            8 => (format!("SELECT body, COUNT(*), MIN(n), MAX(item) FROM notes GROUP BY body ORDER BY body {}", dir(rng)), true),
            9 => (format!("SELECT id, body FROM notes WHERE n >= {} ORDER BY body {}, id DESC LIMIT {}", rng.range(-5, 5), dir(rng), rng.range(1, 100)), true),
            10 => (format!("SELECT {c1}, COUNT(*) FROM items WHERE qty > {k} GROUP BY {c1} HAVING COUNT(*) >= {} ORDER BY 2 DESC, 1 LIMIT 5, 10", rng.range(1, 5)), true),
            _ => (format!("SELECT * FROM items WHERE qty = {k} ORDER BY id DESC"), true),
        };
        out.push(Query { sql, ordered });
    }
    out
}

/// One answer: the column types and text rows, or the error code and message.
pub type Answer = Result<(Vec<ColumnType>, Vec<Vec<Option<String>>>), (u16, String)>;

/// Runs `sql` (text protocol).
pub async fn answer(conn: &mut mysql_async::Conn, sql: &str) -> Answer {
    let result: Result<Vec<mysql_async::Row>, _> = conn.query(sql).await;
    collect(result)
}

/// Collects rows (text or binary) into text.
pub fn collect(result: Result<Vec<mysql_async::Row>, mysql_async::Error>) -> Answer {
    match result {
        Ok(rows) => {
            let types = rows
                .first()
                .map(|r| r.columns_ref().iter().map(|c| c.column_type()).collect())
                .unwrap_or_default();
            let rows = rows
                .into_iter()
                .map(|row| row.unwrap().into_iter().map(text).collect())
                .collect();
            Ok((types, rows))
        }
        Err(mysql_async::Error::Server(e)) => Err((e.code, e.message)),
        Err(e) => Err((0, e.to_string())),
    }
}

fn text(v: mysql_async::Value) -> Option<String> {
    use mysql_async::Value;
    match v {
        Value::NULL => None,
        Value::Bytes(b) => Some(String::from_utf8_lossy(&b).into_owned()),
        Value::Int(i) => Some(i.to_string()),
        Value::UInt(u) => Some(u.to_string()),
        Value::Float(f) => Some(f.to_string()),
        Value::Double(d) => Some(d.to_string()),
        other => Some(other.as_sql(true)),
    }
}

/// A value made comparable: doubles rounded to 9 significant digits, strings folded to
/// uppercase (the tests' data differ only by case or not at all under general_ci).
fn norm(t: &ColumnType, v: &Option<String>) -> Option<String> {
    let v = v.as_ref()?;
    Some(match t {
        ColumnType::MYSQL_TYPE_DOUBLE | ColumnType::MYSQL_TYPE_FLOAT => match v.parse::<f64>() {
            Ok(f) => format!("{f:.9e}"),
            Err(_) => v.clone(),
        },
        ColumnType::MYSQL_TYPE_VAR_STRING | ColumnType::MYSQL_TYPE_STRING => v.to_uppercase(),
        _ => v.clone(),
    })
}

/// Whether two answers agree (types, then rows: in order, or as multisets).
pub fn same(reference: &Answer, got: &Answer, ordered: bool) -> Result<(), String> {
    match (reference, got) {
        (Ok((rt, rr)), Ok((gt, gr))) => {
            if !rr.is_empty() && !gr.is_empty() && rt != gt {
                return Err(format!("types differ: {rt:?} vs {gt:?}"));
            }
            let n = |rows: &[Vec<Option<String>>]| -> Vec<Vec<Option<String>>> {
                let mut v: Vec<_> = rows
                    .iter()
                    .map(|r| r.iter().zip(rt).map(|(c, t)| norm(t, c)).collect())
                    .collect();
                if !ordered {
                    v.sort();
                }
                v
            };
            let (a, b) = (n(rr), n(gr));
            if a != b {
                return Err(format!(
                    "rows differ:\n reference {rr:?}\n proxy     {gr:?}"
                ));
            }
            if ordered && rr != gr {
                // Exact text where the order is fixed, except case variants of equal strings.
                for (x, y) in rr.iter().zip(gr) {
                    for ((p, q), t) in x.iter().zip(y).zip(rt) {
                        if p != q && norm(t, p) != norm(t, q) {
                            return Err(format!("value {p:?} vs {q:?}"));
                        }
                    }
                }
            }
            Ok(())
        }
        (Err(a), Err(b)) if a.0 == b.0 => Ok(()),
        _ => Err(format!("reference {reference:?}\n proxy {got:?}")),
    }
}
