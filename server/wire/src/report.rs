//! What marketers read: aggregate rows.

use crate::Metric;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One row of `/aggregates` and `export.csv`: one group × one metric.
/// Group fields appear only when grouped by them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AggregateRow {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub touchpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    pub metric: Option<Metric>,
    /// n: responses counted once per id.
    pub responses: u64,
    pub impressions: u64,
    /// responses / impressions of the same touchpoints, 0–1; `None` without impressions.
    pub response_rate: Option<f64>,
    /// Mean score, `None` for metrics without a score.
    pub mean: Option<f64>,
    /// Score → count.
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
}

/// `GET /v1/sites/{key}/aggregates`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Aggregates {
    pub group_by: Vec<String>,
    pub rows: Vec<AggregateRow>,
}
