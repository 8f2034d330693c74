//! The table layout the router routes by: which tables are sharded (by which key column
//! and type), which are reference tables, and how many shards there are.
//!
//! Built once per logical database from the configuration ([`Schema::from_database`]) and
//! owned by that database's [`Router`](crate::Router). Names are compared in lower case:
//! PostgreSQL folds unquoted identifiers, and the configuration already rejects two tables
//! whose names differ only in case. A configured `accounts` also answers to
//! `public.accounts`; a configured `app.accounts` also answers to an unqualified
//! `accounts` (found through `search_path`). Tables that are not configured are
//! *unsharded* and live on shard 0; tables of `pg_catalog` and `information_schema` (and
//! unqualified `pg_*` names) are system catalogs, present on every shard.
//!
//! A router for MySQL text reads names by MySQL's rules ([`Schema::for_dialect`]): the
//! qualifier of `db.t` is a database, which the router cannot map (the backends' database
//! names are their own), so a qualified name that is not configured as such falls back
//! to its bare table name (`otherdb.accounts` is still the sharded `accounts`: refusing
//! or routing by key is safer than sending a sharded table's query to shard 0); and the
//! system catalogs are the tables of `information_schema`, `mysql`,
//! `performance_schema` and `sys`. Names compare case-insensitively in both dialects,
//! backquoted or not (as MariaDB with `lower_case_table_names = 1`; on servers that
//! compare table names by case, `Accounts` is still taken for a configured `accounts`).

use std::collections::HashMap;
use std::num::NonZeroU32;

use shardwire_conf::{Database, KeyType, TableKind};

use crate::dialect::Dialect;

/// How a configured table is spread over the shards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// Each row lives on the shard its key hashes to.
    Sharded {
        /// The shard key column, lower case.
        key: String,
        /// The key column's type, which picks the hash function.
        key_type: KeyType,
    },
    /// A full copy on every shard: reads go to any shard, writes to all of them.
    Reference,
}

/// One configured table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TableInfo {
    /// The configured name, lower case (possibly schema-qualified).
    pub name: String,
    /// Sharded or reference.
    pub placement: Placement,
}

impl TableInfo {
    /// `sharded table "x"` or `reference table "x"`, for messages.
    pub fn describe(&self) -> String {
        match self.placement {
            Placement::Sharded { .. } => format!("sharded table \"{}\"", self.name),
            Placement::Reference => format!("reference table \"{}\"", self.name),
        }
    }
}

/// What a table name in a statement refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TableClass<'s> {
    /// A configured (sharded or reference) table.
    Configured(&'s TableInfo),
    /// A system catalog, present on every shard.
    Catalog,
    /// Any other table: unsharded, on shard 0.
    Unsharded,
}

/// The table layout of one logical database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schema {
    shard_count: NonZeroU32,
    tables: Vec<TableInfo>,
    /// Every accepted spelling (`t`, `public.t`, `s.t`) → index into `tables`.
    by_name: HashMap<String, usize>,
    /// The unqualified table name → index into `tables`, for spotting mentions in text.
    by_bare_name: HashMap<String, usize>,
    /// How statements name tables (see the module documentation).
    dialect: Dialect,
}

impl Schema {
    /// A schema with `shard_count` shards and no configured tables (every table
    /// unsharded); add tables with [`Schema::with_sharded`] and [`Schema::with_reference`].
    pub fn new(shard_count: NonZeroU32) -> Schema {
        Schema {
            shard_count,
            tables: Vec::new(),
            by_name: HashMap::new(),
            by_bare_name: HashMap::new(),
            dialect: Dialect::Postgres,
        }
    }

    /// This schema for statements written in `dialect`. [`Router::new`](crate::Router::new)
    /// calls it with the router's dialect.
    pub fn for_dialect(self, dialect: Dialect) -> Schema {
        Schema { dialect, ..self }
    }

    /// The dialect the schema reads names by.
    pub(crate) fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The layout of a configured logical database: its shard count and its
    /// `[[databases.tables]]`. A database without shards (which configuration validation
    /// rejects) is treated as having one.
    pub fn from_database(db: &Database) -> Schema {
        let count = u32::try_from(db.shard_count()).unwrap_or(u32::MAX);
        let mut schema = Schema::new(NonZeroU32::new(count).unwrap_or(NonZeroU32::MIN));
        for table in &db.tables {
            schema = match &table.kind {
                TableKind::Sharded {
                    shard_key,
                    key_type,
                } => schema.with_sharded(&table.name, shard_key, *key_type),
                TableKind::Reference => schema.with_reference(&table.name),
            };
        }
        schema
    }

    /// Adds a table sharded by column `key` of type `key_type`.
    pub fn with_sharded(self, name: &str, key: &str, key_type: KeyType) -> Schema {
        self.with_table(
            name,
            Placement::Sharded {
                key: key.trim().to_ascii_lowercase(),
                key_type,
            },
        )
    }

    /// Adds a reference table (a copy on every shard).
    pub fn with_reference(self, name: &str) -> Schema {
        self.with_table(name, Placement::Reference)
    }

    fn with_table(mut self, name: &str, placement: Placement) -> Schema {
        let name = name.trim().to_ascii_lowercase();
        let index = self.tables.len();
        match name.rsplit_once('.') {
            Some((_, bare)) => {
                self.by_name.insert(name.clone(), index);
                self.by_name.entry(bare.to_owned()).or_insert(index);
                self.by_bare_name.entry(bare.to_owned()).or_insert(index);
            }
            None => {
                // An unqualified config name wins over a qualified one for `t`.
                self.by_name.insert(name.clone(), index);
                self.by_name.insert(format!("public.{name}"), index);
                self.by_bare_name.insert(name.clone(), index);
            }
        }
        self.tables.push(TableInfo { name, placement });
        self
    }

    /// Number of shards, the `N` of the sharding function.
    pub fn shard_count(&self) -> u32 {
        self.shard_count.get()
    }

    /// Number of shards as the sharding function takes it.
    pub(crate) fn shards(&self) -> NonZeroU32 {
        self.shard_count
    }

    /// The placement of the configured table called `name` (`t` or `schema.t`, any case);
    /// `None` for unsharded tables.
    pub fn placement(&self, name: &str) -> Option<&Placement> {
        let parts: Vec<String> = name.split('.').map(str::to_ascii_lowercase).collect();
        match self.classify(&parts) {
            TableClass::Configured(info) => Some(&info.placement),
            _ => None,
        }
    }

    /// What the table name made of `parts` (already case-folded, `[db.][schema.]table`)
    /// refers to.
    pub(crate) fn classify(&self, parts: &[String]) -> TableClass<'_> {
        let (schema, table) = match parts {
            [] => return TableClass::Unsharded,
            [table] => (None, table.as_str()),
            [.., schema, table] => (Some(schema.as_str()), table.as_str()),
        };
        let found = match schema {
            None => self.by_name.get(table),
            Some(schema) => self.by_name.get(&format!("{schema}.{table}")),
        };
        if let Some(&index) = found {
            return TableClass::Configured(&self.tables[index]);
        }
        if self.dialect == Dialect::MySql {
            return self.classify_mysql(schema, table);
        }
        let catalog = match schema {
            Some(schema) => schema == "pg_catalog" || schema == "information_schema",
            None => table.starts_with("pg_"),
        };
        if catalog {
            TableClass::Catalog
        } else {
            TableClass::Unsharded
        }
    }

    /// [`Schema::classify`] for MySQL, once the name was not found as written.
    fn classify_mysql(&self, database: Option<&str>, table: &str) -> TableClass<'_> {
        let Some(database) = database else {
            return TableClass::Unsharded;
        };
        if let Some(&index) = self.by_name.get(table) {
            return TableClass::Configured(&self.tables[index]);
        }
        match database {
            "information_schema" | "mysql" | "performance_schema" | "sys" => TableClass::Catalog,
            _ => TableClass::Unsharded,
        }
    }

    /// The first configured table whose unqualified name appears as a word anywhere in
    /// `text` — inside literals and comments too. A deliberately coarse check, used where
    /// the router cannot see the statement's structure (unparsable statements, DDL).
    pub(crate) fn first_mentioned(&self, text: &str) -> Option<&TableInfo> {
        if self.tables.is_empty() {
            return None;
        }
        let mut word = String::new();
        for run in text.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$')) {
            if run.is_empty() {
                continue;
            }
            word.clear();
            word.extend(run.chars().map(|c| c.to_ascii_lowercase()));
            if let Some(&index) = self.by_bare_name.get(&word) {
                return Some(&self.tables[index]);
            }
        }
        None
    }

    /// The configured table whose unqualified name is `word` (lower case).
    pub(crate) fn by_bare_name(&self, word: &str) -> Option<&TableInfo> {
        self.by_bare_name
            .get(word)
            .map(|&index| &self.tables[index])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Schema {
        Schema::new(NonZeroU32::new(2).expect("non-zero"))
            .with_sharded("Accounts", "ID", KeyType::Bigint)
            .with_sharded("app.orders", "account_id", KeyType::Bigint)
            .with_reference("countries")
    }

    fn class(schema: &Schema, name: &str) -> Option<String> {
        let parts: Vec<String> = name.split('.').map(str::to_owned).collect();
        match schema.classify(&parts) {
            TableClass::Configured(info) => Some(info.name.clone()),
            TableClass::Catalog => Some("<catalog>".into()),
            TableClass::Unsharded => None,
        }
    }

    #[test]
    fn names_match_in_lower_case_with_or_without_public() {
        let schema = schema();
        assert_eq!(class(&schema, "accounts").as_deref(), Some("accounts"));
        assert_eq!(
            class(&schema, "public.accounts").as_deref(),
            Some("accounts")
        );
        assert_eq!(
            class(&schema, "db.public.accounts").as_deref(),
            Some("accounts")
        );
        assert_eq!(class(&schema, "other.accounts"), None);
        assert_eq!(class(&schema, "app.orders").as_deref(), Some("app.orders"));
        assert_eq!(class(&schema, "orders").as_deref(), Some("app.orders"));
        assert_eq!(class(&schema, "public.orders"), None);
        assert_eq!(class(&schema, "pg_class").as_deref(), Some("<catalog>"));
        assert_eq!(
            class(&schema, "information_schema.tables").as_deref(),
            Some("<catalog>")
        );
        assert_eq!(class(&schema, "users"), None);
    }

    #[test]
    fn placement_answers_for_configured_tables_only() {
        let schema = schema();
        assert_eq!(
            schema.placement("ACCOUNTS"),
            Some(&Placement::Sharded {
                key: "id".into(),
                key_type: KeyType::Bigint
            })
        );
        assert_eq!(schema.placement("countries"), Some(&Placement::Reference));
        assert_eq!(schema.placement("users"), None);
        assert_eq!(schema.shard_count(), 2);
    }

    #[test]
    fn the_layout_comes_from_the_configuration() {
        let config = shardwire_conf::Config::from_toml_str(
            r#"
            [proxy]
            postgres_listen = "127.0.0.1:6432"

            [[databases]]
            name = "app"
            protocol = "postgres"
            backend_user = "postgres"
              [[databases.shards]]
              primary = "127.0.0.1:15432/app"
              [[databases.shards]]
              primary = "127.0.0.1:15442/app"
              [[databases.shards]]
              primary = "127.0.0.1:15452/app"
              [[databases.tables]]
              name = "accounts"
              shard_key = "id"
              key_type = "bigint"
              [[databases.tables]]
              name = "countries"
              reference = true
            "#,
        )
        .expect("valid config");
        let schema = Schema::from_database(config.database("app").expect("app"));
        assert_eq!(schema.shard_count(), 3);
        assert_eq!(
            schema.placement("public.accounts"),
            Some(&Placement::Sharded {
                key: "id".into(),
                key_type: KeyType::Bigint
            })
        );
        assert_eq!(schema.placement("countries"), Some(&Placement::Reference));
        assert_eq!(schema.placement("things"), None);
    }

    #[test]
    fn mentions_are_whole_words() {
        let schema = schema();
        let name = |text: &str| schema.first_mentioned(text).map(|t| t.name.clone());
        assert_eq!(
            name("DO $$ BEGIN DELETE FROM Accounts; END $$").as_deref(),
            Some("accounts")
        );
        assert_eq!(name("select accounts_total from x"), None);
        assert_eq!(name("lock orders").as_deref(), Some("app.orders"));
    }
}
