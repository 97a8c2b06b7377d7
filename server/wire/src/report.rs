//! What marketers read: aggregate rows, the journey map, trends, priorities
//! and drivers. Every number carries its sample size (`responses`, or
//! `visitors`), its 95 % interval where the metric has one, and
//! `small_sample` (or `ranked: false`) when fewer than 30 answered.

use crate::Metric;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One row of `/aggregates` and `export.csv`: one group × one metric.
/// Group fields appear only when grouped by them.
///
/// Read by a visitor of its own (below) rather than a derived one: the
/// derive buffers every field of a row with `attr:` keys flattened into it,
/// which cost the dashboard's wasm 20 KB.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct AggregateRow {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub touchpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day: Option<String>,
    /// ISO week, `2026-W47` (Monday to Sunday, in the site's time zone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub week: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// Grouped by a visitor attribute: `attr:KEY` → the value.
    #[serde(flatten, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
    pub metric: Option<Metric>,
    /// n: responses counted once per id.
    pub responses: u64,
    pub impressions: u64,
    /// responses / impressions of the same touchpoints, 0–1; `None` without impressions.
    pub response_rate: Option<f64>,
    /// Mean score, `None` for metrics without a score.
    pub mean: Option<f64>,
    /// Score → count. (JSON keys are strings: read as such, then as
    /// numbers, so that a reader given parsed JSON, not its text, can too.)
    pub distribution: BTreeMap<i64, u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nps: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nps_moe: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promoters: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passives: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detractors: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csat: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csat_low: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csat_high: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ces: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ces_easy: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbs_up: Option<f64>,
    /// Responses that carry a comment (open text or a follow-up's answer).
    #[serde(default)]
    pub comments: u64,
    /// Option id → how many responses picked it (choice questions and
    /// choice follow-ups); a multiple-choice response counts once per option.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choices: Option<BTreeMap<String, u64>>,
    /// NPS's 95 % interval: `nps` ∓ `nps_moe`, within −100…100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nps_low: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nps_high: Option<f64>,
    /// CES's 95 % t interval on the mean, within 1–7 (two answers or more).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ces_low: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ces_high: Option<f64>,
    /// Thumbs-up share's 95 % Wilson interval, percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbs_low: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbs_high: Option<f64>,
    /// Prompts closed without an answer.
    #[serde(default)]
    pub dismissals: u64,
    /// dismissals / impressions, 0–1; `None` without impressions.
    #[serde(default)]
    pub dismiss_rate: Option<f64>,
    /// Share of impressions whose page view (same visitor, session and
    /// page) also recorded a behavioural signal (rage or dead click, error),
    /// 0–1; `None` without impressions.
    #[serde(default)]
    pub frustration_rate: Option<f64>,
    /// Fewer than 30 responses: read the number with care.
    #[serde(default)]
    pub small_sample: bool,
    /// Emotion flag → responses whose comment shows it (`frustration`,
    /// `delight`, `confusion`, each present, zero included).
    #[serde(default)]
    pub flags: BTreeMap<String, u64>,
}

/// `GET /v1/sites/{key}/journey`: the site's stages in journey order, each
/// with a cell per touchpoint answered or shown there.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Journey {
    pub stages: Vec<JourneyStage>,
}

/// One stage of the journey map: declared stages in the site file's order
/// (even without events), then stages events still carry that the site no
/// longer declares, then `unassigned` when it has events.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct JourneyStage {
    pub id: String,
    pub label: String,
    pub touchpoints: Vec<JourneyCell>,
}

/// One touchpoint × metric in one stage.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JourneyCell {
    pub touchpoint: String,
    pub metric: Metric,
    pub responses: u64,
    /// NPS (−100…100), CSAT % (top-2-box), CES mean, thumbs-up %, emoji
    /// mean; `None` without scored answers or for text and choice.
    pub score: Option<f64>,
    /// The score's 95 % interval (NPS margin of error, Wilson for shares,
    /// t on means).
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub impressions: u64,
    pub response_rate: Option<f64>,
    pub dismissals: u64,
    pub dismiss_rate: Option<f64>,
    /// Share of impressions whose page view also recorded a behavioural signal.
    pub frustration_rate: Option<f64>,
    pub small_sample: bool,
}

/// `GET /v1/sites/{key}/trends`: one touchpoint's score per day or week.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trends {
    pub touchpoint: String,
    pub metric: Metric,
    /// `day` or `week` (ISO weeks, `2026-W47`), in the site's time zone.
    pub interval: String,
    pub points: Vec<TrendPoint>,
}

/// One period of a trend; periods without answers are listed too (with
/// `responses: 0`), so gaps show.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrendPoint {
    pub period: String,
    pub responses: u64,
    pub score: Option<f64>,
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub small_sample: bool,
    /// Against the previous point, when both have a score.
    pub change: Option<Change>,
}

/// How a period's score differs from the one before: two-proportion z test
/// (CSAT, thumbs), NPS difference over its combined standard error, or
/// Welch's t test (CES, emoji).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// This score minus the previous one, in the score's units.
    pub delta: f64,
    /// Two-sided; `None` when the test needs more answers (a t test needs
    /// two in each period).
    pub p_value: Option<f64>,
    /// p < 0.05 and both periods have at least 30 responses.
    pub significant: bool,
}

/// `GET /v1/sites/{key}/aggregates`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Aggregates {
    pub group_by: Vec<String>,
    pub rows: Vec<AggregateRow>,
}

/// `GET /v1/sites/{key}/priorities`: where answers fall furthest below the
/// site's own norm, weighted by how many answered ("stop the bleeding").
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Priorities {
    /// Ranked rows first (largest impact first), then rows with too few
    /// answers to rank (`ranked: false`), also by impact.
    pub touchpoints: Vec<Priority>,
}

/// One touchpoint × metric of the priorities.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Priority {
    pub touchpoint: String,
    pub metric: Metric,
    pub responses: u64,
    /// The touchpoint's score (as on the journey map) and its 95 % interval.
    pub score: f64,
    pub score_low: Option<f64>,
    pub score_high: Option<f64>,
    /// The site's score for this metric over the same days, all touchpoints
    /// of the metric together.
    pub norm: f64,
    /// `norm − score` in the score's units: positive below the norm.
    pub gap: f64,
    /// `responses × gap`, the gap taken as a percentage of the score's range
    /// (NPS 200 points, CSAT and thumbs 100, CES 6, emoji 4) so that metrics
    /// compare: answers times points of the scale.
    pub impact: f64,
    /// The impact's 95 % interval, from the score's interval (the norm held
    /// fixed); `None` where the score has none (CES with one answer).
    pub low: Option<f64>,
    pub high: Option<f64>,
    /// Below the norm beyond doubt: the whole interval of the gap is above 0,
    /// with at least 30 answers.
    pub bleeding: bool,
    /// At least 30 answers; a row with fewer is listed after every ranked one.
    pub ranked: bool,
    pub small_sample: bool,
}

/// `GET /v1/sites/{key}/frustration`: behavioural signals (rage clicks,
/// dead clicks, errors) beside the scores, per touchpoint or per page.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Frustration {
    /// `touchpoint` or `page`.
    pub group_by: String,
    /// Most frustrated page views first (impressions whose page view
    /// recorded a signal), then by group.
    pub rows: Vec<FrustrationRow>,
}

/// One touchpoint (or page) × metric: how often its page views recorded
/// each signal, and the scores of answers given after a signal against
/// those given without one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FrustrationRow {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub touchpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
    pub metric: Metric,
    /// Prompts shown: the page views rates divide by.
    pub impressions: u64,
    /// Impressions whose page view recorded any signal, and their share (0–1)
    /// with its 95 % Wilson interval; `None` without impressions.
    pub frustrated: u64,
    pub frustration_rate: Option<f64>,
    pub frustration_low: Option<f64>,
    pub frustration_high: Option<f64>,
    /// Per signal: `rage_click`, `dead_click` and `error` always, any other
    /// name a page recorded too.
    pub signals: BTreeMap<String, SignalRate>,
    /// Scored answers given at or after a signal in their page view.
    pub after_signal: ScoreGroup,
    /// Scored answers given without one.
    pub without_signal: ScoreGroup,
    /// `after_signal.score − without_signal.score`, tested as trends test a
    /// change (significant at p < 0.05 with 30 answers on each side);
    /// `None` unless both have a score.
    pub difference: Option<Change>,
}

/// Impressions whose page view recorded one signal, and their share.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SignalRate {
    pub views: u64,
    /// views / impressions, 0–1, with its 95 % Wilson interval.
    pub rate: Option<f64>,
    pub low: Option<f64>,
    pub high: Option<f64>,
}

/// A group of scored answers: n, the metric's score and its 95 % interval.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ScoreGroup {
    pub responses: u64,
    pub score: Option<f64>,
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub small_sample: bool,
}

/// `GET /v1/sites/{key}/outcomes?outcome=ID`: how often visitors reached an
/// outcome after answering each touchpoint, by how they answered.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Outcomes {
    /// The outcome counted.
    pub outcome: String,
    /// Per touchpoint (in the site file's order) × score band (lowest first).
    pub rows: Vec<OutcomeRow>,
}

/// One touchpoint × score band: the visitors whose first answer to it (in
/// the range) fell in the band, and how many reached the outcome later.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutcomeRow {
    pub touchpoint: String,
    pub metric: Metric,
    /// `detractor`, `passive`, `promoter` (NPS); `low`, `mid`, `high`
    /// (CSAT and emoji 1–2/3/4–5, CES 1–3/4/5–7, thumbs down/up).
    pub band: String,
    pub visitors: u64,
    /// Visitors who reached the outcome after their answer.
    pub converted: u64,
    /// converted / visitors, 0–1, with its 95 % Wilson interval.
    pub rate: Option<f64>,
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub small_sample: bool,
    /// Against the touchpoint's lowest band (`None` on that band, or when
    /// either has no visitors): the difference of rates, two-proportion z
    /// test, significant at p < 0.05 with 30 visitors in each.
    pub difference: Option<Change>,
}

/// `GET /v1/sites/{key}/drivers?relationship=ID`: which touchpoints move the
/// relationship NPS, from visitors who answered both.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Drivers {
    /// The relationship NPS touchpoint.
    pub relationship: String,
    /// Visitors who answered it in the range (their latest answer counts).
    pub visitors: u64,
    /// Ranked rows first (largest effect first), then rows below the minimum
    /// sample (`ranked: false`).
    pub touchpoints: Vec<Driver>,
}

/// One touchpoint × metric against the relationship NPS.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Driver {
    pub touchpoint: String,
    pub metric: Metric,
    /// Visitors who answered this touchpoint and the relationship NPS.
    pub visitors: u64,
    /// Of them, those whose latest answer here was at the top of the scale
    /// (NPS 9–10, CSAT 4–5, CES 5–7, thumbs up, emoji 4–5), and the rest.
    pub satisfied: u64,
    pub unsatisfied: u64,
    /// Relationship NPS of the satisfied minus that of the unsatisfied
    /// (−200…200); `None` when either group is empty.
    pub effect: Option<f64>,
    /// The effect's 95 % interval: ± the two groups' NPS margins of error
    /// combined (square root of the sum of their squares).
    pub low: Option<f64>,
    pub high: Option<f64>,
    /// At least 30 visitors in each group; a row with fewer is listed after
    /// every ranked one.
    pub ranked: bool,
}

/// `GET /v1/sites/{key}/comments`: answers with a comment, newest first, a
/// page at a time.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Comments {
    pub comments: Vec<Comment>,
    /// Pass as `before` for the next (older) page; `None` on the last page.
    pub next: Option<String>,
}

/// One answer's comment with where and how it was given. The comment was
/// masked for personal data before it was stored; it is plain text, never
/// markup.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comment {
    pub id: String,
    pub ts: String,
    pub page: String,
    pub stage: String,
    pub touchpoint: Option<String>,
    pub metric: Option<Metric>,
    pub score: Option<i64>,
    pub comment: String,
    pub locale: Option<String>,
    pub device: Option<String>,
    /// Emotion flags (`frustration`, `delight`, `confusion`).
    pub flags: Vec<String>,
}

impl<'de> Deserialize<'de> for AggregateRow {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(RowVisitor)
    }
}

/// Reads a row's fields by name; `attr:KEY` fields go to `attributes`,
/// unknown ones are skipped (a newer server may send more), missing ones
/// take their default.
struct RowVisitor;

/// A score histogram as JSON has it (string keys).
struct Scores(BTreeMap<i64, u64>);

impl<'de> Deserialize<'de> for Scores {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        score_keys(d).map(Scores)
    }
}

impl<'de> serde::de::Visitor<'de> for RowVisitor {
    type Value = AggregateRow;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an aggregate row")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<AggregateRow, A::Error> {
        let mut r = AggregateRow::default();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "page" => r.page = map.next_value()?,
                "stage" => r.stage = map.next_value()?,
                "touchpoint" => r.touchpoint = map.next_value()?,
                "day" => r.day = map.next_value()?,
                "week" => r.week = map.next_value()?,
                "device" => r.device = map.next_value()?,
                "locale" => r.locale = map.next_value()?,
                "metric" => r.metric = map.next_value()?,
                "responses" => r.responses = map.next_value()?,
                "impressions" => r.impressions = map.next_value()?,
                "response_rate" => r.response_rate = map.next_value()?,
                "mean" => r.mean = map.next_value()?,
                "distribution" => r.distribution = map.next_value::<Scores>()?.0,
                "nps" => r.nps = map.next_value()?,
                "nps_moe" => r.nps_moe = map.next_value()?,
                "promoters" => r.promoters = map.next_value()?,
                "passives" => r.passives = map.next_value()?,
                "detractors" => r.detractors = map.next_value()?,
                "csat" => r.csat = map.next_value()?,
                "csat_low" => r.csat_low = map.next_value()?,
                "csat_high" => r.csat_high = map.next_value()?,
                "ces" => r.ces = map.next_value()?,
                "ces_easy" => r.ces_easy = map.next_value()?,
                "thumbs_up" => r.thumbs_up = map.next_value()?,
                "comments" => r.comments = map.next_value()?,
                "choices" => r.choices = map.next_value()?,
                "nps_low" => r.nps_low = map.next_value()?,
                "nps_high" => r.nps_high = map.next_value()?,
                "ces_low" => r.ces_low = map.next_value()?,
                "ces_high" => r.ces_high = map.next_value()?,
                "thumbs_low" => r.thumbs_low = map.next_value()?,
                "thumbs_high" => r.thumbs_high = map.next_value()?,
                "dismissals" => r.dismissals = map.next_value()?,
                "dismiss_rate" => r.dismiss_rate = map.next_value()?,
                "frustration_rate" => r.frustration_rate = map.next_value()?,
                "small_sample" => r.small_sample = map.next_value()?,
                "flags" => r.flags = map.next_value()?,
                k if k.starts_with("attr:") => {
                    r.attributes.insert(key.clone(), map.next_value()?);
                }
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(r)
    }
}

/// A map keyed by score, its keys read as the strings JSON has.
pub(crate) fn score_keys<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<i64, u64>, D::Error> {
    BTreeMap::<String, u64>::deserialize(d)?
        .into_iter()
        .map(|(k, v)| {
            k.parse()
                .map(|k| (k, v))
                .map_err(|_| serde::de::Error::custom(format!("score {k:?} is not a number")))
        })
        .collect()
}
