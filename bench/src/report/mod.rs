//! What a run produced, as one data model that every output reads: the text summary
//! (`text`), the JSON file (`json`) and the HTML page (`html`, drawing with `svg`).

pub mod html;
pub mod json;
pub mod svg;
pub mod text;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::cli::{NamedTarget, Settings};
use crate::stats::errors::CodeErrors;
use crate::stats::timeline::TimelinePoint;
use crate::stats::{Latency, RunStats};
use crate::workload::Invariant;

/// The whole report (the JSON file's top level).
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// `shardwire-bench`.
    pub tool: &'static str,
    /// The bench's version.
    pub version: &'static str,
    /// When the bench started, RFC 3339 UTC.
    pub started_at: String,
    /// Where it ran.
    pub machine: Machine,
    /// One run per target (for a comparison, each target's median-TPS run).
    pub runs: Vec<RunReport>,
    /// Ratios against the first target, for `--compare`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparison: Option<Vec<Ratio>>,
}

/// The machine the bench ran on.
#[derive(Clone, Debug, Serialize)]
pub struct Machine {
    /// Available parallelism.
    pub cpus: usize,
    /// Operating system and architecture.
    pub os: String,
}

/// One measured run.
#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    /// The target's name.
    pub name: String,
    /// The target's URL, password hidden.
    pub url: String,
    /// Workload name.
    pub workload: &'static str,
    /// Statement mode.
    pub mode: &'static str,
    /// Connections.
    pub clients: usize,
    /// Requested open-loop rate (null: closed loop).
    pub rate: Option<f64>,
    /// `shardwire.read_consistency` set on the connections (null: not set).
    pub consistency: Option<&'static str>,
    /// Measured seconds.
    pub duration_s: f64,
    /// Successful transactions.
    pub transactions: u64,
    /// Failed transactions.
    pub errors: u64,
    /// Failures by SQLSTATE / MySQL error number.
    pub errors_by_code: BTreeMap<String, CodeErrors>,
    /// Successful transactions per second.
    pub tps: f64,
    /// Latency of successful transactions.
    pub latency_ms: Latency,
    /// Open loop: transactions that started after their scheduled time (null: closed
    /// loop).
    pub late: Option<u64>,
    /// Open loop: transactions due before the end that were never started (null:
    /// closed loop). Not zero means the target could not take the rate.
    pub unissued: Option<u64>,
    /// Clients whose connection was lost and could not be made again.
    pub clients_lost: u64,
    /// Per second.
    pub timeline: Vec<TimelinePoint>,
    /// The workload's invariant after the run (null: the workload has none).
    pub invariant: Option<Invariant>,
    /// Which round of a comparison this run was (1-based).
    pub round: u32,
    /// TPS of every round of this target, in order.
    pub rounds_tps: Vec<f64>,
    /// The invariant of every round of this target, in order: true intact, false
    /// broken, null when the workload has none.
    pub rounds_invariant: Vec<Option<bool>>,
}

impl RunReport {
    /// Builds the report of one run.
    pub fn new(
        target: &NamedTarget,
        settings: &Settings,
        stats: &RunStats,
        invariant: Option<Invariant>,
        round: u32,
    ) -> RunReport {
        let tps = stats.tps();
        RunReport {
            name: target.name.clone(),
            url: target.target.redacted(),
            workload: settings.workload.name(),
            mode: settings.mode.as_str(),
            clients: settings.clients,
            rate: settings.rate,
            consistency: settings.consistency.map(|c| c.as_str()),
            duration_s: stats.elapsed.as_secs_f64(),
            transactions: stats.transactions,
            errors: stats.errors.total(),
            errors_by_code: stats.errors.by_code().clone(),
            tps,
            latency_ms: Latency::of(&stats.latency),
            late: settings.rate.map(|_| stats.late),
            unissued: settings.rate.map(|_| stats.unissued),
            clients_lost: stats.clients_lost,
            timeline: stats.timeline.clone(),
            rounds_invariant: vec![invariant.as_ref().map(|i| i.intact)],
            invariant,
            round,
            rounds_tps: vec![tps],
        }
    }

    /// Whether the workload's invariant was checked and broke.
    pub fn invariant_broken(&self) -> bool {
        self.invariant.as_ref().is_some_and(|i| !i.intact)
    }
}

/// One target against the first.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Ratio {
    /// The target's name.
    pub name: String,
    /// Its TPS over the first target's.
    pub tps_ratio: f64,
    /// Its p99 latency over the first target's.
    pub p99_ratio: f64,
}

/// HTML and SVG text escaping (names and URLs come from the command line).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
