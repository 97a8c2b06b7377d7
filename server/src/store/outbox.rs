//! The alert outbox: what must reach a site's alert destinations, written
//! in the same transaction as the answers that make it worth a message, so
//! an acknowledged detractor is never lost to a crash.
//!
//! Two tables (`migrations/*/0004_alerts.sql`):
//!
//! - `alert_items`: one alert-worthy event for one destination, written by
//!   [`enqueue`] inside [`Store::insert_batches`]. It holds no copy of the
//!   answer: a message reads the event as stored when it is sent, so a
//!   follow-up's comment that arrives before then is in it (and an erased
//!   visitor's answer is not). Unique per (site, destination, event): a
//!   resent answer or a follow-up never makes a second alert; while the
//!   item waits, a follow-up only adds what it changed (a frustration flag)
//!   and lets it go at once.
//! - `alert_deliveries`: one message (a single alert, a digest, or a test)
//!   to one destination, its id the `X-Touchpoint-Delivery` of every
//!   attempt. [`Store::group_alerts`] makes them from due items (digest
//!   windows and the hourly cap, [`plan`]); workers take them with a lease
//!   ([`Store::claim_deliveries`]; on PostgreSQL `FOR UPDATE SKIP LOCKED`,
//!   so instances never wait on each other), post them and record the
//!   outcome ([`Store::finish_delivery`]). A worker that dies mid-send
//!   leaves a lease that runs out, and another takes the message again.
//!
//! When an item is due: at once for a destination without digest; for a
//! response whose touchpoint asks a follow-up at its score and which has
//! no comment yet, when the comment arrives or [`FOLLOW_UP_GRACE`] has
//! passed (so the message carries the visitor's words, once); for a digest
//! destination, at the end of its window (`digest_minutes`, counted from
//! midnight in the site's time zone).

use super::events::{FOLLOW_UP_WINDOW, StoredEvent};
use super::rollups::placeholders;
use super::site_format::{self, SiteConfig};
use super::{Backend, Store};
use crate::error::{Error, Result};
use crate::time::format_ts;
use ::time::{Duration, OffsetDateTime};
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use touchpoint_wire::{AlertDestination, AlertOn, Delivery, Metric};

/// Events whose own time is older than this never alert: a history
/// imported with `touchpoint import`, a queue a browser resends after
/// weeks offline. (Ingest refuses nothing for this; it only stays quiet.)
pub const FRESH_FOR: Duration = Duration::days(7);

/// How long an alert about a response waits for the comment its follow-up
/// asks for before it goes without one (when the comment comes sooner, it
/// goes then).
pub const FOLLOW_UP_GRACE: Duration = Duration::minutes(3);

/// Sent, failed and cancelled messages stay in the delivery log this long
/// (longer than [`FRESH_FOR`], so a resent answer finds its alert and
/// makes no second one).
pub const KEEP_DELIVERIES: Duration = Duration::days(30);

/// Most items one grouping pass turns into messages.
const GROUP_LIMIT: i64 = 10_000;

/// What makes an event alert-worthy, by what it is, whatever any
/// destination wants: an NPS detractor (0–6), the bottom of another scale
/// (CSAT, CES, emoji 1–2; thumbs down), a frustrated comment, a
/// behavioural signal.
pub fn reasons(
    kind: &str,
    metric: Option<&str>,
    score: Option<i64>,
    flags: &[String],
) -> Vec<AlertOn> {
    let mut out = Vec::new();
    match kind {
        "response" => {
            if let (Some(metric), Some(score)) = (metric.and_then(Metric::parse), score) {
                match metric {
                    Metric::Nps if score <= 6 => out.push(AlertOn::Detractor),
                    Metric::Csat | Metric::Ces | Metric::Emoji if score <= 2 => {
                        out.push(AlertOn::LowScore);
                    }
                    Metric::Thumbs if score == 0 => out.push(AlertOn::LowScore),
                    _ => {}
                }
            }
            if flags.iter().any(|f| f == "frustration") {
                out.push(AlertOn::Frustration);
            }
        }
        "signal" => out.push(AlertOn::Signal),
        _ => {}
    }
    out
}

/// What of `reasons` a destination listens to, for an event of `touchpoint`
/// (a destination limited to some touchpoints hears nothing of others, nor
/// of signals, which belong to no touchpoint).
pub fn wanted(
    dest: &AlertDestination,
    reasons: &[AlertOn],
    touchpoint: Option<&str>,
) -> Vec<AlertOn> {
    if !dest.touchpoints.is_empty()
        && !touchpoint.is_some_and(|t| dest.touchpoints.iter().any(|d| d == t))
    {
        return Vec::new();
    }
    reasons
        .iter()
        .copied()
        .filter(|r| dest.on.contains(r))
        .collect()
}

/// The emotion flags decided for an event's comment at ingest. None are
/// decided yet: when [`StoredEvent`] carries them, return them here and
/// `frustration` alerts follow (nothing else changes).
fn event_flags(_event: &StoredEvent) -> Vec<String> {
    Vec::new()
}

/// A destination's fingerprint: what the outbox and the log call it (its
/// URL can hold a credential, as a Slack webhook's does, so it is never
/// stored twice or shown).
pub fn destination_id(url: &str) -> String {
    Sha256::digest(url.as_bytes())[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A URL's scheme and host (and port): what the log shows of it.
pub fn destination_host(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or("");
    format!("{scheme}://{host}")
}

/// A fresh random (version 4) UUID: a delivery's id.
pub fn new_delivery_id() -> String {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).expect("the operating system's random source failed");
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

fn join(reasons: &[AlertOn]) -> String {
    reasons
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

fn split_reasons(s: &str) -> Vec<AlertOn> {
    s.split(',').filter_map(AlertOn::parse).collect()
}

fn split_flags(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|f| !f.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Whether a response without a comment may still get one from its
/// touchpoint's follow-up (asked at its score, answered in free text).
fn awaits_follow_up(config: &SiteConfig, touchpoint: Option<&str>, score: Option<i64>) -> bool {
    config.touchpoints.iter().any(|t| {
        Some(t.id.as_str()) == touchpoint
            && t.follow_up
                .as_ref()
                .is_some_and(|f| f.options.is_empty() && f.applies_to(score))
    })
}

/// One item to write.
struct NewItem {
    site_id: i64,
    destination: String,
    event_id: String,
    reasons: String,
    flags: String,
    due_at: String,
}

/// Writes to the outbox what `batches` made alert-worthy, in the
/// transaction that stored them ([`Store::insert_batches`]). Decided on
/// the events as stored (a resent answer's different score is not what
/// counts), for events stored or completed within the follow-up window;
/// costs nothing when no event of the batch could alert, and one read of
/// the site's configuration per site when one could.
pub(super) async fn enqueue(
    conn: &mut AnyConnection,
    backend: Backend,
    batches: &[(i64, &[StoredEvent])],
) -> Result<()> {
    let mut by_site: BTreeMap<i64, HashMap<&str, Vec<&StoredEvent>>> = BTreeMap::new();
    for (site_id, events) in batches {
        for e in *events {
            if !reasons(e.kind, e.metric, e.score, &event_flags(e)).is_empty() {
                by_site
                    .entry(*site_id)
                    .or_default()
                    .entry(e.id.as_str())
                    .or_default()
                    .push(e);
            }
        }
    }
    if by_site.is_empty() {
        return Ok(());
    }
    let now = OffsetDateTime::now_utc();
    let created = format_ts(now);
    let fresh_since = format_ts(now - FRESH_FOR);
    let stored_since = format_ts(now - FOLLOW_UP_WINDOW);
    let mut items = Vec::new();
    for (site_id, candidates) in by_site {
        let Some(row) = sqlx::query("SELECT config FROM sites WHERE id = $1")
            .bind(site_id)
            .fetch_optional(&mut *conn)
            .await?
        else {
            continue;
        };
        let config = site_format::decode(row.get::<&str, _>(0)).map_err(Error::Internal)?;
        if config.alerts.is_empty() {
            continue;
        }
        let zone = config.zone();
        let ids: Vec<&str> = candidates
            .iter()
            .filter(|(_, es)| {
                es.iter().any(|e| {
                    let r = reasons(e.kind, e.metric, e.score, &event_flags(e));
                    config
                        .alerts
                        .iter()
                        .any(|d| !wanted(d, &r, e.touchpoint.as_deref()).is_empty())
                })
            })
            .map(|(id, _)| *id)
            .collect();
        for chunk in ids.chunks(200) {
            let list: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
            let sql = format!(
                "SELECT id, kind, touchpoint, metric, score, comment, ts, received_at \
                 FROM events WHERE site_id = $1 AND id IN ({})",
                list.join(", ")
            );
            let mut query = sqlx::query(&sql).bind(site_id);
            for id in chunk {
                query = query.bind(*id);
            }
            for row in query.fetch_all(&mut *conn).await? {
                let id: String = row.get(0);
                let kind: String = row.get(1);
                let touchpoint: Option<String> = row.get(2);
                let metric: Option<String> = row.get(3);
                let score: Option<i64> = row.get(4);
                let comment: Option<String> = row.get(5);
                let ts: String = row.get(6);
                let received_at: String = row.get(7);
                if ts < fresh_since || received_at < stored_since {
                    continue;
                }
                // The flags belong to the comment: those of the incoming
                // event whose comment is the one stored.
                let flags = candidates[id.as_str()]
                    .iter()
                    .find(|e| comment.is_some() && e.comment == comment)
                    .map(|e| event_flags(e))
                    .unwrap_or_default();
                let all = reasons(&kind, metric.as_deref(), score, &flags);
                let waits = comment.is_none()
                    && kind == "response"
                    && awaits_follow_up(&config, touchpoint.as_deref(), score);
                for dest in &config.alerts {
                    let wants = wanted(dest, &all, touchpoint.as_deref());
                    if wants.is_empty() {
                        continue;
                    }
                    let due_at = if dest.digest_minutes > 0 {
                        zone.window_end(now, dest.digest_minutes)
                            .unwrap_or_else(|| created.clone())
                    } else if waits {
                        format_ts(now + FOLLOW_UP_GRACE)
                    } else {
                        created.clone()
                    };
                    items.push(NewItem {
                        site_id,
                        destination: destination_id(&dest.url),
                        event_id: id.clone(),
                        reasons: join(&wants),
                        flags: flags.join(","),
                        due_at,
                    });
                }
            }
        }
    }
    // An item already waiting takes the newer reasons and flags, and the
    // sooner due time (a follow-up's comment lets it go at once); one
    // already in a message stays as it is: nothing is sent twice.
    for chunk in items.chunks(50) {
        let sql = format!(
            "INSERT INTO alert_items (site_id, destination, event_id, reasons, flags, created_at, due_at) \
             VALUES {} ON CONFLICT (site_id, destination, event_id) DO UPDATE SET \
             reasons = excluded.reasons, flags = excluded.flags, \
             due_at = CASE WHEN excluded.due_at < alert_items.due_at THEN excluded.due_at ELSE alert_items.due_at END \
             WHERE alert_items.delivery_id IS NULL",
            placeholders(backend, chunk.len(), 7)
        );
        let mut query = sqlx::query(&sql);
        for item in chunk {
            query = query
                .bind(item.site_id)
                .bind(&item.destination)
                .bind(&item.event_id)
                .bind(&item.reasons)
                .bind(&item.flags)
                .bind(&created)
                .bind(&item.due_at);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The start of the UTC clock hour `t` is in, as stored.
pub fn hour_start(t: OffsetDateTime) -> String {
    let t = t.to_offset(::time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:00:00.000Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour()
    )
}

/// How a destination's due items become messages, given how many it has
/// been sent this hour (`used`) and the hour's start. Items are
/// `(id, due_at)` in due order. A digest destination gets one message with
/// everything due. Otherwise each item is a message of its own, except
/// that items held past an hour's end (by the cap, or while no worker ran)
/// go together in one digest. Nothing beyond `max_per_hour` messages an
/// hour: what is over waits for the next hour, and is never dropped.
pub fn plan(
    dest: &AlertDestination,
    used: u64,
    hour_start: &str,
    items: &[(i64, String)],
) -> Vec<Vec<i64>> {
    let mut free = dest
        .max_per_hour
        .map_or(u64::MAX, |cap| u64::from(cap).saturating_sub(used));
    let mut out = Vec::new();
    if items.is_empty() || free == 0 {
        return out;
    }
    if dest.digest_minutes > 0 {
        out.push(items.iter().map(|(id, _)| *id).collect());
        return out;
    }
    let (held, fresh): (Vec<_>, Vec<_>) =
        items.iter().partition(|(_, due)| due.as_str() < hour_start);
    if !held.is_empty() {
        out.push(held.iter().map(|(id, _)| *id).collect());
        free -= 1;
    }
    for (id, _) in fresh {
        if free == 0 {
            break;
        }
        out.push(vec![*id]);
        free -= 1;
    }
    out
}

/// A message a worker has taken to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claimed {
    pub id: String,
    pub site_id: i64,
    pub destination: String,
    /// `alert`, `digest` or `test`.
    pub kind: String,
    /// Attempts so far, this one included.
    pub attempts: u64,
    pub created_at: String,
}

/// The site a message is about, as the message needs it.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertingSite {
    pub key: String,
    pub name: String,
    pub alerts: Vec<AlertDestination>,
}

/// One answer of a message, read as stored when it is sent.
#[derive(Clone, Debug, PartialEq)]
pub struct ItemRow {
    pub event_id: String,
    pub reasons: Vec<AlertOn>,
    pub flags: Vec<String>,
    pub ts: String,
    pub page: String,
    pub stage: String,
    pub touchpoint: Option<String>,
    pub metric: Option<String>,
    pub score: Option<i64>,
    pub comment: Option<String>,
    pub signal: Option<String>,
}

/// How an attempt ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Answered 2xx.
    Sent { status: u16 },
    /// Not delivered; tried again at `retry_at`, or marked failed without one.
    Failed {
        status: Option<u16>,
        error: String,
        retry_at: Option<OffsetDateTime>,
    },
    /// Nothing to send any more (its destination or its answers are gone).
    Cancelled { reason: String },
}

impl Store {
    /// Turns due items into messages ([`plan`]), one grouping at a time
    /// across every worker and instance. Items of a destination no longer
    /// configured go into a cancelled message, so the log says what became
    /// of them. Returns how many messages were made.
    pub async fn group_alerts(&self, now: OffsetDateTime) -> Result<u64> {
        let at = format_ts(now);
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE alert_grouping SET ran_at = $1 WHERE id = 1")
            .bind(&at)
            .execute(&mut *tx)
            .await?;
        let rows = sqlx::query(&format!(
            "SELECT id, site_id, destination, due_at FROM alert_items \
             WHERE delivery_id IS NULL AND due_at <= $1 \
             ORDER BY site_id, destination, due_at, id LIMIT {GROUP_LIMIT}"
        ))
        .bind(&at)
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            tx.rollback().await?;
            return Ok(0);
        }
        let mut groups: BTreeMap<(i64, String), Vec<(i64, String)>> = BTreeMap::new();
        for row in &rows {
            groups
                .entry((row.get(1), row.get(2)))
                .or_default()
                .push((row.get(0), row.get(3)));
        }
        let hour = hour_start(now);
        let mut sites: HashMap<i64, Vec<AlertDestination>> = HashMap::new();
        let mut made = 0;
        for ((site_id, destination), items) in groups {
            if let Entry::Vacant(slot) = sites.entry(site_id) {
                let alerts = match sqlx::query("SELECT config FROM sites WHERE id = $1")
                    .bind(site_id)
                    .fetch_optional(&mut *tx)
                    .await?
                {
                    Some(row) => {
                        site_format::decode(row.get::<&str, _>(0))
                            .map_err(Error::Internal)?
                            .alerts
                    }
                    None => Vec::new(),
                };
                slot.insert(alerts);
            }
            let dest = sites[&site_id]
                .iter()
                .find(|d| destination_id(&d.url) == destination);
            let Some(dest) = dest else {
                let ids: Vec<i64> = items.iter().map(|(id, _)| *id).collect();
                let id = new_delivery_id();
                insert_delivery(
                    &mut tx,
                    &id,
                    site_id,
                    &destination,
                    "",
                    if ids.len() == 1 { "alert" } else { "digest" },
                    ids.len(),
                    &at,
                    Some("its destination is no longer in the site's configuration"),
                )
                .await?;
                assign(&mut tx, &id, &ids).await?;
                made += 1;
                continue;
            };
            let used: i64 = sqlx::query(
                "SELECT COUNT(*) FROM alert_deliveries WHERE site_id = $1 AND destination = $2 \
                 AND created_at >= $3 AND kind <> 'test' AND status <> 'cancelled'",
            )
            .bind(site_id)
            .bind(&destination)
            .bind(&hour)
            .fetch_one(&mut *tx)
            .await?
            .get(0);
            for ids in plan(dest, u64::try_from(used).unwrap_or(0), &hour, &items) {
                let id = new_delivery_id();
                let kind = if dest.digest_minutes > 0 || ids.len() > 1 {
                    "digest"
                } else {
                    "alert"
                };
                insert_delivery(
                    &mut tx,
                    &id,
                    site_id,
                    &destination,
                    &destination_host(&dest.url),
                    kind,
                    ids.len(),
                    &at,
                    None,
                )
                .await?;
                assign(&mut tx, &id, &ids).await?;
                made += 1;
            }
        }
        tx.commit().await?;
        Ok(made)
    }

    /// Takes up to `limit` messages due to be sent, for `lease`: until it
    /// runs out no other worker takes them. Each take counts as an attempt.
    pub async fn claim_deliveries(
        &self,
        now: OffsetDateTime,
        owner: &str,
        lease: std::time::Duration,
        limit: usize,
    ) -> Result<Vec<Claimed>> {
        let at = format_ts(now);
        let until = format_ts(now + lease);
        // Instances skip the rows another is taking instead of waiting for
        // it; SQLite has one writer at a time, and the lease does the rest.
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let rows = sqlx::query(&format!(
            "UPDATE alert_deliveries SET lease_owner = $1, lease_until = $2, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM alert_deliveries WHERE status = 'pending' AND next_attempt_at <= $3 \
               AND (lease_until IS NULL OR lease_until < $3) ORDER BY next_attempt_at LIMIT $4{lock}) \
             RETURNING id, site_id, destination, kind, attempts, created_at"
        ))
        .bind(owner)
        .bind(&until)
        .bind(&at)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| Claimed {
                id: r.get(0),
                site_id: r.get(1),
                destination: r.get(2),
                kind: r.get(3),
                attempts: u64::try_from(r.get::<i64, _>(4)).unwrap_or(0),
                created_at: r.get(5),
            })
            .collect())
    }

    /// The site of a message, its destinations included (`None` if the
    /// site is gone).
    pub async fn alerting_site(&self, site_id: i64) -> Result<Option<AlertingSite>> {
        let Some(row) = sqlx::query("SELECT key, name, config FROM sites WHERE id = $1")
            .bind(site_id)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(AlertingSite {
            key: row.get(0),
            name: row.get(1),
            alerts: site_format::decode(row.get::<&str, _>(2))
                .map_err(Error::Internal)?
                .alerts,
        }))
    }

    /// A message's answers, as stored now; erased or purged ones are left out.
    pub async fn delivery_items(&self, delivery: &str) -> Result<Vec<ItemRow>> {
        let rows = sqlx::query(
            "SELECT i.event_id, i.reasons, i.flags, e.ts, e.page, e.stage, e.touchpoint, e.metric, \
             e.score, e.comment, e.signal \
             FROM alert_items i JOIN events e ON e.site_id = i.site_id AND e.id = i.event_id \
             WHERE i.delivery_id = $1 ORDER BY e.ts, e.id",
        )
        .bind(delivery)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| ItemRow {
                event_id: r.get(0),
                reasons: split_reasons(r.get::<&str, _>(1)),
                flags: split_flags(r.get::<&str, _>(2)),
                ts: r.get(3),
                page: r.get(4),
                stage: r.get(5),
                touchpoint: r.get(6),
                metric: r.get(7),
                score: r.get(8),
                comment: r.get(9),
                signal: r.get(10),
            })
            .collect())
    }

    /// Records how an attempt ended, if `owner` still holds the message
    /// (a worker whose lease ran out and was taken over records nothing).
    pub async fn finish_delivery(
        &self,
        id: &str,
        owner: &str,
        now: OffsetDateTime,
        outcome: &Outcome,
    ) -> Result<bool> {
        let at = format_ts(now);
        let (status, next, last_status, error, sent) = match outcome {
            Outcome::Sent { status } => ("sent", None, Some(*status), None, Some(at.clone())),
            Outcome::Failed {
                status,
                error,
                retry_at: Some(retry),
            } => (
                "pending",
                Some(format_ts(*retry)),
                *status,
                Some(error.clone()),
                None,
            ),
            Outcome::Failed {
                status,
                error,
                retry_at: None,
            } => ("failed", None, *status, Some(error.clone()), None),
            Outcome::Cancelled { reason } => ("cancelled", None, None, Some(reason.clone()), None),
        };
        let done = sqlx::query(
            "UPDATE alert_deliveries SET status = $1, next_attempt_at = $2, last_status = $3, \
             last_error = $4, sent_at = $5, lease_owner = NULL, lease_until = NULL \
             WHERE id = $6 AND lease_owner = $7",
        )
        .bind(status)
        .bind(next)
        .bind(last_status.map(i64::from))
        .bind(error)
        .bind(sent)
        .bind(id)
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Writes a message sent outside the outbox (`touchpoint alert test`)
    /// to the log.
    pub async fn record_test_delivery(
        &self,
        site_id: i64,
        id: &str,
        url: &str,
        now: OffsetDateTime,
        outcome: &Outcome,
    ) -> Result<()> {
        let at = format_ts(now);
        let (status, last_status, error) = match outcome {
            Outcome::Sent { status } => ("sent", Some(*status), None),
            Outcome::Failed { status, error, .. } => ("failed", *status, Some(error.clone())),
            Outcome::Cancelled { reason } => ("cancelled", None, Some(reason.clone())),
        };
        sqlx::query(
            "INSERT INTO alert_deliveries (id, site_id, destination, host, kind, status, items, attempts, \
             created_at, last_status, last_error, sent_at) VALUES ($1, $2, $3, $4, 'test', $5, 1, 1, $6, $7, $8, $9)",
        )
        .bind(id)
        .bind(site_id)
        .bind(destination_id(url))
        .bind(destination_host(url))
        .bind(status)
        .bind(&at)
        .bind(last_status.map(i64::from))
        .bind(error)
        .bind((status == "sent").then_some(at.clone()))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A site's most recent messages, newest first.
    pub async fn deliveries(&self, site_id: i64, limit: u32) -> Result<Vec<Delivery>> {
        let rows = sqlx::query(
            "SELECT id, destination, host, kind, status, items, attempts, created_at, next_attempt_at, \
             sent_at, last_status, last_error FROM alert_deliveries WHERE site_id = $1 \
             ORDER BY created_at DESC, id LIMIT $2",
        )
        .bind(site_id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        let count = |v: i64| u64::try_from(v).unwrap_or(0);
        Ok(rows
            .iter()
            .map(|r| {
                let status: String = r.get(4);
                Delivery {
                    id: r.get(0),
                    destination: r.get(1),
                    host: r.get(2),
                    kind: r.get(3),
                    next_attempt_at: if status == "pending" { r.get(8) } else { None },
                    status,
                    alerts: count(r.get(5)),
                    attempts: count(r.get(6)),
                    created_at: r.get(7),
                    sent_at: r.get(9),
                    last_status: r
                        .get::<Option<i64>, _>(10)
                        .and_then(|s| u16::try_from(s).ok()),
                    last_error: r.get(11),
                }
            })
            .collect())
    }

    /// Forgets finished messages older than `before`, and their items.
    pub async fn prune_deliveries(&self, before: OffsetDateTime) -> Result<u64> {
        let before = format_ts(before);
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "DELETE FROM alert_items WHERE delivery_id IN (SELECT id FROM alert_deliveries \
             WHERE status <> 'pending' AND created_at < $1)",
        )
        .bind(&before)
        .execute(&mut *tx)
        .await?;
        let gone = sqlx::query(
            "DELETE FROM alert_deliveries WHERE status <> 'pending' AND created_at < $1",
        )
        .bind(&before)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(gone)
    }
}

#[allow(clippy::too_many_arguments)]
async fn insert_delivery(
    conn: &mut AnyConnection,
    id: &str,
    site_id: i64,
    destination: &str,
    host: &str,
    kind: &str,
    items: usize,
    at: &str,
    cancelled: Option<&str>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO alert_deliveries (id, site_id, destination, host, kind, status, items, attempts, \
         created_at, next_attempt_at, last_error) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9, $10)",
    )
    .bind(id)
    .bind(site_id)
    .bind(destination)
    .bind(host)
    .bind(kind)
    .bind(if cancelled.is_some() { "cancelled" } else { "pending" })
    .bind(i64::try_from(items).unwrap_or(i64::MAX))
    .bind(at)
    .bind(cancelled.is_none().then_some(at))
    .bind(cancelled)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn assign(conn: &mut AnyConnection, delivery: &str, ids: &[i64]) -> Result<()> {
    for chunk in ids.chunks(500) {
        let list: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "UPDATE alert_items SET delivery_id = $1 WHERE id IN ({})",
            list.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(delivery);
        for id in chunk {
            query = query.bind(*id);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use touchpoint_wire::AlertFormat;

    fn dest(digest_minutes: u32, max_per_hour: Option<u32>) -> AlertDestination {
        AlertDestination {
            url: "https://hooks.example/t".into(),
            format: AlertFormat::Json,
            on: AlertOn::ALL.to_vec(),
            touchpoints: Vec::new(),
            digest_minutes,
            secret: None,
            max_per_hour,
        }
    }

    #[test]
    fn what_is_alert_worthy_per_metric() {
        let r = |metric: &str, score: i64| reasons("response", Some(metric), Some(score), &[]);
        assert_eq!(r("nps", 6), [AlertOn::Detractor]);
        assert!(r("nps", 7).is_empty());
        assert_eq!(r("csat", 2), [AlertOn::LowScore]);
        assert!(r("csat", 3).is_empty());
        assert_eq!(r("ces", 2), [AlertOn::LowScore]);
        assert!(r("ces", 3).is_empty());
        assert_eq!(r("emoji", 1), [AlertOn::LowScore]);
        assert_eq!(r("thumbs", 0), [AlertOn::LowScore]);
        assert!(r("thumbs", 1).is_empty());
        let frustrated = ["frustration".to_owned()];
        assert_eq!(
            reasons("response", Some("nps"), Some(3), &frustrated),
            [AlertOn::Detractor, AlertOn::Frustration]
        );
        assert_eq!(
            reasons("response", Some("text"), None, &frustrated),
            [AlertOn::Frustration]
        );
        assert_eq!(reasons("signal", None, None, &[]), [AlertOn::Signal]);
        assert!(reasons("impression", Some("nps"), None, &[]).is_empty());
    }

    #[test]
    fn destinations_hear_what_they_listen_to() {
        let mut d = dest(0, None);
        d.on = vec![AlertOn::Detractor];
        d.touchpoints = vec!["site-nps".into()];
        let both = [AlertOn::Detractor, AlertOn::Frustration];
        assert_eq!(wanted(&d, &both, Some("site-nps")), [AlertOn::Detractor]);
        assert!(wanted(&d, &both, Some("checkout")).is_empty());
        assert!(wanted(&d, &[AlertOn::Signal], None).is_empty());
    }

    #[test]
    fn the_log_shows_a_fingerprint_and_the_host_never_the_path() {
        let url = "https://hooks.slack.example/services/T0/B0/SECRET";
        assert_eq!(destination_id(url).len(), 16);
        assert_ne!(
            destination_id(url),
            destination_id("https://hooks.slack.example/x")
        );
        assert_eq!(destination_host(url), "https://hooks.slack.example");
        assert_eq!(
            destination_host("http://u:p@h.example:8080?x"),
            "http://h.example:8080"
        );
        let id = new_delivery_id();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert_ne!(id, new_delivery_id());
    }

    #[test]
    fn messages_are_planned_within_the_hourly_cap() {
        let items = |dues: &[&str]| -> Vec<(i64, String)> {
            dues.iter()
                .enumerate()
                .map(|(i, d)| (i as i64, (*d).to_owned()))
                .collect()
        };
        let hour = "2026-11-22T10:00:00.000Z";
        let now3 = items(&["2026-11-22T10:01:00.000Z"; 3]);
        // One message each, as they come.
        assert_eq!(
            plan(&dest(0, None), 0, hour, &now3),
            [vec![0], vec![1], vec![2]]
        );
        // A digest destination: one message.
        assert_eq!(plan(&dest(15, None), 0, hour, &now3), [vec![0, 1, 2]]);
        // The cap: two left this hour; the third waits.
        assert_eq!(plan(&dest(0, Some(5)), 3, hour, &now3), [vec![0], vec![1]]);
        assert!(plan(&dest(0, Some(5)), 5, hour, &now3).is_empty());
        assert!(plan(&dest(15, Some(1)), 1, hour, &now3).is_empty());
        // The next hour, what waited goes in one digest, then the new ones.
        let mixed = items(&[
            "2026-11-22T09:58:00.000Z",
            "2026-11-22T09:59:00.000Z",
            "2026-11-22T10:00:01.000Z",
        ]);
        assert_eq!(
            plan(&dest(0, Some(5)), 0, hour, &mixed),
            [vec![0, 1], vec![2]]
        );
        assert_eq!(plan(&dest(0, Some(1)), 0, hour, &mixed), [vec![0, 1]]);
        assert_eq!(
            hour_start(crate::time::parse_ts("2026-11-22T10:59:59Z").unwrap()),
            hour
        );
    }
}
