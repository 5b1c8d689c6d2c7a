//! The second factor in the browser: the second step of signing in (a code from the
//! authenticator app, or a recovery code), and enrolment (the secret as a QR code and as text,
//! confirmed by a current code, then the recovery codes shown once).
//!
//! Between the password and the second step the session holds who is on the way in, not a
//! signed-in account: nothing but these pages is open to it. The same holds for an account that
//! must enrol first (`BEREDSKAB_REQUIRE_MFA`).

use axum::Router;
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tower_sessions::Session;

use super::auth::{self, Viewer, session_error};
use super::confirm::{Flash, tell};
use super::pages::page;
use super::{AppState, Error, Result};
use crate::app::second_factor::{self as factor, Accepted};
use crate::store::{self, accounts::Account};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login/code", get(code_form).post(check_code))
        .route("/account/second-factor", get(enrol_form).post(enrol))
}

/// Who gave the right password and is now asked for the second factor.
const SIGN_IN_KEY: &str = "second-factor-sign-in";
/// Who gave the right password and must enrol a second factor before anything else.
const ENROL_KEY: &str = "second-factor-enrol";
/// The secret being enrolled, until a code confirms it.
const SECRET_KEY: &str = "second-factor-secret";
/// How long the second step waits after the password, in seconds.
const PENDING_SECONDS: i64 = 5 * 60;

/// A password accepted, waiting for the second factor or for enrolment.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Pending {
    account: i64,
    username: String,
    /// Where to go once signed in (a local path).
    next: String,
    /// Unix time of the password.
    since: i64,
}

/// Sends an account whose password was right to the second step of signing in.
pub(super) async fn await_code(
    state: &AppState,
    session: &Session,
    account: &Account,
    next: &str,
) -> Result<Response> {
    put(state, session, SIGN_IN_KEY, account, next).await?;
    Ok(Redirect::to("/login/code").into_response())
}

/// Sends an account whose password was right, and which has no second factor while one is
/// required, to enrolment.
pub(super) async fn await_enrolment(
    state: &AppState,
    session: &Session,
    account: &Account,
    next: &str,
) -> Result<Response> {
    put(state, session, ENROL_KEY, account, next).await?;
    Ok(Redirect::to("/account/second-factor").into_response())
}

async fn put(
    state: &AppState,
    session: &Session,
    key: &str,
    account: &Account,
    next: &str,
) -> Result<()> {
    let pending = Pending {
        account: account.id,
        username: account.username.clone(),
        next: next.to_string(),
        since: state.clock.now().timestamp(),
    };
    session.insert(key, pending).await.map_err(session_error)?;
    session.save().await.map_err(session_error)
}

/// The pending sign-in under `key`, if it is recent and its account still active.
async fn pending(
    state: &AppState,
    session: &Session,
    key: &str,
) -> Result<Option<(Pending, Account)>> {
    let Some(p) = session.get::<Pending>(key).await.map_err(session_error)? else {
        return Ok(None);
    };
    if state.clock.now().timestamp() - p.since > PENDING_SECONDS {
        session.remove_value(key).await.map_err(session_error)?;
        return Ok(None);
    }
    let account = store::accounts::find(&state.db, p.account)
        .await?
        .filter(|a| a.active && a.username == p.username);
    Ok(account.map(|a| (p, a)))
}

#[derive(Deserialize)]
struct CodeForm {
    #[serde(default)]
    code: String,
    /// When moving to a new app: a code of the current one.
    #[serde(default)]
    current: String,
}

async fn code_form(
    State(state): State<AppState>,
    session: Session,
    mut viewer: Viewer,
) -> Result<Response> {
    if pending(&state, &session, SIGN_IN_KEY).await?.is_none() {
        return Ok(Redirect::to("/login").into_response());
    }
    viewer.csrf = Some(auth::csrf_token(&session).await?);
    Ok(page(&state, &viewer, "login_code", json!({"error": Value::Null}))?.into_response())
}

async fn check_code(
    State(state): State<AppState>,
    session: Session,
    viewer: Viewer,
    client: auth::Client,
    Form(form): Form<CodeForm>,
) -> Result<Response> {
    let Some((p, account)) = pending(&state, &session, SIGN_IN_KEY).await? else {
        return Ok(Redirect::to("/login").into_response());
    };
    let refuse = |status: StatusCode, error: Value| -> Result<Response> {
        Ok((
            status,
            page(&state, &viewer, "login_code", json!({"error": error}))?,
        )
            .into_response())
    };
    // Wrong codes count against the username like wrong passwords, so that the six digits
    // cannot be tried through by signing in again and again.
    if let Some(wait) = state.login_locked(&p.username).await? {
        session
            .remove_value(SIGN_IN_KEY)
            .await
            .map_err(session_error)?;
        return super::login::locked_out(wait, refuse);
    }
    match state.check_second_factor(&account, &form.code).await? {
        Some(accepted) => {
            state.login_succeeded(&account).await?;
            session
                .remove_value(SIGN_IN_KEY)
                .await
                .map_err(session_error)?;
            auth::sign_in(&session, account.id, &client).await?;
            if let Accepted::Recovery { left } = accepted {
                let left = usize::try_from(left).unwrap_or(0);
                tell(&viewer, Flash::new("flash.recovery_code_used").count(left)).await?;
                session.save().await.map_err(session_error)?;
            }
            tracing::info!(user = %account.username, "signed in with a second factor");
            Ok(Redirect::to(&p.next).into_response())
        }
        None => {
            state.login_failed(&p.username, "code").await?;
            tracing::warn!(user = %p.username, "wrong second factor");
            refuse(StatusCode::UNAUTHORIZED, json!({"key": "mfa.code_wrong"}))
        }
    }
}

/// Who is enrolling: the signed-in user, or the account that must enrol before signing in
/// (with where it goes next).
async fn enroller(
    state: &AppState,
    session: &Session,
    viewer: &Viewer,
) -> Result<(Account, Option<String>)> {
    if let Some(user) = &viewer.user {
        return Ok((user.account.clone(), None));
    }
    match pending(state, session, ENROL_KEY).await? {
        Some((p, account)) => Ok((account, Some(p.next))),
        None => Err(Error::LoginRequired {
            next: viewer.path.clone(),
        }),
    }
}

/// The secret being enrolled: the one shown before (a reload shows the same QR code), or new.
async fn enrolling_secret(session: &Session) -> Result<String> {
    if let Some(secret) = session
        .get::<String>(SECRET_KEY)
        .await
        .map_err(session_error)?
    {
        return Ok(secret);
    }
    let secret = factor::new_secret();
    session
        .insert(SECRET_KEY, &secret)
        .await
        .map_err(session_error)?;
    session.save().await.map_err(session_error)?;
    Ok(secret)
}

async fn enrol_page(
    state: &AppState,
    viewer: &Viewer,
    status: StatusCode,
    account: &Account,
    secret: &str,
    forced: bool,
    error: Value,
) -> Result<Response> {
    let url = factor::otpauth_url(secret, &account.username)
        .ok_or_else(|| Error::Internal("a TOTP secret that is not one".into()))?;
    let qr = factor::qr_data_uri(&url)
        .ok_or_else(|| Error::Internal("the QR code of an otpauth address".into()))?;
    let body = page(
        state,
        viewer,
        "second_factor",
        json!({
            "qr": qr,
            "secret": factor::grouped(secret),
            "username": account.username,
            "forced": forced,
            "replaces": account.has_second_factor,
            "error": error,
        }),
    )?;
    Ok((status, body).into_response())
}

async fn enrol_form(
    State(state): State<AppState>,
    session: Session,
    mut viewer: Viewer,
) -> Result<Response> {
    let (account, forced) = enroller(&state, &session, &viewer).await?;
    if viewer.csrf.is_none() {
        viewer.csrf = Some(auth::csrf_token(&session).await?);
    }
    let secret = enrolling_secret(&session).await?;
    enrol_page(
        &state,
        &viewer,
        StatusCode::OK,
        &account,
        &secret,
        forced.is_some(),
        Value::Null,
    )
    .await
}

async fn enrol(
    State(state): State<AppState>,
    session: Session,
    viewer: Viewer,
    client: auth::Client,
    Form(form): Form<CodeForm>,
) -> Result<Response> {
    let (account, forced) = enroller(&state, &session, &viewer).await?;
    let Some(secret) = session
        .get::<String>(SECRET_KEY)
        .await
        .map_err(session_error)?
    else {
        return Ok(Redirect::to("/account/second-factor").into_response());
    };
    let codes = match state
        .enrol_second_factor(&account, &secret, &form.code, &form.current)
        .await
    {
        Ok(codes) => codes,
        Err(crate::app::Error::Invalid(key)) => {
            return enrol_page(
                &state,
                &viewer,
                StatusCode::UNPROCESSABLE_ENTITY,
                &account,
                &secret,
                forced.is_some(),
                json!({"key": key}),
            )
            .await;
        }
        Err(e) => return Err(e.into()),
    };
    session
        .remove_value(SECRET_KEY)
        .await
        .map_err(session_error)?;
    let mut viewer = viewer;
    let next = match &forced {
        Some(next) => {
            session
                .remove_value(ENROL_KEY)
                .await
                .map_err(session_error)?;
            state.login_succeeded(&account).await?;
            auth::sign_in(&session, account.id, &client).await?;
            tracing::info!(user = %account.username, "signed in after enrolling a second factor");
            next.clone()
        }
        None => "/account".to_string(),
    };
    session.save().await.map_err(session_error)?;
    // The page is the first one of the signed-in session: its account as it is now, and the
    // session's CSRF token (signing in made a new one).
    let mut account = account;
    account.has_second_factor = true;
    viewer.user = Some(auth::signed_in(account));
    viewer.csrf = Some(auth::csrf_token(&session).await?);
    Ok(page(
        &state,
        &viewer,
        "recovery_codes",
        json!({"codes": codes, "next": next}),
    )?
    .into_response())
}
