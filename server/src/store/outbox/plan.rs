//! Turning due items into messages: digest windows and the hourly cap.

use crate::error::{Error, Result};
use crate::store::Store;
use crate::store::site_format::{self};
use crate::time::format_ts;
use ::time::OffsetDateTime;
use sqlx::{AnyConnection, Row};
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use touchpoint_wire::AlertDestination;

use super::*;

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
