//! Priorities, "stop the bleeding" (DESIGN.md, "Read side"): touchpoints
//! ranked by impact, how many answered times how far their score falls
//! below the site's norm for the metric (the site's own score for it over
//! the same days). Read from the per-day rollups, like the journey map;
//! scores and intervals from [`estimate_exact`].
//!
//! Metrics have different units, so the gap is taken as a percentage of
//! its score's range before it is weighted: one list can then rank an NPS
//! touchpoint against a CES one. A touchpoint with fewer than 30 answers is
//! listed but never ranked above one with enough, and one whose interval
//! reaches the norm is not called bleeding.

use crate::aggregate::{Tally, estimate_exact};
use crate::error::Result;
use crate::export::{Cell, TableWriter};
use crate::filters::rollup_filter;
use crate::stats::{self, round};
use crate::store::{Filter, Site, Store};
use std::collections::BTreeMap;
use touchpoint_wire::{Metric, Priorities, Priority};

/// The priorities of a site over a filter's days.
pub async fn priorities(store: &Store, site: &Site, filter: &Filter) -> Result<Priorities> {
    let days = rollup_filter(filter, &site.config.zone())?;
    let rows = store
        .rollup_counts(site.id, days.day_grain(), &["touchpoint"], &days)
        .await?;
    let mut touchpoints: BTreeMap<(String, Metric), Tally> = BTreeMap::new();
    let mut norms: BTreeMap<Metric, Tally> = BTreeMap::new();
    for r in rows {
        let (Some(metric), Some(touchpoint)) = (Metric::parse(&r.metric), r.groups.first()) else {
            continue;
        };
        norms.entry(metric).or_default().counts.add(&r.counts);
        touchpoints
            .entry((touchpoint.clone(), metric))
            .or_default()
            .counts
            .add(&r.counts);
    }
    let mut out: Vec<Priority> = touchpoints
        .into_iter()
        .filter_map(|((touchpoint, metric), tally)| {
            let norm = estimate_exact(metric, &norms.get(&metric)?.distribution())?.score;
            priority(touchpoint, metric, &tally, norm)
        })
        .collect();
    out.sort_by(|a, b| {
        b.ranked
            .cmp(&a.ranked)
            .then(b.impact.total_cmp(&a.impact))
            .then_with(|| (&a.touchpoint, a.metric).cmp(&(&b.touchpoint, b.metric)))
    });
    Ok(Priorities { touchpoints: out })
}

/// The width of a metric's score range: NPS −100…100, shares 0…100 %,
/// CES 1…7, emoji 1…5. `None` for metrics without a score.
fn span(metric: Metric) -> Option<f64> {
    match metric {
        Metric::Nps => Some(200.0),
        Metric::Csat | Metric::Thumbs => Some(100.0),
        Metric::Ces | Metric::Emoji => metric.scale().map(|(lo, hi)| (hi - lo) as f64),
        Metric::Text | Metric::Choice => None,
    }
}

fn priority(touchpoint: String, metric: Metric, tally: &Tally, norm: f64) -> Option<Priority> {
    let e = estimate_exact(metric, &tally.distribution())?;
    let responses = tally.responses();
    // Impact per point of gap: answers × the point as a percentage of the range.
    let weight = responses as f64 * 100.0 / span(metric)?;
    let gap = norm - e.score;
    // A higher score means a smaller gap: the interval's ends swap.
    let low = e.high.map(|high| (norm - high) * weight);
    let high = e.low.map(|low| (norm - low) * weight);
    let ranked = responses >= stats::SMALL_SAMPLE;
    Some(Priority {
        touchpoint,
        metric,
        responses,
        score: round(e.score, 2),
        score_low: e.low.map(|v| round(v, 2)),
        score_high: e.high.map(|v| round(v, 2)),
        norm: round(norm, 2),
        gap: round(gap, 2),
        impact: round(gap * weight, 2),
        low: low.map(|v| round(v, 2)),
        high: high.map(|v| round(v, 2)),
        bleeding: ranked && low.is_some_and(|l| l > 0.0),
        ranked,
        small_sample: !ranked,
    })
}

/// The CSV of `/priorities.csv`: the JSON rows' fields, in the same order.
pub fn csv(p: &Priorities, bom: bool) -> Result<Vec<u8>> {
    let columns = [
        "touchpoint",
        "metric",
        "responses",
        "score",
        "score_low",
        "score_high",
        "norm",
        "gap",
        "impact",
        "low",
        "high",
        "bleeding",
        "ranked",
        "small_sample",
    ];
    let mut w = TableWriter::csv(&columns, bom)?;
    for r in &p.touchpoints {
        w.row(&[
            Cell::Text(&r.touchpoint),
            Cell::Text(r.metric.as_str()),
            Cell::count(r.responses),
            Cell::Float(r.score),
            Cell::float(r.score_low),
            Cell::float(r.score_high),
            Cell::Float(r.norm),
            Cell::Float(r.gap),
            Cell::Float(r.impact),
            Cell::float(r.low),
            Cell::float(r.high),
            Cell::boolean(r.bleeding),
            Cell::boolean(r.ranked),
            Cell::boolean(r.small_sample),
        ])?;
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(histogram: &[(usize, i64)]) -> Tally {
        let mut t = Tally::default();
        for (score, n) in histogram {
            t.counts.scores[*score] += n;
            t.counts.responses += n;
        }
        t
    }

    #[test]
    fn impact_is_answers_times_the_gap_as_a_share_of_the_range() {
        // CSAT 40 % (80 of 200 at 4–5) against a norm of 70 %.
        let p = priority("c".into(), Metric::Csat, &tally(&[(5, 80), (1, 120)]), 70.0).unwrap();
        assert_eq!((p.score, p.gap, p.impact), (40.0, 30.0, 6000.0));
        let (low, high) = stats::wilson(80, 200);
        assert!((p.low.unwrap() - (70.0 - 100.0 * high) * 200.0).abs() < 0.01);
        assert!((p.high.unwrap() - (70.0 - 100.0 * low) * 200.0).abs() < 0.01);
        assert!(p.bleeding && p.ranked && !p.small_sample);
        // CES 4 against 5: a point of a 1…7 range is 16.67 % of it.
        let p = priority("e".into(), Metric::Ces, &tally(&[(3, 30), (5, 30)]), 5.0).unwrap();
        assert!((p.impact - 60.0 * 100.0 / 6.0).abs() < 0.01, "{p:?}");
        // Too few answers: listed, not ranked, never bleeding.
        let p = priority("s".into(), Metric::Csat, &tally(&[(1, 10)]), 70.0).unwrap();
        assert!(!p.ranked && !p.bleeding && p.small_sample);
        // Text has no score.
        assert!(priority("t".into(), Metric::Text, &tally(&[(0, 5)]), 0.0).is_none());
    }
}
