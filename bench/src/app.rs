//! The bench from arguments to exit code: print tables, or set up, run (each target,
//! each round), check invariants, report.
//!
//! Async work runs in `block_on` calls from this thread; printing and file writing
//! happen here, between them, never on a runtime worker.

use std::sync::Arc;
use std::time::SystemTime;

use crate::cli::{Args, Command, NamedTarget, Settings};
use crate::client::{Client, ConnectSpec, DbError, Mode};
use crate::compare;
use crate::duration::format_duration;
use crate::error::{exit, BenchError};
use crate::progress::{Progress, ProgressPlan};
use crate::report::{html, json, text, Report, RunReport};
use crate::runner::{self, Live, RunPlan};
use crate::workload::{setup, tables, Invariant, RunBasis};

/// Runs the bench; returns the process exit code.
pub fn main(args: Args) -> u8 {
    let settings = match args.into_command() {
        Ok(Command::PrintTables(workload)) => {
            let list = workload.map_or(tables::ALL, |w| w.tables());
            print!("{}", tables::config_stanzas(list));
            return exit::OK;
        }
        Ok(Command::Run(settings)) => settings,
        Err(message) => {
            eprintln!("shardwire-bench: {message}");
            return exit::FAILED;
        }
    };
    match run(&settings) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("shardwire-bench: {e}");
            exit::FAILED
        }
    }
}

fn run(settings: &Settings) -> Result<u8, BenchError> {
    let started_at = json::rfc3339(SystemTime::now());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(BenchError::Runtime)?;
    if settings.setup {
        for target in &settings.targets {
            set_up(&rt, settings, target)?;
        }
    }
    let rounds = compare::interleave(&settings.targets, settings.rounds, |target, round| {
        run_once(&rt, settings, target, round)
    })?;
    // The exit code weighs every round, not only the median ones reported.
    let code = exit_code(&rounds);
    let runs: Vec<RunReport> = rounds.into_iter().filter_map(compare::median_run).collect();
    let comparison = settings.compare.then(|| compare::ratios(&runs));
    for run in &runs {
        println!("{}", text::run_summary(run));
    }
    if let Some(ratios) = &comparison {
        print!("{}", text::comparison_table(&runs, ratios));
    }
    let report = Report {
        tool: "shardwire-bench",
        version: env!("CARGO_PKG_VERSION"),
        started_at,
        machine: json::machine(),
        runs,
        comparison,
    };
    if let Some(path) = &settings.json {
        write(path, &json::render(&report))?;
    }
    if let Some(path) = &settings.html {
        write(path, &html::render(&report))?;
    }
    Ok(code)
}

/// Over every round of every target: 1 when an invariant broke, 2 when a run
/// completed no transaction, else 0. Names each round that broke or measured nothing.
fn exit_code(rounds: &[Vec<RunReport>]) -> u8 {
    let all = || rounds.iter().flatten();
    for run in all() {
        if let Some(invariant) = run.invariant.as_ref().filter(|i| !i.intact) {
            eprintln!(
                "shardwire-bench: {} round {}: invariant BROKEN: {}",
                run.name, run.round, invariant.detail
            );
        }
        if run.transactions == 0 {
            eprintln!(
                "shardwire-bench: {} round {}: no transaction succeeded",
                run.name, run.round
            );
        }
    }
    if all().any(RunReport::invariant_broken) {
        exit::INVARIANT_BROKEN
    } else if all().any(|r| r.transactions == 0) {
        exit::FAILED
    } else {
        exit::OK
    }
}

fn write(path: &std::path::Path, content: &str) -> Result<(), BenchError> {
    std::fs::write(path, content).map_err(|source| BenchError::Write {
        path: path.to_owned(),
        source,
    })
}

/// A connection for the bench's own statements: text protocol, nothing prepared.
fn plain_spec(target: &NamedTarget) -> ConnectSpec {
    ConnectSpec {
        target: target.target.clone(),
        mode: Mode::Simple,
        statements: &[],
        session_setup: Vec::new(),
    }
}

fn set_up(
    rt: &tokio::runtime::Runtime,
    settings: &Settings,
    target: &NamedTarget,
) -> Result<(), BenchError> {
    let scale = settings
        .scale
        .unwrap_or_else(|| settings.workload.default_scale());
    let quiet = settings.quiet;
    let say = move |line: String| {
        if !quiet {
            eprintln!("{line}");
        }
    };
    say(format!(
        "setup: {} tables on {} (scale {scale})",
        settings.workload.name(),
        target.name
    ));
    rt.block_on(setup::run(
        settings.workload,
        &plain_spec(target),
        scale,
        &say,
    ))
    .map_err(|e| BenchError::Setup {
        target: target.target.redacted(),
        table: e.table.to_string(),
        error: e.error,
    })
}

fn run_once(
    rt: &tokio::runtime::Runtime,
    settings: &Settings,
    target: &NamedTarget,
    round: u32,
) -> Result<RunReport, BenchError> {
    let query_error = |what| {
        let target = target.target.redacted();
        move |error| BenchError::Query {
            what,
            target,
            error,
        }
    };
    // After --setup the scale is known; otherwise it is read from the tables.
    let scale = settings
        .scale
        .or(settings.setup.then(|| settings.workload.default_scale()));
    let basis = rt
        .block_on(read_basis(settings, target, scale))
        .map_err(query_error("reading the tables"))?;
    if !settings.quiet {
        let of = if settings.rounds > 1 {
            format!(" (round {round} of {})", settings.rounds)
        } else {
            String::new()
        };
        let length = match (settings.duration, settings.transactions) {
            (Some(d), _) => format!("for {}", format_duration(d)),
            (None, Some(n)) => format!("for {n} transactions"),
            (None, None) => String::new(),
        };
        eprintln!(
            "{}: {} {length} on {}{of}",
            target.name,
            settings.workload.name(),
            target.target.redacted()
        );
    }
    let spec = ConnectSpec {
        target: target.target.clone(),
        mode: settings.mode,
        statements: settings.workload.statements(),
        session_setup: settings
            .consistency
            .map(|c| format!("SET shardwire.read_consistency = '{}'", c.as_str()))
            .into_iter()
            .collect(),
    };
    let plan = RunPlan {
        workload: settings.workload,
        clients: settings.clients,
        warmup: settings.warmup,
        duration: settings.duration,
        transactions: settings.transactions,
        rate: settings.rate,
        seed: seed(),
        txn_timeout: settings.txn_timeout,
    };
    let live = Arc::new(Live::default());
    let progress = Progress::start(
        ProgressPlan {
            label: target.name.clone(),
            warmup: settings.warmup,
            duration: settings.duration,
            transactions: settings.transactions,
        },
        live.clone(),
        settings.quiet,
    );
    let stats = rt.block_on(runner::run(&spec, &plan, &basis, live));
    progress.finish();
    let stats = stats?;
    let invariant = rt
        .block_on(check(settings, target, &basis))
        .map_err(query_error("checking the invariant"))?;
    Ok(RunReport::new(target, settings, &stats, invariant, round))
}

async fn read_basis(
    settings: &Settings,
    target: &NamedTarget,
    scale: Option<u64>,
) -> Result<RunBasis, DbError> {
    let mut client = Client::connect(&plain_spec(target)).await?;
    // The baseline and the highest ids must come from primaries, as in `check`.
    strong_reads(&mut client).await;
    let basis = settings.workload.basis(&mut client, scale).await;
    client.close().await;
    basis
}

async fn check(
    settings: &Settings,
    target: &NamedTarget,
    basis: &RunBasis,
) -> Result<Option<Invariant>, DbError> {
    let mut client = Client::connect(&plain_spec(target)).await?;
    strong_reads(&mut client).await;
    let outcome = settings.workload.check(&mut client, basis).await;
    client.close().await;
    outcome
}

/// Sums must come from primaries whatever the proxy's default; a plain server does not
/// know the setting (MySQL refuses it), which is fine: it has no replicas here.
async fn strong_reads(client: &mut Client) {
    let _ = client
        .batch("SET shardwire.read_consistency = 'strong'")
        .await;
}

/// A different key sequence every run.
fn seed() -> u64 {
    SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::stats::Latency;

    fn run(name: &str, round: u32, transactions: u64, intact: Option<bool>) -> RunReport {
        RunReport {
            name: name.into(),
            url: String::new(),
            workload: "transfer",
            mode: "prepared",
            clients: 1,
            rate: None,
            consistency: None,
            duration_s: 1.0,
            transactions,
            errors: 0,
            errors_by_code: Default::default(),
            tps: transactions as f64,
            latency_ms: Latency::default(),
            late: None,
            unissued: None,
            clients_lost: 0,
            timeline: vec![],
            invariant: intact.map(|intact| Invariant {
                intact,
                detail: String::new(),
            }),
            round,
            rounds_tps: vec![transactions as f64],
            rounds_invariant: vec![intact],
        }
    }

    #[test]
    fn every_round_counts_for_the_exit_code() {
        let ok = |round| run("a", round, 100, Some(true));
        assert_eq!(exit_code(&[vec![ok(1), ok(2), ok(3)]]), exit::OK);
        // Round 1 broke; rounds 2 and 3 hold the median, which is intact.
        let broken = vec![vec![run("a", 1, 50, Some(false)), ok(2), ok(3)]];
        assert_eq!(exit_code(&broken), exit::INVARIANT_BROKEN);
        let median = compare::median_run(broken[0].clone()).unwrap();
        assert!(!median.invariant_broken());
        assert_eq!(
            median.rounds_invariant,
            vec![Some(false), Some(true), Some(true)]
        );
        // A round that measured nothing, on the second target.
        let empty = vec![
            vec![ok(1), ok(2)],
            vec![run("b", 1, 0, None), run("b", 2, 9, None)],
        ];
        assert_eq!(exit_code(&empty), exit::FAILED);
    }
}
