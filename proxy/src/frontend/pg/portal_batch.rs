//! Extended-protocol batches the proxy answers message by message because a portal in
//! them runs on several shards: a scattered read or a write spread over shards. Parse,
//! Bind, Describe and Close are answered here; each Execute of such a portal runs it
//! (`run_portal` for reads, `run_spread_portal` for writes); after an error the rest is
//! skipped up to the Sync, as PostgreSQL does.

use std::sync::Arc;

use super::extended::{BatchError, Item};
use super::pump::ends;
use super::session::{End, Session};
use super::statements::Statement;
use crate::protocol::pg::build;
use crate::protocol::pg::frame::Frame;
use crate::protocol::pg::read::{Bind, Cursor, Target};
use crate::protocol::pg::sqlstate;
use crate::protocol::pg::tag::{backend, frontend};

/// A portal bound to a statement that runs on several shards, waiting for its Execute.
#[derive(Debug, Clone)]
pub(super) struct ShardsPortal {
    /// The client's Bind message.
    pub bind: Frame,
    /// Its statement.
    pub stmt: Arc<Statement>,
    /// The shards to run on.
    pub shards: Vec<u32>,
    /// A Describe of the portal came first: send the RowDescription.
    pub described: bool,
}

/// What a portal does across shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A scattered read.
    Read,
    /// A write spread over shards.
    Write,
}

/// How one message of the batch went.
pub(super) enum Step {
    /// Answered.
    Done,
    /// An error was sent to the client: skip to the Sync.
    Failed,
    /// An error to send, then skip to the Sync.
    Error(BatchError),
    /// The client is gone.
    Closed,
}

impl Session {
    /// Answers a batch holding a Bind of a scattered read or a spread write.
    pub(super) async fn answer_portal_batch(&mut self, items: Vec<Item>) -> Result<(), End> {
        let mut portals: Vec<(String, ShardsPortal, Kind)> = Vec::new();
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
                Item::ScatterBind(portal) => self.bind_portal(&mut portals, portal, Kind::Read),
                Item::SpreadBind(portal) => self.bind_portal(&mut portals, portal, Kind::Write),
                Item::DescribeStatement(stmt) => self.describe_statement_on_shard(&stmt).await,
                Item::Forward(frame, until) if until == ends::DESCRIBE => {
                    match find(&mut portals, &frame, frontend::DESCRIBE) {
                        Some((portal, _)) => {
                            portal.described = true;
                            Step::Done
                        }
                        None => Step::Error(mixed()),
                    }
                }
                Item::Forward(frame, until) if until == ends::CLOSE => {
                    if let Ok(target) = Target::read(frame.body(), "Close") {
                        portals.retain(|(p, _, _)| p != target.name);
                    }
                    build::empty(&mut self.io.out, backend::CLOSE_COMPLETE);
                    Step::Done
                }
                Item::Forward(frame, until) if until == ends::EXECUTE => {
                    let max_rows = execute_max_rows(&frame);
                    match find(&mut portals, &frame, frontend::EXECUTE) {
                        Some(_) if max_rows != 0 => Step::Error(BatchError::new(
                            sqlstate::FEATURE_NOT_SUPPORTED,
                            "shardwire: a statement across shards cannot be fetched in pieces \
                             (Execute with a row limit); fetch all rows, or use LIMIT/OFFSET",
                        )),
                        Some((portal, kind)) => {
                            let portal = portal.clone();
                            match kind {
                                Kind::Read => self.run_portal(&portal).await,
                                Kind::Write => self.run_spread_portal(&portal).await,
                            }
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

    /// Records a Bind (replacing a portal of the same name) and answers BindComplete.
    fn bind_portal(
        &mut self,
        portals: &mut Vec<(String, ShardsPortal, Kind)>,
        portal: ShardsPortal,
        kind: Kind,
    ) -> Step {
        let name = Bind::read(portal.bind.body())
            .map(|b| b.portal.to_string())
            .unwrap_or_default();
        portals.retain(|(p, _, _)| *p != name);
        portals.push((name, portal, kind));
        build::empty(&mut self.io.out, backend::BIND_COMPLETE);
        Step::Done
    }
}

/// The portal an Execute or Describe names, if the batch bound it.
fn find<'p>(
    portals: &'p mut [(String, ShardsPortal, Kind)],
    frame: &Frame,
    tag: u8,
) -> Option<(&'p mut ShardsPortal, Kind)> {
    let name = if tag == frontend::DESCRIBE {
        Target::read(frame.body(), "Describe").ok()?.name
    } else {
        Cursor::new(frame.body(), "Execute").cstr().ok()?
    };
    portals
        .iter_mut()
        .find(|(p, _, _)| p == name)
        .map(|(_, portal, kind)| (portal, *kind))
}

/// The row limit of an Execute message (0: all rows).
fn execute_max_rows(frame: &Frame) -> i32 {
    let mut c = Cursor::new(frame.body(), "Execute");
    c.cstr().ok().and_then(|_| c.i32().ok()).unwrap_or(0)
}

/// Statements for one shard and statements across shards in one pipeline.
pub(super) fn mixed() -> BatchError {
    BatchError::new(
        sqlstate::FEATURE_NOT_SUPPORTED,
        "shardwire: a statement across shards cannot share a pipeline with other statements; \
         send a Sync between them",
    )
}
