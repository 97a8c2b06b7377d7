//! Reading for reports: grouping columns, filters, and raw responses page
//! by page (aggregates read the rollups, [`super::rollups`]).

use super::Store;
use crate::error::Result;
use sqlx::Row;

/// A grouping column of the aggregates. Days and weeks are the site's
/// local ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupBy {
    Page,
    Stage,
    Touchpoint,
    Day,
    Week,
    Device,
    Locale,
}

impl GroupBy {
    pub const ALL: [GroupBy; 7] = [
        GroupBy::Page,
        GroupBy::Stage,
        GroupBy::Touchpoint,
        GroupBy::Day,
        GroupBy::Week,
        GroupBy::Device,
        GroupBy::Locale,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Page => "page",
            GroupBy::Stage => "stage",
            GroupBy::Touchpoint => "touchpoint",
            GroupBy::Day => "day",
            GroupBy::Week => "week",
            GroupBy::Device => "device",
            GroupBy::Locale => "locale",
        }
    }

    pub fn parse(s: &str) -> Option<GroupBy> {
        GroupBy::ALL.into_iter().find(|g| g.as_str() == s)
    }

    /// The rollup column it groups by (a week is grouped by its days, then
    /// folded).
    pub fn column(self) -> &'static str {
        match self {
            GroupBy::Week => "day",
            g => g.as_str(),
        }
    }
}

/// Which events an aggregate or export covers: a half-open time range
/// `[from, to)` over event `ts` (normalised RFC 3339 text) and exact matches
/// on page, stage, touchpoint and metric. A date bound is the start of
/// that day in the site's time zone ([`crate::filters`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    pub from: Option<String>,
    pub to: Option<String>,
    pub page: Option<String>,
    pub stage: Option<String>,
    pub touchpoint: Option<String>,
    pub metric: Option<String>,
}

impl Filter {
    fn conditions(&self) -> [(&Option<String>, &'static str); 6] {
        [
            (&self.from, "ts >="),
            (&self.to, "ts <"),
            (&self.page, "page ="),
            (&self.stage, "stage ="),
            (&self.touchpoint, "touchpoint ="),
            (&self.metric, "metric ="),
        ]
    }

    /// ` AND ts >= $n …` for the conditions present, numbered from `first`,
    /// and the values to bind in that order.
    fn sql(&self, first: usize) -> (String, Vec<&String>) {
        let mut sql = String::new();
        let mut binds = Vec::new();
        for (value, condition) in self.conditions() {
            if let Some(v) = value {
                sql.push_str(&format!(" AND {condition} ${}", first + binds.len()));
                binds.push(v);
            }
        }
        (sql, binds)
    }
}

/// One raw response, for `responses.csv`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseRow {
    pub id: String,
    pub ts: String,
    pub page: String,
    pub stage: String,
    pub touchpoint: Option<String>,
    pub metric: Option<String>,
    pub score: Option<i64>,
    pub comment: Option<String>,
    pub choices: Option<String>,
    pub locale: Option<String>,
    pub device: Option<String>,
}

impl Store {
    /// Up to `limit` raw responses in `(ts, id)` order, after the given
    /// `(ts, id)` position. Exports page through with it, so memory stays
    /// flat whatever the row count and no read transaction stays open.
    pub async fn responses_page(
        &self,
        site_id: i64,
        filter: &Filter,
        after: Option<(&str, &str)>,
        limit: usize,
    ) -> Result<Vec<ResponseRow>> {
        let mut sql = String::from(
            "SELECT id, ts, page, stage, touchpoint, metric, score, comment, choices, locale, device \
             FROM events WHERE site_id = $1 AND kind = 'response'",
        );
        let (conditions, binds) = filter.sql(2);
        sql.push_str(&conditions);
        let next = 2 + binds.len();
        if after.is_some() {
            // After (ts, id). `ts >= …` on its own lets both databases start
            // the (site, kind, ts) index range where the last page ended;
            // behind an OR alone they scan from the first response on every
            // page, which makes an export quadratic in its length.
            sql.push_str(&format!(
                " AND ts >= ${next} AND (ts > ${} OR id > ${})",
                next + 1,
                next + 2
            ));
        }
        sql.push_str(&format!(" ORDER BY ts, id LIMIT {limit}"));
        let mut query = sqlx::query(&sql).bind(site_id);
        for value in binds {
            query = query.bind(value);
        }
        if let Some((ts, id)) = after {
            query = query.bind(ts).bind(ts).bind(id);
        }
        let rows = query.fetch_all(&self.pool).await?;
        Ok(rows
            .into_iter()
            .map(|r| ResponseRow {
                id: r.get(0),
                ts: r.get(1),
                page: r.get(2),
                stage: r.get(3),
                touchpoint: r.get(4),
                metric: r.get(5),
                score: r.get(6),
                comment: r.get(7),
                choices: r.get(8),
                locale: r.get(9),
                device: r.get(10),
            })
            .collect())
    }
}
