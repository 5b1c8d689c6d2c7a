//! Calls to other services over HTTP(S): the identity provider, the SMS gateway.

use std::time::Duration;

/// Longest a call may take, answer included.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest answer read.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// The HTTP client for calls to other services (the identity provider, the SMS gateway): no redirects followed (a provider's answer is
/// never a redirect; following one would let it point us anywhere), a time limit, a size limit,
/// and TLS that trusts the system's certificates.
pub struct HttpClient(
    hyper_util::client::legacy::Client<
        hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
        http_body_util::Full<bytes::Bytes>,
    >,
);

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error(transparent)]
    Client(#[from] hyper_util::client::legacy::Error),
    #[error("no answer within {} seconds", CALL_TIMEOUT.as_secs())]
    Timeout,
    #[error("{0}")]
    Other(String),
}

impl HttpClient {
    pub fn new() -> anyhow::Result<HttpClient> {
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(rustls::crypto::ring::default_provider())?
            .https_or_http()
            .enable_http1()
            .build();
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build(https);
        Ok(HttpClient(client))
    }

    pub async fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, HttpError> {
        use http_body_util::BodyExt;
        let (mut parts, body) = request.into_parts();
        parts.headers.insert(
            http::header::USER_AGENT,
            http::HeaderValue::from_static(concat!("beredskab/", env!("CARGO_PKG_VERSION"))),
        );
        let request = http::Request::from_parts(parts, http_body_util::Full::from(body));
        let exchange = async {
            let response = self.0.request(request).await?;
            let (parts, body) = response.into_parts();
            let body = http_body_util::Limited::new(body, MAX_RESPONSE_BYTES)
                .collect()
                .await
                .map_err(|e| HttpError::Other(format!("reading the answer: {e}")))?
                .to_bytes();
            Ok::<_, HttpError>(http::Response::from_parts(parts, body.to_vec()))
        };
        tokio::time::timeout(CALL_TIMEOUT, exchange)
            .await
            .map_err(|_| HttpError::Timeout)?
    }
}
