//! Drills (øvelser): scenarios from the plan's scenario library, who takes part, and when a drill
//! programme's occurrences fall, in the plan's time zone.
//!
//! `scenario` holds the scenario library's entries, `schedule` when a drill takes place (cron
//! programmes, time zones, daylight saving), `form` the form that plans a drill, `results` what
//! was recorded for each system and the after-action results.

mod form;
mod results;
mod scenario;
mod schedule;

pub use form::{DrillForm, PlannedDrill};
pub use results::{SystemRecord, SystemResult, results};
pub use scenario::{DrillKind, Inject, InjectChannel, Scenario};
pub use schedule::{MAX_PER_YEAR, Schedule, ScheduleError, local_to_utc, parse_cron, time_zone};
