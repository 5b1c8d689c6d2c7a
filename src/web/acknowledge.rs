//! The acknowledgement link of an alert (`/k/{incident}/{secret}`): opened from the SMS or the
//! mail without signing in, it shows the incident's title and two answers, "on my way" and
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
use crate::store::alerts::{Acknowledged, COMING};

pub fn router() -> Router<AppState> {
    Router::new().route("/k/{incident}/{token}", get(show).post(answer))
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

async fn render(
    state: &AppState,
    viewer: &Viewer,
    status: StatusCode,
    title: &str,
    given: Option<String>,
    closed: bool,
    action: &str,
) -> Result<Response> {
    let mut response = page(
        state,
        viewer,
        "acknowledge",
        json!({
            "incident": title,
            "given": given,
            "closed": closed,
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
    Path((incident, token)): Path<(i64, String)>,
) -> Result<Response> {
    let (recipient, incident) = state
        .acknowledgement(incident, &token)
        .await?
        .ok_or(Error::NotFound)?;
    viewer.csrf = Some(auth::csrf_token(&session).await?);
    let action = format!("/k/{}/{token}", incident.id);
    let given = given(&state, &viewer.lang, &recipient);
    let closed = incident.state == crate::store::incidents::CLOSED;
    render(
        &state,
        &viewer,
        StatusCode::OK,
        &incident.title,
        given,
        closed,
        &action,
    )
    .await
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
    Path((incident, token)): Path<(i64, String)>,
    Form(form): Form<AnswerForm>,
) -> Result<Response> {
    let (recipient, incident) = state
        .acknowledgement(incident, &token)
        .await?
        .ok_or(Error::NotFound)?;
    let coming = match form.answer.as_str() {
        "coming" => true,
        "cannot" => false,
        _ => return Err(Error::Invalid("ack.choose")),
    };
    viewer.csrf = Some(auth::csrf_token(&session).await?);
    let action = format!("/k/{}/{token}", incident.id);
    let (status, closed) = match state.acknowledge(&recipient, coming, &form.note).await? {
        Acknowledged::Done => (StatusCode::OK, false),
        Acknowledged::Already => (StatusCode::CONFLICT, false),
        Acknowledged::Closed => (StatusCode::CONFLICT, true),
    };
    let now = state
        .acknowledgement(incident.id, &token)
        .await?
        .map(|(r, _)| r)
        .unwrap_or(recipient);
    let given = given(&state, &viewer.lang, &now);
    render(
        &state,
        &viewer,
        status,
        &incident.title,
        given,
        closed,
        &action,
    )
    .await
}
