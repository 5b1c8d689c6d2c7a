//! The web application: `beredskab serve`. Server-rendered pages that work without JavaScript,
//! from handlebars templates compiled into the binary.

mod acknowledge;
mod actions;
mod admin;
mod api;
mod auth;
mod cache;
mod calendar;
mod conditional;
mod confirm;
mod dispensations;
mod drills;
mod edit;
mod encoded;
mod health;
mod incidents;
mod login;
mod memberships;
mod monitoring;
mod occurrences;
mod offline;
mod oidc;
mod overview;
mod pages;
mod runbook;
mod second_factor;
mod sheets;
mod versions;
mod webhooks;

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tower_http::trace::TraceLayer;

use crate::app::{self, App};
use crate::store;
// The web layer's own names for the rendering it uses.
use crate::render::{self, i18n};

/// Shared by every request handler: the application, and what only the web needs.
#[derive(Clone)]
pub struct AppState {
    pub app: App,
    /// The timing-safe login check.
    auth: Arc<auth::Auth>,
    /// Rendered incident pages, by revision and minute.
    fragments: Arc<cache::Fragments>,
    /// Turns true when the server is shutting down, so that live streams end.
    stopping: tokio::sync::watch::Receiver<bool>,
    /// The OpenID Connect provider people sign in with, when one is configured.
    oidc: Option<Arc<app::oidc::Oidc>>,
}

/// Handlers reach the application's parts (`state.db`, `state.plans`, `state.clock`, …)
/// through the state.
impl std::ops::Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.app
    }
}

/// The cookie that remembers a visitor's language before they sign in.
const LANG_COOKIE: &str = "lang";

/// Errors a request can end in. The status mapping lives in `into_response`; pages for them are
/// rendered by `pages::error_pages`, which knows the visitor's language.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not found")]
    NotFound,
    /// Not signed in: go to the login page, then back to `next`.
    #[error("login required")]
    LoginRequired { next: String },
    #[error("forbidden")]
    Forbidden,
    #[error("missing or wrong CSRF token")]
    CsrfRejected,
    /// A bearer token that expired on this day.
    #[error("the API token expired on {on}")]
    TokenExpired { on: chrono::NaiveDate },
    #[error("request body too large")]
    TooLarge,
    /// A text field holds a control character no text may hold (`forbidden_control`).
    #[error("{field}: control character {code}")]
    ControlCharacter { field: String, code: String },
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// The database is out of reach, full or read-only (found where no `StoreError` is kept).
    #[error("database outage: {0:?}")]
    Unavailable(store::Outage),
    #[error(transparent)]
    Render(#[from] render::RenderError),
    /// What the user gave cannot be used; the locale key says why (422 with that text).
    #[error("invalid: {0}")]
    Invalid(&'static str),
    /// A sign-in through the identity provider refused; the page with the locale key says why.
    #[error("sign-in refused: {key}")]
    SignInRefused {
        status: StatusCode,
        key: &'static str,
    },
    #[error("{0}")]
    Internal(String),
}

impl From<app::Error> for Error {
    fn from(e: app::Error) -> Self {
        match e {
            app::Error::NotFound => Error::NotFound,
            app::Error::Forbidden => Error::Forbidden,
            app::Error::Invalid(key) => Error::Invalid(key),
            app::Error::Store(e) => Error::Store(e),
            app::Error::Render(e) => Error::Render(e),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Whether a request came from one of the pages' scripts (`X-Requested-With: fetch`), which
/// want JSON rather than a redirect or a page.
fn by_script(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get("x-requested-with")
        .is_some_and(|v| v.as_bytes() == b"fetch")
}

/// A request that cannot be carried out, with the reason: as JSON `{"error": …}` to a page's
/// script, as text otherwise.
fn refusal(headers: &axum::http::HeaderMap, status: StatusCode, text: String) -> Response {
    if by_script(headers) {
        (status, axum::Json(serde_json::json!({"error": text}))).into_response()
    } else {
        (status, text).into_response()
    }
}

/// Marks an error response to be replaced by the error page with this message key.
#[derive(Clone, Copy, Debug)]
struct ErrorPage(&'static str);

/// The field and character an error page names, for a refused control character.
#[derive(Clone, Debug)]
struct ErrorDetail {
    field: String,
    code: String,
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        if let Some(outage) = self.outage() {
            tracing::error!(error = %self, "database outage");
            let mut response = outage_response(outage);
            let key = match outage {
                store::Outage::Full => "error.db_full",
                store::Outage::ReadOnly => "error.db_read_only",
                store::Outage::Unreachable => "error.db_unreachable",
                store::Outage::Busy => "error.db_busy",
            };
            response.extensions_mut().insert(ErrorPage(key));
            return response;
        }
        let (status, key) = match &self {
            Error::NotFound => (StatusCode::NOT_FOUND, "error.not_found"),
            Error::LoginRequired { next } => {
                let to = format!("/login?next={}", render::url_escape(next));
                return axum::response::Redirect::to(&to).into_response();
            }
            Error::Forbidden => (StatusCode::FORBIDDEN, "error.forbidden"),
            Error::TokenExpired { on } => {
                let mut response = (
                    StatusCode::UNAUTHORIZED,
                    axum::Json(serde_json::json!({"error": token_expired_text(*on)})),
                )
                    .into_response();
                response.headers_mut().insert(
                    axum::http::header::WWW_AUTHENTICATE,
                    axum::http::HeaderValue::from_static("Bearer"),
                );
                return response;
            }
            Error::CsrfRejected => (StatusCode::FORBIDDEN, "error.csrf"),
            Error::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "error.too_large"),
            Error::Invalid(key) => (StatusCode::UNPROCESSABLE_ENTITY, *key),
            Error::SignInRefused { status, key } => (*status, *key),
            Error::ControlCharacter { field, code } => {
                let mut response =
                    (StatusCode::UNPROCESSABLE_ENTITY, self.to_string()).into_response();
                response
                    .extensions_mut()
                    .insert(ErrorPage("error.control_character"));
                response.extensions_mut().insert(ErrorDetail {
                    field: field.clone(),
                    code: code.clone(),
                });
                return response;
            }
            Error::Store(_) | Error::Unavailable(_) | Error::Render(_) | Error::Internal(_) => {
                tracing::error!(error = %self, "request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "error.internal")
            }
        };
        let mut response = (status, status.canonical_reason().unwrap_or("error")).into_response();
        response.extensions_mut().insert(ErrorPage(key));
        response
    }
}

impl Error {
    /// The database outage behind this error, if it is one.
    pub(super) fn outage(&self) -> Option<store::Outage> {
        match self {
            Error::Unavailable(outage) => Some(*outage),
            Error::Store(e) => e.outage(),
            _ => None,
        }
    }
}

/// What a client with an expired token is told (in English, like every API error).
pub(super) fn token_expired_text(on: chrono::NaiveDate) -> String {
    format!("the API token expired on {on}; make a new one on /account")
}

/// What a database outage means for the request, in one line.
pub(super) fn outage_text(outage: store::Outage) -> &'static str {
    match outage {
        store::Outage::Full => "the database's disk is full: nothing was saved",
        store::Outage::ReadOnly => "the database accepts no writes: nothing was saved",
        store::Outage::Unreachable => "the database cannot be reached: try again shortly",
        store::Outage::Busy => {
            "the database is busy with other changes: nothing was saved, try again"
        }
    }
}

/// 503 with `Retry-After` and a one-line reason, for a database outage.
fn outage_response(outage: store::Outage) -> Response {
    let retry_after = if outage == store::Outage::Busy {
        "5"
    } else {
        "30"
    };
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(axum::http::header::RETRY_AFTER, retry_after)],
        outage_text(outage),
    )
        .into_response()
}

/// The whole web application for `app`: pages, the JSON API and their middleware. `stopping`
/// turns true when the server shuts down, so that live streams end.
pub async fn router(
    app: App,
    stopping: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<Router> {
    auth::spawn_session_cleanup(app.clone());
    let oidc = app::oidc::Oidc::from_config(&app.config, app.clock.clone())?.map(Arc::new);
    if let Some(oidc) = oidc.clone() {
        // In the background: a provider that is down does not hold up the start, and local
        // accounts sign in meanwhile.
        tokio::spawn(async move { oidc.discover().await });
    }
    Ok(routes(AppState {
        auth: Arc::new(auth::Auth::new().await?),
        fragments: Arc::new(cache::Fragments::default()),
        stopping,
        oidc,
        app,
    }))
}

fn routes(state: AppState) -> Router {
    let sessions = tower_sessions::SessionManagerLayer::new(auth::DbSessionStore {
        db: state.db.clone(),
    })
    .with_name("beredskab_session")
    .with_http_only(true)
    .with_same_site(tower_sessions::cookie::SameSite::Lax)
    .with_secure(state.config.secure_cookies)
    .with_expiry(tower_sessions::Expiry::OnInactivity(
        time::Duration::minutes(i64::from(state.config.session_minutes)),
    ));
    let app = pages::router()
        .merge(login::router())
        .merge(acknowledge::router())
        .merge(oidc::router())
        .merge(second_factor::router())
        .merge(overview::router())
        .merge(edit::router())
        .merge(versions::router())
        .merge(admin::router())
        .merge(memberships::router())
        .merge(drills::router())
        .merge(occurrences::router())
        .merge(actions::router())
        .merge(runbook::router())
        .merge(incidents::router())
        .merge(health::router())
        .merge(calendar::router())
        .merge(monitoring::router())
        .merge(webhooks::router())
        .merge(offline::router())
        .merge(dispensations::router())
        .merge(sheets::router())
        .nest("/api/v1", api::router())
        .layer(axum::middleware::from_fn(auth::csrf_guard))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            pages::error_pages,
        ))
        .layer(sessions)
        .layer(axum::middleware::from_fn(request_limits))
        .layer(axum::middleware::from_fn_with_state(
            content_security_policy(&state),
            security_headers,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            monitoring::track,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state);
    // Around the whole router rather than as one of its layers: a router's layers run inside
    // each route, before axum adds the `Allow` header to a 405.
    Router::new()
        .fallback_service(app)
        .layer(axum::middleware::from_fn(api::json_errors))
        .layer(compression())
}

/// Bodies are sent compressed with brotli or gzip, as the client's `Accept-Encoding` prefers:
/// pages, JSON, CSS, scripts, SVG and the download files (the runbook of a 1,000-system plan is
/// 3 MB as HTML). Not bodies under 1 KB, where it saves nothing; not images, which are
/// compressed already; not the live streams (`text/event-stream`), whose events must not wait.
/// Compressed per request, so at the fastest setting (brotli 1, gzip 1): the 3.2 MB runbook of
/// a 1,000-system plan becomes 171 KB in 6 ms with brotli (quality 4: 108 KB in 26 ms), every
/// row of the overview (700 KB) 42 KB in 2 ms. Bodies kept per revision are compressed once,
/// and better (`encoded`).
fn compression()
-> tower_http::compression::CompressionLayer<impl tower_http::compression::Predicate> {
    use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
    tower_http::compression::CompressionLayer::new()
        .br(true)
        .gzip(true)
        .quality(tower_http::CompressionLevel::Precise(1))
        .compress_when(
            SizeAbove::new(1024)
                .and(NotForContentType::IMAGES)
                .and(NotForContentType::SSE)
                .and(NotForContentType::GRPC),
        )
}

/// The longest request target accepted, in bytes (414 beyond).
const MAX_URI_BYTES: usize = 8 * 1024;
/// The most header bytes accepted, names and values together (431 beyond).
const MAX_HEADER_BYTES: usize = 32 * 1024;

/// Refuses a request whose target or headers are longer than any page of ours needs, before
/// its session is read.
async fn request_limits(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let target = request
        .uri()
        .path_and_query()
        .map_or(0, |p| p.as_str().len());
    if target > MAX_URI_BYTES {
        return (StatusCode::URI_TOO_LONG, "the address is too long").into_response();
    }
    let header_bytes: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if header_bytes > MAX_HEADER_BYTES {
        return (
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "the request's headers are too large",
        )
            .into_response();
    }
    next.run(request).await
}

/// The pages' content security policy. Forms post to this site only, and, with an identity
/// provider, lead on to it: the logout form's answer sends the browser to the provider's logout,
/// which browsers check against `form-action` too.
fn content_security_policy(state: &AppState) -> axum::http::HeaderValue {
    let provider = state
        .config
        .oidc_issuer
        .as_deref()
        .and_then(|issuer| url::Url::parse(issuer).ok())
        .map(|url| url.origin().ascii_serialization())
        .filter(|origin| origin != "null")
        .map_or(String::new(), |origin| format!(" {origin}"));
    let policy = format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'{provider}; frame-ancestors 'none'; base-uri 'none'"
    );
    axum::http::HeaderValue::from_str(&policy).unwrap_or_else(|_| {
        axum::http::HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        )
    })
}

/// Headers every response carries: no framing, no MIME sniffing, no inline script or style.
async fn security_headers(
    axum::extract::State(policy): axum::extract::State<axum::http::HeaderValue>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    use axum::http::{HeaderValue, header};
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    // A handler may set a stricter policy of its own (the self-contained report file).
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// A moment as the plan's people read it: date and time in the configured time zone.
fn local(state: &AppState, at: chrono::DateTime<chrono::Utc>, lang: &str) -> String {
    i18n::local_time(state.clock.local(at), lang)
}

/// A self-contained HTML file as a download: its styles are inline (the point of the file), it
/// has no script and loads nothing, and its policy says so.
/// A file to save (a spreadsheet, a Word document) under `file_name`.
pub(super) fn attachment(
    file_name: &str,
    content_type: &'static str,
    bytes: Vec<u8>,
) -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

pub(super) fn self_contained_download(file_name: &str, html: String) -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'".to_string(),
            ),
        ],
        html,
    )
        .into_response()
}
