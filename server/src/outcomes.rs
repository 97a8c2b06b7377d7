//! Outcomes (DESIGN.md, "Read side"): of the visitors who answered a
//! touchpoint, how many later reached a declared outcome (`[[outcome]]`,
//! recorded by `touchpoint('track', id)`), by the band their answer fell
//! in. A visitor counts once per touchpoint, with their first answer in the
//! range; an outcome at any time after that answer converts them. Read
//! from raw events like drivers (it needs visitors), one answer at a time.

use crate::error::{Error, Result};
use crate::export::{Cell, TableWriter};
use crate::stats::{self, round};
use crate::store::{Filter, Site, Store};
use std::collections::BTreeMap;
use touchpoint_wire::{Change, Metric, OutcomeRow, Outcomes};

/// A metric's score bands, lowest first, each with the scores it holds.
pub fn bands(metric: Metric) -> &'static [(&'static str, i64, i64)] {
    match metric {
        Metric::Nps => &[("detractor", 0, 6), ("passive", 7, 8), ("promoter", 9, 10)],
        Metric::Csat | Metric::Emoji => &[("low", 1, 2), ("mid", 3, 3), ("high", 4, 5)],
        Metric::Ces => &[("low", 1, 3), ("mid", 4, 4), ("high", 5, 7)],
        Metric::Thumbs => &[("low", 0, 0), ("high", 1, 1)],
        Metric::Text | Metric::Choice => &[],
    }
}

/// The outcome asked for: declared by the site; the site's only one when
/// none is named.
fn outcome_of(site: &Site, asked: Option<&str>) -> Result<String> {
    let declared = &site.config.outcomes;
    let ids = || {
        declared
            .iter()
            .map(|o| o.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match asked.map(str::trim).filter(|o| !o.is_empty()) {
        Some(id) if declared.iter().any(|o| o.id == id) => Ok(id.to_owned()),
        Some(id) => Err(Error::bad_request(
            "invalid_query",
            format!(
                "outcome: {id:?} is not an outcome of this site (declared: {})",
                if declared.is_empty() {
                    "none".into()
                } else {
                    ids()
                }
            ),
        )),
        None if declared.len() == 1 => Ok(declared[0].id.clone()),
        None if declared.is_empty() => Err(Error::bad_request(
            "invalid_query",
            "outcome: the site declares no [[outcome]]; add one to its site file and record it with touchpoint('track', id)",
        )),
        None => Err(Error::bad_request(
            "invalid_query",
            format!("outcome: required, one of {}", ids()),
        )),
    }
}

/// Conversion to `outcome` after each touchpoint's answers, by band.
pub async fn outcomes(
    store: &Store,
    site: &Site,
    outcome: Option<&str>,
    filter: &Filter,
) -> Result<Outcomes> {
    let outcome = outcome_of(site, outcome)?;
    // (touchpoint, metric, band index) → (visitors, converted)
    let mut counts: BTreeMap<(String, Metric, usize), (u64, u64)> = BTreeMap::new();
    store
        .first_answers_and_outcome(site.id, &outcome, filter, |tp, metric, score, converted| {
            let Some(metric) = Metric::parse(metric) else {
                return;
            };
            let Some(band) = bands(metric)
                .iter()
                .position(|(_, lo, hi)| (*lo..=*hi).contains(&score))
            else {
                return;
            };
            let c = counts.entry((tp.to_owned(), metric, band)).or_default();
            c.0 += 1;
            c.1 += u64::from(converted);
        })
        .await?;
    // In the site file's order; touchpoints no longer declared after them.
    let order = |tp: &str| {
        site.config
            .touchpoints
            .iter()
            .position(|t| t.id == tp)
            .unwrap_or(usize::MAX)
    };
    let mut touchpoints: Vec<(String, Metric)> =
        counts.keys().map(|(tp, m, _)| (tp.clone(), *m)).collect();
    touchpoints.dedup();
    touchpoints.sort_by_key(|(tp, m)| (order(tp), tp.clone(), *m));
    let mut rows = Vec::new();
    for (tp, metric) in touchpoints {
        let get = |band: usize| {
            counts
                .get(&(tp.clone(), metric, band))
                .copied()
                .unwrap_or_default()
        };
        let lowest = get(0);
        for (i, (band, ..)) in bands(metric).iter().enumerate() {
            let (visitors, converted) = get(i);
            let rate = |k: u64, n: u64| (n > 0).then(|| k as f64 / n as f64);
            let interval = (visitors > 0).then(|| stats::wilson(converted, visitors));
            let difference = match (i, rate(converted, visitors), rate(lowest.1, lowest.0)) {
                (1.., Some(now), Some(then)) => {
                    let p = stats::two_proportion_p(lowest.1, lowest.0, converted, visitors);
                    Some(Change {
                        delta: round(now - then, 4),
                        p_value: p.map(|p| round(p, 6)),
                        significant: stats::significant(p, lowest.0, visitors),
                    })
                }
                _ => None,
            };
            rows.push(OutcomeRow {
                touchpoint: tp.clone(),
                metric,
                band: (*band).to_owned(),
                visitors,
                converted,
                rate: rate(converted, visitors).map(|r| round(r, 4)),
                low: interval.map(|(l, _)| round(l, 4)),
                high: interval.map(|(_, h)| round(h, 4)),
                small_sample: visitors < stats::SMALL_SAMPLE,
                difference,
            });
        }
    }
    Ok(Outcomes { outcome, rows })
}

/// The CSV of `/outcomes.csv`: the JSON rows' fields, in the same order.
pub fn csv(o: &Outcomes, bom: bool) -> Result<Vec<u8>> {
    let columns = [
        "outcome",
        "touchpoint",
        "metric",
        "band",
        "visitors",
        "converted",
        "rate",
        "low",
        "high",
        "small_sample",
        "difference",
        "p_value",
        "significant",
    ];
    let mut w = TableWriter::csv(&columns, bom)?;
    for r in &o.rows {
        let d = r.difference.as_ref();
        w.row(&[
            Cell::Text(&o.outcome),
            Cell::Text(&r.touchpoint),
            Cell::Text(r.metric.as_str()),
            Cell::Text(&r.band),
            Cell::count(r.visitors),
            Cell::count(r.converted),
            Cell::float(r.rate),
            Cell::float(r.low),
            Cell::float(r.high),
            Cell::boolean(r.small_sample),
            Cell::float(d.map(|d| d.delta)),
            Cell::float(d.and_then(|d| d.p_value)),
            d.map_or(Cell::Empty, |d| Cell::boolean(d.significant)),
        ])?;
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_score_of_a_scale_falls_in_one_band() {
        for metric in Metric::ALL {
            let Some((lo, hi)) = metric.scale() else {
                assert!(bands(metric).is_empty());
                continue;
            };
            for score in lo..=hi {
                let n = bands(metric)
                    .iter()
                    .filter(|(_, a, b)| (*a..=*b).contains(&score))
                    .count();
                assert_eq!(n, 1, "{metric:?} {score}");
            }
        }
    }
}
