//! Mail: the transport that hands messages to the SMTP server (or writes them to a folder), the
//! MIME message of an outbox row, and the iCalendar invitations attached to drill mail.

pub mod ics;

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{Config, MailTransport, SmtpSecurity};
use crate::store::outbox;

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
