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
//! - PostgreSQL: `COPY (SELECT …) TO STDOUT` over ranges of time of about
//!   40 000 rows, two at once on connections of their own, each in index
//!   order (see the `postgres` module); the server streams the rows in its
//!   text format and they are decoded here. `COPY` takes no parameters, so
//!   the filter's values are written as string literals ([`literal`]),
//!   with `standard_conforming_strings` set on the connection first.
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

mod sqlite;

mod postgres;

#[cfg(test)]
mod tests {
    use super::postgres::{Decoder, literal};
    use super::*;

    #[test]
    fn copy_text_is_decoded_across_chunks() {
        let mut d = Decoder::new(PAGE_ROWS, Page::default());
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
        let mut d = Decoder::new(PAGE_ROWS, Page::default());
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
        let mut d = Decoder::new(PAGE_ROWS, Page::default());
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
