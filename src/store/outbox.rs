//! The outbox of every channel (mail, SMS, Teams, webhooks): messages are written in the transaction of the event that causes them and
//! sent by a worker. A message is claimed with an atomic update before it is sent, so two
//! workers (in one process or several against one PostgreSQL) never send the same message; a
//! claim that was never finished (a crash) expires and the message is sent again, with the same
//! Message-ID (or idempotency key, or webhook id).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

use super::Result;
use super::db::insert_all;
use super::entities::outbox;

pub const QUEUED: &str = "queued";
pub const SENDING: &str = "sending";
pub const SENT: &str = "sent";
pub const FAILED: &str = "failed";

/// The way a message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    Mail,
    Sms,
    /// A Microsoft Teams workflow that posts an Adaptive Card to a channel.
    Teams,
    /// An endpoint of another system, signed per Standard Webhooks.
    Webhook,
}

impl Channel {
    pub const ALL: [Channel; 4] = [
        Channel::Mail,
        Channel::Sms,
        Channel::Teams,
        Channel::Webhook,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Mail => "mail",
            Channel::Sms => "sms",
            Channel::Teams => "teams",
            Channel::Webhook => "webhook",
        }
    }

    pub fn parse(text: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == text)
    }
}

/// A message to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub channel: Channel,
    /// Without angle brackets: `abc@beredskab`. Also the SMS's `userref` (GatewayAPI takes no
    /// idempotency key) and the webhook's `webhook-id`.
    pub message_id: String,
    /// `invitation`, `reminder`, `cancellation`, …
    pub kind: String,
    /// The plan it is about: only those who may see the plan see it in the outbox.
    pub plan_id: Option<String>,
    pub occurrence_id: Option<i64>,
    /// What it is about (`occurrence:12`, `incident:5`): messages to one recipient about one
    /// topic are handed over in the order they were queued.
    pub topic: Option<String>,
    /// The mail address, the phone number (E.164), or the URL of the endpoint.
    pub to_address: String,
    pub to_name: String,
    /// The mail's subject; the event type of a webhook.
    pub subject: String,
    /// The mail's text part, the SMS text, or the JSON body posted.
    pub body_text: String,
    pub body_html: String,
    /// An iCalendar attachment.
    pub ics: Option<String>,
    /// The person alerted (`alert_recipients`), when it is an incident alert.
    pub alert_recipient_id: Option<i64>,
    /// The webhook endpoint it goes to.
    pub endpoint_id: Option<i64>,
}

impl NewMessage {
    /// A message of `channel` with nothing but its id and recipient: fill in the rest.
    pub fn to(channel: Channel, message_id: String, to_address: String) -> NewMessage {
        NewMessage {
            channel,
            message_id,
            kind: String::new(),
            plan_id: None,
            occurrence_id: None,
            topic: None,
            to_address,
            to_name: String::new(),
            subject: String::new(),
            body_text: String::new(),
            body_html: String::new(),
            ics: None,
            alert_recipient_id: None,
            endpoint_id: None,
        }
    }
}

/// A message as stored.
pub type Message = outbox::Model;

/// Queues messages (in the caller's transaction).
pub async fn queue(
    db: &impl ConnectionTrait,
    messages: Vec<NewMessage>,
    now: DateTime<Utc>,
) -> Result<()> {
    insert_all(
        db,
        messages
            .into_iter()
            .map(|m| outbox::ActiveModel {
                id: NotSet,
                message_id: Set(m.message_id),
                kind: Set(m.kind),
                plan_id: Set(m.plan_id),
                topic: Set(m
                    .topic
                    .or_else(|| m.occurrence_id.map(|o| format!("occurrence:{o}")))),
                occurrence_id: Set(m.occurrence_id),
                channel: Set(m.channel.as_str().to_string()),
                alert_recipient_id: Set(m.alert_recipient_id),
                endpoint_id: Set(m.endpoint_id),
                to_address: Set(m.to_address),
                to_name: Set(m.to_name),
                subject: Set(m.subject),
                body_text: Set(m.body_text),
                body_html: Set(m.body_html),
                ics: Set(m.ics),
                state: Set(QUEUED.to_string()),
                attempts: Set(0),
                next_attempt_at: Set(now),
                claimed_until: Set(None),
                last_error: Set(String::new()),
                created_at: Set(now),
                sent_at: Set(None),
            })
            .collect(),
    )
    .await
}

/// Claims something with `claim` and, if the claim took, queues `messages`, in one write
/// transaction. The claim is a conditional update that only one caller can win (in this process
/// or another against the same database), so the messages are queued exactly once. `false`,
/// writing and queuing nothing, when the claim did not take.
pub(super) async fn claim_and_queue(
    db: &DatabaseConnection,
    claim: impl AsyncFnOnce(&DatabaseTransaction) -> Result<bool>,
    messages: Vec<NewMessage>,
    now: DateTime<Utc>,
) -> Result<bool> {
    let txn = super::begin_write(db).await?;
    if !claim(&txn).await? {
        return Ok(false);
    }
    queue(&txn, messages, now).await?;
    txn.commit().await?;
    Ok(true)
}

/// Due: queued and its time has come, or claimed by a worker whose claim has expired.
fn due(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(
            Condition::all()
                .add(outbox::Column::State.eq(QUEUED))
                .add(outbox::Column::NextAttemptAt.lte(now)),
        )
        .add(
            Condition::all()
                .add(outbox::Column::State.eq(SENDING))
                .add(outbox::Column::ClaimedUntil.lt(now)),
        )
}

/// In turn: no earlier message to the same recipient about the same topic (the same calendar
/// entry, the same incident) is still waiting or being sent. An invitation and the cancellation
/// after it are then handed to the mail server in the order they were queued, whatever retries
/// and restarts come between, so a calendar never ends with the cancelled drill; a status page
/// never hears "recovered" before "down". Messages about no topic (review reminders) have no
/// order among themselves.
fn in_turn() -> Expr {
    Expr::cust(format!(
        "NOT EXISTS (SELECT 1 FROM outbox AS earlier \
         WHERE earlier.topic = outbox.topic \
         AND earlier.to_address = outbox.to_address \
         AND earlier.id < outbox.id \
         AND earlier.state IN ('{QUEUED}', '{SENDING}'))"
    ))
}

/// Claims up to `limit` due messages until `lease_until`; each is claimed by exactly one caller,
/// and only messages in turn (`in_turn`). One transaction for the batch: one commit (and disk
/// flush) instead of one per message.
pub async fn claim(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<Message>> {
    let txn = super::begin_write(db).await?;
    let candidates: Vec<i64> = outbox::Entity::find()
        .select_only()
        .column(outbox::Column::Id)
        .filter(due(now))
        .filter(in_turn())
        .order_by_asc(outbox::Column::Id)
        .limit(limit)
        .into_tuple()
        .all(&txn)
        .await?;
    let mut claimed = Vec::new();
    for id in candidates {
        let won = outbox::Entity::update_many()
            .col_expr(outbox::Column::State, Expr::value(SENDING))
            .col_expr(outbox::Column::ClaimedUntil, Expr::value(lease_until))
            .col_expr(
                outbox::Column::Attempts,
                Expr::col(outbox::Column::Attempts).add(1),
            )
            .filter(outbox::Column::Id.eq(id))
            .filter(due(now))
            .filter(in_turn())
            .exec(&txn)
            .await?
            .rows_affected
            == 1;
        if won && let Some(m) = outbox::Entity::find_by_id(id).one(&txn).await? {
            claimed.push(m);
        }
    }
    txn.commit().await?;
    Ok(claimed)
}

pub async fn mark_sent(db: &impl ConnectionTrait, id: i64, now: DateTime<Utc>) -> Result<()> {
    outbox::Entity::update_many()
        .col_expr(outbox::Column::State, Expr::value(SENT))
        .col_expr(outbox::Column::SentAt, Expr::value(now))
        .col_expr(
            outbox::Column::ClaimedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(outbox::Column::LastError, Expr::value(""))
        .filter(outbox::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// A transient failure: tried again at `next`.
pub async fn mark_retry(
    db: &impl ConnectionTrait,
    id: i64,
    error: &str,
    next: DateTime<Utc>,
) -> Result<()> {
    outbox::Entity::update_many()
        .col_expr(outbox::Column::State, Expr::value(QUEUED))
        .col_expr(outbox::Column::NextAttemptAt, Expr::value(next))
        .col_expr(
            outbox::Column::ClaimedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(outbox::Column::LastError, Expr::value(error))
        .filter(outbox::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// A permanent failure (the server refused the address): kept with the server's reply.
pub async fn mark_failed(db: &impl ConnectionTrait, id: i64, error: &str) -> Result<()> {
    outbox::Entity::update_many()
        .col_expr(outbox::Column::State, Expr::value(FAILED))
        .col_expr(
            outbox::Column::ClaimedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(outbox::Column::LastError, Expr::value(error))
        .filter(outbox::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// The newest `limit` messages, of the plans `plans` when given (those of no plan are left out
/// then), newest first.
pub async fn recent(
    db: &impl ConnectionTrait,
    plans: Option<&[String]>,
    limit: u64,
) -> Result<Vec<Message>> {
    let mut query = outbox::Entity::find();
    if let Some(plans) = plans {
        query = query.filter(outbox::Column::PlanId.is_in(plans.iter().cloned()));
    }
    Ok(query
        .order_by_desc(outbox::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// Messages about one occurrence, in the order they were queued.
pub async fn of_occurrence(db: &impl ConnectionTrait, occurrence: i64) -> Result<Vec<Message>> {
    Ok(outbox::Entity::find()
        .filter(outbox::Column::OccurrenceId.eq(occurrence))
        .order_by_asc(outbox::Column::Id)
        .all(db)
        .await?)
}

/// How many messages of each channel are in each state (every pair named, 0 where none is),
/// and since when the oldest message that is due for sending has been waiting (`None` when
/// none is).
pub async fn depth(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<(Vec<(Channel, String, i64)>, Option<DateTime<Utc>>)> {
    let counted: Vec<(String, String, i64)> = outbox::Entity::find()
        .select_only()
        .column(outbox::Column::Channel)
        .column(outbox::Column::State)
        .column_as(outbox::Column::Id.count(), "n")
        .group_by(outbox::Column::Channel)
        .group_by(outbox::Column::State)
        .into_tuple()
        .all(db)
        .await?;
    let by_state = Channel::ALL
        .iter()
        .flat_map(|channel| {
            let counted = &counted;
            [QUEUED, SENDING, SENT, FAILED].iter().map(move |state| {
                let n = counted
                    .iter()
                    .find(|(c, s, _)| c == channel.as_str() && s == state)
                    .map_or(0, |(_, _, n)| *n);
                (*channel, state.to_string(), n)
            })
        })
        .collect();
    let oldest: Option<DateTime<Utc>> = outbox::Entity::find()
        .select_only()
        .column(outbox::Column::NextAttemptAt)
        .filter(due(now))
        .order_by_asc(outbox::Column::NextAttemptAt)
        .limit(1)
        .into_tuple()
        .one(db)
        .await?;
    Ok((by_state, oldest))
}
