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

use crate::client::{Client, ConnectSpec, DbError};
use crate::duration::format_duration;
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
    /// Longest a transaction may take before it counts as a `timeout` error.
    pub txn_timeout: Duration,
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
    let mut budget_ended = false;
    let mut clients_lost = 0;
    while let Some(joined) = tasks.join_next().await {
        // A client task only ends by returning; a panic is a bug worth seeing.
        let outcome = joined.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
        totals.push(outcome.totals);
        last_end = last_end.max(outcome.ended);
        budget_ended |= outcome.budget_ended;
        clients_lost += u64::from(outcome.lost);
    }
    drop(open_loop);
    let measured = last_end.saturating_duration_since(measure_from);
    let elapsed = measured_time(measured, plan.duration, budget_ended);
    let timeline = shared
        .timeline
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let mut stats = RunStats::merge(totals, &timeline, elapsed);
    stats.clients_lost = clients_lost;
    Ok(stats)
}

/// The time TPS is divided by. When the transaction budget ended the run, that is the
/// time it took. Otherwise the run was meant to last `duration`: if it ended sooner
/// (every client lost, or the open loop's last due time before the deadline), the
/// whole `duration` counts, so dying clients lower the TPS instead of hiding.
fn measured_time(measured: Duration, duration: Option<Duration>, budget_ended: bool) -> Duration {
    match duration {
        Some(d) if !budget_ended => measured.max(d),
        _ => measured,
    }
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

/// How a client task ended.
struct ClientOutcome {
    totals: ClientTotals,
    /// When its last measured transaction ended (at least the start of measurement).
    ended: Instant,
    /// It stopped because the transaction budget was used up.
    budget_ended: bool,
    /// Its connection was lost and could not be made again.
    lost: bool,
}

/// Why [`run_phase`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PhaseEnd {
    /// The deadline passed (or the pacer stopped).
    Deadline,
    /// The transaction budget was used up.
    Budget,
    /// The connection was lost for good.
    Lost,
}

async fn client_task(
    shared: Arc<Shared>,
    index: usize,
    client: Client,
    mut ctx: TxnCtx,
    mut gates: Vec<Arc<Semaphore>>,
) -> ClientOutcome {
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
        (busy_until, _) =
            run_phase(&shared, index, &mut client, &mut ctx, warmup, busy_until).await;
    }
    let mut recorder = Recorder::new(shared.timeline.clone());
    let measure = Phase {
        from: shared.measure_from,
        until: shared.end,
        limit: shared.plan.transactions,
        recorder: Some(&mut recorder),
        gate: gates.pop(),
    };
    let (ended, why) = run_phase(&shared, index, &mut client, &mut ctx, measure, busy_until).await;
    // Reconnecting stops at the deadline too: only a client that gave up before it
    // is lost.
    let lost = client.is_none() && shared.end.is_none_or(|end| Instant::now() < end);
    if let Some(client) = client {
        client.close().await;
    }
    ClientOutcome {
        totals: recorder.finish(),
        ended: ended.max(shared.measure_from),
        budget_ended: why == PhaseEnd::Budget,
        lost,
    }
}

/// Runs transactions until the phase ends; returns when the last one ended
/// (`busy_until`, the end of the one before the phase, if none ran) and why the phase
/// ended. `client` becomes `None` if the connection was lost and could not be made
/// again.
async fn run_phase(
    shared: &Shared,
    index: usize,
    client: &mut Option<Client>,
    ctx: &mut TxnCtx,
    mut phase: Phase<'_>,
    busy_until: Instant,
) -> (Instant, PhaseEnd) {
    let mut last_end = busy_until;
    let mut i = 0_u64;
    // Open loop: how many of this client's slots have started.
    let mut started = 0_u64;
    let why = loop {
        let Some(conn) = client.as_mut() else {
            break PhaseEnd::Lost;
        };
        let now = Instant::now();
        if phase.until.is_some_and(|end| now >= end) {
            break PhaseEnd::Deadline;
        }
        let intended = match shared.schedule {
            Some(schedule) => {
                let slot = schedule.slot(index, i);
                i += 1;
                if phase.limit.is_some_and(|n| slot >= n) {
                    break PhaseEnd::Budget;
                }
                let due = phase.from + schedule.due(slot);
                if phase.until.is_some_and(|end| due >= end) {
                    break PhaseEnd::Deadline;
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
                        Err(_) => break PhaseEnd::Deadline,
                    }
                }
                started = i;
                due
            }
            None => {
                if let Some(n) = phase.limit {
                    if shared.budget.fetch_add(1, Ordering::Relaxed) >= n {
                        break PhaseEnd::Budget;
                    }
                }
                now
            }
        };
        let timeout = shared.plan.txn_timeout;
        let result = tokio::time::timeout(timeout, shared.plan.workload.transaction(conn, ctx))
            .await
            .unwrap_or_else(|_| Err(timed_out(timeout)));
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
                // A lost connection, a timeout, a failed ROLLBACK or a failure that
                // did not come from the server leave the connection in an unknown
                // state: drop it and make a new one.
                if error.connection_lost || !error.from_server() {
                    *client = None;
                    *client = reconnect(&shared.spec, shared.end).await;
                }
            }
        }
    };
    // What the schedule wanted before the end but this client never started: shown, so
    // a saturated target cannot look better by quietly skipping the load it was given.
    if let (Some(schedule), Some(end), Some(recorder)) =
        (shared.schedule, phase.until, phase.recorder.as_deref_mut())
    {
        if why != PhaseEnd::Budget {
            let horizon = end.saturating_duration_since(phase.from);
            recorder.unissued(schedule.due_before(index, started, horizon));
        }
    }
    (last_end, why)
}

/// The error of a transaction that took longer than `--txn-timeout`.
fn timed_out(timeout: Duration) -> DbError {
    DbError {
        code: "timeout".into(),
        message: format!(
            "the transaction took longer than {}",
            format_duration(timeout)
        ),
        connection_lost: true,
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_used_up_budget_divides_by_the_measured_time() {
        // --duration 60s --transactions 1000, done after 4 s: 250 tps, not 16.7.
        let elapsed = measured_time(Duration::from_secs(4), Some(Duration::from_secs(60)), true);
        assert_eq!(elapsed, Duration::from_secs(4));
        let timeline = Timeline::default();
        let stats = RunStats::merge(Vec::new(), &timeline, elapsed);
        assert_eq!(stats.timeline.len(), 4, "no empty trailing seconds");
        // Only --transactions: always the measured time.
        assert_eq!(
            measured_time(Duration::from_secs(4), None, true),
            Duration::from_secs(4)
        );
        assert_eq!(
            measured_time(Duration::from_secs(4), None, false),
            Duration::from_secs(4)
        );
    }

    #[test]
    fn a_run_ending_early_without_the_budget_counts_the_whole_duration() {
        // Every client lost after 4 s of a 60 s run.
        assert_eq!(
            measured_time(Duration::from_secs(4), Some(Duration::from_secs(60)), false),
            Duration::from_secs(60)
        );
        // The deadline ended it; stragglers past it count.
        let late = Duration::from_secs(60) + Duration::from_millis(30);
        assert_eq!(
            measured_time(late, Some(Duration::from_secs(60)), false),
            late
        );
    }

    #[test]
    fn tps_and_timeline_follow_the_chosen_time() {
        // 1000 transactions over 4 s of a --duration 60s --transactions 1000 run.
        let timeline = Arc::new(Mutex::new(Timeline::default()));
        let mut recorder = Recorder::new(timeline.clone());
        for k in 0..1000_u64 {
            recorder.success(Duration::from_millis(1), Duration::from_millis(k * 4));
        }
        let totals = recorder.finish();
        let timeline = timeline.lock().unwrap_or_else(PoisonError::into_inner);
        let elapsed = measured_time(
            Duration::from_millis(3996),
            Some(Duration::from_secs(60)),
            true,
        );
        let stats = RunStats::merge(vec![totals], &timeline, elapsed);
        assert!(
            (stats.tps() - 1000.0 / 3.996).abs() < 1e-9,
            "{}",
            stats.tps()
        );
        assert_eq!(stats.timeline.len(), 4);
        assert!(
            stats.timeline.iter().all(|p| p.tps > 0.0),
            "{:?}",
            stats.timeline
        );
    }

    #[test]
    fn a_timeout_drops_the_connection() {
        let e = timed_out(Duration::from_secs(30));
        assert_eq!(e.code, "timeout");
        assert!(e.connection_lost && !e.from_server());
    }
}
