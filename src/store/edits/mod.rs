//! Edits from the browser and the API, each one transaction: the revision check, the write and
//! its audit records commit together or not at all. Approved versions are snapshots of the whole
//! plan.
//!
//! This module holds the plan's state and revisions, the saves of a system section and of the
//! plan-level sections; `people` the saves of a person's entry, `versions` the approved versions
//! and the approval.

mod people;
mod versions;

pub use super::plans::{PlanRevisions, plan_revisions};
pub use people::{load_person, save_person};
pub use versions::{
    Approved, VersionSummary, approve, significant_changes, version_plan, versions,
};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QuerySelect,
};

use super::db::insert_all;
use super::entities::*;
use super::plan_rows::{SystemRows, delete_rows, insert_section_rows};
use super::plans::{load_plan, load_systems};
use super::{Result, audit, begin_write};
use crate::domain::diff::{self, Change};
use crate::domain::edit::EditedSections;
use crate::domain::{Plan, PlanId, System};

/// Closed drills (all plans), when the last one closed, the plan's latest version number, and
/// how many decisions and withdrawals its dispensations have had.
pub type CoverageStamp = (i64, Option<DateTime<Utc>>, Option<i32>, i64);

/// What a page needs to know on every request to serve a plan from memory: its revisions, its
/// latest approved version, and the stamp of the closed drills (exercise coverage changes with
/// them). One query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanState {
    pub revisions: PlanRevisions,
    pub latest: Option<VersionSummary>,
    /// Closed drill occurrences (all plans) and when the last one closed.
    pub closed: (i64, Option<DateTime<Utc>>),
    /// Decisions on the plan's dispensations and withdrawals of them: grows with each.
    pub dispensed: i64,
}

impl PlanState {
    /// Changes whenever what exercise coverage is computed from may have changed (a drill
    /// closed anywhere, a version of the plan approved) or a dispensation was decided or
    /// withdrawn.
    pub fn coverage_stamp(&self) -> CoverageStamp {
        (
            self.closed.0,
            self.closed.1,
            self.latest.as_ref().map(|v| v.number),
            self.dispensed,
        )
    }
}

pub async fn plan_state(db: &impl ConnectionTrait, plan: &PlanId) -> Result<Option<PlanState>> {
    let backend = db.get_database_backend();
    let param = super::db::param(backend, 1);
    let sql = format!(
        "SELECT p.revision, p.sections_revision, \
         (SELECT COUNT(*) FROM drill_occurrences WHERE closed_at IS NOT NULL) AS closed, \
         (SELECT MAX(closed_at) FROM drill_occurrences WHERE closed_at IS NOT NULL) AS last_closed, \
         v.number, v.plan_revision, v.approved_by, v.approved_at, v.comment, \
         COALESCE(NULLIF(TRIM(a.display_name), ''), v.approved_by) AS approver, \
         (SELECT COUNT(*) FROM dispensation_decisions dd JOIN dispensations ds \
          ON ds.id = dd.dispensation_id WHERE ds.plan_id = p.id) \
         + (SELECT COUNT(*) FROM dispensations ds WHERE ds.plan_id = p.id \
          AND ds.withdrawn_at IS NOT NULL) AS dispensed \
         FROM plans p LEFT JOIN plan_versions v ON v.plan_id = p.id \
         AND v.number = (SELECT MAX(number) FROM plan_versions WHERE plan_id = p.id) \
         LEFT JOIN accounts a ON a.username = v.approved_by \
         WHERE p.id = {param}"
    );
    let Some(row) = db
        .query_one_raw(sea_orm::Statement::from_sql_and_values(
            backend,
            sql,
            [plan.as_str().into()],
        ))
        .await?
    else {
        return Ok(None);
    };
    let number: Option<i32> = row.try_get("", "number")?;
    let latest = match number {
        None => None,
        Some(number) => Some(VersionSummary {
            number,
            plan_revision: row.try_get("", "plan_revision")?,
            approved_by: row.try_get("", "approved_by")?,
            approver: row.try_get("", "approver")?,
            approved_at: row.try_get("", "approved_at")?,
            comment: row.try_get("", "comment")?,
            exercise_after: None,
        }),
    };
    Ok(Some(PlanState {
        revisions: PlanRevisions {
            revision: row.try_get("", "revision")?,
            sections: row.try_get("", "sections_revision")?,
        },
        latest,
        closed: (row.try_get("", "closed")?, row.try_get("", "last_closed")?),
        dispensed: row.try_get("", "dispensed")?,
    }))
}

/// Every system's revision in a plan, by id.
pub async fn system_revisions(
    db: &impl ConnectionTrait,
    plan: &PlanId,
) -> Result<std::collections::HashMap<String, i64>> {
    Ok(systems::Entity::find()
        .select_only()
        .column(systems::Column::Id)
        .column(systems::Column::Revision)
        .filter(systems::Column::PlanId.eq(plan.as_str()))
        .into_tuple::<(String, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

/// One system section with the revision it is at.
pub async fn load_system(
    db: &impl ConnectionTrait,
    plan: &PlanId,
    system: &str,
) -> Result<Option<(System, i64)>> {
    let revision = systems::Entity::find_by_id((plan.to_string(), system.to_string()))
        .select_only()
        .column(systems::Column::Revision)
        .into_tuple::<i64>()
        .one(db)
        .await?;
    let Some(revision) = revision else {
        return Ok(None);
    };
    Ok(load_systems(db, plan.as_str(), Some(system))
        .await?
        .pop()
        .map(|s| (s, revision)))
}

/// How a save ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Saved<T> {
    /// Written at this revision, with these changes (empty: nothing differed, nothing written).
    Done { revision: i64, changes: Vec<Change> },
    /// Someone saved since the form was opened: nothing was written. This is what is stored now.
    Conflict { current: T, revision: i64 },
    /// The plan or section no longer exists.
    Gone,
}

/// Raises the plan's revision first: on PostgreSQL the row lock orders concurrent saves to one
/// plan, on SQLite the write lock is taken before anything is read. Returns the new revision.
async fn bump_plan(
    db: &impl ConnectionTrait,
    plan: &PlanId,
    sections: bool,
) -> Result<Option<i64>> {
    let mut update = plans::Entity::update_many()
        .col_expr(
            plans::Column::Revision,
            Expr::col(plans::Column::Revision).add(1),
        )
        .filter(plans::Column::Id.eq(plan.as_str()));
    if sections {
        update = update.col_expr(
            plans::Column::SectionsRevision,
            Expr::col(plans::Column::Revision).add(1),
        );
    }
    if update.exec(db).await?.rows_affected == 0 {
        return Ok(None);
    }
    Ok(plan_revisions(db, plan).await?.map(|r| r.revision))
}

/// Saves one system section if it is still at `expected` revision, recording each changed field
/// in the audit log under `actor`.
pub async fn save_system(
    db: &DatabaseConnection,
    plan: &PlanId,
    actor: &str,
    edited: &System,
    expected: i64,
) -> Result<Saved<System>> {
    let txn = begin_write(db).await?;
    let Some(revision) = bump_plan(&txn, plan, false).await? else {
        return Ok(Saved::Gone);
    };
    let Some((stored, stored_revision)) = load_system(&txn, plan, edited.id.as_str()).await? else {
        return Ok(Saved::Gone);
    };
    if stored_revision != expected {
        return Ok(Saved::Conflict {
            current: stored,
            revision: stored_revision,
        });
    }
    let changes = diff::system_changes(Some(&stored), Some(edited));
    if changes.is_empty() {
        // Dropping the transaction undoes the revision bump.
        return Ok(Saved::Done {
            revision: stored_revision,
            changes,
        });
    }
    let pid = plan.as_str();
    let sid = edited.id.as_str();
    // Children are deleted explicitly, whether or not the backend enforces foreign keys.
    system_dependencies::Entity::delete_many()
        .filter(system_dependencies::Column::PlanId.eq(pid))
        .filter(system_dependencies::Column::SystemId.eq(sid))
        .exec(&txn)
        .await?;
    recovery_steps::Entity::delete_many()
        .filter(recovery_steps::Column::PlanId.eq(pid))
        .filter(recovery_steps::Column::SystemId.eq(sid))
        .exec(&txn)
        .await?;
    impact_levels::Entity::delete_many()
        .filter(impact_levels::Column::PlanId.eq(pid))
        .filter(impact_levels::Column::SystemId.eq(sid))
        .exec(&txn)
        .await?;
    let mut rows = SystemRows::default();
    rows.add(pid, edited, revision);
    let SystemRows {
        systems: mut system_rows,
        dependencies,
        steps,
        impact,
    } = rows;
    if let Some(row) = system_rows.pop() {
        // Every column is written, not only those the model marks as changed.
        systems::Entity::update(row.reset_all()).exec(&txn).await?;
    }
    insert_all(&txn, dependencies).await?;
    insert_all(&txn, steps).await?;
    insert_all(&txn, impact).await?;
    audit::record(&txn, actor, plan, "edit-system", &changes).await?;
    txn.commit().await?;
    Ok(Saved::Done { revision, changes })
}

/// Saves the plan-level sections, call tree and channels if they are still at `expected`.
pub async fn save_sections(
    db: &DatabaseConnection,
    plan: &PlanId,
    actor: &str,
    edited: &EditedSections,
    expected: i64,
) -> Result<Saved<Plan>> {
    let txn = begin_write(db).await?;
    let Some(stored_revisions) = plan_revisions(&txn, plan).await? else {
        return Ok(Saved::Gone);
    };
    let Some(revision) = bump_plan(&txn, plan, true).await? else {
        return Ok(Saved::Gone);
    };
    let Some(stored) = load_plan(&txn, plan).await? else {
        return Ok(Saved::Gone);
    };
    if stored_revisions.sections != expected {
        return Ok(Saved::Conflict {
            current: stored,
            revision: stored_revisions.sections,
        });
    }
    let mut after = stored.clone();
    after.sections = edited.sections.clone();
    after.call_tree = edited.call_tree.clone();
    after.channels = edited.channels.clone();
    let changes = diff::plan_changes(&stored, &after);
    if changes.is_empty() {
        return Ok(Saved::Done {
            revision: stored_revisions.sections,
            changes,
        });
    }
    let s = &edited.sections;
    let pid = plan.as_str();
    plans::Entity::update_many()
        .col_expr(plans::Column::Purpose, Expr::value(s.purpose.clone()))
        .col_expr(plans::Column::Scope, Expr::value(s.scope.clone()))
        .col_expr(plans::Column::Audience, Expr::value(s.audience.clone()))
        .col_expr(plans::Column::Resources, Expr::value(s.resources.clone()))
        .col_expr(plans::Column::Backups, Expr::value(s.backups.clone()))
        .col_expr(
            plans::Column::ReturnToNormal,
            Expr::value(s.return_to_normal.clone()),
        )
        .col_expr(
            plans::Column::IncidentHandling,
            Expr::value(s.incident_handling.clone()),
        )
        .filter(plans::Column::Id.eq(pid))
        .exec(&txn)
        .await?;
    delete_rows::<plan_criteria::Entity>(&txn, plan_criteria::Column::PlanId, pid).await?;
    delete_rows::<call_tree::Entity>(&txn, call_tree::Column::PlanId, pid).await?;
    delete_rows::<channels::Entity>(&txn, channels::Column::PlanId, pid).await?;
    insert_section_rows(&txn, pid, s, &edited.call_tree, &edited.channels).await?;
    audit::record(&txn, actor, plan, "edit-sections", &changes).await?;
    txn.commit().await?;
    Ok(Saved::Done { revision, changes })
}
