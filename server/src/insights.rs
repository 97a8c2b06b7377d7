//! The journey map and trends (DESIGN.md, "Read side"), read from the
//! per-day rollups: a few rows per touchpoint and day, whatever the number
//! of events or pages. Scores and intervals come from [`aggregate`]'s
//! [`estimate`]; changes between periods from [`crate::stats`].

use crate::aggregate::{Tally, estimate, estimate_exact};
use crate::error::{Error, Result};
use crate::filters::rollup_filter;
use crate::stats::{self, Moments, round};
use crate::store::{Filter, Grain, RollupFilter, Site, Store};
use crate::zone::{monday_of, parse_day, week_of};
use std::collections::BTreeMap;
use touchpoint_wire::page::UNASSIGNED;
use touchpoint_wire::{Change, Journey, JourneyCell, JourneyStage, Metric, TrendPoint, Trends};

/// Most periods one trend answers (ten years of days).
pub const MAX_POINTS: usize = 3700;

/// The journey map of a site over a filter's days.
pub async fn journey(store: &Store, site: &Site, filter: &Filter) -> Result<Journey> {
    let days = rollup_filter(filter, &site.config.zone())?;
    let rows = store
        .rollup_counts(site.id, days.day_grain(), &["stage", "touchpoint"], &days)
        .await?;
    // stage → (touchpoint, metric) → tally
    let mut stages: BTreeMap<String, BTreeMap<(String, Metric), Tally>> = BTreeMap::new();
    for r in rows {
        let Some(metric) = Metric::parse(&r.metric) else {
            continue;
        };
        let mut groups = r.groups.into_iter();
        let (Some(stage), Some(touchpoint)) = (groups.next(), groups.next()) else {
            continue;
        };
        stages
            .entry(stage)
            .or_default()
            .entry((touchpoint, metric))
            .or_default()
            .counts
            .add(&r.counts);
    }
    let declared = &site.config.stages;
    let order = |tp: &str| {
        site.config
            .touchpoints
            .iter()
            .position(|t| t.id == tp)
            .unwrap_or(usize::MAX)
    };
    let cells_of = |stages: &mut BTreeMap<String, BTreeMap<(String, Metric), Tally>>,
                    id: &str|
     -> Vec<JourneyCell> {
        let mut cells: Vec<JourneyCell> = stages
            .remove(id)
            .unwrap_or_default()
            .into_iter()
            .filter(|(_, tally)| tally.is_seen())
            .map(|((touchpoint, metric), tally)| cell(touchpoint, metric, &tally))
            .collect();
        cells.sort_by(|a, b| {
            (order(&a.touchpoint), &a.touchpoint, a.metric).cmp(&(
                order(&b.touchpoint),
                &b.touchpoint,
                b.metric,
            ))
        });
        cells
    };
    let mut out: Vec<JourneyStage> = declared
        .iter()
        .map(|s| JourneyStage {
            id: s.id.clone(),
            label: s.label.clone(),
            touchpoints: cells_of(&mut stages, &s.id),
        })
        .collect();
    // Stages the events still carry but the site no longer declares, so
    // that no answer drops out of the map; then `unassigned`.
    let undeclared: Vec<String> = stages
        .keys()
        .filter(|s| s.as_str() != UNASSIGNED)
        .cloned()
        .collect();
    for id in undeclared.into_iter().chain([UNASSIGNED.to_owned()]) {
        let touchpoints = cells_of(&mut stages, &id);
        if !touchpoints.is_empty() {
            out.push(JourneyStage {
                label: if id == UNASSIGNED {
                    "Unassigned".to_owned()
                } else {
                    id.clone()
                },
                id,
                touchpoints,
            });
        }
    }
    Ok(Journey { stages: out })
}

fn cell(touchpoint: String, metric: Metric, tally: &Tally) -> JourneyCell {
    let c = &tally.counts;
    let e = estimate(metric, &tally.distribution());
    JourneyCell {
        touchpoint,
        metric,
        responses: tally.responses(),
        score: e.map(|e| e.score),
        low: e.and_then(|e| e.low),
        high: e.and_then(|e| e.high),
        impressions: tally.impressions(),
        response_rate: tally.rate(c.responses),
        dismissals: tally.dismissals(),
        dismiss_rate: tally.rate(c.dismissals),
        frustration_rate: tally.rate(c.signal_views),
        small_sample: tally.responses() < stats::SMALL_SAMPLE,
    }
}

/// Days or ISO weeks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interval {
    Day,
    Week,
}

impl Interval {
    pub fn parse(s: Option<&str>) -> Result<Interval> {
        match s.map(str::trim) {
            None | Some("" | "day") => Ok(Interval::Day),
            Some("week") => Ok(Interval::Week),
            Some(other) => Err(Error::bad_request(
                "invalid_interval",
                format!("interval: {other:?} is not day or week"),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Interval::Day => "day",
            Interval::Week => "week",
        }
    }
}

/// One touchpoint's score per period over a filter's days. Every period
/// between the first and the last (the filter's bounds, else the first and
/// last with events) is a point, answered or not.
pub async fn trends(
    store: &Store,
    site: &Site,
    touchpoint: &str,
    interval: Interval,
    filter: &Filter,
) -> Result<Trends> {
    let days = rollup_filter(filter, &site.config.zone())?;
    let metric = match site.config.touchpoints.iter().find(|t| t.id == touchpoint) {
        Some(t) => t.metric,
        // A touchpoint no longer declared: its answers are still counted.
        None => stored_metric(store, site.id, touchpoint)
            .await?
            .ok_or_else(|| {
                Error::not_found(
                    "unknown_touchpoint",
                    format!("touchpoint: {touchpoint:?} is not a touchpoint of this site"),
                )
            })?,
    };
    let rows = store
        .rollup_counts(
            site.id,
            days.day_grain(),
            &["day"],
            &RollupFilter {
                touchpoint: Some(touchpoint.to_owned()),
                metric: Some(metric.as_str().to_owned()),
                ..days.clone()
            },
        )
        .await?;
    let period = |day: &str| match interval {
        Interval::Day => day.to_owned(),
        Interval::Week => week_of(day).unwrap_or_else(|| day.to_owned()),
    };
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    let mut seen_days: Vec<String> = Vec::new();
    for r in rows {
        let Some(day) = r.groups.into_iter().next() else {
            continue;
        };
        tallies
            .entry(period(&day))
            .or_default()
            .counts
            .add(&r.counts);
        seen_days.push(day);
    }
    seen_days.sort();
    // The periods: from the filter's first day (else the first answered)
    // to its last (else the last answered).
    let first = days.from_day.clone().or_else(|| seen_days.first().cloned());
    let last = match &days.to_day {
        Some(to) => parse_day(to)
            .and_then(|d| d.yesterday().ok())
            .map(|d| d.to_string()),
        None => seen_days.last().cloned(),
    };
    let mut periods = Vec::new();
    if let (Some(first), Some(last)) = (
        first.as_deref().and_then(parse_day),
        last.as_deref().and_then(parse_day),
    ) {
        let (mut at, step) = match interval {
            Interval::Day => (first, 1),
            Interval::Week => (monday_of(first), 7),
        };
        while at <= last {
            if periods.len() == MAX_POINTS {
                return Err(Error::bad_request(
                    "invalid_range",
                    format!(
                        "from, to: a trend has at most {MAX_POINTS} points; narrow the range or ask for interval=week"
                    ),
                ));
            }
            periods.push(period(&at.to_string()));
            at = match at.checked_add(jiff::Span::new().days(step)) {
                Ok(next) => next,
                Err(_) => break,
            };
        }
    }
    let mut points: Vec<TrendPoint> = Vec::with_capacity(periods.len());
    let mut previous: Option<Tally> = None;
    for p in periods {
        let tally = tallies.remove(&p).unwrap_or_default();
        let distribution = tally.distribution();
        let e = estimate_exact(metric, &distribution);
        let change = match (&previous, e) {
            (Some(before), Some(now)) => {
                estimate_exact(metric, &before.distribution()).map(|then| {
                    change(
                        metric,
                        &before.distribution(),
                        &distribution,
                        then.score,
                        now.score,
                    )
                })
            }
            _ => None,
        };
        let e = estimate(metric, &distribution);
        points.push(TrendPoint {
            period: p,
            responses: tally.responses(),
            score: e.map(|e| e.score),
            low: e.and_then(|e| e.low),
            high: e.and_then(|e| e.high),
            small_sample: tally.responses() < stats::SMALL_SAMPLE,
            change,
        });
        previous = Some(tally);
    }
    Ok(Trends {
        touchpoint: touchpoint.to_owned(),
        metric,
        interval: interval.as_str().to_owned(),
        points,
    })
}

/// The metric a touchpoint's stored answers carry (the most counted, should
/// it have changed), or `None` when it has none.
async fn stored_metric(store: &Store, site_id: i64, touchpoint: &str) -> Result<Option<Metric>> {
    let rows = store
        .rollup_counts(
            site_id,
            Grain::Days,
            &["touchpoint"],
            &RollupFilter {
                touchpoint: Some(touchpoint.to_owned()),
                ..RollupFilter::default()
            },
        )
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some((
                r.counts.responses + r.counts.impressions,
                Metric::parse(&r.metric)?,
            ))
        })
        .max()
        .map(|(_, m)| m))
}

/// The change from one group of answers (a period) to another's.
pub(crate) fn change(
    metric: Metric,
    before: &BTreeMap<i64, u64>,
    now: &BTreeMap<i64, u64>,
    then_score: f64,
    now_score: f64,
) -> Change {
    let n = |d: &BTreeMap<i64, u64>| d.values().sum::<u64>();
    let share = |d: &BTreeMap<i64, u64>, f: &dyn Fn(i64) -> bool| {
        d.iter()
            .filter(|(s, _)| f(**s))
            .map(|(_, c)| c)
            .sum::<u64>()
    };
    let p_value = match metric {
        Metric::Nps => {
            let pd = |d| (share(d, &|s| s >= 9), share(d, &|s| s <= 6), n(d));
            stats::nps_change_p(pd(before), pd(now))
        }
        Metric::Csat => stats::two_proportion_p(
            share(before, &|s| s >= 4),
            n(before),
            share(now, &|s| s >= 4),
            n(now),
        ),
        Metric::Thumbs => stats::two_proportion_p(
            share(before, &|s| s == 1),
            n(before),
            share(now, &|s| s == 1),
            n(now),
        ),
        Metric::Ces | Metric::Emoji => {
            let moments = |d: &BTreeMap<i64, u64>| Moments::of(d.iter().map(|(s, c)| (*s, *c)));
            moments(before)
                .zip(moments(now))
                .and_then(|(a, b)| stats::welch_p(&a, &b))
        }
        Metric::Text | Metric::Choice => None,
    };
    Change {
        delta: round(now_score - then_score, 2),
        significant: stats::significant(p_value, n(before), n(now)),
        p_value: p_value.map(|p| round(p, 6)),
    }
}
