//! The scenario library, drill programmes and their occurrences.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, QueryOrder,
};

use super::db::insert_all;
use super::drill_rows::system_record;
use super::entities::{drill_occurrences, drill_records, drill_timeline, drills, scenarios};
use super::outbox::{self, NewMessage};
use super::{Result, StoreError, audit};
use crate::domain::PlanId;
use crate::domain::drill::{Scenario, Schedule, SystemRecord};

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
    let txn = super::begin_write(db).await?;
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
    pub time_zone: String,
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
        time_zone: row.time_zone,
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
        time_zone: Set(d.time_zone.clone()),
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

/// One occurrence of a drill.
pub type Occurrence = drill_occurrences::Model;

pub const SCHEDULED: &str = "scheduled";

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

pub const CANCELLED: &str = "cancelled";

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
    let txn = super::begin_write(db).await?;
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

pub async fn occurrence(db: &impl ConnectionTrait, id: i64) -> Result<Option<Occurrence>> {
    Ok(drill_occurrences::Entity::find_by_id(id).one(db).await?)
}

/// Takes the occurrence's row lock if it is still open; `false` once it is closed.
async fn still_open(db: &impl ConnectionTrait, occurrence: i64) -> Result<bool> {
    Ok(drill_occurrences::Entity::update_many()
        .col_expr(
            drill_occurrences::Column::Sequence,
            Expr::col(drill_occurrences::Column::Sequence),
        )
        .filter(drill_occurrences::Column::Id.eq(occurrence))
        .filter(drill_occurrences::Column::ClosedAt.is_null())
        .exec(db)
        .await?
        .rows_affected
        == 1)
}

/// Saves what was recorded for one system; `false` (nothing written) once the drill is closed.
pub async fn record_system(
    db: &DatabaseConnection,
    occurrence: i64,
    system: &str,
    record: &SystemRecord,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let txn = super::begin_write(db).await?;
    if !still_open(&txn, occurrence).await? {
        return Ok(false);
    }
    let row = drill_records::ActiveModel {
        occurrence_id: Set(occurrence),
        system_id: Set(system.to_string()),
        found: Set(record.found),
        followed: Set(record.followed),
        recovery_minutes: Set(record
            .recovery
            .map(|d| i64::try_from(d.minutes()).unwrap_or(i64::MAX))),
        notes: Set(record.notes.clone()),
        updated_by: Set(actor.to_string()),
        updated_at: Set(now),
    };
    drill_records::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([
                drill_records::Column::OccurrenceId,
                drill_records::Column::SystemId,
            ])
            .update_columns([
                drill_records::Column::Found,
                drill_records::Column::Followed,
                drill_records::Column::RecoveryMinutes,
                drill_records::Column::Notes,
                drill_records::Column::UpdatedBy,
                drill_records::Column::UpdatedAt,
            ])
            .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    txn.commit().await?;
    Ok(true)
}

/// What was recorded, by system id.
pub async fn records(
    db: &impl ConnectionTrait,
    occurrence: i64,
) -> Result<std::collections::HashMap<String, SystemRecord>> {
    Ok(drill_records::Entity::find()
        .filter(drill_records::Column::OccurrenceId.eq(occurrence))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.system_id.clone(), system_record(r)))
        .collect())
}

pub type TimelineEntry = drill_timeline::Model;

/// Adds a note to the timeline; `false` once the drill is closed.
pub async fn add_note(
    db: &DatabaseConnection,
    occurrence: i64,
    author: &str,
    text: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let txn = super::begin_write(db).await?;
    if !still_open(&txn, occurrence).await? {
        return Ok(false);
    }
    drill_timeline::Entity::insert(drill_timeline::ActiveModel {
        id: NotSet,
        occurrence_id: Set(occurrence),
        at: Set(now),
        author: Set(author.to_string()),
        text: Set(text.to_string()),
    })
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    Ok(true)
}

pub async fn timeline(db: &impl ConnectionTrait, occurrence: i64) -> Result<Vec<TimelineEntry>> {
    Ok(drill_timeline::Entity::find()
        .filter(drill_timeline::Column::OccurrenceId.eq(occurrence))
        .order_by_asc(drill_timeline::Column::At)
        .order_by_asc(drill_timeline::Column::Id)
        .all(db)
        .await?)
}

/// Marks the drill as started now (the injects count from here); `false` if it was started
/// already or is closed.
pub async fn start(db: &impl ConnectionTrait, occurrence: i64, now: DateTime<Utc>) -> Result<bool> {
    Ok(drill_occurrences::Entity::update_many()
        .col_expr(drill_occurrences::Column::StartedAt, Expr::value(now))
        .filter(drill_occurrences::Column::Id.eq(occurrence))
        .filter(drill_occurrences::Column::StartedAt.is_null())
        .filter(drill_occurrences::Column::ClosedAt.is_null())
        .exec(db)
        .await?
        .rows_affected
        == 1)
}

/// Closes the drill's record: nothing can be changed afterwards. `false` if already closed.
pub async fn close(
    db: &impl ConnectionTrait,
    occurrence: i64,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    Ok(drill_occurrences::Entity::update_many()
        .col_expr(drill_occurrences::Column::ClosedAt, Expr::value(now))
        .col_expr(drill_occurrences::Column::ClosedBy, Expr::value(actor))
        .filter(drill_occurrences::Column::Id.eq(occurrence))
        .filter(drill_occurrences::Column::ClosedAt.is_null())
        .exec(db)
        .await?
        .rows_affected
        == 1)
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
    let txn = super::begin_write(db).await?;
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
    let txn = super::begin_write(db).await?;
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

/// When a system was last exercised: in which closed drill, and what was recorded for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastExercise {
    pub occurrence: i64,
    /// When the drill was held: when the facilitator started it, else its planned start, or
    /// when it was closed if that came first.
    pub held_at: DateTime<Utc>,
    pub title: String,
    pub record: SystemRecord,
}

/// For every system with a record in a closed drill of the plan, the latest such drill.
pub async fn last_exercised(
    db: &impl ConnectionTrait,
    plan: &PlanId,
) -> Result<std::collections::HashMap<String, LastExercise>> {
    let mut out: std::collections::HashMap<String, LastExercise> = Default::default();
    // Oldest first, so a later drill replaces an earlier one.
    for held in super::health::held_drills(db, plan, None).await? {
        for (system, record) in held.records {
            out.insert(
                system,
                LastExercise {
                    occurrence: held.occurrence,
                    held_at: held.held_at,
                    title: held.title.clone(),
                    record,
                },
            );
        }
    }
    Ok(out)
}

/// The hot wash: what went well, what did not, the lessons (læringspunkter). Saving it marks the
/// evaluation done.
pub async fn save_evaluation(
    db: &impl ConnectionTrait,
    occurrence: i64,
    went_well: &str,
    went_badly: &str,
    lessons: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    drill_occurrences::Entity::update_many()
        .col_expr(drill_occurrences::Column::WentWell, Expr::value(went_well))
        .col_expr(
            drill_occurrences::Column::WentBadly,
            Expr::value(went_badly),
        )
        .col_expr(drill_occurrences::Column::Lessons, Expr::value(lessons))
        .col_expr(drill_occurrences::Column::EvaluatedAt, Expr::value(now))
        .filter(drill_occurrences::Column::Id.eq(occurrence))
        .exec(db)
        .await?;
    Ok(())
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
