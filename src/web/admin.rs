//! People and roles: accounts (administrator only), each with one role and optionally linked to
//! a person of the plans, and every user's own account page (language, password, API token).

use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::{self, Viewer};
use super::pages::page;
use super::{AppState, Error, Result};
use crate::domain::access::AccessRole;
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
        .route("/account", get(own_account))
        .route("/account/password", post(change_password))
        .route("/account/token", post(new_token))
        .route("/account/token/revoke", post(revoke_token))
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
    #[serde(default)]
    role: String,
    #[serde(default)]
    person: String,
    #[serde(default)]
    password: String,
    /// A checkbox: present when ticked.
    active: Option<String>,
    /// A checkbox: the account keeps password sign-in when only break-glass accounts do.
    break_glass: Option<String>,
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
    let body = page(
        state,
        viewer,
        "accounts",
        json!({
            "accounts": accounts.iter().map(|a| json!({
                "id": a.id,
                "username": a.username,
                "name": a.display_name,
                "role": format!("role.{}", a.role.as_str()),
                "person": a.person_id,
                "active": a.active,
                "break_glass": a.break_glass,
                "second_factor": a.has_second_factor,
            })).collect::<Vec<_>>(),
            "form": {"username": form.username, "display_name": form.display_name},
            "roles": role_choices(role),
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
                role,
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
            },
            "roles": role_choices(account.role),
            "people": people_choices(state, account.person_id.as_deref()).await?,
            "new_password": new_password,
        }),
    )?
    .into_response())
}

async fn edit_account(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(form): Form<AccountForm>,
) -> Result<Response> {
    let user = viewer.require_that(|a| a.may_manage_accounts())?;
    let before = store::accounts::find(&state.db, id)
        .await?
        .ok_or(Error::NotFound)?;
    let role = AccessRole::parse(&form.role).ok_or(Error::NotFound)?;
    let change = AccountChange {
        display_name: Some(form.display_name.trim())
            .filter(|n| !n.is_empty())
            .unwrap_or(&before.display_name)
            .to_string(),
        role,
        person_id: Some(form.person.trim().to_string()).filter(|p| !p.is_empty()),
        active: form.active.is_some(),
        break_glass: form.break_glass.is_some(),
    };
    // An administrator cannot lock themselves out.
    if before.id == user.account.id && (!change.active || role != AccessRole::Administrator) {
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

async fn own_page(
    state: &AppState,
    viewer: &Viewer,
    status: StatusCode,
    message: Value,
    token: Value,
) -> Result<Response> {
    let user = viewer.require()?;
    let recovery_left = if user.account.has_second_factor {
        Some(store::accounts::recovery_codes_left(&state.db, user.account.id).await?)
    } else {
        None
    };
    let body = page(
        state,
        viewer,
        "account",
        json!({
            "account": {
                "username": user.account.username,
                "name": user.account.display_name,
                "role": format!("role.{}", user.account.role.as_str()),
                "person": user.account.person_id,
                "has_token": user.account.has_api_token,
                "second_factor": user.account.has_second_factor,
                "break_glass": user.account.break_glass,
            },
            "message": message,
            "token": token,
            "recovery_left": recovery_left,
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

async fn new_token(State(state): State<AppState>, viewer: Viewer) -> Result<Response> {
    let user = viewer.require()?;
    let token = format!("bk_{}", auth::random_hex(32));
    state
        .set_api_token(&user.account, Some(auth::token_hash(&token)))
        .await?;
    let mut viewer = viewer.clone();
    if let Some(u) = viewer.user.as_mut() {
        u.account.has_api_token = true;
    }
    own_page(&state, &viewer, StatusCode::OK, Value::Null, json!(token)).await
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

async fn revoke_token(State(state): State<AppState>, viewer: Viewer) -> Result<Response> {
    let user = viewer.require()?;
    state.set_api_token(&user.account, None).await?;
    Ok(Redirect::to("/account").into_response())
}
