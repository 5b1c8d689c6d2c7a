//! The form that plans a drill: its text checked field by field into a planned drill.

use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;

use super::schedule::{Schedule, ScheduleError, parse_cron};
use crate::domain::edit::{FieldError, Problem};
use crate::domain::{PersonId, Plan};

/// A drill as typed in the form that plans it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DrillForm {
    pub title: String,
    /// `once` or `recurring`.
    pub repeat: String,
    /// Local date and time, `2026-12-10T09:00` (as a browser's datetime-local sends it).
    pub at: String,
    pub cron: String,
    pub location: String,
    pub facilitator: String,
    pub participants: Vec<String>,
    pub invite_days_before: String,
}

/// A drill planned from a form: everything checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedDrill {
    pub title: String,
    pub schedule: Schedule,
    pub location: String,
    pub facilitator: Option<PersonId>,
    pub participants: Vec<PersonId>,
    pub invite_days_before: u32,
}

impl DrillForm {
    /// Checks the form against the plan, in time zone `tz`, as of `now` (a single date must lie
    /// ahead; a programme must have an occurrence ahead).
    pub fn apply(
        &self,
        plan: &Plan,
        tz: Tz,
        now: DateTime<Utc>,
    ) -> Result<PlannedDrill, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut fail = |field: &str, problem: Problem| {
            errors.push(FieldError {
                field: field.to_string(),
                problem,
            })
        };
        let title = self.title.trim();
        if title.is_empty() {
            fail("title", Problem::Required);
        }
        let schedule = if self.repeat == "recurring" {
            let cron = self.cron.trim();
            match parse_cron(cron) {
                Err(ScheduleError::Cron { reason, .. }) if !cron.is_empty() => {
                    fail(
                        "cron",
                        Problem::Cron {
                            input: cron.to_string(),
                            reason,
                        },
                    );
                    None
                }
                Err(ScheduleError::TooOften { input }) => {
                    fail("cron", Problem::TooOften { input });
                    None
                }
                Err(_) => {
                    fail("cron", Problem::Required);
                    None
                }
                Ok(_) => Some(Schedule::Recurring {
                    cron: cron.to_string(),
                }),
            }
        } else {
            let text = self.at.trim();
            match NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
                .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M"))
            {
                Err(_) if text.is_empty() => {
                    fail("at", Problem::Required);
                    None
                }
                Err(_) => {
                    fail(
                        "at",
                        Problem::DateTime {
                            input: text.to_string(),
                        },
                    );
                    None
                }
                Ok(at) => Some(Schedule::Once { at }),
            }
        };
        if let Some(s) = &schedule {
            match s.occurrences(tz, now, now + chrono::Duration::days(800)) {
                Err(ScheduleError::Gap(at, _)) => fail(
                    "at",
                    Problem::TimeGap {
                        input: at.format("%Y-%m-%d %H:%M").to_string(),
                    },
                ),
                Err(e) => fail(
                    "cron",
                    Problem::Cron {
                        input: self.cron.clone(),
                        reason: e.to_string(),
                    },
                ),
                Ok(list) if list.is_empty() => fail(
                    if matches!(s, Schedule::Once { .. }) {
                        "at"
                    } else {
                        "cron"
                    },
                    Problem::InPast,
                ),
                Ok(_) => {}
            }
        }
        let person = |id: &str| plan.person(id.trim()).map(|p| p.id.clone());
        let facilitator = match self.facilitator.trim() {
            "" => None,
            id => match person(id) {
                Some(p) => Some(p),
                None => {
                    fail(
                        "facilitator",
                        Problem::UnknownPerson {
                            id: id.to_string(),
                            suggestion: None,
                        },
                    );
                    None
                }
            },
        };
        let mut participants: Vec<PersonId> = Vec::new();
        for id in &self.participants {
            match person(id) {
                Some(p) if !participants.contains(&p) => participants.push(p),
                Some(_) => {}
                None => fail(
                    "participants",
                    Problem::UnknownPerson {
                        id: id.trim().to_string(),
                        suggestion: None,
                    },
                ),
            }
        }
        let invite_days_before = match self.invite_days_before.trim().parse::<u32>() {
            Ok(n) if n <= 365 => n,
            _ => {
                fail(
                    "invite_days_before",
                    Problem::Number {
                        input: self.invite_days_before.clone(),
                    },
                );
                0
            }
        };
        match schedule {
            Some(schedule) if errors.is_empty() => Ok(PlannedDrill {
                title: title.to_string(),
                schedule,
                location: self.location.trim().to_string(),
                facilitator,
                participants,
                invite_days_before,
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::analysis::tests::{plan, utc};
    use crate::domain::drill::time_zone;

    #[test]
    fn the_drill_form_names_each_wrong_value() {
        let plan = plan();
        let tz = time_zone("Europe/Copenhagen").unwrap();
        let now = utc("2026-11-28T12:00:00Z");
        let form = DrillForm {
            title: " ".into(),
            repeat: "recurring".into(),
            cron: "0 9 * * Tusday".into(),
            participants: vec!["owner".into(), "ghost".into()],
            invite_days_before: "fjorten".into(),
            ..DrillForm::default()
        };
        let errors = form.apply(&plan, tz, now).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["title", "cron", "participants", "invite_days_before"]
        );
        let past = DrillForm {
            title: "Øvelse".into(),
            repeat: "once".into(),
            at: "2026-11-01T09:00".into(),
            invite_days_before: "14".into(),
            ..DrillForm::default()
        };
        let errors = past.apply(&plan, tz, now).unwrap_err();
        assert_eq!(errors[0].problem, Problem::InPast);
        let gap = DrillForm {
            at: "2027-03-28T02:30".into(),
            ..past.clone()
        };
        assert!(matches!(
            gap.apply(&plan, tz, now).unwrap_err()[0].problem,
            Problem::TimeGap { .. }
        ));
        let ok = DrillForm {
            at: "2026-12-10T09:00".into(),
            ..past
        };
        let planned = ok.apply(&plan, tz, now).unwrap();
        assert_eq!(planned.invite_days_before, 14);
    }
}
