//! `touchpoint import`: stores NDJSON events, one [`Event`] object per
//! line (the shape of an item of `POST /v1/events`' `events`), through the
//! ingest's own decoding and validation ([`validate::decode_event`],
//! [`validate::Validator`]) and its idempotent insert ([`Store::insert_events`],
//! on a SQLite file through a [`Writer`](crate::store::Writer) of its own).
//!
//! - **Streamed.** A blocking thread reads and validates lines and hands
//!   batches of [`BATCH_EVENTS`] to the writer through a channel holding one:
//!   memory stays bounded by a few batches whatever the input's size, and
//!   reading overlaps with the database's commits.
//! - **Large transactions.** One transaction, one durable commit, per batch,
//!   with a larger SQLite page cache ([`Tuning::BULK`]) than the server's.
//! - **Idempotent by id.** An event whose id the site already has (or an
//!   earlier line had) counts as a duplicate and changes nothing but a
//!   missing comment or choices, exactly as a resent ingest does.
//! - **Invalid lines are skipped and reported**, each with its line number
//!   and the ingest's message; the valid lines are stored and the command
//!   fails. Fix the reported lines and import the same input again: what
//!   is stored already counts as duplicates. A dry run checks every line and
//!   stores nothing, for an all-or-nothing import.
//!
//! [`Event`]: touchpoint_wire::Event
//! [`Tuning::BULK`]: crate::store::Tuning::BULK

use crate::error::{Error, Result};
use crate::store::{Site, SiteConfig, Store, StoredEvent};
use crate::validate::{self, decode_event};
use serde::Serialize;
use std::io::{BufRead, Read};
use tokio::sync::mpsc;

/// Events per batch, and so per transaction: large enough that a commit
/// (one fsync, and a WAL checkpoint on SQLite) serves many events, small
/// enough that a batch's dirty pages fit [`Tuning::BULK`]'s cache.
///
/// [`Tuning::BULK`]: crate::store::Tuning::BULK
pub const BATCH_EVENTS: usize = 10_000;
/// Longest line: the ingest's largest body.
pub const MAX_LINE_BYTES: usize = validate::MAX_BATCH_BYTES;
/// Rejections listed in a [`Report`]; every one is counted and passed to
/// the caller's `on_reject`.
pub const MAX_LISTED: usize = 100;

/// An invalid line: its number (from 1) and what is wrong with it, as the
/// ingest says it (`"score: 11 is outside the nps scale 0–10"`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rejection {
    pub line: u64,
    pub message: String,
}

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Events stored under a new id.
    pub accepted: u64,
    /// Valid events whose id was already stored (or came earlier in the input).
    pub duplicates: u64,
    /// Invalid lines, skipped.
    pub rejected: u64,
    /// Valid lines: `accepted + duplicates`, or what would be stored in a dry run.
    pub valid: u64,
    /// The first [`MAX_LISTED`] rejections, in line order.
    pub errors: Vec<Rejection>,
}

/// Validated events and the rejections met while reading them.
#[derive(Debug, Default)]
struct Chunk {
    events: Vec<StoredEvent>,
    rejected: Vec<Rejection>,
}

/// Imports NDJSON events from `input` into `site`. `on_reject` sees every
/// invalid line as soon as it is read. With `dry_run`, validates and stores
/// nothing.
pub async fn import(
    store: &Store,
    site: &Site,
    input: Box<dyn BufRead + Send>,
    dry_run: bool,
    mut on_reject: impl FnMut(&Rejection),
) -> Result<Report> {
    let (chunks, mut queue) = mpsc::channel::<Chunk>(1);
    let config = site.config.clone();
    let window = validate::Window::now(site.retention_days);
    let reader = tokio::task::spawn_blocking(move || {
        read(input, &config, window, |chunk| {
            chunks.blocking_send(chunk).is_ok()
        })
    });
    let mut report = Report::default();
    let mut stored_batches: u64 = 0;
    // On a SQLite file the batches go through a connection of their own
    // with its statements kept prepared, on a blocking thread, as the
    // server's group commit does; through the pool, each statement and
    // each row read back would be a round trip to the pool's thread.
    let mut writer = match dry_run {
        true => None,
        false => store.writer()?,
    };
    while let Some(chunk) = queue.recv().await {
        for rejection in chunk.rejected {
            on_reject(&rejection);
            report.rejected += 1;
            if report.errors.len() < MAX_LISTED {
                report.errors.push(rejection);
            }
        }
        report.valid += chunk.events.len() as u64;
        if !dry_run && !chunk.events.is_empty() {
            let (accepted, duplicates) = match writer.take() {
                Some(mut w) => {
                    let site_id = site.id;
                    let events = chunk.events;
                    let (w, counts) = tokio::task::spawn_blocking(move || {
                        let counts = w.insert_batches(&[(site_id, &events)]);
                        (w, counts)
                    })
                    .await
                    .map_err(|e| Error::Internal(format!("the import writer stopped: {e}")))?;
                    writer = Some(w);
                    counts?[0]
                }
                None => store.insert_events(site.id, &chunk.events).await?,
            };
            report.accepted += accepted;
            report.duplicates += duplicates;
            // While a bulk load grows the table fourfold, the database's
            // statistics of it go stale: refresh them at 1, 4, 16, …
            // batches, so its plans keep to the right indexes.
            stored_batches += 1;
            if stored_batches.is_power_of_two() && stored_batches.trailing_zeros().is_multiple_of(2)
            {
                store.refresh_statistics().await?;
            }
        }
    }
    reader
        .await
        .map_err(|e| Error::Internal(format!("the import reader stopped: {e}")))?
        .map_err(|(line, e)| {
            Error::bad_request(
                "unreadable_input",
                format!("reading line {line} of the input: {e}"),
            )
        })?;
    Ok(report)
}

/// Reads lines, validates each as the ingest does, and hands them on in
/// chunks of up to [`BATCH_EVENTS`] events (or rejections) until the input
/// ends or `send` returns false. Blank lines are skipped; a byte-order mark
/// before the first line is ignored. A read error carries its line number.
fn read(
    mut input: impl BufRead,
    config: &SiteConfig,
    window: validate::Window,
    mut send: impl FnMut(Chunk) -> bool,
) -> std::result::Result<(), (u64, std::io::Error)> {
    let mut line = 0u64;
    let mut buf = Vec::new();
    let mut chunk = Chunk::default();
    let mut validator = validate::Validator::new(config, window);
    loop {
        buf.clear();
        let limit = MAX_LINE_BYTES as u64 + 1;
        let n = (&mut input)
            .take(limit)
            .read_until(b'\n', &mut buf)
            .map_err(|e| (line + 1, e))?;
        if n == 0 {
            break;
        }
        line += 1;
        let ended = buf.last() == Some(&b'\n');
        if !ended && buf.len() > MAX_LINE_BYTES {
            skip_line(&mut input).map_err(|e| (line, e))?;
            chunk.rejected.push(Rejection {
                line,
                message: format!("longer than {MAX_LINE_BYTES} bytes"),
            });
        } else {
            let mut text = buf.as_slice();
            if ended {
                text = &text[..text.len() - 1];
            }
            if line == 1 {
                text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
            }
            if text.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match decode_event(text).and_then(|e| validator.check(&e)) {
                Ok(event) => chunk.events.push(event),
                Err(message) => chunk.rejected.push(Rejection { line, message }),
            }
        }
        if (chunk.events.len() >= BATCH_EVENTS || chunk.rejected.len() >= BATCH_EVENTS)
            && !send(std::mem::take(&mut chunk))
        {
            return Ok(());
        }
    }
    if !(chunk.events.is_empty() && chunk.rejected.is_empty()) {
        send(chunk);
    }
    Ok(())
}

/// Consumes the rest of an over-long line without holding it.
fn skip_line(input: &mut impl BufRead) -> std::io::Result<()> {
    loop {
        let available = input.fill_buf()?;
        if available.is_empty() {
            return Ok(());
        }
        match available.iter().position(|b| *b == b'\n') {
            Some(i) => {
                input.consume(i + 1);
                return Ok(());
            }
            None => {
                let n = available.len();
                input.consume(n);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> SiteConfig {
        crate::store::sites::config_of(
            &crate::site_file::parse(include_str!("../fixtures/shop.toml")).unwrap(),
        )
    }

    fn event(n: u32, score: i64) -> String {
        format!(
            r#"{{"id":"00000000-0000-4000-8000-{n:012}","kind":"response","touchpoint":"site-nps","page":"https://shop.example/cart","score":{score},"ts":"2026-11-20T10:00:00Z"}}"#
        )
    }

    /// Every chunk `read` hands on, from `input`.
    fn chunks(input: &[u8]) -> Vec<Chunk> {
        let mut out = Vec::new();
        read(input, &config(), validate::Window::now(3650), |c| {
            out.push(c);
            true
        })
        .unwrap();
        out
    }

    #[test]
    fn lines_are_numbered_blank_lines_skipped_and_crlf_and_bom_accepted() {
        let input = format!(
            "\u{feff}{}\r\n\n{}\n  \n{{\"id\":\"x\"}}\n{}",
            event(1, 9),
            event(2, 11),
            event(3, 0)
        );
        let chunks = chunks(input.as_bytes());
        assert_eq!(chunks.len(), 1);
        let ids: Vec<_> = chunks[0].events.iter().map(|e| &e.id[24..]).collect();
        assert_eq!(ids, ["000000000001", "000000000003"]);
        assert_eq!(chunks[0].events[0].page, "/cart");
        let rejected: Vec<_> = chunks[0]
            .rejected
            .iter()
            .map(|r| (r.line, r.message.as_str()))
            .collect();
        assert_eq!(
            rejected,
            [
                (3, "score: 11 is outside the nps scale 0–10"),
                (5, "not a valid event: missing field `kind` at column 10"),
            ]
        );
    }

    #[test]
    fn an_over_long_line_is_rejected_without_losing_the_next() {
        let long = format!("{{\"comment\":\"{}\"}}", "a".repeat(MAX_LINE_BYTES + 10));
        let input = format!("{long}\n{}\n", event(1, 9));
        let chunks = chunks(input.as_bytes());
        assert_eq!(chunks[0].rejected[0].line, 1);
        assert!(chunks[0].rejected[0].message.starts_with("longer than"));
        assert_eq!(chunks[0].events.len(), 1);
    }

    #[test]
    fn batches_hold_at_most_batch_events() {
        let input: String = (0..BATCH_EVENTS as u32 + 3)
            .map(|n| event(n, 9) + "\n")
            .collect();
        let sizes: Vec<_> = chunks(input.as_bytes())
            .iter()
            .map(|c| c.events.len())
            .collect();
        assert_eq!(sizes, [BATCH_EVENTS, 3]);
    }
}
