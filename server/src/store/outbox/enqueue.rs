//! Writing alert-worthy answers to the outbox, in the transaction that
//! stores them.

use crate::error::{Error, Result};
use crate::store::Backend;
use crate::store::events::{FOLLOW_UP_WINDOW, StoredEvent};
use crate::store::exec::{Arg, Cols, Exec};
use crate::store::rollups::placeholders;
use crate::store::site_format::{self, SiteConfig};
use crate::time::format_ts;
use ::time::OffsetDateTime;
use std::collections::{BTreeMap, HashMap};

use super::*;

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
pub(in crate::store) async fn enqueue(
    exec: &mut Exec<'_>,
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
        let Some(row) = exec
            .fetch_optional("SELECT config FROM sites WHERE id = $1", &[site_id.into()])
            .await?
        else {
            continue;
        };
        let config = site_format::decode(&row.col::<String>(0)).map_err(Error::Internal)?;
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
            let mut args = vec![Arg::from(site_id)];
            args.extend(chunk.iter().map(|id| Arg::from(*id)));
            for row in exec.fetch_all(&sql, &args).await? {
                let id: String = row.col(0);
                let kind: String = row.col(1);
                let touchpoint: Option<String> = row.col(2);
                let metric: Option<String> = row.col(3);
                let score: Option<i64> = row.col(4);
                let comment: Option<String> = row.col(5);
                let ts: String = row.col(6);
                let received_at: String = row.col(7);
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
        let mut args = Vec::with_capacity(chunk.len() * 7);
        for item in chunk {
            args.extend([
                Arg::from(item.site_id),
                Arg::from(&item.destination),
                Arg::from(&item.event_id),
                Arg::from(&item.reasons),
                Arg::from(&item.flags),
                Arg::from(&created),
                Arg::from(&item.due_at),
            ]);
        }
        exec.execute(&sql, &args).await?;
    }
    Ok(())
}
