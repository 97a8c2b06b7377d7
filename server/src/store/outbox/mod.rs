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
//! midnight in the site's time zone).//!
//! The parts: [`enqueue`] writes items with the answers; [`plan`] turns due
//! items into messages; [`deliveries`] hands them to workers and keeps the
//! log.

mod deliveries;
mod enqueue;
mod plan;

pub use deliveries::{AlertingSite, Claimed, ItemRow, Outcome};
pub(super) use enqueue::enqueue;
pub use plan::{hour_start, plan};

use super::events::StoredEvent;
use ::time::Duration;
use sha2::{Digest, Sha256};
use touchpoint_wire::Metric;
use touchpoint_wire::{AlertDestination, AlertOn};

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
pub(super) const GROUP_LIMIT: i64 = 10_000;

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

/// The emotion flags decided for an event's comment at ingest.
pub(super) fn event_flags(event: &StoredEvent) -> Vec<String> {
    event
        .flags
        .iter()
        .flat_map(|f| f.split(';'))
        .filter(|f| !f.is_empty())
        .map(str::to_owned)
        .collect()
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

pub(super) fn join(reasons: &[AlertOn]) -> String {
    reasons
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

pub(super) fn split_reasons(s: &str) -> Vec<AlertOn> {
    s.split(',').filter_map(AlertOn::parse).collect()
}

pub(super) fn split_flags(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|f| !f.is_empty())
        .map(str::to_owned)
        .collect()
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
