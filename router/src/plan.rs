//! Plans: the router's answer, as plain data (STYLE: "a plan is data").
//!
//! A [`Plan`] holds one [`StatementPlan`] per statement of a query string: what kind of
//! statement it is and where it must run ([`Target`]). Plans do not hold values: a target
//! that depends on the shard key says where the key's values come from ([`KeySource`]:
//! the n-th literal of the normalized text, or Bind parameter `$n`), so one plan serves
//! every execution of a statement shape and is cached. [`Plan::resolve`] turns a plan plus
//! one execution's values into shard numbers; tests compare plans and resolutions
//! without any network. A read that needs several shards carries a
//! [`ScatterPlan`]: the SQL each shard runs and how to merge; a write
//! or schema change that needs several shards carries a [`SpreadPlan`]: what each shard
//! runs inside the distributed transaction.

use std::num::NonZeroU32;
use std::sync::Arc;

use shardwire_conf::KeyType;

use crate::command::StatementKind;
use crate::error::RouteError;
use crate::scatter::ScatterPlan;
use crate::spread::SpreadPlan;

/// The plan for one query string (or one prepared statement).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// One entry per statement, in order; a single [`StatementKind::Empty`] entry for an
    /// empty query string.
    pub statements: Vec<StatementPlan>,
    /// The number of shards the plan was made for.
    pub shard_count: NonZeroU32,
}

/// The plan for one statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementPlan {
    /// What the statement does.
    pub kind: StatementKind,
    /// Where it must run.
    pub target: Target,
    /// The tables it touches, each once, in order of appearance: configured tables by
    /// their configured name, others as written (lower case, qualified if written so).
    /// Empty for statements the router does not parse (keyword fast path, unparsable).
    pub tables: Vec<String>,
}

/// Where a statement must run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Any shard will do: no table is involved (`SELECT 1`, `SET`, `SHOW`, `BEGIN` …) or
    /// only reference tables are read. The session picks (e.g. the shard its transaction
    /// already uses).
    AnyShard,
    /// One fixed shard: unsharded tables (and objects) live on shard 0.
    Shard(u32),
    /// The shard that the shard-key values pick, known once the values are.
    Key(KeyRoute),
    /// A read that runs on several shards (every shard, or those its key values pick)
    /// and whose answers the proxy merges: the statement each shard runs and the merge.
    Scatter(Arc<ScatterPlan>),
    /// A write, schema change or `COPY … FROM STDIN` that runs on several shards (every
    /// shard, or those its key values pick), inside one distributed transaction: what
    /// each shard runs. [`StatementPlan::place`] gives its shards; [`Plan::resolve`]
    /// gives its shard when it places on one and `0A000` otherwise, so that callers that
    /// do not execute spread statements never run one on a single shard.
    Spread(Arc<SpreadPlan>),
    /// Every shard, but shardwire cannot run it there correctly (yet): reads whose answers
    /// cannot be merged, writes that read rows of other shards. Resolving one is the
    /// error it carries, unless there is only one shard.
    AllShards(RouteError),
    /// shardwire cannot run the statement at all (e.g. an `UPDATE` of the shard key); the
    /// error says why.
    Unsupported(RouteError),
}

/// A route that depends on shard-key values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRoute {
    /// The sharded table, by its configured name.
    pub table: String,
    /// Its shard-key column.
    pub column: String,
    /// The key's type, which picks how values are parsed and hashed.
    pub key_type: KeyType,
    /// Where the values come from. All of them must map to the same shard; values that
    /// map elsewhere make resolving fail with `0A000`.
    pub sources: Vec<KeySource>,
}

/// Where one shard-key value (or a list of them) comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    /// The literal at this index (0-based) of the query string's literal list: `$L1` is 0.
    Literal(usize),
    /// The literal at this index, holding an array (`key = ANY('{1,2}')`).
    LiteralArray(usize),
    /// Bind parameter `$n` (1-based).
    Param(u16),
    /// Bind parameter `$n` holding an array (`key = ANY($n)`), text or binary format.
    ParamArray(u16),
    /// A value whose shard is already known: `NULL` (shard 0, where PostgreSQL's hash
    /// partitioning puts nulls), a constant of a prepared statement, or shard 0 itself
    /// when unsharded tables (which live there) are joined in.
    Shard(u32),
}

/// Where one execution of a statement runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// On one shard: `Some(shard)`, or `None` when any shard will do.
    One(Option<u32>),
    /// On these shards (sorted, at least two): a read merged by the statement's
    /// [`ScatterPlan`], or a write run as its [`SpreadPlan`] says.
    Many(Vec<u32>),
}

/// A scattered read of a simple query string: its plan and the shards it reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scattered {
    /// The statement's scatter plan.
    pub plan: Arc<ScatterPlan>,
    /// The shards to read, sorted, at least two.
    pub shards: Vec<u32>,
}

/// A spread statement of a simple query string: its plan and the shards it runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spread {
    /// The statement's spread plan.
    pub plan: Arc<SpreadPlan>,
    /// The shards to run it on, sorted, at least two.
    pub shards: Vec<u32>,
}

/// A routed simple query: its plan and the shard of each statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routed {
    /// The (possibly cached) plan.
    pub plan: Arc<Plan>,
    /// Per statement: `Some(shard)`, or `None` when any shard will do — or when the
    /// statement is scattered or spread (see `scatter`, `spread`).
    pub shards: Vec<Option<u32>>,
    /// Set when the query string is one statement that reads several shards: the
    /// proxy runs its scatter plan instead of forwarding the text to one shard.
    pub scatter: Option<Scattered>,
    /// Set when the query string is one statement that writes several shards: the proxy
    /// runs its spread plan in a distributed transaction instead of forwarding the text
    /// to one shard. [`Routed::single_shard`] is then an error.
    pub spread: Option<Spread>,
}

impl Plan {
    /// Whether the plan may be cached under its normalized text: not when a scatter plan
    /// was made from the client's own text (literals written into the shard SQL).
    pub(crate) fn cacheable(&self) -> bool {
        !self.statements.iter().any(
            |s| matches!(&s.target, Target::Scatter(plan) if plan.shard_sql.has_inline_literals()),
        )
    }
}

impl Routed {
    /// The one shard the whole query string must run on: `Ok(None)` when any shard will
    /// do, `0A000` when its statements need different shards (a multi-statement string
    /// spanning shards needs distributed transactions, a later issue) or when it is a
    /// spread statement (see `spread`), so that a caller that ignores `spread` never
    /// runs it on one shard.
    pub fn single_shard(&self) -> Result<Option<u32>, RouteError> {
        if let Some(spread) = &self.spread {
            return Err(RouteError::several_shards(format_args!(
                "this statement writes several shards ({})",
                crate::spread::shard_list(&spread.shards)
            )));
        }
        let mut chosen: Option<u32> = None;
        for shard in self.shards.iter().flatten() {
            match chosen {
                Some(first) if first != *shard => {
                    return Err(RouteError::several_shards(format_args!(
                        "the statements of this query string need different shards \
                         ({first} and {shard})"
                    )))
                }
                _ => chosen = Some(*shard),
            }
        }
        Ok(chosen)
    }
}
