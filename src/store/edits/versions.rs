//! Approved versions: the snapshots of a plan, the approval that makes one, and the systems each
//! version changed significantly (they should be exercised again).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect,
};

use crate::domain::coverage::{self, SignificantChange};
use crate::domain::{Plan, PlanId};
use crate::store::entities::plan_versions;
use crate::store::outbox::{self, NewMessage};
use crate::store::plans::{load_plan, plan_revisions};
use crate::store::{Result, StoreError, audit, begin_write};

/// An approved version of a plan.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VersionSummary {
    pub number: i32,
    /// The plan revision it snapshots.
    pub plan_revision: i64,
    /// The username of who approved it.
    pub approved_by: String,
    /// Their name as pages show it (the account's display name; the username when the
    /// account is gone).
    pub approver: String,
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
        approver: v.approved_by.clone(),
        approved_by: v.approved_by,
        approved_at: v.approved_at,
        comment: v.comment,
        exercise_after: v.exercise_after,
    }
}

/// A plan's approved versions, newest first, without their snapshots.
pub async fn versions(db: &impl ConnectionTrait, plan: &PlanId) -> Result<Vec<VersionSummary>> {
    use plan_versions::Column as C;
    let names = crate::store::accounts::names(db).await?;
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
        .map(|mut v| {
            v.approver = names.of(&v.approved_by);
            v
        })
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
    now: DateTime<Utc>,
    notify: impl FnOnce(&Plan, i32, &BTreeMap<String, Vec<String>>) -> Result<Vec<NewMessage>>,
) -> Result<Approved> {
    let txn = begin_write(db).await?;
    // A write first, for the same ordering as the edits: concurrent approvals queue here.
    if !crate::store::plans::lock_plan(&txn, plan).await? {
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
        approved_at: now,
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
    // What to tell of the approval (the webhook event always; the mail about systems to
    // exercise again only when some changed significantly), queued with it.
    outbox::queue(&txn, notify(&current, version.number, &changed)?, now).await?;
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
