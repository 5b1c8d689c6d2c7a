//! The plan's dependency graph, by index, as every pass of the analysis needs it.
//!
//! Everything here is linear in systems + dependencies (the recovery order adds a log factor for
//! its priority queue), so it stays fast at 10,000 systems and 50,000 dependencies: the dependency
//! graph is built once as integer adjacency lists, its strongly connected components are found
//! with an iterative Tarjan walk (no recursion, so deep chains cannot overflow the stack), and the
//! components come out dependencies-first, which is the order every other pass needs.

use std::collections::{HashMap, VecDeque};

use crate::domain::duration::Duration;
use crate::domain::plan::{Plan, SystemId};

pub(super) const NONE: u32 = u32::MAX;

/// The plan's dependency graph by index: built once, shared by every pass below.
pub struct PlanGraph<'p> {
    pub(super) plan: &'p Plan,
    /// Index of each system id (the first system with that id).
    pub(super) index: HashMap<&'p str, u32>,
    /// For each system, the systems it depends on (known, deduplicated).
    pub(super) deps: Vec<Vec<u32>>,
    /// Strongly connected component of each system.
    pub(super) component: Vec<u32>,
    /// Components dependencies-first; each holds its members.
    pub(super) components: Vec<Vec<u32>>,
    /// Whether a component is a cycle (more than one member, or one that depends on itself).
    pub(super) cyclic: Vec<bool>,
    /// Systems whose id is already taken by an earlier system.
    pub(super) duplicates: Vec<u32>,
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

    pub(super) fn id(&self, i: u32) -> &'p SystemId {
        &self.plan.systems[i as usize].id
    }

    pub(super) fn rto(&self, i: u32) -> Option<Duration> {
        self.plan.systems[i as usize].rto
    }

    /// Systems in an order where every system comes after what it depends on (cycles aside).
    pub(super) fn dependencies_first(&self) -> impl DoubleEndedIterator<Item = &[u32]> {
        self.components.iter().map(Vec::as_slice)
    }

    /// Whether the edge `from → to` stays inside one cycle (and is ignored by the timing passes).
    pub(super) fn internal(&self, from: u32, to: u32) -> bool {
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

    /// A shortest cycle through the first member of a cyclic component, closed (`a → b → a`).
    pub(super) fn cycle_path(&self, members: &[u32]) -> Vec<u32> {
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
