//! Incident mode: the incident lead activates the plan against a real outage, marks what is down,
//! and everyone working the incident sees what that takes down, the order to recover in, each
//! system's steps as a checklist, a clock per system against its RTO, and a shared timeline —
//! live (server-sent events) where the browser allows it, by plain reload where it does not.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::Viewer;
use super::edit::Fields;
use super::{AppState, Error, Result, i18n, local};
use crate::app::alerting::Audience;
use crate::domain::incident::{self, Clock, Outage};
use crate::domain::{Plan, PlanId};
use crate::render::tel;
use crate::store::incidents::{self as store_incidents, Changed, Incident, STAND_DOWN};
use crate::store::{self};
use crate::web::pages::{load, page, page_with};

mod acts;
mod page;

use acts::*;
use page::*;

/// Systems in the order of the names they are shown by (Danish letters after z, as in the
/// alphabet), for the pickers.
pub(super) fn by_name<'p>(
    systems: impl Iterator<Item = &'p crate::domain::System>,
) -> Vec<&'p crate::domain::System> {
    let mut sorted: Vec<_> = systems.collect();
    sorted.sort_by_cached_key(|s| crate::render::i18n::sort_key(&s.name));
    sorted
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/plans/{plan}/incidents", get(list).post(open))
        .route("/incidents/{id}", get(show))
        .route("/incidents/{id}/live", get(live))
        .route("/incidents/{id}/systems", post(mark))
        .route("/incidents/{id}/ticks", post(tick))
        .route("/incidents/{id}/notes", post(note))
        .route("/incidents/{id}/offline", post(offline))
        .route("/incidents/{id}/alert", get(alert_form).post(alert))
        .route("/incidents/{id}/stand-down", post(stand_down))
        .route("/incidents/{id}/close", get(close_form).post(close))
        .route("/incidents/{id}/report", get(report))
        .route("/incidents/{id}/report.docx", get(acts::report_docx))
        .route("/incidents/{id}/actions", post(new_action))
}

/// The items of the stand-down checklist (nedlukning), by locale key.
const STAND_DOWN_ITEMS: [&str; 4] = [
    "incident.sd.workarounds",
    "incident.sd.data",
    "incident.sd.users",
    "incident.sd.watch",
];

/// The plan an incident works from: the approved version it was opened on (immutable, so cached
/// for good), or the draft when nothing was approved.
async fn plan_of(state: &AppState, incident: &Incident) -> Result<Arc<Plan>> {
    match incident.version {
        Some(number) => {
            let id = PlanId::parse(&incident.plan_id).map_err(|_| Error::NotFound)?;
            state
                .plans
                .version(&state.db, &id, number)
                .await?
                .ok_or(Error::NotFound)
        }
        None => load(state, &incident.plan_id).await,
    }
}

/// An incident with its plan and what the viewer may do.
struct Loaded {
    incident: Incident,
    plan: Arc<Plan>,
    username: String,
    /// Ticks, marks systems, adds notes: everyone signed in but viewers.
    may_work: bool,
    /// Alerts, stands down, closes: the incident lead, the coordinator, the administrator.
    may_lead: bool,
}

async fn load_incident(state: &AppState, viewer: &Viewer, id: i64) -> Result<Loaded> {
    viewer.require()?;
    let incident = store_incidents::find(&state.db, id)
        .await?
        .ok_or(Error::NotFound)?;
    let user = viewer.require_in(&incident.plan_id)?;
    let plan = plan_of(state, &incident).await?;
    Ok(Loaded {
        username: user.actor.username.clone(),
        may_work: user.actor.may_work_incident(),
        may_lead: user.actor.may_lead_incident(),
        incident,
        plan,
    })
}

async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(plan_id): Path<String>,
) -> Result<Response> {
    let user = viewer.require()?;
    let plan = load(&state, &plan_id).await?;
    let data = list_view(
        &state,
        &viewer.lang,
        &plan,
        user.actor.may_lead_incident(),
        &OpenForm::default(),
        &[],
    )
    .await?;
    page(&state, &viewer, "incidents", data).map(IntoResponse::into_response)
}

/// The open-an-incident form as typed.
#[derive(Debug, Default, Clone)]
struct OpenForm {
    title: String,
    criterion: String,
    started: String,
    down: Vec<String>,
}

async fn list_view(
    state: &AppState,
    lang: &str,
    plan: &Plan,
    may_open: bool,
    form: &OpenForm,
    errors: &[(&str, String)],
) -> Result<Value> {
    let incidents: Vec<Value> = store_incidents::list(&state.db, plan.id.as_str())
        .await?
        .iter()
        .map(|i| {
            json!({
                "id": i.id,
                "title": i.title,
                "started": local(state, i.started_at, lang),
                "state_key": format!("incident.state.{}", i.state),
                "closed": i.state == store_incidents::CLOSED,
            })
        })
        .collect();
    let error = |field: &str| {
        errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.clone())
    };
    Ok(json!({
        "plan": {"id": plan.id, "name": plan.name},
        "incidents": incidents,
        "may_open": may_open,
        "form": {
            "title": form.title,
            "started": form.started,
            "criteria": plan.sections.activation_criteria.iter().map(|c| json!({"text": c, "selected": form.criterion == *c})).collect::<Vec<_>>(),
            "systems": by_name(plan.systems.iter()).into_iter().map(|s| json!({"id": s.id, "name": s.name, "checked": form.down.iter().any(|d| d == s.id.as_str())})).collect::<Vec<_>>(),
        },
        "title_error": error("title"),
        "started_error": error("started"),
        "down_error": error("down"),
        "error_count": errors.len(),
        "errors": errors.iter().map(|(f, m)| json!({"field": f, "message": m})).collect::<Vec<_>>(),
    }))
}

/// Opens an incident: the plan is activated.
async fn open(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(plan_id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response> {
    let user = viewer.require_that(|a| a.may_lead_incident())?;
    let draft = load(&state, &plan_id).await?;
    let f = Fields(pairs);
    let form = OpenForm {
        title: f.get("title").trim().to_string(),
        criterion: f.get("criterion").trim().to_string(),
        started: f.get("started").trim().to_string(),
        down: f.all("down"),
    };
    let t = |key: &str| state.templates.text(&viewer.lang, key);
    let mut errors: Vec<(&str, String)> = Vec::new();
    if form.title.is_empty() {
        errors.push(("title", t("problem.required")));
    }
    let now = state.clock.now();
    let started = match form.started.as_str() {
        "" => Some(now),
        text => NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
            .ok()
            .and_then(|at| crate::domain::drill::local_to_utc(at, state.clock.zone()).ok())
            .filter(|at| *at <= now + chrono::Duration::minutes(5)),
    };
    if started.is_none() {
        errors.push((
            "started",
            t("incident.bad_start").replace("{input}", &form.started),
        ));
    }
    // The incident works from the latest approved version, as the runbook does.
    let shown = state.runbook(&draft.id).await?.ok_or(Error::NotFound)?;
    for id in &form.down {
        if shown.plan.system(id).is_none() {
            errors.push(("down", t("incident.unknown_system").replace("{id}", id)));
        }
    }
    let Some(started) = started.filter(|_| errors.is_empty()) else {
        let data = list_view(&state, &viewer.lang, &draft, true, &form, &errors).await?;
        return page_with(
            &state,
            &viewer,
            StatusCode::UNPROCESSABLE_ENTITY,
            "incidents",
            data,
        );
    };
    let id = state
        .open_incident(store_incidents::NewIncident {
            plan_id: draft.id.to_string(),
            version: shown.version.as_ref().map(|v| v.number),
            title: form.title,
            criterion: form.criterion,
            started_at: started,
            opened_by: user.actor.username.clone(),
            down: form.down,
        })
        .await?;
    Ok(Redirect::to(&format!("/incidents/{id}")).into_response())
}
