//! The progress bar: elapsed time, phase and live throughput on stderr.
//!
//! It runs on a thread of its own, reading the runner's atomic counters, so terminal
//! writes never block a runtime worker; it is not shown when stderr is not a terminal
//! or with `--quiet`.

use std::collections::VecDeque;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::runner::Live;

const TICK: Duration = Duration::from_millis(200);
/// Live TPS is averaged over this window.
const WINDOW: Duration = Duration::from_secs(1);

/// What the bar shows.
#[derive(Clone, Debug)]
pub struct ProgressPlan {
    /// Shown before the bar (the run's name).
    pub label: String,
    /// Unmeasured lead-in.
    pub warmup: Duration,
    /// Measured time, if the run is timed.
    pub duration: Option<Duration>,
    /// Measured transactions, if the run is counted.
    pub transactions: Option<u64>,
}

/// A running progress display; [`Progress::finish`] removes it.
pub struct Progress {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts the display unless `quiet` or stderr is not a terminal.
    pub fn start(plan: ProgressPlan, live: Arc<Live>, quiet: bool) -> Progress {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let stop = stop.clone();
            std::thread::spawn(move || draw_until(&plan, &live, &stop))
        });
        Progress { stop, thread }
    }

    /// Stops and clears the display.
    pub fn finish(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn draw_until(plan: &ProgressPlan, live: &Live, stop: &AtomicBool) {
    let timed = plan.duration.map(|d| (plan.warmup + d).as_millis() as u64);
    let length = timed.or(plan.transactions);
    let bar = ProgressBar::with_draw_target(length, ProgressDrawTarget::stderr());
    let template = "{prefix} [{elapsed_precise}] {wide_bar} {msg}";
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(plan.label.clone());
    let started = Instant::now();
    let mut window: VecDeque<(Instant, u64)> = VecDeque::new();
    let mut measured_base = None;
    while !stop.load(Ordering::Relaxed) {
        let now = Instant::now();
        let elapsed = now - started;
        let done = live.done.load(Ordering::Relaxed);
        let failed = live.failed.load(Ordering::Relaxed);
        window.push_back((now, done));
        while window.len() > 2 && window.front().is_some_and(|(t, _)| now - *t > WINDOW) {
            window.pop_front();
        }
        let tps = window.front().map_or(0.0, |(t, d)| {
            let secs = (now - *t).as_secs_f64();
            if secs > 0.0 {
                (done - d) as f64 / secs
            } else {
                0.0
            }
        });
        let warming = elapsed < plan.warmup;
        if !warming && measured_base.is_none() {
            measured_base = Some(done + failed);
        }
        let position = match timed {
            Some(_) => elapsed.as_millis() as u64,
            None => (done + failed) - measured_base.unwrap_or(done + failed),
        };
        bar.set_position(position);
        let phase = if warming { "warmup" } else { "run" };
        bar.set_message(format!("{phase}: {tps:.0} tps, {failed} errors"));
        std::thread::sleep(TICK);
    }
    bar.finish_and_clear();
}
