//! A short-lived cache of site configurations for the hot public routes
//! (ingest and widget config), so a burst of events does not read and parse
//! the site on every request. Entries live [`TTL`]; a change made through
//! this process's API is visible at once, one made elsewhere (another
//! instance, `touchpoint apply`) within [`TTL`]. Private routes always read
//! the database.

use crate::error::Result;
use crate::store::{Site, Store};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const TTL: Duration = Duration::from_secs(2);
/// Beyond this many keys (real or bogus), the cache starts over.
const MAX_ENTRIES: usize = 10_000;

/// Key → (when read, the site or its absence).
type Entries = HashMap<String, (Instant, Option<Arc<Site>>)>;

#[derive(Debug, Default)]
pub struct SiteCache {
    entries: Mutex<Entries>,
}

impl SiteCache {
    /// The site with this key, from the cache when fresh. Unknown keys are
    /// cached too, so a flood of bogus keys does not reach the database.
    pub async fn get(&self, store: &Store, key: &str) -> Result<Option<Arc<Site>>> {
        let now = Instant::now();
        if let Some((at, site)) = self.lock().get(key)
            && now.duration_since(*at) < TTL
        {
            return Ok(site.clone());
        }
        let site = store.site_by_key(key).await?.map(Arc::new);
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(key.to_owned(), (now, site.clone()));
        Ok(site)
    }

    /// Forgets a site after it changed here.
    pub fn invalidate(&self, key: &str) {
        self.lock().remove(key);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
