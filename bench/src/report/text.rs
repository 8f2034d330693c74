//! The summary printed at the end of a run, and the comparison table.

use std::fmt::Write;

use super::{Ratio, RunReport};

/// One run's summary: what ran, transactions, errors by code, TPS, latency, invariant.
pub fn run_summary(run: &RunReport) -> String {
    let mut out = String::new();
    let loop_kind = match run.rate {
        Some(rate) => format!("open loop at {rate}/s"),
        None => "closed loop".to_string(),
    };
    let _ = writeln!(
        out,
        "{} — {} on {}\n  {} clients, {} statements, {loop_kind}{}",
        run.name,
        run.workload,
        run.url,
        run.clients,
        run.mode,
        run.consistency
            .map(|c| format!(", read consistency {c}"))
            .unwrap_or_default()
    );
    let _ = writeln!(
        out,
        "  transactions  {} in {:.2} s ({:.1} tps)",
        run.transactions, run.duration_s, run.tps
    );
    let attempts = run.transactions + run.errors;
    let share = if attempts > 0 {
        100.0 * run.errors as f64 / attempts as f64
    } else {
        0.0
    };
    let _ = writeln!(out, "  errors        {} ({share:.2}%)", run.errors);
    for (code, e) in &run.errors_by_code {
        let _ = writeln!(out, "    {code} × {}", e.count);
        for sample in &e.samples {
            let _ = writeln!(out, "      {sample}");
        }
    }
    let l = &run.latency_ms;
    let _ = writeln!(
        out,
        "  latency ms    p50 {:.3}  p95 {:.3}  p99 {:.3}  p99.9 {:.3}  max {:.3}  (mean {:.3})",
        l.p50, l.p95, l.p99, l.p999, l.max, l.mean
    );
    if let Some(late) = run.late {
        let _ = writeln!(out, "  late starts   {late}");
    }
    if let Some(unissued) = run.unissued.filter(|&n| n > 0) {
        let _ = writeln!(
            out,
            "  unissued      {unissued} (due before the end, never started: the target did not keep up)"
        );
    }
    let _ = writeln!(out, "  clients lost  {}", run.clients_lost);
    if let Some(invariant) = &run.invariant {
        let verdict = if invariant.intact { "intact" } else { "BROKEN" };
        let _ = writeln!(out, "  invariant     {verdict}: {}", invariant.detail);
    }
    out
}

/// The comparison: each target's reported run beside its ratios to the first.
pub fn comparison_table(runs: &[RunReport], ratios: &[Ratio]) -> String {
    let width = runs
        .iter()
        .map(|r| r.name.chars().count())
        .max()
        .unwrap_or(6)
        .max(6);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<width$}  {:>10}  {:>9}  {:>9}  {:>9}  {:>9}  rounds (tps)",
        "target", "tps", "p50 ms", "p99 ms", "tps ×", "p99 ×"
    );
    for (run, ratio) in runs.iter().zip(ratios) {
        let rounds: Vec<String> = run.rounds_tps.iter().map(|t| format!("{t:.0}")).collect();
        let _ = writeln!(
            out,
            "{:<width$}  {:>10.1}  {:>9.3}  {:>9.3}  {:>9.3}  {:>9.3}  {}",
            run.name,
            run.tps,
            run.latency_ms.p50,
            run.latency_ms.p99,
            ratio.tps_ratio,
            ratio.p99_ratio,
            rounds.join(" ")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::errors::CodeErrors;
    use crate::stats::Latency;
    use crate::workload::Invariant;

    #[test]
    fn the_summary_names_errors_latency_and_invariant() {
        let mut errors_by_code = std::collections::BTreeMap::new();
        errors_by_code.insert(
            "40001".to_string(),
            CodeErrors {
                count: 2,
                samples: vec!["could not serialize access".into()],
            },
        );
        let run = RunReport {
            name: "proxy".into(),
            url: "postgres://app:***@127.0.0.1:6432/app".into(),
            workload: "transfer",
            mode: "prepared",
            clients: 4,
            rate: Some(100.0),
            consistency: Some("session"),
            duration_s: 5.0,
            transactions: 498,
            errors: 2,
            errors_by_code,
            tps: 99.6,
            latency_ms: Latency {
                p50: 1.0,
                p95: 2.0,
                p99: 3.0,
                p999: 4.0,
                max: 5.0,
                mean: 1.2,
            },
            late: Some(3),
            unissued: Some(12),
            timeline: vec![],
            invariant: Some(Invariant {
                intact: true,
                detail: "sum(balance) = 10, before the run 10".into(),
            }),
            round: 1,
            rounds_tps: vec![99.6],
            rounds_invariant: vec![None],
            clients_lost: 0,
        };
        let text = run_summary(&run);
        for needle in [
            "transfer on postgres://app:***@",
            "open loop at 100/s",
            "read consistency session",
            "498 in 5.00 s (99.6 tps)",
            "errors        2 (0.40%)",
            "40001 × 2",
            "could not serialize access",
            "p99 3.000",
            "p99.9 4.000",
            "late starts   3",
            "unissued      12",
            "invariant     intact",
        ] {
            assert!(text.contains(needle), "{needle:?} missing in\n{text}");
        }
        let table = comparison_table(
            &[run],
            &[Ratio {
                name: "proxy".into(),
                tps_ratio: 1.0,
                p99_ratio: 1.0,
            }],
        );
        assert!(
            table
                .lines()
                .nth(1)
                .is_some_and(|l| l.starts_with("proxy ")),
            "{table}"
        );
    }
}
