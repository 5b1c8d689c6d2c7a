//! The runbook: the latest approved version of the plan as the incident lead needs it — when to
//! activate, whom to call, and per system the workaround, the recovery steps, the check that it
//! is back and the supplier — as a page, and as one self-contained HTML file that still works
//! when this server does not (no request of any kind leaves the file, no script).

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::auth::Viewer;
use super::pages::{dur, page, person_name, tel};
use super::{AppState, Error, Result, Templates, i18n};
use crate::domain::{Duration, Plan, PlanId, analysis};
use crate::store::{self, edits::VersionSummary};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/plans/{plan}/runbook", get(show))
        .route("/plans/{plan}/runbook.html", get(download))
        .route("/plans/{plan}/pocket", get(pocket))
}

/// The plan a runbook shows: the latest approved version (and whether the draft has changed
/// since), or the draft when nothing is approved yet.
pub struct Shown {
    pub plan: Arc<Plan>,
    pub version: Option<VersionSummary>,
    pub draft_changed: bool,
    /// The plan's revision when it was read.
    pub revision: i64,
}

/// The runbook's plan for `id`, or `None` if there is no such plan.
pub async fn shown(db: &sea_orm::DatabaseConnection, id: &PlanId) -> Result<Option<Shown>> {
    shown_from(db, None, id).await
}

/// `shown`, with plans and versions taken from the server's cache.
pub(super) async fn shown_cached(state: &AppState, id: &PlanId) -> Result<Option<Shown>> {
    shown_from(&state.db, Some(&state.plans), id).await
}

async fn shown_from(
    db: &sea_orm::DatabaseConnection,
    cache: Option<&super::cache::PlanCache>,
    id: &PlanId,
) -> Result<Option<Shown>> {
    // The revision and the latest version in one query.
    let Some(store::edits::PlanState {
        revisions, latest, ..
    }) = store::edits::plan_state(db, id).await?
    else {
        return Ok(None);
    };
    let plan = match (&latest, cache) {
        (Some(v), Some(cache)) => cache.version(db, id, v.number).await?,
        (Some(v), None) => store::edits::version_plan(db, id, v.number)
            .await?
            .map(|(_, p)| Arc::new(p)),
        (None, Some(cache)) => cache.plan_at(db, id, revisions.revision).await?,
        (None, None) => store::load_plan(db, id).await?.map(Arc::new),
    };
    Ok(plan.map(|plan| Shown {
        plan,
        draft_changed: latest
            .as_ref()
            .is_none_or(|v| v.plan_revision != revisions.revision),
        version: latest,
        revision: revisions.revision,
    }))
}

/// Everything the runbook shows, for its templates. `offline` leaves out links to this server.
pub fn data(shown: &Shown, lang: &str, offline: bool) -> Value {
    let plan = &shown.plan;
    let role_name = |id: &crate::domain::RoleId| {
        plan.roles
            .iter()
            .find(|r| &r.id == id)
            .map_or(id.to_string(), |r| r.name.clone())
    };
    // In the order a full outage is recovered in: what others depend on first.
    let order: Vec<&crate::domain::System> = match analysis::assess(plan, None) {
        Ok(a) => a
            .recovery_order
            .iter()
            .filter_map(|id| plan.system(id.as_str()))
            .collect(),
        Err(_) => plan.systems.iter().collect(),
    };
    let systems: Vec<Value> = order
        .iter()
        .map(|s| {
            let total = s
                .recovery_steps
                .iter()
                .fold(Duration::ZERO, |sum, st| sum.saturating_add(st.duration));
            json!({
                "id": s.id,
                "name": s.name,
                "crit": s.criticality.level(),
                "rto": dur(s.rto, lang),
                "rpo": dur(s.rpo, lang),
                "mtpd": dur(s.mtpd, lang),
                "owner": person_name(plan, s.owner.as_ref()),
                "deputy": person_name(plan, s.deputy.as_ref()),
                "depends_on": s.depends_on.iter().map(|d| json!({
                    "id": d,
                    "name": plan.system(d.as_str()).map_or(d.as_str(), |x| x.name.as_str()),
                })).collect::<Vec<_>>(),
                "workaround": s.workaround,
                "steps": s.recovery_steps.iter().map(|st| json!({
                    "text": st.text,
                    "role": role_name(&st.role),
                    "duration": i18n::duration(st.duration, lang),
                })).collect::<Vec<_>>(),
                "steps_total": i18n::duration(total, lang),
                "verification": s.verification,
                "supplier": s.supplier.as_ref().map(|x| json!({
                    "name": x.name, "contact": x.contact, "phone": x.phone, "tel": tel(&x.phone),
                    "email": x.email, "restore": dur(x.contract_restore, lang),
                })),
                "impact": s.impact.iter().map(|row| json!({
                    "after": i18n::duration(row.after, lang),
                    "level": row.level.as_str(),
                    "level_key": format!("impact.{}", row.level.as_str()),
                    "citizens": row.citizens,
                    "staff": row.staff,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let name_of = |id: &crate::domain::PersonId| {
        plan.person(id.as_str())
            .map_or(id.to_string(), |p| p.name.clone())
    };
    let s = &plan.sections;
    json!({
        "offline": offline,
        "plan": {"id": plan.id, "name": plan.name, "organisation": plan.organisation},
        "version": shown.version.as_ref().map(|v| json!({
            "number": v.number,
            "approved_by": v.approved_by,
            "approved_on": i18n::date(v.approved_at.date_naive(), lang),
        })),
        "draft_changed": shown.draft_changed,
        "activation": s.activation_criteria,
        "stand_down": s.stand_down_criteria,
        "return_to_normal": s.return_to_normal,
        "incident_handling": s.incident_handling,
        "backups": s.backups,
        "resources": s.resources,
        "call_tree": plan.call_tree.iter().map(|c| {
            let mut p = person_name(plan, Some(&c.person));
            p["called_by"] = json!(c.called_by.as_ref().map(name_of));
            p["note"] = json!(c.note);
            p
        }).collect::<Vec<_>>(),
        "channels": plan.channels,
        "people": plan.people.iter().map(|p| {
            let mut v = person_name(plan, Some(&p.id));
            v["roles"] = json!(p.roles.iter().map(role_name).collect::<Vec<_>>().join(", "));
            v
        }).collect::<Vec<_>>(),
        "systems": systems,
    })
}

/// The runbook as one self-contained HTML file.
pub fn offline(templates: &Templates, shown: &Shown, lang: &str) -> Result<String> {
    let mut data = data(shown, lang, true);
    let plan = &shown.plan;
    let systems: Vec<&crate::domain::System> = plan.systems.iter().collect();
    let findings = analysis::check(plan, chrono::Local::now().date_naive());
    let title = templates.text(lang, "picture.title");
    data["picture"] = json!(super::picture::svg(&systems, &findings, None, &title, None));
    data["css"] = json!(super::render::static_text("app.css"));
    data["generated"] = json!(i18n::date(chrono::Local::now().date_naive(), lang));
    Ok(templates.fragment("runbook_export", lang, data)?)
}

/// The file name of a plan's offline runbook.
pub fn file_name(plan: &PlanId) -> String {
    format!("beredskabsplan-{plan}.html")
}

/// Writes the newest offline runbook of `plan` to the configured folder (through a temporary file
/// and a rename, so a reader never sees half a file). Called after each approval.
pub async fn store_offline(state: &AppState, plan: &PlanId) -> anyhow::Result<std::path::PathBuf> {
    let shown = shown_cached(state, plan)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no plan {plan}"))?;
    // Rendering a large plan takes a while and the file is written to disk: off the async workers.
    let (templates, lang) = (state.templates.clone(), state.config.language.clone());
    let path = state.config.runbook_dir.join(file_name(plan));
    tokio::task::spawn_blocking(move || {
        let html = offline(&templates, &shown, &lang)?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = path.with_extension("html.tmp");
        std::fs::write(&tmp, html)?;
        std::fs::rename(&tmp, &path)?;
        Ok(path)
    })
    .await?
}

async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: axum::http::HeaderMap,
    Path(plan_id): Path<String>,
) -> Result<Response> {
    viewer.require()?;
    let id = PlanId::parse(&plan_id).map_err(|_| Error::NotFound)?;
    let shown = shown_cached(&state, &id).await?.ok_or(Error::NotFound)?;
    // The runbook shows the version (or the draft's revision) as of the day: nothing else.
    let tag = super::conditional::Tag::new(
        &state,
        &viewer,
        &[
            "runbook",
            id.as_str(),
            &format!("{:?}", shown.version.as_ref().map(|v| v.number)),
            &shown.revision.to_string(),
            &chrono::Local::now().date_naive().to_string(),
        ],
    );
    if let Some(not_modified) = tag.not_modified(&headers) {
        return Ok(not_modified);
    }
    // The body (every system, megabytes for a large plan) is rendered once per version, day
    // and language and kept; the page around it carries the visitor's own header.
    let lang = &viewer.lang;
    let today = chrono::Local::now().date_naive();
    let render = || {
        state
            .templates
            .fragment("runbook_body", lang, data(&shown, lang, false))
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
            .fragment(&shown.plan, &format!("runbook|{lang}|{today}"), || {
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
    let shown = shown_cached(&state, &id).await?.ok_or(Error::NotFound)?;
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
    let mut data = data(&shown, lang, false);
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
    let shown = shown_cached(&state, &id).await?.ok_or(Error::NotFound)?;
    let html = offline(&state.templates, &shown, &viewer.lang)?;
    Ok(super::self_contained_download(&file_name(&id), html))
}
