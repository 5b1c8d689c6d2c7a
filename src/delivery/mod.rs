//! The outbox worker: hands each queued message to its channel (mail over SMTP or to a folder,
//! SMS through the gateway, Teams and webhooks over HTTPS) and records the outcome. A message is
//! claimed before it is sent, so each is sent once across workers and servers; a transient
//! failure (no connection, 429, 5xx) is tried again with back-off (and no sooner than a
//! `Retry-After` asks), a permanent one (a refused address, a 4xx) is kept with the reply.

pub mod http;
pub mod sms;
pub mod webhook;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use lettre::message::Mailbox;
use sea_orm::DatabaseConnection;

use crate::config::Config;
use crate::http_client::HttpClient;
use crate::live::Live;
use crate::mail::{self, Mailer};
use crate::metrics::Outcome;
use crate::store::{self, outbox, outbox::Channel};

/// Why a message was not handed over.
#[derive(Debug)]
pub struct Failure {
    /// Trying again will not help (a refused address, a 4xx answer).
    pub permanent: bool,
    /// What the other side (or the connection) said.
    pub message: String,
    /// How long the other side asked us to wait (`Retry-After`).
    pub retry_after: Option<Duration>,
}

impl Failure {
    pub fn transient(message: impl Into<String>) -> Failure {
        Failure {
            permanent: false,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn permanent(message: impl Into<String>) -> Failure {
        Failure {
            permanent: true,
            message: message.into(),
            retry_after: None,
        }
    }
}

/// Everything messages are handed to.
#[derive(Clone)]
pub struct Senders {
    pub mailer: Mailer,
    pub from: Mailbox,
    /// `None` when no SMS gateway is configured.
    pub sms: Option<Arc<sms::Gateway>>,
    pub http: Arc<HttpClient>,
    /// Told when a delivery changed an incident's timeline.
    pub live: Arc<Live>,
}

impl Senders {
    pub fn from_config(
        config: &Config,
        mailer: Mailer,
        live: Arc<Live>,
    ) -> anyhow::Result<Senders> {
        let http = Arc::new(HttpClient::new()?);
        Ok(Senders {
            mailer,
            from: config.mail_from.clone(),
            sms: sms::Gateway::from_config(config).map(Arc::new),
            http,
            live,
        })
    }
}

/// Wait before the next attempt: 5 s, doubling, at most 5 minutes, so a server that is down
/// for an hour gets its messages within minutes of coming back.
pub fn backoff(attempts: i32) -> chrono::Duration {
    let exp = u32::try_from(attempts.clamp(1, 7) - 1).unwrap_or(0);
    chrono::Duration::seconds((5 * 2_i64.pow(exp)).min(300))
}

/// The longest `Retry-After` honoured: a gateway asking for more is tried again after this.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30 * 60);

/// How long a claimed message stays claimed; a worker that died while sending loses it then.
const LEASE: chrono::Duration = chrono::Duration::minutes(5);

/// Messages handed over at the same time, each on its own connection (the SMTP transport's
/// pool keeps up to ten): one connection waits for the other side's reply to every message.
const PARALLEL: usize = 8;

/// Sends what is due at `now` until nothing is; returns how many messages were handed over.
pub async fn deliver_due(
    db: &DatabaseConnection,
    senders: &Senders,
    now: DateTime<Utc>,
) -> Result<usize, store::StoreError> {
    let outcomes = deliver_due_outcomes(db, senders, now).await?;
    Ok(delivered(&outcomes))
}

/// `deliver_due`, counting each attempt in `metrics` by channel and outcome: what the worker
/// does, and a pass run by hand.
pub async fn deliver_due_counted(
    db: &DatabaseConnection,
    senders: &Senders,
    now: DateTime<Utc>,
    metrics: &crate::metrics::Metrics,
) -> Result<usize, store::StoreError> {
    let outcomes = deliver_due_outcomes(db, senders, now).await?;
    for (channel, outcome) in &outcomes {
        metrics.delivery(channel.as_str(), *outcome);
    }
    Ok(delivered(&outcomes))
}

fn delivered(outcomes: &[(Channel, Outcome)]) -> usize {
    outcomes
        .iter()
        .filter(|(_, o)| *o == Outcome::Delivered)
        .count()
}

/// Sends what is due at `now` until nothing is; the channel and outcome of each attempt.
async fn deliver_due_outcomes(
    db: &DatabaseConnection,
    senders: &Senders,
    now: DateTime<Utc>,
) -> Result<Vec<(Channel, Outcome)>, store::StoreError> {
    let mut outcomes = Vec::new();
    loop {
        let batch = outbox::claim(db, now, now + LEASE, 64).await?;
        if batch.is_empty() {
            return Ok(outcomes);
        }
        let permits = Arc::new(tokio::sync::Semaphore::new(PARALLEL));
        let mut tasks = tokio::task::JoinSet::new();
        for m in batch {
            let (db, senders, permits) = (db.clone(), senders.clone(), permits.clone());
            tasks.spawn(async move {
                let _permit = permits.acquire_owned().await;
                deliver_one(&db, &senders, &m, now).await
            });
        }
        while let Some(done) = tasks.join_next().await {
            match done {
                Ok(Ok(outcome)) => outcomes.push(outcome),
                Ok(Err(e)) => return Err(e),
                Err(e) => tracing::error!(error = %e, "delivery task"),
            }
        }
    }
}

/// Hands one message to its channel.
async fn hand_over(
    db: &DatabaseConnection,
    senders: &Senders,
    channel: Option<Channel>,
    m: &outbox::Message,
) -> Result<(), Failure> {
    match channel {
        Some(Channel::Mail) => {
            let message = mail::build(&senders.from, m).map_err(Failure::permanent)?;
            senders.mailer.send(message).await.map_err(|e| Failure {
                permanent: e.permanent,
                message: e.message,
                retry_after: None,
            })
        }
        Some(Channel::Sms) => match &senders.sms {
            Some(gateway) => gateway.send(&senders.http, m).await,
            None => Err(Failure::permanent("no SMS gateway is configured")),
        },
        Some(Channel::Teams) => webhook::post_teams(&senders.http, m).await,
        Some(Channel::Webhook) => {
            let endpoint = match m.endpoint_id {
                Some(id) => store::webhooks::endpoint(db, id)
                    .await
                    .map_err(|e| Failure::transient(e.to_string()))?,
                None => None,
            };
            match endpoint {
                Some(endpoint) => webhook::post_signed(&senders.http, &endpoint.secret, m).await,
                None => Err(Failure::permanent("the endpoint was removed")),
            }
        }
        None => Err(Failure::permanent(format!(
            "unknown channel {:?}",
            m.channel
        ))),
    }
}

/// Sends one claimed message and records the outcome.
async fn deliver_one(
    db: &DatabaseConnection,
    senders: &Senders,
    m: &outbox::Message,
    now: DateTime<Utc>,
) -> Result<(Channel, Outcome), store::StoreError> {
    let channel = Channel::parse(&m.channel);
    let result = hand_over(db, senders, channel, m).await;
    let channel = channel.unwrap_or(Channel::Mail);
    let outcome = match result {
        Ok(()) => {
            outbox::mark_sent(db, m.id, Utc::now()).await?;
            if let Some(incident) = store::alerts::record_delivery(db, m, true, now).await? {
                senders.live.touch(db, incident).await;
            }
            Outcome::Delivered
        }
        Err(e) if e.permanent => {
            tracing::warn!(channel = channel.as_str(), to = %m.to_address, error = %e.message, "message refused");
            outbox::mark_failed(db, m.id, &e.message).await?;
            if let Some(incident) = store::alerts::record_delivery(db, m, false, now).await? {
                senders.live.touch(db, incident).await;
            }
            Outcome::Failed
        }
        Err(e) => {
            tracing::info!(channel = channel.as_str(), to = %m.to_address, error = %e.message, attempt = m.attempts, "message not sent, will retry");
            let mut next = now + backoff(m.attempts);
            if let Some(wait) = e.retry_after {
                let asked =
                    now + chrono::Duration::from_std(wait.min(MAX_RETRY_AFTER)).unwrap_or_default();
                next = next.max(asked);
            }
            outbox::mark_retry(db, m.id, &e.message, next).await?;
            Outcome::Retry
        }
    };
    Ok((channel, outcome))
}

/// Runs the outbox worker: sends what is due, then waits for new messages (`wake`) or the next
/// retry, whichever comes first.
pub fn spawn_worker(
    db: DatabaseConnection,
    senders: Senders,
    wake: Arc<tokio::sync::Notify>,
    metrics: Arc<crate::metrics::Metrics>,
) {
    tokio::spawn(async move {
        loop {
            if let Err(e) = deliver_due_counted(&db, &senders, Utc::now(), &metrics).await {
                tracing::error!(error = %e, "outbox worker");
            }
            tokio::select! {
                () = wake.notified() => {}
                () = tokio::time::sleep(Duration::from_secs(5)) => {}
            }
        }
    });
}
