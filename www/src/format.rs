//! Numbers and dates as the dashboard writes them: one rule per metric, so
//! a score reads the same in a cell, a sentence and a chart's label.

use touchpoint_wire::{AggregateRow, Metric};

/// A metric's name for people.
pub fn metric_name(metric: Metric) -> &'static str {
    match metric {
        Metric::Nps => "NPS",
        Metric::Csat => "CSAT",
        Metric::Ces => "Effort (CES)",
        Metric::Thumbs => "Thumbs",
        Metric::Emoji => "Mood",
        Metric::Text => "Comments",
        Metric::Choice => "Choice",
    }
}

/// What a metric measures, as the noun after a stage's name ("Checkout effort").
pub fn metric_noun(metric: Metric) -> &'static str {
    match metric {
        Metric::Nps => "NPS",
        Metric::Csat => "satisfaction",
        Metric::Ces => "effort",
        Metric::Thumbs => "thumbs-up share",
        Metric::Emoji => "mood",
        Metric::Text => "comments",
        Metric::Choice => "choices",
    }
}

/// A score in its metric's units: NPS signed whole points, shares as whole
/// percents, means with one decimal.
pub fn score(metric: Metric, value: f64) -> String {
    match metric {
        Metric::Nps => signed(value.round()),
        Metric::Csat | Metric::Thumbs => format!("{} %", value.round()),
        _ => format!("{value:.1}"),
    }
}

/// The scale after a score, where the number alone would not say it.
pub fn scale_note(metric: Metric) -> &'static str {
    match metric {
        Metric::Ces => " on 1–7",
        Metric::Emoji => " on 1–5",
        Metric::Csat => " satisfied",
        Metric::Thumbs => " thumbs up",
        _ => "",
    }
}

/// `+12`, `−35`, `0`: the sign always shown, a real minus sign.
fn signed(v: f64) -> String {
    let v = if v == 0.0 { 0.0 } else { v };
    if v > 0.0 {
        format!("+{v}")
    } else if v < 0.0 {
        format!("−{}", -v)
    } else {
        "0".to_owned()
    }
}

/// A difference between two scores in their units: NPS and shares in
/// signed whole points, means signed with one decimal.
pub fn difference(metric: Metric, delta: f64) -> String {
    match metric {
        Metric::Nps | Metric::Csat | Metric::Thumbs => {
            let d = delta.round();
            let unit = if d.abs() == 1.0 { "point" } else { "points" };
            format!("{} {unit}", signed(d))
        }
        _ => {
            let d = (delta * 10.0).round() / 10.0;
            if d > 0.0 {
                format!("+{d:.1}")
            } else if d < 0.0 {
                format!("−{:.1}", -d)
            } else {
                "0.0".to_owned()
            }
        }
    }
}

/// A 95 % interval as `low–high` in the score's units.
pub fn interval(metric: Metric, low: f64, high: f64) -> String {
    match metric {
        // `−12–+20` would read as a subtraction.
        Metric::Nps => format!("{} to {}", score(metric, low), score(metric, high)),
        _ => format!("{}–{}", score(metric, low), score(metric, high)).replace(" %–", "–"),
    }
}

/// A share 0–1 as a whole percent; `—` when there is none.
pub fn share(rate: Option<f64>) -> String {
    rate.map_or_else(|| "—".to_owned(), |r| format!("{} %", (r * 100.0).round()))
}

/// A p value as people quote it.
pub fn p_value(p: f64) -> String {
    if p < 0.001 {
        "p < 0.001".to_owned()
    } else if p < 0.01 {
        "p < 0.01".to_owned()
    } else {
        format!("p = {p:.2}")
    }
}

/// A count with thin groups of thousands: `12 345`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{202f}');
        }
        out.push(c);
    }
    out
}

/// Where a score sits on its scale, 0 (worst) to 1 (best): what the heat
/// map colours by.
pub fn position(metric: Metric, value: f64) -> Option<f64> {
    let p = match metric {
        Metric::Nps => (value + 100.0) / 200.0,
        Metric::Csat | Metric::Thumbs => value / 100.0,
        Metric::Ces => (value - 1.0) / 6.0,
        Metric::Emoji => (value - 1.0) / 4.0,
        Metric::Text | Metric::Choice => return None,
    };
    Some(p.clamp(0.0, 1.0))
}

/// The heat map's five steps, `heat-1` (worst) to `heat-5` (best).
pub fn heat(metric: Metric, value: f64) -> Option<u8> {
    let p = position(metric, value)?;
    Some(match p {
        p if p < 0.35 => 1,
        p if p < 0.55 => 2,
        p if p < 0.7 => 3,
        p if p < 0.85 => 4,
        _ => 5,
    })
}

/// An aggregate row's score and its 95 % interval, the one the journey map
/// shows for its metric: NPS, CSAT %, CES mean, thumbs-up %, emoji mean.
pub fn row_score(row: &AggregateRow) -> Option<(f64, Option<f64>, Option<f64>)> {
    match row.metric? {
        Metric::Nps => Some((row.nps?, row.nps_low, row.nps_high)),
        Metric::Csat => Some((row.csat?, row.csat_low, row.csat_high)),
        Metric::Ces => Some((row.ces?, row.ces_low, row.ces_high)),
        Metric::Thumbs => Some((row.thumbs_up?, row.thumbs_low, row.thumbs_high)),
        Metric::Emoji => Some((row.mean?, None, None)),
        Metric::Text | Metric::Choice => None,
    }
}

/// A calendar day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Day {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl Day {
    /// Days since 1970-01-01 (proleptic Gregorian).
    pub fn number(self) -> i64 {
        let (y, m) = if self.month <= 2 {
            (i64::from(self.year) - 1, i64::from(self.month) + 9)
        } else {
            (i64::from(self.year), i64::from(self.month) - 3)
        };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * m + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    pub fn from_number(n: i64) -> Day {
        let z = n + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Day {
            year: i32::try_from(year).unwrap_or(i32::MAX),
            month: u32::try_from(month).unwrap_or(1),
            day: u32::try_from(day).unwrap_or(1),
        }
    }

    pub fn plus(self, days: i64) -> Day {
        Day::from_number(self.number() + days)
    }

    /// Monday 0 … Sunday 6.
    pub fn weekday(self) -> i64 {
        (self.number() + 3).rem_euclid(7)
    }

    /// The ISO week as the API names it, `2026-W47`.
    pub fn iso_week(self) -> String {
        let thursday = self.plus(3 - self.weekday());
        let jan1 = Day {
            year: thursday.year,
            month: 1,
            day: 1,
        };
        let week = (thursday.number() - jan1.number()) / 7 + 1;
        format!("{}-W{week:02}", thursday.year)
    }
}

impl std::fmt::Display for Day {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// A stored time (RFC 3339, UTC) to the minute: `2026-12-03 09:41 UTC`.
pub fn when(ts: &str) -> String {
    format!("{} UTC", ts.get(..16).unwrap_or(ts).replace('T', " "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_to_the_minute() {
        assert_eq!(when("2026-12-03T09:41:07.123Z"), "2026-12-03 09:41 UTC");
    }

    #[test]
    fn differences_read_in_the_scores_units() {
        assert_eq!(difference(Metric::Nps, -12.4), "−12 points");
        assert_eq!(difference(Metric::Csat, 1.2), "+1 point");
        assert_eq!(difference(Metric::Ces, -0.84), "−0.8");
        assert_eq!(difference(Metric::Emoji, 0.04), "0.0");
        assert_eq!(difference(Metric::Ces, -4.0), "−4.0");
    }

    #[test]
    fn scores_read_in_their_metrics_units() {
        assert_eq!(score(Metric::Nps, 31.6), "+32");
        assert_eq!(score(Metric::Nps, -35.2), "−35");
        assert_eq!(score(Metric::Nps, -0.2), "0");
        assert_eq!(score(Metric::Csat, 81.49), "81 %");
        assert_eq!(score(Metric::Ces, 6.14), "6.1");
        assert_eq!(interval(Metric::Csat, 70.2, 88.9), "70–89 %");
        assert_eq!(interval(Metric::Nps, -12.0, 20.0), "−12 to +20");
        assert_eq!(share(Some(0.125)), "13 %");
        assert_eq!(share(None), "—");
        assert_eq!(count(1_234_567), "1\u{202f}234\u{202f}567");
        assert_eq!(count(950), "950");
        assert_eq!(p_value(0.0004), "p < 0.001");
        assert_eq!(p_value(0.004), "p < 0.01");
        assert_eq!(p_value(0.031), "p = 0.03");
    }

    #[test]
    fn a_rows_score_is_its_metrics_with_its_interval() {
        let row = AggregateRow {
            metric: Some(Metric::Ces),
            ces: Some(5.5),
            ces_low: Some(5.0),
            ces_high: Some(6.0),
            mean: Some(5.5),
            ..AggregateRow::default()
        };
        assert_eq!(row_score(&row), Some((5.5, Some(5.0), Some(6.0))));
        let nps = AggregateRow {
            metric: Some(Metric::Nps),
            nps: Some(20.0),
            ..AggregateRow::default()
        };
        assert_eq!(row_score(&nps), Some((20.0, None, None)));
        let text = AggregateRow {
            metric: Some(Metric::Text),
            ..AggregateRow::default()
        };
        assert_eq!(row_score(&text), None);
    }

    #[test]
    fn the_heat_map_colours_by_the_place_on_the_scale() {
        assert_eq!(heat(Metric::Nps, -100.0), Some(1));
        assert_eq!(heat(Metric::Nps, 100.0), Some(5));
        assert_eq!(heat(Metric::Ces, 4.0), Some(2));
        assert_eq!(heat(Metric::Csat, 90.0), Some(5));
        assert_eq!(heat(Metric::Text, 1.0), None);
    }

    #[test]
    fn days_count_and_name_their_iso_weeks() {
        let d = Day {
            year: 2026,
            month: 12,
            day: 2,
        };
        assert_eq!(Day::from_number(d.number()), d);
        assert_eq!(d.weekday(), 2, "a Wednesday");
        assert_eq!(d.iso_week(), "2026-W49");
        assert_eq!(d.plus(-30).to_string(), "2026-11-02");
        // Week 1 of 2021 starts on 4 January; 3 January is in 2020-W53.
        let jan3 = Day {
            year: 2021,
            month: 1,
            day: 3,
        };
        assert_eq!(jan3.iso_week(), "2020-W53");
        assert_eq!(jan3.plus(1).iso_week(), "2021-W01");
        assert_eq!(
            Day {
                year: 1970,
                month: 1,
                day: 1
            }
            .number(),
            0
        );
    }
}
