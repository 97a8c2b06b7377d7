//! Rollups: what every aggregate, the journey map and trends read instead
//! of raw events. Counts per site and local day (the site's time zone),
//! kept in the same transaction as the raw insert or deletion they count,
//! with additive upserts (`n = n + excluded.n`), so several servers on one
//! PostgreSQL stay exact. A cache of the `events` table: [`Store::rebuild_rollups`]
//! (`touchpoint rollup rebuild`) recreates them from it, and a property
//! test holds that both always agree.
//!
//! The grains, each a table of counts and a table of keyed items, all
//! keyed by `(site_id, day, …, touchpoint, stage, metric)`:
//!
//! | grain | tables | extra key | read when |
//! |---|---|---|---|
//! | [`Grain::Days`] | `rollup_days`, `rollup_day_items` | — | journey, trends, grouping by stage, touchpoint, day, week |
//! | [`Grain::Segments`] | `rollup_segments`, `rollup_segment_items` | `device`, `locale` | grouping by device or locale |
//! | [`Grain::Pages`] | `rollup_pages`, `rollup_page_items` | `page` | grouping or filtering by page |
//! | [`Grain::PageSegments`] | `rollup_page_segments`, `rollup_page_segment_items` | `page`, `device`, `locale` | pages with a device or locale filter (a page's rows a day are as many as the devices × locales it was answered from, so only these reports pay for them) |
//! | [`Grain::Attributes`] | `rollup_attributes`, `rollup_attribute_items` | `name`, `value` | grouping by a visitor attribute (`attr:plan`): a row per attribute an event carries |
//!
//! Pages, segments, page segments and attributes have month twins
//! ([`Grain::PageMonths`], [`Grain::SegmentMonths`], …: the same counts, `day` holding the month's
//! first day). A report by page, device or locale reads the whole months of
//! its range there and only the days at its edges from the day grain
//! ([`Grain::months`]), so its rows grow with months, not days.
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
//! columns: `choice:<option>`, `signal:<name>`, `flag:<name>` (responses
//! whose comment shows an emotion flag), `view:<signal>` (impressions whose
//! page view recorded that signal: rage clicks, dead clicks, errors per
//! touchpoint and page) and `signalled:<score>` (responses given after a
//! signal in their page view, by score: the scores of frustrated visitors
//! beside the others').

//!
//! The parts: [`deltas`] turns events into signed changes of rows and
//! writes them with upserts; [`write`] counts one transaction's changes
//! (page views' signals included); [`rebuild`] recreates a site's rows from
//! raw events; [`read`] sums them for reports.

mod deltas;
mod read;
mod rebuild;
mod write;

pub use read::{ItemRow, RollupFilter, RollupRow};
pub(super) use rebuild::rebuild_in;
pub(super) use write::Changes;

use super::Backend;
use super::exec::{Cols, Exec};
use crate::error::{Error, Result};
use crate::zone::Zone;

/// The event kinds rollups count (and the retention purge walks, kind by
/// kind, along the `(site_id, kind, ts)` index, with `outcome`, which no
/// rollup counts). A new kind rollups count is added here.
pub const KINDS: [&str; 4] = ["impression", "response", "dismiss", "signal"];

/// Score columns `s0`…`s10`.
pub const SCORES: usize = 11;

/// Where a row of counts is kept; see the module documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Grain {
    Days,
    Segments,
    Pages,
    SegmentMonths,
    PageMonths,
    Attributes,
    AttributeMonths,
    PageSegments,
    PageSegmentMonths,
}

impl Grain {
    pub const ALL: [Grain; 9] = [
        Grain::Days,
        Grain::Segments,
        Grain::Pages,
        Grain::SegmentMonths,
        Grain::PageMonths,
        Grain::Attributes,
        Grain::AttributeMonths,
        Grain::PageSegments,
        Grain::PageSegmentMonths,
    ];

    pub fn table(self) -> &'static str {
        match self {
            Grain::Days => "rollup_days",
            Grain::Segments => "rollup_segments",
            Grain::Pages => "rollup_pages",
            Grain::SegmentMonths => "rollup_segment_months",
            Grain::PageMonths => "rollup_page_months",
            Grain::Attributes => "rollup_attributes",
            Grain::AttributeMonths => "rollup_attribute_months",
            Grain::PageSegments => "rollup_page_segments",
            Grain::PageSegmentMonths => "rollup_page_segment_months",
        }
    }

    pub fn items(self) -> &'static str {
        match self {
            Grain::Days => "rollup_day_items",
            Grain::Segments => "rollup_segment_items",
            Grain::Pages => "rollup_page_items",
            Grain::SegmentMonths => "rollup_segment_month_items",
            Grain::PageMonths => "rollup_page_month_items",
            Grain::Attributes => "rollup_attribute_items",
            Grain::AttributeMonths => "rollup_attribute_month_items",
            Grain::PageSegments => "rollup_page_segment_items",
            Grain::PageSegmentMonths => "rollup_page_segment_month_items",
        }
    }

    /// Key columns beyond `(site_id, day, …, touchpoint, stage, metric)`.
    pub fn dims(self) -> &'static [&'static str] {
        match self {
            Grain::Days => &[],
            Grain::Segments | Grain::SegmentMonths => &["device", "locale"],
            Grain::Pages | Grain::PageMonths => &["page"],
            Grain::PageSegments | Grain::PageSegmentMonths => &["page", "device", "locale"],
            Grain::Attributes | Grain::AttributeMonths => &["name", "value"],
        }
    }

    /// Whether `day` holds the first day of a month.
    pub fn by_month(self) -> bool {
        matches!(
            self,
            Grain::SegmentMonths
                | Grain::PageMonths
                | Grain::AttributeMonths
                | Grain::PageSegmentMonths
        )
    }

    /// The month twin of a day grain, where it has one.
    pub fn months(self) -> Option<Grain> {
        match self {
            Grain::Segments => Some(Grain::SegmentMonths),
            Grain::Pages => Some(Grain::PageMonths),
            Grain::Attributes => Some(Grain::AttributeMonths),
            Grain::PageSegments => Some(Grain::PageSegmentMonths),
            _ => None,
        }
    }

    /// Whether a report grouped by or filtered on `column` can read this grain.
    pub fn has(self, column: &str) -> bool {
        matches!(column, "day" | "touchpoint" | "stage" | "metric") || self.dims().contains(&column)
    }

    /// The key columns, in primary-key order.
    pub(super) fn key_columns(self) -> Vec<&'static str> {
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
    pub(super) fn values(&self) -> [i64; 6 + SCORES] {
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

    pub(super) fn from_values(v: &[i64]) -> Counts {
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

    pub(super) fn is_zero(&self) -> bool {
        self.values().iter().all(|v| *v == 0)
    }
}

/// What rollups need of a stored event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(in crate::store) struct Facts {
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
    /// The comment's emotion flags, `;`-joined.
    pub flags: Option<String>,
    /// The visitor's declared attributes, a JSON object as stored.
    pub attributes: Option<String>,
}

/// The columns [`Facts::of_row`] reads, for `SELECT` and `RETURNING`.
pub(in crate::store) const FACT_COLUMNS: &str = "id, kind, touchpoint, page, stage, metric, score, \
     CAST(CASE WHEN comment IS NULL THEN 0 ELSE 1 END AS BIGINT), choices, visitor, session, ts, \
     locale, device, signal, flags, attributes";

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
            flags: e.flags.clone(),
            attributes: e.attributes.clone(),
        }
    }

    pub fn of_row(r: &impl Cols) -> Facts {
        Facts {
            id: r.col(0),
            kind: r.col(1),
            touchpoint: r.col(2),
            page: r.col(3),
            stage: r.col(4),
            metric: r.col(5),
            score: r.col(6),
            comment: r.col::<i64>(7) != 0,
            choices: r.col(8),
            visitor: r.col(9),
            session: r.col(10),
            ts: r.col(11),
            locale: r.col(12),
            device: r.col(13),
            signal: r.col(14),
            flags: r.col(15),
            attributes: r.col(16),
        }
    }

    /// The page view this event belongs to, when it can be told: an
    /// impression, a response or a signal with its visitor and session.
    pub(super) fn view(&self) -> Option<View> {
        if !matches!(self.kind.as_str(), "impression" | "signal" | "response") {
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
pub(super) struct View {
    pub visitor: String,
    pub session: String,
    pub page: String,
}

/// A changed page view's impressions and signals: those added, those removed.
type ViewChange<'a> = (Vec<&'a Facts>, Vec<&'a Facts>);

/// `(?, ?), (?, ?)` on SQLite (bound in order, no lookup by name), `($1,
/// $2), ($3, $4)` on PostgreSQL.
pub(in crate::store) fn placeholders(backend: Backend, rows: usize, columns: usize) -> String {
    use std::fmt::Write as _;
    let mut sql = String::with_capacity(rows * columns * 7);
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for col in 0..columns {
            if col > 0 {
                sql.push_str(", ");
            }
            match backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => {
                    let _ = write!(sql, "${}", row * columns + col + 1);
                }
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
pub(super) async fn zone_of(exec: &mut Exec<'_>, backend: Backend, site_id: i64) -> Result<Zone> {
    let lock = match backend {
        Backend::Sqlite => "",
        Backend::Postgres => " FOR SHARE",
    };
    let row = exec
        .fetch_optional(
            &format!("SELECT config FROM sites WHERE id = $1{lock}"),
            &[site_id.into()],
        )
        .await?
        .ok_or_else(|| Error::Internal(format!("site {site_id} is gone")))?;
    let name =
        super::site_format::decode_timezone(&row.col::<String>(0)).map_err(Error::Internal)?;
    Zone::parse(&name).ok_or_else(|| Error::Internal(format!("unknown time zone {name:?}")))
}
