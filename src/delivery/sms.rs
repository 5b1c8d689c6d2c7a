//! SMS through GatewayAPI's REST interface (`POST /rest/mtsms`): JSON with `sender`, `message`
//! and `recipients: [{msisdn}]`, authenticated with `Authorization: Token …`; texts outside the
//! GSM 7-bit alphabet are sent with `encoding: "UCS2"`. The gateway joins long texts itself; the
//! outbox row's id goes along as `userref`, so a delivery report can be matched to it.

use serde_json::json;

use super::{Failure, http};
use crate::config::{Config, Secret, SmsProvider};
use crate::domain::sms;
use crate::http_client::HttpClient;
use crate::store::outbox;

/// A configured SMS gateway.
pub struct Gateway {
    url: String,
    token: Secret,
    sender: String,
}

impl Gateway {
    /// The gateway the configuration names; `None` when none is.
    pub fn from_config(config: &Config) -> Option<Gateway> {
        match config.sms_provider? {
            SmsProvider::Gatewayapi => Some(Gateway {
                url: config.sms_url.clone(),
                token: config.sms_token.clone()?,
                sender: config.sms_sender.clone(),
            }),
        }
    }

    /// The request body for one text to one number.
    pub fn body(&self, m: &outbox::Message) -> Result<serde_json::Value, Failure> {
        let msisdn: u64 =
            m.to_address.trim_start_matches('+').parse().map_err(|_| {
                Failure::permanent(format!("not a phone number: {:?}", m.to_address))
            })?;
        let mut body = json!({
            "sender": self.sender,
            "message": m.body_text,
            "recipients": [{ "msisdn": msisdn }],
            "userref": m.message_id,
        });
        if !sms::is_gsm7(&m.body_text) {
            body["encoding"] = json!("UCS2");
        }
        Ok(body)
    }

    /// Hands one text to the gateway.
    pub async fn send(&self, client: &HttpClient, m: &outbox::Message) -> Result<(), Failure> {
        let body = serde_json::to_vec(&self.body(m)?).unwrap_or_default();
        let auth = format!("Token {}", self.token.expose());
        http::post_json(client, &self.url, &[("authorization", auth)], body)
            .await
            .map(|_| ())
    }
}
