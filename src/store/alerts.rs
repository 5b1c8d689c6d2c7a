//! Who was alerted about an incident, by which channels, and whether and how they answered:
//! each person alerted has a row with the hash of their acknowledgement link's secret. An
//! alert, an acknowledgement and an escalation are each one transaction with the incident's
//! timeline entry (and, for the first and the last, the messages queued).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder,
};

use super::entities::{
    alert_recipients, drill_occurrences, drills, incidents, outbox as outbox_rows,
};
use super::incidents::{CLOSED, Changed, OPEN, begin, entry, event};
use super::outbox::{self, NewMessage};
use super::{Result, audit};

pub type Recipient = alert_recipients::Model;

/// The answers an acknowledgement gives.
pub const COMING: &str = "coming";
pub const CANNOT: &str = "cannot";

/// What an alert is about: an incident, or a drill occurrence testing the call tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Incident(i64),
    Occurrence(i64),
}

impl Recipient {
    pub fn target(&self) -> Option<Target> {
        match (self.incident_id, self.occurrence_id) {
            (Some(id), _) => Some(Target::Incident(id)),
            (None, Some(id)) => Some(Target::Occurrence(id)),
            (None, None) => None,
        }
    }
}

/// A person to alert, with the messages that alert them.
#[derive(Debug, Clone)]
pub struct NewRecipient {
    pub person: String,
    /// SHA-256 (hex) of the secret in their acknowledgement link.
    pub token_hash: String,
    /// The channels their messages go by: `sms,mail`.
    pub channels: String,
    /// The person not acknowledging whom this one is alerted in place of.
    pub escalated_from: Option<String>,
    pub messages: Vec<NewMessage>,
}

/// Inserts the recipients and queues their messages, each message pointing at its recipient's
/// row; in the caller's transaction.
pub async fn insert(
    txn: &impl ConnectionTrait,
    target: Target,
    round: i64,
    recipients: Vec<NewRecipient>,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut messages = Vec::new();
    for r in recipients {
        let id = alert_recipients::Entity::insert(alert_recipients::ActiveModel {
            id: NotSet,
            incident_id: Set(match target {
                Target::Incident(id) => Some(id),
                Target::Occurrence(_) => None,
            }),
            occurrence_id: Set(match target {
                Target::Occurrence(id) => Some(id),
                Target::Incident(_) => None,
            }),
            round: Set(round),
            person_id: Set(r.person),
            token_hash: Set(r.token_hash),
            channels: Set(r.channels),
            escalated_from: Set(r.escalated_from),
            created_at: Set(now),
            acknowledged_at: Set(None),
            answer: Set(None),
            note: Set(String::new()),
            escalated_at: Set(None),
        })
        .exec(txn)
        .await?
        .last_insert_id;
        messages.extend(r.messages.into_iter().map(|mut m| {
            m.alert_recipient_id = Some(id);
            m
        }));
    }
    outbox::queue(txn, messages, now).await
}

/// Records that the call tree was alerted (round `round`, the alert's time in milliseconds):
/// the people, their messages, and `others` (the Teams channel, webhooks), the timeline entry
/// and the audit record, in one transaction.
pub async fn alert(
    db: &DatabaseConnection,
    id: i64,
    actor: &str,
    round: i64,
    recipients: Vec<NewRecipient>,
    others: Vec<NewMessage>,
    now: DateTime<Utc>,
) -> Result<Changed> {
    let (txn, incident) = match begin(db, id).await? {
        Ok(x) => x,
        Err(why) => return Ok(why),
    };
    let count = recipients.len().to_string();
    insert(&txn, Target::Incident(id), round, recipients, now).await?;
    outbox::queue(&txn, others, now).await?;
    event(&txn, id, now, actor, "alert", None, &count).await?;
    audit::write(
        &txn,
        vec![entry(&incident, actor, "incident-alert", None, count)],
    )
    .await?;
    txn.commit().await?;
    Ok(Changed::Done)
}

/// Everyone alerted about incident `id`, in the order they were alerted.
pub async fn of_incident(db: &impl ConnectionTrait, id: i64) -> Result<Vec<Recipient>> {
    of(db, Target::Incident(id)).await
}

/// Everyone alerted about `target`, in the order they were alerted.
pub async fn of(db: &impl ConnectionTrait, target: Target) -> Result<Vec<Recipient>> {
    let column = match target {
        Target::Incident(id) => alert_recipients::Column::IncidentId.eq(id),
        Target::Occurrence(id) => alert_recipients::Column::OccurrenceId.eq(id),
    };
    Ok(alert_recipients::Entity::find()
        .filter(column)
        .order_by_asc(alert_recipients::Column::Id)
        .all(db)
        .await?)
}

/// The messages that alerted the people of `target`.
pub async fn messages(db: &impl ConnectionTrait, target: Target) -> Result<Vec<outbox::Message>> {
    let recipients: Vec<i64> = of(db, target).await?.iter().map(|r| r.id).collect();
    Ok(outbox_rows::Entity::find()
        .filter(outbox_rows::Column::AlertRecipientId.is_in(recipients))
        .order_by_asc(outbox_rows::Column::Id)
        .all(db)
        .await?)
}

/// The Teams cards of incident `id`'s alerts, oldest first: they alert a channel, not a person.
pub async fn teams_messages(db: &impl ConnectionTrait, id: i64) -> Result<Vec<outbox::Message>> {
    Ok(outbox_rows::Entity::find()
        .filter(outbox_rows::Column::Channel.eq(outbox::Channel::Teams.as_str()))
        .filter(outbox_rows::Column::Topic.eq(format!("incident:{id}")))
        .order_by_asc(outbox_rows::Column::Id)
        .all(db)
        .await?)
}

/// The recipient whose link holds the secret hashing to `token_hash`.
pub async fn by_token(db: &impl ConnectionTrait, token_hash: &str) -> Result<Option<Recipient>> {
    Ok(alert_recipients::Entity::find()
        .filter(alert_recipients::Column::TokenHash.eq(token_hash))
        .one(db)
        .await?)
}

/// How an acknowledgement went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acknowledged {
    Done,
    /// This link was used already: the answer stands as first given.
    Already,
    Closed,
}

/// Sets the answer of recipient `id` unless it has one; whether it took.
async fn record_answer(
    txn: &impl ConnectionTrait,
    id: i64,
    answer: &str,
    note: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    Ok(alert_recipients::Entity::update_many()
        .col_expr(alert_recipients::Column::AcknowledgedAt, Expr::value(now))
        .col_expr(alert_recipients::Column::Answer, Expr::value(answer))
        .col_expr(alert_recipients::Column::Note, Expr::value(note))
        .filter(alert_recipients::Column::Id.eq(id))
        .filter(alert_recipients::Column::AcknowledgedAt.is_null())
        .exec(txn)
        .await?
        .rows_affected
        == 1)
}

/// Records recipient `recipient`'s answer once (`name` on the timeline), in one transaction.
pub async fn acknowledge(
    db: &DatabaseConnection,
    recipient: &Recipient,
    name: &str,
    answer: &str,
    note: &str,
    now: DateTime<Utc>,
) -> Result<Acknowledged> {
    let text = if note.is_empty() {
        answer.to_string()
    } else {
        format!("{answer}: {note}")
    };
    let Some(incident) = recipient.incident_id else {
        return acknowledge_test(db, recipient, name, answer, note, &text, now).await;
    };
    let (txn, incident) = match begin(db, incident).await? {
        Ok(x) => x,
        Err(_) => return Ok(Acknowledged::Closed),
    };
    let took = record_answer(&txn, recipient.id, answer, note, now).await?;
    if !took {
        return Ok(Acknowledged::Already);
    }
    event(&txn, incident.id, now, name, "ack", None, &text).await?;
    audit::write(
        &txn,
        vec![entry(&incident, name, "incident-ack", None, text)],
    )
    .await?;
    txn.commit().await?;
    Ok(Acknowledged::Done)
}

/// The answer to a test of the call tree: recorded once, with a line on the drill's timeline,
/// while the drill is not closed.
async fn acknowledge_test(
    db: &DatabaseConnection,
    recipient: &Recipient,
    name: &str,
    answer: &str,
    note: &str,
    text: &str,
    now: DateTime<Utc>,
) -> Result<Acknowledged> {
    let Some(occurrence) = recipient.occurrence_id else {
        return Ok(Acknowledged::Closed);
    };
    let txn = super::begin_write(db).await?;
    let Some(row) = drill_occurrences::Entity::find_by_id(occurrence)
        .one(&txn)
        .await?
        .filter(|o| o.closed_at.is_none())
    else {
        return Ok(Acknowledged::Closed);
    };
    let plan = drills::Entity::find_by_id(row.drill_id)
        .one(&txn)
        .await?
        .map(|d| d.plan_id);
    let took = record_answer(&txn, recipient.id, answer, note, now).await?;
    if !took {
        return Ok(Acknowledged::Already);
    }
    audit::write(
        &txn,
        vec![audit::Entry {
            actor: name.to_string(),
            plan_id: plan,
            action: "call-tree-test-ack".into(),
            field: format!("occurrence {occurrence}"),
            after: text.to_string(),
            ..Default::default()
        }],
    )
    .await?;
    txn.commit().await?;
    Ok(Acknowledged::Done)
}

/// People alerted first-hand (not as someone's deputy) about incidents still open, who have
/// neither acknowledged any alert of the incident nor been escalated for it: the candidates for
/// escalation, one row each (their first alert, from which the wait is counted). A person
/// alerted a second time, who answers the second link, is no longer a candidate.
pub async fn unanswered(db: &impl ConnectionTrait) -> Result<Vec<(Recipient, incidents::Model)>> {
    let rows = alert_recipients::Entity::find()
        .filter(alert_recipients::Column::IncidentId.is_not_null())
        .filter(alert_recipients::Column::AcknowledgedAt.is_null())
        .filter(alert_recipients::Column::EscalatedAt.is_null())
        .filter(alert_recipients::Column::EscalatedFrom.is_null())
        .order_by_asc(alert_recipients::Column::Id)
        .all(db)
        .await?;
    let ids: Vec<i64> = rows.iter().filter_map(|r| r.incident_id).collect();
    let open: Vec<incidents::Model> = incidents::Entity::find()
        .filter(incidents::Column::Id.is_in(ids.clone()))
        .filter(incidents::Column::State.eq(OPEN))
        .all(db)
        .await?;
    let mut settled: std::collections::HashSet<(Option<i64>, String)> =
        alert_recipients::Entity::find()
            .filter(alert_recipients::Column::IncidentId.is_in(ids))
            .filter(answered_or_escalated())
            .all(db)
            .await?
            .into_iter()
            .map(|r| (r.incident_id, r.person_id))
            .collect();
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let incident = open.iter().find(|i| Some(i.id) == r.incident_id)?.clone();
            // One row per person and incident: the rest are settled by the first.
            settled
                .insert((r.incident_id, r.person_id.clone()))
                .then_some((r, incident))
        })
        .collect())
}

/// The rows whose person answered, or was escalated: settled for their incident.
fn answered_or_escalated() -> Condition {
    Condition::any()
        .add(alert_recipients::Column::AcknowledgedAt.is_not_null())
        .add(alert_recipients::Column::EscalatedAt.is_not_null())
}

/// Whether `person` answered an alert of incident `incident`, or was escalated for it.
async fn settled(txn: &DatabaseTransaction, incident: i64, person: &str) -> Result<bool> {
    Ok(alert_recipients::Entity::find()
        .filter(alert_recipients::Column::IncidentId.eq(incident))
        .filter(alert_recipients::Column::PersonId.eq(person))
        .filter(answered_or_escalated())
        .count(txn)
        .await?
        > 0)
}

/// Escalates `recipient` once: marks them escalated and alerts `deputy` in their place, with
/// the timeline entry, in one transaction. `false` when they were escalated (or answered any of
/// the incident's alerts, or the incident closed) meanwhile, by this server or another.
pub async fn escalate(
    db: &DatabaseConnection,
    recipient: &Recipient,
    deputy: NewRecipient,
    now: DateTime<Utc>,
) -> Result<bool> {
    let Some(incident) = recipient.incident_id else {
        return Ok(false);
    };
    let (txn, incident) = match begin(db, incident).await? {
        Ok(x) => x,
        Err(_) => return Ok(false),
    };
    // Under the incident's row lock: an answer to any of their links, or an escalation by
    // another server, settles it.
    if incident.state == CLOSED || settled(&txn, incident.id, &recipient.person_id).await? {
        return Ok(false);
    }
    let took = alert_recipients::Entity::update_many()
        .col_expr(alert_recipients::Column::EscalatedAt, Expr::value(now))
        .filter(alert_recipients::Column::Id.eq(recipient.id))
        .filter(alert_recipients::Column::EscalatedAt.is_null())
        .filter(alert_recipients::Column::AcknowledgedAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected
        == 1;
    if !took {
        return Ok(false);
    }
    let text = format!("{} -> {}", recipient.person_id, deputy.person);
    insert(
        &txn,
        Target::Incident(incident.id),
        recipient.round,
        vec![deputy],
        now,
    )
    .await?;
    event(&txn, incident.id, now, "", "escalate", None, &text).await?;
    audit::write(
        &txn,
        vec![entry(
            &incident,
            "scheduler",
            "incident-escalate",
            None,
            text,
        )],
    )
    .await?;
    txn.commit().await?;
    Ok(true)
}

/// Records on the incident's timeline that an alert message was handed over (`delivered`) or
/// refused for good, raising the incident's revision so that open pages show it. Nothing for a
/// message that alerts nobody, or once the incident is closed. The incident whose timeline it
/// wrote to.
pub async fn record_delivery(
    db: &DatabaseConnection,
    message: &outbox::Message,
    delivered: bool,
    now: DateTime<Utc>,
) -> Result<Option<i64>> {
    let Some(recipient) = message.alert_recipient_id else {
        return Ok(None);
    };
    let Some(r) = alert_recipients::Entity::find_by_id(recipient)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    // A test of the call tree keeps no timeline of deliveries: its report reads the outbox.
    let Some(incident) = r.incident_id else {
        return Ok(None);
    };
    let (txn, _) = match begin(db, incident).await? {
        Ok(x) => x,
        Err(_) => return Ok(None),
    };
    let outcome = if delivered { "delivered" } else { "failed" };
    let text = format!("{}:{outcome}:{}", message.channel, r.person_id);
    event(&txn, incident, now, "", "delivery", None, &text).await?;
    txn.commit().await?;
    Ok(Some(incident))
}
