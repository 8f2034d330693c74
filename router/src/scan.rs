//! The walk over a parsed statement: which tables it touches, which it writes, and what
//! pins the shard key of each sharded table.
//!
//! One pass with sqlparser's visitor collects the facts that [`route`](crate::route)
//! turns into a target: every table reference (also in subqueries, CTEs and DML inside
//! `WITH`), the write targets, key conditions found in the `WHERE` of the very `SELECT`,
//! `UPDATE` or `DELETE` whose `FROM` holds a sharded table (or the `VALUES` of an
//! `INSERT` into one), signs of writing (`FOR UPDATE`, `nextval(…)`, data-modifying
//! `WITH`), and shapes shardwire refuses outright (an `UPDATE` of the shard key, an
//! `INSERT` that does not name the key column).
//!
//! MySQL shapes: `INSERT … SET key = v` pins the row like `VALUES`; `ON DUPLICATE KEY
//! UPDATE` may not assign the key (it could move the row, like `ON CONFLICT DO UPDATE`);
//! `REPLACE` and `INSERT IGNORE` are inserts; MySQL's lock and sequence functions
//! (`GET_LOCK`, `NEXTVAL` …) make a `SELECT` a write.

use std::ops::ControlFlow;

use sqlparser::ast::{
    AssignmentTarget, CopySource, Delete, Expr, FromTable, Insert, ObjectName, OnConflictAction,
    OnInsert, Query, Select, SetExpr, Statement, TableFactor, TableObject, TableWithJoins, Update,
    UpdateTableFromKind, Visit, Visitor,
};

use crate::dialect::Dialect;
use crate::error::RouteError;
use crate::key::{key_condition, last_part, names_column, value_source, Binding};
use crate::plan::KeySource;
use crate::schema::{Placement, Schema, TableClass, TableInfo};

/// Functions that write, take locks or change session state: a `SELECT` calling one is a
/// write and goes to a primary.
const WRITING_FUNCTIONS: &[&str] = &[
    "nextval",
    "setval",
    "currval",
    "lastval",
    "set_config",
    "pg_notify",
    "txid_current",
    "pg_current_xact_id",
    "pg_advisory_lock",
    "pg_advisory_lock_shared",
    "pg_advisory_xact_lock",
    "pg_advisory_xact_lock_shared",
    "pg_try_advisory_lock",
    "pg_try_advisory_lock_shared",
    "pg_try_advisory_xact_lock",
    "pg_try_advisory_xact_lock_shared",
    "pg_advisory_unlock",
    "pg_advisory_unlock_shared",
    "pg_advisory_unlock_all",
    "lo_create",
    "lo_creat",
    "lo_import",
    "lo_unlink",
    "lo_put",
    "lo_from_bytea",
    "pg_switch_wal",
    "pg_create_restore_point",
];

/// MySQL's functions that write, take locks or read the session's own writes.
const MYSQL_WRITING_FUNCTIONS: &[&str] = &[
    "get_lock",
    "release_lock",
    "release_all_locks",
    "nextval",
    "setval",
    "lastval",
    "last_insert_id",
];

/// One table reference.
#[derive(Debug, Clone)]
pub(crate) struct TableUse<'s> {
    /// The configured name, or the name as written (lower case, parts joined by `.`).
    pub name: String,
    /// What it refers to.
    pub class: TableClass<'s>,
}

/// Key values found for a sharded table.
#[derive(Debug, Clone)]
pub(crate) struct KeyFinding {
    /// The table's configured name.
    pub table: String,
    /// Where its key values come from.
    pub sources: Vec<KeySource>,
}

/// What the walk found.
#[derive(Debug)]
pub(crate) struct Scan<'s> {
    schema: &'s Schema,
    /// Every table reference, in order (CTE names included; see `ctes`).
    pub uses: Vec<TableUse<'s>>,
    /// Names of the write targets, as in [`TableUse::name`].
    pub written: Vec<String>,
    /// Key conditions found, per sharded table.
    pub keys: Vec<KeyFinding>,
    /// Names of common table expressions, lower case.
    pub ctes: Vec<String>,
    /// The first shape shardwire refuses outright.
    pub problem: Option<RouteError>,
    /// A specific reason why a sharded table's rows may be on several shards.
    pub spread: Option<RouteError>,
    /// `FOR UPDATE`/`SHARE`, a writing function, `SELECT INTO` or DML inside a query.
    pub writes: bool,
    query_depth: usize,
    skip_relations: usize,
}

impl<'s> Scan<'s> {
    /// Walks `statement`.
    pub fn of(schema: &'s Schema, statement: &Statement) -> Scan<'s> {
        let mut scan = Scan {
            schema,
            uses: Vec::new(),
            written: Vec::new(),
            keys: Vec::new(),
            ctes: Vec::new(),
            problem: None,
            spread: None,
            writes: false,
            query_depth: 0,
            skip_relations: 0,
        };
        let _ = statement.visit(&mut scan);
        scan
    }

    /// The configured table or the written name `name` refers to.
    fn resolve(&self, name: &ObjectName) -> TableUse<'s> {
        let parts: Vec<String> = name
            .0
            .iter()
            .map(|part| match part.as_ident() {
                Some(ident) => ident.value.to_ascii_lowercase(),
                None => part.to_string().to_ascii_lowercase(),
            })
            .collect();
        let class = self.schema.classify(&parts);
        let name = match class {
            TableClass::Configured(info) => info.name.clone(),
            _ => parts.join("."),
        };
        TableUse { name, class }
    }

    /// The sharded table `name` refers to, with its key column and placement.
    fn sharded(&self, name: &ObjectName) -> Option<(&'s TableInfo, &'s str)> {
        match self.resolve(name).class {
            TableClass::Configured(info) => match &info.placement {
                Placement::Sharded { key, .. } => Some((info, key.as_str())),
                Placement::Reference => None,
            },
            _ => None,
        }
    }

    fn refuse(&mut self, error: RouteError) {
        self.problem.get_or_insert(error);
    }

    fn found_key(&mut self, table: &TableInfo, sources: Vec<KeySource>) {
        self.keys.push(KeyFinding {
            table: table.name.clone(),
            sources,
        });
    }

    /// Looks for key conditions on the sharded tables directly in `from`.
    fn key_conditions(&mut self, from: &[TableWithJoins], selection: Option<&Expr>) {
        let Some(selection) = selection else {
            return;
        };
        let mut tables = Vec::new();
        for item in from {
            direct_tables(item, &mut tables);
        }
        for (name, binding) in tables {
            if let Some((info, key)) = self.sharded(name) {
                if let Some(sources) = key_condition(selection, &binding, key) {
                    self.found_key(info, sources);
                }
            }
        }
    }

    fn insert(&mut self, insert: &Insert) {
        let TableObject::TableName(name) = &insert.table else {
            return;
        };
        self.written.push(self.resolve(name).name);
        let Some((info, key)) = self.sharded(name) else {
            return;
        };
        let table = &info.name;
        if let Some(OnInsert::OnConflict(conflict)) = &insert.on {
            if let OnConflictAction::DoUpdate(update) = &conflict.action {
                if update.assignments.iter().any(|a| assigns(&a.target, key)) {
                    return self.refuse(key_update(table, key));
                }
            }
        }
        if let Some(OnInsert::DuplicateKeyUpdate(assignments)) = &insert.on {
            if assignments.iter().any(|a| assigns(&a.target, key)) {
                return self.refuse(RouteError::unsupported(format_args!(
                    "INSERT … ON DUPLICATE KEY UPDATE changes the shard key \"{key}\" of \
                     sharded table \"{table}\", which may move the row to another shard"
                )));
            }
        }
        if !insert.assignments.is_empty() {
            // MySQL's `INSERT … SET col = v, …`: one row.
            let value = insert
                .assignments
                .iter()
                .find(|a| assigns(&a.target, key))
                .map(|a| &a.value);
            return match value.and_then(value_source) {
                Some(source) => self.found_key(info, vec![source]),
                None => self.refuse(RouteError::unsupported(format_args!(
                    "INSERT … SET into sharded table \"{table}\" must set its shard key \
                     \"{key}\" to a constant or a parameter"
                ))),
            };
        }
        let position = insert.columns.iter().position(|c| names_column(c, key));
        let (Some(position), Some(source)) = (position, &insert.source) else {
            let why = if insert.columns.is_empty() && insert.source.is_some() {
                "needs a column list that names"
            } else {
                "must set"
            };
            return self.refuse(RouteError::unsupported(format_args!(
                "INSERT into sharded table \"{table}\" {why} its shard key \"{key}\""
            )));
        };
        let SetExpr::Values(values) = source.body.as_ref() else {
            self.spread
                .get_or_insert(RouteError::several_shards(format_args!(
                "INSERT … SELECT into sharded table \"{table}\" may write rows to several shards"
            )));
            return;
        };
        let sources: Option<Vec<KeySource>> = values
            .rows
            .iter()
            .map(|row| row.content.get(position).and_then(value_source))
            .collect();
        match sources {
            Some(sources) => self.found_key(info, sources),
            None => self.refuse(RouteError::unsupported(format_args!(
                "the shard key \"{key}\" of sharded table \"{table}\" must be a constant or a \
                 parameter in every row of INSERT … VALUES"
            ))),
        }
    }

    fn update(&mut self, update: &Update) {
        // Sharded tables in `UPDATE … FROM` are pinned by the same `WHERE`.
        if let Some(UpdateTableFromKind::BeforeSet(from) | UpdateTableFromKind::AfterSet(from)) =
            &update.from
        {
            self.key_conditions(from, update.selection.as_ref());
        }
        let TableFactor::Table { name, alias, .. } = &update.table.relation else {
            return;
        };
        self.written.push(self.resolve(name).name);
        let Some((info, key)) = self.sharded(name) else {
            return;
        };
        if update.assignments.iter().any(|a| assigns(&a.target, key)) {
            return self.refuse(key_update(&info.name, key));
        }
        if let Some(selection) = &update.selection {
            let binding = Binding::new(name, alias.as_ref());
            if let Some(sources) = key_condition(selection, &binding, key) {
                self.found_key(info, sources);
            }
        }
    }

    fn delete(&mut self, delete: &Delete) {
        // Sharded tables in `DELETE … USING` are pinned by the same `WHERE`.
        if let Some(using) = &delete.using {
            self.key_conditions(using, delete.selection.as_ref());
        }
        let (FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from)) = &delete.from;
        let Some(TableFactor::Table { name, alias, .. }) = from.first().map(|t| &t.relation) else {
            return;
        };
        self.written.push(self.resolve(name).name);
        let Some((info, key)) = self.sharded(name) else {
            return;
        };
        if let Some(selection) = &delete.selection {
            let binding = Binding::new(name, alias.as_ref());
            if let Some(sources) = key_condition(selection, &binding, key) {
                self.found_key(info, sources);
            }
        }
    }

    /// A write target that the visitor does not report as a relation.
    fn unvisited_target(&mut self, name: &ObjectName, written: bool) {
        let used = self.resolve(name);
        if written {
            self.written.push(used.name.clone());
        }
        self.uses.push(used);
    }
}

/// The tables named directly in a `FROM` item (through parenthesized joins), with how
/// they are bound.
fn direct_tables<'q>(item: &'q TableWithJoins, out: &mut Vec<(&'q ObjectName, Binding)>) {
    for factor in std::iter::once(&item.relation).chain(item.joins.iter().map(|j| &j.relation)) {
        match factor {
            TableFactor::Table {
                name,
                alias,
                args: None,
                ..
            } => out.push((name, Binding::new(name, alias.as_ref()))),
            TableFactor::NestedJoin {
                table_with_joins, ..
            } => direct_tables(table_with_joins, out),
            _ => {}
        }
    }
}

/// Whether an assignment target sets column `key`.
fn assigns(target: &AssignmentTarget, key: &str) -> bool {
    match target {
        AssignmentTarget::ColumnName(name) => names_column(name, key),
        AssignmentTarget::Tuple(names) => names.iter().any(|n| names_column(n, key)),
    }
}

fn key_update(table: &str, key: &str) -> RouteError {
    RouteError::unsupported(format_args!(
        "UPDATE changes the shard key \"{key}\" of sharded table \"{table}\", which may \
         move rows between shards; delete and re-insert the row instead"
    ))
}

impl Visitor for Scan<'_> {
    type Break = ();

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        self.query_depth += 1;
        if let Some(with) = &query.with {
            self.ctes.extend(
                with.cte_tables
                    .iter()
                    .map(|cte| cte.alias.name.value.to_ascii_lowercase()),
            );
        }
        if !query.locks.is_empty() {
            self.writes = true;
        }
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _query: &Query) -> ControlFlow<()> {
        self.query_depth -= 1;
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, select: &Select) -> ControlFlow<()> {
        if select.into.is_some() {
            self.writes = true;
        }
        self.key_conditions(&select.from, select.selection.as_ref());
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
        // `FROM generate_series(1, 3)` parses as a table with arguments: a function.
        if let TableFactor::Table { args: Some(_), .. } = factor {
            self.skip_relations += 1;
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_relation(&mut self, relation: &ObjectName) -> ControlFlow<()> {
        if self.skip_relations > 0 {
            self.skip_relations -= 1;
        } else {
            let used = self.resolve(relation);
            self.uses.push(used);
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_statement(&mut self, statement: &Statement) -> ControlFlow<()> {
        let dml = matches!(
            statement,
            Statement::Insert(_)
                | Statement::Update(_)
                | Statement::Delete(_)
                | Statement::Merge(_)
        );
        if dml && self.query_depth > 0 {
            self.writes = true;
        }
        match statement {
            Statement::Insert(insert) => self.insert(insert),
            Statement::Update(update) => self.update(update),
            Statement::Delete(delete) => self.delete(delete),
            Statement::Merge(merge) => {
                if let TableFactor::Table { name, .. } = &merge.table {
                    let used = self.resolve(name);
                    self.written.push(used.name.clone());
                    if let TableClass::Configured(info) = used.class {
                        self.spread
                            .get_or_insert(RouteError::several_shards(format_args!(
                                "MERGE into {} may write rows on several shards",
                                info.describe()
                            )));
                    }
                }
            }
            Statement::Copy {
                source: CopySource::Table { table_name, .. },
                to,
                ..
            } => {
                self.unvisited_target(table_name, !to);
                if let TableClass::Configured(info) = self.resolve(table_name).class {
                    if matches!(info.placement, Placement::Sharded { .. }) {
                        self.spread
                            .get_or_insert(RouteError::several_shards(format_args!(
                                "COPY of {} needs every shard",
                                info.describe()
                            )));
                    }
                }
            }
            Statement::Truncate(truncate) => {
                for target in &truncate.table_names {
                    let name = self.resolve(&target.name).name;
                    self.written.push(name);
                }
            }
            Statement::Lock(lock) => {
                for target in &lock.tables {
                    let name = self.resolve(&target.name).name;
                    self.written.push(name);
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        if let Expr::Function(function) = expr {
            let writing = match self.schema.dialect() {
                Dialect::Postgres => WRITING_FUNCTIONS,
                Dialect::MySql => MYSQL_WRITING_FUNCTIONS,
            };
            if last_part(&function.name).is_some_and(|name| writing.contains(&name.as_str())) {
                self.writes = true;
            }
        }
        ControlFlow::Continue(())
    }
}
