//! Incident mode: the incident lead activates the plan against a real outage, marks what is down,
//! and everyone working the incident sees what that takes down, the order to recover in, each
//! system's steps as a checklist, a clock per system against its RTO, and a shared timeline —
//! live (server-sent events) where the browser allows it, by plain reload where it does not.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::Viewer;
use super::edit::Fields;
use super::pages::{load, page, page_with};
use super::{AppState, Error, Result, i18n};
use crate::domain::incident::{self, Clock, Outage};
use crate::domain::{Plan, PlanId};
use crate::render::tel;
use crate::store::incidents::{self as store_incidents, Changed, Incident, STAND_DOWN};
use crate::store::{self};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/plans/{plan}/incidents", get(list).post(open))
        .route("/incidents/{id}", get(show))
        .route("/incidents/{id}/live", get(live))
        .route("/incidents/{id}/systems", post(mark))
        .route("/incidents/{id}/ticks", post(tick))
        .route("/incidents/{id}/notes", post(note))
        .route("/incidents/{id}/alert", post(alert))
        .route("/incidents/{id}/stand-down", post(stand_down))
        .route("/incidents/{id}/close", post(close))
        .route("/incidents/{id}/report", get(report))
        .route("/incidents/{id}/actions", post(new_action))
}

/// The items of the stand-down checklist (nedlukning), by locale key.
const STAND_DOWN_ITEMS: [&str; 4] = [
    "incident.sd.workarounds",
    "incident.sd.data",
    "incident.sd.users",
    "incident.sd.watch",
];

/// A moment in the server's time zone, as the page shows it.
fn local(at: DateTime<Utc>, state: &AppState, lang: &str) -> String {
    i18n::local_time(state.clock.local(at), lang)
}

/// The plan an incident works from: the approved version it was opened on (immutable, so cached
/// for good), or the draft when nothing was approved.
async fn plan_of(state: &AppState, incident: &Incident) -> Result<Arc<Plan>> {
    match incident.version {
        Some(number) => {
            let id = PlanId::parse(&incident.plan_id).map_err(|_| Error::NotFound)?;
            state
                .plans
                .version(&state.db, &id, number)
                .await?
                .ok_or(Error::NotFound)
        }
        None => load(state, &incident.plan_id).await,
    }
}

/// An incident with its plan and what the viewer may do.
struct Loaded {
    incident: Incident,
    plan: Arc<Plan>,
    username: String,
    /// Ticks, marks systems, adds notes: everyone signed in but viewers.
    may_work: bool,
    /// Alerts, stands down, closes: the incident lead, the coordinator, the administrator.
    may_lead: bool,
}

async fn load_incident(state: &AppState, viewer: &Viewer, id: i64) -> Result<Loaded> {
    let user = viewer.require()?;
    let incident = store_incidents::find(&state.db, id)
        .await?
        .ok_or(Error::NotFound)?;
    let plan = plan_of(state, &incident).await?;
    Ok(Loaded {
        username: user.actor.username.clone(),
        may_work: user.actor.may_work_incident(),
        may_lead: user.actor.may_lead_incident(),
        incident,
        plan,
    })
}

async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(plan_id): Path<String>,
) -> Result<Response> {
    let user = viewer.require()?;
    let plan = load(&state, &plan_id).await?;
    let data = list_view(
        &state,
        &viewer.lang,
        &plan,
        user.actor.may_lead_incident(),
        &OpenForm::default(),
        &[],
    )
    .await?;
    page(&state, &viewer, "incidents", data).map(IntoResponse::into_response)
}

/// The open-an-incident form as typed.
#[derive(Debug, Default, Clone)]
struct OpenForm {
    title: String,
    criterion: String,
    started: String,
    down: Vec<String>,
}

async fn list_view(
    state: &AppState,
    lang: &str,
    plan: &Plan,
    may_open: bool,
    form: &OpenForm,
    errors: &[(&str, String)],
) -> Result<Value> {
    let incidents: Vec<Value> = store_incidents::list(&state.db, plan.id.as_str())
        .await?
        .iter()
        .map(|i| {
            json!({
                "id": i.id,
                "title": i.title,
                "started": local(i.started_at, state, lang),
                "state_key": format!("incident.state.{}", i.state),
                "closed": i.state == store_incidents::CLOSED,
            })
        })
        .collect();
    let error = |field: &str| {
        errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.clone())
    };
    Ok(json!({
        "plan": {"id": plan.id, "name": plan.name},
        "incidents": incidents,
        "may_open": may_open,
        "form": {
            "title": form.title,
            "started": form.started,
            "criteria": plan.sections.activation_criteria.iter().map(|c| json!({"text": c, "selected": form.criterion == *c})).collect::<Vec<_>>(),
            "systems": plan.systems.iter().map(|s| json!({"id": s.id, "name": s.name, "checked": form.down.iter().any(|d| d == s.id.as_str())})).collect::<Vec<_>>(),
        },
        "title_error": error("title"),
        "started_error": error("started"),
        "down_error": error("down"),
        "error_count": errors.len(),
        "errors": errors.iter().map(|(f, m)| json!({"field": f, "message": m})).collect::<Vec<_>>(),
    }))
}

/// Opens an incident: the plan is activated.
async fn open(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(plan_id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response> {
    let user = viewer.require_that(|a| a.may_lead_incident())?;
    let draft = load(&state, &plan_id).await?;
    let f = Fields(pairs);
    let form = OpenForm {
        title: f.get("title").trim().to_string(),
        criterion: f.get("criterion").trim().to_string(),
        started: f.get("started").trim().to_string(),
        down: f.all("down"),
    };
    let t = |key: &str| state.templates.text(&viewer.lang, key);
    let mut errors: Vec<(&str, String)> = Vec::new();
    if form.title.is_empty() {
        errors.push(("title", t("problem.required")));
    }
    let now = state.clock.now();
    let started = match form.started.as_str() {
        "" => Some(now),
        text => NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
            .ok()
            .and_then(|at| crate::domain::drill::local_to_utc(at, state.clock.zone()).ok())
            .filter(|at| *at <= now + chrono::Duration::minutes(5)),
    };
    if started.is_none() {
        errors.push((
            "started",
            t("incident.bad_start").replace("{input}", &form.started),
        ));
    }
    // The incident works from the latest approved version, as the runbook does.
    let shown = state.runbook(&draft.id).await?.ok_or(Error::NotFound)?;
    for id in &form.down {
        if shown.plan.system(id).is_none() {
            errors.push(("down", t("incident.unknown_system").replace("{id}", id)));
        }
    }
    let Some(started) = started.filter(|_| errors.is_empty()) else {
        let data = list_view(&state, &viewer.lang, &draft, true, &form, &errors).await?;
        return page_with(
            &state,
            &viewer,
            StatusCode::UNPROCESSABLE_ENTITY,
            "incidents",
            data,
        );
    };
    let id = state
        .open_incident(store_incidents::NewIncident {
            plan_id: draft.id.to_string(),
            version: shown.version.as_ref().map(|v| v.number),
            title: form.title,
            criterion: form.criterion,
            started_at: started,
            opened_by: user.actor.username.clone(),
            down: form.down,
        })
        .await?;
    Ok(Redirect::to(&format!("/incidents/{id}")).into_response())
}

#[derive(Deserialize, Default)]
struct ShowQuery {
    /// `live`: only the part of the page that changes, for the page's script.
    part: Option<String>,
    /// A system affected through a dependency whose checklist is shown too.
    system: Option<String>,
}

/// What the incident page shows.
/// What the incident page shows. The checklists are those of the systems marked down — the
/// ones whose recovery steps are carried out — and of `expand`; a system affected only through
/// a dependency shows its clock and how many of its steps are ticked, with a link to its list.
async fn incident_view(
    state: &AppState,
    l: &Loaded,
    lang: &str,
    expand: Option<&str>,
) -> Result<Value> {
    let now = state.clock.now();
    let i = &l.incident;
    let plan = &l.plan;
    let outages: Vec<Outage> = store_incidents::outages(&state.db, i.id).await?;
    let until = i.closed_at.unwrap_or(now);
    let situation = incident::situation(plan, &outages, until);
    let mut ticked: HashMap<(String, i32), (String, DateTime<Utc>)> = HashMap::new();
    for t in store_incidents::ticks(&state.db, i.id).await? {
        ticked.insert((t.system_id, t.step), (t.ticked_by, t.ticked_at));
    }
    let open = i.state != store_incidents::CLOSED;
    let may = l.may_work && open;
    let t = |key: &str| state.templates.text(lang, key);
    let (tick_label, untick_label) = (t("incident.tick"), t("incident.untick"));
    let ticked_by = t("incident.ticked_by");
    let step_view = |system: &str, step: i32, text: &str, meta: String| {
        let tick = ticked.get(&(system.to_string(), step));
        let n = step + 1;
        let meta = match tick {
            Some((by, at)) => {
                let done = ticked_by
                    .replace("{by}", by)
                    .replace("{at}", &local(*at, state, lang));
                if meta.is_empty() {
                    done
                } else {
                    format!("{meta} · {done}")
                }
            }
            None => meta,
        };
        json!({
            "system": system,
            "step": step,
            "n": n,
            "text": text,
            "meta": meta,
            "done": tick.is_some(),
            "label": format!("{} {n}", if tick.is_some() { &untick_label } else { &tick_label }),
        })
    };
    let role_name = |id: &crate::domain::RoleId| {
        plan.roles
            .iter()
            .find(|r| &r.id == id)
            .map_or(id.to_string(), |r| r.name.clone())
    };
    // Strings on every row are looked up once.
    let (down_tag, dependency_tag) = (t("incident.is_down"), t("incident.through_deps"));
    let (since_text, earliest_text) = (t("incident.since_short"), t("incident.earliest"));
    let progress_text = t("incident.steps_done");
    let clock_texts: HashMap<&str, String> = ["green", "amber", "red", "none"]
        .into_iter()
        .map(|c| (c, t(&format!("incident.clock.{c}"))))
        .collect();
    let affected: Vec<Value> = situation
        .affected
        .iter()
        .map(|a| {
            let system = plan.system(a.id.as_str());
            let all = system.map_or(0, |s| s.recovery_steps.len());
            let done = (0..all)
                .filter(|n| {
                    ticked.contains_key(&(a.id.to_string(), i32::try_from(*n).unwrap_or(i32::MAX)))
                })
                .count();
            let shown = a.down || expand == Some(a.id.as_str());
            let steps: Vec<Value> = system
                .filter(|_| shown)
                .map(|s| {
                    s.recovery_steps
                        .iter()
                        .enumerate()
                        .map(|(n, st)| {
                            let meta = format!("{} · {}", role_name(&st.role), i18n::duration(st.duration, lang));
                            step_view(a.id.as_str(), i32::try_from(n).unwrap_or(i32::MAX), &st.text, meta)
                        })
                        .collect()
                })
                .unwrap_or_default();
            let clock = a.clock.map_or("none", Clock::as_str);
            json!({
                "id": a.id,
                "name": system.map_or(a.id.as_str(), |s| s.name.as_str()),
                "down": a.down,
                "detail": shown,
                "tag": if a.down { &down_tag } else { &dependency_tag },
                "since_text": since_text.replace("{at}", &local(a.since, state, lang)),
                "elapsed": i18n::duration(a.elapsed, lang),
                "rto": a.rto.map(|d| i18n::duration(d, lang)),
                "clock": clock,
                "clock_text": clock_texts.get(clock).cloned().unwrap_or_default(),
                "earliest_text": earliest_text.replace("{earliest}", &i18n::duration(a.earliest_recovery, lang)),
                "progress": progress_text.replace("{done}", &done.to_string()).replace("{total}", &all.to_string()),
                "feasible": a.feasible,
                "workaround": system.map(|s| s.workaround.clone()).unwrap_or_default(),
                "verification": system.map(|s| s.verification.clone()).unwrap_or_default(),
                "steps": steps,
                "steps_hidden": !shown && all > 0,
                "supplier": system.and_then(|s| s.supplier.as_ref()).map(|x| json!({"name": x.name, "phone": x.phone, "tel": tel(&x.phone)})),
            })
        })
        .collect();
    let recovered: Vec<Value> = situation
        .recovered
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "name": plan.system(r.id.as_str()).map_or(r.id.as_str(), |s| s.name.as_str()),
                "took": i18n::duration(r.took, lang),
                "rto": r.rto.map(|d| i18n::duration(d, lang)),
                "met": r.rto_met,
            })
        })
        .collect();
    let system_name = |id: &Option<String>| {
        id.as_deref()
            .map(|s| plan.system(s).map_or(s.to_string(), |x| x.name.clone()))
            .unwrap_or_default()
    };
    let timeline: Vec<Value> = store_incidents::events(&state.db, i.id)
        .await?
        .iter()
        .map(|e| {
            let text = match e.kind.as_str() {
                "note" => e.text.clone(),
                "open" => t("incident.ev.open").replace("{title}", &e.text),
                "tick" | "untick" => {
                    let what = if e.system_id.is_some() {
                        system_name(&e.system_id)
                    } else {
                        t("incident.stand_down")
                    };
                    let n = e.text.parse::<i32>().map_or(0, |n| n + 1);
                    t(&format!("incident.ev.{}", e.kind))
                        .replace("{system}", &what)
                        .replace("{n}", &n.to_string())
                }
                "alert" => state.templates.counted(lang, "incident.ev.alert", e.text.parse().unwrap_or(0)),
                kind => t(&format!("incident.ev.{kind}")).replace("{system}", &system_name(&e.system_id)),
            };
            json!({"at": local(e.at, state, lang), "author": e.author, "text": text, "note": e.kind == "note"})
        })
        .collect();
    let stand_down: Vec<Value> = STAND_DOWN_ITEMS
        .iter()
        .enumerate()
        .map(|(n, key)| {
            step_view(
                STAND_DOWN,
                i32::try_from(n).unwrap_or(0),
                &t(key),
                String::new(),
            )
        })
        .collect();
    let down_now: Vec<&str> = situation
        .affected
        .iter()
        .filter(|a| a.down)
        .map(|a| a.id.as_str())
        .collect();
    Ok(json!({
        "plan": {"id": plan.id, "name": plan.name},
        "incident": {
            "id": i.id,
            "title": i.title,
            "criterion": i.criterion,
            "started": local(i.started_at, state, lang),
            "opened_by": i.opened_by,
            "state": i.state,
            "state_key": format!("incident.state.{}", i.state),
            "version": i.version,
            "revision": i.revision,
            "closed": !open,
            "standing_down": i.state == store_incidents::STANDING_DOWN,
        },
        "affected": affected,
        "affected_count": situation.affected.len(),
        "down_count": down_now.len(),
        "recovered": recovered,
        "timeline": timeline,
        "stand_down": stand_down,
        "return_to_normal": plan.sections.return_to_normal,
        "markable": plan.systems.iter().filter(|s| !down_now.contains(&s.id.as_str())).map(|s| json!({"id": s.id, "name": s.name})).collect::<Vec<_>>(),
        "call_tree": plan.call_tree.iter().filter_map(|c| plan.person(c.person.as_str())).map(|p| json!({"name": p.name, "title": p.title, "phone": p.phone, "tel": tel(&p.phone), "email": p.email})).collect::<Vec<_>>(),
        "may_work": may,
        "may_lead": l.may_lead && open,
        "labels": {
            "show_steps": t("incident.show_steps"),
            "not_feasible": t("incident.not_feasible"),
            "workaround": t("system.workaround"),
            "verification": t("system.verification"),
            "mark_recovered": t("incident.mark_recovered"),
        },
    }))
}

/// Stands in for the session's CSRF token in cached renderings; replaced on the way out.
const CSRF_SLOT: &str = "CSRFSLOT0b7d4e";

async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Query(q): Query<ShowQuery>,
) -> Result<Response> {
    let l = load_incident(&state, &viewer, id).await?;
    // The changing part is rendered once per incident revision, minute (the clocks), language,
    // opened checklist and permissions, then served from memory to everyone in the incident.
    let minute = state.clock.now().timestamp() / 60;
    let expand = q.system.as_deref().unwrap_or("");
    let key = format!(
        "incident|{id}|{}|{minute}|{}|{expand}|{}|{}",
        l.incident.revision, viewer.lang, l.may_work, l.may_lead
    );
    let live = state
        .fragments
        .get_or_render(key, || async {
            let mut data = incident_view(&state, &l, &viewer.lang, q.system.as_deref()).await?;
            data["csrf"] = json!(CSRF_SLOT);
            Ok::<_, Error>(
                state
                    .templates
                    .fragment("incident_live", &viewer.lang, data)?,
            )
        })
        .await?;
    let live = live
        .html
        .replace(CSRF_SLOT, viewer.csrf.as_deref().unwrap_or_default());
    if q.part.as_deref() == Some("live") {
        // Only the changing part, for the page's script.
        return Ok(axum::response::Html(live).into_response());
    }
    let data = json!({
        "path": format!("/incidents/{id}"),
        "plan": {"id": l.plan.id, "name": l.plan.name},
        "incident": {"id": id, "title": l.incident.title, "revision": l.incident.revision},
        "may_work": l.may_work && l.incident.state != store_incidents::CLOSED,
        "live": live,
    });
    page(&state, &viewer, "incident", data).map(IntoResponse::into_response)
}

/// Server-sent events: `changed` with the incident's revision whenever it changes (checked
/// every half second in the database, so changes made through any server process are seen).
/// The stream ends when the server shuts down; browsers reconnect on their own.
async fn live(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Response> {
    viewer.require()?;
    let first = store_incidents::revision(&state.db, id)
        .await?
        .ok_or(Error::NotFound)?;
    let db = state.db.clone();
    let stopping = state.stopping.clone();
    let stream = futures_util::stream::unfold(
        (None::<i64>, first, stopping),
        move |(sent, mut current, mut stopping)| {
            let db = db.clone();
            async move {
                loop {
                    if sent != Some(current) {
                        let event = SseEvent::default()
                            .event("changed")
                            .data(current.to_string());
                        return Some((
                            Ok::<_, Infallible>(event),
                            (Some(current), current, stopping),
                        ));
                    }
                    tokio::select! {
                        _ = stopping.changed() => return None,
                        () = tokio::time::sleep(StdDuration::from_millis(500)) => {}
                    }
                    if *stopping.borrow() {
                        return None;
                    }
                    match store_incidents::revision(&db, id).await {
                        Ok(Some(r)) => current = r,
                        Ok(None) => return None,
                        Err(e) => tracing::warn!(error = %e, incident = id, "live updates"),
                    }
                }
            }
        },
    );
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// The answer to a change: back to the page (at `anchor`), or JSON for the script; a closed
/// incident is 409, a change that was made already is said so.
fn answer(
    state: &AppState,
    lang: &str,
    headers: &HeaderMap,
    id: i64,
    anchor: &str,
    changed: Changed,
) -> Result<Response> {
    let message = |key: &str| state.templates.text(lang, key);
    match changed {
        Changed::Gone => Err(Error::NotFound),
        Changed::Closed => {
            let text = message("incident.closed_refused");
            Ok(if super::by_script(headers) {
                (StatusCode::CONFLICT, axum::Json(json!({"error": text}))).into_response()
            } else {
                (StatusCode::CONFLICT, text).into_response()
            })
        }
        Changed::Done | Changed::Unchanged => {
            let done = changed == Changed::Done;
            Ok(if super::by_script(headers) {
                axum::Json(json!({"changed": done})).into_response()
            } else {
                let notice = if done { "" } else { "?unchanged=1" };
                Redirect::to(&format!("/incidents/{id}{notice}#{anchor}")).into_response()
            })
        }
    }
}

/// Marks a system down or recovered.
async fn mark(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response> {
    let l = load_incident(&state, &viewer, id).await?;
    if !l.may_work {
        return Err(Error::Forbidden);
    }
    let f = Fields(pairs);
    let system = f.get("system").trim().to_string();
    if l.plan.system(&system).is_none() {
        let text = state
            .templates
            .text(&viewer.lang, "incident.unknown_system")
            .replace("{id}", &system);
        return Ok(super::refusal(
            &headers,
            StatusCode::UNPROCESSABLE_ENTITY,
            text,
        ));
    }
    let down = f.get("state") != "recovered";
    let changed = state.mark_system(id, &system, down, &l.username).await?;
    answer(
        &state,
        &viewer.lang,
        &headers,
        id,
        &format!("sys-{system}"),
        changed,
    )
}

/// Ticks or un-ticks one step of a system's checklist, or of the stand-down checklist.
async fn tick(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response> {
    let l = load_incident(&state, &viewer, id).await?;
    if !l.may_work {
        return Err(Error::Forbidden);
    }
    let f = Fields(pairs);
    let system = f.get("system").trim().to_string();
    let steps = if system.is_empty() {
        Some(STAND_DOWN_ITEMS.len())
    } else {
        l.plan.system(&system).map(|s| s.recovery_steps.len())
    };
    let step = f.get("step").trim().parse::<usize>().ok();
    let Some(step) = step.filter(|n| steps.is_some_and(|steps| *n < steps)) else {
        let text = state
            .templates
            .text(&viewer.lang, "incident.unknown_step")
            .replace("{system}", &system)
            .replace(
                "{step}",
                &step.map_or_else(|| f.get("step"), |n| (n + 1).to_string()),
            );
        return Ok(super::refusal(
            &headers,
            StatusCode::UNPROCESSABLE_ENTITY,
            text,
        ));
    };
    let done = f.get("done") != "0";
    let step = i32::try_from(step).unwrap_or(i32::MAX);
    let changed = state
        .tick_step(id, &system, step, done, &l.username)
        .await?;
    let anchor = if system.is_empty() {
        "stand-down".to_string()
    } else {
        format!("sys-{system}")
    };
    answer(&state, &viewer.lang, &headers, id, &anchor, changed)
}

async fn note(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response> {
    let l = load_incident(&state, &viewer, id).await?;
    if !l.may_work {
        return Err(Error::Forbidden);
    }
    let text = Fields(pairs).get("text");
    let text = text.trim();
    if text.chars().count() > crate::domain::edit::MAX_FIELD_CHARS {
        return Err(Error::TooLarge);
    }
    if text.is_empty() {
        return answer(
            &state,
            &viewer.lang,
            &headers,
            id,
            "timeline",
            Changed::Unchanged,
        );
    }
    let changed = state.note_incident(id, &l.username, text).await?;
    answer(&state, &viewer.lang, &headers, id, "timeline", changed)
}

/// Alerts the people of the call tree by mail.
async fn alert(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Result<Response> {
    let l = load_incident(&state, &viewer, id).await?;
    if !l.may_lead {
        return Err(Error::Forbidden);
    }
    let changed = state
        .alert_call_tree(&l.plan, &l.incident, &l.username)
        .await?;
    answer(&state, &viewer.lang, &headers, id, "call-tree", changed)
}

async fn advance(
    state: &AppState,
    viewer: &Viewer,
    headers: &HeaderMap,
    id: i64,
    to: &str,
) -> Result<Response> {
    let l = load_incident(state, viewer, id).await?;
    if !l.may_lead {
        return Err(Error::Forbidden);
    }
    let changed = state.advance_incident(id, to, &l.username).await?;
    if to == store_incidents::CLOSED && changed == Changed::Done && !super::by_script(headers) {
        return Ok(Redirect::to(&format!("/incidents/{id}/report")).into_response());
    }
    answer(state, &viewer.lang, headers, id, "stand-down", changed)
}

/// Begins standing down (nedlukning): the return from workarounds to normal operation.
async fn stand_down(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Result<Response> {
    advance(
        &state,
        &viewer,
        &headers,
        id,
        store_incidents::STANDING_DOWN,
    )
    .await
}

/// Closes the incident: the record is kept as it is, and the report is made from it.
async fn close(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Result<Response> {
    advance(&state, &viewer, &headers, id, store_incidents::CLOSED).await
}

/// The incident report: per system marked down, how long it was out against its RTO, and the
/// timeline; built like a drill's after-action report.
async fn report(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Response> {
    let l = load_incident(&state, &viewer, id).await?;
    let lang = &viewer.lang;
    let outages: Vec<Outage> = store_incidents::outages(&state.db, id).await?;
    let until = l.incident.closed_at.unwrap_or_else(Utc::now);
    let record = incident::closing_record(&l.plan, &outages, until);
    let met = record.iter().filter(|r| r.rto_met == Some(true)).count();
    let missed = record.iter().filter(|r| r.rto_met == Some(false)).count();
    let mut data = incident_view(&state, &l, lang, None).await?;
    data["record"] = json!(
        record
            .iter()
            .map(|r| json!({
                "id": r.id,
                "name": l.plan.system(r.id.as_str()).map_or(r.id.as_str(), |s| s.name.as_str()),
                "took": i18n::duration(r.took, lang),
                "took_minutes": r.took.minutes(),
                "rto": r.rto.map(|d| i18n::duration(d, lang)),
                "met": r.rto_met,
            }))
            .collect::<Vec<_>>()
    );
    data["rto_met"] = json!(met);
    data["rto_missed"] = json!(missed);
    data["rto_unknown"] = json!(record.len() - met - missed);
    let draft = load(&state, &l.incident.plan_id).await?;
    let items = store::actions::list(
        &state.db,
        store::actions::Filter {
            incident: Some(id),
            ..Default::default()
        },
    )
    .await?;
    data["actions"] = json!(super::actions::action_rows(
        &draft,
        &items,
        lang,
        state.clock.today()
    ));
    data["may_act"] = json!(l.may_lead);
    data["people"] = json!(
        draft
            .people
            .iter()
            .map(|p| json!({"id": p.id, "name": p.name}))
            .collect::<Vec<_>>()
    );
    data["systems"] = json!(
        draft
            .systems
            .iter()
            .map(|s| json!({"id": s.id, "name": s.name}))
            .collect::<Vec<_>>()
    );
    page(&state, &viewer, "incident_report", data).map(IntoResponse::into_response)
}

/// A finding of the incident becomes an action item for a person of the plan.
async fn new_action(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response> {
    let user = viewer.require_that(|a| a.may_lead_incident())?;
    let incident = store_incidents::find(&state.db, id)
        .await?
        .ok_or(Error::NotFound)?;
    let draft = load(&state, &incident.plan_id).await?;
    let source = super::actions::ActionSource {
        title: &incident.title,
        occurrence_id: None,
        incident_id: Some(id),
    };
    let actor = user.actor.username.clone();
    if let Some(refused) =
        super::actions::create_action(&state, &viewer, &draft, &actor, source, pairs).await?
    {
        return Ok(refused);
    }
    Ok(Redirect::to(&format!("/incidents/{id}/report#actions")).into_response())
}
