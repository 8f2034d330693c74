//! What kind of statement a plan is for: the classification the session acts on.
//!
//! Reads and writes go to shards; transaction control, `SET`, `SHOW`, `DISCARD` and
//! `DEALLOCATE` are mostly handled by the session itself (transaction pooling means the
//! proxy, not one server connection, owns the client's session state). These are plain
//! values so that tests and the session can match on them.

/// What a statement does, as far as routing and session handling care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatementKind {
    /// A query that changes nothing: `SELECT` without `FOR UPDATE`/`FOR SHARE`, without
    /// data-modifying `WITH` and without known writing functions (`nextval`, `setval`,
    /// advisory locks …); also plain `EXPLAIN`. Outside a transaction a read may be served
    /// by a replica, according to the session's consistency level.
    Read,
    /// Anything else that touches data: `INSERT`, `UPDATE`, `DELETE`, `MERGE`,
    /// `COPY … FROM`, `TRUNCATE`, `LOCK`, `CALL`, `SELECT … FOR UPDATE`, `SELECT nextval(…)`.
    Write,
    /// Transaction control.
    Transaction(TxnCommand),
    /// `SET` / `RESET` of a session or transaction setting.
    Set(SetCommand),
    /// `SHOW name`, the name in lower case (`all`, `timezone`, `shardwire.session_token`).
    Show(String),
    /// `DISCARD …`.
    Discard(DiscardKind),
    /// `DEALLOCATE [PREPARE] name`; `None` for `DEALLOCATE ALL`.
    Deallocate(Option<String>),
    /// MySQL `USE db`: the client picks its default database, by name as written
    /// (unquoted). The proxy answers it itself: a client sees one logical database, so
    /// the name should be that database's (the backends' own database names may differ).
    Use(String),
    /// `RELOAD shardwire`: the proxy re-reads its configuration (an admin statement,
    /// answered by the proxy; `SET shardwire.reload` is the same request as a setting).
    Reload,
    /// Schema changes: `CREATE`, `ALTER`, `DROP`, `COMMENT`, `GRANT`, `REVOKE` ….
    Ddl,
    /// Other commands: `VACUUM`, `ANALYZE`, `LISTEN`, `NOTIFY`, cursors, SQL-level
    /// `PREPARE`/`EXECUTE`, and statements the router cannot parse. They run on the
    /// primary.
    Utility,
    /// An empty query string (only whitespace, comments or `;`).
    Empty,
}

/// A transaction-control statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxnCommand {
    /// `BEGIN` / `START TRANSACTION`, with its modes as written (e.g.
    /// `ISOLATION LEVEL SERIALIZABLE, READ ONLY`; empty if none) so that each shard the
    /// transaction enlists can be begun the same way.
    Begin {
        /// Whether the modes say `READ ONLY`.
        read_only: bool,
        /// The transaction modes after `BEGIN [WORK | TRANSACTION]`, normalized spacing.
        modes: String,
    },
    /// `COMMIT` / `END`.
    Commit {
        /// `AND CHAIN`: a new transaction with the same modes starts at once.
        chain: bool,
    },
    /// `ROLLBACK` / `ABORT`.
    Rollback {
        /// `AND CHAIN`.
        chain: bool,
    },
    /// `SAVEPOINT name`.
    Savepoint(String),
    /// `RELEASE [SAVEPOINT] name`.
    Release(String),
    /// `ROLLBACK [WORK | TRANSACTION] TO [SAVEPOINT] name`.
    RollbackTo(String),
    /// `PREPARE TRANSACTION 'gid'` (the proxy refuses it from clients: 2PC is its own).
    PrepareTransaction(String),
    /// `COMMIT PREPARED 'gid'` (refused from clients).
    CommitPrepared(String),
    /// `ROLLBACK PREPARED 'gid'` (refused from clients).
    RollbackPrepared(String),
}

/// A `SET` or `RESET`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetCommand {
    /// `SET [SESSION | LOCAL] name {TO | =} value`, and the special forms that amount to
    /// one parameter: `SET TIME ZONE` (`timezone`), `SET SCHEMA` (`search_path`),
    /// `SET NAMES` (`client_encoding`), `SET XML OPTION` (`xmloption`), `SET ROLE`
    /// (`role`), `SET SESSION AUTHORIZATION` (`session_authorization`).
    Assign {
        /// Parameter name, lower case, dotted for custom parameters (`shardwire.x`).
        name: String,
        /// The value as SQL text after `TO`/`=`, e.g. `'$user', public` or `'UTC'`.
        value: String,
        /// `SET LOCAL`: lasts until the end of the transaction.
        local: bool,
    },
    /// `RESET name`, `SET name TO DEFAULT`, `SET TIME ZONE LOCAL`.
    Reset {
        /// Parameter name, lower case.
        name: String,
        /// `SET LOCAL name TO DEFAULT`.
        local: bool,
    },
    /// `RESET ALL`.
    ResetAll,
    /// `SET TRANSACTION …`, `SET SESSION CHARACTERISTICS AS TRANSACTION …`,
    /// `SET CONSTRAINTS …` (MySQL: `SET [SESSION] TRANSACTION …`): no single parameter;
    /// the statement as written.
    Other {
        /// The whole statement (normalized spacing).
        text: String,
        /// Whether it only lasts for the current transaction (`SET TRANSACTION`,
        /// `SET CONSTRAINTS`, `SET LOCAL …`).
        local: bool,
    },
    /// MySQL: several assignments in one statement (`SET autocommit = 1, @x = 2`), each
    /// an [`Assign`](SetCommand::Assign) or [`Reset`](SetCommand::Reset), in order.
    /// Never holds a `shardwire.*` setting (those must be set on their own).
    Many(Vec<SetCommand>),
}

/// Prefix of the settings the proxy itself handles (DESIGN §6).
pub const SHARDWIRE_PREFIX: &str = "shardwire.";

impl SetCommand {
    /// The parameter name, if the command is about one.
    pub fn name(&self) -> Option<&str> {
        match self {
            SetCommand::Assign { name, .. } | SetCommand::Reset { name, .. } => Some(name),
            SetCommand::ResetAll | SetCommand::Other { .. } | SetCommand::Many(_) => None,
        }
    }

    /// The assignments of the command: itself, or the parts of a
    /// [`Many`](SetCommand::Many).
    pub fn parts(&self) -> &[SetCommand] {
        match self {
            SetCommand::Many(parts) => parts,
            one => std::slice::from_ref(one),
        }
    }

    /// MySQL: what the command sets `autocommit` to (`0`/`1`, `OFF`/`ON`,
    /// `FALSE`/`TRUE`, any case; the last such assignment of a
    /// [`Many`](SetCommand::Many)); `None` if it does not set it. `SET autocommit =
    /// DEFAULT` is `Some(true)`, the server default.
    pub fn autocommit(&self) -> Option<bool> {
        self.parts().iter().rev().find_map(|part| match part {
            SetCommand::Assign { name, value, .. } if name == "autocommit" => {
                let value = value.trim().trim_matches(['\'', '"']);
                match value.to_ascii_lowercase().as_str() {
                    "1" | "on" | "true" => Some(true),
                    "0" | "off" | "false" => Some(false),
                    _ => None,
                }
            }
            SetCommand::Reset { name, .. } if name == "autocommit" => Some(true),
            _ => None,
        })
    }

    /// Whether this sets or resets a `shardwire.*` setting, which the proxy intercepts
    /// and never forwards.
    pub fn is_shardwire(&self) -> bool {
        self.name().is_some_and(is_shardwire_name)
    }

    /// A statement that has the same effect, for replaying the setting on another server
    /// connection: `SET name TO value`, `RESET name`, `RESET ALL`, or the text itself.
    pub fn to_sql(&self) -> String {
        let scope = |local: bool| if local { "LOCAL " } else { "" };
        match self {
            SetCommand::Assign { name, value, local } => match name.as_str() {
                "timezone" => format!("SET {}TIME ZONE {value}", scope(*local)),
                "session_authorization" => {
                    format!("SET {}SESSION AUTHORIZATION {value}", scope(*local))
                }
                _ => format!("SET {}{} TO {value}", scope(*local), quote_name(name)),
            },
            SetCommand::Reset { name, local: false } => format!("RESET {}", quote_name(name)),
            SetCommand::Reset { name, local: true } => {
                format!("SET LOCAL {} TO DEFAULT", quote_name(name))
            }
            SetCommand::ResetAll => "RESET ALL".to_owned(),
            SetCommand::Other { text, .. } => text.clone(),
            SetCommand::Many(parts) => parts
                .iter()
                .map(SetCommand::to_sql)
                .collect::<Vec<_>>()
                .join("; "),
        }
    }

    /// [`to_sql`](SetCommand::to_sql) for a MySQL server: `SET SESSION name = value`,
    /// `SET @x = value`, `SET NAMES …`, `SET CHARACTER SET …`, `SET ROLE …`,
    /// `SET SESSION name = DEFAULT`, or the text itself; a
    /// [`Many`](SetCommand::Many) as one `SET` with its assignments.
    pub fn to_mysql_sql(&self) -> String {
        match self {
            SetCommand::Other { .. } | SetCommand::ResetAll => self.to_sql(),
            SetCommand::Many(parts) => {
                let parts: Vec<String> = parts.iter().map(mysql_assignment).collect();
                format!("SET {}", parts.join(", "))
            }
            one => format!("SET {}", mysql_assignment(one)),
        }
    }
}

/// One assignment of a MySQL `SET`, without the `SET`.
fn mysql_assignment(command: &SetCommand) -> String {
    match command {
        SetCommand::Assign { name, value, .. } => match name.as_str() {
            "names" => format!("NAMES {value}"),
            "character set" => format!("CHARACTER SET {value}"),
            "role" => format!("ROLE {value}"),
            user if user.starts_with('@') => format!("{user} = {value}"),
            _ => format!("SESSION {name} = {value}"),
        },
        SetCommand::Reset { name, .. } => match name.as_str() {
            "names" => "NAMES DEFAULT".to_owned(),
            "character set" => "CHARACTER SET DEFAULT".to_owned(),
            _ => format!("SESSION {name} = DEFAULT"),
        },
        // Not produced inside a `Many`; kept whole.
        SetCommand::Other { .. } | SetCommand::ResetAll => command.to_sql(),
        SetCommand::Many(parts) => parts
            .iter()
            .map(mysql_assignment)
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// Whether `name` (lower case) is a `shardwire.*` setting.
pub fn is_shardwire_name(name: &str) -> bool {
    name.starts_with(SHARDWIRE_PREFIX)
}

/// A dotted parameter name as SQL: parts that are not plain lower-case identifiers are
/// double-quoted.
fn quote_name(name: &str) -> String {
    name.split('.')
        .map(|part| {
            let plain = part
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_lowercase() || b == b'_')
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if plain {
                part.to_owned()
            } else {
                format!("\"{}\"", part.replace('"', "\"\""))
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// What `DISCARD` throws away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscardKind {
    /// `DISCARD ALL`.
    All,
    /// `DISCARD PLANS`.
    Plans,
    /// `DISCARD TEMP` / `DISCARD TEMPORARY`.
    Temp,
    /// `DISCARD SEQUENCES`.
    Sequences,
}
