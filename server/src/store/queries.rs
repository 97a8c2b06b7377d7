//! Reading events for reports: grouping columns, filters, the counts
//! aggregates are folded from, and raw responses page by page.

use super::Store;
use crate::error::Result;
use sqlx::Row;

/// A grouping column of the aggregates, mapped to its SQL expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupBy {
    Page,
    Stage,
    Touchpoint,
    Day,
    Device,
    Locale,
}

impl GroupBy {
    pub const ALL: [GroupBy; 6] = [
        GroupBy::Page,
        GroupBy::Stage,
        GroupBy::Touchpoint,
        GroupBy::Day,
        GroupBy::Device,
        GroupBy::Locale,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Page => "page",
            GroupBy::Stage => "stage",
            GroupBy::Touchpoint => "touchpoint",
            GroupBy::Day => "day",
            GroupBy::Device => "device",
            GroupBy::Locale => "locale",
        }
    }

    pub fn parse(s: &str) -> Option<GroupBy> {
        GroupBy::ALL.into_iter().find(|g| g.as_str() == s)
    }

    fn sql(self) -> &'static str {
        match self {
            GroupBy::Page => "page",
            GroupBy::Stage => "stage",
            GroupBy::Touchpoint => "COALESCE(touchpoint, '')",
            GroupBy::Day => "substr(ts, 1, 10)",
            GroupBy::Device => "COALESCE(device, 'unknown')",
            GroupBy::Locale => "COALESCE(locale, 'unknown')",
        }
    }
}

/// Which events an aggregate or export covers: a half-open time range
/// `[from, to)` over event `ts` (normalised RFC 3339 text) and exact matches
/// on page, stage, touchpoint and metric.
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

/// Count of events sharing a group, metric, kind and score, and how many
/// of them carry a comment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CountRow {
    pub groups: Vec<String>,
    pub metric: String,
    pub kind: String,
    pub score: Option<i64>,
    pub count: u64,
    pub comments: u64,
}

/// Count of responses sharing a group, metric and set of picked options
/// (`choices`, the stored JSON array).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChoiceCountRow {
    pub groups: Vec<String>,
    pub metric: String,
    pub choices: String,
    pub count: u64,
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
    /// Counts responses and impressions per group × metric × kind × score.
    pub async fn aggregate_counts(
        &self,
        site_id: i64,
        group_by: &[GroupBy],
        filter: &Filter,
    ) -> Result<Vec<CountRow>> {
        let rows = self
            .grouped(
                site_id,
                group_by,
                filter,
                "metric, kind, score, COUNT(*), COUNT(comment)",
                "kind IN ('response', 'impression') AND metric IS NOT NULL",
                "metric, kind, score",
            )
            .await?;
        let n = group_by.len();
        Ok(rows
            .into_iter()
            .map(|row| CountRow {
                groups: (0..n).map(|i| row.get::<String, _>(i)).collect(),
                metric: row.get(n),
                kind: row.get(n + 1),
                score: row.get(n + 2),
                count: u64::try_from(row.get::<i64, _>(n + 3)).unwrap_or(0),
                comments: u64::try_from(row.get::<i64, _>(n + 4)).unwrap_or(0),
            })
            .collect())
    }

    /// Counts responses per group × metric × set of picked options. The
    /// sets are few (options are at most 20 and mostly picked alone), so
    /// they are split into options by the caller, the same on both databases.
    pub async fn choice_counts(
        &self,
        site_id: i64,
        group_by: &[GroupBy],
        filter: &Filter,
    ) -> Result<Vec<ChoiceCountRow>> {
        let rows = self
            .grouped(
                site_id,
                group_by,
                filter,
                "metric, choices, COUNT(*)",
                "kind = 'response' AND metric IS NOT NULL AND choices IS NOT NULL",
                "metric, choices",
            )
            .await?;
        let n = group_by.len();
        Ok(rows
            .into_iter()
            .map(|row| ChoiceCountRow {
                groups: (0..n).map(|i| row.get::<String, _>(i)).collect(),
                metric: row.get(n),
                choices: row.get(n + 1),
                count: u64::try_from(row.get::<i64, _>(n + 2)).unwrap_or(0),
            })
            .collect())
    }

    /// `SELECT <groups>, <columns> FROM events WHERE site_id AND <condition>
    /// AND <filter> GROUP BY <groups>, <group>`.
    async fn grouped(
        &self,
        site_id: i64,
        group_by: &[GroupBy],
        filter: &Filter,
        columns: &str,
        condition: &str,
        group: &str,
    ) -> Result<Vec<sqlx::any::AnyRow>> {
        let mut select = String::from("SELECT ");
        let mut groups = String::new();
        for (i, g) in group_by.iter().enumerate() {
            select.push_str(&format!("{} AS g{i}, ", g.sql()));
            groups.push_str(&format!("g{i}, "));
        }
        select.push_str(&format!(
            "{columns} FROM events WHERE site_id = $1 AND {condition}"
        ));
        let (conditions, binds) = filter.sql(2);
        select.push_str(&conditions);
        select.push_str(&format!(" GROUP BY {groups}{group}"));
        let mut query = sqlx::query(&select).bind(site_id);
        for value in binds {
            query = query.bind(value);
        }
        Ok(query.fetch_all(&self.pool).await?)
    }

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
