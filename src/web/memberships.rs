//! Roles per plan on the administration pages: the memberships of an account as a grid of
//! plans × roles (with "every plan" first), what an account's memberships read as, and the
//! group mapping from identity-provider groups to memberships.

use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::auth::Viewer;
use super::pages::page;
use super::{AppState, Error, Result};
use crate::domain::access::{AccessRole, Membership};
use crate::store::{self, accounts::GroupMapping};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/groups", get(groups_page).post(add_mapping))
        .route("/admin/groups/{id}/remove", post(remove_mapping))
}

/// The form value of "every plan".
const EVERY_PLAN: &str = "*";

/// Every plan's id and name, in id order.
pub(super) async fn plans(state: &AppState) -> Result<Vec<(String, String)>> {
    Ok(store::plan_summaries(&state.db)
        .await?
        .into_iter()
        .map(|p| (p.id.to_string(), p.name))
        .collect())
}

/// The plan a membership is of, in words: its name (its id for a plan that is gone), or
/// "every plan".
fn plan_words(
    state: &AppState,
    lang: &str,
    plans: &[(String, String)],
    plan: Option<&str>,
) -> String {
    match plan {
        None => state.templates.text(lang, "memberships.every_plan"),
        Some(id) => plans
            .iter()
            .find(|(p, _)| p == id)
            .map_or_else(|| id.to_string(), |(_, name)| name.clone()),
    }
}

fn role_words(state: &AppState, lang: &str, role: AccessRole) -> String {
    state
        .templates
        .text(lang, &format!("role.{}", role.as_str()))
}

/// An account's roles in words: "Administrator", or "Godkender i Kalundborg Kommune, Læser i
/// alle planer", with the group a membership came from.
pub(super) fn roles_text(
    state: &AppState,
    lang: &str,
    plans: &[(String, String)],
    administrator: bool,
    memberships: &[Membership],
) -> String {
    let mut parts = Vec::new();
    if administrator {
        parts.push(role_words(state, lang, AccessRole::Administrator));
    }
    for m in memberships {
        let mut text = state
            .templates
            .text(lang, "memberships.role_in")
            .replace("{role}", &role_words(state, lang, m.role))
            .replace("{plan}", &plan_words(state, lang, plans, m.plan.as_deref()));
        if let Some(group) = &m.group {
            text.push_str(&format!(" ({group})"));
        }
        parts.push(text);
    }
    if parts.is_empty() {
        return state.templates.text(lang, "memberships.none");
    }
    parts.join(", ")
}

/// The grid of the account page: a row for every plan and one for "every plan" first, a box
/// for each role, ticked for the memberships an administrator gave.
pub(super) fn grid(
    state: &AppState,
    lang: &str,
    plans: &[(String, String)],
    held: &[Membership],
) -> Value {
    let rows = std::iter::once((EVERY_PLAN.to_string(), None))
        .chain(plans.iter().map(|(id, _)| (id.clone(), Some(id.as_str()))))
        .map(|(value, plan)| {
            json!({
                "plan": plan_words(state, lang, plans, plan),
                "roles": AccessRole::IN_PLAN.iter().map(|role| {
                    let ticked = held.iter().any(|m| m.group.is_none() && m.role == *role && m.plan.as_deref() == plan);
                    json!({
                        "value": format!("{value}|{}", role.as_str()),
                        "label": role_words(state, lang, *role),
                        "ticked": ticked,
                    })
                }).collect::<Vec<_>>(),
            })
        })
        .collect::<Vec<_>>();
    json!({
        "roles": AccessRole::IN_PLAN.iter().map(|r| role_words(state, lang, *r)).collect::<Vec<_>>(),
        "rows": rows,
        "from_groups": held.iter().filter(|m| m.group.is_some()).map(|m| json!({
            "role": role_words(state, lang, m.role),
            "plan": plan_words(state, lang, plans, m.plan.as_deref()),
            "group": m.group,
        })).collect::<Vec<_>>(),
    })
}

/// The memberships a form's `membership` boxes give (`plan|role`, `*` for every plan);
/// `Err` names a value that is no plan of `plans` or no role of a plan.
pub(super) fn parse(
    values: impl IntoIterator<Item = String>,
    plans: &[(String, String)],
) -> std::result::Result<Vec<Membership>, String> {
    let mut held = Vec::new();
    for value in values {
        let parsed = value.split_once('|').and_then(|(plan, role)| {
            let role = AccessRole::parse_in_plan(role)?;
            let plan = match plan {
                EVERY_PLAN => None,
                id if plans.iter().any(|(p, _)| p == id) => Some(id.to_string()),
                _ => return None,
            };
            Some(Membership {
                plan,
                role,
                group: None,
            })
        });
        held.push(parsed.ok_or(value)?);
    }
    held.sort();
    held.dedup();
    Ok(held)
}

/// The choices of a plan: "every plan" first, then each plan by name.
fn plan_choices(
    state: &AppState,
    lang: &str,
    plans: &[(String, String)],
    selected: &str,
) -> Vec<Value> {
    std::iter::once((
        EVERY_PLAN.to_string(),
        state.templates.text(lang, "memberships.every_plan"),
    ))
    .chain(plans.iter().cloned())
    .map(|(value, label)| json!({"value": value, "label": label, "selected": value == selected}))
    .collect()
}

/// The plan choices of the new-account form.
pub(super) fn plan_select(state: &AppState, lang: &str, plans: &[(String, String)]) -> Vec<Value> {
    plan_choices(state, lang, plans, EVERY_PLAN)
}

/// What the add-a-row form sent.
#[derive(serde::Deserialize, Default)]
struct MappingForm {
    #[serde(default)]
    group: String,
    #[serde(default)]
    plan: String,
    #[serde(default)]
    role: String,
}

async fn groups_page(State(state): State<AppState>, viewer: Viewer) -> Result<Response> {
    viewer.require_that(|a| a.may_manage_accounts())?;
    show_groups(
        &state,
        &viewer,
        StatusCode::OK,
        &MappingForm::default(),
        None,
    )
    .await
}

async fn show_groups(
    state: &AppState,
    viewer: &Viewer,
    status: StatusCode,
    form: &MappingForm,
    error: Option<String>,
) -> Result<Response> {
    let lang = viewer.lang.as_str();
    let plans = plans(state).await?;
    let rows: Vec<Value> = state
        .group_mapping()
        .await?
        .into_iter()
        .map(|row| {
            json!({
                "id": row.id,
                "group": row.mapping.group,
                "plan": plan_words(state, lang, &plans, row.mapping.plan.as_deref()),
                "role": role_words(state, lang, row.mapping.role),
            })
        })
        .collect();
    let selected = if form.plan.is_empty() {
        EVERY_PLAN
    } else {
        &form.plan
    };
    let body = page(
        state,
        viewer,
        "groups",
        json!({
            "rows": rows,
            "form": {"group": form.group},
            "error": error,
            "plans": plan_choices(state, lang, &plans, selected),
            "roles": AccessRole::IN_PLAN.iter().map(|r| json!({
                "value": r.as_str(),
                "label": role_words(state, lang, *r),
                "selected": form.role == r.as_str(),
            })).collect::<Vec<_>>(),
        }),
    )?;
    Ok((status, body).into_response())
}

async fn add_mapping(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<MappingForm>,
) -> Result<Response> {
    let user = viewer.require_that(|a| a.may_manage_accounts())?;
    let plans = plans(&state).await?;
    let lang = viewer.lang.as_str();
    let group = form.group.trim();
    let role = AccessRole::parse_in_plan(&form.role);
    let plan_known = form.plan == EVERY_PLAN || plans.iter().any(|(p, _)| *p == form.plan);
    let problem = if group.is_empty() {
        Some("memberships.group_required")
    } else if group.chars().count() > 256 {
        Some("memberships.group_long")
    } else if role.is_none() || !plan_known {
        Some("memberships.choose")
    } else {
        None
    };
    let (Some(role), None) = (role, problem) else {
        let error = state
            .templates
            .text(lang, problem.unwrap_or("memberships.choose"));
        return show_groups(
            &state,
            &viewer,
            StatusCode::UNPROCESSABLE_ENTITY,
            &form,
            Some(error),
        )
        .await;
    };
    let mapping = GroupMapping {
        group: group.to_string(),
        plan: (form.plan != EVERY_PLAN).then(|| form.plan.clone()),
        role,
    };
    state
        .add_group_mapping(&user.actor.username, &mapping)
        .await?;
    Ok(Redirect::to("/admin/groups").into_response())
}

async fn remove_mapping(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Response> {
    let user = viewer.require_that(|a| a.may_manage_accounts())?;
    if !state.remove_group_mapping(&user.actor.username, id).await? {
        return Err(Error::NotFound);
    }
    Ok(Redirect::to("/admin/groups").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxes_read_as_memberships_and_strangers_are_named() {
        let plans = vec![("kommune".to_string(), "Kommune".to_string())];
        let held = parse(
            [
                "*|viewer".to_string(),
                "kommune|approver".into(),
                "kommune|approver".into(),
            ],
            &plans,
        )
        .unwrap();
        assert_eq!(held.len(), 2);
        assert_eq!(held[0].plan, None);
        assert_eq!(held[1].plan, Some("kommune".into()));
        assert_eq!(
            parse(["andet|viewer".to_string()], &plans),
            Err("andet|viewer".into())
        );
        assert_eq!(
            parse(["*|administrator".to_string()], &plans),
            Err("*|administrator".into())
        );
        assert!(parse(["viewer".to_string()], &plans).is_err());
    }
}
