//! The rows of a plan's parts, shared by the import (`plans`) and the editor (`edits`): the
//! system sections with their lists, the plan-level lists, and removing a part's rows.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter};

use super::db::{Result, insert_all};
use super::entities::*;
use crate::domain::*;

pub(super) const CRITERION_ACTIVATION: &str = "activation";
pub(super) const CRITERION_STAND_DOWN: &str = "stand_down";

/// Removes a plan's rows of one table.
pub(super) async fn delete_rows<E: EntityTrait>(
    db: &impl ConnectionTrait,
    plan_column: E::Column,
    plan_id: &str,
) -> Result<()> {
    E::delete_many()
        .filter(plan_column.eq(plan_id))
        .exec(db)
        .await?;
    Ok(())
}

pub(super) fn minutes(d: Duration) -> i64 {
    i64::try_from(d.minutes()).unwrap_or(i64::MAX)
}

/// Inserts the rows of the plan-level lists: activation and stand-down criteria, call tree,
/// channels.
pub(super) async fn insert_section_rows(
    db: &impl ConnectionTrait,
    pid: &str,
    s: &PlanSections,
    call_tree: &[CallTreeEntry],
    channels: &[Channel],
) -> Result<()> {
    let position = |i: usize| i32::try_from(i).unwrap_or(i32::MAX);
    let criteria = [
        (CRITERION_ACTIVATION, &s.activation_criteria),
        (CRITERION_STAND_DOWN, &s.stand_down_criteria),
    ];
    insert_all(
        db,
        criteria
            .iter()
            .flat_map(|(kind, list)| {
                list.iter().enumerate().map(|(i, text)| {
                    plan_criteria::Model {
                        plan_id: pid.to_string(),
                        kind: kind.to_string(),
                        position: position(i),
                        text: text.clone(),
                    }
                    .into_active_model()
                })
            })
            .collect(),
    )
    .await?;
    insert_all(
        db,
        call_tree
            .iter()
            .enumerate()
            .map(|(i, c)| {
                call_tree::Model {
                    plan_id: pid.to_string(),
                    position: position(i),
                    person_id: c.person.to_string(),
                    called_by: c.called_by.as_ref().map(PersonId::to_string),
                    note: c.note.clone(),
                }
                .into_active_model()
            })
            .collect(),
    )
    .await?;
    insert_all(
        db,
        channels
            .iter()
            .enumerate()
            .map(|(i, c)| {
                channels::Model {
                    plan_id: pid.to_string(),
                    position: position(i),
                    name: c.name.clone(),
                    purpose: c.purpose.clone(),
                    detail: c.detail.clone(),
                }
                .into_active_model()
            })
            .collect(),
    )
    .await
}

/// The rows of system sections, ready to insert.
#[derive(Default)]
pub(super) struct SystemRows {
    pub(super) systems: Vec<systems::ActiveModel>,
    pub(super) dependencies: Vec<system_dependencies::ActiveModel>,
    pub(super) steps: Vec<recovery_steps::ActiveModel>,
    pub(super) impact: Vec<impact_levels::ActiveModel>,
}

impl SystemRows {
    pub(super) fn add(&mut self, pid: &str, sys: &System, revision: i64) {
        let position = |i: usize| i32::try_from(i).unwrap_or(i32::MAX);
        let supplier = sys.supplier.clone().unwrap_or_default();
        self.systems.push(
            systems::Model {
                plan_id: pid.to_string(),
                id: sys.id.to_string(),
                name: sys.name.clone(),
                description: sys.description.clone(),
                owner: sys.owner.as_ref().map(PersonId::to_string),
                deputy: sys.deputy.as_ref().map(PersonId::to_string),
                criticality: sys.criticality.level().into(),
                rto_minutes: sys.rto.map(minutes),
                rpo_minutes: sys.rpo.map(minutes),
                mtpd_minutes: sys.mtpd.map(minutes),
                workaround: sys.workaround.clone(),
                verification: sys.verification.clone(),
                last_reviewed: sys.last_reviewed,
                reviewed_by: sys.reviewed_by.as_ref().map(PersonId::to_string),
                review_interval_minutes: sys.review_interval.map(minutes),
                supplier_name: sys.supplier.as_ref().map(|s| s.name.clone()),
                supplier_contact: supplier.contact,
                supplier_phone: supplier.phone,
                supplier_email: supplier.email,
                supplier_contract_restore_minutes: supplier.contract_restore.map(minutes),
                revision,
            }
            .into_active_model(),
        );
        self.dependencies
            .extend(sys.depends_on.iter().enumerate().map(|(i, d)| {
                system_dependencies::Model {
                    plan_id: pid.to_string(),
                    system_id: sys.id.to_string(),
                    position: position(i),
                    depends_on: d.to_string(),
                }
                .into_active_model()
            }));
        self.steps
            .extend(sys.recovery_steps.iter().enumerate().map(|(i, st)| {
                recovery_steps::Model {
                    plan_id: pid.to_string(),
                    system_id: sys.id.to_string(),
                    position: position(i),
                    text: st.text.clone(),
                    role_id: st.role.to_string(),
                    duration_minutes: minutes(st.duration),
                }
                .into_active_model()
            }));
        self.impact
            .extend(sys.impact.iter().enumerate().map(|(i, row)| {
                impact_levels::Model {
                    plan_id: pid.to_string(),
                    system_id: sys.id.to_string(),
                    position: position(i),
                    after_minutes: minutes(row.after),
                    level: row.level.as_str().to_string(),
                    citizens: row.citizens.clone(),
                    staff: row.staff.clone(),
                }
                .into_active_model()
            }));
    }

    /// Systems first: the other rows refer to them.
    pub(super) async fn insert(self, db: &impl ConnectionTrait) -> Result<()> {
        insert_all(db, self.systems).await?;
        insert_all(db, self.dependencies).await?;
        insert_all(db, self.steps).await?;
        insert_all(db, self.impact).await?;
        Ok(())
    }
}
