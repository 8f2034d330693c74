//! Line charts as inline SVG, written by hand: axes with "nice" ticks (1, 2, 5 × 10ⁿ),
//! grid lines, labels, a legend, one polyline per series. No scripts, no external
//! assets, so the HTML report opens anywhere and can be archived as one file.

use std::fmt::Write;

use super::escape;

/// Series colours, in order (distinguishable, also in grey print).
pub const PALETTE: &[&str] = &[
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
];

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 340.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 34.0;
const BOTTOM: f64 = 78.0;
const TICKS: usize = 5;

/// One line of a chart.
#[derive(Clone, Debug)]
pub struct Series {
    /// Legend text.
    pub name: String,
    /// Stroke colour.
    pub color: &'static str,
    /// Dashed stroke (e.g. p99 beside a solid p50).
    pub dashed: bool,
    /// (x, y) in data units.
    pub points: Vec<(f64, f64)>,
}

/// A chart: title, axis labels and series sharing the axes.
#[derive(Clone, Debug)]
pub struct Chart {
    /// Above the plot.
    pub title: String,
    /// Under the x axis.
    pub x_label: String,
    /// Beside the y axis.
    pub y_label: String,
    /// The lines.
    pub series: Vec<Series>,
}

/// A linear map from a data interval onto a pixel interval (reversed for y, where
/// pixels grow downwards).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scale {
    d0: f64,
    d1: f64,
    r0: f64,
    r1: f64,
}

impl Scale {
    /// Maps `d0..d1` onto `r0..r1`; an empty data interval maps to `r0`.
    pub fn new(d0: f64, d1: f64, r0: f64, r1: f64) -> Scale {
        Scale { d0, d1, r0, r1 }
    }

    /// The pixel position of `value`.
    pub fn map(&self, value: f64) -> f64 {
        let span = self.d1 - self.d0;
        if span == 0.0 {
            return self.r0;
        }
        self.r0 + (value - self.d0) / span * (self.r1 - self.r0)
    }
}

/// Ticks from 0 to a round number at least `max`, about `target` steps of 1, 2 or 5
/// times a power of ten. A non-positive `max` gives the ticks of 0..1.
pub fn nice_ticks(max: f64, target: usize) -> Vec<f64> {
    let max = if max.is_finite() && max > 0.0 {
        max
    } else {
        1.0
    };
    let step = nice_step(max / target.max(1) as f64);
    let steps = (max / step - 1e-9).ceil().max(1.0) as usize;
    (0..=steps).map(|i| i as f64 * step).collect()
}

fn nice_step(raw: f64) -> f64 {
    let magnitude = 10f64.powf(raw.log10().floor());
    let normalized = raw / magnitude;
    let nice = if normalized <= 1.0 {
        1.0
    } else if normalized <= 2.0 {
        2.0
    } else if normalized <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * magnitude
}

/// A tick label with as many decimals as the step needs.
fn tick_label(value: f64, step: f64) -> String {
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10()).ceil() as usize
    };
    format!("{value:.decimals$}")
}

/// The chart as an `<svg>` element.
pub fn render(chart: &Chart) -> String {
    let points = chart.series.iter().flat_map(|s| s.points.iter());
    let (max_x, max_y) = points.fold((0.0_f64, 0.0_f64), |(mx, my), (x, y)| {
        (mx.max(*x), my.max(*y))
    });
    let x_ticks = nice_ticks(max_x, TICKS);
    let y_ticks = nice_ticks(max_y, TICKS);
    let x_top = x_ticks.last().copied().unwrap_or(1.0);
    let y_top = y_ticks.last().copied().unwrap_or(1.0);
    let x = Scale::new(0.0, x_top, LEFT, WIDTH - RIGHT);
    let y = Scale::new(0.0, y_top, HEIGHT - BOTTOM, TOP);

    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" \
         viewBox=\"0 0 {WIDTH} {HEIGHT}\" font-family=\"sans-serif\" font-size=\"12\" \
         role=\"img\" aria-label=\"{}\">",
        escape(&chart.title)
    );
    let _ = write!(
        svg,
        "<text x=\"{LEFT}\" y=\"20\" font-size=\"14\" font-weight=\"bold\">{}</text>",
        escape(&chart.title)
    );
    axes(&mut svg, chart, &x, &y, &x_ticks, &y_ticks);
    for series in &chart.series {
        line(&mut svg, series, &x, &y);
    }
    legend(&mut svg, &chart.series);
    svg.push_str("</svg>");
    svg
}

fn axes(svg: &mut String, chart: &Chart, x: &Scale, y: &Scale, xt: &[f64], yt: &[f64]) {
    let (bottom, right) = (HEIGHT - BOTTOM, WIDTH - RIGHT);
    let y_step = yt.get(1).copied().unwrap_or(1.0);
    for &v in yt {
        let py = y.map(v);
        let _ = write!(
            svg,
            "<line x1=\"{LEFT}\" y1=\"{py:.1}\" x2=\"{right}\" y2=\"{py:.1}\" stroke=\"#e4e4e4\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            LEFT - 6.0,
            py + 4.0,
            tick_label(v, y_step)
        );
    }
    let x_step = xt.get(1).copied().unwrap_or(1.0);
    for &v in xt {
        let px = x.map(v);
        let _ = write!(
            svg,
            "<line x1=\"{px:.1}\" y1=\"{bottom}\" x2=\"{px:.1}\" y2=\"{:.1}\" stroke=\"#333\"/>\
             <text x=\"{px:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            bottom + 5.0,
            bottom + 18.0,
            tick_label(v, x_step)
        );
    }
    let _ = write!(
        svg,
        "<line x1=\"{LEFT}\" y1=\"{bottom}\" x2=\"{right}\" y2=\"{bottom}\" stroke=\"#333\"/>\
         <line x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{LEFT}\" y2=\"{bottom}\" stroke=\"#333\"/>\
         <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>\
         <text transform=\"translate(16 {:.1}) rotate(-90)\" text-anchor=\"middle\">{}</text>",
        (LEFT + right) / 2.0,
        bottom + 36.0,
        escape(&chart.x_label),
        (TOP + bottom) / 2.0,
        escape(&chart.y_label)
    );
}

fn line(svg: &mut String, series: &Series, x: &Scale, y: &Scale) {
    let dash = if series.dashed {
        " stroke-dasharray=\"6 4\""
    } else {
        ""
    };
    if let [(px, py)] = series.points.as_slice() {
        let _ = write!(
            svg,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{}\"/>",
            x.map(*px),
            y.map(*py),
            series.color
        );
        return;
    }
    let coords: Vec<String> = series
        .points
        .iter()
        .map(|(px, py)| format!("{:.1},{:.1}", x.map(*px), y.map(*py)))
        .collect();
    let _ = write!(
        svg,
        "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\"{dash} points=\"{}\"><title>{}</title></polyline>",
        series.color,
        coords.join(" "),
        escape(&series.name)
    );
}

fn legend(svg: &mut String, series: &[Series]) {
    let mut px = LEFT;
    let py = HEIGHT - 14.0;
    for s in series {
        let dash = if s.dashed {
            " stroke-dasharray=\"6 4\""
        } else {
            ""
        };
        let _ = write!(
            svg,
            "<line x1=\"{px:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{}\" stroke-width=\"2\"{dash}/>\
             <text x=\"{:.1}\" y=\"{py:.1}\">{}</text>",
            py - 4.0,
            px + 24.0,
            py - 4.0,
            s.color,
            px + 30.0,
            escape(&s.name)
        );
        // Rough text width: the legend is one row, wide enough for a few runs.
        px += 46.0 + 7.0 * s.name.chars().count() as f64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_maximum() {
        assert_eq!(
            nice_ticks(97.0, 5),
            vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
        );
        assert_eq!(
            nice_ticks(100.0, 5),
            vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
        );
        assert_eq!(nice_ticks(4.0, 5), vec![0.0, 1.0, 2.0, 3.0, 4.0]);
        let small = nice_ticks(0.37, 5);
        assert_eq!(small.len(), 5);
        assert!((small[4] - 0.4).abs() < 1e-12);
        assert_eq!(nice_ticks(0.0, 5), nice_ticks(1.0, 5));
        for max in [0.003, 1.5, 7.0, 13.0, 12_345.0, 987_654.0] {
            let ticks = nice_ticks(max, 5);
            assert!(*ticks.last().unwrap_or(&0.0) >= max, "{max}: {ticks:?}");
            assert!((3..=11).contains(&ticks.len()), "{max}: {ticks:?}");
        }
    }

    #[test]
    fn labels_show_the_decimals_the_step_needs() {
        assert_eq!(tick_label(40.0, 20.0), "40");
        assert_eq!(tick_label(0.30000000000000004, 0.1), "0.3");
        assert_eq!(tick_label(0.05, 0.05), "0.05");
    }

    #[test]
    fn scales_map_data_onto_pixels() {
        let x = Scale::new(0.0, 10.0, 70.0, 740.0);
        assert_eq!(x.map(0.0), 70.0);
        assert_eq!(x.map(10.0), 740.0);
        assert_eq!(x.map(5.0), 405.0);
        // y grows downwards: the top of the data range is the top of the plot.
        let y = Scale::new(0.0, 100.0, 262.0, 34.0);
        assert_eq!(y.map(0.0), 262.0);
        assert_eq!(y.map(100.0), 34.0);
        assert_eq!(Scale::new(3.0, 3.0, 1.0, 2.0).map(3.0), 1.0);
    }

    #[test]
    fn a_chart_has_a_line_per_series_and_escaped_text() {
        let chart = Chart {
            title: "TPS <per second>".into(),
            x_label: "s".into(),
            y_label: "tps".into(),
            series: vec![
                Series {
                    name: "a&b".into(),
                    color: PALETTE[0],
                    dashed: false,
                    points: vec![(0.0, 10.0), (1.0, 20.0), (2.0, 15.0)],
                },
                Series {
                    name: "one".into(),
                    color: PALETTE[1],
                    dashed: true,
                    points: vec![(0.0, 5.0)],
                },
            ],
        };
        let svg = render(&chart);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<polyline").count(), 1);
        assert_eq!(svg.matches("<circle").count(), 1);
        assert!(svg.contains("TPS &lt;per second&gt;") && svg.contains("a&amp;b"));
        assert!(!svg.contains("a&b"));
        // The highest point (20) sits on the top tick's line (y = TOP).
        assert!(svg.contains(&format!(",{TOP:.1}")), "{svg}");
    }
}
