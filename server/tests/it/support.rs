//! A fresh database per test, on either backend.

use sqlx::{Connection, Executor};
use std::sync::OnceLock;
use touchpoint_e2e::pg::{self, Cluster};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// A database URL and what keeps it alive for the test.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

fn cluster() -> Option<&'static Cluster> {
    static CLUSTER: OnceLock<Option<Cluster>> = OnceLock::new();
    CLUSTER
        .get_or_init(|| match Cluster::start(false) {
            Ok(c) => Some(c),
            Err(e) if !pg::required() => {
                eprintln!("PostgreSQL tests skipped: {e:#}");
                None
            }
            Err(e) => panic!("PostgreSQL is required here: {e:#}"),
        })
        .as_ref()
}

/// A new empty database, or `None` when PostgreSQL is unavailable and not required.
pub async fn database(db: Db) -> Option<TestDb> {
    match db {
        Db::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}", dir.path().join("test.db").display());
            Some(TestDb {
                url,
                _dir: Some(dir),
            })
        }
        Db::Postgres => {
            let cluster = tokio::task::spawn_blocking(cluster).await.unwrap()?;
            sqlx::any::install_default_drivers();
            let name = cluster.fresh_name();
            let mut admin = sqlx::AnyConnection::connect(&cluster.admin_url())
                .await
                .unwrap();
            admin
                .execute(format!("CREATE DATABASE {name}").as_str())
                .await
                .unwrap();
            admin.close().await.unwrap();
            Some(TestDb {
                url: cluster.database_url(&name),
                _dir: None,
            })
        }
    }
}

/// Runs each listed `async fn name(db: Db)` as `sqlite::name` and `postgres::name`.
#[macro_export]
macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::support::Db::Sqlite).await })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::support::Db::Postgres).await })*
        }
    };
}
