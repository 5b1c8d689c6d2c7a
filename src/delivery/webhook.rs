//! Posts to other systems: webhooks signed per the Standard Webhooks specification
//! (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of
//! id.timestamp.body>`, keyed by the base64 part of a `whsec_` secret), and Adaptive Cards to a
//! Microsoft Teams workflow. The body was made when the message was queued; the signature is
//! made at each attempt, with that attempt's time.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{Failure, http};
use crate::http_client::HttpClient;
use crate::store::outbox;

/// The prefix of a Standard Webhooks secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// The `webhook-signature` value (`v1,<base64>`) of `body` sent as `id` at `timestamp` (Unix
/// seconds) with `secret`; `None` when the secret is not a `whsec_` secret.
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &str) -> Option<String> {
    let key = STANDARD
        .decode(secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret))
        .ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    Some(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// Posts a webhook message, signed with `secret`.
pub async fn post_signed(
    client: &HttpClient,
    secret: &str,
    m: &outbox::Message,
) -> Result<(), Failure> {
    let timestamp = chrono::Utc::now().timestamp();
    let signed = signature(secret, &m.message_id, timestamp, &m.body_text)
        .ok_or_else(|| Failure::permanent("the endpoint's secret is not a whsec_ secret"))?;
    let headers = [
        ("webhook-id", m.message_id.clone()),
        ("webhook-timestamp", timestamp.to_string()),
        ("webhook-signature", signed),
    ];
    http::post_json(
        client,
        &m.to_address,
        &headers,
        m.body_text.clone().into_bytes(),
    )
    .await
    .map(|_| ())
}

/// Posts an Adaptive Card message to a Teams workflow.
pub async fn post_teams(client: &HttpClient, m: &outbox::Message) -> Result<(), Failure> {
    http::post_json(client, &m.to_address, &[], m.body_text.clone().into_bytes())
        .await
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the specification's reference libraries.
    #[test]
    fn the_signature_is_the_specifications() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            signature(secret, id, 1614265330, body).as_deref(),
            Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
        assert_ne!(
            signature(secret, id, 1614265331, body),
            signature(secret, id, 1614265330, body)
        );
        assert_eq!(signature("whsec_not base64!", id, 1, body), None);
    }

    /// The Rust library's own example.
    #[test]
    fn the_signature_of_the_rust_librarys_example() {
        assert_eq!(
            signature(
                "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
                "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
                1649367553,
                r#"{"email":"test@example.com","username":"test_user"}"#
            )
            .as_deref(),
            Some("v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=")
        );
    }
}
