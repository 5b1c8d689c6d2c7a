//! Dispensations without I/O: the IT-chef's decision that the plan may, until a date, lack
//! something concrete — a finding of the analysis (its code and the systems it concerns), a
//! completeness requirement, or a named requirement of the IT security policy — with the
//! justification, the compensating measures and the planned solution. Its life: requested →
//! approved or rejected; approved → expired (when its date passes), withdrawn, or renewed (a new
//! decision with a new expiry, the earlier ones kept). Only warnings can be dispensed: an error
//! makes the plan unusable.

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};

use super::analysis::{Accepted, Code, Finding, Severity};
use super::{Plan, SystemId};

/// What a dispensation is from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Subject {
    /// A finding of the analysis: its code and the systems it concerns, in the finding's order
    /// (`rto-inversion` `vmware` → `storage-san`).
    Finding { code: Code, systems: Vec<SystemId> },
    /// A completeness requirement, by the check's id (`tests`, `contacts`, …).
    Requirement { check: String },
    /// A requirement of the IT security policy, named in free text ("§8: backup off site").
    Policy { text: String },
}

/// Where a dispensation stands on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    Requested,
    Approved,
    Rejected,
    Withdrawn,
    /// Approved, and its date has passed.
    Expired,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Requested => "requested",
            State::Approved => "approved",
            State::Rejected => "rejected",
            State::Withdrawn => "withdrawn",
            State::Expired => "expired",
        }
    }
}

/// One decision of the approver: to approve (until `expires_on`) or reject. A renewal is a
/// later approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub by: String,
    pub on: NaiveDate,
    pub approved: bool,
    /// Until when the approval holds (the last day it holds); `None` for a rejection.
    pub expires_on: Option<NaiveDate>,
    pub comment: String,
}

/// A dispensation as held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dispensation {
    pub id: i64,
    pub subject: Subject,
    pub justification: String,
    /// Kompenserende foranstaltninger.
    pub compensating: String,
    /// What follows if it is refused.
    pub consequence: String,
    pub solution: String,
    pub solution_on: Option<NaiveDate>,
    /// The expiry asked for.
    pub requested_until: NaiveDate,
    pub requested_by: String,
    pub requested_on: NaiveDate,
    /// In the order they were made.
    pub decisions: Vec<Decision>,
    pub withdrawn_on: Option<NaiveDate>,
    pub withdrawn_by: Option<String>,
}

impl Dispensation {
    /// The decision that stands: the latest.
    pub fn decision(&self) -> Option<&Decision> {
        self.decisions.last()
    }

    /// The last day it holds, when it is approved.
    pub fn expires_on(&self) -> Option<NaiveDate> {
        self.decision()
            .filter(|d| d.approved)
            .and_then(|d| d.expires_on)
    }

    /// Where it stands on `today`: an approval holds through its expiry date and is expired
    /// the day after.
    pub fn state(&self, today: NaiveDate) -> State {
        if self.withdrawn_on.is_some() {
            return State::Withdrawn;
        }
        match self.decision() {
            None => State::Requested,
            Some(d) if !d.approved => State::Rejected,
            Some(d) if d.expires_on.is_some_and(|until| until < today) => State::Expired,
            Some(_) => State::Approved,
        }
    }

    /// Whether it is approved on `today` and covers `finding`: the same code and the same
    /// systems.
    pub fn covers(&self, finding: &Finding, today: NaiveDate) -> bool {
        self.state(today) == State::Approved
            && matches!(&self.subject, Subject::Finding { code, systems }
                if *code == finding.code && *systems == finding.systems)
    }

    /// Reminders are sent 30, 7 and 1 day(s) before expiry: which one is due on `today`,
    /// if any (each is claimed once by the caller).
    pub fn reminder_due(&self, today: NaiveDate) -> Option<u32> {
        if self.state(today) != State::Approved {
            return None;
        }
        let left = (self.expires_on()? - today).num_days();
        REMINDER_DAYS
            .iter()
            .copied()
            .filter(|d| i64::from(*d) >= left)
            .min()
    }

    /// An approved dispensation of a finding the analysis no longer makes ("ikke længere
    /// nødvendig"): it can be closed.
    pub fn no_longer_needed(&self, findings: &[Finding], today: NaiveDate) -> bool {
        self.state(today) == State::Approved
            && matches!(&self.subject, Subject::Finding { code, systems }
                if !findings.iter().any(|f| f.code == *code && f.systems == *systems))
    }
}

/// Who may ask for a dispensation of `subject`: the coordinator for anything; a system owner
/// for a finding about systems they own or deputise for, every one of them.
pub fn may_request(actor: &super::access::Actor, plan: &Plan, subject: &Subject) -> bool {
    if actor.edits_whole_plan() {
        return true;
    }
    match subject {
        Subject::Finding { systems, .. } => {
            !systems.is_empty()
                && systems.iter().all(|id| {
                    plan.system(id.as_str())
                        .is_some_and(|s| actor.may_edit_system(s))
                })
        }
        _ => false,
    }
}

/// Who may withdraw: its requester, or the coordinator.
pub fn may_withdraw(actor: &super::access::Actor, d: &Dispensation) -> bool {
    actor.edits_whole_plan() || actor.username == d.requested_by
}

/// Days before expiry that the requester, the owners and the approver are reminded.
pub const REMINDER_DAYS: [u32; 3] = [30, 7, 1];

/// The longest a dispensation may hold when the plan names nothing else: a year.
pub const DEFAULT_MAX_MONTHS: u32 = 12;

/// Why a request cannot be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The finding is an error: the plan cannot be used with it, so it cannot be dispensed.
    NotDispensable,
    /// A system the plan does not have.
    UnknownSystem,
    /// The expiry is today or before.
    ExpiryPassed,
    /// The expiry is later than `max_months` from today.
    ExpiryTooFar,
    /// The justification or the subject's text is empty.
    Empty,
}

impl Refusal {
    /// The locale key of the message.
    pub fn key(self) -> &'static str {
        match self {
            Refusal::NotDispensable => "dispensation.not_dispensable",
            Refusal::UnknownSystem => "dispensation.unknown_system",
            Refusal::ExpiryPassed => "dispensation.expiry_passed",
            Refusal::ExpiryTooFar => "dispensation.expiry_too_far",
            Refusal::Empty => "dispensation.empty",
        }
    }
}

/// Whether a dispensation of `subject` until `until` may be asked for on `today` in `plan`,
/// with at most `max_months` ahead.
pub fn check_request(
    plan: &Plan,
    subject: &Subject,
    justification: &str,
    until: NaiveDate,
    today: NaiveDate,
    max_months: u32,
) -> Result<(), Refusal> {
    match subject {
        Subject::Finding { code, systems } => {
            if code.severity() == Severity::Error {
                return Err(Refusal::NotDispensable);
            }
            if systems.iter().any(|s| plan.system(s.as_str()).is_none()) {
                return Err(Refusal::UnknownSystem);
            }
        }
        Subject::Requirement { check } if check.trim().is_empty() => return Err(Refusal::Empty),
        Subject::Policy { text } if text.trim().is_empty() => return Err(Refusal::Empty),
        _ => {}
    }
    if justification.trim().is_empty() {
        return Err(Refusal::Empty);
    }
    if until <= today {
        return Err(Refusal::ExpiryPassed);
    }
    let latest = today
        .checked_add_months(Months::new(max_months))
        .unwrap_or(NaiveDate::MAX);
    if until > latest {
        return Err(Refusal::ExpiryTooFar);
    }
    Ok(())
}

/// Marks each finding that an approved dispensation covers on `today` as accepted by it (the
/// one holding longest, if several do); the others are left as they are.
pub fn accept(findings: &mut [Finding], dispensations: &[Dispensation], today: NaiveDate) {
    for f in findings {
        f.said.accepted = dispensations
            .iter()
            .filter(|d| d.covers(f, today))
            .filter_map(|d| Some((d.expires_on()?, d.id)))
            .max()
            .map(|(until, dispensation)| Accepted {
                dispensation,
                until,
            });
    }
}

impl Dispensation {
    /// The dispensation as it stood at the end of `day`: later decisions and a later
    /// withdrawal left out.
    pub fn as_of(&self, day: NaiveDate) -> Dispensation {
        let mut d = self.clone();
        d.decisions.retain(|x| x.on <= day);
        if d.withdrawn_on.is_some_and(|on| on > day) {
            d.withdrawn_on = None;
            d.withdrawn_by = None;
        }
        d
    }

    /// The most critical level (1–4) of the systems it concerns; `None` for a requirement of
    /// the plan as a whole.
    pub fn criticality(&self, plan: &Plan) -> Option<u8> {
        match &self.subject {
            Subject::Finding { systems, .. } => systems
                .iter()
                .filter_map(|id| plan.system(id.as_str()))
                .map(|s| s.criticality.level())
                .min(),
            _ => None,
        }
    }
}

/// One year of dispensations, for the annual report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Year {
    /// First approvals made during the year.
    pub granted: usize,
    pub renewed: usize,
    pub rejected: usize,
    /// Approvals whose expiry passed during the year.
    pub expired: usize,
    /// Approved at the end of the year (or on the report's day), soonest expiry first.
    pub active: Vec<Active>,
    /// The active ones by the most critical level of their systems, 1–4.
    pub active_by_criticality: [usize; 4],
    /// The active ones of the plan as a whole (a requirement, the policy).
    pub active_plan_wide: usize,
}

/// A dispensation active at year end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Active {
    pub id: i64,
    pub until: NaiveDate,
    pub criticality: Option<u8>,
}

/// The dispensations of `year` up to `until` (year end, or today while the year runs).
pub fn year(dispensations: &[Dispensation], plan: &Plan, year: i32, until: NaiveDate) -> Year {
    use chrono::Datelike;
    let in_year = |day: NaiveDate| day.year() == year && day <= until;
    let mut out = Year::default();
    for d in dispensations {
        let d = d.as_of(until);
        let mut approved_before = false;
        for x in &d.decisions {
            if in_year(x.on) {
                match (x.approved, approved_before) {
                    (false, _) => out.rejected += 1,
                    (true, false) => out.granted += 1,
                    (true, true) => out.renewed += 1,
                }
            }
            approved_before |= x.approved;
        }
        match d.state(until) {
            State::Expired
                if d.expires_on()
                    .is_some_and(|u| in_year(u + chrono::Duration::days(1))) =>
            {
                out.expired += 1;
            }
            State::Approved => {
                let criticality = d.criticality(plan);
                match criticality {
                    Some(level) => {
                        out.active_by_criticality[usize::from(level.clamp(1, 4) - 1)] += 1
                    }
                    None => out.active_plan_wide += 1,
                }
                out.active.push(Active {
                    id: d.id,
                    until: d.expires_on().unwrap_or(until),
                    criticality,
                });
            }
            _ => {}
        }
    }
    out.active.sort_by_key(|a| (a.until, a.id));
    out
}

/// The approved dispensation, on `today`, of the completeness requirement `check` (the one
/// holding longest, if several do).
pub fn of_requirement<'d>(
    dispensations: &'d [Dispensation],
    check: &str,
    today: NaiveDate,
) -> Option<&'d Dispensation> {
    dispensations
        .iter()
        .filter(|d| d.state(today) == State::Approved)
        .filter(|d| matches!(&d.subject, Subject::Requirement { check: c } if c == check))
        .max_by_key(|d| d.expires_on())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::analysis::tests::plan;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn ids(list: &[&str]) -> Vec<SystemId> {
        list.iter().map(|s| SystemId::parse(s).unwrap()).collect()
    }

    fn finding(code: Code, systems: &[&str]) -> Finding {
        Finding::new(code, ids(systems), None, String::new())
    }

    fn requested(subject: Subject) -> Dispensation {
        Dispensation {
            id: 4,
            subject,
            justification: "Kontrakten genforhandles i 2027".into(),
            compensating: "Manuel nødprocedure testet hver måned".into(),
            consequence: String::new(),
            solution: "Ny kontrakt".into(),
            solution_on: Some(day("2027-05-01")),
            requested_until: day("2027-06-01"),
            requested_by: "jesper-moeller".into(),
            requested_on: day("2026-12-04"),
            decisions: vec![],
            withdrawn_on: None,
            withdrawn_by: None,
        }
    }

    fn decide(d: &mut Dispensation, approved: bool, until: Option<&str>, on: &str) {
        d.decisions.push(Decision {
            by: "mette-holm".into(),
            on: day(on),
            approved,
            expires_on: until.map(day),
            comment: String::new(),
        });
    }

    fn of_esdh() -> Subject {
        Subject::Finding {
            code: Code::SupplierRestoreExceedsRto,
            systems: ids(&["esdh"]),
        }
    }

    #[test]
    fn the_life_of_a_dispensation_from_request_to_expiry_and_renewal() {
        let mut d = requested(of_esdh());
        let f = finding(Code::SupplierRestoreExceedsRto, &["esdh"]);
        assert_eq!(d.state(day("2026-12-04")), State::Requested);
        assert!(
            !d.covers(&f, day("2026-12-04")),
            "a request accepts nothing"
        );
        decide(&mut d, true, Some("2027-06-01"), "2026-12-05");
        assert_eq!(d.state(day("2026-12-05")), State::Approved);
        assert!(d.covers(&f, day("2027-06-01")), "through its last day");
        assert_eq!(d.state(day("2027-06-02")), State::Expired);
        assert!(
            !d.covers(&f, day("2027-06-02")),
            "an open warning again the day after"
        );
        // Another system's finding of the same code is not covered.
        assert!(!d.covers(
            &finding(Code::SupplierRestoreExceedsRto, &["loen"]),
            day("2027-01-01")
        ));
        decide(&mut d, true, Some("2027-12-01"), "2027-05-20");
        assert_eq!(d.state(day("2027-07-01")), State::Approved, "renewed");
        assert_eq!(d.decisions.len(), 2, "the history is kept");
        d.withdrawn_on = Some(day("2027-08-01"));
        assert_eq!(d.state(day("2027-08-01")), State::Withdrawn);

        let mut rejected = requested(of_esdh());
        decide(&mut rejected, false, None, "2026-12-05");
        assert_eq!(rejected.state(day("2026-12-05")), State::Rejected);
        assert!(!rejected.covers(&f, day("2026-12-05")));
    }

    #[test]
    fn reminders_come_30_7_and_1_days_before_expiry() {
        let mut d = requested(of_esdh());
        decide(&mut d, true, Some("2027-06-01"), "2026-12-05");
        assert_eq!(d.reminder_due(day("2027-05-01")), None, "31 days before");
        assert_eq!(d.reminder_due(day("2027-05-02")), Some(30));
        assert_eq!(d.reminder_due(day("2027-05-25")), Some(7));
        assert_eq!(d.reminder_due(day("2027-05-31")), Some(1));
        assert_eq!(d.reminder_due(day("2027-06-01")), Some(1), "its last day");
        assert_eq!(d.reminder_due(day("2027-06-02")), None, "expired");
    }

    #[test]
    fn only_warnings_may_be_dispensed_and_only_until_a_date_within_the_limit() {
        let p = plan();
        let today = day("2026-12-04");
        let until = day("2027-06-01");
        let ok = |s: &Subject| check_request(&p, s, "fordi", until, today, DEFAULT_MAX_MONTHS);
        assert_eq!(ok(&of_esdh()), Ok(()));
        let cycle = Subject::Finding {
            code: Code::DependencyCycle,
            systems: ids(&["esdh"]),
        };
        assert_eq!(ok(&cycle), Err(Refusal::NotDispensable));
        let unknown = Subject::Finding {
            code: Code::NoRecoverySteps,
            systems: ids(&["sap"]),
        };
        assert_eq!(ok(&unknown), Err(Refusal::UnknownSystem));
        let policy = Subject::Policy { text: " ".into() };
        assert_eq!(ok(&policy), Err(Refusal::Empty));
        assert_eq!(
            check_request(&p, &of_esdh(), "", until, today, 12),
            Err(Refusal::Empty)
        );
        assert_eq!(
            check_request(&p, &of_esdh(), "fordi", today, today, 12),
            Err(Refusal::ExpiryPassed)
        );
        assert_eq!(
            check_request(&p, &of_esdh(), "fordi", day("2027-12-04"), today, 12),
            Ok(()),
            "exactly a year"
        );
        assert_eq!(
            check_request(&p, &of_esdh(), "fordi", day("2027-12-05"), today, 12),
            Err(Refusal::ExpiryTooFar)
        );
    }

    #[test]
    fn each_finding_gets_the_dispensation_that_accepts_it_and_a_gone_finding_is_told() {
        let today = day("2027-01-10");
        let mut short = requested(of_esdh());
        decide(&mut short, true, Some("2027-02-01"), "2026-12-05");
        let mut long = requested(of_esdh());
        long.id = 5;
        decide(&mut long, true, Some("2027-06-01"), "2026-12-05");
        let inversion = Subject::Finding {
            code: Code::RtoInversion,
            systems: ids(&["vmware", "storage-san"]),
        };
        let mut other = requested(inversion);
        other.id = 6;
        decide(&mut other, true, Some("2027-06-01"), "2026-12-05");
        let mut findings = vec![
            finding(Code::SupplierRestoreExceedsRto, &["esdh"]),
            finding(Code::ReviewOverdue, &["esdh"]),
        ];
        let all = [short, long, other];
        accept(&mut findings, &all, today);
        let got: Vec<Option<i64>> = findings
            .iter()
            .map(|f| f.accepted().map(|a| a.dispensation))
            .collect();
        assert_eq!(got, [Some(5), None]);
        assert!(!findings[0].is_open_warning() && findings[1].is_open_warning());
        accept(&mut findings, &all, day("2027-06-02"));
        assert_eq!(
            findings[0].accepted(),
            None,
            "an open warning again the day after"
        );
        assert!(!all[0].no_longer_needed(&findings, today));
        assert!(
            all[2].no_longer_needed(&findings, today),
            "the inversion is gone"
        );
    }

    #[test]
    fn a_year_counts_grants_renewals_rejections_expiries_and_what_is_active_at_its_end() {
        let p = plan();
        // Granted in 2026, renewed in 2027, active at the end of 2027.
        let mut renewed = requested(of_esdh());
        decide(&mut renewed, true, Some("2027-03-01"), "2026-12-05");
        decide(&mut renewed, true, Some("2028-02-01"), "2027-02-20");
        // Granted in 2027 and expired in it.
        let mut expired = requested(of_esdh());
        expired.id = 5;
        decide(&mut expired, true, Some("2027-06-01"), "2027-01-10");
        // Rejected in 2027.
        let mut rejected = requested(of_esdh());
        rejected.id = 6;
        decide(&mut rejected, false, None, "2027-01-11");
        // Granted in 2027, withdrawn in 2028: still active at the end of 2027.
        let mut withdrawn = requested(Subject::Requirement {
            check: "tests".into(),
        });
        withdrawn.id = 7;
        decide(&mut withdrawn, true, Some("2028-06-01"), "2027-07-01");
        withdrawn.withdrawn_on = Some(day("2028-01-15"));
        let all = [renewed, expired, rejected, withdrawn];
        let y = year(&all, &p, 2027, day("2027-12-31"));
        assert_eq!((y.granted, y.renewed, y.rejected, y.expired), (2, 1, 1, 1));
        assert_eq!(
            y.active.iter().map(|a| a.id).collect::<Vec<_>>(),
            [4, 7],
            "soonest expiry first"
        );
        assert_eq!(y.active_plan_wide, 1);
        assert_eq!(y.active_by_criticality.iter().sum::<usize>(), 1);
        let y2026 = year(&all, &p, 2026, day("2026-12-31"));
        assert_eq!(
            (y2026.granted, y2026.renewed, y2026.active.len()),
            (1, 0, 1)
        );
    }

    #[test]
    fn a_subject_is_stored_as_json_and_read_back() {
        for subject in [
            of_esdh(),
            Subject::Requirement {
                check: "tests".into(),
            },
            Subject::Policy {
                text: "§8: backup uden for huset".into(),
            },
        ] {
            let json = serde_json::to_string(&subject).unwrap();
            assert_eq!(serde_json::from_str::<Subject>(&json).unwrap(), subject);
        }
        assert_eq!(
            serde_json::to_string(&of_esdh()).unwrap(),
            r#"{"kind":"finding","code":"supplier-restore-exceeds-rto","systems":["esdh"]}"#
        );
        assert!(
            serde_json::from_str::<Subject>(r#"{"kind":"finding","code":"nope","systems":[]}"#)
                .is_err()
        );
        for code in Code::ALL {
            assert_eq!(Code::parse(code.as_str()), Some(code));
        }
    }
}
