//! Rollups: what every aggregate, the journey map and trends read instead
//! of raw events. Counts per site and local day (the site's time zone),
//! kept in the same transaction as the raw insert or deletion they count,
//! with additive upserts (`n = n + excluded.n`), so several servers on one
//! PostgreSQL stay exact. A cache of the `events` table: [`Store::rebuild_rollups`]
//! (`touchpoint rollup rebuild`) recreates them from it, and a property
//! test holds that both always agree.
//!
//! Three grains, each a table of counts and a table of keyed items, all
//! keyed by `(site_id, day, …, touchpoint, stage, metric)`:
//!
//! | grain | tables | extra key | read when |
//! |---|---|---|---|
//! | [`Grain::Days`] | `rollup_days`, `rollup_day_items` | — | journey, trends, grouping by stage, touchpoint, day, week |
//! | [`Grain::Segments`] | `rollup_segments`, `rollup_segment_items` | `device`, `locale` | grouping by device or locale |
//! | [`Grain::Pages`] | `rollup_pages`, `rollup_page_items` | `page` | grouping or filtering by page |
//!
//! A shop with 100 000 product pages has as many page rows a day as pages
//! answered that day, but they live in their own table, read only when a
//! report asks for pages: the journey map and trends read a few rows per
//! touchpoint and day, however many pages there are.
//!
//! Counts per row: impressions, responses, dismissals, comments, signals
//! (behavioural, on rows without a touchpoint), `signal_views` (impressions
//! whose page view — same visitor, session and page — also recorded a
//! signal: what frustration rates divide by impressions) and the score
//! histogram `s0`…`s10` (every scale fits 0–10; scales never mix because the
//! metric is part of the key). Items count what has no fixed number of
//! columns: `choice:<option>`, `signal:<name>`, and the room left for
//! emotion flags (`flag:<name>`) next.

use super::{Backend, Store};
use crate::error::{Error, Result};
use crate::zone::Zone;
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// The event kinds rollups count (and the retention purge walks, kind by
/// kind, along the `(site_id, kind, ts)` index). A new kind is added here.
pub const KINDS: [&str; 4] = ["impression", "response", "dismiss", "signal"];

/// Score columns `s0`…`s10`.
pub const SCORES: usize = 11;

/// Where a row of counts is kept; see the module documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Grain {
    Days,
    Segments,
    Pages,
}

impl Grain {
    pub const ALL: [Grain; 3] = [Grain::Days, Grain::Segments, Grain::Pages];

    pub fn table(self) -> &'static str {
        match self {
            Grain::Days => "rollup_days",
            Grain::Segments => "rollup_segments",
            Grain::Pages => "rollup_pages",
        }
    }

    pub fn items(self) -> &'static str {
        match self {
            Grain::Days => "rollup_day_items",
            Grain::Segments => "rollup_segment_items",
            Grain::Pages => "rollup_page_items",
        }
    }

    /// Key columns beyond `(site_id, day, …, touchpoint, stage, metric)`.
    pub fn dims(self) -> &'static [&'static str] {
        match self {
            Grain::Days => &[],
            Grain::Segments => &["device", "locale"],
            Grain::Pages => &["page"],
        }
    }

    /// Whether a report grouped by or filtered on `column` can read this grain.
    pub fn has(self, column: &str) -> bool {
        matches!(column, "day" | "touchpoint" | "stage" | "metric") || self.dims().contains(&column)
    }

    /// The key columns, in primary-key order.
    fn key_columns(self) -> Vec<&'static str> {
        let mut columns = vec!["site_id", "day"];
        columns.extend(self.dims());
        columns.extend(["touchpoint", "stage", "metric"]);
        columns
    }
}

/// The count columns of every grain's table, in order.
pub const COUNT_COLUMNS: [&str; 6 + SCORES] = [
    "impressions",
    "responses",
    "dismissals",
    "comments",
    "signals",
    "signal_views",
    "s0",
    "s1",
    "s2",
    "s3",
    "s4",
    "s5",
    "s6",
    "s7",
    "s8",
    "s9",
    "s10",
];

/// One row's counts (signed: a deletion subtracts).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub impressions: i64,
    pub responses: i64,
    pub dismissals: i64,
    pub comments: i64,
    pub signals: i64,
    pub signal_views: i64,
    /// Responses per score 0–10.
    pub scores: [i64; SCORES],
}

impl Counts {
    fn values(&self) -> [i64; 6 + SCORES] {
        let mut v = [0; 6 + SCORES];
        v[..6].copy_from_slice(&[
            self.impressions,
            self.responses,
            self.dismissals,
            self.comments,
            self.signals,
            self.signal_views,
        ]);
        v[6..].copy_from_slice(&self.scores);
        v
    }

    fn from_values(v: &[i64]) -> Counts {
        let mut scores = [0; SCORES];
        scores.copy_from_slice(&v[6..6 + SCORES]);
        Counts {
            impressions: v[0],
            responses: v[1],
            dismissals: v[2],
            comments: v[3],
            signals: v[4],
            signal_views: v[5],
            scores,
        }
    }

    pub fn add(&mut self, other: &Counts) {
        let mut v = self.values();
        for (a, b) in v.iter_mut().zip(other.values()) {
            *a += b;
        }
        *self = Counts::from_values(&v);
    }

    fn is_zero(&self) -> bool {
        self.values().iter().all(|v| *v == 0)
    }
}

/// What rollups need of a stored event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Facts {
    pub id: String,
    pub kind: String,
    pub touchpoint: Option<String>,
    pub page: String,
    pub stage: String,
    pub metric: Option<String>,
    pub score: Option<i64>,
    pub comment: bool,
    pub choices: Option<String>,
    pub visitor: Option<String>,
    pub session: Option<String>,
    pub ts: String,
    pub locale: Option<String>,
    pub device: Option<String>,
    pub signal: Option<String>,
}

/// The columns [`Facts::of_row`] reads, for `SELECT` and `RETURNING`.
pub(super) const FACT_COLUMNS: &str = "id, kind, touchpoint, page, stage, metric, score, \
     CAST(CASE WHEN comment IS NULL THEN 0 ELSE 1 END AS BIGINT), choices, visitor, session, ts, \
     locale, device, signal";

impl Facts {
    pub fn of(e: &super::StoredEvent) -> Facts {
        Facts {
            id: e.id.clone(),
            kind: e.kind.to_owned(),
            touchpoint: e.touchpoint.clone(),
            page: e.page.clone(),
            stage: e.stage.clone(),
            metric: e.metric.map(str::to_owned),
            score: e.score,
            comment: e.comment.is_some(),
            choices: e.choices.clone(),
            visitor: e.visitor.clone(),
            session: e.session.clone(),
            ts: e.ts.clone(),
            locale: e.locale.clone(),
            device: e.device.clone(),
            signal: e.signal.clone(),
        }
    }

    pub fn of_row(r: &sqlx::any::AnyRow) -> Facts {
        Facts {
            id: r.get(0),
            kind: r.get(1),
            touchpoint: r.get(2),
            page: r.get(3),
            stage: r.get(4),
            metric: r.get(5),
            score: r.get(6),
            comment: r.get::<i64, _>(7) != 0,
            choices: r.get(8),
            visitor: r.get(9),
            session: r.get(10),
            ts: r.get(11),
            locale: r.get(12),
            device: r.get(13),
            signal: r.get(14),
        }
    }

    /// The page view this event belongs to, when it can be told: an
    /// impression or a signal with its visitor and session.
    fn view(&self) -> Option<View> {
        if !matches!(self.kind.as_str(), "impression" | "signal") {
            return None;
        }
        Some(View {
            visitor: self.visitor.clone()?,
            session: self.session.clone()?,
            page: self.page.clone(),
        })
    }
}

/// A page view as far as stored events can tell it: one visitor's session
/// on one page. (Two visits to the same page in one session are one view.)
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct View {
    visitor: String,
    session: String,
    page: String,
}

/// A changed page view's impressions and signals: those added, those removed.
type ViewChange<'a> = (Vec<&'a Facts>, Vec<&'a Facts>);

/// A row's key in one grain.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Key {
    grain: Grain,
    site_id: i64,
    day: String,
    dims: Vec<String>,
    touchpoint: String,
    stage: String,
    metric: String,
}

/// Signed changes to rollup rows, applied in key order (so that concurrent
/// writers lock rows in the same order and cannot deadlock on them).
#[derive(Debug, Default)]
struct Deltas {
    rows: BTreeMap<Key, Counts>,
    items: BTreeMap<(Key, String), i64>,
    /// `(grain, site, day)` where something was subtracted: rows left at
    /// zero there are deleted.
    shrunk: BTreeSet<(Grain, i64, String)>,
}

impl Deltas {
    fn keys(site_id: i64, zone: &Zone, f: &Facts) -> Option<[Key; 3]> {
        let day = zone.day_of(&f.ts)?;
        let key = |grain: Grain, dims: Vec<String>| Key {
            grain,
            site_id,
            day: day.clone(),
            dims,
            touchpoint: f.touchpoint.clone().unwrap_or_default(),
            stage: f.stage.clone(),
            metric: f.metric.clone().unwrap_or_default(),
        };
        let or_unknown = |v: &Option<String>| v.clone().unwrap_or_else(|| "unknown".to_owned());
        Some([
            key(Grain::Days, Vec::new()),
            key(
                Grain::Segments,
                vec![or_unknown(&f.device), or_unknown(&f.locale)],
            ),
            key(Grain::Pages, vec![f.page.clone()]),
        ])
    }

    fn add(
        &mut self,
        site_id: i64,
        zone: &Zone,
        f: &Facts,
        sign: i64,
        change: impl Fn(&mut Counts),
        items: &[String],
    ) {
        let Some(keys) = Deltas::keys(site_id, zone, f) else {
            return;
        };
        for key in keys {
            if sign < 0 {
                self.shrunk
                    .insert((key.grain, key.site_id, key.day.clone()));
            }
            for item in items {
                *self.items.entry((key.clone(), item.clone())).or_default() += sign;
            }
            change(self.rows.entry(key).or_default());
        }
    }

    /// An event stored (`sign` 1) or deleted (−1).
    fn event(&mut self, site_id: i64, zone: &Zone, f: &Facts, sign: i64) {
        let mut items = Vec::new();
        match f.kind.as_str() {
            "response" => {
                if let Some(choices) = &f.choices {
                    items.extend(choice_items(choices));
                }
            }
            "signal" => items.extend(f.signal.as_ref().map(|s| format!("signal:{s}"))),
            "impression" | "dismiss" => {}
            _ => return,
        }
        let (kind, comment, score) = (f.kind.as_str(), f.comment, f.score);
        self.add(
            site_id,
            zone,
            f,
            sign,
            |c| match kind {
                "impression" => c.impressions += sign,
                "dismiss" => c.dismissals += sign,
                "signal" => c.signals += sign,
                _ => {
                    c.responses += sign;
                    if comment {
                        c.comments += sign;
                    }
                    if let Some(s) = score
                        .and_then(|s| usize::try_from(s).ok())
                        .filter(|s| *s < SCORES)
                    {
                        c.scores[s] += sign;
                    }
                }
            },
            &items,
        );
    }

    /// A stored response whose comment or choices a follow-up filled in.
    fn fill(&mut self, site_id: i64, zone: &Zone, f: &Facts, comment: bool, choices: Option<&str>) {
        let items = choices.map(choice_items).unwrap_or_default();
        self.add(
            site_id,
            zone,
            f,
            1,
            |c| {
                if comment {
                    c.comments += 1;
                }
            },
            &items,
        );
    }

    /// An impression whose page view gained (1) or lost (−1) its signals.
    fn signal_view(&mut self, site_id: i64, zone: &Zone, f: &Facts, sign: i64) {
        self.add(site_id, zone, f, sign, |c| c.signal_views += sign, &[]);
    }

    fn len(&self) -> usize {
        self.rows.len() + self.items.len()
    }

    /// Applies every change and clears them.
    async fn flush(&mut self, conn: &mut AnyConnection, backend: Backend) -> Result<()> {
        let rows = std::mem::take(&mut self.rows);
        let items = std::mem::take(&mut self.items);
        for grain in Grain::ALL {
            let changed: Vec<(&Key, &Counts)> = rows
                .iter()
                .filter(|(k, c)| k.grain == grain && !c.is_zero())
                .collect();
            let keys = grain.key_columns();
            let mut columns = keys.clone();
            columns.extend(COUNT_COLUMNS);
            let update: Vec<String> = COUNT_COLUMNS
                .iter()
                .map(|c| format!("{c} = {t}.{c} + excluded.{c}", t = grain.table()))
                .collect();
            for chunk in changed.chunks(40) {
                let sql = format!(
                    "INSERT INTO {} ({}) VALUES {} ON CONFLICT ({}) DO UPDATE SET {}",
                    grain.table(),
                    columns.join(", "),
                    placeholders(backend, chunk.len(), columns.len()),
                    keys.join(", "),
                    update.join(", ")
                );
                let mut query = sqlx::query(&sql);
                for (key, counts) in chunk {
                    query = bind_key(query, key);
                    for v in counts.values() {
                        query = query.bind(v);
                    }
                }
                query.execute(&mut *conn).await?;
            }
            let changed: Vec<(&(Key, String), &i64)> = items
                .iter()
                .filter(|((k, _), n)| k.grain == grain && **n != 0)
                .collect();
            let mut columns = keys.clone();
            columns.extend(["item", "n"]);
            for chunk in changed.chunks(100) {
                let sql = format!(
                    "INSERT INTO {t} ({}) VALUES {} ON CONFLICT ({}, item) DO UPDATE SET n = {t}.n + excluded.n",
                    columns.join(", "),
                    placeholders(backend, chunk.len(), columns.len()),
                    keys.join(", "),
                    t = grain.items(),
                );
                let mut query = sqlx::query(&sql);
                for ((key, item), n) in chunk {
                    query = bind_key(query, key).bind(item.as_str()).bind(**n);
                }
                query.execute(&mut *conn).await?;
            }
        }
        for (grain, site_id, day) in std::mem::take(&mut self.shrunk) {
            let zero: Vec<String> = COUNT_COLUMNS.iter().map(|c| format!("{c} = 0")).collect();
            sqlx::query(&format!(
                "DELETE FROM {} WHERE site_id = $1 AND day = $2 AND {}",
                grain.table(),
                zero.join(" AND ")
            ))
            .bind(site_id)
            .bind(&day)
            .execute(&mut *conn)
            .await?;
            sqlx::query(&format!(
                "DELETE FROM {} WHERE site_id = $1 AND day = $2 AND n = 0",
                grain.items()
            ))
            .bind(site_id)
            .bind(&day)
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }
}

fn choice_items(choices: &str) -> Vec<String> {
    serde_json::from_str::<Vec<String>>(choices)
        .unwrap_or_default()
        .into_iter()
        .map(|c| format!("choice:{c}"))
        .collect()
}

fn bind_key<'q>(
    mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    key: &'q Key,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    query = query.bind(key.site_id).bind(key.day.as_str());
    for d in &key.dims {
        query = query.bind(d.as_str());
    }
    query
        .bind(key.touchpoint.as_str())
        .bind(key.stage.as_str())
        .bind(key.metric.as_str())
}

/// `(?, ?), (?, ?)` on SQLite (bound in order, no lookup by name), `($1,
/// $2), ($3, $4)` on PostgreSQL.
pub(super) fn placeholders(backend: Backend, rows: usize, columns: usize) -> String {
    let mut sql = String::new();
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for col in 0..columns {
            if col > 0 {
                sql.push_str(", ");
            }
            match backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => sql.push_str(&format!("${}", row * columns + col + 1)),
            }
        }
        sql.push(')');
    }
    sql
}

/// The time zone of a site, read in the writing transaction. On PostgreSQL
/// the site's row is share-locked until the transaction ends, so a change
/// of time zone (which rebuilds the site's rollups under an exclusive lock)
/// waits for writes in flight and is waited for by the next ones: no event
/// is ever counted under a zone its site no longer has. On SQLite, callers
/// write first, so the transaction already holds the database's one write
/// lock.
async fn zone_of(conn: &mut AnyConnection, backend: Backend, site_id: i64) -> Result<Zone> {
    let lock = match backend {
        Backend::Sqlite => "",
        Backend::Postgres => " FOR SHARE",
    };
    let row = sqlx::query(&format!("SELECT config FROM sites WHERE id = $1{lock}"))
        .bind(site_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| Error::Internal(format!("site {site_id} is gone")))?;
    let name =
        super::site_format::decode_timezone(row.get::<&str, _>(0)).map_err(Error::Internal)?;
    Zone::parse(&name).ok_or_else(|| Error::Internal(format!("unknown time zone {name:?}")))
}

/// Everything one transaction changed in the events table, to be counted
/// in the rollups before it commits ([`Changes::apply`]).
#[derive(Debug, Default)]
pub(super) struct Changes {
    added: Vec<(i64, Facts)>,
    removed: Vec<(i64, Facts)>,
    /// A response's comment (`true`) or choices filled in by a follow-up.
    filled: Vec<(i64, Facts, bool, Option<String>)>,
}

impl Changes {
    pub fn added(&mut self, site_id: i64, facts: Facts) {
        self.added.push((site_id, facts));
    }

    pub fn removed(&mut self, site_id: i64, facts: Facts) {
        self.removed.push((site_id, facts));
    }

    pub fn filled(&mut self, site_id: i64, facts: Facts, comment: bool, choices: Option<String>) {
        self.filled.push((site_id, facts, comment, choices));
    }

    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.filled.is_empty()
    }

    /// Counts the changes into the rollups, inside the transaction that
    /// made them (call it after the events are written).
    pub async fn apply(self, conn: &mut AnyConnection, backend: Backend) -> Result<()> {
        if self.is_empty() {
            return Ok(());
        }
        let mut sites: BTreeSet<i64> = BTreeSet::new();
        sites.extend(self.added.iter().map(|(s, _)| *s));
        sites.extend(self.removed.iter().map(|(s, _)| *s));
        sites.extend(self.filled.iter().map(|(s, ..)| *s));
        let mut zones = HashMap::new();
        for site_id in &sites {
            zones.insert(*site_id, zone_of(conn, backend, *site_id).await?);
        }
        let mut deltas = Deltas::default();
        for (site_id, f) in &self.added {
            deltas.event(*site_id, &zones[site_id], f, 1);
        }
        for (site_id, f) in &self.removed {
            deltas.event(*site_id, &zones[site_id], f, -1);
        }
        for (site_id, f, comment, choices) in &self.filled {
            deltas.fill(*site_id, &zones[site_id], f, *comment, choices.as_deref());
        }
        // Page views whose impressions or signals changed.
        let mut views: BTreeMap<(i64, View), ViewChange<'_>> = BTreeMap::new();
        for (site_id, f) in &self.added {
            if let Some(view) = f.view() {
                views.entry((*site_id, view)).or_default().0.push(f);
            }
        }
        for (site_id, f) in &self.removed {
            if let Some(view) = f.view() {
                views.entry((*site_id, view)).or_default().1.push(f);
            }
        }
        if !views.is_empty() {
            lock_visitors(
                conn,
                backend,
                views.keys().map(|(s, v)| (*s, v.visitor.as_str())),
            )
            .await?;
            for site_id in &sites {
                let changed: Vec<(&View, &ViewChange<'_>)> = views
                    .range((*site_id, min_view())..)
                    .take_while(|((s, _), _)| s == site_id)
                    .map(|((_, v), c)| (v, c))
                    .collect();
                if !changed.is_empty() {
                    link_views(
                        conn,
                        backend,
                        *site_id,
                        &zones[site_id],
                        &changed,
                        &mut deltas,
                    )
                    .await?;
                }
            }
        }
        deltas.flush(conn, backend).await
    }
}

fn min_view() -> View {
    View {
        visitor: String::new(),
        session: String::new(),
        page: String::new(),
    }
}

/// On PostgreSQL, takes a transaction-scoped advisory lock per (site,
/// visitor), in one global order: the transactions that change one page
/// view's impressions or signals then see each other's committed rows
/// when they decide which impressions had a signal. (SQLite writes one
/// transaction at a time.)
async fn lock_visitors<'a>(
    conn: &mut AnyConnection,
    backend: Backend,
    visitors: impl Iterator<Item = (i64, &'a str)>,
) -> Result<()> {
    if backend != Backend::Postgres {
        return Ok(());
    }
    let locks: BTreeSet<i64> = visitors
        .map(|(site_id, visitor)| {
            let hash = Sha256::digest(format!("touchpoint view {site_id} {visitor}"));
            i64::from_be_bytes(hash[..8].try_into().expect("8 bytes"))
        })
        .collect();
    // Many at a time (a bulk import's batch has thousands of visitors):
    // PostgreSQL computes a volatile output column after the sort, so each
    // statement takes its locks in order, and the chunks follow each other.
    let locks: Vec<i64> = locks.into_iter().collect();
    for chunk in locks.chunks(500) {
        let values = (1..=chunk.len())
            .map(|i| format!("(${i}::BIGINT)"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql =
            format!("SELECT pg_advisory_xact_lock(k) FROM (VALUES {values}) AS v(k) ORDER BY k");
        let mut query = sqlx::query(&sql);
        for lock in chunk {
            query = query.bind(*lock);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Counts the change in `signal_views`: an impression counts when its page
/// view has at least one signal. Compares each changed view before and
/// after this transaction: after is what the table holds now, before is
/// that without what was added and with what was removed.
async fn link_views(
    conn: &mut AnyConnection,
    backend: Backend,
    site_id: i64,
    zone: &Zone,
    changed: &[(&View, &ViewChange<'_>)],
    deltas: &mut Deltas,
) -> Result<()> {
    let visitors: BTreeSet<&str> = changed.iter().map(|(v, _)| v.visitor.as_str()).collect();
    let wanted: HashSet<&View> = changed.iter().map(|(v, _)| *v).collect();
    let mut now: HashMap<View, Vec<Facts>> = HashMap::new();
    let visitors: Vec<&str> = visitors.into_iter().collect();
    for chunk in visitors.chunks(200) {
        let list = match backend {
            Backend::Sqlite => vec!["?"; chunk.len()].join(", "),
            Backend::Postgres => (0..chunk.len())
                .map(|i| format!("${}", i + 2))
                .collect::<Vec<_>>()
                .join(", "),
        };
        let first = match backend {
            Backend::Sqlite => "?",
            Backend::Postgres => "$1",
        };
        let sql = format!(
            "SELECT {FACT_COLUMNS} FROM events WHERE site_id = {first} \
             AND visitor IN ({list}) AND kind IN ('impression', 'signal')"
        );
        let mut query = sqlx::query(&sql).bind(site_id);
        for v in chunk {
            query = query.bind(*v);
        }
        for row in query.fetch_all(&mut *conn).await? {
            let f = Facts::of_row(&row);
            if let Some(view) = f.view()
                && wanted.contains(&view)
            {
                now.entry(view).or_default().push(f);
            }
        }
    }
    let empty = Vec::new();
    for (view, (added, removed)) in changed {
        let after = now.get(*view).unwrap_or(&empty);
        let added_ids: HashSet<&str> = added.iter().map(|f| f.id.as_str()).collect();
        let before: Vec<&Facts> = after
            .iter()
            .filter(|f| !added_ids.contains(f.id.as_str()))
            .chain(removed.iter().copied())
            .collect();
        let after: Vec<&Facts> = after.iter().collect();
        let flagged = |rows: &[&Facts]| -> BTreeMap<String, Facts> {
            if rows.iter().any(|f| f.kind == "signal") {
                rows.iter()
                    .filter(|f| f.kind == "impression")
                    .map(|f| (f.id.clone(), (*f).clone()))
                    .collect()
            } else {
                BTreeMap::new()
            }
        };
        let (was, is) = (flagged(&before), flagged(&after));
        for (id, f) in &is {
            if !was.contains_key(id) {
                deltas.signal_view(site_id, zone, f, 1);
            }
        }
        for (id, f) in &was {
            if !is.contains_key(id) {
                deltas.signal_view(site_id, zone, f, -1);
            }
        }
    }
    Ok(())
}

/// Recreates a site's rollups from its raw events, inside `conn`'s
/// transaction. With `zone`, the site is being given that time zone (and
/// its row is already locked by the update); without, the site's own is
/// read under an exclusive lock, so that no write of the site's events
/// runs alongside.
pub(super) async fn rebuild_in(
    conn: &mut AnyConnection,
    backend: Backend,
    site_id: i64,
    zone: Option<&Zone>,
) -> Result<u64> {
    // The first statement writes: on SQLite the transaction takes the
    // write lock before it reads anything.
    for grain in Grain::ALL {
        for table in [grain.table(), grain.items()] {
            sqlx::query(&format!("DELETE FROM {table} WHERE site_id = $1"))
                .bind(site_id)
                .execute(&mut *conn)
                .await?;
        }
    }
    let zone = match zone {
        Some(z) => z.clone(),
        None => {
            if backend == Backend::Postgres {
                sqlx::query("SELECT id FROM sites WHERE id = $1 FOR UPDATE")
                    .bind(site_id)
                    .execute(&mut *conn)
                    .await?;
            }
            zone_of(conn, backend, site_id).await?
        }
    };
    let mut deltas = Deltas::default();
    let mut events = 0;
    const PAGE: i64 = 10_000;
    for kind in KINDS {
        // Impressions also say whether their page view had a signal.
        let flagged = if kind == "impression" {
            "CAST(CASE WHEN e.visitor IS NOT NULL AND e.session IS NOT NULL AND EXISTS (\
               SELECT 1 FROM events s WHERE s.site_id = e.site_id AND s.visitor = e.visitor \
               AND s.session = e.session AND s.page = e.page AND s.kind = 'signal') \
             THEN 1 ELSE 0 END AS BIGINT)"
        } else {
            "CAST(0 AS BIGINT)"
        };
        let mut after: Option<(String, String)> = None;
        loop {
            // In (ts, id) order along the (site_id, kind, ts) index, so
            // that a page's rows are mostly a few days' keys.
            let mut sql = format!(
                "SELECT {FACT_COLUMNS}, {flagged} FROM events e WHERE site_id = $1 AND kind = $2"
            );
            if after.is_some() {
                sql.push_str(" AND ts >= $3 AND (ts > $4 OR id > $5)");
            }
            sql.push_str(&format!(" ORDER BY ts, id LIMIT {PAGE}"));
            let mut query = sqlx::query(&sql).bind(site_id).bind(kind);
            if let Some((ts, id)) = &after {
                query = query.bind(ts.as_str()).bind(ts.as_str()).bind(id.as_str());
            }
            let rows = query.fetch_all(&mut *conn).await?;
            for row in &rows {
                let f = Facts::of_row(row);
                deltas.event(site_id, &zone, &f, 1);
                if row.get::<i64, _>(15) != 0 {
                    deltas.signal_view(site_id, &zone, &f, 1);
                }
                events += 1;
            }
            if deltas.len() > 100_000 {
                deltas.flush(conn, backend).await?;
            }
            match rows.last() {
                Some(last) if rows.len() as i64 == PAGE => {
                    after = Some((last.get(11), last.get(0)));
                }
                _ => break,
            }
        }
    }
    deltas.flush(conn, backend).await?;
    Ok(events)
}

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

    /// Recreates a site's rollups from its raw events, in one transaction;
    /// returns how many events were counted. The site's writes wait
    /// meanwhile (on SQLite every write waits: rebuild a large site at a
    /// quiet hour).
    pub async fn rebuild_rollups(&self, site_id: i64) -> Result<u64> {
        let mut tx = self.pool.begin().await?;
        let events = rebuild_in(&mut tx, self.backend, site_id, None).await?;
        tx.commit().await?;
        Ok(events)
    }

    /// Every site's id and key, oldest first: what a rebuild of all goes through.
    pub async fn rollup_sites(&self) -> Result<Vec<(i64, String)>> {
        let rows = sqlx::query("SELECT id, key FROM sites ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// Every rollup row of a site as a line of text (`table|key…|counts…`),
    /// sorted: what a check compares, a rebuild against what was kept.
    pub async fn rollup_snapshot(&self, site_id: i64) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for grain in Grain::ALL {
            let keys = grain.key_columns();
            for (table, rest) in [
                (grain.table(), COUNT_COLUMNS.join(", ")),
                (grain.items(), "item, n".to_owned()),
            ] {
                let text_columns = keys.len() - 1 + usize::from(rest.starts_with("item"));
                let sql = format!(
                    "SELECT {}, {rest} FROM {table} WHERE site_id = $1",
                    keys[1..].join(", ")
                );
                for row in sqlx::query(&sql)
                    .bind(site_id)
                    .fetch_all(&self.pool)
                    .await?
                {
                    let mut line = table.to_owned();
                    for i in 0..row.len() {
                        line.push('|');
                        if i < text_columns {
                            line.push_str(row.get::<&str, _>(i));
                        } else {
                            line.push_str(&row.get::<i64, _>(i).to_string());
                        }
                    }
                    out.push(line);
                }
            }
        }
        out.sort();
        Ok(out)
    }
}
