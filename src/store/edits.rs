//! Edits from the browser and the API, each one transaction: the revision check, the write and
//! its audit records commit together or not at all. Approved versions are snapshots of the whole
//! plan.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::db::insert_all;
use super::entities::*;
use super::outbox::{self, NewMessage};
use super::plan_rows::{SystemRows, delete_rows, insert_section_rows};
pub use super::plans::{PlanRevisions, plan_revisions};
use super::plans::{load_plan, load_systems};
use super::{Result, StoreError, audit};
use crate::domain::coverage::{self, SignificantChange};
use crate::domain::diff::{self, Change};
use crate::domain::edit::EditedSections;
use crate::domain::{Person, Plan, PlanId, System};

/// Closed drills (all plans), when the last one closed, and the plan's latest version number.
pub type CoverageStamp = (i64, Option<DateTime<Utc>>, Option<i32>);

/// What a page needs to know on every request to serve a plan from memory: its revisions, its
/// latest approved version, and the stamp of the closed drills (exercise coverage changes with
/// them). One query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanState {
    pub revisions: PlanRevisions,
    pub latest: Option<VersionSummary>,
    /// Closed drill occurrences (all plans) and when the last one closed.
    pub closed: (i64, Option<DateTime<Utc>>),
}

impl PlanState {
    /// Changes whenever what exercise coverage is computed from may have changed: a drill
    /// closed (anywhere) or a version of the plan approved.
    pub fn coverage_stamp(&self) -> CoverageStamp {
        (
            self.closed.0,
            self.closed.1,
            self.latest.as_ref().map(|v| v.number),
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
         v.number, v.plan_revision, v.approved_by, v.approved_at, v.comment \
         FROM plans p LEFT JOIN plan_versions v ON v.plan_id = p.id \
         AND v.number = (SELECT MAX(number) FROM plan_versions WHERE plan_id = p.id) \
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
    let txn = super::begin_write(db).await?;
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
    let txn = super::begin_write(db).await?;
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

/// An approved version of a plan.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VersionSummary {
    pub number: i32,
    /// The plan revision it snapshots.
    pub plan_revision: i64,
    pub approved_by: String,
    pub approved_at: DateTime<Utc>,
    pub comment: String,
    /// The systems it changed significantly, as JSON (see [`significant_changes`]).
    #[serde(skip)]
    pub exercise_after: Option<String>,
}

fn summary(v: plan_versions::Model) -> VersionSummary {
    VersionSummary {
        number: v.number,
        plan_revision: v.plan_revision,
        approved_by: v.approved_by,
        approved_at: v.approved_at,
        comment: v.comment,
        exercise_after: v.exercise_after,
    }
}

/// A plan's approved versions, newest first, without their snapshots.
pub async fn versions(db: &impl ConnectionTrait, plan: &PlanId) -> Result<Vec<VersionSummary>> {
    use plan_versions::Column as C;
    Ok(plan_versions::Entity::find()
        .select_only()
        .columns([
            C::PlanId,
            C::Number,
            C::PlanRevision,
            C::ApprovedBy,
            C::ApprovedAt,
            C::Comment,
            C::ExerciseAfter,
        ])
        .column_as(Expr::value(""), C::Snapshot)
        .filter(C::PlanId.eq(plan.as_str()))
        .order_by_desc(C::Number)
        .all(db)
        .await?
        .into_iter()
        .map(summary)
        .collect())
}

/// The plan as it was approved in version `number`.
pub async fn version_plan(
    db: &impl ConnectionTrait,
    plan: &PlanId,
    number: i32,
) -> Result<Option<(VersionSummary, Plan)>> {
    let Some(row) = plan_versions::Entity::find_by_id((plan.to_string(), number))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let snapshot: Plan = serde_json::from_str(&row.snapshot).map_err(|e| StoreError::Corrupt {
        table: "plan_versions",
        key: format!("{plan}/{number}"),
        reason: e.to_string(),
    })?;
    Ok(Some((summary(row), snapshot)))
}

/// How an approval ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Approved {
    Version(VersionSummary),
    /// The draft is the latest approved version already: nothing to approve.
    NothingNew,
    Gone,
}

/// Approves the current draft as the next version, with the approver's comment. The systems
/// the version changes significantly against the previous one (horizons, dependencies, recovery
/// steps) are stored with it, and `notify` (given the plan, the version's number and those
/// systems with their changed fields) gives the mail that tells the coordinator they should
/// be exercised again; it is queued in the same transaction.
pub async fn approve(
    db: &DatabaseConnection,
    plan: &PlanId,
    actor: &str,
    comment: &str,
    notify: impl FnOnce(&Plan, i32, &BTreeMap<String, Vec<String>>) -> Result<Vec<NewMessage>>,
) -> Result<Approved> {
    let txn = super::begin_write(db).await?;
    // A write first, for the same ordering as the edits: concurrent approvals queue here.
    if !super::plans::lock_plan(&txn, plan).await? {
        return Ok(Approved::Gone);
    }
    let Some(revisions) = plan_revisions(&txn, plan).await? else {
        return Ok(Approved::Gone);
    };
    let latest = versions(&txn, plan).await?.into_iter().next();
    if latest
        .as_ref()
        .is_some_and(|v| v.plan_revision == revisions.revision)
    {
        return Ok(Approved::NothingNew);
    }
    let Some(current) = load_plan(&txn, plan).await? else {
        return Ok(Approved::Gone);
    };
    let corrupt = |e: serde_json::Error| StoreError::Corrupt {
        table: "plans",
        key: plan.to_string(),
        reason: e.to_string(),
    };
    let snapshot = serde_json::to_string(&current).map_err(corrupt)?;
    let changed = match &latest {
        Some(v) => match version_plan(&txn, plan, v.number).await? {
            Some((_, before)) => coverage::significant_changes(&before, &current),
            None => BTreeMap::new(),
        },
        None => BTreeMap::new(),
    };
    let version = plan_versions::Model {
        plan_id: plan.to_string(),
        number: latest.map_or(1, |v| v.number + 1),
        plan_revision: revisions.revision,
        snapshot,
        approved_by: actor.to_string(),
        approved_at: Utc::now(),
        comment: comment.to_string(),
        exercise_after: if changed.is_empty() {
            None
        } else {
            Some(serde_json::to_string(&changed).map_err(corrupt)?)
        },
    };
    plan_versions::Entity::insert(version.clone().into_active_model())
        .exec_without_returning(&txn)
        .await?;
    audit::write(
        &txn,
        vec![audit::Entry {
            actor: actor.to_string(),
            plan_id: Some(plan.to_string()),
            system_id: None,
            action: "approve".to_string(),
            field: format!("version {}", version.number),
            before: String::new(),
            after: comment.to_string(),
        }],
    )
    .await?;
    if !changed.is_empty() {
        outbox::queue(
            &txn,
            notify(&current, version.number, &changed)?,
            Utc::now(),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(Approved::Version(summary(version)))
}

/// The latest significant change of each system of a plan over its approved versions (those
/// approved by `until`, when given).
pub async fn significant_changes(
    db: &impl ConnectionTrait,
    plan: &PlanId,
    until: Option<DateTime<Utc>>,
) -> Result<HashMap<String, SignificantChange>> {
    let mut out: HashMap<String, SignificantChange> = HashMap::new();
    // Oldest first, so a later version replaces an earlier one.
    for v in versions(db, plan)
        .await?
        .into_iter()
        .rev()
        .filter(|v| until.is_none_or(|t| v.approved_at <= t))
    {
        let Some(json) = &v.exercise_after else {
            continue;
        };
        let changed: BTreeMap<String, Vec<String>> =
            serde_json::from_str(json).map_err(|e| StoreError::Corrupt {
                table: "plan_versions",
                key: format!("{plan}/{}", v.number),
                reason: e.to_string(),
            })?;
        for (system, fields) in changed {
            out.insert(
                system,
                SignificantChange {
                    version: v.number,
                    approved_at: v.approved_at,
                    fields,
                },
            );
        }
    }
    Ok(out)
}

/// One person of a plan with the revision they are at.
pub async fn load_person(
    db: &impl ConnectionTrait,
    plan: &PlanId,
    person: &str,
) -> Result<Option<(Person, i64)>> {
    let Some(row) = people::Entity::find_by_id((plan.to_string(), person.to_string()))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let loaded = load_plan(db, plan).await?;
    Ok(loaded
        .and_then(|p| p.people.into_iter().find(|p| p.id.as_str() == person))
        .map(|p| (p, row.revision)))
}

/// Saves a person's entry if it is still at `expected`; `expected = None` adds a new person
/// (refused as a conflict if the id has been taken meanwhile).
pub async fn save_person(
    db: &DatabaseConnection,
    plan: &PlanId,
    actor: &str,
    person: &Person,
    expected: Option<i64>,
) -> Result<Saved<Option<Person>>> {
    let txn = super::begin_write(db).await?;
    let Some(revision) = bump_plan(&txn, plan, false).await? else {
        return Ok(Saved::Gone);
    };
    let stored = load_person(&txn, plan, person.id.as_str()).await?;
    let position = match (&stored, expected) {
        (Some((_, at)), Some(expected)) if *at == expected => None,
        (None, None) => Some(
            people::Entity::find()
                .filter(people::Column::PlanId.eq(plan.as_str()))
                .count(&txn)
                .await?,
        ),
        (None, Some(_)) => return Ok(Saved::Gone),
        (current, _) => {
            let (current, revision) = current.clone().map_or((None, 0), |(p, r)| (Some(p), r));
            return Ok(Saved::Conflict { current, revision });
        }
    };
    let before = stored.as_ref().map(|(p, _)| p);
    let changes = diff::person_changes(before, person);
    if changes.is_empty() {
        return Ok(Saved::Done {
            revision: stored.map_or(0, |(_, r)| r),
            changes,
        });
    }
    let pid = plan.as_str();
    let id = person.id.as_str();
    match position {
        None => {
            people::Entity::update_many()
                .col_expr(people::Column::Name, Expr::value(person.name.clone()))
                .col_expr(people::Column::Title, Expr::value(person.title.clone()))
                .col_expr(people::Column::Email, Expr::value(person.email.clone()))
                .col_expr(people::Column::Phone, Expr::value(person.phone.clone()))
                .col_expr(people::Column::Revision, Expr::value(revision))
                .filter(people::Column::PlanId.eq(pid))
                .filter(people::Column::Id.eq(id))
                .exec(&txn)
                .await?;
        }
        Some(count) => {
            people::Entity::insert(
                people::Model {
                    plan_id: pid.to_string(),
                    id: id.to_string(),
                    position: i32::try_from(count).unwrap_or(i32::MAX),
                    name: person.name.clone(),
                    title: person.title.clone(),
                    email: person.email.clone(),
                    phone: person.phone.clone(),
                    revision,
                }
                .into_active_model(),
            )
            .exec_without_returning(&txn)
            .await?;
        }
    }
    person_roles::Entity::delete_many()
        .filter(person_roles::Column::PlanId.eq(pid))
        .filter(person_roles::Column::PersonId.eq(id))
        .exec(&txn)
        .await?;
    insert_all(
        &txn,
        person
            .roles
            .iter()
            .enumerate()
            .map(|(i, r)| {
                person_roles::Model {
                    plan_id: pid.to_string(),
                    person_id: id.to_string(),
                    position: i32::try_from(i).unwrap_or(i32::MAX),
                    role_id: r.to_string(),
                }
                .into_active_model()
            })
            .collect(),
    )
    .await?;
    audit::record(&txn, actor, plan, "edit-person", &changes).await?;
    txn.commit().await?;
    Ok(Saved::Done { revision, changes })
}
