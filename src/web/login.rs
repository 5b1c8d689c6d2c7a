//! Signing in and out, and the choice of language before signing in; where each sends the
//! visitor next (a path on this server only).

use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use tower_sessions::Session;

use super::auth::{self, Viewer};
use super::i18n::LANGUAGES;
use super::pages::page;
use super::{AppState, Error, LANG_COOKIE, Result, second_factor};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/lang/{lang}", get(choose_language))
}

#[derive(Deserialize)]
struct Return {
    next: Option<String>,
}

/// A path on this site to go back to, or `/`: never an open redirect, never a header that
/// cannot be sent.
///
/// Browsers drop tab, CR and LF anywhere in a URL and read `\` as `/`, so `/<TAB>/evil` and
/// `/\evil` take them to the host `evil`. A target is therefore kept only when it holds no
/// control character at all and no `\`, and is one `/` followed by anything but `/`: no scheme,
/// no host. Bytes a header cannot carry as they are (space, non-ASCII) are percent-encoded, as
/// a browser would send them.
pub(super) fn local_path(next: Option<String>) -> String {
    next.as_deref()
        .and_then(local_target)
        .unwrap_or_else(|| "/".to_string())
}

fn local_target(next: &str) -> Option<String> {
    let rest = next.strip_prefix('/')?;
    if rest.starts_with('/') || next.contains('\\') || next.chars().any(char::is_control) {
        return None;
    }
    let mut out = String::with_capacity(next.len());
    for b in next.bytes() {
        if b.is_ascii_graphic() {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    Some(out)
}

/// Remembers the chosen language (in a cookie, and for a signed-in user in their account) and
/// goes back to the page the visitor came from.
async fn choose_language(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(lang): Path<String>,
    Query(q): Query<Return>,
) -> Result<Response> {
    if !LANGUAGES.contains(&lang.as_str()) {
        return Err(Error::NotFound);
    }
    if let Some(user) = &viewer.user {
        state.set_language(&user.account, &lang).await?;
    }
    let cookie = format!("{LANG_COOKIE}={lang}; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly");
    let mut response = Redirect::to(&local_path(q.next)).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

async fn login_form(
    State(state): State<AppState>,
    session: Session,
    mut viewer: Viewer,
    Query(q): Query<Return>,
) -> Result<Response> {
    if viewer.user.is_some() {
        return Ok(Redirect::to(&local_path(q.next)).into_response());
    }
    viewer.csrf = Some(auth::csrf_token(&session).await?);
    let next = local_path(q.next);
    Ok(page(
        &state,
        &viewer,
        "login",
        json!({
            "next": next,
            "username": "",
            "error": Value::Null,
            "break_glass_only": break_glass_only(&state),
            "provider": provider_button(&state, &next),
        }),
    )?
    .into_response())
}

/// Whether password sign-in is open to break-glass accounts only.
fn break_glass_only(state: &AppState) -> bool {
    state.config.local_login == crate::config::LocalLogin::BreakGlassOnly
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
}

async fn login(
    State(state): State<AppState>,
    session: Session,
    viewer: Viewer,
    client: auth::Client,
    Form(form): Form<LoginForm>,
) -> Result<Response> {
    let username = form.username.trim().to_string();
    let next = local_path(form.next);
    let refuse = |status: StatusCode, error: Value| -> Result<Response> {
        Ok((
            status,
            page(
                &state,
                &viewer,
                "login",
                json!({
                    "next": next,
                    "username": username,
                    "error": error,
                    "break_glass_only": break_glass_only(&state),
                    "provider": provider_button(&state, &next),
                }),
            )?,
        )
            .into_response())
    };
    // The failures are counted in the database, so every server sharing it refuses alike.
    if let Some(wait) = state.login_locked(&username).await? {
        return locked_out(wait, refuse);
    }
    match auth::check_login(&state, &username, &form.password).await? {
        // With password sign-in for break-glass accounts only, any other account gets the answer
        // a wrong password gets, so the page tells nobody which usernames exist.
        Some(account) if break_glass_only(&state) && !account.break_glass => {
            state.login_failed(&username, "not-break-glass").await?;
            tracing::warn!(user = %username, "password sign-in refused: not a break-glass account");
            refuse(
                StatusCode::UNAUTHORIZED,
                json!({"key": "login.wrong_break_glass"}),
            )
        }
        // The second factor comes next; the throttle forgets the failures only once it is given.
        Some(account) if account.has_second_factor => {
            second_factor::await_code(&state, &session, &account, &next).await
        }
        Some(account) if state.config.require_mfa => {
            second_factor::await_enrolment(&state, &session, &account, &next).await
        }
        Some(account) => {
            state.login_succeeded(&account).await?;
            auth::sign_in(&session, account.id, &client).await?;
            tracing::info!(user = %account.username, "signed in");
            Ok(Redirect::to(&next).into_response())
        }
        None => {
            state.login_failed(&username, "password").await?;
            tracing::warn!(user = %username, "failed login");
            let key = if break_glass_only(&state) {
                "login.wrong_break_glass"
            } else {
                "login.wrong"
            };
            refuse(StatusCode::UNAUTHORIZED, json!({"key": key}))
        }
    }
}

/// The answer to a username locked by failed sign-ins: 429 with `Retry-After` and the page
/// `refuse` renders, saying in minutes when to try again.
pub(super) fn locked_out(
    wait: chrono::Duration,
    refuse: impl FnOnce(StatusCode, Value) -> Result<Response>,
) -> Result<Response> {
    // Whole seconds, rounded up: asking again after `Retry-After` is never too early.
    let millis = u64::try_from(wait.num_milliseconds()).unwrap_or(0).max(1);
    let seconds = millis.div_ceil(1000);
    let mut response = refuse(
        StatusCode::TOO_MANY_REQUESTS,
        json!({"key": "login.throttled", "minutes": seconds.div_ceil(60)}),
    )?;
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    Ok(response)
}

/// Ends the session; one signed in through the identity provider goes on to end the
/// provider's session too, where the provider offers that (RP-initiated logout), and comes
/// back to the login page from there.
async fn logout(State(state): State<AppState>, session: Session) -> Result<Response> {
    let idp = auth::idp_session(&session).await?;
    auth::sign_out(&session).await?;
    if let (Some(idp), Some(oidc)) = (idp, &state.oidc)
        && idp.protocol == "oidc"
        && let Some(url) = oidc.logout_url(&idp.id_token).await
    {
        tracing::info!("signed out: on to the identity provider's logout");
        return Ok(Redirect::to(&url).into_response());
    }
    Ok(Redirect::to("/login").into_response())
}

/// The button to sign in through the identity provider, if one is configured: its name and
/// where it leads (with the page to come back to).
fn provider_button(state: &AppState, next: &str) -> Value {
    if state.oidc.is_none() {
        return Value::Null;
    }
    json!({
        "name": state.config.oidc_name.clone(),
        "href": format!("/auth/oidc/login?next={}", crate::render::url_escape(next)),
    })
}
