//! The multi-row `INSERT … VALUES` split: rows that hash to different shards are
//! inserted on their own shards, each shard running the statement with its rows only.
//!
//! The split is made from the normalized text's tokens, for the fast path and the parser
//! path alike (so both plan the same statement the same way): the head up to `VALUES`,
//! each row's parenthesized text, and the tail after the last row (`ON CONFLICT …`,
//! `RETURNING …`). Each piece is a [`SqlTemplate`], so one cached plan serves every
//! execution and each split gets that execution's literals, exactly as written.

use std::num::NonZeroU32;
use std::ops::Range;
use std::sync::Arc;

use super::{SpreadAction, SpreadPlan, SpreadResults, SpreadShards};
use crate::dialect::Dialect;
use crate::error::RouteError;
use crate::lexer::{Lexer, TokenKind};
use crate::literal::Literal;
use crate::params::NoParams;
use crate::plan::{KeyRoute, KeySource, Target};
use crate::scatter::SqlTemplate;

/// A multi-row `INSERT … VALUES` split by the shard of each row's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsertSplit {
    /// The table and its key; one source per row, in row order.
    key: KeyRoute,
    /// `INSERT INTO t (cols) VALUES `.
    head: SqlTemplate,
    /// Each row, parentheses included.
    rows: Vec<SqlTemplate>,
    /// What follows the last row (` ON CONFLICT … RETURNING …`), possibly empty.
    tail: SqlTemplate,
    /// The statement holds Bind parameters: a split would hand each shard a statement
    /// whose parameters no longer match the Bind message, so it is refused.
    params: bool,
}

/// `0A000` for a prepared multi-row `INSERT` with parameters whose rows need several
/// shards.
pub(crate) fn params_refusal() -> RouteError {
    RouteError::unsupported(
        "a multi-row INSERT with parameters whose rows go to different shards is not \
         supported; send one row per statement or use the simple protocol",
    )
}

/// The target of a multi-row `INSERT` (`rows` rows, normalized text `text`) whose key
/// route has one source per row: a spread split, or the key route itself if the text's
/// rows cannot be told apart.
pub(crate) fn split_insert_target(
    text: &str,
    route: KeyRoute,
    rows: usize,
    dialect: Dialect,
) -> Target {
    match InsertSplit::new(text, route.clone(), rows, dialect) {
        Some(split) => Target::Spread(Arc::new(SpreadPlan {
            shards: SpreadShards::Key(route),
            action: SpreadAction::SplitInsert(split),
            transactional: true,
            results: SpreadResults::Sum,
        })),
        None => Target::Key(route),
    }
}

impl InsertSplit {
    /// The split of `text` (written in `dialect`), whose `VALUES` list must have `rows`
    /// rows, one key source each in `key`.
    fn new(text: &str, key: KeyRoute, rows: usize, dialect: Dialect) -> Option<InsertSplit> {
        if key.sources.len() != rows || rows < 2 {
            return None;
        }
        let ranges = row_ranges(text, dialect)?;
        if ranges.len() != rows {
            return None;
        }
        let first = ranges.first()?.start;
        let last = ranges.last()?.end;
        let params = Lexer::for_dialect(text, dialect).any(|t| t.kind == TokenKind::Param);
        let template = |piece: &str| SqlTemplate::for_dialect(piece.to_owned(), dialect);
        Some(InsertSplit {
            key,
            head: template(text.get(..first)?),
            rows: ranges
                .iter()
                .map(|r| text.get(r.clone()).map(template))
                .collect::<Option<_>>()?,
            tail: template(text.get(last..)?),
            params,
        })
    }

    /// Per shard (ascending), the `INSERT` with only that shard's rows (same column
    /// list, same `ON CONFLICT`/`RETURNING` tail), for one execution's literals (simple
    /// protocol: the normalized query's literals; after
    /// [`Plan::bind_literals`](crate::Plan::bind_literals) none are needed). Rows keep
    /// their order within a shard. Errors: `22P02`/`22003` for bad key values, as
    /// resolving does; `0A000` when the statement holds Bind parameters.
    pub fn split(
        &self,
        shards: NonZeroU32,
        literals: &[Literal<'_>],
    ) -> Result<Vec<(u32, String)>, RouteError> {
        if self.params {
            return Err(params_refusal());
        }
        let mut groups: Vec<(u32, Vec<usize>)> = Vec::new();
        for (row, source) in self.key.sources.iter().enumerate() {
            self.key
                .for_each_shard(source, shards, literals, &NoParams, |shard| {
                    match groups.binary_search_by_key(&shard, |(s, _)| *s) {
                        Ok(at) => groups[at].1.push(row),
                        Err(at) => groups.insert(at, (shard, vec![row])),
                    }
                    Ok(())
                })?;
        }
        let head = self.head.render(literals)?;
        let tail = self.tail.render(literals)?;
        let mut out = Vec::with_capacity(groups.len());
        for (shard, rows) in groups {
            let mut sql = head.clone();
            for (i, &row) in rows.iter().enumerate() {
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&self.rows[row].render(literals)?);
            }
            sql.push_str(&tail);
            out.push((shard, sql));
        }
        Ok(out)
    }

    /// The number of rows of the statement.
    pub fn row_count(&self) -> usize {
        self.rows.len()
    }

    /// Whether the statement holds Bind parameters (then it cannot be split).
    pub(crate) fn has_params(&self) -> bool {
        self.params
    }

    /// This split for a prepared statement whose literals are `literals`: the pieces
    /// rendered, each literal key replaced by its shard (row by row). Returns whether
    /// every row's key is now known.
    pub(crate) fn fold_literals(
        &mut self,
        shards: NonZeroU32,
        literals: &[Literal<'_>],
    ) -> Result<bool, RouteError> {
        let fixed = |t: &SqlTemplate| t.fold_literals(literals);
        self.head = fixed(&self.head)?;
        self.tail = fixed(&self.tail)?;
        for row in &mut self.rows {
            *row = fixed(row)?;
        }
        let mut sources = Vec::with_capacity(self.key.sources.len());
        for source in &self.key.sources {
            match source {
                KeySource::Literal(_) => {
                    self.key
                        .for_each_shard(source, shards, literals, &NoParams, |shard| {
                            sources.push(KeySource::Shard(shard));
                            Ok(())
                        })?;
                }
                other => sources.push(*other),
            }
        }
        self.key.sources = sources;
        Ok(self
            .key
            .sources
            .iter()
            .all(|s| matches!(s, KeySource::Shard(_))))
    }
}

/// The byte ranges of the rows of the `VALUES` list of an `INSERT`'s normalized text:
/// the parenthesized groups after the first top-level `VALUES`, separated by commas.
fn row_ranges(text: &str, dialect: Dialect) -> Option<Vec<Range<usize>>> {
    let mut lexer = Lexer::for_dialect(text, dialect);
    let mut depth = 0usize;
    loop {
        let token = lexer.next()?;
        match token.kind {
            TokenKind::Open => depth += 1,
            TokenKind::Close => depth = depth.checked_sub(1)?,
            TokenKind::Word if depth == 0 && lexer.text(&token).eq_ignore_ascii_case("values") => {
                break
            }
            _ => {}
        }
    }
    let mut rows = Vec::new();
    loop {
        let open = lexer.next().filter(|t| t.kind == TokenKind::Open)?;
        let mut depth = 1usize;
        let close = loop {
            let token = lexer.next()?;
            match token.kind {
                TokenKind::Open => depth += 1,
                TokenKind::Close if depth == 1 => break token,
                TokenKind::Close => depth -= 1,
                _ => {}
            }
        };
        rows.push(open.start..close.end);
        if lexer.peek().is_some_and(|t| t.kind == TokenKind::Comma) {
            lexer.next();
        } else {
            return Some(rows);
        }
    }
}
