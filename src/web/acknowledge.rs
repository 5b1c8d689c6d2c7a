//! The acknowledgement link of an alert (`/k/{incident}/{secret}`, or `/k/d{occurrence}/…` for
//! a test of the call tree): opened from the SMS or the mail without signing in, it shows the
//! incident's (or drill's) title and two answers, "on my way" and
//! "I cannot", with an optional note. It does nothing else and shows nothing more of the plan;
//! a link of another incident, a forged one or one already used is refused.

use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::json;
use tower_sessions::Session;

use super::auth::{self, Viewer};
use super::pages::page;
use super::{AppState, Error, Result, local};
use crate::app::alerting::Acknowledgement;
use crate::store::alerts::{Acknowledged, COMING, Target};

pub fn router() -> Router<AppState> {
    Router::new().route("/k/{target}/{token}", get(show).post(answer))
}

/// The answer a link gave, as the page says it.
fn given(state: &AppState, lang: &str, r: &crate::store::alerts::Recipient) -> Option<String> {
    let at = r.acknowledged_at?;
    let key = if r.answer.as_deref() == Some(COMING) {
        "ack.given_coming"
    } else {
        "ack.given_cannot"
    };
    Some(
        state
            .templates
            .text(lang, key)
            .replace("{at}", &local(state, at, lang)),
    )
}

/// The target a link's first part names: `5` an incident, `d12` a test of the call tree in
/// drill occurrence 12.
fn target(key: &str) -> Result<Target> {
    let parsed = match key.strip_prefix('d') {
        Some(occurrence) => occurrence.parse().ok().map(Target::Occurrence),
        None => key.parse().ok().map(Target::Incident),
    };
    parsed.ok_or(Error::NotFound)
}

async fn render(
    state: &AppState,
    viewer: &Viewer,
    status: StatusCode,
    link: &Acknowledgement,
    action: &str,
) -> Result<Response> {
    let mut response = page(
        state,
        viewer,
        "acknowledge",
        json!({
            "incident": link.title,
            "test": link.test,
            "given": given(state, &viewer.lang, &link.recipient),
            "closed": link.closed,
            "action": action,
        }),
    )?
    .into_response();
    *response.status_mut() = status;
    // Never kept by a shared cache: the page belongs to one person's link.
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    response.headers_mut().insert(
        "referrer-policy",
        axum::http::HeaderValue::from_static("no-referrer"),
    );
    Ok(response)
}

async fn show(
    State(state): State<AppState>,
    session: Session,
    mut viewer: Viewer,
    Path((key, token)): Path<(String, String)>,
) -> Result<Response> {
    let link = state
        .acknowledgement(target(&key)?, &token)
        .await?
        .ok_or(Error::NotFound)?;
    viewer.csrf = Some(auth::csrf_token(&session).await?);
    let action = format!("/k/{key}/{token}");
    render(&state, &viewer, StatusCode::OK, &link, &action).await
}

#[derive(Deserialize)]
struct AnswerForm {
    answer: String,
    #[serde(default)]
    note: String,
}

async fn answer(
    State(state): State<AppState>,
    session: Session,
    mut viewer: Viewer,
    Path((key, token)): Path<(String, String)>,
    Form(form): Form<AnswerForm>,
) -> Result<Response> {
    let target = target(&key)?;
    let link = state
        .acknowledgement(target, &token)
        .await?
        .ok_or(Error::NotFound)?;
    let coming = match form.answer.as_str() {
        "coming" => true,
        "cannot" => false,
        _ => return Err(Error::Invalid("ack.choose")),
    };
    viewer.csrf = Some(auth::csrf_token(&session).await?);
    let action = format!("/k/{key}/{token}");
    let status = match state.acknowledge(&link, coming, &form.note).await? {
        Acknowledged::Done => StatusCode::OK,
        Acknowledged::Already | Acknowledged::Closed => StatusCode::CONFLICT,
    };
    // As it stands now: the answer given, or closed.
    let now = state.acknowledgement(target, &token).await?.unwrap_or(link);
    render(&state, &viewer, status, &now, &action).await
}
