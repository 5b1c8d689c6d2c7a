//! An HTTP receiver on loopback for the tests: the SMS gateway (answering as GatewayAPI does),
//! a webhook receiver or a Teams workflow. It records every request it gets, answers as it is
//! told (200 with a body, 429 with `Retry-After`, 500, …), and can be stopped (refusing
//! connections) and started again on the same port.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;

/// One request received.
#[derive(Debug, Clone)]
pub struct Request {
    pub path: String,
    pub headers: HeaderMap,
    pub body: String,
}

impl Request {
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// What the peer answers.
#[derive(Debug, Clone)]
pub enum Answer {
    /// This status and body (JSON).
    Status(u16, String),
    /// 429 with `Retry-After: seconds`.
    TooMany(u64),
}

/// GatewayAPI's answer to a send: the message's id and what it cost.
pub fn gatewayapi_ok() -> Answer {
    Answer::Status(
        200,
        r#"{"ids":[421332671],"usage":{"countries":{"DK":1},"currency":"DKK","total_cost":0.25}}"#
            .into(),
    )
}

struct Shared {
    received: Mutex<Vec<Request>>,
    answer: Mutex<Answer>,
    /// How long each answer takes.
    delay: Mutex<std::time::Duration>,
}

pub struct HttpPeer {
    pub address: SocketAddr,
    shared: Arc<Shared>,
    task: Option<tokio::task::JoinHandle<()>>,
}

async fn handle(
    axum::extract::State(shared): axum::extract::State<Arc<Shared>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    shared.received.lock().unwrap().push(Request {
        path: uri.path().to_string(),
        headers,
        body: String::from_utf8_lossy(&body).to_string(),
    });
    let delay = *shared.delay.lock().unwrap();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let answer = shared.answer.lock().unwrap().clone();
    match answer {
        // Each answer closes its connection, so that a stopped peer is really away.
        Answer::Status(status, body) => (
            StatusCode::from_u16(status).unwrap(),
            [
                ("content-type", "application/json"),
                ("connection", "close"),
            ],
            body,
        )
            .into_response(),
        Answer::TooMany(seconds) => (
            StatusCode::TOO_MANY_REQUESTS,
            [
                ("retry-after", seconds.to_string()),
                ("connection", "close".to_string()),
            ],
            r#"{"message":"too many requests"}"#,
        )
            .into_response(),
    }
}

impl HttpPeer {
    /// A peer on a free loopback port answering `answer`.
    pub async fn start(answer: Answer) -> HttpPeer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            received: Mutex::new(Vec::new()),
            answer: Mutex::new(answer),
            delay: Mutex::new(std::time::Duration::ZERO),
        });
        let mut peer = HttpPeer {
            address,
            shared,
            task: None,
        };
        peer.serve(listener);
        peer
    }

    fn serve(&mut self, listener: tokio::net::TcpListener) {
        let router = axum::Router::new()
            .fallback(handle)
            .with_state(self.shared.clone());
        self.task = Some(tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        }));
    }

    /// The address of `path` on the peer.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    pub fn answer(&self, answer: Answer) {
        *self.shared.answer.lock().unwrap() = answer;
    }

    /// Each answer from now on takes `delay` (the request is recorded at once).
    pub fn slow(&self, delay: std::time::Duration) {
        *self.shared.delay.lock().unwrap() = delay;
    }

    pub fn received(&self) -> Vec<Request> {
        self.shared.received.lock().unwrap().clone()
    }

    /// Stops listening: connections are refused until `restart`.
    pub async fn stop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }

    /// Listens again on the same port.
    pub async fn restart(&mut self) {
        let listener = tokio::net::TcpListener::bind(self.address).await.unwrap();
        self.serve(listener);
    }
}

impl Drop for HttpPeer {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
