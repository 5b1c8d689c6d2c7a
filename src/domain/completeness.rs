//! Completeness against the standards: what NIS2 (Commission Implementing Regulation (EU)
//! 2024/2690, annex point 4.1) and ISO/IEC 27001:2022 (controls A.5.29 and A.5.30) ask of a
//! contingency plan, checked against the plan: present, partly present (with what is missing),
//! or missing, and where to fix it.

use serde::Serialize;

use super::analysis::{Code, Finding};
use super::{Plan, System};

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

/// One requirement and how the plan meets it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Stable id; the page's texts are keyed by it.
    pub id: &'static str,
    /// Where the standards ask for it.
    pub refs: &'static str,
    pub status: Status,
    /// What is missing: field names, or the ids of the systems that lack it.
    pub missing: Vec<String>,
    pub fix: Fix,
}

fn check(id: &'static str, refs: &'static str, fix: Fix, missing: Vec<String>, of: usize) -> Check {
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
fn empty(fields: &[(&str, &str)]) -> Vec<String> {
    fields
        .iter()
        .filter(|(_, text)| text.trim().is_empty())
        .map(|(name, _)| name.to_string())
        .collect()
}

/// The systems for which `lacks` holds.
fn systems_lacking(plan: &Plan, lacks: impl Fn(&System) -> bool) -> Vec<String> {
    plan.systems
        .iter()
        .filter(|s| lacks(s))
        .map(|s| s.id.to_string())
        .collect()
}

/// The systems named first by findings of these codes.
fn flagged(findings: &[Finding], codes: &[Code]) -> Vec<String> {
    let mut ids: Vec<String> = findings
        .iter()
        .filter(|f| codes.contains(&f.code))
        .filter_map(|f| f.system().map(ToString::to_string))
        .collect();
    ids.sort();
    ids.dedup();
    ids
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
}

/// Every requirement, in the order of the regulation's annex and then the ISO controls.
pub fn checks(facts: &Facts<'_>) -> Vec<Check> {
    let plan = facts.plan;
    let s = &plan.sections;
    let n = plan.systems.len().max(1);
    let holders = |role: &super::RoleId| plan.people.iter().any(|p| p.roles.contains(role));
    let mut roles = Vec::new();
    if plan.roles.is_empty() {
        roles.push("roles".to_string());
    }
    roles.extend(
        plan.roles
            .iter()
            .filter(|r| r.responsibilities.trim().is_empty())
            .map(|r| format!("roles.{}.responsibilities", r.id)),
    );
    for (name, role) in [
        ("owner_role", &plan.owner_role),
        ("approver_role", &plan.approver_role),
    ] {
        if !holders(role) {
            roles.push(format!("{name} ({role})"));
        }
    }
    let mut contacts = Vec::new();
    if plan.call_tree.is_empty() {
        contacts.push("call_tree".to_string());
    }
    if plan.channels.is_empty() {
        contacts.push("channels".to_string());
    }
    contacts.extend(
        plan.call_tree
            .iter()
            .filter(|c| {
                plan.person(c.person.as_str())
                    .is_none_or(|p| p.phone.trim().is_empty())
            })
            .map(|c| format!("call_tree: {} (phone)", c.person)),
    );
    let mut criteria = Vec::new();
    if s.activation_criteria.is_empty() {
        criteria.push("activation_criteria".to_string());
    }
    if s.stand_down_criteria.is_empty() {
        criteria.push("stand_down_criteria".to_string());
    }
    let order = flagged(
        facts.findings,
        &[Code::DependencyCycle, Code::UnknownDependency],
    );
    let mut tests = Vec::new();
    if facts.approved_versions == 0 {
        tests.push("approved version".to_string());
    }
    if facts.recent_drills == 0 {
        tests.push("drill within the exercise interval".to_string());
    }
    tests.extend(
        flagged(facts.findings, &[Code::ReviewOverdue])
            .into_iter()
            .map(|id| format!("{id}: review overdue")),
    );
    tests.extend(
        flagged(facts.findings, &[Code::NotExercised])
            .into_iter()
            .map(|id| format!("{id}: not exercised")),
    );
    let mut readiness: Vec<String> = facts.infeasible.iter().map(|s| s.to_string()).collect();
    readiness.extend(flagged(
        facts.findings,
        &[Code::RtoInversion, Code::SupplierRestoreExceedsRto],
    ));
    readiness.sort();
    readiness.dedup();
    vec![
        check(
            "purpose",
            "NIS2 CIR 2024/2690 annex 4.1.2(a)",
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
            "NIS2 CIR 2024/2690 annex 4.1.2(b)",
            Fix::People,
            roles,
            plan.roles.len() + 3,
        ),
        check(
            "contacts",
            "NIS2 CIR 2024/2690 annex 4.1.2(c)",
            Fix::Sections,
            contacts,
            plan.call_tree.len() + 2,
        ),
        check(
            "activation",
            "NIS2 CIR 2024/2690 annex 4.1.2(d)",
            Fix::Sections,
            criteria,
            2,
        ),
        check(
            "order",
            "NIS2 CIR 2024/2690 annex 4.1.2(e)",
            Fix::Systems,
            order,
            n,
        ),
        check(
            "recovery",
            "NIS2 CIR 2024/2690 annex 4.1.2(f); ISO 27001 A.5.30",
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
            "NIS2 CIR 2024/2690 annex 4.1.2(g)",
            Fix::Sections,
            empty(&[("resources", &s.resources), ("backups", &s.backups)]),
            2,
        ),
        check(
            "return",
            "NIS2 CIR 2024/2690 annex 4.1.2(h)",
            Fix::Sections,
            empty(&[("return_to_normal", &s.return_to_normal)]),
            1,
        ),
        check(
            "incidents",
            "NIS2 CIR 2024/2690 annex 3 and 4.1; ISO 27001 A.5.29",
            Fix::Sections,
            empty(&[("incident_handling", &s.incident_handling)]),
            1,
        ),
        check(
            "impact",
            "NIS2 CIR 2024/2690 annex 4.1.3",
            Fix::Systems,
            systems_lacking(plan, |s| s.impact.is_empty() || s.mtpd.is_none()),
            n,
        ),
        check(
            "tests",
            "NIS2 CIR 2024/2690 annex 4.1.4; ISO 27001 A.5.30",
            Fix::Drills,
            tests,
            n + 2,
        ),
        check(
            "disruption",
            "ISO 27001 A.5.29",
            Fix::Systems,
            systems_lacking(plan, |s| {
                s.workaround.trim().is_empty() || s.owner.is_none()
            }),
            n,
        ),
        check("readiness", "ISO 27001 A.5.30", Fix::Systems, readiness, n),
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
        };
        let checks = checks(&facts);
        let purpose = find(&checks, "purpose");
        assert_eq!(purpose.status, Status::Partial);
        assert_eq!(purpose.missing, ["scope", "audience"]);
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
        };
        let tests = checks(&facts)
            .into_iter()
            .find(|c| c.id == "tests")
            .unwrap();
        assert_eq!(tests.status, Status::Partial);
        assert_eq!(
            tests.missing,
            [
                "approved version",
                "drill within the exercise interval",
                "power: review overdue"
            ]
        );
    }
}
