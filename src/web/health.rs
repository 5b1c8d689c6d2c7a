//! The plan's health: the coordinator's dashboard, the annual report (årsrapport), the
//! completeness check against NIS2 and ISO 27001 and the evidence export for an auditor.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use chrono::{Datelike, NaiveDate, Utc};
use serde_json::{Value, json};

use super::auth::Viewer;
use super::pages::{findings_of, load, page};
use super::{AppState, Error, Result, local};
use crate::app::reports::{self, AnnualError};
use crate::domain::completeness::{self, Fix};
use crate::domain::dispensation::{self, Dispensation};
use crate::domain::health::{self, DrillOutcome};
use crate::domain::{Plan, PlanId, SystemId};
use crate::render::findings::Words;
use crate::render::{picture, runbook};
use crate::store;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/plans/{plan}/dashboard", get(dashboard))
        .route("/plans/{plan}/picture", get(picture))
        .route("/plans/{plan}/completeness", get(completeness))
        .route("/plans/{plan}/evidence", get(evidence))
        .route("/plans/{plan}/report", get(this_year))
        .route("/plans/{plan}/report/{year}", get(annual))
        .route("/plans/{plan}/report/{year}/download", get(annual_download))
        .route(
            "/plans/{plan}/report/{year}/download.docx",
            get(annual_word),
        )
}

/// Systems by id with their names, for a list behind a figure.
fn named(plan: &Plan, ids: &[SystemId]) -> Vec<Value> {
    ids.iter()
        .map(|id| {
            let name = plan
                .system(id.as_str())
                .map_or(id.as_str(), |s| s.name.as_str());
            json!({"id": id, "name": name})
        })
        .collect()
}

fn drill_rows(state: &AppState, drills: &[DrillOutcome], lang: &str) -> Vec<Value> {
    drills
        .iter()
        .map(|d| {
            json!({
                "occurrence": d.occurrence,
                "title": d.title,
                "held": local(state, d.held_at, lang),
                "met": d.met,
                "missed": d.missed,
                "unknown": d.unknown,
            })
        })
        .collect()
}

/// How many incidents the dashboard lists.
const RECENT_INCIDENTS: usize = 5;

async fn dashboard(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(plan_id): Path<String>,
) -> Result<Html<String>> {
    viewer.require()?;
    let lang = viewer.lang.clone();
    let plan = load(&state, &plan_id).await?;
    let coverage = findings_of(&state, &plan).await?;
    let today = state.clock.today();
    let actions = store::health::action_counts(&state.db, &plan.id, today).await?;
    // Drills closed since the year began: every drill held this year is among them.
    let year_start = health::start_of(NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today));
    let drills = store::health::held_drills(&state.db, &plan.id, Some(year_start)).await?;
    let mut incidents = store::incidents::list(&state.db, plan.id.as_str()).await?;
    incidents.sort_by_key(|i| std::cmp::Reverse((i.started_at, i.id)));
    let dispensations = store::dispensations::of_plan(&state.db, plan.id.as_str()).await?;
    let d = health::dashboard(
        &plan,
        &coverage.findings,
        actions,
        &drills,
        &dispensations,
        today,
    );
    let recent: Vec<Value> = incidents
        .iter()
        .take(RECENT_INCIDENTS)
        .map(|i| {
            json!({
                "id": i.id,
                "title": i.title,
                "started": local(&state, i.started_at, &lang),
                "state_key": format!("incident.state.{}", i.state),
                "closed": i.state == store::incidents::CLOSED,
            })
        })
        .collect();
    let (met, missed) = d
        .drills
        .iter()
        .fold((0, 0), |(m, x), o| (m + o.met, x + o.missed));
    page(
        &state,
        &viewer,
        "dashboard",
        json!({
            "plan": {"id": plan.id, "name": plan.name},
            "year": today.year(),
            "systems": d.systems,
            "reviewed_on_time": d.reviewed_on_time,
            "review_overdue": d.review_overdue.len(),
            "infeasible": d.infeasible.len(),
            "inversions": d.inversions.len(),
            "not_exercised": d.not_exercised.len(),
            "open_actions": d.open_actions,
            "overdue_actions": d.overdue_actions,
            "accepted": d.accepted,
            "expiring": d.expiring,
            "drills_held": d.drills.len(),
            "rto_met": met,
            "rto_missed": missed,
            "drills": drill_rows(&state, &d.drills, &lang),
            "incidents": recent,
            "incident_count": incidents.len(),
            "infeasible_systems": named(&plan, &d.infeasible),
        }),
    )
}

async fn this_year(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(plan_id): Path<String>,
) -> Result<Response> {
    viewer.require()?;
    let year = state.clock.today().year();
    Ok(Redirect::to(&format!("/plans/{plan_id}/report/{year}")).into_response())
}

async fn annual_of(
    state: &AppState,
    viewer: &Viewer,
    plan_id: &str,
    year: i32,
) -> Result<(PlanId, Value)> {
    viewer.require()?;
    let id = PlanId::parse(plan_id).map_err(|_| Error::NotFound)?;
    let data = state
        .annual_report(&id, year, &viewer.lang)
        .await
        .map_err(|e| match e {
            AnnualError::NoPlan(_) | AnnualError::Future { .. } => Error::NotFound,
            AnnualError::Store(e) => e.into(),
            AnnualError::Render(e) => e.into(),
        })?;
    Ok((id, data))
}

async fn annual(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((plan_id, year)): Path<(String, i32)>,
) -> Result<Html<String>> {
    let (_, data) = annual_of(&state, &viewer, &plan_id, year).await?;
    page(&state, &viewer, "annual", data)
}

async fn annual_download(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((plan_id, year)): Path<(String, i32)>,
) -> Result<Response> {
    let (id, data) = annual_of(&state, &viewer, &plan_id, year).await?;
    let html = reports::annual_file(&state.templates, data, &viewer.lang)?;
    Ok(super::self_contained_download(
        &reports::file_name(&id, year),
        html,
    ))
}

/// The annual report as a Word document for the committee's agenda.
async fn annual_word(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((plan_id, year)): Path<(String, i32)>,
) -> Result<Response> {
    let (id, data) = annual_of(&state, &viewer, &plan_id, year).await?;
    let bytes = crate::render::reports::annual(&state.templates, &data, &viewer.lang)?;
    Ok(super::attachment(
        &reports::docx_file_name(&id, year),
        crate::render::document::CONTENT_TYPE,
        bytes,
    ))
}

#[derive(serde::Deserialize)]
struct PictureQuery {
    /// Only this system and what it depends on and what depends on it.
    system: Option<String>,
}

/// The dependency picture of the plan, or of one system's part of it.
async fn picture(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: axum::http::HeaderMap,
    Path(plan_id): Path<String>,
    Query(q): Query<PictureQuery>,
) -> Result<Response> {
    viewer.require()?;
    let (plan, plan_state) = super::pages::load_with_state(&state, &plan_id).await?;
    let tag = super::conditional::Tag::plan_page(
        &state,
        &viewer,
        &plan_state,
        &[
            "picture",
            plan.id.as_str(),
            q.system.as_deref().unwrap_or(""),
        ],
    );
    if let Some(not_modified) = tag.not_modified(&headers) {
        return Ok(not_modified);
    }
    let today = state.clock.today();
    let findings = state.plans.findings(&plan, today);
    // The picker's text: a system's id or the name it is shown by; anything else is named in
    // an error above the whole picture.
    let typed = q.system.as_deref().map(str::trim).unwrap_or_default();
    let picked = super::pages::pick_system(&plan, typed);
    let unknown = (!typed.is_empty() && picked.is_none()).then(|| {
        state
            .templates
            .text(&viewer.lang, "picture.unknown")
            .replace("{input}", typed)
    });
    let focus = picked.map(|s| s.id.as_str());
    let systems = picture::shown(&plan, focus).ok_or(Error::NotFound)?;
    let title = match focus.and_then(|f| plan.system(f)) {
        Some(s) => format!(
            "{}: {}",
            state.templates.text(&viewer.lang, "picture.title"),
            s.name
        ),
        None => state.templates.text(&viewer.lang, "picture.title"),
    };
    let base = format!("/plans/{}/systems/", plan.id);
    let link = |id: &str| format!("{base}{id}");
    let svg = picture::svg(
        &systems,
        &findings,
        focus,
        &title,
        Some(&link),
        &viewer.lang,
    );
    let options: Vec<Value> = super::incidents::by_name(plan.systems.iter())
        .into_iter()
        .map(|s| json!({"id": s.id, "name": s.name}))
        .collect();
    let neighbours = picture::neighbourhoods(&systems, &link);
    let status = if unknown.is_some() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    let page = super::pages::page_with(
        &state,
        &viewer,
        status,
        "picture",
        json!({
            "plan": {"id": plan.id, "name": plan.name},
            "svg": svg,
            "focus": focus.and_then(|f| plan.system(f)).map(|s| json!({"id": s.id, "name": s.name})),
            "shown": systems.len(),
            "total": plan.systems.len(),
            "options": options,
            "typed": if unknown.is_some() { typed } else { focus.and_then(|f| plan.system(f)).map_or("", |s| s.name.as_str()) },
            "unknown": unknown,
            "neighbours": neighbours,
        }),
    )?;
    Ok(tag.on(page))
}

/// Where a gap of this kind is fixed.
fn fix_path(plan: &PlanId, fix: Fix, missing: &[completeness::Gap]) -> String {
    match fix {
        Fix::Sections => format!("/plans/{plan}/sections/edit"),
        Fix::People => format!("/plans/{plan}/people"),
        Fix::Drills => format!("/plans/{plan}/drills"),
        Fix::Systems => match missing {
            [one] if let Some(system) = one.system() => format!("/plans/{plan}/systems/{system}"),
            _ => format!("/plans/{plan}?only=findings"),
        },
    }
}

/// The start of the plan's exercise interval, counted back from now.
fn interval_start(plan: &Plan, now: chrono::DateTime<Utc>) -> chrono::DateTime<Utc> {
    now - chrono::Duration::minutes(
        i64::try_from(plan.exercise_interval.minutes()).unwrap_or(i64::MAX / 2),
    )
}

/// The checks of the plan against NIS2 and ISO 27001, from the number of approved versions and
/// the drills held (any that reach back to the start of the exercise interval).
async fn completeness_checks(
    state: &AppState,
    plan: &Arc<Plan>,
    approved_versions: usize,
    drills: &[health::HeldDrill],
) -> Result<Vec<completeness::Check>> {
    let coverage = findings_of(state, plan).await?;
    let infeasible = health::infeasible(plan);
    let since = interval_start(plan, state.clock.now());
    Ok(completeness::checks(&completeness::Facts {
        plan,
        findings: &coverage.findings,
        infeasible: &infeasible,
        approved_versions,
        recent_drills: drills.iter().filter(|d| d.held_at >= since).count(),
        recent_call_tree_tests: drills
            .iter()
            .filter(|d| d.call_tree_test && d.held_at >= since)
            .count(),
    }))
}

/// Checks as the page and the evidence file show them, in the reader's language; on the page
/// (`linked`) each system that lacks something links to its section.
fn check_rows(
    state: &AppState,
    lang: &str,
    plan: &Plan,
    checks: &[completeness::Check],
    dispensations: &[Dispensation],
    linked: bool,
) -> Vec<Value> {
    let words = Words::new(&state.templates.locales, lang, Some(plan));
    let today = state.clock.today();
    checks
        .iter()
        .map(|c| {
            // A requirement not met, with an approved dispensation: "dispenseret", not met.
            let dispensed = (c.status != completeness::Status::Present)
                .then(|| dispensation::of_requirement(dispensations, c.id, today))
                .flatten();
            let missing: Vec<Value> = c
                .missing
                .iter()
                .map(|gap| {
                    json!({
                        "text": words.gap(gap),
                        "href": gap.system().filter(|_| linked).map(|s| format!("/plans/{}/systems/{s}", plan.id)),
                    })
                })
                .collect();
            json!({
                "id": c.id,
                "title": format!("completeness.check.{}.title", c.id),
                "asks": format!("completeness.check.{}.asks", c.id),
                "refs": words.references(c.refs),
                "status": if dispensed.is_some() { "dispensed".to_string() } else { status_name(c.status) },
                "status_key": format!("completeness.status.{}", if dispensed.is_some() { "dispensed".to_string() } else { status_name(c.status) }),
                "dispensed": dispensed.map(|d| json!({
                    "text": state.templates.text(lang, "completeness.dispensed")
                        .replace("{id}", &d.id.to_string())
                        .replace("{date}", &d.expires_on().map(|u| super::i18n::date(u, lang)).unwrap_or_default()),
                    "href": format!("/plans/{}/dispensations/{}", plan.id, d.id),
                })),
                "missing": missing,
                "fix": fix_path(&plan.id, c.fix, &c.missing),
            })
        })
        .collect()
}

/// A status as the page's classes and locale keys name it: `present`, `partial`, `missing`.
fn status_name(status: completeness::Status) -> String {
    serde_json::to_value(status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

async fn completeness(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(plan_id): Path<String>,
) -> Result<Html<String>> {
    viewer.require()?;
    let plan = load(&state, &plan_id).await?;
    let versions = store::edits::versions(&state.db, &plan.id).await?;
    let drills = store::health::held_drills(
        &state.db,
        &plan.id,
        Some(interval_start(&plan, state.clock.now())),
    )
    .await?;
    let checks = completeness_checks(&state, &plan, versions.len(), &drills).await?;
    let dispensations = store::dispensations::of_plan(&state.db, plan.id.as_str()).await?;
    let rows = check_rows(&state, &viewer.lang, &plan, &checks, &dispensations, true);
    let count = |s: &str| rows.iter().filter(|c| c["status"] == s).count();
    page(
        &state,
        &viewer,
        "completeness",
        json!({
            "plan": {"id": plan.id, "name": plan.name},
            "present": count("present"),
            "partial": count("partial"),
            "missing": count("missing"),
            "dispensed": count("dispensed"),
            "checks": rows,
        }),
    )
}

/// The evidence for an auditor, as one self-contained HTML file: completeness, versions and
/// approvals, drills and their results, incidents, action items, the review history and the
/// approved plan itself. For those who may read the audit log (it names who did what).
async fn evidence(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(plan_id): Path<String>,
) -> Result<Response> {
    viewer.require_that(|a| a.may_read_audit())?;
    let lang = viewer.lang.clone();
    let plan = load(&state, &plan_id).await?;
    let shown = state.runbook(&plan.id).await?.ok_or(Error::NotFound)?;
    let versions = store::edits::versions(&state.db, &plan.id).await?;
    let drills = store::health::held_drills(&state.db, &plan.id, None).await?;
    let checks = completeness_checks(&state, &plan, versions.len(), &drills).await?;
    let dispensations = store::dispensations::of_plan(&state.db, plan.id.as_str()).await?;
    let coverage = findings_of(&state, &plan).await?;
    let incidents = store::health::incidents(&state.db, &plan.id).await?;
    let reviews = store::health::review_changes(&state.db, &plan.id).await?;
    let items = store::actions::list(
        &state.db,
        store::actions::Filter {
            plan: Some(plan.id.as_str()),
            ..Default::default()
        },
    )
    .await?;
    let when = |at| local(&state, at, &lang);
    let name = |id: &str| plan.system(id).map_or(id.to_string(), |s| s.name.clone());
    let mut data = runbook::data(&shown.document(), &lang, true);
    data["css"] = json!(super::render::static_text("app.css"));
    data["generated"] = json!(super::i18n::date(state.clock.today(), &lang));
    data["evidence"] = json!({
        "checks": check_rows(&state, &lang, &plan, &checks, &dispensations, false),
        "dispensations": super::dispensations::evidence(&state, &lang, &plan, &coverage.findings, &state.names().await?, &dispensations),
        "versions": versions.iter().map(|v| json!({
            "number": v.number,
            "approved": when(v.approved_at),
            "approved_by": v.approver,
            "comment": v.comment,
        })).collect::<Vec<_>>(),
        "drills": drills.iter().rev().map(|d| {
            let o = health::drill_outcome(&shown.plan, d);
            let mut records: Vec<Value> = d.records.iter().map(|(id, r)| json!({
                "system": name(id),
                "recovery": r.recovery.map(|t| super::i18n::duration(t, &lang)),
                "notes": r.notes,
            })).collect();
            records.sort_by(|a, b| a["system"].as_str().cmp(&b["system"].as_str()));
            json!({"title": d.title, "held": when(d.held_at), "met": o.met, "missed": o.missed, "unknown": o.unknown, "records": records})
        }).collect::<Vec<_>>(),
        "incidents": incidents.iter().rev().map(|i| {
            let end = i.closed_at.unwrap_or_else(Utc::now);
            json!({
                "title": i.title,
                "started": when(i.started_at),
                "closed": i.closed_at.map(when),
                "recoveries": crate::domain::incident::closing_record(&plan, &i.outages, end).iter().map(|r| json!({
                    "system": name(r.id.as_str()),
                    "took": super::i18n::duration(r.took, &lang),
                    "rto": r.rto.map(|d| super::i18n::duration(d, &lang)),
                    "missed": r.rto_met == Some(false),
                })).collect::<Vec<_>>(),
            })
        }).collect::<Vec<_>>(),
        "actions": super::actions::action_rows(&plan, &items, &lang, state.clock.today()),
        "reviews": reviews.iter().rev().map(|r| json!({
            "at": when(r.at),
            "by": r.by,
            "system": name(&r.system),
            "before": r.before.map(|d| super::i18n::date(d, &lang)).unwrap_or_else(|| "—".into()),
            "after": r.after.map(|d| super::i18n::date(d, &lang)).unwrap_or_else(|| "—".into()),
        })).collect::<Vec<_>>(),
    });
    let html = state.templates.fragment("evidence_export", &lang, data)?;
    Ok(super::self_contained_download(
        &format!("dokumentation-{}.html", plan.id),
        html,
    ))
}
