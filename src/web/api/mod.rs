//! The JSON API under `/api/v1`: plans, systems, people, versions, findings and dispensations, with the same
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

mod dispensations;
mod plans;
mod systems;

/// The language a request asks its messages in by `Accept-Language` (`da`, `da-DK;q=0.9`):
/// the one of ours it weighs most, else English, the API's language.
fn asked_language(headers: &HeaderMap) -> &'static str {
    let Some(value) = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
    else {
        return "en";
    };
    let mut best = ("en", 0.0_f32);
    for item in value.split(',') {
        let mut parts = item.split(';');
        let tag = parts.next().unwrap_or("").trim();
        let primary = tag.split('-').next().unwrap_or("").to_ascii_lowercase();
        let q = parts
            .find_map(|p| p.trim().strip_prefix("q="))
            .and_then(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if let Some(lang) = crate::render::i18n::LANGUAGES
            .iter()
            .find(|l| **l == primary)
            && q > best.1
        {
            best = (lang, q);
        }
    }
    best.0
}

use dispensations::*;
use plans::*;
use systems::*;

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
        .route(
            "/plans/{plan}/dispensations",
            get(list_dispensations).post(request_dispensation),
        )
        .route("/plans/{plan}/dispensations/{id}", get(get_dispensation))
        .route(
            "/plans/{plan}/dispensations/{id}/decision",
            axum::routing::post(decide_dispensation),
        )
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "no such API route") })
}

#[derive(OpenApi)]
#[openapi(
    info(title = "beredskab API", version = "1"),
    servers((url = "/api/v1")),
    paths(
        list_plans, get_plan, list_systems, get_system, put_system, list_people, list_versions,
        approve, diff, findings, list_dispensations, get_dispensation, request_dispensation,
        decide_dispensation
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
            E::TokenExpired { on } => {
                ApiError::new(StatusCode::UNAUTHORIZED, super::token_expired_text(on))
            }
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
