//! Scattered reads in the extended protocol: a batch with a Bind of a statement the
//! router planned as a scatter is answered message by message by the proxy. Each Execute
//! of such a portal sends every shard `Parse`/`Bind`/`Describe`/`Execute`/`Sync` of the
//! rewritten statement (the unnamed statement: its text differs from the client's), with
//! the client's parameters as they came and the result formats the merge needs.

use bytes::{BufMut, BytesMut};
use shardwire_router::{ScatterPlan, Target as RouteTarget};

use super::drive::{drive, Framing};
use super::values::BindValues;
use crate::frontend::pg::extended::{BatchError, Item};
use crate::frontend::pg::portal_batch::{mixed, ShardsPortal, Step};
use crate::frontend::pg::session::{End, Session};
use crate::frontend::pg::statements::Statement;
use crate::merge::{shard_formats, Merge};
use crate::protocol::pg::build;
use crate::protocol::pg::read::{Bind, Cursor};
use crate::protocol::pg::sqlstate;
use crate::protocol::pg::tag::frontend;

/// The scatter plan of a statement, if it has one.
pub(in crate::frontend::pg) fn scatter_plan(
    stmt: &Statement,
) -> Option<&std::sync::Arc<ScatterPlan>> {
    match stmt.plan.statements.as_slice() {
        [only] => match &only.target {
            RouteTarget::Scatter(plan) => Some(plan),
            _ => None,
        },
        _ => None,
    }
}

impl Session {
    /// Answers a batch holding a Bind of a scattered statement.
    pub(in crate::frontend::pg) async fn scatter_batch(
        &mut self,
        items: Vec<Item>,
        ends_with_sync: bool,
    ) -> Result<(), End> {
        if self.in_transaction() || self.bound.is_some() {
            let e = BatchError::new(sqlstate::FEATURE_NOT_SUPPORTED, super::IN_TRANSACTION);
            return self.fail_batch(&[], e, ends_with_sync).await;
        }
        self.answer_portal_batch(items).await
    }

    /// Executes a scattered portal on every shard it needs and merges the answers.
    pub(in crate::frontend::pg) async fn run_portal(&mut self, portal: &ShardsPortal) -> Step {
        let Some(plan) = scatter_plan(&portal.stmt) else {
            return Step::Error(mixed());
        };
        let shard_sql = match plan.shard_sql.render(&[]) {
            Ok(sql) => sql,
            Err(e) => return Step::Error(BatchError::new(e.sqlstate, e.message)),
        };
        let Ok(bind) = Bind::read(portal.bind.body()) else {
            return Step::Error(malformed_bind());
        };
        let Some((params, client_formats)) = split_bind_tail(bind.tail()) else {
            return Step::Error(malformed_bind());
        };
        let formats = shard_formats(&plan.merge, &client_formats);
        let mut request = BytesMut::with_capacity(shard_sql.len() + params.len() + 64);
        build::parse(&mut request, "", &shard_sql, &portal.stmt.param_types);
        build::frame(&mut request, frontend::BIND, |b| {
            b.put_u8(0);
            b.put_u8(0);
            b.put_slice(params);
            b.put_i16(formats.len() as i16);
            for f in &formats {
                b.put_i16(*f);
            }
        });
        build::target(&mut request, frontend::DESCRIBE, b'P', "");
        build::frame(&mut request, frontend::EXECUTE, |b| {
            b.put_u8(0);
            b.put_i32(0);
        });
        build::sync(&mut request);
        let hinted = super::super::simple::forces_primary(&portal.stmt.sql);
        let Some(streams) = self.open_streams(&portal.shards, hinted, &request).await else {
            return Step::Failed;
        };
        let values = BindValues {
            bind: &bind,
            types: &portal.stmt.param_types,
        };
        let spec = &plan.merge;
        let make = |description: &[u8]| Merge::new(spec, description, &client_formats, &values);
        let framing = Framing {
            describe: portal.described,
        };
        let result = drive(streams, make, framing, &mut self.io).await;
        self.cancel.set(None);
        crate::metrics::scatter_read(portal.shards.len());
        match result {
            Ok(true) => Step::Done,
            Ok(false) => Step::Failed,
            Err(_) => Step::Closed,
        }
    }

    /// ParameterDescription and RowDescription of a scattered statement: those of the
    /// client's own text, which any shard can describe (the merge keeps its columns).
    pub(in crate::frontend::pg) async fn describe_statement_on_shard(
        &mut self,
        stmt: &Statement,
    ) -> Step {
        let conn = match self.checkout(0, None).await {
            Ok(conn) => conn,
            Err((code, message)) => return Step::Error(BatchError::new(code, message)),
        };
        let mut request = BytesMut::new();
        build::parse(&mut request, "", &stmt.sql, &stmt.param_types);
        build::target(&mut request, frontend::DESCRIBE, b'S', "");
        build::sync(&mut request);
        let mut stream = super::ShardStream::new(0, conn, 1);
        let result = match stream.send(&request).await {
            Ok(()) => stream.forward_description(&mut self.io.out).await,
            Err(f) => Err(f),
        };
        stream.finish().await;
        match result {
            Ok(()) => Step::Done,
            Err(super::Failure::Server(frame)) => {
                self.io.out.extend_from_slice(frame.raw());
                Step::Failed
            }
            Err(super::Failure::Lost(message)) => {
                Step::Error(BatchError::new(sqlstate::CONNECTION_FAILURE, message))
            }
        }
    }
}

/// A Bind's bytes after the statement name, split into the parameter part (formats and
/// values, verbatim) and the result format codes.
fn split_bind_tail(tail: &[u8]) -> Option<(&[u8], Vec<i16>)> {
    let mut c = Cursor::new(tail, "Bind");
    let formats = usize::try_from(c.i16().ok()?).ok()?;
    c.bytes(formats * 2).ok()?;
    let values = usize::try_from(c.i16().ok()?).ok()?;
    for _ in 0..values {
        c.nullable_bytes().ok()?;
    }
    let params_len = tail.len() - c.rest().len();
    let results = usize::try_from(c.i16().ok()?).ok()?;
    let mut codes = Vec::with_capacity(results);
    for _ in 0..results {
        codes.push(c.i16().ok()?);
    }
    Some((tail.get(..params_len)?, codes))
}

fn malformed_bind() -> BatchError {
    BatchError::new(sqlstate::PROTOCOL_VIOLATION, "malformed Bind message")
}
