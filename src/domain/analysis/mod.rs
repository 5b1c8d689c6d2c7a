//! Does the plan hold? Consistency findings, impact of an outage, recovery order, feasibility of
//! each system's RTO and the RTO each system would need for the plan to hold.
//!
//! This module holds what the analysis says: severities, codes, findings. `rules` is the
//! consistency check, one function per family of rules; `outage` the assessment of an outage;
//! `graph` the dependency graph both work on.

mod graph;
mod outage;
mod rules;

pub use graph::PlanGraph;
pub use outage::{Assessment, SystemAssessment, UnknownSystems, assess};
pub use rules::check;

use std::collections::BTreeMap;
use std::fmt;

use chrono::NaiveDate;
use serde::Serialize;

use super::duration::Duration;
use super::plan::SystemId;
// The tests (`analysis_tests.rs`) name these through `use super::*`.
#[cfg(test)]
use std::collections::HashSet;

/// How serious a finding is: errors make a plan invalid, warnings are risks to look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// The stable code of a finding. The string forms are part of the CLI's and the web pages'
/// contract: never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Code {
    UnknownDependency,
    DependencyCycle,
    DuplicateSystem,
    /// Two people, or two roles, with the same id.
    DuplicateId,
    InvalidDuration,
    MissingOwner,
    UnknownPerson,
    UnknownRole,
    RtoExceedsMtpd,
    /// A plan file that cannot be read as a plan (syntax, types, unknown fields, size, encoding).
    InvalidFile,
    /// A value of the right type that is not allowed (an id that is not a slug, criticality 7).
    InvalidValue,
    RtoInversion,
    SupplierRestoreExceedsRto,
    NoRecoverySteps,
    ReviewOverdue,
    RtoBeyondUnacceptableImpact,
    /// Not exercised in a drill within the plan's exercise interval, or not since an approved
    /// version changed it significantly (see [`crate::domain::coverage`]).
    NotExercised,
    /// A person's phone number that cannot be written as E.164: no SMS can reach them.
    InvalidPhone,
}

impl Code {
    pub const ALL: [Code; 18] = [
        Code::UnknownDependency,
        Code::DependencyCycle,
        Code::DuplicateSystem,
        Code::DuplicateId,
        Code::InvalidDuration,
        Code::MissingOwner,
        Code::UnknownPerson,
        Code::UnknownRole,
        Code::RtoExceedsMtpd,
        Code::InvalidFile,
        Code::InvalidValue,
        Code::RtoInversion,
        Code::SupplierRestoreExceedsRto,
        Code::NoRecoverySteps,
        Code::ReviewOverdue,
        Code::RtoBeyondUnacceptableImpact,
        Code::NotExercised,
        Code::InvalidPhone,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Code::UnknownDependency => "unknown-dependency",
            Code::DependencyCycle => "dependency-cycle",
            Code::DuplicateSystem => "duplicate-system",
            Code::DuplicateId => "duplicate-id",
            Code::InvalidDuration => "invalid-duration",
            Code::MissingOwner => "missing-owner",
            Code::UnknownPerson => "unknown-person",
            Code::UnknownRole => "unknown-role",
            Code::RtoExceedsMtpd => "rto-exceeds-mtpd",
            Code::InvalidFile => "invalid-file",
            Code::InvalidValue => "invalid-value",
            Code::RtoInversion => "rto-inversion",
            Code::SupplierRestoreExceedsRto => "supplier-restore-exceeds-rto",
            Code::NoRecoverySteps => "no-recovery-steps",
            Code::ReviewOverdue => "review-overdue",
            Code::RtoBeyondUnacceptableImpact => "rto-beyond-unacceptable-impact",
            Code::NotExercised => "not-exercised",
            Code::InvalidPhone => "invalid-phone",
        }
    }

    pub fn severity(self) -> Severity {
        match self {
            Code::RtoInversion
            | Code::SupplierRestoreExceedsRto
            | Code::NoRecoverySteps
            | Code::ReviewOverdue
            | Code::RtoBeyondUnacceptableImpact
            | Code::NotExercised
            | Code::InvalidPhone => Severity::Warning,
            _ => Severity::Error,
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl Code {
    /// The code of its string form (`rto-inversion`).
    pub fn parse(text: &str) -> Option<Code> {
        Code::ALL.into_iter().find(|c| c.as_str() == text)
    }
}

impl<'de> serde::Deserialize<'de> for Code {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Code, D::Error> {
        let text = String::deserialize(d)?;
        Code::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown finding code {text:?}")))
    }
}

/// A value a finding names, kept as data so that each reader sees it in their own language:
/// a system by its name, a duration as `4 t.` or `4 h`, a date as `10. juni 2025`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Arg {
    /// A system of the plan.
    System(SystemId),
    /// Systems in order round a dependency cycle, the first repeated at the end.
    Path(Vec<SystemId>),
    /// Systems, in no particular order.
    Systems(Vec<SystemId>),
    /// An id as the plan writes it (a person, a role, a system the plan lacks).
    Id(String),
    Duration(Duration),
    Date(NaiveDate),
    Number(u64),
    /// Fields of a system section, by their names (`rto`, `recovery_steps`).
    Fields(Vec<String>),
}

/// One thing the analysis (or the plan reader) found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub code: Code,
    /// The systems it concerns, the one whose section needs the fix first. Empty for plan-level
    /// findings.
    pub systems: Vec<SystemId>,
    /// Where in the section, as a path: `rto`, `depends_on[2]`, `recovery_steps[0].role`,
    /// `call_tree[3].person`.
    pub field: Option<String>,
    /// What it says in English, with ids, ISO dates and durations as plan files write them: the
    /// command line's and the API's text.
    pub message: String,
    /// What it says as data, for each reader's language.
    #[serde(flatten)]
    pub said: Box<Said>,
}

/// A finding accepted by an approved dispensation, until the last day it holds: "accepteret til
/// 1. juni 2027 (dispensation 4)". It is still a finding, counted apart from open warnings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Accepted {
    pub dispensation: i64,
    pub until: NaiveDate,
}

/// What a finding says as data: the key of its text among the locale strings
/// (`finding.text.<key>`; empty for the plan reader's findings, which only have their message)
/// and the values that fill it in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Said {
    #[serde(skip)]
    pub key: &'static str,
    #[serde(rename = "values", skip_serializing_if = "BTreeMap::is_empty")]
    pub args: BTreeMap<&'static str, Arg>,
    /// The dispensation that accepts it, while one does (a warning only): kept here, behind
    /// the finding's one box, so that a finding stays small.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepted: Option<Accepted>,
}

impl Finding {
    pub fn new(code: Code, systems: Vec<SystemId>, field: Option<String>, message: String) -> Self {
        Finding {
            code,
            systems,
            field,
            message,
            said: Box::default(),
        }
    }

    /// The finding with its text's key and values (see [`Said`]).
    pub fn says(
        mut self,
        key: &'static str,
        args: impl IntoIterator<Item = (&'static str, Arg)>,
    ) -> Self {
        self.said = Box::new(Said {
            key,
            args: args.into_iter().collect(),
            accepted: self.said.accepted,
        });
        self
    }

    pub fn severity(&self) -> Severity {
        self.code.severity()
    }

    /// The dispensation that accepts it, while one does.
    pub fn accepted(&self) -> Option<Accepted> {
        self.said.accepted
    }

    /// A warning no dispensation accepts: what is still to be done.
    pub fn is_open_warning(&self) -> bool {
        self.severity() == Severity::Warning && self.said.accepted.is_none()
    }

    /// The system whose section the finding belongs to.
    pub fn system(&self) -> Option<&SystemId> {
        self.systems.first()
    }
}

/// Sorts findings errors first, then by system and code, so output is stable.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (a.severity(), a.system(), a.code, &a.field).cmp(&(
            b.severity(),
            b.system(),
            b.code,
            &b.field,
        ))
    });
}

/// The closest known id to a mistyped one, if any is close enough to be a likely typo.
pub(crate) fn suggestion<'a>(wrong: &str, known: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    known
        .map(|k| (strsim::levenshtein(wrong, k), k))
        .filter(|(d, k)| *d <= (wrong.len().max(k.len()) / 3).max(1))
        .min()
        .map(|(_, k)| k)
}

/// ` (did you mean "ad"?)` when a known id is close to `wrong`, else nothing.
pub fn did_you_mean<'a>(wrong: &str, known: impl Iterator<Item = &'a str>) -> String {
    match suggestion(wrong, known) {
        Some(k) => format!(" (did you mean {k:?}?)"),
        None => String::new(),
    }
}

#[cfg(test)]
#[path = "../analysis_tests.rs"]
pub(crate) mod tests;
