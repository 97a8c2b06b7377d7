//! Pages are read by [`READERS`] connections at once, each page a
//! range of the `(ts, rowid)` order: a scout finds where the pages
//! end (every [`PAGE_ROWS`]-th row, along the `(site, kind, ts)`
//! index, whose entries end with the rowid: an export without filters
//! is scouted from the index alone), the readers take the ranges in
//! turn, and the pages are handed on in order. Reading a row is most
//! of an export's work; the readers share it out over the cores.

use super::*;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, ToSql};
use std::fmt::Write as _;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

/// Most of the file each reader maps into memory.
const MMAP_BYTES: u64 = 128 << 20;
/// Readers at work at once.
pub(super) const READERS: usize = 2;

/// A row's place in the order of a raw read: its time, then its rowid.
type Key = (String, i64);

/// The rows after `from` (from the first when `None`) up to and
/// including `to` (to the last when `None`). Rows stored while the
/// export runs only make a range longer or shorter: every row stored
/// before it started is in exactly one range.
struct Range {
    from: Option<Key>,
    to: Option<Key>,
}

/// A raw read's statements: the site, the filter's values and SQL.
struct Reads<'f> {
    site_id: i64,
    values: Vec<&'f str>,
    wheres: String,
}

impl<'f> Reads<'f> {
    fn new(site_id: i64, filter: &'f Filter) -> Reads<'f> {
        let mut values: Vec<&str> = Vec::new();
        let wheres = conditions(filter, |v| {
            values.push(v);
            "?".into()
        })
        .replace("SITE", "?");
        Reads {
            site_id,
            values,
            wheres,
        }
    }

    /// Runs `SELECT {what} FROM events WHERE … {tail}` with the
    /// filter's values, then `extra`, and calls `each` on every row.
    fn run(
        &self,
        conn: &Connection,
        what: &str,
        tail: &str,
        extra: &[&dyn ToSql],
        mut each: impl FnMut(&rusqlite::Row<'_>) -> Result<()>,
    ) -> Result<()> {
        let sql = format!("SELECT {what} FROM events WHERE {} {tail}", self.wheres);
        let mut statement = conn.prepare_cached(&sql).map_err(sql_error)?;
        let mut binds: Vec<&dyn ToSql> = vec![&self.site_id];
        binds.extend(self.values.iter().map(|v| v as &dyn ToSql));
        binds.extend(extra);
        let mut rows = statement.query(binds.as_slice()).map_err(sql_error)?;
        while let Some(row) = rows.next().map_err(sql_error)? {
            each(row)?;
        }
        Ok(())
    }

    /// The key `skip` rows on from the first row matching `tail`.
    fn key_at(
        &self,
        conn: &Connection,
        tail: &str,
        extra: &[&dyn ToSql],
        skip: i64,
    ) -> Result<Option<Key>> {
        let mut key = None;
        let mut binds = extra.to_vec();
        binds.push(&skip);
        self.run(
            conn,
            "ts, rowid",
            &format!("{tail} LIMIT 1 OFFSET ?"),
            &binds,
            |row| {
                key = Some((
                    row.get(0).map_err(sql_error)?,
                    row.get(1).map_err(sql_error)?,
                ));
                Ok(())
            },
        )?;
        Ok(key)
    }

    /// Where the page after `after` ends: the key [`PAGE_ROWS`] rows
    /// on, or `None` when fewer rows are left (the last page).
    fn page_end(&self, conn: &Connection, after: &Option<Key>) -> Result<Option<Key>> {
        let last = PAGE_ROWS as i64 - 1;
        let Some((ts, rowid)) = after else {
            return self.key_at(conn, "ORDER BY ts, rowid", &[], last);
        };
        // The rest of its time's rows first, then later times.
        let same = "AND ts = ? AND rowid > ?";
        if let Some(key) =
            self.key_at(conn, &format!("{same} ORDER BY rowid"), &[ts, rowid], last)?
        {
            return Ok(Some(key));
        }
        let mut rest: i64 = 0;
        self.run(conn, "COUNT(*)", same, &[ts, rowid], |row| {
            rest = row.get(0).map_err(sql_error)?;
            Ok(())
        })?;
        self.key_at(conn, "AND ts > ? ORDER BY ts, rowid", &[ts], last - rest)
    }

    /// Reads the rows of `range` into `page`, in order.
    fn read(&self, conn: &Connection, range: &Range, page: &mut Page) -> Result<()> {
        let what = COLUMNS.join(", ");
        let mut fill = |tail: &str, extra: &[&dyn ToSql]| {
            self.run(conn, &what, tail, extra, |row| push_row(page, row))
        };
        match (&range.from, &range.to) {
            (Some((from, after)), Some((to, upto))) if from == to => fill(
                "AND ts = ? AND rowid > ? AND rowid <= ? ORDER BY rowid",
                &[from, after, upto],
            ),
            (from, to) => {
                if let Some((ts, rowid)) = from {
                    fill("AND ts = ? AND rowid > ? ORDER BY rowid", &[ts, rowid])?;
                }
                let order = "ORDER BY ts, rowid";
                match (from, to) {
                    (None, None) => fill(order, &[]),
                    (Some((a, _)), None) => fill(&format!("AND ts > ? {order}"), &[a]),
                    (None, Some((b, _))) => fill(&format!("AND ts < ? {order}"), &[b]),
                    (Some((a, _)), Some((b, _))) => {
                        fill(&format!("AND ts > ? AND ts < ? {order}"), &[a, b])
                    }
                }?;
                if let Some((ts, rowid)) = to {
                    fill("AND ts = ? AND rowid <= ? ORDER BY rowid", &[ts, rowid])?;
                }
                Ok(())
            }
        }
    }
}

fn push_row(page: &mut Page, row: &rusqlite::Row<'_>) -> Result<()> {
    for (c, column) in COLUMNS.iter().enumerate() {
        match row.get_ref(c).map_err(sql_error)? {
            ValueRef::Null => page.push_null(),
            ValueRef::Integer(v) => {
                let start = page.open();
                let _ = write!(page.text, "{v}");
                page.close(start);
            }
            ValueRef::Text(t) => page.push(Some(
                std::str::from_utf8(t).map_err(|e| Error::Internal(format!("stored text: {e}")))?,
            )),
            ValueRef::Real(_) | ValueRef::Blob(_) => {
                return Err(Error::Internal(format!(
                    "unexpected value in events.{column}"
                )));
            }
        }
    }
    Ok(())
}

fn open(path: &std::path::Path, mmap: u64) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sql_error)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(sql_error)?;
    // Rows are read in time order, their table pages in no order: mapped
    // into memory, a page is read where it lies, not copied by a system
    // call each time the page cache lets it go.
    conn.execute_batch(&format!("PRAGMA mmap_size = {mmap}"))
        .map_err(sql_error)?;
    Ok(conn)
}

pub(super) fn produce(
    path: &std::path::Path,
    site_id: i64,
    filter: &Filter,
    tx: &mpsc::Sender<Result<Page>>,
    spare: &Spare,
) {
    if let Err(e) = pages(path, site_id, filter, tx, spare) {
        let _ = tx.blocking_send(Err(e));
    }
}

/// Runs the scout and the readers, and hands their pages on in order.
/// When the reader of the pages goes away, each of them stops at its
/// next page (its channel is closed), and this returns once they have.
fn pages(
    path: &std::path::Path,
    site_id: i64,
    filter: &Filter,
    tx: &mpsc::Sender<Result<Page>>,
    spare: &Spare,
) -> Result<()> {
    let reads = Reads::new(site_id, filter);
    // The scout reads the index: the readers' mapping is theirs.
    let scout = open(path, 0)?;
    let readers = (0..READERS)
        .map(|_| open(path, MMAP_BYTES))
        .collect::<Result<Vec<_>>>()?;
    std::thread::scope(|s| {
        let reads = &reads;
        let mut work = Vec::new();
        let mut done = Vec::new();
        for conn in readers {
            let (give, take) = sync_channel::<Result<Range>>(1);
            let (put, get) = sync_channel::<Result<Page>>(1);
            s.spawn(move || read_ranges(&conn, reads, take, put, spare));
            work.push(give);
            done.push(get);
        }
        s.spawn(move || scout_ranges(&scout, reads, work));
        for turn in 0.. {
            let Ok(page) = done[turn % READERS].recv() else {
                return Ok(()); // its reader had no more ranges: all are read
            };
            let page = page?;
            if page.rows() == 0 {
                // Its rows were deleted since the scout saw them.
                recycle(spare, page);
            } else if tx.blocking_send(Ok(page)).is_err() {
                return Ok(()); // nobody reads any more
            }
        }
        Ok(())
    })
}

/// Finds the ranges, one page each, and gives them to the readers in
/// turn; a failure goes to the reader whose turn it is.
fn scout_ranges(conn: &Connection, reads: &Reads<'_>, work: Vec<SyncSender<Result<Range>>>) {
    let mut from = None;
    for turn in 0.. {
        let (range, last) = match reads.page_end(conn, &from) {
            Ok(to) => {
                let last = to.is_none();
                let range = Range {
                    from: std::mem::replace(&mut from, to.clone()),
                    to,
                };
                (Ok(range), last)
            }
            Err(e) => (Err(e), true),
        };
        if work[turn % READERS].send(range).is_err() || last {
            return;
        }
    }
}

fn read_ranges(
    conn: &Connection,
    reads: &Reads<'_>,
    work: Receiver<Result<Range>>,
    done: SyncSender<Result<Page>>,
    spare: &Spare,
) {
    for range in work {
        let page = range.and_then(|range| {
            let mut page = fresh(spare);
            reads.read(conn, &range, &mut page)?;
            Ok(page)
        });
        let failed = page.is_err();
        if done.send(page).is_err() || failed {
            return;
        }
    }
}

fn sql_error(e: rusqlite::Error) -> Error {
    Error::Internal(format!("reading raw responses: {e}"))
}
