//! The contingency plan: people, roles, systems and the plan-level sections of a complete
//! it-beredskabsplan (NIS2 CIR 2024/2690 annex 4.1; ISO 27001:2022 A.5.29–5.30).
//!
//! These types hold a plan as it is; whether it holds up is the job of [`crate::domain::analysis`].
//! References between parts (a system's owner, a dependency) are ids, checked by the analysis, so a
//! plan that is being edited can be represented before it is consistent.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::duration::Duration;

/// Why an id was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid id {0:?}: use 1–64 lowercase letters a–z, digits, '-' or '_', starting with a letter or digit"
)]
pub struct IdError(pub String);

fn check_slug(text: &str) -> Result<(), IdError> {
    let ok = (1..=64).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        && text
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(IdError(text.to_string()))
    }
}

macro_rules! slug_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Accepts a slug: lowercase ASCII letters, digits, `-` and `_`.
            pub fn parse(text: &str) -> Result<Self, IdError> {
                check_slug(text).map(|()| Self(text.to_string()))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(text: String) -> Result<Self, IdError> {
                check_slug(&text).map(|()| Self(text))
            }
        }
        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }
    };
}

slug_id!(
    /// A plan's id, also its folder name under `plans/`.
    PlanId
);
slug_id!(
    /// A system's id, also its file name under `systems/`.
    SystemId
);
slug_id!(
    /// A person's id within a plan.
    PersonId
);
slug_id!(
    /// A role's id within a plan (`it-chef`, `beredskabsleder`, …).
    RoleId
);
slug_id!(
    /// A drill scenario's id, also its file name under `scenarios/`.
    ScenarioId
);

/// Criticality 1 (most critical) to 4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct Criticality(u8);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid criticality {0}: use 1 (most critical), 2, 3 or 4")]
pub struct CriticalityError(pub i64);

impl Criticality {
    /// The least critical level, 4.
    pub const LEAST: Criticality = Criticality(4);

    pub fn new(level: i64) -> Result<Self, CriticalityError> {
        match u8::try_from(level) {
            Ok(l @ 1..=4) => Ok(Criticality(l)),
            _ => Err(CriticalityError(level)),
        }
    }
    pub fn level(self) -> u8 {
        self.0
    }
}

impl TryFrom<i64> for Criticality {
    type Error = CriticalityError;
    fn try_from(level: i64) -> Result<Self, Self::Error> {
        Criticality::new(level)
    }
}

impl From<Criticality> for i64 {
    fn from(c: Criticality) -> i64 {
        c.0.into()
    }
}

/// How bad an outage has become for citizens and staff at a point in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImpactLevel {
    /// Ubetydelig: noticed, no real harm.
    Minor,
    /// Moderat: work is delayed, workarounds carry it.
    Moderate,
    /// Alvorlig: citizens or staff are harmed, workarounds strain.
    Serious,
    /// Uacceptabel: the outage can no longer be accepted.
    Unacceptable,
}

impl ImpactLevel {
    pub const ALL: [ImpactLevel; 4] = [
        ImpactLevel::Minor,
        ImpactLevel::Moderate,
        ImpactLevel::Serious,
        ImpactLevel::Unacceptable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ImpactLevel::Minor => "minor",
            ImpactLevel::Moderate => "moderate",
            ImpactLevel::Serious => "serious",
            ImpactLevel::Unacceptable => "unacceptable",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == text)
    }
}

/// One row of a system's business impact analysis: after `after` of outage, the impact is `level`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImpactStep {
    pub after: Duration,
    pub level: ImpactLevel,
    /// What citizens notice (borgere).
    pub citizens: String,
    /// What staff notice (medarbejdere).
    pub staff: String,
}

/// One step of a system's technical recovery plan (reetableringstrin).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryStep {
    pub text: String,
    /// The role responsible for carrying it out.
    pub role: RoleId,
    /// How long it is expected to take.
    pub duration: Duration,
}

/// The supplier (leverandør) a system's recovery may depend on.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Supplier {
    pub name: String,
    /// Who to call: service desk, contract contact.
    pub contact: String,
    pub phone: String,
    pub email: String,
    /// The restore time the contract promises, if it promises one.
    pub contract_restore: Option<Duration>,
}

/// One system's section of the plan. Horizons are `None` only when they could not be read (the
/// reader reports why); the analysis skips the checks that need them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct System {
    pub id: SystemId,
    pub name: String,
    pub description: String,
    pub owner: Option<PersonId>,
    pub deputy: Option<PersonId>,
    pub criticality: Criticality,
    /// Accepted time horizon: how long the system may be down.
    pub rto: Option<Duration>,
    /// Data loss tolerated.
    pub rpo: Option<Duration>,
    /// Maximum tolerable period of disruption.
    pub mtpd: Option<Duration>,
    pub depends_on: Vec<SystemId>,
    pub supplier: Option<Supplier>,
    /// Manual workaround while the system is down (nødprocedure).
    pub workaround: String,
    pub recovery_steps: Vec<RecoveryStep>,
    /// How to tell the system is back.
    pub verification: String,
    pub last_reviewed: Option<NaiveDate>,
    pub reviewed_by: Option<PersonId>,
    /// Overrides the plan's review interval for this system.
    pub review_interval: Option<Duration>,
    /// Business impact over time, in increasing `after` order.
    pub impact: Vec<ImpactStep>,
}

/// A person in the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub id: PersonId,
    pub name: String,
    /// Job title (stilling).
    pub title: String,
    pub email: String,
    pub phone: String,
    pub roles: Vec<RoleId>,
}

/// A role people hold in the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    pub id: RoleId,
    pub name: String,
    /// What the role is responsible for.
    pub responsibilities: String,
}

/// One node of the call tree (varslingstræ): `person` is called by `called_by` (none: the first
/// to be called, by whoever activates the plan).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallTreeEntry {
    pub person: PersonId,
    pub called_by: Option<PersonId>,
    pub note: String,
}

/// A communication channel (kommunikationskanal) and when to use it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Channel {
    pub name: String,
    /// When this channel is used (primary, fallback when phones are down, …).
    pub purpose: String,
    /// Number, address, meeting place.
    pub detail: String,
}

/// The plan-level sections of a complete contingency plan.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PlanSections {
    /// Formål.
    pub purpose: String,
    /// Omfang: which systems and services the plan covers.
    pub scope: String,
    /// Målgruppe: who the plan is for.
    pub audience: String,
    /// When the plan is activated (aktivering).
    pub activation_criteria: Vec<String>,
    /// When the plan is stood down (nedlukning).
    pub stand_down_criteria: Vec<String>,
    /// Resources: rooms, equipment, spare hardware, budgets.
    pub resources: String,
    /// Backups: what is backed up, where, how it is restored.
    pub backups: String,
    /// Return from workarounds to normal operation (retablering af normal drift).
    pub return_to_normal: String,
    /// The interface to incident handling (hændelseshåndtering).
    pub incident_handling: String,
}

/// A whole contingency plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub id: PlanId,
    pub name: String,
    pub organisation: String,
    /// The role that keeps the plan (usually the coordinator).
    pub owner_role: RoleId,
    /// The role that approves versions (usually the IT manager).
    pub approver_role: RoleId,
    /// How often every system section must be reviewed.
    pub review_interval: Duration,
    /// How often every system must be exercised in a drill (ISO 22301 §8.5: at planned
    /// intervals). Snapshots taken before the field existed read it as the default.
    #[serde(default = "Plan::default_exercise_interval")]
    pub exercise_interval: Duration,
    /// Minutes to wait for an alerted person's acknowledgement before their deputy is alerted.
    #[serde(default = "Plan::default_alert_escalation_minutes")]
    pub alert_escalation_minutes: u32,
    /// Minutes within which everyone of the call tree should acknowledge an alert: what a test
    /// of the call tree measures against.
    #[serde(default = "Plan::default_call_tree_target_minutes")]
    pub call_tree_target_minutes: u32,
    /// The longest a dispensation may be granted for, in months.
    #[serde(default = "Plan::default_dispensation_max_months")]
    pub dispensation_max_months: u32,
    pub sections: PlanSections,
    pub roles: Vec<Role>,
    pub people: Vec<Person>,
    pub call_tree: Vec<CallTreeEntry>,
    pub channels: Vec<Channel>,
    pub systems: Vec<System>,
}

impl Plan {
    /// Ten minutes: the wait for an acknowledgement when the plan names none.
    pub fn default_alert_escalation_minutes() -> u32 {
        10
    }

    /// A quarter of an hour: the call tree's target when the plan names none.
    pub fn default_call_tree_target_minutes() -> u32 {
        15
    }

    /// A year: the longest a dispensation may hold when the plan names nothing else.
    pub fn default_dispensation_max_months() -> u32 {
        super::dispensation::DEFAULT_MAX_MONTHS
    }

    /// A year: the exercise interval when the plan names none.
    pub fn default_exercise_interval() -> Duration {
        Duration::from_minutes(52 * 7 * 24 * 60)
    }

    pub fn system(&self, id: &str) -> Option<&System> {
        self.systems.iter().find(|s| s.id.as_str() == id)
    }

    /// When `system`'s section must be reviewed next: its last review plus its review interval
    /// (its own, else the plan's); `None` if it was never reviewed (due now).
    pub fn review_due(&self, system: &System) -> Option<NaiveDate> {
        Some(self.review_due_after(system, system.last_reviewed?))
    }

    /// When `system`'s section is due for review after a review on `last`.
    pub fn review_due_after(&self, system: &System, last: NaiveDate) -> NaiveDate {
        let interval = system.review_interval.unwrap_or(self.review_interval);
        last.checked_add_signed(chrono::Duration::minutes(
            i64::try_from(interval.minutes()).unwrap_or(i64::MAX),
        ))
        .unwrap_or(NaiveDate::MAX)
    }

    pub fn person(&self, id: &str) -> Option<&Person> {
        self.people.iter().find(|p| p.id.as_str() == id)
    }

    /// Puts `system` in place of the system with its id (or adds it, in id order).
    pub fn replace_system(&mut self, system: System) {
        match self.systems.iter_mut().find(|s| s.id == system.id) {
            Some(slot) => *slot = system,
            None => {
                let at = self.systems.partition_point(|s| s.id < system.id);
                self.systems.insert(at, system);
            }
        }
    }

    /// Puts `person` in place of the person with their id, or adds them at the end.
    pub fn replace_person(&mut self, person: Person) {
        match self.people.iter_mut().find(|p| p.id == person.id) {
            Some(slot) => *slot = person,
            None => self.people.push(person),
        }
    }

    /// Trims the free text of every field, the way the edit forms store it, so that text read
    /// from a file and the same text saved from a form are equal.
    pub fn tidy(&mut self) {
        fn trim(text: &mut String) {
            let trimmed = text.trim();
            if trimmed.len() != text.len() {
                *text = trimmed.to_string();
            }
        }
        let s = &mut self.sections;
        for text in [
            &mut s.purpose,
            &mut s.scope,
            &mut s.audience,
            &mut s.resources,
            &mut s.backups,
            &mut s.return_to_normal,
            &mut s.incident_handling,
        ] {
            trim(text);
        }
        s.activation_criteria.iter_mut().for_each(trim);
        s.stand_down_criteria.iter_mut().for_each(trim);
        self.call_tree.iter_mut().for_each(|c| trim(&mut c.note));
        for c in &mut self.channels {
            [&mut c.name, &mut c.purpose, &mut c.detail]
                .into_iter()
                .for_each(trim);
        }
        for sys in &mut self.systems {
            [
                &mut sys.name,
                &mut sys.description,
                &mut sys.workaround,
                &mut sys.verification,
            ]
            .into_iter()
            .for_each(trim);
            sys.recovery_steps
                .iter_mut()
                .for_each(|st| trim(&mut st.text));
            for row in &mut sys.impact {
                trim(&mut row.citizens);
                trim(&mut row.staff);
            }
            if let Some(sup) = &mut sys.supplier {
                [
                    &mut sup.name,
                    &mut sup.contact,
                    &mut sup.phone,
                    &mut sup.email,
                ]
                .into_iter()
                .for_each(trim);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_slugs() {
        assert!(SystemId::parse("opus-loen_2").is_ok());
        for bad in ["", "Opus", "-ad", "ad 2", "løn", &"a".repeat(65)] {
            let err = SystemId::parse(bad).unwrap_err();
            assert!(err.to_string().contains("invalid id"), "{bad}");
        }
    }

    #[test]
    fn criticality_is_one_to_four() {
        assert_eq!(Criticality::new(1).map(Criticality::level), Ok(1));
        assert_eq!(Criticality::new(4).map(Criticality::level), Ok(4));
        assert_eq!(Criticality::new(0), Err(CriticalityError(0)));
        assert_eq!(Criticality::new(5), Err(CriticalityError(5)));
        assert_eq!(Criticality::new(-1), Err(CriticalityError(-1)));
    }

    #[test]
    fn impact_levels_read_back_as_written() {
        for level in ImpactLevel::ALL {
            assert_eq!(ImpactLevel::parse(level.as_str()), Some(level));
        }
        assert_eq!(ImpactLevel::parse("Unacceptable"), None);
    }
}
