//! A drill as it is held: started, what was recorded for each system, the timeline of notes,
//! closed, evaluated; and when each system was last exercised.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
};

use crate::domain::PlanId;
use crate::domain::drill::SystemRecord;
use crate::store::drill_rows::system_record;
use crate::store::entities::{
    drill_inject_plays, drill_occurrences, drill_records, drill_timeline,
};
use crate::store::{Result, audit, begin_write};

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

/// Saves what was recorded for one system; `false` (nothing written) once the drill is closed.
pub async fn record_system(
    db: &DatabaseConnection,
    occurrence: i64,
    system: &str,
    record: &SystemRecord,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let txn = begin_write(db).await?;
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

/// When an inject of an occurrence was played, and by whom.
pub type InjectPlay = drill_inject_plays::Model;

/// Plays inject `inject` (its index in the scenario) of an open occurrence now, with its audit
/// record, in one transaction. `Ok(None)` when the occurrence is closed; `Ok(Some(false))` when
/// the inject was played already (it keeps its first time).
pub async fn play_inject(
    db: &DatabaseConnection,
    occurrence: i64,
    inject: i32,
    actor: &str,
    now: DateTime<Utc>,
    entry: audit::Entry,
    messages: Vec<crate::store::outbox::NewMessage>,
) -> Result<Option<bool>> {
    let txn = begin_write(db).await?;
    if !still_open(&txn, occurrence).await? {
        return Ok(None);
    }
    let inserted = drill_inject_plays::Entity::insert(drill_inject_plays::ActiveModel {
        occurrence_id: Set(occurrence),
        inject: Set(inject),
        played_at: Set(now),
        played_by: Set(actor.to_string()),
    })
    .on_conflict(
        OnConflict::columns([
            drill_inject_plays::Column::OccurrenceId,
            drill_inject_plays::Column::Inject,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    if inserted == 0 {
        return Ok(Some(false));
    }
    audit::write(&txn, vec![entry]).await?;
    crate::store::outbox::queue(&txn, messages, now).await?;
    txn.commit().await?;
    Ok(Some(true))
}

/// The injects played in an occurrence, in the order they were played.
pub async fn inject_plays(db: &impl ConnectionTrait, occurrence: i64) -> Result<Vec<InjectPlay>> {
    Ok(drill_inject_plays::Entity::find()
        .filter(drill_inject_plays::Column::OccurrenceId.eq(occurrence))
        .order_by_asc(drill_inject_plays::Column::PlayedAt)
        .order_by_asc(drill_inject_plays::Column::Inject)
        .all(db)
        .await?)
}

/// Adds a note to the timeline; `false` once the drill is closed.
pub async fn add_note(
    db: &DatabaseConnection,
    occurrence: i64,
    author: &str,
    text: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let txn = begin_write(db).await?;
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
    for held in crate::store::health::held_drills(db, plan, None).await? {
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

/// Occurrences started and not closed: those whose timed injects may be due.
pub async fn running(db: &impl ConnectionTrait) -> Result<Vec<crate::store::drills::Occurrence>> {
    Ok(drill_occurrences::Entity::find()
        .filter(drill_occurrences::Column::StartedAt.is_not_null())
        .filter(drill_occurrences::Column::ClosedAt.is_null())
        .all(db)
        .await?)
}
