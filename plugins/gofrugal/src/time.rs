//! Dates and times: the vendor's local format `yyyy-MM-dd HH:mm:ss` (at the
//! store's `utc_offset`) and the hub's RFC 3339.
//!
//! A connector has no clock and needs no time zone database: the vendor
//! format is a wall-clock time at one fixed offset, so converting is plain
//! calendar arithmetic on days since 1970-01-01 (proleptic Gregorian,
//! years 0000 to 9999).

use std::fmt;

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

    fn seconds(self) -> i64 {
        i64::from(self.0) * 60
    }
}

impl fmt::Display for Offset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { '-' } else { '+' };
        let m = self.0.unsigned_abs();
        write!(f, "{sign}{:02}:{:02}", m / 60, m % 60)
    }
}

/// A calendar date and wall-clock time, without an offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Civil {
    year: u32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
}

impl Civil {
    /// `yyyy-MM-dd?HH:mm:ss` where `?` is `separator`; the rest of the text
    /// (fraction, offset) is returned unread.
    fn parse<'a>(raw: &'a str, separators: &[u8]) -> Option<(Civil, &'a str)> {
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
        let civil = Civil {
            year: digits(raw.get(0..4)?)?,
            month: two_digits(raw.get(5..7)?)?,
            day: two_digits(raw.get(8..10)?)?,
            hour: two_digits(raw.get(11..13)?)?,
            minute: two_digits(raw.get(14..16)?)?,
            second: two_digits(raw.get(17..19)?)?,
        };
        let valid = (1..=12).contains(&civil.month)
            && civil.day >= 1
            && civil.day <= days_in_month(civil.year, civil.month)
            && civil.hour <= 23
            && civil.minute <= 59
            && civil.second <= 59;
        valid.then_some((civil, raw.get(19..)?))
    }

    /// Seconds since 1970-01-01T00:00:00 of this wall-clock time at UTC.
    fn seconds(self) -> i64 {
        days_from_civil(self.year, self.month, self.day) * 86_400
            + i64::from(self.hour * 3600 + self.minute * 60 + self.second)
    }

    fn from_seconds(seconds: i64) -> Option<Civil> {
        let days = seconds.div_euclid(86_400);
        let in_day = seconds.rem_euclid(86_400) as u32;
        let (year, month, day) = civil_from_days(days);
        let year = u32::try_from(year).ok().filter(|y| *y <= 9999)?;
        Some(Civil {
            year,
            month,
            day,
            hour: in_day / 3600,
            minute: in_day % 3600 / 60,
            second: in_day % 60,
        })
    }

    fn vendor(self) -> String {
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }

    fn rfc3339(self, offset: Offset) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{offset}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

/// An instant: seconds since the Unix epoch and nanoseconds within it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Instant {
    seconds: i64,
    nanos: u32,
}

impl Instant {
    /// Parses RFC 3339: `2026-11-27T10:00:00Z`, `2026-11-27T15:30:00.25+05:30`.
    pub fn parse_rfc3339(raw: &str) -> Option<Instant> {
        let raw = raw.trim();
        let (civil, rest) = Civil::parse(raw, b"T")?;
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
        let offset = Offset::parse(zone)?;
        Some(Instant {
            seconds: civil.seconds() - offset.seconds(),
            nanos,
        })
    }

    /// Parses a local time without a zone, a wall-clock time at `offset`:
    /// the vendor's `yyyy-MM-dd HH:mm:ss`, also with `T` for the space and
    /// with a fraction of a second (`2022-11-23 15:04:05.123456`, as
    /// Python's `str(datetime)` writes it), which is dropped.
    pub fn parse_vendor(raw: &str, offset: Offset) -> Option<Instant> {
        let (civil, rest) = Civil::parse(raw.trim(), b" T")?;
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
        rest.is_empty().then_some(Instant {
            seconds: civil.seconds() - offset.seconds(),
            nanos: 0,
        })
    }

    /// The vendor's `yyyy-MM-dd HH:mm:ss` at `offset` (fractions of a second
    /// are dropped).
    pub fn vendor(self, offset: Offset) -> Option<String> {
        Civil::from_seconds(self.seconds + offset.seconds()).map(Civil::vendor)
    }

    /// RFC 3339 written at `offset`, to the second.
    pub fn rfc3339(self, offset: Offset) -> Option<String> {
        Civil::from_seconds(self.seconds + offset.seconds()).map(|c| c.rfc3339(offset))
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

fn is_leap(year: u32) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: u32, month: u32, day: u32) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((month + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date `days` after 1970-01-01 (H. Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
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
                .seconds,
            0
        );
    }
}
