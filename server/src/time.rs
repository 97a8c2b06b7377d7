//! Times as the store keeps them: UTC RFC 3339 text with milliseconds
//! (`2026-11-22T10:00:00.000Z`), which sorts as text on both databases.

use ::time::{OffsetDateTime, UtcOffset, format_description::well_known::Rfc3339};

/// Now, as stored.
pub fn now() -> String {
    format_ts(OffsetDateTime::now_utc())
}

/// A time as stored. Written digit by digit: every stored event and
/// its receipt time go through here, and `format!` with padded fields
/// costs several times more.
pub fn format_ts(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    let (year, month, day) = t.to_calendar_date();
    let (hour, minute, second, milli) = t.to_hms_milli();
    // Four digits for every year `time` keeps by default; another (a
    // sign, a fifth digit) as `format!` writes it.
    let year = match u32::try_from(year) {
        Ok(y) if y <= 9999 => y,
        _ => {
            return format!(
                "{year:04}-{:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{milli:03}Z",
                u8::from(month)
            );
        }
    };
    let mut out = *b"0000-00-00T00:00:00.000Z";
    let mut put = |at: usize, width: usize, mut value: u32| {
        for i in (at..at + width).rev() {
            out[i] = b'0' + (value % 10) as u8;
            value /= 10;
        }
    };
    put(0, 4, year);
    put(5, 2, u32::from(u8::from(month)));
    put(8, 2, u32::from(day));
    put(11, 2, u32::from(hour));
    put(14, 2, u32::from(minute));
    put(17, 2, u32::from(second));
    put(20, 3, u32::from(milli));
    String::from_utf8(out.to_vec()).expect("ASCII digits")
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
        for text in [
            "0001-01-01T00:00:00Z",
            "1999-12-31T23:59:59.999Z",
            "2024-02-29T09:05:07.042-00:30",
        ] {
            let t = parse_ts(text).unwrap().to_offset(UtcOffset::UTC);
            let padded = format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second(),
                t.millisecond()
            );
            assert_eq!(format_ts(t), padded);
        }
    }
}
