//! A synthetic plan of 10,000 systems and 50,000 dependencies, for the benchmarks: systems sit
//! in layers (infrastructure, platforms, applications) and depend on five systems in lower
//! layers, the shape of a real plan.

use beredskab::domain::*;
use chrono::NaiveDate;

pub const SYSTEMS: usize = 10_000;
const DEPS_EACH: usize = 5;

/// A small deterministic generator (xorshift), so every run measures the same plan.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

pub fn synthetic_plan() -> Plan {
    let mut rng = Rng(0x5eed);
    let role = RoleId::parse("drift").unwrap();
    let owner = PersonId::parse("owner").unwrap();
    let systems = (0..SYSTEMS)
        .map(|i| {
            // Each system depends on five distinct systems with lower numbers (fewer for the
            // very first), so the graph is acyclic and layered: ~50,000 dependencies in all.
            let mut picked: Vec<usize> = Vec::new();
            while picked.len() < i.min(DEPS_EACH) {
                let d = rng.below(i);
                if !picked.contains(&d) {
                    picked.push(d);
                }
            }
            let depends_on = picked
                .iter()
                .map(|d| SystemId::parse(&format!("s{d:05}")).unwrap())
                .collect();
            let rto_hours = 1 + (i as u64 * 48 / SYSTEMS as u64);
            System {
                id: SystemId::parse(&format!("s{i:05}")).unwrap(),
                name: format!("System {i}"),
                description: String::new(),
                owner: Some(owner.clone()),
                deputy: None,
                criticality: Criticality::new(1 + (i % 4) as i64).unwrap(),
                rto: Some(Duration::from_hours(rto_hours)),
                rpo: Some(Duration::from_hours(1)),
                mtpd: Some(Duration::from_hours(rto_hours * 2)),
                depends_on,
                supplier: None,
                workaround: String::new(),
                recovery_steps: vec![RecoveryStep {
                    text: "restore".into(),
                    role: role.clone(),
                    duration: Duration::from_minutes(30),
                }],
                verification: String::new(),
                last_reviewed: NaiveDate::from_ymd_opt(2026, 6, 1),
                reviewed_by: None,
                review_interval: None,
                impact: vec![],
            }
        })
        .collect();
    Plan {
        id: PlanId::parse("synthetic").unwrap(),
        name: "Synthetic".into(),
        organisation: "Bench".into(),
        owner_role: role.clone(),
        approver_role: role.clone(),
        review_interval: Duration::parse("52w").unwrap(),
        exercise_interval: Duration::parse("52w").unwrap(),
        alert_escalation_minutes: 10,
        call_tree_target_minutes: 15,
        dispensation_max_months: 12,
        sections: PlanSections::default(),
        roles: vec![Role {
            id: role,
            name: "Drift".into(),
            responsibilities: String::new(),
        }],
        people: vec![Person {
            id: owner,
            name: "Owner".into(),
            title: String::new(),
            email: String::new(),
            phone: String::new(),
            roles: vec![],
        }],
        call_tree: vec![],
        channels: vec![],
        systems,
    }
}
