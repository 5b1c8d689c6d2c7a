//! When a drill takes place: once at a local time, or a cron programme read in the plan's time
//! zone, with the daylight-saving changes handled.

use std::str::FromStr;

use chrono::{DateTime, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// When a drill takes place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Schedule {
    /// Once, at a local date and time.
    Once { at: NaiveDateTime },
    /// A recurring programme: a cron expression read in the plan's time zone.
    Recurring { cron: String },
}

/// Why a schedule cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("invalid cron expression {input:?}: {reason}")]
    Cron { input: String, reason: String },
    #[error("unknown time zone {0:?}")]
    TimeZone(String),
    #[error("{0} does not exist in {1} (the clocks skip it)")]
    Gap(NaiveDateTime, String),
    #[error("{input:?} runs more than once a day (at most {MAX_PER_YEAR} drills a year)")]
    TooOften { input: String },
}

/// A time zone by its IANA name (`Europe/Copenhagen`).
pub fn time_zone(name: &str) -> Result<Tz, ScheduleError> {
    Tz::from_str(name).map_err(|_| ScheduleError::TimeZone(name.to_string()))
}

/// Danish names of weekdays and months, as the `cron` crate's English ones.
const DANISH_NAMES: [(&str, &str); 16] = [
    ("mandag", "Mon"),
    ("man", "Mon"),
    ("tirsdag", "Tue"),
    ("tir", "Tue"),
    ("onsdag", "Wed"),
    ("ons", "Wed"),
    ("torsdag", "Thu"),
    ("tor", "Thu"),
    ("fredag", "Fri"),
    ("fre", "Fri"),
    ("lørdag", "Sat"),
    ("lør", "Sat"),
    ("søndag", "Sun"),
    ("søn", "Sun"),
    ("maj", "May"),
    ("okt", "Oct"),
];

/// `text` with each Danish weekday or month name (any case) as its English abbreviation.
fn english_names(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        let lower = word.to_lowercase();
        match DANISH_NAMES.iter().find(|(da, _)| *da == lower) {
            Some((_, en)) => out.push_str(en),
            None => out.push_str(word),
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_alphabetic() {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// The standard five fields (minute hour day-of-month month day-of-week) as people write them,
/// or the six/seven-field form with seconds (and year) the `cron` crate reads. Weekdays and
/// months may be written in Danish (`0 9 * * man-fre`, `0 9 1-7 1,4,7,10 tir`) or English.
pub fn parse_cron(expression: &str) -> Result<cron::Schedule, ScheduleError> {
    let text = expression.split_whitespace().collect::<Vec<_>>().join(" ");
    let text = english_names(&text);
    let full = if text.split(' ').count() == 5 {
        format!("0 {text}")
    } else {
        text
    };
    let schedule = cron::Schedule::from_str(&full).map_err(|e| ScheduleError::Cron {
        input: expression.to_string(),
        reason: e.to_string(),
    })?;
    // The scheduler stores every start within its horizon: a programme that runs more than
    // once a day (`* * * * *` is 576,000 drills in 400 days) is a typing error, not a drill
    // programme. Counted over a year from its first start.
    let reference = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let mut starts = schedule.after(&reference);
    // Starts come in order: counting stops at the end of that year.
    if let Some(first) = starts.next()
        && starts
            .take_while(|t| *t < first + chrono::Duration::days(365))
            .nth(MAX_PER_YEAR - 1)
            .is_some()
    {
        return Err(ScheduleError::TooOften {
            input: expression.to_string(),
        });
    }
    Ok(schedule)
}

/// The most starts a drill programme may have in a year.
pub const MAX_PER_YEAR: usize = 366;

/// A local time in `tz` as UTC. A time that falls twice (the autumn change) is the first of
/// the two; a time the clocks skip (the spring change) is an error.
pub fn local_to_utc(at: NaiveDateTime, tz: Tz) -> Result<DateTime<Utc>, ScheduleError> {
    match tz.from_local_datetime(&at) {
        LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(first, _) => Ok(first.with_timezone(&Utc)),
        LocalResult::None => Err(ScheduleError::Gap(at, tz.name().to_string())),
    }
}

impl Schedule {
    /// Checks the schedule without computing occurrences.
    pub fn check(&self, tz: Tz) -> Result<(), ScheduleError> {
        match self {
            Schedule::Once { at } => local_to_utc(*at, tz).map(|_| ()),
            Schedule::Recurring { cron } => parse_cron(cron).map(|_| ()),
        }
    }

    /// Every start after `from` up to and including `until`, in UTC, read in `tz` (so 09:00
    /// stays 09:00 local on both sides of a daylight-saving change).
    pub fn occurrences(
        &self,
        tz: Tz,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<DateTime<Utc>>, ScheduleError> {
        match self {
            Schedule::Once { at } => {
                let t = local_to_utc(*at, tz)?;
                Ok(if t > from && t <= until {
                    vec![t]
                } else {
                    vec![]
                })
            }
            Schedule::Recurring { cron } => {
                let mut out: Vec<DateTime<Tz>> = Vec::new();
                // Bounded whatever the expression: at most a year's starts per year asked for.
                let years = (until - from).num_days().max(0) as usize / 365 + 1;
                for t in parse_cron(cron)?
                    .after(&from.with_timezone(&tz))
                    .take(MAX_PER_YEAR * 2 * years)
                {
                    if t.with_timezone(&Utc) > until {
                        break;
                    }
                    // A local time that occurs twice (the autumn change) is one occurrence.
                    if out
                        .last()
                        .is_none_or(|last| last.naive_local() != t.naive_local())
                    {
                        out.push(t);
                    }
                }
                Ok(out.into_iter().map(|t| t.with_timezone(&Utc)).collect())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::analysis::tests::utc;

    #[test]
    fn a_programme_that_runs_more_than_once_a_day_is_refused() {
        for every in ["* * * * *", "0 * * * *", "0 9,15 * * *", "0 0 * * * * 2027"] {
            let e = parse_cron(every).unwrap_err();
            assert!(
                e.to_string().contains("more than once a day"),
                "{every}: {e}"
            );
        }
        for fine in [
            "0 9 * * *",
            "0 9 * * Mon",
            "0 9 1-7 1,4,7,10 Tue",
            "0 0 9 1 1 * 2030",
        ] {
            assert!(parse_cron(fine).is_ok(), "{fine}");
        }
    }

    #[test]
    fn weekdays_and_months_may_be_written_in_danish() {
        let next = |e: &str| {
            let from = Utc.with_ymd_and_hms(2026, 12, 3, 0, 0, 0).unwrap();
            parse_cron(e)
                .unwrap()
                .after(&from)
                .take(5)
                .collect::<Vec<_>>()
        };
        assert_eq!(next("0 9 1-7 1,4,7,10 tir"), next("0 9 1-7 1,4,7,10 Tue"));
        assert_eq!(next("0 9 * * man-fre"), next("0 9 * * Mon-Fri"));
        assert_eq!(next("0 9 * * Lørdag"), next("0 9 * * Sat"));
        assert_eq!(next("0 9 1 maj,okt *"), next("0 9 1 May,Oct *"));
        assert!(parse_cron("0 9 * * mandagx").is_err());
    }

    #[test]
    fn the_first_tuesday_of_each_quarter_at_nine_stays_nine_local_across_dst() {
        let tz = time_zone("Europe/Copenhagen").unwrap();
        let schedule = Schedule::Recurring {
            cron: "0 9 1-7 1,4,7,10 Tue".into(),
        };
        let got = schedule
            .occurrences(tz, utc("2026-01-01T00:00:00Z"), utc("2027-01-01T00:00:00Z"))
            .unwrap();
        let local: Vec<String> = got
            .iter()
            .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z").to_string())
            .collect();
        assert_eq!(
            local,
            [
                "2026-01-06 09:00 CET",
                "2026-04-07 09:00 CEST",
                "2026-07-07 09:00 CEST",
                "2026-10-06 09:00 CEST",
            ]
        );
        // Winter 09:00 is 08:00 UTC, summer 09:00 is 07:00 UTC.
        assert_eq!(got[0], utc("2026-01-06T08:00:00Z"));
        assert_eq!(got[1], utc("2026-04-07T07:00:00Z"));
    }

    #[test]
    fn local_times_on_the_change_days() {
        let tz = time_zone("Europe/Copenhagen").unwrap();
        let at = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        // 29 March 2026: 02:00 → 03:00; 02:30 does not exist.
        assert!(matches!(
            local_to_utc(at("2026-03-29 02:30"), tz),
            Err(ScheduleError::Gap(..))
        ));
        assert_eq!(
            local_to_utc(at("2026-03-29 03:30"), tz).unwrap(),
            utc("2026-03-29T01:30:00Z")
        );
        // 25 October 2026: 02:30 happens twice; the first is meant.
        assert_eq!(
            local_to_utc(at("2026-10-25 02:30"), tz).unwrap(),
            utc("2026-10-25T00:30:00Z")
        );
        // A daily 02:30 drill skips the day it does not exist and happens once on the day it
        // exists twice.
        let daily = Schedule::Recurring {
            cron: "30 2 * * *".into(),
        };
        let march = daily
            .occurrences(tz, utc("2026-03-28T00:00:00Z"), utc("2026-03-31T00:00:00Z"))
            .unwrap();
        assert_eq!(march.len(), 2, "{march:?}");
        let october = daily
            .occurrences(tz, utc("2026-10-24T00:00:00Z"), utc("2026-10-27T00:00:00Z"))
            .unwrap();
        assert_eq!(october.len(), 3, "{october:?}");
    }

    #[test]
    fn bad_schedules_say_what_is_wrong() {
        let tz = time_zone("Europe/Copenhagen").unwrap();
        let err = Schedule::Recurring {
            cron: "every tuesday".into(),
        }
        .check(tz)
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid cron expression \"every tuesday\""),
            "{err}"
        );
        assert!(matches!(
            time_zone("Europe/Aarhus"),
            Err(ScheduleError::TimeZone(_))
        ));
        let once = Schedule::Once {
            at: NaiveDateTime::parse_from_str("2026-12-01 09:00", "%Y-%m-%d %H:%M").unwrap(),
        };
        let got = once
            .occurrences(tz, utc("2026-01-01T00:00:00Z"), utc("2027-01-01T00:00:00Z"))
            .unwrap();
        assert_eq!(got, [utc("2026-12-01T08:00:00Z")]);
        assert!(
            once.occurrences(tz, utc("2026-12-02T00:00:00Z"), utc("2027-01-01T00:00:00Z"))
                .unwrap()
                .is_empty()
        );
    }
}
