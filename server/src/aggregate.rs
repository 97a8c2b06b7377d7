//! Aggregates as DESIGN.md defines them: one row per group × metric, scales
//! never mixed, every row with its sample size and, where a score has one,
//! its 95 % interval. Derived from raw events on every call.

use crate::error::Result;
use crate::store::{ChoiceCountRow, CountRow, Filter, GroupBy, Store};
use std::collections::BTreeMap;
use touchpoint_wire::{AggregateRow, Metric};

/// The aggregate rows of a site's events, grouped and filtered.
pub async fn aggregate(
    store: &Store,
    site_id: i64,
    group_by: &[GroupBy],
    filter: &Filter,
) -> Result<Vec<AggregateRow>> {
    let counts = store.aggregate_counts(site_id, group_by, filter).await?;
    let choices = store.choice_counts(site_id, group_by, filter).await?;
    Ok(rows(group_by, counts, choices))
}

/// Folds counts into aggregate rows, sorted by group then metric.
pub fn rows(
    group_by: &[GroupBy],
    counts: Vec<CountRow>,
    choice_counts: Vec<ChoiceCountRow>,
) -> Vec<AggregateRow> {
    #[derive(Default)]
    struct Acc {
        impressions: u64,
        distribution: BTreeMap<i64, u64>,
        unscored: u64,
        comments: u64,
        choices: Option<BTreeMap<String, u64>>,
    }
    let mut groups: BTreeMap<(Vec<String>, Metric), Acc> = BTreeMap::new();
    for c in counts {
        let Some(metric) = Metric::parse(&c.metric) else {
            continue;
        };
        let acc = groups.entry((c.groups, metric)).or_default();
        match (c.kind.as_str(), c.score) {
            ("impression", _) => acc.impressions += c.count,
            ("response", Some(score)) => *acc.distribution.entry(score).or_default() += c.count,
            ("response", None) => acc.unscored += c.count,
            _ => {}
        }
        if c.kind == "response" {
            acc.comments += c.comments;
        }
    }
    for c in choice_counts {
        let Some(metric) = Metric::parse(&c.metric) else {
            continue;
        };
        let picked: Vec<String> = serde_json::from_str(&c.choices).unwrap_or_default();
        let acc = groups.entry((c.groups, metric)).or_default();
        let tally = acc.choices.get_or_insert_default();
        for option in picked {
            *tally.entry(option).or_default() += c.count;
        }
    }
    groups
        .into_iter()
        .map(|((values, metric), acc)| {
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
                    GroupBy::Device => &mut row.device,
                    GroupBy::Locale => &mut row.locale,
                };
                *slot = Some(v);
            }
            fill(
                &mut row,
                metric,
                acc.distribution,
                acc.unscored,
                acc.impressions,
            );
            row.comments = acc.comments;
            // A choice question always shows its tally, empty or not.
            row.choices = acc
                .choices
                .or_else(|| (metric == Metric::Choice).then(BTreeMap::new));
            row
        })
        .collect()
}

fn fill(
    row: &mut AggregateRow,
    metric: Metric,
    distribution: BTreeMap<i64, u64>,
    unscored: u64,
    impressions: u64,
) {
    let scored: u64 = distribution.values().sum();
    let n = scored + unscored;
    row.responses = n;
    row.impressions = impressions;
    row.response_rate = (impressions > 0).then(|| round(n as f64 / impressions as f64, 4));
    let count = |f: &dyn Fn(i64) -> bool| {
        distribution
            .iter()
            .filter(|(s, _)| f(**s))
            .map(|(_, c)| c)
            .sum::<u64>()
    };
    if scored > 0 {
        let sum: f64 = distribution
            .iter()
            .map(|(s, c)| *s as f64 * *c as f64)
            .sum();
        row.mean = Some(round(sum / scored as f64, 2));
        match metric {
            Metric::Nps => {
                let (p, d) = (count(&|s| s >= 9), count(&|s| s <= 6));
                let (nps, moe) = nps(p, d, scored);
                row.nps = Some(nps);
                row.nps_moe = Some(moe);
                row.promoters = Some(p);
                row.passives = Some(scored - p - d);
                row.detractors = Some(d);
            }
            Metric::Csat => {
                let top = count(&|s| s >= 4);
                let (low, high) = wilson(top, scored);
                row.csat = Some(round(100.0 * top as f64 / scored as f64, 2));
                row.csat_low = Some(low);
                row.csat_high = Some(high);
            }
            Metric::Ces => {
                row.ces = row.mean;
                row.ces_easy = Some(round(100.0 * count(&|s| s >= 5) as f64 / scored as f64, 2));
            }
            Metric::Thumbs => {
                row.thumbs_up = Some(round(100.0 * count(&|s| s == 1) as f64 / scored as f64, 2));
            }
            Metric::Emoji | Metric::Text | Metric::Choice => {}
        }
    }
    row.distribution = distribution;
}

/// NPS and its 95 % margin of error, both on −100…100:
/// NPS = 100 (p − d); MoE = 196 √((p + d − (p − d)²) / n), p and d shares.
pub fn nps(promoters: u64, detractors: u64, n: u64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 0.0);
    }
    let (p, d) = (promoters as f64 / n as f64, detractors as f64 / n as f64);
    let var = (p + d - (p - d).powi(2)).max(0.0);
    (
        round(100.0 * (p - d), 2),
        round(196.0 * (var / n as f64).sqrt(), 2),
    )
}

/// 95 % Wilson score interval of `k` successes in `n`, in percent.
pub fn wilson(k: u64, n: u64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 100.0);
    }
    let z = 1.959_963_984_540_054_f64;
    let (n, p) = (n as f64, k as f64 / n as f64);
    let denom = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / denom;
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / denom;
    (
        round(100.0 * (centre - half).max(0.0), 2),
        round(100.0 * (centre + half).min(1.0), 2),
    )
}

fn round(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nps_and_margin() {
        // 2 promoters, 1 passive, 1 detractor of 4: p = .5, d = .25
        // NPS = 25; MoE = 196 * sqrt((.75 - .0625) / 4) = 196 * 0.41458 = 81.26
        assert_eq!(nps(2, 1, 4), (25.0, 81.26));
        assert_eq!(nps(1, 0, 1), (100.0, 0.0));
        assert_eq!(nps(0, 3, 3), (-100.0, 0.0));
        assert_eq!(nps(0, 0, 0), (0.0, 0.0));
        // 50 promoters, 30 detractors of 100: p-d = .2, var = .8 - .04 = .76
        assert_eq!(nps(50, 30, 100), (20.0, 17.09));
    }

    #[test]
    fn wilson_interval() {
        // 8 of 10: the textbook interval is 49.02 % – 94.33 %
        assert_eq!(wilson(8, 10), (49.02, 94.33));
        assert_eq!(wilson(0, 10).0, 0.0);
        assert_eq!(wilson(10, 10).1, 100.0);
    }

    fn count(
        groups: &[&str],
        metric: &str,
        kind: &str,
        score: Option<i64>,
        count: u64,
    ) -> CountRow {
        CountRow {
            groups: groups.iter().map(|s| (*s).to_owned()).collect(),
            metric: metric.into(),
            kind: kind.into(),
            score,
            count,
            comments: 0,
        }
    }

    #[test]
    fn rows_per_group_and_metric() {
        let rows = rows(
            &[GroupBy::Page],
            vec![
                count(&["/a"], "nps", "impression", None, 4),
                count(&["/a"], "nps", "response", Some(9), 1),
                count(&["/a"], "nps", "response", Some(10), 1),
                count(&["/a"], "nps", "response", Some(3), 1),
                count(&["/a"], "csat", "response", Some(4), 3),
                count(&["/b"], "nps", "impression", None, 2),
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
        let csat = &rows[1];
        assert_eq!(
            (csat.metric, csat.csat, csat.impressions, csat.response_rate),
            (Some(Metric::Csat), Some(100.0), 0, None)
        );
        assert_eq!(csat.nps, None);
        let b = &rows[2];
        assert_eq!(
            (b.responses, b.response_rate, b.nps, b.mean),
            (0, Some(0.0), None, None)
        );
    }

    #[test]
    fn text_and_choice_rows_count_comments_and_options() {
        let mut text = count(&["/a"], "text", "response", None, 3);
        text.comments = 3;
        let mut nps = count(&["/a"], "nps", "response", Some(2), 2);
        nps.comments = 1;
        let choice = |picked: &str, n| ChoiceCountRow {
            groups: vec!["/a".into()],
            metric: "choice".into(),
            choices: picked.into(),
            count: n,
        };
        let rows = rows(
            &[GroupBy::Page],
            vec![
                nps,
                text,
                count(&["/a"], "choice", "impression", None, 10),
                count(&["/a"], "choice", "response", None, 4),
            ],
            vec![
                choice(r#"["price"]"#, 2),
                choice(r#"["price","speed"]"#, 1),
                choice(r#"["speed"]"#, 1),
            ],
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
}
