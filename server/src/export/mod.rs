//! Exports: aggregate rows and raw responses as CSV, NDJSON or XLSX,
//! written row by row so memory stays flat whatever the row count. One run
//! ([`Export::prepare`], then [`Prepared::write`]) serves `GET
//! /v1/sites/{key}/export.*` and `responses.*` and `touchpoint export`.

mod table;

pub use crate::store::raw::PAGE_ROWS;
pub use table::{Cell, Format, TableWriter};

use crate::aggregate;
use crate::error::Result;
use crate::store::raw::{self, Page, RawResponses};
use crate::store::{Filter, GroupBy, Store};
use crate::zone::Zone;
use std::io::Write;
use touchpoint_wire::AggregateRow;

/// What to export.
#[derive(Clone, Debug)]
pub struct Export {
    pub site_id: i64,
    /// Aggregate rows grouped by these columns, or, when `None`, one row
    /// per raw response.
    pub group_by: Option<Vec<GroupBy>>,
    pub filter: Filter,
    /// The site's time zone: the days aggregates are counted in.
    pub zone: Zone,
    pub format: Format,
    /// Start a CSV with a UTF-8 byte-order mark (for Excel).
    pub bom: bool,
}

/// An export ready to write: aggregates are computed here, before a byte
/// is sent, so a bad request still gets a clean error.
#[derive(Debug)]
pub struct Prepared {
    export: Export,
    aggregates: Vec<AggregateRow>,
}

impl Export {
    pub async fn prepare(self, store: &Store) -> Result<Prepared> {
        let aggregates = match &self.group_by {
            Some(group_by) => {
                aggregate::aggregate(store, self.site_id, &self.zone, group_by, &self.filter)
                    .await?
            }
            None => Vec::new(),
        };
        Ok(Prepared {
            export: self,
            aggregates,
        })
    }
}

impl Prepared {
    /// Starts writing the table to `out`: the header, and for aggregates
    /// every row. Then [`Writing::next_page`] until it says there is no
    /// more, then [`Writing::finish`].
    pub fn start<W: Write>(self, store: &Store, out: W) -> Result<Writing<W>> {
        let e = self.export;
        let columns = match &e.group_by {
            Some(group_by) => aggregate_columns(group_by),
            None => response_columns(),
        };
        let mut table = TableWriter::new(e.format, out, columns, e.bom)?;
        let pages = match &e.group_by {
            Some(group_by) => {
                write_aggregates(&mut table, group_by, &self.aggregates)?;
                None
            }
            None => Some(store.raw_responses(e.site_id, &e.filter)?),
        };
        Ok(Writing {
            table,
            pages,
            rows: 0,
        })
    }
}

/// An export being written, a page of raw responses at a time, so the
/// caller can drain the output between pages or stop early.
pub struct Writing<W: Write> {
    table: TableWriter<W>,
    pages: Option<RawResponses>,
    rows: u64,
}

impl<W: Write> Writing<W> {
    /// Writes the next page of responses; `false` once there are no more.
    pub async fn next_page(&mut self) -> Result<bool> {
        let Some(pages) = &mut self.pages else {
            return Ok(false);
        };
        match pages.next().await? {
            Some(page) => {
                for row in 0..page.rows() {
                    write_response(&mut self.table, &page, row)?;
                }
                self.rows += page.rows() as u64;
                pages.recycle(page);
                Ok(true)
            }
            None => {
                self.pages = None;
                Ok(false)
            }
        }
    }

    /// Raw responses written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The output written so far (to drain a buffer between pages).
    pub fn out_mut(&mut self) -> &mut W {
        self.table.out_mut()
    }

    /// Ends the table and returns the output.
    pub fn finish(self) -> Result<W> {
        self.table.finish()
    }

    /// The table alone, once every page is written (to finish it elsewhere,
    /// e.g. off the async threads).
    pub fn into_table(self) -> TableWriter<W> {
        self.table
    }
}

/// Columns after the group columns: the contract's, in its order, then
/// the intervals, dismissals and rates added since (appended, so a
/// spreadsheet reading columns by position keeps working).
pub const AGGREGATE_COLUMNS: [&str; 32] = [
    "metric",
    "responses",
    "impressions",
    "response_rate",
    "mean",
    "distribution",
    "nps",
    "nps_moe",
    "promoters",
    "passives",
    "detractors",
    "csat",
    "csat_low",
    "csat_high",
    "ces",
    "ces_easy",
    "thumbs_up",
    "comments",
    "choices",
    "nps_low",
    "nps_high",
    "ces_low",
    "ces_high",
    "thumbs_low",
    "thumbs_high",
    "dismissals",
    "dismiss_rate",
    "frustration_rate",
    "small_sample",
    "flag_frustration",
    "flag_delight",
    "flag_confusion",
];

/// A raw response's columns: the stored ones, in the order they are read.
pub const RESPONSE_COLUMNS: [&str; 12] = raw::COLUMNS;

/// Column names of an aggregate export grouped by `group_by`.
pub fn aggregate_columns(group_by: &[GroupBy]) -> Vec<String> {
    group_by
        .iter()
        .map(|g| g.name().into_owned())
        .chain(AGGREGATE_COLUMNS.iter().map(|c| (*c).to_owned()))
        .collect()
}

pub fn response_columns() -> Vec<String> {
    RESPONSE_COLUMNS.iter().map(|c| (*c).to_owned()).collect()
}

/// Writes aggregate rows (few: one per group × metric).
pub fn write_aggregates<W: Write>(
    w: &mut TableWriter<W>,
    group_by: &[GroupBy],
    rows: &[AggregateRow],
) -> Result<()> {
    for r in rows {
        let distribution = serde_json::to_string(&r.distribution).unwrap_or_default();
        let choices = r
            .choices
            .as_ref()
            .map(|c| serde_json::to_string(c).unwrap_or_default());
        let num = |v: Option<f64>| v.map_or(Cell::Empty, Cell::Float);
        let int = |v: Option<u64>| {
            v.map_or(Cell::Empty, |v| {
                Cell::Int(i64::try_from(v).unwrap_or(i64::MAX))
            })
        };
        let mut cells: Vec<Cell> = group_by
            .iter()
            .map(|g| {
                let v = match g {
                    GroupBy::Page => r.page.as_deref(),
                    GroupBy::Stage => r.stage.as_deref(),
                    GroupBy::Touchpoint => r.touchpoint.as_deref(),
                    GroupBy::Day => r.day.as_deref(),
                    GroupBy::Week => r.week.as_deref(),
                    GroupBy::Device => r.device.as_deref(),
                    GroupBy::Locale => r.locale.as_deref(),
                    GroupBy::Attribute(_) => {
                        r.attributes.get(g.name().as_ref()).map(String::as_str)
                    }
                };
                v.map_or(Cell::Empty, Cell::Text)
            })
            .collect();
        cells.extend([
            r.metric.map_or(Cell::Empty, |m| Cell::Text(m.as_str())),
            int(Some(r.responses)),
            int(Some(r.impressions)),
            num(r.response_rate),
            num(r.mean),
            Cell::Json(&distribution),
            num(r.nps),
            num(r.nps_moe),
            int(r.promoters),
            int(r.passives),
            int(r.detractors),
            num(r.csat),
            num(r.csat_low),
            num(r.csat_high),
            num(r.ces),
            num(r.ces_easy),
            num(r.thumbs_up),
            int(Some(r.comments)),
            choices.as_deref().map_or(Cell::Empty, Cell::Json),
            num(r.nps_low),
            num(r.nps_high),
            num(r.ces_low),
            num(r.ces_high),
            num(r.thumbs_low),
            num(r.thumbs_high),
            int(Some(r.dismissals)),
            num(r.dismiss_rate),
            num(r.frustration_rate),
            // A JSON boolean in NDJSON, the word elsewhere.
            Cell::Json(if r.small_sample { "true" } else { "false" }),
        ]);
        for flag in crate::emotion::FLAGS {
            cells.push(int(Some(r.flags.get(flag).copied().unwrap_or(0))));
        }
        w.row(&cells)?;
    }
    Ok(())
}

/// Writes row `row` of a page of raw responses.
pub fn write_response<W: Write>(w: &mut TableWriter<W>, page: &Page, row: usize) -> Result<()> {
    let text = |c: usize| page.cell(row, c).map_or(Cell::Empty, Cell::Text);
    let score = match page.cell(row, raw::SCORE) {
        None => Cell::Empty,
        Some(s) => Cell::Int(s.parse().unwrap_or_default()),
    };
    // `;`-joined as stored in CSV and XLSX, an array in NDJSON.
    let stored = page.cell(row, raw::FLAGS);
    let array;
    let flags = match (w.format, stored) {
        (Format::Ndjson, None) => Cell::Json("[]"),
        (Format::Ndjson, Some(f)) => {
            array = format!("[\"{}\"]", f.replace(';', "\",\""));
            Cell::Json(&array)
        }
        (_, stored) => stored.map_or(Cell::Empty, Cell::Text),
    };
    w.row(&[
        text(0),
        text(1),
        text(2),
        text(3),
        text(4),
        text(5),
        score,
        text(7),
        page.cell(row, 8).map_or(Cell::Empty, Cell::Json),
        text(9),
        text(10),
        flags,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(format: Format, bom: bool, rows: &[AggregateRow]) -> Vec<u8> {
        let mut w = TableWriter::new(format, Vec::new(), aggregate_columns(&[]), bom).unwrap();
        write_aggregates(&mut w, &[], rows).unwrap();
        w.finish().unwrap()
    }

    #[test]
    fn negative_scores_stay_numbers_and_the_bom_is_optional() {
        let rows = [AggregateRow {
            nps: Some(-50.0),
            metric: Some(touchpoint_wire::Metric::Nps),
            ..Default::default()
        }];
        let csv = String::from_utf8(table(Format::Csv, false, &rows)).unwrap();
        assert!(csv.starts_with("metric,"));
        assert!(csv.lines().nth(1).unwrap().contains(",-50,"), "{csv}");
        let with_bom = table(Format::Csv, true, &rows);
        assert!(with_bom.starts_with("\u{feff}metric,".as_bytes()));
        let ndjson = String::from_utf8(table(Format::Ndjson, false, &rows)).unwrap();
        let v: serde_json::Value = serde_json::from_str(ndjson.trim()).unwrap();
        assert_eq!(
            (
                v["nps"].as_f64(),
                v["csat"].is_null(),
                v["distribution"].is_object()
            ),
            (Some(-50.0), true, true)
        );
        let xlsx = table(Format::Xlsx, false, &rows);
        assert!(xlsx.starts_with(b"PK"), "an XLSX file is a zip archive");
    }
}
