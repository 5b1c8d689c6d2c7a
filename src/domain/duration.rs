//! Durations as people write them in a contingency plan: `30m`, `4h`, `1h 30m`, `2d`, `1w`, and
//! as the pages show them in Danish and English: `4 t.`, `3 timer`, `1,5 t`, `90 min`, `2 døgn`,
//! `1 uge`, `2 weeks`.
//!
//! A plan's horizons (RTO, RPO, MTPD), step durations and review intervals are all whole minutes.
//! Parsing accepts one or more `<number> <unit>` parts (each unit at most once, largest first,
//! spaces optional; a number may have a decimal part, `1,5` or `1.5`, when the result is whole
//! minutes); printing gives the short form, largest unit first (`1h 30m`), which is what plan
//! files and exports hold, so a value read back is the same value.

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
/// The words for each unit (an index into `UNITS`) that are read, lower case, without a
/// trailing full stop: the short forms, the Danish and the English ones.
const UNIT_WORDS: [(&str, usize); 26] = [
    ("w", 0),
    ("uge", 0),
    ("uger", 0),
    ("week", 0),
    ("weeks", 0),
    ("d", 1),
    ("døgn", 1),
    ("dag", 1),
    ("dage", 1),
    ("day", 1),
    ("days", 1),
    ("h", 2),
    ("t", 2),
    ("time", 2),
    ("timer", 2),
    ("hour", 2),
    ("hours", 2),
    ("hr", 2),
    ("hrs", 2),
    ("m", 3),
    ("min", 3),
    ("mins", 3),
    ("minut", 3),
    ("minutter", 3),
    ("minute", 3),
    ("minutes", 3),
];
/// Upper bound that keeps every sum in the analysis far from overflow: 1,000 years.
const MAX_MINUTES: u64 = 1000 * 365 * DAY;

/// Why a duration could not be read. The `Display` form quotes the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid duration {input:?}: {reason} (write it like 30m, 4h, 1h 30m, 2d or 1w; 4 t., 3 timer, 90 min, 2 døgn and 1 uge are read too)"
)]
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

    /// Parses `30m`, `4h`, `1h 30m`, `1h30m`, `2d`, `1w 2d`, `0m`, `4 t.`, `3 timer`, `1,5 t`,
    /// `90 min`, `2 døgn`, `1 uge`, `2 weeks`.
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
            let whole: u64 = rest[..digits]
                .parse()
                .map_err(|_| err("the number is too large"))?;
            rest = &rest[digits..];
            // A decimal part: `1,5` (Danish) or `1.5`; kept as digits over a power of ten.
            let mut fraction = (0u64, 1u64);
            if let Some(after) = rest.strip_prefix([',', '.'])
                && after.starts_with(|c: char| c.is_ascii_digit())
            {
                let n = after.bytes().take_while(u8::is_ascii_digit).count();
                if n > 6 {
                    return Err(err("too many decimals"));
                }
                let digits: u64 = after[..n]
                    .parse()
                    .map_err(|_| err("the number is too large"))?;
                fraction = (digits, 10u64.pow(u32::try_from(n).unwrap_or(6)));
                rest = &after[n..];
            }
            rest = rest.trim_start();
            let word: String = rest.chars().take_while(|c| c.is_alphabetic()).collect();
            if word.is_empty() {
                return Err(err("a unit is missing"));
            }
            rest = &rest[word.len()..];
            rest = rest.strip_prefix('.').unwrap_or(rest).trim_start();
            let word = word.to_lowercase();
            let unit_index = UNIT_WORDS
                .iter()
                .find(|(w, _)| *w == word)
                .map(|(_, i)| *i)
                .ok_or_else(|| err("unknown unit; use m, h, d or w (or min., t., døgn, uge)"))?;
            if last_unit.is_some_and(|last| unit_index <= last) {
                return Err(err("units must appear once each, largest first"));
            }
            last_unit = Some(unit_index);
            let size = UNITS[unit_index].1;
            let (digits, scale) = fraction;
            let part_fraction = digits * size;
            if !part_fraction.is_multiple_of(scale) {
                return Err(err("it is not a whole number of minutes"));
            }
            total = whole
                .checked_mul(size)
                .and_then(|part| part.checked_add(part_fraction / scale))
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
            // As the pages show them, and the usual spellings.
            ("3 t.", 180),
            ("3 t", 180),
            ("3t", 180),
            ("3 timer", 180),
            ("1 time", 60),
            ("90 min", 90),
            ("90 min.", 90),
            ("1 t. 30 min.", 90),
            ("1,5 t", 90),
            ("1.5h", 90),
            ("2 døgn", 2880),
            ("2 DØGN", 2880),
            ("1 uge", 10080),
            ("2 uger", 20160),
            ("1 uge 2 døgn", 10080 + 2880),
            ("2 weeks", 20160),
            ("3 days", 4320),
            ("4 hours", 240),
            ("0,5 døgn", 720),
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
            (
                "4x",
                "unknown unit; use m, h, d or w (or min., t., døgn, uge)",
            ),
            ("tre timer", "expected a whole number"),
            ("0,5 min", "it is not a whole number of minutes"),
            ("1,1234567 t", "too many decimals"),
            ("30 min 1 t", "units must appear once each, largest first"),
            ("30m 1h", "units must appear once each, largest first"),
            ("1h 1h", "units must appear once each, largest first"),
            ("-1h", "expected a whole number"),
            ("99999999999999999999m", "the number is too large"),
            ("99999999w", "it is longer than 1000 years"),
            (
                "4 hektar",
                "unknown unit; use m, h, d or w (or min., t., døgn, uge)",
            ),
        ] {
            let err = Duration::parse(text).unwrap_err();
            assert_eq!(err.reason, reason, "{text}");
            assert!(err.to_string().contains(&format!("{text:?}")), "{err}");
        }
    }
}
