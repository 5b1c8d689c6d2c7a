//! `/metrics` for Prometheus, and the layer that counts and times every request.

use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};

use super::AppState;
use crate::metrics::{CONTENT_TYPE, OutboxFigures};
use crate::store;

pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

/// Counts and times each request by its route's pattern, method and status.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method = request.method().clone();
    let response = next.run(request).await;
    state.metrics.request(
        &route,
        method.as_str(),
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// The metrics in the Prometheus text format. With `metrics_token` configured, only a request
/// carrying `Authorization: Bearer <token>` gets them.
async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = &state.config.metrics_token {
        let given = super::auth::bearer_token(&headers).unwrap_or("");
        // Digests compared, so the comparison takes as long whatever the input.
        if Sha256::digest(given.as_bytes()) != Sha256::digest(token.expose().as_bytes()) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "metrics need the bearer token configured as metrics_token\n",
            )
                .into_response();
        }
    }
    let now = state.clock.now();
    let outbox = match store::outbox::depth(&state.db, now).await {
        Ok((by_state, oldest)) => OutboxFigures {
            by_state: by_state
                .into_iter()
                .map(|(channel, state, n)| (channel.as_str(), state, n))
                .collect(),
            oldest_due_age: oldest
                .and_then(|at| (now - at).to_std().ok())
                .unwrap_or_default(),
        },
        Err(e) => {
            tracing::error!(error = %e, "metrics: reading the outbox");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "database unreachable: the outbox cannot be read\n",
            )
                .into_response();
        }
    };
    (
        [(header::CONTENT_TYPE, CONTENT_TYPE)],
        state.metrics.render(&outbox, now),
    )
        .into_response()
}
