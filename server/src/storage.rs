//! All SQL lives here, behind [`Store`]. Raw events are the source of truth;
//! aggregates are derived from them by [`Store::aggregate_counts`].
//!
//! Two databases, one set of queries: SQLite (the embedded default) and
//! PostgreSQL (several stateless servers sharing one database) are both
//! reached through sqlx's `Any` driver with `$n` placeholders, which both
//! accept. Only the migrations (`migrations/sqlite`, `migrations/postgres`),
//! the connection set-up and the placeholders of the multi-row event insert
//! (anonymous `?` on SQLite, see [`Store::insert_batches`]) differ.
//!
//! SQLite runs in WAL mode with `synchronous = FULL`, so a committed
//! transaction survives a crash or power loss: the ingest answers 202 only
//! after the commit returns. PostgreSQL commits are durable by default.

use crate::error::{Error, Result};
use crate::site::{SiteConfig, SiteFile};
use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;
use sqlx::{Executor, Row};
use std::collections::HashSet;
use std::time::Duration;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Columns bound per stored event.
const EVENT_COLUMNS: usize = 20;
/// Rows per multi-row INSERT: 50 × 20 parameters stays far below both
/// databases' limits.
pub const ROWS_PER_INSERT: usize = 50;

/// How a [`Store`] uses memory; the default suits the server.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tuning {
    /// SQLite's page cache per connection, in KiB (`PRAGMA cache_size`);
    /// SQLite's own 2 MiB when `None`.
    pub sqlite_cache_kib: Option<u32>,
}

impl Tuning {
    /// For bulk loads ([`crate::import`]): events arrive in random id and
    /// visitor order, so every one dirties a page of two indexes. A cache
    /// that holds a whole batch's dirty pages writes each of them to the
    /// WAL once per commit instead of spilling and rewriting them, and keeps
    /// the indexes' inner pages in memory. Bounded, whatever the input's size.
    pub const BULK: Tuning = Tuning {
        sqlite_cache_kib: Some(128 * 1024),
    };
}

/// Which database a [`Store`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A configured site as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct SiteRecord {
    pub id: i64,
    pub key: String,
    pub name: String,
    pub origins: Vec<String>,
    pub config: SiteConfig,
    /// Events older than this many days are purged.
    pub retention_days: i64,
}

impl SiteRecord {
    /// The configuration in the shape of a site file.
    pub fn to_file(&self) -> SiteFile {
        SiteFile {
            site: crate::site::SiteSection {
                name: self.name.clone(),
                key: Some(self.key.clone()),
                origins: self.origins.clone(),
                retention_days: u32::try_from(self.retention_days).unwrap_or(u32::MAX),
                contact_days: self.config.contact_days,
                respect_gpc: self.config.respect_gpc,
            },
            theme: self.config.theme.clone(),
            stage: self.config.stages.clone(),
            touchpoint: self.config.touchpoints.clone(),
        }
    }
}

/// An event after validation: normalised, resolved, scrubbed; what is stored.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredEvent {
    pub id: String,
    pub kind: &'static str,
    pub touchpoint: Option<String>,
    pub page: String,
    pub stage: String,
    pub metric: Option<&'static str>,
    pub score: Option<i64>,
    pub comment: Option<String>,
    pub choices: Option<String>,
    pub visitor: Option<String>,
    pub session: Option<String>,
    pub ts: String,
    pub locale: Option<String>,
    pub device: Option<String>,
    pub attributes: Option<String>,
    pub signal: Option<String>,
    pub gpc: Option<i64>,
    pub consent: Option<i64>,
}

/// Roles a token can have, weakest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Viewer,
    Editor,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        [Role::Viewer, Role::Editor, Role::Admin]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

/// A grouping column of the aggregates, mapped to its SQL expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupBy {
    Page,
    Stage,
    Touchpoint,
    Day,
    Device,
    Locale,
}

impl GroupBy {
    pub const ALL: [GroupBy; 6] = [
        GroupBy::Page,
        GroupBy::Stage,
        GroupBy::Touchpoint,
        GroupBy::Day,
        GroupBy::Device,
        GroupBy::Locale,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Page => "page",
            GroupBy::Stage => "stage",
            GroupBy::Touchpoint => "touchpoint",
            GroupBy::Day => "day",
            GroupBy::Device => "device",
            GroupBy::Locale => "locale",
        }
    }

    pub fn parse(s: &str) -> Option<GroupBy> {
        GroupBy::ALL.into_iter().find(|g| g.as_str() == s)
    }

    fn sql(self) -> &'static str {
        match self {
            GroupBy::Page => "page",
            GroupBy::Stage => "stage",
            GroupBy::Touchpoint => "COALESCE(touchpoint, '')",
            GroupBy::Day => "substr(ts, 1, 10)",
            GroupBy::Device => "COALESCE(device, 'unknown')",
            GroupBy::Locale => "COALESCE(locale, 'unknown')",
        }
    }
}

/// Which events an aggregate or export covers: a half-open time range
/// `[from, to)` over event `ts` (normalised RFC 3339 text) and exact matches
/// on page, stage, touchpoint and metric.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    pub from: Option<String>,
    pub to: Option<String>,
    pub page: Option<String>,
    pub stage: Option<String>,
    pub touchpoint: Option<String>,
    pub metric: Option<String>,
}

impl Filter {
    fn conditions(&self) -> [(&Option<String>, &'static str); 6] {
        [
            (&self.from, "ts >="),
            (&self.to, "ts <"),
            (&self.page, "page ="),
            (&self.stage, "stage ="),
            (&self.touchpoint, "touchpoint ="),
            (&self.metric, "metric ="),
        ]
    }

    /// ` AND ts >= $n …` for the conditions present, numbered from `first`,
    /// and the values to bind in that order.
    fn sql(&self, first: usize) -> (String, Vec<&String>) {
        let mut sql = String::new();
        let mut binds = Vec::new();
        for (value, condition) in self.conditions() {
            if let Some(v) = value {
                sql.push_str(&format!(" AND {condition} ${}", first + binds.len()));
                binds.push(v);
            }
        }
        (sql, binds)
    }
}

/// Count of events sharing a group, metric, kind and score, and how many
/// of them carry a comment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CountRow {
    pub groups: Vec<String>,
    pub metric: String,
    pub kind: String,
    pub score: Option<i64>,
    pub count: u64,
    pub comments: u64,
}

/// Count of responses sharing a group, metric and set of picked options
/// (`choices`, the stored JSON array).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChoiceCountRow {
    pub groups: Vec<String>,
    pub metric: String,
    pub choices: String,
    pub count: u64,
}

/// One raw response, for `responses.csv`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseRow {
    pub id: String,
    pub ts: String,
    pub page: String,
    pub stage: String,
    pub touchpoint: Option<String>,
    pub metric: Option<String>,
    pub score: Option<i64>,
    pub comment: Option<String>,
    pub choices: Option<String>,
    pub locale: Option<String>,
    pub device: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

impl Store {
    /// Opens the database at `url` and migrates it. `postgres://…` or
    /// `postgresql://…` is PostgreSQL; `sqlite://path`, `sqlite:path` or a
    /// plain file path is SQLite, created if missing.
    pub async fn open(url: &str) -> Result<Store> {
        Store::open_tuned(url, Tuning::default()).await
    }

    /// [`Store::open`] with settings for a particular workload.
    pub async fn open_tuned(url: &str, tuning: Tuning) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let (backend, url) = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_owned())
        } else {
            let url = if url.starts_with("sqlite:") {
                url.to_owned()
            } else {
                format!("sqlite://{url}")
            };
            let url = if url.contains('?') || url.contains(":memory:") {
                url
            } else {
                format!("{url}?mode=rwc")
            };
            (Backend::Sqlite, url)
        };
        let options = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(30));
        let pool = match backend {
            Backend::Sqlite => {
                options
                    .max_connections(8)
                    .after_connect(move |conn, _| {
                        Box::pin(async move {
                            if let Some(kib) = tuning.sqlite_cache_kib {
                                let pragma = format!("PRAGMA cache_size = -{kib}");
                                conn.execute(pragma.as_str()).await?;
                            }
                            for pragma in [
                                "PRAGMA journal_mode = WAL",
                                "PRAGMA synchronous = FULL",
                                "PRAGMA foreign_keys = ON",
                                "PRAGMA busy_timeout = 10000",
                            ] {
                                conn.execute(pragma).await?;
                            }
                            Ok(())
                        })
                    })
                    .connect(&url)
                    .await?
            }
            Backend::Postgres => options.max_connections(16).connect(&url).await?,
        };
        match backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&pool).await?,
        }
        Ok(Store { pool, backend })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Creates or updates a site from a validated file. A site is matched by
    /// its key, else its name. Returns the site's key and whether anything changed.
    pub async fn apply_site(
        &self,
        file: &SiteFile,
        new_key: impl FnOnce() -> String,
    ) -> Result<(String, bool)> {
        let origins = serde_json::to_string(&file.site.origins).map_err(internal)?;
        let config = serde_json::to_string(&file.config()).map_err(internal)?;
        let retention = i64::from(file.site.retention_days);
        let now = now();
        let mut tx = self.pool.begin().await?;
        let existing = match &file.site.key {
            Some(key) => sqlx::query(
                "SELECT id, key, name, origins, config, retention_days FROM sites WHERE key = $1",
            )
            .bind(key)
            .fetch_optional(&mut *tx)
            .await?,
            None => sqlx::query(
                "SELECT id, key, name, origins, config, retention_days FROM sites WHERE name = $1",
            )
            .bind(&file.site.name)
            .fetch_optional(&mut *tx)
            .await?,
        };
        let (key, changed) = match existing {
            Some(row) => {
                let id: i64 = row.get(0);
                let key: String = row.get(1);
                let same = row.get::<String, _>(2) == file.site.name
                    && row.get::<String, _>(3) == origins
                    && row.get::<String, _>(4) == config
                    && row.get::<i64, _>(5) == retention;
                if !same {
                    sqlx::query(
                        "UPDATE sites SET name = $1, origins = $2, config = $3, retention_days = $4, updated_at = $5 \
                         WHERE id = $6",
                    )
                        .bind(&file.site.name)
                        .bind(&origins)
                        .bind(&config)
                        .bind(retention)
                        .bind(&now)
                        .bind(id)
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| name_taken(e, &file.site.name))?;
                }
                (key, !same)
            }
            None => {
                let key = file.site.key.clone().unwrap_or_else(new_key);
                sqlx::query(
                    "INSERT INTO sites (key, name, origins, config, retention_days, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&key)
                .bind(&file.site.name)
                .bind(&origins)
                .bind(&config)
                .bind(retention)
                .bind(&now)
                .bind(&now)
                .execute(&mut *tx)
                .await
                .map_err(|e| name_taken(e, &file.site.name))?;
                (key, true)
            }
        };
        tx.commit().await?;
        Ok((key, changed))
    }

    pub async fn site_by_key(&self, key: &str) -> Result<Option<SiteRecord>> {
        let row = sqlx::query(
            "SELECT id, key, name, origins, config, retention_days FROM sites WHERE key = $1",
        )
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(SiteRecord {
                id: row.get(0),
                key: row.get(1),
                name: row.get(2),
                origins: serde_json::from_str(row.get::<&str, _>(3)).map_err(internal)?,
                config: serde_json::from_str(row.get::<&str, _>(4)).map_err(internal)?,
                retention_days: row.get(5),
            })
        })
        .transpose()
    }

    /// Stores a token's hash with its role on a site.
    pub async fn add_token(&self, site_id: i64, role: Role, hash: &str) -> Result<()> {
        sqlx::query("INSERT INTO tokens (site_id, role, hash, created_at) VALUES ($1, $2, $3, $4)")
            .bind(site_id)
            .bind(role.as_str())
            .bind(hash)
            .bind(now())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The site id and role a live token hash grants.
    pub async fn token(&self, hash: &str) -> Result<Option<(i64, Role)>> {
        let row =
            sqlx::query("SELECT site_id, role FROM tokens WHERE hash = $1 AND revoked_at IS NULL")
                .bind(hash)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.and_then(|r| Role::parse(r.get::<&str, _>(1)).map(|role| (r.get(0), role))))
    }

    /// Inserts a batch in one transaction; an id already stored for the
    /// site counts as a duplicate and changes nothing. Returns
    /// `(accepted, duplicates)` once the transaction is durable.
    pub async fn insert_events(&self, site_id: i64, events: &[StoredEvent]) -> Result<(u64, u64)> {
        Ok(self.insert_batches(&[(site_id, events)]).await?[0])
    }

    /// Group commit: inserts several batches (of any sites) in one
    /// transaction and returns `(accepted, duplicates)` per batch, in order.
    /// Rows go in multi-row statements of up to [`ROWS_PER_INSERT`].
    pub async fn insert_batches(
        &self,
        batches: &[(i64, &[StoredEvent])],
    ) -> Result<Vec<(u64, u64)>> {
        let received = now();
        let mut tx = self.pool.begin().await?;
        let mut counts = Vec::with_capacity(batches.len());
        for (site_id, events) in batches {
            let mut accepted = 0;
            for chunk in events.chunks(ROWS_PER_INSERT) {
                let mut sql = String::from(
                    "INSERT INTO events (site_id, id, kind, touchpoint, page, stage, metric, score, comment, choices, \
                     visitor, session, ts, received_at, locale, device, attributes, signal, gpc, consent) VALUES ",
                );
                for row in 0..chunk.len() {
                    sql.push_str(if row == 0 { "(" } else { ", (" });
                    for col in 0..EVENT_COLUMNS {
                        if col > 0 {
                            sql.push_str(", ");
                        }
                        // sqlx looks up each numbered SQLite parameter by
                        // name, a linear search per parameter: with a
                        // thousand of them that costs more than the insert.
                        // Anonymous `?` are bound in order at no cost.
                        match self.backend {
                            Backend::Sqlite => sql.push('?'),
                            Backend::Postgres => {
                                sql.push_str(&format!("${}", row * EVENT_COLUMNS + col + 1));
                            }
                        }
                    }
                    sql.push(')');
                }
                sql.push_str(" ON CONFLICT (site_id, id) DO NOTHING RETURNING id");
                let mut query = sqlx::query(&sql);
                for e in chunk {
                    query = query
                        .bind(*site_id)
                        .bind(&e.id)
                        .bind(e.kind)
                        .bind(&e.touchpoint)
                        .bind(&e.page)
                        .bind(&e.stage)
                        .bind(e.metric)
                        .bind(e.score)
                        .bind(&e.comment)
                        .bind(&e.choices)
                        .bind(&e.visitor)
                        .bind(&e.session)
                        .bind(&e.ts)
                        .bind(&received)
                        .bind(&e.locale)
                        .bind(&e.device)
                        .bind(&e.attributes)
                        .bind(&e.signal)
                        .bind(e.gpc)
                        .bind(e.consent);
                }
                let inserted: HashSet<String> = query
                    .fetch_all(&mut *tx)
                    .await?
                    .iter()
                    .map(|r| r.get(0))
                    .collect();
                accepted += inserted.len() as u64;
                // A follow-up's answer arrives as the same response resent
                // with its comment or choices: fill in what the stored one
                // lacks. First answer wins; no second score. Only a row
                // that was not inserted just now can need it: its id was
                // stored before, or came earlier in this statement (whose
                // first row of an id is the one inserted). Updating every
                // response with a comment instead costs a statement each,
                // and on a PostgreSQL table not yet analysed the planner
                // may answer each by scanning the (site, kind, ts) index.
                let mut seen = HashSet::new();
                for e in chunk {
                    let first = seen.insert(e.id.as_str());
                    if e.kind != "response"
                        || (e.comment.is_none() && e.choices.is_none())
                        || (first && inserted.contains(&e.id))
                    {
                        continue;
                    }
                    sqlx::query(
                        "UPDATE events SET comment = COALESCE(comment, $1), choices = COALESCE(choices, $2) \
                         WHERE site_id = $3 AND id = $4 AND kind = 'response' AND touchpoint = $5 \
                         AND ((comment IS NULL AND $1 IS NOT NULL) OR (choices IS NULL AND $2 IS NOT NULL))",
                    )
                    .bind(&e.comment)
                    .bind(&e.choices)
                    .bind(*site_id)
                    .bind(&e.id)
                    .bind(&e.touchpoint)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            counts.push((accepted, events.len() as u64 - accepted));
        }
        tx.commit().await?;
        Ok(counts)
    }

    /// Deletes every site's events older than its `retention_days`
    /// (by event time). Returns how many were deleted.
    pub async fn purge_expired(&self, now: time::OffsetDateTime) -> Result<u64> {
        let sites = sqlx::query("SELECT id, retention_days FROM sites")
            .fetch_all(&self.pool)
            .await?;
        let mut deleted = 0;
        for site in sites {
            let cutoff = format_ts(now - time::Duration::days(site.get::<i64, _>(1)));
            deleted += sqlx::query("DELETE FROM events WHERE site_id = $1 AND ts < $2")
                .bind(site.get::<i64, _>(0))
                .bind(cutoff)
                .execute(&self.pool)
                .await?
                .rows_affected();
        }
        Ok(deleted)
    }

    /// Everything stored about one visitor of a site, oldest first, as JSON
    /// objects (what a visitor's data request is answered with).
    pub async fn visitor_events(
        &self,
        site_id: i64,
        visitor: &str,
    ) -> Result<Vec<serde_json::Value>> {
        let rows = sqlx::query(
            "SELECT id, kind, touchpoint, page, stage, metric, score, comment, choices, visitor, session, ts, \
             received_at, locale, device, attributes, signal, gpc, consent \
             FROM events WHERE site_id = $1 AND visitor = $2 ORDER BY ts, id",
        )
        .bind(site_id)
        .bind(visitor)
        .fetch_all(&self.pool)
        .await?;
        let json =
            |v: Option<String>| v.and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok());
        let flag = |v: Option<i64>| v.map(|b| b != 0);
        Ok(rows
            .into_iter()
            .map(|r| {
                serde_json::json!({
                    "id": r.get::<String, _>(0), "kind": r.get::<String, _>(1), "touchpoint": r.get::<Option<String>, _>(2),
                    "page": r.get::<String, _>(3), "stage": r.get::<String, _>(4), "metric": r.get::<Option<String>, _>(5),
                    "score": r.get::<Option<i64>, _>(6), "comment": r.get::<Option<String>, _>(7),
                    "choices": json(r.get(8)), "visitor": r.get::<Option<String>, _>(9), "session": r.get::<Option<String>, _>(10),
                    "ts": r.get::<String, _>(11), "received_at": r.get::<String, _>(12), "locale": r.get::<Option<String>, _>(13),
                    "device": r.get::<Option<String>, _>(14), "attributes": json(r.get(15)), "signal": r.get::<Option<String>, _>(16),
                    "gpc": flag(r.get(17)), "consent": flag(r.get(18)),
                })
            })
            .collect())
    }

    /// Deletes everything stored about one visitor of a site.
    pub async fn delete_visitor(&self, site_id: i64, visitor: &str) -> Result<u64> {
        Ok(
            sqlx::query("DELETE FROM events WHERE site_id = $1 AND visitor = $2")
                .bind(site_id)
                .bind(visitor)
                .execute(&self.pool)
                .await?
                .rows_affected(),
        )
    }

    /// The tokens of a site: `(id, role, created_at, revoked_at)`, never their values.
    pub async fn tokens(&self, site_id: i64) -> Result<Vec<(i64, String, String, Option<String>)>> {
        let rows = sqlx::query(
            "SELECT id, role, created_at, revoked_at FROM tokens WHERE site_id = $1 ORDER BY id",
        )
        .bind(site_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
            .collect())
    }

    /// Revokes a token by id or by the hash of its value; returns whether a
    /// live token was revoked.
    pub async fn revoke_token(&self, id: Option<i64>, hash: Option<&str>) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE tokens SET revoked_at = $1 WHERE revoked_at IS NULL AND (id = $2 OR hash = $3)",
        )
        .bind(now())
        .bind(id.unwrap_or(-1))
        .bind(hash.unwrap_or(""))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Creates a user, or updates the password of an existing one (when
    /// given); then grants `role` on the site. Returns the user id.
    pub async fn upsert_user(
        &self,
        email: &str,
        password_hash: Option<&str>,
        site_id: i64,
        role: Role,
    ) -> Result<i64> {
        let mut tx = self.pool.begin().await?;
        let existing = sqlx::query("SELECT id FROM users WHERE email = $1")
            .bind(email)
            .fetch_optional(&mut *tx)
            .await?;
        let id: i64 = match (existing, password_hash) {
            (Some(row), Some(hash)) => {
                let id = row.get(0);
                sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
                    .bind(hash)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                id
            }
            (Some(row), None) => row.get(0),
            (None, Some(hash)) => {
                sqlx::query(
                    "INSERT INTO users (email, password_hash, created_at) VALUES ($1, $2, $3)",
                )
                .bind(email)
                .bind(hash)
                .bind(now())
                .execute(&mut *tx)
                .await?;
                sqlx::query("SELECT id FROM users WHERE email = $1")
                    .bind(email)
                    .fetch_one(&mut *tx)
                    .await?
                    .get(0)
            }
            (None, None) => {
                return Err(Error::bad_request(
                    "password_required",
                    "a new user needs a password",
                ));
            }
        };
        sqlx::query(
            "INSERT INTO memberships (user_id, site_id, role) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id, site_id) DO UPDATE SET role = excluded.role",
        )
        .bind(id)
        .bind(site_id)
        .bind(role.as_str())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// `(user id, password hash)` of an e-mail address.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<(i64, String)>> {
        let row = sqlx::query("SELECT id, password_hash FROM users WHERE email = $1")
            .bind(email)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| (r.get(0), r.get(1))))
    }

    /// The sites a user may see, with their role: `(site key, role)`.
    pub async fn memberships(&self, user_id: i64) -> Result<Vec<(String, Role)>> {
        let rows = sqlx::query(
            "SELECT s.key, m.role FROM memberships m JOIN sites s ON s.id = m.site_id WHERE m.user_id = $1 ORDER BY s.key",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| Some((r.get(0), Role::parse(r.get::<&str, _>(1))?)))
            .collect())
    }

    /// A user's role on a site, if any.
    pub async fn membership(&self, user_id: i64, site_id: i64) -> Result<Option<Role>> {
        let row = sqlx::query("SELECT role FROM memberships WHERE user_id = $1 AND site_id = $2")
            .bind(user_id)
            .bind(site_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.and_then(|r| Role::parse(r.get::<&str, _>(0))))
    }

    pub async fn create_session(
        &self,
        hash: &str,
        user_id: i64,
        csrf: &str,
        expires_at: &str,
    ) -> Result<()> {
        sqlx::query("INSERT INTO sessions (hash, user_id, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(hash)
            .bind(user_id)
            .bind(csrf)
            .bind(now())
            .bind(expires_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// `(user id, e-mail, csrf token)` of a live session.
    pub async fn session(&self, hash: &str) -> Result<Option<(i64, String, String)>> {
        let row = sqlx::query(
            "SELECT u.id, u.email, s.csrf FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.hash = $1 AND s.expires_at > $2",
        )
        .bind(hash)
        .bind(now())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| (r.get(0), r.get(1), r.get(2))))
    }

    pub async fn delete_session(&self, hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE hash = $1")
            .bind(hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// `(open, idle)` connections of the pool.
    pub fn pool_stats(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }

    /// Whether the database answers (for `/readyz`).
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Counts responses and impressions per group × metric × kind × score.
    pub async fn aggregate_counts(
        &self,
        site_id: i64,
        group_by: &[GroupBy],
        filter: &Filter,
    ) -> Result<Vec<CountRow>> {
        let rows = self
            .grouped(
                site_id,
                group_by,
                filter,
                "metric, kind, score, COUNT(*), COUNT(comment)",
                "kind IN ('response', 'impression') AND metric IS NOT NULL",
                "metric, kind, score",
            )
            .await?;
        let n = group_by.len();
        Ok(rows
            .into_iter()
            .map(|row| CountRow {
                groups: (0..n).map(|i| row.get::<String, _>(i)).collect(),
                metric: row.get(n),
                kind: row.get(n + 1),
                score: row.get(n + 2),
                count: u64::try_from(row.get::<i64, _>(n + 3)).unwrap_or(0),
                comments: u64::try_from(row.get::<i64, _>(n + 4)).unwrap_or(0),
            })
            .collect())
    }

    /// Counts responses per group × metric × set of picked options. The
    /// sets are few (options are at most 20 and mostly picked alone), so
    /// they are split into options by the caller, the same on both databases.
    pub async fn choice_counts(
        &self,
        site_id: i64,
        group_by: &[GroupBy],
        filter: &Filter,
    ) -> Result<Vec<ChoiceCountRow>> {
        let rows = self
            .grouped(
                site_id,
                group_by,
                filter,
                "metric, choices, COUNT(*)",
                "kind = 'response' AND metric IS NOT NULL AND choices IS NOT NULL",
                "metric, choices",
            )
            .await?;
        let n = group_by.len();
        Ok(rows
            .into_iter()
            .map(|row| ChoiceCountRow {
                groups: (0..n).map(|i| row.get::<String, _>(i)).collect(),
                metric: row.get(n),
                choices: row.get(n + 1),
                count: u64::try_from(row.get::<i64, _>(n + 2)).unwrap_or(0),
            })
            .collect())
    }

    /// `SELECT <groups>, <columns> FROM events WHERE site_id AND <condition>
    /// AND <filter> GROUP BY <groups>, <group>`.
    async fn grouped(
        &self,
        site_id: i64,
        group_by: &[GroupBy],
        filter: &Filter,
        columns: &str,
        condition: &str,
        group: &str,
    ) -> Result<Vec<sqlx::any::AnyRow>> {
        let mut select = String::from("SELECT ");
        let mut groups = String::new();
        for (i, g) in group_by.iter().enumerate() {
            select.push_str(&format!("{} AS g{i}, ", g.sql()));
            groups.push_str(&format!("g{i}, "));
        }
        select.push_str(&format!(
            "{columns} FROM events WHERE site_id = $1 AND {condition}"
        ));
        let (conditions, binds) = filter.sql(2);
        select.push_str(&conditions);
        select.push_str(&format!(" GROUP BY {groups}{group}"));
        let mut query = sqlx::query(&select).bind(site_id);
        for value in binds {
            query = query.bind(value);
        }
        Ok(query.fetch_all(&self.pool).await?)
    }

    /// Up to `limit` raw responses in `(ts, id)` order, after the given
    /// `(ts, id)` position. Exports page through with it, so memory stays
    /// flat whatever the row count and no read transaction stays open.
    pub async fn responses_page(
        &self,
        site_id: i64,
        filter: &Filter,
        after: Option<(&str, &str)>,
        limit: usize,
    ) -> Result<Vec<ResponseRow>> {
        let mut sql = String::from(
            "SELECT id, ts, page, stage, touchpoint, metric, score, comment, choices, locale, device \
             FROM events WHERE site_id = $1 AND kind = 'response'",
        );
        let (conditions, binds) = filter.sql(2);
        sql.push_str(&conditions);
        let next = 2 + binds.len();
        if after.is_some() {
            // After (ts, id). `ts >= …` on its own lets both databases start
            // the (site, kind, ts) index range where the last page ended;
            // behind an OR alone they scan from the first response on every
            // page, which makes an export quadratic in its length.
            sql.push_str(&format!(
                " AND ts >= ${next} AND (ts > ${} OR id > ${})",
                next + 1,
                next + 2
            ));
        }
        sql.push_str(&format!(" ORDER BY ts, id LIMIT {limit}"));
        let mut query = sqlx::query(&sql).bind(site_id);
        for value in binds {
            query = query.bind(value);
        }
        if let Some((ts, id)) = after {
            query = query.bind(ts).bind(ts).bind(id);
        }
        let rows = query.fetch_all(&self.pool).await?;
        Ok(rows
            .into_iter()
            .map(|r| ResponseRow {
                id: r.get(0),
                ts: r.get(1),
                page: r.get(2),
                stage: r.get(3),
                touchpoint: r.get(4),
                metric: r.get(5),
                score: r.get(6),
                comment: r.get(7),
                choices: r.get(8),
                locale: r.get(9),
                device: r.get(10),
            })
            .collect())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn internal(e: impl std::fmt::Display) -> Error {
    Error::Internal(e.to_string())
}

fn name_taken(e: sqlx::Error, name: &str) -> Error {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => Error::bad_request(
            "site_name_taken",
            format!("site.name: another site is already called {name:?}"),
        ),
        _ => e.into(),
    }
}

/// Now, as stored: UTC RFC 3339 with milliseconds.
pub fn now() -> String {
    format_ts(time::OffsetDateTime::now_utc())
}

pub fn format_ts(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}
