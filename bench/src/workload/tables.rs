//! The bench's tables: their columns, their DDL on each engine, and the
//! `[[databases.tables]]` stanzas a proxy needs to shard them.

use crate::target::Engine;

/// A column's kind; each engine spells it its own way.
#[derive(Clone, Copy, Debug)]
pub enum Col {
    /// `BIGINT NOT NULL`: keys, balances, amounts.
    Int,
    /// Fixed-width text, NULL allowed (pgbench's `filler`).
    Filler(u16),
    /// Variable text, NOT NULL.
    Text(u16),
    /// A point in time: `timestamp` on PostgreSQL, `DATETIME` on MariaDB (whose
    /// `TIMESTAMP` has implicit defaults and a 2038 limit).
    Time,
}

/// One table of a workload.
#[derive(Debug)]
pub struct Table {
    /// Name, always `sw_…`.
    pub name: &'static str,
    /// The column the proxy shards by.
    pub shard_key: &'static str,
    /// Columns in order.
    pub columns: &'static [(&'static str, Col)],
    /// Primary key column, if any.
    pub primary_key: Option<&'static str>,
}

/// Accounts of the simple workloads (point-select, read-write, transfer, fan-out).
pub const ACCOUNTS: Table = Table {
    name: "sw_accounts",
    shard_key: "id",
    columns: &[("id", Col::Int), ("balance", Col::Int)],
    primary_key: Some("id"),
};

/// TPC-B branches.
pub const BRANCHES: Table = Table {
    name: "sw_branches",
    shard_key: "bid",
    columns: &[
        ("bid", Col::Int),
        ("bbalance", Col::Int),
        ("filler", Col::Filler(88)),
    ],
    primary_key: Some("bid"),
};

/// TPC-B tellers.
pub const TELLERS: Table = Table {
    name: "sw_tellers",
    shard_key: "tid",
    columns: &[
        ("tid", Col::Int),
        ("bid", Col::Int),
        ("tbalance", Col::Int),
        ("filler", Col::Filler(84)),
    ],
    primary_key: Some("tid"),
};

/// TPC-B accounts (apart from [`ACCOUNTS`] so the two workloads never disturb each
/// other's invariants).
pub const TPCB_ACCOUNTS: Table = Table {
    name: "sw_accounts_tpcb",
    shard_key: "aid",
    columns: &[
        ("aid", Col::Int),
        ("bid", Col::Int),
        ("abalance", Col::Int),
        ("filler", Col::Filler(84)),
    ],
    primary_key: Some("aid"),
};

/// TPC-B history, placed with its account.
pub const HISTORY: Table = Table {
    name: "sw_history",
    shard_key: "aid",
    columns: &[
        ("hid", Col::Int),
        ("tid", Col::Int),
        ("bid", Col::Int),
        ("aid", Col::Int),
        ("delta", Col::Int),
        ("mtime", Col::Time),
        ("filler", Col::Filler(22)),
    ],
    primary_key: None,
};

/// Rows appended by the insert workload.
pub const EVENTS: Table = Table {
    name: "sw_events",
    shard_key: "id",
    columns: &[
        ("id", Col::Int),
        ("client", Col::Int),
        ("payload", Col::Text(64)),
    ],
    primary_key: Some("id"),
};

/// Every table, for `--print-tables` without a workload.
pub const ALL: &[&Table] = &[
    &ACCOUNTS,
    &BRANCHES,
    &TELLERS,
    &TPCB_ACCOUNTS,
    &HISTORY,
    &EVENTS,
];

impl Table {
    /// `CREATE TABLE` in the engine's dialect.
    pub fn create_sql(&self, engine: Engine) -> String {
        let mut parts: Vec<String> = self
            .columns
            .iter()
            .map(|(name, col)| format!("{name} {}", col_type(*col, engine)))
            .collect();
        if let Some(pk) = self.primary_key {
            parts.push(format!("PRIMARY KEY ({pk})"));
        }
        format!("CREATE TABLE {} ({})", self.name, parts.join(", "))
    }

    /// `DROP TABLE IF EXISTS` (the same on both engines).
    pub fn drop_sql(&self) -> String {
        format!("DROP TABLE IF EXISTS {}", self.name)
    }

    /// The proxy config stanza that makes this table sharded.
    pub fn config_stanza(&self) -> String {
        format!(
            "[[databases.tables]]\nname = \"{}\"\nshard_key = \"{}\"\nkey_type = \"bigint\"\n",
            self.name, self.shard_key
        )
    }
}

fn col_type(col: Col, engine: Engine) -> String {
    match (col, engine) {
        (Col::Int, _) => "BIGINT NOT NULL".into(),
        (Col::Filler(n), _) => format!("CHAR({n})"),
        (Col::Text(n), _) => format!("VARCHAR({n}) NOT NULL"),
        (Col::Time, Engine::Postgres) => "TIMESTAMP".into(),
        (Col::Time, Engine::Mysql) => "DATETIME".into(),
    }
}

/// The stanzas for `tables`, separated by blank lines, as `--print-tables` prints them.
pub fn config_stanzas(tables: &[&Table]) -> String {
    tables
        .iter()
        .map(|t| t.config_stanza())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ddl_differs_only_where_the_engines_do() {
        assert_eq!(
            ACCOUNTS.create_sql(Engine::Postgres),
            "CREATE TABLE sw_accounts (id BIGINT NOT NULL, balance BIGINT NOT NULL, PRIMARY KEY (id))"
        );
        assert_eq!(
            ACCOUNTS.create_sql(Engine::Postgres),
            ACCOUNTS.create_sql(Engine::Mysql)
        );
        assert!(HISTORY
            .create_sql(Engine::Postgres)
            .contains("mtime TIMESTAMP"));
        assert!(HISTORY.create_sql(Engine::Mysql).contains("mtime DATETIME"));
        assert!(!HISTORY.create_sql(Engine::Mysql).contains("PRIMARY KEY"));
    }

    #[test]
    fn every_table_is_sharded_by_one_of_its_columns() {
        for table in ALL {
            assert!(table.name.starts_with("sw_"));
            assert!(
                table.columns.iter().any(|(c, _)| *c == table.shard_key),
                "{}",
                table.name
            );
        }
    }

    #[test]
    fn stanzas_are_what_the_proxy_config_reads() {
        assert_eq!(
            config_stanzas(&[&ACCOUNTS, &HISTORY]),
            "[[databases.tables]]\nname = \"sw_accounts\"\nshard_key = \"id\"\nkey_type = \"bigint\"\n\n\
             [[databases.tables]]\nname = \"sw_history\"\nshard_key = \"aid\"\nkey_type = \"bigint\"\n"
        );
    }
}
