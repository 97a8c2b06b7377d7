//! Growing out of one file: everything a SQLite database holds, copied
//! into PostgreSQL (`touchpoint migrate --to postgres://…`).
//!
//! - The target is migrated first (same schema), and must be empty or a
//!   target this copy already started: a database holding sites of its own
//!   is refused, so two sites never share an id.
//! - Tables go in dependency order ([`TABLES`]), each in SQLite `rowid`
//!   order, in batches of [`BATCH`] rows sent with `COPY … FROM STDIN`. Each
//!   batch commits together with how far its table has come (the
//!   `touchpoint_migrate` table in the target), so an interrupted copy
//!   resumes where it stopped and a finished one, run again, copies nothing.
//! - Then the identity sequences are moved past the copied ids, the
//!   rollups are rebuilt from the copied events, and every table's rows are
//!   counted on both sides: the copy succeeds only when they agree.
//!
//! Rollups are not copied (they are rebuilt); the outbox and the delivery
//! log are, so a pending alert is still sent. Stop writing to the SQLite
//! database before the last run: rows changed after they were copied are
//! not copied again.

use super::{Location, Store};
use crate::error::{Error, Result};
use rusqlite::types::ValueRef;
use sqlx::Connection;
use sqlx::Row;
use sqlx::postgres::PgConnection;
use std::fmt::Write as _;

/// What is copied, parents before children, with the identity column
/// whose sequence must move past the copied ids.
pub const TABLES: [(&str, Option<&str>); 9] = [
    ("sites", Some("id")),
    ("site_drafts", None),
    ("users", Some("id")),
    ("tokens", Some("id")),
    ("memberships", None),
    ("sessions", None),
    ("events", None),
    ("alert_deliveries", None),
    ("alert_items", Some("id")),
];

/// Rows per batch (one `COPY` and one commit).
pub const BATCH: usize = 10_000;

/// How a copy is going, for a progress display.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step<'a> {
    /// `rows` of `table`'s `total` are in the target.
    Copying {
        table: &'a str,
        rows: u64,
        total: u64,
    },
    /// The rollups of the `done`th of `sites` sites are rebuilt.
    Rollups { done: u64, sites: u64 },
}

/// One table's rows on both sides once the copy is done.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Copied {
    pub table: String,
    pub source: u64,
    pub target: u64,
    /// Rows copied by this run (the rest were copied before).
    pub copied_now: u64,
}

impl Store {
    /// Copies this SQLite database into the PostgreSQL database at `url`;
    /// see the module documentation.
    pub async fn migrate_to_postgres(
        &self,
        url: &str,
        mut progress: impl FnMut(Step<'_>),
    ) -> Result<Vec<Copied>> {
        let Location::SqliteFile(path) = &self.location else {
            return Err(refuse(
                "migrate copies a SQLite database file (--database sqlite://FILE)",
            ));
        };
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(refuse(
                "--to takes a PostgreSQL URL (postgres://user@host/db)",
            ));
        }
        let target = Store::open(url).await?;
        let mut pg = PgConnection::connect(url).await?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS touchpoint_migrate (\
             tbl TEXT PRIMARY KEY, last_rowid BIGINT NOT NULL)",
        )
        .execute(&mut pg)
        .await?;
        let started: i64 = sqlx::query("SELECT COUNT(*) FROM touchpoint_migrate")
            .fetch_one(&mut pg)
            .await?
            .get(0);
        let sites: i64 = sqlx::query("SELECT COUNT(*) FROM sites")
            .fetch_one(&mut pg)
            .await?
            .get(0);
        if started == 0 && sites > 0 {
            return Err(refuse(
                "the PostgreSQL database already holds sites: migrate into an empty database",
            ));
        }
        let source = open_source(path)?;
        let mut copied = Vec::new();
        for (table, identity) in TABLES {
            let columns = source_columns(&source, table)?;
            let now = copy_table(&source, &mut pg, table, &columns, &mut progress).await?;
            if let Some(id) = identity {
                sqlx::query(&format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', '{id}'), \
                     COALESCE((SELECT MAX({id}) FROM {table}), 0) + 1, false)"
                ))
                .execute(&mut pg)
                .await?;
            }
            copied.push((table, now));
        }
        target.refresh_statistics().await?;
        let sites = target.rollup_sites().await?;
        for (i, (site_id, _)) in sites.iter().enumerate() {
            target.rebuild_rollups(*site_id).await?;
            progress(Step::Rollups {
                done: i as u64 + 1,
                sites: sites.len() as u64,
            });
        }
        target.close().await;
        let mut report = Vec::new();
        for (table, now) in copied {
            let source_rows = count_source(&source, table)?;
            let target_rows: i64 = sqlx::query(&format!("SELECT COUNT(*) FROM {table}"))
                .fetch_one(&mut pg)
                .await?
                .get(0);
            let target_rows = target_rows as u64;
            if source_rows != target_rows {
                return Err(Error::Internal(format!(
                    "{table}: {source_rows} rows in SQLite but {target_rows} in PostgreSQL"
                )));
            }
            report.push(Copied {
                table: table.to_owned(),
                source: source_rows,
                target: target_rows,
                copied_now: now,
            });
        }
        Ok(report)
    }
}

fn open_source(path: &std::path::Path) -> Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(lite)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(lite)?;
    Ok(conn)
}

fn source_columns(conn: &rusqlite::Connection, table: &str) -> Result<Vec<String>> {
    let mut statement = conn
        .prepare(&format!(
            "SELECT name FROM pragma_table_info('{table}') ORDER BY cid"
        ))
        .map_err(lite)?;
    let columns = statement
        .query_map([], |r| r.get::<_, String>(0))
        .map_err(lite)?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(lite)?;
    if columns.is_empty() {
        return Err(Error::Internal(format!(
            "the SQLite database has no table {table}"
        )));
    }
    Ok(columns)
}

fn count_source(conn: &rusqlite::Connection, table: &str) -> Result<u64> {
    conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| {
        r.get::<_, i64>(0)
    })
    .map(|n| n as u64)
    .map_err(lite)
}

/// Copies what is left of `table`; returns how many rows this run copied.
async fn copy_table(
    source: &rusqlite::Connection,
    pg: &mut PgConnection,
    table: &str,
    columns: &[String],
    progress: &mut impl FnMut(Step<'_>),
) -> Result<u64> {
    let total = count_source(source, table)?;
    let mut last: i64 = sqlx::query("SELECT last_rowid FROM touchpoint_migrate WHERE tbl = $1")
        .bind(table)
        .fetch_optional(&mut *pg)
        .await?
        .map_or(0, |r| r.get(0));
    let done_before: u64 = source
        .query_row(
            &format!("SELECT COUNT(*) FROM {table} WHERE rowid <= ?1"),
            [last],
            |r| r.get::<_, i64>(0),
        )
        .map_err(lite)? as u64;
    let mut rows_done = done_before;
    progress(Step::Copying {
        table,
        rows: rows_done,
        total,
    });
    let select = format!(
        "SELECT rowid, {} FROM {table} WHERE rowid > ?1 ORDER BY rowid LIMIT {BATCH}",
        columns.join(", ")
    );
    let copy = format!("COPY {table} ({}) FROM STDIN", columns.join(", "));
    let mut now = 0;
    loop {
        let (text, n, next) = read_batch(source, &select, last, columns.len())?;
        if n == 0 {
            break;
        }
        let mut tx = pg.begin().await?;
        let mut copy_in = tx.copy_in_raw(&copy).await?;
        copy_in.send(text.into_bytes()).await?;
        copy_in.finish().await?;
        sqlx::query(
            "INSERT INTO touchpoint_migrate (tbl, last_rowid) VALUES ($1, $2) \
             ON CONFLICT (tbl) DO UPDATE SET last_rowid = excluded.last_rowid",
        )
        .bind(table)
        .bind(next)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        last = next;
        now += n;
        rows_done += n;
        progress(Step::Copying {
            table,
            rows: rows_done,
            total,
        });
        if (n as usize) < BATCH {
            break;
        }
    }
    Ok(now)
}

/// Up to [`BATCH`] rows after `after`, in `COPY`'s text format; with how
/// many and the last rowid.
fn read_batch(
    source: &rusqlite::Connection,
    select: &str,
    after: i64,
    columns: usize,
) -> Result<(String, u64, i64)> {
    let mut statement = source.prepare_cached(select).map_err(lite)?;
    let mut rows = statement.query([after]).map_err(lite)?;
    let (mut text, mut n, mut last) = (String::new(), 0, after);
    while let Some(row) = rows.next().map_err(lite)? {
        last = row.get(0).map_err(lite)?;
        for c in 0..columns {
            if c > 0 {
                text.push('\t');
            }
            match row.get_ref(c + 1).map_err(lite)? {
                ValueRef::Null => text.push_str("\\N"),
                ValueRef::Integer(v) => {
                    let _ = write!(text, "{v}");
                }
                ValueRef::Real(v) => {
                    let _ = write!(text, "{v}");
                }
                ValueRef::Text(t) => copy_text(
                    &mut text,
                    std::str::from_utf8(t)
                        .map_err(|e| Error::Internal(format!("stored text: {e}")))?,
                ),
                ValueRef::Blob(_) => {
                    return Err(Error::Internal("a binary value where text belongs".into()));
                }
            }
        }
        text.push('\n');
        n += 1;
    }
    Ok((text, n, last))
}

/// `s` in `COPY`'s text format: backslash, tab, newline and carriage
/// return escaped.
fn copy_text(out: &mut String, s: &str) {
    if !s.contains(['\\', '\t', '\n', '\r']) {
        out.push_str(s);
        return;
    }
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

fn refuse(message: &str) -> Error {
    Error::BadRequest {
        code: "migrate",
        message: message.to_owned(),
        index: None,
    }
}

fn lite(e: rusqlite::Error) -> Error {
    Error::Internal(format!("reading the SQLite database: {e}"))
}

#[cfg(test)]
mod tests {
    use super::copy_text;

    #[test]
    fn copy_text_escapes_what_the_format_reads_specially() {
        let mut out = String::new();
        copy_text(&mut out, "a\\b\tc\nd\re");
        assert_eq!(out, "a\\\\b\\tc\\nd\\re");
    }
}
