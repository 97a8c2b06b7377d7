//! One way to run the write path's statements on either connection it
//! runs on: a sqlx connection (PostgreSQL, and SQLite when no file is
//! there to open twice), or the SQLite writer's own rusqlite connection
//! ([`super::writer`]), where each statement is a call on the thread that
//! runs the whole transaction: no hand-off to a driver thread per
//! statement, and prepared statements kept.
//!
//! Statements are written once with `$n` (or, on SQLite, anonymous `?`)
//! placeholders and bound with [`Arg`]s; rows are read with [`Cols`].

use crate::error::{Error, Result};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row as _};
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// A bound value. NULLs keep their type: PostgreSQL wants to know it.
#[derive(Clone, Copy, Debug)]
pub(in crate::store) enum Arg<'a> {
    Int(Option<i64>),
    Text(Option<&'a str>),
}

impl From<i64> for Arg<'_> {
    fn from(v: i64) -> Self {
        Arg::Int(Some(v))
    }
}

impl From<Option<i64>> for Arg<'_> {
    fn from(v: Option<i64>) -> Self {
        Arg::Int(v)
    }
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(v: &'a str) -> Self {
        Arg::Text(Some(v))
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(v: &'a String) -> Self {
        Arg::Text(Some(v))
    }
}

impl<'a> From<Option<&'a str>> for Arg<'a> {
    fn from(v: Option<&'a str>) -> Self {
        Arg::Text(v)
    }
}

impl<'a> From<&'a Option<String>> for Arg<'a> {
    fn from(v: &'a Option<String>) -> Self {
        Arg::Text(v.as_deref())
    }
}

/// The connection a write runs on.
pub(in crate::store) enum Exec<'c> {
    Any(&'c mut AnyConnection),
    /// Inside a transaction the caller opened and will commit. (`&mut`:
    /// a connection is `Send` but not `Sync`, and the write path's futures
    /// must be `Send` for the sqlx side.)
    Lite(&'c mut rusqlite::Connection),
}

/// A row read by [`Exec`].
pub(in crate::store) enum Row {
    Any(AnyRow),
    Lite(Vec<rusqlite::types::Value>),
}

impl Exec<'_> {
    /// Runs a statement; returns the rows it changed.
    pub async fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<u64> {
        match self {
            Exec::Any(conn) => Ok(any_query(sql, args)
                .execute(&mut **conn)
                .await?
                .rows_affected()),
            Exec::Lite(conn) => {
                let mut stmt = conn.prepare_cached(sql).map_err(lite)?;
                bind(&mut stmt, args)?;
                Ok(stmt.raw_execute().map_err(lite)? as u64)
            }
        }
    }

    /// Runs a statement and reads every row it returns.
    pub async fn fetch_all(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Vec<Row>> {
        match self {
            Exec::Any(conn) => Ok(any_query(sql, args)
                .fetch_all(&mut **conn)
                .await?
                .into_iter()
                .map(Row::Any)
                .collect()),
            Exec::Lite(conn) => {
                let mut stmt = conn.prepare_cached(sql).map_err(lite)?;
                bind(&mut stmt, args)?;
                let columns = stmt.column_count();
                let mut rows = stmt.raw_query();
                let mut out = Vec::new();
                while let Some(row) = rows.next().map_err(lite)? {
                    let mut values = Vec::with_capacity(columns);
                    for i in 0..columns {
                        values.push(row.get::<_, rusqlite::types::Value>(i).map_err(lite)?);
                    }
                    out.push(Row::Lite(values));
                }
                Ok(out)
            }
        }
    }

    /// Whether a statement is a plain call in this process (the SQLite
    /// writer's own connection) rather than a round trip to another
    /// thread or server.
    pub fn runs_in_process(&self) -> bool {
        matches!(self, Exec::Lite(_))
    }

    /// Runs a statement once for each `columns` values of `args`; the
    /// rows each run changed. Meant for a connection that
    /// [`runs_in_process`](Exec::runs_in_process): elsewhere each run is a
    /// round trip.
    pub async fn execute_each(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
        columns: usize,
    ) -> Result<Vec<u64>> {
        match self {
            Exec::Any(_) => {
                let mut changed = Vec::with_capacity(args.len() / columns);
                for row in args.chunks(columns) {
                    changed.push(self.execute(sql, row).await?);
                }
                Ok(changed)
            }
            Exec::Lite(conn) => {
                let mut stmt = conn.prepare_cached(sql).map_err(lite)?;
                let mut changed = Vec::with_capacity(args.len() / columns);
                for row in args.chunks(columns) {
                    bind(&mut stmt, row)?;
                    changed.push(stmt.raw_execute().map_err(lite)? as u64);
                }
                Ok(changed)
            }
        }
    }

    /// Runs a statement and reads its first row, if any.
    pub async fn fetch_optional(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Option<Row>> {
        Ok(self.fetch_all(sql, args).await?.into_iter().next())
    }
}

fn any_query<'q>(
    sql: &'q str,
    args: &[Arg<'q>],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    let mut query = sqlx::query(sql);
    for arg in args {
        query = match *arg {
            Arg::Int(v) => query.bind(v),
            Arg::Text(v) => query.bind(v),
        };
    }
    query
}

/// Binds `args` to a statement's parameters: `$n` takes the n-th, an
/// anonymous `?` the one at its position.
fn bind(stmt: &mut rusqlite::CachedStatement<'_>, args: &[Arg<'_>]) -> Result<()> {
    stmt.clear_bindings();
    for position in 1..=stmt.parameter_count() {
        let index = match stmt.parameter_name(position) {
            Some(name) => name
                .strip_prefix('$')
                .and_then(|n| n.parse::<usize>().ok())
                .ok_or_else(|| Error::Internal(format!("unexpected parameter {name}")))?,
            None => position,
        };
        let arg = args.get(index - 1).ok_or_else(|| {
            Error::Internal(format!("parameter {index} of {} not bound", args.len()))
        })?;
        match *arg {
            Arg::Int(v) => stmt.raw_bind_parameter(position, v),
            Arg::Text(v) => stmt.raw_bind_parameter(position, v),
        }
        .map_err(lite)?;
    }
    Ok(())
}

pub(in crate::store) fn lite(e: rusqlite::Error) -> Error {
    Error::Internal(format!("SQLite: {e}"))
}

/// A value read from a column.
pub(in crate::store) trait FromCol: Sized {
    fn any(row: &AnyRow, i: usize) -> Self;
    fn lite(value: &rusqlite::types::Value) -> Self;
}

impl FromCol for Option<i64> {
    fn any(row: &AnyRow, i: usize) -> Self {
        row.get(i)
    }
    fn lite(value: &rusqlite::types::Value) -> Self {
        match value {
            rusqlite::types::Value::Integer(v) => Some(*v),
            rusqlite::types::Value::Null => None,
            other => panic!("expected an integer, found {other:?}"),
        }
    }
}

impl FromCol for i64 {
    fn any(row: &AnyRow, i: usize) -> Self {
        row.get(i)
    }
    fn lite(value: &rusqlite::types::Value) -> Self {
        Option::<i64>::lite(value).expect("an integer, not NULL")
    }
}

impl FromCol for Option<String> {
    fn any(row: &AnyRow, i: usize) -> Self {
        row.get(i)
    }
    fn lite(value: &rusqlite::types::Value) -> Self {
        match value {
            rusqlite::types::Value::Text(v) => Some(v.clone()),
            rusqlite::types::Value::Null => None,
            other => panic!("expected text, found {other:?}"),
        }
    }
}

impl FromCol for String {
    fn any(row: &AnyRow, i: usize) -> Self {
        row.get(i)
    }
    fn lite(value: &rusqlite::types::Value) -> Self {
        Option::<String>::lite(value).expect("text, not NULL")
    }
}

/// Columns read by position, whichever connection gave the row.
pub(in crate::store) trait Cols {
    fn col<T: FromCol>(&self, i: usize) -> T;
}

impl Cols for AnyRow {
    fn col<T: FromCol>(&self, i: usize) -> T {
        T::any(self, i)
    }
}

impl Cols for Row {
    fn col<T: FromCol>(&self, i: usize) -> T {
        match self {
            Row::Any(row) => T::any(row, i),
            Row::Lite(values) => T::lite(&values[i]),
        }
    }
}

/// Runs a future that never waits to its end on this thread: the write
/// path over [`Exec::Lite`], whose every step is a plain call.
pub(crate) fn run_now<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        // Not reached by the write path; a yield keeps it correct anyway.
        std::thread::yield_now();
    }
}
