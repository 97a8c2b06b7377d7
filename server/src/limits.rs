//! Rate limits on ingest, per client and site and per site, as token
//! buckets held in memory only. A client is identified by a salted hash of
//! its address that never leaves this process: the address is not stored.
//! With several instances each enforces its own share.

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Requests per minute; 0 turns a limit off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimits {
    pub per_client: u32,
    pub per_site: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            per_client: 120,
            per_site: 12_000,
        }
    }
}

#[derive(Debug)]
pub struct RateLimiter {
    limits: RateLimits,
    salt: [u8; 16],
    buckets: Mutex<HashMap<[u8; 16], Bucket>>,
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

impl RateLimiter {
    pub fn new(limits: RateLimits) -> RateLimiter {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).expect("the operating system's random source failed");
        RateLimiter {
            limits,
            salt,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from the client's and the site's buckets, or says
    /// how long to wait.
    pub fn check(&self, site: &str, client: Option<IpAddr>) -> Result<(), Duration> {
        let now = Instant::now();
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() > 100_000 {
            buckets.retain(|_, b| now.duration_since(b.last) < Duration::from_secs(600));
        }
        let site_key = self.key(&[b"site", site.as_bytes()]);
        let client_key =
            client.map(|ip| self.key(&[b"client", site.as_bytes(), ip.to_string().as_bytes()]));
        let checks = [
            (Some(site_key), self.limits.per_site),
            (client_key, self.limits.per_client),
        ];
        // Look first, take after: a refused request must not drain the other bucket.
        let mut wait = Duration::ZERO;
        for (key, per_minute) in checks {
            let (Some(key), true) = (key, per_minute > 0) else {
                continue;
            };
            let bucket = refill(buckets.get(&key).copied(), per_minute, now);
            if bucket.tokens < 1.0 {
                wait = wait.max(Duration::from_secs_f64(
                    (1.0 - bucket.tokens) * 60.0 / f64::from(per_minute),
                ));
            }
        }
        if !wait.is_zero() {
            return Err(wait);
        }
        for (key, per_minute) in checks {
            let (Some(key), true) = (key, per_minute > 0) else {
                continue;
            };
            let mut bucket = refill(buckets.get(&key).copied(), per_minute, now);
            bucket.tokens -= 1.0;
            buckets.insert(key, bucket);
        }
        Ok(())
    }

    fn key(&self, parts: &[&[u8]]) -> [u8; 16] {
        let mut h = Sha256::new();
        h.update(self.salt);
        for p in parts {
            h.update((p.len() as u64).to_le_bytes());
            h.update(p);
        }
        let mut key = [0u8; 16];
        key.copy_from_slice(&h.finalize()[..16]);
        key
    }
}

/// A bucket holds up to half a minute's worth of requests and refills
/// continuously at the per-minute rate.
fn refill(bucket: Option<Bucket>, per_minute: u32, now: Instant) -> Bucket {
    let capacity = (f64::from(per_minute) / 2.0).max(1.0);
    match bucket {
        None => Bucket {
            tokens: capacity,
            last: now,
        },
        Some(b) => {
            let gained = now.duration_since(b.last).as_secs_f64() * f64::from(per_minute) / 60.0;
            Bucket {
                tokens: (b.tokens + gained).min(capacity),
                last: now,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_over_its_limit_waits_and_others_do_not() {
        let limiter = RateLimiter::new(RateLimits {
            per_client: 10,
            per_site: 0,
        });
        let a: IpAddr = "203.0.113.7".parse().unwrap();
        let b: IpAddr = "203.0.113.8".parse().unwrap();
        for _ in 0..5 {
            assert!(limiter.check("s", Some(a)).is_ok());
        }
        let wait = limiter.check("s", Some(a)).unwrap_err();
        assert!(
            wait > Duration::from_secs(5) && wait <= Duration::from_secs(6),
            "{wait:?}"
        );
        assert!(limiter.check("s", Some(b)).is_ok());
        assert!(limiter.check("other-site", Some(a)).is_ok());
    }

    #[test]
    fn the_site_limit_covers_all_clients() {
        let limiter = RateLimiter::new(RateLimits {
            per_client: 0,
            per_site: 4,
        });
        assert!(limiter.check("s", None).is_ok());
        assert!(
            limiter
                .check("s", Some("192.0.2.1".parse().unwrap()))
                .is_ok()
        );
        assert!(
            limiter
                .check("s", Some("192.0.2.2".parse().unwrap()))
                .is_err()
        );
    }
}
