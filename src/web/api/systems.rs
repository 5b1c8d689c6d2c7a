//! Systems: the list, one system, and saving one with the rules of the form.

use super::*;

/// One system section. On `PUT`, `id`, `last_reviewed` and `reviewed_by` are ignored and
/// `revision` must be the revision the edit started from. Texts hold no control characters
/// but tab, CR and LF; people, roles and systems named must exist in the plan.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = system_example)]
pub(super) struct SystemBody {
    #[serde(default)]
    id: String,
    #[schema(pattern = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F]*$")]
    name: String,
    #[serde(default)]
    #[schema(pattern = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F]*$")]
    description: String,
    owner: Option<String>,
    #[serde(default)]
    deputy: Option<String>,
    /// 1 (most critical) to 4.
    #[schema(minimum = 1, maximum = 4)]
    criticality: u8,
    /// Durations are written like `30m`, `4h`, `1h 30m`, `2d`, `1w`.
    #[serde(default)]
    rto: Option<String>,
    #[serde(default)]
    rpo: Option<String>,
    #[serde(default)]
    mtpd: Option<String>,
    #[serde(default)]
    depends_on: Vec<String>,
    #[serde(default)]
    supplier: Option<SupplierBody>,
    #[serde(default)]
    workaround: String,
    #[serde(default)]
    recovery_steps: Vec<StepBody>,
    #[serde(default)]
    verification: String,
    #[serde(default)]
    review_interval: Option<String>,
    #[serde(default)]
    impact: Vec<ImpactBody>,
    #[serde(default)]
    last_reviewed: Option<String>,
    #[serde(default)]
    reviewed_by: Option<String>,
    revision: i64,
}

/// A body for `PUT /plans/example-kommune/systems/ad` on a newly imported example plan.
pub(super) fn system_example() -> serde_json::Value {
    json!({
        "name": "Active Directory",
        "description": "Kommunens lokale Active Directory med fire domænecontrollere.",
        "owner": "sofie-andersen",
        "deputy": "jesper-moeller",
        "criticality": 1,
        "rto": "4h",
        "rpo": "1d",
        "mtpd": "1d",
        "depends_on": ["vmware", "dns-dhcp"],
        "workaround": "Indloggede brugere arbejder videre med cachede legitimationsoplysninger.",
        "recovery_steps": [{"text": "Fastslå omfanget.", "role": "driftstekniker", "duration": "10m"}],
        "verification": "Login lykkes for en testbruger i hver forvaltning.",
        "revision": 0
    })
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SupplierBody {
    name: String,
    #[serde(default)]
    contact: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    contract_restore: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct StepBody {
    text: String,
    role: String,
    duration: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ImpactBody {
    after: String,
    /// `minor`, `moderate`, `serious` or `unacceptable`.
    level: String,
    #[serde(default)]
    citizens: String,
    #[serde(default)]
    staff: String,
}

pub(super) fn text<T: ToString>(v: &Option<T>) -> Option<String> {
    v.as_ref().map(ToString::to_string)
}

pub(super) fn system_body(s: &System, revision: i64) -> SystemBody {
    SystemBody {
        id: s.id.to_string(),
        name: s.name.clone(),
        description: s.description.clone(),
        owner: text(&s.owner),
        deputy: text(&s.deputy),
        criticality: s.criticality.level(),
        rto: text(&s.rto),
        rpo: text(&s.rpo),
        mtpd: text(&s.mtpd),
        depends_on: s.depends_on.iter().map(ToString::to_string).collect(),
        supplier: s.supplier.as_ref().map(|sup| SupplierBody {
            name: sup.name.clone(),
            contact: sup.contact.clone(),
            phone: sup.phone.clone(),
            email: sup.email.clone(),
            contract_restore: text(&sup.contract_restore),
        }),
        workaround: s.workaround.clone(),
        recovery_steps: s
            .recovery_steps
            .iter()
            .map(|st| StepBody {
                text: st.text.clone(),
                role: st.role.to_string(),
                duration: st.duration.to_string(),
            })
            .collect(),
        verification: s.verification.clone(),
        review_interval: text(&s.review_interval),
        impact: s
            .impact
            .iter()
            .map(|row| ImpactBody {
                after: row.after.to_string(),
                level: row.level.as_str().to_string(),
                citizens: row.citizens.clone(),
                staff: row.staff.clone(),
            })
            .collect(),
        last_reviewed: text(&s.last_reviewed),
        reviewed_by: text(&s.reviewed_by),
        revision,
    }
}

/// The body as the form it would have been typed into, so both are checked the same way.
pub(super) fn as_form(b: &SystemBody) -> SystemForm {
    let supplier = b.supplier.as_ref();
    let sup = |f: fn(&SupplierBody) -> String| supplier.map(f).unwrap_or_default();
    SystemForm {
        name: b.name.clone(),
        description: b.description.clone(),
        owner: b.owner.clone().unwrap_or_default(),
        deputy: b.deputy.clone().unwrap_or_default(),
        criticality: b.criticality.to_string(),
        rto: b.rto.clone().unwrap_or_default(),
        rpo: b.rpo.clone().unwrap_or_default(),
        mtpd: b.mtpd.clone().unwrap_or_default(),
        depends_on: b.depends_on.join("\n"),
        supplier_name: sup(|s| s.name.clone()),
        supplier_contact: sup(|s| s.contact.clone()),
        supplier_phone: sup(|s| s.phone.clone()),
        supplier_email: sup(|s| s.email.clone()),
        supplier_contract_restore: sup(|s| s.contract_restore.clone().unwrap_or_default()),
        workaround: b.workaround.clone(),
        verification: b.verification.clone(),
        review_interval: b.review_interval.clone().unwrap_or_default(),
        steps: b
            .recovery_steps
            .iter()
            .map(|st| StepForm {
                text: st.text.clone(),
                role: st.role.clone(),
                duration: st.duration.clone(),
            })
            .collect(),
        impact: b
            .impact
            .iter()
            .map(|row| ImpactForm {
                after: row.after.clone(),
                level: row.level.clone(),
                citizens: row.citizens.clone(),
                staff: row.staff.clone(),
            })
            .collect(),
    }
}

/// A form field's name as a path in the JSON body.
pub(super) fn body_path(field: &str) -> String {
    for (prefix, list) in [("step-", "recovery_steps"), ("impact-", "impact")] {
        if let Some((index, name)) = field
            .strip_prefix(prefix)
            .and_then(|rest| rest.split_once('-'))
        {
            return format!("{list}[{index}].{name}");
        }
    }
    match field.strip_prefix("supplier_") {
        Some(name) => format!("supplier.{name}"),
        None => field.to_string(),
    }
}

pub(super) fn field_problems(state: &AppState, errors: &[FieldError]) -> Vec<FieldProblem> {
    errors
        .iter()
        .map(|e| FieldProblem {
            field: body_path(&e.field),
            problem: serde_json::to_value(&e.problem)
                .ok()
                .and_then(|v| {
                    v.get("problem")
                        .and_then(|p| p.as_str().map(str::to_string))
                })
                .unwrap_or_default(),
            message: crate::web::edit::problem_text(state, "en", &e.problem),
        })
        .collect()
}

#[utoipa::path(get, path = "/plans/{plan}/systems", tag = "systems",
    params(("plan" = String, Path, description = "Plan id", example = "example-kommune")),
    responses((status = 200, body = [SystemBody]), (status = 304, description = "Unchanged since the `ETag` sent in `If-None-Match`"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(super) async fn list_systems(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(plan_id): Path<String>,
) -> ApiResult<Response> {
    user(&viewer)?;
    let (plan, plan_state) = crate::web::pages::load_with_state(&state, &plan_id).await?;
    let revision = plan_state.revisions.revision.to_string();
    let tag = Tag::new(
        &state,
        &viewer,
        &["api-systems", plan.id.as_str(), &revision],
    );
    if let Some(not_modified) = tag.not_modified(&headers) {
        return Ok(not_modified);
    }
    // Serialised and compressed once per plan revision (every save raises it).
    const KEY: &str = "api:systems";
    let list = match state.plans.kept(&plan, KEY) {
        Some(list) => list,
        None => {
            let revisions = store::edits::system_revisions(&state.db, &plan.id).await?;
            let systems: Vec<SystemBody> = plan
                .systems
                .iter()
                .map(|s| system_body(s, revisions.get(s.id.as_str()).copied().unwrap_or(0)))
                .collect();
            state.plans.keep(&plan, KEY, encoded_json(&systems)?)
        }
    };
    Ok(tag.on(list.response(&headers, "application/json")))
}

/// A value serialised, in each encoding.
pub(super) fn encoded_json(value: &impl Serialize) -> ApiResult<Encoded> {
    let bytes = serde_json::to_vec(value).map_err(|e| {
        ApiError::from(crate::web::Error::Internal(format!(
            "serialising JSON: {e}"
        )))
    })?;
    Ok(Encoded::new(bytes))
}

#[utoipa::path(get, path = "/plans/{plan}/systems/{system}", tag = "systems",
    params(("plan" = String, Path, description = "Plan id", example = "example-kommune"), ("system" = String, Path, description = "System id", example = "ad")),
    responses((status = 200, body = SystemBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(super) async fn get_system(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((plan_id, system_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    user(&viewer)?;
    let id = PlanId::parse(&plan_id).map_err(|_| crate::web::Error::NotFound)?;
    let (system, revision) = store::edits::load_system(&state.db, &id, &system_id)
        .await?
        .ok_or(crate::web::Error::NotFound)?;
    Ok(axum::Json(system_body(&system, revision)).into_response())
}

#[utoipa::path(put, path = "/plans/{plan}/systems/{system}", tag = "systems",
    params(("plan" = String, Path, description = "Plan id", example = "example-kommune"), ("system" = String, Path, description = "System id", example = "ad")),
    request_body = SystemBody,
    responses(
        (status = 200, description = "Saved (or nothing differed)", body = SystemBody),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Not owner, deputy, coordinator or administrator", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Saved by someone else since `revision`: nothing written; `current` holds what is stored", body = ConflictBody),
        (status = 413, description = "Body over 2 MB", body = ErrorBody),
        (status = 415, description = "Not application/json", body = ErrorBody),
        (status = 422, description = "Invalid values, named in `fields`", body = ErrorBody),
        (status = 503, description = "The database is unreachable, full, read-only or busy: nothing was written", body = ErrorBody),
    ))]
pub(super) async fn put_system(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((plan_id, system_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<SystemBody>,
) -> ApiResult<Response> {
    let signed_in = user(&viewer)?;
    let plan = plan(&state, &plan_id).await?;
    let (system, _) = store::edits::load_system(&state.db, &plan.id, &system_id)
        .await?
        .ok_or(crate::web::Error::NotFound)?;
    if !signed_in.actor.may_edit_system(&system) {
        return Err(crate::web::Error::Forbidden.into());
    }
    let edited = as_form(&body).apply(&system, &plan).map_err(|errors| {
        ApiError::with_fields(
            StatusCode::UNPROCESSABLE_ENTITY,
            counted(errors.len(), "field is invalid", "fields are invalid"),
            field_problems(&state, &errors),
        )
    })?;
    match state
        .save_system(&plan.id, &signed_in.actor.username, &edited, body.revision)
        .await?
    {
        Edited::Done { revision, .. } => Ok(axum::Json(system_body(&edited, revision)).into_response()),
        Edited::Conflict { current, revision } => Ok((
            StatusCode::CONFLICT,
            axum::Json(ConflictBody {
                error: format!(
                    "the system was saved at revision {revision} since revision {}: nothing was written",
                    body.revision
                ),
                current: system_body(&current, revision),
            }),
        )
            .into_response()),
    }
}
