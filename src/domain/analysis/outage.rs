//! What an outage means: the systems it affects, when each can be back, the order to recover in,
//! and the RTO each system would need for the plan to hold.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use serde::Serialize;

use super::graph::{NONE, PlanGraph};
use crate::domain::duration::Duration;
use crate::domain::plan::{Plan, SystemId};

/// The passes an outage assessment runs over the graph.
impl PlanGraph<'_> {
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
}

fn min_opt(a: Option<Duration>, b: Option<Duration>) -> Option<Duration> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
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
