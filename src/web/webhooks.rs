//! The plan's endpoints for the coordinator (`/plans/{plan}/webhooks`): Standard Webhooks
//! endpoints of other systems with their signing secret, and the Teams workflow the alerts are
//! posted to; each with "send test event" and its delivery log.

use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::auth::Viewer;
use super::edit::Fields;
use super::pages::{load, page};
use super::{AppState, Error, Result, local};
use crate::app::alerting::EndpointForm;
use crate::store::webhooks;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/plans/{plan}/webhooks", get(list).post(add))
        .route("/plans/{plan}/webhooks/{id}/test", post(test))
        .route("/plans/{plan}/webhooks/{id}/remove", post(remove))
}

/// The events an endpoint receives.
pub const EVENTS: [&str; 9] = [
    "incident.opened",
    "incident.system_down",
    "incident.system_recovered",
    "incident.stand_down",
    "incident.closed",
    "drill.planned",
    "drill.started",
    "drill.closed",
    "version.approved",
];

async fn render(
    state: &AppState,
    viewer: &Viewer,
    plan_id: &str,
    status: StatusCode,
    error: Option<&str>,
    form: Value,
) -> Result<Response> {
    let user = viewer.require()?;
    if !user.actor.may_edit_plan() {
        return Err(Error::Forbidden);
    }
    let plan = load(state, plan_id).await?;
    let lang = viewer.lang.as_str();
    let mut endpoints = Vec::new();
    for e in webhooks::of_plan(&state.db, plan.id.as_str()).await? {
        let log: Vec<Value> = webhooks::deliveries(&state.db, e.id, 20)
            .await?
            .iter()
            .map(|m| {
                json!({
                    "event": m.kind,
                    "state": m.state,
                    "state_key": format!("outbox.state.{}", m.state),
                    "created": local(state, m.created_at, lang),
                    "sent": m.sent_at.map(|at| local(state, at, lang)),
                    "attempts": m.attempts,
                    "reply": m.last_error,
                })
            })
            .collect();
        endpoints.push(json!({
            "id": e.id,
            "teams": e.kind == webhooks::TEAMS,
            "kind_key": format!("webhooks.kind_{}", e.kind),
            "url": e.url,
            "secret": e.secret,
            "description": e.description,
            "created": local(state, e.created_at, lang),
            "log": log,
        }));
    }
    let mut response = page(
        state,
        viewer,
        "webhooks",
        json!({
            "plan": {"id": plan.id, "name": plan.name},
            "endpoints": endpoints,
            "events": EVENTS,
            "error": error,
            "form": form,
        }),
    )?
    .into_response();
    *response.status_mut() = status;
    Ok(response)
}

async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(plan): Path<String>,
) -> Result<Response> {
    let form = json!({"kind": "", "url": "", "description": ""});
    render(&state, &viewer, &plan, StatusCode::OK, None, form).await
}

async fn add(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(plan_id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response> {
    let (plan, actor) = coordinator(&state, &viewer, &plan_id).await?;
    let f = Fields(pairs);
    let (kind, url, description) = (f.get("kind"), f.get("url"), f.get("description"));
    let form = EndpointForm {
        kind: &kind,
        url: &url,
        description: &description,
    };
    match state.app.add_endpoint(&plan, form, &actor).await {
        Ok(id) => {
            Ok(Redirect::to(&format!("/plans/{plan}/webhooks#endpoint-{id}")).into_response())
        }
        Err(crate::app::Error::Invalid(key)) => {
            let form = json!({"kind": kind, "url": url, "description": description});
            render(
                &state,
                &viewer,
                &plan_id,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(key),
                form,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

async fn test(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((plan_id, id)): Path<(String, i64)>,
) -> Result<Response> {
    let (plan, actor) = coordinator(&state, &viewer, &plan_id).await?;
    if !state.app.test_endpoint(&plan, id, &actor).await? {
        return Err(Error::NotFound);
    }
    Ok(Redirect::to(&format!("/plans/{plan}/webhooks#endpoint-{id}")).into_response())
}

async fn remove(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((plan_id, id)): Path<(String, i64)>,
) -> Result<Response> {
    let (plan, actor) = coordinator(&state, &viewer, &plan_id).await?;
    if !state.app.remove_endpoint(&plan, id, &actor).await? {
        return Err(Error::NotFound);
    }
    Ok(Redirect::to(&format!("/plans/{plan}/webhooks")).into_response())
}

/// The plan's id and the signed-in coordinator's username; 403 for anyone else.
async fn coordinator(state: &AppState, viewer: &Viewer, plan: &str) -> Result<(String, String)> {
    let user = viewer.require()?;
    if !user.actor.may_edit_plan() {
        return Err(Error::Forbidden);
    }
    let plan = load(state, plan).await?;
    Ok((plan.id.to_string(), user.actor.username.clone()))
}
