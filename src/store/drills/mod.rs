//! The scenario library, drill programmes and their occurrences.
//!
//! This module keeps the scenario library; `programmes` the drills as planned and changed
//! (cancelled, rescheduled), `occurrences` their dates and the invitations and reminders sent
//! for each, `record` what happens while a drill is held: what was recorded per system, the
//! timeline, the evaluation.

mod occurrences;
mod programmes;
mod record;

pub use occurrences::{
    CANCELLED, Occurrence, SCHEDULED, Send, ensure_occurrences, evaluations_due, occurrence,
    occurrences, occurrences_since, record_evaluation_reminder, record_send, upcoming_uninvited,
};
pub use programmes::{Drill, OccurrenceChange, cancel, create, find, list, reschedule, update};
pub use record::{
    InjectPlay, LastExercise, TimelineEntry, add_note, close, inject_plays, last_exercised,
    play_inject, record_system, records, running, save_evaluation, start, timeline,
};

use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder,
};

use super::db::insert_all;
use super::entities::scenarios;
use super::{Result, StoreError, begin_write};
use crate::domain::PlanId;
use crate::domain::drill::Scenario;

fn corrupt(table: &'static str, key: impl ToString, e: impl ToString) -> StoreError {
    StoreError::Corrupt {
        table,
        key: key.to_string(),
        reason: e.to_string(),
    }
}

/// Replaces a plan's scenario library, in one transaction; returns whether anything changed.
pub async fn import_scenarios(
    db: &DatabaseConnection,
    plan: &PlanId,
    library: &[Scenario],
) -> Result<bool> {
    let txn = begin_write(db).await?;
    if scenarios(&txn, plan).await? == library {
        return Ok(false);
    }
    scenarios::Entity::delete_many()
        .filter(scenarios::Column::PlanId.eq(plan.as_str()))
        .exec(&txn)
        .await?;
    let mut rows = Vec::new();
    for s in library {
        rows.push(scenarios::ActiveModel {
            plan_id: Set(plan.to_string()),
            id: Set(s.id.to_string()),
            title: Set(s.title.clone()),
            kind: Set(s.kind.as_str().to_string()),
            definition: Set(serde_json::to_string(s).map_err(|e| corrupt("scenarios", &s.id, e))?),
        });
    }
    insert_all(&txn, rows).await?;
    txn.commit().await?;
    Ok(true)
}

/// A plan's scenario library, in id order.
pub async fn scenarios(db: &impl ConnectionTrait, plan: &PlanId) -> Result<Vec<Scenario>> {
    scenarios::Entity::find()
        .filter(scenarios::Column::PlanId.eq(plan.as_str()))
        .order_by_asc(scenarios::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|row| {
            serde_json::from_str(&row.definition).map_err(|e| corrupt("scenarios", &row.id, e))
        })
        .collect()
}
