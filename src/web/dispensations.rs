//! The plan's register of dispensations (`/plans/{plan}/dispensations`): every dispensation
//! with where it stands today, the form to ask for one (of a warning the analysis makes now),
//! and the approver's decision and the requester's withdrawal on each.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::NaiveDate;
use serde_json::{Value, json};

use super::auth::Viewer;
use super::edit::Fields;
use super::pages::{finding_view, load, page};
use super::{AppState, Error, Result, i18n};
use crate::domain::dispensation::{self, Dispensation, State as DState, Subject};
use crate::domain::{Code, Finding, Plan, Severity, SystemId};
use crate::render::findings::Words;
use crate::store::dispensations::NewRequest;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/plans/{plan}/dispensations", get(list).post(ask))
        .route("/plans/{plan}/dispensations/{id}/decision", post(decide))
        .route("/plans/{plan}/dispensations/{id}/withdraw", post(withdraw))
}

/// A finding as the form's choice names it: `code|system,system`.
fn choice(f: &Finding) -> String {
    let systems: Vec<&str> = f.systems.iter().map(SystemId::as_str).collect();
    format!("{}|{}", f.code.as_str(), systems.join(","))
}

fn subject_of(choice: &str) -> Option<Subject> {
    let (code, systems) = choice.split_once('|')?;
    Some(Subject::Finding {
        code: Code::parse(code)?,
        systems: systems
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| SystemId::parse(s).ok())
            .collect::<Option<Vec<_>>>()?,
    })
}

/// What a dispensation is from, in the reader's words: the finding's text while the analysis
/// still makes it.
fn subject_text(words: &Words, findings: &[Finding], d: &Dispensation) -> String {
    match &d.subject {
        Subject::Finding { code, systems } => findings
            .iter()
            .find(|f| f.code == *code && f.systems == *systems)
            .map(|f| words.finding(f))
            .unwrap_or_else(|| {
                let names: Vec<String> = systems.iter().map(|s| words.system(s.as_str())).collect();
                format!("{code}: {}", names.join(", "))
            }),
        Subject::Requirement { check } => check.clone(),
        Subject::Policy { text } => text.clone(),
    }
}

async fn render(
    state: &AppState,
    viewer: &Viewer,
    plan: &Arc<Plan>,
    status: StatusCode,
    error: Option<&str>,
) -> Result<Response> {
    let user = viewer.require()?;
    let lang = viewer.lang.as_str();
    let t = |key: &str| state.templates.text(lang, key);
    let today = state.clock.today();
    let words = Words::new(&state.templates.locales, lang, Some(plan));
    let findings = state.app.findings(plan).await?;
    let findings = &findings.findings;
    let all = crate::store::dispensations::of_plan(&state.db, plan.id.as_str()).await?;
    let names = state.names().await?;
    let rows: Vec<Value> = all
        .iter()
        .rev()
        .map(|d| {
            let st = d.state(today);
            json!({
                "id": d.id,
                "subject": subject_text(&words, findings, d),
                "state": st.as_str(),
                "state_said": t(&format!("dispensation.state.{}", st.as_str())),
                "until": d.expires_on().map(|u| i18n::date(u, lang)),
                "asked_until": i18n::date(d.requested_until, lang),
                "asked_until_iso": d.requested_until.to_string(),
                "requested_by": names.of(&d.requested_by),
                "justification": d.justification,
                "compensating": d.compensating,
                "solution": d.solution,
                "decisions": d.decisions.iter().map(|x| json!({
                    "by": names.of(&x.by),
                    "on": i18n::date(x.on, lang),
                    "approved": x.approved,
                    "until": x.expires_on.map(|u| i18n::date(u, lang)),
                    "comment": x.comment,
                })).collect::<Vec<_>>(),
                "not_needed": d.no_longer_needed(findings, today),
                "may_decide": user.actor.may_approve() && matches!(st, DState::Requested | DState::Approved | DState::Expired),
                "may_withdraw": dispensation::may_withdraw(&user.actor, d) && matches!(st, DState::Requested | DState::Approved),
            })
        })
        .collect();
    let choices: Vec<Value> = findings
        .iter()
        .filter(|f| f.severity() == Severity::Warning)
        .filter(|f| {
            subject_of(&choice(f)).is_some_and(|s| dispensation::may_request(&user.actor, plan, &s))
        })
        .map(|f| json!({"value": choice(f), "view": finding_view(&words, plan, f, true)}))
        .collect();
    let latest = today
        .checked_add_months(chrono::Months::new(dispensation::DEFAULT_MAX_MONTHS))
        .unwrap_or(today);
    let mut response = page(
        state,
        viewer,
        "dispensations",
        json!({
            "plan": {"id": plan.id, "name": plan.name},
            "dispensations": rows,
            "choices": choices,
            "error": error,
            "min": (today + chrono::Duration::days(1)).to_string(),
            "max": latest.to_string(),
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
    viewer.require()?;
    let plan = load(&state, &plan).await?;
    render(&state, &viewer, &plan, StatusCode::OK, None).await
}

fn date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()
}

/// The answer to an act: back to the register, or the register with the reason it was refused.
async fn after(
    state: &AppState,
    viewer: &Viewer,
    plan: &Arc<Plan>,
    done: crate::app::Result<()>,
) -> Result<Response> {
    match done {
        Ok(()) => Ok(Redirect::to(&format!("/plans/{}/dispensations", plan.id)).into_response()),
        Err(crate::app::Error::Invalid(key)) => {
            render(
                state,
                viewer,
                plan,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(key),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

async fn ask(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(plan): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response> {
    let user = viewer.require()?;
    let plan = load(&state, &plan).await?;
    let f = Fields(pairs);
    let Some(subject) = subject_of(&f.get("finding")) else {
        return after(
            &state,
            &viewer,
            &plan,
            Err(crate::app::Error::Invalid("dispensation.empty")),
        )
        .await;
    };
    let Some(until) = date(&f.get("until")) else {
        return after(
            &state,
            &viewer,
            &plan,
            Err(crate::app::Error::Invalid("dispensation.expiry_passed")),
        )
        .await;
    };
    let new = NewRequest {
        plan_id: plan.id.to_string(),
        subject,
        justification: f.get("justification").trim().to_string(),
        compensating: f.get("compensating").trim().to_string(),
        consequence: f.get("consequence").trim().to_string(),
        solution: f.get("solution").trim().to_string(),
        solution_on: date(&f.get("solution_on")),
        requested_until: until,
        requested_by: user.actor.username.clone(),
    };
    let done = state
        .app
        .request_dispensation(&plan, &user.actor, new)
        .await
        .map(|_| ());
    after(&state, &viewer, &plan, done).await
}

async fn decide(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((plan, id)): Path<(String, i64)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response> {
    let user = viewer.require()?;
    let plan = load(&state, &plan).await?;
    if !user.actor.may_approve() {
        return Err(Error::Forbidden);
    }
    let f = Fields(pairs);
    let until = if f.get("decision") == "approve" {
        match date(&f.get("until")) {
            Some(until) => Some(until),
            None => {
                return after(
                    &state,
                    &viewer,
                    &plan,
                    Err(crate::app::Error::Invalid("dispensation.expiry_passed")),
                )
                .await;
            }
        }
    } else {
        None
    };
    let done = state
        .app
        .decide_dispensation(&plan, &user.actor, id, until, &f.get("comment"))
        .await
        .map(|_| ());
    after(&state, &viewer, &plan, done).await
}

async fn withdraw(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((plan, id)): Path<(String, i64)>,
) -> Result<Response> {
    let user = viewer.require()?;
    let plan = load(&state, &plan).await?;
    let done = state
        .app
        .withdraw_dispensation(&plan, &user.actor, id)
        .await
        .map(|_| ());
    after(&state, &viewer, &plan, done).await
}
