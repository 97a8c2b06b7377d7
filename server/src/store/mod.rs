//! All SQL lives here, behind [`Store`]. Raw events are the source of truth;
//! aggregates are derived from them.
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
//!
//! One file per kind of table: [`sites`] (and the stored configuration's
//! own format, [`site_format`]), [`events`], [`rollups`] (the per-day
//! counts every report reads, kept with the events), [`accounts`] (roles,
//! tokens, users, sessions), [`queries`] (grouping, filters), [`raw`]
//! (raw responses read fast for exports, around the pool) and [`outbox`] (alerts waiting for their destinations,
//! written with the events that make them, and the delivery log).

pub mod accounts;
pub mod events;
mod exec;
pub mod migrate;
pub mod outbox;
pub mod queries;
pub mod raw;
pub mod rollups;
pub mod site_format;
pub mod sites;
mod writer;

pub use accounts::Role;
pub use events::StoredEvent;
pub(crate) use exec::run_now;
pub use queries::{CommentQuery, CommentRecord, Filter, GroupBy, LatestAnswer};
pub use rollups::{Counts, Grain, ItemRow, RollupFilter, RollupRow};
pub use site_format::SiteConfig;
pub use sites::Site;
pub use writer::{PgWriter, Writer};

use crate::error::{Error, Result};
use sqlx::AnyPool;
use sqlx::Executor;
use sqlx::any::AnyPoolOptions;
use std::time::Duration;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

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

#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    location: Location,
    /// Applied to every connection, the pool's and a [`Writer`]'s.
    tuning: Tuning,
}

/// Where the database is, for what reads it without the pool (raw exports,
/// [`raw`]). Its `Debug` shows neither path nor URL: a PostgreSQL URL can
/// hold a password.
#[derive(Clone)]
pub(crate) enum Location {
    SqliteFile(std::path::PathBuf),
    /// A SQLite database without a file (`sqlite::memory:`).
    SqliteMemory,
    Postgres(String),
}

impl std::fmt::Debug for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Location::SqliteFile(_) => "SqliteFile(…)",
            Location::SqliteMemory => "SqliteMemory",
            Location::Postgres(_) => "Postgres(…)",
        })
    }
}

impl Location {
    /// The location of a database at `url`, as normalised by [`Store::open_tuned`].
    fn of(backend: Backend, url: &str) -> Location {
        match backend {
            Backend::Postgres => Location::Postgres(url.to_owned()),
            Backend::Sqlite => {
                let path = url
                    .strip_prefix("sqlite://")
                    .or_else(|| url.strip_prefix("sqlite:"))
                    .unwrap_or(url);
                let path = path.split('?').next().unwrap_or(path);
                if path.is_empty() || path.contains(":memory:") {
                    Location::SqliteMemory
                } else {
                    Location::SqliteFile(path.into())
                }
            }
        }
    }
}

/// How many migrations a database has had (none before the first).
async fn applied_migrations(conn: &mut sqlx::AnyConnection) -> i64 {
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM _sqlx_migrations")
        .fetch_one(conn)
        .await
        .unwrap_or(0)
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
            Backend::Sqlite => {
                // A migration that rebuilds a table (SQLite's only way to
                // change a constraint) must run with foreign keys off, or
                // dropping the old table would delete the rows that refer to
                // it; that pragma cannot change inside the migration's own
                // transaction, so it is set on the connection around them,
                // and the references are checked afterwards.
                let mut conn = pool.acquire().await?;
                let before = applied_migrations(&mut conn).await;
                conn.execute("PRAGMA foreign_keys = OFF").await?;
                let migrated = SQLITE_MIGRATIONS.run(&mut *conn).await;
                conn.execute("PRAGMA foreign_keys = ON").await?;
                migrated?;
                // The check reads every table: only after a migration ran,
                // not on every start of a large database.
                let broken = if applied_migrations(&mut conn).await != before {
                    sqlx::query("PRAGMA foreign_key_check")
                        .fetch_all(&mut *conn)
                        .await?
                } else {
                    Vec::new()
                };
                if !broken.is_empty() {
                    return Err(Error::Internal(format!(
                        "after migrating, {} rows refer to rows that do not exist",
                        broken.len()
                    )));
                }
            }
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&pool).await?,
        }
        let location = Location::of(backend, &url);
        let store = Store {
            pool,
            backend,
            location,
            tuning,
        };
        store.rebuild_listed_rollups().await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
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

    /// Refreshes PostgreSQL's statistics of the events table after a bulk
    /// load changed its size a lot: without them its planner takes a table
    /// it saw empty for small and reads it whole where an index serves (the
    /// visitors' rows a page view's signals are found in). Autovacuum does
    /// the same, but only after a minute or more. SQLite needs none.
    pub async fn refresh_statistics(&self) -> Result<()> {
        if self.backend == Backend::Postgres {
            sqlx::query("ANALYZE events").execute(&self.pool).await?;
        }
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn internal(e: impl std::fmt::Display) -> Error {
    Error::Internal(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::Row;

    /// A database made by the first release, with a site, its token, a
    /// user's membership, a session and an event, upgraded by every later
    /// migration: nothing that refers to the site is lost when SQLite
    /// rebuilds its table, and two sites may then share a name.
    #[tokio::test]
    async fn upgrading_a_first_release_database_keeps_everything() {
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("old.db").display());
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .unwrap();
        let first = sqlx::migrate::Migrator {
            migrations: std::borrow::Cow::Owned(vec![SQLITE_MIGRATIONS.migrations[0].clone()]),
            ..sqlx::migrate::Migrator::DEFAULT
        };
        first.run(&pool).await.unwrap();
        for sql in [
            "INSERT INTO sites (id, key, name, origins, config, retention_days, created_at, updated_at) \
             VALUES (1, 'tp_old', 'Shop', '[]', '{\"stages\":[],\"touchpoints\":[]}', 365, 't', 't')",
            "INSERT INTO tokens (site_id, role, hash, created_at) VALUES (1, 'viewer', 'h', 't')",
            "INSERT INTO users (id, email, password_hash, created_at) VALUES (1, 'a@b.c', 'x', 't')",
            "INSERT INTO memberships (user_id, site_id, role) VALUES (1, 1, 'admin')",
            "INSERT INTO sessions (hash, user_id, csrf, created_at, expires_at) VALUES ('s', 1, 'c', 't', 'u')",
            "INSERT INTO events (site_id, id, kind, page, stage, ts, received_at) \
             VALUES (1, 'e1', 'impression', '/', 'unassigned', 't', 't')",
        ] {
            sqlx::query(sql).execute(&pool).await.unwrap();
        }
        pool.close().await;

        let store = Store::open(&url).await.unwrap();
        for (table, n) in [
            ("sites", 1),
            ("tokens", 1),
            ("memberships", 1),
            ("sessions", 1),
            ("events", 1),
        ] {
            let count: i64 = sqlx::query(&format!("SELECT COUNT(*) FROM {table}"))
                .fetch_one(&store.pool)
                .await
                .unwrap()
                .get(0);
            assert_eq!(count, n, "{table}");
        }
        sqlx::query(
            "INSERT INTO sites (key, name, origins, config, retention_days, created_at, updated_at) \
             VALUES ('tp_other', 'Shop', '[]', '{\"stages\":[],\"touchpoints\":[]}', 365, 't', 't')",
        )
        .execute(&store.pool)
        .await
        .unwrap();
        // References still hold: deleting the old site takes its rows with it.
        sqlx::query("DELETE FROM sites WHERE key = 'tp_old'")
            .execute(&store.pool)
            .await
            .unwrap();
        let left: i64 = sqlx::query("SELECT COUNT(*) FROM events")
            .fetch_one(&store.pool)
            .await
            .unwrap()
            .get(0);
        assert_eq!(left, 0);
    }
}
