//! Times as the store keeps them: UTC RFC 3339 text with milliseconds
//! (`2026-11-22T10:00:00.000Z`), which sorts as text on both databases.

use ::time::{OffsetDateTime, UtcOffset, format_description::well_known::Rfc3339};

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_times_are_utc_with_milliseconds() {
        let t = parse_ts("2026-11-22T12:30:00.5+02:00").unwrap();
        assert_eq!(format_ts(t), "2026-11-22T10:30:00.500Z");
    }
}
