//! Durations as people write them in a contingency plan: `30m`, `4h`, `1h 30m`, `2d`, `1w`.
//!
//! A plan's horizons (RTO, RPO, MTPD), step durations and review intervals are all whole minutes.
//! Parsing accepts one or more `<number><unit>` parts (units `m`, `h`, `d`, `w`, each at most once,
//! largest first, spaces optional); printing gives the same shape back, largest unit first, so a
//! value read from a file is written back the way a person would have written it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A span of whole minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration(u64);

const MINUTE: u64 = 1;
const HOUR: u64 = 60;
const DAY: u64 = 24 * HOUR;
const WEEK: u64 = 7 * DAY;
/// Units largest first, as they are printed.
const UNITS: [(char, u64); 4] = [('w', WEEK), ('d', DAY), ('h', HOUR), ('m', MINUTE)];
/// Upper bound that keeps every sum in the analysis far from overflow: 1,000 years.
const MAX_MINUTES: u64 = 1000 * 365 * DAY;

/// Why a duration could not be read. The `Display` form quotes the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {input:?}: {reason} (write it like 30m, 4h, 1h 30m, 2d or 1w)")]
pub struct DurationError {
    /// The text as it was given.
    pub input: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl Duration {
    /// The zero duration.
    pub const ZERO: Duration = Duration(0);

    pub const fn from_minutes(minutes: u64) -> Self {
        Duration(minutes)
    }

    pub const fn from_hours(hours: u64) -> Self {
        Duration(hours * HOUR)
    }

    pub const fn minutes(self) -> u64 {
        self.0
    }

    /// Sum that stays at the upper bound instead of overflowing.
    pub fn saturating_add(self, other: Duration) -> Duration {
        Duration(self.0.saturating_add(other.0).min(MAX_MINUTES))
    }

    /// Parses `30m`, `4h`, `1h 30m`, `1h30m`, `2d`, `1w 2d`, `0m`.
    pub fn parse(input: &str) -> Result<Self, DurationError> {
        let err = |reason| DurationError {
            input: input.to_string(),
            reason,
        };
        let text = input.trim();
        if text.is_empty() {
            return Err(err("it is empty"));
        }
        let mut total: u64 = 0;
        // Index into UNITS of the last unit seen: each later unit must be smaller.
        let mut last_unit: Option<usize> = None;
        let mut rest = text;
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err(err("expected a whole number"));
            }
            let number: u64 = rest[..digits]
                .parse()
                .map_err(|_| err("the number is too large"))?;
            rest = rest[digits..].trim_start();
            let unit_char = rest
                .chars()
                .next()
                .ok_or_else(|| err("a unit is missing"))?;
            let unit_index = UNITS
                .iter()
                .position(|(c, _)| *c == unit_char.to_ascii_lowercase())
                .ok_or_else(|| err("unknown unit; use m, h, d or w"))?;
            if last_unit.is_some_and(|last| unit_index <= last) {
                return Err(err("units must appear once each, largest first"));
            }
            last_unit = Some(unit_index);
            rest = rest[unit_char.len_utf8()..].trim_start();
            total = number
                .checked_mul(UNITS[unit_index].1)
                .and_then(|part| total.checked_add(part))
                .filter(|sum| *sum <= MAX_MINUTES)
                .ok_or_else(|| err("it is longer than 1000 years"))?;
        }
        Ok(Duration(total))
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("0m");
        }
        let mut rest = self.0;
        let mut first = true;
        for (unit, size) in UNITS {
            let count = rest / size;
            if count > 0 {
                if !first {
                    f.write_str(" ")?;
                }
                write!(f, "{count}{unit}")?;
                rest -= count * size;
                first = false;
            }
        }
        Ok(())
    }
}

impl FromStr for Duration {
    type Err = DurationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Duration::parse(s)
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Duration::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_people_write() {
        for (text, minutes) in [
            ("30m", 30),
            ("4h", 240),
            ("1h 30m", 90),
            ("1h30m", 90),
            ("2d", 2880),
            ("1w", 10080),
            ("1w 2d 3h 4m", 10080 + 2880 + 180 + 4),
            ("0m", 0),
            (" 8H ", 480),
        ] {
            assert_eq!(Duration::parse(text), Ok(Duration(minutes)), "{text}");
        }
    }

    #[test]
    fn prints_largest_unit_first_and_round_trips() {
        for (minutes, text) in [
            (0, "0m"),
            (30, "30m"),
            (90, "1h 30m"),
            (240, "4h"),
            (2880, "2d"),
            (10080, "1w"),
            (10080 + 60, "1w 1h"),
        ] {
            let d = Duration(minutes);
            assert_eq!(d.to_string(), text);
            assert_eq!(Duration::parse(text), Ok(d));
        }
    }

    #[test]
    fn rejects_bad_input_and_quotes_it() {
        for (text, reason) in [
            ("", "it is empty"),
            ("4", "a unit is missing"),
            ("h", "expected a whole number"),
            ("4x", "unknown unit; use m, h, d or w"),
            ("30m 1h", "units must appear once each, largest first"),
            ("1h 1h", "units must appear once each, largest first"),
            ("-1h", "expected a whole number"),
            ("1.5h", "unknown unit; use m, h, d or w"),
            ("99999999999999999999m", "the number is too large"),
            ("99999999w", "it is longer than 1000 years"),
            ("4 timer", "unknown unit; use m, h, d or w"),
        ] {
            let err = Duration::parse(text).unwrap_err();
            assert_eq!(err.reason, reason, "{text}");
            assert!(err.to_string().contains(&format!("{text:?}")), "{err}");
        }
    }
}
