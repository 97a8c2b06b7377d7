//! Aggregates as DESIGN.md defines them: one row per group × metric, scales
//! never mixed, every row with its sample size, its 95 % interval where the
//! score has one, and `small_sample` under 30 answers. Read from the
//! rollups ([`crate::store::rollups`]): the smallest grain that has the
//! columns asked for, summed per group. The scoring here ([`Tally`],
//! [`estimate`]) is shared by the journey map and trends.

use crate::error::{Error, Result};
use crate::filters::rollup_filter;
use crate::stats::{self, Estimate, Moments, round};
use crate::store::{Counts, Filter, Grain, GroupBy, ItemRow, RollupFilter, RollupRow, Store};
use crate::zone::{Zone, week_of};
use std::collections::BTreeMap;
use touchpoint_wire::{AggregateRow, Metric};

/// The aggregate rows of a site's events, grouped and filtered; dates and
/// days in the site's time zone `zone`.
pub async fn aggregate(
    store: &Store,
    site_id: i64,
    zone: &Zone,
    group_by: &[GroupBy],
    filter: &Filter,
) -> Result<Vec<AggregateRow>> {
    let mut days = rollup_filter(filter, zone)?;
    days.attribute = group_by.iter().find_map(|g| match g {
        GroupBy::Attribute(key) => Some(key.clone()),
        _ => None,
    });
    let grain = grain_for(group_by, &days)?;
    let columns: Vec<&str> = group_by.iter().map(|g| g.column()).collect();
    let counts = store.rollup_counts(site_id, grain, &columns, &days).await?;
    let items = store
        .rollup_items(site_id, grain, &columns, &days, "")
        .await?;
    Ok(rows(group_by, counts, items))
}

/// The smallest rollup grain with every column asked for. Pages are kept
/// per device and locale too; attributes apart from both.
pub fn grain_for(group_by: &[GroupBy], filter: &RollupFilter) -> Result<Grain> {
    let page = group_by.contains(&GroupBy::Page) || filter.page.is_some();
    let segment = filter.segmented()
        || group_by
            .iter()
            .any(|g| matches!(g, GroupBy::Device | GroupBy::Locale));
    let attribute = filter.attribute.is_some();
    match (page, segment, attribute) {
        (true, _, true) | (_, true, true) => Err(Error::bad_request(
            "invalid_group_by",
            "group_by: attributes are counted apart from pages, devices and locales; group by attr:KEY with stage, touchpoint, day or week",
        )),
        (true, true, false) => Ok(Grain::PageSegments),
        (true, false, false) => Ok(Grain::Pages),
        (false, true, false) => Ok(Grain::Segments),
        (false, false, true) => Ok(Grain::Attributes),
        (false, false, false) => Ok(Grain::Days),
    }
}

/// What one group × metric adds up to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub counts: Counts,
    /// Option id → responses that picked it; `None` when no response did.
    pub choices: Option<BTreeMap<String, u64>>,
    /// Emotion flag → responses whose comment shows it.
    pub flags: BTreeMap<String, u64>,
}

impl Tally {
    /// Score → count, without empty scores.
    pub fn distribution(&self) -> BTreeMap<i64, u64> {
        self.counts
            .scores
            .iter()
            .enumerate()
            .filter(|(_, c)| **c > 0)
            .map(|(s, c)| (s as i64, count(*c)))
            .collect()
    }

    pub fn responses(&self) -> u64 {
        count(self.counts.responses)
    }

    pub fn impressions(&self) -> u64 {
        count(self.counts.impressions)
    }

    pub fn dismissals(&self) -> u64 {
        count(self.counts.dismissals)
    }

    /// `part` / impressions, 0–1 to four places; `None` without impressions.
    pub fn rate(&self, part: i64) -> Option<f64> {
        let shown = self.impressions();
        (shown > 0).then(|| round(count(part) as f64 / shown as f64, 4))
    }

    /// Anything shown or answered (a group of dismissals alone is not a row).
    pub fn is_seen(&self) -> bool {
        self.counts.impressions > 0 || self.counts.responses > 0
    }
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// Folds rollup sums into aggregate rows, sorted by group then metric.
pub fn rows(
    group_by: &[GroupBy],
    counts: Vec<RollupRow>,
    items: Vec<ItemRow>,
) -> Vec<AggregateRow> {
    let group = |values: Vec<String>| -> Vec<String> {
        group_by
            .iter()
            .zip(values)
            .map(|(g, v)| match g {
                GroupBy::Week => week_of(&v).unwrap_or(v),
                _ => v,
            })
            .collect()
    };
    let mut groups: BTreeMap<(Vec<String>, Metric), Tally> = BTreeMap::new();
    for r in counts {
        let Some(metric) = Metric::parse(&r.metric) else {
            continue;
        };
        groups
            .entry((group(r.groups), metric))
            .or_default()
            .counts
            .add(&r.counts);
    }
    for c in items {
        let Some(metric) = Metric::parse(&c.metric) else {
            continue;
        };
        let Some(tally) = groups.get_mut(&(group(c.groups), metric)) else {
            continue;
        };
        if let Some(option) = c.item.strip_prefix("choice:") {
            *tally
                .choices
                .get_or_insert_default()
                .entry(option.to_owned())
                .or_default() += count(c.n);
        } else if let Some(flag) = c.item.strip_prefix("flag:") {
            *tally.flags.entry(flag.to_owned()).or_default() += count(c.n);
        }
    }
    groups
        .into_iter()
        .filter(|(_, tally)| tally.is_seen())
        .map(|((values, metric), tally)| {
            let mut row = AggregateRow {
                metric: Some(metric),
                ..AggregateRow::default()
            };
            for (g, v) in group_by.iter().zip(values) {
                let slot = match g {
                    GroupBy::Page => &mut row.page,
                    GroupBy::Stage => &mut row.stage,
                    GroupBy::Touchpoint => &mut row.touchpoint,
                    GroupBy::Day => &mut row.day,
                    GroupBy::Week => &mut row.week,
                    GroupBy::Device => &mut row.device,
                    GroupBy::Locale => &mut row.locale,
                    GroupBy::Attribute(_) => {
                        row.attributes.insert(g.name().into_owned(), v);
                        continue;
                    }
                };
                *slot = Some(v);
            }
            fill(&mut row, metric, &tally);
            row
        })
        .collect()
}

fn fill(row: &mut AggregateRow, metric: Metric, tally: &Tally) {
    let distribution = tally.distribution();
    let scored: u64 = distribution.values().sum();
    let c = &tally.counts;
    row.responses = tally.responses();
    row.impressions = tally.impressions();
    row.response_rate = tally.rate(c.responses);
    row.dismissals = tally.dismissals();
    row.dismiss_rate = tally.rate(c.dismissals);
    row.frustration_rate = tally.rate(c.signal_views);
    row.small_sample = row.responses < stats::SMALL_SAMPLE;
    row.comments = count(c.comments);
    row.flags = crate::emotion::FLAGS
        .iter()
        .map(|f| ((*f).to_owned(), tally.flags.get(*f).copied().unwrap_or(0)))
        .collect();
    // A choice question always shows its tally, empty or not.
    row.choices = tally
        .choices
        .clone()
        .or_else(|| (metric == Metric::Choice).then(BTreeMap::new));
    let share = |f: &dyn Fn(i64) -> bool| {
        distribution
            .iter()
            .filter(|(s, _)| f(**s))
            .map(|(_, c)| c)
            .sum::<u64>()
    };
    if let Some(m) = Moments::of(distribution.iter().map(|(s, c)| (*s, *c))) {
        row.mean = Some(round(m.mean, 2));
        let percent = |k: u64| round(100.0 * k as f64 / scored as f64, 2);
        match metric {
            Metric::Nps => {
                let (p, d) = (share(&|s| s >= 9), share(&|s| s <= 6));
                let (nps, moe) = stats::nps(p, d, scored);
                row.nps = Some(round(nps, 2));
                row.nps_moe = Some(round(moe, 2));
                row.nps_low = Some(round((nps - moe).max(-100.0), 2));
                row.nps_high = Some(round((nps + moe).min(100.0), 2));
                row.promoters = Some(p);
                row.passives = Some(scored - p - d);
                row.detractors = Some(d);
            }
            Metric::Csat => {
                let top = share(&|s| s >= 4);
                let (low, high) = stats::wilson(top, scored);
                row.csat = Some(percent(top));
                row.csat_low = Some(round(100.0 * low, 2));
                row.csat_high = Some(round(100.0 * high, 2));
            }
            Metric::Ces => {
                row.ces = row.mean;
                row.ces_easy = Some(percent(share(&|s| s >= 5)));
                if let Some((low, high)) = m.interval((1, 7)) {
                    row.ces_low = Some(round(low, 2));
                    row.ces_high = Some(round(high, 2));
                }
            }
            Metric::Thumbs => {
                let up = share(&|s| s == 1);
                let (low, high) = stats::wilson(up, scored);
                row.thumbs_up = Some(percent(up));
                row.thumbs_low = Some(round(100.0 * low, 2));
                row.thumbs_high = Some(round(100.0 * high, 2));
            }
            Metric::Emoji | Metric::Text | Metric::Choice => {}
        }
    }
    row.distribution = distribution;
}

/// The headline score of a metric with its 95 % interval, as the journey
/// map and trends show it: NPS (−100…100, ± its margin of error), CSAT %
/// top-2-box (Wilson), CES and emoji means (t interval, within the scale),
/// thumbs-up % (Wilson); rounded to two places. `None` without scored
/// answers, and for text and choice questions.
pub fn estimate(metric: Metric, distribution: &BTreeMap<i64, u64>) -> Option<Estimate> {
    estimate_exact(metric, distribution).map(|e| Estimate {
        score: round(e.score, 2),
        low: e.low.map(|v| round(v, 2)),
        high: e.high.map(|v| round(v, 2)),
    })
}

/// [`estimate`] unrounded (changes between periods are computed from it).
pub fn estimate_exact(metric: Metric, distribution: &BTreeMap<i64, u64>) -> Option<Estimate> {
    let n: u64 = distribution.values().sum();
    if n == 0 {
        return None;
    }
    let share = |f: &dyn Fn(i64) -> bool| {
        distribution
            .iter()
            .filter(|(s, _)| f(**s))
            .map(|(_, c)| c)
            .sum::<u64>()
    };
    let proportion = |k: u64| {
        let (low, high) = stats::wilson(k, n);
        Estimate {
            score: 100.0 * k as f64 / n as f64,
            low: Some(100.0 * low),
            high: Some(100.0 * high),
        }
    };
    match metric {
        Metric::Nps => {
            let (nps, moe) = stats::nps(share(&|s| s >= 9), share(&|s| s <= 6), n);
            Some(Estimate {
                score: nps,
                low: Some((nps - moe).max(-100.0)),
                high: Some((nps + moe).min(100.0)),
            })
        }
        Metric::Csat => Some(proportion(share(&|s| s >= 4))),
        Metric::Thumbs => Some(proportion(share(&|s| s == 1))),
        Metric::Ces | Metric::Emoji => {
            let m = Moments::of(distribution.iter().map(|(s, c)| (*s, *c)))?;
            let interval = m.interval(metric.scale()?);
            Some(Estimate {
                score: m.mean,
                low: interval.map(|(l, _)| l),
                high: interval.map(|(_, h)| h),
            })
        }
        Metric::Text | Metric::Choice => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(groups: &[&str], metric: &str, f: impl Fn(&mut Counts)) -> RollupRow {
        let mut counts = Counts::default();
        f(&mut counts);
        RollupRow {
            groups: groups.iter().map(|s| (*s).to_owned()).collect(),
            metric: metric.into(),
            counts,
        }
    }

    #[test]
    fn rows_per_group_and_metric() {
        let rows = rows(
            &[GroupBy::Page],
            vec![
                counts(&["/a"], "nps", |c| {
                    c.impressions = 4;
                    c.responses = 3;
                    c.scores[9] = 1;
                    c.scores[10] = 1;
                    c.scores[3] = 1;
                    c.dismissals = 1;
                    c.signal_views = 2;
                }),
                counts(&["/a"], "csat", |c| {
                    c.responses = 3;
                    c.scores[4] = 3;
                }),
                counts(&["/b"], "nps", |c| c.impressions = 2),
                // Only dismissed: not a row.
                counts(&["/c"], "nps", |c| c.dismissals = 2),
            ],
            vec![],
        );
        assert_eq!(rows.len(), 3);
        let a = &rows[0];
        assert_eq!(
            (a.page.as_deref(), a.metric),
            (Some("/a"), Some(Metric::Nps))
        );
        assert_eq!(
            (a.responses, a.impressions, a.response_rate),
            (3, 4, Some(0.75))
        );
        assert_eq!(
            (a.promoters, a.passives, a.detractors),
            (Some(2), Some(0), Some(1))
        );
        assert_eq!(a.nps, Some(33.33));
        assert_eq!(a.mean, Some(7.33));
        assert_eq!(
            (
                a.dismissals,
                a.dismiss_rate,
                a.frustration_rate,
                a.small_sample
            ),
            (1, Some(0.25), Some(0.5), true)
        );
        // 33.33 ± 106.69, within −100…100.
        assert_eq!((a.nps_low, a.nps_high), (Some(-73.36), Some(100.0)));
        let csat = &rows[1];
        assert_eq!(
            (csat.metric, csat.csat, csat.impressions, csat.response_rate),
            (Some(Metric::Csat), Some(100.0), 0, None)
        );
        assert_eq!((csat.csat_low, csat.csat_high), (Some(43.85), Some(100.0)));
        assert_eq!(csat.nps, None);
        let b = &rows[2];
        assert_eq!(
            (b.responses, b.response_rate, b.nps, b.mean),
            (0, Some(0.0), None, None)
        );
    }

    #[test]
    fn days_fold_into_iso_weeks() {
        let day = |d: &str, n: i64| {
            counts(&[d], "thumbs", move |c| {
                c.responses = n;
                c.scores[1] = n;
            })
        };
        let rows = rows(
            &[GroupBy::Week],
            vec![
                day("2026-11-16", 2),
                day("2026-11-22", 3),
                day("2026-11-23", 1),
            ],
            vec![],
        );
        let weeks: Vec<_> = rows
            .iter()
            .map(|r| (r.week.as_deref().unwrap(), r.responses))
            .collect();
        assert_eq!(weeks, [("2026-W47", 5), ("2026-W48", 1)]);
        assert_eq!(rows[0].thumbs_up, Some(100.0));
        // Wilson for 5 of 5: 56.55 % – 100 %.
        assert_eq!(
            (rows[0].thumbs_low, rows[0].thumbs_high),
            (Some(56.55), Some(100.0))
        );
    }

    #[test]
    fn text_and_choice_rows_count_comments_and_options() {
        let choice = |picked: &str, n| ItemRow {
            groups: vec!["/a".into()],
            metric: "choice".into(),
            item: format!("choice:{picked}"),
            n,
        };
        let rows = rows(
            &[GroupBy::Page],
            vec![
                counts(&["/a"], "nps", |c| {
                    c.responses = 2;
                    c.scores[2] = 2;
                    c.comments = 1;
                }),
                counts(&["/a"], "text", |c| {
                    c.responses = 3;
                    c.comments = 3;
                }),
                counts(&["/a"], "choice", |c| {
                    c.impressions = 10;
                    c.responses = 4;
                }),
            ],
            vec![choice("price", 3), choice("speed", 2)],
        );
        let [nps, text, choice] = rows.as_slice() else {
            panic!("{rows:?}")
        };
        assert_eq!(
            (nps.metric, nps.comments, nps.choices.as_ref()),
            (Some(Metric::Nps), 1, None)
        );
        assert_eq!(
            (text.metric, text.responses, text.comments, text.mean),
            (Some(Metric::Text), 3, 3, None)
        );
        assert_eq!((choice.responses, choice.response_rate), (4, Some(0.4)));
        let tally: Vec<_> = choice.choices.clone().unwrap().into_iter().collect();
        assert_eq!(tally, [("price".to_owned(), 3), ("speed".to_owned(), 2)]);
    }

    #[test]
    fn ces_has_a_t_interval_and_estimates_every_scale() {
        // 2, 4, 4, 4, 5, 5, 7 on 1–7: mean 4.43, s = 1.51, t(6) = 2.447
        let d: BTreeMap<i64, u64> = [(2, 1), (4, 3), (5, 2), (7, 1)].into();
        let e = estimate(Metric::Ces, &d).unwrap();
        assert_eq!((e.score, e.low, e.high), (4.43, Some(3.03), Some(5.83)));
        let rows = rows(
            &[],
            vec![counts(&[], "ces", |c| {
                c.responses = 7;
                for (s, n) in &d {
                    c.scores[*s as usize] = *n as i64;
                }
            })],
            vec![],
        );
        assert_eq!(
            (
                rows[0].ces,
                rows[0].ces_low,
                rows[0].ces_high,
                rows[0].ces_easy
            ),
            (Some(4.43), Some(3.03), Some(5.83), Some(42.86))
        );
        let nps: BTreeMap<i64, u64> = [(10, 2), (8, 1), (3, 1)].into();
        let e = estimate(Metric::Nps, &nps).unwrap();
        assert_eq!((e.score, e.low, e.high), (25.0, Some(-56.26), Some(100.0)));
        let csat: BTreeMap<i64, u64> = [(5, 6), (4, 2), (2, 2)].into();
        let e = estimate(Metric::Csat, &csat).unwrap();
        assert_eq!((e.score, e.low, e.high), (80.0, Some(49.02), Some(94.33)));
        assert_eq!(estimate(Metric::Text, &d), None);
        assert_eq!(estimate(Metric::Nps, &BTreeMap::new()), None);
        // One answer: a mean, no interval.
        let one = estimate(Metric::Emoji, &[(4, 1)].into()).unwrap();
        assert_eq!((one.score, one.low, one.high), (4.0, None, None));
    }
}
