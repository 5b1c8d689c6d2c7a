//! Drill programmes: a drill as planned, and the changes to it (a new schedule, other
//! participants, a cancellation) with what they do to the occurrences still ahead.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
};

use super::corrupt;
use super::occurrences::{CANCELLED, Occurrence, SCHEDULED, occurrences};
use crate::domain::PlanId;
use crate::domain::drill::{Scenario, Schedule};
use crate::store::entities::{drill_occurrences, drills};
use crate::store::outbox::{self, NewMessage};
use crate::store::{Result, audit, begin_write};

/// A drill programme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drill {
    pub id: i64,
    pub plan_id: String,
    pub scenario_id: Option<String>,
    pub title: String,
    /// The scenario as it is run.
    pub scenario: Scenario,
    pub facilitator: Option<String>,
    /// Person ids.
    pub participants: Vec<String>,
    pub location: String,
    pub schedule: Schedule,
    /// The zone its schedule is read in (the plans' zone when it was planned).
    pub time_zone: chrono_tz::Tz,
    pub invite_days_before: i32,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub cancelled: bool,
}

fn drill(row: drills::Model) -> Result<Drill> {
    let key = row.id;
    Ok(Drill {
        scenario: serde_json::from_str(&row.definition).map_err(|e| corrupt("drills", key, e))?,
        participants: serde_json::from_str(&row.participants)
            .map_err(|e| corrupt("drills", key, e))?,
        schedule: serde_json::from_str(&row.schedule).map_err(|e| corrupt("drills", key, e))?,
        id: row.id,
        plan_id: row.plan_id,
        scenario_id: row.scenario_id,
        title: row.title,
        facilitator: row.facilitator,
        location: row.location,
        time_zone: row
            .time_zone
            .parse()
            .map_err(|e| corrupt("drills", key, format!("time zone {:?}: {e}", row.time_zone)))?,
        invite_days_before: row.invite_days_before,
        created_by: row.created_by,
        created_at: row.created_at,
        cancelled: row.cancelled,
    })
}

/// Stores a new drill programme; returns its id.
pub async fn create(db: &impl ConnectionTrait, d: &Drill) -> Result<i64> {
    let json = |v: serde_json::Result<String>| v.map_err(|e| corrupt("drills", &d.title, e));
    let row = drills::ActiveModel {
        id: NotSet,
        plan_id: Set(d.plan_id.clone()),
        scenario_id: Set(d.scenario_id.clone()),
        title: Set(d.title.clone()),
        definition: Set(json(serde_json::to_string(&d.scenario))?),
        facilitator: Set(d.facilitator.clone()),
        participants: Set(json(serde_json::to_string(&d.participants))?),
        location: Set(d.location.clone()),
        schedule: Set(json(serde_json::to_string(&d.schedule))?),
        time_zone: Set(d.time_zone.name().to_string()),
        invite_days_before: Set(d.invite_days_before),
        created_by: Set(d.created_by.clone()),
        created_at: Set(d.created_at),
        cancelled: Set(d.cancelled),
    };
    Ok(drills::Entity::insert(row).exec(db).await?.last_insert_id)
}

pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<Drill>> {
    drills::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(drill)
        .transpose()
}

/// Every drill programme (of one plan, or all), newest first.
pub async fn list(db: &impl ConnectionTrait, plan: Option<&PlanId>) -> Result<Vec<Drill>> {
    let mut query = drills::Entity::find().order_by_desc(drills::Column::Id);
    if let Some(plan) = plan {
        query = query.filter(drills::Column::PlanId.eq(plan.as_str()));
    }
    query.all(db).await?.into_iter().map(drill).collect()
}

/// Cancels a drill: every occurrence still ahead is cancelled (its SEQUENCE raised, so calendars
/// take the cancellation), and the cancellations of those that were invited to are queued, all
/// in one transaction with its audit record. `messages` gives the messages of an occurrence. Returns `false` if the
/// drill was cancelled already.
pub async fn cancel(
    db: &DatabaseConnection,
    drill: i64,
    now: DateTime<Utc>,
    audit: audit::Entry,
    mut messages: impl FnMut(&Occurrence) -> Result<Vec<NewMessage>>,
) -> Result<bool> {
    let txn = begin_write(db).await?;
    let won = drills::Entity::update_many()
        .col_expr(drills::Column::Cancelled, Expr::value(true))
        .filter(drills::Column::Id.eq(drill))
        .filter(drills::Column::Cancelled.eq(false))
        .exec(&txn)
        .await?
        .rows_affected
        == 1;
    if !won {
        return Ok(false);
    }
    for mut o in occurrences(&txn, drill).await? {
        if o.starts_at <= now || o.state != SCHEDULED {
            continue;
        }
        o.sequence += 1;
        o.state = CANCELLED.to_string();
        drill_occurrences::Entity::update_many()
            .col_expr(drill_occurrences::Column::State, Expr::value(CANCELLED))
            .col_expr(drill_occurrences::Column::Sequence, Expr::value(o.sequence))
            .filter(drill_occurrences::Column::Id.eq(o.id))
            .exec(&txn)
            .await?;
        if o.invited_at.is_some() {
            // An error drops the transaction: nothing is cancelled without its mail.
            outbox::queue(&txn, messages(&o)?, now).await?;
        }
    }
    audit::write(&txn, vec![audit]).await?;
    txn.commit().await?;
    Ok(true)
}

/// What a change of a drill does to one of its occurrences still ahead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OccurrenceChange {
    /// The new schedule no longer has it.
    pub cancel: bool,
    /// Its calendar SEQUENCE afterwards.
    pub sequence: i32,
    /// Mail to queue: invitations for people added, cancellations for people removed, updates.
    pub messages: Vec<NewMessage>,
}

/// Stores a changed drill (title, place, facilitator, participants, lead time, schedule) and
/// applies `change` to each of its occurrences still ahead, all in one transaction with its
/// audit record. `change` sees each occurrence as it is inside the transaction, so mail is
/// decided on what was really sent. `false` if the drill is cancelled or gone.
pub async fn update(
    db: &DatabaseConnection,
    drill: &Drill,
    now: DateTime<Utc>,
    audit: audit::Entry,
    mut change: impl FnMut(&Occurrence) -> Result<Option<OccurrenceChange>>,
) -> Result<bool> {
    let json = |v: serde_json::Result<String>| v.map_err(|e| corrupt("drills", drill.id, e));
    let txn = begin_write(db).await?;
    let updated = drills::Entity::update_many()
        .col_expr(drills::Column::Title, Expr::value(drill.title.clone()))
        .col_expr(
            drills::Column::Location,
            Expr::value(drill.location.clone()),
        )
        .col_expr(
            drills::Column::Facilitator,
            Expr::value(drill.facilitator.clone()),
        )
        .col_expr(
            drills::Column::Participants,
            Expr::value(json(serde_json::to_string(&drill.participants))?),
        )
        .col_expr(
            drills::Column::Schedule,
            Expr::value(json(serde_json::to_string(&drill.schedule))?),
        )
        .col_expr(
            drills::Column::InviteDaysBefore,
            Expr::value(drill.invite_days_before),
        )
        .filter(drills::Column::Id.eq(drill.id))
        .filter(drills::Column::Cancelled.eq(false))
        .exec(&txn)
        .await?;
    if updated.rows_affected != 1 {
        return Ok(false);
    }
    for o in occurrences(&txn, drill.id).await? {
        if o.starts_at <= now || o.state != SCHEDULED {
            continue;
        }
        let Some(c) = change(&o)? else {
            continue;
        };
        let state = if c.cancel { CANCELLED } else { SCHEDULED };
        drill_occurrences::Entity::update_many()
            .col_expr(drill_occurrences::Column::State, Expr::value(state))
            .col_expr(drill_occurrences::Column::Sequence, Expr::value(c.sequence))
            .filter(drill_occurrences::Column::Id.eq(o.id))
            .exec(&txn)
            .await?;
        outbox::queue(&txn, c.messages, now).await?;
    }
    audit::write(&txn, vec![audit]).await?;
    txn.commit().await?;
    Ok(true)
}

/// Moves a one-time drill's occurrence still ahead to `starts_at` (same UID, SEQUENCE raised,
/// reminder to be sent again) and stores the new schedule; queues the updates for those who
/// were invited, all in one transaction. `false` if there is no occurrence ahead.
pub async fn reschedule(
    db: &DatabaseConnection,
    drill: &Drill,
    starts_at: DateTime<Utc>,
    now: DateTime<Utc>,
    audit: audit::Entry,
    mut messages: impl FnMut(&Occurrence) -> Result<Vec<NewMessage>>,
) -> Result<bool> {
    let txn = begin_write(db).await?;
    let Some(mut o) = occurrences(&txn, drill.id)
        .await?
        .into_iter()
        .find(|o| o.starts_at > now && o.state == SCHEDULED)
    else {
        return Ok(false);
    };
    o.starts_at = starts_at;
    o.sequence += 1;
    o.reminded_at = None;
    drill_occurrences::Entity::update_many()
        .col_expr(drill_occurrences::Column::StartsAt, Expr::value(starts_at))
        .col_expr(drill_occurrences::Column::Sequence, Expr::value(o.sequence))
        .col_expr(
            drill_occurrences::Column::RemindedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(drill_occurrences::Column::Id.eq(o.id))
        .exec(&txn)
        .await?;
    drills::Entity::update_many()
        .col_expr(
            drills::Column::Schedule,
            Expr::value(
                serde_json::to_string(&drill.schedule)
                    .map_err(|e| corrupt("drills", drill.id, e))?,
            ),
        )
        .filter(drills::Column::Id.eq(drill.id))
        .exec(&txn)
        .await?;
    if o.invited_at.is_some() {
        outbox::queue(&txn, messages(&o)?, now).await?;
    }
    audit::write(&txn, vec![audit]).await?;
    txn.commit().await?;
    Ok(true)
}
