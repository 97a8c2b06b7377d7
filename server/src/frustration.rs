//! Behavioural frustration beside the scores (`GET /v1/sites/{key}/frustration`):
//! per touchpoint or page, how often the page views where a prompt was
//! shown also recorded a rage click, a dead click or an error, and how the
//! answers given after such a signal score against the others. Read from
//! the rollups' `view:<signal>` and `signalled:<score>` items (see
//! `store::rollups`), like every report.

use crate::aggregate::{Tally, estimate};
use crate::error::{Error, Result};
use crate::export::{Cell, TableWriter};
use crate::filters::rollup_filter;
use crate::insights::change;
use crate::stats::{self, round};
use crate::store::{Filter, Site, Store};
use std::collections::BTreeMap;
use touchpoint_wire::{Frustration, FrustrationRow, Metric, ScoreGroup, SignalRate};

/// The signals every row reports, recorded or not.
pub const SIGNALS: [&str; 3] = ["rage_click", "dead_click", "error"];

/// What the rows are per.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum By {
    Touchpoint,
    Page,
}

impl By {
    pub fn parse(s: Option<&str>) -> Result<By> {
        match s.map(str::trim).unwrap_or("") {
            "" | "touchpoint" => Ok(By::Touchpoint),
            "page" => Ok(By::Page),
            other => Err(Error::bad_request(
                "invalid_group_by",
                format!("group_by: {other:?} is not one of touchpoint, page"),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            By::Touchpoint => "touchpoint",
            By::Page => "page",
        }
    }
}

#[derive(Default)]
struct Group {
    tally: Tally,
    /// Signal name → impressions whose page view recorded it.
    views: BTreeMap<String, u64>,
    /// Score → answers given after a signal.
    signalled: BTreeMap<i64, u64>,
}

/// The frustration rows of a site over a filter's days.
pub async fn frustration(
    store: &Store,
    site: &Site,
    by: By,
    filter: &Filter,
) -> Result<Frustration> {
    let days = rollup_filter(filter, &site.config.zone())?;
    let (grain, column) = match by {
        By::Touchpoint => (days.day_grain(), "touchpoint"),
        By::Page => (days.page_grain(), "page"),
    };
    let mut groups: BTreeMap<(String, Metric), Group> = BTreeMap::new();
    for r in store
        .rollup_counts(site.id, grain, &[column], &days)
        .await?
    {
        if let (Some(metric), Some(key)) = (Metric::parse(&r.metric), r.groups.first()) {
            let g = groups.entry((key.clone(), metric)).or_default();
            g.tally.counts.add(&r.counts);
        }
    }
    for prefix in ["view:", "signalled:"] {
        for item in store
            .rollup_items(site.id, grain, &[column], &days, prefix)
            .await?
        {
            let (Some(metric), Some(key)) = (Metric::parse(&item.metric), item.groups.first())
            else {
                continue;
            };
            let Some(g) = groups.get_mut(&(key.clone(), metric)) else {
                continue;
            };
            let n = u64::try_from(item.n).unwrap_or(0);
            if let Some(name) = item.item.strip_prefix("view:") {
                *g.views.entry(name.to_owned()).or_default() += n;
            } else if let Some(score) = item
                .item
                .strip_prefix("signalled:")
                .and_then(|s| s.parse::<i64>().ok())
            {
                *g.signalled.entry(score).or_default() += n;
            }
        }
    }
    let mut rows: Vec<FrustrationRow> = groups
        .into_iter()
        .filter(|(_, g)| g.tally.is_seen())
        .map(|((key, metric), g)| row(by, key, metric, &g))
        .collect();
    rows.sort_by(|a, b| {
        b.frustrated.cmp(&a.frustrated).then_with(|| {
            (&a.touchpoint, &a.page, a.metric).cmp(&(&b.touchpoint, &b.page, b.metric))
        })
    });
    Ok(Frustration {
        group_by: by.as_str().to_owned(),
        rows,
    })
}

fn share(k: u64, n: u64) -> (Option<f64>, Option<f64>, Option<f64>) {
    if n == 0 {
        return (None, None, None);
    }
    let (low, high) = stats::wilson(k, n);
    (
        Some(round(k as f64 / n as f64, 4)),
        Some(round(low, 4)),
        Some(round(high, 4)),
    )
}

fn scores(metric: Metric, distribution: &BTreeMap<i64, u64>) -> ScoreGroup {
    let responses = distribution.values().sum();
    let e = estimate(metric, distribution);
    ScoreGroup {
        responses,
        score: e.as_ref().map(|e| e.score),
        low: e.as_ref().and_then(|e| e.low),
        high: e.as_ref().and_then(|e| e.high),
        small_sample: responses < stats::SMALL_SAMPLE,
    }
}

fn row(by: By, key: String, metric: Metric, g: &Group) -> FrustrationRow {
    let impressions = g.tally.impressions();
    let frustrated = u64::try_from(g.tally.counts.signal_views).unwrap_or(0);
    let (frustration_rate, frustration_low, frustration_high) = share(frustrated, impressions);
    // The views of every signal recorded, and the well-known ones at 0.
    let mut views = g.views.clone();
    for s in SIGNALS {
        views.entry(s.to_owned()).or_default();
    }
    let signals: BTreeMap<String, SignalRate> = views
        .into_iter()
        .map(|(s, views)| {
            let (rate, low, high) = share(views, impressions);
            (
                s,
                SignalRate {
                    views,
                    rate,
                    low,
                    high,
                },
            )
        })
        .collect();
    // Answers without a signal: every scored answer less those after one.
    let without: BTreeMap<i64, u64> = g
        .tally
        .distribution()
        .into_iter()
        .map(|(s, n)| {
            (
                s,
                n.saturating_sub(g.signalled.get(&s).copied().unwrap_or(0)),
            )
        })
        .filter(|(_, n)| *n > 0)
        .collect();
    let (after_signal, without_signal) = (scores(metric, &g.signalled), scores(metric, &without));
    let difference = match (after_signal.score, without_signal.score) {
        (Some(after), Some(calm)) => Some(change(metric, &without, &g.signalled, calm, after)),
        _ => None,
    };
    let (touchpoint, page) = match by {
        By::Touchpoint => (Some(key), None),
        By::Page => (None, Some(key)),
    };
    FrustrationRow {
        touchpoint,
        page,
        metric,
        impressions,
        frustrated,
        frustration_rate,
        frustration_low,
        frustration_high,
        signals,
        after_signal,
        without_signal,
        difference,
    }
}

/// The CSV of `/frustration.csv`: the JSON rows flattened, one column per
/// reported signal (`rage_click_views`, `rage_click_rate`, …).
pub fn csv(f: &Frustration, bom: bool) -> Result<Vec<u8>> {
    let mut columns = vec![f.group_by.clone(), "metric".into(), "impressions".into()];
    for c in [
        "frustrated",
        "frustration_rate",
        "frustration_low",
        "frustration_high",
    ] {
        columns.push(c.into());
    }
    let mut names: Vec<String> = SIGNALS.iter().map(|s| (*s).to_owned()).collect();
    for r in &f.rows {
        for name in r.signals.keys() {
            if !names.contains(name) {
                names.push(name.clone());
            }
        }
    }
    for name in &names {
        for part in ["views", "rate", "low", "high"] {
            columns.push(format!("{name}_{part}"));
        }
    }
    for side in ["after_signal", "without_signal"] {
        for part in ["responses", "score", "low", "high", "small_sample"] {
            columns.push(format!("{side}_{part}"));
        }
    }
    for c in ["difference", "p_value", "significant"] {
        columns.push(c.into());
    }
    let header: Vec<&str> = columns.iter().map(String::as_str).collect();
    let mut w = TableWriter::csv(&header, bom)?;
    let none = SignalRate::default();
    for r in &f.rows {
        let key = r.touchpoint.as_deref().or(r.page.as_deref()).unwrap_or("");
        let mut cells = vec![
            Cell::Text(key),
            Cell::Text(r.metric.as_str()),
            Cell::count(r.impressions),
            Cell::count(r.frustrated),
            Cell::float(r.frustration_rate),
            Cell::float(r.frustration_low),
            Cell::float(r.frustration_high),
        ];
        for name in &names {
            let s = r.signals.get(name).unwrap_or(&none);
            cells.extend([
                Cell::count(s.views),
                Cell::float(s.rate),
                Cell::float(s.low),
                Cell::float(s.high),
            ]);
        }
        for side in [&r.after_signal, &r.without_signal] {
            cells.extend([
                Cell::count(side.responses),
                Cell::float(side.score),
                Cell::float(side.low),
                Cell::float(side.high),
                Cell::boolean(side.small_sample),
            ]);
        }
        let d = r.difference.as_ref();
        cells.extend([
            Cell::float(d.map(|d| d.delta)),
            Cell::float(d.and_then(|d| d.p_value)),
            d.map_or(Cell::Empty, |d| Cell::boolean(d.significant)),
        ]);
        w.row(&cells)?;
    }
    w.finish()
}
