//! Plans: the list, one plan, its people, its versions and approval, the diff between
//! versions and the findings.

use super::*;
use crate::render::findings::Words;

/// A plan without its content.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct PlanSummary {
    id: String,
    name: String,
    organisation: String,
}

#[utoipa::path(get, path = "/plans", tag = "plans",
    responses((status = 200, body = [PlanSummary]), (status = 401, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(super) async fn list_plans(
    State(state): State<AppState>,
    viewer: Viewer,
) -> ApiResult<Response> {
    let user = user(&viewer)?;
    let plans: Vec<PlanSummary> = store::plan_summaries(&state.db)
        .await?
        .into_iter()
        .filter(|p| user.reads_plan(p.id.as_str()))
        .map(|p| PlanSummary {
            id: p.id.to_string(),
            name: p.name,
            organisation: p.organisation,
        })
        .collect();
    Ok(axum::Json(plans).into_response())
}

/// The plan-level sections and settings.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct PlanView {
    id: String,
    name: String,
    organisation: String,
    owner_role: String,
    approver_role: String,
    review_interval: String,
    purpose: String,
    scope: String,
    audience: String,
    activation_criteria: Vec<String>,
    stand_down_criteria: Vec<String>,
    call_tree: Vec<CallTreeView>,
    channels: Vec<ChannelView>,
    resources: String,
    backups: String,
    return_to_normal: String,
    incident_handling: String,
    roles: Vec<RoleView>,
    /// Raised by every change anywhere in the plan.
    revision: i64,
    /// The latest approved version, if any.
    approved_version: Option<i32>,
    /// Whether the draft differs from the latest approved version.
    draft_changed: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub(super) struct CallTreeView {
    person: String,
    called_by: Option<String>,
    note: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ChannelView {
    name: String,
    purpose: String,
    detail: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub(super) struct RoleView {
    id: String,
    name: String,
    responsibilities: String,
}

#[utoipa::path(get, path = "/plans/{plan}", tag = "plans",
    params(("plan" = String, Path, description = "Plan id", example = "example-kommune")),
    responses((status = 200, body = PlanView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(super) async fn get_plan(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(plan_id): Path<String>,
) -> ApiResult<Response> {
    user(&viewer)?;
    let plan = plan(&state, &plan_id).await?;
    let revision = store::plan_revisions(&state.db, &plan.id)
        .await?
        .map_or(0, |r| r.revision);
    let latest = store::edits::versions(&state.db, &plan.id)
        .await?
        .into_iter()
        .next();
    let s = &plan.sections;
    Ok(axum::Json(PlanView {
        id: plan.id.to_string(),
        name: plan.name.clone(),
        organisation: plan.organisation.clone(),
        owner_role: plan.owner_role.to_string(),
        approver_role: plan.approver_role.to_string(),
        review_interval: plan.review_interval.to_string(),
        purpose: s.purpose.clone(),
        scope: s.scope.clone(),
        audience: s.audience.clone(),
        activation_criteria: s.activation_criteria.clone(),
        stand_down_criteria: s.stand_down_criteria.clone(),
        call_tree: plan
            .call_tree
            .iter()
            .map(|c| CallTreeView {
                person: c.person.to_string(),
                called_by: c.called_by.as_ref().map(ToString::to_string),
                note: c.note.clone(),
            })
            .collect(),
        channels: plan
            .channels
            .iter()
            .map(|c| ChannelView {
                name: c.name.clone(),
                purpose: c.purpose.clone(),
                detail: c.detail.clone(),
            })
            .collect(),
        resources: s.resources.clone(),
        backups: s.backups.clone(),
        return_to_normal: s.return_to_normal.clone(),
        incident_handling: s.incident_handling.clone(),
        roles: plan
            .roles
            .iter()
            .map(|r| RoleView {
                id: r.id.to_string(),
                name: r.name.clone(),
                responsibilities: r.responsibilities.clone(),
            })
            .collect(),
        revision,
        approved_version: latest.as_ref().map(|v| v.number),
        draft_changed: latest.is_none_or(|v| v.plan_revision != revision),
    })
    .into_response())
}

#[derive(Debug, Serialize, ToSchema)]
pub(super) struct PersonView {
    id: String,
    name: String,
    title: String,
    email: String,
    phone: String,
    roles: Vec<String>,
}

#[utoipa::path(get, path = "/plans/{plan}/people", tag = "people",
    params(("plan" = String, Path, description = "Plan id", example = "example-kommune")),
    responses((status = 200, body = [PersonView]), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(super) async fn list_people(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(plan_id): Path<String>,
) -> ApiResult<Response> {
    user(&viewer)?;
    let plan = plan(&state, &plan_id).await?;
    let people: Vec<PersonView> = plan
        .people
        .iter()
        .map(|p| PersonView {
            id: p.id.to_string(),
            name: p.name.clone(),
            title: p.title.clone(),
            email: p.email.clone(),
            phone: p.phone.clone(),
            roles: p.roles.iter().map(ToString::to_string).collect(),
        })
        .collect();
    Ok(axum::Json(people).into_response())
}

#[derive(Debug, Serialize, ToSchema)]
pub(super) struct VersionView {
    number: i32,
    approved_by: String,
    /// RFC 3339.
    approved_at: String,
    comment: String,
}

pub(super) fn version_view(v: &store::edits::VersionSummary) -> VersionView {
    VersionView {
        number: v.number,
        approved_by: v.approved_by.clone(),
        approved_at: v.approved_at.to_rfc3339(),
        comment: v.comment.clone(),
    }
}

#[utoipa::path(get, path = "/plans/{plan}/versions", tag = "versions",
    params(("plan" = String, Path, description = "Plan id", example = "example-kommune")),
    responses((status = 200, description = "Newest first", body = [VersionView]), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(super) async fn list_versions(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(plan_id): Path<String>,
) -> ApiResult<Response> {
    user(&viewer)?;
    let plan = plan(&state, &plan_id).await?;
    let versions: Vec<VersionView> = store::edits::versions(&state.db, &plan.id)
        .await?
        .iter()
        .map(version_view)
        .collect();
    Ok(axum::Json(versions).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"comment": "Godkendt efter årlig gennemgang"}))]
pub(super) struct ApproveBody {
    /// Free text: no control characters but tab, CR and LF.
    #[serde(default)]
    #[schema(pattern = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F]*$")]
    comment: String,
}

#[utoipa::path(post, path = "/plans/{plan}/versions", tag = "versions",
    params(("plan" = String, Path, description = "Plan id", example = "example-kommune")),
    request_body = ApproveBody,
    responses(
        (status = 201, description = "The draft is approved as this version", body = VersionView),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Only the approver role approves", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "The draft is the latest approved version already", body = ErrorBody),
        (status = 413, description = "Body over 2 MB", body = ErrorBody),
        (status = 415, description = "Not application/json", body = ErrorBody),
        (status = 422, description = "A field of the wrong type or a control character in the comment", body = ErrorBody),
        (status = 503, description = "The database is unreachable, full, read-only or busy: nothing was written", body = ErrorBody),
    ))]
pub(super) async fn approve(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(plan_id): Path<String>,
    ApiJson(body): ApiJson<ApproveBody>,
) -> ApiResult<Response> {
    let signed_in = viewer.require_that(|a| a.may_approve())?;
    let id = PlanId::parse(&plan_id).map_err(|_| crate::web::Error::NotFound)?;
    match state
        .approve_draft(&id, &signed_in.actor.username, body.comment.trim())
        .await?
    {
        Approved::Version(v) => {
            Ok((StatusCode::CREATED, axum::Json(version_view(&v))).into_response())
        }
        Approved::NothingNew => Err(ApiError::new(
            StatusCode::CONFLICT,
            "the draft is the latest approved version already",
        )),
        Approved::Gone => Err(crate::web::Error::NotFound.into()),
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct DiffQuery {
    /// `draft` or a version number.
    #[param(pattern = "^(draft|[0-9]{1,9})$", example = "draft")]
    from: String,
    /// `draft` or a version number.
    #[param(pattern = "^(draft|[0-9]{1,9})$", example = "draft")]
    to: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ChangeView {
    /// `plan`, `role`, `person` or `system`.
    kind: String,
    /// The role, person or system id; empty for the plan.
    id: String,
    field: String,
    before: String,
    after: String,
}

#[utoipa::path(get, path = "/plans/{plan}/diff", tag = "versions",
    params(("plan" = String, Path, description = "Plan id", example = "example-kommune"), DiffQuery),
    responses((status = 200, body = [ChangeView]), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(super) async fn diff(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(plan_id): Path<String>,
    query: Result<Query<DiffQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    user(&viewer)?;
    let Query(q) = query.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.body_text()))?;
    let plan = plan(&state, &plan_id).await?;
    let side = |text: &str| -> ApiResult<Option<i32>> {
        if text == "draft" {
            return Ok(None);
        }
        text.parse().map(Some).map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("{text:?}: expected draft or a version number"),
            )
        })
    };
    let mut sides = Vec::new();
    for v in [side(&q.from)?, side(&q.to)?] {
        sides.push(match v {
            None => (*plan).clone(),
            Some(n) => store::edits::version_plan(&state.db, &plan.id, n)
                .await?
                .map(|(_, p)| p)
                .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("no version {n}")))?,
        });
    }
    let changes: Vec<ChangeView> = plan_changes(&sides[0], &sides[1])
        .into_iter()
        .map(|c| {
            let (kind, id) = match c.subject {
                Subject::Plan => ("plan", String::new()),
                Subject::Role(id) => ("role", id),
                Subject::Person(id) => ("person", id),
                Subject::System(id) => ("system", id),
            };
            ChangeView {
                kind: kind.to_string(),
                id,
                field: c.field.to_string(),
                before: c.before,
                after: c.after,
            }
        })
        .collect();
    Ok(axum::Json(changes).into_response())
}

#[derive(Debug, Serialize, ToSchema)]
pub(super) struct FindingView {
    /// A stable code such as `rto-inversion`.
    code: String,
    /// `error` or `warning`.
    severity: String,
    systems: Vec<String>,
    field: Option<String>,
    /// What the finding says: in English, or in the language `Accept-Language` asks for.
    message: String,
    /// The values the message names (durations as `4h`, dates as `2026-06-09`, systems by id),
    /// by name; absent where the finding has none.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    #[schema(value_type = Object)]
    values: std::collections::BTreeMap<&'static str, analysis::Arg>,
    /// The approved dispensation that accepts this warning, until the last day it holds;
    /// `null` when none does.
    accepted: Option<AcceptedView>,
}

/// A finding accepted by a dispensation.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct AcceptedView {
    /// The dispensation's id.
    #[schema(example = 4)]
    dispensation: i64,
    /// The last day it holds.
    #[schema(value_type = String, format = Date, example = "2027-06-01")]
    until: chrono::NaiveDate,
}

#[utoipa::path(get, path = "/plans/{plan}/findings", tag = "findings",
    params(("plan" = String, Path, description = "Plan id", example = "example-kommune")),
    responses((status = 200, body = [FindingView]), (status = 304, description = "Unchanged since the `ETag` sent in `If-None-Match`"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(super) async fn findings(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(plan_id): Path<String>,
) -> ApiResult<Response> {
    user(&viewer)?;
    let (plan, plan_state) = crate::web::pages::load_with_state(&state, &plan_id).await?;
    let coverage = state
        .findings_stamped(&plan, plan_state.coverage_stamp())
        .await?;
    let revision = plan_state.revisions.revision.to_string();
    let lang = asked_language(&headers);
    let tag = Tag::new(
        &state,
        &viewer,
        &[
            "api-findings",
            lang,
            plan.id.as_str(),
            &revision,
            &coverage.key,
        ],
    );
    if let Some(not_modified) = tag.not_modified(&headers) {
        return Ok(not_modified);
    }
    let key = format!("api:findings|{lang}|{}", coverage.key);
    let list = match state.plans.kept(&plan, &key) {
        Some(list) => list,
        None => {
            let words = Words::new(&state.templates.locales, lang, Some(&plan));
            let list: Vec<FindingView> = coverage
                .findings
                .iter()
                .map(|f| FindingView {
                    code: f.code.as_str().to_string(),
                    severity: match f.severity() {
                        analysis::Severity::Error => "error".into(),
                        analysis::Severity::Warning => "warning".into(),
                    },
                    systems: f.systems.iter().map(ToString::to_string).collect(),
                    field: f.field.clone(),
                    message: match lang {
                        "en" => f.message.clone(),
                        _ => words.finding(f),
                    },
                    values: f.said.args.clone(),
                    accepted: f.accepted().map(|a| AcceptedView {
                        dispensation: a.dispensation,
                        until: a.until,
                    }),
                })
                .collect();
            state.plans.keep(&plan, &key, encoded_json(&list)?)
        }
    };
    let mut response = tag.on(list.response(&headers, "application/json"));
    response.headers_mut().insert(
        header::VARY,
        header::HeaderValue::from_static("accept-encoding, accept-language"),
    );
    Ok(response)
}
