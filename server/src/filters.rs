//! What a report covers, as a query string or as `touchpoint export`
//! flags: the grouping columns and the filters (time range, page, stage,
//! touchpoint, metric), parsed and checked into the store's terms.

use crate::error::{Error, Result};
use crate::store::{Filter, GroupBy};
use crate::time::parse_bound;
use serde::Deserialize;
use touchpoint_wire::Metric;

/// Parses `group_by=page,stage`: known names, each once, in the order given.
pub fn parse_group_by(s: Option<&str>) -> Result<Vec<GroupBy>> {
    let mut out = Vec::new();
    for name in s
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        let g = GroupBy::parse(name).ok_or_else(|| {
            Error::bad_request(
                "invalid_group_by",
                format!(
                    "group_by: {name:?} is not one of page, stage, touchpoint, day, device, locale"
                ),
            )
        })?;
        if !out.contains(&g) {
            out.push(g);
        }
    }
    Ok(out)
}

/// The filters every aggregate and export accepts, as a query string or as
/// `touchpoint export` flags.
#[derive(Clone, Debug, Default, Deserialize, clap::Args)]
pub struct FilterArgs {
    /// Start: a date (2026-11-01, UTC, inclusive) or an RFC 3339 time.
    #[arg(long)]
    pub from: Option<String>,
    /// End: a date (included whole) or an RFC 3339 time (exclusive).
    #[arg(long)]
    pub to: Option<String>,
    /// Only this page (a path such as /pricing, or a URL).
    #[arg(long)]
    pub page: Option<String>,
    /// Only this journey stage.
    #[arg(long)]
    pub stage: Option<String>,
    /// Only this touchpoint.
    #[arg(long)]
    pub touchpoint: Option<String>,
    /// Only this metric (nps, csat, ces, thumbs, emoji, text, choice).
    #[arg(long)]
    pub metric: Option<String>,
}

impl FilterArgs {
    pub fn parse(&self) -> Result<Filter> {
        let range = parse_range(self.from.as_deref(), self.to.as_deref())?;
        let some = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let page = some(&self.page)
            .map(|p| {
                touchpoint_wire::page::normalize_page(&p).ok_or_else(|| {
                    Error::bad_request(
                        "invalid_filter",
                        format!("page: {p:?} is neither a path (/pricing) nor a URL"),
                    )
                })
            })
            .transpose()?;
        let metric = some(&self.metric)
            .map(|m| {
                Metric::parse(&m).map(|m| m.as_str().to_owned()).ok_or_else(|| {
                    Error::bad_request(
                        "invalid_filter",
                        format!("metric: {m:?} is not one of nps, csat, ces, thumbs, emoji, text, choice"),
                    )
                })
            })
            .transpose()?;
        Ok(Filter {
            page,
            stage: some(&self.stage),
            touchpoint: some(&self.touchpoint),
            metric,
            ..range
        })
    }
}

/// Parses `from`/`to`: an RFC 3339 time, or a `YYYY-MM-DD` date (UTC). A
/// date in `to` includes that whole day.
pub fn parse_range(from: Option<&str>, to: Option<&str>) -> Result<Filter> {
    let parse = |name: &str, s: &str, end_of_day: bool| -> Result<String> {
        parse_bound(s, end_of_day).ok_or_else(|| {
            Error::bad_request(
                "invalid_range",
                format!("{name}: {s:?} is neither a date (2026-11-22) nor an RFC 3339 time"),
            )
        })
    };
    let range = Filter {
        from: from
            .filter(|s| !s.is_empty())
            .map(|s| parse("from", s, false))
            .transpose()?,
        to: to
            .filter(|s| !s.is_empty())
            .map(|s| parse("to", s, true))
            .transpose()?,
        ..Filter::default()
    };
    if let (Some(f), Some(t)) = (&range.from, &range.to)
        && f >= t
    {
        return Err(Error::bad_request(
            "invalid_range",
            "from: must be before to",
        ));
    }
    Ok(range)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_by_and_range_parsing() {
        assert_eq!(
            parse_group_by(Some("page, stage,page")).unwrap(),
            [GroupBy::Page, GroupBy::Stage]
        );
        assert!(
            parse_group_by(Some("pages"))
                .unwrap_err()
                .to_string()
                .contains("\"pages\"")
        );
        let r = parse_range(Some("2026-11-01"), Some("2026-11-30")).unwrap();
        assert_eq!(r.from.as_deref(), Some("2026-11-01T00:00:00.000Z"));
        assert_eq!(r.to.as_deref(), Some("2026-12-01T00:00:00.000Z"));
        let r = parse_range(None, Some("2026-11-30T12:00:00+02:00")).unwrap();
        assert_eq!(r.to.as_deref(), Some("2026-11-30T10:00:00.000Z"));
        assert!(parse_range(Some("yesterday"), None).is_err());
        assert!(parse_range(Some("2026-11-02"), Some("2026-11-01")).is_err());
    }
}
