//! A short-lived cache of site configurations for the hot public routes
//! (ingest and widget config), so a burst of events does not read and parse
//! the site on every request. Entries live [`TTL`]; a change made through
//! this process's API is visible at once, one made elsewhere (another
//! instance, `touchpoint apply`) within [`TTL`]. Private routes always read
//! the database.
//!
//! Keys that name no site are cached too, so a flood of bogus keys does not
//! reach the database; entries are keyed by a hash of the key (16 bytes,
//! whatever was sent) and their number is bounded.

use crate::error::Result;
use crate::store::{Site, Store};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const TTL: Duration = Duration::from_secs(2);
/// Most entries (real or bogus keys); beyond it, stale ones go, then all.
pub const MAX_ENTRIES: usize = 10_000;

/// Hash of a key → (when read, the site or its absence).
type Entries = HashMap<[u8; 16], (Instant, Option<Arc<Site>>)>;

#[derive(Debug, Default)]
pub struct SiteCache {
    entries: Mutex<Entries>,
}

fn hashed(key: &str) -> [u8; 16] {
    let mut out = [0u8; 16];
    out.copy_from_slice(&Sha256::digest(key.as_bytes())[..16]);
    out
}

impl SiteCache {
    /// The site with this key, from the cache when fresh.
    pub async fn get(&self, store: &Store, key: &str) -> Result<Option<Arc<Site>>> {
        let now = Instant::now();
        let id = hashed(key);
        if let Some((at, site)) = self.lock().get(&id)
            && now.duration_since(*at) < TTL
        {
            return Ok(site.clone());
        }
        let site = store.site_by_key(key).await?.map(Arc::new);
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, (at, _)| now.duration_since(*at) < TTL);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(id, (now, site.clone()));
        Ok(site)
    }

    /// Forgets a site after it changed here.
    pub fn invalidate(&self, key: &str) {
        self.lock().remove(&hashed(key));
    }

    /// Entries held (for tests of the bound).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
