//! The plan repository: plans imported from their files, loaded whole, written row by row, and
//! the list of stored plans with their revisions.

use std::collections::HashMap;

use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, IntoActiveModel, QuerySelect};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    QueryTrait,
};

use super::audit;
use super::db::{Decode, Result, begin_write, insert_all};
use super::entities::*;
use super::plan_rows::{
    CRITERION_ACTIVATION, CRITERION_STAND_DOWN, SystemRows, delete_rows, insert_section_rows,
    minutes,
};
use crate::domain::diff;
use crate::domain::*;

/// Takes the plan's row lock for the rest of the transaction (PostgreSQL; SQLite's write lock
/// is taken by `begin_write`) with an update that changes nothing. False if there is no plan.
pub(super) async fn lock_plan(txn: &DatabaseTransaction, plan: &PlanId) -> Result<bool> {
    let locked = plans::Entity::update_many()
        .col_expr(plans::Column::Revision, Expr::col(plans::Column::Revision))
        .filter(plans::Column::Id.eq(plan.as_str()))
        .exec(txn)
        .await?;
    Ok(locked.rows_affected > 0)
}

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportOutcome {
    Created,
    Updated,
    /// The database already held exactly this plan: nothing was written.
    Unchanged,
}

/// Stores `plan`, replacing any stored plan with its id, in one transaction: all or nothing.
/// Importing the same plan twice writes nothing the second time.
pub async fn import_plan(db: &DatabaseConnection, plan: &Plan) -> Result<ImportOutcome> {
    replace_plan(db, plan, IMPORT_ACTOR, "import").await
}

/// Writes `plan` over the stored one (or as a new plan) in one transaction, each changed field
/// audited under `actor` as `action`: what a plan folder's import and a spreadsheet's do.
pub async fn replace_plan(
    db: &DatabaseConnection,
    plan: &Plan,
    actor: &str,
    action: &str,
) -> Result<ImportOutcome> {
    Ok(replace(db, plan, actor, action, None)
        .await?
        .unwrap_or(ImportOutcome::Unchanged))
}

/// As [`replace_plan`], but only if the stored plan is still at `revision` (the one the new
/// plan was made from): `None`, and nothing written, if anyone changed it since.
pub async fn replace_plan_at(
    db: &DatabaseConnection,
    plan: &Plan,
    actor: &str,
    action: &str,
    revision: i64,
) -> Result<Option<ImportOutcome>> {
    replace(db, plan, actor, action, Some(revision)).await
}

async fn replace(
    db: &DatabaseConnection,
    plan: &Plan,
    actor: &str,
    action: &str,
    expected: Option<i64>,
) -> Result<Option<ImportOutcome>> {
    let txn = begin_write(db).await?;
    // On PostgreSQL concurrent imports and saves of one plan queue on its row before reading
    // it, as they queue for the write lock on SQLite. The row is updated in place, never
    // deleted, so whoever waited on it goes on with the plan as this import leaves it.
    lock_plan(&txn, &plan.id).await?;
    let current = plan_revisions(&txn, &plan.id).await?.map(|r| r.revision);
    if expected.is_some() && current != expected {
        return Ok(None);
    }
    let existing = load_plan(&txn, &plan.id).await?;
    let (outcome, revision) = match existing {
        Some(stored) if stored == *plan => return Ok(Some(ImportOutcome::Unchanged)),
        Some(stored) => {
            // Revisions only grow, so a form opened before the import cannot save over it.
            let revision = current.unwrap_or(0) + 1;
            let changes = diff::plan_changes(&stored, plan);
            audit::record(&txn, actor, &plan.id, action, &changes).await?;
            delete_plan_contents(&txn, &plan.id).await?;
            (ImportOutcome::Updated, revision)
        }
        None => (ImportOutcome::Created, 1),
    };
    write_plan(&txn, plan, revision, outcome == ImportOutcome::Created).await?;
    txn.commit().await?;
    Ok(Some(outcome))
}

/// The actor recorded in the audit log for changes that came from plan files.
pub const IMPORT_ACTOR: &str = "(import)";

/// Removes everything that belongs to a plan but its row in `plans`.
async fn delete_plan_contents(db: &impl ConnectionTrait, id: &PlanId) -> Result<()> {
    let id = id.as_str();
    // Children first, so this works whether or not the backend enforces foreign keys.
    delete_rows::<impact_levels::Entity>(db, impact_levels::Column::PlanId, id).await?;
    delete_rows::<recovery_steps::Entity>(db, recovery_steps::Column::PlanId, id).await?;
    delete_rows::<system_dependencies::Entity>(db, system_dependencies::Column::PlanId, id).await?;
    delete_rows::<systems::Entity>(db, systems::Column::PlanId, id).await?;
    delete_rows::<channels::Entity>(db, channels::Column::PlanId, id).await?;
    delete_rows::<call_tree::Entity>(db, call_tree::Column::PlanId, id).await?;
    delete_rows::<plan_criteria::Entity>(db, plan_criteria::Column::PlanId, id).await?;
    delete_rows::<person_roles::Entity>(db, person_roles::Column::PlanId, id).await?;
    delete_rows::<people::Entity>(db, people::Column::PlanId, id).await?;
    delete_rows::<plan_roles::Entity>(db, plan_roles::Column::PlanId, id).await?;
    Ok(())
}

/// Writes `plan` at `revision`: its row in `plans` is inserted if `new`, else updated, and
/// everything else is inserted (an update has deleted it first).
async fn write_plan(
    db: &impl ConnectionTrait,
    plan: &Plan,
    revision: i64,
    new: bool,
) -> Result<()> {
    let pid = plan.id.to_string();
    let s = &plan.sections;
    let row = plans::Model {
        id: pid.clone(),
        name: plan.name.clone(),
        organisation: plan.organisation.clone(),
        owner_role: plan.owner_role.to_string(),
        approver_role: plan.approver_role.to_string(),
        review_interval_minutes: minutes(plan.review_interval),
        exercise_interval_minutes: minutes(plan.exercise_interval),
        alert_escalation_minutes: i32::try_from(plan.alert_escalation_minutes).unwrap_or(i32::MAX),
        call_tree_target_minutes: i32::try_from(plan.call_tree_target_minutes).unwrap_or(i32::MAX),
        dispensation_max_months: i32::try_from(plan.dispensation_max_months).unwrap_or(i32::MAX),
        purpose: s.purpose.clone(),
        scope: s.scope.clone(),
        audience: s.audience.clone(),
        resources: s.resources.clone(),
        backups: s.backups.clone(),
        return_to_normal: s.return_to_normal.clone(),
        incident_handling: s.incident_handling.clone(),
        revision,
        sections_revision: revision,
    }
    .into_active_model();
    if new {
        plans::Entity::insert(row)
            .exec_without_returning(db)
            .await?;
    } else {
        // Every column is written, not only those the model marks as changed.
        plans::Entity::update(row.reset_all()).exec(db).await?;
    }

    let position = |i: usize| i32::try_from(i).unwrap_or(i32::MAX);
    insert_all(
        db,
        plan.roles
            .iter()
            .enumerate()
            .map(|(i, r)| {
                plan_roles::Model {
                    plan_id: pid.clone(),
                    id: r.id.to_string(),
                    position: position(i),
                    name: r.name.clone(),
                    responsibilities: r.responsibilities.clone(),
                }
                .into_active_model()
            })
            .collect(),
    )
    .await?;
    insert_all(
        db,
        plan.people
            .iter()
            .enumerate()
            .map(|(i, p)| {
                people::Model {
                    plan_id: pid.clone(),
                    id: p.id.to_string(),
                    position: position(i),
                    name: p.name.clone(),
                    title: p.title.clone(),
                    email: p.email.clone(),
                    phone: p.phone.clone(),
                    revision,
                }
                .into_active_model()
            })
            .collect(),
    )
    .await?;
    insert_all(
        db,
        plan.people
            .iter()
            .flat_map(|p| {
                p.roles.iter().enumerate().map(|(i, r)| {
                    person_roles::Model {
                        plan_id: pid.clone(),
                        person_id: p.id.to_string(),
                        position: position(i),
                        role_id: r.to_string(),
                    }
                    .into_active_model()
                })
            })
            .collect(),
    )
    .await?;
    insert_section_rows(db, &pid, s, &plan.call_tree, &plan.channels).await?;
    let mut rows = SystemRows::default();
    for sys in &plan.systems {
        rows.add(&pid, sys, revision);
    }
    rows.insert(db).await
}

/// Loads a whole plan, or `None` if there is no plan with this id.
pub async fn load_plan(db: &impl ConnectionTrait, id: &PlanId) -> Result<Option<Plan>> {
    let pid = id.as_str();
    let Some(row) = plans::Entity::find_by_id(pid.to_string()).one(db).await? else {
        return Ok(None);
    };
    let dec = Decode::new("plans", pid);

    let roles = plan_roles::Entity::find()
        .filter(plan_roles::Column::PlanId.eq(pid))
        .order_by_asc(plan_roles::Column::Position)
        .all(db)
        .await?
        .into_iter()
        .map(|r| {
            let dec = Decode::new("plan_roles", &r.id);
            Ok(Role {
                id: dec.id(&r.id, RoleId::parse)?,
                name: r.name,
                responsibilities: r.responsibilities,
            })
        })
        .collect::<Result<Vec<_>>>()?;

    let mut roles_of: HashMap<String, Vec<RoleId>> = HashMap::new();
    for r in person_roles::Entity::find()
        .filter(person_roles::Column::PlanId.eq(pid))
        .order_by_asc(person_roles::Column::PersonId)
        .order_by_asc(person_roles::Column::Position)
        .all(db)
        .await?
    {
        let role = Decode::new("person_roles", &r.person_id).id(&r.role_id, RoleId::parse)?;
        roles_of.entry(r.person_id).or_default().push(role);
    }
    let people = people::Entity::find()
        .filter(people::Column::PlanId.eq(pid))
        .order_by_asc(people::Column::Position)
        .all(db)
        .await?
        .into_iter()
        .map(|p| {
            let dec = Decode::new("people", &p.id);
            Ok(Person {
                id: dec.id(&p.id, PersonId::parse)?,
                roles: roles_of.remove(&p.id).unwrap_or_default(),
                name: p.name,
                title: p.title,
                email: p.email,
                phone: p.phone,
            })
        })
        .collect::<Result<Vec<_>>>()?;

    let mut activation_criteria = Vec::new();
    let mut stand_down_criteria = Vec::new();
    for c in plan_criteria::Entity::find()
        .filter(plan_criteria::Column::PlanId.eq(pid))
        .order_by_asc(plan_criteria::Column::Kind)
        .order_by_asc(plan_criteria::Column::Position)
        .all(db)
        .await?
    {
        match c.kind.as_str() {
            CRITERION_ACTIVATION => activation_criteria.push(c.text),
            CRITERION_STAND_DOWN => stand_down_criteria.push(c.text),
            other => {
                return Decode::new("plan_criteria", pid).fail(format!("unknown kind {other:?}"));
            }
        }
    }

    let call_tree = call_tree::Entity::find()
        .filter(call_tree::Column::PlanId.eq(pid))
        .order_by_asc(call_tree::Column::Position)
        .all(db)
        .await?
        .into_iter()
        .map(|c| {
            let dec = Decode::new("call_tree", c.position.to_string());
            Ok(CallTreeEntry {
                person: dec.id(&c.person_id, PersonId::parse)?,
                called_by: dec.opt_id(&c.called_by, PersonId::parse)?,
                note: c.note,
            })
        })
        .collect::<Result<Vec<_>>>()?;

    let channels = channels::Entity::find()
        .filter(channels::Column::PlanId.eq(pid))
        .order_by_asc(channels::Column::Position)
        .all(db)
        .await?
        .into_iter()
        .map(|c| Channel {
            name: c.name,
            purpose: c.purpose,
            detail: c.detail,
        })
        .collect();

    let systems = load_systems(db, pid, None).await?;

    Ok(Some(Plan {
        id: id.clone(),
        owner_role: dec.id(&row.owner_role, RoleId::parse)?,
        approver_role: dec.id(&row.approver_role, RoleId::parse)?,
        review_interval: dec.duration(row.review_interval_minutes)?,
        exercise_interval: dec.duration(row.exercise_interval_minutes)?,
        alert_escalation_minutes: u32::try_from(row.alert_escalation_minutes)
            .unwrap_or_else(|_| Plan::default_alert_escalation_minutes()),
        call_tree_target_minutes: u32::try_from(row.call_tree_target_minutes)
            .unwrap_or_else(|_| Plan::default_call_tree_target_minutes()),
        dispensation_max_months: u32::try_from(row.dispensation_max_months)
            .unwrap_or_else(|_| Plan::default_dispensation_max_months()),
        name: row.name,
        organisation: row.organisation,
        sections: PlanSections {
            purpose: row.purpose,
            scope: row.scope,
            audience: row.audience,
            activation_criteria,
            stand_down_criteria,
            resources: row.resources,
            backups: row.backups,
            return_to_normal: row.return_to_normal,
            incident_handling: row.incident_handling,
        },
        roles,
        people,
        call_tree,
        channels,
        systems,
    }))
}

/// A plan's systems in id order (or only the system `only`), each with its dependencies, steps
/// and impact table.
pub(super) async fn load_systems(
    db: &impl ConnectionTrait,
    pid: &str,
    only: Option<&str>,
) -> Result<Vec<System>> {
    let mut deps: HashMap<String, Vec<SystemId>> = HashMap::new();
    for d in system_dependencies::Entity::find()
        .filter(system_dependencies::Column::PlanId.eq(pid))
        .apply_if(only, |q, id| {
            q.filter(system_dependencies::Column::SystemId.eq(id))
        })
        .order_by_asc(system_dependencies::Column::SystemId)
        .order_by_asc(system_dependencies::Column::Position)
        .all(db)
        .await?
    {
        let dep =
            Decode::new("system_dependencies", &d.system_id).id(&d.depends_on, SystemId::parse)?;
        deps.entry(d.system_id).or_default().push(dep);
    }
    let mut steps: HashMap<String, Vec<RecoveryStep>> = HashMap::new();
    for st in recovery_steps::Entity::find()
        .filter(recovery_steps::Column::PlanId.eq(pid))
        .apply_if(only, |q, id| {
            q.filter(recovery_steps::Column::SystemId.eq(id))
        })
        .order_by_asc(recovery_steps::Column::SystemId)
        .order_by_asc(recovery_steps::Column::Position)
        .all(db)
        .await?
    {
        let dec = Decode::new("recovery_steps", &st.system_id);
        let step = RecoveryStep {
            role: dec.id(&st.role_id, RoleId::parse)?,
            duration: dec.duration(st.duration_minutes)?,
            text: st.text,
        };
        steps.entry(st.system_id).or_default().push(step);
    }
    let mut impact: HashMap<String, Vec<ImpactStep>> = HashMap::new();
    for row in impact_levels::Entity::find()
        .filter(impact_levels::Column::PlanId.eq(pid))
        .apply_if(only, |q, id| {
            q.filter(impact_levels::Column::SystemId.eq(id))
        })
        .order_by_asc(impact_levels::Column::SystemId)
        .order_by_asc(impact_levels::Column::Position)
        .all(db)
        .await?
    {
        let dec = Decode::new("impact_levels", &row.system_id);
        let Some(level) = ImpactLevel::parse(&row.level) else {
            return dec.fail(format!("unknown impact level {:?}", row.level));
        };
        let step = ImpactStep {
            after: dec.duration(row.after_minutes)?,
            level,
            citizens: row.citizens,
            staff: row.staff,
        };
        impact.entry(row.system_id).or_default().push(step);
    }

    systems::Entity::find()
        .filter(systems::Column::PlanId.eq(pid))
        .apply_if(only, |q, id| q.filter(systems::Column::Id.eq(id)))
        .order_by_asc(systems::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|s| {
            let dec = Decode::new("systems", &s.id);
            let opt_duration = |m: Option<i64>| m.map(|m| dec.duration(m)).transpose();
            let supplier = match s.supplier_name {
                None => None,
                Some(name) => Some(Supplier {
                    name,
                    contact: s.supplier_contact,
                    phone: s.supplier_phone,
                    email: s.supplier_email,
                    contract_restore: opt_duration(s.supplier_contract_restore_minutes)?,
                }),
            };
            Ok(System {
                id: dec.id(&s.id, SystemId::parse)?,
                owner: dec.opt_id(&s.owner, PersonId::parse)?,
                deputy: dec.opt_id(&s.deputy, PersonId::parse)?,
                reviewed_by: dec.opt_id(&s.reviewed_by, PersonId::parse)?,
                criticality: Criticality::new(s.criticality.into()).or_else(|e| dec.fail(e))?,
                rto: opt_duration(s.rto_minutes)?,
                rpo: opt_duration(s.rpo_minutes)?,
                mtpd: opt_duration(s.mtpd_minutes)?,
                review_interval: opt_duration(s.review_interval_minutes)?,
                depends_on: deps.remove(&s.id).unwrap_or_default(),
                recovery_steps: steps.remove(&s.id).unwrap_or_default(),
                impact: impact.remove(&s.id).unwrap_or_default(),
                supplier,
                name: s.name,
                description: s.description,
                workaround: s.workaround,
                verification: s.verification,
                last_reviewed: s.last_reviewed,
            })
        })
        .collect()
}

/// The ids of every stored plan, in order.
pub async fn plan_ids(db: &impl ConnectionTrait) -> Result<Vec<PlanId>> {
    Ok(plan_summaries(db)
        .await?
        .into_iter()
        .map(|p| p.id)
        .collect())
}

/// A stored plan's name, without its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanSummary {
    pub id: PlanId,
    pub name: String,
    pub organisation: String,
}

/// Every stored plan's id and name, in id order: one query.
pub async fn plan_summaries(db: &impl ConnectionTrait) -> Result<Vec<PlanSummary>> {
    plans::Entity::find()
        .order_by_asc(plans::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|p| {
            Ok(PlanSummary {
                id: Decode::new("plans", &p.id).id(&p.id, PlanId::parse)?,
                name: p.name,
                organisation: p.organisation,
            })
        })
        .collect()
}

/// A plan's edit counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanRevisions {
    /// Raised by every change anywhere in the plan.
    pub revision: i64,
    /// Raised by every change to the plan-level sections.
    pub sections: i64,
}

/// A plan's edit counters, or `None` if there is no plan with this id.
pub async fn plan_revisions(
    db: &impl ConnectionTrait,
    plan: &PlanId,
) -> Result<Option<PlanRevisions>> {
    Ok(plans::Entity::find_by_id(plan.to_string())
        .select_only()
        .column(plans::Column::Revision)
        .column(plans::Column::SectionsRevision)
        .into_tuple::<(i64, i64)>()
        .one(db)
        .await?
        .map(|(revision, sections)| PlanRevisions { revision, sections }))
}
