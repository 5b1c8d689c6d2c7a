//! The scenarios of a plan's library: what goes wrong, how the drill unfolds, and who is invited.

use serde::{Deserialize, Serialize};

use crate::domain::analysis;
use crate::domain::{Duration, PersonId, Plan, RoleId, ScenarioId, SystemId};

/// The Danish exercise types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DrillKind {
    /// Dilemmaøvelse: a tabletop discussion of dilemmas.
    Dilemma,
    /// Procedureøvelse: the procedures are walked through step by step.
    Procedure,
    /// Krisestyringsøvelse: the crisis team manages an evolving situation.
    CrisisManagement,
    /// A technical full restore test.
    RestoreTest,
    /// Test af varslingstræet: everyone in the call tree is alerted with a test message, and
    /// the time each takes to acknowledge is measured.
    CallTreeTest,
}

impl DrillKind {
    pub const ALL: [DrillKind; 5] = [
        DrillKind::Dilemma,
        DrillKind::Procedure,
        DrillKind::CrisisManagement,
        DrillKind::RestoreTest,
        DrillKind::CallTreeTest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DrillKind::Dilemma => "dilemma",
            DrillKind::Procedure => "procedure",
            DrillKind::CrisisManagement => "crisis-management",
            DrillKind::RestoreTest => "restore-test",
            DrillKind::CallTreeTest => "call-tree-test",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// Something that happens at a minute of the drill (indspil).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inject {
    pub minute: u32,
    pub text: String,
    /// Sent to the participants at its minute, by these channels, so that the drill feels
    /// like the real thing; empty: only shown on the facilitator's screen.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub send: Vec<InjectChannel>,
}

/// How an inject reaches the participants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InjectChannel {
    Sms,
    Mail,
}

impl InjectChannel {
    pub fn parse(text: &str) -> Option<InjectChannel> {
        match text {
            "sms" => Some(InjectChannel::Sms),
            "mail" => Some(InjectChannel::Mail),
            _ => None,
        }
    }
}

/// A scenario of the library: what goes wrong, and how the drill unfolds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scenario {
    pub id: ScenarioId,
    pub title: String,
    pub kind: DrillKind,
    pub duration: Duration,
    /// The systems the scenario takes down.
    pub systems_down: Vec<SystemId>,
    /// Roles the scenario names: their people are invited.
    pub roles: Vec<RoleId>,
    pub narrative: String,
    pub facilitator_notes: String,
    /// Discussion questions (dilemmas).
    pub questions: Vec<String>,
    /// In increasing minute order.
    pub injects: Vec<Inject>,
}

impl Scenario {
    /// What is wrong with the scenario against `plan`, as `(field, message)`.
    pub fn problems(&self, plan: &Plan) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (i, s) in self.systems_down.iter().enumerate() {
            if plan.system(s.as_str()).is_none() {
                let hint =
                    analysis::did_you_mean(s.as_str(), plan.systems.iter().map(|x| x.id.as_str()));
                out.push((
                    format!("systems_down[{i}]"),
                    format!("unknown system {:?}{hint}", s.as_str()),
                ));
            }
        }
        for (i, r) in self.roles.iter().enumerate() {
            if !plan.roles.iter().any(|x| &x.id == r) {
                let hint =
                    analysis::did_you_mean(r.as_str(), plan.roles.iter().map(|x| x.id.as_str()));
                out.push((
                    format!("roles[{i}]"),
                    format!("unknown role {:?}{hint}", r.as_str()),
                ));
            }
        }
        for (i, pair) in self.injects.windows(2).enumerate() {
            if pair[1].minute < pair[0].minute {
                out.push((
                    format!("injects[{}].minute", i + 1),
                    format!(
                        "inject at minute {} comes after one at minute {}",
                        pair[1].minute, pair[0].minute
                    ),
                ));
            }
        }
        if let Some(last) = self.injects.last()
            && u64::from(last.minute) > self.duration.minutes()
        {
            out.push((
                format!("injects[{}].minute", self.injects.len() - 1),
                format!(
                    "inject at minute {} is after the drill's end ({})",
                    last.minute, self.duration
                ),
            ));
        }
        out
    }

    /// The people invited by default: owners and deputies of every system the scenario affects
    /// (the systems down and everything that depends on them), and the people holding the
    /// roles it names. In the plan's order of people.
    pub fn default_participants(&self, plan: &Plan) -> Vec<PersonId> {
        if self.kind == DrillKind::CallTreeTest {
            // Everyone the call tree names, in its order.
            return plan.call_tree.iter().map(|c| c.person.clone()).collect();
        }
        let affected = analysis::assess(plan, Some(&self.systems_down))
            .map(|a| a.affected)
            .unwrap_or_else(|_| self.systems_down.clone());
        plan.people
            .iter()
            .filter(|p| {
                p.roles.iter().any(|r| self.roles.contains(r))
                    || affected.iter().any(|id| {
                        plan.system(id.as_str()).is_some_and(|s| {
                            s.owner.as_ref() == Some(&p.id) || s.deputy.as_ref() == Some(&p.id)
                        })
                    })
            })
            .map(|p| p.id.clone())
            .collect()
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::domain::analysis::tests::plan;

    pub(in crate::domain::drill) fn scenario(down: &[&str], roles: &[&str]) -> Scenario {
        Scenario {
            id: ScenarioId::parse("test").unwrap(),
            title: "Test".into(),
            kind: DrillKind::Dilemma,
            duration: Duration::from_hours(2),
            systems_down: down.iter().map(|s| SystemId::parse(s).unwrap()).collect(),
            roles: roles.iter().map(|r| RoleId::parse(r).unwrap()).collect(),
            narrative: String::new(),
            facilitator_notes: String::new(),
            questions: vec![],
            injects: vec![
                Inject {
                    minute: 0,
                    text: "a".into(),
                    send: vec![],
                },
                Inject {
                    minute: 30,
                    text: "b".into(),
                    send: vec![],
                },
            ],
        }
    }

    #[test]
    fn participants_are_the_owners_of_what_is_affected_and_the_named_roles() {
        let mut plan = plan();
        plan.systems[0].deputy = Some(PersonId::parse("boss").unwrap());
        // power is down: everything depends on it, all owned by "owner"; boss deputises power.
        let got = scenario(&["power"], &[]).default_participants(&plan);
        assert_eq!(
            got.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
            ["owner", "boss"]
        );
        let got = scenario(&["mail"], &["chief"]).default_participants(&plan);
        assert_eq!(
            got.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
            ["owner", "boss"]
        );
        let got = scenario(&["mail"], &[]).default_participants(&plan);
        assert_eq!(
            got.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
            ["owner"]
        );
    }

    #[test]
    fn scenario_problems_name_the_field() {
        let plan = plan();
        let mut s = scenario(&["powr"], &["chef"]);
        s.injects.push(Inject {
            minute: 10,
            text: "late".into(),
            send: vec![],
        });
        s.injects.push(Inject {
            minute: 500,
            text: "after".into(),
            send: vec![],
        });
        let problems = s.problems(&plan);
        let fields: Vec<&str> = problems.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            [
                "systems_down[0]",
                "roles[0]",
                "injects[2].minute",
                "injects[3].minute"
            ]
        );
        assert!(problems[0].1.contains("did you mean \"power\""));
        assert!(scenario(&["power"], &["chief"]).problems(&plan).is_empty());
    }
}
