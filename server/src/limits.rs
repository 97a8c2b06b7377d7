//! Rate limits as token buckets held in memory only, keyed so that an
//! attacker cannot spend a victim's allowance:
//!
//! - **Ingest** ([`RateLimiter`]): per client across all sites (checked
//!   before the site is even looked up, so unknown keys cost a client its
//!   own budget), per client and site, and per site.
//! - **Sign-in** ([`LoginLimiter`]): per client across e-mails (no
//!   spraying) and per client and e-mail (no guessing), never per e-mail
//!   alone: wrong passwords from elsewhere cannot lock a person out.
//!
//! A client is a salted hash of its address that never leaves this
//! process: the address is not stored. Buckets are bounded in number
//! (idle ones are dropped first). With several instances each enforces its
//! own share.

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Requests per minute; 0 turns a limit off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimits {
    /// Per client and site.
    pub per_client: u32,
    /// Per site, all clients together.
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

/// Most buckets kept; beyond it, idle ones go, then the oldest.
const MAX_BUCKETS: usize = 100_000;

/// Token buckets by hashed key.
#[derive(Debug)]
struct Buckets {
    salt: [u8; 16],
    map: Mutex<HashMap<[u8; 16], Bucket>>,
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

impl Buckets {
    fn new() -> Buckets {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).expect("the operating system's random source failed");
        Buckets {
            salt,
            map: Mutex::new(HashMap::new()),
        }
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

    /// Takes one token from each bucket, or none and says how long to wait.
    /// Look first, take after: a refused request drains no bucket.
    fn take(&self, checks: &[([u8; 16], u32)]) -> Result<(), Duration> {
        let now = Instant::now();
        let mut map = self
            .map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() >= MAX_BUCKETS {
            map.retain(|_, b| now.duration_since(b.last) < Duration::from_secs(120));
            if map.len() >= MAX_BUCKETS {
                map.clear();
            }
        }
        let mut wait = Duration::ZERO;
        for &(key, per_minute) in checks.iter().filter(|c| c.1 > 0) {
            let bucket = refill(map.get(&key).copied(), per_minute, now);
            if bucket.tokens < 1.0 {
                wait = wait.max(Duration::from_secs_f64(
                    (1.0 - bucket.tokens) * 60.0 / f64::from(per_minute),
                ));
            }
        }
        if !wait.is_zero() {
            return Err(wait);
        }
        for &(key, per_minute) in checks.iter().filter(|c| c.1 > 0) {
            let mut bucket = refill(map.get(&key).copied(), per_minute, now);
            bucket.tokens -= 1.0;
            map.insert(key, bucket);
        }
        Ok(())
    }

    fn len(&self) -> usize {
        self.map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }
}

/// An address's bytes (4 for IPv4, 16 for IPv6), without formatting it.
fn ip_bytes(ip: IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    }
}

fn client_bytes(client: Option<IpAddr>) -> Vec<u8> {
    client.map_or_else(|| b"unknown".to_vec(), ip_bytes)
}

/// Limits on `POST /v1/events`.
#[derive(Debug)]
pub struct RateLimiter {
    limits: RateLimits,
    buckets: Buckets,
}

impl RateLimiter {
    pub fn new(limits: RateLimits) -> RateLimiter {
        RateLimiter {
            limits,
            buckets: Buckets::new(),
        }
    }

    /// Before the site is known: the client's budget across all sites
    /// (ten sites' worth), so a client posting to keys that do not exist
    /// spends its own budget, not the database's time.
    pub fn check_client(&self, client: Option<IpAddr>) -> Result<(), Duration> {
        let Some(ip) = client else { return Ok(()) };
        if self.limits.per_client == 0 {
            return Ok(());
        }
        let key = self.buckets.key(&[b"client", &ip_bytes(ip)]);
        self.buckets
            .take(&[(key, self.limits.per_client.saturating_mul(10))])
    }

    /// Takes one request from the client's and the site's buckets, or says
    /// how long to wait.
    /// A limit set to 0 costs nothing: no key is hashed, no lock taken.
    pub fn check(&self, site: &str, client: Option<IpAddr>) -> Result<(), Duration> {
        let mut checks = Vec::with_capacity(2);
        if self.limits.per_site > 0 {
            let key = self.buckets.key(&[b"site", site.as_bytes()]);
            checks.push((key, self.limits.per_site));
        }
        if let Some(ip) = client
            && self.limits.per_client > 0
        {
            let key = self
                .buckets
                .key(&[b"client-site", site.as_bytes(), &ip_bytes(ip)]);
            checks.push((key, self.limits.per_client));
        }
        if checks.is_empty() {
            return Ok(());
        }
        self.buckets.take(&checks)
    }

    /// Buckets held (for tests of the bound).
    pub fn buckets(&self) -> usize {
        self.buckets.len()
    }
}

/// Sign-in attempts per minute: per client across e-mails, and per client
/// and e-mail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoginLimits {
    pub per_client: u32,
    pub per_client_and_email: u32,
}

impl Default for LoginLimits {
    fn default() -> Self {
        LoginLimits {
            per_client: 20,
            per_client_and_email: 10,
        }
    }
}

/// Limits on `POST /v1/session`.
#[derive(Debug)]
pub struct LoginLimiter {
    limits: LoginLimits,
    buckets: Buckets,
}

impl LoginLimiter {
    pub fn new(limits: LoginLimits) -> LoginLimiter {
        LoginLimiter {
            limits,
            buckets: Buckets::new(),
        }
    }

    /// Takes one attempt from the client's and the client-and-e-mail's
    /// buckets, or says how long to wait.
    pub fn check(&self, email: &str, client: Option<IpAddr>) -> Result<(), Duration> {
        let ip = client_bytes(client);
        let per_client = self.buckets.key(&[b"client", &ip]);
        let pair = self.buckets.key(&[b"client-email", &ip, email.as_bytes()]);
        self.buckets.take(&[
            (per_client, self.limits.per_client),
            (pair, self.limits.per_client_and_email),
        ])
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

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn a_client_over_its_limit_waits_and_others_do_not() {
        let limiter = RateLimiter::new(RateLimits {
            per_client: 10,
            per_site: 0,
        });
        let (a, b) = (ip("203.0.113.7"), ip("203.0.113.8"));
        for _ in 0..5 {
            assert!(limiter.check("s", a).is_ok());
        }
        let wait = limiter.check("s", a).unwrap_err();
        assert!(
            wait > Duration::from_secs(5) && wait <= Duration::from_secs(6),
            "{wait:?}"
        );
        assert!(limiter.check("s", b).is_ok());
        assert!(limiter.check("other-site", a).is_ok());
    }

    #[test]
    fn the_site_limit_covers_all_clients() {
        let limiter = RateLimiter::new(RateLimits {
            per_client: 0,
            per_site: 4,
        });
        assert!(limiter.check("s", None).is_ok());
        assert!(limiter.check("s", ip("192.0.2.1")).is_ok());
        assert!(limiter.check("s", ip("192.0.2.2")).is_err());
    }

    #[test]
    fn a_client_spends_its_own_budget_across_sites() {
        let limiter = RateLimiter::new(RateLimits {
            per_client: 2,
            per_site: 0,
        });
        // Ten sites' worth: a burst of 10.
        for _ in 0..10 {
            assert!(limiter.check_client(ip("198.51.100.1")).is_ok());
        }
        assert!(limiter.check_client(ip("198.51.100.1")).is_err());
        assert!(limiter.check_client(ip("198.51.100.2")).is_ok());
    }

    #[test]
    fn wrong_passwords_elsewhere_do_not_lock_a_person_out() {
        let limiter = LoginLimiter::new(LoginLimits {
            per_client: 100,
            per_client_and_email: 10,
        });
        for _ in 0..5 {
            assert!(limiter.check("bob@example.com", ip("203.0.113.66")).is_ok());
        }
        assert!(
            limiter
                .check("bob@example.com", ip("203.0.113.66"))
                .is_err()
        );
        assert!(limiter.check("bob@example.com", ip("198.51.100.5")).is_ok());
    }

    #[test]
    fn one_client_cannot_spray_many_emails() {
        let limiter = LoginLimiter::new(LoginLimits {
            per_client: 20,
            per_client_and_email: 10,
        });
        let tried = (0..40)
            .filter(|n| {
                limiter
                    .check(&format!("user{n}@example.com"), ip("203.0.113.66"))
                    .is_ok()
            })
            .count();
        assert_eq!(tried, 10);
    }
}
