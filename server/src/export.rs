//! Exports: aggregate rows and raw responses as CSV or NDJSON. Text cells
//! that a spreadsheet would read as a formula are neutralised.

use crate::storage::{GroupBy, ResponseRow};
use std::fmt::Write as _;
use touchpoint_wire::AggregateRow;

/// Export formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Ndjson,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Ndjson => "application/x-ndjson",
        }
    }
}

/// Columns after the group columns, in contract order.
pub const AGGREGATE_COLUMNS: [&str; 17] = [
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

pub fn aggregates(format: Format, group_by: &[GroupBy], rows: &[AggregateRow]) -> String {
    match format {
        Format::Ndjson => ndjson(rows),
        Format::Csv => {
            let mut out = String::new();
            let header: Vec<&str> = group_by
                .iter()
                .map(|g| g.as_str())
                .chain(AGGREGATE_COLUMNS)
                .collect();
            line(&mut out, header.iter().map(|h| Cell::Text(h)));
            for r in rows {
                let groups = group_by.iter().map(|g| match g {
                    GroupBy::Page => r.page.as_deref(),
                    GroupBy::Stage => r.stage.as_deref(),
                    GroupBy::Touchpoint => r.touchpoint.as_deref(),
                    GroupBy::Day => r.day.as_deref(),
                    GroupBy::Device => r.device.as_deref(),
                    GroupBy::Locale => r.locale.as_deref(),
                });
                let distribution = serde_json::to_string(&r.distribution).unwrap_or_default();
                let num = |v: Option<f64>| v.map_or(Cell::Empty, Cell::Float);
                let int = |v: Option<u64>| v.map_or(Cell::Empty, Cell::Int);
                let cells = groups.map(|g| g.map_or(Cell::Empty, Cell::Text)).chain([
                    r.metric.map_or(Cell::Empty, |m| Cell::Text(m.as_str())),
                    Cell::Int(r.responses),
                    Cell::Int(r.impressions),
                    num(r.response_rate),
                    num(r.mean),
                    Cell::Text(&distribution),
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
                ]);
                line(&mut out, cells);
            }
            out
        }
    }
}

pub fn responses(format: Format, rows: &[ResponseRow]) -> String {
    match format {
        Format::Ndjson => {
            let mut out = String::new();
            for r in rows {
                let value = serde_json::json!({
                    "id": r.id, "ts": r.ts, "page": r.page, "stage": r.stage, "touchpoint": r.touchpoint,
                    "metric": r.metric, "score": r.score, "comment": r.comment,
                    "choices": r.choices.as_deref().and_then(|c| serde_json::from_str::<serde_json::Value>(c).ok()),
                    "locale": r.locale, "device": r.device, "flags": [],
                });
                out.push_str(&value.to_string());
                out.push('\n');
            }
            out
        }
        Format::Csv => {
            let mut out = String::new();
            line(&mut out, RESPONSE_COLUMNS.iter().map(|h| Cell::Text(h)));
            for r in rows {
                line(
                    &mut out,
                    [
                        Cell::Text(&r.id),
                        Cell::Text(&r.ts),
                        Cell::Text(&r.page),
                        Cell::Text(&r.stage),
                        opt(&r.touchpoint),
                        opt(&r.metric),
                        r.score.map_or(Cell::Empty, Cell::Signed),
                        opt(&r.comment),
                        opt(&r.choices),
                        opt(&r.locale),
                        opt(&r.device),
                        Cell::Empty,
                    ],
                );
            }
            out
        }
    }
}

fn opt(v: &Option<String>) -> Cell<'_> {
    v.as_deref().map_or(Cell::Empty, Cell::Text)
}

fn ndjson<T: serde::Serialize>(rows: &[T]) -> String {
    let mut out = String::new();
    for r in rows {
        out.push_str(&serde_json::to_string(r).unwrap_or_default());
        out.push('\n');
    }
    out
}

enum Cell<'a> {
    Empty,
    Text(&'a str),
    Int(u64),
    Signed(i64),
    Float(f64),
}

fn line<'a>(out: &mut String, cells: impl IntoIterator<Item = Cell<'a>>) {
    for (i, cell) in cells.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match cell {
            Cell::Empty => {}
            Cell::Int(v) => {
                let _ = write!(out, "{v}");
            }
            Cell::Signed(v) => {
                let _ = write!(out, "{v}");
            }
            Cell::Float(v) => {
                let _ = write!(out, "{v}");
            }
            Cell::Text(s) => text_cell(out, s),
        }
    }
    out.push_str("\r\n");
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

    #[test]
    fn negative_scores_stay_numbers() {
        let rows = [AggregateRow {
            nps: Some(-50.0),
            metric: Some(touchpoint_wire::Metric::Nps),
            ..Default::default()
        }];
        let csv = aggregates(Format::Csv, &[], &rows);
        assert!(csv.lines().nth(1).unwrap().contains(",-50,"), "{csv}");
    }
}
