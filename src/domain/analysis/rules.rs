//! The consistency check: every finding about a plan, one function per family of rules.

use std::collections::HashSet;

use chrono::NaiveDate;

use super::graph::PlanGraph;
use super::{Arg, Code, Finding, sort_findings, suggestion};
use crate::domain::plan::{ImpactLevel, Plan, SystemId};

/// Every consistency finding of the plan, as of `today` (for review deadlines).
pub fn check(plan: &Plan, today: NaiveDate) -> Vec<Finding> {
    let graph = PlanGraph::new(plan);
    let known = Known::new(plan);
    let mut out = Vec::new();
    // Each family walks the systems in plan order; the sort below orders the findings by
    // severity, system, code and field, and keeps findings alike in that order.
    people_and_roles(&mut out, plan, &known);
    phones(&mut out, plan);
    duplicate_systems(&mut out, &graph);
    dependency_cycles(&mut out, plan, &graph);
    dependencies(&mut out, plan, &graph);
    responsibilities(&mut out, plan, &known);
    horizons(&mut out, plan);
    suppliers(&mut out, plan);
    recovery_steps(&mut out, plan);
    reviews(&mut out, plan, today);
    sort_findings(&mut out);
    out
}

/// The ids of the plan's people and roles, and the findings for a name that is not one of them.
struct Known<'p> {
    plan: &'p Plan,
    people: HashSet<&'p str>,
    roles: HashSet<&'p str>,
}

impl<'p> Known<'p> {
    fn new(plan: &'p Plan) -> Self {
        Known {
            plan,
            people: plan.people.iter().map(|p| p.id.as_str()).collect(),
            roles: plan.roles.iter().map(|r| r.id.as_str()).collect(),
        }
    }

    fn unknown_person(&self, out: &mut Vec<Finding>, systems: Vec<SystemId>, at: String, id: &str) {
        let near = suggestion(id, self.plan.people.iter().map(|p| p.id.as_str()));
        out.push(unknown(
            Code::UnknownPerson,
            "person",
            systems,
            at,
            id,
            near,
        ));
    }

    fn unknown_role(&self, out: &mut Vec<Finding>, systems: Vec<SystemId>, at: String, id: &str) {
        let near = suggestion(id, self.plan.roles.iter().map(|r| r.id.as_str()));
        out.push(unknown(Code::UnknownRole, "role", systems, at, id, near));
    }
}

/// A finding that `field` names `id`, which is no `kind` (person, role, system) of the plan;
/// `near` is the known id it was most likely meant to be.
fn unknown(
    code: Code,
    kind: &str,
    systems: Vec<SystemId>,
    field: String,
    id: &str,
    near: Option<&str>,
) -> Finding {
    let hint = near.map_or_else(String::new, |k| format!(" (did you mean {k:?}?)"));
    let mut args = vec![("id", Arg::Id(id.to_string()))];
    args.extend(near.map(|k| ("suggestion", Arg::Id(k.to_string()))));
    Finding::new(
        code,
        systems,
        Some(field),
        format!("unknown {kind} {id:?}{hint}"),
    )
    .says(code.as_str(), args)
}

/// The systems a finding about one system concerns.
fn about(id: &SystemId) -> Vec<SystemId> {
    vec![id.clone()]
}

/// Plan level: unique people and roles, roles the plan names, people's roles, the call tree.
fn people_and_roles(out: &mut Vec<Finding>, plan: &Plan, known: &Known) {
    duplicate_ids(
        out,
        "people",
        "person",
        plan.people.iter().map(|p| p.id.as_str()),
    );
    duplicate_ids(
        out,
        "roles",
        "role",
        plan.roles.iter().map(|r| r.id.as_str()),
    );
    for (name, role) in [
        ("owner_role", &plan.owner_role),
        ("approver_role", &plan.approver_role),
    ] {
        if !known.roles.contains(role.as_str()) {
            known.unknown_role(out, vec![], name.to_string(), role.as_str());
        }
    }
    for (i, person) in plan.people.iter().enumerate() {
        for (j, role) in person.roles.iter().enumerate() {
            if !known.roles.contains(role.as_str()) {
                known.unknown_role(
                    out,
                    vec![],
                    format!("people[{i}].roles[{j}]"),
                    role.as_str(),
                );
            }
        }
    }
    for (i, entry) in plan.call_tree.iter().enumerate() {
        if !known.people.contains(entry.person.as_str()) {
            known.unknown_person(
                out,
                vec![],
                format!("call_tree[{i}].person"),
                entry.person.as_str(),
            );
        }
        if let Some(by) = &entry.called_by
            && !known.people.contains(by.as_str())
        {
            known.unknown_person(
                out,
                vec![],
                format!("call_tree[{i}].called_by"),
                by.as_str(),
            );
        }
    }
}

/// A `duplicate-id` finding for every id already used earlier in the list `list`.
fn duplicate_ids<'a>(
    out: &mut Vec<Finding>,
    list: &str,
    kind: &str,
    ids: impl Iterator<Item = &'a str>,
) {
    let mut seen = HashSet::new();
    for (i, id) in ids.enumerate() {
        if !seen.insert(id) {
            out.push(
                Finding::new(
                    Code::DuplicateId,
                    vec![],
                    Some(format!("{list}[{i}].id")),
                    format!("{kind} id {id:?} is used by more than one {kind}"),
                )
                .says(
                    if kind == "person" {
                        "duplicate-person"
                    } else {
                        "duplicate-role"
                    },
                    [("id", Arg::Id(id.to_string()))],
                ),
            );
        }
    }
}

/// A system id used by more than one system.
fn duplicate_systems(out: &mut Vec<Finding>, graph: &PlanGraph) {
    for &d in &graph.duplicates {
        let id = graph.id(d);
        out.push(
            Finding::new(
                Code::DuplicateSystem,
                about(id),
                None,
                format!(
                    "system id {:?} is used by more than one system",
                    id.as_str()
                ),
            )
            .says("duplicate-system", [("id", Arg::Id(id.to_string()))]),
        );
    }
}

/// Each dependency cycle, with one path round it and the other systems caught in it.
fn dependency_cycles(out: &mut Vec<Finding>, plan: &Plan, graph: &PlanGraph) {
    for members in graph.dependencies_first() {
        let first = members[0];
        if !graph.cyclic[graph.component[first as usize] as usize] {
            continue;
        }
        let path = graph.cycle_path(members);
        let shown: Vec<&str> = path.iter().map(|&i| graph.id(i).as_str()).collect();
        let mut message = if path.len() == 2 {
            format!("{} depends on itself", shown[0])
        } else {
            format!("dependency cycle: {}", shown.join(" → "))
        };
        let others: Vec<u32> = members
            .iter()
            .copied()
            .filter(|m| !path.contains(m))
            .collect();
        if !others.is_empty() {
            let names: Vec<&str> = others.iter().map(|&m| graph.id(m).as_str()).collect();
            message.push_str(&format!(" (the cycle also involves {})", names.join(", ")));
        }
        let at = plan.systems[first as usize]
            .depends_on
            .iter()
            .position(|d| d.as_str() == shown[1])
            .map(|i| format!("depends_on[{i}]"));
        let ids =
            |of: &[u32]| -> Vec<SystemId> { of.iter().map(|&i| graph.id(i).clone()).collect() };
        let systems: Vec<SystemId> = ids(&path[..path.len() - 1])
            .into_iter()
            .chain(ids(&others))
            .collect();
        let finding = Finding::new(Code::DependencyCycle, systems, at, message);
        out.push(match (path.len(), others.is_empty()) {
            (2, _) => finding.says(
                "self-dependency",
                [("system", Arg::System(graph.id(first).clone()))],
            ),
            (_, true) => finding.says("dependency-cycle", [("path", Arg::Path(ids(&path)))]),
            (_, false) => finding.says(
                "dependency-cycle-with",
                [
                    ("path", Arg::Path(ids(&path))),
                    ("others", Arg::Systems(ids(&others))),
                ],
            ),
        });
    }
}

/// Each dependency of each system: it must name a system, and one that is not slower to recover
/// (an RTO inversion) unless both lie in one cycle.
fn dependencies(out: &mut Vec<Finding>, plan: &Plan, graph: &PlanGraph) {
    for (v, system) in plan.systems.iter().enumerate() {
        let id = &system.id;
        for (i, dep) in system.depends_on.iter().enumerate() {
            match graph.index.get(dep.as_str()) {
                None => {
                    let near = suggestion(dep.as_str(), plan.systems.iter().map(|s| s.id.as_str()));
                    out.push(unknown(
                        Code::UnknownDependency,
                        "system",
                        about(id),
                        format!("depends_on[{i}]"),
                        dep.as_str(),
                        near,
                    ));
                }
                Some(&w) => {
                    if let (Some(own), Some(theirs)) = (system.rto, graph.rto(w))
                        && theirs > own
                        && !graph.internal(v as u32, w)
                    {
                        out.push(
                            Finding::new(
                                Code::RtoInversion,
                                vec![id.clone(), dep.clone()],
                                Some(format!("depends_on[{i}]")),
                                format!(
                                    "depends on {:?} whose RTO ({theirs}) is longer than its own ({own})",
                                    dep.as_str()
                                ),
                            )
                            .says(
                                "rto-inversion",
                                [
                                    ("dependency", Arg::System(dep.clone())),
                                    ("theirs", Arg::Duration(theirs)),
                                    ("own", Arg::Duration(own)),
                                ],
                            ),
                        );
                    }
                }
            }
        }
    }
}

/// Who is named in each system section: an owner who is a person of the plan, a deputy and a
/// reviewer who are, and recovery steps assigned to roles of the plan.
fn responsibilities(out: &mut Vec<Finding>, plan: &Plan, known: &Known) {
    for system in &plan.systems {
        let id = &system.id;
        match &system.owner {
            None => out.push(
                Finding::new(
                    Code::MissingOwner,
                    about(id),
                    Some("owner".into()),
                    "no system owner (systemejer) is named".into(),
                )
                .says("missing-owner", []),
            ),
            Some(owner) if !known.people.contains(owner.as_str()) => {
                known.unknown_person(out, about(id), "owner".into(), owner.as_str())
            }
            Some(_) => {}
        }
        for (name, person) in [
            ("deputy", &system.deputy),
            ("reviewed_by", &system.reviewed_by),
        ] {
            if let Some(p) = person
                && !known.people.contains(p.as_str())
            {
                known.unknown_person(out, about(id), name.into(), p.as_str());
            }
        }
        for (i, step) in system.recovery_steps.iter().enumerate() {
            if !known.roles.contains(step.role.as_str()) {
                known.unknown_role(
                    out,
                    about(id),
                    format!("recovery_steps[{i}].role"),
                    step.role.as_str(),
                );
            }
        }
    }
}

/// Each system's RTO against its own horizons: within the MTPD, and before the outage becomes
/// unacceptable in its impact table.
fn horizons(out: &mut Vec<Finding>, plan: &Plan) {
    for system in &plan.systems {
        let id = &system.id;
        if let (Some(rto), Some(mtpd)) = (system.rto, system.mtpd)
            && rto > mtpd
        {
            out.push(
                Finding::new(
                    Code::RtoExceedsMtpd,
                    about(id),
                    Some("rto".into()),
                    format!("RTO ({rto}) is longer than the MTPD ({mtpd})"),
                )
                .says(
                    "rto-exceeds-mtpd",
                    [("rto", Arg::Duration(rto)), ("mtpd", Arg::Duration(mtpd))],
                ),
            );
        }
        if let (Some(rto), Some((i, step))) = (
            system.rto,
            system
                .impact
                .iter()
                .enumerate()
                .find(|(_, s)| s.level == ImpactLevel::Unacceptable),
        ) && rto > step.after
        {
            out.push(
                Finding::new(
                    Code::RtoBeyondUnacceptableImpact,
                    about(id),
                    Some(format!("impact[{i}].after")),
                    format!(
                        "the RTO ({rto}) lies after the point where the outage becomes unacceptable ({})",
                        step.after
                    ),
                )
                .says(
                    "rto-beyond-unacceptable-impact",
                    [("rto", Arg::Duration(rto)), ("after", Arg::Duration(step.after))],
                ),
            );
        }
    }
}

/// A supplier whose contract allows a longer restore than the system's RTO.
fn suppliers(out: &mut Vec<Finding>, plan: &Plan) {
    for system in &plan.systems {
        if let (Some(rto), Some(restore)) = (
            system.rto,
            system.supplier.as_ref().and_then(|s| s.contract_restore),
        ) && restore > rto
        {
            out.push(
                Finding::new(
                    Code::SupplierRestoreExceedsRto,
                    about(&system.id),
                    Some("supplier.contract_restore".into()),
                    format!("the supplier's contract restore time ({restore}) is longer than the RTO ({rto})"),
                )
                .says(
                    "supplier-restore-exceeds-rto",
                    [("restore", Arg::Duration(restore)), ("rto", Arg::Duration(rto))],
                ),
            );
        }
    }
}

/// A person whose phone number no SMS can be sent to (not E.164, nor eight Danish digits):
/// found when the plan is written, not when an alert fails at night.
fn phones(out: &mut Vec<Finding>, plan: &Plan) {
    for (i, person) in plan.people.iter().enumerate() {
        let phone = person.phone.trim();
        if phone.is_empty() || crate::domain::sms::e164(phone).is_some() {
            continue;
        }
        out.push(
            Finding::new(
                Code::InvalidPhone,
                vec![],
                Some(format!("people[{i}].phone")),
                format!(
                    "{}: the phone number {phone:?} cannot be used for SMS (write 8 digits, or + and the country code)",
                    person.id
                ),
            )
            .says(
                "invalid-phone",
                [
                    ("person", Arg::Id(person.name.clone())),
                    ("phone", Arg::Id(phone.to_string())),
                ],
            ),
        );
    }
}

/// A system of criticality 1 or 2 without recovery steps.
fn recovery_steps(out: &mut Vec<Finding>, plan: &Plan) {
    for system in &plan.systems {
        if system.criticality.level() <= 2 && system.recovery_steps.is_empty() {
            out.push(
                Finding::new(
                    Code::NoRecoverySteps,
                    about(&system.id),
                    Some("recovery_steps".into()),
                    format!(
                        "criticality {} system has no recovery steps",
                        system.criticality.level()
                    ),
                )
                .says(
                    "no-recovery-steps",
                    [(
                        "criticality",
                        Arg::Number(u64::from(system.criticality.level())),
                    )],
                ),
            );
        }
    }
}

/// A section never reviewed, or whose review fell due before `today`.
fn reviews(out: &mut Vec<Finding>, plan: &Plan, today: NaiveDate) {
    for system in &plan.systems {
        let id = &system.id;
        let interval = system.review_interval.unwrap_or(plan.review_interval);
        match (system.last_reviewed, plan.review_due(system)) {
            (None, _) | (_, None) => out.push(
                Finding::new(
                    Code::ReviewOverdue,
                    about(id),
                    Some("last_reviewed".into()),
                    "the section has never been reviewed".into(),
                )
                .says("never-reviewed", []),
            ),
            (Some(last), Some(due)) => {
                if due < today {
                    out.push(
                        Finding::new(
                            Code::ReviewOverdue,
                            about(id),
                            Some("last_reviewed".into()),
                            format!(
                                "last reviewed {last}, review was due {due} (interval {interval})"
                            ),
                        )
                        .says(
                            "review-overdue",
                            [
                                ("last", Arg::Date(last)),
                                ("due", Arg::Date(due)),
                                ("interval", Arg::Duration(interval)),
                            ],
                        ),
                    );
                }
            }
        }
    }
}
