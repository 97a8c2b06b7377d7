//! Progress of long commands (`import`, `export -o`, `migrate`, `rollup
//! rebuild`) on a terminal: how far, how fast, how long still. One line on
//! stderr, redrawn at most a few times a second; nothing at all when stderr
//! is not a terminal (a pipe, a log) or with `--json`, so scripts see only
//! the commands' own output.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Redraws per second at most.
const EVERY: Duration = Duration::from_millis(200);

pub struct Progress {
    enabled: bool,
    /// What is being counted now, and since when (rates are per step).
    step: String,
    since: Instant,
    drawn: Option<Instant>,
}

impl Progress {
    /// Shown only on a terminal and without `--json`.
    pub fn new(json: bool) -> Progress {
        Progress::to_terminal(!json && std::io::stderr().is_terminal())
    }

    pub fn to_terminal(enabled: bool) -> Progress {
        Progress {
            enabled,
            step: String::new(),
            since: Instant::now(),
            drawn: None,
        }
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// `done` of `total` (when known) `unit`s of `step`.
    pub fn show(&mut self, step: &str, done: u64, total: Option<u64>, unit: &str) {
        if !self.enabled {
            return;
        }
        if step != self.step {
            self.step = step.to_owned();
            self.since = Instant::now();
            self.drawn = None;
        }
        let finished = total.is_some_and(|t| done >= t);
        if self.drawn.is_some_and(|at| at.elapsed() < EVERY) && !finished {
            return;
        }
        self.drawn = Some(Instant::now());
        let line = describe(step, done, total, unit, self.since.elapsed());
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r{line}\x1b[K");
        let _ = err.flush();
    }

    /// Ends the line, so what follows starts on its own.
    pub fn finish(&mut self) {
        if self.enabled && self.drawn.is_some() {
            eprintln!();
            self.drawn = None;
            self.step.clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// `events: 1.2 M of 3.0 M rows, 410 k rows/s, 4 s left`.
pub fn describe(
    step: &str,
    done: u64,
    total: Option<u64>,
    unit: &str,
    elapsed: Duration,
) -> String {
    let secs = elapsed.as_secs_f64();
    let rate = if secs > 0.0 { done as f64 / secs } else { 0.0 };
    let mut line = format!("{step}: {}", amount(done as f64));
    if let Some(total) = total {
        line.push_str(&format!(" of {}", amount(total as f64)));
    }
    line.push_str(&format!(" {unit}"));
    if secs >= 0.5 && rate > 0.0 {
        line.push_str(&format!(", {} {unit}/s", amount(rate)));
        if let Some(total) = total
            && total > done
        {
            let left = (total - done) as f64 / rate;
            line.push_str(&format!(", {} left", duration(left)));
        }
    }
    line
}

fn amount(v: f64) -> String {
    if v >= 1e9 {
        format!("{:.1} G", v / 1e9)
    } else if v >= 1e6 {
        format!("{:.1} M", v / 1e6)
    } else if v >= 1e4 {
        format!("{:.0} k", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}

fn duration(secs: f64) -> String {
    let s = secs.ceil() as u64;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, s % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_says_how_far_how_fast_and_how_long_still() {
        let line = describe(
            "events",
            1_200_000,
            Some(3_000_000),
            "rows",
            Duration::from_secs(3),
        );
        assert_eq!(line, "events: 1.2 M of 3.0 M rows, 400 k rows/s, 5 s left");
        assert_eq!(
            describe("export", 500, None, "rows", Duration::from_millis(100)),
            "export: 500 rows"
        );
        assert_eq!(
            describe("import", 10, Some(10_000), "lines", Duration::from_secs(1)),
            "import: 10 of 10 k lines, 10 lines/s, 16 min 39 s left"
        );
    }

    #[test]
    fn nothing_is_drawn_off_a_terminal() {
        let mut p = Progress::to_terminal(false);
        p.show("x", 1, Some(2), "rows");
        assert!(p.drawn.is_none());
    }
}
