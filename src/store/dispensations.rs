//! The register of dispensations: each request with its decisions (approvals, rejections,
//! renewals) in the order made, and the reminders before expiry, claimed once each. Functions
//! that write take the caller's transaction, so the act and its audit record commit together.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};

use super::entities::{dispensation_decisions, dispensation_reminders, dispensations};
use super::{Result, StoreError};
use crate::domain::dispensation::{Decision, Dispensation, Subject};

/// A request, as its requester made it.
#[derive(Debug, Clone)]
pub struct NewRequest {
    pub plan_id: String,
    pub subject: Subject,
    pub justification: String,
    pub compensating: String,
    pub consequence: String,
    pub solution: String,
    pub solution_on: Option<NaiveDate>,
    pub requested_until: NaiveDate,
    pub requested_by: String,
}

/// Records a request; its id.
pub async fn request(
    db: &impl ConnectionTrait,
    new: NewRequest,
    now: DateTime<Utc>,
) -> Result<i64> {
    let subject = serde_json::to_string(&new.subject).map_err(|e| StoreError::Corrupt {
        table: "dispensations",
        key: new.plan_id.clone(),
        reason: e.to_string(),
    })?;
    Ok(dispensations::Entity::insert(dispensations::ActiveModel {
        id: NotSet,
        plan_id: Set(new.plan_id),
        subject: Set(subject),
        justification: Set(new.justification),
        compensating: Set(new.compensating),
        consequence: Set(new.consequence),
        solution: Set(new.solution),
        solution_on: Set(new.solution_on),
        requested_until: Set(new.requested_until),
        requested_by: Set(new.requested_by),
        requested_at: Set(now),
        withdrawn_at: Set(None),
        withdrawn_by: Set(None),
    })
    .exec(db)
    .await?
    .last_insert_id)
}

/// Records a decision on dispensation `id`; the decision's id.
pub async fn decide(
    db: &impl ConnectionTrait,
    id: i64,
    decision: &Decision,
    now: DateTime<Utc>,
) -> Result<i64> {
    Ok(
        dispensation_decisions::Entity::insert(dispensation_decisions::ActiveModel {
            id: NotSet,
            dispensation_id: Set(id),
            decided_by: Set(decision.by.clone()),
            decided_at: Set(now),
            decided_on: Set(decision.on),
            approved: Set(decision.approved),
            expires_on: Set(decision.expires_on),
            comment: Set(decision.comment.clone()),
        })
        .exec(db)
        .await?
        .last_insert_id,
    )
}

/// Withdraws dispensation `id` once; whether it was withdrawn now.
pub async fn withdraw(
    db: &impl ConnectionTrait,
    id: i64,
    by: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    Ok(dispensations::Entity::update_many()
        .col_expr(dispensations::Column::WithdrawnAt, Expr::value(now))
        .col_expr(dispensations::Column::WithdrawnBy, Expr::value(by))
        .filter(dispensations::Column::Id.eq(id))
        .filter(dispensations::Column::WithdrawnAt.is_null())
        .exec(db)
        .await?
        .rows_affected
        == 1)
}

/// A stored dispensation as the domain reads it, with its plan.
fn read(
    row: dispensations::Model,
    decisions: &[dispensation_decisions::Model],
) -> Result<(String, Dispensation)> {
    let subject = serde_json::from_str(&row.subject).map_err(|e| StoreError::Corrupt {
        table: "dispensations",
        key: row.id.to_string(),
        reason: e.to_string(),
    })?;
    let decisions = decisions
        .iter()
        .filter(|d| d.dispensation_id == row.id)
        .map(|d| Decision {
            by: d.decided_by.clone(),
            on: d.decided_on,
            approved: d.approved,
            expires_on: d.expires_on,
            comment: d.comment.clone(),
        })
        .collect();
    Ok((
        row.plan_id,
        Dispensation {
            id: row.id,
            subject,
            justification: row.justification,
            compensating: row.compensating,
            consequence: row.consequence,
            solution: row.solution,
            solution_on: row.solution_on,
            requested_until: row.requested_until,
            requested_by: row.requested_by,
            requested_on: row.requested_at.date_naive(),
            decisions,
            withdrawn_on: row.withdrawn_at.map(|at| at.date_naive()),
            withdrawn_by: row.withdrawn_by,
        },
    ))
}

async fn decisions_of(
    db: &impl ConnectionTrait,
    ids: Vec<i64>,
) -> Result<Vec<dispensation_decisions::Model>> {
    Ok(dispensation_decisions::Entity::find()
        .filter(dispensation_decisions::Column::DispensationId.is_in(ids))
        .order_by_asc(dispensation_decisions::Column::Id)
        .all(db)
        .await?)
}

/// Dispensation `id` and its plan.
pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<(String, Dispensation)>> {
    let Some(row) = dispensations::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    let decisions = decisions_of(db, vec![id]).await?;
    read(row, &decisions).map(Some)
}

/// A plan's dispensations, oldest first.
pub async fn of_plan(db: &impl ConnectionTrait, plan: &str) -> Result<Vec<Dispensation>> {
    let rows = dispensations::Entity::find()
        .filter(dispensations::Column::PlanId.eq(plan))
        .order_by_asc(dispensations::Column::Id)
        .all(db)
        .await?;
    let decisions = decisions_of(db, rows.iter().map(|r| r.id).collect()).await?;
    rows.into_iter()
        .map(|row| read(row, &decisions).map(|(_, d)| d))
        .collect()
}

/// The id of the decision that stands on dispensation `id`.
pub async fn standing_decision(db: &impl ConnectionTrait, id: i64) -> Result<Option<i64>> {
    Ok(decisions_of(db, vec![id]).await?.last().map(|d| d.id))
}

/// Claims the reminder `days_before` expiry of decision `decision`: `true` for the one caller
/// (in this process or another on the same database) that gets to send it.
pub async fn claim_reminder(
    db: &impl ConnectionTrait,
    dispensation: i64,
    decision: i64,
    days_before: u32,
    now: DateTime<Utc>,
) -> Result<bool> {
    let inserted = dispensation_reminders::Entity::insert(dispensation_reminders::ActiveModel {
        dispensation_id: Set(dispensation),
        decision_id: Set(decision),
        days_before: Set(i32::try_from(days_before).unwrap_or(i32::MAX)),
        sent_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([
            dispensation_reminders::Column::DecisionId,
            dispensation_reminders::Column::DaysBefore,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(inserted == 1)
}
