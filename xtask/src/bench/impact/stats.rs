//! Medians and ranges over a cell's runs, and how the tables print them.

use super::Sample;

fn median(mut v: Vec<f64>) -> f64 {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        f64::midpoint(v[n / 2 - 1], v[n / 2])
    }
}

/// A metric over the runs: median, min and max.
#[derive(Clone, Copy)]
pub struct Stat {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

pub fn stat(samples: &[Sample], f: impl Fn(&Sample) -> Option<f64>) -> Stat {
    let v: Vec<f64> = samples.iter().filter_map(&f).collect();
    Stat {
        median: median(v.clone()),
        min: v.iter().copied().fold(f64::NAN, f64::min),
        max: v.iter().copied().fold(f64::NAN, f64::max),
    }
}

/// `124 (118–130)` with `digits` decimals; `—` when nothing was measured.
pub fn cell(s: Stat, digits: usize) -> String {
    // `+ 0.0` turns an empty sum's −0 into 0.
    let s = Stat {
        median: s.median + 0.0,
        min: s.min + 0.0,
        max: s.max + 0.0,
    };
    if s.median.is_nan() {
        return "—".into();
    }
    if (s.max - s.min).abs() < 0.5 * 10f64.powi(-(digits as i32)) {
        return format!("{:.digits$}", s.median);
    }
    format!(
        "{:.digits$} ({:.digits$}–{:.digits$})",
        s.median, s.min, s.max
    )
}

pub fn diff(with: Stat, without: Stat, digits: usize) -> String {
    let d = with.median - without.median + 0.0;
    if d.is_nan() {
        return "—".into();
    }
    let s = format!("{:+.digits$}", d);
    s.replace('-', "−")
}

/// `1 run`, `3 runs`.
pub fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}
