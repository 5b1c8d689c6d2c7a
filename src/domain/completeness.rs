//! Completeness against the standards: what NIS2 (Commission Implementing Regulation (EU)
//! 2024/2690, annex point 4.1) and ISO/IEC 27001:2022 (controls A.5.29 and A.5.30) ask of a
//! contingency plan, checked against the plan: present, partly present (with what is missing),
//! or missing, and where to fix it.

use serde::Serialize;

use super::analysis::{Code, Finding};
use super::{PersonId, Plan, RoleId, System, SystemId};

/// How far the plan meets one requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Present,
    Partial,
    Missing,
}

/// Where a gap is fixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Fix {
    Sections,
    People,
    Systems,
    Drills,
}

/// A standard the checks cite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Standard {
    /// Commission Implementing Regulation (EU) 2024/2690 under NIS2, its annex.
    Nis2,
    /// ISO/IEC 27001:2022, its annex A controls.
    Iso27001,
}

/// Where a standard asks for a requirement: points of the NIS2 regulation's annex (`4.1.2(a)`:
/// point 4.1.2, letter a) or ISO 27001 controls (`A.5.30`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Reference {
    pub standard: Standard,
    pub points: &'static [&'static str],
}

const fn nis2(points: &'static [&'static str]) -> Reference {
    Reference {
        standard: Standard::Nis2,
        points,
    }
}

const fn iso(points: &'static [&'static str]) -> Reference {
    Reference {
        standard: Standard::Iso27001,
        points,
    }
}

/// One thing a requirement finds missing, as data for the reader's language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Gap {
    /// A field of the plan that is empty (`purpose`, `call_tree`).
    Field {
        field: &'static str,
    },
    /// A role whose responsibilities are not described.
    Responsibilities {
        role: RoleId,
    },
    /// The plan names `role` as its `field` (`owner_role`, `approver_role`) and nobody has it.
    Unheld {
        field: &'static str,
        role: RoleId,
    },
    /// A person of the call tree without a phone number.
    Phone {
        person: PersonId,
    },
    /// A system that lacks what the requirement asks.
    System {
        system: SystemId,
    },
    /// No version of the plan is approved.
    ApprovedVersion,
    /// No drill was held within the exercise interval.
    RecentDrill,
    /// The call tree (its contacts and channels) was not tested within the exercise interval.
    CallTreeTest,
    ReviewOverdue {
        system: SystemId,
    },
    NotExercised {
        system: SystemId,
    },
}

impl Gap {
    /// The system the gap is in, if it is in one.
    pub fn system(&self) -> Option<&SystemId> {
        match self {
            Gap::System { system }
            | Gap::ReviewOverdue { system }
            | Gap::NotExercised { system } => Some(system),
            _ => None,
        }
    }
}

/// One requirement and how the plan meets it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Stable id; the page's texts are keyed by it.
    pub id: &'static str,
    /// Where the standards ask for it.
    pub refs: &'static [Reference],
    pub status: Status,
    /// What is missing.
    pub missing: Vec<Gap>,
    pub fix: Fix,
}

fn check(
    id: &'static str,
    refs: &'static [Reference],
    fix: Fix,
    missing: Vec<Gap>,
    of: usize,
) -> Check {
    let status = if missing.is_empty() {
        Status::Present
    } else if missing.len() < of {
        Status::Partial
    } else {
        Status::Missing
    };
    Check {
        id,
        refs,
        status,
        missing,
        fix,
    }
}

/// The named texts that are empty.
fn empty(fields: &[(&'static str, &str)]) -> Vec<Gap> {
    fields
        .iter()
        .filter(|(_, text)| text.trim().is_empty())
        .map(|&(field, _)| Gap::Field { field })
        .collect()
}

/// The systems for which `lacks` holds.
fn systems_lacking(plan: &Plan, lacks: impl Fn(&System) -> bool) -> Vec<Gap> {
    plan.systems
        .iter()
        .filter(|s| lacks(s))
        .map(|s| Gap::System {
            system: s.id.clone(),
        })
        .collect()
}

/// The systems named first by findings of these codes.
fn flagged(findings: &[Finding], codes: &[Code]) -> Vec<SystemId> {
    let mut ids: Vec<SystemId> = findings
        .iter()
        .filter(|f| codes.contains(&f.code))
        .filter_map(|f| f.system().cloned())
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// Each system as a gap.
fn systems(ids: impl IntoIterator<Item = SystemId>) -> Vec<Gap> {
    ids.into_iter()
        .map(|system| Gap::System { system })
        .collect()
}

/// What the plan has, and what the drills and approvals add to it.
pub struct Facts<'a> {
    pub plan: &'a Plan,
    /// The analysis findings with exercise coverage.
    pub findings: &'a [Finding],
    /// The systems that cannot make their RTO when everything is down.
    pub infeasible: &'a [super::SystemId],
    pub approved_versions: usize,
    /// Drills held within the plan's exercise interval.
    pub recent_drills: usize,
    /// Tests of the call tree held within the plan's exercise interval.
    pub recent_call_tree_tests: usize,
}

/// The ids of every requirement, in the order `checks` gives them.
pub const IDS: [&str; 13] = [
    "purpose",
    "roles",
    "contacts",
    "activation",
    "order",
    "recovery",
    "resources",
    "return",
    "incidents",
    "impact",
    "tests",
    "disruption",
    "readiness",
];

/// Every requirement, in the order of the regulation's annex and then the ISO controls.
pub fn checks(facts: &Facts<'_>) -> Vec<Check> {
    let plan = facts.plan;
    let s = &plan.sections;
    let n = plan.systems.len().max(1);
    let holders = |role: &super::RoleId| plan.people.iter().any(|p| p.roles.contains(role));
    let mut roles = Vec::new();
    if plan.roles.is_empty() {
        roles.push(Gap::Field { field: "roles" });
    }
    roles.extend(
        plan.roles
            .iter()
            .filter(|r| r.responsibilities.trim().is_empty())
            .map(|r| Gap::Responsibilities { role: r.id.clone() }),
    );
    for (name, role) in [
        ("owner_role", &plan.owner_role),
        ("approver_role", &plan.approver_role),
    ] {
        if !holders(role) {
            roles.push(Gap::Unheld {
                field: name,
                role: role.clone(),
            });
        }
    }
    let mut contacts = Vec::new();
    if plan.call_tree.is_empty() {
        contacts.push(Gap::Field { field: "call_tree" });
    }
    if plan.channels.is_empty() {
        contacts.push(Gap::Field { field: "channels" });
    }
    contacts.extend(
        plan.call_tree
            .iter()
            .filter(|c| {
                plan.person(c.person.as_str())
                    .is_none_or(|p| p.phone.trim().is_empty())
            })
            .map(|c| Gap::Phone {
                person: c.person.clone(),
            }),
    );
    if !plan.call_tree.is_empty() && facts.recent_call_tree_tests == 0 {
        contacts.push(Gap::CallTreeTest);
    }
    let mut criteria = Vec::new();
    if s.activation_criteria.is_empty() {
        criteria.push(Gap::Field {
            field: "activation_criteria",
        });
    }
    if s.stand_down_criteria.is_empty() {
        criteria.push(Gap::Field {
            field: "stand_down_criteria",
        });
    }
    let order = systems(flagged(
        facts.findings,
        &[Code::DependencyCycle, Code::UnknownDependency],
    ));
    let mut tests = Vec::new();
    if facts.approved_versions == 0 {
        tests.push(Gap::ApprovedVersion);
    }
    if facts.recent_drills == 0 {
        tests.push(Gap::RecentDrill);
    }
    tests.extend(
        flagged(facts.findings, &[Code::ReviewOverdue])
            .into_iter()
            .map(|system| Gap::ReviewOverdue { system }),
    );
    tests.extend(
        flagged(facts.findings, &[Code::NotExercised])
            .into_iter()
            .map(|system| Gap::NotExercised { system }),
    );
    let mut readiness: Vec<SystemId> = facts.infeasible.to_vec();
    readiness.extend(flagged(
        facts.findings,
        &[Code::RtoInversion, Code::SupplierRestoreExceedsRto],
    ));
    readiness.sort();
    readiness.dedup();
    let readiness = systems(readiness);
    vec![
        check(
            "purpose",
            const { &[nis2(&["4.1.2(a)"])] },
            Fix::Sections,
            empty(&[
                ("purpose", &s.purpose),
                ("scope", &s.scope),
                ("audience", &s.audience),
            ]),
            3,
        ),
        check(
            "roles",
            const { &[nis2(&["4.1.2(b)"])] },
            Fix::People,
            roles,
            plan.roles.len() + 3,
        ),
        check(
            "contacts",
            const { &[nis2(&["4.1.2(c)"])] },
            Fix::Sections,
            contacts,
            plan.call_tree.len() + 3,
        ),
        check(
            "activation",
            const { &[nis2(&["4.1.2(d)"])] },
            Fix::Sections,
            criteria,
            2,
        ),
        check(
            "order",
            const { &[nis2(&["4.1.2(e)"])] },
            Fix::Systems,
            order,
            n,
        ),
        check(
            "recovery",
            const { &[nis2(&["4.1.2(f)"]), iso(&["A.5.30"])] },
            Fix::Systems,
            systems_lacking(plan, |s| {
                s.recovery_steps.is_empty()
                    || s.rto.is_none()
                    || s.rpo.is_none()
                    || s.verification.trim().is_empty()
            }),
            n,
        ),
        check(
            "resources",
            const { &[nis2(&["4.1.2(g)"])] },
            Fix::Sections,
            empty(&[("resources", &s.resources), ("backups", &s.backups)]),
            2,
        ),
        check(
            "return",
            const { &[nis2(&["4.1.2(h)"])] },
            Fix::Sections,
            empty(&[("return_to_normal", &s.return_to_normal)]),
            1,
        ),
        check(
            "incidents",
            const { &[nis2(&["3", "4.1"]), iso(&["A.5.29"])] },
            Fix::Sections,
            empty(&[("incident_handling", &s.incident_handling)]),
            1,
        ),
        check(
            "impact",
            const { &[nis2(&["4.1.3"])] },
            Fix::Systems,
            systems_lacking(plan, |s| s.impact.is_empty() || s.mtpd.is_none()),
            n,
        ),
        check(
            "tests",
            const { &[nis2(&["4.1.4"]), iso(&["A.5.30"])] },
            Fix::Drills,
            tests,
            n + 2,
        ),
        check(
            "disruption",
            const { &[iso(&["A.5.29"])] },
            Fix::Systems,
            systems_lacking(plan, |s| {
                s.workaround.trim().is_empty() || s.owner.is_none()
            }),
            n,
        ),
        check(
            "readiness",
            const { &[iso(&["A.5.30"])] },
            Fix::Systems,
            readiness,
            n,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::analysis::tests::plan;

    fn find<'a>(checks: &'a [Check], id: &str) -> &'a Check {
        checks.iter().find(|c| c.id == id).unwrap()
    }

    #[test]
    fn empty_sections_are_missing_and_one_gap_is_partial() {
        let mut p = plan();
        p.sections.purpose = "Formål".into();
        let facts = Facts {
            plan: &p,
            findings: &[],
            infeasible: &[],
            approved_versions: 1,
            recent_drills: 1,
            recent_call_tree_tests: 1,
        };
        let checks = checks(&facts);
        assert_eq!(checks.iter().map(|c| c.id).collect::<Vec<_>>(), IDS);
        let purpose = find(&checks, "purpose");
        assert_eq!(purpose.status, Status::Partial);
        assert_eq!(
            purpose.missing,
            [
                Gap::Field { field: "scope" },
                Gap::Field { field: "audience" }
            ]
        );
        assert_eq!(find(&checks, "return").status, Status::Missing);
        assert_eq!(find(&checks, "tests").status, Status::Present);
        let mut p = p.clone();
        p.sections.return_to_normal = "Tilbage til normal drift".into();
        let facts = Facts { plan: &p, ..facts };
        assert_eq!(
            find(&super::checks(&facts), "return").status,
            Status::Present
        );
    }

    #[test]
    fn tests_and_reviews_name_what_is_missing() {
        let p = plan();
        let overdue = Finding::new(
            Code::ReviewOverdue,
            vec![p.systems[0].id.clone()],
            None,
            String::new(),
        );
        let findings = [overdue];
        let facts = Facts {
            plan: &p,
            findings: &findings,
            infeasible: &[],
            approved_versions: 0,
            recent_drills: 0,
            recent_call_tree_tests: 0,
        };
        let tests = checks(&facts)
            .into_iter()
            .find(|c| c.id == "tests")
            .unwrap();
        assert_eq!(tests.status, Status::Partial);
        assert_eq!(
            tests.missing,
            [
                Gap::ApprovedVersion,
                Gap::RecentDrill,
                Gap::ReviewOverdue {
                    system: p.systems[0].id.clone()
                }
            ]
        );
    }
}
