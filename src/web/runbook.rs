//! The runbook: the latest approved version of the plan as the incident lead needs it — when to
//! activate, whom to call, and per system the workaround, the recovery steps, the check that it
//! is back and the supplier — as a page, and as one self-contained HTML file that still works
//! when this server does not (no request of any kind leaves the file, no script).

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use super::auth::Viewer;
use super::pages::page;
use super::{AppState, Error, Result};
use crate::domain::PlanId;
use crate::render::runbook::{data, file_name};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/plans/{plan}/runbook", get(show))
        .route("/plans/{plan}/runbook.html", get(download))
        .route("/plans/{plan}/runbook.docx", get(word))
        .route("/plans/{plan}/pocket", get(pocket))
}

async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: axum::http::HeaderMap,
    Path(plan_id): Path<String>,
) -> Result<Response> {
    viewer.require()?;
    let id = PlanId::parse(&plan_id).map_err(|_| Error::NotFound)?;
    let shown = state.runbook(&id).await?.ok_or(Error::NotFound)?;
    // The runbook shows the version (or the draft's revision) as of the day: nothing else.
    let tag = super::conditional::Tag::new(
        &state,
        &viewer,
        &[
            "runbook",
            id.as_str(),
            &format!("{:?}", shown.version.as_ref().map(|v| v.number)),
            &shown.revision.to_string(),
            &state.clock.today().to_string(),
        ],
    );
    if let Some(not_modified) = tag.not_modified(&headers) {
        return Ok(not_modified);
    }
    // The body (every system, megabytes for a large plan) is rendered once per version, day
    // and language and kept; the page around it carries the visitor's own header.
    let lang = &viewer.lang;
    let today = state.clock.today();
    let render = || {
        state
            .templates
            .fragment("runbook_body", lang, data(&shown.document(), lang, false))
    };
    let body = match &shown.version {
        // An approved version never changes.
        Some(v) => {
            let key = format!(
                "runbook|{id}|{}|{}|{lang}|{today}",
                v.number, shown.draft_changed
            );
            state
                .fragments
                .get_or_render(key, || async { render() })
                .await?
        }
        // The draft: kept with the plan's current revision, and dropped with it.
        None => state
            .plans
            .kept_or(&shown.plan, &format!("runbook|{lang}|{today}"), || {
                render().map(super::cache::Fragment::of)
            })?,
    };
    let axum::response::Html(shell) = page(
        &state,
        &viewer,
        "runbook",
        json!({
            "plan": {"id": id, "name": shown.plan.name},
            "path": format!("/plans/{id}/runbook"),
            "body": super::pages::BODY_MARK,
        }),
    )?;
    Ok(tag.on(super::pages::spliced(
        &headers,
        &shell,
        &[(super::pages::BODY_MARK, &body)],
    )))
}

/// The roles a pocket plan is made for, with the number of first steps each has in the locales.
const POCKET_ROLES: [(&str, usize); 3] = [
    ("incident-lead", 6),
    ("crisis-team", 5),
    ("system-owner", 5),
];

#[derive(serde::Deserialize, Default)]
struct PocketQuery {
    role: Option<String>,
}

/// The pocket plan (miniberedskabsplan): one printable page per role with the activation
/// criteria, the call tree with phone numbers, the channels and the role's first steps, from the
/// approved version.
async fn pocket(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(plan_id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<PocketQuery>,
) -> Result<Response> {
    viewer.require()?;
    let id = PlanId::parse(&plan_id).map_err(|_| Error::NotFound)?;
    let shown = state.runbook(&id).await?.ok_or(Error::NotFound)?;
    let lang = &viewer.lang;
    let chosen: Vec<(&str, usize)> = match q.role.as_deref() {
        None | Some("") => POCKET_ROLES.to_vec(),
        Some(role) => POCKET_ROLES
            .iter()
            .copied()
            .filter(|(r, _)| *r == role)
            .collect(),
    };
    if chosen.is_empty() {
        return Err(Error::NotFound);
    }
    let mut data = data(&shown.document(), lang, false);
    data["cards"] = json!(chosen.iter().map(|(role, steps)| json!({
        "role": role,
        "title_key": format!("pocket.role.{role}"),
        "steps": (1..=*steps).map(|n| state.templates.text(lang, &format!("pocket.{role}.{n}"))).collect::<Vec<_>>(),
    })).collect::<Vec<_>>());
    data["path"] = json!(format!("/plans/{id}/pocket"));
    page(&state, &viewer, "pocket", data).map(IntoResponse::into_response)
}

/// The offline runbook, made now from the latest approved version.
async fn download(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(plan_id): Path<String>,
) -> Result<Response> {
    viewer.require()?;
    let id = PlanId::parse(&plan_id).map_err(|_| Error::NotFound)?;
    let shown = state.runbook(&id).await?.ok_or(Error::NotFound)?;
    let html = crate::render::runbook::offline(
        &state.templates,
        &shown.document(),
        &viewer.lang,
        state.clock.today(),
    )?;
    Ok(super::self_contained_download(&file_name(&id), html))
}

/// The runbook as a Word document, for print and for the plan's review meetings.
async fn word(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(plan_id): Path<String>,
) -> Result<Response> {
    viewer.require()?;
    let id = PlanId::parse(&plan_id).map_err(|_| Error::NotFound)?;
    let shown = state.runbook(&id).await?.ok_or(Error::NotFound)?;
    let bytes = crate::render::runbook::docx(
        &state.templates,
        &shown.document(),
        &viewer.lang,
        state.clock.today(),
    )?;
    Ok(super::attachment(
        &crate::render::runbook::docx_file_name(&id),
        crate::render::document::CONTENT_TYPE,
        bytes,
    ))
}
