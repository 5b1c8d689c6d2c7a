//! Dispensations in the API: the register, one dispensation with its decisions, a request (by a
//! system owner for their systems' warnings, or the coordinator for anything), and the
//! approver's decision. The same rules and the same transactions as the pages.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ApiError, ApiJson, ApiResult, ErrorBody, plan, user};
use crate::domain::dispensation::{Dispensation, Subject};
use crate::store::dispensations::NewRequest;
use crate::web::AppState;
use crate::web::auth::Viewer;

/// One decision of the approver.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct DecisionView {
    /// The approver's username.
    by: String,
    #[schema(value_type = String, format = Date)]
    on: NaiveDate,
    approved: bool,
    /// The last day an approval holds; absent for a rejection.
    #[schema(value_type = Option<String>, format = Date)]
    expires_on: Option<NaiveDate>,
    comment: String,
}

/// A dispensation: what it is from, the request, and its decisions in the order made.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct DispensationView {
    #[schema(example = 4)]
    id: i64,
    /// `{"kind": "finding", "code": "supplier-restore-exceeds-rto", "systems": ["esdh"]}`,
    /// `{"kind": "requirement", "check": "tests"}` or `{"kind": "policy", "text": "§8: …"}`.
    #[schema(value_type = Object)]
    subject: Subject,
    /// Where it stands today: `requested`, `approved`, `rejected`, `withdrawn` or `expired`.
    state: String,
    /// The last day it holds, while approved (or since expired).
    #[schema(value_type = Option<String>, format = Date)]
    expires_on: Option<NaiveDate>,
    justification: String,
    compensating: String,
    consequence: String,
    solution: String,
    #[schema(value_type = Option<String>, format = Date)]
    solution_on: Option<NaiveDate>,
    #[schema(value_type = String, format = Date)]
    requested_until: NaiveDate,
    requested_by: String,
    #[schema(value_type = String, format = Date)]
    requested_on: NaiveDate,
    decisions: Vec<DecisionView>,
    #[schema(value_type = Option<String>, format = Date)]
    withdrawn_on: Option<NaiveDate>,
    /// Approved, and the finding it is from is no longer made: it can be closed.
    no_longer_needed: bool,
}

fn view(
    d: &Dispensation,
    today: NaiveDate,
    findings: &[crate::domain::Finding],
) -> DispensationView {
    DispensationView {
        id: d.id,
        subject: d.subject.clone(),
        state: d.state(today).as_str().to_string(),
        expires_on: d.expires_on(),
        justification: d.justification.clone(),
        compensating: d.compensating.clone(),
        consequence: d.consequence.clone(),
        solution: d.solution.clone(),
        solution_on: d.solution_on,
        requested_until: d.requested_until,
        requested_by: d.requested_by.clone(),
        requested_on: d.requested_on,
        decisions: d
            .decisions
            .iter()
            .map(|x| DecisionView {
                by: x.by.clone(),
                on: x.on,
                approved: x.approved,
                expires_on: x.expires_on,
                comment: x.comment.clone(),
            })
            .collect(),
        withdrawn_on: d.withdrawn_on,
        no_longer_needed: d.no_longer_needed(findings, today),
    }
}

/// A refusal by the application, in English: 403, 404, or 422 with what was wrong.
fn refused(state: &AppState, e: crate::app::Error, months: u32) -> ApiError {
    match e {
        crate::app::Error::Invalid(key) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            state
                .templates
                .text("en", key)
                .replace("{months}", &months.to_string()),
        ),
        other => other.into(),
    }
}

#[utoipa::path(get, path = "/plans/{plan}/dispensations", tag = "dispensations",
    params(("plan" = String, Path, description = "Plan id", example = "example-kommune")),
    responses((status = 200, body = [DispensationView]), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(super) async fn list_dispensations(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(plan_id): Path<String>,
) -> ApiResult<Response> {
    user(&viewer)?;
    let plan = plan(&state, &plan_id).await?;
    let findings = state.app.findings(&plan).await?;
    let today = state.clock.today();
    let all = crate::store::dispensations::of_plan(&state.db, plan.id.as_str()).await?;
    let list: Vec<DispensationView> = all
        .iter()
        .map(|d| view(d, today, &findings.findings))
        .collect();
    Ok(axum::Json(list).into_response())
}

#[utoipa::path(get, path = "/plans/{plan}/dispensations/{id}", tag = "dispensations",
    params(("plan" = String, Path, description = "Plan id", example = "example-kommune"), ("id" = i64, Path, description = "Dispensation id", example = 1)),
    responses((status = 200, body = DispensationView), (status = 400, description = "An id that is not a number", body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(super) async fn get_dispensation(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((plan_id, id)): Path<(String, i64)>,
) -> ApiResult<Response> {
    user(&viewer)?;
    let plan = plan(&state, &plan_id).await?;
    let d = state.app.dispensation(&plan, id).await?;
    let findings = state.app.findings(&plan).await?;
    Ok(axum::Json(view(&d, state.clock.today(), &findings.findings)).into_response())
}

/// A request for a dispensation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "subject": {"kind": "finding", "code": "not-exercised", "systems": ["vmware"]},
    "justification": "Øvelsen er flyttet til marts",
    "compensating": "Gendannelsen testes teknisk hver måned",
    "until": "2027-03-31"
}))]
pub(super) struct RequestBody {
    /// What it is from: `{"kind": "finding", "code": …, "systems": […]}` (a warning the
    /// analysis makes), `{"kind": "requirement", "check": "tests"}` or `{"kind": "policy",
    /// "text": …}` (the coordinator only).
    #[schema(value_type = Object)]
    subject: Subject,
    justification: String,
    #[serde(default)]
    compensating: String,
    #[serde(default)]
    consequence: String,
    #[serde(default)]
    solution: String,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    solution_on: Option<NaiveDate>,
    /// The last day it is asked to hold: after today, at most the plan's
    /// `dispensation_max_months` ahead.
    #[schema(value_type = String, format = Date)]
    until: NaiveDate,
}

#[utoipa::path(post, path = "/plans/{plan}/dispensations", tag = "dispensations",
    params(("plan" = String, Path, description = "Plan id", example = "example-kommune")),
    request_body = RequestBody,
    responses(
        (status = 201, description = "Requested; the approvers are mailed", body = DispensationView),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A system owner asks only for their own systems; policy and requirement subjects are the coordinator's", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 413, description = "Body over 2 MB", body = ErrorBody),
        (status = 415, description = "Not application/json", body = ErrorBody),
        (status = 422, description = "An error cannot be dispensed, an unknown system, an empty justification, or an expiry not allowed", body = ErrorBody),
        (status = 503, description = "The database is unreachable, full, read-only or busy: nothing was written", body = ErrorBody),
    ))]
pub(super) async fn request_dispensation(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(plan_id): Path<String>,
    ApiJson(body): ApiJson<RequestBody>,
) -> ApiResult<Response> {
    let signed_in = user(&viewer)?;
    let plan = plan(&state, &plan_id).await?;
    let new = NewRequest {
        plan_id: plan.id.to_string(),
        subject: body.subject,
        justification: body.justification.trim().to_string(),
        compensating: body.compensating.trim().to_string(),
        consequence: body.consequence.trim().to_string(),
        solution: body.solution.trim().to_string(),
        solution_on: body.solution_on,
        requested_until: body.until,
        requested_by: signed_in.actor.username.clone(),
    };
    let months = plan.dispensation_max_months;
    let id = state
        .app
        .request_dispensation(&plan, &signed_in.actor, new)
        .await
        .map_err(|e| refused(&state, e, months))?;
    let d = state.app.dispensation(&plan, id).await?;
    let findings = state.app.findings(&plan).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(view(&d, state.clock.today(), &findings.findings)),
    )
        .into_response())
}

/// The approver's decision.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"approve": true, "until": "2027-03-31", "comment": "Til øvelsen i marts"}))]
pub(super) struct DecisionBody {
    /// Approve (or renew) until `until`, or reject.
    approve: bool,
    /// The last day an approval holds; required to approve.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    until: Option<NaiveDate>,
    #[serde(default)]
    comment: String,
}

#[utoipa::path(post, path = "/plans/{plan}/dispensations/{id}/decision", tag = "dispensations",
    params(("plan" = String, Path, description = "Plan id", example = "example-kommune"), ("id" = i64, Path, description = "Dispensation id", example = 1)),
    request_body = DecisionBody,
    responses(
        (status = 200, description = "Decided; the requester and the owners concerned are mailed", body = DispensationView),
        (status = 400, description = "Malformed JSON, or an id that is not a number", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Only the approver decides", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 413, description = "Body over 2 MB", body = ErrorBody),
        (status = 415, description = "Not application/json", body = ErrorBody),
        (status = 422, description = "No `until` to approve, an expiry not allowed, or a dispensation withdrawn or rejected", body = ErrorBody),
        (status = 503, description = "The database is unreachable, full, read-only or busy: nothing was written", body = ErrorBody),
    ))]
pub(super) async fn decide_dispensation(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((plan_id, id)): Path<(String, i64)>,
    ApiJson(body): ApiJson<DecisionBody>,
) -> ApiResult<Response> {
    let signed_in = viewer.require_that(|a| a.may_approve())?;
    let plan = plan(&state, &plan_id).await?;
    let months = plan.dispensation_max_months;
    let until = match (body.approve, body.until) {
        (true, None) => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "until: required to approve",
            ));
        }
        (true, until) => until,
        (false, _) => None,
    };
    let d = state
        .app
        .decide_dispensation(&plan, &signed_in.actor, id, until, &body.comment)
        .await
        .map_err(|e| refused(&state, e, months))?;
    let findings = state.app.findings(&plan).await?;
    Ok(axum::Json(view(&d, state.clock.today(), &findings.findings)).into_response())
}
