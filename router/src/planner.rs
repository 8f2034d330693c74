//! Planning: from a normalized query string to a [`Plan`], one statement at a time.
//!
//! Each statement takes the cheapest path that can answer it: the keyword fast path
//! (transaction control, `SET`, `SHOW` …), the plain-`INSERT` recognizer, or sqlparser
//! followed by classification, the scan and the routing rules — and, for a read that no
//! single shard can answer, the scatter analysis ([`scatter`]); for a write or schema
//! change that several shards must take, the spread analysis ([`spread`]). `COPY` has a
//! recognizer of its own (its options are read from the text, which the normalizer
//! leaves verbatim for it).
//!
//! A statement sqlparser cannot read is first retried with its literals in place (a few
//! constructs insist on a string constant where the normalized text has a placeholder,
//! e.g. `COMMENT ON … IS '…'`). If that fails too, the router cannot know what the
//! statement touches, and decides by its text: if it mentions no configured (sharded or
//! reference) table anywhere — literals and comments included — it is unsharded SQL and
//! goes to shard 0, where PostgreSQL reports its own syntax error or runs a construct
//! sqlparser lacks (`DO`, `TABLE t` …); otherwise it is refused with `0A000`, because
//! running it anywhere could silently miss rows of a sharded table. Maintenance commands
//! sqlparser lacks (`REINDEX`, `CLUSTER`, `VACUUM (…)`, `ALTER SYSTEM` …) are recognized
//! by their leading words first.
//!
//! MySQL text (a schema made for [`Dialect::MySql`]) takes the same way with its own
//! keyword fast path (`keyword_mysql`), its own words for unparsable maintenance, and
//! sqlparser's MySQL dialect (`sql_dialect`); it has no `COPY` (the word is unparsable
//! MySQL, routed as such), and `… LOCK IN SHARE MODE` is planned as `… FOR SHARE`. One
//! rule is MySQL's own: schema changes, maintenance and `TRUNCATE` commit implicitly and
//! cannot run inside an XA transaction, so when they run on every shard they do so
//! outside the distributed transaction.

use std::sync::atomic::{AtomicU64, Ordering};

use std::sync::Arc;

use sqlparser::ast::Statement;
use sqlparser::parser::Parser;

use crate::classify::{classify, Rule};
use crate::command::StatementKind;
use crate::dialect::Dialect;
use crate::error::RouteError;
use crate::normalize::Normalized;
use crate::plan::{Plan, StatementPlan, Target};
use crate::scan::Scan;
use crate::schema::Schema;
use crate::sql_dialect::parser_dialect;
use crate::{fast_insert, keyword, keyword_mysql, route, scatter, spread};

/// Plans every statement of `normalized` (made from `sql`); `parses` counts sqlparser
/// runs.
pub(crate) fn plan(
    schema: &Schema,
    normalized: &Normalized<'_>,
    sql: &str,
    parses: &AtomicU64,
) -> Plan {
    let mut statements: Vec<StatementPlan> = normalized
        .statements
        .iter()
        .map(|s| {
            let text = normalized.text.get(s.normalized.clone()).unwrap_or("");
            let raw = sql.get(s.raw.clone()).unwrap_or("");
            plan_statement(schema, text, raw, s.keyword, parses)
        })
        .collect();
    if statements.is_empty() {
        statements.push(StatementPlan {
            kind: StatementKind::Empty,
            target: Target::AnyShard,
            tables: Vec::new(),
        });
    }
    Plan {
        statements,
        shard_count: schema.shards(),
    }
}

/// Plans one statement: `text` normalized, `raw` as the client wrote it.
fn plan_statement(
    schema: &Schema,
    text: &str,
    raw: &str,
    keyword: bool,
    parses: &AtomicU64,
) -> StatementPlan {
    if schema.dialect() == Dialect::MySql {
        return plan_mysql_statement(schema, text, raw, keyword, parses);
    }
    if keyword {
        if let Some(classified) = keyword::classify(text) {
            let (kind, target) = match classified {
                Ok(kind) => (kind, Target::AnyShard),
                Err(err) => (StatementKind::Utility, Target::Unsupported(err)),
            };
            return StatementPlan {
                kind,
                target,
                tables: Vec::new(),
            };
        }
    }
    if let Some(plan) = spread::copy_statement(schema, text) {
        return plan;
    }
    if let Some(plan) = fast_insert::plan(schema, text) {
        return plan;
    }
    parsed_plan(schema, text, raw, parses)
}

/// [`plan_statement`] for MySQL text.
fn plan_mysql_statement(
    schema: &Schema,
    text: &str,
    raw: &str,
    keyword: bool,
    parses: &AtomicU64,
) -> StatementPlan {
    if keyword {
        if let Some(plan) = keyword_mysql::plan(schema, text, raw) {
            return plan;
        }
    }
    if let Some(plan) = fast_insert::plan(schema, text) {
        return plan;
    }
    let mut plan = match share_lock_as_for_share(text) {
        // sqlparser lacks the old spelling; the plan holds no SQL of a locking read.
        Some(rewritten) => parsed_plan(schema, &rewritten, raw, parses),
        None => parsed_plan(schema, text, raw, parses),
    };
    if let Target::Spread(spread) = &mut plan.target {
        let implicit_commit = matches!(plan.kind, StatementKind::Ddl | StatementKind::Utility)
            || route::command_words(text) == "TRUNCATE";
        if implicit_commit {
            Arc::make_mut(spread).transactional = false;
        }
    }
    plan
}

/// `… LOCK IN SHARE MODE` (MySQL's old spelling of `FOR SHARE`) as `… FOR SHARE`.
fn share_lock_as_for_share(text: &str) -> Option<String> {
    const OLD: &str = " lock in share mode";
    let at = text.len().checked_sub(OLD.len())?;
    let tail = text.get(at..)?;
    tail.eq_ignore_ascii_case(OLD)
        .then(|| format!("{} FOR SHARE", &text[..at]))
}

/// Plans one statement through sqlparser.
pub(crate) fn parsed_plan(
    schema: &Schema,
    text: &str,
    raw: &str,
    parses: &AtomicU64,
) -> StatementPlan {
    let error = match parse(text, parses, schema.dialect()) {
        Ok(statement) => return analyze(schema, &statement, text, false),
        Err(error) => error,
    };
    if let Ok(statement) = parse(raw, parses, schema.dialect()) {
        return analyze(schema, &statement, text, true);
    }
    let maintenance = match schema.dialect() {
        Dialect::Postgres => spread::unparsed_maintenance(schema, text, raw),
        Dialect::MySql => keyword_mysql::unparsed_maintenance(schema, text, raw),
    };
    if let Some(plan) = maintenance {
        return plan;
    }
    let target = match schema.first_mentioned(raw) {
        Some(info) => Target::Unsupported(RouteError::unsupported(format_args!(
            "cannot parse this statement, which mentions {}, so cannot route it: {error}",
            info.describe()
        ))),
        None => Target::Shard(0),
    };
    StatementPlan {
        kind: StatementKind::Utility,
        target,
        tables: Vec::new(),
    }
}

/// Parses exactly one statement of `dialect`.
fn parse(text: &str, parses: &AtomicU64, dialect: Dialect) -> Result<Statement, String> {
    parses.fetch_add(1, Ordering::Relaxed);
    let mut statements = Parser::new(parser_dialect(dialect))
        .try_with_sql(text)
        .and_then(|mut parser| parser.parse_statements())
        .map_err(|e| e.to_string())?;
    match statements.len() {
        1 => statements.pop().ok_or_else(String::new),
        n => Err(format!("expected one statement, found {n}")),
    }
}

/// Classifies, scans and routes a parsed statement whose normalized text is `text`;
/// `inline` when the statement was parsed from the client's text (literals in place).
/// Reads that no single shard can answer go through the scatter analysis.
fn analyze(schema: &Schema, statement: &Statement, text: &str, inline: bool) -> StatementPlan {
    let class = classify(statement);
    let scan = Scan::of(schema, statement);
    let kind = if class.read_unless_writes && scan.writes {
        StatementKind::Write
    } else {
        class.kind
    };
    let target = match class.rule {
        Rule::Tables => match route::unseen_mention(schema, &scan, text) {
            Some(err) => Target::Unsupported(err),
            None => {
                let target = route::by_tables(&scan, class.verb, &kind);
                match kind {
                    StatementKind::Read => {
                        let target = scatter::read_target(schema, statement, &scan, target, inline);
                        spread::query_copy_target(statement, target)
                    }
                    StatementKind::Write => {
                        spread::write_target(schema, statement, &scan, target, text)
                    }
                    _ => target,
                }
            }
        },
        Rule::Schema { names_tables } => {
            spread::schema_target(schema, statement, &scan, text, names_tables)
        }
        Rule::Fixed(target) => target,
    };
    StatementPlan {
        kind,
        target,
        tables: route::tables(&scan),
    }
}
