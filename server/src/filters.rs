//! What a report covers, as a query string or as `touchpoint export`
//! flags: the grouping columns and the filters (time range, page, stage,
//! touchpoint, metric, device, locale), parsed and checked into the store's terms. Dates
//! are days in the site's time zone.

use crate::error::{Error, Result};
use crate::store::{Filter, GroupBy, RollupFilter};
use crate::time::{format_ts, parse_ts};
use crate::zone::{Zone, parse_day};
use serde::Deserialize;
use touchpoint_wire::Metric;

/// Parses `group_by=page,stage`: known names, each once, in the order given.
/// `group_by`'s columns; an attribute (`attr:KEY`) must be one of the
/// site's `declared` attributes.
pub fn parse_group_by(s: Option<&str>, declared: &[String]) -> Result<Vec<GroupBy>> {
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
                    "group_by: {name:?} is not one of page, stage, touchpoint, day, week, device, locale, attr:KEY"
                ),
            )
        })?;
        if let GroupBy::Attribute(key) = &g
            && !declared.contains(key)
        {
            return Err(Error::bad_request(
                "invalid_group_by",
                format!(
                    "group_by: {name:?}: {key:?} is not one of the site's attributes ([site] attributes: {})",
                    if declared.is_empty() {
                        "none".to_owned()
                    } else {
                        declared.join(", ")
                    }
                ),
            ));
        }
        if matches!(g, GroupBy::Attribute(_))
            && out.iter().any(|o| matches!(o, GroupBy::Attribute(_)))
        {
            return Err(Error::bad_request(
                "invalid_group_by",
                "group_by: one attribute at a time (attr:KEY)",
            ));
        }
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
    /// Start: a date (2026-11-01, in the site's time zone, inclusive) or an RFC 3339 time.
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
    /// Only responses whose comment shows this emotion flag (frustration,
    /// delight, confusion); raw responses only: aggregate rows count each flag.
    #[arg(long)]
    pub flag: Option<String>,
    /// Only this device (desktop, mobile, tablet; unknown: none given). Not
    /// with an attribute: attributes are counted apart from devices.
    #[arg(long)]
    pub device: Option<String>,
    /// Only this locale (en-GB, de, …; unknown: none given). Not with an
    /// attribute.
    #[arg(long)]
    pub locale: Option<String>,
    /// Only responses whose comment holds these characters (case-insensitive,
    /// at most 200); raw responses and comments only.
    #[arg(long = "search")]
    pub q: Option<String>,
}

/// Longest search accepted (`q`), in characters.
pub const MAX_SEARCH_CHARS: usize = 200;

impl FilterArgs {
    /// The filter, with dates as days in `zone` (the site's).
    pub fn parse(&self, zone: &Zone) -> Result<Filter> {
        let range = parse_range(self.from.as_deref(), self.to.as_deref(), zone)?;
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
        let flag = some(&self.flag)
            .map(|f| {
                crate::emotion::FLAGS
                    .contains(&f.as_str())
                    .then_some(f.clone())
                    .ok_or_else(|| {
                        Error::bad_request(
                            "invalid_filter",
                            format!("flag: {f:?} is not one of frustration, delight, confusion"),
                        )
                    })
            })
            .transpose()?;
        // Devices and locales are short words as the widget sends them.
        let word = |name: &str, v: &Option<String>| -> Result<Option<String>> {
            some(v)
                .map(|w| {
                    (w.len() <= 35
                        && w.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
                    .then_some(w.clone())
                    .ok_or_else(|| {
                        Error::bad_request(
                            "invalid_filter",
                            format!("{name}: {w:?} is not a device or locale name (letters, digits, '-', at most 35)"),
                        )
                    })
                })
                .transpose()
        };
        let search = some(&self.q)
            .map(|q| {
                if q.chars().count() > MAX_SEARCH_CHARS {
                    return Err(Error::bad_request(
                        "invalid_filter",
                        format!("q: a search has at most {MAX_SEARCH_CHARS} characters"),
                    ));
                }
                // A LIKE pattern: the words anywhere, `%`, `_` and `\` as themselves.
                let escaped = q
                    .to_lowercase()
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_");
                Ok(format!("%{escaped}%"))
            })
            .transpose()?;
        Ok(Filter {
            page,
            flag,
            search,
            device: word("device", &self.device)?,
            locale: word("locale", &self.locale)?,
            stage: some(&self.stage),
            touchpoint: some(&self.touchpoint),
            metric,
            ..range
        })
    }
}

/// Parses `from`/`to`: an RFC 3339 time, or a `YYYY-MM-DD` date, a day in
/// `zone`. A date in `to` includes that whole day.
pub fn parse_range(from: Option<&str>, to: Option<&str>, zone: &Zone) -> Result<Filter> {
    let parse = |name: &str, s: &str, end_of_day: bool| -> Result<String> {
        let bound = match parse_ts(s) {
            Some(t) => Some(format_ts(t)),
            None => parse_day(s)
                .and_then(|day| {
                    if end_of_day {
                        day.tomorrow().ok()
                    } else {
                        Some(day)
                    }
                })
                .and_then(|day| zone.start_of(day)),
        };
        bound.ok_or_else(|| {
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

/// The rollup rows a filter covers: its bounds as local days. Rollups
/// keep whole days, so a bound inside a day (a time, not a date) is refused
/// with the reason; raw exports take any time.
pub fn rollup_filter(filter: &Filter, zone: &Zone) -> Result<RollupFilter> {
    if filter.flag.is_some() {
        return Err(Error::bad_request(
            "invalid_filter",
            "flag: filters raw responses (responses.csv); aggregate rows count each flag instead",
        ));
    }
    if filter.search.is_some() {
        return Err(Error::bad_request(
            "invalid_filter",
            "q: searches the comments of raw responses (responses.csv, comments); aggregate rows do not keep comments",
        ));
    }
    let day = |name: &str, bound: &Option<String>| -> Result<Option<String>> {
        bound
            .as_deref()
            .map(|ts| {
                zone.day_starting_at(ts).map(|d| d.to_string()).ok_or_else(|| {
                    Error::bad_request(
                        "invalid_range",
                        format!(
                            "{name}: reports count whole days in the site's time zone ({}); give a date such as 2026-11-01, or a time at the start of a day there",
                            zone.name()
                        ),
                    )
                })
            })
            .transpose()
    };
    Ok(RollupFilter {
        from_day: day("from", &filter.from)?,
        to_day: day("to", &filter.to)?,
        page: filter.page.clone(),
        stage: filter.stage.clone(),
        touchpoint: filter.touchpoint.clone(),
        metric: filter.metric.clone(),
        attribute: None,
        device: filter.device.clone(),
        locale: filter.locale.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_by_and_range_parsing() {
        assert_eq!(
            parse_group_by(Some("page, stage,page"), &[]).unwrap(),
            [GroupBy::Page, GroupBy::Stage]
        );
        assert!(
            parse_group_by(Some("pages"), &[])
                .unwrap_err()
                .to_string()
                .contains("\"pages\"")
        );
        let utc = Zone::utc();
        let r = parse_range(Some("2026-11-01"), Some("2026-11-30"), &utc).unwrap();
        assert_eq!(r.from.as_deref(), Some("2026-11-01T00:00:00.000Z"));
        assert_eq!(r.to.as_deref(), Some("2026-12-01T00:00:00.000Z"));
        let r = parse_range(None, Some("2026-11-30T12:00:00+02:00"), &utc).unwrap();
        assert_eq!(r.to.as_deref(), Some("2026-11-30T10:00:00.000Z"));
        assert!(parse_range(Some("yesterday"), None, &utc).is_err());
        assert!(parse_range(Some("2026-11-02"), Some("2026-11-01"), &utc).is_err());
        assert_eq!(parse_group_by(Some("week"), &[]).unwrap(), [GroupBy::Week]);
        let plan = ["plan".to_owned()];
        assert_eq!(
            parse_group_by(Some("attr:plan,day"), &plan).unwrap(),
            [GroupBy::Attribute("plan".into()), GroupBy::Day]
        );
        for (bad, says) in [
            (
                "attr:tier",
                "\"tier\" is not one of the site's attributes ([site] attributes: plan)",
            ),
            ("attr:Plan", "is not one of page"),
            ("attr:plan,attr:plan", "one attribute at a time"),
        ] {
            let err = parse_group_by(Some(bad), &plan).unwrap_err().to_string();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }

    #[test]
    fn dates_are_days_in_the_site_time_zone() {
        let berlin = Zone::parse("Europe/Berlin").unwrap();
        let r = parse_range(Some("2026-11-01"), Some("2026-11-30"), &berlin).unwrap();
        assert_eq!(r.from.as_deref(), Some("2026-10-31T23:00:00.000Z"));
        assert_eq!(r.to.as_deref(), Some("2026-11-30T23:00:00.000Z"));
        let days = rollup_filter(&r, &berlin).unwrap();
        assert_eq!(
            (days.from_day.as_deref(), days.to_day.as_deref()),
            (Some("2026-11-01"), Some("2026-12-01"))
        );
        // A time at a Berlin midnight is a day there; any other time is not.
        let r = parse_range(Some("2026-11-01T00:00:00+01:00"), None, &berlin).unwrap();
        assert_eq!(
            rollup_filter(&r, &berlin).unwrap().from_day.as_deref(),
            Some("2026-11-01")
        );
        let r = parse_range(Some("2026-11-01T06:00:00Z"), None, &berlin).unwrap();
        let err = rollup_filter(&r, &berlin).unwrap_err().to_string();
        assert!(
            err.contains("from: reports count whole days") && err.contains("Europe/Berlin"),
            "{err}"
        );
    }
}
