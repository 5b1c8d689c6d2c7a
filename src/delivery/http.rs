//! A JSON POST to another service, and what its answer means for the outbox: 2xx delivered;
//! 429 (with its `Retry-After`), 408 and 5xx, or no answer, tried again; any other answer
//! refused for good, kept with the status and the start of the body.

use std::time::Duration;

use super::Failure;
use crate::http_client::{HttpClient, HttpError};

/// The most of an answer's body kept in the outbox.
const KEPT: usize = 500;

/// Posts `body` as JSON to `url` with `headers`; the answer's body when it is 2xx.
pub async fn post_json(
    client: &HttpClient,
    url: &str,
    headers: &[(&str, String)],
    body: Vec<u8>,
) -> Result<Vec<u8>, Failure> {
    let mut request =
        http::Request::post(url).header(http::header::CONTENT_TYPE, "application/json");
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let request = request
        .body(body)
        .map_err(|e| Failure::permanent(format!("address {url:?}: {e}")))?;
    let response = client.send(request).await.map_err(|e| match e {
        HttpError::Client(e) if e.is_connect() => Failure::transient(format!("no connection: {e}")),
        other => Failure::transient(other.to_string()),
    })?;
    let status = response.status();
    if status.is_success() {
        return Ok(response.into_body());
    }
    let retry_after = retry_after(response.headers());
    let text = String::from_utf8_lossy(response.body());
    let mut reply: String = text.trim().chars().take(KEPT).collect();
    if reply.is_empty() {
        reply = status.canonical_reason().unwrap_or("").to_string();
    }
    let message = format!("HTTP {}: {reply}", status.as_u16());
    let transient = status == http::StatusCode::TOO_MANY_REQUESTS
        || status == http::StatusCode::REQUEST_TIMEOUT
        || status.is_server_error();
    Err(Failure {
        permanent: !transient,
        message,
        retry_after,
    })
}

/// `Retry-After` in seconds (the form gateways use); an HTTP date is read as no wait asked.
fn retry_after(headers: &http::HeaderMap) -> Option<Duration> {
    headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}
