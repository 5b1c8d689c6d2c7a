//! Drills (øvelser): scenarios from the plan's scenario library, who takes part, and when a drill
//! programme's occurrences fall, in the plan's time zone.

use std::str::FromStr;

use chrono::{DateTime, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::analysis;
use super::{Duration, PersonId, Plan, RoleId, ScenarioId, SystemId};

/// The Danish exercise types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DrillKind {
    /// Dilemmaøvelse: a tabletop discussion of dilemmas.
    Dilemma,
    /// Procedureøvelse: the procedures are walked through step by step.
    Procedure,
    /// Krisestyringsøvelse: the crisis team manages an evolving situation.
    CrisisManagement,
    /// A technical full restore test.
    RestoreTest,
}

impl DrillKind {
    pub const ALL: [DrillKind; 4] = [
        DrillKind::Dilemma,
        DrillKind::Procedure,
        DrillKind::CrisisManagement,
        DrillKind::RestoreTest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DrillKind::Dilemma => "dilemma",
            DrillKind::Procedure => "procedure",
            DrillKind::CrisisManagement => "crisis-management",
            DrillKind::RestoreTest => "restore-test",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// Something that happens at a minute of the drill (indspil).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inject {
    pub minute: u32,
    pub text: String,
}

/// A scenario of the library: what goes wrong, and how the drill unfolds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scenario {
    pub id: ScenarioId,
    pub title: String,
    pub kind: DrillKind,
    pub duration: Duration,
    /// The systems the scenario takes down.
    pub systems_down: Vec<SystemId>,
    /// Roles the scenario names: their people are invited.
    pub roles: Vec<RoleId>,
    pub narrative: String,
    pub facilitator_notes: String,
    /// Discussion questions (dilemmas).
    pub questions: Vec<String>,
    /// In increasing minute order.
    pub injects: Vec<Inject>,
}

impl Scenario {
    /// What is wrong with the scenario against `plan`, as `(field, message)`.
    pub fn problems(&self, plan: &Plan) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (i, s) in self.systems_down.iter().enumerate() {
            if plan.system(s.as_str()).is_none() {
                let hint =
                    analysis::did_you_mean(s.as_str(), plan.systems.iter().map(|x| x.id.as_str()));
                out.push((
                    format!("systems_down[{i}]"),
                    format!("unknown system {:?}{hint}", s.as_str()),
                ));
            }
        }
        for (i, r) in self.roles.iter().enumerate() {
            if !plan.roles.iter().any(|x| &x.id == r) {
                let hint =
                    analysis::did_you_mean(r.as_str(), plan.roles.iter().map(|x| x.id.as_str()));
                out.push((
                    format!("roles[{i}]"),
                    format!("unknown role {:?}{hint}", r.as_str()),
                ));
            }
        }
        for (i, pair) in self.injects.windows(2).enumerate() {
            if pair[1].minute < pair[0].minute {
                out.push((
                    format!("injects[{}].minute", i + 1),
                    format!(
                        "inject at minute {} comes after one at minute {}",
                        pair[1].minute, pair[0].minute
                    ),
                ));
            }
        }
        if let Some(last) = self.injects.last()
            && u64::from(last.minute) > self.duration.minutes()
        {
            out.push((
                format!("injects[{}].minute", self.injects.len() - 1),
                format!(
                    "inject at minute {} is after the drill's end ({})",
                    last.minute, self.duration
                ),
            ));
        }
        out
    }

    /// The people invited by default: owners and deputies of every system the scenario affects
    /// (the systems down and everything that depends on them), and the people holding the
    /// roles it names. In the plan's order of people.
    pub fn default_participants(&self, plan: &Plan) -> Vec<PersonId> {
        let affected = analysis::assess(plan, Some(&self.systems_down))
            .map(|a| a.affected)
            .unwrap_or_else(|_| self.systems_down.clone());
        plan.people
            .iter()
            .filter(|p| {
                p.roles.iter().any(|r| self.roles.contains(r))
                    || affected.iter().any(|id| {
                        plan.system(id.as_str()).is_some_and(|s| {
                            s.owner.as_ref() == Some(&p.id) || s.deputy.as_ref() == Some(&p.id)
                        })
                    })
            })
            .map(|p| p.id.clone())
            .collect()
    }
}

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

/// The standard five fields (minute hour day-of-month month day-of-week) as people write them,
/// or the six/seven-field form with seconds (and year) the `cron` crate reads.
pub fn parse_cron(expression: &str) -> Result<cron::Schedule, ScheduleError> {
    let text = expression.split_whitespace().collect::<Vec<_>>().join(" ");
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
    ) -> Result<PlannedDrill, Vec<super::edit::FieldError>> {
        use super::edit::{FieldError, Problem};
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

/// What participants recorded for one system during a drill.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemRecord {
    /// Was the system's procedure found in the plan?
    pub found: Option<bool>,
    /// Was it followed?
    pub followed: Option<bool>,
    /// Time to (simulated) recovery.
    pub recovery: Option<Duration>,
    /// What was missing or wrong.
    pub notes: String,
}

/// One exercised system in the after-action report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SystemResult {
    pub system: SystemId,
    pub name: String,
    pub rto: Option<Duration>,
    pub record: SystemRecord,
    /// Recovery within the RTO; `None` when either is unknown.
    pub rto_met: Option<bool>,
}

/// The systems a drill exercised (the scenario's systems and everything that depends on them,
/// in recovery order) with what was recorded for each and whether its RTO was met.
pub fn results(
    plan: &Plan,
    scenario: &Scenario,
    recorded: &std::collections::HashMap<String, SystemRecord>,
) -> Vec<SystemResult> {
    let order = analysis::assess(plan, Some(&scenario.systems_down))
        .map(|a| a.recovery_order)
        .unwrap_or_else(|_| scenario.systems_down.clone());
    order
        .into_iter()
        .filter_map(|id| plan.system(id.as_str()))
        .map(|s| {
            let record = recorded.get(s.id.as_str()).cloned().unwrap_or_default();
            let rto_met = match (record.recovery, s.rto) {
                (Some(took), Some(rto)) => Some(took <= rto),
                _ => None,
            };
            SystemResult {
                system: s.id.clone(),
                name: s.name.clone(),
                rto: s.rto,
                record,
                rto_met,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::analysis::tests::{plan, utc};

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

    fn scenario(down: &[&str], roles: &[&str]) -> Scenario {
        Scenario {
            id: ScenarioId::parse("test").unwrap(),
            title: "Test".into(),
            kind: DrillKind::Dilemma,
            duration: Duration::from_hours(2),
            systems_down: down.iter().map(|s| SystemId::parse(s).unwrap()).collect(),
            roles: roles.iter().map(|r| RoleId::parse(r).unwrap()).collect(),
            narrative: String::new(),
            facilitator_notes: String::new(),
            questions: vec![],
            injects: vec![
                Inject {
                    minute: 0,
                    text: "a".into(),
                },
                Inject {
                    minute: 30,
                    text: "b".into(),
                },
            ],
        }
    }

    #[test]
    fn participants_are_the_owners_of_what_is_affected_and_the_named_roles() {
        let mut plan = plan();
        plan.systems[0].deputy = Some(PersonId::parse("boss").unwrap());
        // power is down: everything depends on it, all owned by "owner"; boss deputises power.
        let got = scenario(&["power"], &[]).default_participants(&plan);
        assert_eq!(
            got.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
            ["owner", "boss"]
        );
        let got = scenario(&["mail"], &["chief"]).default_participants(&plan);
        assert_eq!(
            got.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
            ["owner", "boss"]
        );
        let got = scenario(&["mail"], &[]).default_participants(&plan);
        assert_eq!(
            got.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
            ["owner"]
        );
    }

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
        assert_eq!(errors[0].problem, crate::domain::edit::Problem::InPast);
        let gap = DrillForm {
            at: "2027-03-28T02:30".into(),
            ..past.clone()
        };
        assert!(matches!(
            gap.apply(&plan, tz, now).unwrap_err()[0].problem,
            crate::domain::edit::Problem::TimeGap { .. }
        ));
        let ok = DrillForm {
            at: "2026-12-10T09:00".into(),
            ..past
        };
        let planned = ok.apply(&plan, tz, now).unwrap();
        assert_eq!(planned.invite_days_before, 14);
    }

    #[test]
    fn results_follow_the_recovery_order_and_compare_with_the_rto() {
        let plan = plan();
        let mut recorded = std::collections::HashMap::new();
        recorded.insert(
            "network".to_string(),
            SystemRecord {
                recovery: Some(Duration::from_minutes(90)),
                ..SystemRecord::default()
            },
        );
        recorded.insert(
            "ad".to_string(),
            SystemRecord {
                recovery: Some(Duration::from_hours(5)),
                ..SystemRecord::default()
            },
        );
        let got = results(&plan, &scenario(&["network"], &[]), &recorded);
        let ids: Vec<&str> = got.iter().map(|r| r.system.as_str()).collect();
        assert_eq!(ids[0], "network");
        assert!(ids.contains(&"esdh") && ids.contains(&"mail"));
        assert_eq!(got[0].rto_met, Some(true), "1h 30m within 2h");
        let ad = got.iter().find(|r| r.system.as_str() == "ad").unwrap();
        assert_eq!(ad.rto_met, Some(false), "5h beyond 4h");
        let mail = got.iter().find(|r| r.system.as_str() == "mail").unwrap();
        assert_eq!(mail.rto_met, None, "nothing recorded");
    }

    #[test]
    fn scenario_problems_name_the_field() {
        let plan = plan();
        let mut s = scenario(&["powr"], &["chef"]);
        s.injects.push(Inject {
            minute: 10,
            text: "late".into(),
        });
        s.injects.push(Inject {
            minute: 500,
            text: "after".into(),
        });
        let problems = s.problems(&plan);
        let fields: Vec<&str> = problems.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            [
                "systems_down[0]",
                "roles[0]",
                "injects[2].minute",
                "injects[3].minute"
            ]
        );
        assert!(problems[0].1.contains("did you mean \"power\""));
        assert!(scenario(&["power"], &["chief"]).problems(&plan).is_empty());
    }
}
