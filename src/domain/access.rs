//! Who may do what: the roles of the web application and the rules that the server checks on
//! every route.

use serde::{Deserialize, Serialize};

use super::{Plan, System};

/// The role of an account. One per account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
}

/// The account a request acts for, as far as the rules need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub username: String,
    pub role: AccessRole,
    /// The plan person this account is, if any: ownership of system sections follows it.
    pub person: Option<String>,
}

impl Actor {
    /// Edits every section of every plan.
    pub fn edits_whole_plan(&self) -> bool {
        matches!(
            self.role,
            AccessRole::Administrator | AccessRole::Coordinator
        )
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

    pub fn may_edit_system(&self, system: &System) -> bool {
        self.edits_whole_plan() || (self.role == AccessRole::SystemOwner && self.owns(system))
    }

    /// Plan sections, call tree, channels and people.
    pub fn may_edit_plan(&self) -> bool {
        self.edits_whole_plan()
    }

    pub fn may_approve(&self) -> bool {
        self.role == AccessRole::Approver
    }

    pub fn may_manage_accounts(&self) -> bool {
        self.role == AccessRole::Administrator
    }

    /// Opens an incident (activates the plan), alerts the call tree, stands down and closes.
    pub fn may_lead_incident(&self) -> bool {
        matches!(
            self.role,
            AccessRole::IncidentLead | AccessRole::Coordinator | AccessRole::Administrator
        )
    }

    /// Works an open incident: marks systems, ticks steps, adds notes. Everyone but viewers.
    pub fn may_work_incident(&self) -> bool {
        self.role != AccessRole::Viewer
    }

    /// Sees the whole drill programme and every review deadline in their calendar feed: those
    /// who keep or approve the plan.
    pub fn sees_whole_programme(&self) -> bool {
        self.edits_whole_plan() || self.role == AccessRole::Approver
    }

    /// The audit log shows who did what: for those who keep, approve or administer the plan.
    pub fn may_read_audit(&self) -> bool {
        matches!(
            self.role,
            AccessRole::Administrator | AccessRole::Approver | AccessRole::Coordinator
        )
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
            role,
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
    fn demo_roles_follow_the_plan() {
        let plan = plan();
        assert_eq!(demo_role(&plan, "boss"), AccessRole::Approver);
        assert_eq!(demo_role(&plan, "owner"), AccessRole::SystemOwner);
        assert_eq!(demo_role(&plan, "nobody"), AccessRole::Viewer);
    }
}
