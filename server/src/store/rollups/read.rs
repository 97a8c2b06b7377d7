//! Summing rollup rows for reports.

use super::{COUNT_COLUMNS, Counts, Grain};
use crate::error::{Error, Result};
use crate::store::Store;
use sqlx::Row;

/// A row of summed counts: one group × metric.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RollupRow {
    /// The grouping columns' values, in the order asked.
    pub groups: Vec<String>,
    pub metric: String,
    pub counts: Counts,
}

/// An item's summed count for one group × metric (`choice:price` → 12).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemRow {
    pub groups: Vec<String>,
    pub metric: String,
    pub item: String,
    pub n: i64,
}

/// Which rollup rows a report covers: local days `[from_day, to_day)` and
/// exact matches.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RollupFilter {
    pub from_day: Option<String>,
    pub to_day: Option<String>,
    pub page: Option<String>,
    pub stage: Option<String>,
    pub touchpoint: Option<String>,
    pub metric: Option<String>,
}

impl RollupFilter {
    fn sql(&self, first: usize) -> (String, Vec<&str>) {
        let mut sql = String::new();
        let mut binds = Vec::new();
        for (value, condition) in [
            (&self.from_day, "day >="),
            (&self.to_day, "day <"),
            (&self.page, "page ="),
            (&self.stage, "stage ="),
            (&self.touchpoint, "touchpoint ="),
            (&self.metric, "metric ="),
        ] {
            if let Some(v) = value {
                sql.push_str(&format!(" AND {condition} ${}", first + binds.len()));
                binds.push(v.as_str());
            }
        }
        (sql, binds)
    }
}

/// The columns a report may group by or filter on; anything else is a bug.
const READABLE: [&str; 6] = ["day", "touchpoint", "stage", "page", "device", "locale"];

fn check_columns(grain: Grain, columns: &[&str], filter: &RollupFilter) -> Result<()> {
    let bad = columns
        .iter()
        .find(|c| !READABLE.contains(c) || !grain.has(c))
        .copied()
        .or_else(|| (filter.page.is_some() && !grain.has("page")).then_some("page"));
    match bad {
        Some(c) => Err(Error::Internal(format!(
            "{} has no column {c}",
            grain.table()
        ))),
        None => Ok(()),
    }
}

impl Store {
    /// Sums a site's rollup counts per group × metric (rows of events
    /// without a metric, signals, left out).
    pub async fn rollup_counts(
        &self,
        site_id: i64,
        grain: Grain,
        columns: &[&str],
        filter: &RollupFilter,
    ) -> Result<Vec<RollupRow>> {
        check_columns(grain, columns, filter)?;
        let sums: Vec<String> = COUNT_COLUMNS
            .iter()
            .map(|c| format!("CAST(SUM({c}) AS BIGINT)"))
            .collect();
        let rows = self
            .grouped(
                grain.table(),
                site_id,
                columns,
                &sums.join(", "),
                None,
                filter,
            )
            .await?;
        let n = columns.len();
        Ok(rows
            .iter()
            .map(|row| {
                let values: Vec<i64> = (0..COUNT_COLUMNS.len())
                    .map(|i| row.get::<i64, _>(n + 1 + i))
                    .collect();
                RollupRow {
                    groups: (0..n).map(|i| row.get::<String, _>(i)).collect(),
                    metric: row.get(n),
                    counts: Counts::from_values(&values),
                }
            })
            .collect())
    }

    /// Sums a site's items starting with `prefix` (`choice:`) per group ×
    /// metric × item.
    pub async fn rollup_items(
        &self,
        site_id: i64,
        grain: Grain,
        columns: &[&str],
        filter: &RollupFilter,
        prefix: &str,
    ) -> Result<Vec<ItemRow>> {
        check_columns(grain, columns, filter)?;
        if !prefix.bytes().all(|b| b.is_ascii_lowercase() || b == b':') {
            return Err(Error::Internal(format!("bad item prefix {prefix:?}")));
        }
        let rows = self
            .grouped(
                grain.items(),
                site_id,
                columns,
                "item, CAST(SUM(n) AS BIGINT)",
                Some(&format!("item LIKE '{prefix}%'")),
                filter,
            )
            .await?;
        let n = columns.len();
        Ok(rows
            .iter()
            .map(|row| ItemRow {
                groups: (0..n).map(|i| row.get::<String, _>(i)).collect(),
                metric: row.get(n),
                item: row.get(n + 1),
                n: row.get(n + 2),
            })
            .collect())
    }

    /// `SELECT <columns>, metric, <sums> FROM <table> WHERE site_id AND
    /// metric <> '' <filter> GROUP BY <columns>, metric`, and with an item
    /// condition, by item too.
    async fn grouped(
        &self,
        table: &str,
        site_id: i64,
        columns: &[&str],
        sums: &str,
        items: Option<&str>,
        filter: &RollupFilter,
    ) -> Result<Vec<sqlx::any::AnyRow>> {
        let mut groups: Vec<&str> = columns.to_vec();
        groups.push("metric");
        let (conditions, binds) = filter.sql(2);
        let mut group_by = groups.join(", ");
        let mut condition = String::new();
        if let Some(items) = items {
            group_by.push_str(", item");
            condition = format!(" AND {items}");
        }
        let sql = format!(
            "SELECT {}, {sums} FROM {table} WHERE site_id = $1 AND metric <> ''{condition}{conditions} \
             GROUP BY {group_by}",
            groups.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(site_id);
        for v in binds {
            query = query.bind(v);
        }
        Ok(query.fetch_all(&self.pool).await?)
    }
}
