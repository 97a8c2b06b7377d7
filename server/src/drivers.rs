//! Drivers (DESIGN.md, "Read side"): which touchpoints move the relationship
//! NPS. For the visitors who answered both the relationship NPS touchpoint
//! and another one, the effect of that touchpoint is the relationship NPS
//! of its satisfied answerers (top of its scale) minus that of the rest,
//! with a 95 % interval from the two groups' NPS margins of error.
//!
//! This needs visitors, which the rollups do not keep: it reads each
//! visitor's latest answer per touchpoint from the raw responses
//! ([`Store::latest_answers`]), one visitor at a time, so what it holds is
//! one visitor's answers and a few counts per touchpoint.

use crate::error::{Error, Result};
use crate::export::{Cell, TableWriter};
use crate::stats::{self, round};
use crate::store::{Filter, LatestAnswer, Site, Store};
use std::collections::BTreeMap;
use touchpoint_wire::{Driver, Drivers, Metric};

/// The drivers of a site's relationship NPS touchpoint `relationship` over
/// a filter's time range.
pub async fn drivers(
    store: &Store,
    site: &Site,
    relationship: Option<&str>,
    filter: &Filter,
) -> Result<Drivers> {
    let relationship = relationship_of(site, relationship)?;
    let mut fold = Fold::new(relationship);
    store
        .latest_answers(site.id, filter, |a| fold.push(a))
        .await?;
    Ok(fold.finish())
}

/// The relationship touchpoint asked for: declared by the site, an NPS one.
fn relationship_of<'a>(site: &Site, asked: Option<&'a str>) -> Result<&'a str> {
    let id = asked
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            Error::bad_request(
                "invalid_relationship",
                "relationship: required, the id of the site's relationship NPS touchpoint",
            )
        })?;
    match site.config.touchpoints.iter().find(|t| t.id == id) {
        None => Err(Error::bad_request(
            "invalid_relationship",
            format!("relationship: {id:?} is not a touchpoint of this site"),
        )),
        Some(t) if t.metric != Metric::Nps => Err(Error::bad_request(
            "invalid_relationship",
            format!(
                "relationship: {id:?} asks {}, not nps; drivers explain an NPS touchpoint",
                t.metric.as_str()
            ),
        )),
        Some(_) => Ok(id),
    }
}

/// Whether an answer is at the top of its scale: NPS 9–10, CSAT 4–5, CES
/// 5–7, thumbs up, emoji 4–5. `None` for metrics without a score.
pub fn satisfied(metric: Metric, score: i64) -> Option<bool> {
    match metric {
        Metric::Nps => Some(score >= 9),
        Metric::Csat | Metric::Emoji => Some(score >= 4),
        Metric::Ces => Some(score >= 5),
        Metric::Thumbs => Some(score == 1),
        Metric::Text | Metric::Choice => None,
    }
}

/// Relationship NPS answers of one group of visitors.
#[derive(Clone, Copy, Debug, Default)]
struct Group {
    promoters: u64,
    detractors: u64,
    n: u64,
}

impl Group {
    fn add(&mut self, relationship_score: i64) {
        self.n += 1;
        self.promoters += u64::from(relationship_score >= 9);
        self.detractors += u64::from(relationship_score <= 6);
    }

    /// NPS and its margin of error; `None` for an empty group.
    fn nps(self) -> Option<(f64, f64)> {
        (self.n > 0).then(|| stats::nps(self.promoters, self.detractors, self.n))
    }
}

/// Visitors' answers folded one visitor at a time (they arrive grouped).
struct Fold<'a> {
    relationship: &'a str,
    visitors: u64,
    /// touchpoint × metric → (satisfied, unsatisfied).
    groups: BTreeMap<(String, Metric), (Group, Group)>,
    visitor: String,
    /// The current visitor's relationship score and other answers.
    score: Option<i64>,
    answers: Vec<(String, Metric, bool)>,
}

impl<'a> Fold<'a> {
    fn new(relationship: &'a str) -> Self {
        Fold {
            relationship,
            visitors: 0,
            groups: BTreeMap::new(),
            visitor: String::new(),
            score: None,
            answers: Vec::new(),
        }
    }

    fn push(&mut self, a: LatestAnswer<'_>) {
        if a.visitor != self.visitor {
            self.end_visitor();
            a.visitor.clone_into(&mut self.visitor);
        }
        let Some(metric) = Metric::parse(a.metric) else {
            return;
        };
        if a.touchpoint == self.relationship {
            if metric == Metric::Nps {
                self.score = Some(a.score);
            }
        } else if let Some(top) = satisfied(metric, a.score) {
            self.answers.push((a.touchpoint.to_owned(), metric, top));
        }
    }

    fn end_visitor(&mut self) {
        if let Some(score) = self.score.take() {
            self.visitors += 1;
            for (touchpoint, metric, top) in self.answers.drain(..) {
                let (sat, unsat) = self.groups.entry((touchpoint, metric)).or_default();
                if top { sat } else { unsat }.add(score);
            }
        }
        self.answers.clear();
    }

    fn finish(mut self) -> Drivers {
        self.end_visitor();
        let mut rows: Vec<Driver> = self
            .groups
            .into_iter()
            .map(|((touchpoint, metric), (sat, unsat))| driver(touchpoint, metric, sat, unsat))
            .collect();
        rows.sort_by(|a, b| {
            let effect = |d: &Driver| d.effect.unwrap_or(f64::NEG_INFINITY);
            b.ranked
                .cmp(&a.ranked)
                .then(effect(b).total_cmp(&effect(a)))
                .then_with(|| (&a.touchpoint, a.metric).cmp(&(&b.touchpoint, b.metric)))
        });
        Drivers {
            relationship: self.relationship.to_owned(),
            visitors: self.visitors,
            touchpoints: rows,
        }
    }
}

fn driver(touchpoint: String, metric: Metric, sat: Group, unsat: Group) -> Driver {
    let both = sat.nps().zip(unsat.nps());
    let effect = both.map(|((s, _), (u, _))| s - u);
    let moe = both.map(|((_, ms), (_, mu))| ms.hypot(mu));
    Driver {
        touchpoint,
        metric,
        visitors: sat.n + unsat.n,
        satisfied: sat.n,
        unsatisfied: unsat.n,
        effect: effect.map(|e| round(e, 2)),
        low: effect.zip(moe).map(|(e, m)| round(e - m, 2)),
        high: effect.zip(moe).map(|(e, m)| round(e + m, 2)),
        ranked: sat.n >= stats::SMALL_SAMPLE && unsat.n >= stats::SMALL_SAMPLE,
    }
}

/// The CSV of `/drivers.csv`: a row per touchpoint, the JSON rows' fields in
/// the same order after the relationship touchpoint's id.
pub fn csv(d: &Drivers, bom: bool) -> Result<Vec<u8>> {
    let columns = [
        "relationship",
        "touchpoint",
        "metric",
        "visitors",
        "satisfied",
        "unsatisfied",
        "effect",
        "low",
        "high",
        "ranked",
    ];
    let mut w = TableWriter::csv(&columns, bom)?;
    for r in &d.touchpoints {
        w.row(&[
            Cell::Text(&d.relationship),
            Cell::Text(&r.touchpoint),
            Cell::Text(r.metric.as_str()),
            Cell::count(r.visitors),
            Cell::count(r.satisfied),
            Cell::count(r.unsatisfied),
            Cell::float(r.effect),
            Cell::float(r.low),
            Cell::float(r.high),
            Cell::boolean(r.ranked),
        ])?;
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer<'a>(
        visitor: &'a str,
        touchpoint: &'a str,
        metric: &'a str,
        score: i64,
    ) -> LatestAnswer<'a> {
        LatestAnswer {
            visitor,
            touchpoint,
            metric,
            score,
        }
    }

    #[test]
    fn a_touchpoint_is_credited_with_its_answerers_relationship_nps() {
        let mut fold = Fold::new("rel");
        // 40 satisfied visitors who promote, 40 unsatisfied who detract;
        // one visitor without a relationship answer counts nowhere.
        let names: Vec<String> = (0..81).map(|i| format!("v{i:03}")).collect();
        for (i, v) in names.iter().enumerate() {
            if i == 80 {
                fold.push(answer(v, "csat", "csat", 5));
                continue;
            }
            let happy = i < 40;
            fold.push(answer(v, "csat", "csat", if happy { 5 } else { 2 }));
            fold.push(answer(v, "rel", "nps", if happy { 10 } else { 3 }));
            fold.push(answer(v, "note", "text", 0));
        }
        let d = fold.finish();
        assert_eq!(d.visitors, 80);
        assert_eq!(d.touchpoints.len(), 1);
        let row = &d.touchpoints[0];
        assert_eq!((row.satisfied, row.unsatisfied), (40, 40));
        assert_eq!(
            (row.effect, row.low, row.high),
            (Some(200.0), Some(200.0), Some(200.0))
        );
        assert!(row.ranked);
    }

    #[test]
    fn the_top_of_each_scale_is_satisfied() {
        assert_eq!(satisfied(Metric::Nps, 8), Some(false));
        assert_eq!(satisfied(Metric::Nps, 9), Some(true));
        assert_eq!(satisfied(Metric::Csat, 3), Some(false));
        assert_eq!(satisfied(Metric::Csat, 4), Some(true));
        assert_eq!(satisfied(Metric::Ces, 4), Some(false));
        assert_eq!(satisfied(Metric::Ces, 5), Some(true));
        assert_eq!(satisfied(Metric::Thumbs, 0), Some(false));
        assert_eq!(satisfied(Metric::Thumbs, 1), Some(true));
        assert_eq!(satisfied(Metric::Emoji, 4), Some(true));
        assert_eq!(satisfied(Metric::Text, 0), None);
    }
}
