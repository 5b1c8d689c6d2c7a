//! Does the plan hold? Consistency findings, impact of an outage, recovery order, feasibility of
//! each system's RTO and the RTO each system would need for the plan to hold.
//!
//! Everything here is linear in systems + dependencies (the recovery order adds a log factor for
//! its priority queue), so it stays fast at 10,000 systems and 50,000 dependencies: the dependency
//! graph is built once as integer adjacency lists, its strongly connected components are found
//! with an iterative Tarjan walk (no recursion, so deep chains cannot overflow the stack), and the
//! components come out dependencies-first, which is the order every other pass needs.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::fmt;

use chrono::NaiveDate;
use serde::Serialize;

use super::duration::Duration;
use super::plan::{ImpactLevel, Plan, SystemId};

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
}

impl Code {
    pub const ALL: [Code; 17] = [
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
        }
    }

    pub fn severity(self) -> Severity {
        match self {
            Code::RtoInversion
            | Code::SupplierRestoreExceedsRto
            | Code::NoRecoverySteps
            | Code::ReviewOverdue
            | Code::RtoBeyondUnacceptableImpact
            | Code::NotExercised => Severity::Warning,
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
    pub message: String,
}

impl Finding {
    pub fn new(code: Code, systems: Vec<SystemId>, field: Option<String>, message: String) -> Self {
        Finding {
            code,
            systems,
            field,
            message,
        }
    }

    pub fn severity(&self) -> Severity {
        self.code.severity()
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

const NONE: u32 = u32::MAX;

/// The plan's dependency graph by index: built once, shared by every pass below.
pub struct PlanGraph<'p> {
    plan: &'p Plan,
    /// Index of each system id (the first system with that id).
    index: HashMap<&'p str, u32>,
    /// For each system, the systems it depends on (known, deduplicated).
    deps: Vec<Vec<u32>>,
    /// Strongly connected component of each system.
    component: Vec<u32>,
    /// Components dependencies-first; each holds its members.
    components: Vec<Vec<u32>>,
    /// Whether a component is a cycle (more than one member, or one that depends on itself).
    cyclic: Vec<bool>,
    /// Systems whose id is already taken by an earlier system.
    duplicates: Vec<u32>,
}

impl<'p> PlanGraph<'p> {
    pub fn new(plan: &'p Plan) -> Self {
        let n = plan.systems.len();
        let mut index = HashMap::with_capacity(n);
        let mut duplicates = Vec::new();
        for (i, system) in plan.systems.iter().enumerate() {
            // The first system keeps the id; later ones are duplicates.
            match index.entry(system.id.as_str()) {
                std::collections::hash_map::Entry::Occupied(_) => duplicates.push(i as u32),
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(i as u32);
                }
            }
        }
        let deps: Vec<Vec<u32>> = plan
            .systems
            .iter()
            .map(|s| {
                let mut out: Vec<u32> = Vec::with_capacity(s.depends_on.len());
                for d in &s.depends_on {
                    if let Some(&j) = index.get(d.as_str())
                        && !out.contains(&j)
                    {
                        out.push(j);
                    }
                }
                out
            })
            .collect();
        let (component, components) = tarjan(&deps);
        let cyclic = components
            .iter()
            .map(|members| members.len() > 1 || deps[members[0] as usize].contains(&members[0]))
            .collect();
        PlanGraph {
            plan,
            index,
            deps,
            component,
            components,
            cyclic,
            duplicates,
        }
    }

    pub fn plan(&self) -> &'p Plan {
        self.plan
    }

    fn id(&self, i: u32) -> &'p SystemId {
        &self.plan.systems[i as usize].id
    }

    fn rto(&self, i: u32) -> Option<Duration> {
        self.plan.systems[i as usize].rto
    }

    /// Systems in an order where every system comes after what it depends on (cycles aside).
    fn dependencies_first(&self) -> impl DoubleEndedIterator<Item = &[u32]> {
        self.components.iter().map(Vec::as_slice)
    }

    /// Whether the edge `from → to` stays inside one cycle (and is ignored by the timing passes).
    fn internal(&self, from: u32, to: u32) -> bool {
        self.component[from as usize] == self.component[to as usize]
    }

    /// Resolves ids to indices; unknown ids come back in the error.
    pub fn resolve<'a>(&self, ids: &'a [SystemId]) -> Result<Vec<u32>, Vec<&'a SystemId>> {
        let mut found = Vec::with_capacity(ids.len());
        let mut unknown = Vec::new();
        for id in ids {
            match self.index.get(id.as_str()) {
                Some(&i) => found.push(i),
                None => unknown.push(id),
            }
        }
        if unknown.is_empty() {
            Ok(found)
        } else {
            Err(unknown)
        }
    }

    /// For each system, the smallest RTO among everything that depends on it, directly or not:
    /// what its own RTO must be for the plan to hold. `None` when nothing with an RTO depends on it.
    pub fn required_rto(&self) -> Vec<Option<Duration>> {
        let mut required: Vec<Option<Duration>> = vec![None; self.deps.len()];
        // Dependents first: every dependent's requirement is final before it is passed down.
        for members in self.dependencies_first().rev() {
            for &u in members {
                let need = min_opt(self.rto(u), required[u as usize]);
                for &w in &self.deps[u as usize] {
                    if !self.internal(u, w) {
                        required[w as usize] = min_opt(required[w as usize], need);
                    }
                }
            }
        }
        required
    }

    /// Every system affected when `down` are down: those and everything that depends on them.
    pub fn affected(&self, down: &[u32]) -> Vec<bool> {
        let mut affected = vec![false; self.deps.len()];
        for &d in down {
            affected[d as usize] = true;
        }
        for members in self.dependencies_first() {
            let mut any = false;
            for &v in members {
                let hit = affected[v as usize]
                    || self.deps[v as usize].iter().any(|&w| affected[w as usize]);
                affected[v as usize] = hit;
                any |= hit;
            }
            // A cycle goes down together.
            if any && members.len() > 1 {
                for &v in members {
                    affected[v as usize] = true;
                }
            }
        }
        affected
    }

    /// Earliest time each affected system can be back: its own recovery steps (when it is itself
    /// down) after the latest of what it depends on that is affected. `None` for unaffected
    /// systems. Dependencies inside a cycle are not counted (the cycle is reported as an error).
    pub fn earliest_recovery(&self, down: &[bool], affected: &[bool]) -> Vec<Option<Duration>> {
        let mut earliest: Vec<Option<Duration>> = vec![None; self.deps.len()];
        for members in self.dependencies_first() {
            for &v in members {
                if !affected[v as usize] {
                    continue;
                }
                let after = self.deps[v as usize]
                    .iter()
                    .filter(|&&w| affected[w as usize] && !self.internal(v, w))
                    .filter_map(|&w| earliest[w as usize])
                    .max()
                    .unwrap_or(Duration::ZERO);
                let own = if down[v as usize] {
                    self.plan.systems[v as usize]
                        .recovery_steps
                        .iter()
                        .fold(Duration::ZERO, |sum, step| {
                            sum.saturating_add(step.duration)
                        })
                } else {
                    Duration::ZERO
                };
                earliest[v as usize] = Some(after.saturating_add(own));
            }
        }
        earliest
    }

    /// The affected systems in an order that respects dependencies, most urgent first: among the
    /// systems whose dependencies are already back, the one with the smallest effective RTO (its
    /// own, or the one required by what depends on it), then the highest criticality, then id.
    /// Systems caught in a cycle come last.
    pub fn recovery_order(&self, affected: &[bool], required: &[Option<Duration>]) -> Vec<u32> {
        let n = self.deps.len();
        let key = |v: u32| {
            let s = &self.plan.systems[v as usize];
            let urgency = min_opt(s.rto, required[v as usize]).map_or(u64::MAX, Duration::minutes);
            (urgency, s.criticality, s.id.as_str())
        };
        // Dependents of each affected system, as one flat array (CSR) to stay allocation-light.
        let mut pending = vec![0u32; n];
        let mut start = vec![0u32; n + 1];
        for v in 0..n as u32 {
            if affected[v as usize] {
                for &w in &self.deps[v as usize] {
                    if affected[w as usize] {
                        start[w as usize + 1] += 1;
                        pending[v as usize] += 1;
                    }
                }
            }
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        let mut fill = start.clone();
        let mut dependents = vec![NONE; start[n] as usize];
        for v in 0..n as u32 {
            if affected[v as usize] {
                for &w in &self.deps[v as usize] {
                    if affected[w as usize] {
                        dependents[fill[w as usize] as usize] = v;
                        fill[w as usize] += 1;
                    }
                }
            }
        }
        let mut ready: BinaryHeap<Reverse<(u64, _, &str, u32)>> = (0..n as u32)
            .filter(|&v| affected[v as usize] && pending[v as usize] == 0)
            .map(|v| {
                let (u, c, id) = key(v);
                Reverse((u, c, id, v))
            })
            .collect();
        let mut order = Vec::new();
        let mut placed = vec![false; n];
        while let Some(Reverse((_, _, _, v))) = ready.pop() {
            order.push(v);
            placed[v as usize] = true;
            for &u in &dependents[start[v as usize] as usize..start[v as usize + 1] as usize] {
                pending[u as usize] -= 1;
                if pending[u as usize] == 0 {
                    let (a, c, id) = key(u);
                    ready.push(Reverse((a, c, id, u)));
                }
            }
        }
        let mut stuck: Vec<u32> = (0..n as u32)
            .filter(|&v| affected[v as usize] && !placed[v as usize])
            .collect();
        stuck.sort_by_key(|&v| key(v));
        order.extend(stuck);
        order
    }

    /// A shortest cycle through the first member of a cyclic component, closed (`a → b → a`).
    fn cycle_path(&self, members: &[u32]) -> Vec<u32> {
        let start = members[0];
        let comp = self.component[start as usize];
        let mut parent: HashMap<u32, u32> = HashMap::new();
        let mut queue = VecDeque::from([start]);
        while let Some(v) = queue.pop_front() {
            for &w in &self.deps[v as usize] {
                if self.component[w as usize] != comp {
                    continue;
                }
                if w == start {
                    let mut path = vec![v];
                    let mut at = v;
                    while at != start {
                        at = parent.get(&at).copied().unwrap_or(start);
                        path.push(at);
                    }
                    path.reverse();
                    path.push(start);
                    return path;
                }
                if let std::collections::hash_map::Entry::Vacant(e) = parent.entry(w) {
                    e.insert(v);
                    queue.push_back(w);
                }
            }
        }
        vec![start, start]
    }
}

fn min_opt(a: Option<Duration>, b: Option<Duration>) -> Option<Duration> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

/// Tarjan's strongly connected components, iteratively. Returns each node's component and the
/// components in the order Tarjan completes them: a component only after every component it
/// reaches, i.e. dependencies first.
fn tarjan(deps: &[Vec<u32>]) -> (Vec<u32>, Vec<Vec<u32>>) {
    let n = deps.len();
    let mut index = vec![NONE; n];
    let mut low = vec![0u32; n];
    let mut on_stack = vec![false; n];
    let mut stack: Vec<u32> = Vec::new();
    let mut component = vec![NONE; n];
    let mut components: Vec<Vec<u32>> = Vec::new();
    let mut counter = 0u32;
    let mut calls: Vec<(u32, usize)> = Vec::new();
    for root in 0..n as u32 {
        if index[root as usize] != NONE {
            continue;
        }
        index[root as usize] = counter;
        low[root as usize] = counter;
        counter += 1;
        stack.push(root);
        on_stack[root as usize] = true;
        calls.push((root, 0));
        while let Some(&mut (v, ref mut next)) = calls.last_mut() {
            if let Some(&w) = deps[v as usize].get(*next) {
                *next += 1;
                if index[w as usize] == NONE {
                    index[w as usize] = counter;
                    low[w as usize] = counter;
                    counter += 1;
                    stack.push(w);
                    on_stack[w as usize] = true;
                    calls.push((w, 0));
                } else if on_stack[w as usize] {
                    low[v as usize] = low[v as usize].min(index[w as usize]);
                }
                continue;
            }
            calls.pop();
            if let Some(&(u, _)) = calls.last() {
                low[u as usize] = low[u as usize].min(low[v as usize]);
            }
            if low[v as usize] == index[v as usize] {
                let id = components.len() as u32;
                let mut members = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w as usize] = false;
                    component[w as usize] = id;
                    members.push(w);
                    if w == v {
                        break;
                    }
                }
                members.reverse();
                components.push(members);
            }
        }
    }
    (component, components)
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
            out.push(Finding::new(
                Code::DuplicateId,
                vec![],
                Some(format!("{list}[{i}].id")),
                format!("{kind} id {id:?} is used by more than one {kind}"),
            ));
        }
    }
}

/// Every consistency finding of the plan, as of `today` (for review deadlines).
pub fn check(plan: &Plan, today: NaiveDate) -> Vec<Finding> {
    let graph = PlanGraph::new(plan);
    let known = Known::new(plan);
    let mut out = Vec::new();
    // Each family walks the systems in plan order; the sort below orders the findings by
    // severity, system, code and field, and keeps findings alike in that order.
    people_and_roles(&mut out, plan, &known);
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
        let hint = did_you_mean(id, self.plan.people.iter().map(|p| p.id.as_str()));
        out.push(Finding::new(
            Code::UnknownPerson,
            systems,
            Some(at),
            format!("unknown person {id:?}{hint}"),
        ));
    }

    fn unknown_role(&self, out: &mut Vec<Finding>, systems: Vec<SystemId>, at: String, id: &str) {
        let hint = did_you_mean(id, self.plan.roles.iter().map(|r| r.id.as_str()));
        out.push(Finding::new(
            Code::UnknownRole,
            systems,
            Some(at),
            format!("unknown role {id:?}{hint}"),
        ));
    }
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

/// A system id used by more than one system.
fn duplicate_systems(out: &mut Vec<Finding>, graph: &PlanGraph) {
    for &d in &graph.duplicates {
        let id = graph.id(d);
        out.push(Finding::new(
            Code::DuplicateSystem,
            about(id),
            None,
            format!(
                "system id {:?} is used by more than one system",
                id.as_str()
            ),
        ));
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
        let systems: Vec<SystemId> = path[..path.len() - 1]
            .iter()
            .chain(&others)
            .map(|&i| graph.id(i).clone())
            .collect();
        out.push(Finding::new(Code::DependencyCycle, systems, at, message));
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
                    let hint =
                        did_you_mean(dep.as_str(), plan.systems.iter().map(|s| s.id.as_str()));
                    out.push(Finding::new(
                        Code::UnknownDependency,
                        about(id),
                        Some(format!("depends_on[{i}]")),
                        format!("unknown system {:?}{hint}", dep.as_str()),
                    ));
                }
                Some(&w) => {
                    if let (Some(own), Some(theirs)) = (system.rto, graph.rto(w))
                        && theirs > own
                        && !graph.internal(v as u32, w)
                    {
                        out.push(Finding::new(
                            Code::RtoInversion,
                            vec![id.clone(), dep.clone()],
                            Some(format!("depends_on[{i}]")),
                            format!(
                                "depends on {:?} whose RTO ({theirs}) is longer than its own ({own})",
                                dep.as_str()
                            ),
                        ));
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
            None => out.push(Finding::new(
                Code::MissingOwner,
                about(id),
                Some("owner".into()),
                "no system owner (systemejer) is named".into(),
            )),
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
            out.push(Finding::new(
                Code::RtoExceedsMtpd,
                about(id),
                Some("rto".into()),
                format!("RTO ({rto}) is longer than the MTPD ({mtpd})"),
            ));
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
            out.push(Finding::new(
                Code::RtoBeyondUnacceptableImpact,
                about(id),
                Some(format!("impact[{i}].after")),
                format!(
                    "the RTO ({rto}) lies after the point where the outage becomes unacceptable ({})",
                    step.after
                ),
            ));
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
            out.push(Finding::new(
                Code::SupplierRestoreExceedsRto,
                about(&system.id),
                Some("supplier.contract_restore".into()),
                format!("the supplier's contract restore time ({restore}) is longer than the RTO ({rto})"),
            ));
        }
    }
}

/// A system of criticality 1 or 2 without recovery steps.
fn recovery_steps(out: &mut Vec<Finding>, plan: &Plan) {
    for system in &plan.systems {
        if system.criticality.level() <= 2 && system.recovery_steps.is_empty() {
            out.push(Finding::new(
                Code::NoRecoverySteps,
                about(&system.id),
                Some("recovery_steps".into()),
                format!(
                    "criticality {} system has no recovery steps",
                    system.criticality.level()
                ),
            ));
        }
    }
}

/// A section never reviewed, or whose review fell due before `today`.
fn reviews(out: &mut Vec<Finding>, plan: &Plan, today: NaiveDate) {
    for system in &plan.systems {
        let id = &system.id;
        let interval = system.review_interval.unwrap_or(plan.review_interval);
        match (system.last_reviewed, plan.review_due(system)) {
            (None, _) | (_, None) => out.push(Finding::new(
                Code::ReviewOverdue,
                about(id),
                Some("last_reviewed".into()),
                "the section has never been reviewed".into(),
            )),
            (Some(last), Some(due)) => {
                if due < today {
                    out.push(Finding::new(
                        Code::ReviewOverdue,
                        about(id),
                        Some("last_reviewed".into()),
                        format!("last reviewed {last}, review was due {due} (interval {interval})"),
                    ));
                }
            }
        }
    }
}

/// One system's line in an assessment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SystemAssessment {
    pub id: SystemId,
    pub rto: Option<Duration>,
    /// The smallest RTO among everything that depends on it.
    pub required_rto: Option<Duration>,
    /// The earliest it can be back in this scenario.
    pub earliest_recovery: Duration,
    /// Whether `earliest_recovery` is within the RTO (`None` without an RTO).
    pub feasible: Option<bool>,
}

/// What an outage of `down` means: what is affected, the order to recover in, and whether each
/// affected system can make its RTO.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assessment {
    pub down: Vec<SystemId>,
    pub affected: Vec<SystemId>,
    pub recovery_order: Vec<SystemId>,
    /// The affected systems, in recovery order.
    pub systems: Vec<SystemAssessment>,
}

/// Ids named as down that the plan does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown system{} {}", if .0.len() == 1 { "" } else { "s" }, .0.iter().map(|s| format!("{s:?}")).collect::<Vec<_>>().join(", "))]
pub struct UnknownSystems(pub Vec<String>);

/// Assesses an outage of `down`, or of every system when `down` is `None` (a full outage).
pub fn assess(plan: &Plan, down: Option<&[SystemId]>) -> Result<Assessment, UnknownSystems> {
    let graph = PlanGraph::new(plan);
    let n = plan.systems.len();
    let down_idx: Vec<u32> = match down {
        None => (0..n as u32).collect(),
        Some(ids) => graph
            .resolve(ids)
            .map_err(|unknown| UnknownSystems(unknown.iter().map(|s| s.to_string()).collect()))?,
    };
    let mut is_down = vec![false; n];
    for &d in &down_idx {
        is_down[d as usize] = true;
    }
    let affected = graph.affected(&down_idx);
    let required = graph.required_rto();
    let earliest = graph.earliest_recovery(&is_down, &affected);
    let order = graph.recovery_order(&affected, &required);
    let ids = |idx: &mut dyn Iterator<Item = u32>| idx.map(|i| graph.id(i).clone()).collect();
    let mut down_sorted: Vec<u32> = (0..n as u32).filter(|&i| is_down[i as usize]).collect();
    down_sorted.sort_by_key(|&i| graph.id(i));
    let mut affected_sorted: Vec<u32> = (0..n as u32).filter(|&i| affected[i as usize]).collect();
    affected_sorted.sort_by_key(|&i| graph.id(i));
    let systems = order
        .iter()
        .map(|&v| {
            let rto = graph.rto(v);
            let earliest = earliest[v as usize].unwrap_or(Duration::ZERO);
            SystemAssessment {
                id: graph.id(v).clone(),
                rto,
                required_rto: required[v as usize],
                earliest_recovery: earliest,
                feasible: rto.map(|r| earliest <= r),
            }
        })
        .collect();
    Ok(Assessment {
        down: ids(&mut down_sorted.into_iter()),
        affected: ids(&mut affected_sorted.into_iter()),
        recovery_order: ids(&mut order.into_iter()),
        systems,
    })
}

#[cfg(test)]
#[path = "analysis_tests.rs"]
pub(crate) mod tests;
