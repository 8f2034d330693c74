//! Writes across shards in the extended protocol (drivers that bind parameters): a batch
//! with a Bind of a spread statement is answered message by message; its Execute sends
//! every shard `Parse`/`Bind`/`Describe`/`Execute`/`Sync` of the client's own statement
//! with the client's parameters, inside the client's transaction or one of its own.

use bytes::{BufMut, BytesMut};
use shardwire_router::{SpreadAction, SpreadResults, StatementPlan, Target};

use super::super::extended::{BatchError, Item};
use super::super::pump::ends;
use super::super::scatter::{execute_max_rows, scatter_portal, ScatterPortal, Step};
use super::super::session::{End, Session};
use crate::protocol::pg::build;
use crate::protocol::pg::read::{Bind, Target as MessageTarget};
use crate::protocol::pg::sqlstate;
use crate::protocol::pg::tag::{backend, frontend};

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
        let mut portals: Vec<(String, ScatterPortal)> = Vec::new();
        let mut skipping = false;
        for item in items {
            if skipping && !matches!(item, Item::Sync(_)) {
                continue;
            }
            let step = match item {
                Item::ParseNamed(_) | Item::ParseUnnamed(_) => {
                    build::empty(&mut self.io.out, backend::PARSE_COMPLETE);
                    Step::Done
                }
                Item::CloseStatement => {
                    build::empty(&mut self.io.out, backend::CLOSE_COMPLETE);
                    Step::Done
                }
                Item::SpreadBind(portal) => {
                    let name = Bind::read(portal.bind.body())
                        .map(|b| b.portal.to_string())
                        .unwrap_or_default();
                    portals.retain(|(p, _)| *p != name);
                    portals.push((name, portal));
                    build::empty(&mut self.io.out, backend::BIND_COMPLETE);
                    Step::Done
                }
                Item::DescribeStatement(stmt) => self.describe_statement_on_shard(&stmt).await,
                Item::Forward(frame, until) if until == ends::DESCRIBE => {
                    match scatter_portal(&mut portals, &frame, frontend::DESCRIBE) {
                        Some(portal) => {
                            portal.described = true;
                            Step::Done
                        }
                        None => Step::Error(mixed()),
                    }
                }
                Item::Forward(frame, until) if until == ends::CLOSE => {
                    if let Ok(target) = MessageTarget::read(frame.body(), "Close") {
                        portals.retain(|(p, _)| p != target.name);
                    }
                    build::empty(&mut self.io.out, backend::CLOSE_COMPLETE);
                    Step::Done
                }
                Item::Forward(frame, until) if until == ends::EXECUTE => {
                    let max_rows = execute_max_rows(&frame);
                    match scatter_portal(&mut portals, &frame, frontend::EXECUTE) {
                        Some(_) if max_rows != 0 => Step::Error(BatchError::new(
                            sqlstate::FEATURE_NOT_SUPPORTED,
                            "shardwire: a write across shards cannot be fetched in pieces \
                             (Execute with a row limit)",
                        )),
                        Some(portal) => {
                            let portal = portal.clone();
                            self.run_spread_portal(&portal).await
                        }
                        None => Step::Error(mixed()),
                    }
                }
                Item::Sync(_) => {
                    skipping = false;
                    self.ready();
                    Step::Done
                }
                Item::Flush(_) => match self.flush().await {
                    Ok(()) => Step::Done,
                    Err(_) => Step::Closed,
                },
                _ => Step::Error(mixed()),
            };
            match step {
                Step::Done => {}
                Step::Closed => return Err(End::Close),
                Step::Failed => skipping = true,
                Step::Error(e) => {
                    e.report(self);
                    skipping = true;
                }
            }
        }
        self.flush().await
    }

    /// Runs a spread portal on each of its shards.
    async fn run_spread_portal(&mut self, portal: &ScatterPortal) -> Step {
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
        let before = self.failed;
        let mark = self.io.out.len();
        self.run_spread_requests(requests, copies, portal.described)
            .await;
        crate::metrics::spread_write(portal.shards.len());
        let error_queued = self.io.out.get(mark..).is_some_and(contains_error);
        if error_queued || (self.failed && !before) {
            Step::Failed
        } else {
            Step::Done
        }
    }
}

/// Whether the queued frames hold an ErrorResponse.
fn contains_error(mut out: &[u8]) -> bool {
    while let (Some(&tag), Some(len)) = (out.first(), out.get(1..5)) {
        if tag == backend::ERROR_RESPONSE {
            return true;
        }
        let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
        let Some(rest) = out.get(1 + len..) else {
            return false;
        };
        out = rest;
    }
    false
}

fn mixed() -> BatchError {
    BatchError::new(
        sqlstate::FEATURE_NOT_SUPPORTED,
        "shardwire: a write across shards cannot share a pipeline with other statements; \
         send a Sync between them",
    )
}
