//! Extended-protocol batches about the proxy's own `shardwire.*` settings: answered
//! without a server, message by message, as PostgreSQL would answer them.

use super::extended::{BatchError, Item};
use super::session::{End, Session};
use super::statements::Statement;
use crate::protocol::pg::build;
use crate::protocol::pg::sqlstate;
use crate::protocol::pg::tag::backend;
use shardwire_router::StatementKind;

impl Session {
    /// True when the item concerns a statement the proxy answers itself.
    pub(super) fn is_local_item(&self, item: &Item) -> bool {
        match item {
            Item::ParseNamed(stmt) | Item::Bind(_, stmt) | Item::DescribeStatement(stmt) => {
                is_local_statement(stmt)
            }
            Item::ParseUnnamed(_) => self.unnamed.as_deref().is_some_and(is_local_statement),
            Item::LocalPortal { .. } => true,
            _ => false,
        }
    }

    /// Answers a batch about `shardwire.*` settings without a server. Mixing them with
    /// statements for a server in one pipeline is refused.
    pub(super) async fn answer_batch_locally(
        &mut self,
        items: Vec<Item>,
        ends_with_sync: bool,
    ) -> Result<(), End> {
        let mixed = items.iter().any(|i| {
            !self.is_local_item(i)
                && !matches!(i, Item::CloseStatement | Item::Sync(_) | Item::Flush(_))
        });
        if mixed {
            let e = BatchError::new(
                sqlstate::FEATURE_NOT_SUPPORTED,
                "shardwire: shardwire.* settings cannot share a pipeline with other statements",
            );
            return self.fail_batch(&[], e, ends_with_sync).await;
        }
        for item in items {
            match item {
                Item::ParseNamed(_) | Item::ParseUnnamed(_) => {
                    build::empty(&mut self.io.out, backend::PARSE_COMPLETE)
                }
                Item::Bind(..) => build::empty(&mut self.io.out, backend::BIND_COMPLETE),
                Item::DescribeStatement(stmt) => {
                    build::frame(&mut self.io.out, backend::PARAMETER_DESCRIPTION, |b| {
                        bytes::BufMut::put_i16(b, 0)
                    });
                    self.describe_local(&stmt);
                }
                Item::LocalPortal {
                    stmt,
                    execute: false,
                } => self.describe_local(&stmt),
                Item::LocalPortal {
                    stmt,
                    execute: true,
                } => {
                    let kind = &stmt.plan.statements[0].kind;
                    self.answer_locally_with(kind, &stmt.sql, false);
                }
                Item::CloseStatement => build::empty(&mut self.io.out, backend::CLOSE_COMPLETE),
                Item::Sync(_) => self.ready(),
                _ => {}
            }
        }
        self.flush().await
    }

    fn describe_local(&mut self, stmt: &Statement) {
        match &stmt.plan.statements[0].kind {
            StatementKind::Show(name) if name == "shardwire.transactions" => {
                build::row_description(&mut self.io.out, &crate::recovery::TRANSACTION_COLUMNS)
            }
            StatementKind::Show(name) if crate::admin::is_view(name) => {
                build::row_description(&mut self.io.out, crate::admin::columns(name))
            }
            StatementKind::Show(name) => build::row_description(&mut self.io.out, &[name.as_str()]),
            _ => build::empty(&mut self.io.out, backend::NO_DATA),
        }
    }
}

/// A statement the proxy answers itself (`shardwire.*` settings).
pub(super) fn is_local_statement(stmt: &Statement) -> bool {
    stmt.plan.statements.len() == 1 && super::local::is_proxy_setting(&stmt.plan.statements[0].kind)
}
