//! Alerts reach a person: the worker that `touchpoint serve` runs beside
//! the API, taking messages from the outbox (`store::outbox`, written in
//! the same transaction as the answers that make them) and posting them to
//! the site's `[[alert]]` destinations.
//!
//! Each pass: group due items into messages (digest windows, the hourly
//! cap: [`Store::group_alerts`]), take what is due with a lease
//! ([`Store::claim_deliveries`]), post each ([`http::post`], signed:
//! [`message::signature`]) and record how it went. A message not answered
//! 2xx is tried again after an exponential backoff with jitter
//! ([`backoff`]) until [`AlertSettings::give_up_after`] has passed since it
//! was made, then marked failed; its `X-Touchpoint-Delivery` is the same on
//! every attempt, so a receiver that got it twice (a worker killed after
//! posting, before recording) can tell. Several instances share the work
//! through the lease; none waits for another.
//!
//! [`Store::group_alerts`]: crate::store::Store::group_alerts
//! [`Store::claim_deliveries`]: crate::store::Store::claim_deliveries

pub mod addr;
pub mod http;
pub mod message;

use crate::metrics::Metrics;
use crate::store::Store;
use crate::store::outbox::{Claimed, KEEP_DELIVERIES, Outcome, destination_id};
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::Semaphore;

pub use addr::check_destinations;

/// How alerts are delivered (`touchpoint serve --alert-…`).
#[derive(Clone, Debug)]
pub struct AlertSettings {
    /// Allow destinations on loopback, private, link-local and other
    /// non-public addresses (`TOUCHPOINT_ALERTS_ALLOW_PRIVATE=1`): for a
    /// receiver on the same machine or network, and tests.
    pub allow_private: bool,
    /// The dashboard's public address (`--public-url`), for the links in
    /// messages; without it messages carry none.
    pub public_url: Option<String>,
    /// One attempt, from resolving the name to the end of the answer.
    pub timeout: Duration,
    /// The wait before the first retry; it doubles with each attempt.
    pub backoff_first: Duration,
    /// The longest wait between two attempts.
    pub backoff_max: Duration,
    /// A message not delivered this long after it was made is marked failed.
    pub give_up_after: Duration,
    /// How often the outbox is looked at.
    pub poll: Duration,
    /// Messages posted at once by one worker.
    pub concurrency: usize,
}

impl Default for AlertSettings {
    fn default() -> Self {
        AlertSettings {
            allow_private: false,
            public_url: None,
            timeout: Duration::from_secs(10),
            backoff_first: Duration::from_secs(10),
            backoff_max: Duration::from_secs(3600),
            give_up_after: Duration::from_secs(24 * 3600),
            poll: Duration::from_secs(1),
            concurrency: 8,
        }
    }
}

impl AlertSettings {
    /// How long a worker holds a message it is sending: past one attempt's
    /// timeout with room to record it, so only a dead worker's lease runs out.
    pub fn lease(&self) -> Duration {
        self.timeout * 2 + Duration::from_secs(2)
    }
}

/// The wait after attempt `attempts` (1 for the first) failed:
/// `backoff_first × 2^(attempts−1)`, at most `backoff_max`, then between
/// 80 % and 120 % of that at random, so receivers that come back are not
/// met by every sender at once.
pub fn backoff(settings: &AlertSettings, attempts: u64) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(u32::MAX)
        .min(30);
    let base = settings
        .backoff_first
        .saturating_mul(1 << doublings)
        .min(settings.backoff_max);
    let mut b = [0u8; 2];
    getrandom::fill(&mut b).expect("the operating system's random source failed");
    let jitter = 0.8 + 0.4 * f64::from(u16::from_le_bytes(b)) / f64::from(u16::MAX);
    base.mul_f64(jitter)
}

/// Delivers the outbox's messages for as long as the runtime lives.
pub fn spawn_worker(
    store: Store,
    settings: AlertSettings,
    metrics: Arc<Metrics>,
) -> tokio::task::JoinHandle<()> {
    let worker = Arc::new(Worker {
        store,
        settings,
        metrics,
        owner: crate::store::outbox::new_delivery_id(),
    });
    tokio::spawn(async move { worker.run().await })
}

struct Worker {
    store: Store,
    settings: AlertSettings,
    metrics: Arc<Metrics>,
    /// This worker's name on the leases it takes.
    owner: String,
}

impl Worker {
    async fn run(self: Arc<Self>) {
        let slots = Arc::new(Semaphore::new(self.settings.concurrency.max(1)));
        let mut pruned = tokio::time::Instant::now();
        loop {
            let now = OffsetDateTime::now_utc();
            if let Err(e) = self.store.group_alerts(now).await {
                tracing::warn!(error = %e, "alerts: grouping failed; trying again");
            }
            let free = slots.available_permits();
            let mut taken = 0;
            if free > 0 {
                match self
                    .store
                    .claim_deliveries(now, &self.owner, self.settings.lease(), free)
                    .await
                {
                    Ok(claimed) => {
                        taken = claimed.len();
                        for c in claimed {
                            let Ok(slot) = slots.clone().acquire_owned().await else {
                                return;
                            };
                            let worker = self.clone();
                            tokio::spawn(async move {
                                worker.deliver(c).await;
                                drop(slot);
                            });
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "alerts: taking messages failed"),
                }
            }
            if pruned.elapsed() >= Duration::from_secs(3600) {
                pruned = tokio::time::Instant::now();
                match self.store.prune_deliveries(now - KEEP_DELIVERIES).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(deleted = n, "alerts: old deliveries forgotten"),
                    Err(e) => tracing::warn!(error = %e, "alerts: pruning the log failed"),
                }
            }
            // A full take may have left more: look again at once.
            if taken == 0 || taken < free {
                tokio::time::sleep(self.settings.poll).await;
            }
        }
    }

    /// Sends one message and records the outcome.
    async fn deliver(&self, c: Claimed) {
        let outcome = match self.attempt(&c).await {
            Ok(outcome) => outcome,
            Err(e) => {
                tracing::error!(error = %e, "alerts: a message could not be prepared");
                Outcome::Failed {
                    status: None,
                    error: "the message could not be prepared".into(),
                    retry_at: None,
                }
            }
        };
        let outcome = match outcome {
            Outcome::Failed { status, error, .. } => {
                let next = OffsetDateTime::now_utc() + backoff(&self.settings, c.attempts);
                let deadline =
                    crate::time::parse_ts(&c.created_at).map(|t| t + self.settings.give_up_after);
                let retry_at = deadline.filter(|d| next <= *d).map(|_| next);
                if retry_at.is_some() {
                    self.metrics.alert_retried();
                } else {
                    self.metrics.alert_failed();
                }
                Outcome::Failed {
                    status,
                    error,
                    retry_at,
                }
            }
            other => other,
        };
        match &outcome {
            Outcome::Sent { status } => {
                self.metrics.alert_sent();
                tracing::info!(delivery = %c.id, destination = %c.destination, status, attempts = c.attempts, "alert delivered");
            }
            Outcome::Failed {
                status,
                error,
                retry_at,
            } => tracing::warn!(
                delivery = %c.id, destination = %c.destination, ?status, %error,
                attempts = c.attempts, retry = retry_at.is_some(), "alert not delivered"
            ),
            Outcome::Cancelled { reason } => {
                tracing::info!(delivery = %c.id, destination = %c.destination, %reason, "alert cancelled");
            }
        }
        match self
            .store
            .finish_delivery(&c.id, &self.owner, OffsetDateTime::now_utc(), &outcome)
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(delivery = %c.id, "alerts: the lease ran out before the outcome was recorded")
            }
            Err(e) => {
                tracing::error!(error = %e, delivery = %c.id, "alerts: recording an outcome failed")
            }
        }
    }

    async fn attempt(&self, c: &Claimed) -> crate::error::Result<Outcome> {
        let cancelled = |reason: &str| {
            Ok(Outcome::Cancelled {
                reason: reason.to_owned(),
            })
        };
        let Some(site) = self.store.alerting_site(c.site_id).await? else {
            return cancelled("its site is gone");
        };
        let Some(dest) = site
            .alerts
            .iter()
            .find(|d| destination_id(&d.url) == c.destination)
        else {
            return cancelled("its destination is no longer in the site's configuration");
        };
        let items = self.store.delivery_items(&c.id).await?;
        if items.is_empty() {
            return cancelled("its answers were erased");
        }
        let body = message::build(
            &c.kind,
            &c.id,
            &site,
            dest,
            &items,
            self.settings.public_url.as_deref(),
        );
        let headers = message::headers(&c.id, dest, &body);
        Ok(
            match http::post(
                &dest.url,
                &headers,
                body,
                self.settings.allow_private,
                self.settings.timeout,
            )
            .await
            {
                Ok(answer) if (200..300).contains(&answer.status) => Outcome::Sent {
                    status: answer.status,
                },
                Ok(answer) => Outcome::Failed {
                    status: Some(answer.status),
                    error: if (300..400).contains(&answer.status) {
                        format!("answered {} (redirects are not followed)", answer.status)
                    } else {
                        format!("answered {}", answer.status)
                    },
                    retry_at: None,
                },
                Err(error) => Outcome::Failed {
                    status: None,
                    error,
                    retry_at: None,
                },
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap_with_jitter() {
        let s = AlertSettings::default();
        for (attempts, base) in [(1, 10.0), (2, 20.0), (3, 40.0), (12, 3600.0), (400, 3600.0)] {
            let wait = backoff(&s, attempts).as_secs_f64();
            assert!(
                (base * 0.8..=base * 1.2).contains(&wait),
                "attempt {attempts}: {wait}"
            );
        }
        assert!(s.lease() > s.timeout);
    }
}
