//! People and roles: accounts (administrator only), each the installation's administrator or a
//! member of plans with roles in each (`memberships`), optionally linked to a person of the
//! plans, and every user's own account page (password, API tokens, sessions).
//! An administrator ends every session and revokes every token of an account that leaves.

use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::{self, Viewer};
use super::i18n;
use super::memberships;
use super::pages::page;
use super::{AppState, Error, Result};
use crate::app::sign_in::{TOKEN_DAYS_DEFAULT, TOKEN_DAYS_MAX};
use crate::domain::access::{AccessRole, Membership};
use crate::store::{self, accounts::AccountChange};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/accounts", get(list_accounts).post(create_account))
        .route(
            "/admin/accounts/{id}",
            get(edit_account_form).post(edit_account),
        )
        .route("/admin/accounts/{id}/password", post(reset_password))
        .route(
            "/admin/accounts/{id}/second-factor/remove",
            post(remove_second_factor),
        )
        .route("/admin/accounts/{id}/end-access", post(end_access))
        .route("/account", get(own_account))
        .route("/account/password", post(change_password))
        .route("/account/token", post(new_token))
        .route("/account/tokens/{id}/revoke", post(revoke_token))
        .route("/account/sessions/{key}/end", post(end_session))
        .route(
            "/account/second-factor/disable",
            post(disable_second_factor),
        )
}

/// Shortest password accepted.
const MIN_PASSWORD_CHARS: usize = 10;

/// Every person of every plan, as account link choices.
async fn people_choices(state: &AppState, selected: Option<&str>) -> Result<Vec<Value>> {
    let mut list = vec![json!({"value": "", "label": "—", "selected": selected.is_none()})];
    let mut seen = std::collections::HashSet::new();
    for id in store::plan_ids(&state.db).await? {
        if let Some(plan) = store::load_plan(&state.db, &id).await? {
            for p in plan.people {
                if seen.insert(p.id.to_string()) {
                    list.push(json!({
                        "value": p.id,
                        "label": format!("{} ({})", p.name, p.id),
                        "selected": selected == Some(p.id.as_str()),
                    }));
                }
            }
        }
    }
    Ok(list)
}

fn role_choices(selected: AccessRole) -> Vec<Value> {
    AccessRole::ALL
        .iter()
        .map(|r| json!({"value": r.as_str(), "label": format!("role.{}", r.as_str()), "selected": *r == selected}))
        .collect()
}

#[derive(Deserialize, Default)]
struct AccountForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    /// On the new-account form: a role (administrator, or a role in `plan`).
    #[serde(default)]
    role: String,
    #[serde(default)]
    plan: String,
    #[serde(default)]
    person: String,
    #[serde(default)]
    password: String,
}

async fn accounts_page(
    state: &AppState,
    viewer: &Viewer,
    status: StatusCode,
    form: &AccountForm,
    errors: Value,
    created: Value,
) -> Result<Response> {
    let accounts = store::accounts::list(&state.db).await?;
    let role = AccessRole::parse(&form.role).unwrap_or(AccessRole::Viewer);
    let person = Some(form.person.as_str()).filter(|p| !p.is_empty());
    let plans = memberships::plans(state).await?;
    let lang = viewer.lang.as_str();
    let body = page(
        state,
        viewer,
        "accounts",
        json!({
            "accounts": accounts.iter().map(|a| json!({
                "id": a.id,
                "username": a.username,
                "name": a.display_name,
                "roles": memberships::roles_text(state, lang, &plans, a.administrator, &a.memberships),
                "person": a.person_id,
                "active": a.active,
                "break_glass": a.break_glass,
                "second_factor": a.has_second_factor,
            })).collect::<Vec<_>>(),
            "form": {"username": form.username, "display_name": form.display_name},
            "roles": role_choices(role),
            "plans": memberships::plan_select(state, lang, &plans),
            "people": people_choices(state, person).await?,
            "errors": errors,
            "created": created,
        }),
    )?;
    Ok((status, body).into_response())
}

fn no_errors() -> Value {
    json!({"username": null, "display_name": null, "password": null})
}

async fn list_accounts(State(state): State<AppState>, viewer: Viewer) -> Result<Response> {
    viewer.require_that(|a| a.may_manage_accounts())?;
    accounts_page(
        &state,
        &viewer,
        StatusCode::OK,
        &AccountForm::default(),
        no_errors(),
        Value::Null,
    )
    .await
}

fn t(state: &AppState, lang: &str, key: &str) -> String {
    state.templates.text(lang, key)
}

async fn create_account(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<AccountForm>,
) -> Result<Response> {
    let user = viewer.require_that(|a| a.may_manage_accounts())?;
    let lang = &viewer.lang;
    let username = form.username.trim().to_lowercase();
    let mut errors = no_errors();
    if crate::domain::PersonId::parse(&username).is_err() {
        errors["username"] = json!(t(&state, lang, "accounts.bad_username"));
    }
    if form.display_name.trim().is_empty() {
        errors["display_name"] = json!(t(&state, lang, "problem.required"));
    }
    let given = form.password.trim();
    if !given.is_empty() && given.chars().count() < MIN_PASSWORD_CHARS {
        errors["password"] = json!(t(&state, lang, "account.password_short"));
    }
    let Some(role) = AccessRole::parse(&form.role) else {
        return Err(Error::NotFound);
    };
    // The first membership: the role in the chosen plan (`*`: every plan); more are given on
    // the account's page.
    let administrator = role == AccessRole::Administrator;
    let first = if administrator {
        Vec::new()
    } else {
        // Without a plan (a form of an older page, a script): every plan.
        let plan = Some(form.plan.trim())
            .filter(|p| !p.is_empty())
            .unwrap_or("*");
        memberships::parse(
            [format!("{plan}|{}", role.as_str())],
            &memberships::plans(&state).await?,
        )
        .map_err(|_| Error::NotFound)?
    };
    let invalid = |errors: Value| {
        accounts_page(
            &state,
            &viewer,
            StatusCode::UNPROCESSABLE_ENTITY,
            &form,
            errors,
            Value::Null,
        )
    };
    if errors
        .as_object()
        .is_some_and(|m| m.values().any(|v| !v.is_null()))
    {
        return invalid(errors).await;
    }
    let (password, generated) = if given.is_empty() {
        (auth::random_password(), true)
    } else {
        (given.to_string(), false)
    };
    let person = Some(form.person.trim().to_string()).filter(|p| !p.is_empty());
    let created = state
        .create_account(
            &user.actor.username,
            store::accounts::NewAccount {
                username: username.clone(),
                display_name: form.display_name.trim().to_string(),
                password_hash: auth::hash_password(password.clone())
                    .await
                    .map_err(|e| Error::Internal(e.to_string()))?,
                administrator,
                memberships: first,
                person_id: person,
                break_glass: false,
            },
        )
        .await?;
    if created.is_none() {
        errors["username"] = json!(t(&state, lang, "accounts.taken"));
        return invalid(errors).await;
    }
    accounts_page(
        &state,
        &viewer,
        StatusCode::CREATED,
        &AccountForm::default(),
        no_errors(),
        json!({"username": username, "password": generated.then_some(password)}),
    )
    .await
}

async fn edit_account_form(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Response> {
    viewer.require_that(|a| a.may_manage_accounts())?;
    let account = store::accounts::find(&state.db, id)
        .await?
        .ok_or(Error::NotFound)?;
    account_page(&state, &viewer, &account, Value::Null).await
}

async fn account_page(
    state: &AppState,
    viewer: &Viewer,
    account: &store::accounts::Account,
    new_password: Value,
) -> Result<Response> {
    account_page_with(state, viewer, account, new_password, Value::Null).await
}

async fn account_page_with(
    state: &AppState,
    viewer: &Viewer,
    account: &store::accounts::Account,
    new_password: Value,
    ended: Value,
) -> Result<Response> {
    let sessions = state.sessions(account).await?.len();
    let tokens = state.tokens(account).await?.len();
    let plans = memberships::plans(state).await?;
    Ok(page(
        state,
        viewer,
        "account_edit",
        json!({
            "account": {
                "id": account.id,
                "username": account.username,
                "name": account.display_name,
                "active": account.active,
                "break_glass": account.break_glass,
                "second_factor": account.has_second_factor,
                "administrator": account.administrator,
            },
            "memberships": memberships::grid(state, &viewer.lang, &plans, &account.memberships),
            "people": people_choices(state, account.person_id.as_deref()).await?,
            "new_password": new_password,
            "access": {"sessions": sessions, "tokens": tokens},
            "ended": ended,
        }),
    )?
    .into_response())
}

/// Ends every session and revokes every API token of the account (someone who leaves).
async fn end_access(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Response> {
    let user = viewer.require_that(|a| a.may_manage_accounts())?;
    let account = store::accounts::find(&state.db, id)
        .await?
        .ok_or(Error::NotFound)?;
    let ended = state.end_access(&user.actor.username, &account).await?;
    if account.id == user.account.id {
        // Their own sessions ended with the rest, this one included.
        return Ok(Redirect::to("/login").into_response());
    }
    account_page_with(
        &state,
        &viewer,
        &account,
        Value::Null,
        json!({"sessions": ended.sessions, "tokens": ended.tokens}),
    )
    .await
}

/// The account page's form: its fields, and a `membership` box (`plan|role`) per role given.
#[derive(Default)]
struct EditForm {
    display_name: String,
    person: String,
    active: bool,
    break_glass: bool,
    administrator: bool,
    memberships: Vec<String>,
}

impl EditForm {
    fn read(pairs: Vec<(String, String)>) -> Self {
        let mut form = EditForm::default();
        for (key, value) in pairs {
            match key.as_str() {
                "display_name" => form.display_name = value,
                "person" => form.person = value,
                "active" => form.active = true,
                "break_glass" => form.break_glass = true,
                "administrator" => form.administrator = true,
                "membership" => form.memberships.push(value),
                _ => {}
            }
        }
        form
    }
}

async fn edit_account(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response> {
    let user = viewer.require_that(|a| a.may_manage_accounts())?;
    let before = store::accounts::find(&state.db, id)
        .await?
        .ok_or(Error::NotFound)?;
    let form = EditForm::read(pairs);
    let given: Vec<Membership> =
        memberships::parse(form.memberships, &memberships::plans(&state).await?)
            .map_err(|_| Error::NotFound)?;
    let change = AccountChange {
        display_name: Some(form.display_name.trim())
            .filter(|n| !n.is_empty())
            .unwrap_or(&before.display_name)
            .to_string(),
        administrator: form.administrator,
        memberships: given,
        person_id: Some(form.person.trim().to_string()).filter(|p| !p.is_empty()),
        active: form.active,
        break_glass: form.break_glass,
    };
    // An administrator cannot lock themselves out.
    if before.id == user.account.id && (!change.active || !change.administrator) {
        return Err(Error::Forbidden);
    }
    state
        .change_account(&user.actor.username, &before, change)
        .await?;
    Ok(Redirect::to("/admin/accounts").into_response())
}

async fn reset_password(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Response> {
    let user = viewer.require_that(|a| a.may_manage_accounts())?;
    let account = store::accounts::find(&state.db, id)
        .await?
        .ok_or(Error::NotFound)?;
    let password = auth::random_password();
    let hash = auth::hash_password(password.clone())
        .await
        .map_err(|e| Error::Internal(e.to_string()))?;
    state
        .reset_password(&user.actor.username, &account, hash)
        .await?;
    account_page(&state, &viewer, &account, json!(password)).await
}

/// Removes an account's second factor (its owner lost the phone and the recovery codes).
async fn remove_second_factor(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Response> {
    let user = viewer.require_that(|a| a.may_manage_accounts())?;
    let account = store::accounts::find(&state.db, id)
        .await?
        .ok_or(Error::NotFound)?;
    if account.has_second_factor {
        state
            .remove_second_factor(&user.actor.username, &account)
            .await?;
    }
    Ok(Redirect::to(&format!("/admin/accounts/{id}")).into_response())
}

async fn own_account(State(state): State<AppState>, viewer: Viewer) -> Result<Response> {
    viewer.require()?;
    own_page(&state, &viewer, StatusCode::OK, Value::Null, Value::Null).await
}

/// The key a session is known by on the account page: part of the hash of its id, so that the
/// page never shows a session's secret id.
fn session_key(id: &str) -> String {
    auth::token_hash(id)[..16].to_string()
}

async fn own_page(
    state: &AppState,
    viewer: &Viewer,
    status: StatusCode,
    message: Value,
    token: Value,
) -> Result<Response> {
    own_page_with(state, viewer, status, message, token, &TokenForm::default()).await
}

async fn own_page_with(
    state: &AppState,
    viewer: &Viewer,
    status: StatusCode,
    message: Value,
    token: Value,
    form: &TokenForm,
) -> Result<Response> {
    let user = viewer.require()?;
    let recovery_left = if user.account.has_second_factor {
        Some(store::accounts::recovery_codes_left(&state.db, user.account.id).await?)
    } else {
        None
    };
    let lang = viewer.lang.as_str();
    let now = state.clock.now();
    let when = |at: chrono::DateTime<chrono::Utc>| i18n::local_time(state.clock.local(at), lang);
    let tokens: Vec<Value> = state
        .tokens(&user.account)
        .await?
        .into_iter()
        .map(|t| {
            json!({
                "id": t.id,
                "name": t.name,
                "created": when(t.created_at),
                "expires": i18n::date(state.clock.local(t.expires_at).date_naive(), lang),
                "expired": t.expires_at <= now,
                "last_used": t.last_used_at.map(when),
            })
        })
        .collect();
    let current = match &viewer.session {
        Some(s) => auth::session_id(s).await,
        None => None,
    };
    let at = |secs: Option<i64>| {
        secs.and_then(|s| chrono::DateTime::from_timestamp(s, 0))
            .map(when)
    };
    let sessions: Vec<Value> = state
        .sessions(&user.account)
        .await?
        .into_iter()
        .map(|s| {
            json!({
                "key": session_key(&s.id),
                "current": current.as_deref() == Some(s.id.as_str()),
                "opened": at(s.opened_at),
                "last_used": at(s.last_used_at),
                "addr": s.client_addr,
                "agent": s.user_agent,
            })
        })
        .collect();
    let body = page(
        state,
        viewer,
        "account",
        json!({
            "account": {
                "username": user.account.username,
                "name": user.account.display_name,
                "roles": memberships::roles_text(
                    state,
                    lang,
                    &memberships::plans(state).await?,
                    user.account.administrator,
                    &user.account.memberships,
                ),
                "person": user.account.person_id,
                "second_factor": user.account.has_second_factor,
                "break_glass": user.account.break_glass,
                "has_password": user.account.has_password,
            },
            "provider": state
                .config
                .oidc_name
                .clone()
                .unwrap_or_else(|| state.templates.text(lang, "account.the_provider")),
            "message": message,
            "token": token,
            "recovery_left": recovery_left,
            "tokens": tokens,
            "sessions": sessions,
            "token_form": {
                "name": form.name,
                "days": if form.days.trim().is_empty() { TOKEN_DAYS_DEFAULT.to_string() } else { form.days.clone() },
                "max": TOKEN_DAYS_MAX,
                "error": form.error,
            },
        }),
    )?;
    Ok((status, body).into_response())
}

#[derive(Deserialize)]
struct PasswordForm {
    current: String,
    new: String,
}

async fn change_password(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<PasswordForm>,
) -> Result<Response> {
    let user = viewer.require()?;
    let refuse = |key: &str| {
        own_page(
            &state,
            &viewer,
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"error": true, "key": key}),
            Value::Null,
        )
    };
    if !user.account.has_password {
        // Signs in through the identity provider only: its password is kept there.
        return refuse("account.no_local_password").await;
    }
    if form.new.chars().count() < MIN_PASSWORD_CHARS {
        return refuse("account.password_short").await;
    }
    if auth::check_login(&state, &user.account.username, &form.current)
        .await?
        .is_none()
    {
        return refuse("account.password_wrong").await;
    }
    let hash = auth::hash_password(form.new)
        .await
        .map_err(|e| Error::Internal(e.to_string()))?;
    state.change_own_password(&user.account, hash).await?;
    own_page(
        &state,
        &viewer,
        StatusCode::OK,
        json!({"error": false, "key": "account.password_changed"}),
        Value::Null,
    )
    .await
}

/// The form that makes a token: its name and how many days it is valid for.
#[derive(Deserialize, Default)]
struct TokenForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    days: String,
    /// Set by the handler, never read from the form: why it was refused.
    #[serde(skip)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct CodeForm {
    #[serde(default)]
    code: String,
}

/// Turns the user's own second factor off, with a current code or a recovery code.
async fn disable_second_factor(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<CodeForm>,
) -> Result<Response> {
    let user = viewer.require()?;
    if !user.account.has_second_factor {
        return Ok(Redirect::to("/account").into_response());
    }
    if !state
        .disable_second_factor(&user.account, &form.code)
        .await?
    {
        return own_page(
            &state,
            &viewer,
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"error": true, "key": "mfa.code_wrong"}),
            Value::Null,
        )
        .await;
    }
    super::confirm::tell(
        &viewer,
        super::confirm::Flash::new("flash.second_factor_off"),
    )
    .await?;
    Ok(Redirect::to("/account").into_response())
}

async fn new_token(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(mut form): Form<TokenForm>,
) -> Result<Response> {
    let user = viewer.require()?;
    let days = form.days.trim();
    let days = if days.is_empty() {
        Some(TOKEN_DAYS_DEFAULT)
    } else {
        days.parse::<i64>().ok()
    };
    // A token made without a name (by a script, say) gets the default one.
    let name = match form.name.trim() {
        "" => state
            .templates
            .text(&viewer.lang, "account.token_default_name"),
        name => name.to_string(),
    };
    let token = format!("bk_{}", auth::random_hex(32));
    let made = match days {
        Some(days) => {
            state
                .create_token(&user.account, &name, days, auth::token_hash(&token))
                .await
        }
        None => Err(crate::app::Error::Invalid("account.token_days_range")),
    };
    match made {
        Ok(_) => own_page(&state, &viewer, StatusCode::OK, Value::Null, json!(token)).await,
        Err(crate::app::Error::Invalid(key)) => {
            form.error = Some(key.to_string());
            own_page_with(
                &state,
                &viewer,
                StatusCode::UNPROCESSABLE_ENTITY,
                Value::Null,
                Value::Null,
                &form,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

async fn revoke_token(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Response> {
    let user = viewer.require()?;
    state.revoke_token(&user.account, id).await?;
    Ok(Redirect::to("/account").into_response())
}

/// Ends one of the account's own sessions ("Log ud" in "my sessions"); the current one signs
/// out here as the header's button would.
async fn end_session(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(key): Path<String>,
) -> Result<Response> {
    let user = viewer.require()?;
    let found = state
        .sessions(&user.account)
        .await?
        .into_iter()
        .find(|s| session_key(&s.id) == key)
        .ok_or(Error::NotFound)?;
    let current = match &viewer.session {
        Some(s) => auth::session_id(s).await,
        None => None,
    };
    if current.as_deref() == Some(found.id.as_str()) {
        if let Some(session) = &viewer.session {
            auth::sign_out(session).await?;
        }
        return Ok(Redirect::to("/login").into_response());
    }
    state.end_session(&user.account, &found.id).await?;
    Ok(Redirect::to("/account").into_response())
}
