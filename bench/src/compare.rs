//! `--compare`: the same workload against several targets, interleaved round by round
//! (A, B, A, B, …) so drift on a shared machine (caches, neighbours, thermal) falls on
//! every target alike; each target is represented by its median-TPS run.

use crate::cli::NamedTarget;
use crate::report::{Ratio, RunReport};

/// Runs `run(target, round)` for every round and target, interleaved; returns each
/// target's runs in round order. Stops at the first error.
pub fn interleave<E>(
    targets: &[NamedTarget],
    rounds: u32,
    mut run: impl FnMut(&NamedTarget, u32) -> Result<RunReport, E>,
) -> Result<Vec<Vec<RunReport>>, E> {
    let mut per_target: Vec<Vec<RunReport>> = targets.iter().map(|_| Vec::new()).collect();
    for round in 1..=rounds {
        for (i, target) in targets.iter().enumerate() {
            per_target[i].push(run(target, round)?);
        }
    }
    Ok(per_target)
}

/// The run with the median TPS (the lower middle one for an even count), carrying the
/// TPS of every round.
pub fn median_run(mut runs: Vec<RunReport>) -> Option<RunReport> {
    let rounds_tps: Vec<f64> = runs.iter().map(|r| r.tps).collect();
    let rounds_invariant: Vec<Option<bool>> = runs
        .iter()
        .map(|r| r.invariant.as_ref().map(|i| i.intact))
        .collect();
    runs.sort_by(|a, b| a.tps.total_cmp(&b.tps));
    let middle = runs.len().checked_sub(1)? / 2;
    let mut median = runs.swap_remove(middle);
    median.rounds_tps = rounds_tps;
    median.rounds_invariant = rounds_invariant;
    Some(median)
}

/// Each run's TPS and p99 over the first run's (NaN, shown as null, when the first has
/// none).
pub fn ratios(runs: &[RunReport]) -> Vec<Ratio> {
    let Some(first) = runs.first() else {
        return Vec::new();
    };
    let over = |ours: f64, theirs: f64| {
        if theirs > 0.0 {
            ours / theirs
        } else {
            f64::NAN
        }
    };
    runs.iter()
        .map(|run| Ratio {
            name: run.name.clone(),
            tps_ratio: over(run.tps, first.tps),
            p99_ratio: over(run.latency_ms.p99, first.latency_ms.p99),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::stats::Latency;
    use crate::target::Target;

    fn run(name: &str, round: u32, tps: f64, p99: f64) -> RunReport {
        RunReport {
            name: name.into(),
            url: String::new(),
            workload: "point-select",
            mode: "prepared",
            clients: 1,
            rate: None,
            consistency: None,
            duration_s: 1.0,
            transactions: tps as u64,
            errors: 0,
            errors_by_code: Default::default(),
            tps,
            latency_ms: Latency {
                p99,
                ..Latency::default()
            },
            late: None,
            unissued: None,
            timeline: vec![],
            invariant: None,
            round,
            rounds_tps: vec![tps],
            rounds_invariant: vec![None],
            clients_lost: 0,
        }
    }

    fn target(name: &str) -> NamedTarget {
        NamedTarget {
            name: name.into(),
            target: Target::parse("postgres://u@h/d").unwrap(),
        }
    }

    #[test]
    fn rounds_alternate_between_targets() {
        let mut order = Vec::new();
        let runs = interleave::<()>(&[target("a"), target("b")], 3, |t, round| {
            order.push(format!("{}{round}", t.name));
            Ok(run(&t.name, round, 1.0, 1.0))
        })
        .unwrap();
        assert_eq!(order, ["a1", "b1", "a2", "b2", "a3", "b3"]);
        assert_eq!(runs.len(), 2);
        assert!(runs[1].iter().all(|r| r.name == "b"));
    }

    #[test]
    fn the_median_run_represents_its_target() {
        let runs = vec![
            run("a", 1, 300.0, 1.0),
            run("a", 2, 100.0, 1.0),
            run("a", 3, 200.0, 1.0),
        ];
        let median = median_run(runs).unwrap();
        assert_eq!((median.round, median.tps), (3, 200.0));
        assert_eq!(median.rounds_tps, vec![300.0, 100.0, 200.0]);
        assert_eq!(median.rounds_invariant, vec![None, None, None]);
        let even = median_run(vec![run("a", 1, 5.0, 1.0), run("a", 2, 7.0, 1.0)]).unwrap();
        assert_eq!(even.tps, 5.0);
        assert!(median_run(vec![]).is_none());
    }

    #[test]
    fn ratios_are_against_the_first_target() {
        let r = ratios(&[run("proxy", 1, 1000.0, 2.0), run("direct", 1, 2500.0, 1.0)]);
        assert_eq!((r[0].tps_ratio, r[0].p99_ratio), (1.0, 1.0));
        assert_eq!((r[1].tps_ratio, r[1].p99_ratio), (2.5, 0.5));
        assert!(ratios(&[run("x", 1, 0.0, 0.0)])[0].tps_ratio.is_nan());
    }
}
