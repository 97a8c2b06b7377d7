//! Times as the store keeps them: UTC RFC 3339 text with milliseconds
//! (`2026-11-22T10:00:00.000Z`), which sorts as text on both databases.

use ::time::{Date, OffsetDateTime, UtcOffset, format_description::well_known::Rfc3339};

/// Now, as stored.
pub fn now() -> String {
    format_ts(OffsetDateTime::now_utc())
}

/// A time as stored.
pub fn format_ts(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// An RFC 3339 time, or `None`.
pub fn parse_ts(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

/// A bound of a time range as stored: an RFC 3339 time as it is, or a
/// `YYYY-MM-DD` date (UTC) at its start — or, with `end_of_day`, at the
/// start of the next day, so that a range's end date is included whole.
pub fn parse_bound(s: &str, end_of_day: bool) -> Option<String> {
    if let Some(t) = parse_ts(s) {
        return Some(format_ts(t));
    }
    let fmt = ::time::macros::format_description!("[year]-[month]-[day]");
    let date = Date::parse(s, &fmt).ok()?;
    let date = if end_of_day {
        date.next_day().unwrap_or(date)
    } else {
        date
    };
    Some(format_ts(date.midnight().assume_utc()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_times_are_utc_with_milliseconds() {
        let t = parse_ts("2026-11-22T12:30:00.5+02:00").unwrap();
        assert_eq!(format_ts(t), "2026-11-22T10:30:00.500Z");
        assert_eq!(
            parse_bound("2026-11-22", false).unwrap(),
            "2026-11-22T00:00:00.000Z"
        );
        assert_eq!(
            parse_bound("2026-11-22", true).unwrap(),
            "2026-11-23T00:00:00.000Z"
        );
        assert_eq!(parse_bound("22/11/2026", false), None);
    }
}
