//! The merge specification: what the proxy must do with the shards' rows so that the
//! client gets the answer one database holding every row would give.
//!
//! Pure data made by the scatter analysis and read by the proxy's merge engine. There are
//! two modes.
//!
//! - **Streamed** (`grouped == false`): every shard runs the client's query (with `LIMIT
//!   n OFFSET m` turned into `LIMIT n + m`) and sends rows already sorted by its `ORDER
//!   BY`. A shard row is the client's select list — whose width may only be known from the
//!   RowDescription, because of `*` — followed by [`MergeSpec::hidden`] trailing columns
//!   (sort keys missing from the select list), which the merge strips. `columns`,
//!   `outputs`, `visible` and `having` are empty/unused; sort keys use
//!   [`OutputRef::Index`] (a select-list column before any `*`), [`OutputRef::Hidden`] or
//!   [`OutputRef::Ordinal`].
//! - **Grouped** (`grouped == true`, aggregates or `GROUP BY` not on the shard key): shard
//!   rows have exactly [`MergeSpec::columns`] columns: the client's select list first (with
//!   `avg(x)` turned into `sum(x)`), then hidden columns the merge needs (`count(x)` for an
//!   average, `GROUP BY` keys, sort keys and `HAVING` aggregates missing from the select
//!   list). Outputs are computed from the merged columns; the first [`MergeSpec::visible`]
//!   go to the client, the rest only serve sorting and `HAVING`. No `*` here.

/// How to merge the shards' rows of one scattered `SELECT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeSpec {
    /// Grouped mode: one role per column of a shard row.
    pub columns: Vec<ColumnRole>,
    /// Streamed mode: how many trailing columns of a shard row are hidden.
    pub hidden: usize,
    /// Whether rows are partial aggregates to combine: rows whose [`ColumnRole::Value`]
    /// columns are equal form one group (`GROUP BY`, or one group over all rows for
    /// aggregates without `GROUP BY` — then an empty input still gives one row, as
    /// `SELECT count(*)` does on an empty table).
    pub grouped: bool,
    /// Grouped mode: the output columns, computed from the merged shard columns.
    pub outputs: Vec<Output>,
    /// Grouped mode: how many leading outputs the client sees.
    pub visible: usize,
    /// `HAVING`, evaluated on merged groups; only when `grouped`.
    pub having: Option<Condition>,
    /// `SELECT DISTINCT`: duplicates among the visible columns/outputs are dropped (the
    /// shard query keeps its `DISTINCT` too in streamed mode).
    pub distinct: bool,
    /// `ORDER BY`, over outputs. Ungrouped rows arrive sorted by it from every shard (the
    /// shard query keeps the `ORDER BY`), so the merge is a k-way merge; grouped results
    /// are sorted by the proxy.
    pub order_by: Vec<SortKey>,
    /// `LIMIT`; `None` for none (or `LIMIT ALL` / `LIMIT NULL`).
    pub limit: Option<ValueRef>,
    /// `OFFSET`; `None` for none.
    pub offset: Option<ValueRef>,
}

/// What one column of a shard row holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnRole {
    /// A plain value: passed through, and when grouped, part of the group's identity.
    Value,
    /// A partial `count(…)` (bigint): the merge adds them.
    Count,
    /// A partial `sum(…)`: added in the column's own type (int8, numeric, float4/8);
    /// NULL partials are skipped, all-NULL gives NULL.
    Sum,
    /// A partial `min(…)`: the least by the column type's order; NULLs skipped.
    Min,
    /// A partial `max(…)`: the greatest; NULLs skipped.
    Max,
}

/// One output column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// Shard column `i` (merged when grouped), unchanged.
    Column(usize),
    /// `avg(x)`: the merged sum in column `sum` divided by the merged count in column
    /// `count`, as PostgreSQL computes it: `float8` if the sum is `float4`/`float8`, else
    /// `numeric` (`numeric_div` with its result scale). Named like the `sum` column.
    Avg {
        /// The column holding `sum(x)`.
        sum: usize,
        /// The column holding `count(x)`.
        count: usize,
    },
}

/// One `ORDER BY` key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKey {
    /// What is compared.
    pub output: OutputRef,
    /// `DESC`.
    pub descending: bool,
    /// Where NULLs go (PostgreSQL's default: last for ASC, first for DESC).
    pub nulls_first: bool,
}

/// What a sort key compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputRef {
    /// Grouped: output index (0-based). Streamed: shard column index (0-based) within
    /// the select list.
    Index(usize),
    /// Streamed: the k-th (0-based) hidden trailing column.
    Hidden(usize),
    /// A 1-based position among the visible columns/outputs, given by a value known at
    /// execution (normalization turned `ORDER BY 2` into a literal placeholder).
    Ordinal(ValueRef),
}

/// A value the merge needs that is only known per execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueRef {
    /// A constant as SQL text (a number, or a quoted string as written).
    Const(String),
    /// The literal at this index of the normalized query's literals (`$L1` is 0).
    Literal(usize),
    /// Bind parameter `$n` (1-based).
    Param(u16),
}

/// A `HAVING` condition over outputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// All must hold.
    And(Vec<Condition>),
    /// One must hold.
    Or(Vec<Condition>),
    /// Negation (SQL three-valued logic: NOT NULL is NULL).
    Not(Box<Condition>),
    /// `output IS [NOT] NULL`.
    IsNull {
        /// Output index.
        output: usize,
        /// `IS NOT NULL`.
        negated: bool,
    },
    /// `left <op> right`; an output is compared by its column type, a constant is read as
    /// the other side's type.
    Compare {
        /// Left operand.
        left: Operand,
        /// The comparison.
        op: CompareOp,
        /// Right operand.
        right: Operand,
    },
}

/// An operand of a `HAVING` comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operand {
    /// An output (index).
    Output(usize),
    /// A value known at execution.
    Value(ValueRef),
    /// `NULL`.
    Null,
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    /// `=`.
    Eq,
    /// `<>` / `!=`.
    NotEq,
    /// `<`.
    Lt,
    /// `<=`.
    LtEq,
    /// `>`.
    Gt,
    /// `>=`.
    GtEq,
}
