//! Memberships from identity-provider groups: the group mapping (rows in the configuration
//! file, and rows an administrator keeps on the administration page), and the refresh at each
//! sign-in that gives an account the memberships its groups map to. Each change is audited in
//! its transaction.

use super::{App, Result};
use crate::domain::access::Membership;
use crate::store::accounts::{self, GroupMapping};
use crate::store::{self, audit};

/// What a sign-in's refresh of the memberships from groups left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MembershipRefresh {
    /// The account holds at least one membership, or administers the installation: it may
    /// come in.
    pub any: bool,
}

/// A row of the group mapping, and where it is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingRow {
    pub mapping: GroupMapping,
    /// Its id on the administration page; `None` for a row of the configuration file.
    pub id: Option<i64>,
}

/// The memberships that `groups` give through `mapping`; group names compare without regard
/// to case (Entra ID sends object ids, AD FS names as typed).
pub fn memberships_from_groups(mapping: &[GroupMapping], groups: &[String]) -> Vec<Membership> {
    let mut held: Vec<Membership> = mapping
        .iter()
        .filter_map(|row| {
            let group = groups
                .iter()
                .find(|g| g.trim().eq_ignore_ascii_case(row.group.trim()))?;
            Some(Membership {
                plan: row.plan.clone(),
                role: row.role,
                group: Some(group.trim().to_string()),
            })
        })
        .collect();
    held.sort();
    held.dedup();
    held
}

impl App {
    /// The whole group mapping: the configuration file's rows first, then the page's.
    pub async fn group_mapping(&self) -> Result<Vec<MappingRow>> {
        let mut rows = Vec::new();
        for row in &self.config.group_mappings {
            for role in &row.roles {
                rows.push(MappingRow {
                    mapping: GroupMapping {
                        group: row.group.trim().to_string(),
                        plan: (row.plan.trim() != "*").then(|| row.plan.trim().to_string()),
                        role: *role,
                    },
                    id: None,
                });
            }
        }
        for (id, mapping) in accounts::group_mappings(&self.db).await? {
            rows.push(MappingRow {
                mapping,
                id: Some(id),
            });
        }
        Ok(rows)
    }

    /// Adds a row to the group mapping; `false` (nothing written) if it is there already.
    pub async fn add_group_mapping(&self, actor: &str, mapping: &GroupMapping) -> Result<bool> {
        let txn = store::begin_write(&self.db).await?;
        if !accounts::group_mapping_add(&txn, mapping).await? {
            return Ok(false);
        }
        audit::write(
            &txn,
            vec![mapping_entry(actor, "group-mapping-add", mapping)],
        )
        .await?;
        txn.commit().await.map_err(store::StoreError::from)?;
        Ok(true)
    }

    /// Removes row `id` of the group mapping; `false` if there was none. Accounts keep what
    /// the row gave them until their next sign-in.
    pub async fn remove_group_mapping(&self, actor: &str, id: i64) -> Result<bool> {
        let txn = store::begin_write(&self.db).await?;
        let Some(mapping) = accounts::group_mapping_remove(&txn, id).await? else {
            return Ok(false);
        };
        audit::write(
            &txn,
            vec![mapping_entry(actor, "group-mapping-remove", &mapping)],
        )
        .await?;
        txn.commit().await.map_err(store::StoreError::from)?;
        Ok(true)
    }

    /// Gives the account the memberships its identity-provider groups map to now, replacing
    /// those its groups gave before (an administrator's stay), and audits what changed.
    pub async fn refresh_memberships_from_groups(
        &self,
        account_id: i64,
        groups: &[String],
    ) -> Result<MembershipRefresh> {
        let mapping: Vec<GroupMapping> = self
            .group_mapping()
            .await?
            .into_iter()
            .map(|row| row.mapping)
            .collect();
        let now = memberships_from_groups(&mapping, groups);
        let txn = store::begin_write(&self.db).await?;
        let Some(account) = accounts::find(&txn, account_id).await? else {
            return Ok(MembershipRefresh { any: false });
        };
        let before: Vec<Membership> = account
            .memberships
            .iter()
            .filter(|m| m.group.is_some())
            .cloned()
            .collect();
        if before != now {
            accounts::set_memberships(&txn, account_id, true, &now).await?;
            audit::write(
                &txn,
                vec![audit::Entry {
                    actor: account.username.clone(),
                    action: "account-groups".into(),
                    field: account.username.clone(),
                    before: super::accounts::memberships_text(&before),
                    after: super::accounts::memberships_text(&now),
                    ..Default::default()
                }],
            )
            .await?;
        }
        txn.commit().await.map_err(store::StoreError::from)?;
        let given = account.memberships.iter().any(|m| m.group.is_none());
        Ok(MembershipRefresh {
            any: account.administrator || given || !now.is_empty(),
        })
    }
}

fn mapping_entry(actor: &str, action: &str, mapping: &GroupMapping) -> audit::Entry {
    audit::Entry {
        actor: actor.to_string(),
        action: action.into(),
        field: mapping.group.clone(),
        after: format!(
            "{}@{}",
            mapping.role.as_str(),
            mapping.plan.as_deref().unwrap_or("*")
        ),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::access::AccessRole;

    #[test]
    fn groups_give_the_memberships_they_map_to_whatever_their_case() {
        let row = |group: &str, plan: Option<&str>, role| GroupMapping {
            group: group.into(),
            plan: plan.map(str::to_string),
            role,
        };
        let mapping = [
            row("GG-Beredskab", None, AccessRole::Viewer),
            row("GG-IT-chef", Some("kommune"), AccessRole::Approver),
            row("GG-IT-chef", Some("kommune"), AccessRole::IncidentLead),
            row("GG-Andet", Some("andet"), AccessRole::Coordinator),
        ];
        let held = memberships_from_groups(&mapping, &["gg-it-chef".into(), "Elsewhere".into()]);
        assert_eq!(
            held.iter().map(|m| m.role).collect::<Vec<_>>(),
            [AccessRole::Approver, AccessRole::IncidentLead]
        );
        assert!(
            held.iter().all(|m| m.plan.as_deref() == Some("kommune")
                && m.group.as_deref() == Some("gg-it-chef"))
        );
        assert!(memberships_from_groups(&mapping, &["Nobody".into()]).is_empty());
        assert!(memberships_from_groups(&mapping, &[]).is_empty());
    }
}
