//! The `--json` report, and the two facts about the machine and the clock it records.

use std::time::{SystemTime, UNIX_EPOCH};

use super::{Machine, Report};

/// The report as pretty-printed JSON.
pub fn render(report: &Report) -> String {
    // Plain data with string keys: serialization cannot fail.
    serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// CPUs and operating system of this machine.
pub fn machine() -> Machine {
    Machine {
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        os: format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
    }
}

/// `time` as RFC 3339 in UTC with whole seconds (`2026-11-26T09:05:00Z`). Written out
/// because a date library for one timestamp is a poor trade.
pub fn rfc3339(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = (secs / 86_400) as i64;
    let rest = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day), by 400-year eras
/// whose years start in March, so the leap day is the last day of a year.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468; // days from 0000-03-01
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::time::Duration;

    use super::*;
    use crate::report::{Ratio, RunReport};
    use crate::stats::Latency;

    fn at(secs: u64) -> String {
        rfc3339(UNIX_EPOCH + Duration::from_secs(secs))
    }

    #[test]
    fn timestamps_match_known_dates() {
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(951_868_799), "2000-02-29T23:59:59Z");
        assert_eq!(at(1_709_251_199), "2024-02-29T23:59:59Z");
        assert_eq!(at(1_796_083_200), "2026-12-01T00:00:00Z");
        assert_eq!(at(4_102_444_800), "2100-01-01T00:00:00Z");
    }

    fn run(name: &str) -> RunReport {
        RunReport {
            name: name.into(),
            url: "postgres://app:***@127.0.0.1:6432/app".into(),
            workload: "transfer",
            mode: "prepared",
            clients: 4,
            rate: None,
            consistency: None,
            duration_s: 5.0,
            transactions: 100,
            errors: 0,
            errors_by_code: Default::default(),
            tps: 20.0,
            latency_ms: Latency::default(),
            late: None,
            unissued: None,
            timeline: vec![],
            invariant: None,
            round: 1,
            rounds_tps: vec![20.0],
            rounds_invariant: vec![None],
            clients_lost: 0,
        }
    }

    #[test]
    fn the_json_has_the_contract_shape() {
        let report = Report {
            tool: "shardwire-bench",
            version: "0.1.0",
            started_at: at(0),
            machine: machine(),
            runs: vec![run("a")],
            comparison: None,
        };
        let v: serde_json::Value = serde_json::from_str(&render(&report)).unwrap();
        for key in ["tool", "version", "started_at", "machine", "runs"] {
            assert!(v.get(key).is_some(), "{key}");
        }
        assert!(v.get("comparison").is_none());
        assert!(v["machine"]["cpus"].as_u64().unwrap() >= 1);
        let r = &v["runs"][0];
        for key in [
            "name",
            "url",
            "workload",
            "mode",
            "clients",
            "rate",
            "consistency",
            "duration_s",
            "transactions",
            "errors",
            "errors_by_code",
            "tps",
            "latency_ms",
            "late",
            "unissued",
            "timeline",
            "invariant",
            "clients_lost",
            "rounds_invariant",
        ] {
            assert!(r.get(key).is_some(), "runs[0].{key}");
        }
        for key in ["p50", "p95", "p99", "p999", "max", "mean"] {
            assert!(r["latency_ms"][key].is_f64(), "latency_ms.{key}");
        }
        assert!(r["invariant"].is_null() && r["rate"].is_null() && r["late"].is_null());

        let compared = Report {
            comparison: Some(vec![Ratio {
                name: "a".into(),
                tps_ratio: 1.0,
                p99_ratio: 1.0,
            }]),
            ..report
        };
        let v: serde_json::Value = serde_json::from_str(&render(&compared)).unwrap();
        assert_eq!(v["comparison"][0]["tps_ratio"], 1.0);
    }
}
