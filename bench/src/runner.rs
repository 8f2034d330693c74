//! Drives one run: connects the clients, runs the warmup (unmeasured), then the
//! measured phase until the deadline or the transaction budget, in a closed loop (each
//! client starts its next transaction when the last one ends) or an open loop (each
//! transaction starts at its scheduled time, see [`crate::schedule`]; the
//! [`crate::pacer`] thread says when).
//!
//! Every client is a task owning its connection, its random state and its
//! [`Recorder`]; they share only atomics (budget, live counters) and the per-second
//! timeline.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::client::{Client, ConnectSpec};
use crate::error::BenchError;
use crate::pacer::{PacedPhase, Pacer};
use crate::schedule::Schedule;
use crate::stats::timeline::Timeline;
use crate::stats::{ClientTotals, Recorder, RunStats};
use crate::workload::{RunBasis, TxnCtx, Workload};

/// How a run is driven.
#[derive(Clone, Debug)]
pub struct RunPlan {
    /// The transaction.
    pub workload: Workload,
    /// Concurrent connections.
    pub clients: usize,
    /// Unmeasured time before measuring.
    pub warmup: Duration,
    /// Measured time (with `transactions`, whichever ends first).
    pub duration: Option<Duration>,
    /// Measured transactions across all clients, failed ones included.
    pub transactions: Option<u64>,
    /// Open loop: transactions per second across all clients.
    pub rate: Option<f64>,
    /// Seed of the clients' random keys.
    pub seed: u64,
}

/// Counters the progress display reads while the run goes on.
#[derive(Debug, Default)]
pub struct Live {
    /// Transactions that succeeded (warmup included).
    pub done: AtomicU64,
    /// Transactions that failed (warmup included).
    pub failed: AtomicU64,
}

/// How long to keep trying to reconnect a client whose connection was lost.
const RECONNECT_FOR: Duration = Duration::from_secs(10);
const RECONNECT_PAUSE: Duration = Duration::from_millis(200);

/// Runs `plan` against the target of `spec`.
pub async fn run(
    spec: &ConnectSpec,
    plan: &RunPlan,
    basis: &RunBasis,
    live: Arc<Live>,
) -> Result<RunStats, BenchError> {
    let clients = connect_all(spec, plan.clients).await?;
    let start = Instant::now();
    let measure_from = start + plan.warmup;
    let end = plan.duration.map(|d| measure_from + d);
    let open_loop = OpenLoop::start(plan, start, measure_from, end);
    let shared = Arc::new(Shared {
        spec: spec.clone(),
        plan: plan.clone(),
        schedule: plan.rate.map(|rate| Schedule::new(rate, plan.clients)),
        start,
        measure_from,
        end,
        budget: AtomicU64::new(0),
        timeline: Arc::new(Mutex::new(Timeline::default())),
        live,
    });
    let mut tasks = JoinSet::new();
    for (index, client) in clients.into_iter().enumerate() {
        let ctx = TxnCtx::new(basis, index, plan.seed);
        let gates = open_loop
            .as_ref()
            .map(|o| o.gates(index))
            .unwrap_or_default();
        tasks.spawn(client_task(shared.clone(), index, client, ctx, gates));
    }
    let mut totals = Vec::with_capacity(plan.clients);
    let mut last_end = measure_from;
    while let Some(joined) = tasks.join_next().await {
        // A client task only ends by returning; a panic is a bug worth seeing.
        let (client_totals, ended) =
            joined.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
        totals.push(client_totals);
        last_end = last_end.max(ended);
    }
    drop(open_loop);
    let measured = last_end.saturating_duration_since(measure_from);
    let elapsed = plan.duration.map_or(measured, |d| measured.max(d));
    let timeline = shared
        .timeline
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    Ok(RunStats::merge(totals, &timeline, elapsed))
}

/// The open loop's pacer and each client's gate per phase.
struct OpenLoop {
    _pacer: Pacer,
    /// Per phase (warmup if any, then measurement), per client.
    gates: Vec<Vec<Arc<Semaphore>>>,
}

impl OpenLoop {
    /// Starts pacing when the plan has a rate.
    fn start(
        plan: &RunPlan,
        start: Instant,
        measure_from: Instant,
        end: Option<Instant>,
    ) -> Option<OpenLoop> {
        let rate = plan.rate?;
        let mut phases = Vec::new();
        if !plan.warmup.is_zero() {
            let until = Some(measure_from);
            phases.push(PacedPhase::new(start, until, None, plan.clients));
        }
        let limit = plan.transactions;
        phases.push(PacedPhase::new(measure_from, end, limit, plan.clients));
        let gates = phases.iter().map(|p| p.gates.clone()).collect();
        let pacer = Pacer::start(Schedule::new(rate, plan.clients), phases);
        Some(OpenLoop {
            _pacer: pacer,
            gates,
        })
    }

    /// Client `index`'s gates, measurement first: the client pops them phase by phase.
    fn gates(&self, index: usize) -> Vec<Arc<Semaphore>> {
        self.gates.iter().rev().map(|g| g[index].clone()).collect()
    }
}

async fn connect_all(spec: &ConnectSpec, n: usize) -> Result<Vec<Client>, BenchError> {
    let mut connecting = JoinSet::new();
    for index in 0..n {
        let spec = spec.clone();
        connecting.spawn(async move { (index, Client::connect(&spec).await) });
    }
    let mut clients: Vec<Option<Client>> = (0..n).map(|_| None).collect();
    while let Some(joined) = connecting.join_next().await {
        let (index, result) = joined.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
        let client = result.map_err(|error| BenchError::Connect {
            target: spec.target.redacted(),
            error,
        })?;
        clients[index] = Some(client);
    }
    Ok(clients.into_iter().flatten().collect())
}

/// What every client task reads.
struct Shared {
    spec: ConnectSpec,
    plan: RunPlan,
    schedule: Option<Schedule>,
    start: Instant,
    measure_from: Instant,
    end: Option<Instant>,
    /// Measured transactions claimed so far (closed loop with `--transactions`).
    budget: AtomicU64,
    timeline: Arc<Mutex<Timeline>>,
    live: Arc<Live>,
}

/// One phase of a client's life: warmup or measurement.
struct Phase<'a> {
    from: Instant,
    until: Option<Instant>,
    limit: Option<u64>,
    recorder: Option<&'a mut Recorder>,
    /// Open loop: one permit per slot, given when the slot is due.
    gate: Option<Arc<Semaphore>>,
}

async fn client_task(
    shared: Arc<Shared>,
    index: usize,
    client: Client,
    mut ctx: TxnCtx,
    mut gates: Vec<Arc<Semaphore>>,
) -> (ClientTotals, Instant) {
    let mut client = Some(client);
    let mut busy_until = shared.start;
    if !shared.plan.warmup.is_zero() {
        let warmup = Phase {
            from: shared.start,
            until: Some(shared.measure_from),
            limit: None,
            recorder: None,
            gate: gates.pop(),
        };
        busy_until = run_phase(&shared, index, &mut client, &mut ctx, warmup, busy_until).await;
    }
    let mut recorder = Recorder::new(shared.timeline.clone());
    let measure = Phase {
        from: shared.measure_from,
        until: shared.end,
        limit: shared.plan.transactions,
        recorder: Some(&mut recorder),
        gate: gates.pop(),
    };
    let ended = run_phase(&shared, index, &mut client, &mut ctx, measure, busy_until).await;
    if let Some(client) = client {
        client.close().await;
    }
    (recorder.finish(), ended.max(shared.measure_from))
}

/// Runs transactions until the phase ends; returns when the last one ended
/// (`busy_until`, the end of the one before the phase, if none ran). `client` becomes
/// `None` if the connection was lost and could not be made again.
async fn run_phase(
    shared: &Shared,
    index: usize,
    client: &mut Option<Client>,
    ctx: &mut TxnCtx,
    mut phase: Phase<'_>,
    busy_until: Instant,
) -> Instant {
    let mut last_end = busy_until;
    let mut i = 0_u64;
    while let Some(conn) = client.as_mut() {
        let now = Instant::now();
        if phase.until.is_some_and(|end| now >= end) {
            break;
        }
        let intended = match shared.schedule {
            Some(schedule) => {
                let slot = schedule.slot(index, i);
                i += 1;
                if phase.limit.is_some_and(|n| slot >= n) {
                    break;
                }
                let due = phase.from + schedule.due(slot);
                if phase.until.is_some_and(|end| due >= end) {
                    break;
                }
                if last_end > due {
                    // Still busy with the previous transaction when this one was due.
                    if let Some(recorder) = phase.recorder.as_deref_mut() {
                        recorder.late();
                    }
                }
                if let Some(gate) = &phase.gate {
                    match gate.acquire().await {
                        Ok(permit) => permit.forget(),
                        Err(_) => break,
                    }
                }
                due
            }
            None => {
                if let Some(n) = phase.limit {
                    if shared.budget.fetch_add(1, Ordering::Relaxed) >= n {
                        break;
                    }
                }
                now
            }
        };
        let result = shared.plan.workload.transaction(conn, ctx).await;
        let done = Instant::now();
        last_end = done;
        let at = done.saturating_duration_since(phase.from);
        match &result {
            Ok(()) => {
                shared.live.done.fetch_add(1, Ordering::Relaxed);
                if let Some(recorder) = phase.recorder.as_deref_mut() {
                    recorder.success(done.saturating_duration_since(intended), at);
                }
            }
            Err(error) => {
                shared.live.failed.fetch_add(1, Ordering::Relaxed);
                if let Some(recorder) = phase.recorder.as_deref_mut() {
                    recorder.failure(error, at);
                }
                if error.connection_lost {
                    *client = reconnect(&shared.spec, shared.end).await;
                }
            }
        }
    }
    last_end
}

/// Tries to connect again for a while (a proxy restart, a failover); gives up at the
/// run's end or after [`RECONNECT_FOR`].
async fn reconnect(spec: &ConnectSpec, until: Option<Instant>) -> Option<Client> {
    let give_up = Instant::now() + RECONNECT_FOR;
    let give_up = until.map_or(give_up, |end| end.min(give_up));
    while Instant::now() < give_up {
        tokio::time::sleep(RECONNECT_PAUSE).await;
        if let Ok(client) = Client::connect(spec).await {
            return Some(client);
        }
    }
    None
}
