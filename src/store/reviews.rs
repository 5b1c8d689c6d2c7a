//! Review reminders: each overdue system section's owner and deputy are reminded once per
//! cadence, claimed in the database like the drill invitations.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter,
};

use super::Result;
use super::entities::review_reminders;
use super::outbox::{self, NewMessage};

/// Claims the reminder of `system`'s missed review date `due` (`never` for a section never
/// reviewed) and queues `messages`, in one transaction: the first reminder of a date, or the next
/// once the last is older than `sent_before`. `false`, queuing nothing, when it is not due or
/// another pass (or server) claimed it first.
pub async fn record_reminder(
    db: &DatabaseConnection,
    plan: &str,
    system: &str,
    due: &str,
    sent_before: DateTime<Utc>,
    messages: Vec<NewMessage>,
    now: DateTime<Utc>,
) -> Result<bool> {
    let claim = async |txn: &DatabaseTransaction| {
        let first = review_reminders::Entity::insert(review_reminders::ActiveModel {
            plan_id: Set(plan.to_string()),
            system_id: Set(system.to_string()),
            due: Set(due.to_string()),
            last_sent_at: Set(now),
        })
        .on_conflict(
            OnConflict::columns([
                review_reminders::Column::PlanId,
                review_reminders::Column::SystemId,
                review_reminders::Column::Due,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(txn)
        .await?
            == 1;
        Ok(first
            || review_reminders::Entity::update_many()
                .col_expr(review_reminders::Column::LastSentAt, Expr::value(now))
                .filter(review_reminders::Column::PlanId.eq(plan))
                .filter(review_reminders::Column::SystemId.eq(system))
                .filter(review_reminders::Column::Due.eq(due))
                .filter(review_reminders::Column::LastSentAt.lt(sent_before))
                .exec(txn)
                .await?
                .rows_affected
                == 1)
    };
    outbox::claim_and_queue(db, claim, messages, now).await
}
