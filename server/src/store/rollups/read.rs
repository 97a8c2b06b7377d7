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
    /// The visitor attribute a report groups by (`attr:plan` → `plan`):
    /// rows of the attribute grains with this `name`.
    pub attribute: Option<String>,
    /// Only this device or locale: rows of the segment grains.
    pub device: Option<String>,
    pub locale: Option<String>,
}

impl RollupFilter {
    /// Whether it keeps one device or locale: only the segment and page
    /// grains can.
    pub fn segmented(&self) -> bool {
        self.device.is_some() || self.locale.is_some()
    }

    /// The grain a report by stage, touchpoint or day reads: the days; the
    /// pages when the filter keeps one page ([`RollupFilter::page_grain`]);
    /// the segments when it keeps one device or locale.
    pub fn day_grain(&self) -> Grain {
        if self.page.is_some() {
            self.page_grain()
        } else if self.segmented() {
            Grain::Segments
        } else {
            Grain::Days
        }
    }

    /// The grain a report by page reads: the pages, or the pages per device
    /// and locale when the filter keeps one device or locale.
    pub fn page_grain(&self) -> Grain {
        if self.segmented() {
            Grain::PageSegments
        } else {
            Grain::Pages
        }
    }

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
            (&self.attribute, "name ="),
            (&self.device, "device ="),
            (&self.locale, "locale ="),
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
const READABLE: [&str; 7] = [
    "day",
    "touchpoint",
    "stage",
    "page",
    "device",
    "locale",
    "value",
];

fn check_columns(grain: Grain, columns: &[&str], filter: &RollupFilter) -> Result<()> {
    if filter.segmented() && !grain.has("device") {
        return Err(Error::bad_request(
            "invalid_filter",
            "device, locale: visitor attributes are counted apart from devices and locales; filter by device or locale without attr:KEY",
        ));
    }
    let bad = columns
        .iter()
        .find(|c| !READABLE.contains(c) || !grain.has(c))
        .copied()
        .or_else(|| (filter.page.is_some() && !grain.has("page")).then_some("page"))
        .or_else(|| (filter.attribute.is_some() != grain.has("name")).then_some("name"));
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
        let rows = self.grouped(grain, site_id, columns, None, filter).await?;
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
            .grouped(grain, site_id, columns, Some(prefix), filter)
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

    /// `SELECT <columns>, metric, <sums> FROM <rows> GROUP BY <columns>,
    /// metric` (and item, with an item `prefix`), where the rows are those of
    /// the site with a metric that the filter covers: whole months from the
    /// grain's month twin and the days at the range's edges from the grain,
    /// or days alone when a report groups by day.
    async fn grouped(
        &self,
        grain: Grain,
        site_id: i64,
        columns: &[&str],
        prefix: Option<&str>,
        filter: &RollupFilter,
    ) -> Result<Vec<sqlx::any::AnyRow>> {
        let mut groups: Vec<&str> = columns.to_vec();
        groups.push("metric");
        let groups = groups.join(", ");
        let (values, sums, group_by, condition) = match prefix {
            Some(prefix) => (
                "item, n".to_owned(),
                "item, CAST(SUM(n) AS BIGINT)".to_owned(),
                format!("{groups}, item"),
                format!(" AND item LIKE '{prefix}%'"),
            ),
            None => (
                COUNT_COLUMNS.join(", "),
                COUNT_COLUMNS
                    .iter()
                    .map(|c| format!("CAST(SUM({c}) AS BIGINT)"))
                    .collect::<Vec<_>>()
                    .join(", "),
                groups.clone(),
                String::new(),
            ),
        };
        let parts = match grain.months() {
            Some(months) if !columns.contains(&"day") => split(grain, months, filter),
            _ => vec![(grain, filter.clone())],
        };
        // Each part binds the site then its filter's values, numbered on.
        let mut selects = Vec::new();
        let mut binds: Vec<Vec<&str>> = Vec::new();
        let mut next = 1;
        for (part, part_filter) in &parts {
            let table = if prefix.is_some() {
                part.items()
            } else {
                part.table()
            };
            let (conditions, values_bound) = part_filter.sql(next + 1);
            selects.push(format!(
                "SELECT {groups}, {values} FROM {table} WHERE site_id = ${next} AND metric <> ''{condition}{conditions}"
            ));
            next += 1 + values_bound.len();
            binds.push(values_bound);
        }
        let sql = format!(
            "SELECT {groups}, {sums} FROM ({}) r GROUP BY {group_by}",
            selects.join(" UNION ALL ")
        );
        let mut query = sqlx::query(&sql);
        for part in binds {
            query = query.bind(site_id);
            for v in part {
                query = query.bind(v);
            }
        }
        Ok(query.fetch_all(&self.pool).await?)
    }
}

/// The parts of a range of days `[from, to)` as whole months `[lo, hi)`
/// of the month grain and the days before `lo` and from `hi` of the day
/// grain; days alone when the range holds no whole month.
fn split(days: Grain, months: Grain, filter: &RollupFilter) -> Vec<(Grain, RollupFilter)> {
    let lo = filter.from_day.as_deref().map(|d| {
        if d.ends_with("-01") {
            d.to_owned()
        } else {
            next_month(d)
        }
    });
    let hi = filter.to_day.as_deref().map(month_of);
    if let (Some(lo), Some(hi)) = (&lo, &hi)
        && lo >= hi
    {
        return vec![(days, filter.clone())];
    }
    let range = |from: Option<String>, to: Option<String>| RollupFilter {
        from_day: from,
        to_day: to,
        ..filter.clone()
    };
    let mut parts = vec![(months, range(lo.clone(), hi.clone()))];
    if let (Some(from), Some(lo)) = (&filter.from_day, &lo)
        && from < lo
    {
        parts.push((days, range(Some(from.clone()), Some(lo.clone()))));
    }
    if let (Some(to), Some(hi)) = (&filter.to_day, &hi)
        && hi < to
    {
        parts.push((days, range(Some(hi.clone()), Some(to.clone()))));
    }
    parts
}

/// `2026-08-17` → `2026-08-01`.
fn month_of(day: &str) -> String {
    format!("{}01", day.get(..8).unwrap_or(day))
}

/// `2026-12-17` → `2027-01-01`.
fn next_month(day: &str) -> String {
    let year: i32 = day.get(..4).and_then(|y| y.parse().ok()).unwrap_or(0);
    let month: u32 = day.get(5..7).and_then(|m| m.parse().ok()).unwrap_or(12);
    if month >= 12 {
        format!("{:04}-01-01", year + 1)
    } else {
        format!("{year:04}-{:02}-01", month + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(from: Option<&str>, to: Option<&str>) -> RollupFilter {
        RollupFilter {
            from_day: from.map(str::to_owned),
            to_day: to.map(str::to_owned),
            ..RollupFilter::default()
        }
    }

    fn ranges(f: &RollupFilter) -> Vec<(Grain, Option<String>, Option<String>)> {
        split(Grain::Pages, Grain::PageMonths, f)
            .into_iter()
            .map(|(g, f)| (g, f.from_day, f.to_day))
            .collect()
    }

    fn s(v: &str) -> Option<String> {
        Some(v.to_owned())
    }

    #[test]
    fn a_range_reads_whole_months_and_its_edge_days() {
        use Grain::{PageMonths as M, Pages as D};
        assert_eq!(ranges(&filter(None, None)), [(M, None, None)]);
        assert_eq!(
            ranges(&filter(Some("2026-08-15"), Some("2026-11-03"))),
            [
                (M, s("2026-09-01"), s("2026-11-01")),
                (D, s("2026-08-15"), s("2026-09-01")),
                (D, s("2026-11-01"), s("2026-11-03")),
            ]
        );
        assert_eq!(
            ranges(&filter(Some("2026-08-01"), Some("2026-09-01"))),
            [(M, s("2026-08-01"), s("2026-09-01"))]
        );
        assert_eq!(
            ranges(&filter(Some("2026-12-02"), None)),
            [
                (M, s("2027-01-01"), None),
                (D, s("2026-12-02"), s("2027-01-01"))
            ]
        );
        assert_eq!(
            ranges(&filter(None, Some("2026-03-09"))),
            [
                (M, None, s("2026-03-01")),
                (D, s("2026-03-01"), s("2026-03-09"))
            ]
        );
        // No whole month inside: days alone.
        assert_eq!(
            ranges(&filter(Some("2026-08-03"), Some("2026-08-20"))),
            [(D, s("2026-08-03"), s("2026-08-20"))]
        );
        assert_eq!(
            ranges(&filter(Some("2026-08-20"), Some("2026-09-10"))),
            [(D, s("2026-08-20"), s("2026-09-10"))]
        );
    }
}
