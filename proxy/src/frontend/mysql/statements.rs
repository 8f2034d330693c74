//! Server-side prepared statements (COM_STMT_*).
//!
//! The client knows a statement by the id the proxy gave it; each server connection
//! knows it by its own id, made the first time the statement runs there (prepared
//! lazily, like the PostgreSQL frontend's statements). Every execute the proxy sends
//! binds the parameter types and has no cursor, so any connection can run it no matter
//! which executes it saw before. Long data is kept by the proxy until the execute, then
//! sent ahead of it to the connection that runs it.

use crate::metrics::QueryKind;
use std::sync::Arc;

use bytes::BytesMut;
use shardwire_router::{ParamSource, ParamValue, Placement, Plan, StatementKind, Target};

use super::forward::{AnswerKind, Sink};
use super::query::Request;
use super::reply;
use super::session::{Session, Stop};
use crate::backend::mysql::conn::{MyConn, ServerStatement};
use crate::protocol::mysql::build;
use crate::protocol::mysql::consts::com;
use crate::protocol::mysql::errcode;
use crate::protocol::mysql::execute::{
    parse_execute, rebuild_execute, Execute, ParamContext, ParamKey,
};
use crate::protocol::mysql::read::PrepareOk;
use crate::protocol::mysql_stream::{packet_of, put_packet, Packet};

/// Long data held per statement until its execute (the servers' `max_allowed_packet`).
const MAX_LONG_DATA: usize = 64 << 20;

/// A statement the client prepared.
pub(super) struct ClientStatement {
    /// Its text.
    pub sql: Arc<str>,
    /// Its plan.
    pub plan: Arc<Plan>,
    /// Its parameter count.
    pub params: u16,
    /// Parameter types of the last execute that bound them.
    pub types: Option<Vec<u8>>,
    /// Long data per parameter since the last execute or reset.
    pub long_data: Vec<Option<Vec<u8>>>,
}

/// What an execute sends to the connection that runs it.
pub(super) struct StatementRequest {
    /// The client's statement id.
    pub client_id: u32,
    /// The client's execute packet.
    pub packet: Packet,
}

impl Session {
    /// COM_STMT_PREPARE: plans the text and prepares it on a connection, whose answer
    /// (with the client's id) tells the client the parameters and columns.
    pub(super) async fn stmt_prepare(&mut self, packet: Packet) -> Option<Stop> {
        let Ok(sql) = std::str::from_utf8(&packet.payload()[1..]) else {
            reply::err(
                self,
                1,
                errcode::ER_WRONG_ARGUMENTS,
                "the statement is not valid UTF-8",
            );
            return None;
        };
        let plan = match self.db.router.prepare(sql, &[]) {
            Ok(plan) => plan,
            Err(e) => {
                reply::route_err(self, &e);
                return None;
            }
        };
        let sql: Arc<str> = Arc::from(sql);
        let client_id = self.next_statement_id;
        if session_statement(&plan) {
            // BEGIN, COMMIT, SET … prepared (sysbench prepares its BEGIN and COMMIT): the
            // proxy owns them, so no server prepares them; each execute runs the text.
            let ok = PrepareOk {
                statement_id: client_id,
                ..PrepareOk::default()
            };
            let mut seq = 1;
            build::prepare_ok(&mut self.out, &mut seq, &ok);
            self.next_statement_id = self.next_statement_id.wrapping_add(1).max(1);
            self.statements.insert(
                client_id,
                ClientStatement {
                    sql,
                    plan,
                    params: 0,
                    types: None,
                    long_data: Vec::new(),
                },
            );
            return None;
        }
        let shard = self
            .txn
            .as_ref()
            .and_then(|t| t.branches.first().map(|b| b.shard))
            .or_else(|| self.pinned.as_ref().map(|p| p.shard));
        let request = Request::Prepare {
            bytes: packet.raw(),
            sql: &sql,
        };
        let ended = self
            .execute(
                shard,
                false,
                request,
                AnswerKind::Prepare { client_id },
                Sink::Client,
            )
            .await?;
        let prepared = ended.prepared?;
        self.next_statement_id = self.next_statement_id.wrapping_add(1).max(1);
        self.statements.insert(
            client_id,
            ClientStatement {
                sql,
                plan,
                params: prepared.num_params,
                types: None,
                long_data: Vec::new(),
            },
        );
        None
    }

    /// COM_STMT_EXECUTE: routes by the parameters and runs the statement where they say.
    pub(super) async fn stmt_execute(&mut self, packet: Packet) -> Option<Stop> {
        let Some(client_id) = statement_id(&packet) else {
            reply::err(
                self,
                1,
                errcode::ER_MALFORMED_PACKET,
                "malformed COM_STMT_EXECUTE",
            );
            return None;
        };
        let Some(statement) = self.statements.get(&client_id) else {
            unknown_statement(self, client_id, "EXECUTE");
            return None;
        };
        self.query_kind = statement
            .plan
            .statements
            .first()
            .map_or(QueryKind::Other, |s| QueryKind::of(&s.kind));
        if session_statement(&statement.plan) {
            let mut payload = Vec::with_capacity(statement.sql.len() + 1);
            payload.push(com::QUERY);
            payload.extend_from_slice(statement.sql.as_bytes());
            return self.query(packet_of(&payload)).await;
        }
        let long_flags: Vec<bool> = statement.long_data.iter().map(Option::is_some).collect();
        let ctx = ParamContext {
            count: usize::from(statement.params),
            types: statement.types.as_deref(),
            long_data: &long_flags,
        };
        let exec = match parse_execute(packet.payload(), ctx) {
            Ok(exec) => exec,
            Err(e) => {
                let message = format!("malformed COM_STMT_EXECUTE: {}", e.0);
                reply::err(self, 1, errcode::ER_MALFORMED_PACKET, &message);
                return None;
            }
        };
        if statement.params > 0 && exec.types.is_none() {
            reply::err(
                self,
                1,
                errcode::ER_WRONG_ARGUMENTS,
                "COM_STMT_EXECUTE without parameter types before any that bound them",
            );
            return None;
        }
        let params = BinaryParams::new(&exec, &statement.long_data);
        let placed = match statement.plan.statements.as_slice() {
            [one] => one
                .place(statement.plan.shard_count, &[], &params)
                .map(|placement| (placement, one.target.clone())),
            _ => statement.plan.resolve(&[], &params).map(|shards| {
                (
                    Placement::One(shards.into_iter().flatten().next()),
                    Target::AnyShard,
                )
            }),
        };
        let scattered = match &placed {
            Ok((Placement::Many(shards), Target::Scatter(plan))) => Some(
                super::scatter::param_literals(&exec, &statement.long_data)
                    .map(|literals| (plan.clone(), shards.clone(), literals)),
            ),
            _ => None,
        };
        let resolved = placed.and_then(|(placement, _)| match placement {
            Placement::One(shard) => Ok(vec![shard]),
            Placement::Many(_) if scattered.is_some() => Ok(Vec::new()),
            // Not a read to merge: the router's refusal.
            Placement::Many(_) => statement.plan.resolve(&[], &params),
        });
        let writes = statement
            .plan
            .statements
            .iter()
            .any(|s| !matches!(s.kind, StatementKind::Read | StatementKind::Show(_)));
        let new_types = exec
            .new_params_bound
            .then(|| exec.types.map(<[u8]>::to_vec))
            .flatten();
        drop(exec);
        // Kept even if routing fails: later executes may not send the types again.
        if let Some(types) = new_types {
            if let Some(statement) = self.statements.get_mut(&client_id) {
                statement.types = Some(types);
            }
        }
        let shard = match resolved {
            Ok(shards) => shards.into_iter().flatten().next(),
            Err(e) => {
                reply::route_err(self, &e);
                return None;
            }
        };
        if let Some(scattered) = scattered {
            match scattered {
                Ok((plan, shards, literals)) => {
                    self.run_scatter_prepared(&plan, &shards, &literals).await;
                }
                Err(message) => {
                    let message = format!("malformed COM_STMT_EXECUTE: {message}");
                    reply::err(self, 1, errcode::ER_MALFORMED_PACKET, &message);
                }
            }
            if let Some(statement) = self.statements.get_mut(&client_id) {
                statement.long_data.clear();
            }
            return None;
        }
        let request = StatementRequest { client_id, packet };
        self.execute(
            shard,
            writes,
            Request::Statement(&request),
            AnswerKind::Results,
            Sink::Client,
        )
        .await;
        if let Some(statement) = self.statements.get_mut(&client_id) {
            statement.long_data.clear();
        }
        None
    }

    /// The bytes that run `request` on `conn`: the statement prepared there first if it
    /// is not yet, long data, and the execute with the connection's statement id.
    pub(super) async fn statement_bytes(
        &mut self,
        conn: &mut MyConn,
        request: &StatementRequest,
    ) -> Result<BytesMut, String> {
        let Some(statement) = self.statements.get(&request.client_id) else {
            return Err("the statement was closed".into());
        };
        let sql = statement.sql.clone();
        let server = match conn.statements.get(&sql) {
            Some(server) => *server,
            None => {
                let mut out = BytesMut::with_capacity(sql.len() + 5);
                let mut payload = Vec::with_capacity(sql.len() + 1);
                payload.push(com::STMT_PREPARE);
                payload.extend_from_slice(sql.as_bytes());
                put_packet(&mut out, 0, &payload);
                conn.write(&out).await.map_err(|e| e.to_string())?;
                let ended = self
                    .forward(conn, AnswerKind::Prepare { client_id: 0 }, Sink::Collect)
                    .await
                    .map_err(|e| e.to_string())?;
                if let Some((_, _, message)) = ended.error {
                    return Err(format!(
                        "preparing the statement on {} failed: {message}",
                        conn.node.name
                    ));
                }
                let prepared = ended.prepared.ok_or("no PREPARE_OK")?;
                let server = ServerStatement {
                    id: prepared.statement_id,
                    params: prepared.num_params,
                };
                conn.remember_statement(sql.clone(), server);
                server
            }
        };
        let Some(statement) = self.statements.get(&request.client_id) else {
            return Err("the statement was closed".into());
        };
        let mut out = BytesMut::new();
        for (param, data) in statement.long_data.iter().enumerate() {
            if let Some(data) = data {
                let mut payload = Vec::with_capacity(data.len() + 7);
                payload.push(com::STMT_SEND_LONG_DATA);
                payload.extend_from_slice(&server.id.to_le_bytes());
                payload.extend_from_slice(&(param as u16).to_le_bytes());
                payload.extend_from_slice(data);
                put_packet(&mut out, 0, &payload);
            }
        }
        let long_flags: Vec<bool> = statement.long_data.iter().map(Option::is_some).collect();
        let ctx = ParamContext {
            count: usize::from(statement.params),
            types: statement.types.as_deref(),
            long_data: &long_flags,
        };
        let exec = parse_execute(request.packet.payload(), ctx).map_err(|e| e.0.to_string())?;
        let types = exec.types.unwrap_or_default().to_vec();
        let mut seq = 0;
        rebuild_execute(&mut out, &mut seq, &exec, server.id, &types);
        Ok(out)
    }

    /// COM_STMT_CLOSE: forgotten here; server statements stay cached per connection.
    pub(super) fn stmt_close(&mut self, packet: &Packet) {
        if let Some(id) = statement_id(packet) {
            self.statements.remove(&id);
        }
    }

    /// COM_STMT_RESET: drops long data.
    pub(super) fn stmt_reset(&mut self, packet: &Packet) {
        let Some(id) = statement_id(packet) else {
            reply::err(
                self,
                1,
                errcode::ER_MALFORMED_PACKET,
                "malformed COM_STMT_RESET",
            );
            return;
        };
        match self.statements.get_mut(&id) {
            Some(statement) => {
                statement.long_data.clear();
                reply::ok(self, 1, 0, 0, "");
            }
            None => unknown_statement(self, id, "RESET"),
        }
    }

    /// COM_STMT_SEND_LONG_DATA: kept until the execute (no answer, even on error).
    pub(super) fn stmt_long_data(&mut self, packet: &Packet) {
        let payload = packet.payload();
        let (Some(id), Some(param)) = (
            statement_id(packet),
            payload.get(5..7).map(|b| u16::from_le_bytes([b[0], b[1]])),
        ) else {
            return;
        };
        let Some(statement) = self.statements.get_mut(&id) else {
            return;
        };
        if param >= statement.params {
            return;
        }
        let index = usize::from(param);
        if statement.long_data.len() <= index {
            statement.long_data.resize(index + 1, None);
        }
        let held: usize = statement.long_data.iter().flatten().map(Vec::len).sum();
        if held + payload.len() > MAX_LONG_DATA {
            // No answer exists for long data: the execute will fail on the missing bytes
            // rather than the proxy holding unbounded memory.
            statement.long_data[index] = None;
            return;
        }
        statement.long_data[index]
            .get_or_insert_with(Vec::new)
            .extend_from_slice(&payload[7..]);
    }
}

/// Whether a prepared statement is one the session answers itself (transaction control,
/// settings, `USE`): executing it runs its text as a COM_QUERY would.
fn session_statement(plan: &Plan) -> bool {
    matches!(
        plan.statements.as_slice(),
        [one] if matches!(
            one.kind,
            StatementKind::Transaction(_) | StatementKind::Set(_) | StatementKind::Use(_)
        )
    )
}

fn statement_id(packet: &Packet) -> Option<u32> {
    let b = packet.payload().get(1..5)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn unknown_statement(session: &mut Session, id: u32, what: &str) {
    let message = format!("Unknown prepared statement handler ({id}) given to {what}");
    reply::err(session, 1, errcode::ER_UNKNOWN_STMT_HANDLER, &message);
}

/// An execute's parameters as the router reads them: integers as decimal text, strings
/// as sent (long data included).
struct BinaryParams {
    values: Vec<Option<String>>,
}

impl BinaryParams {
    fn new(exec: &Execute<'_>, long_data: &[Option<Vec<u8>>]) -> BinaryParams {
        let values = (0..exec.values.len())
            .map(|i| match exec.key(i) {
                Some(ParamKey::Int(n)) => Some(n.to_string()),
                Some(ParamKey::Text(bytes)) => Some(String::from_utf8_lossy(bytes).into_owned()),
                Some(ParamKey::Null) => None,
                Some(ParamKey::Unsupported) | None => long_data
                    .get(i)
                    .and_then(Option::as_ref)
                    .map(|b| String::from_utf8_lossy(b).into_owned()),
            })
            .collect();
        BinaryParams { values }
    }
}

impl ParamSource for BinaryParams {
    fn param(&self, n: u16) -> Option<ParamValue<'_>> {
        let value = self.values.get(usize::from(n).checked_sub(1)?)?;
        Some(match value {
            Some(text) => ParamValue::text(text),
            None => ParamValue {
                bytes: None,
                binary: false,
                type_oid: 0,
            },
        })
    }
}
