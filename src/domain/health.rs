//! The plan's health, as the coordinator's dashboard and the annual report (årsrapport) show it:
//! review compliance, horizons the plan cannot keep, exercise coverage, drill and incident
//! results against the RTOs, action items. The facts come from the store; this module only
//! counts.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::Serialize;

use super::analysis::{self, Code, Finding};
use super::dispensation::{Dispensation, State as DispensationState};
use super::drill::SystemRecord;
use super::incident::{self, Outage, Recovery};
use super::{Plan, SystemId};

/// The first moment of `day`, in UTC.
pub fn start_of(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
}

/// The last second of `day`, in UTC.
pub fn end_of(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(23, 59, 59).unwrap_or_default().and_utc()
}

/// A closed drill occurrence and what was recorded in it, by system id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldDrill {
    pub occurrence: i64,
    pub title: String,
    pub held_at: DateTime<Utc>,
    pub records: HashMap<String, SystemRecord>,
    /// A test of the call tree: everyone in it alerted, their answers timed.
    pub call_tree_test: bool,
}

/// An incident with the systems marked down in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentFacts {
    pub id: i64,
    pub title: String,
    pub started_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub outages: Vec<Outage>,
}

/// An action item, as far as counting goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionFacts {
    pub opened_at: DateTime<Utc>,
    pub due: NaiveDate,
    pub closed_at: Option<DateTime<Utc>>,
}

impl ActionFacts {
    fn open_on(&self, day: NaiveDate) -> bool {
        self.opened_at.date_naive() <= day && self.closed_at.is_none_or(|c| c.date_naive() > day)
    }
    fn overdue_on(&self, day: NaiveDate) -> bool {
        self.open_on(day) && self.due < day
    }
}

/// Open action items, and those of them past their due date.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ActionCounts {
    pub open: usize,
    pub overdue: usize,
}

/// A change of a section's last-reviewed date, from the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewChange {
    pub system: String,
    pub at: DateTime<Utc>,
    /// Who saved it.
    pub by: String,
    pub before: Option<NaiveDate>,
    pub after: Option<NaiveDate>,
}

/// How many exercised systems met their RTO in one drill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DrillOutcome {
    pub occurrence: i64,
    pub title: String,
    pub held_at: DateTime<Utc>,
    pub met: usize,
    pub missed: usize,
    /// Recorded without a recovery time, or the system has no RTO.
    pub unknown: usize,
}

/// Met, missed and unknown against the RTOs, counted per system.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub met: usize,
    pub missed: usize,
    pub unknown: usize,
}

impl Tally {
    fn add(&mut self, met: Option<bool>) {
        match met {
            Some(true) => self.met += 1,
            Some(false) => self.missed += 1,
            None => self.unknown += 1,
        }
    }
}

/// What a drill's records say against `plan`'s RTOs.
pub fn drill_outcome(plan: &Plan, drill: &HeldDrill) -> DrillOutcome {
    let mut tally = Tally::default();
    let mut ids: Vec<&String> = drill.records.keys().collect();
    ids.sort();
    for id in ids {
        let rto = plan.system(id).and_then(|s| s.rto);
        tally.add(match (drill.records[id].recovery, rto) {
            (Some(took), Some(rto)) => Some(took <= rto),
            _ => None,
        });
    }
    DrillOutcome {
        occurrence: drill.occurrence,
        title: drill.title.clone(),
        held_at: drill.held_at,
        met: tally.met,
        missed: tally.missed,
        unknown: tally.unknown,
    }
}

/// The systems with a finding of `code`, the one to fix first, each once, in plan order.
fn systems_with(plan: &Plan, findings: &[Finding], code: Code) -> Vec<SystemId> {
    let mut hit: Vec<&SystemId> = findings
        .iter()
        .filter(|f| f.code == code)
        .filter_map(Finding::system)
        .collect();
    hit.sort();
    hit.dedup();
    plan.systems
        .iter()
        .filter(|s| hit.binary_search(&&s.id).is_ok())
        .map(|s| s.id.clone())
        .collect()
}

/// The systems that cannot be back within their RTO when everything is down: their recovery
/// steps, after those of what they depend on, take longer than the RTO allows.
pub fn infeasible(plan: &Plan) -> Vec<SystemId> {
    analysis::assess(plan, None)
        .map(|a| {
            let mut ids: Vec<SystemId> = a
                .systems
                .into_iter()
                .filter(|s| s.feasible == Some(false))
                .map(|s| s.id)
                .collect();
            ids.sort();
            ids
        })
        .unwrap_or_default()
}

/// The figures of the coordinator's dashboard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dashboard {
    pub systems: usize,
    pub reviewed_on_time: usize,
    pub review_overdue: Vec<SystemId>,
    pub infeasible: Vec<SystemId>,
    pub inversions: Vec<SystemId>,
    pub not_exercised: Vec<SystemId>,
    pub open_actions: usize,
    pub overdue_actions: usize,
    /// Drills held this year, latest first.
    pub drills: Vec<DrillOutcome>,
    /// Findings an approved dispensation accepts ("accepterede risici").
    pub accepted: usize,
    /// Approved dispensations that expire within [`EXPIRING_DAYS`].
    pub expiring: usize,
}

/// Dispensations expiring within this many days are counted on the dashboard.
pub const EXPIRING_DAYS: i64 = 30;

/// Whether `d` is approved on `today` and expires within [`EXPIRING_DAYS`].
pub fn expiring_soon(d: &Dispensation, today: NaiveDate) -> bool {
    d.state(today) == DispensationState::Approved
        && d.expires_on()
            .is_some_and(|until| (until - today).num_days() <= EXPIRING_DAYS)
}

/// The dashboard of `plan` on `today`, from its findings (with exercise coverage), its action
/// items and the drills held (those of other years are left out).
pub fn dashboard(
    plan: &Plan,
    findings: &[Finding],
    actions: ActionCounts,
    drills: &[HeldDrill],
    dispensations: &[Dispensation],
    today: NaiveDate,
) -> Dashboard {
    let review_overdue = systems_with(plan, findings, Code::ReviewOverdue);
    let mut held: Vec<DrillOutcome> = drills
        .iter()
        .filter(|d| d.held_at.year() == today.year())
        .map(|d| drill_outcome(plan, d))
        .collect();
    held.sort_by_key(|d| std::cmp::Reverse(d.held_at));
    Dashboard {
        systems: plan.systems.len(),
        reviewed_on_time: plan.systems.len() - review_overdue.len(),
        review_overdue,
        infeasible: infeasible(plan),
        inversions: systems_with(plan, findings, Code::RtoInversion),
        not_exercised: systems_with(plan, findings, Code::NotExercised),
        open_actions: actions.open,
        overdue_actions: actions.overdue,
        drills: held,
        accepted: findings.iter().filter(|f| f.accepted().is_some()).count(),
        expiring: dispensations
            .iter()
            .filter(|d| expiring_soon(d, today))
            .count(),
    }
}

/// Review compliance on one day: sections whose last review was within their interval, of
/// those whose review state that day is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Compliance {
    pub day: NaiveDate,
    pub on_time: usize,
    pub total: usize,
    /// Sections whose only known review date lies after the day (reviewed before the history
    /// begins, on a date no longer recorded): left out of `total`.
    pub unknown: usize,
}

/// Review compliance of `plan`'s sections at each of `days`, with each section's last-reviewed
/// date as it stood that day: the latest change on or before it, else the value before the first
/// change after it, else the section's current date (it never changed). A section never
/// reviewed counts as not on time; one whose only known date is later than the day, as unknown.
pub fn review_compliance(
    plan: &Plan,
    changes: &[ReviewChange],
    days: &[NaiveDate],
) -> Vec<Compliance> {
    let mut by_system: HashMap<&str, Vec<&ReviewChange>> = HashMap::new();
    for c in changes {
        by_system.entry(c.system.as_str()).or_default().push(c);
    }
    for list in by_system.values_mut() {
        list.sort_by_key(|c| c.at);
    }
    days.iter()
        .map(|&day| {
            let mut c = Compliance {
                day,
                on_time: 0,
                total: 0,
                unknown: 0,
            };
            for s in &plan.systems {
                let list = by_system.get(s.id.as_str()).map_or(&[][..], Vec::as_slice);
                let upto = list.partition_point(|c| c.at.date_naive() <= day);
                let last = match (upto.checked_sub(1), list.get(upto)) {
                    (Some(i), _) => list[i].after,
                    (None, Some(next)) => next.before,
                    (None, None) => s.last_reviewed,
                };
                match last {
                    Some(last) if last > day => c.unknown += 1,
                    Some(last) => {
                        c.total += 1;
                        c.on_time += usize::from(plan.review_due_after(s, last) >= day);
                    }
                    None => c.total += 1,
                }
            }
            c
        })
        .collect()
}

/// An approved version, as the annual report lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionFacts {
    pub number: i32,
    pub approved_at: DateTime<Utc>,
    pub approved_by: String,
    pub comment: String,
}

/// One incident's recovery against the RTOs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IncidentOutcome {
    pub id: i64,
    pub title: String,
    pub started_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub recoveries: Vec<Recovery>,
    pub met: usize,
    pub missed: usize,
}

/// Action items over a year.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ActionYear {
    pub opened: usize,
    pub closed: usize,
    /// Open and past their due date at year end.
    pub overdue_at_end: usize,
    pub open_at_end: usize,
}

/// What the annual report is made from.
pub struct AnnualInputs<'a> {
    pub year: i32,
    /// The plan as it stood at year end.
    pub plan: &'a Plan,
    /// Its findings as of year end (with exercise coverage).
    pub findings: &'a [Finding],
    /// Every approved version of the plan.
    pub versions: &'a [VersionFacts],
    /// Changes saved to the plan during the year (audited fields).
    pub changes: usize,
    pub drills: &'a [HeldDrill],
    pub incidents: &'a [IncidentFacts],
    pub actions: &'a [ActionFacts],
    pub reviews: &'a [ReviewChange],
    pub dispensations: &'a [Dispensation],
    /// The report's day: year end, or today while the year runs.
    pub until: NaiveDate,
}

/// The annual report's figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Annual {
    pub year: i32,
    pub until: NaiveDate,
    pub systems: usize,
    /// Systems per criticality 1–4.
    pub by_criticality: [usize; 4],
    pub versions: Vec<VersionFacts>,
    pub changes: usize,
    pub drills: Vec<DrillOutcome>,
    pub drill_quarters: [Tally; 4],
    pub incidents: Vec<IncidentOutcome>,
    pub incident_quarters: [Tally; 4],
    pub actions: ActionYear,
    /// At the end of each month of the year up to `until`.
    pub compliance: Vec<Compliance>,
    pub infeasible: Vec<SystemId>,
    pub inversions: Vec<SystemId>,
    pub not_exercised: Vec<SystemId>,
    pub review_overdue: Vec<SystemId>,
    pub dispensations: super::dispensation::Year,
}

fn quarter(at: DateTime<Utc>) -> usize {
    (at.month0() / 3) as usize
}

/// The annual report for `inputs.year`.
pub fn annual(inputs: &AnnualInputs<'_>) -> Annual {
    let AnnualInputs {
        year,
        plan,
        findings,
        until,
        ..
    } = *inputs;
    let in_year = |at: DateTime<Utc>| at.year() == year && at.date_naive() <= until;
    let mut by_criticality = [0; 4];
    for s in &plan.systems {
        by_criticality[usize::from(s.criticality.level() - 1)] += 1;
    }
    let mut drills: Vec<&HeldDrill> = inputs
        .drills
        .iter()
        .filter(|d| in_year(d.held_at))
        .collect();
    drills.sort_by_key(|d| d.held_at);
    let mut drill_quarters = [Tally::default(); 4];
    let drills: Vec<DrillOutcome> = drills
        .into_iter()
        .map(|d| {
            let o = drill_outcome(plan, d);
            let q = &mut drill_quarters[quarter(d.held_at)];
            q.met += o.met;
            q.missed += o.missed;
            q.unknown += o.unknown;
            o
        })
        .collect();
    let mut incident_quarters = [Tally::default(); 4];
    let mut incidents: Vec<IncidentOutcome> = inputs
        .incidents
        .iter()
        .filter(|i| in_year(i.started_at))
        .map(|i| {
            let end = i.closed_at.unwrap_or_else(|| end_of(until));
            let recoveries = incident::closing_record(plan, &i.outages, end);
            let mut tally = Tally::default();
            for r in &recoveries {
                tally.add(r.rto_met);
                incident_quarters[quarter(i.started_at)].add(r.rto_met);
            }
            IncidentOutcome {
                id: i.id,
                title: i.title.clone(),
                started_at: i.started_at,
                closed_at: i.closed_at,
                recoveries,
                met: tally.met,
                missed: tally.missed,
            }
        })
        .collect();
    incidents.sort_by_key(|i| i.started_at);
    let actions = ActionYear {
        opened: inputs
            .actions
            .iter()
            .filter(|a| in_year(a.opened_at))
            .count(),
        closed: inputs
            .actions
            .iter()
            .filter(|a| a.closed_at.is_some_and(in_year))
            .count(),
        overdue_at_end: inputs
            .actions
            .iter()
            .filter(|a| a.overdue_on(until))
            .count(),
        open_at_end: inputs.actions.iter().filter(|a| a.open_on(until)).count(),
    };
    // The end of each month up to `until`, the last one cut at `until`.
    let last_month = if until.year() == year {
        until.month()
    } else {
        12
    };
    let month_ends: Vec<NaiveDate> = (1..=last_month)
        .filter_map(|m| {
            let first = NaiveDate::from_ymd_opt(year, m, 1)?;
            let end = first
                .checked_add_months(chrono::Months::new(1))?
                .pred_opt()?;
            Some(end.min(until))
        })
        .collect();
    let mut versions: Vec<VersionFacts> = inputs
        .versions
        .iter()
        .filter(|v| in_year(v.approved_at))
        .cloned()
        .collect();
    versions.sort_by_key(|v| v.number);
    Annual {
        year,
        until,
        systems: plan.systems.len(),
        by_criticality,
        versions,
        changes: inputs.changes,
        drills,
        drill_quarters,
        incidents,
        incident_quarters,
        actions,
        compliance: review_compliance(plan, inputs.reviews, &month_ends),
        infeasible: infeasible(plan),
        inversions: systems_with(plan, findings, Code::RtoInversion),
        not_exercised: systems_with(plan, findings, Code::NotExercised),
        review_overdue: systems_with(plan, findings, Code::ReviewOverdue),
        dispensations: super::dispensation::year(inputs.dispensations, plan, year, until),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Duration;
    use crate::domain::analysis::tests::{plan, utc};

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn record(minutes: Option<u64>) -> SystemRecord {
        SystemRecord {
            recovery: minutes.map(Duration::from_minutes),
            ..Default::default()
        }
    }

    #[test]
    fn a_drill_counts_met_missed_and_unknown_against_the_rtos() {
        let p = plan();
        let rto = |id: &str| p.system(id).unwrap().rto.unwrap().minutes();
        let drill = HeldDrill {
            occurrence: 7,
            title: "t".into(),
            held_at: utc("2026-03-01T09:00:00Z"),
            records: HashMap::from([
                ("ad".to_string(), record(Some(rto("ad")))),
                ("esdh".to_string(), record(Some(rto("esdh") + 1))),
                ("mail".to_string(), record(None)),
                ("gone".to_string(), record(Some(1))),
            ]),
            call_tree_test: false,
        };
        let o = drill_outcome(&p, &drill);
        assert_eq!((o.met, o.missed, o.unknown), (1, 1, 2));
    }

    #[test]
    fn compliance_follows_the_review_dates_as_they_stood() {
        let mut p = plan();
        p.review_interval = Duration::from_minutes(30 * 24 * 60);
        for s in &mut p.systems {
            s.last_reviewed = Some(day("2026-06-10"));
        }
        // "ad" was reviewed on 1 January, then again on 10 June; nothing else changed.
        let changes = [ReviewChange {
            system: "ad".into(),
            at: utc("2026-06-10T10:00:00Z"),
            by: "owner".into(),
            before: Some(day("2026-01-01")),
            after: Some(day("2026-06-10")),
        }];
        let got = review_compliance(&p, &changes, &[day("2026-01-15"), day("2026-06-30")]);
        let n = p.systems.len();
        // 15 January: "ad" within 30 days; the others' only known date lies in the future.
        assert_eq!(
            (got[0].on_time, got[0].total, got[0].unknown),
            (1, 1, n - 1)
        );
        assert_eq!((got[1].on_time, got[1].total, got[1].unknown), (n, n, 0));
        // 31 August: every review of 10 June is more than 30 days old.
        let late = review_compliance(&p, &changes, &[day("2026-08-31")]);
        assert_eq!((late[0].on_time, late[0].total), (0, n));
    }

    #[test]
    fn actions_are_counted_over_the_year() {
        let a = |opened: &str, due: &str, closed: Option<&str>| ActionFacts {
            opened_at: utc(opened),
            due: day(due),
            closed_at: closed.map(utc),
        };
        let p = plan();
        let actions = [
            a(
                "2025-12-01T00:00:00Z",
                "2026-01-10",
                Some("2026-02-01T00:00:00Z"),
            ),
            a("2026-03-01T00:00:00Z", "2026-04-01", None),
            a("2026-05-01T00:00:00Z", "2027-04-01", None),
            a(
                "2026-05-01T00:00:00Z",
                "2026-06-01",
                Some("2027-01-05T00:00:00Z"),
            ),
        ];
        let report = annual(&AnnualInputs {
            year: 2026,
            plan: &p,
            findings: &[],
            versions: &[],
            changes: 0,
            drills: &[],
            incidents: &[],
            actions: &actions,
            reviews: &[],
            dispensations: &[],
            until: day("2026-12-31"),
        });
        assert_eq!(
            report.actions,
            ActionYear {
                opened: 3,
                closed: 1,
                overdue_at_end: 2,
                open_at_end: 3
            }
        );
        assert_eq!(report.compliance.len(), 12);
    }
}
