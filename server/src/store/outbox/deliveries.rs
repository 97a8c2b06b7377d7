//! Messages taken by workers, their outcomes, and the delivery log.

use crate::error::{Error, Result};
use crate::store::site_format::{self};
use crate::store::{Backend, Store};
use crate::time::format_ts;
use ::time::OffsetDateTime;
use sqlx::Row;
use touchpoint_wire::{AlertDestination, AlertOn, Delivery};

use super::*;

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
