//! Raw events, the source of truth: the idempotent group insert, the
//! retention purge, and a visitor's data (export and erasure). Each of
//! them counts what it changed into the rollups in its own transaction
//! ([`rollups::Changes`]).

use super::exec::{Arg, Cols, Exec};
use super::rollups::{self, Changes, FACT_COLUMNS, Facts};
use super::{Backend, Store};
use crate::emotion::LEXICON_VERSION;
use crate::error::Result;
use crate::time::{format_ts, now};
use sqlx::Row;
use std::collections::HashSet;
use std::sync::LazyLock;
use touchpoint_wire::VisitorEvent;

/// How long after an answer its follow-up may complete it.
pub const FOLLOW_UP_WINDOW: ::time::Duration = ::time::Duration::hours(1);

/// Columns bound per stored event.
const EVENT_COLUMNS: usize = 23;
/// Rows per multi-row INSERT: 50 × 23 parameters stays far below both
/// databases' limits.
pub const ROWS_PER_INSERT: usize = 50;

/// The insert of `n` events (`INSERTS[backend][n - 1]`), for 1 to
/// [`ROWS_PER_INSERT`] rows on each database: built once, not for every
/// chunk (on PostgreSQL a thousand numbered placeholders each time).
static INSERTS: LazyLock<[Vec<String>; 2]> = LazyLock::new(|| {
    [Backend::Sqlite, Backend::Postgres].map(|backend| {
        (1..=ROWS_PER_INSERT)
            .map(|rows| {
                // sqlx looks up each numbered SQLite parameter by name, a
                // linear search per parameter: with a thousand of them that
                // costs more than the insert. Anonymous `?` are bound in
                // order at no cost.
                format!(
                    "INSERT INTO events (site_id, id, kind, touchpoint, page, stage, metric, score, comment, \
                     choices, visitor, session, ts, received_at, locale, device, attributes, signal, gpc, \
                     consent, flags, flags_version, outcome) VALUES {} \
                     ON CONFLICT (site_id, id) DO NOTHING RETURNING site_id, id",
                    rollups::placeholders(backend, rows, EVENT_COLUMNS)
                )
            })
            .collect()
    })
});

/// The insert of one event on SQLite, run once per event where a call
/// costs no round trip ([`Exec::execute_each`]): whether it was stored is
/// its change count.
static INSERT_ONE: LazyLock<String> =
    LazyLock::new(|| INSERTS[Backend::Sqlite as usize][0].replace(" RETURNING site_id, id", ""));

/// An event after validation: normalised, resolved, scrubbed; what is stored.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredEvent {
    pub id: String,
    pub kind: &'static str,
    pub touchpoint: Option<String>,
    pub page: String,
    pub stage: String,
    pub metric: Option<&'static str>,
    pub score: Option<i64>,
    pub comment: Option<String>,
    /// The comment's emotion flags, `;`-joined (`frustration;confusion`);
    /// `None` without a comment or when it shows none.
    pub flags: Option<String>,
    pub choices: Option<String>,
    pub visitor: Option<String>,
    pub session: Option<String>,
    pub ts: String,
    pub locale: Option<String>,
    pub device: Option<String>,
    pub attributes: Option<String>,
    pub signal: Option<String>,
    /// For kind `outcome`: the declared outcome reached.
    pub outcome: Option<String>,
    pub gpc: Option<i64>,
    pub consent: Option<i64>,
}

impl Store {
    /// Inserts a batch in one transaction; an id already stored for the
    /// site counts as a duplicate and changes nothing. Returns
    /// `(accepted, duplicates)` once the transaction is durable.
    pub async fn insert_events(&self, site_id: i64, events: &[StoredEvent]) -> Result<(u64, u64)> {
        Ok(self.insert_batches(&[(site_id, events)]).await?[0])
    }

    /// Group commit: inserts several batches (of any sites) in one
    /// transaction and returns `(accepted, duplicates)` per batch, in order.
    /// The batches are folded together: their rows go in shared multi-row
    /// statements of up to [`ROWS_PER_INSERT`], so a group of a hundred
    /// one-event requests costs a few statements, not a hundred.
    pub async fn insert_batches(
        &self,
        batches: &[(i64, &[StoredEvent])],
    ) -> Result<Vec<(u64, u64)>> {
        let mut tx = self.pool.begin().await?;
        let counts = write_batches(&mut Exec::Any(&mut tx), self.backend, batches).await?;
        tx.commit().await?;
        Ok(counts)
    }

    /// How many of a site's events are older than `cutoff` (what a
    /// retention of that many days would purge).
    pub async fn count_events_before(
        &self,
        site_id: i64,
        cutoff: ::time::OffsetDateTime,
    ) -> Result<u64> {
        let n: i64 = sqlx::query("SELECT COUNT(*) FROM events WHERE site_id = $1 AND ts < $2")
            .bind(site_id)
            .bind(format_ts(cutoff))
            .fetch_one(&self.pool)
            .await?
            .get(0);
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Deletes every site's events older than its `retention_days`
    /// (by event time), and what they counted in the rollups. Returns how
    /// many were deleted.
    pub async fn purge_expired(&self, now: time::OffsetDateTime) -> Result<u64> {
        /// Events deleted per transaction: a long backlog (a shortened
        /// retention) goes in bounded steps, never one huge transaction.
        const STEP: i64 = 2000;
        let sites = sqlx::query("SELECT id, retention_days FROM sites")
            .fetch_all(&self.pool)
            .await?;
        let mut deleted = 0;
        for site in sites {
            let site_id = site.get::<i64, _>(0);
            let cutoff = format_ts(now - time::Duration::days(site.get::<i64, _>(1)));
            // Kind by kind, along the (site_id, kind, ts) index: those the
            // rollups count, and outcomes, which they do not.
            for kind in rollups::KINDS.into_iter().chain(["outcome"]) {
                loop {
                    let mut tx = self.pool.begin().await?;
                    let rows = sqlx::query(&format!(
                        "DELETE FROM events WHERE site_id = $1 AND id IN (\
                           SELECT id FROM events WHERE site_id = $1 AND kind = $2 AND ts < $3 LIMIT {STEP}) \
                         RETURNING {FACT_COLUMNS}"
                    ))
                    .bind(site_id)
                    .bind(kind)
                    .bind(&cutoff)
                    .fetch_all(&mut *tx)
                    .await?;
                    Changes::removed_rows(site_id, &rows)
                        .apply(&mut Exec::Any(&mut tx), self.backend)
                        .await?;
                    tx.commit().await?;
                    deleted += rows.len() as u64;
                    if (rows.len() as i64) < STEP {
                        break;
                    }
                }
            }
        }
        Ok(deleted)
    }

    /// Everything stored about one visitor of a site, oldest first, as JSON
    /// objects (what a visitor's data request is answered with).
    pub async fn visitor_events(&self, site_id: i64, visitor: &str) -> Result<Vec<VisitorEvent>> {
        let rows = sqlx::query(
            "SELECT id, kind, touchpoint, page, stage, metric, score, comment, choices, visitor, session, ts, \
             received_at, locale, device, attributes, signal, gpc, consent, outcome \
             FROM events WHERE site_id = $1 AND visitor = $2 ORDER BY ts, id",
        )
        .bind(site_id)
        .bind(visitor)
        .fetch_all(&self.pool)
        .await?;
        let flag = |v: Option<i64>| v.map(|b| b != 0);
        Ok(rows
            .into_iter()
            .map(|r| VisitorEvent {
                id: r.get(0),
                kind: r.get(1),
                touchpoint: r.get(2),
                page: r.get(3),
                stage: r.get(4),
                metric: r.get(5),
                score: r.get(6),
                comment: r.get(7),
                choices: r
                    .get::<Option<&str>, _>(8)
                    .and_then(|s| serde_json::from_str(s).ok()),
                visitor: r.get(9),
                session: r.get(10),
                ts: r.get(11),
                received_at: r.get(12),
                locale: r.get(13),
                device: r.get(14),
                attributes: r
                    .get::<Option<&str>, _>(15)
                    .and_then(|s| serde_json::from_str(s).ok()),
                signal: r.get(16),
                gpc: flag(r.get(17)),
                consent: flag(r.get(18)),
                outcome: r.get(19),
            })
            .collect())
    }

    /// Deletes everything stored about one visitor of a site, and what it
    /// counted in the rollups.
    pub async fn delete_visitor(&self, site_id: i64, visitor: &str) -> Result<u64> {
        let mut tx = self.pool.begin().await?;
        let rows = sqlx::query(&format!(
            "DELETE FROM events WHERE site_id = $1 AND visitor = $2 RETURNING {FACT_COLUMNS}"
        ))
        .bind(site_id)
        .bind(visitor)
        .fetch_all(&mut *tx)
        .await?;
        Changes::removed_rows(site_id, &rows)
            .apply(&mut Exec::Any(&mut tx), self.backend)
            .await?;
        tx.commit().await?;
        Ok(rows.len() as u64)
    }
}

/// The values of `e`'s row, in the inserts' column order.
fn event_args<'q>(args: &mut Vec<Arg<'q>>, site_id: i64, e: &'q StoredEvent, received: &'q String) {
    args.extend([
        Arg::from(site_id),
        (&e.id).into(),
        e.kind.into(),
        (&e.touchpoint).into(),
        (&e.page).into(),
        (&e.stage).into(),
        e.metric.into(),
        e.score.into(),
        (&e.comment).into(),
        (&e.choices).into(),
        (&e.visitor).into(),
        (&e.session).into(),
        (&e.ts).into(),
        received.into(),
        (&e.locale).into(),
        (&e.device).into(),
        (&e.attributes).into(),
        (&e.signal).into(),
        e.gpc.into(),
        e.consent.into(),
        (&e.flags).into(),
        e.comment
            .as_ref()
            .map(|_| i64::from(LEXICON_VERSION))
            .into(),
        (&e.outcome).into(),
    ]);
}

/// [`Store::insert_batches`] on a transaction the caller opened and commits.
pub(in crate::store) async fn write_batches(
    exec: &mut Exec<'_>,
    backend: Backend,
    batches: &[(i64, &[StoredEvent])],
) -> Result<Vec<(u64, u64)>> {
    let received = now();
    let follow_up_since = format_ts(::time::OffsetDateTime::now_utc() - FOLLOW_UP_WINDOW);
    let rows: Vec<(usize, i64, &StoredEvent)> = batches
        .iter()
        .enumerate()
        .flat_map(|(b, (site_id, events))| events.iter().map(move |e| (b, *site_id, e)))
        .collect();
    // Of an id repeated in the group only the first sent is offered (the
    // others could only conflict with it), in (time, id) order:
    // - groups written at once by several servers on one PostgreSQL that
    //   share ids (a retried request: the same events, the same times)
    //   wait on each other in one order and cannot deadlock;
    // - rows stored one after the other follow time, the order raw exports
    //   read them in: an export walks the table in step with the time
    //   index instead of seeking across the batch for every row.
    let mut seen = HashSet::new();
    let first: Vec<bool> = rows
        .iter()
        .map(|(_, site_id, e)| seen.insert((*site_id, e.id.as_str())))
        .collect();
    let mut order: Vec<usize> = (0..rows.len()).filter(|i| first[*i]).collect();
    order.sort_unstable_by(|a, b| {
        let (a, b) = (&rows[*a], &rows[*b]);
        (a.1, &a.2.ts, &a.2.id).cmp(&(b.1, &b.2.ts, &b.2.id))
    });
    // Which rows this group stored (the others' ids were there before).
    let mut stored_now = vec![false; rows.len()];
    if exec.runs_in_process() {
        // On the SQLite writer's own connection a call is a plain call:
        // one prepared row at a time, whose change count says whether it
        // was stored, costs less than a multi-row statement's rows read
        // back through RETURNING.
        let mut args = Vec::with_capacity(order.len() * EVENT_COLUMNS);
        for i in &order {
            event_args(&mut args, rows[*i].1, rows[*i].2, &received);
        }
        let changed = exec.execute_each(&INSERT_ONE, &args, EVENT_COLUMNS).await?;
        for (i, n) in order.iter().zip(changed) {
            stored_now[*i] = n > 0;
        }
    } else {
        for chunk in order.chunks(ROWS_PER_INSERT) {
            let mut args: Vec<Arg<'_>> = Vec::with_capacity(chunk.len() * EVENT_COLUMNS);
            for i in chunk {
                event_args(&mut args, rows[*i].1, rows[*i].2, &received);
            }
            let sql = &INSERTS[backend as usize][chunk.len() - 1];
            let returned: HashSet<(i64, String)> = exec
                .fetch_all(sql, &args)
                .await?
                .iter()
                .map(|row| (row.col::<i64>(0), row.col::<String>(1)))
                .collect();
            for i in chunk {
                let (_, site_id, e) = rows[*i];
                stored_now[*i] = returned.contains(&(site_id, e.id.clone()));
            }
        }
    }
    // A follow-up's answer arrives as the same response resent with
    // its comment or choices: fill in what the stored one lacks. First
    // answer wins; no second score. Only a row that was not inserted
    // just now can need it: its id was stored before, or came earlier
    // in this group (whose first row of an id is the one inserted).
    // Updating every response with a comment instead costs a statement
    // each, and on a PostgreSQL table not yet analysed the planner may
    // answer each by scanning the (site, kind, ts) index. Only the
    // visitor and session that gave the answer may complete it, and
    // only soon after: knowing an event's id is not enough to write
    // into it. Comment and choices are filled one statement each, so
    // that the rollups count exactly what each one filled.
    let mut accepted = vec![0u64; batches.len()];
    let mut changes = Changes::default();
    for ((b, site_id, e), stored_now) in rows.iter().zip(stored_now) {
        if stored_now {
            accepted[*b] += 1;
            changes.added(*site_id, Facts::of(e));
            continue;
        }
        if e.kind != "response" {
            continue;
        }
        for (column, value) in [("comment", &e.comment), ("choices", &e.choices)] {
            let Some(value) = value else { continue };
            // A comment comes with its flags, decided on it.
            let set = match column {
                "comment" => "comment = $1, flags = $8, flags_version = $9",
                _ => "choices = $1",
            };
            let sql = format!(
                "UPDATE events SET {set} WHERE site_id = $2 AND id = $3 \
                 AND kind = 'response' AND touchpoint = $4 AND {column} IS NULL \
                 AND visitor IS NOT DISTINCT FROM $5 AND session IS NOT DISTINCT FROM $6 \
                 AND received_at >= $7 \
                 RETURNING {FACT_COLUMNS}"
            );
            let mut args: Vec<Arg<'_>> = vec![
                value.into(),
                (*site_id).into(),
                (&e.id).into(),
                (&e.touchpoint).into(),
                (&e.visitor).into(),
                (&e.session).into(),
                (&follow_up_since).into(),
            ];
            if column == "comment" {
                args.extend([Arg::from(&e.flags), Arg::from(i64::from(LEXICON_VERSION))]);
            }
            let filled = exec.fetch_optional(&sql, &args).await?;
            if let Some(row) = filled {
                let (comment, choices) = match column {
                    "comment" => (true, None),
                    _ => (false, Some(value.clone())),
                };
                changes.filled(*site_id, Facts::of_row(&row), comment, choices);
            }
        }
    }
    let counts = batches
        .iter()
        .zip(accepted)
        .map(|((_, events), accepted)| (accepted, events.len() as u64 - accepted))
        .collect();
    changes.apply(exec, backend).await?;
    // In the same transaction: an acknowledged alert-worthy event is in the outbox.
    super::outbox::enqueue(exec, backend, batches).await?;
    Ok(counts)
}
