//! A site's time zone (`[site] timezone`, an IANA name, UTC by default):
//! the days its rollups are kept in, its date filters mean and its trends
//! are counted by. Stored times stay UTC; only days are local.

use ::time::OffsetDateTime;
use jiff::civil::Date;
use jiff::tz::TimeZone;

/// A site's time zone, by its canonical IANA name.
#[derive(Clone, Debug)]
pub struct Zone {
    name: String,
    tz: TimeZone,
    utc: bool,
}

impl PartialEq for Zone {
    fn eq(&self, other: &Zone) -> bool {
        self.name == other.name
    }
}

impl Default for Zone {
    fn default() -> Zone {
        Zone::utc()
    }
}

/// The name a site without `timezone` has.
pub const UTC: &str = "UTC";

impl Zone {
    pub fn utc() -> Zone {
        Zone {
            name: UTC.to_owned(),
            tz: TimeZone::UTC,
            utc: true,
        }
    }

    /// The zone an IANA name (any case) names, or `None`. The bundled time
    /// zone database answers, so a host without tzdata needs nothing.
    pub fn parse(name: &str) -> Option<Zone> {
        if name.eq_ignore_ascii_case(UTC) {
            return Some(Zone::utc());
        }
        // Fixed offsets and POSIX rules are not names; only the database's are.
        if name.is_empty() || name.len() > 64 || !name.bytes().all(is_name_byte) {
            return None;
        }
        let tz = jiff::tz::db().get(name).ok()?;
        let canonical = tz.iana_name().unwrap_or(name).to_owned();
        Some(Zone {
            utc: canonical == UTC,
            name: canonical,
            tz,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The local day (`YYYY-MM-DD`) of a stored time (UTC RFC 3339 with
    /// milliseconds), or `None` when it does not parse.
    pub fn day_of(&self, ts: &str) -> Option<String> {
        if self.utc && ts.len() >= 10 && ts.ends_with('Z') {
            // Stored times are UTC: their first ten characters are the day.
            return Some(ts[..10].to_owned());
        }
        let t: jiff::Timestamp = ts.parse().ok()?;
        Some(self.tz.to_datetime(t).date().to_string())
    }

    /// The stored time (UTC) at which `day` starts here: local midnight, or
    /// the first instant of the day where a change of clocks skips midnight.
    pub fn start_of(&self, day: Date) -> Option<String> {
        let start = day
            .to_zoned_datetime(self.tz.clone())
            .ok()?
            .start_of_day()
            .ok()?
            .timestamp();
        let t = OffsetDateTime::from_unix_timestamp_nanos(start.as_nanosecond()).ok()?;
        Some(crate::time::format_ts(t))
    }

    /// The end of the `minutes`-long window (a divisor of a day) that a
    /// time falls in, as stored: windows are counted on the local clock
    /// from midnight, so a daily digest closes at local midnight and an
    /// hourly one on the local hour. Where a change of clocks skips or
    /// repeats the end, the first instant at or after it.
    pub fn window_end(&self, t: OffsetDateTime, minutes: u32) -> Option<String> {
        let minutes = i64::from(minutes.clamp(1, 1440));
        let at = jiff::Timestamp::from_nanosecond(t.unix_timestamp_nanos()).ok()?;
        let local = self.tz.to_datetime(at);
        let since_midnight = i64::from(local.hour()) * 60 + i64::from(local.minute());
        let end = (since_midnight / minutes + 1) * minutes;
        let end = local
            .date()
            .to_datetime(jiff::civil::Time::midnight())
            .checked_add(jiff::Span::new().minutes(end))
            .ok()?;
        let end = self.tz.to_ambiguous_timestamp(end).later().ok()?;
        let end = OffsetDateTime::from_unix_timestamp_nanos(end.as_nanosecond()).ok()?;
        Some(crate::time::format_ts(end))
    }

    /// The day a stored time starts, when it is the start of a local day.
    pub fn day_starting_at(&self, ts: &str) -> Option<Date> {
        let day: Date = self.day_of(ts)?.parse().ok()?;
        (self.start_of(day)?.as_str() == ts).then_some(day)
    }
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'-' | b'+')
}

/// A `YYYY-MM-DD` day, or `None`.
pub fn parse_day(s: &str) -> Option<Date> {
    if s.len() != 10 {
        return None;
    }
    s.parse().ok()
}

/// The ISO week (`2026-W47`, Monday to Sunday) a `YYYY-MM-DD` day is in.
pub fn week_of(day: &str) -> Option<String> {
    let week = parse_day(day)?.iso_week_date();
    Some(format!("{:04}-W{:02}", week.year(), week.week()))
}

/// The Monday a day's ISO week starts on.
pub fn monday_of(day: Date) -> Date {
    let back = i64::from(day.weekday().to_monday_zero_offset());
    day.checked_sub(jiff::Span::new().days(back)).unwrap_or(day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_iana_and_canonical() {
        assert_eq!(
            Zone::parse("europe/berlin").unwrap().name(),
            "Europe/Berlin"
        );
        assert_eq!(Zone::parse("utc").unwrap().name(), "UTC");
        assert!(Zone::parse("Europe/Berln").is_none());
        assert!(Zone::parse("+02:00").is_none());
        assert!(Zone::parse("").is_none());
        assert!(Zone::parse("CET-1CEST,M3.5.0,M10.5.0/3").is_none());
    }

    #[test]
    fn days_are_local() {
        let berlin = Zone::parse("Europe/Berlin").unwrap();
        // 23:30 UTC in November is 00:30 the next day in Berlin (UTC+1).
        assert_eq!(
            berlin.day_of("2026-11-21T23:30:00.000Z").as_deref(),
            Some("2026-11-22")
        );
        assert_eq!(
            Zone::utc().day_of("2026-11-21T23:30:00.000Z").as_deref(),
            Some("2026-11-21")
        );
        // Summer time: UTC+2.
        assert_eq!(
            berlin.day_of("2026-07-01T21:59:59.999Z").as_deref(),
            Some("2026-07-01")
        );
        assert_eq!(
            berlin.day_of("2026-07-01T22:00:00.000Z").as_deref(),
            Some("2026-07-02")
        );
        let day = parse_day("2026-11-22").unwrap();
        assert_eq!(
            berlin.start_of(day).as_deref(),
            Some("2026-11-21T23:00:00.000Z")
        );
        assert_eq!(
            berlin.day_starting_at("2026-11-21T23:00:00.000Z"),
            Some(day)
        );
        assert_eq!(berlin.day_starting_at("2026-11-22T00:00:00.000Z"), None);
        // Where clocks skip midnight, the day starts at the first instant it has.
        let havana = Zone::parse("America/Havana").unwrap();
        let spring = parse_day("2026-03-08").unwrap();
        let start = havana.start_of(spring).unwrap();
        assert_eq!(havana.day_of(&start).as_deref(), Some("2026-03-08"));
        assert_eq!(havana.day_starting_at(&start), Some(spring));
    }

    #[test]
    fn digest_windows_follow_the_local_clock() {
        let t = |s: &str| crate::time::parse_ts(s).unwrap();
        let utc = Zone::utc();
        assert_eq!(
            utc.window_end(t("2026-11-22T10:07:30Z"), 15).as_deref(),
            Some("2026-11-22T10:15:00.000Z")
        );
        // A time on a boundary opens the next window.
        assert_eq!(
            utc.window_end(t("2026-11-22T10:15:00Z"), 15).as_deref(),
            Some("2026-11-22T10:30:00.000Z")
        );
        assert_eq!(
            utc.window_end(t("2026-11-22T23:59:59Z"), 1).as_deref(),
            Some("2026-11-23T00:00:00.000Z")
        );
        // A daily digest closes at local midnight (Berlin, UTC+1 in November).
        let berlin = Zone::parse("Europe/Berlin").unwrap();
        assert_eq!(
            berlin
                .window_end(t("2026-11-22T10:00:00Z"), 1440)
                .as_deref(),
            Some("2026-11-22T23:00:00.000Z")
        );
        // Kathmandu is UTC+5:45: hourly windows close on its hour.
        let kathmandu = Zone::parse("Asia/Kathmandu").unwrap();
        assert_eq!(
            kathmandu
                .window_end(t("2026-11-22T10:00:00Z"), 60)
                .as_deref(),
            Some("2026-11-22T10:15:00.000Z")
        );
    }

    #[test]
    fn weeks_are_iso() {
        assert_eq!(week_of("2026-11-22").as_deref(), Some("2026-W47"));
        assert_eq!(week_of("2027-01-01").as_deref(), Some("2026-W53"));
        assert_eq!(week_of("2026-01-01").as_deref(), Some("2026-W01"));
        assert_eq!(
            monday_of(parse_day("2026-11-22").unwrap()).to_string(),
            "2026-11-16"
        );
        assert_eq!(parse_day("2026-11-2"), None);
    }
}
