//! The one clock: every "now" and "today" of pages, mail, reports and jobs is read here, in the
//! configured time zone, so a page and the mail about it never disagree about the day.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

/// The system clock, or one that stands still (and is moved by hand) in tests.
#[derive(Clone, Debug)]
pub struct Clock {
    zone: Tz,
    fixed: Option<Arc<Mutex<DateTime<Utc>>>>,
}

impl Clock {
    /// The system clock, in time zone `zone`.
    pub fn system(zone: Tz) -> Clock {
        Clock { zone, fixed: None }
    }

    /// A clock that shows `at` until it is `set` to another moment.
    pub fn fixed(zone: Tz, at: DateTime<Utc>) -> Clock {
        Clock {
            zone,
            fixed: Some(Arc::new(Mutex::new(at))),
        }
    }

    /// Moves a fixed clock to `at` (every copy of it moves); the system clock ignores it.
    pub fn set(&self, at: DateTime<Utc>) {
        if let Some(fixed) = &self.fixed {
            *fixed.lock().unwrap_or_else(|e| e.into_inner()) = at;
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        match &self.fixed {
            Some(fixed) => *fixed.lock().unwrap_or_else(|e| e.into_inner()),
            None => Utc::now(),
        }
    }

    /// Today's date where the plans are.
    pub fn today(&self) -> NaiveDate {
        self.local(self.now()).date_naive()
    }

    /// `at` in the plans' time zone.
    pub fn local(&self, at: DateTime<Utc>) -> DateTime<Tz> {
        at.with_timezone(&self.zone)
    }

    /// The plans' time zone.
    pub fn zone(&self) -> Tz {
        self.zone
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn today_is_decided_in_the_configured_zone() {
        // 23:30 UTC on 31 December is already 1 January in Copenhagen.
        let at = "2026-12-31T23:30:00Z".parse().unwrap();
        let clock = Clock::fixed(chrono_tz::Europe::Copenhagen, at);
        assert_eq!(clock.today().to_string(), "2027-01-01");
        assert_eq!(
            Clock::fixed(chrono_tz::UTC, at).today().to_string(),
            "2026-12-31"
        );
        let copy = clock.clone();
        clock.set("2027-03-01T08:00:00Z".parse().unwrap());
        assert_eq!(copy.today().to_string(), "2027-03-01");
    }
}
