//! "What changed, in plain words": sentences written by rules from the
//! API's numbers (trends' significant changes, the top priority), never
//! from anything the API did not say. Most people read sentences, not
//! tables; each sentence carries its numbers so that it can be checked.

use crate::format::{self, Day};
use std::collections::BTreeMap;
use touchpoint_wire::{Journey, Metric, Priorities, Stage, Trends, page};

/// How a sentence should be read at a glance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    Worse,
    Better,
    Priority,
    Quiet,
}

/// One sentence and its tone.
#[derive(Clone, Debug, PartialEq)]
pub struct Said {
    pub text: String,
    pub tone: Tone,
}

/// A touchpoint as people call it: the stage where most of its answers
/// were given and what it measures ("Checkout effort").
#[derive(Clone, Debug, PartialEq)]
pub struct Named {
    pub name: String,
    pub metric: Metric,
}

/// Every touchpoint of the journey map with its name; two touchpoints that
/// would share a name carry their ids as well.
pub fn names(journey: &Journey) -> BTreeMap<String, Named> {
    let mut best: BTreeMap<&str, (u64, &str, &str, Metric)> = BTreeMap::new();
    for stage in &journey.stages {
        for cell in &stage.touchpoints {
            let entry =
                best.entry(&cell.touchpoint)
                    .or_insert((0, &stage.id, &stage.label, cell.metric));
            if cell.responses > entry.0 {
                *entry = (cell.responses, &stage.id, &stage.label, cell.metric);
            }
        }
    }
    let plain = |id: &str, stage: &str, label: &str, metric: Metric| {
        if stage == "unassigned" {
            format!("{id} {}", format::metric_noun(metric))
        } else {
            format!("{label} {}", format::metric_noun(metric))
        }
    };
    let mut uses: BTreeMap<String, usize> = BTreeMap::new();
    for (id, (_, stage, label, metric)) in &best {
        *uses.entry(plain(id, stage, label, *metric)).or_default() += 1;
    }
    best.into_iter()
        .map(|(id, (_, stage, label, metric))| {
            let mut name = plain(id, stage, label, metric);
            if uses[&name] > 1 {
                name = format!("{name} ({id})");
            }
            (id.to_owned(), Named { name, metric })
        })
        .collect()
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map_or_else(String::new, |c| {
        c.to_uppercase().chain(chars).collect::<String>()
    })
}

/// The latest significant change of a weekly trend, when it happened this
/// week or last week: "Checkout effort got worse this week: 6.1 → 3.4 on
/// 1–7, 150 answers, p < 0.01". Older changes are not news.
pub fn change(name: &str, trend: &Trends, today: Day) -> Option<Said> {
    if trend.interval != "week" {
        return None;
    }
    let this_week = today.iso_week();
    let last_week = today.plus(-7).iso_week();
    let (i, point) = trend
        .points
        .iter()
        .enumerate()
        .rev()
        .take(2)
        .find(|(_, p)| p.change.as_ref().is_some_and(|c| c.significant))?;
    let when = if point.period == this_week {
        "this week"
    } else if point.period == last_week {
        "last week"
    } else {
        return None;
    };
    let change = point.change.as_ref()?;
    let after = point.score?;
    let before = trend.points.get(i.checked_sub(1)?)?.score?;
    let metric = trend.metric;
    let (verb, tone) = if change.delta < 0.0 {
        ("got worse", Tone::Worse)
    } else {
        ("improved", Tone::Better)
    };
    let p = change
        .p_value
        .map(|p| format!(", {}", format::p_value(p)))
        .unwrap_or_default();
    Some(Said {
        text: format!(
            "{} {verb} {when}: {} → {}{}, {} answers{p}.",
            capitalised(name),
            format::score(metric, before),
            format::score(metric, after),
            format::scale_note(metric),
            format::count(point.responses),
        ),
        tone,
    })
}

/// The top priority as one sentence: the first ranked touchpoint, said as
/// firmly as its numbers allow.
pub fn priority(names: &BTreeMap<String, Named>, priorities: &Priorities) -> Option<Said> {
    let name = |id: &str| {
        names
            .get(id)
            .map_or_else(|| id.to_owned(), |n| n.name.clone())
    };
    let Some(top) = priorities.touchpoints.iter().find(|p| p.ranked) else {
        return (!priorities.touchpoints.is_empty()).then(|| Said {
            text:
                "Too few answers to set priorities yet: a touchpoint needs 30 answers to be ranked."
                    .to_owned(),
            tone: Tone::Quiet,
        });
    };
    let m = top.metric;
    let numbers = format!(
        "{}{} against the site's {}, {} answers",
        format::score(m, top.score),
        format::scale_note(m),
        format::score(m, top.norm),
        format::count(top.responses)
    );
    Some(if top.bleeding {
        Said {
            text: format!(
                "Fix first: {} is below the site's norm beyond doubt, {numbers}.",
                name(&top.touchpoint)
            ),
            tone: Tone::Priority,
        }
    } else if top.gap > 0.0 {
        Said {
            text: format!(
                "Nothing is below the site's norm beyond doubt; furthest below is {}, {numbers}.",
                name(&top.touchpoint)
            ),
            tone: Tone::Quiet,
        }
    } else {
        Said {
            text: "No touchpoint scores below the site's norm.".to_owned(),
            tone: Tone::Quiet,
        }
    })
}

/// The stage tester's answer: which journey stage a URL (or a path) is in,
/// by the same rules the server applies to every event
/// (`touchpoint_wire::page`), and which glob decided it.
pub fn stage_of(stages: &[Stage], input: &str) -> String {
    let input = input.trim();
    let Some(path) = page::normalize_page(input) else {
        return format!("{input:?} is neither a URL nor a path (a path starts with /).");
    };
    let id = page::resolve_stage(stages, None, &path);
    match stages.iter().find(|s| s.id == id) {
        Some(stage) => {
            let glob = stage
                .pages
                .iter()
                .find(|g| page::glob_match(g, &path))
                .map_or("", String::as_str);
            format!(
                "{path} is in the stage {} ({}): it matches {glob}.",
                stage.label, stage.id
            )
        }
        None => format!(
            "{path} is in no stage: no stage's pages match it, so its answers count as unassigned."
        ),
    }
}

/// The number a refusal asks to confirm (`…?confirm_purge=N`), if it does.
pub fn purge_asked(message: &str) -> Option<u64> {
    let n = message.split("confirm_purge=").nth(1)?;
    n.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use touchpoint_wire::{Change, JourneyCell, JourneyStage, Priority, TrendPoint};

    #[test]
    fn the_count_to_confirm_is_read_from_the_refusal() {
        assert_eq!(
            purge_asked(
                "site.retention_days: 30 days (now 365) deletes 12 events at the next purge; \
                 to go ahead, send the same request with ?confirm_purge=12"
            ),
            Some(12)
        );
        assert_eq!(purge_asked("site.name: must be 1 to 100 characters"), None);
    }

    fn cell(touchpoint: &str, metric: Metric, responses: u64) -> JourneyCell {
        JourneyCell {
            touchpoint: touchpoint.into(),
            metric,
            responses,
            score: None,
            low: None,
            high: None,
            impressions: 0,
            response_rate: None,
            dismissals: 0,
            dismiss_rate: None,
            frustration_rate: None,
            small_sample: responses < 30,
        }
    }

    fn stage(id: &str, label: &str, cells: Vec<JourneyCell>) -> JourneyStage {
        JourneyStage {
            id: id.into(),
            label: label.into(),
            touchpoints: cells,
        }
    }

    fn point(period: &str, responses: u64, score: f64, change: Option<(f64, f64)>) -> TrendPoint {
        TrendPoint {
            period: period.into(),
            responses,
            score: Some(score),
            low: None,
            high: None,
            small_sample: responses < 30,
            change: change.map(|(delta, p)| Change {
                delta,
                p_value: Some(p),
                significant: p < 0.05 && responses >= 30,
            }),
        }
    }

    const WEDNESDAY: Day = Day {
        year: 2026,
        month: 12,
        day: 2,
    };

    #[test]
    fn the_stage_tester_applies_the_servers_page_rules() {
        let stages = vec![
            Stage {
                id: "evaluate".into(),
                label: "Evaluate".into(),
                pages: vec!["/pricing".into(), "/product/*".into()],
            },
            Stage {
                id: "purchase".into(),
                label: "Purchase".into(),
                pages: vec!["/checkout/**".into()],
            },
        ];
        assert_eq!(
            stage_of(&stages, " https://shop.example/product/42/?utm=x#top "),
            "/product/42 is in the stage Evaluate (evaluate): it matches /product/*."
        );
        assert_eq!(
            stage_of(&stages, "/checkout/pay/card"),
            "/checkout/pay/card is in the stage Purchase (purchase): it matches /checkout/**."
        );
        assert!(stage_of(&stages, "/product/42/reviews").contains("in no stage"));
        assert!(stage_of(&stages, "shop").contains("neither a URL nor a path"));
    }

    #[test]
    fn touchpoints_are_named_by_their_busiest_stage() {
        let journey = Journey {
            stages: vec![
                stage(
                    "browse",
                    "Product page",
                    vec![cell("pdp_csat", Metric::Csat, 5)],
                ),
                stage(
                    "checkout",
                    "Checkout",
                    vec![
                        cell("pdp_csat", Metric::Csat, 50),
                        cell("checkout_ces", Metric::Ces, 10),
                        cell("checkout_ces2", Metric::Ces, 10),
                    ],
                ),
                stage(
                    "unassigned",
                    "Unassigned",
                    vec![cell("nps", Metric::Nps, 3)],
                ),
            ],
        };
        let names = names(&journey);
        assert_eq!(names["pdp_csat"].name, "Checkout satisfaction");
        assert_eq!(names["checkout_ces"].name, "Checkout effort (checkout_ces)");
        assert_eq!(names["nps"].name, "nps NPS");
    }

    #[test]
    fn a_significant_change_this_week_is_one_sentence_with_its_numbers() {
        let trend = Trends {
            touchpoint: "checkout_ces".into(),
            metric: Metric::Ces,
            interval: "week".into(),
            points: vec![
                point("2026-W48", 120, 6.1, None),
                point("2026-W49", 150, 3.4, Some((-2.7, 0.004))),
            ],
        };
        let said = change("checkout effort", &trend, WEDNESDAY).unwrap();
        assert_eq!(
            said.text,
            "Checkout effort got worse this week: 6.1 → 3.4 on 1–7, 150 answers, p < 0.01."
        );
        assert_eq!(said.tone, Tone::Worse);
    }

    #[test]
    fn only_significant_recent_changes_are_news() {
        let mut trend = Trends {
            touchpoint: "t".into(),
            metric: Metric::Nps,
            interval: "week".into(),
            points: vec![
                point("2026-W47", 100, 10.0, None),
                point("2026-W48", 100, 40.0, Some((30.0, 0.001))),
                point("2026-W49", 20, 5.0, Some((-35.0, 0.2))),
            ],
        };
        let said = change("Relationship NPS", &trend, WEDNESDAY).unwrap();
        assert_eq!(
            said.text,
            "Relationship NPS improved last week: +10 → +40, 100 answers, p < 0.01."
        );
        assert_eq!(said.tone, Tone::Better);
        // The same change two weeks later is old news.
        assert_eq!(change("x", &trend, WEDNESDAY.plus(14)), None);
        // Not significant: nothing to say.
        trend.points[1].change.as_mut().unwrap().significant = false;
        assert_eq!(change("x", &trend, WEDNESDAY), None);
    }

    fn prio(touchpoint: &str, score: f64, norm: f64, ranked: bool, bleeding: bool) -> Priority {
        Priority {
            touchpoint: touchpoint.into(),
            metric: Metric::Csat,
            responses: 240,
            score,
            score_low: None,
            score_high: None,
            norm,
            gap: norm - score,
            impact: 0.0,
            low: None,
            high: None,
            bleeding,
            ranked,
            small_sample: !ranked,
        }
    }

    #[test]
    fn the_top_priority_is_said_as_firmly_as_its_numbers_allow() {
        let names = BTreeMap::from([(
            "pdp".to_owned(),
            Named {
                name: "Product page satisfaction".into(),
                metric: Metric::Csat,
            },
        )]);
        let p = |rows| Priorities { touchpoints: rows };
        assert_eq!(
            priority(&names, &p(vec![prio("pdp", 62.0, 81.0, true, true)]))
                .unwrap()
                .text,
            "Fix first: Product page satisfaction is below the site's norm beyond doubt, 62 % satisfied against the site's 81 %, 240 answers."
        );
        assert_eq!(
            priority(&names, &p(vec![prio("pdp", 78.0, 81.0, true, false)]))
                .unwrap()
                .tone,
            Tone::Quiet
        );
        assert!(
            priority(&names, &p(vec![prio("x", 78.0, 81.0, false, false)]))
                .unwrap()
                .text
                .starts_with("Too few answers")
        );
        assert_eq!(priority(&names, &p(vec![])), None);
    }
}
