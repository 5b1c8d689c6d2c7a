//! Action items: the plan's list (all, open, overdue), marking one done, and creating one from a
//! drill's or an incident's report.

use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::Viewer;
use super::edit::Fields;
use super::pages::{load, page};
use super::{AppState, Error, Result};
pub(super) use crate::app::actions::ActionSource;
use crate::app::actions::NewAction;
use crate::domain::Plan;
use crate::store;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/plans/{plan}/actions", get(actions_page))
        .route("/actions/{id}/status", axum::routing::post(action_status))
}

pub(super) fn action_rows(
    plan: &Plan,
    items: &[store::actions::ActionItem],
    lang: &str,
    today: chrono::NaiveDate,
) -> Vec<Value> {
    items
        .iter()
        .map(|a| {
            json!({
                "id": a.id,
                "title": a.title,
                "owner": plan.person(&a.owner).map_or(a.owner.clone(), |p| p.name.clone()),
                "system": a.system_id,
                "due": super::i18n::date(a.due, lang),
                "done": a.status == store::actions::DONE,
                "overdue": a.status == store::actions::OPEN && a.due < today,
                "occurrence": a.occurrence_id,
            })
        })
        .collect()
}

/// Creates an action item from a report's form (`title`, `owner`, `due`, optional `system`).
/// `None` when created, else the answer naming what is wrong.
pub(super) async fn create_action(
    state: &AppState,
    viewer: &Viewer,
    plan: &Plan,
    actor: &str,
    source: ActionSource<'_>,
    pairs: Vec<(String, String)>,
) -> Result<Option<Response>> {
    let f = Fields(pairs);
    let new = NewAction {
        title: &f.get("title"),
        owner: &f.get("owner"),
        due: &f.get("due"),
        system: &f.get("system"),
    };
    match state.app.create_action(plan, actor, source, new).await {
        Ok(_) => Ok(None),
        Err(crate::app::Error::Invalid(key)) => Ok(Some(
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                state.templates.text(&viewer.lang, key),
            )
                .into_response(),
        )),
        Err(e) => Err(e.into()),
    }
}

/// Which action items the list shows: all, `open`, or `overdue` (open and past due).
#[derive(Deserialize)]
struct ActionsQuery {
    show: Option<String>,
}

async fn actions_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(plan_id): Path<String>,
    Query(q): Query<ActionsQuery>,
) -> Result<Response> {
    let user = viewer.require()?;
    let plan = load(&state, &plan_id).await?;
    let today = state.clock.today();
    let show = q.show.as_deref().unwrap_or("");
    let items: Vec<_> = store::actions::list(
        &state.db,
        store::actions::Filter {
            plan: Some(plan.id.as_str()),
            ..Default::default()
        },
    )
    .await?
    .into_iter()
    .filter(|a| match show {
        "open" => a.status == store::actions::OPEN,
        "overdue" => a.status == store::actions::OPEN && a.due < today,
        _ => true,
    })
    .collect();
    let mut rows = action_rows(&plan, &items, &viewer.lang, state.clock.today());
    for (row, item) in rows.iter_mut().zip(&items) {
        row["may_change"] = json!(
            user.actor.may_edit_plan() || user.actor.person.as_deref() == Some(item.owner.as_str())
        );
    }
    page(
        &state,
        &viewer,
        "actions",
        json!({
            "plan": {"id": plan.id, "name": plan.name},
            "actions": rows,
            "show": show,
            "shown": format!("action.show.{}", if show.is_empty() { "all" } else { show }),
            "filtered": matches!(show, "open" | "overdue"),
        }),
    )
    .map(IntoResponse::into_response)
}

async fn action_status(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response> {
    viewer.require()?;
    let item = store::actions::find(&state.db, id)
        .await?
        .ok_or(Error::NotFound)?;
    let user = viewer.require_in(&item.plan_id)?;
    if !(user.actor.may_edit_plan() || user.actor.person.as_deref() == Some(item.owner.as_str())) {
        return Err(Error::Forbidden);
    }
    let done = Fields(pairs).get("done") == "1";
    state
        .set_action_status(id, done, &user.actor.username)
        .await?;
    Ok(Redirect::to(&format!("/plans/{}/actions", item.plan_id)).into_response())
}
