//! Classification of parsed statements: their [`StatementKind`], the verb that messages
//! use, and which routing rule applies.
//!
//! Most statements are routed by the tables they touch ([`Rule::Tables`], see
//! [`route`](crate::route)). Schema changes and maintenance follow a coarser rule, because
//! a schema object must usually exist on every shard ([`Rule::Schema`]). A few commands
//! have a fixed answer: cursor commands follow the transaction, and SQL-level `PREPARE`
//! / `EXECUTE` and `LISTEN` cannot work over transaction-pooled connections.

use sqlparser::ast::{Grant, GrantObjects, ObjectType, Revoke, Statement};

use crate::command::StatementKind;
use crate::error::RouteError;
use crate::plan::Target;

/// How a statement's target is found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Rule {
    /// By the tables it touches and its shard-key conditions.
    Tables,
    /// Schema changes and maintenance: every shard if the text mentions a configured
    /// table; shard 0 if it names only unsharded tables (`names_tables`); every shard
    /// otherwise (functions, types, extensions, roles … must exist everywhere).
    Schema {
        /// Whether the statement is about specific tables (`CREATE TABLE`, `VACUUM t`).
        names_tables: bool,
    },
    /// Always this target.
    Fixed(Target),
}

/// What classification says about a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Class {
    /// The kind; [`StatementKind::Read`] becomes a write if the scan finds writing.
    pub kind: StatementKind,
    /// Whether `kind` is a read that the scan may turn into a write.
    pub read_unless_writes: bool,
    /// The statement's name for messages (`SELECT`, `UPDATE` …).
    pub verb: &'static str,
    /// How its target is found.
    pub rule: Rule,
}

impl Class {
    fn new(kind: StatementKind, verb: &'static str, rule: Rule) -> Class {
        Class {
            kind,
            read_unless_writes: false,
            verb,
            rule,
        }
    }

    fn read(verb: &'static str) -> Class {
        Class {
            kind: StatementKind::Read,
            read_unless_writes: true,
            verb,
            rule: Rule::Tables,
        }
    }
}

/// Classifies a parsed statement.
pub(crate) fn classify(statement: &Statement) -> Class {
    use StatementKind::{Ddl, Utility, Write};
    let schema = |names_tables| Rule::Schema { names_tables };
    match statement {
        Statement::Query(_) => Class::read("SELECT"),
        Statement::Insert(_) => Class::new(Write, "INSERT", Rule::Tables),
        Statement::Update(_) => Class::new(Write, "UPDATE", Rule::Tables),
        Statement::Delete(_) => Class::new(Write, "DELETE", Rule::Tables),
        Statement::Merge(_) => Class::new(Write, "MERGE", Rule::Tables),
        Statement::Copy { to: true, .. } => Class::read("COPY"),
        Statement::Copy { to: false, .. } => Class::new(Write, "COPY", Rule::Tables),
        Statement::Truncate(_) => Class::new(Write, "TRUNCATE", Rule::Tables),
        Statement::Lock(_) => Class::new(Write, "LOCK", Rule::Tables),
        Statement::Call(_) => Class::new(Write, "CALL", Rule::Tables),
        Statement::Explain {
            analyze, statement, ..
        } => {
            let inner = classify(statement);
            let read = !analyze || (inner.kind == StatementKind::Read && inner.read_unless_writes);
            Class {
                kind: if read {
                    StatementKind::Read
                } else {
                    inner.kind
                },
                read_unless_writes: read && *analyze,
                verb: "EXPLAIN",
                rule: inner.rule,
            }
        }
        Statement::Declare { .. } => Class::new(Utility, "DECLARE", Rule::Tables),
        Statement::Fetch { .. } | Statement::Close { .. } => {
            Class::new(Utility, "FETCH", Rule::Fixed(Target::AnyShard))
        }
        Statement::Prepare { .. } | Statement::Execute { .. } => Class::new(
            Utility,
            "PREPARE",
            Rule::Fixed(Target::Unsupported(RouteError::unsupported(
                "SQL-level PREPARE and EXECUTE are not supported: shardwire pools server \
                 connections per transaction; use the extended query protocol instead",
            ))),
        ),
        Statement::LISTEN { .. } => Class::new(
            Utility,
            "LISTEN",
            Rule::Fixed(Target::Unsupported(RouteError::unsupported(
                "LISTEN needs a server connection of its own, and shardwire pools server \
                 connections per transaction",
            ))),
        ),
        Statement::UNLISTEN { .. } => {
            Class::new(Utility, "UNLISTEN", Rule::Fixed(Target::AnyShard))
        }
        Statement::NOTIFY { .. } => Class::new(Utility, "NOTIFY", Rule::Fixed(Target::Shard(0))),
        Statement::Vacuum(vacuum) => {
            Class::new(Utility, "VACUUM", schema(vacuum.table_name.is_some()))
        }
        Statement::Analyze(analyze) => {
            Class::new(Utility, "ANALYZE", schema(analyze.table_name.is_some()))
        }
        Statement::CreateTable(_) => Class::new(Ddl, "CREATE TABLE", schema(true)),
        Statement::CreateView(_) => Class::new(Ddl, "CREATE VIEW", schema(true)),
        Statement::CreateIndex(_) => Class::new(Ddl, "CREATE INDEX", schema(true)),
        Statement::AlterTable(_) => Class::new(Ddl, "ALTER TABLE", schema(true)),
        Statement::AlterIndex { .. } => Class::new(Ddl, "ALTER INDEX", schema(true)),
        Statement::AlterView(_) => Class::new(Ddl, "ALTER VIEW", schema(true)),
        Statement::RenameTable(_) => Class::new(Ddl, "RENAME TABLE", schema(true)),
        Statement::RefreshMaterializedView(_) => {
            Class::new(Ddl, "REFRESH MATERIALIZED VIEW", schema(true))
        }
        Statement::CreatePolicy(_) | Statement::AlterPolicy(_) | Statement::DropPolicy(_) => {
            Class::new(Ddl, "POLICY", schema(true))
        }
        Statement::CreateTrigger(_) | Statement::DropTrigger(_) => {
            Class::new(Ddl, "TRIGGER", schema(true))
        }
        Statement::Comment { .. } => Class::new(Ddl, "COMMENT", schema(true)),
        Statement::Drop { object_type, .. } => {
            let names_tables = matches!(
                object_type,
                ObjectType::Table
                    | ObjectType::View
                    | ObjectType::MaterializedView
                    | ObjectType::Index
            );
            Class::new(Ddl, "DROP", schema(names_tables))
        }
        // Privileges on named tables follow the tables (an unsharded one is on shard 0).
        Statement::Grant(Grant {
            objects: Some(GrantObjects::Tables(_)),
            ..
        })
        | Statement::Revoke(Revoke {
            objects: Some(GrantObjects::Tables(_)),
            ..
        }) => Class::new(Ddl, "GRANT", schema(true)),
        other if is_schema_change(other) => Class::new(Ddl, "DDL", schema(false)),
        _ => Class::new(Utility, "statement", Rule::Tables),
    }
}

/// Whether a statement not handled above changes the schema (functions, types, roles,
/// privileges, extensions …).
fn is_schema_change(statement: &Statement) -> bool {
    matches!(
        statement,
        Statement::CreateSchema { .. }
            | Statement::CreateDatabase { .. }
            | Statement::CreateFunction(_)
            | Statement::CreateProcedure { .. }
            | Statement::CreateType { .. }
            | Statement::CreateDomain(_)
            | Statement::CreateSequence { .. }
            | Statement::CreateExtension(_)
            | Statement::CreateRole(_)
            | Statement::CreateUser(_)
            | Statement::CreateRule(_)
            | Statement::CreateOperator(_)
            | Statement::CreateAggregate(_)
            | Statement::CreateCollation(_)
            | Statement::CreateForeignTable(_)
            | Statement::CreateServer(_)
            | Statement::CreateTextSearch(_)
            | Statement::AlterSchema(_)
            | Statement::AlterFunction(_)
            | Statement::AlterType(_)
            | Statement::AlterRole { .. }
            | Statement::AlterUser(_)
            | Statement::AlterOperator(_)
            | Statement::AlterCollation(_)
            | Statement::AlterDefaultPrivileges(_)
            | Statement::DropFunction(_)
            | Statement::DropProcedure { .. }
            | Statement::DropDomain(_)
            | Statement::DropExtension(_)
            | Statement::DropOperator(_)
            | Statement::DropRule(_)
            | Statement::Grant(_)
            | Statement::Revoke(_)
            | Statement::GrantRole(_)
            | Statement::RevokeRole(_)
    )
}
