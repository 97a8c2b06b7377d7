//! Sites: who they are (key, name, origins, retention) and their
//! configuration, stored in [`site_format`](super::site_format)'s own format.

use super::site_format::{self, SiteConfig};
use super::{Store, internal};
use crate::error::{Error, Result};
use crate::time::now;
use sqlx::Row;
use touchpoint_wire::{SiteDocument, SiteSettings};

/// A configured site as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct Site {
    pub id: i64,
    pub key: String,
    pub name: String,
    pub origins: Vec<String>,
    pub config: SiteConfig,
    /// Events older than this many days are purged.
    pub retention_days: i64,
}

impl Site {
    /// The configuration in the shape of a site file.
    pub fn to_document(&self) -> SiteDocument {
        SiteDocument {
            site: SiteSettings {
                name: self.name.clone(),
                key: Some(self.key.clone()),
                origins: self.origins.clone(),
                retention_days: u32::try_from(self.retention_days).unwrap_or(u32::MAX),
                contact_days: self.config.contact_days,
                respect_gpc: self.config.respect_gpc,
                timezone: self.config.timezone.clone(),
                attributes: self.config.attributes.clone(),
            },
            theme: self.config.theme.clone(),
            stage: self.config.stages.clone(),
            touchpoint: self.config.touchpoints.clone(),
            alert: self.config.alerts.clone(),
            outcome: self.config.outcomes.clone(),
        }
    }
}

/// The part of a site document kept in `sites.config`.
pub fn config_of(doc: &SiteDocument) -> SiteConfig {
    SiteConfig {
        stages: doc.stage.clone(),
        touchpoints: doc.touchpoint.clone(),
        contact_days: doc.site.contact_days,
        respect_gpc: doc.site.respect_gpc,
        theme: doc.theme.clone(),
        timezone: doc.site.timezone.clone(),
        alerts: doc.alert.clone(),
        attributes: doc.site.attributes.clone(),
        outcomes: doc.outcome.clone(),
    }
}

const SITE_COLUMNS: &str = "id, key, name, origins, config, retention_days";

fn site_of(row: &sqlx::any::AnyRow) -> Result<Site> {
    Ok(Site {
        id: row.get(0),
        key: row.get(1),
        name: row.get(2),
        origins: serde_json::from_str(row.get::<&str, _>(3)).map_err(internal)?,
        config: site_format::decode(row.get::<&str, _>(4)).map_err(internal)?,
        retention_days: row.get(5),
    })
}

impl Store {
    /// Creates or updates a site from a validated document. A site is
    /// matched by its key, else by its name (several sites may share a
    /// name: then the document must give the key). Returns the site's key
    /// and whether anything changed.
    pub async fn apply_site(
        &self,
        doc: &SiteDocument,
        new_key: impl FnOnce() -> String,
    ) -> Result<(String, bool)> {
        let origins = serde_json::to_string(&doc.site.origins).map_err(internal)?;
        let config = config_of(doc);
        let retention = i64::from(doc.site.retention_days);
        let now = now();
        let mut tx = self.pool.begin().await?;
        let existing = match &doc.site.key {
            Some(key) => {
                sqlx::query(&format!("SELECT {SITE_COLUMNS} FROM sites WHERE key = $1"))
                    .bind(key)
                    .fetch_all(&mut *tx)
                    .await?
            }
            None => {
                sqlx::query(&format!(
                    "SELECT {SITE_COLUMNS} FROM sites WHERE name = $1 ORDER BY id LIMIT 2"
                ))
                .bind(&doc.site.name)
                .fetch_all(&mut *tx)
                .await?
            }
        };
        if existing.len() > 1 {
            return Err(Error::bad_request(
                "site_name_ambiguous",
                format!(
                    "site.name: several sites are called {:?}; give site.key to say which",
                    doc.site.name
                ),
            ));
        }
        let (key, changed) = match existing.first() {
            Some(row) => {
                let stored = site_of(row)?;
                let same = stored.name == doc.site.name
                    && stored.origins == doc.site.origins
                    && stored.config == config
                    && stored.retention_days == retention;
                if !same {
                    sqlx::query(
                        "UPDATE sites SET name = $1, origins = $2, config = $3, retention_days = $4, updated_at = $5 \
                         WHERE id = $6",
                    )
                    .bind(&doc.site.name)
                    .bind(&origins)
                    .bind(site_format::encode(&config))
                    .bind(retention)
                    .bind(&now)
                    .bind(stored.id)
                    .execute(&mut *tx)
                    .await?;
                    // Rollups are kept per local day: a new time zone
                    // moves every day's boundaries.
                    if stored.config.timezone != config.timezone {
                        super::rollups::rebuild_in(
                            &mut tx,
                            self.backend,
                            stored.id,
                            Some(&config.zone()),
                        )
                        .await?;
                    }
                }
                (stored.key, !same)
            }
            None => {
                let key = doc.site.key.clone().unwrap_or_else(new_key);
                insert_site(&mut tx, doc, &key).await?;
                (key, true)
            }
        };
        tx.commit().await?;
        Ok((key, changed))
    }

    /// Creates a new site from a validated document for a signed-in
    /// account, which becomes its admin, in one transaction: unless the
    /// account already administers `cap` sites, or the document's key is
    /// taken. The account's row is written first, so two creations by one
    /// account queue (a row lock on PostgreSQL, the write lock on SQLite)
    /// and the cap holds under a race.
    pub async fn create_site(
        &self,
        doc: &SiteDocument,
        key: &str,
        user_id: i64,
        cap: u32,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE users SET email = email WHERE id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        let held: i64 =
            sqlx::query("SELECT COUNT(*) FROM memberships WHERE user_id = $1 AND role = 'admin'")
                .bind(user_id)
                .fetch_one(&mut *tx)
                .await?
                .get(0);
        if held >= i64::from(cap) {
            return Err(Error::forbidden(
                "site_limit",
                format!(
                    "an account administers at most {cap} sites on this server, and you administer {held}; \
                     the operator can raise it (touchpoint serve --sites-per-account)"
                ),
            ));
        }
        let taken = sqlx::query("SELECT id FROM sites WHERE key = $1")
            .bind(key)
            .fetch_optional(&mut *tx)
            .await?;
        if taken.is_some() {
            return Err(Error::Conflict {
                code: "site_exists",
                message: format!(
                    "site.key: {key:?} is taken; leave it out and the server makes one"
                ),
            });
        }
        insert_site(&mut tx, doc, key).await?;
        sqlx::query(
            "INSERT INTO memberships (user_id, site_id, role) \
             SELECT $1, id, 'admin' FROM sites WHERE key = $2",
        )
        .bind(user_id)
        .bind(key)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The site's draft, if one was saved: `(document as JSON, when, by whom)`.
    pub async fn draft(&self, site_id: i64) -> Result<Option<(String, String, String)>> {
        let row = sqlx::query(
            "SELECT document, updated_at, updated_by FROM site_drafts WHERE site_id = $1",
        )
        .bind(site_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| (r.get(0), r.get(1), r.get(2))))
    }

    /// Saves (or replaces) the site's draft: a validated document as JSON.
    pub async fn save_draft(&self, site_id: i64, document: &str, by: &str) -> Result<String> {
        let now = now();
        sqlx::query(
            "INSERT INTO site_drafts (site_id, document, updated_at, updated_by) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (site_id) DO UPDATE SET document = excluded.document, \
             updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        )
        .bind(site_id)
        .bind(document)
        .bind(&now)
        .bind(by)
        .execute(&self.pool)
        .await?;
        Ok(now)
    }

    /// Deletes the site's draft; with `only`, only while it is still that
    /// document (a publish leaves a draft saved meanwhile in place). Returns
    /// whether one was deleted.
    pub async fn delete_draft(&self, site_id: i64, only: Option<&str>) -> Result<bool> {
        let done = match only {
            Some(document) => {
                sqlx::query("DELETE FROM site_drafts WHERE site_id = $1 AND document = $2")
                    .bind(site_id)
                    .bind(document)
                    .execute(&self.pool)
                    .await?
            }
            None => {
                sqlx::query("DELETE FROM site_drafts WHERE site_id = $1")
                    .bind(site_id)
                    .execute(&self.pool)
                    .await?
            }
        };
        Ok(done.rows_affected() > 0)
    }

    pub async fn site_by_key(&self, key: &str) -> Result<Option<Site>> {
        let row = sqlx::query(&format!("SELECT {SITE_COLUMNS} FROM sites WHERE key = $1"))
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(site_of).transpose()
    }
}

/// Inserts a new site from a validated document under `key`.
async fn insert_site(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    doc: &SiteDocument,
    key: &str,
) -> Result<()> {
    let now = now();
    sqlx::query(
        "INSERT INTO sites (key, name, origins, config, retention_days, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(key)
    .bind(&doc.site.name)
    .bind(serde_json::to_string(&doc.site.origins).map_err(internal)?)
    .bind(site_format::encode(&config_of(doc)))
    .bind(i64::from(doc.site.retention_days))
    .bind(&now)
    .bind(&now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
