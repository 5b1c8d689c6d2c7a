//! The occurrences of a drill programme, and the messages sent for each: invitation, reminder,
//! the facilitator's evaluation reminder.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, QueryOrder,
};

use super::programmes::Drill;
use crate::store::Result;
use crate::store::entities::drill_occurrences;
use crate::store::outbox::{self, NewMessage};

/// One occurrence of a drill.
pub type Occurrence = drill_occurrences::Model;

pub const SCHEDULED: &str = "scheduled";

pub const CANCELLED: &str = "cancelled";

/// Stores the occurrences a drill has up to `until` that are not stored yet. Idempotent: a
/// start that is already stored is left alone (its id, UID and what was sent for it stay).
pub async fn ensure_occurrences(
    db: &impl ConnectionTrait,
    drill: &Drill,
    starts: &[DateTime<Utc>],
) -> Result<()> {
    // Read once what is stored, so a scheduler pass writes only what is new.
    let stored: std::collections::HashSet<DateTime<Utc>> = occurrences(db, drill.id)
        .await?
        .into_iter()
        .map(|o| o.starts_at)
        .collect();
    for t in starts.iter().filter(|t| !stored.contains(t)) {
        let row = drill_occurrences::ActiveModel {
            id: NotSet,
            drill_id: Set(drill.id),
            starts_at: Set(*t),
            uid: Set(format!("{}@beredskab", uuid::Uuid::new_v4())),
            sequence: Set(0),
            state: Set(SCHEDULED.to_string()),
            invited_at: Set(None),
            reminded_at: Set(None),
            closed_at: Set(None),
            closed_by: Set(None),
            went_well: Set(None),
            went_badly: Set(None),
            lessons: Set(None),
            evaluated_at: Set(None),
            evaluation_reminded_at: Set(None),
            started_at: Set(None),
        };
        // Another server may insert the same start at the same moment: the unique index keeps one.
        drill_occurrences::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([
                    drill_occurrences::Column::DrillId,
                    drill_occurrences::Column::StartsAt,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

pub async fn occurrences(db: &impl ConnectionTrait, drill: i64) -> Result<Vec<Occurrence>> {
    Ok(drill_occurrences::Entity::find()
        .filter(drill_occurrences::Column::DrillId.eq(drill))
        .order_by_asc(drill_occurrences::Column::StartsAt)
        .all(db)
        .await?)
}

/// The occurrences of these drills starting at or after `since`, by start: one query.
pub async fn occurrences_since(
    db: &impl ConnectionTrait,
    drills: &[i64],
    since: DateTime<Utc>,
) -> Result<Vec<Occurrence>> {
    Ok(drill_occurrences::Entity::find()
        .filter(drill_occurrences::Column::DrillId.is_in(drills.iter().copied()))
        .filter(drill_occurrences::Column::StartsAt.gte(since))
        .order_by_asc(drill_occurrences::Column::StartsAt)
        .all(db)
        .await?)
}

pub async fn occurrence(db: &impl ConnectionTrait, id: i64) -> Result<Option<Occurrence>> {
    Ok(drill_occurrences::Entity::find_by_id(id).one(db).await?)
}

/// Occurrences still ahead of `now` that have not been invited to, with their drills.
pub async fn upcoming_uninvited(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<Vec<Occurrence>> {
    Ok(drill_occurrences::Entity::find()
        .filter(drill_occurrences::Column::State.eq(SCHEDULED))
        .filter(drill_occurrences::Column::StartsAt.gt(now))
        .filter(
            sea_orm::Condition::any()
                .add(drill_occurrences::Column::InvitedAt.is_null())
                .add(drill_occurrences::Column::RemindedAt.is_null()),
        )
        .order_by_asc(drill_occurrences::Column::StartsAt)
        .all(db)
        .await?)
}

/// Which message of an occurrence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Send {
    Invitation,
    Reminder,
    Cancellation,
    /// The calendar update after a change of time.
    Update,
    /// To the facilitator: the evaluation is not done.
    EvaluationReminder,
}

/// Marks the invitation (or reminder) of an occurrence as sent and queues its messages, in one
/// transaction. Returns `false`, queuing nothing, when it was already marked: by an earlier run,
/// or by another server process at the same moment.
pub async fn record_send(
    db: &DatabaseConnection,
    occurrence: i64,
    starts_at: DateTime<Utc>,
    what: Send,
    messages: Vec<NewMessage>,
    now: DateTime<Utc>,
) -> Result<bool> {
    let column = match what {
        Send::Invitation => drill_occurrences::Column::InvitedAt,
        Send::EvaluationReminder => drill_occurrences::Column::EvaluationRemindedAt,
        // Cancellations and updates are queued by `cancel` and `reschedule`.
        Send::Reminder | Send::Cancellation | Send::Update => drill_occurrences::Column::RemindedAt,
    };
    let mut update = drill_occurrences::Entity::update_many()
        .col_expr(column, Expr::value(now))
        .filter(drill_occurrences::Column::Id.eq(occurrence))
        .filter(column.is_null());
    if what == Send::Invitation && starts_at <= now + chrono::Duration::days(1) {
        // An invitation this close to the start also serves as the reminder.
        update = update.col_expr(drill_occurrences::Column::RemindedAt, Expr::value(now));
    }
    let claim =
        async move |txn: &DatabaseTransaction| Ok(update.exec(txn).await?.rows_affected == 1);
    outbox::claim_and_queue(db, claim, messages, now).await
}

/// Occurrences held before `held_before` whose evaluation is neither done nor reminded about.
pub async fn evaluations_due(
    db: &impl ConnectionTrait,
    held_before: DateTime<Utc>,
) -> Result<Vec<Occurrence>> {
    Ok(drill_occurrences::Entity::find()
        .filter(drill_occurrences::Column::State.eq(SCHEDULED))
        .filter(drill_occurrences::Column::StartsAt.lt(held_before))
        .filter(drill_occurrences::Column::EvaluatedAt.is_null())
        .filter(drill_occurrences::Column::EvaluationRemindedAt.is_null())
        .all(db)
        .await?)
}

/// Marks the evaluation reminder of an occurrence as sent and queues it, once.
pub async fn record_evaluation_reminder(
    db: &DatabaseConnection,
    occurrence: i64,
    messages: Vec<NewMessage>,
    now: DateTime<Utc>,
) -> Result<bool> {
    let claim = async |txn: &DatabaseTransaction| {
        Ok(drill_occurrences::Entity::update_many()
            .col_expr(
                drill_occurrences::Column::EvaluationRemindedAt,
                Expr::value(now),
            )
            .filter(drill_occurrences::Column::Id.eq(occurrence))
            .filter(drill_occurrences::Column::EvaluationRemindedAt.is_null())
            .filter(drill_occurrences::Column::EvaluatedAt.is_null())
            .exec(txn)
            .await?
            .rows_affected
            == 1)
    };
    outbox::claim_and_queue(db, claim, messages, now).await
}
