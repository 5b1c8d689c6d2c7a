//! The JSON API under `/api/v1`: plans, systems, people, versions and findings, with the same
//! rules as the pages. A request is signed in by the session cookie (then state-changing requests
//! need the `X-CSRF-Token` header) or by `Authorization: Bearer <token>`. Errors are JSON
//! `{"error": "…"}` with a 4xx status; the OpenAPI document is at `/api/v1/openapi.json`.

use crate::app::editing::Edited;
use axum::Router;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use super::AppState;
use super::auth::{SignedIn, Viewer};
use super::conditional::Tag;
use super::encoded::Encoded;
use crate::domain::analysis;
use crate::domain::diff::{Subject, plan_changes};
use crate::domain::edit::{FieldError, ImpactForm, StepForm, SystemForm};
use crate::domain::{Plan, PlanId, System};
use crate::store::{self, edits::Approved};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi))
        .route("/plans", get(list_plans))
        .route("/plans/{plan}", get(get_plan))
        .route("/plans/{plan}/systems", get(list_systems))
        .route(
            "/plans/{plan}/systems/{system}",
            get(get_system).put(put_system),
        )
        .route("/plans/{plan}/people", get(list_people))
        .route("/plans/{plan}/versions", get(list_versions).post(approve))
        .route("/plans/{plan}/diff", get(diff))
        .route("/plans/{plan}/findings", get(findings))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "no such API route") })
}

#[derive(OpenApi)]
#[openapi(
    info(title = "beredskab API", version = "1"),
    servers((url = "/api/v1")),
    paths(
        list_plans, get_plan, list_systems, get_system, put_system, list_people, list_versions,
        approve, diff, findings
    ),
    components(schemas(ErrorBody, FieldProblem, ConflictBody)),
    modifiers(&BearerAuth),
    security(("bearer" = []), ("session" = []))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A personal API token from the account page."))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(utoipa::openapi::security::ApiKey::Cookie(
                utoipa::openapi::security::ApiKeyValue::with_description(
                    "beredskab_session",
                    "The browser session; state-changing requests also need the X-CSRF-Token header.",
                ),
            )),
        );
    }
}

/// The OpenAPI document of this API.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

async fn openapi() -> Response {
    axum::Json(openapi_document()).into_response()
}

/// An error: its message, and for invalid input the problem of each field.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldProblem>,
}

/// A save refused because someone saved first: nothing was written.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConflictBody {
    pub error: String,
    /// The system as it is stored now, with its revision: send the edit again on top of it.
    current: SystemBody,
}

/// What is wrong with one field of a request body.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldProblem {
    /// The field as a path in the body: `rto`, `recovery_steps[1].duration`.
    pub field: String,
    /// `required`, `duration`, `unknown_system`, …
    pub problem: String,
    /// The problem in English.
    pub message: String,
}

struct ApiError {
    status: StatusCode,
    body: ErrorBody,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self::with_fields(status, message, Vec::new())
    }

    /// 422 and the like: the message and the problem of each field.
    fn with_fields(
        status: StatusCode,
        message: impl Into<String>,
        fields: Vec<FieldProblem>,
    ) -> Self {
        ApiError {
            status,
            body: ErrorBody {
                error: message.into(),
                fields,
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

impl From<super::Error> for ApiError {
    fn from(e: super::Error) -> Self {
        use super::Error as E;
        match e {
            E::NotFound => ApiError::new(StatusCode::NOT_FOUND, "not found"),
            E::LoginRequired { .. } => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "sign in, or send Authorization: Bearer <token>",
            ),
            E::Forbidden => ApiError::new(StatusCode::FORBIDDEN, "your role does not allow this"),
            E::CsrfRejected => {
                ApiError::new(StatusCode::FORBIDDEN, "missing or wrong X-CSRF-Token")
            }
            E::TooLarge => ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, too_large()),
            E::ControlCharacter { field, code } => ApiError::with_fields(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("{field}: holds the control character {code}"),
                vec![control_problem(field, &code)],
            ),
            E::Invalid(key) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, key),
            E::Store(e) if let Some(outage) = e.outage() => {
                tracing::error!(error = %e, "database outage");
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, super::outage_text(outage))
            }
            other => {
                tracing::error!(error = %other, "API request failed");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error: see the server log",
                )
            }
        }
    }
}

impl From<store::StoreError> for ApiError {
    fn from(e: store::StoreError) -> Self {
        super::Error::from(e).into()
    }
}

impl From<crate::app::Error> for ApiError {
    fn from(e: crate::app::Error) -> Self {
        super::Error::from(e).into()
    }
}

/// Every error of the API is JSON `{"error": …}`, also those no handler wrote: an unknown
/// method (405, naming the methods the route takes), a body over the limit (413), a URI or
/// headers too long (414, 431) and the database outages answered before a handler runs.
pub(super) async fn json_errors(request: Request, next: axum::middleware::Next) -> Response {
    if !request.uri().path().starts_with("/api/") {
        return next.run(request).await;
    }
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 4096)
        .await
        .ok()
        .and_then(|b| String::from_utf8(b.to_vec()).ok())
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty());
    let message = match status {
        StatusCode::METHOD_NOT_ALLOWED => {
            let allowed = parts
                .headers
                .get(header::ALLOW)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            format!("method not allowed: this route takes {allowed}")
        }
        StatusCode::PAYLOAD_TOO_LARGE => too_large(),
        _ => text.unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_lowercase()),
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::CONTENT_TYPE);
    let mut json = ApiError::new(status, message).into_response();
    for (name, value) in &parts.headers {
        json.headers_mut()
            .entry(name)
            .or_insert_with(|| value.clone());
    }
    json
}

/// `1 field is invalid`, `3 fields are invalid`.
fn counted(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The message of a 413.
fn too_large() -> String {
    format!(
        "request body too large: at most {} MB",
        super::auth::MAX_FORM_BYTES / (1024 * 1024)
    )
}

type ApiResult<T> = Result<T, ApiError>;

/// A JSON body; malformed JSON, a wrong content type, a missing field or a control character in
/// a text is a 4xx JSON error.
struct ApiJson<T>(T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let value = axum::Json::<serde_json::Value>::from_request(req, state)
            .await
            .map_err(rejected)?
            .0;
        let mut found = Vec::new();
        control_characters(&value, &mut String::new(), &mut found);
        if !found.is_empty() {
            return Err(ApiError::with_fields(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!(
                    "{} (only tab, CR and LF are allowed)",
                    counted(
                        found.len(),
                        "text holds a control character",
                        "texts hold a control character"
                    )
                ),
                found,
            ));
        }
        // Read again as `T`, so that its errors name the field as axum's do.
        let bytes = serde_json::to_vec(&value).unwrap_or_default();
        axum::Json::<T>::from_bytes(&bytes)
            .map(|axum::Json(v)| ApiJson(v))
            .map_err(rejected)
    }
}

fn rejected(rejection: JsonRejection) -> ApiError {
    let status = match &rejection {
        JsonRejection::MissingJsonContentType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        JsonRejection::JsonDataError(_) => StatusCode::UNPROCESSABLE_ENTITY,
        JsonRejection::BytesRejection(_) => {
            return ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, too_large());
        }
        _ => StatusCode::BAD_REQUEST,
    };
    ApiError::new(status, rejection.body_text())
}

fn control_problem(field: String, code: &str) -> FieldProblem {
    FieldProblem {
        field,
        problem: "control_character".into(),
        message: format!("holds the control character {code}: only tab, CR and LF are allowed"),
    }
}

/// Every text in `value` (keys too) that holds a control character, by its path in the body.
fn control_characters(value: &serde_json::Value, path: &mut String, found: &mut Vec<FieldProblem>) {
    use crate::domain::edit::{char_code, forbidden_control};
    use serde_json::Value;
    let report = |found: &mut Vec<FieldProblem>, path: &str, c: char| {
        found.push(control_problem(path.to_string(), &char_code(c)));
    };
    match value {
        Value::String(text) => {
            if let Some(c) = forbidden_control(text) {
                report(found, path, c);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                control_characters(item, path, found);
                path.truncate(len);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                if let Some(c) = forbidden_control(key) {
                    report(found, path, c);
                }
                control_characters(item, path, found);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

fn user(viewer: &Viewer) -> ApiResult<&SignedIn> {
    Ok(viewer.require()?)
}

async fn plan(state: &AppState, id: &str) -> ApiResult<std::sync::Arc<Plan>> {
    Ok(super::pages::load(state, id).await?)
}

/// A plan without its content.
#[derive(Debug, Serialize, ToSchema)]
struct PlanSummary {
    id: String,
    name: String,
    organisation: String,
}

#[utoipa::path(get, path = "/plans", tag = "plans",
    responses((status = 200, body = [PlanSummary]), (status = 401, body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn list_plans(State(state): State<AppState>, viewer: Viewer) -> ApiResult<Response> {
    user(&viewer)?;
    let plans: Vec<PlanSummary> = store::plan_summaries(&state.db)
        .await?
        .into_iter()
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
struct PlanView {
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
struct CallTreeView {
    person: String,
    called_by: Option<String>,
    note: String,
}

#[derive(Debug, Serialize, ToSchema)]
struct ChannelView {
    name: String,
    purpose: String,
    detail: String,
}

#[derive(Debug, Serialize, ToSchema)]
struct RoleView {
    id: String,
    name: String,
    responsibilities: String,
}

#[utoipa::path(get, path = "/plans/{plan}", tag = "plans",
    params(("plan" = String, Path, description = "Plan id", example = "example-kommune")),
    responses((status = 200, body = PlanView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn get_plan(
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

/// One system section. On `PUT`, `id`, `last_reviewed` and `reviewed_by` are ignored and
/// `revision` must be the revision the edit started from. Texts hold no control characters
/// but tab, CR and LF; people, roles and systems named must exist in the plan.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = system_example)]
struct SystemBody {
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
fn system_example() -> serde_json::Value {
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
struct SupplierBody {
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
struct StepBody {
    text: String,
    role: String,
    duration: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ImpactBody {
    after: String,
    /// `minor`, `moderate`, `serious` or `unacceptable`.
    level: String,
    #[serde(default)]
    citizens: String,
    #[serde(default)]
    staff: String,
}

fn text<T: ToString>(v: &Option<T>) -> Option<String> {
    v.as_ref().map(ToString::to_string)
}

fn system_body(s: &System, revision: i64) -> SystemBody {
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
fn as_form(b: &SystemBody) -> SystemForm {
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
fn body_path(field: &str) -> String {
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

fn field_problems(state: &AppState, errors: &[FieldError]) -> Vec<FieldProblem> {
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
            message: super::edit::problem_text(state, "en", &e.problem),
        })
        .collect()
}

#[utoipa::path(get, path = "/plans/{plan}/systems", tag = "systems",
    params(("plan" = String, Path, description = "Plan id", example = "example-kommune")),
    responses((status = 200, body = [SystemBody]), (status = 304, description = "Unchanged since the `ETag` sent in `If-None-Match`"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn list_systems(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(plan_id): Path<String>,
) -> ApiResult<Response> {
    user(&viewer)?;
    let (plan, plan_state) = super::pages::load_with_state(&state, &plan_id).await?;
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
fn encoded_json(value: &impl Serialize) -> ApiResult<Encoded> {
    let bytes = serde_json::to_vec(value)
        .map_err(|e| ApiError::from(super::Error::Internal(format!("serialising JSON: {e}"))))?;
    Ok(Encoded::new(bytes))
}

#[utoipa::path(get, path = "/plans/{plan}/systems/{system}", tag = "systems",
    params(("plan" = String, Path, description = "Plan id", example = "example-kommune"), ("system" = String, Path, description = "System id", example = "ad")),
    responses((status = 200, body = SystemBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn get_system(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((plan_id, system_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    user(&viewer)?;
    let id = PlanId::parse(&plan_id).map_err(|_| super::Error::NotFound)?;
    let (system, revision) = store::edits::load_system(&state.db, &id, &system_id)
        .await?
        .ok_or(super::Error::NotFound)?;
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
async fn put_system(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((plan_id, system_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<SystemBody>,
) -> ApiResult<Response> {
    let signed_in = user(&viewer)?;
    let plan = plan(&state, &plan_id).await?;
    let (system, _) = store::edits::load_system(&state.db, &plan.id, &system_id)
        .await?
        .ok_or(super::Error::NotFound)?;
    if !signed_in.actor.may_edit_system(&system) {
        return Err(super::Error::Forbidden.into());
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

#[derive(Debug, Serialize, ToSchema)]
struct PersonView {
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
async fn list_people(
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
struct VersionView {
    number: i32,
    approved_by: String,
    /// RFC 3339.
    approved_at: String,
    comment: String,
}

fn version_view(v: &store::edits::VersionSummary) -> VersionView {
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
async fn list_versions(
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
struct ApproveBody {
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
async fn approve(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(plan_id): Path<String>,
    ApiJson(body): ApiJson<ApproveBody>,
) -> ApiResult<Response> {
    let signed_in = viewer.require_that(|a| a.may_approve())?;
    let id = PlanId::parse(&plan_id).map_err(|_| super::Error::NotFound)?;
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
        Approved::Gone => Err(super::Error::NotFound.into()),
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct DiffQuery {
    /// `draft` or a version number.
    #[param(pattern = "^(draft|[0-9]{1,9})$", example = "draft")]
    from: String,
    /// `draft` or a version number.
    #[param(pattern = "^(draft|[0-9]{1,9})$", example = "draft")]
    to: String,
}

#[derive(Debug, Serialize, ToSchema)]
struct ChangeView {
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
async fn diff(
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
struct FindingView {
    /// A stable code such as `rto-inversion`.
    code: String,
    /// `error` or `warning`.
    severity: String,
    systems: Vec<String>,
    field: Option<String>,
    message: String,
}

#[utoipa::path(get, path = "/plans/{plan}/findings", tag = "findings",
    params(("plan" = String, Path, description = "Plan id", example = "example-kommune")),
    responses((status = 200, body = [FindingView]), (status = 304, description = "Unchanged since the `ETag` sent in `If-None-Match`"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn findings(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(plan_id): Path<String>,
) -> ApiResult<Response> {
    user(&viewer)?;
    let (plan, plan_state) = super::pages::load_with_state(&state, &plan_id).await?;
    let coverage = state
        .findings_stamped(&plan, plan_state.coverage_stamp())
        .await?;
    let revision = plan_state.revisions.revision.to_string();
    let tag = Tag::new(
        &state,
        &viewer,
        &["api-findings", plan.id.as_str(), &revision, &coverage.key],
    );
    if let Some(not_modified) = tag.not_modified(&headers) {
        return Ok(not_modified);
    }
    let key = format!("api:findings|{}", coverage.key);
    let list = match state.plans.kept(&plan, &key) {
        Some(list) => list,
        None => {
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
                    message: f.message.clone(),
                })
                .collect();
            state.plans.keep(&plan, &key, encoded_json(&list)?)
        }
    };
    Ok(tag.on(list.response(&headers, "application/json")))
}
