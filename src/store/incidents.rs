//! Incidents: opened, systems marked down and recovered, recovery steps ticked, notes, stand-down
//! and close. Every change is one transaction that raises the incident's revision (what live pages
//! watch), appends to its timeline and writes the audit record.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, Statement,
};

use super::entities::{incident_events, incident_systems, incident_ticks, incidents};
use super::outbox::{self, NewMessage};
use super::{Result, audit};
use crate::domain::SystemId;
use crate::domain::incident::Outage;

pub const OPEN: &str = "open";
/// The PostgreSQL channel told of every change: `'<incident id>:<revision>'`.
pub const NOTIFY_CHANNEL: &str = "beredskab_incident";
pub const STANDING_DOWN: &str = "standing-down";
pub const CLOSED: &str = "closed";

/// The system id under which the stand-down checklist is ticked.
pub const STAND_DOWN: &str = "";

pub type Incident = incidents::Model;
pub type Tick = incident_ticks::Model;
pub type Event = incident_events::Model;

/// An incident to open.
#[derive(Debug, Clone)]
pub struct NewIncident {
    pub plan_id: String,
    /// The approved version it works from.
    pub version: Option<i32>,
    pub title: String,
    pub criterion: String,
    pub started_at: DateTime<Utc>,
    pub opened_by: String,
    /// The systems down from the start.
    pub down: Vec<String>,
}

/// How a change to an incident ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Changed {
    Done,
    /// Nothing to change: it was so already (a second device was quicker, say).
    Unchanged,
    /// The incident is closed: nothing can change.
    Closed,
    Gone,
}

/// Opens an incident with the systems down from its start, and queues the messages `events`
/// makes of its id (the webhooks' events), in one transaction; returns its id.
pub async fn open(
    db: &DatabaseConnection,
    new: NewIncident,
    events: impl FnOnce(i64) -> Vec<NewMessage>,
    now: DateTime<Utc>,
) -> Result<i64> {
    let txn = super::begin_write(db).await?;
    let id = incidents::Entity::insert(incidents::ActiveModel {
        id: NotSet,
        plan_id: Set(new.plan_id.clone()),
        version: Set(new.version),
        title: Set(new.title.clone()),
        criterion: Set(new.criterion.clone()),
        started_at: Set(new.started_at),
        opened_by: Set(new.opened_by.clone()),
        state: Set(OPEN.to_string()),
        stood_down_at: Set(None),
        closed_at: Set(None),
        closed_by: Set(None),
        revision: Set(1),
    })
    .exec(&txn)
    .await?
    .last_insert_id;
    event(&txn, id, now, &new.opened_by, "open", None, &new.title).await?;
    for system in &new.down {
        incident_systems::Entity::insert(incident_systems::ActiveModel {
            incident_id: Set(id),
            system_id: Set(system.clone()),
            down_at: Set(new.started_at),
            recovered_at: Set(None),
        })
        .exec_without_returning(&txn)
        .await?;
        event(&txn, id, now, &new.opened_by, "down", Some(system), "").await?;
    }
    audit::write(
        &txn,
        vec![audit::Entry {
            actor: new.opened_by.clone(),
            plan_id: Some(new.plan_id.clone()),
            action: "incident-open".into(),
            field: format!("incident {id}"),
            after: format!("{}: {} ({})", new.title, new.criterion, new.down.join(", ")),
            ..Default::default()
        }],
    )
    .await?;
    outbox::queue(&txn, events(id), now).await?;
    txn.commit().await?;
    Ok(id)
}

pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<Incident>> {
    Ok(incidents::Entity::find_by_id(id).one(db).await?)
}

/// A plan's incidents, newest first.
pub async fn list(db: &impl ConnectionTrait, plan: &str) -> Result<Vec<Incident>> {
    Ok(incidents::Entity::find()
        .filter(incidents::Column::PlanId.eq(plan))
        .order_by_desc(incidents::Column::Id)
        .all(db)
        .await?)
}

/// The incident's revision: raised by every change.
pub async fn revision(db: &impl ConnectionTrait, id: i64) -> Result<Option<i64>> {
    Ok(incidents::Entity::find_by_id(id)
        .select_only()
        .column(incidents::Column::Revision)
        .into_tuple::<i64>()
        .one(db)
        .await?)
}

/// A stored outage as the domain reads it; `None` for a system id that is not a slug.
pub(super) fn outage(row: incident_systems::Model) -> Option<Outage> {
    Some(Outage {
        system: SystemId::parse(&row.system_id).ok()?,
        down_at: row.down_at,
        recovered_at: row.recovered_at,
    })
}

/// The systems marked down in an incident, in the order they went down.
pub async fn outages(db: &impl ConnectionTrait, id: i64) -> Result<Vec<Outage>> {
    Ok(incident_systems::Entity::find()
        .filter(incident_systems::Column::IncidentId.eq(id))
        .order_by_asc(incident_systems::Column::DownAt)
        .all(db)
        .await?
        .into_iter()
        .filter_map(outage)
        .collect())
}

pub async fn ticks(db: &impl ConnectionTrait, id: i64) -> Result<Vec<Tick>> {
    Ok(incident_ticks::Entity::find()
        .filter(incident_ticks::Column::IncidentId.eq(id))
        .all(db)
        .await?)
}

/// The timeline, oldest first.
pub async fn events(db: &impl ConnectionTrait, id: i64) -> Result<Vec<Event>> {
    Ok(incident_events::Entity::find()
        .filter(incident_events::Column::IncidentId.eq(id))
        .order_by_asc(incident_events::Column::At)
        .order_by_asc(incident_events::Column::Id)
        .all(db)
        .await?)
}

pub(super) async fn event(
    txn: &DatabaseTransaction,
    incident: i64,
    at: DateTime<Utc>,
    author: &str,
    kind: &str,
    system: Option<&str>,
    text: &str,
) -> Result<()> {
    incident_events::Entity::insert(incident_events::ActiveModel {
        id: NotSet,
        incident_id: Set(incident),
        at: Set(at),
        author: Set(author.to_string()),
        kind: Set(kind.to_string()),
        system_id: Set(system.map(str::to_string)),
        text: Set(text.to_string()),
    })
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// Starts a change: raises the revision of an incident that is not closed (taking its row lock,
/// so changes to one incident queue up). The incident as it was, or why not.
pub(super) async fn begin(
    db: &DatabaseConnection,
    id: i64,
) -> Result<std::result::Result<(DatabaseTransaction, Incident), Changed>> {
    let txn = super::begin_write(db).await?;
    let raised = incidents::Entity::update_many()
        .col_expr(
            incidents::Column::Revision,
            Expr::col(incidents::Column::Revision).add(1),
        )
        .filter(incidents::Column::Id.eq(id))
        .filter(incidents::Column::State.ne(CLOSED))
        .exec(&txn)
        .await?
        .rows_affected
        == 1;
    match find(&txn, id).await? {
        None => Ok(Err(Changed::Gone)),
        Some(_) if !raised => Ok(Err(Changed::Closed)),
        Some(incident) => {
            // Delivered to every server's listener when (and only if) the change commits.
            if txn.get_database_backend() == DatabaseBackend::Postgres {
                txn.execute_raw(Statement::from_sql_and_values(
                    DatabaseBackend::Postgres,
                    "SELECT pg_notify($1, $2)",
                    [
                        NOTIFY_CHANNEL.into(),
                        format!("{}:{}", incident.id, incident.revision).into(),
                    ],
                ))
                .await?;
            }
            Ok(Ok((txn, incident)))
        }
    }
}

/// The audit record of a change to an incident.
pub(super) fn entry(
    incident: &Incident,
    actor: &str,
    action: &str,
    system: Option<&str>,
    after: String,
) -> audit::Entry {
    audit::Entry {
        actor: actor.to_string(),
        plan_id: Some(incident.plan_id.clone()),
        system_id: system.map(str::to_string),
        action: action.to_string(),
        field: format!("incident {}", incident.id),
        after,
        ..Default::default()
    }
}

/// Marks a system down (again) or recovered.
pub async fn mark(
    db: &DatabaseConnection,
    id: i64,
    system: &str,
    down: bool,
    actor: &str,
    events: Vec<NewMessage>,
    now: DateTime<Utc>,
) -> Result<Changed> {
    let (txn, incident) = match begin(db, id).await? {
        Ok(x) => x,
        Err(why) => return Ok(why),
    };
    let current = incident_systems::Entity::find_by_id((id, system.to_string()))
        .one(&txn)
        .await?;
    let changed = match (&current, down) {
        (None, true) => {
            incident_systems::Entity::insert(incident_systems::ActiveModel {
                incident_id: Set(id),
                system_id: Set(system.to_string()),
                down_at: Set(now),
                recovered_at: Set(None),
            })
            .exec_without_returning(&txn)
            .await?;
            true
        }
        // Down again after a recovery: the clock starts again.
        (Some(o), true) if o.recovered_at.is_some() => {
            set_outage(&txn, id, system, now, None).await?;
            true
        }
        (Some(o), false) if o.recovered_at.is_none() => {
            set_outage(&txn, id, system, o.down_at, Some(now)).await?;
            true
        }
        _ => false,
    };
    if !changed {
        return Ok(Changed::Unchanged);
    }
    let kind = if down { "down" } else { "recovered" };
    event(&txn, id, now, actor, kind, Some(system), "").await?;
    let action = format!("incident-{kind}");
    audit::write(
        &txn,
        vec![entry(&incident, actor, &action, Some(system), kind.into())],
    )
    .await?;
    outbox::queue(&txn, events, now).await?;
    txn.commit().await?;
    Ok(Changed::Done)
}

async fn set_outage(
    txn: &DatabaseTransaction,
    id: i64,
    system: &str,
    down_at: DateTime<Utc>,
    recovered_at: Option<DateTime<Utc>>,
) -> Result<()> {
    incident_systems::Entity::update_many()
        .col_expr(incident_systems::Column::DownAt, Expr::value(down_at))
        .col_expr(
            incident_systems::Column::RecoveredAt,
            Expr::value(recovered_at),
        )
        .filter(incident_systems::Column::IncidentId.eq(id))
        .filter(incident_systems::Column::SystemId.eq(system))
        .exec(txn)
        .await?;
    Ok(())
}

/// Ticks (or un-ticks) step `step` of `system`'s checklist (`STAND_DOWN` for the stand-down
/// checklist). Ticking what is ticked, or un-ticking what is not, changes nothing and records
/// nothing: two devices ticking the same step at once give one tick.
pub async fn tick(
    db: &DatabaseConnection,
    id: i64,
    system: &str,
    step: i32,
    done: bool,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Changed> {
    let (txn, incident) = match begin(db, id).await? {
        Ok(x) => x,
        Err(why) => return Ok(why),
    };
    let affected = if done {
        incident_ticks::Entity::insert(incident_ticks::ActiveModel {
            incident_id: Set(id),
            system_id: Set(system.to_string()),
            step: Set(step),
            ticked_by: Set(actor.to_string()),
            ticked_at: Set(now),
        })
        .on_conflict(
            OnConflict::columns([
                incident_ticks::Column::IncidentId,
                incident_ticks::Column::SystemId,
                incident_ticks::Column::Step,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?
    } else {
        incident_ticks::Entity::delete_many()
            .filter(incident_ticks::Column::IncidentId.eq(id))
            .filter(incident_ticks::Column::SystemId.eq(system))
            .filter(incident_ticks::Column::Step.eq(step))
            .exec(&txn)
            .await?
            .rows_affected
    };
    if affected == 0 {
        // Dropping the transaction undoes the revision raised.
        return Ok(Changed::Unchanged);
    }
    let kind = if done { "tick" } else { "untick" };
    let system = Some(system).filter(|s| !s.is_empty());
    event(&txn, id, now, actor, kind, system, &step.to_string()).await?;
    let action = format!("incident-{kind}");
    audit::write(
        &txn,
        vec![entry(
            &incident,
            actor,
            &action,
            system,
            format!("step {}", step + 1),
        )],
    )
    .await?;
    txn.commit().await?;
    Ok(Changed::Done)
}

/// Adds a note to the timeline.
pub async fn note(
    db: &DatabaseConnection,
    id: i64,
    actor: &str,
    text: &str,
    now: DateTime<Utc>,
) -> Result<Changed> {
    let (txn, _) = match begin(db, id).await? {
        Ok(x) => x,
        Err(why) => return Ok(why),
    };
    event(&txn, id, now, actor, "note", None, text).await?;
    txn.commit().await?;
    Ok(Changed::Done)
}

/// Moves the incident to standing down (nedlukning) or closes it; each happens once.
pub async fn advance(
    db: &DatabaseConnection,
    id: i64,
    to: &str,
    actor: &str,
    events: Vec<NewMessage>,
    now: DateTime<Utc>,
) -> Result<Changed> {
    let (txn, incident) = match begin(db, id).await? {
        Ok(x) => x,
        Err(why) => return Ok(why),
    };
    if incident.state == to || (to == STANDING_DOWN && incident.state != OPEN) {
        return Ok(Changed::Unchanged);
    }
    let mut update = incidents::Entity::update_many()
        .col_expr(incidents::Column::State, Expr::value(to))
        .filter(incidents::Column::Id.eq(id));
    update = if to == CLOSED {
        update
            .col_expr(incidents::Column::ClosedAt, Expr::value(now))
            .col_expr(incidents::Column::ClosedBy, Expr::value(actor))
    } else {
        update.col_expr(incidents::Column::StoodDownAt, Expr::value(now))
    };
    update.exec(&txn).await?;
    let kind = if to == CLOSED { "close" } else { "stand-down" };
    event(&txn, id, now, actor, kind, None, "").await?;
    let action = format!("incident-{kind}");
    audit::write(
        &txn,
        vec![entry(&incident, actor, &action, None, to.to_string())],
    )
    .await?;
    outbox::queue(&txn, events, now).await?;
    txn.commit().await?;
    Ok(Changed::Done)
}
