//! Capture timestamps and their RFC 3339 rendering (UTC, with the capture's precision).

use std::cmp::Ordering;
use std::fmt;

/// A point in capture time: seconds since the Unix epoch plus nanoseconds, and how many fractional
/// digits the capture format actually records (6 for microsecond pcap, 9 for nanosecond, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Timestamp {
    pub secs: i64,
    pub nanos: u32,
    /// Fractional digits to print: 0..=9.
    pub digits: u8,
}

impl Timestamp {
    pub fn new(secs: i64, nanos: u32, digits: u8) -> Self {
        Timestamp {
            secs: secs.saturating_add(i64::from(nanos / 1_000_000_000)),
            nanos: nanos % 1_000_000_000,
            digits: digits.min(9),
        }
    }

    /// Nanoseconds since the epoch.
    pub fn as_nanos(&self) -> i128 {
        i128::from(self.secs) * 1_000_000_000 + i128::from(self.nanos)
    }

    /// Whole seconds elapsed from `earlier` to `self` (negative if `self` is earlier).
    pub fn secs_since(&self, earlier: &Timestamp) -> i64 {
        let diff = self.as_nanos() - earlier.as_nanos();
        i64::try_from(diff / 1_000_000_000).unwrap_or(if diff < 0 { i64::MIN } else { i64::MAX })
    }

    /// RFC 3339 in UTC, e.g. `2024-05-01T12:00:00.123456Z`.
    pub fn to_rfc3339(&self) -> String {
        self.to_string()
    }
}

impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Timestamp {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.secs, self.nanos).cmp(&(other.secs, other.nanos))
    }
}

/// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm, proleptic Gregorian).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    // d is 1..=31 and m is 1..=12 by construction.
    (y, m as u32, d as u32)
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.secs.div_euclid(86_400);
        let rem = self.secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        let Ok(year) = u32::try_from(y) else {
            return self.fmt_general(f, y, m, d, rem);
        };
        // Fields are public: nanoseconds past a second (not made by `new`) keep the general
        // form, which prints every digit, as do years of other than four digits.
        if year > 9999 || self.nanos >= 1_000_000_000 {
            return self.fmt_general(f, y, m, d, rem);
        }
        // Written digit by digit into one buffer: every transfer, PDU and finding has times,
        // and `write!` with widths costs several calls each.
        let mut out = *b"0000-00-00T00:00:00.000000000Z";
        let put = |out: &mut [u8; 30], at: usize, width: usize, mut v: u32| {
            for i in (at..at + width).rev() {
                if let Some(b) = out.get_mut(i) {
                    *b = b'0' + (v % 10) as u8;
                }
                v /= 10;
            }
        };
        put(&mut out, 0, 4, year);
        put(&mut out, 5, 2, m);
        put(&mut out, 8, 2, d);
        // `rem` is in 0..86_400.
        let rem = rem as u32;
        put(&mut out, 11, 2, rem / 3600);
        put(&mut out, 14, 2, (rem % 3600) / 60);
        put(&mut out, 17, 2, rem % 60);
        let digits = usize::from(self.digits.min(9));
        let end = if digits > 0 {
            put(
                &mut out,
                20,
                digits,
                self.nanos / 10u32.pow(9 - digits as u32),
            );
            20 + digits
        } else {
            19
        };
        if let Some(z) = out.get_mut(end) {
            *z = b'Z';
        }
        // Only ASCII digits and separators were written.
        f.write_str(std::str::from_utf8(out.get(..=end).unwrap_or(&[])).unwrap_or(""))
    }
}

impl Timestamp {
    /// The general form, for years outside 0..=9999.
    fn fmt_general(
        &self,
        f: &mut fmt::Formatter<'_>,
        y: i64,
        m: u32,
        d: u32,
        rem: i64,
    ) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            y,
            m,
            d,
            rem / 3600,
            (rem % 3600) / 60,
            rem % 60
        )?;
        if self.digits > 0 {
            let digits = u32::from(self.digits.min(9));
            let scaled = self.nanos / 10u32.pow(9 - digits);
            write!(f, ".{:0width$}", scaled, width = digits as usize)?;
        }
        f.write_str("Z")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The digit-by-digit form is the general one for every year it handles.
    #[test]
    fn fast_and_general_forms_agree() {
        let general = |t: Timestamp| {
            let days = t.secs.div_euclid(86_400);
            let rem = t.secs.rem_euclid(86_400);
            let (y, m, d) = civil_from_days(days);
            struct G(Timestamp, i64, u32, u32, i64);
            impl fmt::Display for G {
                fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    self.0.fmt_general(f, self.1, self.2, self.3, self.4)
                }
            }
            G(t, y, m, d, rem).to_string()
        };
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for i in 0..20_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Years from about -2000 to 12000, every precision, nanoseconds at the edges too.
            let secs = (x % 440_000_000_000) as i64 - 125_000_000_000;
            let nanos = if i % 7 == 0 {
                999_999_999
            } else {
                (x >> 20) as u32 % 1_000_000_000
            };
            let t = Timestamp::new(secs, nanos, (i % 10) as u8);
            assert_eq!(t.to_string(), general(t), "{t:?}");
            // Built field by field, as a decoder may: out-of-range parts too.
            let raw = Timestamp {
                secs,
                nanos: (x >> 32) as u32,
                digits: (i % 12) as u8,
            };
            assert_eq!(raw.to_string(), general(raw), "{raw:?}");
        }
    }

    #[test]
    fn formats_epoch_and_precision() {
        assert_eq!(Timestamp::new(0, 0, 0).to_string(), "1970-01-01T00:00:00Z");
        assert_eq!(
            Timestamp::new(1_700_000_000, 123_456_000, 6).to_string(),
            "2023-11-14T22:13:20.123456Z"
        );
        assert_eq!(
            Timestamp::new(951_782_400, 5, 9).to_string(),
            "2000-02-29T00:00:00.000000005Z"
        );
        assert_eq!(Timestamp::new(-1, 0, 0).to_string(), "1969-12-31T23:59:59Z");
    }
}
