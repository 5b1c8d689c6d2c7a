//! Drill pages: the plan's drill programme and scenario library, planning a drill, one drill
//! with its occurrences and what was sent, and the outbox.

use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::Viewer;
use super::edit::{Fields, problem_text};
use super::i18n;
use super::pages::{load, page, page_with};
use super::{AppState, Error, Result};
pub(super) use crate::app::actions::ActionSource;
use crate::app::actions::NewAction;
use crate::app::drills::schedule_text;
use crate::domain::drill::{DrillForm, Schedule};
use crate::domain::{Plan, ScenarioId};
use crate::store::{self, drills::Drill, outbox};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/plans/{plan}/drills", get(list))
        .route("/plans/{plan}/drills/new", get(new_form).post(create))
        .route("/drills/{id}", get(show))
        .route("/drills/{id}/edit", get(edit_form).post(update))
        .route("/drills/{id}/cancel", axum::routing::post(cancel))
        .route("/drills/{id}/reschedule", axum::routing::post(reschedule))
        .route("/occurrences/{id}", get(run))
        .route(
            "/occurrences/{id}/systems/{system}",
            axum::routing::post(record),
        )
        .route("/occurrences/{id}/notes", axum::routing::post(note))
        .route("/occurrences/{id}/close", axum::routing::post(close))
        .route("/occurrences/{id}/start", axum::routing::post(start))
        .route("/occurrences/{id}/report", get(report))
        .route("/occurrences/{id}/report.json", get(report_json))
        .route("/occurrences/{id}/report.html", get(report_html))
        .route("/occurrences/{id}/actions", axum::routing::post(new_action))
        .route(
            "/occurrences/{id}/evaluation",
            axum::routing::post(evaluate),
        )
        .route("/plans/{plan}/actions", get(actions_page))
        .route("/actions/{id}/status", axum::routing::post(action_status))
        .route("/outbox", get(outbox_page))
}

/// A moment as the plan's people read it: local date and time in the drill's time zone.
pub(super) fn local(
    state: &AppState,
    at: chrono::DateTime<Utc>,
    drill: &Drill,
    lang: &str,
) -> String {
    i18n::local_time(at.with_timezone(&state.drill_zone(drill)), lang)
}

async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(plan_id): Path<String>,
) -> Result<Response> {
    let user = viewer.require()?;
    let plan = load(&state, &plan_id).await?;
    let library = store::drills::scenarios(&state.db, &plan.id).await?;
    let now = state.clock.now();
    let mut drills = Vec::new();
    for d in store::drills::list(&state.db, Some(&plan.id)).await? {
        let next = store::drills::occurrences(&state.db, d.id)
            .await?
            .into_iter()
            .find(|o| o.starts_at > now);
        drills.push(json!({
            "id": d.id,
            "title": d.title,
            "kind": format!("drill.kind.{}", d.scenario.kind.as_str()),
            "schedule": schedule_text(&d.schedule),
            "next": next.as_ref().map(|o| local(&state, o.starts_at, &d, &viewer.lang)),
            "invited": next.as_ref().is_some_and(|o| o.invited_at.is_some()),
            "participants": d.participants.len(),
        }));
    }
    page(
        &state,
        &viewer,
        "drills",
        json!({
            "plan": {"id": plan.id, "name": plan.name},
            "drills": drills,
            "scenarios": library.iter().map(|s| json!({
                "id": s.id,
                "title": s.title,
                "kind": format!("drill.kind.{}", s.kind.as_str()),
                "duration": super::i18n::duration(s.duration, &viewer.lang),
                "systems": s.systems_down,
            })).collect::<Vec<_>>(),
            "may_plan": user.actor.may_edit_plan(),
        }),
    )
    .map(IntoResponse::into_response)
}

#[derive(Deserialize)]
struct NewQuery {
    scenario: String,
}

async fn scenario_of(
    state: &AppState,
    plan: &Plan,
    id: &str,
) -> Result<crate::domain::drill::Scenario> {
    let id = ScenarioId::parse(id).map_err(|_| Error::NotFound)?;
    store::drills::scenarios(&state.db, &plan.id)
        .await?
        .into_iter()
        .find(|s| s.id == id)
        .ok_or(Error::NotFound)
}

fn form_view(
    state: &AppState,
    lang: &str,
    plan: &Plan,
    scenario: &crate::domain::drill::Scenario,
    form: &DrillForm,
    errors: &[crate::domain::edit::FieldError],
) -> Value {
    let error = |field: &str| {
        errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| problem_text(state, lang, &e.problem))
    };
    let f = |name: &str, value: &str| json!({"name": name, "value": value, "error": error(name)});
    json!({
        "plan": {"id": plan.id, "name": plan.name},
        "scenario": {
            "id": scenario.id,
            "title": scenario.title,
            "kind": format!("drill.kind.{}", scenario.kind.as_str()),
            "narrative": scenario.narrative,
            "duration": super::i18n::duration(scenario.duration, lang),
        },
        "f": {
            "title": f("title", &form.title),
            "at": f("at", &form.at),
            "cron": f("cron", &form.cron),
            "location": f("location", &form.location),
            "invite_days_before": f("invite_days_before", &form.invite_days_before),
        },
        "recurring": form.repeat == "recurring",
        "facilitators": std::iter::once(json!({"value": "", "label": "—", "selected": form.facilitator.is_empty()}))
            .chain(plan.people.iter().map(|p| json!({"value": p.id, "label": p.name, "selected": form.facilitator == p.id.as_str()})))
            .collect::<Vec<_>>(),
        "people": plan.people.iter().map(|p| json!({
            "id": p.id,
            "name": p.name,
            "title": p.title,
            "checked": form.participants.iter().any(|x| x == p.id.as_str()),
        })).collect::<Vec<_>>(),
        "editing": false,
        "drill_id": null,
        "participants_error": error("participants"),
        "facilitator_error": error("facilitator"),
        "error_count": errors.len(),
        "errors": errors.iter().map(|e| json!({"field": e.field, "message": problem_text(state, lang, &e.problem)})).collect::<Vec<_>>(),
    })
}

async fn new_form(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(plan_id): Path<String>,
    Query(q): Query<NewQuery>,
) -> Result<Response> {
    viewer.require_that(|a| a.may_edit_plan())?;
    let plan = load(&state, &plan_id).await?;
    let scenario = scenario_of(&state, &plan, &q.scenario).await?;
    let form = DrillForm {
        title: scenario.title.clone(),
        repeat: "once".into(),
        participants: scenario
            .default_participants(&plan)
            .iter()
            .map(ToString::to_string)
            .collect(),
        invite_days_before: state.config.invite_days_before.to_string(),
        ..DrillForm::default()
    };
    let data = form_view(&state, &viewer.lang, &plan, &scenario, &form, &[]);
    page(&state, &viewer, "drill_new", data).map(IntoResponse::into_response)
}

async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(plan_id): Path<String>,
    Query(q): Query<NewQuery>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response> {
    let user = viewer.require_that(|a| a.may_edit_plan())?;
    let plan = load(&state, &plan_id).await?;
    let scenario = scenario_of(&state, &plan, &q.scenario).await?;
    let f = Fields(pairs);
    let form = DrillForm {
        title: f.get("title"),
        repeat: f.get("repeat"),
        at: f.get("at"),
        cron: f.get("cron"),
        location: f.get("location"),
        facilitator: f.get("facilitator"),
        participants: f.all("participant"),
        invite_days_before: f.get("invite_days_before"),
    };
    let planned = match form.apply(&plan, state.clock.zone(), state.clock.now()) {
        Ok(p) => p,
        Err(errors) => {
            let data = form_view(&state, &viewer.lang, &plan, &scenario, &form, &errors);
            return page_with(
                &state,
                &viewer,
                StatusCode::UNPROCESSABLE_ENTITY,
                "drill_new",
                data,
            );
        }
    };
    let drill = Drill {
        id: 0,
        plan_id: plan.id.to_string(),
        scenario_id: Some(scenario.id.to_string()),
        title: planned.title.clone(),
        scenario,
        facilitator: planned.facilitator.as_ref().map(ToString::to_string),
        participants: planned
            .participants
            .iter()
            .map(ToString::to_string)
            .collect(),
        location: planned.location,
        schedule: planned.schedule,
        time_zone: state.clock.zone().name().to_string(),
        invite_days_before: i32::try_from(planned.invite_days_before).unwrap_or(14),
        created_by: user.actor.username.clone(),
        created_at: state.clock.now(),
        cancelled: false,
    };
    let id = state.plan_drill(&user.actor.username, &drill).await?;
    Ok(Redirect::to(&format!("/drills/{id}")).into_response())
}

/// A drill that may still be changed: not cancelled, and with a time ahead.
fn changeable(drill: &Drill, now: chrono::DateTime<Utc>) -> bool {
    !drill.cancelled
        && match &drill.schedule {
            Schedule::Recurring { .. } => true,
            Schedule::Once { at } => crate::domain::drill::time_zone(&drill.time_zone)
                .ok()
                .and_then(|tz| crate::domain::drill::local_to_utc(*at, tz).ok())
                .is_some_and(|t| t > now),
        }
}

/// The form of a stored drill, as it stands.
fn form_of(drill: &Drill) -> DrillForm {
    let (repeat, at, cron) = match &drill.schedule {
        Schedule::Once { at } => (
            "once",
            at.format("%Y-%m-%dT%H:%M").to_string(),
            String::new(),
        ),
        Schedule::Recurring { cron } => ("recurring", String::new(), cron.clone()),
    };
    DrillForm {
        title: drill.title.clone(),
        repeat: repeat.into(),
        at,
        cron,
        location: drill.location.clone(),
        facilitator: drill.facilitator.clone().unwrap_or_default(),
        participants: drill.participants.clone(),
        invite_days_before: drill.invite_days_before.to_string(),
    }
}

/// The edit form's page data.
fn edit_view(
    state: &AppState,
    lang: &str,
    plan: &Plan,
    drill: &Drill,
    form: &DrillForm,
    errors: &[crate::domain::edit::FieldError],
) -> Value {
    let mut data = form_view(state, lang, plan, &drill.scenario, form, errors);
    data["drill_id"] = json!(drill.id);
    data["editing"] = json!(true);
    data
}

async fn edit_form(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Response> {
    viewer.require_that(|a| a.may_edit_plan())?;
    let drill = store::drills::find(&state.db, id)
        .await?
        .ok_or(Error::NotFound)?;
    if !changeable(&drill, state.clock.now()) {
        return Err(Error::NotFound);
    }
    let plan = load(&state, &drill.plan_id).await?;
    let data = edit_view(&state, &viewer.lang, &plan, &drill, &form_of(&drill), &[]);
    page(&state, &viewer, "drill_new", data).map(IntoResponse::into_response)
}

/// Saves a changed drill; the people concerned are told by mail in the same transaction.
async fn update(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response> {
    let user = viewer.require_that(|a| a.may_edit_plan())?;
    let old = store::drills::find(&state.db, id)
        .await?
        .ok_or(Error::NotFound)?;
    let now = state.clock.now();
    if !changeable(&old, now) {
        return Err(Error::NotFound);
    }
    let plan = load(&state, &old.plan_id).await?;
    let f = Fields(pairs);
    let stored = form_of(&old);
    let form = DrillForm {
        title: f.get("title"),
        location: f.get("location"),
        facilitator: f.get("facilitator"),
        participants: f.all("participant"),
        invite_days_before: f.get("invite_days_before"),
        // A one-time drill keeps its time here (it is moved with its own form); a programme may
        // get a new cron expression.
        cron: if stored.repeat == "recurring" {
            f.get("cron")
        } else {
            String::new()
        },
        ..stored
    };
    let planned = match form.apply(&plan, state.drill_zone(&old), now) {
        Ok(p) => p,
        Err(errors) => {
            let data = edit_view(&state, &viewer.lang, &plan, &old, &form, &errors);
            return page_with(
                &state,
                &viewer,
                StatusCode::UNPROCESSABLE_ENTITY,
                "drill_new",
                data,
            );
        }
    };
    let new = Drill {
        title: planned.title,
        facilitator: planned.facilitator.as_ref().map(ToString::to_string),
        participants: planned
            .participants
            .iter()
            .map(ToString::to_string)
            .collect(),
        location: planned.location,
        schedule: planned.schedule,
        invite_days_before: i32::try_from(planned.invite_days_before).unwrap_or(14),
        ..old.clone()
    };
    state.update_drill(&user.actor.username, &old, &new).await?;
    Ok(Redirect::to(&format!("/drills/{id}")).into_response())
}

async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Response> {
    let user = viewer.require()?;
    let drill = store::drills::find(&state.db, id)
        .await?
        .ok_or(Error::NotFound)?;
    let plan = load(&state, &drill.plan_id).await?;
    let lang = &viewer.lang;
    let name = |id: &str| plan.person(id).map_or(id.to_string(), |p| p.name.clone());
    let mut occurrences = Vec::new();
    for o in store::drills::occurrences(&state.db, drill.id).await? {
        let mail = outbox::of_occurrence(&state.db, o.id).await?;
        let count = |state: &str| mail.iter().filter(|m| m.state == state).count();
        occurrences.push(json!({
            "id": o.id,
            "closed": o.closed_at.is_some(),
            "when": local(&state, o.starts_at, &drill, lang),
            "invited": o.invited_at.map(|t| local(&state, t, &drill, lang)),
            "reminded": o.reminded_at.map(|t| local(&state, t, &drill, lang)),
            "sent": count(outbox::SENT),
            "queued": count(outbox::QUEUED) + count(outbox::SENDING),
            "failed": count(outbox::FAILED),
        }));
    }
    let s = &drill.scenario;
    // The facilitator's notes are for those who run the drill, not for the participants.
    let sees_notes = user.actor.may_edit_plan()
        || drill
            .facilitator
            .as_deref()
            .is_some_and(|f| user.actor.person.as_deref() == Some(f));
    page(
        &state,
        &viewer,
        "drill",
        json!({
            "plan": {"id": plan.id, "name": plan.name},
            "drill": {
                "id": drill.id,
                "title": drill.title,
                "kind": format!("drill.kind.{}", s.kind.as_str()),
                "duration": super::i18n::duration(s.duration, lang),
                "schedule": schedule_text(&drill.schedule),
                "time_zone": drill.time_zone,
                "location": drill.location,
                "facilitator": drill.facilitator.as_deref().map(name),
                "narrative": s.narrative,
                "notes": sees_notes.then(|| s.facilitator_notes.clone()),
                "questions": s.questions,
                "injects": s.injects,
                "systems": s.systems_down.iter().map(|id| json!({"id": id, "name": plan.system(id.as_str()).map_or(id.to_string(), |x| x.name.clone())})).collect::<Vec<_>>(),
                "participants": drill.participants.iter().map(|p| name(p)).collect::<Vec<_>>(),
                "invite_days_before": drill.invite_days_before,
            },
            "occurrences": occurrences,
            "cancelled": drill.cancelled,
            "may_cancel": user.actor.may_edit_plan() && !drill.cancelled,
            "may_edit": user.actor.may_edit_plan() && changeable(&drill, state.clock.now()),
            "may_move": user.actor.may_edit_plan()
                && !drill.cancelled
                && matches!(drill.schedule, Schedule::Once { .. }),
        }),
    )
    .map(IntoResponse::into_response)
}

async fn outbox_page(State(state): State<AppState>, viewer: Viewer) -> Result<Response> {
    viewer.require_that(|a| a.may_edit_plan())?;
    let messages = outbox::recent(&state.db, 500).await?;
    page(
        &state,
        &viewer,
        "outbox",
        json!({
            "messages": messages.iter().map(|m| json!({
                "id": m.id,
                "to": m.to_address,
                "subject": m.subject,
                "kind": m.kind,
                "state": m.state,
                "state_key": format!("outbox.state.{}", m.state),
                "attempts": m.attempts,
                "error": m.last_error,
                "created": m.created_at.format("%Y-%m-%d %H:%M UTC").to_string(),
                "sent": m.sent_at.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()),
            })).collect::<Vec<_>>(),
        }),
    )
    .map(IntoResponse::into_response)
}

async fn cancel(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Response> {
    let user = viewer.require_that(|a| a.may_edit_plan())?;
    let drill = store::drills::find(&state.db, id)
        .await?
        .ok_or(Error::NotFound)?;
    state.cancel_drill(&user.actor.username, &drill).await?;
    Ok(Redirect::to(&format!("/drills/{id}")).into_response())
}

/// An occurrence with its drill and plan, and what the viewer may do with it.
struct Run {
    occurrence: store::drills::Occurrence,
    drill: Drill,
    plan: std::sync::Arc<Plan>,
    /// Who is asking, as recorded in the log.
    username: String,
    /// Participants, the facilitator, the coordinator and the administrator record.
    may_record: bool,
    /// The facilitator, the coordinator and the administrator close the record.
    may_close: bool,
}

async fn load_run(state: &AppState, viewer: &Viewer, id: i64) -> Result<Run> {
    let user = viewer.require()?;
    let occurrence = store::drills::occurrence(&state.db, id)
        .await?
        .ok_or(Error::NotFound)?;
    let drill = store::drills::find(&state.db, occurrence.drill_id)
        .await?
        .ok_or(Error::NotFound)?;
    let plan = load(state, &drill.plan_id).await?;
    let me = user.actor.person.as_deref();
    let facilitates = me.is_some() && drill.facilitator.as_deref() == me;
    let takes_part = me.is_some_and(|p| drill.participants.iter().any(|x| x == p));
    Ok(Run {
        username: user.actor.username.clone(),
        may_record: user.actor.may_edit_plan() || facilitates || takes_part,
        may_close: user.actor.may_edit_plan() || facilitates,
        occurrence,
        drill,
        plan,
    })
}

fn yes_no(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "yes",
        Some(false) => "no",
        None => "",
    }
}

/// The facilitator's and participants' page while the drill runs.
async fn run(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Response> {
    let r = load_run(&state, &viewer, id).await?;
    let lang = &viewer.lang;
    let tz = &r.drill;
    let now = state.clock.now();
    let records = store::drills::records(&state.db, id).await?;
    let results = crate::domain::drill::results(&r.plan, &r.drill.scenario, &records);
    let closed = r.occurrence.closed_at.is_some();
    let start = r.occurrence.started_at.unwrap_or(r.occurrence.starts_at);
    let injects: Vec<Value> = r
        .drill
        .scenario
        .injects
        .iter()
        .map(|i| {
            let at = start + chrono::Duration::minutes(i64::from(i.minute));
            json!({"minute": i.minute, "at": local(&state, at, tz, lang), "at_utc": at.to_rfc3339(), "played": at <= now, "text": i.text})
        })
        .collect();
    let systems: Vec<Value> = results
        .iter()
        .map(|x| {
            json!({
                "id": x.system,
                "name": x.name,
                "rto": x.rto.map(|d| super::i18n::duration(d, lang)),
                "found": yes_no(x.record.found),
                "followed": yes_no(x.record.followed),
                "recovery": x.record.recovery.map(|d| d.to_string()).unwrap_or_default(),
                "notes": x.record.notes,
                "met": x.rto_met,
            })
        })
        .collect();
    let timeline = timeline_view(&state, &r, lang, now).await?;
    page(
        &state,
        &viewer,
        "run",
        json!({
            "plan": {"id": r.plan.id, "name": r.plan.name},
            "drill": {"id": r.drill.id, "title": r.drill.title, "narrative": r.drill.scenario.narrative},
            "occurrence": {
                "id": id,
                "when": local(&state, r.occurrence.starts_at, tz, lang),
                "closed": closed,
                "started": r.occurrence.started_at.map(|t| local(&state, t, tz, lang)),
                "start_utc": start.to_rfc3339(),
            },
            "injects": injects,
            "systems": systems,
            "timeline": timeline,
            "may_record": r.may_record && !closed,
            "may_close": r.may_close && !closed,
            "may_start": r.may_close && !closed && r.occurrence.started_at.is_none(),
        }),
    )
    .map(IntoResponse::into_response)
}

/// The drill's timeline: its start, each inject at the minute it was played (counted from the
/// start), the notes taken, and the close; in time order, up to now or the close.
async fn timeline_view(
    state: &AppState,
    r: &Run,
    lang: &str,
    now: chrono::DateTime<Utc>,
) -> Result<Vec<Value>> {
    let tz = &r.drill;
    let t = |key: &str| state.templates.text(lang, key);
    let o = &r.occurrence;
    let until = o.closed_at.unwrap_or(now);
    let start = o.started_at.unwrap_or(o.starts_at);
    let mut items: Vec<(chrono::DateTime<Utc>, u8, Value)> = Vec::new();
    if start <= until {
        items.push((
            start,
            0,
            json!({"text": t("drill.started"), "author": "", "event": true}),
        ));
        for i in &r.drill.scenario.injects {
            let at = start + chrono::Duration::minutes(i64::from(i.minute));
            if at <= until {
                let label = t("drill.minute").replace("{n}", &i.minute.to_string());
                items.push((at, 1, json!({"text": format!("{}, {label}: {}", t("drill.inject"), i.text), "author": "", "event": true})));
            }
        }
    }
    for e in store::drills::timeline(&state.db, o.id).await? {
        items.push((
            e.at,
            2,
            json!({"text": e.text, "author": e.author, "event": false}),
        ));
    }
    if let Some(closed) = o.closed_at {
        let by = o.closed_by.clone().unwrap_or_default();
        items.push((
            closed,
            3,
            json!({"text": t("drill.closed_event"), "author": by, "event": true}),
        ));
    }
    items.sort_by_key(|(at, order, _)| (*at, *order));
    Ok(items
        .into_iter()
        .map(|(at, _, mut v)| {
            v["at"] = json!(local(state, at, tz, lang));
            v
        })
        .collect())
}

/// The facilitator starts the drill: the injects count from now.
async fn start(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Response> {
    let r = load_run(&state, &viewer, id).await?;
    if !r.may_close {
        return Err(Error::Forbidden);
    }
    if r.occurrence.closed_at.is_some() {
        return Ok((StatusCode::CONFLICT, closed_text(&state, &viewer.lang)).into_response());
    }
    store::drills::start(&state.db, id, state.clock.now()).await?;
    Ok(Redirect::to(&format!("/occurrences/{id}")).into_response())
}

fn answer(text: &str) -> Option<bool> {
    match text {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    }
}

/// Saves one system's record. A form post is answered with a redirect back to the system; the
/// page's script saves as the participant types (`X-Requested-With: fetch`) and gets JSON.
async fn record(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, system)): Path<(i64, String)>,
    headers: axum::http::HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response> {
    let answer_with =
        |status: StatusCode, message: String| super::refusal(&headers, status, message);
    let r = load_run(&state, &viewer, id).await?;
    if !r.may_record {
        return Err(Error::Forbidden);
    }
    let Some(result) =
        crate::domain::drill::results(&r.plan, &r.drill.scenario, &Default::default())
            .into_iter()
            .find(|x| x.system.as_str() == system)
    else {
        return Err(Error::NotFound);
    };
    let f = Fields(pairs);
    let recovery_text = f.get("recovery");
    let recovery = match recovery_text.trim() {
        "" => None,
        text => match crate::domain::Duration::parse(text) {
            Ok(d) => Some(d),
            Err(_) => {
                let message = problem_text(
                    &state,
                    &viewer.lang,
                    &crate::domain::edit::Problem::Duration {
                        input: text.to_string(),
                    },
                );
                return Ok(answer_with(StatusCode::UNPROCESSABLE_ENTITY, message));
            }
        },
    };
    let entry = crate::domain::drill::SystemRecord {
        found: answer(&f.get("found")),
        followed: answer(&f.get("followed")),
        recovery,
        notes: f.get("notes").trim().to_string(),
    };
    if entry.notes.chars().count() > crate::domain::edit::MAX_FIELD_CHARS {
        return Err(Error::TooLarge);
    }
    let now = state.clock.now();
    if !store::drills::record_system(&state.db, id, &system, &entry, &r.username, now).await? {
        return Ok(answer_with(
            StatusCode::CONFLICT,
            closed_text(&state, &viewer.lang),
        ));
    }
    if super::by_script(&headers) {
        let rto_met = match (entry.recovery, result.rto) {
            (Some(took), Some(rto)) => Some(took <= rto),
            _ => None,
        };
        return Ok(axum::Json(json!({
            "saved_at": local(&state, now, &r.drill, &viewer.lang),
            "rto_met": rto_met,
        }))
        .into_response());
    }
    Ok(Redirect::to(&format!("/occurrences/{id}#sys-{system}")).into_response())
}

fn closed_text(state: &AppState, lang: &str) -> String {
    state.templates.text(lang, "drill.closed_refused")
}

async fn note(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response> {
    let r = load_run(&state, &viewer, id).await?;
    if !r.may_record {
        return Err(Error::Forbidden);
    }
    let text = Fields(pairs).get("text");
    let text = text.trim();
    if !text.is_empty()
        && !store::drills::add_note(&state.db, id, &r.username, text, state.clock.now()).await?
    {
        return Ok((StatusCode::CONFLICT, closed_text(&state, &viewer.lang)).into_response());
    }
    Ok(Redirect::to(&format!("/occurrences/{id}#timeline")).into_response())
}

async fn close(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Response> {
    let r = load_run(&state, &viewer, id).await?;
    if !r.may_close {
        return Err(Error::Forbidden);
    }
    store::drills::close(&state.db, id, &r.username, state.clock.now()).await?;
    Ok(Redirect::to(&format!("/occurrences/{id}/report")).into_response())
}

/// The after-action report's content.
fn report_data(
    state: &AppState,
    r: &Run,
    records: &std::collections::HashMap<String, crate::domain::drill::SystemRecord>,
    lang: &str,
) -> Value {
    let results = crate::domain::drill::results(&r.plan, &r.drill.scenario, records);
    let met = results.iter().filter(|x| x.rto_met == Some(true)).count();
    let missed = results.iter().filter(|x| x.rto_met == Some(false)).count();
    json!({
        "plan": {"id": r.plan.id, "name": r.plan.name},
        "drill": {"id": r.drill.id, "title": r.drill.title, "kind": r.drill.scenario.kind.as_str()},
        "occurrence": {
            "id": r.occurrence.id,
            "starts_at": r.occurrence.starts_at.to_rfc3339(),
            "when": local(state, r.occurrence.starts_at, &r.drill, lang),
            "closed": r.occurrence.closed_at.is_some(),
            "closed_by": r.occurrence.closed_by,
        },
        "evaluation": {
            "went_well": r.occurrence.went_well,
            "went_badly": r.occurrence.went_badly,
            "lessons": r.occurrence.lessons,
            "done": r.occurrence.evaluated_at.is_some(),
        },
        "rto_met": met,
        "rto_missed": missed,
        "rto_unknown": results.len() - met - missed,
        "systems": results.iter().map(|x| json!({
            "id": x.system,
            "name": x.name,
            "rto_minutes": x.rto.map(|d| d.minutes()),
            "rto": x.rto.map(|d| super::i18n::duration(d, lang)),
            "recovery_minutes": x.record.recovery.map(|d| d.minutes()),
            "recovery": x.record.recovery.map(|d| super::i18n::duration(d, lang)),
            "rto_met": x.rto_met,
            "procedure_found": x.record.found,
            "procedure_followed": x.record.followed,
            "findings": x.record.notes,
        })).collect::<Vec<_>>(),
    })
}

/// Everything the report page and its exported file show.
async fn report_view(state: &AppState, viewer: &Viewer, id: i64) -> Result<(Run, Value)> {
    let r = load_run(state, viewer, id).await?;
    let records = store::drills::records(&state.db, id).await?;
    let mut data = report_data(state, &r, &records, &viewer.lang);
    data["actions"] = json!(action_rows(
        &r.plan,
        &store::actions::list(
            &state.db,
            store::actions::Filter {
                occurrence: Some(id),
                ..Default::default()
            }
        )
        .await?,
        &viewer.lang,
        state.clock.today(),
    ));
    data["may_act"] = json!(r.may_close);
    data["export"] = json!(false);
    data["people"] = json!(
        r.plan
            .people
            .iter()
            .map(|p| json!({"id": p.id, "name": p.name}))
            .collect::<Vec<_>>()
    );
    data["timeline"] = json!(timeline_view(state, &r, &viewer.lang, state.clock.now()).await?);
    Ok((r, data))
}

async fn report(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Response> {
    let (_, data) = report_view(&state, &viewer, id).await?;
    page(&state, &viewer, "report", data).map(IntoResponse::into_response)
}

/// The report as one self-contained HTML file (styles inline, no links out, no script), to
/// attach to a mail or file with the minutes.
async fn report_html(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Response> {
    let (r, mut data) = report_view(&state, &viewer, id).await?;
    data["may_act"] = json!(false);
    data["export"] = json!(true);
    data["css"] = json!(super::render::static_text("app.css"));
    data["exported_at"] = json!(local(&state, state.clock.now(), &r.drill, &viewer.lang));
    let html = state
        .templates
        .fragment("report_export", &viewer.lang, data)?;
    let name = format!(
        "{}-{}.html",
        state.templates.text(&viewer.lang, "drill.report_file"),
        r.occurrence.starts_at.format("%Y-%m-%d")
    );
    Ok(super::self_contained_download(&name, html))
}

async fn report_json(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Response> {
    let r = load_run(&state, &viewer, id).await?;
    let records = store::drills::records(&state.db, id).await?;
    Ok(axum::Json(report_data(&state, &r, &records, "en")).into_response())
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

async fn new_action(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response> {
    let r = load_run(&state, &viewer, id).await?;
    if !r.may_close {
        return Err(Error::Forbidden);
    }
    let source = ActionSource {
        title: &r.drill.title,
        occurrence_id: Some(id),
        incident_id: None,
    };
    if let Some(refused) =
        create_action(&state, &viewer, &r.plan, &r.username, source, pairs).await?
    {
        return Ok(refused);
    }
    Ok(Redirect::to(&format!("/occurrences/{id}/report#actions")).into_response())
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
    let user = viewer.require()?;
    let item = store::actions::find(&state.db, id)
        .await?
        .ok_or(Error::NotFound)?;
    if !(user.actor.may_edit_plan() || user.actor.person.as_deref() == Some(item.owner.as_str())) {
        return Err(Error::Forbidden);
    }
    let done = Fields(pairs).get("done") == "1";
    store::actions::set_status(&state.db, id, done, &user.actor.username, state.clock.now())
        .await?;
    Ok(Redirect::to(&format!("/plans/{}/actions", item.plan_id)).into_response())
}

async fn reschedule(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response> {
    let user = viewer.require_that(|a| a.may_edit_plan())?;
    let drill = store::drills::find(&state.db, id)
        .await?
        .ok_or(Error::NotFound)?;
    let plan = load(&state, &drill.plan_id).await?;
    if drill.cancelled || !matches!(drill.schedule, Schedule::Once { .. }) {
        return Err(Error::NotFound);
    }
    let form = DrillForm {
        title: drill.title.clone(),
        repeat: "once".into(),
        at: Fields(pairs).get("at"),
        invite_days_before: drill.invite_days_before.to_string(),
        ..DrillForm::default()
    };
    let planned = match form.apply(&plan, state.drill_zone(&drill), state.clock.now()) {
        Ok(p) => p,
        Err(errors) => {
            let message = errors
                .iter()
                .map(|e| problem_text(&state, &viewer.lang, &e.problem))
                .collect::<Vec<_>>()
                .join(" ");
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, message).into_response());
        }
    };
    let Schedule::Once { at } = planned.schedule else {
        return Err(Error::NotFound);
    };
    state
        .reschedule_drill(&user.actor.username, &drill, at)
        .await?;
    Ok(Redirect::to(&format!("/drills/{id}")).into_response())
}

/// The hot wash, written by the facilitator, coordinator or administrator.
async fn evaluate(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response> {
    let r = load_run(&state, &viewer, id).await?;
    if !r.may_close {
        return Err(Error::Forbidden);
    }
    let f = Fields(pairs);
    let (well, badly, lessons) = (f.get("went_well"), f.get("went_badly"), f.get("lessons"));
    state
        .evaluate_occurrence(&r.username, &r.drill, id, [&well, &badly, &lessons])
        .await?;
    Ok(Redirect::to(&format!("/occurrences/{id}/report#evaluation")).into_response())
}
