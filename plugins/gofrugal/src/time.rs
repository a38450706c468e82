//! Dates and times: the vendor's local format `yyyy-MM-dd HH:mm:ss` (at the
//! store's `utc_offset`) and the hub's RFC 3339.
//!
//! A connector has no clock and needs no time zone database: the vendor
//! format is a wall-clock time at one fixed offset, so converting is
//! calendar arithmetic at that offset, which `chrono` does (without its
//! clock and time zone features). The text forms are read here, strictly:
//! exactly two digits per field, the separators in place, and only what
//! RFC 3339 and the vendor write (chrono's own parsers take one-digit
//! fields and more).

use std::fmt;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, Timelike, Utc};

/// A fixed offset from UTC, in minutes (`+05:30` is 330).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offset(i32);

/// The offset of the vendor's local times when the store config names none.
pub const DEFAULT_OFFSET: Offset = Offset(330);

impl Offset {
    /// Parses `+05:30`, `-04:00` or `Z`.
    pub fn parse(raw: &str) -> Option<Offset> {
        let raw = raw.trim();
        if raw.eq_ignore_ascii_case("z") {
            return Some(Offset(0));
        }
        let sign = match raw.as_bytes().first()? {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let (hours, minutes) = raw.get(1..)?.split_once(':')?;
        let hours = two_digits(hours).filter(|h| *h <= 23)?;
        let minutes = two_digits(minutes).filter(|m| *m <= 59)?;
        Some(Offset(sign * (hours * 60 + minutes) as i32))
    }

    fn fixed(self) -> FixedOffset {
        FixedOffset::east_opt(self.0 * 60).expect("an offset is less than a day")
    }
}

impl fmt::Display for Offset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { '-' } else { '+' };
        let m = self.0.unsigned_abs();
        write!(f, "{sign}{:02}:{:02}", m / 60, m % 60)
    }
}

/// `yyyy-MM-dd?HH:mm:ss` where `?` is one of `separators`, a real date and
/// time of day (years 0000 to 9999); the rest of the text (fraction, offset)
/// is returned unread.
fn civil<'a>(raw: &'a str, separators: &[u8]) -> Option<(NaiveDateTime, &'a str)> {
    let b = raw.as_bytes();
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || !separators.contains(&b[10])
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(
        i32::try_from(digits(raw.get(0..4)?)?).ok()?,
        two_digits(raw.get(5..7)?)?,
        two_digits(raw.get(8..10)?)?,
    )?;
    let time = date.and_hms_opt(
        two_digits(raw.get(11..13)?)?,
        two_digits(raw.get(14..16)?)?,
        two_digits(raw.get(17..19)?)?,
    )?;
    Some((time, raw.get(19..)?))
}

/// The wall-clock time at `offset` in the vendor's field order, or `None`
/// past the four-digit years.
fn fields(at: DateTime<Utc>, offset: Offset) -> Option<(NaiveDateTime, i32)> {
    let local = at.with_timezone(&offset.fixed()).naive_local();
    let year = local.year();
    (0..=9999).contains(&year).then_some((local, year))
}

/// An instant, to the nanosecond.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Instant(DateTime<Utc>);

impl Instant {
    fn at(local: NaiveDateTime, offset: Offset) -> Option<Instant> {
        let at = local.and_local_timezone(offset.fixed()).single()?;
        Some(Instant(at.with_timezone(&Utc)))
    }

    /// Parses RFC 3339: `2026-11-27T10:00:00Z`, `2026-11-27T15:30:00.25+05:30`.
    pub fn parse_rfc3339(raw: &str) -> Option<Instant> {
        let raw = raw.trim();
        let (local, rest) = civil(raw, b"T")?;
        let (nanos, zone) = match rest.strip_prefix('.') {
            Some(fraction) => {
                let end = fraction
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(fraction.len());
                let (digits, zone) = fraction.split_at(end);
                (nanos(digits)?, zone)
            }
            None => (0, rest),
        };
        Instant::at(local.with_nanosecond(nanos)?, Offset::parse(zone)?)
    }

    /// Parses a local time without a zone, a wall-clock time at `offset`:
    /// the vendor's `yyyy-MM-dd HH:mm:ss`, also with `T` for the space and
    /// with a fraction of a second (`2022-11-23 15:04:05.123456`, as
    /// Python's `str(datetime)` writes it), which is dropped.
    pub fn parse_vendor(raw: &str, offset: Offset) -> Option<Instant> {
        let (local, rest) = civil(raw.trim(), b" T")?;
        let rest = match rest.strip_prefix('.') {
            Some(fraction) => {
                let digits = !fraction.is_empty() && fraction.bytes().all(|b| b.is_ascii_digit());
                if !digits {
                    return None;
                }
                ""
            }
            None => rest,
        };
        if !rest.is_empty() {
            return None;
        }
        Instant::at(local, offset)
    }

    /// The vendor's `yyyy-MM-dd HH:mm:ss` at `offset` (fractions of a second
    /// are dropped).
    pub fn vendor(self, offset: Offset) -> Option<String> {
        let (t, year) = fields(self.0, offset)?;
        Some(format!(
            "{year:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ))
    }

    /// RFC 3339 written at `offset`, to the second.
    pub fn rfc3339(self, offset: Offset) -> Option<String> {
        let (t, year) = fields(self.0, offset)?;
        Some(format!(
            "{year:04}-{:02}-{:02}T{:02}:{:02}:{:02}{offset}",
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ))
    }
}

/// A time a storefront sends: a local time at `offset` (see
/// [`Instant::parse_vendor`]), or RFC 3339. Answers RFC 3339 for the hub (a
/// local time gains the offset and loses its fraction of a second).
pub fn to_rfc3339(raw: &str, offset: Offset) -> Option<String> {
    match Instant::parse_vendor(raw, offset) {
        Some(instant) => instant.rfc3339(offset),
        None => Instant::parse_rfc3339(raw).map(|_| raw.trim().to_string()),
    }
}

/// The hub's RFC 3339 time in the vendor format at `offset`.
pub fn to_vendor(rfc3339: &str, offset: Offset) -> Option<String> {
    Instant::parse_rfc3339(rfc3339)?.vendor(offset)
}

fn digits(s: &str) -> Option<u32> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

fn two_digits(s: &str) -> Option<u32> {
    (s.len() == 2).then(|| digits(s)).flatten()
}

/// Nanoseconds from the digits after the decimal point (at most 9 count).
fn nanos(fraction: &str) -> Option<u32> {
    if fraction.is_empty() {
        return None;
    }
    let kept = &fraction[..fraction.len().min(9)];
    let value = digits(kept)?;
    Some(value * 10u32.pow(9 - kept.len() as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    const IST: Offset = DEFAULT_OFFSET;

    #[test]
    fn offsets() {
        assert_eq!(Offset::parse("+05:30"), Some(IST));
        assert_eq!(Offset::parse("-04:00"), Some(Offset(-240)));
        assert_eq!(Offset::parse("Z"), Some(Offset(0)));
        assert_eq!(Offset(-570).to_string(), "-09:30");
        for bad in ["05:30", "+5:30", "+05:60", "+24:00", "+0530", ""] {
            assert_eq!(Offset::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn vendor_times_gain_the_offset() {
        assert_eq!(
            to_rfc3339("2026-11-01 00:00:00", IST).as_deref(),
            Some("2026-11-01T00:00:00+05:30")
        );
        assert_eq!(
            to_rfc3339("2026-11-01T00:00:00Z", IST).as_deref(),
            Some("2026-11-01T00:00:00Z")
        );
        for bad in [
            "2026-02-29 10:00:00",
            "2026-11-01",
            "2026-11-01 24:00:00",
            "01-11-2026 10:00:00",
            "2026-11-01 10:00:00.",
            "2026-11-01 10:00:00.12a",
            "2026-11-01 10:00:00 +05:30",
            "2026-11-01T10:00:00+0530",
        ] {
            assert_eq!(to_rfc3339(bad, IST), None, "{bad}");
        }
    }

    #[test]
    fn local_times_without_a_zone_drop_their_fraction() {
        for (raw, at) in [
            // Python's str(datetime.now()).
            ("2022-11-23 15:04:05.123456", "2022-11-23T15:04:05+05:30"),
            ("2022-11-23 15:04:05.9", "2022-11-23T15:04:05+05:30"),
            // ISO without a zone (`T`), with and without a fraction.
            ("2026-09-05T10:00:00", "2026-09-05T10:00:00+05:30"),
            ("2026-09-05T10:00:00.000", "2026-09-05T10:00:00+05:30"),
            (" 2026-09-05 10:00:00 ", "2026-09-05T10:00:00+05:30"),
        ] {
            assert_eq!(to_rfc3339(raw, IST).as_deref(), Some(at), "{raw}");
        }
        assert_eq!(
            to_rfc3339("2022-11-23 15:04:05.123456", Offset(0)).as_deref(),
            Some("2022-11-23T15:04:05+00:00")
        );
        // With a zone it is RFC 3339, kept as it is (fraction included).
        assert_eq!(
            to_rfc3339("2026-09-05T10:00:00.000Z", IST).as_deref(),
            Some("2026-09-05T10:00:00.000Z")
        );
    }

    #[test]
    fn hub_times_in_vendor_format() {
        assert_eq!(
            to_vendor("2026-11-27T20:45:10.999999Z", IST).as_deref(),
            Some("2026-11-28 02:15:10")
        );
        assert_eq!(
            to_vendor("2024-02-28T23:00:00-02:00", Offset(0)).as_deref(),
            Some("2024-02-29 01:00:00")
        );
        assert_eq!(
            to_vendor("2026-01-01T02:00:00+05:30", Offset(-300)).as_deref(),
            Some("2025-12-31 15:30:00")
        );
        assert_eq!(to_vendor("yesterday", IST), None);
    }

    #[test]
    fn instants_order() {
        let bound = Instant::parse_vendor("2026-11-01 00:00:00", IST).unwrap();
        let just_after = Instant::parse_rfc3339("2026-10-31T18:30:00.5Z").unwrap();
        let before = Instant::parse_rfc3339("2026-10-31T18:29:59Z").unwrap();
        assert!(just_after >= bound);
        assert!(before < bound);
        assert_eq!(
            Instant::parse_rfc3339("1970-01-01T00:00:00Z")
                .unwrap()
                .0
                .timestamp(),
            0
        );
    }
}
