//! Action items (handlingspunkter): created from a drill's findings, owned by a plan person,
//! due on a date, open until done.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, QueryOrder,
};

use super::entities::action_items;
use super::outbox::{self, NewMessage};
use super::{Result, audit};

pub const OPEN: &str = "open";
pub const DONE: &str = "done";

pub type ActionItem = action_items::Model;

/// A new action item.
#[derive(Debug, Clone)]
pub struct NewAction {
    pub plan_id: String,
    pub occurrence_id: Option<i64>,
    /// The incident it came from, if it did not come from a drill.
    pub incident_id: Option<i64>,
    pub system_id: Option<String>,
    pub title: String,
    pub owner: String,
    pub due: NaiveDate,
    pub created_by: String,
}

/// Stores an action item, its audit record and the mail to its owner, in one transaction.
pub async fn create(
    db: &DatabaseConnection,
    new: NewAction,
    mail: Option<NewMessage>,
    now: DateTime<Utc>,
) -> Result<i64> {
    let txn = super::begin_write(db).await?;
    let id = action_items::Entity::insert(action_items::ActiveModel {
        id: NotSet,
        plan_id: Set(new.plan_id.clone()),
        occurrence_id: Set(new.occurrence_id),
        system_id: Set(new.system_id.clone()),
        title: Set(new.title.clone()),
        owner: Set(new.owner.clone()),
        due: Set(new.due),
        status: Set(OPEN.to_string()),
        created_by: Set(new.created_by.clone()),
        created_at: Set(now),
        closed_at: Set(None),
        reminded_at: Set(None),
        incident_id: Set(new.incident_id),
    })
    .exec(&txn)
    .await?
    .last_insert_id;
    audit::write(
        &txn,
        vec![audit::Entry {
            actor: new.created_by,
            plan_id: Some(new.plan_id),
            system_id: new.system_id,
            action: "action-create".into(),
            field: format!("action {id}"),
            after: format!("{} ({}, {})", new.title, new.owner, new.due),
            ..Default::default()
        }],
    )
    .await?;
    if let Some(mut m) = mail {
        m.message_id = format!("action.{id}.{}", m.message_id);
        outbox::queue(&txn, vec![m], now).await?;
    }
    txn.commit().await?;
    Ok(id)
}

/// Which action items to list.
#[derive(Debug, Clone, Copy, Default)]
pub struct Filter<'a> {
    pub plan: Option<&'a str>,
    pub owner: Option<&'a str>,
    pub occurrence: Option<i64>,
    pub incident: Option<i64>,
}

/// Action items of a plan (or of one owner, one drill occurrence, one incident), open first, by
/// due date.
pub async fn list(db: &impl ConnectionTrait, filter: Filter<'_>) -> Result<Vec<ActionItem>> {
    let Filter {
        plan,
        owner,
        occurrence,
        incident,
    } = filter;
    let mut q = action_items::Entity::find();
    if let Some(p) = plan {
        q = q.filter(action_items::Column::PlanId.eq(p));
    }
    if let Some(o) = owner {
        q = q.filter(action_items::Column::Owner.eq(o));
    }
    if let Some(o) = occurrence {
        q = q.filter(action_items::Column::OccurrenceId.eq(o));
    }
    if let Some(i) = incident {
        q = q.filter(action_items::Column::IncidentId.eq(i));
    }
    Ok(q.order_by_desc(action_items::Column::Status)
        .order_by_asc(action_items::Column::Due)
        .order_by_asc(action_items::Column::Id)
        .all(db)
        .await?)
}

pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<ActionItem>> {
    Ok(action_items::Entity::find_by_id(id).one(db).await?)
}

/// Marks an item done (or open again), with its audit record.
pub async fn set_status(
    db: &DatabaseConnection,
    id: i64,
    done: bool,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let txn = super::begin_write(db).await?;
    let Some(item) = find(&txn, id).await? else {
        return Ok(false);
    };
    let (status, closed) = if done {
        (DONE, Some(now))
    } else {
        (OPEN, None)
    };
    action_items::Entity::update_many()
        .col_expr(action_items::Column::Status, Expr::value(status))
        .col_expr(action_items::Column::ClosedAt, Expr::value(closed))
        .filter(action_items::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    audit::write(
        &txn,
        vec![audit::Entry {
            actor: actor.to_string(),
            plan_id: Some(item.plan_id),
            system_id: item.system_id,
            action: "action-status".into(),
            field: format!("action {id}"),
            before: item.status,
            after: status.to_string(),
        }],
    )
    .await?;
    txn.commit().await?;
    Ok(true)
}

fn not_reminded_since(t: DateTime<Utc>) -> sea_orm::Condition {
    sea_orm::Condition::any()
        .add(action_items::Column::RemindedAt.is_null())
        .add(action_items::Column::RemindedAt.lt(t))
}

/// Open items due before `today` whose owner has not been reminded since `reminded_before`.
pub async fn overdue(
    db: &impl ConnectionTrait,
    today: NaiveDate,
    reminded_before: DateTime<Utc>,
) -> Result<Vec<ActionItem>> {
    Ok(action_items::Entity::find()
        .filter(action_items::Column::Status.eq(OPEN))
        .filter(action_items::Column::Due.lt(today))
        .filter(not_reminded_since(reminded_before))
        .order_by_asc(action_items::Column::Id)
        .all(db)
        .await?)
}

/// Marks that the owner of an overdue item was reminded now and queues the reminder, in one
/// transaction. `false` (nothing queued) when the item is done meanwhile or was reminded since
/// `reminded_before`: by an earlier pass, or by another server at the same moment.
pub async fn record_reminder(
    db: &DatabaseConnection,
    id: i64,
    reminded_before: DateTime<Utc>,
    messages: Vec<NewMessage>,
    now: DateTime<Utc>,
) -> Result<bool> {
    let claim = async |txn: &DatabaseTransaction| {
        Ok(action_items::Entity::update_many()
            .col_expr(action_items::Column::RemindedAt, Expr::value(now))
            .filter(action_items::Column::Id.eq(id))
            .filter(action_items::Column::Status.eq(OPEN))
            .filter(not_reminded_since(reminded_before))
            .exec(txn)
            .await?
            .rows_affected
            == 1)
    };
    outbox::claim_and_queue(db, claim, messages, now).await
}
