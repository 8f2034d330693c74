//! The differential test's query corpus, generated from a seed: filters, multi-key
//! ORDER BY with DESC and NULLS FIRST/LAST, LIMIT/OFFSET, every supported aggregate,
//! GROUP BY/HAVING, DISTINCT, co-located and reference-table joins, key IN-lists.
//!
//! Every query says whether its row order is fixed (ORDER BY ending in a unique key, or
//! by group keys) — then order is compared — and which columns are floating-point sums
//! or averages, which may differ in the last digits from one database's, because the
//! additions happen in another order (PostgreSQL's own parallel aggregation has the same
//! property).

use super::dataset::{CITIES, KINDS, STATUSES};
use super::rng::Rng;

/// One generated query.
#[derive(Debug, Clone)]
pub struct Query {
    /// The SQL.
    pub sql: String,
    /// Whether the row order is fixed by the query.
    pub ordered: bool,
    /// Columns compared with a relative tolerance of 1e-9.
    pub float_columns: Vec<usize>,
}

/// `count` queries from `seed`.
pub fn generate(seed: u64, count: usize) -> Vec<Query> {
    let mut rng = Rng::new(seed);
    (0..count)
        .map(|i| match i % 9 {
            0 | 1 => filtered_rows(&mut rng),
            2 => top_n(&mut rng),
            3 => plain_aggregates(&mut rng),
            4 | 5 => grouped(&mut rng),
            6 => distinct(&mut rng),
            7 => colocated_join(&mut rng),
            _ => reference_join(&mut rng),
        })
        .collect()
}

/// A column a query can filter, sort or aggregate on.
struct Col {
    name: &'static str,
    nullable: bool,
    float: bool,
    numeric: bool,
}

const fn col(name: &'static str, nullable: bool, numeric: bool, float: bool) -> Col {
    Col {
        name,
        nullable,
        float,
        numeric,
    }
}

struct Table {
    name: &'static str,
    alias: &'static str,
    unique: &'static str,
    cols: &'static [Col],
    groups: &'static [&'static str],
}

const CUSTOMERS: Table = Table {
    name: "customers",
    alias: "c",
    unique: "id",
    cols: &[
        col("id", false, true, false),
        col("name", false, false, false),
        col("city", true, false, false),
        col("score", true, true, false),
        col("balance", false, true, false),
        col("created", false, false, false),
        col("active", false, false, false),
        col("ref", true, false, false),
    ],
    groups: &[
        "city",
        "active",
        "score % 7",
        "lower(city)",
        "created::date",
    ],
};

const ORDERS: Table = Table {
    name: "orders",
    alias: "o",
    unique: "id",
    cols: &[
        col("id", false, true, false),
        col("customer_id", false, true, false),
        col("amount", true, true, false),
        col("qty", false, true, false),
        col("status", true, false, false),
        col("weight", true, true, true),
        col("placed", false, false, false),
    ],
    groups: &["status", "qty", "placed", "qty / 10", "status IS NULL"],
};

const EVENTS: Table = Table {
    name: "events",
    alias: "e",
    unique: "id",
    cols: &[
        col("id", false, false, false),
        col("customer_id", false, true, false),
        col("kind", false, false, false),
        col("value", true, true, false),
        col("at", false, false, false),
    ],
    groups: &["kind", "customer_id % 5", "date_trunc('month', at)"],
};

const TABLES: &[&Table] = &[&CUSTOMERS, &ORDERS, &EVENTS];

fn table(rng: &mut Rng) -> &'static Table {
    TABLES[rng.range(0, TABLES.len() as i64) as usize]
}

/// A WHERE condition on `t` (columns qualified with `q`, which may be empty).
fn predicate(rng: &mut Rng, t: &Table, q: &str) -> String {
    let mut parts = Vec::new();
    for _ in 0..rng.range(1, 3) {
        let p = match (t.name, rng.range(0, 6)) {
            ("customers", 0) => format!("{q}score > {}", rng.range(-100, 100)),
            ("customers", 1) => format!("{q}city = '{}'", rng.pick(CITIES)),
            ("customers", 2) => format!("{q}balance < {}.5", rng.range(-5000, 5000)),
            ("customers", 3) => format!("{q}name >= '{}'", rng.pick(&["B", "a", "m", "Zu", "ka"])),
            ("customers", 4) => format!("({q}score IS NULL OR {q}active)"),
            ("customers", _) => {
                let a = rng.range(-2500, 7000);
                format!("{q}id BETWEEN {a} AND {}", a + rng.range(10, 3000))
            }
            ("orders", 0) => format!("{q}qty >= {}", rng.range(-5, 50)),
            ("orders", 1) => format!("{q}status = '{}'", rng.pick(STATUSES)),
            ("orders", 2) => format!("{q}amount > {}", rng.range(-10, 900)),
            ("orders", 3) => format!("{q}weight < {}", rng.range(-600, 6000)),
            ("orders", 4) => format!("{q}placed >= '2024-{:02}-01'", rng.range(1, 13)),
            ("orders", _) => format!("({q}status IS NULL OR {q}amount IS NULL)"),
            (_, 0) => format!("{q}kind = '{}'", rng.pick(KINDS)),
            (_, 1) => format!("{q}value > {}", rng.range(-1_000_000, 1_000_000)),
            (_, 2) => format!("{q}at < '2024-{:02}-15 12:00:00+00'", rng.range(1, 13)),
            (_, 3) => format!("{q}customer_id < {}", rng.range(-2500, 7500)),
            (_, _) => format!("{q}value IS NULL"),
        };
        parts.push(p);
    }
    let joiner = if rng.chance(25) { " OR " } else { " AND " };
    parts.join(joiner)
}

fn direction(rng: &mut Rng, nullable: bool) -> String {
    let mut d = String::from(if rng.chance(50) { " DESC" } else { "" });
    if nullable && rng.chance(50) {
        d.push_str(if rng.chance(50) {
            " NULLS FIRST"
        } else {
            " NULLS LAST"
        });
    }
    d
}

/// ORDER BY 1–3 random columns, then the unique key: a total order.
fn order_by(rng: &mut Rng, t: &Table, q: &str) -> String {
    let mut keys = Vec::new();
    for _ in 0..rng.range(1, 4) {
        let c = &t.cols[rng.range(0, t.cols.len() as i64) as usize];
        keys.push(format!("{q}{}{}", c.name, direction(rng, c.nullable)));
    }
    keys.push(format!("{q}{}{}", t.unique, direction(rng, false)));
    keys.join(", ")
}

fn some_columns(rng: &mut Rng, t: &Table, q: &str) -> String {
    if rng.chance(20) {
        return "*".to_string();
    }
    let mut names: Vec<String> = Vec::new();
    for c in t.cols {
        if rng.chance(50) {
            names.push(format!("{q}{}", c.name));
        }
    }
    if names.is_empty() {
        names.push(format!("{q}{}", t.unique));
    }
    names.join(", ")
}

fn filtered_rows(rng: &mut Rng) -> Query {
    let t = table(rng);
    let mut sql = format!(
        "SELECT {} FROM {} WHERE {}",
        some_columns(rng, t, ""),
        t.name,
        predicate(rng, t, "")
    );
    if t.name != "events" && rng.chance(20) {
        // Only a key IN-list: the read goes to the shards those keys live on.
        let key = if t.name == "customers" {
            "id"
        } else {
            "customer_id"
        };
        let ids: Vec<String> = (0..rng.range(1, 8))
            .map(|_| rng.range(-2500, 7500).to_string())
            .collect();
        sql = format!(
            "SELECT {} FROM {} WHERE {key} IN ({})",
            some_columns(rng, t, ""),
            t.name,
            ids.join(", ")
        );
    } else if t.name == "customers" && rng.chance(30) {
        let ids: Vec<String> = (0..rng.range(2, 12))
            .map(|_| rng.range(-2500, 7500).to_string())
            .collect();
        sql.push_str(&format!(" OR id IN ({})", ids.join(", ")));
    }
    let ordered = rng.chance(60);
    if ordered {
        sql.push_str(&format!(" ORDER BY {}", order_by(rng, t, "")));
    }
    Query {
        sql,
        ordered,
        float_columns: Vec::new(),
    }
}

fn top_n(rng: &mut Rng) -> Query {
    let t = table(rng);
    let mut sql = format!(
        "SELECT {} FROM {} WHERE {} ORDER BY {} LIMIT {}",
        some_columns(rng, t, ""),
        t.name,
        predicate(rng, t, ""),
        order_by(rng, t, ""),
        rng.range(0, 60)
    );
    if rng.chance(60) {
        sql.push_str(&format!(" OFFSET {}", rng.range(0, 400)));
    }
    Query {
        sql,
        ordered: true,
        float_columns: Vec::new(),
    }
}

/// Aggregates over a column: (SQL, is a float result).
fn aggregate(rng: &mut Rng, t: &Table, q: &str) -> (String, bool) {
    let c = &t.cols[rng.range(0, t.cols.len() as i64) as usize];
    let choice = rng.range(0, 7);
    // PostgreSQL has no min/max for bool and uuid.
    let choice = if matches!(c.name, "active" | "ref") {
        choice.min(1)
    } else {
        choice
    };
    match choice {
        0 => ("count(*)".to_string(), false),
        1 => (format!("count({q}{})", c.name), false),
        2 | 3 => (format!("min({q}{})", c.name), false),
        4 => (format!("max({q}{})", c.name), false),
        _ if c.numeric => {
            let f = if choice == 5 { "sum" } else { "avg" };
            (format!("{f}({q}{})", c.name), c.float)
        }
        _ => (format!("max({q}{})", c.name), false),
    }
}

fn plain_aggregates(rng: &mut Rng) -> Query {
    let t = table(rng);
    let mut items = Vec::new();
    let mut floats = Vec::new();
    for i in 0..rng.range(1, 6) {
        let (a, float) = aggregate(rng, t, "");
        if float {
            floats.push(i as usize);
        }
        items.push(a);
    }
    if t.name == "orders" && rng.chance(40) {
        items.push("count(DISTINCT customer_id)".to_string());
    }
    let filter = if rng.chance(70) {
        format!(" WHERE {}", predicate(rng, t, ""))
    } else {
        String::new()
    };
    Query {
        sql: format!("SELECT {} FROM {}{filter}", items.join(", "), t.name),
        ordered: true,
        float_columns: floats,
    }
}

fn grouped(rng: &mut Rng) -> Query {
    let t = table(rng);
    let g = rng.pick(t.groups);
    let mut items = vec![g.to_string()];
    let mut floats = Vec::new();
    for i in 0..rng.range(1, 5) {
        let (a, float) = aggregate(rng, t, "");
        if float {
            floats.push(i as usize + 1);
        }
        items.push(a);
    }
    let mut sql = format!("SELECT {} FROM {}", items.join(", "), t.name);
    if rng.chance(50) {
        sql.push_str(&format!(" WHERE {}", predicate(rng, t, "")));
    }
    sql.push_str(&format!(" GROUP BY {g}"));
    if rng.chance(40) {
        let having = match rng.range(0, 3) {
            0 => format!("count(*) > {}", rng.range(0, 400)),
            1 => format!("count(*) BETWEEN 1 AND {}", rng.range(1, 2000)),
            _ => format!("max({}) IS NOT NULL", t.unique),
        };
        let having = having.replace("BETWEEN 1 AND", ">= 1 AND count(*) <=");
        sql.push_str(&format!(" HAVING {having}"));
    }
    let ordered = rng.chance(80);
    if ordered {
        if rng.chance(50) {
            sql.push_str(&format!(" ORDER BY 1{}", direction(rng, true)));
        } else {
            sql.push_str(&format!(
                " ORDER BY count(*) DESC, {g}{}",
                direction(rng, true)
            ));
        }
        if rng.chance(40) {
            sql.push_str(&format!(
                " LIMIT {} OFFSET {}",
                rng.range(1, 20),
                rng.range(0, 5)
            ));
        }
    }
    Query {
        sql,
        ordered,
        float_columns: floats,
    }
}

fn distinct(rng: &mut Rng) -> Query {
    let (sql, ordered) = match rng.range(0, 4) {
        0 => ("SELECT DISTINCT status FROM orders ORDER BY status NULLS FIRST".to_string(), true),
        1 => (
            format!(
                "SELECT DISTINCT city, active FROM customers WHERE score > {} ORDER BY 1, 2 DESC",
                rng.range(-100, 100)
            ),
            true,
        ),
        2 => (
            format!(
                "SELECT DISTINCT kind FROM events WHERE value > {}",
                rng.range(-1_000_000, 1_000_000)
            ),
            false,
        ),
        _ => (
            format!(
                "SELECT DISTINCT qty, status FROM orders WHERE qty < {} ORDER BY qty DESC, status LIMIT {}",
                rng.range(-5, 50),
                rng.range(1, 30)
            ),
            true,
        ),
    };
    Query {
        sql,
        ordered,
        float_columns: Vec::new(),
    }
}

fn colocated_join(rng: &mut Rng) -> Query {
    if rng.chance(50) {
        let mut sql = format!(
            "SELECT c.id, c.name, o.id, o.amount, o.status FROM customers c JOIN orders o \
             ON o.customer_id = c.id WHERE {} AND {}",
            predicate(rng, &CUSTOMERS, "c."),
            predicate(rng, &ORDERS, "o.")
        );
        sql.push_str(&format!(
            " ORDER BY o.amount{}, c.name{}, o.id",
            direction(rng, true),
            direction(rng, false)
        ));
        if rng.chance(50) {
            sql.push_str(&format!(
                " LIMIT {} OFFSET {}",
                rng.range(1, 100),
                rng.range(0, 50)
            ));
        }
        return Query {
            sql,
            ordered: true,
            float_columns: Vec::new(),
        };
    }
    let g = rng.pick(&["c.city", "c.active", "o.status"]);
    Query {
        sql: format!(
            "SELECT {g}, count(*), sum(o.amount), avg(o.qty), max(c.balance), sum(o.weight) \
             FROM customers c LEFT JOIN orders o ON c.id = o.customer_id WHERE {} \
             GROUP BY {g} ORDER BY {g} NULLS FIRST",
            predicate(rng, &CUSTOMERS, "c.")
        ),
        ordered: true,
        float_columns: vec![5],
    }
}

fn reference_join(rng: &mut Rng) -> Query {
    match rng.range(0, 3) {
        0 => Query {
            sql: format!(
                "SELECT r.name, r.zone, count(*), min(c.score), avg(c.balance) FROM customers c \
                 JOIN regions r ON r.code = c.city WHERE {} GROUP BY r.name, r.zone ORDER BY r.zone, r.name",
                predicate(rng, &CUSTOMERS, "c.")
            ),
            ordered: true,
            float_columns: Vec::new(),
        },
        1 => Query {
            sql: format!(
                "SELECT c.id, c.name, r.name FROM customers c JOIN regions r ON r.code = c.city \
                 WHERE r.zone = {} ORDER BY c.name DESC, c.id LIMIT {}",
                rng.range(1, 4),
                rng.range(1, 80)
            ),
            ordered: true,
            float_columns: Vec::new(),
        },
        _ => Query {
            sql: format!(
                "SELECT count(*), sum(o.qty) FROM orders o WHERE o.status IN \
                 (SELECT 'Paid' UNION SELECT 'new') AND o.qty > {}",
                rng.range(-5, 40)
            ),
            ordered: true,
            float_columns: Vec::new(),
        },
    }
}
