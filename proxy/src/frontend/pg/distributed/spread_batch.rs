//! Writes across shards in the extended protocol (drivers that bind parameters): a batch
//! with a Bind of a spread statement is answered message by message; its Execute sends
//! every shard `Parse`/`Bind`/`Describe`/`Execute`/`Sync` of the client's own statement
//! with the client's parameters, inside the client's transaction or one of its own.

use bytes::{BufMut, BytesMut};
use shardwire_router::{SpreadAction, SpreadResults, StatementPlan, Target};

use super::super::extended::{BatchError, Item};
use super::super::portal_batch::{ShardsPortal, Step};
use super::super::session::{End, Session};
use crate::protocol::pg::build;
use crate::protocol::pg::read::Bind;
use crate::protocol::pg::sqlstate;
use crate::protocol::pg::tag::frontend;

/// Whether the extended protocol can run this spread statement: the same statement on
/// each shard, in a transaction (a split INSERT or COPY needs the simple protocol).
pub(in crate::frontend::pg) fn spreads_in_extended(statement: &StatementPlan) -> bool {
    matches!(&statement.target, Target::Spread(plan) if plan.action == SpreadAction::Same && plan.transactional)
}

impl Session {
    /// Answers a batch holding a Bind of a statement that writes several shards.
    pub(in crate::frontend::pg) async fn spread_batch(
        &mut self,
        items: Vec<Item>,
        ends_with_sync: bool,
    ) -> Result<(), End> {
        if self.failed {
            let e = BatchError::new(
                sqlstate::IN_FAILED_TRANSACTION,
                "current transaction is aborted, commands ignored until end of transaction block",
            );
            return self.fail_batch(&[], e, ends_with_sync).await;
        }
        self.answer_portal_batch(items).await
    }

    /// Runs a spread portal on each of its shards.
    pub(in crate::frontend::pg) async fn run_spread_portal(
        &mut self,
        portal: &ShardsPortal,
    ) -> Step {
        let copies = match portal.stmt.plan.statements.as_slice() {
            [only] => {
                matches!(&only.target, Target::Spread(plan) if plan.results == SpreadResults::Copies)
            }
            _ => false,
        };
        let Ok(bind) = Bind::read(portal.bind.body()) else {
            return Step::Error(BatchError::new(
                sqlstate::PROTOCOL_VIOLATION,
                "malformed Bind message",
            ));
        };
        let mut request = BytesMut::new();
        build::parse(&mut request, "", &portal.stmt.sql, &portal.stmt.param_types);
        build::bind_renamed(&mut request, "", "", bind.tail());
        build::target(&mut request, frontend::DESCRIBE, b'P', "");
        build::frame(&mut request, frontend::EXECUTE, |b| {
            b.put_u8(0);
            b.put_i32(0);
        });
        build::sync(&mut request);
        let requests = portal
            .shards
            .iter()
            .map(|&s| (s, request.clone()))
            .collect();
        let ok = self
            .run_spread_requests(requests, copies, portal.described)
            .await;
        crate::metrics::spread_write(portal.shards.len());
        if ok {
            Step::Done
        } else {
            Step::Failed
        }
    }
}
