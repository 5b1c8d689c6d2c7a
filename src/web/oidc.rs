//! Signing in through the OpenID Connect provider: `/auth/oidc/login` sends the browser there
//! with a fresh `state`, `nonce` and PKCE verifier kept in its session, and
//! `/auth/oidc/callback` takes it back: the request must be the one this browser made, the
//! provider's ID token must hold (`app::oidc`), and the identity must get an account with access
//! (`app::identity`). Every refusal is a page saying why, with one log line naming the cause.
//! Logging out of such a session ends it at the provider too (`login::logout`).

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::auth::{self, IdpSession, session_error};
use super::login::local_path;
use super::{AppState, Error, Result};
use crate::app::accounts::constant_time_eq;
use crate::app::identity::{NewIdentities, Refusal};
use crate::app::oidc::{Failure, Pending};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/oidc/login", get(start))
        .route("/auth/oidc/callback", get(callback))
}

/// The sign-in this browser started at the provider.
const WAITING_KEY: &str = "oidc-waiting";
/// How long the way back from the provider may take, in seconds.
const WAIT_SECONDS: i64 = 15 * 60;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Waiting {
    pending: Pending,
    /// Where to go once signed in (a local path).
    next: String,
    /// Unix time the browser was sent to the provider.
    since: i64,
}

#[derive(Deserialize)]
struct Start {
    next: Option<String>,
}

/// The refusal page with this locale key (`<key>.title`, `<key>.text`).
fn refused(status: StatusCode, key: &'static str) -> Error {
    Error::SignInRefused { status, key }
}

/// The page for a protocol failure.
fn failure_page(failure: &Failure) -> Error {
    use StatusCode as S;
    let (status, key) = match failure {
        Failure::Unreachable(_) => (S::BAD_GATEWAY, "login.oidc_unreachable"),
        Failure::Provider(_) => (S::UNAUTHORIZED, "login.oidc_provider_error"),
        Failure::CodeRefused(_) => (S::BAD_REQUEST, "login.oidc_code"),
        Failure::BadResponse(_) => (S::BAD_GATEWAY, "login.oidc_response"),
        Failure::Expired(_) => (S::UNAUTHORIZED, "login.oidc_expired"),
        Failure::NotYetValid(_) => (S::UNAUTHORIZED, "login.oidc_not_yet_valid"),
        Failure::Audience(_) => (S::UNAUTHORIZED, "login.oidc_audience"),
        Failure::Issuer(_) => (S::UNAUTHORIZED, "login.oidc_issuer"),
        Failure::Unsigned(_) => (S::UNAUTHORIZED, "login.oidc_unsigned"),
        Failure::Signature(_) => (S::UNAUTHORIZED, "login.oidc_signature"),
        Failure::Nonce(_) => (S::UNAUTHORIZED, "login.oidc_nonce"),
    };
    refused(status, key)
}

/// The page for an identity that gets no account or no access.
fn refusal_page(refusal: Refusal) -> Error {
    let key = match refusal {
        Refusal::UnknownUser => "login.oidc_unknown_user",
        Refusal::Inactive => "login.oidc_inactive",
        Refusal::NoUsername => "login.oidc_no_username",
        Refusal::UsernameTaken => "login.oidc_username_taken",
        Refusal::NoAccess => "login.oidc_no_access",
    };
    refused(StatusCode::FORBIDDEN, key)
}

/// Sends the browser to the provider.
async fn start(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<Start>,
) -> Result<Response> {
    let Some(oidc) = &state.oidc else {
        return Err(Error::NotFound);
    };
    let next = local_path(q.next);
    let (url, pending) = match oidc.start().await {
        Ok(started) => started,
        Err(failure) => {
            tracing::warn!(cause = %failure.cause(), "sign-in through the identity provider could not start");
            return Err(failure_page(&failure));
        }
    };
    let waiting = Waiting {
        pending,
        next,
        since: state.clock.now().timestamp(),
    };
    session
        .insert(WAITING_KEY, waiting)
        .await
        .map_err(session_error)?;
    session.save().await.map_err(session_error)?;
    Ok(Redirect::to(&url).into_response())
}

#[derive(Deserialize)]
struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// The way back from the provider.
async fn callback(
    State(state): State<AppState>,
    session: Session,
    client: auth::Client,
    Query(q): Query<Callback>,
) -> Result<Response> {
    let Some(oidc) = &state.oidc else {
        return Err(Error::NotFound);
    };
    // Taken out at once: a request is answered once, whatever comes of it.
    let waiting = session
        .remove::<Waiting>(WAITING_KEY)
        .await
        .map_err(session_error)?;
    let state_refused = refused(StatusCode::BAD_REQUEST, "login.oidc_state");
    let Some(waiting) = waiting else {
        tracing::warn!(
            "identity provider callback refused: no sign-in was started in this browser"
        );
        return Err(state_refused);
    };
    if state.clock.now().timestamp() - waiting.since > WAIT_SECONDS {
        tracing::warn!("identity provider callback refused: the sign-in started too long ago");
        return Err(state_refused);
    }
    match &q.state {
        None => {
            tracing::warn!("identity provider callback refused: no state parameter");
            return Err(state_refused);
        }
        Some(given) if !constant_time_eq(given, &waiting.pending.state) => {
            tracing::warn!("identity provider callback refused: the state is not this browser's");
            return Err(state_refused);
        }
        Some(_) => {}
    }
    let result = match (&q.error, &q.code) {
        (Some(error), _) => Err(Failure::Provider(match &q.error_description {
            Some(description) => format!("{error}: {description}"),
            None => error.clone(),
        })),
        (None, None) => Err(Failure::BadResponse("no code in the callback".into())),
        (None, Some(code)) => oidc.finish(&waiting.pending, code).await,
    };
    let (identity, id_token) = match result {
        Ok(signed) => signed,
        Err(failure) => {
            tracing::warn!(cause = %failure.cause(), "sign-in through the identity provider refused");
            state
                .identity_sign_in_failed("oidc", oidc.issuer(), &failure.cause())
                .await?;
            return Err(failure_page(&failure));
        }
    };
    let policy = NewIdentities {
        create_accounts: state.config.oidc_create_accounts,
    };
    let account = match state.sign_in_identity(&identity, policy).await? {
        Ok(account) => account,
        Err(refusal) => {
            tracing::warn!(subject = %identity.subject, user = ?identity.username, cause = refusal.cause(), "sign-in through the identity provider refused");
            return Err(refusal_page(refusal));
        }
    };
    let idp = IdpSession {
        protocol: identity.protocol.to_string(),
        id_token,
    };
    auth::sign_in_through_provider(&session, account.id, &client, idp).await?;
    tracing::info!(user = %account.username, "signed in through the identity provider");
    Ok(Redirect::to(&waiting.next).into_response())
}
