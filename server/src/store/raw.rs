//! Raw responses read fast, for exports: the one read whose size follows
//! the number of events (millions of rows), so it goes around sqlx's `Any`
//! driver, which decodes every value into an owned one and, on SQLite,
//! passes every row through the driver's worker thread.
//!
//! - SQLite: read-only connections of their own on the database file
//!   (WAL: they never wait on a writer), in `(ts, rowid)` pages of
//!   [`PAGE_ROWS`], each page its own short read, so no read transaction
//!   stays open for the length of an export. Two readers read pages at
//!   once, each with up to 128 MiB of the file mapped into memory (shared
//!   with the system's page cache, so counted in the process's RSS but not
//!   owned by it); see the `sqlite` module.
//! - PostgreSQL: one `COPY (SELECT …) TO STDOUT` on a connection of its
//!   own; the server streams the rows in its text format and they are
//!   decoded here. `COPY` takes no parameters, so the filter's values are
//!   written as string literals ([`literal`]), with
//!   `standard_conforming_strings` set on the connection first.
//!
//! Either way a producer (a blocking thread, a task) fills [`Page`]s and
//! hands them over a channel two pages deep: reading and writing overlap,
//! memory stays flat in the row count, and when the reader goes away (a
//! client disconnects) the producer stops at its next page. The reader
//! hands written pages back ([`RawResponses::recycle`]) and the producer
//! fills them again: a page's buffers are allocated once per export, not
//! once per page (fresh memory is zeroed by the kernel page by page).

use super::queries::Filter;
use super::{Location, Store};
use crate::error::{Error, Result};
use tokio::sync::mpsc;

/// Columns of a raw response, in order.
pub const COLUMNS: [&str; 12] = [
    "id",
    "ts",
    "page",
    "stage",
    "touchpoint",
    "metric",
    "score",
    "comment",
    "choices",
    "locale",
    "device",
    "flags",
];

/// Where `score` is among [`COLUMNS`].
pub const SCORE: usize = 6;
/// Where `flags` is among [`COLUMNS`].
pub const FLAGS: usize = 11;

/// Rows per page.
pub const PAGE_ROWS: usize = 20_000;

/// Rows of raw responses, column by column in one text buffer: few
/// allocations however many cells.
#[derive(Debug, Default)]
pub struct Page {
    text: String,
    /// `(start, end)` in `text` per cell, row after row; `None` is NULL.
    cells: Vec<Option<(u32, u32)>>,
}

impl Page {
    pub fn rows(&self) -> usize {
        self.cells.len() / COLUMNS.len()
    }

    /// The cell at `row`, `column` (an index into [`COLUMNS`]).
    pub fn cell(&self, row: usize, column: usize) -> Option<&str> {
        self.cells[row * COLUMNS.len() + column].map(|(a, b)| &self.text[a as usize..b as usize])
    }

    /// Empties the page, keeping its buffers.
    fn clear(&mut self) {
        self.text.clear();
        self.cells.clear();
    }

    fn push(&mut self, value: Option<&str>) {
        self.cells.push(value.map(|v| {
            let start = self.text.len() as u32;
            self.text.push_str(v);
            (start, self.text.len() as u32)
        }));
    }

    fn push_null(&mut self) {
        self.cells.push(None);
    }

    /// Starts a cell that is appended to [`Page::text`] piece by piece.
    fn open(&mut self) -> u32 {
        self.text.len() as u32
    }

    fn close(&mut self, start: u32) {
        self.cells.push(Some((start, self.text.len() as u32)));
    }
}

/// A site's raw responses matching a filter, a page at a time in `(ts,
/// id)` order.
pub struct RawResponses {
    pages: mpsc::Receiver<Result<Page>>,
    spare: Spare,
}

impl RawResponses {
    /// The next page, or `None` after the last.
    pub async fn next(&mut self) -> Result<Option<Page>> {
        self.pages.recv().await.transpose()
    }

    /// Gives a page that has been written back to the producer to fill again.
    pub fn recycle(&self, page: Page) {
        recycle(&self.spare, page);
    }
}

/// Pages written and handed back, for the producer to fill again.
type Spare = std::sync::Arc<std::sync::Mutex<Vec<Page>>>;

/// Most pages kept for reuse: as many as can be in flight at once (on
/// SQLite, two per reader, one being handed on, two in the channel and
/// one being written).
const SPARE_PAGES: usize = 8;

/// Keeps a page for [`fresh`] to hand out again.
fn recycle(spare: &Spare, page: Page) {
    if let Ok(mut spare) = spare.lock()
        && spare.len() < SPARE_PAGES
    {
        spare.push(page);
    }
}

/// An empty page: a recycled one if there is one.
fn fresh(spare: &Spare) -> Page {
    let mut page = spare
        .lock()
        .ok()
        .and_then(|mut s| s.pop())
        .unwrap_or_default();
    page.clear();
    page
}

impl Store {
    /// Starts reading a site's raw responses that match `filter`.
    pub fn raw_responses(&self, site_id: i64, filter: &Filter) -> Result<RawResponses> {
        let (tx, pages) = mpsc::channel(2);
        let filter = filter.clone();
        let spare = Spare::default();
        let theirs = spare.clone();
        match &self.location {
            Location::SqliteFile(path) => {
                let path = path.clone();
                tokio::task::spawn_blocking(move || {
                    sqlite::produce(&path, site_id, &filter, &tx, &theirs)
                });
            }
            Location::Postgres(url) => {
                let url = url.clone();
                tokio::spawn(async move {
                    postgres::produce(&url, site_id, &filter, &tx, &theirs).await
                });
            }
            Location::SqliteMemory => {
                return Err(Error::Internal(
                    "raw exports read a database file, not an in-memory database".into(),
                ));
            }
        }
        Ok(RawResponses { pages, spare })
    }
}

/// `WHERE …` of a raw read, without the position: the site, responses
/// only, and the filter's conditions, each a placeholder made by `hole`
/// from its value.
fn conditions<'f>(filter: &'f Filter, mut hole: impl FnMut(&'f str) -> String) -> String {
    let mut sql = String::from("site_id = SITE AND kind = 'response'");
    for (value, before, after) in filter.conditions() {
        if let Some(v) = value {
            sql.push_str(&format!(" AND {before} {}{after}", hole(v)));
        }
    }
    sql
}

mod sqlite {
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
                    std::str::from_utf8(t)
                        .map_err(|e| Error::Internal(format!("stored text: {e}")))?,
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
}

mod postgres {
    use super::*;
    use futures_util::TryStreamExt;
    use sqlx::Connection;
    use sqlx::postgres::PgConnection;

    pub(super) async fn produce(
        url: &str,
        site_id: i64,
        filter: &Filter,
        tx: &mpsc::Sender<Result<Page>>,
        spare: &Spare,
    ) {
        if let Err(e) = pages(url, site_id, filter, tx, spare).await {
            let _ = tx.send(Err(e)).await;
        }
    }

    async fn pages(
        url: &str,
        site_id: i64,
        filter: &Filter,
        tx: &mpsc::Sender<Result<Page>>,
        spare: &Spare,
    ) -> Result<()> {
        let mut conn = PgConnection::connect(url).await?;
        sqlx::query("SET standard_conforming_strings = on")
            .execute(&mut conn)
            .await?;
        // Compiling the plan (a scan of millions of rows passes the JIT's
        // cost thresholds) takes longer than it saves on a read that is
        // mostly output.
        sqlx::query("SET jit = off").execute(&mut conn).await?;
        let wheres = conditions(filter, literal).replace("SITE", &site_id.to_string());
        let copy = format!(
            "COPY (SELECT {} FROM events WHERE {wheres} ORDER BY ts, id) TO STDOUT",
            COLUMNS.join(", ")
        );
        let mut stream = conn.copy_out_raw(&copy).await?;
        let mut decoder = Decoder::default();
        while let Some(chunk) = stream.try_next().await? {
            for page in decoder.feed(&chunk, || fresh(spare))? {
                if tx.send(Ok(page)).await.is_err() {
                    return Ok(()); // nobody reads any more; dropping the stream ends the COPY
                }
            }
        }
        let last = decoder.finish()?;
        if last.rows() > 0 {
            let _ = tx.send(Ok(last)).await;
        }
        Ok(())
    }

    /// PostgreSQL's `COPY … TO STDOUT` text format, decoded into pages: a
    /// row per line, tab between columns, `\N` for NULL, backslash escapes.
    #[derive(Default)]
    pub(super) struct Decoder {
        /// An unfinished line carried over to the next chunk.
        partial: Vec<u8>,
        page: Page,
    }

    impl Decoder {
        /// Decodes a chunk; returns the pages it filled, each replaced by
        /// an empty one from `empty`.
        pub fn feed(&mut self, chunk: &[u8], mut empty: impl FnMut() -> Page) -> Result<Vec<Page>> {
            let mut full = Vec::new();
            let mut rest = chunk;
            while let Some(end) = memchr::memchr(b'\n', rest) {
                if self.partial.is_empty() {
                    self.line(&rest[..end])?;
                } else {
                    let mut line = std::mem::take(&mut self.partial);
                    line.extend_from_slice(&rest[..end]);
                    self.line(&line)?;
                }
                rest = &rest[end + 1..];
                if self.page.rows() >= PAGE_ROWS {
                    full.push(std::mem::replace(&mut self.page, empty()));
                }
            }
            self.partial.extend_from_slice(rest);
            Ok(full)
        }

        pub fn finish(mut self) -> Result<Page> {
            if !self.partial.is_empty() {
                let line = std::mem::take(&mut self.partial);
                self.line(&line)?;
            }
            Ok(self.page)
        }

        fn line(&mut self, line: &[u8]) -> Result<()> {
            let line = std::str::from_utf8(line)
                .map_err(|e| Error::Internal(format!("COPY output: {e}")))?;
            let bytes = line.as_bytes();
            let fields = memchr::memchr_iter(b'\t', bytes).count() + 1;
            if fields != COLUMNS.len() {
                return Err(Error::Internal(format!(
                    "COPY output: a row of {fields} columns, not {}",
                    COLUMNS.len()
                )));
            }
            // The line is copied once and its cells point into it; a NULL
            // (`\N`) points nowhere, and a field with an escape is decoded
            // after the line. Most fields have neither: a line without a
            // backslash is not looked at again.
            let page = &mut self.page;
            let escapes = memchr::memchr(b'\\', bytes).is_some();
            let base = page.text.len();
            page.text.push_str(line);
            let mut start = 0;
            for end in memchr::memchr_iter(b'\t', bytes).chain([bytes.len()]) {
                let field = &line[start..end];
                if !escapes || !field.contains('\\') {
                    page.cells
                        .push(Some(((base + start) as u32, (base + end) as u32)));
                } else if field == "\\N" {
                    page.push_null();
                } else {
                    let at = page.open();
                    let mut chars = field.chars();
                    while let Some(c) = chars.next() {
                        if c != '\\' {
                            page.text.push(c);
                            continue;
                        }
                        page.text.push(match chars.next() {
                            Some('n') => '\n',
                            Some('r') => '\r',
                            Some('t') => '\t',
                            Some('b') => '\u{8}',
                            Some('f') => '\u{c}',
                            Some('v') => '\u{b}',
                            Some(other) => other,
                            None => '\\',
                        });
                    }
                    page.close(at);
                }
                start = end + 1;
            }
            Ok(())
        }
    }

    /// A PostgreSQL string literal of `v`, with `standard_conforming_strings`
    /// on: quotes doubled, backslashes literal. NUL (which no text value can
    /// hold) makes the condition match nothing.
    pub(super) fn literal(v: &str) -> String {
        if v.contains('\0') {
            return "NULL".into();
        }
        format!("'{}'", v.replace('\'', "''"))
    }
}

#[cfg(test)]
mod tests {
    use super::postgres::{Decoder, literal};
    use super::*;

    #[test]
    fn copy_text_is_decoded_across_chunks() {
        let mut d = Decoder::default();
        let text = "a\t2026-01-01T00:00:00Z\t/p\tbrowse\tt\tnps\t9\tline\\none\\ttab \\\\ back\t\\N\t\\N\ten\tfrustration\n\
                    b\t2026-01-02T00:00:00Z\t/q\tbrowse\t\\N\t\\N\t\\N\t\\N\t[\"x\"]\t\\N\tmobile\t\\N\n";
        let bytes = text.as_bytes();
        let mut pages = d.feed(&bytes[..17], Page::default).unwrap();
        pages.extend(d.feed(&bytes[17..], Page::default).unwrap());
        assert!(pages.is_empty());
        let page = d.finish().unwrap();
        assert_eq!(page.rows(), 2);
        assert_eq!(page.cell(0, 7), Some("line\none\ttab \\ back"));
        assert_eq!(page.cell(0, SCORE), Some("9"));
        assert_eq!(page.cell(0, 8), None);
        assert_eq!(page.cell(1, 8), Some("[\"x\"]"));
        assert_eq!(page.cell(1, 10), Some("mobile"));
        assert_eq!(page.cell(0, FLAGS), Some("frustration"));
        assert_eq!(page.cell(1, FLAGS), None);
    }

    #[test]
    fn plain_and_escaped_rows_share_a_page_and_recycled_pages_start_empty() {
        let mut d = Decoder::default();
        let plain = "c\t2026-01-03T00:00:00Z\t/r\tbuy\tt\tcsat\t5\tfine, thanks\t[]\tde\tdesktop\tdelight\n";
        let escaped = "d\t2026-01-04T00:00:00Z\t/s\tbuy\tt\tcsat\t\\N\ta\\tb\t\\N\t\\N\t\\N\t\\N\n";
        d.feed(format!("{plain}{escaped}{plain}").as_bytes(), Page::default)
            .unwrap();
        let page = d.finish().unwrap();
        assert_eq!(page.rows(), 3);
        let row = |r: usize| {
            (0..COLUMNS.len())
                .map(|c| page.cell(r, c))
                .collect::<Vec<_>>()
        };
        assert_eq!(row(0), row(2));
        assert_eq!(page.cell(0, 7), Some("fine, thanks"));
        assert_eq!(page.cell(0, FLAGS), Some("delight"));
        assert_eq!(page.cell(1, SCORE), None);
        assert_eq!(page.cell(1, 7), Some("a\tb"));
        assert_eq!(page.cell(1, FLAGS), None);
        let mut used = page;
        used.clear();
        assert_eq!(used.rows(), 0);
        assert!(used.text.is_empty());
    }

    #[test]
    fn a_row_of_the_wrong_width_is_an_error() {
        let mut d = Decoder::default();
        assert!(d.feed(b"a\tb\n", Page::default).is_err());
        assert!(d.feed(b"a\t\\N\tb\\tc\n", Page::default).is_err());
    }

    #[test]
    fn literals_cannot_leave_their_quotes() {
        assert_eq!(literal("it's"), "'it''s'");
        assert_eq!(literal("a\\' OR 1=1 --"), "'a\\'' OR 1=1 --'");
        assert_eq!(literal("x\0y"), "NULL");
    }
}
