//! The group commit's own SQLite connection. The ingest's writes go
//! through it on one thread ([`crate::commit`]): a group's whole
//! transaction runs there as plain calls with prepared statements kept,
//! where the sqlx pool would hand every statement to its driver thread and
//! back. The statements are the same ([`super::events::write_batches`]);
//! other writers (imports, purges, a site's changes) keep using the pool,
//! and SQLite lets one write at a time either way.

use super::exec::{Exec, lite, run_now};
use super::{Backend, Location, Store, StoredEvent};
use crate::error::{Error, Result};
use rusqlite::{Connection, OpenFlags};
use std::time::Duration;

/// Statements kept prepared: the multi-row inserts and upserts come in a
/// few dozen shapes.
const PREPARED: usize = 256;

/// A SQLite connection for the group commit ([`Store::writer`]).
pub struct Writer {
    conn: Connection,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Writer")
    }
}

impl Store {
    /// A connection of its own for the group commit (or an import) on a
    /// SQLite file, with the pool's durability (`synchronous = FULL` in WAL
    /// mode) and page cache; `None` on PostgreSQL, or for a database in
    /// memory, which only the pool sees.
    pub fn writer(&self) -> Result<Option<Writer>> {
        let Location::SqliteFile(path) = &self.location else {
            return Ok(None);
        };
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(lite)?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(lite)?;
        // temp_store in memory: a multi-row statement keeps the pages it
        // changes in a statement journal (to undo the statement alone),
        // which past 64 KiB SQLite moves to a temporary file, opened and
        // deleted again for every such statement. A group is bounded
        // ([`crate::commit`]), so its journals are too.
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
             PRAGMA temp_store = MEMORY;",
        )
        .map_err(lite)?;
        if let Some(kib) = self.tuning.sqlite_cache_kib {
            conn.execute_batch(&format!("PRAGMA cache_size = -{kib}"))
                .map_err(lite)?;
        }
        conn.set_prepared_statement_cache_capacity(PREPARED);
        Ok(Some(Writer { conn }))
    }
}

impl Writer {
    /// [`Store::insert_batches`] on this connection: one transaction,
    /// durable when this returns.
    pub fn insert_batches(&mut self, batches: &[(i64, &[StoredEvent])]) -> Result<Vec<(u64, u64)>> {
        // IMMEDIATE: the write lock is taken (or waited for) at once.
        self.conn.execute_batch("BEGIN IMMEDIATE").map_err(lite)?;
        let written = run_now(super::events::write_batches(
            &mut Exec::Lite(&mut self.conn),
            Backend::Sqlite,
            batches,
        ));
        let committed = written.and_then(|counts| {
            self.conn.execute_batch("COMMIT").map_err(lite)?;
            Ok(counts)
        });
        if committed.is_err() && !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        committed
    }
}

/// The group commit's own PostgreSQL connection, used on a thread of its
/// own ([`crate::commit`]): the writer's turn between one statement's
/// answer and the next statement then does not wait behind the HTTP
/// tasks queued on the server's runtime. Connected on first use, and
/// again after an error.
pub struct PgWriter {
    url: String,
    conn: Option<sqlx::AnyConnection>,
    /// How long connecting may take ([`CONNECT`]).
    connect_limit: Duration,
    /// After a failed connection, until when groups are refused at once
    /// rather than each waiting for another attempt.
    down_until: Option<std::time::Instant>,
}

impl std::fmt::Debug for PgWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PgWriter")
    }
}

impl Store {
    /// A [`PgWriter`] on PostgreSQL; `None` on SQLite.
    pub fn pg_writer(&self) -> Option<PgWriter> {
        match &self.location {
            Location::Postgres(url) => Some(PgWriter::with_connect_limit(url, CONNECT)),
            _ => None,
        }
    }
}

/// How long the PostgreSQL writer waits for a connection (as the pool's
/// connections are waited for): past it, the group's requests get an
/// error instead of hanging on a server that accepts and never answers.
const CONNECT: Duration = Duration::from_secs(30);

/// After a connection could not be made, how long groups are answered
/// "unavailable" at once before the next attempt: while PostgreSQL is
/// down, requests are not each held for a connection attempt of their own.
const DOWN: Duration = Duration::from_secs(2);

/// A connection to `url`, or [`Error::Unavailable`] when none can be made
/// or `limit` has passed.
async fn connect_within(url: &str, limit: Duration) -> Result<sqlx::AnyConnection> {
    use sqlx::Connection as _;
    match tokio::time::timeout(limit, sqlx::AnyConnection::connect(url)).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "no connection to PostgreSQL");
            Err(Error::Unavailable(format!(
                "no connection to PostgreSQL: {e}"
            )))
        }
        Err(_) => Err(Error::Unavailable(format!(
            "no connection to PostgreSQL within {} s",
            limit.as_secs_f64()
        ))),
    }
}

impl PgWriter {
    /// A writer whose connecting gives up after `connect_limit`.
    pub fn with_connect_limit(url: &str, connect_limit: Duration) -> PgWriter {
        PgWriter {
            url: url.to_owned(),
            conn: None,
            connect_limit,
            down_until: None,
        }
    }

    /// [`Store::insert_batches`] on this connection: one transaction,
    /// durable when this returns. Call it inside a tokio runtime. Without
    /// a connection (PostgreSQL down or silent), the error is
    /// [`Error::Unavailable`]: nothing in the batches is at fault.
    pub async fn insert_batches(
        &mut self,
        batches: &[(i64, &[StoredEvent])],
    ) -> Result<Vec<(u64, u64)>> {
        let conn = match &mut self.conn {
            Some(conn) => conn,
            None => {
                if let Some(until) = self.down_until
                    && std::time::Instant::now() < until
                {
                    return Err(Error::Unavailable(
                        "PostgreSQL could not be reached a moment ago".into(),
                    ));
                }
                match connect_within(&self.url, self.connect_limit).await {
                    Ok(conn) => {
                        self.down_until = None;
                        self.conn.insert(conn)
                    }
                    Err(e) => {
                        self.down_until = Some(std::time::Instant::now() + DOWN);
                        return Err(e);
                    }
                }
            }
        };
        let written = async {
            use sqlx::Connection as _;
            let mut tx = conn.begin().await?;
            let counts =
                super::events::write_batches(&mut Exec::Any(&mut tx), Backend::Postgres, batches)
                    .await?;
            tx.commit().await?;
            Ok(counts)
        }
        .await;
        if written.is_err() {
            // Whatever state it is in, the next group starts on a new
            // connection.
            self.conn = None;
        }
        written
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server that accepts and never answers does not hold the writer.
    #[tokio::test]
    async fn connecting_to_a_silent_server_gives_up() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let silent = tokio::spawn(async move {
            let mut held = Vec::new();
            loop {
                let (socket, _) = listener.accept().await.unwrap();
                held.push(socket);
            }
        });
        sqlx::any::install_default_drivers();
        let url = format!("postgres://touchpoint@127.0.0.1:{port}/touchpoint");
        let err = tokio::time::timeout(
            Duration::from_secs(10),
            connect_within(&url, Duration::from_millis(300)),
        )
        .await
        .expect("the limit ends the wait")
        .unwrap_err();
        assert!(err.to_string().contains("within 0.3 s"), "{err}");
        silent.abort();
    }
}
