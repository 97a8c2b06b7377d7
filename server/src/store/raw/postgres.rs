//! `COPY (SELECT …) TO STDOUT` over ranges of time, two at once on
//! connections of their own, each range in `(ts, id)` order along the
//! `(site, kind, ts, id)` index; the rows are decoded into pages and handed
//! on in order.
//!
//! One `COPY` runs in one PostgreSQL process, and finding the rows (the
//! index scan's heap fetches) and writing them out is most of an export's
//! work: one process is the export's limit, two share it over the cores.
//! The ranges' ends come from a seeded sample of the table (a few
//! milliseconds; all of a small table): every row stored before the export
//! began is in exactly one range whatever the sample, which only decides
//! how even the ranges are; a range ends after a time, so the rows of one
//! time stay together. Rows stored during the export make a range longer;
//! it is handed on page by page, so memory stays flat however long.

use super::*;
use futures_util::TryStreamExt;
use sqlx::Connection;
use sqlx::postgres::PgConnection;

/// Readers at work at once, each a `COPY` on a connection of its own.
const READERS: usize = 2;
/// Rows of the table sampled to place the ranges' ends (all of a smaller
/// table).
const SAMPLE_ROWS: f64 = 50_000.0;
/// Rows per range: long beside its `COPY`'s planning and start.
const RANGE_ROWS: usize = 40_000;
/// Rows per page decoded from a `COPY`: a range is several pages, so the
/// reader of the next range can read ahead while this one is written,
/// and the pages in flight stay small.
const COPY_PAGE_ROWS: usize = 5_000;

/// What a reader hands on: a range's pages, then the end of the range.
enum Piece {
    Page(Page),
    End,
}

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

async fn connect(url: &str) -> Result<PgConnection> {
    let mut conn = PgConnection::connect(url).await?;
    // `COPY` takes no parameters: the filter's values are literals
    // ([`literal`]), which this makes plain.
    // jit off: compiling the plan (a scan of millions of rows passes the
    // JIT's cost thresholds) takes longer than it saves on a read that is
    // mostly output.
    // No parallel workers: the readers are the parallelism.
    // Index scans only: a range is a few tens of thousands of rows, which
    // on a table not stored in time order the planner would rather find
    // with a bitmap scan and then sort (spilling to disk past `work_mem`),
    // several times slower than walking the index in order.
    for set in [
        "SET standard_conforming_strings = on",
        "SET jit = off",
        "SET max_parallel_workers_per_gather = 0",
        "SET enable_seqscan = off",
        "SET enable_bitmapscan = off",
        "SET enable_sort = off",
    ] {
        sqlx::query(set).execute(&mut conn).await?;
    }
    Ok(conn)
}

/// Splits the read into ranges of about [`RANGE_ROWS`] rows that
/// [`READERS`] connections read at once, each range one `COPY`, and hands
/// their pages on in order.
async fn pages(
    url: &str,
    site_id: i64,
    filter: &Filter,
    tx: &mpsc::Sender<Result<Page>>,
    spare: &Spare,
) -> Result<()> {
    let wheres = conditions(filter, literal).replace("SITE", &site_id.to_string());
    let mut first = connect(url).await?;
    let ends = range_ends(&mut first, &wheres).await?;
    let mut ranges: Vec<(Option<String>, Option<String>)> = Vec::with_capacity(ends.len() + 1);
    let mut from = None;
    for end in ends {
        ranges.push((from, Some(end.clone())));
        from = Some(end);
    }
    ranges.push((from, None));
    let mut first = Some(first);
    let mut done = Vec::new();
    for reader in 0..READERS.min(ranges.len()) {
        let mine: Vec<_> = ranges
            .iter()
            .skip(reader)
            .step_by(READERS)
            .cloned()
            .collect();
        // One page read ahead: the reader of the next range fills it (and
        // one more, waiting to hand it on) while this range is written.
        let (put, get) = mpsc::channel(1);
        let (url, wheres, spare) = (url.to_owned(), wheres.clone(), spare.clone());
        let conn = first.take();
        tokio::spawn(async move {
            if let Err(e) = read_ranges(conn, &url, &wheres, mine, &put, &spare).await {
                let _ = put.send(Err(e)).await;
            }
        });
        done.push(get);
    }
    let readers = done.len();
    for turn in 0..ranges.len() {
        loop {
            match done[turn % readers].recv().await {
                Some(Ok(Piece::Page(page))) => {
                    if tx.send(Ok(page)).await.is_err() {
                        // Nobody reads any more: the readers stop at their
                        // next page (dropping a COPY's stream ends it).
                        return Ok(());
                    }
                }
                Some(Ok(Piece::End)) => break,
                Some(Err(e)) => return Err(e),
                None => return Err(Error::Internal("a raw reader stopped early".into())),
            }
        }
    }
    Ok(())
}

/// Where the ranges end: every so many times of a sample of the rows
/// matching `wheres`, in order, so that a range holds about
/// [`RANGE_ROWS`]; none when the sample holds too few.
async fn range_ends(conn: &mut PgConnection, wheres: &str) -> Result<Vec<String>> {
    // The table's rows as last counted, or (never counted yet) as its
    // size suggests.
    let rows: f64 = sqlx::query_scalar(
        "SELECT GREATEST(reltuples, pg_relation_size(oid) / 200.0)::FLOAT8 \
         FROM pg_class WHERE oid = 'events'::regclass",
    )
    .fetch_one(&mut *conn)
    .await?;
    let percent = 100.0_f64.min(100.0 * SAMPLE_ROWS / rows.max(1.0));
    // Seeded: the same table gives the same ranges. (The sample's own
    // plan: the index settings above do not apply to a sampled scan.)
    let mut times: Vec<String> = sqlx::query_scalar(&format!(
        "SELECT ts FROM events TABLESAMPLE SYSTEM ({percent}) REPEATABLE (0) \
         WHERE {wheres}"
    ))
    .fetch_all(&mut *conn)
    .await?;
    times.sort_unstable();
    let step = ((RANGE_ROWS as f64 * percent / 100.0).round() as usize).max(1);
    let mut ends: Vec<String> = times.into_iter().skip(step - 1).step_by(step).collect();
    ends.dedup();
    Ok(ends)
}

/// Reads `ranges` in order, one `COPY` each (on `conn`, or a connection of
/// its own), handing on each range's pages and then its end.
async fn read_ranges(
    conn: Option<PgConnection>,
    url: &str,
    wheres: &str,
    ranges: Vec<(Option<String>, Option<String>)>,
    put: &mpsc::Sender<Result<Piece>>,
    spare: &Spare,
) -> Result<()> {
    let mut conn = match conn {
        Some(conn) => conn,
        None => connect(url).await?,
    };
    for (from, to) in ranges {
        let mut range = String::new();
        if let Some(from) = &from {
            range.push_str(&format!(" AND ts > {}", literal(from)));
        }
        if let Some(to) = &to {
            range.push_str(&format!(" AND ts <= {}", literal(to)));
        }
        let copy = format!(
            "COPY (SELECT {} FROM events WHERE {wheres}{range} ORDER BY ts, id) TO STDOUT",
            COLUMNS.join(", ")
        );
        let mut stream = conn.copy_out_raw(&copy).await?;
        let mut decoder = Decoder::new(COPY_PAGE_ROWS, fresh(spare));
        while let Some(chunk) = stream.try_next().await? {
            for page in decoder.feed(&chunk, || fresh(spare))? {
                if put.send(Ok(Piece::Page(page))).await.is_err() {
                    return Ok(()); // nobody reads any more; dropping the stream ends the COPY
                }
            }
        }
        drop(stream);
        let last = decoder.finish()?;
        let sent = if last.rows() > 0 {
            put.send(Ok(Piece::Page(last))).await
        } else {
            recycle(spare, last);
            Ok(())
        };
        if sent.is_err() || put.send(Ok(Piece::End)).await.is_err() {
            return Ok(());
        }
    }
    Ok(())
}

/// PostgreSQL's `COPY … TO STDOUT` text format, decoded into pages: a
/// row per line, tab between columns, `\N` for NULL, backslash escapes.
pub(super) struct Decoder {
    /// An unfinished line carried over to the next chunk.
    partial: Vec<u8>,
    page: Page,
    /// Rows per page.
    rows: usize,
}

impl Decoder {
    /// A decoder filling `page` first, then pages of `rows` rows each.
    pub fn new(rows: usize, page: Page) -> Decoder {
        Decoder {
            partial: Vec::new(),
            page,
            rows: rows.max(1),
        }
    }

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
            if self.page.rows() >= self.rows {
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
        let line =
            std::str::from_utf8(line).map_err(|e| Error::Internal(format!("COPY output: {e}")))?;
        let bytes = line.as_bytes();
        // The line is copied once and its cells point into it; a NULL
        // (`\N`) points nowhere, and a field with an escape is decoded
        // after the line. Most fields have neither: a line without a
        // backslash is not looked at again.
        let page = &mut self.page;
        let escapes = memchr::memchr(b'\\', bytes).is_some();
        let base = page.text.len();
        page.text.push_str(line);
        let cells = page.cells.len();
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
        // Counted as the cells were cut (a bad row ends the export, page
        // and all).
        let fields = page.cells.len() - cells;
        if fields != COLUMNS.len() {
            return Err(Error::Internal(format!(
                "COPY output: a row of {fields} columns, not {}",
                COLUMNS.len()
            )));
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
