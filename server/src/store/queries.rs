//! Reading for reports: grouping columns, filters, raw responses counted,
//! and each visitor's latest answers (drivers need visitors, which rollups
//! do not keep; aggregates read the rollups, [`super::rollups`]).

use super::Store;
use crate::error::Result;
use futures_util::TryStreamExt;
use sqlx::Row;

/// A grouping column of the aggregates. Days and weeks are the site's
/// local ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupBy {
    Page,
    Stage,
    Touchpoint,
    Day,
    Week,
    Device,
    Locale,
    /// A visitor attribute the site declares (`attr:plan` → `plan`).
    Attribute(String),
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

    /// Its name in `group_by` and as a column: `page`, …, `attr:plan`.
    pub fn name(&self) -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed(match self {
            GroupBy::Page => "page",
            GroupBy::Stage => "stage",
            GroupBy::Touchpoint => "touchpoint",
            GroupBy::Day => "day",
            GroupBy::Week => "week",
            GroupBy::Device => "device",
            GroupBy::Locale => "locale",
            GroupBy::Attribute(key) => return format!("attr:{key}").into(),
        })
    }

    /// `page`, …, or `attr:KEY` with a key of 1 to 32 of a-z, 0-9 and `_`.
    pub fn parse(s: &str) -> Option<GroupBy> {
        if let Some(key) = s.strip_prefix("attr:") {
            let ok = (1..=32).contains(&key.len())
                && key
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            return ok.then(|| GroupBy::Attribute(key.to_owned()));
        }
        GroupBy::ALL.into_iter().find(|g| g.name() == s)
    }

    /// The rollup column it groups by (a week is grouped by its days, then
    /// folded; an attribute by its value, the rows of its name).
    pub fn column(&self) -> &'static str {
        match self {
            GroupBy::Page => "page",
            GroupBy::Stage => "stage",
            GroupBy::Touchpoint => "touchpoint",
            GroupBy::Day | GroupBy::Week => "day",
            GroupBy::Device => "device",
            GroupBy::Locale => "locale",
            GroupBy::Attribute(_) => "value",
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
    /// Responses whose comment shows this emotion flag (raw responses only).
    pub flag: Option<String>,
    /// Only events from this device (`mobile`, …; `unknown`: none given).
    pub device: Option<String>,
    /// Only events in this locale (`de-DE`, …; `unknown`: none given).
    pub locale: Option<String>,
    /// Responses whose comment, lower-cased, is LIKE this pattern (escaped
    /// with `\`; raw responses and comments only).
    pub search: Option<String>,
}

impl Filter {
    /// Each condition's value and its SQL before and after the value's
    /// placeholder.
    pub(super) fn conditions(&self) -> [(&Option<String>, String, &'static str); 10] {
        let search = format!("{} LIKE", folded_comment(self.search.as_deref()));
        let conditions: [(&Option<String>, &str, &'static str); 10] = [
            (&self.from, "ts >=", ""),
            (&self.to, "ts <", ""),
            (&self.page, "page =", ""),
            (&self.stage, "stage =", ""),
            (&self.touchpoint, "touchpoint =", ""),
            (&self.metric, "metric =", ""),
            // As the rollups count them: an event without one as `unknown`.
            (&self.device, "COALESCE(device, 'unknown') =", ""),
            (&self.locale, "COALESCE(locale, 'unknown') =", ""),
            // `;`-joined flags hold the name between separators (a flag is
            // one of three plain words: nothing in it is a LIKE wildcard).
            (
                &self.flag,
                "(';' || flags || ';') LIKE ('%;' ||",
                " || ';%')",
            ),
            (&self.search, &search, " ESCAPE '\\'"),
        ];
        conditions.map(|(value, before, after)| (value, before.to_owned(), after))
    }

    /// ` AND ts >= $n …` for the conditions present, numbered from `first`,
    /// and the values to bind in that order.
    fn sql(&self, first: usize) -> (String, Vec<&String>) {
        let mut sql = String::new();
        let mut binds = Vec::new();
        for (value, before, after) in self.conditions() {
            if let Some(v) = value {
                sql.push_str(&format!(" AND {before} ${}{after}", first + binds.len()));
                binds.push(v);
            }
        }
        (sql, binds)
    }
}

/// The comment lower-cased as the search `pattern` (lower-cased in Rust)
/// needs it. `LOWER` folds ASCII alone on SQLite (and on PostgreSQL in a
/// database of the C locale), so each other letter of the pattern that has
/// a capital has that capital replaced: "ÜBER" is found by "über".
fn folded_comment(pattern: Option<&str>) -> String {
    let mut sql = String::from("LOWER(comment)");
    let mut seen = Vec::new();
    for c in pattern.unwrap_or("").chars().filter(|c| !c.is_ascii()) {
        if seen.contains(&c) {
            continue;
        }
        seen.push(c);
        let mut upper = c.to_uppercase();
        // Letters only (never a quote or a backslash), written into the
        // statement as they are: one capital that lower-cases back to it.
        if let (Some(capital), None) = (upper.next(), upper.next())
            && capital != c
            && capital.is_alphabetic()
            && capital.to_lowercase().eq([c])
        {
            sql = format!("REPLACE({sql}, '{capital}', '{c}')");
        }
    }
    sql
}

/// One stored answer with a comment, as the comments stream lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct CommentRecord {
    pub id: String,
    pub ts: String,
    pub page: String,
    pub stage: String,
    pub touchpoint: Option<String>,
    pub metric: Option<String>,
    pub score: Option<i64>,
    pub comment: String,
    pub locale: Option<String>,
    pub device: Option<String>,
    /// `;`-joined emotion flags, as stored.
    pub flags: Option<String>,
}

/// Which comments, beyond a [`Filter`].
#[derive(Clone, Debug, Default)]
pub struct CommentQuery {
    /// Only this answer (an alert's link).
    pub response: Option<String>,
    /// Older than this `(ts, id)`: the previous page's last.
    pub before: Option<(String, String)>,
    pub limit: u32,
}

impl Store {
    /// A site's answers with a comment, newest first (`ts`, then `id`),
    /// along the `(site_id, kind, ts)` index.
    pub async fn comments(
        &self,
        site_id: i64,
        filter: &Filter,
        query: &CommentQuery,
    ) -> Result<Vec<CommentRecord>> {
        let (mut conditions, binds) = filter.sql(2);
        let mut n = 2 + binds.len();
        if query.response.is_some() {
            conditions.push_str(&format!(" AND id = ${n}"));
            n += 1;
        }
        if query.before.is_some() {
            conditions.push_str(&format!(
                " AND (ts < ${n} OR (ts = ${n} AND id < ${}))",
                n + 1
            ));
            n += 2;
        }
        let sql = format!(
            "SELECT id, ts, page, stage, touchpoint, metric, CAST(score AS BIGINT), comment, locale, device, flags \
             FROM events WHERE site_id = $1 AND kind = 'response' AND comment IS NOT NULL AND comment <> ''{conditions} \
             ORDER BY ts DESC, id DESC LIMIT ${n}"
        );
        let mut q = sqlx::query(&sql).bind(site_id);
        for v in binds {
            q = q.bind(v);
        }
        if let Some(id) = &query.response {
            q = q.bind(id);
        }
        if let Some((ts, id)) = &query.before {
            q = q.bind(ts).bind(id);
        }
        let rows = q.bind(i64::from(query.limit)).fetch_all(&self.pool).await?;
        Ok(rows
            .into_iter()
            .map(|r| CommentRecord {
                id: r.get(0),
                ts: r.get(1),
                page: r.get(2),
                stage: r.get(3),
                touchpoint: r.get(4),
                metric: r.get(5),
                score: r.get(6),
                comment: r.get(7),
                locale: r.get(8),
                device: r.get(9),
                flags: r.get(10),
            })
            .collect())
    }

    /// How many of a site's raw responses match `filter` (what a raw export
    /// of it writes).
    pub async fn count_responses(&self, site_id: i64, filter: &Filter) -> Result<u64> {
        let (conditions, binds) = filter.sql(2);
        let sql = format!(
            "SELECT COUNT(*) FROM events WHERE site_id = $1 AND kind = 'response'{conditions}"
        );
        let mut query = sqlx::query(&sql).bind(site_id);
        for v in binds {
            query = query.bind(v);
        }
        let n: i64 = query.fetch_one(&self.pool).await?.get(0);
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Each visitor's latest scored answer per touchpoint × metric among a
    /// site's responses in `filter`'s time range, handed to `each` one at a
    /// time, grouped by visitor (all of one visitor's answers in a row).
    /// The database keeps one row per visitor × touchpoint, so what a caller
    /// holds need not grow with events; duplicates were never stored.
    pub async fn latest_answers(
        &self,
        site_id: i64,
        filter: &Filter,
        mut each: impl FnMut(LatestAnswer<'_>),
    ) -> Result<()> {
        let range = Filter {
            from: filter.from.clone(),
            to: filter.to.clone(),
            ..Filter::default()
        };
        let (conditions, binds) = range.sql(2);
        let sql = format!(
            "SELECT visitor, touchpoint, metric, score FROM ( \
               SELECT visitor, touchpoint, metric, CAST(score AS BIGINT) AS score, \
                 ROW_NUMBER() OVER (PARTITION BY visitor, touchpoint, metric ORDER BY ts DESC, id DESC) AS nth \
               FROM events \
               WHERE site_id = $1 AND kind = 'response' AND visitor IS NOT NULL \
                 AND touchpoint IS NOT NULL AND metric IS NOT NULL AND score IS NOT NULL{conditions} \
             ) latest WHERE nth = 1 ORDER BY visitor"
        );
        let mut query = sqlx::query(&sql).bind(site_id);
        for v in binds {
            query = query.bind(v);
        }
        let mut rows = query.fetch(&self.pool);
        while let Some(r) = rows.try_next().await? {
            each(LatestAnswer {
                visitor: r.get(0),
                touchpoint: r.get(1),
                metric: r.get(2),
                score: r.get(3),
            });
        }
        Ok(())
    }
}

impl Store {
    /// Each visitor's first scored answer per touchpoint × metric among a
    /// site's responses in `filter`'s time range, and whether the visitor
    /// reached `outcome` later (at any time after the answer), handed to
    /// `each` one at a time.
    pub async fn first_answers_and_outcome(
        &self,
        site_id: i64,
        outcome: &str,
        filter: &Filter,
        mut each: impl FnMut(&str, &str, i64, bool),
    ) -> Result<()> {
        let range = Filter {
            from: filter.from.clone(),
            to: filter.to.clone(),
            ..Filter::default()
        };
        let (conditions, binds) = range.sql(3);
        // The outcome check runs along `events_outcomes` (site, outcome,
        // visitor, ts), once per visitor × touchpoint.
        let sql = format!(
            "SELECT a.touchpoint, a.metric, a.score, CAST(CASE WHEN EXISTS (\
               SELECT 1 FROM events o WHERE o.site_id = $1 AND o.kind = 'outcome' \
               AND o.outcome = $2 AND o.visitor = a.visitor AND o.ts > a.ts) THEN 1 ELSE 0 END AS BIGINT) \
             FROM ( \
               SELECT visitor, touchpoint, metric, CAST(score AS BIGINT) AS score, ts, \
                 ROW_NUMBER() OVER (PARTITION BY visitor, touchpoint, metric ORDER BY ts, id) AS nth \
               FROM events \
               WHERE site_id = $1 AND kind = 'response' AND visitor IS NOT NULL \
                 AND touchpoint IS NOT NULL AND metric IS NOT NULL AND score IS NOT NULL{conditions} \
             ) a WHERE nth = 1"
        );
        let mut query = sqlx::query(&sql).bind(site_id).bind(outcome);
        for v in binds {
            query = query.bind(v);
        }
        let mut rows = query.fetch(&self.pool);
        while let Some(r) = rows.try_next().await? {
            each(r.get(0), r.get(1), r.get(2), r.get::<i64, _>(3) != 0);
        }
        Ok(())
    }
}

/// A visitor's latest answer to one touchpoint ([`Store::latest_answers`]).
#[derive(Clone, Copy, Debug)]
pub struct LatestAnswer<'a> {
    pub visitor: &'a str,
    pub touchpoint: &'a str,
    pub metric: &'a str,
    pub score: i64,
}
