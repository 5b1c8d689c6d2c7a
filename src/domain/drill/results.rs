//! What participants recorded for each system during a drill, and the results the after-action
//! report shows.

use serde::{Deserialize, Serialize};

use super::scenario::Scenario;
use crate::domain::analysis;
use crate::domain::{Duration, Plan, SystemId};

/// What participants recorded for one system during a drill.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemRecord {
    /// Was the system's procedure found in the plan?
    pub found: Option<bool>,
    /// Was it followed?
    pub followed: Option<bool>,
    /// Time to (simulated) recovery.
    pub recovery: Option<Duration>,
    /// What was missing or wrong.
    pub notes: String,
}

/// One exercised system in the after-action report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SystemResult {
    pub system: SystemId,
    pub name: String,
    pub rto: Option<Duration>,
    pub record: SystemRecord,
    /// Recovery within the RTO; `None` when either is unknown.
    pub rto_met: Option<bool>,
}

/// The systems a drill exercised (the scenario's systems and everything that depends on them,
/// in recovery order) with what was recorded for each and whether its RTO was met.
pub fn results(
    plan: &Plan,
    scenario: &Scenario,
    recorded: &std::collections::HashMap<String, SystemRecord>,
) -> Vec<SystemResult> {
    let order = analysis::assess(plan, Some(&scenario.systems_down))
        .map(|a| a.recovery_order)
        .unwrap_or_else(|_| scenario.systems_down.clone());
    order
        .into_iter()
        .filter_map(|id| plan.system(id.as_str()))
        .map(|s| {
            let record = recorded.get(s.id.as_str()).cloned().unwrap_or_default();
            let rto_met = match (record.recovery, s.rto) {
                (Some(took), Some(rto)) => Some(took <= rto),
                _ => None,
            };
            SystemResult {
                system: s.id.clone(),
                name: s.name.clone(),
                rto: s.rto,
                record,
                rto_met,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::analysis::tests::plan;
    use crate::domain::drill::scenario::tests::scenario;

    #[test]
    fn results_follow_the_recovery_order_and_compare_with_the_rto() {
        let plan = plan();
        let mut recorded = std::collections::HashMap::new();
        recorded.insert(
            "network".to_string(),
            SystemRecord {
                recovery: Some(Duration::from_minutes(90)),
                ..SystemRecord::default()
            },
        );
        recorded.insert(
            "ad".to_string(),
            SystemRecord {
                recovery: Some(Duration::from_hours(5)),
                ..SystemRecord::default()
            },
        );
        let got = results(&plan, &scenario(&["network"], &[]), &recorded);
        let ids: Vec<&str> = got.iter().map(|r| r.system.as_str()).collect();
        assert_eq!(ids[0], "network");
        assert!(ids.contains(&"esdh") && ids.contains(&"mail"));
        assert_eq!(got[0].rto_met, Some(true), "1h 30m within 2h");
        let ad = got.iter().find(|r| r.system.as_str() == "ad").unwrap();
        assert_eq!(ad.rto_met, Some(false), "5h beyond 4h");
        let mail = got.iter().find(|r| r.system.as_str() == "mail").unwrap();
        assert_eq!(mail.rto_met, None, "nothing recorded");
    }
}
