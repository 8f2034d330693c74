//! The command line (contract: DESIGN §9) and its checks, which turn the arguments into
//! [`Settings`] every later step can trust.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

use crate::client::Mode;
use crate::duration::parse_duration;
use crate::target::{Engine, Target};
use crate::workload::Workload;

/// Measured time when neither `--duration` nor `--transactions` is given.
const DEFAULT_DURATION: Duration = Duration::from_secs(10);

/// Load generator for shardwire (and any PostgreSQL or MySQL server): throughput and
/// latency percentiles, JSON and HTML reports, invariant checks. Exit codes: 0 success,
/// 1 an invariant broke, 2 bad arguments or nothing measured.
#[derive(Debug, Parser)]
#[command(name = "shardwire-bench", version)]
pub struct Args {
    /// Target: postgres://user:password@host:port/db or mysql://…
    #[arg(long, conflicts_with = "compare")]
    pub url: Option<String>,
    /// The transaction each client runs.
    #[arg(long, value_enum)]
    pub workload: Option<Workload>,
    /// Concurrent connections.
    #[arg(long, default_value_t = 16)]
    pub clients: usize,
    /// Measured time, e.g. 30s, 2m, 500ms (default 10s unless --transactions).
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Measured transactions across all clients (ends the run when reached).
    #[arg(long)]
    pub transactions: Option<u64>,
    /// Unmeasured time before measuring.
    #[arg(long, value_parser = parse_duration, default_value = "0s")]
    pub warmup: Duration,
    /// Open loop: this many transactions per second in total, on a fixed schedule;
    /// latency counts from the scheduled start.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Longest a transaction may take: past it, it counts as a `timeout` error and the
    /// connection is dropped and made again.
    #[arg(long, value_parser = parse_duration, default_value = "30s")]
    pub txn_timeout: Duration,
    /// Sets shardwire.read_consistency on every connection.
    #[arg(long, value_enum)]
    pub consistency: Option<Consistency>,
    /// How statements are sent (as pgbench -M); MySQL: simple or prepared.
    #[arg(long, value_enum, default_value = "prepared")]
    pub mode: Mode,
    /// Drop, create and load the workload's tables through the target first.
    #[arg(long)]
    pub setup: bool,
    /// Rows to load (accounts; default 10000) or, for tpcb, scale units of 1 branch,
    /// 10 tellers and 10000 accounts (default 1).
    #[arg(long)]
    pub scale: Option<u64>,
    /// Print the [[databases.tables]] stanzas the proxy config needs, then exit.
    #[arg(long)]
    pub print_tables: bool,
    /// Write the machine-readable report here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Write a self-contained HTML report with charts here.
    #[arg(long)]
    pub html: Option<PathBuf>,
    /// Compare targets: NAME=URL NAME2=URL2 … (ratios against the first).
    #[arg(long, num_args = 1.., value_name = "NAME=URL")]
    pub compare: Vec<String>,
    /// Rounds of a comparison (targets interleaved; the median-TPS run is reported).
    #[arg(long, default_value_t = 1)]
    pub rounds: u32,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// `--consistency`: the proxy's read consistency levels (DESIGN §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Consistency {
    /// Reads on primaries.
    Strong,
    /// Read-your-writes.
    Session,
    /// Replicas within the staleness bound.
    Bounded,
    /// Any healthy replica.
    Eventual,
}

impl Consistency {
    /// The setting's value.
    pub fn as_str(self) -> &'static str {
        match self {
            Consistency::Strong => "strong",
            Consistency::Session => "session",
            Consistency::Bounded => "bounded",
            Consistency::Eventual => "eventual",
        }
    }
}

/// A target with the name reports use for it.
#[derive(Clone, Debug)]
pub struct NamedTarget {
    /// `--compare` name, or `host:port` for `--url`.
    pub name: String,
    /// Where.
    pub target: Target,
}

/// Checked settings of a run or comparison.
#[derive(Clone, Debug)]
pub struct Settings {
    /// One target (`--url`) or several (`--compare`).
    pub targets: Vec<NamedTarget>,
    /// Whether this is a comparison.
    pub compare: bool,
    /// The transaction.
    pub workload: Workload,
    /// Statement protocol.
    pub mode: Mode,
    /// Connections.
    pub clients: usize,
    /// Unmeasured lead-in.
    pub warmup: Duration,
    /// Measured time.
    pub duration: Option<Duration>,
    /// Measured transactions.
    pub transactions: Option<u64>,
    /// Open-loop rate.
    pub rate: Option<f64>,
    /// Per-transaction timeout.
    pub txn_timeout: Duration,
    /// Read consistency to set.
    pub consistency: Option<Consistency>,
    /// Load the tables first.
    pub setup: bool,
    /// `--scale` as given.
    pub scale: Option<u64>,
    /// JSON report path.
    pub json: Option<PathBuf>,
    /// HTML report path.
    pub html: Option<PathBuf>,
    /// Comparison rounds.
    pub rounds: u32,
    /// No progress bar.
    pub quiet: bool,
}

/// What the command line asks for.
#[derive(Clone, Debug)]
pub enum Command {
    /// `--print-tables`: the stanzas of one workload, or of all without `--workload`.
    PrintTables(Option<Workload>),
    /// A run or a comparison.
    Run(Box<Settings>),
}

impl Args {
    /// Checks the combination of arguments.
    pub fn into_command(self) -> Result<Command, String> {
        if self.print_tables {
            return Ok(Command::PrintTables(self.workload));
        }
        let workload = self.workload.ok_or("--workload is required")?;
        let targets = self.targets()?;
        if self.mode == Mode::Extended {
            if let Some(t) = targets.iter().find(|t| t.target.engine == Engine::Mysql) {
                return Err(format!(
                    "--mode extended is PostgreSQL's extended protocol; {} is mysql:// \
                     (use simple or prepared)",
                    t.name
                ));
            }
        }
        if self.clients == 0 {
            return Err("--clients must be at least 1".into());
        }
        if self.duration.is_some_and(|d| d.is_zero()) {
            return Err("--duration must be longer than 0".into());
        }
        if self.transactions == Some(0) {
            return Err("--transactions must be at least 1".into());
        }
        if let Some(rate) = self.rate {
            check_rate(rate)?;
        }
        if self.txn_timeout.is_zero() {
            return Err("--txn-timeout must be longer than 0".into());
        }
        if self.scale == Some(0) {
            return Err("--scale must be at least 1".into());
        }
        if self.rounds == 0 {
            return Err("--rounds must be at least 1".into());
        }
        if self.rounds > 1 && self.compare.is_empty() {
            return Err("--rounds applies to --compare".into());
        }
        let duration = match (self.duration, self.transactions) {
            (None, None) => Some(DEFAULT_DURATION),
            (duration, _) => duration,
        };
        Ok(Command::Run(Box::new(Settings {
            compare: !self.compare.is_empty(),
            targets,
            workload,
            mode: self.mode,
            clients: self.clients,
            warmup: self.warmup,
            duration,
            transactions: self.transactions,
            rate: self.rate,
            txn_timeout: self.txn_timeout,
            consistency: self.consistency,
            setup: self.setup,
            scale: self.scale,
            json: self.json,
            html: self.html,
            rounds: self.rounds,
            quiet: self.quiet,
        })))
    }

    fn targets(&self) -> Result<Vec<NamedTarget>, String> {
        if let Some(url) = &self.url {
            let target = Target::parse(url)?;
            return Ok(vec![NamedTarget {
                name: target.host_port(),
                target,
            }]);
        }
        if self.compare.is_empty() {
            return Err("give --url or --compare NAME=URL …".into());
        }
        let mut targets: Vec<NamedTarget> = Vec::new();
        for entry in &self.compare {
            // The name may not hold ':' or '/', so an '=' inside a URL's password is
            // never taken for the separator; errors show the entry redacted.
            let (name, url) = entry
                .split_once('=')
                .filter(|(name, _)| !name.contains([':', '/']))
                .ok_or_else(|| {
                    format!(
                        "--compare takes NAME=URL with a NAME without ':' or '/', not {}",
                        crate::target::redact(entry)
                    )
                })?;
            if name.is_empty() || targets.iter().any(|t| t.name == name) {
                return Err(format!(
                    "--compare names must be unique and non-empty: {name:?}"
                ));
            }
            targets.push(NamedTarget {
                name: name.to_string(),
                target: Target::parse(url)?,
            });
        }
        Ok(targets)
    }
}

/// The lowest `--rate`: below it the schedule's due times overflow a `Duration`.
pub const MIN_RATE: f64 = 0.001;

/// `--rate` must be a finite number of at least [`MIN_RATE`] per second.
fn check_rate(rate: f64) -> Result<(), String> {
    if rate.is_finite() && rate >= MIN_RATE {
        Ok(())
    } else {
        Err(format!(
            "--rate must be a finite number of transactions per second, at least {MIN_RATE}, \
             not {rate}"
        ))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const URL: &str = "postgres://app:app@127.0.0.1:6432/app";

    fn command(args: &[&str]) -> Result<Command, String> {
        let mut all = vec!["shardwire-bench"];
        all.extend_from_slice(args);
        Args::try_parse_from(all)
            .map_err(|e| e.to_string())?
            .into_command()
    }

    fn settings(args: &[&str]) -> Settings {
        match command(args).unwrap() {
            Command::Run(s) => *s,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_design_example_parses() {
        let s = settings(&[
            "--url",
            URL,
            "--workload",
            "tpcb",
            "--clients",
            "16",
            "--duration",
            "30s",
            "--consistency",
            "session",
            "--json",
            "out.json",
            "--html",
            "r.html",
        ]);
        assert_eq!(s.workload, Workload::Tpcb);
        assert_eq!(s.duration, Some(Duration::from_secs(30)));
        assert_eq!(s.consistency, Some(Consistency::Session));
        assert_eq!(s.mode, Mode::Prepared);
        assert_eq!(s.targets[0].name, "127.0.0.1:6432");
        assert!(!s.compare);
    }

    #[test]
    fn defaults_fill_the_gaps() {
        let s = settings(&["--url", URL, "--workload", "point-select"]);
        assert_eq!(s.duration, Some(DEFAULT_DURATION));
        let s = settings(&[
            "--url",
            URL,
            "--workload",
            "fan-out",
            "--transactions",
            "100",
        ]);
        assert_eq!((s.duration, s.transactions), (None, Some(100)));
    }

    #[test]
    fn compare_names_its_targets() {
        let s = settings(&[
            "--workload",
            "point-select",
            "--compare",
            &format!("proxy={URL}"),
            "direct=postgres://postgres@127.0.0.1:5432/app",
            "--rounds",
            "3",
        ]);
        let names: Vec<&str> = s.targets.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["proxy", "direct"]);
        assert_eq!(s.rounds, 3);
        assert!(s.compare);
    }

    #[test]
    fn contradictions_are_refused() {
        for (args, needle) in [
            (vec!["--workload", "tpcb"], "--url"),
            (vec!["--url", URL], "--workload"),
            (
                vec!["--url", URL, "--workload", "tpcb", "--compare", "a=x"],
                "cannot be used",
            ),
            (
                vec!["--url", URL, "--workload", "tpcb", "--clients", "0"],
                "--clients",
            ),
            (
                vec!["--url", URL, "--workload", "tpcb", "--rate", "0"],
                "--rate",
            ),
            (
                vec!["--url", URL, "--workload", "tpcb", "--duration", "5x"],
                "unit",
            ),
            (
                vec!["--url", URL, "--workload", "tpcb", "--rounds", "2"],
                "--rounds",
            ),
            (
                vec![
                    "--url",
                    "mysql://a@h/d",
                    "--workload",
                    "tpcb",
                    "--mode",
                    "extended",
                ],
                "extended",
            ),
            (
                vec![
                    "--workload",
                    "tpcb",
                    "--compare",
                    "a=postgres://u@h/d",
                    "a=postgres://u@h/e",
                ],
                "unique",
            ),
            (
                vec!["--workload", "tpcb", "--compare", "postgres://u:pw@h/d"],
                "NAME=URL",
            ),
        ] {
            let err = command(&args).unwrap_err();
            assert!(err.contains(needle), "{args:?}: {err}");
            assert!(!err.contains(":pw@"), "{err}");
        }
    }

    #[test]
    fn rates_must_be_finite_and_not_tiny() {
        for rate in ["1e-20", "0.0009", "0", "NaN", "inf"] {
            let err = command(&["--url", URL, "--workload", "tpcb", "--rate", rate]).unwrap_err();
            assert!(
                err.contains("--rate") && err.contains("0.001"),
                "{rate}: {err}"
            );
        }
        for rate in ["0.001", "1", "25000.5"] {
            let s = settings(&["--url", URL, "--workload", "tpcb", "--rate", rate]);
            assert_eq!(s.rate, Some(rate.parse().unwrap()));
        }
        assert!(check_rate(MIN_RATE).is_ok());
        assert!(check_rate(f64::MIN_POSITIVE).is_err());
        assert!(check_rate(f64::INFINITY).is_err());
    }

    #[test]
    fn txn_timeout_defaults_to_30s() {
        let s = settings(&["--url", URL, "--workload", "tpcb"]);
        assert_eq!(s.txn_timeout, Duration::from_secs(30));
        let s = settings(&["--url", URL, "--workload", "tpcb", "--txn-timeout", "2s"]);
        assert_eq!(s.txn_timeout, Duration::from_secs(2));
        let err = command(&["--url", URL, "--workload", "tpcb", "--txn-timeout", "0s"]);
        assert!(err.unwrap_err().contains("--txn-timeout"));
    }

    #[test]
    fn compare_entries_never_show_a_password() {
        for (entry, secret) in [
            ("postgres://u:p=w@h/d", "p=w"),
            ("postgres://u:s3cr=t/x@h/d", "s3cr"),
            ("a:b=postgres://u:pw@h/d", "pw"),
            ("a/b=postgres://u:pw@h/d", "pw"),
            ("postgres://u:pw@h/d", "pw"),
            ("x=postgres://u:pa/ss@h:bad/d", "pa/ss"),
            ("x=postgres://u:p=ss@h:bad/d", "p=ss"),
        ] {
            let err = command(&["--workload", "tpcb", "--compare", entry]).unwrap_err();
            assert!(!err.contains(secret), "{entry}: {err}");
            assert!(err.contains("***"), "{entry}: {err}");
        }
        let s = settings(&["--workload", "tpcb", "--compare", "a=postgres://u:p=w@h/d"]);
        assert_eq!(s.targets[0].name, "a");
        assert_eq!(s.targets[0].target.password.as_deref(), Some("p=w"));
    }

    #[test]
    fn print_tables_needs_no_target() {
        assert!(matches!(
            command(&["--print-tables", "--workload", "tpcb"]).unwrap(),
            Command::PrintTables(Some(Workload::Tpcb))
        ));
        assert!(matches!(
            command(&["--print-tables"]).unwrap(),
            Command::PrintTables(None)
        ));
    }
}
