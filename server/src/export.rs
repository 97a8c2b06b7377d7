//! Exports: aggregate rows and raw responses as CSV, NDJSON or XLSX,
//! written row by row so memory stays flat whatever the row count (XLSX
//! sheets are written in constant-memory mode to temporary files). Text cells
//! a spreadsheet would read as a formula are neutralised in CSV; XLSX cells
//! are typed, so text is never evaluated.

use crate::error::{Error, Result};
use crate::storage::{Filter, GroupBy, ResponseRow, Store};
use rust_xlsxwriter::{Format as XlsxFormat, Workbook};
use std::fmt::Write as _;
use std::io::Write;
use touchpoint_wire::AggregateRow;

/// Export formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Ndjson,
    Xlsx,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Ndjson => "application/x-ndjson",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    pub fn from_extension(ext: &str) -> Option<Format> {
        match ext {
            "csv" => Some(Format::Csv),
            "ndjson" => Some(Format::Ndjson),
            "xlsx" => Some(Format::Xlsx),
            _ => None,
        }
    }
}

/// Columns after the group columns, in contract order.
pub const AGGREGATE_COLUMNS: [&str; 19] = [
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
];

pub const RESPONSE_COLUMNS: [&str; 12] = [
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

/// Rows fetched per page when exporting responses.
pub const PAGE_ROWS: usize = 5000;

/// Most rows on one XLSX sheet (the format's limit, less the header).
const XLSX_SHEET_ROWS: u32 = 1_048_575;

/// One value of a row.
#[derive(Clone, Copy, Debug)]
pub enum Cell<'a> {
    Empty,
    Text(&'a str),
    Int(i64),
    Float(f64),
    /// Already-encoded JSON (an object or array): raw in NDJSON, text elsewhere.
    Json(&'a str),
}

/// Writes a table in one format to `out`, one row at a time.
pub struct TableWriter<W: Write> {
    format: Format,
    out: W,
    columns: Vec<String>,
    xlsx: Option<Xlsx>,
}

struct Xlsx {
    workbook: Workbook,
    sheet: usize,
    row: u32,
    bold: XlsxFormat,
}

impl<W: Write> TableWriter<W> {
    /// Starts a table: the CSV header (after a UTF-8 BOM if `bom`), or the
    /// XLSX header row.
    pub fn new(format: Format, mut out: W, columns: Vec<String>, bom: bool) -> Result<Self> {
        let mut xlsx = None;
        match format {
            Format::Csv => {
                let mut line = String::new();
                if bom {
                    line.push('\u{feff}');
                }
                csv_line(
                    &mut line,
                    &columns.iter().map(|c| Cell::Text(c)).collect::<Vec<_>>(),
                );
                out.write_all(line.as_bytes()).map_err(io)?;
            }
            Format::Ndjson => {}
            Format::Xlsx => {
                let mut x = Xlsx {
                    workbook: Workbook::new(),
                    sheet: 0,
                    row: 0,
                    bold: XlsxFormat::new().set_bold(),
                };
                x.add_sheet(&columns)?;
                xlsx = Some(x);
            }
        }
        Ok(TableWriter {
            format,
            out,
            columns,
            xlsx,
        })
    }

    pub fn row(&mut self, cells: &[Cell]) -> Result<()> {
        match self.format {
            Format::Csv => {
                let mut line = String::new();
                csv_line(&mut line, cells);
                self.out.write_all(line.as_bytes()).map_err(io)
            }
            Format::Ndjson => {
                let mut line = String::from("{");
                for (i, (column, cell)) in self.columns.iter().zip(cells).enumerate() {
                    if i > 0 {
                        line.push(',');
                    }
                    line.push_str(&serde_json::to_string(column).unwrap_or_default());
                    line.push(':');
                    match cell {
                        Cell::Empty => line.push_str("null"),
                        Cell::Text(s) => {
                            line.push_str(&serde_json::to_string(s).unwrap_or_default())
                        }
                        Cell::Int(v) => {
                            let _ = write!(line, "{v}");
                        }
                        Cell::Float(v) => {
                            line.push_str(&serde_json::to_string(v).unwrap_or_default())
                        }
                        Cell::Json(raw) => line.push_str(raw),
                    }
                }
                line.push_str("}\n");
                self.out.write_all(line.as_bytes()).map_err(io)
            }
            Format::Xlsx => {
                let x = self.xlsx.as_mut().expect("an xlsx writer has a workbook");
                if x.row >= XLSX_SHEET_ROWS {
                    x.sheet += 1;
                    x.row = 0;
                    x.add_sheet(&self.columns)?;
                }
                x.row += 1;
                let sheet = x.workbook.worksheet_from_index(x.sheet).map_err(xlsx)?;
                for (col, cell) in cells.iter().enumerate() {
                    let col = u16::try_from(col).unwrap_or(u16::MAX);
                    match cell {
                        Cell::Empty => {}
                        Cell::Text(s) | Cell::Json(s) => {
                            sheet.write_string(x.row, col, *s).map_err(xlsx)?;
                        }
                        Cell::Int(v) => {
                            sheet.write_number(x.row, col, *v as f64).map_err(xlsx)?;
                        }
                        Cell::Float(v) => {
                            sheet.write_number(x.row, col, *v).map_err(xlsx)?;
                        }
                    }
                }
                Ok(())
            }
        }
    }

    /// The output, e.g. to drain a buffer between pages.
    pub fn out_mut(&mut self) -> &mut W {
        &mut self.out
    }

    /// Ends the table and returns the output. An XLSX workbook is assembled
    /// in a temporary file and copied to the output.
    pub fn finish(mut self) -> Result<W> {
        if let Some(mut x) = self.xlsx.take() {
            let file = tempfile::NamedTempFile::new().map_err(io)?;
            x.workbook.save(file.path()).map_err(xlsx)?;
            let mut saved = std::fs::File::open(file.path()).map_err(io)?;
            std::io::copy(&mut saved, &mut self.out).map_err(io)?;
        }
        self.out.flush().map_err(io)?;
        Ok(self.out)
    }
}

impl Xlsx {
    fn add_sheet(&mut self, columns: &[String]) -> Result<()> {
        let name = if self.sheet == 0 {
            "Touchpoint".to_owned()
        } else {
            format!("Touchpoint {}", self.sheet + 1)
        };
        let sheet = self
            .workbook
            .add_worksheet_with_constant_memory()
            .map_err(xlsx)?;
        sheet.set_name(name).map_err(xlsx)?;
        for (col, title) in columns.iter().enumerate() {
            sheet
                .write_string_with_format(
                    0,
                    u16::try_from(col).unwrap_or(u16::MAX),
                    title,
                    &self.bold,
                )
                .map_err(xlsx)?;
        }
        Ok(())
    }
}

fn io(e: std::io::Error) -> Error {
    Error::Internal(format!("export write failed: {e}"))
}

fn xlsx(e: rust_xlsxwriter::XlsxError) -> Error {
    Error::Internal(format!("xlsx export failed: {e}"))
}

/// Column names of an aggregate export grouped by `group_by`.
pub fn aggregate_columns(group_by: &[GroupBy]) -> Vec<String> {
    group_by
        .iter()
        .map(|g| g.as_str())
        .chain(AGGREGATE_COLUMNS)
        .map(str::to_owned)
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
                    GroupBy::Device => r.device.as_deref(),
                    GroupBy::Locale => r.locale.as_deref(),
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
        ]);
        w.row(&cells)?;
    }
    Ok(())
}

/// Writes one raw response.
pub fn write_response<W: Write>(w: &mut TableWriter<W>, r: &ResponseRow) -> Result<()> {
    let flags = if w.format == Format::Ndjson {
        Cell::Json("[]")
    } else {
        Cell::Empty
    };
    w.row(&[
        Cell::Text(&r.id),
        Cell::Text(&r.ts),
        Cell::Text(&r.page),
        Cell::Text(&r.stage),
        opt(&r.touchpoint),
        opt(&r.metric),
        r.score.map_or(Cell::Empty, Cell::Int),
        opt(&r.comment),
        r.choices.as_deref().map_or(Cell::Empty, Cell::Json),
        opt(&r.locale),
        opt(&r.device),
        flags,
    ])
}

fn opt(v: &Option<String>) -> Cell<'_> {
    v.as_deref().map_or(Cell::Empty, Cell::Text)
}

/// Pages through a site's responses in `(ts, id)` order.
pub struct ResponsePages<'a> {
    store: &'a Store,
    site_id: i64,
    filter: Filter,
    after: Option<(String, String)>,
    done: bool,
}

impl<'a> ResponsePages<'a> {
    pub fn new(store: &'a Store, site_id: i64, filter: Filter) -> Self {
        ResponsePages {
            store,
            site_id,
            filter,
            after: None,
            done: false,
        }
    }

    /// The next page, or `None` at the end.
    pub async fn next(&mut self) -> Result<Option<Vec<ResponseRow>>> {
        if self.done {
            return Ok(None);
        }
        let after = self
            .after
            .as_ref()
            .map(|(ts, id)| (ts.as_str(), id.as_str()));
        let page = self
            .store
            .responses_page(self.site_id, &self.filter, after, PAGE_ROWS)
            .await?;
        self.done = page.len() < PAGE_ROWS;
        match page.last() {
            Some(last) => self.after = Some((last.ts.clone(), last.id.clone())),
            None => return Ok(None),
        }
        Ok(Some(page))
    }
}

/// RFC 4180 quoting; a text starting with `=`, `+`, `-`, `@`, tab or CR
/// gets a leading `'` so a spreadsheet shows it instead of evaluating it.
fn text_cell(out: &mut String, s: &str) {
    let formula = s.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let quote = formula || s.contains([',', '"', '\n', '\r']);
    if quote {
        out.push('"');
    }
    if formula {
        out.push('\'');
    }
    for c in s.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    if quote {
        out.push('"');
    }
}

fn csv_line(out: &mut String, cells: &[Cell]) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match cell {
            Cell::Empty => {}
            Cell::Int(v) => {
                let _ = write!(out, "{v}");
            }
            Cell::Float(v) => {
                let _ = write!(out, "{v}");
            }
            Cell::Text(s) | Cell::Json(s) => text_cell(out, s),
        }
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(s: &str) -> String {
        let mut out = String::new();
        text_cell(&mut out, s);
        out
    }

    #[test]
    fn text_cells() {
        assert_eq!(cell("/pricing"), "/pricing");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("+1"), "\"'+1\"");
        assert_eq!(cell("-2"), "\"'-2\"");
        assert_eq!(cell("@SUM(A1)"), "\"'@SUM(A1)\"");
        assert_eq!(cell("\tx"), "\"'\tx\"");
        assert_eq!(cell("two\nlines"), "\"two\nlines\"");
    }

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
