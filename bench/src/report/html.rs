//! The `--html` report: one self-contained page (inline CSS and SVG, no scripts) with
//! the summary table, the comparison, errors, and throughput and latency per second
//! with one line per run.

use std::fmt::Write;

use super::svg::{self, Chart, Series, PALETTE};
use super::{escape, Report, RunReport};

const STYLE: &str = "body{font-family:sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse;margin:1em 0}\
th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}\
th{background:#f3f3f3}td.l,th.l{text-align:left}\
.bad{color:#b00;font-weight:bold}.ok{color:#070}\
figure{margin:1.5em 0}";

/// The page.
pub fn render(report: &Report) -> String {
    let mut page = String::new();
    let title = match report.runs.first() {
        Some(run) => format!("shardwire-bench: {}", run.workload),
        None => "shardwire-bench".to_string(),
    };
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{}</title><style>{STYLE}</style></head><body>\n<h1>{}</h1>\n\
         <p>{} {} · started {} · {} CPUs, {}</p>\n",
        escape(&title),
        escape(&title),
        report.tool,
        report.version,
        escape(&report.started_at),
        report.machine.cpus,
        escape(&report.machine.os)
    );
    summary(&mut page, &report.runs);
    if let Some(ratios) = &report.comparison {
        page.push_str(
            "<h2>Comparison (against the first target)</h2>\n<table><tr>\
             <th class=\"l\">target</th><th>TPS ratio</th><th>p99 ratio</th></tr>\n",
        );
        for r in ratios {
            let _ = writeln!(
                page,
                "<tr><td class=\"l\">{}</td><td>{:.3}</td><td>{:.3}</td></tr>",
                escape(&r.name),
                r.tps_ratio,
                r.p99_ratio
            );
        }
        page.push_str("</table>\n");
    }
    errors(&mut page, &report.runs);
    let _ = write!(
        page,
        "<h2>Over time</h2>\n<figure>{}</figure>\n<figure>{}</figure>\n</body></html>\n",
        svg::render(&throughput_chart(&report.runs)),
        svg::render(&latency_chart(&report.runs))
    );
    page
}

fn summary(page: &mut String, runs: &[RunReport]) {
    page.push_str(
        "<h2>Summary</h2>\n<table><tr><th class=\"l\">target</th><th class=\"l\">URL</th>\
         <th class=\"l\">workload</th><th class=\"l\">mode</th><th>clients</th><th>rate</th>\
         <th>seconds</th><th>transactions</th><th>errors</th><th>TPS</th><th>p50 ms</th>\
         <th>p95 ms</th><th>p99 ms</th><th>p99.9 ms</th><th>max ms</th><th>late</th><th>unissued</th>\
         <th class=\"l\">invariant</th></tr>\n",
    );
    for run in runs {
        let l = &run.latency_ms;
        let invariant = match &run.invariant {
            None => "–".to_string(),
            Some(i) => format!(
                "<span class=\"{}\">{}</span> {}",
                if i.intact { "ok" } else { "bad" },
                if i.intact { "intact" } else { "BROKEN" },
                escape(&i.detail)
            ),
        };
        let optional = |v: Option<String>| v.unwrap_or_else(|| "–".into());
        let _ = writeln!(
            page,
            "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td>\
             <td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{:.1}</td><td>{}</td><td>{}</td>\
             <td>{:.1}</td><td>{:.3}</td><td>{:.3}</td><td>{:.3}</td><td>{:.3}</td>\
             <td>{:.3}</td><td>{}</td><td>{}</td><td class=\"l\">{invariant}</td></tr>",
            escape(&run.name),
            escape(&run.url),
            run.workload,
            run.mode,
            run.clients,
            optional(run.rate.map(|r| format!("{r}/s"))),
            run.duration_s,
            run.transactions,
            run.errors,
            run.tps,
            l.p50,
            l.p95,
            l.p99,
            l.p999,
            l.max,
            optional(run.late.map(|n| n.to_string())),
            optional(run.unissued.map(|n| n.to_string())),
        );
    }
    page.push_str("</table>\n");
}

fn errors(page: &mut String, runs: &[RunReport]) {
    if runs.iter().all(|r| r.errors_by_code.is_empty()) {
        return;
    }
    page.push_str(
        "<h2>Errors</h2>\n<table><tr><th class=\"l\">target</th><th class=\"l\">code</th>\
         <th>count</th><th class=\"l\">sample messages</th></tr>\n",
    );
    for run in runs {
        for (code, e) in &run.errors_by_code {
            let samples: Vec<String> = e.samples.iter().map(|s| escape(s)).collect();
            let _ = writeln!(
                page,
                "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{}</td>\
                 <td class=\"l\">{}</td></tr>",
                escape(&run.name),
                escape(code),
                e.count,
                samples.join("<br>")
            );
        }
    }
    page.push_str("</table>\n");
}

fn color(i: usize) -> &'static str {
    PALETTE[i % PALETTE.len()]
}

/// Throughput per second, one line per run.
pub fn throughput_chart(runs: &[RunReport]) -> Chart {
    Chart {
        title: "Throughput per second".into(),
        x_label: "seconds since measurement began".into(),
        y_label: "transactions / s".into(),
        series: runs
            .iter()
            .enumerate()
            .map(|(i, run)| Series {
                name: run.name.clone(),
                color: color(i),
                dashed: false,
                points: run.timeline.iter().map(|p| (p.t as f64, p.tps)).collect(),
            })
            .collect(),
    }
}

/// p50 (solid) and p99 (dashed) latency per second, a colour per run.
pub fn latency_chart(runs: &[RunReport]) -> Chart {
    let mut series = Vec::new();
    for (i, run) in runs.iter().enumerate() {
        series.push(Series {
            name: format!("{} p50", run.name),
            color: color(i),
            dashed: false,
            points: run
                .timeline
                .iter()
                .map(|p| (p.t as f64, p.p50_ms))
                .collect(),
        });
        series.push(Series {
            name: format!("{} p99", run.name),
            color: color(i),
            dashed: true,
            points: run
                .timeline
                .iter()
                .map(|p| (p.t as f64, p.p99_ms))
                .collect(),
        });
    }
    Chart {
        title: "Latency per second (p50 solid, p99 dashed)".into(),
        x_label: "seconds since measurement began".into(),
        y_label: "ms".into(),
        series,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{json, Machine};
    use crate::stats::timeline::TimelinePoint;
    use crate::stats::Latency;

    fn run(name: &str) -> RunReport {
        RunReport {
            name: name.into(),
            url: "postgres://app:***@h:1/app".into(),
            workload: "point-select",
            mode: "prepared",
            clients: 2,
            rate: None,
            consistency: None,
            duration_s: 2.0,
            transactions: 30,
            errors: 0,
            errors_by_code: Default::default(),
            tps: 15.0,
            latency_ms: Latency::default(),
            late: None,
            unissued: None,
            timeline: (0..2)
                .map(|t| TimelinePoint {
                    t,
                    tps: 15.0,
                    p50_ms: 1.0,
                    p99_ms: 2.0,
                    errors: 0,
                })
                .collect(),
            invariant: None,
            round: 1,
            rounds_tps: vec![15.0],
            rounds_invariant: vec![None],
            clients_lost: 0,
        }
    }

    #[test]
    fn the_page_is_self_contained_with_two_charts() {
        let report = Report {
            tool: "shardwire-bench",
            version: "0.1.0",
            started_at: json::rfc3339(std::time::UNIX_EPOCH),
            machine: Machine {
                cpus: 2,
                os: "linux x86_64".into(),
            },
            runs: vec![run("proxy"), run("<direct>")],
            comparison: None,
        };
        let page = render(&report);
        assert_eq!(page.matches("<svg").count(), 2);
        assert!(!page.contains("<script") && !page.contains("src=") && !page.contains("href="));
        assert!(page.contains("&lt;direct&gt;") && !page.contains("<direct>"));
        // Two runs: two throughput lines and four latency lines.
        assert_eq!(page.matches("<polyline").count(), 6);
    }
}
