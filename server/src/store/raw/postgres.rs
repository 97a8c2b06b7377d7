//! One `COPY (SELECT …) TO STDOUT` on a connection of its own, in time
//! order along the `(site, kind, ts, id)` index, decoded into pages.

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
        let line =
            std::str::from_utf8(line).map_err(|e| Error::Internal(format!("COPY output: {e}")))?;
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
