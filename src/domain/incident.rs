//! Incidents (hændelser): the plan activated against a real outage. Given the systems marked down
//! and recovered, what is affected, in which order to recover, and how each system's clock stands
//! against its RTO. Pure: the store holds the incident, this module reads it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::analysis;
use super::{Duration, Plan, SystemId};

/// How a system's elapsed outage stands against its RTO.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Clock {
    /// Under 75 % of the RTO.
    Green,
    /// From 75 % of the RTO up to the RTO.
    Amber,
    /// Past the RTO.
    Red,
}

impl Clock {
    /// `None` without an RTO.
    pub fn of(elapsed: Duration, rto: Option<Duration>) -> Option<Clock> {
        let rto = rto?.minutes();
        let elapsed = elapsed.minutes();
        Some(if elapsed > rto {
            Clock::Red
        } else if elapsed * 4 >= rto * 3 {
            Clock::Amber
        } else {
            Clock::Green
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Clock::Green => "green",
            Clock::Amber => "amber",
            Clock::Red => "red",
        }
    }
}

/// A system marked down in an incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outage {
    pub system: SystemId,
    pub down_at: DateTime<Utc>,
    pub recovered_at: Option<DateTime<Utc>>,
}

/// One affected system of an incident, in recovery order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AffectedSystem {
    pub id: SystemId,
    /// Marked down itself (otherwise affected through what it depends on).
    pub down: bool,
    /// Since when it has been out: its own mark, else the earliest mark of a system it depends
    /// on, directly or not.
    pub since: DateTime<Utc>,
    pub elapsed: Duration,
    pub rto: Option<Duration>,
    pub clock: Option<Clock>,
    /// The earliest it can be back, counted from `since`, from the recovery steps.
    pub earliest_recovery: Duration,
    /// Whether `earliest_recovery` is within the RTO.
    pub feasible: Option<bool>,
}

/// What an incident looks like at `now`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Situation {
    /// Every system out now (down, or depending on one that is), in recovery order.
    pub affected: Vec<AffectedSystem>,
    /// Systems marked down that are back, with how long they were out.
    pub recovered: Vec<Recovery>,
}

/// A system back from an outage: how long it took against its RTO.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recovery {
    pub id: SystemId,
    pub took: Duration,
    pub rto: Option<Duration>,
    pub rto_met: Option<bool>,
}

fn minutes_between(from: DateTime<Utc>, to: DateTime<Utc>) -> Duration {
    Duration::from_minutes(u64::try_from((to - from).num_minutes()).unwrap_or(0))
}

/// The situation of an incident whose plan is `plan`, with these outages, at `now`. Outages of
/// systems the plan does not have are left out (the store refuses to mark them).
pub fn situation(plan: &Plan, outages: &[Outage], now: DateTime<Utc>) -> Situation {
    let index: HashMap<&str, usize> = plan
        .systems
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    let mut open: Vec<&Outage> = outages
        .iter()
        .filter(|o| o.recovered_at.is_none() && index.contains_key(o.system.as_str()))
        .collect();
    open.sort_by_key(|o| o.down_at);
    let down: Vec<SystemId> = open.iter().map(|o| o.system.clone()).collect();
    // Since when each affected system is out: a walk up the dependents from each system down,
    // earliest first, that stops where an earlier walk has been (its dependents have an earlier
    // time already). Linear in systems + dependencies.
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); plan.systems.len()];
    for (i, s) in plan.systems.iter().enumerate() {
        for d in &s.depends_on {
            if let Some(&j) = index.get(d.as_str()) {
                dependents[j].push(i);
            }
        }
    }
    let mut since: Vec<Option<DateTime<Utc>>> = vec![None; plan.systems.len()];
    for o in &open {
        let start = index[o.system.as_str()];
        if since[start].is_some() {
            continue;
        }
        since[start] = Some(o.down_at);
        let mut stack = vec![start];
        while let Some(v) = stack.pop() {
            for &w in &dependents[v] {
                if since[w].is_none() {
                    since[w] = Some(o.down_at);
                    stack.push(w);
                }
            }
        }
    }
    let affected = match analysis::assess(plan, Some(&down)) {
        Ok(a) => a
            .systems
            .into_iter()
            .map(|s| {
                let from = since[index[s.id.as_str()]].unwrap_or(now);
                let elapsed = minutes_between(from, now);
                AffectedSystem {
                    down: down.contains(&s.id),
                    since: from,
                    elapsed,
                    clock: Clock::of(elapsed, s.rto),
                    rto: s.rto,
                    earliest_recovery: s.earliest_recovery,
                    feasible: s.feasible,
                    id: s.id,
                }
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    let recovered = outages
        .iter()
        .filter_map(|o| {
            let back = o.recovered_at?;
            let system = plan.system(o.system.as_str())?;
            let took = minutes_between(o.down_at, back);
            Some(Recovery {
                id: o.system.clone(),
                took,
                rto: system.rto,
                rto_met: system.rto.map(|rto| took <= rto),
            })
        })
        .collect();
    Situation {
        affected,
        recovered,
    }
}

/// What was recorded per system when the incident closed: every system marked down, with the
/// time it was out (to its recovery, or to the close) against its RTO.
pub fn closing_record(plan: &Plan, outages: &[Outage], closed_at: DateTime<Utc>) -> Vec<Recovery> {
    outages
        .iter()
        .filter_map(|o| {
            let system = plan.system(o.system.as_str())?;
            let took = minutes_between(o.down_at, o.recovered_at.unwrap_or(closed_at));
            Some(Recovery {
                id: o.system.clone(),
                took,
                rto: system.rto,
                rto_met: system.rto.map(|rto| took <= rto),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::analysis::tests::{plan, utc};

    fn d(text: &str) -> Duration {
        Duration::parse(text).unwrap()
    }

    fn id(text: &str) -> SystemId {
        SystemId::parse(text).unwrap()
    }

    #[test]
    fn the_clock_turns_amber_at_three_quarters_and_red_past_the_rto() {
        assert_eq!(Clock::of(d("2h"), Some(d("4h"))), Some(Clock::Green));
        assert_eq!(Clock::of(d("2h 59m"), Some(d("4h"))), Some(Clock::Green));
        assert_eq!(Clock::of(d("3h"), Some(d("4h"))), Some(Clock::Amber));
        assert_eq!(Clock::of(d("4h"), Some(d("4h"))), Some(Clock::Amber));
        assert_eq!(Clock::of(d("4h 1m"), Some(d("4h"))), Some(Clock::Red));
        assert_eq!(Clock::of(d("4h"), None), None);
    }

    #[test]
    fn dependents_are_out_since_the_earliest_outage_below_them_and_recover_with_it() {
        // power ← network ← ad ← esdh, ad ← mail.
        let p = plan();
        let outages = vec![
            Outage {
                system: id("ad"),
                down_at: utc("2026-12-01T08:00:00Z"),
                recovered_at: None,
            },
            Outage {
                system: id("network"),
                down_at: utc("2026-12-01T09:00:00Z"),
                recovered_at: None,
            },
        ];
        let now = utc("2026-12-01T11:30:00Z");
        let s = situation(&p, &outages, now);
        let order: Vec<&str> = s.affected.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(order[0], "network", "dependencies first: {order:?}");
        assert!(order.contains(&"esdh") && order.contains(&"mail"));
        assert!(!order.contains(&"power"));
        let of = |x: &str| s.affected.iter().find(|a| a.id.as_str() == x).unwrap();
        assert_eq!(of("ad").since, utc("2026-12-01T08:00:00Z"));
        assert_eq!(of("ad").elapsed, d("3h 30m"));
        assert_eq!(of("ad").clock, Some(Clock::Amber), "3h30 of 4h");
        assert_eq!(
            of("esdh").since,
            utc("2026-12-01T08:00:00Z"),
            "through ad, the earlier"
        );
        assert!(of("ad").down && !of("esdh").down);
        assert_eq!(of("network").clock, Some(Clock::Red), "2h30 of 2h");

        // Network back: it is listed as recovered against its RTO; AD is still out.
        let mut outages = outages;
        outages[1].recovered_at = Some(utc("2026-12-01T10:00:00Z"));
        let s = situation(&p, &outages, now);
        assert!(s.affected.iter().all(|a| a.id.as_str() != "network"));
        assert_eq!(s.recovered[0].took, d("1h"));
        assert_eq!(s.recovered[0].rto_met, Some(true));
        let closed = closing_record(&p, &outages, utc("2026-12-01T14:00:00Z"));
        let ad = closed.iter().find(|r| r.id.as_str() == "ad").unwrap();
        assert_eq!((ad.took, ad.rto_met), (d("6h"), Some(false)));
    }
}
