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
    event_when(txn, incident, When::now(at), author, kind, system, text).await
}

/// When something happened, and when the server recorded it, if later: an action taken on a
/// phone while it was offline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct When {
    pub at: DateTime<Utc>,
    pub recorded: Option<DateTime<Utc>>,
}

impl When {
    /// Recorded as it happens.
    pub fn now(at: DateTime<Utc>) -> When {
        When { at, recorded: None }
    }
}

async fn event_when(
    txn: &DatabaseTransaction,
    incident: i64,
    when: When,
    author: &str,
    kind: &str,
    system: Option<&str>,
    text: &str,
) -> Result<()> {
    let at = when.at;
    incident_events::Entity::insert(incident_events::ActiveModel {
        id: NotSet,
        incident_id: Set(incident),
        at: Set(at),
        author: Set(author.to_string()),
        kind: Set(kind.to_string()),
        system_id: Set(system.map(str::to_string)),
        text: Set(text.to_string()),
        recorded_at: Set(when.recorded),
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
    let raised = raise_revision(&txn, id, true).await?;
    match find(&txn, id).await? {
        None => Ok(Err(Changed::Gone)),
        Some(_) if !raised => Ok(Err(Changed::Closed)),
        Some(incident) => {
            notify(&txn, &incident).await?;
            Ok(Ok((txn, incident)))
        }
    }
}

/// Raises incident `id`'s revision (only while it is not closed, with `open_only`), taking its
/// row lock so that changes to one incident queue up; whether it was raised.
async fn raise_revision(txn: &DatabaseTransaction, id: i64, open_only: bool) -> Result<bool> {
    let mut update = incidents::Entity::update_many()
        .col_expr(
            incidents::Column::Revision,
            Expr::col(incidents::Column::Revision).add(1),
        )
        .filter(incidents::Column::Id.eq(id));
    if open_only {
        update = update.filter(incidents::Column::State.ne(CLOSED));
    }
    Ok(update.exec(txn).await?.rows_affected == 1)
}

/// On PostgreSQL, tells every server's listener of the incident's new revision when (and only
/// if) the transaction commits.
async fn notify(txn: &DatabaseTransaction, incident: &Incident) -> Result<()> {
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
    Ok(())
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
    if !mark_in(&txn, &incident, system, down, actor, When::now(now)).await? {
        return Ok(Changed::Unchanged);
    }
    outbox::queue(&txn, events, now).await?;
    txn.commit().await?;
    Ok(Changed::Done)
}

/// Marks `system` down or recovered at `when` in `txn`, with its timeline entry and audit
/// record; `false` when it already was.
async fn mark_in(
    txn: &DatabaseTransaction,
    incident: &Incident,
    system: &str,
    down: bool,
    actor: &str,
    when: When,
) -> Result<bool> {
    let (id, at) = (incident.id, when.at);
    let current = incident_systems::Entity::find_by_id((id, system.to_string()))
        .one(txn)
        .await?;
    let changed = match (&current, down) {
        (None, true) => {
            incident_systems::Entity::insert(incident_systems::ActiveModel {
                incident_id: Set(id),
                system_id: Set(system.to_string()),
                down_at: Set(at),
                recovered_at: Set(None),
            })
            .exec_without_returning(txn)
            .await?;
            true
        }
        // Down again after a recovery: the clock starts again.
        (Some(o), true) if o.recovered_at.is_some() => {
            set_outage(txn, id, system, at, None).await?;
            true
        }
        (Some(o), false) if o.recovered_at.is_none() => {
            set_outage(txn, id, system, o.down_at, Some(Ord::max(at, o.down_at))).await?;
            true
        }
        _ => false,
    };
    if !changed {
        return Ok(false);
    }
    let kind = if down { "down" } else { "recovered" };
    event_when(txn, id, when, actor, kind, Some(system), "").await?;
    let action = format!("incident-{kind}");
    audit::write(
        txn,
        vec![entry(incident, actor, &action, Some(system), kind.into())],
    )
    .await?;
    Ok(true)
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
    if !tick_in(&txn, &incident, system, step, done, actor, When::now(now)).await? {
        // Dropping the transaction undoes the revision raised.
        return Ok(Changed::Unchanged);
    }
    txn.commit().await?;
    Ok(Changed::Done)
}

/// Ticks or un-ticks a step at `when` in `txn`, with its timeline entry and audit record;
/// `false` when it already was (or was not).
async fn tick_in(
    txn: &DatabaseTransaction,
    incident: &Incident,
    system: &str,
    step: i32,
    done: bool,
    actor: &str,
    when: When,
) -> Result<bool> {
    let id = incident.id;
    let affected = if done {
        incident_ticks::Entity::insert(incident_ticks::ActiveModel {
            incident_id: Set(id),
            system_id: Set(system.to_string()),
            step: Set(step),
            ticked_by: Set(actor.to_string()),
            ticked_at: Set(when.at),
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
        .exec_without_returning(txn)
        .await?
    } else {
        incident_ticks::Entity::delete_many()
            .filter(incident_ticks::Column::IncidentId.eq(id))
            .filter(incident_ticks::Column::SystemId.eq(system))
            .filter(incident_ticks::Column::Step.eq(step))
            .exec(txn)
            .await?
            .rows_affected
    };
    if affected == 0 {
        return Ok(false);
    }
    let kind = if done { "tick" } else { "untick" };
    let system = Some(system).filter(|s| !s.is_empty());
    event_when(txn, id, when, actor, kind, system, &step.to_string()).await?;
    let action = format!("incident-{kind}");
    audit::write(
        txn,
        vec![entry(
            incident,
            actor,
            &action,
            system,
            format!("step {}", step + 1),
        )],
    )
    .await?;
    Ok(true)
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

/// What an action taken on a phone while it was offline does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OfflineKind {
    Tick {
        system: String,
        step: i32,
        done: bool,
    },
    Note {
        text: String,
    },
    Mark {
        system: String,
        down: bool,
    },
}

impl OfflineKind {
    pub fn name(&self) -> &'static str {
        match self {
            OfflineKind::Tick { done: true, .. } => "tick",
            OfflineKind::Tick { done: false, .. } => "untick",
            OfflineKind::Note { .. } => "note",
            OfflineKind::Mark { down: true, .. } => "down",
            OfflineKind::Mark { down: false, .. } => "recovered",
        }
    }
}

/// An action taken on a phone while it was offline: its id (made on the phone) and when it
/// happened there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfflineAction {
    pub id: String,
    pub happened_at: DateTime<Utc>,
    pub kind: OfflineKind,
}

/// What became of an action from a phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offline {
    /// Done as if at the time it happened.
    Applied,
    /// What it would do had been done already, or the incident was closed meanwhile: kept on
    /// the timeline only ("modtaget efter …").
    Late,
    /// Its id arrived before: nothing was done again.
    Repeat,
    /// No such incident.
    Gone,
}

pub const OFFLINE_APPLIED: &str = "applied";
pub const OFFLINE_LATE: &str = "late";

/// How far before the incident's start a phone's clock is believed.
const PHONE_CLOCK_SLACK: chrono::Duration = chrono::Duration::minutes(10);

/// Applies an action from a phone once, in one transaction: by its id, however often it
/// arrives. It counts from when it happened on the phone (bounded to between the incident's
/// start, less a little for a phone's clock, and now), and the timeline notes when the server
/// recorded it. An action that conflicts with what happened meanwhile is kept on the timeline
/// as late, and changes nothing. `events` are queued when it applies.
pub async fn apply_offline(
    db: &DatabaseConnection,
    id: i64,
    actor: &str,
    action: &OfflineAction,
    events: Vec<NewMessage>,
    now: DateTime<Utc>,
) -> Result<Offline> {
    use super::entities::incident_client_actions as client_actions;
    let txn = super::begin_write(db).await?;
    // The incident's row lock first, so two deliveries of one action queue up here; a late
    // entry shows on a closed incident too.
    let raised = raise_revision(&txn, id, false).await?;
    let Some(incident) = find(&txn, id).await?.filter(|_| raised) else {
        return Ok(Offline::Gone);
    };
    if client_actions::Entity::find_by_id(action.id.clone())
        .one(&txn)
        .await?
        .is_some()
    {
        // Dropping the transaction undoes the revision raised.
        return Ok(Offline::Repeat);
    }
    notify(&txn, &incident).await?;
    let happened = Ord::max(
        Ord::min(action.happened_at, now),
        incident.started_at - PHONE_CLOCK_SLACK,
    );
    let when = When {
        at: happened,
        recorded: Some(now),
    };
    let open = incident.state != CLOSED;
    let applied = open
        && match &action.kind {
            OfflineKind::Tick { system, step, done } => {
                tick_in(&txn, &incident, system, *step, *done, actor, when).await?
            }
            OfflineKind::Mark { system, down } => {
                mark_in(&txn, &incident, system, *down, actor, when).await?
            }
            OfflineKind::Note { text } => {
                event_when(&txn, id, when, actor, "note", None, text).await?;
                true
            }
        };
    if applied {
        outbox::queue(&txn, events, now).await?;
    } else {
        let (system, step, text) = match &action.kind {
            OfflineKind::Tick { system, step, .. } => (Some(system.as_str()), *step, ""),
            OfflineKind::Mark { system, .. } => (Some(system.as_str()), 0, ""),
            OfflineKind::Note { text } => (None, 0, text.as_str()),
        };
        let late = serde_json::json!({
            "kind": action.kind.name(),
            "step": step,
            "text": text,
            "closed": !open,
        });
        let system = system.filter(|s| !s.is_empty());
        event_when(&txn, id, when, actor, "late", system, &late.to_string()).await?;
        audit::write(
            &txn,
            vec![entry(
                &incident,
                actor,
                "incident-late",
                system,
                action.kind.name().to_string(),
            )],
        )
        .await?;
    }
    client_actions::Entity::insert(client_actions::ActiveModel {
        id: Set(action.id.clone()),
        incident_id: Set(id),
        username: Set(actor.to_string()),
        kind: Set(action.kind.name().to_string()),
        outcome: Set(if applied {
            OFFLINE_APPLIED
        } else {
            OFFLINE_LATE
        }
        .to_string()),
        happened_at: Set(happened),
        recorded_at: Set(now),
    })
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    Ok(if applied {
        Offline::Applied
    } else {
        Offline::Late
    })
}
