//! A table in one of three formats, written a row at a time: CSV (RFC
//! 4180, formula-neutralised, optional BOM), NDJSON, and XLSX (sheets in
//! constant-memory mode, spilled to temporary files). Text cells a
//! spreadsheet would read as a formula are neutralised in CSV; XLSX cells
//! are typed, so text is never evaluated.

use crate::error::{Error, Result};
use rust_xlsxwriter::{Format as XlsxFormat, Workbook};
use std::fmt::Write as _;
use std::io::Write;

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

impl Cell<'_> {
    /// A number, or empty without one.
    pub fn float(v: Option<f64>) -> Cell<'static> {
        v.map_or(Cell::Empty, Cell::Float)
    }

    /// A count.
    pub fn count(n: u64) -> Cell<'static> {
        Cell::Int(i64::try_from(n).unwrap_or(i64::MAX))
    }

    /// `true` or `false`, as text.
    pub fn boolean(b: bool) -> Cell<'static> {
        Cell::Text(if b { "true" } else { "false" })
    }
}

/// Writes a table in one format to `out`, one row at a time.
pub struct TableWriter<W: Write> {
    pub(super) format: Format,
    out: W,
    columns: Vec<String>,
    /// NDJSON: each column's name as a JSON key and colon (`"id":`).
    keys: Vec<String>,
    /// The line being written, reused row after row.
    line: String,
    xlsx: Option<Xlsx>,
}

struct Xlsx {
    workbook: Workbook,
    sheet: usize,
    row: u32,
    bold: XlsxFormat,
}

impl TableWriter<Vec<u8>> {
    /// A CSV table in memory with these columns: a small report's rows.
    pub fn csv(columns: &[&str], bom: bool) -> Result<Self> {
        let columns = columns.iter().map(|c| (*c).to_owned()).collect();
        TableWriter::new(Format::Csv, Vec::new(), columns, bom)
    }
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
        let keys = columns
            .iter()
            .map(|c| format!("{}:", serde_json::to_string(c).unwrap_or_default()))
            .collect();
        Ok(TableWriter {
            format,
            out,
            columns,
            keys,
            line: String::new(),
            xlsx,
        })
    }

    pub fn row(&mut self, cells: &[Cell]) -> Result<()> {
        match self.format {
            Format::Csv => {
                self.line.clear();
                csv_line(&mut self.line, cells);
                self.out.write_all(self.line.as_bytes()).map_err(io)
            }
            Format::Ndjson => {
                let line = &mut self.line;
                line.clear();
                line.push('{');
                for (i, (key, cell)) in self.keys.iter().zip(cells).enumerate() {
                    if i > 0 {
                        line.push(',');
                    }
                    line.push_str(key);
                    match cell {
                        Cell::Empty => line.push_str("null"),
                        Cell::Text(s) => json_string(line, s),
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

/// Whether a spreadsheet could read a text cell as a formula: its first
/// visible character is `=`, `+`, `-` or `@` (or their full-width forms),
/// or it starts with a tab or CR. Leading spaces and invisible characters
/// (zero-width, byte-order mark, direction marks, soft hyphen) do not hide it.
fn looks_like_formula(s: &str) -> bool {
    // Most cells start with a visible ASCII character: decided by it.
    match s.as_bytes().first() {
        None => return false,
        Some(b'\t' | b'\r') => return true,
        Some(&b) if b.is_ascii() && !b.is_ascii_whitespace() && b != 0x0b => {
            return matches!(b, b'=' | b'+' | b'-' | b'@');
        }
        Some(_) => {}
    }
    let invisible = |c: char| {
        c.is_whitespace()
            || matches!(
                c,
                '\u{00ad}' | '\u{034f}' | '\u{061c}' | '\u{180e}' | '\u{feff}'
            )
            || ('\u{200b}'..='\u{200f}').contains(&c)
            || ('\u{202a}'..='\u{202e}').contains(&c)
            || ('\u{2060}'..='\u{2069}').contains(&c)
    };
    s.chars().find(|c| !invisible(*c)).is_some_and(|c| {
        matches!(
            c,
            '=' | '+' | '-' | '@' | '＝' | '＋' | '－' | '＠' | '﹦' | '﹢' | '﹣'
        )
    })
}

/// RFC 4180 quoting; a text a spreadsheet would read as a formula gets a
/// leading `'` so it is shown instead of evaluated.
fn text_cell(out: &mut String, s: &str) {
    let formula = looks_like_formula(s);
    let special = s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'));
    let quote = formula || special;
    if quote {
        out.push('"');
    }
    if formula {
        out.push('\'');
    }
    if special && s.contains('"') {
        out.push_str(&s.replace('"', "\"\""));
    } else {
        out.push_str(s);
    }
    if quote {
        out.push('"');
    }
}

/// `s` as a JSON string (what `serde_json` writes, without its allocation
/// for the common text that needs no escape).
fn json_string(out: &mut String, s: &str) {
    if s.bytes()
        .all(|b| b >= 0x20 && b != b'"' && b != b'\\' && b != 0x7f)
    {
        out.push('"');
        out.push_str(s);
        out.push('"');
    } else {
        out.push_str(&serde_json::to_string(s).unwrap_or_default());
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
        // Invisible or full-width characters do not hide a formula.
        assert_eq!(cell("\u{200b}=1+1"), "\"'\u{200b}=1+1\"");
        assert_eq!(cell("\u{feff}=HYPERLINK(1)"), "\"'\u{feff}=HYPERLINK(1)\"");
        assert_eq!(cell("  @SUM(A1)"), "\"'  @SUM(A1)\"");
        assert_eq!(cell("＝1+1"), "\"'＝1+1\"");
        assert_eq!(cell("\u{202e}\u{2066}－2"), "\"'\u{202e}\u{2066}－2\"");
        assert_eq!(cell("great = good"), "great = good");
    }
}
