//! Who may do what: the roles of the web application and the rules that the server checks on
//! every route.

use serde::{Deserialize, Serialize};

use super::{Plan, System};

/// A role. Administrator is the installation's (accounts, every plan); the others are held per
/// plan, through memberships, any set of them at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AccessRole {
    /// Manages accounts and may edit everything; does not approve.
    Administrator,
    /// Approves plan versions (IT-chef); reads everything.
    Approver,
    /// Keeps the plan (beredskabskoordinator): edits every section and the people list.
    Coordinator,
    /// Edits the systems they own or deputise for.
    SystemOwner,
    /// Leads incidents; reads everything.
    IncidentLead,
    /// Reads everything.
    Viewer,
}

impl AccessRole {
    pub const ALL: [AccessRole; 6] = [
        AccessRole::Administrator,
        AccessRole::Approver,
        AccessRole::Coordinator,
        AccessRole::SystemOwner,
        AccessRole::IncidentLead,
        AccessRole::Viewer,
    ];

    /// The roles held per plan.
    pub const IN_PLAN: [AccessRole; 5] = [
        AccessRole::Approver,
        AccessRole::Coordinator,
        AccessRole::SystemOwner,
        AccessRole::IncidentLead,
        AccessRole::Viewer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AccessRole::Administrator => "administrator",
            AccessRole::Approver => "approver",
            AccessRole::Coordinator => "coordinator",
            AccessRole::SystemOwner => "system-owner",
            AccessRole::IncidentLead => "incident-lead",
            AccessRole::Viewer => "viewer",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// A role held per plan (not administrator).
    pub fn parse_in_plan(text: &str) -> Option<Self> {
        Self::parse(text).filter(|r| *r != AccessRole::Administrator)
    }
}

/// A role an account holds in one plan or in every plan.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Membership {
    /// The plan's id; `None` for every plan, today's and later ones.
    pub plan: Option<String>,
    pub role: AccessRole,
    /// The identity-provider group it comes from (renewed at each sign-in from the groups);
    /// `None` when an administrator gave it.
    #[serde(default)]
    pub group: Option<String>,
}

impl Membership {
    /// Whether it counts in plan `plan`.
    pub fn covers(&self, plan: &str) -> bool {
        self.plan.as_deref().is_none_or(|p| p == plan)
    }
}

/// The roles `memberships` give in plan `plan`, each once, in the order of `AccessRole`.
pub fn roles_in(memberships: &[Membership], plan: &str) -> Vec<AccessRole> {
    let mut roles: Vec<AccessRole> = memberships
        .iter()
        .filter(|m| m.covers(plan))
        .map(|m| m.role)
        .collect();
    roles.sort();
    roles.dedup();
    roles
}

/// The account a request acts for, as far as the rules need it: in the plan the request is
/// about, the roles its memberships give it there (none outside a plan).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub username: String,
    /// The installation's administrator: every plan, every role but approver.
    pub administrator: bool,
    /// The roles held in the plan the request is about.
    pub roles: Vec<AccessRole>,
    /// The plan person this account is, if any: ownership of system sections follows it.
    pub person: Option<String>,
}

impl Actor {
    fn has(&self, role: AccessRole) -> bool {
        self.roles.contains(&role)
    }

    /// Sees the plan at all: holds a role in it, or administers the installation.
    pub fn reads_plan(&self) -> bool {
        self.administrator || !self.roles.is_empty()
    }

    /// Edits every section of the plan.
    pub fn edits_whole_plan(&self) -> bool {
        self.administrator || self.has(AccessRole::Coordinator)
    }

    /// Owner or deputy of the system, through the linked person.
    pub fn owns(&self, system: &System) -> bool {
        let Some(me) = self.person.as_deref() else {
            return false;
        };
        [&system.owner, &system.deputy]
            .into_iter()
            .flatten()
            .any(|p| p.as_str() == me)
    }

    /// Edits only the systems whose owner or deputy is their person: a system owner of the
    /// plan who does not keep the whole plan.
    pub fn edits_own_systems_only(&self) -> bool {
        !self.edits_whole_plan() && self.has(AccessRole::SystemOwner)
    }

    pub fn may_edit_system(&self, system: &System) -> bool {
        self.edits_whole_plan() || (self.has(AccessRole::SystemOwner) && self.owns(system))
    }

    /// Plan sections, call tree, channels and people.
    pub fn may_edit_plan(&self) -> bool {
        self.edits_whole_plan()
    }

    pub fn may_approve(&self) -> bool {
        self.has(AccessRole::Approver)
    }

    pub fn may_manage_accounts(&self) -> bool {
        self.administrator
    }

    /// Opens an incident (activates the plan), alerts the call tree, stands down and closes.
    pub fn may_lead_incident(&self) -> bool {
        self.edits_whole_plan() || self.has(AccessRole::IncidentLead)
    }

    /// Works an open incident: marks systems, ticks steps, adds notes. Everyone in the plan
    /// but those who only read.
    pub fn may_work_incident(&self) -> bool {
        self.administrator || self.roles.iter().any(|r| *r != AccessRole::Viewer)
    }

    /// Sees the whole drill programme and every review deadline in their calendar feed: those
    /// who keep or approve the plan.
    pub fn sees_whole_programme(&self) -> bool {
        self.edits_whole_plan() || self.has(AccessRole::Approver)
    }

    /// The audit log shows who did what: for those who keep, approve or administer the plan.
    pub fn may_read_audit(&self) -> bool {
        self.edits_whole_plan() || self.has(AccessRole::Approver)
    }
}

/// The role a plan person gets as a demo account: the plan's approver role makes an approver,
/// its owner role a coordinator, the first person of the call tree (who judges an incident
/// against the activation criteria) an incident lead, owning or deputising a system a system
/// owner; anyone else reads.
pub fn demo_role(plan: &Plan, person: &str) -> AccessRole {
    let Some(p) = plan.person(person) else {
        return AccessRole::Viewer;
    };
    if p.roles.contains(&plan.approver_role) {
        AccessRole::Approver
    } else if p.roles.contains(&plan.owner_role) {
        AccessRole::Coordinator
    } else if plan
        .call_tree
        .iter()
        .any(|c| c.called_by.is_none() && c.person.as_str() == person)
    {
        AccessRole::IncidentLead
    } else if plan.systems.iter().any(|s| {
        [&s.owner, &s.deputy]
            .into_iter()
            .flatten()
            .any(|o| o.as_str() == person)
    }) {
        AccessRole::SystemOwner
    } else {
        AccessRole::Viewer
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::analysis::tests::plan;

    fn actor(role: AccessRole, person: Option<&str>) -> Actor {
        Actor {
            username: "u".into(),
            administrator: role == AccessRole::Administrator,
            roles: vec![role]
                .into_iter()
                .filter(|r| *r != AccessRole::Administrator)
                .collect(),
            person: person.map(str::to_string),
        }
    }

    #[test]
    fn owners_edit_their_own_systems_only() {
        let plan = plan();
        let ad = plan.system("ad").unwrap();
        assert!(actor(AccessRole::SystemOwner, Some("owner")).may_edit_system(ad));
        assert!(!actor(AccessRole::SystemOwner, Some("boss")).may_edit_system(ad));
        assert!(!actor(AccessRole::SystemOwner, None).may_edit_system(ad));
        // Owning a system does not let another role edit it.
        assert!(!actor(AccessRole::Viewer, Some("owner")).may_edit_system(ad));
        assert!(actor(AccessRole::Coordinator, None).may_edit_system(ad));
        assert!(actor(AccessRole::Administrator, None).may_edit_system(ad));
        assert!(!actor(AccessRole::Approver, Some("owner")).may_edit_system(ad));
    }

    #[test]
    fn only_the_approver_approves() {
        for role in AccessRole::ALL {
            assert_eq!(
                actor(role, None).may_approve(),
                role == AccessRole::Approver
            );
            assert_eq!(AccessRole::parse(role.as_str()), Some(role));
        }
    }

    #[test]
    fn memberships_count_in_their_plan_or_in_every_plan() {
        let m = |plan: Option<&str>, role| Membership {
            plan: plan.map(str::to_string),
            role,
            group: None,
        };
        let held = [
            m(Some("a"), AccessRole::Approver),
            m(Some("a"), AccessRole::IncidentLead),
            m(None, AccessRole::Viewer),
            m(Some("b"), AccessRole::SystemOwner),
            m(Some("a"), AccessRole::Approver),
        ];
        assert_eq!(
            roles_in(&held, "a"),
            [
                AccessRole::Approver,
                AccessRole::IncidentLead,
                AccessRole::Viewer
            ]
        );
        assert_eq!(
            roles_in(&held, "b"),
            [AccessRole::SystemOwner, AccessRole::Viewer]
        );
        assert_eq!(roles_in(&held, "c"), [AccessRole::Viewer]);
        assert!(roles_in(&held[..2], "c").is_empty());
        let approver_and_lead = Actor {
            username: "u".into(),
            administrator: false,
            roles: roles_in(&held[..2], "a"),
            person: None,
        };
        assert!(approver_and_lead.may_approve() && approver_and_lead.may_lead_incident());
        assert!(!approver_and_lead.may_edit_plan());
        let outsider = Actor {
            roles: roles_in(&held[..2], "b"),
            ..approver_and_lead
        };
        assert!(!outsider.reads_plan() && !outsider.may_work_incident());
        assert_eq!(AccessRole::parse_in_plan("administrator"), None);
    }

    #[test]
    fn demo_roles_follow_the_plan() {
        let plan = plan();
        assert_eq!(demo_role(&plan, "boss"), AccessRole::Approver);
        assert_eq!(demo_role(&plan, "owner"), AccessRole::SystemOwner);
        assert_eq!(demo_role(&plan, "nobody"), AccessRole::Viewer);
    }
}
