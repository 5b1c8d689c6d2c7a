//! Mail: the outbox worker that sends queued messages over SMTP (or writes them to a folder),
//! and the iCalendar invitations attached to drill mail.

pub mod ics;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sea_orm::DatabaseConnection;

use crate::config::{Config, MailTransport, SmtpSecurity};
use crate::metrics::MailOutcome;
use crate::store::{self, outbox};

/// Where mail goes.
#[derive(Clone)]
pub enum Mailer {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    File(AsyncFileTransport<Tokio1Executor>),
}

/// Why a message was not sent.
#[derive(Debug)]
pub struct SendError {
    /// The server refused it for good (5xx): trying again will not help.
    pub permanent: bool,
    /// What the server (or the connection) said.
    pub message: String,
}

/// Longest wait for one message to be handed over.
const SEND_TIMEOUT: Duration = Duration::from_secs(60);

impl Mailer {
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        Ok(match config.mail_transport {
            MailTransport::File => {
                std::fs::create_dir_all(&config.mail_dir)?;
                Mailer::File(AsyncFileTransport::new(&config.mail_dir))
            }
            MailTransport::Smtp => {
                let host = config.smtp_host.as_str();
                let mut builder = match config.smtp_security {
                    SmtpSecurity::None => {
                        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
                    }
                    SmtpSecurity::Starttls => {
                        AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)?
                    }
                    SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)?,
                }
                .port(config.smtp_port)
                .timeout(Some(Duration::from_secs(20)));
                if let (Some(user), Some(password)) = (&config.smtp_user, &config.smtp_password) {
                    builder = builder.credentials(Credentials::new(
                        user.clone(),
                        password.expose().to_string(),
                    ));
                }
                Mailer::Smtp(builder.build())
            }
        })
    }

    /// Hands one message over.
    pub async fn send(&self, message: Message) -> Result<(), SendError> {
        let transient = |message: String| SendError {
            permanent: false,
            message,
        };
        match self {
            Mailer::File(t) => t
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| transient(e.to_string())),
            Mailer::Smtp(t) => match tokio::time::timeout(SEND_TIMEOUT, t.send(message)).await {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(e)) => Err(SendError {
                    permanent: e.is_permanent(),
                    message: e.to_string(),
                }),
                Err(_) => Err(transient("timed out talking to the SMTP server".into())),
            },
        }
    }
}

/// The MIME message of an outbox row: text and HTML, and the invitation if there is one.
pub fn build(from: &Mailbox, m: &outbox::Message) -> Result<Message, String> {
    let to: Mailbox = format!(
        "{} <{}>",
        m.to_name.replace(['<', '>', '"'], ""),
        m.to_address
    )
    .parse()
    .or_else(|_| m.to_address.parse())
    .map_err(|e| format!("address {:?}: {e}", m.to_address))?;
    let body = MultiPart::alternative_plain_html(m.body_text.clone(), m.body_html.clone());
    let builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(m.subject.clone())
        .message_id(Some(format!("<{}>", m.message_id)));
    let message = match &m.ics {
        None => builder.multipart(body),
        Some(ics) => {
            let method = if ics.contains("METHOD:CANCEL") {
                "CANCEL"
            } else {
                "REQUEST"
            };
            let kind =
                ContentType::parse(&format!("text/calendar; method={method}; charset=utf-8"))
                    .map_err(|e| e.to_string())?;
            builder.multipart(
                MultiPart::mixed()
                    .multipart(body)
                    .singlepart(Attachment::new("invite.ics".into()).body(ics.clone(), kind)),
            )
        }
    };
    message.map_err(|e| e.to_string())
}

/// Wait before the next attempt: 5 s, doubling, at most 5 minutes, so an SMTP server that is
/// down for an hour gets its mail within minutes of coming back.
pub fn backoff(attempts: i32) -> chrono::Duration {
    let exp = u32::try_from(attempts.clamp(1, 7) - 1).unwrap_or(0);
    chrono::Duration::seconds((5 * 2_i64.pow(exp)).min(300))
}

/// How long a claimed message stays claimed; a worker that died while sending loses it then.
const LEASE: chrono::Duration = chrono::Duration::minutes(5);

/// Messages handed over at the same time, each on its own SMTP connection (the transport's
/// pool keeps up to ten): one connection waits for the server's reply to every message.
const PARALLEL: usize = 8;

/// Sends what is due at `now` until nothing is; returns how many messages were handed over.
pub async fn deliver_due(
    db: &DatabaseConnection,
    mailer: &Mailer,
    from: &Mailbox,
    now: chrono::DateTime<Utc>,
) -> Result<usize, store::StoreError> {
    let outcomes = deliver_due_outcomes(db, mailer, from, now).await?;
    Ok(outcomes
        .iter()
        .filter(|o| **o == MailOutcome::Delivered)
        .count())
}

/// Sends what is due at `now` until nothing is; the outcome of each attempt.
async fn deliver_due_outcomes(
    db: &DatabaseConnection,
    mailer: &Mailer,
    from: &Mailbox,
    now: chrono::DateTime<Utc>,
) -> Result<Vec<MailOutcome>, store::StoreError> {
    let mut outcomes = Vec::new();
    loop {
        let batch = outbox::claim(db, now, now + LEASE, 64).await?;
        if batch.is_empty() {
            return Ok(outcomes);
        }
        let permits = Arc::new(tokio::sync::Semaphore::new(PARALLEL));
        let mut tasks = tokio::task::JoinSet::new();
        for m in batch {
            let (db, mailer, from, permits) =
                (db.clone(), mailer.clone(), from.clone(), permits.clone());
            tasks.spawn(async move {
                let _permit = permits.acquire_owned().await;
                deliver_one(&db, &mailer, &from, &m, now).await
            });
        }
        while let Some(done) = tasks.join_next().await {
            match done {
                Ok(Ok(outcome)) => outcomes.push(outcome),
                Ok(Err(e)) => return Err(e),
                Err(e) => tracing::error!(error = %e, "mail task"),
            }
        }
    }
}

/// Sends one claimed message and records the outcome.
async fn deliver_one(
    db: &DatabaseConnection,
    mailer: &Mailer,
    from: &Mailbox,
    m: &outbox::Message,
    now: chrono::DateTime<Utc>,
) -> Result<MailOutcome, store::StoreError> {
    let result = match build(from, m) {
        Ok(message) => mailer.send(message).await,
        Err(e) => Err(SendError {
            permanent: true,
            message: e,
        }),
    };
    match result {
        Ok(()) => {
            outbox::mark_sent(db, m.id, Utc::now()).await?;
            Ok(MailOutcome::Delivered)
        }
        Err(e) if e.permanent => {
            tracing::warn!(to = %m.to_address, error = %e.message, "mail refused");
            outbox::mark_failed(db, m.id, &e.message).await?;
            Ok(MailOutcome::Failed)
        }
        Err(e) => {
            tracing::info!(to = %m.to_address, error = %e.message, attempt = m.attempts, "mail not sent, will retry");
            outbox::mark_retry(db, m.id, &e.message, now + backoff(m.attempts)).await?;
            Ok(MailOutcome::Retry)
        }
    }
}

/// Runs the outbox worker: sends what is due, then waits for new mail (`wake`) or the next
/// retry, whichever comes first.
pub fn spawn_worker(
    db: DatabaseConnection,
    mailer: Mailer,
    from: Mailbox,
    wake: Arc<tokio::sync::Notify>,
    metrics: Arc<crate::metrics::Metrics>,
) {
    tokio::spawn(async move {
        loop {
            match deliver_due_outcomes(&db, &mailer, &from, Utc::now()).await {
                Ok(outcomes) => outcomes.into_iter().for_each(|o| metrics.mail(o)),
                Err(e) => tracing::error!(error = %e, "outbox worker"),
            }
            tokio::select! {
                () = wake.notified() => {}
                () = tokio::time::sleep(Duration::from_secs(5)) => {}
            }
        }
    });
}
